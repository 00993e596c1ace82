//! Writing stored images out: an OCI image layout directory, or a classic
//! `docker save` archive (what `docker load`, `podman load` and skopeo's
//! `docker-archive:` read).

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::digest::{Algorithm, DigestWriter};
use crate::limits::{LAYER_UNCOMPRESSED_MAX, MANIFEST_MAX};
use crate::reference::Reference;
use crate::store::{ImageRecord, Store};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> ExportError {
    let path = path.to_path_buf();
    move |source| ExportError::Io { what, path, source }
}

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const IMAGE_NAME: &str = "io.containerd.image.name";

/// Adds the image to the OCI layout `dir` (created when missing): its
/// platform manifest, config and layers, named in index.json by its tag
/// (`org.opencontainers.image.ref.name`, as skopeo's `oci:DIR:TAG`) and its
/// full name (`io.containerd.image.name`, as docker and containerd write).
pub fn save_layout(store: &Store, rec: &ImageRecord, dir: &Path) -> Result<(), ExportError> {
    let blobs = dir.join("blobs/sha256");
    fs::create_dir_all(&blobs).map_err(io_err("creating", &blobs))?;
    let digests = std::iter::once(&rec.manifest)
        .chain(std::iter::once(&rec.config))
        .chain(rec.layers.iter().map(|l| &l.digest));
    for d in digests {
        let dest = dir.join("blobs").join(d.algorithm().name()).join(d.hex());
        if dest.is_file() {
            continue;
        }
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(io_err("creating", parent))?;
        }
        let tmp = dest.with_extension("tmp");
        let src = store.blob_path(d);
        let mut from = File::open(&src).map_err(io_err("opening", &src))?;
        let mut to = create_new(&tmp).map_err(io_err("copying the blob to", &tmp))?;
        io::copy(&mut from, &mut to).map_err(io_err("copying the blob to", &tmp))?;
        fs::rename(&tmp, &dest).map_err(io_err("renaming", &dest))?;
    }
    let layout = dir.join("oci-layout");
    create_new(&layout)
        .and_then(|mut f| f.write_all(br#"{"imageLayoutVersion":"1.0.0"}"#))
        .map_err(io_err("writing", &layout))?;
    let index_path = dir.join("index.json");
    let mut index: Value = match fs::read(&index_path) {
        Ok(b) => serde_json::from_slice(&b)
            .map_err(|e| ExportError::Invalid(format!("{}: {e}", index_path.display())))?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            json!({"schemaVersion": 2, "manifests": []})
        }
        Err(e) => return Err(io_err("reading", &index_path)(e)),
    };
    let reference: Reference = rec
        .reference
        .parse()
        .map_err(|e: crate::ReferenceError| ExportError::Invalid(e.to_string()))?;
    let tag = reference.tag().unwrap_or("latest").to_string();
    let size = fs::metadata(store.blob_path(&rec.manifest))
        .map_err(io_err("reading", &store.blob_path(&rec.manifest)))?
        .len();
    let entry = json!({
        "mediaType": rec.manifest_media_type,
        "digest": rec.manifest.to_string(),
        "size": size,
        "annotations": {REF_NAME: tag, IMAGE_NAME: exported_name(&reference)},
    });
    let manifests = index["manifests"].as_array_mut().ok_or_else(|| {
        ExportError::Invalid(format!("{}: no manifests array", index_path.display()))
    })?;
    manifests.retain(|m| m["annotations"][REF_NAME].as_str() != Some(tag.as_str()));
    manifests.push(entry);
    let tmp = dir.join("index.json.tmp");
    create_new(&tmp)
        .and_then(|mut f| f.write_all(index.to_string().as_bytes()))
        .map_err(io_err("writing", &tmp))?;
    fs::rename(&tmp, &index_path).map_err(io_err("renaming", &index_path))
}

/// A new file at `path`, replacing what is there without following it: the
/// output directory may be writable by another user, who could plant a
/// symlink (to /etc/shadow) where ward writes. O_EXCL does not follow a
/// symlink; one planted between the unlink and the open fails the save.
fn create_new(path: &Path) -> io::Result<File> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// The name an export writes for `reference`: without its digest when it
/// has a tag. A load refuses a name pinned to a digest its content does not
/// have, and what is exported (a synthesized docker-save manifest, the
/// platform manifest of an index) has another digest than the one pulled.
fn exported_name(reference: &Reference) -> String {
    match reference.tag() {
        Some(tag) => format!("{}:{tag}", reference.name()),
        None => reference.to_string(),
    }
}

/// Writes the images as a classic `docker save` archive to `out`
/// (written to a temp file, then renamed). Each layer is written as its
/// uncompressed tar, checked against the config's diff ID.
pub fn save_docker_archive(
    store: &Store,
    recs: &[ImageRecord],
    out: &Path,
) -> Result<(), ExportError> {
    let tmp = out.with_file_name(format!(
        ".{}.tmp",
        out.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    ));
    let result = write_archive(store, recs, &tmp);
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    fs::rename(&tmp, out).map_err(io_err("renaming", out))
}

fn write_archive(store: &Store, recs: &[ImageRecord], tmp: &Path) -> Result<(), ExportError> {
    let file = create_new(tmp).map_err(io_err("creating", tmp))?;
    let mut tar = tar::Builder::new(file);
    let mut manifest = Vec::new();
    let mut repositories: HashMap<String, HashMap<String, String>> = HashMap::new();
    let mut written = std::collections::BTreeSet::new();
    for rec in recs {
        let config = store.read_blob(&rec.config, crate::limits::CONFIG_MAX)?;
        let config_name = format!("{}.json", rec.config.hex());
        if written.insert(config_name.clone()) {
            append(
                &mut tar,
                &config_name,
                &mut &config[..],
                config.len() as u64,
                tmp,
            )?;
        }
        let mut layers = Vec::new();
        for l in &rec.layers {
            let name = format!("{}/layer.tar", l.diff_id.hex());
            if written.insert(name.clone()) {
                append_layer(store, &mut tar, l, &name, tmp)?;
            }
            layers.push(name);
        }
        let reference: Reference = rec
            .reference
            .parse()
            .map_err(|e: crate::ReferenceError| ExportError::Invalid(e.to_string()))?;
        // The full name, not Docker's short form (`busybox:1`): docker
        // load reads both the same, podman takes a short name as localhost/.
        let full = exported_name(&reference);
        manifest.push(json!({"Config": config_name, "RepoTags": [full], "Layers": layers}));
        if let (Some(tag), Some(top)) = (reference.tag(), rec.layers.last()) {
            let repo = reference.name();
            repositories
                .entry(repo)
                .or_default()
                .insert(tag.to_string(), top.diff_id.hex().to_string());
        }
    }
    let m = serde_json::to_vec(&manifest).map_err(|e| ExportError::Invalid(e.to_string()))?;
    append(&mut tar, "manifest.json", &mut &m[..], m.len() as u64, tmp)?;
    let r = serde_json::to_vec(&repositories).map_err(|e| ExportError::Invalid(e.to_string()))?;
    append(&mut tar, "repositories", &mut &r[..], r.len() as u64, tmp)?;
    let file = tar.into_inner().map_err(io_err("writing", tmp))?;
    file.sync_all().map_err(io_err("syncing", tmp))
}

fn append(
    tar: &mut tar::Builder<File>,
    name: &str,
    data: &mut dyn Read,
    size: u64,
    path: &Path,
) -> Result<(), ExportError> {
    let mut h = tar::Header::new_ustar();
    h.set_size(size);
    h.set_mode(0o644);
    h.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut h, name, data)
        .map_err(io_err("writing", path))
}

/// Appends one layer uncompressed. A gzip layer is first decompressed into
/// a temp file in the store (a tar entry needs its size before its data),
/// hashed on the way to check it against the diff ID.
fn append_layer(
    store: &Store,
    tar: &mut tar::Builder<File>,
    l: &crate::store::LayerRecord,
    name: &str,
    path: &Path,
) -> Result<(), ExportError> {
    let blob = store.blob_path(&l.digest);
    let mut src = File::open(&blob).map_err(io_err("opening", &blob))?;
    let gzip = l.media_type.ends_with("gzip");
    if l.media_type.ends_with("zstd") {
        return Err(ExportError::Invalid(format!(
            "layer {}: zstd layers cannot be written to a docker-archive yet; save it as an OCI layout with --layout DIR",
            l.digest
        )));
    }
    if !gzip {
        let size = src.metadata().map_err(io_err("reading", &blob))?.len();
        return append(tar, name, &mut src, size, path);
    }
    let tmp_path =
        store
            .root()
            .join("tmp")
            .join(format!("save-{}.{}", l.diff_id.hex(), std::process::id()));
    let result = (|| {
        let tmp = File::create(&tmp_path).map_err(io_err("creating", &tmp_path))?;
        let mut w = DigestWriter::new(io::BufWriter::new(tmp), Algorithm::Sha256);
        io::copy(
            &mut flate2::read::GzDecoder::new(io::BufReader::new(src))
                .take(LAYER_UNCOMPRESSED_MAX + 1),
            &mut w,
        )
        .map_err(io_err("decompressing the layer into", &tmp_path))?;
        let size = w.written();
        if size > LAYER_UNCOMPRESSED_MAX {
            return Err(ExportError::Invalid(format!(
                "layer {}: it uncompresses to more than {LAYER_UNCOMPRESSED_MAX} bytes; refused",
                l.digest
            )));
        }
        let (d, buf) = w.finish();
        buf.into_inner()
            .map_err(|e| io_err("writing", &tmp_path)(e.into_error()))?;
        if d != l.diff_id {
            return Err(ExportError::Invalid(format!(
                "layer {}: uncompressed it has digest {d}, the config's diff ID is {}",
                l.digest, l.diff_id
            )));
        }
        let mut f = File::open(&tmp_path).map_err(io_err("opening", &tmp_path))?;
        append(tar, name, &mut f, size, path)
    })();
    let _ = fs::remove_file(&tmp_path);
    result
}

/// The manifest of `rec` as stored (for inspect).
pub fn manifest_json(store: &Store, rec: &ImageRecord) -> Result<Value, ExportError> {
    let b = store.read_blob(&rec.manifest, MANIFEST_MAX)?;
    serde_json::from_slice(&b)
        .map_err(|e| ExportError::Invalid(format!("manifest {}: {e}", rec.manifest)))
}

/// The config of `rec` as stored (for inspect).
pub fn config_json(store: &Store, rec: &ImageRecord) -> Result<Value, ExportError> {
    let b = store.read_blob(&rec.config, crate::limits::CONFIG_MAX)?;
    serde_json::from_slice(&b)
        .map_err(|e| ExportError::Invalid(format!("config {}: {e}", rec.config)))
}

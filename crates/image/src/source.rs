//! Where images come from: the [`Source`] seam, and its implementations
//! for an OCI image layout directory and a `docker save` archive (both
//! the classic format and the newer one that holds an OCI layout). The
//! registry client implements the same trait.
//!
//! A source is not trusted: what it serves is verified by the pull and the
//! store (digests, sizes, limits). The sources only refuse early what they
//! can see cheaply (a manifest larger than the limit).

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::digest::{Digest, Hasher};
use crate::limits::MANIFEST_MAX;

/// The seam between the pull and where the bytes come from.
pub trait Source {
    /// The manifest or index named by a tag or a digest: the exact bytes
    /// served, and their media type (empty when the source does not know it).
    /// Stop reading after `limits::MANIFEST_MAX` + 1 bytes: the pull refuses
    /// a larger one, and an unbounded read is a memory exhaustion.
    fn manifest(&mut self, tag_or_digest: &str) -> Result<(Vec<u8>, String), SourceError>;
    /// The blob's bytes as a stream (not yet verified: the store verifies).
    fn blob(&mut self, digest: &Digest, size: u64) -> Result<Box<dyn Read + '_>, SourceError>;
    /// How to name this source in messages (`oci:/dir`, `docker-archive:/f.tar`).
    fn describe(&self) -> String;
}

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{source_name}: {what}: {err}")]
    Io {
        source_name: String,
        what: String,
        err: io::Error,
    },
    #[error("{source_name}: {0}", .problem)]
    Invalid {
        source_name: String,
        problem: String,
    },
    #[error("{source_name}: no image {wanted:?} (it has: {available})")]
    NotFound {
        source_name: String,
        wanted: String,
        available: String,
    },
}

/// Read access to files by name: a directory or an uncompressed tar.
trait Files {
    fn open(&mut self, name: &str) -> io::Result<Box<dyn Read + '_>>;
    fn exists(&self, name: &str) -> bool;
}

struct DirFiles(PathBuf);

impl Files for DirFiles {
    fn open(&mut self, name: &str) -> io::Result<Box<dyn Read + '_>> {
        Ok(Box::new(File::open(self.0.join(name))?))
    }
    fn exists(&self, name: &str) -> bool {
        self.0.join(name).is_file()
    }
}

/// An uncompressed tar, indexed once: member name → (offset, size). A
/// member is then read by seeking the file, without scanning it again.
struct TarFiles {
    file: File,
    members: HashMap<String, (u64, u64)>,
}

impl TarFiles {
    fn open(path: &Path) -> io::Result<TarFiles> {
        let mut archive = tar::Archive::new(File::open(path)?);
        let mut members = HashMap::new();
        let mut links = Vec::new();
        for entry in archive.entries()? {
            let entry = entry?;
            let name = entry
                .path()?
                .to_string_lossy()
                .trim_start_matches("./")
                .to_string();
            let kind = entry.header().entry_type();
            if kind.is_file() {
                members.insert(name, (entry.raw_file_position(), entry.size()));
            } else if kind.is_symlink() {
                // docker save and skopeo link a layer's `ID/layer.tar` to the
                // file that holds it; only links to another member are followed.
                if let Some(target) = entry.link_name()? {
                    links.push((name, target.to_string_lossy().into_owned()));
                }
            }
        }
        for (name, target) in links {
            let base = Path::new(&name).parent().unwrap_or(Path::new(""));
            let mut resolved: Vec<String> = base
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            for c in target.split('/') {
                match c {
                    "" | "." => {}
                    ".." => {
                        resolved.pop();
                    }
                    c => resolved.push(c.to_string()),
                }
            }
            if let Some(&m) = members.get(&resolved.join("/")) {
                members.insert(name, m);
            }
        }
        Ok(TarFiles {
            file: File::open(path)?,
            members,
        })
    }
}

impl Files for TarFiles {
    fn open(&mut self, name: &str) -> io::Result<Box<dyn Read + '_>> {
        let name = name.trim_start_matches("./");
        let &(offset, size) = self.members.get(name).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::NotFound,
                format!("no member {name:?} in the archive"),
            )
        })?;
        self.file.seek(SeekFrom::Start(offset))?;
        Ok(Box::new((&self.file).take(size)))
    }
    fn exists(&self, name: &str) -> bool {
        self.members.contains_key(name.trim_start_matches("./"))
    }
}

fn read_limited(r: impl Read, limit: u64, what: &str) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    r.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(io::Error::other(format!(
            "{what} is larger than the limit of {limit} bytes; refused"
        )));
    }
    Ok(out)
}

/// The subset of an OCI layout's index.json the source needs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LayoutIndex {
    #[serde(default)]
    manifests: Vec<LayoutDescriptor>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct LayoutDescriptor {
    #[serde(default)]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: HashMap<String, String>,
}

const REF_NAME: &str = "org.opencontainers.image.ref.name";
const IMAGE_NAME: &str = "io.containerd.image.name";

fn entry_name(d: &LayoutDescriptor) -> Option<String> {
    d.annotations
        .get(IMAGE_NAME)
        .or_else(|| d.annotations.get(REF_NAME))
        .cloned()
}

/// An OCI image layout (`oci-layout`, `index.json`, `blobs/ALG/HEX`), in a
/// directory or inside a docker-save archive.
pub struct OciLayout {
    files: Box<dyn Files>,
    name: String,
}

impl OciLayout {
    /// The layout in directory `dir`.
    pub fn open_dir(dir: &Path) -> Result<OciLayout, SourceError> {
        let name = format!("oci:{}", dir.display());
        let files = DirFiles(dir.to_path_buf());
        if !files.exists("index.json") {
            return Err(SourceError::Invalid {
                source_name: name,
                problem: "not an OCI image layout: no index.json (make one with `skopeo copy ... oci:DIR:TAG` or `ward image save --layout DIR`)".into(),
            });
        }
        Ok(OciLayout {
            files: Box::new(files),
            name,
        })
    }

    fn index(&mut self) -> Result<Vec<LayoutDescriptor>, SourceError> {
        let bytes = {
            let r = self
                .files
                .open("index.json")
                .map_err(io_of(&self.name, "index.json"))?;
            read_limited(r, MANIFEST_MAX, "index.json").map_err(io_of(&self.name, "index.json"))?
        };
        let index: LayoutIndex =
            serde_json::from_slice(&bytes).map_err(|e| SourceError::Invalid {
                source_name: self.name.clone(),
                problem: format!("index.json: {e}"),
            })?;
        Ok(index.manifests)
    }

    /// The name of each manifest in index.json: its full name
    /// (`io.containerd.image.name`, written by docker 25+, containerd and
    /// ward) when it has one, else its `org.opencontainers.image.ref.name`
    /// (a tag for skopeo, a full reference for podman).
    pub fn tags(&mut self) -> Result<Vec<String>, SourceError> {
        Ok(self.index()?.iter().filter_map(entry_name).collect())
    }

    fn blob_name(d: &Digest) -> String {
        format!("blobs/{}/{}", d.algorithm().name(), d.hex())
    }

    fn invalid(&self, problem: String) -> SourceError {
        SourceError::Invalid {
            source_name: self.name.clone(),
            problem,
        }
    }
}

impl Source for OciLayout {
    fn manifest(&mut self, tag_or_digest: &str) -> Result<(Vec<u8>, String), SourceError> {
        if let Ok(d) = Digest::parse(tag_or_digest) {
            let r = self
                .files
                .open(&Self::blob_name(&d))
                .map_err(io_of(&self.name, format!("manifest {d}")))?;
            let bytes = read_limited(r, MANIFEST_MAX, "the manifest")
                .map_err(io_of(&self.name, format!("manifest {d}")))?;
            let media_type = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| {
                    v.get("mediaType")
                        .and_then(|m| m.as_str())
                        .map(str::to_string)
                })
                .unwrap_or_default();
            return Ok((bytes, media_type));
        }
        let index = self.index()?;
        let chosen = match index.iter().find(|d| {
            [REF_NAME, IMAGE_NAME]
                .iter()
                .any(|k| d.annotations.get(*k).map(String::as_str) == Some(tag_or_digest))
        }) {
            Some(d) => d.clone(),
            // An unnamed single image answers to any tag, as skopeo's `oci:DIR` does.
            None if index.len() == 1 && entry_name(&index[0]).is_none() => index[0].clone(),
            None => {
                let names: Vec<String> = index
                    .iter()
                    .map(|d| entry_name(d).unwrap_or_else(|| d.digest.clone()))
                    .collect();
                return Err(SourceError::NotFound {
                    source_name: self.name.clone(),
                    wanted: tag_or_digest.to_string(),
                    available: if names.is_empty() {
                        "nothing".into()
                    } else {
                        names.join(", ")
                    },
                });
            }
        };
        let d =
            Digest::parse(&chosen.digest).map_err(|e| self.invalid(format!("index.json: {e}")))?;
        if chosen.size > MANIFEST_MAX {
            return Err(self.invalid(format!(
                "index.json: manifest {d} declares {} bytes, over the limit of {MANIFEST_MAX}; refused",
                chosen.size
            )));
        }
        let r = self
            .files
            .open(&Self::blob_name(&d))
            .map_err(io_of(&self.name, format!("manifest {d}")))?;
        let bytes = read_limited(r, MANIFEST_MAX, "the manifest")
            .map_err(io_of(&self.name, format!("manifest {d}")))?;
        // index.json is not content-addressed: check the blob against it here,
        // since the pull only knows the tag.
        if bytes.len() as u64 != chosen.size {
            return Err(self.invalid(format!(
                "manifest {d}: {} bytes, index.json declares {}; refused",
                bytes.len(),
                chosen.size
            )));
        }
        let got = d.same_algorithm_of(&bytes);
        if got != d {
            return Err(self.invalid(format!(
                "manifest {d}: the content has digest {got}; refused"
            )));
        }
        Ok((bytes, chosen.media_type))
    }

    fn blob(&mut self, digest: &Digest, _size: u64) -> Result<Box<dyn Read + '_>, SourceError> {
        let name = Self::blob_name(digest);
        let source_name = self.name.clone();
        self.files.open(&name).map_err(|err| SourceError::Io {
            source_name,
            what: format!("blob {digest}"),
            err,
        })
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// One image of a classic `docker save` manifest.json.
#[derive(Deserialize, Clone)]
#[serde(rename_all = "PascalCase")]
struct ArchiveImage {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

/// A `docker save` archive (an uncompressed tar). When it holds an OCI
/// layout (docker 25 and later) that is used; otherwise its manifest.json
/// (config file + layer tars, not content-addressed) is turned into a
/// Docker schema2 manifest whose digests are computed from the files.
pub struct DockerArchive {
    inner: ArchiveKind,
    name: String,
}

enum ArchiveKind {
    Layout(OciLayout),
    Classic {
        files: TarFiles,
        images: Vec<ArchiveImage>,
        /// Blob digest → member name, filled by `manifest`.
        blobs: HashMap<Digest, String>,
    },
}

pub const DOCKER_MANIFEST_V2: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
pub const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

impl DockerArchive {
    pub fn open(path: &Path) -> Result<DockerArchive, SourceError> {
        let name = format!("docker-archive:{}", path.display());
        let io = |what: &str| {
            let (name, what) = (name.clone(), what.to_string());
            move |err| SourceError::Io {
                source_name: name,
                what,
                err,
            }
        };
        let mut files =
            TarFiles::open(path).map_err(io("reading the archive (an uncompressed tar)"))?;
        if files.exists("index.json") && files.exists("oci-layout") {
            return Ok(DockerArchive {
                inner: ArchiveKind::Layout(OciLayout {
                    files: Box::new(files),
                    name: name.clone(),
                }),
                name,
            });
        }
        let bytes = {
            let r = files.open("manifest.json").map_err(io("manifest.json"))?;
            read_limited(r, MANIFEST_MAX, "manifest.json").map_err(io("manifest.json"))?
        };
        let images: Vec<ArchiveImage> =
            serde_json::from_slice(&bytes).map_err(|e| SourceError::Invalid {
                source_name: name.clone(),
                problem: format!("manifest.json: {e}"),
            })?;
        Ok(DockerArchive {
            inner: ArchiveKind::Classic {
                files,
                images,
                blobs: HashMap::new(),
            },
            name,
        })
    }

    /// The names (`RepoTags`) of the images in the archive.
    pub fn repo_tags(&mut self) -> Result<Vec<String>, SourceError> {
        match &mut self.inner {
            ArchiveKind::Layout(l) => l.tags(),
            ArchiveKind::Classic { images, .. } => Ok(images
                .iter()
                .flat_map(|i| i.repo_tags.clone().unwrap_or_default())
                .collect()),
        }
    }

    /// How many images the archive holds.
    pub fn image_count(&mut self) -> Result<usize, SourceError> {
        match &mut self.inner {
            ArchiveKind::Layout(l) => Ok(l.index()?.len()),
            ArchiveKind::Classic { images, .. } => Ok(images.len()),
        }
    }
}

/// Hashes and counts a member of the archive.
fn hash_member(files: &mut TarFiles, name: &str) -> io::Result<(Digest, u64, bool)> {
    let mut r = files.open(name)?;
    let mut h = Hasher::new(crate::digest::Algorithm::Sha256);
    let mut buf = vec![0u8; 1 << 16];
    let (mut n, mut first) = (0u64, Vec::new());
    loop {
        let k = r.read(&mut buf)?;
        if k == 0 {
            break;
        }
        if first.len() < 2 {
            first.extend_from_slice(&buf[..k.min(2)]);
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((h.finish(), n, first.starts_with(&[0x1f, 0x8b])))
}

impl Source for DockerArchive {
    fn manifest(&mut self, tag_or_digest: &str) -> Result<(Vec<u8>, String), SourceError> {
        let name = self.name.clone();
        let (files, images, blobs) = match &mut self.inner {
            ArchiveKind::Layout(l) => return l.manifest(tag_or_digest),
            ArchiveKind::Classic {
                files,
                images,
                blobs,
            } => (files, images, blobs),
        };
        // A synthesized manifest asked for again by its digest.
        if let Ok(d) = Digest::parse(tag_or_digest) {
            if let Some(member) = blobs.get(&d).filter(|m| m.starts_with("manifest:")) {
                let idx: usize = member["manifest:".len()..].parse().unwrap_or(usize::MAX);
                if let Some(img) = images.get(idx).cloned() {
                    return synth_manifest(files, &img, blobs, idx, &name);
                }
            }
        }
        let matches = |img: &ArchiveImage| {
            img.repo_tags.iter().flatten().any(|t| {
                t == tag_or_digest || t.rsplit_once(':').map(|(_, tag)| tag) == Some(tag_or_digest)
            })
        };
        let idx = match images.iter().position(matches) {
            Some(i) => i,
            None if images.len() == 1 => 0,
            None => {
                return Err(SourceError::NotFound {
                    source_name: name,
                    wanted: tag_or_digest.to_string(),
                    available: images
                        .iter()
                        .flat_map(|i| i.repo_tags.clone().unwrap_or_default())
                        .collect::<Vec<_>>()
                        .join(", "),
                })
            }
        };
        let img = images[idx].clone();
        synth_manifest(files, &img, blobs, idx, &name)
    }

    fn blob(&mut self, digest: &Digest, size: u64) -> Result<Box<dyn Read + '_>, SourceError> {
        let name = self.name.clone();
        match &mut self.inner {
            ArchiveKind::Layout(l) => l.blob(digest, size),
            ArchiveKind::Classic { files, blobs, .. } => {
                let member = blobs
                    .get(digest)
                    .cloned()
                    .ok_or_else(|| SourceError::Invalid {
                        source_name: name.clone(),
                        problem: format!("no blob {digest} in the archive"),
                    })?;
                files.open(&member).map_err(|err| SourceError::Io {
                    source_name: name,
                    what: member,
                    err,
                })
            }
        }
    }

    fn describe(&self) -> String {
        self.name.clone()
    }
}

/// A Docker schema2 manifest for a classic archive's image: digests and
/// sizes computed from its files (the archive itself names no digests).
fn synth_manifest(
    files: &mut TarFiles,
    img: &ArchiveImage,
    blobs: &mut HashMap<Digest, String>,
    idx: usize,
    name: &str,
) -> Result<(Vec<u8>, String), SourceError> {
    let io = |what: &str| {
        let (name, what) = (name.to_string(), what.to_string());
        move |err| SourceError::Io {
            source_name: name,
            what,
            err,
        }
    };
    let (cd, csize, _) = hash_member(files, &img.config).map_err(io(&img.config))?;
    blobs.insert(cd.clone(), img.config.clone());
    let mut layers = Vec::new();
    for l in &img.layers {
        let (d, size, gzip) = hash_member(files, l).map_err(io(l))?;
        blobs.insert(d.clone(), l.clone());
        layers.push(serde_json::json!({
            "mediaType": if gzip { DOCKER_LAYER_GZIP } else { DOCKER_LAYER_TAR },
            "size": size,
            "digest": d.to_string(),
        }));
    }
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST_V2,
        "config": {"mediaType": DOCKER_CONFIG, "size": csize, "digest": cd.to_string()},
        "layers": layers,
    });
    let bytes = serde_json::to_vec(&manifest).map_err(|e| SourceError::Invalid {
        source_name: name.to_string(),
        problem: e.to_string(),
    })?;
    blobs.insert(Digest::sha256_of(&bytes), format!("manifest:{idx}"));
    Ok((bytes, DOCKER_MANIFEST_V2.to_string()))
}

fn io_of(source_name: &str, what: impl Into<String>) -> impl FnOnce(io::Error) -> SourceError {
    let (source_name, what) = (source_name.to_string(), what.into());
    move |err| SourceError::Io {
        source_name,
        what,
        err,
    }
}

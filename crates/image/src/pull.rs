//! Copying an image from a [`Source`] into the [`Store`]: index →
//! platform → manifest → config → layers, each verified, then the record.
//!
//! Manifests, indexes and configs are parsed with `oci-spec`'s types: the
//! Docker schema2 manifest and manifest list have the same structure as
//! the OCI ones (only the media type strings differ, which oci-spec keeps
//! as `MediaType::Other`), and Docker's config is a superset of the OCI
//! config, so no Docker type is hand-written here.

use std::collections::BTreeSet;
use std::fmt;

use oci_spec::image::{ImageConfiguration, ImageIndex, ImageManifest};

use crate::digest::Digest;
use crate::reference::Reference;
use crate::source::{Source, SourceError};
use crate::store::{ImageRecord, LayerRecord, Store, StoreError};

use crate::limits::INDEX_DEPTH_MAX;
pub use crate::limits::{CONFIG_MAX, LAYERS_MAX, MANIFEST_MAX};

pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const SCHEMA1: [&str; 3] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
    "application/json",
];
const LAYER_TYPES: [&str; 6] = [
    "application/vnd.oci.image.layer.v1.tar",
    "application/vnd.oci.image.layer.v1.tar+gzip",
    "application/vnd.oci.image.layer.v1.tar+zstd",
    "application/vnd.docker.image.rootfs.diff.tar",
    "application/vnd.docker.image.rootfs.diff.tar.gzip",
    "application/vnd.docker.image.rootfs.diff.tar.zstd",
];

/// `os/arch[/variant]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

impl Platform {
    /// `linux/amd64`, `linux/arm64/v8`, `linux/arm/v7`.
    pub fn parse(s: &str) -> Result<Platform, String> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        };
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Platform::new(os, arch, None)),
            [os, arch, v] if ok(os) && ok(arch) && ok(v) => Ok(Platform::new(os, arch, Some(v))),
            _ => Err(format!(
                "--platform {s:?}: expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7"
            )),
        }
    }

    fn new(os: &str, arch: &str, variant: Option<&str>) -> Platform {
        Platform {
            os: os.to_string(),
            arch: arch.to_string(),
            variant: variant.map(str::to_string),
        }
    }

    /// The platform of this host, in Go's names (the ones images use).
    pub fn host() -> Platform {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "powerpc64" => "ppc64le",
            "loongarch64" => "loong64",
            other => other,
        };
        let variant = match arch {
            "arm" => Some("v7"),
            _ => None,
        };
        Platform::new("linux", arch, variant)
    }

    /// Whether an image for `other` runs here, when `self` is wanted. A
    /// variant not asked for matches any; arm64 without a variant is v8.
    fn accepts(&self, other: &Platform) -> bool {
        let norm = |p: &Platform| match (p.arch.as_str(), p.variant.as_deref()) {
            ("arm64", None) => Some("v8".to_string()),
            _ => p.variant.clone(),
        };
        self.os == other.os
            && self.arch == other.arch
            && (self.variant.is_none() || norm(self) == norm(other))
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The fields come from the image (config, index) and are printed
        // to terminals: no control characters (escape sequences).
        let printable = |s: &str| -> String {
            s.chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .collect()
        };
        write!(f, "{}/{}", printable(&self.os), printable(&self.arch))?;
        if let Some(v) = &self.variant {
            write!(f, "/{}", printable(v))?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{image}: {problem}")]
    Refused { image: String, problem: String },
}

/// What to pull and how.
pub struct PullOptions<'a> {
    /// The name the image gets in the store.
    pub name: &'a Reference,
    /// What to ask the source for (a tag or a digest).
    pub tag_or_digest: &'a str,
    /// The platform to select from an index [default: the host's].
    pub platform: Option<Platform>,
    /// Record the image as keeping its setuid/setgid bits (`--keep-setid`).
    pub keep_setid: bool,
}

struct Ctx<'a> {
    store: &'a Store,
    image: String,
}

impl Ctx<'_> {
    fn refuse(&self, problem: impl Into<String>) -> PullError {
        PullError::Refused {
            image: self.image.clone(),
            problem: problem.into(),
        }
    }
}

/// Pulls `opts.tag_or_digest` from `source` into `store` and records it
/// under `opts.name`. Holds the store's shared lock: other pulls may run,
/// a prune waits. On error nothing is recorded; blobs already written stay
/// until `prune`.
pub fn pull(
    store: &Store,
    source: &mut dyn Source,
    opts: &PullOptions,
) -> Result<ImageRecord, PullError> {
    let _lock = store.lock_shared()?;
    let ctx = Ctx {
        store,
        image: format!("{} ({})", opts.name, source.describe()),
    };
    let wanted = opts.platform.clone().unwrap_or_else(Platform::host);
    let explicit = opts.platform.is_some();

    let (bytes, media_type) = source.manifest(opts.tag_or_digest)?;
    let top = Digest::sha256_of(&bytes);
    if let Ok(pinned) = Digest::parse(opts.tag_or_digest) {
        let got = pinned.same_algorithm_of(&bytes);
        if got != pinned {
            return Err(ctx.refuse(format!(
                "the manifest served for {pinned} has digest {got}; refused"
            )));
        }
    }
    // A name pinned by digest (from an archive's RepoTags, a layout's
    // annotations, --name) is a claim about the content: recorded for other
    // bytes, a later lookup by that digest would get this image instead.
    if let Some(pinned) = opts.name.digest() {
        let got = pinned.same_algorithm_of(&bytes);
        if &got != pinned {
            return Err(ctx.refuse(format!(
                "the name pins {pinned}, the manifest has digest {got}; refused"
            )));
        }
    }
    let top = match Digest::parse(opts.tag_or_digest) {
        Ok(p) => p,
        Err(_) => top,
    };
    let (manifest_digest, manifest_bytes, manifest_type) = resolve(
        &ctx,
        source,
        top.clone(),
        bytes,
        media_type,
        &wanted,
        &mut BTreeSet::new(),
        0,
    )?;
    let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
        ctx.refuse(format!(
            "manifest {manifest_digest}: not an OCI or Docker schema2 image manifest: {e}"
        ))
    })?;
    if manifest.schema_version() != 2 {
        return Err(ctx.refuse(format!(
            "manifest {manifest_digest}: schemaVersion {} (2 expected)",
            manifest.schema_version()
        )));
    }
    if manifest.layers().len() > LAYERS_MAX {
        return Err(ctx.refuse(format!(
            "{} layers, over the limit of {LAYERS_MAX} (overlayfs stacks at most that many lower directories); rebuild the image with fewer layers (e.g. squash it)",
            manifest.layers().len()
        )));
    }

    // Config: fetched, verified, then parsed.
    let cd = manifest.config();
    let config_digest = parse_digest(&ctx, cd.digest().as_ref(), "config")?;
    if cd.size() > CONFIG_MAX {
        return Err(ctx.refuse(format!(
            "config {config_digest} declares {} bytes, over the limit of {CONFIG_MAX}; refused",
            cd.size()
        )));
    }
    fetch(&ctx, source, &config_digest, cd.size())?;
    let config_bytes = store.read_blob(&config_digest, CONFIG_MAX)?;
    let config: ImageConfiguration = serde_json::from_slice(&config_bytes)
        .map_err(|e| ctx.refuse(format!("config {config_digest}: not an image config: {e}")))?;
    let platform = Platform {
        os: config.os().to_string(),
        arch: config.architecture().to_string(),
        variant: config.variant().clone(),
    };
    if !wanted.accepts(&platform)
        && (explicit || wanted.os != platform.os || wanted.arch != platform.arch)
    {
        return Err(ctx.refuse(format!(
            "the image is for {platform}, not {wanted}; {}",
            if explicit {
                "pull the platform the image is for with --platform"
            } else {
                "pass --platform to pull it for another machine"
            }
        )));
    }
    let diff_ids = config.rootfs().diff_ids();
    if diff_ids.len() != manifest.layers().len() {
        return Err(ctx.refuse(format!(
            "the config lists {} layers (rootfs.diff_ids), the manifest {}; refused",
            diff_ids.len(),
            manifest.layers().len()
        )));
    }

    let mut layers = Vec::with_capacity(diff_ids.len());
    for (l, diff_id) in manifest.layers().iter().zip(diff_ids) {
        let media_type = l.media_type().to_string();
        if !LAYER_TYPES.contains(&media_type.as_str()) {
            return Err(ctx.refuse(format!(
                "layer {}: media type {media_type:?} is not a layer ward unpacks ({})",
                l.digest(),
                LAYER_TYPES.join(", ")
            )));
        }
        let digest = parse_digest(&ctx, l.digest().as_ref(), "layer")?;
        let diff_id = parse_digest(&ctx, diff_id, "rootfs.diff_ids")?;
        fetch(&ctx, source, &digest, l.size())?;
        layers.push(LayerRecord {
            digest,
            size: l.size(),
            media_type,
            diff_id,
        });
    }
    let record = ImageRecord {
        reference: opts.name.to_string(),
        digest: top,
        manifest: manifest_digest,
        manifest_media_type: manifest_type,
        config: config_digest,
        layers,
        platform: platform.to_string(),
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0),
        keep_setid: opts.keep_setid,
    };
    store.put_record(&record)?;
    Ok(record)
}

fn parse_digest(ctx: &Ctx, s: &str, what: &str) -> Result<Digest, PullError> {
    Digest::parse(s).map_err(|e| ctx.refuse(format!("{what}: {e}")))
}

fn fetch(ctx: &Ctx, source: &mut dyn Source, d: &Digest, size: u64) -> Result<(), PullError> {
    if ctx.store.has_blob(d) {
        return Ok(());
    }
    let mut r = source.blob(d, size)?;
    ctx.store.ingest(d, size, &mut r)?;
    Ok(())
}

/// The kind of a manifest document, from its media type or, when the
/// source gives none, its own `mediaType` field.
fn kind(bytes: &[u8], media_type: &str) -> Result<&'static str, String> {
    let field = serde_json::from_slice::<serde_json::Value>(bytes).ok();
    let declared = field
        .as_ref()
        .and_then(|v| v.get("mediaType"))
        .and_then(|m| m.as_str())
        .unwrap_or("");
    let schema = field
        .as_ref()
        .and_then(|v| v.get("schemaVersion"))
        .and_then(|s| s.as_u64());
    let mt = if media_type.is_empty() {
        declared
    } else {
        media_type
    };
    if schema == Some(1) || SCHEMA1[..2].contains(&mt) {
        return Err("a Docker schema1 manifest (deprecated since 2017, unsigned content); refused: push the image again with a current Docker, buildah or skopeo (they write schema2 or OCI)".into());
    }
    match mt {
        OCI_INDEX | DOCKER_LIST => Ok("index"),
        OCI_MANIFEST | DOCKER_MANIFEST => Ok("manifest"),
        "" | "application/json" => match field {
            Some(v) if v.get("manifests").is_some() => Ok("index"),
            Some(v) if v.get("layers").is_some() => Ok("manifest"),
            _ => Err("not an image manifest or index".into()),
        },
        other => Err(format!("unsupported manifest media type {other:?}")),
    }
}

/// Follows indexes down to the manifest for `wanted`.
#[allow(clippy::too_many_arguments)]
fn resolve(
    ctx: &Ctx,
    source: &mut dyn Source,
    digest: Digest,
    bytes: Vec<u8>,
    media_type: String,
    wanted: &Platform,
    seen: &mut BTreeSet<Digest>,
    depth: usize,
) -> Result<(Digest, Vec<u8>, String), PullError> {
    if bytes.len() as u64 > MANIFEST_MAX {
        return Err(ctx.refuse(format!(
            "manifest {digest}: {} bytes, over the limit of {MANIFEST_MAX}; refused",
            bytes.len()
        )));
    }
    if !seen.insert(digest.clone()) || depth > INDEX_DEPTH_MAX {
        return Err(ctx.refuse(format!(
            "index {digest}: indexes nest deeper than {INDEX_DEPTH_MAX} or loop; refused"
        )));
    }
    ctx.store.ingest_bytes(&digest, &bytes)?;
    let k = kind(&bytes, &media_type).map_err(|p| ctx.refuse(format!("manifest {digest}: {p}")))?;
    let mt = if media_type.is_empty() {
        if k == "index" {
            OCI_INDEX
        } else {
            OCI_MANIFEST
        }
        .to_string()
    } else {
        media_type
    };
    if k == "manifest" {
        return Ok((digest, bytes, mt));
    }
    let index: ImageIndex = serde_json::from_slice(&bytes)
        .map_err(|e| ctx.refuse(format!("index {digest}: not an image index: {e}")))?;
    let mut offered = Vec::new();
    let mut chosen = None;
    for m in index.manifests() {
        let Some(p) = m.platform() else { continue };
        let p = Platform {
            os: p.os().to_string(),
            arch: p.architecture().to_string(),
            variant: p.variant().clone(),
        };
        // Attestations (buildkit's "unknown/unknown") are not images.
        if p.os == "unknown" {
            continue;
        }
        if chosen.is_none() && wanted.accepts(&p) {
            chosen = Some(m.clone());
        }
        offered.push(p.to_string());
    }
    // An index without platforms (one image, as skopeo may write) is followed.
    if chosen.is_none() && offered.is_empty() && index.manifests().len() == 1 {
        chosen = index.manifests().first().cloned();
    }
    let Some(m) = chosen else {
        return Err(ctx.refuse(format!(
            "no image for {wanted} in the index; it offers: {}; choose one with --platform",
            if offered.is_empty() {
                "none".to_string()
            } else {
                offered.join(", ")
            }
        )));
    };
    let child = parse_digest(ctx, m.digest().as_ref(), "index manifests[].digest")?;
    if m.size() > MANIFEST_MAX {
        return Err(ctx.refuse(format!(
            "manifest {child} declares {} bytes, over the limit of {MANIFEST_MAX}; refused",
            m.size()
        )));
    }
    let (child_bytes, child_type) = source.manifest(&child.to_string())?;
    if child_bytes.len() as u64 != m.size() {
        return Err(ctx.refuse(format!(
            "manifest {child}: {} bytes served, the index declares {}; refused",
            child_bytes.len(),
            m.size()
        )));
    }
    let got = child.same_algorithm_of(&child_bytes);
    if got != child {
        return Err(ctx.refuse(format!(
            "manifest {child}: the content served has digest {got}; refused"
        )));
    }
    let child_type = if child_type.is_empty() {
        m.media_type().to_string()
    } else {
        child_type
    };
    resolve(
        ctx,
        source,
        child,
        child_bytes,
        child_type,
        wanted,
        seen,
        depth + 1,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_parse_and_match() {
        let p = Platform::parse("linux/arm64").expect("valid");
        assert!(p.accepts(&Platform::parse("linux/arm64/v8").expect("valid")));
        let v8 = Platform::parse("linux/arm64/v8").expect("valid");
        assert!(v8.accepts(&Platform::parse("linux/arm64").expect("valid")));
        let v7 = Platform::parse("linux/arm/v7").expect("valid");
        assert!(!v7.accepts(&Platform::parse("linux/arm/v6").expect("valid")));
        assert!(!p.accepts(&Platform::parse("linux/amd64").expect("valid")));
        assert!(Platform::parse("linux").is_err());
        assert!(Platform::parse("linux/amd64/v1/x").is_err());
        assert!(Platform::parse("linux//v1").is_err());
        assert_eq!(v7.to_string(), "linux/arm/v7");
    }

    #[test]
    fn schema1_is_refused_by_name() {
        let e = kind(br#"{"schemaVersion":1,"name":"x"}"#, "").expect_err("schema1");
        assert!(e.contains("schema1"), "{e}");
        assert_eq!(
            kind(br#"{"schemaVersion":2,"manifests":[]}"#, ""),
            Ok("index")
        );
        assert_eq!(kind(b"{}", DOCKER_MANIFEST), Ok("manifest"));
        assert!(kind(b"{}", "text/html").is_err());
    }
}

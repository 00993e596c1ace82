//! The content store: blobs named by their digest, image records naming
//! the manifests, and unpacked layers named by their chain ID.
//!
//! ```text
//! ROOT/lock                      flock: shared while pulling, exclusive to prune
//! ROOT/blobs/sha256/<hex>        verified content, never changed after rename
//! ROOT/tmp/                      blobs being written (removed when found stale)
//! ROOT/images/<sha256 of ref>.json   one record per reference
//! ROOT/layers/<chain id hex>/    unpacked layers (ensure_layer)
//! ```
//!
//! A blob reaches `blobs/` only by `rename` after its bytes were counted
//! and hashed while written and `fsync`ed: a reader sees a complete,
//! verified blob or none. Two writers of the same blob each write their own
//! temp file and the second rename replaces identical content.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use crate::digest::{Algorithm, Digest, DigestWriter};
use crate::reference::Reference;

/// The store of `ward image` unless `--root` names another.
pub const DEFAULT_ROOT: &str = "/var/lib/ward/images";

/// An error of the store: what it was doing, on which path, and why.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("blob {digest}: the source served more than the {expected} bytes its descriptor declares; refused at byte {}", expected + 1)]
    TooLong { digest: Digest, expected: u64 },
    #[error("blob {digest}: the source served {got} bytes, its descriptor declares {expected} (truncated or a size lie); refused")]
    TooShort {
        digest: Digest,
        expected: u64,
        got: u64,
    },
    #[error("blob {expected}: the content served has digest {got}; refused (corrupt or tampered)")]
    Mismatch { expected: Digest, got: Digest },
    #[error("image {0}: not in the store (see `ward image ls`)")]
    NoImage(String),
    #[error("image record {path}: {problem}")]
    BadRecord { path: PathBuf, problem: String },
}

fn io_err(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io { what, path, source }
}

/// What the store keeps about one reference.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImageRecord {
    /// The canonical reference (`registry/repo:tag[@digest]`).
    pub reference: String,
    /// The digest the reference resolved to: an index or a manifest.
    pub digest: Digest,
    /// The manifest chosen for the platform (equals `digest` without an index).
    pub manifest: Digest,
    /// The media type of `manifest`.
    pub manifest_media_type: String,
    pub config: Digest,
    /// Layers as stored (compressed), bottom first.
    pub layers: Vec<LayerRecord>,
    /// `os/arch[/variant]` of the config.
    pub platform: String,
    /// Seconds since the epoch when the record was written.
    pub created: u64,
    /// The layers keep their setuid/setgid bits and file capabilities
    /// (`--keep-setid`: an explicit opt-out of the stripping, shown by
    /// `ward image inspect`). Such layers are unpacked apart from the
    /// stripped ones of the same chain ([`ImageRecord::layer_keys`]).
    #[serde(default)]
    pub keep_setid: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct LayerRecord {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
    /// The digest of the uncompressed tar (the config's rootfs.diff_ids).
    pub diff_id: Digest,
}

impl ImageRecord {
    /// Bytes of the layers as stored (compressed), as `docker images` counts them.
    pub fn size(&self) -> u64 {
        self.layers.iter().map(|l| l.size).sum()
    }

    /// The chain IDs of the layers, bottom first (image-spec: ChainID(L0) =
    /// DiffID(L0); ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))).
    pub fn chain_ids(&self) -> Vec<Digest> {
        let diff_ids: Vec<Digest> = self.layers.iter().map(|l| l.diff_id.clone()).collect();
        chain_ids(&diff_ids)
    }

    /// The names of the image's unpacked layer directories, bottom first:
    /// the chain IDs, or for `keep_setid` a digest derived from each, so
    /// that an image that keeps setuid bits never shares a directory with
    /// one that strips them.
    pub fn layer_keys(&self) -> Vec<Digest> {
        let ids = self.chain_ids();
        if !self.keep_setid {
            return ids;
        }
        ids.iter()
            .map(|c| Digest::sha256_of(format!("{c} keep-setid").as_bytes()))
            .collect()
    }
}

/// ChainIDs of a stack of diff IDs, per the image spec (config.md, "Layer ChainID").
pub fn chain_ids(diff_ids: &[Digest]) -> Vec<Digest> {
    let mut out: Vec<Digest> = Vec::with_capacity(diff_ids.len());
    for d in diff_ids {
        let next = match out.last() {
            None => d.clone(),
            Some(parent) => Digest::sha256_of(format!("{parent} {d}").as_bytes()),
        };
        out.push(next);
    }
    out
}

/// A store under one root directory.
pub struct Store {
    root: PathBuf,
}

/// A held lock on the store (released on drop).
pub struct StoreLock {
    _lock: Flock<File>,
}

static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Creates `dir` with `mode`, or narrows an existing one to it when it
/// lets others do more (a store made before, or by hand).
fn private_dir(dir: &Path, mode: u32) -> Result<(), StoreError> {
    match fs::DirBuilder::new().mode(mode).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io_err("creating the store directory", dir)(e)),
    }
    let have = fs::metadata(dir)
        .map_err(io_err("reading", dir))?
        .permissions()
        .mode()
        & 0o777;
    if have & !mode != 0 {
        fs::set_permissions(dir, fs::Permissions::from_mode(mode))
            .map_err(io_err("making private", dir))?;
    }
    Ok(())
}

impl Store {
    /// Opens (creating its directories) the store at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let root = root.into();
        // Blobs, records and layers of private images (keys in layers,
        // secrets in a config's Env) must not be readable by other local
        // users: those directories are 0700, also when an older or hand-made
        // store had another mode. The root itself is 0711: others may pass
        // through it (a container's unprivileged root reaches its rootfs
        // under `containers/`, ward run) but not list or read it.
        if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
            fs::create_dir_all(parent).map_err(io_err("creating the store directory", parent))?;
        }
        private_dir(&root, 0o711)?;
        for sub in ["blobs", "tmp", "images", "layers"] {
            private_dir(&root.join(sub), 0o700)?;
        }
        for sub in ["blobs/sha256", "blobs/sha512"] {
            let p = root.join(sub);
            fs::create_dir_all(&p).map_err(io_err("creating the store directory", &p))?;
        }
        Ok(Store { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn lock(&self, arg: FlockArg) -> Result<StoreLock, StoreError> {
        let path = self.root.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err("opening the store lock", &path))?;
        let lock = flock_file(file, arg).map_err(io_err("locking", &path))?;
        Ok(StoreLock { _lock: lock })
    }

    /// The lock a pull holds: many pulls at once, no prune meanwhile (a
    /// prune would delete the blobs a pull has written but not yet recorded).
    /// Taking it also removes temp files that a crashed earlier run left,
    /// when no one else holds the store.
    pub fn lock_shared(&self) -> Result<StoreLock, StoreError> {
        if let Ok(l) = self.lock(FlockArg::LockExclusiveNonblock) {
            self.remove_temp_files()?;
            drop(l);
        }
        self.lock(FlockArg::LockShared)
    }

    /// The lock of prune and rm: no pull runs meanwhile. (flock locks are
    /// per open file: a process holding a shared lock that asks for this one
    /// waits for itself.)
    pub fn lock_exclusive(&self) -> Result<StoreLock, StoreError> {
        self.lock(FlockArg::LockExclusive)
    }

    fn remove_temp_files(&self) -> Result<(), StoreError> {
        let tmp = self.root.join("tmp");
        for e in fs::read_dir(&tmp)
            .map_err(io_err("reading", &tmp))?
            .flatten()
        {
            let p = e.path();
            let r = if p.is_dir() && !p.is_symlink() {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
            r.map_err(io_err("removing the stale temp file", &p))?;
        }
        Ok(())
    }

    pub fn blob_path(&self, d: &Digest) -> PathBuf {
        self.root
            .join("blobs")
            .join(d.algorithm().name())
            .join(d.hex())
    }

    pub fn has_blob(&self, d: &Digest) -> bool {
        self.blob_path(d).is_file()
    }

    /// Reads a whole blob, refusing one larger than `limit` bytes.
    pub fn read_blob(&self, d: &Digest, limit: u64) -> Result<Vec<u8>, StoreError> {
        let p = self.blob_path(d);
        let f = File::open(&p).map_err(io_err("opening the blob", &p))?;
        let mut out = Vec::new();
        f.take(limit.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(io_err("reading the blob", &p))?;
        if out.len() as u64 > limit {
            return Err(StoreError::Io {
                what: "reading the blob",
                path: p,
                source: io::Error::other(format!("larger than {limit} bytes")),
            });
        }
        Ok(out)
    }

    /// Writes the blob `digest` of exactly `size` bytes from `from`,
    /// hashing and counting while writing; it becomes visible (renamed
    /// into place) only when both match. A blob already in the store is
    /// not fetched again: it was verified when written.
    pub fn ingest(
        &self,
        digest: &Digest,
        size: u64,
        from: &mut dyn Read,
    ) -> Result<PathBuf, StoreError> {
        let dest = self.blob_path(digest);
        if dest.is_file() {
            return Ok(dest);
        }
        let tmp = self.temp_path(digest.hex());
        let guard = RemoveOnDrop(Some(tmp.clone()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_err("creating the temp file", &tmp))?;
        let mut w = DigestWriter::new(
            io::BufWriter::with_capacity(1 << 17, file),
            digest.algorithm(),
        );
        // One byte more than declared: a longer blob is refused at its first extra byte.
        // (saturating: a descriptor may declare u64::MAX, which would wrap to 0.)
        let mut limited = from.take(size.saturating_add(1));
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = match limited.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(StoreError::Io {
                        what: "reading the blob from the source for",
                        path: dest,
                        source: e,
                    })
                }
            };
            if w.written().saturating_add(n as u64) > size {
                return Err(StoreError::TooLong {
                    digest: digest.clone(),
                    expected: size,
                });
            }
            w.write_all(&buf[..n])
                .map_err(io_err("writing into the store", &tmp))?;
        }
        if w.written() < size {
            return Err(StoreError::TooShort {
                digest: digest.clone(),
                expected: size,
                got: w.written(),
            });
        }
        let (got, buffered) = w.finish();
        if &got != digest {
            return Err(StoreError::Mismatch {
                expected: digest.clone(),
                got,
            });
        }
        let file = buffered.into_inner().map_err(|e| StoreError::Io {
            what: "writing into the store",
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        file.sync_all().map_err(io_err("syncing", &tmp))?;
        drop(file);
        fs::rename(&tmp, &dest).map_err(io_err("renaming into place", &dest))?;
        std::mem::forget(guard);
        sync_dir(dest.parent().unwrap_or(&self.root))?;
        Ok(dest)
    }

    /// Ingests bytes already in memory (a manifest), verified the same way.
    pub fn ingest_bytes(&self, digest: &Digest, bytes: &[u8]) -> Result<PathBuf, StoreError> {
        self.ingest(digest, bytes.len() as u64, &mut &bytes[..])
    }

    fn temp_path(&self, stem: &str) -> PathBuf {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        self.root
            .join("tmp")
            .join(format!("{stem}.{}.{n}", std::process::id()))
    }

    fn record_path(&self, reference: &str) -> PathBuf {
        self.root.join("images").join(format!(
            "{}.json",
            Digest::sha256_of(reference.as_bytes()).hex()
        ))
    }

    /// Writes the record atomically (temp file, fsync, rename): a reader
    /// sees the old record or the new one, never a mix.
    pub fn put_record(&self, rec: &ImageRecord) -> Result<(), StoreError> {
        let dest = self.record_path(&rec.reference);
        let tmp = self.temp_path("record");
        let guard = RemoveOnDrop(Some(tmp.clone()));
        let text = serde_json::to_vec_pretty(rec).map_err(|e| StoreError::BadRecord {
            path: dest.clone(),
            problem: e.to_string(),
        })?;
        let mut f = File::create(&tmp).map_err(io_err("creating the temp file", &tmp))?;
        f.write_all(&text).map_err(io_err("writing", &tmp))?;
        f.sync_all().map_err(io_err("syncing", &tmp))?;
        drop(f);
        fs::rename(&tmp, &dest).map_err(io_err("renaming into place", &dest))?;
        std::mem::forget(guard);
        sync_dir(&self.root.join("images"))
    }

    pub fn get_record(&self, reference: &Reference) -> Result<ImageRecord, StoreError> {
        let key = reference.to_string();
        let p = self.record_path(&key);
        if !p.exists() {
            return Err(StoreError::NoImage(key));
        }
        read_record(&p)
    }

    /// Every record, sorted by reference.
    pub fn records(&self) -> Result<Vec<ImageRecord>, StoreError> {
        let dir = self.root.join("images");
        let mut out = Vec::new();
        for e in fs::read_dir(&dir)
            .map_err(io_err("reading", &dir))?
            .flatten()
        {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json") {
                out.push(read_record(&p)?);
            }
        }
        out.sort_by(|a, b| a.reference.cmp(&b.reference));
        Ok(out)
    }

    /// Removes the record of `reference` (its blobs stay until `prune`).
    pub fn remove_record(&self, reference: &Reference) -> Result<ImageRecord, StoreError> {
        let _lock = self.lock_exclusive()?;
        let rec = self.get_record(reference)?;
        let p = self.record_path(&rec.reference);
        fs::remove_file(&p).map_err(io_err("removing", &p))?;
        Ok(rec)
    }

    /// Removes every blob and unpacked layer no record reaches, and stale
    /// temp files. Returns the blobs and layer directories removed and the
    /// bytes freed.
    pub fn prune(&self) -> Result<PruneReport, StoreError> {
        let _lock = self.lock_exclusive()?;
        self.remove_temp_files()?;
        let mut keep_blobs = BTreeSet::new();
        let mut keep_layers = BTreeSet::new();
        for rec in self.records()? {
            self.reach(&rec.digest, &mut keep_blobs, 0);
            keep_blobs.insert(rec.manifest.clone());
            keep_blobs.insert(rec.config.clone());
            keep_blobs.extend(rec.layers.iter().map(|l| l.digest.clone()));
            keep_layers.extend(rec.layer_keys().iter().map(|c| c.hex().to_string()));
        }
        let mut report = PruneReport::default();
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            let dir = self.root.join("blobs").join(alg.name());
            for e in fs::read_dir(&dir)
                .map_err(io_err("reading", &dir))?
                .flatten()
            {
                let name = e.file_name().to_string_lossy().into_owned();
                let keep = Digest::parse(&format!("{}:{name}", alg.name()))
                    .map(|d| keep_blobs.contains(&d))
                    .unwrap_or(false);
                if !keep {
                    let p = e.path();
                    report.bytes += e.metadata().map(|m| m.len()).unwrap_or(0);
                    fs::remove_file(&p).map_err(io_err("removing", &p))?;
                    report.blobs += 1;
                }
            }
        }
        let dir = self.root.join("layers");
        for e in fs::read_dir(&dir)
            .map_err(io_err("reading", &dir))?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.trim_end_matches(".lock");
            if !keep_layers.contains(stem) {
                let p = e.path();
                let r = if p.is_dir() && !p.is_symlink() {
                    fs::remove_dir_all(&p)
                } else {
                    fs::remove_file(&p)
                };
                r.map_err(io_err("removing", &p))?;
                if !name.ends_with(".lock") {
                    report.layers += 1;
                }
            }
        }
        Ok(report)
    }

    /// Marks `d` and what it names (an index's manifests, a manifest's
    /// config and layers) as reachable. Missing or unparsable blobs end the
    /// walk; the depth bound ends a (crafted) cycle.
    fn reach(&self, d: &Digest, keep: &mut BTreeSet<Digest>, depth: u32) {
        if depth > 8 || !keep.insert(d.clone()) {
            return;
        }
        let Ok(bytes) = self.read_blob(d, crate::limits::MANIFEST_MAX) else {
            return;
        };
        let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return;
        };
        let digest_of = |x: &serde_json::Value| {
            x.get("digest")
                .and_then(|s| s.as_str())
                .and_then(|s| Digest::parse(s).ok())
        };
        if let Some(ms) = v.get("manifests").and_then(|m| m.as_array()) {
            for m in ms {
                if let Some(c) = digest_of(m) {
                    self.reach(&c, keep, depth + 1);
                }
            }
        }
        if let Some(c) = v.get("config").and_then(digest_of) {
            keep.insert(c);
        }
        if let Some(ls) = v.get("layers").and_then(|m| m.as_array()) {
            keep.extend(ls.iter().filter_map(digest_of));
        }
    }

    /// The directory of the unpacked layer `chain_id`, created at most once:
    /// under a per-layer lock, `unpack` fills a fresh temp directory that is
    /// then renamed into place, so the directory exists complete or not at
    /// all; a failed `unpack` leaves nothing behind.
    pub fn ensure_layer<E>(
        &self,
        chain_id: &Digest,
        unpack: impl FnOnce(&Path) -> Result<(), E>,
    ) -> Result<PathBuf, EnsureLayerError<E>> {
        let layers = self.root.join("layers");
        let dest = layers.join(chain_id.hex());
        if dest.is_dir() {
            return Ok(dest);
        }
        // The store's shared lock keeps prune from removing the layer (or
        // its lock file) while it is being made.
        let _store_lock = self.lock_shared()?;
        let lock_path = layers.join(format!("{}.lock", chain_id.hex()));
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err("opening the layer lock", &lock_path))?;
        let _lock =
            flock_file(lock, FlockArg::LockExclusive).map_err(io_err("locking", &lock_path))?;
        // Another process may have made it while this one waited.
        if dest.is_dir() {
            return Ok(dest);
        }
        let tmp = layers.join(format!(".tmp-{}-{}", chain_id.hex(), std::process::id()));
        if tmp.exists() {
            fs::remove_dir_all(&tmp).map_err(io_err("removing the stale", &tmp))?;
        }
        fs::create_dir(&tmp).map_err(io_err("creating", &tmp))?;
        let guard = RemoveOnDrop(Some(tmp.clone()));
        unpack(&tmp).map_err(EnsureLayerError::Unpack)?;
        fs::rename(&tmp, &dest).map_err(io_err("renaming into place", &dest))?;
        std::mem::forget(guard);
        sync_dir(&layers)?;
        Ok(dest)
    }
}

/// What `ensure_layer` can fail with: the store, or the caller's unpack.
#[derive(Debug, thiserror::Error)]
pub enum EnsureLayerError<E> {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("unpacking the layer: {0}")]
    Unpack(E),
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub blobs: u64,
    pub layers: u64,
    pub bytes: u64,
}

fn read_record(p: &Path) -> Result<ImageRecord, StoreError> {
    let bytes = fs::read(p).map_err(io_err("reading the image record", p))?;
    serde_json::from_slice(&bytes).map_err(|e| StoreError::BadRecord {
        path: p.to_path_buf(),
        problem: e.to_string(),
    })
}

/// Locks `f` (released when the returned guard is dropped).
fn flock_file(f: File, arg: FlockArg) -> io::Result<Flock<File>> {
    Flock::lock(f, arg).map_err(|(_, errno)| io::Error::from(errno))
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err("syncing the directory", dir))
}

/// Removes a temp file or directory unless forgotten (after its rename).
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            if p.is_dir() {
                let _ = fs::remove_dir_all(&p);
            } else {
                let _ = fs::remove_file(&p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store() -> (PathBuf, Store) {
        let dir = std::env::temp_dir().join(format!(
            "ward-image-store-{}-{}",
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let s = Store::open(&dir).expect("store");
        (dir, s)
    }

    /// An endless blob is cut at its declared size + 1: it cannot fill the disk.
    #[test]
    fn an_endless_blob_stops_at_the_first_extra_byte() {
        let (dir, s) = store();
        let d = Digest::sha256_of(&[0u8; 10]);
        let e = s.ingest(&d, 10, &mut io::repeat(0)).expect_err("endless");
        assert!(matches!(e, StoreError::TooLong { expected: 10, .. }), "{e}");
        assert!(e.to_string().contains("refused at byte 11"), "{e}");
        assert!(!s.has_blob(&d));
        assert_eq!(fs::read_dir(dir.join("tmp")).expect("tmp").count(), 0);
        // Exactly 10 bytes: stored.
        s.ingest(&d, 10, &mut io::repeat(0).take(10))
            .expect("exact");
        assert!(s.has_blob(&d));
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn records_are_replaced_whole() {
        let (dir, s) = store();
        let d = Digest::sha256_of(b"m");
        let mut rec = ImageRecord {
            reference: "localhost/a:1".into(),
            digest: d.clone(),
            manifest: d.clone(),
            manifest_media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            config: d.clone(),
            layers: vec![],
            platform: "linux/amd64".into(),
            created: 1,
            keep_setid: false,
        };
        s.put_record(&rec).expect("put");
        rec.created = 2;
        s.put_record(&rec).expect("put again");
        let r: Reference = "localhost/a:1".parse().expect("ref");
        assert_eq!(s.get_record(&r).expect("get"), rec);
        assert_eq!(s.records().expect("all").len(), 1);
        assert_eq!(fs::read_dir(dir.join("tmp")).expect("tmp").count(), 0);
        let missing: Reference = "localhost/b:1".parse().expect("ref");
        assert_eq!(
            s.get_record(&missing).expect_err("missing").to_string(),
            "image localhost/b:1: not in the store (see `ward image ls`)"
        );
        let _ = fs::remove_dir_all(dir);
    }
}

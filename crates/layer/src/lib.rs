//! ward-layer: unpacks one OCI/Docker image layer (tar, gzip or zstd) into a
//! new directory in overlayfs format, trusting none of its bytes.
//!
//! Threat: a layer is an archive written by whoever built or tampered with
//! the image. Unpacked naively it writes outside its directory (`../`,
//! absolute names, symlinks and hardlinks that point out: zip-slip and
//! relatives), forges overlay metadata (whiteout devices, `trusted.*`
//! xattrs), plants setuid binaries, file capabilities and device nodes, or
//! fills the disk (decompression bombs). Here every name is resolved by the
//! kernel inside the layer directory (openat2 `RESOLVE_IN_ROOT`), the final
//! component is never followed, privileges are stripped by default and every
//! size is bounded. A layer that fails leaves nothing behind: it is unpacked
//! into a hidden sibling directory that is renamed into place only when
//! complete and synced.
//!
//! docs/layers.md lists each rule and the threat it answers.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

mod apply;
mod budget;
mod compression;
mod error;
mod fsops;
mod meta;
mod names;
mod options;
mod pipe;
mod report;
mod stage;

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

pub use compression::{decompress, Compression};
pub use error::Error;
pub use options::{Limits, Options};
pub use report::Report;

/// Unpacks one layer into the new directory `dest` (which must not exist;
/// its parent must). The layer is unpacked into a sibling temporary
/// directory, synced and renamed to `dest`; on any error the temporary
/// directory is removed and `dest` is not created.
///
/// A compressed layer is decompressed on a second thread (joined before
/// this returns), a few MiB ahead of the unpacker.
pub fn unpack(
    layer: impl Read + Send,
    compression: Compression,
    dest: &Path,
    opts: &Options,
) -> Result<Report, Error> {
    if compression == Compression::None {
        return unpack_tar(layer, dest, opts);
    }
    pipe::with_decompressed(layer, compression, |tar| unpack_tar(tar, dest, opts))
}

/// [`unpack`], also giving the SHA-256 of the decompressed tar stream
/// (`sha256:HEX`): the layer's diff_id, which the caller compares with the
/// image config's `rootfs.diff_ids` (the compressed blob's digest pins the
/// bytes; the diff_id ties them to the config that names them). Hashed on
/// the unpacker's side of the pipe, so decompression still runs ahead.
pub fn unpack_with_diff_id(
    layer: impl Read + Send,
    compression: Compression,
    dest: &Path,
    opts: &Options,
) -> Result<(Report, String), Error> {
    let hashed = |tar: &mut dyn Read| {
        let mut reader = HashingReader {
            inner: tar,
            hash: Sha256::new(),
        };
        let report = unpack_tar(&mut reader, dest, opts)?;
        let hex: String = reader
            .hash
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok((report, format!("sha256:{hex}")))
    };
    if compression == Compression::None {
        let mut layer = layer;
        return hashed(&mut layer);
    }
    pipe::with_decompressed(layer, compression, |mut tar| hashed(&mut tar))
}

struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    hash: Sha256,
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
}

/// [`unpack`] for an already decompressed tar stream (for a caller that
/// hashes the stream on the way, e.g. to check the layer's diff_id). The
/// stream is read to its end, so a hashing reader sees every byte.
pub fn unpack_tar(tar: impl Read, dest: &Path, opts: &Options) -> Result<Report, Error> {
    stage::unpack_staged(tar, dest, opts)
}

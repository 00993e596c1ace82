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

/// [`unpack`] for an already decompressed tar stream (for a caller that
/// hashes the stream on the way, e.g. to check the layer's diff_id). The
/// stream is read to its end, so a hashing reader sees every byte.
pub fn unpack_tar(tar: impl Read, dest: &Path, opts: &Options) -> Result<Report, Error> {
    stage::unpack_staged(tar, dest, opts)
}

//! All or nothing: the layer is unpacked into a hidden sibling of the
//! destination, finished (opaque markers, directory times), synced with one
//! syncfs, and renamed into place without replacing anything. Any error
//! removes the sibling, so a failed unpack leaves nothing half-made.

use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use nix::fcntl::{renameat2, RenameFlags};
use nix::sys::stat::Mode;
use nix::unistd::{Gid, Uid};

use crate::apply::{limit, stream_error, Applier, OPAQUE_XATTR};
use crate::budget::{Meter, Metered};
use crate::fsops::{errno, Root, Walk};
use crate::{Error, Options, Report};

/// The temporary directory; removed on drop unless it was renamed.
struct Stage {
    path: PathBuf,
    renamed: bool,
}

impl Drop for Stage {
    fn drop(&mut self) {
        if !self.renamed {
            // Symlink-safe (openat/unlinkat), so nothing outside is touched.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

static STAGE_SEQ: AtomicU64 = AtomicU64::new(0);

pub(crate) fn unpack_staged(tar: impl Read, dest: &Path, opts: &Options) -> Result<Report, Error> {
    let shown = dest.display().to_string();
    if dest.symlink_metadata().is_ok() {
        return Err(Error::DestExists(dest.to_path_buf()));
    }
    let Some(file_name) = dest.file_name() else {
        let e = io::Error::new(io::ErrorKind::InvalidInput, "no final component");
        return Err(Error::io("unpack into", shown, e));
    };
    let parent = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut stage_name = std::ffi::OsString::from(".");
    stage_name.push(file_name);
    stage_name.push(format!(
        ".partial-{}-{}",
        std::process::id(),
        STAGE_SEQ.fetch_add(1, Ordering::Relaxed)
    ));
    let mut stage = Stage {
        path: parent.join(stage_name),
        renamed: false,
    };
    // 0700 while it fills: nobody else walks a half-made layer.
    std::os::unix::fs::DirBuilderExt::mode(&mut std::fs::DirBuilder::new(), 0o700)
        .create(&stage.path)
        .map_err(|e| Error::io("create", stage.path.display().to_string(), e))?;
    let dir = std::fs::File::open(&stage.path)
        .map_err(|e| Error::io("open", stage.path.display().to_string(), e))?;
    let root = Root::new(OwnedFd::from(dir));

    let report = fill(tar, &root, opts)?;

    nix::unistd::syncfs(root.fd().as_raw_fd()).map_err(|e| Error::io("sync", &shown, errno(e)))?;
    // NOREPLACE: a plain rename would silently replace an empty directory
    // that appeared at `dest` meanwhile (e.g. a concurrent unpack).
    match renameat2(None, &stage.path, None, dest, RenameFlags::RENAME_NOREPLACE) {
        Ok(()) => stage.renamed = true,
        Err(nix::Error::EEXIST) => return Err(Error::DestExists(dest.to_path_buf())),
        Err(e) => return Err(Error::io("rename into", shown, errno(e))),
    }
    // The rename itself is durable once the parent directory is synced.
    std::fs::File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io("sync", parent.display().to_string(), e))?;
    Ok(report)
}

/// Reads the whole tar stream into the root.
fn fill(tar: impl Read, root: &Root, opts: &Options) -> Result<Report, Error> {
    let meter = Meter::new(opts.limits.max_bytes);
    let mut archive = tar::Archive::new(Metered::new(tar, meter.clone()));
    let mut applier = Applier::new(root, opts);
    {
        let mut entries = archive.entries().map_err(|e| stream_error(&meter, e))?;
        loop {
            meter.begin_headers(opts.limits.max_metadata_bytes);
            let next = entries.next();
            meter.end_headers();
            let mut entry = match next {
                None if meter.at_eof() => {
                    return Err(Error::Corrupt(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the archive ends without its end-of-archive block",
                    )))
                }
                None => break,
                Some(Ok(entry)) => entry,
                Some(Err(e)) => return Err(stream_error(&meter, e)),
            };
            applier.report.entries += 1;
            if applier.report.entries > opts.limits.max_entries {
                let detail = format!("more than {} entries", opts.limits.max_entries);
                return Err(limit("max_entries", &detail));
            }
            applier.apply(&mut entry, &meter)?;
            // Data the entry carried but nothing used (a device with a
            // size, a directory with data): read, counted, dropped.
            io::copy(&mut entry, &mut io::sink()).map_err(|e| stream_error(&meter, e))?;
        }
    }
    // The rest: the end-of-archive blocks and padding, and for gzip the
    // trailer whose CRC and length are only checked at the very end.
    io::copy(&mut archive.into_inner(), &mut io::sink()).map_err(|e| stream_error(&meter, e))?;
    applier.report.bytes = meter.total();
    finish(root, &mut applier)?;
    Ok(applier.report)
}

/// What can only be done once every entry is in place.
fn finish(root: &Root, applier: &mut Applier<'_>) -> Result<(), Error> {
    if !applier.dir_times.contains_key(Path::new("")) {
        // No `./` entry: the root gets the usual 0755 0:0, not the 0700 of
        // the stage (an overlay lower's root sets the merged root's mode).
        let fd = root.fd().as_raw_fd();
        nix::unistd::fchown(fd, Some(Uid::from_raw(0)), Some(Gid::from_raw(0)))
            .and_then(|()| nix::sys::stat::fchmod(fd, Mode::from_bits_truncate(0o755)))
            .map_err(|e| Error::io("chmod", "layer root", errno(e)))?;
    }
    for rel in &applier.opaque {
        // Gone or no longer a directory: a later entry replaced it, and a
        // non-directory hides the lower layers anyway.
        let Ok(fd) = root.open_dir(rel, Walk::FollowInRoot, true) else {
            continue;
        };
        ward_sys::fs::set_xattr(fd.as_fd(), OPAQUE_XATTR, b"y")
            .map_err(|e| Error::io("mark opaque", rel.display().to_string(), e))?;
        applier.report.opaque_dirs += 1;
    }
    // Last: creating entries and whiteouts changes the directories' mtimes.
    for (rel, mtime) in &applier.dir_times {
        let Ok(fd) = root.open_dir(rel, Walk::FollowInRoot, true) else {
            continue;
        };
        nix::sys::stat::futimens(fd.as_raw_fd(), mtime, mtime)
            .map_err(|e| Error::io("set times of", rel.display().to_string(), errno(e)))?;
    }
    Ok(())
}

//! The container's filesystem: mounts, /dev, masked paths, pivot_root.
//!
//! Every path inside the rootfs is resolved by the kernel with
//! RESOLVE_IN_ROOT from an fd on the rootfs, never by joining strings, so no
//! symlink planted in an image can send a mount or a device node to the host.

pub mod copyup;
pub mod dev;
pub mod masked;
pub mod mounts;
pub mod pivot;
pub mod source;

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::stat::Mode;
use ward_sys::fs::{openat2, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS};

use crate::{err, Context, Result};

const RESOLVE: u64 = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

/// Opens `path` inside `root` as an O_PATH handle.
pub fn open_in(root: BorrowedFd<'_>, path: &str) -> std::io::Result<OwnedFd> {
    openat2(root, path, libc::O_PATH, 0, RESOLVE)
}

/// Creates `path` inside `root` (directories, and the last component as a
/// directory or an empty file) and returns an O_PATH handle on it.
pub fn create_in(root: BorrowedFd<'_>, path: &str, dir: bool) -> Result<OwnedFd> {
    if let Ok(fd) = open_in(root, path) {
        return Ok(fd);
    }
    let comps: Vec<&str> = path
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let mut parent = openat2(root, "/", libc::O_PATH | libc::O_DIRECTORY, 0, RESOLVE)
        .layer("rootfs", || "opening the rootfs".into())?;
    for (i, comp) in comps.iter().enumerate() {
        if *comp == ".." {
            return Err(err(
                "rootfs",
                format!("{path:?}: \"..\" is not allowed in a container path"),
            ));
        }
        // Resolve the whole prefix from the root each time, so that symlinks
        // in the image are followed as the container would see them, while
        // the kernel keeps the walk inside the rootfs.
        let prefix = comps[..=i].join("/");
        match open_in(root, &prefix) {
            Ok(fd) => parent = fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                if i + 1 == comps.len() && !dir {
                    // O_EXCL: never follows a symlink planted at the last component.
                    let f = openat2(
                        parent.as_fd(),
                        comp,
                        libc::O_CREAT | libc::O_WRONLY | libc::O_EXCL,
                        0o644,
                        RESOLVE,
                    )
                    .layer("rootfs", || format!("creating {path:?} in the rootfs"))?;
                    drop(f);
                } else {
                    match nix::sys::stat::mkdirat(
                        Some(parent.as_raw_fd()),
                        *comp,
                        Mode::from_bits_truncate(0o755),
                    ) {
                        Ok(()) | Err(Errno::EEXIST) => {}
                        Err(e) => {
                            return Err(err(
                                "rootfs",
                                format!("creating directory {path:?} in the rootfs: {e}"),
                            ))
                        }
                    }
                }
                parent = open_in(root, &prefix)
                    .layer("rootfs", || format!("opening {path:?} in the rootfs"))?;
            }
            Err(e) => {
                return Err(err(
                    "rootfs",
                    format!("opening {path:?} in the rootfs: {e}"),
                ))
            }
        }
    }
    Ok(parent)
}

/// The file type of an fd (S_IFMT bits) and its rdev.
pub fn file_type(fd: BorrowedFd<'_>) -> Result<(u32, u64)> {
    let st = nix::sys::stat::fstat(fd.as_raw_fd()).layer("rootfs", || "fstat".into())?;
    Ok((st.st_mode & libc::S_IFMT, st.st_rdev))
}

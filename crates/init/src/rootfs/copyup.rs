//! `tmpcopyup` (Podman's `--read-only` and `--tmpfs` use it): a tmpfs that
//! starts with a copy of what the image has at its mount point.
//!
//! The copy is made into the tmpfs while it is still detached (its root is
//! an fd), from the directory it will cover, walking both with *at calls
//! that never follow a symlink: an image cannot point the copy at a host
//! file, and nothing is visible in the container until the copy is done.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::dir::{Dir, Type};
use nix::fcntl::AtFlags;
use nix::sys::stat::{FchmodatFlags, Mode};
use ward_sys::fs::{
    openat2, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV,
};

use crate::{err, Context, Result};

const NO_FOLLOW: u64 =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

/// Deep enough for any real image; a bound against a crafted deep tree.
const MAX_DEPTH: usize = 64;

/// Copies the contents of `src` (a directory of the rootfs) into `dst` (the
/// root of a detached tmpfs), preserving modes, owners and symlinks.
pub fn copy_up(src: BorrowedFd<'_>, dst: BorrowedFd<'_>) -> Result<()> {
    let src = openat2(src, ".", libc::O_RDONLY | libc::O_DIRECTORY, 0, NO_FOLLOW)
        .layer("tmpcopyup", || "opening the covered directory".into())?;
    let dst = openat2(dst, ".", libc::O_RDONLY | libc::O_DIRECTORY, 0, 0)
        .layer("tmpcopyup", || "opening the new tmpfs".into())?;
    copy_dir(&src, &dst, 0)
}

fn copy_dir(src: &OwnedFd, dst: &OwnedFd, depth: usize) -> Result<()> {
    if depth > MAX_DEPTH {
        return Err(err(
            "tmpcopyup",
            format!("directory tree deeper than {MAX_DEPTH} levels"),
        ));
    }
    let dup = src.try_clone().layer("tmpcopyup", || "dup".into())?;
    let mut dir = Dir::from(dup).layer("tmpcopyup", || "reading the covered directory".into())?;
    for entry in dir.iter() {
        let entry = entry.layer("tmpcopyup", || "reading the covered directory".into())?;
        let name = entry.file_name();
        let Ok(name_str) = name.to_str() else {
            continue;
        };
        if name_str == "." || name_str == ".." {
            continue;
        }
        let st = nix::sys::stat::fstatat(Some(src.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW)
            .layer("tmpcopyup", || format!("stat {name_str}"))?;
        let mode = Mode::from_bits_truncate(st.st_mode & 0o7777);
        match entry.file_type() {
            Some(Type::Directory) => {
                nix::sys::stat::mkdirat(Some(dst.as_raw_fd()), name, mode)
                    .layer("tmpcopyup", || format!("mkdir {name_str}"))?;
                let s = openat2(
                    src.as_fd(),
                    name_str,
                    libc::O_RDONLY | libc::O_DIRECTORY,
                    0,
                    NO_FOLLOW,
                )
                .layer("tmpcopyup", || format!("open {name_str}"))?;
                let d = openat2(
                    dst.as_fd(),
                    name_str,
                    libc::O_RDONLY | libc::O_DIRECTORY,
                    0,
                    NO_FOLLOW,
                )
                .layer("tmpcopyup", || format!("open {name_str}"))?;
                copy_dir(&s, &d, depth + 1)?;
            }
            Some(Type::File) => {
                let s = openat2(src.as_fd(), name_str, libc::O_RDONLY, 0, NO_FOLLOW)
                    .layer("tmpcopyup", || format!("open {name_str}"))?;
                let d = openat2(
                    dst.as_fd(),
                    name_str,
                    libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL,
                    0o600,
                    NO_FOLLOW,
                )
                .layer("tmpcopyup", || format!("create {name_str}"))?;
                std::io::copy(&mut std::fs::File::from(s), &mut std::fs::File::from(d))
                    .layer("tmpcopyup", || format!("copy {name_str}"))?;
            }
            Some(Type::Symlink) => {
                let target = nix::fcntl::readlinkat(Some(src.as_raw_fd()), name)
                    .layer("tmpcopyup", || format!("readlink {name_str}"))?;
                nix::unistd::symlinkat(target.as_os_str(), Some(dst.as_raw_fd()), name)
                    .layer("tmpcopyup", || format!("symlink {name_str}"))?;
            }
            // Devices, fifos and sockets are not copied: a tmpfs over image
            // content holds data, not device nodes.
            _ => continue,
        }
        nix::unistd::fchownat(
            Some(dst.as_raw_fd()),
            name,
            Some(nix::unistd::Uid::from_raw(st.st_uid)),
            Some(nix::unistd::Gid::from_raw(st.st_gid)),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .layer("tmpcopyup", || format!("chown {name_str}"))?;
        if entry.file_type() != Some(Type::Symlink) {
            nix::sys::stat::fchmodat(
                Some(dst.as_raw_fd()),
                name,
                mode,
                FchmodatFlags::NoFollowSymlink,
            )
            .layer("tmpcopyup", || format!("chmod {name_str}"))?;
        }
    }
    Ok(())
}

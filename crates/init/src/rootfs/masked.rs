//! Masked and read-only paths under /proc and /sys.
//!
//! Threat: /proc/kcore, /proc/keys, /proc/sysrq-trigger, /sys/firmware and
//! friends leak host memory, keys and firmware, or let a container crash the
//! host. Masking binds /dev/null over files and an empty read-only tmpfs
//! over directories. CVE-2025-31133: if the container's /dev/null is a
//! symlink or a bind of something else, a blind "bind /dev/null over X"
//! binds that file instead — so the node is verified to be the real
//! character device 1:3 before it is used, and used through that fd.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use ward_sys::mount as m;

use super::{file_type, open_in};
use crate::rootfs::mounts::{labelled, new_fs, Options};
use crate::{err, Context, Result};

/// Opens /dev/null of the container and checks that it is the null device.
fn verified_dev_null(root: BorrowedFd<'_>) -> Result<OwnedFd> {
    let fd = ward_sys::fs::openat2(
        root,
        "/dev/null",
        libc::O_PATH,
        0,
        ward_sys::fs::RESOLVE_IN_ROOT | ward_sys::fs::RESOLVE_NO_SYMLINKS,
    )
    .layer("masked paths", || {
        "opening the container's /dev/null (it must not be a symlink)".into()
    })?;
    let (t, rdev) = file_type(fd.as_fd())?;
    if t != libc::S_IFCHR || rdev != nix::sys::stat::makedev(1, 3) {
        return Err(err(
            "masked paths",
            "the container's /dev/null is not the null device (1:3); refusing to mask with it",
        ));
    }
    Ok(fd)
}

/// Masks each path (missing paths are skipped, as runc does).
/// `label`: `linux.mountLabel` for the empty tmpfs over directories.
pub fn mask(root: BorrowedFd<'_>, paths: &[String], label: Option<&str>) -> Result<()> {
    if paths.is_empty() {
        return Ok(());
    }
    let null = verified_dev_null(root)?;
    for p in paths {
        let target = match open_in(root, p) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(err("masked paths", format!("{p}: {e}"))),
        };
        let (t, _) = file_type(target.as_fd())?;
        let tree = if t == libc::S_IFDIR {
            let opts = Options {
                set: m::MOUNT_ATTR_RDONLY
                    | m::MOUNT_ATTR_NOSUID
                    | m::MOUNT_ATTR_NODEV
                    | m::MOUNT_ATTR_NOEXEC,
                ..Options::default()
            };
            new_fs("tmpfs", Some("tmpfs"), &labelled(&opts, label))?
        } else {
            m::open_tree(null.as_fd(), "", true, false)
                .layer("masked paths", || format!("cloning /dev/null for {p}"))?
        };
        m::move_mount_fd(tree.as_fd(), target.as_fd())
            .layer("masked paths", || format!("masking {p}"))?;
    }
    Ok(())
}

/// Makes each path read-only, recursively (missing paths are skipped).
pub fn make_readonly(root: BorrowedFd<'_>, paths: &[String]) -> Result<()> {
    for p in paths {
        let target = match open_in(root, p) {
            Ok(fd) => fd,
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => continue,
            Err(e) => return Err(err("readonly paths", format!("{p}: {e}"))),
        };
        let tree = m::open_tree(target.as_fd(), "", true, true)
            .layer("readonly paths", || format!("cloning {p}"))?;
        m::mount_setattr(
            tree.as_fd(),
            true,
            m::MOUNT_ATTR_RDONLY
                | m::MOUNT_ATTR_NOSUID
                | m::MOUNT_ATTR_NODEV
                | m::MOUNT_ATTR_NOEXEC,
            0,
            0,
        )
        .layer("readonly paths", || format!("making {p} read-only"))?;
        m::move_mount_fd(tree.as_fd(), target.as_fd())
            .layer("readonly paths", || format!("attaching read-only {p}"))?;
    }
    Ok(())
}

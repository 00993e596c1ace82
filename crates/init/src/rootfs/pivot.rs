//! Switching the root: pivot_root, so the host's root is not merely hidden
//! (chroot) but detached; a chroot can be escaped by a process with
//! CAP_SYS_CHROOT, a detached old root cannot be reached at all.

use std::os::fd::{AsFd, BorrowedFd};

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use ward_sys::mount as m;

use crate::{Context, Result};

/// Makes `root` the root of the mount namespace and detaches the old one.
pub fn pivot(root: BorrowedFd<'_>, no_pivot: bool) -> Result<()> {
    nix::unistd::fchdir(std::os::fd::AsRawFd::as_raw_fd(&root))
        .layer("pivot_root", || "entering the rootfs".into())?;
    if no_pivot {
        // --no-pivot (ramdisk roots): move the rootfs over / and chroot.
        mount(Some("."), "/", None::<&str>, MsFlags::MS_MOVE, None::<&str>)
            .layer("pivot_root", || "moving the rootfs to /".into())?;
        nix::unistd::chroot(".").layer("pivot_root", || "chroot".into())?;
    } else {
        nix::unistd::pivot_root(".", ".").layer("pivot_root", || "pivot_root".into())?;
        // The old root is now stacked under ".": make it a slave so the
        // unmount doesn't propagate to the host, then detach it.
        mount(
            None::<&str>,
            ".",
            None::<&str>,
            MsFlags::MS_SLAVE | MsFlags::MS_REC,
            None::<&str>,
        )
        .layer("pivot_root", || "making the old root a slave".into())?;
        umount2(".", MntFlags::MNT_DETACH)
            .layer("pivot_root", || "detaching the old root".into())?;
    }
    nix::unistd::chdir("/").layer("pivot_root", || "chdir /".into())
}

/// Remounts the root read-only (root.readonly), only the root mount itself,
/// as runc does: /dev, /proc and tmpfs mounts keep their own flags.
pub fn readonly_root() -> Result<()> {
    let root = std::fs::File::open("/").layer("rootfs", || "opening /".into())?;
    m::mount_setattr(root.as_fd(), false, m::MOUNT_ATTR_RDONLY, 0, 0).layer("rootfs", || {
        "making the rootfs read-only (root.readonly)".into()
    })
}

/// Applies linux.rootfsPropagation to the new root.
pub fn propagation(mode: &str) -> Result<()> {
    let (flag, rec) = match mode {
        "shared" => (libc::MS_SHARED, false),
        "rshared" => (libc::MS_SHARED, true),
        "slave" => (libc::MS_SLAVE, false),
        "rslave" => (libc::MS_SLAVE, true),
        "private" => (libc::MS_PRIVATE, false),
        "rprivate" => (libc::MS_PRIVATE, true),
        "unbindable" => (libc::MS_UNBINDABLE, false),
        "runbindable" => (libc::MS_UNBINDABLE, true),
        _ => return Ok(()),
    };
    let root = std::fs::File::open("/").layer("rootfs", || "opening /".into())?;
    m::mount_setattr(root.as_fd(), rec, 0, 0, flag)
        .layer("rootfs", || format!("linux.rootfsPropagation {mode}"))
}

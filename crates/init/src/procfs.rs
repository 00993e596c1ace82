//! Writes to procfs that nothing in the container can redirect.
//!
//! CVE-2019-16884 / CVE-2025-52881: a container config (or image volume)
//! can mount a file over a procfs entry the runtime writes — an LSM label,
//! a sysctl — and turn that write into a write to another file, including
//! host procfs files such as /proc/sys/kernel/core_pattern. ward writes
//! through the *host's* procfs (an fd taken before pivot_root, out of the
//! container's reach), resolves with no symlinks, no magic links and no
//! mount crossings, and checks that what it opened is procfs. Per-namespace
//! files (/proc/sys/net, kernel.domainname, the ipc sysctls, our own
//! /proc/PID/attr) show the writer's namespaces whatever procfs is used.

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd};

use ward_sys::fs::{
    openat2, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV,
};

use crate::{err, Context, Result};

/// Writes `value` to `rel` (relative to the procfs root `proc`).
pub fn write(proc: BorrowedFd<'_>, rel: &str, value: &str, layer: &'static str) -> Result<()> {
    std::fs::File::from(open_for_write(proc, rel, layer)?)
        .write_all(value.as_bytes())
        .layer(layer, || format!("writing {value:?} to /proc/{rel}"))
}

/// Opens `rel` (relative to the procfs root `proc`) for writing, with the
/// same checks as [`write`]: for a write that must happen after the
/// procfs handle is gone.
pub fn open_for_write(
    proc: BorrowedFd<'_>,
    rel: &str,
    layer: &'static str,
) -> Result<std::os::fd::OwnedFd> {
    let fd = openat2(
        proc,
        rel,
        libc::O_WRONLY,
        0,
        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
    )
    .layer(layer, || format!("opening /proc/{rel}"))?;
    let fs =
        nix::sys::statfs::fstatfs(fd.as_fd()).layer(layer, || format!("fstatfs /proc/{rel}"))?;
    if fs.filesystem_type() != nix::sys::statfs::PROC_SUPER_MAGIC {
        return Err(err(
            layer,
            format!("/proc/{rel} is not on procfs; refusing to write there"),
        ));
    }
    Ok(fd)
}

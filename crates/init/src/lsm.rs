//! AppArmor profiles and SELinux process labels.
//!
//! Both are set by writing to the process's attr file in procfs right
//! before execve. CVE-2019-16884: an image that mounts something over /proc
//! turned that write into a write to a plain file, so the container ran
//! unconfined. CVE-2025-52881: a bind mount inside procfs redirected it to
//! another procfs file. The init writes through the *host's* procfs (an fd
//! taken before pivot_root, which the container cannot touch); an exec'd
//! process, which must never hold anything of the host's while the
//! container can see it (issue #14), writes through the container's procfs
//! after checking that `/proc` is the root of a procfs ([`container_proc`]).
//! Either way the path is resolved with no symlinks, no magic links and no
//! mount crossings, what was opened is checked to be procfs, and the kernel
//! only lets a task write its *own* attr files: a procfs of another pid
//! namespace, where our pid names another task, fails with EACCES.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::Path;

use crate::{err, Context, Result};

/// Whether AppArmor is enabled on this host.
pub fn apparmor_enabled() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.trim() == "Y")
}

/// Whether the AppArmor profile `name` is loaded (None when the list of
/// profiles cannot be read, e.g. securityfs is not mounted). Writing
/// "exec NAME" for an unknown profile only fails at execve, after `create`
/// has reported success: the runtime checks first.
pub fn apparmor_profile_loaded(name: &str) -> Option<bool> {
    let list = std::fs::read_to_string("/sys/kernel/security/apparmor/profiles").ok()?;
    // Lines are "NAME (MODE)"; a name may contain spaces.
    Some(
        list.lines()
            .any(|l| l.rsplit_once(" (").map(|(n, _)| n) == Some(name)),
    )
}

/// Whether SELinux is enabled on this host.
pub fn selinux_enabled() -> bool {
    Path::new("/sys/fs/selinux/enforce").exists()
}

/// Whether `p` asks for an AppArmor profile or an SELinux label.
pub fn wanted(p: &ward_spec::Process) -> bool {
    let set = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
    set(&p.apparmor_profile) || set(&p.selinux_label)
}

/// The container's `/proc` (O_PATH), opened below `root` without following
/// symlinks, and checked to be the root directory of a procfs (inode 1 of a
/// PROC_SUPER_MAGIC filesystem), not a plain directory or a subdirectory of
/// procfs bind-mounted there.
pub fn container_proc(root: BorrowedFd<'_>) -> Result<OwnedFd> {
    use ward_sys::fs::{openat2, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS};
    let fd = openat2(
        root,
        "proc",
        libc::O_PATH | libc::O_DIRECTORY,
        0,
        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
    )
    .layer("lsm", || {
        "opening the container's /proc to set the process label (the label needs /proc mounted in the container)".into()
    })?;
    let fs = nix::sys::statfs::fstatfs(fd.as_fd())
        .layer("lsm", || "fstatfs of the container's /proc".into())?;
    let st = nix::sys::stat::fstat(fd.as_raw_fd())
        .layer("lsm", || "fstat of the container's /proc".into())?;
    if fs.filesystem_type() != nix::sys::statfs::PROC_SUPER_MAGIC || st.st_ino != PROC_ROOT_INO {
        return Err(err(
            "lsm",
            "the container's /proc is not the root of a procfs; refusing to write the process label there (mount proc on /proc)",
        ));
    }
    Ok(fd)
}

/// The inode number of every procfs root (fs/proc/root.c).
const PROC_ROOT_INO: u64 = 1;

/// Queues the AppArmor profile and SELinux label of `p` for the next execve.
/// `host_pid` is our pid as the procfs `proc` numbers it.
pub fn apply(proc: BorrowedFd<'_>, host_pid: i32, p: &ward_spec::Process) -> Result<()> {
    prepare(proc, host_pid, p)?.apply()
}

/// The label writes of [`apply`], with their /proc/PID/attr files already
/// open: the container init opens them while it still holds the host's
/// /proc, drops that handle before it waits for `start` (a container
/// process with CAP_SYS_PTRACE could follow /proc/1/fd/N into it and reach
/// every host process's root), and writes them at the end. An attr file
/// only accepts writes from the task it belongs to.
pub struct Queued {
    writes: Vec<(std::fs::File, String, &'static str, String)>,
}

/// Opens the attr files the labels of `p` go to (see [`Queued`]).
pub fn prepare(proc: BorrowedFd<'_>, host_pid: i32, p: &ward_spec::Process) -> Result<Queued> {
    let mut writes = Vec::new();
    if let Some(profile) = p.apparmor_profile.as_deref().filter(|s| !s.is_empty()) {
        if !apparmor_enabled() {
            return Err(err(
                "apparmor",
                "process.apparmorProfile is set but AppArmor is not enabled on this host",
            ));
        }
        // Newer kernels have a per-LSM directory; older ones only the shared file.
        let file = open_attr(proc, host_pid, "apparmor/exec", "apparmor")
            .or_else(|_| open_attr(proc, host_pid, "exec", "apparmor"))?;
        writes.push((
            file,
            format!("exec {profile}"),
            "apparmor",
            format!("process.apparmorProfile {profile:?} (is it loaded? apparmor_parser -r FILE)"),
        ));
    }
    if let Some(label) = p.selinux_label.as_deref().filter(|s| !s.is_empty()) {
        if !selinux_enabled() {
            return Err(err(
                "selinux",
                "process.selinuxLabel is set but SELinux is not enabled on this host",
            ));
        }
        writes.push((
            open_attr(proc, host_pid, "exec", "selinux")?,
            label.to_string(),
            "selinux",
            format!("process.selinuxLabel {label:?}"),
        ));
    }
    Ok(Queued { writes })
}

impl Queued {
    /// Writes the labels (the next execve applies them).
    pub fn apply(self) -> Result<()> {
        use std::io::Write;
        for (mut file, value, layer, what) in self.writes {
            file.write_all(value.as_bytes())
                .map_err(|e| err(layer, format!("{what}: writing {value:?}: {e}")))?;
        }
        Ok(())
    }
}

fn open_attr(
    proc: BorrowedFd<'_>,
    host_pid: i32,
    file: &str,
    layer: &'static str,
) -> Result<std::fs::File> {
    crate::procfs::open_for_write(proc, &format!("{host_pid}/attr/{file}"), layer)
        .map(std::fs::File::from)
}

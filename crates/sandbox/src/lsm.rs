//! AppArmor profiles and SELinux process labels.
//!
//! Both are set by writing to the process's attr file in procfs right
//! before execve. CVE-2019-16884: an image that mounts something over /proc
//! turned that write into a write to a plain file, so the container ran
//! unconfined. CVE-2025-52881: a bind mount inside procfs redirected it to
//! another procfs file. ward writes through the *host's* procfs (an fd taken
//! before pivot_root, which the container cannot touch), resolves the path
//! with no symlinks, no magic links and no mount crossings, and checks that
//! what it opened is procfs.

use std::os::fd::BorrowedFd;
use std::path::Path;

use crate::{err, Result};

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

/// Writes `value` to /proc/<pid>/attr/<file> through the host procfs `proc`.
fn write_attr(
    proc: BorrowedFd<'_>,
    host_pid: i32,
    file: &str,
    value: &str,
    layer: &'static str,
) -> Result<()> {
    crate::procfs::write(proc, &format!("{host_pid}/attr/{file}"), value, layer)
}

/// Queues the AppArmor profile and SELinux label of `p` for the next execve.
pub fn apply(proc: BorrowedFd<'_>, host_pid: i32, p: &ward_spec::Process) -> Result<()> {
    if let Some(profile) = p.apparmor_profile.as_deref().filter(|s| !s.is_empty()) {
        if !apparmor_enabled() {
            return Err(err(
                "apparmor",
                "process.apparmorProfile is set but AppArmor is not enabled on this host",
            ));
        }
        let value = format!("exec {profile}");
        // Newer kernels have a per-LSM directory; older ones only the shared file.
        write_attr(proc, host_pid, "apparmor/exec", &value, "apparmor")
            .or_else(|_| write_attr(proc, host_pid, "exec", &value, "apparmor"))
            .map_err(|e| err("apparmor", format!("process.apparmorProfile {profile:?} (is it loaded? apparmor_parser -r FILE): {}", e.msg)))?;
    }
    selinux(proc, host_pid, p)
}

fn selinux(proc: BorrowedFd<'_>, host_pid: i32, p: &ward_spec::Process) -> Result<()> {
    if let Some(label) = p.selinux_label.as_deref().filter(|s| !s.is_empty()) {
        if !selinux_enabled() {
            return Err(err(
                "selinux",
                "process.selinuxLabel is set but SELinux is not enabled on this host",
            ));
        }
        write_attr(proc, host_pid, "exec", label, "selinux")?;
    }
    Ok(())
}

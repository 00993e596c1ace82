//! Identity and limits of the container process: uid, gid, groups, umask,
//! rlimits, oom_score_adj, no_new_privs.
//!
//! Threats: a process that keeps the runtime's supplementary groups (disk,
//! docker ...) or its uid; a setuid binary in the image regaining root
//! (no_new_privs stops execve from granting privileges).

use std::io::Write;

use nix::unistd::{Gid, Uid};
use ward_spec::{Capabilities, Process};

use crate::capabilities;
use crate::{err, Context, Result};

/// Sets rlimits and the OOM score (while still privileged: raising a hard
/// limit or lowering oom_score_adj needs capabilities).
pub fn limits(p: &Process) -> Result<()> {
    for r in &p.rlimits {
        let res = ward_spec::rlimit_number(&r.kind)
            .ok_or_else(|| err("rlimits", format!("unknown rlimit {}", r.kind)))?;
        ward_sys::process::set_rlimit(res, r.soft, r.hard).layer("rlimits", || {
            format!(
                "{} soft={} hard={} (process.rlimits)",
                r.kind, r.soft, r.hard
            )
        })?;
    }
    if let Some(adj) = p.oom_score_adj {
        std::fs::OpenOptions::new()
            .write(true)
            .open("/proc/self/oom_score_adj")
            .and_then(|mut f| f.write_all(adj.to_string().as_bytes()))
            .layer("oom_score_adj", || {
                format!("writing {adj} (process.oomScoreAdj)")
            })?;
    }
    Ok(())
}

/// Bounding set, then groups/gid/uid, then the capability sets, in the only
/// order that works: dropping the bounding set needs CAP_SETPCAP, and the
/// uid change clears the sets unless KEEPCAPS is on.
///
/// `keep`: capabilities (a mask) to hold in the effective and permitted sets
/// on top of the configured ones, until execve drops them (see
/// [`capabilities::apply_sets`]); only those still permitted are kept.
pub fn become_user(p: &Process, caps: Option<&Capabilities>, keep: u64) -> Result<()> {
    capabilities::drop_bounding(caps)?;
    ward_sys::process::set_keep_caps(true).layer("user", || "PR_SET_KEEPCAPS".into())?;
    let u = &p.user;
    // In a user namespace made by an unprivileged user, setgroups(2) is
    // denied (CVE-2014-8989) and the caller's groups cannot be dropped; like
    // runc, skip it there when no group is asked for.
    if !(u.additional_gids.is_empty() && setgroups_denied()) {
        ward_sys::process::set_groups(&u.additional_gids).layer("user", || {
            format!(
                "setgroups {:?} (process.user.additionalGids)",
                u.additional_gids
            )
        })?;
    }
    let gid = Gid::from_raw(u.gid);
    nix::unistd::setresgid(gid, gid, gid)
        .layer("user", || format!("setgid {} (process.user.gid)", u.gid))?;
    let uid = Uid::from_raw(u.uid);
    nix::unistd::setresuid(uid, uid, uid)
        .layer("user", || format!("setuid {} (process.user.uid)", u.uid))?;
    ward_sys::process::set_keep_caps(false).layer("user", || "PR_SET_KEEPCAPS".into())?;
    let keep = if keep == 0 {
        0
    } else {
        // KEEPCAPS kept the permitted set through the uid change.
        let now = ward_sys::caps::get().layer("capabilities", || "capget".into())?;
        keep & now.permitted
    };
    capabilities::apply_sets(caps, keep)?;
    if let Some(mask) = u.umask {
        nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(mask));
    }
    Ok(())
}

/// Whether /proc/self/setgroups says "deny" (an unprivileged user namespace).
fn setgroups_denied() -> bool {
    std::fs::read_to_string("/proc/self/setgroups").is_ok_and(|s| s.trim() == "deny")
}

/// PR_SET_NO_NEW_PRIVS when the config asks for it.
pub fn no_new_privs(p: &Process) -> Result<()> {
    if p.no_new_privileges {
        ward_sys::process::set_no_new_privs()
            .layer("no_new_privs", || "prctl(PR_SET_NO_NEW_PRIVS)".into())?;
    }
    Ok(())
}

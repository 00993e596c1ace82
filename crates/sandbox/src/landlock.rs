//! Landlock: writes only beneath the paths the caller allows (`ward sandbox
//! --rw`, and the sandbox's own tmpfs mounts), on top of the read-only mounts.
//!
//! Threat: a file system path that is writable although the mount table says
//! otherwise — a mount ward did not foresee, a bind that a bug made writable,
//! a path reached through /proc/PID/root of a process outside. Landlock is
//! checked on every open/create/rename/unlink, independently of mounts.
//! Scopes (ABI 6) also keep the sandbox from connecting to abstract unix
//! sockets created outside it (host daemons reachable with `--net`, e.g. the
//! containerd-shim sockets of CVE-2020-15257) and from signalling processes
//! outside it.
//!
//! Applied after no_new_privs (landlock_restrict_self demands it once the
//! capabilities are gone) and before seccomp (whose profile does not list
//! the landlock syscalls). Best effort across ABI versions: the rights the
//! kernel does not know are dropped by the `landlock` crate, and the ABI in
//! force is reported by the caller (`ward_sys::landlock::abi_version`).

use landlock::{
    Access, AccessFs, CompatLevel, Compatible, PathBeneath, PathFd, Ruleset, RulesetAttr,
    RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};

use crate::{err, Context, Result};

/// The newest ABI this module asks for; older kernels get a subset.
const TARGET: ABI = ABI::V6;

/// What the sandbox may write to.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// Paths (inside the sandbox) beneath which every write right is granted.
    pub writable: Vec<String>,
    /// Also scope abstract unix sockets and signals (ABI 6).
    pub scope: bool,
    /// Let the process reopen its own stdio by path (`> /dev/stderr`,
    /// `tee /dev/stdout`) when fds 0-2 are files or terminals of the
    /// caller, which lie outside every writable path.
    pub stdio: bool,
}

/// Restricts this process (and its future children) to `rules`.
/// Errors when the kernel enforces nothing at all.
pub fn apply(rules: &Rules) -> Result<()> {
    let write = AccessFs::from_write(TARGET);
    let mut ruleset = Ruleset::default()
        .set_compatibility(CompatLevel::BestEffort)
        .handle_access(write)
        .layer("landlock", || "handling the write rights".into())?;
    if rules.scope {
        ruleset = ruleset
            .scope(Scope::from_all(TARGET))
            .layer("landlock", || "scoping abstract sockets and signals".into())?;
    }
    let mut created = ruleset
        .create()
        .layer("landlock", || "landlock_create_ruleset".into())?;
    for path in &rules.writable {
        let fd = PathFd::new(path).layer("landlock", || format!("opening {path}"))?;
        created = created
            .add_rule(PathBeneath::new(fd, write))
            .layer("landlock", || format!("allowing writes beneath {path}"))?;
    }
    if rules.stdio {
        for fd in 0..3 {
            let path = format!("/proc/self/fd/{fd}");
            let Ok(md) = std::fs::metadata(&path) else {
                continue;
            };
            let ft = std::os::unix::fs::FileTypeExt::is_char_device(&md.file_type());
            if !(md.is_file() || ft) {
                continue; // pipes and sockets are not subject to Landlock
            }
            let fd = PathFd::new(&path).layer("landlock", || format!("opening {path}"))?;
            created = created
                .add_rule(PathBeneath::new(fd, write & AccessFs::from_file(TARGET)))
                .layer("landlock", || format!("allowing writes to {path}"))?;
        }
    }
    let status = created
        .restrict_self()
        .layer("landlock", || "landlock_restrict_self".into())?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(err(
            "landlock",
            "the kernel enforced no Landlock rule (is Landlock enabled? lsm=...,landlock)",
        ));
    }
    Ok(())
}

//! Landlock, for both `ward sandbox` (writes only beneath `--rw` and the
//! sandbox's own tmpfs mounts) and `ward-oci` containers (the
//! `run.ward.landlock.*` annotations, docs/landlock.md). One implementation.
//!
//! Threat: a file system path that is reachable although the mount table
//! says otherwise — a mount nobody foresaw, a bind that a bug made
//! writable, a path reached through /proc/PID/root of a process outside —
//! and TCP ports a container should not bind or reach (ABI 4). Landlock is
//! checked on every open/create/rename/unlink/exec and bind/connect,
//! independently of mounts and capabilities. Scopes (ABI 6) also keep the
//! sandbox from connecting to abstract unix sockets created outside it
//! (host daemons reachable with `--net`, e.g. the containerd-shim sockets of
//! CVE-2020-15257) and from signalling processes outside it.
//!
//! Two steps. [`prepare`] runs while the init still reports errors to
//! `create` (after the mounts, before "ready"): it resolves every path
//! inside the container root with RESOLVE_IN_ROOT (no symlink or magic
//! link leads out) and builds the ruleset, so a missing path fails
//! `create`. [`Prepared::restrict`] runs at the very end, after the LSM
//! attributes, the exec fifo and no_new_privs (landlock_restrict_self
//! demands no_new_privs or CAP_SYS_ADMIN; without no_new_privs the pipeline
//! keeps the capabilities until right after it) and before a late seccomp
//! load. Best effort across ABI versions: file-system rights the kernel
//! does not know are dropped by the `landlock` crate; what cannot be
//! enforced at all (no Landlock, TCP rules below ABI 4) is an error unless
//! the rules are best-effort.

use std::os::fd::BorrowedFd;

use landlock::{
    Access, AccessFs, AccessNet, BitFlags, CompatLevel, Compatible, NetPort, PathBeneath, PathFd,
    Ruleset, RulesetAttr, RulesetCreated, RulesetCreatedAttr, RulesetStatus, Scope, ABI,
};
pub use ward_spec::landlock::PathAccess;

use crate::{err, Context, Result};

/// The newest ABI whose file-system rights are asked for; older kernels get
/// a subset (the `landlock` crate's best-effort mode).
const TARGET: ABI = ABI::V6;

/// Which file-system rights are denied unless a path rule grants them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsRights {
    /// Only the write rights (`ward sandbox`: reads are limited by mounts).
    Write,
    /// Every right, including read and execute (the OCI annotations).
    All,
}

/// One path and what it grants, with its origin for error messages (an
/// annotation name, `--rw`).
#[derive(Debug, Clone)]
pub struct PathRule {
    pub path: String,
    pub access: PathAccess,
    pub origin: String,
}

/// A Landlock domain to apply.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    /// File-system rights handled; `None`: the file system is not restricted.
    pub fs: Option<FsRights>,
    pub paths: Vec<PathRule>,
    /// TCP ports allowed to bind / connect; `None`: not restricted.
    pub tcp_bind: Option<Vec<u16>>,
    pub tcp_connect: Option<Vec<u16>>,
    /// Also scope abstract unix sockets and signals (ABI 6).
    pub scope: bool,
    /// Let the process reopen its own stdio by path (`> /dev/stderr`,
    /// `tee /dev/stdout`) when fds 0-2 are files or terminals of the
    /// caller, which lie outside every writable path.
    pub stdio: bool,
    /// What cannot be enforced is an error (else skipped and reported).
    pub required: bool,
}

impl Rules {
    /// The rules of the `run.ward.landlock.*` annotations.
    pub fn from_spec(l: &ward_spec::landlock::Landlock) -> Rules {
        Rules {
            fs: l.fs.then_some(FsRights::All),
            paths: l
                .paths
                .iter()
                .map(|p| PathRule {
                    path: p.path.clone(),
                    access: p.access,
                    origin: p.annotation.to_string(),
                })
                .collect(),
            tcp_bind: l.tcp_bind.clone(),
            tcp_connect: l.tcp_connect.clone(),
            scope: false,
            stdio: false,
            required: l.required,
        }
    }

    fn wants_net(&self) -> bool {
        self.tcp_bind.is_some() || self.tcp_connect.is_some()
    }

    /// Checks what this kernel (Landlock ABI `abi`) can enforce, in the
    /// parent, before anything exists: with `required`, missing support is
    /// an error naming what was asked for. Returns a one-line report of
    /// what will be applied (for `--debug`).
    pub fn check(&self, abi: u32) -> Result<String> {
        if abi == 0 {
            if self.required {
                return Err(err(
                    "landlock",
                    "run.ward.landlock.*: Landlock is not enabled on this kernel (lsm=...,landlock); \
                     remove the annotations or set run.ward.landlock.mode=best-effort",
                ));
            }
            return Ok("not available on this kernel: skipped (best-effort)".into());
        }
        if abi < 4 && self.wants_net() && self.required {
            return Err(err(
                "landlock",
                format!(
                    "run.ward.landlock.tcp-bind/tcp-connect: TCP rules need Landlock ABI 4 (Linux 6.7), \
                     this kernel has ABI {abi}; remove them or set run.ward.landlock.mode=best-effort"
                ),
            ));
        }
        let mut parts = vec![format!("ABI {abi}")];
        if let Some(fs) = self.fs {
            let mut by: Vec<String> = Vec::new();
            for (access, name) in [
                (PathAccess::ReadOnly, "read-only"),
                (PathAccess::ReadExec, "read-exec"),
                (PathAccess::ReadWrite, "read-write"),
            ] {
                let list: Vec<&str> = self
                    .paths
                    .iter()
                    .filter(|p| p.access == access)
                    .map(|p| p.path.as_str())
                    .collect();
                if !list.is_empty() {
                    by.push(format!("{name} {}", list.join(",")));
                }
            }
            let what = match fs {
                FsRights::Write => "writes",
                FsRights::All => "file access",
            };
            parts.push(format!(
                "{what} only beneath: {}",
                if by.is_empty() {
                    "nothing".into()
                } else {
                    by.join("; ")
                }
            ));
        }
        for (name, ports) in [("bind", &self.tcp_bind), ("connect", &self.tcp_connect)] {
            if let Some(ports) = ports {
                if abi < 4 {
                    parts.push(format!("tcp {name}: skipped (needs ABI 4)"));
                } else {
                    let list: Vec<String> = ports.iter().map(u16::to_string).collect();
                    parts.push(format!(
                        "tcp {name} only to ports: {}",
                        if list.is_empty() {
                            "none".into()
                        } else {
                            list.join(",")
                        }
                    ));
                }
            }
        }
        if self.scope {
            parts.push(if abi >= 6 {
                "abstract unix sockets and signals scoped".into()
            } else {
                "scopes skipped (need ABI 6)".into()
            });
        }
        parts.push(
            if self.required {
                "mode required"
            } else {
                "mode best-effort"
            }
            .into(),
        );
        Ok(parts.join("; "))
    }
}

fn grant(access: PathAccess) -> BitFlags<AccessFs> {
    match access {
        PathAccess::ReadOnly => AccessFs::ReadFile | AccessFs::ReadDir,
        PathAccess::ReadExec => AccessFs::ReadFile | AccessFs::ReadDir | AccessFs::Execute,
        PathAccess::ReadWrite => AccessFs::from_all(TARGET) & !AccessFs::Execute,
    }
}

/// A ruleset built in the container, waiting to be enforced.
pub struct Prepared {
    ruleset: RulesetCreated,
    required: bool,
}

/// Builds the ruleset of `rules`, resolving every path inside `root`
/// (RESOLVE_IN_ROOT: symlinks stay in the container, no magic links).
/// `None` when the kernel has no Landlock and the rules are best-effort.
pub fn prepare(root: BorrowedFd<'_>, rules: &Rules) -> Result<Option<Prepared>> {
    let abi = ward_sys::landlock::abi_version();
    rules.check(abi)?;
    if abi == 0 {
        return Ok(None);
    }
    let handled = match rules.fs {
        Some(FsRights::Write) => AccessFs::from_write(TARGET),
        Some(FsRights::All) => AccessFs::from_all(TARGET),
        None => BitFlags::EMPTY,
    };
    let mut ruleset = Ruleset::default().set_compatibility(CompatLevel::BestEffort);
    if !handled.is_empty() {
        ruleset = ruleset
            .handle_access(handled)
            .layer("landlock", || "handling the file-system rights".into())?;
    }
    let net = abi >= 4;
    let mut net_handled = BitFlags::<AccessNet>::EMPTY;
    if net && rules.tcp_bind.is_some() {
        net_handled |= AccessNet::BindTcp;
    }
    if net && rules.tcp_connect.is_some() {
        net_handled |= AccessNet::ConnectTcp;
    }
    if !net_handled.is_empty() {
        ruleset = ruleset
            .handle_access(net_handled)
            .layer("landlock", || "handling TCP bind/connect".into())?;
    }
    if rules.scope {
        ruleset = ruleset
            .scope(Scope::from_all(TARGET))
            .layer("landlock", || "scoping abstract sockets and signals".into())?;
    }
    // no_new_privs is the config's business (pipeline.rs), not Landlock's.
    let mut created = ruleset
        .create()
        .layer("landlock", || "landlock_create_ruleset".into())?
        .no_new_privs(false);
    for rule in &rules.paths {
        let fd = crate::rootfs::open_in(root, &rule.path).map_err(|e| {
            err(
                "landlock",
                format!(
                    "{}: {}: {e} (the path must exist in the container; remove it or create it in the image)",
                    rule.origin, rule.path
                ),
            )
        })?;
        created = created
            .add_rule(PathBeneath::new(fd, grant(rule.access) & handled))
            .layer("landlock", || {
                format!("{}: allowing {}", rule.origin, rule.path)
            })?;
    }
    if net {
        for (ports, access) in [
            (&rules.tcp_bind, AccessNet::BindTcp),
            (&rules.tcp_connect, AccessNet::ConnectTcp),
        ] {
            for port in ports.iter().flatten() {
                created = created
                    .add_rule(NetPort::new(*port, access))
                    .layer("landlock", || format!("allowing TCP port {port}"))?;
            }
        }
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
            // Deliberately through the magic link: it names the caller's
            // own stdio, which it handed to the sandbox.
            let fd = PathFd::new(&path).layer("landlock", || format!("opening {path}"))?;
            created = created
                .add_rule(PathBeneath::new(fd, handled & AccessFs::from_file(TARGET)))
                .layer("landlock", || format!("allowing writes to {path}"))?;
        }
    }
    Ok(Some(Prepared {
        ruleset: created,
        required: rules.required,
    }))
}

impl Prepared {
    /// Enforces the ruleset on this process (and its future children).
    pub fn restrict(self) -> Result<()> {
        let status = self
            .ruleset
            .restrict_self()
            .layer("landlock", || "landlock_restrict_self".into())?;
        if status.ruleset == RulesetStatus::NotEnforced && self.required {
            return Err(err(
                "landlock",
                "the kernel enforced no Landlock rule (is Landlock enabled? lsm=...,landlock)",
            ));
        }
        Ok(())
    }
}

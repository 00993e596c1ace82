//! The planner: one small function per layer, each returning its part of
//! the config together with what `ward sandbox --explain` says about it
//! ([`Explained`]); [`plan`] only puts the parts together, in the order the
//! report lists them.

use ward_init::extras::{Extras, Reaper};
use ward_runtime::lifecycle::CgroupPolicy;
use ward_spec::resources::{LinuxCpu, LinuxMemory, LinuxPids, LinuxResources};
use ward_spec::seccomp::LinuxSeccomp;
use ward_spec::{
    Capabilities, IdMapping, Linux, Namespace, NamespaceType, Process, Rlimit, Root, Spec, User,
};

use crate::explain::Explained;
use crate::filesystem;
use crate::{
    learning_profile, msg, seccomp_profile, Host, Options, Plan, DEFAULT_PIDS, ENV_ALLOWLIST,
    ROOT_CALLER_HOST_ID,
};

type Result<T> = std::result::Result<T, ward_runtime::Error>;

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Turns the flags into a spec, the sandbox-only layers and the report.
pub fn plan(o: &Options, host: &Host) -> Result<Plan> {
    if !matches!(o.command.first(), Some(a) if !a.is_empty()) {
        return Err(msg(
            "no command given: ward sandbox [FLAGS] -- CMD [ARGS...]",
        ));
    }
    let mut report = Explained::new(());
    let namespaces = report.absorb(namespaces(o.net));
    let identity = report.absorb(identity(o, host));
    let fs = report.absorb(filesystem::plan(o, host, identity.remap)?);
    let env = report.absorb(environment(o, host)?);
    let capabilities = report.absorb(privileges());
    let (seccomp, default_seccomp) = report.absorb(seccomp(o)?);
    let landlock = report.absorb(landlock(host.landlock_abi, &fs.writable));
    let limits = report.absorb(resources(o)?);
    report.absorb(process(o));
    let remap = identity.remap;
    let map = |container_id, host_id| {
        vec![IdMapping {
            container_id,
            host_id,
            size: 1,
        }]
    };
    let spec = Spec {
        oci_version: "1.2.0".into(),
        process: Some(Process {
            terminal: o.tty,
            user: User {
                uid: host.uid,
                gid: host.gid,
                ..User::default()
            },
            args: o.command.clone(),
            env,
            cwd: fs.cwd,
            capabilities: Some(capabilities),
            rlimits: limits.rlimits,
            no_new_privileges: true,
            ..Process::default()
        }),
        root: Some(Root {
            path: "/".into(),
            readonly: true,
        }),
        hostname: Some("sandbox".into()),
        mounts: fs.mounts,
        linux: Some(Linux {
            uid_mappings: map(host.uid, identity.host_uid),
            gid_mappings: map(host.gid, identity.host_gid),
            resources: Some(limits.resources),
            namespaces: namespaces
                .into_iter()
                .map(|kind| Namespace { kind, path: None })
                .collect(),
            seccomp: Some(seccomp),
            masked_paths: fs.masked,
            readonly_paths: fs.readonly,
            ..Linux::default()
        }),
        ..Spec::default()
    };
    Ok(Plan {
        spec,
        extras: Extras {
            rootfs_recursive_readonly: true,
            // Remapped, the init becomes uid 0 of its namespace (the
            // host's nobody) before it mounts: its tmpfs are then the
            // sandbox root's (the host's root is not in the maps).
            keep_ids: !remap,
            keep_death_signal: true,
            reaper: Some(Reaper { timeout: o.timeout }),
            join_cgroup_during_setup: true,
        },
        landlock,
        cgroups: limits.policy,
        layers: report.layers,
        notes: report.notes,
        default_seccomp,
        remapped_to: remap.then_some(ROOT_CALLER_HOST_ID),
    })
}

/// Every namespace but the network's, which `--net` shares.
fn namespaces(net: bool) -> Explained<Vec<NamespaceType>> {
    let mut namespaces = vec![
        NamespaceType::User,
        NamespaceType::Pid,
        NamespaceType::Mount,
        NamespaceType::Ipc,
        NamespaceType::Uts,
        NamespaceType::Cgroup,
        NamespaceType::Time,
    ];
    if !net {
        namespaces.push(NamespaceType::Network);
    }
    let names: Vec<&str> = namespaces.iter().map(|n| n.oci_name()).collect();
    let out = Explained::new(()).layer(
        "namespaces",
        format!("new {}", names.join(", ")),
        "the command sees no host process, IPC object, hostname, cgroup tree or clock to change",
    );
    let out = if net {
        out.layer(
            "network",
            "host network shared (--net)".into(),
            "opt-in: the command can reach the network and the host's loopback services",
        )
    } else {
        out.layer(
            "network",
            "new network namespace with only lo (down)".into(),
            "no exfiltration, no access to services listening on the host, not even on 127.0.0.1",
        )
    };
    out.with(namespaces)
}

/// Who the command is on the host.
struct Identity {
    /// Root's sandbox is the host's nobody ([`ROOT_CALLER_HOST_ID`]).
    remap: bool,
    /// The host uid and gid the sandbox's ids map to.
    host_uid: u32,
    host_gid: u32,
}

/// Root's sandbox is the host's nobody, seen as root inside (see
/// [`ROOT_CALLER_HOST_ID`]); the binds asked for are id-mapped so that what
/// root owns there stays the sandbox's to read and write. Anyone else
/// stays who they are.
fn identity(o: &Options, host: &Host) -> Explained<Identity> {
    let remap = host.uid == 0 && !o.keep_root;
    if remap {
        return Explained::new(Identity {
            remap,
            host_uid: ROOT_CALLER_HOST_ID,
            host_gid: ROOT_CALLER_HOST_ID,
        })
        .layer(
            "user",
            format!("uid and gid 0 inside are the host's {ROOT_CALLER_HOST_ID} (nobody/nogroup), no supplementary groups; --rw/--ro paths id-mapped: what the host's root owns there is the sandbox's root's"),
            "files only root may read (private keys, ward's audit log, 0600 files) stay closed by their permissions; --keep-root to run as the host's root",
        );
    }
    Explained::new(Identity {
        remap,
        host_uid: host.uid,
        host_gid: host.gid,
    })
    .layer(
        "user",
        format!(
            "uid {0} and gid {1} mapped to themselves (one-line maps), {2}",
            host.uid,
            host.gid,
            if host.uid == 0 {
                "no supplementary groups (--keep-root)"
            } else {
                "supplementary groups kept but unmapped (setgroups is denied in an unprivileged user namespace)"
            }
        ),
        "the command stays who it was, with no privilege over the host's ids",
    )
}

/// A cleared environment: [`ENV_ALLOWLIST`], `LC_*`, `--keep-env` and `--env`.
fn environment(o: &Options, host: &Host) -> Result<Explained<Vec<String>>> {
    let mut env: Vec<String> = Vec::new();
    let mut notes = Vec::new();
    let set = |k: &str, v: &str, env: &mut Vec<String>| {
        env.retain(|e| e.split_once('=').map(|(ek, _)| ek) != Some(k));
        env.push(format!("{k}={v}"));
    };
    for (k, v) in &host.env {
        if ENV_ALLOWLIST.contains(&k.as_str()) || k.starts_with("LC_") {
            set(k, v, &mut env);
        }
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        set("PATH", DEFAULT_PATH, &mut env);
    }
    for k in &o.keep_env {
        if k.is_empty() || k.contains('=') {
            return Err(msg(format!(
                "--keep-env {k:?}: give a variable name (use --env K=V to set a value)"
            )));
        }
        match host.env.iter().find(|(hk, _)| hk == k) {
            Some((_, v)) => set(k, v, &mut env),
            None => notes.push(format!(
                "--keep-env {k}: not set in the caller's environment"
            )),
        }
    }
    for kv in &o.env {
        match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() && !kv.contains('\0') => set(k, v, &mut env),
            _ => {
                return Err(msg(format!(
                    "--env {kv:?}: expected KEY=VALUE (e.g. --env DEBUG=1)"
                )))
            }
        }
    }
    let names: Vec<&str> = env.iter().filter_map(|e| e.split('=').next()).collect();
    let mut out = Explained::new(()).layer(
        "env",
        format!("cleared, kept: {}", names.join(" ")),
        "tokens and credentials in the caller's environment (AWS_*, GITHUB_TOKEN, SSH_AUTH_SOCK) stay out",
    );
    for n in notes {
        out = out.note(n);
    }
    Ok(out.with(env))
}

/// No capability in any set, and no_new_privs.
fn privileges() -> Explained<Capabilities> {
    let empty = Some(Vec::new());
    Explained::new(Capabilities {
        bounding: empty.clone(),
        effective: empty.clone(),
        inheritable: empty.clone(),
        permitted: empty.clone(),
        ambient: empty,
    })
    .layer(
        "capabilities",
        "none: bounding, permitted, effective, inheritable and ambient sets empty".into(),
        "no privileged operation, even inside the sandbox's own namespaces",
    )
    .layer(
        "no_new_privs",
        "set".into(),
        "setuid/setgid binaries and file capabilities grant nothing",
    )
}

/// The filter: `--seccomp`'s profile, the learning one, or ward's default
/// (second value: the default, which bins/ward has precompiled).
fn seccomp(o: &Options) -> Result<Explained<(LinuxSeccomp, bool)>> {
    Ok(match (&o.seccomp, o.learn) {
        (Some(_), true) => return Err(msg(
            "--learn and --seccomp: learn with the default profile, then run with --seccomp FILE",
        )),
        (Some(p), false) => {
            crate::run::check_given_profile(p)?;
            Explained::new((p.clone(), false)).layer(
                "seccomp",
                format!(
                    "the profile given with --seccomp ({} rules, default {:?})",
                    p.syscalls.len(),
                    p.default_action
                ),
                "only the syscalls the profile allows",
            )
        }
        (None, true) => Explained::new((learning_profile(&seccomp_profile()), false)).layer(
            "seccomp",
            "ward's default profile, its allowed syscalls reported to ward as they are made (SCMP_ACT_NOTIFY, then CONTINUE)".into(),
            "learning only: CONTINUE lets the syscall run as if allowed",
        ),
        (None, false) => {
            let p = seccomp_profile();
            let rules = p.syscalls.len();
            Explained::new((p, true)).layer(
                "seccomp",
                format!(
                    "ward's default profile ({rules} rules, default EPERM), native ABI only (no 32-bit syscalls), TIOCSTI/TIOCLINUX denied"
                ),
                "no mount, unshare, setns, ptrace, bpf, keyctl, io_uring...; no typing into the caller's terminal",
            )
        }
    })
}

/// Landlock (when the kernel has it): writes only beneath `writable`.
fn landlock(abi: u32, writable: &[String]) -> Explained<Option<ward_init::landlock::Rules>> {
    use ward_init::landlock::{FsRights, PathAccess, PathRule, Rules};
    if abi == 0 {
        return Explained::new(None).note(
            "Landlock is not available on this kernel: writes are limited by the read-only mounts only".into(),
        );
    }
    Explained::new(Some(Rules {
        fs: Some(FsRights::Write),
        paths: writable
            .iter()
            .map(|w| PathRule {
                path: w.clone(),
                access: PathAccess::ReadWrite,
                origin: "writable path".into(),
            })
            .collect(),
        scope: true,
        stdio: true,
        required: true,
        ..Default::default()
    }))
    .layer(
        "landlock",
        format!(
            "ABI {abi} (requested up to 6): writes only beneath {}{}",
            writable.join(", "),
            if abi >= 6 {
                "; abstract unix sockets and signals scoped to the sandbox"
            } else {
                ""
            }
        ),
        "a second, mount-independent wall around the writable paths",
    )
}

/// Cgroup limits and the RLIMIT_NPROC that backs the pids limit.
struct Limits {
    resources: LinuxResources,
    rlimits: Vec<Rlimit>,
    policy: CgroupPolicy,
}

/// `--pids` (default [`DEFAULT_PIDS`]), `--memory`, `--cpus`.
fn resources(o: &Options) -> Result<Explained<Limits>> {
    let pids = o.pids.unwrap_or(DEFAULT_PIDS);
    if pids < 0 {
        return Err(msg(format!(
            "--pids {pids}: give a positive number (0 = no limit)"
        )));
    }
    let mut r = LinuxResources::default();
    let mut limits = Vec::new();
    let mut rlimits = Vec::new();
    if pids > 0 {
        r.pids = Some(LinuxPids { limit: Some(pids) });
        limits.push(format!("pids.max={pids}"));
        rlimits.push(Rlimit {
            kind: "RLIMIT_NPROC".into(),
            hard: pids as u64,
            soft: pids as u64,
        });
    }
    if let Some(m) = o.memory {
        r.memory = Some(LinuxMemory {
            limit: Some(m),
            ..LinuxMemory::default()
        });
        limits.push(format!("memory={m} bytes"));
    }
    if let Some(c) = o.cpus {
        if !(c.is_finite() && c > 0.0) {
            return Err(msg(format!(
                "--cpus {c}: give a positive number (e.g. 0.5, 2)"
            )));
        }
        let period = 100_000u64;
        r.cpu = Some(LinuxCpu {
            quota: Some((c * period as f64).round().max(1000.0) as i64),
            period: Some(period),
            ..LinuxCpu::default()
        });
        limits.push(format!("cpu={c}"));
    }
    let policy = if o.require_limits {
        CgroupPolicy::Required
    } else {
        CgroupPolicy::BestEffort
    };
    let mut out = Explained::new(()).layer(
        "cgroups",
        format!(
            "{} ({})",
            limits.join(", "),
            if o.require_limits {
                "required"
            } else {
                "best effort: a note says when they cannot be applied"
            }
        ),
        "a fork bomb or a memory hog stops at the sandbox, not at the host",
    );
    if pids > 0 {
        out = out.layer(
            "rlimits",
            format!("RLIMIT_NPROC={pids}"),
            "counted per user namespace: stops fork bombs even where cgroups are not delegated",
        );
    }
    Ok(out.with(Limits {
        resources: r,
        rlimits,
        policy,
    }))
}

/// The command under a reaper, its stdio, its death with ward.
fn process(o: &Options) -> Explained<()> {
    Explained::new(()).layer(
        "process",
        format!(
            "runs as pid 2 under a pid-1 reaper that forwards signals{}; dies with ward (PR_SET_PDEATHSIG); stdio {}",
            o.timeout
                .map(|t| format!(", kills everything after --timeout {}s (exit 124)", t.as_secs_f64()))
                .unwrap_or_default(),
            if o.tty {
                "on a new pty proxied by ward"
            } else {
                "inherited, fds 3+ closed"
            }
        ),
        "Ctrl-C and kill reach the command; nothing outlives the sandbox",
    )
}

//! The rules: one table (id, CIS Docker Benchmark v1.6.0 section 5 item,
//! severity, default mode, why, fix) and one function that finds every
//! rule a config trips. `ward-oci` decides with it (modes) and `ward audit`
//! reports with it (severities): one implementation.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use ward_spec::resources::DeviceType;
use ward_spec::seccomp::Action;
use ward_spec::{NamespaceType, Spec};

/// What the policy does when a rule trips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Refuse the action.
    Enforce,
    /// Allow it, log a warning and record the rule in the audit log.
    Warn,
    /// Ignore the rule.
    Off,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Off => "off",
        }
    }
}

/// How bad a finding is (`ward audit --fail-on`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Info,
        Severity::Low,
        Severity::Medium,
        Severity::High,
        Severity::Critical,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s))
    }
}

/// Which lifecycle action a rule concerns: a create (or run) sees every
/// rule; an exec only the rules of the process; an update only those of the
/// resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Container,
    Process,
    Resources,
}

/// One rule of the table.
#[derive(Debug)]
pub struct Rule {
    /// Stable id (policy files, audit log, messages).
    pub id: &'static str,
    /// CIS Docker Benchmark v1.6.0 items (section 5).
    pub cis: &'static [&'static str],
    pub severity: Severity,
    pub default_mode: Mode,
    pub scope: Scope,
    /// One line: what is wrong.
    pub title: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix the config.
    pub fix: &'static str,
}

use Mode::{Enforce, Off, Warn};
use Scope::{Container, Process, Resources};
use Severity::{Critical, High, Low, Medium};

/// Every rule, in report order.
pub const RULES: &[Rule] = &[
    Rule {
        id: "privileged",
        cis: &["5.4", "5.5"],
        severity: Critical,
        default_mode: Enforce,
        scope: Process,
        title: "the process holds (nearly) every capability: a privileged container",
        why: "with every capability, root in the container is root on the host: it can load kernel modules, mount the host's disks, write /proc/sys and escape",
        fix: "drop all capabilities and add back only the ones the workload needs (docker run --cap-drop ALL --cap-add ...; never --privileged)",
    },
    Rule {
        id: "caps.host-kernel",
        cis: &["5.4"],
        severity: Critical,
        default_mode: Enforce,
        scope: Process,
        title: "CAP_SYS_MODULE, CAP_SYS_RAWIO or CAP_SYS_BOOT without a user namespace",
        why: "these capabilities act on the host kernel itself (load a module, raw port and memory I/O, kexec a new kernel): no container boundary survives them",
        fix: "remove the capability; a workload that needs it is host software, not a container",
    },
    Rule {
        id: "seccomp.unconfined-sys-admin",
        cis: &["5.22", "5.4"],
        severity: Critical,
        default_mode: Enforce,
        scope: Process,
        title: "CAP_SYS_ADMIN without a user namespace, with a seccomp filter that lets its escape syscalls through",
        why: "CAP_SYS_ADMIN allows mount, bpf, keyctl, unshare, setns, open_by_handle_at and hundreds of ioctls; unless the filter denies every one of them, nothing narrows it (CVE-2022-0492 release_agent, cgroup and device escapes)",
        fix: "drop CAP_SYS_ADMIN (prefer a narrower capability), give the container a user namespace, or use a seccomp profile that denies mount, umount2, unshare, setns, pivot_root, bpf, keyctl, add_key, open_by_handle_at and the new mount API (Docker's default profile does not: with CAP_SYS_ADMIN it allows them)",
    },
    Rule {
        id: "seccomp.missing",
        cis: &["5.22"],
        severity: High,
        default_mode: Warn,
        scope: Container,
        title: "no seccomp profile (linux.seccomp absent or allowing everything)",
        why: "every syscall of the kernel is reachable from the container; most kernel escapes go through syscalls no container needs",
        fix: "use ward's or Docker's default profile (do not pass --security-opt seccomp=unconfined)",
    },
    Rule {
        id: "lsm.unconfined",
        cis: &["5.2", "5.3"],
        severity: Medium,
        default_mode: Warn,
        scope: Process,
        title: "the host has an LSM but the process is unconfined",
        why: "AppArmor/SELinux confine what root in the container may touch even after another layer fails",
        fix: "set process.apparmorProfile (docker-default) or process.selinuxLabel",
    },
    Rule {
        id: "namespace.host-pid-ptrace",
        cis: &["5.16", "5.4"],
        severity: Critical,
        default_mode: Enforce,
        scope: Container,
        title: "the host's pid namespace together with CAP_SYS_PTRACE, without a user namespace",
        why: "the container can ptrace any host process, including pid 1, and run code as host root",
        fix: "drop CAP_SYS_PTRACE or give the container its own pid namespace",
    },
    Rule {
        id: "namespace.host-pid",
        cis: &["5.16"],
        severity: High,
        default_mode: Warn,
        scope: Container,
        title: "the container shares the host's pid namespace",
        why: "it sees every host process, their command lines and environments, and (as root with CAP_KILL) can signal them",
        fix: "remove --pid=host (give linux.namespaces a \"pid\" entry without a path)",
    },
    Rule {
        id: "namespace.host-net",
        cis: &["5.10"],
        severity: High,
        default_mode: Warn,
        scope: Container,
        title: "the container shares the host's network namespace",
        why: "it can bind any host port, reach services listening on 127.0.0.1 and abstract sockets (the containerd shim's API, CVE-2020-15257) and sniff traffic with CAP_NET_RAW",
        fix: "remove --network=host (give linux.namespaces a \"network\" entry without a path)",
    },
    Rule {
        id: "namespace.host-ipc",
        cis: &["5.17"],
        severity: Medium,
        default_mode: Warn,
        scope: Container,
        title: "the container shares the host's IPC namespace",
        why: "it can read and write the host's System V shared memory and message queues",
        fix: "remove --ipc=host (give linux.namespaces an \"ipc\" entry without a path)",
    },
    Rule {
        id: "namespace.host-uts",
        cis: &["5.21"],
        severity: Low,
        default_mode: Warn,
        scope: Container,
        title: "the container shares the host's UTS namespace",
        why: "with CAP_SYS_ADMIN it can change the host's hostname",
        fix: "remove --uts=host (give linux.namespaces a \"uts\" entry without a path)",
    },
    Rule {
        id: "namespace.host-user",
        cis: &["5.31"],
        severity: Medium,
        default_mode: Warn,
        scope: Container,
        title: "no user namespace: uid 0 in the container is uid 0 on the host",
        why: "any escape (a kernel bug, a runtime bug, a mount mistake) lands as real root",
        fix: "add a \"user\" namespace with uidMappings/gidMappings (dockerd --userns-remap=default; ward-oci spec does it)",
    },
    Rule {
        id: "namespace.host-cgroup",
        cis: &["5.25"],
        severity: Low,
        default_mode: Warn,
        scope: Container,
        title: "the container shares the host's cgroup namespace",
        why: "it sees the host's cgroup tree and its own place in it (/proc/self/cgroup), which helps an attacker aim at cgroup escapes",
        fix: "add a \"cgroup\" namespace (docker run --cgroupns=private)",
    },
    Rule {
        id: "cgroup.root",
        cis: &["5.25"],
        severity: Medium,
        default_mode: Warn,
        scope: Container,
        title: "linux.cgroupsPath is the root cgroup",
        why: "limits cannot apply to the root cgroup: the container escapes its resource accounting and shares it with the host",
        fix: "leave linux.cgroupsPath unset or name a cgroup of its own",
    },
    Rule {
        id: "mount.sensitive-host-path",
        cis: &["5.6"],
        severity: Critical,
        default_mode: Enforce,
        scope: Container,
        title: "a bind mount exposes a sensitive host directory",
        why: "the host's /, /etc, /proc, /sys, /boot, /dev, /usr, /lib or a container runtime's state give root in the container a direct way to change the host (write /etc/shadow, a cron job, core_pattern, the kernel image, another container's rootfs)",
        fix: "mount only the application's own directories; if a monitoring agent really needs one, list the path in [mounts] allow of the policy",
    },
    Rule {
        id: "mount.runtime-socket",
        cis: &["5.32"],
        severity: Critical,
        default_mode: Enforce,
        scope: Container,
        title: "a bind mount exposes a container engine's API socket",
        why: "whoever reaches the docker/containerd/podman socket can start a privileged container with the host's / mounted: host root (a read-only mount does not help: connecting needs no write)",
        fix: "do not mount the socket; use a narrowly scoped API proxy, or list the path in [mounts] allow of the policy",
    },
    Rule {
        id: "mount.propagation-shared",
        cis: &["5.20"],
        severity: Medium,
        default_mode: Warn,
        scope: Container,
        title: "a mount (or the rootfs) uses shared propagation",
        why: "mounts made in the container propagate to the host",
        fix: "use private or slave propagation (drop shared/rshared)",
    },
    Rule {
        id: "device.all",
        cis: &["5.18", "5.5"],
        severity: Critical,
        default_mode: Enforce,
        scope: Resources,
        title: "the device cgroup allows reading or writing every device",
        why: "with mknod (CAP_MKNOD is a Docker default) the container can open the host's disks and memory devices",
        fix: "keep the default deny rule (linux.resources.devices [{\"allow\": false, \"access\": \"rwm\"}]) and allow single devices only",
    },
    Rule {
        id: "device.host",
        cis: &["5.18"],
        severity: Medium,
        default_mode: Warn,
        scope: Resources,
        title: "a host device is passed into the container",
        why: "a device node is a direct line to a kernel driver; disks, /dev/mem or GPU drivers are far larger attack surface than syscalls",
        fix: "pass only the devices the workload needs, read-only where possible (docker run --device /dev/x:/dev/x:r)",
    },
    Rule {
        id: "sysctl.unsafe",
        cis: &[],
        severity: High,
        default_mode: Enforce,
        scope: Container,
        title: "a sysctl that is not namespaced (or whose namespace is the host's)",
        why: "the write would change the host's kernel settings, not the container's",
        fix: "set only namespaced sysctls (kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.* with an ipc namespace, net.* with a network namespace)",
    },
    Rule {
        id: "hooks.host-command",
        cis: &[],
        severity: High,
        default_mode: Warn,
        scope: Container,
        title: "the config runs hooks: host programs, with the runtime's rights, outside every container layer",
        why: "a prestart, createRuntime, poststart or poststop hook runs on the host as root with no namespace, capability, seccomp or LSM limit (an attacker's review ran /bin/sh on the host through createRuntime and poststop); only the engine that starts the runtime should add them",
        fix: "remove the hooks, or list their programs in [hooks] allow of the policy (dockerd's own libnetwork hook and the NVIDIA container hook are allowed by default)",
    },
    Rule {
        id: "caps.added",
        cis: &["5.4"],
        severity: Medium,
        default_mode: Warn,
        scope: Process,
        title: "capabilities beyond the allowlist (Docker's 14 defaults)",
        why: "every added capability is kernel attack surface the default container does not expose",
        fix: "remove the --cap-add, or add the capability to [capabilities] allow of the policy",
    },
    Rule {
        id: "user.root",
        cis: &[],
        severity: Medium,
        default_mode: Warn,
        scope: Process,
        title: "the process runs as uid 0 without a user namespace",
        why: "root in the container is root on the host as far as files, signals and the kernel's checks go; one escape is enough",
        fix: "run as a non-root user (USER in the image, docker run --user) or in a user namespace",
    },
    Rule {
        id: "rootfs.writable",
        cis: &["5.13"],
        severity: Low,
        default_mode: Warn,
        scope: Container,
        title: "the root filesystem is writable",
        why: "an attacker can replace binaries and libraries of the container and persist",
        fix: "set root.readonly (docker run --read-only, with tmpfs for the paths that must be writable)",
    },
    Rule {
        id: "no-new-privileges",
        cis: &["5.26"],
        severity: Medium,
        default_mode: Warn,
        scope: Process,
        title: "process.noNewPrivileges is not set",
        why: "setuid and file-capability binaries in the image can raise privileges again",
        fix: "set process.noNewPrivileges (docker run --security-opt no-new-privileges)",
    },
    Rule {
        id: "paths.unmasked",
        cis: &[],
        severity: Medium,
        default_mode: Warn,
        scope: Container,
        title: "kernel interfaces under /proc and /sys are not masked or read-only",
        why: "/proc/kcore, /proc/keys, /proc/sys, /proc/sysrq-trigger and /sys/firmware leak host secrets or change the host",
        fix: "keep Docker's linux.maskedPaths and linux.readonlyPaths (do not pass --security-opt systempaths=unconfined)",
    },
    Rule {
        id: "limits.memory",
        cis: &["5.11"],
        severity: Medium,
        default_mode: Off,
        scope: Resources,
        title: "no memory limit",
        why: "one container can exhaust the host's memory and trigger the OOM killer on other workloads",
        fix: "set linux.resources.memory.limit (docker run --memory)",
    },
    Rule {
        id: "limits.cpu",
        cis: &["5.12"],
        severity: Low,
        default_mode: Off,
        scope: Resources,
        title: "no CPU share, quota or cpuset",
        why: "one container can starve the others of CPU",
        fix: "set linux.resources.cpu shares or quota (docker run --cpu-shares / --cpus)",
    },
    Rule {
        id: "limits.pids",
        cis: &["5.29"],
        severity: Medium,
        default_mode: Off,
        scope: Resources,
        title: "no pids limit",
        why: "a fork bomb in the container exhausts the host's pid space",
        fix: "set linux.resources.pids.limit (docker run --pids-limit)",
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

/// Docker's 14 default capabilities (moby `caps.DefaultCapabilities`).
pub use ward_spec::caps::DOCKER_DEFAULT as DOCKER_DEFAULT_CAPS;

use crate::mounts::covers;
pub use crate::mounts::{normalize, sensitive_paths, ObjectKind, Source};

/// Container engines' API sockets (CIS 5.32), and the init system's: the
/// system D-Bus and systemd's private socket start host services as root.
pub const RUNTIME_SOCKETS: [&str; 8] = [
    "/run/docker.sock",
    "/var/run/docker.sock",
    "/run/containerd/containerd.sock",
    "/run/podman/podman.sock",
    "/run/crio/crio.sock",
    "/run/buildkit/buildkitd.sock",
    "/run/dbus/system_bus_socket",
    "/run/systemd/private",
];

/// File names of those sockets, matched wherever a bind source puts them:
/// an engine's API is host root whatever path it listens on (`dockerd -H
/// unix:///srv/docker.sock`, rootless Docker's `$XDG_RUNTIME_DIR/docker.sock`,
/// rootless Podman's `.../podman/podman.sock`).
pub const RUNTIME_SOCKET_NAMES: [&str; 5] = [
    "docker.sock",
    "containerd.sock",
    "podman.sock",
    "crio.sock",
    "buildkitd.sock",
];

/// Masked and read-only paths whose absence `paths.unmasked` reports.
pub(crate) const MUST_MASK: [&str; 5] = [
    "/proc/kcore",
    "/proc/keys",
    "/proc/sched_debug",
    "/proc/timer_list",
    "/sys/firmware",
];
pub(crate) const MUST_READONLY: [&str; 2] = ["/proc/sys", "/proc/sysrq-trigger"];

/// What the rules need to know of the host and of the policy's lists. The
/// runtime fills it in (the engine itself makes no syscalls).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The host's active LSM ("apparmor", "selinux"), if any.
    pub lsm: Option<String>,
    /// Namespace paths of the config that the caller found to be the
    /// host's own namespace (the same namespace as host pid 1's or the
    /// runtime's own, or one it could not tell apart from them).
    pub host_ns_paths: BTreeSet<String>,
    /// Bind sources by index in `mounts`, as the runtime opened them on the
    /// host. A bind without an entry is judged on its source string
    /// (absolute sources only): pure callers, unit tests.
    pub sources: BTreeMap<usize, Source>,
    /// `root.path` as the runtime opened it (None: not looked at).
    pub rootfs: Option<Source>,
    /// Extra sensitive host paths (the runtime's own --root, the policy file's list).
    pub sensitive: Vec<String>,
    /// Extra sockets.
    pub sockets: Vec<String>,
    /// Host paths exempt from the mount rules.
    pub allow_paths: Vec<String>,
    /// Capabilities allowed on top of Docker's 14.
    pub allow_caps: Vec<String>,
    /// Sysctls allowed although they trip `sysctl.unsafe`.
    pub allow_sysctls: Vec<String>,
    /// Hook paths -> the program they run on the host (symlinks and
    /// `/proc/<pid>/exe` resolved), where the runtime could resolve them.
    pub hook_programs: BTreeMap<String, String>,
    /// Hook programs allowed on top of [`ENGINE_HOOKS`].
    pub allow_hooks: Vec<String>,
}

/// A rule that a config trips, with the part of the config that trips it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub rule: &'static str,
    pub detail: String,
}

fn hit(out: &mut Vec<Hit>, rule: &'static str, detail: impl Into<String>) {
    debug_assert!(self::rule(rule).is_some(), "unknown rule {rule}");
    out.push(Hit {
        rule,
        detail: detail.into(),
    });
}

fn namespace_is_host(spec: &Spec, ctx: &Context, kind: NamespaceType) -> bool {
    match spec.namespace(kind) {
        None => true,
        Some(ns) => ns
            .path
            .as_deref()
            .is_some_and(|p| ctx.host_ns_paths.contains(p)),
    }
}

/// The union of the process's capability sets.
fn capabilities(spec: &Spec) -> BTreeSet<String> {
    let mut all = BTreeSet::new();
    if let Some(c) = spec.process.as_ref().and_then(|p| p.capabilities.as_ref()) {
        for set in [
            &c.bounding,
            &c.effective,
            &c.permitted,
            &c.inheritable,
            &c.ambient,
        ]
        .into_iter()
        .flatten()
        {
            for cap in set {
                let cap = cap.to_ascii_uppercase();
                let cap = if cap.starts_with("CAP_") {
                    cap
                } else {
                    format!("CAP_{cap}")
                };
                all.insert(cap);
            }
        }
    }
    all
}

/// Capabilities that are each a known way out of a container without a
/// user namespace (mount and cgroup escapes, ptrace, kernel modules, raw
/// I/O, kexec, open_by_handle_at, LSM policy, BPF and perf, network
/// configuration, kernel log). Holding three of them is a privileged
/// container, whatever the total.
const ESCAPE_CAPS: [&str; 12] = [
    "CAP_SYS_ADMIN",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_PTRACE",
    "CAP_SYS_BOOT",
    "CAP_DAC_READ_SEARCH",
    "CAP_MAC_ADMIN",
    "CAP_MAC_OVERRIDE",
    "CAP_BPF",
    "CAP_PERFMON",
    "CAP_NET_ADMIN",
    "CAP_SYSLOG",
];

/// The syscalls through which CAP_SYS_ADMIN leaves a container: mounts
/// (release_agent, procfs and sysfs over the host's), namespaces, keys,
/// file handles, BPF, kernel modules and kexec.
pub const ESCAPE_SYSCALLS: [&str; 26] = [
    "mount",
    "umount",
    "umount2",
    "unshare",
    "setns",
    "pivot_root",
    "bpf",
    "keyctl",
    "add_key",
    "request_key",
    "open_by_handle_at",
    "name_to_handle_at",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "move_mount",
    "mount_setattr",
    "init_module",
    "finit_module",
    "delete_module",
    "kexec_load",
    "kexec_file_load",
    "perf_event_open",
    "quotactl",
];

/// The escape syscalls that `linux.seccomp` does not deny for every
/// argument: a syscall is denied only when no rule naming it allows,
/// logs, traces or notifies, and either the default action denies or an
/// unconditional rule does.
pub fn reachable_escape_syscalls(spec: &Spec) -> Vec<&'static str> {
    let Some(p) = spec.linux.as_ref().and_then(|l| l.seccomp.as_ref()) else {
        return ESCAPE_SYSCALLS.to_vec();
    };
    let denies = |a: &Action| {
        matches!(
            a,
            Action::Kill | Action::KillProcess | Action::KillThread | Action::Trap | Action::Errno
        )
    };
    ESCAPE_SYSCALLS
        .into_iter()
        .filter(|name| {
            let rules: Vec<_> = p
                .syscalls
                .iter()
                .filter(|r| r.names.iter().any(|n| n == name))
                .collect();
            let allowed = rules.iter().any(|r| !denies(&r.action));
            let denied = denies(&p.default_action)
                || rules.iter().any(|r| r.args.is_empty() && denies(&r.action));
            allowed || !denied
        })
        .collect()
}

fn seccomp_missing(spec: &Spec) -> bool {
    match spec.linux.as_ref().and_then(|l| l.seccomp.as_ref()) {
        None => true,
        Some(p) => {
            let allows = |a: &Action| matches!(a, Action::Allow | Action::Log);
            allows(&p.default_action) && p.syscalls.iter().all(|s| allows(&s.action))
        }
    }
}

fn is_bind(m: &ward_spec::Mount) -> bool {
    m.kind.as_deref() == Some("bind") || m.options.iter().any(|o| o == "bind" || o == "rbind")
}

/// Engines' own hooks: dockerd's libnetwork-setkey prestart hook (Docker
/// writes `/proc/<dockerd pid>/exe` or dockerd's path) and the NVIDIA
/// container toolkit's hook.
pub const ENGINE_HOOKS: [&str; 6] = [
    "/usr/bin/dockerd",
    "/usr/sbin/dockerd",
    "/usr/local/bin/dockerd",
    "/usr/bin/nvidia-container-runtime-hook",
    "/usr/bin/nvidia-container-toolkit",
    "/usr/local/bin/nvidia-container-runtime-hook",
];

/// Every hook of the config: (stage, hook).
pub fn hooks(spec: &Spec) -> Vec<(&'static str, &ward_spec::Hook)> {
    let Some(h) = spec.hooks.as_ref() else {
        return Vec::new();
    };
    h.by_stage()
        .into_iter()
        .flat_map(|(stage, list)| list.iter().map(move |hook| (stage, hook)))
        .collect()
}

/// `hooks.host-command`: every hook whose program is not an engine's own
/// or in the policy's allow list. createContainer and startContainer hooks
/// run in the container's namespaces but are still host programs.
fn check_hooks(spec: &Spec, ctx: &Context, out: &mut Vec<Hit>) {
    for (stage, hook) in hooks(spec) {
        let program = ctx
            .hook_programs
            .get(&hook.path)
            .map_or_else(|| normalize(&hook.path), |p| normalize(p));
        let written = normalize(&hook.path);
        let allowed = ENGINE_HOOKS.contains(&program.as_str())
            || ctx
                .allow_hooks
                .iter()
                .any(|a| normalize(a) == program || normalize(a) == written);
        if !allowed {
            hit(
                out,
                "hooks.host-command",
                if program == hook.path {
                    format!("hooks.{stage}: {}", hook.path)
                } else {
                    format!("hooks.{stage}: {} (runs {program})", hook.path)
                },
            );
        }
    }
}

/// Whether the mount's options leave it read-only (the last of `ro`/`rw`).
fn read_only(m: &ward_spec::Mount) -> bool {
    m.options
        .iter()
        .rev()
        .find(|o| *o == "ro" || *o == "rw")
        .is_some_and(|o| o == "ro")
}

/// `mount.sensitive-host-path`, `mount.runtime-socket`, `device.host` for
/// binds, `mount.propagation-shared`, and `root.path` judged like a bind
/// source.
fn check_mounts(spec: &Spec, ctx: &Context, want: &dyn Fn(&str) -> bool, out: &mut Vec<Hit>) {
    let mut sensitive: Vec<String> = sensitive_paths().map(String::from).collect();
    sensitive.extend(ctx.sensitive.iter().map(|s| normalize(s)));
    let mut sockets: Vec<String> = RUNTIME_SOCKETS.iter().map(|s| s.to_string()).collect();
    // Once each: /proc/net/unix lists a listening socket's path again for
    // every accepted connection, and a refusal names each socket it exposes.
    for s in ctx.sockets.iter().map(|s| normalize(s)) {
        if !sockets.contains(&s) {
            sockets.push(s);
        }
    }
    // An allowed path exempts itself and what lies below it.
    let allowed = |p: &str| ctx.allow_paths.iter().any(|a| covers(&normalize(a), p));
    if want("mount.sensitive-host-path") {
        match &ctx.rootfs {
            Some(Source::Unresolved(why)) => hit(
                out,
                "mount.sensitive-host-path",
                format!("root.path cannot be judged: {why}"),
            ),
            Some(Source::Host { names, .. }) if !names.first().is_some_and(|n| allowed(n)) => {
                if let Some(what) = crate::mounts::rootfs_exposes(names, &sensitive) {
                    hit(
                        out,
                        "mount.sensitive-host-path",
                        format!("root.path is {what}: the container's / would be the host's"),
                    );
                }
            }
            _ => {}
        }
    }
    for (i, m) in spec.mounts.iter().enumerate() {
        if is_bind(m) {
            let src = m.source.as_deref().unwrap_or("");
            let lexical;
            let source = match ctx.sources.get(&i) {
                Some(s) => s,
                None if src.starts_with('/') => {
                    lexical = Source::Host {
                        names: vec![normalize(src)],
                        kind: ObjectKind::Unknown,
                        inside_rootfs: false,
                    };
                    &lexical
                }
                // A relative source is relative to the bundle: only the
                // runtime, which resolves it, can judge it.
                None => continue,
            };
            let what = format!("mounts[{i}]: bind of {src} onto {}", m.destination);
            let lexical_names;
            let (names, kind) = match source {
                Source::Unresolved(why) => {
                    if want("mount.sensitive-host-path") {
                        hit(
                            out,
                            "mount.sensitive-host-path",
                            format!("{what}: the source cannot be judged: {why}; ward judges the file it opens, so a source that does not exist on the host before the container is made (one that only a mount of the same config would create) is refused"),
                        );
                    }
                    // What the string names still counts (a socket path).
                    if !src.starts_with('/') {
                        continue;
                    }
                    lexical_names = vec![normalize(src)];
                    (&lexical_names, ObjectKind::Unknown)
                }
                Source::Host {
                    inside_rootfs: true,
                    ..
                } => {
                    if want("mount.sensitive-host-path") {
                        hit(
                            out,
                            "mount.sensitive-host-path",
                            format!("{what}: the source lies inside the container's own root.path, where a mount of the same config could stand in its place; bind a host directory outside the rootfs"),
                        );
                    }
                    continue;
                }
                Source::Host { names, kind, .. } => (names, *kind),
            };
            if names.first().is_some_and(|n| allowed(n)) {
                continue;
            }
            match crate::mounts::exposes(names, kind, read_only(m), &sensitive) {
                Some(e) if want("mount.sensitive-host-path") => hit(
                    out,
                    "mount.sensitive-host-path",
                    format!("{what} exposes {e}"),
                ),
                Some(_) => {}
                None => {
                    if let ObjectKind::CharDevice { major, minor } = kind {
                        if want("device.host")
                            && !crate::mounts::standard_device(major.into(), Some(minor.into()))
                        {
                            hit(
                                out,
                                "device.host",
                                format!("{what}: the device node {major}:{minor}"),
                            );
                        }
                    }
                }
            }
            let socks: Vec<&String> = names
                .iter()
                .filter(|n| {
                    sockets.iter().any(|s| covers(n, s))
                        || RUNTIME_SOCKET_NAMES.contains(&n.rsplit('/').next().unwrap_or(""))
                })
                .collect();
            if want("mount.runtime-socket") && !socks.is_empty() {
                let exposed: Vec<&str> = sockets
                    .iter()
                    .filter(|s| socks.iter().any(|n| covers(n, s)))
                    .map(String::as_str)
                    .collect();
                hit(
                    out,
                    "mount.runtime-socket",
                    format!(
                        "{what} exposes {}",
                        if names.iter().any(|n| n == "/") {
                            format!("the host's whole filesystem (with {})", sockets[0])
                        } else if exposed.is_empty() {
                            socks[0].as_str().to_string()
                        } else {
                            exposed.join(", ")
                        }
                    ),
                );
            }
        }
        if want("mount.propagation-shared")
            && m.options.iter().any(|o| o == "shared" || o == "rshared")
        {
            hit(
                out,
                "mount.propagation-shared",
                format!("mounts[{i}] ({}): shared propagation", m.destination),
            );
        }
    }
}

/// Every rule of `scope` (or of every scope) that `spec` trips.
pub fn check(spec: &Spec, ctx: &Context, scope: Option<Scope>) -> Vec<Hit> {
    let mut out = Vec::new();
    let want = |id: &str| {
        scope.is_none_or(|s| rule(id).is_some_and(|r| r.scope == s || s == Scope::Container))
    };
    let linux = spec.linux.clone().unwrap_or_default();
    let process = spec.process.clone().unwrap_or_default();
    let userns = !namespace_is_host(spec, ctx, NamespaceType::User);
    let caps = capabilities(spec);

    // Capabilities.
    let known = ward_spec::caps::NAMES;
    let have_known = known.iter().filter(|c| caps.contains(**c)).count();
    let escape: Vec<&str> = ESCAPE_CAPS
        .into_iter()
        .filter(|c| caps.contains(*c))
        .collect();
    if want("privileged") && (have_known + 3 >= known.len() || escape.len() >= 3) {
        hit(
            &mut out,
            "privileged",
            format!(
                "process.capabilities holds {have_known} of the {} capabilities, {} of them escape paths on their own ({})",
                known.len(),
                escape.len(),
                escape.join(", ")
            ),
        );
    }
    let kernel: Vec<&str> = ["CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_BOOT"]
        .into_iter()
        .filter(|c| caps.contains(*c))
        .collect();
    if want("caps.host-kernel") && !kernel.is_empty() && !userns {
        hit(
            &mut out,
            "caps.host-kernel",
            format!("process.capabilities: {}", kernel.join(", ")),
        );
    }
    let no_seccomp = seccomp_missing(spec);
    if want("seccomp.unconfined-sys-admin") && caps.contains("CAP_SYS_ADMIN") {
        // Judged on the effect: which escape syscalls the filter lets
        // through (a profile with one errno rule for `acct` narrows nothing).
        let reachable = reachable_escape_syscalls(spec);
        if no_seccomp || (!userns && !reachable.is_empty()) {
            hit(
                &mut out,
                "seccomp.unconfined-sys-admin",
                if no_seccomp {
                    "process.capabilities has CAP_SYS_ADMIN and linux.seccomp is absent or allows everything".to_string()
                } else {
                    format!(
                        "process.capabilities has CAP_SYS_ADMIN without a user namespace, and linux.seccomp lets through {}",
                        reachable.join(", ")
                    )
                },
            );
        }
    }
    if want("seccomp.missing") && no_seccomp {
        let d = if linux.seccomp.is_some() {
            "linux.seccomp allows every syscall"
        } else {
            "linux.seccomp is absent"
        };
        hit(&mut out, "seccomp.missing", d);
    }
    if want("lsm.unconfined") {
        match ctx.lsm.as_deref() {
            Some("apparmor") => {
                let p = process.apparmor_profile.as_deref().unwrap_or("");
                if p.is_empty() || p == "unconfined" {
                    hit(
                        &mut out,
                        "lsm.unconfined",
                        "AppArmor is active and process.apparmorProfile is unset or unconfined",
                    );
                }
            }
            Some("selinux") if process.selinux_label.as_deref().unwrap_or("").is_empty() => {
                hit(
                    &mut out,
                    "lsm.unconfined",
                    "SELinux is active and process.selinuxLabel is unset",
                );
            }
            _ => {}
        }
    }

    // Namespaces.
    let host_pid = namespace_is_host(spec, ctx, NamespaceType::Pid);
    if want("namespace.host-pid-ptrace") && host_pid && !userns && caps.contains("CAP_SYS_PTRACE") {
        hit(
            &mut out,
            "namespace.host-pid-ptrace",
            "no new pid namespace, CAP_SYS_PTRACE, no user namespace",
        );
    }
    for (kind, id) in [
        (NamespaceType::Pid, "namespace.host-pid"),
        (NamespaceType::Network, "namespace.host-net"),
        (NamespaceType::Ipc, "namespace.host-ipc"),
        (NamespaceType::Uts, "namespace.host-uts"),
        (NamespaceType::User, "namespace.host-user"),
        (NamespaceType::Cgroup, "namespace.host-cgroup"),
    ] {
        if want(id) && namespace_is_host(spec, ctx, kind) {
            let d = match spec.namespace(kind).and_then(|n| n.path.as_deref()) {
                Some(p) => format!(
                    "linux.namespaces: {} joins {p}, the host's namespace",
                    kind.oci_name()
                ),
                None => format!("linux.namespaces has no {:?} entry", kind.oci_name()),
            };
            hit(&mut out, id, d);
        }
    }
    if want("cgroup.root") {
        if let Some(p) = linux.cgroups_path.as_deref() {
            if !p.contains(':') && normalize(p) == "/" {
                hit(
                    &mut out,
                    "cgroup.root",
                    format!("linux.cgroupsPath is {p:?}"),
                );
            }
        }
    }

    // Mounts and the rootfs.
    check_mounts(spec, ctx, &want, &mut out);
    if want("hooks.host-command") {
        check_hooks(spec, ctx, &mut out);
    }
    if want("mount.propagation-shared")
        && matches!(
            linux.rootfs_propagation.as_deref(),
            Some("shared" | "rshared")
        )
    {
        hit(
            &mut out,
            "mount.propagation-shared",
            "linux.rootfsPropagation is shared",
        );
    }

    // Devices.
    let resources = linux.resources.clone().unwrap_or_default();
    let rw = |a: &Option<String>| {
        a.as_deref()
            .is_none_or(|a| a.contains('r') || a.contains('w'))
    };
    for (i, d) in resources.devices.iter().enumerate() {
        if !d.allow || !rw(&d.access) {
            continue;
        }
        let any_major = d.major.is_none_or(|m| m < 0);
        let any_minor = d.minor.is_none_or(|m| m < 0);
        let all = matches!(d.kind, None | Some(DeviceType::All)) || any_major;
        if all {
            if want("device.all") {
                hit(
                    &mut out,
                    "device.all",
                    format!(
                        "linux.resources.devices[{i}] allows {} access to every {}device",
                        d.access.as_deref().unwrap_or("rwm"),
                        match d.kind {
                            Some(DeviceType::Char) => "character ",
                            Some(DeviceType::Block) => "block ",
                            _ => "",
                        }
                    ),
                );
            }
        } else if want("device.host")
            && !crate::mounts::standard_device(
                d.major.unwrap_or(-1),
                (!any_minor).then_some(d.minor.unwrap_or(0)),
            )
        {
            hit(
                &mut out,
                "device.host",
                format!(
                    "linux.resources.devices[{i}] allows {} {}:{}",
                    d.access.as_deref().unwrap_or("rwm"),
                    d.major.unwrap_or(-1),
                    d.minor.map_or("*".to_string(), |m| m.to_string())
                ),
            );
        }
    }
    if want("device.host") {
        for (i, d) in linux.devices.iter().enumerate() {
            if !crate::mounts::standard_device(d.major, Some(d.minor)) {
                hit(
                    &mut out,
                    "device.host",
                    format!(
                        "linux.devices[{i}]: {} ({} {}:{})",
                        d.path, d.kind, d.major, d.minor
                    ),
                );
            }
        }
    }

    // Sysctls.
    if want("sysctl.unsafe") {
        for key in linux.sysctl.keys() {
            if ctx.allow_sysctls.iter().any(|a| a == key) {
                continue;
            }
            match ward_spec::validate::sysctl_namespace(key) {
                None => hit(
                    &mut out,
                    "sysctl.unsafe",
                    format!("linux.sysctl {key:?} is not namespaced"),
                ),
                Some(ns) if namespace_is_host(spec, ctx, ns) => hit(
                    &mut out,
                    "sysctl.unsafe",
                    format!(
                        "linux.sysctl {key:?} needs a new {} namespace, the container has the host's",
                        ns.oci_name()
                    ),
                ),
                Some(_) => {}
            }
        }
    }

    // Capabilities beyond the allowlist.
    if want("caps.added") {
        let extra: Vec<&str> = caps
            .iter()
            .map(String::as_str)
            .filter(|c| !DOCKER_DEFAULT_CAPS.contains(c) && !ctx.allow_caps.iter().any(|a| a == c))
            .collect();
        if !extra.is_empty() {
            hit(
                &mut out,
                "caps.added",
                format!("process.capabilities: {}", extra.join(", ")),
            );
        }
    }
    if want("user.root") && process.user.uid == 0 && !userns {
        hit(
            &mut out,
            "user.root",
            "process.user.uid is 0 and there is no user namespace",
        );
    }
    if want("rootfs.writable") && !spec.root.as_ref().is_some_and(|r| r.readonly) {
        hit(&mut out, "rootfs.writable", "root.readonly is false");
    }
    if want("no-new-privileges") && !process.no_new_privileges {
        hit(
            &mut out,
            "no-new-privileges",
            "process.noNewPrivileges is false",
        );
    }
    if want("paths.unmasked") {
        let mut missing: Vec<&str> = MUST_MASK
            .into_iter()
            .filter(|p| !linux.masked_paths.iter().any(|m| m == p))
            .collect();
        missing.extend(
            MUST_READONLY
                .into_iter()
                .filter(|p| !linux.readonly_paths.iter().any(|m| m == p)),
        );
        if !missing.is_empty() {
            hit(
                &mut out,
                "paths.unmasked",
                format!("not masked or read-only: {}", missing.join(", ")),
            );
        }
    }

    // Limits.
    if want("limits.memory")
        && resources
            .memory
            .as_ref()
            .and_then(|m| m.limit)
            .is_none_or(|l| l <= 0)
    {
        hit(
            &mut out,
            "limits.memory",
            "linux.resources.memory.limit is unset",
        );
    }
    if want("limits.cpu")
        && !resources.cpu.as_ref().is_some_and(|c| {
            c.shares.is_some_and(|s| s > 0) || c.quota.is_some_and(|q| q > 0) || c.cpus.is_some()
        })
    {
        hit(
            &mut out,
            "limits.cpu",
            "linux.resources.cpu has no shares, quota or cpus",
        );
    }
    if want("limits.pids")
        && resources
            .pids
            .as_ref()
            .and_then(|p| p.limit)
            .is_none_or(|l| l <= 0)
    {
        hit(
            &mut out,
            "limits.pids",
            "linux.resources.pids.limit is unset",
        );
    }
    out
}

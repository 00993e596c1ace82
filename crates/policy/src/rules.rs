//! The rules: one table, one entry per rule (id, CIS Docker Benchmark
//! v1.6.0 section 5 items, severity, default mode, scope, texts and the
//! function that checks it), and [`check`], which runs the table.
//! `ward-oci` decides with it (modes) and `ward audit` reports with it
//! (severities): one implementation. The checks live in checks.rs and
//! mount_checks.rs.

use serde::Serialize;
use ward_spec::Spec;

use crate::context::{Place, Trip};
use crate::{checks, mount_checks};

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
    /// What in a config trips it (nothing: an empty list).
    pub(crate) check: fn(&Spec, &Context) -> Vec<Trip>,
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
        check: checks::privileged,
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
        check: checks::caps_host_kernel,
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
        check: checks::seccomp_unconfined_sys_admin,
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
        check: checks::seccomp_unset,
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
        check: checks::lsm_unconfined,
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
        check: checks::namespace_host_pid_ptrace,
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
        check: checks::namespace_host_pid,
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
        check: checks::namespace_host_net,
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
        check: checks::namespace_host_ipc,
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
        check: checks::namespace_host_uts,
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
        check: checks::namespace_host_user,
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
        check: checks::namespace_host_cgroup,
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
        check: checks::cgroup_root,
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
        check: mount_checks::mount_sensitive_host_path,
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
        check: mount_checks::mount_runtime_socket,
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
        check: mount_checks::mount_propagation_shared,
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
        check: checks::device_all,
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
        check: checks::device_host,
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
        check: checks::sysctl_unsafe,
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
        check: checks::hooks_host_command,
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
        check: checks::caps_added,
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
        check: checks::user_root,
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
        check: checks::rootfs_writable,
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
        check: checks::no_new_privileges,
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
        check: checks::paths_unmasked,
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
        check: checks::limits_memory,
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
        check: checks::limits_cpu,
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
        check: checks::limits_pids,
    },
];

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.id == id)
}

pub use crate::checks::{
    hooks, reachable_escape_syscalls, DOCKER_DEFAULT_CAPS, ENGINE_HOOKS, ESCAPE_SYSCALLS,
};
pub use crate::context::Context;
pub use crate::mount_checks::{RUNTIME_SOCKETS, RUNTIME_SOCKET_NAMES};
pub use crate::mounts::{normalize, sensitive_paths, ObjectKind, Source};

/// A rule that a config trips, with the part of the config that trips it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hit {
    pub rule: &'static str,
    pub detail: String,
}

/// Every rule of `scope` (or of every scope) that `spec` trips, ordered by
/// where in the config (`Place`), then in table order.
pub fn check(spec: &Spec, ctx: &Context, scope: Option<Scope>) -> Vec<Hit> {
    let mut trips: Vec<(Place, Hit)> = Vec::new();
    let wanted = |r: &&Rule| scope.is_none_or(|s| r.scope == s || s == Scope::Container);
    for r in RULES.iter().filter(wanted) {
        trips.extend((r.check)(spec, ctx).into_iter().map(|t: Trip| {
            let hit = Hit {
                rule: r.id,
                detail: t.detail,
            };
            (t.place, hit)
        }));
    }
    // A stable sort: within a place, table order, then the check's own.
    trips.sort_by_key(|(place, _)| *place);
    trips.into_iter().map(|(_, hit)| hit).collect()
}

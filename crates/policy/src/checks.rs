//! The checks of every rule but the mount rules (mount_checks.rs): one
//! small function per rule, named after it. The table in rules.rs gives
//! each its id, severity and texts.

use std::collections::BTreeSet;

use ward_spec::resources::{DeviceType, LinuxDeviceCgroup, LinuxResources};
use ward_spec::seccomp::Action;
use ward_spec::{NamespaceType, Spec};

use crate::context::{Context, Place, Trip};
use crate::mounts::{normalize, standard_device};

/// Docker's 14 default capabilities (moby `caps.DefaultCapabilities`).
pub use ward_spec::caps::DOCKER_DEFAULT as DOCKER_DEFAULT_CAPS;

/// Masked and read-only paths whose absence `paths.unmasked` reports.
pub(crate) const MUST_MASK: [&str; 5] = [
    "/proc/kcore",
    "/proc/keys",
    "/proc/sched_debug",
    "/proc/timer_list",
    "/sys/firmware",
];
pub(crate) const MUST_READONLY: [&str; 2] = ["/proc/sys", "/proc/sysrq-trigger"];

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
pub(crate) fn hooks_host_command(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    let mut out = Vec::new();
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
            out.push(Trip::at(
                Place::Hooks,
                if program == hook.path {
                    format!("hooks.{stage}: {}", hook.path)
                } else {
                    format!("hooks.{stage}: {} (runs {program})", hook.path)
                },
            ));
        }
    }
    out
}

/// One trip among the process and namespace rules.
fn isolation(detail: impl Into<String>) -> Vec<Trip> {
    vec![Trip::at(Place::Isolation, detail)]
}

/// One trip among the hardening rules.
fn hardening(detail: impl Into<String>) -> Vec<Trip> {
    vec![Trip::at(Place::Hardening, detail)]
}

fn has_userns(spec: &Spec, ctx: &Context) -> bool {
    !namespace_is_host(spec, ctx, NamespaceType::User)
}

pub(crate) fn privileged(spec: &Spec, _: &Context) -> Vec<Trip> {
    let caps = capabilities(spec);
    let known = ward_spec::caps::NAMES;
    let have_known = known.iter().filter(|c| caps.contains(**c)).count();
    let escape: Vec<&str> = ESCAPE_CAPS
        .into_iter()
        .filter(|c| caps.contains(*c))
        .collect();
    let privileged = have_known + 3 >= known.len() || escape.len() >= 3;
    if !privileged {
        return Vec::new();
    }
    isolation(format!(
        "process.capabilities holds {have_known} of the {} capabilities, {} of them escape paths on their own ({})",
        known.len(),
        escape.len(),
        escape.join(", ")
    ))
}

pub(crate) fn caps_host_kernel(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    let caps = capabilities(spec);
    let kernel: Vec<&str> = ["CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_BOOT"]
        .into_iter()
        .filter(|c| caps.contains(*c))
        .collect();
    if kernel.is_empty() || has_userns(spec, ctx) {
        return Vec::new();
    }
    isolation(format!("process.capabilities: {}", kernel.join(", ")))
}

pub(crate) fn seccomp_unconfined_sys_admin(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    if !capabilities(spec).contains("CAP_SYS_ADMIN") {
        return Vec::new();
    }
    if seccomp_missing(spec) {
        return isolation("process.capabilities has CAP_SYS_ADMIN and linux.seccomp is absent or allows everything");
    }
    // Judged on the effect: which escape syscalls the filter lets
    // through (a profile with one errno rule for `acct` narrows nothing).
    let reachable = reachable_escape_syscalls(spec);
    if has_userns(spec, ctx) || reachable.is_empty() {
        return Vec::new();
    }
    isolation(format!(
        "process.capabilities has CAP_SYS_ADMIN without a user namespace, and linux.seccomp lets through {}",
        reachable.join(", ")
    ))
}

/// `seccomp.missing` (the name `seccomp_missing` is the test it makes).
pub(crate) fn seccomp_unset(spec: &Spec, _: &Context) -> Vec<Trip> {
    if !seccomp_missing(spec) {
        return Vec::new();
    }
    isolation(
        if spec.linux.as_ref().is_some_and(|l| l.seccomp.is_some()) {
            "linux.seccomp allows every syscall"
        } else {
            "linux.seccomp is absent"
        },
    )
}

pub(crate) fn lsm_unconfined(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    let process = spec.process.as_ref();
    let apparmor = process.and_then(|p| p.apparmor_profile.as_deref());
    let selinux = process.and_then(|p| p.selinux_label.as_deref());
    match ctx.lsm.as_deref() {
        Some("apparmor") if matches!(apparmor.unwrap_or(""), "" | "unconfined") => {
            isolation("AppArmor is active and process.apparmorProfile is unset or unconfined")
        }
        Some("selinux") if selinux.unwrap_or("").is_empty() => {
            isolation("SELinux is active and process.selinuxLabel is unset")
        }
        _ => Vec::new(),
    }
}

pub(crate) fn namespace_host_pid_ptrace(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    if !namespace_is_host(spec, ctx, NamespaceType::Pid)
        || has_userns(spec, ctx)
        || !capabilities(spec).contains("CAP_SYS_PTRACE")
    {
        return Vec::new();
    }
    isolation("no new pid namespace, CAP_SYS_PTRACE, no user namespace")
}

/// The container shares the host's namespace of `kind`.
fn host_namespace(spec: &Spec, ctx: &Context, kind: NamespaceType) -> Vec<Trip> {
    if !namespace_is_host(spec, ctx, kind) {
        return Vec::new();
    }
    isolation(match spec.namespace(kind).and_then(|n| n.path.as_deref()) {
        Some(p) => format!(
            "linux.namespaces: {} joins {p}, the host's namespace",
            kind.oci_name()
        ),
        None => format!("linux.namespaces has no {:?} entry", kind.oci_name()),
    })
}

pub(crate) fn namespace_host_pid(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    host_namespace(spec, ctx, NamespaceType::Pid)
}

pub(crate) fn namespace_host_net(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    host_namespace(spec, ctx, NamespaceType::Network)
}

pub(crate) fn namespace_host_ipc(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    host_namespace(spec, ctx, NamespaceType::Ipc)
}

pub(crate) fn namespace_host_uts(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    host_namespace(spec, ctx, NamespaceType::Uts)
}

pub(crate) fn namespace_host_user(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    host_namespace(spec, ctx, NamespaceType::User)
}

pub(crate) fn namespace_host_cgroup(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    host_namespace(spec, ctx, NamespaceType::Cgroup)
}

pub(crate) fn cgroup_root(spec: &Spec, _: &Context) -> Vec<Trip> {
    let Some(p) = spec.linux.as_ref().and_then(|l| l.cgroups_path.as_deref()) else {
        return Vec::new();
    };
    if p.contains(':') || normalize(p) != "/" {
        return Vec::new();
    }
    isolation(format!("linux.cgroupsPath is {p:?}"))
}

fn resources(spec: &Spec) -> Option<&LinuxResources> {
    spec.linux.as_ref().and_then(|l| l.resources.as_ref())
}

/// The device cgroup rules that allow reading or writing, with their
/// index and their major (None: every device).
fn rw_device_rules(spec: &Spec) -> Vec<(usize, &LinuxDeviceCgroup, Option<i64>)> {
    let rw = |a: &Option<String>| {
        a.as_deref()
            .is_none_or(|a| a.contains('r') || a.contains('w'))
    };
    let Some(r) = resources(spec) else {
        return Vec::new();
    };
    r.devices
        .iter()
        .enumerate()
        .filter(|(_, d)| d.allow && rw(&d.access))
        .map(|(i, d)| {
            let every_kind = matches!(d.kind, None | Some(DeviceType::All));
            (i, d, d.major.filter(|m| *m >= 0 && !every_kind))
        })
        .collect()
}

pub(crate) fn device_all(spec: &Spec, _: &Context) -> Vec<Trip> {
    rw_device_rules(spec)
        .into_iter()
        .filter(|(_, _, major)| major.is_none())
        .map(|(i, d, _)| {
            Trip::at(
                Place::DeviceRule(i),
                format!(
                    "linux.resources.devices[{i}] allows {} access to every {}device",
                    d.access.as_deref().unwrap_or("rwm"),
                    match d.kind {
                        Some(DeviceType::Char) => "character ",
                        Some(DeviceType::Block) => "block ",
                        _ => "",
                    }
                ),
            )
        })
        .collect()
}

/// `device.host`: device cgroup rules and `linux.devices` entries for a
/// device that is not standard, and binds of device nodes.
pub(crate) fn device_host(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    let mut out = crate::mount_checks::device_binds(spec, ctx);
    for (i, d, major) in rw_device_rules(spec) {
        let Some(major) = major else {
            continue;
        };
        let minor = d.minor.filter(|m| *m >= 0);
        if standard_device(major, minor) {
            continue;
        }
        out.push(Trip::at(
            Place::DeviceRule(i),
            format!(
                "linux.resources.devices[{i}] allows {} {major}:{}",
                d.access.as_deref().unwrap_or("rwm"),
                d.minor.map_or("*".to_string(), |m| m.to_string())
            ),
        ));
    }
    let devices = spec.linux.as_ref().map_or(&[][..], |l| &l.devices[..]);
    for (i, d) in devices.iter().enumerate() {
        if !standard_device(d.major, Some(d.minor)) {
            out.push(Trip::at(
                Place::Device(i),
                format!(
                    "linux.devices[{i}]: {} ({} {}:{})",
                    d.path, d.kind, d.major, d.minor
                ),
            ));
        }
    }
    out
}

pub(crate) fn sysctl_unsafe(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    let Some(linux) = spec.linux.as_ref() else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for key in linux.sysctl.keys() {
        let dotted = ward_spec::validate::sysctl_dotted(key);
        if ctx
            .allow_sysctls
            .iter()
            .any(|a| ward_spec::validate::sysctl_dotted(a) == dotted)
        {
            continue;
        }
        match ward_spec::validate::sysctl_namespace(key) {
            None => out.extend(hardening(format!("linux.sysctl {key:?} is not namespaced"))),
            Some(ns) if namespace_is_host(spec, ctx, ns) => out.extend(hardening(format!(
                "linux.sysctl {key:?} needs a new {} namespace, the container has the host's",
                ns.oci_name()
            ))),
            Some(_) => {}
        }
    }
    out
}

/// Capabilities beyond the allowlist.
pub(crate) fn caps_added(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    let caps = capabilities(spec);
    let extra: Vec<&str> = caps
        .iter()
        .map(String::as_str)
        .filter(|c| !DOCKER_DEFAULT_CAPS.contains(c) && !ctx.allow_caps.iter().any(|a| a == c))
        .collect();
    if extra.is_empty() {
        return Vec::new();
    }
    hardening(format!("process.capabilities: {}", extra.join(", ")))
}

pub(crate) fn user_root(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    let uid = spec.process.as_ref().map_or(0, |p| p.user.uid);
    if uid != 0 || has_userns(spec, ctx) {
        return Vec::new();
    }
    hardening("process.user.uid is 0 and there is no user namespace")
}

pub(crate) fn rootfs_writable(spec: &Spec, _: &Context) -> Vec<Trip> {
    if spec.root.as_ref().is_some_and(|r| r.readonly) {
        return Vec::new();
    }
    hardening("root.readonly is false")
}

pub(crate) fn no_new_privileges(spec: &Spec, _: &Context) -> Vec<Trip> {
    if spec.process.as_ref().is_some_and(|p| p.no_new_privileges) {
        return Vec::new();
    }
    hardening("process.noNewPrivileges is false")
}

pub(crate) fn paths_unmasked(spec: &Spec, _: &Context) -> Vec<Trip> {
    let (masked, readonly) = spec.linux.as_ref().map_or((&[][..], &[][..]), |l| {
        (&l.masked_paths[..], &l.readonly_paths[..])
    });
    let mut missing: Vec<&str> = MUST_MASK
        .into_iter()
        .filter(|p| !masked.iter().any(|m| m == p))
        .collect();
    missing.extend(
        MUST_READONLY
            .into_iter()
            .filter(|p| !readonly.iter().any(|m| m == p)),
    );
    if missing.is_empty() {
        return Vec::new();
    }
    hardening(format!("not masked or read-only: {}", missing.join(", ")))
}

pub(crate) fn limits_memory(spec: &Spec, _: &Context) -> Vec<Trip> {
    let limit = resources(spec)
        .and_then(|r| r.memory.as_ref())
        .and_then(|m| m.limit);
    if limit.is_some_and(|l| l > 0) {
        return Vec::new();
    }
    hardening("linux.resources.memory.limit is unset")
}

pub(crate) fn limits_cpu(spec: &Spec, _: &Context) -> Vec<Trip> {
    let limited = resources(spec)
        .and_then(|r| r.cpu.as_ref())
        .is_some_and(|c| {
            c.shares.is_some_and(|s| s > 0) || c.quota.is_some_and(|q| q > 0) || c.cpus.is_some()
        });
    if limited {
        return Vec::new();
    }
    hardening("linux.resources.cpu has no shares, quota or cpus")
}

pub(crate) fn limits_pids(spec: &Spec, _: &Context) -> Vec<Trip> {
    let limit = resources(spec)
        .and_then(|r| r.pids.as_ref())
        .and_then(|p| p.limit);
    if limit.is_some_and(|l| l > 0) {
        return Vec::new();
    }
    hardening("linux.resources.pids.limit is unset")
}

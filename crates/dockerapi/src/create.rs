//! Docker's container requests -> the OCI config dockerd hands its runtime
//! (moby 20.10 `daemon/oci_linux.go`, `oci/defaults.go`, `oci/caps`).

use std::collections::BTreeMap;

use ward_seccomp::docker::KernelVersion;
use ward_spec::resources::{
    DeviceType, LinuxCpu, LinuxDeviceCgroup, LinuxMemory, LinuxPids, LinuxResources,
};
use ward_spec::{
    Capabilities, Device, Linux, Mount, Namespace, NamespaceType, Process, Root, Spec, User,
};

use crate::types::{ContainerCreateBody, ExecBody, HostConfig, MountSpec, Resources};
use crate::FieldError;

/// Docker's default seccomp profile (moby `profiles/seccomp/default.json`).
const DOCKER_SECCOMP: &str =
    include_str!("../../../testdata/reference/docker-default-seccomp.json");

/// moby `oci.DefaultSpec` masked and read-only paths.
const MASKED_PATHS: [&str; 12] = [
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/proc/interrupts",
    "/sys/devices/virtual/powercap",
];
const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// What of the daemon and the host the mapping needs (defaults: Docker
/// 20.10's defaults on a cgroup v1 host without AppArmor).
#[derive(Debug, Clone)]
pub struct Daemon {
    /// The host kernel (seccomp profile entries with minKernel).
    pub kernel: KernelVersion,
    /// The daemon's `--seccomp-profile` (None: Docker's default).
    pub seccomp_profile: Option<String>,
    /// The daemon's default cgroup namespace mode is private (cgroup v2).
    pub cgroupns_private: bool,
    /// AppArmor is enabled on the host (Docker sets a profile then).
    pub apparmor: bool,
    /// The daemon's `--data-root` (named volumes live below it).
    pub data_root: String,
}

impl Default for Daemon {
    fn default() -> Self {
        Daemon {
            kernel: KernelVersion::new(6, 1),
            seccomp_profile: None,
            cgroupns_private: false,
            apparmor: false,
            data_root: "/var/lib/docker".into(),
        }
    }
}

/// A device node on the host (`stat(2)` of `--device PATH`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceNode {
    /// "c" or "b".
    pub kind: String,
    pub major: i64,
    pub minor: i64,
}

/// The config of `POST /containers/create` with the daemon's defaults and
/// no device lookup (a `--device` is judged as a non-standard device).
pub fn spec_for_create(body: &ContainerCreateBody) -> Result<Spec, FieldError> {
    spec_for_create_with(body, &Daemon::default(), &|_| None)
}

/// Security options (`HostConfig.SecurityOpt`) as moby parses them.
#[derive(Debug, Default)]
struct SecurityOpts {
    no_new_privileges: bool,
    /// Some("unconfined") or a profile's JSON.
    seccomp: Option<String>,
    apparmor: Option<String>,
    label_disable: bool,
    /// `systempaths=unconfined`: no masked or read-only paths.
    systempaths_unconfined: bool,
}

fn security_opts(opts: &[String]) -> Result<SecurityOpts, FieldError> {
    let mut out = SecurityOpts::default();
    for opt in opts {
        let field = || format!("HostConfig.SecurityOpt {opt:?}");
        // moby accepts "key=value" and the legacy "key:value".
        let (key, value) = match opt.split_once('=') {
            Some(kv) => kv,
            None => match opt.split_once(':') {
                Some(kv) => kv,
                None if opt == "no-new-privileges" => (opt.as_str(), "true"),
                None => return Err(FieldError::new(field(), "invalid security option")),
            },
        };
        match key {
            "no-new-privileges" => {
                out.no_new_privileges = go_bool(value)
                    .ok_or_else(|| FieldError::new(field(), "invalid no-new-privileges value"))?
            }
            "seccomp" => out.seccomp = Some(value.to_string()),
            "apparmor" => out.apparmor = Some(value.to_string()),
            "label" => out.label_disable |= value == "disable",
            "systempaths" if value == "unconfined" => out.systempaths_unconfined = true,
            _ => return Err(FieldError::new(field(), "invalid security option")),
        }
    }
    Ok(out)
}

/// Go's `strconv.ParseBool`.
fn go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// moby `caps.NormalizeLegacyCapabilities`: "ALL", or `CAP_` + upper case,
/// which must be a known capability.
fn normalize_caps(list: &[String], field: &str) -> Result<Vec<String>, FieldError> {
    list.iter()
        .map(|c| {
            let up = c.to_uppercase();
            if up == "ALL" {
                return Ok(up);
            }
            let name = if up.starts_with("CAP_") {
                up
            } else {
                format!("CAP_{up}")
            };
            if ward_spec::caps::NAMES.contains(&name.as_str()) {
                Ok(name)
            } else {
                Err(FieldError::new(field, format!("unknown capability: {c:?}")))
            }
        })
        .collect()
}

/// moby `caps.TweakCapabilities` over Docker's 14 defaults.
fn capabilities(hc: &HostConfig) -> Result<Vec<String>, FieldError> {
    let all = || {
        ward_spec::caps::NAMES
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
    };
    if hc.privileged.unwrap_or(false) {
        return Ok(all());
    }
    let add = normalize_caps(hc.cap_add.as_deref().unwrap_or(&[]), "HostConfig.CapAdd")?;
    let drop = normalize_caps(hc.cap_drop.as_deref().unwrap_or(&[]), "HostConfig.CapDrop")?;
    let has = |l: &[String], c: &str| l.iter().any(|x| x == c);
    let mut caps: Vec<String> = if has(&add, "ALL") {
        all().into_iter().filter(|c| !has(&drop, c)).collect()
    } else if has(&drop, "ALL") {
        add
    } else {
        let mut caps: Vec<String> = ward_spec::caps::DOCKER_DEFAULT
            .iter()
            .filter(|c| !has(&drop, c))
            .map(|c| c.to_string())
            .collect();
        caps.extend(add);
        caps
    };
    caps.dedup();
    Ok(caps)
}

/// `User`: "uid[:gid]", "name[:group]". The image's /etc/passwd is not
/// seen here: an empty user is judged as root (the image's USER may be
/// root), a name other than root as an unprivileged user.
fn user(spec: Option<&str>) -> User {
    let (u, g) = match spec.unwrap_or("") {
        "" => ("0", None),
        s => match s.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (s, None),
        },
    };
    let id = |s: &str| match s {
        "root" | "" => 0,
        s => s.parse::<u32>().unwrap_or(65534),
    };
    let uid = id(u);
    User {
        uid,
        gid: g.map_or(if uid == 0 { 0 } else { uid }, id),
        ..User::default()
    }
}

fn process(
    user_spec: Option<&str>,
    args: Vec<String>,
    env: Vec<String>,
    cwd: Option<&str>,
    caps: Vec<String>,
) -> Process {
    Process {
        user: user(user_spec),
        args,
        env,
        cwd: match cwd {
            Some(c) if !c.is_empty() => c.to_string(),
            _ => "/".into(),
        },
        capabilities: Some(Capabilities {
            bounding: Some(caps.clone()),
            effective: Some(caps.clone()),
            permitted: Some(caps),
            inheritable: None,
            ambient: None,
        }),
        ..Process::default()
    }
}

/// `*Mode` "host" shares the host's namespace; "container:ID" joins
/// another container's (judged as not the host's); anything else is new.
fn namespaces(hc: &HostConfig, daemon: &Daemon) -> Vec<Namespace> {
    let mode = |m: &Option<String>| m.as_deref().unwrap_or("").to_string();
    let mut out = vec![Namespace {
        kind: NamespaceType::Mount,
        path: None,
    }];
    let cgroupns = mode(&hc.cgroupns_mode);
    for (kind, m) in [
        (NamespaceType::Network, mode(&hc.network_mode)),
        (NamespaceType::Uts, mode(&hc.uts_mode)),
        (NamespaceType::Pid, mode(&hc.pid_mode)),
        (NamespaceType::Ipc, mode(&hc.ipc_mode)),
    ] {
        if m == "host" {
            continue;
        }
        let path = m
            .strip_prefix("container:")
            .map(|id| format!("container:{id}"));
        out.push(Namespace { kind, path });
    }
    // UTS follows the network namespace in Docker: --network host shares
    // the host's hostname too.
    if mode(&hc.network_mode) == "host" {
        out.retain(|n| n.kind != NamespaceType::Uts);
    }
    if cgroupns == "private" || (cgroupns.is_empty() && daemon.cgroupns_private) {
        out.push(Namespace {
            kind: NamespaceType::Cgroup,
            path: None,
        });
    }
    out
}

fn tmpfs(dest: &str, opts: &[&str]) -> Mount {
    Mount {
        destination: dest.into(),
        kind: Some("tmpfs".into()),
        source: Some("tmpfs".into()),
        options: opts.iter().map(|s| s.to_string()).collect(),
        ..Mount::default()
    }
}

/// moby `oci.DefaultSpec` mounts; privileged: /sys and cgroups writable.
fn default_mounts(privileged: bool) -> Vec<Mount> {
    let ro_unless_priv = if privileged { "rw" } else { "ro" };
    let m = |dest: &str, kind: &str, opts: &[&str]| Mount {
        destination: dest.into(),
        kind: Some(kind.into()),
        source: Some(kind.into()),
        options: opts.iter().map(|s| s.to_string()).collect(),
        ..Mount::default()
    };
    vec![
        m("/proc", "proc", &["nosuid", "noexec", "nodev"]),
        tmpfs(
            "/dev",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        m(
            "/dev/pts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        m(
            "/sys",
            "sysfs",
            &["nosuid", "noexec", "nodev", ro_unless_priv],
        ),
        m(
            "/sys/fs/cgroup",
            "cgroup",
            &["nosuid", "noexec", "nodev", "relatime", ro_unless_priv],
        ),
        m("/dev/mqueue", "mqueue", &["nosuid", "noexec", "nodev"]),
        tmpfs(
            "/dev/shm",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
    ]
}

const PROPAGATIONS: [&str; 6] = [
    "shared", "rshared", "slave", "rslave", "private", "rprivate",
];

fn bind(source: String, dest: &str, recursive: bool, ro: bool, propagation: Option<&str>) -> Mount {
    let mut options = vec![if recursive { "rbind" } else { "bind" }.to_string()];
    options.push(propagation.unwrap_or("rprivate").to_string());
    if ro {
        options.push("ro".into());
    }
    Mount {
        destination: dest.into(),
        kind: Some("bind".into()),
        source: Some(source),
        options,
        ..Mount::default()
    }
}

fn volume_path(daemon: &Daemon, name: &str) -> String {
    let name = if name.is_empty() { "<anonymous>" } else { name };
    format!(
        "{}/volumes/{name}/_data",
        daemon.data_root.trim_end_matches('/')
    )
}

/// One `Binds` entry: `SRC:DEST[:MODE]` (SRC absolute: a host path, else a
/// volume name) or `DEST` (an anonymous volume).
fn parse_bind(b: &str, daemon: &Daemon) -> Result<Mount, FieldError> {
    let field = || format!("HostConfig.Binds {b:?}");
    let parts: Vec<&str> = b.split(':').collect();
    let (src, dest, mode) = match parts[..] {
        [dest] => ("", dest, ""),
        [src, dest] => (src, dest, ""),
        [src, dest, mode] => (src, dest, mode),
        _ => return Err(FieldError::new(field(), "invalid volume specification")),
    };
    if !dest.starts_with('/') || dest == "/" {
        return Err(FieldError::new(field(), "invalid mount destination"));
    }
    let (mut ro, mut prop) = (false, None);
    for m in mode.split(',').filter(|m| !m.is_empty()) {
        match m {
            "ro" => ro = true,
            "rw" | "z" | "Z" | "nocopy" | "consistent" | "cached" | "delegated" => {}
            p if PROPAGATIONS.contains(&p) => prop = Some(p),
            _ => return Err(FieldError::new(field(), format!("invalid mode: {m}"))),
        }
    }
    let source = if src.starts_with('/') {
        src.to_string()
    } else {
        volume_path(daemon, src)
    };
    Ok(bind(source, dest, true, ro, prop))
}

fn parse_mount(m: &MountSpec, daemon: &Daemon) -> Result<Mount, FieldError> {
    let target = m.target.as_deref().unwrap_or("");
    let field = || format!("HostConfig.Mounts {target:?}");
    if !target.starts_with('/') {
        return Err(FieldError::new(field(), "Target must be an absolute path"));
    }
    let source = m.source.as_deref().unwrap_or("");
    let ro = m.read_only.unwrap_or(false);
    match m.kind.as_deref().unwrap_or("") {
        "bind" => {
            if !source.starts_with('/') {
                return Err(FieldError::new(
                    field(),
                    "a bind's Source must be an absolute path",
                ));
            }
            let opts = m.bind_options.clone().unwrap_or_default();
            let prop = opts.propagation.as_deref().filter(|p| !p.is_empty());
            if prop.is_some_and(|p| !PROPAGATIONS.contains(&p)) {
                return Err(FieldError::new(field(), "invalid propagation"));
            }
            Ok(bind(
                source.into(),
                target,
                !opts.non_recursive.unwrap_or(false),
                ro,
                prop,
            ))
        }
        "volume" => Ok(bind(volume_path(daemon, source), target, true, ro, None)),
        "tmpfs" => Ok(tmpfs(target, &["nosuid", "nodev", "noexec"])),
        other => Err(FieldError::new(
            field(),
            format!("mount type {other:?} is not supported"),
        )),
    }
}

/// `c 1:3 rwm`, `b *:* r`, `a`.
fn parse_cgroup_rule(rule: &str) -> Result<LinuxDeviceCgroup, FieldError> {
    let bad = || {
        FieldError::new(
            format!("HostConfig.DeviceCgroupRules {rule:?}"),
            "invalid device cgroup rule",
        )
    };
    let mut it = rule.split_whitespace();
    let kind = match it.next() {
        Some("a") => DeviceType::All,
        Some("c") => DeviceType::Char,
        Some("b") => DeviceType::Block,
        _ => return Err(bad()),
    };
    let (major, minor) = match it.next() {
        None => (None, None),
        Some(mm) => {
            let (ma, mi) = mm.split_once(':').ok_or_else(bad)?;
            let n = |s: &str| -> Result<Option<i64>, FieldError> {
                if s == "*" {
                    Ok(None)
                } else {
                    s.parse().map(Some).map_err(|_| bad())
                }
            };
            (n(ma)?, n(mi)?)
        }
    };
    let access = it.next().unwrap_or("rwm");
    if it.next().is_some() || access.chars().any(|c| !"rwm".contains(c)) {
        return Err(bad());
    }
    Ok(LinuxDeviceCgroup {
        allow: true,
        kind: Some(kind),
        major,
        minor,
        access: Some(access.into()),
    })
}

fn resources(r: &Resources) -> LinuxResources {
    let pos = |v: Option<i64>| v.filter(|v| *v != 0);
    let memory = LinuxMemory {
        limit: pos(r.memory),
        swap: pos(r.memory_swap),
        reservation: pos(r.memory_reservation),
        ..LinuxMemory::default()
    };
    let mut cpu = LinuxCpu {
        shares: pos(r.cpu_shares).map(|s| s as u64),
        quota: pos(r.cpu_quota),
        period: pos(r.cpu_period).map(|p| p as u64),
        cpus: r.cpuset_cpus.clone().filter(|s| !s.is_empty()),
        mems: r.cpuset_mems.clone().filter(|s| !s.is_empty()),
        ..LinuxCpu::default()
    };
    if let Some(n) = pos(r.nano_cpus) {
        // moby: period 100 ms, quota = NanoCpus * period / 1e9.
        cpu.period = Some(100_000);
        cpu.quota = Some(n.saturating_mul(100_000) / 1_000_000_000);
    }
    LinuxResources {
        memory: (memory != LinuxMemory::default()).then_some(memory),
        cpu: (cpu != LinuxCpu::default()).then_some(cpu),
        pids: pos(r.pids_limit).map(|l| LinuxPids { limit: Some(l) }),
        ..LinuxResources::default()
    }
}

/// Devices (`--device`, `--device-cgroup-rule`) and the device cgroup:
/// deny everything, then allow what was asked; privileged: every device.
fn devices(
    hc: &HostConfig,
    lookup: &dyn Fn(&str) -> Option<DeviceNode>,
    linux: &mut Linux,
    res: &mut LinuxResources,
) -> Result<(), FieldError> {
    if hc.privileged.unwrap_or(false) {
        // moby adds every host device node too; the rule below is what
        // grants them.
        res.devices = vec![LinuxDeviceCgroup {
            allow: true,
            access: Some("rwm".into()),
            ..LinuxDeviceCgroup::default()
        }];
        return Ok(());
    }
    res.devices = vec![LinuxDeviceCgroup {
        allow: false,
        access: Some("rwm".into()),
        ..LinuxDeviceCgroup::default()
    }];
    for d in hc.resources.devices.as_deref().unwrap_or(&[]) {
        let host = d.path_on_host.clone().unwrap_or_default();
        if !host.starts_with('/') {
            return Err(FieldError::new(
                "HostConfig.Devices",
                format!("{host:?} is not an absolute path"),
            ));
        }
        let path = d
            .path_in_container
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| host.clone());
        let access = d
            .cgroup_permissions
            .clone()
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "rwm".into());
        match lookup(&host) {
            Some(n) => {
                res.devices.push(LinuxDeviceCgroup {
                    allow: true,
                    kind: Some(if n.kind == "b" {
                        DeviceType::Block
                    } else {
                        DeviceType::Char
                    }),
                    major: Some(n.major),
                    minor: Some(n.minor),
                    access: Some(access),
                });
                linux.devices.push(Device {
                    kind: n.kind,
                    path,
                    major: n.major,
                    minor: n.minor,
                    ..Device::default()
                });
            }
            // Not looked up: judged as a device that is not standard.
            None => linux.devices.push(Device {
                kind: "c".into(),
                path,
                major: -1,
                minor: -1,
                ..Device::default()
            }),
        }
    }
    for rule in hc.resources.device_cgroup_rules.as_deref().unwrap_or(&[]) {
        res.devices.push(parse_cgroup_rule(rule)?);
    }
    Ok(())
}

fn seccomp(
    hc: &HostConfig,
    sec: &SecurityOpts,
    caps: &[String],
    daemon: &Daemon,
) -> Result<Option<ward_spec::seccomp::LinuxSeccomp>, FieldError> {
    if hc.privileged.unwrap_or(false) || sec.seccomp.as_deref() == Some("unconfined") {
        return Ok(None);
    }
    let json = sec
        .seccomp
        .as_deref()
        .or(daemon.seccomp_profile.as_deref())
        .unwrap_or(DOCKER_SECCOMP);
    let target = ward_seccomp::docker::Target {
        caps,
        native: ward_seccomp::native_arch(),
        kernel: daemon.kernel,
    };
    ward_seccomp::docker::load(json, &target)
        .map_err(|e| FieldError::new("HostConfig.SecurityOpt seccomp", e.to_string()))
}

/// The config of `POST /containers/create`: `daemon` as the daemon is set
/// up, `lookup` finds a `--device`'s node on the host.
pub fn spec_for_create_with(
    body: &ContainerCreateBody,
    daemon: &Daemon,
    lookup: &dyn Fn(&str) -> Option<DeviceNode>,
) -> Result<Spec, FieldError> {
    let hc = body.host_config.clone().unwrap_or_default();
    let privileged = hc.privileged.unwrap_or(false);
    let sec = security_opts(hc.security_opt.as_deref().unwrap_or(&[]))?;
    let caps = capabilities(&hc)?;
    let mut args = body
        .entrypoint
        .clone()
        .map(|e| e.into_vec())
        .unwrap_or_default();
    args.extend(body.cmd.clone().map(|c| c.into_vec()).unwrap_or_default());
    let mut proc = process(
        body.user.as_deref(),
        args,
        body.env.clone().unwrap_or_default(),
        body.working_dir.as_deref(),
        caps.clone(),
    );
    proc.terminal = body.tty.unwrap_or(false);
    proc.no_new_privileges = sec.no_new_privileges;
    if daemon.apparmor {
        proc.apparmor_profile = Some(match (&sec.apparmor, privileged) {
            (_, true) => "unconfined".into(),
            (Some(p), _) => p.clone(),
            (None, _) => "docker-default".into(),
        });
    }

    let mut mounts = default_mounts(privileged);
    for b in hc.binds.as_deref().unwrap_or(&[]) {
        mounts.push(parse_bind(b, daemon)?);
    }
    for m in hc.mounts.as_deref().unwrap_or(&[]) {
        mounts.push(parse_mount(m, daemon)?);
    }
    for (dest, opts) in hc.tmpfs.clone().unwrap_or_default() {
        let mut o: Vec<&str> = vec!["noexec", "nosuid", "nodev"];
        o.extend(opts.split(',').filter(|s| !s.is_empty()));
        mounts.push(tmpfs(&dest, &o));
    }

    let mut linux = Linux {
        namespaces: namespaces(&hc, daemon),
        sysctl: hc
            .sysctls
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect::<BTreeMap<_, _>>(),
        cgroups_path: Some(format!(
            "{}/ward-authz",
            hc.cgroup_parent
                .as_deref()
                .filter(|p| !p.is_empty())
                .unwrap_or("/docker")
                .trim_end_matches('/')
        )),
        ..Linux::default()
    };
    if !privileged && !sec.systempaths_unconfined {
        linux.masked_paths = hc
            .masked_paths
            .clone()
            .unwrap_or_else(|| MASKED_PATHS.iter().map(|s| s.to_string()).collect());
        linux.readonly_paths = hc
            .readonly_paths
            .clone()
            .unwrap_or_else(|| READONLY_PATHS.iter().map(|s| s.to_string()).collect());
    }
    let mut res = resources(&hc.resources);
    devices(&hc, lookup, &mut linux, &mut res)?;
    linux.resources = Some(res);
    linux.seccomp = seccomp(&hc, &sec, &caps, daemon)?;

    Ok(Spec {
        oci_version: "1.0.2-dev".into(),
        process: Some(proc),
        root: Some(Root {
            path: "rootfs".into(),
            readonly: hc.readonly_rootfs.unwrap_or(false),
        }),
        hostname: body.hostname.clone(),
        mounts,
        linux: Some(linux),
        ..Spec::default()
    })
}

/// The config an exec runs with: the container's (judged as Docker's
/// defaults: the plugin does not see the container's own config) with the
/// exec's process; `Privileged` gives it every capability (moby
/// `daemon/exec_linux.go`).
pub fn exec_spec(body: &ExecBody) -> Result<Spec, FieldError> {
    let mut spec = spec_for_create(&ContainerCreateBody::default())?;
    let caps: Vec<String> = if body.privileged.unwrap_or(false) {
        ward_spec::caps::NAMES
            .iter()
            .map(|c| c.to_string())
            .collect()
    } else {
        ward_spec::caps::DOCKER_DEFAULT
            .iter()
            .map(|c| c.to_string())
            .collect()
    };
    spec.process = Some(process(
        body.user.as_deref(),
        body.cmd.clone().map(|c| c.into_vec()).unwrap_or_default(),
        body.env.clone().unwrap_or_default(),
        body.working_dir.as_deref(),
        caps,
    ));
    Ok(spec)
}

/// The config's resources after `POST /containers/{id}/update`.
pub fn update_spec(r: &Resources) -> Spec {
    Spec {
        linux: Some(Linux {
            resources: Some(resources(r)),
            ..Linux::default()
        }),
        ..Spec::default()
    }
}

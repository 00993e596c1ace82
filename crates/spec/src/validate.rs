//! Validation of a parsed config: every check that needs no syscall.
//!
//! Each error names the config field and says what to do, and it happens
//! before anything on the system is touched.

use std::collections::BTreeSet;

use crate::config::{NamespaceType, Spec};
use crate::{caps, Error};

fn invalid(field: impl Into<String>, msg: impl Into<String>) -> Error {
    Error::Invalid {
        field: field.into(),
        msg: msg.into(),
    }
}

/// Whether `p` is an absolute path without NUL bytes.
fn is_abs(p: &str) -> bool {
    p.starts_with('/') && !p.contains('\0')
}

/// Checks a parsed config. `need_process`: create/run need `process`.
pub fn validate(spec: &Spec, need_process: bool) -> Result<(), Error> {
    if !spec.oci_version.starts_with("1.") {
        return Err(invalid(
            "ociVersion",
            format!("{:?} is not a 1.x runtime-spec version", spec.oci_version),
        ));
    }
    match &spec.root {
        Some(r) if !r.path.is_empty() && !r.path.contains('\0') => {}
        _ => {
            return Err(invalid(
                "root.path",
                "is missing: set it to the bundle's rootfs directory (e.g. \"rootfs\")",
            ))
        }
    }
    if need_process {
        let Some(p) = &spec.process else {
            return Err(invalid(
                "process",
                "is missing: a container needs a process to run",
            ));
        };
        validate_process(p, "process")?;
    }
    for (i, m) in spec.mounts.iter().enumerate() {
        // runc and crun accept a relative destination as relative to the
        // container's root (runc warns); ward does the same.
        if m.destination.trim_matches('/').is_empty()
            && m.kind.as_deref() != Some("bind")
            && !m.options.iter().any(|o| o == "bind" || o == "rbind")
        {
            return Err(invalid(
                format!("mounts[{i}].destination"),
                format!("{:?}: only a bind mount may cover the root", m.destination),
            ));
        }
        if m.destination.contains('\0') || m.destination.split('/').any(|c| c == "..") {
            return Err(invalid(
                format!("mounts[{i}].destination"),
                format!("{:?} must not contain \"..\" or NUL", m.destination),
            ));
        }
    }
    let ns = validate_namespaces(spec)?;
    crate::landlock::from_annotations(&spec.annotations)?;
    if spec.hostname.as_deref().is_some_and(|h| !h.is_empty()) && !ns.contains(&NamespaceType::Uts)
    {
        return Err(invalid(
            "hostname",
            "needs a uts namespace: add {\"type\": \"uts\"} to linux.namespaces",
        ));
    }
    if spec.domainname.as_deref().is_some_and(|h| !h.is_empty())
        && !ns.contains(&NamespaceType::Uts)
    {
        return Err(invalid(
            "domainname",
            "needs a uts namespace: add {\"type\": \"uts\"} to linux.namespaces",
        ));
    }
    if let Some(linux) = &spec.linux {
        for (key, _) in linux.sysctl.iter() {
            validate_sysctl(key, spec)?;
        }
        for (i, d) in linux.devices.iter().enumerate() {
            if !is_abs(&d.path) {
                return Err(invalid(
                    format!("linux.devices[{i}].path"),
                    format!("{:?} is not absolute", d.path),
                ));
            }
            if !matches!(d.kind.as_str(), "c" | "b" | "u" | "p") {
                return Err(invalid(
                    format!("linux.devices[{i}].type"),
                    format!("{:?} is not one of c, b, u, p", d.kind),
                ));
            }
            if d.major < 0 || d.minor < 0 {
                return Err(invalid(
                    format!("linux.devices[{i}]"),
                    "major and minor must not be negative",
                ));
            }
        }
        for (name, list) in [
            ("linux.maskedPaths", &linux.masked_paths),
            ("linux.readonlyPaths", &linux.readonly_paths),
        ] {
            for (i, p) in list.iter().enumerate() {
                if !is_abs(p) {
                    return Err(invalid(
                        format!("{name}[{i}]"),
                        format!("{p:?} is not an absolute path"),
                    ));
                }
            }
        }
        if let Some(p) = &linux.rootfs_propagation {
            if !matches!(
                p.as_str(),
                "shared"
                    | "slave"
                    | "private"
                    | "unbindable"
                    | "rshared"
                    | "rslave"
                    | "rprivate"
                    | "runbindable"
                    | ""
            ) {
                return Err(invalid(
                    "linux.rootfsPropagation",
                    format!("{p:?} is not a propagation mode"),
                ));
            }
        }
        if linux.intel_rdt.is_some() {
            return Err(invalid(
                "linux.intelRdt",
                "is not supported by ward; remove it (ignoring it would drop the limit silently)",
            ));
        }
        if linux.personality.is_some() {
            return Err(invalid(
                "linux.personality",
                "is not supported by ward yet; remove it",
            ));
        }
        if linux.time_offsets.as_ref().is_some_and(|t| !t.is_empty())
            && !ns.contains(&NamespaceType::Time)
        {
            return Err(invalid(
                "linux.timeOffsets",
                "needs a time namespace: add {\"type\": \"time\"} to linux.namespaces",
            ));
        }
        if let Some(cg) = &linux.cgroups_path {
            if cg.contains('\0') || cg.split('/').any(|c| c == "..") {
                return Err(invalid(
                    "linux.cgroupsPath",
                    format!("{cg:?} must not contain \"..\" or NUL"),
                ));
            }
        }
    }
    validate_hooks(spec)
}

/// Checks `process` (also used for `exec --process`).
pub fn validate_process(p: &crate::config::Process, field: &str) -> Result<(), Error> {
    if p.args.is_empty() || p.args[0].is_empty() {
        return Err(invalid(
            format!("{field}.args"),
            "is empty: give the command to run",
        ));
    }
    if !is_abs(&p.cwd) {
        return Err(invalid(
            format!("{field}.cwd"),
            format!("{:?} must be an absolute path", p.cwd),
        ));
    }
    for (i, e) in p.env.iter().enumerate() {
        if !e.contains('=') || e.starts_with('=') || e.contains('\0') {
            return Err(invalid(
                format!("{field}.env[{i}]"),
                format!("{e:?} is not KEY=VALUE"),
            ));
        }
    }
    let mut seen = BTreeSet::new();
    for (i, r) in p.rlimits.iter().enumerate() {
        if crate::rlimit_number(&r.kind).is_none() {
            return Err(invalid(
                format!("{field}.rlimits[{i}].type"),
                format!("unknown rlimit {:?}", r.kind),
            ));
        }
        if r.soft > r.hard {
            return Err(invalid(
                format!("{field}.rlimits[{i}]"),
                "soft limit is above the hard limit",
            ));
        }
        if !seen.insert(&r.kind) {
            return Err(invalid(
                format!("{field}.rlimits[{i}].type"),
                format!("{} is given twice", r.kind),
            ));
        }
    }
    if let Some(c) = &p.capabilities {
        for (set, list) in [
            ("bounding", &c.bounding),
            ("effective", &c.effective),
            ("inheritable", &c.inheritable),
            ("permitted", &c.permitted),
            ("ambient", &c.ambient),
        ] {
            for (i, name) in list.iter().flatten().enumerate() {
                if caps::number(name).is_none() {
                    return Err(invalid(
                        format!("{field}.capabilities.{set}[{i}]"),
                        format!("unknown capability {name:?}"),
                    ));
                }
            }
        }
    }
    if let Some(u) = p.user.umask {
        if u > 0o777 {
            return Err(invalid(
                format!("{field}.user.umask"),
                format!("{u:#o} is not a permission mask"),
            ));
        }
    }
    Ok(())
}

fn validate_namespaces(spec: &Spec) -> Result<BTreeSet<NamespaceType>, Error> {
    let mut seen = BTreeSet::new();
    let Some(linux) = &spec.linux else {
        return Ok(seen);
    };
    for (i, n) in linux.namespaces.iter().enumerate() {
        if !seen.insert(n.kind) {
            return Err(invalid(
                format!("linux.namespaces[{i}]"),
                format!("{} is listed twice", n.kind.oci_name()),
            ));
        }
        if let Some(p) = &n.path {
            if !is_abs(p) {
                return Err(invalid(
                    format!("linux.namespaces[{i}].path"),
                    format!("{p:?} is not an absolute path"),
                ));
            }
        }
    }
    let new_userns = spec
        .namespace(NamespaceType::User)
        .is_some_and(|n| n.path.is_none());
    let mapped = !linux.uid_mappings.is_empty() || !linux.gid_mappings.is_empty();
    if new_userns && (linux.uid_mappings.is_empty() || linux.gid_mappings.is_empty()) {
        return Err(invalid(
            "linux.uidMappings",
            "a new user namespace needs uidMappings and gidMappings (e.g. {\"containerID\":0,\"hostID\":100000,\"size\":65536})",
        ));
    }
    if mapped && !new_userns {
        return Err(invalid(
            "linux.uidMappings",
            "mappings are given but no new user namespace: add {\"type\": \"user\"}",
        ));
    }
    for (name, maps) in [
        ("linux.uidMappings", &linux.uid_mappings),
        ("linux.gidMappings", &linux.gid_mappings),
    ] {
        for (i, m) in maps.iter().enumerate() {
            if m.size == 0
                || m.container_id.checked_add(m.size).is_none()
                || m.host_id.checked_add(m.size).is_none()
            {
                return Err(invalid(
                    format!("{name}[{i}]"),
                    "size must be > 0 and the range must not overflow",
                ));
            }
        }
    }
    Ok(seen)
}

/// Sysctls a container may set: only those the kernel namespaces, and only
/// when the container has its own namespace of that kind. Anything else
/// would change the host.
fn validate_sysctl(key: &str, spec: &Spec) -> Result<(), Error> {
    let field = format!("linux.sysctl.{key}");
    if key.is_empty()
        || key.contains('\0')
        || key.split(['.', '/']).any(|c| c.is_empty() || c == "..")
    {
        return Err(invalid(field, "is not a valid sysctl name"));
    }
    let own = |kind: NamespaceType| spec.namespace(kind).is_some_and(|n| n.path.is_none());
    let (needed, ok) = match sysctl_namespace(key) {
        Some(NamespaceType::Ipc) => ("ipc", own(NamespaceType::Ipc)),
        Some(NamespaceType::Network) => ("network", spec.has_namespace(NamespaceType::Network)),
        Some(NamespaceType::Uts) => ("uts", own(NamespaceType::Uts)),
        _ => {
            return Err(invalid(
                field,
                "is not namespaced: setting it would change the host; remove it",
            ))
        }
    };
    if !ok {
        return Err(invalid(
            field,
            format!("needs the container's own {needed} namespace"),
        ));
    }
    Ok(())
}

/// `key` with `/` separators written as dots: `net/ipv4/ip_forward` and
/// `net.ipv4.ip_forward` name the same sysctl (runc accepts both since
/// 1.1, and writes both to the same /proc/sys path).
pub fn sysctl_dotted(key: &str) -> String {
    key.replace('/', ".")
}

/// The namespace that isolates sysctl `key` (runc's validator's list), or
/// None when the kernel does not namespace it (setting it changes the host).
/// Either separator: see [`sysctl_dotted`].
pub fn sysctl_namespace(key: &str) -> Option<NamespaceType> {
    let dotted = sysctl_dotted(key);
    let key = dotted.as_str();
    const IPC: [&str; 8] = [
        "kernel.msgmax",
        "kernel.msgmnb",
        "kernel.msgmni",
        "kernel.sem",
        "kernel.shmall",
        "kernel.shmmax",
        "kernel.shmmni",
        "kernel.shm_rmid_forced",
    ];
    if IPC.contains(&key) || key.starts_with("fs.mqueue.") {
        Some(NamespaceType::Ipc)
    } else if key.starts_with("net.") {
        Some(NamespaceType::Network)
    } else if key == "kernel.hostname" || key == "kernel.domainname" {
        Some(NamespaceType::Uts)
    } else {
        None
    }
}

fn validate_hooks(spec: &Spec) -> Result<(), Error> {
    let Some(h) = &spec.hooks else { return Ok(()) };
    for (kind, list) in h.by_stage() {
        for (i, hook) in list.iter().enumerate() {
            if !is_abs(&hook.path) {
                return Err(invalid(
                    format!("hooks.{kind}[{i}].path"),
                    format!("{:?} must be an absolute path", hook.path),
                ));
            }
            if hook.timeout.is_some_and(|t| t <= 0) {
                return Err(invalid(
                    format!("hooks.{kind}[{i}].timeout"),
                    "must be a positive number of seconds",
                ));
            }
        }
    }
    Ok(())
}

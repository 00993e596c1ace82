//! CIS Docker Benchmark section 5 for containers seen through the Docker
//! API (`GET /containers/{id}/json`): the same concerns as ward's policy
//! rules on OCI configs, read from Docker's inspect format, under the same
//! ids (`container.` + the policy rule's id) where a rule exists.

use serde_json::Value;
use ward_policy::Severity::{Critical, High, Low, Medium};

use crate::finding::{Check, Finding};

macro_rules! check {
    ($name:ident, $id:expr, [$($cis:expr),*], $sev:expr, $title:expr, $why:expr, $fix:expr) => {
        pub const $name: Check = Check { id: $id, cis: &[$($cis),*], severity: $sev, title: $title, why: $why, fix: $fix };
    };
}

check!(
    PRIVILEGED,
    "container.privileged",
    ["5.5"],
    Critical,
    "a privileged container",
    "with every capability and every device, root in the container is root on the host",
    "docker run --cap-drop ALL --cap-add <what it needs> (never --privileged)"
);
check!(CAPS_ADDED, "container.caps.added", ["5.4"], Medium, "capabilities added to the default set",
    "each added capability widens what root in the container can do to the kernel (CAP_SYS_ADMIN: nearly everything)",
    "docker run --cap-drop ALL --cap-add <only what it needs>");
check!(NET_HOST, "container.namespace.host-net", ["5.10"], High, "the host's network namespace is shared",
    "the container sees and binds every host interface, reaches services on 127.0.0.1 and can sniff or spoof host traffic",
    "remove --network host; publish the ports it serves (-p 127.0.0.1:8080:8080)");
check!(PID_HOST, "container.namespace.host-pid", ["5.16"], High, "the host's PID namespace is shared",
    "the container sees every host process and, with ptrace or signals, attacks them; /proc/PID/root reaches their files",
    "remove --pid host");
check!(
    IPC_HOST,
    "container.namespace.host-ipc",
    ["5.17"],
    High,
    "the host's IPC namespace is shared",
    "the container reads and writes the host's shared memory and semaphores",
    "remove --ipc host"
);
check!(
    UTS_HOST,
    "container.namespace.host-uts",
    ["5.21"],
    Medium,
    "the host's UTS namespace is shared",
    "the container can change the host's hostname",
    "remove --uts host"
);
check!(
    USERNS_HOST,
    "container.namespace.host-user",
    ["5.31"],
    Medium,
    "user namespace remapping disabled for this container",
    "root in the container is uid 0 on the host",
    "remove --userns host"
);
check!(SOCKET, "container.mount.runtime-socket", ["5.32"], Critical, "the Docker (or containerd) socket is mounted",
    "whoever is in the container controls the engine and so the host: docker run --privileged -v /:/host",
    "remove the socket mount; give the workload a narrow API proxy or an authorization plugin instead");
check!(SENSITIVE, "container.mount.sensitive-host-path", ["5.6"], High, "a sensitive host directory is mounted",
    "a host /, /etc, /proc, /sys, /dev, /boot or /usr in the container lets it read secrets or rewrite the host",
    "mount only the data directory it needs, read-only where possible (-v /srv/app/data:/data:ro)");
check!(
    PROPAGATION,
    "container.mount.propagation-shared",
    ["5.20"],
    Medium,
    "a mount with shared propagation",
    "mounts made in the container appear on the host",
    "use the default (rprivate) propagation"
);
check!(
    DEVICES,
    "container.device.host",
    ["5.18"],
    Medium,
    "host devices exposed",
    "a raw device gives direct access to host hardware (disks: the host's files)",
    "remove --device; expose data, not devices"
);
check!(
    SECCOMP,
    "container.seccomp.missing",
    ["5.22"],
    High,
    "seccomp disabled (seccomp=unconfined)",
    "the whole syscall table reaches the kernel: more kernel bugs become escapes",
    "remove --security-opt seccomp=unconfined"
);
check!(
    NNP,
    "container.no-new-privileges",
    ["5.26"],
    Medium,
    "the container may gain privileges (no no-new-privileges)",
    "a setuid binary in the image raises a process back to root",
    "docker run --security-opt no-new-privileges"
);
check!(
    MEMORY,
    "container.limits.memory",
    ["5.11"],
    Low,
    "no memory limit",
    "one container can exhaust the host's memory and have the OOM killer take other containers",
    "docker run --memory 512m"
);
check!(
    PIDS,
    "container.limits.pids",
    ["5.29"],
    Low,
    "no PIDs limit",
    "a fork bomb in the container exhausts the host's process table",
    "docker run --pids-limit 1024"
);
check!(
    ROOTFS,
    "container.rootfs.writable",
    ["5.13"],
    Low,
    "the root filesystem is writable",
    "an intruder can change the container's binaries and plant tools",
    "docker run --read-only --tmpfs /tmp"
);
check!(
    ROOT,
    "container.user.root",
    ["4.1"],
    Medium,
    "runs as root",
    "root in the container is the widest kernel attack surface and owns every file in it",
    "docker run --user 10001 (or USER in the image)"
);
check!(
    PRIV_PORT,
    "container.port.privileged",
    ["5.8"],
    Low,
    "a privileged host port (below 1024) is published",
    "ports below 1024 are trusted as system services by some clients",
    "publish a port at or above 1024 (-p 8080:80)"
);

/// The findings of one container's inspect JSON; `daemon_nnp`: dockerd
/// sets no-new-privileges for every container.
pub fn check(inspect: &Value, daemon_nnp: bool) -> Vec<Finding> {
    let hc = &inspect["HostConfig"];
    let mut out = Vec::new();
    let s = |v: &Value| v.as_str().unwrap_or("").to_string();
    if hc["Privileged"].as_bool() == Some(true) {
        out.push(PRIVILEGED.seen("HostConfig.Privileged: true"));
    }
    let caps: Vec<String> = hc["CapAdd"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .collect();
    if !caps.is_empty() {
        out.push(CAPS_ADDED.seen(format!("CapAdd: {}", caps.join(", "))));
    }
    for (key, check) in [
        ("NetworkMode", &NET_HOST),
        ("PidMode", &PID_HOST),
        ("IpcMode", &IPC_HOST),
        ("UTSMode", &UTS_HOST),
        ("UsernsMode", &USERNS_HOST),
    ] {
        if hc[key] == "host" {
            out.push(check.seen(format!("HostConfig.{key}: host")));
        }
    }
    for m in inspect["Mounts"].as_array().into_iter().flatten() {
        let src = s(&m["Source"]);
        if src.ends_with("docker.sock") || src.ends_with("containerd.sock") {
            out.push(SOCKET.seen(format!("{src} -> {}", s(&m["Destination"]))));
        } else if is_sensitive(&src) {
            out.push(SENSITIVE.seen(format!("{src} -> {}", s(&m["Destination"]))));
        }
        if s(&m["Propagation"]).contains("shared") {
            out.push(PROPAGATION.seen(format!("{src}: {}", s(&m["Propagation"]))));
        }
    }
    if hc["Devices"].as_array().is_some_and(|d| !d.is_empty()) {
        out.push(DEVICES.seen(format!("Devices: {}", hc["Devices"])));
    }
    let opts: Vec<String> = hc["SecurityOpt"]
        .as_array()
        .into_iter()
        .flatten()
        .map(s)
        .collect();
    if opts
        .iter()
        .any(|o| o == "seccomp=unconfined" || o == "seccomp:unconfined")
    {
        out.push(SECCOMP.seen("SecurityOpt: seccomp=unconfined"));
    }
    if !daemon_nnp
        && !opts
            .iter()
            .any(|o| o.starts_with("no-new-privileges") && !o.ends_with("false"))
    {
        out.push(NNP.seen("no no-new-privileges in SecurityOpt"));
    }
    if hc["Memory"].as_i64().unwrap_or(0) <= 0 {
        out.push(MEMORY.seen("HostConfig.Memory: 0"));
    }
    if hc["PidsLimit"].as_i64().unwrap_or(0) <= 0 {
        out.push(PIDS.seen(format!("HostConfig.PidsLimit: {}", hc["PidsLimit"])));
    }
    if hc["ReadonlyRootfs"].as_bool() != Some(true) {
        out.push(ROOTFS.seen("HostConfig.ReadonlyRootfs: false"));
    }
    let user = s(&inspect["Config"]["User"]);
    let name = user.split(':').next().unwrap_or("");
    if name.is_empty() || name == "root" || name == "0" {
        out.push(ROOT.seen(format!("Config.User: {user:?}")));
    }
    for (port, binds) in hc["PortBindings"].as_object().into_iter().flatten() {
        for b in binds.as_array().into_iter().flatten() {
            if s(&b["HostPort"])
                .parse::<u32>()
                .is_ok_and(|p| p > 0 && p < 1024)
            {
                out.push(PRIV_PORT.seen(format!("{port} -> host port {}", s(&b["HostPort"]))));
            }
        }
    }
    out
}

/// A host system directory (or the root) as a bind source.
fn is_sensitive(src: &str) -> bool {
    let t = src.trim_end_matches('/');
    let t = if t.is_empty() { "/" } else { t };
    [
        "/", "/boot", "/dev", "/etc", "/lib", "/proc", "/sys", "/usr",
    ]
    .contains(&t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn inspect_findings() {
        let v = json!({
            "Config": {"User": ""},
            "HostConfig": {"Privileged": true, "CapAdd": ["SYS_ADMIN"], "PidMode": "host",
                "SecurityOpt": ["seccomp=unconfined"], "Memory": 0, "PidsLimit": null,
                "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "80"}]}},
            "Mounts": [{"Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock"},
                       {"Source": "/", "Destination": "/host", "Propagation": "rshared"}],
        });
        let mut ids: Vec<String> = check(&v, false).into_iter().map(|f| f.id).collect();
        ids.sort();
        assert_eq!(
            ids,
            [
                "container.caps.added",
                "container.limits.memory",
                "container.limits.pids",
                "container.mount.propagation-shared",
                "container.mount.runtime-socket",
                "container.mount.sensitive-host-path",
                "container.namespace.host-pid",
                "container.no-new-privileges",
                "container.port.privileged",
                "container.privileged",
                "container.rootfs.writable",
                "container.seccomp.missing",
                "container.user.root",
            ]
        );
        let v = json!({"Config": {"User": "1000"}, "HostConfig": {"Memory": 1, "PidsLimit": 10,
            "ReadonlyRootfs": true, "SecurityOpt": ["no-new-privileges"]}, "Mounts": []});
        assert!(check(&v, false).is_empty());
    }
}

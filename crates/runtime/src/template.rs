//! `spec` templates and the `features` document.

use serde_json::{json, Value};
use ward_spec::seccomp::{Action, Arch, Flag, Operator};

/// Docker's default masked paths (testdata/reference/docker-masked-paths.txt).
/// Plus /sys/kernel/security (LSM policy interfaces).
pub const MASKED_PATHS: [&str; 13] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
    "/sys/kernel/security",
];

/// Docker's default read-only paths.
pub const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The config `ward-oci spec` writes: runc's template with Docker's longer
/// masked-path list. `rootless`: a user namespace mapping the caller.
pub fn default_spec(rootless: bool) -> Value {
    let caps = json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    let mut spec = json!({
        "ociVersion": "1.2.0",
        "process": {
            "terminal": true,
            "user": {"uid": 0, "gid": 0},
            "args": ["sh"],
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {"bounding": caps, "effective": caps, "permitted": caps},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": true
        },
        "root": {"path": "rootfs", "readonly": true},
        "hostname": "ward",
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
             "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
            {"destination": "/dev/shm", "type": "tmpfs", "source": "shm", "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]},
            {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
            {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
            {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup", "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]}
        ],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
            "maskedPaths": MASKED_PATHS,
            "readonlyPaths": READONLY_PATHS
        }
    });
    if rootless {
        // The caller is mapped to root inside. Unlike runc's rootless
        // template, the network namespace stays (only `lo`: a rootless
        // container gets no host network unless it asks), so sysfs can
        // still be mounted fresh; the device cgroup rules go (an
        // unprivileged user cannot write them).
        let uid = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        spec["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": uid, "size": 1}]);
        spec["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": gid, "size": 1}]);
        if let Some(ns) = spec["linux"]["namespaces"].as_array_mut() {
            ns.push(json!({"type": "user"}));
        }
        if let Some(l) = spec["linux"].as_object_mut() {
            l.remove("resources");
        }
        // gid=5 (tty) is not mapped in a single-id user namespace.
        spec["mounts"][2]["options"] = json!([
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620"
        ]);
    }
    spec
}

/// The uid/gid range the hardened template maps when root writes it.
pub const DEFAULT_SUBID_RANGE: (u32, u32) = (100_000, 65_536);

/// The subordinate id range for `user` in an /etc/subuid (or subgid)
/// text: the user's own entry (by name or number), the first one; else
/// [`DEFAULT_SUBID_RANGE`] when it overlaps no entry; else the first
/// 65536-aligned range above every entry (so that no rootless user's
/// containers share host ids with these). At most 65536 ids.
pub fn subid_range(text: &str, user: &str, uid: u32) -> (u32, u32) {
    let entries: Vec<(&str, u32, u32)> = text
        .lines()
        .filter_map(|l| {
            let mut f = l.trim().split(':');
            let (name, start, count) = (f.next()?, f.next()?, f.next()?);
            Some((name, start.parse().ok()?, count.parse().ok()?))
        })
        .filter(|e| e.2 > 0)
        .collect();
    if let Some(e) = entries
        .iter()
        .find(|e| e.0 == user || e.0 == uid.to_string())
    {
        return (e.1, e.2.min(65_536));
    }
    let (start, size) = DEFAULT_SUBID_RANGE;
    let overlaps = |s: u32, n: u32| {
        entries.iter().any(|e| {
            u64::from(s) < u64::from(e.1) + u64::from(e.2)
                && u64::from(e.1) < u64::from(s) + u64::from(n)
        })
    };
    if !overlaps(start, size) {
        return (start, size);
    }
    let top = entries
        .iter()
        .map(|e| u64::from(e.1) + u64::from(e.2))
        .max()
        .unwrap_or(0);
    let aligned = top.div_ceil(65_536) * 65_536;
    (u32::try_from(aligned).unwrap_or(start), size)
}

/// Where the hardened spec's Landlock rules allow writes: its tmpfs, devpts
/// and mqueue mounts, and the device nodes every container gets.
const HARDENED_WRITABLE: [&str; 10] = [
    "/tmp",
    "/dev/shm",
    "/dev/mqueue",
    "/dev/pts",
    "/dev/null",
    "/dev/zero",
    "/dev/full",
    "/dev/random",
    "/dev/urandom",
    "/dev/tty",
];

/// The config `ward-oci spec` writes by default: every layer on. A user
/// namespace (root: a subordinate range of /etc/subuid for root, else
/// 100000:65536; rootless: the caller), no capabilities, read-only rootfs
/// with a tmpfs /tmp, no_new_privs, ward's seccomp profile, Docker's masked
/// and read-only paths plus ward's, memory and pids limits, every
/// namespace new, and Landlock (docs/landlock.md): read and execute
/// everywhere, every write right only on the tmpfs and /dev mounts and the
/// standard device nodes — a second, mount-independent wall in case a
/// mount ends up writable. The rootfs must be readable by the mapped ids:
/// `chown -R 100000:100000 rootfs` (the range's start), or world-readable
/// files on a path every id can traverse.
pub fn hardened_spec(rootless: bool) -> Value {
    let mut spec = default_spec(rootless);
    let none: [&str; 0] = [];
    spec["process"]["capabilities"] =
        json!({"bounding": none, "effective": none, "permitted": none});
    spec["root"]["readonly"] = json!(true);
    spec["process"]["noNewPrivileges"] = json!(true);
    spec["process"]["rlimits"] = json!([
        {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024},
        {"type": "RLIMIT_CORE", "hard": 0, "soft": 0}
    ]);
    if let Some(m) = spec["mounts"].as_array_mut() {
        m.push(
            json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
            "options": ["nosuid", "nodev", "noexec", "mode=1777", "size=65536k"]}),
        );
    }
    spec["linux"]["seccomp"] =
        serde_json::to_value(ward_seccomp::default_profile()).unwrap_or(Value::Null);
    spec["annotations"] = json!({
        ward_spec::landlock::READ_EXEC: "/",
        ward_spec::landlock::READ_WRITE: HARDENED_WRITABLE.join(","),
    });
    if !rootless {
        let id = |file: &str, name: &str, n: u32| {
            subid_range(&std::fs::read_to_string(file).unwrap_or_default(), name, n)
        };
        let (u, us) = id("/etc/subuid", "root", 0);
        let (g, gs) = id("/etc/subgid", "root", 0);
        spec["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": u, "size": us}]);
        spec["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": g, "size": gs}]);
        if let Some(ns) = spec["linux"]["namespaces"].as_array_mut() {
            ns.push(json!({"type": "user"}));
        }
        spec["linux"]["resources"] = json!({
            "devices": [{"allow": false, "access": "rwm"}],
            "memory": {"limit": 536_870_912},
            "pids": {"limit": 1024}
        });
    }
    spec
}

/// The OCI features document: only what ward really implements.
pub fn features() -> Value {
    let landlock_abi = ward_sys::landlock::abi_version();
    let mount_options = [
        "async",
        "atime",
        "bind",
        "defaults",
        "dev",
        "diratime",
        "exec",
        "idmap",
        "noatime",
        "nodev",
        "nodiratime",
        "noexec",
        "nosuid",
        "nosymfollow",
        "private",
        "rbind",
        "rdev",
        "rdiratime",
        "relatime",
        "remount",
        "rexec",
        "ridmap",
        "rnoatime",
        "rnodev",
        "rnodiratime",
        "rnoexec",
        "rnosuid",
        "ro",
        "rprivate",
        "rrelatime",
        "rro",
        "rrw",
        "rshared",
        "rslave",
        "rstrictatime",
        "rsuid",
        "runbindable",
        "rw",
        "shared",
        "slave",
        "strictatime",
        "suid",
        "symfollow",
        "unbindable",
    ];
    json!({
        "ociVersionMin": "1.0.0",
        "ociVersionMax": "1.2.0",
        "hooks": ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"],
        "mountOptions": mount_options.to_vec(),
        "linux": {
            "namespaces": ["cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"],
            "capabilities": ward_spec::caps::NAMES.to_vec(),
            "cgroup": {"v1": true, "v2": true, "systemd": true, "systemdUser": true, "rdma": false},
            "seccomp": {
                "enabled": true,
                "actions": Action::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "operators": Operator::ALL.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
                "archs": Arch::ALL.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                "knownFlags": Flag::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>(),
                "supportedFlags": Flag::ALL.iter().map(|f| f.as_str()).collect::<Vec<_>>()
            },
            "apparmor": {"enabled": true},
            "selinux": {"enabled": false},
            "intelRdt": {"enabled": false},
            // Bind mounts with the container's own id maps (runtime as root).
            "mountExtensions": {"idmap": {"enabled": true}}
        },
        "annotations": {
            "run.ward.version": env!("CARGO_PKG_VERSION"),
            "run.ward.pivot": "open_tree/move_mount onto openat2(RESOLVE_IN_ROOT) targets",
            // ward's Landlock extension (docs/landlock.md), in the shape of
            // runc's "org.opencontainers.runc.checkpoint.enabled".
            "run.ward.landlock.enabled": (landlock_abi > 0).to_string(),
            "run.ward.landlock.abi": landlock_abi.to_string(),
            "run.ward.landlock.annotations": ward_spec::landlock::KEYS.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(",")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subid_range_choice() {
        assert_eq!(subid_range("", "root", 0), DEFAULT_SUBID_RANGE);
        assert_eq!(
            subid_range("root:300000:65536\n", "root", 0),
            (300_000, 65_536)
        );
        assert_eq!(
            subid_range("0:400000:1000000\n", "root", 0),
            (400_000, 65_536)
        );
        // alice owns 100000..165535: root's containers must not share it.
        assert_eq!(
            subid_range("alice:100000:65536\nbob:165536:65536\n", "root", 0),
            (262_144, 65_536)
        );
        assert_eq!(
            subid_range("alice:500000:65536\n", "root", 0),
            DEFAULT_SUBID_RANGE
        );
    }
}

//! What a bind mount (or `root.path`) would expose of the host, judged on
//! what the runtime actually opened: the kernel's name of the opened file
//! and every other host path that names it, or one of its parents, by
//! identity (device and inode) — never on the string the config wrote.
//!
//! Threats: a bind of the host's `/`, `/etc`, `/proc/sys`, a cron directory,
//! systemd units, `/root/.ssh`, a disk, a runtime's state or an engine's API
//! socket turns root in the container into root on the host (CIS 5.6, 5.32).
//! Spelling the same source another way (`//etc/`, `/srv/link -> /etc`,
//! `/proc/self/root/etc`, a source reached through a procfs or a symlink
//! that an earlier mount of the same config puts in the rootfs) must not
//! change the verdict: the runtime resolves sources without magic links
//! before anything is mounted, hands the policy what it opened, and mounts
//! only that same file (the sandbox checks its identity again at mount time).

use serde::Serialize;

/// What kind of file a resolved source is (what `fstat` said).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ObjectKind {
    Dir,
    File,
    Socket,
    CharDevice {
        major: u32,
        minor: u32,
    },
    BlockDevice {
        major: u32,
        minor: u32,
    },
    Other,
    /// Not looked at (a pure caller without a host, e.g. a unit test).
    Unknown,
}

/// A bind source (or the rootfs) as the runtime resolved it on the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Opened.
    Host {
        /// The kernel's path of the opened file first, then every other
        /// host path that names it or a parent of it by identity (a host
        /// bind mount of `/etc` at `/srv/etc` makes `/srv/etc/cron.d` also
        /// `/etc/cron.d`).
        names: Vec<String>,
        kind: ObjectKind,
        /// It lies inside the container's own root.path: a mount of the
        /// same config could stand in its place.
        inside_rootfs: bool,
    },
    /// Could not be opened on the host without magic links (or does not
    /// exist yet): why.
    Unresolved(String),
}

/// Host system directories that a bind mount must not expose: the
/// directory itself, a parent of it, or anything below it (with the
/// allowances below). `/` counts as itself only. Neither may `root.path`
/// be or lie below one.
pub const SYSTEM_PATHS: [&str; 17] = [
    "/",
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/root",
    "/sbin",
    "/sys",
    "/usr",
    "/var/spool/cron",
    "/run/dbus",
    "/run/systemd",
];

/// Container engines' and runtimes' state: sensitive like
/// [`SYSTEM_PATHS`] for bind mounts, but a container's rootfs legitimately
/// lives below these (Docker's overlay2 `merged`, containerd's task
/// `rootfs`, Podman's storage).
pub const ENGINE_STATE: [&str; 13] = [
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/containers",
    "/var/lib/kubelet",
    "/run/docker",
    "/run/containerd",
    "/run/containers",
    "/run/podman",
    "/run/crio",
    "/run/buildkit",
    "/run/runc",
    "/run/crun",
    "/run/ward",
];

/// Every built-in sensitive directory.
pub fn sensitive_paths() -> impl Iterator<Item = &'static str> {
    SYSTEM_PATHS.into_iter().chain(ENGINE_STATE)
}

/// What engines really bind from inside their own state, per container:
/// Docker's `resolv.conf`, `hosts`, `hostname`, `/dev/shm` and secrets, its
/// named volumes; containerd CRI's sandbox files and volumes; Podman's
/// `userdata` and volumes; the kubelet's pod volumes, `etc-hosts` and
/// termination-log files; the host's IPC (`--ipc=host`). `*` is one path
/// component, `**` any number (also none).
pub const ENGINE_FILES: [&str; 16] = [
    "/var/lib/docker/containers/*/resolv.conf",
    "/var/lib/docker/containers/*/hostname",
    "/var/lib/docker/containers/*/hosts",
    "/var/lib/docker/containers/*/mounts/**",
    "/var/lib/docker/volumes/*/_data/**",
    "/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/*/**",
    "/var/lib/containerd/io.containerd.grpc.v1.cri/containers/*/volumes/**",
    "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/*/**",
    "/var/lib/containers/storage/overlay-containers/*/userdata/**",
    "/run/containers/storage/overlay-containers/*/userdata/**",
    "/var/lib/containers/storage/volumes/*/_data/**",
    "/var/lib/kubelet/pods/*/volumes/**",
    "/var/lib/kubelet/pods/*/volume-subpaths/**",
    "/var/lib/kubelet/pods/*/etc-hosts",
    "/var/lib/kubelet/pods/*/containers/**",
    "/dev/shm/**",
];

/// Host files that are harmless to read and commonly bound read-only
/// (`-v /etc/localtime:/etc/localtime:ro`, CA certificates, kube-proxy's
/// `/lib/modules`, `docker run --init`'s and `podman run --init`'s init).
/// Read-write binds of them stay sensitive.
pub const READ_ONLY_FILES: [&str; 19] = [
    "/etc/localtime",
    "/etc/timezone",
    "/etc/machine-id",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/resolv.conf",
    "/etc/passwd",
    "/etc/group",
    "/etc/os-release",
    "/etc/ssl/certs/**",
    "/etc/ca-certificates/**",
    "/etc/pki/ca-trust/extracted/**",
    "/usr/share/zoneinfo/**",
    "/usr/share/ca-certificates/**",
    "/usr/lib/modules/**",
    "/lib/modules/**",
    "/usr/bin/docker-init",
    "/usr/libexec/docker/docker-init",
    "/usr/libexec/podman/catatonit",
];

/// Lexical normalisation of an absolute path: no `.`, `..` or duplicate
/// slashes, no trailing slash.
pub fn normalize(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `a` is `b` or one of its parents.
pub fn covers(a: &str, b: &str) -> bool {
    a == b || a == "/" || b.strip_prefix(a).is_some_and(|r| r.starts_with('/'))
}

/// `path` matches a pattern of [`ENGINE_FILES`] / [`READ_ONLY_FILES`].
pub fn matches(pattern: &str, path: &str) -> bool {
    fn go(pat: &[&str], path: &[&str]) -> bool {
        match pat.split_first() {
            None => path.is_empty(),
            Some((&"**", rest)) => (0..=path.len()).any(|k| go(rest, &path[k..])),
            Some((p, rest)) => path
                .split_first()
                .is_some_and(|(c, tail)| (*p == "*" || p == c) && go(rest, tail)),
        }
    }
    let pat: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    let path: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    go(&pat, &path)
}

/// Character devices whose bind is a host-memory or I/O-port device
/// (`/dev/mem`, `/dev/kmem`, `/dev/port`): as sensitive as a disk.
fn memory_device(major: u32, minor: u32) -> bool {
    major == 1 && matches!(minor, 1 | 2 | 4)
}

/// The standard devices every container has (`/dev/null`, `zero`, `full`,
/// `random`, `urandom`, `tty`, the pty devices).
pub fn standard_device(major: i64, minor: Option<i64>) -> bool {
    matches!(
        (major, minor),
        (1, Some(3 | 5 | 7 | 8 | 9)) | (5, Some(0..=2)) | (136, _)
    )
}

/// Why a bind of `src` exposes the host (None: it does not).
/// `sensitive`: the built-in list plus the policy's and the runtime's
/// (its state root); `readonly`: the mount is read-only.
pub fn exposes(
    names: &[String],
    kind: ObjectKind,
    readonly: bool,
    sensitive: &[String],
) -> Option<String> {
    for name in names {
        if let Some(s) = sensitive.iter().find(|s| covers(name, s)) {
            return Some(if name == "/" || name == s {
                format!("{name}, the host's own")
            } else {
                format!("{name}, which holds {s}")
            });
        }
        let Some(root) = sensitive.iter().find(|s| *s != "/" && covers(s, name)) else {
            continue;
        };
        if ENGINE_FILES.iter().any(|p| matches(p, name))
            || (readonly && READ_ONLY_FILES.iter().any(|p| matches(p, name)))
        {
            continue;
        }
        // Device nodes under /dev are judged as devices (`device.host`),
        // except the disks and the memory devices.
        if root == "/dev" {
            match kind {
                ObjectKind::CharDevice { major, minor } if !memory_device(major, minor) => continue,
                ObjectKind::BlockDevice { .. } => {
                    return Some(format!("{name}, a block device (the host's disk)"))
                }
                _ => {}
            }
        }
        return Some(format!("{name}, which lies below {root}"));
    }
    None
}

/// Why `root.path` exposes the host (None: it does not): it is or holds a
/// sensitive directory, or lies below one that is not an engine's state.
pub fn rootfs_exposes(names: &[String], sensitive: &[String]) -> Option<String> {
    for name in names {
        if let Some(s) = sensitive.iter().find(|s| covers(name, s)) {
            return Some(if name == s {
                format!("{name}, the host's own")
            } else {
                format!("{name}, which holds {s}")
            });
        }
        // Below /run/containerd: fine; below /etc: not.
        if let Some(root) = sensitive
            .iter()
            .find(|s| *s != "/" && covers(s, name) && !ENGINE_STATE.contains(&s.as_str()))
        {
            return Some(format!("{name}, which lies below {root}"));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    fn builtin() -> Vec<String> {
        sensitive_paths().map(String::from).collect()
    }

    #[test]
    fn patterns() {
        assert!(matches(
            "/var/lib/docker/volumes/*/_data/**",
            "/var/lib/docker/volumes/v/_data"
        ));
        assert!(matches(
            "/var/lib/docker/volumes/*/_data/**",
            "/var/lib/docker/volumes/v/_data/a/b"
        ));
        assert!(!matches(
            "/var/lib/docker/volumes/*/_data/**",
            "/var/lib/docker/volumes/v"
        ));
        assert!(!matches(
            "/var/lib/docker/volumes/*/_data/**",
            "/var/lib/docker/volumes"
        ));
        assert!(matches("/etc/localtime", "/etc/localtime"));
        assert!(!matches("/etc/localtime", "/etc/localtime/x"));
        assert!(!matches(
            "/var/lib/docker/containers/*/hosts",
            "/var/lib/docker/containers/hosts"
        ));
    }

    #[test]
    fn children_of_sensitive_roots_are_sensitive() {
        let f = |p: &str, ro: bool| exposes(&s(&[p]), ObjectKind::Dir, ro, &builtin());
        for p in [
            "/",
            "/etc",
            "/etc/cron.d",
            "/etc/systemd/system",
            "/root/.ssh",
            "/usr/local/bin",
            "/proc/sys",
            "/sys/fs/cgroup",
            "/sys/kernel",
            "/run/dbus",
            "/run/systemd",
            "/var/lib/docker/volumes",
            "/run/containerd/s",
            "/var",
            "/run",
            "/var/lib",
        ] {
            assert!(f(p, false).is_some(), "{p} rw");
            assert!(f(p, true).is_some(), "{p} ro");
        }
        for p in [
            "/srv/data",
            "/home/u/project",
            "/tmp/x",
            "/var/log",
            "/var/lib/docker/volumes/v/_data",
        ] {
            assert_eq!(f(p, false), None, "{p}");
        }
        assert_eq!(f("/", true).as_deref(), Some("/, the host's own"));
        assert_eq!(f("/etc", true).as_deref(), Some("/etc, the host's own"));
        assert_eq!(
            f("/var", true).as_deref(),
            Some("/var, which holds /var/spool/cron")
        );
        assert_eq!(
            f("/etc/cron.d", true).as_deref(),
            Some("/etc/cron.d, which lies below /etc")
        );
        assert_eq!(f("/etc/localtime", true), None);
        assert!(f("/etc/localtime", false).is_some());
        assert!(f("/etc/passwd", false).is_some());
    }

    #[test]
    fn devices_below_dev() {
        let dev = |kind| exposes(&s(&["/dev/x"]), kind, false, &builtin());
        assert_eq!(
            dev(ObjectKind::CharDevice {
                major: 10,
                minor: 229
            }),
            None
        );
        assert!(dev(ObjectKind::CharDevice { major: 1, minor: 1 }).is_some());
        assert_eq!(
            dev(ObjectKind::BlockDevice { major: 8, minor: 0 }).as_deref(),
            Some("/dev/x, a block device (the host's disk)")
        );
        // Only 1:1, 1:2 and 1:4 (mem, kmem, port) are memory devices.
        assert_eq!(dev(ObjectKind::CharDevice { major: 1, minor: 3 }), None);
        assert_eq!(
            dev(ObjectKind::CharDevice {
                major: 10,
                minor: 2
            }),
            None
        );
        assert!(dev(ObjectKind::BlockDevice {
            major: 253,
            minor: 0
        })
        .is_some());
        assert!(dev(ObjectKind::Dir).is_some());
        assert_eq!(
            exposes(&s(&["/dev/shm"]), ObjectKind::Dir, false, &builtin()),
            None
        );
    }

    #[test]
    fn rootfs() {
        let f = |p: &str| rootfs_exposes(&s(&[p]), &builtin());
        for p in [
            "/",
            "/etc",
            "/etc/cron.d",
            "/root",
            "/var",
            "/var/lib/docker",
            "/usr/local",
        ] {
            assert!(f(p).is_some(), "{p}");
        }
        assert_eq!(f("/etc").as_deref(), Some("/etc, the host's own"));
        assert_eq!(
            f("/var").as_deref(),
            Some("/var, which holds /var/spool/cron")
        );
        for p in [
            "/var/lib/docker/overlay2/abc/merged",
            "/run/containerd/io.containerd.runtime.v2.task/k8s.io/abc/rootfs",
            "/var/lib/containers/storage/overlay/abc/merged",
            "/tmp/bundle/rootfs",
            "/srv/b/rootfs",
        ] {
            assert_eq!(f(p), None, "{p}");
        }
    }
}

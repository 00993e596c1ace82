//! The checks of the mount rules (`mount.sensitive-host-path`,
//! `mount.runtime-socket`, `mount.propagation-shared`) and of binds of
//! device nodes (`device.host`): `root.path` and every bind source judged
//! on what the runtime opened (mounts.rs says how).

use ward_spec::Spec;

use crate::context::{Context, MountPart, Place, Trip};
use crate::mounts::{
    covers, exposes, normalize, rootfs_exposes, sensitive_paths, standard_device, ObjectKind,
    Source,
};

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

fn is_bind(m: &ward_spec::Mount) -> bool {
    m.kind.as_deref() == Some("bind") || m.options.iter().any(|o| o == "bind" || o == "rbind")
}

/// Whether the mount's options leave it read-only (the last of `ro`/`rw`).
fn read_only(m: &ward_spec::Mount) -> bool {
    m.options
        .iter()
        .rev()
        .find(|o| *o == "ro" || *o == "rw")
        .is_some_and(|o| o == "ro")
}

/// The built-in sensitive directories and the context's.
fn sensitive(ctx: &Context) -> Vec<String> {
    let mut sensitive: Vec<String> = sensitive_paths().map(String::from).collect();
    sensitive.extend(ctx.sensitive.iter().map(|s| normalize(s)));
    sensitive
}

/// The built-in engine sockets and the context's.
fn sockets(ctx: &Context) -> Vec<String> {
    let mut sockets: Vec<String> = RUNTIME_SOCKETS.iter().map(|s| s.to_string()).collect();
    // Once each: /proc/net/unix lists a listening socket's path again for
    // every accepted connection, and a refusal names each socket it exposes.
    for s in ctx.sockets.iter().map(|s| normalize(s)) {
        if !sockets.contains(&s) {
            sockets.push(s);
        }
    }
    sockets
}

/// An allowed path exempts itself and what lies below it.
fn allowed(ctx: &Context, p: &str) -> bool {
    ctx.allow_paths.iter().any(|a| covers(&normalize(a), p))
}

/// A bind mount as the mount rules judge it.
struct Bind {
    index: usize,
    /// "mounts[i]: bind of SRC onto DEST".
    what: String,
    /// Why its source cannot be judged (`mount.sensitive-host-path`).
    unjudged: Option<String>,
    /// The host names of its source and what they are; None when nothing
    /// more is judged: a source inside the rootfs, an allowed path, an
    /// unresolvable relative source.
    judged: Option<(Vec<String>, ObjectKind)>,
    read_only: bool,
}

/// `mounts[i]` as a bind (None: not a bind, or a relative source the
/// runtime did not resolve: relative to the bundle, only the runtime,
/// which resolves it, can judge it).
fn bind(ctx: &Context, i: usize, m: &ward_spec::Mount) -> Option<Bind> {
    if !is_bind(m) {
        return None;
    }
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
        None => return None,
    };
    let what = format!("mounts[{i}]: bind of {src} onto {}", m.destination);
    let (unjudged, judged) = match source {
        // What the string names still counts (a socket path).
        Source::Unresolved(why) => (
            Some(format!("{what}: the source cannot be judged: {why}; ward judges the file it opens, so a source that does not exist on the host before the container is made (one that only a mount of the same config would create) is refused")),
            src.starts_with('/').then(|| (vec![normalize(src)], ObjectKind::Unknown)),
        ),
        Source::Host {
            inside_rootfs: true,
            ..
        } => (
            Some(format!("{what}: the source lies inside the container's own root.path, where a mount of the same config could stand in its place; bind a host directory outside the rootfs")),
            None,
        ),
        Source::Host { names, kind, .. } => (None, Some((names.clone(), *kind))),
    };
    let judged = judged.filter(|(names, _)| !names.first().is_some_and(|n| allowed(ctx, n)));
    Some(Bind {
        index: i,
        what,
        unjudged,
        judged,
        read_only: read_only(m),
    })
}

fn binds(spec: &Spec, ctx: &Context) -> Vec<Bind> {
    spec.mounts
        .iter()
        .enumerate()
        .filter_map(|(i, m)| bind(ctx, i, m))
        .collect()
}

/// `root.path` judged like a bind source.
fn rootfs_sensitive(ctx: &Context, sensitive: &[String]) -> Option<Trip> {
    let detail = match &ctx.rootfs {
        Some(Source::Unresolved(why)) => format!("root.path cannot be judged: {why}"),
        Some(Source::Host { names, .. }) if !names.first().is_some_and(|n| allowed(ctx, n)) => {
            let what = rootfs_exposes(names, sensitive)?;
            format!("root.path is {what}: the container's / would be the host's")
        }
        _ => return None,
    };
    Some(Trip::at(Place::RootPath, detail))
}

pub(crate) fn mount_sensitive_host_path(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    let sensitive = sensitive(ctx);
    let mut out: Vec<Trip> = rootfs_sensitive(ctx, &sensitive).into_iter().collect();
    for b in binds(spec, ctx) {
        let at = Place::Mount(b.index, MountPart::Source);
        if let Some(why) = b.unjudged {
            out.push(Trip::at(at, why));
        }
        if let Some((names, kind)) = &b.judged {
            if let Some(e) = exposes(names, *kind, b.read_only, &sensitive) {
                out.push(Trip::at(at, format!("{} exposes {e}", b.what)));
            }
        }
    }
    out
}

/// `device.host` for binds: a device node that is not standard and not
/// already a sensitive path.
pub(crate) fn device_binds(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    let sensitive = sensitive(ctx);
    binds(spec, ctx)
        .into_iter()
        .filter_map(|b| {
            let (names, kind) = b.judged.as_ref()?;
            let ObjectKind::CharDevice { major, minor } = *kind else {
                return None;
            };
            if exposes(names, *kind, b.read_only, &sensitive).is_some()
                || standard_device(major.into(), Some(minor.into()))
            {
                return None;
            }
            Some(Trip::at(
                Place::Mount(b.index, MountPart::Source),
                format!("{}: the device node {major}:{minor}", b.what),
            ))
        })
        .collect()
}

pub(crate) fn mount_runtime_socket(spec: &Spec, ctx: &Context) -> Vec<Trip> {
    let sockets = sockets(ctx);
    let mut out = Vec::new();
    for b in binds(spec, ctx) {
        let Some((names, _)) = &b.judged else {
            continue;
        };
        let socks: Vec<&String> = names
            .iter()
            .filter(|n| {
                sockets.iter().any(|s| covers(n, s))
                    || RUNTIME_SOCKET_NAMES.contains(&n.rsplit('/').next().unwrap_or(""))
            })
            .collect();
        let Some(first) = socks.first() else {
            continue;
        };
        let exposed: Vec<&str> = sockets
            .iter()
            .filter(|s| socks.iter().any(|n| covers(n, s)))
            .map(String::as_str)
            .collect();
        let exposes = if names.iter().any(|n| n == "/") {
            format!("the host's whole filesystem (with {})", sockets[0])
        } else if exposed.is_empty() {
            first.to_string()
        } else {
            exposed.join(", ")
        };
        out.push(Trip::at(
            Place::Mount(b.index, MountPart::Socket),
            format!("{} exposes {exposes}", b.what),
        ));
    }
    out
}

/// Shared propagation of a mount or of the rootfs — of every bind too,
/// also one whose path the policy allows or whose source lies in the
/// rootfs: the allow list lets a path be seen, not let the container's
/// mounts reach the host's mount namespace through the bind's peer group.
pub(crate) fn mount_propagation_shared(spec: &Spec, _ctx: &Context) -> Vec<Trip> {
    let mut out = Vec::new();
    for (i, m) in spec.mounts.iter().enumerate() {
        if m.options.iter().any(|o| o == "shared" || o == "rshared") {
            out.push(Trip::at(
                Place::Mount(i, MountPart::Options),
                format!("mounts[{i}] ({}): shared propagation", m.destination),
            ));
        }
    }
    let rootfs = spec
        .linux
        .as_ref()
        .and_then(|l| l.rootfs_propagation.as_deref());
    if matches!(rootfs, Some("shared" | "rshared")) {
        out.push(Trip::at(
            Place::RootfsPropagation,
            "linux.rootfsPropagation is shared",
        ));
    }
    out
}

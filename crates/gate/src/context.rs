//! The host's part of a decision: what the policy cannot see in the config
//! (the active LSM, host namespaces, the files the rootfs and bind sources
//! really are, engines' sockets, the state root).

use std::path::Path;

use ward_init::rootfs::source::{self, Identity, Resolved};
use ward_policy::{Context, ObjectKind, Source};
use ward_spec::Spec;

/// What the host contributes to a decision: the active LSM, namespace paths
/// that are the host's own, the rootfs and bind sources as they were opened
/// (`resolved`), engines' sockets found listening, and the state root (a
/// bind of it would expose every container's state). `root`: the state root
/// in use. Used by `ward audit` too.
pub fn host_context(root: &Path, spec: &Spec, resolved: Option<&Resolved>) -> Context {
    let mut ctx = Context {
        lsm: if ward_init::lsm::apparmor_enabled() {
            Some("apparmor".into())
        } else if ward_init::lsm::selinux_enabled() {
            Some("selinux".into())
        } else {
            None
        },
        ..Context::default()
    };
    for ns in spec.linux.iter().flat_map(|l| &l.namespaces) {
        if let Some(path) = ns.path.as_deref() {
            if joins_host_namespace(path, ns.kind.proc_name()) {
                ctx.host_ns_paths.insert(path.to_string());
            }
        }
    }
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    if root.is_absolute() && root != Path::new("/") {
        ctx.sensitive.push(root.to_string_lossy().into_owned());
    }
    // The container-wide facts: only create, run and `ward audit` (which
    // pass what they opened) are judged on mounts and hooks; exec and
    // update skip this I/O.
    if let Some(resolved) = resolved {
        ctx.sockets.extend(listening_engine_sockets());
        for (_, hook) in ward_policy::rules::hooks(spec) {
            if let Ok(p) = std::fs::canonicalize(&hook.path) {
                ctx.hook_programs
                    .insert(hook.path.clone(), p.to_string_lossy().into_owned());
            }
        }
        judge_sources(&mut ctx, resolved);
    }
    ctx
}

/// The host context of a bundle's config (`ward audit`), with its rootfs
/// and bind sources opened as `create` opens them.
pub fn config_context(root: &Path, bundle: &Path, spec: &Spec) -> Context {
    let bundle = std::fs::canonicalize(bundle).unwrap_or_else(|_| bundle.to_path_buf());
    let root_path = spec.root.as_ref().map(|r| r.path.as_str()).unwrap_or("");
    let rootfs = source::host_path(&bundle, root_path);
    host_context(root, spec, Some(&source::resolve(&bundle, &rootfs, spec)))
}

/// Fills in how the rootfs and each bind source were opened.
/// The host context of a config an engine was asked for and has not made
/// yet (`ward authz-plugin` judging a Docker API request): bind sources
/// that exist are opened and judged by what they are (a symlink to `/` is
/// `/`); a source that does not exist yet is judged on its path (dockerd
/// creates a missing `-v` source; a new volume's directory). There is no
/// rootfs yet.
pub fn request_context(root: &Path, spec: &Spec) -> Context {
    // No rootfs: nothing can lie inside it.
    let mut resolved = source::resolve(Path::new("/"), Path::new("/nonexistent/rootfs"), spec);
    resolved
        .binds
        .retain(|_, r| !matches!(r, Err(e) if e.kind() == std::io::ErrorKind::NotFound));
    let mut ctx = host_context(root, spec, Some(&resolved));
    ctx.rootfs = None;
    ctx
}

fn judge_sources(ctx: &mut Context, resolved: &Resolved) {
    let mut watched: Vec<String> = ward_policy::mounts::sensitive_paths()
        .chain(ward_policy::rules::RUNTIME_SOCKETS)
        .map(String::from)
        .collect();
    watched.extend(ctx.sensitive.iter().cloned());
    watched.extend(ctx.sockets.iter().cloned());
    let watched = Watched::new(&watched);
    let rootfs_id = resolved.rootfs.as_ref().ok().map(|o| o.id);
    let judge = |r: &std::io::Result<source::Opened>, is_rootfs: bool| match r {
        Ok(o) => Source::Host {
            names: watched.names(o),
            kind: object_kind(o.mode, o.rdev),
            inside_rootfs: !is_rootfs && rootfs_id.is_some_and(|id| o.lies_in(id)),
        },
        Err(e) => Source::Unresolved(e.to_string()),
    };
    for (i, r) in &resolved.binds {
        ctx.sources.insert(*i, judge(r, false));
    }
    ctx.rootfs = Some(judge(&resolved.rootfs, true));
}

/// Whether a namespace path is the host's namespace: the same as host pid
/// 1's or as this runtime's own (the engine's, i.e. the host's for every
/// engine but one nested in a container). Fails closed: a path whose
/// namespace cannot be read, or a host without a readable reference, counts
/// as the host's (issue 14, finding 7: where /proc/1 is hidden, `/proc/$$/ns/pid`
/// plus CAP_SYS_PTRACE was admitted).
fn joins_host_namespace(path: &str, kind: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let id = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let Some(joined) = id(Path::new(path)) else {
        return true;
    };
    let refs: Vec<_> = [
        Path::new("/proc/1/ns").join(kind),
        Path::new("/proc/self/ns").join(kind),
    ]
    .iter()
    .filter_map(|p| id(p))
    .collect();
    refs.is_empty() || refs.contains(&joined)
}

/// Unix sockets listening on this host (its network namespace's
/// /proc/net/unix) whose file name is an engine's (`docker.sock`, ...):
/// wherever a daemon put its socket (`dockerd -H unix:///srv/d/docker.sock`),
/// a bind of it or of a directory above it exposes that engine.
fn listening_engine_sockets() -> Vec<String> {
    let Ok(table) = std::fs::read_to_string("/proc/net/unix") else {
        return Vec::new();
    };
    table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(7))
        .filter(|p| p.starts_with('/'))
        .filter(|p| {
            ward_policy::rules::RUNTIME_SOCKET_NAMES.contains(&p.rsplit('/').next().unwrap_or(""))
        })
        .map(ward_policy::mounts::normalize)
        .collect()
}

fn object_kind(mode: u32, rdev: u64) -> ObjectKind {
    let (major, minor) = (libc::major(rdev), libc::minor(rdev));
    match mode & libc::S_IFMT {
        libc::S_IFDIR => ObjectKind::Dir,
        libc::S_IFREG => ObjectKind::File,
        libc::S_IFSOCK => ObjectKind::Socket,
        libc::S_IFCHR => ObjectKind::CharDevice { major, minor },
        libc::S_IFBLK => ObjectKind::BlockDevice { major, minor },
        _ => ObjectKind::Other,
    }
}

/// Host paths the policy watches, with the identity of each and of each
/// of its parents: a source that is one of them, or lies in one, by
/// identity gets that path as another name (a host bind mount of /etc at
/// /srv/etc makes /srv/etc/cron.d also /etc/cron.d).
struct Watched {
    /// (identity, path of a watched path or of one of its parents).
    ids: Vec<(Identity, String)>,
}

impl Watched {
    fn new(paths: &[String]) -> Watched {
        let mut ids = Vec::new();
        for p in paths {
            for p in source::path_and_parents(&ward_policy::mounts::normalize(p)) {
                if !ids.iter().any(|(_, q): &(Identity, String)| *q == p) {
                    if let Some(id) = source::identity_of(&p) {
                        ids.push((id, p));
                    }
                }
            }
        }
        Watched { ids }
    }

    /// The kernel's name of `o` first, then its other names by identity.
    fn names(&self, o: &source::Opened) -> Vec<String> {
        let mut names = vec![o.path.clone()];
        for (id, here) in &o.chain {
            for (wid, watched) in &self.ids {
                if wid == id && watched != here {
                    let rest = &o.path[here.len().min(o.path.len())..];
                    let alias = if watched == "/" {
                        ward_policy::mounts::normalize(rest)
                    } else {
                        ward_policy::mounts::normalize(&format!("{watched}/{rest}"))
                    };
                    if !names.contains(&alias) {
                        names.push(alias);
                    }
                }
            }
        }
        names
    }
}

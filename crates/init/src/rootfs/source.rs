//! Bind sources and `root.path`, opened on the host once, before anything
//! is created: what the policy judges and what the init mounts are the
//! same files.
//!
//! Threat (issue 14, finding 1): a bind source such as
//! `rootfs/p/1/root`, where an earlier mount of the same config puts a
//! procfs at `/p`, does not exist when the policy looks, and at mount time
//! leads through a magic link to the host's `/`. Sources are therefore
//! resolved without magic links (`RESOLVE_NO_MAGICLINKS`), judged on the
//! opened file's identity and the kernel's name for it, and the init
//! re-opens each one the same way and refuses to mount anything whose
//! device and inode differ from what was judged.

use std::collections::BTreeMap;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use ward_spec::{Mount, Spec};
use ward_sys::fs::{openat2, RESOLVE_NO_MAGICLINKS};

/// A file's identity: device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identity {
    pub dev: u64,
    pub ino: u64,
}

/// A host file as it was opened.
#[derive(Debug)]
pub struct Opened {
    pub fd: OwnedFd,
    pub id: Identity,
    /// The kernel's name for it (`/proc/self/fd/N`), symlinks resolved.
    pub path: String,
    /// `st_mode` (file type and permissions) and `st_rdev`.
    pub mode: u32,
    pub rdev: u64,
    /// The file and each of its parents up to `/`: identity and path.
    pub chain: Vec<(Identity, String)>,
}

impl Opened {
    /// Whether `dir` is this file or one of its parents.
    pub fn lies_in(&self, dir: Identity) -> bool {
        self.chain.iter().any(|(id, _)| *id == dir)
    }
}

/// Every bind source of a config (by index in `mounts`) and `root.path`.
#[derive(Debug)]
pub struct Resolved {
    pub rootfs: io::Result<Opened>,
    pub binds: BTreeMap<usize, io::Result<Opened>>,
}

/// What the init checks at mount time: the identities that were judged.
#[derive(Debug, Clone, Default)]
pub struct Pins {
    pub rootfs: Option<Identity>,
    pub binds: BTreeMap<usize, Identity>,
}

impl Resolved {
    pub fn pins(&self) -> Pins {
        Pins {
            rootfs: self.rootfs.as_ref().ok().map(|o| o.id),
            binds: self
                .binds
                .iter()
                .filter_map(|(i, o)| Some((*i, o.as_ref().ok()?.id)))
                .collect(),
        }
    }
}

/// Whether a config mount is a bind mount.
pub fn is_bind(m: &Mount) -> bool {
    m.kind.as_deref() == Some("bind") || m.options.iter().any(|o| o == "bind" || o == "rbind")
}

/// The host path a bind source names: absolute, or relative to the bundle.
pub fn host_path(bundle: &Path, source: &str) -> PathBuf {
    if Path::new(source).is_absolute() {
        PathBuf::from(source)
    } else {
        bundle.join(source)
    }
}

/// Opens `path` (absolute) on the host without following magic links
/// (`/proc/self/root/...`, `/proc/<pid>/root/...`, `/proc/<pid>/fd/N`).
pub fn open_host(path: &Path) -> io::Result<OwnedFd> {
    let p = path.to_str().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "the path is not valid UTF-8")
    })?;
    // An absolute path: the dirfd only satisfies the signature.
    openat2(host_root()?.as_fd(), p, libc::O_PATH, 0, RESOLVE_NO_MAGICLINKS).map_err(|e| {
        if e.raw_os_error() == Some(libc::ELOOP) {
            io::Error::new(
                e.kind(),
                format!("{e} (a /proc magic link such as /proc/self/root or /proc/<pid>/root is not followed: name the host path itself)"),
            )
        } else {
            e
        }
    })
}

fn host_root() -> io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open("/")
        .map(OwnedFd::from)
}

/// Device, inode, mode and rdev of an open file.
pub fn identity(fd: BorrowedFd<'_>) -> io::Result<(Identity, u32, u64)> {
    let st =
        nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&fd)).map_err(io::Error::from)?;
    Ok((
        Identity {
            dev: st.st_dev,
            ino: st.st_ino,
        },
        st.st_mode,
        st.st_rdev,
    ))
}

/// The identity of a host path (a symlink in the last component is not
/// followed; None when it does not exist or cannot be reached).
pub fn identity_of(path: &str) -> Option<Identity> {
    let st = nix::sys::stat::lstat(path).ok()?;
    Some(Identity {
        dev: st.st_dev,
        ino: st.st_ino,
    })
}

/// An absolute path, then each of its parents up to `/` (`/a/b`, `/a`, `/`).
pub fn path_and_parents(path: &str) -> impl Iterator<Item = String> {
    std::iter::successors(Some(path.to_string()), |p| match p.rsplit_once('/') {
        _ if p == "/" => None,
        Some(("", _)) | None => Some("/".to_string()),
        Some((parent, _)) => Some(parent.to_string()),
    })
}

/// Opens `path` and describes what was opened.
pub fn open(path: &Path) -> io::Result<Opened> {
    let fd = open_host(path)?;
    let (id, mode, rdev) = identity(fd.as_fd())?;
    let name = std::fs::read_link(ward_sys::fs::fd_path(fd.as_fd()))?;
    let name = name.to_str().unwrap_or("").to_string();
    if !name.starts_with('/') || name.ends_with(" (deleted)") {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("the kernel names it {name:?}: it is not reachable from the host's /"),
        ));
    }
    // The file and its parents, by the kernel's name; the file itself must
    // still be what that name opens (no rename while it is judged).
    let chain = path_and_parents(&name)
        .map(|p| match identity_of(&p) {
            Some(id_here) => Ok((id_here, p)),
            None => Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{p} changed while it was being judged"),
            )),
        })
        .collect::<io::Result<Vec<_>>>()?;
    if chain.first().map(|c| c.0) != Some(id) {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{name} changed while it was being judged"),
        ));
    }
    Ok(Opened {
        fd,
        id,
        path: name,
        mode,
        rdev,
        chain,
    })
}

/// Opens `root.path` (already absolute) and every bind source of `spec`.
pub fn resolve(bundle: &Path, rootfs: &Path, spec: &Spec) -> Resolved {
    let binds = spec
        .mounts
        .iter()
        .enumerate()
        .filter(|(_, m)| is_bind(m))
        .map(|(i, m)| {
            let src = m.source.as_deref().unwrap_or("");
            let r = if src.is_empty() {
                Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a bind mount needs a source",
                ))
            } else {
                open(&host_path(bundle, src))
            };
            (i, r)
        })
        .collect();
    Resolved {
        rootfs: open(rootfs),
        binds,
    }
}

/// The identities alone (no names, no parents): for callers that judge
/// nothing (`ward sandbox` builds its own binds) but still want the init to
/// mount exactly the files that were there when they planned.
pub fn pin(bundle: &Path, rootfs: &Path, spec: &Spec) -> Pins {
    let id = |p: &Path| {
        open_host(p)
            .and_then(|fd| identity(fd.as_fd()))
            .ok()
            .map(|(id, _, _)| id)
    };
    Pins {
        rootfs: id(rootfs),
        binds: spec
            .mounts
            .iter()
            .enumerate()
            .filter(|(_, m)| is_bind(m))
            .filter_map(|(i, m)| {
                let src = m.source.as_deref().filter(|s| !s.is_empty())?;
                Some((i, id(&host_path(bundle, src))?))
            })
            .collect(),
    }
}

/// In the init, at mount time: opens the source the same way and checks
/// that it is the file that was judged.
pub fn reopen_pinned(path: &Path, pin: Option<Identity>, what: &str) -> crate::Result<OwnedFd> {
    let pin = pin.ok_or_else(|| {
        crate::err(
            "mounts",
            format!(
                "{what} {} was not opened on the host before the container was made; refusing to mount what was not judged",
                path.display()
            ),
        )
    })?;
    let fd = open_host(path)
        .map_err(|e| crate::err("mounts", format!("opening {what} {}: {e}", path.display())))?;
    let (id, _, _) =
        identity(fd.as_fd()).map_err(|e| crate::err("mounts", format!("fstat of {what}: {e}")))?;
    if id != pin {
        return Err(crate::err(
            "mounts",
            format!(
                "{what} {} now leads to another file (device {} inode {}) than the one the policy judged (device {} inode {}): refused by rule mount.sensitive-host-path (a source must not pass through a mount or symlink that the same config adds)",
                path.display(),
                id.dev,
                id.ino,
                pin.dev,
                pin.ino
            ),
        ));
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    #[test]
    fn path_and_parents_walks_up_to_root() {
        let v: Vec<String> = super::path_and_parents("/a/b/c").collect();
        assert_eq!(v, ["/a/b/c", "/a/b", "/a", "/"]);
        let v: Vec<String> = super::path_and_parents("/").collect();
        assert_eq!(v, ["/"]);
    }
}

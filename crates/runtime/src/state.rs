//! The state store: one directory per container under `--root`.
//!
//! Each directory holds `state.json` (written atomically: temp file +
//! rename, so a reader never sees half a file), the exec fifo while the
//! container is `created`, and a lock file: every command that changes a
//! container holds an exclusive lock on it, so concurrent commands on one
//! id are serialised. Ids are validated before they become a path.
//!
//! The lock is a POSIX record lock (fcntl F_SETLKW), not flock: it belongs
//! to the process, is not inherited by the container init that `create`
//! forks, and goes away when the process dies. With flock the init shared
//! the lock's open file description, so a `create` killed by SIGKILL left
//! its lock held by the init (issue #14, finding 9).
//!
//! `create` writes `creating.json` (the bundle and the cgroup it is about
//! to make) right after taking the lock and before it creates anything
//! else. A directory without `state.json` is a container that was never
//! made: `state`, `delete` and friends say it does not exist (runc's
//! contract); `delete --force` and a new `create` of the same id take its
//! lock (free once the creator is dead), kill what is in the recorded
//! cgroup, remove the cgroup and reuse or remove the directory.

use std::fs::{self, File};
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use nix::fcntl::FcntlArg;
use serde::{Deserialize, Serialize};
use ward_spec::Spec;

use crate::{msg, Ctx, Result};

/// What ward remembers about a container.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Saved {
    pub id: String,
    pub pid: i32,
    /// Start time of `pid` (clock ticks since boot, /proc/PID/stat field
    /// 22): a recycled pid is never mistaken for the container.
    pub pid_start: u64,
    pub bundle: PathBuf,
    pub rootfs: PathBuf,
    pub created: String,
    pub owner: String,
    /// The config as it was at create time (hooks, cgroups, annotations).
    pub spec: Spec,
    /// The container's cgroup (which directories ward created).
    pub cgroup: ward_cgroups::CgroupState,
}

/// The lifecycle status, derived from the kernel each time it is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Creating,
    Created,
    Running,
    Paused,
    Stopped,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        }
    }
}

/// runc's `state` JSON.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateJson<'a> {
    pub oci_version: &'a str,
    pub id: &'a str,
    pub pid: i32,
    pub status: &'a str,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub created: &'a str,
    pub owner: &'a str,
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub annotations: &'a std::collections::BTreeMap<String, String>,
}

/// Checks a container id: it becomes a directory name, so no `/`, no
/// `.`/`..`, no NUL, nothing exotic; at most 1024 bytes.
pub fn validate_id(id: &str) -> Result<()> {
    let ok_chars = id
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'+' | b'-' | b'.'));
    if id.is_empty() || id.len() > 1024 || id == "." || id == ".." || !ok_chars {
        return Err(msg(format!(
            "invalid container id {id:?}: use 1 to 1024 characters from [A-Za-z0-9_+.-], not \".\" or \"..\""
        )));
    }
    Ok(())
}

/// The saved state of a made container.
const STATE: &str = "state.json";
/// The record of a `create` in progress (see the module doc).
const CREATING: &str = "creating.json";

/// The state root (`--root`).
pub struct Store {
    pub root: PathBuf,
}

/// What `create` records before it makes anything: enough for
/// `delete --force` (or the next `create`) to undo a create that was killed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Creating {
    pub id: String,
    pub bundle: PathBuf,
    /// The cgroup directories it is about to make (or made).
    pub cgroup: ward_cgroups::CgroupState,
}

/// A locked container directory (the lock is released when this is
/// dropped: the file is closed).
pub struct Locked {
    pub dir: PathBuf,
    _lock: File,
}

/// How [`Store::create`] got the directory.
pub enum Claimed {
    /// A new directory.
    New(Locked),
    /// A directory left by a `create` that died before it saved the state
    /// (nobody holds its lock): the caller cleans it
    /// (`lifecycle::discard_partial`) and uses it.
    Stale(Locked),
}

impl Store {
    pub fn new(root: &Path) -> Store {
        Store {
            root: root.to_path_buf(),
        }
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    /// Creates (or takes over, see [`Claimed::Stale`]) the directory of a
    /// new container; fails if the id is taken.
    pub fn create(&self, id: &str) -> Result<Claimed> {
        validate_id(id)?;
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(&self.root)
            .ctx(|| format!("creating state root {}", self.root.display()))?;
        let dir = self.dir(id);
        let exists = || msg(format!("container with id {id:?} already exists"));
        match fs::DirBuilder::new().mode(0o711).create(&dir) {
            Ok(()) => {
                let l = self.lock_dir(dir)?;
                // Between our mkdir and our lock another `create` may have
                // taken the directory over as stale and recorded itself.
                if l.dir.join(CREATING).exists() || l.dir.join(STATE).exists() {
                    return Err(exists());
                }
                Ok(Claimed::New(l))
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if dir.join(STATE).exists() {
                    return Err(exists());
                }
                // Waits for a live creator; a dead one released the lock.
                let l = self.lock_dir(dir)?;
                if l.dir.join(STATE).exists() {
                    return Err(exists());
                }
                Ok(Claimed::Stale(l))
            }
            Err(e) => Err(msg(format!("creating {}: {e}", dir.display()))),
        }
    }

    /// Locks the directory of `id` whatever it holds (`delete --force` of a
    /// half-made container); None when there is no directory.
    pub fn lock_any(&self, id: &str) -> Result<Option<Locked>> {
        validate_id(id)?;
        let dir = self.dir(id);
        if !dir.is_dir() {
            return Ok(None);
        }
        match self.lock_dir(dir) {
            Ok(l) => Ok(Some(l)),
            // Removed meanwhile (by another delete).
            Err(_) if !self.dir(id).is_dir() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Locks an existing container's directory.
    pub fn open(&self, id: &str) -> Result<Locked> {
        validate_id(id)?;
        let dir = self.dir(id);
        if !dir.join("state.json").exists() {
            return Err(msg(format!("container {id:?} does not exist")));
        }
        self.lock_dir(dir)
    }

    fn lock_dir(&self, dir: PathBuf) -> Result<Locked> {
        let f = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(dir.join("lock"))
            .ctx(|| format!("opening the lock of {}", dir.display()))?;
        let whole_file = libc::flock {
            l_type: libc::F_WRLCK as libc::c_short,
            l_whence: libc::SEEK_SET as libc::c_short,
            l_start: 0,
            l_len: 0,
            l_pid: 0,
        };
        loop {
            match nix::fcntl::fcntl(f.as_raw_fd(), FcntlArg::F_SETLKW(&whole_file)) {
                Ok(_) => break,
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(msg(format!("locking {}: {e}", dir.display()))),
            }
        }
        Ok(Locked { dir, _lock: f })
    }

    /// Ids of all containers (directories with a state.json), sorted.
    pub fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = fs::read_dir(&self.root)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.path().join("state.json").exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        ids.sort();
        ids
    }

    /// Reads a container's saved state (without locking: readers see
    /// either the old or the new file, never a partial one).
    pub fn load(&self, id: &str) -> Result<Saved> {
        validate_id(id)?;
        let path = self.dir(id).join("state.json");
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(msg(format!("container {id:?} does not exist")))
            }
            Err(e) => return Err(msg(format!("reading {}: {e}", path.display()))),
        };
        serde_json::from_slice(&bytes).ctx(|| format!("parsing {}", path.display()))
    }
}

impl Locked {
    pub fn save(&self, s: &Saved) -> Result<()> {
        let bytes = serde_json::to_vec(s).ctx(|| "encoding state".into())?;
        write_atomic(&self.dir.join("state.json"), &bytes, 0o600)
    }

    pub fn fifo(&self) -> PathBuf {
        self.dir.join("exec.fifo")
    }

    /// Records what a `create` is about to make (atomically).
    pub fn record_creating(&self, c: &Creating) -> Result<()> {
        let bytes = serde_json::to_vec(c).ctx(|| "encoding the create record".into())?;
        write_atomic(&self.dir.join(CREATING), &bytes, 0o600)
    }

    /// The record of a `create` that did not finish, if it wrote one.
    pub fn creating(&self) -> Result<Option<Creating>> {
        let path = self.dir.join(CREATING);
        match fs::read(&path) {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .ctx(|| format!("parsing {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(msg(format!("reading {}: {e}", path.display()))),
        }
    }

    /// Empties a directory left by a dead `create` for reuse: everything
    /// but the lock (which we hold) goes.
    pub fn clear_partial(&self) -> Result<()> {
        let rd = fs::read_dir(&self.dir).ctx(|| format!("reading {}", self.dir.display()))?;
        for e in rd.flatten() {
            if e.file_name() == "lock" {
                continue;
            }
            let p = e.path();
            let res = if e.file_type().is_ok_and(|t| t.is_dir()) {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
            res.ctx(|| format!("removing {}", p.display()))?;
        }
        Ok(())
    }

    /// The create finished (state.json saved): the record has served.
    pub fn drop_creating_record(&self) {
        let _ = fs::remove_file(self.dir.join(CREATING));
    }

    /// Removes the directory (the lock goes with it).
    pub fn remove(self) -> Result<()> {
        fs::remove_dir_all(&self.dir).ctx(|| format!("removing {}", self.dir.display()))
    }
}

/// Writes `bytes` to `path` through a temp file and rename.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(&tmp)
        .ctx(|| format!("writing {}", tmp.display()))?;
    f.write_all(bytes)
        .ctx(|| format!("writing {}", tmp.display()))?;
    fs::rename(&tmp, path).ctx(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// Start time and state letter of a process from /proc/PID/stat.
pub fn proc_stat(pid: i32) -> Option<(u64, char)> {
    let stat = ward_sys::process::stat(pid).ok()?;
    Some((stat.start_time, stat.state))
}

/// Whether the container's init is alive (and is still the same process).
pub fn init_alive(s: &Saved) -> bool {
    matches!(proc_stat(s.pid), Some((start, st)) if start == s.pid_start && st != 'Z' && st != 'X')
}

/// The current status of a container.
pub fn status(store: &Store, s: &Saved) -> Status {
    if !init_alive(s) {
        return Status::Stopped;
    }
    if is_frozen(s) {
        return Status::Paused;
    }
    if store.dir(&s.id).join("exec.fifo").exists() {
        Status::Created
    } else {
        Status::Running
    }
}

fn is_frozen(s: &Saved) -> bool {
    crate::cg::restore(&s.cgroup)
        .and_then(|c| Ok(c.is_frozen()?))
        .unwrap_or(false)
}

/// The name of the user owning this process (runc's `owner`).
pub fn owner() -> String {
    let uid = nix::unistd::geteuid().as_raw();
    fs::read_to_string("/etc/passwd")
        .ok()
        .and_then(|pw| {
            pw.lines().find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() > 2 && f[2] == uid.to_string()).then(|| f[0].to_string())
            })
        })
        .unwrap_or_else(|| uid.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_checked() {
        for bad in ["", ".", "..", "a/b", "../x", "a\0b", "x y"] {
            assert!(validate_id(bad).is_err(), "{bad:?}");
        }
        assert!(validate_id(&"a".repeat(1025)).is_err());
        for good in ["abc", "a-b_c.d+e", "0123456789abcdef"] {
            assert!(validate_id(good).is_ok(), "{good:?}");
        }
    }
}

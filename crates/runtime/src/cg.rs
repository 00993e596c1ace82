//! The runtime's view of cgroups: one place that talks to ward-cgroups.

use std::path::PathBuf;

use ward_cgroups::{CgroupSpec, CgroupState, Manager};
use ward_init::CgroupMount;
use ward_spec::Spec;

use crate::Result;

pub struct Cgroup {
    mgr: Box<dyn Manager>,
}

/// The manager's own operations (freeze, kill_all, destroy…) are used
/// directly; their errors convert into [`crate::Error::Cgroups`] with `?`.
impl std::ops::Deref for Cgroup {
    type Target = dyn Manager;

    fn deref(&self) -> &(dyn Manager + 'static) {
        &*self.mgr
    }
}

/// The cgroup of container `id` (not created yet).
pub fn open(spec: &Spec, id: &str, systemd: bool) -> Result<Cgroup> {
    let cgroups_path = spec.linux.as_ref().and_then(|l| l.cgroups_path.as_deref());
    let rootless = !nix::unistd::geteuid().is_root();
    let mgr = ward_cgroups::open(&CgroupSpec {
        cgroups_path,
        id,
        systemd,
        rootless,
    })?;
    Ok(Cgroup { mgr })
}

/// The cgroup of a short-lived container (`ward sandbox`): only the
/// hierarchies that carry one of its limits, plus pids and cgroup2
/// (`ward_cgroups::open_minimal`).
pub fn open_minimal(spec: &Spec, id: &str) -> Result<Cgroup> {
    let cgroups_path = spec.linux.as_ref().and_then(|l| l.cgroups_path.as_deref());
    let rootless = !nix::unistd::geteuid().is_root();
    let default = ward_spec::resources::LinuxResources::default();
    let r = spec
        .linux
        .as_ref()
        .and_then(|l| l.resources.as_ref())
        .unwrap_or(&default);
    let mgr = ward_cgroups::open_minimal(
        &CgroupSpec {
            cgroups_path,
            id,
            systemd: false,
            rootless,
        },
        r,
    )?;
    Ok(Cgroup { mgr })
}

/// How `ward sandbox` names its cgroup: `ward-sandbox-<pid>-<start time>`
/// (the start time, in clock ticks since boot, tells a reused pid apart).
pub const EPHEMERAL_PREFIX: &str = "ward-sandbox-";

/// Cgroups of sandboxes whose `ward` died (SIGKILL) are removed by the
/// next `ward sandbox` once they are this old (a younger one may belong to
/// a `ward` in another pid namespace that has not joined it yet).
const STALE_AGE: std::time::Duration = std::time::Duration::from_secs(2);

/// Field 22 (start time) of /proc/PID/stat (`pid` may be "self").
fn start_time(pid: &str) -> std::io::Result<String> {
    ward_sys::process::read_stat(pid).map(|s| s.start_time.to_string())
}

/// The cgroup name (id) of this `ward sandbox` process.
pub fn ephemeral_id() -> String {
    let pid = std::process::id();
    match start_time("self") {
        Ok(t) => format!("{EPHEMERAL_PREFIX}{pid}-{t}"),
        Err(_) => format!("{EPHEMERAL_PREFIX}{pid}"),
    }
}

/// Whether the `ward` that named cgroup `name` is gone: no such pid, or
/// the pid now belongs to a process started at another time. Names that
/// do not parse as ours, and pids we cannot look at, count as alive.
fn owner_gone(name: &str) -> bool {
    let Some(rest) = name.strip_prefix(EPHEMERAL_PREFIX) else {
        return false;
    };
    let (pid, start) = match rest.split_once('-') {
        Some((p, t)) => (p, Some(t)),
        None => (rest, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || start.is_some_and(|t| !digits(t)) {
        return false;
    }
    match start_time(pid) {
        Err(e) => e.kind() == std::io::ErrorKind::NotFound,
        Ok(now) => start.is_some_and(|t| t != now),
    }
}

/// The cgroup of an existing container, from its saved state.
pub fn restore(state: &CgroupState) -> Result<Cgroup> {
    Ok(Cgroup {
        mgr: ward_cgroups::restore(state)?,
    })
}

impl Cgroup {
    /// Checks the limits against the host (no writes), then creates the
    /// directories: bad input leaves nothing behind.
    pub fn create(&self, spec: &Spec) -> Result<()> {
        if let Some(r) = spec.linux.as_ref().and_then(|l| l.resources.as_ref()) {
            self.mgr.check(r)?;
        }
        Ok(self.mgr.create()?)
    }

    /// The state *before* [`Cgroup::create`], for the create record: as
    /// `created`, every leaf that does not exist yet and its missing
    /// ancestors (what create() will make). A directory that exists already
    /// is not listed, so undoing a killed create never removes a cgroup it
    /// did not make; a parent is only ever removed when empty.
    pub fn planned_state(&self) -> CgroupState {
        let mut st = self.mgr.state();
        let mut planned = Vec::new();
        for leaf in self.paths() {
            let mut cur = Some(leaf.as_path());
            while let Some(d) = cur.filter(|d| !d.exists()) {
                if !planned.iter().any(|p: &PathBuf| p == d) {
                    planned.push(d.to_path_buf());
                }
                cur = d.parent();
            }
        }
        st.created = planned;
        st
    }

    /// Moves `pid` into the cgroup; a runtime error for the sandbox's
    /// `place` hooks, which report it as text.
    pub fn add(&self, pid: i32) -> Result<()> {
        Ok(self.mgr.add_pid(pid)?)
    }

    /// Applies the config's limits (before any process is inside).
    pub fn apply(&self, spec: &Spec) -> Result<()> {
        let default = ward_spec::resources::LinuxResources::default();
        let r = spec
            .linux
            .as_ref()
            .and_then(|l| l.resources.as_ref())
            .unwrap_or(&default);
        Ok(self.mgr.apply(r)?)
    }

    /// Removes the empty cgroups of sandboxes whose `ward` was killed
    /// before it could remove them (SIGKILL cannot be caught). Returns what
    /// was removed.
    pub fn remove_stale_ephemeral(&self) -> Vec<PathBuf> {
        self.mgr
            .remove_stale(EPHEMERAL_PREFIX, STALE_AGE, &owner_gone)
    }

    /// For clean-up paths that have no one to report to: SIGKILL whatever
    /// is left in the cgroup, then remove it; errors are ignored.
    pub fn discard(&self) {
        let _ = self.kill_all(libc::SIGKILL);
        let _ = self.destroy();
    }

    /// What to show the container under /sys/fs/cgroup: its own directory
    /// in each hierarchy, named after the hierarchy's mount point.
    pub fn mounts(&self) -> Vec<CgroupMount> {
        let base = std::path::Path::new("/sys/fs/cgroup");
        let unified = is_cgroup2(base);
        // Rootless: hierarchies without permission were skipped, not created.
        let st = self.mgr.state();
        // systemd makes the scope's directories when it gets the init's pid,
        // which is before the init mounts them.
        let later = st.systemd.is_some();
        self.paths()
            .into_iter()
            .filter(|p| !st.skipped.contains(p) && (later || p.is_dir()))
            .filter_map(|p| {
                let rel = p.strip_prefix(base).ok()?;
                let name = if unified {
                    String::new()
                } else {
                    rel.components().next()?.as_os_str().to_str()?.to_string()
                };
                Some(CgroupMount { name, host_path: p })
            })
            .collect()
    }
}

/// Whether /sys/fs/cgroup is a pure cgroup v2 host (one statfs; no
/// mountinfo parsing).
pub fn unified_hierarchy() -> bool {
    is_cgroup2(std::path::Path::new("/sys/fs/cgroup"))
}

fn is_cgroup2(path: &std::path::Path) -> bool {
    nix::sys::statfs::statfs(path)
        .map(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
        .unwrap_or(false)
}

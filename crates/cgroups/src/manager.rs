//! The cgroupfs manager: creates, fills, freezes, kills and removes the
//! container's cgroup directories in every hierarchy.
//!
//! Threats: a container escaping its limits (processes left outside the
//! cgroup, a cgroup shared with another workload whose processes we would
//! then kill), fork races while killing (the cgroup is frozen first), and a
//! runtime that removes directories it does not own (only directories this
//! manager created are removed, deepest first).

use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use ward_spec::resources::LinuxResources;

use crate::controllers::devices::{self, Rule};
use crate::controllers::freezer::Freezer;
use crate::controllers::{cpuset, memory, Dirs};
use crate::error::{Error, Result};
use crate::fsutil;
use crate::mounts::{self, Hierarchies, Layout};
use crate::path::{self, Target};
use crate::resources;
use crate::stats::Stats;
use crate::{CgroupSpec, CgroupState, Manager, StateDir};

/// One v1 hierarchy's directory for the container.
#[derive(Debug, Clone)]
pub(crate) struct V1Dir {
    pub controllers: Vec<String>,
    pub target: Target,
}

#[derive(Debug, Default)]
struct Inner {
    /// Directories this manager created (or restored as created).
    created: Vec<PathBuf>,
    /// Whether `created` is authoritative (create() ran or state restored).
    created_known: bool,
    /// Leaves that could not be created (rootless without permission).
    skipped: Vec<PathBuf>,
    warnings: Vec<String>,
}

/// Manager for the cgroupfs driver (v1, v2 and hybrid).
#[derive(Debug)]
pub struct FsManager {
    layout: Layout,
    rootless: bool,
    v1: Vec<V1Dir>,
    unified: Option<Target>,
    /// Mountpoint of the cgroup2 hierarchy (V2 and Hybrid).
    unified_mount: Option<PathBuf>,
    /// Only the hierarchies that carry a limit are managed (see
    /// [`FsManager::new_minimal`]): no v1 device rules unless asked for.
    minimal: bool,
    /// The parent directories of the container's cgroup in every
    /// hierarchy, managed or not (where `remove_stale` looks).
    parents: Vec<PathBuf>,
    inner: Mutex<Inner>,
}

fn is_perm(e: &Error) -> bool {
    matches!(
        e.errno(),
        Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS)
    )
}

impl FsManager {
    /// Resolves the container's directories; touches nothing.
    pub(crate) fn new(spec: &CgroupSpec<'_>, layout: Layout) -> Result<FsManager> {
        let mut p = path::parse(spec.cgroups_path, spec.id)?;
        if spec.rootless && spec.cgroups_path.unwrap_or("").is_empty() {
            // Rootless: `/ward/<id>` is root's. A user can only use the
            // subtree delegated to it (systemd's user@.service: owned by the
            // user), which on v2 holds the caller's own cgroup's parent:
            // `ward/<id>` relative, like an explicit relative cgroupsPath.
            // Without delegation the mkdir fails and the hierarchy is
            // skipped (an error if limits need it).
            p.absolute = false;
        }
        let h = Hierarchies::load(layout)?;
        let proc_cg = if p.absolute {
            Vec::new()
        } else {
            let s = std::fs::read_to_string("/proc/self/cgroup").map_err(|e| {
                Error::Host(format!(
                    "reading /proc/self/cgroup: {}",
                    crate::error::errno_text(&e)
                ))
            })?;
            mounts::parse_proc_cgroup(&s)
        };
        let mut v1 = Vec::new();
        for hier in &h.v1 {
            let own = mounts::own_cgroup(&proc_cg, &hier.controllers);
            let target = path::resolve(&p, &hier.mountpoint, &hier.root, own.as_deref(), false)?;
            v1.push(V1Dir {
                controllers: hier.controllers.clone(),
                target,
            });
        }
        let (unified, unified_mount) = match &h.unified {
            Some((mnt, root)) => {
                let own = mounts::own_cgroup(&proc_cg, &[]);
                let t = path::resolve(&p, mnt, root, own.as_deref(), layout == Layout::V2)?;
                (Some(t), Some(mnt.clone()))
            }
            None => (None, None),
        };
        let mut parents: Vec<PathBuf> = v1
            .iter()
            .map(|d| d.target.leaf())
            .chain(unified.as_ref().map(Target::leaf))
            .filter_map(|l| l.parent().map(Path::to_path_buf))
            .collect();
        parents.dedup();
        Ok(FsManager {
            layout,
            rootless: spec.rootless,
            v1,
            unified,
            unified_mount,
            minimal: false,
            parents,
            inner: Mutex::new(Inner::default()),
        })
    }

    /// Like `new`, but on v1 and hybrid hosts only the hierarchies that
    /// carry a limit of `r` are managed, plus `pids` (always: it lists every
    /// process for `pids` and `kill_all`) and the cgroup2 directory (for
    /// `cgroup.kill` and `cgroup.freeze`). Each hierarchy costs a mkdir, a
    /// join and an rmdir; a short-lived sandbox pays that on every run.
    /// v1 device rules are written only when `r.devices` asks for them:
    /// the caller stops device access another way (a user namespace and
    /// nodev mounts). Without a pids hierarchy every hierarchy is kept.
    pub(crate) fn new_minimal(
        spec: &CgroupSpec<'_>,
        layout: Layout,
        r: &LinuxResources,
    ) -> Result<FsManager> {
        let mut m = FsManager::new(spec, layout)?;
        let has = |d: &V1Dir, c: &str| d.controllers.iter().any(|x| x == c);
        if layout == Layout::V2 || !m.v1.iter().any(|d| has(d, "pids")) {
            return Ok(m);
        }
        let needed: Vec<&str> = resources::needed_v1(r)
            .into_iter()
            .map(|(c, _)| c)
            .collect();
        m.v1.retain(|d| has(d, "pids") || needed.iter().any(|c| has(d, c)));
        // Hybrid: the cgroup2 directory only for `unified` keys. Its
        // cgroup.kill adds nothing for a sandbox whose pid namespace dies
        // with its init, and a join there took up to 0.4 ms per start on
        // the development host (the v1 pids join: ~15 µs).
        if layout == Layout::Hybrid && r.unified.is_empty() {
            m.unified = None;
        }
        m.minimal = true;
        Ok(m)
    }

    /// Rebuilds a manager from saved state.
    pub(crate) fn restore(st: &CgroupState) -> Result<FsManager> {
        let check = |p: &Path| -> Result<()> {
            let ok = p.is_absolute()
                && p.components()
                    .all(|c| !matches!(c, std::path::Component::ParentDir));
            if ok {
                Ok(())
            } else {
                Err(Error::Host(format!(
                    "saved cgroup state names {:?}, which is not a clean absolute path",
                    p.display()
                )))
            }
        };
        let leaf = |p: &Path| Target {
            base: p.to_path_buf(),
            comps: Vec::new(),
        };
        let mut v1 = Vec::new();
        for d in &st.v1 {
            check(&d.path)?;
            v1.push(V1Dir {
                controllers: d.controllers.clone(),
                target: leaf(&d.path),
            });
        }
        if let Some(u) = &st.unified {
            check(u)?;
        }
        for c in &st.created {
            check(c)?;
        }
        Ok(FsManager {
            layout: st.layout,
            rootless: st.rootless,
            v1,
            unified: st.unified.as_deref().map(leaf),
            unified_mount: None,
            minimal: st.minimal,
            parents: Vec::new(),
            inner: Mutex::new(Inner {
                created: st.created.clone(),
                created_known: true,
                skipped: st.skipped.clone(),
                warnings: Vec::new(),
            }),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn leaves(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = self.v1.iter().map(|d| d.target.leaf()).collect();
        if let Some(u) = &self.unified {
            v.push(u.leaf());
        }
        v
    }

    /// Makes `t`'s directories; records the new ones in `created`.
    fn mkdirs(&self, t: &Target, cpuset: bool, created: &mut Vec<PathBuf>) -> Result<()> {
        if !t.base.is_dir() {
            return Err(Error::Dir {
                op: "finding",
                path: t.base.clone(),
                source: std::io::Error::from_raw_os_error(libc::ENOENT),
                hint: "the parent cgroup does not exist".into(),
            });
        }
        let mut cur = t.base.clone();
        for c in &t.comps {
            cur.push(c);
            match std::fs::create_dir(&cur) {
                Ok(()) => created.push(cur.clone()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && cur.is_dir() => {}
                Err(e) => {
                    let hint = crate::error::write_hint("", &e);
                    return Err(Error::Dir {
                        op: "creating",
                        path: cur,
                        source: e,
                        hint,
                    });
                }
            }
            if cpuset {
                cpuset::ensure_cpuset(&cur)?;
            }
        }
        Ok(())
    }

    fn create_inner(&self, created: &mut Vec<PathBuf>, skipped: &mut Vec<PathBuf>) -> Result<()> {
        for d in &self.v1 {
            let cpuset = d.controllers.iter().any(|c| c == "cpuset");
            if let Err(e) = self.mkdirs(&d.target, cpuset, created) {
                if self.rootless && is_perm(&e) {
                    skipped.push(d.target.leaf());
                    continue;
                }
                return Err(e);
            }
        }
        if let Some(u) = &self.unified {
            if let Err(e) = self.mkdirs(u, false, created) {
                if self.rootless && is_perm(&e) {
                    skipped.push(u.leaf());
                    return Ok(());
                }
                return Err(e);
            }
            if self.layout == Layout::V2 {
                // Hand every available controller down to the leaf.
                let leaf = u.leaf();
                let mount = self.unified_mount.clone().unwrap_or_else(|| u.base.clone());
                let rel: Vec<_> = leaf
                    .strip_prefix(&mount)
                    .map(|r| r.components().collect())
                    .unwrap_or_default();
                let mut warns = Vec::new();
                let mut dir = mount.clone();
                // Rootless: the levels above the delegated subtree are
                // root's (their controllers are on already or not ours).
                let ours = |d: &Path| {
                    !self.rootless
                        || nix::unistd::access(
                            &d.join("cgroup.subtree_control"),
                            nix::unistd::AccessFlags::W_OK,
                        )
                        .is_ok()
                };
                for c in rel.iter().take(rel.len().saturating_sub(1)) {
                    if ours(&dir) {
                        warns.extend(fsutil::enable_controllers(&dir));
                    }
                    dir.push(c);
                }
                if ours(&dir) {
                    warns.extend(fsutil::enable_controllers(&dir));
                }
                self.lock().warnings.extend(warns);
            }
        }
        Ok(())
    }

    /// Makes the directories that do not exist yet (no check for
    /// processes: the systemd driver's scope already holds the init).
    pub(crate) fn create_dirs(&self) -> Result<()> {
        let mut created = Vec::new();
        let mut skipped = Vec::new();
        if let Err(e) = self.create_inner(&mut created, &mut skipped) {
            for d in created.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
            return Err(e);
        }
        let mut inner = self.lock();
        for c in created {
            if !inner.created.contains(&c) {
                inner.created.push(c);
            }
        }
        if !skipped.is_empty() {
            // runc ignores the permission error the same way when no limit
            // needs the hierarchy; say so (once) rather than stay silent.
            let dirs: Vec<String> = skipped.iter().map(|d| d.display().to_string()).collect();
            inner.warnings.push(format!(
                "rootless: no write access to {}: the container stays in the caller's cgroup there, without limits; delegate a cgroup to this user (systemd: user@.service or Delegate=yes) to use it",
                dirs.join(", ")
            ));
        }
        inner.skipped = skipped;
        inner.created_known = true;
        Ok(())
    }

    /// Records `created` as the directories this manager made (the systemd
    /// driver: systemd makes and removes the scope's own directory).
    pub(crate) fn mark_created(&self, created: Vec<PathBuf>) {
        let mut inner = self.lock();
        inner.created = created;
        inner.created_known = true;
    }

    fn devices_for(&self, r: &LinuxResources, initial: bool) -> Result<Option<Vec<Rule>>> {
        if !initial && r.devices.is_empty() {
            return Ok(None);
        }
        let mut list = r.devices.clone();
        list.extend(devices::default_allowed_devices());
        Ok(Some(devices::rules_from_oci(&list)?))
    }

    fn set(&self, r: &LinuxResources, initial: bool) -> Result<()> {
        self.check(r)?;
        let devs = self.devices_for(r, initial)?;
        match self.layout {
            Layout::V1 | Layout::Hybrid => {
                // Rootless without a devices cgroup: the user namespace
                // already keeps device nodes out of reach.
                // Minimal: no devices hierarchy unless r.devices asked.
                let devs = if (self.rootless || self.minimal) && self.v1_dir("devices").is_none() {
                    None
                } else {
                    devs
                };
                resources::apply_v1(self, r, devs.as_deref())
            }
            Layout::V2 => {
                for w in resources::ignored_v2(r) {
                    self.warn(w);
                }
                let Some(d) = self.unified_leaf() else {
                    if resources::needed_v2(r).is_empty() {
                        return Ok(());
                    }
                    return Err(Error::resource(
                        "linux.resources",
                        "rootless: no writable cgroup: delegate one to this user (systemd Delegate=yes) and set linux.cgroupsPath, or remove the limits",
                    ));
                };
                resources::apply_v2(self, &d, r, devs.as_deref())
            }
        }
    }

    fn freezer(&self) -> Result<Freezer> {
        Freezer::find(self)
    }

    fn signal_each(&self, sig: Signal) -> Result<usize> {
        let pids = self.pids()?;
        for p in &pids {
            match kill(Pid::from_raw(*p), sig) {
                Ok(()) | Err(nix::errno::Errno::ESRCH) => {}
                Err(e) => {
                    return Err(Error::op(
                        format!("sending {sig} to pid {p}"),
                        e.desc().to_string(),
                    ))
                }
            }
        }
        Ok(pids.len())
    }

    fn wait_empty(&self, timeout: Duration) -> Result<bool> {
        let start = std::time::Instant::now();
        let mut nap = 1u64;
        loop {
            if self.pids()?.is_empty() {
                return Ok(true);
            }
            if start.elapsed() > timeout {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(nap));
            nap = (nap * 2).min(20);
        }
    }
}

impl Dirs for FsManager {
    fn rootless(&self) -> bool {
        self.rootless
    }

    fn warn(&self, w: String) {
        self.lock().warnings.push(w);
    }

    /// The container's directory in the v1 hierarchy holding `controller`.
    fn v1_dir(&self, controller: &str) -> Option<PathBuf> {
        let skipped = self.lock().skipped.clone();
        self.v1
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == controller))
            .map(|d| d.target.leaf())
            .filter(|l| !skipped.contains(l))
    }

    /// The error for a controller that is not there.
    fn missing(&self, controller: &str, field: &str) -> Error {
        let here = self
            .v1
            .iter()
            .any(|d| d.controllers.iter().any(|c| c == controller));
        if here {
            Error::resource(
                field,
                format!(
                    "rootless: no write access to the {controller} cgroup: delegate a cgroup to this user (systemd Delegate=yes) or remove the setting"
                ),
            )
        } else {
            Error::resource(
                field,
                format!(
                    "needs the {controller} cgroup controller, which is not mounted on this host: mount it or remove the setting"
                ),
            )
        }
    }

    /// Like `v1_dir`, as an error naming `field` when absent.
    fn need(&self, controller: &str, field: &str) -> Result<PathBuf> {
        self.v1_dir(controller)
            .ok_or_else(|| self.missing(controller, field))
    }

    /// The container's cgroup2 directory (V2, Hybrid).
    fn unified_leaf(&self) -> Option<PathBuf> {
        let skipped = self.lock().skipped.clone();
        self.unified
            .as_ref()
            .map(Target::leaf)
            .filter(|l| !skipped.contains(l))
    }
}

impl Manager for FsManager {
    fn layout(&self) -> Layout {
        self.layout
    }

    fn check(&self, r: &LinuxResources) -> Result<()> {
        r.validate()?;
        match self.layout {
            Layout::V1 | Layout::Hybrid => {
                for (c, field) in resources::needed_v1(r) {
                    if !self.v1.iter().any(|d| d.controllers.iter().any(|x| x == c)) {
                        return Err(self.missing(c, &field));
                    }
                }
                if !self.rootless
                    && !self.minimal
                    && !self
                        .v1
                        .iter()
                        .any(|d| d.controllers.iter().any(|c| c == "devices"))
                {
                    return Err(Error::Host(
                        "the devices cgroup controller is not mounted, so device access cannot be restricted: mount it (mount -t cgroup -o devices cgroup /sys/fs/cgroup/devices)".into(),
                    ));
                }
                if !r.unified.is_empty() && self.unified.is_none() {
                    return Err(Error::resource(
                        "linux.resources.unified",
                        "needs cgroup v2, and this host has only cgroup v1: remove linux.resources.unified",
                    ));
                }
            }
            Layout::V2 => {
                resources::unsupported_v2(r)?;
                if let Some(mnt) = &self.unified_mount {
                    let have = fsutil::read_opt(mnt, "cgroup.controllers")?.unwrap_or_default();
                    for (c, field) in resources::needed_v2(r) {
                        if !have.split_whitespace().any(|x| x == c) {
                            return Err(Error::resource(
                                field,
                                format!(
                                    "needs the {c} controller, which this kernel's cgroup v2 hierarchy does not offer (it has: {:?})",
                                    have.trim()
                                ),
                            ));
                        }
                    }
                }
            }
        }
        if let Some(rules) = self.devices_for(r, true)? {
            if self.layout == Layout::V2 {
                devices::bpf_program(&rules)?;
            } else {
                devices::V1State::build(&rules)?;
            }
        }
        Ok(())
    }

    fn create(&self) -> Result<()> {
        for leaf in self.leaves() {
            let mut pids = Vec::new();
            fsutil::pids_recursive(&leaf, &mut pids)?;
            if !pids.is_empty() {
                return Err(Error::op(
                    format!("creating the cgroup {}", leaf.display()),
                    format!(
                        "it already has {} process(es): another container or service uses this linux.cgroupsPath; choose another path or delete that container",
                        pids.len()
                    ),
                ));
            }
        }
        self.create_dirs()
    }

    fn add_pid(&self, pid: i32) -> Result<()> {
        if pid <= 0 {
            return Err(Error::op("adding a process", format!("{pid} is not a pid")));
        }
        let v = pid.to_string();
        let what = "adding the process to the container's cgroup";
        let skipped = self.lock().skipped.clone();
        for leaf in self.v1.iter().map(|d| d.target.leaf()) {
            if !skipped.contains(&leaf) {
                fsutil::write(&leaf, "cgroup.procs", &v, what)?;
            }
        }
        if let Some(u) = self.unified_leaf() {
            fsutil::write(&u, "cgroup.procs", &v, what)?;
        }
        Ok(())
    }

    fn apply(&self, r: &LinuxResources) -> Result<()> {
        self.set(r, true)
    }

    fn update(&self, r: &LinuxResources) -> Result<()> {
        self.set(r, false)
    }

    fn freeze(&self) -> Result<()> {
        self.freezer()?.freeze()
    }

    fn thaw(&self) -> Result<()> {
        self.freezer()?.thaw()
    }

    fn is_frozen(&self) -> Result<bool> {
        self.freezer()?.is_frozen()
    }

    fn pids(&self) -> Result<Vec<i32>> {
        let mut all = Vec::new();
        let skipped = self.lock().skipped.clone();
        for leaf in self.leaves() {
            if !skipped.contains(&leaf) {
                fsutil::pids_recursive(&leaf, &mut all)?;
            }
        }
        all.sort_unstable();
        all.dedup();
        Ok(all)
    }

    fn kill_all(&self, signal: i32) -> Result<()> {
        let sig = Signal::try_from(signal)
            .map_err(|_| Error::op("killing the container", format!("{signal} is not a signal")))?;
        if sig == Signal::SIGKILL {
            if let Some(u) = self.unified_leaf() {
                if fsutil::exists(&u, "cgroup.kill") {
                    fsutil::write(&u, "cgroup.kill", "1", "killing the container")?;
                    // In hybrid mode a process may have left the v2 node.
                    if self.layout == Layout::V2 || self.wait_empty(Duration::from_millis(500))? {
                        return Ok(());
                    }
                }
            }
        }
        match self.freezer() {
            Ok(fz) => {
                let was_frozen = fz.is_frozen().unwrap_or(false);
                // Frozen, nothing can fork while we signal. If freezing
                // fails (a task stuck in D state), signal anyway.
                let froze = fz.freeze();
                let res = self.signal_each(sig);
                // SIGKILLed tasks only die once thawed (v1); other signals
                // keep a paused container paused.
                if !was_frozen || sig == Signal::SIGKILL {
                    fz.thaw()?;
                }
                res?;
                if sig == Signal::SIGKILL {
                    if let Err(e) = froze {
                        // Catch what forked while we were not frozen.
                        if !self.wait_empty(Duration::from_millis(200))? {
                            self.signal_each(sig)?;
                        }
                        self.warn(format!("kill_all without freezing: {e}"));
                    }
                }
                Ok(())
            }
            Err(_) => {
                // No freezer: repeat until nothing new shows up.
                for _ in 0..10 {
                    if self.signal_each(sig)? == 0 || sig != Signal::SIGKILL {
                        return Ok(());
                    }
                    if self.wait_empty(Duration::from_millis(50))? {
                        return Ok(());
                    }
                }
                Ok(())
            }
        }
    }

    fn stats(&self) -> Result<Stats> {
        match self.layout {
            Layout::V2 => match self.unified_leaf() {
                Some(d) => resources::stats_v2(&d),
                None => Ok(Stats::default()),
            },
            Layout::V1 | Layout::Hybrid => resources::stats_v1(&|c| self.v1_dir(c)),
        }
    }

    fn oom_events(&self) -> Result<u64> {
        match self.layout {
            Layout::V2 => {
                let d = self.unified_leaf().ok_or_else(|| {
                    Error::op("reading OOM events", "the container has no cgroup")
                })?;
                memory::oom_events_v2(&d)
            }
            Layout::V1 | Layout::Hybrid => {
                let d = self.need("memory", "oom events")?;
                memory::oom_events_v1(&d)
            }
        }
    }

    fn destroy(&self) -> Result<()> {
        let leaves = self.leaves();
        let mut inner = self.lock();
        let mut dirs: Vec<PathBuf> = if inner.created_known {
            inner.created.clone()
        } else {
            leaves.clone()
        };
        // Deepest first.
        dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
        let mut first_err = None;
        let mut left = Vec::new();
        for d in dirs {
            let res = if leaves.contains(&d) {
                fsutil::remove_tree(&d)
            } else {
                // A parent we created: remove it only once empty; other
                // containers may live there now.
                match std::fs::remove_dir(&d) {
                    Ok(()) => Ok(()),
                    Err(e)
                        if matches!(
                            e.raw_os_error(),
                            Some(libc::ENOENT) | Some(libc::EBUSY) | Some(libc::ENOTEMPTY)
                        ) =>
                    {
                        Ok(())
                    }
                    Err(e) => Err(Error::Dir {
                        op: "removing",
                        path: d.clone(),
                        source: e,
                        hint: String::new(),
                    }),
                }
            };
            if let Err(e) = res {
                left.push(d);
                first_err.get_or_insert(e);
            }
        }
        inner.created = left;
        inner.created_known = true;
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn paths(&self) -> Vec<PathBuf> {
        self.leaves()
    }

    fn open_v2_dir(&self) -> Result<Option<OwnedFd>> {
        if self.layout != Layout::V2 {
            return Ok(None);
        }
        let Some(d) = self.unified_leaf() else {
            return Ok(None);
        };
        let f = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY | libc::O_CLOEXEC)
            .open(&d)
            .map_err(|e| Error::read(&d, e))?;
        Ok(Some(OwnedFd::from(f)))
    }

    fn state(&self) -> CgroupState {
        let inner = self.lock();
        CgroupState {
            layout: self.layout,
            rootless: self.rootless,
            v1: self
                .v1
                .iter()
                .map(|d| StateDir {
                    controllers: d.controllers.clone(),
                    path: d.target.leaf(),
                })
                .collect(),
            unified: self.unified.as_ref().map(Target::leaf),
            created: if inner.created_known {
                inner.created.clone()
            } else {
                self.leaves()
            },
            skipped: inner.skipped.clone(),
            minimal: self.minimal,
            systemd: None,
        }
    }

    fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().warnings)
    }

    fn remove_stale(
        &self,
        prefix: &str,
        min_age: Duration,
        stale: &dyn Fn(&str) -> bool,
    ) -> Vec<PathBuf> {
        let own = self.leaves();
        // Candidates come from one listing (the pids hierarchy, else the
        // first one); every hierarchy is then tried for each.
        let Some(list_dir) = self
            .v1_dir("pids")
            .or_else(|| self.leaves().into_iter().next())
            .and_then(|l| l.parent().map(Path::to_path_buf))
        else {
            return Vec::new();
        };
        let Ok(rd) = std::fs::read_dir(&list_dir) else {
            return Vec::new();
        };
        let now = std::time::SystemTime::now();
        let mut removed = Vec::new();
        for ent in rd.flatten() {
            let name = ent.file_name();
            let Some(name) = name.to_str() else { continue };
            if !name.starts_with(prefix) || !stale(name) {
                continue;
            }
            let path = ent.path();
            // Young directories are left alone: their owner may be in
            // another pid namespace (its pid means nothing here) and
            // between mkdir and joining, when its cgroup is still empty.
            let young = std::fs::metadata(&path)
                .and_then(|m| m.modified())
                .map(|t| now.duration_since(t).unwrap_or_default() < min_age)
                .unwrap_or(true);
            if young || own.contains(&path) || !fsutil::on_cgroupfs(&path) {
                continue;
            }
            for parent in &self.parents {
                let d = parent.join(name);
                // One rmdir, no retry: the kernel refuses it while the
                // cgroup has processes or child cgroups, so nothing that
                // is in use is removed.
                if std::fs::remove_dir(&d).is_ok() {
                    removed.push(d);
                }
            }
        }
        removed
    }
}

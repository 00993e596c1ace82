//! ward-cgroups: the container's cgroup, on cgroup v1, v2 and hybrid hosts.
//!
//! Threats stopped here: memory exhaustion (memory limits, OOM kill inside
//! the container), fork bombs (pids.max), CPU and I/O starvation of the
//! host (CFS quota, weights, throttles), device access (v1 devices cgroup,
//! v2 eBPF device program, default deny), escaping or hijacking a cgroup
//! (`linux.cgroupsPath` traversal is refused; a cgroup that already has
//! processes is not joined) and fork races while killing (freeze first,
//! or `cgroup.kill`).
//!
//! # API
//!
//! ```text
//! pub enum Layout { V1, V2, Hybrid }
//! pub fn detect() -> Result<Layout>;
//! pub struct CgroupSpec<'a> { cgroups_path: Option<&'a str>, id: &'a str, systemd: bool, rootless: bool }
//! pub fn open(spec: &CgroupSpec) -> Result<Box<dyn Manager>>;        // resolves paths, touches nothing
//! pub fn open_with_layout(spec: &CgroupSpec, layout: Layout) -> Result<Box<dyn Manager>>;
//! pub fn open_minimal(spec: &CgroupSpec, r: &LinuxResources) -> Result<Box<dyn Manager>>; // only hierarchies carrying a limit (+pids; cgroup2 on hybrid only for unified keys)
//! pub fn restore(state: &CgroupState) -> Result<Box<dyn Manager>>;   // for later `ward kill/delete/events`
//! pub trait Manager: Send + Sync {
//!     fn layout(&self) -> Layout;
//!     fn check(&self, r: &LinuxResources) -> Result<()>;   // validate + host support, no writes
//!     fn create(&self) -> Result<()>;                       // mkdir everywhere (rolls back on error)
//!     fn add_pid(&self, pid: i32) -> Result<()>;
//!     fn apply(&self, r: &LinuxResources) -> Result<()>;    // check, then write; devices: deny all + r.devices + defaults
//!     fn update(&self, r: &LinuxResources) -> Result<()>;   // like apply; empty r.devices leaves device rules alone
//!     fn freeze(&self) -> Result<()>;  fn thaw(&self) -> Result<()>;  fn is_frozen(&self) -> Result<bool>;
//!     fn pids(&self) -> Result<Vec<i32>>;                   // recursive, all hierarchies, sorted
//!     fn kill_all(&self, signal: i32) -> Result<()>;        // cgroup.kill for SIGKILL, else freeze+signal+thaw
//!     fn stats(&self) -> Result<Stats>;                     // runc `events --stats` "data" shape
//!     fn oom_events(&self) -> Result<u64>;                  // OOM kills so far
//!     fn destroy(&self) -> Result<()>;                      // idempotent; only dirs it created
//!     fn paths(&self) -> Vec<PathBuf>;
//!     fn open_v2_dir(&self) -> Result<Option<OwnedFd>>;    // V2 only: for clone3 CLONE_INTO_CGROUP
//!     fn state(&self) -> CgroupState;                       // serde: save it with the container state
//!     fn take_warnings(&self) -> Vec<String>;               // settings ignored (as runc does)
//!     fn remove_stale(&self, prefix, min_age, stale) -> Vec<PathBuf>; // empty siblings of dead owners
//! }
//! pub fn default_allowed_devices() -> Vec<LinuxDeviceCgroup>; // what apply() appends (runc's list)
//! ```
//!
//! The runtime's sequence: `open` → `check(r)` (refuse bad input before
//! anything exists) → `create` → `apply(r)` → `add_pid(pid)` (or clone3 into
//! `open_v2_dir()` on v2) → … → `kill_all(SIGKILL)` → `destroy`. Save
//! `state()` with the container: `create`, `kill` and `delete` run in
//! different processes, and `destroy` only removes the directories that
//! state says were created (never a parent that existed before).
//!
//! `linux.cgroupsPath`: absolute = below each hierarchy's mount; relative =
//! below the runtime's own cgroup (its parent on v2, like runc); missing or
//! empty = `/ward/<id>` (rationale in `path.rs`: `create`, `kill` and
//! `delete` run as different processes and must find the same directory).
//! `..` is an error naming `linux.cgroupsPath`. Rootless without a
//! cgroupsPath: `ward/<id>` relative, i.e. in the subtree delegated to the
//! user (on v2 the parent of its own cgroup, e.g. user@1000.service's
//! app.slice); a hierarchy without write access is skipped with a warning,
//! and limits that need it are an error naming the fix (runc refuses them
//! too).
//!
//! Hybrid hosts: the v1 controllers do the limiting; the container also gets
//! its own cgroup2 directory (processes are added there too), which gives
//! `cgroup.kill`, and `unified` keys for controllers that live only there.
//!
//! `systemd: true` (`--systemd-cgroup`): a transient scope unit made over
//! D-Bus, then the cgroupfs driver in the scope's directory (`systemd/`);
//! without a reachable systemd it is an error naming `--systemd-cgroup`.
//!
//! # Files
//!
//! `open.rs` picks the driver: `manager.rs` (cgroupfs) or `systemd/` (the
//! scope unit, its D-Bus client, unit names and properties). The cgroupfs
//! driver writes limits through `resources.rs` (which controllers a
//! resource set needs, the order of the writes, statistics), which uses
//! `controllers/`, one file per controller with its v1 and v2 limits and
//! its statistics. Leaves: `fsutil.rs` (cgroup files), `convert.rs` (OCI →
//! v2 values), `mounts.rs`, `path.rs`, `stats.rs` (types), `error.rs`.
//! Files only name files below them; this one and `controllers/mod.rs`
//! hold declarations, types and re-exports only.

#![forbid(unsafe_code)]

mod controllers;
mod convert;
mod error;
mod fsutil;
mod manager;
mod mounts;
mod open;
mod path;
mod resources;
mod stats;
mod systemd;

use std::os::fd::OwnedFd;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
pub use ward_spec::resources::LinuxResources;

pub use controllers::devices::{
    attach_v2 as attach_device_filter, bpf_program, default_allowed_devices, Rule, V1State,
};
pub use convert::{blkio_weight_to_io_weight, cpu_max, shares_to_weight, swap_to_v2};
pub use error::{Error, Result};
pub use manager::FsManager;
pub use mounts::{detect, Layout, CGROUP_ROOT, HYBRID_UNIFIED};
pub use open::{open, open_minimal, open_with_layout, restore, systemd_running};
pub use path::DEFAULT_PARENT;
pub use stats::{
    Blkio, BlkioEntry, Cpu, CpuUsage, Hugetlb, Memory, MemoryEntry, Pids, Stats, Throttling,
};
pub use systemd::{cpuset_mask, expand_slice, parse_scope, resource_properties, ScopeName};

/// What the runtime knows about the container's cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupSpec<'a> {
    /// `linux.cgroupsPath`.
    pub cgroups_path: Option<&'a str>,
    /// The container id (names the default cgroup).
    pub id: &'a str,
    /// `--systemd-cgroup`.
    pub systemd: bool,
    /// Rootless: lack of permission skips a hierarchy instead of failing
    /// (limits that need it still fail).
    pub rootless: bool,
}

/// A hierarchy directory in [`CgroupState`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateDir {
    pub controllers: Vec<String>,
    pub path: PathBuf,
}

/// Serializable description of a container's cgroup, for [`restore`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupState {
    pub layout: Layout,
    pub rootless: bool,
    /// v1 hierarchy directories (V1, Hybrid).
    pub v1: Vec<StateDir>,
    /// The cgroup2 directory (V2, Hybrid).
    pub unified: Option<PathBuf>,
    /// Directories created for the container: what `destroy` removes.
    pub created: Vec<PathBuf>,
    /// Directories not created for lack of permission (rootless).
    #[serde(default)]
    pub skipped: Vec<PathBuf>,
    /// Only the hierarchies carrying a limit are managed ([`open_minimal`]).
    #[serde(default)]
    pub minimal: bool,
    /// The systemd driver's unit (`--systemd-cgroup`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub systemd: Option<SystemdUnit>,
}

/// The transient unit of a container made with the systemd driver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemdUnit {
    /// e.g. `ward-c1.scope`.
    pub unit: String,
    /// In the user's systemd instance (rootless), not the system one.
    pub user: bool,
}

/// The container's cgroup.
pub trait Manager: Send + Sync + std::fmt::Debug {
    /// The host layout this manager drives.
    fn layout(&self) -> Layout;
    /// Validates `r` and checks the host can honour it; writes nothing.
    fn check(&self, r: &LinuxResources) -> Result<()>;
    /// Makes the directories (v1: every hierarchy incl. name=systemd; v2:
    /// the directory, controllers enabled in the parents). Refuses a
    /// cgroup that already has processes. On error nothing is left behind.
    fn create(&self) -> Result<()>;
    /// Moves `pid` (a whole process) into the cgroup in every hierarchy.
    fn add_pid(&self, pid: i32) -> Result<()>;
    /// Writes the limits: deny-all device rules plus `r.devices` plus
    /// [`default_allowed_devices`], then the rest of `r`.
    fn apply(&self, r: &LinuxResources) -> Result<()>;
    /// Live update: like `apply`, but an empty `r.devices` leaves the
    /// device rules alone.
    fn update(&self, r: &LinuxResources) -> Result<()>;
    /// Freezes every process and waits until the kernel says frozen.
    fn freeze(&self) -> Result<()>;
    /// Thaws.
    fn thaw(&self) -> Result<()>;
    /// Whether the cgroup is frozen.
    fn is_frozen(&self) -> Result<bool>;
    /// Every process in the cgroup and below, sorted.
    fn pids(&self) -> Result<Vec<i32>>;
    /// Signals every process: `cgroup.kill` for SIGKILL where present,
    /// else freeze, signal each, thaw.
    fn kill_all(&self, signal: i32) -> Result<()>;
    /// Usage statistics.
    fn stats(&self) -> Result<Stats>;
    /// How many times the OOM killer killed in this cgroup.
    fn oom_events(&self) -> Result<u64>;
    /// Removes the directories this manager created (and cgroups the
    /// container made below its own), retrying briefly while busy;
    /// parents that existed before stay. A manager from [`open`] that did
    /// not `create` (and was not restored) removes just the container's own
    /// directories. Idempotent.
    fn destroy(&self) -> Result<()>;
    /// The container's directory in each hierarchy.
    fn paths(&self) -> Vec<PathBuf>;
    /// The cgroup2 directory opened for clone3(CLONE_INTO_CGROUP); `None`
    /// unless the layout is V2 (v1 hierarchies need `add_pid`).
    fn open_v2_dir(&self) -> Result<Option<OwnedFd>>;
    /// What to save to find (and remove) this cgroup later.
    fn state(&self) -> CgroupState;
    /// Settings that were ignored, as runc ignores them (kernel memory…).
    fn take_warnings(&self) -> Vec<String>;
    /// Removes cgroups left by dead owners: the empty directories next to
    /// this one, in every hierarchy, whose name starts with `prefix`, for
    /// which `stale(name)` says the owner is gone, and that are at least
    /// `min_age` old. A cgroup with processes or child cgroups is never
    /// removed (rmdir refuses it). Returns what was removed; errors (no
    /// permission...) only mean nothing was removed there.
    fn remove_stale(
        &self,
        prefix: &str,
        min_age: std::time::Duration,
        stale: &dyn Fn(&str) -> bool,
    ) -> Vec<PathBuf>;
}

//! One file per cgroup controller, each with its limits for cgroup v1 and
//! v2 and its usage statistics. Which controllers a resource set needs and
//! the order they are written in: `resources.rs`. Shared helpers live in
//! the leaf modules `fsutil.rs` and `convert.rs`, not here.

pub(crate) mod blkio;
pub(crate) mod cpu;
pub(crate) mod cpuset;
pub(crate) mod devices;
pub(crate) mod freezer;
pub(crate) mod hugetlb;
pub(crate) mod memory;
pub(crate) mod network;
pub(crate) mod pids;
pub(crate) mod rdma;
pub(crate) mod unified;

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The prefix of the config fields errors name.
pub(crate) const F: &str = "linux.resources";

/// What a controller needs from the manager: the container's directories.
pub(crate) trait Dirs {
    /// The container's directory in the v1 hierarchy holding `controller`
    /// (`None` if unmounted, or skipped for lack of permission).
    fn v1_dir(&self, controller: &str) -> Option<PathBuf>;
    /// The error for a v1 controller that is not there, naming `field`.
    fn missing(&self, controller: &str, field: &str) -> Error;
    /// Like `v1_dir`, as an error naming `field` when absent.
    fn need(&self, controller: &str, field: &str) -> Result<PathBuf>;
    /// The container's cgroup2 directory (V2, Hybrid).
    fn unified_leaf(&self) -> Option<PathBuf>;
    /// Rootless: some refusals are warnings.
    fn rootless(&self) -> bool;
    /// Records a setting that was ignored.
    fn warn(&self, w: String);
}

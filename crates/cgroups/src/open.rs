//! Choosing the driver: the cgroupfs manager, or the systemd driver for
//! `--systemd-cgroup`, for a new container or from its saved state.

use ward_spec::resources::LinuxResources;

use crate::error::Result;
use crate::manager::FsManager;
use crate::mounts::{detect, Layout};
use crate::systemd::SystemdManager;
use crate::{CgroupSpec, CgroupState, Manager};

/// Whether systemd is the running init (what runc checks).
pub fn systemd_running() -> bool {
    std::path::Path::new("/run/systemd/system").is_dir()
}

/// The manager for a container. Resolves paths only; nothing is created
/// until [`Manager::create`]. The systemd driver connects to systemd here,
/// so a missing systemd is an error before anything exists.
pub fn open(spec: &CgroupSpec<'_>) -> Result<Box<dyn Manager>> {
    let layout = detect()?;
    open_with_layout(spec, layout)
}

/// Like [`open`] with a given layout instead of the detected one. On a
/// hybrid host `Layout::V2` drives only the cgroup2 hierarchy mounted at
/// /sys/fs/cgroup/unified (as crun can); used by the tests to exercise the
/// v2 code on hybrid hosts.
pub fn open_with_layout(spec: &CgroupSpec<'_>, layout: Layout) -> Result<Box<dyn Manager>> {
    if spec.systemd {
        return Ok(Box::new(SystemdManager::new(spec, layout)?));
    }
    Ok(Box::new(FsManager::new(spec, layout)?))
}

/// Like [`open`], but on v1 and hybrid hosts only the hierarchies that carry
/// a limit of `r` are managed, plus `pids` (to find every process), and on
/// hybrid hosts the cgroup2 directory only for `r.unified` keys (so no
/// cgroup.kill there: kill_all signals each process, or uses the freezer
/// when it is managed); no v1 device rules unless `r.devices` is set. For a
/// short-lived sandbox whose device access is stopped by its user namespace
/// and nodev mounts: each hierarchy costs a mkdir, a join and an rmdir.
pub fn open_minimal(spec: &CgroupSpec<'_>, r: &LinuxResources) -> Result<Box<dyn Manager>> {
    if spec.systemd {
        return open(spec);
    }
    Ok(Box::new(FsManager::new_minimal(spec, detect()?, r)?))
}

/// Rebuilds the manager of an existing container from its saved state.
pub fn restore(state: &CgroupState) -> Result<Box<dyn Manager>> {
    if let Some(unit) = &state.systemd {
        return Ok(Box::new(SystemdManager::restore(state, unit)?));
    }
    Ok(Box::new(FsManager::restore(state)?))
}

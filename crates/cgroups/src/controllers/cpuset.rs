//! The cpuset controller: which CPUs and memory nodes the container may use.
//!
//! Threat: a container pinned onto (or spreading over) CPUs it should not
//! have. A v1 cpuset cgroup without cpus or mems cannot take processes, so
//! new directories inherit the parent's.

use std::path::{Path, PathBuf};

use ward_spec::resources::LinuxCpu;

use super::{Dirs, F};
use crate::error::Result;
use crate::fsutil::{self, write};

/// Whether `c` needs the cpuset hierarchy.
pub(crate) fn needed(c: &LinuxCpu) -> bool {
    c.cpus.as_deref().is_some_and(|s| !s.is_empty())
        || c.mems.as_deref().is_some_and(|s| !s.is_empty())
}

pub(crate) fn apply_v1(m: &dyn Dirs, c: &LinuxCpu) -> Result<()> {
    for (file, v, name) in [
        ("cpuset.cpus", &c.cpus, "cpus"),
        ("cpuset.mems", &c.mems, "mems"),
    ] {
        if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
            let field = format!("{F}.cpu.{name}");
            let d = m.need("cpuset", &field)?;
            write(&d, file, v, &field)?;
        }
    }
    Ok(())
}

pub(crate) fn apply_v2(d: &Path, c: &LinuxCpu) -> Result<()> {
    for (file, v, name) in [
        ("cpuset.cpus", &c.cpus, "cpus"),
        ("cpuset.mems", &c.mems, "mems"),
    ] {
        if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
            write(d, file, v, &format!("{F}.cpu.{name}"))?;
        }
    }
    Ok(())
}

/// Copies cpuset.cpus/mems from the parent into `dir` where empty: a cpuset
/// cgroup without cpus or mems cannot take processes.
pub(crate) fn ensure_cpuset(dir: &Path) -> Result<()> {
    let Some(parent) = dir.parent().map(PathBuf::from) else {
        return Ok(());
    };
    for file in ["cpuset.cpus", "cpuset.mems"] {
        let cur = fsutil::read(dir, file)?;
        if cur.trim().is_empty() {
            let p = fsutil::read(&parent, file)?;
            write(
                dir,
                file,
                p.trim(),
                "cpuset (copied from the parent cgroup so processes can join)",
            )?;
        }
    }
    Ok(())
}

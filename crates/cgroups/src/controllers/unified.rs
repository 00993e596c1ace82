//! `linux.resources.unified`: raw cgroup v2 files, written as given.
//!
//! Threat: a key naming a controller the cgroup does not have would be a
//! limit that silently does not exist; the error says which controllers
//! there are and how to enable one.

use std::path::Path;

use ward_spec::resources::LinuxResources;

use super::{Dirs, F};
use crate::error::{Error, Result};
use crate::fsutil;

/// Hybrid hosts: `unified` keys go to the container's cgroup2 directory if
/// that hierarchy offers the file.
pub(crate) fn apply_hybrid(m: &dyn Dirs, r: &LinuxResources) -> Result<()> {
    let Some(u) = m.unified_leaf() else {
        return Err(Error::resource(
            format!("{F}.unified"),
            "needs cgroup v2, and this host has only cgroup v1: remove linux.resources.unified",
        ));
    };
    for (k, v) in &r.unified {
        let field = format!("{F}.unified[{k:?}]");
        if !fsutil::exists(&u, k) {
            return Err(Error::resource(
                field,
                format!(
                    "{} does not exist: on this hybrid host the cgroup v2 hierarchy does not offer that controller (its controllers: {:?})",
                    u.join(k).display(),
                    fsutil::read_opt(&u, "cgroup.controllers")?.unwrap_or_default().trim()
                ),
            ));
        }
        fsutil::write_lines(&u, k, v, &field)?;
    }
    Ok(())
}

pub(crate) fn apply_v2(d: &Path, r: &LinuxResources) -> Result<()> {
    for (k, v) in &r.unified {
        let field = format!("{F}.unified[{k:?}]");
        if let Err(e) = fsutil::write_lines(d, k, v, &field) {
            if matches!(
                e.errno(),
                Some(libc::ENOENT) | Some(libc::EACCES) | Some(libc::EPERM)
            ) {
                let ctrl = k.split('.').next().unwrap_or("");
                let have = fsutil::read_opt(d, "cgroup.controllers")?.unwrap_or_default();
                if ctrl != "cgroup" && !have.split_whitespace().any(|c| c == ctrl) {
                    return Err(Error::resource(
                        field,
                        format!(
                            "controller {ctrl:?} is not enabled for {} (enabled: {:?}): enable it in the parent's cgroup.subtree_control",
                            d.display(),
                            have.trim()
                        ),
                    ));
                }
            }
            return Err(e);
        }
    }
    Ok(())
}

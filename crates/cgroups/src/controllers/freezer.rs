//! Freezing: the v1 freezer hierarchy, else cgroup v2's cgroup.freeze.
//!
//! Threat: fork races while killing. A frozen cgroup cannot fork, so
//! `kill_all` freezes first; freezing waits until the kernel reports the
//! new state and gives up (thawing again) instead of hanging.

use std::path::{Path, PathBuf};

use super::Dirs;
use crate::error::{Error, Result};
use crate::fsutil::{self, write};

/// The container's freezer: the v1 hierarchy directory or the cgroup2 one.
pub(crate) enum Freezer {
    V1(PathBuf),
    V2(PathBuf),
}

impl Freezer {
    /// The v1 freezer where mounted, else cgroup.freeze (Linux 5.2+).
    pub(crate) fn find(m: &dyn Dirs) -> Result<Freezer> {
        if let Some(d) = m.v1_dir("freezer") {
            return Ok(Freezer::V1(d));
        }
        if let Some(u) = m.unified_leaf() {
            if fsutil::exists(&u, "cgroup.freeze") {
                return Ok(Freezer::V2(u));
            }
        }
        Err(Error::op(
            "freezing the container",
            "no freezer: neither a v1 freezer hierarchy nor cgroup.freeze (Linux 5.2+) is available",
        ))
    }

    pub(crate) fn freeze(&self) -> Result<()> {
        match self {
            Freezer::V1(d) => freeze_v1(d),
            Freezer::V2(d) => set_frozen_v2(d, true),
        }
    }

    pub(crate) fn thaw(&self) -> Result<()> {
        match self {
            Freezer::V1(d) => thaw_v1(d),
            Freezer::V2(d) => set_frozen_v2(d, false),
        }
    }

    pub(crate) fn is_frozen(&self) -> Result<bool> {
        match self {
            Freezer::V1(d) => is_frozen_v1(d),
            Freezer::V2(d) => is_frozen_v2(d),
        }
    }
}

/// v1 freezer.state: freeze, waiting until FROZEN. Re-writes FROZEN while
/// FREEZING, and thaws briefly every 50 tries to get tasks stuck in vfork
/// or a signal race moving (as runc does). On timeout it thaws again.
fn freeze_v1(d: &Path) -> Result<()> {
    let field = "freezer";
    let start = std::time::Instant::now();
    for i in 0u32.. {
        if i % 50 == 49 {
            write(d, "freezer.state", "THAWED", field)?;
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        write(d, "freezer.state", "FROZEN", field)?;
        let st = fsutil::read(d, "freezer.state")?;
        match st.trim() {
            "FROZEN" => return Ok(()),
            "FREEZING" => {}
            other => {
                return Err(Error::op(
                    format!("freezing {}", d.display()),
                    format!("unexpected freezer.state {other:?}"),
                ))
            }
        }
        if start.elapsed() > std::time::Duration::from_secs(5) {
            let _ = write(d, "freezer.state", "THAWED", field);
            return Err(Error::op(
                format!("freezing {}", d.display()),
                "the processes did not freeze within 5 s (a task stuck in uninterruptible sleep?); the cgroup was thawed again",
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(u64::from(i.min(10))));
    }
    Ok(())
}

fn thaw_v1(d: &Path) -> Result<()> {
    write(d, "freezer.state", "THAWED", "freezer")
}

fn is_frozen_v1(d: &Path) -> Result<bool> {
    Ok(fsutil::read(d, "freezer.state")?.trim() == "FROZEN")
}

/// v2 freeze: cgroup.freeze, then wait for `frozen 1` in cgroup.events.
fn set_frozen_v2(d: &Path, frozen: bool) -> Result<()> {
    let v = if frozen { "1" } else { "0" };
    write(d, "cgroup.freeze", v, "freezer")?;
    let start = std::time::Instant::now();
    let mut nap = 1u64;
    loop {
        let ev = fsutil::read(d, "cgroup.events")?;
        if fsutil::keyed_value(&ev, "frozen") == Some(u64::from(frozen)) {
            return Ok(());
        }
        if start.elapsed() > std::time::Duration::from_secs(5) {
            if frozen {
                let _ = write(d, "cgroup.freeze", "0", "freezer");
            }
            return Err(Error::op(
                format!(
                    "{} {}",
                    if frozen { "freezing" } else { "thawing" },
                    d.display()
                ),
                "cgroup.events did not report the new state within 5 s",
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(nap));
        nap = (nap * 2).min(20);
    }
}

fn is_frozen_v2(d: &Path) -> Result<bool> {
    Ok(fsutil::read(d, "cgroup.freeze")?.trim() == "1")
}

//! Capabilities: exactly the five sets of the config, nothing inherited.
//!
//! Threats: root's full capability set (CAP_SYS_ADMIN mounts, CAP_SYS_MODULE
//! loads kernel code, CAP_NET_ADMIN rewires the network ...). CVE-2022-29162:
//! runc left the inheritable set non-empty, so a file with inheritable file
//! capabilities gained them across execve even for a non-root user; ward's
//! inheritable set is empty unless the config names capabilities for it.
//! An absent `process.capabilities` means *no* capabilities (runc would keep
//! all of root's; ward refuses to weaken silently).

use ward_spec::{caps, Capabilities};
use ward_sys::caps as sys;

use crate::{Context, Result};

fn mask(list: &Option<Vec<String>>) -> u64 {
    list.as_ref().map(caps::mask).unwrap_or(0)
}

/// Step 1, while still root with every capability: shrink the bounding set.
/// It needs CAP_SETPCAP, which the uid change may take away.
pub fn drop_bounding(c: Option<&Capabilities>) -> Result<()> {
    let keep = c.map(|c| mask(&c.bounding)).unwrap_or(0);
    for cap in 0..=sys::last_cap() {
        if cap < 64 && keep & (1 << cap) == 0 && sys::bounding_has(cap).unwrap_or(false) {
            sys::bounding_drop(cap).layer("capabilities", || {
                format!("dropping {} from the bounding set", cap_name(cap))
            })?;
        }
    }
    Ok(())
}

/// Step 2, after the uid change (with KEEPCAPS): set effective, permitted,
/// inheritable, then the ambient set.
///
/// `keep` (a mask) is added to the effective and permitted sets only, never
/// to the inheritable, bounding or ambient ones: pipeline.rs keeps
/// CAP_SYS_ADMIN this way to load seccomp and Landlock at the very end when
/// there is no no_new_privs. Without no_new_privs execve computes the new
/// permitted set from the bounding, inheritable and ambient sets (and the
/// file's capabilities), never from the old permitted one, so the kept bit
/// is gone in the container's program (tests/tests/seccomp_last.rs reads
/// /proc/self/status inside). With no_new_privs the old permitted set caps
/// the new one, so `keep` must stay 0 then.
pub fn apply_sets(c: Option<&Capabilities>, keep: u64) -> Result<()> {
    let sets = match c {
        Some(c) => sys::CapSets {
            effective: mask(&c.effective),
            permitted: mask(&c.permitted),
            inheritable: mask(&c.inheritable),
        },
        None => sys::CapSets::default(),
    };
    let held = sys::CapSets {
        effective: sets.effective | keep,
        permitted: sets.permitted | keep,
        inheritable: sets.inheritable,
    };
    sys::set(held).layer("capabilities", || "capset (process.capabilities)".into())?;
    sys::ambient_clear_all().layer("capabilities", || "clearing the ambient set".into())?;
    if let Some(ambient) = c.and_then(|c| c.ambient.as_ref()) {
        for name in ambient {
            let Some(cap) = caps::number(name) else {
                continue;
            };
            // The kernel only allows ambient capabilities that are both
            // permitted and inheritable. runc's own template lists ambient
            // capabilities without inheritable ones (after CVE-2022-29162)
            // and skips them; so does ward: skipping grants less, never more.
            let bit = 1u64 << cap;
            if sets.permitted & bit == 0 || sets.inheritable & bit == 0 {
                continue;
            }
            sys::ambient_raise(cap).layer("capabilities", || format!("raising ambient {name}"))?;
        }
    }
    Ok(())
}

fn cap_name(cap: u32) -> String {
    caps::NAMES
        .get(cap as usize)
        .map(|s| s.to_string())
        .unwrap_or_else(|| format!("capability {cap}"))
}

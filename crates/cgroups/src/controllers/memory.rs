//! The memory controller: limit, memory+swap, reservation, OOM control;
//! OOM kill counts and usage statistics.
//!
//! Threat: memory exhaustion of the host. v1 write order follows runc
//! (memory <= memory+swap must hold after each write); v2 converts OCI's
//! memory+swap into swap alone. A limit at or below the current usage is
//! an error naming the usage, never a silent no-op.

use std::path::Path;

use ward_spec::resources::LinuxMemory;

use super::{Dirs, F};
use crate::convert::{self, nz};
use crate::error::{Error, Result};
use crate::fsutil::{
    self, keyed_value, parse_flat_keyed, read_opt, read_u64, read_u64_or_zero as u, write,
};
use crate::stats::{Memory, MemoryEntry};

/// Whether `mem` needs the v1 memory hierarchy at all.
pub(crate) fn needed_v1(mem: &LinuxMemory) -> bool {
    nz(mem.limit).is_some()
        || nz(mem.reservation).is_some()
        || nz(mem.swap).is_some()
        || mem.swappiness.is_some()
        || mem.disable_oom_killer.is_some()
        || mem.use_hierarchy.is_some()
}

/// Whether `mem` has anything cgroup v2 can express (swappiness, the OOM
/// killer and hierarchy knobs have no v2 files).
pub(crate) fn needed_v2(mem: &LinuxMemory) -> bool {
    nz(mem.limit).is_some() || nz(mem.reservation).is_some() || nz(mem.swap).is_some()
}

fn memory_busy(d: &Path, e: Error, limit: i64) -> Error {
    if e.errno() != Some(libc::EBUSY) {
        return e;
    }
    let usage = read_u64(d, "memory.usage_in_bytes").unwrap_or(0);
    let peak = read_u64(d, "memory.max_usage_in_bytes").unwrap_or(0);
    Error::resource(
        format!("{F}.memory.limit"),
        format!(
            "cannot set the limit to {limit}: the container already uses {usage} bytes (peak {peak}); raise the limit"
        ),
    )
}

/// Refuses limits at or below the current usage (checkBeforeUpdate).
pub(crate) fn check_usage(field: &str, limit: i64, usage: u64) -> Result<()> {
    if limit > 0 && limit.unsigned_abs() <= usage {
        return Err(Error::resource(
            field,
            format!("rejecting {limit}: it is at or below the current usage {usage} (checkBeforeUpdate is set)"),
        ));
    }
    Ok(())
}

pub(crate) fn apply_v1(m: &dyn Dirs, mem: &LinuxMemory) -> Result<()> {
    let field = format!("{F}.memory");
    let limit = nz(mem.limit);
    let mut swap = nz(mem.swap);
    if !needed_v1(mem) {
        return Ok(());
    }
    let d = m.need("memory", &field)?;
    let memsw = fsutil::exists(&d, "memory.memsw.limit_in_bytes");
    if mem.check_before_update == Some(true) {
        let usage = read_u64(&d, "memory.usage_in_bytes")?;
        if let Some(l) = limit {
            check_usage(&format!("{F}.memory.limit"), l, usage)?;
        }
        if let (Some(s), true) = (swap, memsw) {
            let u = read_u64(&d, "memory.memsw.usage_in_bytes")?;
            check_usage(&format!("{F}.memory.swap"), s, u)?;
        }
    }
    // Unlimited memory without a swap setting lifts memory+swap too.
    if limit == Some(-1) && swap.is_none() && memsw {
        swap = Some(-1);
    }
    if swap.is_some() && !memsw {
        return Err(Error::resource(
            format!("{F}.memory.swap"),
            format!(
                "{}/memory.memsw.limit_in_bytes does not exist: this kernel has no swap accounting (boot with swapaccount=1) — remove memory.swap",
                d.display()
            ),
        ));
    }
    let write_limit = |l: i64| -> Result<()> {
        write(
            &d,
            "memory.limit_in_bytes",
            &l.to_string(),
            &format!("{F}.memory.limit"),
        )
        .map_err(|e| memory_busy(&d, e, l))
    };
    let write_swap = |s: i64| -> Result<()> {
        write(
            &d,
            "memory.memsw.limit_in_bytes",
            &s.to_string(),
            &format!("{F}.memory.swap"),
        )
    };
    match (limit, swap) {
        (Some(l), Some(s)) => {
            // memory <= memory+swap must hold after each write.
            let cur = read_u64(&d, "memory.limit_in_bytes")?;
            if s == -1 || cur < s.unsigned_abs() {
                write_swap(s)?;
                write_limit(l)?;
            } else {
                write_limit(l)?;
                write_swap(s)?;
            }
        }
        (Some(l), None) => write_limit(l)?,
        (None, Some(s)) => write_swap(s)?,
        (None, None) => {}
    }
    if let Some(r) = nz(mem.reservation) {
        write(
            &d,
            "memory.soft_limit_in_bytes",
            &r.to_string(),
            &format!("{F}.memory.reservation"),
        )?;
    }
    if let Some(dis) = mem.disable_oom_killer {
        write(
            &d,
            "memory.oom_control",
            if dis { "1" } else { "0" },
            &format!("{F}.memory.disableOOMKiller"),
        )?;
    }
    if let Some(s) = mem.swappiness {
        write(
            &d,
            "memory.swappiness",
            &s.to_string(),
            &format!("{F}.memory.swappiness"),
        )?;
    }
    if let Some(h) = mem.use_hierarchy {
        let want = u64::from(h);
        if fsutil::read_u64_opt(&d, "memory.use_hierarchy")? != Some(want) {
            write(
                &d,
                "memory.use_hierarchy",
                &want.to_string(),
                &format!("{F}.memory.useHierarchy"),
            )?;
        }
    }
    if mem.kernel.is_some() || mem.kernel_tcp.is_some() {
        m.warn(
            "linux.resources.memory.kernel/kernelTCP are deprecated and ignored (as runc does)"
                .into(),
        );
    }
    Ok(())
}

pub(crate) fn apply_v2(d: &Path, mem: &LinuxMemory) -> Result<()> {
    let limit = mem.limit.unwrap_or(0);
    let swap = mem.swap.unwrap_or(0);
    let reservation = mem.reservation.unwrap_or(0);
    if limit == 0 && swap == 0 && reservation == 0 {
        return Ok(());
    }
    if mem.check_before_update == Some(true) {
        if let Some(usage) = fsutil::read_u64_opt(d, "memory.current")? {
            check_usage(&format!("{F}.memory.limit"), limit, usage)?;
            check_usage(&format!("{F}.memory.swap"), swap, usage)?;
        }
    }
    let swap_v2 = convert::swap_to_v2(swap, limit)?;
    if let Some(s) = swap_v2 {
        if fsutil::exists(d, "memory.swap.max") {
            write(d, "memory.swap.max", &s, &format!("{F}.memory.swap"))?;
        } else if s != "max" && s != "0" {
            return Err(Error::resource(
                format!("{F}.memory.swap"),
                format!(
                    "{}/memory.swap.max does not exist: this kernel has no swap accounting — remove memory.swap",
                    d.display()
                ),
            ));
        }
    }
    if let Some(v) = convert::limit_to_v2(limit, false) {
        write(d, "memory.max", &v, &format!("{F}.memory.limit"))?;
    }
    if let Some(v) = convert::limit_to_v2(reservation, false) {
        write(d, "memory.low", &v, &format!("{F}.memory.reservation"))?;
    }
    Ok(())
}

/// Settings v2 ignores: warnings, like runc.
pub(crate) fn ignored_v2(m: &LinuxMemory) -> Vec<String> {
    let mut w = Vec::new();
    if m.swappiness.is_some() {
        w.push(
            "linux.resources.memory.swappiness is ignored: cgroup v2 has no per-cgroup swappiness"
                .to_string(),
        );
    }
    if m.disable_oom_killer == Some(true) {
        w.push("linux.resources.memory.disableOOMKiller is ignored: cgroup v2 cannot disable the OOM killer".to_string());
    }
    if m.use_hierarchy == Some(false) {
        w.push("linux.resources.memory.useHierarchy=false is ignored: cgroup v2 is always hierarchical".to_string());
    }
    if m.kernel.is_some() || m.kernel_tcp.is_some() {
        w.push(
            "linux.resources.memory.kernel/kernelTCP are deprecated and ignored (as runc does)"
                .to_string(),
        );
    }
    w
}

/// OOM kills in the memory cgroup: `oom_kill` of memory.oom_control (Linux
/// 4.13+), else 1 while the cgroup is under OOM.
pub(crate) fn oom_events_v1(d: &Path) -> Result<u64> {
    let s = fsutil::read(d, "memory.oom_control")?;
    Ok(fsutil::keyed_value(&s, "oom_kill")
        .or_else(|| fsutil::keyed_value(&s, "under_oom"))
        .unwrap_or(0))
}

/// OOM kills: `oom_kill` of memory.events.
pub(crate) fn oom_events_v2(d: &Path) -> Result<u64> {
    let s = fsutil::read(d, "memory.events")?;
    Ok(fsutil::keyed_value(&s, "oom_kill").unwrap_or(0))
}

/// v1 usage statistics of the memory hierarchy directory `d`.
pub(crate) fn stats_v1(d: &Path) -> Result<Memory> {
    let mut st = Memory::default();
    let entry = |prefix: &str| -> Result<MemoryEntry> {
        Ok(MemoryEntry {
            limit: u(d, &format!("{prefix}.limit_in_bytes"))?,
            usage: u(d, &format!("{prefix}.usage_in_bytes"))?,
            max: u(d, &format!("{prefix}.max_usage_in_bytes"))?,
            failcnt: u(d, &format!("{prefix}.failcnt"))?,
        })
    };
    st.usage = entry("memory")?;
    st.swap = entry("memory.memsw")?;
    st.kernel = entry("memory.kmem")?;
    st.kernel_tcp = entry("memory.kmem.tcp")?;
    if let Some(s) = read_opt(d, "memory.stat")? {
        st.raw = parse_flat_keyed(&s).into_iter().collect();
        st.cache = st.raw.get("cache").copied().unwrap_or(0);
    }
    Ok(st)
}

/// v2 usage statistics of the container's directory `d`, if it has the
/// memory controller.
pub(crate) fn stats_v2(d: &Path) -> Result<Option<Memory>> {
    if !fsutil::exists(d, "memory.current") {
        return Ok(None);
    }
    let mut st = Memory::default();
    let events = read_opt(d, "memory.events")?.unwrap_or_default();
    st.usage = MemoryEntry {
        limit: u(d, "memory.max")?,
        usage: u(d, "memory.current")?,
        max: u(d, "memory.peak")?,
        failcnt: keyed_value(&events, "max").unwrap_or(0),
    };
    if fsutil::exists(d, "memory.swap.current") {
        let swap_limit = u(d, "memory.swap.max")?;
        // v1 reports memory+swap; do the same.
        st.swap = MemoryEntry {
            limit: if swap_limit == u64::MAX || st.usage.limit == u64::MAX {
                u64::MAX
            } else {
                swap_limit.saturating_add(st.usage.limit)
            },
            usage: u(d, "memory.swap.current")?.saturating_add(st.usage.usage),
            max: 0,
            failcnt: 0,
        };
    }
    if let Some(s) = read_opt(d, "memory.stat")? {
        st.raw = parse_flat_keyed(&s).into_iter().collect();
        st.cache = st.raw.get("file").copied().unwrap_or(0);
    }
    Ok(Some(st))
}

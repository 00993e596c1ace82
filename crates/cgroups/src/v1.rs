//! cgroup v1 (and hybrid) limits: one directory per controller hierarchy.
//!
//! Threats: memory exhaustion (memory.limit_in_bytes, memsw), fork bombs
//! (pids.max), CPU starvation of the host (cpu.cfs_quota_us, cpu.shares),
//! I/O starvation (blkio throttling) and device access (devices.*). Write
//! orders follow runc where the kernel cares (memory before/after
//! memory+swap, CFS period before quota), and every value is checked after
//! validation so that a refused write is an error, never a silent no-op.

use std::path::{Path, PathBuf};

use ward_spec::resources::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources};

use crate::error::{Error, Result};
use crate::fsutil::{self, read_u64, write};
use crate::manager::FsManager;

const F: &str = "linux.resources";

fn nz(v: Option<i64>) -> Option<i64> {
    v.filter(|x| *x != 0)
}

/// The controllers a resource set needs (for checks before anything is
/// written): (controller, field).
pub(crate) fn needed(r: &LinuxResources) -> Vec<(&'static str, String)> {
    let mut n: Vec<(&'static str, String)> = Vec::new();
    if !r.devices.is_empty() {
        n.push(("devices", format!("{F}.devices")));
    }
    if let Some(m) = &r.memory {
        if nz(m.limit).is_some()
            || nz(m.reservation).is_some()
            || nz(m.swap).is_some()
            || m.swappiness.is_some()
            || m.disable_oom_killer.is_some()
            || m.use_hierarchy.is_some()
        {
            n.push(("memory", format!("{F}.memory")));
        }
    }
    if let Some(c) = &r.cpu {
        if c.cpus.as_deref().is_some_and(|s| !s.is_empty())
            || c.mems.as_deref().is_some_and(|s| !s.is_empty())
        {
            n.push(("cpuset", format!("{F}.cpu.cpus")));
        }
        if c.shares.is_some_and(|s| s != 0)
            || nz(c.quota).is_some()
            || c.period.is_some_and(|p| p != 0)
            || c.burst.is_some()
            || nz(c.realtime_runtime).is_some()
            || c.realtime_period.is_some_and(|p| p != 0)
            || c.idle.is_some()
        {
            n.push(("cpu", format!("{F}.cpu")));
        }
    }
    if r.pids.as_ref().is_some_and(|p| p.limit.is_some()) {
        n.push(("pids", format!("{F}.pids.limit")));
    }
    if let Some(b) = &r.block_io {
        if b.weight.is_some_and(|w| w != 0)
            || b.leaf_weight.is_some_and(|w| w != 0)
            || !b.weight_device.is_empty()
            || !b.throttle_read_bps_device.is_empty()
            || !b.throttle_write_bps_device.is_empty()
            || !b.throttle_read_iops_device.is_empty()
            || !b.throttle_write_iops_device.is_empty()
        {
            n.push(("blkio", format!("{F}.blockIO")));
        }
    }
    if !r.hugepage_limits.is_empty() {
        n.push(("hugetlb", format!("{F}.hugepageLimits")));
    }
    if let Some(net) = &r.network {
        if net.class_id.is_some() {
            n.push(("net_cls", format!("{F}.network.classID")));
        }
        if !net.priorities.is_empty() {
            n.push(("net_prio", format!("{F}.network.priorities")));
        }
    }
    if !r.rdma.is_empty() {
        n.push(("rdma", format!("{F}.rdma")));
    }
    n
}

/// Applies `r`. `devices`: the full device rule list to install, if any.
pub(crate) fn apply(
    m: &FsManager,
    r: &LinuxResources,
    devices: Option<&[crate::devices::Rule]>,
) -> Result<()> {
    if let Some(c) = &r.cpu {
        set_cpuset(m, c)?;
    }
    if let Some(rules) = devices {
        if let Some(d) = m.v1_dir("devices") {
            crate::devices::apply_v1(&d, rules)?;
        } else {
            return Err(m.missing("devices", &format!("{F}.devices")));
        }
    }
    if let Some(mem) = &r.memory {
        set_memory(m, mem)?;
    }
    if let Some(c) = &r.cpu {
        set_cpu(m, c)?;
    }
    if let Some(limit) = r.pids.as_ref().and_then(|p| p.limit) {
        let d = m.need("pids", &format!("{F}.pids.limit"))?;
        let v = match limit {
            n if n < 0 => "max".to_string(),
            n => n.to_string(),
        };
        write(&d, "pids.max", &v, &format!("{F}.pids.limit"))?;
    }
    if let Some(b) = &r.block_io {
        set_blkio(m, b)?;
    }
    for (i, h) in r.hugepage_limits.iter().enumerate() {
        let field = format!("{F}.hugepageLimits[{i}]");
        let d = m.need("hugetlb", &field)?;
        crate::convert::check_page_size(&field, &h.page_size)?;
        let file = format!("hugetlb.{}.limit_in_bytes", h.page_size);
        let v = h.limit.to_string();
        // Reservation limits where the kernel has them (runtime-spec).
        let rsvd = format!("hugetlb.{}.rsvd.limit_in_bytes", h.page_size);
        if fsutil::exists(&d, &rsvd) {
            write(&d, &rsvd, &v, &field)?;
        }
        write(&d, &file, &v, &field)?;
    }
    if let Some(net) = &r.network {
        if let Some(id) = net.class_id {
            let d = m.need("net_cls", &format!("{F}.network.classID"))?;
            write(
                &d,
                "net_cls.classid",
                &id.to_string(),
                &format!("{F}.network.classID"),
            )?;
        }
        for (i, p) in net.priorities.iter().enumerate() {
            let field = format!("{F}.network.priorities[{i}]");
            let d = m.need("net_prio", &field)?;
            write(
                &d,
                "net_prio.ifpriomap",
                &format!("{} {}", p.name, p.priority),
                &field,
            )?;
        }
    }
    for (dev, lim) in &r.rdma {
        let field = format!("{F}.rdma[{dev:?}]");
        let d = m.need("rdma", &field)?;
        write(&d, "rdma.max", &crate::v2::rdma_line(dev, lim), &field)?;
    }
    if !r.unified.is_empty() {
        set_unified_hybrid(m, r)?;
    }
    Ok(())
}

fn set_cpuset(m: &FsManager, c: &LinuxCpu) -> Result<()> {
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

fn set_memory(m: &FsManager, mem: &LinuxMemory) -> Result<()> {
    let field = format!("{F}.memory");
    let limit = nz(mem.limit);
    let mut swap = nz(mem.swap);
    let needs_dir = limit.is_some()
        || swap.is_some()
        || nz(mem.reservation).is_some()
        || mem.swappiness.is_some()
        || mem.disable_oom_killer.is_some()
        || mem.use_hierarchy.is_some();
    if !needs_dir {
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
        m.warn("linux.resources.memory.kernel/kernelTCP are deprecated and ignored (as runc does)");
    }
    Ok(())
}

fn set_cpu(m: &FsManager, c: &LinuxCpu) -> Result<()> {
    let f = |n: &str| format!("{F}.cpu.{n}");
    let shares = c.shares.filter(|s| *s != 0);
    let quota = nz(c.quota);
    let period = c.period.filter(|p| *p != 0);
    let rt_runtime = nz(c.realtime_runtime);
    let rt_period = c.realtime_period.filter(|p| *p != 0);
    if shares.is_none()
        && quota.is_none()
        && period.is_none()
        && c.burst.is_none()
        && rt_runtime.is_none()
        && rt_period.is_none()
        && c.idle.is_none()
    {
        return Ok(());
    }
    let d = m.need("cpu", &f(""))?;
    if let Some(s) = shares {
        write(&d, "cpu.shares", &s.to_string(), &f("shares"))?;
        let got = read_u64(&d, "cpu.shares")?;
        if got != s {
            return Err(Error::resource(
                f("shares"),
                format!("the kernel set {got} instead of {s}: use a value within its range"),
            ));
        }
    }
    // The kernel checks quota/period (and burst) pairs on every write; try
    // the period first and retry it after the quota if it was refused.
    let mut period_pending = None;
    if let Some(p) = period {
        if let Err(e) = write(&d, "cpu.cfs_period_us", &p.to_string(), &f("period")) {
            if e.errno() != Some(libc::EINVAL) || quota.is_none() {
                return Err(e);
            }
            period_pending = Some(p);
        }
    }
    let mut burst_pending = None;
    if let Some(b) = c.burst {
        if !fsutil::exists(&d, "cpu.cfs_burst_us") {
            return Err(Error::resource(
                f("burst"),
                "this kernel has no cpu.cfs_burst_us (CFS burst needs Linux 5.14): remove cpu.burst",
            ));
        }
        if let Err(e) = write(&d, "cpu.cfs_burst_us", &b.to_string(), &f("burst")) {
            if e.errno() != Some(libc::EINVAL) || quota.is_none() {
                return Err(e);
            }
            burst_pending = Some(b);
        }
    }
    if let Some(q) = quota {
        write(&d, "cpu.cfs_quota_us", &q.to_string(), &f("quota"))?;
        if let Some(p) = period_pending {
            write(&d, "cpu.cfs_period_us", &p.to_string(), &f("period"))?;
        }
        if let Some(b) = burst_pending {
            write(&d, "cpu.cfs_burst_us", &b.to_string(), &f("burst"))?;
        }
    }
    // Realtime: period first, and again after the runtime if refused.
    let mut rt_pending = None;
    if let Some(p) = rt_period {
        if let Err(e) = write(&d, "cpu.rt_period_us", &p.to_string(), &f("realtimePeriod")) {
            if e.errno() != Some(libc::EINVAL) || rt_runtime.is_none() {
                return Err(e);
            }
            rt_pending = Some(p);
        }
    }
    if let Some(r) = rt_runtime {
        write(
            &d,
            "cpu.rt_runtime_us",
            &r.to_string(),
            &f("realtimeRuntime"),
        )?;
        if let Some(p) = rt_pending {
            write(&d, "cpu.rt_period_us", &p.to_string(), &f("realtimePeriod"))?;
        }
    }
    if let Some(i) = c.idle {
        write(&d, "cpu.idle", &i.to_string(), &f("idle"))?;
    }
    Ok(())
}

fn set_blkio(m: &FsManager, b: &LinuxBlockIo) -> Result<()> {
    let f = |n: &str| format!("{F}.blockIO.{n}");
    let needs = b.weight.is_some_and(|w| w != 0)
        || b.leaf_weight.is_some_and(|w| w != 0)
        || !b.weight_device.is_empty()
        || !b.throttle_read_bps_device.is_empty()
        || !b.throttle_write_bps_device.is_empty()
        || !b.throttle_read_iops_device.is_empty()
        || !b.throttle_write_iops_device.is_empty();
    if !needs {
        return Ok(());
    }
    let d = m.need("blkio", &f(""))?;
    // CFQ's files, else BFQ's.
    let (weight_file, weight_dev_file) = if fsutil::exists(&d, "blkio.weight") {
        ("blkio.weight", "blkio.weight_device")
    } else {
        ("blkio.bfq.weight", "blkio.bfq.weight_device")
    };
    let no_sched = |field: String| {
        Error::resource(
            field,
            format!(
                "{} has neither blkio.weight nor blkio.bfq.weight: use the BFQ I/O scheduler on the device, or remove the weight",
                d.display()
            ),
        )
    };
    if let Some(w) = b.weight.filter(|w| *w != 0) {
        if !fsutil::exists(&d, weight_file) {
            return Err(no_sched(f("weight")));
        }
        write(&d, weight_file, &w.to_string(), &f("weight"))?;
    }
    if let Some(w) = b.leaf_weight.filter(|w| *w != 0) {
        if !fsutil::exists(&d, "blkio.leaf_weight") {
            return Err(Error::resource(
                f("leafWeight"),
                "this kernel has no blkio.leaf_weight (it was CFQ-only): remove blockIO.leafWeight",
            ));
        }
        write(&d, "blkio.leaf_weight", &w.to_string(), &f("leafWeight"))?;
    }
    for (i, wd) in b.weight_device.iter().enumerate() {
        let field = format!("{}[{i}]", f("weightDevice"));
        let key = crate::convert::dev_key(wd.major, wd.minor);
        if let Some(w) = wd.weight {
            if !fsutil::exists(&d, weight_dev_file) {
                return Err(no_sched(field));
            }
            write(&d, weight_dev_file, &format!("{key} {w}"), &field)?;
        }
        if let Some(w) = wd.leaf_weight {
            write(
                &d,
                "blkio.leaf_weight_device",
                &format!("{key} {w}"),
                &field,
            )?;
        }
    }
    for (name, file, list) in [
        (
            "throttleReadBpsDevice",
            "blkio.throttle.read_bps_device",
            &b.throttle_read_bps_device,
        ),
        (
            "throttleWriteBpsDevice",
            "blkio.throttle.write_bps_device",
            &b.throttle_write_bps_device,
        ),
        (
            "throttleReadIOPSDevice",
            "blkio.throttle.read_iops_device",
            &b.throttle_read_iops_device,
        ),
        (
            "throttleWriteIOPSDevice",
            "blkio.throttle.write_iops_device",
            &b.throttle_write_iops_device,
        ),
    ] {
        for (i, t) in list.iter().enumerate() {
            let key = crate::convert::dev_key(t.major, t.minor);
            write(
                &d,
                file,
                &format!("{key} {}", t.rate),
                &format!("{}[{i}]", f(name)),
            )?;
        }
    }
    Ok(())
}

/// Hybrid hosts: `unified` keys go to the container's cgroup2 directory if
/// that hierarchy offers the file.
fn set_unified_hybrid(m: &FsManager, r: &LinuxResources) -> Result<()> {
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

/// v1 freezer.state: freeze, waiting until FROZEN. Re-writes FROZEN while
/// FREEZING, and thaws briefly every 50 tries to get tasks stuck in vfork
/// or a signal race moving (as runc does). On timeout it thaws again.
pub(crate) fn freeze(d: &Path) -> Result<()> {
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

pub(crate) fn thaw(d: &Path) -> Result<()> {
    write(d, "freezer.state", "THAWED", "freezer")
}

pub(crate) fn is_frozen(d: &Path) -> Result<bool> {
    Ok(fsutil::read(d, "freezer.state")?.trim() == "FROZEN")
}

/// OOM kills in the memory cgroup: `oom_kill` of memory.oom_control (Linux
/// 4.13+), else 1 while the cgroup is under OOM.
pub(crate) fn oom_events(d: &Path) -> Result<u64> {
    let s = fsutil::read(d, "memory.oom_control")?;
    Ok(fsutil::keyed_value(&s, "oom_kill")
        .or_else(|| fsutil::keyed_value(&s, "under_oom"))
        .unwrap_or(0))
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

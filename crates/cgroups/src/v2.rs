//! cgroup v2 limits: one directory, controllers enabled from the parents.
//!
//! Threats: memory exhaustion (memory.max, memory.swap.max), fork bombs
//! (pids.max), CPU starvation (cpu.max, cpu.weight), I/O starvation
//! (io.max, io.weight) and device access (an eBPF device program: v2 has no
//! devices files). OCI values are v1-flavoured and converted like runc
//! (shares→weight, memory+swap→swap, blkio weight→io weight).

use std::path::Path;

use ward_spec::resources::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxRdma, LinuxResources};

use crate::convert;
use crate::error::{Error, Result};
use crate::fsutil::{self, write};
use crate::manager::FsManager;

const F: &str = "linux.resources";

fn nz(v: Option<i64>) -> Option<i64> {
    v.filter(|x| *x != 0)
}

/// The v2 controllers a resource set needs: (controller, field).
pub(crate) fn needed(r: &LinuxResources) -> Vec<(String, String)> {
    let mut n = Vec::new();
    for (c, field) in crate::v1::needed(r) {
        let c2 = match c {
            "blkio" => "io",
            // Pseudo-controllers / handled elsewhere.
            "devices" | "net_cls" | "net_prio" => continue,
            c => c,
        };
        // swappiness, OOM killer and hierarchy knobs have no v2 files.
        if c2 == "memory" {
            let m = r.memory.as_ref();
            let real = m.is_some_and(|m| {
                nz(m.limit).is_some() || nz(m.reservation).is_some() || nz(m.swap).is_some()
            });
            if !real {
                continue;
            }
        }
        n.push((c2.to_string(), field));
    }
    for k in r.unified.keys() {
        if let Some((c, _)) = k.split_once('.') {
            if c != "cgroup" {
                n.push((c.to_string(), format!("{F}.unified[{k:?}]")));
            }
        }
    }
    n
}

/// Settings that cgroup v2 cannot express at all: errors.
pub(crate) fn unsupported(r: &LinuxResources) -> Result<()> {
    if let Some(net) = &r.network {
        if net.class_id.is_some() || !net.priorities.is_empty() {
            return Err(Error::resource(
                format!("{F}.network"),
                "net_cls/net_prio do not exist on cgroup v2: remove linux.resources.network (use eBPF or tc for traffic classes)",
            ));
        }
    }
    if let Some(c) = &r.cpu {
        if nz(c.realtime_runtime).is_some() || c.realtime_period.is_some_and(|p| p != 0) {
            return Err(Error::resource(
                format!("{F}.cpu.realtimeRuntime"),
                "cgroup v2 has no realtime CPU budget (CONFIG_RT_GROUP_SCHED is v1-only): remove cpu.realtimeRuntime/realtimePeriod",
            ));
        }
    }
    Ok(())
}

/// Things v2 ignores: warnings, like runc.
pub(crate) fn ignored(r: &LinuxResources) -> Vec<String> {
    let mut w = Vec::new();
    if let Some(m) = &r.memory {
        if m.swappiness.is_some() {
            w.push("linux.resources.memory.swappiness is ignored: cgroup v2 has no per-cgroup swappiness".to_string());
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
    }
    if r.block_io.as_ref().is_some_and(|b| {
        b.leaf_weight.is_some_and(|w| w != 0)
            || b.weight_device.iter().any(|d| d.leaf_weight.is_some())
    }) {
        w.push(
            "linux.resources.blockIO leafWeight is ignored: cgroup v2 has no leaf weights"
                .to_string(),
        );
    }
    w
}

/// Applies `r` to the cgroup v2 directory `d`. `devices`: the device rule
/// list to install, if any.
pub(crate) fn apply(
    m: &FsManager,
    d: &Path,
    r: &LinuxResources,
    devices: Option<&[crate::devices::Rule]>,
) -> Result<()> {
    if let Some(limit) = r.pids.as_ref().and_then(|p| p.limit) {
        let v = convert::limit_to_v2(limit, true).unwrap_or_else(|| "max".into());
        write(d, "pids.max", &v, &format!("{F}.pids.limit"))?;
    }
    if let Some(mem) = &r.memory {
        set_memory(d, mem)?;
    }
    if let Some(b) = &r.block_io {
        set_io(d, b)?;
    }
    if let Some(c) = &r.cpu {
        set_cpu(d, c)?;
    }
    if let Some(rules) = devices {
        match crate::devices::attach_v2(d, rules) {
            Ok(()) => {}
            Err(e) if m.rootless() => m.warn(format!(
                "rootless: device rules not installed ({e}); the user namespace still limits device access"
            )),
            Err(e) => return Err(e),
        }
    }
    if let Some(c) = &r.cpu {
        for (file, v, name) in [
            ("cpuset.cpus", &c.cpus, "cpus"),
            ("cpuset.mems", &c.mems, "mems"),
        ] {
            if let Some(v) = v.as_deref().filter(|s| !s.is_empty()) {
                write(d, file, v, &format!("{F}.cpu.{name}"))?;
            }
        }
    }
    for (i, h) in r.hugepage_limits.iter().enumerate() {
        let field = format!("{F}.hugepageLimits[{i}]");
        convert::check_page_size(&field, &h.page_size)?;
        let file = format!("hugetlb.{}.max", h.page_size);
        let v = h.limit.to_string();
        let rsvd = format!("hugetlb.{}.rsvd.max", h.page_size);
        if fsutil::exists(d, &rsvd) {
            write(d, &rsvd, &v, &field)?;
        }
        write(d, &file, &v, &field)?;
    }
    for (dev, lim) in &r.rdma {
        write(
            d,
            "rdma.max",
            &rdma_line(dev, lim),
            &format!("{F}.rdma[{dev:?}]"),
        )?;
    }
    set_unified(d, r)
}

/// `rdma.max` line: `mlx5_1 hca_handle=3 hca_object=max`.
pub(crate) fn rdma_line(dev: &str, l: &LinuxRdma) -> String {
    let n = |v: Option<u32>| v.map_or("max".to_string(), |v| v.to_string());
    format!(
        "{dev} hca_handle={} hca_object={}",
        n(l.hca_handles),
        n(l.hca_objects)
    )
}

fn set_memory(d: &Path, mem: &LinuxMemory) -> Result<()> {
    let limit = mem.limit.unwrap_or(0);
    let swap = mem.swap.unwrap_or(0);
    let reservation = mem.reservation.unwrap_or(0);
    if limit == 0 && swap == 0 && reservation == 0 {
        return Ok(());
    }
    if mem.check_before_update == Some(true) {
        if let Some(usage) = fsutil::read_u64_opt(d, "memory.current")? {
            crate::v1::check_usage(&format!("{F}.memory.limit"), limit, usage)?;
            crate::v1::check_usage(&format!("{F}.memory.swap"), swap, usage)?;
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

fn set_cpu(d: &Path, c: &LinuxCpu) -> Result<()> {
    let f = |n: &str| format!("{F}.cpu.{n}");
    if let Some(i) = c.idle {
        write(d, "cpu.idle", &i.to_string(), &f("idle"))?;
    }
    let w = convert::shares_to_weight(c.shares.unwrap_or(0));
    if w != 0 {
        write(d, "cpu.weight", &w.to_string(), &f("shares"))?;
    }
    let cur = fsutil::read_opt(d, "cpu.max")?;
    let max = convert::cpu_max(c.quota, c.period, cur.as_deref());
    // The kernel checks burst against the quota: burst first (lowering),
    // else after cpu.max (raising).
    let mut burst_pending = None;
    if let Some(b) = c.burst {
        if let Err(e) = write(d, "cpu.max.burst", &b.to_string(), &f("burst")) {
            if e.errno() != Some(libc::EINVAL) || max.is_none() {
                return Err(e);
            }
            burst_pending = Some(b);
        }
    }
    if let Some(v) = max {
        write(d, "cpu.max", &v, &f("quota"))?;
    }
    if let Some(b) = burst_pending {
        write(d, "cpu.max.burst", &b.to_string(), &f("burst"))?;
    }
    Ok(())
}

fn set_io(d: &Path, b: &LinuxBlockIo) -> Result<()> {
    let f = |n: &str| format!("{F}.blockIO.{n}");
    let bfq = fsutil::exists(d, "io.bfq.weight");
    if let Some(w) = b.weight.filter(|w| *w != 0) {
        if bfq {
            // BFQ takes the v1 range as is.
            write(d, "io.bfq.weight", &w.to_string(), &f("weight"))?;
        } else {
            let v = convert::blkio_weight_to_io_weight(w);
            write(d, "io.weight", &v.to_string(), &f("weight"))?;
        }
    }
    for (i, wd) in b.weight_device.iter().enumerate() {
        if let Some(w) = wd.weight {
            let key = convert::dev_key(wd.major, wd.minor);
            let field = format!("{}[{i}]", f("weightDevice"));
            if bfq {
                write(d, "io.bfq.weight", &format!("{key} {w}"), &field)?;
            } else {
                let v = convert::blkio_weight_to_io_weight(w);
                write(d, "io.weight", &format!("{key} {v}"), &field)?;
            }
        }
    }
    for (name, key, list) in [
        ("throttleReadBpsDevice", "rbps", &b.throttle_read_bps_device),
        (
            "throttleWriteBpsDevice",
            "wbps",
            &b.throttle_write_bps_device,
        ),
        (
            "throttleReadIOPSDevice",
            "riops",
            &b.throttle_read_iops_device,
        ),
        (
            "throttleWriteIOPSDevice",
            "wiops",
            &b.throttle_write_iops_device,
        ),
    ] {
        for (i, t) in list.iter().enumerate() {
            let dev = convert::dev_key(t.major, t.minor);
            write(
                d,
                "io.max",
                &format!("{dev} {key}={}", t.rate),
                &format!("{}[{i}]", f(name)),
            )?;
        }
    }
    Ok(())
}

fn set_unified(d: &Path, r: &LinuxResources) -> Result<()> {
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

/// Enables every available controller in `dir`'s cgroup.subtree_control,
/// one by one (some may be refused, e.g. with processes in `dir`). Returns
/// the refusals as warnings.
pub(crate) fn enable_controllers(dir: &Path) -> Vec<String> {
    let mut warn = Vec::new();
    let avail = fsutil::read_opt(dir, "cgroup.controllers")
        .ok()
        .flatten()
        .unwrap_or_default();
    let on = fsutil::read_opt(dir, "cgroup.subtree_control")
        .ok()
        .flatten()
        .unwrap_or_default();
    for c in avail.split_whitespace() {
        if on.split_whitespace().any(|x| x == c) {
            continue;
        }
        if let Err(e) = write(
            dir,
            "cgroup.subtree_control",
            &format!("+{c}"),
            "enabling controllers",
        ) {
            warn.push(e.to_string());
        }
    }
    warn
}

/// v2 freeze: cgroup.freeze, then wait for `frozen 1` in cgroup.events.
pub(crate) fn set_frozen(d: &Path, frozen: bool) -> Result<()> {
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

pub(crate) fn is_frozen(d: &Path) -> Result<bool> {
    Ok(fsutil::read(d, "cgroup.freeze")?.trim() == "1")
}

/// OOM kills: `oom_kill` of memory.events.
pub(crate) fn oom_events(d: &Path) -> Result<u64> {
    let s = fsutil::read(d, "memory.events")?;
    Ok(fsutil::keyed_value(&s, "oom_kill").unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdma_lines() {
        let l = LinuxRdma {
            hca_handles: Some(3),
            hca_objects: None,
        };
        assert_eq!(
            rdma_line("mlx5_1", &l),
            "mlx5_1 hca_handle=3 hca_object=max"
        );
    }

    #[test]
    fn unsupported_on_v2() {
        let r: LinuxResources =
            serde_json::from_value(serde_json::json!({"network": {"classID": 1}})).expect("parses");
        assert!(unsupported(&r).is_err());
        let r: LinuxResources = serde_json::from_value(
            serde_json::json!({"cpu": {"realtimeRuntime": 1000, "realtimePeriod": 2000}}),
        )
        .expect("parses");
        let e = unsupported(&r)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("linux.resources.cpu.realtimeRuntime"), "{e}");
        let r: LinuxResources =
            serde_json::from_value(serde_json::json!({"memory": {"swappiness": 10, "limit": 5}, "unified": {"memory.high": "1"}}))
                .expect("parses");
        assert!(unsupported(&r).is_ok());
        assert_eq!(ignored(&r).len(), 1);
        let n = needed(&r);
        assert!(n.iter().any(|(c, _)| c == "memory"));
    }
}

//! `linux.resources` over the controllers: which controllers a resource
//! set needs (checked before anything is written), the order of the
//! writes, and the statistics of all of them.
//!
//! Threats: memory exhaustion, fork bombs, CPU and I/O starvation of the
//! host, device access. Write orders follow runc where the kernel cares
//! (cpuset and devices first on v1), and every value is checked after
//! validation so that a refused write is an error, never a silent no-op.
//! Settings v2 cannot express are errors; settings it ignores are warnings
//! (as runc does).

use std::path::{Path, PathBuf};

use ward_spec::resources::LinuxResources;

use crate::controllers::devices::Rule;
use crate::controllers::{
    blkio, cpu, cpuset, devices, hugetlb, memory, network, pids, rdma, unified, Dirs, F,
};
use crate::error::Result;
use crate::stats::Stats;

/// The v1 controllers a resource set needs (for checks before anything is
/// written): (controller, field).
pub(crate) fn needed_v1(r: &LinuxResources) -> Vec<(&'static str, String)> {
    let mut n: Vec<(&'static str, String)> = Vec::new();
    if !r.devices.is_empty() {
        n.push(("devices", format!("{F}.devices")));
    }
    if r.memory.as_ref().is_some_and(memory::needed_v1) {
        n.push(("memory", format!("{F}.memory")));
    }
    if let Some(c) = &r.cpu {
        if cpuset::needed(c) {
            n.push(("cpuset", format!("{F}.cpu.cpus")));
        }
        if cpu::needed_v1(c) {
            n.push(("cpu", format!("{F}.cpu")));
        }
    }
    if r.pids.as_ref().is_some_and(|p| p.limit.is_some()) {
        n.push(("pids", format!("{F}.pids.limit")));
    }
    if r.block_io.as_ref().is_some_and(blkio::needed) {
        n.push(("blkio", format!("{F}.blockIO")));
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

/// The v2 controllers a resource set needs: (controller, field).
pub(crate) fn needed_v2(r: &LinuxResources) -> Vec<(String, String)> {
    let mut n = Vec::new();
    for (c, field) in needed_v1(r) {
        let c2 = match c {
            "blkio" => "io",
            // Pseudo-controllers / handled elsewhere.
            "devices" | "net_cls" | "net_prio" => continue,
            c => c,
        };
        if c2 == "memory" && !r.memory.as_ref().is_some_and(memory::needed_v2) {
            continue;
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
pub(crate) fn unsupported_v2(r: &LinuxResources) -> Result<()> {
    if let Some(net) = &r.network {
        network::unsupported_v2(net)?;
    }
    if let Some(c) = &r.cpu {
        cpu::unsupported_v2(c)?;
    }
    Ok(())
}

/// Things v2 ignores: warnings, like runc.
pub(crate) fn ignored_v2(r: &LinuxResources) -> Vec<String> {
    let mut w = r
        .memory
        .as_ref()
        .map(memory::ignored_v2)
        .unwrap_or_default();
    w.extend(r.block_io.as_ref().and_then(blkio::ignored_v2));
    w
}

/// Applies `r` on v1 (and hybrid) hosts. `devices`: the full device rule
/// list to install, if any.
pub(crate) fn apply_v1(m: &dyn Dirs, r: &LinuxResources, devices: Option<&[Rule]>) -> Result<()> {
    if let Some(c) = &r.cpu {
        cpuset::apply_v1(m, c)?;
    }
    if let Some(rules) = devices {
        devices::apply_v1(m, rules)?;
    }
    if let Some(mem) = &r.memory {
        memory::apply_v1(m, mem)?;
    }
    if let Some(c) = &r.cpu {
        cpu::apply_v1(m, c)?;
    }
    if let Some(limit) = r.pids.as_ref().and_then(|p| p.limit) {
        pids::apply_v1(m, limit)?;
    }
    if let Some(b) = &r.block_io {
        blkio::apply_v1(m, b)?;
    }
    hugetlb::apply_v1(m, &r.hugepage_limits)?;
    if let Some(net) = &r.network {
        network::apply_v1(m, net)?;
    }
    rdma::apply_v1(m, &r.rdma)?;
    if !r.unified.is_empty() {
        unified::apply_hybrid(m, r)?;
    }
    Ok(())
}

/// Applies `r` to the cgroup v2 directory `d`. `devices`: the device rule
/// list to install, if any.
pub(crate) fn apply_v2(
    m: &dyn Dirs,
    d: &Path,
    r: &LinuxResources,
    devices: Option<&[Rule]>,
) -> Result<()> {
    if let Some(limit) = r.pids.as_ref().and_then(|p| p.limit) {
        pids::apply_v2(d, limit)?;
    }
    if let Some(mem) = &r.memory {
        memory::apply_v2(d, mem)?;
    }
    if let Some(b) = &r.block_io {
        blkio::apply_v2(d, b)?;
    }
    if let Some(c) = &r.cpu {
        cpu::apply_v2(d, c)?;
    }
    if let Some(rules) = devices {
        devices::apply_v2(m, d, rules)?;
    }
    if let Some(c) = &r.cpu {
        cpuset::apply_v2(d, c)?;
    }
    hugetlb::apply_v2(d, &r.hugepage_limits)?;
    rdma::apply_v2(d, &r.rdma)?;
    unified::apply_v2(d, r)
}

/// cgroup v1: `dir_of` maps a controller name to its directory.
pub(crate) fn stats_v1(dir_of: &dyn Fn(&str) -> Option<PathBuf>) -> Result<Stats> {
    let mut st = Stats::default();
    if let Some(d) = dir_of("cpuacct") {
        cpu::stats_v1_cpuacct(&d, &mut st.cpu)?;
    }
    if let Some(d) = dir_of("cpu") {
        cpu::stats_v1(&d, &mut st.cpu)?;
    }
    if let Some(d) = dir_of("memory") {
        st.memory = memory::stats_v1(&d)?;
    }
    if let Some(d) = dir_of("pids") {
        st.pids = pids::stats(&d)?;
    }
    if let Some(d) = dir_of("blkio") {
        st.blkio = blkio::stats_v1(&d)?;
    }
    if let Some(d) = dir_of("hugetlb") {
        st.hugetlb = hugetlb::stats_v1(&d)?;
    }
    Ok(st)
}

/// cgroup v2, from the container's directory.
pub(crate) fn stats_v2(d: &Path) -> Result<Stats> {
    let mut st = Stats::default();
    cpu::stats_v2(d, &mut st.cpu)?;
    if let Some(m) = memory::stats_v2(d)? {
        st.memory = m;
    }
    if crate::fsutil::exists(d, "pids.current") {
        st.pids = pids::stats(d)?;
    }
    st.blkio = blkio::stats_v2(d)?;
    st.hugetlb = hugetlb::stats_v2(d)?;
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_on_v2() {
        let r: LinuxResources =
            serde_json::from_value(serde_json::json!({"network": {"classID": 1}})).expect("parses");
        assert!(unsupported_v2(&r).is_err());
        let r: LinuxResources = serde_json::from_value(
            serde_json::json!({"cpu": {"realtimeRuntime": 1000, "realtimePeriod": 2000}}),
        )
        .expect("parses");
        let e = unsupported_v2(&r)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("linux.resources.cpu.realtimeRuntime"), "{e}");
        let r: LinuxResources =
            serde_json::from_value(serde_json::json!({"memory": {"swappiness": 10, "limit": 5}, "unified": {"memory.high": "1"}}))
                .expect("parses");
        assert!(unsupported_v2(&r).is_ok());
        assert_eq!(ignored_v2(&r).len(), 1);
        let n = needed_v2(&r);
        assert!(n.iter().any(|(c, _)| c == "memory"));
    }
}

//! Resource usage of a container, in the shape of runc's `events --stats`
//! "data" object.
//!
//! Threat: an operator who cannot see usage cannot tell a container under
//! attack (fork bomb, memory exhaustion, CPU starvation) from a healthy one.
//! Reading is side-effect free; files a controller does not provide are
//! left at zero.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::convert;
use crate::error::Result;
use crate::fsutil::{self, keyed_value, parse_flat_keyed, read_opt, read_u64_opt};

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// `data` of `events --stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub cpu: Cpu,
    pub memory: Memory,
    pub pids: Pids,
    pub blkio: Blkio,
    pub hugetlb: BTreeMap<String, Hugetlb>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Cpu {
    pub usage: CpuUsage,
    pub throttling: Throttling,
}

/// Nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuUsage {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub total: u64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu_kernel: Vec<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu_user: Vec<u64>,
    pub kernel: u64,
    pub user: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttling {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub periods: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttled_periods: u64,
    /// Nanoseconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub throttled_time: u64,
}

/// Bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryEntry {
    pub limit: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub usage: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max: u64,
    pub failcnt: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Memory {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub cache: u64,
    pub usage: MemoryEntry,
    /// memory+swap, as cgroup v1 reports it.
    pub swap: MemoryEntry,
    pub kernel: MemoryEntry,
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    /// memory.stat as is.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Pids {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub current: u64,
    /// 0: no limit.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub limit: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BlkioEntry {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub major: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub minor: u64,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub op: String,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub value: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blkio {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Hugetlb {
    #[serde(default, skip_serializing_if = "is_zero")]
    pub usage: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub max: u64,
    pub failcnt: u64,
}

fn u(dir: &Path, file: &str) -> Result<u64> {
    Ok(read_u64_opt(dir, file)?.unwrap_or(0))
}

/// "max"/unlimited limits read as 0 ("no limit"), like runc's pids.limit.
fn limit_or_zero(v: u64) -> u64 {
    if v == u64::MAX {
        0
    } else {
        v
    }
}

/// v1 `blkio.*_recursive` lines: `8:0 Read 4096` (and a `Total` line).
pub(crate) fn parse_blkio_v1(s: &str) -> Vec<BlkioEntry> {
    s.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() != 3 {
                return None;
            }
            let (ma, mi) = f[0].split_once(':')?;
            Some(BlkioEntry {
                major: ma.parse().ok()?,
                minor: mi.parse().ok()?,
                op: f[1].to_string(),
                value: f[2].parse().ok()?,
            })
        })
        .collect()
}

/// v2 `io.stat`: `8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0`.
pub(crate) fn parse_io_stat(s: &str) -> Blkio {
    let mut b = Blkio::default();
    for l in s.lines() {
        let mut f = l.split_whitespace();
        let Some((ma, mi)) = f.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (ma.parse::<u64>(), mi.parse::<u64>()) else {
            continue;
        };
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else {
                continue;
            };
            let Ok(value) = v.parse::<u64>() else {
                continue;
            };
            let (list, op) = match k {
                "rbytes" => (&mut b.io_service_bytes_recursive, "Read"),
                "wbytes" => (&mut b.io_service_bytes_recursive, "Write"),
                "rios" => (&mut b.io_serviced_recursive, "Read"),
                "wios" => (&mut b.io_serviced_recursive, "Write"),
                _ => continue,
            };
            list.push(BlkioEntry {
                major,
                minor,
                op: op.to_string(),
                value,
            });
        }
    }
    b
}

/// Parses a space separated list of numbers (cpuacct.usage_percpu).
fn numbers(s: &str) -> Vec<u64> {
    s.split_whitespace()
        .filter_map(|n| n.parse().ok())
        .collect()
}

fn clock_ticks() -> u64 {
    match nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK) {
        Ok(Some(t)) if t > 0 => u64::try_from(t).unwrap_or(100),
        _ => 100,
    }
}

/// cgroup v1: `dirs` maps a controller name to its directory.
pub(crate) fn v1(dir_of: &dyn Fn(&str) -> Option<std::path::PathBuf>) -> Result<Stats> {
    let mut st = Stats::default();
    if let Some(d) = dir_of("cpuacct") {
        st.cpu.usage.total = u(&d, "cpuacct.usage")?;
        if let Some(s) = read_opt(&d, "cpuacct.usage_percpu")? {
            st.cpu.usage.percpu = numbers(&s);
        }
        if let Some(s) = read_opt(&d, "cpuacct.usage_percpu_sys")? {
            st.cpu.usage.percpu_kernel = numbers(&s);
        }
        if let Some(s) = read_opt(&d, "cpuacct.usage_percpu_user")? {
            st.cpu.usage.percpu_user = numbers(&s);
        }
        if let Some(s) = read_opt(&d, "cpuacct.stat")? {
            let ns_per_tick = 1_000_000_000 / clock_ticks();
            st.cpu.usage.user = keyed_value(&s, "user").unwrap_or(0) * ns_per_tick;
            st.cpu.usage.kernel = keyed_value(&s, "system").unwrap_or(0) * ns_per_tick;
        }
    }
    if let Some(d) = dir_of("cpu") {
        if let Some(s) = read_opt(&d, "cpu.stat")? {
            st.cpu.throttling = Throttling {
                periods: keyed_value(&s, "nr_periods").unwrap_or(0),
                throttled_periods: keyed_value(&s, "nr_throttled").unwrap_or(0),
                throttled_time: keyed_value(&s, "throttled_time").unwrap_or(0),
            };
        }
    }
    if let Some(d) = dir_of("memory") {
        let entry = |prefix: &str| -> Result<MemoryEntry> {
            Ok(MemoryEntry {
                limit: u(&d, &format!("{prefix}.limit_in_bytes"))?,
                usage: u(&d, &format!("{prefix}.usage_in_bytes"))?,
                max: u(&d, &format!("{prefix}.max_usage_in_bytes"))?,
                failcnt: u(&d, &format!("{prefix}.failcnt"))?,
            })
        };
        st.memory.usage = entry("memory")?;
        st.memory.swap = entry("memory.memsw")?;
        st.memory.kernel = entry("memory.kmem")?;
        st.memory.kernel_tcp = entry("memory.kmem.tcp")?;
        if let Some(s) = read_opt(&d, "memory.stat")? {
            st.memory.raw = parse_flat_keyed(&s).into_iter().collect();
            st.memory.cache = st.memory.raw.get("cache").copied().unwrap_or(0);
        }
    }
    if let Some(d) = dir_of("pids") {
        st.pids.current = u(&d, "pids.current")?;
        st.pids.limit = limit_or_zero(u(&d, "pids.max")?);
    }
    if let Some(d) = dir_of("blkio") {
        for prefix in ["blkio", "blkio.bfq", "blkio.throttle"] {
            let bytes = read_opt(&d, &format!("{prefix}.io_service_bytes_recursive"))?;
            let ios = read_opt(&d, &format!("{prefix}.io_serviced_recursive"))?;
            let b = parse_blkio_v1(bytes.as_deref().unwrap_or(""));
            let i = parse_blkio_v1(ios.as_deref().unwrap_or(""));
            if !b.is_empty() || !i.is_empty() {
                st.blkio.io_service_bytes_recursive = b;
                st.blkio.io_serviced_recursive = i;
                break;
            }
        }
    }
    if let Some(d) = dir_of("hugetlb") {
        for size in convert::hugepage_sizes() {
            let p = format!("hugetlb.{size}");
            st.hugetlb.insert(
                size,
                Hugetlb {
                    usage: u(&d, &format!("{p}.usage_in_bytes"))?,
                    max: u(&d, &format!("{p}.max_usage_in_bytes"))?,
                    failcnt: u(&d, &format!("{p}.failcnt"))?,
                },
            );
        }
    }
    Ok(st)
}

/// cgroup v2, from the container's directory.
pub(crate) fn v2(d: &Path) -> Result<Stats> {
    let mut st = Stats::default();
    if let Some(s) = read_opt(d, "cpu.stat")? {
        let k = |key: &str| keyed_value(&s, key).unwrap_or(0);
        st.cpu.usage.total = k("usage_usec") * 1000;
        st.cpu.usage.user = k("user_usec") * 1000;
        st.cpu.usage.kernel = k("system_usec") * 1000;
        st.cpu.throttling = Throttling {
            periods: k("nr_periods"),
            throttled_periods: k("nr_throttled"),
            throttled_time: k("throttled_usec") * 1000,
        };
    }
    if fsutil::exists(d, "memory.current") {
        let events = read_opt(d, "memory.events")?.unwrap_or_default();
        st.memory.usage = MemoryEntry {
            limit: u(d, "memory.max")?,
            usage: u(d, "memory.current")?,
            max: u(d, "memory.peak")?,
            failcnt: keyed_value(&events, "max").unwrap_or(0),
        };
        if fsutil::exists(d, "memory.swap.current") {
            let swap_limit = u(d, "memory.swap.max")?;
            // v1 reports memory+swap; do the same.
            st.memory.swap = MemoryEntry {
                limit: if swap_limit == u64::MAX || st.memory.usage.limit == u64::MAX {
                    u64::MAX
                } else {
                    swap_limit.saturating_add(st.memory.usage.limit)
                },
                usage: u(d, "memory.swap.current")?.saturating_add(st.memory.usage.usage),
                max: 0,
                failcnt: 0,
            };
        }
        if let Some(s) = read_opt(d, "memory.stat")? {
            st.memory.raw = parse_flat_keyed(&s).into_iter().collect();
            st.memory.cache = st.memory.raw.get("file").copied().unwrap_or(0);
        }
    }
    if fsutil::exists(d, "pids.current") {
        st.pids.current = u(d, "pids.current")?;
        st.pids.limit = limit_or_zero(u(d, "pids.max")?);
    }
    if let Some(s) = read_opt(d, "io.stat")? {
        st.blkio = parse_io_stat(&s);
    }
    for size in convert::hugepage_sizes() {
        let p = format!("hugetlb.{size}");
        if !fsutil::exists(d, &format!("{p}.current")) {
            continue;
        }
        let events = read_opt(d, &format!("{p}.events"))?.unwrap_or_default();
        st.hugetlb.insert(
            size,
            Hugetlb {
                usage: u(d, &format!("{p}.current"))?,
                max: u(d, &format!("{p}.max"))?,
                failcnt: keyed_value(&events, "max").unwrap_or(0),
            },
        );
    }
    Ok(st)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blkio_v1_lines() {
        let e = parse_blkio_v1("8:0 Read 4096\n8:0 Write 8192\nTotal 12288\n");
        assert_eq!(e.len(), 2);
        assert_eq!(e[1].op, "Write");
        assert_eq!(e[1].value, 8192);
    }

    #[test]
    fn io_stat_v2() {
        let b = parse_io_stat("259:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0 dios=0\n");
        assert_eq!(b.io_service_bytes_recursive.len(), 2);
        assert_eq!(b.io_serviced_recursive[1].value, 2);
        assert_eq!(b.io_service_bytes_recursive[0].major, 259);
    }

    #[test]
    fn json_shape_is_runc_events_data() {
        let mut s = Stats::default();
        s.cpu.usage.total = 5;
        s.cpu.throttling.throttled_periods = 2;
        s.memory.usage.limit = 100;
        s.pids.current = 3;
        let v = serde_json::to_value(&s).expect("serializes");
        assert_eq!(v["cpu"]["usage"]["total"], 5);
        assert_eq!(v["cpu"]["usage"]["kernel"], 0);
        assert_eq!(v["cpu"]["throttling"]["throttledPeriods"], 2);
        assert!(v["cpu"]["throttling"].get("periods").is_none());
        assert_eq!(v["memory"]["usage"]["limit"], 100);
        assert_eq!(v["memory"]["kernelTCP"]["failcnt"], 0);
        assert_eq!(v["pids"]["current"], 3);
        assert!(v["hugetlb"].is_object());
        let back: Stats = serde_json::from_value(v).expect("parses back");
        assert_eq!(back, s);
    }
}

//! Pure conversions from OCI (cgroup v1 flavoured) values to cgroup v2 files.
//!
//! Threat: a wrong conversion is a silent wrong limit (a swap limit that is
//! really unlimited, a CPU weight 25x too low); these functions are pure so
//! that every branch is unit-tested.

use crate::error::{Error, Result};

/// An OCI number where 0 means "unset".
pub(crate) fn nz(v: Option<i64>) -> Option<i64> {
    v.filter(|x| *x != 0)
}

/// cgroup v1 `cpu.shares` (2..=262144) to v2 `cpu.weight` (1..=10000), the
/// linear mapping runc and crun use: `1 + ((shares - 2) * 9999) / 262142`.
/// 0 means "unset" and stays 0.
pub fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        return 0;
    }
    let s = shares.clamp(2, 262_144);
    1 + ((s - 2) * 9999) / 262_142
}

/// v1 `blkio.weight` (10..=1000) to v2 `io.weight` (1..=10000):
/// `1 + (weight - 10) * 9999 / 990`. 0 means "unset" and stays 0.
pub fn blkio_weight_to_io_weight(weight: u16) -> u64 {
    if weight == 0 {
        return 0;
    }
    let w = u64::from(weight.clamp(10, 1000));
    1 + (w - 10) * 9999 / 990
}

/// A v2 limit file value (`memory.max`, `memory.low`, `pids.max`…): -1 is
/// "max"; 0 is "leave as is" (`None`) unless `zero_is_value`.
pub fn limit_to_v2(v: i64, zero_is_value: bool) -> Option<String> {
    match v {
        -1 => Some("max".into()),
        0 if !zero_is_value => None,
        n => Some(n.to_string()),
    }
}

/// OCI `memory.swap` is memory+swap (v1 `memory.memsw.limit_in_bytes`); v2
/// `memory.swap.max` is swap alone. `None`: leave `memory.swap.max` alone.
/// 0 means unset for both inputs, -1 unlimited.
pub fn swap_to_v2(swap: i64, limit: i64) -> Result<Option<String>> {
    const F: &str = "linux.resources.memory.swap";
    // Unlimited memory and no swap setting: unlimited swap too, as v1 does.
    if limit == -1 && swap == 0 {
        return Ok(Some("max".into()));
    }
    match swap {
        0 => Ok(None),
        -1 => Ok(Some("max".into())),
        s if s < 0 => Err(Error::resource(F, format!("{s} is negative"))),
        s => {
            if limit <= 0 {
                return Err(Error::resource(
                    F,
                    format!("{s} is a memory+swap limit, but no memory.limit is set: set memory.limit too (cgroup v2 limits swap separately)"),
                ));
            }
            if s < limit {
                return Err(Error::resource(
                    F,
                    format!("{s} is below memory.limit {limit}: swap is the memory+swap total"),
                ));
            }
            Ok(Some((s - limit).to_string()))
        }
    }
}

/// Default CFS period (µs).
pub const DEFAULT_PERIOD: u64 = 100_000;

/// The v2 `cpu.max` line ("$QUOTA $PERIOD") for the given OCI quota/period.
/// `current` is the present `cpu.max` content, used to keep the other half
/// when only one of quota and period is given. `None`: nothing to write.
pub fn cpu_max(quota: Option<i64>, period: Option<u64>, current: Option<&str>) -> Option<String> {
    let quota = quota.filter(|q| *q != 0);
    let period = period.filter(|p| *p != 0);
    if quota.is_none() && period.is_none() {
        return None;
    }
    let mut cur = current.unwrap_or("").split_whitespace();
    let cur_quota = cur.next().unwrap_or("max").to_string();
    let cur_period = cur
        .next()
        .and_then(|p| p.parse::<u64>().ok())
        .unwrap_or(DEFAULT_PERIOD);
    let q = match quota {
        Some(q) if q > 0 => q.to_string(),
        Some(_) => "max".to_string(),
        None => cur_quota,
    };
    let p = period.unwrap_or(cur_period);
    Some(format!("{q} {p}"))
}

/// The hugetlb file infix for a page size in kB from
/// /sys/kernel/mm/hugepages (`hugepages-2048kB` → `2MB`), like runc.
pub fn hugepage_name_from_kb(kb: u64) -> String {
    if kb >= 1 << 20 && kb & ((1 << 20) - 1) == 0 {
        format!("{}GB", kb >> 20)
    } else if kb >= 1 << 10 && kb & ((1 << 10) - 1) == 0 {
        format!("{}MB", kb >> 10)
    } else {
        format!("{kb}KB")
    }
}

/// The hugepage size names this kernel supports.
pub fn hugepage_sizes() -> Vec<String> {
    let Ok(rd) = std::fs::read_dir("/sys/kernel/mm/hugepages") else {
        return Vec::new();
    };
    let mut out: Vec<String> = rd
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().into_owned();
            let kb = n.strip_prefix("hugepages-")?.strip_suffix("kB")?;
            kb.parse::<u64>().ok().map(hugepage_name_from_kb)
        })
        .collect();
    out.sort();
    out
}

/// Refuses a hugepage size this kernel does not have.
pub(crate) fn check_page_size(field: &str, size: &str) -> Result<()> {
    let have = hugepage_sizes();
    if have.iter().any(|s| s == size) {
        return Ok(());
    }
    Err(Error::resource(
        format!("{field}.pageSize"),
        format!("{size:?} is not a hugepage size of this kernel (it has {have:?})"),
    ))
}

/// The v1 devices-style `major:minor` key of a block device.
pub fn dev_key(major: i64, minor: i64) -> String {
    format!("{major}:{minor}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_to_weight_like_runc() {
        assert_eq!(shares_to_weight(0), 0);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262_144), 10_000);
        // The default 1024 shares.
        assert_eq!(shares_to_weight(1024), 1 + (1022 * 9999) / 262_142);
        assert_eq!(shares_to_weight(1024), 39);
        assert_eq!(shares_to_weight(512), 20);
        // Out of range values are clamped, never overflow.
        assert_eq!(shares_to_weight(1), 1);
        assert_eq!(shares_to_weight(u64::MAX), 10_000);
    }

    #[test]
    fn blkio_weight() {
        assert_eq!(blkio_weight_to_io_weight(0), 0);
        assert_eq!(blkio_weight_to_io_weight(10), 1);
        assert_eq!(blkio_weight_to_io_weight(1000), 10_000);
        assert_eq!(blkio_weight_to_io_weight(500), 1 + 490 * 9999 / 990);
        assert_eq!(blkio_weight_to_io_weight(500), 4950);
    }

    #[test]
    fn swap() {
        assert_eq!(swap_to_v2(0, 0).ok(), Some(None));
        assert_eq!(swap_to_v2(0, -1).ok(), Some(Some("max".into())));
        assert_eq!(swap_to_v2(-1, 100).ok(), Some(Some("max".into())));
        assert_eq!(swap_to_v2(300, 100).ok(), Some(Some("200".into())));
        // memory == memory+swap: no swap at all.
        assert_eq!(swap_to_v2(100, 100).ok(), Some(Some("0".into())));
        assert!(swap_to_v2(50, 100).is_err());
        assert!(swap_to_v2(300, 0).is_err());
        assert!(swap_to_v2(300, -1).is_err());
        assert!(swap_to_v2(-2, 100).is_err());
    }

    #[test]
    fn limits() {
        assert_eq!(limit_to_v2(-1, false).as_deref(), Some("max"));
        assert_eq!(limit_to_v2(0, false), None);
        assert_eq!(limit_to_v2(0, true).as_deref(), Some("0"));
        assert_eq!(limit_to_v2(5, false).as_deref(), Some("5"));
    }

    #[test]
    fn cpu_quota_and_period() {
        assert_eq!(cpu_max(None, None, None), None);
        assert_eq!(cpu_max(Some(0), Some(0), None), None);
        assert_eq!(
            cpu_max(Some(10_000), None, None).as_deref(),
            Some("10000 100000")
        );
        assert_eq!(
            cpu_max(Some(50_000), Some(200_000), None).as_deref(),
            Some("50000 200000")
        );
        assert_eq!(
            cpu_max(Some(-1), Some(50_000), None).as_deref(),
            Some("max 50000")
        );
        // Only the period: keep the present quota.
        assert_eq!(
            cpu_max(None, Some(50_000), Some("20000 100000\n")).as_deref(),
            Some("20000 50000")
        );
        // Only the quota: keep the present period.
        assert_eq!(
            cpu_max(Some(30_000), None, Some("max 250000\n")).as_deref(),
            Some("30000 250000")
        );
        // 1.5 CPUs (docker --cpus=1.5) at the default period.
        assert_eq!(
            cpu_max(Some(150_000), None, Some("max 100000")).as_deref(),
            Some("150000 100000")
        );
    }

    #[test]
    fn hugepage_names() {
        assert_eq!(hugepage_name_from_kb(2048), "2MB");
        assert_eq!(hugepage_name_from_kb(1_048_576), "1GB");
        assert_eq!(hugepage_name_from_kb(64), "64KB");
        assert_eq!(hugepage_name_from_kb(32_768), "32MB");
    }
}

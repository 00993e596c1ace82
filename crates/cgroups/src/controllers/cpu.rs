//! The cpu controller (CFS quota/period/burst, shares/weight, realtime
//! budget, idle) and cpuacct's usage: limits and statistics.
//!
//! Threat: CPU starvation of the host. The kernel checks quota/period (and
//! burst) pairs on every write, so the order of writes matters and a
//! refused write is retried in the other order, never dropped.

use std::path::Path;

use ward_spec::resources::LinuxCpu;

use super::{Dirs, F};
use crate::convert::{self, nz};
use crate::error::{Error, Result};
use crate::fsutil::{self, keyed_value, read_opt, read_u64, read_u64_or_zero as u, write};
use crate::stats::{Cpu, Throttling};

/// Whether `c` needs the v1 cpu hierarchy.
pub(crate) fn needed_v1(c: &LinuxCpu) -> bool {
    c.shares.is_some_and(|s| s != 0)
        || nz(c.quota).is_some()
        || c.period.is_some_and(|p| p != 0)
        || c.burst.is_some()
        || nz(c.realtime_runtime).is_some()
        || c.realtime_period.is_some_and(|p| p != 0)
        || c.idle.is_some()
}

pub(crate) fn apply_v1(m: &dyn Dirs, c: &LinuxCpu) -> Result<()> {
    let f = |n: &str| format!("{F}.cpu.{n}");
    let shares = c.shares.filter(|s| *s != 0);
    let quota = nz(c.quota);
    let period = c.period.filter(|p| *p != 0);
    let rt_runtime = nz(c.realtime_runtime);
    let rt_period = c.realtime_period.filter(|p| *p != 0);
    if !needed_v1(c) {
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

pub(crate) fn apply_v2(d: &Path, c: &LinuxCpu) -> Result<()> {
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

/// cgroup v2 has no realtime CPU budget: an error, not a silent drop.
pub(crate) fn unsupported_v2(c: &LinuxCpu) -> Result<()> {
    if nz(c.realtime_runtime).is_some() || c.realtime_period.is_some_and(|p| p != 0) {
        return Err(Error::resource(
            format!("{F}.cpu.realtimeRuntime"),
            "cgroup v2 has no realtime CPU budget (CONFIG_RT_GROUP_SCHED is v1-only): remove cpu.realtimeRuntime/realtimePeriod",
        ));
    }
    Ok(())
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

/// v1 CPU usage from the cpuacct directory `d`.
pub(crate) fn stats_v1_cpuacct(d: &Path, st: &mut Cpu) -> Result<()> {
    st.usage.total = u(d, "cpuacct.usage")?;
    if let Some(s) = read_opt(d, "cpuacct.usage_percpu")? {
        st.usage.percpu = numbers(&s);
    }
    if let Some(s) = read_opt(d, "cpuacct.usage_percpu_sys")? {
        st.usage.percpu_kernel = numbers(&s);
    }
    if let Some(s) = read_opt(d, "cpuacct.usage_percpu_user")? {
        st.usage.percpu_user = numbers(&s);
    }
    if let Some(s) = read_opt(d, "cpuacct.stat")? {
        let ns_per_tick = 1_000_000_000 / clock_ticks();
        st.usage.user = keyed_value(&s, "user").unwrap_or(0) * ns_per_tick;
        st.usage.kernel = keyed_value(&s, "system").unwrap_or(0) * ns_per_tick;
    }
    Ok(())
}

/// v1 CFS throttling from the cpu directory `d`.
pub(crate) fn stats_v1(d: &Path, st: &mut Cpu) -> Result<()> {
    if let Some(s) = read_opt(d, "cpu.stat")? {
        st.throttling = Throttling {
            periods: keyed_value(&s, "nr_periods").unwrap_or(0),
            throttled_periods: keyed_value(&s, "nr_throttled").unwrap_or(0),
            throttled_time: keyed_value(&s, "throttled_time").unwrap_or(0),
        };
    }
    Ok(())
}

/// v2 usage and throttling (cpu.stat, microseconds → nanoseconds).
pub(crate) fn stats_v2(d: &Path, st: &mut Cpu) -> Result<()> {
    if let Some(s) = read_opt(d, "cpu.stat")? {
        let k = |key: &str| keyed_value(&s, key).unwrap_or(0);
        st.usage.total = k("usage_usec") * 1000;
        st.usage.user = k("user_usec") * 1000;
        st.usage.kernel = k("system_usec") * 1000;
        st.throttling = Throttling {
            periods: k("nr_periods"),
            throttled_periods: k("nr_throttled"),
            throttled_time: k("throttled_usec") * 1000,
        };
    }
    Ok(())
}

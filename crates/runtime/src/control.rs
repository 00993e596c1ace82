//! Live control of a container's cgroup: pause, resume, update, events.
//!
//! Threat: a container that exhausts the host. `update` changes its limits
//! while it runs (`docker update --memory`), `events` reports OOM kills and
//! usage in runc's JSON (containerd parses it), and `pause` freezes every
//! process of the container at once.

use std::io::{Read, Write};
use std::path::Path;
use std::time::Duration;

use ward_spec::resources::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxPids, LinuxResources};

use crate::admission::{Admission, Subject};
use crate::cg;
use crate::lifecycle::Global;
use crate::state::{self, Status, Store};
use crate::{msg, Ctx, Result};

/// `pause`: freezes every process of a running container.
pub fn pause(g: &Global, id: &str) -> Result<()> {
    let store = Store::new(&g.root);
    let _lock = store.open(id)?;
    let s = store.load(id)?;
    match state::status(&store, &s) {
        Status::Running | Status::Created => Ok(cg::restore(&s.cgroup)?.freeze()?),
        other => Err(msg(format!(
            "cannot pause container {id:?}: it is {}",
            other.as_str()
        ))),
    }
}

/// `resume`: thaws a paused container.
pub fn resume(g: &Global, id: &str) -> Result<()> {
    let store = Store::new(&g.root);
    let _lock = store.open(id)?;
    let s = store.load(id)?;
    match state::status(&store, &s) {
        Status::Paused => Ok(cg::restore(&s.cgroup)?.thaw()?),
        other => Err(msg(format!(
            "cannot resume container {id:?}: it is {}",
            other.as_str()
        ))),
    }
}

/// The flags of `update` (runc's names); `None` = unchanged.
#[derive(Debug, Default)]
pub struct UpdateFlags {
    pub resources: Option<String>,
    pub blkio_weight: Option<u16>,
    pub cpu_period: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpu_share: Option<u64>,
    pub cpu_rt_period: Option<u64>,
    pub cpu_rt_runtime: Option<i64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub memory: Option<String>,
    pub memory_reservation: Option<String>,
    pub memory_swap: Option<String>,
    pub pids_limit: Option<i64>,
    pub l3_cache_schema: Option<String>,
    pub mem_bw_schema: Option<String>,
}

/// A size as runc's update takes it (`ward_spec::size::parse_bytes`); -1 = unlimited.
pub fn parse_size(flag: &str, v: &str) -> Result<i64> {
    if v.trim() == "-1" {
        return Ok(-1);
    }
    ward_spec::size::parse_bytes(v).map_err(|_| {
        msg(format!(
            "{flag} {v:?}: expected a size in bytes (or with k, m, g, t), or -1 for unlimited"
        ))
    })
}

/// A Go-style duration as runc's `--interval` takes it: 5s, 500ms, 1m, or seconds.
pub fn parse_interval(v: &str) -> Result<Duration> {
    let t = v.trim();
    let (num, unit) = t
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .map(|i| t.split_at(i))
        .unwrap_or((t, "s"));
    let n: f64 = num.parse().map_err(|_| {
        msg(format!(
            "--interval {v:?}: expected a duration such as 5s or 500ms"
        ))
    })?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        _ => {
            return Err(msg(format!(
                "--interval {v:?}: unknown unit {unit:?} (ms, s, m)"
            )))
        }
    };
    if !(secs > 0.0 && secs < 86_400.0) {
        return Err(msg(format!(
            "--interval {v:?}: must be more than 0 and less than a day"
        )));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// The resources an `update` asks for.
fn requested(f: &UpdateFlags) -> Result<LinuxResources> {
    if f.l3_cache_schema.is_some() || f.mem_bw_schema.is_some() {
        return Err(msg(
            "--l3-cache-schema/--mem-bw-schema: Intel RDT is not supported by ward",
        ));
    }
    if let Some(src) = &f.resources {
        // As runc: with --resources, every other flag is ignored.
        let mut text = String::new();
        if src == "-" {
            std::io::stdin()
                .read_to_string(&mut text)
                .ctx(|| "reading resources from stdin".into())?;
        } else {
            text = std::fs::read_to_string(Path::new(src)).ctx(|| format!("--resources {src}"))?;
        }
        let de = &mut serde_json::Deserializer::from_str(&text);
        return serde_path_to_error::deserialize(de)
            .map_err(|e| msg(format!("--resources: {}: {}", e.path(), e.inner())));
    }
    let mut r = LinuxResources::default();
    let size =
        |flag: &str, v: &Option<String>| v.as_deref().map(|v| parse_size(flag, v)).transpose();
    let memory = LinuxMemory {
        limit: size("--memory", &f.memory)?,
        reservation: size("--memory-reservation", &f.memory_reservation)?,
        swap: size("--memory-swap", &f.memory_swap)?,
        ..LinuxMemory::default()
    };
    if memory != LinuxMemory::default() {
        r.memory = Some(memory);
    }
    let cpu = LinuxCpu {
        shares: f.cpu_share,
        quota: f.cpu_quota,
        period: f.cpu_period,
        realtime_runtime: f.cpu_rt_runtime,
        realtime_period: f.cpu_rt_period,
        cpus: f.cpuset_cpus.clone(),
        mems: f.cpuset_mems.clone(),
        ..LinuxCpu::default()
    };
    if cpu != LinuxCpu::default() {
        r.cpu = Some(cpu);
    }
    if let Some(w) = f.blkio_weight {
        r.block_io = Some(LinuxBlockIo {
            weight: Some(w),
            ..LinuxBlockIo::default()
        });
    }
    if let Some(l) = f.pids_limit {
        r.pids = Some(LinuxPids { limit: Some(l) });
    }
    Ok(r)
}

/// `update`: validates, writes the new limits, and records them with the
/// container (so a later `update` or `events` sees them).
pub fn update(g: &Global, admission: &dyn Admission, id: &str, f: &UpdateFlags) -> Result<()> {
    let store = Store::new(&g.root);
    let locked = store.open(id)?;
    let mut s = store.load(id)?;
    if state::status(&store, &s) == Status::Stopped {
        return Err(msg(format!(
            "cannot update container {id:?}: it has stopped"
        )));
    }
    let r = requested(f)?;
    r.validate()?;
    let mut view = s.spec.clone();
    let l = view.linux.get_or_insert_with(Default::default);
    l.resources = Some(merge(l.resources.take().unwrap_or_default(), r.clone()));
    admission.resources(&Subject {
        root: &g.root,
        id,
        bundle: &s.bundle,
        spec: &view,
    })?;
    cg::restore(&s.cgroup)?.update(&r)?;
    let linux = s.spec.linux.get_or_insert_with(Default::default);
    let merged = merge(linux.resources.take().unwrap_or_default(), r);
    linux.resources = Some(merged);
    locked.save(&s)
}

/// Overlays the set fields of `new` on `old`.
fn merge(mut old: LinuxResources, new: LinuxResources) -> LinuxResources {
    macro_rules! overlay {
        ($old:expr, $new:expr, [$($f:ident),*]) => {{
            let mut o = $old.unwrap_or_default();
            let n = $new;
            $( if n.$f.is_some() { o.$f = n.$f; } )*
            Some(o)
        }};
    }
    if let Some(m) = new.memory {
        old.memory = overlay!(
            old.memory,
            m,
            [
                limit,
                reservation,
                swap,
                kernel,
                kernel_tcp,
                swappiness,
                disable_oom_killer
            ]
        );
    }
    if let Some(c) = new.cpu {
        old.cpu = overlay!(
            old.cpu,
            c,
            [
                shares,
                quota,
                burst,
                period,
                realtime_runtime,
                realtime_period,
                cpus,
                mems,
                idle
            ]
        );
    }
    if new.pids.is_some() {
        old.pids = new.pids;
    }
    if new.block_io.is_some() {
        old.block_io = new.block_io;
    }
    if !new.devices.is_empty() {
        old.devices = new.devices;
    }
    if !new.hugepage_limits.is_empty() {
        old.hugepage_limits = new.hugepage_limits;
    }
    if new.network.is_some() {
        old.network = new.network;
    }
    old.rdma.extend(new.rdma);
    old.unified.extend(new.unified);
    old
}

/// `events`: runc's JSON lines, `{"type":"stats","id":...,"data":{...}}`,
/// once with `stats_once`, else every `interval` plus `{"type":"oom"}` when
/// the OOM killer strikes, until the container stops.
pub fn events(g: &Global, id: &str, stats_once: bool, interval: Duration) -> Result<()> {
    let store = Store::new(&g.root);
    let s = store.load(id)?;
    if state::status(&store, &s) == Status::Stopped {
        return Err(msg(format!("container {id:?} is not running")));
    }
    let cgroup = cg::restore(&s.cgroup)?;
    let mut out = std::io::stdout();
    let emit =
        |out: &mut std::io::Stdout, kind: &str, data: Option<serde_json::Value>| -> Result<()> {
            let mut ev = serde_json::json!({"type": kind, "id": id});
            if let Some(d) = data {
                ev["data"] = d;
            }
            writeln!(out, "{ev}")
                .and_then(|()| out.flush())
                .ctx(|| "writing events".into())
        };
    let stats = |c: &cg::Cgroup| -> Result<serde_json::Value> {
        serde_json::to_value(c.stats()?).ctx(|| "encoding stats".into())
    };
    if stats_once {
        return emit(&mut out, "stats", Some(stats(&cgroup)?));
    }
    let mut ooms = cgroup.oom_events().unwrap_or(0);
    let tick = Duration::from_millis(100).min(interval);
    let mut waited = interval;
    while state::init_alive(&s) {
        let now = cgroup.oom_events().unwrap_or(ooms);
        if now > ooms {
            ooms = now;
            emit(&mut out, "oom", None)?;
        }
        if waited >= interval {
            emit(&mut out, "stats", Some(stats(&cgroup)?))?;
            waited = Duration::ZERO;
        }
        std::thread::sleep(tick);
        waited += tick;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("5s").ok(), Some(Duration::from_secs(5)));
        assert_eq!(
            parse_interval("500ms").ok(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_interval("2").ok(), Some(Duration::from_secs(2)));
        assert!(parse_interval("0s").is_err());
        assert!(parse_interval("5h").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("--memory", "1048576").ok(), Some(1 << 20));
        assert_eq!(parse_size("--memory", "20m").ok(), Some(20 << 20));
        assert_eq!(parse_size("--memory", "1G").ok(), Some(1 << 30));
        assert_eq!(parse_size("--memory", "512kb").ok(), Some(512 << 10));
        assert_eq!(parse_size("--memory", "-1").ok(), Some(-1));
        assert!(parse_size("--memory", "-5").is_err());
        assert!(parse_size("--memory", "lots").is_err());
    }

    #[test]
    fn merge_keeps_unchanged_fields() {
        let old = LinuxResources {
            memory: Some(LinuxMemory {
                limit: Some(100),
                reservation: Some(50),
                ..Default::default()
            }),
            pids: Some(LinuxPids { limit: Some(10) }),
            ..Default::default()
        };
        let new = LinuxResources {
            memory: Some(LinuxMemory {
                limit: Some(200),
                ..Default::default()
            }),
            ..Default::default()
        };
        let m = merge(old, new);
        let mem = m.memory.unwrap_or_default();
        assert_eq!((mem.limit, mem.reservation), (Some(200), Some(50)));
        assert_eq!(m.pids.and_then(|p| p.limit), Some(10));
    }
}

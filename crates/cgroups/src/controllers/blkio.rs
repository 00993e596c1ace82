//! The blkio (v1) / io (v2) controller: weights and throttles per device;
//! I/O statistics.
//!
//! Threat: I/O starvation of the host. Weights go to CFQ's or BFQ's files,
//! whichever the device's scheduler offers; a weight no scheduler takes is
//! an error naming the fix.

use std::path::Path;

use ward_spec::resources::LinuxBlockIo;

use super::{Dirs, F};
use crate::convert;
use crate::error::{Error, Result};
use crate::fsutil::{self, read_opt, write};
use crate::stats::{Blkio, BlkioEntry};

/// Whether `b` needs the blkio hierarchy.
pub(crate) fn needed(b: &LinuxBlockIo) -> bool {
    b.weight.is_some_and(|w| w != 0)
        || b.leaf_weight.is_some_and(|w| w != 0)
        || !b.weight_device.is_empty()
        || !b.throttle_read_bps_device.is_empty()
        || !b.throttle_write_bps_device.is_empty()
        || !b.throttle_read_iops_device.is_empty()
        || !b.throttle_write_iops_device.is_empty()
}

pub(crate) fn apply_v1(m: &dyn Dirs, b: &LinuxBlockIo) -> Result<()> {
    let f = |n: &str| format!("{F}.blockIO.{n}");
    if !needed(b) {
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
        let key = convert::dev_key(wd.major, wd.minor);
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
            let key = convert::dev_key(t.major, t.minor);
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

pub(crate) fn apply_v2(d: &Path, b: &LinuxBlockIo) -> Result<()> {
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

/// Settings v2 ignores: warnings, like runc.
pub(crate) fn ignored_v2(b: &LinuxBlockIo) -> Option<String> {
    let leaf = b.leaf_weight.is_some_and(|w| w != 0)
        || b.weight_device.iter().any(|d| d.leaf_weight.is_some());
    leaf.then(|| {
        "linux.resources.blockIO leafWeight is ignored: cgroup v2 has no leaf weights".to_string()
    })
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

/// v1 I/O statistics of the blkio directory `d`: CFQ's, BFQ's or the
/// throttle files, whichever has data.
pub(crate) fn stats_v1(d: &Path) -> Result<Blkio> {
    for prefix in ["blkio", "blkio.bfq", "blkio.throttle"] {
        let bytes = read_opt(d, &format!("{prefix}.io_service_bytes_recursive"))?;
        let ios = read_opt(d, &format!("{prefix}.io_serviced_recursive"))?;
        let b = parse_blkio_v1(bytes.as_deref().unwrap_or(""));
        let i = parse_blkio_v1(ios.as_deref().unwrap_or(""));
        if !b.is_empty() || !i.is_empty() {
            return Ok(Blkio {
                io_service_bytes_recursive: b,
                io_serviced_recursive: i,
            });
        }
    }
    Ok(Blkio::default())
}

/// v2 I/O statistics (io.stat).
pub(crate) fn stats_v2(d: &Path) -> Result<Blkio> {
    Ok(read_opt(d, "io.stat")?
        .map(|s| parse_io_stat(&s))
        .unwrap_or_default())
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
}

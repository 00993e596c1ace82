//! Naming and properties of the systemd driver's transient scope: where a
//! `linux.cgroupsPath` puts it, and the limits as unit properties (runc's
//! conversions).
//!
//! Threat: a cgroupsPath that names another unit's place (slashes, `..`,
//! characters systemd would escape) is refused, naming cgroupsPath.

use ward_spec::resources::LinuxResources;

use super::dbus::Value;
use crate::convert;
use crate::error::{Error, Result};

/// Where a container's scope goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeName {
    /// The slice unit, e.g. `system.slice`.
    pub slice: String,
    /// The scope unit, e.g. `docker-1234.scope`.
    pub unit: String,
    /// The slice's cgroup path, e.g. `/system.slice` or `/a.slice/a-b.slice`.
    pub slice_path: String,
}

fn path_err(p: &str, msg: impl Into<String>) -> Error {
    Error::CgroupsPath {
        path: p.to_string(),
        msg: msg.into(),
    }
}

/// Characters systemd accepts in a unit name without escaping.
pub(super) fn unit_chars_ok(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '\\' | '@'))
}

/// `a-b-c.slice` → `/a.slice/a-b.slice/a-b-c.slice` (systemd's slice
/// nesting; runc's ExpandSlice). `-.slice` is the root.
pub fn expand_slice(whole: &str, slice: &str) -> Result<String> {
    let Some(stem) = slice.strip_suffix(".slice") else {
        return Err(path_err(
            whole,
            format!("the slice {slice:?} must end in \".slice\" (systemd form \"slice:prefix:name\", e.g. \"system.slice:docker:1234\")"),
        ));
    };
    if stem == "-" {
        return Ok(String::new());
    }
    if stem.is_empty()
        || stem.starts_with('-')
        || stem.ends_with('-')
        || stem.contains("--")
        || !unit_chars_ok(stem)
        || stem.contains('@')
    {
        return Err(path_err(
            whole,
            format!("{slice:?} is not a valid slice name: use letters, digits, '_', '.', with '-' only between nesting levels (e.g. \"machine-ward.slice\")"),
        ));
    }
    let mut out = String::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if !prefix.is_empty() {
            prefix.push('-');
        }
        prefix.push_str(part);
        out.push('/');
        out.push_str(&prefix);
        out.push_str(".slice");
    }
    Ok(out)
}

/// Parses `linux.cgroupsPath` for the systemd driver.
pub fn parse_scope(path: Option<&str>, id: &str, rootless: bool) -> Result<ScopeName> {
    let default_slice = if rootless {
        "user.slice"
    } else {
        "system.slice"
    };
    let p = path.unwrap_or("");
    let (slice, prefix, name) = if p.is_empty() {
        (default_slice, "ward", id)
    } else {
        let parts: Vec<&str> = p.split(':').collect();
        let [slice, prefix, name] = parts[..] else {
            return Err(path_err(
                p,
                "with --systemd-cgroup it must have the form \"slice:prefix:name\" (e.g. \"system.slice:ward:1234\"); drop --systemd-cgroup to use a filesystem path",
            ));
        };
        (
            if slice.is_empty() {
                default_slice
            } else {
                slice
            },
            prefix,
            name,
        )
    };
    for (what, v) in [("prefix", prefix), ("name", name)] {
        let bad = v == "." || v == ".." || !unit_chars_ok(v) || v.contains('@');
        if bad || (what == "name" && v.is_empty()) {
            return Err(path_err(
                p,
                format!("the {what} {v:?} is not a plain unit name: use letters, digits, '_', '.', '-' (no '/', no \"..\")"),
            ));
        }
    }
    if name.ends_with(".slice") {
        return Err(path_err(
            p,
            "a name ending in \".slice\" asks for a slice as the container's cgroup, which ward does not create: name a scope instead",
        ));
    }
    let slice_path = expand_slice(p, slice)?;
    let unit = if prefix.is_empty() {
        format!("{name}.scope")
    } else {
        format!("{prefix}-{name}.scope")
    };
    if unit.len() > 255 {
        return Err(path_err(
            p,
            "the unit name would be longer than 255 characters",
        ));
    }
    Ok(ScopeName {
        slice: slice.to_string(),
        unit,
        slice_path,
    })
}

/// A cpuset list ("0-3,5") as systemd's AllowedCPUs byte mask (byte i
/// holds CPUs 8i..8i+7, as runc sends it).
pub fn cpuset_mask(field: &str, list: &str) -> Result<Vec<u8>> {
    const MAX: u32 = 8192;
    let mut mask = Vec::new();
    for part in list.trim().split(',').filter(|s| !s.trim().is_empty()) {
        let bad = || {
            Error::resource(
                field,
                format!("{list:?} is not a cpu/node list like \"0-3,5\" (numbers below {MAX})"),
            )
        };
        let (a, b) = match part.trim().split_once('-') {
            Some((a, b)) => (a, b),
            None => (part.trim(), part.trim()),
        };
        let a: u32 = a.trim().parse().map_err(|_| bad())?;
        let b: u32 = b.trim().parse().map_err(|_| bad())?;
        if a > b || b >= MAX {
            return Err(bad());
        }
        for n in a..=b {
            let byte = (n / 8) as usize;
            if mask.len() <= byte {
                mask.resize(byte + 1, 0);
            }
            mask[byte] |= 1 << (n % 8);
        }
    }
    Ok(mask)
}

fn inf(v: i64) -> u64 {
    if v < 0 {
        u64::MAX
    } else {
        v as u64
    }
}

/// The unit properties for the limits systemd understands (as runc's
/// genV1/genV2ResourcesProperties). The cgroupfs driver writes these and
/// everything else afterwards; giving them to systemd too keeps a later
/// `systemctl daemon-reload` from resetting them.
pub fn resource_properties(r: &LinuxResources, v2: bool) -> Result<Vec<Value>> {
    let mut p = Vec::new();
    let mut add = |k: &str, v: Value| p.push(Value::prop(k, v));
    if let Some(m) = &r.memory {
        let limit = m.limit.unwrap_or(0);
        if limit != 0 {
            add(
                if v2 { "MemoryMax" } else { "MemoryLimit" },
                Value::U64(inf(limit)),
            );
        }
        if v2 {
            if let Some(res) = m.reservation.filter(|x| *x != 0) {
                add("MemoryLow", Value::U64(inf(res)));
            }
            if let Some(s) = convert::swap_to_v2(m.swap.unwrap_or(0), limit)? {
                let v = if s == "max" {
                    u64::MAX
                } else {
                    s.parse().map_err(|_| {
                        Error::resource(
                            "linux.resources.memory.swap",
                            format!("{s:?} is not a number"),
                        )
                    })?
                };
                add("MemorySwapMax", Value::U64(v));
            }
        }
    }
    if let Some(pl) = r.pids.as_ref().and_then(|p| p.limit).filter(|l| *l != 0) {
        add("TasksMax", Value::U64(inf(pl)));
    }
    if let Some(c) = &r.cpu {
        if let Some(s) = c.shares.filter(|s| *s != 0) {
            if v2 {
                add("CPUWeight", Value::U64(convert::shares_to_weight(s)));
            } else {
                add("CPUShares", Value::U64(s));
            }
        }
        let quota = c.quota.unwrap_or(0);
        let period = c.period.unwrap_or(0);
        if quota != 0 || period != 0 {
            let period = if period == 0 { 100_000 } else { period };
            add("CPUQuotaPeriodUSec", Value::U64(period));
            let mut per_sec = u64::MAX;
            if quota > 0 {
                per_sec = (quota as u64).saturating_mul(1_000_000) / period;
                // systemd keeps CPUQuotaPerSecUSec in 10ms steps: round up
                // so the limit is never tighter than asked (runc does too).
                if per_sec % 10_000 != 0 {
                    per_sec = (per_sec / 10_000 + 1) * 10_000;
                }
            }
            add("CPUQuotaPerSecUSec", Value::U64(per_sec));
        }
        if v2 {
            if let Some(cpus) = c.cpus.as_deref().filter(|s| !s.trim().is_empty()) {
                let m = cpuset_mask("linux.resources.cpu.cpus", cpus)?;
                add(
                    "AllowedCPUs",
                    Value::Array("y".into(), m.into_iter().map(Value::Byte).collect()),
                );
            }
            if let Some(mems) = c.mems.as_deref().filter(|s| !s.trim().is_empty()) {
                let m = cpuset_mask("linux.resources.cpu.mems", mems)?;
                add(
                    "AllowedMemoryNodes",
                    Value::Array("y".into(), m.into_iter().map(Value::Byte).collect()),
                );
            }
        }
    }
    if let Some(w) = r
        .block_io
        .as_ref()
        .and_then(|b| b.weight)
        .filter(|w| *w != 0)
    {
        if v2 {
            add(
                "IOWeight",
                Value::U64(convert::blkio_weight_to_io_weight(w)),
            );
        } else {
            add("BlockIOWeight", Value::U64(u64::from(w)));
        }
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slices_expand_like_systemd() {
        assert_eq!(
            expand_slice("x", "system.slice").expect("valid"),
            "/system.slice"
        );
        assert_eq!(expand_slice("x", "-.slice").expect("valid"), "");
        assert_eq!(
            expand_slice("x", "a-b-c.slice").expect("valid"),
            "/a.slice/a-b.slice/a-b-c.slice"
        );
        for bad in [
            "a",
            "a/b.slice",
            "-a.slice",
            "a-.slice",
            "a--b.slice",
            ".slice",
            "../x.slice",
        ] {
            let e = expand_slice("p", bad).expect_err(bad).to_string();
            assert!(e.contains("linux.cgroupsPath"), "{e}");
        }
    }

    #[test]
    fn cgroups_path_forms_like_runc() {
        let s = parse_scope(Some("system.slice:docker:1234"), "id", false).expect("valid");
        assert_eq!(
            (s.slice.as_str(), s.unit.as_str()),
            ("system.slice", "docker-1234.scope")
        );
        assert_eq!(s.slice_path, "/system.slice");
        let s = parse_scope(Some("machine-ward.slice::abc"), "id", false).expect("valid");
        assert_eq!(s.unit, "abc.scope");
        assert_eq!(s.slice_path, "/machine.slice/machine-ward.slice");
        let s = parse_scope(Some(":ward:c1"), "id", true).expect("valid");
        assert_eq!(s.slice, "user.slice");
        let s = parse_scope(None, "c2", false).expect("valid");
        assert_eq!(
            (s.slice.as_str(), s.unit.as_str()),
            ("system.slice", "ward-c2.scope")
        );
        for bad in [
            "/ward/c1",
            "a:b",
            "a:b:c:d",
            "system.slice:ward:..",
            "system.slice:ward:a/b",
            "system.slice:../x:c",
            "system.slice:ward:",
            "x/y.slice:ward:c",
            "system.slice:ward:a b",
            "system.slice:ward:sub.slice",
        ] {
            let e = parse_scope(Some(bad), "id", false)
                .expect_err(bad)
                .to_string();
            assert!(e.contains("linux.cgroupsPath"), "{bad}: {e}");
        }
    }

    #[test]
    fn cpu_lists_become_systemd_masks() {
        assert_eq!(cpuset_mask("f", "0").expect("valid"), vec![1]);
        assert_eq!(cpuset_mask("f", "0-3,9").expect("valid"), vec![0x0f, 0x02]);
        assert_eq!(cpuset_mask("f", " 1 , 3-4 ").expect("valid"), vec![0x1a]);
        for bad in ["a", "3-1", "1-", "99999"] {
            assert!(
                cpuset_mask("linux.resources.cpu.cpus", bad).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn properties_convert_like_runc() {
        let r: LinuxResources = serde_json::from_str(
            r#"{"memory":{"limit":1048576,"reservation":524288,"swap":2097152},
                "pids":{"limit":-1},
                "cpu":{"shares":1024,"quota":33000,"period":100000,"cpus":"0-1"},
                "blockIO":{"weight":500}}"#,
        )
        .expect("valid");
        let get = |props: &[Value], k: &str| {
            props.iter().find_map(|p| match p {
                Value::Struct(kv) if kv[0] == Value::Str(k.into()) => match &kv[1] {
                    Value::Variant(v) => Some((**v).clone()),
                    _ => None,
                },
                _ => None,
            })
        };
        let v2 = resource_properties(&r, true).expect("valid");
        assert_eq!(get(&v2, "MemoryMax"), Some(Value::U64(1048576)));
        assert_eq!(get(&v2, "MemoryLow"), Some(Value::U64(524288)));
        // v2 swap is swap minus memory.
        assert_eq!(get(&v2, "MemorySwapMax"), Some(Value::U64(1048576)));
        assert_eq!(get(&v2, "TasksMax"), Some(Value::U64(u64::MAX)));
        assert_eq!(get(&v2, "CPUWeight"), Some(Value::U64(39)));
        // 33% of a CPU is 330ms per second, already a 10ms step.
        assert_eq!(get(&v2, "CPUQuotaPerSecUSec"), Some(Value::U64(330_000)));
        assert_eq!(get(&v2, "CPUQuotaPeriodUSec"), Some(Value::U64(100_000)));
        assert_eq!(
            get(&v2, "AllowedCPUs"),
            Some(Value::Array("y".into(), vec![Value::Byte(3)]))
        );
        assert_eq!(get(&v2, "IOWeight"), Some(Value::U64(4950)));
        let v1 = resource_properties(&r, false).expect("valid");
        assert_eq!(get(&v1, "MemoryLimit"), Some(Value::U64(1048576)));
        assert_eq!(get(&v1, "CPUShares"), Some(Value::U64(1024)));
        assert_eq!(get(&v1, "BlockIOWeight"), Some(Value::U64(500)));
        assert_eq!(get(&v1, "AllowedCPUs"), None);
        // A quota that is not a 10ms step is rounded up, never down.
        let r: LinuxResources =
            serde_json::from_str(r#"{"cpu":{"quota":12345,"period":100000}}"#).expect("valid");
        let p = resource_properties(&r, true).expect("valid");
        assert_eq!(get(&p, "CPUQuotaPerSecUSec"), Some(Value::U64(130_000)));
    }
}

//! OCI `linux.resources`: the cgroup limits of a container.
//!
//! Threats: these values are written into kernel files by a root process, so a
//! bad value must be refused here, before anything is touched: a key such as
//! `unified["../../cgroup.procs"]` or a hugepage size of `"../x"` would steer
//! a write outside the container's own cgroup, a newline inside an interface
//! name would inject a second line into `net_prio.ifpriomap`, and a negative
//! limit silently read as "huge" would leave fork bombs and memory hogs
//! unbounded. [`LinuxResources::validate`] is pure (no syscall) and every
//! error names the JSON field and says what to do.
//!
//! Zero values: like runc (whose Go structs cannot tell 0 from unset), a
//! memory `limit`/`reservation`/`swap` of 0, `cpu.shares`/`quota`/`period` of
//! 0 and `blockIO.weight` of 0 mean "leave as is".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Error;

/// `linux.resources`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxResources {
    /// Device allow list, applied in order (later rules win).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<LinuxDeviceCgroup>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<LinuxMemory>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu: Option<LinuxCpu>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pids: Option<LinuxPids>,
    #[serde(default, rename = "blockIO", skip_serializing_if = "Option::is_none")]
    pub block_io: Option<LinuxBlockIo>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hugepage_limits: Vec<LinuxHugepageLimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<LinuxNetwork>,
    /// Per RDMA device name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rdma: BTreeMap<String, LinuxRdma>,
    /// cgroup v2 file name -> content, written verbatim (after the typed fields).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unified: BTreeMap<String, String>,
}

/// Device type of a device cgroup rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeviceType {
    /// `a`: every device (a rule of this type resets the whole list).
    #[default]
    #[serde(rename = "a")]
    All,
    /// `c`: character device.
    #[serde(rename = "c")]
    Char,
    /// `b`: block device.
    #[serde(rename = "b")]
    Block,
}

impl DeviceType {
    /// The letter the kernel uses (`a`, `c`, `b`).
    pub fn as_char(self) -> char {
        match self {
            DeviceType::All => 'a',
            DeviceType::Char => 'c',
            DeviceType::Block => 'b',
        }
    }
}

/// One entry of `linux.resources.devices`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxDeviceCgroup {
    pub allow: bool,
    /// Missing means `a` (all devices).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<DeviceType>,
    /// Missing or -1 means any major.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub major: Option<i64>,
    /// Missing or -1 means any minor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minor: Option<i64>,
    /// Some of `r`, `w`, `m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access: Option<String>,
}

impl LinuxDeviceCgroup {
    /// The rule's device type (`a` when missing).
    pub fn device_type(&self) -> DeviceType {
        self.kind.unwrap_or_default()
    }
}

/// `linux.resources.memory` (bytes; -1 means unlimited).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxMemory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<i64>,
    /// Memory + swap (cgroup v1 semantics; converted for v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swap: Option<i64>,
    /// Deprecated by the runtime-spec and by the kernel; ignored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<i64>,
    /// Deprecated like `kernel`; ignored (as runc does).
    #[serde(default, rename = "kernelTCP", skip_serializing_if = "Option::is_none")]
    pub kernel_tcp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swappiness: Option<u64>,
    #[serde(
        default,
        rename = "disableOOMKiller",
        skip_serializing_if = "Option::is_none"
    )]
    pub disable_oom_killer: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub use_hierarchy: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_before_update: Option<bool>,
}

/// `linux.resources.cpu`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxCpu {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shares: Option<u64>,
    /// Microseconds per period; -1 means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub burst: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_runtime: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_period: Option<u64>,
    /// cpuset list such as `0-3,6`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpus: Option<String>,
    /// Memory node list such as `0`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mems: Option<String>,
    /// 0 or 1 (SCHED_IDLE for the whole cgroup).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idle: Option<i64>,
}

/// `linux.resources.pids`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxPids {
    /// Maximum number of tasks; -1 means unlimited.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
}

/// `linux.resources.blockIO`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxBlockIo {
    /// 10..=1000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    /// 10..=1000 (CFQ only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weight_device: Vec<LinuxWeightDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throttle_read_bps_device: Vec<LinuxThrottleDevice>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub throttle_write_bps_device: Vec<LinuxThrottleDevice>,
    #[serde(
        default,
        rename = "throttleReadIOPSDevice",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub throttle_read_iops_device: Vec<LinuxThrottleDevice>,
    #[serde(
        default,
        rename = "throttleWriteIOPSDevice",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub throttle_write_iops_device: Vec<LinuxThrottleDevice>,
}

/// `blockIO.weightDevice[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxWeightDevice {
    pub major: i64,
    pub minor: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leaf_weight: Option<u16>,
}

/// `blockIO.throttle*Device[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxThrottleDevice {
    pub major: i64,
    pub minor: i64,
    /// Bytes or operations per second.
    pub rate: u64,
}

/// `hugepageLimits[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxHugepageLimit {
    /// `<size><KB|MB|GB>` such as `2MB`.
    pub page_size: String,
    /// Bytes.
    pub limit: u64,
}

/// `linux.resources.network` (cgroup v1 net_cls / net_prio only).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxNetwork {
    #[serde(default, rename = "classID", skip_serializing_if = "Option::is_none")]
    pub class_id: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub priorities: Vec<LinuxInterfacePriority>,
}

/// `network.priorities[]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxInterfacePriority {
    pub name: String,
    pub priority: u32,
}

/// `rdma.<device>`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxRdma {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hca_handles: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hca_objects: Option<u32>,
}

/// cgroup v2 controllers whose files `unified` may name.
pub const UNIFIED_CONTROLLERS: &[&str] = &[
    "cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc",
];

/// `cgroup.*` core files that `unified` may set. The others (`cgroup.procs`,
/// `cgroup.threads`, `cgroup.subtree_control`, `cgroup.type`,
/// `cgroup.freeze`, `cgroup.kill`) move processes or change the tree and
/// belong to the runtime.
pub const UNIFIED_CORE_FILES: &[&str] = &[
    "cgroup.max.depth",
    "cgroup.max.descendants",
    "cgroup.pressure",
];

/// Largest major (12 bits) and minor (20 bits) number of a Linux `dev_t`.
pub const MAX_MAJOR: i64 = (1 << 12) - 1;
pub const MAX_MINOR: i64 = (1 << 20) - 1;

fn invalid(field: impl Into<String>, msg: impl Into<String>) -> Error {
    Error::Invalid {
        field: field.into(),
        msg: msg.into(),
    }
}

const F: &str = "linux.resources";

/// A byte/count limit: -1 (unlimited) or >= 0.
fn check_limit(field: &str, v: Option<i64>) -> Result<(), Error> {
    match v {
        Some(n) if n < -1 => Err(invalid(
            format!("{F}.{field}"),
            format!("{n} is negative: use -1 for unlimited or a value >= 0"),
        )),
        _ => Ok(()),
    }
}

/// Checks a cpuset list (`0-3,7`): digits, commas, ascending ranges.
pub fn parse_cpu_list(s: &str) -> Result<Vec<(u32, u32)>, String> {
    let mut out = Vec::new();
    for part in s.trim().split(',') {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a, b),
            None => (part, part),
        };
        let num = |x: &str| -> Result<u32, String> {
            if x.is_empty() || !x.bytes().all(|c| c.is_ascii_digit()) {
                return Err(format!("{part:?} is not a number or a range like 0-3"));
            }
            x.parse::<u32>()
                .map_err(|_| format!("{x:?} is too large for a cpu or node number"))
        };
        let (lo, hi) = (num(a)?, num(b)?);
        if lo > hi {
            return Err(format!("range {part:?} is descending"));
        }
        out.push((lo, hi));
    }
    Ok(out)
}

/// A plain name for a file or interface: no `/`, whitespace or control chars.
fn plain_name(s: &str) -> bool {
    !s.is_empty()
        && s != "."
        && s != ".."
        && !s
            .chars()
            .any(|c| c == '/' || c.is_whitespace() || c.is_control())
}

/// Parses a hugepage size `<n><KB|MB|GB>` into bytes (1024-based).
pub fn parse_page_size(s: &str) -> Option<u64> {
    let (num, mult) = if let Some(n) = s.strip_suffix("KB") {
        (n, 1u64 << 10)
    } else if let Some(n) = s.strip_suffix("MB") {
        (n, 1u64 << 20)
    } else if let Some(n) = s.strip_suffix("GB") {
        (n, 1u64 << 30)
    } else {
        return None;
    };
    if num.is_empty() || !num.bytes().all(|c| c.is_ascii_digit()) || num.starts_with('0') {
        return None;
    }
    num.parse::<u64>().ok()?.checked_mul(mult)
}

/// Checks a `unified` key: a plain file name of the container's own cgroup.
pub fn check_unified_key(key: &str) -> Result<(), String> {
    if key.is_empty() || key.contains('/') || key.contains('\0') || key == "." || key == ".." {
        return Err(
            "must be a plain file name of the container's cgroup (no \"/\", \"..\" or NUL)".into(),
        );
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("must not contain whitespace or control characters".into());
    }
    let Some((controller, rest)) = key.split_once('.') else {
        return Err("must have the form CONTROLLER.PARAMETER (e.g. \"memory.high\")".into());
    };
    if rest.is_empty() {
        return Err("must have the form CONTROLLER.PARAMETER (e.g. \"memory.high\")".into());
    }
    if controller == "cgroup" {
        if UNIFIED_CORE_FILES.contains(&key) {
            return Ok(());
        }
        return Err(format!(
            "is managed by the runtime; only {UNIFIED_CORE_FILES:?} of the cgroup.* files may be set"
        ));
    }
    if !UNIFIED_CONTROLLERS.contains(&controller) {
        return Err(format!(
            "names controller {controller:?}, which is not a cgroup v2 controller of the container (one of {UNIFIED_CONTROLLERS:?})"
        ));
    }
    Ok(())
}

/// Checks a device major/minor: missing or -1 is a wildcard.
fn check_dev_num(field: String, v: Option<i64>, max: i64) -> Result<(), Error> {
    match v {
        None | Some(-1) => Ok(()),
        Some(n) if (0..=max).contains(&n) => Ok(()),
        Some(n) => Err(invalid(
            field,
            format!("{n} is out of range: use 0..={max}, or -1 (or omit it) for any"),
        )),
    }
}

fn check_blk_dev(field: &str, major: i64, minor: i64) -> Result<(), Error> {
    if !(0..=MAX_MAJOR).contains(&major) {
        return Err(invalid(
            format!("{field}.major"),
            format!("{major} is not a device major number (0..={MAX_MAJOR})"),
        ));
    }
    if !(0..=MAX_MINOR).contains(&minor) {
        return Err(invalid(
            format!("{field}.minor"),
            format!("{minor} is not a device minor number (0..={MAX_MINOR})"),
        ));
    }
    Ok(())
}

fn check_blkio_weight(field: String, w: Option<u16>, zero_ok: bool) -> Result<(), Error> {
    match w {
        Some(0) if zero_ok => Ok(()),
        Some(w) if !(10..=1000).contains(&w) => Err(invalid(
            field,
            format!("{w} is out of range: use 10..=1000"),
        )),
        _ => Ok(()),
    }
}

impl LinuxResources {
    /// Whether nothing at all is set.
    pub fn is_empty(&self) -> bool {
        *self == LinuxResources::default()
    }

    /// Refuses values no kernel would accept or that would escape the
    /// container's cgroup. Errors name the field (`linux.resources.…`).
    pub fn validate(&self) -> Result<(), Error> {
        self.validate_devices()?;
        if let Some(m) = &self.memory {
            check_limit("memory.limit", m.limit)?;
            check_limit("memory.reservation", m.reservation)?;
            check_limit("memory.swap", m.swap)?;
            check_limit("memory.kernel", m.kernel)?;
            check_limit("memory.kernelTCP", m.kernel_tcp)?;
            if let (Some(limit), Some(swap)) = (m.limit, m.swap) {
                if limit > 0 && swap > 0 && swap < limit {
                    return Err(invalid(
                        format!("{F}.memory.swap"),
                        format!(
                            "{swap} is below memory.limit {limit}: swap is the memory+swap total, so it must be >= limit (or -1 for unlimited swap)"
                        ),
                    ));
                }
                if limit == -1 && swap > 0 {
                    return Err(invalid(
                        format!("{F}.memory.swap"),
                        "a memory+swap limit needs a memory limit, but memory.limit is -1: set memory.limit or make swap -1",
                    ));
                }
            }
            if let Some(s) = m.swappiness {
                if s > 100 {
                    return Err(invalid(
                        format!("{F}.memory.swappiness"),
                        format!("{s} is out of range: use 0..=100"),
                    ));
                }
            }
        }
        if let Some(c) = &self.cpu {
            self.validate_cpu(c)?;
        }
        if let Some(p) = &self.pids {
            check_limit("pids.limit", p.limit)?;
        }
        if let Some(b) = &self.block_io {
            validate_block_io(b)?;
        }
        for (i, h) in self.hugepage_limits.iter().enumerate() {
            if parse_page_size(&h.page_size).is_none() {
                return Err(invalid(
                    format!("{F}.hugepageLimits[{i}].pageSize"),
                    format!(
                        "{:?} is not a page size: use <number><KB|MB|GB> such as \"2MB\"",
                        h.page_size
                    ),
                ));
            }
        }
        if let Some(n) = &self.network {
            for (i, p) in n.priorities.iter().enumerate() {
                if !plain_name(&p.name) || p.name.len() > 15 {
                    return Err(invalid(
                        format!("{F}.network.priorities[{i}].name"),
                        format!(
                            "{:?} is not an interface name (1-15 characters, no \"/\", whitespace or control characters)",
                            p.name
                        ),
                    ));
                }
            }
        }
        for (dev, r) in &self.rdma {
            if !plain_name(dev) {
                return Err(invalid(
                    format!("{F}.rdma[{dev:?}]"),
                    "is not an RDMA device name (no \"/\", whitespace or control characters)",
                ));
            }
            if r.hca_handles.is_none() && r.hca_objects.is_none() {
                return Err(invalid(
                    format!("{F}.rdma[{dev:?}]"),
                    "sets neither hcaHandles nor hcaObjects: set at least one",
                ));
            }
        }
        for (k, v) in &self.unified {
            check_unified_key(k).map_err(|m| invalid(format!("{F}.unified[{k:?}]"), m))?;
            if v.contains('\0') {
                return Err(invalid(
                    format!("{F}.unified[{k:?}]"),
                    "the value contains a NUL byte",
                ));
            }
        }
        Ok(())
    }

    fn validate_devices(&self) -> Result<(), Error> {
        for (i, d) in self.devices.iter().enumerate() {
            let field = format!("{F}.devices[{i}]");
            let access = d.access.as_deref().unwrap_or("");
            if access.is_empty() {
                return Err(invalid(
                    format!("{field}.access"),
                    "is empty: give some of \"rwm\" (read, write, mknod)",
                ));
            }
            if let Some(c) = access.chars().find(|c| !matches!(c, 'r' | 'w' | 'm')) {
                return Err(invalid(
                    format!("{field}.access"),
                    format!("{access:?} has {c:?}: only r, w and m are allowed"),
                ));
            }
            check_dev_num(format!("{field}.major"), d.major, MAX_MAJOR)?;
            check_dev_num(format!("{field}.minor"), d.minor, MAX_MINOR)?;
            if d.device_type() == DeviceType::All {
                let has_num =
                    matches!(d.major, Some(n) if n >= 0) || matches!(d.minor, Some(n) if n >= 0);
                let full = ['r', 'w', 'm'].iter().all(|c| access.contains(*c));
                if has_num {
                    return Err(invalid(
                        field,
                        "a rule for all device types (type \"a\" or none) cannot name a major/minor: set type \"c\" or \"b\"",
                    ));
                }
                if d.allow && !full {
                    return Err(invalid(
                        format!("{field}.access"),
                        format!(
                            "{access:?} on all devices: the kernel can only allow all devices with \"rwm\"; give type \"c\"/\"b\" rules instead"
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn validate_cpu(&self, c: &LinuxCpu) -> Result<(), Error> {
        if let Some(s) = c.shares {
            if s != 0 && !(2..=262_144).contains(&s) {
                return Err(invalid(
                    format!("{F}.cpu.shares"),
                    format!("{s} is out of range: use 2..=262144 (1024 is the default)"),
                ));
            }
        }
        match c.quota {
            Some(q) if q < -1 => {
                return Err(invalid(
                    format!("{F}.cpu.quota"),
                    format!("{q} is negative: use -1 for unlimited or a value >= 1000 (µs)"),
                ))
            }
            Some(q) if q > 0 && q < 1000 => {
                return Err(invalid(
                    format!("{F}.cpu.quota"),
                    format!("{q} µs is below the kernel's minimum of 1000 µs"),
                ))
            }
            _ => {}
        }
        if let Some(p) = c.period {
            if p != 0 && !(1000..=1_000_000).contains(&p) {
                return Err(invalid(
                    format!("{F}.cpu.period"),
                    format!("{p} µs is out of range: use 1000..=1000000 (100000 is the default)"),
                ));
            }
        }
        if let (Some(b), Some(q)) = (c.burst, c.quota) {
            if b > 0 && q > 0 && b > q.unsigned_abs() {
                return Err(invalid(
                    format!("{F}.cpu.burst"),
                    format!("{b} µs is above cpu.quota {q} µs: the burst cannot exceed the quota"),
                ));
            }
        }
        if let Some(r) = c.realtime_runtime {
            if r < -1 {
                return Err(invalid(
                    format!("{F}.cpu.realtimeRuntime"),
                    format!("{r} is negative: use -1 for unlimited or a value >= 0"),
                ));
            }
            if let Some(p) = c.realtime_period {
                if r > 0 && p > 0 && r.unsigned_abs() > p {
                    return Err(invalid(
                        format!("{F}.cpu.realtimeRuntime"),
                        format!("{r} µs is above cpu.realtimePeriod {p} µs"),
                    ));
                }
            }
        }
        for (name, v) in [("cpus", &c.cpus), ("mems", &c.mems)] {
            if let Some(v) = v {
                if !v.is_empty() {
                    parse_cpu_list(v).map_err(|m| invalid(format!("{F}.cpu.{name}"), m))?;
                }
            }
        }
        if let Some(i) = c.idle {
            if i != 0 && i != 1 {
                return Err(invalid(
                    format!("{F}.cpu.idle"),
                    format!("{i} is not 0 or 1"),
                ));
            }
        }
        Ok(())
    }
}

fn validate_block_io(b: &LinuxBlockIo) -> Result<(), Error> {
    let f = format!("{F}.blockIO");
    check_blkio_weight(format!("{f}.weight"), b.weight, true)?;
    check_blkio_weight(format!("{f}.leafWeight"), b.leaf_weight, true)?;
    for (i, d) in b.weight_device.iter().enumerate() {
        let fi = format!("{f}.weightDevice[{i}]");
        check_blk_dev(&fi, d.major, d.minor)?;
        check_blkio_weight(format!("{fi}.weight"), d.weight, false)?;
        check_blkio_weight(format!("{fi}.leafWeight"), d.leaf_weight, false)?;
        if d.weight.is_none() && d.leaf_weight.is_none() {
            return Err(invalid(
                fi,
                "sets neither weight nor leafWeight: set at least one",
            ));
        }
    }
    for (name, list) in [
        ("throttleReadBpsDevice", &b.throttle_read_bps_device),
        ("throttleWriteBpsDevice", &b.throttle_write_bps_device),
        ("throttleReadIOPSDevice", &b.throttle_read_iops_device),
        ("throttleWriteIOPSDevice", &b.throttle_write_iops_device),
    ] {
        for (i, d) in list.iter().enumerate() {
            check_blk_dev(&format!("{f}.{name}[{i}]"), d.major, d.minor)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(v: serde_json::Value) -> LinuxResources {
        serde_json::from_value(v).expect("parses")
    }

    fn err(v: serde_json::Value) -> String {
        match parse(v).validate() {
            Ok(()) => panic!("expected an error"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn runtime_spec_example_round_trips() {
        let v = serde_json::json!({
            "devices": [
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rw"},
                {"allow": true, "type": "b", "major": 8, "minor": 0, "access": "r"}
            ],
            "memory": {"limit": 536870912, "reservation": 536870912, "swap": 536870912,
                       "kernel": -1, "kernelTCP": -1, "swappiness": 0, "disableOOMKiller": false,
                       "useHierarchy": true, "checkBeforeUpdate": true},
            "cpu": {"shares": 1024, "quota": 1000000, "burst": 1000000, "period": 500000,
                    "realtimeRuntime": 950000, "realtimePeriod": 1000000, "cpus": "2-3",
                    "mems": "0-7", "idle": 0},
            "pids": {"limit": 32771},
            "blockIO": {"weight": 10, "leafWeight": 10,
                "weightDevice": [{"major": 8, "minor": 0, "weight": 500, "leafWeight": 300},
                                 {"major": 8, "minor": 16, "weight": 500}],
                "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
                "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 600}],
                "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 600}],
                "throttleWriteIOPSDevice": [{"major": 8, "minor": 16, "rate": 300}]},
            "hugepageLimits": [{"pageSize": "2MB", "limit": 209715200},
                               {"pageSize": "64KB", "limit": 1000000}],
            "network": {"classID": 1048577, "priorities": [{"name": "eth0", "priority": 500}]},
            "rdma": {"mlx5_1": {"hcaHandles": 3, "hcaObjects": 10000}, "rxe3": {"hcaObjects": 10000}},
            "unified": {"io.max": "259:0 rbps=2097152 wiops=120\n253:0 rbps=2097152 wiops=120",
                        "hugetlb.1GB.max": "1073741824"}
        });
        let r = parse(v.clone());
        r.validate().expect("valid");
        assert_eq!(r.devices[1].device_type(), DeviceType::Char);
        assert_eq!(r.network.as_ref().and_then(|n| n.class_id), Some(1048577));
        assert_eq!(
            r.block_io
                .as_ref()
                .map(|b| b.throttle_read_iops_device.len()),
            Some(1)
        );
        assert_eq!(r.memory.as_ref().and_then(|m| m.kernel_tcp), Some(-1));
        assert_eq!(serde_json::to_value(&r).expect("serializes"), v);
    }

    #[test]
    fn empty_is_valid_and_serializes_empty() {
        let r = LinuxResources::default();
        r.validate().expect("valid");
        assert!(r.is_empty());
        assert_eq!(
            serde_json::to_string(&r).expect("serializes"),
            "{}".to_string()
        );
    }

    #[test]
    fn negative_limits_other_than_minus_one_are_refused() {
        let e = err(serde_json::json!({"memory": {"limit": -2}}));
        assert!(e.contains("linux.resources.memory.limit"), "{e}");
        assert!(e.contains("-1"), "{e}");
        parse(serde_json::json!({"memory": {"limit": -1, "swap": -1}}))
            .validate()
            .expect("-1 is unlimited");
        let e = err(serde_json::json!({"pids": {"limit": -5}}));
        assert!(e.contains("linux.resources.pids.limit"), "{e}");
        let e = err(serde_json::json!({"cpu": {"quota": -100}}));
        assert!(e.contains("linux.resources.cpu.quota"), "{e}");
        let e = err(serde_json::json!({"memory": {"reservation": -7}}));
        assert!(e.contains("memory.reservation"), "{e}");
    }

    #[test]
    fn swap_below_limit_is_refused() {
        let e = err(serde_json::json!({"memory": {"limit": 1000000, "swap": 1000}}));
        assert!(e.contains("memory.swap"), "{e}");
    }

    #[test]
    fn ranges() {
        for (v, field) in [
            (serde_json::json!({"cpu": {"shares": 1}}), "cpu.shares"),
            (serde_json::json!({"cpu": {"shares": 262145}}), "cpu.shares"),
            (serde_json::json!({"cpu": {"period": 999}}), "cpu.period"),
            (serde_json::json!({"cpu": {"quota": 10}}), "cpu.quota"),
            (serde_json::json!({"cpu": {"idle": 2}}), "cpu.idle"),
            (serde_json::json!({"cpu": {"cpus": "0-a"}}), "cpu.cpus"),
            (serde_json::json!({"cpu": {"mems": "3-1"}}), "cpu.mems"),
            (
                serde_json::json!({"cpu": {"quota": 10000, "burst": 20000}}),
                "cpu.burst",
            ),
            (
                serde_json::json!({"memory": {"swappiness": 101}}),
                "memory.swappiness",
            ),
            (
                serde_json::json!({"blockIO": {"weight": 5}}),
                "blockIO.weight",
            ),
            (
                serde_json::json!({"blockIO": {"leafWeight": 1001}}),
                "blockIO.leafWeight",
            ),
            (
                serde_json::json!({"blockIO": {"weightDevice": [{"major": 8, "minor": 0, "weight": 1}]}}),
                "blockIO.weightDevice[0].weight",
            ),
            (
                serde_json::json!({"blockIO": {"throttleReadBpsDevice": [{"major": -1, "minor": 0, "rate": 1}]}}),
                "blockIO.throttleReadBpsDevice[0].major",
            ),
        ] {
            let e = err(v);
            assert!(
                e.contains(&format!("linux.resources.{field}")),
                "{field}: {e}"
            );
        }
        parse(serde_json::json!({"cpu": {"shares": 2}, "blockIO": {"weight": 1000}}))
            .validate()
            .expect("bounds are inclusive");
        parse(serde_json::json!({"cpu": {"shares": 0, "quota": 0, "period": 0}}))
            .validate()
            .expect("0 means unset");
    }

    #[test]
    fn unified_keys_must_be_plain_files_of_known_controllers() {
        for k in [
            "../memory.max",
            "..",
            "a/b",
            "memory.max\0",
            "cgroup.procs",
            "cgroup.subtree_control",
            "cgroup.kill",
            "net_cls.classid",
            "devices.allow",
            "memory",
            "memory.",
            "",
            "memory.max/../../cgroup.procs",
            "pids.max\0",
            "io.max/.",
        ] {
            let mut r = LinuxResources::default();
            r.unified.insert(k.to_string(), "1".into());
            let e = match r.validate() {
                Ok(()) => panic!("{k:?} accepted"),
                Err(e) => e.to_string(),
            };
            assert!(e.contains("linux.resources.unified"), "{k:?}: {e}");
        }
        let mut r = LinuxResources::default();
        for k in [
            "memory.high",
            "cgroup.max.descendants",
            "io.max",
            "pids.max",
        ] {
            r.unified.insert(k.to_string(), "1".into());
        }
        r.validate().expect("valid keys");
    }

    #[test]
    fn devices() {
        let e =
            err(serde_json::json!({"devices": [{"allow": true, "type": "c", "access": "rwx"}]}));
        assert!(e.contains("devices[0].access"), "{e}");
        let e = err(serde_json::json!({"devices": [{"allow": true, "type": "c"}]}));
        assert!(e.contains("devices[0].access"), "{e}");
        let e = err(serde_json::json!({"devices": [{"allow": true, "access": "r"}]}));
        assert!(e.contains("devices[0].access"), "{e}");
        let e = err(
            serde_json::json!({"devices": [{"allow": true, "type": "c", "major": -3, "access": "r"}]}),
        );
        assert!(e.contains("devices[0].major"), "{e}");
        let e =
            err(serde_json::json!({"devices": [{"allow": false, "major": 1, "access": "rwm"}]}));
        assert!(e.contains("devices[0]"), "{e}");
        assert!(serde_json::from_value::<LinuxResources>(
            serde_json::json!({"devices": [{"allow": true, "type": "x", "access": "r"}]})
        )
        .is_err());
    }

    #[test]
    fn names_that_would_inject_or_traverse() {
        let e = err(serde_json::json!({"hugepageLimits": [{"pageSize": "../2MB", "limit": 1}]}));
        assert!(e.contains("hugepageLimits[0].pageSize"), "{e}");
        let e = err(
            serde_json::json!({"network": {"priorities": [{"name": "eth0 5\nlo", "priority": 1}]}}),
        );
        assert!(e.contains("network.priorities[0].name"), "{e}");
        let e = err(serde_json::json!({"rdma": {"mlx 1": {"hcaHandles": 1}}}));
        assert!(e.contains("rdma"), "{e}");
        let e = err(serde_json::json!({"rdma": {"mlx1": {}}}));
        assert!(e.contains("rdma"), "{e}");
    }

    #[test]
    fn page_sizes() {
        assert_eq!(parse_page_size("2MB"), Some(2 << 20));
        assert_eq!(parse_page_size("1GB"), Some(1 << 30));
        assert_eq!(parse_page_size("64KB"), Some(64 << 10));
        assert_eq!(parse_page_size("2mb"), None);
        assert_eq!(parse_page_size("MB"), None);
        assert_eq!(parse_page_size("02MB"), None);
    }

    #[test]
    fn cpu_lists() {
        assert_eq!(parse_cpu_list("0-3,7"), Ok(vec![(0, 3), (7, 7)]));
        assert!(parse_cpu_list("1,,2").is_err());
        assert!(parse_cpu_list("-1").is_err());
    }
    /// Validates `v`: `None` when accepted, else the field the error names.
    fn verdict(v: serde_json::Value) -> Option<String> {
        let e = parse(v.clone()).validate().err()?.to_string();
        let rest = e.strip_prefix("config.json: ").unwrap_or(&e);
        Some(rest.split(": ").next().unwrap_or_default().to_string())
    }

    /// Each case: a `linux.resources` value and the field its error names
    /// (without the `linux.resources.` prefix), or "" when it is valid.
    fn check_cases(cases: &[(serde_json::Value, &str)]) {
        for (v, want) in cases {
            let got = verdict(v.clone());
            let want = (!want.is_empty()).then(|| format!("linux.resources.{want}"));
            assert_eq!(got, want, "{v}");
        }
    }

    #[test]
    fn memory_limits() {
        use serde_json::json;
        let mut cases = vec![];
        for f in ["limit", "reservation", "swap", "kernel", "kernelTCP"] {
            cases.push((json!({"memory": {f: -1}}), ""));
            cases.push((json!({"memory": {f: 0}}), ""));
            cases.push((json!({"memory": {f: -2}}), ""));
            let last = cases.len() - 1;
            cases[last].1 = match f {
                "limit" => "memory.limit",
                "reservation" => "memory.reservation",
                "swap" => "memory.swap",
                "kernel" => "memory.kernel",
                _ => "memory.kernelTCP",
            };
        }
        cases.extend([
            (json!({"pids": {"limit": -1}}), ""),
            (json!({"pids": {"limit": -2}}), "pids.limit"),
            (json!({"memory": {"limit": 1000, "swap": 1000}}), ""),
            (
                json!({"memory": {"limit": 1000, "swap": 999}}),
                "memory.swap",
            ),
            (json!({"memory": {"limit": 1000, "swap": 0}}), ""),
            (json!({"memory": {"limit": 1000, "swap": -1}}), ""),
            (json!({"memory": {"limit": 0, "swap": 1000}}), ""),
            (
                json!({"memory": {"limit": -1, "swap": 1000}}),
                "memory.swap",
            ),
            (json!({"memory": {"limit": -1, "swap": 0}}), ""),
            (json!({"memory": {"swappiness": 100}}), ""),
            (json!({"memory": {"swappiness": 101}}), "memory.swappiness"),
        ]);
        check_cases(&cases);
    }

    #[test]
    fn cpu_bounds() {
        use serde_json::json;
        check_cases(&[
            (json!({"cpu": {"shares": 2}}), ""),
            (json!({"cpu": {"shares": 262144}}), ""),
            (json!({"cpu": {"shares": 262145}}), "cpu.shares"),
            (json!({"cpu": {"shares": 1}}), "cpu.shares"),
            (json!({"cpu": {"quota": -1}}), ""),
            (json!({"cpu": {"quota": -2}}), "cpu.quota"),
            (json!({"cpu": {"quota": 999}}), "cpu.quota"),
            (json!({"cpu": {"quota": 1000}}), ""),
            (json!({"cpu": {"quota": 1}}), "cpu.quota"),
            (json!({"cpu": {"period": 1000}}), ""),
            (json!({"cpu": {"period": 1000000}}), ""),
            (json!({"cpu": {"period": 1000001}}), "cpu.period"),
            (json!({"cpu": {"quota": 5000, "burst": 5000}}), ""),
            (json!({"cpu": {"quota": 5000, "burst": 5001}}), "cpu.burst"),
            (json!({"cpu": {"quota": -1, "burst": 5000}}), ""),
            (json!({"cpu": {"quota": 0, "burst": 5000}}), ""),
            (json!({"cpu": {"quota": 5000, "burst": 0}}), ""),
            (json!({"cpu": {"realtimeRuntime": -1}}), ""),
            (
                json!({"cpu": {"realtimeRuntime": -2}}),
                "cpu.realtimeRuntime",
            ),
            (
                json!({"cpu": {"realtimeRuntime": 100, "realtimePeriod": 100}}),
                "",
            ),
            (
                json!({"cpu": {"realtimeRuntime": 101, "realtimePeriod": 100}}),
                "cpu.realtimeRuntime",
            ),
            (
                json!({"cpu": {"realtimeRuntime": 101, "realtimePeriod": 0}}),
                "",
            ),
            (
                json!({"cpu": {"realtimeRuntime": -1, "realtimePeriod": 100}}),
                "",
            ),
            (
                json!({"cpu": {"realtimeRuntime": 0, "realtimePeriod": 100}}),
                "",
            ),
            (json!({"cpu": {"cpus": "", "mems": ""}}), ""),
            (json!({"cpu": {"cpus": "0-1", "mems": "0"}}), ""),
            (json!({"cpu": {"cpus": "x"}}), "cpu.cpus"),
            (json!({"cpu": {"idle": 0}}), ""),
            (json!({"cpu": {"idle": 1}}), ""),
            (json!({"cpu": {"idle": -1}}), "cpu.idle"),
        ]);
    }

    #[test]
    fn block_io_bounds() {
        use serde_json::json;
        let dev = |major: i64, minor: i64| json!([{"major": major, "minor": minor, "rate": 1}]);
        let mut cases = vec![
            (json!({"blockIO": {"weight": 0, "leafWeight": 0}}), ""),
            (json!({"blockIO": {"weight": 10, "leafWeight": 1000}}), ""),
            (json!({"blockIO": {"weight": 9}}), "blockIO.weight"),
            (json!({"blockIO": {"weight": 1001}}), "blockIO.weight"),
            (json!({"blockIO": {"leafWeight": 9}}), "blockIO.leafWeight"),
            (
                json!({"blockIO": {"weightDevice": [{"major": 8, "minor": 0, "weight": 0}]}}),
                "blockIO.weightDevice[0].weight",
            ),
            (
                json!({"blockIO": {"weightDevice": [{"major": 8, "minor": 0, "leafWeight": 0}]}}),
                "blockIO.weightDevice[0].leafWeight",
            ),
            (
                json!({"blockIO": {"weightDevice": [{"major": 8, "minor": 0, "leafWeight": 10}]}}),
                "",
            ),
            (
                json!({"blockIO": {"weightDevice": [{"major": 8, "minor": 0}]}}),
                "blockIO.weightDevice[0]",
            ),
            (
                json!({"blockIO": {"weightDevice": [{"major": 4096, "minor": 0, "weight": 10}]}}),
                "blockIO.weightDevice[0].major",
            ),
        ];
        for name in [
            "throttleReadBpsDevice",
            "throttleWriteBpsDevice",
            "throttleReadIOPSDevice",
            "throttleWriteIOPSDevice",
        ] {
            cases.push((json!({"blockIO": {name: dev(0, 0)}}), ""));
            cases.push((json!({"blockIO": {name: dev(4095, 1048575)}}), ""));
            let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
            cases.push((
                json!({"blockIO": {name: dev(4096, 0)}}),
                leak(format!("blockIO.{name}[0].major")),
            ));
            cases.push((
                json!({"blockIO": {name: dev(8, -1)}}),
                leak(format!("blockIO.{name}[0].minor")),
            ));
            cases.push((
                json!({"blockIO": {name: dev(8, 1048576)}}),
                leak(format!("blockIO.{name}[0].minor")),
            ));
        }
        check_cases(&cases);
    }

    #[test]
    fn device_rules() {
        use serde_json::json;
        let rule =
            |v: serde_json::Value| json!({"devices": [{"allow": false, "access": "rwm"}, v]});
        check_cases(&[
            (rule(json!({"allow": true, "access": "rwm"})), ""),
            (
                rule(json!({"allow": true, "type": "a", "access": "rwm"})),
                "",
            ),
            (
                rule(json!({"allow": false, "type": "a", "access": "r"})),
                "",
            ),
            (
                rule(json!({"allow": true, "type": "a", "access": "rw"})),
                "devices[1].access",
            ),
            (
                rule(
                    json!({"allow": true, "type": "a", "access": "rwm", "major": -1, "minor": -1}),
                ),
                "",
            ),
            (
                rule(json!({"allow": false, "type": "a", "access": "rwm", "major": 0})),
                "devices[1]",
            ),
            (
                rule(json!({"allow": false, "type": "a", "access": "rwm", "minor": 0})),
                "devices[1]",
            ),
            (
                rule(
                    json!({"allow": true, "type": "c", "access": "m", "major": 4095, "minor": 1048575}),
                ),
                "",
            ),
            (
                rule(json!({"allow": true, "type": "c", "access": "m", "major": 4096})),
                "devices[1].major",
            ),
            (
                rule(json!({"allow": true, "type": "b", "access": "w", "minor": 1048576})),
                "devices[1].minor",
            ),
            (
                rule(json!({"allow": true, "type": "b", "access": "w", "minor": -2})),
                "devices[1].minor",
            ),
        ]);
        assert_eq!(DeviceType::All.as_char(), 'a');
        assert_eq!(DeviceType::Char.as_char(), 'c');
        assert_eq!(DeviceType::Block.as_char(), 'b');
        assert_eq!(LinuxDeviceCgroup::default().device_type(), DeviceType::All);
    }

    #[test]
    fn names_pages_rdma_and_unified_values() {
        use serde_json::json;
        let prio = |name: &str| json!({"network": {"priorities": [{"name": name, "priority": 1}]}});
        let f = "network.priorities[0].name";
        check_cases(&[
            (prio("eth0"), ""),
            (prio("a23456789012345"), ""),
            (prio("a234567890123456"), f),
            (prio(""), f),
            (prio("."), f),
            (prio(".."), f),
            (prio("a/b"), f),
            (prio("a\tb"), f),
            (prio("a\u{7f}"), f),
            (json!({"network": {"classID": 1}}), ""),
            (
                json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 1}, {"pageSize": "2XB", "limit": 1}]}),
                "hugepageLimits[1].pageSize",
            ),
            (json!({"rdma": {"mlx5": {"hcaObjects": 1}}}), ""),
            (json!({"rdma": {"mlx5": {"hcaHandles": 1}}}), ""),
            (
                json!({"unified": {"memory.high": "1\u{0}"}}),
                "unified[\"memory.high\"]",
            ),
            (
                json!({"unified": {"cgroup.pressure": "0", "cgroup.max.depth": "3"}}),
                "",
            ),
        ]);
        assert!(verdict(json!({"rdma": {"..": {"hcaHandles": 1}}})).is_some());
        assert!(!parse(json!({"pids": {"limit": 1}})).is_empty());
        assert!(!parse(json!({"unified": {"pids.max": "1"}})).is_empty());
    }

    #[test]
    fn unified_key_messages() {
        assert_eq!(check_unified_key("memory.high"), Ok(()));
        assert_eq!(check_unified_key("misc.max"), Ok(()));
        let e = check_unified_key("memory. high").expect_err("memory. high");
        assert!(e.contains("whitespace"), "{e}");
        let e = check_unified_key("memory.hi\u{1}gh").expect_err("memory.hi\u{1}gh");
        assert!(e.contains("control"), "{e}");
        let e = check_unified_key("memory").expect_err("memory");
        assert!(e.contains("CONTROLLER.PARAMETER"), "{e}");
        let e = check_unified_key("memory.").expect_err("memory.");
        assert!(e.contains("CONTROLLER.PARAMETER"), "{e}");
        let e = check_unified_key("cgroup.procs").expect_err("cgroup.procs");
        assert!(e.contains("managed by the runtime"), "{e}");
        let e = check_unified_key("devices.allow").expect_err("devices.allow");
        assert!(e.contains("\"devices\""), "{e}");
        let e = check_unified_key(".").expect_err(".");
        assert!(e.contains("plain file name"), "{e}");
    }

    #[test]
    fn page_size_limits() {
        assert_eq!(parse_page_size("1KB"), Some(1024));
        assert_eq!(parse_page_size("16GB"), Some(16 << 30));
        assert_eq!(parse_page_size("99999999999GB"), None);
        assert_eq!(parse_page_size("2 MB"), None);
        assert_eq!(parse_page_size("2"), None);
    }

    #[test]
    fn cpu_list_forms() {
        assert_eq!(parse_cpu_list(" 1-1,3 "), Ok(vec![(1, 1), (3, 3)]));
        assert_eq!(parse_cpu_list("4294967295"), Ok(vec![(u32::MAX, u32::MAX)]));
        let e = parse_cpu_list("4294967296").expect_err("4294967296");
        assert!(e.contains("too large"), "{e}");
        let e = parse_cpu_list("3-1").expect_err("3-1");
        assert!(e.contains("descending"), "{e}");
        let e = parse_cpu_list("1-").expect_err("1-");
        assert!(e.contains("not a number"), "{e}");
        assert!(parse_cpu_list("a").is_err());
    }
}

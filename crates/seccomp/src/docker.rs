//! Docker's seccomp profile format, resolved to OCI `linux.seccomp` the way
//! Docker Engine does it (moby/profiles `seccomp/seccomp_linux.go`,
//! `setupSeccomp`) before it writes config.json.
//!
//! The format extends the OCI profile with:
//! - `archMap`: per native architecture, the sub-architectures to add (on
//!   x86_64: x86 and x32). Only the entry of the native arch is used;
//!   `architectures` and `archMap` together are an error.
//! - per rule `name` (old single-name form), `comment`, and `includes` /
//!   `excludes` filters on capabilities (the container's bounding set),
//!   arches (Docker's native arch names: "amd64", "arm64", "x86", ...) and
//!   `minKernel` ("major.minor" of the host kernel).
//!
//! A rule is dropped when an exclude matches (any of its arches is the
//! native arch, any of its caps is held, or the kernel is at least
//! `minKernel`) or an include fails (the native arch is not among its
//! arches, some cap is not held, or the kernel is older than `minKernel`).

use serde::{Deserialize, Deserializer, Serialize};
use ward_spec::seccomp::{null_as_default, Action, Arch, Arg, Flag, LinuxSeccomp, Syscall};

/// Why a Docker profile could not be read or resolved.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    #[error("docker seccomp profile: {0}; fix the value there")]
    Parse(String),
    #[error(
        "docker seccomp profile: both 'architectures' and 'archMap' are specified; use either \
         'architectures' or 'archMap'"
    )]
    ArchitecturesAndArchMap,
    #[error(
        "docker seccomp profile: syscalls[{0}]: both 'name' and 'names' are specified; use either \
         'name' or 'names'"
    )]
    NameAndNames(usize),
    #[error(
        "docker seccomp profile: syscalls are listed but defaultAction is missing; set \
         defaultAction (e.g. SCMP_ACT_ERRNO)"
    )]
    NoDefaultAction,
    #[error("kernel version {0:?} is not \"<kernel>.<major>\" (e.g. \"4.8\"); fix minKernel")]
    KernelVersion(String),
}

/// A kernel version as Docker compares it: only "kernel.major" counts, so
/// "3.12.25-gentoo", "3.12-1-amd64" and "3.12" are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KernelVersion {
    pub kernel: u64,
    pub major: u64,
}

impl KernelVersion {
    pub const fn new(kernel: u64, major: u64) -> Self {
        KernelVersion { kernel, major }
    }

    /// Parses a `minKernel` value: exactly "<kernel>.<major>", each at most
    /// 255, not "0.0" (Docker's rules).
    pub fn parse_min(s: &str) -> Result<Self, DockerError> {
        let bad = || DockerError::KernelVersion(s.to_string());
        let (k, m) = s.split_once('.').ok_or_else(bad)?;
        let k: u8 = k.parse().map_err(|_| bad())?;
        let m: u8 = m.parse().map_err(|_| bad())?;
        if k == 0 && m == 0 {
            return Err(bad());
        }
        Ok(KernelVersion::new(k.into(), m.into()))
    }

    /// Parses a uname release ("6.18.44-fc-v669"): the leading "N.M".
    pub fn parse_release(release: &str) -> Result<Self, DockerError> {
        let bad = || DockerError::KernelVersion(release.to_string());
        let num = |s: &str| -> Result<u64, DockerError> {
            let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
            digits.parse().map_err(|_| bad())
        };
        let (k, rest) = release.trim().split_once('.').ok_or_else(bad)?;
        Ok(KernelVersion::new(num(k)?, num(rest)?))
    }

    /// The running kernel, from /proc/sys/kernel/osrelease.
    pub fn host() -> Result<Self, DockerError> {
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map_err(|e| DockerError::KernelVersion(format!("/proc/sys/kernel/osrelease: {e}")))?;
        Self::parse_release(&release)
    }
}

impl std::fmt::Display for KernelVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.kernel, self.major)
    }
}

impl Serialize for KernelVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for KernelVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        KernelVersion::parse_min(&s).map_err(serde::de::Error::custom)
    }
}

/// A Docker-format profile (`seccomp/default.json`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerProfile {
    /// Optional here: a profile with neither this nor syscalls disables seccomp.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_action: Option<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub architectures: Vec<Arch>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arch_map: Vec<ArchMapEntry>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub flags: Vec<Flag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_metadata: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub syscalls: Vec<DockerSyscall>,
}

/// `archMap` entry: a native arch and the sub-arches to add with it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ArchMapEntry {
    pub architecture: Arch,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sub_architectures: Vec<Arch>,
}

/// A Docker rule: an OCI rule plus `name`, `comment`, `includes`, `excludes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DockerSyscall {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub names: Vec<String>,
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<Arg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub includes: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excludes: Option<Filter>,
}

/// Conditions of `includes` / `excludes`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub caps: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arches: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kernel: Option<KernelVersion>,
}

/// Parses a Docker-format profile; errors name the JSON path and bad value.
pub fn parse(json: &str) -> Result<DockerProfile, DockerError> {
    // serde_json's message names the bad value and its line and column.
    serde_json::from_str(json).map_err(|e| DockerError::Parse(e.to_string()))
}

/// Docker's name of a native architecture, as used in `includes.arches`
/// (libseccomp-style: "amd64", "x86", "arm64", ...; moby's `goToNative`).
pub fn docker_arch_name(arch: Arch) -> &'static str {
    match arch {
        Arch::X86 => "x86",
        Arch::X86_64 => "amd64",
        Arch::X32 => "x32",
        Arch::Arm => "arm",
        Arch::Aarch64 => "arm64",
        Arch::Loongarch64 => "loongarch64",
        Arch::Mips => "mips",
        Arch::Mips64 => "mips64",
        Arch::Mips64N32 => "mips64n32",
        Arch::Mipsel => "mipsel",
        Arch::Mipsel64 => "mipsel64",
        // sic: moby spells it so, and profiles match on moby's spelling.
        Arch::Mipsel64N32 => "mips3l64n32",
        Arch::Ppc => "ppc",
        Arch::Ppc64 => "ppc64",
        Arch::Ppc64Le => "ppc64le",
        Arch::Riscv64 => "riscv64",
        Arch::S390 => "s390",
        Arch::S390X => "s390x",
        Arch::Parisc => "parisc",
        Arch::Parisc64 => "parisc64",
        Arch::M68k => "m68k",
        Arch::Sh => "sh",
        Arch::Sheb => "sheb",
    }
}

/// What the resolution depends on: the container's capabilities (bounding
/// set, "CAP_SYS_ADMIN" spelling), the native arch and the host kernel.
#[derive(Debug, Clone, PartialEq)]
pub struct Target<'a> {
    pub caps: &'a [String],
    pub native: Arch,
    pub kernel: KernelVersion,
}

/// Resolves a Docker profile to OCI `linux.seccomp` like Docker Engine.
/// `Ok(None)` means the profile disables seccomp (no default action and no
/// rules), as in Docker.
pub fn to_oci(
    profile: &DockerProfile,
    target: &Target<'_>,
) -> Result<Option<LinuxSeccomp>, DockerError> {
    if profile.default_action.is_none() && profile.syscalls.is_empty() {
        return Ok(None);
    }
    let default_action = profile.default_action.ok_or(DockerError::NoDefaultAction)?;
    if !profile.architectures.is_empty() && !profile.arch_map.is_empty() {
        return Err(DockerError::ArchitecturesAndArchMap);
    }
    let mut out = LinuxSeccomp::new(default_action);
    out.default_errno_ret = profile.default_errno_ret;
    out.architectures = profile.architectures.clone();
    out.flags = profile.flags.clone();
    out.listener_path = profile.listener_path.clone();
    out.listener_metadata = profile.listener_metadata.clone();
    if let Some(entry) = profile
        .arch_map
        .iter()
        .find(|e| e.architecture == target.native)
    {
        out.architectures.push(entry.architecture);
        out.architectures
            .extend(entry.sub_architectures.iter().copied());
    }

    let arch = docker_arch_name(target.native);
    let has_cap = |c: &String| target.caps.iter().any(|have| have == c);
    for (i, call) in profile.syscalls.iter().enumerate() {
        let names = match &call.name {
            Some(n) if !n.is_empty() => {
                if !call.names.is_empty() {
                    return Err(DockerError::NameAndNames(i));
                }
                vec![n.clone()]
            }
            _ => call.names.clone(),
        };
        if let Some(ex) = &call.excludes {
            if ex.arches.iter().any(|a| a == arch)
                || ex.caps.iter().any(has_cap)
                || ex.min_kernel.is_some_and(|m| target.kernel >= m)
            {
                continue;
            }
        }
        if let Some(inc) = &call.includes {
            if (!inc.arches.is_empty() && !inc.arches.iter().any(|a| a == arch))
                || !inc.caps.iter().all(has_cap)
                || inc.min_kernel.is_some_and(|m| target.kernel < m)
            {
                continue;
            }
        }
        out.syscalls.push(Syscall {
            names,
            action: call.action,
            errno_ret: call.errno_ret,
            args: call.args.clone(),
        });
    }
    Ok(Some(out))
}

/// [`parse`] then [`to_oci`].
pub fn load(json: &str, target: &Target<'_>) -> Result<Option<LinuxSeccomp>, DockerError> {
    to_oci(&parse(json)?, target)
}

/// Docker's 14 default capabilities (moby `caps.DefaultCapabilities`).
pub use ward_spec::caps::DOCKER_DEFAULT as DEFAULT_CAPABILITIES;

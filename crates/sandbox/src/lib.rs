//! `ward sandbox -- CMD`: an untrusted host command in a hardened sandbox,
//! no image needed. [`plan`] turns the flags into an OCI [`Spec`] plus the
//! sandbox-only layers ([`Extras`]), one small function per layer, each
//! giving its part of the config together with what `--explain` says about
//! it; [`run`] runs the plan with `ward_runtime::lifecycle::run_ephemeral`
//! — the same pipeline as `ward-oci`, no second implementation of
//! namespaces, mounts, capabilities or seccomp.
//!
//! Every default, and the threat it stops, is listed by [`Plan::layers`]
//! (`ward sandbox --explain`) and in docs/sandbox.md.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::time::Duration;

use ward_init::extras::Extras;
use ward_runtime::lifecycle::CgroupPolicy;
use ward_runtime::Error;
use ward_spec::seccomp::LinuxSeccomp;
use ward_spec::Spec;

mod explain;
mod filesystem;
mod learn;
mod plan;
mod run;

pub use learn::{learn, learned_profile, learning_profile};
pub use plan::plan;
pub use run::{is_not_found, run};
pub use ward_seccomp::sandbox::profile as seccomp_profile;
pub use ward_seccomp::Program;

/// Default `--pids`: enough for a parallel build, a wall for a fork bomb.
pub const DEFAULT_PIDS: i64 = 1024;

/// Environment variables kept from the caller by default.
pub const ENV_ALLOWLIST: &[&str] = &[
    "PATH",
    "HOME",
    "TERM",
    "LANG",
    "LANGUAGE",
    "USER",
    "LOGNAME",
    "TZ",
    "COLORTERM",
    "NO_COLOR",
];

/// Directories hidden behind an empty tmpfs by default: unix sockets stay
/// connectable on a read-only mount (EROFS does not apply to connect(2)),
/// and these are where host daemons keep theirs (docker.sock, containerd,
/// systemd, dbus, the user's /run/user/UID) or their state.
pub const DEFAULT_HIDDEN: &[&str] = &[
    "/run",
    "/var/run",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/lxd",
    "/var/snap/lxd",
];

/// The host uid and gid that root in a sandbox started by root is
/// (nobody/nogroup): an identity that owns no file, so that a file only
/// root may read (/etc/ssl/private/*.key, ward's audit log, a 0600 file
/// in a project) is closed to the command by its permissions, not by a
/// list of paths to mask. `--keep-root` keeps the host's root instead.
pub const ROOT_CALLER_HOST_ID: u32 = 65534;

/// The flags of `ward sandbox`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub command: Vec<String>,
    pub rw: Vec<PathBuf>,
    pub ro: Vec<PathBuf>,
    pub hide: Vec<PathBuf>,
    pub tmpfs: Vec<PathBuf>,
    pub net: bool,
    /// Bytes.
    pub memory: Option<i64>,
    /// None = [`DEFAULT_PIDS`]; Some(0) = no limit.
    pub pids: Option<i64>,
    pub cpus: Option<f64>,
    pub require_limits: bool,
    /// Started by root: keep the host's root as the sandbox's uid instead
    /// of [`ROOT_CALLER_HOST_ID`].
    pub keep_root: bool,
    /// `K=V`.
    pub env: Vec<String>,
    pub keep_env: Vec<String>,
    pub timeout: Option<Duration>,
    pub cwd: Option<PathBuf>,
    /// Proxy a new pty (when ward's stdin and stdout are terminals).
    pub tty: bool,
    /// `--seccomp FILE`: this profile instead of ward's default one.
    pub seccomp: Option<LinuxSeccomp>,
    /// `--learn`: record the syscalls the command makes (see [`learn`]).
    pub learn: bool,
}

/// What ward knows about its caller (the tests build one by hand).
#[derive(Debug, Clone)]
pub struct Host {
    pub uid: u32,
    pub gid: u32,
    pub cwd: PathBuf,
    pub home: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    /// Landlock ABI of the kernel (0: none).
    pub landlock_abi: u32,
}

impl Host {
    pub fn current() -> Result<Host, Error> {
        let cwd = std::env::current_dir().map_err(|e| {
            msg(format!(
                "the current directory: {e} (cd to an existing one)"
            ))
        })?;
        let env: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let home = env
            .iter()
            .find(|(k, _)| k == "HOME")
            .map(|(_, v)| PathBuf::from(v));
        Ok(Host {
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            cwd,
            home,
            env,
            landlock_abi: ward_sys::landlock::abi_version(),
        })
    }
}

/// One layer: what, with which values, and the threat it stops.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Layer {
    pub layer: &'static str,
    pub detail: String,
    pub why: &'static str,
}

/// A sandbox ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spec: Spec,
    pub extras: Extras,
    pub landlock: Option<ward_init::landlock::Rules>,
    pub cgroups: CgroupPolicy,
    pub layers: Vec<Layer>,
    pub notes: Vec<String>,
    /// linux.seccomp is [`seccomp_profile`] unchanged (no --seccomp, no
    /// --learn): the program bins/ward/build.rs compiled from the same
    /// function applies.
    pub default_seccomp: bool,
    /// Root's sandbox run as this host uid and gid ([`ROOT_CALLER_HOST_ID`]).
    pub remapped_to: Option<u32>,
}

/// Parses `--memory`: bytes, or with a k/m/g/t suffix (binary units);
/// more than zero.
pub fn parse_size(s: &str) -> Result<i64, String> {
    match ward_spec::size::parse_bytes(s) {
        Ok(n) if n >= 1 => Ok(n),
        Ok(_) => Err(format!("{s:?} is not a positive size")),
        Err(e) => Err(e),
    }
}

fn msg(m: impl Into<String>) -> Error {
    Error::Msg(m.into())
}

//! Errors of the cgroup manager.
//!
//! Threat: a limit that silently fails to apply leaves the container
//! unbounded, so every failure is an error that names the file, the value,
//! the config field it came from and, where we can tell, the fix.

use std::io;
use std::path::{Path, PathBuf};

/// Result of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, with the path/value and the config field.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Writing a cgroup file failed.
    #[error("writing {value:?} to {}: {} ({field}){}", path.display(), errno_text(source), hint_text(hint))]
    Write {
        path: PathBuf,
        value: String,
        field: String,
        source: io::Error,
        hint: String,
    },
    /// Reading a cgroup file failed or its content made no sense.
    #[error("reading {}: {}{}", path.display(), errno_text(source), hint_text(hint))]
    Read {
        path: PathBuf,
        source: io::Error,
        hint: String,
    },
    /// mkdir/rmdir of a cgroup directory failed.
    #[error("{op} cgroup directory {}: {}{}", path.display(), errno_text(source), hint_text(hint))]
    Dir {
        op: &'static str,
        path: PathBuf,
        source: io::Error,
        hint: String,
    },
    /// `linux.cgroupsPath` (or the container id used for it) is unusable.
    #[error("linux.cgroupsPath {path:?}: {msg}")]
    CgroupsPath { path: String, msg: String },
    /// A resource value this host cannot honour, or that is malformed.
    #[error("{field}: {msg}")]
    Resource { field: String, msg: String },
    /// Validation of `linux.resources` (names the field).
    #[error(transparent)]
    Spec(#[from] ward_spec::Error),
    /// The cgroup layout of the host is not usable.
    #[error("cgroup setup: {0}")]
    Host(String),
    /// The systemd cgroup driver was asked for.
    #[error("the systemd cgroup driver was requested, but {0}")]
    Systemd(String),
    /// Another kernel interaction failed (freezer, bpf, signals).
    #[error("{what}: {msg}")]
    Op { what: String, msg: String },
}

/// "Invalid argument" rather than "Invalid argument (os error 22)".
pub(crate) fn errno_text(e: &io::Error) -> String {
    match e.raw_os_error() {
        Some(code) => nix::errno::Errno::from_raw(code).desc().to_string(),
        None => e.to_string(),
    }
}

fn hint_text(h: &str) -> String {
    if h.is_empty() {
        String::new()
    } else {
        format!("; {h}")
    }
}

/// A suggestion for a failed write, from the errno and the file.
pub(crate) fn write_hint(file: &str, e: &io::Error) -> String {
    let code = e.raw_os_error().unwrap_or(0);
    match code {
        libc::ENOENT => {
            let controller = file.split('.').next().unwrap_or(file);
            format!(
                "the {controller} controller is not available for this cgroup: mount it (v1) or enable it in the parent's cgroup.subtree_control (v2), or remove the setting"
            )
        }
        libc::EACCES | libc::EPERM | libc::EROFS => {
            "no permission: run as root, or delegate the cgroup to this user".into()
        }
        libc::EBUSY if file.starts_with("memory.") => {
            "the cgroup already uses more memory than this limit: raise the limit".into()
        }
        libc::EINVAL if file.starts_with("memory.memsw") => {
            "memory+swap must be >= the memory limit (and the memory limit must be set first)"
                .into()
        }
        libc::EINVAL | libc::ERANGE if file.starts_with("cpuset.") => {
            "the cpus/mems must exist on this host and be a subset of the parent cgroup's (see its cpuset.effective_cpus / effective_mems)".into()
        }
        libc::EINVAL if file.starts_with("cpu.rt_") => {
            "realtime runtime must fit in the parent's realtime budget (cpu.rt_runtime_us)".into()
        }
        libc::ENOSPC if file == "cgroup.procs" => {
            "the cgroup has no cpus/mems, or no internal processes are allowed here".into()
        }
        libc::EOPNOTSUPP => "the kernel does not support this setting".into(),
        _ => String::new(),
    }
}

impl Error {
    pub(crate) fn write(path: &Path, value: &str, field: &str, source: io::Error) -> Error {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let hint = write_hint(&file, &source);
        Error::Write {
            path: path.to_path_buf(),
            value: value.to_string(),
            field: field.to_string(),
            source,
            hint,
        }
    }

    pub(crate) fn read(path: &Path, source: io::Error) -> Error {
        let hint = match source.raw_os_error() {
            Some(libc::ENOENT) => {
                "the file is missing: the controller is not available for this cgroup, or the cgroup was removed".to_string()
            }
            _ => String::new(),
        };
        Error::Read {
            path: path.to_path_buf(),
            source,
            hint,
        }
    }

    pub(crate) fn parse(path: &Path, what: impl std::fmt::Display) -> Error {
        Error::Read {
            path: path.to_path_buf(),
            source: io::Error::new(io::ErrorKind::InvalidData, what.to_string()),
            hint: String::new(),
        }
    }

    pub(crate) fn resource(field: impl Into<String>, msg: impl Into<String>) -> Error {
        Error::Resource {
            field: field.into(),
            msg: msg.into(),
        }
    }

    pub(crate) fn op(what: impl Into<String>, msg: impl Into<String>) -> Error {
        Error::Op {
            what: what.into(),
            msg: msg.into(),
        }
    }

    /// The OS error number behind this error, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            Error::Write { source, .. }
            | Error::Read { source, .. }
            | Error::Dir { source, .. } => source.raw_os_error(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_error_names_file_value_and_field() {
        let e = Error::write(
            Path::new("/sys/fs/cgroup/memory/x/memory.limit_in_bytes"),
            "abc",
            "linux.resources.memory.limit",
            io::Error::from_raw_os_error(libc::EINVAL),
        );
        assert_eq!(
            e.to_string(),
            "writing \"abc\" to /sys/fs/cgroup/memory/x/memory.limit_in_bytes: Invalid argument (linux.resources.memory.limit)"
        );
        let e = Error::write(
            Path::new("/sys/fs/cgroup/x/pids.max"),
            "5",
            "linux.resources.pids.limit",
            io::Error::from_raw_os_error(libc::ENOENT),
        );
        assert!(e.to_string().contains("pids controller"), "{e}");
        assert_eq!(e.errno(), Some(libc::ENOENT));
    }
}

//! The last step: find the program inside the container and execve it.

use std::convert::Infallible;
use std::ffi::CString;
use std::os::fd::AsRawFd;

use nix::unistd::AccessFlags;
use ward_spec::Process;

use crate::{err, Context, Result};

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The program and C strings for execve, prepared before the point of no
/// return so that "not found" is reported by `create`, as runc does.
pub struct Prepared {
    pub(crate) path: CString,
    pub(crate) args: Vec<CString>,
    pub(crate) env: Vec<CString>,
}

/// Resolves `args[0]` with the container's PATH (in the container's root).
pub fn prepare(p: &Process) -> Result<Prepared> {
    let arg0 = p
        .args
        .first()
        .ok_or_else(|| err("exec", "process.args is empty"))?;
    let path = if arg0.contains('/') {
        arg0.clone()
    } else {
        let search = p
            .env
            .iter()
            .find_map(|e| e.strip_prefix("PATH="))
            .unwrap_or(DEFAULT_PATH);
        search
            .split(':')
            .filter(|d| !d.is_empty())
            .map(|d| format!("{}/{arg0}", d.trim_end_matches('/')))
            .find(|cand| is_executable(cand))
            .ok_or_else(|| {
                err(
                    "exec",
                    format!("{arg0:?}: executable file not found in $PATH"),
                )
            })?
    };
    if !is_executable(&path) {
        return Err(err(
            "exec",
            format!("{path:?}: no such executable file in the container"),
        ));
    }
    let cs = |s: &String| {
        CString::new(s.as_bytes()).map_err(|_| err("exec", format!("{s:?} contains a NUL byte")))
    };
    Ok(Prepared {
        path: cs(&path)?,
        args: p.args.iter().map(cs).collect::<Result<_>>()?,
        env: p.env.iter().map(cs).collect::<Result<_>>()?,
    })
}

fn is_executable(path: &str) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file())
        .unwrap_or(false)
        && nix::unistd::access(path, AccessFlags::X_OK).is_ok()
}

/// A clean signal state for the program: done before the seccomp filter is
/// loaded (it is a syscall of the runtime, not of the program).
pub fn reset_signals() -> Result<()> {
    ward_sys::process::reset_signals().layer("exec", || {
        "resetting the signal mask and dispositions".into()
    })
}

/// execve(2), the only syscall of the runtime made under the container's
/// seccomp filter; returns only on failure.
pub fn exec(p: &Prepared) -> Result<Infallible> {
    nix::unistd::execve(&p.path, &p.args, &p.env).layer("exec", || format!("execve {:?}", p.path))
}

/// Marks every fd from 3 + `preserve` close-on-exec and clears the flag on
/// the preserved ones (3 .. 3+preserve), which the caller passed on purpose.
pub fn seal_fds(preserve: u32) -> Result<()> {
    ward_sys::process::cloexec_fds_from(3 + preserve).layer("fds", || "close_range".into())?;
    for fd in 3..3 + preserve {
        let fd = fd as i32;
        // A preserved fd that doesn't exist is the caller's mistake; runc ignores it too.
        let _ = nix::fcntl::fcntl(
            fd,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
        );
    }
    Ok(())
}

/// Makes `fd` the process's stdin, stdout and stderr.
pub fn dup_stdio(fd: &impl AsRawFd) -> Result<()> {
    for target in 0..3 {
        nix::unistd::dup2(fd.as_raw_fd(), target)
            .layer("console", || "dup2 of the terminal".into())?;
    }
    Ok(())
}

//! A plain fork for the sandbox's pid-1 reaper, and resetting inherited
//! signal dispositions before execve.
//!
//! The reaper forks *after* the seccomp filter is loaded, and ward's default
//! profile answers clone3 with ENOSYS (its flags hide behind a pointer), so
//! this is the classic clone(2) with only SIGCHLD: no namespace flags, which
//! the profile allows.

use std::io;

/// What [`fork`] returned in this process.
#[derive(Debug, PartialEq, Eq)]
pub enum Fork {
    /// We are the new process.
    Child,
    /// We are the caller; the child's pid (in our pid namespace).
    Parent(i32),
}

/// clone(SIGCHLD): fork(2) without the C library's atfork handlers.
///
/// Only for single-threaded callers (the container init is one: it was
/// created by clone3 and never starts threads).
pub fn fork() -> io::Result<Fork> {
    // SAFETY: clone with flags = SIGCHLD and a null stack duplicates the
    // calling (single-threaded) process like fork(2): the child continues on
    // a copy of this stack, no memory is shared, and there is no other
    // thread whose locks the child could inherit held.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone,
            libc::SIGCHLD as libc::c_ulong,
            0usize,
            0usize,
            0usize,
            0usize,
        )
    };
    let pid = crate::check(ret)?;
    if pid == 0 {
        return Ok(Fork::Child);
    }
    i32::try_from(pid)
        .map(Fork::Parent)
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))
}

/// Sets every catchable signal back to SIG_DFL.
///
/// Ignored signals stay ignored across execve: a runtime written in Rust
/// ignores SIGPIPE, and without this reset `cmd | head` inside the sandbox
/// would see EPIPE instead of dying the way it does in a shell.
pub fn reset_signal_dispositions() -> io::Result<()> {
    for sig in 1..libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: installing SIG_DFL (no handler function) is
        // async-signal-safe and cannot violate memory safety; `act` is a
        // fully initialised sigaction that outlives the call.
        let ret = unsafe {
            let mut act: libc::sigaction = std::mem::zeroed();
            act.sa_sigaction = libc::SIG_DFL;
            libc::sigaction(sig, &act, std::ptr::null_mut())
        };
        // Signals reserved by the C library (32, 33) refuse with EINVAL.
        if ret < 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EINVAL) {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

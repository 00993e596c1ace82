//! A plain fork (the sandbox's cleanup process), and posix_spawn for the
//! command under the sandbox's pid-1 reaper.
//!
//! The reaper spawns *after* the seccomp filter is loaded, and ward's
//! default profile answers clone3 with ENOSYS (its flags hide behind a
//! pointer): the C library then falls back to clone(2), whose flags
//! (CLONE_VM|CLONE_VFORK, no namespace flags) the profile allows.

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
    // SAFETY: the caller is single-threaded (documented above): there is no
    // other thread whose locks the child could inherit held.
    let pid = unsafe { clone_on_copy(libc::SIGCHLD as libc::c_ulong) }?;
    if pid == 0 {
        return Ok(Fork::Child);
    }
    i32::try_from(pid)
        .map(Fork::Parent)
        .map_err(|_| io::Error::from(io::ErrorKind::InvalidData))
}

/// clone(2) with `flags` and a null stack: like fork(2), the child
/// continues on a copy of this stack and shares no memory. Returns 0 in the
/// child, the child's pid in the caller.
///
/// # Safety
/// In a multi-threaded caller, the child may only make async-signal-safe
/// calls before it execs or exits: locks held by other threads at the
/// clone stay held in its copy.
pub(crate) unsafe fn clone_on_copy(flags: libc::c_ulong) -> io::Result<libc::c_long> {
    // SAFETY: a null stack makes the kernel run the child on a copy of the
    // caller's stack (no CLONE_VM); no pointer is passed.
    let ret = unsafe { libc::syscall(libc::SYS_clone, flags, 0usize, 0usize, 0usize, 0usize) };
    crate::check(ret)
}

/// How [`spawn`] starts the program.
pub struct SpawnAttrs {
    /// Make the child the foreground process group of the terminal on fd 0
    /// (which must be this process's controlling terminal).
    pub foreground: bool,
}

/// posix_spawn(3) of `path` in its own process group, with every signal
/// unblocked and at its default disposition. The C library starts the
/// child with clone(CLONE_VM|CLONE_VFORK): no copy of this process's page
/// tables and no address space to tear down at execve, which a fork of a
/// multi-megabyte static binary pays for twice. Returns the child's pid, or
/// the execve error.
pub fn spawn(
    path: &std::ffi::CStr,
    args: &[std::ffi::CString],
    env: &[std::ffi::CString],
    attrs: &SpawnAttrs,
) -> io::Result<i32> {
    let argv: Vec<*mut libc::c_char> = args
        .iter()
        .map(|a| a.as_ptr() as *mut libc::c_char)
        .chain(std::iter::once(std::ptr::null_mut()))
        .collect();
    let envp: Vec<*mut libc::c_char> = env
        .iter()
        .map(|e| e.as_ptr() as *mut libc::c_char)
        .chain(std::iter::once(std::ptr::null_mut()))
        .collect();
    // SAFETY: the attribute and file-action objects are initialised before
    // use and destroyed on every path; the signal sets are initialised by
    // sigemptyset/sigfillset; `path`, `argv` and `envp` are NUL-terminated
    // strings and NULL-terminated arrays that outlive the call, which the
    // C library only reads.
    unsafe {
        let mut attr: libc::posix_spawnattr_t = std::mem::zeroed();
        let mut fa: libc::posix_spawn_file_actions_t = std::mem::zeroed();
        let e = libc::posix_spawnattr_init(&mut attr);
        if e != 0 {
            return Err(io::Error::from_raw_os_error(e));
        }
        let e = libc::posix_spawn_file_actions_init(&mut fa);
        if e != 0 {
            libc::posix_spawnattr_destroy(&mut attr);
            return Err(io::Error::from_raw_os_error(e));
        }
        let mut none: libc::sigset_t = std::mem::zeroed();
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigfillset(&mut all);
        libc::sigdelset(&mut all, libc::SIGKILL);
        libc::sigdelset(&mut all, libc::SIGSTOP);
        let flags = libc::POSIX_SPAWN_SETPGROUP
            | libc::POSIX_SPAWN_SETSIGMASK
            | libc::POSIX_SPAWN_SETSIGDEF;
        let mut e = libc::posix_spawnattr_setflags(&mut attr, flags as libc::c_short);
        if e == 0 {
            e = libc::posix_spawnattr_setpgroup(&mut attr, 0);
        }
        if e == 0 {
            e = libc::posix_spawnattr_setsigmask(&mut attr, &none);
        }
        if e == 0 {
            e = libc::posix_spawnattr_setsigdefault(&mut attr, &all);
        }
        if e == 0 && attrs.foreground {
            e = libc::posix_spawn_file_actions_addtcsetpgrp_np(&mut fa, 0);
        }
        let mut pid: libc::pid_t = 0;
        if e == 0 {
            e = libc::posix_spawn(
                &mut pid,
                path.as_ptr(),
                &fa,
                &attr,
                argv.as_ptr(),
                envp.as_ptr(),
            );
        }
        libc::posix_spawn_file_actions_destroy(&mut fa);
        libc::posix_spawnattr_destroy(&mut attr);
        if e != 0 {
            return Err(io::Error::from_raw_os_error(e));
        }
        Ok(pid)
    }
}

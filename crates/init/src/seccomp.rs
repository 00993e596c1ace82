//! Loading the seccomp filter that the parent compiled.
//!
//! Threat: the kernel's syscall surface. A filter is the last layer that
//! still holds when a process has every capability its config grants.
//! It is loaded last, right before execve, with or without no_new_privs:
//! an allowlist written for the container's program does not name the
//! runtime's own syscalls (close_range, openat2 ...), and a filter that
//! fakes one's success must not undo a protection (fds left open). Without
//! no_new_privs the kernel demands CAP_SYS_ADMIN: the init keeps it in its
//! effective and permitted sets until execve drops it (pipeline.rs, stage
//! 9). A filter with SCMP_ACT_NOTIFY is loaded before the container reports
//! ready, so its listener reaches the agent (through the runtime) before
//! any notified syscall can block.

use std::os::fd::OwnedFd;

use ward_seccomp::Program;

use crate::{err, Context, Result};

/// Loads a compiled program; returns the notify listener when the program
/// asked for one.
pub fn load(program: &Program) -> Result<Option<OwnedFd>> {
    let listener = ward_sys::seccomp::load_filter(&program.bpf, program.flags)
        .layer("seccomp", || "loading the filter (linux.seccomp)".into())?;
    if listener.is_none() && program.wants_listener() {
        return Err(err("seccomp", "the kernel returned no notify listener"));
    }
    Ok(listener)
}

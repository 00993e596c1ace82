//! Loading the seccomp filter that the parent compiled.
//!
//! Threat: the kernel's syscall surface. A filter is the last layer that
//! still holds when a process has every capability its config grants.
//! It is loaded last (after no_new_privs) so that the runtime's own set-up
//! syscalls are not filtered; without no_new_privs the kernel demands
//! CAP_SYS_ADMIN to load it, so it is loaded before the capability drop,
//! as runc does. A filter with SCMP_ACT_NOTIFY is loaded before the
//! container reports ready, so its listener reaches the agent (through the
//! runtime) before any notified syscall can block.

use std::os::fd::OwnedFd;

use crate::{err, Context, Result};

/// Whether a compiled program asks for a notify listener.
pub fn wants_listener(program: &(Vec<u8>, u32)) -> bool {
    u64::from(program.1) & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER != 0
}

/// Loads a compiled program (BPF bytes and SECCOMP_FILTER_FLAG_*); returns
/// the notify listener when the program asked for one.
pub fn load(program: &(Vec<u8>, u32)) -> Result<Option<OwnedFd>> {
    let listener = ward_sys::seccomp::load_filter(&program.0, program.1)
        .layer("seccomp", || "loading the filter (linux.seccomp)".into())?;
    if listener.is_none() && wants_listener(program) {
        return Err(err("seccomp", "the kernel returned no notify listener"));
    }
    Ok(listener)
}

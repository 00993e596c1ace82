//! Loading the seccomp filter that the parent compiled.
//!
//! Threat: the kernel's syscall surface. A filter is the last layer that
//! still holds when a process has every capability its config grants.
//! It is loaded last (after no_new_privs) so that the runtime's own set-up
//! syscalls are not filtered; without no_new_privs the kernel demands
//! CAP_SYS_ADMIN to load it, so it is loaded before the capability drop,
//! as runc does.

use crate::{err, Context, Result};

/// Loads a compiled program (BPF bytes and SECCOMP_FILTER_FLAG_*).
pub fn load(program: &(Vec<u8>, u32)) -> Result<()> {
    let listener = ward_sys::seccomp::load_filter(&program.0, program.1)
        .layer("seccomp", || "loading the filter (linux.seccomp)".into())?;
    if listener.is_some() {
        return Err(err(
            "seccomp",
            "the filter returned a notify listener, which this build does not hand over",
        ));
    }
    Ok(())
}

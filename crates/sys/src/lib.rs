//! ward-sys: the only crate of ward with `unsafe`.
//!
//! Thin, documented wrappers over the Linux system calls that neither `std`
//! nor `nix` expose safely: clone3, the new mount API, openat2, close_range,
//! pidfds, capabilities, pty peers and seccomp. Each wrapper checks the
//! kernel's answer and turns it into an `io::Result`; each `unsafe` block says
//! why it is sound.

pub mod bpf;
pub mod caps;
pub mod fork;
pub mod fs;
pub mod landlock;
pub mod mount;
pub mod probe;
pub mod process;
pub mod seccomp;
pub mod selfexe;
pub mod socket;
pub mod tty;
pub mod userns;

use std::io;

/// Turns a raw syscall return value into a `Result`, reading errno on -1.
fn check(ret: libc::c_long) -> io::Result<libc::c_long> {
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Turns a syscall that returns a new file descriptor into an `OwnedFd`.
fn check_fd(ret: libc::c_long) -> io::Result<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let fd = check(ret)?;
    let fd = libc::c_int::try_from(fd).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    // SAFETY: the kernel just returned `fd` as a new descriptor owned by this
    // process and by no other object, so the `OwnedFd` is its sole owner.
    Ok(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

/// Converts a Rust string into a C string, refusing interior NULs.
pub fn cstr(s: &str) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(s).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{s:?} contains a NUL byte"),
        )
    })
}

//! System calls that the escape-regression suite's probe program
//! (`tests/probe/main.rs`) makes from inside a container to play the
//! attacker, behind safe wrappers: nothing in ward itself uses them.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// ioctl(fd, TIOCSTI, &byte): pushes `byte` into the input queue of the
/// terminal `fd` as if it had been typed on it (CVE-2017-5226: a container
/// given the caller's terminal types commands into the caller's shell).
///
/// The kernel allows it only on the caller's controlling terminal (or with
/// CAP_SYS_ADMIN), and not at all when the sysctl `dev.tty.legacy_tiocsti`
/// is 0. Errors: EPERM (not our controlling terminal), ENOTTY (not a
/// terminal), EIO (TIOCSTI disabled).
pub fn tiocsti(fd: BorrowedFd<'_>, byte: u8) -> io::Result<()> {
    let b: libc::c_char = byte as libc::c_char;
    // SAFETY: TIOCSTI reads exactly one `char` through its third argument,
    // which points to `b` on our stack and outlives the call; the kernel
    // writes nothing. `fd` is a valid, borrowed descriptor.
    let ret = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSTI, &b as *const libc::c_char) };
    crate::check(libc::c_long::from(ret)).map(drop)
}

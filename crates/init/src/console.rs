//! The container's terminal: a pty from the container's own devpts, its
//! master sent to the caller over `--console-socket` with SCM_RIGHTS,
//! exactly as runc does (containerd and `docker run -t` rely on it).
//!
//! Threat: a pty taken from the host's devpts would let the container reach
//! host terminals; TIOCSTI on a shared terminal injects input into the
//! caller's shell (CVE-2017-5226) — the container's tty is its own.

use std::io::IoSlice;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use ward_spec::ConsoleSize;

use crate::{Context, Result};

/// Opens a new pty in the container's /dev/ptmx; returns (master, slave).
pub fn open_pty() -> Result<(OwnedFd, OwnedFd)> {
    let master = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags_noctty()
        .open("/dev/ptmx")
        .layer("console", || {
            "opening /dev/ptmx (is /dev/pts mounted?)".into()
        })?;
    let master = OwnedFd::from(master);
    let slave = ward_sys::tty::unlock_and_open_peer(master.as_fd())
        .layer("console", || "opening the pty peer".into())?;
    Ok((master, slave))
}

trait NoCtty {
    fn custom_flags_noctty(&mut self) -> &mut Self;
}

impl NoCtty for std::fs::OpenOptions {
    fn custom_flags_noctty(&mut self) -> &mut Self {
        std::os::unix::fs::OpenOptionsExt::custom_flags(self, libc::O_NOCTTY | libc::O_CLOEXEC)
    }
}

/// Sends the master over the console socket (one fd, with the pty's name).
pub fn send_master(socket: BorrowedFd<'_>, master: BorrowedFd<'_>) -> Result<()> {
    let name = ward_sys::tty::pty_number(master)
        .map(|n| format!("/dev/pts/{n}"))
        .unwrap_or_else(|_| "/dev/ptmx".into());
    let fds = [master.as_raw_fd()];
    let iov = [IoSlice::new(name.as_bytes())];
    sendmsg::<()>(
        socket.as_raw_fd(),
        &iov,
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .layer("console", || {
        "sending the pty master over --console-socket".into()
    })?;
    Ok(())
}

/// A new session without a controlling terminal, for a process that has
/// none of its own. TIOCSTI (CVE-2017-5226) pushes input into a terminal
/// only for a process whose controlling terminal it is (or with
/// CAP_SYS_ADMIN): a container given the caller's terminal as stdin can then
/// read and write it, but not type commands into the caller's shell.
pub fn new_session() -> Result<()> {
    nix::unistd::setsid()
        .layer("console", || "setsid".into())
        .map(drop)
}

/// Makes the slave the controlling terminal and stdio of this process.
pub fn become_tty(slave: &OwnedFd, size: Option<ConsoleSize>) -> Result<()> {
    nix::unistd::setsid().layer("console", || "setsid".into())?;
    ward_sys::tty::set_controlling_terminal(slave.as_fd())
        .layer("console", || "TIOCSCTTY".into())?;
    if let Some(sz) = size {
        ward_sys::tty::set_window_size(slave.as_fd(), sz.height, sz.width)
            .layer("console", || "process.consoleSize".into())?;
    }
    crate::exec::dup_stdio(slave)
}

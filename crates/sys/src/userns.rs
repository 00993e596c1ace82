//! A user namespace held only by a file descriptor: the id maps an
//! id-mapped mount needs before the container that will use the same maps
//! exists (`ward run`'s overlay lower layers).

use std::io;
use std::os::fd::OwnedFd;

/// A new user namespace with `uid_map` and `gid_map` (the kernel's
/// `/proc/PID/uid_map` text), returned as an fd of its nsfs file. A child
/// is cloned into the namespace, blocks on a pipe while the maps are
/// written and the fd opened, then exits; it runs no code but close(2),
/// read(2) and _exit(2) (async-signal-safe, so this is sound in a threaded caller).
/// Needs CAP_SETUID/CAP_SETGID over the maps' host ids (the host's root).
pub fn with_maps(uid_map: &str, gid_map: &str) -> io::Result<OwnedFd> {
    let (rd, wr) = nix::unistd::pipe()?;
    use std::os::fd::AsRawFd;
    let (rd_raw, wr_raw) = (rd.as_raw_fd(), wr.as_raw_fd());
    // SAFETY: the child only calls close(2), read(2) and _exit(2), all
    // async-signal-safe (see `clone_on_copy`).
    let pid = unsafe {
        crate::fork::clone_on_copy((libc::CLONE_NEWUSER | libc::SIGCHLD) as libc::c_ulong)
    }?;
    if pid == 0 {
        let mut b = 0u8;
        // SAFETY: the child closes its copy of the write end (else the read
        // never sees EOF), reads into a valid one-byte buffer, and _exit
        // ends it without running the parent's destructors or atexit
        // handlers.
        unsafe {
            libc::close(wr_raw);
            libc::read(rd_raw, (&mut b as *mut u8).cast(), 1);
            libc::_exit(0);
        }
    }
    drop(rd);
    let pid = i32::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    let result = (|| {
        std::fs::write(format!("/proc/{pid}/uid_map"), uid_map)?;
        std::fs::write(format!("/proc/{pid}/gid_map"), gid_map)?;
        std::fs::File::open(format!("/proc/{pid}/ns/user")).map(OwnedFd::from)
    })();
    // Closing the pipe's write end lets the child exit; reap it.
    drop(wr);
    let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None);
    result
}

#[cfg(test)]
mod tests {
    #[test]
    fn maps_are_written() {
        if !nix::unistd::geteuid().is_root() {
            println!("SKIP: needs root");
            return;
        }
        let fd = super::with_maps("0 100000 65536\n", "0 100000 65536\n").expect("userns");
        let link = std::fs::read_link(format!(
            "/proc/self/fd/{}",
            std::os::fd::AsRawFd::as_raw_fd(&fd)
        ))
        .expect("link");
        assert!(link.to_string_lossy().starts_with("user:["), "{link:?}");
    }
}

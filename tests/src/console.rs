//! The `--console-socket` protocol: the runtime connects to a unix socket and
//! sends the pty master with SCM_RIGHTS.

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

/// A listening console socket.
#[derive(Debug)]
pub struct ConsoleSocket {
    listener: UnixListener,
    /// Its path.
    pub path: PathBuf,
}

/// What the runtime sent over the socket.
#[derive(Debug)]
pub struct Received {
    /// The fds received (each owned, closed on drop).
    pub fds: Vec<Fd>,
    /// The bytes that accompanied them.
    pub payload: Vec<u8>,
}

/// A received fd, closed on drop.
#[derive(Debug)]
pub struct Fd(RawFd);

impl ConsoleSocket {
    /// Listen on `path`.
    pub fn bind(path: &Path) -> std::io::Result<ConsoleSocket> {
        let listener = UnixListener::bind(path)?;
        listener.set_nonblocking(true)?;
        Ok(ConsoleSocket {
            listener,
            path: path.to_path_buf(),
        })
    }

    /// Accept one connection (within `timeout`) and read one message with
    /// its SCM_RIGHTS fds.
    pub fn receive(&self, timeout: Duration) -> Result<Received, String> {
        let deadline = Instant::now() + timeout;
        let stream = loop {
            match self.listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    if Instant::now() >= deadline {
                        return Err(format!(
                            "nobody connected to console socket {} within {timeout:?}",
                            self.path.display()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(format!("accept: {e}")),
            }
        };
        stream
            .set_nonblocking(false)
            .map_err(|e| format!("set_nonblocking: {e}"))?;
        stream
            .set_read_timeout(Some(
                deadline
                    .saturating_duration_since(Instant::now())
                    .max(Duration::from_millis(100)),
            ))
            .map_err(|e| format!("set_read_timeout: {e}"))?;
        let mut buf = vec![0u8; 4096];
        let mut cmsg = nix::cmsg_space!([RawFd; 8]);
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = recvmsg::<()>(
            stream.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )
        .map_err(|e| format!("recvmsg on console socket: {e}"))?;
        let mut fds = Vec::new();
        for c in msg.cmsgs().map_err(|e| format!("cmsgs: {e}"))? {
            if let ControlMessageOwned::ScmRights(v) = c {
                fds.extend(v.into_iter().map(Fd));
            }
        }
        let n = msg.bytes;
        Ok(Received {
            fds,
            payload: buf[..n].to_vec(),
        })
    }
}

impl Fd {
    /// The raw fd number.
    pub fn raw(&self) -> RawFd {
        self.0
    }

    /// Is it a terminal?
    pub fn is_tty(&self) -> bool {
        nix::unistd::isatty(self.0).unwrap_or(false)
    }

    /// Read until EOF/EIO (the pty's slave side closed) or `timeout`.
    pub fn read_all(&self, timeout: Duration) -> Result<Vec<u8>, String> {
        let fl = fcntl(self.0, FcntlArg::F_GETFL).map_err(|e| format!("F_GETFL: {e}"))?;
        let fl = OFlag::from_bits_truncate(fl) | OFlag::O_NONBLOCK;
        fcntl(self.0, FcntlArg::F_SETFL(fl)).map_err(|e| format!("F_SETFL: {e}"))?;
        let deadline = Instant::now() + timeout;
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match nix::unistd::read(self.0, &mut buf) {
                Ok(0) | Err(Errno::EIO) => return Ok(out),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(Errno::EAGAIN) => {
                    if Instant::now() >= deadline {
                        return Err(format!(
                            "pty master not closed within {timeout:?}; read so far: {:?}",
                            String::from_utf8_lossy(&out)
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => return Err(format!("read pty master: {e}")),
            }
        }
    }
}

impl Drop for Fd {
    fn drop(&mut self) {
        let _ = nix::unistd::close(self.0);
    }
}

//! Parent <-> child synchronisation over a SOCK_SEQPACKET socketpair.
//!
//! Typed, numbered-by-variant messages; an error in the child travels back
//! as a message, so `create` reports the real cause instead of "init died".

use std::os::fd::{AsFd, OwnedFd};

use nix::sys::socket::{send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::{err, Context, Result};

/// What the container side tells the runtime.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToParent {
    /// A user namespace was unshared: write the id maps of this process.
    NeedMaps,
    /// The intermediate process forked the container init (pid in the parent's pid namespace).
    Forked { pid: i32 },
    /// The rootfs is mounted; run the prestart/createRuntime/createContainer hooks.
    NeedHooks,
    /// Set-up is complete; the init waits for `start`.
    Ready,
    /// The seccomp notify listener (attached as SCM_RIGHTS) for the agent
    /// at linux.seccomp.listenerPath.
    SeccompListener,
    /// Set-up failed.
    Failed { msg: String },
}

/// What the runtime tells the container side.
#[derive(Debug, Serialize, Deserialize)]
pub enum ToChild {
    /// Go on (cgroup joined, id maps written, hooks run); `pid` is the
    /// container init's pid as the runtime sees it (for hook state).
    Go { pid: i32 },
    /// `run`: start the process now (no exec fifo).
    Start,
    /// The id-mapped tree (attached as SCM_RIGHTS) of the bind at this
    /// index of `mounts`: made by the runtime, which alone may id-map a
    /// host filesystem, before the `Go` that follows the id maps.
    IdmappedTree { index: usize },
}

/// One end of the socketpair.
pub struct Channel {
    fd: OwnedFd,
}

/// A connected pair: (parent end, child end), both close-on-exec.
pub fn pair() -> Result<(Channel, Channel)> {
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .layer("handshake", || "socketpair".into())?;
    Ok((Channel { fd: a }, Channel { fd: b }))
}

impl Channel {
    pub fn send<T: Serialize>(&self, msg: &T) -> Result<()> {
        let bytes = serde_json::to_vec(msg).layer("handshake", || "encoding a message".into())?;
        send(
            std::os::fd::AsRawFd::as_raw_fd(&self.fd),
            &bytes,
            MsgFlags::MSG_NOSIGNAL,
        )
        .layer("handshake", || "sending to the other side".into())?;
        Ok(())
    }

    /// Receives one message; `None` when the other side closed the socket.
    pub fn recv<T: DeserializeOwned>(&self) -> Result<Option<T>> {
        Ok(self.recv_with_fd()?.map(|(m, _)| m))
    }

    /// Receives one message and the fd that came with it, if any.
    pub fn recv_with_fd<T: DeserializeOwned>(&self) -> Result<Option<(T, Option<OwnedFd>)>> {
        let (bytes, mut fds) = ward_sys::socket::recv_packet_with_fds(self.fd.as_fd(), 64 * 1024)
            .layer("handshake", || "receiving from the other side".into())?;
        if bytes.is_empty() {
            return Ok(None);
        }
        let msg =
            serde_json::from_slice(&bytes).layer("handshake", || "decoding a message".into())?;
        Ok(Some((
            msg,
            if fds.is_empty() {
                None
            } else {
                Some(fds.swap_remove(0))
            },
        )))
    }

    /// Sends a message with `fd` attached.
    pub fn send_with_fd<T: Serialize>(
        &self,
        msg: &T,
        fd: std::os::fd::BorrowedFd<'_>,
    ) -> Result<()> {
        let bytes = serde_json::to_vec(msg).layer("handshake", || "encoding a message".into())?;
        ward_sys::socket::send_with_fd(self.fd.as_fd(), &bytes, fd)
            .layer("handshake", || "sending an fd to the other side".into())
    }

    /// Receives one message and its fd, treating a closed socket as an error.
    pub fn expect_with_fd<T: DeserializeOwned>(&self) -> Result<(T, Option<OwnedFd>)> {
        self.recv_with_fd()?
            .ok_or_else(|| err("handshake", "the other side exited during set-up"))
    }

    /// Receives one message, treating a closed socket as an error.
    pub fn expect<T: DeserializeOwned>(&self) -> Result<T> {
        self.recv()?
            .ok_or_else(|| err("handshake", "the other side exited during set-up"))
    }
}

impl AsFd for Channel {
    fn as_fd(&self) -> std::os::fd::BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

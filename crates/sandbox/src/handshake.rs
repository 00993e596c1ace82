//! Parent <-> child synchronisation over a SOCK_SEQPACKET socketpair.
//!
//! Typed, numbered-by-variant messages; an error in the child travels back
//! as a message, so `create` reports the real cause instead of "init died".

use std::os::fd::{AsFd, OwnedFd};

use nix::sys::socket::{recv, send, socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
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
        let mut buf = vec![0u8; 64 * 1024];
        let n = loop {
            match recv(
                std::os::fd::AsRawFd::as_raw_fd(&self.fd),
                &mut buf,
                MsgFlags::empty(),
            ) {
                Err(nix::errno::Errno::EINTR) => continue,
                r => break r.layer("handshake", || "receiving from the other side".into())?,
            }
        };
        if n == 0 {
            return Ok(None);
        }
        serde_json::from_slice(&buf[..n])
            .map(Some)
            .layer("handshake", || "decoding a message".into())
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

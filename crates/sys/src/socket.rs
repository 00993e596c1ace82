//! Receiving file descriptors over unix sockets (SCM_RIGHTS).

use std::io::{self, IoSliceMut};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};

/// Receives one message carrying one fd; returns the fd (close-on-exec)
/// and the message bytes. Extra fds in the message are closed.
pub fn recv_fd(sock: BorrowedFd<'_>) -> io::Result<(OwnedFd, Vec<u8>)> {
    let mut buf = vec![0u8; 4096];
    let mut received = Vec::new();
    let n = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 4]);
        let msg = recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        )?;
        for c in msg.cmsgs()? {
            if let ControlMessageOwned::ScmRights(fds) = c {
                received.extend(fds);
            }
        }
        msg.bytes
    };
    // SAFETY: each fd was just installed in our fd table by the kernel for
    // this message (SCM_RIGHTS); nothing else refers to it, so each becomes
    // the sole owner here, exactly once.
    let mut owned: Vec<OwnedFd> = received
        .into_iter()
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect();
    buf.truncate(n);
    if owned.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "no file descriptor in the message",
        ));
    }
    Ok((owned.swap_remove(0), buf))
}

/// Receives one message and every fd that came with it (close-on-exec).
/// Returns empty bytes and no fds when the peer closed the socket.
pub fn recv_with_fds(sock: BorrowedFd<'_>, max: usize) -> io::Result<(Vec<u8>, Vec<OwnedFd>)> {
    recv_into_with_fds(sock, vec![0u8; max])
}

/// [`recv_with_fds`] for a packet socket (SOCK_SEQPACKET): the buffer has
/// the size of the next message (at most `max` bytes), read first with
/// MSG_PEEK|MSG_TRUNC. A buffer of `max` bytes would be zeroed page by page
/// for messages of a few dozen bytes; 0 means the peer closed (the
/// protocol must not send empty messages).
pub fn recv_packet_with_fds(
    sock: BorrowedFd<'_>,
    max: usize,
) -> io::Result<(Vec<u8>, Vec<OwnedFd>)> {
    let len = loop {
        match nix::sys::socket::recv(
            sock.as_raw_fd(),
            &mut [],
            MsgFlags::MSG_PEEK | MsgFlags::MSG_TRUNC,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(n) => break n,
        }
    };
    recv_into_with_fds(sock, vec![0u8; len.clamp(1, max.max(1))])
}

fn recv_into_with_fds(
    sock: BorrowedFd<'_>,
    mut buf: Vec<u8>,
) -> io::Result<(Vec<u8>, Vec<OwnedFd>)> {
    let mut received = Vec::new();
    let n = loop {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 4]);
        match recvmsg::<()>(
            sock.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(msg) => {
                for c in msg.cmsgs()? {
                    if let ControlMessageOwned::ScmRights(fds) = c {
                        received.extend(fds);
                    }
                }
                break msg.bytes;
            }
        }
    };
    // SAFETY: each fd was just installed in our fd table by the kernel for
    // this message (SCM_RIGHTS); nothing else refers to it.
    let owned = received
        .into_iter()
        .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) })
        .collect();
    buf.truncate(n);
    Ok((buf, owned))
}

/// Sends `bytes` with `fd` attached (SCM_RIGHTS).
pub fn send_with_fd(sock: BorrowedFd<'_>, bytes: &[u8], fd: BorrowedFd<'_>) -> io::Result<()> {
    let fds = [fd.as_raw_fd()];
    let iov = [std::io::IoSlice::new(bytes)];
    nix::sys::socket::sendmsg::<()>(
        sock.as_raw_fd(),
        &iov,
        &[nix::sys::socket::ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )?;
    Ok(())
}

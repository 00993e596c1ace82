//! Waiting for a foreground process (`run`, `exec` without --detach):
//! signals are forwarded to it, a terminal is proxied, and its exit status
//! becomes ours (128 + signal when it was killed, like a shell).

use std::io::Write;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

use crate::{Ctx, Result};

/// Signals that are forwarded (everything a shell could send us).
fn forwarded() -> SigSet {
    let mut set = SigSet::all();
    set.remove(Signal::SIGKILL);
    set.remove(Signal::SIGSTOP);
    set.remove(Signal::SIGSEGV);
    set.remove(Signal::SIGBUS);
    set.remove(Signal::SIGILL);
    set.remove(Signal::SIGFPE);
    set
}

/// Blocks the forwarded signals so they queue on a signalfd. Call before
/// the process starts, so no signal is lost in between.
pub fn block_signals() -> Result<SignalFd> {
    let set = forwarded();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_BLOCK, Some(&set), None)
        .ctx(|| "blocking signals".into())?;
    SignalFd::with_flags(&set, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .ctx(|| "signalfd".into())
}

/// Exit code of a wait status, shell style.
pub fn exit_code(st: WaitStatus) -> i32 {
    match st {
        WaitStatus::Exited(_, code) => code,
        WaitStatus::Signaled(_, sig, _) => 128 + sig as i32,
        _ => 1,
    }
}

/// Waits for `pid` (our child), forwarding signals and proxying `tty`.
pub fn wait(pid: i32, pidfd: BorrowedFd<'_>, sfd: &SignalFd, tty: Option<&OwnedFd>) -> Result<i32> {
    let raw = tty.and_then(|_| RawMode::enter());
    if let (Some(t), Ok((rows, cols))) = (tty, ward_sys::tty::window_size(std::io::stdin().as_fd()))
    {
        let _ = ward_sys::tty::set_window_size(t.as_fd(), rows, cols);
    }
    let mut stdin_open = tty.is_some();
    let mut buf = [0u8; 8192];
    let stdin = std::io::stdin();
    loop {
        let mut fds = vec![
            PollFd::new(pidfd, PollFlags::POLLIN),
            PollFd::new(sfd.as_fd(), PollFlags::POLLIN),
        ];
        if let Some(t) = tty {
            fds.push(PollFd::new(t.as_fd(), PollFlags::POLLIN));
            if stdin_open {
                fds.push(PollFd::new(stdin.as_fd(), PollFlags::POLLIN));
            }
        }
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            r => r.ctx(|| "poll".into())?,
        };
        let ready: Vec<bool> = fds
            .iter()
            .map(|f| f.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        if ready.get(2) == Some(&true) {
            if let Some(t) = tty {
                match nix::unistd::read(t.as_raw_fd(), &mut buf) {
                    Ok(n) if n > 0 => {
                        let _ = std::io::stdout().write_all(&buf[..n]);
                        let _ = std::io::stdout().flush();
                    }
                    _ => {}
                }
            }
        }
        if ready.get(3) == Some(&true) {
            if let Some(t) = tty {
                match nix::unistd::read(stdin.as_raw_fd(), &mut buf) {
                    Ok(0) | Err(_) => stdin_open = false,
                    Ok(n) => {
                        let _ = nix::unistd::write(t.as_fd(), &buf[..n]);
                    }
                }
            }
        }
        if ready[1] {
            while let Ok(Some(info)) = sfd.read_signal() {
                let sig = info.ssi_signo as i32;
                if sig == libc::SIGCHLD {
                    continue;
                }
                if sig == libc::SIGWINCH {
                    if let (Some(t), Ok((rows, cols))) =
                        (tty, ward_sys::tty::window_size(std::io::stdin().as_fd()))
                    {
                        let _ = ward_sys::tty::set_window_size(t.as_fd(), rows, cols);
                    }
                    continue;
                }
                let _ = ward_sys::process::pidfd_send_signal(pidfd, sig);
            }
        }
        if ready[0] {
            if let Some(t) = tty {
                // Drain what the process wrote before it exited.
                while let Ok(n) = nix::unistd::read(t.as_raw_fd(), &mut buf) {
                    if n == 0 {
                        break;
                    }
                    let _ = std::io::stdout().write_all(&buf[..n]);
                }
                let _ = std::io::stdout().flush();
            }
            let st =
                waitpid(Pid::from_raw(pid), None).ctx(|| "waiting for the container".into())?;
            drop(raw);
            return Ok(exit_code(st));
        }
    }
}

/// The caller's terminal in raw mode while a container tty is proxied.
struct RawMode {
    saved: nix::sys::termios::Termios,
}

impl RawMode {
    fn enter() -> Option<RawMode> {
        let stdin = std::io::stdin();
        let saved = nix::sys::termios::tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        nix::sys::termios::cfmakeraw(&mut raw);
        nix::sys::termios::tcsetattr(stdin.as_fd(), nix::sys::termios::SetArg::TCSANOW, &raw)
            .ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = nix::sys::termios::tcsetattr(
            std::io::stdin().as_fd(),
            nix::sys::termios::SetArg::TCSANOW,
            &self.saved,
        );
    }
}

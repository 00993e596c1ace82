//! Layers of `ward sandbox` that an OCI container does not get: every one
//! is off by default ([`Extras::default`]), so `ward-oci` is unchanged.
//!
//! - a recursively read-only, nosuid, nodev rootfs: `ward sandbox` uses the
//!   host's own root, whose submounts (/home, /boot, /var ...) `root.readonly`
//!   would leave writable (it only flips the top mount, as runc does);
//! - staying the invoking uid inside the user namespace (a one-line map
//!   uid→uid is all an unprivileged user can write), instead of becoming 0;
//! - keeping the parent-death signal through execve (a sandbox dies with the
//!   `ward` that started it; `ward-oci create` must outlive its caller);
//! - a pid-1 reaper: the command runs as pid 2. The kernel drops signals
//!   that a pid namespace's init has no handler for — even SIGTERM/SIGINT
//!   from outside — so a command that is pid 1 cannot be stopped with
//!   Ctrl-C; the reaper forwards every signal, reaps orphans, enforces the
//!   timeout and exits with the command's status (128+signal when killed).

use std::convert::Infallible;
use std::os::fd::{AsFd, BorrowedFd};
use std::time::{Duration, Instant};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use ward_sys::mount as m;

use crate::exec::Prepared;
use crate::{Context, Result};

/// The pid-1 reaper's settings.
#[derive(Debug, Clone, Default)]
pub struct Reaper {
    /// Kill everything and exit 124 (like timeout(1)) after this long.
    pub timeout: Option<Duration>,
}

/// Sandbox-only layers; all off by default.
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Stage 3: the cloned rootfs tree (with all its submounts) becomes
    /// read-only, nosuid and nodev before the config's mounts are attached
    /// (so /tmp, /dev and the `--rw` binds keep their own flags).
    pub rootfs_recursive_readonly: bool,
    /// Stage 2: do not become uid/gid 0 in the new user namespace; the
    /// process keeps the ids it was mapped to (process.user must match).
    pub keep_ids: bool,
    /// Stage 8: keep PR_SET_PDEATHSIG(SIGKILL) through execve.
    pub keep_death_signal: bool,
    /// Stage 9: spawn the command under a pid-1 reaper.
    pub reaper: Option<Reaper>,
    /// Stages 1–7: asks that the runtime's `place` (making, limiting and
    /// joining the cgroup; `ward sandbox` also forks its cleanup process
    /// there) run while the init sets up its mounts, instead of before; the
    /// init waits for it before stage 7 (cgroup namespace, then nothing
    /// forks or execs before that). [`crate::CgroupJoin::decide`] grants it
    /// (fast path, no cgroup mounts, no set-up hooks, not on cgroup v2).
    pub join_cgroup_during_setup: bool,
}

/// Stage 3: makes the whole cloned rootfs tree read-only, nosuid, nodev.
pub fn readonly_tree(x: &Extras, root: BorrowedFd<'_>) -> Result<()> {
    if !x.rootfs_recursive_readonly {
        return Ok(());
    }
    m::mount_setattr(
        root,
        true,
        m::MOUNT_ATTR_RDONLY | m::MOUNT_ATTR_NOSUID | m::MOUNT_ATTR_NODEV,
        0,
        0,
    )
    .layer("rootfs", || {
        "making the rootfs and all its submounts read-only, nosuid, nodev".into()
    })
}

/// Stage 9, the very end: execve, under the reaper when one is asked for.
pub fn exec(x: &Extras, program: &Prepared) -> Result<Infallible> {
    let Some(reaper) = &x.reaper else {
        return crate::exec::exec(program);
    };
    // Block everything first: no signal may slip between spawn and signalfd.
    let all = SigSet::all();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&all), None)
        .layer("reaper", || "blocking signals".into())?;
    let sfd = SignalFd::with_flags(&all, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .layer("reaper", || "signalfd".into())?;
    // The command gets its own process group, in the foreground of the
    // sandbox's terminal when that is ours: Ctrl-C reaches the command once
    // (the tty's signals go to the foreground group, not to the reaper).
    // posix_spawn (vfork-style) instead of fork + execve: no copy of this
    // process's address space, and none to tear down at execve.
    let foreground = nix::unistd::tcgetpgrp(std::io::stdin()).is_ok();
    let spawned = ward_sys::fork::spawn(
        &program.path,
        &program.args,
        &program.env,
        &ward_sys::fork::SpawnAttrs { foreground },
    );
    match spawned.layer("exec", || format!("execve {:?}", program.path)) {
        Ok(child) => reap(child, reaper.timeout, &sfd),
        Err(e) => {
            // The caller is no longer listening: say it here, shell style.
            eprintln!("ward sandbox: {e}");
            let code = if e.msg.contains("No such file") {
                127
            } else {
                126
            };
            ward_sys::process::exit_now(code);
        }
    }
}

/// The reaper's loop: forwards signals to the command, reaps every orphan,
/// exits with the command's status. Exiting as pid 1 kills whatever is
/// left in the pid namespace.
fn reap(child: i32, timeout: Option<Duration>, sfd: &SignalFd) -> ! {
    let deadline = timeout.map(|t| Instant::now() + t);
    loop {
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::Exited(pid, code)) if pid.as_raw() == child => {
                    ward_sys::process::exit_now(code)
                }
                Ok(WaitStatus::Signaled(pid, sig, _)) if pid.as_raw() == child => {
                    ward_sys::process::exit_now(128 + sig as i32)
                }
                Ok(WaitStatus::StillAlive) => break,
                Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => ward_sys::process::exit_now(1),
            }
        }
        let wait = match deadline {
            None => PollTimeout::NONE,
            Some(d) => {
                let left = d.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    let secs = timeout.map(|t| t.as_secs_f64()).unwrap_or_default();
                    eprintln!("ward sandbox: --timeout {secs}s expired: killed the command");
                    ward_sys::process::exit_now(124);
                }
                PollTimeout::try_from(left.as_millis().clamp(1, i32::MAX as u128) as i32)
                    .unwrap_or(PollTimeout::MAX)
            }
        };
        let mut fds = [PollFd::new(sfd.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, wait);
        while let Ok(Some(info)) = sfd.read_signal() {
            let sig = info.ssi_signo as i32;
            if sig == libc::SIGCHLD {
                continue;
            }
            if let Ok(s) = Signal::try_from(sig) {
                let _ = nix::sys::signal::kill(Pid::from_raw(child), s);
            }
        }
    }
}

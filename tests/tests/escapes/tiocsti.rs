//! CVE-2017-5226 (TIOCSTI): typing into the caller's terminal.
//!
//! Attack: a container started from an interactive shell without
//! `process.terminal` inherits that shell's terminal as stdin. If the
//! container's process is still in the shell's session, the terminal is its
//! controlling terminal, and ioctl(0, TIOCSTI, c) pushes characters into the
//! terminal's input queue: when the container exits, the shell reads and
//! runs the attacker's command line, on the host.
//!
//! Defence: crates/init/src/console.rs `new_session` (called from
//! pipeline.rs for a process without a terminal): the container's init and
//! every `exec`'d process start a new session with setsid(), so the
//! inherited terminal is not their controlling terminal and TIOCSTI fails
//! with EPERM (the container has no CAP_SYS_ADMIN). `ward sandbox`'s
//! seccomp profile also denies TIOCSTI and TIOCLINUX
//! (crates/seccomp/src/sandbox.rs); the OCI configs here have none.
//!
//! The test is the caller: it makes a pty pair, runs `setsid -c sh -c
//! 'RUNTIME run ...'` with the pty slave as stdin (sh, the session leader,
//! plays the interactive shell), and the container's probe tries TIOCSTI;
//! then the test reads the terminal's input queue. Control (the "weakened
//! setup"): the probe run directly in that session, without a container,
//! does inject — proof that the check sees an injection.

use std::fs::File;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::fcntl::OFlag;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use ward_tests::runtime::which;
use ward_tests::{ctx, say, skip, Ctx};

use crate::common::*;

const INJECT: &str = "echo PWNED-BY-TIOCSTI\n";

/// A pty pair: the master and the slave (both close-on-exec), the slave
/// in raw mode so that injected bytes are readable at once.
fn pty() -> (nix::pty::PtyMaster, File) {
    let master = nix::pty::posix_openpt(OFlag::O_RDWR | OFlag::O_NOCTTY | OFlag::O_CLOEXEC)
        .expect("posix_openpt");
    nix::pty::grantpt(&master).expect("grantpt");
    nix::pty::unlockpt(&master).expect("unlockpt");
    let name = nix::pty::ptsname_r(&master).expect("ptsname");
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOCTTY | libc::O_CLOEXEC)
        .open(&name)
        .expect("open pty slave");
    let mut t = nix::sys::termios::tcgetattr(slave.as_fd()).expect("tcgetattr");
    nix::sys::termios::cfmakeraw(&mut t);
    nix::sys::termios::tcsetattr(slave.as_fd(), nix::sys::termios::SetArg::TCSANOW, &t)
        .expect("tcsetattr");
    (master, slave)
}

/// Runs `setsid -c sh -c CMD` with the slave as stdin (sh is the session
/// leader, the slave its controlling terminal) and output to `out`; returns
/// what was written to `out` and the bytes then waiting in the terminal's
/// input queue.
fn in_session(ctx: &Ctx, setsid: &Path, cmd: &str, tag: &str) -> (String, String) {
    let (_master, slave) = pty();
    let out = ctx.path(&format!("{tag}.out"));
    let f = File::create(&out).expect("create output file");
    let mut child = Command::new(setsid)
        .args(["-c", "/bin/sh", "-c", cmd])
        .stdin(Stdio::from(slave.try_clone().expect("dup slave")))
        .stdout(Stdio::from(f.try_clone().expect("dup out")))
        .stderr(Stdio::from(f))
        .current_dir(&ctx.dir)
        .spawn()
        .expect("spawn setsid");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("`{cmd}` did not finish within 30 s: {}", read(&out));
            }
        }
    }
    // What the "shell" would read next from its terminal.
    let mut queued = Vec::new();
    let mut fds = [PollFd::new(slave.as_fd(), PollFlags::POLLIN)];
    while poll(&mut fds, PollTimeout::from(300u16)).unwrap_or(0) > 0 {
        let mut buf = [0u8; 256];
        match nix::unistd::read(slave.as_raw_fd(), &mut buf) {
            Ok(n) if n > 0 => queued.extend_from_slice(&buf[..n]),
            _ => break,
        }
    }
    (read(&out), String::from_utf8_lossy(&queued).into_owned())
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[test]
fn container_cannot_type_into_the_callers_terminal() {
    let ctx = ctx!("cve-2017-5226-tiocsti");
    let Some(setsid) = which("setsid") else {
        skip!(ctx, "setsid (util-linux) is not installed");
    };
    let legacy = read(Path::new("/proc/sys/dev/tty/legacy_tiocsti"));

    // Control: the probe in the terminal's session, no container.
    let probe_cmd = format!(
        "{} tiocsti {}",
        quote(&probe().display().to_string()),
        quote(INJECT)
    );
    let (out, queued) = in_session(&ctx, &setsid, &probe_cmd, "control");
    if queued.contains(INJECT.trim()) {
        weakened_works(
            &ctx.name,
            "no container: a process in the terminal's session",
            &format!("typed {queued:?} into the terminal ({})", out.trim()),
        );
    } else {
        weakened_skip(
            &ctx.name,
            "no container: a process in the terminal's session",
            &format!(
                "TIOCSTI does not work on this host at all (dev.tty.legacy_tiocsti={}): {}",
                legacy.trim(),
                out.trim()
            ),
        );
    }

    // The runtime under test, run in the foreground from that "shell".
    let b = ctx.bundle(&["/bin/ward-probe", "tiocsti", INJECT]);
    install_probe(&b);
    b.save().expect("save config");
    let id = ctx.id("tiocsti");
    let cmd = format!(
        "{} --root {} run --bundle {} {}",
        quote(&ctx.rt.name()),
        quote(&ctx.root.display().to_string()),
        quote(&b.dir.display().to_string()),
        id
    );
    let (out, queued) = in_session(&ctx, &setsid, &cmd, "runtime");
    say(&format!(
        "{}: container: {}; terminal input queue: {queued:?}",
        ctx.name,
        out.trim().replace('\n', " | ")
    ));
    if queued.contains(INJECT.trim())
        && known_vulnerable(
            &ctx,
            &format!(
                "the container typed {queued:?} into the caller's terminal with TIOCSTI \
                 (its process is in the caller's session: no setsid): {}",
                out.trim()
            ),
        )
    {
        return;
    }
    assert!(
        !queued.contains(INJECT.trim()),
        "the container typed into the caller's terminal: {queued:?}; {out}"
    );
    assert!(
        out.contains("tiocsti: failed"),
        "the probe did not report a refused TIOCSTI: {out}"
    );
}

//! `ward sandbox --learn`: run the command under ward's default profile
//! with every allowed syscall reported to ward (SCMP_ACT_NOTIFY, answered
//! with CONTINUE), and write the minimal profile for what it did.

use ward_runtime::lifecycle::Ephemeral;
use ward_runtime::Error;
use ward_spec::seccomp::{Action, LinuxSeccomp, Syscall};

use crate::{msg, seccomp_profile, Plan};

type Result<T> = std::result::Result<T, Error>;

/// Syscalls the init makes between loading a notify filter and ward
/// receiving its listener (sending it, waiting for the go-ahead, the
/// allocator): notifying them would deadlock, so a learning profile lets
/// them through and every learned profile allows them.
const LEARN_UNOBSERVED: &[&str] = &[
    "sendmsg",
    "recvmsg",
    "recvfrom",
    "read",
    "write",
    "close",
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "madvise",
    "futex",
    "rt_sigprocmask",
];

/// `base` with every allowing rule turned into SCMP_ACT_NOTIFY (except
/// [`LEARN_UNOBSERVED`]): what `base` denies stays denied, what it allows
/// is reported to ward, which lets it run (CONTINUE).
pub fn learning_profile(base: &LinuxSeccomp) -> LinuxSeccomp {
    let mut p = base.clone();
    let mut direct = Vec::new();
    for rule in &mut p.syscalls {
        if rule.action != Action::Allow {
            continue;
        }
        if rule.args.is_empty() {
            direct.extend(
                rule.names
                    .iter()
                    .filter(|n| LEARN_UNOBSERVED.contains(&n.as_str()))
                    .cloned(),
            );
            rule.names
                .retain(|n| !LEARN_UNOBSERVED.contains(&n.as_str()));
        }
        rule.action = Action::Notify;
    }
    p.syscalls.retain(|r| !r.names.is_empty());
    if !direct.is_empty() {
        p.syscalls.push(Syscall {
            names: direct,
            action: Action::Allow,
            errno_ret: None,
            args: Vec::new(),
        });
    }
    p
}

/// The minimal profile for the syscalls `seen` (numbers, native ABI):
/// default EPERM, the seen names (and [`LEARN_UNOBSERVED`]) allowed as
/// `base` allows them — `ioctl` keeps `base`'s argument rules, so TIOCSTI
/// stays denied.
pub fn learned_profile(
    base: &LinuxSeccomp,
    seen: &std::collections::BTreeSet<i32>,
) -> LinuxSeccomp {
    let mut names: std::collections::BTreeSet<String> = seen
        .iter()
        .filter_map(|nr| ward_seccomp::syscall_name(*nr))
        .collect();
    names.extend(LEARN_UNOBSERVED.iter().map(|s| s.to_string()));
    let mut plain = Vec::new();
    let mut rules = Vec::new();
    for name in names {
        let base_rules: Vec<&Syscall> = base
            .syscalls
            .iter()
            .filter(|r| r.action == Action::Allow && r.names.contains(&name))
            .collect();
        if base_rules.iter().any(|r| r.args.is_empty()) {
            plain.push(name);
        } else {
            for r in base_rules {
                rules.push(Syscall {
                    names: vec![name.clone()],
                    ..r.clone()
                });
            }
        }
    }
    let mut syscalls = vec![Syscall {
        names: plain,
        action: Action::Allow,
        errno_ret: None,
        args: Vec::new(),
    }];
    syscalls.extend(rules);
    LinuxSeccomp {
        default_action: Action::Errno,
        default_errno_ret: Some(libc::EPERM as u32),
        architectures: base.architectures.clone(),
        flags: Vec::new(),
        listener_path: None,
        listener_metadata: None,
        syscalls,
    }
}

/// Runs the plan (made with `Options::learn`) and answers every
/// notification with CONTINUE, recording the syscall; returns the run and
/// the minimal profile for what the command did. Learning only: CONTINUE
/// is not a security decision (seccomp_unotify(2)).
pub fn learn(plan: &Plan) -> Result<(Ephemeral, LinuxSeccomp)> {
    use std::os::fd::AsFd;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let mut threads = Vec::new();
    let mut on_listener = |listener: std::os::fd::OwnedFd| {
        let seen = seen.clone();
        threads.push(std::thread::spawn(move || {
            use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
            loop {
                let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => return,
                }
                let ev = fds[0].revents().unwrap_or(PollFlags::empty());
                if ev.contains(PollFlags::POLLIN) {
                    match ward_sys::seccomp::notif_recv(listener.as_fd()) {
                        Ok(n) => {
                            if let Ok(mut s) = seen.lock() {
                                s.insert(n.data.nr);
                            }
                            // The caller may have died meanwhile: ENOENT.
                            let _ =
                                ward_sys::seccomp::notif_respond_continue(listener.as_fd(), n.id);
                        }
                        Err(e)
                            if matches!(
                                e.raw_os_error(),
                                Some(libc::EINTR) | Some(libc::ENOENT)
                            ) => {}
                        Err(_) => return,
                    }
                } else if ev.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
                    // No process uses the filter any more.
                    return;
                }
            }
        }));
    };
    // Compiled here: ward itself answers the notifications, there is no
    // listenerPath (which the generic path demands for SCMP_ACT_NOTIFY).
    let profile = plan
        .spec
        .linux
        .as_ref()
        .and_then(|l| l.seccomp.as_ref())
        .filter(|p| p.uses_notify())
        .ok_or_else(|| msg("--learn: the plan has no learning seccomp profile"))?;
    let f = ward_seccomp::compile(profile, &ward_seccomp::CompileOptions::default())
        .map_err(|e| msg(format!("--learn: compiling the learning profile: {e}")))?;
    let r = crate::run::run_plan(plan, Some(f.into_program()), Some(&mut on_listener))?;
    for t in threads {
        let _ = t.join();
    }
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    Ok((r, learned_profile(&seccomp_profile(), &seen)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ward_seccomp::bpf::{SeccompData, AUDIT_ARCH_X86_64};

    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_NOTIFY: u32 = 0x7fc0_0000;
    const RET_ERRNO_EPERM: u32 = 0x0005_0000 | 1;

    fn eval(p: &LinuxSeccomp, nr: i64, args: [u64; 6]) -> u32 {
        let f = ward_seccomp::compile(p, &Default::default()).expect("compiles");
        f.evaluate(&SeccompData::new(AUDIT_ARCH_X86_64, nr as i32, args))
            .expect("evaluates")
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn learning_notifies_allowed_keeps_denied_and_lets_the_handshake_through() {
        let p = learning_profile(&seccomp_profile());
        assert_eq!(eval(&p, libc::SYS_getpid, [0; 6]), RET_NOTIFY);
        assert_eq!(eval(&p, libc::SYS_sendmsg, [0; 6]), RET_ALLOW);
        assert_eq!(eval(&p, libc::SYS_mount, [0; 6]), RET_ERRNO_EPERM);
        assert_eq!(
            eval(&p, libc::SYS_ioctl, [0, 0x5412, 0, 0, 0, 0]),
            RET_ERRNO_EPERM
        );
        assert_eq!(
            eval(&p, libc::SYS_ioctl, [0, 0x5401, 0, 0, 0, 0]),
            RET_NOTIFY
        );
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn learned_profile_allows_what_was_seen_and_keeps_tiocsti_denied() {
        let seen = [libc::SYS_getpid, libc::SYS_ioctl]
            .iter()
            .map(|n| *n as i32)
            .collect();
        let p = learned_profile(&seccomp_profile(), &seen);
        assert_eq!(p.default_action, Action::Errno);
        assert_eq!(eval(&p, libc::SYS_getpid, [0; 6]), RET_ALLOW);
        assert_eq!(eval(&p, libc::SYS_write, [0; 6]), RET_ALLOW);
        assert_eq!(eval(&p, libc::SYS_getppid, [0; 6]), RET_ERRNO_EPERM);
        assert_eq!(
            eval(&p, libc::SYS_ioctl, [0, 0x5401, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            eval(&p, libc::SYS_ioctl, [0, 0x5412, 0, 0, 0, 0]),
            RET_ERRNO_EPERM
        );
    }
}

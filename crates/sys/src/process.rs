//! Processes: clone3 into namespaces and cgroups, pidfds, prctl, close_range.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

/// What [`clone3`] returned in this process.
#[derive(Debug)]
pub enum Forked {
    /// We are the new process.
    Child,
    /// We are the caller; the child's pid (in our pid namespace) and a pidfd.
    Parent { pid: i32, pidfd: OwnedFd },
}

#[repr(C)]
#[derive(Default)]
struct CloneArgs {
    flags: u64,
    pidfd: u64,
    child_tid: u64,
    parent_tid: u64,
    exit_signal: u64,
    stack: u64,
    stack_size: u64,
    tls: u64,
    set_tid: u64,
    set_tid_size: u64,
    cgroup: u64,
}

/// clone3 flag: start the child in the cgroup v2 directory given by fd.
pub const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// The fields of `/proc/PID/stat` that ward reads (proc(5)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Field 3: R, S, D, Z, X, ...
    pub state: char,
    /// Field 20.
    pub num_threads: u64,
    /// Field 22: clock ticks after boot; with the pid it names one process
    /// (a pid is reused, a pid and a start time are not).
    pub start_time: u64,
}

/// Parses the text of a `/proc/PID/stat`. Field 2, the command name in
/// parentheses, may contain anything — spaces, `)`, digits — so the fields
/// are counted after its *last* `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let after = text.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // fields[0] is field 3.
    let field = |n: usize| fields.get(n - 3).copied();
    Some(Stat {
        state: field(3)?.chars().next()?,
        num_threads: field(20)?.parse().ok()?,
        start_time: field(22)?.parse().ok()?,
    })
}

/// `/proc/ENTRY/stat`, where `entry` is a pid or `self` as /proc names
/// them. A process that is gone is an error of kind NotFound.
pub fn read_stat(entry: &str) -> io::Result<Stat> {
    let valid = entry == "self" || (!entry.is_empty() && entry.bytes().all(|b| b.is_ascii_digit()));
    if !valid {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{entry:?} is not a pid"),
        ));
    }
    let path = format!("/proc/{entry}/stat");
    let text = std::fs::read_to_string(&path)?;
    parse_stat(&text)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, format!("cannot parse {path}")))
}

/// `/proc/PID/stat` of `pid`.
pub fn stat(pid: i32) -> io::Result<Stat> {
    read_stat(&pid.to_string())
}

/// Number of threads of this process, from /proc/self/stat.
fn thread_count() -> io::Result<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    parse_stat(&stat).map(|s| s.num_threads).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "cannot read num_threads from /proc/self/stat",
        )
    })
}

/// clone3(2) without a new stack (fork semantics) with namespace `flags`
/// (CLONE_NEW*), always with CLONE_PIDFD and SIGCHLD, and CLONE_INTO_CGROUP
/// when `cgroup` is given.
///
/// Refuses to run in a multi-threaded process: after a fork only the calling
/// thread exists, and a lock held by another thread (the allocator's, say)
/// would stay locked forever in the child. ward's runtime is single-threaded
/// by design, and this check keeps it honest.
pub fn clone3(flags: u64, cgroup: Option<BorrowedFd<'_>>) -> io::Result<Forked> {
    clone3_single(flags, cgroup, single_threaded()?)
}

/// Proof that the process was single-threaded when it was taken: for a
/// later [`clone3_single`] at a point where /proc/self is not this
/// process's (after joining a container's mount namespace from outside its
/// pid namespace). Neither Send nor Clone, so it stays on the thread (and
/// is used at most once).
pub struct SingleThreaded(std::marker::PhantomData<*const ()>);

/// Checks that this process has exactly one thread (/proc/self/stat).
pub fn single_threaded() -> io::Result<SingleThreaded> {
    if thread_count()? != 1 {
        return Err(io::Error::other(
            "clone3: refusing to fork a multi-threaded process",
        ));
    }
    Ok(SingleThreaded(std::marker::PhantomData))
}

/// [`clone3`] with the single-thread check done earlier by
/// [`single_threaded`]; the caller starts no thread in between.
pub fn clone3_single(
    flags: u64,
    cgroup: Option<BorrowedFd<'_>>,
    _proof: SingleThreaded,
) -> io::Result<Forked> {
    let mut pidfd: libc::c_int = -1;
    let mut args = CloneArgs {
        flags: flags | libc::CLONE_PIDFD as u64,
        pidfd: &mut pidfd as *mut libc::c_int as u64,
        // With CLONE_PARENT the kernel takes the exit signal from the caller
        // (our own, SIGCHLD) and refuses an explicit one.
        exit_signal: if flags & libc::CLONE_PARENT as u64 != 0 {
            0
        } else {
            libc::SIGCHLD as u64
        },
        ..CloneArgs::default()
    };
    if let Some(cg) = cgroup {
        args.flags |= CLONE_INTO_CGROUP;
        args.cgroup = cg.as_raw_fd() as u64;
    }
    // SAFETY: `args` is a valid clone_args (v2 layout, size passed) whose
    // pidfd pointer targets a live local; no stack is given, so the child
    // continues on a copy of this stack like fork(2). The process is
    // single-threaded (checked above), so the child inherits no lock that
    // another thread holds.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_clone3,
            &mut args as *mut CloneArgs,
            std::mem::size_of::<CloneArgs>(),
        )
    };
    let pid = crate::check(ret)?;
    if pid == 0 {
        return Ok(Forked::Child);
    }
    let pid = i32::try_from(pid).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    Ok(Forked::Parent {
        pid,
        pidfd: crate::check_fd(libc::c_long::from(pidfd))?,
    })
}

/// pidfd_open(2): a stable handle on `pid` that cannot be confused with a
/// later process that reuses the number.
pub fn pidfd_open(pid: i32) -> io::Result<OwnedFd> {
    // SAFETY: integer-only syscall.
    let ret = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0u32) };
    crate::check_fd(ret)
}

/// pidfd_send_signal(2).
pub fn pidfd_send_signal(pidfd: BorrowedFd<'_>, signal: i32) -> io::Result<()> {
    // SAFETY: a null siginfo is allowed (the kernel builds one as kill(2) does).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            pidfd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0u32,
        )
    };
    crate::check(ret).map(drop)
}

/// close_range(2) from `first` to the last fd: nothing of the runtime's
/// leaks into the container (CVE-2024-21626 was a leaked host directory fd).
pub fn close_fds_from(first: u32) -> io::Result<()> {
    // SAFETY: integer-only syscall; closing fds does not invalidate Rust
    // objects other than `OwnedFd`s the caller promises not to use again —
    // callers run this right before execve.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0u32) };
    crate::check(ret).map(drop)
}

/// Closes every fd except those in `keep` (stdio included): for a helper
/// process that must not hold the caller's pipes, sockets or terminal open.
pub fn close_fds_except(keep: &[BorrowedFd<'_>]) -> io::Result<()> {
    let numbers: Vec<i32> = keep.iter().map(|fd| fd.as_raw_fd()).collect();
    close_fds_except_numbers(&numbers)
}

/// [`close_fds_except`] by fd number: for numbers the caller was handed
/// (stdio, `--preserve-fds`) rather than owns. A kept number that is not
/// open is fine.
pub fn close_fds_except_numbers(keep: &[i32]) -> io::Result<()> {
    let mut kept: Vec<u32> = keep
        .iter()
        .map(|&fd| u32::try_from(fd))
        .collect::<Result<_, _>>()
        .map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    kept.sort_unstable();
    kept.dedup();
    let mut first = 0u32;
    for k in kept {
        if k > first {
            // SAFETY: integer-only syscall; the caller gives up every fd
            // outside `keep`, and uses no `OwnedFd` it holds for them again.
            let ret = unsafe { libc::syscall(libc::SYS_close_range, first, k - 1, 0u32) };
            crate::check(ret)?;
        }
        first = k.saturating_add(1);
    }
    // SAFETY: as above, for the fds above the last kept one.
    let ret = unsafe { libc::syscall(libc::SYS_close_range, first, u32::MAX, 0u32) };
    crate::check(ret).map(drop)
}

/// setpriority(PRIO_PROCESS, 0, nice): this process's nice value.
pub fn set_nice(nice: i32) -> io::Result<()> {
    // SAFETY: integer-only call on the calling process.
    let ret = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    crate::check(libc::c_long::from(ret)).map(drop)
}

/// PR_SET_NAME: the name `ps` shows (at most 15 bytes are kept).
pub fn set_name(name: &std::ffi::CStr) -> io::Result<()> {
    // SAFETY: PR_SET_NAME reads at most 16 bytes of a NUL-terminated
    // string, which `name` is for as long as the call lasts.
    let ret = unsafe {
        libc::prctl(
            libc::PR_SET_NAME,
            name.as_ptr() as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    crate::check(libc::c_long::from(ret)).map(drop)
}

/// Marks every fd from `first` on close-on-exec, without closing them yet.
pub fn cloexec_fds_from(first: u32) -> io::Result<()> {
    // SAFETY: integer-only syscall; CLOSE_RANGE_CLOEXEC only sets a flag.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_close_range,
            first,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        )
    };
    crate::check(ret).map(drop)
}

fn prctl(option: libc::c_int, arg2: libc::c_ulong) -> io::Result<libc::c_int> {
    // SAFETY: the options used through this helper take integer arguments only.
    let ret = unsafe {
        libc::prctl(
            option,
            arg2,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    crate::check(libc::c_long::from(ret)).map(|r| r as libc::c_int)
}

/// PR_SET_PDEATHSIG: get `signal` when the parent dies.
pub fn set_parent_death_signal(signal: i32) -> io::Result<()> {
    prctl(libc::PR_SET_PDEATHSIG, signal as libc::c_ulong).map(drop)
}

/// PR_SET_DUMPABLE 0: other processes (the container's) cannot ptrace us or
/// open our /proc/PID/{exe,fd,mem} (CVE-2019-5736, CVE-2016-9962).
pub fn set_non_dumpable() -> io::Result<()> {
    prctl(libc::PR_SET_DUMPABLE, 0).map(drop)
}

/// PR_SET_NO_NEW_PRIVS 1: execve can never grant privileges (setuid, file caps).
pub fn set_no_new_privs() -> io::Result<()> {
    // SAFETY: integer-only prctl.
    let ret = unsafe {
        libc::prctl(
            libc::PR_SET_NO_NEW_PRIVS,
            1 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
            0 as libc::c_ulong,
        )
    };
    crate::check(libc::c_long::from(ret)).map(drop)
}

/// PR_SET_KEEPCAPS: keep permitted capabilities across a uid change.
pub fn set_keep_caps(keep: bool) -> io::Result<()> {
    prctl(libc::PR_SET_KEEPCAPS, libc::c_ulong::from(keep)).map(drop)
}

/// PR_SET_CHILD_SUBREAPER: orphans below us are reparented to us.
pub fn set_child_subreaper() -> io::Result<()> {
    prctl(libc::PR_SET_CHILD_SUBREAPER, 1).map(drop)
}

/// setdomainname(2).
pub fn set_domainname(name: &str) -> io::Result<()> {
    // SAFETY: pointer and length describe the live `name` buffer.
    let ret = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    crate::check(libc::c_long::from(ret)).map(drop)
}

/// prlimit(2) on ourselves for any resource number.
pub fn set_rlimit(resource: u32, soft: u64, hard: u64) -> io::Result<()> {
    let lim = libc::rlimit {
        rlim_cur: soft,
        rlim_max: hard,
    };
    // SAFETY: `lim` is a valid rlimit that outlives the call; old is null.
    let ret = unsafe {
        libc::prlimit(
            0,
            resource as libc::__rlimit_resource_t,
            &lim,
            std::ptr::null_mut(),
        )
    };
    crate::check(libc::c_long::from(ret)).map(drop)
}

/// setgroups(2) with exactly `gids`.
pub fn set_groups(gids: &[u32]) -> io::Result<()> {
    // SAFETY: pointer and length describe the live `gids` slice.
    let ret = unsafe { libc::setgroups(gids.len(), gids.as_ptr()) };
    crate::check(libc::c_long::from(ret)).map(drop)
}

/// setns(2) with a pidfd and several namespace flags at once (Linux 5.8):
/// the kernel joins them atomically and in the right order (user first).
pub fn setns_pidfd(pidfd: BorrowedFd<'_>, flags: i32) -> io::Result<()> {
    // SAFETY: integer-only syscall.
    let ret = unsafe { libc::setns(pidfd.as_raw_fd(), flags) };
    crate::check(libc::c_long::from(ret)).map(drop)
}

/// keyctl(KEYCTL_JOIN_SESSION_KEYRING): a fresh session keyring named
/// `name`, so the container cannot read or use the keys of the runtime's
/// session (runc does the same unless --no-new-keyring).
pub fn join_session_keyring(name: &str) -> io::Result<()> {
    let c = crate::cstr(name)?;
    // SAFETY: `c` is a valid C string that outlives the call.
    let ret = unsafe { libc::syscall(libc::SYS_keyctl, 1 as libc::c_long, c.as_ptr()) };
    crate::check(ret).map(drop)
}

/// _exit(2): leaves at once, without the atexit handlers or stdio flushes
/// that belong to the process we were forked from.
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit never returns and touches no memory of ours.
    unsafe { libc::_exit(code) }
}

/// Gives the next program a clean signal state: every signal unblocked and
/// every disposition the default. Both survive execve otherwise — the
/// runtime blocks signals while it forwards them, and Rust ignores SIGPIPE —
/// and a container whose SIGTERM is blocked cannot be stopped gracefully.
pub fn reset_signals() -> io::Result<()> {
    for sig in 1..=libc::SIGRTMAX() {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            continue;
        }
        // SAFETY: SIG_DFL installs no handler; signal numbers the kernel
        // does not accept (glibc's internal ones) fail harmlessly with EINVAL.
        unsafe { libc::signal(sig, libc::SIG_DFL) };
    }
    // SAFETY: sigemptyset initialises `set`; sigprocmask reads it and
    // writes nothing back (null old set).
    let ret = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut())
    };
    crate::check(libc::c_long::from(ret)).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A /proc/PID/stat line with command name `comm`.
    fn line(comm: &str) -> String {
        format!(
            "4242 ({comm}) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 987654 1000 200 \
             18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
        )
    }

    #[test]
    fn parse_stat_counts_after_the_last_paren() {
        let want = Stat {
            state: 'S',
            num_threads: 3,
            start_time: 987654,
        };
        for comm in ["sleep", "a b c", "x) R 1 2 (", "))", "9 9 9"] {
            assert_eq!(parse_stat(&line(comm)), Some(want), "comm {comm:?}");
        }
        assert_eq!(parse_stat("4242 (cut) S 1 2"), None);
        assert_eq!(parse_stat("no parens at all"), None);
    }

    #[test]
    fn stat_of_this_process() {
        let me = read_stat("self").expect("self");
        let by_pid = stat(std::process::id() as i32).expect("pid");
        assert_eq!(me.start_time, by_pid.start_time);
        assert!("RS".contains(me.state), "{me:?}");
        assert!(me.num_threads >= 1);
        assert_eq!(
            read_stat("..").map_err(|e| e.kind()).err(),
            Some(io::ErrorKind::InvalidInput)
        );
    }
}

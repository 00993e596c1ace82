//! ward's default seccomp profile.
//!
//! An allowlist with default action ERRNO(EPERM), built from Docker's
//! default profile resolved for Docker's 14 default capabilities, then
//! tightened (see [`DENIED`] for every syscall kept out and why):
//!
//! - no mount of any kind: `mount` and the whole new mount API (fsopen,
//!   fsconfig, fsmount, fspick, move_mount, open_tree, open_tree_attr,
//!   mount_setattr) are denied together, since either one can remount or
//!   attach over masked paths;
//! - clone3 returns ENOSYS, so libc falls back to clone, whose flags the
//!   filter can see (clone3 passes them behind a pointer);
//! - clone only without namespace flags (Docker's mask), unshare and setns
//!   denied: no new user namespace, the usual first step of kernel exploits;
//! - personality only for the values Docker allows (no READ_IMPLIES_EXEC etc.);
//! - socket: not AF_ALG (38) nor AF_VSOCK (40), as in Docker; socketcall
//!   (which hides the family behind a pointer on 32-bit x86) denied;
//! - additionally denied compared with Docker: ptrace and
//!   process_vm_readv/writev (Docker allows them on kernel ≥ 4.8),
//!   name_to_handle_at, socketcall, modify_ldt.
//!
//! Syscalls newer than this list get ENOSYS from the compiler's stub (see
//! the crate docs), so new kernels do not turn into EPERM surprises.

use ward_spec::seccomp::{Action, Arch, Arg, LinuxSeccomp, Operator, Syscall};

/// Flags of clone(2) that create namespaces: CLONE_NEWNS | CLONE_NEWCGROUP |
/// CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET
/// (Docker's mask, 0x7E020000).
pub const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;

/// Address families of socket(2) that are denied: AF_ALG (kernel crypto API,
/// a steady source of kernel bugs) and AF_VSOCK (reaches host/hypervisor
/// services past the network namespace).
pub const AF_ALG: u64 = 38;
pub const AF_VSOCK: u64 = 40;
/// One past the last address family Linux 6.18 knows (AF_MCTP = 45);
/// families added later are denied until listed here.
pub const AF_MAX: u64 = 46;

/// personality(2) values allowed (Docker's): PER_LINUX, PER_LINUX32,
/// UNAME26, PER_LINUX32|UNAME26, and the query 0xffffffff.
pub const PERSONALITY_ALLOWED: [u64; 5] = [0x0, 0x8, 0x20000, 0x20008, 0xffff_ffff];

/// Syscalls the default profile keeps out, each with the threat.
pub const DENIED: &[(&str, &str)] = &[
    (
        "mount",
        "remount or mount over masked/read-only paths, mount host devices",
    ),
    (
        "umount",
        "unmount masks (/proc/kcore, ...) to expose what they hide",
    ),
    (
        "umount2",
        "unmount masks (/proc/kcore, ...) to expose what they hide",
    ),
    (
        "fsopen",
        "new mount API: a mount without mount(2); must follow mount's deny",
    ),
    (
        "fsconfig",
        "new mount API: configures a filesystem to mount",
    ),
    (
        "fsmount",
        "new mount API: creates a mount from a configured filesystem",
    ),
    (
        "fspick",
        "new mount API: reconfigures an existing mount (e.g. rw)",
    ),
    (
        "move_mount",
        "new mount API: attaches a mount over any path, masks included",
    ),
    (
        "open_tree",
        "new mount API: clones a mount tree, to re-attach it elsewhere",
    ),
    (
        "open_tree_attr",
        "new mount API: open_tree with attribute changes (6.15)",
    ),
    (
        "mount_setattr",
        "new mount API: flips ro/nosuid/idmap on mounts",
    ),
    ("pivot_root", "changes the root: only the runtime does that"),
    (
        "unshare",
        "new namespaces, user namespace first: the usual kernel-exploit setup",
    ),
    ("setns", "joins other namespaces through leaked fds"),
    (
        "clone3",
        "namespace flags hidden behind a pointer: ENOSYS so libc uses clone",
    ),
    (
        "keyctl",
        "kernel keyrings are not namespaced: reads/changes host keys",
    ),
    ("add_key", "kernel keyrings are not namespaced"),
    (
        "request_key",
        "kernel keyrings are not namespaced; can call upcalls on the host",
    ),
    (
        "bpf",
        "loads programs into the kernel; verifier bugs are kernel exploits",
    ),
    (
        "perf_event_open",
        "kernel/host profiling data, side channels, a history of bugs",
    ),
    (
        "userfaultfd",
        "stalls kernel page faults at will: the classic race-widening exploit aid",
    ),
    (
        "ptrace",
        "reads/writes other processes' memory, seccomp bypass on old kernels",
    ),
    (
        "process_vm_readv",
        "reads other processes' memory (ptrace-equivalent)",
    ),
    (
        "process_vm_writev",
        "writes other processes' memory (ptrace-equivalent)",
    ),
    (
        "kcmp",
        "compares kernel objects across processes: a KASLR/info leak aid",
    ),
    (
        "pidfd_getfd",
        "steals file descriptors from other processes",
    ),
    ("process_madvise", "changes other processes' memory advice"),
    ("kexec_load", "replaces the running host kernel"),
    ("kexec_file_load", "replaces the running host kernel"),
    ("init_module", "loads code into the host kernel"),
    ("finit_module", "loads code into the host kernel"),
    ("delete_module", "unloads host kernel modules"),
    (
        "open_by_handle_at",
        "opens host files by handle past the mount namespace (Shocker)",
    ),
    (
        "name_to_handle_at",
        "makes the handles open_by_handle_at needs; leaks inode identity",
    ),
    (
        "socketcall",
        "32-bit socket multiplexer: hides the address family from the filter",
    ),
    (
        "modify_ldt",
        "LDT changes: a history of kernel exploits, needed only by Wine/DOS",
    ),
    ("iopl", "raw I/O port access to host hardware"),
    ("ioperm", "raw I/O port access to host hardware"),
    ("reboot", "reboots the host (or its pid namespace)"),
    ("swapon", "host swap configuration"),
    ("swapoff", "host swap configuration"),
    (
        "acct",
        "host process accounting to a file of the container's choice",
    ),
    (
        "settimeofday",
        "the clock is not namespaced: changes host time",
    ),
    (
        "clock_settime",
        "the clock is not namespaced: changes host time",
    ),
    (
        "clock_settime64",
        "the clock is not namespaced: changes host time",
    ),
    ("stime", "the clock is not namespaced: changes host time"),
    (
        "syslog",
        "reads/clears the host kernel log (addresses: KASLR bypass)",
    ),
    ("quotactl", "host filesystem quota control"),
    ("quotactl_fd", "host filesystem quota control"),
    (
        "lookup_dcookie",
        "host kernel profiling interface, leaks host paths",
    ),
    ("fanotify_init", "watches the whole host filesystem"),
    (
        "io_uring_setup",
        "io_uring: large kernel attack surface, bypasses syscall filtering",
    ),
    (
        "io_uring_enter",
        "io_uring: performs I/O without the filtered syscalls",
    ),
    ("io_uring_register", "io_uring: large kernel attack surface"),
    ("vhangup", "hangs up the controlling terminal"),
    ("mbind", "NUMA policy: host memory placement, DoS"),
    ("set_mempolicy", "NUMA policy: host memory placement, DoS"),
    (
        "set_mempolicy_home_node",
        "NUMA policy: host memory placement, DoS",
    ),
    ("get_mempolicy", "NUMA layout of the host"),
    (
        "migrate_pages",
        "moves other processes' memory between nodes",
    ),
    ("move_pages", "moves other processes' memory between nodes"),
    ("sethostname", "changes the hostname the runtime set"),
    ("setdomainname", "changes the domain name the runtime set"),
    ("uselib", "obsolete a.out loader, exploit history"),
    ("ustat", "obsolete, leaks host filesystem data"),
    ("sysfs", "obsolete filesystem-type query"),
    ("_sysctl", "obsolete sysctl interface"),
    ("vm86", "virtual 8086 mode: exploit history"),
    ("vm86old", "virtual 8086 mode: exploit history"),
    ("nfsservctl", "obsolete kernel NFS server control"),
    (
        "lsm_set_self_attr",
        "changes the LSM (AppArmor/SELinux) label",
    ),
];

/// Docker's base allowlist minus `socketcall` and `name_to_handle_at`.
#[rustfmt::skip]
const ALLOWED: &[&str] = &[
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64",
    "clock_nanosleep", "clock_nanosleep_time64", "close", "close_range", "connect",
    "copy_file_range", "creat", "dup", "dup2", "dup3", "epoll_create", "epoll_create1",
    "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait",
    "epoll_wait_old", "eventfd", "eventfd2", "execve", "execveat", "exit", "exit_group",
    "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark",
    "fchdir", "fchmod", "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl",
    "fcntl64", "fdatasync", "fgetxattr", "flistxattr", "flock", "fork", "fremovexattr",
    "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
    "ftruncate64", "futex", "futex_requeue", "futex_time64", "futex_wait", "futex_waitv",
    "futex_wake", "futimesat", "getcpu", "getcwd", "getdents", "getdents64", "getegid",
    "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32",
    "getitimer", "getpeername", "getpgid", "getpgrp", "getpid", "getppid", "getpriority",
    "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32", "getrlimit",
    "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt", "get_thread_area",
    "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
    "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64",
    "ioprio_get", "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
    "link", "linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr",
    "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise",
    "map_shadow_stack", "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir",
    "mkdirat", "mknod", "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
    "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64",
    "mq_timedsend", "mq_timedsend_time64", "mq_unlink", "mremap", "mseal", "msgctl", "msgget",
    "msgrcv", "msgsnd", "msync", "munlock", "munlockall", "munmap", "nanosleep", "newfstatat",
    "_newselect", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal",
    "pipe", "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll",
    "ppoll_time64", "prctl", "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease",
    "pselect6", "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead",
    "readlink", "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64",
    "recvmsg", "remap_file_pages", "removexattr", "removexattrat", "rename", "renameat",
    "renameat2", "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction",
    "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend",
    "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity",
    "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
    "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64",
    "sched_setaffinity", "sched_setattr", "sched_setparam", "sched_setscheduler",
    "sched_yield", "seccomp", "select", "semctl", "semget", "semop", "semtimedop",
    "semtimedop_time64", "send", "sendfile", "sendfile64", "sendmmsg", "sendmsg", "sendto",
    "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid", "setgid32", "setgroups",
    "setgroups32", "setitimer", "setpgid", "setpriority", "setregid", "setregid32",
    "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32",
    "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
    "set_tid_address", "setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl",
    "shmdt", "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask",
    "sigreturn", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statmount",
    "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee",
    "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
    "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid",
    "waitpid", "write", "writev",
];

/// Extra syscalls for one native arch (Docker's arch-specific rules, minus
/// modify_ldt).
fn arch_specific(native: Arch) -> &'static [&'static str] {
    match native {
        Arch::X86_64 => &["arch_prctl"],
        Arch::Aarch64 | Arch::Arm => &[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ],
        Arch::Ppc64Le => &["sync_file_range2", "swapcontext"],
        Arch::S390 | Arch::S390X => &[
            "s390_pci_mmio_read",
            "s390_pci_mmio_write",
            "s390_runtime_instr",
        ],
        Arch::Riscv64 => &["riscv_flush_icache"],
        _ => &[],
    }
}

/// The ABIs a native arch can run (Docker's archMap).
pub fn arches_for(native: Arch) -> Vec<Arch> {
    match native {
        Arch::X86_64 => vec![Arch::X86_64, Arch::X86, Arch::X32],
        Arch::Aarch64 => vec![Arch::Aarch64, Arch::Arm],
        Arch::S390X => vec![Arch::S390X, Arch::S390],
        other => vec![other],
    }
}

/// ward's default profile for the architecture ward runs on.
pub fn default_profile() -> LinuxSeccomp {
    default_profile_for(crate::native_arch())
}

/// ward's default profile for `native` (x86_64 covers x86 and x32 too,
/// aarch64 covers arm).
pub fn default_profile_for(native: Arch) -> LinuxSeccomp {
    let mut p = LinuxSeccomp::new(Action::Errno);
    p.default_errno_ret = Some(libc::EPERM as u32);
    p.architectures = arches_for(native);

    let mut allowed: Vec<&str> = ALLOWED.to_vec();
    allowed.extend_from_slice(arch_specific(native));
    p.syscalls.push(Syscall::new(allowed, Action::Allow));

    // personality: only the harmless execution domains.
    for v in PERSONALITY_ALLOWED {
        p.syscalls.push(
            Syscall::new(["personality"], Action::Allow).with_arg(Arg::new(0, Operator::Eq, v)),
        );
    }

    // socket: every family but AF_ALG and AF_VSOCK. Docker allows "> 40"
    // for the families above AF_VSOCK; but the kernel reads the family as a
    // 32-bit int while the filter compares all 64 bits of the register, so
    // 0x1_0000_0028 passes "> 40" and is AF_VSOCK to the kernel. Exact
    // matches have no such hole: the families above AF_VSOCK are listed.
    p.syscalls
        .push(Syscall::new(["socket"], Action::Allow).with_arg(Arg::new(0, Operator::Lt, AF_ALG)));
    for family in (AF_ALG + 1..AF_VSOCK).chain(AF_VSOCK + 1..AF_MAX) {
        p.syscalls
            .push(Syscall::new(["socket"], Action::Allow).with_arg(Arg::new(
                0,
                Operator::Eq,
                family,
            )));
    }

    // clone: only without namespace flags. s390 swaps the first two args.
    let flags_arg = if matches!(native, Arch::S390 | Arch::S390X) {
        1
    } else {
        0
    };
    p.syscalls.push(
        Syscall::new(["clone"], Action::Allow).with_arg(Arg::masked_eq(
            flags_arg,
            CLONE_NAMESPACE_FLAGS,
            0,
        )),
    );

    // clone3: ENOSYS, so glibc/musl fall back to the filterable clone.
    p.syscalls
        .push(Syscall::new(["clone3"], Action::Errno).with_errno(libc::ENOSYS as u32));
    p
}

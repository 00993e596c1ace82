//! seccomp(2): loading a compiled BPF filter, the user-notification
//! listener, and a syscall probe for tests and diagnostics.
//!
//! The filter is compiled in the runtime (parent) by `ward-seccomp`; the
//! child only hands the bytes to the kernel. [`load_filter`] therefore
//! neither allocates nor takes locks: it runs between fork and execve, where
//! another thread's lock (the allocator's) may be held forever.
//!
//! The kernel accepts a filter only from a process with no_new_privs set or
//! with CAP_SYS_ADMIN in its user namespace; set no_new_privs first
//! ([`crate::process::set_no_new_privs`]) unless the spec says otherwise and
//! the process keeps CAP_SYS_ADMIN until the filter is in.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd};

/// Size of one `struct sock_filter` instruction in bytes.
pub const SOCK_FILTER_SIZE: usize = 8;
/// Most instructions a classic BPF program may have (BPF_MAXINSNS).
pub const BPF_MAXINSNS: usize = 4096;

/// seccomp(SECCOMP_SET_MODE_FILTER, flags, prog) with the program in `bpf`
/// (native-endian `struct sock_filter` array, as `seccomp_export_bpf` writes).
///
/// Returns the user-notification listener when `flags` has
/// SECCOMP_FILTER_FLAG_NEW_LISTENER, `None` otherwise. A TSYNC failure
/// (another thread of the process could not take the filter) is EBUSY.
///
/// Does not allocate: the `sock_fprog` lives on the stack and points into
/// `bpf`, which the kernel copies before returning.
pub fn load_filter(bpf: &[u8], flags: u32) -> io::Result<Option<OwnedFd>> {
    let insns = bpf.len() / SOCK_FILTER_SIZE;
    if bpf.is_empty() || insns * SOCK_FILTER_SIZE != bpf.len() || insns > BPF_MAXINSNS {
        return Err(io::Error::from_raw_os_error(libc::EINVAL));
    }
    let prog = libc::sock_fprog {
        // Fits: checked against BPF_MAXINSNS (4096) above.
        len: insns as libc::c_ushort,
        // The kernel only reads through this pointer (copy_from_user), which
        // has no alignment requirement, so a byte slice is a valid source.
        filter: bpf.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: `prog` is a valid sock_fprog on our stack whose `filter` points
    // to `len * 8` readable bytes of `bpf`; both outlive the call, and the
    // kernel copies the program before returning and never writes to it.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER as libc::c_ulong,
            libc::c_ulong::from(flags),
            &prog as *const libc::sock_fprog,
        )
    };
    let listener = libc::c_ulong::from(flags) & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER != 0;
    if listener {
        return crate::check_fd(ret).map(Some);
    }
    let ret = crate::check(ret)?;
    if ret > 0 {
        // With TSYNC (and without TSYNC_ESRCH), a positive return is the id of
        // the thread that could not be synchronised: the filter is not in.
        return Err(io::Error::from_raw_os_error(libc::EBUSY));
    }
    Ok(None)
}

/// Whether the running kernel supports `flags` for SECCOMP_SET_MODE_FILTER:
/// asks with a NULL program, which a supporting kernel refuses with EFAULT
/// before anything is installed.
pub fn filter_flags_supported(flags: u32) -> bool {
    // SAFETY: a NULL program pointer is never dereferenced by us; the kernel
    // validates flags first and then fails the copy with EFAULT, installing
    // nothing.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER as libc::c_ulong,
            libc::c_ulong::from(flags),
            std::ptr::null::<libc::sock_fprog>(),
        )
    };
    ret < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EFAULT)
}

/// A scratch in-memory file (memfd, close-on-exec) to export a compiled
/// filter into: unlike a pipe it cannot fill up and block the writer.
pub fn memfd(name: &str) -> io::Result<OwnedFd> {
    let c = crate::cstr(name)?;
    // SAFETY: `c` is a valid C string that outlives the call.
    let ret = unsafe { libc::memfd_create(c.as_ptr(), libc::MFD_CLOEXEC) };
    crate::check_fd(libc::c_long::from(ret))
}

/// SECCOMP_GET_NOTIF_SIZES: the kernel's sizes of the notification structs.
pub fn notif_sizes() -> io::Result<libc::seccomp_notif_sizes> {
    let mut sizes = libc::seccomp_notif_sizes {
        seccomp_notif: 0,
        seccomp_notif_resp: 0,
        seccomp_data: 0,
    };
    // SAFETY: `sizes` is a valid, writable seccomp_notif_sizes that outlives
    // the call; the kernel writes exactly that struct.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_GET_NOTIF_SIZES as libc::c_ulong,
            0 as libc::c_ulong,
            &mut sizes as *mut libc::seccomp_notif_sizes,
        )
    };
    crate::check(ret).map(|_| sizes)
}

/// A request read from the listener: which process called what.
pub type Notification = libc::seccomp_notif;
/// An answer to a [`Notification`].
pub type NotificationResponse = libc::seccomp_notif_resp;

/// SECCOMP_IOCTL_NOTIF_RECV: waits for the next request on `listener`.
///
/// ENOENT means the caller died (or the request was answered) before it
/// could be read; EINTR a signal. Both are worth retrying.
pub fn notif_recv(listener: BorrowedFd<'_>) -> io::Result<Notification> {
    // The kernel refuses a buffer that is not all zeros (EINVAL); this struct
    // has no padding, so zeroing every field zeroes every byte.
    let mut req = libc::seccomp_notif {
        id: 0,
        pid: 0,
        flags: 0,
        data: libc::seccomp_data {
            nr: 0,
            arch: 0,
            instruction_pointer: 0,
            args: [0; 6],
        },
    };
    // SAFETY: `req` is a valid, writable seccomp_notif, the type whose size
    // the ioctl number encodes, and it outlives the call.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_RECV,
            &mut req as *mut libc::seccomp_notif,
        )
    };
    crate::check(libc::c_long::from(ret)).map(|_| req)
}

/// SECCOMP_IOCTL_NOTIF_SEND: answers request `resp.id`.
pub fn notif_send(listener: BorrowedFd<'_>, resp: &NotificationResponse) -> io::Result<()> {
    // SAFETY: `resp` points to a valid seccomp_notif_resp that outlives the
    // call; the kernel only reads it.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_SEND,
            resp as *const libc::seccomp_notif_resp,
        )
    };
    crate::check(libc::c_long::from(ret)).map(drop)
}

/// Answers `id` with a failure `errno` (a positive errno, e.g. EPERM).
pub fn notif_respond_error(listener: BorrowedFd<'_>, id: u64, errno: i32) -> io::Result<()> {
    notif_send(
        listener,
        &libc::seccomp_notif_resp {
            id,
            val: 0,
            error: -errno,
            flags: 0,
        },
    )
}

/// Answers `id` with success value `val`, without running the syscall.
pub fn notif_respond_value(listener: BorrowedFd<'_>, id: u64, val: i64) -> io::Result<()> {
    notif_send(
        listener,
        &libc::seccomp_notif_resp {
            id,
            val,
            error: 0,
            flags: 0,
        },
    )
}

/// Lets the kernel run the syscall of `id` as if it were allowed.
///
/// Only safe as a policy when the decision does not depend on memory the
/// caller can change after the check (pointer arguments): see
/// seccomp_unotify(2) on SECCOMP_USER_NOTIF_FLAG_CONTINUE.
pub fn notif_respond_continue(listener: BorrowedFd<'_>, id: u64) -> io::Result<()> {
    notif_send(
        listener,
        &libc::seccomp_notif_resp {
            id,
            val: 0,
            error: 0,
            flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
        },
    )
}

/// SECCOMP_IOCTL_NOTIF_ID_VALID: whether request `id` is still pending
/// (its caller is alive and waiting). Check it after reading the caller's
/// memory through /proc/PID/mem, so the pid was not reused meanwhile.
pub fn notif_id_valid(listener: BorrowedFd<'_>, id: u64) -> io::Result<bool> {
    // SAFETY: `id` is a valid u64 that outlives the call; the kernel only
    // reads it.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ID_VALID,
            &id as *const u64,
        )
    };
    match crate::check(libc::c_long::from(ret)) {
        Ok(_) => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
        Err(e) => Err(e),
    }
}

/// SECCOMP_IOCTL_NOTIF_ADDFD: installs a duplicate of `fd` in the caller of
/// request `id` (close-on-exec when `cloexec`), at `target` if given.
/// With `send`, this also answers the request with the new fd number.
/// Returns the fd number in the caller.
pub fn notif_addfd(
    listener: BorrowedFd<'_>,
    id: u64,
    fd: BorrowedFd<'_>,
    target: Option<u32>,
    cloexec: bool,
    send: bool,
) -> io::Result<i32> {
    let mut flags = 0u32;
    if target.is_some() {
        flags |= libc::SECCOMP_ADDFD_FLAG_SETFD as u32;
    }
    if send {
        flags |= libc::SECCOMP_ADDFD_FLAG_SEND as u32;
    }
    let srcfd =
        u32::try_from(fd.as_raw_fd()).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    let add = libc::seccomp_notif_addfd {
        id,
        flags,
        srcfd,
        newfd: target.unwrap_or(0),
        newfd_flags: if cloexec { libc::O_CLOEXEC as u32 } else { 0 },
    };
    // SAFETY: `add` is a valid seccomp_notif_addfd that outlives the call;
    // the kernel only reads it and `fd` stays open for the call's duration.
    let ret = unsafe {
        libc::ioctl(
            listener.as_raw_fd(),
            libc::SECCOMP_IOCTL_NOTIF_ADDFD,
            &add as *const libc::seccomp_notif_addfd,
        )
    };
    crate::check(libc::c_long::from(ret)).map(|r| r as i32)
}

/// open_tree_attr(2) (Linux 6.15); not yet in every libc crate release. The
/// number is the same on every architecture using the unified table.
pub const SYS_OPEN_TREE_ATTR: libc::c_long = 467;

/// Syscalls [`probe_syscall`] may make; `zero` is the mask of arguments that
/// must be 0 (every pointer argument, plus integers that could have an effect
/// beyond the calling process); `fd` says the success value is a new fd that
/// the probe closes.
struct ProbeEntry {
    nr: libc::c_long,
    zero: u8,
    fd: bool,
}

const fn p(nr: libc::c_long, zero: u8, fd: bool) -> ProbeEntry {
    ProbeEntry { nr, zero, fd }
}

const A0: u8 = 1;
const A1: u8 = 1 << 1;
const A2: u8 = 1 << 2;
const A3: u8 = 1 << 3;
const A4: u8 = 1 << 4;

const PROBES: &[ProbeEntry] = &[
    p(libc::SYS_getpid, 0, false),
    p(libc::SYS_getpgid, 0, false),
    p(libc::SYS_getpriority, 0, false),
    p(libc::SYS_personality, 0, false),
    p(libc::SYS_unshare, 0, false),
    p(libc::SYS_setns, 0, false),
    p(libc::SYS_socket, 0, true),
    p(libc::SYS_socketpair, A3, false),
    p(libc::SYS_clone3, A0, false),
    p(libc::SYS_mount, A0 | A1 | A2 | A4, false),
    p(libc::SYS_umount2, A0, false),
    p(libc::SYS_open_tree, A1, true),
    p(SYS_OPEN_TREE_ATTR, A1 | A3, true),
    p(libc::SYS_fsopen, A0, true),
    p(libc::SYS_fsconfig, A2 | A3, false),
    p(libc::SYS_fsmount, 0, true),
    p(libc::SYS_fspick, A1, true),
    p(libc::SYS_move_mount, A1 | A3, false),
    p(libc::SYS_mount_setattr, A1 | A3, false),
    p(libc::SYS_pivot_root, A0 | A1, false),
    p(libc::SYS_chroot, A0, false),
    p(libc::SYS_mkdirat, A1, false),
    p(libc::SYS_keyctl, A1 | A2 | A3 | A4, false),
    p(libc::SYS_add_key, A0 | A1 | A2, false),
    p(libc::SYS_request_key, A0 | A1 | A2, false),
    p(libc::SYS_bpf, A1, true),
    p(libc::SYS_perf_event_open, A0, true),
    p(libc::SYS_userfaultfd, 0, true),
    p(libc::SYS_io_uring_setup, A1, true),
    p(libc::SYS_ptrace, A1 | A2 | A3, false),
    p(libc::SYS_process_vm_readv, A1 | A3, false),
    p(libc::SYS_kcmp, A4, false),
    p(libc::SYS_kexec_file_load, A3 | A4, false),
    p(libc::SYS_init_module, A0 | A2, false),
    p(libc::SYS_delete_module, A0, false),
    p(libc::SYS_open_by_handle_at, A1, true),
    p(libc::SYS_name_to_handle_at, A1 | A2 | A3, false),
    p(libc::SYS_sethostname, A0, false),
    p(libc::SYS_memfd_secret, 0, true),
];

/// For tests and diagnostics of seccomp filters: makes syscall `nr` with
/// `args` and returns the kernel's answer, so a filter's decision (allowed,
/// or which errno) can be observed from inside a filtered process.
///
/// Only the syscalls in a fixed list are accepted, and every argument that
/// the kernel would treat as a pointer must be 0 (NULL): a filter decides on
/// the raw register values before the kernel touches memory, so NULL is
/// enough to see the decision, and when the filter allows the call the
/// kernel fails it with EFAULT/EINVAL/EBADF without writing anywhere. That
/// is why this can be a safe function. Integer arguments do take effect
/// (`unshare`, `personality`): use it in a disposable process. A new fd
/// returned on success is closed at once. Anything else is EINVAL without a
/// syscall.
pub fn probe_syscall(nr: libc::c_long, args: [u64; 6]) -> io::Result<libc::c_long> {
    let entry = PROBES
        .iter()
        .find(|e| e.nr == nr)
        .ok_or_else(|| io::Error::from_raw_os_error(libc::EINVAL))?;
    for (i, a) in args.iter().enumerate() {
        if entry.zero & (1 << i) != 0 && *a != 0 {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
    }
    // SAFETY: `nr` is in PROBES and every argument the kernel could treat as
    // a pointer for it is 0 (checked above), so the kernel reads or writes no
    // memory of this process; the remaining integer arguments cannot affect
    // memory safety. clone3 with NULL args creates no thread.
    let ret = unsafe {
        libc::syscall(
            entry.nr,
            args[0] as libc::c_ulong,
            args[1] as libc::c_ulong,
            args[2] as libc::c_ulong,
            args[3] as libc::c_ulong,
            args[4] as libc::c_ulong,
            args[5] as libc::c_ulong,
        )
    };
    let ret = crate::check(ret)?;
    if entry.fd {
        if let Ok(fd) = libc::c_int::try_from(ret) {
            // SAFETY: the kernel just returned `fd` as a new descriptor that
            // nothing else owns; the OwnedFd closes it on drop.
            drop(unsafe { OwnedFd::from_raw_fd(fd) });
        }
    }
    Ok(ret)
}

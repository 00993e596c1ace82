//! CVE-2019-5736: a process inside the container makes the runtime's init
//! execute /proc/self/exe (directly, as a script interpreter or as an ELF
//! interpreter), which is the runtime binary on the host, then reopens that
//! process's /proc/PID/exe for writing once it exits and overwrites the host
//! binary. The runtime therefore re-executes itself, before it enters any
//! container, from a handle that can never be written:
//!
//! - preferred: a private, detached, read-only bind mount of its own binary
//!   (open_tree + mount_setattr, never attached anywhere): no copy, page
//!   cache shared, /proc/PID/exe reopens fail with EROFS;
//! - fallback (no mount API, e.g. unprivileged): a sealed memfd copy.
//!
//! A binary that already runs from a read-only mount or a sealed memfd is
//! left alone.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

const MFD_CLOEXEC: libc::c_uint = 0x1;
const MFD_ALLOW_SEALING: libc::c_uint = 0x2;
const MFD_EXEC: libc::c_uint = 0x10;
const SEALS: libc::c_int =
    libc::F_SEAL_SEAL | libc::F_SEAL_SHRINK | libc::F_SEAL_GROW | libc::F_SEAL_WRITE;

/// Whether this process already runs from a binary nobody can write: a
/// read-only mount or a sealed memfd.
pub fn running_protected() -> io::Result<bool> {
    let exe = std::fs::File::open("/proc/self/exe")?;
    // SAFETY: F_GET_SEALS takes no pointer; on a file that is not a memfd it
    // fails with EINVAL, which means "not sealed".
    let seals = unsafe { libc::fcntl(exe.as_raw_fd(), libc::F_GET_SEALS) };
    if seals >= 0 && seals & SEALS == SEALS {
        return Ok(true);
    }
    // SAFETY: statvfs is plain old data; all-zero is valid.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `st` is a valid output buffer for the call.
    if unsafe { libc::fstatvfs(exe.as_raw_fd(), &mut st) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(st.f_flag & libc::ST_RDONLY != 0)
}

/// A detached, read-only (and nosuid, nodev) bind mount of our own binary.
pub fn readonly_mount() -> io::Result<OwnedFd> {
    let exe = std::fs::File::open("/proc/self/exe")?;
    let tree = crate::mount::open_tree(std::os::fd::AsFd::as_fd(&exe), "", true, false)?;
    crate::mount::mount_setattr(
        std::os::fd::AsFd::as_fd(&tree),
        false,
        crate::mount::MOUNT_ATTR_RDONLY
            | crate::mount::MOUNT_ATTR_NOSUID
            | crate::mount::MOUNT_ATTR_NODEV,
        0,
        0,
    )?;
    Ok(tree)
}

/// A sealed memfd holding a copy of /proc/self/exe.
pub fn sealed_copy() -> io::Result<OwnedFd> {
    let name = c"ward-oci";
    // SAFETY: `name` is a valid C string; memfd_create returns a new fd.
    let mut fd =
        unsafe { libc::memfd_create(name.as_ptr(), MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC) };
    if fd < 0 && io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // Kernels before 6.3 don't know MFD_EXEC (and never default to noexec).
        // SAFETY: as above.
        fd = unsafe { libc::memfd_create(name.as_ptr(), MFD_CLOEXEC | MFD_ALLOW_SEALING) };
    }
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: memfd_create just returned this fd; nothing else owns it.
    let memfd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut src = std::fs::File::open("/proc/self/exe")?;
    let mut dst = std::fs::File::from(memfd.try_clone()?);
    // std::io::copy uses copy_file_range/sendfile where it can.
    io::copy(&mut src, &mut dst)?;
    // SAFETY: F_ADD_SEALS takes an integer argument.
    if unsafe { libc::fcntl(memfd.as_raw_fd(), libc::F_ADD_SEALS, SEALS) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(memfd)
}

/// Re-executes this program from `exe` (a protected handle) with the same
/// arguments and environment. Returns only on failure.
pub fn reexec(exe: &OwnedFd) -> io::Error {
    let args: Vec<CString> = std::env::args_os()
        .filter_map(|a| CString::new(std::os::unix::ffi::OsStringExt::into_vec(a)).ok())
        .collect();
    let env: Vec<CString> = std::env::vars_os()
        .filter_map(|(k, v)| {
            let mut kv = std::os::unix::ffi::OsStringExt::into_vec(k);
            kv.push(b'=');
            kv.extend(std::os::unix::ffi::OsStringExt::into_vec(v));
            CString::new(kv).ok()
        })
        .collect();
    let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let mut envp: Vec<*const libc::c_char> = env.iter().map(|e| e.as_ptr()).collect();
    envp.push(std::ptr::null());
    // SAFETY: argv and envp are NULL-terminated arrays of pointers into
    // `args` and `env`, which outlive the call; the path is the empty C
    // string with AT_EMPTY_PATH, so the kernel executes the fd itself.
    unsafe {
        libc::execveat(
            exe.as_raw_fd(),
            c"".as_ptr(),
            argv.as_ptr() as *const *mut libc::c_char,
            envp.as_ptr() as *const *mut libc::c_char,
            libc::AT_EMPTY_PATH,
        )
    };
    io::Error::last_os_error()
}

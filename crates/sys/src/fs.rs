//! Path resolution that cannot escape a root: openat2(2) with RESOLVE_IN_ROOT.
//!
//! Threat: a container image controls every symlink in its rootfs. Joining
//! strings ("rootfs" + "/dev/null") lets a symlink such as `dev -> /` redirect
//! a runtime write to the host (CVE-2019-19921, CVE-2023-27561,
//! CVE-2025-31133). openat2 resolves every component, `..` and symlink as if
//! the dirfd were `/`, in the kernel, race-free.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

pub use libc::{
    RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV,
};

/// openat2(2). `flags` always gains O_CLOEXEC.
pub fn openat2(
    dir: BorrowedFd<'_>,
    path: &str,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    openat2_cstr(dir, &crate::cstr(path)?, flags, mode, resolve)
}

/// openat2(2) for a path that need not be UTF-8 (names from a tar archive
/// are bytes). `flags` always gains O_CLOEXEC.
pub fn openat2_path(
    dir: BorrowedFd<'_>,
    path: &std::path::Path,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{path:?} contains a NUL byte"),
        )
    })?;
    openat2_cstr(dir, &c, flags, mode, resolve)
}

fn openat2_cstr(
    dir: BorrowedFd<'_>,
    c: &std::ffi::CStr,
    flags: i32,
    mode: u32,
    resolve: u64,
) -> io::Result<OwnedFd> {
    // SAFETY: open_how is a plain-old-data struct for which all-zero is valid.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (flags | libc::O_CLOEXEC) as u64;
    how.mode = if flags & (libc::O_CREAT | libc::O_TMPFILE) != 0 {
        u64::from(mode)
    } else {
        0
    };
    how.resolve = resolve;
    // SAFETY: `c` is a valid NUL-terminated string and `how` a valid open_how
    // that both outlive the call; the size passed is the struct's size.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    crate::check_fd(ret)
}

/// Opens `path` inside the root `root` (O_PATH unless `flags` says otherwise),
/// never leaving it, whatever symlinks the root contains.
pub fn open_in_root(root: BorrowedFd<'_>, path: &str, flags: i32) -> io::Result<OwnedFd> {
    openat2(
        root,
        path,
        flags,
        0,
        RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    )
}

/// `/proc/self/fd/N`: the path that names exactly the file behind an fd.
pub fn fd_path(fd: BorrowedFd<'_>) -> String {
    format!("/proc/self/fd/{}", fd.as_raw_fd())
}

/// fsetxattr(2) on an open (not O_PATH) fd: sets `name` to `value`.
pub fn set_xattr(fd: BorrowedFd<'_>, name: &str, value: &[u8]) -> io::Result<()> {
    let c = crate::cstr(name)?;
    // SAFETY: `c` is NUL-terminated and `value` a valid buffer of the given
    // length; both outlive the call, which only reads them.
    let ret = unsafe {
        libc::fsetxattr(
            fd.as_raw_fd(),
            c.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// fgetxattr(2) on an open (not O_PATH) fd: the value of `name`, or `None`
/// when the file has no such attribute.
pub fn get_xattr(fd: BorrowedFd<'_>, name: &str) -> io::Result<Option<Vec<u8>>> {
    let c = crate::cstr(name)?;
    loop {
        // SAFETY: a null buffer of size 0 asks only for the value's size;
        // `c` is NUL-terminated and outlives the call.
        let size = unsafe { libc::fgetxattr(fd.as_raw_fd(), c.as_ptr(), std::ptr::null_mut(), 0) };
        if size < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::ENODATA) => Ok(None),
                _ => Err(e),
            };
        }
        let mut value = vec![0u8; size as usize];
        // SAFETY: `value` is a writable buffer of exactly the length passed;
        // the kernel writes at most that many bytes into it.
        let got = unsafe {
            libc::fgetxattr(
                fd.as_raw_fd(),
                c.as_ptr(),
                value.as_mut_ptr().cast(),
                value.len(),
            )
        };
        if got >= 0 {
            value.truncate(got as usize);
            return Ok(Some(value));
        }
        let e = io::Error::last_os_error();
        match e.raw_os_error() {
            // The value grew between the two calls: ask again.
            Some(libc::ERANGE) => continue,
            Some(libc::ENODATA) => return Ok(None),
            _ => return Err(e),
        }
    }
}

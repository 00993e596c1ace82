//! The new mount API (fsopen/fsconfig/fsmount/open_tree/move_mount/mount_setattr).
//!
//! Why: every mount is made on a detached tree and attached by file
//! descriptor, so a mount target is the exact inode the runtime resolved
//! inside the rootfs, never a path that a symlink swapped in the meantime
//! (CVE-2021-30465 was such a race). Flags are applied to the detached tree
//! before it becomes visible, so a mount is never briefly writable.

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

pub const OPEN_TREE_CLONE: u32 = 1;
pub const OPEN_TREE_CLOEXEC: u32 = libc::O_CLOEXEC as u32;
pub const MOVE_MOUNT_F_EMPTY_PATH: u32 = 0x4;
pub const MOVE_MOUNT_T_EMPTY_PATH: u32 = 0x40;
pub const MOUNT_ATTR_RDONLY: u64 = 0x1;
pub const MOUNT_ATTR_NOSUID: u64 = 0x2;
pub const MOUNT_ATTR_NODEV: u64 = 0x4;
pub const MOUNT_ATTR_NOEXEC: u64 = 0x8;
pub const MOUNT_ATTR__ATIME: u64 = 0x70;
pub const MOUNT_ATTR_RELATIME: u64 = 0x0;
pub const MOUNT_ATTR_NOATIME: u64 = 0x10;
pub const MOUNT_ATTR_STRICTATIME: u64 = 0x20;
pub const MOUNT_ATTR_NODIRATIME: u64 = 0x80;
pub const MOUNT_ATTR_NOSYMFOLLOW: u64 = 0x0020_0000;
pub const MOUNT_ATTR_IDMAP: u64 = 0x0010_0000;

const FSCONFIG_SET_FLAG: u32 = 0;
const FSCONFIG_SET_STRING: u32 = 1;
const FSCONFIG_CMD_CREATE: u32 = 6;

#[repr(C)]
struct MountAttr {
    attr_set: u64,
    attr_clr: u64,
    propagation: u64,
    userns_fd: u64,
}

/// open_tree(2): with `clone`, a detached copy of the mount at `path`
/// (recursive with `recursive`), ready to be attached with [`move_mount_fd`].
pub fn open_tree(
    dir: BorrowedFd<'_>,
    path: &str,
    clone: bool,
    recursive: bool,
) -> io::Result<OwnedFd> {
    let c = crate::cstr(path)?;
    let mut flags = OPEN_TREE_CLOEXEC;
    if clone {
        flags |= OPEN_TREE_CLONE;
    }
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    if path.is_empty() {
        flags |= libc::AT_EMPTY_PATH as u32;
    }
    // SAFETY: `c` is a valid C string that outlives the call.
    let ret = unsafe { libc::syscall(libc::SYS_open_tree, dir.as_raw_fd(), c.as_ptr(), flags) };
    crate::check_fd(ret)
}

/// move_mount(2) of the detached tree `from` onto the object behind `to`.
pub fn move_mount_fd(from: BorrowedFd<'_>, to: BorrowedFd<'_>) -> io::Result<()> {
    let empty = c"";
    // SAFETY: both paths are the static empty C string; with the EMPTY_PATH
    // flags the kernel uses the fds themselves.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            from.as_raw_fd(),
            empty.as_ptr(),
            to.as_raw_fd(),
            empty.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH,
        )
    };
    crate::check(ret).map(drop)
}

/// fsopen(2): a filesystem context for `fstype`.
pub fn fsopen(fstype: &str) -> io::Result<OwnedFd> {
    let c = crate::cstr(fstype)?;
    // SAFETY: `c` is a valid C string that outlives the call; FSOPEN_CLOEXEC=1.
    let ret = unsafe { libc::syscall(libc::SYS_fsopen, c.as_ptr(), 1u32) };
    crate::check_fd(ret)
}

/// fsconfig(2) FSCONFIG_SET_STRING, or FSCONFIG_SET_FLAG when `value` is None.
pub fn fsconfig_set(fs: BorrowedFd<'_>, key: &str, value: Option<&str>) -> io::Result<()> {
    let k = crate::cstr(key)?;
    let v = value.map(crate::cstr).transpose()?;
    let (cmd, vptr) = match &v {
        Some(v) => (FSCONFIG_SET_STRING, v.as_ptr()),
        None => (FSCONFIG_SET_FLAG, std::ptr::null()),
    };
    // SAFETY: `k` and `v` are valid C strings (or null for a flag, as the
    // ABI requires) that outlive the call.
    let ret =
        unsafe { libc::syscall(libc::SYS_fsconfig, fs.as_raw_fd(), cmd, k.as_ptr(), vptr, 0) };
    crate::check(ret).map(drop)
}

/// fsconfig(FSCONFIG_CMD_CREATE) then fsmount(2) with mount attributes: a
/// detached mount of a new superblock.
pub fn fs_create_mount(fs: BorrowedFd<'_>, attrs: u64) -> io::Result<OwnedFd> {
    // SAFETY: FSCONFIG_CMD_CREATE takes no pointers (null key and value).
    let ret = unsafe {
        libc::syscall(
            libc::SYS_fsconfig,
            fs.as_raw_fd(),
            FSCONFIG_CMD_CREATE,
            std::ptr::null::<libc::c_char>(),
            std::ptr::null::<libc::c_void>(),
            0,
        )
    };
    crate::check(ret)?;
    // SAFETY: fsmount takes only integers; FSMOUNT_CLOEXEC=1.
    let ret = unsafe { libc::syscall(libc::SYS_fsmount, fs.as_raw_fd(), 1u32, attrs) };
    crate::check_fd(ret)
}

/// mount_setattr(2) on the mount behind `fd` (recursively with `recursive`).
/// `propagation` is 0 or one of MS_PRIVATE/MS_SLAVE/MS_SHARED/MS_UNBINDABLE.
pub fn mount_setattr(
    fd: BorrowedFd<'_>,
    recursive: bool,
    set: u64,
    clear: u64,
    propagation: u64,
) -> io::Result<()> {
    setattr(
        fd,
        recursive,
        &MountAttr {
            attr_set: set,
            attr_clr: clear,
            propagation,
            userns_fd: 0,
        },
    )
}

/// mount_setattr(2) with MOUNT_ATTR_IDMAP: the detached tree `fd` shows
/// its files' owners through the id maps of the user namespace `userns`
/// (an owner the maps do not name shows as the overflow id). Needs
/// CAP_SYS_ADMIN over the filesystem (the host's root for host
/// filesystems) and a filesystem that supports it.
pub fn mount_setattr_idmap(
    fd: BorrowedFd<'_>,
    recursive: bool,
    userns: BorrowedFd<'_>,
) -> io::Result<()> {
    let userns_fd =
        u64::try_from(userns.as_raw_fd()).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    setattr(
        fd,
        recursive,
        &MountAttr {
            attr_set: MOUNT_ATTR_IDMAP,
            attr_clr: 0,
            propagation: 0,
            userns_fd,
        },
    )
}

fn setattr(fd: BorrowedFd<'_>, recursive: bool, attr: &MountAttr) -> io::Result<()> {
    let mut flags = libc::AT_EMPTY_PATH as u32;
    if recursive {
        flags |= libc::AT_RECURSIVE as u32;
    }
    let empty = c"";
    // SAFETY: `attr` is a valid mount_attr (the kernel's v0 layout) that
    // outlives the call and whose size is passed; the path is empty.
    let ret = unsafe {
        libc::syscall(
            libc::SYS_mount_setattr,
            fd.as_raw_fd(),
            empty.as_ptr(),
            flags,
            attr as *const MountAttr,
            std::mem::size_of::<MountAttr>(),
        )
    };
    crate::check(ret).map(drop)
}

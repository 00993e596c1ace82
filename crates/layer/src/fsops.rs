//! The file-system side: every path is resolved by the kernel inside the
//! layer root (openat2 `RESOLVE_IN_ROOT`: `..` and absolute symlinks stop at
//! the root, magic links are refused), and the final component is handled
//! with `*at` calls that never follow it. No path is built by joining a
//! string onto the destination's name.

use std::ffi::OsStr;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::fcntl::{AtFlags, OFlag};
use nix::sys::stat::{fstatat, mkdirat, FileStat, Mode, SFlag};
use nix::unistd::{fchown, unlinkat, Gid, Uid, UnlinkatFlags};
use ward_sys::fs::{
    openat2_path, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS,
};

const IN_ROOT: u64 = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
/// For one component below an already resolved directory: no symlink at
/// all, not even the component itself.
const ONE_COMPONENT: u64 = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

pub(crate) fn errno(e: nix::Error) -> io::Error {
    io::Error::from_raw_os_error(e as i32)
}

/// Whether symlinks inside the layer may be followed on the way to an
/// entry's directory (always inside the root either way).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Walk {
    /// Content: `a -> /etc` then `a/passwd` lands on `<layer>/etc/passwd`.
    FollowInRoot,
    /// Whiteouts: a marker reached through a symlink is refused.
    NoSymlinks,
}

/// The layer root being filled (an open directory, not O_PATH, so its
/// own attributes can be set).
pub(crate) struct Root {
    fd: OwnedFd,
}

impl Root {
    pub(crate) fn new(fd: OwnedFd) -> Root {
        Root { fd }
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    fn resolve(walk: Walk) -> u64 {
        match walk {
            Walk::FollowInRoot => IN_ROOT,
            Walk::NoSymlinks => IN_ROOT | RESOLVE_NO_SYMLINKS,
        }
    }

    /// Opens directory `rel` of the layer (O_PATH, or readable with
    /// `readable` for setting attributes) without creating anything.
    pub(crate) fn open_dir(&self, rel: &Path, walk: Walk, readable: bool) -> io::Result<OwnedFd> {
        let access = if readable {
            libc::O_RDONLY
        } else {
            libc::O_PATH
        };
        let rel = if rel.as_os_str().is_empty() {
            Path::new(".")
        } else {
            rel
        };
        openat2_path(
            self.fd(),
            rel,
            access | libc::O_DIRECTORY,
            0,
            Self::resolve(walk),
        )
    }

    /// Opens directory `rel` (O_PATH), creating the missing ones as 0755
    /// directories owned by 0:0 (counted in `implicit`). A component that
    /// exists but is not a directory, or a symlink that leads nowhere in the
    /// layer, is an error (ENOTDIR, or EEXIST for the dangling symlink).
    pub(crate) fn make_dir_all(
        &self,
        rel: &Path,
        walk: Walk,
        implicit: &mut u64,
    ) -> io::Result<OwnedFd> {
        match self.open_dir(rel, walk, false) {
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            other => return other,
        }
        let mut dir = self.open_dir(Path::new(""), walk, false)?;
        let mut prefix = PathBuf::new();
        for comp in rel.iter() {
            prefix.push(comp);
            match self.open_dir(&prefix, walk, false) {
                Ok(fd) => dir = fd,
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {
                    make_implicit_dir(dir.as_fd(), comp)?;
                    *implicit += 1;
                    dir = self.open_dir(&prefix, walk, false)?;
                }
                Err(e) => return Err(e),
            }
        }
        Ok(dir)
    }
}

/// mkdir DIR/NAME as 0755 0:0, whatever the umask and a setgid parent
/// would make of it.
fn make_implicit_dir(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    mkdirat(Some(dir.as_raw_fd()), name, Mode::from_bits_truncate(0o700)).map_err(errno)?;
    let fd = open_child(dir, name, libc::O_RDONLY | libc::O_DIRECTORY, 0)?;
    fchown(
        fd.as_raw_fd(),
        Some(Uid::from_raw(0)),
        Some(Gid::from_raw(0)),
    )
    .map_err(errno)?;
    nix::sys::stat::fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(0o755)).map_err(errno)
}

/// Opens DIR/NAME, NAME being one component that is not followed if it is
/// a symlink (the open fails with ELOOP instead).
pub(crate) fn open_child(
    dir: BorrowedFd<'_>,
    name: &OsStr,
    flags: i32,
    mode: u32,
) -> io::Result<OwnedFd> {
    openat2_path(
        dir,
        Path::new(name),
        flags | libc::O_NOFOLLOW,
        mode,
        ONE_COMPONENT,
    )
}

/// lstat of DIR/NAME; `None` when nothing is there.
pub(crate) fn lstat_at(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<Option<FileStat>> {
    match fstatat(Some(dir.as_raw_fd()), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => Ok(Some(st)),
        Err(nix::Error::ENOENT) => Ok(None),
        Err(e) => Err(errno(e)),
    }
}

pub(crate) fn file_type(st: &FileStat) -> SFlag {
    SFlag::from_bits_truncate(st.st_mode & SFlag::S_IFMT.bits())
}

pub(crate) fn is_dir(st: &FileStat) -> bool {
    file_type(st) == SFlag::S_IFDIR
}

/// An overlay whiteout: a character device 0:0. In a layer directory only
/// the unpacker makes these (a 0:0 device from the tar is skipped).
pub(crate) fn is_whiteout(st: &FileStat) -> bool {
    file_type(st) == SFlag::S_IFCHR && st.st_rdev == 0
}

/// Removes DIR/NAME (`st` is its lstat): a directory with everything below
/// it, anything else by unlink. Symlinks are removed, never followed.
pub(crate) fn remove_at(dir: BorrowedFd<'_>, name: &OsStr, st: &FileStat) -> io::Result<()> {
    if is_dir(st) {
        // std's remove_dir_all walks with openat/unlinkat and O_NOFOLLOW
        // (hardened since CVE-2022-21658); the /proc/self/fd prefix is the
        // directory already resolved inside the root.
        std::fs::remove_dir_all(Path::new(&ward_sys::fs::fd_path(dir)).join(name))
    } else {
        unlinkat(Some(dir.as_raw_fd()), name, UnlinkatFlags::NoRemoveDir).map_err(errno)
    }
}

/// Makes room for a new non-directory at DIR/NAME: removes whatever is
/// there (a later entry wins, as in tar).
pub(crate) fn clear(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<()> {
    match lstat_at(dir, name)? {
        Some(st) => remove_at(dir, name, &st),
        None => Ok(()),
    }
}

/// O_CREAT|O_EXCL of a new regular file DIR/NAME (mode 0600 until the
/// entry's mode is applied), replacing what was there.
pub(crate) fn create_file(dir: BorrowedFd<'_>, name: &OsStr) -> io::Result<OwnedFd> {
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL;
    match open_child(dir, name, flags, 0o600) {
        Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {
            clear(dir, name)?;
            open_child(dir, name, flags, 0o600)
        }
        other => other,
    }
}

/// Flags for the `*at` calls that must act on a symlink itself.
pub(crate) fn nofollow() -> AtFlags {
    AtFlags::AT_SYMLINK_NOFOLLOW
}

/// O_RDONLY|O_DIRECTORY for attribute changes on a directory fd.
pub(crate) fn dir_flags() -> i32 {
    (OFlag::O_RDONLY | OFlag::O_DIRECTORY).bits()
}

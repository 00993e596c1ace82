//! /dev: a minimal set of device nodes, never the host's /dev.
//!
//! Threat: a host /dev exposes disks (/dev/sda), memory (/dev/mem) and
//! kernel interfaces; with them a container owns the host. Only the
//! harmless nodes below exist, plus the devices the config lists. Inside a
//! user namespace mknod is not allowed, so the host nodes are bind-mounted.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;

use nix::sys::stat::{Mode, SFlag};
use ward_spec::Device;
use ward_sys::mount as m;

use super::{create_in, open_in};
use crate::{err, Context, Result};

/// The nodes every container gets (as runc and crun create them).
pub fn default_devices() -> Vec<Device> {
    [
        ("/dev/null", 1, 3),
        ("/dev/zero", 1, 5),
        ("/dev/full", 1, 7),
        ("/dev/random", 1, 8),
        ("/dev/urandom", 1, 9),
        ("/dev/tty", 5, 0),
    ]
    .into_iter()
    .map(|(path, major, minor)| Device {
        kind: "c".into(),
        path: path.into(),
        major,
        minor,
        file_mode: Some(0o666),
        uid: Some(0),
        gid: Some(0),
    })
    .collect()
}

/// Without a mount on /dev the default devices go into the image's own
/// /dev (runc and crun do the same). Threat: an image whose /dev is a
/// symlink (to /, /etc, a host path) would have the nodes, the /dev/pts and
/// /dev/shm mounts and the masking source land elsewhere — crun 1.8.1
/// creates /etc/null on the host for `/dev -> /etc`; runc resolves it in
/// the rootfs and writes rootfs/etc/null. ward refuses it, before any mount
/// is made. A missing /dev is created (as runc does). `root` is the rootfs
/// tree, not yet the container's `/`, so `dev` names exactly one entry.
pub fn check_image_dev(root: BorrowedFd<'_>) -> Result<()> {
    let fix = "make /dev a directory in the image, or mount a tmpfs on /dev (mounts[], as `runc spec` does)";
    match nix::sys::stat::fstatat(
        Some(root.as_raw_fd()),
        "dev",
        nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
    ) {
        Ok(st) => match st.st_mode & libc::S_IFMT {
            libc::S_IFDIR => Ok(()),
            libc::S_IFLNK => {
                let target = nix::fcntl::readlinkat(Some(root.as_raw_fd()), "dev")
                    .map(|t| t.to_string_lossy().into_owned())
                    .unwrap_or_else(|_| "?".into());
                Err(err(
                    "devices",
                    format!("root.path's /dev is a symlink (to {target:?}) and no mount is configured on /dev: refusing to create the default devices through it; {fix}"),
                ))
            }
            _ => Err(err(
                "devices",
                format!(
                    "root.path's /dev is not a directory and no mount is configured on /dev; {fix}"
                ),
            )),
        },
        Err(nix::errno::Errno::ENOENT) => nix::sys::stat::mkdirat(
            Some(root.as_raw_fd()),
            "dev",
            Mode::from_bits_truncate(0o755),
        )
        .layer("devices", || {
            format!("creating /dev in root.path; or {fix}")
        }),
        Err(e) => Err(err("devices", format!("root.path's /dev: {e}; {fix}"))),
    }
}

/// Creates `devices` in the rootfs: mknod, or a bind of the host node when
/// `bind` (inside a user namespace).
pub fn create_devices(root: BorrowedFd<'_>, devices: &[Device], bind: bool) -> Result<()> {
    for d in devices {
        let rel = d.path.trim_start_matches('/');
        let (dir, name) = match rel.rsplit_once('/') {
            Some((dir, name)) => (dir, name),
            None => ("", rel),
        };
        if name.is_empty() || name == ".." || name == "." {
            return Err(err("devices", format!("{:?} is not a device path", d.path)));
        }
        let parent = create_in(root, if dir.is_empty() { "/" } else { dir }, true)?;
        let parent = reopen_dir(&parent)?;
        // Replace whatever the image has there (a regular file, a symlink).
        let _ = nix::unistd::unlinkat(
            Some(parent.as_raw_fd()),
            name,
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
        if bind {
            let target = create_in(root, &d.path, false)?;
            let host = std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
                .open(&d.path)
                .layer("devices", || {
                    format!("opening host device {} to bind it", d.path)
                })?;
            let tree = m::open_tree(host.as_fd(), "", true, false)
                .layer("devices", || format!("cloning {}", d.path))?;
            m::move_mount_fd(tree.as_fd(), target.as_fd())
                .layer("devices", || format!("binding {}", d.path))?;
            continue;
        }
        let kind = match d.kind.as_str() {
            "c" | "u" => SFlag::S_IFCHR,
            "b" => SFlag::S_IFBLK,
            "p" => SFlag::S_IFIFO,
            other => {
                return Err(err(
                    "devices",
                    format!("{}: unknown type {other:?}", d.path),
                ))
            }
        };
        let dev = nix::sys::stat::makedev(d.major as u64, d.minor as u64);
        let mode = Mode::from_bits_truncate(d.file_mode.unwrap_or(0o666) & 0o7777);
        match nix::sys::stat::mknodat(Some(parent.as_raw_fd()), name, kind, mode, dev) {
            Ok(()) => {}
            // The unlink above removes files, symlinks and fifos, not a
            // directory.
            Err(nix::errno::Errno::EEXIST) => {
                return Err(err(
                    "devices",
                    format!(
                        "mknod {}: the image has a directory there; remove it from the image",
                        d.path
                    ),
                ))
            }
            Err(e) => return Err(err("devices", format!("mknod {}: {e}", d.path))),
        }
        // mknod applies the umask; set the exact mode and owner.
        nix::sys::stat::fchmodat(
            Some(parent.as_raw_fd()),
            name,
            mode,
            nix::sys::stat::FchmodatFlags::NoFollowSymlink,
        )
        .or_else(|e| {
            if e == nix::errno::Errno::EOPNOTSUPP {
                Ok(())
            } else {
                Err(e)
            }
        })
        .layer("devices", || format!("chmod {}", d.path))?;
        nix::unistd::fchownat(
            Some(parent.as_raw_fd()),
            name,
            Some(nix::unistd::Uid::from_raw(d.uid.unwrap_or(0))),
            Some(nix::unistd::Gid::from_raw(d.gid.unwrap_or(0))),
            nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW,
        )
        .layer("devices", || format!("chown {}", d.path))?;
    }
    Ok(())
}

/// An O_DIRECTORY fd from an O_PATH one (for the *at calls).
fn reopen_dir(fd: &std::os::fd::OwnedFd) -> Result<std::os::fd::OwnedFd> {
    ward_sys::fs::openat2(fd.as_fd(), ".", libc::O_DIRECTORY | libc::O_RDONLY, 0, 0)
        .layer("devices", || "opening /dev".into())
}

/// The standard links: /dev/fd, stdin, stdout, stderr, ptmx (and core when
/// /proc/kcore exists).
pub fn create_links(root: BorrowedFd<'_>) -> Result<()> {
    let dev = reopen_dir(&create_in(root, "/dev", true)?)?;
    let mut links = vec![
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ];
    if open_in(root, "/dev/pts").is_ok() {
        let _ = nix::unistd::unlinkat(
            Some(dev.as_raw_fd()),
            "ptmx",
            nix::unistd::UnlinkatFlags::NoRemoveDir,
        );
        links.push(("ptmx", "pts/ptmx"));
    }
    if std::path::Path::new("/proc/kcore").exists() {
        links.push(("core", "/proc/kcore"));
    }
    for (name, target) in links {
        match nix::unistd::symlinkat(target, Some(dev.as_raw_fd()), name) {
            Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
            Err(e) => {
                return Err(err(
                    "devices",
                    format!("symlink /dev/{name} -> {target}: {e}"),
                ))
            }
        }
    }
    Ok(())
}

/// Bind-mounts the console pty slave onto /dev/console.
pub fn bind_console(root: BorrowedFd<'_>, slave: BorrowedFd<'_>) -> Result<()> {
    let target = create_in(root, "/dev/console", false)?;
    let tree =
        m::open_tree(slave, "", true, false).layer("console", || "cloning the pty".into())?;
    m::move_mount_fd(tree.as_fd(), target.as_fd())
        .layer("console", || "binding the pty on /dev/console".into())
}

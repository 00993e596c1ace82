//! A container's root filesystem: an overlay of the image's unpacked
//! layers, each id-mapped through the container's user namespace, with a
//! per-container writable upper layer under
//! `<store>/containers/<id>/{upper,work,merged}`.
//!
//! Why id-mapped: the layers are owned by the image's ids (0:0 ...) on
//! disk and shared by every container of the image; the container's root
//! is an unprivileged host id. The id-mapped lower mounts show the image's
//! files to the container as its own ids without chown-ing a shared copy.
//!
//! The mounts are made in ward's own mount namespace ([`private_mounts`]):
//! they vanish with the process, whatever way it ends, and the host never
//! sees them.

use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ward_sys::mount as m;

/// The directory of the containers, beside the image store's files.
pub const CONTAINERS_DIR: &str = "containers";

/// Moves this process into a mount namespace of its own whose mounts
/// receive the host's changes but never propagate back: the overlay and
/// its id-mapped layers are seen only by ward and the container, and are
/// gone when ward exits, even when it is killed.
pub fn private_mounts() -> io::Result<()> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS)?;
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_SLAVE,
        None::<&str>,
    )?;
    Ok(())
}

/// `<store>/containers/<id>` while the container exists: the overlay is
/// unmounted when this is dropped, and the directory removed unless
/// [`ContainerDir::keep`] was called.
#[derive(Debug)]
pub struct ContainerDir {
    pub dir: PathBuf,
    pub merged: PathBuf,
    mounted: bool,
    remove: bool,
}

impl ContainerDir {
    /// Makes the directories and mounts the overlay of `lower_dirs`
    /// (bottom first, as [`crate::Unpacked`] lists them), each id-mapped
    /// through `userns`; the upper layer's root is owned by `owner` (the
    /// host ids of the container's root) so that its root can write.
    pub fn create(
        store_root: &Path,
        id: &str,
        lower_dirs: &[PathBuf],
        userns: BorrowedFd<'_>,
        owner: (u32, u32),
    ) -> io::Result<ContainerDir> {
        let parent = store_root.join(CONTAINERS_DIR);
        // Searchable, not listable: the container's init opens its root
        // by path once it is the container's root (an unprivileged host id).
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o711)
            .create(&parent)?;
        fs::set_permissions(&parent, fs::Permissions::from_mode(0o711))?;
        searchable_by_others(&parent)?;
        let dir = parent.join(id);
        // Not recursive: an id in use is an error, never a shared directory.
        fs::DirBuilder::new().mode(0o711).create(&dir)?;
        let mut made = ContainerDir {
            merged: dir.join("merged"),
            dir,
            mounted: false,
            remove: true,
        };
        made.mount(lower_dirs, userns, owner)?;
        Ok(made)
    }

    fn mount(
        &mut self,
        lower_dirs: &[PathBuf],
        userns: BorrowedFd<'_>,
        owner: (u32, u32),
    ) -> io::Result<()> {
        let ctx =
            |what: String| move |e: io::Error| io::Error::new(e.kind(), format!("{what}: {e}"));
        if lower_dirs.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the image has no layers",
            ));
        }
        let upper = self.dir.join("upper");
        let work = self.dir.join("work");
        let lower = self.dir.join("lower");
        for d in [&upper, &work, &lower, &self.merged] {
            fs::DirBuilder::new().mode(0o700).create(d)?;
        }
        fs::set_permissions(&upper, fs::Permissions::from_mode(0o755))?;
        fs::set_permissions(&self.merged, fs::Permissions::from_mode(0o755))?;
        std::os::unix::fs::chown(&upper, Some(owner.0), Some(owner.1))?;
        // The id-mapped lower layers are attached under lower/ only until
        // the overlay holds them, then detached: the overlay keeps them.
        let mut attached = Vec::new();
        let result = (|| {
            for (i, src) in lower_dirs.iter().enumerate() {
                let target = lower.join(i.to_string());
                fs::DirBuilder::new().mode(0o700).create(&target)?;
                let tree = idmapped_tree(src, userns).map_err(ctx(format!(
                    "id-mapping the layer {} (needs a kernel and filesystem with id-mapped mounts)",
                    src.display()
                )))?;
                m::move_mount_fd(tree.as_fd(), open_path(&target)?.as_fd())?;
                attached.push(target);
            }
            let fs_ctx = m::fsopen("overlay")?;
            // Topmost first, as overlayfs stacks them.
            for target in attached.iter().rev() {
                m::fsconfig_set(fs_ctx.as_fd(), "lowerdir+", Some(&path_str(target)?))?;
            }
            m::fsconfig_set(fs_ctx.as_fd(), "upperdir", Some(&path_str(&upper)?))?;
            m::fsconfig_set(fs_ctx.as_fd(), "workdir", Some(&path_str(&work)?))?;
            let mnt = m::fs_create_mount(fs_ctx.as_fd(), m::MOUNT_ATTR_NODEV)
                .map_err(ctx("mounting the overlay of the image's layers".into()))?;
            m::move_mount_fd(mnt.as_fd(), open_path(&self.merged)?.as_fd())?;
            self.mounted = true;
            Ok(())
        })();
        for target in &attached {
            let _ = nix::mount::umount2(target, nix::mount::MntFlags::MNT_DETACH);
        }
        let _ = fs::remove_dir_all(&lower);
        result
    }

    /// Keeps the directory (and its upper layer) when this is dropped.
    pub fn keep(&mut self) {
        self.remove = false;
    }
}

impl Drop for ContainerDir {
    fn drop(&mut self) {
        if self.mounted {
            let _ = nix::mount::umount2(&self.merged, nix::mount::MntFlags::MNT_DETACH);
        }
        if self.remove {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// Whether every directory down to `dir` lets others search it: the
/// container's root is an unprivileged host id that must reach its root
/// filesystem by path.
fn searchable_by_others(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::MetadataExt;
    for d in dir.ancestors() {
        if d.as_os_str().is_empty() {
            continue;
        }
        if fs::metadata(d)?.mode() & 0o001 == 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "{} is not searchable by others, and the container's root (an unprivileged host id) must reach its root filesystem under it: chmod o+x {0} or use another --root",
                    d.display()
                ),
            ));
        }
    }
    Ok(())
}

/// A detached copy of `src` whose owners show through `userns`'s maps.
fn idmapped_tree(src: &Path, userns: BorrowedFd<'_>) -> io::Result<OwnedFd> {
    let tree = m::open_tree(open_path(src)?.as_fd(), "", true, false)?;
    m::mount_setattr_idmap(tree.as_fd(), false, userns)?;
    Ok(tree)
}

fn open_path(p: &Path) -> io::Result<OwnedFd> {
    use std::os::unix::fs::OpenOptionsExt;
    fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(p)
        .map(OwnedFd::from)
}

fn path_str(p: &Path) -> io::Result<String> {
    p.to_str().map(str::to_owned).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not UTF-8", p.display()),
        )
    })
}

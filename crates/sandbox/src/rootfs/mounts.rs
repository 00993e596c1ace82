//! `mounts` of the config, made with the new mount API onto fds resolved
//! inside the rootfs.
//!
//! Threats: a mount destination that is (or races into) a symlink out of the
//! rootfs (CVE-2021-30465); a proc or sysfs mounted over an attacker-chosen
//! location (CVE-2019-19921, CVE-2023-27561); a bind mount that is briefly
//! writable before its `ro` flag is applied. Flags are set on the detached
//! tree, and the tree is attached to the exact inode that was resolved.

use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use ward_spec::Mount;
use ward_sys::mount as m;

use super::{create_in, file_type};
use crate::{err, Context, Result};

/// Mount options of the config, split into what each syscall takes.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Options {
    pub set: u64,
    pub clear: u64,
    pub bind: bool,
    pub recursive: bool,
    /// Propagation flag (MS_PRIVATE, ...) and whether it is recursive.
    pub propagation: Option<(u64, bool)>,
    /// Filesystem options for fsconfig: key and optional value.
    pub data: Vec<(String, Option<String>)>,
    /// `tmpcopyup`: fill the new tmpfs with what it covers.
    pub copy_up: bool,
}

/// Splits OCI mount options (`["nosuid", "mode=755", "rbind"]`).
pub fn parse_options(opts: &[String]) -> Result<Options> {
    let mut o = Options::default();
    let atime = |o: &mut Options, v: u64| {
        o.clear |= m::MOUNT_ATTR__ATIME;
        o.set = (o.set & !m::MOUNT_ATTR__ATIME) | v;
    };
    for opt in opts {
        match opt.as_str() {
            "ro" | "rro" => o.set |= m::MOUNT_ATTR_RDONLY,
            "rw" | "rrw" => o.clear |= m::MOUNT_ATTR_RDONLY,
            "nosuid" | "rnosuid" => o.set |= m::MOUNT_ATTR_NOSUID,
            "suid" | "rsuid" => o.clear |= m::MOUNT_ATTR_NOSUID,
            "nodev" | "rnodev" => o.set |= m::MOUNT_ATTR_NODEV,
            "dev" | "rdev" => o.clear |= m::MOUNT_ATTR_NODEV,
            "noexec" | "rnoexec" => o.set |= m::MOUNT_ATTR_NOEXEC,
            "exec" | "rexec" => o.clear |= m::MOUNT_ATTR_NOEXEC,
            "nosymfollow" => o.set |= m::MOUNT_ATTR_NOSYMFOLLOW,
            "symfollow" => o.clear |= m::MOUNT_ATTR_NOSYMFOLLOW,
            "noatime" | "rnoatime" => atime(&mut o, m::MOUNT_ATTR_NOATIME),
            "relatime" | "rrelatime" => atime(&mut o, m::MOUNT_ATTR_RELATIME),
            "strictatime" | "rstrictatime" => atime(&mut o, m::MOUNT_ATTR_STRICTATIME),
            "atime" => o.clear |= m::MOUNT_ATTR__ATIME,
            "nodiratime" | "rnodiratime" => o.set |= m::MOUNT_ATTR_NODIRATIME,
            "diratime" | "rdiratime" => o.clear |= m::MOUNT_ATTR_NODIRATIME,
            "bind" => o.bind = true,
            "rbind" => {
                o.bind = true;
                o.recursive = true
            }
            "private" => o.propagation = Some((libc::MS_PRIVATE, false)),
            "rprivate" => o.propagation = Some((libc::MS_PRIVATE, true)),
            "shared" => o.propagation = Some((libc::MS_SHARED, false)),
            "rshared" => o.propagation = Some((libc::MS_SHARED, true)),
            "slave" => o.propagation = Some((libc::MS_SLAVE, false)),
            "rslave" => o.propagation = Some((libc::MS_SLAVE, true)),
            "unbindable" => o.propagation = Some((libc::MS_UNBINDABLE, false)),
            "runbindable" => o.propagation = Some((libc::MS_UNBINDABLE, true)),
            "defaults" | "async" | "remount" => {}
            "idmap" | "ridmap" => {
                return Err(err(
                    "mounts",
                    format!("option {opt:?} (id-mapped mounts) is not supported yet"),
                ))
            }
            "tmpcopyup" => o.copy_up = true,
            other => match other.split_once('=') {
                Some((k, v)) => o.data.push((k.to_string(), Some(v.to_string()))),
                None => o.data.push((other.to_string(), None)),
            },
        }
    }
    Ok(o)
}

/// A cgroup hierarchy to show at `/sys/fs/cgroup[/<name>]`: the host path
/// of the container's own cgroup directory in it.
#[derive(Debug, Clone)]
pub struct CgroupMount {
    /// Subdirectory under the mount point ("memory"), or "" for cgroup v2.
    pub name: String,
    pub host_path: std::path::PathBuf,
}

/// Adds the SELinux `context=` option (`linux.mountLabel`) to a new
/// filesystem's options, as runc does for tmpfs, devpts and the other
/// filesystems it creates (not proc, sysfs, mqueue, binds): the container's
/// files then carry the container's label instead of the filesystem
/// default, which the container's policy would deny (or, worse, a label
/// shared with the host). `label` is only `Some` when SELinux is enabled
/// (checked at create).
pub fn labelled(opts: &Options, label: Option<&str>) -> Options {
    let mut o = opts.clone();
    if let Some(l) = label {
        // fsconfig takes the raw value (mount(2)'s data needed quotes).
        o.data.push(("context".into(), Some(l.to_string())));
    }
    o
}

/// mqueue does not take `context=`: label its root inode instead (runc's
/// SetFileLabel).
fn label_root(tree: &OwnedFd, label: &str) -> Result<()> {
    let dir = ward_sys::fs::openat2(
        tree.as_fd(),
        ".",
        libc::O_RDONLY | libc::O_DIRECTORY,
        0,
        ward_sys::fs::RESOLVE_NO_XDEV,
    )
    .layer("mounts", || "opening the mqueue root to label it".into())?;
    ward_sys::fs::set_xattr(dir.as_fd(), "security.selinux", label.as_bytes())
        .layer("selinux", || {
            format!("labelling mqueue with {label:?} (linux.mountLabel)")
        })
}

/// Makes every mount of the config under `root` (an fd on the rootfs mount).
/// `label`: `linux.mountLabel` (SELinux enabled).
pub fn apply(
    root: BorrowedFd<'_>,
    bundle: &Path,
    pins: &super::source::Pins,
    mounts: &[Mount],
    cgroups: &[CgroupMount],
    label: Option<&str>,
) -> Result<()> {
    for (i, mnt) in mounts.iter().enumerate() {
        let pin = pins.binds.get(&i).copied();
        mount_one(root, bundle, pin, mnt, cgroups, label).map_err(|e| {
            err(
                e.layer,
                format!("mounts[{i}] ({}): {}", mnt.destination, e.msg),
            )
        })?;
    }
    Ok(())
}

fn mount_one(
    root: BorrowedFd<'_>,
    bundle: &Path,
    pin: Option<super::source::Identity>,
    mnt: &Mount,
    cgroups: &[CgroupMount],
    label: Option<&str>,
) -> Result<()> {
    let opts = parse_options(&mnt.options)?;
    let kind = mnt.kind.as_deref().unwrap_or("");
    let is_bind = opts.bind || kind == "bind";
    let tree = if is_bind {
        let source = mnt
            .source
            .as_deref()
            .ok_or_else(|| err("mounts", "a bind mount needs a source"))?;
        let source = super::source::host_path(bundle, source);
        // The file the runtime opened and judged, or nothing.
        let src = super::source::reopen_pinned(&source, pin, "bind source")?;
        let src_is_dir = super::source::identity(src.as_fd())
            .is_ok_and(|(_, mode, _)| mode & libc::S_IFMT == libc::S_IFDIR);
        let tree = m::open_tree(src.as_fd(), "", true, opts.recursive).layer("mounts", || {
            format!("cloning the mount of {}", source.display())
        })?;
        if opts.set != 0 || opts.clear != 0 {
            m::mount_setattr(tree.as_fd(), opts.recursive, opts.set, opts.clear, 0)
                .layer("mounts", || format!("setting flags {:?}", mnt.options))?;
        }
        let target = create_in(root, &mnt.destination, src_is_dir)?;
        attach(&tree, &target)?;
        return propagate(&tree, &opts);
    } else if kind == "cgroup" {
        return mount_cgroups(root, mnt, &opts, cgroups, label);
    } else if opts.copy_up {
        if kind != "tmpfs" {
            return Err(err(
                "mounts",
                format!("option tmpcopyup is for tmpfs mounts, not {kind:?}"),
            ));
        }
        // Writable until the copy is done; `ro` is applied after it.
        let writable = Options {
            set: opts.set & !m::MOUNT_ATTR_RDONLY,
            ..labelled(&opts, label)
        };
        new_fs(kind, mnt.source.as_deref(), &writable)?
    } else if matches!(kind, "proc" | "sysfs" | "mqueue") {
        let tree = new_fs(kind, mnt.source.as_deref(), &opts)?;
        if let (Some(l), "mqueue") = (label, kind) {
            label_root(&tree, l)?;
        }
        tree
    } else {
        new_fs(kind, mnt.source.as_deref(), &labelled(&opts, label))?
    };
    let target = create_in(root, &mnt.destination, true)?;
    if opts.copy_up {
        super::copyup::copy_up(target.as_fd(), tree.as_fd())?;
        if opts.set & m::MOUNT_ATTR_RDONLY != 0 {
            m::mount_setattr(tree.as_fd(), false, m::MOUNT_ATTR_RDONLY, 0, 0)
                .layer("mounts", || "tmpfs read-only after tmpcopyup".into())?;
        }
    }
    if matches!(kind, "proc" | "sysfs") || is_dev(&mnt.destination) {
        // proc and sysfs must land on a real directory of the rootfs: a
        // symlink there is how CVE-2019-19921 redirected them.
        let (t, _) = file_type(target.as_fd())?;
        if t != libc::S_IFDIR {
            return Err(err(
                "mounts",
                format!(
                    "{kind} must be mounted on a directory, and {} is not one",
                    mnt.destination
                ),
            ));
        }
        let real = ward_sys::fs::openat2(
            root,
            &mnt.destination,
            libc::O_PATH,
            0,
            ward_sys::fs::RESOLVE_IN_ROOT | ward_sys::fs::RESOLVE_NO_SYMLINKS,
        );
        if real.is_err() {
            return Err(err(
                "mounts",
                format!(
                    "{} is reached through a symlink; refusing to mount {kind} there",
                    mnt.destination
                ),
            ));
        }
    }
    attach(&tree, &target)?;
    propagate(&tree, &opts)
}

/// Whether a mount destination is the container's /dev.
pub fn is_dev(destination: &str) -> bool {
    destination.trim_matches('/') == "dev"
}

/// A detached mount of a new filesystem instance.
pub fn new_fs(kind: &str, source: Option<&str>, opts: &Options) -> Result<OwnedFd> {
    if kind.is_empty() {
        return Err(err(
            "mounts",
            "the mount has no type and is not a bind mount",
        ));
    }
    let fs = m::fsopen(kind).layer("mounts", || {
        format!("filesystem type {kind:?} (is it known to this kernel?)")
    })?;
    if let Some(src) = source {
        // Some filesystems (proc) take no source; tell those apart by the error.
        if let Err(e) = m::fsconfig_set(fs.as_fd(), "source", Some(src)) {
            if e.raw_os_error() != Some(libc::EINVAL) {
                return Err(err("mounts", format!("source {src:?}: {e}")));
            }
        }
    }
    for (k, v) in &opts.data {
        m::fsconfig_set(fs.as_fd(), k, v.as_deref()).layer("mounts", || match v {
            Some(v) => format!("option {k}={v} for {kind}"),
            None => format!("option {k} for {kind}"),
        })?;
    }
    m::fs_create_mount(fs.as_fd(), opts.set)
        .layer("mounts", || format!("creating the {kind} mount"))
}

fn attach(tree: &OwnedFd, target: &OwnedFd) -> Result<()> {
    m::move_mount_fd(tree.as_fd(), target.as_fd()).layer("mounts", || "attaching the mount".into())
}

/// Sets the propagation of an attached mount (`mount` is the fd of the
/// tree that was attached: after move_mount it names the mount itself).
fn propagate(mount: &OwnedFd, opts: &Options) -> Result<()> {
    if let Some((flag, recursive)) = opts.propagation {
        m::mount_setattr(mount.as_fd(), recursive, 0, 0, flag)
            .layer("mounts", || "setting mount propagation".into())?;
    }
    Ok(())
}

/// OCI `cgroup` mounts: the container sees only its own cgroup (read-only
/// by default): a tmpfs with one bind per v1 hierarchy, or one bind of its
/// v2 directory. Threat: a writable host cgroupfs gives `release_agent`
/// (CVE-2022-0492) and lets a container lift its own limits.
fn mount_cgroups(
    root: BorrowedFd<'_>,
    mnt: &Mount,
    opts: &Options,
    cgroups: &[CgroupMount],
    label: Option<&str>,
) -> Result<()> {
    let mut bind_opts = opts.clone();
    bind_opts.set |= m::MOUNT_ATTR_NOSUID | m::MOUNT_ATTR_NODEV | m::MOUNT_ATTR_NOEXEC;
    let base = create_in(root, &mnt.destination, true)?;
    let v1 = cgroups.iter().any(|c| !c.name.is_empty());
    let tmpfs = if v1 {
        let tmpfs_opts = Options {
            set: m::MOUNT_ATTR_NOSUID | m::MOUNT_ATTR_NODEV | m::MOUNT_ATTR_NOEXEC,
            data: vec![("mode".into(), Some("755".into()))],
            ..Options::default()
        };
        let tmpfs = new_fs("tmpfs", Some("tmpfs"), &labelled(&tmpfs_opts, label))?;
        attach(&tmpfs, &base)?;
        Some(tmpfs)
    } else {
        None
    };
    for cg in cgroups {
        let src = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_CLOEXEC | libc::O_DIRECTORY)
            .open(&cg.host_path)
            .layer("mounts", || {
                format!("opening cgroup {}", cg.host_path.display())
            })?;
        let tree = m::open_tree(src.as_fd(), "", true, false).layer("mounts", || {
            format!("cloning cgroup {}", cg.host_path.display())
        })?;
        m::mount_setattr(tree.as_fd(), false, bind_opts.set, bind_opts.clear, 0)
            .layer("mounts", || "cgroup mount flags".into())?;
        let dest = if cg.name.is_empty() {
            mnt.destination.clone()
        } else {
            format!("{}/{}", mnt.destination, cg.name)
        };
        let target = create_in(root, &dest, true)?;
        attach(&tree, &target)?;
    }
    if let Some(tmpfs) = tmpfs {
        // The tmpfs itself is read-only once the hierarchies are in place.
        if opts.set & m::MOUNT_ATTR_RDONLY != 0 {
            m::mount_setattr(tmpfs.as_fd(), false, m::MOUNT_ATTR_RDONLY, 0, 0)
                .layer("mounts", || "cgroup tmpfs read-only".into())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn options_split_into_flags_and_data() {
        let o = parse_options(&s(&[
            "nosuid",
            "noexec",
            "nodev",
            "mode=755",
            "size=65536k",
            "newinstance",
            "ro",
        ]))
        .expect("valid");
        assert_eq!(
            o.set,
            m::MOUNT_ATTR_NOSUID
                | m::MOUNT_ATTR_NOEXEC
                | m::MOUNT_ATTR_NODEV
                | m::MOUNT_ATTR_RDONLY
        );
        assert_eq!(o.data.len(), 3);
        assert_eq!(o.data[2], ("newinstance".to_string(), None));
        let o = parse_options(&s(&["rbind", "rprivate"])).expect("valid");
        assert!(o.bind && o.recursive);
        assert_eq!(o.propagation, Some((libc::MS_PRIVATE, true)));
        assert!(parse_options(&s(&["idmap"])).is_err());
    }
}

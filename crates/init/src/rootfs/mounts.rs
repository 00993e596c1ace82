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
    /// `idmap` (Some(false)) or `ridmap` (Some(true), submounts too).
    pub idmap: Option<bool>,
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
            "idmap" => o.idmap = Some(false),
            "ridmap" => o.idmap = Some(true),
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
    idmapped: &mut IdmappedTrees,
    mounts: &[Mount],
    cgroups: &[CgroupMount],
    label: Option<&str>,
) -> Result<()> {
    for (i, mnt) in mounts.iter().enumerate() {
        let pin = pins.binds.get(&i).copied();
        let tree = idmapped.remove(&i);
        mount_one(root, bundle, pin, tree, mnt, cgroups, label).map_err(|e| at(i, mnt, e))?;
    }
    Ok(())
}

/// `e` of the mount at index `i`, named for the reader: `mounts[i] (/dest)`.
pub fn at(i: usize, mnt: &Mount, e: crate::Error) -> crate::Error {
    err(
        e.layer,
        format!("mounts[{i}] ({}): {}", mnt.destination, e.msg),
    )
}

fn mount_one(
    root: BorrowedFd<'_>,
    bundle: &Path,
    pin: Option<super::source::Identity>,
    idmapped: Option<OwnedFd>,
    mnt: &Mount,
    cgroups: &[CgroupMount],
    label: Option<&str>,
) -> Result<()> {
    let opts = parse_options(&mnt.options)?;
    let kind = mnt.kind.as_deref().unwrap_or("");
    let is_bind = opts.bind || kind == "bind";
    let tree = if is_bind {
        let tree = match idmapped {
            Some(tree) => tree,
            None if wants_idmap(mnt, &opts) => {
                return Err(err(
                    "mounts",
                    "the runtime did not hand over the id-mapped tree of this bind",
                ))
            }
            None => bind_tree(bundle, pin, mnt, &opts, None)?,
        };
        let src_is_dir = super::source::identity(tree.as_fd())
            .is_ok_and(|(_, mode, _)| mode & libc::S_IFMT == libc::S_IFDIR);
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

/// Id-mapped bind trees made by the runtime, by index in `mounts`.
pub type IdmappedTrees = std::collections::BTreeMap<usize, OwnedFd>;

/// Whether a config mount asks for an id-mapped bind: the `idmap` or
/// `ridmap` option, or its own uidMappings/gidMappings (runtime-spec 1.2).
pub fn wants_idmap(mnt: &Mount, opts: &Options) -> bool {
    opts.idmap.is_some() || !mnt.uid_mappings.is_empty() || !mnt.gid_mappings.is_empty()
}

/// The id-mapped binds of a config (index, options), checked before the
/// container is made. The id maps are the container's own: the runtime
/// maps each tree with the init's user namespace, so a file owned by a
/// host id that the container's maps name is owned, through this mount
/// only, by the container id it maps to (and what the container creates
/// there lands on the host as that host id).
/// `new_userns`: the container gets a user namespace of its own.
pub fn idmapped_binds(spec: &ward_spec::Spec, new_userns: bool) -> Result<Vec<(usize, Options)>> {
    let linux = spec.linux.clone().unwrap_or_default();
    let mut out = Vec::new();
    for (i, mnt) in spec.mounts.iter().enumerate() {
        let opts = parse_options(&mnt.options)?;
        if !wants_idmap(mnt, &opts) {
            continue;
        }
        let field = format!("mounts[{i}] ({})", mnt.destination);
        if !(opts.bind || mnt.kind.as_deref() == Some("bind")) {
            return Err(err(
                "mounts",
                format!("{field}: idmap/ridmap and uidMappings apply to bind mounts only: add the \"rbind\" option or drop them"),
            ));
        }
        if !new_userns || linux.uid_mappings.is_empty() || linux.gid_mappings.is_empty() {
            return Err(err(
                "mounts",
                format!("{field}: an id-mapped bind needs a new user namespace with linux.uidMappings and linux.gidMappings"),
            ));
        }
        for (name, own, container) in [
            ("uidMappings", &mnt.uid_mappings, &linux.uid_mappings),
            ("gidMappings", &mnt.gid_mappings, &linux.gid_mappings),
        ] {
            if !own.is_empty() && own != container {
                return Err(err(
                    "mounts",
                    format!("{field}: {name} that differ from linux.{name} are not supported yet: drop them to map with the container's own ids"),
                ));
            }
        }
        out.push((i, opts));
    }
    Ok(out)
}

/// The detached tree of a bind: the source that was judged (`pin`),
/// cloned (with its submounts for `rbind`), id-mapped with the user
/// namespace `userns` when given, then given the config's flags — all
/// before it is attached anywhere.
pub fn bind_tree(
    bundle: &Path,
    pin: Option<super::source::Identity>,
    mnt: &Mount,
    opts: &Options,
    userns: Option<BorrowedFd<'_>>,
) -> Result<OwnedFd> {
    let source = mnt
        .source
        .as_deref()
        .ok_or_else(|| err("mounts", "a bind mount needs a source"))?;
    let source = super::source::host_path(bundle, source);
    // The file the runtime opened and judged, or nothing.
    let src = super::source::reopen_pinned(&source, pin, "bind source")?;
    let tree = m::open_tree(src.as_fd(), "", true, opts.recursive).layer("mounts", || {
        format!("cloning the mount of {}", source.display())
    })?;
    if let Some(userns) = userns {
        // `ridmap` maps the submounts too; `idmap` (and mappings without
        // either option) only the top mount, as runc does.
        let recursive = opts.idmap == Some(true);
        m::mount_setattr_idmap(tree.as_fd(), recursive, userns).map_err(|e| {
            let why = match e.raw_os_error() {
                Some(libc::EINVAL) => ": its filesystem (or one mounted below it) cannot be id-mapped on this kernel (tmpfs needs Linux 6.3; 9p, NFS and FUSE cannot)",
                Some(libc::EPERM) => ": an id-mapped mount needs CAP_SYS_ADMIN in the host's user namespace (run the runtime as root)",
                _ => "",
            };
            err(
                "mounts",
                format!("id-mapping the bind of {}: {e}{why}", source.display()),
            )
        })?;
    }
    if opts.set != 0 || opts.clear != 0 {
        m::mount_setattr(tree.as_fd(), opts.recursive, opts.set, opts.clear, 0)
            .layer("mounts", || format!("setting flags {:?}", mnt.options))?;
    }
    Ok(tree)
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
        assert_eq!(
            parse_options(&s(&["idmap"])).expect("valid").idmap,
            Some(false)
        );
        assert_eq!(
            parse_options(&s(&["ridmap"])).expect("valid").idmap,
            Some(true)
        );
    }
}

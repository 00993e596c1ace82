//! Applies the entries of one tar to the layer root, one by one, turning
//! OCI whiteouts into overlayfs ones.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::sys::stat::{mknodat, utimensat, Mode, SFlag, UtimensatFlags};
use nix::sys::time::TimeSpec;
use nix::unistd::{fchownat, linkat, symlinkat, Gid, Uid};
use tar::EntryType;

use crate::budget::Meter;
use crate::fsops::{self, errno, Root, Walk};
use crate::meta::{xattr_verdict, Meta, XattrVerdict, SETID_BITS};
use crate::names::{marker, BadName, Marker, Name};
use crate::{Error, Options, Report};

pub(crate) const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// State of one unpack: the counts, and what is finished at the end
/// (directory times, which later entries would change, and opaque
/// markers, which apply whatever the order of the entries).
pub(crate) struct Applier<'a> {
    root: &'a Root,
    opts: &'a Options,
    pub report: Report,
    pub dir_times: HashMap<PathBuf, TimeSpec>,
    pub opaque: BTreeSet<PathBuf>,
    /// Device nodes not created: a hardlink to one is skipped too.
    skipped_nodes: HashSet<PathBuf>,
    /// File contents written so far (sparse files at full size).
    content_bytes: u64,
    buf: Vec<u8>,
}

/// One entry being applied: its name as the archive spells it (for
/// messages) and as checked.
struct Target<'n> {
    shown: &'n str,
    name: &'n Name,
}

impl<'a> Applier<'a> {
    pub(crate) fn new(root: &'a Root, opts: &'a Options) -> Self {
        Applier {
            root,
            opts,
            report: Report::default(),
            dir_times: HashMap::new(),
            opaque: BTreeSet::new(),
            skipped_nodes: HashSet::new(),
            content_bytes: 0,
            buf: vec![0; 256 * 1024],
        }
    }

    /// Applies one entry. Its data is read here (regular files) or left
    /// for the caller to drain.
    pub(crate) fn apply<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
        meter: &Meter,
    ) -> Result<(), Error> {
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            self.report.ignored += 1;
            return Ok(());
        }
        let raw = entry.path_bytes().into_owned();
        let shown = String::from_utf8_lossy(&raw).into_owned();
        let name = match Name::parse(&raw, &self.opts.limits) {
            Ok(name) => name,
            Err(BadName::Refused(why)) => return Err(Error::refused(shown, why)),
            Err(BadName::Limit(what)) => return Err(limit(what, &shown)),
        };
        if name.was_absolute {
            self.report.absolute_names += 1;
        }
        let target = Target {
            shown: &shown,
            name: &name,
        };
        match marker(&name).map_err(|why| Error::refused(&shown, why))? {
            Marker::AufsMeta => {
                self.report.ignored += 1;
                Ok(())
            }
            Marker::Opaque => self.opaque_marker(&target),
            Marker::Whiteout(victim) => self.whiteout(&target, &victim),
            Marker::Plain => {
                let meta = Meta::read(entry).map_err(|why| Error::refused(&shown, why))?;
                self.report.xattrs_dropped += meta.foreign_xattrs;
                self.content(&target, kind, meta, entry, meter)
            }
        }
    }

    fn content<R: Read>(
        &mut self,
        t: &Target<'_>,
        kind: EntryType,
        meta: Meta,
        entry: &mut tar::Entry<'_, R>,
        meter: &Meter,
    ) -> Result<(), Error> {
        let Some(file_name) = t.name.file_name() else {
            return if kind.is_dir() {
                let fd = self.root.open_dir(Path::new(""), Walk::FollowInRoot, true);
                let fd = fd.map_err(|e| Error::io("open", "layer root", e))?;
                self.set_dir_attrs(t, fd, meta)
            } else {
                Err(Error::refused(
                    t.shown,
                    "the layer root must be a directory",
                ))
            };
        };
        let parent = self.parent(t, Walk::FollowInRoot)?;
        let parent = parent.as_fd();
        match kind {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.regular(t, parent, file_name, meta, entry, meter)
            }
            EntryType::Directory => self.directory(t, parent, file_name, meta),
            EntryType::Symlink => {
                let target = entry.link_name_bytes().map(|l| l.into_owned());
                self.symlink(t, parent, file_name, meta, target)
            }
            EntryType::Link => {
                let target = entry.link_name_bytes().map(|l| l.into_owned());
                self.hardlink(t, parent, file_name, target)
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                let header = entry.header();
                let major = header.device_major().ok().flatten().unwrap_or(0);
                let minor = header.device_minor().ok().flatten().unwrap_or(0);
                self.node(t, parent, file_name, kind, meta, (major, minor))
            }
            other => Err(Error::refused(
                t.shown,
                format!("unsupported tar entry type {:?}", other.as_byte() as char),
            )),
        }
    }

    /// The entry's directory, created (0755 0:0) if the tar did not list it.
    fn parent(&mut self, t: &Target<'_>, walk: Walk) -> Result<OwnedFd, Error> {
        let rel = t.name.parent();
        let made = self
            .root
            .make_dir_all(&rel, walk, &mut self.report.implicit_dirs);
        made.map_err(|e| match e.raw_os_error() {
            Some(libc::ELOOP) if walk == Walk::NoSymlinks => {
                Error::refused(t.shown, "a whiteout may not be reached through a symlink")
            }
            Some(libc::ENOTDIR) => {
                Error::refused(t.shown, "a component of its directory is not a directory")
            }
            Some(libc::EEXIST) => Error::refused(
                t.shown,
                "its directory is a symlink that leads nowhere in the layer",
            ),
            _ => Error::io("resolve the directory of", t.shown, e),
        })
    }

    fn regular<R: Read>(
        &mut self,
        t: &Target<'_>,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        mut meta: Meta,
        entry: &mut tar::Entry<'_, R>,
        meter: &Meter,
    ) -> Result<(), Error> {
        let size = entry.size();
        let max = self.opts.limits.max_bytes;
        self.content_bytes = self.content_bytes.saturating_add(size);
        if self.content_bytes > max {
            return Err(limit("max_bytes", &format!("{} ({size} bytes)", t.shown)));
        }
        let fd = fsops::create_file(parent, name).map_err(|e| Error::io("create", t.shown, e))?;
        let mut file = std::fs::File::from(fd);
        let mut written = 0u64;
        loop {
            let n = match entry.read(&mut self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(stream_error(meter, e)),
            };
            file.write_all(&self.buf[..n])
                .map_err(|e| Error::io("write", t.shown, e))?;
            written += n as u64;
        }
        if written != size {
            return Err(Error::Corrupt(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{}: {written} of {size} bytes", t.shown),
            )));
        }
        self.strip_setid(&mut meta);
        let fd = OwnedFd::from(file);
        self.set_owner_xattrs_mode(t, fd.as_fd(), &meta, true)?;
        nix::sys::stat::futimens(fd.as_raw_fd(), &meta.mtime, &meta.mtime)
            .map_err(|e| Error::io("set times of", t.shown, errno(e)))?;
        self.report.files += 1;
        Ok(())
    }

    fn strip_setid(&mut self, meta: &mut Meta) {
        if !self.opts.keep_setid && meta.mode & SETID_BITS != 0 {
            meta.mode &= !SETID_BITS;
            self.report.setid_stripped += 1;
        }
    }

    /// Owner first (chown clears setid bits and file capabilities), then
    /// the surviving xattrs, then the mode.
    fn set_owner_xattrs_mode(
        &mut self,
        t: &Target<'_>,
        fd: BorrowedFd<'_>,
        meta: &Meta,
        regular_file: bool,
    ) -> Result<(), Error> {
        nix::unistd::fchown(
            fd.as_raw_fd(),
            Some(Uid::from_raw(meta.uid)),
            Some(Gid::from_raw(meta.gid)),
        )
        .map_err(|e| Error::io("chown", t.shown, errno(e)))?;
        for (key, value) in &meta.xattrs {
            use std::os::unix::ffi::OsStrExt;
            match xattr_verdict(key.as_bytes(), self.opts.keep_setid, regular_file) {
                XattrVerdict::Keep => {}
                XattrVerdict::DropCapability => {
                    self.report.caps_dropped += 1;
                    continue;
                }
                XattrVerdict::Drop => {
                    self.report.xattrs_dropped += 1;
                    continue;
                }
            }
            let Some(key) = key.to_str() else {
                self.report.xattrs_dropped += 1;
                continue;
            };
            match ward_sys::fs::set_xattr(fd, key, value) {
                Ok(()) => {}
                // The file system has no user xattrs: as if the tar had none.
                Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => {
                    self.report.xattrs_dropped += 1;
                }
                Err(e) => return Err(Error::io("set xattr on", t.shown, e)),
            }
        }
        nix::sys::stat::fchmod(fd.as_raw_fd(), Mode::from_bits_truncate(meta.mode))
            .map_err(|e| Error::io("chmod", t.shown, errno(e)))
    }

    fn directory(
        &mut self,
        t: &Target<'_>,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        meta: Meta,
    ) -> Result<(), Error> {
        let existing = fsops::lstat_at(parent, name).map_err(|e| Error::io("stat", t.shown, e))?;
        match existing {
            // Both directories: the entry's attributes replace the old ones.
            Some(st) if fsops::is_dir(&st) => {}
            other => {
                if let Some(st) = other {
                    if fsops::is_whiteout(&st) {
                        // Deleted from the lower layers, then recreated in
                        // this one: only this layer's content may show.
                        self.opaque.insert(t.name.rel.clone());
                    }
                    fsops::remove_at(parent, name, &st)
                        .map_err(|e| Error::io("replace", t.shown, e))?;
                }
                nix::sys::stat::mkdirat(
                    Some(parent.as_raw_fd()),
                    name,
                    Mode::from_bits_truncate(0o700),
                )
                .map_err(|e| Error::io("mkdir", t.shown, errno(e)))?;
            }
        }
        let fd = fsops::open_child(parent, name, fsops::dir_flags(), 0)
            .map_err(|e| Error::io("open", t.shown, e))?;
        self.set_dir_attrs(t, fd, meta)
    }

    /// A directory's owner, xattrs and mode now, its times at the end.
    /// Its setgid bit is kept: it only makes new files inherit the group.
    fn set_dir_attrs(&mut self, t: &Target<'_>, fd: OwnedFd, mut meta: Meta) -> Result<(), Error> {
        meta.mode &= !libc::S_ISUID;
        self.set_owner_xattrs_mode(t, fd.as_fd(), &meta, false)?;
        self.dir_times.insert(t.name.rel.clone(), meta.mtime);
        self.report.dirs += 1;
        Ok(())
    }

    fn symlink(
        &mut self,
        t: &Target<'_>,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        meta: Meta,
        target: Option<Vec<u8>>,
    ) -> Result<(), Error> {
        // The target is stored as it is: it is only text until something
        // resolves it, and ward resolves inside the container's root.
        let target = target.filter(|l| !l.is_empty() && !l.contains(&0));
        let Some(target) = target else {
            return Err(Error::refused(t.shown, "a symlink without a valid target"));
        };
        if target.len() > self.opts.limits.max_path_len {
            return Err(limit("max_path_len", t.shown));
        }
        fsops::clear(parent, name).map_err(|e| Error::io("replace", t.shown, e))?;
        use std::os::unix::ffi::OsStrExt;
        symlinkat(OsStr::from_bytes(&target), Some(parent.as_raw_fd()), name)
            .map_err(|e| Error::io("symlink", t.shown, errno(e)))?;
        self.owner_and_times_nofollow(t, parent, name, &meta)?;
        self.report.symlinks += 1;
        Ok(())
    }

    fn owner_and_times_nofollow(
        &mut self,
        t: &Target<'_>,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        meta: &Meta,
    ) -> Result<(), Error> {
        fchownat(
            Some(parent.as_raw_fd()),
            name,
            Some(Uid::from_raw(meta.uid)),
            Some(Gid::from_raw(meta.gid)),
            fsops::nofollow(),
        )
        .map_err(|e| Error::io("chown", t.shown, errno(e)))?;
        self.report.xattrs_dropped += meta.xattrs.len() as u64;
        utimensat(
            Some(parent.as_raw_fd()),
            name,
            &meta.mtime,
            &meta.mtime,
            UtimensatFlags::NoFollowSymlink,
        )
        .map_err(|e| Error::io("set times of", t.shown, errno(e)))
    }

    fn hardlink(
        &mut self,
        t: &Target<'_>,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        target: Option<Vec<u8>>,
    ) -> Result<(), Error> {
        let Some(raw) = target else {
            return Err(Error::refused(t.shown, "a hardlink without a target"));
        };
        let to = match Name::parse(&raw, &self.opts.limits) {
            Ok(to) => to,
            Err(BadName::Refused(why)) => {
                return Err(Error::refused(t.shown, format!("hardlink target: {why}")))
            }
            Err(BadName::Limit(what)) => return Err(limit(what, t.shown)),
        };
        if self.skipped_nodes.contains(&to.rel) {
            self.report.devices_skipped += 1;
            self.skipped_nodes.insert(t.name.rel.clone());
            return Ok(());
        }
        let Some(to_name) = to.file_name() else {
            return Err(Error::refused(t.shown, "a hardlink to the layer root"));
        };
        if marker(&to) != Ok(Marker::Plain) {
            return Err(Error::refused(t.shown, "a hardlink to a whiteout marker"));
        }
        // Intermediate symlinks of the target resolve inside the layer; the
        // target itself is never followed (link(2) without
        // AT_SYMLINK_FOLLOW), so at worst it links to a file of this layer.
        let to_dir = match self.root.open_dir(&to.parent(), Walk::FollowInRoot, false) {
            Ok(fd) => fd,
            Err(_) => return Err(not_in_layer(t)),
        };
        let existing = fsops::lstat_at(to_dir.as_fd(), to_name)
            .map_err(|e| Error::io("stat hardlink target of", t.shown, e))?;
        let Some(st) = existing else {
            return Err(not_in_layer(t));
        };
        if fsops::is_dir(&st) {
            return Err(Error::refused(t.shown, "a hardlink to a directory"));
        }
        if fsops::is_whiteout(&st) {
            return Err(Error::refused(t.shown, "a hardlink to a whiteout"));
        }
        let here = fsops::lstat_at(parent, name).map_err(|e| Error::io("stat", t.shown, e))?;
        if here.is_some_and(|h| h.st_dev == st.st_dev && h.st_ino == st.st_ino) {
            return Ok(());
        }
        fsops::clear(parent, name).map_err(|e| Error::io("replace", t.shown, e))?;
        linkat(
            Some(to_dir.as_raw_fd()),
            to_name,
            Some(parent.as_raw_fd()),
            name,
            nix::fcntl::AtFlags::empty(),
        )
        .map_err(|e| Error::io("hardlink", t.shown, errno(e)))?;
        self.report.hardlinks += 1;
        Ok(())
    }

    fn node(
        &mut self,
        t: &Target<'_>,
        parent: BorrowedFd<'_>,
        name: &OsStr,
        kind: EntryType,
        mut meta: Meta,
        (major, minor): (u32, u32),
    ) -> Result<(), Error> {
        let sflag = match kind {
            EntryType::Char => SFlag::S_IFCHR,
            EntryType::Block => SFlag::S_IFBLK,
            _ => SFlag::S_IFIFO,
        };
        if sflag == SFlag::S_IFCHR && major == 0 && minor == 0 {
            self.report.forged_whiteouts_skipped += 1;
            self.skipped_nodes.insert(t.name.rel.clone());
            return Ok(());
        }
        if sflag != SFlag::S_IFIFO && !self.opts.allow_devices {
            self.report.devices_skipped += 1;
            self.skipped_nodes.insert(t.name.rel.clone());
            return Ok(());
        }
        self.strip_setid(&mut meta);
        fsops::clear(parent, name).map_err(|e| Error::io("replace", t.shown, e))?;
        let dev = if sflag == SFlag::S_IFIFO {
            0
        } else {
            libc::makedev(major, minor)
        };
        mknodat(
            Some(parent.as_raw_fd()),
            name,
            sflag,
            Mode::from_bits_truncate(0o600),
            dev,
        )
        .map_err(|e| Error::io("mknod", t.shown, errno(e)))?;
        self.owner_and_times_nofollow(t, parent, name, &meta)?;
        // glibc applies AT_SYMLINK_NOFOLLOW through an O_PATH fd; the node
        // was just made in a directory only this process writes.
        nix::sys::stat::fchmodat(
            Some(parent.as_raw_fd()),
            name,
            Mode::from_bits_truncate(meta.mode),
            nix::sys::stat::FchmodatFlags::NoFollowSymlink,
        )
        .map_err(|e| Error::io("chmod", t.shown, errno(e)))?;
        self.report.special_files += 1;
        Ok(())
    }

    /// `DIR/.wh..wh..opq`: DIR becomes opaque (set at the end, so the
    /// marker's position among DIR's entries does not matter).
    fn opaque_marker(&mut self, t: &Target<'_>) -> Result<(), Error> {
        self.parent(t, Walk::NoSymlinks)?;
        self.opaque.insert(t.name.parent());
        Ok(())
    }

    /// `DIR/.wh.NAME`: an overlay whiteout DIR/NAME, unless this layer has
    /// its own DIR/NAME. Whiteouts apply to lower layers only (layer.md):
    /// a file of this layer already hides the lower one; a directory of
    /// this layer becomes opaque.
    fn whiteout(&mut self, t: &Target<'_>, victim: &OsStr) -> Result<(), Error> {
        let parent = self.parent(t, Walk::NoSymlinks)?;
        let existing =
            fsops::lstat_at(parent.as_fd(), victim).map_err(|e| Error::io("stat", t.shown, e))?;
        match existing {
            None => mknodat(
                Some(parent.as_raw_fd()),
                victim,
                SFlag::S_IFCHR,
                Mode::empty(),
                0,
            )
            .map_err(|e| Error::io("make whiteout", t.shown, errno(e)))?,
            Some(st) if fsops::is_dir(&st) => {
                self.opaque.insert(t.name.parent().join(victim));
            }
            Some(_) => {}
        }
        self.report.whiteouts += 1;
        Ok(())
    }
}

fn not_in_layer(t: &Target<'_>) -> Error {
    Error::refused(
        t.shown,
        "a hardlink to a path that is not (yet) in this layer",
    )
}

pub(crate) fn limit(what: &'static str, detail: &str) -> Error {
    Error::Limit {
        what,
        detail: detail.to_string(),
    }
}

/// An error out of the tar or decompression stream: the limit that
/// stopped it, or a corrupt archive.
pub(crate) fn stream_error(meter: &Meter, e: io::Error) -> Error {
    match meter.hit() {
        Some(what) => limit(what, &format!("after {} bytes", meter.total())),
        None => Error::Corrupt(e),
    }
}

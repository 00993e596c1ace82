//! Helpers of the layer tests: tar archives written header by header (the
//! `tar` crate's builder refuses `..` and friends, so it cannot write real
//! attack archives), and a scratch directory that proves nothing outside
//! the destination changed.

#![allow(dead_code, unused_imports)]

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

pub use ward_layer::{Compression, Error, Limits, Options, Report};

// ---------------------------------------------------------------- tar ----

pub const REGULAR: u8 = b'0';
pub const HARDLINK: u8 = b'1';
pub const SYMLINK: u8 = b'2';
pub const CHAR: u8 = b'3';
pub const BLOCK: u8 = b'4';
pub const DIR: u8 = b'5';
pub const FIFO: u8 = b'6';
pub const PAX: u8 = b'x';
pub const GNU_LONGNAME: u8 = b'L';
pub const GNU_LONGLINK: u8 = b'K';

/// One header's fields; `Hdr::new` fills sane defaults.
#[derive(Clone)]
pub struct Hdr {
    pub name: Vec<u8>,
    pub kind: u8,
    pub size: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub mtime: u64,
    pub link: Vec<u8>,
    pub major: u32,
    pub minor: u32,
    pub uname: Vec<u8>,
}

impl Hdr {
    pub fn new(name: &str, kind: u8) -> Hdr {
        Hdr {
            name: name.as_bytes().to_vec(),
            kind,
            size: 0,
            mode: if kind == DIR { 0o755 } else { 0o644 },
            uid: 0,
            gid: 0,
            mtime: 1_600_000_000,
            link: Vec::new(),
            major: 0,
            minor: 0,
            uname: b"root".to_vec(),
        }
    }

    /// The 512-byte ustar header. Names longer than the 100-byte field are
    /// cut: use `Tar::pax` or `Tar::gnu_long` for those.
    pub fn bytes(&self) -> [u8; 512] {
        let mut h = [0u8; 512];
        put(&mut h[0..100], &self.name);
        octal(&mut h[100..108], u64::from(self.mode));
        octal(&mut h[108..116], u64::from(self.uid));
        octal(&mut h[116..124], u64::from(self.gid));
        octal(&mut h[124..136], self.size);
        octal(&mut h[136..148], self.mtime);
        h[156] = self.kind;
        put(&mut h[157..257], &self.link);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        put(&mut h[265..297], &self.uname);
        put(&mut h[297..329], &self.uname);
        octal(&mut h[329..337], u64::from(self.major));
        octal(&mut h[337..345], u64::from(self.minor));
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        let cks = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(cks.as_bytes());
        h
    }
}

fn put(field: &mut [u8], value: &[u8]) {
    let n = value.len().min(field.len());
    field[..n].copy_from_slice(&value[..n]);
}

fn octal(field: &mut [u8], value: u64) {
    let s = format!("{value:0width$o}\0", width = field.len() - 1);
    if s.len() == field.len() {
        field.copy_from_slice(s.as_bytes());
    } else {
        // Too large for octal: GNU base-256 (high bit set, big-endian).
        field.fill(0);
        field[0] = 0x80;
        let be = value.to_be_bytes();
        let n = field.len();
        field[n - 8..].copy_from_slice(&be);
    }
}

fn pad(out: &mut Vec<u8>) {
    let rem = out.len() % 512;
    if rem != 0 {
        out.resize(out.len() + 512 - rem, 0);
    }
}

/// An archive being written.
#[derive(Default)]
pub struct Tar {
    pub out: Vec<u8>,
}

impl Tar {
    pub fn new() -> Tar {
        Tar::default()
    }

    /// A header and its data (the header's size is set from `data`).
    pub fn raw(&mut self, mut h: Hdr, data: &[u8]) -> &mut Self {
        h.size = data.len() as u64;
        self.out.extend_from_slice(&h.bytes());
        self.out.extend_from_slice(data);
        pad(&mut self.out);
        self
    }

    /// A header whose size field says `size` whatever follows.
    pub fn header_only(&mut self, h: Hdr) -> &mut Self {
        self.out.extend_from_slice(&h.bytes());
        self
    }

    pub fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
        self.raw(Hdr::new(name, REGULAR), data)
    }

    pub fn file_mode(&mut self, name: &str, data: &[u8], mode: u32) -> &mut Self {
        let mut h = Hdr::new(name, REGULAR);
        h.mode = mode;
        self.raw(h, data)
    }

    pub fn dir(&mut self, name: &str) -> &mut Self {
        self.raw(Hdr::new(name, DIR), b"")
    }

    pub fn symlink(&mut self, name: &str, target: &str) -> &mut Self {
        let mut h = Hdr::new(name, SYMLINK);
        h.link = target.as_bytes().to_vec();
        self.raw(h, b"")
    }

    pub fn hardlink(&mut self, name: &str, target: &str) -> &mut Self {
        let mut h = Hdr::new(name, HARDLINK);
        h.link = target.as_bytes().to_vec();
        self.raw(h, b"")
    }

    pub fn node(&mut self, name: &str, kind: u8, major: u32, minor: u32) -> &mut Self {
        let mut h = Hdr::new(name, kind);
        h.major = major;
        h.minor = minor;
        h.mode = 0o666;
        self.raw(h, b"")
    }

    /// A PAX extended header ('x') for the next entry.
    pub fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
        let mut data = Vec::new();
        for (key, value) in records {
            // "LEN KEY=VALUE\n", LEN counting itself.
            let body = key.len() + value.len() + 3;
            let mut len = body + 1;
            while len != body + len.to_string().len() {
                len = body + len.to_string().len();
            }
            data.extend_from_slice(format!("{len} {key}=").as_bytes());
            data.extend_from_slice(value);
            data.push(b'\n');
        }
        self.raw(Hdr::new("PaxHeaders/x", PAX), &data)
    }

    /// A GNU long name ('L') or long link ('K') for the next entry.
    pub fn gnu_long(&mut self, kind: u8, value: &[u8]) -> &mut Self {
        let mut v = value.to_vec();
        v.push(0);
        self.raw(Hdr::new("././@LongLink", kind), &v)
    }

    /// The archive with its two end-of-archive blocks.
    pub fn finish(&self) -> Vec<u8> {
        let mut out = self.out.clone();
        out.resize(out.len() + 1024, 0);
        out
    }
}

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(data).expect("gzip");
    enc.finish().expect("gzip")
}

pub fn zstd(data: &[u8]) -> Vec<u8> {
    zstd::encode_all(data, 3).expect("zstd")
}

// ---------------------------------------------------------- scratch ----

static SEQ: AtomicU64 = AtomicU64::new(0);

/// `TMP/root/dest` is where a layer goes; TMP also holds sentinels that
/// an escaping write would change: `TMP/outside/` (a directory, the
/// target of the absolute symlinks of the attacks), `TMP/outside/target`,
/// `TMP/sentinel` and `TMP/root/sentinel`.
pub struct Scratch {
    pub tmp: PathBuf,
    before: BTreeMap<PathBuf, String>,
}

impl Scratch {
    pub fn new() -> Scratch {
        let tmp = std::env::temp_dir().join(format!(
            "ward-layer-test-{}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("root")).expect("mkdir");
        std::fs::create_dir_all(tmp.join("outside")).expect("mkdir");
        std::fs::write(tmp.join("outside/target"), "host data\n").expect("write");
        std::fs::write(tmp.join("sentinel"), "sentinel\n").expect("write");
        std::fs::write(tmp.join("root/sentinel"), "sentinel\n").expect("write");
        let mut s = Scratch {
            tmp,
            before: BTreeMap::new(),
        };
        s.before = s.snapshot();
        s
    }

    pub fn dest(&self) -> PathBuf {
        self.tmp.join("root/dest")
    }

    /// The absolute path of the host directory the attacks aim at.
    pub fn outside(&self) -> String {
        self.tmp.join("outside").display().to_string()
    }

    /// Every path under TMP except inside dest, with type, mode, owner,
    /// size, mtime and content.
    fn snapshot(&self) -> BTreeMap<PathBuf, String> {
        let mut out = BTreeMap::new();
        walk(&self.tmp, &self.dest(), &mut out);
        out
    }

    /// Asserts that nothing outside dest was created, changed or deleted
    /// (no staging directory left either).
    pub fn assert_outside_untouched(&self) {
        let after = self.snapshot();
        assert_eq!(after, self.before, "something outside dest changed");
    }

    /// After a failed unpack: dest does not exist and nothing else changed.
    pub fn assert_nothing_left(&self) {
        assert!(
            self.dest().symlink_metadata().is_err(),
            "dest exists after a failed unpack"
        );
        self.assert_outside_untouched();
    }

    pub fn unpack(&self, tar: &[u8]) -> Result<Report, Error> {
        self.unpack_with(tar, Compression::None, &Options::default())
    }

    pub fn unpack_with(
        &self,
        blob: &[u8],
        compression: Compression,
        opts: &Options,
    ) -> Result<Report, Error> {
        ward_layer::unpack(blob, compression, &self.dest(), opts)
    }

    /// Unpacks an attack: it must fail, or succeed with everything inside.
    /// Either way nothing outside may change.
    pub fn unpack_attack(&self, tar: &[u8]) -> Result<Report, Error> {
        let r = self.unpack(tar);
        match &r {
            Ok(_) => self.assert_outside_untouched(),
            Err(_) => self.assert_nothing_left(),
        }
        r
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dest().join(rel)
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_else(|e| format!("<{e}>"))
    }

    pub fn exists(&self, rel: &str) -> bool {
        self.path(rel).symlink_metadata().is_ok()
    }

    /// All paths in dest, relative, sorted, each with a type letter.
    pub fn listing(&self) -> Vec<String> {
        let mut out = BTreeMap::new();
        walk(&self.dest(), Path::new("/nonexistent"), &mut out);
        out.into_iter()
            .map(|(p, d)| {
                let rel = p
                    .strip_prefix(self.dest())
                    .unwrap_or(&p)
                    .display()
                    .to_string();
                format!("{rel} {}", &d[..1])
            })
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

fn walk(dir: &Path, skip: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p == skip {
            continue;
        }
        let Ok(md) = p.symlink_metadata() else {
            continue;
        };
        let ft = md.file_type();
        let kind = if ft.is_dir() {
            "d"
        } else if ft.is_symlink() {
            "l"
        } else if ft.is_file() {
            "f"
        } else {
            "o"
        };
        let content = if ft.is_file() {
            std::fs::read(&p)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default()
        } else if ft.is_symlink() {
            std::fs::read_link(&p)
                .map(|l| l.display().to_string())
                .unwrap_or_default()
        } else {
            String::new()
        };
        let desc = format!(
            "{kind} {:o} {}:{} {} {} {content:?}",
            md.permissions().mode(),
            md.uid(),
            md.gid(),
            // A directory's size is the file system's business (tmpfs
            // counts its entries: dest appearing in root changes root's).
            if ft.is_dir() { 0 } else { md.size() },
            if ft.is_dir() { 0 } else { md.mtime() }
        );
        out.insert(p.clone(), desc);
        if ft.is_dir() {
            walk(&p, skip, out);
        }
    }
}

/// Hash-free fingerprint of a host file the attacks aim at (content and
/// metadata), to prove it unchanged.
pub fn fingerprint(p: &str) -> String {
    let md = std::fs::symlink_metadata(p);
    let content = std::fs::read(p).unwrap_or_default();
    format!(
        "{:?} {:?}",
        md.map(|m| (m.mode(), m.uid(), m.nlink(), m.size(), m.mtime(), m.ino()))
            .ok(),
        content
    )
}

pub fn refused_reason(r: &Result<Report, Error>) -> String {
    match r {
        Err(Error::Refused { reason, .. }) => reason.clone(),
        other => format!("not refused: {other:?}"),
    }
}

/// Whether the file system holding `dir` takes `user.*` xattrs (tmpfs does
/// only from Linux 6.6: the 6.1 guest's /tmp does not).
pub fn user_xattrs_supported(dir: &Path) -> bool {
    use std::os::fd::AsFd;
    let probe = dir.join(".user-xattr-probe");
    let supported = std::fs::File::create(&probe)
        .map(|f| ward_sys::fs::set_xattr(f.as_fd(), "user.probe", b"1").is_ok())
        .unwrap_or(false);
    let _ = std::fs::remove_file(&probe);
    supported
}

//! A real archive made by GNU tar (the host's /etc and zoneinfo, plus a
//! fixture with every file type, odd owners and modes, setuid files, a
//! file capability, xattrs, hardlinks and device nodes) unpacks exactly as
//! `tar -xp --xattrs --numeric-owner` unpacks it, with the opt-outs set;
//! and with the defaults, minus exactly what is neutralised.

mod common;

use common::*;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::os::fd::AsFd;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use nix::sys::stat::{mknod, Mode, SFlag};

/// A version-2 file capability granting cap_net_raw, effective.
const CAP_NET_RAW_V2: [u8; 20] = [
    0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

fn run(cmd: &mut Command) {
    let out = cmd.output().expect("spawn");
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn chown(p: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::lchown(p, Some(uid), Some(gid)).expect("chown");
}

fn chmod(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn set_xattr(p: &Path, name: &str, value: &[u8]) {
    let f = std::fs::File::open(p).expect("open");
    ward_sys::fs::set_xattr(f.as_fd(), name, value).expect("setxattr");
}

fn fixture(dir: &Path) {
    let f = |rel: &str| dir.join(rel);
    std::fs::create_dir_all(f("sub/deeper")).expect("mkdir");
    std::fs::write(f("plain"), "plain\n").expect("write");
    std::fs::write(f("sub/owned"), vec![b'x'; 70_000]).expect("write");
    chown(&f("sub/owned"), 1234, 5678);
    chmod(&f("sub/owned"), 0o640);
    std::fs::write(f("suid"), "suid\n").expect("write");
    chmod(&f("suid"), 0o4755);
    std::fs::write(f("sgid"), "sgid\n").expect("write");
    chmod(&f("sgid"), 0o2711);
    std::fs::hard_link(f("suid"), f("sub/suid-link")).expect("link");
    std::fs::write(f("capped"), "cap\n").expect("write");
    set_xattr(&f("capped"), "security.capability", &CAP_NET_RAW_V2);
    // tmpfs has user xattrs only from Linux 6.6 (the 6.1 guest's /tmp).
    let plain = std::fs::File::open(f("plain")).expect("open");
    match ward_sys::fs::set_xattr(plain.as_fd(), "user.note", b"hello") {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EOPNOTSUPP) => eprintln!(
            "SKIP (part): {} has no user xattrs (tmpfs before Linux 6.6): user.note not in the fixture",
            dir.display()
        ),
        Err(e) => panic!("setxattr user.note: {e}"),
    }
    std::fs::create_dir(f("sticky")).expect("mkdir");
    chmod(&f("sticky"), 0o1777);
    std::os::unix::fs::symlink("../plain", f("sub/link")).expect("symlink");
    std::os::unix::fs::symlink("/nonexistent/abs", f("dangling")).expect("symlink");
    chown(&f("dangling"), 42, 43);
    mknod(
        &f("null"),
        SFlag::S_IFCHR,
        Mode::from_bits_truncate(0o666),
        libc::makedev(1, 3),
    )
    .expect("mknod");
    mknod(
        &f("fifo"),
        SFlag::S_IFIFO,
        Mode::from_bits_truncate(0o620),
        0,
    )
    .expect("mkfifo");
    std::fs::hard_link(f("null"), f("sub/null-link")).expect("link");
    // Times last, directories too (deepest first).
    let t = nix::sys::time::TimeSpec::new(1_500_000_000, 0);
    for rel in ["sub/deeper", "sub", "sticky", "plain", "dangling"] {
        nix::sys::stat::utimensat(
            None,
            &f(rel),
            &t,
            &t,
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        )
        .expect("utimensat");
    }
}

/// Directories the archive does not list (parents of usr/share/zoneinfo):
/// both unpackers create them now, so their mtimes are not compared.
const IMPLICIT: [&str; 2] = ["usr", "usr/share"];

/// Everything tar can carry, per path, hardlinks as "same inode as X".
fn describe(root: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut inodes: HashMap<u64, String> = HashMap::new();
    let mut stack = vec![root.to_path_buf()];
    let mut all: Vec<PathBuf> = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("readdir").flatten() {
            let p = e.path();
            if p.symlink_metadata().map(|m| m.is_dir()).unwrap_or(false) {
                stack.push(p.clone());
            }
            all.push(p);
        }
    }
    all.sort();
    for p in all {
        let rel = p.strip_prefix(root).expect("prefix").display().to_string();
        let md = p.symlink_metadata().expect("lstat");
        let ft = md.file_type();
        let mtime = if IMPLICIT.contains(&rel.as_str()) {
            0
        } else {
            md.mtime()
        };
        let mut desc = format!(
            "mode={:o} owner={}:{} mtime={mtime}",
            md.mode(),
            md.uid(),
            md.gid(),
        );
        if !ft.is_dir() && md.nlink() > 1 {
            if let Some(first) = inodes.get(&md.ino()) {
                out.insert(rel, format!("{desc} hardlink={first}"));
                continue;
            }
            inodes.insert(md.ino(), rel.clone());
        }
        if ft.is_file() {
            let data = std::fs::read(&p).expect("read");
            let mut h = std::collections::hash_map::DefaultHasher::new();
            data.hash(&mut h);
            desc += &format!(" size={} data={:x}", data.len(), h.finish());
        }
        if ft.is_symlink() {
            desc += &format!(" target={:?}", std::fs::read_link(&p).expect("readlink"));
        }
        if ft.is_char_device() || ft.is_block_device() {
            desc += &format!(" rdev={}", md.rdev());
        }
        if ft.is_file() || ft.is_dir() {
            let f = std::fs::File::open(&p).expect("open");
            for name in ["user.note", "security.capability", "trusted.overlay.opaque"] {
                if let Ok(Some(v)) = ward_sys::fs::get_xattr(f.as_fd(), name) {
                    desc += &format!(" {name}={v:?}");
                }
            }
        }
        out.insert(rel, desc);
    }
    out
}

#[test]
fn unpacks_what_gnu_tar_unpacks() {
    let s = Scratch::new();
    let fix = s.tmp.join("fixture");
    std::fs::create_dir(&fix).expect("mkdir");
    fixture(&fix);
    let tar_path = s.tmp.join("layer.tar");
    run(Command::new("tar")
        .args([
            "--xattrs",
            "--xattrs-include=*",
            "--numeric-owner",
            "-H",
            "pax",
        ])
        .arg("-cf")
        .arg(&tar_path)
        .args(["-C", "/", "etc", "usr/share/zoneinfo"])
        .arg("-C")
        .arg(&fix)
        .arg("."));
    let gnu = s.tmp.join("gnu");
    std::fs::create_dir(&gnu).expect("mkdir");
    run(Command::new("tar")
        .args(["--xattrs", "--xattrs-include=*", "--numeric-owner", "-xpf"])
        .arg(&tar_path)
        .arg("-C")
        .arg(&gnu));
    let blob = std::fs::read(&tar_path).expect("read");

    let all_kept = Options {
        keep_setid: true,
        allow_devices: true,
        ..Options::default()
    };
    let r = s
        .unpack_with(&blob, Compression::None, &all_kept)
        .expect("unpack");
    assert_eq!(
        (r.setid_stripped, r.caps_dropped, r.devices_skipped),
        (0, 0, 0)
    );
    let want = describe(&gnu);
    let got = describe(&s.dest());
    for (k, v) in &want {
        assert_eq!(got.get(k), Some(v), "{k}");
    }
    assert_eq!(got.len(), want.len());
    std::fs::remove_dir_all(s.dest()).expect("rm");

    // Defaults, gzip this time: the same minus setid bits (suid and sgid,
    // once per inode), the capability and the device node with its link.
    let gz = gzip(&blob);
    let r = s
        .unpack_with(&gz, Compression::from_magic(&gz), &Options::default())
        .expect("unpack");
    // The host's /etc may hold device nodes too (this one does).
    let devices: Vec<&String> = want
        .keys()
        .filter(|k| want[*k].contains(" rdev="))
        .collect();
    assert!(devices.len() >= 2);
    assert_eq!(
        (r.setid_stripped, r.caps_dropped, r.devices_skipped),
        (2, 1, devices.len() as u64)
    );
    let got = describe(&s.dest());
    assert!(!s.exists("null") && !s.exists("sub/null-link"));
    assert!(s
        .path("fifo")
        .symlink_metadata()
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false));
    for (k, v) in &want {
        if devices.contains(&k) {
            assert!(!got.contains_key(k), "{k}");
            continue;
        }
        let v = v
            .replace("mode=104755", "mode=100755")
            .replace("mode=102711", "mode=100711");
        let v = match v.find(" security.capability=") {
            Some(i) => v[..i].to_string(),
            None => v,
        };
        assert_eq!(got.get(k), Some(&v), "{k}");
    }
    assert_eq!(got.len(), want.len() - devices.len());
}

#[test]
fn zstd_and_detection() {
    let tar = Tar::new()
        .dir("etc/")
        .file("etc/hostname", b"box\n")
        .finish();
    for blob in [zstd(&tar), gzip(&tar), tar.clone()] {
        let s = Scratch::new();
        let mut reader = std::io::BufReader::new(&blob[..]);
        let c = Compression::detect(&mut reader).expect("detect");
        let r = ward_layer::unpack(reader, c, &s.dest(), &Options::default()).expect("unpack");
        assert_eq!((r.files, r.dirs, r.entries), (1, 1, 2));
        assert_eq!(s.read("etc/hostname"), "box\n");
        s.assert_outside_untouched();
    }
}

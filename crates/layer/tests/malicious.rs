//! The malicious-layer suite: archives written by hand, header by header,
//! as an attacker would. Each one is refused or neutralised, and in each
//! nothing outside `TMP/root/dest` is created, changed or deleted.

mod common;

use common::*;
use std::os::unix::fs::{FileTypeExt, MetadataExt};

// ----------------------------------------------------- path escapes ----

#[test]
fn zip_slip_with_dotdot_is_refused() {
    for name in [
        "../evil",
        "../../evil",
        "a/../../evil",
        "./../sentinel",
        "a/..",
    ] {
        let s = Scratch::new();
        let tar = Tar::new().dir("a/").file(name, b"pwned\n").finish();
        let r = s.unpack_attack(&tar);
        assert!(
            refused_reason(&r).contains("`..`"),
            "{name}: {}",
            refused_reason(&r)
        );
    }
}

#[test]
fn absolute_names_land_inside() {
    let s = Scratch::new();
    let target = format!("{}/target", s.outside());
    let tar = Tar::new()
        .file(&target, b"pwned\n")
        .file("/abs", b"inside\n")
        .finish();
    let r = s.unpack_attack(&tar).expect("unpack");
    assert_eq!(r.absolute_names, 2);
    assert_eq!(s.read("abs"), "inside\n");
    assert_eq!(s.read(target.trim_start_matches('/')), "pwned\n");
}

// The attacks aim at the scratch's `outside/` directory, a real host
// directory, rather than at /etc: a regression must not damage the host.

#[test]
fn symlink_then_write_through_it_stays_inside() {
    // `a -> /HOST/outside` then `a/target`: the layer has no such
    // directory, so the walk to a/'s target finds nothing inside and the
    // entry is refused.
    let s = Scratch::new();
    let tar = Tar::new()
        .symlink("a", &s.outside())
        .file("a/target", b"pwned\n")
        .file("a/new", b"pwned\n")
        .finish();
    let r = s.unpack_attack(&tar);
    assert!(refused_reason(&r).contains("leads nowhere"), "{r:?}");

    // With the same directory inside the layer, the writes land there.
    let s = Scratch::new();
    let inside = s.outside();
    let tar = Tar::new()
        .dir(&inside)
        .symlink("a", &s.outside())
        .file("a/target", b"pwned\n")
        .file("a/new", b"new\n")
        .finish();
    s.unpack_attack(&tar).expect("unpack");
    let inside = inside.trim_start_matches('/');
    assert_eq!(s.read(&format!("{inside}/target")), "pwned\n");
    assert_eq!(s.read(&format!("{inside}/new")), "new\n");
    assert!(s.path("a").is_symlink());
}

#[test]
fn symlink_chains_to_dotdot_stay_inside() {
    let s = Scratch::new();
    let tar = Tar::new()
        .symlink("up", "..")
        .symlink("up/up2", "../../..")
        .symlink("up2/up3", "up/up2/../..")
        .file("up/escaped1", b"1\n")
        .file("up2/escaped2", b"2\n")
        .file("up2/up3/up/escaped3", b"3\n")
        .finish();
    s.unpack_attack(&tar).expect("unpack");
    // Every `..` stops at the layer root.
    assert_eq!(s.read("escaped1"), "1\n");
    assert_eq!(s.read("escaped2"), "2\n");
    assert_eq!(s.read("escaped3"), "3\n");
}

#[test]
fn symlink_replaced_by_file_is_not_written_through() {
    let s = Scratch::new();
    let target = format!("{}/target", s.outside());
    let tar = Tar::new()
        .symlink("l", &target)
        .file("l", b"pwned\n")
        .symlink("rel", "../../outside/target")
        .file("rel", b"pwned\n")
        .finish();
    s.unpack_attack(&tar).expect("unpack");
    assert_eq!(s.read("l"), "pwned\n");
    assert!(s
        .path("l")
        .symlink_metadata()
        .map(|m| m.is_file())
        .unwrap_or(false));
    assert_eq!(s.read("rel"), "pwned\n");
}

#[test]
fn directory_replaced_by_symlink_then_written_below() {
    let s = Scratch::new();
    let tar = Tar::new()
        .dir("d/")
        .file("d/f", b"old\n")
        .symlink("d", &s.outside())
        .file("d/target", b"pwned\n")
        .finish();
    let r = s.unpack_attack(&tar);
    assert!(refused_reason(&r).contains("leads nowhere"), "{r:?}");

    // A relative symlink out: `..` stops at the root, so d/x is <layer>/x.
    let s = Scratch::new();
    let tar = Tar::new()
        .dir("d/")
        .file("d/f", b"old\n")
        .symlink("d", "../..")
        .file("d/sentinel", b"pwned\n")
        .finish();
    s.unpack_attack(&tar).expect("unpack");
    assert_eq!(s.read("sentinel"), "pwned\n");
    assert!(!s.exists("f"));
}

// --------------------------------------------------------- hardlinks ----

#[test]
fn hardlinks_out_of_the_layer_are_refused() {
    let s = Scratch::new();
    let target = format!("{}/target", s.outside());
    for (link, want) in [
        ("../x", "`..`"),
        ("../../outside/target", "`..`"),
        // Absolute: resolved inside, where there is no such file.
        (target.as_str(), "not (yet) in this layer"),
    ] {
        // A link, then a write to its name: with a link to the host, a
        // write that opened the existing name would change the host file.
        let tar = Tar::new()
            .hardlink("h", link)
            .file("h", b"pwned\n")
            .finish();
        let r = s.unpack_attack(&tar);
        assert!(refused_reason(&r).contains(want), "{link}: {r:?}");
    }
}

#[test]
fn hardlink_through_a_symlink_stays_inside() {
    let s = Scratch::new();
    let tar = Tar::new()
        .symlink("s", &s.outside())
        .hardlink("h", "s/target")
        .finish();
    let r = s.unpack_attack(&tar);
    assert!(
        refused_reason(&r).contains("not (yet) in this layer"),
        "{r:?}"
    );

    // Through a symlink to a directory of the layer: a link to that file.
    let s = Scratch::new();
    let tar = Tar::new()
        .dir("etc/")
        .file("etc/shadow", b"layer's own\n")
        .symlink("s", "/etc")
        .hardlink("h", "s/shadow")
        .finish();
    s.unpack_attack(&tar).expect("unpack");
    assert_eq!(s.read("h"), "layer's own\n");
    let shadow = s.path("etc/shadow").metadata().map(|m| m.nlink()).ok();
    assert_eq!(shadow, Some(2));

    // A later `h` replaces the link; it does not write through it.
    let s = Scratch::new();
    let tar = Tar::new()
        .dir("etc/")
        .file("etc/shadow", b"layer's own\n")
        .symlink("s", "/etc")
        .hardlink("h", "s/shadow")
        .file("h", b"rewritten\n")
        .finish();
    s.unpack_attack(&tar).expect("unpack");
    assert_eq!(s.read("etc/shadow"), "layer's own\n");
    assert_eq!(s.read("h"), "rewritten\n");
}

#[test]
fn hardlink_to_a_later_entry_is_refused() {
    let s = Scratch::new();
    let tar = Tar::new()
        .hardlink("h", "later")
        .file("later", b"x\n")
        .finish();
    let r = s.unpack_attack(&tar);
    assert!(
        refused_reason(&r).contains("not (yet) in this layer"),
        "{r:?}"
    );
}

#[test]
fn hardlink_to_a_symlink_links_the_symlink() {
    let s = Scratch::new();
    let tar = Tar::new()
        .symlink("l", &format!("{}/target", s.outside()))
        .hardlink("h", "l")
        .finish();
    s.unpack_attack(&tar).expect("unpack");
    let h = s.path("h").symlink_metadata().expect("h");
    assert!(h.file_type().is_symlink());
    assert_eq!(h.nlink(), 2);
}

#[test]
fn hardlinks_to_directories_and_whiteouts_are_refused() {
    let s = Scratch::new();
    let r = s.unpack_attack(&Tar::new().dir("d/").hardlink("h", "d").finish());
    assert!(refused_reason(&r).contains("directory"), "{r:?}");
    let r = s.unpack_attack(&Tar::new().hardlink("h", "./").finish());
    assert!(refused_reason(&r).contains("root"), "{r:?}");
    let r = s.unpack_attack(&Tar::new().file(".wh.x", b"").hardlink("h", "x").finish());
    assert!(refused_reason(&r).contains("whiteout"), "{r:?}");
    let r = s.unpack_attack(
        &Tar::new()
            .file(".wh.x", b"")
            .hardlink("h", ".wh.x")
            .finish(),
    );
    assert!(refused_reason(&r).contains("whiteout"), "{r:?}");
}

// --------------------------------------------------------- whiteouts ----

#[test]
fn whiteouts_aimed_at_dotdot_or_root_are_refused() {
    for name in [".wh..", "a/.wh..", ".wh.", "/.wh.", "a/.wh...", ".wh.x/y"] {
        let s = Scratch::new();
        let tar = Tar::new().dir("a/").file(name, b"").finish();
        let r = s.unpack_attack(&tar);
        assert!(refused_reason(&r).contains("whiteout"), "{name}: {r:?}");
    }
    // `../.wh.x` is a `..` name, refused before it is a whiteout.
    let s = Scratch::new();
    let r = s.unpack_attack(&Tar::new().file("../.wh.sentinel", b"").finish());
    assert!(refused_reason(&r).contains("`..`"), "{r:?}");
}

#[test]
fn whiteouts_through_symlinks_are_refused() {
    // (Absolute targets only towards the scratch: see above.)
    for target in ["..", "../../..", "."] {
        let s = Scratch::new();
        let tar = Tar::new()
            .symlink("s", target)
            .file("s/.wh.sentinel", b"")
            .finish();
        let r = s.unpack_attack(&tar);
        assert!(refused_reason(&r).contains("symlink"), "{target}: {r:?}");
        let tar = Tar::new()
            .symlink("s", target)
            .file("s/.wh..wh..opq", b"")
            .finish();
        let r = s.unpack_attack(&tar);
        assert!(refused_reason(&r).contains("symlink"), "{target}: {r:?}");
    }
    let s = Scratch::new();
    let tar = Tar::new()
        .symlink("s", &s.outside())
        .file("s/.wh.target", b"")
        .finish();
    let r = s.unpack_attack(&tar);
    assert!(refused_reason(&r).contains("symlink"), "{r:?}");
}

#[test]
fn whiteouts_become_overlay_whiteouts_inside() {
    let s = Scratch::new();
    let tar = Tar::new()
        .dir("etc/")
        .file("etc/.wh.passwd", b"")
        .file("/.wh.sentinel", b"")
        .dir("opq/")
        .file("opq/.wh..wh..opq", b"")
        .finish();
    let r = s.unpack_attack(&tar).expect("unpack");
    assert_eq!((r.whiteouts, r.opaque_dirs), (2, 1));
    for w in ["etc/passwd", "sentinel"] {
        let md = s.path(w).symlink_metadata().expect("whiteout");
        assert!(md.file_type().is_char_device() && md.rdev() == 0, "{w}");
    }
    assert!(!s.exists("etc/.wh.passwd"));
    assert_eq!(
        xattr(&s.path("opq"), "trusted.overlay.opaque"),
        Some(b"y".to_vec())
    );
}

#[test]
fn forged_overlay_metadata_is_dropped() {
    // A 0:0 character device is an overlay whiteout: never taken from the
    // tar, not even with allow_devices; trusted.* xattrs never either.
    let s = Scratch::new();
    let tar = Tar::new()
        .node("fake-whiteout", CHAR, 0, 0)
        .pax(&[("SCHILY.xattr.trusted.overlay.opaque", b"y")])
        .dir("fake-opaque/")
        .pax(&[("SCHILY.xattr.user.overlay.opaque", b"y")])
        .dir("fake-user-opaque/")
        .pax(&[("SCHILY.xattr.trusted.overlay.redirect", b"/etc")])
        .dir("redirect/")
        .finish();
    let opts = Options {
        allow_devices: true,
        ..Options::default()
    };
    let r = s
        .unpack_with(&tar, Compression::None, &opts)
        .expect("unpack");
    s.assert_outside_untouched();
    assert_eq!(r.forged_whiteouts_skipped, 1);
    assert_eq!(r.xattrs_dropped, 3);
    assert!(!s.exists("fake-whiteout"));
    for d in ["fake-opaque", "fake-user-opaque", "redirect"] {
        assert_eq!(xattr(&s.path(d), "trusted.overlay.opaque"), None, "{d}");
        assert_eq!(xattr(&s.path(d), "trusted.overlay.redirect"), None, "{d}");
        assert_eq!(xattr(&s.path(d), "user.overlay.opaque"), None, "{d}");
    }
}

// -------------------------------------------------------- duplicates ----

#[test]
fn duplicated_entries_later_wins() {
    let s = Scratch::new();
    let tar = Tar::new()
        .file("f", b"one\n")
        .file("f", b"two\n")
        .file("g", b"file\n")
        .dir("g/")
        .file("g/inner", b"x\n")
        .dir("d/")
        .file("d/inner", b"x\n")
        .file("d", b"now a file\n")
        .dir("keep/")
        .file("keep/x", b"x\n")
        .dir("keep/")
        .finish();
    s.unpack_attack(&tar).expect("unpack");
    assert_eq!(s.read("f"), "two\n");
    assert_eq!(s.read("g/inner"), "x\n");
    assert_eq!(s.read("d"), "now a file\n");
    assert_eq!(s.read("keep/x"), "x\n");
}

// ------------------------------------------------ PAX and GNU names ----

#[test]
fn long_names_pax_and_gnu() {
    let long_dir = "d".repeat(200);
    let long = format!("{long_dir}/{}", "f".repeat(150));
    let s = Scratch::new();
    let tar = Tar::new()
        .pax(&[("path", long.as_bytes())])
        .file("short-name-ignored", b"pax\n")
        .gnu_long(GNU_LONGNAME, format!("{long_dir}/gnu").as_bytes())
        .file("ignored-too", b"gnu\n")
        .pax(&[("linkpath", long.as_bytes())])
        .hardlink("pax-link", "x")
        .gnu_long(GNU_LONGLINK, long.as_bytes())
        .symlink("gnu-symlink", "x")
        .finish();
    s.unpack_attack(&tar).expect("unpack");
    assert_eq!(s.read(&long), "pax\n");
    assert_eq!(s.read(&format!("{long_dir}/gnu")), "gnu\n");
    assert_eq!(s.read("pax-link"), "pax\n");
    assert_eq!(
        std::fs::read_link(s.path("gnu-symlink"))
            .map(|p| p.display().to_string())
            .ok(),
        Some(long.clone())
    );
}

#[test]
fn long_names_that_escape_are_refused() {
    let deep = format!("{}/../../../../evil", "a/".repeat(60));
    let cases: Vec<Tar> = vec![
        {
            let mut t = Tar::new();
            t.pax(&[("path", b"../../evil")]).file("fine", b"x");
            t
        },
        {
            let mut t = Tar::new();
            t.gnu_long(GNU_LONGNAME, b"../../evil").file("fine", b"x");
            t
        },
        {
            let mut t = Tar::new();
            t.pax(&[("path", deep.as_bytes())]).file("fine", b"x");
            t
        },
        {
            let mut t = Tar::new();
            t.file("x", b"x")
                .pax(&[("linkpath", b"../../outside/target")])
                .hardlink("h", "x");
            t
        },
        {
            let mut t = Tar::new();
            t.file("x", b"x")
                .gnu_long(GNU_LONGLINK, b"/../../outside/target")
                .hardlink("h", "x");
            t
        },
    ];
    for (i, tar) in cases.iter().enumerate() {
        let s = Scratch::new();
        let r = s.unpack_attack(&tar.finish());
        assert!(refused_reason(&r).contains("`..`"), "case {i}: {r:?}");
    }
}

// ------------------------------------------- devices and privileges ----

#[test]
fn device_nodes_are_skipped_by_default_fifos_kept() {
    let s = Scratch::new();
    let tar = Tar::new()
        .node("null", CHAR, 1, 3)
        .node("sda", BLOCK, 8, 0)
        .node("fifo", FIFO, 0, 0)
        .hardlink("null2", "null")
        .finish();
    let r = s.unpack_attack(&tar).expect("unpack");
    assert_eq!(r.devices_skipped, 3);
    assert!(!s.exists("null") && !s.exists("sda") && !s.exists("null2"));
    let md = s.path("fifo").symlink_metadata().expect("fifo");
    assert!(md.file_type().is_fifo());
    assert_eq!(md.mode() & 0o7777, 0o666);

    let s = Scratch::new();
    let opts = Options {
        allow_devices: true,
        ..Options::default()
    };
    let r = s
        .unpack_with(&tar, Compression::None, &opts)
        .expect("unpack");
    s.assert_outside_untouched();
    assert_eq!((r.devices_skipped, r.special_files, r.hardlinks), (0, 3, 1));
    let null = s.path("null").symlink_metadata().expect("null");
    assert!(null.file_type().is_char_device());
    assert_eq!(null.rdev(), libc::makedev(1, 3));
    assert_eq!(null.mode() & 0o7777, 0o666);
    let sda = s.path("sda").symlink_metadata().expect("sda");
    assert!(sda.file_type().is_block_device());
    assert_eq!(sda.rdev(), libc::makedev(8, 0));
}

/// A version-2 file capability granting cap_net_raw (bit 13), effective.
const CAP_NET_RAW_V2: [u8; 20] = [
    0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
];

fn privileged_tar() -> Vec<u8> {
    Tar::new()
        .file_mode("suid", b"x", 0o4755)
        .file_mode("sgid", b"x", 0o2755)
        .file_mode("both", b"x", 0o6711)
        .file_mode("plain", b"x", 0o1755)
        .pax(&[
            ("SCHILY.xattr.security.capability", &CAP_NET_RAW_V2[..]),
            ("SCHILY.xattr.user.note", b"kept"),
            (
                "SCHILY.xattr.security.selinux",
                b"system_u:object_r:shadow_t:s0",
            ),
        ])
        .file_mode("ping", b"x", 0o755)
        .raw(
            {
                let mut h = Hdr::new("sgid-dir/", DIR);
                h.mode = 0o2775;
                h
            },
            b"",
        )
        .finish()
}

#[test]
fn setid_bits_and_capabilities_are_stripped_by_default() {
    let s = Scratch::new();
    let r = s.unpack_attack(&privileged_tar()).expect("unpack");
    // user.note is kept where the file system has user xattrs, and counted
    // as dropped where it has none (tmpfs before 6.6).
    let user_ok = user_xattrs_supported(&s.path(""));
    let dropped = if user_ok { 1 } else { 2 };
    assert_eq!(
        (r.setid_stripped, r.caps_dropped, r.xattrs_dropped),
        (3, 1, dropped)
    );
    for (f, mode) in [
        ("suid", 0o755),
        ("sgid", 0o755),
        ("both", 0o711),
        ("plain", 0o1755),
    ] {
        assert_eq!(mode_of(&s.path(f)), mode, "{f}");
    }
    assert_eq!(xattr(&s.path("ping"), "security.capability"), None);
    if user_ok {
        assert_eq!(xattr(&s.path("ping"), "user.note"), Some(b"kept".to_vec()));
    }
    // setgid on a directory grants nothing (new files inherit the group).
    assert_eq!(mode_of(&s.path("sgid-dir")), 0o2775);
    assert_eq!(
        r.neutralised(),
        vec![
            "3 setuid/setgid bits stripped",
            "1 file capabilities dropped",
            &format!("{dropped} extended attributes dropped")
        ]
    );
}

#[test]
fn keep_setid_keeps_bits_and_capabilities() {
    let s = Scratch::new();
    let opts = Options {
        keep_setid: true,
        ..Options::default()
    };
    let r = s
        .unpack_with(&privileged_tar(), Compression::None, &opts)
        .expect("unpack");
    s.assert_outside_untouched();
    assert_eq!((r.setid_stripped, r.caps_dropped), (0, 0));
    assert_eq!(mode_of(&s.path("suid")), 0o4755);
    assert_eq!(mode_of(&s.path("both")), 0o6711);
    assert_eq!(
        xattr(&s.path("ping"), "security.capability"),
        Some(CAP_NET_RAW_V2.to_vec())
    );
}

// -------------------------------------------------------------- limits ----

fn limits(f: impl FnOnce(&mut Limits)) -> Options {
    let mut opts = Options::default();
    f(&mut opts.limits);
    opts
}

fn limit_of(r: &Result<Report, Error>) -> &'static str {
    match r {
        Err(Error::Limit { what, .. }) => what,
        _ => "none",
    }
}

#[test]
fn decompression_bomb_is_refused_quickly() {
    // 64 MiB of zeros in one file: a 64 KiB gzip. Limit 16 MiB.
    let mut zeros = Tar::new();
    let mut h = Hdr::new("bomb", REGULAR);
    h.size = 64 << 20;
    zeros.header_only(h);
    let mut tar = zeros.out.clone();
    tar.resize(tar.len() + (64 << 20) + 1024, 0);
    let gz = gzip(&tar);
    drop(tar);
    assert!(gz.len() < 1 << 20, "{}", gz.len());
    let opts = limits(|l| l.max_bytes = 16 << 20);
    let s = Scratch::new();
    let start = std::time::Instant::now();
    let r = s.unpack_with(&gz, Compression::Gzip, &opts);
    assert_eq!(limit_of(&r), "max_bytes", "{r:?}");
    assert!(start.elapsed().as_secs() < 5, "{:?}", start.elapsed());
    s.assert_nothing_left();

    // The same as many small files, each under the limit.
    let mut t = Tar::new();
    for i in 0..64 {
        t.file(&format!("f{i}"), &vec![0u8; 1 << 20]);
    }
    let gz = gzip(&t.finish());
    let s = Scratch::new();
    let r = s.unpack_with(&gz, Compression::Gzip, &opts);
    assert_eq!(limit_of(&r), "max_bytes", "{r:?}");
    s.assert_nothing_left();

    // Zeros after the end of the archive still count (and are read: the
    // gzip trailer is at the very end).
    let mut tar = Tar::new().file("f", b"x").finish();
    tar.resize(64 << 20, 0);
    let s = Scratch::new();
    let r = s.unpack_with(&zstd(&tar), Compression::Zstd, &opts);
    assert_eq!(limit_of(&r), "max_bytes", "{r:?}");
    s.assert_nothing_left();
}

#[test]
fn a_huge_size_field_is_refused_before_reading() {
    // Default limits (16 GiB): a header that claims 1 TiB.
    let mut t = Tar::new();
    let mut h = Hdr::new("huge", REGULAR);
    h.size = 1 << 40;
    t.header_only(h);
    let mut tar = t.out.clone();
    tar.resize(tar.len() + 4096, 0);
    let s = Scratch::new();
    let start = std::time::Instant::now();
    let r = s.unpack_with(&gzip(&tar), Compression::Gzip, &Options::default());
    assert_eq!(limit_of(&r), "max_bytes", "{r:?}");
    assert!(start.elapsed().as_secs() < 2);
    s.assert_nothing_left();
}

#[test]
fn entry_path_and_metadata_limits() {
    let mut t = Tar::new();
    for i in 0..11 {
        t.file(&format!("f{i}"), b"");
    }
    let s = Scratch::new();
    let r = s.unpack_with(
        &t.finish(),
        Compression::None,
        &limits(|l| l.max_entries = 10),
    );
    assert_eq!(limit_of(&r), "max_entries", "{r:?}");
    s.assert_nothing_left();

    let deep = "d/".repeat(20) + "f";
    let tar = Tar::new()
        .pax(&[("path", deep.as_bytes())])
        .file("x", b"")
        .finish();
    let r = s.unpack_with(&tar, Compression::None, &limits(|l| l.max_depth = 10));
    assert_eq!(limit_of(&r), "max_depth", "{r:?}");
    s.assert_nothing_left();
    let r = s.unpack_with(&tar, Compression::None, &limits(|l| l.max_path_len = 30));
    assert_eq!(limit_of(&r), "max_path_len", "{r:?}");
    s.assert_nothing_left();

    // A 4 MiB PAX header (the tar reader would hold it in memory).
    let big = vec![b'a'; 4 << 20];
    let tar = Tar::new().pax(&[("comment", &big)]).file("x", b"").finish();
    let r = s.unpack(&tar);
    assert_eq!(limit_of(&r), "max_metadata_bytes", "{r:?}");
    s.assert_nothing_left();
    let tar = Tar::new()
        .gnu_long(GNU_LONGNAME, &big)
        .file("x", b"")
        .finish();
    let r = s.unpack(&tar);
    assert_eq!(limit_of(&r), "max_metadata_bytes", "{r:?}");
    s.assert_nothing_left();
}

// -------------------------------------------------------- corruption ----

#[test]
fn truncated_and_corrupt_streams_leave_nothing() {
    let tar = Tar::new()
        .dir("etc/")
        .file("etc/a", &[7u8; 100_000])
        .file("etc/b", b"b\n")
        .finish();
    let s = Scratch::new();
    // Cut inside etc/a's data, inside etc/b's header, between two entries
    // and after the last one (no end-of-archive block).
    let end = tar.len() - 1024;
    for cut in [2048, 100_000, 101_500, 101_376, end] {
        let r = s.unpack(&tar[..cut]);
        assert!(matches!(r, Err(Error::Corrupt(_))), "cut {cut}: {r:?}");
        s.assert_nothing_left();
    }
    // A header with a bad checksum.
    let mut bad = tar.clone();
    bad[600] ^= 1;
    assert!(matches!(s.unpack(&bad), Err(Error::Corrupt(_))));
    s.assert_nothing_left();

    let gz = gzip(&tar);
    let mut flipped = gz.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let r = s.unpack_with(&flipped, Compression::Gzip, &Options::default());
    assert!(matches!(r, Err(Error::Corrupt(_))), "{r:?}");
    s.assert_nothing_left();
    // Without its trailer (CRC and length): checked at the end.
    let r = s.unpack_with(&gz[..gz.len() - 8], Compression::Gzip, &Options::default());
    assert!(matches!(r, Err(Error::Corrupt(_))), "{r:?}");
    s.assert_nothing_left();
    // A bad CRC in the trailer.
    let mut crc = gz.clone();
    let n = crc.len();
    crc[n - 8] ^= 1;
    let r = s.unpack_with(&crc, Compression::Gzip, &Options::default());
    assert!(matches!(r, Err(Error::Corrupt(_))), "{r:?}");
    s.assert_nothing_left();

    let zs = zstd(&tar);
    let r = s.unpack_with(&zs[..zs.len() / 2], Compression::Zstd, &Options::default());
    assert!(matches!(r, Err(Error::Corrupt(_))), "{r:?}");
    s.assert_nothing_left();
    // Not gzip at all.
    let r = s.unpack_with(&tar, Compression::Gzip, &Options::default());
    assert!(matches!(r, Err(Error::Corrupt(_))), "{r:?}");
    s.assert_nothing_left();
}

#[test]
fn an_existing_destination_is_never_touched() {
    let s = Scratch::new();
    std::fs::create_dir(s.dest()).expect("mkdir");
    std::fs::write(s.dest().join("mine"), "x").expect("write");
    let r = s.unpack(&Tar::new().file("mine", b"pwned").finish());
    assert!(matches!(r, Err(Error::DestExists(_))), "{r:?}");
    assert_eq!(s.read("mine"), "x");
    // An empty directory or a symlink at dest counts as existing too.
    std::fs::remove_dir_all(s.dest()).expect("rm");
    std::os::unix::fs::symlink(s.outside(), s.dest()).expect("symlink");
    let r = s.unpack(&Tar::new().file("target", b"pwned").finish());
    assert!(matches!(r, Err(Error::DestExists(_))), "{r:?}");
    std::fs::remove_file(s.dest()).expect("rm");
    s.assert_nothing_left();
}

#[test]
fn unknown_entry_types_are_refused() {
    let s = Scratch::new();
    let r = s.unpack_attack(&Tar::new().raw(Hdr::new("vol", b'V'), b"").finish());
    assert!(refused_reason(&r).contains("unsupported"), "{r:?}");
}

// ------------------------------------------------------------ helpers ----

fn mode_of(p: &std::path::Path) -> u32 {
    p.symlink_metadata().map(|m| m.mode() & 0o7777).unwrap_or(0)
}

fn xattr(p: &std::path::Path, name: &str) -> Option<Vec<u8>> {
    let f = std::fs::File::open(p).ok()?;
    ward_sys::fs::get_xattr(std::os::fd::AsFd::as_fd(&f), name).ok()?
}

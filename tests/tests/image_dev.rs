//! A config without a mount on /dev (issue #14, finding 10): the default
//! devices and links go into the image's own /dev, as runc and crun do.
//! ward used to fail with "masked paths: opening the container's /dev/null
//! (it must not be a symlink): No such file or directory".
//!
//! The image is the attacker's: its /dev may be a symlink (to /, /etc, a
//! host path), its /dev/null a symlink, fifo or file. ward refuses a /dev
//! symlink and replaces the nodes (never writing through a symlink); what
//! runc and crun do is printed for the record. Every symlink target that a
//! reference runtime is run against is a path under the test's own dir, so
//! a runtime that follows it on the host writes only there. Both do:
//! runc 1.1.5 creates the /dev links (fd, stdin, ptmx ...) through an image
//! `/dev -> /etc` in the host's /etc, crun 1.8.1 the device nodes too
//! (/etc/null). `/` and `/etc` themselves are tried with ward only.

use std::path::{Path, PathBuf};

use ward_tests::{ctx, Bundle, Ctx, Kind, Out};

const SCRIPT: &str = "for d in null zero full random urandom tty; do echo \"$d $(stat -c '%F %t %T' /dev/$d)\"; done; \
     for l in ptmx fd stdin stdout stderr; do echo \"$l -> $(readlink /dev/$l)\"; done; \
     echo x > /dev/null && echo null-writable; \
     test -s /proc/timer_list || echo timer_list-masked";

/// A bundle without the /dev tmpfs mount (the template's /dev/pts, shm and
/// mqueue mounts stay), running the checks of `SCRIPT`.
fn image_dev_bundle(ctx: &Ctx) -> Bundle {
    let mut b = ctx.bundle(&[]);
    b.sh(SCRIPT);
    b.config["mounts"]
        .as_array_mut()
        .expect("mounts")
        .retain(|m| m["destination"] != "/dev");
    b
}

/// What a container with the default /dev must print.
#[track_caller]
/// The bundle lies on a `nodev` mount (a systemd host's or the VM
/// harness's /tmp): device nodes in the image's own /dev cannot be opened
/// there, with any runtime that makes them with mknod (runc does too).
fn on_nodev(b: &Bundle) -> bool {
    let nodev = nix::sys::statvfs::statvfs(&b.dir)
        .is_ok_and(|st| st.flags().contains(nix::sys::statvfs::FsFlags::ST_NODEV));
    if nodev {
        ward_tests::say(&format!(
            "SKIP (part): {} is on a nodev mount: /dev/null in the image's own /dev cannot be written there; the node's type and numbers are still checked",
            b.dir.display()
        ));
    }
    nodev
}

fn assert_default_dev(o: &Out, what: &str, nodev: bool) {
    let lines = o.lines();
    for (d, maj, min) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        let want = format!("{d} character special file {maj:x} {min:x}");
        assert!(lines.contains(&want), "{what}: want {want:?}: {o}");
    }
    for (l, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let want = format!("{l} -> {target}");
        assert!(lines.contains(&want), "{what}: want {want:?}: {o}");
    }
    for w in ["null-writable", "timer_list-masked"] {
        if w == "null-writable" && nodev {
            continue;
        }
        assert!(lines.iter().any(|l| l == w), "{what}: want {w}: {o}");
    }
}

#[test]
fn default_devices_on_the_images_own_dev() {
    let ctx = ctx!("image-dev");
    for with_dir in [true, false] {
        let b = image_dev_bundle(&ctx);
        if !with_dir {
            std::fs::remove_dir(b.rootfs().join("dev")).expect("rmdir rootfs/dev");
        }
        let id = ctx.id("imgdev");
        let o = ctx.run(&b, &id).ok();
        assert_default_dev(&o, &format!("image /dev present: {with_dir}"), on_nodev(&b));
        ctx.assert_no_leftovers(&id, &b.dir, None);
    }
}

/// Runs `b`; for ward asserts the refusal (mentioning `words`), for runc
/// and crun prints what happened.
fn refused(ctx: &Ctx, b: &Bundle, case: &str, words: &[&str]) {
    let id = ctx.id("baddev");
    let o = ctx.run(b, &id);
    if ctx.rt.kind != Kind::Other {
        record(ctx, case, &o);
        return;
    }
    o.fails_mentioning(words);
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

fn record(ctx: &Ctx, case: &str, o: &Out) {
    ward_tests::say(&format!(
        "NOTE: {}: {} with {case}: exit {}, {:?}",
        ctx.name,
        ctx.rt.name(),
        o.code(),
        o.text().trim().chars().take(300).collect::<String>()
    ));
}

/// The entries of a dir (sorted), for "nothing was written there".
fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// An empty dir at the same absolute path on the host and in the rootfs:
/// a runtime that resolves a symlink to it on the host writes into the
/// first, one that resolves it in the rootfs into the second.
fn lookalike(ctx: &Ctx, b: &Bundle, name: &str) -> (PathBuf, PathBuf) {
    let host = ctx.path(name);
    std::fs::create_dir_all(&host).expect("mkdir host side");
    let inside = b
        .rootfs()
        .join(host.strip_prefix("/").expect("absolute test dir"));
    std::fs::create_dir_all(&inside).expect("mkdir rootfs side");
    (host, inside)
}

#[test]
fn image_dev_symlink_is_refused() {
    let ctx = ctx!("image-dev-symlink");
    // A symlink to a host-lookalike path: safe with every runtime.
    let b = image_dev_bundle(&ctx);
    let (host, inside) = lookalike(&ctx, &b, "hostdev");
    std::fs::remove_dir(b.rootfs().join("dev")).expect("rmdir rootfs/dev");
    std::os::unix::fs::symlink(&host, b.rootfs().join("dev")).expect("symlink /dev");
    refused(&ctx, &b, "/dev -> a host path", &["/dev", "symlink"]);
    if ctx.rt.kind != Kind::Other {
        // runc 1.1.5 creates the /dev links (fd, stdin ...) on the host
        // side, crun 1.8.1 the device nodes too.
        ward_tests::say(&format!(
            "NOTE: {}: {}: written on the host side {:?}, in the rootfs {:?}",
            ctx.name,
            ctx.rt.name(),
            entries(&host),
            entries(&inside)
        ));
    } else {
        assert!(
            entries(&host).is_empty() && entries(&inside).is_empty(),
            "ward wrote through the image's /dev symlink: host side {:?}, rootfs side {:?}",
            entries(&host),
            entries(&inside)
        );

        // `/` and `/etc` themselves: ward only (runc and crun would write
        // /etc/fd, /etc/null ... on this host, as the lookalike shows).
        for target in ["/", "/etc"] {
            let b = image_dev_bundle(&ctx);
            std::fs::remove_dir(b.rootfs().join("dev")).expect("rmdir rootfs/dev");
            std::os::unix::fs::symlink(target, b.rootfs().join("dev")).expect("symlink /dev");
            let names = ["null", "tty", "fd", "stdin", "ptmx"];
            let host_before: Vec<bool> = names
                .iter()
                .map(|n| Path::new(target).join(n).symlink_metadata().is_ok())
                .collect();
            refused(&ctx, &b, &format!("/dev -> {target}"), &["/dev", "symlink"]);
            for (n, before) in names.iter().zip(host_before) {
                let host_path = Path::new(target).join(n);
                assert!(
                    before || host_path.symlink_metadata().is_err(),
                    "ward created {} on the host",
                    host_path.display()
                );
                let in_root = b.rootfs().join(target.trim_start_matches('/')).join(n);
                assert!(
                    in_root.symlink_metadata().is_err(),
                    "ward created {}",
                    in_root.display()
                );
            }
        }
    }

    // /dev a regular file.
    let b = image_dev_bundle(&ctx);
    std::fs::remove_dir(b.rootfs().join("dev")).expect("rmdir rootfs/dev");
    std::fs::write(b.rootfs().join("dev"), "").expect("touch /dev");
    refused(&ctx, &b, "/dev a regular file", &["/dev", "directory"]);
}

#[test]
fn image_dev_nodes_of_the_wrong_kind_are_replaced() {
    let ctx = ctx!("image-dev-nodes");
    // Each case puts something at /dev/null (or /dev/tty) in the image;
    // the container must still get the real nodes, and the thing a symlink
    // points to — on the host and in the rootfs — stays untouched.
    let cases: &[(&str, &str)] = &[
        ("null", "symlink"),
        ("null", "relative-symlink"),
        ("null", "fifo"),
        ("null", "file"),
        ("tty", "symlink"),
    ];
    for (node, kind) in cases {
        let b = image_dev_bundle(&ctx);
        let (host, inside) = lookalike(&ctx, &b, &format!("victim-{node}-{kind}"));
        let victim = "do not overwrite\n";
        std::fs::write(host.join("file"), victim).expect("write host victim");
        std::fs::write(inside.join("file"), victim).expect("write rootfs victim");
        let at = b.rootfs().join("dev").join(node);
        match *kind {
            "symlink" => std::os::unix::fs::symlink(host.join("file"), &at).expect("symlink"),
            "relative-symlink" => {
                // From /dev: up past the root (clamped to it inside the
                // container) and down to the rootfs-side victim.
                let rel = Path::new("../../../../../../..").join(
                    inside
                        .join("file")
                        .strip_prefix(b.rootfs())
                        .expect("in rootfs"),
                );
                std::os::unix::fs::symlink(rel, &at).expect("symlink")
            }
            "fifo" => nix::unistd::mkfifo(&at, nix::sys::stat::Mode::from_bits_truncate(0o644))
                .expect("mkfifo"),
            _ => std::fs::write(&at, "image file\n").expect("write"),
        }
        let id = ctx.id("badnode");
        let o = ctx.run(&b, &id);
        let case = format!("/dev/{node} a {kind}");
        let host_after = std::fs::read_to_string(host.join("file")).unwrap_or_default();
        let inside_after = std::fs::read_to_string(inside.join("file")).unwrap_or_default();
        if ctx.rt.kind != Kind::Other {
            record(&ctx, &case, &o);
        } else {
            assert!(o.success(), "{case}: {o}");
            assert_default_dev(&o, &case, on_nodev(&b));
            assert_eq!(inside_after, victim, "{case}: the rootfs victim changed");
        }
        assert_eq!(
            host_after,
            victim,
            "{case}: {} wrote to the host through the image's /dev/{node}",
            ctx.rt.name()
        );
    }
}

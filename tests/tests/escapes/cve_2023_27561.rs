//! CVE-2023-27561 (with CVE-2023-28642): CVE-2019-19921 again, for /sys and
//! through a volume.
//!
//! Attack: runc 1.0.0-rc95 to 1.1.4 lost the "no procfs/sysfs on a symlink"
//! check: an image whose `/proc` (or `/sys`) is a symlink — e.g. into a
//! volume shared with another container — gets procfs/sysfs mounted
//! wherever the symlink points, and the AppArmor label and masked paths
//! (/sys/firmware, /proc/kcore ...) go to whatever sits at /proc or /sys.
//!
//! Defence: the same as CVE-2019-19921: crates/init/src/rootfs/mounts.rs
//! `mount_one` refuses to mount proc or sysfs on anything but a directory
//! reached without symlinks (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS),
//! and attaches the mount to the resolved fd (move_mount).
//!
//! Checked: `/sys -> /fakesys` (sysfs through a symlink) and `/proc ->
//! /vol/proc` (procfs into a bind-mounted host directory): each is refused,
//! or the container sees a genuine, masked sysfs/procfs at the real path;
//! the host directory behind the volume stays untouched. A refusal must
//! name the mount point and say why (a symlink, not a directory); the
//! control — the same bundle with a plain `/sys` and `/proc`, volume and
//! all — must start with a genuine, masked sysfs and procfs, so a refusal
//! is the attack's, not a runtime that cannot run the bundle at all.
//! Weakened setup: runc 1.1.5 (fixed there; shown if it were not).

use ward_tests::{ctx, say, Bundle, Ctx, Out};

use crate::common::*;
use crate::cve_2019_19921::{safe_proc, PROBE_PROC};

const PROBE_SYS: &str = "echo link=$(readlink /sys); echo type=$(stat -f -c %T /sys/); \
     echo firmware=$(ls -A /sys/firmware | wc -l); echo done";

fn sys_bundle(ctx: &Ctx) -> Bundle {
    let mut b = ctx.bundle(&[]);
    let r = b.rootfs();
    let _ = std::fs::remove_dir(r.join("sys"));
    mkdir(&r.join("fakesys/firmware/secret"));
    symlink("/fakesys", &r.join("sys"));
    b.sh(PROBE_SYS);
    b
}

fn safe_sys(o: &Out) -> Result<String, String> {
    if !o.success() {
        return refused(o, "/sys");
    }
    let s = &o.stdout;
    if s.contains("link=\n") && s.contains("type=sysfs\n") && s.contains("firmware=0\n") {
        Ok("started with a genuine sysfs at /sys, /sys/firmware masked".into())
    } else {
        Err(format!(
            "sysfs went through the symlink: {}",
            s.trim().replace('\n', " | ")
        ))
    }
}

/// A refusal is the attack's if the error names the mount point and why:
/// a symlink, or not an (ordinary) directory. ward: "/sys is reached
/// through a symlink"; runc: "must be mounted on ordinary directory";
/// crun: "the target `/sys` is invalid: Not a directory".
fn refused(o: &Out, at: &str) -> Result<String, String> {
    let e = o.stderr.trim();
    let why = ["symlink", "directory"]
        .iter()
        .any(|w| e.to_lowercase().contains(w));
    if e.contains(at) && why {
        Ok(format!("refused (exit {}): {e}", o.code()))
    } else {
        Err(format!(
            "exit {} without naming {at} as a symlink or not a directory: {e}",
            o.code()
        ))
    }
}

/// /proc -> /vol/proc where /vol is a bind mount of a host directory
/// (`symlinked`; else /proc is a plain directory, volume and all).
fn volume_bundle(ctx: &Ctx, vol: &std::path::Path, symlinked: bool) -> Bundle {
    mkdir(&vol.join("proc"));
    let mut b = ctx.bundle(&[]);
    let r = b.rootfs();
    if symlinked {
        let _ = std::fs::remove_dir(r.join("proc"));
        symlink("/vol/proc", &r.join("proc"));
    }
    // The volume is mounted before proc (mounts are made in order).
    if let Some(a) = b.config["mounts"].as_array_mut() {
        a.insert(
            0,
            ward_tests::json!({
                "destination": "/vol", "type": "bind",
                "source": vol.display().to_string(), "options": ["bind", "rw"]
            }),
        );
    }
    b.sh(PROBE_PROC);
    b
}

fn attempt(ctx: &Ctx, tag: &str) -> (Result<String, String>, Result<String, String>, Vec<String>) {
    let sys = safe_sys(&run(ctx, &sys_bundle(ctx), &format!("{tag}s")));
    let vol = ctx.path(&format!("vol-{tag}"));
    let o = run(ctx, &volume_bundle(ctx, &vol, true), &format!("{tag}p"));
    let p = if o.success() {
        safe_proc(&o)
    } else {
        refused(&o, "/proc")
    };
    (sys, p, tree(&vol))
}

/// Both bundles in one, without the symlinks: the image's /fakesys, the
/// volume at /vol, plain /sys and /proc directories.
fn control(ctx: &Ctx) -> Out {
    let vol = ctx.path("vol-control");
    let mut b = volume_bundle(ctx, &vol, false);
    mkdir(&b.rootfs().join("fakesys/firmware/secret"));
    b.sh(&format!("{PROBE_SYS}; {PROBE_PROC}"));
    run(ctx, &b, "27561c")
}

#[test]
fn sysfs_and_procfs_through_symlinks_are_refused() {
    let ctx = ctx!("cve-2023-27561");
    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let (s, p, vol) = attempt(&weak, "27561w");
        let v = runc_version(&weak);
        match (&s, &p) {
            (Ok(a), Ok(b)) if vol == ["proc"] => weakened_skip(
                &ctx.name,
                &v,
                &format!("not vulnerable: /sys: {a}; /proc: {b}"),
            ),
            _ => weakened_works(
                &ctx.name,
                &v,
                &format!("/sys: {s:?}; /proc: {p:?}; volume: {vol:?}"),
            ),
        }
    }
    let o = control(&ctx);
    let s = &o.stdout;
    assert!(
        o.success()
            && s.matches("link=\n").count() == 2
            && s.contains("type=sysfs\n")
            && s.contains("firmware=0\n")
            && s.contains("type=proc\n")
            && s.contains("masked=0\n"),
        "control (plain /sys and /proc): no genuine, masked sysfs and procfs: {o}"
    );

    let (s, p, vol) = attempt(&ctx, "27561");
    say(&format!(
        "{}: /sys -> /fakesys: {s:?}; /proc -> /vol/proc: {p:?}",
        ctx.name
    ));
    if let Err(e) = s {
        panic!("{e}");
    }
    if let Err(e) = p {
        panic!("{e}");
    }
    assert_eq!(
        vol,
        ["proc"],
        "the host directory behind the volume changed"
    );
}

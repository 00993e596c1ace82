//! CVE-2023-27561 (with CVE-2023-28642): CVE-2019-19921 again, for /sys and
//! through a volume.
//!
//! Attack: runc 1.0.0-rc95 to 1.1.4 lost the "no procfs/sysfs on a symlink"
//! check: an image whose `/proc` (or `/sys`) is a symlink — e.g. into a
//! volume shared with another container — gets procfs/sysfs mounted
//! wherever the symlink points, and the AppArmor label and masked paths
//! (/sys/firmware, /proc/kcore ...) go to whatever sits at /proc or /sys.
//!
//! Defence: the same as CVE-2019-19921: crates/sandbox/src/rootfs/mounts.rs
//! `mount_one` refuses to mount proc or sysfs on anything but a directory
//! reached without symlinks (openat2 RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS),
//! and attaches the mount to the resolved fd (move_mount).
//!
//! Checked: `/sys -> /fakesys` (sysfs through a symlink) and `/proc ->
//! /vol/proc` (procfs into a bind-mounted host directory): each is refused,
//! or the container sees a genuine, masked sysfs/procfs at the real path;
//! the host directory behind the volume stays untouched. Weakened setup:
//! runc 1.1.5 (fixed there; shown if it were not).

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
        return Ok(format!("refused (exit {}): {}", o.code(), o.stderr.trim()));
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

/// /proc -> /vol/proc where /vol is a bind mount of a host directory.
fn volume_bundle(ctx: &Ctx, vol: &std::path::Path) -> Bundle {
    mkdir(&vol.join("proc"));
    let mut b = ctx.bundle(&[]);
    let r = b.rootfs();
    let _ = std::fs::remove_dir(r.join("proc"));
    symlink("/vol/proc", &r.join("proc"));
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
    let p = safe_proc(&run(ctx, &volume_bundle(ctx, &vol), &format!("{tag}p")));
    (sys, p, tree(&vol))
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

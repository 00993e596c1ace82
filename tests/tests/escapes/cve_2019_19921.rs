//! CVE-2019-19921: procfs mounted through a symlink.
//!
//! Attack: the image (or a volume shared with a racing container) makes
//! `/proc` a symlink. The runtime follows it and mounts procfs at the
//! symlink's target, so the container's /proc is whatever the attacker
//! swaps in afterwards: the AppArmor label and the masked paths then land
//! on attacker-controlled files, and the real procfs, reachable at the
//! other path, is neither masked nor read-only.
//!
//! Defence: crates/init/src/rootfs/mounts.rs `mount_one`: `proc`,
//! `sysfs` and `/dev` must be mounted on a real directory reached without
//! any symlink (a second openat2 with RESOLVE_IN_ROOT |
//! RESOLVE_NO_SYMLINKS), otherwise the container is refused; the mount is
//! attached with move_mount onto the resolved fd, so no later swap of the
//! path matters.
//!
//! Checked: a bundle whose /proc is a symlink to /fakeproc is refused, or
//! the container sees a genuine procfs at /proc (not a symlink) with its
//! masked paths masked. Control: the same bundle with a plain /proc runs.
//! Weakened setup: runc 1.1.5 (fixed since 1.0.0-rc10; shown if it were not).

use ward_tests::{ctx, say, Bundle, Ctx, Out};

use crate::common::*;

/// What the container reports about its /proc.
pub const PROBE_PROC: &str = "echo link=$(readlink /proc); echo type=$(stat -f -c %T /proc/); \
     echo masked=$(head -c 40 /proc/timer_list | wc -c); echo done";

fn bundle(ctx: &Ctx, symlinked: bool) -> Bundle {
    let mut b = ctx.bundle(&[]);
    if symlinked {
        let r = b.rootfs();
        let _ = std::fs::remove_dir(r.join("proc"));
        mkdir(&r.join("fakeproc"));
        write(&r.join("fakeproc/timer_list"), "fake\n");
        symlink("/fakeproc", &r.join("proc"));
    }
    b.sh(PROBE_PROC);
    b
}

/// The outcome is safe: refused, or a real, masked procfs at /proc.
pub fn safe_proc(o: &Out) -> Result<String, String> {
    if !o.success() {
        return Ok(format!("refused (exit {}): {}", o.code(), o.stderr.trim()));
    }
    let s = &o.stdout;
    if s.contains("link=\n") && s.contains("type=proc\n") && s.contains("masked=0\n") {
        Ok("started with a genuine, masked procfs at /proc".into())
    } else {
        Err(format!(
            "procfs went through the symlink: {}",
            s.trim().replace('\n', " | ")
        ))
    }
}

#[test]
fn proc_through_a_symlink_is_refused() {
    let ctx = ctx!("cve-2019-19921");
    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let o = run(&weak, &bundle(&weak, true), "19921w");
        match safe_proc(&o) {
            Err(e) => weakened_works(&ctx.name, &runc_version(&weak), &e),
            Ok(how) => weakened_skip(
                &ctx.name,
                &runc_version(&weak),
                &format!("not vulnerable: {how}"),
            ),
        }
    }
    let o = run(&ctx, &bundle(&ctx, false), "19921c").ok();
    assert!(o.stdout.contains("type=proc"), "control: {o}");

    let o = run(&ctx, &bundle(&ctx, true), "19921");
    match safe_proc(&o) {
        Ok(how) => say(&format!("{}: /proc -> /fakeproc: {how}", ctx.name)),
        Err(e) => panic!("{e}\n{o}"),
    }
}

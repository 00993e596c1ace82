//! CVE-2025-31133: masked paths through a /dev/null that is not /dev/null.
//!
//! Attack: masking binds the container's /dev/null over each masked path
//! (`mount("/dev/null", "/proc/kcore", MS_BIND)`). If the image (or a racing
//! container sharing /dev) makes /dev/null a symlink — to
//! /proc/sys/kernel/core_pattern, say — the runtime binds *that* file over
//! the masked path, as a fresh read-write mount: the container writes
//! core_pattern (a host-wide setting: code execution on the host at the
//! next crash) through /proc/kcore. A deleted /dev/null made runc skip
//! masking altogether.
//!
//! Defence: with no mount on /dev, crates/init/src/rootfs/dev.rs
//! `create_devices` replaces the image's /dev/null (a symlink, fifo or file
//! is unlinked, never followed) with the real node, as for a /dev tmpfs
//! (issue #14, finding 10; ward used to refuse such an image). Then
//! crates/init/src/rootfs/masked.rs `verified_dev_null` opens /dev/null
//! with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS), checks it is the
//! character device 1:3 and `mask` binds exactly that fd (open_tree +
//! move_mount onto the openat2'd target); anything else — symlink,
//! missing, another file (a racing container sharing /dev) — is an error,
//! never a weaker container. A write to a masked file then goes to the
//! null device: accepted, and lands nowhere.
//!
//! Stand-in (never the host's core_pattern): `/core_pattern`, a file of the
//! rootfs, checked on the host. A runtime that binds what /dev/null points
//! to over /proc/timer_list lets the container's write to /proc/timer_list
//! land in it (and reading /proc/timer_list shows the file). The rootfs is
//! writable here: runc 1.1.5 also re-opens "/dev/null" as the container's
//! stdio — the stand-in, open for writing — and then fails to make a
//! read-only rootfs read-only (EBUSY). Weakened setup: runc 1.1.5 (fixed in
//! 1.2.8).
//!
//! Both cases must end one of two ways, for any runtime: refused, with an
//! error that names /dev/null; or started with /proc/timer_list masked —
//! in the container it is the character device 1:3 and reads empty. (ward
//! starts: it makes the real /dev/null; runc makes one where it is
//! missing.)

use ward_tests::{ctx, say, Bundle, Ctx};

use crate::common::*;

const ORIGINAL: &str = "ORIGINAL core_pattern stand-in\n";

/// A rootfs with no /dev mount (the image's /dev is used), whose
/// /dev/null is a symlink to /core_pattern; the process writes
/// /proc/timer_list (masked) and prints what it then reads there.
fn bundle(ctx: &Ctx) -> Bundle {
    let mut b = ctx.bundle(&[]);
    b.readonly(false);
    drop_dev_mounts(&mut b);
    write(&b.rootfs().join("core_pattern"), ORIGINAL);
    symlink("/core_pattern", &b.rootfs().join("dev/null"));
    b.sh(&format!(
        "echo PWNED-31133 > /proc/timer_list 2>&1 && echo WROTE-MASKED-PATH; \
         echo masked=$(head -c 40 /proc/timer_list | tr '\\n' ' '); {MASK_DEV} echo done",
    ));
    b
}

/// Prints what /proc/timer_list is in the container: `dev=character
/// special file 1:3` when it is masked with the null device.
const MASK_DEV: &str = "echo dev=$(stat -c '%F %t:%T' /proc/timer_list);";

/// What the mask of /proc/timer_list is, as the container saw it.
const NULL_DEV: &str = "dev=character special file 1:3\n";

/// A refusal must say why: the error names /dev/null.
#[track_caller]
fn assert_refused_over_dev_null(o: &ward_tests::Out) {
    assert!(
        o.stderr.contains("/dev/null"),
        "refused, but not over /dev/null (the error does not name it): {o}"
    );
}

#[test]
fn dev_null_symlink_does_not_turn_masking_into_a_write() {
    let ctx = ctx!("cve-2025-31133");
    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let b = bundle(&weak);
        let o = run_stdin_file(&weak, &b, "31133w");
        let now = read(&b.rootfs().join("core_pattern"));
        if now != ORIGINAL {
            weakened_works(
                &ctx.name,
                &runc_version(&weak),
                &format!(
                    "the container's writes (to the masked /proc/timer_list, and its stdio, \
                     which runc re-opened on \"/dev/null\") went into the file behind /dev/null, \
                     which now reads {now:?}"
                ),
            );
        } else {
            weakened_skip(
                &ctx.name,
                &runc_version(&weak),
                &format!("not vulnerable: {o}"),
            );
        }
    }

    let b = bundle(&ctx);
    let o = run_stdin_file(&ctx, &b, "31133");
    let now = read(&b.rootfs().join("core_pattern"));
    say(&format!(
        "{}: symlinked /dev/null: exit {}, {}",
        ctx.name,
        o.code(),
        o.text().trim().replace('\n', " | ")
    ));
    assert_eq!(
        now, ORIGINAL,
        "the file behind the container's /dev/null symlink changed (written through a masked \
         path, or opened as stdio): {o}"
    );
    // "WROTE-MASKED-PATH" alone is no escape: the real null device accepts
    // the write. It must land nowhere: the stand-in is unchanged (above)
    // and /proc/timer_list is the null device and reads empty.
    if !o.success() {
        assert_refused_over_dev_null(&o);
        return;
    }
    assert!(
        o.stdout.contains("masked=\n") && o.stdout.contains(NULL_DEV),
        "started, but /proc/timer_list is not masked with the null device: {o}"
    );
}

#[test]
fn missing_dev_null_does_not_skip_masking() {
    let ctx = ctx!("cve-2025-31133-missing");
    let mut b = ctx.bundle(&[]);
    drop_dev_mounts(&mut b);
    b.sh(&format!(
        "echo masked=$(head -c 40 /proc/timer_list | wc -c); {MASK_DEV} echo done"
    ));
    if read(std::path::Path::new("/proc/timer_list")).is_empty() {
        ward_tests::skip!(
            ctx,
            "/proc/timer_list is empty on this host: nothing to unmask"
        );
    }
    let o = run(&ctx, &b, "31133m");
    say(&format!(
        "{}: no /dev/null: exit {}, {}",
        ctx.name,
        o.code(),
        o.text().trim().replace('\n', " | ")
    ));
    // Either refused over /dev/null, or started with /proc/timer_list
    // masked (a runtime may create its own /dev/null, as runc does when
    // /dev is not a mount).
    if !o.success() {
        assert_refused_over_dev_null(&o);
        return;
    }
    assert!(
        o.stdout.contains("masked=0\n") && o.stdout.contains(NULL_DEV),
        "started, but masking was skipped: /proc/timer_list is not the null device: {o}"
    );
}

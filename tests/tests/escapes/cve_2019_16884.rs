//! CVE-2019-16884: AppArmor bypass through a fake /proc.
//!
//! Attack: the image declares a volume at /proc (or the config mounts a
//! directory there) with regular files at `self/attr/exec` and
//! `self/attr/apparmor/exec`. The runtime, writing the container's AppArmor
//! profile to /proc/self/attr/... by path, writes it into those files; the
//! process is exec'd without the profile: unconfined.
//!
//! Defence: crates/init/src/lsm.rs `apply`/`write_attr`: the label is
//! written through the host's procfs (`InitSpec::host_proc`, opened before
//! any container mount exists), to /proc/<host pid>/attr/..., with
//! openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
//! RESOLVE_NO_XDEV) and an fstatfs check for PROC_SUPER_MAGIC; nothing the
//! container mounts can stand in for it. Without AppArmor, a profile is an
//! error (never silently unconfined).
//!
//! The confinement half needs AppArmor (the VM harness); here it SKIPs
//! after checking that no label went into the fake files.

use std::path::PathBuf;

use ward_tests::{ctx, skip, Bundle, Ctx};

use crate::common::*;

/// A bundle with a host directory of fake attr files bind-mounted over /proc.
fn bundle(ctx: &Ctx, profile: &str) -> (Bundle, Vec<PathBuf>) {
    let fake = ctx.path("fakeproc");
    let mut files = Vec::new();
    for d in ["self", "thread-self", "1"] {
        for f in [
            "attr/exec",
            "attr/current",
            "attr/apparmor/exec",
            "attr/apparmor/current",
        ] {
            let p = fake.join(d).join(f);
            write(&p, "");
            files.push(p);
        }
    }
    let mut b = ctx.bundle(&[]);
    canary(&b);
    bind(&mut b, &fake, "/proc", &["rw"]);
    b.config["process"]["apparmorProfile"] = serde_json::json!(profile);
    b.sh(CANARY_SCRIPT);
    (b, files)
}

fn written(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .filter(|f| !read(f).is_empty())
        .map(|f| format!("{}: {:?}", f.display(), read(f)))
        .collect()
}

#[test]
fn fake_proc_does_not_swallow_the_apparmor_profile() {
    let ctx = ctx!("cve-2019-16884");
    if let Some(why) = apparmor_unavailable() {
        let (b, files) = bundle(&ctx, "ward-escape-16884-absent");
        let o = run(&ctx, &b, "16884n");
        let w = written(&files);
        assert!(
            w.is_empty(),
            "label written into the fake /proc: {w:?}: {o}"
        );
        skip!(ctx, "{why}");
    }
    let profile = Profile::load(&ctx, "escape-16884", CANARY_RULES);
    // Control: without the fake /proc the profile denies the canary.
    let mut control = ctx.bundle(&[]);
    canary(&control);
    control.config["process"]["apparmorProfile"] = serde_json::json!(profile.name);
    control.sh(CANARY_SCRIPT);
    let o = run(&ctx, &control, "16884c").ok();
    assert!(
        o.stdout.contains("CANARY-DENIED"),
        "profile not in force: {o}"
    );

    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let (b, files) = bundle(&weak, &profile.name);
        let o = run(&weak, &b, "16884w");
        if o.stdout.contains("CANARY-READ") {
            weakened_works(
                &ctx.name,
                &runc_version(&weak),
                &format!("ran unconfined; fake files: {:?}", written(&files)),
            );
        } else {
            weakened_skip(
                &ctx.name,
                &runc_version(&weak),
                &format!("not vulnerable: {o}"),
            );
        }
    }

    let (b, files) = bundle(&ctx, &profile.name);
    let o = run(&ctx, &b, "16884");
    let w = written(&files);
    assert!(
        w.is_empty(),
        "label written into the fake /proc: {w:?}: {o}"
    );
    assert!(!o.stdout.contains("CANARY-READ"), "ran unconfined: {o}");
    if o.success() {
        assert!(o.stdout.contains("CANARY-DENIED"), "{o}");
    }
}

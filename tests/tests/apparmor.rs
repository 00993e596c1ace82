//! AppArmor: `process.apparmorProfile` confines the container's process.
//!
//! These tests need a kernel with AppArmor enabled and `apparmor_parser`
//! (package apparmor): they run in the VM harness
//! (`scripts/vm/run-tests.sh ward-tests:apparmor`, see docs/vm-harness.md)
//! and SKIP, with the reason, elsewhere. Each test loads its own profile
//! with `apparmor_parser -r` and removes it afterwards.

use std::path::Path;
use std::time::{Duration, Instant};

use ward_tests::apparmor::{self, Profile};
use ward_tests::{ctx, json, skip};

/// Why these tests cannot run here, if they cannot.
fn unavailable() -> Option<String> {
    apparmor::unavailable("ward-tests:apparmor")
}

/// The label in /proc/PID/attr/current, polled until it is not `unconfined`
/// (a freshly started process may not have exec'd yet).
fn label_of(pid: i32) -> String {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let l = std::fs::read_to_string(format!("/proc/{pid}/attr/current"))
            .map(|s| s.trim_end_matches(['\n', '\0']).to_string())
            .unwrap_or_default();
        if (!l.is_empty() && l != "unconfined") || Instant::now() >= deadline {
            return l;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn write_secret(root: &Path) {
    if let Err(e) = std::fs::write(root.join("etc/aa-secret"), "s3cret\n") {
        panic!("write the secret file: {e}");
    }
}

#[test]
fn profile_confines_the_container_process() {
    let ctx = ctx!("apparmor-confine");
    if let Some(why) = unavailable() {
        skip!(ctx, "{why}");
    }
    let prof = Profile::load(
        &ctx,
        "confine",
        "  deny /etc/aa-secret r,\n  deny /tmp/** w,\n",
    );
    assert!(
        prof.loaded(),
        "{} is not in the kernel's profile list",
        prof.name
    );

    let mut b = ctx.bundle(&[]);
    b.readonly(false);
    b.config["process"]["apparmorProfile"] = json!(prof.name);
    write_secret(&b.rootfs());
    let o = ctx.sh(
        &mut b,
        "echo label=$(cat /proc/self/attr/current); \
         cat /etc/aa-secret 2>&1 && echo secret=readable || echo secret=denied; \
         touch /tmp/aa-probe 2>&1 && echo tmp=writable || echo tmp=denied; \
         touch /root/aa-probe && echo root=writable || echo root=denied; \
         cat /etc/passwd >/dev/null && echo passwd=readable || echo passwd=denied",
    );
    let out = &o.stdout;
    let label = o
        .lines()
        .iter()
        .find_map(|l| l.strip_prefix("label=").map(String::from))
        .unwrap_or_default();
    assert!(
        label.starts_with(&prof.name),
        "the container does not run under {}: label {label:?}\n{o}",
        prof.name
    );
    assert!(
        label.contains("enforce"),
        "profile not enforced: {label:?}\n{o}"
    );
    // What the profile denies fails, with EACCES...
    assert!(
        out.contains("secret=denied"),
        "the denied file was readable: {o}"
    );
    assert!(
        !out.contains("s3cret"),
        "the denied file's content leaked: {o}"
    );
    assert!(
        out.contains("tmp=denied"),
        "a write to /tmp was allowed: {o}"
    );
    assert!(out.contains("Permission denied"), "no EACCES message: {o}");
    // ...while the rest works (so the denials are AppArmor's, not a
    // read-only rootfs or a missing file).
    assert!(out.contains("root=writable"), "control write failed: {o}");
    assert!(out.contains("passwd=readable"), "control read failed: {o}");
    assert!(
        b.rootfs().join("root/aa-probe").exists() && !b.rootfs().join("tmp/aa-probe").exists(),
        "the files on disk do not match: {o}"
    );
}

#[test]
fn the_kernel_reports_the_profile_of_a_running_container() {
    let ctx = ctx!("apparmor-label");
    if let Some(why) = unavailable() {
        skip!(ctx, "{why}");
    }
    let prof = Profile::load(&ctx, "label", "");
    let mut b = ctx.bundle(&["sleep", "60"]);
    b.config["process"]["apparmorProfile"] = json!(prof.name);
    let id = ctx.id("aa");
    ctx.run_detached(&b, &id).ok();
    let pid = ctx.state(&id)["pid"].as_i64().unwrap_or(0) as i32;
    assert!(pid > 0, "no pid in the state of {id}");
    let label = label_of(pid);
    assert_eq!(
        label,
        format!("{} (enforce)", prof.name),
        "/proc/{pid}/attr/current of the container process"
    );
    ctx.kill(&id, "KILL").ok();
    ctx.wait_status(&id, "stopped", Duration::from_secs(10));
    ctx.delete(&id).ok();
}

#[test]
fn unknown_profile_fails_create_with_a_message() {
    let ctx = ctx!("apparmor-unknown");
    if let Some(why) = unavailable() {
        skip!(ctx, "{why}");
    }
    let name = format!("ward-test-no-such-profile-{}", std::process::id());
    let mut b = ctx.bundle(&["true"]);
    b.config["process"]["apparmorProfile"] = json!(name);
    let id = ctx.id("aa-unknown");
    let o = ctx.create(&b, &id);
    if o.success() {
        // Say what start and run do, for the report, then fail: like runc,
        // the profile must be checked before `create` returns.
        let s = ctx.start(&id);
        let st = ctx.poll_status(&id, "stopped", Duration::from_secs(5));
        let id2 = ctx.id("aa-unknown-run");
        let r = ctx.run(&b, &id2);
        panic!(
            "create succeeded with an unknown AppArmor profile {name:?} (runc fails at create)\n\
             create: {o}\nstart: {s}\nstate after start: {st}\nrun: {r}"
        );
    }
    assert!(
        o.mentions_any(&["apparmor"]),
        "the error does not name AppArmor: {o}"
    );
    assert!(
        o.mentions_any(&[&name]),
        "the error does not name the profile: {o}"
    );
    assert!(
        ctx.root_entries().is_empty(),
        "a failed create left state behind: {:?}",
        ctx.root_entries()
    );
}

#[test]
fn profile_is_refused_when_apparmor_is_off() {
    let ctx = ctx!("apparmor-off");
    if apparmor::enabled() {
        skip!(
            ctx,
            "AppArmor is enabled here; this test is for hosts without it"
        );
    }
    let mut b = ctx.bundle(&["true"]);
    b.config["process"]["apparmorProfile"] = json!("ward-test-any-profile");
    let id = ctx.id("aa-off");
    // Refused, never a silently unconfined container.
    ctx.create(&b, &id).fails_mentioning(&["apparmor"]);
    assert!(
        ctx.root_entries().is_empty(),
        "a failed create left state behind: {:?}",
        ctx.root_entries()
    );
}

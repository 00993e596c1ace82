//! The container's seccomp filter is the runtime's last step (issue #14,
//! finding 11): nothing but the final execve may run under it.
//!
//! - An allowlist that names only what the container's program needs (here
//!   ward's default profile without `close_range` and `openat2`, which
//!   busybox never calls) must not break `create`/`start`/`run`/`exec`
//!   because the runtime itself made one of those calls after loading it.
//!   ward used to fail with "fds: close_range: Operation not permitted", or
//!   to return 0 from `create` for an init that died later.
//! - A filter that makes `close_range` return 0 without closing anything
//!   must not let the caller's fds into the container: ward used to load the
//!   filter (without no_new_privs) before closing them, and fd 3 leaked.
//!
//! Both are OCI data, so these run against runc and crun too. With
//! `noNewPrivileges: false` the kernel needs CAP_SYS_ADMIN to load a filter;
//! each test also checks, from inside, the capability sets the program
//! ends up with (the configured ones, no more), NoNewPrivs and Seccomp.

use std::time::Duration;

use ward_tests::{ctx, json, Bundle, Ctx, Value};

/// CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29): the
/// template's bounding, effective and permitted sets (bundle::DEFAULT_CAPS).
const DEFAULT_CAPS_HEX: &str = "0000000020000420";

/// ward's default profile (a broad allowlist: what `ward-oci spec` emits)
/// without `drop` in any rule.
fn allowlist_without(drop: &[&str]) -> Value {
    let mut p = serde_json::to_value(ward_seccomp::default_profile()).expect("profile JSON");
    let rules = p["syscalls"].as_array_mut().expect("syscalls");
    for r in rules.iter_mut() {
        if let Some(names) = r["names"].as_array_mut() {
            names.retain(|n| !drop.iter().any(|d| n.as_str() == Some(d)));
        }
    }
    rules.retain(|r| r["names"].as_array().is_some_and(|n| !n.is_empty()));
    p
}

/// The allowlist of these tests: neither `close_range` nor `openat2`.
fn strict_profile() -> Value {
    allowlist_without(&["close_range", "openat2"])
}

/// `close_range` "succeeds" (SCMP_ACT_ERRNO with errnoRet 0) and does
/// nothing: a runtime that closes fds with it under the filter leaks them.
fn fake_close_range_profile() -> Value {
    let mut p = allowlist_without(&["close_range"]);
    p["syscalls"]
        .as_array_mut()
        .expect("syscalls")
        .push(json!({"names": ["close_range"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0}));
    p
}

fn bundle_with(ctx: &Ctx, args: &[&str], profile: Value, nnp: bool) -> Bundle {
    let mut b = ctx.bundle(args);
    b.config["linux"]["seccomp"] = profile;
    b.config["process"]["noNewPrivileges"] = json!(nnp);
    b
}

/// The `Key:\tvalue` lines of a /proc/PID/status dump.
fn field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {key} line in:\n{status}"))
}

/// What the container's program must see in its /proc/self/status
/// (`nnp`: None when the runtime is known not to apply it, see below).
#[track_caller]
fn assert_confined(status: &str, nnp: Option<bool>, what: &str) {
    assert_eq!(
        field(status, "Seccomp"),
        "2",
        "{what}: filter mode:\n{status}"
    );
    if let Some(nnp) = nnp {
        assert_eq!(
            field(status, "NoNewPrivs"),
            if nnp { "1" } else { "0" },
            "{what}:\n{status}"
        );
    }
    for key in ["CapEff", "CapPrm", "CapBnd"] {
        assert_eq!(
            field(status, key),
            DEFAULT_CAPS_HEX,
            "{what}: {key} must be the configured set, nothing kept for the filter load:\n{status}"
        );
    }
    assert_eq!(
        field(status, "CapInh"),
        "0000000000000000",
        "{what}:\n{status}"
    );
    assert_eq!(
        field(status, "CapAmb"),
        "0000000000000000",
        "{what}:\n{status}"
    );
}

/// A rw bind of a host dir at /out, for what a detached container reports.
fn out_dir(ctx: &Ctx, b: &mut Bundle, tag: &str) -> std::path::PathBuf {
    let dir = ctx.path(&format!("out-{tag}"));
    std::fs::create_dir_all(&dir).expect("mkdir out");
    std::fs::create_dir_all(b.rootfs().join("out")).expect("mkdir rootfs/out");
    b.mount(json!({"destination": "/out", "type": "bind",
        "source": dir.display().to_string(), "options": ["bind", "rw"]}));
    dir
}

#[test]
fn allowlist_without_close_range_and_openat2_runs() {
    let ctx = ctx!("seccomp-last-allowlist");
    for nnp in [false, true] {
        // run: the program itself prints its status.
        let b = bundle_with(
            &ctx,
            &["/bin/cat", "/proc/self/status"],
            strict_profile(),
            nnp,
        );
        let id = ctx.id("slrun");
        let o = ctx.run(&b, &id).ok();
        assert_confined(&o.stdout, Some(nnp), &format!("run, noNewPrivileges {nnp}"));

        // create + start: create must not return 0 for an init that is
        // about to die, and start must run the program.
        let mut b = bundle_with(&ctx, &[], strict_profile(), nnp);
        let dir = out_dir(&ctx, &mut b, &format!("cs-{nnp}"));
        b.sh("cat /proc/$$/status > /out/status.tmp && mv /out/status.tmp /out/status");
        let id = ctx.id("slcs");
        ctx.create(&b, &id).ok();
        assert_eq!(ctx.status(&id), "created");
        ctx.start(&id).ok();
        let status = ward_tests::wait_for_file(&dir.join("status"), Duration::from_secs(10));
        assert_confined(
            &status,
            Some(nnp),
            &format!("create+start, noNewPrivileges {nnp}"),
        );
        ctx.wait_status(&id, "stopped", Duration::from_secs(10));
        ctx.delete(&id).ok();
        ctx.assert_no_leftovers(&id, &b.dir, None);
    }
}

#[test]
fn filter_faking_close_range_does_not_leak_the_callers_fds() {
    let ctx = ctx!("seccomp-last-fds");
    let secret = ctx.path("fd3.txt");
    std::fs::write(&secret, "not for the container\n").expect("write");
    for nnp in [false, true] {
        // run: the runtime gets an fd 3 (no close-on-exec) from its caller.
        let mut b = bundle_with(&ctx, &[], fake_close_range_profile(), nnp);
        b.sh("ls /proc/$$/fd; echo end; cat /proc/$$/status");
        b.save().expect("save");
        let id = ctx.id("slfd");
        let o = ctx
            .cmd(&["run", "--bundle", &b.dir.display().to_string(), &id])
            .fd3(&secret)
            .run()
            .ok();
        let fds: Vec<_> = o.lines().into_iter().take_while(|l| l != "end").collect();
        assert_eq!(fds, ["0", "1", "2"], "run, noNewPrivileges {nnp}: {o}");
        assert_confined(&o.stdout, Some(nnp), &format!("run, noNewPrivileges {nnp}"));

        // create + start, with the fd 3 given to `create`.
        let mut b = bundle_with(&ctx, &[], fake_close_range_profile(), nnp);
        let dir = out_dir(&ctx, &mut b, &format!("fd-{nnp}"));
        // `exec >FILE`: a plain `ls >FILE` makes sh keep a copy of fd 1 (10).
        b.sh("exec >/out/fds.tmp; ls /proc/$$/fd; mv /out/fds.tmp /out/fds");
        b.save().expect("save");
        let id = ctx.id("slfdc");
        ctx.cmd(&["create", "--bundle", &b.dir.display().to_string(), &id])
            .fd3(&secret)
            .run()
            .ok();
        ctx.start(&id).ok();
        let fds = ward_tests::wait_for_file(&dir.join("fds"), Duration::from_secs(10));
        assert_eq!(
            fds.split_whitespace().collect::<Vec<_>>(),
            ["0", "1", "2"],
            "create+start, noNewPrivileges {nnp}"
        );
    }
}

#[test]
fn exec_under_the_allowlist_runs_and_leaks_no_fd() {
    let ctx = ctx!("seccomp-last-exec");
    let secret = ctx.path("fd3.txt");
    std::fs::write(&secret, "not for the container\n").expect("write");
    for (tag, profile) in [
        ("strict", strict_profile()),
        ("fakeclose", fake_close_range_profile()),
    ] {
        for nnp in [false, true] {
            let b = bundle_with(&ctx, &["sleep", "30"], profile.clone(), nnp);
            let id = ctx.id("slex");
            ctx.run_detached(&b, &id).ok();
            let what = format!("exec, {tag} profile, noNewPrivileges {nnp}");
            let o = ctx.exec(&id, &["/bin/cat", "/proc/self/status"]);
            assert!(o.success(), "{what}: {o}");
            // crun 1.8.1's `exec` leaves the config's noNewPrivileges out
            // (NoNewPrivs 0); the filter and capabilities still apply.
            let crun_nnp = ctx.is_crun() && nnp && field(&o.stdout, "NoNewPrivs") == "0";
            if crun_nnp {
                ward_tests::say(&format!(
                    "NOTE: {}: {what}: crun does not set no_new_privs for exec; not checked",
                    ctx.name
                ));
            }
            assert_confined(&o.stdout, (!crun_nnp).then_some(nnp), &what);
            let o = ctx
                // Not the script's last command: sh would exec ls, and ls
                // lists its own directory fd.
                .cmd(&["exec", &id, "/bin/sh", "-c", "ls /proc/$$/fd; true"])
                .fd3(&secret)
                .run();
            assert!(o.success(), "{what}: {o}");
            assert_eq!(o.lines(), ["0", "1", "2"], "{what}: {o}");
            ctx.kill(&id, "KILL").ok();
            ctx.wait_status(&id, "stopped", Duration::from_secs(10));
            ctx.delete(&id).ok();
        }
    }
}

/// An init that fails after reporting ready (here: its program vanished
/// between `create` and `start`, so execve fails) must not look started:
/// `start` reports the init's error; and `run` reports a failing
/// startContainer hook (run in the init after `start`) instead of exiting
/// 1 like a program would. Independent of seccomp: the error channel of the
/// last steps. runc 1.1.5 and crun 1.8.1 return 0 from `start` here; for
/// them the test prints what they did.
#[test]
fn an_init_error_after_create_reaches_start_and_run() {
    let ctx = ctx!("late-init-error");
    let mut b = ctx.bundle(&["/bin/vanishing"]);
    std::fs::copy(
        b.rootfs().join("bin/busybox"),
        b.rootfs().join("bin/vanishing"),
    )
    .expect("copy busybox");
    b.readonly(true);
    let id = ctx.id("sllate");
    ctx.create(&b, &id).ok();
    std::fs::remove_file(b.rootfs().join("bin/vanishing")).expect("rm the program");
    let start = ctx.start(&id);

    let mut b = ctx.bundle(&["/bin/true"]);
    b.hook(
        "startContainer",
        json!({"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}),
    );
    let id2 = ctx.id("sllaterun");
    let run = ctx.run(&b, &id2);
    if ctx.rt.kind != ward_tests::Kind::Other {
        for (what, o) in [
            ("start (execve fails)", &start),
            ("run (startContainer hook fails)", &run),
        ] {
            ward_tests::say(&format!(
                "NOTE: {}: {} {what}: exit {}, {:?}",
                ctx.name,
                ctx.rt.name(),
                o.code(),
                o.text().trim()
            ));
        }
        return;
    }
    start.fails_mentioning(&["vanishing"]);
    ctx.wait_status(&id, "stopped", Duration::from_secs(10));
    run.fails_mentioning(&["startContainer"]);
    ctx.assert_no_leftovers(&id2, &b.dir, None);
}

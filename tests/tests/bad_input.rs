//! D. Bad input: non-zero exit, an error that names the problem, and nothing
//! left behind (state dir, process, cgroup, mount).
//!
//! Error text is matched case-insensitively against a few keywords that both
//! runc and crun use (listed per case in docs/testing.md).

use std::time::Duration;

use ward_tests::host::{self, mount_at, parse_mounts};
use ward_tests::{ctx, json, skip, Bundle, Ctx, Out};

const T: Duration = Duration::from_secs(10);

/// `run` the bundle under a fresh id, expect failure mentioning one of
/// `words`, and check that nothing is left.
#[track_caller]
fn rejected(ctx: &Ctx, b: &Bundle, words: &[&str]) -> Out {
    let id = ctx.id("bad");
    let o = ctx.run(b, &id).fails_mentioning(words);
    ctx.rt(&["state", &id]).fails();
    ctx.assert_no_leftovers(&id, &b.dir, None);
    o
}

#[test]
fn malformed_config_json() {
    let ctx = ctx!("malformed");
    let b = ctx.bundle(&["true"]);
    std::fs::write(b.config_path(), "{\"ociVersion\": \"1.0.2\", bad").expect("write");
    let id = ctx.id("bad");
    ctx.rt(&["run", "--bundle", &b.dir.display().to_string(), &id])
        .fails_mentioning(&["json", "parse", "invalid character", "syntax"]);
    ctx.rt(&["state", &id]).fails();
    ctx.assert_no_leftovers(&id, &b.dir, None);
    assert!(ctx.root_entries().is_empty(), "{:?}", ctx.root_entries());
}

#[test]
fn missing_config_json() {
    let ctx = ctx!("no-config");
    let b = ctx.bundle(&["true"]);
    let id = ctx.id("bad");
    ctx.rt(&["run", "--bundle", &b.dir.display().to_string(), &id])
        .fails_mentioning(&["config.json", "config"]);
    ctx.assert_no_leftovers(&id, &b.dir, None);
    assert!(ctx.root_entries().is_empty(), "{:?}", ctx.root_entries());
}

#[test]
fn missing_rootfs() {
    let ctx = ctx!("no-rootfs");
    let mut b = ctx.bundle(&["true"]);
    b.config["root"]["path"] = json!("no-such-rootfs");
    rejected(&ctx, &b, &["rootfs", "no-such-rootfs", "no such file"]);
}

#[test]
fn unknown_namespace_type() {
    let ctx = ctx!("bad-ns");
    let mut b = ctx.bundle(&["true"]);
    b.namespace(json!({ "type": "bogusns" }));
    rejected(&ctx, &b, &["namespace", "bogusns"]);
}

#[test]
fn empty_process_args() {
    let ctx = ctx!("no-args");
    let mut b = ctx.bundle(&[]);
    b.args(&[]);
    // runc: "args must not be empty"; crun: "open executable: Invalid argument".
    rejected(&ctx, &b, &["args", "argument", "executable"]);
}

#[test]
fn negative_uid() {
    let ctx = ctx!("neg-uid");
    let mut b = ctx.bundle(&["true"]);
    b.config["process"]["user"]["uid"] = json!(-5);
    rejected(&ctx, &b, &["uid"]);
}

#[test]
fn unknown_rlimit() {
    let ctx = ctx!("bad-rlimit");
    let mut b = ctx.bundle(&["true"]);
    b.config["process"]["rlimits"] = json!([{ "type": "RLIMIT_BOGUS", "soft": 1, "hard": 1 }]);
    rejected(&ctx, &b, &["rlimit"]);
}

#[test]
fn bind_mount_of_missing_source() {
    let ctx = ctx!("bad-bind");
    let mut b = ctx.bundle(&["true"]);
    b.mount(json!({
        "destination": "/data", "type": "bind", "source": "/no/such/source", "options": ["rbind"]
    }));
    rejected(&ctx, &b, &["/no/such/source", "no such file"]);
}

#[test]
fn relative_cwd_is_rejected() {
    let ctx = ctx!("rel-cwd");
    let mut b = ctx.bundle(&["pwd"]);
    b.cwd("tmp");
    let id = ctx.id("relcwd");
    let o = ctx.run(&b, &id);
    if ctx.is_crun() && o.success() {
        skip!(
            ctx,
            "crun 1.8.1 accepts a relative process.cwd (ran in {:?})",
            o.stdout.trim()
        );
    }
    o.fails_mentioning(&["cwd", "absolute"]);
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

/// OCI 1.0.2 does not forbid a relative mount destination: runc warns and
/// mounts it relative to the rootfs root; crun does the same silently.
#[test]
fn relative_mount_destination_is_relative_to_rootfs() {
    let ctx = ctx!("rel-mount");
    let mut b = ctx.bundle(&[]);
    b.mount(json!({ "destination": "rel/dst", "type": "tmpfs", "source": "tmpfs" }));
    let o = ctx.sh(&mut b, "cat /proc/self/mounts");
    let m = parse_mounts(&o.stdout);
    let e = mount_at(&m, "/rel/dst").unwrap_or_else(|| panic!("no mount at /rel/dst: {o}"));
    assert_eq!(e.fstype, "tmpfs", "{o}");
}

#[test]
fn invalid_container_ids() {
    let ctx = ctx!("bad-ids");
    let b = ctx.bundle(&["true"]);
    b.save().expect("save");
    for id in ["a/b", "..", "../escape", ".", ""] {
        let quoted = [format!("`{id}`"), format!("\"{id}\""), format!("'{id}'")];
        let mut words: Vec<&str> = vec!["container id", "invalid"];
        words.extend(quoted.iter().map(String::as_str));
        if !id.is_empty() && id != "." && id != ".." {
            words.push(id);
        }
        ctx.rt(&["run", "--bundle", &b.dir.display().to_string(), id])
            .fails_mentioning(&words);
        assert!(
            ctx.root_entries().is_empty(),
            "id {id:?} left {:?} in --root",
            ctx.root_entries()
        );
        assert!(!ctx.path("escape").exists(), "id {id:?} escaped --root");
        assert!(
            !ctx.path("a").exists(),
            "id {id:?} created a dir outside --root"
        );
        let procs = host::processes_of("\u{0}never", &b.dir, None);
        assert!(procs.is_empty(), "id {id:?} left processes: {procs:?}");
        let mounts = host::mounts_of("\u{0}never", &b.dir);
        assert!(mounts.is_empty(), "id {id:?} left mounts: {mounts:?}");
        for part in id
            .split('/')
            .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        {
            let cg: Vec<_> = host::cgroup_dirs_of(part)
                .into_iter()
                .filter(|d| d.file_name().is_some_and(|n| n == part))
                .collect();
            assert!(cg.is_empty(), "id {id:?} left cgroups: {cg:?}");
        }
    }
}

#[test]
fn kill_with_unknown_signal_fails() {
    let ctx = ctx!("bad-signal");
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("sig");
    ctx.run_detached(&b, &id).ok();
    ctx.wait_status(&id, "running", T);
    ctx.kill(&id, "999")
        .fails_mentioning(&["invalid", "signal"]);
    assert_eq!(ctx.status(&id), "running");
    for name in ["NOPE", "SIGNOPE"] {
        let o = ctx.kill(&id, name);
        if ctx.is_crun() && o.success() {
            ward_tests::say(&format!(
                "SKIP: {}: `kill ID {name}`: crun 1.8.1 exits 0 for an unknown signal name",
                ctx.name
            ));
        } else {
            o.fails_mentioning(&["signal", name]);
        }
        assert_eq!(ctx.status(&id), "running", "after kill {name}");
    }
}

#[test]
fn commands_on_a_nonexistent_container_fail() {
    let ctx = ctx!("nonexistent");
    let id = ctx.id("ghost");
    let words = ["not exist", "does not exist", "no such file", "not found"];
    for args in [
        vec!["state", &id],
        vec!["start", &id],
        vec!["kill", &id, "KILL"],
        vec!["delete", &id],
        vec!["exec", &id, "true"],
        vec!["ps", &id],
    ] {
        ctx.rt(&args).fails_mentioning(&words);
    }
    // runc: a forced delete of a missing container is not an error.
    ctx.rt(&["delete", "--force", &id]).ok();
    assert!(ctx.root_entries().is_empty(), "{:?}", ctx.root_entries());
}

#[test]
fn failing_hook_aborts_create() {
    let ctx = ctx!("hook-fails");
    for kind in ["createRuntime", "prestart"] {
        let mut b = ctx.bundle(&["sleep", "30"]);
        b.hook(
            kind,
            json!({ "path": "/bin/sh", "args": ["sh", "-c", "exit 1"] }),
        );
        let id = ctx.id("hookf");
        ctx.create(&b, &id).fails_mentioning(&["hook"]);
        ctx.rt(&["state", &id]).fails();
        ctx.assert_no_leftovers(&id, &b.dir, None);
    }
}

#[test]
fn hanging_hook_is_killed_after_its_timeout() {
    let ctx = ctx!("hook-timeout");
    for kind in ["createRuntime", "prestart"] {
        let mut b = ctx.bundle(&["sleep", "30"]);
        // A unique duration so the hook process can be recognised.
        let marker = format!("sleep 37.{}", std::process::id());
        b.hook(
            kind,
            json!({ "path": "/bin/sleep", "args": ["sleep", &marker[6..]], "timeout": 1 }),
        );
        let id = ctx.id("hookt");
        let o = ctx.create(&b, &id);
        assert!(
            o.elapsed < Duration::from_secs(10),
            "{kind}: create waited for the hook: {o}"
        );
        o.fails_mentioning(&["timeout", "timed out"]);
        ctx.rt(&["state", &id]).fails();
        ctx.assert_no_leftovers(&id, &b.dir, Some(&marker));
    }
}

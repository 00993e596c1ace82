//! C. Lifecycle: create/start/state/kill/delete, run, list, ps, pid files.

use std::time::Duration;

use ward_tests::host::{self, pid_alive};
use ward_tests::{ctx, is_rfc3339, read_pid, Ctx, Value};

const T: Duration = Duration::from_secs(10);

/// A script that runs until SIGTERM (pid 1 ignores signals it has no handler for).
const TERMINABLE: &str = "trap 'exit 0' TERM; while :; do sleep 0.1; done";

fn pid_of(state: &Value) -> i32 {
    state["pid"].as_i64().unwrap_or(0) as i32
}

/// The state JSON runc emits, with the documented allowances for crun.
fn check_state_fields(ctx: &Ctx, s: &Value, id: &str, bundle: &std::path::Path, status: &str) {
    assert_eq!(s["id"], id, "state: {s}");
    assert_eq!(s["status"], status, "state: {s}");
    assert!(
        s["ociVersion"].as_str().is_some_and(|v| !v.is_empty()),
        "ociVersion: {s}"
    );
    assert_eq!(s["bundle"], bundle.display().to_string(), "bundle: {s}");
    // runc: absolute rootfs path; crun: root.path as written in config.json.
    let rootfs = s["rootfs"].as_str().unwrap_or("");
    let abs = bundle.join("rootfs").display().to_string();
    assert!(
        rootfs == abs || (ctx.is_crun() && rootfs == "rootfs"),
        "rootfs {rootfs:?}, want {abs:?}: {s}"
    );
    assert!(
        s["created"].as_str().is_some_and(is_rfc3339),
        "created is not RFC 3339: {s}"
    );
    assert!(s["owner"].is_string(), "owner: {s}");
    assert!(s["pid"].is_i64(), "pid: {s}");
    // No annotations configured: runc (and crun) omit the key.
    assert!(
        s.get("annotations").is_none(),
        "annotations without any configured: {s}"
    );
}

#[test]
fn create_start_kill_delete() {
    let ctx = ctx!("lifecycle");
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("life");
    ctx.create(&b, &id).ok();

    let s = ctx.state(&id);
    check_state_fields(&ctx, &s, &id, &b.dir, "created");
    let pid = pid_of(&s);
    assert!(
        pid > 0 && pid_alive(pid),
        "created container has no live init: {s}"
    );

    ctx.start(&id).ok();
    let s = ctx.wait_status(&id, "running", T);
    check_state_fields(&ctx, &s, &id, &b.dir, "running");
    assert_eq!(pid_of(&s), pid, "pid changed on start: {s}");
    assert_eq!(
        host::wait_cmdline(pid, "sleep 30", T),
        "sleep 30",
        "init is not the configured process"
    );

    ctx.kill(&id, "KILL").ok();
    let s = ctx.wait_status(&id, "stopped", T);
    check_state_fields(&ctx, &s, &id, &b.dir, "stopped");
    assert_eq!(pid_of(&s), 0, "stopped container reports a pid: {s}");

    ctx.delete(&id).ok();
    ctx.rt(&["state", &id])
        .fails_mentioning(&["not exist", "no such file", "not found"]);
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

#[test]
fn state_shows_annotations_when_set() {
    let ctx = ctx!("annotations");
    let mut b = ctx.bundle(&["sleep", "30"]);
    b.annotation("org.ward.test", "yes");
    b.annotation("org.ward.other", "x=y");
    let id = ctx.id("annot");
    ctx.create(&b, &id).ok();
    let s = ctx.state(&id);
    assert_eq!(
        s["annotations"],
        ward_tests::json!({"org.ward.test": "yes", "org.ward.other": "x=y"}),
        "{s}"
    );
}

#[test]
fn kill_accepts_signal_names_and_numbers() {
    let ctx = ctx!("kill-forms");
    let killb = ctx.bundle(&["sleep", "30"]);
    let mut termb = ctx.bundle(&[]);
    termb.sh(TERMINABLE);
    let forms: Vec<(&str, &ward_tests::Bundle)> = vec![
        ("KILL", &killb),
        ("9", &killb),
        ("SIGKILL", &killb),
        ("TERM", &termb),
        ("SIGTERM", &termb),
        ("15", &termb),
    ];
    let mut ids = Vec::new();
    for (sig, b) in &forms {
        let id = ctx.id("kf");
        ctx.run_detached(b, &id).ok();
        ids.push((id, *sig));
    }
    for (id, _) in &ids {
        ctx.wait_status(id, "running", T);
    }
    for (id, sig) in &ids {
        ctx.kill(id, sig).ok();
    }
    for (id, sig) in &ids {
        let s = ctx.poll_status(id, "stopped", T);
        assert_eq!(
            s["status"], "stopped",
            "`kill {id} {sig}` did not stop the container: {s}"
        );
    }
}

#[test]
fn kill_without_signal_sends_sigterm() {
    let ctx = ctx!("kill-default");
    let mut b = ctx.bundle(&[]);
    b.sh(TERMINABLE);
    let id = ctx.id("kdef");
    ctx.run_detached(&b, &id).ok();
    ctx.wait_status(&id, "running", T);
    ctx.rt(&["kill", &id]).ok();
    ctx.wait_status(&id, "stopped", T);
}

#[test]
fn run_returns_the_container_exit_code() {
    let ctx = ctx!("run-exit");
    let mut b = ctx.bundle(&[]);
    for (args, code) in [
        (vec!["sh", "-c", "exit 7"], 7),
        (vec!["false"], 1),
        (vec!["true"], 0),
        (vec!["sh", "-c", "exit 255"], 255),
    ] {
        b.args(&args);
        let id = ctx.id("exit");
        let o = ctx.run(&b, &id);
        assert_eq!(o.code(), code, "{args:?}: {o}");
        // `run` deletes the container when it exits.
        ctx.rt(&["state", &id]).fails();
        ctx.assert_no_leftovers(&id, &b.dir, None);
    }
}

#[test]
fn run_returns_128_plus_signal_when_init_is_killed() {
    let ctx = ctx!("run-signal");
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("sig");
    b.save().expect("save");
    let pidfile = ctx.path("init.pid");
    let run = ctx
        .cmd(&[
            "run",
            "--pid-file",
            &pidfile.display().to_string(),
            "--bundle",
            &b.dir.display().to_string(),
            &id,
        ])
        .spawn()
        .expect("spawn run");
    let pid = read_pid(&pidfile);
    // pid 1 of a pid namespace can only be SIGKILLed from outside.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill init");
    let o = run.wait().expect("run finished");
    assert_eq!(o.code(), 128 + 9, "{o}");
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

#[test]
fn run_detached_with_bundle_from_cwd_and_pid_file() {
    let ctx = ctx!("run-d");
    let b = ctx.bundle(&["sleep", "30"]);
    b.save().expect("save");
    let id = ctx.id("rund");
    let pidfile = ctx.path("pid");
    // No --bundle: the bundle is the current directory.
    let o = ctx
        .cmd(&[
            "run",
            "-d",
            "--pid-file",
            &pidfile.display().to_string(),
            &id,
        ])
        .cwd(&b.dir)
        .timeout(Duration::from_secs(10))
        .run()
        .ok();
    assert!(o.stdout.trim().is_empty(), "run -d printed: {o}");
    let s = ctx.wait_status(&id, "running", T);
    assert_eq!(s["bundle"], b.dir.display().to_string(), "{s}");
    let pid = read_pid(&pidfile);
    assert_eq!(pid_of(&s), pid, "pid file vs state: {s}");
    assert!(pid_alive(pid));
}

#[test]
fn create_pid_file_absolute_and_relative() {
    let ctx = ctx!("pid-file");
    let b = ctx.bundle(&["sleep", "30"]);
    b.save().expect("save");
    let id = ctx.id("pidf");
    let abs = ctx.path("abs.pid");
    ctx.rt(&[
        "create",
        "--pid-file",
        &abs.display().to_string(),
        "--bundle",
        &b.dir.display().to_string(),
        &id,
    ])
    .ok();
    let s = ctx.state(&id);
    assert_eq!(read_pid(&abs), pid_of(&s), "{s}");
    // A relative --pid-file: runc writes it relative to its working directory.
    let id2 = ctx.id("pidf");
    ctx.cmd(&[
        "create",
        "--pid-file",
        "rel.pid",
        "--bundle",
        &b.dir.display().to_string(),
        &id2,
    ])
    .cwd(&ctx.dir)
    .run()
    .ok();
    let s2 = ctx.state(&id2);
    // runc resolves it against its cwd; crun against the bundle directory.
    let rel = if ctx.is_crun() {
        b.dir.join("rel.pid")
    } else {
        ctx.path("rel.pid")
    };
    assert_eq!(read_pid(&rel), pid_of(&s2), "{s2}");
}

#[test]
fn list_table_quiet_and_json() {
    let ctx = ctx!("list");
    let b = ctx.bundle(&["sleep", "30"]);
    let created = ctx.id("lc");
    let running = ctx.id("lr");
    ctx.create(&b, &created).ok();
    ctx.run_detached(&b, &running).ok();
    ctx.wait_status(&running, "running", T);

    let o = ctx.rt(&["list"]).ok();
    let lines = o.lines();
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    // runc: ID PID STATUS BUNDLE CREATED OWNER; crun names the first column
    // NAME and the bundle column "BUNDLE PATH".
    let want: Vec<&str> = if ctx.is_crun() {
        vec![
            "NAME", "PID", "STATUS", "BUNDLE", "PATH", "CREATED", "OWNER",
        ]
    } else {
        vec!["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"]
    };
    assert_eq!(header, want, "{o}");
    assert_eq!(lines.len(), 3, "{o}");
    for (id, status) in [(&created, "created"), (&running, "running")] {
        let row = lines
            .iter()
            .find(|l| l.split_whitespace().next() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("no row for {id}: {o}"));
        let f: Vec<&str> = row.split_whitespace().collect();
        let pid = pid_of(&ctx.state(id));
        assert_eq!(f[1], pid.to_string(), "{o}");
        assert_eq!(f[2], status, "{o}");
        assert_eq!(f[3], b.dir.display().to_string(), "{o}");
        assert!(is_rfc3339(f[4]), "created column: {o}");
    }

    let q = ctx.rt(&["list", "-q"]).ok();
    let mut got = q.lines();
    got.sort();
    let mut want = vec![created.clone(), running.clone()];
    want.sort();
    assert_eq!(got, want, "{q}");

    let j = ctx.rt(&["list", "--format", "json"]).ok();
    let v: Value =
        serde_json::from_str(&j.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {j}"));
    let arr = v.as_array().unwrap_or_else(|| panic!("not an array: {j}"));
    assert_eq!(arr.len(), 2, "{j}");
    for (id, status) in [(&created, "created"), (&running, "running")] {
        let e = arr
            .iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap_or_else(|| panic!("no entry for {id}: {j}"));
        assert_eq!(e["status"], status, "{j}");
        assert_eq!(e["pid"], ctx.state(id)["pid"], "{j}");
        assert_eq!(e["bundle"], b.dir.display().to_string(), "{j}");
        assert!(e["created"].as_str().is_some_and(is_rfc3339), "{j}");
        assert!(e["owner"].is_string(), "{j}");
    }

    // Empty root: empty JSON list / no rows.
    ctx.delete_force(&created).ok();
    ctx.delete_force(&running).ok();
    assert!(ctx.rt(&["list", "-q"]).ok().lines().is_empty());
    let j = ctx.rt(&["list", "--format", "json"]).ok();
    let v: Value = serde_json::from_str(j.stdout.trim()).unwrap_or(Value::Null);
    assert!(
        v.as_array().is_some_and(Vec::is_empty) || v.is_null(),
        "list --format json of nothing: {j}"
    );
}

#[test]
fn ps_json_lists_the_container_pids() {
    let ctx = ctx!("ps");
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("ps");
    ctx.run_detached(&b, &id).ok();
    let init = pid_of(&ctx.wait_status(&id, "running", T));
    let parse = |o: &ward_tests::Out| -> Vec<i64> {
        let v: Value =
            serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {o}"));
        let mut p: Vec<i64> = v
            .as_array()
            .unwrap_or_else(|| panic!("not an array: {o}"))
            .iter()
            .filter_map(Value::as_i64)
            .collect();
        p.sort();
        p
    };
    let o = ctx.rt(&["ps", "--format", "json", &id]).ok();
    assert_eq!(parse(&o), vec![i64::from(init)], "{o}");

    let pf = ctx.path("exec.pid");
    ctx.rt(&[
        "exec",
        "--detach",
        "--pid-file",
        &pf.display().to_string(),
        &id,
        "sleep",
        "30",
    ])
    .ok();
    let second = read_pid(&pf);
    let o = ctx.rt(&["ps", "--format", "json", &id]).ok();
    let mut want = vec![i64::from(init), i64::from(second)];
    want.sort();
    assert_eq!(parse(&o), want, "{o}");
}

#[test]
fn kill_9_of_init_from_host_then_delete_leaves_nothing() {
    let ctx = ctx!("kill9-host");
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("k9");
    ctx.run_detached(&b, &id).ok();
    let pid = pid_of(&ctx.wait_status(&id, "running", T));
    assert!(
        !host::cgroup_dirs_of(&id).is_empty(),
        "no cgroup dir named after the id while running (the leftover check would be blind)"
    );
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGKILL,
    )
    .expect("kill");
    ctx.wait_status(&id, "stopped", T);
    ctx.delete(&id).ok();
    assert!(!pid_alive(pid), "init still alive");
    ctx.assert_no_leftovers(&id, &b.dir, None);
    ctx.rt(&["state", &id]).fails();
}

#[test]
fn delete_force_on_running_container() {
    let ctx = ctx!("delete-force");
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("delf");
    ctx.run_detached(&b, &id).ok();
    let pid = pid_of(&ctx.wait_status(&id, "running", T));
    // Plain delete refuses a running container and leaves it running.
    ctx.delete(&id)
        .fails_mentioning(&["running", "not stopped", "stopped", "state"]);
    assert_eq!(ctx.status(&id), "running");
    ctx.delete_force(&id).ok();
    ctx.rt(&["state", &id]).fails();
    ctx.assert_no_leftovers(&id, &b.dir, None);
    assert!(!pid_alive(pid));
}

#[test]
fn duplicate_id_is_rejected_and_first_container_survives() {
    let ctx = ctx!("dup");
    let b = ctx.bundle(&["sleep", "30"]);
    let other = ctx.bundle(&["sleep", "31"]);
    let id = ctx.id("dup");
    ctx.create(&b, &id).ok();
    let before = ctx.state(&id);
    ctx.create(&other, &id).fails_mentioning(&["exist"]);
    let s = ctx.state(&id);
    assert_eq!(s["status"], "created", "{s}");
    assert_eq!(s["pid"], before["pid"], "{s}");
    assert_eq!(s["bundle"], b.dir.display().to_string(), "{s}");
    ctx.run_detached(&other, &id).fails_mentioning(&["exist"]);
    ctx.start(&id).ok();
    let s = ctx.wait_status(&id, "running", T);
    assert_eq!(host::wait_cmdline(pid_of(&s), "sleep 30", T), "sleep 30");
    assert!(
        host::processes_with("sleep 31").is_empty(),
        "the rejected create started something"
    );
}

#[test]
fn start_twice_and_start_after_stop_fail() {
    let ctx = ctx!("start-twice");
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("st2");
    ctx.create(&b, &id).ok();
    ctx.start(&id).ok();
    ctx.wait_status(&id, "running", T);
    ctx.start(&id).fails();
    assert_eq!(ctx.status(&id), "running");
    ctx.kill(&id, "KILL").ok();
    ctx.wait_status(&id, "stopped", T);
    ctx.start(&id).fails();
    assert_eq!(ctx.status(&id), "stopped");
}

/// Harness self-check: the leftover detector sees every kind of trace a
/// live container has (otherwise the "nothing left behind" checks prove
/// nothing).
#[test]
fn leftover_detector_sees_a_live_container() {
    let ctx = ctx!("leftover-detector");
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("det");
    ctx.run_detached(&b, &id).ok();
    ctx.wait_status(&id, "running", T);
    let l = ctx.leftovers(&id, &b.dir, Some("sleep 30"));
    let has = |p: &str| l.iter().any(|x| x.starts_with(p));
    assert!(has("state "), "state dir not seen: {l:?}");
    assert!(has("process"), "process not seen: {l:?}");
    assert!(has("cgroup dir"), "cgroup dir not seen: {l:?}");
    ctx.delete_force(&id).ok();
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

/// A tiny xorshift generator: the test's random kill delays, reproducible
/// from the seed it prints.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Issue #14 (finding 9): `create` killed with SIGKILL at a random moment.
/// Afterwards `delete --force ID` exits 0 and nothing of the container is
/// left (state dir, cgroup directory in any hierarchy, process); a `create`
/// with the same id succeeds at once when the killed one had not finished
/// (it takes over what the dead one left). The kills must land mid-create
/// (the state dir exists without a container behind it) often enough, or
/// the test proves nothing and fails.
#[test]
fn create_killed_at_random_leaves_nothing_after_delete_force() {
    let ctx = ctx!("create-sigkill");
    if ctx.rt.kind != ward_tests::runtime::Kind::Other {
        // docs/testing.md, "Where runc and crun differ".
        ward_tests::skip!(
            ctx,
            "{} leaves cgroup directories of a killed create that delete --force does not remove (ward's own guarantee, issue #14)",
            ctx.rt.name()
        );
    }
    const TRIES: usize = 60;
    let marker = format!("create-sigkill-{}", std::process::id());
    let mut b = ctx.bundle(&[]);
    b.sh(&format!("sleep 1000; : {marker}"));
    let bundle = b.dir.display().to_string();
    if let Err(e) = b.save() {
        panic!("write {}: {e}", b.config_path().display());
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        | 1;
    let mut rng = Rng(seed);
    // Kills are spread over one whole create as this machine runs it (a
    // few ms here, far longer under the VM harness's software emulation):
    // a fixed window would land every kill before the state dir exists.
    let calibrate = ctx.id("sigkill-calibrate");
    let t0 = std::time::Instant::now();
    ctx.rt(&["create", "--bundle", &bundle, &calibrate]).ok();
    let window_us = (t0.elapsed().as_micros() as u64).max(30_000);
    ctx.delete_force(&calibrate);
    let (mut partial, mut finished, mut nothing) = (0, 0, 0);
    let (mut retaken, mut orphans) = (0, 0);
    for i in 0..TRIES {
        let id = ctx.id("sigkill");
        let dir = ctx.root.join(&id);
        let delay = Duration::from_micros(rng.below(window_us));
        let run = ctx
            .cmd(&["create", "--bundle", &bundle, &id])
            .spawn()
            .unwrap_or_else(|e| panic!("spawn create: {e}"));
        std::thread::sleep(delay);
        if let Some(pid) = run.pid() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::SIGKILL,
            );
        }
        let out = run
            .wait()
            .unwrap_or_else(|e| panic!("wait for create: {e}"));
        let complete = dir.join("state.json").exists() || ctx.rt(&["state", &id]).success();
        if complete {
            finished += 1;
        } else if dir.exists() || !host::cgroup_dirs_of(&id).is_empty() {
            partial += 1;
            if !host::processes_of(&id, &b.dir, Some(&marker)).is_empty() {
                // An init that had cleared its parent-death signal: only
                // delete --force (or the next create) can stop it.
                orphans += 1;
            }
            // runc's contract for a container that was never made.
            let st = ctx.rt(&["state", &id]);
            assert!(
                !st.success() && st.mentions_any(&["not exist", "does not exist", "no such"]),
                "try {i}: state of a half-made container should say it does not exist: {st}"
            );
            if i % 2 == 1 {
                // Take-over: the same id again, right away.
                let again = ctx.create(&b, &id);
                assert!(
                    again.success(),
                    "try {i} (killed after {delay:?}): create with the same id after a killed create failed: {again}\nleft behind: {:?}",
                    ctx.leftovers(&id, &b.dir, Some(&marker))
                );
                assert_eq!(ctx.status(&id), "created", "try {i}: {again}");
                retaken += 1;
            }
        } else {
            nothing += 1;
        }
        let del = ctx.delete_force(&id);
        assert!(
            del.success(),
            "try {i} (killed after {delay:?}, create said {:?}): delete --force failed: {del}",
            out.stderr.trim()
        );
        ctx.assert_no_leftovers(&id, &b.dir, Some(&marker));
    }
    ward_tests::say(&format!(
        "{}: seed {seed}: {TRIES} kills within {window_us} us: {partial} mid-create ({retaken} taken over by a new create, {orphans} with a live process left), {finished} after create finished, {nothing} before the state dir existed",
        ctx.name
    ));
    assert!(
        partial >= 5,
        "only {partial} of {TRIES} kills landed mid-create (seed {seed}): the case was not exercised"
    );
    assert!(
        retaken >= 1,
        "no killed create was taken over by a new create (seed {seed})"
    );
}

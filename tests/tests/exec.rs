//! C. `exec` into a running container.

use std::time::Duration;

use ward_tests::host::{self, pid_alive};
use ward_tests::{ctx, json, read_pid, Ctx};

const T: Duration = Duration::from_secs(10);

/// A running `sleep 30` container; returns (id, init pid).
fn running(ctx: &Ctx) -> (String, i32) {
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("ex");
    ctx.run_detached(&b, &id).ok();
    let s = ctx.wait_status(&id, "running", T);
    (id, s["pid"].as_i64().unwrap_or(0) as i32)
}

#[test]
fn exec_args_form_runs_in_the_container() {
    let ctx = ctx!("exec-args");
    let (id, init) = running(&ctx);
    let o = ctx
        .exec(
            &id,
            &[
                "sh",
                "-c",
                "echo pid=$$; hostname; readlink /proc/self/ns/pid; pwd",
            ],
        )
        .ok();
    let l = o.lines();
    assert!(l[0].starts_with("pid=") && l[0] != "pid=1", "{o}");
    assert_eq!(l[1], "runc", "hostname of the container (template): {o}");
    let init_ns = std::fs::read_link(format!("/proc/{init}/ns/pid"))
        .expect("init ns")
        .display()
        .to_string();
    assert_eq!(
        l[2], init_ns,
        "exec'd process not in the container's pid ns: {o}"
    );
    assert_eq!(l[3], "/", "default cwd is process.cwd: {o}");
}

#[test]
fn exec_exit_code_propagates() {
    let ctx = ctx!("exec-exit");
    let (id, _) = running(&ctx);
    assert_eq!(ctx.exec(&id, &["sh", "-c", "exit 5"]).code(), 5);
    assert_eq!(ctx.exec(&id, &["false"]).code(), 1);
    assert_eq!(ctx.exec(&id, &["true"]).code(), 0);
}

#[test]
fn exec_cwd_env_user() {
    let ctx = ctx!("exec-opts");
    let (id, _) = running(&ctx);
    let o = ctx
        .rt(&[
            "exec",
            "--cwd",
            "/tmp",
            "--env",
            "FOO=bar",
            "--user",
            "1000:1000",
            &id,
            // Absolute: crun 1.8.1 looks `sh` up in the --env-only environment
            // (no PATH) and fails.
            "/bin/sh",
            "-c",
            "pwd; id; env",
        ])
        .ok();
    let l = o.lines();
    assert_eq!(l[0], "/tmp", "{o}");
    assert_eq!(l[1], "uid=1000 gid=1000", "{o}");
    assert!(l.iter().any(|x| x == "FOO=bar"), "{o}");
    assert!(l.iter().any(|x| x.starts_with("PATH=")), "no PATH: {o}");
    // runc adds --env to process.env of config.json; crun replaces it.
    if !ctx.is_crun() {
        assert!(l.iter().any(|x| x == "TERM=xterm"), "config env lost: {o}");
    }
}

#[test]
fn exec_process_file() {
    let ctx = ctx!("exec-process");
    let (id, _) = running(&ctx);
    let pf = ctx.path("process.json");
    let proc = json!({
        "args": ["sh", "-c", "echo from-file; pwd; id; echo A=$A; exit 3"],
        "cwd": "/etc",
        "env": [ward_tests::bundle::DEFAULT_PATH, "A=1"],
        "user": { "uid": 2, "gid": 3 },
        "terminal": false
    });
    std::fs::write(&pf, proc.to_string()).expect("write process.json");
    let o = ctx.rt(&["exec", "--process", &pf.display().to_string(), &id]);
    assert_eq!(o.code(), 3, "{o}");
    assert_eq!(
        o.lines(),
        vec!["from-file", "/etc", "uid=2 gid=3", "A=1"],
        "{o}"
    );
}

#[test]
fn exec_detach_with_pid_file() {
    let ctx = ctx!("exec-detach");
    let (id, init) = running(&ctx);
    let pf = ctx.path("exec.pid");
    let o = ctx
        .rt(&[
            "exec",
            "--detach",
            "--pid-file",
            &pf.display().to_string(),
            &id,
            "sleep",
            "29",
        ])
        .ok();
    assert!(
        o.elapsed < Duration::from_secs(5),
        "exec --detach waited: {o}"
    );
    let pid = read_pid(&pf);
    assert!(pid_alive(pid), "detached exec process not running");
    // crun writes the pid file just before the process execs: allow a moment.
    assert_eq!(
        host::wait_cmdline(pid, "sleep 29", Duration::from_secs(3)),
        "sleep 29",
        "pid file does not name the exec'd process"
    );
    let ns = |p: i32| std::fs::read_link(format!("/proc/{p}/ns/pid")).ok();
    assert_eq!(ns(pid), ns(init), "not in the container's pid namespace");
    // It is killed with the container.
    ctx.kill(&id, "KILL").ok();
    ctx.wait_status(&id, "stopped", T);
    ctx.delete(&id).ok();
    let deadline = std::time::Instant::now() + Duration::from_secs(3);
    while pid_alive(pid) && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!pid_alive(pid), "exec'd process survived the container");
}

#[test]
fn exec_of_missing_binary_fails() {
    let ctx = ctx!("exec-missing");
    let (id, _) = running(&ctx);
    ctx.exec(&id, &["/no/such/binary"]).fails_mentioning(&[
        "/no/such/binary",
        "no such file",
        "not found",
    ]);
    assert_eq!(ctx.status(&id), "running");
}

#[test]
fn exec_in_stopped_container_fails() {
    let ctx = ctx!("exec-stopped");
    let (id, _) = running(&ctx);
    ctx.kill(&id, "KILL").ok();
    ctx.wait_status(&id, "stopped", T);
    ctx.exec(&id, &["true"])
        .fails_mentioning(&["stopped", "not running"]);
}

/// The namespaces an exec'd process must share with the init.
const SHARED_NS: &[&str] = &["mnt", "user", "cgroup", "ipc", "uts", "net", "pid"];

/// Issue #14 (finding 3): an exec'd process ends in every namespace of the
/// init and in its cgroup, with the container's root as root and cwd. Run
/// for the template's container (host user namespace) and for one with its
/// own user namespace (where the joins happen with other credentials).
#[test]
fn exec_joins_every_namespace_and_the_cgroup_of_the_init() {
    let ctx = ctx!("exec-ns");
    for userns in [false, true] {
        let mut b = ctx.bundle(&["sleep", "30"]);
        if userns {
            b.namespace(json!({"type": "user"}));
            b.config["linux"]["uidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            b.config["linux"]["gidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        }
        let id = ctx.id("exns");
        ctx.run_detached(&b, &id).ok();
        let s = ctx.wait_status(&id, "running", T);
        let init = s["pid"].as_i64().unwrap_or(0) as i32;
        let mut script = String::new();
        for ns in SHARED_NS {
            script.push_str(&format!("echo {ns}=$(readlink /proc/self/ns/{ns}); "));
        }
        script.push_str("echo root=$(readlink /proc/self/root) cwd=$(pwd); ");
        script.push_str("echo CG-SELF; cat /proc/self/cgroup; echo CG-INIT; cat /proc/1/cgroup");
        let o = ctx.exec(&id, &["sh", "-c", &script]).ok();
        let lines = o.lines();
        for ns in SHARED_NS {
            let want = std::fs::read_link(format!("/proc/{init}/ns/{ns}"))
                .map(|l| l.display().to_string())
                .unwrap_or_else(|e| panic!("readlink /proc/{init}/ns/{ns} on the host: {e}"));
            let got = lines
                .iter()
                .find_map(|l| l.strip_prefix(&format!("{ns}=")))
                .unwrap_or_else(|| panic!("no {ns}= line in the exec output: {o}"));
            assert_eq!(
                got, want,
                "userns={userns}: the exec'd process is in {ns} namespace {got}, the init in {want}: {o}"
            );
        }
        assert!(
            lines.iter().any(|l| l == "root=/ cwd=/"),
            "userns={userns}: root and cwd of the exec'd process are not the container's /: {o}"
        );
        let text = o.stdout.clone();
        let (own, init_cg) = text
            .split_once("CG-INIT\n")
            .unwrap_or_else(|| panic!("no CG-INIT marker: {o}"));
        let own = own.split_once("CG-SELF\n").map(|x| x.1).unwrap_or("");
        assert!(!own.trim().is_empty(), "empty /proc/self/cgroup: {o}");
        assert_eq!(
            own.trim(),
            init_cg.trim(),
            "userns={userns}: the exec'd process is not in the init's cgroups: {o}"
        );
        ctx.kill(&id, "KILL").ok();
        ctx.wait_status(&id, "stopped", T);
        ctx.delete(&id).ok();
    }
}

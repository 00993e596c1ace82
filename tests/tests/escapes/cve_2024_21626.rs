//! CVE-2024-21626: a leaked runtime fd as the container's working directory.
//!
//! Attack: runc leaked an fd of a host directory (/sys/fs/cgroup) into its
//! init. A config (or `runc exec --cwd`) with `process.cwd` =
//! `/proc/self/fd/N` made runc chdir through that magic link: the container
//! process started with its cwd on the host, outside its root, and
//! `../../..` from there reaches the host's `/` — read /etc/shadow, write
//! anything.
//!
//! Defence: crates/init/src/exec.rs `seal_fds` marks every fd above
//! stdio (and --preserve-fds) close-on-exec, and the cwd is opened inside
//! the new root: crates/init/src/rootfs/mod.rs `create_in` (init,
//! pipeline.rs `setup`) and `open_in` (exec, pipeline.rs `exec_child`),
//! both openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): a magic link such
//! as /proc/self/fd/N is refused (ELOOP), and nothing resolves outside the
//! root. chdir is an fchdir to that fd.
//!
//! The test tries fds 3..=15 as cwd, for `run` and for `exec --cwd`, with a
//! process that reads and appends to a host canary file through `../`*.

use std::path::Path;

use ward_tests::{ctx, json, say, Bundle, Ctx};

use crate::common::*;

const FDS: std::ops::RangeInclusive<u32> = 3..=15;

/// A script that climbs from its cwd and reads/appends to `canary` (a host
/// path), printing what it saw.
fn climb(canary: &Path) -> String {
    let up = "../".repeat(24);
    let target = format!(
        "{up}{}",
        canary.display().to_string().trim_start_matches('/')
    );
    format!(
        "echo cwd=$(pwd); cat {target} 2>/dev/null && echo READ-HOST-CANARY; \
         echo PWNED-21626 >> {target} 2>/dev/null && echo WROTE-HOST-CANARY; echo done"
    )
}

/// Tries every fd as `process.cwd`; returns the outputs of the runs that
/// started, for the leak check.
fn attempt_runs(ctx: &Ctx, canary: &Path) -> Vec<String> {
    let mut started = Vec::new();
    // Control: the same process with a plain cwd runs.
    let mut b = ctx.bundle(&[]);
    b.sh(&climb(canary));
    b.cwd("/tmp");
    let o = run(ctx, &b, "21626c").ok();
    assert!(o.stdout.contains("cwd=/tmp"), "control run: {o}");
    for fd in FDS {
        let mut b = ctx.bundle(&[]);
        b.sh(&climb(canary));
        b.cwd(&format!("/proc/self/fd/{fd}"));
        let o = run(ctx, &b, "21626r");
        if o.stdout.contains("done") {
            started.push(format!("cwd /proc/self/fd/{fd}: {}", o.stdout.trim()));
        }
    }
    started
}

/// Tries every fd as `exec --cwd` in a running container.
fn attempt_execs(ctx: &Ctx, canary: &Path) -> Vec<String> {
    let b: Bundle = {
        let mut b = ctx.bundle(&["sleep", "30"]);
        b.config["process"]["env"] = json!([ward_tests::bundle::DEFAULT_PATH]);
        b
    };
    let id = ctx.id("21626e");
    ctx.run_detached(&b, &id).ok();
    // Control: exec with a plain --cwd works, so a refusal below is about
    // the cwd.
    let o = ctx
        .rt(&[
            "exec",
            "--cwd",
            "/tmp",
            &id,
            "/bin/sh",
            "-c",
            "echo cwd=$(pwd)",
        ])
        .ok();
    assert!(o.stdout.contains("cwd=/tmp"), "control exec: {o}");
    let mut started = Vec::new();
    for fd in FDS {
        let cwd = format!("/proc/self/fd/{fd}");
        let o = ctx.rt(&["exec", "--cwd", &cwd, &id, "/bin/sh", "-c", &climb(canary)]);
        if o.stdout.contains("done") {
            started.push(format!("exec --cwd {cwd}: {}", o.stdout.trim()));
        }
    }
    ctx.kill(&id, "KILL");
    started
}

/// Did the attacker reach the host? (what it printed, the canary's content)
fn leaked(outputs: &[String], canary: &Path, original: &str) -> Vec<String> {
    let mut v: Vec<String> = outputs
        .iter()
        .filter(|o| o.contains("READ-HOST-CANARY") || o.contains("WROTE-HOST-CANARY"))
        .cloned()
        .collect();
    let now = read(canary);
    if now != original {
        v.push(format!("host canary changed to {now:?}"));
    }
    v
}

#[test]
fn leaked_fd_as_cwd_does_not_reach_the_host() {
    let ctx = ctx!("cve-2024-21626");
    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let setup = runc_version(&weak);
        let canary = weak.path("host-canary");
        let original = "host canary\n";
        write(&canary, original);
        let mut outs = attempt_runs(&weak, &canary);
        outs.extend(attempt_execs(&weak, &canary));
        let l = leaked(&outs, &canary, original);
        if l.is_empty() {
            weakened_skip(
                &ctx.name,
                &setup,
                "not vulnerable here (Debian's 1.1.5+ds1-1+deb12u1 carries the fix)",
            );
        } else {
            weakened_works(&ctx.name, &setup, &l.join("; "));
        }
    }

    let canary = ctx.path("host-canary");
    let original = "host canary\n";
    write(&canary, original);
    let mut outs = attempt_runs(&ctx, &canary);
    outs.extend(attempt_execs(&ctx, &canary));
    say(&format!(
        "{}: {} of {} attempts started a process (the others were refused)",
        ctx.name,
        outs.len(),
        2 * FDS.count()
    ));
    let l = leaked(&outs, &canary, original);
    assert!(
        l.is_empty(),
        "a process with cwd /proc/self/fd/N reached the host:\n{}",
        l.join("\n")
    );
    // Where a process did start, its cwd was inside the container.
    for o in &outs {
        assert!(!o.contains("cwd=/proc/self/fd"), "{o}");
    }
}

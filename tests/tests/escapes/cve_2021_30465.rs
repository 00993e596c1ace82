//! CVE-2021-30465: mounting onto a racing symlink.
//!
//! Attack: the runtime checked a mount destination inside the rootfs
//! (securejoin) and then called mount(2) with the resulting *path*. A
//! racing container sharing the volume swaps a directory on that path with
//! a symlink between the check and the mount; the kernel follows it and the
//! mount lands outside the rootfs (in the PoC, over the host's `/` as the
//! container would later see it), so the container ends up with host
//! directories in its filesystem.
//!
//! Defence: crates/init/src/rootfs/mounts.rs `mount_one`: the
//! destination is resolved once, with openat2(RESOLVE_IN_ROOT |
//! RESOLVE_NO_MAGICLINKS) from the rootfs fd (rootfs/mod.rs `create_in`),
//! and the detached mount (fsmount/open_tree) is attached with
//! move_mount(MOVE_MOUNT_T_EMPTY_PATH) onto *that fd*: there is no path
//! left between the check and the mount for a swap to change.
//!
//! The race is bounded: a host thread flips `vol/a` (a directory with
//! `d0..`) with `vol/b` (a symlink to the host directory `outside/`, which
//! has the same `d0..`) with renameat2(RENAME_EXCHANGE) for about 2.5 s
//! while containers mount a tmpfs on each `/vol/a/dN`. Every container that
//! starts must find all its tmpfs mounts inside its own filesystem (its
//! mountinfo lists every mount reachable from its root; a mount made on the
//! host side of the symlink is not), none missing; `outside/` must be
//! unchanged and the host's mount table must not mention it. A runtime
//! that fails every container is never raced: a control run of the same
//! bundle before the racer starts must start and see its 16 mounts, and
//! every raced run that does not start must be refused over the raced path
//! (its error names `vol/a`) — safe runtimes refuse most raced runs (runc
//! and crun start 0–2 of 40 here), so no number of started ones is
//! required. Weakened setup: runc 1.1.5 (fixed in 1.0.0-rc95; shown if it
//! were not).

use std::time::{Duration, Instant};

use ward_tests::{ctx, json, say, Ctx};

use crate::common::*;

const BUDGET: Duration = Duration::from_millis(2500);
const MAX_RUNS: usize = 40;
const MOUNTS: usize = 16;

struct Outcome {
    runs: usize,
    started: usize,
    swaps: u64,
    /// Started containers that did not see all their mounts.
    misplaced: Vec<String>,
    /// Raced runs refused for a reason that does not name the raced path.
    other_failures: Vec<String>,
    /// The control run (same bundle, no racer): None if it started and saw
    /// all its mounts, else what went wrong.
    control: Option<String>,
    /// What changed under outside/.
    outside_changed: Vec<String>,
}

fn race(ctx: &Ctx) -> Outcome {
    let vol = ctx.path("vol");
    let outside = ctx.path("outside");
    for i in 0..MOUNTS {
        mkdir(&vol.join(format!("a/d{i}")));
        write(&outside.join(format!("d{i}/marker")), "outside\n");
    }
    let outside_before = tree(&outside);
    symlink(&outside.display().to_string(), &vol.join("b"));
    let mut b = ctx.bundle(&[]);
    bind(&mut b, &vol, "/vol", &["rw"]);
    for i in 0..MOUNTS {
        b.mount(json!({
            "destination": format!("/vol/a/d{i}"), "type": "tmpfs",
            "source": format!("w30465-{i}"), "options": ["size=64k"]
        }));
    }
    b.sh("grep w30465- /proc/self/mountinfo; echo done");
    // Control: the same bundle, `vol/a` a plain directory.
    let o = run(ctx, &b, "30465c");
    let seen = o.stdout.lines().filter(|l| l.contains(" w30465-")).count();
    let control = (!o.success() || seen != MOUNTS)
        .then(|| format!("{seen} of {MOUNTS} tmpfs mounts seen: {o}"));
    let racer = Racer::start(&vol, "a", "b");
    let deadline = Instant::now() + BUDGET;
    let (mut runs, mut started, mut misplaced) = (0, 0, Vec::new());
    let mut other_failures = Vec::new();
    while Instant::now() < deadline && runs < MAX_RUNS {
        runs += 1;
        let o = run(ctx, &b, "30465");
        if !o.success() {
            if !names_raced_path(&o.stderr) {
                other_failures.push(format!("run {runs}: {o}"));
            }
            continue;
        }
        started += 1;
        // A mount that went outside the rootfs is not reachable from the
        // container's root, and the kernel leaves it out of mountinfo. (One
        // that followed the symlink *inside* the rootfs is fine: that is
        // the path as the container sees it.)
        let seen = o.stdout.lines().filter(|l| l.contains(" w30465-")).count();
        if seen != MOUNTS {
            misplaced.push(format!(
                "run {runs}: {seen} of {MOUNTS} tmpfs mounts inside the container: {}",
                o.stdout.trim()
            ));
        }
    }
    let swaps = racer.stop();
    let after = tree(&outside);
    let mut outside_changed: Vec<String> = after
        .iter()
        .filter(|e| !outside_before.contains(e))
        .map(|e| format!("new: {e}"))
        .collect();
    outside_changed.extend(host_mounts_mentioning(&outside.display().to_string()));
    Outcome {
        runs,
        started,
        swaps,
        misplaced,
        other_failures,
        control,
        outside_changed,
    }
}

#[test]
fn racing_symlink_never_redirects_a_mount() {
    let ctx = ctx!("cve-2021-30465");
    let _serial = race_lock();
    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let o = race(&weak);
        let v = runc_version(&weak);
        if o.misplaced.is_empty() && o.outside_changed.is_empty() {
            weakened_skip(
                &ctx.name,
                &v,
                &format!(
                    "not vulnerable: {} runs, {} started, {} swaps",
                    o.runs, o.started, o.swaps
                ),
            );
        } else {
            weakened_works(
                &ctx.name,
                &v,
                &format!("{:?} {:?}", o.misplaced, o.outside_changed),
            );
        }
    }
    let o = race(&ctx);
    say(&format!(
        "{}: {} containers ({} started, the rest refused) against {} swaps",
        ctx.name, o.runs, o.started, o.swaps
    ));
    if let Some(e) = &o.control {
        panic!("control (no racer): the bundle does not run: {e}");
    }
    assert!(o.swaps > 0, "the racer never swapped");
    assert!(
        o.misplaced.is_empty(),
        "mounts did not land inside the container:\n{}",
        o.misplaced.join("\n")
    );
    assert!(
        o.outside_changed.is_empty(),
        "the host directory behind the symlink changed: {:?}",
        o.outside_changed
    );
    // Checked after the escape itself: a runtime that escaped may well
    // have failed the runs it escaped in.
    assert!(
        o.other_failures.is_empty(),
        "raced runs failed for a reason other than the race:\n{}",
        o.other_failures.join("\n")
    );
}

//! CVE-2024-45310: creating mount destinations through a racing symlink.
//!
//! Attack: a mount destination that does not exist is created by the
//! runtime (mkdir -p, or an empty file for a file bind). runc resolved the
//! path inside the rootfs (securejoin) and then created it with
//! os.MkdirAll on the resulting *string*: a racing container sharing the
//! volume swaps a directory on that path with a symlink to a host path in
//! between, and the runtime creates directories and empty files on the
//! host, as root, wherever the attacker likes.
//!
//! Defence: crates/sandbox/src/rootfs/mod.rs `create_in`: each missing
//! component is created with mkdirat/openat2(O_CREAT|O_EXCL) relative to
//! the fd of its parent, which was itself resolved with openat2
//! (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) from the rootfs fd. A symlink
//! swapped in is either followed *inside* the root or makes the step fail;
//! no path string is ever resolved against the host.
//!
//! The race is bounded: a host thread flips `vol/a` (a directory) with
//! `vol/b` (a symlink to the host directory `outside/`) with
//! renameat2(RENAME_EXCHANGE) while the runtime creates containers whose
//! mounts need new directories and files under `/vol/a`, for about
//! 2.5 seconds. Afterwards `outside/` must be empty. Weakened setup: runc
//! 1.1.5 (fixed in 1.1.14), which creates entries in `outside/`.

use std::time::{Duration, Instant};

use ward_tests::{ctx, json, say, Ctx};

use crate::common::*;

const BUDGET: Duration = Duration::from_millis(2500);
const MAX_RUNS: usize = 40;
const PER_RUN: usize = 12;

/// Runs containers while the racer flips; returns (runs, started, swaps,
/// entries found under outside/, entries created inside the volume).
fn race(ctx: &Ctx) -> (usize, usize, u64, Vec<String>, usize) {
    let vol = ctx.path("vol");
    let outside = ctx.path("outside");
    mkdir(&vol.join("a"));
    mkdir(&outside);
    symlink(&outside.display().to_string(), &vol.join("b"));
    let file_src = ctx.path("file-src");
    write(&file_src, "bind source\n");
    let mut b = ctx.bundle(&["true"]);
    let base = b.config["mounts"].clone();
    let racer = Racer::start(&vol, "a", "b");
    let deadline = Instant::now() + BUDGET;
    let (mut runs, mut started) = (0, 0);
    while Instant::now() < deadline && runs < MAX_RUNS {
        b.config["mounts"] = base.clone();
        bind(&mut b, &vol, "/vol", &["rw"]);
        for i in 0..PER_RUN {
            b.mount(json!({
                "destination": format!("/vol/a/r{runs}-d{i}/sub"),
                "type": "tmpfs", "source": "tmpfs", "options": ["size=64k"]
            }));
            if i % 3 == 0 {
                bind(&mut b, &file_src, &format!("/vol/a/r{runs}-f{i}"), &["ro"]);
            }
        }
        if run(ctx, &b, "45310").success() {
            started += 1;
        }
        runs += 1;
    }
    let swaps = racer.stop();
    let inside = tree(&vol).iter().filter(|e| e.contains("/r")).count();
    (runs, started, swaps, tree(&outside), inside)
}

#[test]
fn racing_symlink_never_makes_the_runtime_create_on_the_host() {
    let ctx = ctx!("cve-2024-45310");
    let _serial = race_lock();
    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let (runs, started, swaps, found, _) = race(&weak);
        let v = runc_version(&weak);
        if found.is_empty() {
            weakened_skip(
                &ctx.name,
                &v,
                &format!(
                    "nothing created outside in {runs} runs ({started} started, {swaps} swaps)"
                ),
            );
        } else {
            weakened_works(
                &ctx.name,
                &v,
                &format!(
                    "{} entries created on the host outside the rootfs in {runs} runs: {}",
                    found.len(),
                    found.iter().take(6).cloned().collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }
    let (runs, started, swaps, found, inside) = race(&ctx);
    say(&format!(
        "{}: {runs} containers ({started} started, the rest refused) against {swaps} swaps; \
         {inside} destinations created inside the volume, {} outside",
        ctx.name,
        found.len()
    ));
    assert!(swaps > 0, "the racer never swapped");
    assert!(
        found.is_empty(),
        "the runtime created entries on the host outside the rootfs: {found:?}"
    );
    assert!(
        host_mounts_mentioning(&ctx.path("outside").display().to_string()).is_empty(),
        "a mount appeared on the host outside the rootfs"
    );
}

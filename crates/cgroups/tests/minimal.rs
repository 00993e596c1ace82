//! `open_minimal` (ward sandbox): only the hierarchies carrying a limit are
//! used, the limit holds, and kill_all still reaches every process.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{skip_unless_root, unique_path};
use ward_cgroups::{open_minimal, CgroupSpec, Layout, LinuxResources};
use ward_spec::resources::LinuxPids;

#[test]
fn minimal_uses_only_limited_hierarchies_and_still_kills_everything() {
    if skip_unless_root() {
        return;
    }
    let path = unique_path("minimal");
    let r = LinuxResources {
        pids: Some(LinuxPids { limit: Some(5) }),
        ..LinuxResources::default()
    };
    let m = open_minimal(
        &CgroupSpec {
            cgroups_path: Some(&path),
            id: "minimal",
            systemd: false,
            rootless: false,
        },
        &r,
    )
    .expect("open_minimal");
    m.check(&r).expect("check: no devices hierarchy needed");
    m.create().expect("create");
    let made: Vec<_> = m.paths();
    if m.layout() != Layout::V2 {
        // pids (the limit and the process list) only: not cpu, memory,
        // devices, freezer, name=systemd..., nor the hybrid host's cgroup2
        // directory (no `unified` keys), so kill_all below signals each
        // process.
        for p in &made {
            let s = p.to_string_lossy();
            assert!(s.contains("/pids/"), "unexpected hierarchy {s}");
        }
        assert!(made.iter().any(|p| p.to_string_lossy().contains("/pids/")));
    }
    m.apply(&r).expect("apply");
    let mut child = Command::new("/bin/busybox")
        .args([
            "sh",
            "-c",
            "read x; for i in 1 2 3 4 5 6 7 8; do sleep 60 & done; echo $?; wait",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("busybox");
    m.add_pid(child.id() as i32).expect("add_pid");
    drop(child.stdin.take());
    // The limit holds: at most 5 processes however many forks were tried.
    let t = Instant::now();
    while m.pids().expect("pids").len() < 5 && t.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    let n = m.pids().expect("pids").len();
    assert!(n <= 5, "{n} processes despite pids.max 5");
    m.kill_all(libc::SIGKILL).expect("kill_all");
    let _ = child.wait();
    let t = Instant::now();
    while !m.pids().expect("pids").is_empty() {
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "processes survived kill_all"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    m.destroy().expect("destroy");
    for p in made {
        assert!(!p.exists(), "{} left behind", p.display());
    }
    let top = path.trim_start_matches('/').split('/').next().unwrap_or("");
    for p in m.paths() {
        if let Some(parent) = p.ancestors().find(|a| a.ends_with(top)) {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

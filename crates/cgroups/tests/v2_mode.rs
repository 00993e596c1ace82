//! The cgroup v2 code paths on a real kernel. On a v2 host this is the
//! normal manager; on a hybrid host the manager is forced to v2 mode on the
//! cgroup2 hierarchy at /sys/fs/cgroup/unified, which has no resource
//! controllers but has everything else v2 offers: cgroup.procs,
//! cgroup.freeze, cgroup.kill, cpu.stat, the core knobs and device filters.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{eventually, res, skip_unless_root};
use ward_cgroups::{detect, open_with_layout, CgroupSpec, Layout, Manager};

fn read_counter(p: &Path) -> u64 {
    std::fs::read_to_string(p)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

struct Cleanup {
    m: Box<dyn Manager>,
    children: Vec<std::process::Child>,
    subtree: Option<(std::path::PathBuf, String)>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = self.m.thaw();
        let _ = self.m.kill_all(libc::SIGKILL);
        let _ = self.m.destroy();
        // Put back the root's subtree_control as we found it.
        if let Some((root, before)) = &self.subtree {
            let now =
                std::fs::read_to_string(root.join("cgroup.subtree_control")).unwrap_or_default();
            for c in now.split_whitespace() {
                if !before.split_whitespace().any(|b| b == c) {
                    let _ = std::fs::write(root.join("cgroup.subtree_control"), format!("-{c}"));
                }
            }
        }
    }
}

#[test]
fn v2_lifecycle_freeze_kill_destroy() {
    if skip_unless_root() {
        return;
    }
    let layout = detect().expect("detect");
    let root = match layout {
        Layout::V2 => Path::new(ward_cgroups::CGROUP_ROOT),
        Layout::Hybrid => Path::new(ward_cgroups::HYBRID_UNIFIED),
        Layout::V1 => {
            eprintln!("SKIP: no cgroup2 hierarchy on this host");
            return;
        }
    };
    let before = std::fs::read_to_string(root.join("cgroup.subtree_control")).unwrap_or_default();
    let path = common::unique_path("v2mode");
    let m = open_with_layout(
        &CgroupSpec {
            cgroups_path: Some(&path),
            id: "v2mode",
            systemd: false,
            rootless: false,
        },
        Layout::V2,
    )
    .expect("open in v2 mode");
    let mut g = Cleanup {
        m,
        children: Vec::new(),
        subtree: Some((root.to_path_buf(), before)),
    };
    assert_eq!(g.m.layout(), Layout::V2);
    let paths = g.m.paths();
    assert_eq!(paths.len(), 1);
    let dir = paths[0].clone();
    assert!(dir.starts_with(root), "{}", dir.display());

    // A limit whose controller this hierarchy does not offer: refused by
    // check() with the controller named, before anything exists.
    let have = std::fs::read_to_string(root.join("cgroup.controllers")).unwrap_or_default();
    if !have.split_whitespace().any(|c| c == "memory") {
        let e =
            g.m.check(&res(serde_json::json!({"memory": {"limit": 1 << 25}})))
                .expect_err("no memory controller")
                .to_string();
        assert!(e.contains("memory"), "{e}");
    }
    g.m.create().expect("create");
    assert!(dir.is_dir());
    let fd =
        g.m.open_v2_dir()
            .expect("open dir")
            .expect("v2 has a dir fd");
    let f = std::fs::File::from(fd);
    assert!(f.metadata().expect("fstat").is_dir());

    // Core knob through `unified`, and devices through the eBPF filter.
    g.m.apply(&res(serde_json::json!({
        "unified": {"cgroup.max.descendants": "2"},
        "devices": [{"allow": false, "access": "rwm"}]
    })))
    .expect("apply");
    assert_eq!(common::number(&dir, "cgroup.max.descendants"), Some(2));

    // A counting loop inside.
    let counter = std::env::temp_dir().join(format!("ward-v2count-{}", std::process::id()));
    let _ = std::fs::remove_file(&counter);
    let mut c = Command::new("/bin/busybox")
        .args([
            "sh",
            "-c",
            &format!(
                "read x; i=0; while :; do i=$((i+1)); echo $i > {}; done",
                counter.display()
            ),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let pid = i32::try_from(c.id()).expect("pid");
    g.m.add_pid(pid).expect("add_pid");
    if let Some(mut s) = c.stdin.take() {
        use std::io::Write;
        let _ = s.write_all(b"go\n");
    }
    g.children.push(c);
    assert!(g.m.pids().expect("pids").contains(&pid));
    let procs = std::fs::read_to_string(dir.join("cgroup.procs")).expect("procs");
    assert!(procs.split_whitespace().any(|p| p == pid.to_string()));
    assert!(eventually(Duration::from_secs(5), || read_counter(
        &counter
    ) > 10));

    // v2 freezer.
    g.m.freeze().expect("freeze");
    assert!(g.m.is_frozen().expect("frozen?"));
    let ev = std::fs::read_to_string(dir.join("cgroup.events")).expect("events");
    assert!(ev.contains("frozen 1"), "{ev}");
    let a = read_counter(&counter);
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(a, read_counter(&counter), "no progress while frozen");
    g.m.thaw().expect("thaw");
    assert!(eventually(Duration::from_secs(5), || read_counter(
        &counter
    ) > a));

    // cpu.stat is there without the cpu controller.
    let s = g.m.stats().expect("stats");
    assert!(s.cpu.usage.total > 0, "{:?}", s.cpu);

    // cgroup.kill.
    g.m.kill_all(libc::SIGKILL).expect("kill_all");
    let child = &mut g.children[0];
    let st = child.wait().expect("wait");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(st.signal(), Some(libc::SIGKILL));
    assert!(eventually(Duration::from_secs(5), || g
        .m
        .pids()
        .map(|p| p.is_empty())
        .unwrap_or(false)));
    g.m.destroy().expect("destroy");
    assert!(!dir.exists());
    assert!(
        dir.parent().is_some_and(|p| !p.exists()),
        "created parent removed"
    );
    let _ = std::fs::remove_file(&counter);
}

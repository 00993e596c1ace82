//! Shared helpers for the real-kernel tests: a unique cgroup per test, a
//! child process that waits on stdin until it has been moved into the
//! cgroup, and a Drop guard that kills everything and removes the dirs even
//! when an assertion fails.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use ward_cgroups::{open, CgroupSpec, Layout, Manager};

/// Prints the SKIP line and returns true when not root.
pub fn skip_unless_root() -> bool {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("SKIP: needs root to create cgroups");
        return true;
    }
    if ward_cgroups::detect().is_err() {
        eprintln!("SKIP: no cgroup filesystem at /sys/fs/cgroup");
        return true;
    }
    false
}

/// A unique absolute cgroupsPath: `/ward-test-<name>-<pid>-<n>/ctr`.
pub fn unique_path(name: &str) -> String {
    let n = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("/ward-test-{name}-{}-{n}/ctr", std::process::id())
}

/// A container cgroup and its processes, cleaned up on drop.
pub struct Guard {
    pub m: Box<dyn Manager>,
    pub path: String,
    pub children: Vec<Child>,
    /// Every hierarchy mount: to find leftovers.
    top: String,
}

impl Guard {
    /// Opens and creates the cgroup at a unique path.
    pub fn new(name: &str) -> Guard {
        let path = unique_path(name);
        let m = open(&CgroupSpec {
            cgroups_path: Some(&path),
            id: name,
            systemd: false,
            rootless: false,
        })
        .expect("open");
        let top = path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("")
            .to_string();
        let g = Guard {
            m,
            path,
            children: Vec::new(),
            top,
        };
        g.m.create().expect("create");
        g
    }

    /// Spawns `busybox sh -c 'read x; <script>'` and moves it into the
    /// cgroup before letting it run the script.
    pub fn spawn(&mut self, script: &str) -> usize {
        self.spawn_with(script, Stdio::null())
    }

    pub fn spawn_with(&mut self, script: &str, stderr: Stdio) -> usize {
        let mut c = Command::new("/bin/busybox")
            .args(["sh", "-c", &format!("read x; {script}")])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("spawn busybox");
        let pid = i32::try_from(c.id()).expect("pid fits");
        self.m.add_pid(pid).expect("add_pid");
        release(c.stdin.take());
        self.children.push(c);
        self.children.len() - 1
    }

    pub fn pid(&self, i: usize) -> i32 {
        i32::try_from(self.children[i].id()).expect("pid fits")
    }

    /// The container's directory of `controller` (v2: the one directory).
    pub fn dir(&self, controller: &str) -> PathBuf {
        let st = self.m.state();
        if st.layout == Layout::V2 {
            return st.unified.expect("v2 dir");
        }
        st.v1
            .iter()
            .find(|d| d.controllers.iter().any(|c| c == controller))
            .map(|d| d.path.clone())
            .unwrap_or_else(|| panic!("no {controller} hierarchy"))
    }

    /// Waits for child `i` to exit; returns its status.
    pub fn wait_exit(&mut self, i: usize, timeout: Duration) -> Option<std::process::ExitStatus> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(st)) = self.children[i].try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        None
    }

    /// Directories named after this test that exist in any hierarchy.
    pub fn leftovers(&self) -> Vec<PathBuf> {
        leftovers_named(&self.top)
    }
}

/// Directories `/sys/fs/cgroup/*/<top>` (and `/sys/fs/cgroup/<top>` on v2).
pub fn leftovers_named(top: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let root = Path::new("/sys/fs/cgroup");
    if root.join(top).exists() {
        out.push(root.join(top));
    }
    if let Ok(rd) = std::fs::read_dir(root) {
        for e in rd.flatten() {
            let p = e.path().join(top);
            if p.exists() {
                out.push(p);
            }
        }
    }
    out
}

fn release(stdin: Option<ChildStdin>) {
    if let Some(mut s) = stdin {
        let _ = s.write_all(b"go\n");
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
        }
        let _ = self.m.kill_all(libc::SIGKILL);
        for c in &mut self.children {
            let _ = c.wait();
        }
        let _ = self.m.thaw();
        let _ = self.m.kill_all(libc::SIGKILL);
        let _ = self.m.destroy();
        // Belt and braces: whatever is left of this test's tree.
        for p in self.leftovers() {
            remove_tree(&p);
        }
    }
}

fn remove_tree(p: &Path) {
    if let Ok(rd) = std::fs::read_dir(p) {
        for e in rd.flatten() {
            if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                remove_tree(&e.path());
            }
        }
    }
    let _ = std::fs::remove_dir(p);
}

/// Reads a flat-keyed value ("key N") of a cgroup file.
pub fn keyed(dir: &Path, file: &str, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(dir.join(file)).ok()?;
    s.lines().find_map(|l| {
        let mut it = l.split_whitespace();
        if it.next()? == key {
            it.next()?.parse().ok()
        } else {
            None
        }
    })
}

/// Reads a single-number cgroup file.
pub fn number(dir: &Path, file: &str) -> Option<u64> {
    std::fs::read_to_string(dir.join(file))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Parses resources from JSON.
pub fn res(v: serde_json::Value) -> ward_cgroups::LinuxResources {
    serde_json::from_value(v).expect("resources parse")
}

/// Polls `f` until true or timeout.
pub fn eventually(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    f()
}

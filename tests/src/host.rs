//! Looking at the host: namespaces, mounts, processes, cgroups.

use std::path::{Path, PathBuf};

/// `readlink /proc/self/ns/<kind>` of the test process, e.g. `pid:[4026531836]`.
pub fn host_ns(kind: &str) -> String {
    std::fs::read_link(format!("/proc/self/ns/{kind}"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

/// One line of /proc/*/mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountEntry {
    /// Source (first field).
    pub source: String,
    /// Mount point.
    pub target: String,
    /// Filesystem type.
    pub fstype: String,
    /// Mount options.
    pub options: Vec<String>,
}

impl MountEntry {
    /// Has option `o`?
    pub fn has(&self, o: &str) -> bool {
        self.options.iter().any(|x| x == o)
    }
}

/// Parse the text of /proc/self/mounts (octal escapes left as they are).
pub fn parse_mounts(text: &str) -> Vec<MountEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() < 4 {
                return None;
            }
            Some(MountEntry {
                source: f[0].to_string(),
                target: f[1].to_string(),
                fstype: f[2].to_string(),
                options: f[3].split(',').map(String::from).collect(),
            })
        })
        .collect()
}

/// The last (topmost) mount at `target`.
pub fn mount_at<'a>(mounts: &'a [MountEntry], target: &str) -> Option<&'a MountEntry> {
    mounts.iter().rev().find(|m| m.target == target)
}

/// Is `path` a mount point in the test process's mount namespace?
pub fn is_mountpoint(path: &str) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split_whitespace().nth(4) == Some(path))
}

/// Process state letter from /proc/PID/stat (R, S, Z, ...), None if gone.
pub fn proc_state(pid: i32) -> Option<char> {
    ward_sys::process::stat(pid).ok().map(|s| s.state)
}

/// Does `pid` exist and is not a zombie?
pub fn pid_alive(pid: i32) -> bool {
    matches!(proc_state(pid), Some(s) if s != 'Z' && s != 'X')
}

/// Command line of `pid`, arguments joined with spaces.
pub fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|s| !s.is_empty())
                .map(|s| String::from_utf8_lossy(s).into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

/// Poll until the command line of `pid` is `want` (a freshly started
/// process may not have exec'd yet); returns the last one seen.
pub fn wait_cmdline(pid: i32, want: &str, timeout: std::time::Duration) -> String {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let c = cmdline(pid);
        if c == want || std::time::Instant::now() >= deadline {
            return c;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

fn all_pids() -> Vec<i32> {
    std::fs::read_dir("/proc")
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok()))
                .collect()
        })
        .unwrap_or_default()
}

/// Live processes that belong to container `id` or bundle `bundle`: in a
/// cgroup whose path has a component containing `id`, cwd inside the
/// bundle, or a command line containing `marker` (if given).
pub fn processes_of(id: &str, bundle: &Path, marker: Option<&str>) -> Vec<String> {
    let me = std::process::id() as i32;
    let mut found = Vec::new();
    for pid in all_pids() {
        if pid == me || !pid_alive(pid) {
            continue;
        }
        let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
        let in_cgroup = cg.lines().any(|l| {
            l.split(':')
                .nth(2)
                .is_some_and(|p| p.split('/').any(|c| c.contains(id)))
        });
        let cwd_in_bundle = std::fs::read_link(format!("/proc/{pid}/cwd"))
            .map(|c| c.starts_with(bundle))
            .unwrap_or(false);
        let cmd = cmdline(pid);
        let marked = marker.is_some_and(|m| cmd.contains(m));
        if in_cgroup || cwd_in_bundle || marked {
            found.push(format!(
                "pid {pid} ({cmd}) state {:?} cgroup-match={in_cgroup} cwd-match={cwd_in_bundle} marker-match={marked}",
                proc_state(pid)
            ));
        }
    }
    found
}

/// Live processes whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<String> {
    let me = std::process::id() as i32;
    all_pids()
        .into_iter()
        .filter(|&p| p != me && pid_alive(p))
        .map(|p| (p, cmdline(p)))
        .filter(|(_, c)| c.contains(marker))
        .map(|(p, c)| format!("pid {p} ({c})"))
        .collect()
}

/// Mount points of the cgroup hierarchies (/sys/fs/cgroup/* that are mounts,
/// or /sys/fs/cgroup itself on a pure cgroup2 host).
pub fn cgroup_hierarchies() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for l in std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
    {
        let (_, post) = match l.split_once(" - ") {
            Some(x) => x,
            None => continue,
        };
        let fstype = post.split_whitespace().next().unwrap_or("");
        if fstype != "cgroup" && fstype != "cgroup2" {
            continue;
        }
        if let Some(mp) = l.split_whitespace().nth(4) {
            v.push(PathBuf::from(mp));
        }
    }
    v
}

/// Cgroup directories (in every hierarchy) whose name contains `id`.
pub fn cgroup_dirs_of(id: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for h in cgroup_hierarchies() {
        walk_dirs(&h, 0, &mut |p| {
            if p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains(id))
            {
                found.push(p.to_path_buf());
            }
        });
    }
    found
}

fn walk_dirs(dir: &Path, depth: usize, f: &mut dyn FnMut(&Path)) {
    if depth > 8 {
        return;
    }
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(_) => return,
    };
    for e in rd.filter_map(|e| e.ok()) {
        if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
            let p = e.path();
            f(&p);
            walk_dirs(&p, depth + 1, f);
        }
    }
}

/// Lines of /proc/self/mountinfo mentioning the bundle path or the id.
pub fn mounts_of(id: &str, bundle: &Path) -> Vec<String> {
    let b = bundle.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.contains(&b) || l.contains(id))
        .map(String::from)
        .collect()
}

/// Everything a container `id` with bundle `bundle` may leave on the host,
/// except its state dir (see `Ctx::leftovers`).
pub fn host_leftovers(id: &str, bundle: &Path, marker: Option<&str>) -> Vec<String> {
    let mut v = Vec::new();
    for p in processes_of(id, bundle, marker) {
        v.push(format!("process: {p}"));
    }
    for d in cgroup_dirs_of(id) {
        v.push(format!("cgroup dir: {}", d.display()));
    }
    for m in mounts_of(id, bundle) {
        v.push(format!("mount: {m}"));
    }
    v
}

/// Why a bind of `path` cannot be id-mapped on this kernel, if it cannot:
/// tmpfs supports id-mapped mounts from Linux 6.3 only (the bookworm VM's
/// /tmp and scratch directories are tmpfs). Read from the kernel, not from
/// the runtime under test.
pub fn idmap_unavailable(path: &std::path::Path) -> Option<String> {
    const TMPFS_MAGIC: i64 = 0x0102_1994;
    let fs = nix::sys::statfs::statfs(path).ok()?;
    let uname = nix::sys::utsname::uname().ok()?;
    let release = uname.release().to_string_lossy().to_string();
    let mut v = release
        .split(['.', '-'])
        .map(|n| n.parse::<u32>().unwrap_or(0));
    let version = (v.next().unwrap_or(0), v.next().unwrap_or(0));
    (fs.filesystem_type().0 as i64 == TMPFS_MAGIC && version < (6, 3)).then(|| {
        format!(
            "{} is a tmpfs, which Linux {release} cannot id-map (6.3+)",
            path.display()
        )
    })
}

/// The kernel's Landlock ABI (0: none), asked of the kernel itself, so
/// that a runtime reporting 0 by mistake fails its tests instead of
/// skipping them.
pub fn landlock_abi() -> u32 {
    ward_sys::landlock::abi_version()
}

/// How many rounds a repeated attack or leak test makes: `default`, or
/// `WARD_TEST_CYCLES` (the VM harness's slower runs set fewer).
pub fn cycles(default: usize) -> usize {
    std::env::var("WARD_TEST_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Current effective uid.
pub fn euid() -> u32 {
    nix::unistd::geteuid().as_raw()
}

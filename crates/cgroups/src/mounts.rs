//! Where the cgroup hierarchies are: layout detection, /proc/self/mountinfo
//! and /proc/self/cgroup.
//!
//! Threat: writing limits into the wrong hierarchy (or a look-alike tmpfs
//! directory) would leave the container unlimited while reporting success.
//! Hierarchies are found from the kernel's own mount table and the
//! filesystem magic, not from guessed directory names.

use std::path::{Path, PathBuf};

use nix::sys::statfs::{statfs, CGROUP2_SUPER_MAGIC, CGROUP_SUPER_MAGIC};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The usual cgroup mount root.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// Where hybrid hosts mount cgroup2 next to the v1 hierarchies.
pub const HYBRID_UNIFIED: &str = "/sys/fs/cgroup/unified";

/// How the host mounts cgroups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Only cgroup v1 hierarchies.
    V1,
    /// cgroup2 at /sys/fs/cgroup (unified mode).
    V2,
    /// v1 hierarchies for the controllers, plus cgroup2 at
    /// /sys/fs/cgroup/unified (usually without controllers).
    Hybrid,
}

/// Detects the layout like runc: the filesystem magic of /sys/fs/cgroup and
/// of /sys/fs/cgroup/unified.
pub fn detect() -> Result<Layout> {
    let root = statfs(CGROUP_ROOT).map_err(|e| {
        Error::Host(format!(
            "statfs {CGROUP_ROOT}: {}: mount cgroup2 there (mount -t cgroup2 none {CGROUP_ROOT})",
            e.desc()
        ))
    })?;
    if root.filesystem_type() == CGROUP2_SUPER_MAGIC {
        return Ok(Layout::V2);
    }
    if root.filesystem_type() == CGROUP_SUPER_MAGIC {
        // A single v1 hierarchy mounted directly on /sys/fs/cgroup.
        return Ok(Layout::V1);
    }
    if let Ok(u) = statfs(HYBRID_UNIFIED) {
        if u.filesystem_type() == CGROUP2_SUPER_MAGIC {
            return Ok(Layout::Hybrid);
        }
    }
    Ok(Layout::V1)
}

/// v1 controller names (and the named hierarchy we join).
const V1_SUBSYSTEMS: &[&str] = &[
    "cpuset",
    "cpu",
    "cpuacct",
    "blkio",
    "memory",
    "devices",
    "freezer",
    "net_cls",
    "net_prio",
    "perf_event",
    "hugetlb",
    "pids",
    "rdma",
    "misc",
    "name=systemd",
];

/// A cgroup mount from mountinfo.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CgroupMount {
    pub mountpoint: PathBuf,
    /// The cgroup this mount shows as its root (usually "/").
    pub root: String,
    /// `None` for cgroup2; the v1 controllers (and `name=…`) otherwise.
    pub controllers: Option<Vec<String>>,
}

/// Undoes mountinfo's octal escapes (`\040` for a space).
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            if let Some(oct) = b.get(i + 1..i + 4) {
                if oct.iter().all(|c| (b'0'..=b'7').contains(c)) {
                    let v = oct
                        .iter()
                        .fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                    if let Ok(v) = u8::try_from(v) {
                        out.push(v);
                        i += 4;
                        continue;
                    }
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The cgroup and cgroup2 mounts of a mountinfo text.
pub(crate) fn parse_mountinfo(s: &str) -> Vec<CgroupMount> {
    let mut out = Vec::new();
    for line in s.lines() {
        let Some((left, right)) = line.split_once(" - ") else {
            continue;
        };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 6 || r.len() < 3 {
            continue;
        }
        let (root, mountpoint) = (unescape(l[3]), PathBuf::from(unescape(l[4])));
        match r[0] {
            "cgroup2" => out.push(CgroupMount {
                mountpoint,
                root,
                controllers: None,
            }),
            "cgroup" => {
                let ctrls: Vec<String> = r[2]
                    .split(',')
                    .filter(|o| V1_SUBSYSTEMS.contains(o))
                    .map(str::to_string)
                    .collect();
                if !ctrls.is_empty() {
                    out.push(CgroupMount {
                        mountpoint,
                        root,
                        controllers: Some(ctrls),
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// One line of /proc/self/cgroup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProcCgroup {
    /// Empty for the cgroup2 line (`0::/path`).
    pub controllers: Vec<String>,
    pub path: String,
}

/// Parses /proc/<pid>/cgroup.
pub(crate) fn parse_proc_cgroup(s: &str) -> Vec<ProcCgroup> {
    s.lines()
        .filter_map(|l| {
            let mut it = l.splitn(3, ':');
            let _id = it.next()?;
            let ctrls = it.next()?;
            let path = it.next()?;
            Some(ProcCgroup {
                controllers: ctrls
                    .split(',')
                    .filter(|c| !c.is_empty())
                    .map(str::to_string)
                    .collect(),
                path: path.to_string(),
            })
        })
        .collect()
}

fn same_set(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().all(|x| b.contains(x))
}

/// A v1 hierarchy: its controllers and where it is mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct V1Hierarchy {
    pub controllers: Vec<String>,
    pub mountpoint: PathBuf,
    pub root: String,
}

/// The hierarchies this process can use.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hierarchies {
    pub v1: Vec<V1Hierarchy>,
    /// cgroup2 mountpoint and its root.
    pub unified: Option<(PathBuf, String)>,
}

impl Hierarchies {
    /// From mountinfo text: one mount per v1 hierarchy (the one showing the
    /// hierarchy root, else the first), and the cgroup2 mount at
    /// `want_unified` if given, else the first.
    pub(crate) fn from_mountinfo(s: &str, want_unified: Option<&Path>) -> Hierarchies {
        let mut h = Hierarchies::default();
        for m in parse_mountinfo(s) {
            match m.controllers {
                None => {
                    let better = match (&h.unified, want_unified) {
                        (None, _) => true,
                        (Some((cur, _)), Some(w)) => cur != w && m.mountpoint == w,
                        (Some(_), None) => false,
                    };
                    if better {
                        h.unified = Some((m.mountpoint, m.root));
                    }
                }
                Some(ctrls) => {
                    if let Some(existing) =
                        h.v1.iter_mut().find(|x| same_set(&x.controllers, &ctrls))
                    {
                        if existing.root != "/" && m.root == "/" {
                            existing.mountpoint = m.mountpoint;
                            existing.root = m.root;
                        }
                    } else {
                        h.v1.push(V1Hierarchy {
                            controllers: ctrls,
                            mountpoint: m.mountpoint,
                            root: m.root,
                        });
                    }
                }
            }
        }
        h
    }

    /// Reads this process's mount table.
    pub(crate) fn load(layout: Layout) -> Result<Hierarchies> {
        let mi = std::fs::read_to_string("/proc/self/mountinfo").map_err(|e| {
            Error::Host(format!(
                "reading /proc/self/mountinfo: {}",
                crate::error::errno_text(&e)
            ))
        })?;
        let want = match layout {
            Layout::V2 => Some(Path::new(CGROUP_ROOT)),
            Layout::Hybrid => Some(Path::new(HYBRID_UNIFIED)),
            Layout::V1 => None,
        };
        let mut h = Hierarchies::from_mountinfo(&mi, want);
        match layout {
            Layout::V2 => {
                h.v1.clear();
                if h.unified.is_none() {
                    return Err(Error::Host(format!(
                        "no cgroup2 mount in /proc/self/mountinfo although {CGROUP_ROOT} is cgroup2"
                    )));
                }
            }
            Layout::V1 => {
                h.unified = None;
            }
            Layout::Hybrid => {}
        }
        if layout != Layout::V2 && h.v1.is_empty() {
            return Err(Error::Host(
                "no cgroup v1 hierarchy is mounted: mount the controllers under /sys/fs/cgroup or boot with cgroup v2".into(),
            ));
        }
        Ok(h)
    }
}

/// This process's cgroup in a hierarchy (`controllers` empty: cgroup2).
pub(crate) fn own_cgroup(proc_cgroup: &[ProcCgroup], controllers: &[String]) -> Option<String> {
    proc_cgroup
        .iter()
        .find(|p| {
            if controllers.is_empty() {
                p.controllers.is_empty()
            } else {
                same_set(&p.controllers, controllers)
            }
        })
        .map(|p| p.path.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
24 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
30 24 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:27 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:28 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:29 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
34 30 0:30 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
35 30 0:31 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
36 30 0:32 / /sys/fs/cgroup/net_cls,net_prio rw,relatime shared:9 - cgroup cgroup rw,net_cls,net_prio
37 1 0:29 /sub /mnt/mem\\040x rw - cgroup cgroup rw,memory
38 30 0:33 / /sys/fs/cgroup/named rw - cgroup cgroup rw,name=other
";

    #[test]
    fn mountinfo_hybrid() {
        let h = Hierarchies::from_mountinfo(HYBRID, Some(Path::new(HYBRID_UNIFIED)));
        let names: Vec<String> = h.v1.iter().map(|x| x.controllers.join(",")).collect();
        assert_eq!(
            names,
            [
                "cpu",
                "cpuacct",
                "memory",
                "name=systemd",
                "net_cls,net_prio"
            ]
        );
        assert_eq!(
            h.unified,
            Some((PathBuf::from(HYBRID_UNIFIED), "/".to_string()))
        );
        // The bind mount of a memory sub-cgroup is not preferred over "/".
        let mem = h.v1.iter().find(|x| x.controllers == ["memory"]);
        assert_eq!(
            mem.map(|m| m.mountpoint.clone()),
            Some(PathBuf::from("/sys/fs/cgroup/memory"))
        );
        let all = parse_mountinfo(HYBRID);
        assert!(all
            .iter()
            .any(|m| m.mountpoint == Path::new("/mnt/mem x") && m.root == "/sub"));
    }

    #[test]
    fn proc_cgroup() {
        let p = parse_proc_cgroup(
            "9:name=systemd:/\n4:memory:/process_api/abc\n2:cpu,cpuacct:/x\n0::/user.slice/a:b\n",
        );
        assert_eq!(p.len(), 4);
        assert_eq!(
            own_cgroup(&p, &["memory".to_string()]).as_deref(),
            Some("/process_api/abc")
        );
        assert_eq!(
            own_cgroup(&p, &["cpuacct".to_string(), "cpu".to_string()]).as_deref(),
            Some("/x")
        );
        assert_eq!(own_cgroup(&p, &[]).as_deref(), Some("/user.slice/a:b"));
        assert_eq!(own_cgroup(&p, &["pids".to_string()]), None);
    }

    #[test]
    fn this_host_is_detected() {
        // Whatever this host is, detection must not fail on a Linux box
        // with /sys/fs/cgroup.
        if Path::new(CGROUP_ROOT).exists() {
            assert!(detect().is_ok());
        }
    }
}

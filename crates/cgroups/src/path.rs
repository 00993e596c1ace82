//! `linux.cgroupsPath`: where the container's cgroup goes.
//!
//! Threat: the path comes from the bundle. `..` components would let a
//! config put limits on, join or remove another workload's cgroup (or the
//! host's root cgroup), so they are refused, never "cleaned".
//!
//! Semantics (cgroupfs driver, like runc):
//! * absolute `/a/b`: `<hierarchy mount>/a/b` in every hierarchy;
//! * relative `a/b`: below the runtime's own cgroup (from /proc/self/cgroup);
//!   on cgroup v2 below its *parent*, because a cgroup with processes in it
//!   cannot hand controllers to children (runc does the same);
//! * missing or empty: `/ward/<id>`. runc uses `<id>` relative to its own
//!   cgroup here; ward uses a fixed absolute path because `create`, `kill`
//!   and `delete` run as different processes, possibly in different
//!   cgroups, and must all find the same directory.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// The parent of default container cgroups.
pub const DEFAULT_PARENT: &str = "ward";

/// A checked cgroupsPath.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CgroupsPath {
    pub absolute: bool,
    pub comps: Vec<String>,
}

fn path_err(path: &str, msg: impl Into<String>) -> Error {
    Error::CgroupsPath {
        path: path.to_string(),
        msg: msg.into(),
    }
}

/// Checks a container id used as a cgroup directory name.
fn check_id(id: &str) -> Result<()> {
    let bad = id.is_empty()
        || id == "."
        || id == ".."
        || id
            .chars()
            .any(|c| c == '/' || c == '\0' || c.is_whitespace() || c.is_control());
    if bad {
        return Err(path_err(
            "",
            format!(
                "is empty, so the container id {id:?} names the cgroup, but it is not a plain directory name: use letters, digits, '-', '_', '.'"
            ),
        ));
    }
    Ok(())
}

/// Parses `linux.cgroupsPath`; `None`/empty gives `/ward/<id>`.
pub(crate) fn parse(path: Option<&str>, id: &str) -> Result<CgroupsPath> {
    let p = path.unwrap_or("");
    if p.is_empty() {
        check_id(id)?;
        return Ok(CgroupsPath {
            absolute: true,
            comps: vec![DEFAULT_PARENT.to_string(), id.to_string()],
        });
    }
    if p.contains('\0') {
        return Err(path_err(p, "contains a NUL byte"));
    }
    let mut comps = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                return Err(path_err(
                    p,
                    "must not contain \"..\": it would leave the cgroup tree it names; write the path without it",
                ))
            }
            c => {
                if c.chars().any(|ch| ch.is_control()) {
                    return Err(path_err(p, "contains a control character"));
                }
                comps.push(c.to_string());
            }
        }
    }
    if comps.is_empty() {
        return Err(path_err(
            p,
            "names the root cgroup: give the container its own cgroup, e.g. \"/ward/<id>\"",
        ));
    }
    Ok(CgroupsPath {
        absolute: p.starts_with('/'),
        comps,
    })
}

/// Where the cgroup lives in one hierarchy: an existing `base` directory
/// and the components to create below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target {
    pub base: PathBuf,
    pub comps: Vec<String>,
}

impl Target {
    /// The container's own directory.
    pub fn leaf(&self) -> PathBuf {
        let mut p = self.base.clone();
        p.extend(&self.comps);
        p
    }
}

/// Resolves `p` in a hierarchy mounted at `mountpoint` showing cgroup
/// `mount_root`, for a process whose own cgroup there is `own`.
/// `v2_parent`: relative paths go below the parent of `own` (cgroup v2).
pub(crate) fn resolve(
    p: &CgroupsPath,
    mountpoint: &Path,
    mount_root: &str,
    own: Option<&str>,
    v2_parent: bool,
) -> Result<Target> {
    if p.absolute {
        return Ok(Target {
            base: mountpoint.to_path_buf(),
            comps: p.comps.clone(),
        });
    }
    let own = own.ok_or_else(|| {
        Error::Host(format!(
            "/proc/self/cgroup has no entry for the hierarchy at {}, so a relative linux.cgroupsPath cannot be placed: use an absolute path",
            mountpoint.display()
        ))
    })?;
    let root = mount_root.trim_end_matches('/');
    let rel = own.strip_prefix(root).unwrap_or("");
    if !own.starts_with(root) || (!rel.is_empty() && !rel.starts_with('/')) {
        return Err(Error::Host(format!(
            "this process's cgroup {own:?} is outside what {} shows ({mount_root:?}), so a relative linux.cgroupsPath cannot be placed: use an absolute path",
            mountpoint.display()
        )));
    }
    let mut own_comps: Vec<String> = rel
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .map(str::to_string)
        .collect();
    if own_comps.iter().any(|c| c == "..") {
        return Err(Error::Host(format!("odd own cgroup path {own:?}")));
    }
    if v2_parent {
        own_comps.pop();
    }
    let mut base = mountpoint.to_path_buf();
    base.extend(&own_comps);
    Ok(Target {
        base,
        comps: p.comps.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_ward_id() {
        let p = parse(None, "c1").expect("default");
        assert!(p.absolute);
        assert_eq!(p.comps, ["ward", "c1"]);
        assert_eq!(parse(Some(""), "c1").expect("default"), p);
        for id in ["", "..", "a/b", "a b"] {
            assert!(parse(None, id).is_err(), "{id:?}");
        }
    }

    #[test]
    fn traversal_is_refused_and_names_the_field() {
        for p in ["/a/../../b", "..", "a/..", "/../x", "/a/\0b"] {
            let e = parse(Some(p), "id").err().map(|e| e.to_string());
            let e = e.unwrap_or_default();
            assert!(e.contains("linux.cgroupsPath"), "{p:?}: {e}");
        }
        for p in ["/", "//", "/./"] {
            assert!(parse(Some(p), "id").is_err(), "{p:?}");
        }
        // ".." inside a name is just a name.
        assert_eq!(
            parse(Some("/a/..b/c."), "id").expect("ok").comps,
            ["a", "..b", "c."]
        );
    }

    #[test]
    fn absolute_and_relative() {
        let abs = parse(Some("//x/./y/"), "id").expect("ok");
        assert_eq!(abs.comps, ["x", "y"]);
        let t = resolve(
            &abs,
            Path::new("/sys/fs/cgroup/memory"),
            "/",
            Some("/own"),
            false,
        )
        .expect("abs");
        assert_eq!(t.leaf(), PathBuf::from("/sys/fs/cgroup/memory/x/y"));
        assert_eq!(t.base, PathBuf::from("/sys/fs/cgroup/memory"));

        let rel = parse(Some("x/y"), "id").expect("ok");
        assert!(!rel.absolute);
        let t = resolve(
            &rel,
            Path::new("/sys/fs/cgroup/memory"),
            "/",
            Some("/process_api/abc"),
            false,
        )
        .expect("rel");
        assert_eq!(
            t.leaf(),
            PathBuf::from("/sys/fs/cgroup/memory/process_api/abc/x/y")
        );
        // cgroup v2: below the parent of our own cgroup.
        let t = resolve(
            &rel,
            Path::new("/sys/fs/cgroup"),
            "/",
            Some("/user.slice/session-1.scope"),
            true,
        )
        .expect("rel v2");
        assert_eq!(t.leaf(), PathBuf::from("/sys/fs/cgroup/user.slice/x/y"));
        // A mount showing a sub-tree.
        let t = resolve(&rel, Path::new("/mnt/m"), "/sub", Some("/sub/me"), false).expect("sub");
        assert_eq!(t.leaf(), PathBuf::from("/mnt/m/me/x/y"));
        assert!(resolve(&rel, Path::new("/mnt/m"), "/sub", Some("/other"), false).is_err());
        assert!(resolve(&rel, Path::new("/mnt/m"), "/sub", Some("/subway"), false).is_err());
        assert!(resolve(&rel, Path::new("/mnt/m"), "/", None, false).is_err());
    }
}

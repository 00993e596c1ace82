//! The process's uid and gid from the image's `User` or `-u`: numbers, or
//! names looked up in the image's /etc/passwd and /etc/group.

use std::path::Path;

/// `USER[:GROUP]` → (uid, gid); "" is root. A user given by name takes
/// its passwd entry's gid unless a group is given; an unknown uid gets gid 0 (as runc).
pub fn resolve(rootfs: &Path, spec: &str) -> Result<(u32, u32), String> {
    if spec.is_empty() {
        return Ok((0, 0));
    }
    let (u, g) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let (uid, primary) = match u.parse::<u32>() {
        Ok(n) => (
            n,
            lookup(rootfs, "passwd", |f| f[2] == u)
                .ok()
                .flatten()
                .map(|f| f[3].parse().unwrap_or(0))
                .unwrap_or(0),
        ),
        Err(_) => {
            let f = lookup(rootfs, "passwd", |f| f[0] == u)?
                .ok_or_else(|| format!("user {u:?}: no such user in the image's /etc/passwd"))?;
            let uid = f[2]
                .parse()
                .map_err(|_| format!("user {u:?}: bad uid in /etc/passwd"))?;
            let gid = f[3]
                .parse()
                .map_err(|_| format!("user {u:?}: bad gid in /etc/passwd"))?;
            (uid, gid)
        }
    };
    let gid = match g {
        None => primary,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => lookup(rootfs, "group", |f| f[0] == g)?
                .ok_or_else(|| format!("group {g:?}: no such group in the image's /etc/group"))?[2]
                .parse()
                .map_err(|_| format!("group {g:?}: bad gid in /etc/group"))?,
        },
    };
    Ok((uid, gid))
}

/// The first line of the image's /etc/`file` whose fields match. The file
/// and /etc must not be symlinks: a link to a host path would be read on
/// the host (ward reads it before the container exists).
fn lookup(
    rootfs: &Path,
    file: &str,
    pick: impl Fn(&[&str]) -> bool,
) -> Result<Option<Vec<String>>, String> {
    let etc = rootfs.join("etc");
    let path = etc.join(file);
    for p in [&etc, &path] {
        match std::fs::symlink_metadata(p) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "the image's {}: a symlink; give -u UID[:GID]",
                    p.strip_prefix(rootfs).unwrap_or(p).display()
                ))
            }
            Ok(_) => {}
            Err(_) => return Ok(None),
        }
    }
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("the image's /etc/{file}: {e}"))?;
    Ok(text
        .lines()
        .map(|l| l.split(':').collect::<Vec<_>>())
        .find(|f| f.len() >= 4 && pick(f))
        .map(|f| f.iter().map(|s| (*s).to_owned()).collect()))
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn numbers_and_names() {
        let d = tempfile::tempdir().expect("tmp");
        std::fs::create_dir(d.path().join("etc")).expect("etc");
        std::fs::write(
            d.path().join("etc/passwd"),
            "root:x:0:0::/root:/bin/sh\nweb:x:33:34::/:/bin/false\n",
        )
        .expect("passwd");
        std::fs::write(d.path().join("etc/group"), "root:x:0:\nstaff:x:50:\n").expect("group");
        assert_eq!(resolve(d.path(), ""), Ok((0, 0)));
        assert_eq!(resolve(d.path(), "web"), Ok((33, 34)));
        assert_eq!(resolve(d.path(), "33"), Ok((33, 34)));
        assert_eq!(resolve(d.path(), "1000:7"), Ok((1000, 7)));
        assert_eq!(resolve(d.path(), "web:staff"), Ok((33, 50)));
        assert!(resolve(d.path(), "nobody").is_err());
    }
}

//! User namespaces: container root is an unprivileged user on the host.
//!
//! Threat: without a user namespace, uid 0 in the container is uid 0 on the
//! host; any escape (a kernel bug, a mistaken bind mount) is a host root
//! compromise. With one, an escape lands as an unprivileged host uid.

use std::io::Write;
use std::process::Command;

use ward_spec::IdMapping;

use crate::{err, Context, Result};

fn map_text(maps: &[IdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
        .collect()
}

/// Writes the uid and gid maps of `pid` (called by the parent).
///
/// As root every mapping is written directly. An unprivileged caller can
/// write only its own ids; anything more goes through the setuid helpers
/// newuidmap/newgidmap, which check /etc/subuid and /etc/subgid.
pub fn write_maps(pid: i32, uid_maps: &[IdMapping], gid_maps: &[IdMapping]) -> Result<()> {
    let root = nix::unistd::geteuid().is_root();
    let own_only = |maps: &[IdMapping], own: u32| {
        maps.len() == 1 && maps[0].host_id == own && maps[0].size == 1
    };
    let uid_direct = root || own_only(uid_maps, nix::unistd::geteuid().as_raw());
    let gid_direct = root || own_only(gid_maps, nix::unistd::getegid().as_raw());
    if !root && gid_direct {
        // An unprivileged writer of gid_map must first give up setgroups(2),
        // or it could drop a group that denies access (CVE-2014-8989).
        write_proc(pid, "setgroups", "deny")?;
    }
    for (file, helper, maps, direct) in [
        ("uid_map", "newuidmap", uid_maps, uid_direct),
        ("gid_map", "newgidmap", gid_maps, gid_direct),
    ] {
        if direct {
            write_proc(pid, file, &map_text(maps))?;
        } else {
            let mut cmd = Command::new(helper);
            cmd.arg(pid.to_string());
            for m in maps {
                cmd.args([
                    m.container_id.to_string(),
                    m.host_id.to_string(),
                    m.size.to_string(),
                ]);
            }
            let out = cmd.output().layer("userns", || {
                format!("running {helper} (is the uidmap package installed?)")
            })?;
            if !out.status.success() {
                return Err(err(
                    "userns",
                    format!(
                        "{helper} failed: {} (check /etc/sub{}id)",
                        String::from_utf8_lossy(&out.stderr).trim(),
                        &file[..1]
                    ),
                ));
            }
        }
    }
    Ok(())
}

fn write_proc(pid: i32, file: &str, text: &str) -> Result<()> {
    let path = format!("/proc/{pid}/{file}");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .layer("userns", || {
            format!("writing {text:?} to {path} (linux.uidMappings/gidMappings)")
        })
}

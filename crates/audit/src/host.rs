//! The host side of CIS Docker Benchmark sections 1 and 3: ownership and
//! modes of the daemon's files, who can reach its socket (members of the
//! socket's group are root), and audit rules for its files. Pure: the
//! caller stats the files and reads /etc/group, /etc/passwd, `auditctl -l`.

use std::path::{Path, PathBuf};

use ward_policy::Severity::{self, Critical, High, Low, Medium};

use crate::finding::{Check, Finding};

/// What `stat` says of one file.
#[derive(Debug, Clone, PartialEq)]
pub struct FileInfo {
    pub path: PathBuf,
    pub uid: u32,
    pub gid: u32,
    /// Permission bits (with setuid/setgid/sticky).
    pub mode: u32,
}

/// The daemon's files, each with its CIS items and most open mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    DockerSocket,
    ContainerdSocket,
    DaemonJson,
    EtcDocker,
    TlsCaCert,
    TlsCert,
    TlsKey,
    RegistryCert,
    ServiceUnit,
    SocketUnit,
    EtcDefault,
}

struct Rule {
    name: &'static str,
    cis_owner: &'static str,
    cis_mode: &'static str,
    max_mode: u32,
    severity: Severity,
    /// Any group may own it (the socket's group is judged by its members).
    any_group: bool,
    why: &'static str,
}

fn rule(k: Kind) -> Rule {
    let r = |name, cis_owner, cis_mode, max_mode, severity, any_group, why| Rule {
        name,
        cis_owner,
        cis_mode,
        max_mode,
        severity,
        any_group,
        why,
    };
    let config = "whoever can write it changes how dockerd runs every container (privileged defaults, registries, plugins): root on the next restart";
    let cert = "whoever can replace it decides which clients or servers the daemon trusts";
    match k {
        Kind::DockerSocket => r("docker-socket", "3.15", "3.16", 0o660, High, true,
            "whoever can connect to the socket controls dockerd, which is root on the host (docker run --privileged -v /:/host)"),
        Kind::ContainerdSocket => r("containerd-socket", "3.23", "3.24", 0o660, High, false,
            "whoever can connect to containerd's socket starts containers with any privileges, bypassing dockerd and its authorization plugins"),
        Kind::DaemonJson => r("daemon-json", "3.17", "3.18", 0o644, High, false, config),
        Kind::EtcDocker => r("etc-docker", "3.5", "3.6", 0o755, High, false, config),
        Kind::TlsCaCert => r("tls-ca-cert", "3.9", "3.10", 0o444, High, false, cert),
        Kind::TlsCert => r("tls-cert", "3.11", "3.12", 0o444, High, false, cert),
        Kind::TlsKey => r("tls-key", "3.13", "3.14", 0o400, Critical, false,
            "whoever reads the daemon's private key impersonates the daemon to its clients (and whoever writes it replaces it)"),
        Kind::RegistryCert => r("registry-cert", "3.7", "3.8", 0o444, Medium, false,
            "whoever can replace a registry's CA certificate decides which server the pulls trust: their images run"),
        Kind::ServiceUnit => r("service-unit", "3.1", "3.2", 0o644, High, false,
            "whoever can write docker.service sets dockerd's command line: root on the next restart"),
        Kind::SocketUnit => r("socket-unit", "3.3", "3.4", 0o644, High, false,
            "whoever can write docker.socket sets the socket's owner and mode: who may become root"),
        Kind::EtcDefault => r("etc-default-docker", "3.19", "3.20", 0o644, Medium, false, config),
    }
}

/// Ownership and mode findings of one file.
pub fn check_file(kind: Kind, f: &FileInfo) -> Vec<Finding> {
    let r = rule(kind);
    let p = f.path.display();
    let mut out = Vec::new();
    if f.uid != 0 || (!r.any_group && f.gid != 0) {
        let id = format!("host.file.{}.owner", r.name);
        let group = if r.any_group { "" } else { ":root" };
        out.push(Finding {
            id,
            cis: vec![r.cis_owner.to_string()],
            severity: r.severity,
            title: format!("{} is not owned by root{group}", p),
            seen: format!("owner {}:{}", f.uid, f.gid),
            file: Some(f.path.clone()),
            line: None,
            why: r.why.to_string(),
            fix: format!(
                "chown root:{} {p}",
                if r.any_group { "docker" } else { "root" }
            ),
        });
    }
    let extra = f.mode & 0o7777 & !r.max_mode;
    if extra != 0 {
        let world_writable = f.mode & 0o002 != 0;
        out.push(Finding {
            id: format!("host.file.{}.mode", r.name),
            cis: vec![r.cis_mode.to_string()],
            // Writable by everyone: every local user (and every container
            // that can see the file) gets what the owner has.
            severity: if world_writable { Critical } else { r.severity },
            title: format!("{p} is more open than {:o}", r.max_mode),
            seen: format!("mode {:o}", f.mode & 0o7777),
            file: Some(f.path.clone()),
            line: None,
            why: r.why.to_string(),
            fix: format!("chmod {:o} {p}", r.max_mode),
        });
    }
    out
}

pub const GROUP_MEMBERS: Check = Check {
    id: "host.socket.group-members",
    cis: &["1.1.2"],
    severity: High,
    title: "users who can reach the Docker socket through its group: each is root on this host",
    why: "a member of the socket's group runs docker run --privileged -v /:/host and owns the host, without sudo or a password: group membership is root",
    fix: "gpasswd -d USER GROUP for everyone who must not be root; give the others rootless Docker or an authorization plugin (dockerd --authorization-plugin=ward)",
};

/// The users of group `gid`: its member list in /etc/group and the users
/// whose primary group it is in /etc/passwd.
pub fn group_members(
    gid: u32,
    group_text: &str,
    passwd_text: &str,
) -> (Option<String>, Vec<String>) {
    let mut name = None;
    let mut users: Vec<String> = Vec::new();
    for l in group_text.lines() {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 4 && f[2].parse::<u32>().ok() == Some(gid) {
            name = Some(f[0].to_string());
            users.extend(f[3].split(',').filter(|u| !u.is_empty()).map(String::from));
        }
    }
    for l in passwd_text.lines() {
        let f: Vec<&str> = l.split(':').collect();
        if f.len() >= 4 && f[3].parse::<u32>().ok() == Some(gid) {
            users.push(f[0].to_string());
        }
    }
    users.sort();
    users.dedup();
    (name, users)
}

/// Who reaches the socket `sock` through its group (root's group aside:
/// its members are root already).
pub fn socket_reach(sock: &FileInfo, group_text: &str, passwd_text: &str) -> Option<Finding> {
    if sock.gid == 0 || sock.mode & 0o020 == 0 {
        return None;
    }
    let (name, users) = group_members(sock.gid, group_text, passwd_text);
    let users: Vec<String> = users.into_iter().filter(|u| u != "root").collect();
    if users.is_empty() {
        return None;
    }
    let group = name.unwrap_or_else(|| sock.gid.to_string());
    Some(
        GROUP_MEMBERS
            .seen(format!(
                "group {group} (gid {}) can use {}: {}",
                sock.gid,
                sock.path.display(),
                users.join(", ")
            ))
            .in_file(&sock.path, None)
            .fix(format!(
                "{}; or give them rootless Docker or an authorization plugin",
                users
                    .iter()
                    .map(|u| format!("gpasswd -d {u} {group}"))
                    .collect::<Vec<_>>()
                    .join(" && ")
            )),
    )
}

pub const AUDIT_RULE: Check = Check {
    id: "host.audit.missing-rule",
    cis: &["1.1.3"],
    severity: Low,
    title: "no audit rule watches a Docker file",
    why: "changes to the daemon, its configuration or its state leave no trace: a tampered dockerd or daemon.json goes unnoticed",
    fix: "auditctl -w PATH -k docker (and the same line in /etc/audit/rules.d/docker.rules)",
};

/// The files CIS 1.1.3–1.1.18 want watched, with their items.
pub const AUDITED_PATHS: &[(&str, &str)] = &[
    ("/usr/bin/dockerd", "1.1.3"),
    ("/run/containerd", "1.1.4"),
    ("/var/lib/docker", "1.1.5"),
    ("/etc/docker", "1.1.6"),
    ("/lib/systemd/system/docker.service", "1.1.7"),
    ("/run/containerd/containerd.sock", "1.1.8"),
    ("/lib/systemd/system/docker.socket", "1.1.9"),
    ("/etc/default/docker", "1.1.10"),
    ("/etc/docker/daemon.json", "1.1.11"),
    ("/etc/containerd/config.toml", "1.1.12"),
    ("/etc/sysconfig/docker", "1.1.13"),
    ("/usr/bin/containerd", "1.1.14"),
    ("/usr/bin/containerd-shim", "1.1.15"),
    ("/usr/bin/containerd-shim-runc-v1", "1.1.16"),
    ("/usr/bin/containerd-shim-runc-v2", "1.1.17"),
    ("/usr/bin/runc", "1.1.18"),
];

/// The paths of `paths` (with their CIS items) that `auditctl -l` output
/// `rules` has no watch for.
pub fn audit_rules(rules: &str, paths: &[(PathBuf, &str)]) -> Vec<Finding> {
    let watched = |p: &Path| {
        let p = p.to_string_lossy();
        rules.lines().any(|l| {
            l.split_whitespace()
                .collect::<Vec<_>>()
                .windows(2)
                .any(|w| w[0] == "-w" && w[1] == p)
                || l.contains(&format!("path={p} "))
                || l.contains(&format!("dir={p} "))
                || l.ends_with(&format!("path={p}"))
                || l.ends_with(&format!("dir={p}"))
        })
    };
    paths
        .iter()
        .filter(|(p, _)| !watched(p))
        .map(|(p, cis)| {
            let mut f = AUDIT_RULE
                .seen(format!("no rule for {}", p.display()))
                .in_file(p, None)
                .fix(format!("auditctl -w {} -k docker", p.display()));
            f.cis = vec![cis.to_string()];
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fi(path: &str, uid: u32, gid: u32, mode: u32) -> FileInfo {
        FileInfo {
            path: path.into(),
            uid,
            gid,
            mode,
        }
    }

    #[test]
    fn modes_and_owners() {
        let f = check_file(Kind::DockerSocket, &fi("/run/d.sock", 0, 999, 0o666));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].id, "host.file.docker-socket.mode");
        assert_eq!(f[0].severity, Critical);
        assert_eq!(f[0].fix, "chmod 660 /run/d.sock");
        assert!(check_file(Kind::DockerSocket, &fi("/s", 0, 999, 0o660)).is_empty());
        let f = check_file(Kind::TlsKey, &fi("/k", 1000, 0, 0o440));
        let ids: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
        assert_eq!(ids, ["host.file.tls-key.owner", "host.file.tls-key.mode"]);
    }

    #[test]
    fn group_members_are_reported() {
        let group = "root:x:0:\ndocker:x:106:alice,bob\nw:x:900:\n";
        let passwd = "root:x:0:0::/root:/bin/sh\ncarol:x:1002:900::/h:/bin/sh\n";
        let f = socket_reach(&fi("/s", 0, 106, 0o660), group, passwd).expect("found");
        assert!(f.seen.contains("alice, bob"), "{}", f.seen);
        assert!(f.fix.contains("gpasswd -d alice docker"));
        let f = socket_reach(&fi("/s", 0, 900, 0o660), group, passwd).expect("primary group");
        assert!(f.seen.contains("carol"));
        assert!(socket_reach(&fi("/s", 0, 0, 0o660), group, passwd).is_none());
        assert!(socket_reach(&fi("/s", 0, 106, 0o600), group, passwd).is_none());
    }

    #[test]
    fn audit_rules_by_path() {
        let rules = "-w /usr/bin/dockerd -p wa -k docker\n-a always,exit -F arch=b64 -F path=/etc/docker -F perm=wa\n";
        let paths = vec![
            (PathBuf::from("/usr/bin/dockerd"), "1.1.3"),
            (PathBuf::from("/etc/docker"), "1.1.6"),
            (PathBuf::from("/var/lib/docker"), "1.1.5"),
        ];
        let f = audit_rules(rules, &paths);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].cis, ["1.1.5"]);
    }
}

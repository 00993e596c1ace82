//! `ward audit host`: reads the Docker host (the running dockerd's command
//! line from /proc, daemon.json, the daemon's files, /etc/group and
//! /etc/passwd, `auditctl -l`, the Docker API's containers) and hands it to
//! ward-audit's pure checks.

use std::io::{Read, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use serde_json::Value;
use ward_audit::daemon::{self, DaemonConfig};
use ward_audit::host::{self, FileInfo, Kind};
use ward_audit::{containers, Finding, Report, Skip};
use ward_cli::HostArgs;

/// Exit code of an error of ward itself.
const EXIT_ERROR: u8 = 125;

/// One dockerd to audit: its pid and arguments (none when no dockerd runs:
/// daemon.json alone is audited).
struct Daemon {
    pid: Option<u32>,
    args: Vec<String>,
}

fn cmdline(pid: u32) -> Result<Vec<String>, String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline"))
        .map_err(|e| format!("dockerd pid {pid}: /proc/{pid}/cmdline: {e}"))?;
    Ok(raw
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .skip(1)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect())
}

/// The dockerd of `--pid-file`, else every process named dockerd.
fn daemons(a: &HostArgs) -> Result<Vec<Daemon>, String> {
    if let Some(pf) = &a.pid_file {
        let text =
            std::fs::read_to_string(pf).map_err(|e| format!("--pid-file {}: {e}", pf.display()))?;
        let pid: u32 = text
            .trim()
            .parse()
            .map_err(|_| format!("--pid-file {}: not a pid: {:?}", pf.display(), text.trim()))?;
        return Ok(vec![Daemon {
            pid: Some(pid),
            args: cmdline(pid)?,
        }]);
    }
    let mut out = Vec::new();
    let entries = std::fs::read_dir("/proc").map_err(|e| format!("/proc: {e}"))?;
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
            continue;
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if comm.trim() == "dockerd" {
            if let Ok(args) = cmdline(pid) {
                out.push(Daemon {
                    pid: Some(pid),
                    args,
                });
            }
        }
    }
    out.sort_by_key(|d| d.pid);
    if out.is_empty() {
        out.push(Daemon {
            pid: None,
            args: Vec::new(),
        });
    }
    Ok(out)
}

/// The systemd units of dockerd, where they are.
fn unit(name: &str) -> Option<PathBuf> {
    [
        "/etc/systemd/system",
        "/lib/systemd/system",
        "/usr/lib/systemd/system",
    ]
    .iter()
    .map(|d| Path::new(d).join(name))
    .find(|p| p.exists())
}

/// docker.socket's paths, for `-H fd://`.
fn activated_sockets() -> Vec<PathBuf> {
    unit("docker.socket")
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| daemon::listen_streams(&t))
        .unwrap_or_default()
}

fn stat(p: &Path) -> Option<FileInfo> {
    let m = std::fs::metadata(p).ok()?;
    Some(FileInfo {
        path: p.to_path_buf(),
        uid: m.uid(),
        gid: m.gid(),
        mode: m.mode() & 0o7777,
    })
}

/// The daemon's files with their kinds (those that exist).
fn files(cfg: &DaemonConfig, config_path: &Path) -> Vec<(Kind, FileInfo)> {
    let mut want: Vec<(Kind, PathBuf)> = cfg
        .unix_sockets(&activated_sockets())
        .into_iter()
        .map(|p| (Kind::DockerSocket, p))
        .collect();
    want.push((Kind::DaemonJson, config_path.to_path_buf()));
    let conf_dir = config_path.parent().unwrap_or(Path::new("/etc/docker"));
    want.push((Kind::EtcDocker, conf_dir.to_path_buf()));
    for (key, kind) in [
        ("tlscacert", Kind::TlsCaCert),
        ("tlscert", Kind::TlsCert),
        ("tlskey", Kind::TlsKey),
    ] {
        if let Some(p) = cfg.string(key) {
            want.push((kind, PathBuf::from(p)));
        }
    }
    // Registry certificates: certs.d/HOST/*.
    for dir in std::fs::read_dir(conf_dir.join("certs.d"))
        .into_iter()
        .flatten()
        .flatten()
    {
        for f in std::fs::read_dir(dir.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            want.push((Kind::RegistryCert, f.path()));
        }
    }
    for (name, kind) in [
        ("docker.service", Kind::ServiceUnit),
        ("docker.socket", Kind::SocketUnit),
    ] {
        if let Some(p) = unit(name) {
            want.push((kind, p));
        }
    }
    want.push((Kind::EtcDefault, PathBuf::from("/etc/default/docker")));
    // containerd's socket: --containerd, else the one dockerd starts under
    // its exec root, else the system containerd's.
    let exec_root = cfg.string("exec-root").unwrap_or("/var/run/docker");
    let containerd = cfg
        .string("containerd")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            Path::new(exec_root).join("containerd/containerd.sock"),
            PathBuf::from("/run/containerd/containerd.sock"),
        ])
        .find(|p| p.exists());
    if let Some(p) = containerd {
        want.push((Kind::ContainerdSocket, p));
    }
    want.into_iter()
        .filter_map(|(k, p)| stat(&p).map(|f| (k, f)))
        .collect()
}

/// `auditctl -l`'s rules, or why they cannot be read.
fn audit_rules(cfg: &DaemonConfig, config_path: &Path, r: &mut Report) {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .chain([PathBuf::from("/sbin"), PathBuf::from("/usr/sbin")])
        .map(|d| d.join("auditctl"))
        .find(|p| p.exists());
    let Some(auditctl) = found else {
        r.skipped.push(Skip {
            id: host::AUDIT_RULE.id.into(),
            reason: "auditctl not found (Debian package auditd): the audit rules for dockerd's files were not checked".into(),
        });
        return;
    };
    let out = match std::process::Command::new(&auditctl).arg("-l").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => {
            let reason = format!(
                "auditctl -l failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            );
            r.skipped.push(Skip {
                id: host::AUDIT_RULE.id.into(),
                reason,
            });
            return;
        }
        Err(e) => {
            r.skipped.push(Skip {
                id: host::AUDIT_RULE.id.into(),
                reason: format!("auditctl: {e}"),
            });
            return;
        }
    };
    let mut paths: Vec<(PathBuf, &str)> = host::AUDITED_PATHS
        .iter()
        .map(|(p, c)| (PathBuf::from(p), *c))
        .collect();
    paths.push((config_path.to_path_buf(), "1.1.11"));
    paths.push((
        PathBuf::from(cfg.string("data-root").unwrap_or("/var/lib/docker")),
        "1.1.5",
    ));
    paths.sort();
    paths.dedup_by(|a, b| a.0 == b.0);
    paths.retain(|(p, _)| p.exists());
    r.findings.extend(host::audit_rules(&out, &paths));
}

/// GET `path` from the Docker API on the unix socket `sock` (HTTP/1.0:
/// the daemon closes the connection and sends no chunked body).
fn api_get(sock: &Path, path: &str) -> Result<Value, String> {
    let mut s = UnixStream::connect(sock).map_err(|e| format!("{}: {e}", sock.display()))?;
    let t = Some(Duration::from_secs(10));
    s.set_read_timeout(t)
        .and_then(|_| s.set_write_timeout(t))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: docker\r\nUser-Agent: ward-audit\r\n\r\n"
    )
    .map_err(|e| format!("{}: {e}", sock.display()))?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)
        .map_err(|e| format!("{}: {e}", sock.display()))?;
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    let status = head.lines().next().unwrap_or("");
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("GET {path}: {status}: {}", body.trim()));
    }
    let chunked = head.lines().any(|l| {
        l.to_ascii_lowercase()
            .starts_with("transfer-encoding: chunked")
    });
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    serde_json::from_str(&body).map_err(|e| format!("GET {path}: {e}"))
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        s = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// Section 5 for the running containers, through the API.
fn api_containers(cfg: &DaemonConfig, daemon_report: &mut Report) -> Vec<Report> {
    let skip = |reason: String| Skip {
        id: "container.*".into(),
        reason,
    };
    let Some(sock) = cfg
        .unix_sockets(&activated_sockets())
        .into_iter()
        .find(|p| p.exists())
    else {
        daemon_report.skipped.push(skip(
            "no unix socket of dockerd exists here: running containers not audited".into(),
        ));
        return Vec::new();
    };
    let list = match api_get(&sock, "/containers/json") {
        Ok(Value::Array(l)) => l,
        Ok(v) => {
            daemon_report
                .skipped
                .push(skip(format!("GET /containers/json: not a list: {v}")));
            return Vec::new();
        }
        Err(e) => {
            daemon_report
                .skipped
                .push(skip(format!("the Docker API is not reachable: {e}")));
            return Vec::new();
        }
    };
    let nnp = cfg.bool("no-new-privileges", false);
    let mut out = Vec::new();
    for c in list {
        let Some(id) = c["Id"].as_str() else { continue };
        let short = id.get(..12).unwrap_or(id);
        let name = c["Names"][0].as_str().unwrap_or("").trim_start_matches('/');
        let mut r = Report::new(format!(
            "container {name} ({short}, docker {})",
            sock.display()
        ));
        match api_get(&sock, &format!("/containers/{id}/json")) {
            Ok(v) => r.findings = containers::check(&v, nnp),
            Err(e) => r.skipped.push(skip(e)),
        }
        r.sort();
        out.push(r);
    }
    out
}

fn audit_daemon(a: &HostArgs, d: &Daemon) -> Result<Vec<Report>, String> {
    let from_cmdline = daemon::parse_cmdline(&d.args)
        .get("config-file")
        .and_then(|s| s.values.last().cloned());
    let config_path = a
        .config_file
        .clone()
        .or(from_cmdline.map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("/etc/docker/daemon.json"));
    let text = match std::fs::read_to_string(&config_path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: {e}", config_path.display())),
    };
    let cfg = DaemonConfig::merge(&config_path, text.as_deref(), &d.args)?;
    let target = match d.pid {
        Some(pid) => format!("dockerd (pid {pid}, {})", config_path.display()),
        None => format!("host (no dockerd running; {})", config_path.display()),
    };
    let mut r = Report::new(target);
    r.findings = daemon::check(&cfg);
    let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for (kind, f) in files(&cfg, &config_path) {
        r.findings.extend(host::check_file(kind, &f));
        if kind == Kind::DockerSocket {
            r.findings.extend(host::socket_reach(&f, &group, &passwd));
        }
    }
    audit_rules(&cfg, &config_path, &mut r);
    let mut reports = Vec::new();
    if !a.no_containers && d.pid.is_some() {
        reports = api_containers(&cfg, &mut r);
    }
    r.sort();
    reports.insert(0, r);
    Ok(reports)
}

pub fn main(a: HostArgs) -> ExitCode {
    let fail = |e: String| {
        eprintln!("ward audit host: {e}");
        ExitCode::from(EXIT_ERROR)
    };
    let ds = match daemons(&a) {
        Ok(d) => d,
        Err(e) => return fail(e),
    };
    let mut reports = Vec::new();
    for d in &ds {
        match audit_daemon(&a, d) {
            Ok(r) => reports.extend(r),
            Err(e) => return fail(e),
        }
    }
    if let Some(root) = &a.root {
        match crate::audit::audit_root(root) {
            Ok(rs) => reports.extend(rs.into_iter().map(|r| {
                let mut c = Report::new(r.target);
                c.findings = r.findings.iter().map(Finding::from_policy).collect();
                c.sort();
                c
            })),
            Err(e) => return fail(e),
        }
    }
    crate::audit::output(&reports, &a.output)
}

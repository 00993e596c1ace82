//! dockerd's effective configuration: daemon.json merged with the running
//! daemon's command line (a flag wins; dockerd itself refuses a setting
//! given in both), and the CIS Docker Benchmark section 2 checks on it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use ward_policy::Severity::{Critical, High, Low, Medium};

use crate::finding::{Check, Finding};

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// daemon.json, at this line (of the key's first mention).
    File(PathBuf, Option<u32>),
    /// dockerd's command line.
    Flag(String),
    /// dockerd's default.
    Default,
}

/// One setting's values (lists such as hosts keep every value).
#[derive(Debug, Clone, PartialEq)]
pub struct Setting {
    pub values: Vec<String>,
    pub source: Source,
}

/// The effective configuration, by daemon.json key.
#[derive(Debug, Clone, Default)]
pub struct DaemonConfig {
    pub settings: BTreeMap<String, Setting>,
}

/// dockerd's flags that take no value (`--icc` alone means true).
const BOOL_FLAGS: &[&str] = &[
    "icc",
    "tls",
    "tlsverify",
    "live-restore",
    "userland-proxy",
    "no-new-privileges",
    "experimental",
    "iptables",
    "ip6tables",
    "ip-forward",
    "ip-masq",
    "ipv6",
    "debug",
    "selinux-enabled",
    "rootless",
    "init",
    "raw-logs",
    "validate",
    "version",
    "help",
];

/// Flag names (and short forms) to daemon.json keys where they differ.
fn key_of(flag: &str) -> &str {
    match flag {
        "H" | "host" => "hosts",
        "insecure-registry" => "insecure-registries",
        "authorization-plugin" => "authorization-plugins",
        "default-ulimit" => "default-ulimits",
        "l" => "log-level",
        "G" => "group",
        "D" => "debug",
        "p" => "pidfile",
        "s" => "storage-driver",
        "b" => "bridge",
        "g" | "graph" => "data-root",
        "registry-mirror" => "registry-mirrors",
        "log-opt" => "log-opts",
        "exec-opt" => "exec-opts",
        "storage-opt" => "storage-opts",
        f => f,
    }
}

/// dockerd's command line as settings (argv without the program name).
/// dockerd takes no positional arguments, so a word after a value flag
/// is its value.
pub fn parse_cmdline(args: &[String]) -> BTreeMap<String, Setting> {
    let mut out: BTreeMap<String, Setting> = BTreeMap::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        i += 1;
        let Some(f) = a.strip_prefix("--").or_else(|| a.strip_prefix('-')) else {
            continue;
        };
        let (name, inline) = match f.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (f, None),
        };
        let key = key_of(name).to_string();
        let value = match inline {
            Some(v) => v,
            None if BOOL_FLAGS.contains(&key.as_str()) => "true".into(),
            None => match args.get(i) {
                Some(v) => {
                    i += 1;
                    v.clone()
                }
                None => String::new(),
            },
        };
        let s = out.entry(key).or_insert_with(|| Setting {
            values: Vec::new(),
            source: Source::Flag(a.clone()),
        });
        s.values.push(value);
    }
    out
}

/// The line of `"key"` in a JSON text (1-based), for evidence.
fn line_of(text: &str, key: &str) -> Option<u32> {
    let needle = format!("\"{key}\"");
    text.lines()
        .position(|l| l.contains(&needle))
        .map(|i| i as u32 + 1)
}

fn json_values(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().flat_map(json_values).collect(),
        Value::String(s) => vec![s.clone()],
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", json_values(v).join(":")))
            .collect(),
        Value::Null => Vec::new(),
        v => vec![v.to_string()],
    }
}

impl DaemonConfig {
    /// daemon.json `text` (from `path`; None: no file) merged with the
    /// command line `args`.
    pub fn merge(path: &Path, text: Option<&str>, args: &[String]) -> Result<DaemonConfig, String> {
        let mut settings = BTreeMap::new();
        if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
            let v: Value = serde_json::from_str(text)
                .map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
            let Value::Object(m) = v else {
                return Err(format!("{}: not a JSON object", path.display()));
            };
            for (k, v) in m {
                let line = line_of(text, &k);
                settings.insert(
                    k,
                    Setting {
                        values: json_values(&v),
                        source: Source::File(path.to_path_buf(), line),
                    },
                );
            }
        }
        settings.extend(parse_cmdline(args));
        Ok(DaemonConfig { settings })
    }

    pub fn values(&self, key: &str) -> &[String] {
        self.settings
            .get(key)
            .map(|s| s.values.as_slice())
            .unwrap_or(&[])
    }

    /// The last value of a boolean setting, else `default`.
    pub fn bool(&self, key: &str, default: bool) -> bool {
        self.values(key)
            .last()
            .map(|v| v == "true" || v == "1")
            .unwrap_or(default)
    }

    pub fn string(&self, key: &str) -> Option<&str> {
        self.values(key)
            .last()
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }

    /// The hosts dockerd listens on (its default: the unix socket).
    pub fn hosts(&self) -> Vec<String> {
        let h = self.values("hosts");
        if h.is_empty() {
            vec!["unix:///var/run/docker.sock".into()]
        } else {
            h.to_vec()
        }
    }

    /// The unix socket paths among the hosts; `-H fd://` (systemd socket
    /// activation, Debian's default) stands for `activated` (docker.socket's
    /// ListenStream paths), else /run/docker.sock.
    pub fn unix_sockets(&self, activated: &[PathBuf]) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for h in self.hosts() {
            if let Some(p) = h
                .strip_prefix("unix://")
                .or_else(|| h.starts_with('/').then_some(h.as_str()))
            {
                out.push(PathBuf::from(p));
            } else if h.starts_with("fd://") {
                match activated {
                    [] => out.push(PathBuf::from("/run/docker.sock")),
                    a => out.extend(a.iter().cloned()),
                }
            }
        }
        out.dedup();
        out
    }

    /// A finding of `check` about `key`, placed where the key was set.
    fn finding(&self, check: &Check, key: &str, seen: impl Into<String>) -> Finding {
        let f = check.seen(seen);
        match self.settings.get(key).map(|s| &s.source) {
            Some(Source::File(p, line)) => f.in_file(p, *line),
            _ => f,
        }
    }

    /// What a setting is and where from, for evidence.
    fn describe(&self, key: &str, default: &str) -> String {
        match self.settings.get(key) {
            Some(s) => {
                let v = s.values.join(", ");
                match &s.source {
                    Source::File(p, _) => format!("\"{key}\": {v} in {}", p.display()),
                    // `--icc=false` names its value; `--userns-remap default` not.
                    Source::Flag(f) if f.contains('=') || v == "true" => {
                        format!("{f} on dockerd's command line")
                    }
                    Source::Flag(f) => format!("{f} {v} on dockerd's command line"),
                    Source::Default => format!("{key} = {v} (default)"),
                }
            }
            None => format!("{key} not set (dockerd's default: {default})"),
        }
    }
}

/// The unix socket paths of a systemd socket unit (`ListenStream=/path`).
pub fn listen_streams(unit: &str) -> Vec<PathBuf> {
    unit.lines()
        .filter_map(|l| l.trim().strip_prefix("ListenStream="))
        .map(str::trim)
        .filter(|p| p.starts_with('/'))
        .map(PathBuf::from)
        .collect()
}

macro_rules! check {
    ($name:ident, $id:expr, [$($cis:expr),*], $sev:expr, $title:expr, $why:expr, $fix:expr) => {
        pub const $name: Check = Check { id: $id, cis: &[$($cis),*], severity: $sev, title: $title, why: $why, fix: $fix };
    };
}

check!(ICC, "host.daemon.icc", ["2.2"], Medium,
    "containers on the default bridge can reach each other (icc)",
    "one compromised container can attack every other container's ports on docker0, including services never published",
    "\"icc\": false in /etc/docker/daemon.json (or dockerd --icc=false); connect containers that must talk with user-defined networks");
check!(LOG_LEVEL, "host.daemon.log-level", ["2.3"], Low,
    "dockerd's log level is not info",
    "debug logs record request bodies and environment values (secrets); warn or error loses the record of who did what",
    "\"log-level\": \"info\" in /etc/docker/daemon.json");
check!(IPTABLES, "host.daemon.iptables", ["2.4"], Low,
    "dockerd may not manage iptables",
    "hand-kept rules drift from the containers' networks: ports end up open or isolation rules missing",
    "remove --iptables=false (\"iptables\": true), unless another firewall manager owns the rules by design");
check!(INSECURE_REGISTRY, "host.daemon.insecure-registry", ["2.5"], High,
    "an insecure registry (plain HTTP or unverified TLS)",
    "anyone on the network path can serve their own image for a pull from it: code execution in every container started from it",
    "remove it from \"insecure-registries\" (and --insecure-registry); give the registry a certificate under /etc/docker/certs.d/HOST/ca.crt");
check!(AUFS, "host.daemon.aufs", ["2.6"], Low,
    "the aufs storage driver",
    "aufs is unmaintained and has had kernel crashes and privilege bugs; it is removed from current Docker",
    "\"storage-driver\": \"overlay2\"");
check!(TCP_NO_TLS, "host.daemon.tcp-without-tls", ["2.7"], Critical,
    "the Docker API listens on TCP without TLS client verification",
    "anyone who can reach the port controls dockerd, which is root on the host: docker -H tcp://HOST run --privileged -v /:/host gives them the machine",
    "listen on the unix socket only, or add --tlsverify --tlscacert ca.pem --tlscert server-cert.pem --tlskey server-key.pem (\"tlsverify\": true in daemon.json)");
check!(ULIMITS, "host.daemon.default-ulimits", ["2.8"], Low,
    "no default ulimits for containers",
    "a container without nofile/nproc limits can exhaust the host's file descriptors or processes (a fork bomb denies service to every container)",
    "\"default-ulimits\": {\"nofile\": {\"Name\": \"nofile\", \"Hard\": 64000, \"Soft\": 64000}, \"nproc\": {\"Name\": \"nproc\", \"Hard\": 4096, \"Soft\": 4096}}");
check!(USERNS, "host.daemon.userns-remap", ["2.9"], Medium,
    "no user namespace remapping",
    "root in a container is uid 0 on the host: an escape (runtime or kernel bug, a bad mount) is an escape as root",
    "\"userns-remap\": \"default\" in /etc/docker/daemon.json (creates the dockremap user; /etc/subuid and /etc/subgid need its range)");
check!(AUTHZ, "host.daemon.authorization-plugin", ["2.12"], Medium,
    "no authorization plugin",
    "every client of the socket may do everything: start privileged containers, mount the host's /, exec into any container",
    "dockerd --authorization-plugin=ward (\"authorization-plugins\": [\"ward\"]; see ward authz-plugin)");
check!(LOG_DRIVER, "host.daemon.log-driver", ["2.13"], Low,
    "container logs stay on this host only",
    "an attacker who gets root on the host deletes the logs that show how: nothing survives off the host",
    "\"log-driver\": \"syslog\" (or journald, fluentd, gelf) with \"log-opts\" pointing at a remote collector");
check!(NO_NEW_PRIVS, "host.daemon.no-new-privileges", ["2.14"], Medium,
    "containers may gain privileges (no-new-privileges is off)",
    "a setuid binary or file capability in an image raises a container process back to root and to capabilities it was not given",
    "\"no-new-privileges\": true in /etc/docker/daemon.json");
check!(LIVE_RESTORE, "host.daemon.live-restore", ["2.15"], Low,
    "live restore is off",
    "every dockerd restart (including security updates) stops all containers, so updates get postponed",
    "\"live-restore\": true in /etc/docker/daemon.json");
check!(USERLAND_PROXY, "host.daemon.userland-proxy", ["2.16"], Low,
    "the userland proxy is on",
    "a docker-proxy process per published port adds root-run network code and hides client addresses from the container",
    "\"userland-proxy\": false in /etc/docker/daemon.json");
check!(SECCOMP, "host.daemon.seccomp-unconfined", ["2.17", "5.22"], High,
    "the daemon-wide seccomp profile is unconfined",
    "every container gets the whole syscall table: kernel bugs in keyctl, bpf, userfaultfd and the mount API become container escapes",
    "remove \"seccomp-profile\": \"unconfined\" (Docker's default profile applies) or point it at a reviewed profile");
check!(
    EXPERIMENTAL,
    "host.daemon.experimental",
    ["2.18"],
    Low,
    "experimental features are on",
    "experimental code paths get less review and no stability or security guarantees",
    "\"experimental\": false (remove --experimental)"
);
check!(TLS_NO_VERIFY, "host.daemon.tls-without-verify", ["2.7"], Critical,
    "TLS on the TCP socket without client verification (--tls without --tlsverify)",
    "the traffic is encrypted but any client is accepted: anyone who reaches the port is root on the host",
    "--tlsverify --tlscacert ca.pem (\"tlsverify\": true, \"tlscacert\": \"/etc/docker/ca.pem\")");

/// Every daemon check, for docs and listings.
pub const CHECKS: &[&Check] = &[
    &ICC,
    &LOG_LEVEL,
    &IPTABLES,
    &INSECURE_REGISTRY,
    &AUFS,
    &TCP_NO_TLS,
    &TLS_NO_VERIFY,
    &ULIMITS,
    &USERNS,
    &AUTHZ,
    &LOG_DRIVER,
    &NO_NEW_PRIVS,
    &LIVE_RESTORE,
    &USERLAND_PROXY,
    &SECCOMP,
    &EXPERIMENTAL,
];

/// CIS section 2 on the effective configuration.
pub fn check(c: &DaemonConfig) -> Vec<Finding> {
    let mut out = Vec::new();
    if c.bool("icc", true) {
        out.push(c.finding(&ICC, "icc", c.describe("icc", "true")));
    }
    if let Some(l) = c.string("log-level").filter(|l| *l != "info") {
        out.push(c.finding(&LOG_LEVEL, "log-level", format!("log-level {l}")));
    } else if c.bool("debug", false) {
        out.push(c.finding(&LOG_LEVEL, "debug", c.describe("debug", "false")));
    }
    if !c.bool("iptables", true) {
        out.push(c.finding(&IPTABLES, "iptables", c.describe("iptables", "true")));
    }
    for r in c.values("insecure-registries") {
        out.push(c.finding(
            &INSECURE_REGISTRY,
            "insecure-registries",
            format!("insecure registry {r}"),
        ));
    }
    if c.string("storage-driver") == Some("aufs") {
        out.push(c.finding(
            &AUFS,
            "storage-driver",
            c.describe("storage-driver", "overlay2"),
        ));
    }
    let tcp: Vec<&String> = c.hosts_ref().filter(|h| h.starts_with("tcp://")).collect();
    if !tcp.is_empty() && !c.bool("tlsverify", false) {
        let check = if c.bool("tls", false) {
            &TLS_NO_VERIFY
        } else {
            &TCP_NO_TLS
        };
        for h in tcp {
            out.push(c.finding(check, "hosts", format!("-H {h} without --tlsverify")));
        }
    }
    if c.values("default-ulimits").is_empty() {
        out.push(ULIMITS.seen(c.describe("default-ulimits", "none")));
    }
    if c.string("userns-remap").is_none() {
        out.push(USERNS.seen(c.describe("userns-remap", "none")));
    }
    if c.values("authorization-plugins")
        .iter()
        .all(|p| p.is_empty())
    {
        out.push(AUTHZ.seen(c.describe("authorization-plugins", "none")));
    }
    let driver = c.string("log-driver").unwrap_or("json-file");
    if matches!(driver, "json-file" | "local" | "none") {
        out.push(c.finding(&LOG_DRIVER, "log-driver", format!("log-driver {driver}")));
    }
    if !c.bool("no-new-privileges", false) {
        out.push(c.finding(
            &NO_NEW_PRIVS,
            "no-new-privileges",
            c.describe("no-new-privileges", "false"),
        ));
    }
    if !c.bool("live-restore", false) {
        out.push(c.finding(
            &LIVE_RESTORE,
            "live-restore",
            c.describe("live-restore", "false"),
        ));
    }
    if c.bool("userland-proxy", true) {
        out.push(c.finding(
            &USERLAND_PROXY,
            "userland-proxy",
            c.describe("userland-proxy", "true"),
        ));
    }
    if c.string("seccomp-profile") == Some("unconfined") {
        out.push(c.finding(
            &SECCOMP,
            "seccomp-profile",
            c.describe("seccomp-profile", "default"),
        ));
    }
    if c.bool("experimental", false) {
        out.push(c.finding(
            &EXPERIMENTAL,
            "experimental",
            c.describe("experimental", "false"),
        ));
    }
    out
}

impl DaemonConfig {
    fn hosts_ref(&self) -> impl Iterator<Item = &String> {
        self.values("hosts").iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn merges_file_and_flags() {
        let json = "{\n  \"icc\": false,\n  \"insecure-registries\": [\"r.example:5000\"],\n  \"live-restore\": true\n}\n";
        let c = DaemonConfig::merge(
            Path::new("/etc/docker/daemon.json"),
            Some(json),
            &argv("-H unix:///run/d.sock -H tcp://127.0.0.1:2375 --userns-remap default --no-new-privileges --iptables=false"),
        )
        .expect("parses");
        assert_eq!(c.hosts(), ["unix:///run/d.sock", "tcp://127.0.0.1:2375"]);
        assert_eq!(c.unix_sockets(&[]), [PathBuf::from("/run/d.sock")]);
        let fd = DaemonConfig::merge(
            Path::new("x"),
            None,
            &argv("-H fd:// --containerd=/run/containerd/containerd.sock"),
        )
        .expect("ok");
        assert_eq!(fd.unix_sockets(&[]), [PathBuf::from("/run/docker.sock")]);
        let unit = "[Socket]\nListenStream=/run/docker.sock\nSocketMode=0660\nSocketGroup=docker\n";
        assert_eq!(listen_streams(unit), [PathBuf::from("/run/docker.sock")]);
        assert_eq!(
            fd.unix_sockets(&[PathBuf::from("/x.sock")]),
            [PathBuf::from("/x.sock")]
        );
        let f = check(&c);
        let ids: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
        assert!(ids.contains(&"host.daemon.tcp-without-tls"), "{ids:?}");
        assert!(ids.contains(&"host.daemon.iptables"), "{ids:?}");
        assert!(!ids.contains(&"host.daemon.icc"), "{ids:?}");
        assert!(!ids.contains(&"host.daemon.userns-remap"), "{ids:?}");
        assert!(!ids.contains(&"host.daemon.no-new-privileges"), "{ids:?}");
        let reg = f
            .iter()
            .find(|f| f.id == "host.daemon.insecure-registry")
            .expect("registry");
        assert_eq!(reg.line, Some(3));
        assert!(reg.seen.contains("r.example:5000"));
        let c = DaemonConfig::merge(
            Path::new("x"),
            None,
            &argv("--tlsverify -H tcp://0.0.0.0:2376"),
        )
        .expect("ok");
        assert!(!check(&c).iter().any(|f| f.id.contains("tls")));
        assert!(DaemonConfig::merge(Path::new("x"), Some("[1]"), &[]).is_err());
    }
}

#[cfg(test)]
mod describe_tests {
    use super::*;

    #[test]
    fn evidence_names_the_flag_once() {
        let args: Vec<String> = ["--icc=true", "--experimental", "--log-level", "debug"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let c = DaemonConfig::merge(Path::new("x"), None, &args).expect("ok");
        let f = check(&c);
        let seen = |id: &str| f.iter().find(|f| f.id == id).map(|f| f.seen.clone());
        assert_eq!(
            seen("host.daemon.icc").as_deref(),
            Some("--icc=true on dockerd's command line")
        );
        assert_eq!(
            seen("host.daemon.experimental").as_deref(),
            Some("--experimental on dockerd's command line")
        );
        assert_eq!(
            seen("host.daemon.log-level").as_deref(),
            Some("log-level debug")
        );
    }
}

//! `ward audit host` and `ward audit dockerfile` through the built `ward`
//! binary; the host cases against a private dockerd started twice, weak
//! then hardened (acceptance 2 of issue 21). Host only (ward-audit is in
//! scripts/vm/vm.py's HOST_ONLY): the dockerd cases need Debian's dockerd,
//! root, useradd and openssl, and SKIP without them.
//!
//! dockerd runs as tests/clients/run.sh starts it: in a private mount
//! namespace with its own tmpfs /run (the host's /run/docker* and
//! /run/containerd are never touched), its own data-root, exec-root, pid
//! file and sockets under the test's directory, `--bridge=none`, cgroupfs;
//! and in a network namespace of its own, so that its iptables rules
//! (icc=false needs them: dockerd refuses --icc=false with
//! --iptables=false) and its TCP port never reach the host's. A guard stops it and undoes every host change
//! (test user and group, /etc/subuid and /etc/subgid, the dockremap user
//! that userns-remap creates), also when the test fails.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn ward() -> Option<PathBuf> {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if !t.is_empty() && Path::new(&t).is_absolute() => PathBuf::from(t),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
    };
    let p = target.join("debug/ward");
    if p.exists() {
        Some(p)
    } else {
        println!(
            "SKIP: {} not built (cargo build --workspace first)",
            p.display()
        );
        None
    }
}

fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/dockerfiles")
        .join(name)
}

fn run(cmd: &mut Command) -> (i32, String, String) {
    let o = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn dockerfile_cli_formats_and_exit_codes() {
    let Some(ward) = ward() else { return };
    let weak = testdata("weak-basics.Dockerfile");
    let clean = testdata("clean-debian.Dockerfile");
    let (code, out, err) = run(Command::new(&ward)
        .args(["audit", "dockerfile", "--format", "sarif"])
        .arg(&weak)
        .arg(&clean));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(v["version"], "2.1.0");
    let results = v["runs"][0]["results"].as_array().expect("results");
    assert_eq!(results.len(), 14, "{out}");
    let rules = v["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .expect("rules");
    for r in results {
        let i = r["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(rules[i]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert!(loc["artifactLocation"]["uri"].as_str().is_some_and(|u| u.starts_with("file:///") && u.ends_with("weak-basics.Dockerfile")), "{r}");
        assert!(
            loc["region"]["startLine"].as_u64().is_some_and(|l| l >= 1),
            "{r}"
        );
    }
    let (code, out, _) = run(Command::new(&ward)
        .args(["audit", "dockerfile", "--fail-on", "high"])
        .arg(&weak));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("dockerfile.curl-pipe-shell") && out.contains("fix: "),
        "{out}"
    );
    let (code, out, _) = run(Command::new(&ward)
        .args(["audit", "dockerfile", "--fail-on", "low", "--json"])
        .arg(&clean));
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v[0]["findings"], serde_json::json!([]), "{out}");
    let (code, _, err) =
        run(Command::new(&ward).args(["audit", "dockerfile", "/nonexistent/Dockerfile"]));
    assert_eq!(code, 125, "{err}");
}

/// ward's policy rules, all set to warn for the weak container.
const RULE_IDS: &[&str] = &[
    "privileged",
    "caps.host-kernel",
    "seccomp.unconfined-sys-admin",
    "seccomp.missing",
    "lsm.unconfined",
    "namespace.host-pid-ptrace",
    "namespace.host-pid",
    "namespace.host-net",
    "namespace.host-ipc",
    "namespace.host-uts",
    "namespace.host-user",
    "namespace.host-cgroup",
    "cgroup.root",
    "mount.sensitive-host-path",
    "mount.runtime-socket",
    "mount.propagation-shared",
    "device.all",
    "device.host",
    "sysctl.unsafe",
    "hooks.host-command",
];

/// Everything the host tests change, undone on drop.
struct Guard {
    dir: PathBuf,
    dockerd: Option<Child>,
    user: Option<String>,
    group: Option<String>,
    /// /etc/subuid and /etc/subgid as they were (None: absent).
    subids: Vec<(PathBuf, Option<Vec<u8>>)>,
    /// dockremap did not exist before: remove it.
    remove_dockremap: bool,
}

impl Guard {
    fn new(name: &str) -> Guard {
        let dir = std::env::temp_dir().join(format!("ward-audit-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Guard {
            dir,
            dockerd: None,
            user: None,
            group: None,
            subids: Vec::new(),
            remove_dockremap: false,
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn stop_dockerd(&mut self) {
        if let Some(mut c) = self.dockerd.take() {
            let pid = nix::unistd::Pid::from_raw(c.id() as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.stop_dockerd();
        if let Some(u) = self.user.take() {
            let _ = Command::new("userdel").arg(&u).status();
        }
        if let Some(g) = self.group.take() {
            let _ = Command::new("groupdel").arg(&g).status();
        }
        if self.remove_dockremap {
            let _ = Command::new("userdel")
                .arg("dockremap")
                .stderr(Stdio::null())
                .status();
            let _ = Command::new("groupdel")
                .arg("dockremap")
                .stderr(Stdio::null())
                .status();
        }
        for (p, content) in self.subids.drain(..) {
            match content {
                Some(c) => {
                    let _ = std::fs::write(&p, c);
                }
                None => {
                    let _ = std::fs::remove_file(&p);
                }
            }
        }
        // The containers' cgroups (empty once dockerd stopped them).
        for h in std::fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
        {
            let _ = std::fs::remove_dir(h.path().join(cgroup_parent().trim_start_matches('/')));
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Why the host tests cannot run here, if they cannot.
fn unavailable() -> Option<String> {
    if !nix::unistd::Uid::effective().is_root() {
        return Some("not root".into());
    }
    for tool in ["dockerd", "unshare", "openssl", "useradd", "groupadd"] {
        let found = [
            "/usr/bin",
            "/usr/sbin",
            "/bin",
            "/sbin",
            "/usr/local/bin",
            "/usr/local/sbin",
        ]
        .iter()
        .any(|d| Path::new(d).join(tool).exists());
        if !found {
            return Some(format!("{tool} not installed"));
        }
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn ping(sock: &Path) -> bool {
    let Ok(mut s) = UnixStream::connect(sock) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    if s.write_all(b"GET /_ping HTTP/1.0\r\n\r\n").is_err() {
        return false;
    }
    let mut r = String::new();
    let _ = s.read_to_string(&mut r);
    r.starts_with("HTTP/1.0 200") || r.starts_with("HTTP/1.1 200")
}

/// The containers' cgroup parent: the test's own, removed by the guard.
fn cgroup_parent() -> String {
    format!("/ward-audit-{}", std::process::id())
}

/// Starts dockerd with `daemon_json` and `flags` (plus the private dirs);
/// its socket is `dir/docker.sock`.
fn start_dockerd(g: &mut Guard, daemon_json: &str, flags: &[String]) -> Result<(), String> {
    std::fs::create_dir_all(g.path("etc")).map_err(|e| e.to_string())?;
    std::fs::write(g.path("etc/daemon.json"), daemon_json).map_err(|e| e.to_string())?;
    let d = |rel: &str| g.path(rel).display().to_string();
    let log = std::fs::File::create(g.path("dockerd.log")).map_err(|e| e.to_string())?;
    let mut cmd = Command::new("unshare");
    cmd.args([
        "--mount",
        "--net",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        "mount -t tmpfs -o mode=755,size=64m tmpfs /run || exit 1; ip link set lo up || exit 1; exec \"$@\"",
        "sh",
        "dockerd",
    ])
    .args([
        "--config-file",
        &d("etc/daemon.json"),
        "--data-root",
        &d("data"),
        "--exec-root",
        &d("exec"),
        "--pidfile",
        &d("docker.pid"),
    ])
    .args(["-H", &format!("unix://{}", d("docker.sock"))])
    .args([
        "--bridge=none",
        "--cgroup-parent",
        &cgroup_parent(),
        "--exec-opt",
        "native.cgroupdriver=cgroupfs",
        "--storage-driver",
        "vfs",
    ])
    .args(flags)
    .stdin(Stdio::null())
    .stdout(log.try_clone().map_err(|e| e.to_string())?)
    .stderr(log);
    g.dockerd = Some(cmd.spawn().map_err(|e| format!("dockerd: {e}"))?);
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if ping(&g.path("docker.sock")) && g.path("docker.pid").exists() {
            return Ok(());
        }
        if let Some(Ok(Some(st))) = g.dockerd.as_mut().map(|c| c.try_wait()) {
            return Err(format!(
                "dockerd exited ({st}): {}",
                std::fs::read_to_string(g.path("dockerd.log")).unwrap_or_default()
            ));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Err(format!(
        "dockerd did not answer in 30 s: {}",
        std::fs::read_to_string(g.path("dockerd.log")).unwrap_or_default()
    ))
}

/// `ward audit host --pid-file` as JSON: the dockerd report.
fn audit(ward: &Path, g: &Guard) -> Value {
    let (code, out, err) = run(Command::new(ward)
        .args(["audit", "host", "--json", "--pid-file"])
        .arg(g.path("docker.pid")));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    v.as_array()
        .and_then(|a| {
            a.iter().find(|r| {
                r["target"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("dockerd"))
            })
        })
        .cloned()
        .unwrap_or_else(|| panic!("no dockerd report: {v}"))
}

/// Every report of `ward audit host --json --pid-file`.
fn audit_all(ward: &Path, g: &Guard) -> Vec<Value> {
    let (code, out, err) = run(Command::new(ward)
        .args(["audit", "host", "--json", "--pid-file"])
        .arg(g.path("docker.pid")));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    v.as_array().cloned().unwrap_or_default()
}

/// Imports busybox-static as an image and runs a weak container (not
/// --privileged: root here lacks capabilities that asks for); its name, or None (after SKIP) when the
/// docker CLI or busybox is missing or the container does not start.
fn run_weak_container(g: &Guard) -> Option<String> {
    let (docker, busybox) = (
        Path::new("/usr/local/bin/docker"),
        Path::new("/bin/busybox"),
    );
    let docker = if docker.exists() {
        docker
    } else {
        Path::new("/usr/bin/docker")
    };
    if !docker.exists() || !busybox.exists() {
        println!("SKIP: container section: no docker CLI or /bin/busybox");
        return None;
    }
    let rootfs = g.path("rootfs");
    std::fs::create_dir_all(rootfs.join("bin")).expect("rootfs");
    std::fs::copy(busybox, rootfs.join("bin/busybox")).expect("copy busybox");
    std::os::unix::fs::symlink("busybox", rootfs.join("bin/sleep")).expect("symlink");
    let tar = g.path("rootfs.tar");
    let (code, _, err) = run(Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tar)
        .arg("."));
    assert_eq!(code, 0, "tar: {err}");
    let host = format!("unix://{}", g.path("docker.sock").display());
    let (code, _, err) = run(Command::new(docker)
        .args(["-H", &host, "import"])
        .arg(&tar)
        .arg("ward-audit-busybox:1"));
    assert_eq!(code, 0, "docker import: {err}");
    let name = format!("ward-audit-weak-{}", std::process::id());
    let sock_mount = format!("{}:/var/run/docker.sock", g.path("docker.sock").display());
    let (code, _, err) = run(Command::new(docker).args([
        "-H",
        &host,
        "run",
        "-d",
        "--runtime",
        "ward",
        "--name",
        &name,
        "--network",
        "none",
        "--cap-add",
        "SYS_ADMIN",
        "--pid",
        "host",
        "-v",
        "/:/host:ro",
        "-v",
        &sock_mount,
        "ward-audit-busybox:1",
        "/bin/sleep",
        "60",
    ]));
    if code != 0 {
        println!("SKIP: container section: docker run failed here: {err}");
        return None;
    }
    Some(name)
}

/// The sorted finding ids, without the host's own files (systemd units,
/// /etc/default/docker: the same in both cases, whatever this host has).
fn ids(report: &Value) -> Vec<String> {
    let host_owned = [
        "host.file.service-unit",
        "host.file.socket-unit",
        "host.file.etc-default-docker",
        "host.audit.",
    ];
    let mut v: Vec<String> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["id"].as_str())
        .filter(|id| !host_owned.iter().any(|h| id.starts_with(h)))
        .map(String::from)
        .collect();
    v.sort();
    v.dedup();
    v
}

fn finding<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("{id} not found: {report:#}"))
}

#[test]
fn weak_dockerd_then_hardened() {
    if let Some(why) = unavailable() {
        println!("SKIP: {why}");
        return;
    }
    let Some(ward) = ward() else { return };
    weak(&ward);
    hardened(&ward);
}

fn weak(ward: &Path) {
    let mut g = Guard::new("weak");
    let tag = format!("wardaud{}", std::process::id() % 100000);
    let (user, group) = (format!("{tag}u"), format!("{tag}g"));
    assert!(
        Command::new("groupadd")
            .arg(&group)
            .status()
            .is_ok_and(|s| s.success()),
        "groupadd"
    );
    g.group = Some(group.clone());
    assert!(
        Command::new("useradd")
            .args([
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                "-G",
                &group,
                &user
            ])
            .status()
            .is_ok_and(|s| s.success()),
        "useradd"
    );
    g.user = Some(user.clone());
    let port = free_port();
    // ward-oci as a runtime (runc cannot apply capabilities on this kind
    // of host: root lacks CAP_SYS_RESOURCE), its rules in warn mode so that
    // the weak container runs.
    let ward_oci = ward.with_file_name("ward-oci");
    let rules: String = RULE_IDS
        .iter()
        .map(|r| format!("\"{r}\" = \"warn\"\n"))
        .collect();
    let policy = g.path("policy.toml");
    std::fs::write(
        &policy,
        format!(
            "audit_log = \"{}\"\nsyslog = false\n[rules]\n{rules}",
            g.path("audit.log").display()
        ),
    )
    .expect("policy");
    let json = format!(
        "{{\n  \"insecure-registries\": [\"registry.example:5000\"],\n  \"runtimes\": {{\"ward\": {{\"path\": \"{}\", \"runtimeArgs\": [\"--policy\", \"{}\"]}}}}\n}}\n",
        ward_oci.display(),
        policy.display()
    );
    let flags = vec![
        "-H".to_string(),
        format!("tcp://127.0.0.1:{port}"),
        "--group".into(),
        group.clone(),
    ];
    start_dockerd(&mut g, &json, &flags).unwrap_or_else(|e| panic!("{e}"));
    let sock = g.path("docker.sock");
    assert!(Command::new("chmod")
        .arg("666")
        .arg(&sock)
        .status()
        .is_ok_and(|s| s.success()));
    let r = audit(ward, &g);
    let want = [
        "host.daemon.authorization-plugin",
        "host.daemon.default-ulimits",
        "host.daemon.icc",
        "host.daemon.insecure-registry",
        "host.daemon.live-restore",
        "host.daemon.log-driver",
        "host.daemon.no-new-privileges",
        "host.daemon.tcp-without-tls",
        "host.daemon.userland-proxy",
        "host.daemon.userns-remap",
        "host.file.docker-socket.mode",
        "host.socket.group-members",
    ];
    assert_eq!(ids(&r), want, "{r:#}");
    weak_evidence(&r, port, &user, &group);
    weak_container(ward, &g);
    // --fail-on and the text and SARIF outputs.
    let (code, out, _) = run(Command::new(ward)
        .args(["audit", "host", "--fail-on", "critical", "--pid-file"])
        .arg(g.path("docker.pid")));
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("CIS 2.7") && out.contains("host.daemon.tcp-without-tls"),
        "{out}"
    );
    let (_, out, _) = run(Command::new(ward)
        .args(["audit", "host", "--format", "sarif", "--pid-file"])
        .arg(g.path("docker.pid")));
    let s: Value = serde_json::from_str(&out).expect("sarif");
    let results = s["runs"][0]["results"].as_array().expect("results");
    let reg = results
        .iter()
        .find(|x| x["ruleId"] == "host.daemon.insecure-registry")
        .expect("registry result");
    assert_eq!(
        reg["locations"][0]["physicalLocation"]["region"]["startLine"], 2,
        "{reg}"
    );
}

/// Each weakness with its CIS item, evidence and fix.
fn weak_evidence(r: &Value, port: u16, user: &str, group: &str) {
    let r = r.clone();
    for (id, cis) in [
        ("host.daemon.tcp-without-tls", "2.7"),
        ("host.daemon.icc", "2.2"),
        ("host.daemon.userns-remap", "2.9"),
        ("host.daemon.insecure-registry", "2.5"),
        ("host.file.docker-socket.mode", "3.16"),
        ("host.socket.group-members", "1.1.2"),
    ] {
        let f = finding(&r, id);
        assert_eq!(f["cis"], serde_json::json!([cis]), "{f}");
        assert!(
            f["fix"].as_str().is_some_and(|s| !s.is_empty())
                && f["why"].as_str().is_some_and(|s| !s.is_empty()),
            "{f}"
        );
    }
    let tcp = finding(&r, "host.daemon.tcp-without-tls");
    assert_eq!(tcp["severity"], "critical");
    assert!(
        tcp["seen"]
            .as_str()
            .is_some_and(|s| s.contains(&format!("tcp://127.0.0.1:{port}"))),
        "{tcp}"
    );
    let reg = finding(&r, "host.daemon.insecure-registry");
    assert_eq!(reg["line"], 2, "{reg}");
    assert!(
        reg["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("etc/daemon.json")),
        "{reg}"
    );
    let m = finding(&r, "host.file.docker-socket.mode");
    assert_eq!(m["severity"], "critical");
    assert!(
        m["fix"]
            .as_str()
            .is_some_and(|f| f.starts_with("chmod 660 ")),
        "{m}"
    );
    let gm = finding(&r, "host.socket.group-members");
    assert!(
        gm["seen"]
            .as_str()
            .is_some_and(|s| s.contains(user) && s.contains(group)),
        "{gm}"
    );
    assert!(
        gm["fix"]
            .as_str()
            .is_some_and(|s| s.contains(&format!("gpasswd -d {user} {group}"))),
        "{gm}"
    );
    // The API was reached: no skipped container audit.
    assert!(!r["skipped"].to_string().contains("container"), "{r:#}");
}

fn weak_container(ward: &Path, g: &Guard) {
    // Section 5 through the Docker API: a container with CAP_SYS_ADMIN, the
    // host's PID namespace, the host's / and dockerd's socket mounted (busybox-static as its image), when the docker CLI
    // and busybox are here.
    if let Some(name) = run_weak_container(g) {
        let c = audit_all(ward, g)
            .into_iter()
            .find(|r| {
                r["target"]
                    .as_str()
                    .is_some_and(|t| t.starts_with(&format!("container {name} (")))
            })
            .unwrap_or_else(|| panic!("container {name} not audited"));
        let got = ids(&c);
        for id in [
            "container.caps.added",
            "container.mount.runtime-socket",
            "container.mount.sensitive-host-path",
            "container.namespace.host-pid",
            "container.user.root",
        ] {
            assert!(got.iter().any(|g| g == id), "{id} missing: {c:#}");
        }
        assert_eq!(
            finding(&c, "container.mount.runtime-socket")["cis"],
            serde_json::json!(["5.32"])
        );
        assert!(
            finding(&c, "container.caps.added")["seen"]
                .as_str()
                .is_some_and(|s| s.contains("SYS_ADMIN")),
            "{c:#}"
        );
    }
}

fn hardened(ward: &Path) {
    let mut g = Guard::new("hard");
    // userns-remap "default": dockerd creates the dockremap user and its
    // /etc/subuid, /etc/subgid ranges; the guard restores both files exactly
    // and removes the user.
    for p in ["/etc/subuid", "/etc/subgid"] {
        g.subids.push((PathBuf::from(p), std::fs::read(p).ok()));
    }
    g.remove_dockremap = !Command::new("id")
        .arg("dockremap")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let c = |rel: &str| g.path(rel).display().to_string();
    let ssl = |args: &[&str]| {
        let o = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl");
        assert!(
            o.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    std::fs::write(g.path("san.cnf"), "subjectAltName=IP:127.0.0.1\n").expect("san");
    ssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &c("ca-key.pem"),
        "-out",
        &c("ca.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=ward-audit-test-ca",
    ]);
    ssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        &c("server-key.pem"),
        "-out",
        &c("server.csr"),
        "-subj",
        "/CN=127.0.0.1",
    ]);
    ssl(&[
        "x509",
        "-req",
        "-in",
        &c("server.csr"),
        "-CA",
        &c("ca.pem"),
        "-CAkey",
        &c("ca-key.pem"),
        "-CAcreateserial",
        "-out",
        &c("server-cert.pem"),
        "-days",
        "1",
        "-extfile",
        &c("san.cnf"),
    ]);
    for (f, mode) in [
        ("ca.pem", "444"),
        ("server-cert.pem", "444"),
        ("server-key.pem", "400"),
    ] {
        assert!(Command::new("chmod")
            .arg(mode)
            .arg(g.path(f))
            .status()
            .is_ok_and(|s| s.success()));
    }
    let json = format!(
        "{{\n  \"icc\": false,\n  \"userns-remap\": \"default\",\n  \"live-restore\": true,\n  \"no-new-privileges\": true,\n  \"userland-proxy\": false,\n  \"default-ulimits\": {{\"nofile\": {{\"Name\": \"nofile\", \"Hard\": 4096, \"Soft\": 4096}}}},\n  \"tlsverify\": true,\n  \"tlscacert\": \"{}\",\n  \"tlscert\": \"{}\",\n  \"tlskey\": \"{}\"\n}}\n",
        c("ca.pem"),
        c("server-cert.pem"),
        c("server-key.pem")
    );
    let flags = vec![
        "-H".to_string(),
        format!("tcp://127.0.0.1:{}", free_port()),
        "--group".into(),
        "root".into(),
    ];
    start_dockerd(&mut g, &json, &flags).unwrap_or_else(|e| panic!("{e}"));
    let sock = g.path("docker.sock");
    assert!(Command::new("chown")
        .arg("root:root")
        .arg(&sock)
        .status()
        .is_ok_and(|s| s.success()));
    assert!(Command::new("chmod")
        .arg("660")
        .arg(&sock)
        .status()
        .is_ok_and(|s| s.success()));
    let r = audit(ward, &g);
    // What remains is what this test does not set up: no authorization
    // plugin (ward authz-plugin has its own tests), local logs (no remote
    // collector here).
    let want = ["host.daemon.authorization-plugin", "host.daemon.log-driver"];
    assert_eq!(ids(&r), want, "{r:#}");
}

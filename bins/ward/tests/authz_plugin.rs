//! `ward authz-plugin` in front of a real dockerd (Debian's docker.io 20.10):
//! a private dockerd started with `--authorization-plugin=ward` in its own
//! mount namespace whose /run is a tmpfs (so the plugin's socket is at the
//! literal /run/docker/plugins/ward.sock and the host's /run is never
//! touched), with its own data-root, exec-root, pidfile, socket and cgroup
//! parent. Everything is removed when the test ends, also on failure.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const IMG: &str = "ward-authz-busybox";

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// The private dockerd and its plugin; dropping it stops both and removes
/// what they made.
struct Daemon {
    dir: PathBuf,
    cgroup: String,
    holder: Child,
}

impl Daemon {
    fn sock(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    fn pid(&self, file: &str) -> Option<i32> {
        std::fs::read_to_string(self.dir.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// `docker -H ... ARGS`: (exit code, stdout + stderr).
    fn docker(&self, args: &[&str]) -> (i32, String) {
        let out = Command::new("/usr/bin/docker")
            .arg("-H")
            .arg(format!("unix://{}", self.sock().display()))
            .args(args)
            .env("DOCKER_CONFIG", self.dir.join("cli"))
            .output()
            .expect("docker runs");
        let mut s = String::from_utf8_lossy(&out.stdout).into_owned();
        s.push_str(&String::from_utf8_lossy(&out.stderr));
        (out.status.code().unwrap_or(-1), s)
    }

    /// One raw HTTP request on dockerd's socket: the whole answer.
    fn raw(&self, request: &[u8]) -> String {
        let mut s = UnixStream::connect(self.sock()).expect("connect to dockerd");
        s.set_read_timeout(Some(Duration::from_secs(60))).ok();
        s.write_all(request).ok();
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn kill(&self, file: &str, sig: nix::sys::signal::Signal) {
        if let Some(pid) = self.pid(file) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig);
        }
    }
}

fn alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| !s.contains(") Z "))
            .unwrap_or(false)
}

impl Drop for Daemon {
    fn drop(&mut self) {
        use nix::sys::signal::Signal::{SIGKILL, SIGTERM};
        self.kill("plugin.pid", SIGKILL);
        // dockerd stops its containers and containerd on SIGTERM.
        self.kill("docker.pid", SIGTERM);
        let t = Instant::now();
        while self.pid("docker.pid").is_some_and(alive) && t.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(100));
        }
        self.kill("docker.pid", SIGKILL);
        // Anything left that runs from our directory (containerd, shims).
        let marker = self.dir.to_string_lossy().into_owned();
        for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let Ok(pid) = e.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            if String::from_utf8_lossy(&cmd).contains(&marker) {
                let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), SIGKILL);
            }
        }
        let _ = self.holder.kill();
        let _ = self.holder.wait();
        // The cgroups dockerd made under its --cgroup-parent, deepest first.
        for h in ward_tests::host::cgroup_hierarchies() {
            let top = h.join(&self.cgroup);
            let mut dirs: Vec<PathBuf> = Vec::new();
            let mut stack = vec![top.clone()];
            while let Some(d) = stack.pop() {
                if let Ok(rd) = std::fs::read_dir(&d) {
                    for e in rd.flatten() {
                        if e.file_type().is_ok_and(|t| t.is_dir()) {
                            stack.push(e.path());
                        }
                    }
                    dirs.push(d);
                }
            }
            for d in dirs.iter().rev() {
                let _ = std::fs::remove_dir(d);
            }
        }
        // The mounts (overlays, shm) lived in the private mount namespace,
        // gone with its last process.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts the plugin and dockerd; None (and why) when this host cannot.
fn start() -> Result<Daemon, String> {
    for tool in ["dockerd", "unshare", "containerd", "runc"] {
        if which(tool).is_none() {
            return Err(format!("{tool} is not installed"));
        }
    }
    if !Path::new("/usr/bin/docker").exists() {
        return Err("/usr/bin/docker is not installed".into());
    }
    if !nix::unistd::geteuid().is_root() {
        return Err("needs root".into());
    }
    let dir = std::env::temp_dir().join(format!("ward-authz-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("rootfs/bin")).map_err(|e| e.to_string())?;
    let cgroup = format!("ward-authz-{}", std::process::id());
    let ward = env!("CARGO_BIN_EXE_ward");
    std::fs::write(dir.join("daemon.json"), "{}").map_err(|e| e.to_string())?;
    std::fs::write(
        dir.join("policy.toml"),
        "syslog = false\n[images.registries.\"docker.io/library\"]\nsignatures = \"none\"\n",
    )
    .map_err(|e| e.to_string())?;
    let script = r#"
        set -e
        mount -t tmpfs -o mode=755,size=64m tmpfs /run
        mkdir -p /run/docker/plugins
        "$WARD" authz-plugin --socket /run/docker/plugins/ward.sock --policy "$T/policy.toml" \
            --audit-log "$T/audit.log" >"$T/plugin.log" 2>&1 &
        echo $! >"$T/plugin.pid"
        i=0; while [ ! -S /run/docker/plugins/ward.sock ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
        dockerd --authorization-plugin=ward --config-file "$T/daemon.json" --data-root "$T/data" \
            --exec-root "$T/exec" --pidfile "$T/docker.pid" -H "unix://$T/docker.sock" \
            -H unix:///var/run/docker.sock --iptables=false --ip-masq=false --bridge=none \
            --exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$CG" --storage-driver vfs \
            >"$T/dockerd.log" 2>&1 &
        wait
    "#;
    let holder = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            script,
        ])
        .env("T", &dir)
        .env("WARD", ward)
        .env("CG", &cgroup)
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let d = Daemon {
        dir,
        cgroup,
        holder,
    };
    let t = Instant::now();
    while d.docker(&["version"]).0 != 0 {
        if t.elapsed() > Duration::from_secs(30) {
            let log = std::fs::read_to_string(d.dir.join("dockerd.log")).unwrap_or_default();
            let plog = std::fs::read_to_string(d.dir.join("plugin.log")).unwrap_or_default();
            panic!(
                "dockerd did not answer in 30 s: {}\nplugin: {plog}",
                &log[log.len().saturating_sub(2000)..]
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(d)
}

/// A busybox image, imported from a rootfs tar.
fn import(d: &Daemon) {
    let r = d.dir.join("rootfs");
    std::fs::copy("/bin/busybox", r.join("bin/busybox")).expect("busybox-static is installed");
    for a in ["sh", "true", "sleep"] {
        std::os::unix::fs::symlink("busybox", r.join("bin").join(a)).expect("symlink");
    }
    let tar = d.dir.join("rootfs.tar");
    let ok = Command::new("tar")
        .arg("-C")
        .arg(&r)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "tar");
    let (rc, out) = d.docker(&["import", &tar.to_string_lossy(), IMG]);
    assert_eq!(rc, 0, "docker import: {out}");
}

fn assert_refused(d: &Daemon, args: &[&str], rule: &str) {
    let (rc, out) = d.docker(args);
    eprintln!("docker {}: rc={rc}\n{out}", args.join(" "));
    assert!(
        rc != 0
            && out.contains("authorization denied by plugin ward")
            && out.contains(&format!("rule {rule}"))
            && out.contains("fix:"),
        "docker {args:?}: want a refusal naming rule {rule}; rc={rc} out={out}"
    );
}

/// The status line of a raw answer.
fn status(answer: &str) -> &str {
    answer.lines().next().unwrap_or("")
}

fn request(path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut r = format!("POST {path} HTTP/1.1\r\nHost: docker\r\n{headers}\r\n").into_bytes();
    r.extend_from_slice(body);
    r
}

#[test]
fn dockerd_with_the_ward_authz_plugin() {
    let d = match start() {
        Ok(d) => d,
        Err(why) => {
            ward_tests::say(&format!("SKIP: dockerd_with_the_ward_authz_plugin: {why}"));
            return;
        }
    };
    import(&d);
    cli_requests(&d);
    raw_requests(&d);
    audit_records(&d);
    plugin_stopped(&d);
}

/// The docker CLI: refusals show ward's message; ordinary requests work.
fn cli_requests(d: &Daemon) {
    // An ordinary container runs.
    let (rc, out) = d.docker(&["run", "--rm", "--network", "none", IMG, "true"]);
    assert_eq!(rc, 0, "an ordinary docker run: {out}");

    let run = |extra: &[&str]| {
        let mut a = vec!["run", "--rm", "--network", "none"];
        a.extend_from_slice(extra);
        a.extend_from_slice(&[IMG, "true"]);
        a.into_iter().map(String::from).collect::<Vec<_>>()
    };
    for (extra, rule) in [
        (&["--privileged"][..], "privileged"),
        (&["-v", "/:/host"][..], "mount.sensitive-host-path"),
        (
            &["-v", "/var/run/docker.sock:/s"][..],
            "mount.runtime-socket",
        ),
        (
            &["--cap-add", "SYS_ADMIN"][..],
            "seccomp.unconfined-sys-admin",
        ),
        (
            &["--pid", "host", "--cap-add", "SYS_PTRACE"][..],
            "namespace.host-pid-ptrace",
        ),
    ] {
        let a = run(extra);
        assert_refused(d, &a.iter().map(String::as_str).collect::<Vec<_>>(), rule);
    }

    // exec --privileged is refused, an ordinary exec runs.
    let (rc, out) = d.docker(&[
        "run",
        "-d",
        "--name",
        "c1",
        "--network",
        "none",
        IMG,
        "sleep",
        "60",
    ]);
    assert_eq!(rc, 0, "docker run -d: {out}");
    assert_refused(d, &["exec", "--privileged", "c1", "true"], "privileged");
    let (rc, out) = d.docker(&["exec", "c1", "true"]);
    assert_eq!(rc, 0, "an ordinary exec: {out}");
    let (rc, out) = d.docker(&["rm", "-f", "c1"]);
    assert_eq!(rc, 0, "docker rm: {out}");

    // A pull from a registry outside the allow-list.
    assert_refused(
        d,
        &["pull", "registry.invalid:5000/app:1"],
        "image.registry-not-allowed",
    );
}

/// Raw requests in the forms that bypassed plugins.
fn raw_requests(d: &Daemon) {
    let privileged =
        format!(r#"{{"Image":"{IMG}","HostConfig":{{"Privileged":true,"NetworkMode":"none"}}}}"#);
    let json = "Content-Type: application/json\r\n";
    // Content-Length 0 with a body after it.
    let a = d.raw(&request(
        "/v1.41/containers/create",
        &format!("{json}Content-Length: 0\r\n"),
        privileged.as_bytes(),
    ));
    eprintln!(
        "zero-length with content: {:?}; answers: {:?}",
        status(&a),
        a.lines()
            .filter(|l| l.starts_with("HTTP/"))
            .collect::<Vec<_>>()
    );
    assert!(
        status(&a).contains(" 403 ") && a.contains("authz.body-unseen"),
        "{a}"
    );
    // Over the 1 MiB dockerd forwards.
    let big = format!(
        r#"{{"Image":"{IMG}","Env":["PAD={}"],"HostConfig":{{"Privileged":true,"NetworkMode":"none"}}}}"#,
        "x".repeat(1 << 20)
    );
    let a = d.raw(&request(
        "/v1.41/containers/create",
        &format!("{json}Content-Length: {}\r\n", big.len()),
        big.as_bytes(),
    ));
    eprintln!("oversized: {:?}", status(&a));
    assert!(
        status(&a).contains(" 403 ") && a.contains("authz.body-unseen"),
        "{a}"
    );
    // Chunked.
    let mut chunked = format!("{:x}\r\n{privileged}\r\n0\r\n\r\n", privileged.len()).into_bytes();
    let a = d.raw(&request(
        "/v1.41/containers/create",
        &format!("{json}Transfer-Encoding: chunked\r\n"),
        &chunked,
    ));
    eprintln!("chunked: {:?}", status(&a));
    assert!(status(&a).contains(" 403 "), "{a}");
    chunked.clear();
    // An escaped path and a lower-case field.
    let lower = privileged.replace("Privileged", "privileged");
    let a = d.raw(&request(
        "/v1.41/containers/%63reate",
        &format!("{json}Content-Length: {}\r\n", lower.len()),
        lower.as_bytes(),
    ));
    eprintln!("escaped path, lower-case field: {:?}", status(&a));
    assert!(
        status(&a).contains(" 403 ") && a.contains("rule privileged"),
        "{a}"
    );
    // An API version dockerd does not know.
    let a = d.raw(&request(
        "/v1.99/containers/create",
        &format!("{json}Content-Length: {}\r\n", privileged.len()),
        privileged.as_bytes(),
    ));
    eprintln!("unknown version: {:?}", status(&a));
    assert!(status(&a).contains(" 403 "), "{a}");
    // None of them made a container.
    let (rc, out) = d.docker(&["ps", "-aq"]);
    assert!(
        rc == 0 && out.trim().is_empty(),
        "containers were made: {out}"
    );
}

/// Every request has an audit line; the refusals name their rules.
fn audit_records(d: &Daemon) {
    let log = std::fs::read_to_string(d.dir.join("audit.log")).unwrap_or_default();
    let recs: Vec<serde_json::Value> = log
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert_eq!(recs.len(), log.lines().count(), "every line is JSON");
    for r in recs.iter().filter(|r| r["decision"] == "refused") {
        eprintln!(
            "refused: {} {} {}",
            r["method"], r["uri"], r["findings"][0]["detail"]
        );
    }
    for rule in [
        "privileged",
        "mount.sensitive-host-path",
        "mount.runtime-socket",
        "authz.body-unseen",
        "image.registry-not-allowed",
    ] {
        assert!(
            recs.iter().any(|r| r["decision"] == "refused"
                && r["rules"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == rule))),
            "no refused record for {rule}"
        );
    }
    assert!(recs
        .iter()
        .any(|r| r["decision"] != "refused" && r["endpoint"] == "container.create"));
}

/// The plugin stopped: dockerd refuses (it retries the plugin, then fails).
fn plugin_stopped(d: &Daemon) {
    let json = "Content-Type: application/json\r\n";
    d.kill("plugin.pid", nix::sys::signal::Signal::SIGKILL);
    let ordinary =
        format!(r#"{{"Image":"{IMG}","Cmd":["true"],"HostConfig":{{"NetworkMode":"none"}}}}"#);
    let t = Instant::now();
    let a = d.raw(&request(
        "/v1.41/containers/create",
        &format!("{json}Content-Length: {}\r\n", ordinary.len()),
        ordinary.as_bytes(),
    ));
    eprintln!(
        "plugin stopped, after {:?}: {:?} {}",
        t.elapsed(),
        status(&a),
        a.lines().last().unwrap_or("")
    );
    assert!(
        !status(&a).contains(" 201 ") && !status(&a).is_empty(),
        "{a}"
    );
}

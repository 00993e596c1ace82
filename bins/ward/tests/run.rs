//! `ward run` end to end: a busybox image made without ward (tar, then
//! skopeo into an OCI layout), pulled with `ward image pull oci:DIR`, run
//! with the defaults, and every default checked from inside.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;

const WARD: &str = env!("CARGO_BIN_EXE_ward");
const IMAGE: &str = "localhost/busybox:1";

fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sha256_file(p: &Path) -> String {
    let out = Command::new("sha256sum")
        .arg(p)
        .output()
        .expect("sha256sum");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    format!("sha256:{}", text.split(' ').next().expect("hex"))
}

/// The store, in a temp dir the container's root can traverse (0711).
struct Fixture {
    _dir: tempfile::TempDir,
    store: PathBuf,
}

/// busybox with a shell, an /etc/passwd naming `web` (uid 33), a setuid
/// copy of busybox, and a config with Env, WorkingDir and Cmd.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tmp");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o711)).expect("chmod");
    let (root, arc) = (dir.path().join("rootfs"), dir.path().join("arc"));
    for d in ["bin", "etc", "srv", "tmp"] {
        std::fs::create_dir_all(root.join(d)).expect("mkdir");
    }
    std::fs::create_dir_all(&arc).expect("mkdir");
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("busybox-static");
    std::fs::copy("/bin/busybox", root.join("bin/suid")).expect("busybox-static");
    std::fs::set_permissions(
        root.join("bin/suid"),
        std::fs::Permissions::from_mode(0o4755),
    )
    .expect("chmod");
    std::os::unix::fs::symlink("busybox", root.join("bin/sh")).expect("symlink");
    std::fs::write(
        root.join("etc/passwd"),
        "root:x:0:0::/root:/bin/sh\nweb:x:33:34::/srv:/bin/sh\n",
    )
    .expect("passwd");
    run_ok(
        Command::new("tar")
            .args(["--numeric-owner", "--owner=0", "--group=0", "-C"])
            .arg(&root)
            .arg("-cf")
            .arg(arc.join("layer.tar"))
            .args(["bin", "etc", "srv", "tmp"]),
    );
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let config = json!({"architecture": arch, "os": "linux",
        "config": {"Cmd": ["sh", "-c", "echo cmd $GREETING; pwd"],
                   "Env": ["PATH=/bin", "GREETING=hello"], "WorkingDir": "/srv"},
        "rootfs": {"type": "layers", "diff_ids": [sha256_file(&arc.join("layer.tar"))]}});
    std::fs::write(arc.join("config.json"), config.to_string()).expect("config");
    std::fs::write(
        arc.join("manifest.json"),
        json!([{"Config": "config.json", "RepoTags": ["busybox:1"], "Layers": ["layer.tar"]}])
            .to_string(),
    )
    .expect("manifest");
    let archive = dir.path().join("busybox.tar");
    run_ok(
        Command::new("tar")
            .arg("-C")
            .arg(&arc)
            .arg("-cf")
            .arg(&archive)
            .args(["manifest.json", "config.json", "layer.tar"]),
    );
    let layout = dir.path().join("layout");
    run_ok(
        Command::new("skopeo")
            .args(["copy", "-q", "--insecure-policy"])
            .arg(format!("docker-archive:{}", archive.display()))
            .arg(format!("oci:{}:latest", layout.display())),
    );
    let store = dir.path().join("store");
    run_ok(
        Command::new(WARD)
            .args(["image", "pull"])
            .arg(format!("oci:{}:latest", layout.display()))
            .args(["--name", IMAGE, "--root"])
            .arg(&store),
    );
    Fixture { _dir: dir, store }
}

fn is_root() -> bool {
    if nix::unistd::geteuid().is_root() {
        return true;
    }
    println!("SKIP: ward run needs root");
    false
}

impl Fixture {
    fn run(&self, args: &[&str]) -> Output {
        Command::new(WARD)
            .arg("run")
            .arg("--root")
            .arg(&self.store)
            .args(args)
            .output()
            .expect("runs ward")
    }

    /// `ward run --rm IMAGE sh -c SCRIPT` with `flags`: (exit code, stdout, stderr).
    fn sh(&self, flags: &[&str], script: &str) -> (Option<i32>, String, String) {
        let mut args = vec!["--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&[IMAGE, "sh", "-c", script]);
        let out = self.run(&args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn containers(&self) -> Vec<String> {
        std::fs::read_dir(self.store.join("containers"))
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

#[test]
fn runs_images_with_every_default_on() {
    if !is_root() {
        return;
    }
    let f = fixture();
    let out = f.run(&["--rm", IMAGE, "busybox", "echo", "hi"]);
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n");
    assert_eq!(f.sh(&[], "exit 7").0, Some(7));
    assert_eq!(f.sh(&[], "kill -9 $$").0, Some(137));
    let (code, out, err) = f.sh(
        &[],
        "cat /proc/self/uid_map; grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; \
         busybox awk -F: 'NR>2 {print $1}' /proc/net/dev; busybox ls -ln /bin/busybox /bin/suid",
    );
    assert_eq!(code, Some(0), "{err}");
    let uid_map: Vec<&str> = out
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(uid_map[0], "0");
    assert_ne!(uid_map[1], "0", "the identity map: {out}");
    for want in ["CapEff:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"] {
        assert!(out.contains(want), "{want} in {out}");
    }
    let ifaces: Vec<&str> = out
        .lines()
        .filter(|l| l.trim_end().ends_with("lo") || l.trim().starts_with("eth"))
        .map(str::trim)
        .collect();
    assert_eq!(ifaces, ["lo"], "{out}");
    let ls: Vec<&str> = out.lines().filter(|l| l.contains("/bin/")).collect();
    assert_eq!(ls.len(), 2, "{out}");
    for l in ls {
        let f: Vec<&str> = l.split_whitespace().collect();
        assert_eq!((f[2], f[3]), ("0", "0"), "owned by root inside: {l}");
        assert_eq!(f[0], "-rwxr-xr-x", "no setuid bit inside: {l}");
    }
}

#[test]
fn the_image_config_and_the_flags() {
    if !is_root() {
        return;
    }
    let f = fixture();
    // The image's Cmd, Env and WorkingDir; the container is kept without --rm.
    let out = f.run(&[IMAGE]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "cmd hello\n/srv\n",
        "{out:?}"
    );
    assert_eq!(f.containers().len(), 1);
    let (code, out, err) = f.sh(
        &[
            "-e",
            "GREETING=bye",
            "-w",
            "/tmp",
            "-u",
            "web",
            "--hostname",
            "box",
        ],
        "echo $GREETING; pwd; busybox id -u; busybox id -g; busybox hostname",
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(out, "bye\n/tmp\n33\n34\nbox\n");
    // --read-only: writes fail, except to the tmpfs /tmp.
    let (code, _, err) = f.sh(&["--read-only"], "touch /x");
    assert_eq!(code, Some(1));
    assert!(err.contains("Read-only file system"), "{err}");
    assert_eq!(f.sh(&["--read-only"], "touch /tmp/x").0, Some(0));
    // A writable root by default; the write stays in this container.
    assert_eq!(f.sh(&[], "touch /x && busybox ls /x").0, Some(0));
    assert_eq!(f.sh(&[], "busybox ls /x").0, Some(1));
    let (_, out, _) = f.sh(
        &["--pids-limit", "50"],
        "cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max",
    );
    assert_eq!(out.trim(), "50");
    let out = f.run(&["--rm", "--explain", IMAGE, "true"]);
    let err = String::from_utf8_lossy(&out.stderr);
    for want in [
        "user namespace",
        "seccomp",
        "capabilities",
        "warning: the image runs as root inside",
    ] {
        assert!(err.contains(want), "{want} in {err}");
    }
    assert_eq!(f.containers().len(), 1, "--rm leaves nothing");
}

#[test]
fn errors_leave_nothing() {
    if !is_root() {
        return;
    }
    let f = fixture();
    let out = f.run(&["--rm", "localhost/nope:1", "true"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{err}");
    assert!(err.contains("ward image pull localhost/nope:1"), "{err}");
    let out = f.run(&[IMAGE, "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{out:?}");
    let out = f.run(&["--network", "host", IMAGE, "true"]);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    let out = f.run(&["--memory", "lots", IMAGE, "true"]);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    let out = f.run(&["-u", "nobody", IMAGE, "true"]);
    assert_eq!(out.status.code(), Some(125), "{out:?}");
    assert!(f.containers().is_empty(), "{:?}", f.containers());
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
    assert!(!mounts.contains(&f.store.display().to_string()), "{mounts}");
}

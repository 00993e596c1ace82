//! `ward-oci` run by an unprivileged user (uid 1000) whose cgroup v2
//! subtree is delegated to it, as systemd's user@.service gets one (issue
//! 4): the container's cgroup is made inside that subtree, its pids limit
//! holds, and `delete` removes it. ward-specific: runc and crun pick other
//! default cgroup paths when rootless (runc refuses limits without an
//! explicit cgroupsPath), so the test skips for them.

use std::path::{Path, PathBuf};
use std::process::Command;

use ward_tests::{ctx, skip, Cmd, Kind, Out};

const UID: u32 = 1000;

struct Tree(PathBuf);
impl Drop for Tree {
    fn drop(&mut self) {
        fn rm(p: &Path) {
            if let Ok(rd) = std::fs::read_dir(p) {
                for e in rd.flatten() {
                    if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                        rm(&e.path());
                    }
                }
            }
            let _ = std::fs::remove_dir(p);
        }
        rm(&self.0);
    }
}

fn chown(p: &Path) {
    std::os::unix::fs::chown(p, Some(UID), Some(UID)).expect("chown");
}

#[test]
fn rootless_user_gets_its_container_cgroup_in_the_delegated_subtree() {
    let ctx = ctx!("rootless-cgroup");
    if ctx.rt.kind != Kind::Other {
        skip!(ctx, "ward-specific rootless default cgroup path");
    }
    let Some(base) = ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.join("cgroup.controllers").exists())
    else {
        skip!(ctx, "no cgroup2 hierarchy");
    };
    if !Path::new("/usr/bin/setpriv").exists() {
        skip!(ctx, "setpriv (util-linux) is not installed");
    }
    let avail = std::fs::read_to_string(base.join("cgroup.controllers")).unwrap_or_default();
    for c in avail.split_whitespace() {
        let _ = std::fs::write(base.join("cgroup.subtree_control"), format!("+{c}"));
    }
    let pids = avail.split_whitespace().any(|c| c == "pids");
    let root = base.join(format!("ward-rlcg-{}", std::process::id()));
    std::fs::create_dir(&root).expect("mkdir");
    let _tree = Tree(root.clone());
    if pids {
        std::fs::write(root.join("cgroup.subtree_control"), "+pids").expect("enable pids");
    }
    // What systemd gives user@1000.service: the cgroup and its interface
    // files are the user's; the user's processes live in a child.
    let deleg = root.join("user@1000.service");
    std::fs::create_dir(&deleg).expect("mkdir");
    for f in [
        "",
        "cgroup.procs",
        "cgroup.subtree_control",
        "cgroup.threads",
    ] {
        chown(&deleg.join(f));
    }
    let session = deleg.join("session.scope");
    std::fs::create_dir(&session).expect("mkdir");
    chown(&session);
    chown(&session.join("cgroup.procs"));

    let b = ctx.bundle(&["sleep", "60"]);
    let state_root = ctx.path("user-root");
    std::fs::create_dir(&state_root).expect("mkdir");
    let st = Command::new("chown")
        .args(["-R", &format!("{UID}:{UID}")])
        .arg(&b.dir)
        .arg(&state_root)
        .status()
        .expect("chown");
    assert!(st.success());
    // As the user, in its session cgroup (moved there by root first: the
    // user may not write the root cgroup's cgroup.procs).
    let as_user = |args: &[&str]| -> Out {
        let script = format!(
            "echo $$ > {}/cgroup.procs && exec setpriv --reuid {UID} --regid {UID} --clear-groups \"$@\"",
            session.display()
        );
        Cmd::new("/bin/sh", &ctx.dir)
            .cwd(&b.dir)
            .env("XDG_RUNTIME_DIR", &state_root.display().to_string())
            .args(["-c".to_string(), script, "sh".into()])
            .args(
                [
                    ctx.rt.path.display().to_string(),
                    "--root".into(),
                    state_root.display().to_string(),
                ]
                .into_iter()
                .chain(args.iter().map(|a| a.to_string())),
            )
            .run()
    };
    // The user's own rootless config (maps uid 1000 to root inside).
    as_user(&["spec", "--rootless"]).ok();
    let cfg = b.config_path();
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg).expect("config")).expect("json");
    // The init forks the loop itself once /tmp/go exists (so that its
    // cgroup can be read first), recording each fork before trying it:
    // busybox sh exits when a fork fails.
    let fork = "while [ ! -e /tmp/go ]; do sleep 0.1; done; i=0; while [ $i -lt 30 ]; do echo $i > /tmp/forks; sleep 60 & i=$((i+1)); done; echo spawned $i > /tmp/forks; sleep 60";
    v["process"]["args"] = serde_json::json!(["sh", "-c", fork]);
    // /tmp of the rootfs itself, so the test can read the result.
    v["root"]["readonly"] = false.into();
    if let Some(m) = v["mounts"].as_array_mut() {
        m.retain(|m| m["destination"] != "/tmp");
    }
    v["process"]["terminal"] = false.into();
    if pids {
        v["linux"]["resources"] = serde_json::json!({"pids": {"limit": 6}});
    }
    std::fs::write(&cfg, v.to_string()).expect("write config");

    let id = ctx.id("rl");
    as_user(&["run", "-d", "--bundle", &b.dir.display().to_string(), &id]).ok();
    let state: serde_json::Value =
        serde_json::from_str(&as_user(&["state", &id]).ok().stdout).expect("state");
    let pid = state["pid"].as_i64().unwrap_or(0);
    // Rootless `exec` joins the container's user and pid namespaces: the
    // process is root inside (uid 1000 mapped), sees the init as pid 1,
    // and lands in the container's cgroup.
    let ex = as_user(&[
        "exec",
        &id,
        "sh",
        "-c",
        "id -u; cat /proc/1/cmdline | tr '\\0' ' '; echo; grep '^0::' /proc/self/cgroup",
    ])
    .ok();
    let mut lines = ex.stdout.lines();
    assert_eq!(lines.next(), Some("0"), "exec: {ex}");
    assert!(
        lines.next().is_some_and(|l| l.starts_with("sh -c while")),
        "exec does not see the init as pid 1: {ex}"
    );
    let cg = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let v2 = cg
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .unwrap_or("")
        .to_string();
    // On v2 below the delegated cgroup (the parent of the session);
    // hybrid hosts drive cgroup2 below the caller's own cgroup.
    assert!(
        v2.contains("/user@1000.service/") && v2.ends_with(&format!("/ward/{id}")),
        "container's cgroup {v2:?} is not in the delegated subtree"
    );
    let dir = base.join(v2.trim_start_matches('/'));
    if pids {
        std::fs::write(b.rootfs().join("tmp/go"), "").expect("go");
        let out = b.rootfs().join("tmp/forks");
        // Settled once the init stopped (a refused fork) or got through.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        let mut text = String::new();
        while std::time::Instant::now() < deadline {
            text = std::fs::read_to_string(&out).unwrap_or_default();
            if text.contains("spawned") || std::fs::metadata(format!("/proc/{pid}")).is_err() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let text = std::fs::read_to_string(&out).unwrap_or(text);
        assert!(
            !text.is_empty() && !text.contains("spawned 30"),
            "pids limit 6 not enforced: {text:?}"
        );
        let ev = std::fs::read_to_string(dir.join("pids.events")).unwrap_or_default();
        assert!(
            ev.lines().any(|l| l.starts_with("max ") && l != "max 0"),
            "pids.events: {ev}"
        );
    } else {
        ward_tests::say(&format!(
            "SKIP-WEAKENED: {}: cgroup2 has no pids controller here (v1 holds it): limit not checked",
            ctx.name
        ));
    }
    as_user(&["delete", "--force", &id]).ok();
    assert!(!dir.exists(), "{} left behind", dir.display());
}

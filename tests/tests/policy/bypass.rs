//! The policy bypasses of an attacker's review (issue 14): each class, with
//! the spellings an attacker tries next. Every refusal must name its rule,
//! be in the audit log and leave nothing behind; the allowed cases show the
//! rule does not refuse what engines really send.

use std::path::Path;

use ward_tests::{json, Bundle, Ctx};

use super::{assert_refused, create, record_for, set_caps, ward_ctx};

/// A bind of `src` (as written) at /h, read-write unless `ro`.
fn with_bind(ctx: &Ctx, src: &str, ro: bool) -> Bundle {
    let mut b = ctx.bundle(&["true"]);
    let mut opts = vec!["rbind"];
    if ro {
        opts.push("ro");
    }
    b.mount(json!({"destination": "/h", "type": "bind", "source": src, "options": opts}));
    b
}

/// Findings 1, 2 and 5: at least 25 spellings of sensitive sources, each
/// refused by the rule it trips (judged on what the runtime opens).
#[test]
fn sensitive_sources_are_refused_however_they_are_spelled() {
    let Some(ctx) = ward_ctx("policy-spellings") else {
        return;
    };
    let scratch = ctx.path("scratch");
    std::fs::create_dir_all(&scratch).expect("mkdir scratch");
    let link = |name: &str, target: &str| {
        let p = scratch.join(name);
        std::os::unix::fs::symlink(target, &p).expect("symlink");
        p.display().to_string()
    };
    let etc_link = link("etc-link", "/etc");
    let chain = link("chain", &etc_link);
    let relative_up = link("up", "../../../../../../../../etc");
    let root_link = link("root-link", "/");
    let cron_link = link("cron-link", "/etc/cron.d");
    // An engine's socket on a path of its own, found listening.
    let sockdir = scratch.join("engine");
    std::fs::create_dir_all(&sockdir).expect("mkdir");
    let _listener =
        std::os::unix::net::UnixListener::bind(sockdir.join("docker.sock")).expect("a unix socket");
    let me = std::process::id();
    let sens = "mount.sensitive-host-path";
    let sock = "mount.runtime-socket";
    let mut cases: Vec<(String, bool, &str)> = vec![
        ("/".into(), true, sens),
        ("//".into(), true, sens),
        ("/./".into(), true, sens),
        ("/etc/".into(), true, sens),
        ("//etc".into(), true, sens),
        ("/etc/.".into(), true, sens),
        ("/usr/../etc".into(), true, sens),
        ("/tmp/../etc".into(), true, sens),
        (etc_link, true, sens),
        (chain, true, sens),
        (relative_up, true, sens),
        (root_link, true, sens),
        (cron_link, false, sens),
        ("/proc/self/root/etc".into(), true, sens),
        (format!("/proc/{me}/root/etc"), true, sens),
        ("/proc/thread-self/root".into(), true, sens),
        ("/proc/self/cwd".into(), true, sens),
        // Relative sources are relative to the bundle.
        ("../../../../../../../../etc".into(), true, sens),
        ("rootfs/../../../../../../../../etc".into(), true, sens),
        // Inside the container's own rootfs.
        ("rootfs/bin".into(), true, sens),
        // Children of sensitive roots (finding 5).
        ("/etc/cron.d".into(), false, sens),
        ("/proc/sys".into(), false, sens),
        ("/sys/fs/cgroup".into(), false, sens),
        ("/sys/kernel".into(), true, sens),
        ("/usr/local/bin".into(), false, sens),
        ("/root/.".into(), true, sens),
        ("/etc/passwd".into(), false, sens),
        // The runtime's own state root.
        (ctx.root.display().to_string(), true, sens),
        // A directory holding a listening docker.sock.
        (sockdir.display().to_string(), true, sock),
        (
            sockdir.join("docker.sock").display().to_string(),
            false,
            sock,
        ),
    ];
    for (extra, rule) in [
        ("/etc/systemd/system", sens),
        ("/root/.ssh", sens),
        ("/run/dbus", sens),
        ("/run/systemd", sens),
        ("/dev/vda", sens),
        ("/run/dbus/system_bus_socket", sock),
    ] {
        if Path::new(extra).exists() {
            cases.push((extra.into(), false, rule));
        }
    }
    assert!(cases.len() >= 25, "{} cases", cases.len());
    for (src, ro, rule) in &cases {
        let b = with_bind(&ctx, src, *ro);
        assert_refused(&ctx, None, &b, rule);
    }
    eprintln!("{}: {} spellings refused", ctx.name, cases.len());
}

/// Finding 1: a source that passes through a procfs or a symlink that an
/// earlier mount of the same config puts in the rootfs. Even with the
/// mount rules switched off, the init mounts only the file that was opened
/// before the container was made (the escape tests show what runc does).
#[test]
fn a_source_through_a_mount_of_the_same_config_is_refused() {
    let Some(ctx) = ward_ctx("policy-stacked") else {
        return;
    };
    let stacked = |b: &mut Bundle| {
        b.mount(json!({"destination": "/p", "type": "proc", "source": "proc"}));
        b.mount(json!({"destination": "/h", "type": "bind", "source": "rootfs/p/1/root", "options": ["rbind", "rw"]}));
    };
    let mut b = ctx.bundle(&["true"]);
    stacked(&mut b);
    assert_refused(&ctx, None, &b, "mount.sensitive-host-path");
    // The attacker pre-creates the path in the rootfs so that it exists
    // when judged: refused as a source inside the rootfs; with the rule
    // off, refused by the init at mount time (magic link not followed).
    std::fs::create_dir_all(b.rootfs().join("p/1/root")).expect("mkdir");
    assert_refused(&ctx, None, &b, "mount.sensitive-host-path");
    let off = super::write_policy(
        &ctx,
        "[rules]\n\"mount.sensitive-host-path\" = \"off\"\n\"mount.runtime-socket\" = \"off\"\n",
    );
    let id = ctx.id("off");
    let o = create(&ctx, Some(&off), &b, &id);
    assert!(!o.success(), "mounted through the config's own procfs: {o}");
    assert!(o.stderr.contains("magic link"), "{o}");
    ctx.assert_no_leftovers(&id, &b.dir, None);
    // A directory with `x -> /` mounted first, then rootfs/d/x bound.
    let dir = ctx.path("slink");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::os::unix::fs::symlink("/", dir.join("x")).expect("symlink");
    let mut b = ctx.bundle(&["true"]);
    b.mount(json!({"destination": "/d", "type": "bind", "source": dir.display().to_string(), "options": ["rbind"]}));
    b.mount(json!({"destination": "/h", "type": "bind", "source": "rootfs/d/x", "options": ["rbind", "rw"]}));
    std::fs::create_dir_all(b.rootfs().join("d/x")).expect("mkdir");
    let id = ctx.id("swap");
    let o = create(&ctx, Some(&off), &b, &id);
    assert!(
        !o.success(),
        "mounted through the config's own symlink: {o}"
    );
    assert!(o.stderr.contains("another file"), "{o}");
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

/// Finding 5's other half: what engines really bind stays allowed.
#[test]
fn what_engines_bind_is_allowed() {
    let Some(ctx) = ward_ctx("policy-engine-binds") else {
        return;
    };
    let data = ctx.path("volume");
    std::fs::create_dir_all(&data).expect("mkdir");
    for (src, ro) in [
        ("/etc/localtime", true),
        ("/etc/hosts", true),
        ("/usr/share/zoneinfo", true),
        ("/dev/null", false),
        ("/dev/shm", false),
        (data.to_str().unwrap_or("/nonexistent"), false),
    ] {
        if !Path::new(src).exists() {
            continue;
        }
        let b = with_bind(&ctx, src, ro);
        let id = ctx.id("ok");
        let o = create(&ctx, None, &b, &id);
        assert!(o.success(), "{src}: {o}");
        let r = record_for(&ctx, &id, "create");
        assert_ne!(r["decision"], "refused", "{src}: {r}");
        ctx.delete_force(&id);
    }
}

/// Finding 2: root.path is judged like a bind source.
#[test]
fn a_host_directory_as_root_path_is_refused() {
    let Some(ctx) = ward_ctx("policy-rootfs") else {
        return;
    };
    let link = ctx.path("root-link");
    std::os::unix::fs::symlink("/", &link).expect("symlink");
    for root in [
        "/".to_string(),
        "//".to_string(),
        link.display().to_string(),
        "../../../../../../../..".to_string(),
        "/etc".to_string(),
        "/etc/cron.d".to_string(),
        "/proc/self/root".to_string(),
    ] {
        let mut b = ctx.bundle(&["true"]);
        b.config["root"] = json!({"path": root, "readonly": false});
        let id = ctx.id("root");
        let o = create(&ctx, None, &b, &id);
        assert!(!o.success(), "root.path {root}: {o}");
        assert!(
            o.stderr.contains("rule mount.sensitive-host-path"),
            "root.path {root}: {o}"
        );
        assert!(o.stderr.contains("root.path"), "{o}");
        ctx.assert_no_leftovers(&id, &b.dir, None);
        let r = record_for(&ctx, &id, "create");
        assert_eq!(r["decision"], "refused", "{root}: {r}");
    }
    // `ward audit` reports it too.
    let mut b = ctx.bundle(&["true"]);
    b.config["root"] = json!({"path": "/", "readonly": false});
    b.save().expect("save");
    let o = super::ward(
        &ctx,
        &["audit", "--json", &b.config_path().display().to_string()],
    );
    assert!(o.stdout.contains("root.path is /"), "{o}");
}

/// Finding 4: CAP_SYS_ADMIN is judged on what the filter lets through, and
/// a privileged set is counted by its escape capabilities.
#[test]
fn sys_admin_needs_a_filter_that_denies_its_escapes() {
    let Some(ctx) = ward_ctx("policy-sys-admin") else {
        return;
    };
    let admin = |b: &mut Bundle, mut caps: Vec<&str>| {
        caps.push("CAP_SYS_ADMIN");
        set_caps(b, &caps);
    };
    // One errno rule for acct narrows nothing.
    let mut b = ctx.bundle(&["true"]);
    admin(&mut b, ward_spec::caps::DOCKER_DEFAULT.to_vec());
    b.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["acct"], "action": "SCMP_ACT_ERRNO"}]});
    assert_refused(&ctx, None, &b, "seccomp.unconfined-sys-admin");
    // A conditional rule does not deny for every argument.
    b.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mount"], "action": "SCMP_ACT_ERRNO",
                      "args": [{"index": 3, "value": 0, "op": "SCMP_CMP_EQ"}]}]});
    assert_refused(&ctx, None, &b, "seccomp.unconfined-sys-admin");
    // Every escape syscall denied: admitted, and mount really fails inside.
    let denied = [
        "mount",
        "umount",
        "umount2",
        "unshare",
        "setns",
        "pivot_root",
        "bpf",
        "keyctl",
        "add_key",
        "request_key",
        "open_by_handle_at",
        "name_to_handle_at",
        "fsopen",
        "fsconfig",
        "fsmount",
        "fspick",
        "open_tree",
        "move_mount",
        "mount_setattr",
        "init_module",
        "finit_module",
        "delete_module",
        "kexec_load",
        "kexec_file_load",
        "perf_event_open",
        "quotactl",
    ];
    let mut b = ctx.bundle(&[
        "sh",
        "-c",
        "mkdir -p /tmp/m && mount -t tmpfs t /tmp/m && echo MOUNTED || echo DENIED",
    ]);
    admin(&mut b, vec![]);
    b.config["linux"]["seccomp"] = json!({"defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": denied, "action": "SCMP_ACT_ERRNO"}]});
    b.config["root"]["readonly"] = json!(false);
    let id = ctx.id("narrowed");
    b.save().expect("save");
    let o = super::rt(
        &ctx,
        None,
        &["run", "--bundle", &b.dir.display().to_string(), &id],
    );
    assert!(o.success(), "{o}");
    assert!(o.stdout.contains("DENIED"), "{o}");
    // 37 of 41 capabilities, without SYS_ADMIN and the host-kernel ones.
    let mut b = ctx.bundle(&["true"]);
    let most: Vec<&str> = ward_spec::caps::NAMES
        .iter()
        .copied()
        .filter(|c| {
            ![
                "CAP_SYS_ADMIN",
                "CAP_SYS_MODULE",
                "CAP_SYS_RAWIO",
                "CAP_SYS_BOOT",
            ]
            .contains(c)
        })
        .collect();
    set_caps(&mut b, &most);
    assert_refused(&ctx, None, &b, "privileged");
}

/// Finding 7: a namespace path that is the host's is recognised even when
/// host pid 1's namespaces cannot be read: compared with the runtime's own.
#[test]
fn host_namespace_by_another_path_is_the_hosts() {
    let Some(ctx) = ward_ctx("policy-host-ns") else {
        return;
    };
    let mut sleeper = std::process::Command::new("sleep")
        .arg("30")
        .spawn()
        .expect("spawn sleep");
    let pid = sleeper.id();
    let mut b = ctx.bundle(&["true"]);
    set_caps(&mut b, &["CAP_SYS_PTRACE"]);
    b.config["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "uts"}, {"type": "pid", "path": format!("/proc/{pid}/ns/pid")}]);
    assert_refused(&ctx, None, &b, "namespace.host-pid-ptrace");
    let mut b = ctx.bundle(&["true"]);
    set_caps(&mut b, &["CAP_SYS_PTRACE"]);
    b.config["linux"]["namespaces"] =
        json!([{"type": "mount"}, {"type": "uts"}, {"type": "pid", "path": "/proc/self/ns/pid"}]);
    assert_refused(&ctx, None, &b, "namespace.host-pid-ptrace");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

/// Finding 6: hooks are host commands: a rule (warn by default, with an
/// allowlist), the hook paths in the audit record, a `ward audit` finding.
#[test]
fn hooks_are_judged_and_recorded() {
    let Some(ctx) = ward_ctx("policy-hooks") else {
        return;
    };
    let marker = ctx.path("hook-ran");
    let mut b = ctx.bundle(&["true"]);
    b.config["hooks"] = json!({"createRuntime": [{"path": "/bin/sh",
        "args": ["sh", "-c", format!("touch {}", marker.display())]}]});
    let id = ctx.id("warned");
    let o = create(&ctx, None, &b, &id);
    assert!(o.success(), "{o}");
    let r = record_for(&ctx, &id, "create");
    assert_eq!(r["decision"], "warned", "{r}");
    assert!(
        r["rules"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "hooks.host-command")),
        "{r}"
    );
    assert_eq!(r["hooks"][0]["stage"], "createRuntime", "{r}");
    assert_eq!(r["hooks"][0]["path"], "/bin/sh", "{r}");
    ctx.delete_force(&id);
    // Enforced by the policy file: refused before the hook runs.
    let _ = std::fs::remove_file(&marker);
    let enforce = super::write_policy(&ctx, "[rules]\n\"hooks.host-command\" = \"enforce\"\n");
    assert_refused(&ctx, Some(&enforce), &b, "hooks.host-command");
    assert!(!marker.exists(), "the hook ran although the policy refused");
    // Allowed by path: no finding.
    let allow = super::write_policy(
        &ctx,
        "[rules]\n\"hooks.host-command\" = \"enforce\"\n[hooks]\nallow = [\"/bin/sh\"]\n",
    );
    let id = ctx.id("allowed");
    let o = create(&ctx, Some(&allow), &b, &id);
    assert!(o.success(), "{o}");
    ctx.delete_force(&id);
    // `ward audit` reports it.
    b.save().expect("save");
    let o = super::ward(
        &ctx,
        &["audit", "--json", &b.config_path().display().to_string()],
    );
    assert!(o.stdout.contains("hooks.host-command"), "{o}");
}

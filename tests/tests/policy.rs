//! ward-oci's policy gate and audit log (issue 8). ward-specific: runc and
//! crun have no policy, so every test SKIPs for them.
//!
//! Each test passes `--audit-log` (a file of its own) and, where it needs
//! one, `--policy`; the default policy is the built-in one unless the host
//! has /etc/ward/policy.toml (then the default-policy tests SKIP).

use std::path::{Path, PathBuf};

use ward_tests::{json, Bundle, Ctx, Kind, Out, Value};

/// The capabilities ward knows (a privileged container holds them all).
const ALL_CAPS: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// A ward-only context (None after printing SKIP for runc/crun).
fn ward_ctx(name: &str) -> Option<Ctx> {
    let ctx = Ctx::new(name)?;
    if ctx.rt.kind != Kind::Other {
        ward_tests::say(&format!(
            "SKIP: {name}: the policy gate and audit log are ward's; {} has none",
            ctx.rt.name()
        ));
        return None;
    }
    Some(ctx)
}

fn default_policy_in_force(ctx: &Ctx) -> bool {
    if Path::new("/etc/ward/policy.toml").exists() {
        ward_tests::say(&format!(
            "SKIP: {}: /etc/ward/policy.toml exists, the built-in defaults are not in force",
            ctx.name
        ));
        return false;
    }
    true
}

/// `ward-oci --audit-log LOG [--policy P] ARGS...`
fn rt(ctx: &Ctx, policy: Option<&Path>, args: &[&str]) -> Out {
    let mut v = vec![
        "--audit-log".to_string(),
        ctx.path("audit.log").display().to_string(),
    ];
    if let Some(p) = policy {
        v.push("--policy".into());
        v.push(p.display().to_string());
    }
    v.extend(args.iter().map(|s| s.to_string()));
    ctx.rt(&v)
}

fn create(ctx: &Ctx, policy: Option<&Path>, b: &Bundle, id: &str) -> Out {
    b.save().expect("save config.json");
    rt(
        ctx,
        policy,
        &["create", "--bundle", &b.dir.display().to_string(), id],
    )
}

fn run(ctx: &Ctx, policy: Option<&Path>, b: &Bundle, id: &str) -> Out {
    b.save().expect("save config.json");
    rt(
        ctx,
        policy,
        &["run", "--bundle", &b.dir.display().to_string(), id],
    )
}

fn records(ctx: &Ctx) -> Vec<Value> {
    std::fs::read_to_string(ctx.path("audit.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("audit line {l:?}: {e}")))
        .collect()
}

fn record_for(ctx: &Ctx, id: &str, action: &str) -> Value {
    records(ctx)
        .into_iter()
        .rev()
        .find(|r| r["id"] == id && r["action"] == action)
        .unwrap_or_else(|| panic!("no {action} record for {id} in {:?}", records(ctx)))
}

fn write_policy(ctx: &Ctx, text: &str) -> PathBuf {
    let p = ctx.path(&format!("policy-{}.toml", ctx.id("p")));
    std::fs::write(&p, text).expect("write policy");
    p
}

fn set_caps(b: &mut Bundle, caps: &[&str]) {
    b.config["process"]["capabilities"] =
        json!({"bounding": caps, "effective": caps, "permitted": caps});
}

/// A change to a bundle's config.
type Mutation = Box<dyn Fn(&mut Bundle)>;

/// Refused with the rule named, and nothing left behind.
#[track_caller]
fn assert_refused(ctx: &Ctx, policy: Option<&Path>, b: &Bundle, rule: &str) {
    let id = ctx.id("deny");
    let o = create(ctx, policy, b, &id);
    assert!(!o.success(), "{rule}: create succeeded: {o}");
    assert!(
        o.stderr.contains(&format!("rule {rule}")),
        "{rule}: the error does not name the rule: {o}"
    );
    assert!(
        o.stderr.contains("to allow it"),
        "{rule}: the error does not say how to allow it: {o}"
    );
    ctx.assert_no_leftovers(&id, &b.dir, None);
    assert!(
        !ctx.root.join(&id).exists(),
        "{rule}: state directory left behind"
    );
    let r = record_for(ctx, &id, "create");
    assert_eq!(r["decision"], "refused", "{r}");
    assert!(
        r["rules"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == rule)),
        "{r}"
    );
}

#[test]
fn enforce_refuses_each_dangerous_config_and_leaves_nothing() {
    let Some(ctx) = ward_ctx("policy-enforce") else {
        return;
    };
    if !default_policy_in_force(&ctx) {
        return;
    }
    let cases: Vec<(&str, Mutation)> = vec![
        ("privileged", Box::new(|b| set_caps(b, &ALL_CAPS))),
        (
            "seccomp.unconfined-sys-admin",
            Box::new(|b| set_caps(b, &["CAP_SYS_ADMIN"])),
        ),
        (
            "caps.host-kernel",
            Box::new(|b| set_caps(b, &["CAP_SYS_MODULE"])),
        ),
        (
            "namespace.host-pid-ptrace",
            Box::new(|b| {
                set_caps(b, &["CAP_SYS_PTRACE"]);
                b.config["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}]);
            }),
        ),
        (
            "mount.sensitive-host-path",
            Box::new(|b| {
                b.mount(json!({"destination": "/host-etc", "type": "bind", "source": "/etc", "options": ["rbind", "ro"]}));
            }),
        ),
        (
            "mount.runtime-socket",
            Box::new(|b| {
                b.mount(json!({"destination": "/docker.sock", "type": "bind", "source": "/var/run/docker.sock", "options": ["bind"]}));
            }),
        ),
        (
            "device.all",
            Box::new(|b| {
                b.config["linux"]["resources"]["devices"] =
                    json!([{"allow": true, "access": "rwm"}]);
            }),
        ),
    ];
    for (rule, mutate) in cases {
        let mut b = ctx.bundle(&["true"]);
        mutate(&mut b);
        assert_refused(&ctx, None, &b, rule);
    }
    // A host sysctl: ward's config validation refuses it before the
    // policy is asked (the policy's sysctl.unsafe is what `ward audit`
    // reports); nothing is left behind either way.
    let mut b = ctx.bundle(&["true"]);
    b.sysctl("kernel.core_pattern", "|/tmp/pwn");
    let id = ctx.id("sysctl");
    let o = create(&ctx, None, &b, &id);
    assert!(
        !o.success() && o.stderr.contains("kernel.core_pattern"),
        "{o}"
    );
    ctx.assert_no_leftovers(&id, &b.dir, None);
    // A bind of the runtime's own state root.
    let mut b = ctx.bundle(&["true"]);
    b.mount(json!({"destination": "/state", "type": "bind", "source": ctx.root.display().to_string(), "options": ["rbind"]}));
    assert_refused(&ctx, None, &b, "mount.sensitive-host-path");
}

#[test]
fn docker_privileged_with_host_root_is_refused_by_default() {
    let Some(ctx) = ward_ctx("policy-privileged") else {
        return;
    };
    if !default_policy_in_force(&ctx) {
        return;
    }
    // docker run --privileged -v /:/host: every capability, no seccomp,
    // no masked or read-only paths, every device, the host's / mounted.
    let mut b = ctx.bundle(&["true"]);
    set_caps(&mut b, &ALL_CAPS);
    b.config["linux"]["maskedPaths"] = json!([]);
    b.config["linux"]["readonlyPaths"] = json!([]);
    b.config["linux"]["resources"]["devices"] = json!([{"allow": true, "access": "rwm"}]);
    b.config["root"]["readonly"] = json!(false);
    b.mount(json!({"destination": "/host", "type": "bind", "source": "/", "options": ["rbind", "rprivate"]}));
    assert_refused(&ctx, None, &b, "privileged");
    let r = records(&ctx);
    let last = r.last().expect("a record");
    for rule in [
        "privileged",
        "mount.sensitive-host-path",
        "mount.runtime-socket",
        "device.all",
        "seccomp.unconfined-sys-admin",
    ] {
        assert!(
            last["rules"]
                .as_array()
                .is_some_and(|a| a.iter().any(|x| x == rule)),
            "{rule} missing: {last}"
        );
    }
}

#[test]
fn runc_template_runs_with_warnings_under_the_default_policy() {
    let Some(ctx) = ward_ctx("policy-default-warn") else {
        return;
    };
    if !default_policy_in_force(&ctx) {
        return;
    }
    let b = ctx.bundle(&["true"]);
    let id = ctx.id("warn");
    run(&ctx, None, &b, &id).ok();
    let r = record_for(&ctx, &id, "run");
    assert_eq!(r["decision"], "warned", "{r}");
    // On a host with AppArmor, a process without a profile also runs
    // unconfined (rule lsm.unconfined, warn by default).
    let mut want = vec!["seccomp.missing", "namespace.host-user", "user.root"];
    if host_has_apparmor() {
        want.push("lsm.unconfined");
    }
    let mut got: Vec<String> = r["rules"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{r}");
}

/// Whether AppArmor is enabled here (the policy then flags unconfined processes).
fn host_has_apparmor() -> bool {
    std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
        .is_ok_and(|s| s.trim() == "Y")
}

#[test]
fn warn_mode_from_a_policy_file_logs_and_allows() {
    let Some(ctx) = ward_ctx("policy-warn") else {
        return;
    };
    let p = write_policy(
        &ctx,
        "[rules]\n\"mount.sensitive-host-path\" = \"warn\"\n\"caps.host-kernel\" = \"warn\"\n",
    );
    let mut b = ctx.bundle(&["sh", "-c", "test -f /host-etc/hostname && echo seen"]);
    b.mount(json!({"destination": "/host-etc", "type": "bind", "source": "/etc", "options": ["rbind", "ro"]}));
    set_caps(&mut b, &["CAP_SYS_MODULE"]);
    let id = ctx.id("warn");
    let o = run(&ctx, Some(&p), &b, &id).ok();
    assert!(o.stdout.contains("seen"), "{o}");
    assert!(o.stderr.contains("mount.sensitive-host-path"), "{o}");
    let r = record_for(&ctx, &id, "run");
    assert_eq!(r["decision"], "warned", "{r}");
    for rule in ["mount.sensitive-host-path", "caps.host-kernel"] {
        assert!(
            r["findings"]
                .as_array()
                .is_some_and(|a| a.iter().any(|f| f["rule"] == rule && f["mode"] == "warn")),
            "{rule}: {r}"
        );
    }
    assert_eq!(r["policy"], p.display().to_string(), "{r}");
}

#[test]
fn enforce_mode_from_a_policy_file() {
    let Some(ctx) = ward_ctx("policy-file-enforce") else {
        return;
    };
    let p = write_policy(
        &ctx,
        "[rules]\n\"rootfs.writable\" = \"enforce\"\n\"namespace.host-user\" = \"off\"\n",
    );
    let mut b = ctx.bundle(&["true"]);
    b.readonly(false);
    assert_refused(&ctx, Some(&p), &b, "rootfs.writable");
    let r = records(&ctx);
    let last = r.last().expect("record");
    assert!(
        !last["rules"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x == "namespace.host-user")),
        "an off rule was reported: {last}"
    );
}

#[test]
fn invalid_policy_refuses_everything() {
    let Some(ctx) = ward_ctx("policy-invalid") else {
        return;
    };
    // A container created under a good policy first, for exec and update.
    let b = ctx.bundle(&["sleep", "60"]);
    let id = ctx.id("ok");
    create(&ctx, None, &b, &id).ok();
    for text in [
        "[rules\n",
        "[rules]\nprivileged = \"sometimes\"\n",
        "[rules]\nno-such-rule = \"off\"\n",
    ] {
        let p = write_policy(&ctx, text);
        let nid = ctx.id("bad");
        let o = create(&ctx, Some(&p), &b, &nid);
        assert!(!o.success(), "{text:?}: {o}");
        assert!(o.stderr.contains(&p.display().to_string()), "{o}");
        assert!(o.stderr.contains("line "), "no line number: {o}");
        assert!(o.stderr.contains("no container starts"), "{o}");
        ctx.assert_no_leftovers(&nid, &b.dir, None);
        let r = record_for(&ctx, &nid, "create");
        assert_eq!(r["decision"], "refused", "{r}");
        assert_eq!(r["rules"], json!(["policy.invalid"]), "{r}");
        let o = rt(&ctx, Some(&p), &["exec", &id, "true"]);
        assert!(
            !o.success() && o.stderr.contains("no container starts"),
            "{o}"
        );
        let o = rt(&ctx, Some(&p), &["update", "--pids-limit", "10", &id]);
        assert!(
            !o.success() && o.stderr.contains("no container starts"),
            "{o}"
        );
    }
    // A missing --policy file refuses too.
    let missing = ctx.path("nope.toml");
    let o = create(&ctx, Some(&missing), &b, &ctx.id("missing"));
    assert!(!o.success() && o.stderr.contains("nope.toml"), "{o}");
    // Cleaning up still works under a broken policy.
    let p = write_policy(&ctx, "[rules\n");
    rt(&ctx, Some(&p), &["delete", "--force", &id]).ok();
}

#[test]
fn exec_and_update_are_checked() {
    let Some(ctx) = ward_ctx("policy-exec-update") else {
        return;
    };
    let b = ctx.bundle(&["sleep", "60"]);
    let id = ctx.id("c");
    b.save().expect("save");
    rt(
        &ctx,
        None,
        &["run", "-d", "--bundle", &b.dir.display().to_string(), &id],
    )
    .ok();
    let o = rt(
        &ctx,
        None,
        &["exec", "--cap", "CAP_SYS_MODULE", &id, "true"],
    );
    assert!(
        !o.success() && o.stderr.contains("rule caps.host-kernel"),
        "{o}"
    );
    assert_eq!(record_for(&ctx, &id, "exec")["decision"], "refused");
    rt(&ctx, None, &["exec", &id, "true"]).ok();
    let res = ctx.path("res.json");
    std::fs::write(
        &res,
        json!({"devices": [{"allow": true, "access": "rwm"}]}).to_string(),
    )
    .expect("write");
    let o = rt(
        &ctx,
        None,
        &["update", "--resources", &res.display().to_string(), &id],
    );
    assert!(!o.success() && o.stderr.contains("rule device.all"), "{o}");
    assert_eq!(record_for(&ctx, &id, "update")["decision"], "refused");
    rt(&ctx, None, &["update", "--pids-limit", "50", &id]).ok();
    rt(&ctx, None, &["kill", &id, "KILL"]).ok();
    let _ = ctx.wait_status(&id, "stopped", std::time::Duration::from_secs(5));
    rt(&ctx, None, &["delete", &id]).ok();
    let actions: Vec<String> = records(&ctx)
        .iter()
        .filter(|r| r["id"] == id.as_str())
        .map(|r| format!("{}:{}", r["action"], r["decision"]).replace('"', ""))
        .collect();
    assert_eq!(
        actions,
        [
            "run:warned",
            "exec:refused",
            "exec:warned",
            "update:refused",
            "update:allowed",
            "kill:allowed",
            "delete:allowed"
        ],
        "{actions:?}"
    );
}

#[test]
fn audit_log_records_refused_and_allowed_create() {
    let Some(ctx) = ward_ctx("policy-audit-log") else {
        return;
    };
    let mut b = ctx.bundle(&["true"]);
    b.env(&["SECRET_TOKEN=hunter2"]);
    let ok = ctx.id("allowed");
    create(&ctx, None, &b, &ok).ok();
    b.mount(json!({"destination": "/host", "type": "bind", "source": "/", "options": ["rbind"]}));
    let bad = ctx.id("refused");
    assert!(!create(&ctx, None, &b, &bad).success());
    let text = std::fs::read_to_string(ctx.path("audit.log")).expect("audit log written");
    assert!(!text.contains("hunter2"), "an env value leaked: {text}");
    let me = std::process::id();
    for (id, decision) in [(&ok, "warned"), (&bad, "refused")] {
        let r = record_for(&ctx, id, "create");
        assert_eq!(r["decision"], decision, "{r}");
        assert!(r["time"].as_str().is_some_and(|t| t.contains('T')), "{r}");
        assert_eq!(
            r["bundle"],
            std::fs::canonicalize(&b.dir)
                .expect("bundle")
                .display()
                .to_string(),
            "{r}"
        );
        assert_eq!(r["caller"]["uid"], 0, "{r}");
        assert!(r["caller"]["pid"].as_u64().is_some_and(|p| p > 0), "{r}");
        // The parent of ward-oci is this test process.
        assert_eq!(r["caller"]["ppid"], me, "{r}");
        assert!(
            r["caller"]["parent_cmdline"][0]
                .as_str()
                .is_some_and(|c| c.contains("policy")),
            "{r}"
        );
        assert!(r["rules"].as_array().is_some_and(|a| !a.is_empty()), "{r}");
        let env = r["process"]["env"].as_array().expect("env");
        assert!(env.iter().any(|e| e == "SECRET_TOKEN=<redacted>"), "{r}");
    }
    assert!(record_for(&ctx, &bad, "create")["rules"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x == "mount.sensitive-host-path")));
}

#[test]
fn hardened_spec_runs_and_compat_writes_runcs() {
    let Some(ctx) = ward_ctx("policy-hardened-spec") else {
        return;
    };
    let b = ctx.bundle(&["true"]);
    // The bundle's config.json is written on save: `spec` writes it first.
    let _ = std::fs::remove_file(b.config_path());
    ctx.cmd(&["spec"]).cwd(&b.dir).run().ok();
    let text = std::fs::read_to_string(b.config_path()).expect("spec written");
    let mut v: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(v["process"]["capabilities"]["bounding"], json!([]), "{v}");
    assert_eq!(v["root"]["readonly"], true);
    assert_eq!(v["process"]["noNewPrivileges"], true);
    assert!(v["linux"]["seccomp"]["syscalls"].is_array(), "{v}");
    assert!(
        v["linux"]["uidMappings"][0]["size"].as_u64().is_some(),
        "{v}"
    );
    assert!(v["linux"]["resources"]["pids"]["limit"].is_number(), "{v}");
    assert!(
        v["linux"]["resources"]["memory"]["limit"].is_number(),
        "{v}"
    );
    let host = v["linux"]["uidMappings"][0]["hostID"].clone();
    v["process"]["terminal"] = json!(false);
    v["process"]["args"] = json!([
        "sh",
        "-c",
        "cat /proc/self/uid_map; grep CapEff /proc/self/status; touch /x || echo ro"
    ]);
    let mut b2 = b;
    b2.config = v;
    let id = ctx.id("hard");
    let o = run(&ctx, None, &b2, &id).ok();
    assert!(
        o.stdout.contains(&format!("0 {:>10}", host)) || o.stdout.contains(&host.to_string()),
        "{o}"
    );
    assert!(o.stdout.contains("CapEff:\t0000000000000000"), "{o}");
    assert!(o.stdout.contains("ro"), "{o}");
    let r = record_for(&ctx, &id, "run");
    if host_has_apparmor() {
        // ward ships no AppArmor profile of its own yet: the hardened spec
        // sets none, and the policy says so.
        assert_eq!(r["decision"], "warned", "{r}");
        assert_eq!(r["rules"], json!(["lsm.unconfined"]), "{r}");
    } else {
        assert_eq!(r["decision"], "allowed", "{r}");
    }
    // --compat runc: runc's template.
    let d = ctx.path("compat");
    std::fs::create_dir_all(&d).expect("mkdir");
    ctx.cmd(&["spec", "--compat", "runc"]).cwd(&d).run().ok();
    let c: Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("config.json")).expect("written"))
            .expect("json");
    assert!(c["linux"]["seccomp"].is_null(), "{c}");
    assert!(c["linux"]["uidMappings"].is_null(), "{c}");
    assert_eq!(
        c["process"]["capabilities"]["bounding"],
        json!(["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"])
    );
}

//! ward-oci's policy gate and audit log (issue 8). ward-specific: runc and
//! crun have no policy, so every test SKIPs for them.
//!
//! Each test passes `--audit-log` (a file of its own) and, where it needs
//! one, `--policy`; without one the built-in defaults apply (an empty
//! policy file where the host has /etc/ward/policy.toml).

use std::path::{Path, PathBuf};

use ward_tests::{json, Bundle, Ctx, Kind, Out, Value};

/// The capabilities ward knows (a privileged container holds them all).
const ALL_CAPS: [&str; 41] = ward_spec::caps::NAMES;

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

/// The built-in defaults are what `--policy` absent means, unless the host
/// has /etc/ward/policy.toml (as after the README's install): then the
/// tests that need the defaults pass an empty policy file, which is exactly
/// them, instead of skipping.
fn builtin_defaults(ctx: &Ctx) -> Option<PathBuf> {
    if !Path::new("/etc/ward/policy.toml").exists() {
        return None;
    }
    let empty = ctx.path("built-in-defaults.toml");
    std::fs::write(&empty, "").expect("write an empty policy");
    Some(empty)
}

/// `ward-oci --audit-log LOG [--policy P] ARGS...`
fn rt(ctx: &Ctx, policy: Option<&Path>, args: &[&str]) -> Out {
    let mut v = vec![
        "--audit-log".to_string(),
        ctx.path("audit.log").display().to_string(),
    ];
    let defaults = builtin_defaults(ctx);
    if let Some(p) = policy.or(defaults.as_deref()) {
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

/// The last decision record of `action` on `id` (outcome records, which
/// follow allowed actions, have no "decision").
fn record_for(ctx: &Ctx, id: &str, action: &str) -> Value {
    records(ctx)
        .into_iter()
        .rev()
        .find(|r| r["id"] == id && r["action"] == action && r.get("decision").is_some())
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
    // An engine's socket on a path of its own (`dockerd -H
    // unix:///srv/docker.sock`, rootless engines) is found by its name: the
    // clients suite's private dockerd exposed this (tests/clients).
    let mut b = ctx.bundle(&["true"]);
    let sock = b.dir.join("docker.sock");
    let _listener =
        std::os::unix::net::UnixListener::bind(&sock).expect("a unix socket in the bundle dir");
    b.mount(json!({"destination": "/var/run/docker.sock", "type": "bind", "source": sock.display().to_string(), "options": ["bind"]}));
    assert_refused(&ctx, None, &b, "mount.runtime-socket");
}

#[test]
fn docker_privileged_with_host_root_is_refused_by_default() {
    let Some(ctx) = ward_ctx("policy-privileged") else {
        return;
    };
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
    ward_tests::apparmor::enabled()
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
    b.save().expect("save config.json");
    let log = ctx.path("runtime.log");
    let o = rt(
        &ctx,
        Some(&p),
        &[
            "--log",
            &log.display().to_string(),
            "run",
            "--bundle",
            &b.dir.display().to_string(),
            &id,
        ],
    )
    .ok();
    assert!(o.stdout.contains("seen"), "{o}");
    // The warning line is in the runtime log (stderr is the container's).
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("mount.sensitive-host-path"), "{text}");
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
    assert_eq!(
        trail(&ctx, &id),
        [
            "run:decision=warned",
            "run:result=ok",
            "exec:decision=refused",
            "exec:decision=warned",
            "exec:result=ok",
            "update:decision=refused",
            "update:decision=allowed",
            "update:result=ok",
            "kill:decision=allowed",
            "kill:result=ok",
            "delete:decision=allowed",
            "delete:result=ok"
        ]
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
    assert_eq!(v["annotations"]["run.ward.landlock.read-exec"], "/", "{v}");
    let host = v["linux"]["uidMappings"][0]["hostID"].clone();
    v["process"]["terminal"] = json!(false);
    // /dev is a writable tmpfs that Landlock leaves read-only: a write
    // there shows the Landlock layer (docs/landlock.md); /tmp and
    // /dev/null stay writable.
    v["process"]["args"] = json!([
        "sh",
        "-c",
        "cat /proc/self/uid_map; grep CapEff /proc/self/status; touch /x || echo ro; \
         echo t > /tmp/t && echo tmp=ok; echo n > /dev/null && echo null=ok; \
         touch /dev/probe 2>&1 || echo dev=denied"
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
    for want in ["tmp=ok", "null=ok", "Permission denied", "dev=denied"] {
        assert!(o.stdout.contains(want), "{want}: {o}");
    }
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

/// The audit records of one container, as "action:decision" and
/// "action:result" lines in log order.
fn trail(ctx: &Ctx, id: &str) -> Vec<String> {
    records(ctx)
        .iter()
        .filter(|r| r["id"] == id)
        .map(|r| {
            let (what, v) = if r.get("decision").is_some() {
                ("decision", &r["decision"])
            } else {
                ("result", &r["result"])
            };
            format!("{}:{what}={}", r["action"], v).replace('"', "")
        })
        .collect()
}

#[test]
fn audit_log_records_the_outcome_after_the_decision() {
    let Some(ctx) = ward_ctx("policy-outcome") else {
        return;
    };
    // Allowed by the policy, then fails: the command does not exist (ward,
    // like runc, finds that out during create).
    let b = ctx.bundle(&["/no-such-command"]);
    let bad = ctx.id("nocmd");
    let o = create(&ctx, None, &b, &bad);
    assert!(!o.success(), "{o}");
    let outcome = records(&ctx)
        .into_iter()
        .find(|r| r["id"] == bad.as_str() && r["action"] == "create" && r.get("result").is_some())
        .unwrap_or_else(|| panic!("no create outcome: {:?}", records(&ctx)));
    assert_eq!(outcome["result"], "error", "{outcome}");
    assert!(
        outcome["error"]
            .as_str()
            .is_some_and(|e| e.contains("/no-such-command")),
        "{outcome}"
    );
    // The outcome names the same bundle, process and caller as the decision.
    let decision = record_for(&ctx, &bad, "create");
    assert_eq!(outcome["bundle"], decision["bundle"], "{outcome}");
    assert_eq!(outcome["caller"], decision["caller"], "{outcome}");
    assert!(outcome.get("decision").is_none(), "{outcome}");
    // start of a container that has stopped, kill of a stopped container.
    let b = ctx.bundle(&["true"]);
    let id = ctx.id("ended");
    create(&ctx, None, &b, &id).ok();
    rt(&ctx, None, &["start", &id]).ok();
    ctx.wait_status(&id, "stopped", std::time::Duration::from_secs(10));
    let o = rt(&ctx, None, &["start", &id]);
    assert!(!o.success(), "{o}");
    let o = rt(&ctx, None, &["kill", &id, "TERM"]);
    assert!(!o.success(), "{o}");
    rt(&ctx, None, &["delete", &id]).ok();
    assert_eq!(
        trail(&ctx, &id),
        [
            "create:decision=warned",
            "create:result=ok",
            "start:decision=allowed",
            "start:result=ok",
            "start:decision=allowed",
            "start:result=error",
            "kill:decision=allowed",
            "kill:result=error",
            "delete:decision=allowed",
            "delete:result=ok",
        ]
    );
    let errors: Vec<Value> = records(&ctx)
        .into_iter()
        .filter(|r| r["id"] == id.as_str() && r["result"] == "error")
        .collect();
    assert!(
        errors[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("stopped")),
        "{}",
        errors[0]
    );
    assert!(
        errors[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("not running")),
        "{}",
        errors[1]
    );
    // A refusal is the action's last record and carries its result; a
    // foreground run's outcome carries the container's exit code.
    let mut b = ctx.bundle(&["sh", "-c", "exit 3"]);
    let rid = ctx.id("exit3");
    let o = run(&ctx, None, &b, &rid);
    assert_eq!(o.status.code(), Some(3), "{o}");
    let r = records(&ctx)
        .into_iter()
        .find(|r| r["id"] == rid.as_str() && r.get("result").is_some())
        .expect("run outcome");
    assert_eq!((&r["result"], &r["exit_code"]), (&json!("ok"), &json!(3)));
    b.mount(json!({"destination": "/host", "type": "bind", "source": "/", "options": ["rbind"]}));
    let refused = ctx.id("refused");
    assert!(!create(&ctx, None, &b, &refused).success());
    assert_eq!(trail(&ctx, &refused), ["create:decision=refused"]);
    assert_eq!(record_for(&ctx, &refused, "create")["result"], "refused");
}

/// A datagram socket standing in for the syslog daemon's /dev/log.
fn syslog_listener(ctx: &Ctx) -> (std::os::unix::net::UnixDatagram, PathBuf) {
    let path = ctx.path("syslog.sock");
    let s = std::os::unix::net::UnixDatagram::bind(&path).expect("bind syslog socket");
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .expect("timeout");
    (s, path)
}

/// Splits `<PRI>Mmm dd hh:mm:ss TAG[PID]: MSG` (RFC 3164 as glibc sends it
/// to /dev/log) into (pri, tag, pid, msg).
fn parse_rfc3164(line: &str) -> Option<(u32, &str, u32, &str)> {
    let rest = line.strip_prefix('<')?;
    let (pri, rest) = rest.split_once('>')?;
    let pri: u32 = pri.parse().ok()?;
    // "Nov 23 14:30:05 " is 16 bytes.
    let (stamp, rest) = (rest.get(..16)?, rest.get(16..)?);
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let b = stamp.as_bytes();
    let ok = months.contains(&&stamp[..3])
        && b[3] == b' '
        && (b[4] == b' ' || b[4].is_ascii_digit())
        && b[5].is_ascii_digit()
        && b[6] == b' '
        && b[9] == b':'
        && b[12] == b':'
        && b[15] == b' ';
    if !ok {
        return None;
    }
    let (tag, rest) = rest.split_once('[')?;
    let (pid, msg) = rest.split_once("]: ")?;
    Some((pri, tag, pid.parse().ok()?, msg))
}

#[test]
fn syslog_gets_an_authpriv_record_with_the_json() {
    let Some(ctx) = ward_ctx("policy-syslog") else {
        return;
    };
    let (sock, path) = syslog_listener(&ctx);
    let p = write_policy(
        &ctx,
        &format!("syslog_socket = {:?}\n", path.display().to_string()),
    );
    let b = ctx.bundle(&["true"]);
    let id = ctx.id("syslog");
    create(&ctx, Some(&p), &b, &id).ok();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 65536];
    while got.len() < 2 {
        let n = sock
            .recv(&mut buf)
            .unwrap_or_else(|e| panic!("no syslog record after {got:?}: {e}"));
        got.push(String::from_utf8_lossy(&buf[..n]).into_owned());
    }
    let file = records(&ctx);
    for (line, rec) in got.iter().zip(&file) {
        let (pri, tag, pid, msg) =
            parse_rfc3164(line).unwrap_or_else(|| panic!("not RFC 3164: {line:?}"));
        assert_eq!(pri / 8, 10, "facility is not authpriv: {line}");
        assert_eq!(tag, "ward-oci", "{line}");
        assert_eq!(json!(pid), rec["caller"]["pid"], "{line}");
        let v: Value = serde_json::from_str(msg).unwrap_or_else(|e| panic!("{e}: {msg}"));
        // The same record as in the file.
        assert_eq!(&v, rec, "{line}");
    }
    let (pri, ..) = parse_rfc3164(&got[0]).expect("parsed");
    // The decision (warned: runc's template has no seccomp) is a warning,
    // the outcome (ok) a notice.
    assert_eq!(pri % 8, 4, "{}", got[0]);
    assert_eq!(file[0]["decision"], "warned");
    let (pri, ..) = parse_rfc3164(&got[1]).expect("parsed");
    assert_eq!((pri % 8, &file[1]["result"]), (5, &json!("ok")));
}

#[test]
fn a_missing_syslog_socket_is_silently_fine() {
    let Some(ctx) = ward_ctx("policy-syslog-missing") else {
        return;
    };
    let missing = ctx.path("no-syslog-here");
    let p = write_policy(
        &ctx,
        &format!("syslog_socket = {:?}\n", missing.display().to_string()),
    );
    let b = ctx.bundle(&["true"]);
    let id = ctx.id("nosyslog");
    let o = create(&ctx, Some(&p), &b, &id).ok();
    // Nothing about syslog (and, with no --log and no terminal, not the
    // policy's warning either: see warnings_stay_out_of_the_containers_stderr).
    assert!(o.stderr.is_empty(), "{o}");
    assert!(!missing.exists());
    assert_eq!(
        trail(&ctx, &id),
        ["create:decision=warned", "create:result=ok"]
    );
}

/// Podman (conmon) passes no `--log`, and during create/run the runtime's
/// stderr is the container's: a policy warning written there showed up in
/// the workload's stderr and `podman logs` (found by tests/clients). The
/// warning goes to the `--log` file when there is one, and the audit log.
#[test]
fn warnings_stay_out_of_the_containers_stderr() {
    let Some(ctx) = ward_ctx("policy-warn-stderr") else {
        return;
    };
    // runc's template trips warn rules (user.root, namespace.host-user, ...).
    let b = ctx.bundle(&["sh", "-c", "echo to-stdout; echo to-stderr >&2"]);
    let id = ctx.id("nolog");
    let o = run(&ctx, None, &b, &id).ok();
    assert_eq!(
        (o.stdout.as_str(), o.stderr.as_str()),
        ("to-stdout\n", "to-stderr\n"),
        "{o}"
    );
    assert_eq!(record_for(&ctx, &id, "run")["decision"], "warned");
    let log = ctx.path("runtime.log");
    let id = ctx.id("withlog");
    let o = rt(
        &ctx,
        None,
        &[
            "--log",
            &log.display().to_string(),
            "run",
            "--bundle",
            &b.dir.display().to_string(),
            &id,
        ],
    )
    .ok();
    assert_eq!(o.stderr, "to-stderr\n", "{o}");
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert!(text.contains("allowed with warnings"), "{text}");
}

/// The `ward` binary next to the ward-oci under test.
fn ward_bin(ctx: &Ctx) -> PathBuf {
    let p = ctx.rt.path.with_file_name("ward");
    assert!(
        p.is_file(),
        "{} not found: build it with cargo build -p ward",
        p.display()
    );
    p
}

fn ward(ctx: &Ctx, args: &[&str]) -> Out {
    ward_tests::Cmd::new(ward_bin(ctx), &ctx.dir)
        .args(args.iter().map(|s| s.to_string()))
        .run()
}

/// A bundle with `ward-oci spec`'s hardened config running `args`.
fn hardened_bundle(ctx: &Ctx, args: &[&str]) -> Bundle {
    let mut b = ctx.bundle(args);
    let _ = std::fs::remove_file(b.config_path());
    ctx.cmd(&["spec"]).cwd(&b.dir).run().ok();
    let text = std::fs::read_to_string(b.config_path()).expect("spec written");
    b.config = serde_json::from_str(&text).expect("json");
    b.config["process"]["terminal"] = json!(false);
    b.config["process"]["args"] = json!(args);
    b
}

fn rules_of(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule"].as_str().map(String::from))
        .collect();
    v.sort();
    v
}

#[test]
fn ward_audit_root_reports_each_running_container() {
    let Some(ctx) = ward_ctx("policy-audit-root") else {
        return;
    };
    let hard = ctx.id("hard");
    let b = hardened_bundle(&ctx, &["sleep", "60"]);
    create(&ctx, None, &b, &hard).ok();
    let weak = ctx.id("weak");
    let mut b = ctx.bundle(&["sleep", "60"]);
    set_caps(&mut b, &["CAP_NET_ADMIN", "CAP_KILL"]);
    b.readonly(false);
    create(&ctx, None, &b, &weak).ok();
    rt(&ctx, None, &["start", &weak]).ok();
    // A stopped container is not audited.
    let gone = ctx.id("gone");
    let b = ctx.bundle(&["true"]);
    create(&ctx, None, &b, &gone).ok();
    rt(&ctx, None, &["start", &gone]).ok();
    ctx.wait_status(&gone, "stopped", std::time::Duration::from_secs(10));

    let root = ctx.root.display().to_string();
    let o = ward(&ctx, &["audit", "--json", "--root", &root]).ok();
    let v: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o}"));
    let reports = v.as_array().expect("an array");
    assert_eq!(reports.len(), 2, "{v}");
    let of = |id: &str| {
        reports
            .iter()
            .find(|r| r["id"] == id)
            .unwrap_or_else(|| panic!("{id} not audited: {v}"))
    };
    let lsm = host_has_apparmor().then_some("lsm.unconfined");
    let (h, w) = (of(&hard), of(&weak));
    assert_eq!(h["status"], "created", "{h}");
    assert_eq!(w["status"], "running", "{w}");
    let mut want: Vec<&str> = ["limits.cpu"].into_iter().chain(lsm).collect();
    want.sort();
    assert_eq!(rules_of(h), want, "{h}");
    let mut want: Vec<&str> = [
        "caps.added",
        "limits.cpu",
        "limits.memory",
        "limits.pids",
        "namespace.host-user",
        "rootfs.writable",
        "seccomp.missing",
        "user.root",
    ]
    .into_iter()
    .chain(lsm)
    .collect();
    want.sort();
    assert_eq!(rules_of(w), want, "{w}");
    // Every finding carries its CIS ids, severity, why and fix.
    for f in w["findings"].as_array().into_iter().flatten() {
        for k in ["severity", "title", "detail", "why", "fix"] {
            assert!(
                f[k].as_str().is_some_and(|s| !s.is_empty()),
                "{k} missing: {f}"
            );
        }
        assert!(f["cis"].is_array(), "{f}");
    }
    let caps = w["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule"] == "caps.added")
        .expect("caps.added");
    assert_eq!(caps["cis"], json!(["5.4"]), "{caps}");
    assert_eq!(caps["severity"], "medium", "{caps}");
    assert!(
        caps["detail"]
            .as_str()
            .is_some_and(|d| d.contains("CAP_NET_ADMIN")),
        "{caps}"
    );
    // The text report names both containers, each with its summary.
    let o = ward(&ctx, &["audit", "--root", &root]).ok();
    for id in [&hard, &weak] {
        assert!(o.stdout.contains(&format!("container {id} (")), "{o}");
    }
    assert!(!o.stdout.contains(&gone), "{o}");
    assert!(
        o.stdout.contains("SECCOMP") || o.stdout.contains("seccomp.missing"),
        "{o}"
    );
}

#[test]
fn ward_audit_fail_on_exit_codes() {
    let Some(ctx) = ward_ctx("policy-audit-fail-on") else {
        return;
    };
    // runc's template: its worst finding is seccomp.missing (high).
    let b = ctx.bundle(&["true"]);
    b.save().expect("save");
    let cfg = b.config_path().display().to_string();
    let o = ward(&ctx, &["audit", "--json", &cfg]).ok();
    let v: Value = serde_json::from_str(&o.stdout).unwrap_or_else(|e| panic!("{e}: {o}"));
    assert_eq!(v[0]["target"], cfg.as_str(), "{v}");
    let severities: Vec<&str> = v[0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["severity"].as_str())
        .collect();
    assert_eq!(severities.first(), Some(&"high"), "most severe first: {v}");
    assert!(!severities.contains(&"critical"), "{v}");
    for (threshold, code) in [
        ("critical", 0), // above the worst finding
        ("high", 1),     // at it
        ("medium", 1),   // below it
        ("info", 1),
    ] {
        let o = ward(&ctx, &["audit", "--fail-on", threshold, &cfg]);
        assert_eq!(o.status.code(), Some(code), "--fail-on {threshold}: {o}");
        assert!(o.stdout.contains("seccomp.missing"), "{o}");
    }
    let o = ward(&ctx, &["audit", &cfg]);
    assert_eq!(o.status.code(), Some(0), "no --fail-on: {o}");
    // ward's own errors are 125; a bad severity is a usage error.
    let o = ward(
        &ctx,
        &["audit", "--fail-on", "high", "/nonexistent/config.json"],
    );
    assert_eq!(o.status.code(), Some(125), "{o}");
    let o = ward(&ctx, &["audit", "--fail-on", "severe", &cfg]);
    assert!(
        !o.success() && o.stderr.contains("severe") && o.stderr.contains("critical"),
        "{o}"
    );
}

/// `ward-oci ARGS` in a private mount namespace whose /etc is overlaid
/// with `etc_ward/` as /etc/ward (the host's /etc is not touched). None
/// (after SKIP) when the overlay cannot be mounted here.
fn with_etc_ward<'a>(ctx: &'a Ctx, policy: &str) -> Option<impl Fn(&[&str]) -> Out + 'a> {
    let upper = ctx.path("etc-upper");
    std::fs::create_dir_all(upper.join("ward")).expect("mkdir");
    std::fs::create_dir_all(ctx.path("etc-work")).expect("mkdir");
    std::fs::write(upper.join("ward/policy.toml"), policy).expect("write policy");
    let script = format!(
        "mount -t overlay overlay -o lowerdir=/etc,upperdir={},workdir={} /etc && exec \"$@\"",
        upper.display(),
        ctx.path("etc-work").display()
    );
    let wrap = move |args: &[&str]| {
        let mut v: Vec<String> = [
            "-m",
            "--propagation",
            "private",
            "/bin/sh",
            "-c",
            &script,
            "sh",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(ctx.rt.path.display().to_string());
        v.extend(["--root".into(), ctx.root.display().to_string()]);
        v.extend([
            "--audit-log".into(),
            ctx.path("audit.log").display().to_string(),
        ]);
        v.extend(args.iter().map(|s| s.to_string()));
        ward_tests::Cmd::new("unshare", &ctx.dir)
            .cwd(&ctx.dir)
            .args(v)
            .run()
    };
    let probe = wrap(&["--version"]);
    if !probe.success() {
        ward_tests::say(&format!(
            "SKIP: {}: cannot overlay /etc in a private mount namespace: {probe}",
            ctx.name
        ));
        return None;
    }
    Some(wrap)
}

#[test]
fn etc_ward_policy_toml_is_the_default_policy() {
    let Some(ctx) = ward_ctx("policy-etc-default") else {
        return;
    };
    // limits.pids is off in the built-in defaults: enforcing it is this
    // file's signature.
    let Some(oci) = with_etc_ward(&ctx, "[rules]\n\"limits.pids\" = \"enforce\"\n") else {
        return;
    };
    let mut b = ctx.bundle(&["true"]);
    b.save().expect("save");
    let bundle = b.dir.display().to_string();
    let id = ctx.id("nopids");
    let o = oci(&["create", "--bundle", &bundle, &id]);
    assert!(!o.success() && o.stderr.contains("rule limits.pids"), "{o}");
    assert!(o.stderr.contains("/etc/ward/policy.toml"), "{o}");
    ctx.assert_no_leftovers(&id, &b.dir, None);
    let r = record_for(&ctx, &id, "create");
    assert_eq!(r["policy"], "/etc/ward/policy.toml", "{r}");
    let enforced: Vec<&Value> = r["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["mode"] == "enforce")
        .map(|f| &f["rule"])
        .collect();
    assert_eq!(enforced, [&json!("limits.pids")], "{r}");
    // With a pids limit the same policy lets it run.
    b.config["linux"]["resources"]["pids"] = json!({"limit": 64});
    b.save().expect("save");
    let id = ctx.id("pids");
    oci(&["run", "--bundle", &bundle, &id]).ok();
    assert_eq!(
        record_for(&ctx, &id, "run")["policy"],
        "/etc/ward/policy.toml"
    );
    // Outside the namespace the host's defaults apply again (no file here).
    if !Path::new("/etc/ward/policy.toml").exists() {
        let id = ctx.id("host");
        b.config["linux"]["resources"]["pids"] = json!(null);
        run(&ctx, None, &b, &id).ok();
        assert_eq!(record_for(&ctx, &id, "run")["policy"], "built-in defaults");
    }
}

#[test]
fn an_invalid_etc_ward_policy_toml_refuses_everything() {
    let Some(ctx) = ward_ctx("policy-etc-invalid") else {
        return;
    };
    // A container created before the policy broke, for exec and cleanup.
    let b = ctx.bundle(&["sleep", "60"]);
    let before = ctx.id("before");
    create(&ctx, None, &b, &before).ok();
    let Some(oci) = with_etc_ward(&ctx, "[rules]\n\"rootfs.writable\" = \"enforse\"\n") else {
        return;
    };
    let bundle = b.dir.display().to_string();
    for action in ["create", "run"] {
        let id = ctx.id(action);
        let o = oci(&[action, "--bundle", &bundle, &id]);
        assert!(!o.success(), "{o}");
        assert!(
            o.stderr.contains("policy /etc/ward/policy.toml, line 2")
                && o.stderr.contains("no container starts"),
            "{o}"
        );
        ctx.assert_no_leftovers(&id, &b.dir, None);
        let r = record_for(&ctx, &id, action);
        assert_eq!(
            (&r["decision"], &r["rules"], &r["policy"]),
            (
                &json!("refused"),
                &json!(["policy.invalid"]),
                &json!("/etc/ward/policy.toml")
            ),
            "{r}"
        );
    }
    let o = oci(&["exec", &before, "true"]);
    assert!(
        !o.success() && o.stderr.contains("no container starts"),
        "{o}"
    );
    // Cleaning up still works under the broken policy.
    oci(&["delete", "--force", &before]).ok();
    ctx.assert_no_leftovers(&before, &b.dir, None);
}

#[path = "policy/bypass.rs"]
mod bypass;

use std::path::Path;

use serde_json::json;
use ward_spec::Spec;

use crate::{Context, Mode, Policy, Scope, RULES};

fn spec(v: serde_json::Value) -> Spec {
    serde_json::from_value(v).expect("spec")
}

/// runc's template (what the contract tests run).
fn runc() -> serde_json::Value {
    json!({
        "ociVersion": "1.0.2",
        "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/",
            "capabilities": {"bounding": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                             "effective": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"],
                             "permitted": ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]},
            "noNewPrivileges": true},
        "root": {"path": "rootfs", "readonly": true},
        "mounts": [{"destination": "/proc", "type": "proc", "source": "proc"}],
        "linux": {
            "resources": {"devices": [{"allow": false, "access": "rwm"}]},
            "namespaces": [{"type": "pid"}, {"type": "network"}, {"type": "ipc"}, {"type": "uts"}, {"type": "mount"}, {"type": "cgroup"}],
            "maskedPaths": ["/proc/kcore", "/proc/keys", "/proc/sched_debug", "/proc/timer_list", "/sys/firmware"],
            "readonlyPaths": ["/proc/sys", "/proc/sysrq-trigger"]
        }
    })
}

fn refused(v: serde_json::Value) -> Vec<&'static str> {
    let d = Policy::default().decide(&spec(v), &Context::default(), Scope::Container);
    d.refused.iter().map(|h| h.rule).collect()
}

#[test]
fn runc_template_is_allowed_by_default() {
    let d = Policy::default().decide(&spec(runc()), &Context::default(), Scope::Container);
    assert!(d.allowed(), "{}", d.refusal());
    assert_eq!(
        d.rule_ids(),
        ["seccomp.missing", "namespace.host-user", "user.root"]
    );
}

#[test]
fn every_enforced_rule_refuses() {
    let mut v = runc();
    v["process"]["capabilities"]["bounding"] = json!(ward_spec::caps::NAMES[..]);
    assert!(refused(v).contains(&"privileged"));
    let mut v = runc();
    v["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_ADMIN"]);
    assert_eq!(refused(v), ["seccomp.unconfined-sys-admin"]);
    let mut v = runc();
    v["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_MODULE"]);
    assert_eq!(refused(v), ["caps.host-kernel"]);
    let mut v = runc();
    v["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_PTRACE"]);
    v["linux"]["namespaces"] = json!([{"type": "mount"}]);
    assert_eq!(refused(v), ["namespace.host-pid-ptrace"]);
    for src in ["/", "/etc", "/var/lib/docker/", "/proc", "/run/ward"] {
        let mut v = runc();
        v["mounts"] = json!([{"destination": "/host", "type": "bind", "source": src, "options": ["rbind", "ro"]}]);
        let r = refused(v);
        assert_eq!(r[0], "mount.sensitive-host-path", "{src}");
        assert_eq!(r.len(), if src == "/" { 2 } else { 1 }, "{src}: {r:?}");
    }
    let mut v = runc();
    v["mounts"] = json!([{"destination": "/s", "type": "bind", "source": "/var/run/docker.sock"}]);
    assert_eq!(refused(v), ["mount.runtime-socket"]);
    // An engine socket is found by its name wherever it lives (a dockerd
    // on -H unix:///srv/d/docker.sock, rootless Podman); a look-alike
    // name is not.
    for src in ["/srv/d/docker.sock", "/run/user/1000/podman/podman.sock"] {
        let mut v = runc();
        v["mounts"] = json!([{"destination": "/s", "type": "bind", "source": src}]);
        assert_eq!(refused(v), ["mount.runtime-socket"], "{src}");
    }
    // A socket found listening several times (one /proc/net/unix line per
    // accepted connection) is named once in the refusal.
    let mut v = runc();
    v["mounts"] = json!([{"destination": "/s", "type": "bind", "source": "/srv/d/docker.sock"}]);
    let ctx = Context {
        sockets: vec!["/srv/d/docker.sock".into(), "/srv/d/docker.sock".into()],
        ..Context::default()
    };
    let d = Policy::default().decide(&spec(v), &ctx, Scope::Container);
    assert_eq!(d.refused.len(), 1);
    assert_eq!(d.refused[0].detail.matches("/srv/d/docker.sock").count(), 2);
    let mut v = runc();
    v["mounts"] = json!([{"destination": "/s", "type": "bind", "source": "/srv/docker.sock.d"}]);
    assert!(refused(v).is_empty());
    let mut v = runc();
    v["mounts"] = json!([{"destination": "/s", "source": "/run", "options": ["bind"]}]);
    assert_eq!(
        refused(v),
        ["mount.sensitive-host-path", "mount.runtime-socket"]
    );
    let mut v = runc();
    v["linux"]["resources"]["devices"] = json!([{"allow": true, "access": "rwm"}]);
    assert_eq!(refused(v), ["device.all"]);
    let mut v = runc();
    v["linux"]["sysctl"] = json!({"kernel.core_pattern": "|/x"});
    assert_eq!(refused(v), ["sysctl.unsafe"]);
    let mut v = runc();
    v["linux"]["namespaces"] = json!([{"type": "mount"}]);
    v["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1"});
    assert_eq!(refused(v), ["sysctl.unsafe"]);
}

#[test]
fn harmless_binds_and_devices_pass() {
    let mut v = runc();
    v["mounts"] = json!([
        {"destination": "/etc/localtime", "type": "bind", "source": "/etc/localtime", "options": ["rbind", "ro"]},
        {"destination": "/etc/resolv.conf", "type": "bind", "source": "/var/lib/docker/containers/abc/resolv.conf", "options": ["rbind"]},
        {"destination": "/dev/shm", "type": "bind", "source": "/run/containerd/io.containerd.grpc.v1.cri/sandboxes/x/shm", "options": ["rbind"]},
        {"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind"]}
    ]);
    v["linux"]["resources"]["devices"] = json!([
        {"allow": false, "access": "rwm"},
        {"allow": true, "type": "c", "access": "m"},
        {"allow": true, "type": "b", "access": "m"},
        {"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
        {"allow": true, "type": "c", "major": 136, "access": "rwm"}
    ]);
    assert!(refused(v).is_empty());
}

#[test]
fn docker_privileged_with_host_root_is_refused() {
    let mut v = runc();
    v["process"]["capabilities"] = json!({"bounding": ward_spec::caps::NAMES[..], "effective": ward_spec::caps::NAMES[..], "permitted": ward_spec::caps::NAMES[..]});
    v["process"]["noNewPrivileges"] = json!(false);
    v["root"]["readonly"] = json!(false);
    v["mounts"] = json!([{"destination": "/host", "type": "bind", "source": "/", "options": ["rbind", "rprivate"]}]);
    v["linux"]["resources"]["devices"] = json!([{"allow": true, "access": "rwm"}]);
    v["linux"]["maskedPaths"] = json!([]);
    v["linux"]["readonlyPaths"] = json!([]);
    let r = refused(v);
    for want in [
        "privileged",
        "caps.host-kernel",
        "seccomp.unconfined-sys-admin",
        "mount.sensitive-host-path",
        "mount.runtime-socket",
        "device.all",
    ] {
        assert!(r.contains(&want), "{want} not in {r:?}");
    }
}

#[test]
fn scopes_limit_exec_and_update() {
    let mut v = runc();
    v["mounts"] = json!([{"destination": "/host", "type": "bind", "source": "/"}]);
    let s = spec(v);
    let p = Policy::default();
    assert!(p.decide(&s, &Context::default(), Scope::Process).allowed());
    assert!(p
        .decide(&s, &Context::default(), Scope::Resources)
        .allowed());
    assert!(!p
        .decide(&s, &Context::default(), Scope::Container)
        .allowed());
}

#[test]
fn resolved_sources_and_allow_list() {
    let mut v = runc();
    v["mounts"] = json!([{"destination": "/x", "type": "bind", "source": "/srv/link"}]);
    let mut ctx = Context::default();
    ctx.sources.insert(
        0,
        crate::Source::Host {
            names: vec!["/etc".into()],
            kind: crate::ObjectKind::Dir,
            inside_rootfs: false,
        },
    );
    let p = Policy::default();
    assert!(!p.decide(&spec(v.clone()), &ctx, Scope::Container).allowed());
    let p = Policy::parse("[mounts]\nallow = [\"/etc\"]\n", Path::new("p.toml")).expect("parses");
    assert!(p.decide(&spec(v), &ctx, Scope::Container).allowed());
}

#[test]
fn policy_file_modes_and_errors() {
    let p = Policy::parse(
        "audit_log = \"\"\n[rules]\n\"rootfs.writable\" = \"enforce\"\nprivileged = \"warn\"\n",
        Path::new("/etc/ward/policy.toml"),
    )
    .expect("parses");
    assert_eq!(p.mode("rootfs.writable"), Mode::Enforce);
    assert_eq!(p.mode("privileged"), Mode::Warn);
    assert_eq!(p.audit_log, None);
    let e = Policy::parse(
        "[rules]\nprivileged = \"warn\"\nnope = \"off\"\n",
        Path::new("/p.toml"),
    )
    .expect_err("unknown rule");
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.to_string().contains("unknown rule \"nope\""), "{e}");
    assert!(e.to_string().contains("/p.toml"), "{e}");
    let e = Policy::parse("[rules]\nprivileged = \"maybe\"\n", Path::new("/p.toml"))
        .expect_err("bad mode");
    assert_eq!(e.line, Some(2), "{e}");
    let e = Policy::parse("[rules\n", Path::new("/p.toml")).expect_err("syntax");
    assert_eq!(e.line, Some(1), "{e}");
    let e = Policy::parse("colour = 1\n", Path::new("/p.toml")).expect_err("unknown key");
    assert!(e.to_string().contains("colour"), "{e}");
    let e = Policy::parse(
        "[capabilities]\nallow = [\"CAP_FLY\"]\n",
        Path::new("/p.toml"),
    )
    .expect_err("bad cap");
    assert_eq!(e.line, Some(2), "{e}");
}

#[test]
fn syslog_socket_defaults_to_dev_log_and_must_be_absolute() {
    let p = Policy::parse("", Path::new("/p.toml")).expect("parses");
    assert!(p.syslog);
    assert_eq!(p.syslog_socket, Path::new("/dev/log"));
    let p = Policy::parse(
        "syslog_socket = \"/run/ward-test/log\"\n",
        Path::new("/p.toml"),
    )
    .expect("parses");
    assert_eq!(p.syslog_socket, Path::new("/run/ward-test/log"));
    let e =
        Policy::parse("\nsyslog_socket = \"log\"\n", Path::new("/p.toml")).expect_err("relative");
    assert_eq!(e.line, Some(2), "{e}");
    assert!(e.to_string().contains("syslog_socket"), "{e}");
}

#[test]
fn refusal_names_rule_and_how_to_allow() {
    let mut v = runc();
    v["mounts"] = json!([{"destination": "/s", "type": "bind", "source": "/run/docker.sock"}]);
    let d = Policy::default().decide(&spec(v), &Context::default(), Scope::Container);
    let m = d.refusal();
    assert!(m.contains("rule mount.runtime-socket"), "{m}");
    assert!(m.contains("\"mount.runtime-socket\" = \"warn\""), "{m}");
}

#[test]
fn rule_ids_are_unique() {
    for (i, r) in RULES.iter().enumerate() {
        assert!(RULES[..i].iter().all(|o| o.id != r.id), "{}", r.id);
    }
}

/// A profile: `default` action, then (names, action, with an argument rule).
fn profile(default: &str, rules: &[(&[&str], &str, bool)]) -> serde_json::Value {
    let syscalls: Vec<_> = rules
        .iter()
        .map(|(names, action, with_args)| {
            let mut r = json!({"names": names, "action": action});
            if *with_args {
                r["args"] = json!([{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}]);
            }
            r
        })
        .collect();
    json!({"defaultAction": default, "syscalls": syscalls})
}

/// runc's template with `linux.seccomp` = `p`.
fn with_profile(p: serde_json::Value) -> serde_json::Value {
    let mut v = runc();
    v["linux"]["seccomp"] = p;
    v
}

// The escape-syscall evaluation (issue 14, finding 4) judges what the
// profile does to each syscall, not whether it has rules.
#[test]
fn escape_syscalls_reachable_is_what_the_profile_lets_through() {
    use crate::rules::{reachable_escape_syscalls as reachable, ESCAPE_SYSCALLS};
    // No profile: all of them.
    assert_eq!(reachable(&spec(runc())), ESCAPE_SYSCALLS.to_vec());
    // Deny by default, nothing named: none.
    let deny_all = spec(with_profile(profile(
        "SCMP_ACT_ERRNO",
        &[(&["read"], "SCMP_ACT_ALLOW", false)],
    )));
    assert!(reachable(&deny_all).is_empty());
    // Deny by default, but a rule allows mount: exactly mount.
    let p = profile(
        "SCMP_ACT_ERRNO",
        &[(&["mount", "read"], "SCMP_ACT_ALLOW", false)],
    );
    assert_eq!(reachable(&spec(with_profile(p))), ["mount"]);
    // An allowing rule wins over a denying one for the same syscall.
    let p = profile(
        "SCMP_ACT_ERRNO",
        &[
            (&["mount"], "SCMP_ACT_ERRNO", false),
            (&["mount"], "SCMP_ACT_LOG", true),
        ],
    );
    assert_eq!(reachable(&spec(with_profile(p))), ["mount"]);
    // Allow by default: an unconditional errno rule denies; one with an
    // argument condition does not (other arguments get through).
    let p = profile(
        "SCMP_ACT_ALLOW",
        &[
            (&["mount"], "SCMP_ACT_ERRNO", false),
            (&["unshare"], "SCMP_ACT_KILL_PROCESS", true),
        ],
    );
    let r = reachable(&spec(with_profile(p)));
    assert!(!r.contains(&"mount"), "{r:?}");
    assert!(r.contains(&"unshare"), "{r:?}");
    assert_eq!(r.len(), ESCAPE_SYSCALLS.len() - 1);
}

#[test]
fn seccomp_missing_means_nothing_is_denied() {
    let ids = |p| tripped(with_profile(p), &Context::default());
    // Allow and log only: as good as none.
    let p = profile("SCMP_ACT_ALLOW", &[(&["mount"], "SCMP_ACT_LOG", false)]);
    assert!(ids(p).contains(&"seccomp.missing"));
    // One denying rule (or a denying default) is a profile.
    let p = profile("SCMP_ACT_ALLOW", &[(&["mount"], "SCMP_ACT_ERRNO", false)]);
    assert!(!ids(p).contains(&"seccomp.missing"));
    let p = profile("SCMP_ACT_ERRNO", &[(&["read"], "SCMP_ACT_ALLOW", false)]);
    assert!(!ids(p).contains(&"seccomp.missing"));
}

#[test]
fn hooks_are_allowed_only_for_engines_and_the_allow_list() {
    // The hooks.host-command hit (a warning by default), if any.
    let hit = |path: &str, ctx: &Context| {
        let mut v = runc();
        v["hooks"] = json!({"poststop": [{"path": path}]});
        let d = Policy::default().decide(&spec(v), ctx, Scope::Container);
        d.refused
            .iter()
            .chain(&d.warned)
            .find(|h| h.rule == "hooks.host-command")
            .map(|h| h.detail.clone())
    };
    assert_eq!(
        hit("/bin/sh", &Context::default()).as_deref(),
        Some("hooks.poststop: /bin/sh")
    );
    // dockerd's own hook, by path or by what /proc/PID/exe resolved to.
    assert_eq!(hit("/usr/bin/dockerd", &Context::default()), None);
    let mut ctx = Context::default();
    ctx.hook_programs
        .insert("/proc/77/exe".into(), "/usr/bin/dockerd".into());
    assert_eq!(hit("/proc/77/exe", &ctx), None);
    // ...but a resolved program that is not an engine's is named.
    ctx.hook_programs
        .insert("/usr/local/bin/x".into(), "/bin/sh".into());
    assert_eq!(
        hit("/usr/local/bin/x", &ctx).as_deref(),
        Some("hooks.poststop: /usr/local/bin/x (runs /bin/sh)")
    );
    // The policy's allow list, by the path written or the program run.
    let mut ctx = Context {
        allow_hooks: vec!["/opt/hooks/net".into()],
        ..Context::default()
    };
    assert_eq!(hit("/opt/hooks/net", &ctx), None);
    assert!(hit("/opt/hooks/other", &ctx).is_some());
    ctx.hook_programs
        .insert("/opt/link".into(), "/opt/hooks/net".into());
    assert_eq!(hit("/opt/link", &ctx), None);
    ctx.hook_programs
        .insert("/opt/hooks/net2".into(), "/bin/true".into());
    ctx.allow_hooks.push("/opt/hooks/net2".into());
    assert_eq!(hit("/opt/hooks/net2", &ctx), None);
}

#[test]
fn decisions_name_their_outcome_and_warnings() {
    let decide = |v: serde_json::Value| {
        Policy::default().decide(&spec(v), &Context::default(), Scope::Container)
    };
    let mut v = runc();
    v["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_MODULE"]);
    let refused = decide(v);
    assert_eq!(refused.outcome(), "refused");
    let warned = decide(runc());
    assert_eq!(warned.outcome(), "warned");
    let w = warned.warnings();
    assert_eq!(w.len(), warned.warned.len());
    assert!(
        w[0].starts_with("ward policy: rule seccomp.missing (warn): "),
        "{w:?}"
    );
    let mut v = runc();
    v["linux"]["seccomp"] = profile("SCMP_ACT_ERRNO", &[(&["read"], "SCMP_ACT_ALLOW", false)]);
    v["linux"]["namespaces"]
        .as_array_mut()
        .expect("namespaces")
        .push(json!({"type": "user"}));
    v["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    v["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    v["process"]["user"] = json!({"uid": 1000, "gid": 1000});
    let clean = decide(v);
    assert_eq!(clean.outcome(), "allowed", "{:?}", clean.rule_ids());
    assert!(clean.warnings().is_empty());
}

#[test]
fn modes_and_severities_read_and_print() {
    assert_eq!(
        [Mode::Enforce, Mode::Warn, Mode::Off].map(Mode::as_str),
        ["enforce", "warn", "off"]
    );
    use crate::Severity;
    assert_eq!(Severity::parse("HIGH"), Some(Severity::High));
    assert_eq!(Severity::parse("critical"), Some(Severity::Critical));
    assert_eq!(Severity::parse("severe"), None);
}

/// Every rule id that tripped (refused or warned) for `v` in `ctx`.
fn tripped(v: serde_json::Value, ctx: &Context) -> Vec<&'static str> {
    Policy::default()
        .decide(&spec(v), ctx, Scope::Container)
        .rule_ids()
}

#[test]
fn lsm_unconfined_follows_the_active_lsm() {
    let with = |lsm: &str, key: &str, value: Option<&str>| {
        let mut v = runc();
        if let Some(value) = value {
            v["process"][key] = json!(value);
        }
        let ctx = Context {
            lsm: Some(lsm.into()),
            ..Context::default()
        };
        tripped(v, &ctx).contains(&"lsm.unconfined")
    };
    assert!(with("apparmor", "apparmorProfile", None));
    assert!(with("apparmor", "apparmorProfile", Some("unconfined")));
    assert!(!with("apparmor", "apparmorProfile", Some("ward-default")));
    assert!(with("selinux", "selinuxLabel", None));
    assert!(!with(
        "selinux",
        "selinuxLabel",
        Some("system_u:system_r:container_t:s0")
    ));
    assert!(!tripped(runc(), &Context::default()).contains(&"lsm.unconfined"));
}

#[test]
fn sys_admin_is_judged_with_the_user_namespace_and_the_filter() {
    let admin = |userns: bool, seccomp: Option<serde_json::Value>| {
        let mut v = runc();
        v["process"]["capabilities"]["bounding"] = json!(["CAP_SYS_ADMIN"]);
        if userns {
            v["linux"]["namespaces"]
                .as_array_mut()
                .expect("namespaces")
                .push(json!({"type": "user"}));
            v["linux"]["uidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
            v["linux"]["gidMappings"] =
                json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
        }
        if let Some(p) = seccomp {
            v["linux"]["seccomp"] = p;
        }
        tripped(v, &Context::default()).contains(&"seccomp.unconfined-sys-admin")
    };
    let lets_mount = profile("SCMP_ACT_ERRNO", &[(&["mount"], "SCMP_ACT_ALLOW", false)]);
    let denies_all = profile("SCMP_ACT_ERRNO", &[(&["read"], "SCMP_ACT_ALLOW", false)]);
    // No filter: refused even in a user namespace.
    assert!(admin(true, None));
    // A filter that lets mount through: refused only without a user namespace.
    assert!(admin(false, Some(lets_mount.clone())));
    assert!(!admin(true, Some(lets_mount)));
    // Every escape syscall denied: admitted.
    assert!(!admin(false, Some(denies_all)));
}

#[test]
fn privileged_counts_escape_capabilities() {
    let with = |caps: &[&str]| {
        let mut v = runc();
        v["process"]["capabilities"]["bounding"] = json!(caps);
        tripped(v, &Context::default()).contains(&"privileged")
    };
    assert!(!with(&["CAP_SYS_ADMIN", "CAP_SYS_MODULE"]));
    assert!(with(&["CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_SYS_PTRACE"]));
}

#[test]
fn cpu_limits_count_shares_quota_or_cpus() {
    // limits.cpu is off by default: switched to warn here.
    let policy = Policy::parse(
        "[rules]\n\"limits.cpu\" = \"warn\"\n",
        Path::new("/etc/ward/policy.toml"),
    )
    .expect("policy");
    let cpu = |c: serde_json::Value| {
        let mut v = runc();
        v["linux"]["resources"]["cpu"] = c;
        policy
            .decide(&spec(v), &Context::default(), Scope::Container)
            .rule_ids()
            .contains(&"limits.cpu")
    };
    assert!(cpu(json!({})));
    assert!(cpu(json!({"shares": 0, "quota": 0})));
    assert!(!cpu(json!({"shares": 512})));
    assert!(!cpu(json!({"quota": 50000, "period": 100000})));
    assert!(!cpu(json!({"cpus": "0-1"})));
}

#[test]
fn unmasked_paths_and_added_caps_and_sysctls_honour_their_lists() {
    // Docker's masked and read-only lists: nothing missing; one dropped: named.
    let mut v = runc();
    v["linux"]["maskedPaths"] = json!(crate::checks::MUST_MASK);
    v["linux"]["readonlyPaths"] = json!(crate::checks::MUST_READONLY);
    assert!(!tripped(v.clone(), &Context::default()).contains(&"paths.unmasked"));
    v["linux"]["readonlyPaths"] = json!(["/proc/sys"]);
    let d = Policy::default().decide(&spec(v), &Context::default(), Scope::Container);
    let hit = d
        .warned
        .iter()
        .chain(&d.refused)
        .find(|h| h.rule == "paths.unmasked");
    assert_eq!(
        hit.map(|h| h.detail.as_str()),
        Some("not masked or read-only: /proc/sysrq-trigger")
    );
    // A capability beyond Docker's, unless the policy allows it.
    let mut v = runc();
    v["process"]["capabilities"]["bounding"] = json!(["CAP_NET_ADMIN"]);
    assert!(tripped(v.clone(), &Context::default()).contains(&"caps.added"));
    let ctx = Context {
        allow_caps: vec!["CAP_NET_ADMIN".into()],
        ..Context::default()
    };
    assert!(!tripped(v, &ctx).contains(&"caps.added"));
    // A host sysctl, unless the policy allows it.
    let mut v = runc();
    v["linux"]["sysctl"] = json!({"kernel.core_pattern": "|/x"});
    assert!(tripped(v.clone(), &Context::default()).contains(&"sysctl.unsafe"));
    let ctx = Context {
        allow_sysctls: vec!["kernel.core_pattern".into()],
        ..Context::default()
    };
    assert!(!tripped(v, &ctx).contains(&"sysctl.unsafe"));
    // The slash form is the same sysctl, on either side.
    let mut v = runc();
    v["linux"]["sysctl"] = json!({"kernel/core_pattern": "|/x"});
    assert!(tripped(v.clone(), &Context::default()).contains(&"sysctl.unsafe"));
    assert!(!tripped(v, &ctx).contains(&"sysctl.unsafe"));
    let mut v = runc();
    v["linux"]["sysctl"] = json!({"kernel.core_pattern": "|/x"});
    let slash = Context {
        allow_sysctls: vec!["kernel/core_pattern".into()],
        ..Context::default()
    };
    assert!(!tripped(v, &slash).contains(&"sysctl.unsafe"));
}

#[test]
fn device_rules_need_read_or_write_to_matter() {
    let dev = |d: serde_json::Value| {
        let mut v = runc();
        v["linux"]["resources"]["devices"] = json!([{"allow": false, "access": "rwm"}, d]);
        tripped(v, &Context::default())
    };
    assert!(dev(json!({"allow": true, "access": "rwm"})).contains(&"device.all"));
    assert!(
        dev(json!({"allow": true, "type": "c", "major": -1, "access": "r"}))
            .contains(&"device.all")
    );
    assert!(!dev(json!({"allow": true, "access": "m"})).contains(&"device.all"));
    assert!(
        !dev(json!({"allow": true, "type": "c", "major": 1, "minor": 3, "access": "rw"}))
            .contains(&"device.all")
    );
}

#[test]
fn shared_propagation_is_named() {
    for opt in ["shared", "rshared"] {
        let mut v = runc();
        v["mounts"]
            .as_array_mut()
            .expect("mounts")
            .push(json!({"destination": "/data", "type": "bind", "source": "/srv/data", "options": ["rbind", opt]}));
        assert!(
            tripped(v, &Context::default()).contains(&"mount.propagation-shared"),
            "{opt}"
        );
    }
}

#[test]
fn shared_propagation_is_named_for_allowed_and_in_rootfs_binds_too() {
    for source in ["/srv/data", "rootfs/data", "data"] {
        let mut v = runc();
        v["mounts"]
            .as_array_mut()
            .expect("mounts")
            .push(json!({"destination": "/data", "type": "bind", "source": source, "options": ["rbind", "rshared"]}));
        let ctx = Context {
            allow_paths: vec!["/srv/data".into()],
            ..Context::default()
        };
        assert!(
            tripped(v, &ctx).contains(&"mount.propagation-shared"),
            "{source}"
        );
    }
}

#[test]
fn a_policy_file_sets_modes_and_names_itself() {
    let dir = std::env::temp_dir().join(format!("ward-policy-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("mkdir");
    let file = dir.join("policy.toml");
    std::fs::write(&file, "[rules]\n\"limits.memory\" = \"off\"\n").expect("write");
    let p = Policy::load(&file).expect("load");
    assert_eq!(p.mode("limits.memory"), Mode::Off);
    let d = p.decide(&spec(runc()), &Context::default(), Scope::Container);
    assert_eq!(d.policy, file.display().to_string());
    assert!(!d.rule_ids().contains(&"limits.memory"));
    // A relative path in a list: the error names its line.
    let e = Policy::parse("# ward\n[mounts]\nsensitive = [\"srv/x\"]\n", &file)
        .expect_err("relative path");
    assert_eq!(e.line, Some(3), "{e}");
    // A missing file says how to make one.
    let e = Policy::load(&dir.join("missing.toml")).expect_err("missing");
    assert!(
        e.to_string()
            .contains("create it: an empty file means the built-in defaults"),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every (rule, detail) that `v` trips, in report order.
fn hits(v: serde_json::Value, ctx: &Context) -> Vec<(&'static str, String)> {
    crate::check(&spec(v), ctx, None)
        .into_iter()
        .map(|h| (h.rule, h.detail))
        .collect()
}

#[test]
fn each_host_namespace_is_its_own_rule() {
    let ns_rules = |v, ctx: &Context| -> Vec<(&'static str, String)> {
        hits(v, ctx)
            .into_iter()
            .filter(|(r, _)| r.starts_with("namespace.host-"))
            .collect()
    };
    let mut v = runc();
    v["linux"]["namespaces"] = json!([{"type": "mount"}]);
    let want = [
        ("namespace.host-pid", "pid"),
        ("namespace.host-net", "network"),
        ("namespace.host-ipc", "ipc"),
        ("namespace.host-uts", "uts"),
        ("namespace.host-user", "user"),
        ("namespace.host-cgroup", "cgroup"),
    ];
    let missing: Vec<_> = want
        .iter()
        .map(|(r, ns)| (*r, format!("linux.namespaces has no \"{ns}\" entry")))
        .collect();
    assert_eq!(ns_rules(v, &Context::default()), missing);

    // Joining a namespace path counts when the runtime found it the host's.
    let mut v = runc();
    v["linux"]["namespaces"] = json!(want
        .iter()
        .map(|(_, ns)| json!({"type": ns, "path": format!("/proc/1/ns/{ns}")}))
        .collect::<Vec<_>>());
    assert_eq!(ns_rules(v.clone(), &Context::default()), []);
    let mut ctx = Context::default();
    ctx.host_ns_paths.insert("/proc/1/ns/network".into());
    ctx.host_ns_paths.insert("/proc/1/ns/uts".into());
    assert_eq!(
        ns_rules(v, &ctx),
        [
            (
                "namespace.host-net",
                "linux.namespaces: network joins /proc/1/ns/network, the host's namespace".into()
            ),
            (
                "namespace.host-uts",
                "linux.namespaces: uts joins /proc/1/ns/uts, the host's namespace".into()
            ),
        ]
    );
}

/// Hits come in config order (root.path, each mount: its source, the
/// sockets it exposes, its options; hooks; rootfsPropagation; device
/// rules), not table order: `device.host` for a bind comes before that
/// bind's `mount.runtime-socket`.
#[test]
fn hits_are_reported_in_config_order() {
    let mut v = runc();
    v["mounts"] = json!([
        {"destination": "/a", "type": "bind", "source": "/tmp/docker.sock", "options": ["rbind", "rshared"]},
        {"destination": "/b", "type": "bind", "source": "/etc", "options": ["rbind"]},
    ]);
    v["linux"]["rootfsPropagation"] = json!("rshared");
    v["linux"]["resources"]["devices"] =
        json!([{"allow": true, "type": "c", "major": 10, "minor": 232, "access": "rw"}]);
    v["hooks"] = json!({"prestart": [{"path": "/bin/sh"}]});
    let mut ctx = Context {
        rootfs: Some(crate::Source::Unresolved("gone".into())),
        ..Context::default()
    };
    ctx.sources.insert(
        0,
        crate::Source::Host {
            names: vec!["/tmp/docker.sock".into()],
            kind: crate::ObjectKind::CharDevice {
                major: 10,
                minor: 232,
            },
            inside_rootfs: false,
        },
    );
    let got: Vec<_> = hits(v, &ctx)
        .into_iter()
        .filter(|(r, _)| {
            r.starts_with("mount.") || r.starts_with("device.") || r.starts_with("hooks.")
        })
        .collect();
    let s = |r: &'static str, d: &str| (r, d.to_string());
    assert_eq!(
        got,
        [
            s(
                "mount.sensitive-host-path",
                "root.path cannot be judged: gone"
            ),
            s(
                "device.host",
                "mounts[0]: bind of /tmp/docker.sock onto /a: the device node 10:232"
            ),
            s(
                "mount.runtime-socket",
                "mounts[0]: bind of /tmp/docker.sock onto /a exposes /tmp/docker.sock"
            ),
            s(
                "mount.propagation-shared",
                "mounts[0] (/a): shared propagation"
            ),
            s(
                "mount.sensitive-host-path",
                "mounts[1]: bind of /etc onto /b exposes /etc, the host's own"
            ),
            s("hooks.host-command", "hooks.prestart: /bin/sh"),
            s(
                "mount.propagation-shared",
                "linux.rootfsPropagation is shared"
            ),
            s("device.host", "linux.resources.devices[0] allows rw 10:232"),
        ]
    );
}

#[test]
fn cgroup_root_is_the_root_cgroup_however_spelled() {
    let root = |p: &str| {
        let mut v = runc();
        v["linux"]["cgroupsPath"] = json!(p);
        hits(v, &Context::default())
            .into_iter()
            .filter(|(r, _)| *r == "cgroup.root")
            .map(|(_, d)| d)
            .collect::<Vec<_>>()
    };
    assert_eq!(root("/"), ["linux.cgroupsPath is \"/\""]);
    assert_eq!(root("/a/.."), ["linux.cgroupsPath is \"/a/..\""]);
    assert_eq!(root("/ward/c1"), Vec::<String>::new());
    // systemd's slice:prefix:name form is never the root.
    assert_eq!(root("system.slice:ward:/"), Vec::<String>::new());
}

#[test]
fn device_major_zero_is_one_device_not_every_device() {
    let mut v = runc();
    v["linux"]["resources"]["devices"] =
        json!([{"allow": true, "type": "c", "major": 0, "minor": 5, "access": "rw"}]);
    let got: Vec<_> = hits(v, &Context::default())
        .into_iter()
        .filter(|(r, _)| r.starts_with("device."))
        .collect();
    assert_eq!(
        got,
        [(
            "device.host",
            "linux.resources.devices[0] allows rw 0:5".to_string()
        )]
    );
}

#[test]
fn host_devices_and_namespaced_sysctls() {
    let only = |v, prefix: &str| -> Vec<(&'static str, String)> {
        hits(v, &Context::default())
            .into_iter()
            .filter(|(r, _)| r.starts_with(prefix))
            .collect()
    };
    let mut v = runc();
    v["linux"]["devices"] = json!([
        {"path": "/dev/kvm", "type": "c", "major": 10, "minor": 232},
        {"path": "/dev/null", "type": "c", "major": 1, "minor": 3},
    ]);
    assert_eq!(
        only(v, "device."),
        [(
            "device.host",
            "linux.devices[0]: /dev/kvm (c 10:232)".to_string()
        )]
    );

    // runc's template has network and ipc namespaces of its own.
    let mut v = runc();
    v["linux"]["sysctl"] = json!({"net.ipv4.ip_forward": "1", "kernel.shmmax": "1"});
    assert_eq!(only(v.clone(), "sysctl."), []);
    v["linux"]["namespaces"] = json!([{"type": "mount"}, {"type": "ipc"}]);
    assert_eq!(
        only(v, "sysctl."),
        [(
            "sysctl.unsafe",
            "linux.sysctl \"net.ipv4.ip_forward\" needs a new network namespace, the container has the host's".to_string()
        )]
    );
}

#[test]
fn a_dropped_masked_path_is_named() {
    let mut v = runc();
    v["linux"]["maskedPaths"] = json!(["/proc/kcore", "/proc/sched_debug", "/sys/firmware"]);
    let got: Vec<_> = hits(v, &Context::default())
        .into_iter()
        .filter(|(r, _)| *r == "paths.unmasked")
        .collect();
    assert_eq!(
        got,
        [(
            "paths.unmasked",
            "not masked or read-only: /proc/keys, /proc/timer_list".to_string()
        )]
    );
}

#[test]
fn zero_memory_and_pids_limits_are_no_limits() {
    let limits = |memory: i64, pids: i64| -> Vec<&'static str> {
        let mut v = runc();
        v["linux"]["resources"]["memory"] = json!({"limit": memory});
        v["linux"]["resources"]["pids"] = json!({"limit": pids});
        hits(v, &Context::default())
            .into_iter()
            .map(|(r, _)| r)
            .filter(|r| r.starts_with("limits.") && *r != "limits.cpu")
            .collect()
    };
    assert_eq!(limits(0, 0), ["limits.memory", "limits.pids"]);
    assert_eq!(limits(-1, -1), ["limits.memory", "limits.pids"]);
    assert_eq!(limits(1 << 20, 100), Vec::<&str>::new());
}

/// The mount rules' hits for `mounts` (and `ctx`).
fn mount_hits(mounts: serde_json::Value, ctx: &Context) -> Vec<(&'static str, String)> {
    let mut v = runc();
    v["mounts"] = mounts;
    hits(v, ctx)
        .into_iter()
        .filter(|(r, _)| r.starts_with("mount.") || r.starts_with("device."))
        .collect()
}

#[test]
fn what_counts_as_a_bind_and_as_read_only() {
    let none = Vec::<(&str, String)>::new();
    let ctx = Context::default();
    // A bind by option alone; not a tmpfs named like a host path.
    assert_eq!(
        mount_hits(
            json!([{"destination": "/b", "source": "/etc", "options": ["bind"]}]),
            &ctx
        ),
        [(
            "mount.sensitive-host-path",
            "mounts[0]: bind of /etc onto /b exposes /etc, the host's own".to_string()
        )]
    );
    assert_eq!(
        mount_hits(
            json!([{"destination": "/t", "type": "tmpfs", "source": "/etc"}]),
            &ctx
        ),
        none
    );
    // A relative source is the runtime's to resolve (bundle-relative).
    assert_eq!(
        mount_hits(
            json!([{"destination": "/r", "type": "bind", "source": "etc"}]),
            &ctx
        ),
        none
    );
    // The last of ro/rw decides whether a read-only-safe file is safe.
    let localtime = |opts: serde_json::Value| {
        mount_hits(
            json!([{"destination": "/l", "type": "bind", "source": "/etc/localtime", "options": opts}]),
            &Context::default(),
        )
        .len()
    };
    assert_eq!(localtime(json!(["rbind", "ro"])), 0);
    assert_eq!(localtime(json!(["rbind", "rw", "ro"])), 0);
    assert_eq!(localtime(json!(["rbind", "ro", "rw"])), 1);
    assert_eq!(localtime(json!(["rbind"])), 1);
    // A standard device node bound from the host is fine.
    let mut ctx = Context::default();
    ctx.sources.insert(
        0,
        crate::Source::Host {
            names: vec!["/dev/null".into()],
            kind: crate::ObjectKind::CharDevice { major: 1, minor: 3 },
            inside_rootfs: false,
        },
    );
    assert_eq!(
        mount_hits(
            json!([{"destination": "/n", "type": "bind", "source": "/dev/null"}]),
            &ctx
        ),
        none
    );
    // Shared propagation counts for any mount, not only binds.
    assert_eq!(
        mount_hits(
            json!([{"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["rshared"]}]),
            &Context::default()
        ),
        [(
            "mount.propagation-shared",
            "mounts[0] (/t): shared propagation".to_string()
        )]
    );
}

#[test]
fn root_path_below_a_system_directory_unless_allowed() {
    let rootfs = |allow: &[&str]| {
        let ctx = Context {
            rootfs: Some(crate::Source::Host {
                names: vec!["/etc/x".into()],
                kind: crate::ObjectKind::Dir,
                inside_rootfs: false,
            }),
            allow_paths: allow.iter().map(|a| a.to_string()).collect(),
            ..Context::default()
        };
        mount_hits(json!([]), &ctx)
    };
    assert_eq!(
        rootfs(&[]),
        [(
            "mount.sensitive-host-path",
            "root.path is /etc/x, which lies below /etc: the container's / would be the host's"
                .to_string()
        )]
    );
    assert_eq!(rootfs(&["/etc"]), Vec::<(&str, String)>::new());
}

#[test]
fn images_section_parses_and_the_default_names_no_registry() {
    assert_eq!(Policy::default().images, crate::Images::default());
    assert!(Policy::parse("", Path::new("/p.toml"))
        .expect("parses")
        .images
        .scopes
        .is_empty());
    let p = Policy::parse(
        r#"
[images]
default_registry = "Registry.Example:5000"
[images.registries."registry.example:5000"]
keys = ["/etc/ward/keys/release.pub", "/etc/ward/keys/old.pub"]
insecure = true
[images.registries."registry.example:5000/team/app"]
signatures = "none"
[images.registries."registry.example:5000/experimental"]
allowed = false
[images.registries."index.docker.io/library"]
signatures = "required"
keys = ["/etc/ward/keys/hub.pub"]
"#,
        Path::new("/p.toml"),
    )
    .expect("parses");
    let i = &p.images;
    assert_eq!(i.default_registry.as_deref(), Some("registry.example:5000"));
    let scope = |r: &str| i.scope_for(r).map(|s| s.scope.as_str());
    assert_eq!(
        scope("registry.example:5000/base"),
        Some("registry.example:5000")
    );
    assert_eq!(
        scope("registry.example:5000/team/app"),
        Some("registry.example:5000/team/app")
    );
    assert_eq!(
        scope("registry.example:5000/team/app/x"),
        Some("registry.example:5000/team/app")
    );
    // Prefixes end on a '/': team/application is the registry's.
    assert_eq!(
        scope("registry.example:5000/team/application"),
        Some("registry.example:5000")
    );
    assert_eq!(
        scope("docker.io/library/busybox"),
        Some("docker.io/library")
    );
    assert_eq!(scope("docker.io/user/app"), None);
    assert_eq!(scope("registry.example:50001/app"), None);
    assert_eq!(scope("registry.example/app"), None);
    let exp = i
        .scope_for("registry.example:5000/experimental/x")
        .expect("scope");
    assert!(!exp.allowed);
    let reg = i.scope_for("registry.example:5000/base").expect("scope");
    assert_eq!(reg.signatures, crate::Signatures::Required);
    assert_eq!(reg.keys.len(), 2);
    assert!(i.insecure("registry.example:5000"));
    assert!(!i.insecure("docker.io"));
}

#[test]
fn images_section_errors_name_the_line() {
    for (text, line, says) in [
        ("[images]\ncolour = 1\n", 2, "colour"),
        ("[images.registries.\"r.example\"]\nkeys = [\"/k.pub\"]\nsignatures = \"maybe\"\n", 3, "maybe"),
        ("[images.registries.\"r.example\"]\nsignature = \"none\"\n", 2, "signature"),
        ("\n[images.registries.\"r.example\"]\n", 2, "needs keys"),
        ("[images.registries.\"r.example\"]\nkeys = [\"k.pub\"]\n", 2, "\"k.pub\" is not an absolute path"),
        ("[images.registries.\"r.example\"]\nsignatures = \"none\"\nkeys = [\"/k.pub\"]\n", 1, "ignores them"),
        ("[images.registries.\"r.example/app\"]\nsignatures = \"none\"\ninsecure = true\n", 1, "whole registry"),
        ("[images.registries.\"https://r.example\"]\nsignatures = \"none\"\n", 1, "without a scheme"),
        ("[images.registries.\"r.example/App:latest\"]\nsignatures = \"none\"\n", 1, "not a repository path"),
        ("[images.registries.\"r.example/\"]\nsignatures = \"none\"\n", 1, "not a repository path"),
        ("[images]\ndefault_registry = \"r.example/lib\"\n", 2, "name a registry"),
        (
            "[images.registries.\"docker.io\"]\nsignatures = \"none\"\n[images.registries.\"index.docker.io\"]\nsignatures = \"none\"\n",
            3,
            "the same scope",
        ),
    ] {
        let e = Policy::parse(text, Path::new("/etc/ward/policy.toml")).expect_err(text);
        assert_eq!(e.line, Some(line), "{text}: {e}");
        assert!(e.to_string().contains(says), "{text}: {e}");
        assert!(e.to_string().contains("/etc/ward/policy.toml"), "{e}");
    }
}

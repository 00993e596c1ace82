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

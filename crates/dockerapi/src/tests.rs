use ward_policy::{Context, Policy, Scope};
use ward_spec::NamespaceType;

use super::*;

fn create(json: &str) -> Spec {
    let body = parse_create(json.as_bytes()).expect("body parses");
    spec_for_create(&body).expect("maps")
}

use ward_spec::Spec;

/// The rule ids the default policy refuses `json` with.
fn refused(json: &str) -> Vec<&'static str> {
    let d = Policy::default().decide(&create(json), &Context::default(), Scope::Container);
    d.refused.iter().map(|h| h.rule).collect()
}

fn caps(spec: &Spec) -> Vec<String> {
    spec.process
        .as_ref()
        .and_then(|p| p.capabilities.as_ref())
        .and_then(|c| c.bounding.clone())
        .unwrap_or_default()
}

#[test]
fn an_ordinary_container_is_allowed() {
    let s = create(r#"{"Image":"busybox","Cmd":["true"],"HostConfig":{}}"#);
    assert_eq!(caps(&s).len(), 14);
    assert!(s.linux.as_ref().is_some_and(|l| l.seccomp.is_some()));
    assert_eq!(
        refused(r#"{"Image":"busybox","Cmd":"true"}"#),
        Vec::<&str>::new()
    );
}

#[test]
fn privileged_is_every_capability_no_seccomp_no_masks_every_device() {
    let s = create(r#"{"HostConfig":{"Privileged":true}}"#);
    assert_eq!(caps(&s).len(), ward_spec::caps::NAMES.len());
    let l = s.linux.as_ref().expect("linux");
    assert!(l.seccomp.is_none());
    assert!(l.masked_paths.is_empty() && l.readonly_paths.is_empty());
    let r = refused(r#"{"HostConfig":{"Privileged":true}}"#);
    for id in ["privileged", "device.all", "seccomp.unconfined-sys-admin"] {
        assert!(r.contains(&id), "{id} in {r:?}");
    }
}

#[test]
fn field_names_are_matched_as_go_does_without_regard_to_case() {
    for body in [
        r#"{"HostConfig":{"privileged":true}}"#,
        r#"{"hostconfig":{"PRIVILEGED":true}}"#,
        r#"{"HOSTCONFIG":{"PrIvIlEgEd":true}}"#,
    ] {
        assert!(refused(body).contains(&"privileged"), "{body}");
    }
    // U+017F LATIN SMALL LETTER LONG S folds to s in Go.
    let r = refused("{\"HostConfig\":{\"Bind\u{17f}\":[\"/:/host\"]}}");
    assert!(r.contains(&"mount.sensitive-host-path"), "{r:?}");
    // U+212A KELVIN SIGN folds to k.
    assert_eq!(json::fold("\u{212a}ey"), "key");
}

#[test]
fn repeated_keys_are_refused_exactly_or_after_folding() {
    for body in [
        r#"{"HostConfig":{"Privileged":false,"Privileged":true}}"#,
        r#"{"HostConfig":{"Privileged":false,"privileged":true}}"#,
        r#"{"HostConfig":{},"hostConfig":{"Privileged":true}}"#,
    ] {
        assert!(parse_create(body.as_bytes()).is_err(), "{body}");
    }
    // Data maps keep their keys as written.
    let s = create(
        r#"{"HostConfig":{"Sysctls":{"net.ipv4.ip_forward":"1","NET.ipv4.ip_forward":"0"}}}"#,
    );
    assert_eq!(s.linux.as_ref().map(|l| l.sysctl.len()), Some(2));
}

#[test]
fn bodies_that_are_not_objects_or_have_wrong_types_are_errors() {
    for body in [
        "",
        "null",
        "[]",
        "{",
        r#"{"HostConfig":{"Privileged":"yes"}}"#,
        r#"{"HostConfig":{"Memory":1.5}}"#,
        r#"{} {}"#,
    ] {
        assert!(parse_create(body.as_bytes()).is_err(), "{body:?}");
    }
}

#[test]
fn binds_become_mounts_with_their_options_and_trip_the_mount_rules() {
    let s = create(r#"{"HostConfig":{"Binds":["/srv/data:/data:ro,rshared","vol:/v"]}}"#);
    let m = &s.mounts[s.mounts.len() - 2];
    assert_eq!(m.source.as_deref(), Some("/srv/data"));
    assert_eq!(m.options, ["rbind", "rshared", "ro"]);
    let v = &s.mounts[s.mounts.len() - 1];
    assert_eq!(
        v.source.as_deref(),
        Some("/var/lib/docker/volumes/vol/_data")
    );
    assert!(
        refused(r#"{"HostConfig":{"Binds":["/:/host"]}}"#).contains(&"mount.sensitive-host-path")
    );
    assert!(
        refused(r#"{"HostConfig":{"Binds":["/var/run/docker.sock:/s"]}}"#)
            .contains(&"mount.runtime-socket")
    );
    assert!(refused(r#"{"HostConfig":{"Mounts":[{"Type":"bind","Source":"/etc","Target":"/e","ReadOnly":true}]}}"#).contains(&"mount.sensitive-host-path"));
    assert_eq!(
        refused(r#"{"HostConfig":{"Binds":["vol:/v"]}}"#),
        Vec::<&str>::new()
    );
    assert!(parse_create(br#"{"HostConfig":{"Binds":["/a:/b:bogus"]}}"#)
        .and_then(|b| spec_for_create(&b))
        .is_err());
}

#[test]
fn cap_add_and_cap_drop_work_over_dockers_fourteen() {
    let s = create(r#"{"HostConfig":{"CapAdd":["sys_admin"],"CapDrop":["CHOWN"]}}"#);
    let c = caps(&s);
    assert!(c.contains(&"CAP_SYS_ADMIN".to_string()) && !c.contains(&"CAP_CHOWN".to_string()));
    assert!(refused(r#"{"HostConfig":{"CapAdd":["SYS_ADMIN"]}}"#)
        .contains(&"seccomp.unconfined-sys-admin"));
    assert_eq!(
        caps(&create(
            r#"{"HostConfig":{"CapDrop":["ALL"],"CapAdd":["NET_BIND_SERVICE"]}}"#
        )),
        ["CAP_NET_BIND_SERVICE"]
    );
    assert!(refused(r#"{"HostConfig":{"CapAdd":["ALL"]}}"#).contains(&"privileged"));
    assert!(parse_create(br#"{"HostConfig":{"CapAdd":["NOPE"]}}"#)
        .and_then(|b| spec_for_create(&b))
        .is_err());
}

#[test]
fn host_modes_leave_out_the_namespace() {
    let s = create(r#"{"HostConfig":{"PidMode":"host","NetworkMode":"host","IpcMode":"host"}}"#);
    let l = s.linux.as_ref().expect("linux");
    for k in [
        NamespaceType::Pid,
        NamespaceType::Network,
        NamespaceType::Ipc,
        NamespaceType::Uts,
    ] {
        assert!(!l.namespaces.iter().any(|n| n.kind == k), "{k:?}");
    }
    assert!(
        refused(r#"{"HostConfig":{"PidMode":"host","CapAdd":["SYS_PTRACE"]}}"#)
            .contains(&"namespace.host-pid-ptrace")
    );
    let d = Policy::default().decide(
        &create(r#"{"HostConfig":{"NetworkMode":"host"}}"#),
        &Context::default(),
        Scope::Container,
    );
    assert!(d.warned.iter().any(|h| h.rule == "namespace.host-net"));
    let s = create(r#"{"HostConfig":{"PidMode":"container:abc"}}"#);
    assert!(s
        .linux
        .as_ref()
        .is_some_and(|l| l.namespaces.iter().any(|n| n.kind == NamespaceType::Pid)));
}

#[test]
fn security_opts_map_to_seccomp_nnp_and_masked_paths() {
    let s = create(r#"{"HostConfig":{"SecurityOpt":["seccomp=unconfined","no-new-privileges"]}}"#);
    let p = s.process.as_ref().expect("process");
    assert!(p.no_new_privileges);
    assert!(s.linux.as_ref().is_some_and(|l| l.seccomp.is_none()));
    let s = create(r#"{"HostConfig":{"SecurityOpt":["systempaths=unconfined"]}}"#);
    assert!(s.linux.as_ref().is_some_and(|l| l.masked_paths.is_empty()));
    assert!(
        create(r#"{"HostConfig":{"SecurityOpt":["no-new-privileges:true"]}}"#)
            .process
            .is_some_and(|p| p.no_new_privileges)
    );
    assert!(
        parse_create(br#"{"HostConfig":{"SecurityOpt":["bogus=1"]}}"#)
            .and_then(|b| spec_for_create(&b))
            .is_err()
    );
    assert!(refused(
        r#"{"HostConfig":{"SecurityOpt":["seccomp=unconfined"],"CapAdd":["SYS_ADMIN"]}}"#
    )
    .contains(&"seccomp.unconfined-sys-admin"));
}

#[test]
fn devices_sysctls_resources_rootfs_and_user() {
    let s = create(
        r#"{"User":"1000:1000","HostConfig":{"Devices":[{"PathOnHost":"/dev/sda","PathInContainer":"/dev/sda","CgroupPermissions":"rwm"}],"DeviceCgroupRules":["c 1:3 rwm"],"Sysctls":{"kernel.core_pattern":"|/x"},"Memory":1048576,"PidsLimit":100,"NanoCpus":500000000,"ReadonlyRootfs":true}}"#,
    );
    let l = s.linux.as_ref().expect("linux");
    assert_eq!(l.devices[0].path, "/dev/sda");
    let r = l.resources.as_ref().expect("resources");
    assert_eq!(r.memory.as_ref().and_then(|m| m.limit), Some(1_048_576));
    assert_eq!(r.pids.as_ref().and_then(|p| p.limit), Some(100));
    assert_eq!(r.cpu.as_ref().and_then(|c| c.quota), Some(50_000));
    assert!(s.root.as_ref().is_some_and(|r| r.readonly));
    assert_eq!(s.process.as_ref().map(|p| p.user.uid), Some(1000));
    assert!(
        refused(r#"{"HostConfig":{"Sysctls":{"kernel.core_pattern":"|/x"}}}"#)
            .contains(&"sysctl.unsafe")
    );
    assert!(
        refused(r#"{"HostConfig":{"DeviceCgroupRules":["a *:* rwm"]}}"#).contains(&"device.all")
    );
}

#[test]
fn a_privileged_exec_is_refused_an_ordinary_one_is_not() {
    let judge = |json: &str| {
        let s = exec_spec(&parse_exec(json.as_bytes()).expect("parses")).expect("maps");
        Policy::default()
            .decide(&s, &Context::default(), Scope::Process)
            .allowed()
    };
    assert!(!judge(r#"{"Privileged":true,"Cmd":["sh"]}"#));
    assert!(!judge(r#"{"privileged":true,"Cmd":["sh"]}"#));
    assert!(judge(r#"{"Cmd":["sh"],"User":"1000"}"#));
}

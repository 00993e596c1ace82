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

fn has_ns(s: &Spec, k: NamespaceType) -> bool {
    s.linux
        .as_ref()
        .is_some_and(|l| l.namespaces.iter().any(|n| n.kind == k))
}

#[test]
fn each_namespace_mode() {
    let s = create(r#"{"HostConfig":{}}"#);
    for k in [
        NamespaceType::Pid,
        NamespaceType::Network,
        NamespaceType::Ipc,
        NamespaceType::Uts,
        NamespaceType::Mount,
    ] {
        assert!(has_ns(&s, k), "{k:?} by default");
    }
    // Docker 20.10 on cgroup v1: the host's cgroup namespace unless "private".
    assert!(!has_ns(&s, NamespaceType::Cgroup));
    assert!(has_ns(
        &create(r#"{"HostConfig":{"CgroupnsMode":"private"}}"#),
        NamespaceType::Cgroup
    ));
    assert!(!has_ns(
        &create(r#"{"HostConfig":{"UTSMode":"host"}}"#),
        NamespaceType::Uts
    ));
    assert!(!has_ns(
        &create(r#"{"HostConfig":{"IpcMode":"host"}}"#),
        NamespaceType::Ipc
    ));
    assert!(has_ns(
        &create(r#"{"HostConfig":{"IpcMode":"shareable"}}"#),
        NamespaceType::Ipc
    ));
    // No user namespace without userns-remap, with or without "host".
    assert!(!has_ns(
        &create(r#"{"HostConfig":{"UsernsMode":"host"}}"#),
        NamespaceType::User
    ));
    let d = Policy::default().decide(
        &create(r#"{"HostConfig":{"IpcMode":"host","UTSMode":"host"}}"#),
        &Context::default(),
        Scope::Container,
    );
    for id in ["namespace.host-ipc", "namespace.host-uts"] {
        assert!(d.warned.iter().any(|h| h.rule == id), "{id}");
    }
}

#[test]
fn mounts_of_each_type_and_tmpfs() {
    let s = create(
        r#"{"HostConfig":{"Mounts":[
            {"Type":"bind","Source":"/srv/a","Target":"/a","BindOptions":{"Propagation":"rshared","NonRecursive":true}},
            {"Type":"volume","Source":"data","Target":"/d","ReadOnly":true},
            {"Type":"tmpfs","Target":"/t"}],
          "Tmpfs":{"/run":"size=1m"}}}"#,
    );
    let n = s.mounts.len();
    let (a, v, t, r) = (
        &s.mounts[n - 4],
        &s.mounts[n - 3],
        &s.mounts[n - 2],
        &s.mounts[n - 1],
    );
    assert_eq!(a.options, ["bind", "rshared"]);
    assert_eq!(
        v.source.as_deref(),
        Some("/var/lib/docker/volumes/data/_data")
    );
    assert!(v.options.contains(&"ro".to_string()));
    assert_eq!(t.kind.as_deref(), Some("tmpfs"));
    assert_eq!(
        (r.destination.as_str(), r.kind.as_deref()),
        ("/run", Some("tmpfs"))
    );
    assert!(r.options.contains(&"size=1m".to_string()));
    let d = Policy::default().decide(
        &create(r#"{"HostConfig":{"Binds":["/srv/a:/a:rshared"]}}"#),
        &Context::default(),
        Scope::Container,
    );
    assert!(d
        .warned
        .iter()
        .any(|h| h.rule == "mount.propagation-shared"));
    for bad in [
        r#"{"HostConfig":{"Mounts":[{"Type":"bind","Source":"rel","Target":"/a"}]}}"#,
        r#"{"HostConfig":{"Mounts":[{"Type":"npipe","Source":"x","Target":"/a"}]}}"#,
        r#"{"HostConfig":{"Mounts":[{"Type":"bind","Source":"/a","Target":"rel"}]}}"#,
        r#"{"HostConfig":{"Binds":["/a:rel"]}}"#,
    ] {
        assert!(
            parse_create(bad.as_bytes())
                .and_then(|b| spec_for_create(&b))
                .is_err(),
            "{bad}"
        );
    }
}

#[test]
fn apparmor_where_the_host_has_it() {
    let on = Daemon {
        apparmor: true,
        ..Daemon::default()
    };
    let profile = |json: &str| {
        let b = parse_create(json.as_bytes()).expect("parses");
        spec_for_create_with(&b, &on, &|_| None)
            .expect("maps")
            .process
            .and_then(|p| p.apparmor_profile)
    };
    assert_eq!(profile(r#"{}"#).as_deref(), Some("docker-default"));
    assert_eq!(
        profile(r#"{"HostConfig":{"SecurityOpt":["apparmor=unconfined"]}}"#).as_deref(),
        Some("unconfined")
    );
    assert_eq!(
        profile(r#"{"HostConfig":{"Privileged":true}}"#).as_deref(),
        Some("unconfined")
    );
    // Not set where the host has no AppArmor (dockerd does not either).
    assert_eq!(
        create(r#"{}"#).process.and_then(|p| p.apparmor_profile),
        None
    );
}

#[test]
fn a_device_looked_up_on_the_host_gets_its_numbers_and_a_cgroup_rule() {
    let b = parse_create(
        br#"{"HostConfig":{"Devices":[{"PathOnHost":"/dev/fuse","CgroupPermissions":"rw"}]}}"#,
    )
    .expect("parses");
    let s = spec_for_create_with(&b, &Daemon::default(), &|p| {
        (p == "/dev/fuse").then(|| DeviceNode {
            kind: "c".into(),
            major: 10,
            minor: 229,
        })
    })
    .expect("maps");
    let l = s.linux.as_ref().expect("linux");
    assert_eq!((l.devices[0].major, l.devices[0].minor), (10, 229));
    let r = l.resources.as_ref().expect("resources");
    assert_eq!(r.devices.len(), 2, "deny all, then the device");
    assert_eq!(
        (r.devices[1].major, r.devices[1].access.as_deref()),
        (Some(10), Some("rw"))
    );
}

#[test]
fn an_update_body_is_its_resources() {
    let r = parse_update(
        br#"{"Memory":2097152,"PidsLimit":50,"CpuQuota":20000,"RestartPolicy":{"Name":"always"}}"#,
    )
    .expect("parses");
    let s = update_spec(&r);
    let res = s.linux.and_then(|l| l.resources).expect("resources");
    assert_eq!(res.memory.and_then(|m| m.limit), Some(2_097_152));
    assert_eq!(res.pids.and_then(|p| p.limit), Some(50));
    assert_eq!(res.cpu.and_then(|c| c.quota), Some(20_000));
    assert!(parse_update(br#"{"memory":1,"Memory":2}"#).is_err());
}

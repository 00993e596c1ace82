use super::*;

const MIN: &str =
    r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},"process":{"args":["/bin/true"],"cwd":"/"}}"#;

fn with(f: impl FnOnce(&mut serde_json::Value)) -> Result<Spec, Error> {
    let mut v: serde_json::Value = serde_json::from_str(MIN).expect("fixture");
    f(&mut v);
    let spec = parse(v.to_string().as_bytes())?;
    validate::validate(&spec, true)?;
    Ok(spec)
}

fn err_text(r: Result<Spec, Error>) -> String {
    match r {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn minimal_config_is_valid() {
    assert!(with(|_| {}).is_ok());
}

#[test]
fn malformed_json_names_position() {
    let e = parse(b"{\"ociVersion\": ")
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(e.contains("config.json"), "{e}");
}

#[test]
fn unknown_namespace_names_the_field() {
    let e =
        err_text(with(
            |v| v["linux"] = serde_json::json!({"namespaces":[{"type":"pid"},{"type":"bogus"}]}),
        ));
    assert!(
        e.contains("linux.namespaces[1].type") && e.contains("bogus"),
        "{e}"
    );
}

#[test]
fn relative_cwd_and_traversing_mount_destination_are_refused() {
    let e = err_text(with(|v| v["process"]["cwd"] = "tmp".into()));
    assert!(e.contains("process.cwd"), "{e}");
    assert!(
        with(|v| v["mounts"] = serde_json::json!([{"destination":"proc","type":"proc"}])).is_ok()
    );
    let e = err_text(with(|v| {
        v["mounts"] = serde_json::json!([{"destination":"/a/../../x","type":"tmpfs"}])
    }));
    assert!(e.contains("mounts[0].destination"), "{e}");
}

#[test]
fn host_sysctls_are_refused() {
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"sysctl":{"kernel.panic":"1"}})
    }));
    assert!(e.contains("not namespaced"), "{e}");
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"sysctl":{"net.ipv4.ip_forward":"1"}})
    }));
    assert!(e.contains("network namespace"), "{e}");
    assert!(with(|v| v["linux"] = serde_json::json!({"namespaces":[{"type":"network"}],"sysctl":{"net.ipv4.ip_forward":"1"}}))
        .is_ok());
    let e = err_text(with(
        |v| {
            v["linux"] =
                serde_json::json!({"namespaces":[{"type":"network"}],"sysctl":{"net.../x":"1"}})
        },
    ));
    assert!(e.contains("valid sysctl"), "{e}");
}

#[test]
fn userns_needs_mappings_and_mappings_need_userns() {
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"namespaces":[{"type":"user"}]})
    }));
    assert!(e.contains("uidMappings"), "{e}");
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"uidMappings":[{"containerID":0,"hostID":1000,"size":1}],
                                         "gidMappings":[{"containerID":0,"hostID":1000,"size":1}]})
    }));
    assert!(e.contains("no new user namespace"), "{e}");
}

#[test]
fn unknown_capability_and_rlimit_are_refused() {
    let e = err_text(with(|v| {
        v["process"]["capabilities"] = serde_json::json!({"bounding":["CAP_CHOWN","CAP_FLY"]})
    }));
    assert!(e.contains("process.capabilities.bounding[1]"), "{e}");
    let e = err_text(with(|v| {
        v["process"]["rlimits"] = serde_json::json!([{"type":"RLIMIT_BOGUS","hard":1,"soft":1}])
    }));
    assert!(e.contains("rlimits[0].type"), "{e}");
}

#[test]
fn hostname_needs_uts() {
    let e = err_text(with(|v| v["hostname"] = "box".into()));
    assert!(e.contains("hostname"), "{e}");
}

#[test]
fn cgroups_path_traversal_is_refused() {
    let e = err_text(with(|v| {
        v["linux"] = serde_json::json!({"cgroupsPath":"/a/../../b"})
    }));
    assert!(e.contains("linux.cgroupsPath"), "{e}");
}

#[test]
fn capability_numbers() {
    assert_eq!(caps::number("CAP_SYS_ADMIN"), Some(21));
    assert_eq!(caps::number("net_raw"), Some(13));
    assert_eq!(caps::number("CAP_CHECKPOINT_RESTORE"), Some(40));
    assert_eq!(caps::number("CAP_NOPE"), None);
}

#[test]
fn docker_default_capabilities_match_the_reference() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/reference/docker-default-capabilities.txt"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("SKIP: {path} not found");
        return;
    };
    let mut want: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let mut have = caps::DOCKER_DEFAULT.to_vec();
    want.sort_unstable();
    have.sort_unstable();
    assert_eq!(have, want);
}

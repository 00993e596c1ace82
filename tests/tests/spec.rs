//! `spec`: writes a default config.json.

use ward_tests::{ctx, Value};

#[test]
fn spec_writes_a_default_config() {
    let ctx = ctx!("spec");
    let dir = ctx.path("specdir");
    std::fs::create_dir_all(&dir).expect("mkdir");
    ctx.cmd(&["spec"]).cwd(&dir).run().ok();
    let text = std::fs::read_to_string(dir.join("config.json")).expect("config.json written");
    let v: Value = serde_json::from_str(&text).expect("config.json is JSON");
    assert!(
        v["ociVersion"]
            .as_str()
            .is_some_and(|s| s.starts_with("1.")),
        "{v}"
    );
    assert_eq!(v["process"]["args"], ward_tests::json!(["sh"]), "{v}");
    assert_eq!(v["process"]["terminal"], true, "{v}");
    assert_eq!(v["process"]["cwd"], "/", "{v}");
    assert_eq!(v["root"]["path"], "rootfs", "{v}");
    let ns: Vec<&str> = v["linux"]["namespaces"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["type"].as_str()).collect())
        .unwrap_or_default();
    for want in ["pid", "network", "ipc", "uts", "mount"] {
        assert!(ns.contains(&want), "namespace {want} missing: {ns:?}");
    }
    let mounts: Vec<&str> = v["mounts"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m["destination"].as_str()).collect())
        .unwrap_or_default();
    for want in [
        "/proc",
        "/dev",
        "/dev/pts",
        "/dev/shm",
        "/dev/mqueue",
        "/sys",
    ] {
        assert!(mounts.contains(&want), "mount {want} missing: {mounts:?}");
    }
    // A second `spec` refuses to overwrite.
    ctx.cmd(&["spec"])
        .cwd(&dir)
        .run()
        .fails_mentioning(&["exist"]);
    assert_eq!(
        std::fs::read_to_string(dir.join("config.json")).expect("still there"),
        text,
        "config.json was modified"
    );
}

#[test]
fn spec_bundle_flag() {
    let ctx = ctx!("spec-bundle");
    let dir = ctx.path("other");
    std::fs::create_dir_all(&dir).expect("mkdir");
    ctx.rt(&["spec", "--bundle", &dir.display().to_string()])
        .ok();
    let v: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("config.json")).expect("config.json in --bundle dir"),
    )
    .expect("JSON");
    assert_eq!(v["root"]["path"], "rootfs");
    assert!(!ctx.path("config.json").exists(), "written to cwd instead");
}

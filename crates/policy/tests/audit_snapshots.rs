//! `ward audit` snapshots: the findings for Docker's default config (as
//! Docker 20.10 writes it: 14 capabilities, docker-default seccomp resolved
//! for x86_64, masked paths), runc's `spec`, ward-oci's `spec` and `docker
//! run --privileged -v /:/host`. The expected reports are checked in under
//! tests/snapshots/; regenerate with WARD_UPDATE_SNAPSHOTS=1 and review the
//! diff. The host context is empty (no LSM), as on the build machine.

use std::path::Path;

use ward_policy::audit::{findings, render};
use ward_policy::{Context, Policy, Scope};

fn report(name: &str) -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let bytes = std::fs::read(dir.join("fixtures").join(format!("{name}.json"))).expect("fixture");
    let spec = ward_spec::parse(&bytes).expect("fixture parses");
    let text = render(
        &format!("{name}.json"),
        &findings(&spec, &Context::default()),
    );
    let snap = dir.join("snapshots").join(format!("{name}.txt"));
    if std::env::var_os("WARD_UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&snap, &text).expect("write snapshot");
    }
    let want = std::fs::read_to_string(&snap).unwrap_or_default();
    assert_eq!(
        text, want,
        "audit of {name}.json differs from {}; if the change is right, regenerate with WARD_UPDATE_SNAPSHOTS=1",
        snap.display()
    );
    text
}

fn rules(name: &str) -> Vec<String> {
    report(name)
        .lines()
        .skip(1)
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().nth(3).map(String::from))
        .collect()
}

fn decide(name: &str) -> ward_policy::Decision {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let bytes = std::fs::read(dir.join(format!("{name}.json"))).expect("fixture");
    let spec = ward_spec::parse(&bytes).expect("fixture parses");
    Policy::default().decide(&spec, &Context::default(), Scope::Container)
}

#[test]
fn docker_default() {
    let r = rules("docker-default");
    for want in [
        "namespace.host-user",
        "user.root",
        "rootfs.writable",
        "no-new-privileges",
        "limits.memory",
        "limits.pids",
    ] {
        assert!(r.contains(&want.to_string()), "{want} missing: {r:?}");
    }
    for not in [
        "privileged",
        "seccomp.missing",
        "caps.added",
        "paths.unmasked",
    ] {
        assert!(!r.contains(&not.to_string()), "{not} reported: {r:?}");
    }
    // Docker's default keeps working under the default policy.
    assert!(decide("docker-default").allowed());
}

#[test]
fn runc_spec() {
    let r = rules("runc-spec");
    assert!(r.contains(&"seccomp.missing".to_string()), "{r:?}");
    assert!(!r.contains(&"rootfs.writable".to_string()), "{r:?}");
    assert!(decide("runc-spec").allowed());
}

#[test]
fn ward_spec() {
    assert_eq!(rules("ward-spec"), ["limits.cpu"]);
}

#[test]
fn privileged_with_host_root() {
    let r = rules("privileged");
    for want in [
        "privileged",
        "mount.sensitive-host-path",
        "mount.runtime-socket",
        "device.all",
        "seccomp.missing",
        "paths.unmasked",
    ] {
        assert!(r.contains(&want.to_string()), "{want} missing: {r:?}");
    }
    let d = decide("privileged");
    assert!(!d.allowed());
}

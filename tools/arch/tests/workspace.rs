//! The architecture rules hold on the workspace (docs/architecture.md,
//! "Checked rules"), apart from the allow-listed violations being fixed —
//! and the allow-list holds nothing that is already fixed.

use std::process::Command;

#[test]
fn rules_hold_apart_from_the_allow_list() {
    let ws = ward_arch::workspace().expect("cargo metadata");
    let found = ward_arch::all(&ws).expect("check");
    let list = std::fs::read_to_string(ws.root.join(ward_arch::ALLOWED)).expect("allow-list");
    let verdict = ward_arch::judge(&found, &ward_arch::allowed(&list));
    let mut problems = Vec::new();
    for v in &verdict.new {
        problems.push(format!("new violation: {}  ({})", v.key, v.detail));
    }
    for k in &verdict.stale {
        problems.push(format!(
            "fixed, so remove it from {}: {k}",
            ward_arch::ALLOWED
        ));
    }
    assert!(
        problems.is_empty(),
        "architecture check (`cargo run -p ward-arch -- check`):\n{}",
        problems.join("\n")
    );
}

/// ward-oci forks with clone3, which refuses a multi-threaded process: an
/// async runtime linked into it would be one dependency away from threads.
#[test]
fn ward_oci_links_no_async_runtime() {
    let ws = ward_arch::workspace().expect("cargo metadata");
    let linked = ws.normal_closure("ward-oci");
    assert!(
        linked.iter().any(|n| n == "ward-sys"),
        "closure: {linked:?}"
    );
    for runtime in [
        "tokio",
        "async-std",
        "smol",
        "async-executor",
        "async-global-executor",
    ] {
        assert!(
            !linked.iter().any(|n| n == runtime),
            "ward-oci links {runtime}"
        );
    }
    // The same question as a person would ask it.
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree", "-p", "ward-oci", "-e", "normal", "--target", "all", "-i", "tokio",
        ])
        .current_dir(&ws.root)
        .output()
        .expect("cargo tree");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let absent = stderr.contains("did not match any packages");
    assert!(
        (out.status.success() && stdout.trim().is_empty()) || absent,
        "cargo tree -p ward-oci -e normal -i tokio:\n{stdout}{stderr}"
    );
}

/// docs/architecture.md, "Nevers": the runtime never depends on the
/// engine's crates, the pure crates never touch the kernel.
#[test]
fn the_nevers_hold() {
    let ws = ward_arch::workspace().expect("cargo metadata");
    let engine = [
        "ward-image",
        "ward-unpack",
        "ward-registry",
        "ward-engine",
        "ward-api",
        "ward-authz",
    ];
    let low = [
        "ward-runtime",
        "ward-init",
        "ward-seccomp",
        "ward-cgroups",
        "ward-sys",
        "ward-spec",
    ];
    for name in low {
        assert!(
            ws.package(name).is_some(),
            "{name} is not in the workspace any more: update this test and the doc"
        );
        let linked = ws.normal_closure(name);
        for e in engine {
            assert!(!linked.iter().any(|n| n == e), "{name} depends on {e}");
        }
    }
    for pure in ["ward-policy", "ward-authz"] {
        let linked = ws.normal_closure(pure);
        assert!(
            !linked.iter().any(|n| n == "ward-sys"),
            "{pure} links ward-sys"
        );
    }
    let workspace: Vec<&str> = ws.packages.iter().map(|p| p.name.as_str()).collect();
    let spec_deps: Vec<String> = ws
        .normal_closure("ward-spec")
        .into_iter()
        .filter(|n| workspace.contains(&n.as_str()))
        .collect();
    assert!(spec_deps.is_empty(), "ward-spec depends on {spec_deps:?}");
}

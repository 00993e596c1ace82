//! `ward audit`: a CIS Docker Benchmark (v1.6.0, section 5) report of
//! container configs — files, or the containers of a ward-oci state root.
//! The findings are the policy engine's rules (`ward-policy`): the same
//! checks that `ward-oci` enforces, reported whatever their policy mode.
//! `ward audit host` and `ward audit dockerfile` report with ward-audit's
//! finding model (audit_host.rs, and below).

use std::path::Path;
use std::process::ExitCode;

use ward_audit::render;
use ward_cli::{AuditArgs, AuditTarget, DockerfileArgs, Format, OutputArgs};
use ward_policy::audit::{findings, render, Finding};
use ward_runtime::state::{self, Status, Store};

/// Exit code of an error of ward itself.
const EXIT_ERROR: u8 = 125;

/// One audited config: what it is, the container (id, status) for
/// `--root`, and its findings.
pub struct Report {
    pub target: String,
    container: Option<(String, &'static str)>,
    pub findings: Vec<Finding>,
}

fn audit_config(path: &Path) -> Result<Report, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let spec = ward_spec::parse(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let bundle = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let ctx = ward_gate::config_context(Path::new("/run/ward"), bundle, &spec);
    Ok(Report {
        target: path.display().to_string(),
        container: None,
        findings: findings(&spec, &ctx),
    })
}

pub fn audit_root(root: &Path) -> Result<Vec<Report>, String> {
    if !root.is_dir() {
        return Err(format!("--root {}: not a directory", root.display()));
    }
    let store = Store::new(root);
    let mut out = Vec::new();
    for id in store.ids() {
        let Ok(s) = store.load(&id) else { continue };
        let status = state::status(&store, &s);
        if status == Status::Stopped {
            continue;
        }
        let ctx = ward_gate::config_context(root, &s.bundle, &s.spec);
        out.push(Report {
            target: format!(
                "container {id} ({}, bundle {})",
                status.as_str(),
                s.bundle.display()
            ),
            findings: findings(&s.spec, &ctx),
            container: Some((id, status.as_str())),
        });
    }
    Ok(out)
}

pub fn main(a: AuditArgs) -> ExitCode {
    if let Some(AuditTarget::Dockerfile(d)) = a.target {
        return dockerfile_main(d);
    }
    if a.configs.is_empty() && a.root.is_none() {
        eprintln!("ward audit: give CONFIG.json files or --root DIR (see ward audit --help)");
        return ExitCode::from(EXIT_ERROR);
    }
    let mut reports = Vec::new();
    for c in &a.configs {
        match audit_config(c) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("ward audit: {e}");
                return ExitCode::from(EXIT_ERROR);
            }
        }
    }
    if let Some(root) = &a.root {
        match audit_root(root) {
            Ok(r) => reports.extend(r),
            Err(e) => {
                eprintln!("ward audit: {e}");
                return ExitCode::from(EXIT_ERROR);
            }
        }
    }
    if a.format == Some(Format::Sarif) {
        let converted: Vec<ward_audit::Report> = reports
            .iter()
            .map(|r| ward_audit::Report {
                target: r.target.clone(),
                findings: r
                    .findings
                    .iter()
                    .map(ward_audit::Finding::from_policy)
                    .collect(),
                skipped: Vec::new(),
            })
            .collect();
        println!("{:#}", render::sarif(&converted));
    } else if a.json || a.format == Some(Format::Json) {
        let v: Vec<serde_json::Value> = reports
            .iter()
            .map(|r| {
                let mut v = serde_json::json!({"target": r.target, "findings": r.findings});
                if let Some((id, status)) = &r.container {
                    v["id"] = serde_json::json!(id);
                    v["status"] = serde_json::json!(status);
                }
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        if reports.is_empty() {
            println!("no containers to audit");
        }
        for r in &reports {
            print!("{}", render(&r.target, &r.findings));
        }
    }
    let failed = a.fail_on.is_some_and(|min| {
        reports
            .iter()
            .flat_map(|r| &r.findings)
            .any(|f| f.severity >= min)
    });
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

/// Prints `reports` as `out` asks, and the exit code of `--fail-on`.
pub fn output(reports: &[ward_audit::Report], out: &OutputArgs) -> ExitCode {
    let format = out
        .format
        .unwrap_or(if out.json { Format::Json } else { Format::Text });
    match format {
        Format::Text => print!("{}", render::text(reports)),
        Format::Json => println!("{}", render::json(reports)),
        Format::Sarif => println!("{:#}", render::sarif(reports)),
    }
    if out
        .fail_on
        .is_some_and(|min| reports.iter().any(|r| r.fails(min)))
    {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn dockerfile_main(a: DockerfileArgs) -> ExitCode {
    let mut reports = Vec::new();
    for p in &a.paths {
        let text = match std::fs::read_to_string(p) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("ward audit dockerfile: {}: {e}", p.display());
                return ExitCode::from(EXIT_ERROR);
            }
        };
        let mut r = ward_audit::Report::new(p.display().to_string());
        r.findings = ward_audit::check_dockerfile(p, &text);
        r.sort();
        reports.push(r);
    }
    output(&reports, &a.output)
}

//! The three outputs of a list of reports: text (grouped by target, most
//! severe first), JSON, and SARIF 2.1.0 for code-scanning dashboards.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Value};
use ward_policy::Severity;

use crate::finding::{Finding, Report};

/// The human-readable report.
pub fn text(reports: &[Report]) -> String {
    let mut s = String::new();
    for r in reports {
        s.push_str(&format!("{}: {}\n", r.target, summary(&r.findings)));
        for f in &r.findings {
            let cis = if f.cis.is_empty() {
                "-".to_string()
            } else {
                f.cis.join("/")
            };
            let place = match (&f.file, f.line) {
                (Some(p), Some(l)) => format!(" ({}:{l})", p.display()),
                (Some(p), None) => format!(" ({})", p.display()),
                _ => String::new(),
            };
            s.push_str(&format!(
                "  {:<8} CIS {:<9} {:<32} {}\n           seen: {}{place}\n           why: {}\n           fix: {}\n",
                f.severity.as_str().to_ascii_uppercase(),
                cis,
                f.id,
                f.title,
                f.seen,
                f.why,
                f.fix
            ));
        }
        for k in &r.skipped {
            s.push_str(&format!("  SKIPPED  {:<46} {}\n", k.id, k.reason));
        }
    }
    s
}

/// "2 critical, 1 high, ..." or "no findings".
pub fn summary(findings: &[Finding]) -> String {
    ward_policy::audit::severity_summary(&findings.iter().map(|f| f.severity).collect::<Vec<_>>())
}

/// `--json`: the reports as an array.
pub fn json(reports: &[Report]) -> String {
    serde_json::to_string_pretty(reports).unwrap_or_else(|_| "[]".into())
}

/// SARIF's level of a severity: error fails a code-scanning check by
/// default, warning and note do not.
pub fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// GitHub code scanning's `security-severity` (CVSS-like 0.0–10.0).
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// Where a check is documented: Docker's own pages for what they
/// configure, ward's docs/audit.md for the rest.
pub fn help_uri(id: &str) -> String {
    let docker = if id.starts_with("dockerfile.") {
        "https://docs.docker.com/develop/develop-images/dockerfile_best-practices/"
    } else if id.starts_with("host.daemon.") {
        "https://docs.docker.com/engine/reference/commandline/dockerd/"
    } else {
        "https://docs.docker.com/engine/security/"
    };
    format!("{docker}#{}", id.replace('.', "-"))
}

/// A file URI for SARIF's artifactLocation (absolute paths: file:///...;
/// relative ones stay relative references, resolved against the checkout).
fn file_uri(p: &Path) -> String {
    let s = p.to_string_lossy();
    let enc: String = s
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_string(),
            '%' => "%25".to_string(),
            '#' => "%23".to_string(),
            '?' => "%3F".to_string(),
            c => c.to_string(),
        })
        .collect();
    if p.is_absolute() {
        format!("file://{enc}")
    } else {
        enc
    }
}

fn rule(f: &Finding) -> Value {
    let mut tags = vec!["security".to_string()];
    tags.extend(f.cis.iter().map(|c| format!("CIS-Docker-{c}")));
    json!({
        "id": f.id,
        "name": f.id.replace(['.', '-'], "_"),
        "shortDescription": {"text": f.title},
        "fullDescription": {"text": format!("{} {}", f.title, f.why)},
        "help": {
            "text": format!("Why: {}\nFix: {}", f.why, f.fix),
            "markdown": format!("**Why:** {}\n\n**Fix:** `{}`", f.why, f.fix),
        },
        "helpUri": help_uri(&f.id),
        "defaultConfiguration": {"level": sarif_level(f.severity)},
        "properties": {
            "tags": tags,
            "security-severity": security_severity(f.severity),
            "cis": f.cis,
        },
    })
}

fn result(f: &Finding, index: usize, target: &str) -> Value {
    let location = match &f.file {
        Some(p) => {
            let mut loc = json!({"physicalLocation": {"artifactLocation": {"uri": file_uri(p)}}});
            if let Some(l) = f.line.filter(|l| *l > 0) {
                loc["physicalLocation"]["region"] = json!({"startLine": l});
            }
            loc
        }
        None => json!({"logicalLocations": [{"name": target, "kind": "resource"}]}),
    };
    json!({
        "ruleId": f.id,
        "ruleIndex": index,
        "level": sarif_level(f.severity),
        "message": {"text": format!("{}: {}. Fix: {}", f.title, f.seen, f.fix)},
        "locations": [location],
        "properties": {"severity": f.severity.as_str(), "target": target},
    })
}

/// `--format sarif`: one run of the tool `ward`, a rule per finding id
/// (described by its first finding), a result per finding.
pub fn sarif(reports: &[Report]) -> Value {
    let mut index: BTreeMap<&str, usize> = BTreeMap::new();
    let mut rules = Vec::new();
    let mut results = Vec::new();
    for r in reports {
        for f in &r.findings {
            let i = *index.entry(&f.id).or_insert_with(|| {
                rules.push(rule(f));
                rules.len() - 1
            });
            results.push(result(f, i, &r.target));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ward",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://docs.docker.com/engine/security/",
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Report;
    use std::path::Path;

    /// The parts of the SARIF 2.1.0 schema (sarif-schema-2.1.0.json) that
    /// `sarif` uses, checked by hand: required properties, enums, types,
    /// minimums and the rule index's consistency. The schema itself is not
    /// vendored (no network here); this mirrors its constraints.
    pub fn validate_sarif(v: &Value) -> Result<(), String> {
        let obj = |v: &Value, at: &str| {
            v.as_object()
                .map(|_| ())
                .ok_or(format!("{at}: not an object"))
        };
        let text = |v: &Value, at: &str| match v["text"].as_str() {
            Some(s) if !s.is_empty() => Ok(()),
            _ => Err(format!("{at}.text: required non-empty string")),
        };
        obj(v, "sarifLog")?;
        if v["version"] != "2.1.0" {
            return Err("version: must be \"2.1.0\"".into());
        }
        let runs = v["runs"].as_array().ok_or("runs: required array")?;
        for (ri, run) in runs.iter().enumerate() {
            let at = format!("runs[{ri}]");
            obj(&run["tool"], &format!("{at}.tool"))?;
            let driver = &run["tool"]["driver"];
            obj(driver, &format!("{at}.tool.driver"))?;
            driver["name"]
                .as_str()
                .ok_or(format!("{at}.tool.driver.name: required string"))?;
            let rules = driver["rules"].as_array().cloned().unwrap_or_default();
            let mut ids = std::collections::HashSet::new();
            for (i, r) in rules.iter().enumerate() {
                let at = format!("{at}.tool.driver.rules[{i}]");
                let id = r["id"]
                    .as_str()
                    .ok_or(format!("{at}.id: required string"))?;
                if !ids.insert(id.to_string()) {
                    return Err(format!("{at}.id: duplicate {id}"));
                }
                for k in ["shortDescription", "fullDescription", "help"] {
                    if !r[k].is_null() {
                        text(&r[k], &format!("{at}.{k}"))?;
                    }
                }
                if let Some(u) = r["helpUri"].as_str() {
                    if !u.contains("://") {
                        return Err(format!("{at}.helpUri: not an absolute URI: {u}"));
                    }
                }
                let level = &r["defaultConfiguration"]["level"];
                if !level.is_null()
                    && !["none", "note", "warning", "error"].contains(&level.as_str().unwrap_or(""))
                {
                    return Err(format!("{at}.defaultConfiguration.level: {level}"));
                }
            }
            for (i, res) in run["results"]
                .as_array()
                .ok_or(format!("{at}.results: array"))?
                .iter()
                .enumerate()
            {
                let at = format!("{at}.results[{i}]");
                text(&res["message"], &format!("{at}.message"))?;
                if !["none", "note", "warning", "error"]
                    .contains(&res["level"].as_str().unwrap_or(""))
                {
                    return Err(format!("{at}.level: {}", res["level"]));
                }
                let idx = res["ruleIndex"]
                    .as_u64()
                    .ok_or(format!("{at}.ruleIndex: integer >= 0"))?
                    as usize;
                if rules.get(idx).map(|r| &r["id"]) != Some(&res["ruleId"]) {
                    return Err(format!(
                        "{at}: ruleIndex {idx} does not name ruleId {}",
                        res["ruleId"]
                    ));
                }
                for (j, loc) in res["locations"]
                    .as_array()
                    .ok_or(format!("{at}.locations: array"))?
                    .iter()
                    .enumerate()
                {
                    let at = format!("{at}.locations[{j}]");
                    let pl = &loc["physicalLocation"];
                    if !pl.is_null() {
                        let uri = pl["artifactLocation"]["uri"]
                            .as_str()
                            .ok_or(format!("{at}: artifactLocation.uri string"))?;
                        if uri.is_empty() || uri.contains(' ') {
                            return Err(format!("{at}: bad uri {uri:?}"));
                        }
                        let region = &pl["region"];
                        if !region.is_null() && region["startLine"].as_u64().is_none_or(|l| l < 1) {
                            return Err(format!("{at}.region.startLine: integer >= 1"));
                        }
                    } else if loc["logicalLocations"]
                        .as_array()
                        .is_none_or(|l| l.is_empty())
                    {
                        return Err(format!("{at}: neither physical nor logical location"));
                    }
                }
            }
        }
        Ok(())
    }

    fn reports() -> Vec<Report> {
        let mut df = Report::new("Dockerfile");
        df.findings = crate::check_dockerfile(
            Path::new("/src/app dir/Dockerfile"),
            "FROM debian\nADD https://x/y /y\nRUN curl -fsSL https://x | sh\n",
        );
        df.sort();
        let mut host = Report::new("host");
        host.findings = crate::daemon::check(
            &crate::daemon::DaemonConfig::merge(
                Path::new("/etc/docker/daemon.json"),
                Some("{\"icc\": true}"),
                &[],
            )
            .expect("json"),
        );
        // An image: findings with neither file nor line (logical locations).
        let mut image = Report::new("image localhost/app:latest");
        image.findings = crate::image::check(
            "localhost/app:latest",
            &json!({"config": {"Env": ["DB_PASSWORD=hunter2hunter2"]},
                "history": [{"created_by": "/bin/sh -c #(nop) ADD a.tar /"}]}),
            &[crate::image::LayerScan {
                digest: "sha256:ab".into(),
                setid: vec![("bin/su".into(), 0o4755)],
                ..Default::default()
            }],
        );
        vec![df, host, image]
    }

    #[test]
    fn sarif_is_valid_and_complete() {
        let r = reports();
        let v = sarif(&r);
        validate_sarif(&v).unwrap_or_else(|e| panic!("{e}\n{v:#}"));
        let results = v["runs"][0]["results"].as_array().expect("results");
        assert_eq!(
            results.len(),
            r.iter().map(|r| r.findings.len()).sum::<usize>()
        );
        let remote = results
            .iter()
            .find(|x| x["ruleId"] == "dockerfile.add-remote")
            .expect("add-remote");
        assert_eq!(remote["level"], "error");
        let pl = &remote["locations"][0]["physicalLocation"];
        assert_eq!(
            pl["artifactLocation"]["uri"],
            "file:///src/app%20dir/Dockerfile"
        );
        assert_eq!(pl["region"]["startLine"], 2);
        let icc = results
            .iter()
            .find(|x| x["ruleId"] == "host.daemon.icc")
            .expect("icc");
        assert_eq!(
            icc["locations"][0]["physicalLocation"]["region"]["startLine"],
            1
        );
        // The validator catches what it checks.
        let mut bad = v.clone();
        bad["runs"][0]["results"][0]["ruleIndex"] = json!(999);
        assert!(validate_sarif(&bad).is_err());
        let mut bad = v.clone();
        bad["runs"][0]["results"][0]["level"] = json!("critical");
        assert!(validate_sarif(&bad).is_err());
    }

    #[test]
    fn text_and_json() {
        let r = reports();
        let t = text(&r);
        assert!(t.contains("Dockerfile: 2 high, 2 medium, 1 low"), "{t}");
        assert!(t.contains("(/src/app dir/Dockerfile:2)"), "{t}");
        let j: Value = serde_json::from_str(&json(&r)).expect("json");
        assert_eq!(j[0]["findings"][0]["severity"], "high");
        assert!(j[0]["findings"][0]["cis"].is_array());
    }
}

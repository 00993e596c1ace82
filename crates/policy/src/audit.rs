//! `ward audit`: the rules' findings as a CIS Docker Benchmark (v1.6.0,
//! section 5) report. Every rule is reported whatever its policy mode.

use serde::Serialize;
use ward_spec::Spec;

use crate::rules::{self, check, Context, Severity};

/// One finding of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// CIS Docker Benchmark items ("5.4"); empty for ward's own checks.
    pub cis: Vec<&'static str>,
    /// The rule id (the same as in policy files and the audit log).
    pub rule: &'static str,
    pub severity: Severity,
    pub title: &'static str,
    /// What in the config trips it.
    pub detail: String,
    pub why: &'static str,
    pub fix: &'static str,
}

/// Every finding for `spec`, most severe first (in the order of
/// [`check`] within a severity: by place in the config, then table order).
pub fn findings(spec: &Spec, ctx: &Context) -> Vec<Finding> {
    let mut out: Vec<Finding> = check(spec, ctx, None)
        .into_iter()
        .filter_map(|h| {
            let r = rules::rule(h.rule)?;
            Some(Finding {
                cis: r.cis.to_vec(),
                rule: r.id,
                severity: r.severity,
                title: r.title,
                detail: h.detail,
                why: r.why,
                fix: r.fix,
            })
        })
        .collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.severity));
    out
}

/// The human-readable report of one config.
pub fn render(name: &str, findings: &[Finding]) -> String {
    let mut s = format!("{name}: {}\n", summary(findings));
    for f in findings {
        let cis = if f.cis.is_empty() {
            "-".to_string()
        } else {
            f.cis.join("/")
        };
        s.push_str(&format!(
            "  {:<8} CIS {:<9} {:<28} {}\n           {}\n           why: {}\n           fix: {}\n",
            f.severity.as_str().to_ascii_uppercase(),
            cis,
            f.rule,
            f.title,
            f.detail,
            f.why,
            f.fix
        ));
    }
    s
}

/// "2 critical, 1 high, ..." or "no findings".
pub fn summary(findings: &[Finding]) -> String {
    severity_summary(&findings.iter().map(|f| f.severity).collect::<Vec<_>>())
}

/// "2 critical, 1 high, ..." for the severities of some findings (every
/// report of ward's: this one and ward-audit's), or "no findings".
pub fn severity_summary(severities: &[Severity]) -> String {
    if severities.is_empty() {
        return "no findings".into();
    }
    Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| {
            let n = severities.iter().filter(|f| *f == s).count();
            (n > 0).then(|| format!("{n} {}", s.as_str()))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

//! The finding model shared by every `ward audit` target (host, daemon,
//! Dockerfiles, containers; images later): a [`Check`] is the static
//! description of one problem, a [`Finding`] one occurrence of it with its
//! evidence, a [`Report`] the findings of one target plus the checks that
//! could not run ([`Skip`]) and why.

use std::path::{Path, PathBuf};

use serde::Serialize;
use ward_policy::Severity;

/// One kind of problem: what `ward audit` can report.
#[derive(Debug)]
pub struct Check {
    /// Stable id: `host.daemon.icc`, `dockerfile.add-remote`, ...
    pub id: &'static str,
    /// CIS Docker Benchmark v1.6.0 items; empty where the benchmark has none.
    pub cis: &'static [&'static str],
    pub severity: Severity,
    /// One line: what is wrong.
    pub title: &'static str,
    /// Why it matters: the threat, in one sentence.
    pub why: &'static str,
    /// The fix: a command or config line.
    pub fix: &'static str,
}

impl Check {
    /// A finding of this check with what was seen.
    pub fn seen(&self, seen: impl Into<String>) -> Finding {
        Finding {
            id: self.id.to_string(),
            cis: self.cis.iter().map(|c| c.to_string()).collect(),
            severity: self.severity,
            title: self.title.to_string(),
            seen: seen.into(),
            file: None,
            line: None,
            why: self.why.to_string(),
            fix: self.fix.to_string(),
        }
    }
}

/// One occurrence of a problem.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Finding {
    pub id: String,
    pub cis: Vec<String>,
    pub severity: Severity,
    pub title: String,
    /// The evidence: the value, flag or instruction seen.
    pub seen: String,
    /// Where it was seen (Dockerfile, daemon.json, socket, ...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// 1-based line in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    pub why: String,
    pub fix: String,
}

impl Finding {
    pub fn in_file(mut self, file: impl AsRef<Path>, line: Option<u32>) -> Finding {
        self.file = Some(file.as_ref().to_path_buf());
        self.line = line;
        self
    }

    /// A fix naming the concrete path or value.
    pub fn fix(mut self, fix: impl Into<String>) -> Finding {
        self.fix = fix.into();
        self
    }

    /// A finding of one of the policy engine's rules (a container config):
    /// the same rule, under the `container.` prefix.
    pub fn from_policy(f: &ward_policy::audit::Finding) -> Finding {
        Finding {
            id: format!("container.{}", f.rule),
            cis: f.cis.iter().map(|c| c.to_string()).collect(),
            severity: f.severity,
            title: f.title.to_string(),
            seen: f.detail.clone(),
            file: None,
            line: None,
            why: f.why.to_string(),
            fix: f.fix.to_string(),
        }
    }
}

/// A check that could not run, and why (e.g. no auditctl on this host).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Skip {
    pub id: String,
    pub reason: String,
}

/// The findings of one audited target.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Report {
    /// What was audited: "host", a Dockerfile's path, "container NAME".
    pub target: String,
    pub findings: Vec<Finding>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<Skip>,
}

impl Report {
    pub fn new(target: impl Into<String>) -> Report {
        Report {
            target: target.into(),
            ..Report::default()
        }
    }

    /// Most severe first, then by id, file and line: a stable order for
    /// snapshots and diffs.
    pub fn sort(&mut self) {
        self.findings.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then_with(|| a.id.cmp(&b.id))
                .then_with(|| a.file.cmp(&b.file))
                .then_with(|| a.line.cmp(&b.line))
                .then_with(|| a.seen.cmp(&b.seen))
        });
    }

    /// Whether any finding is at or above `min`.
    pub fn fails(&self, min: Severity) -> bool {
        self.findings.iter().any(|f| f.severity >= min)
    }
}

//! The policy file (TOML) and the decision: which rules trip, which of
//! them refuse, which only warn. A file that cannot be read or parsed is an
//! error that names the file, the line and the problem: the caller refuses
//! every container then (fail closed).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use ward_spec::Spec;

use crate::images::{Images, ImagesSection};
use crate::rules::{self, check, Context, Hit, Mode, Scope, RULES};

/// The default location of the policy file.
pub const DEFAULT_PATH: &str = "/etc/ward/policy.toml";
/// The default audit log.
pub const DEFAULT_AUDIT_LOG: &str = "/var/log/ward/audit.log";
/// The default syslog socket (a datagram socket; absent on hosts without a
/// syslog daemon, then syslog is skipped).
pub const DEFAULT_SYSLOG_SOCKET: &str = "/dev/log";

/// A rule id in a policy file; unknown ids are parse errors (a typo must
/// not silently leave a rule at its default).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct RuleId(&'static str);

impl<'de> Deserialize<'de> for RuleId {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let s = String::deserialize(de)?;
        match rules::rule(&s) {
            Some(r) => Ok(RuleId(r.id)),
            None => Err(serde::de::Error::custom(format!(
                "unknown rule {s:?}; the rules are: {}",
                RULES.iter().map(|r| r.id).collect::<Vec<_>>().join(", ")
            ))),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct MountsSection {
    #[serde(default)]
    sensitive: Vec<String>,
    #[serde(default)]
    sockets: Vec<String>,
    #[serde(default)]
    allow: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowSection {
    #[serde(default)]
    allow: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    /// Audit log file; "" disables it.
    audit_log: Option<String>,
    /// Also send audit records to syslog (/dev/log).
    syslog: Option<bool>,
    /// The syslog socket (default /dev/log).
    syslog_socket: Option<String>,
    #[serde(default)]
    rules: BTreeMap<RuleId, Mode>,
    #[serde(default)]
    mounts: MountsSection,
    #[serde(default)]
    capabilities: AllowSection,
    #[serde(default)]
    sysctls: AllowSection,
    #[serde(default)]
    hooks: AllowSection,
    #[serde(default)]
    images: ImagesSection,
}

/// A loaded policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Where it came from ("built-in defaults" or the file).
    pub source: String,
    /// Mode per rule id (every rule present).
    pub modes: BTreeMap<&'static str, Mode>,
    /// Audit log file (None: disabled).
    pub audit_log: Option<PathBuf>,
    pub syslog: bool,
    /// The syslog datagram socket.
    pub syslog_socket: PathBuf,
    pub sensitive: Vec<String>,
    pub sockets: Vec<String>,
    pub allow_paths: Vec<String>,
    pub allow_caps: Vec<String>,
    pub allow_sysctls: Vec<String>,
    pub allow_hooks: Vec<String>,
    /// Where images may come from and whose signatures they need
    /// (`[images]`; ward-trust evaluates it).
    pub images: Images,
}

/// Why a policy file was not loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError {
    pub path: PathBuf,
    pub line: Option<usize>,
    pub problem: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "policy {}", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, ", line {l}")?;
        }
        write!(
            f,
            ": {}; no container starts until the policy is fixed (ward-oci refuses create, run, exec and update)",
            self.problem
        )
    }
}

impl std::error::Error for PolicyError {}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            source: "built-in defaults".into(),
            modes: RULES.iter().map(|r| (r.id, r.default_mode)).collect(),
            audit_log: Some(DEFAULT_AUDIT_LOG.into()),
            syslog: true,
            syslog_socket: DEFAULT_SYSLOG_SOCKET.into(),
            sensitive: Vec::new(),
            sockets: Vec::new(),
            allow_paths: Vec::new(),
            allow_caps: Vec::new(),
            allow_sysctls: Vec::new(),
            allow_hooks: Vec::new(),
            images: Images::default(),
        }
    }
}

impl Policy {
    /// Parses policy text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Policy, PolicyError> {
        let file: File = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            PolicyError {
                path: path.to_path_buf(),
                line,
                problem: e.message().trim().replace('\n', "; "),
            }
        })?;
        let mut p = Policy {
            source: path.display().to_string(),
            ..Policy::default()
        };
        for (id, mode) in file.rules {
            p.modes.insert(id.0, mode);
        }
        if let Some(log) = file.audit_log {
            p.audit_log = (!log.is_empty()).then(|| PathBuf::from(log));
        }
        if let Some(s) = file.syslog {
            p.syslog = s;
        }
        if let Some(sock) = file.syslog_socket {
            if !sock.starts_with('/') {
                return Err(PolicyError {
                    path: path.to_path_buf(),
                    line: text
                        .lines()
                        .position(|l| l.trim_start().starts_with("syslog_socket"))
                        .map(|n| n + 1),
                    problem: format!("syslog_socket: {sock:?} is not an absolute path"),
                });
            }
            p.syslog_socket = sock.into();
        }
        let bad_path = |list: &[String], what: &str| {
            list.iter()
                .find(|s| !s.starts_with('/'))
                .map(|s| PolicyError {
                    path: path.to_path_buf(),
                    line: text
                        .lines()
                        .position(|l| l.contains(s.as_str()))
                        .map(|n| n + 1),
                    problem: format!("{what}: {s:?} is not an absolute path"),
                })
        };
        for (list, what) in [
            (&file.mounts.sensitive, "mounts.sensitive"),
            (&file.mounts.sockets, "mounts.sockets"),
            (&file.mounts.allow, "mounts.allow"),
            (&file.hooks.allow, "hooks.allow"),
        ] {
            if let Some(e) = bad_path(list, what) {
                return Err(e);
            }
        }
        p.sensitive = file.mounts.sensitive;
        p.sockets = file.mounts.sockets;
        p.allow_paths = file.mounts.allow;
        p.allow_caps = file
            .capabilities
            .allow
            .iter()
            .map(|c| {
                let c = c.to_ascii_uppercase();
                if c.starts_with("CAP_") {
                    c
                } else {
                    format!("CAP_{c}")
                }
            })
            .collect();
        if let Some(c) = p
            .allow_caps
            .iter()
            .find(|c| !ward_spec::caps::NAMES.contains(&c.as_str()))
        {
            return Err(PolicyError {
                path: path.to_path_buf(),
                line: text
                    .lines()
                    .position(|l| l.contains(c.trim_start_matches("CAP_")))
                    .map(|n| n + 1),
                problem: format!("capabilities.allow: unknown capability {c:?}"),
            });
        }
        p.allow_sysctls = file.sysctls.allow;
        p.allow_hooks = file.hooks.allow;
        p.images = file
            .images
            .into_images()
            .map_err(|(problem, needle)| PolicyError {
                path: path.to_path_buf(),
                line: text
                    .lines()
                    .position(|l| l.contains(&needle))
                    .map(|n| n + 1),
                problem,
            })?;
        Ok(p)
    }

    /// Reads `path`.
    pub fn load(path: &Path) -> Result<Policy, PolicyError> {
        let text = std::fs::read_to_string(path).map_err(|e| PolicyError {
            path: path.to_path_buf(),
            line: None,
            problem: if e.kind() == std::io::ErrorKind::NotFound {
                // A new user's first `docker run --runtime ward` meets this.
                format!("cannot read it: {e} (create it: an empty file means the built-in defaults, docs/policy.md)")
            } else {
                format!("cannot read it: {e}")
            },
        })?;
        Policy::parse(&text, path)
    }

    pub fn mode(&self, id: &str) -> Mode {
        self.modes.get(id).copied().unwrap_or(Mode::Enforce)
    }

    /// Adds the policy's lists to a host context.
    pub fn context(&self, mut ctx: Context) -> Context {
        ctx.sensitive.extend(self.sensitive.iter().cloned());
        ctx.sockets.extend(self.sockets.iter().cloned());
        ctx.allow_paths.extend(self.allow_paths.iter().cloned());
        ctx.allow_caps.extend(self.allow_caps.iter().cloned());
        ctx.allow_sysctls.extend(self.allow_sysctls.iter().cloned());
        ctx.allow_hooks.extend(self.allow_hooks.iter().cloned());
        ctx
    }

    /// Decides on `spec` for an action of `scope`.
    pub fn decide(&self, spec: &Spec, ctx: &Context, scope: Scope) -> Decision {
        let ctx = self.context(ctx.clone());
        let mut d = Decision {
            policy: self.source.clone(),
            ..Decision::default()
        };
        for h in check(spec, &ctx, Some(scope)) {
            match self.mode(h.rule) {
                Mode::Enforce => d.refused.push(h),
                Mode::Warn => d.warned.push(h),
                Mode::Off => {}
            }
        }
        d
    }
}

/// The outcome of a policy check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    pub policy: String,
    pub refused: Vec<Hit>,
    pub warned: Vec<Hit>,
}

impl Decision {
    pub fn allowed(&self) -> bool {
        self.refused.is_empty()
    }

    /// "allowed", "warned" or "refused".
    pub fn outcome(&self) -> &'static str {
        if !self.refused.is_empty() {
            "refused"
        } else if !self.warned.is_empty() {
            "warned"
        } else {
            "allowed"
        }
    }

    /// The rule ids that tripped (refused first), deduplicated.
    pub fn rule_ids(&self) -> Vec<&'static str> {
        let mut ids: Vec<&'static str> = Vec::new();
        for h in self.refused.iter().chain(&self.warned) {
            if !ids.contains(&h.rule) {
                ids.push(h.rule);
            }
        }
        ids
    }

    /// The refusal: every enforced rule, what tripped it, the fix, and how
    /// to allow it.
    pub fn refusal(&self) -> String {
        let mut m = format!(
            "refused by ward policy ({}): {} enforced rule{} tripped",
            self.policy,
            self.refused.len(),
            if self.refused.len() == 1 { "" } else { "s" }
        );
        for h in &self.refused {
            let r = rules::rule(h.rule);
            m.push_str(&format!(
                "\n  rule {}: {}: {}.\n    fix: {}.\n    to allow it: set \"{}\" = \"warn\" (or \"off\") under [rules] in the policy file (--policy FILE, default {DEFAULT_PATH})",
                h.rule,
                r.map_or("", |r| r.title),
                h.detail,
                r.map_or("", |r| r.fix),
                h.rule
            ));
        }
        m
    }

    /// One warning line per warned rule.
    pub fn warnings(&self) -> Vec<String> {
        self.warned
            .iter()
            .map(|h| {
                format!(
                    "ward policy: rule {} (warn): {}: {}; to silence it set \"{}\" = \"off\" under [rules] in the policy file",
                    h.rule,
                    rules::rule(h.rule).map_or("", |r| r.title),
                    h.detail,
                    h.rule
                )
            })
            .collect()
    }
}

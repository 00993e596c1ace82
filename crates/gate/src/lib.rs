//! ward-gate: the policy gate and the audit trail of ward-oci.
//!
//! The runtime asks its [`Admission`] at the start of create, run, exec
//! and update, after the config is parsed and before anything is created;
//! [`Gate`] answers: it asks the policy engine (`ward-policy`, pure) for a
//! decision and appends one JSON line to the audit log (and syslog).
//! [`Gate::record`] logs the other lifecycle actions; [`Gate::finish`]
//! records how each action ended.
//! A policy file that failed to parse refuses every admission (fail closed).

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

mod context;
mod trail;

use std::path::{Path, PathBuf};

use serde_json::json;
use ward_init::rootfs::source::Resolved;
use ward_policy::{Decision, Policy, PolicyError, Scope};
use ward_runtime::admission::{Admission, Making, Subject};
use ward_runtime::{log, Error, Result};

pub use context::{config_context, host_context, request_context};
pub use trail::redact_env;

/// Loads the policy as ward-oci's global flags say: `--policy FILE`, else
/// /etc/ward/policy.toml when it exists, else the built-in defaults.
pub fn load(policy: Option<&Path>) -> std::result::Result<Policy, PolicyError> {
    match policy {
        Some(p) => Policy::load(p),
        None if Path::new(ward_policy::DEFAULT_PATH).exists() => {
            Policy::load(Path::new(ward_policy::DEFAULT_PATH))
        }
        None => Ok(Policy::default()),
    }
}

/// The policy gate of one ward-oci process: its policy and its audit trail.
pub struct Gate {
    /// The policy, or why it could not be loaded.
    policy: std::result::Result<Policy, PolicyError>,
    trail: trail::Trail,
}

impl Gate {
    /// `policy`: as [`load`] returned it; `audit_log`: `--audit-log FILE`
    /// (overrides the policy file's `audit_log`).
    pub fn new(
        policy: std::result::Result<Policy, PolicyError>,
        audit_log: Option<PathBuf>,
    ) -> Gate {
        let trail = trail::Trail::new(&policy, audit_log);
        Gate { policy, trail }
    }

    /// Records an action that the policy does not judge (start, kill,
    /// delete, pause, resume) as allowed; [`Gate::finish`] records how it
    /// ended.
    pub fn record(&self, action: &str, id: &str) {
        self.trail.record(action, id);
    }

    /// Records how an audited action ended, once ward-oci is done with it
    /// (`outcome`: ward-oci's exit code, or the error it reports):
    /// - the policy let it go on (allowed, warned): an outcome record with
    ///   `result` "ok" (and `exit_code`, the container's for a foreground run
    ///   or exec) or "error" (and `error`), e.g. a start whose process is not
    ///   found, a kill of a stopped container;
    /// - it failed before the policy could judge it (a config that does not
    ///   parse): a decision record "error" (the action's only record);
    /// - refused: nothing more (the refusal record is the action's last).
    pub fn finish(
        &self,
        action: &str,
        id: &str,
        bundle: Option<&Path>,
        outcome: std::result::Result<i32, &str>,
    ) {
        self.trail.finish(action, id, bundle, outcome);
    }

    /// The policy gate: refuses (with the rules, the fix and how to allow
    /// it) or allows, and records the decision. `action`: create, run,
    /// exec, update.
    fn admit(
        &self,
        action: &str,
        subject: &Subject,
        scope: Scope,
        resolved: Option<&Resolved>,
    ) -> Result<()> {
        let Subject {
            root,
            id,
            bundle,
            spec,
        } = *subject;
        let policy = match &self.policy {
            Ok(p) => p,
            Err(e) => {
                let m = e.to_string();
                self.trail.write_record(
                    action,
                    id,
                    Some(bundle),
                    Some(spec),
                    "refused",
                    &["policy.invalid"],
                    json!([{"rule": "policy.invalid", "detail": m}]),
                );
                return Err(Error::Msg(m));
            }
        };
        let d = policy.decide(spec, &host_context(root, spec, resolved), scope);
        self.trail.write_record(
            action,
            id,
            Some(bundle),
            Some(spec),
            d.outcome(),
            &d.rule_ids(),
            hits(&d),
        );
        if !d.allowed() {
            return Err(Error::Msg(format!("{action} {id:?}: {}", d.refusal())));
        }
        if !d.warned.is_empty() {
            warn_allowed(action, id, &d);
        }
        Ok(())
    }
}

impl Admission for Gate {
    fn container(&self, action: Making, subject: &Subject, resolved: &Resolved) -> Result<()> {
        self.admit(action.as_str(), subject, Scope::Container, Some(resolved))
    }

    fn process(&self, subject: &Subject) -> Result<()> {
        self.admit("exec", subject, Scope::Process, None)
    }

    fn resources(&self, subject: &Subject) -> Result<()> {
        self.admit("update", subject, Scope::Resources, None)
    }
}

/// Tells the caller that `action` goes on despite the rules it warned on.
fn warn_allowed(action: &str, id: &str, d: &Decision) {
    log::warn(&format!(
        "ward policy ({}): {action} {id:?} allowed with warnings: {} (details in the audit log; `ward audit config.json` explains each)",
        d.policy,
        d.warned
            .iter()
            .map(|h| h.rule)
            .collect::<Vec<_>>()
            .join(", ")
    ));
}

fn hits(d: &Decision) -> serde_json::Value {
    let one = |h: &ward_policy::Hit, mode: &str| json!({"rule": h.rule, "mode": mode, "detail": h.detail});
    let mut v: Vec<serde_json::Value> = d.refused.iter().map(|h| one(h, "enforce")).collect();
    v.extend(d.warned.iter().map(|h| one(h, "warn")));
    serde_json::Value::Array(v)
}

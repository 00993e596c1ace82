//! The policy gate and the audit trail of ward-oci.
//!
//! `admit` runs at the start of create, run, exec and update, after the
//! config is parsed and before anything is created: it asks the policy
//! engine (`ward-policy`, pure) for a decision and appends one JSON line to
//! the audit log (and syslog). `record` logs the other lifecycle actions.
//! A policy file that failed to parse refuses every admission (fail closed).

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use serde_json::json;
use ward_policy::{Context, Decision, Policy, PolicyError, Scope};
use ward_spec::Spec;

use crate::lifecycle::Global;
use crate::{msg, Result};

/// What `ward-oci` was told about policy and audit.
pub struct Settings {
    /// The policy, or why it could not be loaded.
    pub policy: std::result::Result<Policy, PolicyError>,
    /// `--audit-log FILE` (overrides the policy file's `audit_log`).
    pub audit_log: Option<PathBuf>,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();
/// Whether this process already wrote its audit record.
static RECORDED: AtomicBool = AtomicBool::new(false);

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

/// Sets the policy and audit settings (once, at start).
pub fn init(s: Settings) {
    let _ = SETTINGS.set(s);
}

fn settings() -> &'static Settings {
    SETTINGS.get_or_init(|| Settings {
        policy: Ok(Policy::default()),
        audit_log: None,
    })
}

fn audit_target() -> (Option<PathBuf>, bool) {
    let s = settings();
    let (file, syslog) = match &s.policy {
        Ok(p) => (p.audit_log.clone(), p.syslog),
        Err(_) => (Some(ward_policy::DEFAULT_AUDIT_LOG.into()), true),
    };
    (s.audit_log.clone().or(file), syslog)
}

/// What the host contributes to a decision: the active LSM, namespace paths
/// that are the host's own, bind sources with symlinks resolved, and the
/// state root (a bind of it would expose every container's state).
/// `root`: the state root in use. Used by `ward audit` too.
pub fn host_context(root: &Path, bundle: &Path, spec: &Spec) -> Context {
    let mut ctx = Context {
        lsm: if ward_sandbox::lsm::apparmor_enabled() {
            Some("apparmor".into())
        } else if ward_sandbox::lsm::selinux_enabled() {
            Some("selinux".into())
        } else {
            None
        },
        ..Context::default()
    };
    use std::os::unix::fs::MetadataExt;
    let id = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    for ns in spec.linux.iter().flat_map(|l| &l.namespaces) {
        if let Some(path) = ns.path.as_deref() {
            let host = id(&Path::new("/proc/1/ns").join(ns.kind.proc_name()));
            if host.is_some() && id(Path::new(path)) == host {
                ctx.host_ns_paths.insert(path.to_string());
            }
        }
    }
    for m in &spec.mounts {
        if let Some(src) = m.source.as_deref() {
            let is_bind = m.kind.as_deref() == Some("bind")
                || m.options.iter().any(|o| o == "bind" || o == "rbind");
            if is_bind {
                if let Ok(r) = std::fs::canonicalize(bundle.join(src)) {
                    ctx.resolved
                        .insert(src.to_string(), r.to_string_lossy().into_owned());
                }
            }
        }
    }
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    if root.is_absolute() && root != Path::new("/") {
        ctx.sensitive.push(root.to_string_lossy().into_owned());
    }
    ctx
}

/// The policy gate: refuses (with the rules, the fix and how to allow it)
/// or allows, and records the decision. `action`: create, run, exec, update.
pub fn admit(
    g: &Global,
    action: &str,
    id: &str,
    bundle: &Path,
    spec: &Spec,
    scope: Scope,
) -> Result<()> {
    let policy = match &settings().policy {
        Ok(p) => p,
        Err(e) => {
            let m = e.to_string();
            write_record(
                action,
                id,
                Some(bundle),
                Some(spec),
                "refused",
                &["policy.invalid"],
                json!([{"rule": "policy.invalid", "detail": m}]),
            );
            return Err(msg(m));
        }
    };
    let d = policy.decide(spec, &host_context(&g.root, bundle, spec), scope);
    write_record(
        action,
        id,
        Some(bundle),
        Some(spec),
        d.outcome(),
        &d.rule_ids(),
        hits(&d),
    );
    if !d.allowed() {
        return Err(msg(format!("{action} {id:?}: {}", d.refusal())));
    }
    if !d.warned.is_empty() {
        crate::log::warn(&format!(
            "ward policy ({}): {action} {id:?} allowed with warnings: {} (details in the audit log; `ward audit config.json` explains each)",
            d.policy,
            d.warned
                .iter()
                .map(|h| h.rule)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

fn hits(d: &Decision) -> serde_json::Value {
    let one = |h: &ward_policy::Hit, mode: &str| json!({"rule": h.rule, "mode": mode, "detail": h.detail});
    let mut v: Vec<serde_json::Value> = d.refused.iter().map(|h| one(h, "enforce")).collect();
    v.extend(d.warned.iter().map(|h| one(h, "warn")));
    serde_json::Value::Array(v)
}

/// Records an action that the policy does not judge (start, kill, delete,
/// pause, resume) as allowed.
pub fn record(action: &str, id: &str) {
    write_record(action, id, None, None, "allowed", &[], json!([]));
}

/// Records an action that failed before `admit` could decide (a config
/// that does not parse, an unknown container): decision "error".
pub fn record_failure(action: &str, id: &str, bundle: Option<&Path>, error: &str) {
    if RECORDED.load(Ordering::Relaxed) {
        return;
    }
    write_record(
        action,
        id,
        bundle,
        None,
        "error",
        &[],
        json!([{"error": error}]),
    );
}

/// The caller: our uid and pid, our parent and its command line (the
/// engine that called us: containerd-shim, conmon, a shell).
fn caller() -> serde_json::Value {
    let ppid = nix::unistd::getppid().as_raw();
    let cmdline = std::fs::read(format!("/proc/{ppid}/cmdline"))
        .map(|b| {
            b.split(|c| *c == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    json!({
        "uid": nix::unistd::getuid().as_raw(),
        "euid": nix::unistd::geteuid().as_raw(),
        "pid": std::process::id(),
        "ppid": ppid,
        "parent_cmdline": cmdline,
    })
}

/// `KEY=<redacted>` for every environment entry: keys are kept (what was
/// set is audit-worthy), values never (they hold secrets).
pub fn redact_env(env: &[String]) -> Vec<String> {
    env.iter()
        .map(|e| match e.split_once('=') {
            Some((k, _)) => format!("{k}=<redacted>"),
            None => e.clone(),
        })
        .collect()
}

fn write_record(
    action: &str,
    id: &str,
    bundle: Option<&Path>,
    spec: Option<&Spec>,
    decision: &str,
    rules: &[&str],
    findings: serde_json::Value,
) {
    RECORDED.store(true, Ordering::Relaxed);
    let (file, syslog) = audit_target();
    if file.is_none() && !syslog {
        return;
    }
    let mut rec: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    rec.insert(
        "time",
        json!(crate::time::rfc3339(std::time::SystemTime::now())),
    );
    rec.insert("action", json!(action));
    rec.insert("id", json!(id));
    rec.insert("bundle", json!(bundle.map(|b| b.display().to_string())));
    rec.insert("caller", caller());
    rec.insert("decision", json!(decision));
    rec.insert("rules", json!(rules));
    rec.insert("findings", findings);
    rec.insert(
        "policy",
        json!(match &settings().policy {
            Ok(p) => p.source.clone(),
            Err(e) => e.path.display().to_string(),
        }),
    );
    if let Some(p) = spec.and_then(|s| s.process.as_ref()) {
        rec.insert(
            "process",
            json!({"args": p.args, "env": redact_env(&p.env), "uid": p.user.uid, "gid": p.user.gid}),
        );
    }
    let line = serde_json::to_string(&rec).unwrap_or_default();
    if let Some(path) = file {
        if let Err(e) = append(&path, &line) {
            crate::log::warn(&format!(
                "audit log {}: {e} (set audit_log in the policy or --audit-log FILE)",
                path.display()
            ));
        }
    }
    if syslog {
        send_syslog(decision, &line);
    }
}

/// One record is one write(2) on an O_APPEND descriptor: the kernel
/// appends it whole, so concurrent ward-oci processes do not interleave.
fn append(path: &Path, line: &str) -> std::io::Result<()> {
    let open = || {
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
            .open(path)
    };
    let mut f = match open() {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(dir)?;
            }
            open()?
        }
        Err(e) => return Err(e),
    };
    let mut buf = Vec::with_capacity(line.len() + 1);
    buf.extend_from_slice(line.as_bytes());
    buf.push(b'\n');
    f.write_all(&buf)
}

/// Sends the record to syslog (/dev/log, facility authpriv) when present.
fn send_syslog(decision: &str, line: &str) {
    const DEV_LOG: &str = "/dev/log";
    if !Path::new(DEV_LOG).exists() {
        return;
    }
    // authpriv (10) * 8 + warning (4) or notice (5).
    let pri = if decision == "allowed" { 85 } else { 84 };
    let msg = format!("<{pri}>ward-oci[{}]: {line}", std::process::id());
    if let Ok(s) = std::os::unix::net::UnixDatagram::unbound() {
        let _ = s.send_to(msg.as_bytes(), DEV_LOG);
    }
}

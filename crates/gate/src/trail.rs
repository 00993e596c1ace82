//! The audit trail: one JSON line per decision and per outcome, appended
//! to the audit log file and sent to syslog.
//!
//! Each lifecycle action gets a decision record (allowed, warned, refused,
//! or error when it failed before the policy could judge it) and, when it
//! went on, an outcome record once ward-oci is done with it.

use std::cell::{Cell, OnceCell};
use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde_json::json;
use ward_policy::{Policy, PolicyError};
use ward_runtime::log;
use ward_spec::Spec;

/// Where records go, and what this process has recorded so far.
/// ward-oci is single-threaded; a child it forks gets its own copy.
pub(crate) struct Trail {
    /// The audit log file (None: disabled).
    file: Option<PathBuf>,
    /// The syslog socket (None: disabled).
    syslog: Option<PathBuf>,
    /// The policy's file (or the built-in defaults' name), in every record.
    policy: String,
    /// Whether this process already wrote its decision record.
    recorded: Cell<bool>,
    /// The pid that wrote an allowed/warned decision and owes the outcome
    /// record (0: none).
    pending: Cell<u32>,
    /// The bundle of the decision record (resolved), repeated in the outcome.
    decided_bundle: OnceCell<PathBuf>,
}

impl Trail {
    /// The trail of `policy`; `audit_log` (`--audit-log FILE`) overrides
    /// the policy's file. A policy that failed to load still logs its
    /// refusals to the defaults.
    pub(crate) fn new(policy: &Result<Policy, PolicyError>, audit_log: Option<PathBuf>) -> Trail {
        let (file, syslog) = match policy {
            Ok(p) => (
                p.audit_log.clone(),
                p.syslog.then(|| p.syslog_socket.clone()),
            ),
            Err(_) => (
                Some(ward_policy::DEFAULT_AUDIT_LOG.into()),
                Some(ward_policy::DEFAULT_SYSLOG_SOCKET.into()),
            ),
        };
        Trail {
            file: audit_log.or(file),
            syslog,
            policy: match policy {
                Ok(p) => p.source.clone(),
                Err(e) => e.path.display().to_string(),
            },
            recorded: Cell::new(false),
            pending: Cell::new(0),
            decided_bundle: OnceCell::new(),
        }
    }

    /// An action the policy does not judge, as allowed.
    pub(crate) fn record(&self, action: &str, id: &str) {
        self.write_record(action, id, None, None, "allowed", &[], json!([]));
    }

    /// How an audited action ended: see [`crate::Gate::finish`].
    pub(crate) fn finish(
        &self,
        action: &str,
        id: &str,
        bundle: Option<&Path>,
        outcome: std::result::Result<i32, &str>,
    ) {
        if !self.recorded.get() {
            if let Err(error) = outcome {
                self.write_full(
                    action,
                    id,
                    bundle,
                    None,
                    Some(("error", &[], json!([{"error": error}]))),
                    Some(("error", Some(error), None)),
                );
            }
            return;
        }
        // Only the process that wrote the decision owes its outcome (a child
        // forked by create/run never reports for its parent).
        if self.pending.replace(0) != std::process::id() {
            return;
        }
        let result = match outcome {
            Ok(code) => ("ok", None, Some(code)),
            Err(e) => ("error", Some(e), None),
        };
        let bundle = self.decided_bundle.get().map(PathBuf::as_path).or(bundle);
        self.write_full(action, id, bundle, None, None, Some(result));
    }

    /// A decision record.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn write_record(
        &self,
        action: &str,
        id: &str,
        bundle: Option<&Path>,
        spec: Option<&Spec>,
        decision: &str,
        rules: &[&str],
        findings: serde_json::Value,
    ) {
        // A refusal is the action's last record: it carries the result too.
        let result = (decision == "refused").then_some(("refused", None, None));
        self.write_full(
            action,
            id,
            bundle,
            spec,
            Some((decision, rules, findings)),
            result,
        );
    }

    /// One audit record. `decision`: (decision, rules, findings) of a decision
    /// record; `result`: ("ok" | "error" | "refused", error, exit code) of the
    /// record that ends the action. A decision that lets the action go on
    /// (allowed, warned) leaves this process owing an outcome record.
    fn write_full(
        &self,
        action: &str,
        id: &str,
        bundle: Option<&Path>,
        spec: Option<&Spec>,
        decision: Option<(&str, &[&str], serde_json::Value)>,
        result: Option<(&str, Option<&str>, Option<i32>)>,
    ) {
        let mut level = Level::Notice;
        if let Some((d, _, _)) = &decision {
            self.recorded.set(true);
            if matches!(*d, "allowed" | "warned") && result.is_none() {
                self.pending.set(std::process::id());
                if let Some(b) = bundle {
                    let _ = self.decided_bundle.set(b.to_path_buf());
                }
            }
            if *d != "allowed" {
                level = Level::Warning;
            }
        }
        if result.is_some_and(|(r, _, _)| r != "ok") {
            level = Level::Warning;
        }
        if self.file.is_none() && self.syslog.is_none() {
            return;
        }
        let line = record_line(action, id, bundle, spec, decision, result, &self.policy);
        if let Some(path) = &self.file {
            if let Err(e) = append(path, &line) {
                log::warn(&format!(
                    "audit log {}: {e} (set audit_log in the policy or --audit-log FILE)",
                    path.display()
                ));
            }
        }
        if let Some(sock) = &self.syslog {
            send_syslog(sock, level, &line);
        }
    }
}

/// The JSON line of one record (see [`Trail::write_full`]); `policy`: the
/// policy's file.
fn record_line(
    action: &str,
    id: &str,
    bundle: Option<&Path>,
    spec: Option<&Spec>,
    decision: Option<(&str, &[&str], serde_json::Value)>,
    result: Option<(&str, Option<&str>, Option<i32>)>,
    policy: &str,
) -> String {
    let mut rec: BTreeMap<&str, serde_json::Value> = BTreeMap::new();
    rec.insert(
        "time",
        json!(ward_runtime::time::rfc3339(std::time::SystemTime::now())),
    );
    rec.insert("action", json!(action));
    rec.insert("id", json!(id));
    rec.insert("bundle", json!(bundle.map(|b| b.display().to_string())));
    rec.insert("caller", caller());
    if let Some((d, rules, findings)) = decision {
        rec.insert("decision", json!(d));
        rec.insert("rules", json!(rules));
        rec.insert("findings", findings);
    }
    if let Some((r, error, code)) = result {
        rec.insert("result", json!(r));
        if let Some(e) = error {
            rec.insert("error", json!(e));
        }
        if let Some(c) = code {
            rec.insert("exit_code", json!(c));
        }
    }
    rec.insert("policy", json!(policy));
    // Hooks run on the host: what they run is part of the record.
    let hooks: Vec<serde_json::Value> = spec
        .map(ward_policy::rules::hooks)
        .unwrap_or_default()
        .into_iter()
        .map(|(stage, h)| json!({"stage": stage, "path": h.path, "args": h.args, "env": redact_env(&h.env)}))
        .collect();
    if !hooks.is_empty() {
        rec.insert("hooks", json!(hooks));
    }
    if let Some(p) = spec.and_then(|s| s.process.as_ref()) {
        rec.insert(
            "process",
            json!({"args": p.args, "env": redact_env(&p.env), "uid": p.user.uid, "gid": p.user.gid}),
        );
    }
    serde_json::to_string(&rec).unwrap_or_default()
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

/// Syslog severities used by the audit trail.
#[derive(Clone, Copy)]
enum Level {
    /// Something was refused or failed.
    Warning = 4,
    /// Allowed and done.
    Notice = 5,
}

/// Facility authpriv (10): security/authorization messages, which syslog
/// daemons keep in a file readable by root only (/var/log/auth.log).
const AUTHPRIV: u8 = 10;

/// The RFC 3164 record as glibc's syslog(3) sends it to /dev/log:
/// `<PRI>Mmm dd hh:mm:ss ward-oci[PID]: MSG` (time in UTC: ward-oci reads no
/// time zone; syslog daemons stamp the time of receipt anyway).
fn syslog_line(level: Level, now: std::time::SystemTime, pid: u32, msg: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    // 2026-11-23T14:30:05.123456789Z
    let t = ward_runtime::time::rfc3339(now);
    let month = t
        .get(5..7)
        .and_then(|m| m.parse::<usize>().ok())
        .and_then(|m| MONTHS.get(m.wrapping_sub(1)))
        .copied()
        .unwrap_or("Jan");
    let day: u32 = t.get(8..10).and_then(|d| d.parse().ok()).unwrap_or(1);
    let hms = t.get(11..19).unwrap_or("00:00:00");
    let pri = AUTHPRIV * 8 + level as u8;
    format!("<{pri}>{month} {day:>2} {hms} ward-oci[{pid}]: {msg}")
}

/// Sends the record to syslog when the socket exists; a host without a
/// syslog daemon (no /dev/log) is normal, and the file log is the record
/// of truth: nothing is reported then. Non-blocking: a stalled syslog
/// daemon must not stall container creation (the record is dropped).
fn send_syslog(sock: &Path, level: Level, line: &str) {
    if !sock.exists() {
        return;
    }
    let msg = syslog_line(
        level,
        std::time::SystemTime::now(),
        std::process::id(),
        line,
    );
    if let Ok(s) = std::os::unix::net::UnixDatagram::unbound() {
        let _ = s.set_nonblocking(true);
        if let Err(e) = s.send_to(msg.as_bytes(), sock) {
            log::warn(&format!(
                "audit record not sent to syslog ({}): {e}",
                sock.display()
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn syslog_line_is_rfc3164() {
        // 2026-11-18T11:06:40Z
        let t = UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(
            syslog_line(Level::Notice, t, 42, "{}"),
            "<85>Nov 18 11:06:40 ward-oci[42]: {}"
        );
        let t = UNIX_EPOCH + Duration::from_secs(1_767_225_600); // 2026-01-01
        assert_eq!(
            syslog_line(Level::Warning, t, 7, "x"),
            "<84>Jan  1 00:00:00 ward-oci[7]: x"
        );
    }
}

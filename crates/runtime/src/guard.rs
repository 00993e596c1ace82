//! The policy gate and the audit trail of ward-oci.
//!
//! `admit` runs at the start of create, run, exec and update, after the
//! config is parsed and before anything is created: it asks the policy
//! engine (`ward-policy`, pure) for a decision and appends one JSON line to
//! the audit log (and syslog). `record` logs the other lifecycle actions;
//! `finish` records how each action ended.
//! A policy file that failed to parse refuses every admission (fail closed).

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::OnceLock;

use serde_json::json;
use ward_init::rootfs::source::{self, Identity, Resolved};
use ward_policy::{Context, Decision, ObjectKind, Policy, PolicyError, Scope, Source};
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
/// Whether this process already wrote its decision record.
static RECORDED: AtomicBool = AtomicBool::new(false);
/// The pid that wrote an allowed/warned decision and owes the outcome
/// record (0: none).
static PENDING: AtomicU32 = AtomicU32::new(0);
/// The bundle of the decision record (resolved), repeated in the outcome.
static DECIDED_BUNDLE: OnceLock<PathBuf> = OnceLock::new();

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

/// The audit log file and the syslog socket (None: disabled). A policy
/// that failed to load still logs its refusals to the defaults.
fn audit_target() -> (Option<PathBuf>, Option<PathBuf>) {
    let s = settings();
    let (file, syslog) = match &s.policy {
        Ok(p) => (
            p.audit_log.clone(),
            p.syslog.then(|| p.syslog_socket.clone()),
        ),
        Err(_) => (
            Some(ward_policy::DEFAULT_AUDIT_LOG.into()),
            Some(ward_policy::DEFAULT_SYSLOG_SOCKET.into()),
        ),
    };
    (s.audit_log.clone().or(file), syslog)
}

/// What the host contributes to a decision: the active LSM, namespace paths
/// that are the host's own, the rootfs and bind sources as they were opened
/// (`resolved`), engines' sockets found listening, and the state root (a
/// bind of it would expose every container's state). `root`: the state root
/// in use. Used by `ward audit` too.
pub fn host_context(root: &Path, spec: &Spec, resolved: Option<&Resolved>) -> Context {
    let mut ctx = Context {
        lsm: if ward_init::lsm::apparmor_enabled() {
            Some("apparmor".into())
        } else if ward_init::lsm::selinux_enabled() {
            Some("selinux".into())
        } else {
            None
        },
        ..Context::default()
    };
    for ns in spec.linux.iter().flat_map(|l| &l.namespaces) {
        if let Some(path) = ns.path.as_deref() {
            if joins_host_namespace(path, ns.kind.proc_name()) {
                ctx.host_ns_paths.insert(path.to_string());
            }
        }
    }
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    if root.is_absolute() && root != Path::new("/") {
        ctx.sensitive.push(root.to_string_lossy().into_owned());
    }
    // The container-wide facts: only create, run and `ward audit` (which
    // pass what they opened) are judged on mounts and hooks; exec and
    // update skip this I/O.
    if let Some(resolved) = resolved {
        ctx.sockets.extend(listening_engine_sockets());
        for (_, hook) in ward_policy::rules::hooks(spec) {
            if let Ok(p) = std::fs::canonicalize(&hook.path) {
                ctx.hook_programs
                    .insert(hook.path.clone(), p.to_string_lossy().into_owned());
            }
        }
        judge_sources(&mut ctx, resolved);
    }
    ctx
}

/// The host context of a bundle's config (`ward audit`), with its rootfs
/// and bind sources opened as `create` opens them.
pub fn config_context(root: &Path, bundle: &Path, spec: &Spec) -> Context {
    let bundle = std::fs::canonicalize(bundle).unwrap_or_else(|_| bundle.to_path_buf());
    let root_path = spec.root.as_ref().map(|r| r.path.as_str()).unwrap_or("");
    let rootfs = source::host_path(&bundle, root_path);
    host_context(root, spec, Some(&source::resolve(&bundle, &rootfs, spec)))
}

/// Fills in how the rootfs and each bind source were opened.
fn judge_sources(ctx: &mut Context, resolved: &Resolved) {
    let mut watched: Vec<String> = ward_policy::mounts::sensitive_paths()
        .chain(ward_policy::rules::RUNTIME_SOCKETS)
        .map(String::from)
        .collect();
    watched.extend(ctx.sensitive.iter().cloned());
    watched.extend(ctx.sockets.iter().cloned());
    let watched = Watched::new(&watched);
    let rootfs_id = resolved.rootfs.as_ref().ok().map(|o| o.id);
    let judge = |r: &std::io::Result<source::Opened>, is_rootfs: bool| match r {
        Ok(o) => Source::Host {
            names: watched.names(o),
            kind: object_kind(o.mode, o.rdev),
            inside_rootfs: !is_rootfs && rootfs_id.is_some_and(|id| o.lies_in(id)),
        },
        Err(e) => Source::Unresolved(e.to_string()),
    };
    for (i, r) in &resolved.binds {
        ctx.sources.insert(*i, judge(r, false));
    }
    ctx.rootfs = Some(judge(&resolved.rootfs, true));
}

/// Whether a namespace path is the host's namespace: the same as host pid
/// 1's or as this runtime's own (the engine's, i.e. the host's for every
/// engine but one nested in a container). Fails closed: a path whose
/// namespace cannot be read, or a host without a readable reference, counts
/// as the host's (issue 14, finding 7: where /proc/1 is hidden, `/proc/$$/ns/pid`
/// plus CAP_SYS_PTRACE was admitted).
fn joins_host_namespace(path: &str, kind: &str) -> bool {
    use std::os::unix::fs::MetadataExt;
    let id = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let Some(joined) = id(Path::new(path)) else {
        return true;
    };
    let refs: Vec<_> = [
        Path::new("/proc/1/ns").join(kind),
        Path::new("/proc/self/ns").join(kind),
    ]
    .iter()
    .filter_map(|p| id(p))
    .collect();
    refs.is_empty() || refs.contains(&joined)
}

/// Unix sockets listening on this host (its network namespace's
/// /proc/net/unix) whose file name is an engine's (`docker.sock`, ...):
/// wherever a daemon put its socket (`dockerd -H unix:///srv/d/docker.sock`),
/// a bind of it or of a directory above it exposes that engine.
fn listening_engine_sockets() -> Vec<String> {
    let Ok(table) = std::fs::read_to_string("/proc/net/unix") else {
        return Vec::new();
    };
    table
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(7))
        .filter(|p| p.starts_with('/'))
        .filter(|p| {
            ward_policy::rules::RUNTIME_SOCKET_NAMES.contains(&p.rsplit('/').next().unwrap_or(""))
        })
        .map(ward_policy::mounts::normalize)
        .collect()
}

fn object_kind(mode: u32, rdev: u64) -> ObjectKind {
    let (major, minor) = (libc::major(rdev), libc::minor(rdev));
    match mode & libc::S_IFMT {
        libc::S_IFDIR => ObjectKind::Dir,
        libc::S_IFREG => ObjectKind::File,
        libc::S_IFSOCK => ObjectKind::Socket,
        libc::S_IFCHR => ObjectKind::CharDevice { major, minor },
        libc::S_IFBLK => ObjectKind::BlockDevice { major, minor },
        _ => ObjectKind::Other,
    }
}

/// Host paths the policy watches, with the identity of each and of each
/// of its parents: a source that is one of them, or lies in one, by
/// identity gets that path as another name (a host bind mount of /etc at
/// /srv/etc makes /srv/etc/cron.d also /etc/cron.d).
struct Watched {
    /// (identity, path of a watched path or of one of its parents).
    ids: Vec<(Identity, String)>,
}

impl Watched {
    fn new(paths: &[String]) -> Watched {
        let mut ids = Vec::new();
        for p in paths {
            for p in source::path_and_parents(&ward_policy::mounts::normalize(p)) {
                if !ids.iter().any(|(_, q): &(Identity, String)| *q == p) {
                    if let Some(id) = source::identity_of(&p) {
                        ids.push((id, p));
                    }
                }
            }
        }
        Watched { ids }
    }

    /// The kernel's name of `o` first, then its other names by identity.
    fn names(&self, o: &source::Opened) -> Vec<String> {
        let mut names = vec![o.path.clone()];
        for (id, here) in &o.chain {
            for (wid, watched) in &self.ids {
                if wid == id && watched != here {
                    let rest = &o.path[here.len().min(o.path.len())..];
                    let alias = if watched == "/" {
                        ward_policy::mounts::normalize(rest)
                    } else {
                        ward_policy::mounts::normalize(&format!("{watched}/{rest}"))
                    };
                    if !names.contains(&alias) {
                        names.push(alias);
                    }
                }
            }
        }
        names
    }
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
    resolved: Option<&Resolved>,
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
    let d = policy.decide(spec, &host_context(&g.root, spec, resolved), scope);
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
/// pause, resume) as allowed; [`finish`] records how it ended.
pub fn record(action: &str, id: &str) {
    write_record(action, id, None, None, "allowed", &[], json!([]));
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
    action: &str,
    id: &str,
    bundle: Option<&Path>,
    outcome: std::result::Result<i32, &str>,
) {
    if !RECORDED.load(Ordering::Relaxed) {
        if let Err(error) = outcome {
            write_full(
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
    if PENDING.swap(0, Ordering::Relaxed) != std::process::id() {
        return;
    }
    let result = match outcome {
        Ok(code) => ("ok", None, Some(code)),
        Err(e) => ("error", Some(e), None),
    };
    let bundle = DECIDED_BUNDLE.get().map(PathBuf::as_path).or(bundle);
    write_full(action, id, bundle, None, None, Some(result));
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
    // A refusal is the action's last record: it carries the result too.
    let result = (decision == "refused").then_some(("refused", None, None));
    write_full(
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
    action: &str,
    id: &str,
    bundle: Option<&Path>,
    spec: Option<&Spec>,
    decision: Option<(&str, &[&str], serde_json::Value)>,
    result: Option<(&str, Option<&str>, Option<i32>)>,
) {
    let mut level = Level::Notice;
    if let Some((d, _, _)) = &decision {
        RECORDED.store(true, Ordering::Relaxed);
        if matches!(*d, "allowed" | "warned") && result.is_none() {
            PENDING.store(std::process::id(), Ordering::Relaxed);
            if let Some(b) = bundle {
                let _ = DECIDED_BUNDLE.set(b.to_path_buf());
            }
        }
        if *d != "allowed" {
            level = Level::Warning;
        }
    }
    if result.is_some_and(|(r, _, _)| r != "ok") {
        level = Level::Warning;
    }
    let (file, syslog) = audit_target();
    if file.is_none() && syslog.is_none() {
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
    rec.insert(
        "policy",
        json!(match &settings().policy {
            Ok(p) => p.source.clone(),
            Err(e) => e.path.display().to_string(),
        }),
    );
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
    let line = serde_json::to_string(&rec).unwrap_or_default();
    if let Some(path) = file {
        if let Err(e) = append(&path, &line) {
            crate::log::warn(&format!(
                "audit log {}: {e} (set audit_log in the policy or --audit-log FILE)",
                path.display()
            ));
        }
    }
    if let Some(sock) = syslog {
        send_syslog(&sock, level, &line);
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
    let t = crate::time::rfc3339(now);
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
            crate::log::warn(&format!(
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

//! `ward authz-plugin`: Docker's authorization plugin protocol
//! (docs/authz-plugin.md). dockerd asks the plugin before it acts on each
//! API request (`AuthZPlugin.AuthZReq`) and before it answers
//! (`AuthZPlugin.AuthZRes`). Container creates, execs and updates are
//! turned into the OCI config dockerd would hand its runtime
//! (ward-dockerapi) and judged by ward's runtime policy: one
//! implementation. Image pulls are judged by the `[images]` trust policy (ward-trust).
//!
//! Fail closed: a request that changes a container and whose body the
//! plugin cannot see whole, or cannot read as dockerd reads it, is refused
//! (CVE-2024-41110: a body dockerd did not forward looked like no body).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use base64::Engine as _;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde::Deserialize;
use serde_json::json;
use ward_cli::AuthzPluginArgs;
use ward_policy::{Policy, Scope};

/// dockerd forwards a request body to plugins only below 1 MiB
/// (moby `pkg/authorization` maxBodySize); a bigger body is not seen.
const MAX_FORWARDED_BODY: u64 = 1 << 20;
/// The API versions dockerd 20.10 serves (`/v1.12` .. `/v1.41`).
const API_MIN: u32 = 12;
const API_MAX: u32 = 41;
/// The largest plugin request read (a 1 MiB body in base64 plus headers).
const MAX_PLUGIN_REQUEST: usize = 4 << 20;
/// Exit code of an error of ward itself (as docker and podman do).
const EXIT_WARD_ERROR: u8 = 125;
/// Where the state of a ward engine would be: judged as sensitive.
const STATE_ROOT: &str = "/run/ward";

/// What dockerd sends (moby `pkg/authorization/api.go` Request).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuthzRequest {
    #[serde(rename = "User", default)]
    user: Option<String>,
    #[serde(rename = "UserAuthNMethod", default)]
    auth_method: Option<String>,
    #[serde(rename = "RequestMethod", default)]
    method: String,
    // moby: `json:"RequestUri"`.
    #[serde(rename = "RequestUri", alias = "RequestURI", default)]
    uri: String,
    /// Go's []byte: base64, or null.
    #[serde(rename = "RequestBody", default)]
    body: Option<String>,
    #[serde(rename = "RequestHeaders", default)]
    headers: Option<BTreeMap<String, String>>,
}

/// The answer, and what the audit record says of it.
#[derive(Debug, PartialEq)]
pub(crate) struct Verdict {
    pub(crate) allow: bool,
    pub(crate) msg: String,
    /// What was judged: "container.create", "image.pull", "other", ...
    pub(crate) endpoint: &'static str,
    pub(crate) rules: Vec<String>,
    pub(crate) findings: serde_json::Value,
}

impl Verdict {
    fn allow(endpoint: &'static str) -> Verdict {
        Verdict {
            allow: true,
            msg: String::new(),
            endpoint,
            rules: Vec::new(),
            findings: json!([]),
        }
    }

    /// A refusal by the plugin itself (`rule`: why, stable).
    fn refuse(endpoint: &'static str, rule: &str, why: &str) -> Verdict {
        Verdict {
            allow: false,
            msg: format!("refused by ward authz-plugin: rule {rule}: {why}"),
            endpoint,
            rules: vec![rule.to_string()],
            findings: json!([{"rule": rule, "detail": why}]),
        }
    }
}

/// What the plugin judges with.
pub(crate) struct Judge {
    pub(crate) policy: Policy,
    /// The daemon as the mapping assumes it (AppArmor on the host or not).
    pub(crate) daemon: ward_dockerapi::Daemon,
    /// The host context of a config (host facts; a stub in unit tests).
    pub(crate) context: fn(&ward_spec::Spec) -> ward_policy::Context,
}

fn host_context(spec: &ward_spec::Spec) -> ward_policy::Context {
    ward_gate::request_context(Path::new(STATE_ROOT), spec)
}

/// Percent-decodes `s` (Go's `url.PathUnescape`): None on a bad escape.
fn percent_decode(s: &str, plus_is_space: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The request URI as dockerd's router sees it: the decoded path without
/// the API version, and the raw query. Err: why it is refused (a path the
/// router would read otherwise than its text: an escape that decodes to
/// `?`, `#` or NUL, dot segments, doubled slashes; an API version dockerd
/// does not serve).
pub(crate) fn route(uri: &str) -> Result<(String, String), &'static str> {
    let (raw_path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let path = percent_decode(raw_path, false).ok_or("the URI has an invalid %-escape")?;
    if !path.starts_with('/') || path.contains(['?', '#', '\0']) {
        return Err("the URI path is not a plain absolute path");
    }
    let rest = &path[1..];
    if rest.split('/').enumerate().any(|(i, seg)| {
        seg == "." || seg == ".." || (seg.is_empty() && i + 1 < rest.split('/').count())
    }) || (path.len() > 1 && path.ends_with('/'))
    {
        return Err("the URI path is not clean (dot segments, doubled or trailing slashes)");
    }
    let path = match rest.split_once('/') {
        Some((v, tail)) if v.starts_with('v') && v.len() > 1 => {
            let minor = v
                .strip_prefix("v1.")
                .filter(|m| {
                    !m.is_empty()
                        && m.len() <= 2
                        && m.bytes().all(|c| c.is_ascii_digit())
                        && !m.starts_with('0')
                })
                .and_then(|m| m.parse::<u32>().ok())
                .filter(|m| (API_MIN..=API_MAX).contains(m));
            if minor.is_none() {
                return Err(
                    "the URI names an API version dockerd 20.10 does not serve (v1.12 to v1.41)",
                );
            }
            format!("/{tail}")
        }
        _ => path,
    };
    Ok((path, query.to_string()))
}

fn header<'a>(req: &'a AuthzRequest, name: &str) -> Option<&'a str> {
    req.headers
        .as_ref()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The body of a request that must have one, if the plugin saw all of it.
fn full_body(req: &AuthzRequest) -> Result<Vec<u8>, String> {
    let ct = header(req, "Content-Type").unwrap_or("");
    let media = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if media != "application/json" {
        return Err(format!(
            "the body's Content-Type is {ct:?}, not application/json: dockerd forwards only JSON bodies to plugins"
        ));
    }
    let shown = || {
        base64::engine::general_purpose::STANDARD
            .decode(req.body.as_deref().unwrap_or(""))
            .map_or(0, |b| b.len())
    };
    let Some(len) = header(req, "Content-Length") else {
        return Err(format!("the request has no Content-Length (a chunked or streamed body; {} bytes shown): dockerd does not show plugins such a body whole in every version", shown()));
    };
    let len: u64 = len
        .trim()
        .parse()
        .map_err(|_| format!("Content-Length {len:?} is not a number"))?;
    if len >= MAX_FORWARDED_BODY {
        return Err(format!(
            "the body is {len} bytes: dockerd forwards bodies under 1 MiB to plugins only"
        ));
    }
    let body = base64::engine::general_purpose::STANDARD
        .decode(req.body.as_deref().unwrap_or(""))
        .map_err(|e| format!("RequestBody is not base64: {e}"))?;
    if len == 0 || body.len() as u64 != len {
        return Err(format!(
            "Content-Length is {len} but the plugin was shown {} bytes of body",
            body.len()
        ));
    }
    Ok(body)
}

/// Judges one `AuthZReq`.
pub(crate) fn judge(j: &Judge, req: &AuthzRequest) -> Verdict {
    let (path, query) = match route(&req.uri) {
        Ok(r) => r,
        Err(why) => return Verdict::refuse("request", "authz.uri", why),
    };
    if req.method != "POST" {
        return Verdict::allow("other");
    }
    let endpoint = if path == "/containers/create" {
        "container.create"
    } else if path == "/images/create" {
        "image.pull"
    } else if let Some(name) = path.strip_prefix("/containers/") {
        match name.rsplit_once('/').map(|(_, last)| last) {
            Some("exec") => "container.exec",
            Some("update") => "container.update",
            Some("start") => "container.start",
            _ => "other",
        }
    } else {
        "other"
    };
    // r.Form (dockerd's query parameters) also holds a form body's fields.
    let ct = header(req, "Content-Type")
        .unwrap_or("")
        .to_ascii_lowercase();
    if endpoint != "other" && ct.starts_with("application/x-www-form-urlencoded") {
        return Verdict::refuse(endpoint, "authz.body-unseen", "a form body: dockerd reads its fields as query parameters, which the plugin does not see");
    }
    match endpoint {
        "image.pull" => judge_pull(j, &query),
        "container.start" => {
            // API < 1.24 still applies a HostConfig sent with start.
            let len = header(req, "Content-Length").and_then(|l| l.trim().parse::<u64>().ok());
            let chunked =
                header(req, "Content-Length").is_none() && header(req, "Content-Type").is_some();
            if len.is_some_and(|l| l > 0)
                || chunked
                || req.body.as_deref().is_some_and(|b| !b.is_empty())
            {
                Verdict::refuse(
                    endpoint,
                    "authz.body-unseen",
                    "a start with a body (a HostConfig, applied by API versions before 1.24)",
                )
            } else {
                Verdict::allow(endpoint)
            }
        }
        "container.create" | "container.exec" | "container.update" => {
            let body = match full_body(req) {
                Ok(b) => b,
                Err(why) => return Verdict::refuse(endpoint, "authz.body-unseen", &why),
            };
            judge_container(j, endpoint, &body)
        }
        _ => Verdict::allow(endpoint),
    }
}

fn judge_container(j: &Judge, endpoint: &'static str, body: &[u8]) -> Verdict {
    let spec = match endpoint {
        "container.create" => ward_dockerapi::parse_create(body)
            .and_then(|b| ward_dockerapi::spec_for_create_with(&b, &j.daemon, &device_node)),
        "container.exec" => {
            ward_dockerapi::parse_exec(body).and_then(|b| ward_dockerapi::exec_spec(&b))
        }
        _ => ward_dockerapi::parse_update(body).map(|r| ward_dockerapi::update_spec(&r)),
    };
    let spec = match spec {
        Ok(s) => s,
        Err(e) => {
            return Verdict::refuse(
                endpoint,
                "authz.body-invalid",
                &format!("the body cannot be read as dockerd reads it: {e}"),
            )
        }
    };
    let scope = match endpoint {
        "container.create" => Scope::Container,
        "container.exec" => Scope::Process,
        _ => Scope::Resources,
    };
    let d = j.policy.decide(&spec, &(j.context)(&spec), scope);
    let findings: Vec<serde_json::Value> = d
        .refused
        .iter()
        .map(|h| (h, "enforce"))
        .chain(d.warned.iter().map(|h| (h, "warn")))
        .map(|(h, mode)| json!({"rule": h.rule, "mode": mode, "detail": h.detail}))
        .collect();
    Verdict {
        allow: d.allowed(),
        msg: if d.allowed() {
            d.warnings().join("\n")
        } else {
            d.refusal()
        },
        endpoint,
        rules: d.rule_ids().into_iter().map(String::from).collect(),
        findings: json!(findings),
    }
}

/// A `--device` as dockerd sees it: the node's numbers on the host.
fn device_node(path: &str) -> Option<ward_dockerapi::DeviceNode> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    let kind = if m.file_type().is_block_device() {
        "b"
    } else if m.file_type().is_char_device() {
        "c"
    } else {
        return None;
    };
    let rdev = m.rdev();
    Some(ward_dockerapi::DeviceNode {
        kind: kind.into(),
        major: libc::major(rdev) as i64,
        minor: libc::minor(rdev) as i64,
    })
}

fn judge_pull(j: &Judge, query: &str) -> Verdict {
    let mut from_image = Vec::new();
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let (Some(k), Some(v)) = (percent_decode(k, true), percent_decode(v, true)) else {
            return Verdict::refuse(
                "image.pull",
                "authz.uri",
                "the query has an invalid %-escape",
            );
        };
        if k == "fromImage" {
            from_image.push(v);
        }
    }
    let image = match &from_image[..] {
        [] => return Verdict::allow("image.import"),
        [one] => one,
        _ => {
            return Verdict::refuse(
                "image.pull",
                "authz.uri",
                "fromImage is given more than once",
            )
        }
    };
    judge_image(&j.policy, image)
}

/// A pull judged by the `[images]` trust policy (ward-trust, the decision
/// `ward image pull` makes): the repository as dockerd normalizes it
/// (`busybox` is `docker.io/library/busybox`) must be in an allowed scope.
/// dockerd checks no signatures: a scope that requires them is refused
/// here (fail closed), with the way to pull a verified image.
pub(crate) fn judge_image(policy: &Policy, image: &str) -> Verdict {
    let refuse = |rule: &str, detail: &str, fix: &str| {
        Verdict::refuse(
            "image.pull",
            rule,
            &format!("image {image}: {detail}.\n    fix: {fix}."),
        )
    };
    let full = match ward_trust::normalize_repository(image) {
        Ok(f) => f,
        Err(e) => {
            return refuse(
                ward_trust::policy::RULE_REGISTRY_NOT_ALLOWED,
                &e,
                "name the image as REGISTRY[:PORT]/REPOSITORY[:TAG|@DIGEST]",
            )
        }
    };
    let (registry, path) = full.split_once('/').unwrap_or((full.as_str(), ""));
    match ward_trust::policy::requirement(policy, registry, path) {
        Ok(ward_trust::policy::Requirement::Unsigned { .. }) => Verdict::allow("image.pull"),
        Ok(ward_trust::policy::Requirement::Refused { rule, detail, fix }) => refuse(rule, &detail, &fix),
        Ok(ward_trust::policy::Requirement::Signed { scope, .. }) => refuse(
            "image.signature-unchecked",
            &format!("[images.registries.\"{scope}\"] requires a signature, and dockerd pulls without checking one"),
            &format!("pull and verify with ward (`ward image pull {full}`), then hand it to dockerd (`ward image save -o FILE {full}`, `docker load -i FILE`); or set signatures = \"none\" in [images.registries.\"{scope}\"] to take unsigned images from it"),
        ),
        Err(e) => refuse(ward_trust::policy::RULE_POLICY_KEY, &e.to_string(), "fix the key file the policy names"),
    }
}

/// The audit record of one request (one JSON line, like ward-oci's).
fn record(req: &AuthzRequest, v: &Verdict, policy: &str) -> String {
    let rec = json!({
        "time": ward_runtime::time::rfc3339(std::time::SystemTime::now()),
        "action": "authz",
        "user": req.user.as_deref().filter(|u| !u.is_empty()),
        "auth_method": req.auth_method.as_deref().filter(|u| !u.is_empty()),
        "method": req.method,
        "uri": req.uri,
        "endpoint": v.endpoint,
        "decision": if !v.allow { "refused" } else if v.rules.is_empty() { "allowed" } else { "warned" },
        "rules": v.rules,
        "findings": v.findings,
        "policy": policy,
    });
    rec.to_string()
}

/// One write(2) on an O_APPEND descriptor: records do not interleave.
fn append(path: &Path, line: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW)
        .open(path)?;
    f.write_all(format!("{line}\n").as_bytes())
}

struct State {
    judge: Judge,
    audit_log: Option<PathBuf>,
}

fn reply(v: serde_json::Value) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(v.to_string())));
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/vnd.docker.plugins.v1+json"),
    );
    r
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_string();
    let body = match Limited::new(req.into_body(), MAX_PLUGIN_REQUEST)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(e) => {
            return Ok(reply(
                json!({"Allow": false, "Msg": format!("ward authz-plugin: the request cannot be read: {e}"), "Err": ""}),
            ))
        }
    };
    Ok(match path.as_str() {
        "/Plugin.Activate" => reply(json!({"Implements": ["authz"]})),
        "/AuthZPlugin.AuthZReq" => {
            let (req, v) = match serde_json::from_slice::<AuthzRequest>(&body) {
                Ok(r) => {
                    let v = judge(&state.judge, &r);
                    (r, v)
                }
                Err(e) => (
                    AuthzRequest::default(),
                    Verdict::refuse(
                        "request",
                        "authz.body-invalid",
                        &format!("the plugin request is not valid JSON: {e}"),
                    ),
                ),
            };
            if let Some(log) = &state.audit_log {
                if let Err(e) = append(log, &record(&req, &v, &state.judge.policy.source)) {
                    eprintln!("ward authz-plugin: audit log {}: {e}", log.display());
                }
            }
            reply(json!({"Allow": v.allow, "Msg": v.msg, "Err": ""}))
        }
        // Responses are not judged: the request was.
        "/AuthZPlugin.AuthZRes" => reply(json!({"Allow": true, "Msg": "", "Err": ""})),
        _ => {
            let mut r = reply(json!({"Err": "not found"}));
            *r.status_mut() = hyper::StatusCode::NOT_FOUND;
            r
        }
    })
}

/// Binds the socket: a stale socket file is replaced, anything else at the
/// path is an error. Root only (0600): dockerd runs as root.
fn bind(path: &Path) -> std::io::Result<std::os::unix::net::UnixListener> {
    if let Ok(m) = std::fs::symlink_metadata(path) {
        if m.file_type().is_socket() {
            std::fs::remove_file(path)?;
        } else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "exists and is not a socket",
            ));
        }
    }
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o755)
            .create(dir)?;
    }
    let l = std::os::unix::net::UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

pub fn main(a: AuthzPluginArgs) -> ExitCode {
    let fail = |m: String| {
        eprintln!("ward authz-plugin: {m}");
        ExitCode::from(EXIT_WARD_ERROR)
    };
    // A policy that does not load: no plugin, and dockerd refuses every
    // request while its plugin is missing (fail closed).
    let policy = match ward_gate::load(a.policy.as_deref()) {
        Ok(p) => p,
        Err(e) => return fail(e.to_string()),
    };
    let audit_log = a.audit_log.clone().or_else(|| policy.audit_log.clone());
    let state = Arc::new(State {
        judge: Judge {
            policy,
            context: host_context,
            daemon: ward_dockerapi::Daemon {
                apparmor: std::fs::read_to_string("/sys/module/apparmor/parameters/enabled")
                    .is_ok_and(|s| s.trim() == "Y"),
                ..ward_dockerapi::Daemon::default()
            },
        },
        audit_log,
    });
    let listener = match bind(&a.socket) {
        Ok(l) => l,
        Err(e) => return fail(format!("{}: {e}", a.socket.display())),
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(format!("tokio: {e}")),
    };
    eprintln!(
        "ward authz-plugin: listening on {} (policy {})",
        a.socket.display(),
        state.judge.policy.source
    );
    let r: std::io::Result<()> = rt.block_on(async move {
        let listener = tokio::net::UnixListener::from_std(listener)?;
        loop {
            let (stream, _) = listener.accept().await?;
            let state = state.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| handle(req, state.clone()));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e.to_string()),
    }
}

#[cfg(test)]
#[path = "authz_tests.rs"]
mod tests;

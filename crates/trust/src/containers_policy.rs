//! `/etc/containers/policy.json` (containers-policy.json(5), what podman,
//! skopeo and CRI-O read) as an alternative source of the `[images]`
//! policy: its `docker` transport scopes become ward scopes. Fail closed:
//! a requirement ward cannot enforce exactly as written makes its scope
//! refuse everything (`allowed = false`) with a note, never accept more.
//!
//! - `insecureAcceptAnything` → `signatures = "none"`;
//! - `reject` → `allowed = false`;
//! - `sigstoreSigned` with `keyPath` (or `keyPaths`) → signatures required
//!   by those keys; its `signedIdentity` `matchRepository` is ward's rule,
//!   `matchRepoDigestOrExact` (the default) and `matchExact` are stricter
//!   for tagged references (the signed reference must carry the same tag)
//!   and are taken as `matchRepository` with a note;
//! - `signedBy` (GPG), keyless `sigstoreSigned` (fulcio), `keyData`,
//!   `remapIdentity`/`exactReference`/`exactRepository` and several
//!   signature requirements in one scope (all must hold) → refused, noted;
//! - the top-level `default` and the transport-wide `""` scope are not
//!   taken (ward refuses what no scope names, which is never looser); nor
//!   are wildcard (`*.example.com`), tag and digest scopes, nor other
//!   transports.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;
use ward_policy::images::normalize_scope;
use ward_policy::{ImageScope, Images, Signatures};

/// The default location.
pub const DEFAULT_PATH: &str = "/etc/containers/policy.json";

// containers/image refuses unknown top-level keys too.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    default: Vec<Value>,
    #[serde(default)]
    transports: BTreeMap<String, BTreeMap<String, Vec<Value>>>,
}

/// The converted policy and what could not be taken as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    pub images: Images,
    pub notes: Vec<String>,
}

/// What one scope's requirement list becomes (signatures, keys), or why
/// the scope refuses everything ("reject": as written).
fn convert_requirements(reqs: &[Value]) -> Result<(Signatures, Vec<PathBuf>), String> {
    let mut keys: Option<Vec<PathBuf>> = None;
    if reqs.is_empty() {
        return Err("an empty requirement list (containers/image refuses it)".into());
    }
    for r in reqs {
        let kind = r.get("type").and_then(Value::as_str).unwrap_or_default();
        match kind {
            "insecureAcceptAnything" => {}
            "reject" => return Err("reject".into()),
            "signedBy" => {
                return Err("signedBy (GPG simple signing) is not supported by ward".into())
            }
            "sigstoreSigned" => {
                if keys.is_some() {
                    return Err(
                        "several signature requirements (all must hold), which ward cannot express"
                            .into(),
                    );
                }
                if r.get("fulcio").is_some() || r.get("pki").is_some() {
                    return Err("keyless sigstoreSigned (fulcio/pki) is not supported".into());
                }
                if r.get("keyData").is_some() || r.get("keyDatas").is_some() {
                    return Err("keyData (an inline key) is not supported; use keyPath".into());
                }
                let mut paths: Vec<PathBuf> = Vec::new();
                if let Some(p) = r.get("keyPath").and_then(Value::as_str) {
                    paths.push(p.into());
                }
                if let Some(ps) = r.get("keyPaths").and_then(Value::as_array) {
                    for p in ps {
                        let p = p.as_str().ok_or("keyPaths holds a non-string")?;
                        paths.push(p.into());
                    }
                }
                if paths.is_empty() {
                    return Err("sigstoreSigned without keyPath".into());
                }
                if let Some(p) = paths.iter().find(|p| !p.is_absolute()) {
                    return Err(format!("keyPath {} is not absolute", p.display()));
                }
                match r
                    .get("signedIdentity")
                    .and_then(|i| i.get("type"))
                    .and_then(Value::as_str)
                {
                    Some("matchRepository") => {}
                    None | Some("matchRepoDigestOrExact") | Some("matchExact") => {}
                    Some(other) => return Err(format!("signedIdentity {other} is not supported")),
                }
                keys = Some(paths);
            }
            other => return Err(format!("unknown requirement type {other:?}")),
        }
    }
    Ok(match keys {
        Some(k) => (Signatures::Required, k),
        None => (Signatures::None, Vec::new()),
    })
}

/// Converts policy.json text; `origin` names it in messages.
pub fn parse(json: &[u8], origin: &str) -> Result<Converted, String> {
    let bad = |e: String| format!("{origin}: not a containers policy: {e}");
    let value: Value = serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
    if !value.is_object() {
        return Err(bad("not a JSON object".into()));
    }
    let file: File = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    let mut notes = Vec::new();
    if !file.default.is_empty() {
        notes.push(format!(
            "{origin}: \"default\" is not taken: ward refuses images of registries no scope names"
        ));
    }
    let mut scopes: Vec<ImageScope> = Vec::new();
    for (transport, entries) in &file.transports {
        if transport != "docker" {
            notes.push(format!(
                "{origin}: transport {transport:?} is not used by ward"
            ));
            continue;
        }
        for (scope, reqs) in entries {
            if scope.is_empty() {
                notes.push(format!(
                    "{origin}: the docker transport's \"\" scope is not taken: ward refuses images of registries no scope names"
                ));
                continue;
            }
            let name = match normalize_scope(scope) {
                Ok(n) if !scope.contains('*') => n,
                _ => {
                    notes.push(format!(
                        "{origin}: scope {scope:?} is not taken (ward scopes are a registry or a repository prefix; no wildcard, tag or digest)"
                    ));
                    continue;
                }
            };
            let (allowed, signatures, keys) = match convert_requirements(reqs) {
                Ok((s, k)) => {
                    let loose = reqs.iter().any(|r| {
                        r.get("type").and_then(Value::as_str) == Some("sigstoreSigned")
                            && r.get("signedIdentity")
                                .and_then(|i| i.get("type"))
                                .and_then(Value::as_str)
                                != Some("matchRepository")
                    });
                    if loose {
                        notes.push(format!(
                            "{origin}: scope {scope:?}: signedIdentity is matched by repository (matchRepository), as cosign's repository-only signatures need"
                        ));
                    }
                    (true, s, k)
                }
                Err(why) => {
                    if why != "reject" {
                        notes.push(format!(
                            "{origin}: scope {scope:?} refuses every image: {why}"
                        ));
                    }
                    (false, Signatures::Required, Vec::new())
                }
            };
            if scopes.iter().any(|s| s.scope == name) {
                return Err(format!("{origin}: scope {scope:?} named twice"));
            }
            scopes.push(ImageScope {
                scope: name,
                allowed,
                signatures,
                keys,
                insecure: false,
            });
        }
    }
    Ok(Converted {
        images: Images {
            default_registry: None,
            scopes,
        },
        notes,
    })
}

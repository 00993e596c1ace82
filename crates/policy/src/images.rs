//! The `[images]` section of the policy file: which registries and
//! repositories images may come from, whether their signatures are
//! required and by which public keys, and which registries may be reached
//! over plain HTTP. Only the data and its validation live here; ward-trust
//! evaluates it (the most specific scope wins) and verifies signatures.
//! Fail closed: without a scope that matches, an image is refused.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

/// Whether an image from a scope must be signed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signatures {
    /// A valid signature by one of the scope's keys (cosign keyed format).
    #[default]
    Required,
    /// No signature is checked (containers-policy's
    /// `insecureAcceptAnything`).
    None,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScopeSection {
    #[serde(default = "yes")]
    allowed: bool,
    #[serde(default)]
    signatures: Signatures,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    insecure: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ImagesSection {
    default_registry: Option<String>,
    #[serde(default)]
    registries: BTreeMap<String, ScopeSection>,
}

/// One `[images.registries."SCOPE"]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageScope {
    /// A registry (`host[:port]`) or a repository prefix in one
    /// (`host[:port]/path`), normalized (lowercase host, `docker.io` for
    /// Docker Hub's other names).
    pub scope: String,
    /// `allowed = false` refuses every image of the scope (a narrower
    /// scope inside an allowed registry).
    pub allowed: bool,
    pub signatures: Signatures,
    /// Absolute paths of PEM public keys; a signature by any one counts.
    pub keys: Vec<PathBuf>,
    /// Plain HTTP allowed (registry scopes only).
    pub insecure: bool,
}

/// The `[images]` policy. The default (no section, or no policy file)
/// names no scope: every image is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Images {
    /// Where short names (`busybox`) resolve; None: short names refused.
    pub default_registry: Option<String>,
    pub scopes: Vec<ImageScope>,
}

/// Normalizes a scope name, or says what is wrong with it.
pub fn normalize_scope(scope: &str) -> Result<String, String> {
    if scope.contains("://") {
        return Err(
            "a scope is HOST[:PORT] or HOST[:PORT]/REPOSITORY/PREFIX, without a scheme".into(),
        );
    }
    let (host, path) = match scope.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (scope, None),
    };
    let host = host.to_ascii_lowercase();
    if host.is_empty()
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    {
        return Err(format!("{host:?} is not a registry host[:port]"));
    }
    let host = match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => host,
    };
    match path {
        None => Ok(host),
        Some(p) => {
            if p.split('/').any(|c| {
                c.is_empty()
                    || !c.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            }) {
                return Err(format!(
                    "{p:?} is not a repository path (lowercase letters, digits, '.', '_', '-', '/'; no tag or digest)"
                ));
            }
            Ok(format!("{host}/{p}"))
        }
    }
}

impl ImagesSection {
    /// Validates the section; an error is (problem, text to find its line).
    pub(crate) fn into_images(self) -> Result<Images, (String, String)> {
        let default_registry = match self.default_registry {
            None => None,
            Some(r) => {
                let n = normalize_scope(&r)
                    .map_err(|e| (format!("images.default_registry: {e}"), r.clone()))?;
                if n.contains('/') {
                    return Err((
                        format!("images.default_registry: {r:?} is a repository; name a registry (host[:port])"),
                        r,
                    ));
                }
                Some(n)
            }
        };
        let mut scopes: Vec<ImageScope> = Vec::new();
        for (name, s) in self.registries {
            let here = |problem: String| {
                (
                    format!("images.registries.{name:?}: {problem}"),
                    format!("{name:?}"),
                )
            };
            let scope = normalize_scope(&name).map_err(here)?;
            if scopes.iter().any(|o| o.scope == scope) {
                return Err(here(format!("the same scope as {scope:?} above")));
            }
            if let Some(k) = s.keys.iter().find(|k| !k.starts_with('/')) {
                let (problem, _) = here(format!("keys: {k:?} is not an absolute path"));
                return Err((problem, format!("{k:?}")));
            }
            if s.allowed && s.signatures == Signatures::Required && s.keys.is_empty() {
                return Err(here(
                    "signatures = \"required\" (the default) needs keys = [\"/path/to/key.pub\"]; or set signatures = \"none\" to take unsigned images"
                        .into(),
                ));
            }
            if s.signatures == Signatures::None && !s.keys.is_empty() {
                return Err(here(
                    "keys are set but signatures = \"none\" ignores them; remove one of the two"
                        .into(),
                ));
            }
            if s.insecure && scope.contains('/') {
                return Err(here(
                    "insecure applies to a whole registry: set it on [images.registries.\"HOST:PORT\"]".into(),
                ));
            }
            scopes.push(ImageScope {
                scope,
                allowed: s.allowed,
                signatures: s.signatures,
                keys: s.keys.into_iter().map(PathBuf::from).collect(),
                insecure: s.insecure,
            });
        }
        Ok(Images {
            default_registry,
            scopes,
        })
    }
}

impl Images {
    /// The most specific scope naming `repository` (`HOST/PATH`,
    /// normalized): the registry itself or a path prefix of it, on `/`
    /// boundaries (`r/app` does not cover `r/application`).
    pub fn scope_for(&self, repository: &str) -> Option<&ImageScope> {
        self.scopes
            .iter()
            .filter(|s| {
                repository == s.scope
                    || repository
                        .strip_prefix(s.scope.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
            .max_by_key(|s| s.scope.len())
    }

    /// Whether plain HTTP to `registry` (`host[:port]`) is allowed: only
    /// when its registry scope says `insecure = true`.
    pub fn insecure(&self, registry: &str) -> bool {
        let registry = registry.to_ascii_lowercase();
        self.scopes
            .iter()
            .any(|s| s.scope == registry && s.allowed && s.insecure)
    }
}

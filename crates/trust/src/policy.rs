//! The image trust decision: what the `[images]` policy requires of an
//! image, and the verdict once its signatures were looked at. Fail closed:
//! an image of a registry no scope names is refused (also with no policy
//! file at all), a required signature that is missing, unreadable or
//! invalid refuses the image, and a key file that cannot be read refuses
//! every image of its scope. Every refusal names the image, the rule and
//! the fix.

use std::fmt;
use std::path::PathBuf;

use ward_policy::{ImageScope, Policy, Signatures, DEFAULT_PATH};

use crate::keys::PublicKey;
use crate::payload::join_repository;
use crate::signature::{signature_tag, verify, Refusal, Verified};

/// The image's registry (or repository) is named by no scope, or by one
/// with `allowed = false`.
pub const RULE_REGISTRY_NOT_ALLOWED: &str = "image.registry-not-allowed";
/// A short name (`busybox`) and no `default_registry`.
pub const RULE_SHORT_NAME: &str = "image.short-name";
/// The scope requires a signature and the image has none.
pub const RULE_UNSIGNED: &str = "image.unsigned";
/// The image has signatures, but none passes.
pub const RULE_SIGNATURE_INVALID: &str = "image.signature-invalid";
/// A key the policy names cannot be used.
pub const RULE_POLICY_KEY: &str = "image.policy-key";

/// Every image rule id, for documentation and tests.
pub const RULES: &[&str] = &[
    RULE_REGISTRY_NOT_ALLOWED,
    RULE_SHORT_NAME,
    RULE_UNSIGNED,
    RULE_SIGNATURE_INVALID,
    RULE_POLICY_KEY,
];

/// An image refused by the trust policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRefusal {
    /// The image as the user named it (or its resolved reference).
    pub image: String,
    pub rule: &'static str,
    pub detail: String,
    pub fix: String,
    /// The policy's source (its file, or "built-in defaults").
    pub policy: String,
}

impl fmt::Display for ImageRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "refused by ward policy ({}): image {}\n  rule {}: {}.\n    fix: {}.",
            self.policy, self.image, self.rule, self.detail, self.fix
        )
    }
}

impl std::error::Error for ImageRefusal {}

/// A key file of the policy that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyKeyError {
    pub policy: String,
    pub scope: String,
    pub key: PathBuf,
    pub problem: String,
}

impl fmt::Display for PolicyKeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "policy {}: [images.registries.\"{}\"] keys: {}; no image of {} is accepted until it is fixed",
            self.policy, self.scope, self.problem, self.scope
        )
    }
}

impl std::error::Error for PolicyKeyError {}

/// What the policy requires of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Requirement {
    /// Refused whatever its signatures.
    Refused {
        rule: &'static str,
        detail: String,
        fix: String,
    },
    /// Accepted without a signature (`signatures = "none"`).
    Unsigned { scope: String },
    /// Accepted with a valid signature by one of `keys`.
    Signed { scope: String, keys: Vec<PublicKey> },
}

/// The policy file to name in a fix.
fn policy_file(policy: &Policy) -> String {
    if policy.source == "built-in defaults" {
        DEFAULT_PATH.to_string()
    } else {
        policy.source.clone()
    }
}

/// What the policy requires of images in `repository` of `registry`
/// (`registry.example:5000`, `team/app`). The scope's keys are read here,
/// so an unreadable or unusable key is an error naming its file.
pub fn requirement(
    policy: &Policy,
    registry: &str,
    repository: &str,
) -> Result<Requirement, PolicyKeyError> {
    let file = policy_file(policy);
    let full = match join_repository(registry, repository) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Requirement::Refused {
                rule: RULE_REGISTRY_NOT_ALLOWED,
                detail: e,
                fix: "name the image as REGISTRY[:PORT]/REPOSITORY[:TAG|@DIGEST]".into(),
            })
        }
    };
    let host = full.split('/').next().unwrap_or_default().to_string();
    let Some(scope) = policy.images.scope_for(&full) else {
        let detail = if policy.source == "built-in defaults" {
            format!("there is no policy file ({DEFAULT_PATH}), and the built-in default allows no registry ({full})")
        } else {
            format!("no [images.registries] scope of the policy names {full}; registries it does not name are refused")
        };
        return Ok(Requirement::Refused {
            rule: RULE_REGISTRY_NOT_ALLOWED,
            detail,
            fix: format!(
                "to allow it, add to {file}:\n      [images.registries.\"{host}\"]\n      keys = [\"/etc/ward/keys/release.pub\"]   # or signatures = \"none\" to take unsigned images\n    (docs/trust.md)"
            ),
        });
    };
    if !scope.allowed {
        return Ok(Requirement::Refused {
            rule: RULE_REGISTRY_NOT_ALLOWED,
            detail: format!(
                "{full} is in [images.registries.\"{}\"], which sets allowed = false",
                scope.scope
            ),
            fix: format!(
                "take the image from an allowed repository, or remove allowed = false from [images.registries.\"{}\"] in {file}",
                scope.scope
            ),
        });
    }
    match scope.signatures {
        Signatures::None => Ok(Requirement::Unsigned {
            scope: scope.scope.clone(),
        }),
        Signatures::Required => Ok(Requirement::Signed {
            scope: scope.scope.clone(),
            keys: load_keys(policy, scope)?,
        }),
    }
}

fn load_keys(policy: &Policy, scope: &ImageScope) -> Result<Vec<PublicKey>, PolicyKeyError> {
    scope
        .keys
        .iter()
        .map(|k| {
            PublicKey::load(k).map_err(|e| PolicyKeyError {
                policy: policy.source.clone(),
                scope: scope.scope.clone(),
                key: k.clone(),
                problem: e.to_string(),
            })
        })
        .collect()
}

/// The registry a short name (`busybox`, `user/app`: no registry host)
/// resolves to: the policy's `default_registry`, else a refusal.
pub fn short_name_registry(policy: &Policy, image: &str) -> Result<String, ImageRefusal> {
    policy.images.default_registry.clone().ok_or_else(|| ImageRefusal {
        image: image.to_string(),
        rule: RULE_SHORT_NAME,
        detail: "a short name without a registry, and the policy names no default_registry (a short name must not silently mean Docker Hub)".into(),
        fix: format!(
            "name the registry (REGISTRY[:PORT]/{image}), or set default_registry = \"HOST[:PORT]\" under [images] in {}",
            policy_file(policy)
        ),
        policy: policy.source.clone(),
    })
}

/// An image the policy accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// The scope that decided.
    pub scope: String,
    /// The signature that passed (None: the scope takes unsigned images).
    pub signature: Option<Verified>,
}

/// What was found under the image's signature tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// No signature tag (the registry answered "manifest unknown").
    Nothing,
    /// The signature manifest was read and verified: the result.
    Checked(Result<Verified, Refusal>),
    /// The signatures could not be fetched (registry error).
    Unavailable(String),
}

/// The verdict on `image` under `requirement`, given what its signature
/// tag held (`found`; not looked at unless the requirement is Signed).
pub fn admit(
    policy: &Policy,
    image: &str,
    requirement: &Requirement,
    found: Found,
) -> Result<Admitted, ImageRefusal> {
    let refuse = |rule, detail: String, fix: String| ImageRefusal {
        image: image.to_string(),
        rule,
        detail,
        fix,
        policy: policy.source.clone(),
    };
    let file = policy_file(policy);
    let (scope, keys) = match requirement {
        Requirement::Refused { rule, detail, fix } => {
            return Err(refuse(rule, detail.clone(), fix.clone()))
        }
        Requirement::Unsigned { scope } => {
            return Ok(Admitted {
                scope: scope.clone(),
                signature: None,
            })
        }
        Requirement::Signed { scope, keys } => (scope, keys),
    };
    let key_names = keys
        .iter()
        .map(|k| k.origin.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let or_unsigned = format!(
        "(or set signatures = \"none\" on [images.registries.\"{scope}\"] in {file} to take unsigned images)"
    );
    match found {
        Found::Checked(Ok(v)) => Ok(Admitted {
            scope: scope.clone(),
            signature: Some(v),
        }),
        Found::Nothing => Err(refuse(
            RULE_UNSIGNED,
            format!("[images.registries.\"{scope}\"] requires a signature by {key_names}, and the image has none"),
            format!("sign it with the private key of one of them: `ward image sign {image} --key KEY` {or_unsigned}"),
        )),
        Found::Unavailable(e) => Err(refuse(
            RULE_UNSIGNED,
            format!("[images.registries.\"{scope}\"] requires a signature, and its signatures could not be fetched: {e}"),
            "retry when the registry answers (a signature that cannot be checked counts as none)".into(),
        )),
        Found::Checked(Err(r)) => Err(refuse(
            RULE_SIGNATURE_INVALID,
            format!("[images.registries.\"{scope}\"] requires a signature by {key_names}: {r}"),
            format!(
                "sign this image (this digest, this repository) with the private key of one of them: `ward image sign {image} --key KEY`; or, if another key signed it and you trust it, add its public key to keys of [images.registries.\"{scope}\"] in {file}"
            ),
        )),
    }
}

/// The whole check for one image, for pull and run alike: the
/// requirement, then (if signatures are required) the signature manifest
/// under `sha256-<hex>.sig`, fetched by `fetch_manifest(tag)` (Ok(None):
/// no such tag), and its payload blobs by `fetch_blob(digest, size)`.
pub fn check_image(
    policy: &Policy,
    image: &str,
    registry: &str,
    repository: &str,
    manifest_digest: &str,
    mut fetch_manifest: impl FnMut(&str) -> Result<Option<Vec<u8>>, String>,
    fetch_blob: impl FnMut(&str, u64) -> Result<Vec<u8>, String>,
) -> Result<Admitted, ImageRefusal> {
    let req = requirement(policy, registry, repository).map_err(|e| ImageRefusal {
        image: image.to_string(),
        rule: RULE_POLICY_KEY,
        detail: e.to_string(),
        fix: format!(
            "make {} a readable PEM ECDSA P-256 public key (`ward trust keygen --out PREFIX` writes PREFIX.pub), or fix keys in {}",
            e.key.display(),
            policy_file(policy)
        ),
        policy: policy.source.clone(),
    })?;
    let found = match &req {
        Requirement::Signed { keys, .. } => match signature_tag(manifest_digest) {
            Err(e) => Found::Checked(Err(Refusal { problems: vec![e] })),
            Ok(tag) => match fetch_manifest(&tag) {
                Ok(None) => Found::Nothing,
                Err(e) => Found::Unavailable(e),
                Ok(Some(m)) => Found::Checked(verify(
                    &m,
                    fetch_blob,
                    keys,
                    manifest_digest,
                    &format!("{registry}/{repository}"),
                )),
            },
        },
        _ => Found::Nothing,
    };
    admit(policy, image, &req, found)
}

//! What pulling, signing and verifying share: reading a reference under
//! the policy, a client for its registry, the digest a tag names, and the
//! signature manifest and payloads of a digest.

use std::io::Read;

use ward_image::{Digest, Reference};
use ward_policy::Policy;
use ward_registry::{Client, Config, ErrorKind};
use ward_trust::{Admitted, ImageRefusal};

/// What a pull from a registry may fail with.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The trust policy refused the image (the message names the rule and
    /// the fix).
    #[error("{0}")]
    Refused(Box<ImageRefusal>),
    /// The reference cannot be read.
    #[error("{0}")]
    Reference(String),
    #[error("{0}")]
    Registry(#[from] ward_registry::Error),
    #[error("{0}")]
    Pull(#[from] ward_image::PullError),
}

impl From<ImageRefusal> for PullError {
    fn from(r: ImageRefusal) -> Self {
        PullError::Refused(Box::new(r))
    }
}

/// Reads `image` as a reference; a short name (`busybox`) resolves to the
/// policy's `default_registry`, and without one it is refused by the rule
/// `image.short-name` (a short name must not silently mean Docker Hub).
pub fn resolve_reference(policy: &Policy, image: &str) -> Result<Reference, PullError> {
    let default = policy.images.default_registry.as_deref();
    Reference::parse(image, default).map_err(|e| {
        let short = default.is_none() && Reference::parse(image, Some("registry.invalid")).is_ok();
        match (short, ward_trust::short_name_registry(policy, image)) {
            (true, Err(refusal)) => PullError::from(refusal),
            _ => PullError::Reference(e.to_string()),
        }
    })
}

/// A client for `registry`, plain HTTP only if the policy names it insecure.
pub fn client_for(policy: &Policy, registry: &str, config: &Config) -> Result<Client, PullError> {
    let mut config = config.clone();
    config.insecure.retain(|r| r != registry);
    if policy.images.insecure(registry) {
        config.insecure.push(registry.to_string());
    }
    Ok(Client::new(registry, &config)?)
}

/// The trust check of `digest` in `reference`'s repository through
/// `client`: the signature manifest under `sha256-<hex>.sig` and its
/// payload blobs (each read at most to the payload limit).
pub fn check_trust(
    policy: &Policy,
    client: &Client,
    reference: &Reference,
    digest: &Digest,
) -> Result<Admitted, ImageRefusal> {
    let repo = reference.repository();
    ward_trust::check_image(
        policy,
        &reference.to_string(),
        reference.registry(),
        repo,
        &digest.to_string(),
        |tag| existing_signatures(client, repo, tag).map_err(|e| e.to_string()),
        |blob, size| fetch_payload(client, repo, blob, size),
    )
}

/// The digest of what `reference` names in the registry (the exact bytes
/// it serves; a pinned digest must match them).
pub fn resolve_digest(client: &Client, reference: &Reference) -> Result<Digest, PullError> {
    let m = client.manifest(reference.repository(), &reference.tag_or_digest())?;
    let digest = match reference.digest() {
        Some(d) => d.clone(),
        None => Digest::sha256_of(&m.bytes),
    };
    if digest.same_algorithm_of(&m.bytes) != digest {
        return Err(PullError::Reference(format!(
            "{reference}: the registry served a manifest whose digest is not {digest}; refused"
        )));
    }
    Ok(digest)
}

/// The signature manifest now under `tag` (`sha256-<hex>.sig`), if any.
pub fn existing_signatures(
    client: &Client,
    repository: &str,
    tag: &str,
) -> Result<Option<Vec<u8>>, PullError> {
    match client.manifest(repository, tag) {
        Ok(m) => Ok(Some(m.bytes)),
        Err(e) if matches!(e.kind, ErrorKind::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// A signature payload blob, read at most to the payload limit.
pub fn fetch_payload(
    client: &Client,
    repository: &str,
    blob: &str,
    size: u64,
) -> Result<Vec<u8>, String> {
    let limit = size.min(ward_trust::signature::MAX_PAYLOAD) + 1;
    let mut out = Vec::new();
    client
        .blob(repository, blob)
        .map_err(|e| e.to_string())?
        .take(limit)
        .read_to_end(&mut out)
        .map_err(|e| format!("reading signature payload {blob}: {e}"))?;
    Ok(out)
}

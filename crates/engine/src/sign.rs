//! `ward image sign` and `ward image verify`: cosign keyed signatures in
//! the registry (the `sha256-<hex>.sig` tag of the image's repository),
//! made and checked by ward-trust.

use std::path::Path;

use ward_image::{Digest, Reference};
use ward_policy::Policy;
use ward_registry::Config;
use ward_trust::{Admitted, PrivateKey, PublicKey};

use crate::access::{
    check_trust, client_for, existing_signatures, fetch_payload, resolve_digest, resolve_reference,
    PullError,
};

/// A signature pushed to the registry.
#[derive(Debug)]
pub struct Signed {
    /// `registry/repository`, as signed.
    pub repository: String,
    pub digest: Digest,
    /// The signature tag (`sha256-<hex>.sig`).
    pub tag: String,
}

/// Signs the image `image` names (its digest now) with `key` and adds the
/// signature to its signature manifest in the registry (cosign appends the
/// same way; signatures already there are kept).
pub fn sign_image(
    policy: &Policy,
    config: &Config,
    image: &str,
    key: &PrivateKey,
) -> Result<Signed, PullError> {
    let reference = resolve_reference(policy, image)?;
    let client = client_for(policy, reference.registry(), config)?;
    let digest = resolve_digest(&client, &reference)?;
    let repository = reference.name();
    let payload = ward_trust::payload_for(&repository, &digest.to_string());
    let layer = ward_trust::sign(payload, key);
    let tag = ward_trust::signature_tag(&digest.to_string()).map_err(PullError::Reference)?;
    let existing = existing_signatures(&client, reference.repository(), &tag)?;
    let manifest = ward_trust::signature_manifest(existing.as_deref(), &layer)
        .map_err(|e| PullError::Reference(format!("{repository}:{tag}: {e}")))?;
    for (blob, data) in &manifest.blobs {
        client.push_blob(reference.repository(), blob, data)?;
    }
    client.put_manifest(
        reference.repository(),
        &tag,
        &manifest.manifest,
        manifest.media_type,
    )?;
    Ok(Signed {
        repository,
        digest,
        tag,
    })
}

/// What `ward image verify` found.
#[derive(Debug)]
pub struct Verification {
    pub reference: Reference,
    pub digest: Digest,
    /// The key that verified the signature (None: the policy takes the
    /// image unsigned).
    pub key: Option<String>,
    /// The policy scope that decided (None with `--key`).
    pub scope: Option<String>,
}

/// Checks the image `image` names in its registry: against the keys of
/// its policy scope, or against `key` alone when given.
pub fn verify_image(
    policy: &Policy,
    config: &Config,
    image: &str,
    key: Option<&Path>,
) -> Result<Verification, PullError> {
    let reference = resolve_reference(policy, image)?;
    let client = client_for(policy, reference.registry(), config)?;
    let digest = resolve_digest(&client, &reference)?;
    let Some(key) = key else {
        let Admitted { scope, signature } = check_trust(policy, &client, &reference, &digest)?;
        return Ok(Verification {
            reference,
            digest,
            key: signature.map(|v| v.key),
            scope: Some(scope),
        });
    };
    let public = PublicKey::load(key)
        .map_err(|e| PullError::Reference(format!("--key {}: {e}", key.display())))?;
    let tag = ward_trust::signature_tag(&digest.to_string()).map_err(PullError::Reference)?;
    let bad = |why: String| PullError::Reference(format!("{reference} ({digest}): {why}"));
    let manifest = existing_signatures(&client, reference.repository(), &tag)?
        .ok_or_else(|| bad(format!("no signature (no tag {tag})")))?;
    let verified = ward_trust::verify(
        &manifest,
        |blob, size| fetch_payload(&client, reference.repository(), blob, size),
        &[public],
        &digest.to_string(),
        &reference.name(),
    )
    .map_err(|r| bad(r.to_string()))?;
    Ok(Verification {
        reference,
        digest,
        key: Some(verified.key),
        scope: None,
    })
}

//! `ward image pull REGISTRY/REPO:TAG`: the trust policy first, then the
//! registry, then the store.
//!
//! Order, and the threat each step answers:
//! 1. The policy's scope for the image: a registry the policy does not
//!    allow is never contacted (no credentials sent, nothing downloaded).
//! 2. The manifest (or index) the tag names, as exact bytes; its digest is
//!    computed here, not taken from the registry's header.
//! 3. The signature check of that digest (cosign keyed format, the keys of
//!    the scope), before any layer is fetched: an unsigned or wrongly
//!    signed image never reaches the disk.
//! 4. The pull by that digest, not by the tag: a tag moved in between
//!    (or a registry serving different bytes twice) cannot swap the image
//!    that was verified. The store verifies every blob while writing it.

use ward_image::{ImageRecord, Platform, PullOptions, Reference, Store};
use ward_policy::Policy;
use ward_registry::Config;
use ward_trust::{Admitted, Found, Requirement};

use crate::access::{check_trust, client_for, resolve_digest, resolve_reference, PullError};
use crate::registry_source::RegistrySource;

/// How to reach registries and what to take.
pub struct RegistryPull<'a> {
    pub policy: &'a Policy,
    /// certs.d directories, credentials, user agent; the insecure
    /// registries come from the policy, not from here.
    pub registry: &'a Config,
    /// The platform of a multi-platform image [default: the host's].
    pub platform: Option<Platform>,
    /// Keep the layers' setuid/setgid bits and file capabilities.
    pub keep_setid: bool,
}

/// An image in the store, and why the policy took it.
#[derive(Debug)]
pub struct Pulled {
    pub record: ImageRecord,
    pub admitted: Admitted,
}

/// Refuses now what the policy refuses whatever the image's signatures.
fn refuse_early(policy: &Policy, reference: &Reference) -> Result<(), PullError> {
    let req = ward_trust::requirement(policy, reference.registry(), reference.repository());
    if let Ok(req @ Requirement::Refused { .. }) = req {
        ward_trust::admit(policy, &reference.to_string(), &req, Found::Nothing)?;
    }
    // A key error is reported by the full check, with its fix.
    Ok(())
}

/// Pulls `image` from its registry into `store` under the trust policy.
pub fn pull_from_registry(
    store: &Store,
    image: &str,
    opts: &RegistryPull<'_>,
) -> Result<Pulled, PullError> {
    let reference = resolve_reference(opts.policy, image)?;
    refuse_early(opts.policy, &reference)?;
    let client = client_for(opts.policy, reference.registry(), opts.registry)?;
    let digest = resolve_digest(&client, &reference)?;
    let admitted = check_trust(opts.policy, &client, &reference, &digest)?;
    let mut source = RegistrySource::new(&client, reference.repository());
    let record = ward_image::pull(
        store,
        &mut source,
        &PullOptions {
            name: &reference,
            tag_or_digest: &digest.to_string(),
            platform: opts.platform.clone(),
            keep_setid: opts.keep_setid,
        },
    )?;
    Ok(Pulled { record, admitted })
}

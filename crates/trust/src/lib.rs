//! ward's image trust: signatures in the sigstore/cosign keyed format
//! (simple-signing JSON payload, ECDSA P-256, stored in the registry as the
//! `sha256-<hex>.sig` tag), keys, and the `[images]` trust policy of ward's
//! policy file. Pure: bytes in, decisions out; the registry client fetches.

#![forbid(unsafe_code)]

pub mod containers_policy;
pub mod cosign_key;
pub mod keys;

pub use keys::{KeyError, PrivateKey, PublicKey};
pub mod payload;
pub mod signature;

pub use payload::{normalize_repository, payload_for};
pub use signature::{
    sign, signature_manifest, signature_tag, verify, Refusal, SignatureLayer, SignatureManifest,
    Verified,
};
pub mod policy;

pub use policy::{
    admit, check_image, requirement, short_name_registry, Admitted, Found, ImageRefusal,
    PolicyKeyError, Requirement,
};

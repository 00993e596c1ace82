//! Signatures in the registry, as cosign stores them: an OCI image manifest
//! tagged `sha256-<hex>.sig` in the image's repository, one layer per
//! signature whose blob is the simple-signing payload
//! (`application/vnd.dev.cosign.simplesigning.v1+json`) and whose annotation
//! `dev.cosignproject.cosign/signature` is the base64 DER ECDSA P-256
//! signature over SHA-256 of that payload. More layers = more signatures
//! (cosign appends); one valid signature is enough (containers/image's
//! `sigstoreSigned`).

use std::fmt;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::Signature;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::keys::{PrivateKey, PublicKey};
use crate::payload::{self, is_sha256_digest, join_repository, normalize_repository};

pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const OCI_MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// containers/image's `iolimits.MaxManifestBodySize`.
pub const MAX_MANIFEST: usize = 4 << 20;
/// A payload is a few hundred bytes (containers/image allows 4 MiB for a
/// signature body; ward needs no more than this for cosign's annotations).
pub const MAX_PAYLOAD: u64 = 64 << 10;
/// Signatures examined per image: each costs a blob fetch and a
/// verification, so a registry cannot make ward fetch without end.
pub const MAX_SIGNATURES: usize = 64;

/// One signature: the payload blob and the base64 signature annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureLayer {
    pub payload: Vec<u8>,
    pub signature_base64: String,
}

impl SignatureLayer {
    /// `sha256:<hex>` of the payload blob.
    pub fn payload_digest(&self) -> String {
        sha256_digest(&self.payload)
    }

    fn descriptor(&self) -> Value {
        json!({
            "mediaType": PAYLOAD_MEDIA_TYPE,
            "size": self.payload.len(),
            "digest": self.payload_digest(),
            "annotations": { SIGNATURE_ANNOTATION: self.signature_base64 },
        })
    }
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Signs `payload` (from [`payload::payload_for`]): ECDSA P-256 over SHA-256,
/// DER, base64 — what `openssl dgst -sha256 -sign` makes, base64-encoded.
pub fn sign(payload: Vec<u8>, key: &PrivateKey) -> SignatureLayer {
    let sig: Signature = key.key.sign(&payload);
    SignatureLayer {
        signature_base64: BASE64.encode(sig.to_der().as_bytes()),
        payload,
    }
}

/// The tag holding the signatures of the image with `manifest_digest`:
/// `sha256-<hex>.sig`.
pub fn signature_tag(manifest_digest: &str) -> Result<String, String> {
    if !is_sha256_digest(manifest_digest) {
        return Err(format!(
            "{manifest_digest:?} is not a sha256 digest (sha256: and 64 lowercase hex digits)"
        ));
    }
    Ok(format!("{}.sig", manifest_digest.replacen(':', "-", 1)))
}

/// What to push for a signature manifest: push `blobs` (digest, bytes;
/// the config and the new payload), then `manifest` under the tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureManifest {
    pub manifest: Vec<u8>,
    pub media_type: &'static str,
    pub blobs: Vec<(String, Vec<u8>)>,
}

/// The signature manifest with `layer` added to the `existing` one (the
/// manifest now under the tag, if any; its layers are kept as they are,
/// with their annotations). Adding a signature that is already there
/// changes nothing.
pub fn signature_manifest(
    existing: Option<&[u8]>,
    layer: &SignatureLayer,
) -> Result<SignatureManifest, String> {
    let mut layers: Vec<Value> = match existing {
        None => Vec::new(),
        Some(bytes) => {
            let m = parse_manifest(bytes)?;
            m.get("layers")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        }
    };
    let new = layer.descriptor();
    if !layers.contains(&new) {
        layers.push(new);
    }
    let diff_ids: Vec<Value> = layers
        .iter()
        .map(|l| l.get("digest").cloned().unwrap_or(Value::Null))
        .collect();
    // cosign's config: an empty image whose rootfs lists the payloads.
    let config = serde_json::to_vec(&json!({
        "architecture": "",
        "config": {},
        "created": "0001-01-01T00:00:00Z",
        "history": diff_ids.iter().map(|_| json!({"created": "0001-01-01T00:00:00Z"})).collect::<Vec<_>>(),
        "os": "",
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    }))
    .map_err(|e| e.to_string())?;
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST_MEDIA_TYPE,
        "config": {
            "mediaType": OCI_CONFIG_MEDIA_TYPE,
            "size": config.len(),
            "digest": sha256_digest(&config),
        },
        "layers": layers,
    }))
    .map_err(|e| e.to_string())?;
    Ok(SignatureManifest {
        manifest,
        media_type: OCI_MANIFEST_MEDIA_TYPE,
        blobs: vec![
            (sha256_digest(&config), config),
            (layer.payload_digest(), layer.payload.clone()),
        ],
    })
}

fn parse_manifest(bytes: &[u8]) -> Result<Value, String> {
    if bytes.len() > MAX_MANIFEST {
        return Err(format!(
            "the signature manifest is {} bytes, over the {MAX_MANIFEST}-byte limit",
            bytes.len()
        ));
    }
    let m: Value = serde_json::from_slice(bytes)
        .map_err(|e| format!("the signature manifest is not JSON: {e}"))?;
    if m.get("schemaVersion") != Some(&json!(2)) {
        return Err("the signature manifest is not an image manifest (schemaVersion 2)".into());
    }
    if !m.get("layers").is_some_and(Value::is_array) {
        return Err("the signature manifest has no layers list".into());
    }
    Ok(m)
}

#[derive(Deserialize, Serialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default)]
    annotations: std::collections::BTreeMap<String, String>,
}

/// A signature that passed every check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The key that verified it (its file and fingerprint).
    pub key: String,
    /// The signed `docker-reference`, as written in the payload.
    pub signed_reference: String,
    /// 1-based position of the layer in the signature manifest.
    pub layer: usize,
}

/// No signature passed: what failed for each one examined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub problems: Vec<String>,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.problems.as_slice() {
            [] => f.write_str("no signature"),
            [one] => f.write_str(one),
            many => write!(f, "no valid signature: {}", many.join("; ")),
        }
    }
}

impl Refusal {
    fn one(problem: String) -> Refusal {
        Refusal {
            problems: vec![problem],
        }
    }
}

/// Verifies the signatures in a signature manifest (the bytes under the
/// tag [`signature_tag`]) for the image `expected_digest` in
/// `expected_repository` (`HOST/PATH`). `fetch_blob(digest, size)` gets a
/// payload blob from the same repository (it may stop reading past
/// `size`; ward checks length and digest again). Accepts when one
/// signature passes every check:
/// its payload blob matches its descriptor (digest and size, at most
/// [`MAX_PAYLOAD`]); its signature verifies with one of `keys` (checked
/// before the payload is parsed, so unsigned JSON is never interpreted);
/// the payload is a strict simple-signing document of cosign's type; its
/// `docker-manifest-digest` is `expected_digest`; its `docker-reference`
/// names `expected_repository` (tag or digest ignored).
pub fn verify(
    sig_manifest: &[u8],
    mut fetch_blob: impl FnMut(&str, u64) -> Result<Vec<u8>, String>,
    keys: &[PublicKey],
    expected_digest: &str,
    expected_repository: &str,
) -> Result<Verified, Refusal> {
    if keys.is_empty() {
        return Err(Refusal::one("no public key to verify with".into()));
    }
    if !is_sha256_digest(expected_digest) {
        return Err(Refusal::one(format!(
            "the image digest {expected_digest:?} is not a sha256 digest"
        )));
    }
    let expected_repository = expected_repository
        .split_once('/')
        .ok_or_else(|| format!("{expected_repository:?} is not HOST/REPOSITORY"))
        .and_then(|(host, path)| join_repository(host, path))
        .map_err(Refusal::one)?;
    let manifest = parse_manifest(sig_manifest).map_err(Refusal::one)?;
    let layers = manifest
        .get("layers")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if layers.is_empty() {
        return Err(Refusal::one(
            "the signature manifest holds no signature".into(),
        ));
    }
    let mut problems = Vec::new();
    for (i, layer) in layers.iter().enumerate().take(MAX_SIGNATURES) {
        let n = i + 1;
        match check_layer(
            layer,
            &mut fetch_blob,
            keys,
            expected_digest,
            &expected_repository,
        ) {
            Ok((key, signed_reference)) => {
                return Ok(Verified {
                    key,
                    signed_reference,
                    layer: n,
                })
            }
            Err(p) => problems.push(format!("signature {n}: {p}")),
        }
    }
    if layers.len() > MAX_SIGNATURES {
        problems.push(format!(
            "{} more signatures not examined (at most {MAX_SIGNATURES})",
            layers.len() - MAX_SIGNATURES
        ));
    }
    Err(Refusal { problems })
}

fn check_layer(
    layer: &Value,
    fetch_blob: &mut impl FnMut(&str, u64) -> Result<Vec<u8>, String>,
    keys: &[PublicKey],
    expected_digest: &str,
    expected_repository: &str,
) -> Result<(String, String), String> {
    let d: Descriptor = serde_json::from_value(layer.clone())
        .map_err(|e| format!("not a layer descriptor: {e}"))?;
    if d.media_type != PAYLOAD_MEDIA_TYPE {
        return Err(format!(
            "media type {:?} is not a simple-signing payload ({PAYLOAD_MEDIA_TYPE})",
            d.media_type
        ));
    }
    let sig_b64 = d.annotations.get(SIGNATURE_ANNOTATION).ok_or_else(|| {
        format!("no {SIGNATURE_ANNOTATION} annotation (a keyless or unsigned attachment)")
    })?;
    if !is_sha256_digest(&d.digest) {
        return Err(format!(
            "payload digest {:?} is not a sha256 digest",
            d.digest
        ));
    }
    if d.size > MAX_PAYLOAD {
        return Err(format!(
            "payload of {} bytes, over the {MAX_PAYLOAD}-byte limit",
            d.size
        ));
    }
    let payload = fetch_blob(&d.digest, d.size)
        .map_err(|e| format!("cannot fetch the payload {}: {e}", d.digest))?;
    if payload.len() as u64 != d.size || sha256_digest(&payload) != d.digest {
        return Err(format!(
            "the payload blob does not match its descriptor (digest {}, {} bytes): tampered or corrupt",
            d.digest, d.size
        ));
    }
    let der = BASE64
        .decode(sig_b64.trim())
        .map_err(|e| format!("the signature annotation is not valid base64: {e}"))?;
    let sig = Signature::from_der(&der)
        .map_err(|_| "the signature is not a DER ECDSA P-256 signature".to_string())?;
    let key = keys
        .iter()
        .find(|k| k.key.verify(&payload, &sig).is_ok())
        .ok_or_else(|| {
            format!(
                "the signature does not verify with the key{} {} (wrong key, or the payload was altered)",
                if keys.len() == 1 { "" } else { "s" },
                keys.iter()
                    .map(|k| format!("{} ({})", k.origin, k.fingerprint()))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
    let claims = payload::parse(&payload)?;
    if claims.manifest_digest != expected_digest {
        return Err(format!(
            "signed for the image {}, not {expected_digest}",
            claims.manifest_digest
        ));
    }
    let signed_repo = normalize_repository(&claims.docker_reference)
        .map_err(|e| format!("the signed docker-reference: {e}"))?;
    if signed_repo != expected_repository {
        return Err(format!(
            "signed for the repository {signed_repo}, not {expected_repository}"
        ));
    }
    Ok((
        format!("{} ({})", key.origin, key.fingerprint()),
        claims.docker_reference,
    ))
}

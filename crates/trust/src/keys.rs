//! Keys: ECDSA P-256 only (what cosign's keyed mode and containers-policy's
//! `sigstoreSigned` use). Public keys as PEM PKIX (`BEGIN PUBLIC KEY`, what
//! `openssl ec -pubout` and `cosign generate-key-pair` write); private keys
//! as PEM PKCS#8 (`BEGIN PRIVATE KEY`, `openssl genpkey`) or SEC1
//! (`BEGIN EC PRIVATE KEY`, `openssl ecparam -genkey`).

use std::fmt;
use std::path::Path;

use p256::ecdsa::{SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use sha2::{Digest, Sha256};
use spki::der::asn1::ObjectIdentifier;
use spki::der::Decode;
use spki::SubjectPublicKeyInfoRef;

use crate::cosign_key;

/// A key file is a few hundred bytes; anything much larger is not a key.
const MAX_KEY_FILE: u64 = 64 * 1024;

const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const ALGORITHMS: &[(&str, &str)] = &[
    ("1.2.840.10045.3.1.7", "ECDSA P-256"),
    ("1.3.132.0.34", "ECDSA P-384"),
    ("1.3.132.0.35", "ECDSA P-521"),
    ("1.3.132.0.10", "ECDSA secp256k1"),
    ("1.2.840.113549.1.1.1", "RSA"),
    ("1.2.840.113549.1.1.10", "RSA-PSS"),
    ("1.3.101.112", "Ed25519"),
    ("1.3.101.113", "Ed448"),
    ("1.2.840.10040.4.1", "DSA"),
];

/// Why a key was not usable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError(pub String);

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeyError {}

/// A public key that verifies signatures.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    pub(crate) key: VerifyingKey,
    /// Where it came from (a file name), for messages.
    pub origin: String,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}, {})", self.origin, self.fingerprint())
    }
}

/// Names the algorithm of a PKIX key for a refusal ("RSA", "ECDSA P-384").
fn algorithm_name(spki: &SubjectPublicKeyInfoRef<'_>) -> String {
    let oid = if spki.algorithm.oid == ID_EC_PUBLIC_KEY {
        match spki.algorithm.parameters_oid() {
            Ok(curve) => curve,
            Err(_) => return "ECDSA with an unnamed curve".into(),
        }
    } else {
        spki.algorithm.oid
    };
    let dotted = oid.to_string();
    ALGORITHMS
        .iter()
        .find(|(o, _)| *o == dotted)
        .map_or_else(|| format!("algorithm {dotted}"), |(_, n)| n.to_string())
}

impl PublicKey {
    /// Parses a PEM PKIX public key; `origin` names it in errors.
    pub fn from_pem(pem: &str, origin: &str) -> Result<PublicKey, KeyError> {
        let der = match pem_block(pem, &["PUBLIC KEY"]) {
            Some(d) => d,
            None => {
                return Err(KeyError(format!(
                    "{origin}: not a PEM public key (expected \"-----BEGIN PUBLIC KEY-----\", as `openssl ec -pubout` or `ward trust keygen` write)"
                )))
            }
        };
        let info = SubjectPublicKeyInfoRef::from_der(&der)
            .map_err(|e| KeyError(format!("{origin}: not a PKIX public key: {e}")))?;
        let name = algorithm_name(&info);
        if name != "ECDSA P-256" {
            return Err(KeyError(format!(
                "{origin}: the key is {name}; ward verifies ECDSA P-256 keys only (cosign's and containers-policy's sigstoreSigned keyed format)"
            )));
        }
        let key = VerifyingKey::from_public_key_der(&der)
            .map_err(|e| KeyError(format!("{origin}: not a valid ECDSA P-256 public key: {e}")))?;
        Ok(PublicKey {
            key,
            origin: origin.to_string(),
        })
    }

    /// Reads a PEM public key file.
    pub fn load(path: &Path) -> Result<PublicKey, KeyError> {
        let text = read_small(path)?;
        PublicKey::from_pem(&text, &path.display().to_string())
    }

    /// The PEM PKIX text.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| KeyError(format!("cannot encode the public key: {e}")))
    }

    /// `sha256:` of the DER PKIX encoding (what `openssl pkey -pubin
    /// -outform DER | sha256sum` prints), to name a key in messages.
    pub fn fingerprint(&self) -> String {
        match self.key.to_public_key_der() {
            Ok(der) => format!("sha256:{:x}", Sha256::digest(der.as_bytes())),
            Err(_) => "sha256:?".into(),
        }
    }
}

/// A private key that signs.
#[derive(Clone)]
pub struct PrivateKey {
    pub(crate) key: SigningKey,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the secret.
        write!(f, "PrivateKey({})", self.public("").fingerprint())
    }
}

impl PrivateKey {
    /// A fresh key from the OS random source.
    pub fn generate() -> PrivateKey {
        PrivateKey {
            key: SigningKey::random(&mut rand_core::OsRng),
        }
    }

    /// Parses a PEM PKCS#8 (`BEGIN PRIVATE KEY`) or SEC1 (`BEGIN EC
    /// PRIVATE KEY`) P-256 private key.
    pub fn from_pem(pem: &str, origin: &str) -> Result<PrivateKey, KeyError> {
        PrivateKey::from_pem_with_password(pem, origin, None)
    }

    /// Like [`PrivateKey::from_pem`], and also cosign's encrypted keys
    /// (`BEGIN ENCRYPTED SIGSTORE PRIVATE KEY`), opened with `password`.
    pub fn from_pem_with_password(
        pem: &str,
        origin: &str,
        password: Option<&[u8]>,
    ) -> Result<PrivateKey, KeyError> {
        if let Some(json) = pem_block(pem, &[cosign_key::LABEL, cosign_key::OLD_LABEL]) {
            let Some(password) = password else {
                return Err(KeyError(format!(
                    "{origin}: a cosign encrypted key; it needs its password (COSIGN_PASSWORD)"
                )));
            };
            let der = cosign_key::open(&json, password, origin).map_err(KeyError)?;
            return PrivateKey::from_pkcs8_der(&der, origin);
        }
        if let Some(der) = pem_block(pem, &["PRIVATE KEY"]) {
            return PrivateKey::from_pkcs8_der(&der, origin);
        }
        if let Some(der) = pem_block(pem, &["EC PRIVATE KEY"]) {
            let secret = p256::SecretKey::from_sec1_der(&der)
                .map_err(|e| KeyError(format!("{origin}: not a P-256 SEC1 private key: {e}")))?;
            return Ok(PrivateKey {
                key: SigningKey::from(secret),
            });
        }
        if pem.contains("ENCRYPTED") {
            return Err(KeyError(format!(
                "{origin}: an encrypted private key; ward reads unencrypted PKCS#8 keys and cosign's encrypted keys (decrypt it: `openssl pkey -in KEY -out PLAIN.key`)"
            )));
        }
        Err(KeyError(format!(
            "{origin}: not a PEM private key (expected \"-----BEGIN PRIVATE KEY-----\", as `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256` or `ward trust keygen` write)"
        )))
    }

    fn from_pkcs8_der(der: &[u8], origin: &str) -> Result<PrivateKey, KeyError> {
        let info = p256::pkcs8::PrivateKeyInfo::from_der(der)
            .map_err(|e| KeyError(format!("{origin}: not a PKCS#8 private key: {e}")))?;
        let spki_like = SubjectPublicKeyInfoRef {
            algorithm: info.algorithm,
            subject_public_key: spki::der::asn1::BitStringRef::from_bytes(&[])
                .map_err(|e| KeyError(format!("{origin}: {e}")))?,
        };
        let name = algorithm_name(&spki_like);
        if name != "ECDSA P-256" {
            return Err(KeyError(format!(
                "{origin}: the key is {name}; ward signs with ECDSA P-256 keys only"
            )));
        }
        let key = SigningKey::from_pkcs8_der(der)
            .map_err(|e| KeyError(format!("{origin}: not a valid P-256 private key: {e}")))?;
        Ok(PrivateKey { key })
    }

    /// Reads a private key file; `password` opens a cosign encrypted key.
    pub fn load_with_password(
        path: &Path,
        password: Option<&[u8]>,
    ) -> Result<PrivateKey, KeyError> {
        let text = read_small(path)?;
        PrivateKey::from_pem_with_password(&text, &path.display().to_string(), password)
    }

    /// cosign's encrypted PEM (`ENCRYPTED SIGSTORE PRIVATE KEY`), which
    /// `cosign sign --key` and skopeo's `--sign-by-sigstore-private-key`
    /// read (scrypt N=65536: about a quarter of a second and 64 MiB).
    pub fn to_cosign_pem(&self, password: &[u8]) -> Result<String, KeyError> {
        let der = self
            .key
            .to_pkcs8_der()
            .map_err(|e| KeyError(format!("cannot encode the private key: {e}")))?;
        let json = cosign_key::seal(der.as_bytes(), password).map_err(KeyError)?;
        spki::der::pem::encode_string(cosign_key::LABEL, LineEnding::LF, &json)
            .map_err(|e| KeyError(format!("cannot encode the key: {e}")))
    }

    /// Reads a PEM private key file.
    pub fn load(path: &Path) -> Result<PrivateKey, KeyError> {
        let text = read_small(path)?;
        PrivateKey::from_pem(&text, &path.display().to_string())
    }

    /// The PEM PKCS#8 text (unencrypted: protect the file, mode 0600).
    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|s| s.to_string())
            .map_err(|e| KeyError(format!("cannot encode the private key: {e}")))
    }

    /// The matching public key.
    pub fn public(&self, origin: &str) -> PublicKey {
        PublicKey {
            key: *self.key.verifying_key(),
            origin: origin.to_string(),
        }
    }
}

/// The DER body of the first PEM block whose label is one of `labels`.
fn pem_block(text: &str, labels: &[&str]) -> Option<Vec<u8>> {
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let block = &rest[start..];
        let label_end = block[11..].find("-----")? + 11;
        let label = &block[11..label_end];
        let end_marker = format!("-----END {label}-----");
        let end = block.find(&end_marker)? + end_marker.len();
        if labels.contains(&label) {
            let (_, der) = pem_decode(&block[..end])?;
            return Some(der);
        }
        rest = &block[end..];
    }
    None
}

fn pem_decode(block: &str) -> Option<(String, Vec<u8>)> {
    let (label, der) = spki::der::pem::decode_vec(block.as_bytes()).ok()?;
    Some((label.to_string(), der))
}

fn read_small(path: &Path) -> Result<String, KeyError> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| KeyError(format!("cannot read {}: {e}", path.display())))?;
    let mut text = String::new();
    file.take(MAX_KEY_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| KeyError(format!("cannot read {}: {e}", path.display())))?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(KeyError(format!(
            "{}: over {MAX_KEY_FILE} bytes, not a key",
            path.display()
        )));
    }
    Ok(text)
}

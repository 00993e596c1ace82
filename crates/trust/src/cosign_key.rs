//! cosign's encrypted private key (`-----BEGIN ENCRYPTED SIGSTORE PRIVATE
//! KEY-----`, formerly `ENCRYPTED COSIGN PRIVATE KEY`), what `cosign
//! generate-key-pair` writes and skopeo's `--sign-by-sigstore-private-key`
//! reads: the PEM body is JSON
//! `{"kdf":{"name":"scrypt","params":{"N":…,"r":8,"p":1},"salt":B64},
//! "cipher":{"name":"nacl/secretbox","nonce":B64},"ciphertext":B64}`
//! (go-securesystemslib's `encrypted` format); the secretbox key is scrypt
//! of the password (32 bytes), the plaintext the PKCS#8 DER private key.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::XSalsa20Poly1305;
use rand_core::RngCore;
use serde::{Deserialize, Serialize};

pub const LABEL: &str = "ENCRYPTED SIGSTORE PRIVATE KEY";
pub const OLD_LABEL: &str = "ENCRYPTED COSIGN PRIVATE KEY";

/// The scrypt cost ward writes (cosign's current one).
const WRITE_N: u32 = 65536;
/// The costs accepted on reading (cosign's old and current): a file
/// must not make ward spend unbounded memory and time (N=2^20 with r=8 is
/// 1 GiB).
const ACCEPTED_N: [u32; 2] = [32768, 65536];

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u32,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kdf {
    name: String,
    params: ScryptParams,
    salt: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cipher {
    name: String,
    nonce: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sealed {
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

fn box_key(password: &[u8], salt: &[u8], n: u32) -> Result<[u8; 32], String> {
    let log_n = n.trailing_zeros() as u8;
    let params =
        scrypt::Params::new(log_n, 8, 1, 32).map_err(|e| format!("scrypt parameters: {e}"))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password, salt, &params, &mut key).map_err(|e| format!("scrypt: {e}"))?;
    Ok(key)
}

/// Decrypts the JSON body of a cosign key to the PKCS#8 DER it holds.
pub fn open(json: &[u8], password: &[u8], origin: &str) -> Result<Vec<u8>, String> {
    let bad = |why: String| format!("{origin}: not a cosign encrypted key: {why}");
    let s: Sealed = serde_json::from_slice(json).map_err(|e| bad(e.to_string()))?;
    if s.kdf.name != "scrypt" || s.cipher.name != "nacl/secretbox" {
        return Err(bad(format!(
            "kdf {:?} and cipher {:?} (expected scrypt and nacl/secretbox)",
            s.kdf.name, s.cipher.name
        )));
    }
    let p = &s.kdf.params;
    if !ACCEPTED_N.contains(&p.n) || p.r != 8 || p.p != 1 {
        return Err(bad(format!(
            "scrypt N={} r={} p={} (cosign writes N=32768 or 65536, r=8, p=1)",
            p.n, p.r, p.p
        )));
    }
    let salt = BASE64
        .decode(&s.kdf.salt)
        .map_err(|e| bad(format!("salt: {e}")))?;
    let nonce = BASE64
        .decode(&s.cipher.nonce)
        .map_err(|e| bad(format!("nonce: {e}")))?;
    let sealed = BASE64
        .decode(&s.ciphertext)
        .map_err(|e| bad(format!("ciphertext: {e}")))?;
    let nonce: [u8; 24] = nonce
        .as_slice()
        .try_into()
        .map_err(|_| bad(format!("a nonce of {} bytes, not 24", nonce.len())))?;
    let key = box_key(password, &salt, p.n)?;
    XSalsa20Poly1305::new(&key.into())
        .decrypt(&nonce.into(), sealed.as_slice())
        .map_err(|_| format!("{origin}: wrong password (or a corrupt key file)"))
}

/// Encrypts PKCS#8 DER with `password` as cosign does; returns the JSON
/// body of the PEM block.
pub fn seal(pkcs8_der: &[u8], password: &[u8]) -> Result<Vec<u8>, String> {
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    rand_core::OsRng.fill_bytes(&mut salt);
    rand_core::OsRng.fill_bytes(&mut nonce);
    let key = box_key(password, &salt, WRITE_N)?;
    let sealed = XSalsa20Poly1305::new(&key.into())
        .encrypt(&nonce.into(), pkcs8_der)
        .map_err(|_| "cannot encrypt the key".to_string())?;
    serde_json::to_vec(&Sealed {
        kdf: Kdf {
            name: "scrypt".into(),
            params: ScryptParams {
                n: WRITE_N,
                r: 8,
                p: 1,
            },
            salt: BASE64.encode(salt),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: BASE64.encode(nonce),
        },
        ciphertext: BASE64.encode(sealed),
    })
    .map_err(|e| format!("cannot encode the key: {e}"))
}

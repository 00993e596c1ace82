//! Cross-checks against an independent implementation, openssl 3 (issue
//! 17, acceptance 1; Debian's skopeo and podman are built without
//! sigstore): openssl makes keys and signs, ward verifies; ward makes keys
//! and signs, openssl verifies. Every refusal names what failed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine;
use ward_trust::signature::{sha256_digest, PAYLOAD_MEDIA_TYPE, SIGNATURE_ANNOTATION};
use ward_trust::{
    payload_for, sign, signature_manifest, signature_tag, verify, PrivateKey, PublicKey,
    SignatureLayer,
};

const REPO: &str = "registry.example:5000/app";

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("ward-trust-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        TempDir(d)
    }
    fn path(&self, f: &str) -> PathBuf {
        self.0.join(f)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn openssl(args: &[&str]) -> std::process::Output {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    out
}

fn openssl_ok(args: &[&str]) {
    let out = openssl(args);
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn digest(n: u8) -> String {
    format!("sha256:{}", format!("{n:02x}").repeat(32))
}

/// An openssl P-256 key pair (PKCS#8 private key, PKIX public key).
fn openssl_key(dir: &TempDir, name: &str, algorithm: &[&str]) -> (PathBuf, PathBuf) {
    let key = dir.path(&format!("{name}.key"));
    let public = dir.path(&format!("{name}.pub"));
    let mut args = vec!["genpkey"];
    args.extend_from_slice(algorithm);
    args.extend_from_slice(&["-out", s(&key)]);
    openssl_ok(&args);
    openssl_ok(&["pkey", "-in", s(&key), "-pubout", "-out", s(&public)]);
    (key, public)
}

const P256: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// openssl signs `payload` with `key`: the signature layer cosign would push.
fn openssl_sign(dir: &TempDir, key: &Path, payload: &[u8]) -> SignatureLayer {
    let p = dir.path("payload.json");
    let sig = dir.path("sig.der");
    std::fs::write(&p, payload).expect("write payload");
    openssl_ok(&["dgst", "-sha256", "-sign", s(key), "-out", s(&sig), s(&p)]);
    SignatureLayer {
        payload: payload.to_vec(),
        signature_base64: base64::engine::general_purpose::STANDARD
            .encode(std::fs::read(&sig).expect("sig")),
    }
}

/// The registry side: a signature manifest and its blobs.
struct Registry {
    manifest: Vec<u8>,
    blobs: HashMap<String, Vec<u8>>,
}

impl Registry {
    fn with(layers: &[SignatureLayer]) -> Registry {
        let mut manifest: Option<Vec<u8>> = None;
        let mut blobs = HashMap::new();
        for l in layers {
            let m = signature_manifest(manifest.as_deref(), l).expect("manifest");
            blobs.extend(m.blobs);
            manifest = Some(m.manifest);
        }
        Registry {
            manifest: manifest.expect("a layer"),
            blobs,
        }
    }

    fn verify(&self, keys: &[PublicKey], image: &str, repo: &str) -> Result<String, String> {
        verify(
            &self.manifest,
            |d, _| self.blobs.get(d).cloned().ok_or_else(|| "not found".into()),
            keys,
            image,
            repo,
        )
        .map(|v| v.key)
        .map_err(|r| r.to_string())
    }
}

#[test]
fn ward_verifies_what_openssl_signed() {
    let dir = TempDir::new("openssl-signs");
    let (key, public) = openssl_key(&dir, "release", P256);
    let keys = [PublicKey::load(&public).expect("openssl's public key")];
    // Several signatures: about half of openssl's have a high S, which a
    // low-S-only verifier would refuse.
    for n in 0..8u8 {
        let reg = Registry::with(&[openssl_sign(&dir, &key, &payload_for(REPO, &digest(n)))]);
        let by = reg.verify(&keys, &digest(n), REPO).expect("verifies");
        assert!(by.contains("release.pub"), "{by}");
    }
    // ward also signs with openssl's private key.
    let private = PrivateKey::load(&key).expect("openssl's PKCS#8 key");
    let reg = Registry::with(&[sign(payload_for(REPO, &digest(1)), &private)]);
    reg.verify(&keys, &digest(1), REPO).expect("verifies");
    // And with a SEC1 key from `openssl ecparam -genkey`.
    let sec1 = dir.path("sec1.key");
    openssl_ok(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-noout",
        "-out",
        s(&sec1),
    ]);
    let private = PrivateKey::load(&sec1).expect("SEC1 key");
    let reg = Registry::with(&[sign(payload_for(REPO, &digest(1)), &private)]);
    reg.verify(&[private.public("sec1")], &digest(1), REPO)
        .expect("verifies");
}

#[test]
fn openssl_verifies_what_ward_signed() {
    let dir = TempDir::new("ward-signs");
    let private = PrivateKey::generate();
    let public = dir.path("ward.pub");
    std::fs::write(&public, private.public("").to_pem().expect("pem")).expect("write");
    let layer = sign(payload_for(REPO, &digest(7)), &private);
    let payload = dir.path("payload.json");
    let sig = dir.path("sig.der");
    std::fs::write(&payload, &layer.payload).expect("write");
    std::fs::write(
        &sig,
        base64::engine::general_purpose::STANDARD
            .decode(&layer.signature_base64)
            .expect("base64"),
    )
    .expect("write");
    let out = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        s(&public),
        "-signature",
        s(&sig),
        s(&payload),
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "Verified OK");
    assert!(out.status.success());
    // The private key ward writes is one openssl reads as P-256.
    let key = dir.path("ward.key");
    std::fs::write(&key, private.to_pem().expect("pem")).expect("write");
    let out = openssl(&["pkey", "-in", s(&key), "-noout", "-text"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("prime256v1"));
    // A payload altered after signing: openssl refuses too.
    std::fs::write(&payload, payload_for(REPO, &digest(8))).expect("write");
    let out = openssl(&[
        "dgst",
        "-sha256",
        "-verify",
        s(&public),
        "-signature",
        s(&sig),
        s(&payload),
    ]);
    assert!(!out.status.success());
}

#[test]
fn every_bad_signature_is_refused_naming_what_failed() {
    let dir = TempDir::new("refusals");
    let (key, public) = openssl_key(&dir, "release", P256);
    let (other_key, other_public) = openssl_key(&dir, "other", P256);
    let keys = [PublicKey::load(&public).expect("key")];
    let good = openssl_sign(&dir, &key, &payload_for(REPO, &digest(1)));
    Registry::with(std::slice::from_ref(&good))
        .verify(&keys, &digest(1), REPO)
        .expect("the good one verifies");

    let wrong_key = openssl_sign(&dir, &other_key, &payload_for(REPO, &digest(1)));
    let e = Registry::with(std::slice::from_ref(&wrong_key))
        .verify(&keys, &digest(1), REPO)
        .expect_err("wrong key");
    assert!(
        e.contains("does not verify with the key") && e.contains("release.pub"),
        "{e}"
    );
    // The other key's own public key accepts it.
    Registry::with(&[wrong_key])
        .verify(
            &[PublicKey::load(&other_public).expect("key")],
            &digest(1),
            REPO,
        )
        .expect("with its own key");

    let e = Registry::with(std::slice::from_ref(&good))
        .verify(&keys, &digest(2), REPO)
        .expect_err("another image");
    assert!(
        e.contains(&format!("signed for the image {}", digest(1))),
        "{e}"
    );

    let e = Registry::with(std::slice::from_ref(&good))
        .verify(&keys, &digest(1), "registry.example:5000/other")
        .expect_err("another repository");
    assert!(
        e.contains("signed for the repository registry.example:5000/app"),
        "{e}"
    );
    let e = Registry::with(std::slice::from_ref(&good))
        .verify(&keys, &digest(1), "elsewhere.example:5000/app")
        .expect_err("another registry");
    assert!(e.contains("not elsewhere.example:5000/app"), "{e}");
    // A tag or digest in the signed reference is not part of the match.
    let tagged = openssl_sign(&dir, &key, &payload_for(&format!("{REPO}:v1"), &digest(1)));
    Registry::with(&[tagged])
        .verify(&keys, &digest(1), REPO)
        .expect("repository match");

    // The payload changed after signing, with a matching descriptor (the
    // registry is compromised): the signature no longer verifies.
    let mut tampered = good.clone();
    tampered.payload = payload_for(REPO, &digest(2));
    let e = Registry::with(&[tampered])
        .verify(&keys, &digest(2), REPO)
        .expect_err("tampered");
    assert!(e.contains("does not verify"), "{e}");

    // The blob served does not match its descriptor.
    let mut reg = Registry::with(std::slice::from_ref(&good));
    for b in reg.blobs.values_mut() {
        if b == &good.payload {
            b.push(b' ');
        }
    }
    let e = reg
        .verify(&keys, &digest(1), REPO)
        .expect_err("blob mismatch");
    assert!(e.contains("does not match its descriptor"), "{e}");

    let mut bad = good.clone();
    bad.signature_base64 = "not base64!".into();
    let e = Registry::with(&[bad])
        .verify(&keys, &digest(1), REPO)
        .expect_err("base64");
    assert!(e.contains("not valid base64"), "{e}");
    let mut bad = good.clone();
    bad.signature_base64 = "AAAA".into();
    let e = Registry::with(&[bad])
        .verify(&keys, &digest(1), REPO)
        .expect_err("der");
    assert!(e.contains("not a DER ECDSA"), "{e}");

    // Signed by the right key, but not cosign's type: refused after the
    // signature verified.
    let odd = String::from_utf8(payload_for(REPO, &digest(1)))
        .expect("utf8")
        .replace(
            "cosign container image signature",
            "atomic container signature",
        );
    let e = Registry::with(&[openssl_sign(&dir, &key, odd.as_bytes())])
        .verify(&keys, &digest(1), REPO)
        .expect_err("type");
    assert!(e.contains("type is \"atomic container signature\""), "{e}");

    // One good signature among bad ones is enough; all bad lists each.
    let wrong = openssl_sign(&dir, &other_key, &payload_for(REPO, &digest(1)));
    let reg = Registry::with(&[wrong.clone(), good]);
    assert!(reg.verify(&keys, &digest(1), REPO).is_ok());
    let e = Registry::with(&[
        wrong,
        openssl_sign(&dir, &key, &payload_for(REPO, &digest(3))),
    ])
    .verify(&keys, &digest(1), REPO)
    .expect_err("none good");
    assert!(
        e.contains("signature 1: ") && e.contains("signature 2: signed for the image"),
        "{e}"
    );
}

#[test]
fn keys_other_than_p256_are_refused_by_name() {
    let dir = TempDir::new("algorithms");
    for (name, args, says) in [
        (
            "p384",
            &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"][..],
            "ECDSA P-384",
        ),
        (
            "rsa",
            &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"][..],
            "RSA",
        ),
        ("ed25519", &["-algorithm", "ED25519"][..], "Ed25519"),
    ] {
        let (key, public) = openssl_key(&dir, name, args);
        let e = PublicKey::load(&public).expect_err(name).to_string();
        assert!(
            e.contains(&format!("the key is {says}")) && e.contains(&format!("{name}.pub")),
            "{e}"
        );
        let e = PrivateKey::load(&key).expect_err(name).to_string();
        assert!(e.contains(&format!("the key is {says}")), "{e}");
    }
    let e = PublicKey::load(&dir.path("missing.pub"))
        .expect_err("missing")
        .to_string();
    assert!(
        e.contains("cannot read") && e.contains("missing.pub"),
        "{e}"
    );
    let e = PublicKey::from_pem("hello", "x.pub")
        .expect_err("garbage")
        .to_string();
    assert!(e.contains("BEGIN PUBLIC KEY"), "{e}");
    // A private key where a public key belongs is not taken for one.
    let (key, _) = openssl_key(&dir, "mixup", P256);
    let e = PublicKey::load(&key).expect_err("private").to_string();
    assert!(e.contains("not a PEM public key"), "{e}");
}

#[test]
fn signature_manifests_look_like_cosigns() {
    let private = PrivateKey::generate();
    let d = digest(9);
    assert_eq!(
        signature_tag(&d).expect("tag"),
        format!("sha256-{}.sig", "09".repeat(32))
    );
    assert!(signature_tag("sha256:12").is_err());
    let first = sign(payload_for(REPO, &d), &private);
    let m = signature_manifest(None, &first).expect("manifest");
    let v: serde_json::Value = serde_json::from_slice(&m.manifest).expect("json");
    assert_eq!(v["schemaVersion"], 2);
    assert_eq!(v["mediaType"], "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(
        v["config"]["mediaType"],
        "application/vnd.oci.image.config.v1+json"
    );
    assert_eq!(v["layers"][0]["mediaType"], PAYLOAD_MEDIA_TYPE);
    assert_eq!(v["layers"][0]["digest"], sha256_digest(&first.payload));
    assert_eq!(
        v["layers"][0]["annotations"][SIGNATURE_ANNOTATION],
        first.signature_base64.as_str()
    );
    let digests: Vec<&String> = m.blobs.iter().map(|(d, _)| d).collect();
    assert!(digests.contains(&&v["config"]["digest"].as_str().expect("d").to_string()));
    // Appending keeps the first; the same signature twice is one layer.
    let second = sign(payload_for(REPO, &d), &PrivateKey::generate());
    let m2 = signature_manifest(Some(&m.manifest), &second).expect("append");
    let m3 = signature_manifest(Some(&m2.manifest), &second).expect("again");
    assert_eq!(m2.manifest, m3.manifest);
    let v: serde_json::Value = serde_json::from_slice(&m2.manifest).expect("json");
    assert_eq!(v["layers"].as_array().map(Vec::len), Some(2));
    assert!(signature_manifest(Some(b"{}"), &second).is_err());
}

#[test]
fn limits_hold() {
    let private = PrivateKey::generate();
    let keys = [private.public("k")];
    let d = digest(4);
    let layer = sign(payload_for(REPO, &d), &private);
    // A descriptor announcing a huge payload is refused before any fetch.
    let mut m: serde_json::Value =
        serde_json::from_slice(&signature_manifest(None, &layer).expect("m").manifest)
            .expect("json");
    m["layers"][0]["size"] = serde_json::json!(1u64 << 40);
    let bytes = serde_json::to_vec(&m).expect("json");
    let e = verify(&bytes, |_, _| panic!("no fetch"), &keys, &d, REPO).expect_err("huge");
    assert!(e.to_string().contains("over the 65536-byte limit"), "{e}");
    // At most MAX_SIGNATURES layers are examined.
    m["layers"] = serde_json::Value::Array(vec![m["layers"][0].clone(); 100]);
    let bytes = serde_json::to_vec(&m).expect("json");
    let mut fetched = 0;
    let e = verify(
        &bytes,
        |_, _| {
            fetched += 1;
            Err("x".into())
        },
        &keys,
        &d,
        REPO,
    )
    .expect_err("many");
    assert!(
        e.to_string().contains("36 more signatures not examined"),
        "{e}"
    );
    assert_eq!(fetched, 0);
    // An oversized manifest is refused unread.
    let e = verify(
        &vec![b' '; 5 << 20],
        |_, _| Err("x".into()),
        &keys,
        &d,
        REPO,
    )
    .expect_err("big");
    assert!(e.to_string().contains("over the"), "{e}");
}

/// cosign's encrypted private key format: ward writes one, reads it back
/// with the password only, and the key inside is the same P-256 key (a
/// key generated by cosign 2.x, with an empty password, was also checked
/// by hand to open; cosign itself is not installed here).
#[test]
fn cosign_encrypted_keys_round_trip() {
    let dir = TempDir::new("cosign-key");
    let key = PrivateKey::generate();
    let pem = key.to_cosign_pem(b"secret").expect("seal");
    assert!(
        pem.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"),
        "{pem}"
    );
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    let json: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(body)
            .expect("base64"),
    )
    .expect("json body");
    assert_eq!(json["kdf"]["name"], "scrypt");
    assert_eq!(
        json["kdf"]["params"],
        serde_json::json!({"N": 65536, "r": 8, "p": 1})
    );
    assert_eq!(json["cipher"]["name"], "nacl/secretbox");
    let file = dir.path("cosign.key");
    std::fs::write(&file, &pem).expect("write");
    let opened = PrivateKey::load_with_password(&file, Some(b"secret")).expect("opens");
    assert_eq!(opened.public("a"), key.public("a"));
    let e = PrivateKey::load_with_password(&file, Some(b"wrong")).expect_err("wrong password");
    assert!(e.to_string().contains("wrong password"), "{e}");
    let e = PrivateKey::load(&file).expect_err("no password");
    assert!(e.to_string().contains("needs its password"), "{e}");
    // A cost beyond cosign's is refused before any scrypt work.
    let mut costly = json.clone();
    costly["kdf"]["params"]["N"] = serde_json::json!(1 << 20);
    let e = ward_trust::cosign_key::open(
        &serde_json::to_vec(&costly).expect("json"),
        b"secret",
        "costly.key",
    )
    .expect_err("costly");
    assert!(e.to_string().contains("N=1048576"), "{e}");
}

//! `ward trust keygen`: a key pair that openssl reads, mode 0600 for the
//! private key, never overwriting.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

const WARD: &str = env!("CARGO_BIN_EXE_ward");

#[test]
fn keygen_writes_a_pair_openssl_reads_and_never_overwrites() {
    let dir = std::env::temp_dir().join(format!("ward-keygen-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let prefix = dir.join("release");
    let out = Command::new(WARD)
        .args(["trust", "keygen", "--out"])
        .arg(&prefix)
        .output()
        .expect("run ward");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = dir.join("release.key");
    let public = dir.join("release.pub");
    let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = Command::new("openssl")
        .args(["pkey", "-noout", "-text", "-in"])
        .arg(&key)
        .output()
        .expect("openssl");
    assert!(text.status.success());
    assert!(String::from_utf8_lossy(&text.stdout).contains("prime256v1"));
    // The public key is the private key's.
    let derived = Command::new("openssl")
        .args(["pkey", "-pubout", "-in"])
        .arg(&key)
        .output()
        .expect("openssl");
    assert_eq!(
        String::from_utf8_lossy(&derived.stdout),
        std::fs::read_to_string(&public).expect("pub")
    );
    let before = std::fs::read(&key).expect("key");
    let again = Command::new(WARD)
        .args(["trust", "keygen", "--out"])
        .arg(&prefix)
        .output()
        .expect("run ward");
    assert_eq!(again.status.code(), Some(125));
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists; ward never overwrites"));
    assert_eq!(std::fs::read(&key).expect("key"), before);
    // An existing PREFIX.pub alone also stops it, leaving no PREFIX.key.
    std::fs::write(dir.join("other.pub"), "x").expect("write");
    let third = Command::new(WARD)
        .args(["trust", "keygen", "--out"])
        .arg(dir.join("other"))
        .output()
        .expect("run ward");
    assert!(!third.status.success());
    assert!(!dir.join("other.key").exists());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn keygen_cosign_writes_cosigns_encrypted_format() {
    let dir = std::env::temp_dir().join(format!("ward-keygen-cosign-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let prefix = dir.join("cosign");
    let unset = Command::new(WARD)
        .args(["trust", "keygen", "--cosign", "--out"])
        .arg(&prefix)
        .env_remove("COSIGN_PASSWORD")
        .output()
        .expect("run ward");
    assert!(!unset.status.success());
    assert!(String::from_utf8_lossy(&unset.stderr).contains("COSIGN_PASSWORD"));
    assert!(!dir.join("cosign.key").exists());
    let out = Command::new(WARD)
        .args(["trust", "keygen", "--cosign", "--out"])
        .arg(&prefix)
        .env("COSIGN_PASSWORD", "pw")
        .output()
        .expect("run ward");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let key = std::fs::read_to_string(dir.join("cosign.key")).expect("key");
    assert!(key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    let mode = std::fs::metadata(dir.join("cosign.key"))
        .expect("key")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let _ = std::fs::remove_dir_all(&dir);
}

//! Attacks on the store found in review: a local user reading what
//! ward pulled, and sizes a source declares to overflow the store's counts.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;

use ward_image::{Digest, Store};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o7777
}

/// Blobs hold private images (layers with keys, configs with secrets in
/// Env): the store must not be readable by other local users, as
/// /var/lib/docker is not.
#[test]
fn a_new_store_is_private_to_root() {
    let t = tempfile::tempdir().expect("tmp");
    let root = t.path().join("images");
    Store::open(&root).expect("store");
    assert_eq!(mode(&root), 0o700, "{}", root.display());
}

/// A store made before (or by hand) with an open mode is closed on open.
#[test]
fn an_open_store_is_closed_when_opened() {
    let t = tempfile::tempdir().expect("tmp");
    let root = t.path().join("images");
    std::fs::create_dir(&root).expect("mkdir");
    std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    Store::open(&root).expect("store");
    assert_eq!(mode(&root), 0o700);
}

/// A descriptor declaring u64::MAX bytes is refused as a size lie, not
/// an arithmetic overflow (a panic in a debug build, a zero-byte limit in
/// a release build).
#[test]
fn a_blob_declaring_the_largest_size_is_refused_without_overflow() {
    let t = tempfile::tempdir().expect("tmp");
    let store = Store::open(t.path().join("s")).expect("store");
    let d = Digest::sha256_of(b"abc");
    let e = store
        .ingest(&d, u64::MAX, &mut std::io::repeat(b'a').take(3))
        .expect_err("size lie");
    assert!(
        e.to_string().contains("declares 18446744073709551615"),
        "{e}"
    );
    assert!(!store.has_blob(&d));
}

//! Attacks on the store found in review: a local user reading what
//! ward pulled, sizes a source declares to overflow the store's counts,
//! and names that claim a digest their content does not have.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;

mod common;

use ward_image::{pull, Digest, DockerArchive, PullOptions, Reference, Store};

fn mode(p: &std::path::Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o7777
}

/// Blobs hold private images (layers with keys, configs with secrets in
/// Env): the store must not be readable by other local users, as
/// /var/lib/docker is not.
/// The root is 0711: others may pass through to `containers/` (ward run's
/// rootfs, reached by the container's unprivileged root), never list it
/// or read the blobs, records and layers, which are 0700.
#[test]
fn a_new_store_is_private_to_root() {
    let t = tempfile::tempdir().expect("tmp");
    let root = t.path().join("images");
    Store::open(&root).expect("store");
    assert_eq!(mode(&root), 0o711, "{}", root.display());
    for sub in ["blobs", "images", "layers", "tmp"] {
        assert_eq!(mode(&root.join(sub)), 0o700, "{sub}");
    }
}

/// A store made before (or by hand) with an open mode is closed on open.
#[test]
fn an_open_store_is_closed_when_opened() {
    let t = tempfile::tempdir().expect("tmp");
    let root = t.path().join("images");
    for sub in ["", "blobs", "images", "layers", "tmp"] {
        std::fs::create_dir(root.join(sub)).expect("mkdir");
        std::fs::set_permissions(root.join(sub), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    Store::open(&root).expect("store");
    assert_eq!(mode(&root), 0o711);
    for sub in ["blobs", "images", "layers", "tmp"] {
        assert_eq!(mode(&root.join(sub)), 0o700, "{sub}");
    }
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

/// An archive (or layout) names its images: a name pinned by digest
/// (`REPO:TAG@sha256:X`, as RepoTags or io.containerd.image.name may
/// say) must not be recorded for other content, or a later lookup by
/// that digest, which users take as a content pin, gets the archive's image.
#[test]
fn a_name_pinned_to_another_digest_is_refused() {
    let t = tempfile::tempdir().expect("tmp");
    let archive = common::busybox_docker_archive(t.path(), &ward_image::Platform::host().arch);
    let store = Store::open(t.path().join("store")).expect("store");
    let trusted = Digest::sha256_of(b"the manifest of the trusted image");
    let name = Reference::parse(&format!("example.com/busybox:1@{trusted}"), None).expect("ref");
    let mut src = DockerArchive::open(&archive).expect("archive");
    let e = pull(
        &store,
        &mut src,
        &PullOptions {
            name: &name,
            tag_or_digest: "example.com/busybox:1",
            platform: None,
            keep_setid: false,
        },
    )
    .expect_err("the content is not the pinned digest");
    assert!(e.to_string().contains(&trusted.to_string()), "{e}");
    assert!(store.records().expect("records").is_empty());
}

/// What ward saves of an image pulled by tag and digest loads again: the
/// export names it by its tag only (its synthesized manifest has another digest).
#[test]
fn an_image_pinned_by_digest_survives_save_and_load() {
    let t = tempfile::tempdir().expect("tmp");
    let archive = common::busybox_docker_archive(t.path(), &ward_image::Platform::host().arch);
    let store = Store::open(t.path().join("store")).expect("store");
    let pull_as = |store: &Store, archive: &std::path::Path, name: &Reference| {
        let mut src = DockerArchive::open(archive).expect("archive");
        pull(
            store,
            &mut src,
            &PullOptions {
                name,
                tag_or_digest: "example.com/busybox:1",
                platform: None,
                keep_setid: false,
            },
        )
    };
    let plain = Reference::parse("example.com/busybox:1", None).expect("ref");
    let digest = pull_as(&store, &archive, &plain).expect("pull").digest;
    let pinned = Reference::parse(&format!("example.com/busybox:1@{digest}"), None).expect("ref");
    let rec = pull_as(&store, &archive, &pinned).expect("pull pinned to its own digest");
    let saved = t.path().join("saved.tar");
    ward_image::export::save_docker_archive(&store, &[rec], &saved).expect("save");
    let again = Store::open(t.path().join("again")).expect("store");
    let mut src = DockerArchive::open(&saved).expect("saved archive");
    assert_eq!(src.repo_tags().expect("tags"), ["example.com/busybox:1"]);
    pull_as(&again, &saved, &plain).expect("load");
}

/// `ward image save -o DIR/out.tar` writes DIR/.out.tar.tmp first: in a
/// directory another user can write, a symlink planted there must not make
/// root write the archive through it into another file.
#[test]
fn save_does_not_write_through_a_planted_temp_symlink() {
    let t = tempfile::tempdir().expect("tmp");
    let archive = common::busybox_docker_archive(t.path(), &ward_image::Platform::host().arch);
    let store = Store::open(t.path().join("store")).expect("store");
    let name = Reference::parse("example.com/busybox:1", None).expect("ref");
    let mut src = DockerArchive::open(&archive).expect("archive");
    let rec = pull(
        &store,
        &mut src,
        &PullOptions {
            name: &name,
            tag_or_digest: "example.com/busybox:1",
            platform: None,
            keep_setid: false,
        },
    )
    .expect("pull");
    let victim = t.path().join("victim");
    std::fs::write(&victim, "precious").expect("victim");
    let shared = t.path().join("shared");
    std::fs::create_dir(&shared).expect("mkdir");
    std::os::unix::fs::symlink(&victim, shared.join(".out.tar.tmp")).expect("plant");
    let _ = ward_image::export::save_docker_archive(
        &store,
        std::slice::from_ref(&rec),
        &shared.join("out.tar"),
    );
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );

    // The same for an OCI layout's files.
    let layout = t.path().join("layout");
    let blob = layout.join("blobs/sha256").join(rec.config.hex());
    std::fs::create_dir_all(blob.parent().expect("parent")).expect("mkdir");
    std::os::unix::fs::symlink(&victim, blob.with_extension("tmp")).expect("plant");
    std::os::unix::fs::symlink(&victim, layout.join("oci-layout")).expect("plant");
    std::os::unix::fs::symlink(&victim, layout.join("index.json.tmp")).expect("plant");
    let _ = ward_image::export::save_layout(&store, &rec, &layout);
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "precious"
    );
}

/// The platform fields of a config or index (`os`, `architecture`,
/// `variant`) are printed in errors and `ward image ls`: their control
/// characters (terminal escape sequences) must not reach the terminal.
#[test]
fn platform_fields_cannot_send_terminal_escapes() {
    let t = tempfile::tempdir().expect("tmp");
    let archive = common::busybox_docker_archive(t.path(), "amd64\u{1b}]0;owned\u{7}\u{1b}[2J");
    let store = Store::open(t.path().join("store")).expect("store");
    let name = Reference::parse("example.com/busybox:1", None).expect("ref");
    let mut src = DockerArchive::open(&archive).expect("archive");
    let e = pull(
        &store,
        &mut src,
        &PullOptions {
            name: &name,
            tag_or_digest: "example.com/busybox:1",
            platform: None,
            keep_setid: false,
        },
    )
    .expect_err("another platform")
    .to_string();
    assert!(e.contains("amd64?]0;owned??[2J"), "{e:?}");
    assert!(!e.chars().any(char::is_control), "{e:?}");
}

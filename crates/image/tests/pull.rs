//! Pulling from OCI layouts and docker-save archives made by skopeo and
//! tar, and the broken and malicious inputs the store must refuse.

mod common;

use std::path::Path;

use common::*;
use serde_json::json;
use ward_image::{pull, DockerArchive, OciLayout, Platform, PullOptions, Reference, Store};

fn name() -> Reference {
    Reference::parse("example.com/busybox:1", None).expect("valid")
}

fn pull_layout(
    store: &Store,
    layout: &Path,
    platform: Option<Platform>,
) -> Result<ward_image::ImageRecord, String> {
    let mut src = OciLayout::open_dir(layout).map_err(|e| e.to_string())?;
    let n = name();
    pull(
        store,
        &mut src,
        &PullOptions {
            name: &n,
            tag_or_digest: "latest",
            platform,
            keep_setid: false,
        },
    )
    .map_err(|e| e.to_string())
}

/// After a refused pull: no record, no temp file, and `prune` leaves no blob.
fn assert_consistent_and_empty(store: &Store) {
    assert!(store.records().expect("records").is_empty());
    assert!(
        files_under(&store.root().join("tmp")).is_empty(),
        "{:?}",
        files_under(&store.root().join("tmp"))
    );
    store.prune().expect("prune");
    assert!(files_under(&store.root().join("blobs")).is_empty());
}

#[test]
fn pulls_an_oci_layout_made_by_skopeo() {
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout(t.path());
    let store = Store::open(t.path().join("store")).expect("store");
    let rec = pull_layout(&store, &layout, None).expect("pull");
    let (mdigest, m) = manifest_of(&layout);
    assert_eq!(rec.reference, "example.com/busybox:1");
    assert_eq!(rec.manifest.to_string(), mdigest);
    assert_eq!(rec.digest.to_string(), mdigest);
    assert_eq!(
        rec.config.to_string(),
        m["config"]["digest"].as_str().expect("config")
    );
    assert_eq!(rec.layers.len(), 1);
    assert_eq!(
        rec.layers[0].media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(rec.platform, format!("linux/{}", Platform::host().arch));
    // Every blob of the layout, byte for byte, under blobs/sha256.
    let mut want: Vec<String> = files_under(&layout.join("blobs")).into_iter().collect();
    want.sort();
    assert_eq!(files_under(&store.root().join("blobs")), want);
    for f in &want {
        assert_eq!(
            std::fs::read(layout.join("blobs").join(f)).expect("src"),
            std::fs::read(store.root().join("blobs").join(f)).expect("store")
        );
    }
    assert_eq!(store.records().expect("records"), vec![rec.clone()]);
    // Pulled again: the same record, nothing to prune.
    pull_layout(&store, &layout, None).expect("pull again");
    assert_eq!(store.prune().expect("prune").blobs, 0);
    // Removed: prune empties the store.
    store.remove_record(&name()).expect("rm");
    assert_eq!(store.prune().expect("prune").blobs, 3);
    assert!(files_under(&store.root().join("blobs")).is_empty());
}

#[test]
fn pulls_docker_archives_classic_and_made_by_skopeo() {
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout(t.path());
    let skopeo_tar = skopeo_docker_archive(&layout, &t.path().join("skopeo.tar"));
    for archive in [t.path().join("src.tar"), skopeo_tar] {
        let store = Store::open(t.path().join("store")).expect("store");
        let mut src = DockerArchive::open(&archive).expect("archive");
        assert_eq!(
            src.repo_tags().expect("tags"),
            vec!["example.com/busybox:1"]
        );
        let n = name();
        let rec = pull(
            &store,
            &mut src,
            &PullOptions {
                name: &n,
                tag_or_digest: "1",
                platform: None,
                keep_setid: false,
            },
        )
        .expect("pull");
        assert_eq!(
            rec.manifest_media_type,
            "application/vnd.docker.distribution.manifest.v2+json"
        );
        assert_eq!(
            rec.layers[0].media_type,
            "application/vnd.docker.image.rootfs.diff.tar"
        );
        // Uncompressed: the layer's digest is its diff ID.
        assert_eq!(rec.layers[0].digest, rec.layers[0].diff_id);
        assert!(store.has_blob(&rec.config));
        assert!(store.has_blob(&rec.layers[0].digest));
        store.remove_record(&n).expect("rm");
        store.prune().expect("prune");
    }
}

#[test]
fn a_blob_that_does_not_match_its_digest_is_never_stored() {
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout(t.path());
    let (_, m) = manifest_of(&layout);
    let layer = blob_path(&layout, m["layers"][0]["digest"].as_str().expect("d"));
    let mut bytes = std::fs::read(&layer).expect("layer");
    let last = bytes.len() - 10;
    bytes[last] ^= 0xff;
    std::fs::write(&layer, &bytes).expect("tamper");
    let store = Store::open(t.path().join("store")).expect("store");
    let e = pull_layout(&store, &layout, None).expect_err("tampered");
    assert!(e.contains("the content served has digest"), "{e}");
    assert!(e.contains("refused (corrupt or tampered)"), "{e}");
    assert!(!store
        .root()
        .join("blobs")
        .join(layer.strip_prefix(layout.join("blobs")).expect("under"))
        .exists());
    assert_consistent_and_empty(&store);
}

#[test]
fn size_lies_and_truncated_and_missing_blobs_are_refused() {
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout(t.path());
    let (_, m) = manifest_of(&layout);
    let size = m["layers"][0]["size"].as_u64().expect("size");
    let layer_digest = m["layers"][0]["digest"].as_str().expect("d").to_string();
    type BreakIt = Box<dyn Fn(&Path)>;
    let cases: [(&str, BreakIt); 4] = [
        (
            "served more than the",
            Box::new(move |l: &Path| {
                edit_manifest(l, |m| m["layers"][0]["size"] = json!(size - 1))
            }),
        ),
        (
            "(truncated or a size lie)",
            Box::new(move |l: &Path| {
                edit_manifest(l, |m| m["layers"][0]["size"] = json!(size + 1))
            }),
        ),
        ("(truncated or a size lie)", {
            let d = layer_digest.clone();
            Box::new(move |l: &Path| {
                let p = blob_path(l, &d);
                let b = std::fs::read(&p).expect("layer");
                std::fs::write(&p, &b[..b.len() / 2]).expect("truncate");
            })
        }),
        ("No such file or directory", {
            let d = layer_digest.clone();
            Box::new(move |l: &Path| std::fs::remove_file(blob_path(l, &d)).expect("rm"))
        }),
    ];
    for (i, (want, break_it)) in cases.iter().enumerate() {
        let copy = t.path().join(format!("case{i}"));
        run(std::process::Command::new("cp")
            .arg("-a")
            .arg(&layout)
            .arg(&copy));
        break_it(&copy);
        let store = Store::open(t.path().join(format!("store{i}"))).expect("store");
        let e = pull_layout(&store, &copy, None).expect_err(want);
        assert!(e.contains(want), "case {i}: {e}");
        assert!(e.contains(&layer_digest), "case {i} names the blob: {e}");
        assert_consistent_and_empty(&store);
    }
}

#[test]
fn limits_manifest_size_and_layer_count() {
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout(t.path());
    let store = Store::open(t.path().join("store")).expect("store");

    edit_manifest(&layout, |m| {
        m["annotations"] = json!({"pad": "x".repeat(5 << 20)})
    });
    let e = pull_layout(&store, &layout, None).expect_err("big");
    assert!(e.contains("over the limit of 4194304"), "{e}");

    let (_, m0) = {
        let fresh = tempfile::tempdir().expect("tmp");
        let l = busybox_oci_layout(fresh.path());
        manifest_of(&l)
    };
    edit_manifest(&layout, |m| {
        *m = m0.clone();
        let layer = m["layers"][0].clone();
        m["layers"] = json!(vec![layer; 200]);
    });
    let e = pull_layout(&store, &layout, None).expect_err("200 layers");
    assert!(e.contains("200 layers, over the limit of 127"), "{e}");
    assert!(e.contains("overlayfs"), "{e}");
    assert_consistent_and_empty(&store);
}

#[test]
fn platform_selection_from_an_index() {
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout_for(t.path(), "s390x");
    let (md, m) = manifest_of(&layout);
    let msize = m.to_string().len();
    let desc = |arch: &str, variant: Option<&str>| {
        let mut p = json!({"os": "linux", "architecture": arch});
        if let Some(v) = variant {
            p["variant"] = json!(v);
        }
        json!({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": msize, "platform": p})
    };
    // The manifest blob as stored (skopeo's bytes, not re-serialised).
    let msize = std::fs::metadata(blob_path(&layout, &md)).expect("m").len();
    let mut index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [desc("arm", Some("v7")), desc("s390x", None)]});
    index["manifests"][0]["size"] = json!(msize);
    index["manifests"][1]["size"] = json!(msize);
    set_top(
        &layout,
        index.to_string().as_bytes(),
        "application/vnd.oci.image.index.v1+json",
    );
    let store = Store::open(t.path().join("store")).expect("store");

    let e = pull_layout(
        &store,
        &layout,
        Some(Platform::parse("linux/arm64").expect("p")),
    )
    .expect_err("no arm64");
    assert!(e.contains("no image for linux/arm64 in the index; it offers: linux/arm/v7, linux/s390x; choose one with --platform"), "{e}");
    // Host default: this test machine is not s390x.
    if Platform::host().arch != "s390x" {
        let e = pull_layout(&store, &layout, None).expect_err("host");
        assert!(e.contains("it offers: linux/arm/v7, linux/s390x"), "{e}");
    }
    // linux/arm/v7 is offered but its config says s390x: the config wins.
    let e = pull_layout(
        &store,
        &layout,
        Some(Platform::parse("linux/arm/v7").expect("p")),
    )
    .expect_err("lie");
    assert!(
        e.contains("the image is for linux/s390x, not linux/arm/v7"),
        "{e}"
    );
    let rec = pull_layout(
        &store,
        &layout,
        Some(Platform::parse("linux/s390x").expect("p")),
    )
    .expect("s390x");
    assert_eq!(rec.platform, "linux/s390x");
    assert_ne!(rec.digest, rec.manifest);
    // prune keeps the index, the chosen manifest, config and layer.
    assert_eq!(store.prune().expect("prune").blobs, 0);
    assert_eq!(files_under(&store.root().join("blobs")).len(), 4);
}

#[test]
fn nested_indexes_are_bounded() {
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout(t.path());
    let (md, _) = manifest_of(&layout);
    let mut child = (
        md.clone(),
        std::fs::metadata(blob_path(&layout, &md)).expect("m").len(),
        "application/vnd.oci.image.manifest.v1+json",
    );
    // Each index names the previous one: a chain deeper than the limit
    // (a true cycle cannot be built: an index would have to hold its own hash).
    for _ in 0..7 {
        let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [{"mediaType": child.2, "digest": child.0, "size": child.1}]});
        let bytes = index.to_string();
        let d = put_blob(&layout, bytes.as_bytes());
        child = (
            d,
            bytes.len() as u64,
            "application/vnd.oci.image.index.v1+json",
        );
    }
    set_top(
        &layout,
        &std::fs::read(blob_path(&layout, &child.0)).expect("top"),
        child.2,
    );
    let store = Store::open(t.path().join("store")).expect("store");
    let e = pull_layout(&store, &layout, None).expect_err("deep");
    assert!(e.contains("indexes nest deeper than 4 or loop"), "{e}");
    assert_consistent_and_empty(&store);
}

#[test]
fn schema1_and_mismatched_diff_ids_are_refused() {
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout(t.path());
    let store = Store::open(t.path().join("store")).expect("store");
    let (_, m0) = manifest_of(&layout);
    set_top(
        &layout,
        json!({"schemaVersion": 1, "name": "x", "tag": "1", "fsLayers": []})
            .to_string()
            .as_bytes(),
        "application/vnd.docker.distribution.manifest.v1+prettyjws",
    );
    let e = pull_layout(&store, &layout, None).expect_err("schema1");
    assert!(e.contains("Docker schema1 manifest"), "{e}");
    edit_manifest(&layout, |m| {
        *m = m0.clone();
        let l = m["layers"][0].clone();
        m["layers"] = json!([l.clone(), l]);
    });
    let e = pull_layout(&store, &layout, None).expect_err("diff ids");
    assert!(
        e.contains("the config lists 1 layers (rootfs.diff_ids), the manifest 2"),
        "{e}"
    );
    assert_consistent_and_empty(&store);
}

#[test]
fn two_concurrent_pulls_of_one_image() {
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout(t.path());
    let root = t.path().join("store");
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (layout, root) = (layout.clone(), root.clone());
            std::thread::spawn(move || {
                let store = Store::open(&root).expect("store");
                pull_layout(&store, &layout, None)
            })
        })
        .collect();
    let recs: Vec<_> = threads
        .into_iter()
        .map(|h| h.join().expect("thread").expect("pull"))
        .collect();
    let store = Store::open(&root).expect("store");
    assert_eq!(store.records().expect("records").len(), 1);
    assert!(recs.iter().all(|r| r.manifest == recs[0].manifest));
    assert_eq!(files_under(&root.join("blobs")).len(), 3);
    assert!(files_under(&root.join("tmp")).is_empty());
    // A prune waiting for the pulls' lock finds everything referenced.
    assert_eq!(store.prune().expect("prune").blobs, 0);
}

#[test]
fn ensure_layer_makes_a_layer_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let t = tempfile::tempdir().expect("tmp");
    let root = t.path().join("store");
    let chain = ward_image::store::chain_ids(&[
        ward_image::Digest::sha256_of(b"a"),
        ward_image::Digest::sha256_of(b"b"),
    ]);
    assert_eq!(chain[0], ward_image::Digest::sha256_of(b"a"));
    assert_eq!(
        chain[1],
        ward_image::Digest::sha256_of(
            format!("{} {}", chain[0], ward_image::Digest::sha256_of(b"b")).as_bytes()
        )
    );
    let calls = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (root, calls, id) = (root.clone(), calls.clone(), chain[1].clone());
            std::thread::spawn(move || {
                let store = Store::open(&root).expect("store");
                store
                    .ensure_layer(&id, |dir| {
                        calls.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(100));
                        std::fs::write(dir.join("file"), "x")
                    })
                    .expect("layer")
            })
        })
        .collect();
    let dirs: Vec<_> = threads
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(dirs
        .iter()
        .all(|d| d == &dirs[0] && d.join("file").is_file()));
    // A failed unpack leaves nothing, and the next call tries again.
    let store = Store::open(&root).expect("store");
    let e = store
        .ensure_layer(&chain[0], |dir| {
            std::fs::write(dir.join("half"), "x")?;
            Err(std::io::Error::other("bad tar"))
        })
        .expect_err("fails");
    assert_eq!(e.to_string(), "unpacking the layer: bad tar");
    assert_eq!(
        files_under(&root.join("layers"))
            .iter()
            .filter(|f| !f.ends_with(".lock"))
            .count(),
        1
    );
    // No record reaches either layer: prune removes them.
    assert_eq!(store.prune().expect("prune").layers, 1);
    assert!(files_under(&root.join("layers")).is_empty());
}

/// Unmounts the test's tmpfs (also when the test fails).
struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn disk_full_is_a_clear_error_and_the_store_stays_consistent() {
    if !nix::unistd::geteuid().is_root() {
        println!("SKIP: mounting a tmpfs needs root");
        return;
    }
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout(t.path());
    let root = t.path().join("store");
    std::fs::create_dir(&root).expect("mkdir");
    // The layer is about 1 MiB: a 512 KiB store runs out while writing it.
    run(std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=512k", "tmpfs"])
        .arg(&root));
    let _unmount = Unmount(root.clone());
    let store = Store::open(&root).expect("store");
    let e = pull_layout(&store, &layout, None).expect_err("full");
    assert!(e.contains("writing into the store"), "{e}");
    assert!(e.contains("No space left on device"), "{e}");
    assert_consistent_and_empty(&store);
    // With room again, the next pull succeeds.
    run(std::process::Command::new("mount")
        .args(["-o", "remount,size=8m"])
        .arg(&root));
    let rec = pull_layout(&store, &layout, None).expect("pull");
    assert_eq!(store.records().expect("records"), vec![rec]);
    assert!(files_under(&root.join("tmp")).is_empty());
}

#[test]
fn temp_files_left_by_a_crash_go_at_the_next_pull_or_prune() {
    let t = tempfile::tempdir().expect("tmp");
    let layout = busybox_oci_layout(t.path());
    let store = Store::open(t.path().join("store")).expect("store");
    let stale = store.root().join("tmp/deadbeef.1234.0");
    std::fs::write(&stale, "half a blob").expect("stale");
    pull_layout(&store, &layout, None).expect("pull");
    assert!(!stale.exists());
    std::fs::write(&stale, "half a blob").expect("stale");
    store.prune().expect("prune");
    assert!(!stale.exists());
    assert_eq!(store.records().expect("records").len(), 1);
}

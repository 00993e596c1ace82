//! Test inputs made by third-party tools (tar, skopeo), never by ward:
//! ward is tested against what others produce.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};
use ward_image::Digest;

pub fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A `docker save`-style archive with one layer holding /bin/busybox,
/// made with tar(1): what skopeo reads with its docker-archive transport.
pub fn busybox_docker_archive(dir: &Path, arch: &str) -> PathBuf {
    let root = dir.join("rootfs");
    let arc = dir.join("arc");
    std::fs::create_dir_all(root.join("bin")).expect("mkdir");
    std::fs::create_dir_all(&arc).expect("mkdir");
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("busybox-static is installed");
    run(Command::new("tar")
        .arg("-C")
        .arg(&root)
        .arg("-cf")
        .arg(arc.join("layer.tar"))
        .arg("bin"));
    let layer = std::fs::read(arc.join("layer.tar")).expect("layer");
    let config = json!({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": ["/bin/busybox", "sh"]},
        "rootfs": {"type": "layers", "diff_ids": [Digest::sha256_of(&layer).to_string()]},
    });
    std::fs::write(arc.join("config.json"), config.to_string()).expect("config");
    std::fs::write(
        arc.join("manifest.json"),
        json!([{"Config": "config.json", "RepoTags": ["example.com/busybox:1"], "Layers": ["layer.tar"]}]).to_string(),
    )
    .expect("manifest");
    let out = dir.join("src.tar");
    run(Command::new("tar")
        .arg("-C")
        .arg(&arc)
        .arg("-cf")
        .arg(&out)
        .args(["manifest.json", "config.json", "layer.tar"]));
    out
}

/// An OCI layout (tag `latest`) made by `skopeo copy` from the archive above.
pub fn busybox_oci_layout(dir: &Path) -> PathBuf {
    busybox_oci_layout_for(dir, &ward_image::Platform::host().arch)
}

pub fn busybox_oci_layout_for(dir: &Path, arch: &str) -> PathBuf {
    let src = busybox_docker_archive(dir, arch);
    let layout = dir.join("oci");
    skopeo_copy(
        &format!("docker-archive:{}", src.display()),
        &format!("oci:{}:latest", layout.display()),
    );
    layout
}

/// A docker-archive written by skopeo from an OCI layout.
pub fn skopeo_docker_archive(layout: &Path, out: &Path) -> PathBuf {
    skopeo_copy(
        &format!("oci:{}:latest", layout.display()),
        &format!("docker-archive:{}:example.com/busybox:1", out.display()),
    );
    out.to_path_buf()
}

pub fn skopeo_copy(from: &str, to: &str) {
    run(Command::new("skopeo").args(["copy", "-q", "--insecure-policy", from, to]));
}

pub fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).expect("read")).expect("json")
}

pub fn blob_path(layout: &Path, d: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(d.trim_start_matches("sha256:"))
}

/// The manifest the layout's index.json names for `latest`.
pub fn manifest_of(layout: &Path) -> (String, Value) {
    let index = read_json(&layout.join("index.json"));
    let d = index["manifests"][0]["digest"]
        .as_str()
        .expect("digest")
        .to_string();
    let m = read_json(&blob_path(layout, &d));
    (d, m)
}

/// Writes `bytes` as a blob of the layout; returns its digest.
pub fn put_blob(layout: &Path, bytes: &[u8]) -> String {
    let d = Digest::sha256_of(bytes).to_string();
    std::fs::write(blob_path(layout, &d), bytes).expect("blob");
    d
}

/// Points the layout's tag `latest` at `bytes` (a manifest or index).
pub fn set_top(layout: &Path, bytes: &[u8], media_type: &str) {
    let d = put_blob(layout, bytes);
    let index = json!({"schemaVersion": 2, "manifests": [{
        "mediaType": media_type, "digest": d, "size": bytes.len(),
        "annotations": {"org.opencontainers.image.ref.name": "latest"}}]});
    std::fs::write(layout.join("index.json"), index.to_string()).expect("index");
}

/// Rewrites the layout's manifest with `edit` (a new digest, named by index.json).
pub fn edit_manifest(layout: &Path, edit: impl FnOnce(&mut Value)) {
    let (_, mut m) = manifest_of(layout);
    edit(&mut m);
    set_top(
        layout,
        m.to_string().as_bytes(),
        "application/vnd.oci.image.manifest.v1+json",
    );
}

/// Every file under `dir`, relative, sorted.
pub fn files_under(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).expect("under").display().to_string());
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

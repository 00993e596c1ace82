//! `ward image` end to end: inputs made by tar and skopeo, outputs read
//! back by skopeo, what the user sees (stdout, stderr, exit code) and the
//! files under the store.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};

const WARD: &str = env!("CARGO_BIN_EXE_ward");

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ward(root: &Path, args: &[&str]) -> Output {
    Command::new(WARD)
        .arg("image")
        .args(args)
        .arg("--root")
        .arg(root)
        .output()
        .expect("runs ward")
}

fn ok(root: &Path, args: &[&str]) -> String {
    let out = ward(root, args);
    assert!(
        out.status.success(),
        "ward image {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The exit code must be 125 and stderr must hold `want`.
fn fails(root: &Path, args: &[&str], want: &str) -> String {
    let out = ward(root, args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(125), "ward image {args:?}: {err}");
    assert!(
        err.contains(want),
        "ward image {args:?}: want {want:?} in {err}"
    );
    err
}

fn sha256(b: &[u8]) -> String {
    let out = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().expect("stdin").write_all(b)?;
            c.wait_with_output()
        })
        .expect("sha256sum");
    format!(
        "sha256:{}",
        String::from_utf8_lossy(&out.stdout)
            .split(' ')
            .next()
            .expect("hex")
    )
}

/// A busybox image as a docker-save archive made with tar(1), named
/// `busybox:1` as docker names Docker Hub images, and an OCI layout
/// (`latest`) made from it by skopeo.
fn fixture(dir: &Path) -> (PathBuf, PathBuf) {
    let (root, arc) = (dir.join("rootfs"), dir.join("arc"));
    std::fs::create_dir_all(root.join("bin")).expect("mkdir");
    std::fs::create_dir_all(&arc).expect("mkdir");
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).expect("busybox-static");
    run_ok(
        Command::new("tar")
            .arg("-C")
            .arg(&root)
            .arg("-cf")
            .arg(arc.join("layer.tar"))
            .arg("bin"),
    );
    let layer = std::fs::read(arc.join("layer.tar")).expect("layer");
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let config = json!({"architecture": arch, "os": "linux", "config": {"Cmd": ["sh"]},
        "rootfs": {"type": "layers", "diff_ids": [sha256(&layer)]}});
    std::fs::write(arc.join("config.json"), config.to_string()).expect("config");
    std::fs::write(
        arc.join("manifest.json"),
        json!([{"Config": "config.json", "RepoTags": ["busybox:1"], "Layers": ["layer.tar"]}])
            .to_string(),
    )
    .expect("manifest");
    let archive = dir.join("busybox.tar");
    run_ok(
        Command::new("tar")
            .arg("-C")
            .arg(&arc)
            .arg("-cf")
            .arg(&archive)
            .args(["manifest.json", "config.json", "layer.tar"]),
    );
    let layout = dir.join("layout");
    run_ok(
        Command::new("skopeo")
            .args(["copy", "-q", "--insecure-policy"])
            .arg(format!("docker-archive:{}", archive.display()))
            .arg(format!("oci:{}:latest", layout.display())),
    );
    (archive, layout)
}

fn blobs(root: &Path) -> usize {
    std::fs::read_dir(root.join("blobs/sha256"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn pull_ls_inspect_save_rm_prune() {
    let t = tempfile::tempdir().expect("tmp");
    let (_, layout) = fixture(t.path());
    let root = t.path().join("store");
    let src = format!("oci:{}:latest", layout.display());
    let out = ok(
        &root,
        &["pull", &src, "--name", "localhost:5000/tools/busybox:1.36"],
    );
    assert!(
        out.starts_with("localhost:5000/tools/busybox:1.36 sha256:"),
        "{out}"
    );
    // Without --name: localhost/DIRNAME:TAG.
    assert_eq!(
        ok(&root, &["pull", &src]).split(' ').next(),
        Some("localhost/layout:latest")
    );

    let ls = ok(&root, &["ls"]);
    let lines: Vec<&str> = ls.lines().collect();
    assert_eq!(lines.len(), 3, "{ls}");
    let cols: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(cols, ["REPOSITORY", "TAG", "DIGEST", "SIZE"]);
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(&row[..2], ["localhost/layout", "latest"]);
    assert!(row[2].starts_with("sha256:") && row[2].len() == 19, "{ls}");
    assert_eq!(row[4], "MB", "{ls}");
    let js: Value = serde_json::from_str(&ok(&root, &["ls", "--format", "json"])).expect("json");
    assert_eq!(js[1]["repository"], "localhost:5000/tools/busybox");
    assert_eq!(js[1]["tag"], "1.36");

    let insp: Value = serde_json::from_str(&ok(
        &root,
        &["inspect", "localhost:5000/tools/busybox:1.36"],
    ))
    .expect("json");
    assert_eq!(insp["config"]["config"]["Cmd"], json!(["sh"]));
    assert_eq!(insp["layers"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        insp["layers"][0]["media_type"],
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(insp["chain_ids"][0], insp["layers"][0]["diff_id"]);
    assert!(insp["platform"]
        .as_str()
        .expect("platform")
        .starts_with("linux/"));

    // save: skopeo reads both formats back, and the config is unchanged.
    let tar = t.path().join("saved.tar");
    ok(
        &root,
        &[
            "save",
            "-o",
            tar.to_str().expect("utf8"),
            "localhost:5000/tools/busybox:1.36",
        ],
    );
    let raw = run_ok(
        Command::new("skopeo")
            .args(["inspect", "--config", "--raw"])
            .arg(format!("docker-archive:{}", tar.display())),
    );
    assert_eq!(
        sha256(raw.as_bytes()),
        insp["config_digest"].as_str().expect("d")
    );
    let out_layout = t.path().join("out-layout");
    ok(
        &root,
        &[
            "save",
            "--layout",
            out_layout.to_str().expect("utf8"),
            "localhost:5000/tools/busybox:1.36",
        ],
    );
    let copied = t.path().join("copied");
    run_ok(
        Command::new("skopeo")
            .args(["copy", "-q", "--insecure-policy"])
            .arg(format!("oci:{}:1.36", out_layout.display()))
            .arg(format!("oci:{}:x", copied.display())),
    );

    fails(
        &root,
        &["inspect", "localhost/nothing:1"],
        "image localhost/nothing:1: not in the store",
    );
    assert_eq!(
        ok(
            &root,
            &[
                "rm",
                "localhost/layout:latest",
                "localhost:5000/tools/busybox:1.36"
            ]
        ),
        "Untagged: localhost/layout:latest\nUntagged: localhost:5000/tools/busybox:1.36\n"
    );
    assert_eq!(ok(&root, &["ls"]).lines().count(), 1);
    assert_eq!(blobs(&root), 3);
    let pruned = ok(&root, &["prune"]);
    assert!(
        pruned.starts_with("Deleted 3 blobs and 1 unpacked layers, "),
        "{pruned}"
    );
    assert_eq!(blobs(&root), 0);
}

#[test]
fn load_docker_archives_and_layouts() {
    let t = tempfile::tempdir().expect("tmp");
    let (archive, layout) = fixture(t.path());
    let root = t.path().join("store");
    // docker's short names in an archive mean Docker Hub.
    let out = ok(&root, &["load", "-i", archive.to_str().expect("utf8")]);
    assert!(
        out.starts_with("Loaded image: docker.io/library/busybox:1 (sha256:"),
        "{out}"
    );
    let out = ok(&root, &["load", "--layout", layout.to_str().expect("utf8")]);
    assert!(
        out.starts_with("Loaded image: localhost/layout:latest (sha256:"),
        "{out}"
    );
    // A docker-archive written by skopeo (layer.tar symlinks), by name.
    let sk = t.path().join("skopeo.tar");
    run_ok(
        Command::new("skopeo")
            .args(["copy", "-q", "--insecure-policy"])
            .arg(format!("oci:{}:latest", layout.display()))
            .arg(format!("docker-archive:{}:example.com/a/b:2", sk.display())),
    );
    let out = ok(
        &root,
        &["pull", &format!("docker-archive:{}", sk.display())],
    );
    assert!(out.starts_with("example.com/a/b:2 sha256:"), "{out}");
    let refs: Vec<String> = serde_json::from_str::<Value>(&ok(&root, &["ls", "--format", "json"]))
        .expect("json")
        .as_array()
        .expect("array")
        .iter()
        .map(|r| r["reference"].as_str().expect("ref").to_string())
        .collect();
    assert_eq!(
        refs,
        [
            "docker.io/library/busybox:1",
            "example.com/a/b:2",
            "localhost/layout:latest"
        ]
    );
}

#[test]
fn errors_name_the_field_and_the_fix() {
    let t = tempfile::tempdir().expect("tmp");
    let (_, layout) = fixture(t.path());
    let root = t.path().join("store");
    fails(
        &root,
        &["pull", "docker://busybox"],
        "rule image.short-name: a short name without a registry",
    );
    // A registry the built-in default policy does not allow (it allows
    // none) is refused before it is contacted: nothing listens there.
    fails(
        &root,
        &["pull", "127.0.0.1:9/busybox:1"],
        "rule image.registry-not-allowed",
    );
    fails(
        &root,
        &["inspect", "busybox"],
        "REF: image reference \"busybox\": registry: no registry given",
    );
    fails(
        &root,
        &["inspect", "example.com/Busy"],
        "repository: path component \"Busy\" has the uppercase letter 'B'",
    );
    fails(
        &root,
        &["ls", "--format", "yaml"],
        "--format \"yaml\": use table or json",
    );
    let src = format!("oci:{}:latest", layout.display());
    fails(
        &root,
        &["pull", &src, "--platform", "linux"],
        "--platform \"linux\": expected OS/ARCH[/VARIANT]",
    );
    fails(
        &root,
        &["pull", &src, "--platform", "linux/s390x"],
        "not linux/s390x; pull the platform the image is for with --platform",
    );
    fails(
        &root,
        &["pull", &format!("oci:{}:nope", layout.display())],
        "no image \"nope\" (it has: latest)",
    );
    fails(
        &root,
        &["pull", &src, "--name", "x"],
        "--name: image reference \"x\": registry:",
    );
    // A tampered layer: refused, nothing listed, nothing left after prune.
    let index: Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).expect("index"))
            .expect("json");
    let m: Value = serde_json::from_slice(
        &std::fs::read(
            layout.join("blobs/sha256").join(
                index["manifests"][0]["digest"]
                    .as_str()
                    .expect("d")
                    .trim_start_matches("sha256:"),
            ),
        )
        .expect("m"),
    )
    .expect("json");
    let layer = layout.join("blobs/sha256").join(
        m["layers"][0]["digest"]
            .as_str()
            .expect("d")
            .trim_start_matches("sha256:"),
    );
    let mut b = std::fs::read(&layer).expect("layer");
    let i = b.len() / 2;
    b[i] ^= 1;
    std::fs::write(&layer, b).expect("tamper");
    fails(&root, &["pull", &src], "refused (corrupt or tampered)");
    assert_eq!(ok(&root, &["ls"]).lines().count(), 1);
    ok(&root, &["prune"]);
    assert_eq!(blobs(&root), 0);
    assert_eq!(std::fs::read_dir(root.join("tmp")).expect("tmp").count(), 0);
}

#[test]
fn two_ward_processes_pull_the_same_image_at_once() {
    let t = tempfile::tempdir().expect("tmp");
    let (_, layout) = fixture(t.path());
    let root = t.path().join("store");
    let src = format!("oci:{}:latest", layout.display());
    // Started together, not one after another.
    let kids: Vec<_> = (0..3)
        .map(|_| {
            Command::new(WARD)
                .args(["image", "pull", &src, "--root"])
                .arg(&root)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for k in kids {
        let out = k.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(ok(&root, &["ls"]).lines().count(), 2);
    assert_eq!(blobs(&root), 3);
    assert!(ok(&root, &["prune"]).starts_with("Deleted 0 blobs"));
}

/// ward's archives and layouts are read by podman, and podman's (both
/// `docker-archive` and `oci-archive`) by ward. podman keeps its storage in
/// the test's temp dir (vfs driver): the host's images are not touched.
#[test]
fn archives_round_trip_with_podman() {
    if Command::new("podman").arg("--version").output().is_err() {
        println!("SKIP: podman is not installed");
        return;
    }
    let t = tempfile::tempdir().expect("tmp");
    let (archive, _) = fixture(t.path());
    let root = t.path().join("store");
    ok(&root, &["load", "-i", archive.to_str().expect("utf8")]);
    let podman = |args: &[&str]| {
        run_ok(
            Command::new("podman")
                .arg("--root")
                .arg(t.path().join("podman-root"))
                .arg("--runroot")
                .arg(t.path().join("podman-run"))
                .args(["--storage-driver", "vfs"])
                .args(args),
        )
    };
    let saved = t.path().join("ward.tar");
    ok(
        &root,
        &[
            "save",
            "-o",
            saved.to_str().expect("utf8"),
            "docker.io/library/busybox:1",
        ],
    );
    podman(&["load", "-q", "-i", saved.to_str().expect("utf8")]);
    let images = podman(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert_eq!(images.trim(), "docker.io/library/busybox:1");
    for format in ["docker-archive", "oci-archive"] {
        let out = t.path().join(format!("{format}.tar"));
        podman(&[
            "save",
            "-q",
            "--format",
            format,
            "-o",
            out.to_str().expect("utf8"),
            "docker.io/library/busybox:1",
        ]);
        let store = t.path().join(format!("store-{format}"));
        let loaded = ok(&store, &["load", "-i", out.to_str().expect("utf8")]);
        assert!(
            loaded.starts_with("Loaded image: docker.io/library/busybox:1 (sha256:"),
            "{format}: {loaded}"
        );
    }
    // ward's layout, loaded back by ward under its full name.
    let layout = t.path().join("ward-layout");
    ok(
        &root,
        &[
            "save",
            "--layout",
            layout.to_str().expect("utf8"),
            "docker.io/library/busybox:1",
        ],
    );
    let again = t.path().join("store-again");
    let loaded = ok(
        &again,
        &["load", "--layout", layout.to_str().expect("utf8")],
    );
    assert!(
        loaded.starts_with("Loaded image: docker.io/library/busybox:1 (sha256:"),
        "{loaded}"
    );
}

/// A layer whose uncompressed digest is not the config's diff_id is
/// refused when it is unpacked, and the image is not kept: `ls` does not
/// list a record that could be run or saved.
#[test]
fn an_image_whose_layer_lies_about_its_diff_id_is_not_kept() {
    let t = tempfile::tempdir().expect("tmp");
    let (archive, _) = fixture(t.path());
    // The same archive with the config's diff_id replaced.
    let arc = t.path().join("arc");
    let config = std::fs::read_to_string(arc.join("config.json")).expect("config");
    let v: Value = serde_json::from_str(&config).expect("json");
    let real = v["rootfs"]["diff_ids"][0]
        .as_str()
        .expect("diff id")
        .to_string();
    let lie = sha256(b"not the layer");
    std::fs::write(arc.join("config.json"), config.replace(&real, &lie)).expect("write");
    let liar = t.path().join("liar.tar");
    run_ok(
        Command::new("tar")
            .arg("-C")
            .arg(&arc)
            .arg("-cf")
            .arg(&liar)
            .args(["manifest.json", "config.json", "layer.tar"]),
    );
    let root = t.path().join("store");
    let err = fails(
        &root,
        &["pull", &format!("docker-archive:{}", liar.display())],
        "refused",
    );
    assert!(err.contains(&lie) || err.contains("diff"), "{err}");
    assert!(
        !ok(&root, &["ls"]).contains("busybox"),
        "the image was kept"
    );
    // The honest archive still pulls.
    ok(
        &root,
        &["pull", &format!("docker-archive:{}", archive.display())],
    );
}

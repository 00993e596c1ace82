//! Signatures through a real registry and real third-party tools: the CNCF
//! distribution registry (Debian's docker-registry, on 127.0.0.1, plain
//! HTTP, its own state under the test's directory) takes the signature
//! manifest ward makes; skopeo pushes and fetches it unchanged; ward
//! verifies what skopeo fetched; and docs/trust.md's by-hand check with
//! skopeo, jq and openssl says "Verified OK". Skipped (with a message)
//! where docker-registry or skopeo is missing.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ward_trust::signature::sha256_digest;
use ward_trust::{payload_for, sign, signature_manifest, signature_tag, verify, PrivateKey};

struct Dir(PathBuf);

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The registry process, killed by its pid when the test ends.
struct Registry {
    child: Child,
    addr: String,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_registry(dir: &Path) -> Registry {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let addr = format!("127.0.0.1:{port}");
    let config = dir.join("registry.yml");
    std::fs::write(
        &config,
        format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: {addr}\n",
            dir.join("registry").display()
        ),
    )
    .expect("config");
    let child = Command::new("/usr/bin/docker-registry")
        .arg("serve")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start docker-registry");
    let reg = Registry { child, addr };
    let start = Instant::now();
    while std::net::TcpStream::connect(&reg.addr).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "registry did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    reg
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run");
    assert!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes a `dir:` transport directory: manifest.json, the blobs by hex.
fn write_dir_layout(dir: &Path, manifest: &[u8], blobs: &[(String, Vec<u8>)]) {
    std::fs::create_dir_all(dir).expect("mkdir");
    std::fs::write(dir.join("version"), "Directory Transport Version: 1.1\n").expect("version");
    std::fs::write(dir.join("manifest.json"), manifest).expect("manifest");
    for (d, b) in blobs {
        std::fs::write(dir.join(d.trim_start_matches("sha256:")), b).expect("blob");
    }
}

/// A one-layer OCI image (a file "hello"), as a `dir:` directory.
fn tiny_image(dir: &Path) {
    let rootfs = dir.join("rootfs");
    std::fs::create_dir_all(&rootfs).expect("mkdir");
    std::fs::write(rootfs.join("hello"), "hi\n").expect("write");
    let tgz = dir.join("layer.tgz");
    run(Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-czf")
        .arg(&tgz)
        .arg("hello"));
    let layer = std::fs::read(&tgz).expect("layer");
    let diff = run(Command::new("sh").arg("-c").arg(format!(
        "gzip -dc {} | sha256sum | cut -d' ' -f1",
        tgz.display()
    )));
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["sha256:{}"]}},"config":{{}}}}"#,
        diff.trim()
    )
    .into_bytes();
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256_digest(&config), "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha256_digest(&layer), "size": layer.len()}],
    }))
    .expect("json");
    write_dir_layout(
        &dir.join("image"),
        &manifest,
        &[
            (sha256_digest(&config), config),
            (sha256_digest(&layer), layer),
        ],
    );
}

#[test]
fn a_registry_and_skopeo_carry_ward_signatures_and_openssl_checks_them() {
    for tool in ["/usr/bin/docker-registry", "/usr/bin/skopeo", "/usr/bin/jq"] {
        if !Path::new(tool).exists() {
            eprintln!("SKIP: {tool} is not installed");
            return;
        }
    }
    let dir = Dir(std::env::temp_dir().join(format!("ward-trust-registry-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).expect("mkdir");
    let reg = start_registry(&dir.0);
    let repo = format!("{}/app", reg.addr);
    tiny_image(&dir.0);
    run(Command::new("skopeo")
        .args(["copy", "-q", "--dest-tls-verify=false"])
        .arg(format!("dir:{}", dir.0.join("image").display()))
        .arg(format!("docker://{repo}:latest")));
    let digest = run(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        "--format",
        "{{.Digest}}",
        &format!("docker://{repo}:latest"),
    ]))
    .trim()
    .to_string();

    // ward signs twice (two keys); skopeo pushes each signature manifest.
    let release = PrivateKey::generate();
    let other = PrivateKey::generate();
    let tag = signature_tag(&digest).expect("tag");
    let mut existing: Option<Vec<u8>> = None;
    for key in [&other, &release] {
        let m = signature_manifest(existing.as_deref(), &sign(payload_for(&repo, &digest), key))
            .expect("manifest");
        let layout = dir.0.join("sig-out");
        let _ = std::fs::remove_dir_all(&layout);
        let mut blobs = m.blobs.clone();
        // skopeo pushes every layer from the directory: the earlier
        // payloads too.
        if let Some(prev) = &existing {
            let v: serde_json::Value = serde_json::from_slice(prev).expect("json");
            for l in v["layers"].as_array().into_iter().flatten() {
                let d = l["digest"].as_str().expect("digest").to_string();
                let b = std::fs::read(dir.0.join("sig-in").join(d.trim_start_matches("sha256:")));
                blobs.push((d, b.expect("earlier payload")));
            }
        }
        write_dir_layout(&layout, &m.manifest, &blobs);
        run(Command::new("skopeo")
            .args(["copy", "-q", "--dest-tls-verify=false"])
            .arg(format!("dir:{}", layout.display()))
            .arg(format!("docker://{repo}:{tag}")));
        // Read back as a pull would: the manifest under the tag, the blobs.
        let raw = run(Command::new("skopeo").args([
            "inspect",
            "--raw",
            "--tls-verify=false",
            &format!("docker://{repo}:{tag}"),
        ]));
        assert_eq!(
            raw.as_bytes(),
            m.manifest.as_slice(),
            "the registry keeps the bytes"
        );
        let fetched = dir.0.join("sig-in");
        let _ = std::fs::remove_dir_all(&fetched);
        run(Command::new("skopeo")
            .args(["copy", "-q", "--src-tls-verify=false"])
            .arg(format!("docker://{repo}:{tag}"))
            .arg(format!("dir:{}", fetched.display())));
        existing = Some(raw.into_bytes());
    }
    let manifest = existing.expect("pushed");
    let fetched = dir.0.join("sig-in");
    let fetch = |d: &str, _: u64| {
        std::fs::read(fetched.join(d.trim_start_matches("sha256:"))).map_err(|e| e.to_string())
    };
    let v = verify(
        &manifest,
        fetch,
        &[release.public("release.pub")],
        &digest,
        &repo,
    )
    .expect("verifies");
    assert_eq!(v.layer, 2, "the second signature is release's");
    let e = verify(
        &manifest,
        fetch,
        &[PrivateKey::generate().public("x.pub")],
        &digest,
        &repo,
    )
    .expect_err("a third key");
    assert!(e.to_string().contains("signature 1:") && e.to_string().contains("signature 2:"));

    // docs/trust.md, "Verifying a ward (or cosign) signature by hand".
    let public = dir.0.join("release.pub");
    std::fs::write(&public, release.public("").to_pem().expect("pem")).expect("write");
    let script = format!(
        r#"set -e
cd {work}
REF={repo}
digest=$(skopeo inspect --tls-verify=false --format '{{{{.Digest}}}}' docker://$REF:latest)
sigtag=$(echo "$digest" | tr : -).sig
skopeo inspect --tls-verify=false --raw docker://$REF:$sigtag > sig-manifest.json
skopeo copy -q --src-tls-verify=false docker://$REF:$sigtag dir:sig
for i in $(seq 0 $(($(jq '.layers | length' sig-manifest.json) - 1))); do
  blob=$(jq -r ".layers[$i].digest" sig-manifest.json | cut -d: -f2)
  jq -r ".layers[$i].annotations[\"dev.cosignproject.cosign/signature\"]" sig-manifest.json | base64 -d > sig.der
  openssl dgst -sha256 -verify {public} -signature sig.der sig/$blob || true
  jq -r .critical.image.\"docker-manifest-digest\" sig/$blob
done
"#,
        work = dir.0.display(),
        public = public.display()
    );
    let out = run(Command::new("sh").arg("-c").arg(script));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines,
        [
            "Verification failure",
            digest.as_str(),
            "Verified OK",
            digest.as_str()
        ],
        "{out}"
    );
}

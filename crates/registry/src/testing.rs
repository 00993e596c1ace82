//! The test registry fixture (feature `test-registry`): Debian's
//! `docker-registry` (the CNCF distribution registry) on 127.0.0.1 with a
//! CA and server certificate made by `openssl`, optionally Basic auth
//! (htpasswd, bcrypt), state in its own temp dir, killed by pid on drop.
//! Images are built here as OCI layouts from busybox-static and pushed with
//! `skopeo`: third-party tools, so ward reads what others write.
//!
//! ```ignore
//! let reg = TestRegistry::start(Options::tls())?;
//! let img = busybox_layout(&reg.dir.join("layout"))?;
//! reg.push(&reg.dir.join("layout"), "latest", "ward/busybox:1", false)?;
//! let client = Client::new(&reg.host, &reg.config())?;
//! ```

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::{sha256_hex, Config, CredentialSource};

/// What kind of registry to start.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Serve HTTPS with a test CA (else plain HTTP).
    pub tls: bool,
    /// Require Basic auth with this user and password (htpasswd).
    pub basic_auth: Option<(String, String)>,
    /// Require a client certificate signed by the test CA (mTLS).
    pub client_certs: bool,
}

impl Options {
    pub fn tls() -> Options {
        Options {
            tls: true,
            ..Options::default()
        }
    }
}

/// A running registry; stopped (SIGKILL by pid) and removed on drop.
pub struct TestRegistry {
    /// The test's temp dir (registry state, certificates, layouts).
    pub dir: PathBuf,
    /// `127.0.0.1:PORT`.
    pub host: String,
    /// A certs.d base dir whose `HOST/ca.crt` is the test CA.
    pub certs_d: PathBuf,
    /// The test CA certificate (PEM).
    pub ca: PathBuf,
    pub options: Options,
    child: Child,
}

/// Why the fixture cannot run here, if it cannot.
pub fn unavailable() -> Option<String> {
    for tool in [
        "/usr/bin/docker-registry",
        "/usr/bin/skopeo",
        "/usr/bin/openssl",
        "/bin/busybox",
    ] {
        if !Path::new(tool).exists() {
            return Some(format!("{tool} is not installed"));
        }
    }
    None
}

/// A fresh private temp dir.
pub fn temp_dir(name: &str) -> Result<PathBuf, String> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let d = std::env::temp_dir().join(format!(
        "ward-registry-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
    Ok(d)
}

fn run(cmd: &mut Command) -> Result<Vec<u8>, String> {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd:?}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd:?}: {}: {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(out.stdout)
}

/// A CA and a server certificate for 127.0.0.1 signed by it, in `dir`.
/// Returns (ca.crt, server.crt, server.key).
pub fn make_certs(dir: &Path, ca_name: &str) -> Result<(PathBuf, PathBuf, PathBuf), String> {
    let p = |n: &str| dir.join(n);
    run(Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
        ])
        .arg("-keyout")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("ca.crt"))
        .args([
            "-subj",
            &format!("/CN={ca_name}"),
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ]))?;
    run(Command::new("openssl")
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-subj",
            "/CN=127.0.0.1",
        ])
        .arg("-keyout")
        .arg(p("server.key"))
        .arg("-out")
        .arg(p("server.csr")))?;
    std::fs::write(
        p("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .map_err(|e| e.to_string())?;
    run(Command::new("openssl")
        .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
        .arg("-in")
        .arg(p("server.csr"))
        .arg("-CA")
        .arg(p("ca.crt"))
        .arg("-CAkey")
        .arg(p("ca.key"))
        .arg("-out")
        .arg(p("server.crt"))
        .arg("-extfile")
        .arg(p("server.ext")))?;
    Ok((p("ca.crt"), p("server.crt"), p("server.key")))
}

fn free_port() -> Result<u16, String> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(l.local_addr().map_err(|e| e.to_string())?.port())
}

impl TestRegistry {
    /// Starts a registry and waits until it accepts connections.
    pub fn start(options: Options) -> Result<TestRegistry, String> {
        let dir = temp_dir("reg")?;
        let (ca, crt, key) = make_certs(&dir, "ward-test-ca")?;
        let mut last = String::new();
        // The free port may be taken between probe and bind: try a few.
        for _ in 0..4 {
            let port = free_port()?;
            let host = format!("127.0.0.1:{port}");
            let config = dir.join("config.yml");
            std::fs::write(&config, registry_config(&dir, &host, &options, &crt, &key)?)
                .map_err(|e| e.to_string())?;
            let log = std::fs::File::create(dir.join("registry.log")).map_err(|e| e.to_string())?;
            let child = Command::new("/usr/bin/docker-registry")
                .arg("serve")
                .arg(&config)
                .stdin(Stdio::null())
                .stdout(log.try_clone().map_err(|e| e.to_string())?)
                .stderr(log)
                .spawn()
                .map_err(|e| format!("docker-registry: {e}"))?;
            let certs_d = dir.join("certs.d");
            std::fs::create_dir_all(certs_d.join(&host)).map_err(|e| e.to_string())?;
            std::fs::copy(&ca, certs_d.join(&host).join("ca.crt")).map_err(|e| e.to_string())?;
            let mut reg = TestRegistry {
                dir: dir.clone(),
                host,
                certs_d,
                ca: ca.clone(),
                options: options.clone(),
                child,
            };
            match reg.wait_ready() {
                Ok(()) => return Ok(reg),
                Err(e) => last = e,
            }
            // Dropping `reg` would remove the dir: stop just the process.
            let _ = reg.child.kill();
            let _ = reg.child.wait();
            std::mem::forget(reg);
        }
        let _ = std::fs::remove_dir_all(&dir);
        Err(format!("docker-registry did not start: {last}"))
    }

    fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log =
                    std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default();
                return Err(format!("exited with {status}: {log}"));
            }
            if TcpStream::connect(&self.host).is_ok() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("no answer within 20 s".into())
    }

    /// A client config that trusts the test CA, with no credentials (and
    /// plain HTTP for a registry without TLS).
    pub fn config(&self) -> Config {
        Config {
            insecure: if self.options.tls {
                vec![]
            } else {
                vec![self.host.clone()]
            },
            certs_dirs: vec![self.certs_d.clone()],
            credentials: CredentialSource::None,
            ..Config::default()
        }
    }

    /// The directory with the CA for skopeo's `--*-cert-dir`.
    pub fn cert_dir(&self) -> PathBuf {
        self.certs_d.join(&self.host)
    }

    fn skopeo_auth_args(&self, prefix: &str) -> Vec<String> {
        let mut args = Vec::new();
        if self.options.tls {
            args.push(format!("--{prefix}cert-dir={}", self.cert_dir().display()));
        } else {
            args.push(format!("--{prefix}tls-verify=false"));
        }
        if let Some((u, p)) = &self.options.basic_auth {
            args.push(format!("--{prefix}creds={u}:{p}"));
        }
        args
    }

    /// `skopeo copy oci:LAYOUT:REF docker://HOST/DEST` (`--all` for an index).
    pub fn push(
        &self,
        layout: &Path,
        reference: &str,
        dest: &str,
        all: bool,
    ) -> Result<(), String> {
        let extra: &[&str] = if all { &["--all"] } else { &[] };
        self.push_with(layout, reference, dest, extra)
    }

    /// [`TestRegistry::push`] with more `skopeo copy` flags (e.g.
    /// `--format=v2s2` for a Docker schema2 manifest).
    pub fn push_with(
        &self,
        layout: &Path,
        reference: &str,
        dest: &str,
        flags: &[&str],
    ) -> Result<(), String> {
        let mut cmd = Command::new("skopeo");
        cmd.args(["--insecure-policy", "copy", "--quiet"]);
        cmd.args(flags);
        cmd.args(self.skopeo_auth_args("dest-"));
        cmd.arg(format!("oci:{}:{reference}", layout.display()));
        cmd.arg(format!("docker://{}/{dest}", self.host));
        run(&mut cmd).map(|_| ())
    }

    /// `skopeo inspect --raw docker://HOST/REF`: the manifest bytes as
    /// skopeo reads them.
    pub fn inspect_raw(&self, reference: &str) -> Result<Vec<u8>, String> {
        let mut cmd = Command::new("skopeo");
        cmd.args(["--insecure-policy", "inspect", "--raw"]);
        cmd.args(self.skopeo_auth_args(""));
        cmd.arg(format!("docker://{}/{reference}", self.host));
        run(&mut cmd)
    }

    /// A client certificate signed by the test CA, written as
    /// `DIR/client.cert` and `DIR/client.key` (the certs.d names).
    pub fn make_client_cert(&self, dir: &Path) -> Result<(), String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let csr = self.dir.join("client.csr");
        let ext = self.dir.join("client.ext");
        std::fs::write(
            &ext,
            "extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n",
        )
        .map_err(|e| e.to_string())?;
        run(Command::new("openssl")
            .args([
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-subj",
                "/CN=ward-client",
            ])
            .arg("-keyout")
            .arg(dir.join("client.key"))
            .arg("-out")
            .arg(&csr))?;
        run(Command::new("openssl")
            .args(["x509", "-req", "-days", "2", "-CAcreateserial"])
            .arg("-in")
            .arg(&csr)
            .arg("-CA")
            .arg(&self.ca)
            .arg("-CAkey")
            .arg(self.dir.join("ca.key"))
            .arg("-out")
            .arg(dir.join("client.cert"))
            .arg("-extfile")
            .arg(&ext))
        .map(|_| ())
    }

    /// The registry's log so far (for failing tests).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("registry.log")).unwrap_or_default()
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn registry_config(
    dir: &Path,
    host: &str,
    o: &Options,
    crt: &Path,
    key: &Path,
) -> Result<String, String> {
    let mut y = format!(
        "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n  secret: ward-test-secret\n",
        dir.join("storage").display()
    );
    if o.tls {
        y += &format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            crt.display(),
            key.display()
        );
        if o.client_certs {
            let ca = dir.join("ca.crt");
            y += &format!("    clientcas:\n      - {}\n", ca.display());
        }
    }
    if let Some((user, pass)) = &o.basic_auth {
        let hash = bcrypt::hash(pass, 4).map_err(|e| e.to_string())?;
        let path = dir.join("htpasswd");
        std::fs::write(&path, format!("{user}:{hash}\n")).map_err(|e| e.to_string())?;
        y += &format!(
            "auth:\n  htpasswd:\n    realm: ward-test\n    path: {}\n",
            path.display()
        );
    }
    Ok(y)
}

/// Digests of an image written by [`busybox_layout`].
#[derive(Debug, Clone)]
pub struct LayoutImage {
    pub manifest_digest: String,
    pub manifest: Vec<u8>,
    pub config_digest: String,
    pub layer_digest: String,
    pub layer_size: u64,
}

fn write_blob(layout: &Path, data: &[u8]) -> Result<String, String> {
    let hex = sha256_hex(data);
    let dir = layout.join("blobs").join("sha256");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join(&hex), data).map_err(|e| e.to_string())?;
    Ok(format!("sha256:{hex}"))
}

/// A one-layer rootfs (`/bin/busybox` from busybox-static, and two small
/// setuid/setgid files where a Debian image has `passwd` and `wall`, which
/// ward's unpacker must strip), gzip-compressed: (compressed bytes, diff_id).
fn busybox_layer(work: &Path) -> Result<(Vec<u8>, String), String> {
    use std::os::unix::fs::PermissionsExt;
    let root = work.join("rootfs");
    std::fs::create_dir_all(root.join("bin")).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(root.join("usr/bin")).map_err(|e| e.to_string())?;
    std::fs::copy("/bin/busybox", root.join("bin/busybox")).map_err(|e| e.to_string())?;
    for (name, mode) in [("usr/bin/passwd", 0o4755), ("usr/bin/wall", 0o2755)] {
        let path = root.join(name);
        std::fs::write(&path, "#!/bin/sh\nexit 0\n").map_err(|e| e.to_string())?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| e.to_string())?;
    }
    let tar = work.join("layer.tar");
    run(Command::new("tar")
        .args([
            "--create",
            "--owner=0",
            "--group=0",
            "--numeric-owner",
            "--mtime=@0",
            "--sort=name",
            "--file",
        ])
        .arg(&tar)
        .arg("-C")
        .arg(&root)
        .args(["bin", "usr"]))?;
    let raw = std::fs::read(&tar).map_err(|e| e.to_string())?;
    let diff_id = format!("sha256:{}", sha256_hex(&raw));
    let gz = run(Command::new("gzip").args(["-n", "-c"]).arg(&tar))?;
    Ok((gz, diff_id))
}

fn image_for_arch(
    layout: &Path,
    layer: &(Vec<u8>, String),
    arch: &str,
) -> Result<LayoutImage, String> {
    let config = serde_json::json!({
        "architecture": arch, "os": "linux",
        "config": {"Cmd": ["/bin/busybox", "sh"]},
        "rootfs": {"type": "layers", "diff_ids": [layer.1]},
    })
    .to_string();
    let config_digest = write_blob(layout, config.as_bytes())?;
    let layer_digest = write_blob(layout, &layer.0)?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": layer.0.len()}],
    })
    .to_string()
    .into_bytes();
    let manifest_digest = write_blob(layout, &manifest)?;
    Ok(LayoutImage {
        manifest_digest,
        manifest,
        config_digest,
        layer_digest,
        layer_size: layer.0.len() as u64,
    })
}

fn write_index_json(
    layout: &Path,
    media_type: &str,
    digest: &str,
    size: usize,
    name: &str,
) -> Result<(), String> {
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": media_type, "digest": digest, "size": size,
                        "annotations": {"org.opencontainers.image.ref.name": name}}],
    });
    std::fs::write(
        layout.join("oci-layout"),
        r#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .map_err(|e| e.to_string())?;
    std::fs::write(layout.join("index.json"), index.to_string()).map_err(|e| e.to_string())
}

/// Writes an OCI layout at `layout` holding one busybox image (amd64)
/// tagged `latest`.
pub fn busybox_layout(layout: &Path) -> Result<LayoutImage, String> {
    let work = layout.with_extension("work");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let layer = busybox_layer(&work)?;
    let img = image_for_arch(layout, &layer, "amd64")?;
    write_index_json(
        layout,
        "application/vnd.oci.image.manifest.v1+json",
        &img.manifest_digest,
        img.manifest.len(),
        "latest",
    )?;
    Ok(img)
}

/// Writes an OCI layout holding an image index (`multi`) with an amd64
/// and an arm64 busybox manifest; returns the index bytes, its digest and
/// the two images.
pub fn multiarch_layout(layout: &Path) -> Result<(Vec<u8>, String, Vec<LayoutImage>), String> {
    let work = layout.with_extension("work");
    std::fs::create_dir_all(&work).map_err(|e| e.to_string())?;
    let layer = busybox_layer(&work)?;
    let images = vec![
        image_for_arch(layout, &layer, "amd64")?,
        image_for_arch(layout, &layer, "arm64")?,
    ];
    let manifests: Vec<serde_json::Value> = images
        .iter()
        .zip(["amd64", "arm64"])
        .map(|(i, arch)| {
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": i.manifest_digest, "size": i.manifest.len(),
                "platform": {"architecture": arch, "os": "linux"},
            })
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": manifests,
    })
    .to_string()
    .into_bytes();
    let digest = write_blob(layout, &index)?;
    write_index_json(
        layout,
        "application/vnd.oci.image.index.v1+json",
        &digest,
        index.len(),
        "multi",
    )?;
    Ok((index, digest, images))
}

/// Writes `DIR/config.json` with a plain `auths` entry for `registry`.
pub fn write_docker_config(
    dir: &Path,
    registry: &str,
    user: &str,
    password: &str,
) -> Result<(), String> {
    use base64::Engine;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let mut f = std::fs::File::create(dir.join("config.json")).map_err(|e| e.to_string())?;
    let json = serde_json::json!({"auths": {registry: {"auth": auth}}});
    f.write_all(json.to_string().as_bytes())
        .map_err(|e| e.to_string())
}

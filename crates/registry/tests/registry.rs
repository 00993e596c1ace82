//! The client against Debian's docker-registry, with images pushed by
//! skopeo (ward_registry::testing).

use std::io::Read;

use ward_registry::testing::{self, Options, TestRegistry};
use ward_registry::{Client, Config, CredentialSource, ErrorKind};

macro_rules! registry {
    ($opts:expr) => {{
        if let Some(why) = testing::unavailable() {
            eprintln!("SKIP: {why}");
            return;
        }
        TestRegistry::start($opts).expect("start registry")
    }};
}

fn read_all(client: &Client, repo: &str, digest: &str) -> Vec<u8> {
    let mut blob = client.blob(repo, digest).expect("blob");
    let mut out = Vec::new();
    blob.read_to_end(&mut out).expect("read blob");
    out
}

#[test]
fn pulls_manifest_and_blobs_over_tls_with_the_certs_d_ca() {
    let reg = registry!(Options::tls());
    let layout = reg.dir.join("layout");
    let img = testing::busybox_layout(&layout).expect("layout");
    reg.push(&layout, "latest", "ward/busybox:1", false)
        .expect("skopeo push");

    let client = Client::new(&reg.host, &reg.config()).expect("client");
    client.ping().expect("ping");
    let m = client
        .manifest("ward/busybox", "1")
        .expect("manifest by tag");
    assert_eq!(m.media_type, "application/vnd.oci.image.manifest.v1+json");
    assert_eq!(m.bytes, img.manifest, "skopeo kept the manifest bytes");
    assert_eq!(m.digest.as_deref(), Some(img.manifest_digest.as_str()));

    let by_digest = client
        .manifest("ward/busybox", &img.manifest_digest)
        .expect("manifest by digest");
    assert_eq!(by_digest.bytes, img.manifest);

    let layer = read_all(&client, "ward/busybox", &img.layer_digest);
    assert_eq!(layer.len() as u64, img.layer_size);
    assert_eq!(
        format!("sha256:{}", sha256(&layer)),
        img.layer_digest,
        "the layer arrives intact"
    );
    let config = read_all(&client, "ward/busybox", &img.config_digest);
    assert!(String::from_utf8_lossy(&config).contains("amd64"));

    let missing = client
        .manifest("ward/busybox", "nope")
        .expect_err("no such tag");
    assert!(
        matches!(missing.kind, ErrorKind::NotFound { .. }),
        "{missing}"
    );
    let text = missing.to_string();
    assert!(
        text.contains(&reg.host) && text.contains("ward/busybox") && text.contains("nope"),
        "{text}"
    );
}

#[test]
fn docker_schema2_manifest_keeps_its_media_type() {
    let reg = registry!(Options::tls());
    let layout = reg.dir.join("layout");
    let img = testing::busybox_layout(&layout).expect("layout");
    reg.push_with(&layout, "latest", "ward/docker:1", &["--format=v2s2"])
        .expect("skopeo push --format=v2s2");
    let client = Client::new(&reg.host, &reg.config()).expect("client");
    let m = client.manifest("ward/docker", "1").expect("manifest");
    assert_eq!(
        m.media_type,
        "application/vnd.docker.distribution.manifest.v2+json"
    );
    assert_eq!(m.digest, Some(format!("sha256:{}", sha256(&m.bytes))));
    let v: serde_json::Value = serde_json::from_slice(&m.bytes).expect("json");
    assert_eq!(v["mediaType"], m.media_type.as_str());
    // skopeo converts the layer's media type, not its bytes.
    assert_eq!(v["layers"][0]["digest"], img.layer_digest.as_str());
    read_all(&client, "ward/docker", &img.layer_digest);
}

#[test]
fn multi_arch_index_is_served_as_an_index() {
    let reg = registry!(Options::tls());
    let layout = reg.dir.join("layout");
    let (index, digest, images) = testing::multiarch_layout(&layout).expect("layout");
    reg.push(&layout, "multi", "ward/multi:1", true)
        .expect("skopeo push --all");
    let client = Client::new(&reg.host, &reg.config()).expect("client");
    let m = client.manifest("ward/multi", "1").expect("index");
    assert_eq!(m.media_type, "application/vnd.oci.image.index.v1+json");
    assert_eq!(m.bytes, index);
    assert_eq!(m.digest.as_deref(), Some(digest.as_str()));
    for img in &images {
        let one = client
            .manifest("ward/multi", &img.manifest_digest)
            .expect("platform manifest");
        assert_eq!(one.bytes, img.manifest);
    }
}

#[test]
fn untrusted_certificate_is_refused_with_the_certs_d_path() {
    let reg = registry!(Options::tls());
    let empty = testing::temp_dir("empty-certs").expect("dir");
    let config = Config {
        certs_dirs: vec![empty.clone()],
        credentials: CredentialSource::None,
        ..Config::default()
    };
    let client = Client::new(&reg.host, &config).expect("client");
    let err = client.manifest("ward/busybox", "1").expect_err("untrusted");
    eprintln!("{err}");
    assert!(
        matches!(err.kind, ErrorKind::UntrustedCertificate { .. }),
        "{err}"
    );
    let text = err.to_string();
    let hint = empty.join(&reg.host).join("ca.crt");
    assert!(
        text.contains("not trusted") && text.contains(&hint.display().to_string()),
        "{text}"
    );
    assert!(
        text.contains(&reg.host) && text.contains("ward/busybox"),
        "{text}"
    );
    // Naming the TLS registry insecure does not turn verification off:
    // the client speaks plain HTTP to it, which the registry refuses.
    let insecure = Config {
        insecure: vec![reg.host.clone()],
        ..config
    };
    let client = Client::new(&reg.host, &insecure).expect("client");
    assert!(client.ping().is_err());
    std::fs::remove_dir_all(empty).ok();
}

#[test]
fn another_ca_is_not_trusted_either() {
    let reg = registry!(Options::tls());
    // A certs.d dir for this host holding a different CA.
    let other = testing::temp_dir("other-ca").expect("dir");
    let (other_ca, _, _) = testing::make_certs(&other, "another-ca").expect("certs");
    let base = other.join("certs.d");
    std::fs::create_dir_all(base.join(&reg.host)).expect("mkdir");
    std::fs::copy(other_ca, base.join(&reg.host).join("ca.crt")).expect("copy");
    let config = Config {
        certs_dirs: vec![base],
        credentials: CredentialSource::None,
        ..Config::default()
    };
    let err = Client::new(&reg.host, &config)
        .expect("client")
        .ping()
        .expect_err("wrong CA");
    eprintln!("{err}");
    assert!(
        matches!(err.kind, ErrorKind::UntrustedCertificate { .. }),
        "{err}"
    );
    std::fs::remove_dir_all(other).ok();
}

#[test]
fn mtls_registry_takes_the_client_certificate_from_certs_d() {
    let reg = registry!(Options {
        client_certs: true,
        ..Options::tls()
    });
    let err = Client::new(&reg.host, &reg.config())
        .expect("client")
        .ping()
        .expect_err("no client certificate");
    eprintln!("{err}");
    assert!(err.to_string().contains("client.cert"), "{err}");
    reg.make_client_cert(&reg.cert_dir())
        .expect("client certificate");
    let client = Client::new(&reg.host, &reg.config()).expect("client with certificate");
    client.ping().expect("mTLS ping");
    // A key that does not fit the certificate is a configuration error,
    // not a crash.
    let other = reg.dir.join("other-key");
    reg.make_client_cert(&other).expect("another certificate");
    std::fs::copy(other.join("client.key"), reg.cert_dir().join("client.key")).expect("copy");
    let err = Client::new(&reg.host, &reg.config())
        .err()
        .expect("mismatched key");
    assert!(err.to_string().contains("do not fit"), "{err}");
}

#[test]
fn plain_http_registry_needs_to_be_named_insecure() {
    let reg = registry!(Options::default());
    let layout = reg.dir.join("layout");
    let img = testing::busybox_layout(&layout).expect("layout");
    reg.push(&layout, "latest", "ward/busybox:1", false)
        .expect("skopeo push");

    let secure = Config {
        insecure: vec![],
        ..reg.config()
    };
    let err = Client::new(&reg.host, &secure)
        .expect("client")
        .manifest("ward/busybox", "1")
        .expect_err("https to a plain-http registry");
    eprintln!("{err}");
    assert!(matches!(err.kind, ErrorKind::NotTls(_)), "{err}");
    assert!(err.to_string().contains("insecure"), "{err}");

    // Loopback gets no exemption: 127.0.0.1 needed naming above, and with
    // the name the pull works.
    let client = Client::new(&reg.host, &reg.config()).expect("client");
    let m = client.manifest("ward/busybox", "1").expect("insecure pull");
    assert_eq!(m.bytes, img.manifest);
    assert_eq!(
        read_all(&client, "ward/busybox", &img.layer_digest).len() as u64,
        img.layer_size
    );
}

#[test]
fn basic_auth_with_right_wrong_and_no_credentials() {
    let reg = registry!(Options {
        basic_auth: Some(("ward".into(), "correct-horse".into())),
        ..Options::tls()
    });
    let layout = reg.dir.join("layout");
    let img = testing::busybox_layout(&layout).expect("layout");
    reg.push(&layout, "latest", "ward/private:1", false)
        .expect("skopeo push");

    let right = reg.dir.join("docker-right");
    testing::write_docker_config(&right, &reg.host, "ward", "correct-horse").expect("config");
    let cfg = |dir: &std::path::Path| Config {
        credentials: CredentialSource::DockerConfigDir(dir.to_path_buf()),
        ..reg.config()
    };
    let client = Client::new(&reg.host, &cfg(&right)).expect("client");
    let m = client
        .manifest("ward/private", "1")
        .expect("authorized pull");
    assert_eq!(m.bytes, img.manifest);
    read_all(&client, "ward/private", &img.layer_digest);

    let wrong = reg.dir.join("docker-wrong");
    testing::write_docker_config(&wrong, &reg.host, "ward", "battery-staple").expect("config");
    let err = Client::new(&reg.host, &cfg(&wrong))
        .expect("client")
        .manifest("ward/private", "1")
        .expect_err("wrong password");
    eprintln!("{err}");
    assert!(
        matches!(err.kind, ErrorKind::BadCredentials { .. }),
        "{err}"
    );
    let text = err.to_string();
    let file = wrong.join("config.json").display().to_string();
    assert!(
        text.contains(&reg.host)
            && text.contains("refused the credentials")
            && text.contains(&file),
        "{text}"
    );

    let none = reg.dir.join("docker-none");
    std::fs::create_dir_all(&none).expect("mkdir");
    let err = Client::new(&reg.host, &cfg(&none))
        .expect("client")
        .manifest("ward/private", "1")
        .expect_err("no credentials");
    eprintln!("{err}");
    assert!(matches!(err.kind, ErrorKind::NoCredentials { .. }), "{err}");
    assert!(err.to_string().contains("no credentials"), "{err}");
}

#[test]
fn registry_down_is_a_clear_error() {
    // A port that was free a moment ago: nothing listens.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let host = format!("127.0.0.1:{port}");
    let config = Config {
        certs_dirs: vec![],
        credentials: CredentialSource::None,
        ..Config::default()
    };
    let err = Client::new(&host, &config)
        .expect("client")
        .manifest("ward/busybox", "1")
        .expect_err("down");
    eprintln!("{err}");
    assert!(matches!(err.kind, ErrorKind::Unreachable { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains(&host)
            && text.contains("ward/busybox")
            && text.contains("connection refused"),
        "{text}"
    );
}

#[test]
fn pushed_blob_and_manifest_read_back_by_skopeo() {
    let reg = registry!(Options::tls());
    let client = Client::new(&reg.host, &reg.config()).expect("client");
    let config =
        br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = format!("sha256:{}", sha256(config));
    client
        .push_blob("ward/pushed", &config_digest, config)
        .expect("push config blob");
    // Again: the registry has it, nothing is uploaded.
    client
        .push_blob("ward/pushed", &config_digest, config)
        .expect("push again");
    let bad = client
        .push_blob("ward/pushed", &config_digest, b"other bytes")
        .expect_err("digest mismatch");
    assert!(matches!(bad.kind, ErrorKind::Protocol(_)), "{bad}");

    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [],
    })
    .to_string();
    let digest = client
        .put_manifest(
            "ward/pushed",
            "v1",
            manifest.as_bytes(),
            "application/vnd.oci.image.manifest.v1+json",
        )
        .expect("put manifest");
    assert_eq!(digest, format!("sha256:{}", sha256(manifest.as_bytes())));
    let seen = reg.inspect_raw("ward/pushed:v1").expect("skopeo inspect");
    assert_eq!(seen, manifest.as_bytes(), "skopeo reads what ward pushed");
    assert_eq!(
        read_all(&client, "ward/pushed", &config_digest),
        config.to_vec()
    );
}

fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

//! A blocking client of the OCI distribution API (v2), HTTPS only.
//!
//! One [`Client`] talks to one registry (`host[:port]`). It fetches
//! manifests as exact bytes with their media type, streams blobs (the
//! caller verifies digest and size while reading), and pushes blobs and
//! manifests (for signatures). Authentication: Basic, and Docker's bearer
//! tokens, with credentials from Docker's `config.json` or a credential
//! helper. Trust: the system's roots plus the registry's certs.d directory;
//! verification is never off, plain HTTP only for a registry the caller
//! names as insecure, and no exemption for loopback addresses
//! (docs/registry.md).

#![forbid(unsafe_code)]

mod auth;
pub mod creds;
mod error;
mod http;
#[cfg(feature = "test-registry")]
pub mod testing;
mod tls;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Mutex;

pub use creds::CredentialSource;
pub use error::{Error, ErrorKind};

/// Where registries' own CAs and client certificates live by default.
pub const DEFAULT_CERTS_DIR: &str = "/etc/ward/certs.d";

/// The manifest media types a pull accepts: OCI index and manifest, Docker
/// schema2 list and manifest.
pub const MANIFEST_MEDIA_TYPES: [&str; 4] = [
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// The largest manifest read (containerd's limit): a manifest is metadata,
/// a bigger answer is an attack on memory.
pub const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// How clients reach registries.
#[derive(Debug, Clone)]
pub struct Config {
    /// Registries (`host[:port]`, exactly as in references) reached over
    /// plain HTTP. Never implied: not for loopback addresses either.
    pub insecure: Vec<String>,
    /// certs.d base directories; a registry's CAs are in `BASE/HOST[:PORT]/`.
    pub certs_dirs: Vec<PathBuf>,
    pub credentials: CredentialSource,
    pub user_agent: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            insecure: Vec::new(),
            certs_dirs: vec![PathBuf::from(DEFAULT_CERTS_DIR)],
            credentials: CredentialSource::DockerConfig,
            user_agent: format!("ward/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

/// A manifest as the registry sent it.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The exact bytes (their digest is the manifest's digest).
    pub bytes: Vec<u8>,
    /// `Content-Type` (or the body's `mediaType` when the header is generic).
    pub media_type: String,
    /// The registry's `Docker-Content-Digest`, if it sent one.
    pub digest: Option<String>,
}

/// A blob being streamed from the registry.
pub struct Blob {
    reader: Box<dyn Read + Send>,
    /// `Content-Length`, if the registry sent one.
    pub length: Option<u64>,
}

impl Read for Blob {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.reader.read(buf)
    }
}

/// A client of one registry.
pub struct Client {
    t: http::Transport,
}

impl Client {
    /// A client for `registry` (`host[:port]`, as in an image reference).
    pub fn new(registry: &str, config: &Config) -> Result<Client, Error> {
        let err = |kind| Error {
            registry: registry.to_string(),
            repository: None,
            kind,
        };
        if !valid_registry(registry) {
            return Err(err(ErrorKind::Config(format!(
                "{registry:?} is not a registry host[:port]"
            ))));
        }
        let insecure = config
            .insecure
            .iter()
            .any(|h| h.eq_ignore_ascii_case(registry));
        let api_host = if creds::is_docker_hub(registry) {
            "registry-1.docker.io"
        } else {
            registry
        };
        let scheme = if insecure { "http" } else { "https" };
        let tls = tls::config(&config.certs_dirs, registry).map_err(|e| {
            err(ErrorKind::Config(format!(
                "the registry's certs.d directory: {e}"
            )))
        })?;
        let agent = http::agent(tls, &config.user_agent);
        let certs_dir = config
            .certs_dirs
            .first()
            .cloned()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CERTS_DIR))
            .join(registry);
        Ok(Client {
            t: http::Transport {
                registry: registry.to_string(),
                origin: format!("{scheme}://{api_host}"),
                insecure,
                agent,
                credentials: config.credentials.clone(),
                certs_dir,
                auth: Mutex::new(http::AuthState::default()),
            },
        })
    }

    /// The registry this client talks to.
    pub fn registry(&self) -> &str {
        &self.t.registry
    }

    /// Checks that the registry answers the v2 API (and that the
    /// credentials, if it wants any, are accepted).
    pub fn ping(&self) -> Result<(), Error> {
        let url = format!("{}/v2/", self.t.origin);
        let resp = self
            .t
            .request(None, http::Action::Pull, "GET", &url, &[], None)?;
        match resp.status().as_u16() {
            200 => Ok(()),
            s => Err(self.t.status_error(None, s, "the v2 API endpoint", resp)),
        }
    }

    /// The manifest `tag_or_digest` of `repo`, as exact bytes.
    pub fn manifest(&self, repo: &str, tag_or_digest: &str) -> Result<Manifest, Error> {
        self.check_names(repo, Some(tag_or_digest))?;
        let url = format!("{}/v2/{repo}/manifests/{tag_or_digest}", self.t.origin);
        let accept = MANIFEST_MEDIA_TYPES.join(", ");
        let resp = self.t.request(
            Some(repo),
            http::Action::Pull,
            "GET",
            &url,
            &[("Accept", accept)],
            None,
        )?;
        let status = resp.status().as_u16();
        if status != 200 {
            let what = format!("manifest {tag_or_digest}");
            return Err(self.t.status_error(Some(repo), status, &what, resp));
        }
        let header = |name: &str| {
            resp.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let content_type = header("content-type");
        let digest = header("docker-content-digest");
        let mut body = resp.into_body();
        let bytes = body
            .with_config()
            .limit(MAX_MANIFEST_BYTES)
            .read_to_vec()
            .map_err(|e| {
                self.error(
                    Some(repo),
                    ErrorKind::Io(format!("reading manifest {tag_or_digest}: {e}")),
                )
            })?;
        if let Some(want) = tag_or_digest.strip_prefix("sha256:") {
            let got = sha256_hex(&bytes);
            if got != want {
                return Err(self.error(
                    Some(repo),
                    ErrorKind::Protocol(format!(
                        "manifest {tag_or_digest}: the registry sent bytes whose digest is sha256:{got}"
                    )),
                ));
            }
        }
        let media_type = media_type_of(content_type.as_deref(), &bytes).ok_or_else(|| {
            self.error(
                Some(repo),
                ErrorKind::Protocol(format!(
                    "manifest {tag_or_digest}: no media type (Content-Type {content_type:?}, none in the body)"
                )),
            )
        })?;
        Ok(Manifest {
            bytes,
            media_type,
            digest,
        })
    }

    /// Streams blob `digest` of `repo`. Follows the registry's redirect to
    /// storage only to https (or the same insecure registry).
    pub fn blob(&self, repo: &str, digest: &str) -> Result<Blob, Error> {
        self.check_names(repo, Some(digest))?;
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.t.origin);
        let resp = self.t.get_following_redirects(repo, &url)?;
        let status = resp.status().as_u16();
        if status != 200 {
            let what = format!("blob {digest}");
            return Err(self.t.status_error(Some(repo), status, &what, resp));
        }
        let length = resp
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        Ok(Blob {
            reader: Box::new(http::ContextReader {
                inner: resp.into_body().into_reader(),
                context: format!(
                    "registry {}, repository {repo}, blob {digest}",
                    self.t.registry
                ),
            }),
            length,
        })
    }

    /// Uploads `data` as blob `digest` (monolithic POST then PUT), unless
    /// the registry has it already.
    pub fn push_blob(&self, repo: &str, digest: &str, data: &[u8]) -> Result<(), Error> {
        self.check_names(repo, Some(digest))?;
        let got = format!("sha256:{}", sha256_hex(data));
        if got != digest {
            return Err(self.error(
                Some(repo),
                ErrorKind::Protocol(format!("push of blob {digest}: the data's digest is {got}")),
            ));
        }
        let blob_url = format!("{}/v2/{repo}/blobs/{digest}", self.t.origin);
        let head = self
            .t
            .request(Some(repo), http::Action::Push, "HEAD", &blob_url, &[], None)?;
        if head.status().as_u16() == 200 {
            return Ok(());
        }
        let start_url = format!("{}/v2/{repo}/blobs/uploads/", self.t.origin);
        let resp = self.t.request(
            Some(repo),
            http::Action::Push,
            "POST",
            &start_url,
            &[],
            Some(&[]),
        )?;
        if resp.status().as_u16() != 202 {
            let s = resp.status().as_u16();
            return Err(self
                .t
                .status_error(Some(repo), s, "blob upload start", resp));
        }
        let location = self.t.location(repo, &resp)?;
        let sep = if location.contains('?') { '&' } else { '?' };
        let put_url = format!("{location}{sep}digest={}", auth::query_escape(digest));
        let headers = [("Content-Type", "application/octet-stream".to_string())];
        let resp = self.t.request(
            Some(repo),
            http::Action::Push,
            "PUT",
            &put_url,
            &headers,
            Some(data),
        )?;
        match resp.status().as_u16() {
            201 | 204 => Ok(()),
            s => Err(self
                .t
                .status_error(Some(repo), s, &format!("blob {digest} upload"), resp)),
        }
    }

    /// Uploads a manifest under `tag` (or a digest); returns its digest.
    pub fn put_manifest(
        &self,
        repo: &str,
        tag: &str,
        bytes: &[u8],
        media_type: &str,
    ) -> Result<String, Error> {
        self.check_names(repo, Some(tag))?;
        let digest = format!("sha256:{}", sha256_hex(bytes));
        let url = format!("{}/v2/{repo}/manifests/{tag}", self.t.origin);
        let headers = [("Content-Type", media_type.to_string())];
        let resp = self.t.request(
            Some(repo),
            http::Action::Push,
            "PUT",
            &url,
            &headers,
            Some(bytes),
        )?;
        let status = resp.status().as_u16();
        if status != 201 && status != 200 {
            return Err(self.t.status_error(
                Some(repo),
                status,
                &format!("manifest {tag} upload"),
                resp,
            ));
        }
        if let Some(theirs) = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
        {
            if theirs != digest {
                return Err(self.error(
                    Some(repo),
                    ErrorKind::Protocol(format!(
                        "manifest {tag}: the registry stored digest {theirs}, ward sent {digest}"
                    )),
                ));
            }
        }
        Ok(digest)
    }

    fn error(&self, repo: Option<&str>, kind: ErrorKind) -> Error {
        self.t.error(repo, kind)
    }

    /// Repository names and references go into URLs: refuse anything that
    /// could change the URL's meaning (`?`, `#`, `..`, `%`).
    fn check_names(&self, repo: &str, reference: Option<&str>) -> Result<(), Error> {
        let repo_ok = !repo.is_empty()
            && repo.split('/').all(|c| {
                !c.is_empty()
                    && c.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
                    && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
            });
        if !repo_ok {
            return Err(self.error(
                Some(repo),
                ErrorKind::Config(format!("{repo:?} is not a repository name")),
            ));
        }
        if let Some(r) = reference {
            let ok = !r.is_empty()
                && r.len() <= 200
                && r.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-:+=".contains(&b))
                && !r.starts_with(['.', '-']);
            if !ok {
                return Err(self.error(
                    Some(repo),
                    ErrorKind::Config(format!("{r:?} is not a tag or digest")),
                ));
            }
        }
        Ok(())
    }
}

/// A host[:port] as references write it. The name also becomes a
/// directory under the certs.d bases, so `.`/`..` (or a name starting with
/// a dot) would read another directory's CAs.
fn valid_registry(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s.starts_with('.')
        && !s.contains("..")
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// The media type from `Content-Type` (without parameters), or the body's
/// `mediaType` when the header is missing or generic JSON.
fn media_type_of(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_string())
        .filter(|c| !c.is_empty() && c != "application/json" && c != "text/plain");
    header.or_else(|| {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        v.get("mediaType")?.as_str().map(str::to_string)
    })
}

pub(crate) fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(data);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The registry name becomes a certs.d directory: `..` would name
    /// another directory's CAs (/etc/ward/certs.d/.. = /etc/ward).
    #[test]
    fn registry_names_cannot_leave_the_certs_dir() {
        for bad in ["..", ".", "..:5000", ".hidden", "a..b", "a/b", ""] {
            assert!(
                Client::new(bad, &Config::default()).is_err(),
                "{bad:?} accepted"
            );
        }
        for good in [
            "registry.example:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "localhost",
        ] {
            assert!(Client::new(good, &Config::default()).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn names_are_checked_before_they_reach_a_url() {
        let cfg = Config {
            certs_dirs: vec![],
            ..Config::default()
        };
        let c = Client::new("127.0.0.1:1", &cfg).expect("client");
        for bad in ["", "a/../b", "A", "a?x=1", "a#b", "a//b", "/a", "a%2f"] {
            assert!(c.check_names(bad, None).is_err(), "{bad}");
        }
        for bad in ["../x", "a/b", "x?y", "", "-x"] {
            assert!(c.check_names("a/b", Some(bad)).is_err(), "{bad}");
        }
        assert!(c
            .check_names("ward/busy-box_1.0", Some("sha256:00ff"))
            .is_ok());
        assert!(Client::new("host/path", &cfg).is_err());
        assert!(Client::new("user@host", &cfg).is_err());
    }

    #[test]
    fn client_and_blob_cross_threads() {
        // ward-image pulls blobs concurrently from one client.
        fn send_sync<T: Send + Sync>() {}
        fn send<T: Send + 'static>() {}
        send_sync::<Client>();
        send::<Blob>();
    }

    #[test]
    fn media_type_from_header_or_body() {
        assert_eq!(
            media_type_of(
                Some("application/vnd.oci.image.index.v1+json; charset=utf-8"),
                b"{}"
            )
            .as_deref(),
            Some("application/vnd.oci.image.index.v1+json")
        );
        let body = br#"{"mediaType":"application/vnd.oci.image.manifest.v1+json"}"#;
        assert_eq!(
            media_type_of(Some("application/json"), body).as_deref(),
            Some("application/vnd.oci.image.manifest.v1+json")
        );
        assert_eq!(media_type_of(None, b"{}"), None);
    }

    #[test]
    fn loopback_is_not_insecure_by_default() {
        let cfg = Config {
            certs_dirs: vec![],
            ..Config::default()
        };
        for host in [
            "127.0.0.1:5000",
            "localhost:5000",
            "[::1]:5000",
            "localhost",
        ] {
            let c = Client::new(host, &cfg).expect("client");
            assert!(c.t.origin.starts_with("https://"), "{host}: {}", c.t.origin);
            assert!(!c.t.insecure);
        }
        let cfg = Config {
            insecure: vec!["LOCALHOST:5000".into()],
            certs_dirs: vec![],
            ..Config::default()
        };
        assert!(
            Client::new("localhost:5000", &cfg)
                .expect("client")
                .t
                .insecure
        );
        assert!(
            !Client::new("localhost:5001", &cfg)
                .expect("client")
                .t
                .insecure
        );
    }
}

//! Errors of the registry client. Every one names the registry and, when
//! the call had one, the repository: a user with several registries in a
//! policy must see which one failed.

use std::fmt;
use std::path::PathBuf;

/// An error of one registry call.
#[derive(Debug)]
pub struct Error {
    /// `host[:port]` as the caller named it.
    pub registry: String,
    /// The repository of the call, if it had one.
    pub repository: Option<String>,
    pub kind: ErrorKind,
}

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The certificate chain does not lead to a trusted root.
    #[error("the registry's TLS certificate is not trusted ({detail}); if this registry is yours, put its CA certificate in {certs_dir}/ca.crt")]
    UntrustedCertificate { detail: String, certs_dir: PathBuf },
    /// Any other TLS failure (name mismatch, expired, protocol).
    #[error("TLS failed: {0}")]
    Tls(String),
    /// The registry answered plain HTTP to an HTTPS request.
    #[error("the registry does not speak HTTPS ({0}); ward uses plain HTTP only for a registry the configuration names as insecure")]
    NotTls(String),
    /// Connection refused, unknown host, timeout.
    #[error("cannot reach the registry at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// The registry wants credentials and has none.
    #[error("the registry requires authentication and no credentials are configured for it (looked in {looked_in})")]
    NoCredentials { looked_in: String },
    /// The registry refused the credentials.
    #[error("the registry refused the credentials from {source_desc}: {detail}")]
    BadCredentials { source_desc: String, detail: String },
    /// The credentials could not be read.
    #[error("cannot read credentials: {0}")]
    Credentials(String),
    /// Authenticated, but not allowed (403, or a token without the scope).
    #[error("access denied: {0}")]
    Denied(String),
    /// 404 for a manifest or blob.
    #[error("{what} not found: {detail}")]
    NotFound { what: String, detail: String },
    /// A redirect to somewhere ward does not follow.
    #[error("refused redirect to {0}: ward follows redirects only to https (or to the same insecure registry)")]
    Redirect(String),
    /// Any other unexpected status.
    #[error("unexpected HTTP status {status} for {what}: {detail}")]
    Status {
        status: u16,
        what: String,
        detail: String,
    },
    /// The answer broke the protocol (bad header, digest mismatch, ...).
    #[error("{0}")]
    Protocol(String),
    /// A bad configuration (certs.d contents, host name).
    #[error("{0}")]
    Config(String),
    /// Reading or writing a body failed midway.
    #[error("{0}")]
    Io(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "registry {}", self.registry)?;
        if let Some(repo) = &self.repository {
            write!(f, ", repository {repo}")?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for Error {}

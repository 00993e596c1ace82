//! What a client trusts: the system's roots plus, for one registry, the
//! CAs and client certificate in its certs.d directory (Docker's and
//! containers' convention: `DIR/HOST[:PORT]/*.crt` are CAs, each
//! `NAME.cert` with `NAME.key` a client certificate for mTLS). Verification
//! is never switched off: an insecure registry is one reached over plain
//! HTTP, which the caller must name; there is no "HTTPS without checks".

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ureq::tls::{Certificate, ClientCert, PrivateKey, RootCerts, TlsConfig, TlsProvider};

/// The certs.d directory of `registry` under each base directory.
pub fn registry_dirs(bases: &[PathBuf], registry: &str) -> Vec<PathBuf> {
    bases.iter().map(|b| b.join(registry)).collect()
}

/// The TLS configuration for one registry.
pub fn config(bases: &[PathBuf], registry: &str) -> Result<TlsConfig, String> {
    let mut roots = system_roots();
    let mut client: Option<ClientCert> = None;
    for dir in registry_dirs(bases, registry) {
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(format!("{}: {e}", dir.display())),
        };
        let mut names: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        names.sort();
        for path in names {
            match path.extension().and_then(|e| e.to_str()) {
                Some("crt") => roots.extend(read_certs(&path)?),
                Some("cert") => {
                    if client.is_some() {
                        return Err(format!(
                            "{}: more than one client certificate (*.cert); keep one",
                            dir.display()
                        ));
                    }
                    client = Some(read_client_cert(&path)?);
                }
                _ => {}
            }
        }
    }
    // ring, not aws-lc-rs: no C/cmake build and a smaller binary. rustls
    // deprecates it for lacking post-quantum key exchange, which registry
    // pulls do not need yet (docs/registry.md).
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    if let Some(c) = &client {
        check_client_cert(&provider, c)?;
    }
    Ok(TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .unversioned_rustls_crypto_provider(provider)
        .root_certs(RootCerts::Specific(Arc::new(roots)))
        .client_cert(client)
        .build())
}

/// The system's CA bundle (`SSL_CERT_FILE`/`SSL_CERT_DIR` or the distro's
/// bundle). Unreadable entries are skipped: the registry's own CA may be
/// all a host needs.
fn system_roots() -> Vec<Certificate<'static>> {
    rustls_native_certs::load_native_certs()
        .certs
        .into_iter()
        .map(|c| Certificate::from_der(c.as_ref()).to_owned())
        .collect()
}

fn read_certs(path: &Path) -> Result<Vec<Certificate<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item.map_err(|e| format!("{}: {e}", path.display()))? {
            ureq::tls::PemItem::Certificate(c) => out.push(c),
            _ => continue,
        }
    }
    if out.is_empty() {
        return Err(format!("{}: no PEM certificate in it", path.display()));
    }
    Ok(out)
}

fn read_client_cert(cert: &Path) -> Result<ClientCert, String> {
    let key_path = cert.with_extension("key");
    let chain = read_certs(cert)?;
    let key_pem = std::fs::read(&key_path).map_err(|e| {
        format!(
            "{}: client certificate without its key {}: {e}",
            cert.display(),
            key_path.display()
        )
    })?;
    let key = PrivateKey::from_pem(&key_pem).map_err(|e| format!("{}: {e}", key_path.display()))?;
    Ok(ClientCert::new_with_certs(&chain, key))
}

/// ureq panics on a key that does not fit its certificate; rustls says so
/// as an error first.
fn check_client_cert(
    provider: &Arc<rustls::crypto::CryptoProvider>,
    c: &ClientCert,
) -> Result<(), String> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain: Vec<CertificateDer<'static>> = c
        .certs()
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let key = PrivateKeyDer::try_from(c.private_key().der().to_vec())
        .map_err(|e| format!("client key: {e}"))?;
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_client_auth_cert(chain, key)
        .map(|_| ())
        .map_err(|e| format!("client certificate and key do not fit: {e}"))
}

//! The HTTP layer of [`Client`]: one request with authentication (a 401
//! answered once by the challenge's scheme), redirects checked by hand,
//! and transport errors turned into messages a user can act on.

use std::collections::HashMap;
use std::io::Read;
use std::time::Duration;

use base64::Engine;
use ureq::http::Response;
use ureq::tls::TlsConfig;
use ureq::Body;

use crate::auth::{self, Challenge};
use crate::creds::{self, Credentials, Lookup};
use crate::{Error, ErrorKind};

/// Why a request is made, for the token scope.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Pull,
    Push,
}

/// One registry's connection, trust and authentication state; the
/// distribution API calls of [`crate::Client`] go through it.
pub struct Transport {
    pub registry: String,
    /// `https://host[:port]` (or `http://` for an insecure registry).
    pub origin: String,
    pub insecure: bool,
    pub agent: ureq::Agent,
    pub credentials: crate::CredentialSource,
    /// The certs.d directory named in "not trusted" errors.
    pub certs_dir: std::path::PathBuf,
    pub auth: std::sync::Mutex<AuthState>,
}

/// How many redirects a blob GET follows.
const MAX_REDIRECTS: usize = 5;

/// What the client learnt about the registry's authentication.
#[derive(Default)]
pub struct AuthState {
    challenge: Option<Challenge>,
    /// Bearer tokens by scope.
    tokens: HashMap<String, String>,
    /// Looked up once per client.
    credentials: Option<Option<Credentials>>,
    /// Where ward looked when it found none (for the error).
    looked_in: String,
}

pub fn agent(tls: TlsConfig, user_agent: &str) -> ureq::Agent {
    ureq::Agent::config_builder()
        .tls_config(tls)
        // Redirects are checked by hand: ureq would follow https -> http.
        .max_redirects(0)
        .max_redirects_will_error(false)
        .http_status_as_error(false)
        .user_agent(user_agent)
        .timeout_connect(Some(Duration::from_secs(15)))
        .timeout_recv_response(Some(Duration::from_secs(120)))
        // A registry that stops sending mid-blob is an error, not a hang;
        // no limit on a whole body (layers may be gigabytes).
        .timeout_per_read(Some(Duration::from_secs(120)))
        .build()
        .new_agent()
}

/// Adds "registry R, repository P, blob D" to errors while streaming.
pub struct ContextReader<R> {
    pub inner: R,
    pub context: String,
}

impl<R: Read> Read for ContextReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.inner
            .read(buf)
            .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", self.context)))
    }
}

fn scope(repo: &str, action: Action) -> String {
    match action {
        Action::Pull => format!("repository:{repo}:pull"),
        Action::Push => format!("repository:{repo}:pull,push"),
    }
}

fn basic(c: &Credentials) -> String {
    let raw = format!("{}:{}", c.username, c.password);
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

impl Transport {
    /// One request, authenticated as the registry asks. `repo` is None only
    /// for the ping of `/v2/`.
    pub(crate) fn request(
        &self,
        repo: Option<&str>,
        action: Action,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
    ) -> Result<Response<Body>, Error> {
        // Credentials and tokens only ever go to the registry itself (an
        // upload Location may name another host).
        if !self.same_origin(url) {
            return self.send(repo, method, url, headers, body, None);
        }
        let scope = repo.map(|r| scope(r, action)).unwrap_or_default();
        let mut answered_challenge = false;
        loop {
            let authorization = self.authorization(&scope);
            let sent = authorization.is_some();
            let resp = self.send(repo, method, url, headers, body, authorization)?;
            if resp.status().as_u16() != 401 {
                return Ok(resp);
            }
            if answered_challenge {
                return Err(self.refused(repo, sent, resp));
            }
            let header = resp
                .headers()
                .get("www-authenticate")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let challenge = auth::parse_challenge(header).ok_or_else(|| {
                self.error(
                    repo,
                    ErrorKind::Protocol(format!(
                        "401 with an unsupported WWW-Authenticate challenge {header:?}"
                    )),
                )
            })?;
            self.answer(repo, &scope, challenge)?;
            answered_challenge = true;
        }
    }

    /// The Authorization header for `scope`, from what earlier challenges taught.
    fn authorization(&self, scope: &str) -> Option<String> {
        let state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        match &state.challenge {
            Some(Challenge::Basic) => state.credentials.clone().flatten().map(|c| basic(&c)),
            Some(Challenge::Bearer { .. }) => {
                state.tokens.get(scope).map(|t| format!("Bearer {t}"))
            }
            None => None,
        }
    }

    fn credentials(&self, repo: Option<&str>) -> Result<(Option<Credentials>, String), Error> {
        let mut state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        if state.credentials.is_none() {
            match creds::lookup(&self.credentials, &self.registry) {
                Ok(Lookup::Found(c)) => state.credentials = Some(Some(c)),
                Ok(Lookup::Missing(where_)) => {
                    state.credentials = Some(None);
                    state.looked_in = where_;
                }
                Err(e) => return Err(self.error(repo, ErrorKind::Credentials(e))),
            }
        }
        Ok((state.credentials.clone().flatten(), state.looked_in.clone()))
    }

    /// Answers a 401's challenge: remembers Basic, or fetches a token.
    fn answer(&self, repo: Option<&str>, scope: &str, challenge: Challenge) -> Result<(), Error> {
        let (credentials, looked_in) = self.credentials(repo)?;
        match &challenge {
            Challenge::Basic => {
                if credentials.is_none() {
                    return Err(self.error(repo, ErrorKind::NoCredentials { looked_in }));
                }
            }
            Challenge::Bearer {
                realm,
                service,
                scope: challenge_scope,
            } => {
                // The ping of /v2/ has no repository: take the registry's scope.
                let want = if scope.is_empty() {
                    challenge_scope.clone().unwrap_or_default()
                } else {
                    scope.to_string()
                };
                let token = self.fetch_token(
                    repo,
                    realm,
                    service.as_deref(),
                    &want,
                    credentials,
                    looked_in,
                )?;
                let mut state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
                state.tokens.insert(scope.to_string(), token);
            }
        }
        let mut state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        state.challenge = Some(challenge);
        Ok(())
    }

    fn fetch_token(
        &self,
        repo: Option<&str>,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        credentials: Option<Credentials>,
        looked_in: String,
    ) -> Result<String, Error> {
        // Credentials go to the realm: only over https (or to the insecure
        // registry itself), never to a plain-HTTP host a 401 named.
        if !self.may_follow(realm) {
            return Err(self.error(
                repo,
                ErrorKind::Protocol(format!(
                    "the token realm {realm} is not https; ward sends no credentials there"
                )),
            ));
        }
        let mut query = Vec::new();
        if let Some(s) = service {
            query.push(format!("service={}", auth::query_escape(s)));
        }
        if !scope.is_empty() {
            query.push(format!("scope={}", auth::query_escape(scope)));
        }
        let sep = if realm.contains('?') { '&' } else { '?' };
        let url = format!("{realm}{sep}{}", query.join("&"));
        let authorization = credentials.as_ref().map(basic);
        let resp = self.send(repo, "GET", &url, &[], None, authorization)?;
        let status = resp.status().as_u16();
        if status == 401 || status == 403 {
            let detail = error_detail(resp);
            return Err(self.error(
                repo,
                match credentials {
                    Some(c) => ErrorKind::BadCredentials {
                        source_desc: c.source,
                        detail: format!("token endpoint {realm}: {detail}"),
                    },
                    None => ErrorKind::NoCredentials { looked_in },
                },
            ));
        }
        if status != 200 {
            return Err(self.status_error(repo, status, &format!("token endpoint {realm}"), resp));
        }
        let answer: auth::TokenAnswer = resp
            .into_body()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| e.to_string())
            .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            .map_err(|e| {
                self.error(
                    repo,
                    ErrorKind::Protocol(format!("token endpoint {realm}: {e}")),
                )
            })?;
        answer.into_token().ok_or_else(|| {
            self.error(
                repo,
                ErrorKind::Protocol(format!("token endpoint {realm} sent no token")),
            )
        })
    }

    /// The error for a 401 after the challenge was answered.
    fn refused(&self, repo: Option<&str>, sent: bool, resp: Response<Body>) -> Error {
        let detail = error_detail(resp);
        let state = self.auth.lock().unwrap_or_else(|p| p.into_inner());
        let kind = match (state.credentials.clone().flatten(), sent) {
            (Some(c), true) if matches!(state.challenge, Some(Challenge::Basic)) => {
                ErrorKind::BadCredentials {
                    source_desc: c.source,
                    detail,
                }
            }
            (Some(c), _) => ErrorKind::Denied(format!(
                "the token for the credentials from {} does not grant this: {detail}",
                c.source
            )),
            (None, _) => ErrorKind::NoCredentials {
                looked_in: state.looked_in.clone(),
            },
        };
        self.error(repo, kind)
    }

    fn send(
        &self,
        repo: Option<&str>,
        method: &str,
        url: &str,
        headers: &[(&str, String)],
        body: Option<&[u8]>,
        authorization: Option<String>,
    ) -> Result<Response<Body>, Error> {
        let mut b = ureq::http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            b = b.header(*k, v);
        }
        if let Some(a) = authorization {
            b = b.header("Authorization", a);
        }
        let result = match body {
            Some(data) => b.body(data).map(|r| self.agent.run(r)),
            None => b.body(()).map(|r| self.agent.run(r)),
        };
        let result = result.map_err(|e| {
            self.error(repo, ErrorKind::Protocol(format!("bad request {url}: {e}")))
        })?;
        result.map_err(|e| self.error(repo, self.transport_error(url, e)))
    }

    /// GET with the registry's redirects (to storage) followed by hand:
    /// only to https, or within the same insecure registry; credentials only
    /// to the registry itself.
    pub(crate) fn get_following_redirects(
        &self,
        repo: &str,
        url: &str,
    ) -> Result<Response<Body>, Error> {
        let mut resp = self.request(Some(repo), Action::Pull, "GET", url, &[], None)?;
        for _ in 0..MAX_REDIRECTS {
            if !matches!(resp.status().as_u16(), 301 | 302 | 303 | 307 | 308) {
                return Ok(resp);
            }
            let next = self.location(repo, &resp)?;
            resp = if self.same_origin(&next) {
                self.request(Some(repo), Action::Pull, "GET", &next, &[], None)?
            } else {
                self.send(Some(repo), "GET", &next, &[], None, None)?
            };
        }
        Err(self.error(
            Some(repo),
            ErrorKind::Protocol(format!("more than {MAX_REDIRECTS} redirects for {url}")),
        ))
    }

    /// The absolute URL of a response's `Location`, if ward may go there.
    pub(crate) fn location(&self, repo: &str, resp: &Response<Body>) -> Result<String, Error> {
        let loc = resp
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                self.error(
                    Some(repo),
                    ErrorKind::Protocol(format!("HTTP {} without a Location", resp.status())),
                )
            })?;
        let url = if loc.starts_with('/') {
            format!("{}{loc}", self.origin)
        } else {
            loc.to_string()
        };
        if !self.may_follow(&url) {
            return Err(self.error(Some(repo), ErrorKind::Redirect(url)));
        }
        Ok(url)
    }

    fn same_origin(&self, url: &str) -> bool {
        url.strip_prefix(&self.origin)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    }

    /// https anywhere; plain http only within the insecure registry itself.
    fn may_follow(&self, url: &str) -> bool {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("https://") {
            return true;
        }
        self.insecure && self.same_origin(url)
    }

    pub fn error(&self, repo: Option<&str>, kind: ErrorKind) -> Error {
        Error {
            registry: self.registry.clone(),
            repository: repo.map(str::to_string),
            kind,
        }
    }

    pub(crate) fn status_error(
        &self,
        repo: Option<&str>,
        status: u16,
        what: &str,
        resp: Response<Body>,
    ) -> Error {
        let detail = error_detail(resp);
        let kind = match status {
            404 => ErrorKind::NotFound {
                what: what.to_string(),
                detail,
            },
            403 => ErrorKind::Denied(format!("{what}: {detail}")),
            _ => ErrorKind::Status {
                status,
                what: what.to_string(),
                detail,
            },
        };
        self.error(repo, kind)
    }

    fn transport_error(&self, url: &str, e: ureq::Error) -> ErrorKind {
        if let Some(tls) = rustls_error(&e) {
            return match tls {
                rustls::Error::InvalidCertificate(c) => match c {
                    rustls::CertificateError::UnknownIssuer
                    | rustls::CertificateError::BadSignature => ErrorKind::UntrustedCertificate {
                        detail: if matches!(c, rustls::CertificateError::UnknownIssuer) {
                            "issued by an unknown CA".to_string()
                        } else {
                            "bad signature".to_string()
                        },
                        certs_dir: self.certs_dir.clone(),
                    },
                    other => ErrorKind::Tls(format!("bad certificate: {other:?}")),
                },
                rustls::Error::AlertReceived(
                    a @ (rustls::AlertDescription::BadCertificate
                    | rustls::AlertDescription::CertificateRequired
                    | rustls::AlertDescription::UnknownCA),
                ) => ErrorKind::Tls(format!(
                    "the registry refused the handshake ({a:?}); if it requires a client certificate, put client.cert and client.key in {}",
                    self.certs_dir.display()
                )),
                rustls::Error::InvalidMessage(_) => ErrorKind::NotTls(format!("{url}: {tls}")),
                other => ErrorKind::Tls(format!("{url}: {other}")),
            };
        }
        let detail = match &e {
            ureq::Error::HostNotFound => "host not found".to_string(),
            ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                "connection refused (is the registry running?)".to_string()
            }
            other => other.to_string(),
        };
        match e {
            ureq::Error::Protocol(_) => ErrorKind::Protocol(format!("{url}: {detail}")),
            _ => ErrorKind::Unreachable {
                url: url.to_string(),
                detail,
            },
        }
    }
}

/// The rustls error inside a ureq error, if any.
fn rustls_error(e: &ureq::Error) -> Option<&rustls::Error> {
    match e {
        ureq::Error::Rustls(r) => Some(r),
        ureq::Error::Io(io) => io.get_ref()?.downcast_ref::<rustls::Error>(),
        _ => None,
    }
}

/// The registry's `{"errors":[{"code":..,"message":..}]}`, or the start of
/// the body.
fn error_detail(resp: Response<Body>) -> String {
    let detail = raw_error_detail(resp);
    // The registry's text goes to the user's terminal: no escape sequences.
    detail
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

fn raw_error_detail(resp: Response<Body>) -> String {
    let status = resp.status();
    let text = resp
        .into_body()
        .with_config()
        .limit(64 << 10)
        .read_to_string()
        .unwrap_or_default();
    #[derive(serde::Deserialize)]
    struct Errors {
        errors: Vec<One>,
    }
    #[derive(serde::Deserialize)]
    struct One {
        #[serde(default)]
        code: String,
        #[serde(default)]
        message: String,
    }
    if let Ok(errs) = serde_json::from_str::<Errors>(&text) {
        let parts: Vec<String> = errs
            .errors
            .iter()
            .map(|e| format!("{} ({})", e.message, e.code))
            .collect();
        if !parts.is_empty() {
            return parts.join("; ");
        }
    }
    let short: String = text.trim().chars().take(200).collect();
    if short.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {short}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response<Body> {
        Response::builder()
            .status(status)
            .body(Body::builder().data(body.as_bytes().to_vec()))
            .expect("response")
    }

    /// A registry's error text reaches the user's terminal: its control
    /// characters (ESC starting a terminal escape sequence: retitle, OSC 52
    /// clipboard writes, hiding text) must not.
    #[test]
    fn error_text_from_the_registry_has_no_control_characters() {
        let json = r#"{"errors":[{"code":"DENIED","message":"no\u001b]52;c;ZWNobyBoaQ==\u0007 \u001b[8mhidden\r\nX"}]}"#;
        let plain = "oops\u{1b}[2J\u{9b}31m";
        for (body, want) in [
            (json, "no?]52;c;ZWNobyBoaQ==? ?[8mhidden??X (DENIED)"),
            (plain, "HTTP 500 Internal Server Error: oops?[2J?31m"),
        ] {
            let detail = error_detail(response(500, body));
            assert!(!detail.chars().any(char::is_control), "{detail:?}");
            assert_eq!(detail, want);
        }
    }
}

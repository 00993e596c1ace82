//! Docker's bearer-token flow and the redirect rules, against a tiny fake
//! registry in this test (plain HTTP, named insecure, on 127.0.0.1): the
//! distribution registry's token mode needs a signing token server, which
//! this fake stands in for at the protocol level the client sees.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine;
use ward_registry::{Client, Config, CredentialSource, ErrorKind};

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:00","size":2},"layers":[]}"#;

struct Fake {
    host: String,
    /// Request lines with their Authorization header, in order.
    seen: Arc<Mutex<Vec<String>>>,
}

fn start() -> Fake {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let host = listener.local_addr().expect("addr").to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (h, s) = (host.clone(), seen.clone());
    // Serves until the test process ends; one connection at a time.
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let _ = serve(conn, &h, &s);
        }
    });
    Fake { host, seen }
}

fn serve(conn: TcpStream, host: &str, seen: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let target = line.split_whitespace().nth(1).unwrap_or("").to_string();
    let mut authorization = String::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                authorization = v.trim().to_string();
            }
        }
    }
    seen.lock()
        .unwrap_or_else(|p| p.into_inner())
        .push(format!("{target} [{authorization}]"));
    let good_basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:right")
    );
    let challenge = |realm: &str| {
        format!("401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"{realm}\",service=\"fake\",scope=\"repository:ward/tok:pull\"")
    };
    let (status, body, ctype) = match target.as_str() {
        t if t.starts_with("/token?") => match authorization.as_str() {
            a if a == good_basic => (
                "200 OK".to_string(),
                r#"{"token":"good-token"}"#.to_string(),
                "application/json",
            ),
            "" => (
                "200 OK".into(),
                r#"{"access_token":"anonymous-token"}"#.into(),
                "application/json",
            ),
            _ => (
                "401 Unauthorized".into(),
                r#"{"errors":[{"code":"UNAUTHORIZED","message":"bad password"}]}"#.into(),
                "application/json",
            ),
        },
        "/v2/ward/tok/manifests/1" if authorization == "Bearer good-token" => (
            "200 OK".into(),
            MANIFEST.into(),
            "application/vnd.oci.image.manifest.v1+json",
        ),
        "/v2/ward/tok/manifests/1" => (
            challenge(&format!("http://{host}/token")),
            String::new(),
            "text/plain",
        ),
        "/v2/ward/evilrealm/manifests/1" => (
            challenge("http://127.0.0.1:9/token"),
            String::new(),
            "text/plain",
        ),
        "/v2/ward/redir/blobs/sha256:aa" => (
            "307 Temporary Redirect\r\nLocation: http://127.0.0.2:9/storage/aa".into(),
            String::new(),
            "text/plain",
        ),
        "/v2/ward/redir/blobs/sha256:bb" => (
            "307 Temporary Redirect\r\nLocation: /storage/bb".into(),
            String::new(),
            "text/plain",
        ),
        "/storage/bb" => (
            "200 OK".into(),
            "blob-bb".into(),
            "application/octet-stream",
        ),
        _ => ("404 Not Found".into(), String::new(), "text/plain"),
    };
    let mut conn = conn;
    write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    conn.flush()
}

fn config(fake: &Fake, credentials: CredentialSource) -> Config {
    Config {
        insecure: vec![fake.host.clone()],
        certs_dirs: vec![],
        credentials,
        ..Config::default()
    }
}

fn alice(password: &str) -> CredentialSource {
    CredentialSource::Static {
        username: "alice".into(),
        password: password.into(),
    }
}

#[test]
fn token_flow_sends_scope_service_and_basic_to_the_realm() {
    let fake = start();
    let client = Client::new(&fake.host, &config(&fake, alice("right"))).expect("client");
    let m = client
        .manifest("ward/tok", "1")
        .expect("manifest with a token");
    assert_eq!(m.bytes, MANIFEST.as_bytes());
    // Again: the cached token is sent at once, no new token request.
    client.manifest("ward/tok", "1").expect("second pull");
    let seen = fake.seen.lock().expect("lock").clone();
    let tokens: Vec<&String> = seen.iter().filter(|s| s.starts_with("/token?")).collect();
    assert_eq!(tokens.len(), 1, "{seen:#?}");
    assert!(
        tokens[0].contains("service=fake")
            && tokens[0].contains("scope=repository%3Award%2Ftok%3Apull")
            && tokens[0].contains("[Basic "),
        "{seen:#?}"
    );
    assert_eq!(
        seen.last().map(String::as_str),
        Some("/v2/ward/tok/manifests/1 [Bearer good-token]")
    );
}

#[test]
fn token_endpoint_refusing_the_password_names_the_credentials() {
    let fake = start();
    let err = Client::new(&fake.host, &config(&fake, alice("wrong")))
        .expect("client")
        .manifest("ward/tok", "1")
        .expect_err("wrong password");
    eprintln!("{err}");
    assert!(
        matches!(err.kind, ErrorKind::BadCredentials { .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("bad password") && text.contains("credentials given to ward"),
        "{text}"
    );
}

#[test]
fn anonymous_token_without_access_says_no_credentials() {
    let fake = start();
    let err = Client::new(&fake.host, &config(&fake, CredentialSource::None))
        .expect("client")
        .manifest("ward/tok", "1")
        .expect_err("anonymous");
    eprintln!("{err}");
    assert!(matches!(err.kind, ErrorKind::NoCredentials { .. }), "{err}");
}

#[test]
fn credentials_never_go_to_a_plain_http_realm() {
    let fake = start();
    let err = Client::new(&fake.host, &config(&fake, alice("right")))
        .expect("client")
        .manifest("ward/evilrealm", "1")
        .expect_err("http realm elsewhere");
    assert!(err.to_string().contains("not https"), "{err}");
}

#[test]
fn redirects_only_to_https_or_the_same_insecure_registry() {
    let fake = start();
    let client = Client::new(&fake.host, &config(&fake, CredentialSource::None)).expect("client");
    let err = client
        .blob("ward/redir", "sha256:aa")
        .err()
        .expect("redirect to another plain-http host");
    eprintln!("{err}");
    assert!(matches!(err.kind, ErrorKind::Redirect(_)), "{err}");
    assert!(
        err.to_string().contains("http://127.0.0.2:9/storage/aa"),
        "{err}"
    );
    let mut body = String::new();
    std::io::Read::read_to_string(
        &mut client.blob("ward/redir", "sha256:bb").expect("same origin"),
        &mut body,
    )
    .expect("read");
    assert_eq!(body, "blob-bb");
}

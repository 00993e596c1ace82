//! Credentials as Docker keeps them: `config.json` in `$DOCKER_CONFIG` or
//! `~/.docker`, with plain `auths` entries (base64 `user:password`) or a
//! credential helper (`credsStore` / `credHelpers`: `docker-credential-NAME
//! get`, the server on stdin, JSON on stdout).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;

/// Where a client takes credentials from.
#[derive(Debug, Clone, Default)]
pub enum CredentialSource {
    /// `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    #[default]
    DockerConfig,
    /// `DIR/config.json` (a `DOCKER_CONFIG` given explicitly).
    DockerConfigDir(PathBuf),
    /// These, for every registry of the client.
    Static { username: String, password: String },
    /// Anonymous access only.
    None,
}

/// A user name and password (or token) with where they came from, for errors.
#[derive(Clone)]
pub struct Credentials {
    pub username: String,
    pub password: String,
    pub source: String,
}

impl std::fmt::Debug for Credentials {
    // Never print the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({} from {})", self.username, self.source)
    }
}

/// The result of a lookup: credentials or a description of where ward
/// looked (for the "no credentials" error).
pub enum Lookup {
    Found(Credentials),
    Missing(String),
}

/// The config.json file a `DockerConfig` source reads.
pub fn docker_config_path(source: &CredentialSource) -> Option<PathBuf> {
    match source {
        CredentialSource::DockerConfigDir(d) => Some(d.join("config.json")),
        CredentialSource::DockerConfig => match std::env::var_os("DOCKER_CONFIG") {
            Some(d) if !d.is_empty() => Some(PathBuf::from(d).join("config.json")),
            _ => std::env::var_os("HOME")
                .map(|h| PathBuf::from(h).join(".docker").join("config.json")),
        },
        _ => None,
    }
}

/// Credentials for `registry` (`host[:port]`, as in a reference).
pub fn lookup(source: &CredentialSource, registry: &str) -> Result<Lookup, String> {
    match source {
        CredentialSource::None => Ok(Lookup::Missing("nowhere (credentials disabled)".into())),
        CredentialSource::Static { username, password } => Ok(Lookup::Found(Credentials {
            username: username.clone(),
            password: password.clone(),
            source: "the credentials given to ward".into(),
        })),
        _ => match docker_config_path(source) {
            Some(p) => from_docker_config(&p, registry),
            None => Ok(Lookup::Missing(
                "no Docker config (neither DOCKER_CONFIG nor HOME is set)".into(),
            )),
        },
    }
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: std::collections::BTreeMap<String, AuthEntry>,
    #[serde(default)]
    creds_store: Option<String>,
    #[serde(default)]
    cred_helpers: std::collections::BTreeMap<String, String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

/// The key Docker files `docker.io` under.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// `registry` as an `auths` key may spell it: with or without scheme, with
/// a path; Docker Hub under its historical index URL.
fn key_matches(key: &str, registry: &str) -> bool {
    if is_docker_hub(registry) {
        return key == DOCKER_HUB_KEY || is_docker_hub(normalize_key(key));
    }
    normalize_key(key).eq_ignore_ascii_case(registry)
}

fn normalize_key(key: &str) -> &str {
    let k = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    k.split('/').next().unwrap_or(k)
}

pub(crate) fn is_docker_hub(registry: &str) -> bool {
    matches!(
        registry,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    )
}

fn from_docker_config(path: &Path, registry: &str) -> Result<Lookup, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Lookup::Missing(format!(
                "{} (no such file)",
                path.display()
            )))
        }
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let cfg: DockerConfig =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let helper = cfg
        .cred_helpers
        .iter()
        .find(|(k, _)| key_matches(k, registry))
        .map(|(_, v)| v.clone())
        .or(cfg.creds_store.clone());
    if let Some(helper) = helper.filter(|h| !h.is_empty()) {
        return from_helper(&helper, registry, path);
    }
    let Some((key, entry)) = cfg.auths.iter().find(|(k, _)| key_matches(k, registry)) else {
        return Ok(Lookup::Missing(format!(
            "{} (no auths entry for {registry})",
            path.display()
        )));
    };
    let source = format!("{} (auths entry \"{key}\")", path.display());
    if entry
        .identitytoken
        .as_deref()
        .is_some_and(|t| !t.is_empty())
    {
        return Err(format!(
            "{source}: identity tokens (OAuth refresh tokens) are not supported; log in with a password or access token"
        ));
    }
    let (username, password) = match (&entry.auth, &entry.username, &entry.password) {
        (Some(a), _, _) if !a.is_empty() => decode_auth(a).map_err(|e| format!("{source}: {e}"))?,
        (_, Some(u), Some(p)) => (u.clone(), p.clone()),
        _ => {
            return Ok(Lookup::Missing(format!(
                "{source}, which holds no credentials"
            )))
        }
    };
    Ok(Lookup::Found(Credentials {
        username,
        password,
        source,
    }))
}

fn decode_auth(auth: &str) -> Result<(String, String), String> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .map_err(|e| format!("\"auth\" is not base64: {e}"))?;
    let text = String::from_utf8(raw).map_err(|_| "\"auth\" is not UTF-8".to_string())?;
    let (u, p) = text
        .split_once(':')
        .ok_or_else(|| "\"auth\" is not base64 of user:password".to_string())?;
    Ok((u.to_string(), p.to_string()))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: String,
}

/// Runs `docker-credential-NAME get` (looked up in PATH like Docker does).
fn from_helper(name: &str, registry: &str, config: &Path) -> Result<Lookup, String> {
    // The helper name comes from a file the user owns; keep it a plain name
    // so it cannot point at another program path.
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
    {
        return Err(format!(
            "{}: bad credential helper name {name:?}",
            config.display()
        ));
    }
    let program = format!("docker-credential-{name}");
    let source = format!("credential helper {program} (from {})", config.display());
    let server = if is_docker_hub(registry) {
        DOCKER_HUB_KEY
    } else {
        registry
    };
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{source}: cannot run {program}: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A helper that exits without reading gives EPIPE; its status says more.
        let _ = stdin.write_all(server.as_bytes());
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("{source}: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        // The protocol's "not found" answer: no credentials, not an error.
        if stdout.contains("credentials not found") {
            return Ok(Lookup::Missing(format!(
                "{source}: no credentials for {server}"
            )));
        }
        return Err(format!(
            "{source} failed ({}): {}{}",
            out.status,
            stdout.trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let answer: HelperAnswer =
        serde_json::from_str(&stdout).map_err(|e| format!("{source}: bad answer: {e}"))?;
    if answer.username == "<token>" {
        return Err(format!(
            "{source}: identity tokens (OAuth refresh tokens) are not supported"
        ));
    }
    Ok(Lookup::Found(Credentials {
        username: answer.username,
        password: answer.secret,
        source,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_config(dir: &Path, json: &str) {
        std::fs::create_dir_all(dir).expect("mkdir");
        std::fs::write(dir.join("config.json"), json).expect("write");
    }

    fn tmp(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("ward-registry-creds-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn auths_entry_is_decoded_and_source_named() {
        let d = tmp("auths");
        // "alice:s3cret:x" — the password may hold a colon.
        write_config(
            &d,
            r#"{"auths":{"https://reg.example:5000":{"auth":"YWxpY2U6czNjcmV0Ong="}}}"#,
        );
        let src = CredentialSource::DockerConfigDir(d.clone());
        let Ok(Lookup::Found(c)) = lookup(&src, "reg.example:5000") else {
            panic!("not found")
        };
        assert_eq!(
            (c.username.as_str(), c.password.as_str()),
            ("alice", "s3cret:x")
        );
        assert!(c.source.contains("config.json") && c.source.contains("reg.example:5000"));
        assert!(
            matches!(lookup(&src, "other:5000"), Ok(Lookup::Missing(m)) if m.contains("no auths entry for other:5000"))
        );
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn docker_hub_key_and_bad_base64() {
        let d = tmp("hub");
        write_config(
            &d,
            r#"{"auths":{"https://index.docker.io/v1/":{"auth":"Ym9iOnB3"},"bad:1":{"auth":"!!"}}}"#,
        );
        let src = CredentialSource::DockerConfigDir(d.clone());
        assert!(matches!(lookup(&src, "docker.io"), Ok(Lookup::Found(c)) if c.username == "bob"));
        assert!(matches!(lookup(&src, "bad:1"), Err(e) if e.contains("not base64")));
        std::fs::remove_dir_all(&d).ok();
    }

    #[test]
    fn helper_protocol() {
        let d = tmp("helper");
        let bin = d.join("bin");
        std::fs::create_dir_all(&bin).expect("mkdir");
        let script = bin.join("docker-credential-wardtest");
        std::fs::write(
            &script,
            "#!/bin/sh\nread s\nif [ \"$s\" = known:1 ]; then echo '{\"ServerURL\":\"known:1\",\"Username\":\"u\",\"Secret\":\"p\"}'; else echo 'credentials not found in native keychain'; exit 1; fi\n",
        )
        .expect("write");
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        write_config(
            &d,
            r#"{"credHelpers":{"known:1":"wardtest","unknown:2":"wardtest"}}"#,
        );
        // PATH is process-wide: call the helper function directly with an absolute PATH entry.
        let old = std::env::var_os("PATH").unwrap_or_default();
        let mut paths = vec![bin.clone()];
        paths.extend(std::env::split_paths(&old));
        let path = std::env::join_paths(paths).expect("join");
        // Only this test touches PATH, and it restores it.
        std::env::set_var("PATH", &path);
        let src = CredentialSource::DockerConfigDir(d.clone());
        let known = lookup(&src, "known:1");
        let unknown = lookup(&src, "unknown:2");
        std::env::set_var("PATH", old);
        assert!(
            matches!(known, Ok(Lookup::Found(c)) if c.username == "u" && c.password == "p" && c.source.contains("docker-credential-wardtest"))
        );
        assert!(
            matches!(unknown, Ok(Lookup::Missing(m)) if m.contains("no credentials for unknown:2"))
        );
        std::fs::remove_dir_all(&d).ok();
    }
}

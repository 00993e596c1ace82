//! The simple-signing payload that cosign signs (sigstore's
//! `payload.SimpleContainerImage`) and its strict reading, after the rules
//! of containers/image (`signature/internal/sigstore_payload.go`): exactly
//! the keys `critical` and `optional` at the top, exactly `type`, `image`
//! and `identity` in `critical`, no duplicate keys, and the right `type`. An
//! unknown critical key is refused: a newer format could put a restriction
//! there that ward would silently ignore.

use serde::{Deserialize, Serialize};

/// `critical.type` of a cosign signature.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

// Field order = cosign's output order (Go marshals in declaration order).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Payload {
    critical: Critical,
    /// Required, `null` or an object (cosign writes `null` without
    /// annotations). A `serde_json::Value` field is required by serde.
    optional: serde_json::Value,
}

/// The payload ward signs for `reference` (the repository, `HOST/PATH`, as
/// cosign writes it) and the image's manifest digest: byte-for-byte what
/// `cosign sign` makes.
pub fn payload_for(reference: &str, manifest_digest: &str) -> Vec<u8> {
    let p = Payload {
        critical: Critical {
            identity: Identity {
                docker_reference: reference.to_string(),
            },
            image: Image {
                docker_manifest_digest: manifest_digest.to_string(),
            },
            kind: SIGNATURE_TYPE.to_string(),
        },
        optional: serde_json::Value::Null,
    };
    // Serializing plain strings into JSON cannot fail.
    serde_json::to_vec(&p).unwrap_or_default()
}

/// What a (cryptographically verified) payload claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub docker_reference: String,
    pub manifest_digest: String,
}

/// Reads a payload strictly; the error says what is wrong.
pub fn parse(bytes: &[u8]) -> Result<Claims, String> {
    let p: Payload = serde_json::from_slice(bytes)
        .map_err(|e| format!("the payload is not a simple-signing document: {e}"))?;
    if p.critical.kind != SIGNATURE_TYPE {
        return Err(format!(
            "the payload's type is {:?}, not {SIGNATURE_TYPE:?}",
            p.critical.kind
        ));
    }
    match &p.optional {
        serde_json::Value::Null => {}
        serde_json::Value::Object(m) => {
            // containers/image type-checks the two keys it knows.
            if m.get("creator").is_some_and(|c| !c.is_string()) {
                return Err("the payload's optional.creator is not a string".into());
            }
            if m.get("timestamp").is_some_and(|t| !t.is_number()) {
                return Err("the payload's optional.timestamp is not a number".into());
            }
        }
        _ => return Err("the payload's optional is neither null nor an object".into()),
    }
    Ok(Claims {
        docker_reference: p.critical.identity.docker_reference,
        manifest_digest: p.critical.image.docker_manifest_digest,
    })
}

/// Whether `d` is `sha256:` and 64 lowercase hex digits (the only digest
/// algorithm ward accepts for signed images).
pub fn is_sha256_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The repository a `docker-reference` names, normalized like Docker's
/// reference parser: `busybox` → `docker.io/library/busybox`,
/// `index.docker.io/x/y` → `docker.io/x/y`; a tag or digest is dropped (the
/// repository is what is matched, as containers-policy's `matchRepository`,
/// which cosign's repository-only references need).
pub fn normalize_repository(reference: &str) -> Result<String, String> {
    let name = reference.split('@').next().unwrap_or_default();
    let name = match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => &name[..i],
        _ => name,
    };
    let (domain, path) = match name.split_once('/') {
        Some((d, p)) if d.contains('.') || d.contains(':') || d == "localhost" => (d, p),
        _ => ("docker.io", name),
    };
    join_repository(domain, path)
        .map_err(|why| format!("{reference:?} is not an image reference: {why}"))
}

/// `HOST/PATH` normalized, for a registry and a repository path known
/// apart (no guessing whether the first component is a host).
pub fn join_repository(registry: &str, path: &str) -> Result<String, String> {
    let bad = |why: &str| Err(why.to_string());
    let domain = registry.to_ascii_lowercase();
    let domain = match domain.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_string(),
        _ => domain,
    };
    if domain.is_empty()
        || !domain
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-.:[]".contains(&b))
    {
        return bad("bad registry name");
    }
    if path.is_empty()
        || path.split('/').any(|c| {
            c.is_empty()
                || !c
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        })
    {
        return bad("a repository path is lowercase letters, digits, '.', '_', '-' and '/'");
    }
    let path = if domain == "docker.io" && !path.contains('/') {
        format!("library/{path}")
    } else {
        path.to_string()
    };
    Ok(format!("{domain}/{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_cosigns_byte_for_byte() {
        let d = format!("sha256:{}", "ab".repeat(32));
        assert_eq!(
            String::from_utf8(payload_for("registry.example:5000/app", &d)).expect("utf8"),
            format!("{{\"critical\":{{\"identity\":{{\"docker-reference\":\"registry.example:5000/app\"}},\"image\":{{\"docker-manifest-digest\":\"{d}\"}},\"type\":\"cosign container image signature\"}},\"optional\":null}}")
        );
        let c = parse(&payload_for("r.example/a", &d)).expect("parses");
        assert_eq!(c.docker_reference, "r.example/a");
        assert_eq!(c.manifest_digest, d);
    }

    #[test]
    fn strict_reading() {
        let ok = r#"{"critical":{"identity":{"docker-reference":"r/a"},"image":{"docker-manifest-digest":"sha256:x"},"type":"cosign container image signature"},"optional":{"creator":"me","timestamp":1,"other":[1]}}"#;
        parse(ok.as_bytes()).expect("annotations are fine");
        for (bad, why) in [
            (
                ok.replace(r#""type""#, r#""extra":1,"type""#),
                "unknown field `extra`",
            ),
            (
                ok.replace(
                    r#","optional":{"creator":"me","timestamp":1,"other":[1]}"#,
                    "",
                ),
                "missing field `optional`",
            ),
            (
                ok.replace(
                    "cosign container image signature",
                    "atomic container signature",
                ),
                "type is",
            ),
            (ok.replace(r#""creator":"me""#, r#""creator":1"#), "creator"),
            (
                ok.replace(r#""critical":{"#, r#""critical":{"type":"x","#),
                "duplicate field",
            ),
            (format!("{ok} {{}}"), "trailing"),
            (
                ok.replace(
                    r#""optional":{"creator":"me","timestamp":1,"other":[1]}"#,
                    r#""optional":1"#,
                ),
                "neither null",
            ),
        ] {
            let e = parse(bad.as_bytes()).expect_err(&bad);
            assert!(e.contains(why), "{e} / {why}");
        }
    }

    #[test]
    fn repositories_normalize_like_docker() {
        for (r, n) in [
            ("busybox", "docker.io/library/busybox"),
            ("busybox:1.36", "docker.io/library/busybox"),
            (
                "index.docker.io/library/busybox",
                "docker.io/library/busybox",
            ),
            ("user/app", "docker.io/user/app"),
            ("registry.example:5000/a/b:tag", "registry.example:5000/a/b"),
            ("localhost/a@sha256:00", "localhost/a"),
            ("127.0.0.1:5000/a:t@sha256:00", "127.0.0.1:5000/a"),
            ("Registry.Example/a", "registry.example/a"),
        ] {
            assert_eq!(normalize_repository(r).as_deref(), Ok(n), "{r}");
        }
        for r in [
            "",
            "r.example/",
            "r.example/A",
            "r.example//a",
            "r.example/a b",
        ] {
            assert!(normalize_repository(r).is_err(), "{r}");
        }
        assert!(is_sha256_digest(&format!("sha256:{}", "0f".repeat(32))));
        assert!(!is_sha256_digest(&format!("sha256:{}", "0F".repeat(32))));
        assert!(!is_sha256_digest(&format!("sha512:{}", "0f".repeat(32))));
    }
}

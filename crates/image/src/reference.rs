//! Image references as Docker users write them, validated against the
//! grammar of the distribution project (`distribution/reference`):
//!
//! ```text
//! reference  := name [ ":" tag ] [ "@" digest ]
//! name       := [ domain "/" ] path-component ( "/" path-component )*
//! domain     := host [ ":" port ]      host := dns-name | IPv4 | "[" IPv6 "]"
//! path-comp  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
//! tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//! ```
//!
//! Unlike Docker, a name without a registry (`busybox`) is not silently
//! taken to mean Docker Hub: it resolves only against the default
//! registry the caller names (the trust policy's), so that where an image
//! comes from is always written down somewhere.

use std::fmt;

use crate::digest::Digest;

/// The longest name (domain and path) the distribution spec allows.
const NAME_TOTAL_MAX: usize = 255;
const TAG_MAX: usize = 128;
/// Docker Hub's names: `docker.io` is canonical, `index.docker.io` an alias,
/// and one-component repositories live under `library/`.
const DOCKER_HUB: &str = "docker.io";

/// A fully qualified reference: registry, repository, and a tag and/or digest.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

/// Why a reference was refused: the input, the part of it that is wrong,
/// and what to write instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("image reference {input:?}: {field}: {problem}")]
pub struct ReferenceError {
    pub input: String,
    /// `registry`, `repository`, `tag`, `digest` or `reference`.
    pub field: &'static str,
    pub problem: String,
}

impl Reference {
    /// Parses `s`. `default_registry` is used for a name without a registry
    /// part (`busybox`, `library/busybox`); without one such a name is an
    /// error that names the fix. A reference with neither tag nor digest
    /// gets the tag `latest`.
    pub fn parse(s: &str, default_registry: Option<&str>) -> Result<Reference, ReferenceError> {
        let err = |field: &'static str, problem: String| ReferenceError {
            input: s.to_string(),
            field,
            problem,
        };
        if s.is_empty() {
            return Err(err(
                "reference",
                "empty; write REGISTRY/REPOSITORY[:TAG][@DIGEST]".into(),
            ));
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (
                r,
                Some(Digest::parse(d).map_err(|e| err("digest", e.to_string()))?),
            ),
            None => (s, None),
        };
        // The tag follows the last ':' unless that colon is inside the
        // domain (`localhost:5000/x` has a port, not a tag).
        let (name, tag) = match rest.rfind(':') {
            Some(i) if !rest[i + 1..].contains('/') => (&rest[..i], Some(&rest[i + 1..])),
            _ => (rest, None),
        };
        if let Some(t) = tag {
            check_tag(t).map_err(|p| err("tag", p))?;
        }
        if name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(err(
                "repository",
                "a 64-hex-digit name looks like an image ID; refer to an image by name or by @sha256:DIGEST".into(),
            ));
        }
        let (registry, repository) = split_domain(name);
        let (registry, repository) = match registry {
            Some(r) => {
                check_domain(r).map_err(|p| err("registry", p))?;
                let r = if r == "index.docker.io" {
                    DOCKER_HUB
                } else {
                    r
                };
                (r.to_string(), repository.to_string())
            }
            None => {
                let Some(default) = default_registry else {
                    return Err(err(
                        "registry",
                        format!(
                            "no registry given and no default registry configured; write it in full, e.g. docker.io/{}{}",
                            if repository.contains('/') { "" } else { "library/" },
                            repository
                        ),
                    ));
                };
                check_domain(default)
                    .map_err(|p| err("registry", format!("default registry {default:?}: {p}")))?;
                (default.to_string(), repository.to_string())
            }
        };
        // Docker Hub keeps official images under `library/`.
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        check_repository(&repository).map_err(|p| err("repository", p))?;
        if registry.len() + 1 + repository.len() > NAME_TOTAL_MAX {
            return Err(err(
                "repository",
                format!("the name is longer than {NAME_TOTAL_MAX} characters"),
            ));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_string()),
        };
        Ok(Reference {
            registry,
            repository,
            tag,
            digest,
        })
    }

    pub fn registry(&self) -> &str {
        &self.registry
    }
    pub fn repository(&self) -> &str {
        &self.repository
    }
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// `registry/repository` without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What to ask a source for: the digest when there is one (it pins the
    /// content), else the tag.
    pub fn tag_or_digest(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_string(),
        }
    }

    /// This reference with another tag and no digest.
    pub fn with_tag(&self, tag: &str) -> Result<Reference, ReferenceError> {
        check_tag(tag).map_err(|problem| ReferenceError {
            input: format!("{}:{tag}", self.name()),
            field: "tag",
            problem,
        })?;
        Ok(Reference {
            tag: Some(tag.to_string()),
            digest: None,
            ..self.clone()
        })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    /// Parses a fully qualified reference (no default registry).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s, None)
    }
}

/// Splits `name` into its domain (if the first component is one) and the
/// path, the way Docker does: the first component is a domain when it has a
/// `.` or a `:`, is `localhost`, or has an uppercase letter (a path
/// component never does).
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

fn check_tag(t: &str) -> Result<(), String> {
    let fix = "a tag is 1 to 128 of A-Z a-z 0-9 _ . - and does not start with . or -";
    let mut bytes = t.bytes();
    match bytes.next() {
        None => return Err(format!("empty tag; {fix}")),
        Some(b) if !(b.is_ascii_alphanumeric() || b == b'_') => {
            return Err(format!("{t:?} starts with {:?}; {fix}", b as char))
        }
        _ => {}
    }
    if t.len() > TAG_MAX {
        return Err(format!("{} characters long; {fix}", t.len()));
    }
    if let Some(b) = bytes.find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-')))
    {
        return Err(format!("{t:?} contains {:?}; {fix}", b as char));
    }
    Ok(())
}

fn check_domain(d: &str) -> Result<(), String> {
    let (host, port) = if let Some(rest) = d.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return Err(format!("{d:?}: an IPv6 address needs a closing ]"));
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("{v6:?} is not an IPv6 address"));
        }
        match after {
            "" => (None, None),
            p if p.starts_with(':') => (None, Some(&p[1..])),
            _ => return Err(format!("{d:?}: only :PORT may follow ]")),
        }
    } else {
        match d.split_once(':') {
            Some((h, p)) => (Some(h), Some(p)),
            None => (Some(d), None),
        }
    };
    if let Some(p) = port {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.parse::<u16>().is_err() {
            return Err(format!("port {p:?} is not a number from 0 to 65535"));
        }
    }
    if let Some(h) = host {
        if h.is_empty() {
            return Err("empty host name".into());
        }
        for comp in h.split('.') {
            let ok = !comp.is_empty()
                && comp.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !comp.starts_with('-')
                && !comp.ends_with('-');
            if !ok {
                return Err(format!(
                    "{h:?} is not a host name (letters, digits and inner '-', dot-separated), an IPv4 address or [IPv6]"
                ));
            }
        }
    }
    Ok(())
}

fn check_repository(r: &str) -> Result<(), String> {
    if r.is_empty() {
        return Err("empty repository name".into());
    }
    for comp in r.split('/') {
        check_path_component(comp)?;
    }
    Ok(())
}

/// `[a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*`
fn check_path_component(c: &str) -> Result<(), String> {
    let bad = |why: &str| {
        Err(format!(
            "path component {c:?} {why}; components are lowercase a-z 0-9 separated by '.', '_', '__' or '-'"
        ))
    };
    if c.is_empty() {
        return bad("is empty (a '//' or a trailing '/')");
    }
    if let Some(b) = c.bytes().find(u8::is_ascii_uppercase) {
        return bad(&format!("has the uppercase letter {:?}", b as char));
    }
    let bytes = c.as_bytes();
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_lowercase() || bytes[i].is_ascii_digit()) {
            i += 1;
        }
        if i == start {
            return bad(if start == 0 {
                "does not start with a letter or digit"
            } else {
                "has a separator not followed by a letter or digit"
            });
        }
        if i == bytes.len() {
            return Ok(());
        }
        let sep_start = i;
        while i < bytes.len() && matches!(bytes[i], b'.' | b'_' | b'-') {
            i += 1;
        }
        let sep = &c[sep_start..i];
        let valid_sep = matches!(sep, "." | "_" | "__") || sep.bytes().all(|b| b == b'-');
        if !valid_sep {
            return bad(&format!("has the separator {sep:?}"));
        }
        if i == sep_start {
            return bad(&format!("contains {:?}", bytes[i] as char));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    fn ok(s: &str) -> String {
        Reference::parse(s, None)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .to_string()
    }

    fn bad(s: &str, field: &str) -> String {
        let e = Reference::parse(s, Some("docker.io")).expect_err(s);
        assert_eq!(e.field, field, "{s}: {e}");
        e.to_string()
    }

    #[test]
    fn full_references_keep_their_parts() {
        let r = Reference::parse(
            "registry.example.com:5000/a/b/c:v1.2@"
                .to_string()
                .as_str()
                .trim_end_matches('@'),
            None,
        )
        .expect("valid");
        assert_eq!(r.registry(), "registry.example.com:5000");
        assert_eq!(r.repository(), "a/b/c");
        assert_eq!(r.tag(), Some("v1.2"));
        assert_eq!(r.digest(), None);
        assert_eq!(ok("localhost:5000/x"), "localhost:5000/x:latest");
        assert_eq!(ok("localhost/x:t"), "localhost/x:t");
        assert_eq!(ok("127.0.0.1:5000/x"), "127.0.0.1:5000/x:latest");
        assert_eq!(ok("[::1]:5000/x"), "[::1]:5000/x:latest");
        assert_eq!(ok("[2001:db8::1]/x:y"), "[2001:db8::1]/x:y");
        assert_eq!(ok(&format!("quay.io/a/b@{D}")), format!("quay.io/a/b@{D}"));
        assert_eq!(
            ok(&format!("quay.io/a/b:t@{D}")),
            format!("quay.io/a/b:t@{D}")
        );
        let r = Reference::parse(&format!("quay.io/a:t@{D}"), None).expect("valid");
        assert_eq!(r.tag_or_digest(), D);
        // Separators of the grammar.
        assert_eq!(
            ok("example.com/a.b_c__d---e/f-g:t"),
            "example.com/a.b_c__d---e/f-g:t"
        );
        // Docker: a first component with uppercase letters is a domain.
        assert_eq!(ok("Example.com/foo"), "Example.com/foo:latest");
        assert_eq!(ok("example.com/foo:Tag_1.0-x"), "example.com/foo:Tag_1.0-x");
        // index.docker.io is Docker Hub's alias.
        assert_eq!(
            ok("index.docker.io/library/busybox"),
            "docker.io/library/busybox:latest"
        );
        assert_eq!(ok("docker.io/busybox"), "docker.io/library/busybox:latest");
    }

    #[test]
    fn short_names_need_a_default_registry() {
        let e = Reference::parse("busybox", None).expect_err("short");
        assert_eq!(e.field, "registry");
        assert!(e.to_string().contains("docker.io/library/busybox"), "{e}");
        let e = Reference::parse("library/busybox:1", None).expect_err("short");
        assert!(e.to_string().contains("docker.io/library/busybox"), "{e}");
        let hub = |s| Reference::parse(s, Some("docker.io")).expect(s).to_string();
        assert_eq!(hub("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(
            hub("library/busybox:1.36"),
            "docker.io/library/busybox:1.36"
        );
        assert_eq!(hub("user/app"), "docker.io/user/app:latest");
        let r = Reference::parse("app", Some("registry.example:443")).expect("valid");
        assert_eq!(r.to_string(), "registry.example:443/app:latest");
        assert!(Reference::parse("app", Some("bad host!")).is_err());
    }

    #[test]
    fn bad_inputs_name_the_field() {
        bad("", "reference");
        let m = bad("Uppercase", "repository");
        assert!(m.contains("uppercase"), "{m}");
        bad("example.com/UPPER/x", "repository");
        bad("example.com/a//b", "repository");
        bad("example.com/a/", "repository");
        bad("example.com/-a", "repository");
        bad("example.com/a-", "repository");
        bad("example.com/a..b", "repository");
        bad("example.com/a___b", "repository");
        bad("example.com/a._b", "repository");
        bad("example.com/a b", "repository");
        bad(&"a".repeat(64).replace('a', "f"), "repository");
        bad(&format!("example.com/{}", "a".repeat(250)), "repository");
        bad("example.com/a:", "tag");
        bad("example.com/a:-x", "tag");
        bad("example.com/a:.x", "tag");
        bad("example.com/a:x!", "tag");
        bad(&format!("example.com/a:{}", "t".repeat(129)), "tag");
        assert!(Reference::parse(&format!("example.com/a:{}", "t".repeat(128)), None).is_ok());
        bad("example.com/a@sha256:abc", "digest");
        bad("example.com/a@sha256:", "digest");
        bad(
            &format!("example.com/a@{}", D.to_uppercase().replace("SHA", "sha")),
            "digest",
        );
        bad(
            "example.com/a@md5:d41d8cd98f00b204e9800998ecf8427e",
            "digest",
        );
        bad("example.com:port/a", "registry");
        bad("example.com:99999/a", "registry");
        bad("-example.com/a", "registry");
        bad("exa_mple.com/a", "registry");
        bad("[::1/a", "registry");
        bad("[zz::1]:5000/a", "registry");
        bad("[::1]x/a", "registry");
        bad(":5000/a", "registry");
    }

    #[test]
    fn display_round_trips() {
        for s in [
            "docker.io/library/busybox:latest",
            "localhost:5000/a/b:c",
            "[::1]:5000/x:latest",
        ] {
            assert_eq!(ok(&ok(s)), s);
        }
        let r = Reference::parse("localhost/x:1", None).expect("valid");
        assert_eq!(r.with_tag("2").expect("valid").to_string(), "localhost/x:2");
        assert!(r.with_tag("-").is_err());
        assert_eq!(r.name(), "localhost/x");
    }

    /// Cases of Docker's `ParseNormalizedNamed` tests (distribution/reference
    /// normalize_test.go), with Docker Hub as the default registry.
    #[test]
    fn dockers_normalized_name_cases() {
        let valid = [
            ("docker/docker", "docker.io/docker/docker:latest"),
            ("library/debian", "docker.io/library/debian:latest"),
            ("debian", "docker.io/library/debian:latest"),
            ("docker.io/docker/docker", "docker.io/docker/docker:latest"),
            ("docker.io/library/debian", "docker.io/library/debian:latest"),
            ("docker.io/debian", "docker.io/library/debian:latest"),
            ("index.docker.io/docker/docker", "docker.io/docker/docker:latest"),
            ("index.docker.io/debian", "docker.io/library/debian:latest"),
            ("127.0.0.1:5000/docker/docker", "127.0.0.1:5000/docker/docker:latest"),
            ("127.0.0.1:5000/debian", "127.0.0.1:5000/debian:latest"),
            ("[fc00::1]:5000/docker", "[fc00::1]:5000/docker:latest"),
            ("xn--n3h.com/myimage:xn--n3h.com", "xn--n3h.com/myimage:xn--n3h.com"),
            ("b.gcr.io/test.example.com/my-app:test.example.com", "b.gcr.io/test.example.com/my-app:test.example.com"),
            ("sub-dom1.foo.com/bar/baz/quux:some-long-tag", "sub-dom1.foo.com/bar/baz/quux:some-long-tag"),
            ("foo_bar.com:8080", "docker.io/library/foo_bar.com:8080"),
            ("localhost:5000", "docker.io/library/localhost:5000"),
            (
                "thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev",
                "docker.io/library/thisisthesongthatneverendsitgoesonandonandonthisisthesongthatnev:latest",
            ),
        ];
        for (input, want) in valid {
            let got = Reference::parse(input, Some("docker.io"))
                .unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(got.to_string(), want, "{input}");
        }
        for input in [
            "https://github.com/docker/docker",
            "docker/Docker",
            "-docker",
            "-docker/docker",
            "-docker.io/docker/docker",
            "docker///docker",
            "docker.io/docker/Docker",
            "docker.io/docker///docker",
            "1a3f5e7d9c1b3a5f7e9d1c3b5a7f9e1d3c5b7a9f1e3d5d7c9b1a3f5e7d9c1b3a",
            "aa/asdf$$^/aa",
            "[fe80::1%eth0]:5000/x",
            "[2001:db8::1]",
        ] {
            assert!(
                Reference::parse(input, Some("docker.io")).is_err(),
                "{input} must be refused"
            );
        }
    }
}

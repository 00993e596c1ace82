//! `ward audit image`: CIS Docker Benchmark section 4 and the seeds' image
//! hygiene on a built image — its config (USER, HEALTHCHECK, ENV), its
//! history (ADD, build args, written keys, `apt-get update` alone) and its
//! layers as they ship ([`scan_layer`]: setuid/setgid files, file
//! capabilities, secret files, package caches, read header by header from
//! the tar stream, never extracted). Pure: the caller opens the blobs.
//!
//! Secrets are never printed: evidence shows a value's first 2 characters
//! and its length only.

use std::io::{self, Read};

use serde_json::Value;
use ward_policy::Severity::{Critical, High, Low, Medium};

use crate::dockerfile_checks::{looks_like_credential, secret_name};
use crate::finding::{Check, Finding};

pub const USER_ROOT: Check = Check {
    id: "image.user-root",
    cis: &["4.1"],
    severity: Medium,
    title: "the image runs as root (its USER is empty, root or 0)",
    why: "root in the container is root on the host's kernel interface: one kernel or runtime bug (or a mount) away from the host, and owner of every file in the image",
    fix: "rebuild with RUN useradd -r -u 10001 app  and  USER 10001 (or run it with --user 10001)",
};
pub const HEALTHCHECK_MISSING: Check = Check {
    id: "image.healthcheck-missing",
    cis: &["4.6"],
    severity: Low,
    title: "no HEALTHCHECK in the image",
    why: "a hung or hijacked service keeps running and serving: nothing notices that it stopped answering correctly",
    fix: "HEALTHCHECK --interval=30s CMD curl -fsS http://localhost:8080/health || exit 1",
};
pub const ADD_LOCAL: Check = Check {
    id: "image.add",
    cis: &["4.9"],
    severity: Medium,
    title: "ADD in the image's history where COPY would do",
    why: "ADD silently extracts local tar archives into the image: a crafted archive writes outside the target directory (zip-slip) or replaces files an attacker chose",
    fix: "COPY src dest in the Dockerfile (extract archives explicitly with RUN tar --no-same-owner -xf)",
};
pub const ADD_REMOTE: Check = Check {
    id: "image.add-remote",
    cis: &["4.9"],
    severity: High,
    title: "ADD of a URL in the image's history",
    why: "whoever controlled the URL, its DNS or a proxy on the way when the image was built decided what went into it: nothing verified the download",
    fix: "ADD --checksum=sha256:<digest> URL dest, or RUN curl -fsSLo f URL && echo '<sha256>  f' | sha256sum -c -",
};
pub const SECRET_ENV: Check = Check {
    id: "image.secret-env",
    cis: &["4.10"],
    severity: High,
    title: "ENV named like a secret, with a value, in the image's config",
    why: "the config travels with the image: everyone who can pull it (registries, CI caches, `docker inspect`) reads the secret",
    fix: "remove the ENV; pass the secret at run time (a mounted file, --env-file, a secrets manager) and rotate the one that shipped",
};
pub const SECRET_VALUE: Check = Check {
    id: "image.secret-value",
    cis: &["4.10"],
    severity: Critical,
    title: "a value that looks like a credential in the image's config or history",
    why: "a known credential format (cloud or forge token, private key) shipped inside the image: anyone who pulls it can use the credential",
    fix: "rebuild without it (build secrets: RUN --mount=type=secret), and revoke and rotate the credential",
};
pub const SECRET_HISTORY: Check = Check {
    id: "image.secret-history",
    cis: &["4.10"],
    severity: High,
    title: "a secret in the image's history (a build argument or a written key)",
    why: "the history's created_by lines travel with the image: build arguments and commands that wrote keys are readable by everyone who pulls it, even when a later layer removed the file",
    fix: "use build secrets (RUN --mount=type=secret,id=...) instead of ARG values, and rotate the secret that shipped",
};
pub const SECRET_FILE: Check = Check {
    id: "image.secret-file",
    cis: &["4.10"],
    severity: High,
    title: "a private key or credentials file in a layer",
    why: "layers ship whole: the file is readable by everyone who pulls the image, even when a later layer deleted it",
    fix: "rebuild without the file (build secrets: RUN --mount=type=secret; .dockerignore it) and revoke and rotate the credential",
};
pub const SETID: Check = Check {
    id: "image.setuid",
    cis: &["4.8"],
    severity: Medium,
    title: "setuid/setgid files in a layer",
    why: "a setuid or setgid program is a way from the container's user to its owner (root): one bug in it is a privilege escalation",
    fix: "RUN find / -xdev -perm /6000 -type f -exec chmod a-s {} + (keep only those the application needs), or run with --security-opt no-new-privileges",
};
pub const FILE_CAPS: Check = Check {
    id: "image.file-capability",
    cis: &["4.8"],
    severity: Medium,
    title: "files with capabilities (security.capability xattrs) in a layer",
    why: "a file capability raises the privileges of whoever runs it, like setuid does, without showing in a mode bit",
    fix: "RUN setcap -r FILE in the Dockerfile (or drop the capability at run time with --cap-drop)",
};
pub const APT_UPDATE_ALONE: Check = Check {
    id: "image.apt-update-alone",
    cis: &["4.7"],
    severity: Medium,
    title: "apt-get update alone in a history step",
    why: "a cached update layer makes later installs use stale package lists: the image gets old, vulnerable package versions",
    fix: "RUN apt-get update && apt-get install -y --no-install-recommends PKG && rm -rf /var/lib/apt/lists/*",
};
pub const PACKAGE_CACHE: Check = Check {
    id: "image.package-cache",
    cis: &[],
    severity: Low,
    title: "package lists or caches left in a layer",
    why: "stale package metadata and cached archives grow the image and help nothing at run time; stale lists make later installs pull old versions",
    fix: "end the install step with rm -rf /var/lib/apt/lists/* (apk: --no-cache; or a RUN --mount=type=cache)",
};
pub const TAG_LATEST: Check = Check {
    id: "image.tag-latest",
    cis: &[],
    severity: Low,
    title: "the reference is :latest",
    why: "latest moves: what runs tomorrow is not what was audited today, and a pushed tag can replace the image under the same name",
    fix: "refer to the image by a version tag or by digest (NAME@sha256:...)",
};
pub const TRUST_REFUSED: Check = Check {
    id: "image.trust.refused",
    cis: &["4.5"],
    severity: High,
    title: "ward's trust policy refuses this image's registry or repository",
    why: "the image comes from where the policy does not trust: `ward image pull` would refuse it, and whoever runs it runs unvetted content",
    fix: "take the image from an allowed, signed repository, or add a scope for it to the policy's [images.registries] (docs/trust.md)",
};
pub const TRUST_UNSIGNED: Check = Check {
    id: "image.trust.unsigned",
    cis: &["4.5"],
    severity: Low,
    title: "the policy takes this image's repository without signatures",
    why: "without a signature nothing ties the image to its publisher: a compromised registry or a pushed tag replaces it unnoticed",
    fix: "sign images with `ward image sign` and name the public keys in the scope (keys = [\"/etc/ward/keys/release.pub\"])",
};

/// At most this many paths per layer and finding; the rest are counted.
pub const LIST_MAX: usize = 20;
/// Candidate secret files larger than this are judged by their name only.
const CONTENT_MAX: u64 = 64 * 1024;

/// What [`scan_layer`] saw in one layer.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct LayerScan {
    /// The layer blob's digest, as evidence.
    pub digest: String,
    /// setuid/setgid files: path and permission bits.
    pub setid: Vec<(String, u32)>,
    pub setid_more: usize,
    /// Files with a `security.capability` xattr.
    pub caps: Vec<String>,
    pub caps_more: usize,
    /// Secret-looking files: path and what they are.
    pub secrets: Vec<(String, &'static str)>,
    /// Files under package-manager list/cache directories.
    pub cache_files: usize,
    pub cache_example: Option<String>,
}

/// What a secret-looking file is, by its path (and a few bytes of it when
/// small: `size` and `head`).
fn secret_kind(path: &str, head: impl FnOnce() -> Option<Vec<u8>>) -> Option<&'static str> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let in_dir = |d: &str| path.contains(&format!("{d}/")) || path.starts_with(&format!("{d}/"));
    if in_dir(".ssh") && ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"].contains(&name) {
        return Some("an SSH private key");
    }
    if in_dir(".aws") && name == "credentials" {
        return Some("AWS credentials");
    }
    let text = |want: &str| {
        head().is_some_and(|b| {
            String::from_utf8_lossy(&b)
                .to_ascii_lowercase()
                .contains(want)
        })
    };
    if in_dir(".docker") && name == "config.json" {
        return text("\"auth\"").then_some("Docker registry credentials");
    }
    if name == ".npmrc" {
        return text("_authtoken").then_some("an npm token");
    }
    if name == ".git-credentials" {
        return Some("git credentials");
    }
    if [".pem", ".key"].iter().any(|x| name.ends_with(x)) {
        return text("private key-----").then_some("a PEM private key");
    }
    None
}

/// Under a package manager's list or cache directory (apt, apk, yum/dnf).
fn cache_file(path: &str) -> bool {
    let lists = path.starts_with("var/lib/apt/lists/")
        && !path.ends_with("/lock")
        && !path.contains("/partial");
    let archives = path.starts_with("var/cache/apt/archives/") && path.ends_with(".deb");
    let apk = path.starts_with("var/cache/apk/") && path.len() > "var/cache/apk/".len();
    lists || archives || apk
}

/// Scans one layer's uncompressed tar stream header by header: nothing is
/// written anywhere, only small candidate secret files are read (to look
/// for their private-key or token marker).
pub fn scan_layer(digest: &str, tar_stream: impl Read) -> io::Result<LayerScan> {
    let mut scan = LayerScan {
        digest: digest.to_string(),
        ..LayerScan::default()
    };
    let mut archive = tar::Archive::new(tar_stream);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let path = raw
            .trim_start_matches("./")
            .trim_start_matches('/')
            .to_string();
        let name = path.rsplit('/').next().unwrap_or(&path);
        if name.starts_with(".wh.") {
            continue;
        }
        let kind = entry.header().entry_type();
        let mode = entry.header().mode().unwrap_or(0) & 0o7777;
        if kind.is_file() && mode & 0o6000 != 0 {
            if scan.setid.len() < LIST_MAX {
                scan.setid.push((path.clone(), mode));
            } else {
                scan.setid_more += 1;
            }
        }
        let has_caps = entry.pax_extensions()?.is_some_and(|exts| {
            exts.flatten()
                .any(|e| e.key_bytes() == b"SCHILY.xattr.security.capability")
        });
        if has_caps {
            if scan.caps.len() < LIST_MAX {
                scan.caps.push(path.clone());
            } else {
                scan.caps_more += 1;
            }
        }
        if !kind.is_file() {
            continue;
        }
        if cache_file(&path) {
            scan.cache_files += 1;
            scan.cache_example.get_or_insert_with(|| path.clone());
        }
        let size = entry.header().size().unwrap_or(u64::MAX);
        let head = || {
            let mut buf = Vec::new();
            (size <= CONTENT_MAX)
                .then(|| (&mut entry).take(CONTENT_MAX).read_to_end(&mut buf).ok())
                .flatten()
                .map(|_| buf)
        };
        if let Some(what) = secret_kind(&path, head) {
            scan.secrets.push((path, what));
        }
    }
    Ok(scan)
}

/// A secret's evidence: its first 2 characters and its length, never more.
pub fn redact(value: &str) -> String {
    let start: String = value.chars().take(2).collect();
    format!("{start}… ({} characters)", value.chars().count())
}

/// The findings of an image: `reference` as the user named it, `config`
/// the image's config blob (OCI / Docker image config JSON), `layers` the
/// scans of its layers in order.
pub fn check(reference: &str, config: &Value, layers: &[LayerScan]) -> Vec<Finding> {
    let mut out = Vec::new();
    let cfg = &config["config"];
    let user = cfg["User"].as_str().unwrap_or("");
    let who = user.split(':').next().unwrap_or("");
    if who.is_empty() || who == "root" || who == "0" {
        let seen = if user.is_empty() {
            "User is not set (root)".to_string()
        } else {
            format!("User {user}")
        };
        out.push(USER_ROOT.seen(seen));
    }
    let test = &cfg["Healthcheck"]["Test"];
    let none = test
        .as_array()
        .is_none_or(|t| t.first().and_then(|v| v.as_str()) == Some("NONE"));
    if none {
        out.push(HEALTHCHECK_MISSING.seen(if test.is_null() {
            "no Healthcheck in the config".to_string()
        } else {
            "Healthcheck NONE".to_string()
        }));
    }
    for env in cfg["Env"].as_array().into_iter().flatten() {
        let Some((name, value)) = env.as_str().and_then(|e| e.split_once('=')) else {
            continue;
        };
        if looks_like_credential(value) {
            out.push(SECRET_VALUE.seen(format!("Env {name}={}", redact(value))));
        } else if secret_name(name) && !value.is_empty() {
            out.push(SECRET_ENV.seen(format!("Env {name}={}", redact(value))));
        }
    }
    history(config, &mut out);
    for l in layers {
        layer_findings(l, &mut out);
    }
    if reference
        .rsplit_once(':')
        .is_some_and(|(n, t)| t == "latest" && !n.contains('@'))
    {
        out.push(TAG_LATEST.seen(reference.to_string()));
    }
    out
}

fn list<T>(items: &[T], more: usize, show: impl Fn(&T) -> String) -> String {
    let mut s: Vec<String> = items.iter().map(show).collect();
    if more > 0 {
        s.push(format!("and {more} more"));
    }
    s.join(", ")
}

fn layer_findings(l: &LayerScan, out: &mut Vec<Finding>) {
    if !l.setid.is_empty() {
        let files = list(&l.setid, l.setid_more, |(p, m)| format!("/{p} ({m:04o})"));
        out.push(SETID.seen(format!("layer {}: {files}", l.digest)));
    }
    if !l.caps.is_empty() {
        let files = list(&l.caps, l.caps_more, |p| format!("/{p}"));
        out.push(FILE_CAPS.seen(format!("layer {}: {files}", l.digest)));
    }
    for (p, what) in &l.secrets {
        out.push(SECRET_FILE.seen(format!("layer {}: /{p} ({what})", l.digest)));
    }
    if l.cache_files > 0 {
        let example = l.cache_example.as_deref().unwrap_or("");
        out.push(PACKAGE_CACHE.seen(format!(
            "layer {}: {} files, e.g. /{example}",
            l.digest, l.cache_files
        )));
    }
}

/// The base image's root filesystem as Docker's builder records it
/// (`ADD file:<hex> in / `): every image built `FROM debian` has one; it is
/// the base's tarball, not an ADD of this Dockerfile.
fn base_rootfs_add(created_by: &str) -> bool {
    created_by.split_once("ADD file:").is_some_and(|(_, rest)| {
        let hex: String = rest.chars().take_while(|c| c.is_ascii_hexdigit()).collect();
        let after = rest[hex.len()..].trim();
        hex.len() >= 32 && (after == "in /" || after.starts_with("in / "))
    })
}

/// The ADD instruction's arguments in a history line, if it is one
/// (`/bin/sh -c #(nop) ADD ...` of the classic builder, `ADD ...` of
/// BuildKit).
fn add_args(created_by: &str) -> Option<&str> {
    let t = created_by.trim();
    if let Some(i) = t.find("#(nop) ADD ") {
        return Some(&t[i + "#(nop) ADD ".len()..]);
    }
    if let Some(rest) = t.strip_prefix("ADD ") {
        return Some(rest);
    }
    t.find(" ADD ").map(|i| &t[i + " ADD ".len()..])
}

fn history(config: &Value, out: &mut Vec<Finding>) {
    for (i, h) in config["history"]
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Some(cb) = h["created_by"].as_str() else {
            continue;
        };
        if let Some(args) = add_args(cb).filter(|_| !base_rootfs_add(cb)) {
            let remote = args
                .split_whitespace()
                .any(|w| w.starts_with("http://") || w.starts_with("https://"));
            let checksum = args.contains("--checksum=");
            let shown: String = cb.trim().chars().take(160).collect();
            if remote && !checksum {
                out.push(ADD_REMOTE.seen(format!("history[{i}]: {shown}")));
            } else if !remote {
                out.push(ADD_LOCAL.seen(format!("history[{i}]: {shown}")));
            }
        }
        history_secrets(i, cb, out);
        let update = cb.contains("apt-get update") || cb.contains("apt update");
        let install = cb.contains("apt-get install")
            || cb.contains("apt install")
            || cb.contains("apt-get upgrade")
            || cb.contains("apt-get dist-upgrade");
        if update && !install {
            let shown: String = cb.trim().chars().take(160).collect();
            out.push(APT_UPDATE_ALONE.seen(format!("history[{i}]: {shown}")));
        }
    }
}

/// Build arguments recorded in a RUN's history line (`|2 A=b C=d /bin/sh
/// -c ...`), credential-looking words, and commands that wrote private keys.
fn history_secrets(i: usize, cb: &str, out: &mut Vec<Finding>) {
    let words: Vec<&str> = cb.split_whitespace().collect();
    let mut args: Vec<(&str, &str)> = Vec::new();
    if let Some(pos) = words.iter().position(|w| {
        w.strip_prefix('|')
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    }) {
        let n: usize = words[pos][1..].parse().unwrap_or(0);
        args = words[pos + 1..]
            .iter()
            .take(n)
            .filter_map(|w| w.split_once('='))
            .collect();
    }
    let mut flagged = false;
    for (name, value) in &args {
        if looks_like_credential(value) {
            out.push(SECRET_VALUE.seen(format!("history[{i}]: ARG {name}={}", redact(value))));
            flagged = true;
        } else if secret_name(name) && !value.is_empty() {
            out.push(SECRET_HISTORY.seen(format!("history[{i}]: ARG {name}={}", redact(value))));
            flagged = true;
        }
    }
    if !flagged {
        let cred = words
            .iter()
            .map(|w| w.split_once('=').map_or(*w, |(_, v)| v))
            .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
            .find(|w| looks_like_credential(w));
        if let Some(v) = cred {
            out.push(SECRET_VALUE.seen(format!("history[{i}]: {}", redact(v))));
        }
    }
    let writes_key = cb.contains('>')
        && ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "PRIVATE KEY"]
            .iter()
            .any(|k| cb.contains(k))
        && !cb.contains(".pub");
    if writes_key {
        out.push(SECRET_HISTORY.seen(format!(
            "history[{i}]: a command writes a private key (contents not shown)"
        )));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ids(f: &[Finding]) -> Vec<&str> {
        let mut v: Vec<&str> = f.iter().map(|f| f.id.as_str()).collect();
        v.sort();
        v
    }

    fn tar_with(entries: &[(&str, u32, &[u8], bool)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, mode, data, cap) in entries {
            if *cap {
                let ext = [("SCHILY.xattr.security.capability", &b"\x01\x00\x00\x02"[..])];
                b.append_pax_extensions(ext).expect("pax");
            }
            let mut h = tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(*mode);
            h.set_entry_type(tar::EntryType::Regular);
            b.append_data(&mut h, path, *data).expect("append");
        }
        b.into_inner().expect("tar")
    }

    #[test]
    fn layer_scan() {
        let t = tar_with(&[
            ("usr/bin/passwd", 0o4755, b"x", false),
            ("usr/bin/ping", 0o755, b"x", true),
            ("root/.ssh/id_rsa", 0o600, b"k", false),
            (
                "srv/tls.pem",
                0o600,
                b"-----BEGIN PRIVATE KEY-----\n",
                false,
            ),
            ("srv/ca.pem", 0o644, b"-----BEGIN CERTIFICATE-----\n", false),
            ("home/a/.npmrc", 0o600, b"//r/:_authToken=abc\n", false),
            (
                "var/lib/apt/lists/deb.debian.org_Packages",
                0o644,
                b"",
                false,
            ),
            ("var/lib/apt/lists/lock", 0o644, b"", false),
        ]);
        let s = scan_layer("sha256:ab", &t[..]).expect("scan");
        assert_eq!(s.setid, [("usr/bin/passwd".to_string(), 0o4755)]);
        assert_eq!(s.caps, ["usr/bin/ping"]);
        let paths: Vec<&str> = s.secrets.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, ["root/.ssh/id_rsa", "srv/tls.pem", "home/a/.npmrc"]);
        assert_eq!(s.cache_files, 1);
    }

    #[test]
    fn config_and_history() {
        let c = json!({"config": {"User": "", "Env": ["PATH=/bin", "DB_PASSWORD=hunter2hunter2", "K=AKIAIOSFODNN7EXAMPLE"]},
        "history": [
            {"created_by": "/bin/sh -c #(nop) ADD file:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef in / "},
            {"created_by": "/bin/sh -c #(nop) ADD app.tar /srv/"},
            {"created_by": "ADD https://example.com/x.sh /x.sh # buildkit"},
            {"created_by": "|1 NPM_TOKEN=abcdefgh /bin/sh -c npm ci"},
            {"created_by": "RUN /bin/sh -c echo $KEY > /root/.ssh/id_rsa # buildkit"},
            {"created_by": "RUN /bin/sh -c apt-get update # buildkit"},
            {"empty_layer": true}
        ]});
        let f = check("localhost/x:latest", &c, &[]);
        assert_eq!(
            ids(&f),
            [
                "image.add",
                "image.add-remote",
                "image.apt-update-alone",
                "image.healthcheck-missing",
                "image.secret-env",
                "image.secret-history",
                "image.secret-history",
                "image.secret-value",
                "image.tag-latest",
                "image.user-root"
            ]
        );
        let text = format!("{f:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(!text.contains("AKIAIOSFODNN7EXAMPLE"), "{text}");
        assert!(text.contains("DB_PASSWORD=hu… (14 characters)"), "{text}");
        let clean =
            json!({"config": {"User": "1000:1000", "Healthcheck": {"Test": ["CMD", "true"]}}});
        assert!(check("localhost/x:1", &clean, &[]).is_empty());
    }
}

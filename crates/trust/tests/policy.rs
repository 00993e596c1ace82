//! The `[images]` trust policy, evaluated: fail closed, the most specific
//! scope wins, and each refusal names the image, the rule and the fix.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ward_policy::Policy;
use ward_trust::policy::{
    RULE_POLICY_KEY, RULE_REGISTRY_NOT_ALLOWED, RULE_SHORT_NAME, RULE_SIGNATURE_INVALID,
    RULE_UNSIGNED,
};
use ward_trust::{
    check_image, payload_for, requirement, short_name_registry, sign, signature_manifest,
    signature_tag, Admitted, ImageRefusal, PrivateKey, Requirement,
};

const REGISTRY: &str = "registry.example:5000";

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("ward-trust-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).expect("temp dir");
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn digest(n: u8) -> String {
    format!("sha256:{}", format!("{n:02x}").repeat(32))
}

/// A key pair with the public half written to `dir/name.pub`.
fn key(dir: &Dir, name: &str) -> (PrivateKey, PathBuf) {
    let k = PrivateKey::generate();
    let p = dir.0.join(format!("{name}.pub"));
    std::fs::write(&p, k.public("").to_pem().expect("pem")).expect("write");
    (k, p)
}

fn policy(dir: &Dir, text: &str) -> Policy {
    let file = dir.0.join("policy.toml");
    std::fs::write(&file, text).expect("write");
    Policy::load(&file).expect("policy parses")
}

/// A registry holding signature manifests by tag and blobs by digest.
#[derive(Default)]
struct Registry {
    tags: HashMap<String, Vec<u8>>,
    blobs: HashMap<String, Vec<u8>>,
    down: bool,
}

impl Registry {
    fn sign(&mut self, repo: &str, image: &str, key: &PrivateKey) {
        let tag = signature_tag(image).expect("tag");
        let layer = sign(payload_for(&format!("{REGISTRY}/{repo}"), image), key);
        let m = signature_manifest(self.tags.get(&tag).map(Vec::as_slice), &layer).expect("m");
        self.blobs.extend(m.blobs);
        self.tags.insert(tag, m.manifest);
    }

    fn check(&self, p: &Policy, repo: &str, image: &str) -> Result<Admitted, ImageRefusal> {
        check_image(
            p,
            &format!("{REGISTRY}/{repo}@{image}"),
            REGISTRY,
            repo,
            image,
            |tag| {
                if self.down {
                    Err("connection refused".into())
                } else {
                    Ok(self.tags.get(tag).cloned())
                }
            },
            |d, _| {
                self.blobs
                    .get(d)
                    .cloned()
                    .ok_or_else(|| "blob unknown".into())
            },
        )
    }
}

#[test]
fn without_a_policy_file_every_registry_is_refused() {
    let p = Policy::default();
    let r = requirement(&p, REGISTRY, "app").expect("no keys to read");
    let Requirement::Refused { rule, detail, fix } = &r else {
        panic!("{r:?}")
    };
    assert_eq!(*rule, RULE_REGISTRY_NOT_ALLOWED);
    assert!(
        detail.contains("there is no policy file (/etc/ward/policy.toml)"),
        "{detail}"
    );
    assert!(
        fix.contains("[images.registries.\"registry.example:5000\"]"),
        "{fix}"
    );
    let e = Registry::default()
        .check(&p, "app", &digest(1))
        .expect_err("refused");
    let msg = e.to_string();
    assert!(msg.starts_with("refused by ward policy (built-in defaults): image registry.example:5000/app@sha256:0101"), "{msg}");
    assert!(msg.contains("rule image.registry-not-allowed"), "{msg}");
    assert!(msg.contains("add to /etc/ward/policy.toml"), "{msg}");
    // Docker Hub too: no exemption for the default registry.
    assert!(matches!(
        requirement(&p, "docker.io", "busybox"),
        Ok(Requirement::Refused { .. })
    ));
}

#[test]
fn signed_images_pass_and_the_others_are_refused_by_rule() {
    let dir = Dir::new("policy-signed");
    let (release, release_pub) = key(&dir, "release");
    let (stranger, _) = key(&dir, "stranger");
    let p = policy(
        &dir,
        &format!(
            "[images.registries.\"{REGISTRY}\"]\nkeys = [\"{}\"]\n",
            release_pub.display()
        ),
    );
    let mut reg = Registry::default();
    reg.sign("app", &digest(1), &release);
    let ok = reg.check(&p, "app", &digest(1)).expect("signed by release");
    assert_eq!(ok.scope, REGISTRY);
    assert!(ok.signature.expect("signature").key.contains("release.pub"));

    // No signature tag at all.
    let e = reg.check(&p, "app", &digest(2)).expect_err("unsigned");
    assert_eq!(e.rule, RULE_UNSIGNED);
    assert!(
        e.fix.contains(&format!(
            "ward image sign {REGISTRY}/app@{} --key KEY",
            digest(2)
        )),
        "{e}"
    );
    assert!(e.detail.contains("release.pub"), "{e}");

    // Signed, by a key the policy does not name.
    reg.sign("app", &digest(3), &stranger);
    let e = reg.check(&p, "app", &digest(3)).expect_err("wrong key");
    assert_eq!(e.rule, RULE_SIGNATURE_INVALID);
    assert!(e.detail.contains("does not verify with the key"), "{e}");
    assert!(e.fix.contains("add its public key to keys"), "{e}");
    // ... and one by release next to it is enough.
    reg.sign("app", &digest(3), &release);
    reg.check(&p, "app", &digest(3))
        .expect("one good signature");

    // A signature for the same digest in another repository is moved to
    // this one: refused, it names the repository.
    reg.sign("other", &digest(4), &release);
    let tag = signature_tag(&digest(4)).expect("tag");
    let e = reg.check(&p, "app", &digest(4)).expect_err("other repo");
    assert_eq!(e.rule, RULE_SIGNATURE_INVALID);
    assert!(
        e.detail
            .contains("signed for the repository registry.example:5000/other"),
        "{e}"
    );
    assert!(reg.tags.contains_key(&tag));

    // The registry does not answer for the signatures: fail closed.
    reg.down = true;
    let e = reg.check(&p, "app", &digest(1)).expect_err("down");
    assert_eq!(e.rule, RULE_UNSIGNED);
    assert!(e.detail.contains("connection refused"), "{e}");

    // Another registry is not in the policy.
    let e = requirement(&p, "elsewhere.example", "app").expect("reads");
    assert!(matches!(e, Requirement::Refused { rule, .. } if rule == RULE_REGISTRY_NOT_ALLOWED));
}

#[test]
fn the_most_specific_scope_wins() {
    let dir = Dir::new("policy-scopes");
    let (_, team_pub) = key(&dir, "team");
    let (_, release_pub) = key(&dir, "release");
    let p = policy(
        &dir,
        &format!(
            r#"
[images.registries."{REGISTRY}"]
keys = ["{}"]
[images.registries."{REGISTRY}/team"]
keys = ["{}"]
[images.registries."{REGISTRY}/team/scratch"]
signatures = "none"
[images.registries."{REGISTRY}/team/scratch/banned"]
allowed = false
"#,
            release_pub.display(),
            team_pub.display()
        ),
    );
    let keys_of = |repo: &str| match requirement(&p, REGISTRY, repo).expect("reads") {
        Requirement::Signed { scope, keys } => {
            format!(
                "{scope}: {}",
                keys.iter()
                    .map(|k| k.origin.clone())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
        other => format!("{other:?}"),
    };
    assert!(keys_of("app").ends_with("release.pub"));
    assert!(keys_of("team/app").starts_with(&format!("{REGISTRY}/team: ")));
    assert!(keys_of("team/app").ends_with("team.pub"));
    assert!(keys_of("teams/app").ends_with("release.pub"));
    assert_eq!(
        requirement(&p, REGISTRY, "team/scratch/x").expect("reads"),
        Requirement::Unsigned {
            scope: format!("{REGISTRY}/team/scratch")
        }
    );
    let Requirement::Refused { rule, detail, .. } =
        requirement(&p, REGISTRY, "team/scratch/banned/x").expect("reads")
    else {
        panic!("allowed = false")
    };
    assert_eq!(rule, RULE_REGISTRY_NOT_ALLOWED);
    assert!(detail.contains("allowed = false"), "{detail}");
    // Unsigned scope: admitted without looking for signatures.
    let ok = Registry {
        down: true,
        ..Registry::default()
    }
    .check(&p, "team/scratch/x", &digest(1))
    .expect("unsigned scope");
    assert_eq!(ok.signature, None);
}

#[test]
fn keys_that_cannot_be_used_name_their_file() {
    let dir = Dir::new("policy-keys");
    let rsa = dir.0.join("rsa.pub");
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout -out {}",
            rsa.display()
        ))
        .status()
        .expect("openssl");
    assert!(out.success());
    for (k, says) in [
        (dir.0.join("missing.pub"), "cannot read"),
        (rsa, "the key is RSA"),
    ] {
        let p = policy(
            &dir,
            &format!(
                "[images.registries.\"{REGISTRY}\"]\nkeys = [\"{}\"]\n",
                k.display()
            ),
        );
        let e = requirement(&p, REGISTRY, "app").expect_err("bad key");
        let msg = e.to_string();
        assert!(
            msg.contains(&k.display().to_string()) && msg.contains(says),
            "{msg}"
        );
        assert!(msg.contains("policy.toml"), "{msg}");
        let e = Registry::default()
            .check(&p, "app", &digest(1))
            .expect_err("refused");
        assert_eq!(e.rule, RULE_POLICY_KEY);
        assert!(e.fix.contains("ward trust keygen"), "{e}");
    }
}

#[test]
fn short_names_need_a_default_registry() {
    let e = short_name_registry(&Policy::default(), "busybox").expect_err("refused");
    assert_eq!(e.rule, RULE_SHORT_NAME);
    assert!(e.fix.contains("default_registry"), "{e}");
    let p = Policy::parse(
        "[images]\ndefault_registry = \"registry.example:5000\"\n",
        Path::new("/p.toml"),
    )
    .expect("parses");
    assert_eq!(short_name_registry(&p, "busybox").as_deref(), Ok(REGISTRY));
}

/// docs/trust.md's complete example is a valid policy, judged as the
/// document says, and its table names every rule.
#[test]
fn the_documented_example_holds() {
    let doc = include_str!("../../../docs/trust.md");
    let example = doc
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml example in docs/trust.md");
    let p = Policy::parse(example, Path::new("/etc/ward/policy.toml")).expect("the example parses");
    let scope = |repo: &str| p.images.scope_for(repo).map(|s| s.scope.clone());
    assert_eq!(
        scope("registry.example:5000/team/app").as_deref(),
        Some("registry.example:5000/team")
    );
    assert_eq!(
        scope("registry.example:5000/teams/app").as_deref(),
        Some("registry.example:5000")
    );
    assert_eq!(
        scope("docker.io/library/busybox").as_deref(),
        Some("docker.io/library")
    );
    assert_eq!(p.images.default_registry.as_deref(), Some(REGISTRY));
    for rule in ward_trust::policy::RULES {
        assert!(
            doc.contains(&format!("| `{rule}` |")),
            "{rule} is not in docs/trust.md's table"
        );
    }
}

/// /etc/containers/policy.json as a source: what can be enforced as
/// written is taken; anything else refuses its scope or is left out, and
/// is noted; never looser.
#[test]
fn containers_policy_json_converts_failing_closed() {
    let json = r#"{
        "default": [{"type": "insecureAcceptAnything"}],
        "transports": {
            "docker": {
                "": [{"type": "insecureAcceptAnything"}],
                "registry.example:5000": [{"type": "sigstoreSigned", "keyPath": "/etc/ward/keys/release.pub", "signedIdentity": {"type": "matchRepository"}}],
                "registry.example:5000/team": [{"type": "sigstoreSigned", "keyPaths": ["/k/a.pub", "/k/b.pub"]}],
                "registry.example:5000/scratch": [{"type": "insecureAcceptAnything"}],
                "registry.example:5000/banned": [{"type": "reject"}],
                "gpg.example": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/k.gpg"}],
                "keyless.example": [{"type": "sigstoreSigned", "fulcio": {}, "rekorPublicKeyPath": "/r.pub"}],
                "two.example": [{"type": "sigstoreSigned", "keyPath": "/a.pub"}, {"type": "sigstoreSigned", "keyPath": "/b.pub"}],
                "remap.example": [{"type": "sigstoreSigned", "keyPath": "/a.pub", "signedIdentity": {"type": "remapIdentity", "prefix": "a", "signedPrefix": "b"}}],
                "*.wild.example": [{"type": "insecureAcceptAnything"}],
                "tagged.example/app:v1": [{"type": "insecureAcceptAnything"}]
            },
            "docker-daemon": {"": [{"type": "insecureAcceptAnything"}]}
        }
    }"#;
    let c = ward_trust::containers_policy::parse(json.as_bytes(), "/etc/containers/policy.json")
        .expect("converts");
    let i = &c.images;
    let scope = |r: &str| i.scope_for(r).cloned();
    let reg = scope("registry.example:5000/app").expect("scope");
    assert!(reg.allowed);
    assert_eq!(reg.keys, [PathBuf::from("/etc/ward/keys/release.pub")]);
    let team = scope("registry.example:5000/team/x").expect("scope");
    assert_eq!(team.keys.len(), 2);
    assert_eq!(
        scope("registry.example:5000/scratch/x")
            .expect("scope")
            .signatures,
        ward_policy::Signatures::None
    );
    for refused in [
        "registry.example:5000/banned/x",
        "gpg.example/a",
        "keyless.example/a",
        "two.example/a",
        "remap.example/a",
    ] {
        assert!(!scope(refused).expect(refused).allowed, "{refused}");
    }
    // Not taken: the default, the transport's "", wildcards, tags.
    for unnamed in [
        "docker.io/library/busybox",
        "x.wild.example/a",
        "tagged.example/app",
    ] {
        assert!(scope(unnamed).is_none(), "{unnamed}");
    }
    let notes = c.notes.join("\n");
    for says in [
        "\"default\" is not taken",
        "signedBy (GPG simple signing) is not supported",
        "keyless sigstoreSigned",
        "several signature requirements",
        "signedIdentity remapIdentity is not supported",
        "\"*.wild.example\" is not taken",
        "transport \"docker-daemon\"",
        "scope \"registry.example:5000/team\": signedIdentity is matched by repository",
    ] {
        assert!(notes.contains(says), "{says} in:\n{notes}");
    }
    assert!(ward_trust::containers_policy::parse(b"[]", "p.json").is_err());
}

/// Debian's own policy.json (accept anything by default) gives no scope.
#[test]
fn debians_default_containers_policy_names_no_scope() {
    let json = br#"{"default": [{"type": "insecureAcceptAnything"}]}"#;
    let c = ward_trust::containers_policy::parse(json, "/etc/containers/policy.json")
        .expect("converts");
    assert!(c.images.scopes.is_empty());
    assert_eq!(c.notes.len(), 1);
}

//! `ward image pull|sign|verify` against a real registry (Debian's
//! docker-registry over TLS with its own CA, images pushed by skopeo:
//! ward_registry::testing), under the trust policy of a policy file: what
//! the user sees (exit code, the rule and the fix on stderr) and what the
//! store holds afterwards (nothing, for a refused pull).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ward_registry::testing::{self, Options, TestRegistry};

const WARD: &str = env!("CARGO_BIN_EXE_ward");

macro_rules! registry {
    ($opts:expr) => {{
        if let Some(why) = testing::unavailable() {
            eprintln!("SKIP: {why}");
            return;
        }
        TestRegistry::start($opts).expect("start registry")
    }};
}

/// One test's files: the store, policies, keys; removed on drop. Not
/// under the registry's dir, which goes when the registry stops.
struct Scene {
    dir: PathBuf,
    store: PathBuf,
    certs: PathBuf,
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Scene {
    fn new(reg: &TestRegistry) -> Scene {
        let dir = testing::temp_dir("ward-image").expect("temp dir");
        Scene {
            store: dir.join("store"),
            certs: reg.certs_d.clone(),
            dir,
        }
    }

    fn policy(&self, name: &str, toml: &str) -> PathBuf {
        let p = self.dir.join(format!("{name}.toml"));
        std::fs::write(&p, toml).expect("write policy");
        p
    }

    fn keygen(&self, name: &str) -> (PathBuf, PathBuf) {
        let prefix = self.dir.join(name);
        let o = Command::new(WARD)
            .args(["trust", "keygen", "--out"])
            .arg(&prefix)
            .output()
            .expect("run ward");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (prefix.with_extension("key"), prefix.with_extension("pub"))
    }

    fn image(&self, policy: &Path, args: &[&str]) -> Output {
        self.image_with_certs(policy, &self.certs, args)
    }

    fn image_with_certs(&self, policy: &Path, certs: &Path, args: &[&str]) -> Output {
        Command::new(WARD)
            .arg("image")
            .args(args)
            .arg("--root")
            .arg(&self.store)
            .arg("--policy")
            .arg(policy)
            .arg("--certs-dir")
            .arg(certs)
            .env_remove("COSIGN_PASSWORD")
            .env("DOCKER_CONFIG", self.dir.join("no-docker-config"))
            .output()
            .expect("run ward")
    }

    /// The blobs the store holds (a refused pull must leave none).
    fn blobs(&self) -> usize {
        std::fs::read_dir(self.store.join("blobs/sha256"))
            .map(|rd| rd.count())
            .unwrap_or(0)
    }
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[track_caller]
fn ok(o: Output) -> String {
    let (out, err) = text(&o);
    assert!(o.status.success(), "expected success: {err}\n{out}");
    out
}

#[track_caller]
fn refused(o: Output, words: &[&str]) -> String {
    let (out, err) = text(&o);
    assert_eq!(
        o.status.code(),
        Some(125),
        "expected exit 125: {err}\n{out}"
    );
    for w in words {
        assert!(err.contains(w), "expected {w:?} in: {err}");
    }
    err
}

#[test]
fn only_images_signed_by_the_policys_key_are_pulled() {
    let reg = registry!(Options::tls());
    let layout = reg.dir.join("layout");
    let img = testing::busybox_layout(&layout).expect("layout");
    reg.push(&layout, "latest", "team/busybox:1", false)
        .expect("push");
    let s = Scene::new(&reg);
    let (k1, k1_pub) = s.keygen("release");
    let (k2, _) = s.keygen("other");
    let host = &reg.host;
    let image = format!("{host}/team/busybox:1");
    let policy = s.policy(
        "signed",
        &format!(
            "[images.registries.\"{host}\"]\nkeys = [\"{}\"]\n",
            k1_pub.display()
        ),
    );

    // Unsigned: refused before any layer is fetched.
    refused(
        s.image(&policy, &["pull", &image]),
        &["rule image.unsigned", &image, "ward image sign"],
    );
    assert_eq!(s.blobs(), 0, "a refused pull writes no blob");

    // Signed by a key the policy does not name: refused.
    ok(s.image(
        &policy,
        &["sign", &image, "--key", k2.to_str().expect("path")],
    ));
    refused(
        s.image(&policy, &["pull", &image]),
        &["rule image.signature-invalid", &image],
    );
    assert_eq!(s.blobs(), 0);

    // Signed by the policy's key too (the other signature stays): pulled.
    let signed = ok(s.image(
        &policy,
        &["sign", &image, "--key", k1.to_str().expect("path")],
    ));
    assert!(signed.contains(&img.manifest_digest), "{signed}");
    let o = s.image(&policy, &["pull", &image]);
    let (_, err) = text(&o);
    let out = ok(o);
    assert!(out.contains(&img.manifest_digest), "{out}");
    assert!(err.contains("signature verified with"), "{err}");
    let ls = ok(s.image(&policy, &["ls"]));
    assert!(ls.contains("team/busybox"), "{ls}");
    assert_setid_stripped(&s, &err);
    let v = ok(s.image(&policy, &["verify", &image]));
    assert!(v.contains("signature verified with"), "{v}");
    keep_setid_is_explicit_and_apart(&s, &policy, &image);

    // The tag moves to other content after signing (the same image as a
    // Docker schema2 manifest: other bytes, another digest): unsigned.
    reg.push_with(&layout, "latest", "team/busybox:1", &["--format=v2s2"])
        .expect("push as v2s2");
    let moved = reg.inspect_raw("team/busybox:1").expect("inspect");
    assert_ne!(moved, img.manifest, "the tag names other bytes now");
    refused(
        s.image(&policy, &["pull", &image]),
        &["rule image.unsigned"],
    );
}

/// The image's setuid `passwd` and setgid `wall` are unpacked without
/// those bits (the seeds: prohibit SUID and SGID), and the pull says so.
#[track_caller]
fn assert_setid_stripped(s: &Scene, pull_stderr: &str) {
    use std::os::unix::fs::PermissionsExt;
    assert!(
        pull_stderr.contains("2 setuid/setgid bits stripped"),
        "{pull_stderr}"
    );
    let layers: Vec<PathBuf> = std::fs::read_dir(s.store.join("layers"))
        .expect("layers")
        .flatten()
        .map(|e| e.path().join("diff"))
        .filter(|d| d.is_dir())
        .collect();
    assert_eq!(layers.len(), 1, "{layers:?}");
    for name in ["usr/bin/passwd", "usr/bin/wall"] {
        let mode = std::fs::metadata(layers[0].join(name))
            .expect(name)
            .permissions()
            .mode();
        assert_eq!(mode & 0o7777, 0o755, "{name}: {mode:o}");
    }
}

/// `--keep-setid` (the per-image opt-out): the bits stay, `inspect` says
/// so, and the stripped layer of the same chain is another directory that
/// stays stripped.
fn keep_setid_is_explicit_and_apart(s: &Scene, policy: &Path, image: &str) {
    use std::os::unix::fs::PermissionsExt;
    let o = s.image(policy, &["pull", "--keep-setid", image]);
    let (_, err) = text(&o);
    ok(o);
    assert!(err.contains("kept (--keep-setid)"), "{err}");
    let inspect = ok(s.image(policy, &["inspect", image]));
    assert!(inspect.contains("\"keep_setid\": true"), "{inspect}");
    let mut modes: Vec<u32> = std::fs::read_dir(s.store.join("layers"))
        .expect("layers")
        .flatten()
        .map(|e| e.path().join("diff/usr/bin/passwd"))
        .filter(|p| p.exists())
        .map(|p| std::fs::metadata(p).expect("passwd").permissions().mode() & 0o7777)
        .collect();
    modes.sort_unstable();
    assert_eq!(
        modes,
        vec![0o755, 0o4755],
        "one stripped and one kept layer dir"
    );
}

#[test]
fn registries_outside_the_policy_and_untrusted_certificates_are_refused() {
    let reg = registry!(Options::tls());
    let layout = reg.dir.join("layout");
    testing::busybox_layout(&layout).expect("layout");
    reg.push(&layout, "latest", "lib/busybox:1", false)
        .expect("push");
    let s = Scene::new(&reg);
    let image = format!("{}/lib/busybox:1", reg.host);

    // Another registry is allowed, not this one.
    let elsewhere = s.policy(
        "elsewhere",
        "[images.registries.\"registry.example:5000\"]\nsignatures = \"none\"\n",
    );
    refused(
        s.image(&elsewhere, &["pull", &image]),
        &["rule image.registry-not-allowed", "[images.registries."],
    );
    // Allowed without signatures, but its CA is not in the certs dir:
    // refused, loopback address or not, with the path to put the CA in.
    let unsigned = s.policy(
        "unsigned",
        &format!(
            "[images.registries.\"{}\"]\nsignatures = \"none\"\n",
            reg.host
        ),
    );
    let empty = s.dir.join("empty-certs");
    std::fs::create_dir_all(&empty).expect("mkdir");
    let err = refused(
        s.image_with_certs(&unsigned, &empty, &["pull", &image]),
        &["not trusted", &empty.join(&reg.host).display().to_string()],
    );
    assert!(
        !err.contains("rule "),
        "a TLS failure is not a policy rule: {err}"
    );
    assert_eq!(s.blobs(), 0);
    // With the CA: pulled unsigned, as that policy allows.
    let o = s.image(&unsigned, &["pull", &image]);
    let (_, err) = text(&o);
    ok(o);
    assert!(err.contains("unsigned, which the policy allows"), "{err}");
}

#[test]
fn bad_input_gives_a_clear_error_and_leaves_the_store_consistent() {
    let reg = registry!(Options {
        tls: true,
        basic_auth: Some(("ward".into(), "right-password".into())),
        client_certs: false,
    });
    let layout = reg.dir.join("layout");
    testing::busybox_layout(&layout).expect("layout");
    reg.push(&layout, "latest", "app/busybox:1", false)
        .expect("push");
    let s = Scene::new(&reg);
    let host = reg.host.clone();
    let policy = s.policy(
        "unsigned",
        &format!("[images.registries.\"{host}\"]\nsignatures = \"none\"\n"),
    );
    let image = format!("{host}/app/busybox:1");
    let pull = |args: &[&str], docker_config: Option<&Path>| {
        let mut c = Command::new(WARD);
        c.arg("image")
            .args(args)
            .arg("--root")
            .arg(&s.store)
            .arg("--policy")
            .arg(&policy)
            .arg("--certs-dir")
            .arg(&s.certs)
            .env("DOCKER_CONFIG", s.dir.join("none"));
        if let Some(d) = docker_config {
            c.env("DOCKER_CONFIG", d);
        }
        c.output().expect("run ward")
    };
    // No credentials, wrong ones, then the right ones.
    refused(
        pull(&["pull", &image], None),
        &["requires authentication", &host],
    );
    let wrong = s.dir.join("wrong");
    testing::write_docker_config(&wrong, &host, "ward", "wrong-password").expect("config");
    refused(
        pull(&["pull", &image], Some(&wrong)),
        &["refused the credentials", &host],
    );
    assert_eq!(s.blobs(), 0);
    let right = s.dir.join("right");
    testing::write_docker_config(&right, &host, "ward", "right-password").expect("config");
    // An unknown tag and an unknown repository.
    refused(
        pull(&["pull", &format!("{host}/app/busybox:nope")], Some(&right)),
        &["not found", "app/busybox"],
    );
    refused(
        pull(&["pull", &format!("{host}/app/nothing:1")], Some(&right)),
        &["app/nothing"],
    );
    ok(pull(&["pull", &image], Some(&right)));
    // The registry goes away: a clear error naming it; the store still
    // lists what it had, and prune keeps it.
    drop(reg);
    refused(
        pull(&["pull", &image], Some(&right)),
        &["cannot reach", &host],
    );
    let ls = ok(pull(&["ls"], None));
    assert!(ls.contains("app/busybox"), "{ls}");
    ok(pull(&["prune"], None));
    let inspect = ok(pull(&["inspect", &image], None));
    assert!(inspect.contains("\"layers\""), "{inspect}");
}

//! The protocol's parsing: each bypass form is refused.

use base64::Engine as _;

use super::*;

fn judge_with(method: &str, uri: &str, headers: &[(&str, &str)], body: &[u8]) -> Verdict {
    judge_under(Policy::default(), method, uri, headers, body)
}

fn judge_under(
    policy: Policy,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Verdict {
    let j = Judge {
        policy,
        context: |_| ward_policy::Context::default(),
        daemon: ward_dockerapi::Daemon::default(),
    };
    let req = AuthzRequest {
        user: None,
        auth_method: None,
        method: method.into(),
        uri: uri.into(),
        body: Some(base64::engine::general_purpose::STANDARD.encode(body)),
        headers: Some(
            headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ),
    };
    judge(&j, &req)
}

/// A create as the docker CLI sends it.
fn create(uri: &str, body: &str) -> Verdict {
    let len = body.len().to_string();
    judge_with(
        "POST",
        uri,
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", &len),
        ],
        body.as_bytes(),
    )
}

#[test]
fn an_ordinary_create_is_allowed_a_privileged_one_refused_with_the_rule() {
    assert!(
        create(
            "/v1.41/containers/create",
            r#"{"Image":"busybox","Cmd":["true"]}"#
        )
        .allow
    );
    let v = create(
        "/v1.41/containers/create?name=x",
        r#"{"HostConfig":{"Privileged":true}}"#,
    );
    assert!(!v.allow);
    assert!(v.rules.contains(&"privileged".to_string()));
    assert!(
        v.msg.contains("rule privileged") && v.msg.contains("fix:"),
        "{}",
        v.msg
    );
    // Without a version, lower case, the other versions dockerd serves.
    for uri in [
        "/containers/create",
        "/v1.24/containers/create",
        "/v1.12/containers/create",
    ] {
        assert!(
            !create(uri, r#"{"HostConfig":{"privileged":true}}"#).allow,
            "{uri}"
        );
    }
}

#[test]
fn unknown_api_versions_and_path_tricks_are_refused() {
    let ok = r#"{"Image":"busybox"}"#;
    for uri in [
        "/v1.99/containers/create",
        "/v2.0/containers/create",
        "/v1.041/containers/create",
        "/v1.11/containers/create",
        "/vx/containers/create",
        "/v1.41//containers/create",
        "/v1.41/containers/./create",
        "/v1.41/images/../containers/create",
        "/v1.41/containers/create/",
        "/v1.41/containers/create%3Fx",
        "/v1.41/containers/%zz",
    ] {
        let v = create(uri, ok);
        assert!(!v.allow && v.rules == ["authz.uri"], "{uri}: {v:?}");
    }
    // An escape that decodes to the endpoint is the endpoint.
    let v = create(
        "/v1.41/containers/%63reate",
        r#"{"HostConfig":{"Privileged":true}}"#,
    );
    assert!(!v.allow && v.rules.contains(&"privileged".to_string()));
    let v = create("/v1.41/containers/%63reate", ok);
    assert!(v.allow);
}

#[test]
fn bodies_the_plugin_cannot_see_whole_are_refused() {
    let body = br#"{"HostConfig":{"Privileged":true}}"#;
    let unseen = |headers: &[(&str, &str)], body: &[u8]| {
        let v = judge_with("POST", "/v1.41/containers/create", headers, body);
        assert!(
            !v.allow && v.rules == ["authz.body-unseen"],
            "{headers:?}: {v:?}"
        );
    };
    // CVE-2024-41110: Content-Length set, no body shown.
    unseen(
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", "34"),
        ],
        b"",
    );
    // Content-Length 0 (a body after it is another request to dockerd).
    unseen(
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", "0"),
        ],
        b"",
    );
    // Chunked: no Content-Length.
    unseen(&[("Content-Type", "application/json")], b"");
    unseen(&[("Content-Type", "application/json")], body);
    // Over dockerd's forward limit.
    unseen(
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", "1048576"),
        ],
        b"",
    );
    unseen(
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", "5000000"),
        ],
        b"",
    );
    // Not JSON: dockerd does not forward it.
    unseen(
        &[("Content-Type", "text/plain"), ("Content-Length", "34")],
        body,
    );
    unseen(&[("Content-Length", "34")], b"");
    unseen(
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Content-Length", "34"),
        ],
        body,
    );
    // The same checks on exec and update.
    for uri in ["/v1.41/containers/abc/exec", "/v1.41/containers/abc/update"] {
        let v = judge_with(
            "POST",
            uri,
            &[
                ("Content-Type", "application/json"),
                ("Content-Length", "20"),
            ],
            b"",
        );
        assert!(!v.allow, "{uri}");
    }
    // A body with the JSON charset parameter is read.
    let v = judge_with(
        "POST",
        "/containers/create",
        &[
            ("Content-Type", "application/json; charset=utf-8"),
            ("Content-Length", "34"),
        ],
        body,
    );
    assert!(
        !v.allow && v.rules.contains(&"privileged".to_string()),
        "{v:?}"
    );
}

#[test]
fn bodies_read_otherwise_than_go_reads_them_are_refused() {
    for body in [
        r#"{"HostConfig":{"Privileged":false,"Privileged":true}}"#,
        r#"{"HostConfig":{"Privileged":false,"PRIVILEGED":true}}"#,
        r#"{"HostConfig":{"Privileged":"true"}}"#,
        r#"not json"#,
    ] {
        let v = create("/containers/create", body);
        assert!(
            !v.allow && v.rules == ["authz.body-invalid"],
            "{body}: {v:?}"
        );
    }
}

#[test]
fn exec_start_and_other_requests() {
    let exec = |body: &str| {
        let len = body.len().to_string();
        judge_with(
            "POST",
            "/v1.41/containers/c1/exec",
            &[
                ("Content-Type", "application/json"),
                ("Content-Length", &len),
            ],
            body.as_bytes(),
        )
    };
    assert!(!exec(r#"{"Privileged":true,"Cmd":["sh"]}"#).allow);
    assert!(exec(r#"{"Cmd":["sh"]}"#).allow);
    // A start with a body (a HostConfig for API < 1.24) is refused.
    let v = judge_with(
        "POST",
        "/v1.23/containers/c1/start",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", "30"),
        ],
        b"",
    );
    assert!(!v.allow);
    assert!(judge_with("POST", "/v1.41/containers/c1/start", &[], b"").allow);
    assert!(judge_with("GET", "/v1.41/containers/json", &[], b"").allow);
}

#[test]
fn pulls_are_judged_by_the_images_trust_policy() {
    let policy = Policy::parse(
        r#"
[images.registries."docker.io/library"]
signatures = "none"
[images.registries."localhost:5000"]
signatures = "none"
[images.registries."localhost:5000/signed"]
keys = ["/nonexistent/ward-test.pub"]
[images.registries."quay.io"]
allowed = false
"#,
        Path::new("policy.toml"),
    )
    .expect("policy parses");
    let pull = |uri: &str| judge_under(policy.clone(), "POST", uri, &[], b"");
    // A short name is Docker Hub's library, as dockerd resolves it.
    assert!(pull("/v1.41/images/create?fromImage=busybox&tag=latest").allow);
    assert!(pull("/v1.41/images/create?fromImage=index.docker.io%2Flibrary%2Fbusybox").allow);
    assert!(pull("/v1.41/images/create?fromImage=localhost%3A5000%2Fapp&tag=1").allow);
    for (uri, rule) in [
        (
            "/v1.41/images/create?fromImage=evil.example%2Fapp&tag=1",
            "image.registry-not-allowed",
        ),
        (
            "/v1.41/images/create?fromImage=someone%2Fapp",
            "image.registry-not-allowed",
        ),
        (
            "/v1.41/images/create?fromImage=quay.io%2Fa%2Fb",
            "image.registry-not-allowed",
        ),
        (
            "/v1.41/images/create?fromImage=localhost:5000/signed/app",
            "image.policy-key",
        ),
        (
            "/v1.41/images/create?fromImage=busybox&fromImage=evil.example/x",
            "authz.uri",
        ),
    ] {
        let v = pull(uri);
        assert!(!v.allow && v.rules == [rule], "{uri}: {v:?}");
        assert!(rule == "authz.uri" || v.msg.contains("fix:"), "{}", v.msg);
    }
    // Without a policy file no registry is allowed (ward-trust's default).
    assert!(!judge_with("POST", "/v1.41/images/create?fromImage=busybox", &[], b"").allow);
    // An import is not a pull.
    assert!(pull("/v1.41/images/create?fromSrc=-&repo=x").allow);
}

#[test]
fn a_scope_that_requires_signatures_is_refused_dockerd_checks_none() {
    let dir = std::env::temp_dir().join(format!("ward-authz-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let key = dir.join("k.pub");
    let pem = ward_trust::PrivateKey::generate()
        .public("test")
        .to_pem()
        .expect("pem");
    std::fs::write(&key, pem).expect("write key");
    let policy = Policy::parse(
        &format!(
            "[images.registries.\"docker.io\"]\nkeys = [{:?}]\n",
            key.display().to_string()
        ),
        Path::new("policy.toml"),
    )
    .expect("policy parses");
    let v = judge_image(&policy, "busybox");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        !v.allow && v.rules == ["image.signature-unchecked"],
        "{v:?}"
    );
    assert!(
        v.msg.contains("ward image pull docker.io/library/busybox"),
        "{}",
        v.msg
    );
}

//! Hooks that succeed get the container state on stdin.

use std::time::Duration;

use ward_tests::{ctx, json, Value};

#[test]
fn hooks_receive_the_state_on_stdin() {
    let ctx = ctx!("hooks");
    let mut b = ctx.bundle(&["true"]);
    let file = |k: &str| ctx.path(&format!("hook-{k}.json"));
    for kind in ["createRuntime", "prestart", "poststart", "poststop"] {
        let f = file(kind);
        b.hook(
            kind,
            json!({
                "path": "/bin/sh",
                "args": ["sh", "-c", "cat > \"$1\"; echo \"$HOOK_VAR\" > \"$1.env\"", "sh", f.display().to_string()],
                "env": ["HOOK_VAR=from-the-hook-env"]
            }),
        );
    }
    let id = ctx.id("hooks");
    let o = ctx.run(&b, &id).ok();

    let read = |kind: &str| -> Value {
        let f = file(kind);
        let text = ward_tests::wait_for_file(&f, Duration::from_secs(5));
        serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("{kind} hook got non-JSON ({e}): {text:?}; run: {o}"))
    };
    let bundle = b.dir.display().to_string();
    let mut init_pid = None;
    // Accepted statuses: runc reports "creating" to createRuntime/prestart and
    // "created" to poststart; crun "created" and "running".
    for (kind, statuses) in [
        ("createRuntime", &["creating", "created"][..]),
        ("prestart", &["creating", "created"][..]),
        ("poststart", &["created", "running"][..]),
        ("poststop", &["stopped"][..]),
    ] {
        let s = read(kind);
        assert_eq!(s["id"], id, "{kind}: {s}");
        assert_eq!(s["bundle"], bundle, "{kind}: {s}");
        assert!(s["ociVersion"].is_string(), "{kind}: {s}");
        let status = s["status"].as_str().unwrap_or("");
        assert!(statuses.contains(&status), "{kind}: status {status:?}: {s}");
        let pid = s["pid"].as_i64();
        if kind == "poststop" {
            // runc omits pid once the container is gone; crun sends 0.
            assert!(pid.is_none() || pid == Some(0), "{kind}: {s}");
        } else {
            let pid = pid.unwrap_or(0);
            assert!(pid > 0, "{kind}: no pid: {s}");
            if let Some(p) = init_pid {
                assert_eq!(p, pid, "{kind}: pid differs between hooks: {s}");
            }
            init_pid = Some(pid);
        }
        let env =
            std::fs::read_to_string(format!("{}.env", file(kind).display())).unwrap_or_default();
        assert_eq!(
            env.trim(),
            "from-the-hook-env",
            "{kind}: hook env not applied"
        );
    }
}

/// Runtime spec: "if any poststart hook fails, the runtime MUST log a
/// warning, but the remaining hooks and lifecycle continue" (poststop
/// alike). ward-oci is held to the spec here; runc 1.1.5 stops at the
/// first failing hook (the OCI runtime-tools validation suite's
/// `poststart_fail` and `poststop_fail` fail for it), so for runc and crun
/// what they do is printed, not judged.
#[test]
fn a_failing_poststart_or_poststop_hook_does_not_stop_the_others() {
    let ctx = ctx!("hooks-fail");
    let mut b = ctx.bundle(&["true"]);
    for kind in ["poststart", "poststop"] {
        b.hook(kind, json!({"path": "/bin/false", "args": ["false"]}));
        b.hook(
            kind,
            json!({"path": "/bin/sh", "args": ["sh", "-c", format!("touch {}", ctx.path(kind).display())]}),
        );
    }
    let id = ctx.id("hooks-fail");
    let o = ctx.run(&b, &id);
    let ran: Vec<bool> = ["poststart", "poststop"]
        .iter()
        .map(|k| ctx.path(k).exists())
        .collect();
    if ctx.rt.kind == ward_tests::Kind::Other {
        assert!(o.success(), "{o}");
        assert_eq!(
            ran,
            [true, true],
            "the hook after a failing one did not run: {o}"
        );
    } else {
        ward_tests::say(&format!(
            "NOTE: {}: {}: the second poststart hook ran: {}, the second poststop hook ran: {} (exit {})",
            ctx.name,
            ctx.rt.name(),
            ran[0],
            ran[1],
            o.code()
        ));
    }
}

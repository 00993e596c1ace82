//! E. `--log FILE --log-format json`.

use ward_tests::{ctx, is_rfc3339, json, Ctx, Value};

/// Parse the log file: every non-empty line must be a JSON object with string
/// `level`, `msg` and RFC 3339 `time`.
fn json_log_lines(ctx: &Ctx, log: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(log)
        .unwrap_or_else(|e| panic!("{} not written ({e}) by {}", log.display(), ctx.rt.name()));
    let lines: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<Value>(l)
                .unwrap_or_else(|e| panic!("log line is not JSON ({e}): {l:?}"))
        })
        .collect();
    assert!(!lines.is_empty(), "empty log file");
    for v in &lines {
        assert!(v.is_object(), "not an object: {v}");
        for k in ["level", "msg", "time"] {
            assert!(v[k].is_string(), "log line without string {k:?}: {v}");
        }
        assert!(
            v["time"].as_str().is_some_and(is_rfc3339),
            "time not RFC 3339: {v}"
        );
    }
    lines
}

#[test]
fn json_log_of_a_failing_state() {
    let ctx = ctx!("log-state");
    let log = ctx.path("log.json");
    let id = ctx.id("ghost");
    ctx.rt(&[
        "--log",
        &log.display().to_string(),
        "--log-format",
        "json",
        "state",
        &id,
    ])
    .fails();
    let lines = json_log_lines(&ctx, &log);
    let err = lines
        .iter()
        .find(|v| v["level"] == "error")
        .unwrap_or_else(|| panic!("no error-level line: {lines:?}"));
    let msg = err["msg"].as_str().unwrap_or("").to_lowercase();
    assert!(
        ["not exist", "no such file", "not found"]
            .iter()
            .any(|w| msg.contains(w)),
        "error msg does not say the container is missing: {err}"
    );
}

#[test]
fn json_log_of_a_failing_run() {
    let ctx = ctx!("log-run");
    let mut b = ctx.bundle(&["true"]);
    b.config["root"]["path"] = json!("no-such-rootfs");
    b.save().expect("save");
    let log = ctx.path("log.json");
    let id = ctx.id("logrun");
    ctx.rt(&[
        "--log",
        &log.display().to_string(),
        "--log-format",
        "json",
        "run",
        "--bundle",
        &b.dir.display().to_string(),
        &id,
    ])
    .fails();
    let lines = json_log_lines(&ctx, &log);
    assert!(
        lines.iter().any(|v| v["level"] == "error"
            && v["msg"].as_str().is_some_and(|m| {
                let m = m.to_lowercase();
                m.contains("no-such-rootfs") || m.contains("no such file") || m.contains("rootfs")
            })),
        "no error line about the rootfs: {lines:?}"
    );
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

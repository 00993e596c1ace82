//! OCI hooks: host programs run at lifecycle points with the container's
//! state JSON on stdin, each bounded by its timeout.

use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use ward_spec::Hook;

use crate::{err, Result};

/// Runs `hooks` in order; the first failure stops the rest and is returned.
pub fn run(kind: &str, hooks: &[Hook], state_json: &str) -> Result<()> {
    for (i, h) in hooks.iter().enumerate() {
        run_one(h, state_json)
            .map_err(|e| err("hooks", format!("hooks.{kind}[{i}] ({}): {e}", h.path)))?;
    }
    Ok(())
}

/// Runs every hook of `kind` even when one fails, and returns the
/// failures: poststart and poststop hooks, whose failure the runtime spec
/// says is a warning after which "the remaining hooks and lifecycle
/// continue".
pub fn run_all(kind: &str, hooks: &[Hook], state_json: &str) -> Vec<crate::Error> {
    hooks
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            run_one(h, state_json)
                .err()
                .map(|e| err("hooks", format!("hooks.{kind}[{i}] ({}): {e}", h.path)))
        })
        .collect()
}

fn run_one(h: &Hook, state_json: &str) -> std::result::Result<(), String> {
    let mut cmd = Command::new(&h.path);
    if let Some((arg0, rest)) = h.args.split_first() {
        cmd.arg0(arg0).args(rest);
    }
    cmd.env_clear();
    for e in &h.env {
        if let Some((k, v)) = e.split_once('=') {
            cmd.env(k, v);
        }
    }
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().map_err(|e| format!("cannot run it: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that doesn't read its stdin is fine (EPIPE).
        let _ = stdin.write_all(state_json.as_bytes());
    }
    let deadline = h
        .timeout
        .map(|t| Instant::now() + Duration::from_secs(t.max(1) as u64));
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break st,
            Ok(None) => {}
            Err(e) => return Err(format!("waiting for it: {e}")),
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "timed out after {}s (hook timeout)",
                h.timeout.unwrap_or(0)
            ));
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    if status.success() {
        return Ok(());
    }
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    Err(format!("failed with {status}: {}", stderr.trim()))
}

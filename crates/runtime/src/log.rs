//! Logging as runc does it: text or JSON lines `{"level","msg","time"}` to
//! the `--log` file (containerd parses them), errors also on stderr;
//! without `--log`, warnings on stderr only when it is a terminal.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;

struct Sink {
    path: Option<std::path::PathBuf>,
    json: bool,
    debug: bool,
}

static SINK: OnceLock<Sink> = OnceLock::new();

/// Sets where and how to log (once, at start).
pub fn init(path: Option<std::path::PathBuf>, json: bool, debug: bool) {
    let _ = SINK.set(Sink { path, json, debug });
}

fn write(level: &str, m: &str) {
    let Some(sink) = SINK.get() else {
        eprintln!("{level}: {m}");
        return;
    };
    if level == "debug" && !sink.debug {
        return;
    }
    let time = crate::time::rfc3339(std::time::SystemTime::now());
    let line = if sink.json {
        serde_json::json!({"level": level, "msg": m, "time": time}).to_string()
    } else {
        format!("time=\"{time}\" level={level} msg={m:?}")
    };
    match &sink.path {
        // Without --log, a warning goes to stderr only when a person is
        // looking at it: during create/run/exec stderr is the container's
        // own (conmon passes no --log), and a line there would end up in
        // the workload's output and `podman logs`. Errors still go to
        // stderr: the container does not start, the caller needs them.
        None if level == "warning" && !std::io::stderr().is_terminal() => {}
        Some(p) => {
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
            {
                let _ = writeln!(f, "{line}");
            }
        }
        None => eprintln!("{line}"),
    }
}

pub fn error(m: &str) {
    write("error", m);
}

pub fn warn(m: &str) {
    write("warning", m);
}

pub fn debug(m: &str) {
    write("debug", m);
}

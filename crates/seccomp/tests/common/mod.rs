//! What the integration tests of ward-seccomp share: the helper binary
//! they run and how they read its output.

use std::process::Output;

/// The `ward-seccomp-exec` binary of this build.
pub const HELPER: &str = env!("CARGO_BIN_EXE_ward-seccomp-exec");

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).trim().to_string()
}

//! `linux.seccomp` (owned by the seccomp work; placeholder until it lands).

/// OCI `linux.seccomp`, kept verbatim until typed.
pub type LinuxSeccomp = serde_json::Value;

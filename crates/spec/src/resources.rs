//! `linux.resources` (owned by the cgroups work; placeholder until it lands).

/// OCI `linux.resources`, kept verbatim until typed.
pub type LinuxResources = serde_json::Value;

//! ward-dockerapi: the Docker Engine API's container requests as the OCI
//! config a Docker engine would hand its runtime. `ward authz-plugin`
//! judges the config [`spec_for_create`] returns with ward's runtime
//! policy, and ward's own engine will create its containers from the same
//! function: the value authorization judges is the value the engine runs
//! (docs/architecture.md, "The engine").
//!
//! The mapping follows moby's `daemon/oci_linux.go` and `oci/defaults.go`
//! (Docker 20.10): Docker's 14 capabilities adjusted by CapAdd/CapDrop,
//! Docker's default seccomp profile resolved for them, masked and
//! read-only /proc paths, namespaces unless a mode says "host", binds and
//! mounts with their options, devices, sysctls and resources; Privileged
//! undoes the confinement (every capability, every device, no masked
//! paths, no seccomp, no AppArmor). Pure: what needs the host (a device's
//! numbers) comes from the caller.
//!
//! Bodies are read as Go reads them (json.rs): field names without regard
//! to case, a repeated key refused.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

mod create;
pub mod json;
pub mod types;

pub use create::{
    exec_spec, spec_for_create, spec_for_create_with, update_spec, Daemon, DeviceNode,
};
pub use types::{ContainerCreateBody, ExecBody, HostConfig, Resources};

/// Why a body could not be turned into a config: the field and the
/// problem. A caller that judges requests refuses them then (fail closed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct FieldError {
    pub field: String,
    pub problem: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            problem: problem.into(),
        }
    }
}

/// Parses a `POST /containers/create` body as dockerd does (json.rs).
pub fn parse_create(bytes: &[u8]) -> Result<ContainerCreateBody, FieldError> {
    parse_body(bytes)
}

/// Parses a `POST /containers/{id}/exec` body.
pub fn parse_exec(bytes: &[u8]) -> Result<ExecBody, FieldError> {
    parse_body(bytes)
}

/// Parses a `POST /containers/{id}/update` body (Resources inline).
pub fn parse_update(bytes: &[u8]) -> Result<Resources, FieldError> {
    parse_body(bytes)
}

fn parse_body<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, FieldError> {
    let v = json::parse_folded(bytes).map_err(|e| FieldError::new("body", e))?;
    if !v.is_object() {
        return Err(FieldError::new("body", "not a JSON object"));
    }
    serde_json::from_value(v).map_err(|e| FieldError::new("body", e.to_string()))
}

#[cfg(test)]
mod tests;

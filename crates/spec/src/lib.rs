//! OCI runtime configuration (config.json) types and validation.
//!
//! Pure: no syscalls. Everything that comes from a bundle is parsed and
//! checked here, so that bad input is refused before the system is touched.

pub mod resources;
pub mod seccomp;

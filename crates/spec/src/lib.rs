//! OCI runtime configuration (config.json) types and validation.
//!
//! Pure: no syscalls. Everything that comes from a bundle is parsed and
//! checked here, so that bad input is refused before the system is touched.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

pub mod caps;
pub mod config;
pub mod landlock;
pub mod resources;
pub mod seccomp;
pub mod size;
pub mod validate;

pub use config::*;

/// Errors of parsing and validation; each names the field and the fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("config.json: {path}: {msg}")]
    Parse { path: String, msg: String },
    #[error("config.json: {field}: {msg}")]
    Invalid { field: String, msg: String },
}

/// Parses config.json bytes; errors name the JSON path of the bad value.
pub fn parse(bytes: &[u8]) -> Result<Spec, Error> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        Error::Parse {
            path: if path == "." {
                "(top level)".into()
            } else {
                path
            },
            msg: e.inner().to_string(),
        }
    })
}

/// Parses a `process` object (for `exec --process`).
pub fn parse_process(bytes: &[u8]) -> Result<Process, Error> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| Error::Parse {
        path: e.path().to_string(),
        msg: e.inner().to_string(),
    })
}

/// The resource number of an rlimit name (RLIMIT_NOFILE ...).
pub fn rlimit_number(name: &str) -> Option<u32> {
    const NAMES: [&str; 16] = [
        "RLIMIT_CPU",
        "RLIMIT_FSIZE",
        "RLIMIT_DATA",
        "RLIMIT_STACK",
        "RLIMIT_CORE",
        "RLIMIT_RSS",
        "RLIMIT_NPROC",
        "RLIMIT_NOFILE",
        "RLIMIT_MEMLOCK",
        "RLIMIT_AS",
        "RLIMIT_LOCKS",
        "RLIMIT_SIGPENDING",
        "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE",
        "RLIMIT_RTPRIO",
        "RLIMIT_RTTIME",
    ];
    NAMES
        .iter()
        .position(|n| *n == name)
        .and_then(|i| u32::try_from(i).ok())
}

#[cfg(test)]
mod tests;

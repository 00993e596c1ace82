//! `ward audit`'s findings beyond container configs: one finding model
//! (stable id, CIS Docker Benchmark v1.6.0 number, severity, evidence, why,
//! fix) rendered as text, JSON or SARIF 2.1.0, and the pure checks behind
//! `ward audit host` (the daemon's effective configuration, file modes,
//! who reaches the socket, audit rules, running containers' inspect data)
//! and `ward audit dockerfile` (a Dockerfile parser and its checks) and `ward
//! audit image` (an image's config, history and layer tars).
//! Pure: the caller reads the host (files, /proc, the Docker API) and hands
//! the data in, so every check is testable without a daemon.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

pub mod containers;
pub mod daemon;
pub mod dockerfile;
pub mod dockerfile_checks;
pub mod finding;
pub mod host;
pub mod image;
pub mod render;
mod shell;

pub use dockerfile_checks::check as check_dockerfile;
pub use finding::{Check, Finding, Report, Skip};
pub use ward_policy::Severity;

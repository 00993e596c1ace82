//! ward-runtime: the container lifecycle over the init — state store,
//! hooks, create/start/run/exec/kill/delete — with runc's semantics.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

pub mod admission;
mod cg;
pub mod control;
mod foreground;
pub mod lifecycle;
pub mod log;
pub mod signals;
pub mod state;
pub mod template;
pub mod time;

/// A runtime error: what failed, with enough context to act on it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Spec(#[from] ward_spec::Error),
    #[error("{0}")]
    Sandbox(#[from] ward_init::Error),
    #[error("cgroups: {0}")]
    Cgroups(#[from] ward_cgroups::Error),
    #[error("{0}")]
    Msg(String),
}

pub use cg::ephemeral_id;

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn msg(m: impl Into<String>) -> Error {
    Error::Msg(m.into())
}

/// Adds a description to an io-like error.
pub(crate) trait Ctx<T> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: std::fmt::Display> Ctx<T> for std::result::Result<T, E> {
    fn ctx(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error::Msg(format!("{}: {e}", what())))
    }
}

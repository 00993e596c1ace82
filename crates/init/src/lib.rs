//! ward-init: the container init — turns a validated config into a running, confined process.
//!
//! One module per layer, each with an `apply`-style entry point; only
//! `pipeline.rs` knows the order of the stages, because the security of the
//! whole depends on it (for instance seccomp must come last, or the
//! runtime's own syscalls get filtered; the bounding set must be dropped
//! before the uid change, or CAP_SETPCAP is gone).

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

pub mod capabilities;
pub mod console;
pub mod exec;
pub mod extras;
pub mod handshake;
pub mod hooks;
pub mod landlock;
pub mod lsm;
pub mod namespaces;
pub mod pipeline;
pub mod privileges;
pub mod procfs;
pub mod rootfs;
pub mod seccomp;
pub mod userns;

pub use pipeline::{
    mounts_cgroupfs, spawn, spawn_exec, CgroupJoin, CgroupMount, ExecSpec, InitSpec, ParentSide,
    Spawned, StartSignal,
};

/// An error of one layer: which layer, and what failed.
#[derive(Debug, thiserror::Error)]
#[error("{layer}: {msg}")]
pub struct Error {
    pub layer: &'static str,
    pub msg: String,
}

pub type Result<T> = std::result::Result<T, Error>;

/// Adds the layer name and a description to an error.
pub trait Context<T> {
    fn layer(self, layer: &'static str, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: std::fmt::Display> Context<T> for std::result::Result<T, E> {
    fn layer(self, layer: &'static str, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| Error {
            layer,
            msg: format!("{}: {e}", what()),
        })
    }
}

/// Builds an error of `layer`.
pub fn err(layer: &'static str, msg: impl Into<String>) -> Error {
    Error {
        layer,
        msg: msg.into(),
    }
}

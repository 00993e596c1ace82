//! ward's policy engine: the rules a container config can trip (privileged
//! configs, host namespaces, sensitive bind mounts, missing seccomp, ...),
//! the policy file that sets each rule to enforce, warn or off, and the CIS
//! Docker Benchmark report of `ward audit`. Pure: no syscalls; what it must
//! know of the host (active LSM, which namespace paths are the host's,
//! resolved bind sources) comes in a [`Context`].

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

pub mod audit;
mod checks;
mod context;
pub mod images;
mod mount_checks;
pub mod mounts;
pub mod policy;
pub mod rules;

pub use images::{ImageScope, Images, Signatures};
pub use mounts::{ObjectKind, Source};
pub use policy::{
    Decision, Policy, PolicyError, DEFAULT_AUDIT_LOG, DEFAULT_PATH, DEFAULT_SYSLOG_SOCKET,
};
pub use rules::{check, rule, Context, Hit, Mode, Rule, Scope, Severity, RULES};

#[cfg(test)]
mod tests;

//! The systemd cgroup driver (`--systemd-cgroup`): a transient scope unit
//! made over D-Bus (`manager.rs`, with its own small D-Bus client in
//! `dbus.rs`), then the cgroupfs driver in the scope's directory. How a
//! cgroupsPath names the scope and which limits become unit properties:
//! `unit.rs`.

mod dbus;
mod manager;
mod unit;

pub(crate) use manager::SystemdManager;
pub use unit::{cpuset_mask, expand_slice, parse_scope, resource_properties, ScopeName};

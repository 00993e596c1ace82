//! Namespaces: which are new, which are joined by path.
//!
//! Threat: a container sharing a host namespace sees and touches the host
//! (host pid: signal host processes; host net: bind host ports, reach
//! loopback-only services; host mount: the whole filesystem).

use std::os::fd::{AsFd, OwnedFd};

use nix::sched::CloneFlags;
use ward_spec::{NamespaceType, Spec};

use crate::{Context, Result};

/// The namespace plan of a container.
#[derive(Debug, Default)]
pub struct Namespaces {
    /// CLONE_NEW* flags of the namespaces to create.
    pub new_flags: u64,
    /// Namespaces to join, user first, with an open fd on each.
    pub join: Vec<(NamespaceType, OwnedFd)>,
}

impl Namespaces {
    /// Opens the namespace paths of `spec` (in the parent, before the clone:
    /// a path is resolved once, on the host).
    pub fn open(spec: &Spec) -> Result<Self> {
        let mut ns = Namespaces::default();
        for kind in NamespaceType::ALL {
            let Some(n) = spec.namespace(kind) else {
                continue;
            };
            match &n.path {
                None => ns.new_flags |= kind.clone_flag(),
                Some(path) => {
                    let file = std::fs::File::open(path).layer("namespaces", || {
                        format!(
                            "opening the {} namespace {path:?} (linux.namespaces)",
                            kind.oci_name()
                        )
                    })?;
                    ns.join.push((kind, OwnedFd::from(file)));
                }
            }
        }
        Ok(ns)
    }

    pub fn is_new(&self, kind: NamespaceType) -> bool {
        self.new_flags & kind.clone_flag() != 0
    }

    pub fn joins(&self, kind: NamespaceType) -> bool {
        self.join.iter().any(|(k, _)| *k == kind)
    }

    /// Joins the namespaces opened by [`Namespaces::open`] (user first, so
    /// that the others are joined with the capabilities it grants).
    pub fn join_all(&self) -> Result<()> {
        for (kind, fd) in &self.join {
            nix::sched::setns(
                fd.as_fd(),
                CloneFlags::from_bits_retain(kind.clone_flag() as i32),
            )
            .layer("namespaces", || {
                format!(
                    "joining the {} namespace (linux.namespaces)",
                    kind.oci_name()
                )
            })?;
        }
        Ok(())
    }
}

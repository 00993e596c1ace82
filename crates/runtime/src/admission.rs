//! The question the runtime asks before it acts on a caller's request:
//! may this container be made, this process run in it, these limits set?
//!
//! The runtime owns the question, not the answer: the caller (ward-oci
//! passes its policy gate, `ward-gate`) decides and records. The runtime
//! only calls it at the points where the facts are known: after the config
//! is parsed and before anything is created or changed.

use std::path::Path;

use ward_init::rootfs::source::Resolved;
use ward_spec::Spec;

use crate::Result;

/// Which lifecycle action makes a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Making {
    /// `create`: the init waits for `start`.
    Create,
    /// `run`: create + start.
    Run,
}

impl Making {
    /// The action's name, as the CLI calls it.
    pub fn as_str(self) -> &'static str {
        match self {
            Making::Create => "create",
            Making::Run => "run",
        }
    }
}

/// What an action is about.
pub struct Subject<'a> {
    /// The state root in use (`--root`): a bind of it would expose every
    /// container's state.
    pub root: &'a Path,
    /// The container id.
    pub id: &'a str,
    /// The container's bundle (resolved).
    pub bundle: &'a Path,
    /// The config as it would be after the action: for exec with the new
    /// process, for update with the new resources merged in.
    pub spec: &'a Spec,
}

/// Decides whether an action may go on. An `Err` refuses it: the runtime
/// returns the error as is, before it has changed anything.
pub trait Admission {
    /// `create` and `run`. `resolved`: the rootfs and bind sources as
    /// opened once; the init mounts only these files, so they are what
    /// must be judged.
    fn container(&self, action: Making, subject: &Subject, resolved: &Resolved) -> Result<()>;

    /// `exec`: `subject.spec.process` is the process to run.
    fn process(&self, subject: &Subject) -> Result<()>;

    /// `update`: `subject.spec.linux.resources` holds the new limits.
    fn resources(&self, subject: &Subject) -> Result<()>;
}

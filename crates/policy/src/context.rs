//! What the checks see besides the config (the [`Context`] the runtime
//! fills in) and what a check returns: a [`Trip`], the detail of what
//! tripped a rule and the [`Place`] in the config that orders it.

use std::collections::{BTreeMap, BTreeSet};

use crate::mounts::Source;

/// What the rules need to know of the host and of the policy's lists. The
/// runtime fills it in (the engine itself makes no syscalls).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The host's active LSM ("apparmor", "selinux"), if any.
    pub lsm: Option<String>,
    /// Namespace paths of the config that the caller found to be the
    /// host's own namespace (the same namespace as host pid 1's or the
    /// runtime's own, or one it could not tell apart from them).
    pub host_ns_paths: BTreeSet<String>,
    /// Bind sources by index in `mounts`, as the runtime opened them on the
    /// host. A bind without an entry is judged on its source string
    /// (absolute sources only): pure callers, unit tests.
    pub sources: BTreeMap<usize, Source>,
    /// `root.path` as the runtime opened it (None: not looked at).
    pub rootfs: Option<Source>,
    /// Extra sensitive host paths (the runtime's own --root, the policy file's list).
    pub sensitive: Vec<String>,
    /// Extra sockets.
    pub sockets: Vec<String>,
    /// Host paths exempt from the mount rules.
    pub allow_paths: Vec<String>,
    /// Capabilities allowed on top of Docker's 14.
    pub allow_caps: Vec<String>,
    /// Sysctls allowed although they trip `sysctl.unsafe`.
    pub allow_sysctls: Vec<String>,
    /// Hook paths -> the program they run on the host (symlinks and
    /// `/proc/<pid>/exe` resolved), where the runtime could resolve them.
    pub hook_programs: BTreeMap<String, String>,
    /// Hook programs allowed on top of the engines' own (`ENGINE_HOOKS`).
    pub allow_hooks: Vec<String>,
}

/// Where in the config a rule trips. Hits are reported by place, then in
/// table order, then in the order the check found them: the config walk
/// `ward audit` and the refusals have always reported in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Place {
    /// Capabilities, seccomp, the LSM, namespaces, `linux.cgroupsPath`.
    Isolation,
    /// `root.path` as the runtime opened it.
    RootPath,
    /// `mounts[i]`.
    Mount(usize, MountPart),
    /// `hooks`.
    Hooks,
    /// `linux.rootfsPropagation`.
    RootfsPropagation,
    /// `linux.resources.devices[i]`.
    DeviceRule(usize),
    /// `linux.devices[i]`.
    Device(usize),
    /// Sysctls, added capabilities, the user, `root.readonly`,
    /// `noNewPrivileges`, masked paths and resource limits.
    Hardening,
}

/// What of a mount a rule judged: what its source is, which engine
/// sockets it exposes, its options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum MountPart {
    Source,
    Socket,
    Options,
}

/// One trip of a rule: where, and what in the config trips it.
#[derive(Debug)]
pub(crate) struct Trip {
    pub(crate) place: Place,
    pub(crate) detail: String,
}

impl Trip {
    pub(crate) fn at(place: Place, detail: impl Into<String>) -> Trip {
        Trip {
            place,
            detail: detail.into(),
        }
    }
}

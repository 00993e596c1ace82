//! The ONLY place that knows the order of the container set-up stages.
//!
//! Parent (runtime): open namespace paths, clone3 with the new namespaces,
//! put the child in its cgroup, write its id maps, run the create hooks.
//! Child (container init), in this order:
//!  1. non-dumpable, parent-death signal (a dying runtime takes the half-made
//!     container with it)
//!  2. join namespaces by path, unshare the rest (slow path only), become
//!     root of the user namespace, unshare the cgroup namespace once inside
//!     the container's cgroup
//!  3. mounts on a private copy of the rootfs, /dev (the default devices
//!     on the configured /dev mount, or on the image's own /dev, which must
//!     be a directory), console
//!  4. create hooks (in the parent), pivot_root
//!  5. create the cwd, hostname, domainname, sysctls (while still writable)
//!  6. masked paths, read-only paths, read-only root, propagation;
//!     session keyring, rlimits, oom score
//!  7. Landlock ruleset built (paths resolved in the root), bounding set,
//!     uid/gid/groups, capability sets, cwd, program lookup
//!  8. seal fds; tell the parent "ready"; wait for `start`
//!  9. startContainer hooks, LSM labels, no_new_privs, Landlock enforced,
//!     signals reset, seccomp LAST, execve. Nothing of the runtime runs
//!     under the container's filter but execve (issue #14, finding 11): an
//!     allowlist that does not name close_range, openat2, write ... must not
//!     break the start, and a filter that fakes close_range's success must
//!     not leak fds. Without no_new_privs the kernel demands CAP_SYS_ADMIN
//!     for seccomp and Landlock: stage 7 then keeps CAP_SYS_ADMIN in the
//!     effective and permitted sets only (not bounding, inheritable,
//!     ambient), and execve drops it (capabilities::apply_sets).
//!     Exception: a filter with SCMP_ACT_NOTIFY is loaded before stage 7,
//!     so its listener reaches the agent before `create` returns.
//!     An error of stage 9 reaches the caller: `start` through the exec
//!     fifo, `run` and `exec` through the channel ([`Spawned::wait_exec`]).
//!
//! `exec` (see [`spawn_exec`]): the runtime forks an intermediate and puts
//! it in the cgroup; the intermediate (never visible in the container)
//! joins every namespace in one setns, closes the runtime's fds and forks
//! the process, which is the first the container can see; that one does
//! stages 7–9 for itself, in the same order: [`close_out`] and
//! [`last_steps`] write stages 7–9 once, for both.

use std::convert::Infallible;
use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use nix::mount::{mount, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::wait::waitpid;
use nix::unistd::Pid;
use ward_seccomp::Program;
use ward_spec::{Linux, NamespaceType, Process, Spec};
use ward_sys::process::{clone3, Forked};

use crate::handshake::{self, Channel, ToChild, ToParent};
use crate::namespaces::Namespaces;
pub use crate::rootfs::mounts::CgroupMount;
use crate::rootfs::{dev, masked, mounts, pivot};
use crate::{console, err, exec, privileges, userns, Context, Result};

/// How the init learns that `start` was called.
pub enum StartSignal {
    /// `create`: the exec fifo (an O_PATH fd); `start` opens its read side.
    Fifo(OwnedFd),
    /// `run`: a `Start` message on the sync socket.
    Socket,
}

/// Everything the container init needs, prepared by the parent.
pub struct InitSpec<'a> {
    pub id: &'a str,
    pub spec: &'a Spec,
    pub process: &'a Process,
    /// Absolute host path of the rootfs.
    pub rootfs: PathBuf,
    /// Absolute host path of the bundle (bind sources are relative to it).
    pub bundle: PathBuf,
    /// The identities of the rootfs and of every bind source as the
    /// runtime opened (and the policy judged) them: the init mounts only
    /// these files.
    pub pins: crate::rootfs::source::Pins,
    /// A connected socket to send the pty master to.
    pub console_socket: Option<OwnedFd>,
    pub start: StartSignal,
    pub preserve_fds: u32,
    pub cgroup_mounts: Vec<CgroupMount>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    /// The seccomp program the parent compiled.
    pub seccomp: Option<ward_seccomp::Program>,
    /// The host's /proc (O_PATH), to reopen the exec fifo after pivot_root
    /// without trusting the container's /proc.
    pub host_proc: OwnedFd,
    /// Landlock (`ward sandbox`, or the `run.ward.landlock.*` annotations).
    pub landlock: Option<crate::landlock::Rules>,
    /// Sandbox-only layers (`ward sandbox`); all off for OCI containers.
    pub extras: crate::extras::Extras,
    /// When the init enters its cgroup ([`CgroupJoin::decide`]).
    pub cgroup_join: CgroupJoin,
}

/// What the runtime does on its side of the handshake.
pub trait ParentSide {
    /// `pid` was just cloned, before anything else happens to it (it is
    /// still dumpable: an unprivileged runtime can open its /proc files).
    fn cloned(&mut self, _pid: i32) -> Result<()> {
        Ok(())
    }
    /// Put `pid` (the container's first process) into its cgroup.
    fn place(&mut self, pid: i32) -> Result<()>;
    /// Run the prestart, createRuntime and createContainer hooks.
    fn create_hooks(&mut self, pid: i32) -> Result<()>;
    /// Hand a seccomp notify listener of `pid` to its agent
    /// (linux.seccomp.listenerPath).
    fn seccomp_listener(&mut self, _pid: i32, _listener: OwnedFd) -> Result<()> {
        Err(err(
            "seccomp",
            "SCMP_ACT_NOTIFY: nothing to hand the listener to (linux.seccomp.listenerPath)",
        ))
    }
}

/// The container init, waiting for `start`.
pub struct Spawned {
    pub pid: i32,
    pub pidfd: OwnedFd,
    pub channel: Channel,
}

impl Spawned {
    /// After `Start` was sent (`run`): waits until the init has exec'd its
    /// program — its end of the channel is close-on-exec, so the channel
    /// reaches EOF — and returns the error of stage 9 instead if it sent one.
    /// Not for an init under a reaper (extras): the reaper keeps the channel.
    pub fn wait_exec(&self) -> Result<()> {
        wait_exec(&self.channel, "container init")
    }
}

fn wait_exec(ch: &Channel, what: &'static str) -> Result<()> {
    match ch.recv::<ToParent>()? {
        None => Ok(()),
        Some(ToParent::Failed { msg }) => Err(err(what, msg)),
        Some(other) => Err(err("handshake", format!("unexpected message {other:?}"))),
    }
}

/// Kills and reaps a half-made container if set-up fails.
struct KillGuard {
    pid: i32,
    armed: bool,
}

impl Drop for KillGuard {
    fn drop(&mut self) {
        if self.armed {
            let _ = nix::sys::signal::kill(Pid::from_raw(self.pid), nix::sys::signal::SIGKILL);
            let _ = waitpid(Pid::from_raw(self.pid), None);
        }
    }
}

/// Creates the container process and runs the handshake until it is ready.
pub fn spawn(
    init: &InitSpec<'_>,
    cgroup_fd: Option<BorrowedFd<'_>>,
    parent: &mut dyn ParentSide,
) -> Result<Spawned> {
    let ns = Namespaces::open(init.spec)?;
    if !ns.is_new(NamespaceType::Mount) && !ns.joins(NamespaceType::Mount) {
        return Err(err(
            "namespaces",
            "linux.namespaces: a mount namespace is required: add {\"type\": \"mount\"}",
        ));
    }
    // Fast path: every namespace is new, so one clone3 creates them all (the
    // cgroup namespace too when the clone lands in the cgroup directly).
    // Slow path: the child joins paths first and unshares the rest, like runc.
    // Checked before anything exists: a bad idmap leaves nothing behind.
    let idmapped = mounts::idmapped_binds(init.spec, ns.is_new(NamespaceType::User))?;
    let fast = ns.join.is_empty();
    let cgroupns_at_clone = cgroup_fd.is_some();
    let mut flags = if fast { ns.new_flags } else { 0 };
    if !cgroupns_at_clone {
        flags &= !NamespaceType::Cgroup.clone_flag();
    }
    let (pid, pidfd, parent_end) =
        fork_into(flags, cgroup_fd, "creating the container process", |ch| {
            child(init, &ns, ch, fast, cgroupns_at_clone)
        })?;
    let mut guard = KillGuard { pid, armed: true };
    parent.cloned(pid)?;
    let spawned = handshake_parent(
        init,
        &ns,
        &idmapped,
        &parent_end,
        (pid, pidfd),
        fast,
        parent,
        &mut guard,
    )?;
    guard.armed = false;
    Ok(Spawned {
        pid: spawned.0,
        pidfd: spawned.1,
        channel: parent_end,
    })
}

/// clone3 with a fresh handshake channel: the child runs `body` (which
/// returns only on error: the error travels to the parent as `Failed`, and
/// the child leaves without running the parent's destructors or atexit
/// handlers); the parent gets the pid, a pidfd and its end of the channel.
fn fork_into(
    flags: u64,
    cgroup: Option<BorrowedFd<'_>>,
    what: &str,
    body: impl FnOnce(&Channel) -> Result<Infallible>,
) -> Result<(i32, OwnedFd, Channel)> {
    let (parent_end, child_end) = handshake::pair()?;
    match clone3(flags, cgroup).layer("clone3", || what.to_string())? {
        Forked::Child => {
            drop(parent_end);
            let failure = match body(&child_end) {
                Ok(never) => match never {},
                Err(e) => e,
            };
            let _ = child_end.send(&ToParent::Failed {
                msg: failure.to_string(),
            });
            ward_sys::process::exit_now(1);
        }
        Forked::Parent { pid, pidfd } => Ok((pid, pidfd, parent_end)),
    }
}

#[allow(clippy::too_many_arguments)]
fn handshake_parent(
    init: &InitSpec<'_>,
    ns: &Namespaces,
    idmapped: &[(usize, mounts::Options)],
    ch: &Channel,
    (pid, pidfd): (i32, OwnedFd),
    fast: bool,
    parent: &mut dyn ParentSide,
    guard: &mut KillGuard,
) -> Result<(i32, OwnedFd)> {
    let linux = init.spec.linux.clone().unwrap_or_default();
    let late = init.cgroup_join.during_setup();
    if !late {
        parent.place(pid)?;
    }
    if fast && ns.is_new(NamespaceType::User) {
        userns::write_maps(pid, &linux.uid_mappings, &linux.gid_mappings)?;
        send_idmapped_trees(init, idmapped, ch, pid)?;
    }
    ch.send(&ToChild::Go { pid })?;
    if late {
        // The init mounts meanwhile; it waits for this second Go before
        // anything that must happen inside the cgroup (see child()).
        parent.place(pid)?;
        if let Err(e) = ch.send(&ToChild::Go { pid }) {
            // It failed meanwhile: its last message says why.
            return Err(match ch.recv::<ToParent>() {
                Ok(Some(ToParent::Failed { msg })) => err("container init", msg),
                _ => died(pid, e),
            });
        }
    }
    let (mut init_pid, mut init_pidfd) = (pid, pidfd);
    loop {
        let (msg, fd) = ch
            .expect_with_fd::<ToParent>()
            .map_err(|e| died(init_pid, e))?;
        match msg {
            ToParent::NeedMaps => {
                userns::write_maps(init_pid, &linux.uid_mappings, &linux.gid_mappings)?;
                send_idmapped_trees(init, idmapped, ch, init_pid)?;
                ch.send(&ToChild::Go { pid: init_pid })?;
            }
            ToParent::Forked { pid: grandchild } => {
                // The intermediate exits at once; the init is our child too
                // (CLONE_PARENT), so `run` can wait for it.
                let _ = waitpid(Pid::from_raw(init_pid), None);
                init_pid = grandchild;
                guard.pid = grandchild;
                init_pidfd = ward_sys::process::pidfd_open(grandchild)
                    .layer("clone3", || "pidfd_open of the init".into())?;
                ch.send(&ToChild::Go { pid: grandchild })?;
            }
            ToParent::NeedHooks => {
                parent.create_hooks(init_pid)?;
                ch.send(&ToChild::Go { pid: init_pid })?;
            }
            ToParent::SeccompListener => forward_listener(ch, parent, init_pid, fd)?,
            ToParent::Ready => return Ok((init_pid, init_pidfd)),
            ToParent::Failed { msg } => return Err(err("container init", msg)),
        }
    }
}

/// Id-mapped binds: each judged source cloned, id-mapped with the user
/// namespace of the init `pid` (its maps just written) and flagged, here
/// in the runtime — id-mapping a host filesystem needs CAP_SYS_ADMIN over
/// it, which the init, inside its own user namespace, does not have —
/// then handed to the init, which attaches them where its mounts go.
fn send_idmapped_trees(
    init: &InitSpec<'_>,
    idmapped: &[(usize, mounts::Options)],
    ch: &Channel,
    pid: i32,
) -> Result<()> {
    if idmapped.is_empty() {
        return Ok(());
    }
    let userns = std::fs::File::open(format!("/proc/{pid}/ns/user"))
        .layer("mounts", || "opening the init's user namespace".into())?;
    for (index, opts) in idmapped {
        let mnt = &init.spec.mounts[*index];
        let pin = init.pins.binds.get(index).copied();
        let tree = mounts::bind_tree(&init.bundle, pin, mnt, opts, Some(userns.as_fd()))
            .map_err(|e| mounts::at(*index, mnt, e))?;
        ch.send_with_fd(&ToChild::IdmappedTree { index: *index }, tree.as_fd())?;
    }
    Ok(())
}

/// The child loaded a notify filter and sent its listener: hand it to the
/// agent (linux.seccomp.listenerPath), then let the child go on. Shared by
/// the create handshake and `exec`.
fn forward_listener(
    ch: &Channel,
    parent: &mut dyn ParentSide,
    pid: i32,
    fd: Option<OwnedFd>,
) -> Result<()> {
    let fd = fd.ok_or_else(|| err("seccomp", "the listener message carried no fd"))?;
    parent.seccomp_listener(pid, fd)?;
    ch.send(&ToChild::Go { pid })
}

/// When the init enters its cgroup: before its set-up (cloned into it, or
/// added before the first `Go`), or while it sets up its mounts (see
/// [`crate::extras::Extras::join_cgroup_during_setup`]; the runtime makes,
/// limits and joins it meanwhile and says so with a second `Go`). Only
/// [`CgroupJoin::decide`] makes one: the runtime, which makes the cgroup,
/// and the handshake, which waits for it, follow the same decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CgroupJoin {
    during_setup: bool,
}

impl CgroupJoin {
    /// During the set-up only when `extras` ask for it and: on the fast
    /// path (no namespace joined by path: the init is the cloned process);
    /// when the config mounts no cgroup filesystem (it shows the cgroup the
    /// init is in at mount time); without set-up hooks (their `Go` would be
    /// mistaken for the cgroup's); and not on a cgroup v2 host
    /// (`cgroup_v2`, asked only then), where the init is cloned straight
    /// into its cgroup (CLONE_INTO_CGROUP: no cgroup.procs write at all).
    pub fn decide(
        spec: &Spec,
        extras: &crate::extras::Extras,
        cgroup_v2: impl FnOnce() -> bool,
    ) -> Self {
        let joins_by_path = NamespaceType::ALL
            .into_iter()
            .any(|kind| spec.namespace(kind).is_some_and(|n| n.path.is_some()));
        CgroupJoin {
            during_setup: extras.join_cgroup_during_setup
                && !joins_by_path
                && !mounts_cgroupfs(spec)
                && !has_setup_hooks(spec)
                && !cgroup_v2(),
        }
    }

    /// Whether the runtime joins the init to its cgroup during the set-up.
    pub fn during_setup(self) -> bool {
        self.during_setup
    }
}

/// Whether the config has hooks that run during the set-up (prestart,
/// createRuntime, createContainer: stage 4).
fn has_setup_hooks(spec: &Spec) -> bool {
    spec.hooks.as_ref().is_some_and(|h| {
        !h.prestart.is_empty() || !h.create_runtime.is_empty() || !h.create_container.is_empty()
    })
}

/// Whether the config mounts a cgroup filesystem (then the cgroup must
/// exist, and the init be in it, before the mounts are made).
pub fn mounts_cgroupfs(spec: &ward_spec::Spec) -> bool {
    spec.mounts
        .iter()
        .any(|m| m.kind.as_deref() == Some("cgroup"))
}

fn died(pid: i32, e: crate::Error) -> crate::Error {
    match waitpid(Pid::from_raw(pid), None) {
        Ok(status) => err(
            "container init",
            format!("exited during set-up ({status:?})"),
        ),
        Err(_) => e,
    }
}

/// The container side. Returns only on error.
fn child(
    init: &InitSpec<'_>,
    ns: &Namespaces,
    ch: &Channel,
    fast: bool,
    cgroupns_done: bool,
) -> Result<Infallible> {
    ward_sys::process::set_parent_death_signal(libc::SIGKILL)
        .layer("init", || "PR_SET_PDEATHSIG".into())?;
    // An unprivileged runtime writes our id maps through /proc/PID, whose
    // files turn root's once we are non-dumpable: with a new user namespace
    // (fast path) stay dumpable until the maps are written, as runc does.
    let maps_pending = fast && ns.is_new(NamespaceType::User);
    if !maps_pending {
        ward_sys::process::set_non_dumpable().layer("init", || "PR_SET_DUMPABLE".into())?;
    }
    // Wait until the parent has put us in the cgroup and written the maps.
    let mut idmapped = mounts::IdmappedTrees::new();
    let mut host_pid = expect_go_collecting(ch, &mut idmapped)?;
    if maps_pending {
        ward_sys::process::set_non_dumpable().layer("init", || "PR_SET_DUMPABLE".into())?;
    }
    let new_userns = ns.is_new(NamespaceType::User);
    if !fast {
        ns.join_all()?;
        let flags = ns.new_flags & !NamespaceType::Cgroup.clone_flag();
        if flags != 0 {
            nix::sched::unshare(CloneFlags::from_bits_retain(flags as i32))
                .layer("namespaces", || "unshare".into())?;
        }
        if new_userns {
            ch.send(&ToParent::NeedMaps)?;
            expect_go_collecting(ch, &mut idmapped)?;
        }
    }
    if new_userns && !init.extras.keep_ids {
        let root = (nix::unistd::Uid::from_raw(0), nix::unistd::Gid::from_raw(0));
        nix::unistd::setresgid(root.1, root.1, root.1)
            .layer("userns", || "becoming gid 0 in the user namespace".into())?;
        nix::unistd::setresuid(root.0, root.0, root.0)
            .layer("userns", || "becoming uid 0 in the user namespace".into())?;
        // A change of ids clears the death signal: arm it again.
        ward_sys::process::set_parent_death_signal(libc::SIGKILL)
            .layer("init", || "PR_SET_PDEATHSIG".into())?;
    }
    if !fast && (ns.is_new(NamespaceType::Pid) || ns.joins(NamespaceType::Pid)) {
        // A pid namespace applies to children only: fork the real init.
        // CLONE_PARENT makes it the runtime's child, not ours.
        match clone3(libc::CLONE_PARENT as u64, None).layer("clone3", || {
            "forking the init into its pid namespace".into()
        })? {
            Forked::Child => {
                ward_sys::process::set_parent_death_signal(libc::SIGKILL)
                    .layer("init", || "PR_SET_PDEATHSIG".into())?;
                host_pid = expect_go(ch)?;
            }
            Forked::Parent { pid, .. } => {
                ch.send(&ToParent::Forked { pid })?;
                ward_sys::process::exit_now(0);
            }
        }
    }
    if !init.cgroup_join.during_setup() {
        enter_cgroupns(ns, cgroupns_done)?;
    }
    setup(init, ns, ch, host_pid, idmapped, cgroupns_done)
}

/// Only once inside the container's cgroup, so that it is the root of the
/// new cgroup namespace.
fn enter_cgroupns(ns: &Namespaces, done: bool) -> Result<()> {
    if ns.is_new(NamespaceType::Cgroup) && !done {
        nix::sched::unshare(CloneFlags::CLONE_NEWCGROUP)
            .layer("namespaces", || "unshare cgroup".into())?;
    }
    Ok(())
}

/// A notify filter (SCMP_ACT_NOTIFY) is loaded in stage 7, before the
/// ids change, while CAP_SYS_ADMIN is held: its listener must reach the
/// agent through the runtime before the container reports ready (after
/// that `create` has returned). The runtime's syscalls after this point go
/// to the agent — which may answer the close_range of stage 8 with a
/// success it never did (or the profile may make it ERRNO 0): so every fd
/// above stdio (and `preserve_fds`) is marked close-on-exec here first,
/// while no filter can fake it (test: seccomp_notify.rs
/// `notify_profile_keeps_no_fd_of_the_caller`).
fn load_seccomp_listener(prog: Option<&Program>, preserve_fds: u32, ch: &Channel) -> Result<()> {
    let Some(prog) = prog.filter(|p| p.wants_listener()) else {
        return Ok(());
    };
    exec::seal_fds(preserve_fds)?;
    if let Some(listener) = crate::seccomp::load(prog)? {
        ch.send_with_fd(&ToParent::SeccompListener, listener.as_fd())?;
        drop(listener);
        expect_go(ch)?;
    }
    Ok(())
}

/// Every other filter: the very last step before execve (see the module
/// doc, stage 9).
fn load_seccomp_last(prog: Option<&Program>) -> Result<()> {
    match prog {
        Some(prog) if !prog.wants_listener() => crate::seccomp::load(prog).map(drop),
        _ => Ok(()),
    }
}

/// What stage 7 keeps on top of the configured capability sets until
/// execve: CAP_SYS_ADMIN when seccomp or Landlock is loaded at the end
/// without no_new_privs (the kernel demands it then). With no_new_privs
/// nothing: no_new_privs makes execve cap the new permitted set by the old.
fn keep_for_the_end(
    prog: Option<&Program>,
    landlock: Option<&crate::landlock::Prepared>,
    p: &Process,
) -> u64 {
    let late_seccomp = prog.is_some_and(|p| !p.wants_listener());
    if !p.no_new_privileges && (late_seccomp || landlock.is_some()) {
        ward_spec::caps::number("CAP_SYS_ADMIN").map_or(0, |c| 1u64 << c)
    } else {
        0
    }
}

/// Waits for `Go`, keeping the id-mapped trees that come before it.
fn expect_go_collecting(ch: &Channel, trees: &mut mounts::IdmappedTrees) -> Result<i32> {
    loop {
        match ch.expect_with_fd::<ToChild>()? {
            (ToChild::Go { pid }, _) => return Ok(pid),
            (ToChild::IdmappedTree { index }, Some(tree)) => {
                trees.insert(index, tree);
            }
            (other, _) => return Err(err("handshake", format!("unexpected message {other:?}"))),
        }
    }
}

/// Waits for `Go`; returns the init's pid as the runtime sees it.
fn expect_go(ch: &Channel) -> Result<i32> {
    match ch.expect::<ToChild>()? {
        ToChild::Go { pid } => Ok(pid),
        other => Err(err("handshake", format!("unexpected message {other:?}"))),
    }
}

/// Stages 3–9 of the init (see the module doc). `cgroupns_done`: the
/// cgroup namespace was made at the clone. When the cgroup is joined during
/// the set-up ([`CgroupJoin`]), the runtime's second `Go` is awaited before
/// stage 7, and only then is the cgroup namespace entered.
fn setup(
    init: &InitSpec<'_>,
    ns: &Namespaces,
    ch: &Channel,
    host_pid: i32,
    idmapped: mounts::IdmappedTrees,
    cgroupns_done: bool,
) -> Result<Infallible> {
    let spec = init.spec;
    let linux = spec.linux.clone().unwrap_or_default();
    let p = init.process;
    // linux.mountLabel (only with SELinux enabled: the runtime refuses it
    // otherwise, at create).
    let mount_label = linux.mount_label.as_deref().filter(|l| !l.is_empty());

    // 3. Mounts.
    let root = mount_rootfs(init, ns, &linux, idmapped, mount_label)?;

    // 4. Hooks that must see the mounted rootfs, then the switch.
    if has_setup_hooks(spec) {
        ch.send(&ToParent::NeedHooks)?;
        expect_go(ch)?;
    }
    pivot::pivot(root.as_fd(), init.no_pivot)?;
    drop(root);
    let new_root = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open("/")
        .layer("rootfs", || "opening the new root".into())?;

    let tty = if p.terminal {
        let (master, slave) = console::open_pty()?;
        dev::bind_console(new_root.as_fd(), slave.as_fd())?;
        let socket = init.console_socket.as_ref().ok_or_else(|| {
            err(
                "console",
                "process.terminal is set but there is no --console-socket",
            )
        })?;
        console::send_master(socket.as_fd(), master.as_fd())?;
        Some(slave)
    } else {
        None
    };

    // A missing cwd is created now, while the rootfs is still writable
    // (runc and crun do the same, even for a read-only root).
    let cwd = crate::rootfs::create_in(new_root.as_fd(), &p.cwd, true)?;

    // 5. Identity of the machine and kernel knobs of the namespaces, before
    //    /proc/sys becomes read-only.
    name_the_machine(init, ns, &linux)?;
    // 6. Hide and freeze what the container must not touch.
    hide_and_freeze(new_root.as_fd(), spec, &linux, mount_label)?;

    if !init.no_new_keyring {
        ward_sys::process::join_session_keyring(init.id).layer("keyring", || {
            "joining a new session keyring (use --no-new-keyring to skip)".into()
        })?;
    }
    if init.cgroup_join.during_setup() {
        // Nothing forks, execs or enters the cgroup namespace before we
        // are in the cgroup (its limits apply to what forks later).
        expect_go(ch)?;
        enter_cgroupns(ns, cgroupns_done)?;
    }
    privileges::limits(p)?;

    // 7. Who the process is, where it starts, what it runs.
    match &tty {
        Some(slave) => console::become_tty(slave, p.console_size)?,
        None => console::new_session()?,
    }
    let closer = Closer::Init { init, host_pid };
    close_out(closer, ch, OwnedFd::from(new_root), cwd, tty)
}

/// Stage 3: the rootfs, cloned and mounted onto itself, with the config's
/// mounts and the default devices; returns the cloned tree (not attached
/// as `/` yet: stage 4 pivots into it).
fn mount_rootfs(
    init: &InitSpec<'_>,
    ns: &Namespaces,
    linux: &Linux,
    mut idmapped: mounts::IdmappedTrees,
    mount_label: Option<&str>,
) -> Result<OwnedFd> {
    let spec = init.spec;
    let new_userns = ns.is_new(NamespaceType::User);
    // Nothing we mount may propagate back to the host.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_SLAVE | MsFlags::MS_REC,
        None::<&str>,
    )
    .layer("rootfs", || "making / a recursive slave".into())?;
    let rootfs_dir =
        crate::rootfs::source::reopen_pinned(&init.rootfs, init.pins.rootfs, "root.path")?;
    let root = ward_sys::mount::open_tree(rootfs_dir.as_fd(), "", true, true)
        .layer("rootfs", || "cloning the rootfs mount".into())?;
    ward_sys::mount::move_mount_fd(root.as_fd(), rootfs_dir.as_fd())
        .layer("rootfs", || "bind-mounting the rootfs onto itself".into())?;
    drop(rootfs_dir);
    crate::extras::readonly_tree(&init.extras, root.as_fd())?;
    // No mount on /dev: the image's own /dev gets the default devices (as
    // runc and crun do). Checked before any mount is made below it.
    let image_dev = !spec.mounts.iter().any(|m| mounts::is_dev(&m.destination));
    if image_dev {
        dev::check_image_dev(root.as_fd())?;
    }
    mounts::apply(
        root.as_fd(),
        &init.bundle,
        &init.pins,
        &mut idmapped,
        &spec.mounts,
        &init.cgroup_mounts,
        mount_label,
    )?;
    // The default devices replace whatever the image has at their paths
    // (a symlink, fifo or file is unlinked, never followed).
    dev::create_devices(root.as_fd(), &dev::default_devices(), new_userns)?;
    dev::create_devices(root.as_fd(), &linux.devices, new_userns)?;
    dev::create_links(root.as_fd())?;
    Ok(root)
}

/// Stage 5: hostname and domainname (in a new UTS namespace only), then
/// the sysctls.
fn name_the_machine(init: &InitSpec<'_>, ns: &Namespaces, linux: &Linux) -> Result<()> {
    if ns.is_new(NamespaceType::Uts) {
        if let Some(h) = init.spec.hostname.as_deref().filter(|h| !h.is_empty()) {
            nix::unistd::sethostname(h).layer("hostname", || format!("sethostname {h:?}"))?;
        }
        if let Some(d) = init.spec.domainname.as_deref().filter(|d| !d.is_empty()) {
            ward_sys::process::set_domainname(d)
                .layer("domainname", || format!("setdomainname {d:?}"))?;
        }
    }
    for (key, value) in &linux.sysctl {
        write_sysctl(init.host_proc.as_fd(), key, value)?;
    }
    Ok(())
}

/// Stage 6: masked paths, read-only paths, the read-only root, the root's
/// propagation.
fn hide_and_freeze(
    new_root: BorrowedFd<'_>,
    spec: &Spec,
    linux: &Linux,
    mount_label: Option<&str>,
) -> Result<()> {
    masked::mask(new_root.as_fd(), &linux.masked_paths, mount_label)?;
    masked::make_readonly(new_root.as_fd(), &linux.readonly_paths)?;
    if spec.root.as_ref().is_some_and(|r| r.readonly) {
        pivot::readonly_root()?;
    }
    if let Some(mode) = &linux.rootfs_propagation {
        pivot::propagation(mode)?;
    }
    Ok(())
}

/// Who closes out stages 7–9: the container init, or a process `exec`'d
/// into a running container.
#[derive(Clone, Copy)]
enum Closer<'a> {
    Init {
        init: &'a InitSpec<'a>,
        /// Our pid as the runtime (and the host's procfs) numbers it.
        host_pid: i32,
    },
    Exec(&'a ExecSpec<'a>),
}

impl Closer<'_> {
    fn process(&self) -> &Process {
        match self {
            Closer::Init { init, .. } => init.process,
            Closer::Exec(e) => e.process,
        }
    }

    fn seccomp(&self) -> Option<&Program> {
        match self {
            Closer::Init { init, .. } => init.seccomp.as_ref(),
            Closer::Exec(e) => e.seccomp.as_ref(),
        }
    }

    fn landlock(&self) -> Option<&crate::landlock::Rules> {
        match self {
            Closer::Init { init, .. } => init.landlock.as_ref(),
            Closer::Exec(e) => e.landlock.as_ref(),
        }
    }

    fn preserve_fds(&self) -> u32 {
        match self {
            Closer::Init { init, .. } => init.preserve_fds,
            Closer::Exec(e) => e.preserve_fds,
        }
    }
}

/// How stage 9 writes the LSM labels.
enum Labels {
    /// The attr files, opened through the host's procfs before the wait
    /// (the init: see [`before_the_wait`]).
    Opened(crate::lsm::Queued),
    /// Through the container's procfs, checked (an `exec`'d process, which
    /// never holds the host's); None: no label is asked for.
    Through(Option<OwnedFd>),
}

impl Labels {
    fn apply(self, p: &Process) -> Result<()> {
        match self {
            Labels::Opened(queued) => queued.apply(),
            Labels::Through(Some(proc)) => {
                crate::lsm::apply(proc.as_fd(), nix::unistd::getpid().as_raw(), p)
            }
            Labels::Through(None) => Ok(()),
        }
    }
}

/// Stages 7–9 from the process's own session on, for the container init
/// and for an `exec`'d process alike: the closing order is written only
/// here (and in [`last_steps`]). `root` is the container's root (O_PATH:
/// Landlock's paths and the container's procfs are resolved beneath it),
/// `cwd` the process's working directory, `tty` its terminal (already its
/// controlling terminal and stdio).
fn close_out(
    who: Closer<'_>,
    ch: &Channel,
    root: OwnedFd,
    cwd: OwnedFd,
    tty: Option<OwnedFd>,
) -> Result<Infallible> {
    let p = who.process();
    // Built now, while an error still fails `create`; enforced in stage 9.
    let landlock = match who.landlock() {
        Some(rules) => crate::landlock::prepare(root.as_fd(), rules)?,
        None => None,
    };
    let (labels, container_proc) = match who {
        Closer::Init { init, host_pid } => {
            let (queued, container_proc) = before_the_wait(init, root.as_fd(), host_pid)?;
            (Labels::Opened(queued), container_proc)
        }
        // The LSM attr files are written through the container's procfs
        // (checked: see lsm::container_proc); the host's is never in reach.
        Closer::Exec(_) if crate::lsm::wanted(p) => (
            Labels::Through(Some(crate::lsm::container_proc(root.as_fd())?)),
            None,
        ),
        Closer::Exec(_) => (Labels::Through(None), None),
    };
    drop(root);
    load_seccomp_listener(who.seccomp(), who.preserve_fds(), ch)?;
    let keep = keep_for_the_end(who.seccomp(), landlock.as_ref(), p);
    privileges::become_user(p, p.capabilities.as_ref(), keep)?;
    if let Closer::Exec(_) = who {
        // setuid and friends reset dumpability when the ids change.
        ward_sys::process::set_non_dumpable().layer("exec", || "PR_SET_DUMPABLE 0".into())?;
    }
    let chdir = nix::unistd::fchdir(std::os::fd::AsRawFd::as_raw_fd(&cwd));
    match who {
        Closer::Init { .. } => chdir.layer("cwd", || format!("chdir {} (process.cwd)", p.cwd))?,
        Closer::Exec(_) => chdir.layer("cwd", || format!("chdir {}", p.cwd))?,
    }
    drop(cwd);
    let program = exec::prepare(p)?;

    // 8. Nothing of the runtime survives execve.
    drop(tty);
    exec::seal_fds(who.preserve_fds())?;
    let Closer::Init { init, .. } = who else {
        // `exec --detach` leaves us behind: the death signal must not follow.
        ward_sys::process::set_parent_death_signal(0)
            .layer("exec", || "clearing PR_SET_PDEATHSIG".into())?;
        return last_steps(who, ch, labels, landlock, &program);
    };
    // `create` exits after this: the death signal must not follow. Kept,
    // it is armed again: become_user's change of ids cleared it (if the
    // runtime died in between, sending `Ready` below fails).
    let death_signal = if init.extras.keep_death_signal {
        libc::SIGKILL
    } else {
        0
    };
    ward_sys::process::set_parent_death_signal(death_signal)
        .layer("init", || "PR_SET_PDEATHSIG".into())?;
    // The child's copy of the host /proc handle: closed (the parent keeps
    // its own; this process never returns through a destructor).
    nix::unistd::close(std::os::fd::AsRawFd::as_raw_fd(&init.host_proc))
        .layer("init", || "closing the host's /proc".into())?;
    // Report ready; wait for `start`.
    ch.send(&ToParent::Ready)?;
    let mut report = match (&init.start, &container_proc) {
        (StartSignal::Fifo(fifo), Some(proc)) => Some(open_exec_fifo(proc.as_fd(), fifo.as_fd())?),
        (StartSignal::Fifo(_), None) => {
            return Err(err("start", "internal: no procfs to reopen the exec fifo"))
        }
        (StartSignal::Socket, _) => match ch.expect::<ToChild>()? {
            ToChild::Start => None,
            other => return Err(err("handshake", format!("unexpected message {other:?}"))),
        },
    };
    // 9. `create` has returned: an error now goes to `start`, which reads
    //    the exec fifo until execve closes it (close-on-exec) — the write
    //    end stays open until then. `run` gets it on the channel (fork_into).
    drop(container_proc);
    let failure = match last_steps(who, ch, labels, landlock, &program) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    if let Some(w) = report.as_mut() {
        let _ = w.write_all(failure.to_string().as_bytes());
    }
    Err(failure)
}

/// What stages 8 and 9 need of procfs, taken now. While the init waits for
/// `start`, a process exec'd into the container with CAP_SYS_PTRACE (host
/// user namespace) can follow /proc/1/fd/N into whatever the init holds: a
/// handle on the host's /proc would lead it to every host process's root.
/// So the init lets go of it before it reports ready: the LSM attr files
/// are opened now (written in stage 9), and the exec fifo is reopened
/// through the container's own procfs (checked to be a procfs root, and
/// the fifo checked to be ours).
fn before_the_wait(
    init: &InitSpec<'_>,
    new_root: BorrowedFd<'_>,
    host_pid: i32,
) -> Result<(crate::lsm::Queued, Option<OwnedFd>)> {
    let lsm = crate::lsm::prepare(init.host_proc.as_fd(), host_pid, init.process)?;
    let container_proc = match &init.start {
        StartSignal::Fifo(_) => Some(crate::lsm::container_proc(new_root).map_err(|e| {
            err(
                "start",
                format!(
                    "create waits for `start` through the container's /proc: {}",
                    e.msg
                ),
            )
        })?),
        StartSignal::Socket => None,
    };
    Ok((lsm, container_proc))
}

/// Stage 9, in this order, for the init and an `exec`'d process alike.
/// The init's startContainer hooks run first, in the container's
/// namespaces, with paths resolved in the container; an `exec`'d process
/// reports ready only now (its parent then waits for execve).
fn last_steps(
    who: Closer<'_>,
    ch: &Channel,
    labels: Labels,
    landlock: Option<crate::landlock::Prepared>,
    program: &exec::Prepared,
) -> Result<Infallible> {
    let p = who.process();
    if let Closer::Init { init, host_pid } = who {
        start_container_hooks(init, host_pid)?;
    }
    labels.apply(p)?;
    privileges::no_new_privs(p)?;
    if let Some(l) = landlock {
        l.restrict()?;
    }
    exec::reset_signals()?;
    if let Closer::Exec(_) = who {
        // The parent waits for EOF (execve closes our end) or `Failed` after
        // this; the filter comes last, as for the init.
        ch.send(&ToParent::Ready)?;
    }
    load_seccomp_last(who.seccomp())?;
    match who {
        Closer::Init { init, .. } => crate::extras::exec(&init.extras, program),
        Closer::Exec(_) => exec::exec(program),
    }
}

/// The startContainer hooks (stage 9 of the init).
fn start_container_hooks(init: &InitSpec<'_>, host_pid: i32) -> Result<()> {
    let spec = init.spec;
    if let Some(h) = spec
        .hooks
        .as_ref()
        .filter(|h| !h.start_container.is_empty())
    {
        let mut st = serde_json::json!({"ociVersion": spec.oci_version, "id": init.id, "pid": host_pid,
            "status": "running", "bundle": init.bundle});
        if !spec.annotations.is_empty() {
            st["annotations"] = serde_json::json!(spec.annotations);
        }
        crate::hooks::run("startContainer", &h.start_container, &st.to_string())?;
    }
    Ok(())
}

/// Opens the write side of the exec fifo (blocks until `start` opens the
/// read side) through `proc`, the container's procfs, and writes the
/// start byte. The file opened must be the fifo we hold (same inode): a
/// procfs root cannot be faked, but this checks rather than trusts it.
fn open_exec_fifo(proc: BorrowedFd<'_>, fifo: BorrowedFd<'_>) -> Result<std::fs::File> {
    let path = format!("thread-self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&fifo));
    let w = ward_sys::fs::openat2(proc, &path, libc::O_WRONLY, 0, 0)
        .layer("start", || "opening the exec fifo".into())?;
    let id = |fd: BorrowedFd<'_>| {
        nix::sys::stat::fstat(std::os::fd::AsRawFd::as_raw_fd(&fd))
            .map(|st| (st.st_dev, st.st_ino))
            .layer("start", || "fstat of the exec fifo".into())
    };
    if id(w.as_fd())? != id(fifo)? {
        return Err(err(
            "start",
            "the container's /proc led to another file than the exec fifo; refusing to start",
        ));
    }
    let mut w = std::fs::File::from(w);
    w.write_all(b"0")
        .layer("start", || "writing the exec fifo".into())?;
    Ok(w)
}

/// Writes a (validated, namespaced) sysctl through the host procfs handle
/// (never through the container's /proc, where a mount could redirect it:
/// CVE-2025-52881); the values are those of our own namespaces.
fn write_sysctl(proc: BorrowedFd<'_>, key: &str, value: &str) -> Result<()> {
    let rel = format!("sys/{}", key.replace('.', "/"));
    crate::procfs::write(proc, &rel, value, "sysctl")
        .map_err(|e| err("sysctl", format!("linux.sysctl.{key}: {}", e.msg)))
}

/// What `exec` needs to start a process in a running container.
pub struct ExecSpec<'a> {
    /// A pidfd of the container's init (its namespaces are joined).
    pub init_pidfd: BorrowedFd<'a>,
    pub init_pid: i32,
    pub process: &'a Process,
    pub console_socket: Option<OwnedFd>,
    pub preserve_fds: u32,
    pub seccomp: Option<ward_seccomp::Program>,
    /// The container's Landlock rules: an exec'd process does not inherit
    /// the init's domain, so it gets its own from the same rules.
    pub landlock: Option<crate::landlock::Rules>,
}

/// Namespaces of `pid` that differ from ours: the ones `exec` must join.
fn differing_namespaces(pid: i32) -> u64 {
    let mut flags = 0;
    for kind in NamespaceType::ALL {
        let theirs = std::fs::read_link(format!("/proc/{pid}/ns/{}", kind.proc_name()));
        let ours = std::fs::read_link(format!("/proc/self/ns/{}", kind.proc_name()));
        if let (Ok(a), Ok(b)) = (theirs, ours) {
            if a != b {
                flags |= kind.clone_flag();
            }
        }
    }
    flags
}

/// Starts `process` inside the container of `init_pid`, in three steps:
///
/// 1. the runtime forks an *intermediate* (in the host's pid namespace, so
///    nothing in the container can see it) and puts it in the container's
///    cgroup;
/// 2. the intermediate joins every namespace of the init at once (one setns
///    through the pidfd: the kernel switches to the user namespace first,
///    so a rootless runtime can join the rest), which also makes the
///    container's root its root and cwd; it closes every fd the exec'd
///    process does not need, then forks the process (CLONE_PARENT: the
///    runtime's child) and exits;
/// 3. that process, the first one the container's pid namespace ever
///    shows, sets itself up and execs.
///
/// Threat (issue #14, finding 3): a container process with CAP_SYS_PTRACE
/// in the host's user namespace passes the ptrace checks of /proc/PID/root,
/// /cwd and /fd even for non-dumpable processes, so "non-dumpable" alone
/// does not protect a joining process. When `exec` forked straight into the
/// pid namespace, the child was visible with the host's root, cwd and
/// /proc for as long as it took to join the mount namespace: the container
/// read root-only host files through /proc/PID/root. Now every process the
/// container can see already has the container's root, cwd, namespaces and
/// cgroup, and holds no fd of the host's except stdio and --preserve-fds
/// (which the caller passes on purpose). Non-dumpable from the first
/// instruction still keeps *unprivileged* container processes out
/// (CVE-2016-9962 / CVE-2019-5736), re-asserted after each credential change.
pub fn spawn_exec(e: &ExecSpec<'_>, parent: &mut dyn ParentSide) -> Result<Spawned> {
    let flags = differing_namespaces(e.init_pid);
    let (mut pid, pidfd, parent_end) = fork_into(0, None, "creating the exec process", |ch| {
        exec_intermediate(e, flags, ch)
    })?;
    let mut guard = KillGuard { pid, armed: true };
    let mut pidfd = Some(pidfd);
    // The cgroup is joined before any namespace: what the intermediate
    // forks inherits it, so the exec'd process is never outside it.
    parent.place(pid)?;
    parent_end.send(&ToChild::Go { pid })?;
    loop {
        let (msg, fd) = parent_end
            .expect_with_fd::<ToParent>()
            .map_err(|e| died(pid, e))?;
        match msg {
            ToParent::Forked { pid: process } => {
                // The intermediate exits at once; the process is our child
                // (CLONE_PARENT), so the caller can wait for it.
                let _ = waitpid(Pid::from_raw(pid), None);
                pid = process;
                guard.pid = process;
                pidfd = Some(
                    ward_sys::process::pidfd_open(process)
                        .layer("exec", || "pidfd_open of the exec'd process".into())?,
                );
                parent_end.send(&ToChild::Go { pid })?;
            }
            ToParent::Ready => break,
            ToParent::SeccompListener => forward_listener(&parent_end, parent, pid, fd)?,
            ToParent::Failed { msg } => return Err(err("exec", msg)),
            other => return Err(err("handshake", format!("unexpected message {other:?}"))),
        }
    }
    let pidfd = pidfd.ok_or_else(|| err("exec", "internal: no pidfd of the exec'd process"))?;
    // Only the filter load and execve are left: their error, if any.
    wait_exec(&parent_end, "exec")?;
    guard.armed = false;
    Ok(Spawned {
        pid,
        pidfd,
        channel: parent_end,
    })
}

/// The intermediate of [`spawn_exec`]: never visible in the container.
fn exec_intermediate(e: &ExecSpec<'_>, flags: u64, ch: &Channel) -> Result<Infallible> {
    let non_dumpable =
        || ward_sys::process::set_non_dumpable().layer("exec", || "PR_SET_DUMPABLE 0".into());
    non_dumpable()?;
    ward_sys::process::set_parent_death_signal(libc::SIGKILL)
        .layer("exec", || "PR_SET_PDEATHSIG".into())?;
    // In the cgroup once this arrives.
    expect_go(ch)?;
    let root_id = init_root_id(e.init_pid)?;
    // Checked now: after the joins /proc/self is no longer ours (our pid is
    // not in the container's pid namespace). Nothing below starts a thread.
    let single = ward_sys::process::single_threaded().layer("clone3", || {
        "checking that the exec process is single-threaded".into()
    })?;
    if flags != 0 {
        ward_sys::process::setns_pidfd(e.init_pidfd, flags as i32)
            .layer("namespaces", || "joining the container's namespaces".into())?;
        // Joining a user namespace changes our credentials, which may reset
        // dumpability (commit_creds).
        non_dumpable()?;
    }
    // The host's fds stay behind: only stdio, --preserve-fds, the channel
    // and the console socket reach the exec'd process (the pidfd of the
    // init, the runtime's signalfd, log and lock files do not).
    let mut keep: Vec<i32> = (0..3 + e.preserve_fds as i32).collect();
    keep.push(std::os::fd::AsRawFd::as_raw_fd(&ch.as_fd()));
    if let Some(s) = &e.console_socket {
        keep.push(std::os::fd::AsRawFd::as_raw_fd(s));
    }
    ward_sys::process::close_fds_except_numbers(&keep)
        .layer("fds", || "closing the runtime's fds before the fork".into())?;
    check_root_is_containers(root_id)?;
    // A pid (and time) namespace applies to children only: fork the
    // process that will exec. CLONE_PARENT makes it the runtime's child.
    match ward_sys::process::clone3_single(libc::CLONE_PARENT as u64, None, single)
        .layer("clone3", || {
            "forking the exec'd process into the container".into()
        })? {
        Forked::Child => exec_child(e, ch),
        Forked::Parent { pid, .. } => {
            ch.send(&ToParent::Forked { pid })?;
            ward_sys::process::exit_now(0);
        }
    }
}

/// The root of `init_pid` as (device, inode), read through the host's
/// /proc before the joins (the intermediate is still in the host's mount
/// namespace then).
fn init_root_id(init_pid: i32) -> Result<(u64, u64)> {
    let st = nix::sys::stat::stat(format!("/proc/{init_pid}/root").as_str())
        .layer("exec", || {
            format!("stat /proc/{init_pid}/root (the container's init)")
        })?;
    Ok((st.st_dev, st.st_ino))
}

/// After the joins, `/` and `.` must both be the init's root: setns into
/// the mount namespace sets them, and this checks it rather than trusts
/// it, so the exec'd process never starts with a host directory in reach.
fn check_root_is_containers(want: (u64, u64)) -> Result<()> {
    for what in ["/", "."] {
        let st = nix::sys::stat::stat(what).layer("exec", || {
            format!("stat {what} after joining the namespaces")
        })?;
        if (st.st_dev, st.st_ino) != want {
            return Err(err(
                "exec",
                format!(
                    "after joining the container's mount namespace {what:?} is not the container's root; refusing to start the process"
                ),
            ));
        }
    }
    Ok(())
}

fn exec_child(e: &ExecSpec<'_>, ch: &Channel) -> Result<Infallible> {
    ward_sys::process::set_parent_death_signal(libc::SIGKILL)
        .layer("exec", || "PR_SET_PDEATHSIG".into())?;
    let _host_pid = expect_go(ch)?;
    let p = e.process;
    privileges::limits(p)?;
    let tty = if p.terminal {
        let (master, slave) = console::open_pty()?;
        let socket = e
            .console_socket
            .as_ref()
            .ok_or_else(|| err("console", "--tty needs --console-socket"))?;
        console::send_master(socket.as_fd(), master.as_fd())?;
        console::become_tty(&slave, p.console_size)?;
        Some(slave)
    } else {
        console::new_session()?;
        None
    };
    let root = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open("/")
        .layer("exec", || "opening the container's root".into())?;
    let cwd = crate::rootfs::open_in(root.as_fd(), &p.cwd)
        .layer("cwd", || format!("{} (process.cwd / --cwd)", p.cwd))?;
    close_out(Closer::Exec(e), ch, OwnedFd::from(root), cwd, tty)
}

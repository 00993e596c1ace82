//! create, start, run, exec, state, list, kill, delete, ps — with runc's
//! semantics, and nothing left behind when one of them fails.

use std::fs;
use std::io::Read;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{socketpair, AddressFamily, MsgFlags, SockFlag, SockType};
use ward_init::{InitSpec, ParentSide, StartSignal};
use ward_seccomp::Program;
use ward_spec::{Hook, Process, Spec};

use crate::admission::{Admission, Making, Subject};
use crate::cg::{self, Cgroup};
use crate::state::{self, Locked, Saved, Status, Store};
use crate::{foreground, msg, signals, Ctx, Result};
use ward_init::hooks;

/// Global flags.
pub struct Global {
    pub root: PathBuf,
    pub systemd_cgroup: bool,
    pub debug: bool,
}

/// `create`/`run` flags.
pub struct CreateOpts {
    pub id: String,
    pub bundle: PathBuf,
    pub console_socket: Option<PathBuf>,
    pub pid_file: Option<PathBuf>,
    pub no_pivot: bool,
    pub no_new_keyring: bool,
    pub preserve_fds: u32,
    pub pidfd_socket: Option<PathBuf>,
}

/// The socket the init sends its pty master to: the caller's
/// `--console-socket` (connected now, so a bad path leaves nothing behind),
/// or with `proxy` a socketpair whose other end (returned second) the
/// runtime reads to proxy the terminal itself.
fn console_sockets(
    given: Option<&Path>,
    proxy: bool,
) -> Result<(Option<OwnedFd>, Option<OwnedFd>)> {
    if let Some(path) = given {
        let s = UnixStream::connect(path).ctx(|| format!("--console-socket {}", path.display()))?;
        return Ok((Some(OwnedFd::from(s)), None));
    }
    if !proxy {
        return Ok((None, None));
    }
    let (a, b) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .ctx(|| "socketpair".into())?;
    Ok((Some(a), Some(b)))
}

/// The host's /proc as an O_PATH handle, taken before the container exists
/// (the init writes sysctls, LSM labels and the exec fifo through it).
fn host_proc() -> Result<OwnedFd> {
    let f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_DIRECTORY | libc::O_CLOEXEC)
        .open("/proc")
        .ctx(|| "opening /proc".into())?;
    Ok(OwnedFd::from(f))
}

/// Reads, parses and validates `bundle/config.json`.
fn load_bundle(bundle: &Path) -> Result<(PathBuf, Spec, PathBuf)> {
    let bundle = fs::canonicalize(bundle).ctx(|| format!("bundle {}", bundle.display()))?;
    let config = bundle.join("config.json");
    let bytes = fs::read(&config).ctx(|| format!("reading {}", config.display()))?;
    let spec = ward_spec::parse(&bytes)?;
    ward_spec::validate::validate(&spec, true)?;
    let root = spec
        .root
        .as_ref()
        .map(|r| r.path.clone())
        .unwrap_or_default();
    let rootfs = bundle.join(&root);
    let rootfs = fs::canonicalize(&rootfs)
        .ctx(|| format!("root.path {} (resolved to {})", root, rootfs.display()))?;
    if !rootfs.is_dir() {
        return Err(msg(format!(
            "root.path {}: not a directory",
            rootfs.display()
        )));
    }
    check_unsupported(&spec)?;
    Ok((bundle, spec, rootfs))
}

/// Layers that were asked for and that this build cannot apply: an error,
/// never a silently weaker container.
fn check_unsupported(spec: &Spec) -> Result<()> {
    let p = spec.process.as_ref();
    if p.and_then(|p| p.apparmor_profile.as_deref())
        .is_some_and(|s| !s.is_empty())
        && !ward_init::lsm::apparmor_enabled()
    {
        return Err(msg("process.apparmorProfile: AppArmor is not enabled on this host; remove the profile or enable AppArmor"));
    }
    if let Some(profile) = p
        .and_then(|p| p.apparmor_profile.as_deref())
        .filter(|s| !s.is_empty() && *s != "unconfined")
    {
        if ward_init::lsm::apparmor_profile_loaded(profile) == Some(false) {
            return Err(msg(format!(
                "process.apparmorProfile: the AppArmor profile {profile:?} is not loaded; load it first (apparmor_parser -r FILE)"
            )));
        }
    }
    if p.and_then(|p| p.selinux_label.as_deref())
        .is_some_and(|s| !s.is_empty())
        && !ward_init::lsm::selinux_enabled()
    {
        return Err(msg("process.selinuxLabel: SELinux is not enabled on this host; remove the label or enable SELinux"));
    }
    if spec
        .linux
        .as_ref()
        .and_then(|l| l.mount_label.as_deref())
        .is_some_and(|s| !s.is_empty())
        && !ward_init::lsm::selinux_enabled()
    {
        // runc silently drops the label then: the container's files would
        // not carry the label the engine asked for.
        return Err(msg("linux.mountLabel: SELinux is not enabled on this host; remove the label or enable SELinux"));
    }
    Ok(())
}

/// Compiles `linux.seccomp` in the parent (the child only loads it),
/// through the cache of compiled filters under the state root
/// (ward_seccomp::cache: the same profile is compiled once per boot).
fn compile_seccomp(debug: bool, cache_root: Option<&Path>, spec: &Spec) -> Result<Option<Program>> {
    let Some(profile) = spec.linux.as_ref().and_then(|l| l.seccomp.as_ref()) else {
        return Ok(None);
    };
    let opts = ward_seccomp::CompileOptions::default();
    let (f, outcome) = match cache_root {
        Some(root) => {
            let dir = root.join(ward_seccomp::cache::DIR_NAME);
            ward_seccomp::cache::compile_cached(profile, &opts, &dir).map(|(f, o)| (f, Some(o)))
        }
        None => ward_seccomp::compile(profile, &opts).map(|f| (f, None)),
    }
    .map_err(|e| msg(format!("linux.seccomp: {e}")))?;
    if debug {
        if let Some(o) = outcome {
            crate::log::debug(&format!("linux.seccomp: compiled-filter cache: {o:?}"));
        }
    }
    if f.needs_listener && profile.listener_path.as_deref().is_none_or(str::is_empty) {
        return Err(msg("linux.seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath (the agent's unix socket)"));
    }
    if debug && !f.unknown_syscalls.is_empty() {
        crate::log::debug(&format!(
            "linux.seccomp: syscalls unknown to this kernel/libseccomp, skipped: {}",
            f.unknown_syscalls.join(", ")
        ));
    }
    Ok(Some(f.into_program()))
}

/// ward's Landlock extension (`run.ward.landlock.*`, docs/landlock.md):
/// checked against this kernel in the parent, before anything exists, and
/// reported with `--debug`.
fn landlock_rules(debug: bool, spec: &Spec) -> Result<Option<ward_init::landlock::Rules>> {
    let Some(l) = ward_spec::landlock::from_annotations(&spec.annotations)? else {
        return Ok(None);
    };
    let rules = ward_init::landlock::Rules::from_spec(&l);
    let report = rules.check(ward_sys::landlock::abi_version())?;
    if debug {
        crate::log::debug(&format!("landlock: {report}"));
    }
    Ok(Some(rules))
}

/// Hands a seccomp notify listener to the agent at `listenerPath`, with the
/// runtime-spec's container process state (`fds: ["seccompFd"]`).
fn send_listener(spec: &Spec, state: &str, pid: i32, listener: OwnedFd) -> ward_init::Result<()> {
    let seccomp = spec.linux.as_ref().and_then(|l| l.seccomp.as_ref());
    let path = seccomp
        .and_then(|s| s.listener_path.clone())
        .unwrap_or_default();
    let state: serde_json::Value = serde_json::from_str(state).unwrap_or_default();
    let msg = serde_json::json!({
        "ociVersion": spec.oci_version,
        "fds": ["seccompFd"],
        "pid": pid,
        "metadata": seccomp.and_then(|s| s.listener_metadata.clone()).unwrap_or_default(),
        "state": state,
    });
    let sock = UnixStream::connect(&path).map_err(|e| {
        ward_init::err(
            "seccomp",
            format!("linux.seccomp.listenerPath {path:?}: {e}"),
        )
    })?;
    ward_sys::socket::send_with_fd(sock.as_fd(), msg.to_string().as_bytes(), listener.as_fd())
        .map_err(|e| ward_init::err("seccomp", format!("sending the listener to {path:?}: {e}")))
}

/// The state hooks get on stdin (no pid once the container has stopped, as runc).
fn state_json(id: &str, pid: i32, status: Status, bundle: &Path, spec: &Spec) -> String {
    let mut v = serde_json::json!({"ociVersion": spec.oci_version, "id": id, "status": status.as_str(), "bundle": bundle});
    if status != Status::Stopped {
        v["pid"] = pid.into();
    }
    if !spec.annotations.is_empty() {
        v["annotations"] = serde_json::json!(spec.annotations);
    }
    v.to_string()
}

struct Parent<'a> {
    id: &'a str,
    spec: &'a Spec,
    bundle: &'a Path,
    cg: &'a Cgroup,
    /// The process was cloned straight into the cgroup (v2).
    cloned_into: bool,
}

impl ParentSide for Parent<'_> {
    fn seccomp_listener(&mut self, pid: i32, listener: OwnedFd) -> ward_init::Result<()> {
        let st = state_json(self.id, pid, Status::Creating, self.bundle, self.spec);
        send_listener(self.spec, &st, pid, listener)
    }

    fn place(&mut self, pid: i32) -> ward_init::Result<()> {
        if self.cloned_into {
            return Ok(());
        }
        self.cg
            .add(pid)
            .map_err(|e| ward_init::err("cgroups", e.to_string()))
    }

    fn create_hooks(&mut self, pid: i32) -> ward_init::Result<()> {
        // The runtime environment exists by now: "created", as crun says
        // and the OCI validation suite expects (hooks_stdin); runc says
        // "creating".
        let st = state_json(self.id, pid, Status::Created, self.bundle, self.spec);
        let h = self.spec.hooks.clone().unwrap_or_default();
        for (kind, list) in [
            ("prestart", &h.prestart),
            ("createRuntime", &h.create_runtime),
            ("createContainer", &h.create_container),
        ] {
            hooks::run(kind, list, &st)?;
        }
        Ok(())
    }
}

/// A container whose init waits for `start`.
struct Made {
    saved: Saved,
    spawned: ward_init::Spawned,
    console: Option<OwnedFd>,
}

/// The policy gate of create and run. The rootfs and bind sources are
/// opened once: the policy judges these files, and the init mounts only
/// them (the identities returned).
fn admit_container(
    g: &Global,
    admission: &dyn Admission,
    action: Making,
    c: Container<'_>,
) -> Result<ward_init::rootfs::source::Pins> {
    let resolved = ward_init::rootfs::source::resolve(c.bundle, c.rootfs, c.spec);
    let subject = Subject {
        root: &g.root,
        id: c.id,
        bundle: c.bundle,
        spec: c.spec,
    };
    admission.container(action, &subject, &resolved)?;
    Ok(resolved.pins())
}

/// The container a launch is about: its id, config and paths (absolute
/// host paths; bind sources are relative to `bundle`).
#[derive(Clone, Copy)]
struct Container<'a> {
    id: &'a str,
    spec: &'a Spec,
    rootfs: &'a Path,
    bundle: &'a Path,
}

/// Where the Landlock rules come from.
enum LandlockFrom {
    /// The spec's `run.ward.landlock.*` annotations, checked here.
    Annotations,
    /// The caller's own rules (`ward sandbox`).
    Caller(Option<ward_init::landlock::Rules>),
}

/// What [`launch`] is given, named: the container and how each of its
/// layers is obtained.
struct Launch<'a> {
    container: Container<'a>,
    /// `--debug`: report what compiling and checking found.
    debug: bool,
    /// linux.seccomp compiled ahead of time, which the caller vouches for;
    /// None: compiled here from the spec.
    seccomp: Option<Program>,
    /// The state root whose compiled-filter cache the compilation uses
    /// (None: no cache).
    seccomp_cache_root: Option<&'a Path>,
    landlock: LandlockFrom,
    /// The caller's `--console-socket`.
    console_socket: Option<&'a Path>,
    /// A terminal without `--console-socket` is proxied by this process
    /// (`run`, `ward sandbox`); `create` refuses it.
    proxy_terminal: bool,
    preserve_fds: u32,
    no_pivot: bool,
    no_new_keyring: bool,
    extras: ward_init::extras::Extras,
}

/// The steps in which a container kept under `--root` ([`Stored`]: `create`,
/// `run`) and an ephemeral one ([`Transient`]: `ward sandbox`) differ;
/// [`launch`] takes them in its order.
trait Keeper {
    /// The policy gate: the identities of the rootfs and bind sources the
    /// init may mount (the files that were judged).
    fn admit(&mut self, c: Container<'_>) -> Result<ward_init::rootfs::source::Pins>;
    /// Makes the cgroup (and what records it); returns the cgroup v2
    /// directory to clone the init into, and the cgroup mounts to show the
    /// container.
    fn make_cgroup(
        &mut self,
        c: Container<'_>,
        join: ward_init::CgroupJoin,
    ) -> Result<(Option<OwnedFd>, Vec<ward_init::CgroupMount>)>;
    /// How the init learns that it may exec its program.
    fn start_signal(&mut self) -> Result<StartSignal>;
    /// The runtime's side of the handshake, made right before the clone;
    /// `cloned_into`: the init is born in its cgroup.
    fn parent_side<'s>(
        &'s mut self,
        c: Container<'s>,
        cloned_into: bool,
    ) -> Result<Box<dyn ParentSide + 's>>;
}

/// A container's init, waiting for `start`, and the terminal proxied to it.
struct Launched {
    spawned: ward_init::Spawned,
    console: Option<OwnedFd>,
}

/// Sets a container up from the runtime's side, in the one order that
/// `create`, `run` and `ward sandbox` share: policy → seccomp compiled →
/// Landlock checked → console sockets → cgroup (and state directory) →
/// exec fifo → spawn → terminal received. Whatever can be refused is
/// refused before the cgroup or the state directory exist; `keeper` does
/// the steps that differ.
fn launch(l: Launch<'_>, keeper: &mut dyn Keeper) -> Result<Launched> {
    let c = l.container;
    let pins = keeper.admit(c)?;
    let seccomp = match l.seccomp {
        Some(program) => Some(program),
        None => compile_seccomp(l.debug, l.seccomp_cache_root, c.spec)?,
    };
    let landlock = match l.landlock {
        LandlockFrom::Annotations => landlock_rules(l.debug, c.spec)?,
        LandlockFrom::Caller(rules) => rules,
    };
    let process = c.spec.process.clone().unwrap_or_default();
    if l.console_socket.is_some() && !process.terminal {
        return Err(msg("--console-socket was given but process.terminal is false: there is no terminal to hand over"));
    }
    let proxy = process.terminal && l.console_socket.is_none();
    if proxy && !l.proxy_terminal {
        return Err(msg(
            "process.terminal is set: create needs --console-socket to hand over the terminal",
        ));
    }
    // Connect before anything is created: a bad socket leaves nothing behind.
    let (console_socket, console_recv) = console_sockets(l.console_socket, proxy)?;
    let cgroup_join = ward_init::CgroupJoin::decide(c.spec, &l.extras, cg::unified_hierarchy);
    let (v2_dir, cgroup_mounts) = keeper.make_cgroup(c, cgroup_join)?;
    let start = keeper.start_signal()?;
    let host_proc = host_proc()?;
    let init = InitSpec {
        id: c.id,
        spec: c.spec,
        process: &process,
        rootfs: c.rootfs.to_path_buf(),
        bundle: c.bundle.to_path_buf(),
        pins,
        console_socket,
        start,
        preserve_fds: l.preserve_fds,
        cgroup_mounts,
        no_pivot: l.no_pivot,
        no_new_keyring: l.no_new_keyring,
        seccomp,
        host_proc,
        landlock,
        extras: l.extras,
        cgroup_join,
    };
    let mut parent = keeper.parent_side(c, v2_dir.is_some())?;
    let spawned = ward_init::spawn(&init, v2_dir.as_ref().map(|d| d.as_fd()), parent.as_mut())?;
    drop(parent);
    drop(init);
    let console = match console_recv {
        Some(sock) => Some(receive_fd(&sock)?),
        None => None,
    };
    Ok(Launched { spawned, console })
}

/// A container kept under `--root` (`create`, `run`) while it is made:
/// its cgroup and state directory are undone when this is dropped, unless
/// [`Stored::keep`] was called.
struct Stored<'a> {
    g: &'a Global,
    admission: &'a dyn Admission,
    action: Making,
    store: Store,
    cgroup: Option<Cgroup>,
    /// The cgroup was created: it is discarded on failure.
    cgroup_made: bool,
    locked: Option<Locked>,
}

impl Stored<'_> {
    fn locked(&self) -> Result<&Locked> {
        self.locked
            .as_ref()
            .ok_or_else(|| msg("internal: state lock lost"))
    }

    fn cgroup(&self) -> Result<&Cgroup> {
        self.cgroup
            .as_ref()
            .ok_or_else(|| msg("internal: no cgroup"))
    }

    /// The container is made: nothing is undone any more.
    fn keep(&mut self) {
        self.cgroup_made = false;
        self.locked = None;
    }
}

impl Drop for Stored<'_> {
    fn drop(&mut self) {
        if let (Some(cg), true) = (&self.cgroup, self.cgroup_made) {
            cg.discard();
        }
        if let Some(l) = self.locked.take() {
            let _ = l.remove();
        }
    }
}

impl Keeper for Stored<'_> {
    fn admit(&mut self, c: Container<'_>) -> Result<ward_init::rootfs::source::Pins> {
        admit_container(self.g, self.admission, self.action, c)
    }

    fn make_cgroup(
        &mut self,
        c: Container<'_>,
        _join: ward_init::CgroupJoin,
    ) -> Result<(Option<OwnedFd>, Vec<ward_init::CgroupMount>)> {
        // Before the state dir exists: a bad cgroupsPath or an unreachable
        // systemd (--systemd-cgroup) leaves nothing behind.
        let cgroup = self
            .cgroup
            .insert(cg::open(c.spec, c.id, self.g.systemd_cgroup)?);
        let locked = match self.store.create(c.id)? {
            state::Claimed::New(l) => l,
            state::Claimed::Stale(l) => {
                // A `create` of this id was killed before it saved the state.
                discard_partial(&l).map_err(|e| {
                    msg(format!("container id {:?} is left over from a killed create and cannot be cleaned: {e}; try `delete --force {}`", c.id, c.id))
                })?;
                l
            }
        };
        // Before anything exists outside the state dir: what to undo if this
        // process is killed (SIGKILL cannot be caught, Drop would not run).
        // One record, written once: the planned directories are exactly what
        // create() makes (a killed create that made fewer leaves nothing to
        // remove there: removal skips what does not exist). Each record write
        // costs a file and a rename on every container start.
        let locked = self.locked.insert(locked);
        locked.record_creating(&state::Creating {
            id: c.id.to_string(),
            bundle: c.bundle.to_path_buf(),
            cgroup: cgroup.planned_state(),
        })?;
        cgroup.create(c.spec)?;
        self.cgroup_made = true;
        cgroup.apply(c.spec)?;
        for w in cgroup.take_warnings() {
            crate::log::warn(&w);
        }
        Ok((cgroup.open_v2_dir()?, cgroup.mounts()))
    }

    fn start_signal(&mut self) -> Result<StartSignal> {
        if self.action == Making::Run {
            return Ok(StartSignal::Socket);
        }
        let fifo = self.locked()?.fifo();
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o622))
            .ctx(|| format!("mkfifo {}", fifo.display()))?;
        // mkfifo applies the umask; the init may run as any uid.
        fs::set_permissions(&fifo, std::os::unix::fs::PermissionsExt::from_mode(0o622))
            .ctx(|| "chmod exec fifo".into())?;
        let fd = fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
            .open(&fifo)
            .ctx(|| "opening exec fifo".into())?;
        Ok(StartSignal::Fifo(OwnedFd::from(fd)))
    }

    fn parent_side<'s>(
        &'s mut self,
        c: Container<'s>,
        cloned_into: bool,
    ) -> Result<Box<dyn ParentSide + 's>> {
        Ok(Box::new(Parent {
            id: c.id,
            spec: c.spec,
            bundle: c.bundle,
            cg: self.cgroup()?,
            cloned_into,
        }))
    }
}

fn make(g: &Global, admission: &dyn Admission, o: &CreateOpts, run: bool) -> Result<Made> {
    let store = Store::new(&g.root);
    state::validate_id(&o.id)?;
    let (bundle, spec, rootfs) = load_bundle(&o.bundle)?;
    let mut stored = Stored {
        g,
        admission,
        action: if run { Making::Run } else { Making::Create },
        store,
        cgroup: None,
        cgroup_made: false,
        locked: None,
    };
    let Launched { spawned, console } = launch(
        Launch {
            container: Container {
                id: &o.id,
                spec: &spec,
                rootfs: &rootfs,
                bundle: &bundle,
            },
            debug: g.debug,
            seccomp: None,
            seccomp_cache_root: Some(&g.root),
            landlock: LandlockFrom::Annotations,
            console_socket: o.console_socket.as_deref(),
            proxy_terminal: run,
            preserve_fds: o.preserve_fds,
            no_pivot: o.no_pivot,
            no_new_keyring: o.no_new_keyring,
            extras: ward_init::extras::Extras::default(),
        },
        &mut stored,
    )?;
    let pid_start = state::proc_stat(spawned.pid)
        .map(|(s, _)| s)
        .ok_or_else(|| msg("the container init exited during create"))?;
    let saved = Saved {
        id: o.id.clone(),
        pid: spawned.pid,
        pid_start,
        bundle,
        rootfs,
        created: crate::time::rfc3339(SystemTime::now()),
        owner: state::owner(),
        spec: spec.clone(),
        cgroup: stored.cgroup()?.state(),
    };
    let locked = stored.locked()?;
    locked.save(&saved)?;
    locked.drop_creating_record();
    // `run` writes it once the program runs (as runc does): written here,
    // a caller that kills the init as soon as the file appears would race
    // the start and get a handshake error instead of 128+9.
    if let (Some(pf), false) = (&o.pid_file, run) {
        write_pid_file(pf, spawned.pid)?;
    }
    if let Some(sock) = &o.pidfd_socket {
        send_pidfd(sock, &spawned.pidfd)?;
    }
    stored.keep();
    Ok(Made {
        saved,
        spawned,
        console,
    })
}

fn write_pid_file(path: &Path, pid: i32) -> Result<()> {
    let path = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().ctx(|| "cwd".into())?.join(path)
    };
    state::write_atomic(&path, pid.to_string().as_bytes(), 0o644)
}

fn send_pidfd(path: &Path, pidfd: &OwnedFd) -> Result<()> {
    let s = UnixStream::connect(path).ctx(|| format!("--pidfd-socket {}", path.display()))?;
    let fds = [pidfd.as_raw_fd()];
    nix::sys::socket::sendmsg::<()>(
        s.as_raw_fd(),
        &[std::io::IoSlice::new(b"pidfd")],
        &[nix::sys::socket::ControlMessage::ScmRights(&fds)],
        MsgFlags::empty(),
        None,
    )
    .ctx(|| "sending the pidfd".into())?;
    Ok(())
}

/// Receives one fd over a unix socket (the pty master from our own init).
fn receive_fd(sock: &OwnedFd) -> Result<OwnedFd> {
    let (fd, _) = ward_sys::socket::recv_fd(sock.as_fd())
        .ctx(|| "receiving the terminal from the container".into())?;
    nix::fcntl::fcntl(
        fd.as_raw_fd(),
        nix::fcntl::FcntlArg::F_SETFL(nix::fcntl::OFlag::O_NONBLOCK),
    )
    .ctx(|| "terminal".into())?;
    Ok(fd)
}

/// `create`.
pub fn create(g: &Global, admission: &dyn Admission, o: &CreateOpts) -> Result<()> {
    make(g, admission, o, false).map(drop)
}

/// `start`: unblocks the init through the exec fifo.
pub fn start(g: &Global, id: &str) -> Result<()> {
    let store = Store::new(&g.root);
    let locked = store.open(id)?;
    let saved = store.load(id)?;
    match state::status(&store, &saved) {
        Status::Created => {}
        Status::Stopped => {
            return Err(msg(format!(
                "cannot start container {id:?}: it has stopped"
            )))
        }
        other => {
            return Err(msg(format!(
                "cannot start container {id:?}: it is {}",
                other.as_str()
            )))
        }
    }
    let fifo_path = locked.fifo();
    let mut fifo = fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(&fifo_path)
        .ctx(|| format!("opening {}", fifo_path.display()))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut fds = [PollFd::new(fifo.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(100u8));
        let mut b = [0u8; 1];
        if let Ok(1) = fifo.read(&mut b) {
            last_steps_of_init(&mut fifo, id, deadline)?;
            break;
        }
        if !state::init_alive(&saved) {
            return Err(msg(format!(
                "cannot start container {id:?}: its init exited"
            )));
        }
        if Instant::now() > deadline {
            return Err(msg(format!(
                "cannot start container {id:?}: its init did not respond"
            )));
        }
    }
    fs::remove_file(&fifo_path).ctx(|| "removing exec fifo".into())?;
    let st = state_json(id, saved.pid, Status::Running, &saved.bundle, &saved.spec);
    let poststart = saved
        .spec
        .hooks
        .as_ref()
        .map(|h| h.poststart.clone())
        .unwrap_or_default();
    warn_hooks("poststart", &poststart, &st);
    Ok(())
}

/// After the init's "0" on the exec fifo: it keeps the write end open (close
/// on exec) through its last steps (startContainer hooks, LSM, Landlock,
/// seccomp, execve) and writes their error there. EOF: it exec'd (or died
/// without a word: killed). Past the deadline (a slow startContainer hook)
/// `start` stops waiting, as runc never waits.
fn last_steps_of_init(fifo: &mut fs::File, id: &str, deadline: Instant) -> Result<()> {
    let mut report = Vec::new();
    loop {
        let mut fds = [PollFd::new(fifo.as_fd(), PollFlags::POLLIN)];
        let _ = poll(&mut fds, PollTimeout::from(100u8));
        let mut b = [0u8; 4096];
        match fifo.read(&mut b) {
            Ok(0) => break,
            Ok(n) => report.extend_from_slice(&b[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(msg(format!("reading the exec fifo of {id:?}: {e}"))),
        }
        if Instant::now() > deadline {
            crate::log::warn(&format!(
                "start {id:?}: the init has not exec'd its program after 30 s (startContainer hooks?); not waiting longer"
            ));
            break;
        }
    }
    if report.is_empty() {
        return Ok(());
    }
    Err(msg(format!(
        "cannot start container {id:?}: its init failed before running process.args: {}",
        String::from_utf8_lossy(&report)
    )))
}

/// Runs hooks whose failure the spec says must only be logged.
/// poststart and poststop: a failing hook is a warning, and the others
/// still run (runtime spec).
fn warn_hooks(kind: &str, list: &[Hook], st: &str) {
    for e in hooks::run_all(kind, list, st) {
        crate::log::warn(&e.to_string());
    }
}

/// `run`: create + start; in the foreground, wait and return the exit code.
pub fn run(
    g: &Global,
    admission: &dyn Admission,
    o: &CreateOpts,
    detach: bool,
    keep: bool,
) -> Result<i32> {
    if detach && o.console_socket.is_none() && bundle_wants_tty(&o.bundle) {
        return Err(msg(
            "process.terminal is set: run --detach needs --console-socket",
        ));
    }
    let sfd = if detach {
        None
    } else {
        Some(foreground::block_signals()?)
    };
    let made = make(g, admission, o, true)?;
    made.spawned
        .channel
        .send(&ward_init::handshake::ToChild::Start)?;
    // The init's last steps (hooks, LSM, Landlock, seccomp, execve) may
    // still fail: say so instead of returning its exit code 1 silently.
    let started = made
        .spawned
        .wait_exec()
        .map_err(crate::Error::from)
        .and_then(|()| match &o.pid_file {
            Some(pf) => write_pid_file(pf, made.saved.pid),
            None => Ok(()),
        });
    if let Err(e) = started {
        let store = Store::new(&g.root);
        if let Ok(locked) = store.open(&o.id) {
            let _ = destroy(&store, locked, &made.saved);
        }
        // Our child (destroy killed it if it was still there): reap it.
        let _ = nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(made.saved.pid), None);
        return Err(e);
    }
    let st = state_json(
        &o.id,
        made.saved.pid,
        Status::Running,
        &made.saved.bundle,
        &made.saved.spec,
    );
    let poststart = made
        .saved
        .spec
        .hooks
        .as_ref()
        .map(|h| h.poststart.clone())
        .unwrap_or_default();
    warn_hooks("poststart", &poststart, &st);
    let Some(sfd) = sfd else { return Ok(0) };
    let code = foreground::wait(
        made.saved.pid,
        made.spawned.pidfd.as_fd(),
        &sfd,
        made.console.as_ref(),
    )?;
    if !keep {
        let store = Store::new(&g.root);
        if let Ok(locked) = store.open(&o.id) {
            destroy(&store, locked, &made.saved)?;
        }
    }
    Ok(code)
}

fn bundle_wants_tty(bundle: &Path) -> bool {
    fs::read(bundle.join("config.json"))
        .ok()
        .and_then(|b| ward_spec::parse(&b).ok())
        .and_then(|s| s.process)
        .is_some_and(|p| p.terminal)
}

/// `state`: runc's JSON, indented as runc prints it.
pub fn state(g: &Global, id: &str) -> Result<String> {
    let store = Store::new(&g.root);
    let s = store.load(id)?;
    let status = state::status(&store, &s);
    let pid = if status == Status::Stopped { 0 } else { s.pid };
    let j = state::StateJson {
        oci_version: &s.spec.oci_version,
        id: &s.id,
        pid,
        status: status.as_str(),
        bundle: &s.bundle,
        rootfs: &s.rootfs,
        created: &s.created,
        owner: &s.owner,
        annotations: &s.spec.annotations,
    };
    serde_json::to_string_pretty(&j).ctx(|| "encoding state".into())
}

/// `list`: a table like runc's (tabwriter: min width 12, padding 3), ids
/// only with `quiet`, or a JSON array.
pub fn list(g: &Global, json: bool, quiet: bool) -> Result<String> {
    let store = Store::new(&g.root);
    let mut rows = Vec::new();
    let mut objs = Vec::new();
    for id in store.ids() {
        let Ok(s) = store.load(&id) else { continue };
        let status = state::status(&store, &s);
        let pid = if status == Status::Stopped { 0 } else { s.pid };
        rows.push([
            id.clone(),
            pid.to_string(),
            status.as_str().to_string(),
            s.bundle.display().to_string(),
            s.created.clone(),
            s.owner.clone(),
        ]);
        let mut o = serde_json::json!({"ociVersion": s.spec.oci_version, "id": id, "pid": pid, "status": status.as_str(),
            "bundle": s.bundle, "rootfs": s.rootfs, "created": s.created, "owner": s.owner});
        if !s.spec.annotations.is_empty() {
            o["annotations"] = serde_json::json!(s.spec.annotations);
        }
        objs.push(o);
    }
    if json {
        return serde_json::to_string(&objs)
            .ctx(|| "encoding list".into())
            .map(|s| s + "\n");
    }
    if quiet {
        return Ok(rows.iter().map(|r| format!("{}\n", r[0])).collect());
    }
    let header = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from);
    let all: Vec<&[String; 6]> = std::iter::once(&header).chain(rows.iter()).collect();
    let widths: Vec<usize> = (0..6)
        .map(|c| {
            all.iter()
                .map(|r| r[c].len() + 3)
                .max()
                .unwrap_or(0)
                .max(12)
        })
        .collect();
    let mut out = String::new();
    for r in all {
        for (c, cell) in r.iter().enumerate() {
            if c == 5 {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}", w = widths[c]));
            }
        }
        out.push('\n');
    }
    Ok(out)
}

/// `kill`.
pub fn kill(g: &Global, id: &str, signal: &str, all: bool) -> Result<()> {
    let sig = signals::parse(signal)?;
    let store = Store::new(&g.root);
    let s = store.load(id)?;
    if all {
        return Ok(cg::restore(&s.cgroup)?.kill_all(sig)?);
    }
    if state::status(&store, &s) == Status::Stopped {
        return Err(msg(format!("container {id:?} is not running")));
    }
    signal_init(&s, sig)
}

/// Signals the init through a pidfd checked against the saved start time,
/// so a recycled pid is never signalled.
fn signal_init(s: &Saved, sig: i32) -> Result<()> {
    let pidfd = ward_sys::process::pidfd_open(s.pid)
        .ctx(|| format!("container {:?} is not running", s.id))?;
    if !state::init_alive(s) {
        return Err(msg(format!("container {:?} is not running", s.id)));
    }
    ward_sys::process::pidfd_send_signal(pidfd.as_fd(), sig)
        .ctx(|| format!("sending signal {sig} to {}", s.pid))
}

/// `delete`.
pub fn delete(g: &Global, id: &str, force: bool) -> Result<()> {
    let store = Store::new(&g.root);
    state::validate_id(id)?;
    if force && !store.dir(id).join("state.json").exists() {
        // runc: deleting what isn't there with --force is not an error. A
        // directory without state is what a killed `create` left: undo what
        // its record says it made (issue #14, finding 9). The lock waits
        // for a `create` still running; a dead one released it.
        let Some(locked) = store.lock_any(id)? else {
            return Ok(());
        };
        if !locked.dir.join("state.json").exists() {
            discard_partial(&locked)?;
            return locked.remove();
        }
        // That `create` finished meanwhile: delete the container below.
        drop(locked);
    }
    let locked = store.open(id)?;
    let s = store.load(id)?;
    match state::status(&store, &s) {
        Status::Stopped | Status::Created => {}
        other if force => {
            let _ = other;
        }
        other => {
            return Err(msg(format!(
                "cannot delete container {id:?}: it is {} (stop it first, or use --force)",
                other.as_str()
            )));
        }
    }
    destroy(&store, locked, &s)
}

/// Undoes what a killed `create` made, from its record: kills what is in
/// the cgroup (an init that had already cleared its parent-death signal),
/// removes the cgroup directories, then empties the directory (the lock
/// stays, held by the caller). No record: the create died before it made
/// anything but the directory.
fn discard_partial(locked: &Locked) -> Result<()> {
    if let Some(rec) = locked.creating()? {
        let cgroup = cg::restore(&rec.cgroup)?;
        let _ = cgroup.kill_all(libc::SIGKILL);
        cgroup.destroy().map_err(crate::Error::from).map_err(|e| {
            msg(format!(
                "removing the cgroup of the killed create of {:?} (bundle {}): {e}",
                rec.id,
                rec.bundle.display()
            ))
        })?;
    }
    locked.clear_partial()
}

/// Kills everything left, removes the cgroup, runs poststop hooks and
/// removes the state directory.
fn destroy(store: &Store, locked: Locked, s: &Saved) -> Result<()> {
    let cgroup = cg::restore(&s.cgroup)?;
    if state::init_alive(s) {
        let pidfd = ward_sys::process::pidfd_open(s.pid).ok();
        let _ = cgroup.kill_all(libc::SIGKILL);
        if let Some(fd) = &pidfd {
            if state::init_alive(s) {
                let _ = ward_sys::process::pidfd_send_signal(fd.as_fd(), libc::SIGKILL);
            }
            let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
            let _ = poll(&mut fds, PollTimeout::from(10_000u16));
        }
    }
    let _ = cgroup.kill_all(libc::SIGKILL);
    cgroup.destroy()?;
    let _ = store;
    let st = state_json(&s.id, s.pid, Status::Stopped, &s.bundle, &s.spec);
    let poststop = s
        .spec
        .hooks
        .as_ref()
        .map(|h| h.poststop.clone())
        .unwrap_or_default();
    warn_hooks("poststop", &poststop, &st);
    locked.remove()
}

/// `ps`: the pids of the container's cgroup.
pub fn ps(g: &Global, id: &str, json: bool, ps_args: &[String]) -> Result<String> {
    let store = Store::new(&g.root);
    let s = store.load(id)?;
    let pids = cg::restore(&s.cgroup)?.pids()?;
    if json {
        return serde_json::to_string(&pids)
            .ctx(|| "encoding pids".into())
            .map(|s| s + "\n");
    }
    let args: Vec<String> = if ps_args.is_empty() {
        vec!["-ef".into()]
    } else {
        ps_args.to_vec()
    };
    let out = std::process::Command::new("ps")
        .args(&args)
        .output()
        .ctx(|| "running ps".into())?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or("");
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| msg("ps output has no PID column"))?;
    let mut res = format!("{header}\n");
    for l in lines {
        if l.split_whitespace()
            .nth(col)
            .and_then(|p| p.parse::<i32>().ok())
            .is_some_and(|p| pids.contains(&p))
        {
            res.push_str(l);
            res.push('\n');
        }
    }
    Ok(res)
}

/// `exec` flags.
pub struct ExecOpts {
    pub id: String,
    pub command: Vec<String>,
    pub process_file: Option<PathBuf>,
    pub console_socket: Option<PathBuf>,
    pub cwd: Option<String>,
    pub env: Vec<String>,
    pub tty: bool,
    pub user: Option<String>,
    pub additional_gids: Vec<u32>,
    pub detach: bool,
    pub pid_file: Option<PathBuf>,
    pub no_new_privs: bool,
    pub caps: Vec<String>,
    pub preserve_fds: u32,
    pub apparmor: Option<String>,
    pub process_label: Option<String>,
    pub ignore_paused: bool,
}

fn exec_process(o: &ExecOpts, s: &Saved) -> Result<Process> {
    if let Some(path) = &o.process_file {
        let bytes = fs::read(path).ctx(|| format!("--process {}", path.display()))?;
        let p = ward_spec::parse_process(&bytes)?;
        ward_spec::validate::validate_process(&p, "process")?;
        return Ok(p);
    }
    if o.command.is_empty() {
        return Err(msg("exec needs a command (or --process FILE)"));
    }
    let mut p = s.spec.process.clone().unwrap_or_default();
    p.args = o.command.clone();
    p.terminal = o.tty;
    p.console_size = None;
    for e in &o.env {
        let key = e.split('=').next().unwrap_or("");
        p.env.retain(|old| old.split('=').next() != Some(key));
        p.env.push(e.clone());
    }
    if let Some(cwd) = &o.cwd {
        p.cwd = cwd.clone();
    }
    if let Some(u) = &o.user {
        let (uid, gid) = match u.split_once(':') {
            Some((a, b)) => (a, Some(b)),
            None => (u.as_str(), None),
        };
        p.user.uid = uid
            .parse()
            .map_err(|_| msg(format!("--user {u:?}: expected UID[:GID] with numbers")))?;
        if let Some(g) = gid {
            p.user.gid = g
                .parse()
                .map_err(|_| msg(format!("--user {u:?}: expected UID[:GID] with numbers")))?;
        }
    }
    if !o.additional_gids.is_empty() {
        p.user.additional_gids = o.additional_gids.clone();
    }
    if o.no_new_privs {
        p.no_new_privileges = true;
    }
    if let Some(a) = &o.apparmor {
        p.apparmor_profile = Some(a.clone());
    }
    if let Some(l) = &o.process_label {
        p.selinux_label = Some(l.clone());
    }
    if !o.caps.is_empty() {
        let c = p.capabilities.get_or_insert_with(Default::default);
        for cap in &o.caps {
            for set in [&mut c.bounding, &mut c.effective, &mut c.permitted] {
                let list = set.get_or_insert_with(Vec::new);
                if !list.contains(cap) {
                    list.push(cap.clone());
                }
            }
        }
    }
    ward_spec::validate::validate_process(&p, "process")?;
    Ok(p)
}

/// `exec`.
pub fn exec(g: &Global, admission: &dyn Admission, o: &ExecOpts) -> Result<i32> {
    let store = Store::new(&g.root);
    let s = store.load(&o.id)?;
    match state::status(&store, &s) {
        Status::Running | Status::Created => {}
        Status::Paused if o.ignore_paused => {}
        other => {
            return Err(msg(format!(
                "cannot exec in container {:?}: it is {}",
                o.id,
                other.as_str()
            )))
        }
    }
    let p = exec_process(o, &s)?;
    let mut spec_view = s.spec.clone();
    spec_view.process = Some(p.clone());
    admission.process(&Subject {
        root: &g.root,
        id: &o.id,
        bundle: &s.bundle,
        spec: &spec_view,
    })?;
    check_unsupported(&spec_view)?;
    let seccomp = compile_seccomp(g.debug, Some(&g.root), &s.spec)?;
    let landlock = landlock_rules(g.debug, &s.spec)?;
    if p.terminal && o.console_socket.is_none() && o.detach {
        return Err(msg("--tty with --detach needs --console-socket"));
    }
    let (console_socket, console_recv) = console_sockets(o.console_socket.as_deref(), p.terminal)?;
    let init_pidfd = ward_sys::process::pidfd_open(s.pid)
        .ctx(|| format!("container {:?} is not running", o.id))?;
    if !state::init_alive(&s) {
        return Err(msg(format!("container {:?} is not running", o.id)));
    }
    let cgroup = cg::restore(&s.cgroup)?;
    let sfd = if o.detach {
        None
    } else {
        Some(foreground::block_signals()?)
    };
    let e = ward_init::ExecSpec {
        init_pidfd: init_pidfd.as_fd(),
        init_pid: s.pid,
        process: &p,
        console_socket,
        preserve_fds: o.preserve_fds,
        seccomp,
        landlock,
    };
    struct Join<'a>(&'a Cgroup, &'a Saved);
    impl ParentSide for Join<'_> {
        fn place(&mut self, pid: i32) -> ward_init::Result<()> {
            self.0
                .add(pid)
                .map_err(|e| ward_init::err("cgroups", e.to_string()))
        }
        fn seccomp_listener(&mut self, pid: i32, listener: OwnedFd) -> ward_init::Result<()> {
            let s = self.1;
            let st = state_json(&s.id, s.pid, Status::Running, &s.bundle, &s.spec);
            send_listener(&s.spec, &st, pid, listener)
        }
        fn create_hooks(&mut self, _pid: i32) -> ward_init::Result<()> {
            Ok(())
        }
    }
    let spawned = ward_init::spawn_exec(&e, &mut Join(&cgroup, &s))?;
    drop(e);
    let console = match console_recv {
        Some(sock) => Some(receive_fd(&sock)?),
        None => None,
    };
    if let Some(pf) = &o.pid_file {
        write_pid_file(pf, spawned.pid)?;
    }
    match sfd {
        None => Ok(0),
        Some(sfd) => foreground::wait(spawned.pid, spawned.pidfd.as_fd(), &sfd, console.as_ref()),
    }
}

/// How strictly an ephemeral container needs its cgroup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupPolicy {
    /// Fail when the cgroup cannot be created or its limits applied.
    Required,
    /// Run without a cgroup when cgroups are not usable (no delegation);
    /// the reason is returned in [`Ephemeral::notes`].
    BestEffort,
}

/// What an ephemeral run applied and noticed.
#[derive(Debug, Default)]
pub struct Ephemeral {
    pub exit_code: i32,
    /// The cgroup directories used, empty when none.
    pub cgroup_paths: Vec<PathBuf>,
    /// Layers that could not be applied in BestEffort mode, and why.
    pub notes: Vec<String>,
}

/// What [`run_ephemeral`] runs, named.
pub struct EphemeralRun<'a, 'l> {
    /// The cgroup's name.
    pub id: &'a str,
    pub spec: &'a Spec,
    /// Absolute host paths.
    pub rootfs: &'a Path,
    pub bundle: &'a Path,
    pub cgroups: CgroupPolicy,
    /// The sandbox-only layers (`ward sandbox`).
    pub extras: ward_init::extras::Extras,
    pub landlock: Option<ward_init::landlock::Rules>,
    /// linux.seccomp compiled ahead of time, which the caller vouches for;
    /// None: compiled here from the spec.
    pub seccomp: Option<Program>,
    /// Receives the listener of a filter with SCMP_ACT_NOTIFY rules.
    pub on_listener: Option<&'l mut dyn FnMut(OwnedFd)>,
}

/// Runs a spec in the foreground without the state store: no id is
/// registered under `--root`, nothing outlives the process (`ward sandbox`).
/// The caller's stdio is the process's stdio (a terminal is proxied when
/// `process.terminal`). The cgroup uses only the hierarchies that carry a
/// limit (`cg::open_minimal`): the caller's spec keeps device nodes out of
/// reach by itself (user namespace, nodev).
pub fn run_ephemeral(run: EphemeralRun<'_, '_>) -> Result<Ephemeral> {
    ward_spec::validate::validate(run.spec, true)?;
    check_unsupported(run.spec)?;
    let process_terminal = run.spec.process.as_ref().is_some_and(|p| p.terminal);
    let mut transient = Transient {
        policy: run.cgroups,
        cgroup: EphemeralCgroup {
            cg: None,
            remove_here: true,
        },
        make_in_place: false,
        notes: Vec::new(),
        // Not with a proxied terminal (its output is drained at the init's
        // exit) nor while learning (threads answer the notifications: no fork).
        cleanup_process: !process_terminal && run.on_listener.is_none(),
        on_listener: run.on_listener,
        cleaner: false,
        signals: None,
    };
    let Launched { spawned, console } = launch(
        Launch {
            container: Container {
                id: run.id,
                spec: run.spec,
                rootfs: run.rootfs,
                bundle: run.bundle,
            },
            debug: false,
            seccomp: run.seccomp,
            seccomp_cache_root: None,
            landlock: LandlockFrom::Caller(run.landlock),
            console_socket: None,
            proxy_terminal: true,
            preserve_fds: 0,
            no_pivot: false,
            no_new_keyring: false,
            extras: run.extras,
        },
        &mut transient,
    )?;
    let sfd = transient
        .signals
        .take()
        .ok_or_else(|| msg("internal: signals not blocked"))?;
    spawned
        .channel
        .send(&ward_init::handshake::ToChild::Start)?;
    if let Some(c) = &transient.cgroup.cg {
        // A `ward` killed by SIGKILL (with its cleanup process) could not
        // remove its cgroup: the next run does (empty ones of dead owners).
        c.remove_stale_ephemeral();
    }
    let exit_code = foreground::wait(spawned.pid, spawned.pidfd.as_fd(), &sfd, console.as_ref())?;
    let report = Ephemeral {
        exit_code,
        cgroup_paths: transient
            .cgroup
            .cg
            .as_ref()
            .map(|c| c.paths())
            .unwrap_or_default(),
        notes: std::mem::take(&mut transient.notes),
    };
    transient.cgroup.remove_here = !transient.cleaner;
    Ok(report)
}

/// An ephemeral container (`ward sandbox`) while it is made and run.
struct Transient<'a> {
    policy: CgroupPolicy,
    cgroup: EphemeralCgroup,
    /// The cgroup is made in `place`, while the init sets up its mounts
    /// (`CgroupJoin`), rather than before the spawn.
    make_in_place: bool,
    /// Layers that could not be applied (BestEffort), and why.
    notes: Vec<String>,
    /// Fork the cleanup process (see [`spawn_cleanup`]).
    cleanup_process: bool,
    on_listener: Option<&'a mut dyn FnMut(OwnedFd)>,
    /// Whether the cleanup process was forked.
    cleaner: bool,
    /// The forwarded signals, blocked right before the clone.
    signals: Option<nix::sys::signalfd::SignalFd>,
}

impl Keeper for Transient<'_> {
    fn admit(&mut self, c: Container<'_>) -> Result<ward_init::rootfs::source::Pins> {
        // The caller's own spec, not judged: its files are pinned now.
        Ok(ward_init::rootfs::source::pin(c.bundle, c.rootfs, c.spec))
    }

    fn make_cgroup(
        &mut self,
        c: Container<'_>,
        join: ward_init::CgroupJoin,
    ) -> Result<(Option<OwnedFd>, Vec<ward_init::CgroupMount>)> {
        // cgroup v2: clone3(CLONE_INTO_CGROUP) puts the init in its cgroup as
        // it is born, so the cgroup is made first. A write to cgroup.procs
        // instead takes the global threadgroup lock for writing, which can
        // wait for an RCU grace period. Elsewhere (v1, hybrid) the cgroup is
        // made, limited and joined while the init sets up its mounts, when
        // CgroupJoin::decide grants it: its ~0.2 ms of mkdir and writes are
        // off the critical path.
        self.make_in_place = join.during_setup();
        if !self.make_in_place {
            self.cgroup.cg = make_ephemeral_cgroup(c.spec, c.id, self.policy, &mut self.notes)?;
        }
        match &self.cgroup.cg {
            Some(cg) => Ok((cg.open_v2_dir()?, cg.mounts())),
            None => Ok((None, Vec::new())),
        }
    }

    fn start_signal(&mut self) -> Result<StartSignal> {
        Ok(StartSignal::Socket)
    }

    fn parent_side<'s>(
        &'s mut self,
        c: Container<'s>,
        cloned_into: bool,
    ) -> Result<Box<dyn ParentSide + 's>> {
        // Forwarded from the clone on: no signal is lost in between.
        self.signals = Some(foreground::block_signals()?);
        Ok(Box::new(Place {
            cgroup: &mut self.cgroup,
            join: !cloned_into,
            make: self.make_in_place.then_some((c.spec, c.id, self.policy)),
            notes: &mut self.notes,
            on_listener: self.on_listener.take(),
            namespaces: self.cleanup_process.then(Vec::new),
            cleaner: &mut self.cleaner,
        }))
    }
}

/// `run_ephemeral`'s side of the handshake: makes the cgroup when it is
/// made during the init's set-up, and puts the init in it.
struct Place<'a, 'c> {
    cgroup: &'a mut EphemeralCgroup,
    /// Whether the init must be added (false: cloned into it already).
    join: bool,
    /// Make the cgroup now: (spec, id, policy).
    make: Option<(&'a Spec, &'a str, CgroupPolicy)>,
    notes: &'a mut Vec<String>,
    on_listener: Option<&'c mut dyn FnMut(OwnedFd)>,
    /// The init's mount and network namespaces, for the cleanup process
    /// (None: no cleanup process).
    namespaces: Option<Vec<OwnedFd>>,
    /// Set when the cleanup process was forked.
    cleaner: &'a mut bool,
}

impl ParentSide for Place<'_, '_> {
    fn cloned(&mut self, pid: i32) -> ward_init::Result<()> {
        // Now, while the init is still dumpable (an unprivileged `ward` may
        // open its /proc files only then). Best effort: without them the
        // init's exit tears the namespaces down, as it would anyway.
        if let Some(held) = self.namespaces.as_mut() {
            for ns in ["mnt", "net"] {
                if let Ok(f) = std::fs::File::open(format!("/proc/{pid}/ns/{ns}")) {
                    held.push(OwnedFd::from(f));
                }
            }
        }
        Ok(())
    }
    fn place(&mut self, pid: i32) -> ward_init::Result<()> {
        let sandbox_err = |e: crate::Error| ward_init::err("cgroups", e.to_string());
        if let Some((spec, id, policy)) = self.make.take() {
            self.cgroup.cg =
                make_ephemeral_cgroup(spec, id, policy, self.notes).map_err(sandbox_err)?;
        }
        if let (Some(c), true) = (&self.cgroup.cg, self.join) {
            c.add(pid).map_err(sandbox_err)?;
        }
        // The cleanup process is forked here, while the init sets up its
        // mounts and this process would only wait.
        if let Some(held) = self.namespaces.take() {
            if let Ok(init) = ward_sys::process::pidfd_open(pid) {
                *self.cleaner = spawn_cleanup(self.cgroup.cg.as_ref(), init, held);
            }
        }
        Ok(())
    }
    fn create_hooks(&mut self, _pid: i32) -> ward_init::Result<()> {
        Ok(())
    }
    fn seccomp_listener(&mut self, _pid: i32, listener: OwnedFd) -> ward_init::Result<()> {
        match self.on_listener.as_mut() {
            Some(f) => {
                f(listener);
                Ok(())
            }
            None => Err(ward_init::err(
                "seccomp",
                "SCMP_ACT_NOTIFY: nothing here answers notifications (remove it from the profile)",
            )),
        }
    }
}

/// The cgroup of an ephemeral run, removed when dropped (set-up failed,
/// or the run ended) unless a cleaner process was left in charge.
struct EphemeralCgroup {
    cg: Option<Cgroup>,
    remove_here: bool,
}

impl Drop for EphemeralCgroup {
    fn drop(&mut self) {
        if let (Some(c), true) = (&self.cg, self.remove_here) {
            c.discard();
        }
    }
}

/// Opens, creates and limits the cgroup of an ephemeral run; `None` (and a
/// note) when cgroups are not usable and the policy allows running without.
fn make_ephemeral_cgroup(
    spec: &Spec,
    id: &str,
    policy: CgroupPolicy,
    notes: &mut Vec<String>,
) -> Result<Option<Cgroup>> {
    let c = match cg::open_minimal(spec, id).and_then(|c| c.create(spec).map(|()| c)) {
        Ok(c) => c,
        Err(e) if policy == CgroupPolicy::BestEffort => {
            notes.push(format!("no cgroup: {e}"));
            return Ok(None);
        }
        Err(e) => return Err(e),
    };
    match c.apply(spec) {
        Ok(()) => Ok(Some(c)),
        Err(e) => {
            let _ = c.destroy();
            if policy == CgroupPolicy::Required {
                return Err(e);
            }
            notes.push(format!("cgroup limits not applied: {e}"));
            Ok(None)
        }
    }
}

/// Forks the cleanup process. The sandbox's mount and network namespaces
/// (`namespaces`) are held by it, so the init's exit does not tear them
/// down: the last reference to a mount namespace unmounts everything and
/// waits for an RCU grace period (~0.3 ms here), a network namespace's
/// cleanup work preempts the exiting init, and `ward` would wait for both.
/// Once the init (`init`) and this process have exited, the cleanup process
/// removes the cgroup and exits, dropping the namespaces. It runs at the
/// lowest priority and waits for `ward` too, so that it never takes a CPU
/// from the sandbox or from `ward` finishing. It holds nothing else of ours
/// (stdio included: a reader waiting for EOF would wait for it too),
/// ignores the signals this process forwards (they stay blocked), and
/// outlives a `ward` killed by SIGKILL: that cgroup goes too. False when it
/// could not be forked (the caller removes the cgroup itself).
fn spawn_cleanup(c: Option<&Cgroup>, init: OwnedFd, namespaces: Vec<OwnedFd>) -> bool {
    let Ok(ward) = ward_sys::process::pidfd_open(std::process::id() as i32) else {
        return false;
    };
    // Single-threaded here: no listener threads (learning is excluded).
    match ward_sys::fork::fork() {
        Ok(ward_sys::fork::Fork::Child) => {
            let _ = ward_sys::process::set_name(c"ward-cleanup");
            let _ = ward_sys::process::set_nice(19);
            let mut keep = vec![init.as_fd(), ward.as_fd()];
            keep.extend(namespaces.iter().map(|f| f.as_fd()));
            // Holding more than these if close_range fails costs little;
            // removing the cgroup before the sandbox is gone would kill it.
            let _ = ward_sys::process::close_fds_except(&keep);
            wait_readable(ward.as_fd());
            wait_readable(init.as_fd());
            if let Some(c) = c {
                c.discard();
            }
            ward_sys::process::exit_now(0)
        }
        Ok(ward_sys::fork::Fork::Parent(_)) => true,
        Err(_) => false,
    }
}

/// Waits until `fd` (a pidfd: its process has exited) is readable.
fn wait_readable(fd: std::os::fd::BorrowedFd<'_>) {
    loop {
        let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            _ => return,
        }
    }
}

//! `ward sandbox -- CMD`: an untrusted host command in a hardened sandbox,
//! no image needed. This module turns the flags into an OCI [`Spec`] plus
//! the sandbox-only layers ([`Extras`]) and runs it with
//! [`crate::lifecycle::run_ephemeral`] — the same pipeline as `ward-oci`, no
//! second implementation of namespaces, mounts, capabilities or seccomp.
//!
//! Every default, and the threat it stops, is listed by [`Plan::layers`]
//! (`ward sandbox --explain`) and in docs/sandbox.md.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use ward_init::extras::{Extras, Reaper};
use ward_spec::resources::{LinuxCpu, LinuxMemory, LinuxPids, LinuxResources};
use ward_spec::seccomp::{Action, LinuxSeccomp, Syscall};
use ward_spec::{
    Capabilities, IdMapping, Linux, Mount, Namespace, NamespaceType, Process, Rlimit, Root, Spec,
    User,
};

#[path = "sandbox_seccomp.rs"]
mod seccomp;
pub use seccomp::seccomp_profile;

use crate::lifecycle::{CgroupPolicy, Ephemeral};
use crate::{msg, Error, Result};

/// Default `--pids`: enough for a parallel build, a wall for a fork bomb.
pub const DEFAULT_PIDS: i64 = 1024;

/// Environment variables kept from the caller by default.
pub const ENV_ALLOWLIST: &[&str] = &[
    "PATH",
    "HOME",
    "TERM",
    "LANG",
    "LANGUAGE",
    "USER",
    "LOGNAME",
    "TZ",
    "COLORTERM",
    "NO_COLOR",
];

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Directories hidden behind an empty tmpfs by default: unix sockets stay
/// connectable on a read-only mount (EROFS does not apply to connect(2)),
/// and these are where host daemons keep theirs (docker.sock, containerd,
/// systemd, dbus, the user's /run/user/UID) or their state.
pub const DEFAULT_HIDDEN: &[&str] = &[
    "/run",
    "/var/run",
    "/var/lib/docker",
    "/var/lib/containerd",
    "/var/lib/lxd",
    "/var/snap/lxd",
];

/// The host uid and gid that root in a sandbox started by root is
/// (nobody/nogroup): an identity that owns no file, so that a file only
/// root may read (/etc/ssl/private/*.key, ward's audit log, a 0600 file
/// in a project) is closed to the command by its permissions, not by a
/// list of paths to mask. `--keep-root` keeps the host's root instead.
pub const ROOT_CALLER_HOST_ID: u32 = 65534;

/// Files that only root may read, read as empty under `--keep-root` (root
/// without capabilities owns them); masked in every mode, as a second wall.
const SECRET_FILES: &[&str] = &[
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/shadow-",
    "/etc/gshadow-",
];

/// /proc and /sys entries that leak host memory, keys or hardware, masked
/// as every OCI runtime does.
const MASKED: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// /proc entries that change the host kernel; read-only. Writing sysctls is
/// checked against the *global* root uid, which a sandbox started by root
/// has under `--keep-root`.
const READONLY: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The flags of `ward sandbox`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub command: Vec<String>,
    pub rw: Vec<PathBuf>,
    pub ro: Vec<PathBuf>,
    pub hide: Vec<PathBuf>,
    pub tmpfs: Vec<PathBuf>,
    pub net: bool,
    /// Bytes.
    pub memory: Option<i64>,
    /// None = [`DEFAULT_PIDS`]; Some(0) = no limit.
    pub pids: Option<i64>,
    pub cpus: Option<f64>,
    pub require_limits: bool,
    /// Started by root: keep the host's root as the sandbox's uid instead
    /// of [`ROOT_CALLER_HOST_ID`].
    pub keep_root: bool,
    /// `K=V`.
    pub env: Vec<String>,
    pub keep_env: Vec<String>,
    pub timeout: Option<Duration>,
    pub cwd: Option<PathBuf>,
    /// Proxy a new pty (when ward's stdin and stdout are terminals).
    pub tty: bool,
    /// `--seccomp FILE`: this profile instead of ward's default one.
    pub seccomp: Option<LinuxSeccomp>,
    /// `--learn`: record the syscalls the command makes (see [`learn`]).
    pub learn: bool,
}

/// What ward knows about its caller (the tests build one by hand).
#[derive(Debug, Clone)]
pub struct Host {
    pub uid: u32,
    pub gid: u32,
    pub cwd: PathBuf,
    pub home: Option<PathBuf>,
    pub env: Vec<(String, String)>,
    /// Landlock ABI of the kernel (0: none).
    pub landlock_abi: u32,
}

impl Host {
    pub fn current() -> Result<Host> {
        let cwd = std::env::current_dir().map_err(|e| {
            msg(format!(
                "the current directory: {e} (cd to an existing one)"
            ))
        })?;
        let env: Vec<(String, String)> = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        let home = env
            .iter()
            .find(|(k, _)| k == "HOME")
            .map(|(_, v)| PathBuf::from(v));
        Ok(Host {
            uid: nix::unistd::getuid().as_raw(),
            gid: nix::unistd::getgid().as_raw(),
            cwd,
            home,
            env,
            landlock_abi: ward_sys::landlock::abi_version(),
        })
    }
}

/// One layer: what, with which values, and the threat it stops.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Layer {
    pub layer: &'static str,
    pub detail: String,
    pub why: &'static str,
}

/// A sandbox ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    pub spec: Spec,
    pub extras: Extras,
    pub landlock: Option<ward_init::landlock::Rules>,
    pub cgroups: CgroupPolicy,
    pub layers: Vec<Layer>,
    pub notes: Vec<String>,
    /// linux.seccomp is [`seccomp_profile`] unchanged (no --seccomp, no
    /// --learn): the program bins/ward/build.rs compiled from the same
    /// function applies.
    pub default_seccomp: bool,
    /// Root's sandbox run as this host uid and gid ([`ROOT_CALLER_HOST_ID`]).
    pub remapped_to: Option<u32>,
}

/// Parses a size: bytes, or with a k/m/g/t suffix (binary units).
pub fn parse_size(s: &str) -> std::result::Result<i64, String> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size (examples: 512m, 2g, 1048576)"))?;
    let bytes = n * mult as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < i64::MAX as f64) {
        return Err(format!("{s:?} is not a positive size"));
    }
    Ok(bytes as i64)
}

fn path_str<'a>(flag: &str, p: &'a Path) -> Result<&'a str> {
    p.to_str()
        .ok_or_else(|| msg(format!("{flag} {}: the path is not UTF-8", p.display())))
}

/// An existing host path, absolute and with symlinks resolved.
fn host_path(flag: &str, p: &Path, cwd: &Path) -> Result<PathBuf> {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        cwd.join(p)
    };
    std::fs::canonicalize(&abs).map_err(|e| {
        msg(format!(
            "{flag} {}: {e}: give an existing path (create it first) or drop the flag",
            p.display()
        ))
    })
}

fn depth(p: &str) -> usize {
    Path::new(p)
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count()
}

fn under(p: &Path, dir: &Path) -> bool {
    p.starts_with(dir)
}

fn opts(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn tmpfs(dst: &str, options: &[&str]) -> Mount {
    Mount {
        destination: dst.into(),
        kind: Some("tmpfs".into()),
        source: Some("tmpfs".into()),
        options: opts(options),
        ..Mount::default()
    }
}

/// `idmapped`: with the sandbox's id maps, submounts too (`ridmap`).
fn bind(path: &str, writable: bool, idmapped: bool) -> Mount {
    let mut options = opts(&[
        "rbind",
        if writable { "rw" } else { "ro" },
        "nosuid",
        "nodev",
    ]);
    if idmapped {
        options.push("ridmap".into());
    }
    Mount {
        destination: path.into(),
        kind: Some("bind".into()),
        source: Some(path.into()),
        options,
        ..Mount::default()
    }
}

/// Root's sandbox mounts as the host's nobody ([`ROOT_CALLER_HOST_ID`]):
/// a `--ro`/`--rw` path below a directory that only root may enter (and
/// that no hidden path replaces with a tmpfs) cannot be reached. Said
/// here, with the fix, rather than as EACCES from the init.
/// With `itself`, `path` must be enterable too (the working directory).
/// Below an id-mapped bind (`mapped`), root's directories are the
/// sandbox's root's.
fn reachable_by_nobody(
    path: &str,
    hidden: &[PathBuf],
    mapped: &[&str],
    itself: bool,
) -> Result<()> {
    use std::os::unix::fs::MetadataExt;
    let id = ROOT_CALLER_HOST_ID;
    for dir in Path::new(path).ancestors().skip(usize::from(!itself)) {
        if hidden.iter().any(|h| under(dir, h)) {
            // Made anew inside the hidden path's tmpfs.
            continue;
        }
        let Ok(m) = std::fs::metadata(dir) else {
            continue;
        };
        let owner = if mapped.iter().any(|b| under(dir, Path::new(b))) {
            0
        } else {
            id
        };
        let search = m.mode() & 0o001 != 0
            || (m.uid() == owner && m.mode() & 0o100 != 0)
            || (m.gid() == owner && m.mode() & 0o010 != 0);
        if !search {
            return Err(msg(format!(
                "{path}: {} (mode {:o}) lets only its owner in, and a sandbox started by root is the host's nobody (uid {id}): give --keep-root to run as root without capabilities, or open the directory to others",
                dir.display(),
                m.mode() & 0o7777
            )));
        }
    }
    Ok(())
}

/// A user mount of the plan, before ordering.
struct UserMount {
    path: String,
    kind: &'static str,
}

/// Turns the flags into a spec, the sandbox-only layers and the report.
pub fn plan(o: &Options, host: &Host) -> Result<Plan> {
    if !matches!(o.command.first(), Some(a) if !a.is_empty()) {
        return Err(msg(
            "no command given: ward sandbox [FLAGS] -- CMD [ARGS...]",
        ));
    }
    let mut layers = Vec::new();
    let mut notes = Vec::new();
    let mut add = |layer: &'static str, detail: String, why: &'static str| {
        layers.push(Layer { layer, detail, why })
    };

    // Namespaces and identity.
    let mut namespaces = vec![
        NamespaceType::User,
        NamespaceType::Pid,
        NamespaceType::Mount,
        NamespaceType::Ipc,
        NamespaceType::Uts,
        NamespaceType::Cgroup,
        NamespaceType::Time,
    ];
    if !o.net {
        namespaces.push(NamespaceType::Network);
    }
    let names: Vec<&str> = namespaces.iter().map(|n| n.oci_name()).collect();
    add(
        "namespaces",
        format!("new {}", names.join(", ")),
        "the command sees no host process, IPC object, hostname, cgroup tree or clock to change",
    );
    if o.net {
        add(
            "network",
            "host network shared (--net)".into(),
            "opt-in: the command can reach the network and the host's loopback services",
        );
    } else {
        add(
            "network",
            "new network namespace with only lo (down)".into(),
            "no exfiltration, no access to services listening on the host, not even on 127.0.0.1",
        );
    }
    // Root's sandbox is the host's nobody, seen as root inside (see
    // ROOT_CALLER_HOST_ID); the binds asked for are id-mapped so that what
    // root owns there stays the sandbox's to read and write.
    let remap = host.uid == 0 && !o.keep_root;
    let host_ids = if remap {
        (ROOT_CALLER_HOST_ID, ROOT_CALLER_HOST_ID)
    } else {
        (host.uid, host.gid)
    };
    if remap {
        add(
            "user",
            format!("uid and gid 0 inside are the host's {ROOT_CALLER_HOST_ID} (nobody/nogroup), no supplementary groups; --rw/--ro paths id-mapped: what the host's root owns there is the sandbox's root's"),
            "files only root may read (private keys, ward's audit log, 0600 files) stay closed by their permissions; --keep-root to run as the host's root",
        );
    } else {
        add(
            "user",
            format!(
                "uid {0} and gid {1} mapped to themselves (one-line maps), {2}",
                host.uid,
                host.gid,
                if host.uid == 0 {
                    "no supplementary groups (--keep-root)"
                } else {
                    "supplementary groups kept but unmapped (setgroups is denied in an unprivileged user namespace)"
                }
            ),
            "the command stays who it was, with no privilege over the host's ids",
        );
    }

    // Filesystem.
    let mut mounts = vec![
        Mount {
            destination: "/proc".into(),
            kind: Some("proc".into()),
            source: Some("proc".into()),
            options: opts(&["nosuid", "noexec", "nodev"]),
            ..Mount::default()
        },
        tmpfs(
            "/dev",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        Mount {
            destination: "/dev/pts".into(),
            kind: Some("devpts".into()),
            source: Some("devpts".into()),
            options: opts(&[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
            ]),
            ..Mount::default()
        },
        tmpfs("/dev/shm", &["nosuid", "noexec", "nodev", "mode=1777"]),
    ];
    add(
        "rootfs",
        "the host's / recursively read-only, nosuid, nodev (every submount)".into(),
        "the command can read the host but not change it; setuid binaries do not elevate",
    );
    add(
        "/proc",
        "fresh procfs of the new pid namespace".into(),
        "only the sandbox's processes are visible; the host's /proc is covered",
    );
    add(
        "/dev",
        "tmpfs with null, zero, full, random, urandom, tty, a private devpts and /dev/shm".into(),
        "no host disk, memory or kernel device is reachable",
    );
    if o.net {
        mounts.push(tmpfs(
            "/sys",
            &["ro", "nosuid", "nodev", "noexec", "mode=755"],
        ));
        add(
            "/sys",
            "empty read-only tmpfs (with --net a fresh sysfs cannot be mounted)".into(),
            "the host's /sys and its submounts (cgroupfs, debugfs, tracefs, bpf) are not reachable",
        );
    } else {
        mounts.push(Mount {
            destination: "/sys".into(),
            kind: Some("sysfs".into()),
            source: Some("sysfs".into()),
            options: opts(&["ro", "nosuid", "nodev", "noexec"]),
            ..Mount::default()
        });
        add(
            "/sys",
            "fresh read-only sysfs, no submounts".into(),
            "the host's cgroupfs, debugfs, tracefs and bpf mounts are not reachable",
        );
    }
    let mut writable: Vec<String> = vec!["/dev".into()];
    let mut hidden: Vec<PathBuf> = Vec::new();
    for t in ["/tmp", "/var/tmp"] {
        if Path::new(t).is_dir() {
            mounts.push(tmpfs(t, &["nosuid", "nodev", "mode=1777"]));
            writable.push(t.into());
            hidden.push(t.into());
        }
    }
    add(
        "/tmp",
        "private tmpfs on /tmp and /var/tmp".into(),
        "the host's temporary files and sockets there (X11, ssh-agent) are not visible",
    );
    let mut hid = Vec::new();
    for h in DEFAULT_HIDDEN {
        let Ok(real) = std::fs::canonicalize(h) else {
            continue;
        };
        if !real.is_dir() || hidden.iter().any(|x| x == &real) {
            continue;
        }
        let s = path_str("default hide", &real)?.to_string();
        mounts.push(tmpfs(&s, &["nosuid", "nodev", "noexec", "mode=755"]));
        writable.push(s.clone());
        hid.push(s);
        hidden.push(real);
    }
    add(
        "hide",
        format!("empty tmpfs over {}", hid.join(", ")),
        "unix sockets stay connectable on a read-only mount: docker.sock, containerd, dbus would be a way out",
    );
    if let Some(home) = host
        .home
        .as_ref()
        .and_then(|h| std::fs::canonicalize(h).ok())
    {
        // Also when $HOME lies in a hidden path (a home under /tmp): it is
        // then made inside that tmpfs, so ~ exists and takes writes.
        if home.is_dir() && home != Path::new("/") && !hidden.iter().any(|h| h == &home) {
            let s = path_str("$HOME", &home)?.to_string();
            mounts.push(tmpfs(&s, &["nosuid", "nodev", "mode=700"]));
            writable.push(s.clone());
            add(
                "$HOME",
                format!("{s} replaced by an empty writable tmpfs (--ro {s} to see it)"),
                "keys, tokens and history in $HOME (~/.ssh, ~/.aws, ~/.config) stay unread; writes to ~ are discarded",
            );
            hidden.push(home);
        }
    }

    // The user's mounts, parents before children.
    let mut user: Vec<UserMount> = Vec::new();
    let mut masked: Vec<String> = MASKED.iter().map(|s| s.to_string()).collect();
    for (flag, list, kind) in [
        ("--tmpfs", &o.tmpfs, "tmpfs"),
        ("--hide", &o.hide, "hide"),
        ("--ro", &o.ro, "ro"),
        ("--rw", &o.rw, "rw"),
    ] {
        for p in list {
            let real = host_path(flag, p, &host.cwd)?;
            let s = path_str(flag, &real)?.to_string();
            if real == Path::new("/") {
                return Err(msg(format!(
                    "{flag} /: refusing to apply it to the whole host root; name a directory"
                )));
            }
            if (kind == "tmpfs" || kind == "hide") && !real.is_dir() {
                if kind == "hide" {
                    masked.push(s.clone());
                    continue;
                }
                return Err(msg(format!(
                    "--tmpfs {}: not a directory; a tmpfs can only cover a directory",
                    p.display()
                )));
            }
            user.push(UserMount { path: s, kind });
        }
    }
    let cwd = match &o.cwd {
        Some(c) => host_path("--cwd", c, &host.cwd)?,
        None => host.cwd.clone(),
    };
    let cwd_s = path_str("the current directory", &cwd)?.to_string();
    let covered = user
        .iter()
        .any(|u| (u.kind == "ro" || u.kind == "rw") && under(&cwd, Path::new(&u.path)));
    let cwd_writable = user
        .iter()
        .any(|u| u.kind == "rw" && under(&cwd, Path::new(&u.path)));
    // The cwd is shown read-only when it lies below a hidden directory
    // (~/project); when it *is* one ($HOME, /tmp, /run) it stays hidden, or
    // starting ward from ~ would expose all of ~/.ssh.
    let cwd_state = if cwd_writable {
        "writable (--rw)"
    } else if covered {
        "read-only (--ro)"
    } else if hidden.iter().any(|h| h == &cwd) {
        "hidden like its directory, the command starts in an empty one (--ro . or --rw . to see it)"
    } else {
        if hidden.iter().any(|h| under(&cwd, h)) {
            user.push(UserMount {
                path: cwd_s.clone(),
                kind: "ro",
            });
        }
        "read-only (--rw . to write)"
    };
    add(
        "cwd",
        format!("{cwd_s}: {cwd_state}"),
        "the command works where it was started but changes nothing there unless allowed",
    );
    if remap {
        let mapped: Vec<&str> = user
            .iter()
            .filter(|u| u.kind == "ro" || u.kind == "rw")
            .map(|u| u.path.as_str())
            .collect();
        for u in &user {
            let above: Vec<&str> = mapped.iter().copied().filter(|b| *b != u.path).collect();
            reachable_by_nobody(&u.path, &hidden, &above, false)?;
        }
        if !covered {
            reachable_by_nobody(&cwd_s, &hidden, &mapped, true)?;
        }
    }
    user.sort_by_key(|u| depth(&u.path));
    for u in &user {
        match u.kind {
            "tmpfs" => {
                mounts.push(tmpfs(&u.path, &["nosuid", "nodev", "mode=755"]));
                writable.push(u.path.clone());
                add(
                    "--tmpfs",
                    format!("{} empty writable tmpfs", u.path),
                    "scratch space that vanishes with the sandbox",
                );
            }
            "hide" => {
                mounts.push(tmpfs(&u.path, &["nosuid", "nodev", "noexec", "mode=755"]));
                writable.push(u.path.clone());
                add(
                    "--hide",
                    format!("{} covered by an empty tmpfs", u.path),
                    "asked for: its content is not visible",
                );
            }
            "ro" => {
                mounts.push(bind(&u.path, false, remap));
                add(
                    "--ro",
                    format!("{} bound read-only", u.path),
                    "visible, not writable",
                );
            }
            _ => {
                mounts.push(bind(&u.path, true, remap));
                writable.push(u.path.clone());
                add(
                    "--rw",
                    format!("{} bound read-write", u.path),
                    "asked for: the only host paths the command can change",
                );
            }
        }
    }
    // Only those the caller can read: the others are closed to the sandbox
    // by their permissions already (and each mask is a mount to make).
    let readable = |f: &str| nix::unistd::access(f, nix::unistd::AccessFlags::R_OK).is_ok();
    for f in SECRET_FILES {
        if readable(f) {
            masked.push(f.to_string());
        }
    }
    if let Ok(dir) = std::fs::read_dir("/etc/ssh") {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let path = format!("/etc/ssh/{name}");
            if name.starts_with("ssh_host_") && name.ends_with("_key") && readable(&path) {
                masked.push(path);
            }
        }
    }
    add(
        "masked",
        "/proc/kcore, /proc/keys, /sys/firmware... and root-only secrets (/etc/shadow, ssh host keys) read as empty".into(),
        "kernel memory, keys and password hashes, even for a sandbox that keeps the host's root (--keep-root)",
    );
    add(
        "readonly",
        READONLY.join(", "),
        "sysctls and sysrq are checked against the global root uid, not capabilities",
    );

    // Environment.
    let mut env: Vec<String> = Vec::new();
    let set = |k: &str, v: &str, env: &mut Vec<String>| {
        env.retain(|e| e.split_once('=').map(|(ek, _)| ek) != Some(k));
        env.push(format!("{k}={v}"));
    };
    for (k, v) in &host.env {
        if ENV_ALLOWLIST.contains(&k.as_str()) || k.starts_with("LC_") {
            set(k, v, &mut env);
        }
    }
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        set("PATH", DEFAULT_PATH, &mut env);
    }
    for k in &o.keep_env {
        if k.is_empty() || k.contains('=') {
            return Err(msg(format!(
                "--keep-env {k:?}: give a variable name (use --env K=V to set a value)"
            )));
        }
        match host.env.iter().find(|(hk, _)| hk == k) {
            Some((_, v)) => set(k, v, &mut env),
            None => notes.push(format!(
                "--keep-env {k}: not set in the caller's environment"
            )),
        }
    }
    for kv in &o.env {
        match kv.split_once('=') {
            Some((k, v)) if !k.is_empty() && !kv.contains('\0') => set(k, v, &mut env),
            _ => {
                return Err(msg(format!(
                    "--env {kv:?}: expected KEY=VALUE (e.g. --env DEBUG=1)"
                )))
            }
        }
    }
    let names: Vec<&str> = env.iter().filter_map(|e| e.split('=').next()).collect();
    add(
        "env",
        format!("cleared, kept: {}", names.join(" ")),
        "tokens and credentials in the caller's environment (AWS_*, GITHUB_TOKEN, SSH_AUTH_SOCK) stay out",
    );

    // Privileges.
    let empty = Some(Vec::new());
    let caps = Capabilities {
        bounding: empty.clone(),
        effective: empty.clone(),
        inheritable: empty.clone(),
        permitted: empty.clone(),
        ambient: empty,
    };
    add(
        "capabilities",
        "none: bounding, permitted, effective, inheritable and ambient sets empty".into(),
        "no privileged operation, even inside the sandbox's own namespaces",
    );
    add(
        "no_new_privs",
        "set".into(),
        "setuid/setgid binaries and file capabilities grant nothing",
    );
    let default_seccomp = o.seccomp.is_none() && !o.learn;
    let seccomp = match (&o.seccomp, o.learn) {
        (Some(_), true) => return Err(msg(
            "--learn and --seccomp: learn with the default profile, then run with --seccomp FILE",
        )),
        (Some(p), false) => {
            check_given_profile(p)?;
            add(
                "seccomp",
                format!(
                    "the profile given with --seccomp ({} rules, default {:?})",
                    p.syscalls.len(),
                    p.default_action
                ),
                "only the syscalls the profile allows",
            );
            p.clone()
        }
        (None, true) => {
            add(
                "seccomp",
                "ward's default profile, its allowed syscalls reported to ward as they are made (SCMP_ACT_NOTIFY, then CONTINUE)".into(),
                "learning only: CONTINUE lets the syscall run as if allowed",
            );
            learning_profile(&seccomp_profile())
        }
        (None, false) => {
            let p = seccomp_profile();
            add(
                "seccomp",
                format!(
                    "ward's default profile ({} rules, default EPERM), native ABI only (no 32-bit syscalls), TIOCSTI/TIOCLINUX denied",
                    p.syscalls.len()
                ),
                "no mount, unshare, setns, ptrace, bpf, keyctl, io_uring...; no typing into the caller's terminal",
            );
            p
        }
    };
    let landlock = if host.landlock_abi > 0 {
        add(
            "landlock",
            format!(
                "ABI {} (requested up to 6): writes only beneath {}{}",
                host.landlock_abi,
                writable.join(", "),
                if host.landlock_abi >= 6 {
                    "; abstract unix sockets and signals scoped to the sandbox"
                } else {
                    ""
                }
            ),
            "a second, mount-independent wall around the writable paths",
        );
        Some(ward_init::landlock::Rules {
            fs: Some(ward_init::landlock::FsRights::Write),
            paths: writable
                .iter()
                .map(|w| ward_init::landlock::PathRule {
                    path: w.clone(),
                    access: ward_init::landlock::PathAccess::ReadWrite,
                    origin: "writable path".into(),
                })
                .collect(),
            scope: true,
            stdio: true,
            required: true,
            ..Default::default()
        })
    } else {
        notes.push("Landlock is not available on this kernel: writes are limited by the read-only mounts only".into());
        None
    };

    // Resources.
    let pids = o.pids.unwrap_or(DEFAULT_PIDS);
    if pids < 0 {
        return Err(msg(format!(
            "--pids {pids}: give a positive number (0 = no limit)"
        )));
    }
    let mut r = LinuxResources::default();
    let mut limits = Vec::new();
    let mut rlimits = Vec::new();
    if pids > 0 {
        r.pids = Some(LinuxPids { limit: Some(pids) });
        limits.push(format!("pids.max={pids}"));
        rlimits.push(Rlimit {
            kind: "RLIMIT_NPROC".into(),
            hard: pids as u64,
            soft: pids as u64,
        });
    }
    if let Some(m) = o.memory {
        r.memory = Some(LinuxMemory {
            limit: Some(m),
            ..LinuxMemory::default()
        });
        limits.push(format!("memory={m} bytes"));
    }
    if let Some(c) = o.cpus {
        if !(c.is_finite() && c > 0.0) {
            return Err(msg(format!(
                "--cpus {c}: give a positive number (e.g. 0.5, 2)"
            )));
        }
        let period = 100_000u64;
        r.cpu = Some(LinuxCpu {
            quota: Some((c * period as f64).round().max(1000.0) as i64),
            period: Some(period),
            ..LinuxCpu::default()
        });
        limits.push(format!("cpu={c}"));
    }
    let cgroups = if o.require_limits {
        CgroupPolicy::Required
    } else {
        CgroupPolicy::BestEffort
    };
    add(
        "cgroups",
        format!(
            "{} ({})",
            limits.join(", "),
            if o.require_limits {
                "required"
            } else {
                "best effort: a note says when they cannot be applied"
            }
        ),
        "a fork bomb or a memory hog stops at the sandbox, not at the host",
    );
    if pids > 0 {
        add(
            "rlimits",
            format!("RLIMIT_NPROC={pids}"),
            "counted per user namespace: stops fork bombs even where cgroups are not delegated",
        );
    }
    let reaper = Reaper { timeout: o.timeout };
    add(
        "process",
        format!(
            "runs as pid 2 under a pid-1 reaper that forwards signals{}; dies with ward (PR_SET_PDEATHSIG); stdio {}",
            o.timeout
                .map(|t| format!(", kills everything after --timeout {}s (exit 124)", t.as_secs_f64()))
                .unwrap_or_default(),
            if o.tty {
                "on a new pty proxied by ward"
            } else {
                "inherited, fds 3+ closed"
            }
        ),
        "Ctrl-C and kill reach the command; nothing outlives the sandbox",
    );

    let uid_map = vec![IdMapping {
        container_id: host.uid,
        host_id: host_ids.0,
        size: 1,
    }];
    let gid_map = vec![IdMapping {
        container_id: host.gid,
        host_id: host_ids.1,
        size: 1,
    }];
    let spec = Spec {
        oci_version: "1.2.0".into(),
        process: Some(Process {
            terminal: o.tty,
            user: User {
                uid: host.uid,
                gid: host.gid,
                ..User::default()
            },
            args: o.command.clone(),
            env,
            cwd: cwd_s,
            capabilities: Some(caps),
            rlimits,
            no_new_privileges: true,
            ..Process::default()
        }),
        root: Some(Root {
            path: "/".into(),
            readonly: true,
        }),
        hostname: Some("sandbox".into()),
        mounts,
        linux: Some(Linux {
            uid_mappings: uid_map,
            gid_mappings: gid_map,
            resources: Some(r),
            namespaces: namespaces
                .into_iter()
                .map(|kind| Namespace { kind, path: None })
                .collect(),
            seccomp: Some(seccomp),
            masked_paths: masked,
            readonly_paths: READONLY.iter().map(|s| s.to_string()).collect(),
            ..Linux::default()
        }),
        ..Spec::default()
    };
    Ok(Plan {
        spec,
        extras: Extras {
            rootfs_recursive_readonly: true,
            // Remapped, the init becomes uid 0 of its namespace (the
            // host's nobody) before it mounts: its tmpfs are then the
            // sandbox root's (the host's root is not in the maps).
            keep_ids: !remap,
            keep_death_signal: true,
            reaper: Some(reaper),
            join_cgroup_during_setup: true,
        },
        landlock,
        cgroups,
        layers,
        notes,
        default_seccomp,
        remapped_to: remap.then_some(ROOT_CALLER_HOST_ID),
    })
}

/// The caller's stdio pipes, lent to a remapped sandbox for the run.
///
/// Why: a command re-opens its stdio by name (`> /dev/stdout`,
/// `/proc/self/fd/1`), which checks the permissions of what fd 1 is; the
/// caller's pipes are root's, mode 0600, and root in the sandbox is the
/// host's nobody. Only anonymous pipes (`pipe:[N]`, no file on any disk,
/// reachable by name only by who can ptrace a holder) are handed over, and
/// given back when the run ends; files and terminals are the host's and
/// keep their owner (write to them through the fd, or use --keep-root).
struct LentPipes(Vec<(i32, u32, u32)>);

impl LentPipes {
    fn lend(to: u32) -> LentPipes {
        let mut lent = Vec::new();
        for fd in 0..3 {
            let anonymous_pipe = std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .is_ok_and(|l| l.to_string_lossy().starts_with("pipe:["));
            if !anonymous_pipe {
                continue;
            }
            let Ok(st) = nix::sys::stat::fstat(fd) else {
                continue;
            };
            let id = (
                Some(nix::unistd::Uid::from_raw(to)),
                Some(nix::unistd::Gid::from_raw(to)),
            );
            if nix::unistd::fchown(fd, id.0, id.1).is_ok() {
                lent.push((fd, st.st_uid, st.st_gid));
            }
        }
        LentPipes(lent)
    }
}

impl Drop for LentPipes {
    fn drop(&mut self) {
        for (fd, uid, gid) in &self.0 {
            let _ = nix::unistd::fchown(
                *fd,
                Some(nix::unistd::Uid::from_raw(*uid)),
                Some(nix::unistd::Gid::from_raw(*gid)),
            );
        }
    }
}

/// A seccomp program compiled ahead of time (bins/ward/build.rs) from
/// [`seccomp_profile`]: BPF and flags.
pub struct Precompiled<'a> {
    pub bpf: &'a [u8],
    pub flags: u32,
}

/// Runs the plan in the foreground; the exit code is the command's. A
/// precompiled seccomp program is used only for the default profile (a
/// test of bins/ward checks that it was compiled from exactly that
/// profile); any other is compiled here.
pub fn run(plan: &Plan, precompiled: Option<Precompiled<'_>>) -> Result<Ephemeral> {
    let program = precompiled
        .filter(|p| plan.default_seccomp && !p.bpf.is_empty())
        .map(|p| (p.bpf.to_vec(), p.flags));
    run_plan(plan, program, None)
}

/// The one way a plan runs (`run` and `learn`): with the caller's stdio
/// pipes lent to a remapped sandbox, and a `--ro`/`--rw` path that cannot
/// be id-mapped answered with what else works.
fn run_plan(
    plan: &Plan,
    program: Option<(Vec<u8>, u32)>,
    on_listener: Option<&mut dyn FnMut(std::os::fd::OwnedFd)>,
) -> Result<Ephemeral> {
    let _lent = plan.remapped_to.map(LentPipes::lend);
    crate::lifecycle::run_ephemeral(
        &crate::cg::ephemeral_id(),
        &plan.spec,
        Path::new("/"),
        Path::new("/"),
        plan.cgroups,
        plan.extras.clone(),
        plan.landlock.clone(),
        program,
        on_listener,
    )
    .map_err(|e| {
        let text = e.to_string();
        if plan.remapped_to.is_some() && text.contains("id-mapping the bind") {
            msg(format!(
                "{text}; --keep-root binds it as it is, the sandbox then being the host's root (without capabilities)"
            ))
        } else {
            e
        }
    })
}

/// What a `--seccomp` profile must keep from the default one: no
/// SCMP_ACT_NOTIFY (nothing would answer), the native ABI only (no compat
/// entry points), and TIOCSTI/TIOCLINUX denied — this host's kernel lets
/// them type into the caller's terminal (CVE-2017-5226), and the sandbox
/// shares that terminal when stdio is not proxied.
fn check_given_profile(p: &LinuxSeccomp) -> Result<()> {
    if p.uses_notify() || p.listener_path.is_some() {
        return Err(msg(
            "--seccomp: SCMP_ACT_NOTIFY and listenerPath are not supported by ward sandbox: remove them from the profile",
        ));
    }
    let native = ward_seccomp::native_arch();
    if let Some(a) = p.architectures.iter().find(|a| **a != native) {
        return Err(msg(format!(
            "--seccomp: architectures lists {a:?}: ward sandbox runs native syscalls only (no 32-bit/compat ABI); remove the other architectures"
        )));
    }
    let f = ward_seccomp::compile(p, &ward_seccomp::CompileOptions::default())
        .map_err(|e| msg(format!("--seccomp: {e}")))?;
    for (cmd, name) in [
        (seccomp::TIOCSTI, "TIOCSTI"),
        (seccomp::TIOCLINUX, "TIOCLINUX"),
    ] {
        let data = ward_seccomp::bpf::SeccompData::new(
            ward_seccomp::audit_arch(native),
            libc::SYS_ioctl as i32,
            [0, cmd, 0, 0, 0, 0],
        );
        let ret = f
            .evaluate(&data)
            .map_err(|e| msg(format!("--seccomp: evaluating the filter: {e:?}")))?;
        // Denying actions: KILL_PROCESS (0x8000_0000), KILL_THREAD (0),
        // TRAP, ERRNO; NOTIFY, TRACE, LOG and ALLOW (0x7fc0_0000 and up)
        // let the ioctl reach the terminal.
        if (0x7fc0_0000..0x8000_0000).contains(&ret) {
            return Err(msg(format!(
                "--seccomp: the profile allows ioctl({name}), which types into the caller's terminal: deny it (profiles from --learn do; or copy the ioctl rules of `ward sandbox --learn`'s output)"
            )));
        }
    }
    Ok(())
}

/// Syscalls the init makes between loading a notify filter and ward
/// receiving its listener (sending it, waiting for the go-ahead, the
/// allocator): notifying them would deadlock, so a learning profile lets
/// them through and every learned profile allows them.
const LEARN_UNOBSERVED: &[&str] = &[
    "sendmsg",
    "recvmsg",
    "recvfrom",
    "read",
    "write",
    "close",
    "brk",
    "mmap",
    "munmap",
    "mremap",
    "madvise",
    "futex",
    "rt_sigprocmask",
];

/// `base` with every allowing rule turned into SCMP_ACT_NOTIFY (except
/// [`LEARN_UNOBSERVED`]): what `base` denies stays denied, what it allows
/// is reported to ward, which lets it run (CONTINUE).
pub fn learning_profile(base: &LinuxSeccomp) -> LinuxSeccomp {
    let mut p = base.clone();
    let mut direct = Vec::new();
    for rule in &mut p.syscalls {
        if rule.action != Action::Allow {
            continue;
        }
        if rule.args.is_empty() {
            direct.extend(
                rule.names
                    .iter()
                    .filter(|n| LEARN_UNOBSERVED.contains(&n.as_str()))
                    .cloned(),
            );
            rule.names
                .retain(|n| !LEARN_UNOBSERVED.contains(&n.as_str()));
        }
        rule.action = Action::Notify;
    }
    p.syscalls.retain(|r| !r.names.is_empty());
    if !direct.is_empty() {
        p.syscalls.push(Syscall {
            names: direct,
            action: Action::Allow,
            errno_ret: None,
            args: Vec::new(),
        });
    }
    p
}

/// The minimal profile for the syscalls `seen` (numbers, native ABI):
/// default EPERM, the seen names (and [`LEARN_UNOBSERVED`]) allowed as
/// `base` allows them — `ioctl` keeps `base`'s argument rules, so TIOCSTI
/// stays denied.
pub fn learned_profile(
    base: &LinuxSeccomp,
    seen: &std::collections::BTreeSet<i32>,
) -> LinuxSeccomp {
    let mut names: std::collections::BTreeSet<String> = seen
        .iter()
        .filter_map(|nr| ward_seccomp::syscall_name(*nr))
        .collect();
    names.extend(LEARN_UNOBSERVED.iter().map(|s| s.to_string()));
    let mut plain = Vec::new();
    let mut rules = Vec::new();
    for name in names {
        let base_rules: Vec<&Syscall> = base
            .syscalls
            .iter()
            .filter(|r| r.action == Action::Allow && r.names.contains(&name))
            .collect();
        if base_rules.iter().any(|r| r.args.is_empty()) {
            plain.push(name);
        } else {
            for r in base_rules {
                rules.push(Syscall {
                    names: vec![name.clone()],
                    ..r.clone()
                });
            }
        }
    }
    let mut syscalls = vec![Syscall {
        names: plain,
        action: Action::Allow,
        errno_ret: None,
        args: Vec::new(),
    }];
    syscalls.extend(rules);
    LinuxSeccomp {
        default_action: Action::Errno,
        default_errno_ret: Some(libc::EPERM as u32),
        architectures: base.architectures.clone(),
        flags: Vec::new(),
        listener_path: None,
        listener_metadata: None,
        syscalls,
    }
}

/// Runs the plan (made with `Options::learn`) and answers every
/// notification with CONTINUE, recording the syscall; returns the run and
/// the minimal profile for what the command did. Learning only: CONTINUE
/// is not a security decision (seccomp_unotify(2)).
pub fn learn(plan: &Plan) -> Result<(Ephemeral, LinuxSeccomp)> {
    use std::os::fd::AsFd;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(std::collections::BTreeSet::new()));
    let mut threads = Vec::new();
    let mut on_listener = |listener: std::os::fd::OwnedFd| {
        let seen = seen.clone();
        threads.push(std::thread::spawn(move || {
            use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
            loop {
                let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
                match poll(&mut fds, PollTimeout::NONE) {
                    Ok(_) => {}
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(_) => return,
                }
                let ev = fds[0].revents().unwrap_or(PollFlags::empty());
                if ev.contains(PollFlags::POLLIN) {
                    match ward_sys::seccomp::notif_recv(listener.as_fd()) {
                        Ok(n) => {
                            if let Ok(mut s) = seen.lock() {
                                s.insert(n.data.nr);
                            }
                            // The caller may have died meanwhile: ENOENT.
                            let _ =
                                ward_sys::seccomp::notif_respond_continue(listener.as_fd(), n.id);
                        }
                        Err(e)
                            if matches!(
                                e.raw_os_error(),
                                Some(libc::EINTR) | Some(libc::ENOENT)
                            ) => {}
                        Err(_) => return,
                    }
                } else if ev.intersects(PollFlags::POLLHUP | PollFlags::POLLERR) {
                    // No process uses the filter any more.
                    return;
                }
            }
        }));
    };
    // Compiled here: ward itself answers the notifications, there is no
    // listenerPath (which the generic path demands for SCMP_ACT_NOTIFY).
    let profile = plan
        .spec
        .linux
        .as_ref()
        .and_then(|l| l.seccomp.as_ref())
        .filter(|p| p.uses_notify())
        .ok_or_else(|| msg("--learn: the plan has no learning seccomp profile"))?;
    let f = ward_seccomp::compile(profile, &ward_seccomp::CompileOptions::default())
        .map_err(|e| msg(format!("--learn: compiling the learning profile: {e}")))?;
    let r = run_plan(plan, Some((f.bpf, f.flags)), Some(&mut on_listener))?;
    for t in threads {
        let _ = t.join();
    }
    let seen = seen.lock().map(|s| s.clone()).unwrap_or_default();
    Ok((r, learned_profile(&seccomp_profile(), &seen)))
}

/// Whether `e` says that the command does not exist (exit 127, like a shell).
pub fn is_not_found(e: &Error) -> bool {
    let s = e.to_string();
    s.contains("exec: ")
        && (s.contains("executable file not found") || s.contains("no such executable file"))
}

#[cfg(test)]
mod learn_tests {
    use super::*;
    use ward_seccomp::bpf::{SeccompData, AUDIT_ARCH_X86_64};

    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_NOTIFY: u32 = 0x7fc0_0000;
    const RET_ERRNO_EPERM: u32 = 0x0005_0000 | 1;

    fn eval(p: &LinuxSeccomp, nr: i64, args: [u64; 6]) -> u32 {
        let f = ward_seccomp::compile(p, &Default::default()).expect("compiles");
        f.evaluate(&SeccompData::new(AUDIT_ARCH_X86_64, nr as i32, args))
            .expect("evaluates")
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn learning_notifies_allowed_keeps_denied_and_lets_the_handshake_through() {
        let p = learning_profile(&seccomp_profile());
        assert_eq!(eval(&p, libc::SYS_getpid, [0; 6]), RET_NOTIFY);
        assert_eq!(eval(&p, libc::SYS_sendmsg, [0; 6]), RET_ALLOW);
        assert_eq!(eval(&p, libc::SYS_mount, [0; 6]), RET_ERRNO_EPERM);
        assert_eq!(
            eval(&p, libc::SYS_ioctl, [0, 0x5412, 0, 0, 0, 0]),
            RET_ERRNO_EPERM
        );
        assert_eq!(
            eval(&p, libc::SYS_ioctl, [0, 0x5401, 0, 0, 0, 0]),
            RET_NOTIFY
        );
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn learned_profile_allows_what_was_seen_and_keeps_tiocsti_denied() {
        let seen = [libc::SYS_getpid, libc::SYS_ioctl]
            .iter()
            .map(|n| *n as i32)
            .collect();
        let p = learned_profile(&seccomp_profile(), &seen);
        assert_eq!(p.default_action, Action::Errno);
        assert_eq!(eval(&p, libc::SYS_getpid, [0; 6]), RET_ALLOW);
        assert_eq!(eval(&p, libc::SYS_write, [0; 6]), RET_ALLOW);
        assert_eq!(eval(&p, libc::SYS_getppid, [0; 6]), RET_ERRNO_EPERM);
        assert_eq!(
            eval(&p, libc::SYS_ioctl, [0, 0x5401, 0, 0, 0, 0]),
            RET_ALLOW
        );
        assert_eq!(
            eval(&p, libc::SYS_ioctl, [0, 0x5412, 0, 0, 0, 0]),
            RET_ERRNO_EPERM
        );
    }
}

//! The sandbox's view of the host's files: the host's / read-only, fresh
//! /proc, /dev and /sys, private temporary directories, hidden daemon
//! sockets and $HOME, the user's `--tmpfs/--hide/--ro/--rw`, the working
//! directory and the masked files. Each step returns its mounts with what
//! `--explain` says about them ([`Explained`]).

use std::path::{Component, Path, PathBuf};

use ward_runtime::template::{MASKED_PATHS, READONLY_PATHS};
use ward_spec::Mount;

use crate::explain::Explained;
use crate::{msg, Host, Options, DEFAULT_HIDDEN, ROOT_CALLER_HOST_ID};

type Result<T> = std::result::Result<T, ward_runtime::Error>;

/// Files that only root may read, read as empty under `--keep-root` (root
/// without capabilities owns them); masked in every mode, as a second wall.
const SECRET_FILES: &[&str] = &[
    "/etc/shadow",
    "/etc/gshadow",
    "/etc/shadow-",
    "/etc/gshadow-",
];

/// The filesystem part of the config.
#[derive(Debug, Default)]
pub(crate) struct Filesystem {
    pub mounts: Vec<Mount>,
    /// Where the command may write (Landlock's allow list).
    pub writable: Vec<String>,
    /// Host directories covered by a tmpfs (absolute, resolved).
    pub hidden: Vec<PathBuf>,
    pub masked: Vec<String>,
    pub readonly: Vec<String>,
    /// The command's working directory.
    pub cwd: String,
}

impl Filesystem {
    fn tmpfs(&mut self, path: &str, options: &[&str]) {
        self.mounts.push(tmpfs(path, options));
        self.writable.push(path.into());
    }
}

/// A user mount of the plan, before ordering.
struct UserMount {
    path: String,
    kind: &'static str,
}

/// The whole filesystem plan. `remap`: root's sandbox is the host's nobody
/// (binds id-mapped, paths checked for reachability).
pub(crate) fn plan(o: &Options, host: &Host, remap: bool) -> Result<Explained<Filesystem>> {
    let mut fs = Filesystem::default();
    let mut out = Explained::new(());
    out.absorb(system_mounts(&mut fs, o.net));
    out.absorb(private_tmp(&mut fs));
    out.absorb(hidden_defaults(&mut fs)?);
    out.absorb(home(&mut fs, host)?);
    let (mut user, masked_files) = user_mounts(o, host)?;
    out.absorb(working_dir(&mut fs, &mut user, o, host, remap)?);
    fs.masked = MASKED_PATHS.iter().map(|s| s.to_string()).collect();
    fs.masked.extend(masked_files);
    user.sort_by_key(|u| depth(&u.path));
    for u in &user {
        out.absorb(user_mount(&mut fs, u, remap));
    }
    out.absorb(masks(&mut fs));
    Ok(out.with(fs))
}

/// /proc, /dev (with a private devpts and /dev/shm) and /sys, made anew.
fn system_mounts(fs: &mut Filesystem, net: bool) -> Explained<()> {
    fs.mounts.extend([
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
    ]);
    fs.writable.push("/dev".into());
    let out = Explained::new(())
        .layer(
            "rootfs",
            "the host's / recursively read-only, nosuid, nodev (every submount)".into(),
            "the command can read the host but not change it; setuid binaries do not elevate",
        )
        .layer(
            "/proc",
            "fresh procfs of the new pid namespace".into(),
            "only the sandbox's processes are visible; the host's /proc is covered",
        )
        .layer(
            "/dev",
            "tmpfs with null, zero, full, random, urandom, tty, a private devpts and /dev/shm"
                .into(),
            "no host disk, memory or kernel device is reachable",
        );
    if net {
        fs.mounts.push(tmpfs(
            "/sys",
            &["ro", "nosuid", "nodev", "noexec", "mode=755"],
        ));
        out.layer(
            "/sys",
            "empty read-only tmpfs (with --net a fresh sysfs cannot be mounted)".into(),
            "the host's /sys and its submounts (cgroupfs, debugfs, tracefs, bpf) are not reachable",
        )
    } else {
        fs.mounts.push(Mount {
            destination: "/sys".into(),
            kind: Some("sysfs".into()),
            source: Some("sysfs".into()),
            options: opts(&["ro", "nosuid", "nodev", "noexec"]),
            ..Mount::default()
        });
        out.layer(
            "/sys",
            "fresh read-only sysfs, no submounts".into(),
            "the host's cgroupfs, debugfs, tracefs and bpf mounts are not reachable",
        )
    }
}

/// A private tmpfs on /tmp and /var/tmp.
fn private_tmp(fs: &mut Filesystem) -> Explained<()> {
    for t in ["/tmp", "/var/tmp"] {
        if Path::new(t).is_dir() {
            fs.tmpfs(t, &["nosuid", "nodev", "mode=1777"]);
            fs.hidden.push(t.into());
        }
    }
    Explained::new(()).layer(
        "/tmp",
        "private tmpfs on /tmp and /var/tmp".into(),
        "the host's temporary files and sockets there (X11, ssh-agent) are not visible",
    )
}

/// [`DEFAULT_HIDDEN`] behind empty tmpfs.
fn hidden_defaults(fs: &mut Filesystem) -> Result<Explained<()>> {
    let mut hid = Vec::new();
    for h in DEFAULT_HIDDEN {
        let Ok(real) = std::fs::canonicalize(h) else {
            continue;
        };
        if !real.is_dir() || fs.hidden.iter().any(|x| x == &real) {
            continue;
        }
        let s = path_str("default hide", &real)?.to_string();
        fs.tmpfs(&s, &["nosuid", "nodev", "noexec", "mode=755"]);
        hid.push(s);
        fs.hidden.push(real);
    }
    Ok(Explained::new(()).layer(
        "hide",
        format!("empty tmpfs over {}", hid.join(", ")),
        "unix sockets stay connectable on a read-only mount: docker.sock, containerd, dbus would be a way out",
    ))
}

/// The caller's $HOME replaced by an empty writable tmpfs.
fn home(fs: &mut Filesystem, host: &Host) -> Result<Explained<()>> {
    let out = Explained::new(());
    let Some(home) = host
        .home
        .as_ref()
        .and_then(|h| std::fs::canonicalize(h).ok())
    else {
        return Ok(out);
    };
    // Also when $HOME lies in a hidden path (a home under /tmp): it is
    // then made inside that tmpfs, so ~ exists and takes writes.
    if !home.is_dir() || home == Path::new("/") || fs.hidden.iter().any(|h| h == &home) {
        return Ok(out);
    }
    let s = path_str("$HOME", &home)?.to_string();
    fs.tmpfs(&s, &["nosuid", "nodev", "mode=700"]);
    fs.hidden.push(home);
    Ok(out.layer(
        "$HOME",
        format!("{s} replaced by an empty writable tmpfs (--ro {s} to see it)"),
        "keys, tokens and history in $HOME (~/.ssh, ~/.aws, ~/.config) stay unread; writes to ~ are discarded",
    ))
}

/// The user's `--tmpfs/--hide/--ro/--rw` paths, resolved on the host; a
/// hidden file (not a directory) is masked instead (second value).
fn user_mounts(o: &Options, host: &Host) -> Result<(Vec<UserMount>, Vec<String>)> {
    let mut user = Vec::new();
    let mut masked = Vec::new();
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
                    masked.push(s);
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
    Ok((user, masked))
}

/// Where the command starts (`--cwd` or the caller's), and whether it sees
/// it; for root's remapped sandbox, whether nobody can reach each path.
fn working_dir(
    fs: &mut Filesystem,
    user: &mut Vec<UserMount>,
    o: &Options,
    host: &Host,
    remap: bool,
) -> Result<Explained<()>> {
    let cwd = match &o.cwd {
        Some(c) => host_path("--cwd", c, &host.cwd)?,
        None => host.cwd.clone(),
    };
    let cwd_s = path_str("the current directory", &cwd)?.to_string();
    let bound = |u: &UserMount| u.kind == "ro" || u.kind == "rw";
    let covered = user
        .iter()
        .any(|u| bound(u) && under(&cwd, Path::new(&u.path)));
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
    } else if fs.hidden.iter().any(|h| h == &cwd) {
        "hidden like its directory, the command starts in an empty one (--ro . or --rw . to see it)"
    } else {
        if fs.hidden.iter().any(|h| under(&cwd, h)) {
            user.push(UserMount {
                path: cwd_s.clone(),
                kind: "ro",
            });
        }
        "read-only (--rw . to write)"
    };
    if remap {
        let mapped: Vec<&str> = user
            .iter()
            .filter(|u| bound(u))
            .map(|u| u.path.as_str())
            .collect();
        for u in user.iter() {
            let above: Vec<&str> = mapped.iter().copied().filter(|b| *b != u.path).collect();
            reachable_by_nobody(&u.path, &fs.hidden, &above, false)?;
        }
        if !covered {
            reachable_by_nobody(&cwd_s, &fs.hidden, &mapped, true)?;
        }
    }
    let out = Explained::new(()).layer(
        "cwd",
        format!("{cwd_s}: {cwd_state}"),
        "the command works where it was started but changes nothing there unless allowed",
    );
    fs.cwd = cwd_s;
    Ok(out)
}

/// One user mount, parents having come first.
fn user_mount(fs: &mut Filesystem, u: &UserMount, remap: bool) -> Explained<()> {
    let out = Explained::new(());
    match u.kind {
        "tmpfs" => {
            fs.tmpfs(&u.path, &["nosuid", "nodev", "mode=755"]);
            out.layer(
                "--tmpfs",
                format!("{} empty writable tmpfs", u.path),
                "scratch space that vanishes with the sandbox",
            )
        }
        "hide" => {
            fs.tmpfs(&u.path, &["nosuid", "nodev", "noexec", "mode=755"]);
            out.layer(
                "--hide",
                format!("{} covered by an empty tmpfs", u.path),
                "asked for: its content is not visible",
            )
        }
        "ro" => {
            fs.mounts.push(bind(&u.path, false, remap));
            out.layer(
                "--ro",
                format!("{} bound read-only", u.path),
                "visible, not writable",
            )
        }
        _ => {
            fs.mounts.push(bind(&u.path, true, remap));
            fs.writable.push(u.path.clone());
            out.layer(
                "--rw",
                format!("{} bound read-write", u.path),
                "asked for: the only host paths the command can change",
            )
        }
    }
}

/// Kernel interfaces masked and read-only as every OCI runtime does, and
/// the root-only secrets the caller can read.
fn masks(fs: &mut Filesystem) -> Explained<()> {
    // Only those the caller can read: the others are closed to the sandbox
    // by their permissions already (and each mask is a mount to make).
    let readable = |f: &str| nix::unistd::access(f, nix::unistd::AccessFlags::R_OK).is_ok();
    for f in SECRET_FILES {
        if readable(f) {
            fs.masked.push(f.to_string());
        }
    }
    if let Ok(dir) = std::fs::read_dir("/etc/ssh") {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let path = format!("/etc/ssh/{name}");
            if name.starts_with("ssh_host_") && name.ends_with("_key") && readable(&path) {
                fs.masked.push(path);
            }
        }
    }
    // Writing sysctls is checked against the *global* root uid, which a
    // sandbox started by root has under `--keep-root`.
    fs.readonly = READONLY_PATHS.iter().map(|s| s.to_string()).collect();
    Explained::new(())
        .layer(
            "masked",
            "/proc/kcore, /proc/keys, /sys/firmware... and root-only secrets (/etc/shadow, ssh host keys) read as empty".into(),
            "kernel memory, keys and password hashes, even for a sandbox that keeps the host's root (--keep-root)",
        )
        .layer(
            "readonly",
            READONLY_PATHS.join(", "),
            "sysctls and sysrq are checked against the global root uid, not capabilities",
        )
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

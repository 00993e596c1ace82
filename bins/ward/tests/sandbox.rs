//! `ward sandbox`: every default proven from inside the sandbox, as root and
//! as an unprivileged user (setpriv to nobody), plus bad input.
//!
//! The unprivileged variants print `SKIP: reason` and pass when this host
//! does not allow unprivileged user namespaces. Tests that need cgroups
//! (memory) run as root only; the fork-bomb test runs in both modes (as
//! root the cgroup pids.max stops it, as nobody RLIMIT_NPROC does).

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const WARD: &str = env!("CARGO_BIN_EXE_ward");
const NOBODY: u32 = 65534;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Mode {
    Root,
    Nobody,
}

/// Why the unprivileged mode cannot run here, if it cannot.
fn unprivileged_unavailable() -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return Some("the tests must start as root to switch to nobody".into());
    }
    let out = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .args(["unshare", "--user", "true"])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return Some(format!(
                "unprivileged user namespaces are not available: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
        Err(e) => return Some(format!("setpriv/unshare not runnable: {e}")),
    }
    // The binary must be reachable by nobody (not under a 0700 /root).
    let out = Command::new("setpriv")
        .args(["--reuid", "65534", "--regid", "65534", "--clear-groups"])
        .args([WARD, "--version"])
        .output();
    match out {
        Ok(o) if o.status.success() => None,
        _ => Some(format!("{WARD} is not executable by nobody")),
    }
}

/// Skips (returns true) when `mode` cannot run on this host.
fn skip(mode: Mode) -> bool {
    if mode == Mode::Nobody {
        if let Some(why) = unprivileged_unavailable() {
            eprintln!("SKIP: {why}");
            return true;
        }
    }
    if mode == Mode::Root && !nix::unistd::geteuid().is_root() {
        eprintln!("SKIP: not running as root");
        return true;
    }
    false
}

/// A scratch directory in /tmp that the mode's user owns.
fn scratch(mode: Mode) -> PathBuf {
    scratch_in(&std::env::temp_dir(), mode)
}

fn scratch_in(base: &Path, mode: Mode) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = base.join(format!(
        "ward-sbx-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    if mode == Mode::Nobody {
        std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).expect("chown scratch");
    }
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    dir
}

/// Why `--ro`/`--rw` of `path` cannot be given to root's sandbox on this
/// kernel, if they cannot: they are id-mapped binds, and tmpfs can be
/// id-mapped from Linux 6.3 only (the bookworm VM's /tmp is one).
fn idmap_unavailable(mode: Mode, path: &Path) -> Option<String> {
    if mode != Mode::Root {
        return None;
    }
    ward_tests::host::idmap_unavailable(path)
}

/// Prints SKIP and returns true when [`idmap_unavailable`].
fn skip_idmap(mode: Mode, path: &Path) -> bool {
    match idmap_unavailable(mode, path) {
        Some(why) => {
            eprintln!("SKIP: {why}");
            true
        }
        None => false,
    }
}

/// `ward ARGS` as `mode`'s user, with HOME pointing at `home` (or unset).
fn ward(mode: Mode) -> Command {
    let mut c = match mode {
        Mode::Root => Command::new(WARD),
        Mode::Nobody => {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                WARD,
            ]);
            c
        }
    };
    c.current_dir("/");
    c.env_remove("HOME");
    c.stdin(Stdio::null());
    c
}

/// /bin/sh as `mode`'s user.
fn shell(mode: Mode) -> Command {
    let mut c = match mode {
        Mode::Root => Command::new("/bin/sh"),
        Mode::Nobody => {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                "/bin/sh",
            ]);
            c
        }
    };
    c.current_dir("/").stdin(Stdio::null());
    c
}

/// Whether every directory up to `p` lets others search it.
fn traversable_by_others(p: &Path) -> bool {
    p.ancestors()
        .all(|d| std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 != 0))
}

fn run(mode: Mode, args: &[&str]) -> Output {
    ward(mode).args(args).output().expect("running ward")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `sh -c script` in a default sandbox; returns (code, stdout, stderr).
fn sh(mode: Mode, flags: &[&str], script: &str) -> (i32, String, String) {
    let mut args = vec!["sandbox"];
    args.extend_from_slice(flags);
    args.extend_from_slice(&["--", "/bin/sh", "-c", script]);
    let o = run(mode, &args);
    (
        o.status.code().unwrap_or(-1),
        text(&o.stdout),
        text(&o.stderr),
    )
}

fn status_field(status: &str, name: &str) -> String {
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| panic!("{name} missing from /proc/self/status:\n{status}"))
}

macro_rules! both {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[test]
            fn as_root() {
                if !skip(Mode::Root) {
                    ($body)(Mode::Root);
                }
            }
            #[test]
            fn as_nobody() {
                if !skip(Mode::Nobody) {
                    ($body)(Mode::Nobody);
                }
            }
        }
    };
}

both!(host_write_fails, |mode: Mode| {
    let dir = scratch(mode);
    let d = dir.display();
    let (code, out, err) = sh(
        mode,
        &[],
        &format!("echo x > {d}/f && echo WROTE; echo x > /etc/ward-sbx-probe && echo WROTE-ETC; echo done"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!out.contains("WROTE"), "a host write succeeded: {out}");
    assert!(err.contains("Read-only file system"), "{err}");
    assert!(!dir.join("f").exists());
    assert!(!Path::new("/etc/ward-sbx-probe").exists());
});

both!(rw_path_works, |mode: Mode| {
    let dir = scratch(mode);
    if skip_idmap(mode, &dir) {
        return;
    }
    let d = dir.display().to_string();
    let (code, _, err) = sh(mode, &["--rw", &d], &format!("echo hello > {d}/f"));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("f")).expect("written"),
        "hello\n"
    );
    // --ro shows it but does not let it change.
    let (code, out, err) = sh(mode, &["--ro", &d], &format!("cat {d}/f; echo y > {d}/f"));
    assert_ne!(code, 0);
    assert_eq!(out, "hello\n");
    assert!(err.contains("Read-only file system"), "{err}");
});

both!(only_loopback, |mode: Mode| {
    let (code, out, err) = sh(mode, &[], "cat /proc/net/dev");
    assert_eq!(code, 0, "{err}");
    let ifaces: Vec<&str> = out
        .lines()
        .skip(2)
        .filter_map(|l| l.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(ifaces, ["lo"], "{out}");
    // --net shares the host's interfaces.
    let (code, out, _) = sh(mode, &["--net"], "cat /proc/net/dev");
    assert_eq!(code, 0);
    let host = std::fs::read_to_string("/proc/net/dev").expect("host /proc/net/dev");
    assert_eq!(out.lines().count(), host.lines().count(), "{out}");
});

both!(no_caps_no_new_privs_seccomp, |mode: Mode| {
    let (code, status, err) = sh(mode, &[], "cat /proc/self/status");
    assert_eq!(code, 0, "{err}");
    for cap in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(status_field(&status, cap), "0000000000000000", "{cap}");
    }
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");
    assert_eq!(status_field(&status, "Seccomp"), "2");
    let uid = if mode == Mode::Root { "0" } else { "65534" };
    assert!(status_field(&status, "Uid").starts_with(uid), "{status}");
});

both!(mount_unshare_ptrace_denied, |mode: Mode| {
    // EPERM (busybox: "permission denied"), and /tmp is still ward's.
    let (code, out, err) = sh(
        mode,
        &[],
        "busybox mount -t tmpfs -o size=7k none /tmp && echo MOUNTED; \
         grep -c 'size=7k' /proc/self/mountinfo || true",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.trim(), "0", "mount succeeded: {out}");
    assert!(err.contains("mount: permission denied"), "{err}");
    let (code, _, err) = sh(mode, &[], "busybox unshare -U -r true");
    assert_ne!(code, 0, "unshare succeeded");
    assert!(err.contains("Operation not permitted"), "{err}");
    // ptrace(PTRACE_TRACEME) through perl's syscall(), the first step of
    // any debugger or injector.
    let nr = if cfg!(target_arch = "aarch64") {
        117
    } else {
        101
    };
    let (code, out, err) = sh(
        mode,
        &[],
        &format!(r#"perl -e 'syscall({nr}, 0, 0, 0, 0) == -1 and print "$!\n"'"#),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Operation not permitted\n", "ptrace was allowed");
    // TIOCSTI (typing into the caller's terminal) is refused by seccomp
    // before the kernel looks at the fd (ENOTTY would mean it got through),
    // also with bits above 32 set.
    let (code, out, err) = sh(
        mode,
        &[],
        r#"perl -e 'my $c="x"; for my $cmd (0x5412, 0x5412 | (1<<32), 0x5413) { ioctl(STDIN, $cmd, $c) or print "$!\n" }'"#,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            "Operation not permitted",
            "Operation not permitted",
            "Inappropriate ioctl for device"
        ]
    );
});

both!(fork_loop_stops_at_pids_limit, |mode: Mode| {
    // A subshell forks 40 background sleeps against a limit of 16 and dies
    // when fork fails; the shell then counts the processes with builtins
    // only (no fork left). As root the cgroup's pids.max stops the loop,
    // as nobody RLIMIT_NPROC (counted inside the sandbox's user namespace).
    let (code, out, err) = sh(
        mode,
        &["--pids", "16"],
        "(for i in $(seq 40); do sleep 30 & done) 2>/dev/null; \
         n=0; for p in /proc/[0-9]*; do n=$((n+1)); done; echo $n",
    );
    assert_eq!(code, 0, "{err}");
    let n: usize = out.trim().parse().unwrap_or_else(|_| panic!("{out}"));
    assert!(n <= 16, "{n} processes with --pids 16");
    assert!(n >= 8, "the loop did not run: {n}");
});

both!(exit_codes_and_signals_propagate, |mode: Mode| {
    assert_eq!(sh(mode, &[], "exit 42").0, 42);
    assert_eq!(sh(mode, &[], "kill -KILL $$").0, 137);
    assert_eq!(sh(mode, &[], "kill -TERM $$").0, 143);
    // A signal to ward reaches the command (which is pid 2 under a reaper,
    // so even a command without a handler dies of SIGTERM).
    let marker = format!("30.{}{}", std::process::id(), mode as u8);
    let mut child = ward(mode)
        .args(["sandbox", "--", "sleep", &marker])
        .spawn()
        .expect("spawn");
    wait_for_process(&marker, true);
    // setpriv execs ward: the pid is ward's in both modes.
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGTERM,
    )
    .expect("kill");
    let t = Instant::now();
    let st = child.wait().expect("wait");
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(st.code(), Some(143));
});

both!(timeout_kills_with_124, |mode: Mode| {
    let t = Instant::now();
    let o = run(mode, &["sandbox", "--timeout", "1", "--", "sleep", "30"]);
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(o.status.code(), Some(124));
    assert!(text(&o.stderr).contains("--timeout"), "{}", text(&o.stderr));
});

both!(only_stdio_fds_are_open, |mode: Mode| {
    // fd 7 is open (not close-on-exec) in ward's caller: it must not leak.
    let cmd = format!(
        "exec 7</etc/hostname; exec {} sandbox -- /bin/sh -c 'ls /proc/$$/fd'",
        WARD
    );
    let mut c = match mode {
        Mode::Root => Command::new("/bin/sh"),
        Mode::Nobody => {
            let mut c = Command::new("setpriv");
            c.args([
                "--reuid",
                "65534",
                "--regid",
                "65534",
                "--clear-groups",
                "/bin/sh",
            ]);
            c
        }
    };
    let o = c
        .args(["-c", &cmd])
        .current_dir("/")
        .stdin(Stdio::null())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let out = text(&o.stdout);
    let fds: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(fds, ["0", "1", "2"]);
});

both!(environment_is_cleared, |mode: Mode| {
    let o = ward(mode)
        .env("WARD_TEST_SECRET", "hunter2")
        .env("WARD_TEST_KEEP", "kept")
        .env("LANG", "C.UTF-8")
        .args([
            "sandbox",
            "--keep-env",
            "WARD_TEST_KEEP",
            "--env",
            "ADDED=1",
            "--",
            "env",
        ])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let env = text(&o.stdout);
    assert!(!env.contains("hunter2"), "{env}");
    assert!(env.lines().any(|l| l == "WARD_TEST_KEEP=kept"), "{env}");
    assert!(env.lines().any(|l| l == "ADDED=1"), "{env}");
    assert!(env.lines().any(|l| l == "LANG=C.UTF-8"), "{env}");
    assert!(env.lines().any(|l| l.starts_with("PATH=")), "{env}");
});

both!(home_and_run_are_hidden, |mode: Mode| {
    // Not under /tmp, which is hidden anyway.
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    if mode == Mode::Nobody && !traversable_by_others(base) {
        eprintln!("SKIP: {} is not reachable by nobody", base.display());
        return;
    }
    let home = scratch_in(base, mode);
    std::fs::write(home.join("id_rsa"), "secret").expect("write");
    let h = home.display().to_string();
    let o = ward(mode)
        .env("HOME", &h)
        .args([
            "sandbox",
            "--",
            "/bin/sh",
            "-c",
            &format!("ls -A {h} /run; echo x > {h}/scratch && echo home-writable"),
        ])
        .output()
        .expect("run");
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(!out.contains("id_rsa"), "{out}");
    assert!(out.contains("home-writable"), "{out}");
    assert!(
        !home.join("scratch").exists(),
        "a write to ~ reached the host"
    );
    if skip_idmap(mode, &home) {
        return;
    }
    // --ro re-exposes it.
    let o = ward(mode)
        .env("HOME", &h)
        .args(["sandbox", "--ro", &h, "--", "cat", &format!("{h}/id_rsa")])
        .output()
        .expect("run");
    assert_eq!(text(&o.stdout), "secret");
});

both!(
    landlock_denies_writes_outside_allowed_paths,
    |mode: Mode| {
        if ward_sys_landlock_abi() == 0 {
            eprintln!("SKIP: no Landlock on this kernel");
            return;
        }
        // /proc/self/comm is writable by its owner and on a writable mount:
        // only Landlock stops it.
        let (code, out, err) = sh(
            mode,
            &[],
            "echo x > /proc/self/comm && echo WROTE; echo x > /tmp/t && echo TMP",
        );
        assert_eq!(code, 0, "{err}");
        assert!(!out.contains("WROTE"), "{out}");
        assert!(err.contains("Permission denied"), "{err}");
        assert!(out.contains("TMP"), "{out}");
        // Reopening ward's own stdout by path still works (a file of the
        // caller's, outside every writable path). Root's sandbox is the
        // host's nobody, which root's file does not let in: --keep-root.
        let dir = scratch(mode);
        let keep_root = if mode == Mode::Root {
            "--keep-root"
        } else {
            ""
        };
        let cmd = format!(
            "exec {WARD} sandbox {keep_root} -- /bin/sh -c 'echo via-path > /dev/stdout' > {}/out",
            dir.display()
        );
        let o = shell(mode).args(["-c", &cmd]).output().expect("run");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(
            std::fs::read_to_string(dir.join("out")).expect("out"),
            "via-path\n"
        );
        // A pipe is lent to the sandbox for the run, in every mode.
        let cmd = format!(
            "{WARD} sandbox -- /bin/sh -c 'echo via-pipe > /dev/stdout' | cat > {}/pipe",
            dir.display()
        );
        let o = shell(mode).args(["-c", &cmd]).output().expect("run");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert_eq!(
            std::fs::read_to_string(dir.join("pipe")).expect("pipe"),
            "via-pipe\n"
        );
    }
);

/// The kernel's Landlock ABI; `ward sandbox --json` must report the same.
fn ward_sys_landlock_abi() -> i64 {
    let kernel = i64::from(ward_tests::host::landlock_abi());
    let o = run(Mode::Root, &["sandbox", "--json", "--", "true"]);
    let report: serde_json::Value =
        serde_json::from_str(text(&o.stderr).trim()).expect("--json report");
    assert_eq!(report["landlock_abi"].as_i64(), Some(kernel), "{report}");
    kernel
}

both!(dies_with_its_parent, |mode: Mode| {
    let marker = format!("31.{}{}", std::process::id(), mode as u8);
    let mut child = ward(mode)
        .args(["sandbox", "--", "sleep", &marker])
        .spawn()
        .expect("spawn");
    wait_for_process(&marker, true);
    child.kill().expect("SIGKILL ward");
    let _ = child.wait();
    wait_for_process(&marker, false);
});

/// Waits (10 s at most) until a `sleep MARKER` process exists (or is gone).
fn wait_for_process(marker: &str, present: bool) {
    let find = || {
        std::fs::read_dir("/proc")
            .expect("/proc")
            .flatten()
            .any(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .map(|c| {
                        let c = text(&c);
                        c.starts_with("sleep") && c.contains(marker)
                    })
                    .unwrap_or(false)
            })
    };
    let t = Instant::now();
    while find() != present {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "sleep {marker} {}",
            if present {
                "never started"
            } else {
                "outlived ward"
            }
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn memory_hog_is_killed() {
    if skip(Mode::Root) {
        return;
    }
    let o = run(
        Mode::Root,
        &[
            "sandbox",
            "--memory",
            "32m",
            "--require-limits",
            "--",
            "perl",
            "-e",
            "my $x = 'a' x (256*1024*1024); print qq(survived\\n)",
        ],
    );
    assert_eq!(o.status.code(), Some(137), "{}", text(&o.stderr));
    assert!(!text(&o.stdout).contains("survived"));
}

#[test]
fn json_report_lists_layers_and_cgroups() {
    if skip(Mode::Root) {
        return;
    }
    let o = run(Mode::Root, &["sandbox", "--json", "--", "true"]);
    assert_eq!(o.status.code(), Some(0));
    let r: serde_json::Value = serde_json::from_str(text(&o.stderr).trim()).expect("JSON");
    assert_eq!(r["exit_code"], 0);
    let layers: Vec<&str> = r["layers"]
        .as_array()
        .expect("layers")
        .iter()
        .filter_map(|l| l["layer"].as_str())
        .collect();
    for want in [
        "namespaces",
        "rootfs",
        "seccomp",
        "capabilities",
        "cgroups",
        "env",
    ] {
        assert!(layers.contains(&want), "{want} missing: {layers:?}");
    }
    assert!(
        !r["cgroup_paths"].as_array().expect("paths").is_empty(),
        "{r}"
    );
    // --explain: one line per layer, on stderr.
    let o = run(Mode::Root, &["sandbox", "--explain", "--", "true"]);
    assert!(text(&o.stderr).lines().count() >= layers.len());
}

#[test]
fn unprivileged_without_cgroups_says_so() {
    if skip(Mode::Nobody) {
        return;
    }
    // Whether ward got a cgroup (a delegated subtree) or not, it must say
    // which, and --require-limits must follow.
    let o = run(Mode::Nobody, &["sandbox", "--json", "--", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let report: serde_json::Value =
        serde_json::from_str(text(&o.stderr).trim()).expect("--json report");
    let limited = !report["cgroup_paths"]
        .as_array()
        .expect("cgroup_paths")
        .is_empty();
    let o = run(Mode::Nobody, &["sandbox", "--", "true"]);
    assert_eq!(o.status.code(), Some(0));
    let err = text(&o.stderr);
    assert_eq!(
        err.contains("note: cgroup limits not applied"),
        !limited,
        "{err}"
    );
    let o = run(Mode::Nobody, &["sandbox", "--require-limits", "--", "true"]);
    if limited {
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    } else {
        assert_eq!(o.status.code(), Some(125));
        assert!(text(&o.stderr).contains("cgroups"), "{}", text(&o.stderr));
    }
}

#[test]
fn profile_file_sets_flags() {
    if skip(Mode::Root) {
        return;
    }
    let dir = scratch(Mode::Root);
    if skip_idmap(Mode::Root, &dir) {
        return;
    }
    let d = dir.display();
    let profile = dir.join("p.toml");
    std::fs::write(
        &profile,
        format!("rw = [\"{d}\"]\nenv = [\"FROM_PROFILE=1\"]\npids = 64\n"),
    )
    .expect("write");
    let o = run(
        Mode::Root,
        &[
            "sandbox",
            "--profile",
            &profile.display().to_string(),
            "--",
            "/bin/sh",
            "-c",
            &format!("echo $FROM_PROFILE > {d}/out"),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(dir.join("out")).expect("out"),
        "1\n"
    );
    std::fs::write(&profile, "rw = []\nnetwork = true\n").expect("write");
    let o = run(
        Mode::Root,
        &[
            "sandbox",
            "--profile",
            &profile.display().to_string(),
            "--",
            "true",
        ],
    );
    assert_eq!(o.status.code(), Some(125));
    assert!(text(&o.stderr).contains("network"), "{}", text(&o.stderr));
}

// Bad input.

#[test]
fn unknown_flag_is_a_usage_error() {
    let o = Command::new(WARD)
        .args(["sandbox", "--bogus", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--bogus"));
}

#[test]
fn no_command_is_a_usage_error() {
    let o = Command::new(WARD).args(["sandbox"]).output().expect("run");
    assert_eq!(o.status.code(), Some(2));
    let o = Command::new(WARD)
        .args(["sandbox", "--net", "--"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}

#[test]
fn nonexistent_rw_path_names_the_flag() {
    let o = Command::new(WARD)
        .args(["sandbox", "--rw", "/nonexistent/ward-test", "--", "true"])
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(125));
    let err = text(&o.stderr);
    assert!(err.contains("--rw /nonexistent/ward-test"), "{err}");
    assert!(err.contains("No such file"), "{err}");
}

#[test]
fn bad_values_name_the_flag() {
    for (args, flag) in [
        (vec!["--memory", "lots"], "--memory"),
        (vec!["--env", "NOEQUALS"], "--env"),
        (vec!["--timeout=-1"], "--timeout"),
        (vec!["--cpus", "0"], "--cpus"),
    ] {
        let mut a = vec!["sandbox"];
        a.extend(args);
        a.extend(["--", "true"]);
        let o = Command::new(WARD).args(&a).output().expect("run");
        assert_ne!(o.status.code(), Some(0), "{a:?}");
        assert!(text(&o.stderr).contains(flag), "{a:?}: {}", text(&o.stderr));
    }
}

both!(command_not_found_is_127, |mode: Mode| {
    let o = run(mode, &["sandbox", "--", "ward-no-such-command"]);
    assert_eq!(o.status.code(), Some(127));
    let err = text(&o.stderr);
    assert!(
        err.contains("ward-no-such-command: command not found"),
        "{err}"
    );
    // A path that does not exist, too.
    let o = run(mode, &["sandbox", "--", "/nonexistent/cmd"]);
    assert_eq!(o.status.code(), Some(127), "{}", text(&o.stderr));
});

#[test]
fn stdin_passes_through() {
    let mut c = Command::new(WARD)
        .args(["sandbox", "--", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn");
    {
        use std::io::Write;
        let mut stdin = c.stdin.take().expect("stdin");
        stdin.write_all(b"through the sandbox\n").expect("write");
    }
    let mut out = String::new();
    c.stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    assert!(c.wait().expect("wait").success());
    assert_eq!(out, "through the sandbox\n");
}

// The host's / is cloned with all its submounts and made read-only with
// AT_RECURSIVE: a filesystem mounted below / (a data disk, a tmpfs) is as
// read-only as / itself, not writable because its own mount is.
#[test]
fn host_submounts_are_read_only_too() {
    if skip(Mode::Root) {
        return;
    }
    let dir = scratch_in(Path::new(env!("CARGO_TARGET_TMPDIR")), Mode::Root);
    let sub = dir.join("sub");
    std::fs::create_dir_all(&sub).expect("mkdir");
    let mounted = Command::new("mount")
        .args([
            "-t",
            "tmpfs",
            "-o",
            "mode=1777,size=1m",
            "ward-test",
            &sub.display().to_string(),
        ])
        .status()
        .expect("mount");
    assert!(mounted.success(), "mounting a tmpfs at {}", sub.display());
    let s = sub.display();
    let (code, out, err) = sh(
        Mode::Root,
        &[],
        &format!("echo x > {s}/f && echo WROTE; true"),
    );
    let _ = Command::new("umount").arg(&sub).status();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("WROTE"),
        "a host submount was writable: {out}"
    );
    assert!(err.contains("Read-only file system"), "{err}");
}

// Issue 14, finding 8: root's sandbox read every file only root may read
// outside a fixed list (private TLS keys, ward's audit log). Root inside
// is now the host's nobody: permissions close them, whatever their path;
// the paths given with --ro/--rw are id-mapped, so what root owns there
// stays the sandbox's; --keep-root is the old behaviour.
#[test]
fn root_callers_sandbox_is_the_hosts_nobody() {
    if skip(Mode::Root) {
        return;
    }
    // Not under /tmp or $HOME, which are hidden anyway.
    let dir = scratch_in(Path::new(env!("CARGO_TARGET_TMPDIR")), Mode::Root);
    std::fs::write(dir.join("server.key"), "PRIVATE KEY\n").expect("write");
    std::fs::set_permissions(
        dir.join("server.key"),
        std::fs::Permissions::from_mode(0o600),
    )
    .expect("chmod");
    std::fs::write(dir.join("shared"), "0644\n").expect("write");
    let d = dir.display().to_string();
    let probe = format!(
        "cat /proc/self/uid_map /proc/self/gid_map; id -u; id -G; cat {d}/server.key; echo x >> {d}/shared"
    );
    let (code, out, err) = sh(Mode::Root, &[], &probe);
    assert_ne!(code, 0, "{out}");
    let words: Vec<&str> = out.split_whitespace().collect();
    assert_eq!(
        words,
        ["0", "65534", "1", "0", "65534", "1", "0", "0"],
        "{out}"
    );
    assert!(!out.contains("PRIVATE KEY"), "{out}");
    assert!(err.contains("server.key: Permission denied"), "{err}");
    assert!(err.contains("cannot create"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("shared")).expect("shared"),
        "0644\n"
    );
    // The same file under --keep-root: this test's control.
    let (code, out, err) = sh(Mode::Root, &["--keep-root"], &format!("cat {d}/server.key"));
    assert_eq!((code, out.as_str()), (0, "PRIVATE KEY\n"), "{err}");
    // A path below a directory only root may enter cannot be reached by
    // the sandbox's nobody: refused up front, naming the directory.
    let closed = dir.join("closed");
    std::fs::create_dir_all(closed.join("x")).expect("mkdir");
    std::fs::set_permissions(&closed, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let x = format!("{}/x", closed.display());
    let o = run(Mode::Root, &["sandbox", "--rw", &x, "--", "true"]);
    assert_eq!(o.status.code(), Some(125));
    let err = text(&o.stderr);
    assert!(
        err.contains("closed (mode 700)") && err.contains("--keep-root"),
        "{err}"
    );
    if skip_idmap(Mode::Root, &dir) {
        return;
    }
    // ...unless an id-mapped bind above it makes root's directory the
    // sandbox root's.
    let c = closed.display().to_string();
    let (code, _, err) = sh(
        Mode::Root,
        &["--ro", &c, "--rw", &x],
        &format!("touch {x}/y"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(closed.join("x/y").exists());
    // Given with --ro or --rw, root's files there are the sandbox's root's
    // (id-mapped), and what it writes lands on the host as root's.
    let (code, out, err) = sh(Mode::Root, &["--ro", &d], &format!("cat {d}/server.key"));
    assert_eq!((code, out.as_str()), (0, "PRIVATE KEY\n"), "{err}");
    let (code, _, err) = sh(
        Mode::Root,
        &["--rw", &d],
        &format!("echo x >> {d}/shared && mkdir {d}/made && echo y > {d}/made/f"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.join("shared")).expect("shared"),
        "0644\nx\n"
    );
    for made in [dir.join("made"), dir.join("made/f")] {
        let m = std::fs::metadata(&made).expect("made");
        use std::os::unix::fs::MetadataExt;
        assert_eq!((m.uid(), m.gid()), (0, 0), "{}", made.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn root_only_secrets_read_as_empty() {
    if skip(Mode::Root) || !Path::new("/etc/shadow").exists() {
        return;
    }
    // uid 0 in a sandbox started by root owns /etc/shadow: it is masked.
    let (code, out, err) = sh(
        Mode::Root,
        &[],
        "wc -c < /etc/shadow; echo x > /proc/sys/kernel/domainname || echo ro",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().collect::<Vec<_>>(), ["0", "ro"], "{err}");
}

#[test]
fn ctrl_c_in_a_terminal_reaches_the_command() {
    // script(1) gives ward a terminal; ward gives the command a pty of the
    // sandbox's own devpts and proxies it.
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("SKIP: script(1) is not installed");
        return;
    }
    let marker = format!("32.{}", std::process::id());
    let mut c = Command::new("script")
        .args([
            "-qec",
            &format!("{WARD} sandbox -- sleep {marker}"),
            "/dev/null",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn script");
    wait_for_process(&marker, true);
    let mut stdin = c.stdin.take().expect("stdin");
    std::io::Write::write_all(&mut stdin, b"\x03").expect("write ^C");
    let t = Instant::now();
    let st = c.wait().expect("wait");
    drop(stdin);
    assert!(t.elapsed() < Duration::from_secs(10));
    assert_eq!(st.code(), Some(130), "sleep was not interrupted by ^C");
}

/// Every cgroup (v1 or v2) mount point of this host, from the kernel's
/// mount table.
fn cgroup_mounts() -> Vec<PathBuf> {
    std::fs::read_to_string("/proc/self/mounts")
        .expect("/proc/self/mounts")
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 2 && (f[2] == "cgroup" || f[2] == "cgroup2")).then(|| PathBuf::from(f[1]))
        })
        .collect()
}

/// The cgroup directories, in every hierarchy, of the sandbox run by the
/// `ward` with host pid `pid` (found by walking each hierarchy).
fn sandbox_cgroups(pid: u32) -> Vec<PathBuf> {
    fn walk(dir: &Path, name: &str, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let n = e.file_name().to_string_lossy().into_owned();
            if n == name || n.starts_with(&format!("{name}-")) {
                out.push(e.path());
            } else if depth < 4 {
                walk(&e.path(), name, depth + 1, out);
            }
        }
    }
    let mut out = Vec::new();
    for m in cgroup_mounts() {
        walk(&m, &format!("ward-sandbox-{pid}"), 0, &mut out);
    }
    out
}

/// `ward sandbox -- sleep MARKER` as root, once the sleep runs, with its
/// cgroup directories; None (after a SKIP line) when it made none.
/// ward (as root) made no cgroup: a SKIP only where the host has no
/// writable cgroup hierarchy to make one in; a failure anywhere else.
fn no_cgroup_is_a_skip() {
    let writable = |p: &str| {
        Path::new(p).is_dir() && nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_ok()
    };
    let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
    assert!(
        !(writable("/sys/fs/cgroup/pids") || (v2 && writable("/sys/fs/cgroup"))),
        "ward sandbox made no cgroup, though this host has a writable cgroup hierarchy"
    );
    eprintln!("SKIP: ward sandbox made no cgroup: this host has no writable cgroup hierarchy");
}

fn sleeping_sandbox(marker: &str) -> Option<(std::process::Child, Vec<PathBuf>)> {
    let mut w = ward(Mode::Root)
        .args(["sandbox", "--", "sleep", marker])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("ward");
    wait_for_process(marker, true);
    let dirs = sandbox_cgroups(w.id());
    if dirs.is_empty() {
        let _ = w.kill();
        let _ = w.wait();
        no_cgroup_is_a_skip();
        return None;
    }
    Some((w, dirs))
}

/// The pid of the cleanup process of the `ward` with pid `pid`: the child
/// named ward-cleanup (forked once the command runs).
fn cleaner_of(pid: u32) -> i32 {
    let t = Instant::now();
    loop {
        let kids =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        let found = kids.split_whitespace().find(|k| {
            std::fs::read_to_string(format!("/proc/{k}/comm"))
                .is_ok_and(|c| c.trim() == "ward-cleanup")
        });
        if let Some(k) = found {
            return k.parse().expect("a pid");
        }
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "ward {pid} has no ward-cleanup child: {kids}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (10 s at most) until `ok()`; fails the test saying `what`.
fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let t = Instant::now();
    while !ok() {
        assert!(t.elapsed() < Duration::from_secs(10), "{what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (10 s at most) until none of `dirs` exists.
fn wait_removed(dirs: &[PathBuf], what: &str) {
    wait_until(&format!("{what}: {dirs:?} still there"), || {
        dirs.iter().all(|d| !d.exists())
    });
}

/// Whether process `pid` runs (exists and is not a zombie: an orphan is
/// reaped by the host's init, which may take its time).
fn running(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .is_some_and(|(_, rest)| !rest.trim_start().starts_with(['Z', 'X']))
    })
}

// `ward` returns once it has reaped the init, whose exit kills the
// sandbox's pid namespace; the cleanup process removes the cgroup after
// both. No process of the sandbox may still run when `ward` returns (a
// background writer has stopped), and the cgroup goes without another run.
#[test]
fn nothing_of_the_sandbox_runs_after_ward_returns() {
    if skip(Mode::Root) {
        return;
    }
    let dir = scratch(Mode::Root);
    if skip_idmap(Mode::Root, &dir) {
        return;
    }
    let file = dir.join("log");
    let mut child = ward(Mode::Root)
        .args([
            "sandbox",
            "--rw",
            dir.to_str().expect("utf-8"),
            "--",
            "sh",
            "-c",
            &format!(
                "(while :; do echo x >> {f}; done) & while [ ! -s {f} ]; do :; done; exit 7",
                f = file.display()
            ),
        ])
        .stdout(Stdio::null())
        .spawn()
        .expect("ward");
    let pid = child.id();
    let st = child.wait().expect("ward");
    assert_eq!(st.code(), Some(7));
    let size = || std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    let at_return = size();
    assert!(at_return > 0, "the background writer never wrote");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        size(),
        at_return,
        "a sandboxed process kept writing after ward returned"
    );
    wait_removed(&sandbox_cgroups(pid), "the cgroup of a finished sandbox");
    let _ = std::fs::remove_dir_all(&dir);
}

// Each sandbox has its own session keyring, which counts against the
// user's key quota (kernel.keys.maxkeys, 200) until its init is reaped. An
// init left to the host's init to reap (which the development VM's does in
// batches) held it for longer: back-to-back unprivileged runs then failed
// with "Disk quota exceeded". `ward` reaps its init.
#[test]
fn back_to_back_unprivileged_runs_stay_within_the_key_quota() {
    if skip(Mode::Nobody) {
        return;
    }
    let Some(max) = std::fs::read_to_string("/proc/sys/kernel/keys/maxkeys")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .filter(|m| *m <= 1000)
    else {
        eprintln!("SKIP: kernel.keys.maxkeys unreadable or above 1000");
        return;
    };
    for i in 0..max + 50 {
        let o = run(Mode::Nobody, &["sandbox", "--", "true"]);
        assert_eq!(o.status.code(), Some(0), "run {i}: {}", text(&o.stderr));
    }
}

// A `ward` killed by SIGKILL: its cleanup process still removes the cgroup
// (as soon as the sandbox, which dies with `ward`, is gone).
#[test]
fn cgroup_of_a_killed_ward_is_removed_by_its_cleanup_process() {
    if skip(Mode::Root) {
        return;
    }
    let marker = format!("6{}", std::process::id());
    let Some((mut w, dirs)) = sleeping_sandbox(&marker) else {
        return;
    };
    let cleaner = cleaner_of(w.id());
    w.kill().expect("SIGKILL ward");
    let _ = w.wait();
    wait_for_process(&marker, false);
    // Well before the 2 s after which the next run would sweep them.
    let t = Instant::now();
    wait_removed(&dirs, "the cgroup of a killed ward");
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    wait_until(&format!("ward-cleanup {cleaner} stays"), || {
        !running(cleaner)
    });
}

fn procs_in(dirs: &[PathBuf]) -> usize {
    dirs.iter()
        .map(|d| {
            std::fs::read_to_string(d.join("cgroup.procs"))
                .map(|s| s.lines().count())
                .unwrap_or(0)
        })
        .sum()
}

// SIGKILL cannot be caught: a killed `ward` leaves its cgroup directories
// to its cleanup process; when that one is killed too (a whole process
// group, the OOM killer), the next `ward sandbox` removes them (empty,
// owner dead, older than 2 s), and leaves a running sandbox's cgroup alone.
#[test]
fn cgroup_of_a_killed_ward_is_removed_by_the_next_run() {
    if skip(Mode::Root) {
        return;
    }
    let marker = format!("7{}", std::process::id());
    let Some((mut killed, stale)) = sleeping_sandbox(&marker) else {
        return;
    };
    // A running sandbox, old enough to be a candidate: it must survive.
    let live_marker = format!("8{}", std::process::id());
    let Some((mut live, live_dirs)) = sleeping_sandbox(&live_marker) else {
        panic!("the second sandbox made no cgroup, the first did");
    };

    let cleaner = cleaner_of(killed.id());
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(cleaner),
        nix::sys::signal::SIGKILL,
    )
    .expect("SIGKILL the cleanup process");
    killed.kill().expect("SIGKILL ward");
    let _ = killed.wait();
    wait_for_process(&marker, false);
    wait_until(&format!("{stale:?} never emptied"), || {
        procs_in(&stale) == 0
    });
    std::thread::sleep(Duration::from_millis(2500));

    // An unprivileged run cannot remove root's cgroups, and must not fail
    // trying. (Whether they are still there is not asserted: the other
    // tests of this file run root sandboxes in parallel, and sweep too.)
    if unprivileged_unavailable().is_none() {
        let o = run(Mode::Nobody, &["sandbox", "--", "true"]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    let o = run(Mode::Root, &["sandbox", "--", "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let left = sandbox_cgroups(killed.id());
    assert!(left.is_empty(), "left behind: {left:?}");

    assert!(live_dirs.iter().all(|d| d.is_dir()), "{live_dirs:?}");
    assert!(procs_in(&live_dirs) > 0, "the live sandbox lost its cgroup");
    live.kill().expect("SIGKILL ward");
    let _ = live.wait();
    wait_for_process(&live_marker, false);
    // The live one is now stale too; clean it up the same way.
    std::thread::sleep(Duration::from_millis(2100));
    let _ = run(Mode::Root, &["sandbox", "--", "true"]);
    assert!(sandbox_cgroups(live.id()).is_empty());
}

// The init joins its cgroup while it sets up its mounts (a v1 join waits
// for an RCU grace period); the command must still start inside it, with
// the cgroup as the root of its cgroup namespace.
#[test]
fn command_runs_inside_its_cgroup_and_cgroup_namespace() {
    if skip(Mode::Root) {
        return;
    }
    let marker = format!("9{}", std::process::id());
    let mut w = ward(Mode::Root)
        .args([
            "sandbox",
            "--",
            "/bin/sh",
            "-c",
            &format!("cat /proc/self/cgroup; exec sleep {marker}"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("ward");
    wait_for_process(&marker, true);
    let dirs = sandbox_cgroups(w.id());
    let in_cgroup = procs_in(&dirs);
    w.kill().expect("SIGKILL ward");
    let _ = w.wait();
    wait_for_process(&marker, false);
    let mut out = String::new();
    w.stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("read");
    if dirs.is_empty() {
        no_cgroup_is_a_skip();
        return;
    }
    // The reaper and the command, in every hierarchy used.
    assert!(in_cgroup >= 2 * dirs.len(), "{in_cgroup} in {dirs:?}");
    for line in out.lines() {
        assert!(
            line.ends_with(":/"),
            "outside its cgroup namespace root: {out}"
        );
    }
}

// --learn records what the command does (SCMP_ACT_NOTIFY + CONTINUE) and
// writes a minimal profile; with --seccomp that profile runs the same
// command and denies a syscall the learned one did not make.
fn learn_then_enforce(mode: Mode) {
    if skip(mode) {
        return;
    }
    let bb = "/usr/bin/busybox";
    if !Path::new(bb).exists() {
        eprintln!("SKIP: {bb} is not installed");
        return;
    }
    let dir = scratch(mode);
    let file = dir.join("learned.json");
    let f = file.to_str().expect("utf-8 path");
    let o = run(mode, &["sandbox", "--learn", f, "--", bb, "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let p: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("profile written"))
            .expect("JSON");
    assert_eq!(p["defaultAction"], "SCMP_ACT_ERRNO", "{p}");
    let names: Vec<String> = p["syscalls"]
        .as_array()
        .expect("syscalls")
        .iter()
        .flat_map(|r| r["names"].as_array().cloned().unwrap_or_default())
        .filter_map(|n| n.as_str().map(str::to_string))
        .collect();
    for want in ["execve", "exit_group"] {
        assert!(
            names.iter().any(|n| n == want),
            "{want} not learned: {names:?}"
        );
    }
    for never in ["mkdir", "mkdirat", "mount", "ptrace"] {
        assert!(
            !names.iter().any(|n| n == never),
            "{never} learned: {names:?}"
        );
    }
    // The learned command runs under its profile...
    let o = run(mode, &["sandbox", "--seccomp", f, "--", bb, "true"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    // ...a syscall it did not make is denied (mkdir works without it).
    let (code, _, err) = sh(mode, &[], &format!("{bb} mkdir /tmp/learned-ok"));
    assert_eq!(code, 0, "{err}");
    let o = run(
        mode,
        &[
            "sandbox",
            "--seccomp",
            f,
            "--",
            bb,
            "mkdir",
            "/tmp/learned-denied",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("Operation not permitted"),
        "{}",
        text(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn learn_then_enforce_root() {
    learn_then_enforce(Mode::Root);
}

#[test]
fn learn_then_enforce_nobody() {
    learn_then_enforce(Mode::Nobody);
}

#[test]
fn seccomp_flag_refuses_bad_profiles() {
    if skip(Mode::Root) {
        return;
    }
    let dir = scratch(Mode::Root);
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "not json").expect("write");
    let notify = dir.join("notify.json");
    std::fs::write(
        &notify,
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    )
    .expect("write");
    let tiocsti = dir.join("tiocsti.json");
    std::fs::write(
        &tiocsti,
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
    )
    .expect("write");
    let compat = dir.join("compat.json");
    std::fs::write(
        &compat,
        r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],"syscalls":[]}"#,
    )
    .expect("write");
    for (file, says) in [
        (&bad, "not an OCI seccomp profile"),
        (&notify, "SCMP_ACT_NOTIFY"),
        (&tiocsti, "ioctl(TIOCSTI)"),
        (&compat, "architectures"),
        (&dir.join("missing.json"), "--seccomp"),
    ] {
        let o = run(
            Mode::Root,
            &[
                "sandbox",
                "--seccomp",
                file.to_str().expect("utf-8"),
                "--",
                "true",
            ],
        );
        assert_eq!(o.status.code(), Some(125), "{}", text(&o.stderr));
        assert!(text(&o.stderr).contains(says), "{}", text(&o.stderr));
    }
    let o = run(
        Mode::Root,
        &[
            "sandbox",
            "--seccomp",
            notify.to_str().expect("utf-8"),
            "--learn",
            "/dev/null",
            "--",
            "true",
        ],
    );
    assert_eq!(o.status.code(), Some(125), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("--learn and --seccomp"),
        "{}",
        text(&o.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

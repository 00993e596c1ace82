//! Helpers of the escape tests: the attacker's probe, scratch files, the
//! weakened setups and the way results are reported.
//!
//! Lines the tests print (on stderr, visible with plain `cargo test`):
//!
//! - `WEAKENED: <test>: <setup>: the attack WORKS: <evidence>` — the same
//!   attack against a deliberately weakened setup (runc 1.1.5, a config
//!   without the protection, a process without the runtime's protection),
//!   proof that the test's attack is real;
//! - `SKIP-WEAKENED: <test>: <setup>: <why>` — that demonstration did not
//!   work here (the setup is not vulnerable on this host) or could not run;
//! - `KNOWN-VULNERABLE: <test>: <what>` — ward-oci is vulnerable; the test
//!   returns without failing so the suite stays green until the runtime is
//!   fixed (`WARD_ESCAPES_STRICT=1` turns it into a failure). For runc or
//!   crun under test the same finding is a plain failure: that is what
//!   "vulnerable" looks like in docs/escapes.md.
//! - `SKIP: <test>: <why>` — the test could not run here.

#![allow(dead_code)]

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ward_tests::runtime::{which, Kind, Runtime};
use ward_tests::{json, say, Bundle, Ctx, Out};

/// The static probe program built by tests/build.rs.
pub fn probe() -> PathBuf {
    let p = env!("WARD_PROBE");
    if p.is_empty() {
        panic!(
            "the static ward-probe was not built ({}); see tests/build.rs",
            option_env!("WARD_PROBE_ERROR").unwrap_or("no reason recorded")
        );
    }
    PathBuf::from(p)
}

/// Copies the probe into the bundle's rootfs as /bin/ward-probe.
pub fn install_probe(b: &Bundle) {
    let dst = b.rootfs().join("bin/ward-probe");
    if let Err(e) = std::fs::copy(probe(), &dst) {
        panic!("copy the probe to {}: {e}", dst.display());
    }
    chmod(&dst, 0o755);
}

/// chmod, panicking with the path.
pub fn chmod(p: &Path, mode: u32) {
    if let Err(e) = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)) {
        panic!("chmod {}: {e}", p.display());
    }
}

/// Writes `content` to `p` (creating parent directories).
pub fn write(p: &Path, content: &str) {
    if let Some(d) = p.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    if let Err(e) = std::fs::write(p, content) {
        panic!("write {}: {e}", p.display());
    }
}

/// Content of `p`, or "" if it cannot be read.
pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

/// mkdir -p, panicking with the path.
pub fn mkdir(p: &Path) {
    if let Err(e) = std::fs::create_dir_all(p) {
        panic!("mkdir {}: {e}", p.display());
    }
}

/// `ln -s target link`.
pub fn symlink(target: &str, link: &Path) {
    if let Some(d) = link.parent() {
        let _ = std::fs::create_dir_all(d);
    }
    if let Err(e) = std::os::unix::fs::symlink(target, link) {
        panic!("symlink {} -> {target}: {e}", link.display());
    }
}

/// The first `n` bytes of a file and its length: enough to see an overwrite
/// that starts at offset 0 without hashing a large binary.
pub fn fingerprint(p: &Path, n: usize) -> (Vec<u8>, u64) {
    let mut f = match std::fs::File::open(p) {
        Ok(f) => f,
        Err(e) => panic!("open {}: {e}", p.display()),
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut buf = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match f.read(&mut buf[got..]) {
            Ok(0) | Err(_) => break,
            Ok(k) => got += k,
        }
    }
    buf.truncate(got);
    (buf, len)
}

/// Appends a bind mount of host path `src` at `dst` with extra `opts`.
pub fn bind(b: &mut Bundle, src: &Path, dst: &str, opts: &[&str]) {
    let mut o = vec!["bind"];
    o.extend_from_slice(opts);
    b.mount(json!({
        "destination": dst,
        "type": "bind",
        "source": src.display().to_string(),
        "options": o,
    }));
}

/// Removes every mount whose destination is /dev or below it: the rootfs's
/// own /dev is then what the container sees.
pub fn drop_dev_mounts(b: &mut Bundle) {
    if let Some(a) = b.config["mounts"].as_array_mut() {
        a.retain(|m| {
            let d = m["destination"].as_str().unwrap_or("");
            d != "/dev" && !d.starts_with("/dev/")
        });
    }
}

/// Sets all of bounding, effective and permitted (and clears ambient and
/// inheritable unless given).
pub fn caps(b: &mut Bundle, caps: &[&str], inheritable: &[&str]) {
    let mut c = json!({ "bounding": caps, "effective": caps, "permitted": caps, "ambient": [] });
    if !inheritable.is_empty() {
        c["inheritable"] = json!(inheritable);
    }
    b.config["process"]["capabilities"] = c;
}

/// The template's capabilities plus `extra`.
pub fn default_caps_plus<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut v: Vec<&'a str> = ward_tests::bundle::DEFAULT_CAPS.to_vec();
    v.extend_from_slice(extra);
    v
}

/// `WARD_ESCAPES_STRICT=1`: a KNOWN-VULNERABLE finding fails the test.
pub fn strict() -> bool {
    std::env::var_os("WARD_ESCAPES_STRICT").is_some_and(|v| !v.is_empty() && v != "0")
}

/// The runtime under test is vulnerable. ward-oci (a known, reported
/// vulnerability): print `KNOWN-VULNERABLE:` and return true (the caller
/// returns). runc, crun, or WARD_ESCAPES_STRICT: fail.
#[track_caller]
pub fn known_vulnerable(ctx: &Ctx, what: &str) -> bool {
    if ctx.rt.kind == Kind::Other && !strict() {
        say(&format!("KNOWN-VULNERABLE: {}: {what}", ctx.name));
        return true;
    }
    panic!("VULNERABLE: {} with {}: {what}", ctx.name, ctx.rt.name());
}

/// The attack works against the weakened setup.
pub fn weakened_works(test: &str, setup: &str, evidence: &str) {
    say(&format!(
        "WEAKENED: {test}: {setup}: the attack WORKS: {evidence}"
    ));
}

/// The weakened setup did not show the attack.
pub fn weakened_skip(test: &str, setup: &str, why: &str) {
    say(&format!("SKIP-WEAKENED: {test}: {setup}: {why}"));
}

/// A second context whose runtime is the installed runc (1.1.5 here), for
/// demonstrations; None (with a SKIP-WEAKENED line) when runc is missing or
/// is the runtime under test anyway.
pub fn runc_ctx(ctx: &Ctx, tag: &str) -> Option<Ctx> {
    if ctx.rt.kind == Kind::Runc {
        weakened_skip(
            &ctx.name,
            "runc",
            "runc is the runtime under test: the test's own assertion shows it",
        );
        return None;
    }
    let Some(path) = which("runc") else {
        weakened_skip(&ctx.name, "runc", "runc is not installed");
        return None;
    };
    let mut c = Ctx::new(&format!("{}-{tag}", ctx.name))?;
    c.rt = Runtime {
        path,
        kind: Kind::Runc,
    };
    Some(c)
}

/// `runc --version`'s first line, for messages.
pub fn runc_version(c: &Ctx) -> String {
    let o = c.rt(&["--version"]);
    o.stdout.lines().next().unwrap_or("runc").trim().to_string()
}

/// Runs `b` in the foreground with a deadline, never panicking on a
/// non-zero exit (the tests look at the outcome).
pub fn run(ctx: &Ctx, b: &Bundle, tag: &str) -> Out {
    let id = ctx.id(tag);
    ctx.run(b, &id)
}

/// Polls until `f` is true or `timeout` passes; returns the last value.
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Lines of /proc/self/mountinfo (this process's mount namespace) that
/// mention `needle`.
pub fn host_mounts_mentioning(needle: &str) -> Vec<String> {
    read(Path::new("/proc/self/mountinfo"))
        .lines()
        .filter(|l| l.contains(needle))
        .map(String::from)
        .collect()
}

/// Every entry below `dir` (recursively), as paths relative to it.
pub fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>, depth: usize) {
        if depth > 16 {
            return;
        }
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            out.push(
                p.strip_prefix(base)
                    .map(|r| r.display().to_string())
                    .unwrap_or_default(),
            );
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(base, &p, out, depth + 1);
            }
        }
    }
    let mut v = Vec::new();
    walk(dir, dir, &mut v, 0);
    v.sort();
    v
}

pub use ward_tests::apparmor::Profile;

/// Why the AppArmor half of an escape test cannot run here, if it cannot.
pub fn apparmor_unavailable() -> Option<String> {
    ward_tests::apparmor::unavailable("ward-tests:escapes")
}

/// The rule of the escape tests' profile: everything a shell needs (see
/// [`Profile::load`]) minus reading and writing `/canary`.
pub const CANARY_RULES: &str = "  deny /canary rw,\n";

/// The canary check of the AppArmor tests: `/canary` in the rootfs, which
/// the profile denies. Prints `CANARY-READ` or `CANARY-DENIED`.
pub const CANARY_SCRIPT: &str =
    "if cat /canary >/dev/null 2>&1; then echo CANARY-READ; else echo CANARY-DENIED; fi";

/// Sets up `/canary` in the rootfs.
pub fn canary(b: &Bundle) {
    write(&b.rootfs().join("canary"), "canary\n");
}

/// Serialises the racing tests: one racer thread spinning at a time, so
/// that the racers do not starve each other (and the runtimes) of the
/// machine's CPUs.
pub fn race_lock() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A thread that swaps two names in a directory with
/// renameat2(RENAME_EXCHANGE) as fast as it can — a racing container
/// flipping a directory and a symlink in a shared volume. Stopped (and
/// joined) on drop.
pub struct Racer {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<u64>>,
}

impl Racer {
    /// Starts swapping `dir/a` and `dir/b`.
    pub fn start(dir: &Path, a: &str, b: &str) -> Racer {
        use std::sync::atomic::{AtomicBool, Ordering};
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (dir, a, b) = (dir.to_path_buf(), dir.join(a), dir.join(b));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || {
            let _ = &dir;
            let mut swaps = 0u64;
            while !flag.load(Ordering::Relaxed) {
                if nix::fcntl::renameat2(
                    None,
                    &a,
                    None,
                    &b,
                    nix::fcntl::RenameFlags::RENAME_EXCHANGE,
                )
                .is_ok()
                {
                    swaps += 1;
                }
            }
            swaps
        });
        Racer {
            stop,
            handle: Some(handle),
        }
    }

    /// Stops the thread; returns how many swaps it made.
    pub fn stop(mut self) -> u64 {
        self.halt()
    }

    fn halt(&mut self) -> u64 {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        self.handle
            .take()
            .map(|h| h.join().unwrap_or(0))
            .unwrap_or(0)
    }
}

impl Drop for Racer {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A run refused because of a [`Racer`] flipping `vol/a` and `vol/b ->
/// outside/` names the raced path in its error: `vol/a`, or `vol/b` or
/// `outside` where the runtime followed the symlink. A runtime that fails
/// for any other reason was not stopped by the race.
pub fn names_raced_path(stderr: &str) -> bool {
    ["vol/a", "vol/b", "outside"]
        .iter()
        .any(|p| stderr.contains(p))
}

/// Like [`run`], with stdin from an empty regular file instead of /dev/null
/// (runc re-opens the container's /dev/null for stdio fds that are the
/// host's /dev/null; that must not get in the way of a test about
/// /dev/null).
pub fn run_stdin_file(ctx: &Ctx, b: &Bundle, tag: &str) -> Out {
    if let Err(e) = b.save() {
        panic!("write {}: {e}", b.config_path().display());
    }
    let stdin = ctx.path("empty-stdin");
    write(&stdin, "");
    let id = ctx.id(tag);
    ctx.cmd(&["run", "--bundle", &b.dir.display().to_string(), &id])
        .stdin_file(&stdin)
        .run()
}

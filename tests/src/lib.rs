//! Shared helpers of the contract tests.
//!
//! The tests exercise runc's CLI contract against whatever runtime
//! `WARD_TEST_RUNTIME` selects (see docs/testing.md). Every test starts with
//! `let ctx = ctx!("name");`, which prints `SKIP: ...` and returns when not
//! root, and otherwise gives a [`Ctx`]: a private temp dir, a private
//! `--root`, unique container ids, and cleanup (kill + delete --force + rm)
//! on drop, also when the test panics.

pub mod apparmor;
pub mod bundle;
pub mod cmd;
pub mod console;
pub mod host;
pub mod runtime;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

pub use bundle::Bundle;
pub use cmd::{Cmd, Out, Running};
pub use runtime::{Kind, Runtime};
pub use serde_json::{json, Value};

/// Start a test: `let ctx = ctx!("name");` — returns from the test (after
/// printing `SKIP: reason`) when the suite cannot run here.
#[macro_export]
macro_rules! ctx {
    ($name:expr) => {
        match $crate::Ctx::new($name) {
            Some(c) => c,
            None => return,
        }
    };
}

/// `skip!(ctx, "reason {}", x)`: print `SKIP: <test>: <reason>` and return
/// from the test.
#[macro_export]
macro_rules! skip {
    ($ctx:expr, $($arg:tt)*) => {{
        $crate::say(&format!("SKIP: {}: {}", $ctx.name, format!($($arg)*)));
        return;
    }};
}

/// Print a line on the real stderr, bypassing libtest's output capture (so
/// `SKIP:` lines are visible even for passing tests).
pub fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn next() -> usize {
    SEQ.fetch_add(1, Ordering::SeqCst)
}

/// Per-test context. Dropping it kills and deletes every container whose id
/// came from [`Ctx::id`] and removes the temp dir.
#[derive(Debug)]
pub struct Ctx {
    /// Runtime under test.
    pub rt: Runtime,
    /// Private temp dir of this test.
    pub dir: PathBuf,
    /// The `--root` given to every runtime invocation (`dir/root`).
    pub root: PathBuf,
    /// Test name.
    pub name: String,
    ids: Mutex<Vec<String>>,
}

/// Statuses of the OCI state.
pub const STATUSES: &[&str] = &["creating", "created", "running", "stopped", "paused"];

impl Ctx {
    /// Set up, or print `SKIP: ...` and return None. Panics (failing the
    /// test) if the selected runtime does not exist, or when not run as
    /// root: a suite of skips would read as a suite of passes.
    pub fn new(name: &str) -> Option<Ctx> {
        let uid = host::euid();
        assert!(
            uid == 0,
            "{name}: the contract tests create real containers and need root (euid is {uid}): run `cargo test` as root"
        );
        let rt = match Runtime::get() {
            Ok(rt) => rt,
            Err(e) => panic!("{e}"),
        };
        static ANNOUNCE: Once = Once::new();
        ANNOUNCE.call_once(|| say(&format!("ward-tests: runtime under test: {}", rt.name())));
        if rt.kind == Kind::Crun {
            ensure_crun_hugetlb();
        }
        let dir = std::env::temp_dir().join(format!(
            "ward-tests-{}-{:03}-{name}",
            std::process::id(),
            next()
        ));
        let root = dir.join("root");
        if let Err(e) = std::fs::create_dir_all(&root) {
            panic!("create {}: {e}", root.display());
        }
        Some(Ctx {
            rt,
            dir,
            root,
            name: name.to_string(),
            ids: Mutex::new(Vec::new()),
        })
    }

    /// Is the runtime crun? (only used for documented differences)
    pub fn is_crun(&self) -> bool {
        self.rt.kind == Kind::Crun
    }

    /// A fresh container id (`wt-<tag>-<pid>-<n>`), cleaned up on drop.
    pub fn id(&self, tag: &str) -> String {
        let id = format!("wt-{tag}-{}-{:04}", std::process::id(), next());
        if let Ok(mut v) = self.ids.lock() {
            v.push(id.clone());
        }
        id
    }

    /// `dir/<name>`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// A new bundle in `dir/bundle-<n>` running `args`.
    pub fn bundle(&self, args: &[&str]) -> Bundle {
        let d = self.dir.join(format!("bundle-{:03}", next()));
        match Bundle::create(&d, args) {
            Ok(b) => b,
            Err(e) => panic!("create bundle {}: {e}", d.display()),
        }
    }

    /// `RUNTIME --root ROOT args...` (cwd: the test dir), not yet run.
    pub fn cmd<S: AsRef<str>>(&self, args: &[S]) -> Cmd {
        Cmd::new(&self.rt.path, &self.dir)
            .cwd(&self.dir)
            .args(["--root".to_string(), self.root.display().to_string()])
            .args(args.iter().map(|s| s.as_ref().to_string()))
    }

    /// Run `RUNTIME --root ROOT args...` to completion.
    pub fn rt<S: AsRef<str>>(&self, args: &[S]) -> Out {
        self.cmd(args).run()
    }

    fn save(b: &Bundle) {
        if let Err(e) = b.save() {
            panic!("write {}: {e}", b.config_path().display());
        }
    }

    /// Foreground `run --bundle B ID` (saves the config first).
    pub fn run(&self, b: &Bundle, id: &str) -> Out {
        Self::save(b);
        self.rt(&["run", "--bundle", &b.dir.display().to_string(), id])
    }

    /// Foreground `run` of a deliberately weakened config (a test's control
    /// run): with ward-oci, under a policy file that switches `rules` off,
    /// since ward's default policy would refuse the config before the
    /// weakness could show (runc and crun have no policy).
    pub fn run_weakened(&self, b: &Bundle, id: &str, rules: &[&str]) -> Out {
        Self::save(b);
        let mut args = Vec::new();
        if self.rt.kind == Kind::Other {
            let policy = self.path(&format!("policy-{id}.toml"));
            let body: String = rules
                .iter()
                .map(|r| format!("\"{r}\" = \"off\"\n"))
                .collect();
            if let Err(e) = std::fs::write(&policy, format!("[rules]\n{body}")) {
                panic!("write {}: {e}", policy.display());
            }
            args.extend(["--policy".to_string(), policy.display().to_string()]);
        }
        args.extend(["run", "--bundle"].map(String::from));
        args.extend([b.dir.display().to_string(), id.to_string()]);
        self.rt(&args)
    }

    /// `run` the bundle with `sh -c script`, assert exit 0, return the output.
    #[track_caller]
    pub fn sh(&self, b: &mut Bundle, script: &str) -> Out {
        b.sh(script);
        let id = self.id("sh");
        self.run(b, &id).ok()
    }

    /// `run -d --bundle B ID`.
    pub fn run_detached(&self, b: &Bundle, id: &str) -> Out {
        Self::save(b);
        self.rt(&["run", "-d", "--bundle", &b.dir.display().to_string(), id])
    }

    /// `create --bundle B ID`.
    pub fn create(&self, b: &Bundle, id: &str) -> Out {
        Self::save(b);
        self.rt(&["create", "--bundle", &b.dir.display().to_string(), id])
    }

    /// `start ID`.
    pub fn start(&self, id: &str) -> Out {
        self.rt(&["start", id])
    }

    /// `kill ID SIG`.
    pub fn kill(&self, id: &str, sig: &str) -> Out {
        self.rt(&["kill", id, sig])
    }

    /// `delete ID`.
    pub fn delete(&self, id: &str) -> Out {
        self.rt(&["delete", id])
    }

    /// `delete --force ID`.
    pub fn delete_force(&self, id: &str) -> Out {
        self.rt(&["delete", "--force", id])
    }

    /// `exec ID args...`.
    pub fn exec(&self, id: &str, args: &[&str]) -> Out {
        let mut v = vec!["exec", id];
        v.extend_from_slice(args);
        self.rt(&v)
    }

    /// `state ID`, parsed; panics if it fails or is not JSON.
    #[track_caller]
    pub fn state(&self, id: &str) -> Value {
        let o = self.rt(&["state", id]).ok();
        match serde_json::from_str(&o.stdout) {
            Ok(v) => v,
            Err(e) => panic!("state output is not JSON ({e}): {o}"),
        }
    }

    /// `state ID` .status
    #[track_caller]
    pub fn status(&self, id: &str) -> String {
        self.state(id)["status"].as_str().unwrap_or("").to_string()
    }

    /// Poll `state` until status is `want` (panics after `timeout`).
    #[track_caller]
    pub fn wait_status(&self, id: &str, want: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.state(id);
            if s["status"] == want {
                return s;
            }
            if Instant::now() >= deadline {
                panic!(
                    "container {id} did not reach status {want:?} within {timeout:?}; state: {s}"
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Poll `state` until status is `want` or `timeout` passes; returns the
    /// last state either way.
    #[track_caller]
    pub fn poll_status(&self, id: &str, want: &str, timeout: Duration) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let s = self.state(id);
            if s["status"] == want || Instant::now() >= deadline {
                return s;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What container `id` left behind: state dir entries under `--root`
    /// (anything whose name contains `id`), processes (cgroup, cwd in the
    /// bundle, or `marker` in the command line), cgroup dirs, mounts.
    pub fn leftovers(&self, id: &str, bundle: &Path, marker: Option<&str>) -> Vec<String> {
        let mut v = Vec::new();
        if !id.is_empty() && self.root.join(id).exists() {
            v.push(format!("state dir: {}", self.root.join(id).display()));
        }
        if let Ok(rd) = std::fs::read_dir(&self.root) {
            for e in rd.filter_map(|e| e.ok()) {
                let n = e.file_name().to_string_lossy().into_owned();
                if !id.is_empty() && n.contains(id) && self.root.join(&n) != self.root.join(id) {
                    v.push(format!("state entry: {}", e.path().display()));
                }
            }
        }
        v.extend(host::host_leftovers(id, bundle, marker));
        v
    }

    /// Assert that nothing of container `id` remains (retrying for up to 3 s
    /// to let killed processes be reaped).
    #[track_caller]
    pub fn assert_no_leftovers(&self, id: &str, bundle: &Path, marker: Option<&str>) {
        let deadline = Instant::now() + Duration::from_secs(3);
        loop {
            let l = self.leftovers(id, bundle, marker);
            if l.is_empty() {
                return;
            }
            if Instant::now() >= deadline {
                panic!("container {id:?} left things behind:\n  {}", l.join("\n  "));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The runtime's `--root` entries, but for ward's cache of compiled
    /// seccomp filters (`seccomp@cache`, which outlives containers by
    /// design: tests/tests/seccomp_cache.rs).
    pub fn root_entries(&self) -> Vec<String> {
        std::fs::read_dir(&self.root)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|name| name != "seccomp@cache")
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        let ids = self.ids.lock().map(|v| v.clone()).unwrap_or_default();
        for id in ids.iter().rev() {
            let t = Duration::from_secs(10);
            let _ = self
                .cmd(&["kill", id, "KILL"])
                .timeout(t)
                .spawn()
                .and_then(|r| r.wait());
            let _ = self
                .cmd(&["delete", "--force", id])
                .timeout(t)
                .spawn()
                .and_then(|r| r.wait());
        }
        if std::thread::panicking() && std::env::var_os("WARD_TEST_KEEP").is_some() {
            say(&format!("WARD_TEST_KEEP: keeping {}", self.dir.display()));
            return;
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// crun refuses a hybrid cgroup layout unless a v1 hugetlb hierarchy is
/// mounted; mount one (once per process) when missing.
fn ensure_crun_hugetlb() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let hybrid = host::is_mountpoint("/sys/fs/cgroup/unified");
        if !hybrid || host::is_mountpoint("/sys/fs/cgroup/hugetlb") {
            return;
        }
        let _ = std::fs::create_dir_all("/sys/fs/cgroup/hugetlb");
        let r = std::process::Command::new("mount")
            .args([
                "-t",
                "cgroup",
                "-o",
                "hugetlb",
                "cgroup",
                "/sys/fs/cgroup/hugetlb",
            ])
            .status();
        match r {
            Ok(s) if s.success() => say("ward-tests: mounted /sys/fs/cgroup/hugetlb for crun"),
            other => say(&format!(
                "ward-tests: warning: mounting /sys/fs/cgroup/hugetlb failed: {other:?}"
            )),
        }
    });
}

/// Wait until `path` exists and is non-empty; return its trimmed content.
#[track_caller]
pub fn wait_for_file(path: &Path, timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(s) = std::fs::read_to_string(path) {
            if !s.trim().is_empty() {
                return s.trim().to_string();
            }
        }
        if Instant::now() >= deadline {
            panic!("{} did not appear within {timeout:?}", path.display());
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Parse a pid written by `--pid-file`.
#[track_caller]
pub fn read_pid(path: &Path) -> i32 {
    let s = wait_for_file(path, Duration::from_secs(5));
    match s.parse() {
        Ok(p) if p > 0 => p,
        _ => panic!("{} does not hold a pid: {s:?}", path.display()),
    }
}

/// Does `s` look like an RFC 3339 UTC timestamp (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±hh:mm)`)?
pub fn is_rfc3339(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && (b[10] == b'T' || b[10] == b't')
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let tail = &s[19..];
    let tail = tail
        .strip_prefix('.')
        .map(|t| t.trim_start_matches(|c: char| c.is_ascii_digit()))
        .unwrap_or(tail);
    let zone_ok = tail == "Z"
        || tail == "z"
        || (tail.len() == 6
            && (tail.starts_with('+') || tail.starts_with('-'))
            && tail.as_bytes()[3] == b':');
    shape && zone_ok
}

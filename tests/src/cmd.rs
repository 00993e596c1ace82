//! Running a command with a deadline and captured output.
//!
//! Output goes to files rather than pipes: a detached container inherits the
//! runtime's stdout/stderr, and a pipe would then never reach EOF.

use std::ffi::OsString;
use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use std::os::unix::process::ExitStatusExt;

/// Default deadline of one runtime invocation.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

static SEQ: AtomicUsize = AtomicUsize::new(0);

/// A command to run.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: PathBuf,
    args: Vec<OsString>,
    cwd: Option<PathBuf>,
    stdin: Option<PathBuf>,
    fd3: Option<PathBuf>,
    env: Vec<(String, String)>,
    out_dir: PathBuf,
    timeout: Duration,
}

/// Result of a finished command.
#[derive(Debug, Clone)]
pub struct Out {
    /// The command line, for messages.
    pub cmdline: String,
    /// Exit status.
    pub status: ExitStatus,
    /// Captured stdout.
    pub stdout: String,
    /// Captured stderr.
    pub stderr: String,
    /// Wall time.
    pub elapsed: Duration,
}

/// A spawned command.
#[derive(Debug)]
pub struct Running {
    child: Option<Child>,
    cmdline: String,
    stdout: PathBuf,
    stderr: PathBuf,
    started: Instant,
    timeout: Duration,
}

impl Cmd {
    /// `program args...`, with output files created in `out_dir`.
    pub fn new(program: impl AsRef<Path>, out_dir: impl AsRef<Path>) -> Cmd {
        Cmd {
            program: program.as_ref().to_path_buf(),
            args: Vec::new(),
            cwd: None,
            stdin: None,
            fd3: None,
            env: Vec::new(),
            out_dir: out_dir.as_ref().to_path_buf(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Append arguments.
    pub fn args<I, S>(mut self, args: I) -> Cmd
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Working directory.
    pub fn cwd(mut self, dir: impl AsRef<Path>) -> Cmd {
        self.cwd = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Stdin from a file (default: /dev/null).
    pub fn stdin_file(mut self, path: impl AsRef<Path>) -> Cmd {
        self.stdin = Some(path.as_ref().to_path_buf());
        self
    }

    /// Give the command an extra fd 3 opened read-only on `path`
    /// (through a `/bin/sh -c 'exec ... 3<file'` trampoline).
    pub fn fd3(mut self, path: impl AsRef<Path>) -> Cmd {
        self.fd3 = Some(path.as_ref().to_path_buf());
        self
    }

    /// Set an environment variable.
    pub fn env(mut self, k: &str, v: &str) -> Cmd {
        self.env.push((k.to_string(), v.to_string()));
        self
    }

    /// Deadline (the command is SIGKILLed and the test fails past it).
    pub fn timeout(mut self, t: Duration) -> Cmd {
        self.timeout = t;
        self
    }

    fn cmdline(&self) -> String {
        let mut s = self.program.display().to_string();
        for a in &self.args {
            s.push(' ');
            let a = a.to_string_lossy();
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '\'') {
                s.push_str(&format!("{a:?}"));
            } else {
                s.push_str(&a);
            }
        }
        if let Some(f) = &self.fd3 {
            s.push_str(&format!(" 3<{}", f.display()));
        }
        s
    }

    /// Start the command.
    pub fn spawn(&self) -> Result<Running, String> {
        let cmdline = self.cmdline();
        let n = SEQ.fetch_add(1, Ordering::SeqCst);
        let stem = format!("out-{}-{n:04}", std::process::id());
        let stdout = self.out_dir.join(format!("{stem}.stdout"));
        let stderr = self.out_dir.join(format!("{stem}.stderr"));
        let fo = File::create(&stdout).map_err(|e| format!("create {}: {e}", stdout.display()))?;
        let fe = File::create(&stderr).map_err(|e| format!("create {}: {e}", stderr.display()))?;
        let mut c = match &self.fd3 {
            None => {
                let mut c = Command::new(&self.program);
                c.args(&self.args);
                c
            }
            Some(f) => {
                let mut c = Command::new("/bin/sh");
                c.arg("-c")
                    .arg("exec \"$0\" \"$@\" 3<\"$WARD_TEST_FD3\"")
                    .arg(&self.program)
                    .args(&self.args)
                    .env("WARD_TEST_FD3", f);
                c
            }
        };
        if let Some(d) = &self.cwd {
            c.current_dir(d);
        }
        for (k, v) in &self.env {
            c.env(k, v);
        }
        match &self.stdin {
            None => {
                c.stdin(Stdio::null());
            }
            Some(p) => {
                let f = File::open(p).map_err(|e| format!("open {}: {e}", p.display()))?;
                c.stdin(f);
            }
        }
        c.stdout(fo).stderr(fe);
        // ETXTBSY: a binary the test has just copied (a runtime or tool
        // copy) is still open for writing in a child that another test
        // thread forked meanwhile and that has not exec'd yet. Transient.
        let mut tries = 0;
        let child = loop {
            match c.spawn() {
                Err(e) if e.raw_os_error() == Some(libc::ETXTBSY) && tries < 50 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                r => break r.map_err(|e| format!("spawn `{cmdline}`: {e}"))?,
            }
        };
        Ok(Running {
            child: Some(child),
            cmdline,
            stdout,
            stderr,
            started: Instant::now(),
            timeout: self.timeout,
        })
    }

    /// Run to completion; panics (failing the test) if it cannot be
    /// started or exceeds its deadline.
    pub fn run(&self) -> Out {
        match self.spawn().and_then(|r| r.wait()) {
            Ok(o) => o,
            Err(e) => panic!("{e}"),
        }
    }
}

impl Running {
    /// Pid of the spawned process.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Has it exited? (non-blocking)
    pub fn finished(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => !matches!(c.try_wait(), Ok(None)),
            None => true,
        }
    }

    /// Wait for exit within the deadline. On timeout the process is killed
    /// and an error with its output so far is returned.
    pub fn wait(mut self) -> Result<Out, String> {
        let mut child = self
            .child
            .take()
            .ok_or_else(|| "process already waited for".to_string())?;
        let deadline = self.started + self.timeout;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => {
                    return Ok(Out {
                        cmdline: self.cmdline.clone(),
                        status,
                        stdout: read_lossy(&self.stdout),
                        stderr: read_lossy(&self.stderr),
                        elapsed: self.started.elapsed(),
                    });
                }
                Ok(None) => {}
                Err(e) => return Err(format!("wait for `{}`: {e}", self.cmdline)),
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{}` did not finish within {:?}\nstdout: {}\nstderr: {}",
                    self.cmdline,
                    self.timeout,
                    read_lossy(&self.stdout),
                    read_lossy(&self.stderr)
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Current content of its stdout file.
    pub fn stdout_so_far(&self) -> String {
        read_lossy(&self.stdout)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn read_lossy(p: &Path) -> String {
    std::fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

impl Out {
    /// Exit code, or `128 + signal` if killed by a signal (shell convention).
    pub fn code(&self) -> i32 {
        match (self.status.code(), self.status.signal()) {
            (Some(c), _) => c,
            (None, Some(s)) => 128 + s,
            (None, None) => -1,
        }
    }

    /// Exit code 0?
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// stderr followed by stdout.
    pub fn text(&self) -> String {
        format!("{}\n{}", self.stderr, self.stdout)
    }

    /// Does stderr or stdout contain any of `words` (case-insensitive)?
    pub fn mentions_any(&self, words: &[&str]) -> bool {
        let t = self.text().to_lowercase();
        words.iter().any(|w| t.contains(&w.to_lowercase()))
    }

    /// Panic unless exit code 0.
    #[track_caller]
    pub fn ok(self) -> Out {
        assert!(self.success(), "expected success of: {self}");
        self
    }

    /// Panic unless non-zero exit.
    #[track_caller]
    pub fn fails(self) -> Out {
        assert!(
            !self.success(),
            "expected failure (non-zero exit) of: {self}"
        );
        self
    }

    /// Panic unless it failed and mentions one of `words` (case-insensitive).
    #[track_caller]
    pub fn fails_mentioning(self, words: &[&str]) -> Out {
        let o = self.fails();
        assert!(
            o.mentions_any(words),
            "expected the error output to mention one of {words:?}: {o}"
        );
        o
    }

    /// stdout split into trimmed non-empty lines.
    pub fn lines(&self) -> Vec<String> {
        self.stdout
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect()
    }
}

impl fmt::Display for Out {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` exited {} after {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}\n---",
            self.cmdline,
            self.code(),
            self.elapsed,
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }
}

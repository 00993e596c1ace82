//! The `ward-seccomp-exec` helper's command line: what it refuses (exit 2
//! with the reason and the usage), how it reads profiles and probe
//! arguments, and its `dump` report. The kernel tests rely on all of it.

use std::path::PathBuf;
use std::process::{Command, Output};

mod common;
use common::{stderr, stdout, HELPER};

fn helper(args: &[&str]) -> Output {
    Command::new(HELPER)
        .args(args)
        .output()
        .expect("run helper")
}

/// Asserts exit status 2 with `why` and the usage line on stderr.
#[track_caller]
fn refused(args: &[&str], why: &str) {
    let o = helper(args);
    let e = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {e}");
    assert!(e.contains(why), "{args:?}: {e}");
    assert!(e.contains("usage: ward-seccomp-exec"), "{args:?}: {e}");
}

/// A profile file removed when the test ends.
struct Profile(PathBuf);

impl Profile {
    fn new(tag: &str, json: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "ward-seccomp-cli-{}-{tag}.json",
            std::process::id()
        ));
        std::fs::write(&path, json).expect("write profile");
        Profile(path)
    }
    fn path(&self) -> &str {
        self.0.to_str().expect("utf-8 path")
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

const ALLOW_ALL: &str = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
    {"names":["getpid","no_such_syscall_x"],"action":"SCMP_ACT_ALLOW"},
    {"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#;

#[test]
fn bad_command_lines_exit_2_with_the_reason() {
    let p = Profile::new("bad", ALLOW_ALL);
    refused(&[], "missing profile");
    refused(&["--oci"], "missing profile file");
    refused(
        &["--oci", "/nonexistent/profile.json", "dump"],
        "/nonexistent/profile.json",
    );
    refused(&["--bogus", "x", "dump"], "--bogus needs a file");
    refused(&["--oci", p.path()], "missing mode");
    refused(&["--oci", p.path(), "fly"], "unknown mode \"fly\"");
    refused(&["--oci", p.path(), "--cap"], "--cap needs a value");
    refused(&["--oci", p.path(), "probe"], "probe needs a syscall");
    refused(
        &["--oci", p.path(), "probe", "no_such_syscall_x"],
        "syscall no_such_syscall_x",
    );
    refused(
        &[
            "--oci",
            p.path(),
            "probe",
            "getpid",
            "1",
            "2",
            "3",
            "4",
            "5",
            "6",
            "7",
        ],
        "at most 6 arguments",
    );
    refused(
        &["--oci", p.path(), "probe", "getpid", "zz"],
        "argument \"zz\"",
    );
    refused(
        &["--oci", p.path(), "probe", "getpid", "0xzz"],
        "argument \"0xzz\"",
    );
    refused(
        &["--oci", p.path(), "notify", "getpid"],
        "no SCMP_ACT_NOTIFY rule",
    );
    let bad = Profile::new("badjson", r#"{"defaultAction":"SCMP_ACT_MAYBE"}"#);
    refused(&["--oci", bad.path(), "dump"], "SCMP_ACT_MAYBE");
}

#[test]
fn probe_arguments_and_syscall_numbers() {
    let p = Profile::new("probe", ALLOW_ALL);
    // Six arguments in decimal, negative and hex are accepted.
    let o = helper(&[
        "--oci",
        p.path(),
        "probe",
        "getpid",
        "1",
        "-1",
        "0x10",
        "0",
        "0",
        "0",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let pid: i64 = out
        .strip_prefix("ok ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(pid > 1, "{out}");
    // A syscall given by number: getpid's, on this arch.
    let getpid = libc::SYS_getpid.to_string();
    let o = helper(&["--ward-default", "probe", &getpid]);
    assert!(stdout(&o).starts_with("ok "), "{}", stderr(&o));
    let o = helper(&["--oci", p.path(), "mkdir", "/nonexistent-ward-cli/x"]);
    assert_eq!(stdout(&o), "err 13");
}

#[test]
fn dump_reports_what_compiling_produced() {
    let p = Profile::new("dump", ALLOW_ALL);
    let o = helper(&["--oci", p.path(), "dump"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    let n: usize = lines[0]
        .strip_prefix("instructions ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(n > 3, "{out}");
    assert_eq!(lines[1], "flags 0x0");
    // An allowing default action needs no -ENOSYS stub.
    assert_eq!(lines[2], "stub 0");
    assert_eq!(lines[3], "enosys_above []");
    assert_eq!(lines[4], "unknown no_such_syscall_x");
    let o = helper(&["--ward-default", "dump"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    // ward's default profile denies by default: it gets the stub.
    let stub = out.lines().nth(2).unwrap_or_default();
    assert!(stub.starts_with("stub ") && stub != "stub 0", "{out}");
}

#[test]
fn docker_profile_follows_the_capabilities() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/reference/docker-default-seccomp.json"
    );
    if !std::path::Path::new(path).exists() {
        eprintln!("SKIP: {path} not found");
        return;
    }
    let dump = |caps: &[&str]| {
        let mut args = vec!["--docker", path];
        for c in caps {
            args.extend(["--cap", c]);
        }
        args.push("dump");
        let o = helper(&args);
        assert!(o.status.success(), "{caps:?}: {}", stderr(&o));
        stdout(&o)
    };
    let default = dump(&[]);
    // Docker's default capabilities are what no --cap means.
    let explicit: Vec<&str> = ward_spec::caps::DOCKER_DEFAULT.to_vec();
    assert_eq!(dump(&explicit), default);
    // CAP_SYS_ADMIN unlocks mount & co.: a different program.
    assert_ne!(dump(&["CAP_SYS_ADMIN"]), default);
}

#[test]
fn no_new_privs_is_set_unless_asked_not_to() {
    let p = Profile::new("nnp", ALLOW_ALL);
    let status = |extra: &[&str]| {
        let mut args = vec!["--oci", p.path()];
        args.extend_from_slice(extra);
        args.extend(["exec", "/bin/cat", "/proc/self/status"]);
        let o = helper(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        stdout(&o)
            .lines()
            .find(|l| l.starts_with("NoNewPrivs:"))
            .map(|l| l.split_whitespace().last().unwrap_or_default().to_string())
            .unwrap_or_default()
    };
    assert_eq!(status(&[]), "1");
    // Root may load a filter without no_new_privs.
    assert_eq!(status(&["--no-nnp"]), "0");
}

/// `oci` prints a Docker profile resolved for this host in OCI form (what
/// scripts/bench.sh puts into a bundle): it parses back as OCI
/// `linux.seccomp`, with Docker's default action and no Docker-only fields.
#[test]
fn oci_mode_prints_the_resolved_profile() {
    let docker = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/reference/docker-default-seccomp.json"
    );
    let o = helper(&["--docker", docker, "oci"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["defaultAction"], "SCMP_ACT_ERRNO");
    let rules = v["syscalls"].as_array().expect("syscalls");
    assert!(rules.len() > 10, "{} rules", rules.len());
    assert!(rules
        .iter()
        .all(|r| r.get("includes").is_none() && r.get("excludes").is_none()));
    let back: ward_spec::seccomp::LinuxSeccomp = serde_json::from_value(v).expect("OCI form");
    assert!(back
        .syscalls
        .iter()
        .any(|r| r.names.iter().any(|n| n == "read")));
}

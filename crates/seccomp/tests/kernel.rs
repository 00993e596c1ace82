//! Real-kernel tests: profiles are compiled, loaded into a fresh process
//! (the `ward-seccomp-exec` helper) and observed from inside it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

mod common;
use common::{stderr, stdout, HELPER};
const BUSYBOX: &str = "/bin/busybox";

fn busybox() -> bool {
    if Path::new(BUSYBOX).exists() {
        true
    } else {
        eprintln!("SKIP: {BUSYBOX} not installed");
        false
    }
}

fn docker_profile() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/reference/docker-default-seccomp.json");
    if p.exists() {
        Some(p)
    } else {
        eprintln!("SKIP: {} not found", p.display());
        None
    }
}

/// Writes `json` to a temp file unique to this test run.
fn profile_file(json: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "ward-seccomp-test-{}-{}.json",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, json).expect("write profile");
    path
}

fn helper(profile: &[&str], mode: &[&str]) -> Output {
    Command::new(HELPER)
        .args(profile)
        .args(mode)
        .output()
        .expect("run helper")
}

/// Probes `name(args)` under the profile; returns "ok N" or "err E".
fn probe(profile: &[&str], name: &str, args: &[&str]) -> String {
    let mut mode = vec!["probe", name];
    mode.extend_from_slice(args);
    let o = helper(profile, &mode);
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    stdout(&o)
}

/// Removes the profile file when the test ends.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn oci(json: &str) -> (TempFile, Vec<String>) {
    let f = profile_file(json);
    let args = vec!["--oci".to_string(), f.display().to_string()];
    (TempFile(f), args)
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn mkdir_denied_with_eacces_other_syscalls_work() {
    let (_f, p) = oci(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#);
    let p = strs(&p);
    let dir = std::env::temp_dir().join(format!("ward-seccomp-mkdir-{}", std::process::id()));
    let d = dir.to_str().expect("utf-8 path");
    assert_eq!(stdout(&helper(&p, &["mkdir", d])), "err 13");
    assert!(!dir.exists());
    assert_eq!(probe(&p, "getpid", &[]).split(' ').next(), Some("ok"));
    if busybox() {
        let o = helper(&p, &["exec", BUSYBOX, "mkdir", d]);
        assert!(!o.status.success());
        assert!(stderr(&o).contains("Permission denied"), "{}", stderr(&o));
        assert!(!dir.exists());
        let o = helper(
            &p,
            &[
                "exec",
                BUSYBOX,
                "sh",
                "-c",
                "echo hello; ls / >/dev/null && cat /proc/self/status",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        let out = stdout(&o);
        assert!(out.starts_with("hello"));
        // The kernel reports the filter.
        assert!(out.contains("Seccomp:\t2"), "{out}");
    }
}

#[test]
fn masked_eq_and_multi_argument_rules_on_the_kernel() {
    let (_f, p) = oci(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getpgid"],"action":"SCMP_ACT_ERRNO","errnoRet":18,
             "args":[{"index":0,"value":240,"valueTwo":16,"op":"SCMP_CMP_MASKED_EQ"}]},
            {"names":["getpriority"],"action":"SCMP_ACT_ERRNO","errnoRet":18,
             "args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":1,"value":12345,"op":"SCMP_CMP_EQ"}]},
            {"names":["getpgid"],"action":"SCMP_ACT_ERRNO","errnoRet":33,
             "args":[{"index":0,"value":1000,"op":"SCMP_CMP_EQ"},{"index":0,"value":2000,"op":"SCMP_CMP_EQ"}]}]}"#);
    let p = strs(&p);
    // (0x13 & 0xf0) == 0x10: denied with EXDEV.
    assert_eq!(probe(&p, "getpgid", &["0x13"]), "err 18");
    assert_eq!(probe(&p, "getpgid", &["0x1f"]), "err 18");
    // (0x23 & 0xf0) != 0x10: reaches the kernel (no such process).
    assert_eq!(probe(&p, "getpgid", &["0x7ffffe23"]), "err 3");
    assert!(probe(&p, "getpgid", &["0"]).starts_with("ok "));
    // Both conditions of a rule must hold.
    assert_eq!(probe(&p, "getpriority", &["0", "12345"]), "err 18");
    assert!(probe(&p, "getpriority", &["0", "0"]).starts_with("ok "));
    assert_ne!(probe(&p, "getpriority", &["1", "12345"]), "err 18");
    // Same argument twice: split into two rules (runc), so either matches.
    assert_eq!(probe(&p, "getpgid", &["1000"]), "err 33");
    assert_eq!(probe(&p, "getpgid", &["2000"]), "err 33");
    assert_eq!(probe(&p, "getpgid", &["0x7fffff00"]), "err 3");
}

#[test]
fn docker_default_profile_on_the_kernel() {
    let Some(docker) = docker_profile() else {
        return;
    };
    let d = docker.display().to_string();
    let p = ["--docker", d.as_str()];
    if busybox() {
        let o = helper(
            &p,
            &[
                "exec",
                BUSYBOX,
                "sh",
                "-c",
                "ls / >/dev/null && cat /etc/hostname >/dev/null && echo fine",
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), "fine");
        let o = helper(&p, &["exec", BUSYBOX, "unshare", "-U", "true"]);
        assert!(!o.status.success());
        assert!(
            stderr(&o).contains("Operation not permitted"),
            "{}",
            stderr(&o)
        );
        let o = helper(
            &p,
            &["exec", BUSYBOX, "mount", "-t", "tmpfs", "none", "/mnt"],
        );
        assert!(!o.status.success());
    }
    assert_eq!(probe(&p, "mount", &[]), "err 1");
    assert_eq!(probe(&p, "unshare", &["0x10000000"]), "err 1");
    assert_eq!(probe(&p, "clone3", &[]), "err 38");
    assert_eq!(probe(&p, "socket", &["40", "1"]), "err 1");
    // Threads still start: clone3 gets ENOSYS and glibc uses clone.
    assert_eq!(stdout(&helper(&p, &["thread"])), "ok 7");
}

#[test]
fn ward_default_profile_on_the_kernel() {
    let p = ["--ward-default"];
    for name in [
        "open_tree",
        "fsopen",
        "fspick",
        "fsmount",
        "move_mount",
        "mount_setattr",
        "mount",
    ] {
        assert_eq!(probe(&p, name, &[]), "err 1", "{name}");
    }
    assert_eq!(probe(&p, "clone3", &[]), "err 38");
    assert_eq!(probe(&p, "unshare", &["0x10000000"]), "err 1");
    assert_eq!(probe(&p, "keyctl", &["0"]), "err 1");
    assert_eq!(probe(&p, "bpf", &["0"]), "err 1");
    assert_eq!(probe(&p, "ptrace", &["0"]), "err 1");
    assert_eq!(probe(&p, "userfaultfd", &["0"]), "err 1");
    assert_eq!(probe(&p, "perf_event_open", &[]), "err 1");
    assert_eq!(probe(&p, "open_by_handle_at", &[]), "err 1");
    assert_eq!(probe(&p, "socket", &["40", "1"]), "err 1");
    assert_eq!(probe(&p, "socket", &["0x100000028", "1"]), "err 1");
    assert!(probe(&p, "socket", &["1", "1"]).starts_with("ok "));
    // Newer than anything the profile names (open_tree_attr, 467): the
    // stub answers ENOSYS, so a caller falls back instead of failing.
    assert_eq!(probe(&p, "467", &[]), "err 38");
    assert_eq!(stdout(&helper(&p, &["thread"])), "ok 7");
    if busybox() {
        let o = helper(&p, &["exec", BUSYBOX, "sh", "-c", "echo ok | cat"]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert_eq!(stdout(&o), "ok");
    }
}

#[test]
fn clone3_eperm_breaks_threads_which_is_why_enosys() {
    let (_f, p) = oci(r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#);
    let p = strs(&p);
    assert_eq!(stdout(&helper(&p, &["thread"])), "err 1");
}

#[test]
fn notify_listener_answers_for_the_filtered_process() {
    let (_f, p) = oci(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpgid"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    );
    let p = strs(&p);
    let o = helper(&p, &["notify", "getpgid", "0"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.first(), Some(&"ok 4242"), "{out}");
    assert!(
        lines
            .get(1)
            .is_some_and(|l| l.starts_with("ok ") && *l != "ok 4242"),
        "{out}"
    );
    // ADDFD with SEND: the syscall returns the fd number installed in the caller.
    let fd: i32 = lines
        .get(2)
        .and_then(|l| l.strip_prefix("ok "))
        .and_then(|n| n.parse().ok())
        .unwrap_or(-1);
    assert!(fd > 2, "{out}");
    let getpgid = libc::SYS_getpgid;
    assert_eq!(
        lines.get(3),
        Some(&format!("seen [{getpgid}, {getpgid}, {getpgid}]").as_str()),
        "{out}"
    );
}

#[test]
fn filter_flags_load_on_this_kernel() {
    let (_f, p) = oci(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW","SECCOMP_FILTER_FLAG_TSYNC"],
            "syscalls":[{"names":["getpgid"],"action":"SCMP_ACT_ERRNO","errnoRet":18}]}"#,
    );
    let p = strs(&p);
    assert_eq!(probe(&p, "getpgid", &["0"]), "err 18");
    assert!(ward_sys::seccomp::filter_flags_supported(
        (libc::SECCOMP_FILTER_FLAG_LOG | libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW) as u32
    ));
    assert!(!ward_sys::seccomp::filter_flags_supported(1 << 20));
}

#[test]
fn load_filter_refuses_malformed_programs() {
    use ward_sys::seccomp::load_filter;
    for bad in [&[][..], &[0u8; 7][..], &vec![0u8; 8 * 4097][..]] {
        let e = load_filter(bad, 0).expect_err("must be refused");
        assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    }
}

#[test]
fn probe_refuses_syscalls_and_pointers_outside_its_list() {
    use ward_sys::seccomp::probe_syscall;
    // write(2) is not a probe; clone3 with a non-NULL pointer is refused.
    let e = probe_syscall(libc::SYS_write, [1, 0, 0, 0, 0, 0]).expect_err("not a probe");
    assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    let e = probe_syscall(libc::SYS_clone3, [0x1000, 88, 0, 0, 0, 0]).expect_err("pointer");
    assert_eq!(e.raw_os_error(), Some(libc::EINVAL));
    assert!(probe_syscall(libc::SYS_getpid, [0; 6]).is_ok());
}

//! ward's Landlock extension (`run.ward.landlock.*` annotations,
//! docs/landlock.md), observed from inside the container: file access and
//! TCP binds outside the allowed lists fail with EACCES ("Permission
//! denied"), allowed ones work, an exec'd process is confined too, and bad
//! annotations are refused at create leaving nothing behind.
//!
//! This is ward's extension: runc and crun ignore the annotations, so
//! every test SKIPs against them. Each test also runs a control without the
//! annotations (same bundle, same command) where the denied action works,
//! so a silently dropped layer fails the test.

use ward_tests::{ctx, skip, Bundle, Ctx, Kind};

/// The kernel's Landlock ABI (0: none), read from the kernel; the
/// runtime's `features` must announce the same.
fn landlock_abi(ctx: &Ctx) -> u32 {
    let kernel = ward_tests::host::landlock_abi();
    let o = ctx.rt(&["features"]).ok();
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap_or_default();
    let announced = v["annotations"]["run.ward.landlock.abi"].as_str();
    assert_eq!(
        announced,
        Some(kernel.to_string().as_str()),
        "features announces Landlock ABI {announced:?}, the kernel has {kernel}"
    );
    kernel
}

/// SKIPs against runc/crun and on kernels without Landlock (`min_abi`).
macro_rules! ward_with_landlock {
    ($ctx:expr, $min:expr) => {
        if $ctx.rt.kind != Kind::Other {
            skip!(
                $ctx,
                "run.ward.landlock.* is ward's extension; {} ignores it",
                $ctx.rt.name()
            );
        }
        let abi = landlock_abi(&$ctx);
        if abi < $min {
            skip!($ctx, "needs Landlock ABI >= {} (this kernel: {abi})", $min);
        }
    };
}

/// A writable rootfs (so that only Landlock can stop a write) with a tmpfs
/// /tmp, and busybox's nc and timeout.
fn bundle(ctx: &Ctx) -> Bundle {
    let mut b = ctx.bundle(&["true"]);
    b.readonly(false);
    b.mount(
        serde_json::json!({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
        "options": ["nosuid", "nodev"]}),
    );
    for applet in ["nc", "timeout", "rm"] {
        let _ = std::os::unix::fs::symlink("busybox", b.rootfs().join("bin").join(applet));
    }
    b
}

fn confine(b: &mut Bundle) {
    b.annotation("run.ward.landlock.read-exec", "/")
        .annotation("run.ward.landlock.read-write", "/tmp,/dev/null");
}

const WRITES: &str = "touch /tmp/allowed 2>&1 && echo tmp=ok; \
     touch /etc/denied 2>&1 && echo etc=written; \
     echo x > /dev/null && echo null=ok; true";

#[test]
fn writes_outside_the_allowed_paths_fail_with_eacces() {
    let ctx = ctx!("landlock-writes");
    ward_with_landlock!(ctx, 1);
    // Control: without the annotations the same write succeeds.
    let mut b = bundle(&ctx);
    let o = ctx.sh(&mut b, WRITES);
    assert!(o.stdout.contains("etc=written"), "control: {o}");
    std::fs::remove_file(b.rootfs().join("etc/denied")).ok();

    let mut b = bundle(&ctx);
    confine(&mut b);
    let o = ctx.sh(&mut b, WRITES);
    assert!(o.stdout.contains("tmp=ok"), "allowed write to /tmp: {o}");
    assert!(
        o.stdout.contains("null=ok"),
        "allowed write to /dev/null: {o}"
    );
    assert!(
        !o.stdout.contains("etc=written") && o.stdout.contains("Permission denied"),
        "a write outside the allowed paths must fail with EACCES: {o}"
    );
    assert!(!b.rootfs().join("etc/denied").exists());
}

#[test]
fn reads_and_exec_only_where_allowed() {
    let ctx = ctx!("landlock-read");
    ward_with_landlock!(ctx, 1);
    let mut b = bundle(&ctx);
    // /bin may be read and executed; /etc is not listed at all.
    b.annotation("run.ward.landlock.read-exec", "/bin")
        .annotation("run.ward.landlock.read-write", "/dev/null");
    let o = ctx.sh(
        &mut b,
        "cat /etc/passwd >/dev/null 2>&1 && echo etc=read || echo etc=denied; \
         /bin/true && echo exec=ok",
    );
    assert!(o.stdout.contains("etc=denied"), "{o}");
    assert!(o.stdout.contains("exec=ok"), "{o}");
}

#[test]
fn exec_process_gets_the_same_domain() {
    let ctx = ctx!("landlock-exec");
    ward_with_landlock!(ctx, 1);
    let mut b = bundle(&ctx);
    confine(&mut b);
    b.args(&["sleep", "30"]);
    let id = ctx.id("llexec");
    ctx.run_detached(&b, &id).ok();
    let o = ctx.exec(&id, &["sh", "-c", WRITES]).ok();
    assert!(o.stdout.contains("tmp=ok"), "{o}");
    assert!(
        !o.stdout.contains("etc=written") && o.stdout.contains("Permission denied"),
        "exec'd process not confined: {o}"
    );
    assert!(!b.rootfs().join("etc/denied").exists());
}

#[test]
fn confined_without_no_new_privileges() {
    // landlock_restrict_self needs no_new_privs or CAP_SYS_ADMIN: without
    // no_new_privs and with no capabilities the layer must still apply.
    let ctx = ctx!("landlock-nonnp");
    ward_with_landlock!(ctx, 1);
    let mut b = bundle(&ctx);
    confine(&mut b);
    b.user(1000, 1000, &[]);
    b.config["process"]["noNewPrivileges"] = serde_json::json!(false);
    b.config["process"]["capabilities"] = serde_json::json!({});
    let o = ctx.sh(
        &mut b,
        &format!("{WRITES}; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status"),
    );
    assert!(o.stdout.contains("tmp=ok"), "{o}");
    assert!(
        !o.stdout.contains("etc=written") && o.stdout.contains("Permission denied"),
        "{o}"
    );
    // The capability sets are still exactly the config's (none).
    assert!(o.stdout.contains("CapEff:\t0000000000000000"), "{o}");
    assert!(o.stdout.contains("NoNewPrivs:\t0"), "{o}");
}

#[test]
fn tcp_bind_only_to_allowed_ports() {
    let ctx = ctx!("landlock-tcp");
    ward_with_landlock!(ctx, 4);
    let script = "timeout 1 nc -l -p 8080 2>&1; echo allowed=$?; \
                  timeout 1 nc -l -p 8081 2>&1; echo other=$?";
    // Control: both ports can be bound (timeout kills the listener: 143).
    let mut b = bundle(&ctx);
    let o = ctx.sh(&mut b, script);
    assert!(o.stdout.contains("other=143"), "control: {o}");

    let mut b = bundle(&ctx);
    b.annotation("run.ward.landlock.tcp-bind", "8080");
    let o = ctx.sh(&mut b, script);
    assert!(o.stdout.contains("allowed=143"), "allowed port: {o}");
    assert!(
        o.stdout.contains("Permission denied") && o.stdout.contains("other=1"),
        "bind to a port not listed must fail with EACCES: {o}"
    );
}

#[test]
fn bad_annotations_are_refused_leaving_nothing_behind() {
    let ctx = ctx!("landlock-bad");
    ward_with_landlock!(ctx, 1);
    for (key, value, words) in [
        (
            "run.ward.landlock.read-only",
            "/does-not-exist",
            &["run.ward.landlock.read-only", "/does-not-exist"][..],
        ),
        (
            "run.ward.landlock.tcp-bind",
            "80,http",
            &["run.ward.landlock.tcp-bind", "port"][..],
        ),
        (
            "run.ward.landlock.writable",
            "/tmp",
            &["run.ward.landlock.writable", "unknown"][..],
        ),
        (
            "run.ward.landlock.read-write",
            "tmp",
            &["run.ward.landlock.read-write", "absolute"][..],
        ),
    ] {
        let mut b = bundle(&ctx);
        b.annotation(key, value);
        let id = ctx.id("llbad");
        ctx.create(&b, &id).fails_mentioning(words);
        ctx.assert_no_leftovers(&id, &b.dir, None);
    }
}

#[test]
fn features_list_the_annotations() {
    let ctx = ctx!("landlock-features");
    if ctx.rt.kind != Kind::Other {
        skip!(ctx, "run.ward.landlock.* is ward's extension");
    }
    let o = ctx.rt(&["features"]).ok();
    let v: serde_json::Value = serde_json::from_str(&o.stdout).unwrap_or_default();
    let a = &v["annotations"];
    let keys = a["run.ward.landlock.annotations"].as_str().unwrap_or("");
    for k in [
        "read-only",
        "read-exec",
        "read-write",
        "tcp-bind",
        "tcp-connect",
        "mode",
    ] {
        assert!(keys.contains(&format!("run.ward.landlock.{k}")), "{o}");
    }
    let abi: u32 = a["run.ward.landlock.abi"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("run.ward.landlock.abi is not a number: {o}"));
    let enabled = abi > 0;
    assert_eq!(a["run.ward.landlock.enabled"], enabled.to_string(), "{o}");
}

#[test]
fn debug_reports_what_is_applied() {
    let ctx = ctx!("landlock-debug");
    ward_with_landlock!(ctx, 1);
    let mut b = bundle(&ctx);
    confine(&mut b);
    b.save().expect("save config.json");
    let id = ctx.id("lldebug");
    let o = ctx
        .rt(&[
            "--debug",
            "run",
            "--bundle",
            &b.dir.display().to_string(),
            &id,
        ])
        .ok();
    let line = o
        .stderr
        .lines()
        .find(|l| l.contains("landlock: ABI"))
        .unwrap_or_else(|| panic!("no Landlock report with --debug: {o}"));
    assert!(
        line.contains("read-exec /") && line.contains("read-write /tmp,/dev/null"),
        "{line}"
    );
}

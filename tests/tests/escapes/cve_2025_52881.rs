//! CVE-2025-52881: the runtime's own writes to /proc redirected.
//!
//! Attack: the runtime writes to procfs while it sets a container up: the
//! sysctls of the config (/proc/sys/...) and the LSM label
//! (/proc/self/attr/apparmor/exec). A mount over those files — a racing
//! container sharing mounts, or a malicious config — redirects the write:
//! to /proc/sysrq-trigger or core_pattern (the host crashes or runs the
//! attacker's code), or to a dummy file (the label is never applied, the
//! container runs unconfined).
//!
//! Defence:
//! - LSM labels: crates/init/src/lsm.rs `write_attr` goes through the
//!   *host's* procfs (`InitSpec::host_proc`, an fd the runtime opened before
//!   the container's mounts existed), with openat2(RESOLVE_BENEATH |
//!   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) and an
//!   fstatfs check for PROC_SUPER_MAGIC.
//! - sysctls: crates/init/src/pipeline.rs `write_sysctl` writes through
//!   the same verified host procfs handle (crates/init/src/procfs.rs):
//!   the mount over the sysctl file is never crossed, the value goes to the
//!   real sysctl of the container's namespace. (Found vulnerable by this
//!   test — the write went through the container's /proc/sys — and fixed.)
//!
//! Stand-ins: scratch files in the test's temp dir, bind-mounted over the
//! procfs files (a config mount plays the racing container).
//!
//! sysctl: the container is created (set up, sysctls written) and then
//! judged: refused with an error naming the mount on
//! /proc/sys/kernel/domainname (runc: no binds inside /proc), or created
//! with the stand-in untouched and the value in the real sysctl of the
//! container's UTS namespace (read from the host: `nsenter --uts`). Weakened
//! setup: the write a runtime without the protection makes (runc < 1.2.8,
//! ward before its fix): by path, as root, in the container's mount
//! namespace (`nsenter --mount --uts`) — it lands in the stand-in.
//!
//! LSM: refused with an error that says why, or started confined. Weakened
//! setup: runc 1.1.5, whose checkProcMount refuses binds under /proc, so a
//! config mount cannot play the racing container there; the real attack
//! needs a second container racing the shared mounts, which this suite
//! does not build — the test says so (SKIP-WEAKENED). A by-path write as
//! above does not help: the mount sits on the init's own
//! /proc/<pid>/attr, which only the init itself reaches as /proc/self.

use std::time::Duration;

use ward_tests::runtime::which;
use ward_tests::{ctx, say, skip, Bundle, Cmd, Ctx, Out};

use crate::common::*;

const ORIGINAL: &str = "ORIGINAL sysrq-trigger stand-in\n";
const SYSCTL: &str = "/proc/sys/kernel/domainname";
const VALUE: &str = "PWNED-52881";

/// The sysctl `kernel.domainname` with a scratch file bind-mounted over
/// /proc/sys/kernel/domainname. /proc/sys is left out of readonlyPaths:
/// the stand-in then stays writable through the mount whenever the runtime
/// writes, so no order of its steps hides a redirected write (runc < 1.2.8
/// wrote sysctls before making /proc/sys read-only; a runtime that did it
/// after would have been saved by the order alone).
fn sysctl_bundle(ctx: &Ctx) -> (Bundle, std::path::PathBuf) {
    let standin = ctx.path("vol/sysrq-standin");
    write(&standin, ORIGINAL);
    let mut b = ctx.bundle(&[]);
    if let Some(a) = b.config["linux"]["readonlyPaths"].as_array_mut() {
        a.retain(|p| p != "/proc/sys");
    }
    bind(&mut b, &standin, SYSCTL, &["rw"]);
    b.sysctl("kernel.domainname", VALUE);
    b.args(&["true"]);
    (b, standin)
}

/// `nsenter --target PID args...` (host binary).
fn nsenter(ctx: &Ctx, nsenter: &std::path::Path, pid: i64, args: &[&str]) -> Out {
    Cmd::new(nsenter, &ctx.dir)
        .args(["--target".to_string(), pid.to_string()])
        .args(args.iter().map(|a| a.to_string()))
        .timeout(Duration::from_secs(10))
        .run()
}

#[test]
fn sysctl_write_is_not_redirected_by_a_mount() {
    let ctx = ctx!("cve-2025-52881-sysctl");
    let weak = "a write by path in the container's mount namespace \
                (nsenter --mount, as runc < 1.2.8 and ward before its fix wrote sysctls)";
    let Some(nsenter_bin) = which("nsenter") else {
        skip!(ctx, "nsenter is not installed");
    };
    let (b, standin) = sysctl_bundle(&ctx);
    let id = ctx.id("52881");
    let o = ctx.create(&b, &id);
    let now = read(&standin);
    say(&format!(
        "{}: create: exit {}, {}; stand-in now {now:?}",
        ctx.name,
        o.code(),
        o.stderr.trim()
    ));
    assert_eq!(now, ORIGINAL, "sysctl write redirected by a mount: {o}");
    if !o.success() {
        // Refused: over the mount inside /proc, not for any other reason.
        assert!(
            o.stderr.contains(SYSCTL),
            "create failed, but not over the mount on {SYSCTL}: {o}"
        );
        weakened_skip(
            &ctx.name,
            weak,
            "the runtime under test refuses the config: no container to write in",
        );
        return;
    }
    let pid = ctx.state(&id)["pid"].as_i64().unwrap_or(0);
    assert!(pid > 0, "no pid in the state of the created container");
    // The value went where it belongs: the container's UTS namespace, read
    // from the host without the container's mounts.
    let uts = nsenter(&ctx, &nsenter_bin, pid, &["--uts", "--", "cat", SYSCTL]);
    assert_eq!(
        uts.stdout.trim(),
        VALUE,
        "the sysctl did not reach the container's kernel.domainname: {uts}"
    );

    // Weakened: the same write, by path, in the container's mount namespace
    // (and its UTS namespace, so that a write that is not redirected stays
    // in the container).
    let w = nsenter(
        &ctx,
        &nsenter_bin,
        pid,
        &[
            "--mount",
            "--uts",
            "--",
            "/bin/sh",
            "-c",
            &format!("echo WEAKENED-52881 > {SYSCTL}"),
        ],
    );
    let now = read(&standin);
    if now.contains("WEAKENED-52881") {
        weakened_works(
            &ctx.name,
            weak,
            &format!("the write went into the stand-in file, which now reads {now:?}"),
        );
    } else {
        weakened_skip(
            &ctx.name,
            weak,
            &format!("the stand-in still reads {now:?}: {w}"),
        );
    }
    ctx.delete_force(&id);
}

/// A fake label file mounted over /proc/self/attr/apparmor/exec (and the
/// shared attr/exec) and an AppArmor profile that denies /canary.
fn lsm_bundle(ctx: &Ctx, profile: &str) -> (Bundle, Vec<std::path::PathBuf>) {
    let mut b = ctx.bundle(&[]);
    canary(&b);
    let mut fakes = Vec::new();
    for (name, dst) in [
        ("attr-apparmor-exec", "/proc/self/attr/apparmor/exec"),
        ("attr-exec", "/proc/self/attr/exec"),
    ] {
        let f = ctx.path(&format!("vol/{name}"));
        write(&f, "");
        bind(&mut b, &f, dst, &["rw"]);
        fakes.push(f);
    }
    b.config["process"]["apparmorProfile"] = serde_json::json!(profile);
    b.sh(CANARY_SCRIPT);
    (b, fakes)
}

#[test]
fn apparmor_label_write_is_not_redirected_by_a_mount() {
    let ctx = ctx!("cve-2025-52881-lsm");
    if let Some(why) = apparmor_unavailable() {
        // Without AppArmor the label write must not happen at all; the
        // fake files stay empty. A runtime may ignore the profile and start
        // the container; one that refuses must say why: ward names
        // AppArmor (not enabled), runc the bind "inside /proc", crun the
        // missing mount point /proc/self/attr/apparmor.
        let (b, fakes) = lsm_bundle(&ctx, "ward-escape-52881-absent");
        let o = run(&ctx, &b, "52881n");
        for f in &fakes {
            assert_eq!(read(f), "", "the label went into {}: {o}", f.display());
        }
        assert!(
            o.success() || refused_over_lsm(&o),
            "failed, but not over AppArmor or the mounts in /proc: {o}"
        );
        skip!(ctx, "{why}");
    }
    let profile = Profile::load(&ctx, "escape-52881", CANARY_RULES);
    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let (b, fakes) = lsm_bundle(&weak, &profile.name);
        let o = run(&weak, &b, "52881lw");
        let written: Vec<String> = fakes
            .iter()
            .map(|f| read(f))
            .filter(|s| !s.is_empty())
            .collect();
        if o.stdout.contains("CANARY-READ") || !written.is_empty() {
            weakened_works(
                &ctx.name,
                &runc_version(&weak),
                &format!("label written to the fake file(s) {written:?}; container: {o}"),
            );
        } else if !o.success() && o.stderr.contains("inside /proc") {
            weakened_skip(
                &ctx.name,
                &runc_version(&weak),
                "it refuses binds inside /proc (checkProcMount), so a config mount cannot \
                 play the racing container; the real attack needs a second container racing \
                 the shared mounts, which this suite does not build",
            );
        } else {
            weakened_skip(
                &ctx.name,
                &runc_version(&weak),
                &format!("not vulnerable: {o}"),
            );
        }
    }
    let (b, fakes) = lsm_bundle(&ctx, &profile.name);
    let o = run(&ctx, &b, "52881l");
    say(&format!(
        "{}: exit {}, {}",
        ctx.name,
        o.code(),
        o.text().trim().replace('\n', " | ")
    ));
    for f in &fakes {
        assert_eq!(read(f), "", "the label went into {}: {o}", f.display());
    }
    assert!(
        !o.stdout.contains("CANARY-READ"),
        "the container ran unconfined: {o}"
    );
    // Refused for the right reason, or started confined.
    if o.success() {
        assert!(
            o.stdout.contains("CANARY-DENIED"),
            "started, but the canary check did not run: {o}"
        );
    } else {
        assert!(
            refused_over_lsm(&o),
            "failed, but not over AppArmor or the mounts in /proc: {o}"
        );
    }
}

/// The error names AppArmor (the profile), or the fake files' mount
/// points in /proc.
fn refused_over_lsm(o: &Out) -> bool {
    let e = o.stderr.to_lowercase();
    e.contains("apparmor") || e.contains("/proc/self/attr") || e.contains("inside /proc")
}

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
//! - LSM labels: crates/sandbox/src/lsm.rs `write_attr` goes through the
//!   *host's* procfs (`InitSpec::host_proc`, an fd the runtime opened before
//!   the container's mounts existed), with openat2(RESOLVE_BENEATH |
//!   RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) and an
//!   fstatfs check for PROC_SUPER_MAGIC.
//! - sysctls: crates/sandbox/src/pipeline.rs `write_sysctl` writes through
//!   the same verified host procfs handle (crates/sandbox/src/procfs.rs):
//!   the mount over the sysctl file is never crossed, the value goes to the
//!   real sysctl of the container's namespace. (Found vulnerable by this
//!   test — the write went through the container's /proc/sys — and fixed.)
//!
//! Stand-ins: scratch files in the test's temp dir, bind-mounted over the
//! procfs files (a config mount plays the racing container). Weakened
//! setup: runc 1.1.5 (its checkProcMount refuses binds under /proc, so the
//! config stand-in cannot show it; the real attack needs a second, racing
//! container).

use ward_tests::{ctx, say, skip, Bundle, Ctx};

use crate::common::*;

const ORIGINAL: &str = "ORIGINAL sysrq-trigger stand-in\n";

/// The sysctl `kernel.domainname` with a scratch file bind-mounted over
/// /proc/sys/kernel/domainname.
fn sysctl_bundle(ctx: &Ctx) -> (Bundle, std::path::PathBuf) {
    let standin = ctx.path("vol/sysrq-standin");
    write(&standin, ORIGINAL);
    let mut b = ctx.bundle(&[]);
    bind(&mut b, &standin, "/proc/sys/kernel/domainname", &["rw"]);
    b.sysctl("kernel.domainname", "PWNED-52881");
    b.sh("echo seen=$(cat /proc/sys/kernel/domainname); echo done");
    (b, standin)
}

#[test]
fn sysctl_write_is_not_redirected_by_a_mount() {
    let ctx = ctx!("cve-2025-52881-sysctl");
    if let Some(weak) = runc_ctx(&ctx, "runc") {
        let (b, standin) = sysctl_bundle(&weak);
        let o = run(&weak, &b, "52881w");
        let now = read(&standin);
        if now != ORIGINAL {
            weakened_works(
                &ctx.name,
                &runc_version(&weak),
                &format!("the sysctl went into the stand-in file: {now:?}"),
            );
        } else {
            weakened_skip(
                &ctx.name,
                &runc_version(&weak),
                &format!(
                    "the config stand-in does not work there (exit {}: {})",
                    o.code(),
                    o.stderr.trim()
                ),
            );
        }
    }

    let (b, standin) = sysctl_bundle(&ctx);
    let o = run(&ctx, &b, "52881");
    let now = read(&standin);
    say(&format!(
        "{}: exit {}, {}; stand-in now {now:?}",
        ctx.name,
        o.code(),
        o.text().trim().replace('\n', " | ")
    ));
    assert_eq!(now, ORIGINAL, "sysctl write redirected by a mount: {o}");
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
        // Without AppArmor the label write must not happen at all: ward
        // refuses the profile; the fake files stay empty either way.
        let (b, fakes) = lsm_bundle(&ctx, "ward-escape-52881-absent");
        let o = run(&ctx, &b, "52881n");
        for f in &fakes {
            assert_eq!(read(f), "", "the label went into {}: {o}", f.display());
        }
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
    for f in &fakes {
        assert_eq!(read(f), "", "the label went into {}: {o}", f.display());
    }
    assert!(
        !o.stdout.contains("CANARY-READ"),
        "the container ran unconfined: {o}"
    );
    if o.success() {
        assert!(o.stdout.contains("CANARY-DENIED"), "{o}");
    }
}

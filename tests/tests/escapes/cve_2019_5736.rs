//! CVE-2019-5736: overwriting the runtime's binary through /proc/self/exe.
//!
//! Attack: the container's program is a script `#!/proc/self/exe`. When the
//! runtime execs it (`runc exec`), the kernel starts the interpreter,
//! /proc/self/exe — the runtime's own binary on the host — inside the
//! container. An attacker process there opens /proc/PID/exe of it, waits
//! for it to exit (ETXTBSY until then) and reopens /proc/self/fd/N for
//! writing: the host's runtime binary is now the attacker's, and the next
//! `runc` runs it as root on the host.
//!
//! Defence: bins/ward-oci/src/main.rs `protect_binary` re-executes ward-oci
//! before create/run/exec from `ward_sys::selfexe::readonly_mount`
//! (crates/sys/src/selfexe.rs): a detached, read-only bind mount of its own
//! binary (`sealed_copy`, a sealed memfd, where the mount API is denied).
//! /proc/PID/exe of every ward-oci process that can reach a container names
//! that read-only mount, so the reopen for writing fails with EROFS.
//!
//! The test runs the attack against a *copy* of the runtime binary in its
//! temp dir (the copy is the runtime for this test), with an attacker that
//! even has CAP_SYS_PTRACE (so non-dumpable processes are no obstacle), and
//! checks the copy's bytes. Weakened setup: the same container, entered by a
//! copy of `nsenter` — a plain exec from the host binary, with no
//! CVE-2019-5736 protection, as runc before 1.0-rc7 did — whose copy the
//! attacker does overwrite.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use ward_tests::runtime::{which, Runtime};
use ward_tests::{ctx, say, Bundle, Cmd, Ctx};

use crate::common::*;

/// The marker ward-probe writes at offset 0 of the binary it overwrites.
const MARKER: &[u8] = b"PWNED-BY-CVE-2019-5736\n";

/// A container whose init is the attacker (`ward-probe overwrite-exe`,
/// reporting to OUT/report) and whose `/evil` is `#!/proc/self/exe`.
fn attacker_bundle(ctx: &Ctx, out: &Path) -> Bundle {
    let mut b = ctx.bundle(&["/bin/ward-probe", "overwrite-exe", "/out/report", "10000"]);
    install_probe(&b);
    let evil = b.rootfs().join("evil");
    write(&evil, "#!/proc/self/exe\n");
    chmod(&evil, 0o755);
    mkdir(out);
    bind(&mut b, out, "/out", &["rw"]);
    caps(&mut b, &default_caps_plus(&["CAP_SYS_PTRACE"]), &[]);
    b
}

/// Copies `src` to `dir/<same name>` (mode 755) and returns the copy.
fn copy_binary(src: &Path, dir: &Path) -> PathBuf {
    mkdir(dir);
    let name = src.file_name().unwrap_or_default();
    let dst = dir.join(name);
    if let Err(e) = std::fs::copy(src, &dst) {
        panic!("copy {} to {}: {e}", src.display(), dst.display());
    }
    chmod(&dst, 0o755);
    dst
}

/// Runs `exec` (a closure that makes the runtime execute /evil in the
/// container) until the attacker's report appears; returns the report.
fn attack(report: &Path, mut exec: impl FnMut()) -> String {
    let deadline = Instant::now() + Duration::from_secs(12);
    while !report.exists() && Instant::now() < deadline {
        exec();
        wait_until(Duration::from_millis(150), || report.exists());
    }
    wait_until(Duration::from_secs(12), || report.exists());
    read(report)
}

#[test]
fn exec_of_proc_self_exe_cannot_overwrite_the_runtime() {
    let mut ctx = ctx!("cve-2019-5736");

    // Weakened: the same attacker, entered with a copy of nsenter.
    weakened_nsenter(&ctx);

    // The runtime under test, run from a copy in the test's temp dir.
    let original = ctx.rt.path.clone();
    let copy = copy_binary(&original, &ctx.path("runtime-copy"));
    let before = fingerprint(&copy, 4096);
    ctx.rt = Runtime {
        path: copy.clone(),
        kind: ctx.rt.kind,
    };
    let out = ctx.path("out");
    let b = attacker_bundle(&ctx, &out);
    let id = ctx.id("5736");
    ctx.run_detached(&b, &id).ok();
    let report = attack(&out.join("report"), || {
        // Fails by design (the runtime binary is no shell); the attacker
        // acts while it runs.
        let _ = ctx.exec(&id, &["/evil"]);
    });
    let after = fingerprint(&copy, 4096);
    say(&format!(
        "{}: {}: attacker's report: {}",
        ctx.name,
        ctx.rt.name(),
        report.trim().replace('\n', "; ")
    ));
    assert!(
        !after.0.starts_with(MARKER),
        "the container overwrote the runtime binary {}: attacker's report:\n{report}",
        copy.display()
    );
    assert_eq!(
        before,
        after,
        "the runtime binary {} changed; attacker's report:\n{report}",
        copy.display()
    );
    // The attack really ran: the attacker held a handle on the runtime's
    // executable and was refused when it reopened it for writing.
    assert!(
        report.contains("handle: "),
        "the attacker never got hold of the runtime's executable, so the test \
         proved nothing; report: {report:?}"
    );
    assert!(
        report.contains("overwrite: refused"),
        "unexpected attacker report: {report:?}"
    );
    ctx.kill(&id, "KILL");
}

/// Weakened setup: `nsenter` (a copy) enters the container and execs /evil,
/// which re-executes the nsenter copy inside the container.
fn weakened_nsenter(ctx: &Ctx) {
    let setup = "exec by a copy of nsenter (no CVE-2019-5736 protection)";
    let Some(nsenter) = which("nsenter") else {
        weakened_skip(&ctx.name, setup, "nsenter is not installed");
        return;
    };
    let copy = copy_binary(&nsenter, &ctx.path("weak-nsenter"));
    let out = ctx.path("weak-out");
    let b = attacker_bundle(ctx, &out);
    let id = ctx.id("5736w");
    ctx.run_detached(&b, &id).ok();
    let pid = ctx.state(&id)["pid"].as_i64().unwrap_or(0);
    let report = attack(&out.join("report"), || {
        let _ = Cmd::new(&copy, &ctx.dir)
            .args(["-t", &pid.to_string(), "-m", "-p", "--", "/evil"])
            .timeout(Duration::from_secs(10))
            .spawn()
            .and_then(|r| r.wait());
    });
    let (head, _) = fingerprint(&copy, MARKER.len());
    if head == MARKER {
        weakened_works(
            &ctx.name,
            setup,
            &format!(
                "{} now starts with the attacker's marker; report: {}",
                copy.display(),
                report.trim().replace('\n', "; ")
            ),
        );
    } else {
        weakened_skip(
            &ctx.name,
            setup,
            &format!("not overwritten here; report: {:?}", report.trim()),
        );
    }
    ctx.kill(&id, "KILL");
}

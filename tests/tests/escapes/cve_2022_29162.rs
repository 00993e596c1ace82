//! CVE-2022-29162: a non-empty inheritable capability set.
//!
//! Attack: runc (and `runc spec`'s template) gave the container process an
//! inheritable set equal to its capabilities. A non-root user in the
//! container who execs a file with inheritable file capabilities
//! (`setcap cap_dac_override+ei`) gains them: P'(permitted) =
//! P(inheritable) & F(inheritable). With CAP_DAC_OVERRIDE, uid 1000 reads
//! root-only files — capabilities the config never gave that user.
//!
//! Defence: crates/init/src/capabilities.rs `apply_sets`: the
//! inheritable set is exactly `process.capabilities.inheritable` — empty
//! when the config names none — so file inheritable bits meet an empty
//! process set; ambient capabilities not both permitted and inheritable are
//! skipped. The same code runs for `exec` (pipeline.rs `exec_child` ->
//! privileges::become_user).
//!
//! Weakened setup: the same config with `inheritable` set to the
//! capabilities (what runc's template did before 1.1.2): uid 1000 reads the
//! root-only file through the file-capability binary.

use ward_tests::runtime::which;
use ward_tests::{ctx, skip, Bundle, Cmd, Ctx};

use crate::common::*;

const SECRET: &str = "root-only secret 29162";

/// A bundle running as uid 1000 with CAP_DAC_OVERRIDE among its
/// capabilities (as Docker's defaults), `/secret` (0600 root) and
/// `/bin/busybox-caps` (a busybox copy with `cap_dac_override+ei`).
fn bundle(ctx: &Ctx, inheritable: &[&str]) -> Result<Bundle, String> {
    let mut b = ctx.bundle(&[]);
    let secret = b.rootfs().join("secret");
    write(&secret, SECRET);
    chmod(&secret, 0o600);
    let bb = b.rootfs().join("bin/busybox-caps");
    std::fs::copy(b.rootfs().join("bin/busybox"), &bb).map_err(|e| format!("copy: {e}"))?;
    let setcap = which("setcap").ok_or("setcap is not installed (package libcap2-bin)")?;
    let o = Cmd::new(setcap, &ctx.dir)
        .args(["cap_dac_override+ei".to_string(), bb.display().to_string()])
        .run();
    if !o.success() {
        return Err(format!(
            "setcap failed here (file capabilities unsupported?): {o}"
        ));
    }
    let caps_ = default_caps_plus(&["CAP_DAC_OVERRIDE"]);
    caps(&mut b, &caps_, inheritable);
    b.user(1000, 1000, &[]);
    // File capabilities are ignored under no_new_privs; Docker's default
    // (and the original CVE's setting) is without it.
    b.config["process"]["noNewPrivileges"] = serde_json::json!(false);
    b.sh(SCRIPT);
    Ok(b)
}

/// What uid 1000 can read, directly and through the file-capability binary.
const SCRIPT: &str = "id -u; grep -E '^Cap(Inh|Eff)' /proc/self/status; \
     cat /secret 2>/dev/null && echo ' <- plain'; \
     /bin/busybox-caps cat /secret 2>/dev/null && echo ' <- busybox-caps'; \
     /bin/busybox-caps grep -E '^Cap(Prm|Eff)' /proc/self/status; echo done";

#[test]
fn inheritable_file_caps_give_a_user_nothing() {
    let ctx = ctx!("cve-2022-29162");
    // Weakened: the config asks for the inheritable set runc used to set.
    let weak = match bundle(&ctx, &default_caps_plus(&["CAP_DAC_OVERRIDE"])) {
        Ok(b) => b,
        Err(e) => skip!(ctx, "{e}"),
    };
    let o = run(&ctx, &weak, "29162w");
    let setup = "config with inheritable = the capabilities (runc < 1.1.2)";
    if o.stdout.contains(SECRET) {
        weakened_works(
            &ctx.name,
            setup,
            &format!(
                "uid 1000 read the root-only file: {}",
                o.stdout.trim().replace('\n', " | ")
            ),
        );
    } else {
        weakened_skip(&ctx.name, setup, &format!("not reproduced: {o}"));
    }

    // The runtime under test with the template's capabilities: no
    // inheritable set named, so none. For `run` ...
    let b = bundle(&ctx, &[]).expect("bundle");
    let o = run(&ctx, &b, "29162").ok();
    assert!(o.stdout.contains("done"), "{o}");
    assert!(o.stdout.lines().next() == Some("1000"), "{o}");
    assert!(
        !o.stdout.contains(SECRET),
        "uid 1000 gained CAP_DAC_OVERRIDE through file capabilities: {o}"
    );
    assert!(
        o.stdout.contains("CapInh:\t0000000000000000"),
        "inheritable set not empty: {o}"
    );
    // ... and for `exec --user 1000:1000` in a running container.
    let mut b = bundle(&ctx, &[]).expect("bundle");
    b.args(&["sleep", "30"]);
    let id = ctx.id("29162e");
    ctx.run_detached(&b, &id).ok();
    let o = ctx
        .rt(&["exec", "--user", "1000:1000", &id, "/bin/sh", "-c", SCRIPT])
        .ok();
    assert!(o.stdout.contains("done"), "{o}");
    assert!(
        !o.stdout.contains(SECRET),
        "exec'd uid 1000 gained CAP_DAC_OVERRIDE through file capabilities: {o}"
    );
    ctx.kill(&id, "KILL");
}

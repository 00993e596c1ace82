//! Security layers observed through the runtime, with the probe program
//! inside the container (issue #5): no_new_privs against a setuid-root
//! binary, and ward's default seccomp profile (what `ward-oci spec` emits)
//! denying the new mount API along with mount(2). Both are OCI data, so
//! these run against runc and crun too; each has a weakened control that
//! shows the attack working, so a layer that was silently dropped fails.

use std::os::unix::fs::PermissionsExt;

use ward_tests::{ctx, json, skip, Bundle, Ctx};

/// The static probe built by tests/build.rs (see tests/tests/escapes/).
fn probe() -> std::path::PathBuf {
    let p = env!("WARD_PROBE");
    assert!(
        !p.is_empty(),
        "the static ward-probe was not built ({}); see tests/build.rs",
        option_env!("WARD_PROBE_ERROR").unwrap_or("no reason recorded")
    );
    std::path::PathBuf::from(p)
}

/// Copies the probe to `dst`, owned by root, with `mode`.
fn install_at(dst: &std::path::Path, mode: u32) {
    std::fs::copy(probe(), dst).expect("copy the probe");
    std::os::unix::fs::chown(dst, Some(0), Some(0)).expect("chown root");
    std::fs::set_permissions(dst, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A tmpfs of the test's own (suid allowed), mounted on the host under the
/// test dir and unmounted on drop: TMPDIR is often `nosuid` (a systemd
/// host's /tmp, the VM harness), where no setuid bit works at all.
struct SuidDir(std::path::PathBuf);

impl SuidDir {
    fn new(ctx: &Ctx) -> SuidDir {
        let dir = ctx.path("suid");
        std::fs::create_dir_all(&dir).expect("mkdir suid");
        nix::mount::mount(
            Some("tmpfs"),
            &dir,
            Some("tmpfs"),
            nix::mount::MsFlags::empty(),
            Some("mode=755,size=16m"),
        )
        .expect("mount a tmpfs for the setuid probe");
        install_at(&dir.join("suid-probe"), 0o4755);
        SuidDir(dir)
    }
}

impl Drop for SuidDir {
    fn drop(&mut self) {
        let _ = nix::mount::umount2(&self.0, nix::mount::MntFlags::MNT_DETACH);
    }
}

/// A bundle that runs a setuid-root copy of the probe (bound from
/// `suid`) as uid 1000 with no capabilities.
fn setuid_bundle(ctx: &Ctx, suid: &SuidDir, nnp: bool) -> Bundle {
    let mut b = ctx.bundle(&["/suid/suid-probe", "ids"]);
    b.mount(json!({"destination": "/suid", "type": "bind",
        "source": suid.0.display().to_string(), "options": ["bind", "ro"]}));
    b.user(1000, 1000, &[]);
    b.config["process"]["noNewPrivileges"] = json!(nnp);
    b.config["process"]["capabilities"] = json!({});
    b
}

fn run_ids(ctx: &Ctx, b: &Bundle) -> String {
    let id = ctx.id("nnp");
    let o = ctx.run(b, &id).ok();
    o.stdout
        .lines()
        .find(|l| l.starts_with("ids: "))
        .unwrap_or_else(|| panic!("no ids line: {o}"))
        .to_string()
}

#[test]
fn no_new_privs_keeps_a_setuid_root_binary_at_the_callers_uid() {
    let ctx = ctx!("layers-nnp-setuid");
    // Control: without no_new_privs the setuid bit works (euid 0), so the
    // setup can show the attack.
    let suid = SuidDir::new(&ctx);
    let weak = run_ids(&ctx, &setuid_bundle(&ctx, &suid, false));
    if !weak.contains("euid=0") {
        skip!(
            ctx,
            "the setuid bit does not work here even without no_new_privs ({weak})"
        );
    }
    let ids = run_ids(&ctx, &setuid_bundle(&ctx, &suid, true));
    assert_eq!(
        ids, "ids: ruid=1000 euid=1000 suid=1000",
        "with no_new_privs a setuid-root binary must gain nothing (control: {weak})"
    );
}

/// A container with CAP_SYS_ADMIN (so only seccomp can stop a mount) and
/// the probe, trying every mount call on /mnt.
fn mount_bundle(ctx: &Ctx, seccomp: bool) -> Bundle {
    let mut b = ctx.bundle(&["/bin/ward-probe", "mount-api", "/mnt"]);
    install_at(&b.rootfs().join("bin/ward-probe"), 0o755);
    std::fs::create_dir_all(b.rootfs().join("mnt")).expect("mkdir mnt");
    let caps = json!(["CAP_SYS_ADMIN"]);
    b.config["process"]["capabilities"] =
        json!({"bounding": caps, "effective": caps, "permitted": caps});
    if seccomp {
        b.config["linux"]["seccomp"] =
            serde_json::to_value(ward_seccomp::default_profile()).expect("profile JSON");
    } else if let Some(l) = b.config["linux"].as_object_mut() {
        l.remove("seccomp");
    }
    b
}

#[test]
fn default_profile_denies_the_new_mount_api_with_mount() {
    let ctx = ctx!("layers-mount-api");
    // Control: no seccomp, CAP_SYS_ADMIN: the new mount API does mount.
    // ward's policy refuses CAP_SYS_ADMIN without seccomp: the control
    // switches that rule off (runc and crun have no policy).
    let id = ctx.id("mntweak");
    let b = mount_bundle(&ctx, false);
    let weak = ctx
        .run_weakened(&b, &id, &["seccomp.unconfined-sys-admin"])
        .ok();
    if !weak.stdout.contains("/mnt mounted: yes") {
        skip!(
            ctx,
            "even without seccomp the probe could not mount here: {}",
            weak.stdout
        );
    }
    assert!(
        weak.stdout.contains("mount-api: fsopen: ok"),
        "control: {weak}"
    );

    let id = ctx.id("mnt");
    let o = ctx.run(&mount_bundle(&ctx, true), &id).ok();
    for call in ["mount", "fsopen", "open_tree", "mount_setattr"] {
        assert!(
            o.stdout.contains(&format!("mount-api: {call}: failed: ")),
            "{call} must be denied by ward's default profile: {o}"
        );
    }
    assert!(o.stdout.contains("/mnt mounted: no"), "{o}");
    assert!(o.stdout.contains("/ writable: no"), "{o}");
}

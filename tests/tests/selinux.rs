//! SELinux: `linux.mountLabel` and `process.selinuxLabel`.
//!
//! On a host with SELinux disabled (this development host, and the VM
//! harness, which boots AppArmor) asking for a label is an error naming the
//! field, with nothing left behind: runc silently drops `mountLabel` there,
//! which would give a container unlabelled files the engine believed
//! labelled, so these tests SKIP against runc and crun. With SELinux
//! enabled the positive test checks the `context=` option of the tmpfs,
//! devpts and /dev mounts (runc's behaviour) from inside the container.

use ward_tests::{ctx, skip, Kind};

const LABEL: &str = "system_u:object_r:container_file_t:s0:c1,c2";
const PROCESS_LABEL: &str = "system_u:system_r:container_t:s0:c1,c2";

fn selinux_enabled() -> bool {
    std::path::Path::new("/sys/fs/selinux/enforce").exists()
}

#[test]
fn mount_label_without_selinux_is_refused() {
    let ctx = ctx!("selinux-mountlabel-off");
    if ctx.rt.kind != Kind::Other {
        skip!(
            ctx,
            "{} ignores linux.mountLabel when SELinux is disabled; ward refuses it",
            ctx.rt.name()
        );
    }
    if selinux_enabled() {
        skip!(
            ctx,
            "SELinux is enabled here: this test covers the disabled case"
        );
    }
    let mut b = ctx.bundle(&["true"]);
    b.config["linux"]["mountLabel"] = serde_json::json!(LABEL);
    let id = ctx.id("mlabel");
    ctx.create(&b, &id)
        .fails_mentioning(&["linux.mountLabel", "SELinux"]);
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

#[test]
fn process_label_without_selinux_is_refused() {
    let ctx = ctx!("selinux-processlabel-off");
    if ctx.rt.kind != Kind::Other {
        skip!(
            ctx,
            "only ward's refusal is asserted ({} is not held to it)",
            ctx.rt.name()
        );
    }
    if selinux_enabled() {
        skip!(
            ctx,
            "SELinux is enabled here: this test covers the disabled case"
        );
    }
    let mut b = ctx.bundle(&["true"]);
    b.config["process"]["selinuxLabel"] = serde_json::json!(PROCESS_LABEL);
    let id = ctx.id("plabel");
    ctx.create(&b, &id)
        .fails_mentioning(&["process.selinuxLabel", "SELinux"]);
    ctx.assert_no_leftovers(&id, &b.dir, None);
    // exec --process with a label is refused too.
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("plabel-exec");
    ctx.run_detached(&b, &id).ok();
    let p = ctx.path("process.json");
    let mut proc_json = b.config["process"].clone();
    proc_json["args"] = serde_json::json!(["true"]);
    proc_json["selinuxLabel"] = serde_json::json!(PROCESS_LABEL);
    std::fs::write(&p, proc_json.to_string()).expect("write process.json");
    ctx.rt(&["exec", "--process", &p.display().to_string(), &id])
        .fails_mentioning(&["selinuxLabel", "SELinux"]);
}

#[test]
fn mount_label_is_on_the_containers_filesystems() {
    let ctx = ctx!("selinux-mountlabel-on");
    if !selinux_enabled() {
        skip!(
            ctx,
            "SELinux is not enabled on this host (/sys/fs/selinux/enforce is missing); \
             neither here nor in the VM harness (AppArmor)"
        );
    }
    let mut b = ctx.bundle(&["true"]);
    b.config["linux"]["mountLabel"] = serde_json::json!(LABEL);
    let o = ctx.sh(&mut b, "cat /proc/self/mounts");
    for dest in ["/dev", "/dev/pts", "/dev/shm"] {
        let line = o
            .stdout
            .lines()
            .find(|l| l.split(' ').nth(1) == Some(dest))
            .unwrap_or_else(|| panic!("{dest} not mounted: {o}"));
        assert!(line.contains("context="), "{dest} has no context=: {line}");
    }
}

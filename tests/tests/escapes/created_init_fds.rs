//! A created container's init, waiting for `start`, must hold nothing of
//! the host that a container process can follow (found while fixing issue
//! #14, finding 3).
//!
//! Attack: between `create` and `start`, the init waits on the exec fifo.
//! A process `exec`'d into the container with CAP_SYS_PTRACE in the host's
//! user namespace (Docker's `--cap-add SYS_PTRACE`) passes the ptrace
//! access check of /proc/1/fd even though the init is non-dumpable, and
//! follows its descriptors. ward-oci's init held the host's /proc (to
//! reopen the fifo and write LSM labels after pivot_root): through
//! /proc/1/fd/5/<host pid>/root it read any host file.
//!
//! Defence: crates/init/src/pipeline.rs stage 8: the LSM attr files are
//! opened before, the host's /proc is closed before the init reports
//! ready, and the fifo is reopened through the container's own procfs
//! (checked to be a procfs root and the fifo checked by inode).
//!
//! The test: a 0600 marker with random content outside the rootfs; an
//! exec'd process walks /proc/1/fd/*/ and every /proc/1/fd/*/<N>/root
//! it can reach and tries to read the marker there; it must never see it.
//! It must see the init's descriptors (proof that it could look), and the
//! container must still start afterwards.

use ward_tests::{ctx, json};

use crate::common::*;

#[test]
fn created_init_holds_no_host_directory() {
    let ctx = ctx!("created-init-fds");
    let marker = ctx.path("secret/marker");
    let token = format!("token-{}-{}", std::process::id(), ctx.id("m"));
    write(&marker, &token);
    chmod(&marker, 0o600);
    let mut b = ctx.bundle(&["sh", "-c", "echo started"]);
    caps(&mut b, &default_caps_plus(&["CAP_SYS_PTRACE"]), &[]);
    // Host user namespace (the template's), own pid namespace.
    b.config["process"]["noNewPrivileges"] = json!(false);
    let id = ctx.id("created");
    ctx.create(&b, &id).ok();
    let script = format!(
        "n=0; for f in /proc/1/fd/*; do n=$((n+1)); cat \"$f\"/[0-9]*/root{m} \"$f\"/*/root{m} \"$f\"/root{m} \"$f\"/../..{m} 2>/dev/null; done; echo fds=$n",
        m = marker.display()
    );
    let o = ctx.exec(&id, &["sh", "-c", &script]);
    assert!(o.success(), "exec failed: {o}");
    assert!(
        !o.stdout.contains(&token),
        "{}: a process exec'd into the created container read the host file {} through the init's descriptors: {o}",
        ctx.rt.name(),
        marker.display()
    );
    let fds: usize = o
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("fds="))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    assert!(
        fds >= 3,
        "the exec'd process could not list the init's fds: {o}"
    );
    ctx.start(&id).ok();
    ctx.wait_status(&id, "stopped", std::time::Duration::from_secs(10));
}

//! A bind source that passes through a mount the same config makes (issue
//! 14, finding 1; no CVE: a policy bypass).
//!
//! Attack: `mounts[k]` puts a procfs at `/p`; `mounts[k+1]` binds
//! `<bundle>/rootfs/p/1/root` read-write at `/h`. The path does not exist
//! when a policy looks at the config, and at mount time it leads through
//! the new procfs's magic link to the init's root — the host's `/` before
//! pivot_root. Whoever can hand a runtime a config (an engine's API) gets
//! the host's filesystem read-write, whatever the policy says of `/`.
//!
//! Defence: crates/init/src/rootfs/source.rs: the rootfs and every bind
//! source are opened once on the host without magic links before anything
//! is made; the policy judges those files (a source inside the rootfs or
//! that cannot be opened is refused), and the init re-opens each source the
//! same way and mounts it only if its device and inode are the ones judged.
//!
//! Checked: the container writes a marker through `/h` into this test's
//! scratch directory. ward-oci must refuse (and no marker appears); runc and
//! crun have no policy: what they do is printed (`WEAKENED:` when the host's
//! `/` was reachable), not judged.

use ward_tests::{ctx, json, Kind};

use crate::common::*;

#[test]
fn bind_through_the_configs_own_procfs() {
    let ctx = ctx!("stacked-bind-source");
    let scratch = ctx.path("scratch");
    mkdir(&scratch);
    let escaped = scratch.join("escaped");
    let mut b = ctx.bundle(&[]);
    b.mount(json!({"destination": "/p", "type": "proc", "source": "proc"}));
    b.mount(json!({"destination": "/h", "type": "bind", "source": "rootfs/p/1/root", "options": ["rbind", "rw"]}));
    b.config["root"]["readonly"] = json!(false);
    b.sh(&format!(
        "echo pwned > /h{} && echo WROTE",
        escaped.display()
    ));
    let id = ctx.id("stacked");
    let o = ctx.run(&b, &id);
    let wrote = escaped.exists();
    if ctx.rt.kind == Kind::Other {
        assert!(!wrote, "ward-oci let the bind reach the host's /: {o}");
        assert!(!o.success(), "ward-oci ran the config: {o}");
        assert!(
            o.stderr.contains("rule mount.sensitive-host-path"),
            "the refusal does not name the rule: {o}"
        );
        ctx.assert_no_leftovers(&id, &b.dir, None);
    } else if wrote {
        weakened_works(
            &ctx.name,
            &ctx.rt.name(),
            &format!(
                "no policy: the container wrote {} on the host",
                escaped.display()
            ),
        );
    } else {
        weakened_skip(
            &ctx.name,
            &ctx.rt.name(),
            &format!("the host's / was not reached: {}", o.stderr.trim()),
        );
    }
}

/// The init's own check, with the policy rule off: a source that existed
/// when it was judged (`rootfs/p`, a directory of the image) but that an
/// earlier mount of the same config replaces (a procfs at `/p`) is not
/// mounted — the init re-opens it and compares device and inode.
#[test]
fn with_the_rule_off_the_init_mounts_only_the_judged_file() {
    let ctx = ctx!("stacked-bind-rule-off");
    let mut b = ctx.bundle(&[]);
    mkdir(&b.rootfs().join("p"));
    b.mount(json!({"destination": "/p", "type": "proc", "source": "proc"}));
    b.mount(json!({"destination": "/h", "type": "bind", "source": "rootfs/p", "options": ["rbind", "ro"]}));
    b.sh("ls /h/1 >/dev/null && echo PROCFS-BOUND");
    let id = ctx.id("ruleoff");
    let o = ctx.run_weakened(&b, &id, &["mount.sensitive-host-path"]);
    if ctx.rt.kind == Kind::Other {
        assert!(
            !o.success(),
            "ward-oci mounted a source other than the judged one: {o}"
        );
        assert!(
            o.stderr.contains("now leads to another file"),
            "the refusal does not say why: {o}"
        );
        ctx.assert_no_leftovers(&id, &b.dir, None);
    } else if o.stdout.contains("PROCFS-BOUND") {
        weakened_works(
            &ctx.name,
            &ctx.rt.name(),
            "the bind of rootfs/p mounted the config's own procfs, not the image's directory",
        );
    } else {
        weakened_skip(&ctx.name, &ctx.rt.name(), o.stderr.trim());
    }
}

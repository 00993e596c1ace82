//! README, "Secure by construction": a layer that was asked for and cannot
//! be applied is an error naming it, never a silently weaker container; an
//! absent `process.capabilities` means no capabilities. ward-specific: runc
//! supports `linux.intelRdt` and keeps root's capabilities without the
//! field, so every test SKIPs for runc and crun (issue 15).

use ward_tests::{json, Ctx, Kind};

/// A ward-only context (None after printing SKIP for runc/crun).
fn ward_ctx(name: &str) -> Option<Ctx> {
    let ctx = Ctx::new(name)?;
    if ctx.rt.kind != Kind::Other {
        ward_tests::say(&format!(
            "SKIP: {name}: ward's own refusals; {} differs",
            ctx.rt.name()
        ));
        return None;
    }
    Some(ctx)
}

#[test]
fn a_layer_that_cannot_be_applied_is_refused_naming_it() {
    let Some(ctx) = ward_ctx("refused-layers") else {
        return;
    };
    // intelRdt: ward has no resctrl support; ignoring it would drop the limit.
    let mut b = ctx.bundle(&["true"]);
    b.config["linux"]["intelRdt"] = json!({"closID": "ward-test"});
    let id = ctx.id("rdt");
    ctx.run(&b, &id).fails_mentioning(&["linux.intelRdt"]);
    ctx.assert_no_leftovers(&id, &b.dir, None);

    // SCMP_ACT_NOTIFY with no agent to answer: refused, not loaded as ALLOW.
    let mut b = ctx.bundle(&["true"]);
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["acct"], "action": "SCMP_ACT_NOTIFY"}]
    });
    let id = ctx.id("notify");
    ctx.run(&b, &id).fails_mentioning(&["listenerPath"]);
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

#[test]
fn absent_capabilities_mean_none() {
    let Some(ctx) = ward_ctx("absent-caps") else {
        return;
    };
    let mut b = ctx.bundle(&[]);
    if let Some(p) = b.config["process"].as_object_mut() {
        p.remove("capabilities");
    }
    let o = ctx.sh(&mut b, "grep ^Cap /proc/self/status");
    let sets: Vec<String> = o
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("Cap"))
        .collect();
    assert_eq!(sets.len(), 5, "{o}");
    for line in &sets {
        assert!(line.ends_with("0000000000000000"), "{line}: {o}");
    }
}

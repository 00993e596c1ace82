//! Id-mapped bind mounts (runtime-spec 1.2: the `idmap`/`ridmap` options,
//! or a mount's own uidMappings/gidMappings): through the mount, a file
//! owned by a host id that the container's maps name belongs to the
//! container id it maps to, and what the container creates there lands on
//! the host as that host id. `ward sandbox` started by root relies on it
//! for its `--ro`/`--rw` paths (its root is the host's nobody).
//!
//! A runtime whose `features` does not announce
//! `linux.mountExtensions.idmap.enabled` is skipped (runc 1.1 and crun 1.8
//! here announce none).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use ward_tests::{ctx, json, say, Ctx};

/// Why id-mapped binds cannot be tested here, if they cannot.
fn unavailable(ctx: &Ctx, source: &Path) -> Option<String> {
    let features = ctx.rt(&["features"]);
    let announced = serde_json::from_str::<serde_json::Value>(&features.stdout)
        .ok()
        .and_then(|f| f["linux"]["mountExtensions"]["idmap"]["enabled"].as_bool());
    if announced != Some(true) {
        return Some(format!(
            "{} does not announce linux.mountExtensions.idmap in its features",
            ctx.rt.name()
        ));
    }
    ward_tests::host::idmap_unavailable(source)
}

/// A container with its own user namespace: uid/gid 0-65535 are the
/// host's 100000-165535.
fn userns_bundle(ctx: &Ctx, script: &str) -> ward_tests::Bundle {
    let mut b = ctx.bundle(&[]);
    b.namespace(json!({"type": "user"}));
    b.config["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.config["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 100000, "size": 65536}]);
    b.sh(script);
    // The mount points: the rootfs is root's, which the container's root
    // (the host's 100000) cannot write.
    for dir in ["mapped", "plain"] {
        std::fs::create_dir_all(b.rootfs().join(dir)).expect("mount point");
    }
    b
}

#[test]
fn an_idmapped_bind_shows_host_ids_as_the_containers() {
    let ctx = ctx!("idmap");
    let src = ctx.path("volume");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("key"), "root's\n").expect("write");
    std::fs::set_permissions(
        src.join("key"),
        std::os::unix::fs::PermissionsExt::from_mode(0o600),
    )
    .expect("chmod");
    if let Some(why) = unavailable(&ctx, &src) {
        say(&format!("SKIP: {why}"));
        return;
    }
    let s = src.display().to_string();
    let mut b = userns_bundle(
        &ctx,
        "stat -c 'mapped %u %g' /mapped/key; stat -c 'plain %u %g' /plain/key; \
         cat /mapped/key; cat /plain/key 2>/dev/null || echo plain-unreadable; \
         echo new > /mapped/made && echo mapped-writable; \
         echo new > /plain/made2 2>/dev/null || echo plain-unwritable",
    );
    b.mount(json!({"destination": "/mapped", "type": "bind", "source": s, "options": ["rbind", "rw", "idmap"]}));
    b.mount(
        json!({"destination": "/plain", "type": "bind", "source": s, "options": ["rbind", "rw"]}),
    );
    let id = ctx.id("idmap");
    let o = ctx.run(&b, &id).ok();
    let lines = o.lines();
    for want in [
        "mapped 0 0",
        "plain 65534 65534",
        "root's",
        "plain-unreadable",
        "mapped-writable",
        "plain-unwritable",
    ] {
        assert!(lines.contains(&want.to_string()), "no {want:?} in: {o}");
    }
    // Created by the container's root, owned by the host's root.
    let made = std::fs::metadata(src.join("made")).expect("the container's file");
    assert_eq!((made.uid(), made.gid()), (0, 0));
    assert!(!src.join("made2").exists());
}

#[test]
fn idmap_outside_a_bind_or_a_user_namespace_is_refused() {
    let ctx = ctx!("idmap-bad");
    let src = ctx.path("volume");
    std::fs::create_dir_all(&src).expect("mkdir");
    if let Some(why) = unavailable(&ctx, &src) {
        say(&format!("SKIP: {why}"));
        return;
    }
    let s = src.display().to_string();
    // No user namespace: nothing to map with.
    let mut b = ctx.bundle(&["true"]);
    b.mount(json!({"destination": "/mapped", "type": "bind", "source": s, "options": ["rbind", "idmap"]}));
    let id = ctx.id("nouserns");
    let o = ctx.run(&b, &id);
    assert!(!o.success(), "{o}");
    if ctx.rt.name().contains("ward") {
        assert!(o.stderr.contains("needs a new user namespace"), "{o}");
    }
    ctx.assert_no_leftovers(&id, &b.dir, None);
    // A mapping other than the container's.
    let mut b = userns_bundle(&ctx, "true");
    b.mount(
        json!({"destination": "/mapped", "type": "bind", "source": s, "options": ["rbind", "idmap"],
        "uidMappings": [{"containerID": 0, "hostID": 0, "size": 1}],
        "gidMappings": [{"containerID": 0, "hostID": 0, "size": 1}]}),
    );
    let id = ctx.id("othermap");
    let o = ctx.run(&b, &id);
    if ctx.rt.name().contains("ward") {
        // ward supports the container's own maps only, and says so.
        assert!(!o.success(), "{o}");
        assert!(o.stderr.contains("uidMappings"), "{o}");
        ctx.assert_no_leftovers(&id, &b.dir, None);
    }
}

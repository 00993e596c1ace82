//! ward-oci compiles a seccomp profile once and keeps the program in a
//! cache under its state root (crates/seccomp/src/cache.rs, issue 20). What
//! a user checks: the filter a container gets from a cache hit denies what
//! the profile denies, and a cache entry that was changed on disk is not
//! what the container gets. ward-only (runc has no such cache; crun's is
//! its own): against another runtime this prints SKIP.

use ward_tests::{json, say, Ctx, Kind};

/// The cache directory's name under `--root` (ward_seccomp::cache::DIR_NAME).
const CACHE_DIR: &str = "seccomp@cache";

/// `mkdir` fails with EACCES (13), everything else is allowed: busybox's
/// message for the errno is what the test reads.
fn bundle(ctx: &Ctx) -> ward_tests::Bundle {
    let mut b = ctx.bundle(&["sh", "-c", "mkdir /tmp/x 2>&1; echo rc=$?"]);
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]
    });
    b
}

#[track_caller]
fn assert_mkdir_denied(ctx: &Ctx, b: &ward_tests::Bundle, what: &str) {
    let id = ctx.id("scache");
    let o = ctx.run(b, &id).ok();
    assert!(
        o.stdout.contains("Permission denied") && o.stdout.contains("rc=1"),
        "{what}: mkdir must fail with EACCES under the filter: {o}"
    );
    ctx.rt(&["delete", "-f", &id]);
}

fn cache_entries(ctx: &Ctx) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(ctx.root.join(CACHE_DIR))
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_cached_filter_still_denies_and_a_changed_entry_is_not_used() {
    let Some(ctx) = Ctx::new("seccomp_cache") else {
        return;
    };
    if ctx.rt.kind != Kind::Other {
        say(&format!(
            "SKIP: a_cached_filter_still_denies: ward's filter cache; {} has none of its own to check",
            ctx.rt.name()
        ));
        return;
    }
    let b = bundle(&ctx);
    assert_mkdir_denied(&ctx, &b, "first run (compiled)");
    let entries = cache_entries(&ctx);
    assert_eq!(
        entries.len(),
        1,
        "one cache entry after the first run: {entries:?}"
    );
    let before = std::fs::read(&entries[0]).expect("entry");
    assert_mkdir_denied(&ctx, &b, "second run (from the cache)");
    assert_eq!(
        std::fs::read(&entries[0]).expect("entry"),
        before,
        "a hit rewrites nothing"
    );

    // Turn the program's EACCES (13 = 0x0d, little-endian in the hex of
    // the return instruction's k) into 0: "allowed and did nothing". The
    // checksum no longer matches, so ward must recompile.
    let text = String::from_utf8(before).expect("entry is text");
    let tampered = text.replacen("0d000500", "00000500", 1);
    assert_ne!(
        tampered, text,
        "the entry holds SCMP_ACT_ERRNO(13) as 0x0005000d"
    );
    std::fs::write(&entries[0], tampered).expect("tamper");
    assert_mkdir_denied(&ctx, &b, "run after the entry was changed");
    assert_eq!(
        std::fs::read(&entries[0]).expect("entry"),
        text.as_bytes(),
        "the changed entry is replaced by the compiled one"
    );
}

//! The container's process starts with a clean signal state: nothing
//! blocked, nothing ignored. Both survive execve: a runtime that blocks
//! signals to forward them (ward-oci `run` in the foreground did), or
//! ignores SIGPIPE as every Rust program does, would pass that on — and a
//! service whose SIGTERM is blocked cannot be stopped gracefully.

use ward_tests::ctx;

#[test]
fn process_starts_with_no_blocked_or_ignored_signals() {
    let ctx = ctx!("signals");
    for detach in [false, true] {
        let mut b = ctx.bundle(&[]);
        let out = ctx.path(&format!("sig-{detach}"));
        std::fs::create_dir_all(&out).expect("mkdir");
        b.mount(ward_tests::json!({"destination": "/out", "type": "bind", "source": out.display().to_string(), "options": ["rbind", "rw"]}));
        // exec: busybox sh ignores SIGQUIT in the children it forks.
        b.sh("exec grep -E '^Sig(Blk|Ign)' /proc/self/status > /out/status");
        let id = ctx.id("sig");
        if detach {
            ctx.run_detached(&b, &id).ok();
            ward_tests::wait_for_file(&out.join("status"), std::time::Duration::from_secs(5));
        } else {
            ctx.run(&b, &id).ok();
        }
        let text = std::fs::read_to_string(out.join("status")).unwrap_or_default();
        let mask = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| u64::from_str_radix(v.trim(), 16).ok())
                .unwrap_or(u64::MAX)
        };
        assert_eq!(
            mask("SigBlk:"),
            0,
            "run (detach {detach}): blocked signals\n{text}"
        );
        // Signals 1-31 (SIGPIPE, SIGTERM, SIGINT...): none ignored. The
        // realtime ones glibc reserves (32, 33) may come from the caller.
        assert_eq!(
            mask("SigIgn:") & 0x7fff_ffff,
            0,
            "run (detach {detach}): ignored signals\n{text}"
        );
    }
}

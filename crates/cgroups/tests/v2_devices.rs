//! The cgroup v2 device filter (eBPF) on a real kernel. On a hybrid host the
//! container's cgroup2 directory exists too, so the same program that
//! `apply` attaches on v2 hosts can be attached and watched here.

mod common;

use std::time::Duration;

use common::{res, skip_unless_root, Guard};
use ward_cgroups::{attach_device_filter, default_allowed_devices, Layout, Rule};

#[test]
fn ebpf_filter_denies_what_is_not_allowed() {
    if skip_unless_root() {
        return;
    }
    let mut g = Guard::new("bpf");
    let Some(u) = g.m.state().unified else {
        eprintln!("SKIP: no cgroup2 hierarchy on this host (pure v1)");
        return;
    };
    let rules_for = |extra: serde_json::Value| -> Vec<Rule> {
        let mut list = res(serde_json::json!({ "devices": extra })).devices;
        list.extend(default_allowed_devices());
        list.iter()
            .enumerate()
            .map(|(i, d)| Rule::from_oci(i, d).expect("rule"))
            .collect()
    };
    let install = |g: &Guard, extra: serde_json::Value| -> Result<(), String> {
        if g.m.layout() == Layout::V2 {
            // apply() attaches exactly this program on v2.
            g.m.update(&res(serde_json::json!({ "devices": extra })))
                .map_err(|e| e.to_string())
        } else {
            attach_device_filter(&u, &rules_for(extra)).map_err(|e| e.to_string())
        }
    };
    // Only a kernel without the bpf syscall is a reason to skip; any other
    // error is the function under test failing.
    if let Err(e) = install(&g, serde_json::json!([{"allow": false, "access": "rwm"}])) {
        assert!(
            e.contains("ENOSYS") || e.contains("Function not implemented"),
            "attaching the device program: {e}"
        );
        eprintln!("SKIP: this kernel has no bpf(2): {e}");
        return;
    }
    let got = probe(&mut g);
    assert!(!got.contains("kmsg-read"), "kmsg is not in the list: {got}");
    assert!(got.contains("null-write"), "{got}");
    assert!(got.contains("full-read"), "{got}");

    // Replace the program: kmsg read-only. The old one is detached (else
    // the two would be ANDed and kmsg stay denied).
    install(
        &g,
        serde_json::json!([
            {"allow": false, "access": "rwm"},
            {"allow": true, "type": "c", "major": 1, "minor": 11, "access": "r"}
        ]),
    )
    .expect("replace the program");
    let got = probe(&mut g);
    assert!(got.contains("kmsg-read"), "{got}");
    assert!(!got.contains("kmsg-write"), "kmsg is read-only: {got}");
    assert!(got.contains("null-write"), "{got}");
}

/// open(2) probes inside the cgroup; returns what succeeded.
fn probe(g: &mut Guard) -> String {
    let out = std::env::temp_dir().join(format!("ward-bpf-{}", std::process::id()));
    let _ = std::fs::remove_file(&out);
    let i = g.spawn(&format!(
        "r=''; (: < /dev/kmsg) 2>/dev/null && r=\"$r kmsg-read\"; \
         (: > /dev/kmsg) 2>/dev/null && r=\"$r kmsg-write\"; \
         (: > /dev/null) && r=\"$r null-write\"; \
         (: < /dev/full) && r=\"$r full-read\"; \
         echo \"$r\" > {o}",
        o = out.display()
    ));
    g.wait_exit(i, Duration::from_secs(5)).expect("probe exits");
    let got = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    got
}

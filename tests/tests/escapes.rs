//! Escape regressions: one module per known container escape, each starting
//! with the attack and the ward mechanism that stops it (docs/escapes.md
//! has the table and the measured results against ward-oci, runc and crun).
//!
//! Every test attacks real containers made by the runtime under test
//! (`WARD_TEST_RUNTIME`, see docs/testing.md) and judges from the outside:
//! what the attacker's process printed, what changed on the host. Attacks
//! only ever aim at scratch files in the test's own temp dir — never at a
//! real host file. Where a weakened setup (runc 1.1.5, a config without the
//! protection) can show the attack working, the test shows it first and
//! labels it `WEAKENED:` (or `SKIP-WEAKENED:` when it does not work here);
//! see `common.rs` for the other labels.

#[path = "escapes/common.rs"]
mod common;

#[path = "escapes/cve_2019_5736.rs"]
mod cve_2019_5736;

#[path = "escapes/cve_2019_16884.rs"]
mod cve_2019_16884;

#[path = "escapes/cve_2019_19921.rs"]
mod cve_2019_19921;

#[path = "escapes/cve_2021_30465.rs"]
mod cve_2021_30465;

#[path = "escapes/cve_2022_0492.rs"]
mod cve_2022_0492;

#[path = "escapes/cve_2022_29162.rs"]
mod cve_2022_29162;

#[path = "escapes/cve_2023_27561.rs"]
mod cve_2023_27561;

#[path = "escapes/cve_2024_21626.rs"]
mod cve_2024_21626;

#[path = "escapes/cve_2024_45310.rs"]
mod cve_2024_45310;

#[path = "escapes/cve_2025_31133.rs"]
mod cve_2025_31133;

#[path = "escapes/cve_2025_52565.rs"]
mod cve_2025_52565;

#[path = "escapes/cve_2025_52881.rs"]
mod cve_2025_52881;

#[path = "escapes/exec_proc_root.rs"]
mod exec_proc_root;

#[path = "escapes/tiocsti.rs"]
mod tiocsti;

#[path = "escapes/stacked_bind_source.rs"]
mod stacked_bind_source;

#[path = "escapes/created_init_fds.rs"]
mod created_init_fds;

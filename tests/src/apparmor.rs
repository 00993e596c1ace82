//! AppArmor helpers shared by the AppArmor tests (tests/tests/apparmor.rs)
//! and the escape suite (tests/tests/escapes): whether AppArmor can be used
//! here, and a profile loaded for the duration of a test.

use std::path::PathBuf;
use std::time::Duration;

use crate::runtime::which;
use crate::{say, Cmd, Ctx, Out};

/// Says whether the AppArmor LSM is enabled in this kernel.
pub const ENABLED: &str = "/sys/module/apparmor/parameters/enabled";

/// Is the AppArmor LSM enabled (whether or not profiles can be loaded)?
pub fn enabled() -> bool {
    std::fs::read_to_string(ENABLED).is_ok_and(|s| s.trim() == "Y")
}

/// Why AppArmor tests cannot run here (None: they can). `vm_filter` is the
/// VM harness filter that runs them on a kernel with AppArmor, for the
/// SKIP message (e.g. `ward-tests:apparmor`).
pub fn unavailable(vm_filter: &str) -> Option<String> {
    match std::fs::read_to_string(ENABLED) {
        Ok(s) if s.trim() == "Y" => {}
        Ok(s) => {
            return Some(format!(
                "AppArmor is disabled ({ENABLED} is {:?})",
                s.trim()
            ))
        }
        Err(_) => {
            return Some(format!(
                "AppArmor is not enabled in this kernel ({ENABLED} is missing); \
                 run these tests in the VM harness: scripts/vm/run-tests.sh {vm_filter}"
            ))
        }
    }
    if which("apparmor_parser").is_none() {
        return Some(
            "AppArmor is on but apparmor_parser is not installed (apt-get install apparmor)".into(),
        );
    }
    None
}

/// A profile loaded into the kernel for the duration of a test (removed
/// with `apparmor_parser -R` on drop).
pub struct Profile {
    /// The profile name: `ward-test-<tag>-<pid>`.
    pub name: String,
    file: PathBuf,
    dir: PathBuf,
}

impl Profile {
    /// Writes `ward-test-<tag>-<pid>` with everything a shell in a
    /// container needs (the runtime signals it, it execs applets, reads its
    /// files) plus `rules` (lines such as `  deny /canary rw,\n`), and loads
    /// it (`apparmor_parser -r`); panics with the parser's output on failure.
    #[track_caller]
    pub fn load(ctx: &Ctx, tag: &str, rules: &str) -> Profile {
        let name = format!("ward-test-{tag}-{}", std::process::id());
        let file = ctx.path(&format!("{name}.profile"));
        let text = format!(
            "profile {name} flags=(attach_disconnected,mediate_deleted) {{\n  file,\n  \
             capability,\n  network,\n  signal,\n  ptrace,\n  unix,\n  mount,\n  umount,\n  \
             pivot_root,\n{rules}}}\n"
        );
        if let Err(e) = std::fs::write(&file, text) {
            panic!("write {}: {e}", file.display());
        }
        let p = Profile {
            name,
            file,
            dir: ctx.dir.clone(),
        };
        p.parser("-r").ok();
        p
    }

    /// `apparmor_parser FLAG --skip-cache FILE`.
    fn parser(&self, flag: &str) -> Out {
        let bin = which("apparmor_parser").unwrap_or_else(|| PathBuf::from("apparmor_parser"));
        Cmd::new(bin, &self.dir)
            .args([flag, "--skip-cache"])
            .args([self.file.as_os_str()])
            .timeout(Duration::from_secs(60))
            .run()
    }

    /// Is it listed in the kernel's loaded profiles?
    pub fn loaded(&self) -> bool {
        std::fs::read_to_string("/sys/kernel/security/apparmor/profiles")
            .map(|s| s.lines().any(|l| l.split(" (").next() == Some(&self.name)))
            .unwrap_or(false)
    }
}

impl Drop for Profile {
    fn drop(&mut self) {
        let o = self.parser("-R");
        if !o.success() {
            say(&format!(
                "warning: removing AppArmor profile {}: {o}",
                self.name
            ));
        }
    }
}

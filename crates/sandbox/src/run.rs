//! Running a plan: the caller's stdio pipes lent to a remapped sandbox,
//! the precompiled filter for the default profile, and the checks a
//! `--seccomp` profile must pass.

use std::path::Path;

use ward_runtime::lifecycle::Ephemeral;
use ward_runtime::Error;
use ward_seccomp::Program;
use ward_spec::seccomp::LinuxSeccomp;

use crate::{msg, Plan};

type Result<T> = std::result::Result<T, Error>;

/// The caller's stdio pipes, lent to a remapped sandbox for the run.
///
/// Why: a command re-opens its stdio by name (`> /dev/stdout`,
/// `/proc/self/fd/1`), which checks the permissions of what fd 1 is; the
/// caller's pipes are root's, mode 0600, and root in the sandbox is the
/// host's nobody. Only anonymous pipes (`pipe:[N]`, no file on any disk,
/// reachable by name only by who can ptrace a holder) are handed over, and
/// given back when the run ends; files and terminals are the host's and
/// keep their owner (write to them through the fd, or use --keep-root).
struct LentPipes(Vec<(i32, u32, u32)>);

impl LentPipes {
    fn lend(to: u32) -> LentPipes {
        let mut lent = Vec::new();
        for fd in 0..3 {
            let anonymous_pipe = std::fs::read_link(format!("/proc/self/fd/{fd}"))
                .is_ok_and(|l| l.to_string_lossy().starts_with("pipe:["));
            if !anonymous_pipe {
                continue;
            }
            let Ok(st) = nix::sys::stat::fstat(fd) else {
                continue;
            };
            let id = (
                Some(nix::unistd::Uid::from_raw(to)),
                Some(nix::unistd::Gid::from_raw(to)),
            );
            if nix::unistd::fchown(fd, id.0, id.1).is_ok() {
                lent.push((fd, st.st_uid, st.st_gid));
            }
        }
        LentPipes(lent)
    }
}

impl Drop for LentPipes {
    fn drop(&mut self) {
        for (fd, uid, gid) in &self.0 {
            let _ = nix::unistd::fchown(
                *fd,
                Some(nix::unistd::Uid::from_raw(*uid)),
                Some(nix::unistd::Gid::from_raw(*gid)),
            );
        }
    }
}

/// Runs the plan in the foreground; the exit code is the command's. A
/// program compiled ahead of time (bins/ward/build.rs, from
/// [`crate::seccomp_profile`]) is used only for the default profile (a
/// test of bins/ward checks that it was compiled from exactly that
/// profile); any other is compiled here.
pub fn run(plan: &Plan, precompiled: Option<Program>) -> Result<Ephemeral> {
    let program = precompiled.filter(|p| plan.default_seccomp && !p.bpf.is_empty());
    run_plan(plan, program, None)
}

/// The one way a plan runs (`run` and `learn`): with the caller's stdio
/// pipes lent to a remapped sandbox, and a `--ro`/`--rw` path that cannot
/// be id-mapped answered with what else works.
pub(crate) fn run_plan(
    plan: &Plan,
    program: Option<Program>,
    on_listener: Option<&mut dyn FnMut(std::os::fd::OwnedFd)>,
) -> Result<Ephemeral> {
    let _lent = plan.remapped_to.map(LentPipes::lend);
    ward_runtime::lifecycle::run_ephemeral(ward_runtime::lifecycle::EphemeralRun {
        id: &ward_runtime::ephemeral_id(),
        spec: &plan.spec,
        rootfs: Path::new("/"),
        bundle: Path::new("/"),
        cgroups: plan.cgroups,
        extras: plan.extras.clone(),
        landlock: plan.landlock.clone(),
        seccomp: program,
        on_listener,
    })
    .map_err(|e| {
        let text = e.to_string();
        if plan.remapped_to.is_some() && text.contains("id-mapping the bind") {
            msg(format!(
                "{text}; --keep-root binds it as it is, the sandbox then being the host's root (without capabilities)"
            ))
        } else {
            e
        }
    })
}

/// What a `--seccomp` profile must keep from the default one: no
/// SCMP_ACT_NOTIFY (nothing would answer), the native ABI only (no compat
/// entry points), and TIOCSTI/TIOCLINUX denied — this host's kernel lets
/// them type into the caller's terminal (CVE-2017-5226), and the sandbox
/// shares that terminal when stdio is not proxied.
pub(crate) fn check_given_profile(p: &LinuxSeccomp) -> Result<()> {
    use ward_seccomp::sandbox::{TIOCLINUX, TIOCSTI};
    if p.uses_notify() || p.listener_path.is_some() {
        return Err(msg(
            "--seccomp: SCMP_ACT_NOTIFY and listenerPath are not supported by ward sandbox: remove them from the profile",
        ));
    }
    let native = ward_seccomp::native_arch();
    if let Some(a) = p.architectures.iter().find(|a| **a != native) {
        return Err(msg(format!(
            "--seccomp: architectures lists {a:?}: ward sandbox runs native syscalls only (no 32-bit/compat ABI); remove the other architectures"
        )));
    }
    let f = ward_seccomp::compile(p, &ward_seccomp::CompileOptions::default())
        .map_err(|e| msg(format!("--seccomp: {e}")))?;
    for (cmd, name) in [(TIOCSTI, "TIOCSTI"), (TIOCLINUX, "TIOCLINUX")] {
        let data = ward_seccomp::bpf::SeccompData::new(
            ward_seccomp::audit_arch(native),
            libc::SYS_ioctl as i32,
            [0, cmd, 0, 0, 0, 0],
        );
        let ret = f
            .evaluate(&data)
            .map_err(|e| msg(format!("--seccomp: evaluating the filter: {e:?}")))?;
        // Denying actions: KILL_PROCESS (0x8000_0000), KILL_THREAD (0),
        // TRAP, ERRNO; NOTIFY, TRACE, LOG and ALLOW (0x7fc0_0000 and up)
        // let the ioctl reach the terminal.
        if (0x7fc0_0000..0x8000_0000).contains(&ret) {
            return Err(msg(format!(
                "--seccomp: the profile allows ioctl({name}), which types into the caller's terminal: deny it (profiles from --learn do; or copy the ioctl rules of `ward sandbox --learn`'s output)"
            )));
        }
    }
    Ok(())
}

/// Whether `e` says that the command does not exist (exit 127, like a shell).
pub fn is_not_found(e: &Error) -> bool {
    let s = e.to_string();
    s.contains("exec: ")
        && (s.contains("executable file not found") || s.contains("no such executable file"))
}

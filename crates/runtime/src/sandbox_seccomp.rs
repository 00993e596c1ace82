//! The seccomp profile of `ward sandbox`, in a file of its own so that
//! bins/ward/build.rs can compile it ahead of time (`include!`): compiling
//! with libseccomp takes ~20 ms, more than the rest of a sandbox start.
//! Depends only on ward_seccomp, ward_spec and libc.

use ward_spec::seccomp::{Action, Arg, LinuxSeccomp, Syscall};

/// ioctls that push input into a terminal (TIOCSTI: CVE-2017-5226 and its
/// siblings) or copy/paste on a virtual console (TIOCLINUX).
const TIOCSTI: u64 = 0x5412;
const TIOCLINUX: u64 = 0x541C;

/// ward's default seccomp profile without TIOCSTI and TIOCLINUX.
///
/// libseccomp lets an unconditional allow win over a conditional deny of
/// the same syscall, so `ioctl` leaves the allowlist and comes back as
/// rules that allow every command whose low 32 bits (the kernel reads an
/// `unsigned int`: 0x1_0000_5412 is TIOCSTI too) differ from both: one
/// rule per bit on which the two agree, plus the other patterns of the
/// three bits on which they differ. Everything else meets the default
/// action, EPERM.
pub fn seccomp_profile() -> LinuxSeccomp {
    let mut p = ward_seccomp::default_profile();
    for rule in &mut p.syscalls {
        if rule.action == Action::Allow && rule.args.is_empty() {
            rule.names.retain(|n| n != "ioctl");
        }
    }
    let differ = TIOCSTI ^ TIOCLINUX;
    for bit in (0..32).map(|b| 1u64 << b).filter(|b| differ & b == 0) {
        p.syscalls.push(
            Syscall::new(["ioctl"], Action::Allow).with_arg(Arg::masked_eq(1, bit, !TIOCSTI & bit)),
        );
    }
    let mut v = differ;
    loop {
        // Every sub-pattern of the differing bits but the two commands'.
        if v != TIOCSTI & differ && v != TIOCLINUX & differ {
            p.syscalls.push(
                Syscall::new(["ioctl"], Action::Allow).with_arg(Arg::masked_eq(1, differ, v)),
            );
        }
        if v == 0 {
            break;
        }
        v = (v - 1) & differ;
    }
    p
}

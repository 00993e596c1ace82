//! The seccomp profile of `ward sandbox`. Served here, next to the
//! default profile it narrows, so that bins/ward/build.rs can compile it
//! ahead of time through this crate (compiling with libseccomp takes
//! ~20 ms, more than the rest of a sandbox start).

use ward_spec::seccomp::{Action, Arg, LinuxSeccomp, Syscall};

/// ioctls that push input into a terminal (TIOCSTI: CVE-2017-5226 and its
/// siblings) or copy/paste on a virtual console (TIOCLINUX).
pub const TIOCSTI: u64 = 0x5412;
pub const TIOCLINUX: u64 = 0x541C;

/// ward's default seccomp profile without TIOCSTI and TIOCLINUX.
///
/// libseccomp lets an unconditional allow win over a conditional deny of
/// the same syscall, so `ioctl` leaves the allowlist and comes back as
/// rules that allow every command whose low 32 bits (the kernel reads an
/// `unsigned int`: 0x1_0000_5412 is TIOCSTI too) differ from both: one
/// rule per bit on which the two agree, plus the other patterns of the
/// three bits on which they differ. Everything else meets the default
/// action, EPERM.
///
/// Only the native ABI is allowed: 32-bit x86 and x32 syscalls (compat entry
/// points, a steady source of kernel bugs) get the filter's bad-arch answer,
/// so 32-bit binaries do not run in the sandbox. This also makes the filter
/// a third of the size (cheaper to load at every start).
pub fn profile() -> LinuxSeccomp {
    let mut p = crate::default_profile();
    p.architectures = vec![crate::native_arch()];
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bpf::SeccompData;

    const RET_ALLOW: u32 = 0x7fff_0000;
    const RET_ERRNO_EPERM: u32 = 0x0005_0000 | 1;

    fn eval(f: &crate::CompiledFilter, arch: u32, nr: i32, args: [u64; 6]) -> u32 {
        f.evaluate(&SeccompData::new(arch, nr, args))
            .expect("the filter evaluates")
    }

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn tiocsti_denied_other_ioctls_allowed_native_abi_only() {
        let f = crate::compile(&profile(), &Default::default()).expect("compiles");
        let x86_64 = crate::bpf::AUDIT_ARCH_X86_64;
        let ioctl = libc::SYS_ioctl as i32;
        for cmd in [
            TIOCSTI,
            TIOCLINUX,
            TIOCSTI | 1 << 32,
            TIOCLINUX | 0xffff_0000_0000,
        ] {
            assert_eq!(
                eval(&f, x86_64, ioctl, [0, cmd, 0, 0, 0, 0]),
                RET_ERRNO_EPERM,
                "{cmd:#x}"
            );
        }
        for cmd in [
            0x5401u64, /* TCGETS */
            0x5413,    /* TIOCGWINSZ */
            0x5410, 0x541d, 0,
        ] {
            assert_eq!(
                eval(&f, x86_64, ioctl, [0, cmd, 0, 0, 0, 0]),
                RET_ALLOW,
                "{cmd:#x}"
            );
        }
        // write(2) natively: allowed; as x32 or i386: not.
        assert_eq!(eval(&f, x86_64, 1, [0; 6]), RET_ALLOW);
        let x32 = crate::bpf::X32_SYSCALL_BIT as i32 | 1;
        assert_ne!(eval(&f, x86_64, x32, [0; 6]), RET_ALLOW);
        assert_ne!(eval(&f, crate::bpf::AUDIT_ARCH_I386, 4, [0; 6]), RET_ALLOW);
    }
}

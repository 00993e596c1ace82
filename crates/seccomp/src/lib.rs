//! ward-seccomp: turns an OCI `linux.seccomp` profile into a BPF program.
//!
//! The profile is compiled in the runtime (the parent) with libseccomp and
//! exported as raw BPF bytes ([`compile`]); the container's init only hands
//! those bytes to the kernel ([`ward_sys::seccomp::load_filter`]) right
//! before execve, so nothing that allocates or parses runs in the child.
//!
//! # Semantics (runc-compatible)
//!
//! - The native architecture is always in the filter; `architectures` add
//!   more (Docker's profile adds x86 and x32 on x86_64).
//! - A syscall name unknown to libseccomp is skipped, not an error, and is
//!   listed in [`CompiledFilter::unknown_syscalls`]: profiles name syscalls
//!   newer than the library, and refusing them would make every profile
//!   update wait for a libseccomp update.
//! - SCMP_ACT_ERRNO / SCMP_ACT_TRACE without `errnoRet` return EPERM (the
//!   runtime-spec default); the default action uses `defaultErrnoRet`, else
//!   EPERM. `errnoRet` on any other action is refused, as the spec requires.
//! - A rule whose action equals the default action is redundant and skipped
//!   (libseccomp refuses it).
//! - The conditions of one rule are ANDed. When two conditions name the same
//!   argument, the rule is split into one rule per condition (ORed), exactly
//!   as runc does, so profiles written for runc keep their meaning.
//! - SCMP_CMP_MASKED_EQ: `value` is the mask, `valueTwo` the datum.
//! - SCMP_ACT_NOTIFY cannot be the default action (the runtime itself could
//!   not finish starting the container); a rule with it makes
//!   [`CompiledFilter::needs_listener`] true and adds
//!   SECCOMP_FILTER_FLAG_NEW_LISTENER to the load flags.
//!
//! # ENOSYS for syscalls newer than the profile
//!
//! An allowlist profile with default action ERRNO(EPERM) also "denies" every
//! syscall added to the kernel after the profile was written. Programs probe
//! new syscalls and fall back only on ENOSYS ("kernel too old"): EPERM makes
//! them fail. The case that bites is clone3: glibc ≥ 2.34 creates threads
//! with clone3 first and does not fall back to clone on EPERM, so every
//! threaded program breaks. We do what runc does (libcontainer/seccomp/
//! patchbpf), plus one targeted rule:
//!
//! 1. **The -ENOSYS stub** ([`bpf::enosys_stub`]): for each architecture in
//!    the filter, find the largest syscall number the profile names (any
//!    rule, any action); a syscall numbered above it is newer than every
//!    syscall the profile knows, so it gets ENOSYS. The stub is prepended to
//!    libseccomp's program; below the maximum, libseccomp's filter decides.
//!    x32 (same AUDIT_ARCH as x86_64, syscall bit 30) has its own maximum.
//!    On s390(x), syscall 0 (the multiplexer an unknown large number turns
//!    into) also gets ENOSYS. Skipped when the default action already
//!    allows (ALLOW, LOG, TRACE: a tracer handles ENOSYS itself) or already
//!    returns ENOSYS.
//! 2. **clone3** (ward's addition, [`CompileOptions::clone3_enosys`]): the
//!    stub cannot help a profile that names a syscall numbered above clone3
//!    (435) but not clone3 itself: clone3 is below the maximum and gets the
//!    default EPERM. That was the "Fedora/glibc in Docker cannot create
//!    threads" breakage (moby/moby#42681). So when the default action is
//!    ERRNO with an errno other than ENOSYS and no rule names clone3, clone3
//!    gets ERRNO(ENOSYS). This never allows anything new: clone3 stays
//!    denied, only with the errno that makes libc fall back to clone, whose
//!    flags a filter can inspect (clone3's are behind a pointer).
//!
//! Docker's profile names clone3 explicitly (ERRNO 38 without
//! CAP_SYS_ADMIN), and ward's default profile does too.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

pub mod bpf;
pub mod cache;
pub mod docker;
pub mod profile;
pub mod sandbox;

use std::collections::{BTreeMap, BTreeSet};
use std::io::{self, Read, Seek, SeekFrom};

pub use libseccomp::error::SeccompError;
use libseccomp::{
    ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext, ScmpSyscall,
    ScmpVersion,
};
use ward_spec::seccomp::{Action, Arch, Arg, Flag, LinuxSeccomp, Operator};

pub use profile::default_profile;

const EPERM: u32 = libc::EPERM as u32;
const ENOSYS: u32 = libc::ENOSYS as u32;
/// Largest errno a filter can return: the kernel takes up to 4095
/// (MAX_ERRNO), but libseccomp 2.5 refuses ERRNO(4095) with an EINVAL
/// that names nothing — refused here first, with the field and the range.
const MAX_ERRNO: u32 = 4094;
const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;

/// Why a profile could not be compiled; each names what failed and the fix.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "seccomp: SCMP_ACT_NOTIFY cannot be the defaultAction (the runtime's own syscalls after \
         loading the filter would wait for an agent that has no listener yet); use another \
         defaultAction and SCMP_ACT_NOTIFY on named syscalls"
    )]
    NotifyDefault,
    #[error("seccomp: {rule}: errnoRet {errno} is out of range; use an errno from 0 to 4094")]
    ErrnoRange { rule: String, errno: u32 },
    #[error(
        "seccomp: {rule}: errnoRet is set but {action} returns no errno; remove errnoRet or use \
         SCMP_ACT_ERRNO / SCMP_ACT_TRACE"
    )]
    ErrnoNotAllowed { rule: String, action: Action },
    #[error(
        "seccomp: {rule}: argument index {index} is out of range; syscall arguments are 0 to 5"
    )]
    ArgIndex { rule: String, index: u32 },
    #[error("seccomp: {rule}: a syscall name is empty; remove it or name a syscall")]
    EmptyName { rule: String },
    #[error(
        "seccomp: architecture {arch} cannot be filtered next to the native {native} with \
         libseccomp {version} ({source}; one filter covers only ABIs of the native byte order \
         that the library knows); remove it from linux.seccomp.architectures"
    )]
    Arch {
        arch: Arch,
        native: Arch,
        version: String,
        source: SeccompError,
    },
    #[error("seccomp: libseccomp failed to {what}: {source}")]
    Libseccomp { what: String, source: SeccompError },
    #[error(
        "seccomp: exporting the compiled filter failed: {0}; check /proc/sys/fs limits and memory"
    )]
    Export(#[source] io::Error),
    #[error(
        "seccomp: the compiled filter has {0} instructions, more than the kernel's limit of \
         4096; use fewer rules or architectures"
    )]
    TooLong(usize),
}

/// Knobs of [`compile`]; `Default` is what ward uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompileOptions {
    /// Prepend runc's -ENOSYS stub (see the crate docs). Default true.
    pub enosys_stub: bool,
    /// clone3 → ENOSYS when the profile does not name it and the default
    /// action is ERRNO (see the crate docs). Default true.
    pub clone3_enosys: bool,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            enosys_stub: true,
            clone3_enosys: true,
        }
    }
}

/// A seccomp program as the kernel loads it: the one form a compiled
/// filter travels in, from the runtime (or a build script) to the process
/// that loads it ([`ward_sys::seccomp::load_filter`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Program {
    /// Native-endian `struct sock_filter` array.
    pub bpf: Vec<u8>,
    /// SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER).
    pub flags: u32,
}

impl Program {
    /// Whether loading it returns a notify listener
    /// (SECCOMP_FILTER_FLAG_NEW_LISTENER: a rule uses SCMP_ACT_NOTIFY).
    pub fn wants_listener(&self) -> bool {
        u64::from(self.flags) & libc::SECCOMP_FILTER_FLAG_NEW_LISTENER != 0
    }
}

/// A compiled profile, ready for [`ward_sys::seccomp::load_filter`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledFilter {
    /// The BPF program: native-endian `struct sock_filter` array.
    pub bpf: Vec<u8>,
    /// SECCOMP_FILTER_FLAG_* for seccomp(SECCOMP_SET_MODE_FILTER).
    pub flags: u32,
    /// A rule uses SCMP_ACT_NOTIFY: loading returns a listener fd to hand to
    /// the agent at `listenerPath`.
    pub needs_listener: bool,
    /// Names libseccomp does not know, skipped (sorted, deduplicated).
    pub unknown_syscalls: Vec<String>,
    /// Instructions of the -ENOSYS stub at the head of `bpf` (0: none).
    pub enosys_stub_len: usize,
    /// Per architecture, the largest syscall the profile names: above it the
    /// stub returns ENOSYS.
    pub enosys_above: Vec<(Arch, u32)>,
    /// clone3 → ENOSYS was added because the profile does not name clone3.
    pub implicit_clone3_enosys: bool,
}

impl CompiledFilter {
    /// What is loaded: the BPF and its load flags.
    pub fn into_program(self) -> Program {
        Program {
            bpf: self.bpf,
            flags: self.flags,
        }
    }

    /// Number of BPF instructions.
    pub fn len(&self) -> usize {
        self.bpf.len() / bpf::Insn::to_bytes(bpf::Insn::ret(0)).len()
    }

    pub fn is_empty(&self) -> bool {
        self.bpf.is_empty()
    }

    /// The program as instructions (for `--debug` and tests).
    pub fn instructions(&self) -> Vec<bpf::Insn> {
        bpf::decode(&self.bpf)
    }

    /// What the kernel would return (SECCOMP_RET_*) for this syscall.
    pub fn evaluate(&self, data: &bpf::SeccompData) -> Result<u32, bpf::EvalError> {
        bpf::evaluate(&self.instructions(), data)
    }
}

/// The architecture ward runs on.
pub fn native_arch() -> Arch {
    if cfg!(target_arch = "x86_64") {
        Arch::X86_64
    } else if cfg!(target_arch = "aarch64") {
        Arch::Aarch64
    } else if cfg!(target_arch = "x86") {
        Arch::X86
    } else if cfg!(target_arch = "arm") {
        Arch::Arm
    } else if cfg!(target_arch = "riscv64") {
        Arch::Riscv64
    } else if cfg!(target_arch = "s390x") {
        Arch::S390X
    } else if cfg!(target_arch = "loongarch64") {
        Arch::Loongarch64
    } else if cfg!(all(target_arch = "powerpc64", target_endian = "little")) {
        Arch::Ppc64Le
    } else if cfg!(target_arch = "powerpc64") {
        Arch::Ppc64
    } else {
        from_scmp_arch(ScmpArch::native()).unwrap_or(Arch::X86_64)
    }
}

/// The AUDIT_ARCH_* value the kernel puts in `seccomp_data.arch` (x32
/// shares x86_64's; its syscalls carry [`bpf::X32_SYSCALL_BIT`]).
pub fn audit_arch(arch: Arch) -> u32 {
    const B64: u32 = 0x8000_0000;
    const LE: u32 = 0x4000_0000;
    const MIPS_N32: u32 = 0x2000_0000;
    match arch {
        Arch::X86 => 3 | LE,
        Arch::X86_64 | Arch::X32 => 62 | B64 | LE,
        Arch::Arm => 40 | LE,
        Arch::Aarch64 => 183 | B64 | LE,
        Arch::Mips => 8,
        Arch::Mipsel => 8 | LE,
        Arch::Mips64 => 8 | B64,
        Arch::Mips64N32 => 8 | B64 | MIPS_N32,
        Arch::Mipsel64 => 8 | B64 | LE,
        Arch::Mipsel64N32 => 8 | B64 | LE | MIPS_N32,
        Arch::Ppc => 20,
        Arch::Ppc64 => 21 | B64,
        Arch::Ppc64Le => 21 | B64 | LE,
        Arch::S390 => 22,
        Arch::S390X => 22 | B64,
        Arch::Parisc => 15,
        Arch::Parisc64 => 15 | B64,
        Arch::Riscv64 => 243 | B64 | LE,
        Arch::Loongarch64 => 258 | B64 | LE,
        Arch::M68k => 4,
        Arch::Sh => 42 | LE,
        Arch::Sheb => 42,
    }
}

fn to_scmp_arch(arch: Arch) -> ScmpArch {
    match arch {
        Arch::X86 => ScmpArch::X86,
        Arch::X86_64 => ScmpArch::X8664,
        Arch::X32 => ScmpArch::X32,
        Arch::Arm => ScmpArch::Arm,
        Arch::Aarch64 => ScmpArch::Aarch64,
        Arch::Mips => ScmpArch::Mips,
        Arch::Mips64 => ScmpArch::Mips64,
        Arch::Mips64N32 => ScmpArch::Mips64N32,
        Arch::Mipsel => ScmpArch::Mipsel,
        Arch::Mipsel64 => ScmpArch::Mipsel64,
        Arch::Mipsel64N32 => ScmpArch::Mipsel64N32,
        Arch::Ppc => ScmpArch::Ppc,
        Arch::Ppc64 => ScmpArch::Ppc64,
        Arch::Ppc64Le => ScmpArch::Ppc64Le,
        Arch::S390 => ScmpArch::S390,
        Arch::S390X => ScmpArch::S390X,
        Arch::Parisc => ScmpArch::Parisc,
        Arch::Parisc64 => ScmpArch::Parisc64,
        Arch::Riscv64 => ScmpArch::Riscv64,
        Arch::Loongarch64 => ScmpArch::Loongarch64,
        Arch::M68k => ScmpArch::M68k,
        Arch::Sh => ScmpArch::Sh,
        Arch::Sheb => ScmpArch::Sheb,
    }
}

fn from_scmp_arch(arch: ScmpArch) -> Option<Arch> {
    Arch::ALL.iter().copied().find(|a| to_scmp_arch(*a) == arch)
}

fn libseccomp_version() -> String {
    match ScmpVersion::current() {
        Ok(v) => format!("{}.{}.{}", v.major, v.minor, v.micro),
        Err(_) => "(unknown version)".into(),
    }
}

/// The rule's name in messages: "syscalls[3] (mkdir, mkdirat)".
fn rule_label(i: usize, names: &[String]) -> String {
    let shown: Vec<&str> = names.iter().take(3).map(String::as_str).collect();
    let more = if names.len() > 3 { ", ..." } else { "" };
    format!("syscalls[{i}] ({}{more})", shown.join(", "))
}

fn check_errno(rule: &str, action: Action, errno: Option<u32>) -> Result<(), Error> {
    let Some(errno) = errno else { return Ok(()) };
    if !matches!(action, Action::Errno | Action::Trace) {
        return Err(Error::ErrnoNotAllowed {
            rule: rule.to_string(),
            action,
        });
    }
    if errno > MAX_ERRNO {
        return Err(Error::ErrnoRange {
            rule: rule.to_string(),
            errno,
        });
    }
    Ok(())
}

/// The libseccomp action; `errno` is `errnoRet` (EPERM when unset).
fn to_scmp_action(action: Action, errno: Option<u32>) -> ScmpAction {
    // Range-checked by check_errno: fits i32 and u16.
    let errno = errno.unwrap_or(EPERM);
    match action {
        Action::Kill | Action::KillThread => ScmpAction::KillThread,
        Action::KillProcess => ScmpAction::KillProcess,
        Action::Trap => ScmpAction::Trap,
        Action::Errno => ScmpAction::Errno(errno as i32),
        Action::Trace => ScmpAction::Trace(errno as u16),
        Action::Allow => ScmpAction::Allow,
        Action::Log => ScmpAction::Log,
        Action::Notify => ScmpAction::Notify,
    }
}

fn to_scmp_cmp(arg: &Arg) -> ScmpArgCompare {
    let op = match arg.op {
        Operator::Ne => ScmpCompareOp::NotEqual,
        Operator::Lt => ScmpCompareOp::Less,
        Operator::Le => ScmpCompareOp::LessOrEqual,
        Operator::Eq => ScmpCompareOp::Equal,
        Operator::Ge => ScmpCompareOp::GreaterEqual,
        Operator::Gt => ScmpCompareOp::Greater,
        // OCI: value is the mask, valueTwo the datum.
        Operator::MaskedEq => ScmpCompareOp::MaskedEqual(arg.value),
    };
    let datum = if arg.op == Operator::MaskedEq {
        arg.value_two
    } else {
        arg.value
    };
    ScmpArgCompare::new(arg.index, op, datum)
}

/// Checks what libseccomp would reject less clearly, before touching it.
fn validate(profile: &LinuxSeccomp) -> Result<(), Error> {
    if profile.default_action == Action::Notify {
        return Err(Error::NotifyDefault);
    }
    check_errno(
        "defaultErrnoRet",
        profile.default_action,
        profile.default_errno_ret,
    )?;
    for (i, rule) in profile.syscalls.iter().enumerate() {
        let label = || rule_label(i, &rule.names);
        check_errno(&label(), rule.action, rule.errno_ret)?;
        if rule.names.iter().any(|n| n.is_empty()) {
            return Err(Error::EmptyName { rule: label() });
        }
        if let Some(a) = rule.args.iter().find(|a| a.index > 5) {
            return Err(Error::ArgIndex {
                rule: label(),
                index: a.index,
            });
        }
    }
    Ok(())
}

/// The filter's architectures: native first, then the profile's, deduplicated.
fn filter_arches(profile: &LinuxSeccomp) -> Vec<Arch> {
    let mut out = vec![native_arch()];
    for a in &profile.architectures {
        if !out.contains(a) {
            out.push(*a);
        }
    }
    out
}

fn lib_err(what: impl Into<String>) -> impl FnOnce(SeccompError) -> Error {
    let what = what.into();
    move |source| Error::Libseccomp { what, source }
}

/// Compiles `profile` to a BPF program (see the crate docs for semantics).
pub fn compile(profile: &LinuxSeccomp, opts: &CompileOptions) -> Result<CompiledFilter, Error> {
    validate(profile)?;
    let default = to_scmp_action(profile.default_action, profile.default_errno_ret);
    let mut ctx = ScmpFilterContext::new(default).map_err(lib_err("create a filter"))?;
    // The filter is exported, not loaded by libseccomp: no_new_privs is the
    // runtime's decision (process.noNewPrivileges), not a side effect here.
    ctx.set_ctl_nnp(false)
        .map_err(lib_err("clear the no_new_privs attribute"))?;

    let arches = filter_arches(profile);
    for arch in &arches {
        ctx.add_arch(to_scmp_arch(*arch))
            .map_err(|source| Error::Arch {
                arch: *arch,
                native: arches[0],
                version: libseccomp_version(),
                source,
            })?;
    }
    // Binary-tree dispatch when many syscalls are named (Docker's profile:
    // 15 rules naming 377 syscalls, which a linear list makes every
    // syscall walk); counted by name, not by rule. Not available in every
    // libseccomp, and only a speed-up, so a failure is ignored.
    let named: usize = profile.syscalls.iter().map(|r| r.names.len()).sum();
    if named > 32 {
        let _ = ctx.set_ctl_optimize(2);
    }

    let mut unknown = BTreeSet::new();
    let mut named: Vec<&str> = Vec::new();
    for (i, rule) in profile.syscalls.iter().enumerate() {
        let action = to_scmp_action(rule.action, rule.errno_ret);
        for name in &rule.names {
            named.push(name);
            let Ok(sys) = ScmpSyscall::from_name(name) else {
                unknown.insert(name.clone());
                continue;
            };
            if action == default {
                continue;
            }
            add_rule(&mut ctx, action, sys, &rule.args).map_err(lib_err(format!(
                "add {} for {name}",
                rule_label(i, &rule.names)
            )))?;
        }
    }

    let default_errno = profile.default_errno_ret.unwrap_or(EPERM);
    let mut implicit_clone3 = false;
    if opts.clone3_enosys
        && profile.default_action == Action::Errno
        && default_errno != ENOSYS
        && !named.contains(&"clone3")
    {
        if let Ok(sys) = ScmpSyscall::from_name("clone3") {
            ctx.add_rule(ScmpAction::Errno(ENOSYS as i32), sys)
                .map_err(lib_err("add clone3 → ENOSYS"))?;
            // Not counted for the stub's maximum: the profile does not name
            // it, and above the maximum the stub answers ENOSYS anyway.
            implicit_clone3 = true;
        }
    }

    let program = export(&ctx)?;

    let default_allows = matches!(
        profile.default_action,
        Action::Allow | Action::Log | Action::Trace
    );
    let default_enosys = matches!(profile.default_action, Action::Errno) && default_errno == ENOSYS;
    let (stub, enosys_above) = if opts.enosys_stub && !default_allows && !default_enosys {
        let (sections, above) = stub_sections(&arches, &named);
        (
            bpf::enosys_stub(&sections, SECCOMP_RET_ERRNO | ENOSYS),
            above,
        )
    } else {
        (Vec::new(), Vec::new())
    };

    let mut bytes = bpf::encode(&stub);
    bytes.extend_from_slice(&program);
    let insns = bytes.len() / 8;
    if insns > ward_sys::seccomp::BPF_MAXINSNS {
        return Err(Error::TooLong(insns));
    }

    let needs_listener = profile.syscalls.iter().any(|s| s.action == Action::Notify);
    Ok(CompiledFilter {
        bpf: bytes,
        flags: load_flags(&profile.flags, needs_listener),
        needs_listener,
        unknown_syscalls: unknown.into_iter().collect(),
        enosys_stub_len: stub.len(),
        enosys_above,
        implicit_clone3_enosys: implicit_clone3,
    })
}

/// Adds one rule; conditions on distinct arguments are ANDed, a repeated
/// argument splits the rule per condition (runc's behaviour).
fn add_rule(
    ctx: &mut ScmpFilterContext,
    action: ScmpAction,
    sys: ScmpSyscall,
    args: &[Arg],
) -> Result<(), SeccompError> {
    if args.is_empty() {
        ctx.add_rule(action, sys)?;
        return Ok(());
    }
    let mut per_index = [0usize; 6];
    for a in args {
        // Index validated to be ≤ 5.
        per_index[a.index as usize] += 1;
    }
    let cmps: Vec<ScmpArgCompare> = args.iter().map(to_scmp_cmp).collect();
    if per_index.iter().any(|&n| n > 1) {
        for c in cmps {
            ctx.add_rule_conditional(action, sys, &[c])?;
        }
    } else {
        ctx.add_rule_conditional(action, sys, &cmps)?;
    }
    Ok(())
}

/// Exports the BPF into a memfd and reads it back (libseccomp writes to an
/// fd; a pipe could fill up before we read it).
fn export(ctx: &ScmpFilterContext) -> Result<Vec<u8>, Error> {
    let fd = ward_sys::seccomp::memfd("ward-seccomp-bpf").map_err(Error::Export)?;
    ctx.export_bpf(&fd)
        .map_err(lib_err("export the BPF program"))?;
    let mut file = std::fs::File::from(fd);
    file.seek(SeekFrom::Start(0)).map_err(Error::Export)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).map_err(Error::Export)?;
    if bytes.is_empty() || bytes.len() % 8 != 0 {
        return Err(Error::Export(io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "libseccomp exported {} bytes, not whole instructions",
                bytes.len()
            ),
        )));
    }
    Ok(bytes)
}

/// Per AUDIT_ARCH, the largest syscall `names` resolve to on each arch.
fn stub_sections(arches: &[Arch], names: &[&str]) -> (Vec<bpf::StubSection>, Vec<(Arch, u32)>) {
    let mut by_audit: BTreeMap<u32, bpf::StubSection> = BTreeMap::new();
    let mut above = Vec::new();
    for &arch in arches {
        let max = names
            .iter()
            .filter_map(|n| ScmpSyscall::from_name_by_arch(n, to_scmp_arch(arch)).ok())
            .filter_map(|s| u32::try_from(i32::from(s)).ok())
            .max();
        let Some(max) = max else { continue };
        above.push((arch, max));
        let audit = audit_arch(arch);
        let s = by_audit.entry(audit).or_insert(bpf::StubSection {
            audit_arch: audit,
            max: None,
            max_x32: None,
            multiplex_zero: matches!(arch, Arch::S390 | Arch::S390X),
        });
        if arch == Arch::X32 {
            s.max_x32 = Some(max);
        } else {
            s.max = Some(max);
        }
    }
    (by_audit.into_values().collect(), above)
}

/// seccomp(2) flags for the profile's `flags` and whether a listener is
/// needed. TSYNC with a listener needs TSYNC_ESRCH (the kernel refuses the
/// pair otherwise, since both would use the return value); WAIT_KILLABLE_RECV
/// means nothing without a listener and the kernel refuses it alone, so it is
/// dropped then.
fn load_flags(flags: &[Flag], listener: bool) -> u32 {
    let mut out: libc::c_ulong = 0;
    for f in flags {
        out |= match f {
            Flag::Tsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            Flag::Log => libc::SECCOMP_FILTER_FLAG_LOG,
            Flag::SpecAllow => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            Flag::WaitKillableRecv if listener => libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
            Flag::WaitKillableRecv => 0,
        };
    }
    if listener {
        out |= libc::SECCOMP_FILTER_FLAG_NEW_LISTENER;
        if out & libc::SECCOMP_FILTER_FLAG_TSYNC != 0 {
            out |= libc::SECCOMP_FILTER_FLAG_TSYNC_ESRCH;
        }
    }
    // All SECCOMP_FILTER_FLAG_* are below bit 6.
    out as u32
}

fn allowing(a: Action) -> bool {
    matches!(a, Action::Allow | Action::Log)
}

/// The rules of `profile` that name `name` (empty: the default action
/// decides).
fn rules_for<'a>(profile: &'a LinuxSeccomp, name: &str) -> Vec<&'a ward_spec::seccomp::Syscall> {
    profile
        .syscalls
        .iter()
        .filter(|r| r.names.iter().any(|n| n == name))
        .collect()
}

/// The name of native syscall number `nr` (libseccomp's table), if any.
pub fn syscall_name(nr: i32) -> Option<String> {
    ScmpSyscall::from_raw_syscall(nr)
        .get_name_by_arch(ScmpArch::Native)
        .ok()
}

/// Whether the profile lets `name` through with no argument condition (as
/// an unconditional ALLOW/LOG rule or an allowing default action). For
/// tests and checks of profiles, not a substitute for the filter.
pub fn allows_unconditionally(profile: &LinuxSeccomp, name: &str) -> bool {
    let rules = rules_for(profile, name);
    if rules.is_empty() {
        return allowing(profile.default_action);
    }
    rules
        .iter()
        .any(|r| allowing(r.action) && r.args.is_empty())
}

/// Whether the profile may let `name` through under some argument values
/// (an allowing rule, or an allowing default for the values no rule
/// matches).
pub fn may_allow(profile: &LinuxSeccomp, name: &str) -> bool {
    rules_for(profile, name).iter().any(|r| allowing(r.action)) || allowing(profile.default_action)
}

#[cfg(test)]
mod tests;

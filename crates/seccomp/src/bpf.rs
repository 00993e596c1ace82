//! Classic BPF as seccomp uses it: instruction encoding, the -ENOSYS stub
//! that is prepended to libseccomp's program, and a small interpreter that
//! evaluates a program against a syscall the way the kernel does (for tests
//! and for explaining a filter's decision with `--debug`).

use std::fmt;

/// `offsetof(struct seccomp_data, nr)`.
pub const OFF_NR: u32 = 0;
/// `offsetof(struct seccomp_data, arch)`.
pub const OFF_ARCH: u32 = 4;

/// x32 syscalls are x86_64 syscalls (same AUDIT_ARCH) with this bit set.
pub const X32_SYSCALL_BIT: u32 = 0x4000_0000;

pub const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;
pub const AUDIT_ARCH_I386: u32 = 0x4000_0003;
pub const AUDIT_ARCH_AARCH64: u32 = 0xC000_00B7;
pub const AUDIT_ARCH_ARM: u32 = 0x4000_0028;

// Opcodes (linux/bpf_common.h).
const BPF_LD: u16 = 0x00;
const BPF_LDX: u16 = 0x01;
const BPF_ST: u16 = 0x02;
const BPF_STX: u16 = 0x03;
const BPF_ALU: u16 = 0x04;
const BPF_JMP: u16 = 0x05;
const BPF_RET: u16 = 0x06;
const BPF_MISC: u16 = 0x07;
const BPF_W: u16 = 0x00;
const BPF_ABS: u16 = 0x20;
const BPF_IMM: u16 = 0x00;
const BPF_MEM: u16 = 0x60;
const BPF_LEN: u16 = 0x80;
const BPF_K: u16 = 0x00;
const BPF_X: u16 = 0x08;
const BPF_A: u16 = 0x10;
const BPF_JA: u16 = 0x00;
const BPF_JEQ: u16 = 0x10;
const BPF_JGT: u16 = 0x20;
const BPF_JGE: u16 = 0x30;
const BPF_JSET: u16 = 0x40;

/// One `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

impl Insn {
    /// `ld [off]`: load a 32-bit word of seccomp_data.
    pub const fn load(off: u32) -> Self {
        Insn {
            code: BPF_LD | BPF_W | BPF_ABS,
            jt: 0,
            jf: 0,
            k: off,
        }
    }
    pub const fn jeq(k: u32, jt: u8, jf: u8) -> Self {
        Insn {
            code: BPF_JMP | BPF_JEQ | BPF_K,
            jt,
            jf,
            k,
        }
    }
    pub const fn jgt(k: u32, jt: u8, jf: u8) -> Self {
        Insn {
            code: BPF_JMP | BPF_JGT | BPF_K,
            jt,
            jf,
            k,
        }
    }
    pub const fn jset(k: u32, jt: u8, jf: u8) -> Self {
        Insn {
            code: BPF_JMP | BPF_JSET | BPF_K,
            jt,
            jf,
            k,
        }
    }
    /// Unconditional jump forward by `k` (32-bit: reaches any instruction).
    pub const fn ja(k: u32) -> Self {
        Insn {
            code: BPF_JMP | BPF_JA,
            jt: 0,
            jf: 0,
            k,
        }
    }
    pub const fn ret(k: u32) -> Self {
        Insn {
            code: BPF_RET | BPF_K,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// Native-endian bytes, the layout the kernel copies.
    pub fn to_bytes(self) -> [u8; 8] {
        let mut b = [0u8; 8];
        b[0..2].copy_from_slice(&self.code.to_ne_bytes());
        b[2] = self.jt;
        b[3] = self.jf;
        b[4..8].copy_from_slice(&self.k.to_ne_bytes());
        b
    }
}

/// Splits native-endian program bytes into instructions (a trailing partial
/// instruction is ignored; callers check the length).
pub fn decode(program: &[u8]) -> Vec<Insn> {
    program
        .chunks_exact(8)
        .map(|c| Insn {
            code: u16::from_ne_bytes([c[0], c[1]]),
            jt: c[2],
            jf: c[3],
            k: u32::from_ne_bytes([c[4], c[5], c[6], c[7]]),
        })
        .collect()
}

/// Concatenates instructions into program bytes.
pub fn encode(insns: &[Insn]) -> Vec<u8> {
    insns.iter().flat_map(|i| i.to_bytes()).collect()
}

/// The largest syscall numbers a profile names, for one AUDIT_ARCH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StubSection {
    pub audit_arch: u32,
    /// Largest syscall of the arch's main ABI (x86_64 on AUDIT_ARCH_X86_64).
    pub max: Option<u32>,
    /// Largest x32 syscall (with [`X32_SYSCALL_BIT`]); AUDIT_ARCH_X86_64 only.
    pub max_x32: Option<u32>,
    /// s390(x): syscall 0 multiplexes large syscall numbers; an unknown one
    /// arrives as 0 and must get ENOSYS too.
    pub multiplex_zero: bool,
}

/// Generates the -ENOSYS stub: for each arch, a syscall numbered above the
/// largest one the profile names returns `ret_enosys`; everything else
/// continues into the filter that follows the stub. Arches not listed fall
/// through to the filter (which applies its bad-arch action).
///
/// Conditional jumps stay inside one small section (they are 8-bit); the
/// jumps into the filter are `ja`, which has a 32-bit offset.
pub fn enosys_stub(sections: &[StubSection], ret_enosys: u32) -> Vec<Insn> {
    let mut bodies: Vec<Vec<Insn>> = Vec::new();
    for s in sections {
        let mut b = vec![Insn::load(OFF_NR)];
        let x86 = s.audit_arch == AUDIT_ARCH_X86_64;
        match (x86, s.max, s.max_x32) {
            (_, None, None) => continue,
            (true, Some(m), Some(mx)) => {
                // x32 call? check its maximum; else the x86_64 one.
                b.push(Insn::jset(X32_SYSCALL_BIT, 1, 0));
                b.push(Insn::jgt(m, 1, 2));
                b.push(Insn::jgt(mx, 0, 1));
            }
            (true, Some(m), None) => {
                // An x32 call is none of our business: to the filter.
                b.push(Insn::jset(X32_SYSCALL_BIT, 2, 0));
                b.push(Insn::jgt(m, 0, 1));
            }
            (true, None, Some(mx)) => {
                b.push(Insn::jset(X32_SYSCALL_BIT, 0, 2));
                b.push(Insn::jgt(mx, 0, 1));
            }
            (false, Some(m), _) | (false, None, Some(m)) => {
                if s.multiplex_zero {
                    b.push(Insn::jeq(0, 1, 0));
                }
                b.push(Insn::jgt(m, 0, 1));
            }
        }
        b.push(Insn::ret(ret_enosys));
        // Placeholder, patched below to jump to the filter's first insn.
        b.push(Insn::ja(0));
        bodies.push(b);
    }
    let active: Vec<&StubSection> = sections
        .iter()
        .filter(|s| s.max.is_some() || s.max_x32.is_some())
        .collect();
    if bodies.is_empty() {
        return Vec::new();
    }
    // Layout: ld arch; one jeq per arch; ja filter; sections.
    let header = 1 + bodies.len() + 1;
    let total = header + bodies.iter().map(Vec::len).sum::<usize>();
    let mut prog = Vec::with_capacity(total);
    prog.push(Insn::load(OFF_ARCH));
    let mut start = header;
    for (i, (s, b)) in active.iter().zip(&bodies).enumerate() {
        let here = 1 + i;
        // Even with every architecture there is (23 × ≤ 7 instructions) the
        // offset stays below 256; should it not, no stub beats a wrong one.
        let Ok(off) = u8::try_from(start - here - 1) else {
            return Vec::new();
        };
        prog.push(Insn::jeq(s.audit_arch, off, 0));
        start += b.len();
    }
    prog.push(Insn::ja((total - header) as u32));
    for b in bodies {
        for insn in b {
            prog.push(insn);
        }
        let last = prog.len() - 1;
        prog[last] = Insn::ja((total - last - 1) as u32);
    }
    prog
}

/// Evaluation failed: the program is not one the kernel would accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError(pub String);

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BPF evaluation: {}", self.0)
    }
}

impl std::error::Error for EvalError {}

/// A syscall as the filter sees it (`struct seccomp_data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SeccompData {
    pub nr: i32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

impl SeccompData {
    pub fn new(arch: u32, nr: i32, args: [u64; 6]) -> Self {
        SeccompData {
            nr,
            arch,
            instruction_pointer: 0,
            args,
        }
    }

    fn word(&self, off: u32) -> Option<u32> {
        let mut bytes = [0u8; 64];
        bytes[0..4].copy_from_slice(&self.nr.to_ne_bytes());
        bytes[4..8].copy_from_slice(&self.arch.to_ne_bytes());
        bytes[8..16].copy_from_slice(&self.instruction_pointer.to_ne_bytes());
        for (i, a) in self.args.iter().enumerate() {
            bytes[16 + i * 8..24 + i * 8].copy_from_slice(&a.to_ne_bytes());
        }
        let off = usize::try_from(off).ok()?;
        if off % 4 != 0 || off + 4 > bytes.len() {
            return None;
        }
        Some(u32::from_ne_bytes([
            bytes[off],
            bytes[off + 1],
            bytes[off + 2],
            bytes[off + 3],
        ]))
    }
}

/// Runs `program` on `data` like the kernel's seccomp BPF interpreter and
/// returns the SECCOMP_RET_* value.
pub fn evaluate(program: &[Insn], data: &SeccompData) -> Result<u32, EvalError> {
    let err = |pc: usize, what: &str| EvalError(format!("instruction {pc}: {what}"));
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    while pc < program.len() {
        let i = program[pc];
        let class = i.code & 0x07;
        let src_x = i.code & BPF_X != 0;
        let operand = if src_x { x } else { i.k };
        match class {
            BPF_LD => match i.code & 0xe0 {
                BPF_ABS if i.code & 0x18 == BPF_W => {
                    a = data.word(i.k).ok_or_else(|| err(pc, "load out of range"))?;
                }
                BPF_IMM => a = i.k,
                BPF_MEM => a = *mem.get(i.k as usize).ok_or_else(|| err(pc, "bad M[]"))?,
                BPF_LEN => a = 64,
                _ => return Err(err(pc, "unsupported load")),
            },
            BPF_LDX => match i.code & 0xe0 {
                BPF_IMM => x = i.k,
                BPF_MEM => x = *mem.get(i.k as usize).ok_or_else(|| err(pc, "bad M[]"))?,
                BPF_LEN => x = 64,
                _ => return Err(err(pc, "unsupported ldx")),
            },
            BPF_ST => {
                *mem.get_mut(i.k as usize)
                    .ok_or_else(|| err(pc, "bad M[]"))? = a
            }
            BPF_STX => {
                *mem.get_mut(i.k as usize)
                    .ok_or_else(|| err(pc, "bad M[]"))? = x
            }
            BPF_ALU => {
                a = match i.code & 0xf0 {
                    0x00 => a.wrapping_add(operand),
                    0x10 => a.wrapping_sub(operand),
                    0x20 => a.wrapping_mul(operand),
                    0x30 => a.checked_div(operand).ok_or_else(|| err(pc, "div by 0"))?,
                    0x40 => a | operand,
                    0x50 => a & operand,
                    0x60 => a.checked_shl(operand).unwrap_or(0),
                    0x70 => a.checked_shr(operand).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 => a.checked_rem(operand).ok_or_else(|| err(pc, "mod by 0"))?,
                    0xa0 => a ^ operand,
                    _ => return Err(err(pc, "unsupported alu op")),
                }
            }
            BPF_JMP => {
                let op = i.code & 0xf0;
                if op == BPF_JA {
                    pc = pc
                        .checked_add(1 + i.k as usize)
                        .ok_or_else(|| err(pc, "jump overflow"))?;
                    continue;
                }
                let taken = match op {
                    BPF_JEQ => a == operand,
                    BPF_JGT => a > operand,
                    BPF_JGE => a >= operand,
                    BPF_JSET => a & operand != 0,
                    _ => return Err(err(pc, "unsupported jump")),
                };
                pc += 1 + usize::from(if taken { i.jt } else { i.jf });
                continue;
            }
            BPF_RET => {
                return Ok(match i.code & 0x18 {
                    BPF_K => i.k,
                    BPF_A => a,
                    _ => return Err(err(pc, "unsupported ret")),
                })
            }
            BPF_MISC => {
                if i.code & 0xf8 == 0 {
                    x = a; // tax
                } else {
                    a = x; // txa
                }
            }
            _ => return Err(err(pc, "unknown class")),
        }
        pc += 1;
    }
    Err(EvalError("fell off the end of the program".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENOSYS: u32 = 0x0005_0000 | 38;
    const FILTER: u32 = 0x7fff_0000; // stands for "went on into the filter"

    fn run(sections: &[StubSection], arch: u32, nr: u32) -> u32 {
        let mut prog = enosys_stub(sections, ENOSYS);
        prog.push(Insn::ret(FILTER));
        evaluate(&prog, &SeccompData::new(arch, nr as i32, [0; 6])).expect("evaluates")
    }

    #[test]
    fn stub_returns_enosys_above_the_largest_syscall_per_arch() {
        let sections = [
            StubSection {
                audit_arch: AUDIT_ARCH_X86_64,
                max: Some(450),
                max_x32: Some(X32_SYSCALL_BIT + 547),
                multiplex_zero: false,
            },
            StubSection {
                audit_arch: AUDIT_ARCH_I386,
                max: Some(460),
                max_x32: None,
                multiplex_zero: false,
            },
            StubSection {
                audit_arch: 0x8000_0016, // s390x
                max: Some(400),
                max_x32: None,
                multiplex_zero: true,
            },
        ];
        assert_eq!(run(&sections, AUDIT_ARCH_X86_64, 0), FILTER);
        assert_eq!(run(&sections, AUDIT_ARCH_X86_64, 450), FILTER);
        assert_eq!(run(&sections, AUDIT_ARCH_X86_64, 451), ENOSYS);
        assert_eq!(
            run(&sections, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT + 1),
            FILTER
        );
        assert_eq!(
            run(&sections, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT + 548),
            ENOSYS
        );
        assert_eq!(run(&sections, AUDIT_ARCH_I386, 451), FILTER);
        assert_eq!(run(&sections, AUDIT_ARCH_I386, 461), ENOSYS);
        assert_eq!(run(&sections, 0x8000_0016, 0), ENOSYS);
        assert_eq!(run(&sections, 0x8000_0016, 5), FILTER);
        assert_eq!(run(&sections, 0x8000_0016, 401), ENOSYS);
        // An arch the stub does not know goes to the filter.
        assert_eq!(run(&sections, AUDIT_ARCH_AARCH64, 9999), FILTER);
    }

    #[test]
    fn stub_leaves_x32_alone_when_only_x86_64_is_known() {
        let sections = [StubSection {
            audit_arch: AUDIT_ARCH_X86_64,
            max: Some(100),
            max_x32: None,
            multiplex_zero: false,
        }];
        assert_eq!(run(&sections, AUDIT_ARCH_X86_64, 101), ENOSYS);
        assert_eq!(
            run(&sections, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT + 999),
            FILTER
        );
        let only_x32 = [StubSection {
            audit_arch: AUDIT_ARCH_X86_64,
            max: None,
            max_x32: Some(X32_SYSCALL_BIT + 100),
            multiplex_zero: false,
        }];
        assert_eq!(run(&only_x32, AUDIT_ARCH_X86_64, 999), FILTER);
        assert_eq!(
            run(&only_x32, AUDIT_ARCH_X86_64, X32_SYSCALL_BIT + 101),
            ENOSYS
        );
    }

    #[test]
    fn empty_stub_is_empty() {
        assert!(enosys_stub(&[], ENOSYS).is_empty());
        let none = [StubSection {
            audit_arch: AUDIT_ARCH_ARM,
            max: None,
            max_x32: None,
            multiplex_zero: false,
        }];
        assert!(enosys_stub(&none, ENOSYS).is_empty());
    }

    #[test]
    fn encode_decode_round_trip() {
        let p = vec![Insn::load(4), Insn::jeq(7, 1, 2), Insn::ret(9)];
        assert_eq!(decode(&encode(&p)), p);
    }
    fn op(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }

    /// Runs `prog` on a syscall with distinct words everywhere.
    fn exec(prog: &[Insn]) -> Result<u32, EvalError> {
        let data = SeccompData {
            nr: 0x11,
            arch: 0x22,
            instruction_pointer: 0x4444_4444_3333_3333,
            args: [0x0a0a_0a0a_0505_0505, 1, 2, 3, 4, 0x6666_6666_7777_7777],
        };
        evaluate(prog, &data)
    }

    #[test]
    fn loads_read_seccomp_data_words() {
        let word = |off: u32| exec(&[Insn::load(off), op(0x16, 0)]);
        assert_eq!(word(OFF_NR), Ok(0x11));
        assert_eq!(word(OFF_ARCH), Ok(0x22));
        let (lo, hi) = if cfg!(target_endian = "little") {
            (0, 4)
        } else {
            (4, 0)
        };
        assert_eq!(word(8 + lo), Ok(0x3333_3333));
        assert_eq!(word(8 + hi), Ok(0x4444_4444));
        assert_eq!(word(16 + lo), Ok(0x0505_0505));
        assert_eq!(word(16 + hi), Ok(0x0a0a_0a0a));
        assert_eq!(word(24 + lo), Ok(1));
        assert_eq!(word(56 + lo), Ok(0x7777_7777));
        assert_eq!(word(56 + hi), Ok(0x6666_6666));
        // seccomp_data is 64 bytes; loads must be aligned and inside it.
        assert!(word(64).is_err());
        assert!(word(61).is_err());
        assert!(word(2).is_err());
        assert!(word(u32::MAX).is_err());
        // Half-word and indirect loads are not seccomp's.
        assert!(exec(&[op(0x28, 0), op(0x16, 0)]).is_err());
        assert!(exec(&[op(0x40, 0), op(0x16, 0)]).is_err());
    }

    #[test]
    fn every_alu_op_computes_like_the_kernel() {
        // A = 100, X = 3, then `A op= 3` (from k and from X).
        for (alu, want) in [
            (0x00, 103),
            (0x10, 97),
            (0x20, 300),
            (0x30, 33),
            (0x40, 103),
            (0x50, 0),
            (0x60, 800),
            (0x70, 12),
            (0x80, 100u32.wrapping_neg()),
            (0x90, 1),
            (0xa0, 100 ^ 3),
        ] {
            for src_x in [false, true] {
                let code = 0x04 | alu | if src_x { 0x08 } else { 0 };
                let k = if src_x { 77 } else { 3 };
                let prog = [op(0x00, 100), op(0x01, 3), op(code, k), op(0x16, 0)];
                assert_eq!(exec(&prog), Ok(want), "alu {alu:#x} x={src_x}");
            }
        }
        let run = |code: u16, a: u32, k: u32| exec(&[op(0x00, a), op(code, k), op(0x16, 0)]);
        // Overlapping bits tell or from xor.
        assert_eq!(run(0x44, 0b0110, 0b0011), Ok(0b0111), "or");
        assert_eq!(run(0xa4, 0b0110, 0b0011), Ok(0b0101), "xor");
        assert_eq!(run(0x04, u32::MAX, 2), Ok(1), "add wraps");
        assert_eq!(run(0x14, 0, 1), Ok(u32::MAX), "sub wraps");
        assert_eq!(run(0x64, 1, 32), Ok(0), "shift by >= 32 is 0");
        assert_eq!(run(0x74, u32::MAX, 32), Ok(0), "shift by >= 32 is 0");
        assert!(run(0x34, 1, 0).is_err(), "div by 0");
        assert!(run(0x94, 1, 0).is_err(), "mod by 0");
        assert!(run(0xb4, 1, 1).is_err(), "no such alu op");
    }

    #[test]
    fn scratch_memory_index_register_and_len() {
        // A = 7; M[3] = A; X = 9; M[15] = X; A = M[15]; X = M[3]; A += X.
        let prog = [
            op(0x00, 7),
            op(0x02, 3),
            op(0x01, 9),
            op(0x03, 15),
            op(0x60, 15),
            op(0x61, 3),
            op(0x0c, 0),
            op(0x16, 0),
        ];
        assert_eq!(exec(&prog), Ok(16));
        // tax / txa
        assert_eq!(
            exec(&[
                op(0x00, 5),
                op(0x07, 0),
                op(0x00, 1),
                op(0x87, 0),
                op(0x16, 0)
            ]),
            Ok(5)
        );
        assert_eq!(exec(&[op(0x80, 0), op(0x16, 0)]), Ok(64), "ld len");
        assert_eq!(
            exec(&[op(0x81, 0), op(0x87, 0), op(0x16, 0)]),
            Ok(64),
            "ldx len"
        );
        for code in [0x02, 0x03, 0x60, 0x61] {
            assert!(
                exec(&[op(code, 16), op(0x16, 0)]).is_err(),
                "M[16] {code:#x}"
            );
        }
        assert!(exec(&[op(0xb1, 0), op(0x16, 0)]).is_err(), "ldx msh");
        assert!(
            exec(&[op(0xa0, 0), op(0x16, 0)]).is_err(),
            "unknown ld mode"
        );
    }

    #[test]
    fn jumps_and_returns() {
        // A = a; if A <op> 5 (k or X) return 1 else return 2.
        let branch = |code: u16, a: u32| {
            let k = if code & 0x08 != 0 { 99 } else { 5 };
            exec(&[
                op(0x00, a),
                op(0x01, 5),
                Insn {
                    code,
                    jt: 1,
                    jf: 0,
                    k,
                },
                op(0x06, 2),
                op(0x06, 1),
            ])
        };
        for (jmp, a, taken) in [
            (0x10, 5, true),
            (0x10, 6, false),
            (0x20, 5, false),
            (0x20, 6, true),
            (0x30, 5, true),
            (0x30, 4, false),
            (0x40, 4, true),
            (0x40, 2, false),
        ] {
            for x in [0, 0x08] {
                let want = if taken { 1 } else { 2 };
                assert_eq!(
                    branch(0x05 | jmp | x, a),
                    Ok(want),
                    "jmp {jmp:#x}{x:#x} a={a}"
                );
            }
        }
        assert!(branch(0x55, 1).is_err(), "no such jump");
        assert_eq!(exec(&[Insn::ja(1), op(0x06, 1), op(0x06, 2)]), Ok(2));
        assert!(exec(&[Insn::ja(u32::MAX), op(0x06, 1)]).is_err());
        assert!(exec(&[Insn::ja(5), op(0x06, 1)]).is_err());
        assert_eq!(exec(&[op(0x00, 9), op(0x16, 7)]), Ok(9), "ret a");
        assert_eq!(exec(&[op(0x00, 9), op(0x06, 7)]), Ok(7), "ret k");
        assert!(exec(&[op(0x0e, 0)]).is_err(), "ret x");
        let e = exec(&[op(0x00, 1)]).expect_err("no ret");
        assert_eq!(
            e.to_string(),
            "BPF evaluation: fell off the end of the program"
        );
        let e = exec(&[op(0x00, 1), op(0x34, 0)]).expect_err("div 0");
        assert_eq!(e.to_string(), "BPF evaluation: instruction 1: div by 0");
    }

    #[test]
    fn instructions_have_the_kernel_layout() {
        let i = Insn {
            code: 0x1234,
            jt: 5,
            jf: 6,
            k: 0x789a_bcde,
        };
        let mut want = Vec::new();
        want.extend_from_slice(&0x1234u16.to_ne_bytes());
        want.extend_from_slice(&[5, 6]);
        want.extend_from_slice(&0x789a_bcdeu32.to_ne_bytes());
        assert_eq!(i.to_bytes().to_vec(), want);
        assert_eq!(encode(&[i, i]).len(), 16);
        // A trailing partial instruction is dropped.
        let mut bytes = encode(&[i]);
        bytes.push(0);
        assert_eq!(decode(&bytes), vec![i]);
        assert_eq!(
            Insn::load(4),
            Insn {
                code: 0x20,
                jt: 0,
                jf: 0,
                k: 4
            }
        );
        assert_eq!(
            Insn::jeq(1, 2, 3),
            Insn {
                code: 0x15,
                jt: 2,
                jf: 3,
                k: 1
            }
        );
        assert_eq!(
            Insn::jgt(1, 2, 3),
            Insn {
                code: 0x25,
                jt: 2,
                jf: 3,
                k: 1
            }
        );
        assert_eq!(
            Insn::jset(1, 2, 3),
            Insn {
                code: 0x45,
                jt: 2,
                jf: 3,
                k: 1
            }
        );
        assert_eq!(
            Insn::ja(9),
            Insn {
                code: 0x05,
                jt: 0,
                jf: 0,
                k: 9
            }
        );
        assert_eq!(
            Insn::ret(9),
            Insn {
                code: 0x06,
                jt: 0,
                jf: 0,
                k: 9
            }
        );
    }

    #[test]
    fn stub_skips_sections_without_a_maximum() {
        let sections = [
            StubSection {
                audit_arch: AUDIT_ARCH_ARM,
                max: None,
                max_x32: None,
                multiplex_zero: false,
            },
            StubSection {
                audit_arch: AUDIT_ARCH_AARCH64,
                max: Some(300),
                max_x32: None,
                multiplex_zero: false,
            },
            StubSection {
                audit_arch: AUDIT_ARCH_I386,
                max: Some(200),
                max_x32: None,
                multiplex_zero: false,
            },
        ];
        assert_eq!(run(&sections, AUDIT_ARCH_AARCH64, 300), FILTER);
        assert_eq!(run(&sections, AUDIT_ARCH_AARCH64, 301), ENOSYS);
        assert_eq!(run(&sections, AUDIT_ARCH_I386, 200), FILTER);
        assert_eq!(run(&sections, AUDIT_ARCH_I386, 201), ENOSYS);
        assert_eq!(run(&sections, AUDIT_ARCH_ARM, 9999), FILTER);
        // Without multiplex_zero, syscall 0 is the filter's.
        assert_eq!(run(&sections, AUDIT_ARCH_I386, 0), FILTER);
        // ld arch; 2 × jeq; ja; 2 × (ld nr; jgt; ret; ja).
        assert_eq!(enosys_stub(&sections, ENOSYS).len(), 1 + 2 + 1 + 2 * 4);
    }
}

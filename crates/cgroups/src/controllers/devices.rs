//! Device access control: which device nodes the container may open or mknod.
//!
//! Threat: a container that can open a raw disk, /dev/mem or /dev/kmsg owns
//! the host, whatever its mount namespace shows. The default is deny: the
//! rule list is applied on top of "deny everything".
//!
//! Semantics follow the OCI order: rules apply in order and, per access bit
//! (r, w, m), the last rule that matches a device decides.
//! * cgroup v2: an eBPF program (BPF_PROG_TYPE_CGROUP_DEVICE) that evaluates
//!   exactly that, attached with BPF_F_ALLOW_MULTI (stale ones detached
//!   after the new one is in, so there is never a moment without a filter).
//! * cgroup v1: the kernel keeps a default plus an exception list, and a rule
//!   can only remove an exception of exactly the same type:major:minor. The
//!   list is emulated here and written as "a" to `devices.deny` (or
//!   `devices.allow`) followed by the exceptions. A rule v1 cannot express
//!   (narrowing a wildcard rule, "punching a hole") is refused, never dropped.

use std::os::fd::AsFd;
use std::path::Path;

use ward_spec::resources::{DeviceType, LinuxDeviceCgroup};
use ward_sys::bpf::{self, Insn};

use super::{Dirs, F};
use crate::error::{Error, Result};
use crate::fsutil;

/// mknod access bit (BPF_DEVCG_ACC_MKNOD).
pub const ACC_MKNOD: u8 = 1;
/// read access bit (BPF_DEVCG_ACC_READ).
pub const ACC_READ: u8 = 2;
/// write access bit (BPF_DEVCG_ACC_WRITE).
pub const ACC_WRITE: u8 = 4;
const ACC_ALL: u8 = ACC_MKNOD | ACC_READ | ACC_WRITE;
/// BPF_DEVCG_DEV_BLOCK / BPF_DEVCG_DEV_CHAR.
const DEV_BLOCK: i32 = 1;
const DEV_CHAR: i32 = 2;

/// A checked device rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub allow: bool,
    pub kind: DeviceType,
    /// `None`: any.
    pub major: Option<u32>,
    pub minor: Option<u32>,
    /// ACC_* bits.
    pub access: u8,
}

impl Rule {
    /// Parses an OCI rule (validated by ward-spec first).
    pub fn from_oci(i: usize, d: &LinuxDeviceCgroup) -> Result<Rule> {
        let field = format!("linux.resources.devices[{i}]");
        let num = |v: Option<i64>, what: &str| -> Result<Option<u32>> {
            match v {
                None | Some(-1) => Ok(None),
                Some(n) => u32::try_from(n).map(Some).map_err(|_| {
                    Error::resource(format!("{field}.{what}"), format!("{n} is out of range"))
                }),
            }
        };
        let mut access = 0;
        for c in d.access.as_deref().unwrap_or("").chars() {
            access |= match c {
                'r' => ACC_READ,
                'w' => ACC_WRITE,
                'm' => ACC_MKNOD,
                _ => {
                    return Err(Error::resource(
                        format!("{field}.access"),
                        format!("{c:?} is not one of r, w, m"),
                    ))
                }
            };
        }
        if access == 0 {
            return Err(Error::resource(
                format!("{field}.access"),
                "is empty: give some of \"rwm\"",
            ));
        }
        Ok(Rule {
            allow: d.allow,
            kind: d.device_type(),
            major: num(d.major, "major")?,
            minor: num(d.minor, "minor")?,
            access,
        })
    }

    fn same_key(&self, o: &Rule) -> bool {
        self.kind == o.kind && self.major == o.major && self.minor == o.minor
    }

    /// Whether some device matches both rules.
    fn overlaps(&self, o: &Rule) -> bool {
        let num = |a: Option<u32>, b: Option<u32>| a.is_none() || b.is_none() || a == b;
        self.kind == o.kind && num(self.major, o.major) && num(self.minor, o.minor)
    }

    /// The v1 file syntax: `c 1:3 rwm`.
    pub fn v1_string(&self) -> String {
        let n = |v: Option<u32>| v.map_or("*".to_string(), |v| v.to_string());
        let mut acc = String::new();
        for (bit, c) in [(ACC_READ, 'r'), (ACC_WRITE, 'w'), (ACC_MKNOD, 'm')] {
            if self.access & bit != 0 {
                acc.push(c);
            }
        }
        format!(
            "{} {}:{} {}",
            self.kind.as_char(),
            n(self.major),
            n(self.minor),
            acc
        )
    }
}

/// Parses all rules.
pub fn rules_from_oci(list: &[LinuxDeviceCgroup]) -> Result<Vec<Rule>> {
    list.iter()
        .enumerate()
        .map(|(i, d)| Rule::from_oci(i, d))
        .collect()
}

/// The device rules runc always appends: mknod of any node, and the
/// standard /dev nodes (null, zero, full, random, urandom, tty, ptmx,
/// pts/*, net/tun). `open`/`apply` append them after the config's rules.
pub fn default_allowed_devices() -> Vec<LinuxDeviceCgroup> {
    let r = |kind, major: i64, minor: i64, access: &str| LinuxDeviceCgroup {
        allow: true,
        kind: Some(kind),
        major: Some(major),
        minor: Some(minor),
        access: Some(access.to_string()),
    };
    vec![
        r(DeviceType::Char, -1, -1, "m"),
        r(DeviceType::Block, -1, -1, "m"),
        r(DeviceType::Char, 1, 3, "rwm"),    // /dev/null
        r(DeviceType::Char, 1, 8, "rwm"),    // /dev/random
        r(DeviceType::Char, 1, 7, "rwm"),    // /dev/full
        r(DeviceType::Char, 5, 0, "rwm"),    // /dev/tty
        r(DeviceType::Char, 1, 5, "rwm"),    // /dev/zero
        r(DeviceType::Char, 1, 9, "rwm"),    // /dev/urandom
        r(DeviceType::Char, 136, -1, "rwm"), // /dev/pts/*
        r(DeviceType::Char, 5, 2, "rwm"),    // /dev/ptmx
        r(DeviceType::Char, 10, 200, "rwm"), // /dev/net/tun
    ]
}

/// The kernel's cgroup v1 device state: a default and exceptions to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V1State {
    pub default_allow: bool,
    /// Each has `allow == !default_allow`; keys are unique.
    pub exceptions: Vec<Rule>,
}

impl V1State {
    /// Emulates writing `rules` in order on top of "deny all".
    pub fn build(rules: &[Rule]) -> Result<V1State> {
        let mut st = V1State {
            default_allow: false,
            exceptions: Vec::new(),
        };
        for (i, r) in rules.iter().enumerate() {
            st.apply(i, r)?;
        }
        Ok(st)
    }

    fn apply(&mut self, i: usize, r: &Rule) -> Result<()> {
        if r.kind == DeviceType::All {
            self.default_allow = r.allow;
            self.exceptions.clear();
            return Ok(());
        }
        if r.allow != self.default_allow {
            if let Some(e) = self.exceptions.iter_mut().find(|e| e.same_key(r)) {
                e.access |= r.access;
            } else {
                self.exceptions.push(*r);
            }
            return Ok(());
        }
        // The rule takes access away from exceptions: v1 can only do that
        // for an exception with exactly the same key.
        if let Some(e) = self
            .exceptions
            .iter()
            .find(|e| !e.same_key(r) && e.overlaps(r) && e.access & r.access != 0)
        {
            return Err(Error::resource(
                format!("linux.resources.devices[{i}]"),
                format!(
                    "{} \"{}\" would narrow the earlier rule \"{}\", which cgroup v1 cannot express: list the allowed devices one by one instead of a wildcard",
                    if r.allow { "allow" } else { "deny" },
                    r.v1_string(),
                    e.v1_string()
                ),
            ));
        }
        for e in self.exceptions.iter_mut().filter(|e| e.same_key(r)) {
            e.access &= !r.access;
        }
        self.exceptions.retain(|e| e.access != 0);
        Ok(())
    }

    /// The writes that install this state: (file, line) pairs.
    pub fn writes(&self) -> Vec<(&'static str, String)> {
        let (reset, each) = if self.default_allow {
            ("devices.allow", "devices.deny")
        } else {
            ("devices.deny", "devices.allow")
        };
        let mut w = vec![(reset, "a".to_string())];
        w.extend(self.exceptions.iter().map(|e| (each, e.v1_string())));
        w
    }
}

/// Installs `rules` in the container's v1 devices cgroup.
pub(crate) fn apply_v1(m: &dyn Dirs, rules: &[Rule]) -> Result<()> {
    let Some(dir) = m.v1_dir("devices") else {
        return Err(m.missing("devices", &format!("{F}.devices")));
    };
    let st = V1State::build(rules)?;
    for (file, line) in st.writes() {
        fsutil::write(&dir, file, &line, "linux.resources.devices")?;
    }
    Ok(())
}

/// Installs `rules` as the device program of the cgroup v2 directory `d`.
/// Rootless, a refusal is a warning: the user namespace still keeps device
/// nodes out of reach.
pub(crate) fn apply_v2(m: &dyn Dirs, d: &Path, rules: &[Rule]) -> Result<()> {
    match attach_v2(d, rules) {
        Ok(()) => Ok(()),
        Err(e) if m.rootless() => {
            m.warn(format!(
                "rootless: device rules not installed ({e}); the user namespace still limits device access"
            ));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

// eBPF opcodes used by the device program.
const LDX_MEM_W: u8 = 0x61;
const ALU32_AND_K: u8 = 0x54;
const ALU32_RSH_K: u8 = 0x74;
const ALU32_MOV_K: u8 = 0xb4;
const ALU32_MOV_X: u8 = 0xbc;
const JMP_JNE_K: u8 = 0x55;
const JMP_JEQ_K: u8 = 0x15;
const JMP_EXIT: u8 = 0x95;

/// Generates the device program for `rules` (OCI order, default deny).
///
/// Registers: R2 = device type, R3 = access bits not decided yet, R4 =
/// major, R5 = minor. Rules are emitted last-first; an allow rule that
/// matches clears its bits from R3 and allows once nothing is left to
/// decide; a deny rule that matches any undecided bit denies. Whatever is
/// left at the end gets the default (deny, unless an "a" rule said allow).
pub fn bpf_program(rules: &[Rule]) -> Result<Vec<Insn>> {
    // An "a" rule resets everything before it.
    let start = rules
        .iter()
        .rposition(|r| r.kind == DeviceType::All)
        .map_or(0, |i| i + 1);
    let default_allow = start > 0 && rules[start - 1].allow;
    let mut p = vec![
        Insn::new(LDX_MEM_W, 2, 1, 0, 0),
        Insn::new(ALU32_AND_K, 2, 0, 0, 0xffff),
        Insn::new(LDX_MEM_W, 3, 1, 0, 0),
        Insn::new(ALU32_RSH_K, 3, 0, 0, 16),
        Insn::new(LDX_MEM_W, 4, 1, 4, 0),
        Insn::new(LDX_MEM_W, 5, 1, 8, 0),
    ];
    for r in rules[start..].iter().rev() {
        // Each entry: (opcode, dst, src, imm, jumps_to_next_block).
        let mut b: Vec<(u8, u8, u8, i32, bool)> = Vec::new();
        let ty = match r.kind {
            DeviceType::Char => DEV_CHAR,
            DeviceType::Block => DEV_BLOCK,
            DeviceType::All => continue,
        };
        b.push((JMP_JNE_K, 2, 0, ty, true));
        for (reg, v) in [(4u8, r.major), (5u8, r.minor)] {
            if let Some(v) = v {
                let imm = i32::try_from(v).map_err(|_| {
                    Error::resource("linux.resources.devices", format!("{v} is out of range"))
                })?;
                b.push((JMP_JNE_K, reg, 0, imm, true));
            }
        }
        let acc = i32::from(r.access & ACC_ALL);
        if r.allow {
            b.push((ALU32_AND_K, 3, 0, !acc, false));
            b.push((JMP_JNE_K, 3, 0, 0, true));
            b.push((ALU32_MOV_K, 0, 0, 1, false));
        } else {
            b.push((ALU32_MOV_X, 1, 3, 0, false));
            b.push((ALU32_AND_K, 1, 0, acc, false));
            b.push((JMP_JEQ_K, 1, 0, 0, true));
            b.push((ALU32_MOV_K, 0, 0, 0, false));
        }
        b.push((JMP_EXIT, 0, 0, 0, false));
        let len = b.len();
        for (i, (code, dst, src, imm, jumps)) in b.into_iter().enumerate() {
            let off = if jumps {
                i16::try_from(len - i - 1)
                    .map_err(|_| Error::op("device filter", "block too long"))?
            } else {
                0
            };
            p.push(Insn::new(code, dst, src, off, imm));
        }
    }
    p.push(Insn::new(ALU32_MOV_K, 0, 0, 0, i32::from(default_allow)));
    p.push(Insn::new(JMP_EXIT, 0, 0, 0, 0));
    Ok(p)
}

/// Loads the device program for `rules` and attaches it to the cgroup v2
/// directory `dir` (BPF_F_ALLOW_MULTI), then detaches the programs that were
/// attached there before, so the new one alone decides.
pub fn attach_v2(dir: &Path, rules: &[Rule]) -> Result<()> {
    let insns = bpf_program(rules)?;
    let fail = |what: &str, e: std::io::Error| {
        Error::op(
            format!("{what} ({})", dir.display()),
            format!(
                "{}: cgroup v2 device control needs a kernel with CONFIG_CGROUP_BPF and CAP_SYS_ADMIN",
                e
            ),
        )
    };
    let d = std::fs::File::open(dir).map_err(|e| Error::read(dir, e))?;
    let prog = bpf::load_cgroup_device(&insns, "Apache-2.0")
        .map_err(|e| fail("loading the device filter (bpf BPF_PROG_LOAD)", e))?;
    let old = bpf::query(d.as_fd(), bpf::ATTACH_CGROUP_DEVICE)
        .map_err(|e| fail("listing device filters (bpf BPF_PROG_QUERY)", e))?;
    bpf::attach(
        d.as_fd(),
        prog.as_fd(),
        bpf::ATTACH_CGROUP_DEVICE,
        bpf::F_ALLOW_MULTI,
    )
    .map_err(|e| fail("attaching the device filter (bpf BPF_PROG_ATTACH)", e))?;
    for id in old {
        let Ok(old_prog) = bpf::prog_fd_by_id(id) else {
            // Gone in the meantime.
            continue;
        };
        match bpf::detach(d.as_fd(), old_prog.as_fd(), bpf::ATTACH_CGROUP_DEVICE) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => {}
            Err(e) => return Err(fail("detaching an old device filter", e)),
        }
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Runs a device program the way the kernel would (only the opcodes
    /// `bpf_program` emits). Returns 1 (allow) or 0 (deny).
    pub(crate) fn run(p: &[Insn], ty: i32, access: u8, major: u32, minor: u32) -> u64 {
        let ctx: u32 = (u32::from(access) << 16) | (ty as u32);
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        for _ in 0..10_000 {
            let i = p[pc];
            let (d, s) = (usize::from(i.dst()), usize::from(i.src()));
            let imm = i.imm;
            let mut next = pc + 1;
            match i.code {
                LDX_MEM_W => {
                    assert_eq!(s, 1, "loads only from the context");
                    r[d] = u64::from(match i.off {
                        0 => ctx,
                        4 => major,
                        8 => minor,
                        o => panic!("bad ctx offset {o}"),
                    });
                }
                ALU32_AND_K => r[d] = u64::from((r[d] as u32) & (imm as u32)),
                ALU32_RSH_K => r[d] = u64::from((r[d] as u32) >> imm),
                ALU32_MOV_K => r[d] = u64::from(imm as u32),
                ALU32_MOV_X => r[d] = u64::from(r[s] as u32),
                JMP_JNE_K | JMP_JEQ_K => {
                    let eq = r[d] == imm as i64 as u64;
                    if eq == (i.code == JMP_JEQ_K) {
                        next = (pc as i64 + 1 + i64::from(i.off)) as usize;
                    }
                }
                JMP_EXIT => return r[0],
                c => panic!("unexpected opcode {c:#x}"),
            }
            pc = next;
        }
        panic!("program does not terminate");
    }

    /// Reference semantics: per access bit, the last matching rule decides.
    fn reference(rules: &[Rule], kind: DeviceType, access: u8, major: u32, minor: u32) -> u64 {
        let mut ok = true;
        for bit in [ACC_MKNOD, ACC_READ, ACC_WRITE] {
            if access & bit == 0 {
                continue;
            }
            let mut allowed = false;
            for r in rules {
                let m = r.kind == DeviceType::All
                    || (r.kind == kind
                        && (r.major.is_none() || r.major == Some(major))
                        && (r.minor.is_none() || r.minor == Some(minor))
                        && r.access & bit != 0);
                if m {
                    allowed = r.allow;
                }
            }
            ok &= allowed;
        }
        u64::from(ok)
    }

    fn rule(
        allow: bool,
        kind: DeviceType,
        major: Option<u32>,
        minor: Option<u32>,
        acc: &str,
    ) -> Rule {
        let mut access = 0;
        for c in acc.chars() {
            access |= match c {
                'r' => ACC_READ,
                'w' => ACC_WRITE,
                _ => ACC_MKNOD,
            };
        }
        Rule {
            allow,
            kind,
            major,
            minor,
            access,
        }
    }

    fn defaults_with(mut pre: Vec<Rule>) -> Vec<Rule> {
        let d = rules_from_oci(&default_allowed_devices()).expect("defaults parse");
        pre.extend(d);
        pre
    }

    #[test]
    fn program_matches_reference_semantics() {
        use DeviceType::*;
        let sets: Vec<Vec<Rule>> = vec![
            vec![],
            defaults_with(vec![rule(false, All, None, None, "rwm")]),
            vec![
                rule(true, All, None, None, "rwm"),
                rule(false, Char, Some(1), Some(3), "w"),
                rule(false, Block, None, None, "rw"),
            ],
            vec![
                rule(true, Char, None, None, "rwm"),
                rule(false, Char, Some(10), None, "r"),
                rule(true, Char, Some(10), Some(229), "rw"),
            ],
            vec![
                rule(true, Char, Some(1), Some(3), "r"),
                rule(true, Char, Some(1), Some(3), "w"),
                rule(false, All, None, None, "rwm"),
                rule(true, Block, Some(8), Some(0), "rw"),
            ],
        ];
        let devs = [
            (Char, 1, 3),
            (Char, 1, 5),
            (Char, 10, 229),
            (Char, 10, 1),
            (Char, 136, 4),
            (Block, 8, 0),
            (Block, 8, 1),
            (Char, 4095, 1_048_575),
        ];
        for (si, rules) in sets.iter().enumerate() {
            let p = bpf_program(rules).expect("generates");
            for (kind, maj, min) in devs {
                for access in 1..=7u8 {
                    let ty = if kind == Char { DEV_CHAR } else { DEV_BLOCK };
                    assert_eq!(
                        run(&p, ty, access, maj, min),
                        reference(rules, kind, access, maj, min),
                        "set {si} dev {kind:?} {maj}:{min} access {access}"
                    );
                }
            }
        }
    }

    #[test]
    fn program_shape() {
        // Empty list: prologue + "deny".
        let p = bpf_program(&[]).expect("generates");
        assert_eq!(p.len(), 8);
        assert_eq!(p[6], Insn::new(ALU32_MOV_K, 0, 0, 0, 0));
        assert_eq!(p[7].code, JMP_EXIT);
        // The last rule is checked first.
        let rules = [
            rule(true, DeviceType::Char, Some(1), Some(3), "rwm"),
            rule(true, DeviceType::Block, None, None, "m"),
        ];
        let p = bpf_program(&rules).expect("generates");
        assert_eq!(p[6], Insn::new(JMP_JNE_K, 2, 0, 4, DEV_BLOCK));
    }

    #[test]
    fn v1_emulation() {
        use DeviceType::*;
        let rules = defaults_with(vec![
            rule(false, All, None, None, "rwm"),
            rule(true, Char, Some(10), Some(229), "rw"),
        ]);
        let st = V1State::build(&rules).expect("expressible");
        let w = st.writes();
        assert_eq!(w[0], ("devices.deny", "a".to_string()));
        assert!(w.contains(&("devices.allow", "c 10:229 rw".to_string())));
        assert!(w.contains(&("devices.allow", "c *:* m".to_string())));
        assert!(w.contains(&("devices.allow", "c 136:* rwm".to_string())));

        // Exact-key narrowing works like the kernel.
        let st = V1State::build(&[
            rule(true, Char, Some(1), Some(3), "rwm"),
            rule(false, Char, Some(1), Some(3), "w"),
        ])
        .expect("exact key");
        assert_eq!(
            st.exceptions,
            vec![rule(true, Char, Some(1), Some(3), "rm")]
        );

        // Merging.
        let st = V1State::build(&[
            rule(true, Char, Some(1), Some(3), "r"),
            rule(true, Char, Some(1), Some(3), "w"),
        ])
        .expect("merge");
        assert_eq!(st.exceptions.len(), 1);
        assert_eq!(st.exceptions[0].v1_string(), "c 1:3 rw");

        // Punching a hole in a wildcard cannot be expressed.
        let e = V1State::build(&[
            rule(true, Char, None, None, "rwm"),
            rule(false, Char, Some(1), Some(3), "w"),
        ]);
        let e = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(e.contains("linux.resources.devices[1]"), "{e}");

        // Default allow ("a" allowed), then a deny list.
        let st = V1State::build(&[
            rule(true, All, None, None, "rwm"),
            rule(false, Block, Some(8), None, "rw"),
        ])
        .expect("blacklist");
        assert_eq!(
            st.writes(),
            vec![
                ("devices.allow", "a".to_string()),
                ("devices.deny", "b 8:* rw".to_string())
            ]
        );
    }

    #[test]
    fn oci_parsing() {
        let d = LinuxDeviceCgroup {
            allow: true,
            kind: None,
            major: None,
            minor: None,
            access: Some("rwm".into()),
        };
        let r = Rule::from_oci(0, &d).expect("parses");
        assert_eq!(r.kind, DeviceType::All);
        assert_eq!(r.access, ACC_ALL);
        let bad = LinuxDeviceCgroup {
            access: Some(String::new()),
            ..d
        };
        assert!(Rule::from_oci(0, &bad).is_err());
    }
}

use super::*;
use crate::bpf::SeccompData;
use ward_spec::seccomp::Syscall;

const ALLOW: u32 = 0x7fff_0000;
const KILL_THREAD: u32 = 0;
const KILL_PROCESS: u32 = 0x8000_0000;
const TRAP: u32 = 0x0003_0000;
const LOG: u32 = 0x7ffc_0000;
const NOTIFY: u32 = 0x7fc0_0000;

fn errno(e: i32) -> u32 {
    0x0005_0000 | e as u32
}

fn trace(e: u32) -> u32 {
    0x7ff0_0000 | e
}

fn nr(name: &str, arch: Arch) -> i32 {
    i32::from(
        ScmpSyscall::from_name_by_arch(name, to_scmp_arch(arch))
            .unwrap_or_else(|e| panic!("{name} on {arch}: {e}")),
    )
}

/// What the compiled filter returns for `name(args)` on `arch`.
fn decide(f: &CompiledFilter, arch: Arch, name: &str, args: [u64; 6]) -> u32 {
    f.evaluate(&SeccompData::new(audit_arch(arch), nr(name, arch), args))
        .expect("evaluates")
}

fn decide_nr(f: &CompiledFilter, arch: Arch, nr: i32) -> u32 {
    f.evaluate(&SeccompData::new(audit_arch(arch), nr, [0; 6]))
        .expect("evaluates")
}

fn compile_json(json: &str) -> CompiledFilter {
    let p = LinuxSeccomp::from_json(json).expect("profile parses");
    compile(&p, &CompileOptions::default()).expect("compiles")
}

fn native() -> Arch {
    native_arch()
}

#[test]
fn every_action_compiles_to_its_kernel_return() {
    let cases = [
        (Action::Kill, KILL_THREAD),
        (Action::KillThread, KILL_THREAD),
        (Action::KillProcess, KILL_PROCESS),
        (Action::Trap, TRAP),
        (Action::Errno, errno(libc::EPERM)),
        (Action::Trace, trace(libc::EPERM as u32)),
        (Action::Log, LOG),
        (Action::Notify, NOTIFY),
    ];
    for (action, want) in cases {
        let json = format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["getpid"],"action":"{action}"}}]}}"#
        );
        let f = compile_json(&json);
        assert_eq!(decide(&f, native(), "getpid", [0; 6]), want, "{action}");
        assert_eq!(decide(&f, native(), "getppid", [0; 6]), ALLOW, "{action}");
        assert_eq!(f.needs_listener, action == Action::Notify, "{action}");
    }
    // ALLOW as a rule needs a non-allow default.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(decide(&f, native(), "getpid", [0; 6]), ALLOW);
    assert_eq!(decide(&f, native(), "read", [0; 6]), KILL_PROCESS);
}

#[test]
fn every_operator_compiles() {
    // getpgid(arg0) gets EXDEV when the condition holds.
    // (operator, value, valueTwo, [(argument, condition holds)])
    type Case = (&'static str, u64, u64, &'static [(u64, bool)]);
    let cases: [Case; 7] = [
        ("SCMP_CMP_NE", 5, 0, &[(5, false), (6, true)]),
        ("SCMP_CMP_LT", 5, 0, &[(4, true), (5, false)]),
        ("SCMP_CMP_LE", 5, 0, &[(5, true), (6, false)]),
        ("SCMP_CMP_EQ", 5, 0, &[(5, true), (4, false)]),
        ("SCMP_CMP_GE", 5, 0, &[(5, true), (4, false)]),
        ("SCMP_CMP_GT", 5, 0, &[(6, true), (5, false)]),
        // value = mask, valueTwo = datum
        (
            "SCMP_CMP_MASKED_EQ",
            0xf0,
            0x10,
            &[(0x13, true), (0x1f, true), (0x23, false), (0x3, false)],
        ),
    ];
    for (op, value, value_two, probes) in cases {
        let json = format!(
            r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["getpgid"],
               "action":"SCMP_ACT_ERRNO","errnoRet":18,
               "args":[{{"index":0,"value":{value},"valueTwo":{value_two},"op":"{op}"}}]}}]}}"#
        );
        let f = compile_json(&json);
        for &(arg, hit) in probes {
            let want = if hit { errno(libc::EXDEV) } else { ALLOW };
            assert_eq!(
                decide(&f, native(), "getpgid", [arg, 0, 0, 0, 0, 0]),
                want,
                "{op} arg {arg:#x}"
            );
        }
    }
}

#[test]
fn masked_eq_checks_all_64_bits() {
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpgid"],
           "action":"SCMP_ACT_ERRNO","errnoRet":18,
           "args":[{"index":0,"value":18446744069414584320,"valueTwo":4294967296,"op":"SCMP_CMP_MASKED_EQ"}]}]}"#,
    );
    // mask 0xffffffff00000000, datum 0x100000000
    assert_eq!(
        decide(&f, Arch::X86_64, "getpgid", [0x1_0000_0005, 0, 0, 0, 0, 0]),
        errno(18)
    );
    assert_eq!(
        decide(&f, Arch::X86_64, "getpgid", [0x5, 0, 0, 0, 0, 0]),
        ALLOW
    );
}

#[test]
fn conditions_on_distinct_args_are_anded_and_rules_accumulate() {
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getpriority"],"action":"SCMP_ACT_ERRNO","errnoRet":18,
             "args":[{"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":1,"value":12345,"op":"SCMP_CMP_EQ"}]},
            {"names":["getpriority"],"action":"SCMP_ACT_ERRNO","errnoRet":33,
             "args":[{"index":1,"value":777,"op":"SCMP_CMP_EQ"}]}
        ]}"#,
    );
    let a = native();
    assert_eq!(
        decide(&f, a, "getpriority", [0, 12345, 0, 0, 0, 0]),
        errno(18)
    );
    assert_eq!(decide(&f, a, "getpriority", [1, 12345, 0, 0, 0, 0]), ALLOW);
    assert_eq!(decide(&f, a, "getpriority", [0, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(
        decide(&f, a, "getpriority", [2, 777, 0, 0, 0, 0]),
        errno(33)
    );
}

#[test]
fn repeated_argument_splits_the_rule_like_runc() {
    // arg0 == 1 "and" arg0 == 2 becomes two rules: either value matches.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getpgid"],"action":"SCMP_ACT_ERRNO","errnoRet":18,
             "args":[{"index":0,"value":1,"op":"SCMP_CMP_EQ"},{"index":0,"value":2,"op":"SCMP_CMP_EQ"}]}
        ]}"#,
    );
    let a = native();
    assert_eq!(decide(&f, a, "getpgid", [1, 0, 0, 0, 0, 0]), errno(18));
    assert_eq!(decide(&f, a, "getpgid", [2, 0, 0, 0, 0, 0]), errno(18));
    assert_eq!(decide(&f, a, "getpgid", [3, 0, 0, 0, 0, 0]), ALLOW);
}

#[test]
fn errno_defaults() {
    // A rule without errnoRet gets EPERM (runtime-spec), not defaultErrnoRet.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":13,"syscalls":[
            {"names":["getpid","read","write","exit_group"],"action":"SCMP_ACT_ALLOW"},
            {"names":["getppid"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(decide(&f, native(), "getppid", [0; 6]), errno(libc::EPERM));
    assert_eq!(decide(&f, native(), "close", [0; 6]), errno(13));
    // Default ERRNO without defaultErrnoRet: EPERM.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["write"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(decide(&f, native(), "read", [0; 6]), errno(libc::EPERM));
}

#[test]
fn unknown_names_are_skipped_and_reported() {
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["no_such_syscall","mkdirat","another_unknown","no_such_syscall"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(
        f.unknown_syscalls,
        vec!["another_unknown", "no_such_syscall"]
    );
    assert_eq!(decide(&f, native(), "mkdirat", [0; 6]), errno(libc::EPERM));
}

#[test]
fn invalid_profiles_are_refused_with_the_reason() {
    let bad = [
        (
            r#"{"defaultAction":"SCMP_ACT_NOTIFY"}"#,
            "SCMP_ACT_NOTIFY cannot be the defaultAction",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","errnoRet":5000}]}"#,
            "errnoRet 5000 is out of range",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":4095}"#,
            "errnoRet 4095 is out of range; use an errno from 0 to 4094",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW","errnoRet":1}]}"#,
            "SCMP_ACT_ALLOW returns no errno",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","defaultErrnoRet":1}"#,
            "defaultErrnoRet: errnoRet is set but SCMP_ACT_ALLOW",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":6,"value":1,"op":"SCMP_CMP_EQ"}]}]}"#,
            "argument index 6 is out of range",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":[""],"action":"SCMP_ACT_ERRNO"}]}"#,
            "syscall name is empty",
        ),
    ];
    for (json, want) in bad {
        let p = LinuxSeccomp::from_json(json).expect("parses");
        let e = compile(&p, &CompileOptions::default()).expect_err(json);
        assert!(e.to_string().contains(want), "{json}: {e}");
    }
}

#[test]
fn bad_json_names_the_bad_value() {
    for (json, want) in [
        (r#"{"defaultAction":"SCMP_ACT_MAYBE"}"#, "SCMP_ACT_MAYBE"),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":1,"op":"SCMP_CMP_ABOUT"}]}]}"#,
            "SCMP_CMP_ABOUT",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_Z80"]}"#,
            "SCMP_ARCH_Z80",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_FAST"]}"#,
            "SECCOMP_FILTER_FLAG_FAST",
        ),
        (r#"{"defaultAction":"SCMP_ACT_ALLOW","#, "EOF"),
    ] {
        let e = LinuxSeccomp::from_json(json).expect_err(json);
        assert!(e.to_string().contains(want), "{json}: {e}");
    }
}

#[test]
fn flags_map_to_kernel_flags() {
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW","SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]}"#,
    );
    // WAIT_KILLABLE_RECV is dropped without a listener.
    assert_eq!(f.flags, 0b111);
    assert!(!f.needs_listener);
    assert!(!f.into_program().wants_listener());
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
            "syscalls":[{"names":["getpid"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    );
    // TSYNC | NEW_LISTENER | TSYNC_ESRCH | WAIT_KILLABLE_RECV
    assert_eq!(f.flags, 1 | 8 | 16 | 32);
    assert!(f.needs_listener);
    // The init loads a Program: it must know a listener comes back.
    assert!(f.into_program().wants_listener());
}

#[test]
fn architectures_are_added_and_native_is_always_there() {
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86","SCMP_ARCH_X32"],
            "syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    for arch in [Arch::X86_64, Arch::X86, Arch::X32] {
        assert_eq!(
            decide(&f, arch, "getpid", [0; 6]),
            errno(libc::EPERM),
            "{arch}"
        );
    }
    // An arch not in the filter hits libseccomp's bad-arch action (kill).
    let arm = f
        .evaluate(&SeccompData::new(audit_arch(Arch::Arm), 20, [0; 6]))
        .expect("evaluates");
    assert_eq!(arm, KILL_THREAD);
    // Only native: x86 calls are killed, not let through.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    if native() == Arch::X86_64 {
        assert_eq!(decide_nr(&f, Arch::X86, 20), KILL_THREAD);
    }
}

#[test]
fn x32_numbers_carry_the_x32_bit() {
    // The stub relies on libseccomp resolving x32 names with bit 30 set.
    assert_eq!(nr("read", Arch::X32) as u32, bpf::X32_SYSCALL_BIT);
    assert_eq!(nr("read", Arch::X86_64), 0);
}

#[test]
fn enosys_stub_answers_syscalls_newer_than_the_profile() {
    // Allowlist whose largest syscall is mkdir (83 on x86_64).
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","write","mkdir"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert!(f.enosys_stub_len > 0);
    let a = native();
    let max = nr("mkdir", a);
    assert!(f.enosys_above.contains(&(a, max as u32)));
    assert_eq!(decide_nr(&f, a, max), ALLOW);
    assert_eq!(decide_nr(&f, a, max + 1), errno(libc::ENOSYS));
    assert_eq!(decide_nr(&f, a, 999), errno(libc::ENOSYS));
    assert_eq!(decide(&f, a, "getpid", [0; 6]), errno(libc::EPERM));
    assert_eq!(decide(&f, a, "read", [0; 6]), ALLOW);
    // No stub when the default allows, or already answers ENOSYS.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(f.enosys_stub_len, 0);
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert_eq!(f.enosys_stub_len, 0);
    // And off when asked.
    let p = LinuxSeccomp::from_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
    )
    .expect("parses");
    let opts = CompileOptions {
        enosys_stub: false,
        clone3_enosys: false,
    };
    let f = compile(&p, &opts).expect("compiles");
    assert_eq!(f.enosys_stub_len, 0);
    assert_eq!(decide_nr(&f, a, 999), errno(libc::EPERM));
}

#[test]
fn unlisted_clone3_gets_enosys_under_an_errno_default() {
    // close_range (436) is above clone3 (435): the stub alone would leave
    // clone3 at EPERM, which breaks glibc's thread creation.
    let json = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","close_range"],"action":"SCMP_ACT_ALLOW"}]}"#;
    let f = compile_json(json);
    assert!(f.implicit_clone3_enosys);
    assert_eq!(decide(&f, native(), "clone3", [0; 6]), errno(libc::ENOSYS));
    let p = LinuxSeccomp::from_json(json).expect("parses");
    let opts = CompileOptions {
        clone3_enosys: false,
        ..CompileOptions::default()
    };
    let f = compile(&p, &opts).expect("compiles");
    assert_eq!(decide(&f, native(), "clone3", [0; 6]), errno(libc::EPERM));
    // A profile that names clone3 keeps its own decision.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","close_range"],"action":"SCMP_ACT_ALLOW"},
            {"names":["clone3"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#,
    );
    assert!(!f.implicit_clone3_enosys);
    assert_eq!(decide(&f, native(), "clone3", [0; 6]), errno(libc::EPERM));
    // Not under a kill default: the author asked for kills.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_KILL_PROCESS","syscalls":[{"names":["read","close_range"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert!(!f.implicit_clone3_enosys);
}

fn reference(file: &str) -> Option<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../testdata/reference")
        .join(file);
    match std::fs::read_to_string(&path) {
        Ok(s) => Some(s),
        Err(_) => {
            eprintln!("SKIP: {} not found", path.display());
            None
        }
    }
}

fn docker_default_caps() -> Vec<String> {
    docker::DEFAULT_CAPABILITIES
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn docker_resolved(
    native: Arch,
    caps: &[String],
    kernel: docker::KernelVersion,
) -> Option<LinuxSeccomp> {
    let json = reference("docker-default-seccomp.json")?;
    let target = docker::Target {
        caps,
        native,
        kernel,
    };
    Some(
        docker::load(&json, &target)
            .expect("docker profile resolves")
            .expect("seccomp enabled"),
    )
}

#[test]
fn docker_default_resolves_like_docker_on_x86_64() {
    let Some(caps_txt) = reference("docker-default-capabilities.txt") else {
        return;
    };
    let caps: Vec<String> = caps_txt
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    assert_eq!(caps, docker_default_caps());
    let Some(p) = docker_resolved(Arch::X86_64, &caps, docker::KernelVersion::new(6, 18)) else {
        return;
    };
    assert_eq!(p.syscalls.len(), 15);
    assert_eq!(p.syscalls.iter().map(|s| s.names.len()).sum::<usize>(), 377);
    assert_eq!(p.architectures, vec![Arch::X86_64, Arch::X86, Arch::X32]);
    assert_eq!(p.default_action, Action::Errno);
    assert_eq!(p.default_errno_ret, Some(1));
    let clone3 = p
        .syscalls
        .iter()
        .find(|s| s.names == ["clone3"])
        .expect("clone3 rule");
    assert_eq!((clone3.action, clone3.errno_ret), (Action::Errno, Some(38)));

    // Old kernel: the minKernel 4.8 ptrace rule goes away.
    let old =
        docker_resolved(Arch::X86_64, &caps, docker::KernelVersion::new(4, 4)).expect("loads");
    assert_eq!(old.syscalls.len(), 14);
    // CAP_SYS_ADMIN: clone/clone3 unrestricted, the mount API comes in.
    let mut admin = caps.clone();
    admin.push("CAP_SYS_ADMIN".into());
    let admin =
        docker_resolved(Arch::X86_64, &admin, docker::KernelVersion::new(6, 18)).expect("loads");
    assert!(allows_unconditionally(&admin, "mount"));
    assert!(allows_unconditionally(&admin, "clone3"));
    assert!(!admin
        .syscalls
        .iter()
        .any(|s| s.names == ["clone3"] && s.action == Action::Errno));
    // arm64: its archMap entry and its arch-specific rules.
    let arm =
        docker_resolved(Arch::Aarch64, &caps, docker::KernelVersion::new(6, 18)).expect("loads");
    assert_eq!(arm.architectures, vec![Arch::Aarch64, Arch::Arm]);
    assert!(allows_unconditionally(&arm, "cacheflush"));
    assert!(!allows_unconditionally(&arm, "arch_prctl"));
}

#[test]
fn docker_default_compiles_and_decides_like_docker() {
    let Some(p) = docker_resolved(
        Arch::X86_64,
        &docker_default_caps(),
        docker::KernelVersion::new(6, 18),
    ) else {
        return;
    };
    if native() != Arch::X86_64 {
        eprintln!("SKIP: x86_64 only");
        return;
    }
    let f = compile(&p, &CompileOptions::default()).expect("compiles");
    assert!(!f.implicit_clone3_enosys, "the profile names clone3");
    let x = Arch::X86_64;
    assert_eq!(decide(&f, x, "read", [0; 6]), ALLOW);
    assert_eq!(decide(&f, x, "mount", [0; 6]), errno(1));
    assert_eq!(decide(&f, x, "unshare", [0; 6]), errno(1));
    assert_eq!(decide(&f, x, "clone3", [0; 6]), errno(38));
    assert_eq!(decide(&f, x, "clone", [0x11, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(
        decide(&f, x, "clone", [0x1000_0000 | 0x11, 0, 0, 0, 0, 0]),
        errno(1)
    );
    assert_eq!(decide(&f, x, "socket", [2, 1, 0, 0, 0, 0]), ALLOW);
    assert_eq!(decide(&f, x, "socket", [40, 1, 0, 0, 0, 0]), errno(1));
    assert_eq!(decide(&f, x, "socket", [38, 5, 0, 0, 0, 0]), errno(1));
    assert_eq!(decide(&f, x, "personality", [8, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(
        decide(&f, x, "personality", [0x0040_0000, 0, 0, 0, 0, 0]),
        errno(1)
    );
    assert_eq!(decide(&f, x, "ptrace", [0; 6]), ALLOW, "kernel >= 4.8");
    // Same decisions for the 32-bit ABIs in the filter.
    assert_eq!(decide(&f, Arch::X86, "read", [0; 6]), ALLOW);
    assert_eq!(decide(&f, Arch::X86, "mount", [0; 6]), errno(1));
    assert_eq!(decide(&f, Arch::X32, "read", [0; 6]), ALLOW);
    assert_eq!(decide(&f, Arch::X32, "mount", [0; 6]), errno(1));
    // Syscalls newer than libseccomp's table (which skips some of the names
    // Docker allows) and than the profile: ENOSYS, not EPERM.
    assert_eq!(decide_nr(&f, x, 600), errno(libc::ENOSYS));
}

#[test]
fn each_arch_allows_its_own_extra_syscalls_only() {
    let allowed = |native: Arch| -> Vec<String> {
        profile::default_profile_for(native)
            .syscalls
            .iter()
            .filter(|r| r.action == Action::Allow && r.args.is_empty())
            .flat_map(|r| r.names.clone())
            .collect()
    };
    let extras: [(Arch, &[&str]); 7] = [
        (Arch::X86_64, &["arch_prctl"]),
        (
            Arch::Aarch64,
            &["arm_fadvise64_64", "breakpoint", "cacheflush", "set_tls"],
        ),
        (Arch::Arm, &["arm_sync_file_range", "sync_file_range2"]),
        (Arch::Ppc64Le, &["sync_file_range2", "swapcontext"]),
        (Arch::S390X, &["s390_pci_mmio_read", "s390_runtime_instr"]),
        (Arch::S390, &["s390_pci_mmio_write"]),
        (Arch::Riscv64, &["riscv_flush_icache"]),
    ];
    for (native, names) in extras {
        let a = allowed(native);
        for n in names {
            assert!(a.iter().any(|x| x == n), "{native:?} allows {n}");
        }
    }
    // And not another arch's: no riscv or s390 call on x86_64, no
    // arch_prctl on riscv64.
    let x86 = allowed(Arch::X86_64);
    for n in [
        "riscv_flush_icache",
        "s390_runtime_instr",
        "cacheflush",
        "swapcontext",
    ] {
        assert!(!x86.iter().any(|x| x == n), "x86_64 allows {n}");
    }
    assert!(!allowed(Arch::Riscv64).iter().any(|x| x == "arch_prctl"));
}

#[test]
fn default_profile_denies_mount_the_new_mount_api_and_clone3() {
    for native in [Arch::X86_64, Arch::Aarch64, Arch::X86, Arch::Arm] {
        let p = profile::default_profile_for(native);
        for name in [
            "mount",
            "umount2",
            "fsopen",
            "fsconfig",
            "fsmount",
            "fspick",
            "move_mount",
            "open_tree",
            "open_tree_attr",
            "mount_setattr",
        ] {
            assert!(!may_allow(&p, name), "{native}: {name} must be denied");
        }
        let clone3 = p
            .syscalls
            .iter()
            .find(|s| s.names == ["clone3"])
            .expect("clone3 rule");
        assert_eq!((clone3.action, clone3.errno_ret), (Action::Errno, Some(38)));
    }
    let p = default_profile();
    let f = compile(&p, &CompileOptions::default()).expect("default profile compiles");
    for arch in profile::arches_for(native()) {
        for name in [
            "mount",
            "open_tree",
            "fsopen",
            "fsmount",
            "move_mount",
            "mount_setattr",
            "fspick",
            "fsconfig",
        ] {
            assert_eq!(
                decide(&f, arch, name, [0; 6]),
                errno(libc::EPERM),
                "{arch}: {name}"
            );
        }
        if arch != Arch::X32 {
            assert_eq!(
                decide(&f, arch, "clone3", [0; 6]),
                errno(libc::ENOSYS),
                "{arch}"
            );
        }
        assert_eq!(decide(&f, arch, "read", [0; 6]), ALLOW, "{arch}");
    }
    let a = native();
    assert_eq!(decide(&f, a, "clone", [0x11, 0, 0, 0, 0, 0]), ALLOW);
    assert_eq!(
        decide(&f, a, "clone", [0x1000_0011, 0, 0, 0, 0, 0]),
        errno(libc::EPERM)
    );
    assert_eq!(decide(&f, a, "unshare", [0; 6]), errno(libc::EPERM));
    assert_eq!(decide(&f, a, "ptrace", [0; 6]), errno(libc::EPERM));
    assert_eq!(decide(&f, a, "keyctl", [0; 6]), errno(libc::EPERM));
    assert_eq!(decide(&f, a, "bpf", [0; 6]), errno(libc::EPERM));
    assert_eq!(
        decide(&f, a, "socket", [40, 1, 0, 0, 0, 0]),
        errno(libc::EPERM)
    );
    assert_eq!(
        decide(&f, a, "socket", [38, 5, 0, 0, 0, 0]),
        errno(libc::EPERM)
    );
    assert_eq!(
        decide(&f, a, "socket", [0x1_0000_0028, 1, 0, 0, 0, 0]),
        errno(libc::EPERM)
    );
    assert_eq!(decide(&f, a, "socket", [2, 1, 0, 0, 0, 0]), ALLOW);
    assert_eq!(decide(&f, a, "socket", [44, 3, 0, 0, 0, 0]), ALLOW);
    assert_eq!(
        decide(&f, a, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
        ALLOW
    );
    assert_eq!(
        decide(&f, a, "personality", [0x0040_0000, 0, 0, 0, 0, 0]),
        errno(libc::EPERM)
    );
}

#[test]
fn default_profile_denied_list_is_really_denied() {
    for native in [Arch::X86_64, Arch::Aarch64] {
        let p = profile::default_profile_for(native);
        for (name, threat) in profile::DENIED {
            assert!(!threat.is_empty(), "{name}: say why");
            if *name == "clone3" {
                continue;
            }
            assert!(
                !may_allow(&p, name),
                "{native}: {name} ({threat}) is allowed"
            );
        }
    }
}

#[test]
fn default_profile_is_at_least_as_tight_as_docker() {
    let caps = docker_default_caps();
    for native in [Arch::X86_64, Arch::Aarch64] {
        let Some(docker) = docker_resolved(native, &caps, docker::KernelVersion::new(6, 18)) else {
            return;
        };
        let ward = profile::default_profile_for(native);
        assert_eq!(ward.architectures, docker.architectures);
        assert_eq!(ward.default_action, Action::Errno);
        for rule in &ward.syscalls {
            for name in &rule.names {
                if rule.action != Action::Allow {
                    continue;
                }
                assert!(
                    may_allow(&docker, name),
                    "{native}: ward allows {name}, docker does not"
                );
                if rule.args.is_empty() {
                    assert!(
                        allows_unconditionally(&docker, name),
                        "{native}: ward allows {name} unconditionally, docker only with conditions"
                    );
                }
            }
        }
    }
}

#[test]
fn syscall_builder_matches_json() {
    let built = Syscall::new(["clone"], Action::Allow).with_arg(Arg::masked_eq(0, 0x7E02_0000, 0));
    let parsed: Syscall = serde_json::from_str(
        r#"{"names":["clone"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":2114060288,"op":"SCMP_CMP_MASKED_EQ"}]}"#,
    )
    .expect("parses");
    assert_eq!(built, parsed);
}

#[test]
fn kernel_versions_parse_like_docker() {
    use docker::KernelVersion as K;
    assert_eq!(
        K::parse_release("6.18.44-fc-v669").expect("parses"),
        K::new(6, 18)
    );
    assert_eq!(
        K::parse_release("3.12-1-amd64").expect("parses"),
        K::new(3, 12)
    );
    assert_eq!(K::parse_min("4.8").expect("parses"), K::new(4, 8));
    // Only "0.0" is refused: a zero on one side is a version.
    assert_eq!(K::parse_min("0.1").expect("parses"), K::new(0, 1));
    assert_eq!(K::parse_min("5.0").expect("parses"), K::new(5, 0));
    // Written back as Docker writes it.
    assert_eq!(
        serde_json::to_string(&K::new(4, 8)).expect("serialises"),
        "\"4.8\""
    );
    for bad in ["4", "4.8.1", "0.0", "a.b", "300.1"] {
        let e = K::parse_min(bad).expect_err(bad);
        assert!(e.to_string().contains(bad), "{e}");
    }
    assert!(K::host().is_ok());
    let e = docker::parse(r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"4"}}]}"#)
        .expect_err("bad minKernel");
    assert!(e.to_string().contains("\"4\""), "{e}");
}

#[test]
fn docker_format_edge_cases() {
    let caps = docker_default_caps();
    let t = docker::Target {
        caps: &caps,
        native: Arch::X86_64,
        kernel: docker::KernelVersion::new(6, 1),
    };
    // No default action and no rules: seccomp disabled.
    assert_eq!(docker::load("{}", &t).expect("loads"), None);
    // Old single "name" form.
    let p = docker::load(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","action":"SCMP_ACT_ALLOW","comment":"old"}]}"#,
        &t,
    )
    .expect("loads")
    .expect("enabled");
    assert_eq!(p.syscalls[0].names, ["read"]);
    // An empty "name" next to "names" is no name, as Docker reads it.
    let p = docker::load(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"","names":["write"],"action":"SCMP_ACT_ALLOW"}]}"#,
        &t,
    )
    .expect("loads")
    .expect("enabled");
    assert_eq!(p.syscalls[0].names, ["write"]);
    for (json, want) in [
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"name":"read","names":["write"],"action":"SCMP_ACT_ALLOW"}]}"#,
            "both 'name' and 'names'",
        ),
        (
            r#"{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86"],"archMap":[{"architecture":"SCMP_ARCH_X86_64","subArchitectures":null}]}"#,
            "both 'architectures' and 'archMap'",
        ),
        (
            r#"{"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}"#,
            "defaultAction is missing",
        ),
        (r#"{"defaultAction":"SCMP_ACT_NOPE"}"#, "SCMP_ACT_NOPE"),
    ] {
        let e = docker::load(json, &t).expect_err(json);
        assert!(e.to_string().contains(want), "{json}: {e}");
    }
    // Excludes by arch, includes by several caps (all needed).
    let p = docker::load(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["a"],"action":"SCMP_ACT_ALLOW","excludes":{"arches":["amd64"]}},
            {"names":["b"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_KILL","CAP_SYS_ADMIN"]}},
            {"names":["c"],"action":"SCMP_ACT_ALLOW","includes":{"caps":["CAP_KILL","CAP_CHOWN"]}},
            {"names":["d"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"6.2"}},
            {"names":["e"],"action":"SCMP_ACT_ALLOW","excludes":{"minKernel":"6.1"}},
            {"names":["f"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"6.1"}},
            {"names":["g"],"action":"SCMP_ACT_ALLOW","includes":{"minKernel":"6.2"}}
        ]}"#,
        &t,
    )
    .expect("loads")
    .expect("enabled");
    let names: Vec<&str> = p.syscalls.iter().map(|s| s.names[0].as_str()).collect();
    // minKernel is "at least": 6.1 includes on 6.1 (and excludes there).
    assert_eq!(names, ["c", "d", "f"]);
}

#[test]
fn every_architecture_compiles_or_is_refused_by_name() {
    let mut supported = Vec::new();
    for arch in Arch::ALL {
        let json = format!(
            r#"{{"defaultAction":"SCMP_ACT_ERRNO","architectures":["{arch}"],
                "syscalls":[{{"names":["read","write","close"],"action":"SCMP_ACT_ALLOW"}}]}}"#
        );
        let p = LinuxSeccomp::from_json(&json).expect("parses");
        match compile(&p, &CompileOptions::default()) {
            Ok(_) => supported.push(arch.as_str()),
            Err(e) => assert!(
                matches!(e, Error::Arch { .. }) && e.to_string().contains(arch.as_str()),
                "{arch}: {e}"
            ),
        }
    }
    if native() == Arch::X86_64 {
        assert!(supported.contains(&"SCMP_ARCH_AARCH64") && supported.contains(&"SCMP_ARCH_X32"));
    }
    // All supported arches in one filter: the stub still fits its 8-bit jumps.
    let all = supported
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(",");
    let f = compile_json(&format!(
        r#"{{"defaultAction":"SCMP_ACT_ERRNO","architectures":[{all}],
            "syscalls":[{{"names":["read","write","close"],"action":"SCMP_ACT_ALLOW"}}]}}"#
    ));
    assert!(f.enosys_stub_len > 0);
    // libseccomp combines only arches of the native byte order.
    let checked: Vec<Arch> = supported
        .iter()
        .filter_map(|a| a.parse::<Arch>().ok())
        .filter(|a| *a != Arch::X32)
        .collect();
    assert!(checked.len() >= 5, "{checked:?}");
    for arch in checked {
        let max = nr("close", arch)
            .max(nr("read", arch))
            .max(nr("write", arch));
        assert_eq!(decide_nr(&f, arch, max + 1), errno(libc::ENOSYS), "{arch}");
        assert_eq!(decide(&f, arch, "read", [0; 6]), ALLOW, "{arch}");
    }
}

/// testdata/reference is a copy of the project's shared/reference (see its
/// README): when that directory is next to the repository, they must agree.
#[test]
fn reference_copies_match_the_shared_reference() {
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = here.join("../../../shared/reference");
    if !shared.is_dir() {
        eprintln!("SKIP: {} not found (nothing to compare)", shared.display());
        return;
    }
    for file in [
        "docker-default-seccomp.json",
        "docker-default-capabilities.txt",
        "docker-masked-paths.txt",
        "docker-readonly-paths.txt",
    ] {
        let ours = std::fs::read(here.join("../../testdata/reference").join(file));
        let theirs = std::fs::read(shared.join(file));
        assert!(
            matches!((&ours, &theirs), (Ok(a), Ok(b)) if a == b),
            "testdata/reference/{file} differs from shared/reference/{file}: copy it again"
        );
    }
}

#[test]
fn audit_arch_values_are_the_kernels() {
    // AUDIT_ARCH_* from include/uapi/linux/audit.h.
    for (arch, want) in [
        (Arch::X86, 0x4000_0003),
        (Arch::X86_64, 0xC000_003E),
        (Arch::X32, 0xC000_003E),
        (Arch::Arm, 0x4000_0028),
        (Arch::Aarch64, 0xC000_00B7),
        (Arch::Mips, 0x0000_0008),
        (Arch::Mipsel, 0x4000_0008),
        (Arch::Mips64, 0x8000_0008),
        (Arch::Mips64N32, 0xA000_0008),
        (Arch::Mipsel64, 0xC000_0008),
        (Arch::Mipsel64N32, 0xE000_0008),
        (Arch::Ppc, 0x0000_0014),
        (Arch::Ppc64, 0x8000_0015),
        (Arch::Ppc64Le, 0xC000_0015),
        (Arch::S390, 0x0000_0016),
        (Arch::S390X, 0x8000_0016),
        (Arch::Parisc, 0x0000_000F),
        (Arch::Parisc64, 0x8000_000F),
        (Arch::Riscv64, 0xC000_00F3),
        (Arch::Loongarch64, 0xC000_0102),
        (Arch::M68k, 0x0000_0004),
        (Arch::Sh, 0x4000_002A),
        (Arch::Sheb, 0x0000_002A),
    ] {
        assert_eq!(audit_arch(arch), want, "{arch}");
    }
    assert_eq!(audit_arch(Arch::X86_64), bpf::AUDIT_ARCH_X86_64);
}

#[test]
fn libseccomp_arches_map_both_ways() {
    for &arch in Arch::ALL {
        assert_eq!(from_scmp_arch(to_scmp_arch(arch)), Some(arch), "{arch}");
    }
    assert_eq!(from_scmp_arch(ScmpArch::native()), Some(native_arch()));
    if cfg!(target_arch = "x86_64") {
        assert_eq!(native_arch(), Arch::X86_64);
    }
}

#[test]
fn compiled_filter_reports_its_size() {
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert!(!f.is_empty());
    assert!(f.len() > 3, "{}", f.len());
    assert_eq!(f.len() * 8, f.bpf.len());
    assert_eq!(f.instructions().len(), f.len());
    let empty = CompiledFilter {
        bpf: Vec::new(),
        ..f
    };
    assert!(empty.is_empty());
    assert_eq!(empty.len(), 0);
}

fn compile_err(json: &str) -> String {
    let p = LinuxSeccomp::from_json(json).expect("parses");
    match compile(&p, &CompileOptions::default()) {
        Ok(_) => panic!("{json}: compiled"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_name_the_rule() {
    let e = compile_err(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO"},
            {"names":["a","b","c",""],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert!(
        e.contains("syscalls[1] (a, b, c, ...): a syscall name is empty"),
        "{e}"
    );
    let e = compile_err(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read","write","close"],"action":"SCMP_ACT_ERRNO","errnoRet":4096}]}"#,
    );
    assert!(
        e.contains("syscalls[0] (read, write, close): errnoRet 4096"),
        "{e}"
    );
    let e = compile_err(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_KILL","errnoRet":1}]}"#,
    );
    assert!(
        e.contains("syscalls[0] (read): errnoRet is set but SCMP_ACT_KILL"),
        "{e}"
    );
    let e = compile_err(r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":4096}"#);
    assert!(e.contains("defaultErrnoRet: errnoRet 4096"), "{e}");
}

#[test]
fn errno_and_arg_index_bounds() {
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":4094},
            {"names":["getppid"],"action":"SCMP_ACT_TRACE","errnoRet":7},
            {"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":5,"value":9,"op":"SCMP_CMP_EQ"}]}]}"#,
    );
    let a = native();
    assert_eq!(decide(&f, a, "getpid", [0; 6]), errno(4094));
    assert_eq!(decide(&f, a, "getppid", [0; 6]), trace(7));
    assert_eq!(
        decide(&f, a, "read", [0, 0, 0, 0, 0, 9]),
        errno(libc::EPERM)
    );
    assert_eq!(decide(&f, a, "read", [9, 0, 0, 0, 0, 0]), ALLOW);
    // 4094 is the largest: libseccomp 2.5 refuses ERRNO(4095) (MAX_ERRNO).
    let f = compile_json(r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":4094}"#);
    assert_eq!(decide(&f, a, "getpid", [0; 6]), errno(4094));
}

#[test]
fn repeated_architectures_are_added_once() {
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86","SCMP_ARCH_X86"],
            "syscalls":[{"names":["getpid"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert_eq!(decide(&f, native(), "getpid", [0; 6]), errno(libc::EPERM));
    if native() == Arch::X86_64 {
        assert_eq!(decide(&f, Arch::X86, "getpid", [0; 6]), errno(libc::EPERM));
    }
}

#[test]
fn refused_architecture_names_the_library_version() {
    if native() != Arch::X86_64 {
        return;
    }
    // Big-endian ABIs cannot share a filter with little-endian x86_64.
    let e =
        compile_err(r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_S390X"]}"#);
    let version = e
        .split("with libseccomp ")
        .nth(1)
        .and_then(|r| r.split(' ').next())
        .unwrap_or_default();
    let parts: Vec<&str> = version.split('.').collect();
    assert!(
        parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok()),
        "{e}"
    );
    assert!(e.contains("next to the native SCMP_ARCH_X86_64"), "{e}");
}

#[test]
fn stub_and_clone3_depend_on_the_default_action() {
    let profile = |default: &str| {
        format!(
            r#"{{"defaultAction":"{default}","syscalls":[{{"names":["read","close_range"],"action":"SCMP_ACT_ALLOW"}}]}}"#
        )
    };
    for (default, stub, clone3) in [
        ("SCMP_ACT_ERRNO", true, true),
        ("SCMP_ACT_KILL", true, false),
        ("SCMP_ACT_KILL_PROCESS", true, false),
        ("SCMP_ACT_TRAP", true, false),
        ("SCMP_ACT_LOG", false, false),
        ("SCMP_ACT_TRACE", false, false),
    ] {
        let f = compile_json(&profile(default));
        assert_eq!(f.enosys_stub_len > 0, stub, "{default}");
        assert_eq!(!f.enosys_above.is_empty(), stub, "{default}");
        assert_eq!(f.implicit_clone3_enosys, clone3, "{default}");
    }
    // An ERRNO default that already answers ENOSYS needs neither.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":38,"syscalls":[{"names":["read","close_range"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert!(!f.implicit_clone3_enosys);
    assert_eq!(decide(&f, native(), "clone3", [0; 6]), errno(libc::ENOSYS));
    // Another errno: clone3 still gets ENOSYS, everything else that errno.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","defaultErrnoRet":1,"syscalls":[{"names":["read","close_range"],"action":"SCMP_ACT_ALLOW"}]}"#,
    );
    assert!(f.implicit_clone3_enosys);
    assert_eq!(decide(&f, native(), "clone3", [0; 6]), errno(libc::ENOSYS));
    assert_eq!(decide(&f, native(), "getpid", [0; 6]), errno(1));
    // A rule naming clone3 with the default action is skipped, but clone3
    // is still the profile's: no implicit ENOSYS.
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read","close_range"],"action":"SCMP_ACT_ALLOW"},
            {"names":["clone3"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert!(!f.implicit_clone3_enosys);
    assert_eq!(decide(&f, native(), "clone3", [0; 6]), errno(libc::EPERM));
}

#[test]
fn stub_sections_per_audit_arch() {
    let names = ["read", "close_range", "no_such_syscall"];
    let (sections, above) = stub_sections(&[Arch::X86_64, Arch::X32, Arch::S390X], &names);
    let x86 = nr("close_range", Arch::X86_64) as u32;
    let x32 = nr("close_range", Arch::X32) as u32;
    let s390x = nr("close_range", Arch::S390X) as u32;
    assert_eq!(
        above,
        [(Arch::X86_64, x86), (Arch::X32, x32), (Arch::S390X, s390x)]
    );
    // BTreeMap order: s390x (0x8000_0016) before x86_64 (0xC000_003E).
    assert_eq!(
        sections,
        [
            bpf::StubSection {
                audit_arch: audit_arch(Arch::S390X),
                max: Some(s390x),
                max_x32: None,
                multiplex_zero: true,
            },
            bpf::StubSection {
                audit_arch: bpf::AUDIT_ARCH_X86_64,
                max: Some(x86),
                max_x32: Some(x32),
                multiplex_zero: false,
            },
        ]
    );
    let (sections, above) = stub_sections(&[Arch::S390], &["read"]);
    assert!(sections[0].multiplex_zero, "{sections:?}");
    assert_eq!(above.len(), 1);
    let (sections, above) = stub_sections(&[Arch::X86_64], &["no_such_syscall"]);
    assert!(sections.is_empty() && above.is_empty());
}

#[test]
fn listener_flags_without_tsync() {
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_LOG"],
            "syscalls":[{"names":["getpid"],"action":"SCMP_ACT_NOTIFY"}]}"#,
    );
    // LOG | NEW_LISTENER, no TSYNC_ESRCH without TSYNC.
    assert_eq!(f.flags, 2 | 8);
    assert_eq!(decide(&f, native(), "getpid", [0; 6]), NOTIFY);
    let f = compile_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_SPEC_ALLOW"]}"#,
    );
    assert_eq!(f.flags, 4);
    assert!(!f.needs_listener);
}

#[test]
fn profile_queries() {
    let p = LinuxSeccomp::from_json(
        r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
            {"names":["read","write"],"action":"SCMP_ACT_ALLOW"},
            {"names":["write","ioctl"],"action":"SCMP_ACT_ALLOW","args":[{"index":1,"value":5,"op":"SCMP_CMP_EQ"}]},
            {"names":["uname"],"action":"SCMP_ACT_LOG"},
            {"names":["getpid"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#,
    )
    .expect("parses");
    for (name, unconditional, may) in [
        ("read", true, true),
        ("write", true, true),
        ("ioctl", false, true),
        ("uname", true, true),
        ("getpid", false, false),
        ("mkdir", false, false),
    ] {
        assert_eq!(allows_unconditionally(&p, name), unconditional, "{name}");
        assert_eq!(may_allow(&p, name), may, "{name}");
    }
    for default in ["SCMP_ACT_ALLOW", "SCMP_ACT_LOG"] {
        let p = LinuxSeccomp::from_json(&format!(
            r#"{{"defaultAction":"{default}","syscalls":[{{"names":["getpid"],"action":"SCMP_ACT_ERRNO"}}]}}"#
        ))
        .expect("parses");
        assert!(allows_unconditionally(&p, "mkdir"), "{default}");
        assert!(may_allow(&p, "getpid"), "{default}");
        assert!(!allows_unconditionally(&p, "getpid"), "{default}");
    }
    assert_eq!(
        syscall_name(nr("getpid", native())).as_deref(),
        Some("getpid")
    );
    assert_eq!(syscall_name(nr("read", native())).as_deref(), Some("read"));
    assert_eq!(syscall_name(-1), None);
}

/// Docker's profile names ~370 syscalls in ~15 rules: libseccomp's
/// binary-tree dispatch must be asked for by the number of names, or every
/// syscall of the container walks a linear list of comparisons (issue 20).
#[test]
fn many_names_in_few_rules_compile_to_a_binary_tree() {
    let names: Vec<String> = default_profile()
        .syscalls
        .iter()
        .flat_map(|r| r.names.iter().cloned())
        .take(200)
        .collect();
    let mut p = LinuxSeccomp::new(Action::Errno);
    p.syscalls.push(Syscall {
        names,
        action: Action::Allow,
        errno_ret: None,
        args: vec![],
    });
    let f = compile(&p, &CompileOptions::default()).expect("compiles");
    let after_stub = &f.instructions()[f.enosys_stub_len..];
    let jgt_jge = |i: &&bpf::Insn| {
        i.code == (libc::BPF_JMP | libc::BPF_JGT | libc::BPF_K) as u16
            || i.code == (libc::BPF_JMP | libc::BPF_JGE | libc::BPF_K) as u16
    };
    let tree = after_stub.iter().filter(jgt_jge).count();
    assert!(
        tree >= 8,
        "expected a binary tree (range comparisons) over 200 names, found {tree} in {} instructions",
        after_stub.len()
    );
}

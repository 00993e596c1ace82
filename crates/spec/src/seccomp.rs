//! OCI runtime-spec `linux.seccomp`: the typed profile.
//!
//! Every enumerated string (action, operator, architecture, flag) is a Rust
//! enum, so a misspelt or unsupported value is a parse error that names the
//! bad value ("unknown variant `SCMP_ACT_FOO`, expected one of ...") instead
//! of a profile that silently filters less than its author meant.
//!
//! Unknown *fields* are ignored, as the runtime-spec requires of readers.
//! Arrays that Go engines may write as `null` are read as empty.
//!
//! Pure: no syscalls. Compiling and loading live in `ward-seccomp` and
//! `ward-sys`.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// Reads `null` as the type's default (Go marshals nil slices as `null`).
/// For `#[serde(deserialize_with)]`; Docker's profile format uses it too.
pub fn null_as_default<'de, D, T>(de: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(de)?.unwrap_or_default())
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// `linux.seccomp`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LinuxSeccomp {
    /// Action for every syscall that no rule matches.
    pub default_action: Action,
    /// errno for `defaultAction` SCMP_ACT_ERRNO / SCMP_ACT_TRACE (EPERM if unset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    /// Extra architectures (the native one is always added when compiling).
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub architectures: Vec<Arch>,
    /// seccomp(2) filter flags.
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub flags: Vec<Flag>,
    /// UNIX socket of the seccomp agent that receives the NOTIFY listener fd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_path: Option<String>,
    /// Opaque data passed to the seccomp agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_metadata: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub syscalls: Vec<Syscall>,
}

impl LinuxSeccomp {
    /// A profile with `default_action` and nothing else.
    pub fn new(default_action: Action) -> Self {
        LinuxSeccomp {
            default_action,
            default_errno_ret: None,
            architectures: Vec::new(),
            flags: Vec::new(),
            listener_path: None,
            listener_metadata: None,
            syscalls: Vec::new(),
        }
    }

    /// Parses a stand-alone `linux.seccomp` JSON object; the error names the
    /// JSON path and the bad value.
    pub fn from_json(json: &str) -> Result<Self, ParseError> {
        let de = &mut serde_json::Deserializer::from_str(json);
        serde_path_to_error::deserialize(de).map_err(|e| ParseError {
            path: e.path().to_string(),
            msg: e.inner().to_string(),
        })
    }

    /// Whether any rule uses SCMP_ACT_NOTIFY (a listener fd is then needed).
    pub fn uses_notify(&self) -> bool {
        self.default_action == Action::Notify
            || self.syscalls.iter().any(|s| s.action == Action::Notify)
    }
}

/// A `linux.seccomp` document that does not parse.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("seccomp profile: at {path}: {msg}; fix the value to one the OCI runtime-spec allows")]
pub struct ParseError {
    /// JSON path of the offending value ("syscalls[2].action"), "." for the top.
    pub path: String,
    /// What serde said, naming the bad value.
    pub msg: String,
}

/// One rule: `names` get `action` when all `args` conditions hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Syscall {
    #[serde(deserialize_with = "null_as_default")]
    pub names: Vec<String>,
    pub action: Action,
    /// errno for SCMP_ACT_ERRNO / SCMP_ACT_TRACE; `defaultErrnoRet` or EPERM if unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    #[serde(
        default,
        deserialize_with = "null_as_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<Arg>,
}

impl Syscall {
    /// An unconditional rule.
    pub fn new<S: Into<String>>(names: impl IntoIterator<Item = S>, action: Action) -> Self {
        Syscall {
            names: names.into_iter().map(Into::into).collect(),
            action,
            errno_ret: None,
            args: Vec::new(),
        }
    }

    /// Sets `errnoRet`.
    pub fn with_errno(mut self, errno: u32) -> Self {
        self.errno_ret = Some(errno);
        self
    }

    /// Adds an argument condition.
    pub fn with_arg(mut self, arg: Arg) -> Self {
        self.args.push(arg);
        self
    }
}

/// A condition on syscall argument `index` (0..=5).
///
/// For SCMP_CMP_MASKED_EQ, `value` is the mask and `valueTwo` the datum:
/// the condition holds when `(arg & value) == valueTwo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Arg {
    pub index: u32,
    pub value: u64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub value_two: u64,
    pub op: Operator,
}

impl Arg {
    pub fn new(index: u32, op: Operator, value: u64) -> Self {
        Arg {
            index,
            value,
            value_two: 0,
            op,
        }
    }

    /// `(arg[index] & mask) == datum`.
    pub fn masked_eq(index: u32, mask: u64, datum: u64) -> Self {
        Arg {
            index,
            value: mask,
            value_two: datum,
            op: Operator::MaskedEq,
        }
    }
}

/// Declares a string-valued enum: serde names, `as_str`, `Display` and `ALL`.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $s:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $s)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The OCI spelling.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $s,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;

            /// Parses the OCI spelling; the error names the bad value.
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($s => Ok($name::$variant),)+
                    _ => Err(format!(
                        "unknown {} `{}`, expected one of {}",
                        stringify!($name),
                        s,
                        [$($s,)+].join(", ")
                    )),
                }
            }
        }
    };
}

string_enum! {
    /// What the kernel does with a matching syscall.
    Action {
        /// Kill the thread (same as KILL_THREAD).
        Kill = "SCMP_ACT_KILL",
        KillProcess = "SCMP_ACT_KILL_PROCESS",
        KillThread = "SCMP_ACT_KILL_THREAD",
        /// SIGSYS.
        Trap = "SCMP_ACT_TRAP",
        /// Fail with `errnoRet`.
        Errno = "SCMP_ACT_ERRNO",
        /// Notify a ptrace tracer.
        Trace = "SCMP_ACT_TRACE",
        Allow = "SCMP_ACT_ALLOW",
        /// Allow and audit-log.
        Log = "SCMP_ACT_LOG",
        /// Ask the user-space agent on the listener fd.
        Notify = "SCMP_ACT_NOTIFY",
    }
}

string_enum! {
    /// Comparison of a syscall argument with `value`.
    Operator {
        Ne = "SCMP_CMP_NE",
        Lt = "SCMP_CMP_LT",
        Le = "SCMP_CMP_LE",
        Eq = "SCMP_CMP_EQ",
        Ge = "SCMP_CMP_GE",
        Gt = "SCMP_CMP_GT",
        /// `(arg & value) == valueTwo`.
        MaskedEq = "SCMP_CMP_MASKED_EQ",
    }
}

string_enum! {
    /// A syscall ABI the filter covers.
    Arch {
        X86 = "SCMP_ARCH_X86",
        X86_64 = "SCMP_ARCH_X86_64",
        X32 = "SCMP_ARCH_X32",
        Arm = "SCMP_ARCH_ARM",
        Aarch64 = "SCMP_ARCH_AARCH64",
        Mips = "SCMP_ARCH_MIPS",
        Mips64 = "SCMP_ARCH_MIPS64",
        Mips64N32 = "SCMP_ARCH_MIPS64N32",
        Mipsel = "SCMP_ARCH_MIPSEL",
        Mipsel64 = "SCMP_ARCH_MIPSEL64",
        Mipsel64N32 = "SCMP_ARCH_MIPSEL64N32",
        Ppc = "SCMP_ARCH_PPC",
        Ppc64 = "SCMP_ARCH_PPC64",
        Ppc64Le = "SCMP_ARCH_PPC64LE",
        S390 = "SCMP_ARCH_S390",
        S390X = "SCMP_ARCH_S390X",
        Parisc = "SCMP_ARCH_PARISC",
        Parisc64 = "SCMP_ARCH_PARISC64",
        Riscv64 = "SCMP_ARCH_RISCV64",
        Loongarch64 = "SCMP_ARCH_LOONGARCH64",
        M68k = "SCMP_ARCH_M68K",
        Sh = "SCMP_ARCH_SH",
        Sheb = "SCMP_ARCH_SHEB",
    }
}

string_enum! {
    /// seccomp(2) SECCOMP_SET_MODE_FILTER flags a profile may ask for.
    Flag {
        /// Apply to all threads of the process.
        Tsync = "SECCOMP_FILTER_FLAG_TSYNC",
        /// Log every action but ALLOW.
        Log = "SECCOMP_FILTER_FLAG_LOG",
        /// Do not force Speculative Store Bypass mitigation.
        SpecAllow = "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        /// NOTIFY waiters are killable only once the agent has the request.
        WaitKillableRecv = "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enum_value_round_trips() {
        for a in Action::ALL {
            let json = serde_json::to_string(a).expect("fixture");
            assert_eq!(json, format!("\"{}\"", a.as_str()));
            assert_eq!(serde_json::from_str::<Action>(&json).expect("fixture"), *a);
            assert_eq!(a.as_str().parse::<Action>().expect("fixture"), *a);
        }
        for o in Operator::ALL {
            let json = serde_json::to_string(o).expect("fixture");
            assert_eq!(
                serde_json::from_str::<Operator>(&json).expect("fixture"),
                *o
            );
        }
        for a in Arch::ALL {
            let json = serde_json::to_string(a).expect("fixture");
            assert_eq!(serde_json::from_str::<Arch>(&json).expect("fixture"), *a);
        }
        for f in Flag::ALL {
            let json = serde_json::to_string(f).expect("fixture");
            assert_eq!(serde_json::from_str::<Flag>(&json).expect("fixture"), *f);
        }
        assert_eq!(Action::ALL.len(), 9);
        assert_eq!(Operator::ALL.len(), 7);
        assert_eq!(Flag::ALL.len(), 4);
    }

    #[test]
    fn full_profile_parses_and_round_trips() {
        let json = r#"{
            "defaultAction": "SCMP_ACT_ERRNO",
            "defaultErrnoRet": 1,
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
            "flags": ["SECCOMP_FILTER_FLAG_LOG"],
            "listenerPath": "/run/agent.sock",
            "listenerMetadata": "meta",
            "syscalls": [
                {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]}
            ],
            "someFutureField": true
        }"#;
        let p = LinuxSeccomp::from_json(json).expect("fixture");
        assert_eq!(p.default_action, Action::Errno);
        assert_eq!(p.default_errno_ret, Some(1));
        assert_eq!(p.architectures, vec![Arch::X86_64, Arch::X86]);
        assert_eq!(p.flags, vec![Flag::Log]);
        assert_eq!(p.syscalls[1].errno_ret, Some(38));
        assert_eq!(p.syscalls[2].args[0], Arg::masked_eq(0, 2114060288, 0));
        let again: LinuxSeccomp =
            serde_json::from_str(&serde_json::to_string(&p).expect("fixture")).expect("fixture");
        assert_eq!(again, p);
    }

    #[test]
    fn bad_values_are_named() {
        let e = LinuxSeccomp::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_FOO"}]}"#,
        )
        .expect_err("must fail");
        assert!(e.path.contains("syscalls[0].action"), "{e}");
        assert!(e.to_string().contains("SCMP_ACT_FOO"), "{e}");

        let e = LinuxSeccomp::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW",
                "args":[{"index":0,"value":1,"op":"SCMP_CMP_SORTA"}]}]}"#,
        )
        .expect_err("must fail");
        assert!(e.to_string().contains("SCMP_CMP_SORTA"), "{e}");

        let e = LinuxSeccomp::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_VAX"]}"#,
        )
        .expect_err("must fail");
        assert!(e.to_string().contains("SCMP_ARCH_VAX"), "{e}");

        let e = LinuxSeccomp::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["SECCOMP_FILTER_FLAG_NOPE"]}"#,
        )
        .expect_err("must fail");
        assert!(e.to_string().contains("SECCOMP_FILTER_FLAG_NOPE"), "{e}");

        assert!(LinuxSeccomp::from_json(r#"{"defaultAction": "#).is_err());
        let e = LinuxSeccomp::from_json("{}").expect_err("must fail");
        assert!(e.to_string().contains("defaultAction"), "{e}");
    }

    #[test]
    fn nulls_read_as_empty() {
        let p = LinuxSeccomp::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":null,"flags":null,
                "syscalls":[{"names":["read"],"action":"SCMP_ACT_LOG","args":null}]}"#,
        )
        .expect("fixture");
        assert!(p.architectures.is_empty() && p.flags.is_empty());
        assert!(p.syscalls[0].args.is_empty());
    }
}

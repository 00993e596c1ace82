//! `ward`: the user-facing CLI. `ward sandbox -- CMD` runs a host command
//! in a hardened sandbox (see docs/sandbox.md).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use serde::Deserialize;
use ward_cli::{Cli, Cmd, SandboxArgs};
use ward_sandbox::{self as sandbox, Options};

mod audit;
mod audit_host;
mod audit_image;
mod authz;
mod image;
mod run;
mod trust;

/// Exit code of an error of ward itself (as docker and podman do).
const EXIT_WARD_ERROR: u8 = 125;
/// Exit code when the command does not exist (as a shell does).
const EXIT_NOT_FOUND: u8 = 127;

/// The sandbox's seccomp profile compiled by build.rs (empty when not).
const SECCOMP_BPF: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/seccomp.bpf"));
const SECCOMP_FLAGS: &str = include_str!(concat!(env!("OUT_DIR"), "/seccomp.flags"));
/// The profile SECCOMP_BPF was compiled from (checked by a test).
#[cfg(test)]
const SECCOMP_JSON: &str = include_str!(concat!(env!("OUT_DIR"), "/seccomp.json"));

/// A `--profile` file: the same names as the flags.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Profile {
    #[serde(default)]
    rw: Vec<PathBuf>,
    #[serde(default)]
    ro: Vec<PathBuf>,
    #[serde(default)]
    hide: Vec<PathBuf>,
    #[serde(default)]
    tmpfs: Vec<PathBuf>,
    net: Option<bool>,
    memory: Option<String>,
    pids: Option<i64>,
    cpus: Option<f64>,
    require_limits: Option<bool>,
    keep_root: Option<bool>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    keep_env: Vec<String>,
    timeout: Option<f64>,
    cwd: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Sandbox(a) => sandbox_main(a),
        // The host and image audits read the host and the image store
        // (audit_host.rs, audit_image.rs, which use audit.rs's output); the
        // rest is audit.rs's.
        Cmd::Audit(ward_cli::AuditArgs {
            target: Some(ward_cli::AuditTarget::Host(h)),
            ..
        }) => audit_host::main(h),
        Cmd::Audit(ward_cli::AuditArgs {
            target: Some(ward_cli::AuditTarget::Image(i)),
            ..
        }) => audit_image::main(i),
        Cmd::Audit(a) => audit::main(a),
        Cmd::Image(a) => image::main(a),
        Cmd::Run(a) => run::main(a, precompiled_seccomp()),
        Cmd::Trust(t) => trust::main(t),
        Cmd::AuthzPlugin(a) => authz::main(a),
    }
}

fn fail(m: impl std::fmt::Display) -> ExitCode {
    eprintln!("ward sandbox: {m}");
    ExitCode::from(EXIT_WARD_ERROR)
}

fn options(a: SandboxArgs) -> Result<Options, String> {
    let p = match &a.profile {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--profile {}: {e}", path.display()))?;
            toml::from_str::<Profile>(&text)
                .map_err(|e| format!("--profile {}: {e}", path.display()))?
        }
        None => Profile::default(),
    };
    let cat = |mut a: Vec<PathBuf>, b: Vec<PathBuf>| {
        a.extend(b);
        a
    };
    let memory = match a.memory.or(p.memory) {
        Some(m) => Some(sandbox::parse_size(&m).map_err(|e| format!("--memory: {e}"))?),
        None => None,
    };
    let timeout = match a.timeout.or(p.timeout) {
        Some(t) if t.is_finite() && t > 0.0 => Some(Duration::from_secs_f64(t)),
        Some(t) => return Err(format!("--timeout {t}: give a positive number of seconds")),
        None => None,
    };
    let seccomp = match a.seccomp.as_deref() {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("--seccomp {}: {e}", path.display()))?;
            Some(
                serde_json::from_str::<ward_spec::seccomp::LinuxSeccomp>(&text).map_err(|e| {
                    format!(
                        "--seccomp {}: not an OCI seccomp profile (linux.seccomp JSON): {e}",
                        path.display()
                    )
                })?,
            )
        }
        None => None,
    };
    let mut env = p.env;
    env.extend(a.env);
    let mut keep_env = p.keep_env;
    keep_env.extend(a.keep_env);
    Ok(Options {
        command: a.command,
        rw: cat(p.rw, a.rw),
        ro: cat(p.ro, a.ro),
        hide: cat(p.hide, a.hide),
        tmpfs: cat(p.tmpfs, a.tmpfs),
        net: a.net || p.net.unwrap_or(false),
        memory,
        pids: a.pids.or(p.pids),
        cpus: a.cpus.or(p.cpus),
        require_limits: a.require_limits || p.require_limits.unwrap_or(false),
        keep_root: a.keep_root || p.keep_root.unwrap_or(false),
        env,
        keep_env,
        timeout,
        cwd: a.cwd.or(p.cwd),
        tty: std::io::stdin().is_terminal() && std::io::stdout().is_terminal(),
        seccomp,
        learn: a.learn.is_some(),
    })
}

/// Writes the learned profile, pretty JSON, replacing FILE.
fn write_profile(
    path: &std::path::Path,
    p: &ward_spec::seccomp::LinuxSeccomp,
) -> ward_runtime::Result<()> {
    let text = serde_json::to_string_pretty(p)
        .map_err(|e| ward_runtime::Error::Msg(format!("--learn: encoding the profile: {e}")))?;
    std::fs::write(path, text + "\n")
        .map_err(|e| ward_runtime::Error::Msg(format!("--learn {}: {e}", path.display())))
}

/// ward's default profile, compiled by build.rs (None in a cross build).
fn precompiled_seccomp() -> Option<sandbox::Program> {
    SECCOMP_FLAGS.parse().ok().map(|flags| sandbox::Program {
        bpf: SECCOMP_BPF.to_vec(),
        flags,
    })
}

fn sandbox_main(a: SandboxArgs) -> ExitCode {
    let (explain, json, learn) = (a.explain, a.json, a.learn.clone());
    let o = match options(a) {
        Ok(o) => o,
        Err(e) => return fail(e),
    };
    let host = match sandbox::Host::current() {
        Ok(h) => h,
        Err(e) => return fail(e),
    };
    let plan = match sandbox::plan(&o, &host) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    if explain {
        for l in &plan.layers {
            eprintln!("ward sandbox: {:<13} {} — {}", l.layer, l.detail, l.why);
        }
    }
    let precompiled = precompiled_seccomp();
    let result = match &learn {
        None => sandbox::run(&plan, precompiled),
        Some(path) => sandbox::learn(&plan).and_then(|(r, profile)| {
            write_profile(path, &profile)?;
            eprintln!(
                "ward sandbox: {} syscalls allowed, profile written to {} (use it with --seccomp)",
                profile
                    .syscalls
                    .iter()
                    .flat_map(|s| &s.names)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len(),
                path.display()
            );
            Ok(r)
        }),
    };
    let mut notes = plan.notes.clone();
    let code = match &result {
        Ok(r) => {
            notes.extend(r.notes.iter().cloned());
            r.exit_code
        }
        Err(e) if sandbox::is_not_found(e) => {
            eprintln!("ward sandbox: {}: command not found", o.command[0]);
            i32::from(EXIT_NOT_FOUND)
        }
        Err(e) => {
            eprintln!("ward sandbox: {e}");
            i32::from(EXIT_WARD_ERROR)
        }
    };
    if json {
        let report = serde_json::json!({
            "command": o.command,
            "exit_code": code,
            "error": result.as_ref().err().map(|e| e.to_string()),
            "layers": plan.layers,
            "notes": notes,
            "cgroup_paths": result.as_ref().map(|r| r.cgroup_paths.clone()).unwrap_or_default(),
            "landlock_abi": host.landlock_abi,
            "uid": host.uid,
            "gid": host.gid,
        });
        eprintln!("{report}");
    } else {
        for n in &notes {
            eprintln!("ward sandbox: note: {n}");
        }
    }
    // Exit here, without freeing the plan and the report: that would only
    // cost time, and copy-on-write faults in pages the sandbox's cleanup
    // process (forked by the run) still shares.
    std::process::exit(code.clamp(0, 255))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The precompiled program is loaded for the default profile without
    /// comparing them at run time: it must have been compiled from exactly
    /// the profile the sandbox puts in its spec.
    #[test]
    fn precompiled_seccomp_is_the_default_profile() {
        if SECCOMP_BPF.is_empty() {
            println!("SKIP: no precompiled program in this build (cross build)");
            return;
        }
        let now = serde_json::to_string(&sandbox::seccomp_profile()).expect("serialises");
        assert_eq!(SECCOMP_JSON, now);
        let compiled = ward_seccomp::compile(
            &sandbox::seccomp_profile(),
            &ward_seccomp::CompileOptions::default(),
        )
        .expect("compiles");
        assert_eq!(SECCOMP_BPF, compiled.bpf.as_slice());
        assert_eq!(SECCOMP_FLAGS, compiled.flags.to_string());
    }
}

//! `ward`: the user-facing CLI. `ward sandbox -- CMD` runs a host command
//! in a hardened sandbox (see docs/sandbox.md).

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use serde::Deserialize;
use ward_runtime::sandbox::{self, Options};

mod audit;

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

#[derive(Parser)]
#[command(
    name = "ward",
    version,
    about = "ward: containers and sandboxes, secure by default"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

// Parsed once per process: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Cmd {
    /// Run a host command in a hardened sandbox: read-only host, no network,
    /// no capabilities, seccomp, Landlock, cgroup limits.
    Sandbox(SandboxArgs),
    /// Audit container configs against the CIS Docker Benchmark (section 5).
    Audit(audit::AuditArgs),
}

#[derive(clap::Args)]
#[command(
    after_help = "Example: ward sandbox --rw . -- make test\n`ward sandbox --explain -- CMD` lists every layer and the threat it stops."
)]
struct SandboxArgs {
    /// Make PATH writable (bind-mounted read-write); repeatable.
    #[arg(long, value_name = "PATH")]
    rw: Vec<PathBuf>,
    /// Show PATH read-only (re-exposes a hidden path such as /run/x or ~/x).
    #[arg(long, value_name = "PATH")]
    ro: Vec<PathBuf>,
    /// Cover PATH with an empty tmpfs (a file reads as empty).
    #[arg(long, value_name = "PATH")]
    hide: Vec<PathBuf>,
    /// Mount an empty writable tmpfs on the directory PATH.
    #[arg(long, value_name = "PATH")]
    tmpfs: Vec<PathBuf>,
    /// Share the host network (default: only a loopback of its own).
    #[arg(long)]
    net: bool,
    /// Memory limit (e.g. 512m, 2g).
    #[arg(long, value_name = "SIZE")]
    memory: Option<String>,
    /// Process limit [default: 1024]; 0 for none.
    #[arg(long, value_name = "N")]
    pids: Option<i64>,
    /// CPU limit in CPUs (e.g. 0.5, 2).
    #[arg(long, value_name = "N")]
    cpus: Option<f64>,
    /// Fail instead of running without cgroup limits when cgroups are not usable.
    #[arg(long)]
    require_limits: bool,
    /// Started by root: run as the host's root (without capabilities), so
    /// that files only root may read are readable [default: root in the
    /// sandbox is the host's unprivileged nobody].
    #[arg(long)]
    keep_root: bool,
    /// Set an environment variable (K=V); repeatable.
    #[arg(long, value_name = "K=V")]
    env: Vec<String>,
    /// Keep the caller's variable K; repeatable.
    #[arg(long, value_name = "K")]
    keep_env: Vec<String>,
    /// Kill the sandbox after SECS seconds (exit 124).
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Working directory inside the sandbox [default: the current one].
    #[arg(long, value_name = "DIR")]
    cwd: Option<PathBuf>,
    /// Print every layer applied and why (on stderr) before running.
    #[arg(long)]
    explain: bool,
    /// Print a JSON report of what was applied (on stderr) after the run.
    #[arg(long)]
    json: bool,
    /// Use this OCI seccomp profile (JSON, e.g. from --learn) instead of ward's default one.
    #[arg(long, value_name = "FILE")]
    seccomp: Option<PathBuf>,
    /// Record the syscalls the command makes and write a minimal seccomp
    /// profile (OCI JSON) to FILE. For learning only: see docs/sandbox.md.
    #[arg(long, value_name = "FILE")]
    learn: Option<PathBuf>,
    /// Read flags from a TOML file (the flags given here are added to it).
    #[arg(long, value_name = "FILE")]
    profile: Option<PathBuf>,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    command: Vec<String>,
}

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
        Cmd::Audit(a) => audit::main(a),
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
    let precompiled = SECCOMP_FLAGS
        .parse()
        .ok()
        .map(|flags| sandbox::Precompiled {
            bpf: SECCOMP_BPF,
            flags,
        });
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

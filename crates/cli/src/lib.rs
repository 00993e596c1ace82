//! The command line of `ward`: definitions only, so that the binary and
//! the generator of its man pages and shell completions (tools/gen-docs)
//! read the same ones. The binary maps them onto the runtime.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use ward_policy::Severity;

#[derive(Parser)]
#[command(
    name = "ward",
    version,
    about = "ward: containers and sandboxes, secure by default"
)]
pub struct Cli {
    #[command(subcommand)]
    pub cmd: Cmd,
}

// Parsed once per process: the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum Cmd {
    /// Run a host command in a hardened sandbox: read-only host, no network,
    /// no capabilities, seccomp, Landlock, cgroup limits.
    Sandbox(SandboxArgs),
    /// Audit container configs (CIS Docker Benchmark section 5), the Docker
    /// host (`ward audit host`) or Dockerfiles (`ward audit dockerfile`).
    Audit(AuditArgs),
}

#[derive(clap::Args)]
#[command(
    after_help = "Example: ward sandbox --rw . -- make test\n`ward sandbox --explain -- CMD` lists every layer and the threat it stops."
)]
pub struct SandboxArgs {
    /// Make PATH writable (bind-mounted read-write); repeatable.
    #[arg(long, value_name = "PATH")]
    pub rw: Vec<PathBuf>,
    /// Show PATH read-only (re-exposes a hidden path such as /run/x or ~/x).
    #[arg(long, value_name = "PATH")]
    pub ro: Vec<PathBuf>,
    /// Cover PATH with an empty tmpfs (a file reads as empty).
    #[arg(long, value_name = "PATH")]
    pub hide: Vec<PathBuf>,
    /// Mount an empty writable tmpfs on the directory PATH.
    #[arg(long, value_name = "PATH")]
    pub tmpfs: Vec<PathBuf>,
    /// Share the host network (default: only a loopback of its own).
    #[arg(long)]
    pub net: bool,
    /// Memory limit (e.g. 512m, 2g).
    #[arg(long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// Process limit [default: 1024]; 0 for none.
    #[arg(long, value_name = "N")]
    pub pids: Option<i64>,
    /// CPU limit in CPUs (e.g. 0.5, 2).
    #[arg(long, value_name = "N")]
    pub cpus: Option<f64>,
    /// Fail instead of running without cgroup limits when cgroups are not usable.
    #[arg(long)]
    pub require_limits: bool,
    /// Started by root: run as the host's root (without capabilities), so
    /// that files only root may read are readable [default: root in the
    /// sandbox is the host's unprivileged nobody].
    #[arg(long)]
    pub keep_root: bool,
    /// Set an environment variable (K=V); repeatable.
    #[arg(long, value_name = "K=V")]
    pub env: Vec<String>,
    /// Keep the caller's variable K; repeatable.
    #[arg(long, value_name = "K")]
    pub keep_env: Vec<String>,
    /// Kill the sandbox after SECS seconds (exit 124).
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<f64>,
    /// Working directory inside the sandbox [default: the current one].
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
    /// Print every layer applied and why (on stderr) before running.
    #[arg(long)]
    pub explain: bool,
    /// Print a JSON report of what was applied (on stderr) after the run.
    #[arg(long)]
    pub json: bool,
    /// Use this OCI seccomp profile (JSON, e.g. from --learn) instead of ward's default one.
    #[arg(long, value_name = "FILE")]
    pub seccomp: Option<PathBuf>,
    /// Record the syscalls the command makes and write a minimal seccomp
    /// profile (OCI JSON) to FILE. For learning only: see docs/sandbox.md.
    #[arg(long, value_name = "FILE")]
    pub learn: Option<PathBuf>,
    /// Read flags from a TOML file (the flags given here are added to it).
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// The command and its arguments.
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(clap::Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Examples:\n  ward audit bundle/config.json\n  ward audit --root /run/ward --fail-on high\n  ward audit --json config.json | jq '.[].findings[].rule'\n  ward audit host --format sarif > host.sarif\n  ward audit dockerfile Dockerfile --fail-on high"
)]
pub struct AuditArgs {
    /// What to audit besides container configs (the host, Dockerfiles).
    #[command(subcommand)]
    pub target: Option<AuditTarget>,
    /// config.json files to audit.
    #[arg(value_name = "CONFIG.json")]
    pub configs: Vec<PathBuf>,
    /// Audit the containers (created, running, paused) of this ward-oci state root.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// JSON output: [{"target", "findings": [{"cis", "rule", "severity", "title", "detail", "why", "fix"}]}]
    /// (with --root also "id" and "status" of each container).
    #[arg(long)]
    pub json: bool,
    /// Output format: text, json (as --json) or sarif (SARIF 2.1.0, the
    /// finding model of `ward audit host`: ids container.RULE).
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub format: Option<Format>,
    /// Exit 1 when a finding is at or above this severity (info, low, medium, high, critical).
    #[arg(long = "fail-on", value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
}

/// `ward audit`'s output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Sarif,
}

/// The targets of `ward audit` other than container configs.
#[derive(Subcommand)]
pub enum AuditTarget {
    /// The Docker host: the daemon's effective configuration (daemon.json and
    /// the running dockerd's command line), its files' owners and modes, who
    /// can reach its socket, audit rules, and the running containers (CIS
    /// Docker Benchmark sections 1, 2, 3 and 5).
    Host(HostArgs),
    /// Dockerfiles: ADD, remote downloads, USER, secrets, unpinned bases, apt,
    /// setuid, HEALTHCHECK, ... (hadolint-like; CIS section 4).
    Dockerfile(DockerfileArgs),
}

/// The output options of the audit targets.
#[derive(clap::Args, Clone)]
pub struct OutputArgs {
    /// JSON output: [{"target", "findings": [{"id", "cis", "severity", "title",
    /// "seen", "file", "line", "why", "fix"}], "skipped": [{"id", "reason"}]}].
    #[arg(long)]
    pub json: bool,
    /// Output format: text, json (as --json) or sarif (SARIF 2.1.0).
    #[arg(long, value_name = "FORMAT", value_enum)]
    pub format: Option<Format>,
    /// Exit 1 when a finding is at or above this severity (info, low, medium, high, critical).
    #[arg(long = "fail-on", value_name = "SEVERITY", value_parser = parse_severity)]
    pub fail_on: Option<Severity>,
}

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  ward audit host\n  ward audit host --pid-file /run/docker.pid --fail-on high\n  ward audit host --format sarif > host.sarif"
)]
pub struct HostArgs {
    /// The daemon's daemon.json [default: the running dockerd's
    /// --config-file, else /etc/docker/daemon.json].
    #[arg(
        long = "config-file",
        visible_alias = "daemon-json",
        value_name = "FILE"
    )]
    pub config_file: Option<PathBuf>,
    /// The dockerd to audit, by its pid file [default: every running dockerd].
    #[arg(long = "pid-file", value_name = "FILE")]
    pub pid_file: Option<PathBuf>,
    /// Also audit the containers of this ward-oci state root.
    #[arg(long, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Do not ask the Docker API for the running containers.
    #[arg(long)]
    pub no_containers: bool,
    #[command(flatten)]
    pub output: OutputArgs,
}

#[derive(clap::Args)]
#[command(
    after_help = "Example: ward audit dockerfile Dockerfile build/Dockerfile.prod --format sarif"
)]
pub struct DockerfileArgs {
    /// Dockerfiles to audit.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::parse(s)
        .ok_or_else(|| format!("unknown severity {s:?}; one of info, low, medium, high, critical"))
}

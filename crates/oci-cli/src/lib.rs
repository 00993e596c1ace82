//! The command line of `ward-oci`: runc's contract, flag for flag, so that
//! Docker, containerd, Podman and Kubernetes can call ward where they call
//! runc. Definitions only; the binary maps them onto the runtime.

// Only ward-sys may hold `unsafe` (README: Crates).
#![forbid(unsafe_code)]

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "ward-oci",
    // runc's shape ("NAME version X", "commit:", "spec:"): Docker parses it.
    version = concat!("version ", env!("CARGO_PKG_VERSION"), "\ncommit: v", env!("CARGO_PKG_VERSION"), "\nspec: 1.2.0"),
    about = "ward's OCI runtime: runc's command line, every hardening layer on",
    disable_version_flag = true
)]
pub struct Cli {
    /// Enable debug logging.
    #[arg(long, global = true)]
    pub debug: bool,
    /// Log file (default: stderr).
    #[arg(long, global = true, value_name = "PATH")]
    pub log: Option<PathBuf>,
    /// Log format: text or json.
    #[arg(long = "log-format", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Root directory for container state (should be on tmpfs) [default:
    /// /run/ward; for a non-root user $XDG_RUNTIME_DIR/ward].
    #[arg(long, global = true)]
    pub root: Option<PathBuf>,
    /// Path to criu (accepted for compatibility; checkpointing is not supported).
    #[arg(long, global = true, hide = true)]
    pub criu: Option<String>,
    /// Use systemd for cgroups (cgroupsPath "slice:prefix:name").
    #[arg(long = "systemd-cgroup", global = true)]
    pub systemd_cgroup: bool,
    /// Rootless mode: true, false or auto. Not global: `spec --rootless`
    /// is a flag of its own, as in runc.
    #[arg(long, default_value = "auto")]
    pub rootless: String,
    /// Policy file (TOML) checked on every create, run, exec and update
    /// [default: /etc/ward/policy.toml when it exists, else the built-in
    /// defaults]. A file that cannot be parsed refuses every container.
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Audit log (JSON lines) [default: the policy's audit_log,
    /// /var/log/ward/audit.log].
    #[arg(long = "audit-log", global = true, value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
    /// Print the version.
    #[arg(short = 'v', long = "version", action = ArgAction::Version)]
    pub version: Option<bool>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
}

/// `spec --compat`: which template to write instead of ward's hardened one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Compat {
    Runc,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Container id.
    pub id: String,
    /// Bundle directory (default: the current directory).
    #[arg(short = 'b', long, default_value = ".")]
    pub bundle: PathBuf,
    /// AF_UNIX socket that receives the pty master (process.terminal).
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    /// File to write the container's pid to.
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    /// Use chroot instead of pivot_root (for a rootfs on a ramdisk).
    #[arg(long = "no-pivot")]
    pub no_pivot: bool,
    /// Do not create a new session keyring.
    #[arg(long = "no-new-keyring")]
    pub no_new_keyring: bool,
    /// Pass N file descriptors (3 .. 3+N) to the container.
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    /// Socket that receives a pidfd of the container's init.
    #[arg(long = "pidfd-socket")]
    pub pidfd_socket: Option<PathBuf>,
}

/// Exec carries many flags; the enum is parsed once per process, so its
/// size does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a container (it waits for `start`).
    Create(CreateArgs),
    /// Start a created container.
    Start { id: String },
    /// Create and start a container; in the foreground, exit with its code.
    Run {
        #[command(flatten)]
        create: CreateArgs,
        /// Detach from the container's process.
        #[arg(short = 'd', long)]
        detach: bool,
        /// Do not delete the container after it exits.
        #[arg(long)]
        keep: bool,
        /// Accepted for compatibility.
        #[arg(long = "no-subreaper")]
        no_subreaper: bool,
    },
    /// Print the state of a container as JSON.
    State { id: String },
    /// List containers.
    #[command(alias = "ls")]
    List {
        #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
        format: Format,
        #[arg(short = 'q', long)]
        quiet: bool,
    },
    /// Send a signal to a container's init (or to all its processes).
    Kill {
        id: String,
        /// Signal name (KILL, SIGKILL) or number (default TERM).
        #[arg(default_value = "SIGTERM")]
        signal: String,
        #[arg(short = 'a', long)]
        all: bool,
    },
    /// Delete a container and everything it holds.
    Delete {
        id: String,
        #[arg(short = 'f', long)]
        force: bool,
    },
    /// Run a new process inside a container.
    Exec(ExecArgs),
    /// List the processes of a container.
    Ps {
        id: String,
        #[arg(short = 'f', long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Arguments for ps(1) (table format).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// Freeze every process of a container.
    Pause { id: String },
    /// Thaw a paused container.
    Resume { id: String },
    /// Change the resource limits of a running container.
    Update(UpdateArgs),
    /// Print resource usage and OOM events as JSON lines.
    Events {
        id: String,
        /// Print the stats once and exit.
        #[arg(long)]
        stats: bool,
        /// Interval between stats (e.g. 5s, 500ms).
        #[arg(long, default_value = "5s")]
        interval: String,
    },
    /// Write a config.json template.
    Spec {
        #[arg(short = 'b', long)]
        bundle: Option<PathBuf>,
        #[arg(long)]
        rootless: bool,
        /// `runc`: runc's template instead of ward's hardened config.
        #[arg(long, value_enum)]
        compat: Option<Compat>,
    },
    /// Print the OCI features JSON of this runtime.
    Features,
}

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// The container id, then the command and its arguments (unless
    /// --process is given). As in runc, options end at the id: everything
    /// after it belongs to the command (`exec ID ls --color`).
    #[arg(value_name = "ID [COMMAND]...", required = true, num_args = 1.., trailing_var_arg = true, allow_hyphen_values = true)]
    pub id_and_command: Vec<String>,
    #[arg(long = "console-socket")]
    pub console_socket: Option<PathBuf>,
    #[arg(long)]
    pub cwd: Option<String>,
    #[arg(short = 'e', long = "env")]
    pub env: Vec<String>,
    #[arg(short = 't', long)]
    pub tty: bool,
    /// UID[:GID]
    #[arg(short = 'u', long)]
    pub user: Option<String>,
    #[arg(short = 'g', long = "additional-gids")]
    pub additional_gids: Vec<u32>,
    /// Path to a process.json.
    #[arg(short = 'p', long)]
    pub process: Option<PathBuf>,
    #[arg(short = 'd', long)]
    pub detach: bool,
    #[arg(long = "pid-file")]
    pub pid_file: Option<PathBuf>,
    #[arg(long = "process-label")]
    pub process_label: Option<String>,
    #[arg(long)]
    pub apparmor: Option<String>,
    #[arg(long = "no-new-privs")]
    pub no_new_privs: bool,
    /// Add a capability.
    #[arg(short = 'c', long = "cap")]
    pub cap: Vec<String>,
    #[arg(long = "preserve-fds", default_value_t = 0)]
    pub preserve_fds: u32,
    #[arg(long)]
    pub cgroup: Vec<String>,
    #[arg(long = "ignore-paused")]
    pub ignore_paused: bool,
    #[arg(long = "pidfd-socket")]
    pub pidfd_socket: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct UpdateArgs {
    pub id: String,
    /// JSON file with linux.resources to apply, or - for stdin (other flags are then ignored).
    #[arg(short = 'r', long)]
    pub resources: Option<String>,
    #[arg(long = "blkio-weight")]
    pub blkio_weight: Option<u16>,
    #[arg(long = "cpu-period")]
    pub cpu_period: Option<u64>,
    #[arg(long = "cpu-quota", allow_hyphen_values = true)]
    pub cpu_quota: Option<i64>,
    #[arg(long = "cpu-share")]
    pub cpu_share: Option<u64>,
    #[arg(long = "cpu-rt-period")]
    pub cpu_rt_period: Option<u64>,
    #[arg(long = "cpu-rt-runtime", allow_hyphen_values = true)]
    pub cpu_rt_runtime: Option<i64>,
    #[arg(long = "cpuset-cpus")]
    pub cpuset_cpus: Option<String>,
    #[arg(long = "cpuset-mems")]
    pub cpuset_mems: Option<String>,
    /// Memory limit (bytes, or with k/m/g).
    #[arg(long, allow_hyphen_values = true)]
    pub memory: Option<String>,
    #[arg(long = "memory-reservation", allow_hyphen_values = true)]
    pub memory_reservation: Option<String>,
    /// Memory + swap; -1 for unlimited.
    #[arg(long = "memory-swap", allow_hyphen_values = true)]
    pub memory_swap: Option<String>,
    #[arg(long = "pids-limit", allow_hyphen_values = true)]
    pub pids_limit: Option<i64>,
    #[arg(long = "l3-cache-schema")]
    pub l3_cache_schema: Option<String>,
    #[arg(long = "mem-bw-schema")]
    pub mem_bw_schema: Option<String>,
}

impl ExecArgs {
    /// The container id.
    pub fn id(&self) -> &str {
        self.id_and_command
            .first()
            .map(String::as_str)
            .unwrap_or("")
    }

    /// The command (empty with --process).
    pub fn command(&self) -> &[String] {
        self.id_and_command.get(1..).unwrap_or(&[])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containerd_style_invocations_parse() {
        let cli = Cli::try_parse_from([
            "ward-oci",
            "--root",
            "/run/x",
            "--log",
            "/tmp/log.json",
            "--log-format",
            "json",
            "create",
            "--bundle",
            "/b",
            "--pid-file",
            "/p",
            "--console-socket",
            "/s",
            "id1",
        ])
        .expect("parses");
        assert_eq!(cli.log_format, LogFormat::Json);
        assert!(
            matches!(cli.command, Command::Create(ref c) if c.id == "id1" && c.bundle.as_os_str() == "/b")
        );
        let cli = Cli::try_parse_from([
            "ward-oci",
            "exec",
            "--env",
            "A=1",
            "-t",
            "c1",
            "sh",
            "-c",
            "echo -n hi",
        ])
        .expect("parses");
        match cli.command {
            Command::Exec(e) => {
                assert_eq!(e.id(), "c1");
                assert_eq!(e.command(), ["sh", "-c", "echo -n hi"]);
                assert!(e.tty);
            }
            other => panic!("{other:?}"),
        }
        // Options end at the id, as in runc.
        let cli =
            Cli::try_parse_from(["ward-oci", "exec", "c1", "ls", "--cwd", "/x"]).expect("parses");
        match cli.command {
            Command::Exec(e) => {
                assert_eq!(e.command(), ["ls", "--cwd", "/x"]);
                assert!(e.cwd.is_none());
            }
            other => panic!("{other:?}"),
        }
        let cli = Cli::try_parse_from(["ward-oci", "kill", "c1", "9"]).expect("parses");
        assert!(matches!(cli.command, Command::Kill { ref signal, .. } if signal == "9"));
        let cli = Cli::try_parse_from(["ward-oci", "update", "--resources=/tmp/r.json", "c1"])
            .expect("parses");
        assert!(
            matches!(cli.command, Command::Update(ref u) if u.resources.as_deref() == Some("/tmp/r.json"))
        );
        let cli = Cli::try_parse_from([
            "ward-oci",
            "update",
            "--memory",
            "-1",
            "--pids-limit",
            "20",
            "c1",
        ])
        .expect("parses");
        assert!(
            matches!(cli.command, Command::Update(ref u) if u.memory.as_deref() == Some("-1") && u.pids_limit == Some(20))
        );
        let cli = Cli::try_parse_from(["ward-oci", "delete", "--force", "c1"]).expect("parses");
        assert!(matches!(cli.command, Command::Delete { force: true, .. }));
    }
}

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
    /// Manage images: pull, ls, inspect, rm, prune, load, save.
    Image(ImageArgs),
    /// Run a command in a new container from an image of the store, in the
    /// foreground, with every hardening layer on (docs/run.md).
    Run(RunArgs),
    /// Image trust: the keys that sign and verify images (docs/trust.md).
    #[command(subcommand)]
    Trust(TrustCmd),
    /// Serve Docker's authorization plugin protocol (`dockerd
    /// --authorization-plugin=ward`): judge container creates, execs,
    /// updates and image pulls with ward's policy.
    AuthzPlugin(AuthzPluginArgs),
}

#[derive(clap::Args)]
#[command(
    after_help = "Example: ward image pull oci:./layout --name localhost/app:1 && ward run --rm localhost/app:1 echo hi\n`ward run --explain IMAGE` lists every layer and the threat it stops. See docs/run.md."
)]
pub struct RunArgs {
    /// Remove the container's directory (its writable layer) when it exits.
    #[arg(long)]
    pub rm: bool,
    /// Set an environment variable (KEY=VALUE); repeatable.
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE")]
    pub env: Vec<String>,
    /// The working directory inside the container [default: the image's].
    #[arg(short = 'w', long = "workdir", value_name = "DIR")]
    pub workdir: Option<String>,
    /// USER[:GROUP], names or numbers [default: the image's USER, else root].
    #[arg(short = 'u', long = "user", value_name = "USER[:GROUP]")]
    pub user: Option<String>,
    /// Replace the image's Entrypoint ("" clears it).
    #[arg(long, value_name = "CMD")]
    pub entrypoint: Option<String>,
    /// Mount the container's root filesystem read-only (a tmpfs /tmp).
    #[arg(long)]
    pub read_only: bool,
    /// Memory limit: bytes, or with a k/m/g suffix.
    #[arg(short = 'm', long, value_name = "SIZE")]
    pub memory: Option<String>,
    /// The most processes and threads the container may have.
    #[arg(long, value_name = "N", default_value_t = 1024)]
    pub pids_limit: i64,
    /// CPU limit in CPUs (e.g. 0.5).
    #[arg(long, value_name = "N")]
    pub cpus: Option<f64>,
    /// The network: only `none` (a namespace with only lo) so far.
    #[arg(long, value_name = "MODE", default_value = "none")]
    pub network: String,
    /// The container's hostname [default: the first 12 digits of its id].
    #[arg(long, value_name = "NAME")]
    pub hostname: Option<String>,
    /// Print every hardening layer and why, then run.
    #[arg(long)]
    pub explain: bool,
    /// The image store (containers are kept in DIR/containers).
    #[arg(long, value_name = "DIR", default_value = "/var/lib/ward/images")]
    pub root: PathBuf,
    /// The image (as `ward image ls` names it).
    #[arg(value_name = "IMAGE")]
    pub image: String,
    /// The command and its arguments [default: the image's Cmd].
    #[arg(
        value_name = "CMD",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

#[derive(Subcommand)]
pub enum TrustCmd {
    /// Write a new ECDSA P-256 key pair: PREFIX.key (PKCS#8 PEM, mode 0600)
    /// and PREFIX.pub (PKIX PEM); never overwrites a file.
    Keygen(KeygenArgs),
}

#[derive(clap::Args)]
#[command(after_help = "Example: ward trust keygen --out /etc/ward/keys/release
Then name /etc/ward/keys/release.pub in keys = [...] of an [images.registries.\"HOST\"] table of /etc/ward/policy.toml,\nand sign with /etc/ward/keys/release.key (keep it secret, off the hosts that only verify).\nopenssl reads both files (`openssl pkey -in PREFIX.key -noout -text`).")]
pub struct KeygenArgs {
    /// Path prefix of the two files written (PREFIX.key, PREFIX.pub).
    #[arg(long, value_name = "PREFIX")]
    pub out: PathBuf,
    /// Write PREFIX.key in cosign's encrypted format (ENCRYPTED SIGSTORE
    /// PRIVATE KEY), with the password in $COSIGN_PASSWORD (as cosign), for
    /// `cosign sign --key` and skopeo's --sign-by-sigstore-private-key.
    #[arg(long)]
    pub cosign: bool,
}

#[derive(clap::Args)]
#[command(
    after_help = "Example: ward authz-plugin --policy /etc/ward/policy.toml &\n         dockerd --authorization-plugin=ward\nSee docs/authz-plugin.md."
)]
pub struct AuthzPluginArgs {
    /// The unix socket to listen on (dockerd finds plugin sockets in /run/docker/plugins).
    #[arg(
        long,
        value_name = "PATH",
        default_value = "/run/docker/plugins/ward.sock"
    )]
    pub socket: PathBuf,
    /// The policy file [default: /etc/ward/policy.toml when it exists, else the built-in defaults].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Append the audit records here (overrides the policy's audit_log).
    #[arg(long = "audit-log", value_name = "FILE")]
    pub audit_log: Option<PathBuf>,
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
    after_help = "Examples:\n  ward audit bundle/config.json\n  ward audit --root /run/ward --fail-on high\n  ward audit --json config.json | jq '.[].findings[].rule'\n  ward audit host --format sarif > host.sarif\n  ward audit dockerfile Dockerfile --fail-on high\n  ward audit image localhost/app:1"
)]
pub struct AuditArgs {
    /// What to audit besides container configs (the host, Dockerfiles, images).
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
    /// An image in ward's store: its USER, HEALTHCHECK, ENV and history, and
    /// its layers as shipped (setuid/setgid files, file capabilities, keys
    /// and credentials), and its trust status under the policy (CIS section 4).
    Image(ImageAuditArgs),
}

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  ward audit image localhost/app:1\n  ward audit image registry.example:5000/team/app:2 --root /var/lib/ward/images --fail-on high\n  ward audit image localhost/app:1 --format sarif > image.sarif"
)]
pub struct ImageAuditArgs {
    /// The image, as `ward image ls` names it.
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The image store.
    #[arg(long, value_name = "DIR", default_value = "/var/lib/ward/images")]
    pub root: PathBuf,
    /// The policy file whose [images] section gives the image's trust status
    /// [default: /etc/ward/policy.toml if it exists, else the built-in defaults].
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    #[command(flatten)]
    pub output: OutputArgs,
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

#[derive(clap::Args)]
#[command(
    after_help = "Examples:\n  ward image pull registry.example:5000/team/app:1\n  ward image sign registry.example:5000/team/app:1 --key release.key\n  ward image verify registry.example:5000/team/app:1\n  ward image pull oci:./layout:latest --name localhost/app:1\n  ward image load -i busybox.tar\n  ward image ls\n  ward image save -o app.tar localhost/app:1\nWhich registries, and whose signatures: [images] of the policy file (docs/trust.md). See docs/images.md."
)]
pub struct ImageArgs {
    /// The image store.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/var/lib/ward/images"
    )]
    pub root: PathBuf,
    /// The policy file whose [images] section says which registries are
    /// allowed and whose signatures they need [default: /etc/ward/policy.toml
    /// if it exists, else the built-in defaults, which allow no registry].
    #[arg(long, global = true, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Where registries' own CA certificates are: DIR/HOST:PORT/ca.crt (and
    /// client.cert/client.key for mutual TLS), the certs.d convention.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/etc/ward/certs.d"
    )]
    pub certs_dir: PathBuf,
    #[command(subcommand)]
    pub cmd: ImageCmd,
}

#[derive(Subcommand)]
pub enum ImageCmd {
    /// Copy an image into the store: from a registry (REGISTRY/REPO:TAG,
    /// under the trust policy: allowed registries, required signatures), an
    /// OCI layout (oci:DIR[:TAG]) or a docker-save archive
    /// (docker-archive:FILE[:REF]), verifying every blob.
    Pull(ImagePullArgs),
    /// Sign an image in its registry (cosign keyed format: the
    /// sha256-DIGEST.sig tag), with a key of `ward trust keygen`.
    Sign(ImageSignArgs),
    /// Check an image's signature in its registry: against the keys the
    /// policy names for it, or against --key.
    Verify(ImageVerifyArgs),
    /// List the images in the store.
    #[command(alias = "list")]
    Ls(ImageLsArgs),
    /// Show an image as JSON: digests, config, layers, platform, size.
    Inspect {
        /// The image (REGISTRY/REPOSITORY:TAG, as `ward image ls` shows it).
        #[arg(value_name = "REF")]
        reference: String,
    },
    /// Remove images from the store (their blobs go at the next `prune`).
    #[command(alias = "remove")]
    Rm {
        #[arg(required = true, value_name = "REF")]
        references: Vec<String>,
    },
    /// Delete every blob and unpacked layer that no image uses.
    Prune,
    /// Load the images of a docker-save archive or an OCI layout.
    Load(ImageLoadArgs),
    /// Write images to a docker-save archive or an OCI layout.
    Save(ImageSaveArgs),
}

#[derive(clap::Args)]
pub struct ImageSignArgs {
    /// The image in its registry (REGISTRY/REPOSITORY:TAG or @DIGEST).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// The private key (PKCS#8 PEM of `ward trust keygen`, or cosign's
    /// encrypted format with the password in $COSIGN_PASSWORD).
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,
}

#[derive(clap::Args)]
pub struct ImageVerifyArgs {
    /// The image in its registry (REGISTRY/REPOSITORY:TAG or @DIGEST).
    #[arg(value_name = "REF")]
    pub reference: String,
    /// Check against this public key (PEM) instead of the policy's keys.
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct ImagePullArgs {
    /// REGISTRY[:PORT]/REPOSITORY[:TAG|@DIGEST] (docker:// optional), or
    /// oci:DIR[:TAG] or docker-archive:FILE[:REF] (skopeo's transport names).
    #[arg(value_name = "SOURCE")]
    pub source: String,
    /// The name the image gets in the store [default: docker-archive: its
    /// name in the archive; oci: localhost/DIRNAME:TAG].
    #[arg(long, value_name = "REF")]
    pub name: Option<String>,
    /// The platform to take from a multi-platform image [default: this host's].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Keep the image's setuid/setgid bits and file capabilities, which
    /// ward strips by default (a binary that gains privileges is how a
    /// process in a container becomes root in it); recorded in the image
    /// (`ward image inspect`: keep_setid).
    #[arg(long)]
    pub keep_setid: bool,
}

#[derive(clap::Args)]
pub struct ImageLsArgs {
    /// Output format: table or json.
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    pub format: String,
}

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("from").required(true))]
pub struct ImageLoadArgs {
    /// A docker-save archive (uncompressed tar; classic or with an OCI layout).
    #[arg(short = 'i', long = "input", value_name = "ARCHIVE", group = "from")]
    pub input: Option<PathBuf>,
    /// An OCI image layout directory.
    #[arg(long, value_name = "DIR", group = "from")]
    pub layout: Option<PathBuf>,
    /// The platform to take from a multi-platform image [default: this host's].
    #[arg(long, value_name = "OS/ARCH[/VARIANT]")]
    pub platform: Option<String>,
    /// Keep the image's setuid/setgid bits and file capabilities, which
    /// ward strips by default (a binary that gains privileges is how a
    /// process in a container becomes root in it); recorded in the image
    /// (`ward image inspect`: keep_setid).
    #[arg(long)]
    pub keep_setid: bool,
}

#[derive(clap::Args)]
#[command(group = clap::ArgGroup::new("to").required(true))]
pub struct ImageSaveArgs {
    /// Write a docker-save archive (what docker load and podman load read).
    #[arg(short = 'o', long = "output", value_name = "FILE", group = "to")]
    pub output: Option<PathBuf>,
    /// Add the images to the OCI layout DIR (created when missing).
    #[arg(long, value_name = "DIR", group = "to")]
    pub layout: Option<PathBuf>,
    /// The images.
    #[arg(required = true, value_name = "REF")]
    pub references: Vec<String>,
}

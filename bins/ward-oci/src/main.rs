//! ward-oci: the OCI runtime binary. Glue only: arguments -> runtime calls
//! -> exit code and runc-style logs. Single-threaded by design: the
//! runtime forks, and a fork of a threaded process is unsafe.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use ward_gate::Gate;
use ward_oci_cli::{Cli, Command, Compat, CreateArgs, Format, LogFormat};
use ward_runtime::control;
use ward_runtime::lifecycle::{self, CreateOpts, ExecOpts, Global};
use ward_runtime::log;

fn create_opts(c: CreateArgs) -> CreateOpts {
    CreateOpts {
        id: c.id,
        bundle: c.bundle,
        console_socket: c.console_socket,
        pid_file: c.pid_file,
        no_pivot: c.no_pivot,
        no_new_keyring: c.no_new_keyring,
        preserve_fds: c.preserve_fds,
        pidfd_socket: c.pidfd_socket,
    }
}

fn print(s: &str) -> ward_runtime::Result<i32> {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
    Ok(0)
}

/// `--root`, or the default: /run/ward for root, $XDG_RUNTIME_DIR/ward for
/// anyone else (as runc does for rootless use).
fn state_root(given: Option<std::path::PathBuf>) -> ward_runtime::Result<std::path::PathBuf> {
    if let Some(r) = given {
        return Ok(r);
    }
    if nix::unistd::geteuid().is_root() {
        return Ok("/run/ward".into());
    }
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(d) if !d.is_empty() => Ok(std::path::PathBuf::from(d).join("ward")),
        _ => Err(ward_runtime::Error::Msg(
            "--root: not running as root and $XDG_RUNTIME_DIR is not set; give --root DIR".into(),
        )),
    }
}

/// The audit record's action, container id and bundle of a command
/// (None: not a lifecycle action).
fn audited(c: &Command) -> Option<(&'static str, &str, Option<&std::path::Path>)> {
    match c {
        Command::Create(a) => Some(("create", &a.id, Some(&a.bundle))),
        Command::Run { create, .. } => Some(("run", &create.id, Some(&create.bundle))),
        Command::Exec(e) => Some(("exec", e.id(), None)),
        Command::Update(u) => Some(("update", &u.id, None)),
        Command::Start { id } => Some(("start", id, None)),
        Command::Kill { id, .. } => Some(("kill", id, None)),
        Command::Delete { id, .. } => Some(("delete", id, None)),
        Command::Pause { id } => Some(("pause", id, None)),
        Command::Resume { id } => Some(("resume", id, None)),
        _ => None,
    }
}

fn dispatch(cli: Cli, gate: &Gate) -> ward_runtime::Result<i32> {
    // The policy is judged by create, run, exec and update themselves
    // (after parsing the config, before touching anything); the other
    // lifecycle actions are only recorded.
    if let Some((action, id, _)) = audited(&cli.command) {
        if matches!(action, "start" | "kill" | "delete" | "pause" | "resume") {
            gate.record(action, id);
        }
    }
    let g = Global {
        root: state_root(cli.root.clone())?,
        systemd_cgroup: cli.systemd_cgroup,
        debug: cli.debug,
    };
    match cli.command {
        Command::Create(c) => lifecycle::create(&g, gate, &create_opts(c)).map(|()| 0),
        Command::Start { id } => lifecycle::start(&g, &id).map(|()| 0),
        Command::Run {
            create,
            detach,
            keep,
            ..
        } => lifecycle::run(&g, gate, &create_opts(create), detach, keep),
        Command::State { id } => print(&(lifecycle::state(&g, &id)? + "\n")),
        Command::List { format, quiet } => {
            print(&lifecycle::list(&g, format == Format::Json, quiet)?)
        }
        Command::Kill { id, signal, all } => lifecycle::kill(&g, &id, &signal, all).map(|()| 0),
        Command::Delete { id, force } => lifecycle::delete(&g, &id, force).map(|()| 0),
        Command::Ps {
            id,
            format,
            ps_args,
        } => print(&lifecycle::ps(&g, &id, format == Format::Json, &ps_args)?),
        Command::Exec(e) if !e.cgroup.is_empty() => Err(ward_runtime::Error::Msg(
            "exec --cgroup: running in a sub-cgroup is not supported by ward yet".into(),
        )),
        Command::Exec(e) if e.pidfd_socket.is_some() => Err(ward_runtime::Error::Msg(
            "exec --pidfd-socket is not supported by ward yet".into(),
        )),
        Command::Exec(e) => lifecycle::exec(
            &g,
            gate,
            &ExecOpts {
                id: e.id().to_string(),
                command: e.command().to_vec(),
                process_file: e.process,
                console_socket: e.console_socket,
                cwd: e.cwd,
                env: e.env,
                tty: e.tty,
                user: e.user,
                additional_gids: e.additional_gids,
                detach: e.detach,
                pid_file: e.pid_file,
                no_new_privs: e.no_new_privs,
                caps: e.cap,
                preserve_fds: e.preserve_fds,
                apparmor: e.apparmor,
                process_label: e.process_label,
                ignore_paused: e.ignore_paused,
            },
        ),
        Command::Pause { id } => control::pause(&g, &id).map(|()| 0),
        Command::Resume { id } => control::resume(&g, &id).map(|()| 0),
        Command::Update(u) => control::update(
            &g,
            gate,
            &u.id,
            &control::UpdateFlags {
                resources: u.resources,
                blkio_weight: u.blkio_weight,
                cpu_period: u.cpu_period,
                cpu_quota: u.cpu_quota,
                cpu_share: u.cpu_share,
                cpu_rt_period: u.cpu_rt_period,
                cpu_rt_runtime: u.cpu_rt_runtime,
                cpuset_cpus: u.cpuset_cpus,
                cpuset_mems: u.cpuset_mems,
                memory: u.memory,
                memory_reservation: u.memory_reservation,
                memory_swap: u.memory_swap,
                pids_limit: u.pids_limit,
                l3_cache_schema: u.l3_cache_schema,
                mem_bw_schema: u.mem_bw_schema,
            },
        )
        .map(|()| 0),
        Command::Events {
            id,
            stats,
            interval,
        } => {
            let every = control::parse_interval(&interval)?;
            control::events(&g, &id, stats, every).map(|()| 0)
        }
        Command::Spec {
            bundle,
            rootless,
            compat,
        } => {
            let dir = bundle.unwrap_or_else(|| ".".into());
            let path = dir.join("config.json");
            if path.exists() {
                return Err(ward_runtime::Error::Msg(format!(
                    "{} already exists; remove it first",
                    path.display()
                )));
            }
            let spec = match compat {
                Some(Compat::Runc) => ward_runtime::template::default_spec(rootless),
                None => ward_runtime::template::hardened_spec(rootless),
            };
            let text = serde_json::to_string_pretty(&spec).unwrap_or_default();
            std::fs::write(&path, text + "\n").map_err(|e| {
                ward_runtime::Error::Msg(format!("writing {}: {e}", path.display()))
            })?;
            Ok(0)
        }
        Command::Features => print(
            &(serde_json::to_string_pretty(&ward_runtime::template::features())
                .unwrap_or_default()
                + "\n"),
        ),
    }
}

/// Commands whose processes enter a container re-execute ward-oci from a
/// sealed in-memory copy first (CVE-2019-5736: no process in a container
/// may reach a writable handle on the host binary).
fn protect_binary(cli: &Cli) -> Result<(), String> {
    if !matches!(
        cli.command,
        Command::Create(_) | Command::Run { .. } | Command::Exec(_)
    ) {
        return Ok(());
    }
    use ward_sys::selfexe;
    // An error here must not lead to a re-exec: the new process would find
    // the same error and loop.
    if selfexe::running_protected()
        .map_err(|e| format!("checking /proc/self/exe (CVE-2019-5736 protection): {e}"))?
    {
        return Ok(());
    }
    let handle = selfexe::readonly_mount()
        .or_else(|_| selfexe::sealed_copy())
        .map_err(|e| format!("protecting the ward-oci binary (CVE-2019-5736): {e}"))?;
    Err(format!(
        "re-executing ward-oci from a read-only handle (CVE-2019-5736): {}",
        selfexe::reexec(&handle)
    ))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(m) = protect_binary(&cli) {
        log::init(
            cli.log.clone(),
            cli.log_format == LogFormat::Json,
            cli.debug,
        );
        log::error(&m);
        return ExitCode::from(1);
    }
    log::init(
        cli.log.clone(),
        cli.log_format == LogFormat::Json,
        cli.debug,
    );
    let to_file = cli.log.is_some();
    let gate = Gate::new(
        ward_gate::load(cli.policy.as_deref()),
        cli.audit_log.clone(),
    );
    let what =
        audited(&cli.command).map(|(a, id, b)| (a, id.to_string(), b.map(|b| b.to_path_buf())));
    let result = dispatch(cli, &gate);
    if let Some((action, id, bundle)) = &what {
        let error = result.as_ref().err().map(|e| e.to_string());
        let outcome = match (&result, &error) {
            (Ok(code), _) => Ok(*code),
            (Err(_), e) => Err(e.as_deref().unwrap_or_default()),
        };
        gate.finish(action, id, bundle.as_deref(), outcome);
    }
    match result {
        Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
        Err(e) => {
            let m = e.to_string();
            log::error(&m);
            if to_file {
                // containerd reads the log file; people read stderr.
                eprintln!("ward-oci: {m}");
            }
            ExitCode::from(1)
        }
    }
}

//! ward-seccomp-exec: compile a seccomp profile, load it into this process,
//! then exec a command or probe syscalls. For ward's real-kernel tests and
//! for trying a profile by hand; the runtime itself compiles in the parent
//! and loads in the container's init.
//!
//! ```text
//! ward-seccomp-exec PROFILE [--no-nnp] MODE
//! PROFILE: --oci FILE | --docker FILE [--cap CAP]... | --ward-default
//! MODE:    exec CMD [ARG]...        load, then execve CMD
//!          probe NAME [ARG]...      load, then NAME(ARG...) via probe_syscall
//!          mkdir PATH               load, then mkdir(2)
//!          thread                   load, then start and join a thread
//!          notify NAME ARG          load, answer NAME's notifications from a
//!                                   supervisor thread (4242, then CONTINUE,
//!                                   then a new fd via ADDFD), probing thrice
//!          dump                     print what compiling produced, no load
//!          oci                      print the profile in OCI form (a Docker
//!                                   profile resolved for this host), no load
//! ```
//! Probe results print as `ok N` or `err ERRNO`.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};
use std::sync::mpsc;

use libseccomp::ScmpSyscall;
use ward_seccomp::{compile, docker, CompileOptions, CompiledFilter};
use ward_spec::seccomp::LinuxSeccomp;

fn usage(msg: &str) -> ExitCode {
    eprintln!("ward-seccomp-exec: {msg}");
    eprintln!("usage: ward-seccomp-exec (--oci FILE | --docker FILE [--cap CAP]... | --ward-default) [--no-nnp] MODE ...");
    ExitCode::from(2)
}

fn read(path: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
}

fn profile(kind: &str, file: Option<&str>, caps: &[String]) -> Result<LinuxSeccomp, String> {
    match (kind, file) {
        ("--oci", Some(f)) => LinuxSeccomp::from_json(&read(f)?).map_err(|e| e.to_string()),
        ("--docker", Some(f)) => {
            let caps: Vec<String> = if caps.is_empty() {
                docker::DEFAULT_CAPABILITIES
                    .iter()
                    .map(|c| c.to_string())
                    .collect()
            } else {
                caps.to_vec()
            };
            let target = docker::Target {
                caps: &caps,
                native: ward_seccomp::native_arch(),
                kernel: docker::KernelVersion::host().map_err(|e| e.to_string())?,
            };
            docker::load(&read(f)?, &target)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| "the Docker profile disables seccomp".to_string())
        }
        ("--ward-default", _) => Ok(ward_seccomp::default_profile()),
        _ => Err(format!("{kind} needs a file")),
    }
}

fn nr(name: &str) -> Result<libc::c_long, String> {
    if let Ok(n) = name.parse::<libc::c_long>() {
        return Ok(n);
    }
    ScmpSyscall::from_name(name)
        .map(|s| libc::c_long::from(i32::from(s)))
        .map_err(|e| format!("syscall {name}: {e}"))
}

fn parse_args(args: &[String]) -> Result<[u64; 6], String> {
    let mut out = [0u64; 6];
    if args.len() > 6 {
        return Err("at most 6 arguments".into());
    }
    for (slot, a) in out.iter_mut().zip(args) {
        *slot = match a.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16),
            None => a.parse::<i64>().map(|v| v as u64),
        }
        .map_err(|e| format!("argument {a:?}: {e}"))?;
    }
    Ok(out)
}

fn report(r: io::Result<libc::c_long>) {
    match r {
        Ok(v) => println!("ok {v}"),
        Err(e) => println!("err {}", e.raw_os_error().unwrap_or(-1)),
    }
}

fn load(filter: &CompiledFilter, nnp: bool) -> Result<Option<OwnedFd>, String> {
    if nnp {
        ward_sys::process::set_no_new_privs().map_err(|e| format!("no_new_privs: {e}"))?;
    }
    ward_sys::seccomp::load_filter(&filter.bpf, filter.flags)
        .map_err(|e| format!("loading the filter: {e}"))
}

/// Answers notifications on the listener it receives: the first with the
/// value 4242, the next with CONTINUE; reports the syscall numbers it saw.
fn supervisor(rx: mpsc::Receiver<OwnedFd>, done: mpsc::Sender<Vec<i32>>) {
    let Ok(listener) = rx.recv() else { return };
    let mut seen = Vec::new();
    for round in 0..3 {
        let req = match ward_sys::seccomp::notif_recv(listener.as_fd()) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("notif_recv: {e}");
                break;
            }
        };
        seen.push(req.data.nr);
        let valid = ward_sys::seccomp::notif_id_valid(listener.as_fd(), req.id).unwrap_or(false);
        let r = if !valid {
            Ok(())
        } else if round == 0 {
            ward_sys::seccomp::notif_respond_value(listener.as_fd(), req.id, 4242)
        } else if round == 1 {
            ward_sys::seccomp::notif_respond_continue(listener.as_fd(), req.id)
        } else {
            // Install our stdin in the caller as its answer (SECCOMP_ADDFD_FLAG_SEND).
            ward_sys::seccomp::notif_addfd(
                listener.as_fd(),
                req.id,
                io::stdin().as_fd(),
                None,
                true,
                true,
            )
            .map(drop)
        };
        if let Err(e) = r {
            eprintln!("notif_send: {e}");
        }
    }
    let _ = done.send(seen);
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let mut i = 0;
    let kind = args.first().ok_or("missing profile")?.clone();
    i += 1;
    let file = if kind == "--ward-default" {
        None
    } else {
        i += 1;
        Some(args.get(1).ok_or("missing profile file")?.as_str())
    };
    let mut caps = Vec::new();
    let mut nnp = true;
    loop {
        match args.get(i).map(String::as_str) {
            Some("--cap") => {
                caps.push(args.get(i + 1).ok_or("--cap needs a value")?.clone());
                i += 2;
            }
            Some("--no-nnp") => {
                nnp = false;
                i += 1;
            }
            _ => break,
        }
    }
    let profile = profile(&kind, file, &caps)?;
    let filter = compile(&profile, &CompileOptions::default()).map_err(|e| e.to_string())?;
    let mode = args.get(i).ok_or("missing mode")?.as_str();
    let rest = &args[i + 1..];
    match mode {
        "oci" => {
            let json = serde_json::to_string_pretty(&profile).map_err(|e| e.to_string())?;
            println!("{json}");
            Ok(ExitCode::SUCCESS)
        }
        "dump" => {
            println!("instructions {}", filter.len());
            println!("flags {:#x}", filter.flags);
            println!("stub {}", filter.enosys_stub_len);
            println!("enosys_above {:?}", filter.enosys_above);
            println!("unknown {}", filter.unknown_syscalls.join(","));
            Ok(ExitCode::SUCCESS)
        }
        "exec" => {
            let cmd = rest.first().ok_or("exec needs a command")?;
            load(&filter, nnp)?;
            let e = Command::new(cmd).args(&rest[1..]).exec();
            Err(format!("exec {cmd}: {e}"))
        }
        "probe" => {
            let n = nr(rest.first().ok_or("probe needs a syscall")?)?;
            let a = parse_args(&rest[1..])?;
            load(&filter, nnp)?;
            report(ward_sys::seccomp::probe_syscall(n, a));
            Ok(ExitCode::SUCCESS)
        }
        "mkdir" => {
            let path = rest.first().ok_or("mkdir needs a path")?;
            load(&filter, nnp)?;
            report(std::fs::create_dir(path).map(|()| 0));
            Ok(ExitCode::SUCCESS)
        }
        "thread" => {
            load(&filter, nnp)?;
            match std::thread::Builder::new().spawn(|| 7) {
                Ok(h) => println!("ok {}", h.join().unwrap_or(-1)),
                Err(e) => println!("err {}", e.raw_os_error().unwrap_or(-1)),
            }
            Ok(ExitCode::SUCCESS)
        }
        "notify" => {
            let n = nr(rest.first().ok_or("notify needs a syscall")?)?;
            let a = parse_args(&rest[1..])?;
            // The supervisor starts before the filter, so it is not filtered.
            let (fd_tx, fd_rx) = mpsc::channel();
            let (done_tx, done_rx) = mpsc::channel();
            let sup = std::thread::spawn(move || supervisor(fd_rx, done_tx));
            let listener = load(&filter, nnp)?.ok_or("the profile has no SCMP_ACT_NOTIFY rule")?;
            fd_tx.send(listener).map_err(|_| "supervisor gone")?;
            for _ in 0..3 {
                report(ward_sys::seccomp::probe_syscall(n, a));
            }
            let seen = done_rx.recv().map_err(|_| "supervisor failed")?;
            let _ = sup.join();
            println!("seen {seen:?}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown mode {other:?}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(msg) => usage(&msg),
    }
}

//! `ward run IMAGE [CMD...]`: the flags checked, the engine's run
//! (ward_engine::container), and Docker's exit codes: the command's, 125
//! for ward's own errors, 126 not executable, 127 not found.

use std::process::ExitCode;

use ward_cli::RunArgs;
use ward_engine::container::{self, Planned, Request, RunError, RunOptions};
use ward_image::Store;

const EXIT_WARD_ERROR: u8 = 125;
const EXIT_NOT_EXECUTABLE: u8 = 126;
const EXIT_NOT_FOUND: u8 = 127;

fn fail(m: impl std::fmt::Display) -> ExitCode {
    eprintln!("ward run: {m}");
    ExitCode::from(EXIT_WARD_ERROR)
}

pub fn main(a: RunArgs, seccomp: Option<ward_sandbox::Program>) -> ExitCode {
    if a.network != "none" {
        return fail(format!(
            "--network {}: only `none` (a network namespace with only lo) is supported so far",
            a.network
        ));
    }
    let memory = match a
        .memory
        .as_deref()
        .map(ward_sandbox::parse_size)
        .transpose()
    {
        Ok(m) => m,
        Err(e) => return fail(format!("--memory: {e}")),
    };
    let store = match Store::open(&a.root) {
        Ok(s) => s,
        Err(e) => return fail(format!("--root: {e}")),
    };
    let explain = a.explain;
    let mut on_plan = |p: &Planned| {
        if explain {
            for l in &p.layers {
                eprintln!("ward run: {:<14} {} — {}", l.layer, l.detail, l.why);
            }
            for w in &p.warnings {
                eprintln!("ward run: warning: {w}");
            }
        }
    };
    let first = a.command.first().cloned();
    let result = container::run(Request {
        store: &store,
        image: &a.image,
        options: RunOptions {
            command: a.command,
            entrypoint: a.entrypoint,
            env: a.env,
            workdir: a.workdir,
            user: a.user,
            read_only: a.read_only,
            memory,
            pids_limit: Some(a.pids_limit),
            cpus: a.cpus,
            hostname: a.hostname,
        },
        remove: a.rm,
        on_plan: &mut on_plan,
        seccomp,
    });
    match result {
        // The container's directory is gone or kept already: exit at once.
        Ok(code) => std::process::exit(code.clamp(0, 255)),
        Err(RunError::Runtime(e)) if ward_sandbox::is_not_found(&e) => {
            match first {
                Some(cmd) => eprintln!("ward run: {cmd}: executable file not found"),
                // The image's Entrypoint/Cmd: the runtime's text names it.
                None => eprintln!("ward run: {e}"),
            }
            ExitCode::from(EXIT_NOT_FOUND)
        }
        Err(RunError::Runtime(e)) if e.to_string().contains("exec: ") => {
            eprintln!("ward run: {e}");
            ExitCode::from(EXIT_NOT_EXECUTABLE)
        }
        Err(e) => fail(e),
    }
}

//! B. Terminals through `--console-socket`.

use std::time::Duration;

use ward_tests::console::ConsoleSocket;
use ward_tests::{ctx, skip};

const T: Duration = Duration::from_secs(10);

#[test]
fn create_sends_pty_master_over_console_socket() {
    let ctx = ctx!("console");
    let mut b = ctx.bundle(&[]);
    b.terminal(true);
    b.sh("tty; test -t 0 && test -t 1 && test -t 2 && echo ALL-TTY; echo TERM=$TERM");
    b.save().expect("save");
    let sock = ConsoleSocket::bind(&ctx.path("console.sock")).expect("bind console socket");
    let id = ctx.id("tty");
    let create = ctx
        .cmd(&[
            "create",
            "--console-socket",
            &sock.path.display().to_string(),
            "--bundle",
            &b.dir.display().to_string(),
            &id,
        ])
        .spawn()
        .expect("spawn create");
    let got = sock.receive(T).expect("receive pty master");
    let o = create.wait().expect("create finished").ok();
    // Exactly one fd, a terminal, with at least one byte of payload (runc
    // sends "/dev/ptmx", crun a single space).
    assert_eq!(got.fds.len(), 1, "fds received: {got:?}; create: {o}");
    assert!(!got.payload.is_empty(), "no payload with the fd");
    let master = &got.fds[0];
    assert!(master.is_tty(), "received fd is not a terminal");
    assert_eq!(ctx.status(&id), "created");

    ctx.start(&id).ok();
    let out = master.read_all(T).expect("read the container's output");
    let out = String::from_utf8_lossy(&out);
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    assert!(
        lines.first().is_some_and(|l| l.starts_with("/dev/pts/")),
        "tty output: {out:?}"
    );
    assert!(lines.contains(&"ALL-TTY"), "stdio not the pty: {out:?}");
    assert!(lines.contains(&"TERM=xterm"), "{out:?}");
    // The pty turns \n into \r\n: proof that it is a real terminal line discipline.
    assert!(out.contains("\r\n"), "{out:?}");
    ctx.wait_status(&id, "stopped", T);
    ctx.delete(&id).ok();
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

#[test]
fn exec_tty_detach_with_console_socket() {
    let ctx = ctx!("exec-tty");
    let b = ctx.bundle(&["sleep", "30"]);
    let id = ctx.id("etty");
    ctx.run_detached(&b, &id).ok();
    ctx.wait_status(&id, "running", T);
    let sock = ConsoleSocket::bind(&ctx.path("exec.sock")).expect("bind");
    // runc only accepts --console-socket with --detach for exec.
    let exec = ctx
        .cmd(&[
            "exec",
            "--tty",
            "--detach",
            "--console-socket",
            &sock.path.display().to_string(),
            &id,
            "sh",
            "-c",
            "tty; echo EXEC-TTY",
        ])
        .spawn()
        .expect("spawn exec");
    let got = sock.receive(T).expect("receive pty master");
    exec.wait().expect("exec finished").ok();
    assert_eq!(got.fds.len(), 1);
    let out = got.fds[0].read_all(T).expect("read");
    let out = String::from_utf8_lossy(&out);
    assert!(out.starts_with("/dev/pts/"), "{out:?}");
    assert!(out.contains("EXEC-TTY"), "{out:?}");
}

#[test]
fn terminal_without_console_socket_is_rejected_by_create() {
    let ctx = ctx!("tty-nosock");
    let mut b = ctx.bundle(&["true"]);
    b.terminal(true);
    let id = ctx.id("nosock");
    ctx.create(&b, &id)
        .fails_mentioning(&["console", "tty", "terminal"]);
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

#[test]
fn console_socket_without_terminal_is_rejected() {
    let ctx = ctx!("sock-notty");
    let b = ctx.bundle(&["true"]);
    let sock = ConsoleSocket::bind(&ctx.path("c.sock")).expect("bind");
    b.save().expect("save");
    let id = ctx.id("notty");
    let o = ctx.rt(&[
        "create",
        "--console-socket",
        &sock.path.display().to_string(),
        "--bundle",
        &b.dir.display().to_string(),
        &id,
    ]);
    if ctx.is_crun() && o.success() {
        skip!(
            ctx,
            "crun 1.8.1 accepts --console-socket with process.terminal=false"
        );
    }
    o.fails_mentioning(&["console", "tty", "terminal"]);
    ctx.assert_no_leftovers(&id, &b.dir, None);
}

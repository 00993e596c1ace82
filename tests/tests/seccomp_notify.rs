//! SCMP_ACT_NOTIFY with linux.seccomp.listenerPath: the runtime hands the
//! filter's listener to an agent, with the container process state, and the
//! agent answers the container's syscalls. Observed from inside: `mkdir` on
//! a read-only root "succeeds" because the agent said so.

use std::os::fd::AsFd;
use std::os::unix::net::UnixListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use ward_tests::{ctx, json, Value};

/// What the agent saw: the state message and how many calls it answered.
type AgentResult = Result<(Value, u32), String>;

/// An agent on `sock` that receives the listener with the container's
/// state and answers every notified syscall with success (0), until
/// `stop`: returns the state message and how many calls it answered.
fn spawn_agent(sock: &std::path::Path) -> (std::thread::JoinHandle<AgentResult>, Arc<AtomicBool>) {
    let listener = UnixListener::bind(sock).expect("bind agent socket");
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let agent = std::thread::spawn(move || -> AgentResult {
        let (conn, _) = listener.accept().map_err(|e| format!("accept: {e}"))?;
        let (bytes, mut fds) = ward_sys::socket::recv_with_fds(conn.as_fd(), 1 << 16)
            .map_err(|e| format!("recv: {e}"))?;
        let msg: Value =
            serde_json::from_slice(&bytes).map_err(|e| format!("state is not JSON: {e}"))?;
        let fd = fds.pop().ok_or("no listener fd came with the state")?;
        let mut answered = 0;
        while !stop2.load(Ordering::SeqCst) {
            let mut p = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
            match poll(&mut p, PollTimeout::from(100u16)) {
                Ok(0) => continue,
                Ok(_) => {}
                Err(e) => return Err(format!("poll: {e}")),
            }
            if p[0]
                .revents()
                .is_some_and(|r| r.contains(PollFlags::POLLHUP))
            {
                break;
            }
            let n = match ward_sys::seccomp::notif_recv(fd.as_fd()) {
                Ok(n) => n,
                Err(_) => break,
            };
            // Pretend every notified call (mkdir) succeeded.
            if ward_sys::seccomp::notif_respond_value(fd.as_fd(), n.id, 0).is_ok() {
                answered += 1;
            }
        }
        Ok((msg, answered))
    });
    (agent, stop)
}

#[test]
fn notify_agent_answers_the_containers_syscalls() {
    let ctx = ctx!("seccomp-notify");
    let sock = ctx.path("agent.sock");
    let (agent, stop) = spawn_agent(&sock);
    let mut b = ctx.bundle(&[]);
    b.config["linux"]["seccomp"] = json!({
        "defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": sock.display().to_string(),
        "listenerMetadata": "ward-test-metadata",
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]
    });
    let o = ctx.sh(&mut b, "mkdir /made-by-agent && echo mkdir-ok; ls -d /made-by-agent 2>/dev/null || echo not-really-made");
    stop.store(true, Ordering::SeqCst);
    let (msg, answered) = match agent.join() {
        Ok(r) => r.unwrap_or_else(|e| panic!("agent: {e}; container: {o}")),
        Err(_) => panic!("agent thread panicked; container: {o}"),
    };
    assert!(
        o.lines().contains(&"mkdir-ok".to_string()),
        "the agent's answer did not reach the container: {o}"
    );
    assert!(o.lines().contains(&"not-really-made".to_string()), "{o}");
    assert!(answered >= 1, "the agent answered nothing");
    assert_eq!(msg["fds"], json!(["seccompFd"]), "{msg}");
    assert_eq!(msg["metadata"], "ward-test-metadata", "{msg}");
    assert!(msg["pid"].as_i64().is_some_and(|p| p > 0), "{msg}");
    assert!(
        msg["state"]["id"]
            .as_str()
            .is_some_and(|i| i.starts_with("wt-sh-")),
        "{msg}"
    );
}

/// A notify filter is loaded before the runtime's last steps (its listener
/// must reach the agent before `create` returns), so its agent could fake
/// the close_range that drops the runtime's fds — as could a profile that
/// answers close_range with ERRNO 0. The caller's fd 3 must still not
/// reach the container, with or without no_new_privileges.
#[test]
fn notify_profile_keeps_no_fd_of_the_caller() {
    let ctx = ctx!("seccomp-notify-fds");
    let secret = ctx.path("fd3.txt");
    std::fs::write(&secret, "not for the container\n").expect("write");
    let faked_by_agent = json!([{"names": ["close_range"], "action": "SCMP_ACT_NOTIFY"}]);
    let faked_by_errno = json!([
        {"names": ["acct"], "action": "SCMP_ACT_NOTIFY"},
        {"names": ["close_range"], "action": "SCMP_ACT_ERRNO", "errnoRet": 0}
    ]);
    for (tag, syscalls) in [("agent", faked_by_agent), ("errno", faked_by_errno)] {
        for nnp in [false, true] {
            let sock = ctx.path(&format!("agent-{tag}-{nnp}.sock"));
            let (agent, stop) = spawn_agent(&sock);
            let mut b = ctx.bundle(&[]);
            b.config["process"]["noNewPrivileges"] = json!(nnp);
            b.config["linux"]["seccomp"] = json!({
                "defaultAction": "SCMP_ACT_ALLOW",
                "listenerPath": sock.display().to_string(),
                "syscalls": syscalls,
            });
            b.sh("ls /proc/$$/fd; echo end");
            b.save().expect("save");
            let id = ctx.id("snfd");
            let o = ctx
                .cmd(&["run", "--bundle", &b.dir.display().to_string(), &id])
                .fd3(&secret)
                .run();
            stop.store(true, Ordering::SeqCst);
            let _ = agent.join();
            let what = format!("close_range faked by the {tag}, noNewPrivileges {nnp}");
            assert!(o.success(), "{what}: {o}");
            let fds: Vec<_> = o.lines().into_iter().take_while(|l| l != "end").collect();
            assert_eq!(fds, ["0", "1", "2"], "{what}: {o}");
        }
    }
}

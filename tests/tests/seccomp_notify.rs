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

#[test]
fn notify_agent_answers_the_containers_syscalls() {
    let ctx = ctx!("seccomp-notify");
    let sock = ctx.path("agent.sock");
    let listener = UnixListener::bind(&sock).expect("bind agent socket");
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let agent = std::thread::spawn(move || -> Result<(Value, u32), String> {
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

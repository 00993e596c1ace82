//! A. What a user sees from inside a container started by the runtime.

use std::collections::BTreeMap;

use ward_tests::host::{self, mount_at, parse_mounts};
use ward_tests::{ctx, json, skip};

/// Lines `key=value` of the output into a map.
fn kv(out: &str) -> BTreeMap<String, String> {
    out.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

#[test]
fn process_is_pid_1_of_a_new_pid_namespace() {
    let ctx = ctx!("pid1");
    let mut b = ctx.bundle(&[]);
    let o = ctx.sh(
        &mut b,
        "echo pid=$$; echo cmd=$(tr '\\0' ' ' </proc/1/cmdline); echo procs=$(ls -d /proc/[0-9]* | wc -l)",
    );
    let m = kv(&o.stdout);
    assert_eq!(m.get("pid").map(String::as_str), Some("1"), "{o}");
    let cmd = m.get("cmd").cloned().unwrap_or_default();
    assert!(
        cmd.starts_with("sh -c echo pid="),
        "/proc/1 is not our process: {o}"
    );
    // sh, the subshell running ls, and ls: nothing of the host is visible.
    let procs: usize = m.get("procs").and_then(|p| p.parse().ok()).unwrap_or(0);
    assert!((1..=4).contains(&procs), "too many processes visible: {o}");
}

#[test]
fn hostname_is_the_configured_one() {
    let ctx = ctx!("hostname");
    let mut b = ctx.bundle(&[]);
    b.hostname("ward-ctr-7");
    let o = ctx.sh(&mut b, "hostname; cat /proc/sys/kernel/hostname");
    assert_eq!(o.lines(), vec!["ward-ctr-7", "ward-ctr-7"], "{o}");
}

#[test]
fn network_namespace_has_only_lo() {
    let ctx = ctx!("netns");
    let mut b = ctx.bundle(&[]);
    let o = ctx.sh(&mut b, "ls /sys/class/net; echo ---; ip -o link");
    let (sys, ip) = o.stdout.split_once("---").expect("separator in output");
    let sys: Vec<&str> = sys.split_whitespace().collect();
    assert_eq!(sys, vec!["lo"], "/sys/class/net: {o}");
    let links: Vec<&str> = ip.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(links.len(), 1, "ip -o link: {o}");
    assert!(links[0].contains(": lo:"), "ip -o link: {o}");
}

#[test]
fn namespaces_differ_from_the_host() {
    let ctx = ctx!("ns");
    let mut b = ctx.bundle(&[]);
    let kinds = ["pid", "net", "ipc", "uts", "mnt", "cgroup", "user"];
    if !std::path::Path::new("/proc/self/ns/cgroup").exists() {
        skip!(ctx, "kernel without cgroup namespaces");
    }
    let script: String = kinds
        .iter()
        .map(|k| format!("echo {k}=$(readlink /proc/self/ns/{k});"))
        .collect();
    let o = ctx.sh(&mut b, &script);
    let m = kv(&o.stdout);
    for k in kinds {
        let inside = m.get(k).cloned().unwrap_or_default();
        let outside = host::host_ns(k);
        assert!(
            inside.starts_with(&format!("{k}:[")),
            "no {k} ns link inside: {o}"
        );
        if k == "user" {
            // No user namespace is configured: the container shares the host's.
            assert_eq!(inside, outside, "user namespace should be the host's: {o}");
        } else {
            assert_ne!(inside, outside, "{k} namespace is the host's: {o}");
        }
    }
}

#[test]
fn user_group_and_additional_gids() {
    let ctx = ctx!("user");
    let mut b = ctx.bundle(&[]);
    b.user(1000, 1001, &[5, 7]);
    let o = ctx.sh(&mut b, "id; grep -E '^(Uid|Gid|Groups):' /proc/self/status");
    let lines = o.lines();
    assert_eq!(lines[0], "uid=1000 gid=1001 groups=5,7", "{o}");
    let status: BTreeMap<String, Vec<String>> = lines[1..]
        .iter()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| {
            (
                k.to_string(),
                v.split_whitespace().map(String::from).collect(),
            )
        })
        .collect();
    assert_eq!(status["Uid"], vec!["1000"; 4], "{o}");
    assert_eq!(status["Gid"], vec!["1001"; 4], "{o}");
    assert_eq!(status["Groups"], vec!["5", "7"], "{o}");
}

#[test]
fn umask_default_and_configured() {
    let ctx = ctx!("umask");
    let mut b = ctx.bundle(&[]);
    let o = ctx.sh(&mut b, "umask");
    assert_eq!(o.lines(), vec!["0022"], "default umask: {o}");
    b.umask(0o077);
    let o = ctx.sh(&mut b, "umask; touch /tmp/f 2>/dev/null; true");
    assert_eq!(o.lines(), vec!["0077"], "configured umask 0077 (63): {o}");
}

#[test]
fn cwd_is_applied_and_created() {
    let ctx = ctx!("cwd");
    let mut b = ctx.bundle(&[]);
    b.cwd("/tmp");
    let o = ctx.sh(&mut b, "pwd");
    assert_eq!(o.lines(), vec!["/tmp"], "{o}");
    // A cwd missing from the rootfs is created by the runtime (runc and crun
    // both do, even with a read-only root).
    b.cwd("/made/by/runtime");
    let o = ctx.sh(&mut b, "pwd");
    assert_eq!(o.lines(), vec!["/made/by/runtime"], "{o}");
}

#[test]
fn env_is_exactly_the_configured_one() {
    let ctx = ctx!("env");
    let mut b = ctx.bundle(&[]);
    b.env(&[
        ward_tests::bundle::DEFAULT_PATH,
        "FOO=bar baz",
        "EMPTY=",
        "TERM=dumb",
    ]);
    b.sh("env");
    b.save().expect("save config");
    let id = ctx.id("env");
    // A variable of the runtime's own environment must not leak in.
    let o = ctx
        .cmd(&["run", "--bundle", &b.dir.display().to_string(), &id])
        .env("WARD_LEAK_CANARY", "leaked")
        .run()
        .ok();
    let lines = o.lines();
    for want in [
        ward_tests::bundle::DEFAULT_PATH,
        "FOO=bar baz",
        "EMPTY=",
        "TERM=dumb",
    ] {
        assert!(lines.iter().any(|l| l == want), "missing {want:?}: {o}");
    }
    assert!(
        !o.stdout.contains("WARD_LEAK_CANARY"),
        "host env leaked: {o}"
    );
}

#[test]
fn rlimits_are_applied() {
    let ctx = ctx!("rlimit");
    let mut b = ctx.bundle(&[]);
    let o = ctx.sh(&mut b, "ulimit -n; ulimit -Hn");
    assert_eq!(o.lines(), vec!["1024", "1024"], "template NOFILE 1024: {o}");
    b.config["process"]["rlimits"] = json!([
        { "type": "RLIMIT_NOFILE", "soft": 777, "hard": 888 },
        { "type": "RLIMIT_NPROC", "soft": 333, "hard": 444 }
    ]);
    let o = ctx.sh(
        &mut b,
        "ulimit -n; ulimit -Hn; grep -E '^Max (open files|processes)' /proc/self/limits",
    );
    let l = o.lines();
    assert_eq!(&l[..2], &["777", "888"], "{o}");
    let fields = |prefix: &str| -> Vec<String> {
        l.iter()
            .find(|x| x.starts_with(prefix))
            .map(|x| {
                x[prefix.len()..]
                    .split_whitespace()
                    .take(2)
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(fields("Max open files"), vec!["777", "888"], "{o}");
    assert_eq!(fields("Max processes"), vec!["333", "444"], "{o}");
}

#[test]
fn mounts_have_the_configured_flags() {
    let ctx = ctx!("mounts");
    let mut b = ctx.bundle(&[]);
    let data = b.dir.join("data");
    std::fs::create_dir_all(&data).expect("mkdir data");
    std::fs::write(data.join("hello"), "hello from the bundle\n").expect("write");
    b.mount(json!({
        "destination": "/data", "type": "bind", "source": data.display().to_string(),
        "options": ["rbind", "ro", "nosuid", "nodev", "noexec"]
    }));
    // A relative bind source is relative to the bundle directory.
    b.mount(json!({
        "destination": "/data-rel", "type": "bind", "source": "data", "options": ["rbind"]
    }));
    let o = ctx.sh(
        &mut b,
        "cat /proc/self/mounts; echo ---; cat /data/hello; cat /data-rel/hello; \
         touch /data/new 2>/dev/null && echo data-writable; \
         touch /x 2>/dev/null && echo root-writable; echo ---",
    );
    let (mounts, rest) = o.stdout.split_once("---").expect("separator");
    let m = parse_mounts(mounts);
    let get = |t: &str| mount_at(&m, t).unwrap_or_else(|| panic!("no mount at {t}: {o}"));

    assert!(get("/").has("ro"), "rootfs not read-only: {o}");
    assert_eq!(get("/proc").fstype, "proc", "{o}");
    let dev = get("/dev");
    assert!(dev.fstype == "tmpfs" && dev.has("nosuid"), "/dev: {dev:?}");
    let pts = get("/dev/pts");
    assert!(
        pts.fstype == "devpts" && pts.has("nosuid") && pts.has("noexec"),
        "/dev/pts: {pts:?}"
    );
    let shm = get("/dev/shm");
    assert!(
        shm.fstype == "tmpfs" && shm.has("nosuid") && shm.has("nodev") && shm.has("noexec"),
        "/dev/shm: {shm:?}"
    );
    let mq = get("/dev/mqueue");
    assert!(
        mq.fstype == "mqueue" && mq.has("nosuid") && mq.has("nodev") && mq.has("noexec"),
        "/dev/mqueue: {mq:?}"
    );
    let sys = get("/sys");
    assert!(
        sys.fstype == "sysfs"
            && sys.has("ro")
            && sys.has("nosuid")
            && sys.has("nodev")
            && sys.has("noexec"),
        "/sys: {sys:?}"
    );
    // /sys/fs/cgroup: a mount is there, and every cgroup filesystem under it is read-only.
    assert!(
        m.iter().any(|e| e.target == "/sys/fs/cgroup"),
        "nothing mounted at /sys/fs/cgroup: {o}"
    );
    for e in m.iter().filter(|e| {
        e.target.starts_with("/sys/fs/cgroup") && (e.fstype == "cgroup" || e.fstype == "cgroup2")
    }) {
        assert!(e.has("ro"), "cgroup mount not read-only: {e:?}");
    }
    let d = get("/data");
    for f in ["ro", "nosuid", "nodev", "noexec"] {
        assert!(d.has(f), "/data lacks {f}: {d:?}");
    }
    assert_eq!(
        rest.matches("hello from the bundle").count(),
        2,
        "bind mount content (absolute and relative source): {o}"
    );
    assert!(
        mount_at(&m, "/data-rel").is_some(),
        "no mount at /data-rel: {o}"
    );
    assert!(!rest.contains("data-writable"), "/data is writable: {o}");
    assert!(
        !rest.contains("root-writable"),
        "read-only rootfs is writable: {o}"
    );
    assert!(!data.join("new").exists(), "write went through to the host");
}

#[test]
fn rootfs_is_writable_when_not_readonly() {
    let ctx = ctx!("rootfs-rw");
    let mut b = ctx.bundle(&[]);
    b.readonly(false);
    let o = ctx.sh(
        &mut b,
        "echo written > /x && cat /x; grep ' / ' /proc/self/mounts",
    );
    assert_eq!(o.lines()[0], "written", "{o}");
    let m = parse_mounts(&o.stdout);
    assert!(mount_at(&m, "/").is_some_and(|r| r.has("rw")), "{o}");
    let on_host = std::fs::read_to_string(b.rootfs().join("x")).expect("/x on the host");
    assert_eq!(on_host, "written\n");
}

#[test]
fn dev_has_the_standard_nodes_and_links() {
    let ctx = ctx!("dev");
    let mut b = ctx.bundle(&[]);
    let o = ctx.sh(
        &mut b,
        "for d in null zero full random urandom tty; do echo \"$d $(stat -c '%F %t %T' /dev/$d)\"; done; \
         for l in ptmx fd stdin stdout stderr; do echo \"$l -> $(readlink /dev/$l)\"; done; \
         test -d /dev/shm && echo shm-dir; test -d /dev/pts && echo pts-dir; \
         test -c /dev/pts/ptmx && echo pts-ptmx",
    );
    let lines = o.lines();
    for (d, maj, min) in [
        ("null", 1, 3),
        ("zero", 1, 5),
        ("full", 1, 7),
        ("random", 1, 8),
        ("urandom", 1, 9),
        ("tty", 5, 0),
    ] {
        // stat prints major/minor in hex.
        let want = format!("{d} character special file {maj:x} {min:x}");
        assert!(lines.contains(&want), "want {want:?}: {o}");
    }
    for (l, target) in [
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        let want = format!("{l} -> {target}");
        assert!(lines.contains(&want), "want {want:?}: {o}");
    }
    for w in ["shm-dir", "pts-dir", "pts-ptmx"] {
        assert!(lines.iter().any(|l| l == w), "want {w}: {o}");
    }
}

#[test]
fn only_stdio_fds_are_open_in_the_container() {
    let ctx = ctx!("fds");
    let mut b = ctx.bundle(&[]);
    b.sh("ls /proc/1/fd; echo end");
    b.save().expect("save");
    let secret = ctx.path("fd3.txt");
    std::fs::write(&secret, "not for the container\n").expect("write");
    let id = ctx.id("fds");
    // The runtime itself gets an fd 3; without --preserve-fds it must not leak.
    let o = ctx
        .cmd(&["run", "--bundle", &b.dir.display().to_string(), &id])
        .fd3(&secret)
        .run()
        .ok();
    assert_eq!(o.lines(), vec!["0", "1", "2", "end"], "{o}");
}

#[test]
fn preserve_fds_passes_fd_3() {
    let ctx = ctx!("preserve-fds");
    let mut b = ctx.bundle(&[]);
    b.sh("ls /proc/1/fd; echo end; cat <&3");
    b.save().expect("save");
    let file = ctx.path("fd3.txt");
    std::fs::write(&file, "fd3 says hello\n").expect("write");
    let id = ctx.id("pfds");
    let o = ctx
        .cmd(&[
            "run",
            "--preserve-fds",
            "1",
            "--bundle",
            &b.dir.display().to_string(),
            &id,
        ])
        .fd3(&file)
        .run()
        .ok();
    assert_eq!(
        o.lines(),
        vec!["0", "1", "2", "3", "end", "fd3 says hello"],
        "{o}"
    );
}

#[test]
fn config_device_is_created() {
    let ctx = ctx!("device");
    let mut b = ctx.bundle(&[]);
    b.device(json!({
        "path": "/dev/mydev", "type": "c", "major": 1, "minor": 3,
        "fileMode": 0o640, "uid": 0, "gid": 0
    }));
    let o = ctx.sh(
        &mut b,
        "stat -c '%F %t %T %a' /dev/mydev; echo hi > /dev/mydev && echo write-ok",
    );
    assert_eq!(
        o.lines(),
        vec!["character special file 1 3 640", "write-ok"],
        "{o}"
    );
}

#[test]
fn sysctls_are_applied() {
    let ctx = ctx!("sysctl");
    let mut b = ctx.bundle(&[]);
    b.sysctl("kernel.domainname", "ward.example");
    b.sysctl("net.ipv4.ip_forward", "1");
    // The slash form, which runc accepts since 1.1 (the same sysctl).
    b.sysctl("net/ipv4/tcp_syncookies", "0");
    let o = ctx.sh(
        &mut b,
        "cat /proc/sys/kernel/domainname /proc/sys/net/ipv4/ip_forward /proc/sys/net/ipv4/tcp_syncookies",
    );
    assert_eq!(o.lines(), vec!["ward.example", "1", "0"], "{o}");
    let host = std::fs::read_to_string("/proc/sys/kernel/domainname").unwrap_or_default();
    assert_ne!(host.trim(), "ward.example", "sysctl leaked to the host");
}

#[test]
fn masked_and_readonly_paths() {
    let ctx = ctx!("masked");
    let mut b = ctx.bundle(&[]);
    // A default masked /proc file that has content on this host.
    let host_masked = [
        "/proc/kcore",
        "/proc/timer_list",
        "/proc/sched_debug",
        "/proc/keys",
    ]
    .into_iter()
    .find(|p| std::fs::read(p).map(|c| !c.is_empty()).unwrap_or(false));
    let Some(host_masked) = host_masked else {
        skip!(ctx, "none of /proc/kcore, /proc/timer_list, /proc/sched_debug, /proc/keys has content on this host");
    };
    let rootfs = b.rootfs();
    std::fs::write(rootfs.join("etc/secret"), "top secret\n").expect("write");
    std::fs::create_dir_all(rootfs.join("etc/secretdir")).expect("mkdir");
    std::fs::write(rootfs.join("etc/secretdir/f"), "x").expect("write");
    std::fs::create_dir_all(rootfs.join("etc/rodir")).expect("mkdir");
    b.readonly(false);
    for p in ["/etc/secret", "/etc/secretdir"] {
        b.config["linux"]["maskedPaths"]
            .as_array_mut()
            .expect("maskedPaths")
            .push(json!(p));
    }
    b.config["linux"]["readonlyPaths"]
        .as_array_mut()
        .expect("readonlyPaths")
        .push(json!("/etc/rodir"));
    let o = ctx.sh(
        &mut b,
        &format!(
            "echo masked=$(cat {host_masked} | wc -c); \
             echo secret=$(cat /etc/secret | wc -c); \
             echo secretdir=$(ls /etc/secretdir | wc -l); \
             echo firmware=$(ls /sys/firmware 2>/dev/null | wc -l); \
             echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo procsys=rw || echo procsys=ro; \
             touch /etc/rodir/x 2>/dev/null && echo rodir=rw || echo rodir=ro; \
             touch /etc/x 2>/dev/null && echo etc=rw || echo etc=ro"
        ),
    );
    let m = kv(&o.stdout);
    let want = [
        ("masked", "0"),
        ("secret", "0"),
        ("secretdir", "0"),
        ("firmware", "0"),
        ("procsys", "ro"),
        ("rodir", "ro"),
        ("etc", "rw"),
    ];
    for (k, v) in want {
        assert_eq!(
            m.get(k).map(String::as_str),
            Some(v),
            "{k} ({host_masked}): {o}"
        );
    }
}

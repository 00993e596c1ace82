//! OCI bundles with a busybox-static rootfs and a `runc spec`-like config.

use std::io;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

/// Host busybox copied into every rootfs.
pub const BUSYBOX: &str = "/bin/busybox";

/// Applets linked into /bin of the rootfs.
pub const APPLETS: &[&str] = &[
    "sh", "cat", "ls", "id", "hostname", "ip", "sleep", "echo", "true", "false", "env", "readlink",
    "stat", "grep", "wc", "mount", "pwd", "kill", "ps", "head", "tr", "test", "tty", "touch",
    "mkdir", "sed", "printf", "uname",
];

/// The default capability set of `runc spec`.
pub const DEFAULT_CAPS: &[&str] = &["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"];

/// Standard PATH of `runc spec`.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// A bundle directory: `dir/rootfs` + `dir/config.json`.
///
/// `config` is edited in memory (directly or with the helpers) and written by
/// [`Bundle::save`]; the `Ctx` helpers that start containers save first.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// Absolute bundle directory.
    pub dir: PathBuf,
    /// The config.json to write.
    pub config: Value,
}

/// The template: what `runc spec` (runc 1.1, spec 1.0.2-dev) prints, with
/// `terminal: false`, the given args, and a cgroup namespace added.
pub fn spec_template(args: &[&str]) -> Value {
    json!({
        "ociVersion": "1.0.2-dev",
        "process": {
            "terminal": false,
            "user": { "uid": 0, "gid": 0 },
            "args": args,
            "env": [DEFAULT_PATH, "TERM=xterm"],
            "cwd": "/",
            "capabilities": {
                "bounding": DEFAULT_CAPS,
                "effective": DEFAULT_CAPS,
                "permitted": DEFAULT_CAPS,
                "ambient": DEFAULT_CAPS
            },
            "rlimits": [ { "type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024 } ],
            "noNewPrivileges": true
        },
        "root": { "path": "rootfs", "readonly": true },
        "hostname": "runc",
        "mounts": [
            { "destination": "/proc", "type": "proc", "source": "proc" },
            { "destination": "/dev", "type": "tmpfs", "source": "tmpfs",
              "options": ["nosuid", "strictatime", "mode=755", "size=65536k"] },
            { "destination": "/dev/pts", "type": "devpts", "source": "devpts",
              "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"] },
            { "destination": "/dev/shm", "type": "tmpfs", "source": "shm",
              "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"] },
            { "destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
              "options": ["nosuid", "noexec", "nodev"] },
            { "destination": "/sys", "type": "sysfs", "source": "sysfs",
              "options": ["nosuid", "noexec", "nodev", "ro"] },
            { "destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
              "options": ["nosuid", "noexec", "nodev", "relatime", "ro"] }
        ],
        "linux": {
            "resources": { "devices": [ { "allow": false, "access": "rwm" } ] },
            "namespaces": [
                { "type": "pid" }, { "type": "network" }, { "type": "ipc" },
                { "type": "uts" }, { "type": "mount" }, { "type": "cgroup" }
            ],
            "maskedPaths": [
                "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/sys/firmware", "/proc/scsi"
            ],
            "readonlyPaths": [
                "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"
            ]
        }
    })
}

impl Bundle {
    /// Create `dir` with a busybox rootfs and the template config (not yet
    /// written: call [`Bundle::save`] or let a `Ctx` helper do it).
    pub fn create(dir: &Path, args: &[&str]) -> io::Result<Bundle> {
        let rootfs = dir.join("rootfs");
        for d in ["bin", "proc", "dev", "sys", "tmp", "etc", "root"] {
            std::fs::create_dir_all(rootfs.join(d))?;
        }
        std::fs::copy(BUSYBOX, rootfs.join("bin/busybox"))?;
        for a in APPLETS {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(a))?;
        }
        std::fs::write(
            rootfs.join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
        )?;
        std::fs::write(rootfs.join("etc/group"), "root:x:0:\nnogroup:x:65534:\n")?;
        Ok(Bundle {
            dir: dir.to_path_buf(),
            config: spec_template(args),
        })
    }

    /// `dir/rootfs`.
    pub fn rootfs(&self) -> PathBuf {
        self.dir.join("rootfs")
    }

    /// `dir/config.json`.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("config.json")
    }

    /// Write config.json.
    pub fn save(&self) -> io::Result<()> {
        let text = serde_json::to_string_pretty(&self.config).map_err(io::Error::other)?;
        std::fs::write(self.config_path(), text)
    }

    /// process.args
    pub fn args(&mut self, args: &[&str]) -> &mut Self {
        self.config["process"]["args"] = json!(args);
        self
    }

    /// process.args = ["sh", "-c", script]
    pub fn sh(&mut self, script: &str) -> &mut Self {
        self.args(&["sh", "-c", script])
    }

    /// Replace process.env.
    pub fn env(&mut self, env: &[&str]) -> &mut Self {
        self.config["process"]["env"] = json!(env);
        self
    }

    /// process.cwd
    pub fn cwd(&mut self, cwd: &str) -> &mut Self {
        self.config["process"]["cwd"] = json!(cwd);
        self
    }

    /// process.user (uid, gid, additionalGids).
    pub fn user(&mut self, uid: u32, gid: u32, additional: &[u32]) -> &mut Self {
        let mut u = json!({ "uid": uid, "gid": gid });
        if !additional.is_empty() {
            u["additionalGids"] = json!(additional);
        }
        self.config["process"]["user"] = u;
        self
    }

    /// process.user.umask
    pub fn umask(&mut self, umask: u32) -> &mut Self {
        self.config["process"]["user"]["umask"] = json!(umask);
        self
    }

    /// process.terminal
    pub fn terminal(&mut self, on: bool) -> &mut Self {
        self.config["process"]["terminal"] = json!(on);
        self
    }

    /// hostname
    pub fn hostname(&mut self, h: &str) -> &mut Self {
        self.config["hostname"] = json!(h);
        self
    }

    /// root.readonly
    pub fn readonly(&mut self, ro: bool) -> &mut Self {
        self.config["root"]["readonly"] = json!(ro);
        self
    }

    /// Append to mounts.
    pub fn mount(&mut self, m: Value) -> &mut Self {
        if let Some(a) = self.config["mounts"].as_array_mut() {
            a.push(m);
        } else {
            self.config["mounts"] = json!([m]);
        }
        self
    }

    /// Append a hook of kind `kind` (createRuntime, prestart, poststart, ...).
    pub fn hook(&mut self, kind: &str, hook: Value) -> &mut Self {
        if let Some(a) = self.config["hooks"][kind].as_array_mut() {
            a.push(hook);
        } else {
            self.config["hooks"][kind] = json!([hook]);
        }
        self
    }

    /// Append to linux.namespaces.
    pub fn namespace(&mut self, ns: Value) -> &mut Self {
        if let Some(a) = self.config["linux"]["namespaces"].as_array_mut() {
            a.push(ns);
        }
        self
    }

    /// Append to linux.devices.
    pub fn device(&mut self, dev: Value) -> &mut Self {
        if let Some(a) = self.config["linux"]["devices"].as_array_mut() {
            a.push(dev);
        } else {
            self.config["linux"]["devices"] = json!([dev]);
        }
        self
    }

    /// Set linux.sysctl[key] = value.
    pub fn sysctl(&mut self, key: &str, value: &str) -> &mut Self {
        self.config["linux"]["sysctl"][key] = json!(value);
        self
    }

    /// Set annotations[key] = value.
    pub fn annotation(&mut self, key: &str, value: &str) -> &mut Self {
        self.config["annotations"][key] = json!(value);
        self
    }
}

//! The OCI config of `ward run`: ward-oci's hardened template
//! (`ward_runtime::template::hardened_spec`: user namespace on a
//! subordinate id range, no capabilities, no_new_privs, ward's seccomp
//! profile, masked and read-only paths, a new network namespace with only
//! `lo`, the device cgroup closed) with the image's Entrypoint, Cmd, Env,
//! WorkingDir and User and the flags on top. Each layer comes with the
//! line `ward run --explain` prints for it.

use std::path::Path;

use serde_json::Value;
use ward_spec::resources::{LinuxCpu, LinuxMemory, LinuxPids};
use ward_spec::{IdMapping, Spec};

/// Default `--pids-limit`: enough for a web server's workers or a parallel
/// build, a wall for a fork bomb. Podman's default is 2048 and Docker has
/// none; ward keeps the sandbox's and ward-oci's 1024.
pub const DEFAULT_PIDS: i64 = 1024;

/// The image config's fields `ward run` honours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImageConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
}

impl ImageConfig {
    /// From an OCI/Docker image config document (`config` object).
    pub fn from_json(doc: &Value) -> ImageConfig {
        let c = &doc["config"];
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
        ImageConfig {
            entrypoint: strings(&c["Entrypoint"]),
            cmd: strings(&c["Cmd"]),
            env: strings(&c["Env"]),
            working_dir: text(&c["WorkingDir"]),
            user: text(&c["User"]),
        }
    }
}

/// The flags of `ward run` that shape the config.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// CMD... after the image name (replaces the image's Cmd).
    pub command: Vec<String>,
    /// `--entrypoint`: replaces the image's Entrypoint ("" clears it).
    pub entrypoint: Option<String>,
    /// `-e K=V`.
    pub env: Vec<String>,
    pub workdir: Option<String>,
    /// `-u USER[:GROUP]`.
    pub user: Option<String>,
    pub read_only: bool,
    /// Bytes.
    pub memory: Option<i64>,
    pub pids_limit: Option<i64>,
    pub cpus: Option<f64>,
    pub hostname: Option<String>,
}

/// One `--explain` line: the layer, its values, and the threat it stops.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Layer {
    pub layer: &'static str,
    pub detail: String,
    pub why: &'static str,
}

/// The config and its explanation.
#[derive(Debug, Clone)]
pub struct Planned {
    pub spec: Spec,
    pub layers: Vec<Layer>,
    pub warnings: Vec<String>,
}

const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The hardened template, as a typed spec.
pub fn hardened() -> Result<Spec, String> {
    serde_json::from_value(ward_runtime::template::hardened_spec(false))
        .map_err(|e| format!("internal: the hardened template: {e}"))
}

/// The container's root's host uid and gid (the first line of the maps).
pub fn root_host_ids(spec: &Spec) -> Option<(u32, u32)> {
    let l = spec.linux.as_ref()?;
    let first = |m: &[IdMapping]| m.iter().find(|m| m.container_id == 0).map(|m| m.host_id);
    Some((first(&l.uid_mappings)?, first(&l.gid_mappings)?))
}

/// The `/proc/PID/uid_map` text of mappings.
pub fn map_text(maps: &[IdMapping]) -> String {
    maps.iter()
        .map(|m| format!("{} {} {}\n", m.container_id, m.host_id, m.size))
        .collect()
}

/// The argv: Entrypoint (or `--entrypoint`) then Cmd (or CMD...), as
/// Docker combines them.
pub fn argv(img: &ImageConfig, o: &RunOptions) -> Result<Vec<String>, String> {
    let mut args: Vec<String> = match &o.entrypoint {
        Some(e) if e.is_empty() => Vec::new(),
        Some(e) => vec![e.clone()],
        None => img.entrypoint.clone(),
    };
    if !o.command.is_empty() {
        args.extend(o.command.iter().cloned());
    } else if o.entrypoint.is_none() {
        args.extend(img.cmd.iter().cloned());
    }
    if args.first().is_none_or(|a| a.is_empty()) {
        return Err(
            "the image has no Entrypoint or Cmd and none was given: ward run IMAGE CMD [ARGS...]"
                .into(),
        );
    }
    Ok(args)
}

/// The environment: PATH's default, the image's Env, then `-e`.
pub fn environment(img: &ImageConfig, o: &RunOptions) -> Result<Vec<String>, String> {
    let mut env: Vec<String> = vec![DEFAULT_PATH.into()];
    let set = |kv: &str, env: &mut Vec<String>| {
        let k = kv.split('=').next().unwrap_or_default();
        env.retain(|e| e.split('=').next() != Some(k));
        env.push(kv.to_owned());
    };
    for kv in &img.env {
        set(kv, &mut env);
    }
    for kv in &o.env {
        match kv.split_once('=') {
            Some((k, _)) if !k.is_empty() && !kv.contains('\0') => set(kv, &mut env),
            _ => return Err(format!("-e {kv:?}: expected KEY=VALUE (e.g. -e DEBUG=1)")),
        }
    }
    Ok(env)
}

/// Builds the config for a rootfs at `rootfs` (absolute), with the
/// process's `uid` and `gid` (resolved by the caller from the image).
pub fn plan(
    img: &ImageConfig,
    o: &RunOptions,
    rootfs: &Path,
    (uid, gid): (u32, u32),
    hostname: &str,
) -> Result<Planned, String> {
    let mut spec = hardened()?;
    let mut layers = Vec::new();
    let mut warnings = Vec::new();
    let mut line = |layer, detail: String, why| layers.push(Layer { layer, detail, why });
    let args = argv(img, o)?;
    let env = environment(img, o)?;
    let cwd = o
        .workdir
        .clone()
        .or_else(|| Some(img.working_dir.clone()).filter(|w| !w.is_empty()))
        .unwrap_or_else(|| "/".into());
    if !cwd.starts_with('/') {
        return Err(format!("-w {cwd:?}: give an absolute path"));
    }
    let p = spec.process.get_or_insert_with(Default::default);
    p.terminal = false;
    p.args = args;
    p.env = env;
    p.cwd = cwd;
    p.user.uid = uid;
    p.user.gid = gid;
    spec.hostname = Some(hostname.to_owned());
    spec.annotations.clear();
    // The sandbox's variant of ward's profile: native ABI only, and
    // TIOCSTI/TIOCLINUX denied, since the container shares the caller's
    // terminal (stdio inherited). bins/ward precompiles exactly this one.
    spec.linux.get_or_insert_with(Default::default).seccomp =
        Some(ward_seccomp::sandbox::profile());
    let root = spec.root.get_or_insert_with(Default::default);
    root.path = rootfs.to_string_lossy().into_owned();
    root.readonly = o.read_only;
    if !o.read_only {
        // The template's tmpfs /tmp backs a read-only root; a writable
        // root keeps the image's /tmp, as Docker does.
        spec.mounts.retain(|m| m.destination != "/tmp");
    }
    let (host_uid, host_gid) =
        root_host_ids(&spec).ok_or("internal: the template has no user namespace")?;
    let size = spec
        .linux
        .as_ref()
        .and_then(|l| l.uid_mappings.first())
        .map_or(0, |m| m.size);
    line("user namespace", format!("the image's ids 0..{size} are the host's {host_uid}.. (gid {host_gid}..), a subordinate range (/etc/subuid's entry for root, else 100000:65536); the image's layers are id-mapped, not copied"),
        "root in the container is an unprivileged id on the host: an escape lands without any host privilege");
    if uid == 0 {
        warnings.push("the image runs as root inside (no USER in the image, no -u): root of the user namespace only, but use -u UID to drop it when the program allows".into());
    }
    line(
        "process",
        format!(
            "uid {uid} gid {gid}, cwd {}, argv {:?}",
            p_cwd(&spec),
            spec.process
                .as_ref()
                .map(|p| p.args.clone())
                .unwrap_or_default()
        ),
        "the image's Entrypoint/Cmd/Env/WorkingDir/User, overridden only by flags",
    );
    line(
        "capabilities",
        "none in any set (ward-oci's hardened template)".into(),
        "no privileged operation even on the container's own namespaces",
    );
    line(
        "no_new_privs",
        "set".into(),
        "setuid/setgid files and file capabilities grant nothing",
    );
    line("seccomp", "ward's default profile (EPERM for what is not allowed), native ABI only, TIOCSTI/TIOCLINUX denied".into(),
        "no mount, unshare, setns, ptrace, bpf, keyctl, io_uring...; no typing into the caller's terminal");
    line(
        "masked paths",
        "Docker's masked and read-only /proc and /sys paths, plus /sys/kernel/security".into(),
        "no kernel memory, keys or LSM policy interfaces; no writes to /proc/sys",
    );
    line(
        "network",
        "a new network namespace with only lo (down); --network none is the only mode so far"
            .into(),
        "no traffic to other containers, the host or the internet",
    );
    line(
        "namespaces",
        "new pid, mount, ipc, uts, cgroup, network and user namespaces".into(),
        "the container sees no host process, IPC object, hostname or cgroup tree",
    );
    line(
        "rootfs",
        format!(
            "an overlay of the image's layers with a per-container upper layer{}",
            if o.read_only {
                ", mounted read-only (--read-only), tmpfs /tmp"
            } else {
                "; writable (--read-only to forbid writes)"
            }
        ),
        "the image's layers are shared read-only; a container's writes stay in its own upper layer",
    );
    limits(&mut spec, o, &mut line)?;
    Ok(Planned {
        spec,
        layers,
        warnings,
    })
}

fn p_cwd(spec: &Spec) -> String {
    spec.process
        .as_ref()
        .map(|p| p.cwd.clone())
        .unwrap_or_default()
}

/// The cgroup limits: pids (default [`DEFAULT_PIDS`]), memory and cpus only
/// when asked (the template's memory default is not a Docker user's
/// expectation and no flag could lift it).
fn limits(
    spec: &mut Spec,
    o: &RunOptions,
    line: &mut impl FnMut(&'static str, String, &'static str),
) -> Result<(), String> {
    let pids = o.pids_limit.unwrap_or(DEFAULT_PIDS);
    if pids < 1 {
        return Err(format!("--pids-limit {pids}: give a positive number"));
    }
    let r = spec
        .linux
        .get_or_insert_with(Default::default)
        .resources
        .get_or_insert_with(Default::default);
    r.pids = Some(LinuxPids { limit: Some(pids) });
    r.memory = o.memory.map(|m| LinuxMemory {
        limit: Some(m),
        ..LinuxMemory::default()
    });
    let mut text = vec![format!("pids.max={pids}")];
    if let Some(m) = o.memory {
        if m < 1 {
            return Err(format!("--memory {m}: give a positive size"));
        }
        text.push(format!("memory={m} bytes"));
    }
    r.cpu = match o.cpus {
        Some(c) if !(c.is_finite() && c > 0.0) => {
            return Err(format!("--cpus {c}: give a positive number (e.g. 0.5, 2)"))
        }
        Some(c) => {
            text.push(format!("cpu={c}"));
            let period = 100_000u64;
            Some(LinuxCpu {
                quota: Some((c * period as f64).round().max(1000.0) as i64),
                period: Some(period),
                ..LinuxCpu::default()
            })
        }
        None => None,
    };
    line(
        "cgroups",
        format!("{}; devices denied", text.join(", ")),
        "a fork bomb or a memory hog stops at the container, not at the host",
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn img() -> ImageConfig {
        ImageConfig::from_json(&json!({"config": {
            "Entrypoint": ["/bin/tini", "--"], "Cmd": ["sh"],
            "Env": ["PATH=/opt/bin:/bin", "A=1"], "WorkingDir": "/srv", "User": "1000"}}))
    }

    #[test]
    fn argv_combines_entrypoint_and_cmd_as_docker() {
        let o = RunOptions::default();
        assert_eq!(argv(&img(), &o).expect("argv"), ["/bin/tini", "--", "sh"]);
        let o = RunOptions {
            command: vec!["ls".into()],
            ..o
        };
        assert_eq!(argv(&img(), &o).expect("argv"), ["/bin/tini", "--", "ls"]);
        let o = RunOptions {
            entrypoint: Some("/bin/env".into()),
            command: vec![],
            ..o
        };
        assert_eq!(argv(&img(), &o).expect("argv"), ["/bin/env"]);
        let o = RunOptions {
            entrypoint: Some(String::new()),
            ..o
        };
        assert!(argv(&img(), &o).is_err());
    }

    #[test]
    fn env_image_then_flags() {
        let o = RunOptions {
            env: vec!["A=2".into(), "B=x=y".into()],
            ..RunOptions::default()
        };
        assert_eq!(
            environment(&img(), &o).expect("env"),
            ["PATH=/opt/bin:/bin", "A=2", "B=x=y"]
        );
        let bad = RunOptions {
            env: vec!["=1".into()],
            ..RunOptions::default()
        };
        assert!(environment(&img(), &bad).is_err());
    }

    #[test]
    fn plan_keeps_every_hardening_layer() {
        let o = RunOptions::default();
        let p = plan(&img(), &o, Path::new("/x/merged"), (1000, 1000), "h").expect("plan");
        let s = &p.spec;
        let proc_ = s.process.as_ref().expect("process");
        assert!(proc_.no_new_privileges);
        let caps = proc_.capabilities.as_ref().expect("caps");
        assert_eq!(caps.bounding.as_deref(), Some(&[][..]));
        let l = s.linux.as_ref().expect("linux");
        assert!(l.seccomp.is_some());
        assert!(!l.masked_paths.is_empty());
        assert!(root_host_ids(s).is_some_and(|(u, _)| u != 0));
        let r = l.resources.as_ref().expect("resources");
        assert_eq!(r.pids.as_ref().and_then(|p| p.limit), Some(DEFAULT_PIDS));
        assert!(r.memory.is_none());
        assert_eq!(proc_.cwd, "/srv");
        assert!(!s.root.as_ref().expect("root").readonly);
        assert!(p.warnings.is_empty());
        let ro = RunOptions {
            read_only: true,
            ..RunOptions::default()
        };
        let p = plan(
            &ImageConfig {
                cmd: vec!["sh".into()],
                ..ImageConfig::default()
            },
            &ro,
            Path::new("/m"),
            (0, 0),
            "h",
        )
        .expect("plan");
        assert!(p.spec.root.as_ref().expect("root").readonly);
        assert!(p.spec.mounts.iter().any(|m| m.destination == "/tmp"));
        assert_eq!(p.warnings.len(), 1);
    }
}

//! `ward run IMAGE`: a container from an image of the store, in the
//! foreground, with every hardening layer of ward-oci's hardened template
//! on ([`spec`]), on an overlay of the image's id-mapped layers
//! ([`rootfs`]), run by the same pipeline as `ward-oci` and `ward sandbox`
//! (`ward_runtime::lifecycle::run_ephemeral`). docs/run.md.

pub mod rootfs;
pub mod spec;
pub mod user;

use std::os::fd::AsFd;
use std::path::Path;

use ward_image::{Reference, Store};
use ward_runtime::lifecycle::{CgroupPolicy, EphemeralRun};

pub use rootfs::{ContainerDir, CONTAINERS_DIR};
pub use spec::{ImageConfig, Layer, Planned, RunOptions};

/// The most an image config may weigh (the store checked its digest).
const CONFIG_LIMIT: u64 = 4 << 20;

/// Why `ward run` did not run the command, or how it ended.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// ward's own error (exit 125): nothing was started, nothing is left.
    #[error("{0}")]
    Ward(String),
    /// The runtime's: the command could not be started (126/127) or the
    /// container could not be made.
    #[error("{0}")]
    Runtime(#[from] ward_runtime::Error),
}

fn ward(e: impl std::fmt::Display) -> RunError {
    RunError::Ward(e.to_string())
}

/// What `ward run` runs.
pub struct Request<'a> {
    pub store: &'a Store,
    pub image: &'a str,
    pub options: RunOptions,
    /// `--rm`: remove the container's directory when it exits.
    pub remove: bool,
    /// Called with the plan before the container starts (`--explain`).
    pub on_plan: &'a mut dyn FnMut(&Planned),
    /// ward's default seccomp profile compiled ahead of time.
    pub seccomp: Option<ward_seccomp::Program>,
}

/// The image's record, its config, and its layers unpacked (bottom first).
fn image(store: &Store, name: &str) -> Result<(ImageConfig, Vec<std::path::PathBuf>), RunError> {
    let reference: Reference = name.parse().map_err(|e| ward(format!("{name:?}: {e}")))?;
    let rec = store.get_record(&reference).map_err(|_| {
        ward(format!(
            "image {reference} is not in the store {}: pull it first with `ward image pull {reference}` (pulling implicitly comes later)",
            store.root().display()
        ))
    })?;
    let bytes = store.read_blob(&rec.config, CONFIG_LIMIT).map_err(ward)?;
    let doc: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| ward(format!("{}: the image config: {e}", rec.reference)))?;
    let unpacked =
        crate::unpack_image(store, &rec, &ward_layer::Options::default()).map_err(ward)?;
    Ok((ImageConfig::from_json(&doc), unpacked.lower_dirs))
}

/// A new container id: 64 hex digits, as Docker's.
fn new_id() -> Result<String, RunError> {
    let mut b = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b))
        .map_err(|e| ward(format!("/dev/urandom: {e}")))?;
    Ok(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// Runs the image's command in the foreground; the exit code is the
/// command's (128+N when killed by signal N).
pub fn run(req: Request<'_>) -> Result<i32, RunError> {
    if !nix::unistd::geteuid().is_root() {
        return Err(ward("ward run needs root for now (overlay and id-mapped mounts of the image's layers); rootless containers come later"));
    }
    let (img, lowers) = image(req.store, req.image)?;
    let template = spec::hardened().map_err(ward)?;
    let linux = template.linux.clone().unwrap_or_default();
    let owner = spec::root_host_ids(&template)
        .ok_or_else(|| ward("internal: the template has no user namespace"))?;
    let userns = ward_sys::userns::with_maps(
        &spec::map_text(&linux.uid_mappings),
        &spec::map_text(&linux.gid_mappings),
    )
    .map_err(|e| {
        ward(format!(
            "a user namespace for the image's id-mapped layers: {e}"
        ))
    })?;
    rootfs::private_mounts().map_err(|e| ward(format!("a mount namespace of ward's own: {e}")))?;
    let id = new_id()?;
    let mut dir = ContainerDir::create(req.store.root(), &id, &lowers, userns.as_fd(), owner)
        .map_err(|e| ward(format!("the container's root filesystem: {e}")))?;
    drop(userns);
    let ids = user::resolve(
        &dir.merged,
        req.options.user.as_deref().unwrap_or(&img.user),
    )
    .map_err(ward)?;
    let hostname = req
        .options
        .hostname
        .clone()
        .unwrap_or_else(|| id[..12].to_owned());
    let planned = spec::plan(&img, &req.options, &dir.merged, ids, &hostname).map_err(ward)?;
    (req.on_plan)(&planned);
    let done = ward_runtime::lifecycle::run_ephemeral(EphemeralRun {
        id: &ward_runtime::ephemeral_id(),
        spec: &planned.spec,
        rootfs: &dir.merged,
        bundle: Path::new("/"),
        cgroups: CgroupPolicy::Required,
        extras: ward_init::extras::Extras {
            keep_death_signal: true,
            // A pid-1 reaper forwards signals and reaps orphans (docker
            // run --init): the command is not pid 1, whose signals'
            // default actions the kernel ignores.
            reaper: Some(ward_init::extras::Reaper { timeout: None }),
            join_cgroup_during_setup: true,
            ..Default::default()
        },
        landlock: None,
        seccomp: req.seccomp,
        on_listener: None,
    })?;
    if !req.remove {
        dir.keep();
    }
    Ok(done.exit_code)
}

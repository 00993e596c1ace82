//! Which runtime binary the suite drives (`WARD_TEST_RUNTIME`).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The runtime family, used only where runc and crun are known to differ
/// (every such place is listed in docs/testing.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// runc (file name `runc`).
    Runc,
    /// crun (file name `crun`).
    Crun,
    /// Anything else, e.g. ward-oci: held to runc's behaviour.
    Other,
}

/// The runtime under test.
#[derive(Clone, Debug)]
pub struct Runtime {
    /// Absolute path of the binary.
    pub path: PathBuf,
    /// Family, derived from the file name.
    pub kind: Kind,
}

impl Runtime {
    /// The runtime selected by `WARD_TEST_RUNTIME`, resolved once per
    /// process: `runc`, `crun` (looked up in PATH), any path to a binary,
    /// or (unset/empty) this workspace's `debug/ward-oci`.
    pub fn get() -> Result<Runtime, String> {
        static RT: OnceLock<Result<Runtime, String>> = OnceLock::new();
        RT.get_or_init(|| match std::env::var("WARD_TEST_RUNTIME") {
            Ok(v) if !v.trim().is_empty() => Self::from_spec(v.trim()),
            _ => Self::default_ward(),
        })
        .clone()
    }

    /// Human-readable name for messages.
    pub fn name(&self) -> String {
        self.path.display().to_string()
    }

    fn from_spec(spec: &str) -> Result<Runtime, String> {
        let path = if spec.contains('/') {
            let p = PathBuf::from(spec);
            if p.is_absolute() {
                p
            } else {
                std::env::current_dir()
                    .map_err(|e| format!("cannot get current dir: {e}"))?
                    .join(p)
            }
        } else {
            which(spec).ok_or_else(|| {
                format!("WARD_TEST_RUNTIME={spec}: no executable `{spec}` found in PATH")
            })?
        };
        if !path.is_file() {
            return Err(format!(
                "WARD_TEST_RUNTIME={spec}: {} is not a file",
                path.display()
            ));
        }
        Ok(Runtime {
            kind: kind_of(&path),
            path,
        })
    }

    fn default_ward() -> Result<Runtime, String> {
        let target = match std::env::var_os("CARGO_TARGET_DIR") {
            Some(t) if !t.is_empty() => {
                let t = PathBuf::from(t);
                if t.is_absolute() {
                    t
                } else {
                    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(t)
                }
            }
            _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        };
        let path = target.join("debug/ward-oci");
        if !path.is_file() {
            return Err(format!(
                "ward-oci not found at {}: build it first: cargo build -p ward-oci \
                 (with the same CARGO_TARGET_DIR), or set WARD_TEST_RUNTIME=runc|crun|/path/to/runtime",
                path.display()
            ));
        }
        Ok(Runtime {
            kind: Kind::Other,
            path,
        })
    }
}

fn kind_of(path: &Path) -> Kind {
    match path.file_name().and_then(|n| n.to_str()) {
        Some("runc") => Kind::Runc,
        Some("crun") => Kind::Crun,
        _ => Kind::Other,
    }
}

/// Look `name` up in PATH (plus the sbin dirs, where Debian puts runc).
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"])
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file());
    found
}

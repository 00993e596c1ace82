//! ward's Landlock extension: the `run.ward.landlock.*` annotations
//! (docs/landlock.md), parsed and checked here so that a bad value is
//! refused at create, naming the annotation, before anything exists.
//!
//! Threat: a container whose file system or network reach is wider than
//! its mounts suggest (a writable bind nobody meant, a host daemon listening
//! on a TCP port). Landlock checks every open/create/exec and every TCP
//! bind/connect against an allowlist, independently of mounts and of the
//! capabilities the process keeps.

use std::collections::BTreeMap;

use crate::Error;

/// The annotation prefix; every key under it must be one of [`KEYS`].
pub const PREFIX: &str = "run.ward.landlock.";

pub const READ_ONLY: &str = "run.ward.landlock.read-only";
pub const READ_EXEC: &str = "run.ward.landlock.read-exec";
pub const READ_WRITE: &str = "run.ward.landlock.read-write";
pub const TCP_BIND: &str = "run.ward.landlock.tcp-bind";
pub const TCP_CONNECT: &str = "run.ward.landlock.tcp-connect";
pub const MODE: &str = "run.ward.landlock.mode";

/// Every annotation of the extension, with its value format (for
/// `ward-oci features` and error messages).
pub const KEYS: [(&str, &str); 6] = [
    (
        READ_ONLY,
        "comma-separated container paths: read files and list directories beneath them",
    ),
    (
        READ_EXEC,
        "comma-separated container paths: read-only plus execute",
    ),
    (
        READ_WRITE,
        "comma-separated container paths: every file-system right except execute",
    ),
    (
        TCP_BIND,
        "comma-separated TCP ports the container may bind (Landlock ABI >= 4)",
    ),
    (
        TCP_CONNECT,
        "comma-separated TCP ports the container may connect to (Landlock ABI >= 4)",
    ),
    (
        MODE,
        "\"required\" (default: an unsupported rule is an error) or \"best-effort\"",
    ),
];

/// What a path rule grants beneath it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathAccess {
    ReadOnly,
    ReadExec,
    ReadWrite,
}

/// One path rule and the annotation it came from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathRule {
    pub path: String,
    pub access: PathAccess,
    pub annotation: &'static str,
}

/// The parsed extension. `None` in a list: that kind of access is not
/// restricted at all; `Some(empty)`: restricted, nothing allowed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Landlock {
    /// Restrict the file system (any of the three path annotations given).
    pub fs: bool,
    pub paths: Vec<PathRule>,
    pub tcp_bind: Option<Vec<u16>>,
    pub tcp_connect: Option<Vec<u16>>,
    /// `mode: required` (the default): what cannot be enforced is an error.
    pub required: bool,
}

fn invalid(key: &str, msg: impl Into<String>) -> Error {
    Error::Invalid {
        field: format!("annotations.{key:?}"),
        msg: msg.into(),
    }
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn paths(key: &'static str, value: &str, access: PathAccess) -> Result<Vec<PathRule>, Error> {
    list(value)
        .map(|p| {
            if !p.starts_with('/') || p.contains('\0') || p.split('/').any(|c| c == "..") {
                return Err(invalid(
                    key,
                    format!("{p:?}: give absolute container paths without \"..\" (e.g. /tmp)"),
                ));
            }
            Ok(PathRule {
                path: p.to_string(),
                access,
                annotation: key,
            })
        })
        .collect()
}

fn ports(key: &str, value: &str) -> Result<Vec<u16>, Error> {
    list(value)
        .map(|p| {
            p.parse::<u16>().map_err(|_| {
                invalid(
                    key,
                    format!("{p:?} is not a TCP port: give numbers 0-65535, comma-separated"),
                )
            })
        })
        .collect()
}

/// Parses the `run.ward.landlock.*` annotations; `None` when there are none.
pub fn from_annotations(a: &BTreeMap<String, String>) -> Result<Option<Landlock>, Error> {
    let mut found = false;
    let mut l = Landlock {
        required: true,
        ..Landlock::default()
    };
    for (key, value) in a.range(PREFIX.to_string()..) {
        if !key.starts_with(PREFIX) {
            break;
        }
        found = true;
        match key.as_str() {
            READ_ONLY => {
                l.fs = true;
                l.paths
                    .extend(paths(READ_ONLY, value, PathAccess::ReadOnly)?);
            }
            READ_EXEC => {
                l.fs = true;
                l.paths
                    .extend(paths(READ_EXEC, value, PathAccess::ReadExec)?);
            }
            READ_WRITE => {
                l.fs = true;
                l.paths
                    .extend(paths(READ_WRITE, value, PathAccess::ReadWrite)?);
            }
            TCP_BIND => l.tcp_bind = Some(ports(TCP_BIND, value)?),
            TCP_CONNECT => l.tcp_connect = Some(ports(TCP_CONNECT, value)?),
            MODE => {
                l.required = match value.trim() {
                    "required" | "" => true,
                    "best-effort" => false,
                    other => {
                        return Err(invalid(
                            MODE,
                            format!("{other:?}: use \"required\" or \"best-effort\""),
                        ))
                    }
                }
            }
            other => {
                let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
                return Err(invalid(
                    other,
                    format!(
                        "unknown Landlock annotation; the known ones are {}",
                        known.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(found.then_some(l))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Option<Landlock>, Error> {
        let a = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_annotations(&a)
    }

    #[test]
    fn none_without_annotations() {
        assert_eq!(parse(&[("org.example", "x")]).expect("parses"), None);
    }

    #[test]
    fn lists_and_mode() {
        let l = parse(&[
            (READ_EXEC, "/"),
            (READ_WRITE, "/tmp, /dev/null"),
            (TCP_BIND, "8080,80"),
            (TCP_CONNECT, ""),
            (MODE, "best-effort"),
        ])
        .expect("parses")
        .expect("present");
        assert!(l.fs && !l.required);
        assert_eq!(l.paths.len(), 3);
        assert_eq!(l.paths[2].path, "/dev/null");
        assert_eq!(l.tcp_bind, Some(vec![8080, 80]));
        assert_eq!(l.tcp_connect, Some(vec![]));
        let only_net = parse(&[(TCP_CONNECT, "443")])
            .expect("parses")
            .expect("present");
        assert!(!only_net.fs && only_net.required && only_net.tcp_bind.is_none());
    }

    #[test]
    fn bad_input_names_the_annotation() {
        for (pairs, key) in [
            (
                vec![("run.ward.landlock.write", "/tmp")],
                "run.ward.landlock.write",
            ),
            (vec![(TCP_BIND, "80,http")], TCP_BIND),
            (vec![(TCP_CONNECT, "70000")], TCP_CONNECT),
            (vec![(READ_ONLY, "etc")], READ_ONLY),
            (vec![(READ_WRITE, "/tmp/../etc")], READ_WRITE),
            (vec![(MODE, "lax")], MODE),
        ] {
            let e = parse(&pairs).expect_err("refused").to_string();
            assert!(e.contains(key), "{e}");
        }
    }
}

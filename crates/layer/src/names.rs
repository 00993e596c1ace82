//! Entry names: checked and normalised before anything touches the disk,
//! and whiteout markers recognised (OCI image-spec, layer.md "Whiteouts").
//!
//! The name only decides *which* components to walk; resolving them stays
//! with the kernel (openat2 inside the layer root), so a symlink in the
//! layer can never steer a name out.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

use crate::Limits;

/// Longest single component Linux accepts (NAME_MAX).
const NAME_MAX: usize = 255;

/// A checked, relative entry name: no `..`, no empty or `.` components.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Name {
    /// The components, joined: empty for the layer root (`./`).
    pub rel: PathBuf,
    /// The name began with `/` (GNU tar strips it the same way; it is
    /// resolved inside the layer either way).
    pub was_absolute: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub(crate) enum BadName {
    /// Not a name any legitimate layer holds.
    Refused(&'static str),
    /// Over a configured limit (`what` names the field of [`Limits`]).
    Limit(&'static str),
}

impl Name {
    pub(crate) fn parse(raw: &[u8], limits: &Limits) -> Result<Name, BadName> {
        if raw.contains(&0) {
            return Err(BadName::Refused("the name contains a NUL byte"));
        }
        if raw.len() > limits.max_path_len {
            return Err(BadName::Limit("max_path_len"));
        }
        let mut rel = PathBuf::new();
        let mut depth = 0usize;
        for comp in raw.split(|b| *b == b'/') {
            match comp {
                b"" | b"." => continue,
                // Threat: zip-slip. In-root resolution would keep `..` inside
                // too, but no layer made by diffing a filesystem has one.
                b".." => return Err(BadName::Refused("the name contains a `..` component")),
                _ if comp.len() > NAME_MAX => {
                    return Err(BadName::Refused("a component is longer than 255 bytes"))
                }
                _ => {}
            }
            depth += 1;
            if depth > limits.max_depth {
                return Err(BadName::Limit("max_depth"));
            }
            // A component without `/` or NUL: pushing it appends exactly it.
            rel.push(OsStr::from_bytes(comp));
        }
        Ok(Name {
            rel,
            was_absolute: raw.first() == Some(&b'/'),
        })
    }

    /// The last component, or `None` for the layer root.
    pub(crate) fn file_name(&self) -> Option<&OsStr> {
        self.rel.file_name()
    }

    /// The directory holding the entry (empty: the layer root).
    pub(crate) fn parent(&self) -> PathBuf {
        self.rel.parent().map(PathBuf::from).unwrap_or_default()
    }
}

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";
/// aufs' own metadata (`.wh..wh.plnk`, `.wh..wh.orph`, ...), found in
/// layers exported from aufs-era Docker; never content.
const AUFS_META_PREFIX: &[u8] = b".wh..wh.";

/// What an entry's name says it is.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Marker {
    /// Ordinary content.
    Plain,
    /// `DIR/.wh..wh..opq`: DIR hides what lower layers have in it.
    Opaque,
    /// `DIR/.wh.NAME`: DIR/NAME of lower layers is deleted.
    Whiteout(OsString),
    /// aufs metadata: skipped.
    AufsMeta,
}

/// Classifies a checked name. Names that OCI reserves but that no valid
/// layer uses are refused: `.wh.` (its own directory), `.wh..` (the parent:
/// a whiteout aimed above the layer), and `.wh.` as a directory component.
pub(crate) fn marker(name: &Name) -> Result<Marker, &'static str> {
    let mut comps: Vec<&[u8]> = name.rel.iter().map(|c| c.as_bytes()).collect();
    let Some(last) = comps.pop() else {
        return Ok(Marker::Plain);
    };
    if comps
        .iter()
        .chain(std::iter::once(&last))
        .any(|c| c.starts_with(AUFS_META_PREFIX) && *c != OPAQUE)
    {
        return Ok(Marker::AufsMeta);
    }
    if comps.iter().any(|c| c.starts_with(WHITEOUT_PREFIX)) {
        return Err("a directory name begins with the whiteout prefix `.wh.`");
    }
    if last == OPAQUE {
        return Ok(Marker::Opaque);
    }
    let Some(victim) = last.strip_prefix(WHITEOUT_PREFIX) else {
        return Ok(Marker::Plain);
    };
    match victim {
        b"" | b"." | b".." => Err("a whiteout names its own directory or its parent"),
        _ => Ok(Marker::Whiteout(OsString::from_vec(victim.to_vec()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Name, BadName> {
        Name::parse(s.as_bytes(), &Limits::default())
    }

    fn rel(s: &str) -> String {
        parse(s)
            .map(|n| n.rel.display().to_string())
            .unwrap_or_else(|e| format!("{e:?}"))
    }

    #[test]
    fn normalises_dots_slashes_and_absolute_names() {
        assert_eq!(rel("./etc//passwd"), "etc/passwd");
        assert_eq!(rel("./"), "");
        assert_eq!(rel("."), "");
        assert_eq!(rel("a/./b/"), "a/b");
        let abs = parse("/etc/shadow").ok();
        assert_eq!(abs.as_ref().map(|n| n.was_absolute), Some(true));
        assert_eq!(abs.map(|n| n.rel), Some(PathBuf::from("etc/shadow")));
    }

    #[test]
    fn refuses_dotdot_anywhere() {
        for bad in ["..", "../x", "a/../../x", "a/..", "/../etc"] {
            assert!(matches!(parse(bad), Err(BadName::Refused(_))), "{bad}");
        }
        // `..` as part of a name is just a name.
        assert_eq!(rel("a/..b/c.."), "a/..b/c..");
    }

    #[test]
    fn limits() {
        let limits = Limits {
            max_path_len: 10,
            max_depth: 2,
            ..Limits::default()
        };
        assert_eq!(
            Name::parse(b"0123456789a", &limits),
            Err(BadName::Limit("max_path_len"))
        );
        assert_eq!(
            Name::parse(b"a/b/c", &limits),
            Err(BadName::Limit("max_depth"))
        );
        assert!(Name::parse(b"./a/b/", &limits).is_ok());
        let long = "x".repeat(256);
        assert!(matches!(parse(&long), Err(BadName::Refused(_))));
        assert!(matches!(
            Name::parse(b"a\0b", &Limits::default()),
            Err(BadName::Refused(_))
        ));
    }

    fn mark(s: &str) -> Result<Marker, &'static str> {
        parse(s).map_err(|_| "bad name").and_then(|n| marker(&n))
    }

    #[test]
    fn whiteouts() {
        assert_eq!(mark("etc/passwd"), Ok(Marker::Plain));
        assert_eq!(mark("./"), Ok(Marker::Plain));
        assert_eq!(mark("a/.wh..wh..opq"), Ok(Marker::Opaque));
        assert_eq!(mark(".wh..wh..opq"), Ok(Marker::Opaque));
        assert_eq!(
            mark("etc/.wh.passwd"),
            Ok(Marker::Whiteout(OsString::from("passwd")))
        );
        assert_eq!(
            mark(".wh..hidden"),
            Ok(Marker::Whiteout(OsString::from(".hidden")))
        );
        assert_eq!(mark(".wh..wh.plnk/123.456"), Ok(Marker::AufsMeta));
        assert_eq!(mark("a/.wh..wh.aufs"), Ok(Marker::AufsMeta));
        for bad in ["a/.wh.", "a/.wh..", ".wh..", ".wh.x/y"] {
            assert!(mark(bad).is_err(), "{bad}");
        }
    }
}

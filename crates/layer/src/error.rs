//! Why a layer was not unpacked.

use std::io;
use std::path::PathBuf;

/// Why a layer was not unpacked. In every case the destination does not
/// exist afterwards.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}: already exists (a layer unpacks into a new directory)")]
    DestExists(PathBuf),
    #[error("layer entry {path:?} refused: {reason}")]
    Refused { path: String, reason: String },
    #[error("layer exceeds the limit on {what} ({detail})")]
    Limit { what: &'static str, detail: String },
    #[error("layer stream is corrupt or truncated: {0}")]
    Corrupt(io::Error),
    #[error("{op} {path:?}: {source}")]
    Io {
        op: &'static str,
        path: String,
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn io(op: &'static str, path: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn refused(path: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::Refused {
            path: path.into(),
            reason: reason.into(),
        }
    }
}

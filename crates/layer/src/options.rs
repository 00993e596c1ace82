//! What the caller may tune: the limits and the two opt-outs.

/// Bounds on what one layer may make the unpacker read, write and hold.
/// The defaults fit any real image; raise them for a trusted giant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Uncompressed bytes: both the tar stream and the files' contents
    /// (sparse files count at their full size).
    pub max_bytes: u64,
    /// Entries in the tar (files, directories, links, whiteouts, ...).
    pub max_entries: u64,
    /// Bytes of one entry's name or link target.
    pub max_path_len: usize,
    /// Components of one entry's name.
    pub max_depth: usize,
    /// Bytes of the PAX / GNU long-name headers in front of one entry (the
    /// tar reader holds them in memory).
    pub max_metadata_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 16 << 30,
            max_entries: 1_000_000,
            max_path_len: 4096,
            max_depth: 128,
            max_metadata_bytes: 1 << 20,
        }
    }
}

/// What the unpacker may keep that it neutralises by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    pub limits: Limits,
    /// Keep setuid/setgid bits and `security.capability` xattrs (an
    /// explicit per-image opt-out of the stripping).
    pub keep_setid: bool,
    /// Create character and block device nodes (fifos are always kept).
    pub allow_devices: bool,
}

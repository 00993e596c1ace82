//! What one unpack made and what it neutralised, for `ward image pull`
//! and `--explain` to tell the user.

/// Counts of one unpacked layer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Entries in the tar, whatever became of them.
    pub entries: u64,
    /// Bytes of the uncompressed tar stream.
    pub bytes: u64,
    pub files: u64,
    pub dirs: u64,
    pub symlinks: u64,
    pub hardlinks: u64,
    /// FIFOs, and device nodes created because `allow_devices` was set.
    pub special_files: u64,
    /// `.wh.NAME` markers turned into overlay whiteouts.
    pub whiteouts: u64,
    /// Directories marked opaque (`.wh..wh..opq`, or a directory that
    /// replaces a whiteout of the same layer).
    pub opaque_dirs: u64,
    /// Directories the tar did not list but its entries needed (created
    /// 0755, owned 0:0).
    pub implicit_dirs: u64,

    /// Setuid/setgid bits cleared (each file counts once).
    pub setid_stripped: u64,
    /// `security.capability` xattrs dropped.
    pub caps_dropped: u64,
    /// Character/block devices not created (`allow_devices` unset).
    pub devices_skipped: u64,
    /// Character devices 0:0 in the tar: an overlay whiteout is only ever
    /// made by the unpacker from a `.wh.` marker, never taken from the tar.
    pub forged_whiteouts_skipped: u64,
    /// Other extended attributes not applied (`trusted.*`, `security.*`,
    /// `system.*`, `user.overlay.*`, ...).
    pub xattrs_dropped: u64,
    /// Names that began with `/`, unpacked relative to the layer root.
    pub absolute_names: u64,
    /// Entries skipped as meaningless here (PAX global headers, aufs
    /// metadata, sockets).
    pub ignored: u64,
}

impl Report {
    /// One line per thing the unpacker neutralised, e.g. "2 setuid/setgid
    /// bits stripped"; empty when the layer needed nothing of the kind.
    pub fn neutralised(&self) -> Vec<String> {
        [
            (self.setid_stripped, "setuid/setgid bits stripped"),
            (self.caps_dropped, "file capabilities dropped"),
            (self.devices_skipped, "device nodes skipped"),
            (
                self.forged_whiteouts_skipped,
                "forged overlay whiteouts (0:0 devices) skipped",
            ),
            (self.xattrs_dropped, "extended attributes dropped"),
            (
                self.absolute_names,
                "absolute names unpacked inside the layer",
            ),
        ]
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neutralised_lists_only_what_happened() {
        assert!(Report::default().neutralised().is_empty());
        let r = Report {
            setid_stripped: 3,
            caps_dropped: 1,
            ..Report::default()
        };
        assert_eq!(
            r.neutralised(),
            vec![
                "3 setuid/setgid bits stripped".to_string(),
                "1 file capabilities dropped".to_string()
            ]
        );
    }
}

//! An entry's attributes as the unpacker will apply them: numeric owner,
//! permission bits, mtime and the extended attributes that survive the
//! filter. User and group *names* are ignored: they would be looked up in
//! the host's passwd, which has nothing to do with the image.

use std::ffi::OsString;
use std::io::{self, Read};
use std::os::unix::ffi::OsStringExt;

use nix::sys::time::TimeSpec;

/// Only the permission bits; the file type comes from the entry type.
const PERMISSION_BITS: u32 = 0o7777;
pub(crate) const SETID_BITS: u32 = 0o6000;
const XATTR_PAX_PREFIX: &str = "SCHILY.xattr.";
pub(crate) const CAPABILITY_XATTR: &str = "security.capability";

#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub uid: u32,
    pub gid: u32,
    pub mode: u32,
    pub mtime: TimeSpec,
    /// Every xattr the archive carries (PAX `SCHILY.xattr.*`), filtered
    /// later with [`xattr_verdict`] once the file type is known.
    pub xattrs: Vec<(OsString, Vec<u8>)>,
    /// Extended-attribute records in a form this reader does not apply
    /// (libarchive's `LIBARCHIVE.xattr.*`): reported as dropped.
    pub foreign_xattrs: u64,
}

/// What happens to one extended attribute of the archive.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum XattrVerdict {
    Keep,
    /// A file capability, dropped because setid privileges are stripped.
    DropCapability,
    Drop,
}

/// The xattr filter. Threats: `trusted.overlay.*` (and `user.overlay.*`
/// under a rootless `userxattr` mount) would forge overlay metadata such as
/// an opaque marker or a redirect; `security.selinux` / `security.ima`
/// forge labels; `security.capability` grants privileges (kept only with
/// `keep_setid`, and only on regular files); `system.*` holds ACLs, which
/// the image has no business granting on the host's behalf. Plain `user.*`
/// xattrs are data applications may rely on and grant nothing.
pub(crate) fn xattr_verdict(name: &[u8], keep_setid: bool, regular_file: bool) -> XattrVerdict {
    if name == CAPABILITY_XATTR.as_bytes() {
        return if keep_setid && regular_file {
            XattrVerdict::Keep
        } else {
            XattrVerdict::DropCapability
        };
    }
    if name.starts_with(b"user.") && !name.starts_with(b"user.overlay.") && name.len() > 5 {
        return XattrVerdict::Keep;
    }
    XattrVerdict::Drop
}

impl Meta {
    /// Reads the header and PAX records of `entry`. Fails only on a header
    /// that does not parse (a corrupt archive) or an owner id that Linux
    /// cannot store.
    pub(crate) fn read<R: Read>(entry: &mut tar::Entry<'_, R>) -> Result<Meta, String> {
        let header = entry.header();
        let mode = header.mode().map_err(|e| format!("bad mode field: {e}"))? & PERMISSION_BITS;
        let uid = id(header.uid(), "uid")?;
        let gid = id(header.gid(), "gid")?;
        let mut mtime = TimeSpec::new(
            i64::try_from(
                header
                    .mtime()
                    .map_err(|e| format!("bad mtime field: {e}"))?,
            )
            .unwrap_or(i64::MAX),
            0,
        );
        let mut xattrs = Vec::new();
        let mut foreign_xattrs = 0;
        let pax = entry
            .pax_extensions()
            .map_err(|e| format!("bad PAX header: {e}"))?;
        for record in pax.into_iter().flatten() {
            let record = record.map_err(|e| format!("bad PAX record: {e}"))?;
            let Ok(key) = record.key() else { continue };
            if key == "mtime" {
                if let Some(t) = std::str::from_utf8(record.value_bytes())
                    .ok()
                    .and_then(pax_time)
                {
                    mtime = t;
                }
            } else if let Some(name) = key.strip_prefix(XATTR_PAX_PREFIX) {
                xattrs.push((
                    OsString::from_vec(name.as_bytes().to_vec()),
                    record.value_bytes().to_vec(),
                ));
            } else if key.starts_with("GNU.sparse.") {
                // PAX sparse files: the tar reader would unpack the sparse
                // map as content under a made-up name. No image builder
                // writes them.
                return Err("PAX (GNU.sparse) sparse files are not supported".into());
            } else if key.starts_with("LIBARCHIVE.xattr.") {
                foreign_xattrs += 1;
            }
        }
        Ok(Meta {
            uid,
            gid,
            mode,
            mtime,
            xattrs,
            foreign_xattrs,
        })
    }
}

/// A uid/gid from the header (tar already applied PAX `uid`/`gid`).
/// `u32::MAX` is -1 to chown ("leave unchanged"): refused with the rest.
fn id(raw: io::Result<u64>, what: &str) -> Result<u32, String> {
    let raw = raw.map_err(|e| format!("bad {what} field: {e}"))?;
    u32::try_from(raw)
        .ok()
        .filter(|id| *id != u32::MAX)
        .ok_or_else(|| format!("{what} {raw} is out of range"))
}

/// A PAX time: decimal seconds with an optional fraction, maybe negative.
fn pax_time(s: &str) -> Option<TimeSpec> {
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    let secs: i64 = secs.parse().ok()?;
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = frac.chars().chain(std::iter::repeat('0')).take(9).collect();
    let mut nanos: i64 = digits.parse().ok()?;
    let mut secs = secs;
    if s.starts_with('-') && nanos > 0 {
        // -1.25 is 1.25 s before the epoch: -2 s + 0.75 s.
        secs -= 1;
        nanos = 1_000_000_000 - nanos;
    }
    Some(TimeSpec::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xattr_filter() {
        use XattrVerdict::*;
        assert_eq!(xattr_verdict(b"user.mime_type", false, true), Keep);
        assert_eq!(xattr_verdict(b"user.overlay.opaque", false, false), Drop);
        assert_eq!(xattr_verdict(b"trusted.overlay.opaque", true, false), Drop);
        assert_eq!(xattr_verdict(b"security.selinux", true, true), Drop);
        assert_eq!(xattr_verdict(b"system.posix_acl_access", true, true), Drop);
        assert_eq!(xattr_verdict(b"user.", false, true), Drop);
        assert_eq!(
            xattr_verdict(b"security.capability", false, true),
            DropCapability
        );
        assert_eq!(xattr_verdict(b"security.capability", true, true), Keep);
        assert_eq!(
            xattr_verdict(b"security.capability", true, false),
            DropCapability
        );
    }

    #[test]
    fn pax_times() {
        let t = |s| pax_time(s).map(|t| (t.tv_sec(), t.tv_nsec()));
        assert_eq!(t("1700000000"), Some((1_700_000_000, 0)));
        assert_eq!(t("1700000000.5"), Some((1_700_000_000, 500_000_000)));
        assert_eq!(t("1.123456789123"), Some((1, 123_456_789)));
        assert_eq!(t("-1.25"), Some((-2, 750_000_000)));
        assert_eq!(t("x"), None);
        assert_eq!(t("1.x"), None);
    }

    #[test]
    fn ids() {
        assert_eq!(id(Ok(1000), "uid"), Ok(1000));
        assert!(id(Ok(u64::from(u32::MAX)), "uid").is_err());
        assert!(id(Ok(1 << 40), "gid").is_err());
    }
}

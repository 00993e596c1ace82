//! Layer compression: from the descriptor's media type, or sniffed from the
//! first bytes when the media type says nothing (a `docker save` archive).

use std::io::{self, BufRead, Read};

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

impl Compression {
    /// From an OCI or Docker layer media type; `None` for a media type that
    /// is not a layer (the caller refuses it rather than guessing).
    pub fn from_media_type(media_type: &str) -> Option<Compression> {
        match media_type {
            "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.docker.image.rootfs.diff.tar"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar" => Some(Compression::None),
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip" => {
                Some(Compression::Gzip)
            }
            "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
            | "application/vnd.docker.image.rootfs.diff.tar.zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// From the first bytes of the blob: gzip and zstd by their magic
    /// numbers, anything else is taken as a plain tar (which the tar reader
    /// then checks header by header).
    pub fn from_magic(head: &[u8]) -> Compression {
        if head.starts_with(&GZIP_MAGIC) {
            Compression::Gzip
        } else if head.starts_with(&ZSTD_MAGIC) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// Sniffs the compression of `reader` without consuming anything.
    pub fn detect(reader: &mut impl BufRead) -> io::Result<Compression> {
        Ok(Compression::from_magic(reader.fill_buf()?))
    }
}

/// The decompressed stream of `layer`. Gzip may hold several members
/// (`pigz`, concatenated layers); zstd several frames. The zstd decoder
/// keeps its default window limit (128 MiB), so a frame that asks for more
/// memory is an error rather than an allocation.
pub fn decompress<'a>(
    layer: impl Read + 'a,
    compression: Compression,
) -> io::Result<Box<dyn Read + 'a>> {
    Ok(match compression {
        Compression::None => Box::new(layer),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(layer)),
        Compression::Zstd => Box::new(zstd::stream::read::Decoder::new(layer)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types() {
        assert_eq!(
            Compression::from_media_type("application/vnd.oci.image.layer.v1.tar+zstd"),
            Some(Compression::Zstd)
        );
        assert_eq!(
            Compression::from_media_type("application/vnd.docker.image.rootfs.diff.tar.gzip"),
            Some(Compression::Gzip)
        );
        assert_eq!(
            Compression::from_media_type("application/vnd.oci.image.layer.v1.tar"),
            Some(Compression::None)
        );
        assert_eq!(
            Compression::from_media_type("application/vnd.oci.image.config.v1+json"),
            None
        );
    }

    #[test]
    fn magic() {
        assert_eq!(Compression::from_magic(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(
            Compression::from_magic(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
        assert_eq!(Compression::from_magic(b"etc/\0\0"), Compression::None);
        assert_eq!(Compression::from_magic(&[]), Compression::None);
        let mut r = io::BufReader::new(&[0x1f, 0x8b, 0, 0][..]);
        assert_eq!(Compression::detect(&mut r).ok(), Some(Compression::Gzip));
        assert_eq!(r.fill_buf().map(|b| b.len()).ok(), Some(4));
    }
}

//! The layers of a pulled image as directories overlayfs can stack:
//! `layers/<chain id>/diff` in the store, made once per chain ID by
//! ward-layer (which trusts no byte of the tar: docs/layers.md), and kept
//! only when the uncompressed stream's digest is the config's diff_id.

use std::fs::File;
use std::path::PathBuf;

use ward_image::store::EnsureLayerError;
use ward_image::{ImageRecord, Store};
use ward_layer::{Compression, Options, Report};

/// The directory of a layer's files inside its chain-ID directory.
pub const DIFF_DIR: &str = "diff";

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("{image}: layer {layer}: {problem}")]
    Layer {
        image: String,
        layer: String,
        problem: String,
    },
    #[error("{0}")]
    Store(#[from] ward_image::StoreError),
}

/// The image's layer directories, bottom first, and what unpacking the
/// ones made now neutralised (setuid bits, devices, ...).
#[derive(Debug, Default)]
pub struct Unpacked {
    pub lower_dirs: Vec<PathBuf>,
    /// Reports of the layers unpacked by this call (not of those already
    /// there).
    pub reports: Vec<Report>,
}

/// Unpacks every layer of `rec` that is not unpacked yet (keeping setuid
/// bits only when the record says so: `keep_setid`).
pub fn unpack_image(
    store: &Store,
    rec: &ImageRecord,
    opts: &Options,
) -> Result<Unpacked, UnpackError> {
    let mut out = Unpacked::default();
    let opts = Options {
        keep_setid: rec.keep_setid,
        ..opts.clone()
    };
    let opts = &opts;
    for (layer, chain) in rec.layers.iter().zip(rec.layer_keys()) {
        let fail = |problem: String| UnpackError::Layer {
            image: rec.reference.clone(),
            layer: layer.digest.to_string(),
            problem,
        };
        let compression = Compression::from_media_type(&layer.media_type)
            .ok_or_else(|| fail(format!("media type {:?} is not a layer", layer.media_type)))?;
        let mut report = None;
        let dir = store
            .ensure_layer(&chain, |tmp| {
                let blob = File::open(store.blob_path(&layer.digest))
                    .map_err(|e| format!("opening the blob: {e}"))?;
                let (r, diff_id) =
                    ward_layer::unpack_with_diff_id(blob, compression, &tmp.join(DIFF_DIR), opts)
                        .map_err(|e| e.to_string())?;
                // The temp dir is removed when this fails: nothing half-made.
                if diff_id != layer.diff_id.to_string() {
                    return Err(format!(
                        "its uncompressed digest is {diff_id}, the config says {}; refused",
                        layer.diff_id
                    ));
                }
                report = Some(r);
                Ok(())
            })
            .map_err(|e| match e {
                EnsureLayerError::Unpack(problem) => fail(problem),
                EnsureLayerError::Store(s) => UnpackError::Store(s),
            })?;
        out.reports.extend(report);
        out.lower_dirs.push(dir.join(DIFF_DIR));
    }
    Ok(out)
}

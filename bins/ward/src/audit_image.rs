//! `ward audit image REF`: reads an image of ward's store (its record, its
//! config blob and its layer blobs as they ship, compressed) and hands them
//! to ward-audit's pure image checks; the trust status comes from the
//! policy's [images] scopes (ward-trust, no network).

use std::fs::File;
use std::io::BufReader;
use std::process::ExitCode;

use serde_json::Value;
use ward_audit::image::{self, LayerScan};
use ward_audit::{Finding, Report, Skip};
use ward_cli::ImageAuditArgs;
use ward_image::{Reference, Store};
use ward_layer::Compression;
use ward_trust::policy::Requirement;

/// Exit code of an error of ward itself.
const EXIT_ERROR: u8 = 125;
/// An image config larger than this is refused (as the store's pulls do).
const CONFIG_MAX: u64 = 8 << 20;

pub fn main(a: ImageAuditArgs) -> ExitCode {
    match audit(&a) {
        Ok(r) => crate::audit::output(&[r], &a.output),
        Err(e) => {
            eprintln!("ward audit image: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn audit(a: &ImageAuditArgs) -> Result<Report, String> {
    let reference = Reference::parse(&a.reference, None).map_err(|e| format!("REF: {e}"))?;
    if !a.root.is_dir() {
        return Err(format!("--root {}: not a directory", a.root.display()));
    }
    let store = Store::open(&a.root).map_err(|e| format!("--root: {e}"))?;
    let rec = store.get_record(&reference).map_err(|e| e.to_string())?;
    let bytes = store
        .read_blob(&rec.config, CONFIG_MAX)
        .map_err(|e| e.to_string())?;
    let config: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("the config blob {}: {e}", rec.config))?;
    let mut report = Report::new(format!("image {}", rec.reference));
    let mut scans = Vec::new();
    for l in &rec.layers {
        match scan(&store, l) {
            Ok(s) => scans.push(s),
            Err(reason) => report.skipped.push(Skip {
                id: "image.layers".into(),
                reason,
            }),
        }
    }
    report.findings = image::check(&rec.reference, &config, &scans);
    match trust(a, &reference) {
        Ok(f) => report.findings.extend(f),
        Err(reason) => report.skipped.push(Skip {
            id: "image.trust".into(),
            reason,
        }),
    }
    report.sort();
    Ok(report)
}

/// One layer blob, decompressed as its media type says (sniffed when the
/// media type names no compression), read header by header.
fn scan(store: &Store, l: &ward_image::store::LayerRecord) -> Result<LayerScan, String> {
    let path = store.blob_path(&l.digest);
    let file =
        File::open(&path).map_err(|e| format!("layer {}: {}: {e}", l.digest, path.display()))?;
    let mut reader = BufReader::with_capacity(1 << 16, file);
    let compression = match Compression::from_media_type(&l.media_type) {
        Some(c) => c,
        None => Compression::detect(&mut reader).map_err(|e| format!("layer {}: {e}", l.digest))?,
    };
    let tar = ward_layer::decompress(reader, compression)
        .map_err(|e| format!("layer {}: {e}", l.digest))?;
    image::scan_layer(&l.digest.to_string(), tar).map_err(|e| {
        format!(
            "layer {}: not read to its end ({e}); its files are not judged",
            l.digest
        )
    })
}

/// The policy's verdict on the image's repository: refused, unsigned
/// allowed (findings), or signatures required (no finding).
fn trust(a: &ImageAuditArgs, reference: &Reference) -> Result<Vec<Finding>, String> {
    let policy = ward_gate::load(a.policy.as_deref()).map_err(|e| e.to_string())?;
    let req =
        ward_trust::policy::requirement(&policy, reference.registry(), reference.repository())
            .map_err(|e| e.to_string())?;
    Ok(match req {
        Requirement::Refused { detail, .. } => {
            vec![image::TRUST_REFUSED.seen(format!("{detail} (policy: {})", policy.source))]
        }
        Requirement::Unsigned { scope } => vec![image::TRUST_UNSIGNED.seen(format!(
            "[images.registries.\"{scope}\"] sets signatures = \"none\" (policy: {})",
            policy.source
        ))],
        Requirement::Signed { .. } => Vec::new(),
    })
}

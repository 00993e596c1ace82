//! unpack_with_diff_id: the digest it gives is the SHA-256 of the
//! uncompressed tar, whatever the compression (what an image config's
//! rootfs.diff_ids hold), and the layer is unpacked as by `unpack`.

use std::io::Write;

use sha2::{Digest, Sha256};
use ward_layer::{unpack_with_diff_id, Compression, Options};

fn tar_bytes() -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    let data = b"hello from a layer\n";
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    h.set_cksum();
    b.append_data(&mut h, "etc/greeting", &data[..])
        .expect("append");
    b.into_inner().expect("tar")
}

#[test]
fn the_digest_is_the_uncompressed_tars() {
    let tar = tar_bytes();
    let want = format!(
        "sha256:{}",
        Sha256::digest(&tar)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).expect("gzip");
    let gz = gz.finish().expect("gzip");
    let zst = zstd::encode_all(&tar[..], 3).expect("zstd");
    let base = std::env::temp_dir().join(format!("ward-layer-diffid-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).expect("mkdir");
    for (name, blob, c) in [
        ("plain", tar.clone(), Compression::None),
        ("gzip", gz, Compression::Gzip),
        ("zstd", zst, Compression::Zstd),
    ] {
        let dest = base.join(name);
        let (report, diff_id) =
            unpack_with_diff_id(&blob[..], c, &dest, &Options::default()).expect(name);
        assert_eq!(diff_id, want, "{name}");
        assert_eq!(report.files, 1, "{name}");
        assert_eq!(
            std::fs::read_to_string(dest.join("etc/greeting")).expect("file"),
            "hello from a layer\n"
        );
    }
    let _ = std::fs::remove_dir_all(&base);
}

//! A 64 MiB blob streams through the client in bounded memory. Alone in
//! its test binary: the peak-RSS reading is per process.

use std::io::Read;

use sha2::Digest;
use ward_registry::testing::{self, Options, TestRegistry};
use ward_registry::Client;

const SIZE: usize = 64 << 20;

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").expect("status");
    s.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("field")
}

#[test]
fn large_blob_streams_in_bounded_memory() {
    if let Some(why) = testing::unavailable() {
        eprintln!("SKIP: {why}");
        return;
    }
    let reg = TestRegistry::start(Options::tls()).expect("registry");
    let client = Client::new(&reg.host, &reg.config()).expect("client");
    let digest = {
        // Pseudo-random, so that no layer of the stack can compress it away.
        let mut data = vec![0u8; SIZE];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for chunk in data.chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            chunk.copy_from_slice(&x.to_le_bytes()[..chunk.len()]);
        }
        let digest = format!("sha256:{:x}", sha2::Sha256::digest(&data));
        client
            .push_blob("ward/big", &digest, &data)
            .expect("push 64 MiB");
        digest
    };
    // Reset the peak-RSS mark (Linux 4.0+), then stream.
    std::fs::write("/proc/self/clear_refs", "5").expect("clear_refs");
    let before = status_kib("VmRSS:");
    let mut blob = client.blob("ward/big", &digest).expect("blob");
    assert_eq!(blob.length, Some(SIZE as u64));
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut total = 0usize;
    loop {
        let n = blob.read(&mut buf).expect("read");
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        total += n;
    }
    let peak = status_kib("VmHWM:");
    assert_eq!(total, SIZE);
    assert_eq!(format!("sha256:{:x}", hasher.finalize()), digest);
    let grew_kib = peak.saturating_sub(before);
    eprintln!("streaming 64 MiB raised peak RSS by {grew_kib} KiB");
    assert!(
        grew_kib < 16 << 10,
        "peak RSS grew by {grew_kib} KiB while streaming 64 MiB"
    );
}

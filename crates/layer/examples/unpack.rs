//! `unpack LAYER DEST`: unpacks one layer blob (compression sniffed from
//! its first bytes) into the new directory DEST and prints the report and
//! the time taken. For benchmarks (docs/layers.md) and manual checks.

use std::io::BufReader;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, layer, dest] = args.as_slice() else {
        eprintln!("usage: unpack LAYER DEST");
        std::process::exit(2);
    };
    let start = Instant::now();
    let result = std::fs::File::open(layer)
        .map_err(|e| format!("{layer}: {e}"))
        .and_then(|f| {
            let mut r = BufReader::with_capacity(1 << 20, f);
            let c = ward_layer::Compression::detect(&mut r).map_err(|e| e.to_string())?;
            ward_layer::unpack(r, c, dest.as_ref(), &ward_layer::Options::default())
                .map_err(|e| e.to_string())
        });
    match result {
        Ok(report) => {
            println!("{report:#?}");
            for line in report.neutralised() {
                println!("neutralised: {line}");
            }
            println!("seconds: {:.3}", start.elapsed().as_secs_f64());
        }
        Err(e) => {
            eprintln!("unpack: {e}");
            std::process::exit(1);
        }
    }
}

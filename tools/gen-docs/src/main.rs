//! `ward-gen-docs DIR`: writes the man pages and shell completions of
//! `ward` and `ward-oci` below DIR (see lib.rs), one path per line on
//! stdout. Run through scripts/gen-docs.sh.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    let (Some(dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: ward-gen-docs DIR");
        return ExitCode::from(2);
    };
    let dir = PathBuf::from(dir);
    match ward_gen_docs::generate(&dir) {
        Ok(files) => {
            for f in files {
                println!("{}", f.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ward-gen-docs: {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}

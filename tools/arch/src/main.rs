//! `ward-arch check`: every architecture rule (docs/architecture.md,
//! "Checked rules"); `ward-arch graph [--write]`: the crate graph.

use std::process::ExitCode;

fn run(args: &[String]) -> Result<bool, String> {
    let ws = ward_arch::workspace()?;
    let doc_path = ws.root.join(ward_arch::DOC);
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["graph"] => {
            print!("{}", ward_arch::graph::mermaid(&ws));
            Ok(true)
        }
        ["graph", "--write"] => {
            let doc = std::fs::read_to_string(&doc_path)
                .map_err(|e| format!("{}: {e}", doc_path.display()))?;
            let new = ward_arch::graph::replace(&doc, &ward_arch::graph::mermaid(&ws)).ok_or_else(
                || {
                    format!(
                        "{}: no {} … {} markers",
                        doc_path.display(),
                        ward_arch::graph::BEGIN,
                        ward_arch::graph::END
                    )
                },
            )?;
            std::fs::write(&doc_path, new).map_err(|e| format!("{}: {e}", doc_path.display()))?;
            Ok(true)
        }
        [] | ["check"] => {
            let found = ward_arch::all(&ws)?;
            let list =
                std::fs::read_to_string(ws.root.join(ward_arch::ALLOWED)).unwrap_or_default();
            let allowed = ward_arch::allowed(&list);
            for v in &found {
                let mark = if allowed.contains(&v.key) {
                    "allowed"
                } else {
                    "NEW"
                };
                println!("{mark:7} {}  ({})", v.key, v.detail);
            }
            let verdict = ward_arch::judge(&found, &allowed);
            for k in &verdict.stale {
                println!(
                    "STALE   {k}  (fixed: remove it from {})",
                    ward_arch::ALLOWED
                );
            }
            Ok(verdict.new.is_empty() && verdict.stale.is_empty())
        }
        _ => Err("usage: ward-arch [check] | graph [--write]".into()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ward-arch: {e}");
            ExitCode::from(2)
        }
    }
}

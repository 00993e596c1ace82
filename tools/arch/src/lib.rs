//! Architecture checks for the ward workspace (docs/architecture.md,
//! "Checked rules"): no import loop between files of a crate, no function
//! over 150 lines, no crate over 4,000 lines of code without a written
//! reason, and a crate graph in the doc generated from `cargo metadata`.

pub mod fns;
pub mod graph;
pub mod loc;
pub mod loops;
pub mod metadata;
pub mod modtree;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use metadata::{Package, Workspace};
use modtree::Tree;

pub const FN_LIMIT: usize = 150;
pub const CRATE_LIMIT: usize = 4000;
pub const DOC: &str = "docs/architecture.md";
pub const ALLOWED: &str = "tools/arch/allowed.txt";

/// One broken rule. `key` is stable (no line numbers) so that the
/// allow-list can name it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub key: String,
    pub detail: String,
}

/// Packages the rules apply to: those under crates/ and bins/.
pub fn checked(ws: &Workspace) -> Vec<&Package> {
    ws.packages
        .iter()
        .filter(|p| p.dir.starts_with("crates") || p.dir.starts_with("bins"))
        .collect()
}

fn rel(ws: &Workspace, p: &Path) -> String {
    p.strip_prefix(&ws.root).unwrap_or(p).display().to_string()
}

/// Every target's module tree of a package.
fn trees(p: &Package) -> Result<Vec<(String, Tree)>, String> {
    let mut out = Vec::new();
    for t in &p.targets {
        out.push((format!("{} {}", t.kind, t.name), Tree::load(&t.root)?));
    }
    Ok(out)
}

pub fn loops(ws: &Workspace) -> Result<Vec<Violation>, String> {
    let mut seen = BTreeSet::new();
    for p in checked(ws) {
        for (_, tree) in trees(p)? {
            for cycle in loops::cycles(&loops::graph(&tree)) {
                let files: Vec<String> = cycle.iter().map(|f| rel(ws, f)).collect();
                seen.insert(Violation {
                    key: format!("loop {}", files.join(" ")),
                    detail: format!("{}: files import each other in a loop", p.name),
                });
            }
        }
    }
    Ok(seen.into_iter().collect())
}

pub fn long_fns(ws: &Workspace) -> Result<Vec<Violation>, String> {
    let mut files: BTreeMap<PathBuf, syn::File> = BTreeMap::new();
    for p in checked(ws) {
        for (_, tree) in trees(p)? {
            files.extend(tree.files);
        }
    }
    let mut out = Vec::new();
    for (file, ast) in &files {
        for f in fns::long_fns(ast, FN_LIMIT) {
            out.push(Violation {
                key: format!("long-fn {} {}", rel(ws, file), f.name),
                detail: format!("line {}: {} lines (limit {FN_LIMIT})", f.line, f.lines),
            });
        }
    }
    Ok(out)
}

/// Lines of code of a package: its library, binaries and build script,
/// without `#[cfg(test)]` code and without tests/.
pub fn crate_loc(p: &Package) -> Result<usize, String> {
    let mut shipped: BTreeMap<PathBuf, syn::File> = BTreeMap::new();
    for t in &p.targets {
        if !["lib", "bin", "custom-build", "proc-macro"].contains(&t.kind.as_str()) {
            continue;
        }
        let tree = Tree::load(&t.root)?;
        for (file, ast) in tree.files {
            let test_only = tree
                .modules
                .iter()
                .filter(|m| m.file == file)
                .all(|m| m.test_only);
            if !test_only {
                shipped.insert(file, ast);
            }
        }
    }
    let mut total = 0;
    for (file, ast) in &shipped {
        let src = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        total += loc::count(&src, ast).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(total)
}

/// Crates the doc gives a reason to be big: lines of the form
/// `- **ward-x** (over 4k lines): the reason`.
pub fn size_reasons(doc: &str) -> Vec<String> {
    doc.lines()
        .filter_map(|l| {
            let rest = l.trim_start().strip_prefix("- **")?;
            let (name, rest) = rest.split_once("**")?;
            let reason = rest.strip_prefix(" (over 4k lines):")?;
            (!reason.trim().is_empty()).then(|| name.to_owned())
        })
        .collect()
}

pub fn sizes(ws: &Workspace, doc: &str) -> Result<Vec<Violation>, String> {
    let reasons = size_reasons(doc);
    let mut out = Vec::new();
    for p in checked(ws) {
        let lines = crate_loc(p)?;
        if lines > CRATE_LIMIT && !reasons.contains(&p.name) {
            out.push(Violation {
                key: format!("size {}", p.name),
                detail: format!(
                    "{lines} lines of code (limit {CRATE_LIMIT} without a reason in {DOC})"
                ),
            });
        }
    }
    Ok(out)
}

pub fn diagram(ws: &Workspace, doc: &str) -> Vec<Violation> {
    let want = graph::mermaid(ws);
    if graph::block(doc) == Some(want.as_str()) {
        return Vec::new();
    }
    vec![Violation {
        key: "graph".into(),
        detail: format!(
            "the crate graph in {DOC} is not the generated one: run `cargo run -p ward-arch -- graph --write`"
        ),
    }]
}

/// Every violation in the workspace, allowed or not.
pub fn all(ws: &Workspace) -> Result<Vec<Violation>, String> {
    let doc = std::fs::read_to_string(ws.root.join(DOC)).map_err(|e| format!("{DOC}: {e}"))?;
    let mut out = loops(ws)?;
    out.extend(long_fns(ws)?);
    out.extend(sizes(ws, &doc)?);
    out.extend(diagram(ws, &doc));
    Ok(out)
}

/// The allow-list: one key per line, then `#` and why it is allowed.
pub fn allowed(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_once(" #").map_or(l, |(k, _)| k).trim())
        .filter(|k| !k.is_empty() && !k.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// What the check reports: violations not on the allow-list, and
/// allow-list entries no longer needed (so the list can only shrink).
pub struct Verdict {
    pub new: Vec<Violation>,
    pub stale: Vec<String>,
}

pub fn judge(found: &[Violation], allowed: &[String]) -> Verdict {
    Verdict {
        new: found
            .iter()
            .filter(|v| !allowed.contains(&v.key))
            .cloned()
            .collect(),
        stale: allowed
            .iter()
            .filter(|k| !found.iter().any(|v| &v.key == *k))
            .cloned()
            .collect(),
    }
}

/// The workspace this tool belongs to.
pub fn workspace() -> Result<Workspace, String> {
    Workspace::load(Path::new(env!("CARGO_MANIFEST_DIR")))
}

//! The crate graph of the workspace as a Mermaid flowchart, and the block
//! of docs/architecture.md that must hold it.

use crate::metadata::Workspace;

pub const BEGIN: &str = "<!-- BEGIN generated: cargo run -p ward-arch -- graph --write -->";
pub const END: &str = "<!-- END generated -->";

fn node_id(name: &str) -> String {
    name.replace('-', "_")
}

/// Every workspace crate and its dependencies on the others: normal ones
/// as solid arrows, dev- and build-only ones dotted and labelled.
/// Dependencies are sorted by name, their kinds alphabetically.
pub fn mermaid(ws: &Workspace) -> String {
    let mut out = String::from("```mermaid\nflowchart TD\n");
    for p in &ws.packages {
        out.push_str(&format!(
            "  {}[\"{}<br/>{}\"]\n",
            node_id(&p.name),
            p.name,
            p.dir.display()
        ));
    }
    for p in &ws.packages {
        let mut deps: Vec<&str> = p.deps.iter().map(|d| d.name.as_str()).collect();
        deps.dedup();
        for dep in deps {
            let kinds: Vec<&str> = p
                .deps
                .iter()
                .filter(|d| d.name == dep)
                .map(|d| d.kind.as_str())
                .collect();
            let arrow = if kinds.contains(&"normal") {
                "-->".to_owned()
            } else {
                format!("-.->|{}|", kinds.join(", "))
            };
            out.push_str(&format!(
                "  {} {arrow} {}\n",
                node_id(&p.name),
                node_id(dep)
            ));
        }
    }
    out.push_str("```\n");
    out
}

/// The text between the markers in `doc`, if both are there.
pub fn block(doc: &str) -> Option<&str> {
    let start = doc.find(BEGIN)? + BEGIN.len();
    let len = doc[start..].find(END)?;
    Some(doc[start..start + len].trim_start_matches('\n'))
}

/// `doc` with the block between the markers replaced by `graph`.
pub fn replace(doc: &str, graph: &str) -> Option<String> {
    let start = doc.find(BEGIN)? + BEGIN.len();
    let len = doc[start..].find(END)?;
    Some(format!("{}\n{graph}{}", &doc[..start], &doc[start + len..]))
}

//! docs/policy.md's table of rules is what the code enforces: every rule
//! once, with its CIS items, severity and default mode, and the list of
//! rules `exec` checks is the process-scoped ones. A reader who trusts the
//! table gets the defaults ward applies (issue 15).

use ward_policy::{Scope, RULES};

const DOC: &str = include_str!("../../../docs/policy.md");

/// The table's rows: (id, CIS column, severity, default mode).
fn doc_rows() -> Vec<(String, String, String, String)> {
    DOC.lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let plain = |s: &str| s.trim_matches(|c| c == '`' || c == '*').to_string();
            (
                plain(cells[1]),
                plain(cells[2]),
                plain(cells[3]),
                plain(cells[4]),
            )
        })
        .collect()
}

#[test]
fn every_rule_is_in_the_doc_table_as_the_code_has_it() {
    let rows = doc_rows();
    for r in RULES {
        let found: Vec<_> = rows.iter().filter(|row| row.0 == r.id).collect();
        assert_eq!(
            found.len(),
            1,
            "rule {} in docs/policy.md's table: {found:?}",
            r.id
        );
        let (_, cis, severity, mode) = found[0];
        let want_cis = if r.cis.is_empty() {
            "–".to_string()
        } else {
            r.cis.join(", ")
        };
        assert_eq!(cis, &want_cis, "CIS of {}", r.id);
        assert_eq!(severity, r.severity.as_str(), "severity of {}", r.id);
        assert_eq!(mode, r.default_mode.as_str(), "default mode of {}", r.id);
    }
    assert_eq!(
        rows.len(),
        RULES.len(),
        "rows of docs/policy.md's table without a rule"
    );
}

#[test]
fn the_doc_names_the_rules_exec_checks() {
    let start = DOC
        .find("`create`/`run` see every rule; `exec` only")
        .expect("docs/policy.md says which rules exec checks");
    let len = DOC[start..]
        .find("checked on the process")
        .expect("the list ends with \"checked on the process\"");
    let line = &DOC[start..start + len];
    for r in RULES {
        let named = line.contains(&format!("`{}`", r.id))
            || (r.id.starts_with("caps.") && line.contains("`caps.*`"));
        assert_eq!(
            named,
            r.scope == Scope::Process,
            "docs/policy.md's list of exec's rules and {} ({:?})",
            r.id,
            r.scope
        );
    }
}

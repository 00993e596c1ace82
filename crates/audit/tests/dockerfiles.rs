//! `ward audit dockerfile`'s checks on testdata/dockerfiles: each
//! `weak-*.Dockerfile` has a `.expected` file of "LINE ID" lines (every
//! finding with its line, nothing more); `clean-*.Dockerfile` have none.

use std::path::{Path, PathBuf};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/dockerfiles")
}

fn findings(p: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let mut v: Vec<String> = ward_audit::check_dockerfile(p, &text)
        .into_iter()
        .map(|f| format!("{} {}", f.line.unwrap_or(0), f.id))
        .collect();
    v.sort_by_key(|s| {
        let (l, id) = s.split_once(' ').unwrap_or((s, ""));
        (l.parse::<u32>().unwrap_or(0), id.to_string())
    });
    v
}

fn dockerfiles(prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir())
        .expect("testdata/dockerfiles")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".Dockerfile"))
        })
        .collect();
    v.sort();
    assert!(!v.is_empty(), "no {prefix}*.Dockerfile");
    v
}

#[test]
fn weak_dockerfiles_have_exactly_their_findings() {
    for p in dockerfiles("weak-") {
        let want: Vec<String> = std::fs::read_to_string(p.with_extension("expected"))
            .unwrap_or_else(|e| panic!("{}.expected: {e}", p.display()))
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(String::from)
            .collect();
        assert_eq!(findings(&p), want, "{}", p.display());
    }
}

#[test]
fn clean_dockerfiles_have_no_findings() {
    for p in dockerfiles("clean-") {
        assert_eq!(findings(&p), Vec::<String>::new(), "{}", p.display());
    }
}

#[test]
fn every_finding_is_complete() {
    for p in dockerfiles("weak-") {
        let text = std::fs::read_to_string(&p).expect("read");
        for f in ward_audit::check_dockerfile(&p, &text) {
            assert!(f.id.starts_with("dockerfile."), "{f:?}");
            assert!(
                !f.title.is_empty() && !f.seen.is_empty() && !f.why.is_empty() && !f.fix.is_empty(),
                "{f:?}"
            );
            assert_eq!(f.file.as_deref(), Some(p.as_path()));
            assert!(f.line.is_some_and(|l| l > 0), "{f:?}");
        }
    }
}

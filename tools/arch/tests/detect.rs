//! The checks find what they claim to on small made-up crates.

use std::path::{Path, PathBuf};

use ward_arch::modtree::Tree;

/// A fresh directory under the system's temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("ward-arch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }

    fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.0.join(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("dir");
        std::fs::write(&p, text).expect("write");
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn names(root: &Path, cycles: Vec<Vec<PathBuf>>) -> Vec<Vec<String>> {
    cycles
        .into_iter()
        .map(|c| {
            c.iter()
                .map(|f| f.strip_prefix(root).expect("in root").display().to_string())
                .collect()
        })
        .collect()
}

#[test]
fn a_loop_through_any_kind_of_path_is_found() {
    let d = TempDir::new("loop");
    let lib = d.write("src/lib.rs", "mod a;\nmod b;\nmod c;\npub struct Root;\n");
    d.write("src/a.rs", "use crate::b::B;\npub struct A;\n");
    d.write(
        "src/b.rs",
        "pub struct B;\nfn f() { let _ = super::c::g(); }\n",
    );
    d.write(
        "src/c.rs",
        "pub fn g() { let _ = format!(\"{:?}\", crate::a::A); }\n",
    );
    let tree = Tree::load(&lib).expect("tree");
    let cycles = ward_arch::loops::cycles(&ward_arch::loops::graph(&tree));
    assert_eq!(
        names(&d.0, cycles),
        vec![vec!["src/a.rs", "src/b.rs", "src/c.rs"]]
    );
}

#[test]
fn re_exports_pass_through_and_mod_declarations_are_no_edges() {
    let d = TempDir::new("facade");
    let lib = d.write(
        "src/lib.rs",
        "mod a;\nmod b;\npub use a::A;\npub use b::B;\npub struct Root;\n",
    );
    // a uses b through the root's re-export, b uses a type the root defines:
    // no loop, and the edge from a leads to b.
    d.write("src/a.rs", "use crate::B;\npub struct A;\n");
    d.write("src/b.rs", "pub struct B(crate::Root);\n");
    let tree = Tree::load(&lib).expect("tree");
    let g = ward_arch::loops::graph(&tree);
    assert!(ward_arch::loops::cycles(&g).is_empty(), "{g:?}");
    assert!(g[&d.0.join("src/a.rs")].contains(&d.0.join("src/b.rs")));
    assert!(g[&lib].is_empty(), "{g:?}");
}

#[test]
fn a_re_export_outside_a_facade_is_a_use() {
    let d = TempDir::new("leaf-reexport");
    let lib = d.write("src/lib.rs", "mod a;\nmod b;\n");
    // a names B only through its own re-export; b uses a.
    d.write(
        "src/a.rs",
        "pub(crate) use crate::b::B;\npub struct A(B);\n",
    );
    d.write("src/b.rs", "pub struct B;\npub fn f(_: crate::a::A) {}\n");
    let tree = Tree::load(&lib).expect("tree");
    let cycles = ward_arch::loops::cycles(&ward_arch::loops::graph(&tree));
    assert_eq!(names(&d.0, cycles), vec![vec!["src/a.rs", "src/b.rs"]]);
}

#[test]
fn the_root_is_a_file_like_any_other() {
    let d = TempDir::new("root");
    let lib = d.write(
        "src/lib.rs",
        "mod m;\npub struct T;\npub fn run() { m::go() }\n",
    );
    d.write("src/m/mod.rs", "mod inner;\npub fn go() { inner::x() }\n");
    d.write("src/m/inner.rs", "pub fn x() { let _ = crate::T; }\n");
    let tree = Tree::load(&lib).expect("tree");
    let cycles = ward_arch::loops::cycles(&ward_arch::loops::graph(&tree));
    assert_eq!(
        names(&d.0, cycles),
        vec![vec!["src/lib.rs", "src/m/inner.rs", "src/m/mod.rs"]]
    );
}

#[test]
fn long_functions_in_impls_traits_and_bodies_are_found() {
    let filler = "    let _x = 1;\n".repeat(150);
    let src = format!(
        "struct S;\nimpl S {{\n    fn short() {{}}\n    fn long() {{\n{filler}    }}\n}}\n\
         trait T {{ fn deflt() {{\n{filler}}} }}\n\
         fn outer() {{\n    fn inner() {{\n{filler}    }}\n}}\n\
         /// doc\n#[inline]\nfn exactly() {{\n{}}}\n",
        "    let _x = 1;\n".repeat(148)
    );
    let ast = syn::parse_file(&src).expect("parse");
    let found: Vec<(String, usize)> = ward_arch::fns::long_fns(&ast, 150)
        .into_iter()
        .map(|f| (f.name, f.lines))
        .collect();
    assert_eq!(
        found,
        vec![
            ("S::long".to_owned(), 152),
            ("T::deflt".to_owned(), 152),
            // A nested function's lines are its parent's too.
            ("outer".to_owned(), 154),
            ("outer::inner".to_owned(), 152),
        ]
    );
}

#[test]
fn lines_of_code_skip_blanks_comments_docs_and_tests() {
    let src = "//! crate doc\n\n/// item doc\npub fn f() -> u32 {\n    // why\n    /* block\n       comment */\n    1\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {}\n}\n";
    let ast = syn::parse_file(src).expect("parse");
    assert_eq!(ward_arch::loc::count(src, &ast).expect("count"), 3);
}

#[test]
fn size_reasons_need_the_marker_and_a_reason() {
    let doc = "- **ward-big** (over 4k lines): three drivers in one crate\n- **ward-bare** (over 4k lines):\n- **ward-other**: big\n";
    assert_eq!(ward_arch::size_reasons(doc), vec!["ward-big".to_owned()]);
}

#[test]
fn the_allow_list_only_shrinks() {
    let found = vec![ward_arch::Violation {
        key: "size ward-x".into(),
        detail: String::new(),
    }];
    let allowed = ward_arch::allowed("# header\nsize ward-x # issue 16\nsize ward-y # issue 16\n");
    let v = ward_arch::judge(&found, &allowed);
    assert!(v.new.is_empty());
    assert_eq!(v.stale, vec!["size ward-y".to_owned()]);
    let v = ward_arch::judge(&found, &[]);
    assert_eq!(v.new.len(), 1);
}

//! File-level import loops inside one crate target.
//!
//! Rule (docs/architecture.md, "Checked rules"): a file depends on another
//! when it names a path that resolves to an item of a module held by that
//! file — `use` items, `crate::`/`super::`/`self::` paths, plain paths
//! through a declared child module, in code, types, patterns and macro
//! arguments. `mod x;` is not a dependency. A non-private `use` (a
//! re-export) is a pass-through: paths through it lead to the file that
//! defines the item; in a facade (the crate root, lib.rs, main.rs, mod.rs)
//! the re-exporting file gains no edge from it, elsewhere it does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;
use syn::Visibility;

use crate::modtree::{flatten_use, ModId, Tree};

pub type Graph = BTreeMap<PathBuf, BTreeSet<PathBuf>>;

struct Collector<'a> {
    tree: &'a Tree,
    file: &'a Path,
    module: ModId,
    edges: &'a mut Graph,
}

impl Collector<'_> {
    fn edge(&mut self, path: &[String]) {
        let Some(abs) = self.tree.absolute(self.module, path) else {
            return;
        };
        let target = &self.tree.modules[self.tree.target(&abs)].file;
        if target != self.file {
            self.edges
                .entry(self.file.to_path_buf())
                .or_default()
                .insert(target.clone());
        }
    }

    fn scan_tokens(&mut self, tokens: TokenStream) {
        let flat: Vec<TokenTree> = tokens.into_iter().collect();
        let mut i = 0;
        while i < flat.len() {
            if let TokenTree::Group(g) = &flat[i] {
                self.scan_tokens(g.stream());
                i += 1;
                continue;
            }
            let mut segs = Vec::new();
            let mut j = i;
            while let Some(TokenTree::Ident(id)) = flat.get(j) {
                segs.push(id.to_string());
                let colons = matches!((flat.get(j + 1), flat.get(j + 2)),
                    (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b))) if a.as_char() == ':' && b.as_char() == ':');
                if !colons {
                    break;
                }
                j += 3;
            }
            if segs.len() >= 2 {
                self.edge(&segs);
                i = j.max(i + 1);
            } else {
                i += 1;
            }
        }
    }
}

impl<'ast> Visit<'ast> for Collector<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if m.content.is_none() {
            return;
        }
        let outer = self.module;
        if let Some(&child) = self.tree.modules[outer].children.get(&m.ident.to_string()) {
            self.module = child;
        }
        syn::visit::visit_item_mod(self, m);
        self.module = outer;
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        // A facade's re-export is a pass-through, not a use. Elsewhere a
        // `pub(crate) use` is also a use (the file names the item itself),
        // or a loop could hide behind one.
        let root = self.tree.modules[0].file.as_path() == self.file;
        let facade = root
            || matches!(
                self.file.file_name().and_then(|n| n.to_str()),
                Some("mod.rs" | "lib.rs" | "main.rs")
            );
        if facade && !matches!(u.vis, Visibility::Inherited) {
            return;
        }
        let mut out = Vec::new();
        flatten_use(&u.tree, &mut Vec::new(), &mut out);
        for (path, _) in out {
            self.edge(&path);
        }
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        if p.leading_colon.is_none() && p.segments.len() >= 2 {
            let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
            self.edge(&segs);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        self.visit_path(&m.path);
        self.scan_tokens(m.tokens.clone());
    }
}

/// The file dependency graph of one target.
pub fn graph(tree: &Tree) -> Graph {
    let mut edges = Graph::new();
    for (file, ast) in &tree.files {
        // The module a file holds: the first one whose file it is.
        let Some(module) = tree.modules.iter().position(|m| &m.file == file) else {
            continue;
        };
        edges.entry(file.clone()).or_default();
        let mut c = Collector {
            tree,
            file,
            module,
            edges: &mut edges,
        };
        c.visit_file(ast);
    }
    edges
}

/// Strongly connected components with more than one file, each sorted,
/// in sorted order (Tarjan).
pub fn cycles(g: &Graph) -> Vec<Vec<PathBuf>> {
    struct State<'a> {
        g: &'a Graph,
        index: BTreeMap<&'a PathBuf, usize>,
        low: BTreeMap<&'a PathBuf, usize>,
        stack: Vec<&'a PathBuf>,
        on_stack: BTreeSet<&'a PathBuf>,
        out: Vec<Vec<PathBuf>>,
    }
    fn connect<'a>(s: &mut State<'a>, v: &'a PathBuf) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let g = s.g;
        for w in g.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                connect(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                scc.push(w.clone());
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                scc.sort();
                s.out.push(scc);
            }
        }
    }
    let mut s = State {
        g,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in g.keys() {
        if !s.index.contains_key(v) {
            connect(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

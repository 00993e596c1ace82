//! A target's module tree: which file holds which module, what each
//! module declares and re-exports.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use syn::{Attribute, Item, UseTree, Visibility};

pub type ModId = usize;

#[derive(Debug)]
pub struct Module {
    pub name: String,
    pub parent: Option<ModId>,
    pub file: PathBuf,
    /// Compiled only for tests: declared under `#[cfg(test)]` (or inside
    /// a module that is).
    pub test_only: bool,
    pub children: BTreeMap<String, ModId>,
    /// `pub use` (any visibility but private): name → absolute path of
    /// what it re-exports (crate-relative segments).
    pub reexports: BTreeMap<String, Vec<String>>,
}

#[derive(Default)]
pub struct Tree {
    pub modules: Vec<Module>,
    /// Every file of the tree, parsed.
    pub files: BTreeMap<PathBuf, syn::File>,
}

/// `#[cfg(test)]` or `#[cfg(all(test, ...))]`: code the build never ships.
pub fn is_test_only(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| {
        if !a.path().is_ident("cfg") {
            return false;
        }
        let Ok(list) = a.meta.require_list() else {
            return false;
        };
        let tokens = list.tokens.to_string().replace(' ', "");
        tokens == "test" || tokens.starts_with("all(test,")
    })
}

fn path_attr(attrs: &[Attribute]) -> Option<String> {
    attrs.iter().find_map(|a| {
        if !a.path().is_ident("path") {
            return None;
        }
        let nv = a.meta.require_name_value().ok()?;
        match &nv.value {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        }
    })
}

/// Flattens a use tree into (path segments, name it binds); a glob binds
/// no name.
pub fn flatten_use(
    tree: &UseTree,
    prefix: &mut Vec<String>,
    out: &mut Vec<(Vec<String>, Option<String>)>,
) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) => {
            let name = n.ident.to_string();
            if name == "self" {
                let bound = prefix.last().cloned();
                out.push((prefix.clone(), bound));
            } else {
                let mut p = prefix.clone();
                p.push(name.clone());
                out.push((p, Some(name)));
            }
        }
        UseTree::Rename(r) => {
            let mut p = prefix.clone();
            let name = r.ident.to_string();
            if name != "self" {
                p.push(name);
            }
            out.push((p, Some(r.rename.to_string())));
        }
        UseTree::Glob(_) => out.push((prefix.clone(), None)),
        UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, out);
            }
        }
    }
}

impl Tree {
    /// Reads the module tree rooted at `root` (a target's src_path).
    pub fn load(root: &Path) -> Result<Tree, String> {
        let mut tree = Tree::default();
        let id = tree.add(String::new(), None, root, false);
        let dir = root.parent().unwrap_or(Path::new("")).to_path_buf();
        tree.load_file(id, root, dir)?;
        tree.resolve_reexports();
        Ok(tree)
    }

    fn add(&mut self, name: String, parent: Option<ModId>, file: &Path, test_only: bool) -> ModId {
        let id = self.modules.len();
        self.modules.push(Module {
            name: name.clone(),
            parent,
            file: file.to_path_buf(),
            test_only,
            children: BTreeMap::new(),
            reexports: BTreeMap::new(),
        });
        if let Some(p) = parent {
            self.modules[p].children.insert(name, id);
        }
        id
    }

    /// `dir`: where `mod x;` inside module `id` looks for x.rs or x/mod.rs.
    fn load_file(&mut self, id: ModId, file: &Path, dir: PathBuf) -> Result<(), String> {
        if self.files.contains_key(file) {
            return Ok(());
        }
        let src = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
        let ast = syn::parse_file(&src).map_err(|e| format!("{}: {e}", file.display()))?;
        self.files.insert(file.to_path_buf(), ast.clone());
        self.load_items(id, file, &ast.items, dir)
    }

    fn load_items(
        &mut self,
        id: ModId,
        file: &Path,
        items: &[Item],
        dir: PathBuf,
    ) -> Result<(), String> {
        for item in items {
            match item {
                Item::Mod(m) => {
                    let name = m.ident.to_string();
                    let test_only = self.modules[id].test_only || is_test_only(&m.attrs);
                    let explicit = path_attr(&m.attrs);
                    if let Some((_, inner)) = &m.content {
                        let child = self.add(name.clone(), Some(id), file, test_only);
                        let sub = match explicit {
                            Some(p) => dir.join(p),
                            None => dir.join(&name),
                        };
                        self.load_items(child, file, inner, sub)?;
                        continue;
                    }
                    let child_file = match explicit {
                        Some(p) => file.parent().unwrap_or(Path::new("")).join(p),
                        None => {
                            let flat = dir.join(format!("{name}.rs"));
                            if flat.exists() {
                                flat
                            } else {
                                dir.join(&name).join("mod.rs")
                            }
                        }
                    };
                    let child = self.add(name.clone(), Some(id), &child_file, test_only);
                    let child_dir = module_dir(&child_file);
                    self.load_file(child, &child_file, child_dir)?;
                }
                Item::Use(u) if !matches!(u.vis, Visibility::Inherited) => {
                    let mut out = Vec::new();
                    flatten_use(&u.tree, &mut Vec::new(), &mut out);
                    for (path, name) in out {
                        if let Some(name) = name {
                            // Made absolute once the whole tree is known.
                            self.modules[id].reexports.insert(name, path);
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Rewrites every re-export's path to an absolute one (from the crate
    /// root); re-exports of other crates' items are dropped.
    fn resolve_reexports(&mut self) {
        for id in 0..self.modules.len() {
            let entries: Vec<(String, Vec<String>)> =
                std::mem::take(&mut self.modules[id].reexports)
                    .into_iter()
                    .collect();
            let mut abs = BTreeMap::new();
            for (name, path) in entries {
                if let Some(p) = self.absolute(id, &path) {
                    abs.insert(name, p);
                }
            }
            self.modules[id].reexports = abs;
        }
    }

    /// The crate-relative form of `path` as written in module `at`, if it
    /// names something in this crate.
    pub fn absolute(&self, at: ModId, path: &[String]) -> Option<Vec<String>> {
        let (first, rest) = path.split_first()?;
        let (base, rest) = match first.as_str() {
            "crate" => (0, rest),
            "self" => (at, rest),
            "super" => {
                let mut m = self.modules[at].parent?;
                let mut rest = rest;
                while rest.first().map(String::as_str) == Some("super") {
                    m = self.modules[m].parent?;
                    rest = &rest[1..];
                }
                (m, rest)
            }
            _ if self.modules[at].children.contains_key(first) => (at, path),
            _ => return None,
        };
        let mut abs = self.path_of(base);
        abs.extend(rest.iter().cloned());
        Some(abs)
    }

    pub fn path_of(&self, id: ModId) -> Vec<String> {
        let mut segs = Vec::new();
        let mut m = id;
        while let Some(p) = self.modules[m].parent {
            segs.push(self.modules[m].name.clone());
            m = p;
        }
        segs.reverse();
        segs
    }

    /// The module that defines what the absolute `path` names, following
    /// re-exports: the deepest module the path walks into.
    pub fn target(&self, path: &[String]) -> ModId {
        self.target_depth(path, 0)
    }

    fn target_depth(&self, path: &[String], depth: usize) -> ModId {
        let mut m = 0;
        for (i, seg) in path.iter().enumerate() {
            if let Some(&c) = self.modules[m].children.get(seg) {
                m = c;
                continue;
            }
            if let Some(re) = self.modules[m].reexports.get(seg) {
                if depth < 16 {
                    let mut p = re.clone();
                    p.extend(path[i + 1..].iter().cloned());
                    return self.target_depth(&p, depth + 1);
                }
            }
            break;
        }
        m
    }
}

/// Where `mod x;` in `file` looks: beside it for lib.rs, main.rs, mod.rs
/// (and any crate root), else in the directory named after it.
fn module_dir(file: &Path) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new("")).to_path_buf();
    match file.file_stem().and_then(|s| s.to_str()) {
        Some("mod") | Some("lib") | Some("main") => parent,
        Some(stem) => parent.join(stem),
        None => parent,
    }
}

//! Functions longer than the limit, counted from the `fn` line to the
//! closing brace (attributes and doc comments not included).

use syn::spanned::Spanned;
use syn::visit::Visit;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LongFn {
    /// `Type::method`, `outer::inner`, or the function's name; inline
    /// modules prefix it (`tests::big`).
    pub name: String,
    pub line: usize,
    pub lines: usize,
}

struct Finder {
    limit: usize,
    scope: Vec<String>,
    found: Vec<LongFn>,
}

impl Finder {
    fn check(&mut self, name: &syn::Ident, sig: &syn::Signature, block: &syn::Block) {
        let start = sig.fn_token.span().start().line;
        let end = block.brace_token.span.close().end().line;
        let lines = end + 1 - start;
        if lines > self.limit {
            let mut full = self.scope.clone();
            full.push(name.to_string());
            self.found.push(LongFn {
                name: full.join("::"),
                line: start,
                lines,
            });
        }
    }

    fn scoped(&mut self, name: String, f: impl FnOnce(&mut Self)) {
        self.scope.push(name);
        f(self);
        self.scope.pop();
    }
}

fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        syn::Type::Reference(r) => type_name(&r.elem),
        _ => "_".into(),
    }
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.check(&f.sig.ident, &f.sig, &f.block);
        self.scoped(f.sig.ident.to_string(), |s| syn::visit::visit_item_fn(s, f));
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.check(&f.sig.ident, &f.sig, &f.block);
        self.scoped(f.sig.ident.to_string(), |s| {
            syn::visit::visit_impl_item_fn(s, f)
        });
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.check(&f.sig.ident, &f.sig, block);
        }
        self.scoped(f.sig.ident.to_string(), |s| {
            syn::visit::visit_trait_item_fn(s, f)
        });
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        self.scoped(type_name(&i.self_ty), |s| syn::visit::visit_item_impl(s, i));
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        self.scoped(t.ident.to_string(), |s| syn::visit::visit_item_trait(s, t));
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        self.scoped(m.ident.to_string(), |s| syn::visit::visit_item_mod(s, m));
    }
}

/// Every function, method and nested function in `ast` longer than
/// `limit` lines, test code included.
pub fn long_fns(ast: &syn::File, limit: usize) -> Vec<LongFn> {
    let mut f = Finder {
        limit,
        scope: Vec::new(),
        found: Vec::new(),
    };
    f.visit_file(ast);
    f.found.sort();
    f.found
}

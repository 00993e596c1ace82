//! Lines of code: lines holding a token of the program — not blank, not
//! only a comment or doc comment — outside `#[cfg(test)]` items.

use std::collections::BTreeSet;

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::spanned::Spanned;

use crate::modtree::is_test_only;

fn mark_tokens(tokens: TokenStream, lines: &mut BTreeSet<usize>) {
    let flat: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < flat.len() {
        // `#[doc = "..."]` and `#![doc = "..."]` are what comments become.
        let bang = matches!(&flat.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
        let group_at = if bang { i + 2 } else { i + 1 };
        if let (TokenTree::Punct(p), Some(TokenTree::Group(g))) = (&flat[i], flat.get(group_at)) {
            let is_doc = p.as_char() == '#'
                && g.delimiter() == Delimiter::Bracket
                && matches!(g.stream().into_iter().next(), Some(TokenTree::Ident(id)) if id == "doc");
            if is_doc {
                i = group_at + 1;
                continue;
            }
        }
        match &flat[i] {
            TokenTree::Group(g) => {
                lines.insert(g.span_open().start().line);
                lines.insert(g.span_close().start().line);
                mark_tokens(g.stream(), lines);
            }
            t => {
                let span = t.span();
                lines.extend(span.start().line..=span.end().line);
            }
        }
        i += 1;
    }
}

fn test_ranges(items: &[syn::Item], out: &mut Vec<(usize, usize)>) {
    for item in items {
        let attrs: &[syn::Attribute] = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Macro(m) => &m.attrs,
            _ => &[],
        };
        if is_test_only(attrs) {
            let span = item.span();
            out.push((span.start().line, span.end().line));
        } else if let syn::Item::Mod(syn::ItemMod {
            content: Some((_, inner)),
            ..
        }) = item
        {
            test_ranges(inner, out);
        }
    }
}

/// Lines of code in one source file.
pub fn count(src: &str, ast: &syn::File) -> Result<usize, String> {
    let tokens: TokenStream = src.parse().map_err(|e| format!("{e}"))?;
    let mut lines = BTreeSet::new();
    mark_tokens(tokens, &mut lines);
    let mut tests = Vec::new();
    test_ranges(&ast.items, &mut tests);
    Ok(lines
        .into_iter()
        .filter(|l| !tests.iter().any(|(a, b)| a <= l && l <= b))
        .count())
}

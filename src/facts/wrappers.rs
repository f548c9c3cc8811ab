//! The analysed code's own attribute macros that wrap a function's body (`#[proc_macro_attribute] pub fn
//! transactional_handler(..)` quoting `#sig { Runner::from(catalog).transactional(|c| async move { #body
//! }).await }`), read as the template they quote: a function they are put on runs the template, with its own
//! body where the template places it. Nothing is executed: the template is data in the macro's source.
//!
//! Only the body is filled in: the other interpolations (`stringify!(#name)`) become a placeholder name,
//! and repetitions are left out. A macro whose template does not place the body inside a block of its own
//! (it quotes pieces for other functions) is not read.

use std::collections::BTreeMap;

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};

/// The ident the template's body interpolation is written as.
const BODY: &str = "__hopcheck_body";
/// The ident any other interpolation is written as.
const VALUE: &str = "__hopcheck_value";

/// Body templates by attribute name, as text (token streams are tied to the thread that made them).
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct WrapperTable {
    by_name: BTreeMap<String, String>,
}

impl WrapperTable {
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// Adds `other`'s templates (its own first).
    pub fn extend(&mut self, other: &WrapperTable) {
        for (name, template) in &other.by_name {
            self.by_name
                .entry(name.clone())
                .or_insert_with(|| template.clone());
        }
    }

    /// The attribute macros a file's tokens define.
    pub fn collect(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            if let TokenTree::Group(g) = tree {
                if g.delimiter() == Delimiter::Brace {
                    self.collect(g.stream());
                }
            }
            if !is_attribute_macro(tree, trees.get(i + 1)) {
                continue;
            }
            // `pub fn name(attr: TokenStream, item: TokenStream) -> TokenStream { body }`.
            let mut rest = trees[i + 2..].iter();
            let Some(TokenTree::Ident(name)) =
                rest.by_ref().skip_while(|t| !is_ident(t, "fn")).nth(1)
            else {
                continue;
            };
            let Some(body) = rest.find_map(|t| match t {
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(g.stream()),
                _ => None,
            }) else {
                continue;
            };
            if let Some(template) = body_template(&body) {
                self.by_name.insert(name.to_string(), template);
            }
        }
    }

    /// The body a function with these attributes runs, where one of them is an attribute macro of the
    /// code: its template with `block` in place, at `block`'s place.
    pub fn wrap(&self, attrs: &[syn::Attribute], block: &syn::Block) -> Option<syn::Block> {
        let template = attrs.iter().find_map(|a| {
            let name = a.path().segments.last()?.ident.to_string();
            self.by_name.get(&name)
        })?;
        let tokens: TokenStream = template.parse().ok()?;
        let site = block.brace_token.span.join();
        let body = match quote::ToTokens::to_token_stream(block).into_iter().next() {
            Some(TokenTree::Group(g)) => g,
            _ => return None,
        };
        let filled = fill(tokens, &body, site);
        let mut outer = Group::new(Delimiter::Brace, filled);
        outer.set_span(site);
        syn::parse2::<syn::Block>(TokenTree::Group(outer).into()).ok()
    }
}

/// `#[proc_macro_attribute]`.
fn is_attribute_macro(hash: &TokenTree, attr: Option<&TokenTree>) -> bool {
    let (TokenTree::Punct(p), Some(TokenTree::Group(g))) = (hash, attr) else {
        return false;
    };
    p.as_char() == '#'
        && g.delimiter() == Delimiter::Bracket
        && matches!(g.stream().into_iter().collect::<Vec<_>>().as_slice(),
            [TokenTree::Ident(m)] if m == "proc_macro_attribute")
}

fn is_ident(t: &TokenTree, word: &str) -> bool {
    matches!(t, TokenTree::Ident(i) if i == word)
}

/// Of a macro's body: the template of the function it writes, the inside of the block that places the
/// parsed function's block (`let body = &input.block;` … `quote! { #sig { .. #body .. } }`), as text with
/// the body written [`BODY`].
fn body_template(body: &TokenStream) -> Option<String> {
    let mut bindings = Vec::new();
    block_bindings(body, &mut bindings);
    let mut quotes = Vec::new();
    quoted(body, &mut quotes);
    quotes.iter().find_map(|q| {
        let binding = bindings.iter().find(|b| interpolates(q, b))?;
        // The block of the written function: the top-level braces that hold the body.
        let block = q.clone().into_iter().find_map(|t| match t {
            TokenTree::Group(g)
                if g.delimiter() == Delimiter::Brace && interpolates(&g.stream(), binding) =>
            {
                Some(g.stream())
            }
            _ => None,
        })?;
        Some(name_body(block, binding).to_string())
    })
}

/// The names `let` binds to the parsed function's block (`let function_body = &input.block;`).
fn block_bindings(tokens: &TokenStream, out: &mut Vec<String>) {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    for (i, t) in trees.iter().enumerate() {
        if let TokenTree::Group(g) = t {
            block_bindings(&g.stream(), out);
        }
        if !is_ident(t, "let") {
            continue;
        }
        let Some(TokenTree::Ident(name)) = trees.get(i + 1) else {
            continue;
        };
        let end = trees[i..]
            .iter()
            .position(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == ';'))
            .map(|p| i + p);
        if let Some(end) = end {
            if end > 0 && is_ident(&trees[end - 1], "block") {
                out.push(name.to_string());
            }
        }
    }
}

/// The token streams of the `quote! { .. }` invocations among `tokens`.
fn quoted(tokens: &TokenStream, out: &mut Vec<TokenStream>) {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    for (i, t) in trees.iter().enumerate() {
        if let TokenTree::Group(g) = t {
            quoted(&g.stream(), out);
        }
        if let (true, Some(TokenTree::Punct(bang)), Some(TokenTree::Group(g))) =
            (is_ident(t, "quote"), trees.get(i + 1), trees.get(i + 2))
        {
            if bang.as_char() == '!' {
                out.push(g.stream());
            }
        }
    }
}

/// Whether `tokens` interpolate `#name`, at any depth.
fn interpolates(tokens: &TokenStream, name: &str) -> bool {
    let trees: Vec<TokenTree> = tokens.clone().into_iter().collect();
    trees.iter().enumerate().any(|(i, t)| match t {
        TokenTree::Punct(p) if p.as_char() == '#' => {
            matches!(trees.get(i + 1), Some(TokenTree::Ident(n)) if n == name)
        }
        TokenTree::Group(g) => interpolates(&g.stream(), name),
        _ => false,
    })
}

/// `tokens` with `#name` written [`BODY`].
fn name_body(tokens: TokenStream, name: &str) -> TokenStream {
    let mut out = Vec::new();
    let mut trees = tokens.into_iter().peekable();
    while let Some(t) = trees.next() {
        match t {
            TokenTree::Punct(p)
                if p.as_char() == '#'
                    && matches!(trees.peek(), Some(TokenTree::Ident(n)) if n == name) =>
            {
                trees.next();
                out.push(TokenTree::Ident(Ident::new(BODY, Span::call_site())));
            }
            TokenTree::Group(g) => out.push(TokenTree::Group(Group::new(
                g.delimiter(),
                name_body(g.stream(), name),
            ))),
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

/// A template's tokens at `site`, with `body` in place and every other interpolation a placeholder name.
fn fill(tokens: TokenStream, body: &Group, site: Span) -> TokenStream {
    let mut out = Vec::new();
    let mut trees = tokens.into_iter().peekable();
    while let Some(t) = trees.next() {
        match t {
            TokenTree::Ident(i) if i == BODY => out.push(TokenTree::Group(body.clone())),
            // `#name`: a value the macro computes; `#(..)*`: a repetition, left out.
            TokenTree::Punct(p) if p.as_char() == '#' => match trees.peek() {
                Some(TokenTree::Ident(_)) => {
                    trees.next();
                    out.push(TokenTree::Ident(Ident::new(VALUE, site)));
                }
                Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
                    trees.next();
                    if matches!(trees.peek(), Some(TokenTree::Punct(p)) if p.as_char() != '*') {
                        trees.next();
                    }
                    if matches!(trees.peek(), Some(TokenTree::Punct(p)) if p.as_char() == '*') {
                        trees.next();
                    }
                }
                _ => {
                    let mut p = p;
                    p.set_span(site);
                    out.push(TokenTree::Punct(p));
                }
            },
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), fill(g.stream(), body, site));
                group.set_span(site);
                out.push(TokenTree::Group(group));
            }
            mut other => {
                other.set_span(site);
                out.push(other);
            }
        }
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::WrapperTable;

    #[test]
    fn a_body_template_is_read_and_filled() {
        let source = r#"
#[proc_macro_attribute]
pub fn transactional(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let input = parse_macro_input!(item as ItemFn);
    let name = &input.sig.ident;
    let sig = &input.sig;
    let body = &input.block;
    quote! {
        #sig {
            Runner::from(catalog).transactional(|c| async move { #body }).instrument(span(stringify!(#name))).await
        }
    }.into()
}
"#;
        let mut table = WrapperTable::default();
        table.collect(source.parse().unwrap());
        let f: syn::ItemFn =
            syn::parse_str("#[transactional] async fn h() { load().await; }").unwrap();
        let wrapped = table.wrap(&f.attrs, &f.block).unwrap();
        let text = quote::ToTokens::to_token_stream(&wrapped).to_string();
        assert!(text.contains("transactional"), "{text}");
        assert!(
            text.contains("async move { { load () . await ; } }"),
            "{text}"
        );
        assert!(text.contains("__hopcheck_value"), "{text}");
        let plain: syn::ItemFn = syn::parse_str("#[instrument] async fn h() {}").unwrap();
        assert!(table.wrap(&plain.attrs, &plain.block).is_none());
    }
}

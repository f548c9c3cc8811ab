//! Test code set aside before parsing. Tokenising is a fraction of what syn's parse costs; the parse of
//! expressions is most of it. Test modules (`#[cfg(test)] mod tests { .. }`) and test functions
//! (`#[test]`, `#[tokio::test]`) are on no request path: the model never calls them, never mounts their
//! routers and never starts their tasks. So their tokens are dropped before syn sees them, which spares
//! a tenth to a sixth of a service's parse. Spans stay those of the file, so every location is unchanged.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};

/// [`syn::parse_file`], with test modules and test functions left out of the tree.
pub fn parse_file(content: &str) -> syn::Result<syn::File> {
    // As syn::parse_file: a byte order mark and a shebang line are not tokens.
    let mut content = content.strip_prefix('\u{feff}').unwrap_or(content);
    let mut shebang = None;
    if let Some(rest) = content.strip_prefix("#!") {
        if !rest.trim_start().starts_with('[') {
            let end = content.find('\n').unwrap_or(content.len());
            shebang = Some(content[..end].to_string());
            content = &content[end..];
        }
    }
    let tokens: TokenStream = content.parse().map_err(syn::Error::from)?;
    let mut file: syn::File = syn::parse2(without_tests(tokens))?;
    file.shebang = shebang;
    Ok(file)
}

/// The items of `tokens` (a file or a module's body) without those marked as test code; the modules
/// that remain are filtered the same way.
fn without_tests(tokens: TokenStream) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        // Outer attributes, then the item they belong to.
        let start = i;
        let mut test = false;
        while let (Some(TokenTree::Punct(p)), Some(TokenTree::Group(g))) =
            (trees.get(i), trees.get(i + 1))
        {
            if p.as_char() != '#' || g.delimiter() != Delimiter::Bracket {
                break;
            }
            test |= is_test_attr(g.stream());
            i += 2;
        }
        if i > start {
            if let Some(end) = test.then(|| test_item_end(&trees, i)).flatten() {
                i = end;
                continue;
            }
            out.extend(trees[start..i].iter().cloned());
            continue;
        }
        // `mod name { .. }` that is not test code: its own test modules go too.
        if let Some(TokenTree::Group(g)) = trees.get(i) {
            let is_mod_body = g.delimiter() == Delimiter::Brace
                && i >= 2
                && matches!(&trees[i - 2], TokenTree::Ident(m) if m == "mod");
            if is_mod_body {
                let mut inner = Group::new(Delimiter::Brace, without_tests(g.stream()));
                inner.set_span(g.span());
                out.push(TokenTree::Group(inner));
                i += 1;
                continue;
            }
        }
        out.push(trees[i].clone());
        i += 1;
    }
    out.into_iter().collect()
}

/// `#[test]`, `#[tokio::test]`, `#[bench]`, `#[cfg(test)]`, `#[cfg(any(test, ..))]` (not `not(test)`):
/// the same test as the visitor's for the attributes of what it does parse.
fn is_test_attr(attr: TokenStream) -> bool {
    let mut last = None;
    let mut args = None;
    for t in attr {
        match t {
            TokenTree::Ident(i) if args.is_none() => last = Some(i.to_string()),
            TokenTree::Punct(p) if p.as_char() == ':' => {}
            TokenTree::Group(g) => {
                args = Some(g.stream().to_string());
                break;
            }
            _ => break,
        }
    }
    match last.as_deref() {
        Some("test" | "bench") => true,
        Some("cfg") => args.is_some_and(|a| {
            a.contains("test") && !a.contains("not (test") && !a.contains("not(test")
        }),
        _ => false,
    }
}

/// Where a test item that starts at `from` (after its attributes) ends: only `mod name { .. }` and
/// functions are set aside; anything else (`#[cfg(test)] use ..;`, a test-only impl) is kept.
fn test_item_end(trees: &[TokenTree], from: usize) -> Option<usize> {
    let ident = |i: usize| match trees.get(i) {
        Some(TokenTree::Ident(x)) => Some(x.to_string()),
        _ => None,
    };
    let mut i = from;
    // Visibility: `pub`, `pub(crate)`, `pub(in path)`.
    if ident(i).as_deref() == Some("pub") {
        i += 1;
        if matches!(trees.get(i), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
        {
            i += 1;
        }
    }
    match ident(i).as_deref() {
        Some("mod") => match trees.get(i + 2) {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => Some(i + 3),
            _ => None,
        },
        Some("fn" | "async" | "const" | "unsafe" | "extern") => {
            // The body: the first brace group after the parameter list.
            let params = (i..trees.len()).find(|&j| {
                matches!(&trees[j], TokenTree::Group(g) if g.delimiter() == Delimiter::Parenthesis)
            })?;
            let fn_kw = (i..params).any(|j| ident(j).as_deref() == Some("fn"));
            if !fn_kw {
                return None;
            }
            (params + 1..trees.len())
                .find(|&j| {
                    matches!(&trees[j], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
                })
                .map(|j| j + 1)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> Vec<String> {
        let file = parse_file(src).expect("parses");
        let mut out = Vec::new();
        fn walk(items: &[syn::Item], out: &mut Vec<String>) {
            for item in items {
                match item {
                    syn::Item::Fn(f) => out.push(f.sig.ident.to_string()),
                    syn::Item::Mod(m) => {
                        out.push(format!("mod {}", m.ident));
                        if let Some((_, inner)) = &m.content {
                            walk(inner, out);
                        }
                    }
                    syn::Item::Use(_) => out.push("use".into()),
                    _ => {}
                }
            }
        }
        walk(&file.items, &mut out);
        out
    }

    #[test]
    fn test_modules_and_functions_are_left_out() {
        let src = r#"
            async fn handler() {}
            #[cfg(test)]
            mod tests { #[test] fn t() {} }
            #[tokio::test]
            async fn it_works() { let x = 1; }
            #[cfg(not(test))]
            fn live() {}
            #[cfg(any(test, feature = "x"))]
            pub(crate) mod helpers { fn h() {} }
            mod api {
                #[cfg(test)] use super::*;
                pub fn list() {}
                #[cfg(test)] mod t { fn x() {} }
                #[test] fn y() {}
            }
            #[inline] pub const fn kept() -> u8 { 1 }
        "#;
        assert_eq!(
            names(src),
            ["handler", "live", "mod api", "use", "list", "kept"]
        );
    }

    #[test]
    fn locations_are_those_of_the_file() {
        let src = "#[cfg(test)]\nmod tests {\n fn t() {}\n}\n\nfn after() {}\n";
        let file = parse_file(src).expect("parses");
        let syn::Item::Fn(f) = &file.items[0] else {
            panic!("a function")
        };
        assert_eq!(f.sig.ident.span().start().line, 6);
    }

    #[test]
    fn declarations_and_shebangs_are_as_syn_reads_them() {
        assert_eq!(
            names("#[cfg(test)]\nmod tests;\nfn a() {}"),
            ["mod tests", "a"]
        );
        let file = parse_file("#!/usr/bin/env run\nfn a() {}").expect("parses");
        assert_eq!(file.shebang.as_deref(), Some("#!/usr/bin/env run"));
        assert!(parse_file("fn a() { \"unterminated }").is_err());
        assert!(parse_file("#[test] fn").is_err());
    }
}

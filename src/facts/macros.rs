//! The analysed code's own `macro_rules!`, expanded by their rules: a macro is data in the source, so its
//! invocations are read as the code they stand for (`bail!()` that returns, `get!(users)` that defines a
//! function, `join_pool!(a, b)` that runs `try_join!`), never by special cases.
//!
//! Definitions are collected from every file's text before the files are parsed ([`MacroTable`]), so that
//! a macro defined in one file expands where another file invokes it. Expansion is declarative
//! `macro_rules!` only: a matcher is tried against the invocation's tokens with syn's parsers for the
//! fragments (`$e:expr`, `$t:ty`, `$i:ident`, `$(..),*` repetitions), and the first rule that matches is
//! transcribed. Tokens the definition writes take the invocation's place in the file; tokens the
//! invocation passed keep theirs. Nothing is executed: procedural macros are never run (the code's own derives
//! are read as the templates they quote, in `derives.rs`).

use std::collections::HashMap;

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::discouraged::Speculative;
use syn::parse::{ParseStream, Parser};

/// Expansions nested deeper than this are not expanded further.
pub const MAX_DEPTH: usize = 16;
/// An expansion larger than this many tokens is dropped (a macro that grows without bound).
const MAX_TOKENS: usize = 20_000;

/// The `macro_rules!` of the analysed code, by name, as text (token streams are tied to the thread that
/// made them; text is parsed again where a macro is expanded).
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct MacroTable {
    by_name: std::collections::BTreeMap<String, Vec<String>>,
    /// The analysed code's own derive macros, as the item templates they quote.
    pub derives: super::derives::DeriveTable,
    /// The analysed code's own attribute macros that wrap a function's body, as the template they quote.
    pub wrappers: super::wrappers::WrapperTable,
}

impl MacroTable {
    /// The definitions in these texts (files whose text does not say `macro_rules` are not tokenised).
    pub fn from_texts<'t>(texts: impl IntoIterator<Item = &'t str>) -> MacroTable {
        let mut table = MacroTable::default();
        // Derives are read once every file's helpers that quote are known: a derive may build its items
        // in another module's methods.
        let mut derives = Vec::new();
        let mut helpers = HashMap::new();
        for text in texts {
            let rules = text.contains("macro_rules");
            let derive = text.contains("proc_macro_derive");
            let quotes = text.contains("quote!");
            if !rules && !derive && !quotes {
                continue;
            }
            let Ok(tokens) = text.parse::<TokenStream>() else {
                continue;
            };
            if quotes && text.contains("proc_macro_attribute") {
                table.wrappers.collect(tokens.clone());
            }
            if derive {
                derives.push(tokens.clone());
            } else if quotes {
                for (name, body) in super::derives::quoting_functions(tokens.clone()) {
                    helpers.entry(name).or_insert(body);
                }
            }
            if rules {
                table.collect(tokens);
            }
        }
        for tokens in derives {
            table.derives.collect(tokens, &helpers);
        }
        // One file's spans are of no use once it is collected.
        proc_macro2::extra::invalidate_current_thread_spans();
        table
    }

    fn collect(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            if let TokenTree::Group(g) = tree {
                self.collect(g.stream());
            }
            let (
                Some(TokenTree::Punct(bang)),
                Some(TokenTree::Ident(name)),
                Some(TokenTree::Group(body)),
            ) = (trees.get(i + 1), trees.get(i + 2), trees.get(i + 3))
            else {
                continue;
            };
            if matches!(tree, TokenTree::Ident(m) if m == "macro_rules") && bang.as_char() == '!' {
                self.by_name
                    .entry(name.to_string())
                    .or_default()
                    .push(body.stream().to_string());
            }
        }
    }

    /// This table with `other`'s definitions added (a file's own macros come first).
    pub fn with(&self, other: MacroTable) -> MacroTable {
        let mut out = other;
        out.derives.extend(&self.derives);
        out.wrappers.extend(&self.wrappers);
        for (name, defs) in &self.by_name {
            out.by_name
                .entry(name.clone())
                .or_default()
                .extend(defs.iter().cloned());
        }
        out
    }

    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty() && self.derives.is_empty() && self.wrappers.is_empty()
    }

    pub fn defines(&self, name: &str) -> bool {
        name == PASTE || self.by_name.contains_key(name)
    }

    /// The tokens an invocation of `name` with `input` stands for, by the first rule (of the first
    /// definition) that matches; the tokens the definition writes are placed at `site`.
    pub fn expand(&self, name: &str, input: &TokenStream, site: Span) -> Option<TokenStream> {
        if name == PASTE {
            return Some(unpaste(input.clone()));
        }
        for definition in self.by_name.get(name)? {
            let Ok(body) = definition.parse::<TokenStream>() else {
                continue;
            };
            for (matcher, transcriber) in rules(body) {
                let mut bound = HashMap::new();
                let matched = (|input: ParseStream| match_seq(input, &matcher, &mut bound))
                    .parse2(input.clone());
                if matched.is_ok() {
                    let mut out = TokenStream::new();
                    let mut size = 0;
                    transcribe(&transcriber, &bound, &[], site, &mut out, &mut size)?;
                    return (size <= MAX_TOKENS).then_some(out);
                }
            }
        }
        None
    }
}

/// The `paste` crate's macro, which `macro_rules!` use to make names (`paste! { fn [<get_ $name>]() }`):
/// its tokens with each `[< .. >]` joined into one identifier. Its case modifiers (`$name:snake`,
/// `:upper`, `:lower`, `:camel`) are applied; nothing else of it is needed to read the code it writes.
const PASTE: &str = "paste";

fn unpaste(tokens: TokenStream) -> TokenStream {
    tokens
        .into_iter()
        .map(|tree| match tree {
            TokenTree::Group(g) => match pasted(&g) {
                Some(ident) => TokenTree::Ident(ident),
                None => {
                    let mut out = Group::new(g.delimiter(), unpaste(g.stream()));
                    out.set_span(g.span());
                    TokenTree::Group(out)
                }
            },
            other => other,
        })
        .collect()
}

/// `[<get_ user s>]` → `get_users`.
fn pasted(g: &Group) -> Option<proc_macro2::Ident> {
    if g.delimiter() != Delimiter::Bracket {
        return None;
    }
    let trees: Vec<TokenTree> = g.stream().into_iter().collect();
    let (TokenTree::Punct(open), TokenTree::Punct(close)) = (trees.first()?, trees.last()?) else {
        return None;
    };
    if open.as_char() != '<' || close.as_char() != '>' || trees.len() < 3 {
        return None;
    }
    let mut name = String::new();
    let mut i = 1;
    while i < trees.len() - 1 {
        let mut piece = match &trees[i] {
            TokenTree::Ident(id) => id.unraw().to_string(),
            TokenTree::Literal(l) => l.to_string().trim_matches('"').to_string(),
            TokenTree::Group(inner) => unpaste(inner.stream()).to_string().replace(' ', ""),
            TokenTree::Punct(_) => return None,
        };
        // `$name:snake`: the modifier applies to the piece before it.
        if let (Some(TokenTree::Punct(colon)), Some(TokenTree::Ident(modifier))) =
            (trees.get(i + 1), trees.get(i + 2))
        {
            if colon.as_char() == ':' {
                piece = case(&piece, &modifier.to_string())?;
                i += 2;
            }
        }
        name.push_str(&piece);
        i += 1;
    }
    syn::parse_str::<proc_macro2::Ident>(&name)
        .ok()
        .map(|mut ident| {
            ident.set_span(trees[1].span());
            ident
        })
}

fn case(piece: &str, modifier: &str) -> Option<String> {
    Some(match modifier {
        "lower" => piece.to_lowercase(),
        "upper" => piece.to_uppercase(),
        "snake" => {
            let mut out = String::new();
            for (i, c) in piece.chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    out.push('_');
                }
                out.extend(c.to_lowercase());
            }
            out
        }
        "camel" => piece
            .split('_')
            .map(|w| {
                let mut cs = w.chars();
                cs.next()
                    .map(|c| c.to_uppercase().chain(cs).collect::<String>())
                    .unwrap_or_default()
            })
            .collect(),
        _ => return None,
    })
}

/// A matcher or transcriber, parsed.
#[derive(Debug, Clone)]
enum Piece {
    /// A token to match (or write) as it is.
    Token(TokenTree),
    /// A delimited group of pieces.
    Group(Delimiter, Vec<Piece>),
    /// `$name:fragment` in a matcher, `$name` in a transcriber (with no fragment).
    Var(String, String),
    /// `$( .. ) sep op`.
    Repeat(Vec<Piece>, Option<TokenTree>, char),
}

/// What a variable matched: once, or once per repetition.
#[derive(Debug, Clone)]
enum Bound {
    One(TokenStream),
    Many(Vec<HashMap<String, Bound>>),
}

/// `(matcher) => { transcriber };` pairs.
fn rules(body: TokenStream) -> Vec<(Vec<Piece>, Vec<Piece>)> {
    let trees: Vec<TokenTree> = body.into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let (Some(TokenTree::Group(m)), Some(TokenTree::Punct(eq)), Some(TokenTree::Punct(gt))) =
        (trees.get(i), trees.get(i + 1), trees.get(i + 2))
    {
        let Some(TokenTree::Group(t)) = trees.get(i + 3) else {
            break;
        };
        if eq.as_char() != '=' || gt.as_char() != '>' {
            break;
        }
        out.push((pieces(m.stream(), true), pieces(t.stream(), false)));
        i += 4;
        if matches!(trees.get(i), Some(TokenTree::Punct(p)) if p.as_char() == ';') {
            i += 1;
        }
    }
    out
}

fn pieces(tokens: TokenStream, matcher: bool) -> Vec<Piece> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < trees.len() {
        let tree = &trees[i];
        let dollar = matches!(tree, TokenTree::Punct(p) if p.as_char() == '$');
        match (dollar, trees.get(i + 1)) {
            // `$crate` is this crate.
            (true, Some(TokenTree::Ident(name))) if name == "crate" => {
                out.push(Piece::Token(TokenTree::Ident(name.clone())));
                i += 2;
            }
            (true, Some(TokenTree::Ident(name))) => {
                let fragment = match (matcher, trees.get(i + 2), trees.get(i + 3)) {
                    (true, Some(TokenTree::Punct(c)), Some(TokenTree::Ident(f)))
                        if c.as_char() == ':' =>
                    {
                        i += 2;
                        f.to_string()
                    }
                    _ => String::new(),
                };
                out.push(Piece::Var(name.to_string(), fragment));
                i += 2;
            }
            (true, Some(TokenTree::Group(g))) if g.delimiter() == Delimiter::Parenthesis => {
                let inner = pieces(g.stream(), matcher);
                let op_of = |t: Option<&TokenTree>| match t {
                    Some(TokenTree::Punct(p)) if matches!(p.as_char(), '*' | '+' | '?') => {
                        Some(p.as_char())
                    }
                    _ => None,
                };
                if let Some(op) = op_of(trees.get(i + 2)) {
                    out.push(Piece::Repeat(inner, None, op));
                    i += 3;
                } else if let Some(op) = op_of(trees.get(i + 3)) {
                    out.push(Piece::Repeat(inner, trees.get(i + 2).cloned(), op));
                    i += 4;
                } else {
                    out.push(Piece::Group(Delimiter::Parenthesis, inner));
                    i += 2;
                }
            }
            _ => {
                match tree {
                    TokenTree::Group(g) => {
                        out.push(Piece::Group(g.delimiter(), pieces(g.stream(), matcher)))
                    }
                    other => out.push(Piece::Token(other.clone())),
                }
                i += 1;
            }
        }
    }
    out
}

fn same_token(a: &TokenTree, b: &TokenTree) -> bool {
    match (a, b) {
        (TokenTree::Ident(x), TokenTree::Ident(y)) => x == y,
        (TokenTree::Punct(x), TokenTree::Punct(y)) => x.as_char() == y.as_char(),
        (TokenTree::Literal(x), TokenTree::Literal(y)) => x.to_string() == y.to_string(),
        _ => false,
    }
}

fn match_seq(
    input: ParseStream,
    pieces: &[Piece],
    bound: &mut HashMap<String, Bound>,
) -> syn::Result<()> {
    for piece in pieces {
        match piece {
            Piece::Token(want) => {
                let got: TokenTree = input.parse()?;
                if !same_token(want, &got) {
                    return Err(input.error("no match"));
                }
            }
            Piece::Group(delimiter, inner) => match input.parse::<TokenTree>()? {
                TokenTree::Group(g) if g.delimiter() == *delimiter => {
                    (|s: ParseStream| match_seq(s, inner, bound)).parse2(g.stream())?;
                }
                _ => return Err(input.error("no match")),
            },
            Piece::Var(name, fragment) => {
                let tokens = fragment_tokens(input, fragment)?;
                bound.insert(name.clone(), Bound::One(tokens));
            }
            Piece::Repeat(inner, sep, op) => {
                let mut runs: Vec<HashMap<String, Bound>> = Vec::new();
                loop {
                    if *op == '?' && !runs.is_empty() {
                        break;
                    }
                    let fork = input.fork();
                    if let (Some(sep), false) = (sep, runs.is_empty()) {
                        match fork.parse::<TokenTree>() {
                            Ok(t) if same_token(sep, &t) => {}
                            _ => break,
                        }
                    }
                    if fork.is_empty() {
                        break;
                    }
                    let mut run = HashMap::new();
                    if match_seq(&fork, inner, &mut run).is_err() {
                        break;
                    }
                    input.advance_to(&fork);
                    runs.push(run);
                }
                if *op == '+' && runs.is_empty() {
                    return Err(input.error("no match"));
                }
                let mut names = Vec::new();
                var_names(inner, &mut names);
                for name in names {
                    let each = runs
                        .iter()
                        .map(|r| {
                            let mut one = HashMap::new();
                            if let Some(b) = r.get(&name) {
                                one.insert(name.clone(), b.clone());
                            }
                            one
                        })
                        .collect();
                    bound.insert(name, Bound::Many(each));
                }
            }
        }
    }
    // Whether the input is matched to its end is checked by `parse2` (a rule, a group); a repetition's
    // runs stop where the next one would begin.
    Ok(())
}

fn var_names(pieces: &[Piece], out: &mut Vec<String>) {
    for p in pieces {
        match p {
            Piece::Var(name, _) => out.push(name.clone()),
            Piece::Group(_, inner) | Piece::Repeat(inner, _, _) => var_names(inner, out),
            Piece::Token(_) => {}
        }
    }
}

/// The tokens one fragment takes from the input, parsed with syn's parser for it.
fn fragment_tokens(input: ParseStream, fragment: &str) -> syn::Result<TokenStream> {
    use quote::ToTokens;
    Ok(match fragment {
        // An expression stays one operand wherever it is written, as in rustc.
        "expr" => {
            let e: syn::Expr = input.parse()?;
            TokenTree::Group(Group::new(Delimiter::None, e.to_token_stream())).into()
        }
        "ty" => input.parse::<syn::Type>()?.to_token_stream(),
        "ident" => input.call(syn::Ident::parse_any)?.to_token_stream(),
        "path" => input.parse::<syn::Path>()?.to_token_stream(),
        "pat" => syn::Pat::parse_multi_with_leading_vert(input)?.to_token_stream(),
        "pat_param" => syn::Pat::parse_single(input)?.to_token_stream(),
        "stmt" => input.parse::<syn::Stmt>()?.to_token_stream(),
        "block" => input.parse::<syn::Block>()?.to_token_stream(),
        "item" => input.parse::<syn::Item>()?.to_token_stream(),
        "vis" => input.parse::<syn::Visibility>()?.to_token_stream(),
        "lifetime" => input.parse::<syn::Lifetime>()?.to_token_stream(),
        "meta" => input.parse::<syn::Meta>()?.to_token_stream(),
        "literal" => {
            let mut out = TokenStream::new();
            if input.peek(syn::Token![-]) {
                out.extend(input.parse::<syn::Token![-]>()?.to_token_stream());
            }
            out.extend(input.parse::<syn::Lit>()?.to_token_stream());
            out
        }
        _ => input.parse::<TokenTree>()?.into(),
    })
}

/// Writes `pieces` with the variables bound at `at` (the indices of the repetitions being written).
fn transcribe(
    pieces: &[Piece],
    bound: &HashMap<String, Bound>,
    at: &[usize],
    site: Span,
    out: &mut TokenStream,
    size: &mut usize,
) -> Option<()> {
    for piece in pieces {
        if *size > MAX_TOKENS {
            return None;
        }
        match piece {
            Piece::Token(t) => {
                let mut t = t.clone();
                t.set_span(site);
                *size += 1;
                out.extend([t]);
            }
            Piece::Group(delimiter, inner) => {
                let mut inside = TokenStream::new();
                transcribe(inner, bound, at, site, &mut inside, size)?;
                let mut g = Group::new(*delimiter, inside);
                g.set_span(site);
                out.extend([TokenTree::Group(g)]);
            }
            Piece::Var(name, _) => match lookup(bound, name, at) {
                Some(Bound::One(tokens)) => {
                    *size += tokens.clone().into_iter().count();
                    out.extend(tokens.clone());
                }
                // `$crate`-less names that are not variables (`$x` with nothing bound) stay as written.
                None => {
                    let mut dollar =
                        TokenTree::Punct(proc_macro2::Punct::new('$', proc_macro2::Spacing::Alone));
                    dollar.set_span(site);
                    out.extend([
                        dollar,
                        TokenTree::Ident(proc_macro2::Ident::new(name, site)),
                    ]);
                }
                Some(Bound::Many(_)) => return None,
            },
            Piece::Repeat(inner, sep, _) => {
                let mut names = Vec::new();
                var_names(inner, &mut names);
                let runs = names.iter().find_map(|n| match lookup(bound, n, at) {
                    Some(Bound::Many(runs)) => Some(runs.len()),
                    _ => None,
                })?;
                for i in 0..runs {
                    if i > 0 {
                        if let Some(sep) = sep {
                            let mut sep = sep.clone();
                            sep.set_span(site);
                            out.extend([sep]);
                        }
                    }
                    let mut deeper = at.to_vec();
                    deeper.push(i);
                    transcribe(inner, bound, &deeper, site, out, size)?;
                }
            }
        }
    }
    Some(())
}

/// A variable's binding inside the repetitions `at`.
fn lookup<'b>(bound: &'b HashMap<String, Bound>, name: &str, at: &[usize]) -> Option<&'b Bound> {
    let mut b = bound.get(name)?;
    for &i in at {
        match b {
            Bound::Many(runs) => b = runs.get(i)?.get(name)?,
            Bound::One(_) => return Some(b),
        }
    }
    Some(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(defs: &str, name: &str, input: &str) -> Option<String> {
        let table = MacroTable::from_texts([defs]);
        let input: TokenStream = input.parse().unwrap();
        // Compared without spaces: how groups print is not what is tested.
        table
            .expand(name, &input, Span::call_site())
            .map(|t| t.to_string().replace(' ', ""))
    }

    #[test]
    fn the_first_matching_rule_is_transcribed_with_its_fragments() {
        let defs =
            "macro_rules! bail { () => { return Err(()) }; ($e:expr) => { return Err($e) }; }";
        assert_eq!(expand(defs, "bail", "").unwrap(), "returnErr(())");
        assert_eq!(expand(defs, "bail", "a + 1").unwrap(), "returnErr(a+1)");
    }

    #[test]
    fn repetitions_with_separators_are_matched_and_written() {
        let defs =
            "macro_rules! join_pool { ($($q:expr),+ $(,)?) => { tokio::try_join!($($q),+) }; }";
        let out = expand(defs, "join_pool", "f(a), g(b, c),").unwrap();
        assert_eq!(out, "tokio::try_join!(f(a),g(b,c))");
    }

    #[test]
    fn item_macros_define_functions() {
        let defs = "macro_rules! get { ($table:ident) => { pub fn get(conn: &Conn, id: i32) -> Self { $table::table.find(id).first(conn) } }; }";
        let out = expand(defs, "get", "users").unwrap();
        assert!(out.starts_with("pubfnget"), "{out}");
        assert!(out.contains("users::table"), "{out}");
    }

    #[test]
    fn an_invocation_no_rule_matches_is_not_expanded() {
        let defs = "macro_rules! one { (x) => { 1 }; }";
        assert!(expand(defs, "one", "y").is_none());
        assert!(expand(defs, "two", "x").is_none());
    }

    #[test]
    fn definitions_are_found_anywhere_in_a_file() {
        let text = "mod m { #[macro_export] macro_rules! inner { () => { 2 } } }\nfn f() {}";
        let table = MacroTable::from_texts([text]);
        assert!(table.defines("inner"));
        assert!(!table.defines("f"));
    }

    #[test]
    fn paste_joins_the_names_it_is_given() {
        let defs = "macro_rules! crud { ($s:ident, $T:ident) => { paste! { pub async fn [<get_ $s>]() {} pub fn [<$T:snake _count>]() {} } }; }";
        let table = MacroTable::from_texts([defs]);
        let input: TokenStream = "user, BookReview".parse().unwrap();
        let out = table.expand("crud", &input, Span::call_site()).unwrap();
        // `paste ! { .. }`: its braces.
        let Some(TokenTree::Group(body)) = out.into_iter().nth(2) else {
            panic!("no paste! body")
        };
        let out = table
            .expand("paste", &body.stream(), Span::call_site())
            .unwrap()
            .to_string();
        assert!(out.contains("fn get_user"), "{out}");
        assert!(out.contains("fn book_review_count"), "{out}");
    }

    #[test]
    fn a_macro_that_grows_without_bound_is_cut() {
        let defs = "macro_rules! big { ($($t:tt)*) => { $($t $t $t $t $t $t $t $t $t $t)* }; }";
        let input = "a ".repeat(3_000);
        assert!(expand(defs, "big", &input).is_none());
    }
}

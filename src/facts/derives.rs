//! The analysed code's own derive macros (`#[proc_macro_derive(Model)]` in a proc-macro crate of the
//! workspace), read as the item templates they are: the `quote! { impl #name { .. } }` a derive writes is
//! data in the source, so a type that derives it gets the methods the template defines (`Group::find_by_id`,
//! `group.delete(&pool)`), priced as written there. Nothing is executed: the template is filled in by
//! reading, never by running the macro.
//!
//! What a template interpolates is filled in as far as the derive's own code says:
//! - the deriving type (the name bound to `input.ident`, or the one an `impl .. for #name` names);
//! - strings the derive builds before it quotes them (`let delete = format!("DELETE FROM {table} ..")`,
//!   `all.clone() + " WHERE id = $1"`), so that a generated query's text says what it does;
//! - tokens a local holds: quoted in the derive (`let by = quote! { .. };`), or made by a helper that
//!   quotes, in any file (`let find = meta.find_ts();` with `fn find_ts(&self) -> TokenStream` in another
//!   module of the macro's crate): the items the helper quotes, filled in by its own code;
//! - anything else is a placeholder: dropped from an item's header (generics, where clauses, visibility)
//!   and a name of its own inside a body; repetitions (`#(#fields,)*`) are left out, and a function of a
//!   deriving type that is not found is listed as unresolved (it may be one a repetition writes).

use std::collections::{BTreeMap, HashMap};

use proc_macro2::{Delimiter, Group, Ident, Literal, Span, TokenStream, TokenTree};

/// The ident a template's deriving type is written as until a type derives it.
const INPUT: &str = "__derive_input";

/// Item templates by derive name, as text (token streams are tied to the thread that made them).
#[derive(Debug, Clone, Default, Hash, PartialEq, Eq)]
pub struct DeriveTable {
    by_name: BTreeMap<String, Vec<String>>,
}

impl DeriveTable {
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    pub fn defines(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Adds `other`'s templates.
    pub fn extend(&mut self, other: &DeriveTable) {
        for (name, templates) in &other.by_name {
            self.by_name
                .entry(name.clone())
                .or_default()
                .extend(templates.iter().cloned());
        }
    }

    /// The derives defined in a file's tokens; `helpers` are the functions of the other files that quote
    /// (a derive may build its items in another module's methods: `let find = meta.find_ts();`).
    pub fn collect(&mut self, tokens: TokenStream, helpers: &HashMap<String, TokenStream>) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        let mut fns = helpers.clone();
        fns.extend(functions(&trees));
        self.collect_with(&trees, &fns);
    }

    fn collect_with(&mut self, trees: &[TokenTree], fns: &HashMap<String, TokenStream>) {
        for (i, tree) in trees.iter().enumerate() {
            if let TokenTree::Group(g) = tree {
                if g.delimiter() == Delimiter::Brace {
                    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                    self.collect_with(&inner, fns);
                }
            }
            let Some(name) = derive_name(tree, trees.get(i + 1)) else {
                continue;
            };
            let Some(body) = trees[i..]
                .iter()
                .skip_while(|t| !is_ident(t, "fn"))
                .find_map(|t| match t {
                    TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(g.stream()),
                    _ => None,
                })
            else {
                continue;
            };
            let mut scope = Scope::default();
            scope.read(&body, fns, 0);
            let templates: Vec<String> = scope
                .quotes
                .iter()
                .filter(|q| (*q).clone().into_iter().any(|t| is_ident(&t, "impl")))
                .map(|q| fill(q, &scope, fns))
                .collect();
            if !templates.is_empty() {
                self.by_name.entry(name).or_default().extend(templates);
            }
        }
    }

    /// The items `#[derive(name)]` on type `ty` stands for, written at `ty`'s place.
    pub fn expand(&self, name: &str, ty: &Ident) -> Vec<TokenStream> {
        let site = ty.span();
        self.by_name
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|text| text.parse::<TokenStream>().ok())
            .map(|tokens| place(tokens, ty, site))
            .collect()
    }
}

fn is_ident(t: &TokenTree, word: &str) -> bool {
    matches!(t, TokenTree::Ident(i) if i == word)
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

/// `#[proc_macro_derive(Name, ..)]`: `Name`.
fn derive_name(hash: &TokenTree, attr: Option<&TokenTree>) -> Option<String> {
    let (TokenTree::Punct(p), Some(TokenTree::Group(g))) = (hash, attr) else {
        return None;
    };
    if p.as_char() != '#' || g.delimiter() != Delimiter::Bracket {
        return None;
    }
    let inner: Vec<TokenTree> = g.stream().into_iter().collect();
    match inner.as_slice() {
        [TokenTree::Ident(m), TokenTree::Group(args)] if m == "proc_macro_derive" => {
            match args.stream().into_iter().next() {
                Some(TokenTree::Ident(name)) => Some(name.to_string()),
                _ => None,
            }
        }
        _ => None,
    }
}

/// The functions of a file that quote (`fn find_ts(&self) -> TokenStream { .. quote! { .. } }`), by name:
/// the helpers a derive of another file may build its items in.
pub fn quoting_functions(tokens: TokenStream) -> HashMap<String, TokenStream> {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = HashMap::new();
    gather_quoting(&trees, &mut out);
    out
}

fn gather_quoting(trees: &[TokenTree], out: &mut HashMap<String, TokenStream>) {
    for (name, body) in functions(trees) {
        if quotes(&body) {
            out.entry(name).or_insert(body);
        }
    }
    // Methods inside `impl` blocks and functions inside inline modules.
    for t in trees {
        if let TokenTree::Group(g) = t {
            if g.delimiter() == Delimiter::Brace {
                let inner: Vec<TokenTree> = g.stream().into_iter().collect();
                if inner.iter().any(|t| is_ident(t, "fn")) {
                    gather_quoting(&inner, out);
                }
            }
        }
    }
}

fn quotes(body: &TokenStream) -> bool {
    body.clone().into_iter().any(|t| match t {
        TokenTree::Ident(i) => i == "quote" || i == "quote_spanned",
        TokenTree::Group(g) => quotes(&g.stream()),
        _ => false,
    })
}

/// The file's functions by name (`fn impl_model(..) { .. }`), for the helpers a derive hands its input to.
fn functions(trees: &[TokenTree]) -> HashMap<String, TokenStream> {
    let mut out = HashMap::new();
    for (i, t) in trees.iter().enumerate() {
        if !is_ident(t, "fn") {
            continue;
        }
        let Some(TokenTree::Ident(name)) = trees.get(i + 1) else {
            continue;
        };
        let body = trees[i + 2..].iter().find_map(|t| match t {
            TokenTree::Group(g) if g.delimiter() == Delimiter::Brace => Some(g.stream()),
            _ => None,
        });
        if let Some(body) = body {
            out.insert(name.to_string(), body);
        }
    }
    out
}

/// What a derive's body says: the strings it builds, the name it binds the input's ident to, and the
/// templates it quotes (also in the helpers it calls, one level down).
#[derive(Default)]
struct Scope {
    strings: HashMap<String, String>,
    input: Option<String>,
    quotes: Vec<TokenStream>,
    /// Locals holding tokens quoted elsewhere, spliced where the template interpolates them.
    fragments: HashMap<String, Fragment>,
}

/// Tokens a local holds: quoted in the derive's own body (`let by = quote! { .. };`, the last of an
/// `if`'s arms), or made by a helper that quotes (`let find = meta.find_ts();`).
enum Fragment {
    Quoted(TokenStream),
    Helper(String),
}

impl Scope {
    fn read(&mut self, body: &TokenStream, fns: &HashMap<String, TokenStream>, depth: usize) {
        let trees: Vec<TokenTree> = body.clone().into_iter().collect();
        for (i, t) in trees.iter().enumerate() {
            match t {
                TokenTree::Ident(kw) if kw == "let" => self.binding(&trees[i + 1..]),
                TokenTree::Ident(m) if (m == "quote" || m == "quote_spanned") => {
                    if let (true, Some(TokenTree::Group(g))) =
                        (is_punct(trees.get(i + 1), '!'), trees.get(i + 2))
                    {
                        self.quotes.push(g.stream());
                    }
                }
                // A helper of the same file the input is handed to (`impl_model(&ast)`).
                TokenTree::Ident(f) if depth == 0 => {
                    if let (Some(TokenTree::Group(args)), Some(helper)) =
                        (trees.get(i + 1), fns.get(&f.to_string()))
                    {
                        if args.delimiter() == Delimiter::Parenthesis
                            && !is_punct(trees.get(i.wrapping_sub(1)), '.')
                        {
                            self.read(helper, fns, depth + 1);
                        }
                    }
                }
                TokenTree::Group(g) => self.read(&g.stream(), fns, depth),
                _ => {}
            }
        }
    }

    /// `let name = <what>;`: a string built from literals and strings already known, or the input's ident.
    fn binding(&mut self, rest: &[TokenTree]) {
        let (Some(TokenTree::Ident(name)), true) = (rest.first(), is_punct(rest.get(1), '='))
        else {
            return;
        };
        let value: Vec<&TokenTree> = rest[2..]
            .iter()
            .take_while(|t| !is_punct(Some(t), ';'))
            .collect();
        // `&ast.ident`, `input.ident.clone()`.
        let field = value.iter().skip_while(|t| is_punct(Some(t), '&'));
        if let [TokenTree::Ident(_), TokenTree::Punct(dot), TokenTree::Ident(f), ..] =
            field.take(3).copied().collect::<Vec<_>>().as_slice()
        {
            if dot.as_char() == '.' && f == "ident" {
                self.input = Some(name.to_string());
                return;
            }
        }
        if let Some(s) = self.string_of(&value) {
            self.strings.insert(name.to_string(), s);
            return;
        }
        if let Some(fragment) = fragment_of(&value) {
            self.fragments.insert(name.to_string(), fragment);
        }
    }

    /// A string expression's value: `"lit"`, `format!("lit", ..)`, `known.clone() + "lit"`.
    fn string_of(&self, value: &[&TokenTree]) -> Option<String> {
        let mut out = String::new();
        let mut i = 0;
        while i < value.len() {
            match value[i] {
                TokenTree::Literal(l) => out.push_str(&literal_string(l)?),
                TokenTree::Ident(m)
                    if m == "format" && is_punct(value.get(i + 1).copied(), '!') =>
                {
                    let TokenTree::Group(args) = value.get(i + 2)? else {
                        return None;
                    };
                    let Some(TokenTree::Literal(l)) = args.stream().into_iter().next() else {
                        return None;
                    };
                    out.push_str(&literal_string(&l)?);
                    i += 2;
                }
                TokenTree::Ident(known) => {
                    out.push_str(self.strings.get(&known.to_string())?);
                    // `.clone()`, `.to_string()`, `.to_owned()`.
                    while is_punct(value.get(i + 1).copied(), '.') {
                        i += 3;
                    }
                }
                TokenTree::Punct(p) if p.as_char() == '+' || p.as_char() == '&' => {}
                _ => return None,
            }
            i += 1;
        }
        Some(out)
    }
}

/// The tokens a `let`'s value quotes: the largest `quote! { .. }` written in it (of an `if`'s arms, the
/// one that says most), or the helper a method call names (`meta.find_ts()`, `find_ts(&meta)`).
fn fragment_of(value: &[&TokenTree]) -> Option<Fragment> {
    let mut largest: Option<TokenStream> = None;
    largest_quote(value.iter().map(|t| (*t).clone()).collect(), &mut largest);
    if let Some(q) = largest {
        return Some(Fragment::Quoted(q));
    }
    // `self.find_ts()`, `meta.find_ts().into()`, `helpers::find_ts(&meta)`: the first call's name.
    value.windows(2).find_map(|w| match (w[0], w[1]) {
        (TokenTree::Ident(f), TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis => {
            Some(Fragment::Helper(f.to_string()))
        }
        _ => None,
    })
}

fn largest_quote(trees: Vec<TokenTree>, out: &mut Option<TokenStream>) {
    for (i, t) in trees.iter().enumerate() {
        match t {
            TokenTree::Ident(m) if m == "quote" || m == "quote_spanned" => {
                if let (true, Some(TokenTree::Group(g))) =
                    (is_punct(trees.get(i + 1), '!'), trees.get(i + 2))
                {
                    let size = g.stream().into_iter().count();
                    if out
                        .as_ref()
                        .is_none_or(|o| o.clone().into_iter().count() < size)
                    {
                        *out = Some(g.stream());
                    }
                }
            }
            TokenTree::Group(g) => largest_quote(g.stream().into_iter().collect(), out),
            _ => {}
        }
    }
}

fn literal_string(l: &Literal) -> Option<String> {
    let lit: syn::LitStr = syn::parse2(TokenStream::from(TokenTree::Literal(l.clone()))).ok()?;
    Some(lit.value())
}

/// The template with what the derive's code says filled in (see the module's doc).
fn fill(template: &TokenStream, scope: &Scope, fns: &HashMap<String, TokenStream>) -> String {
    let input = scope
        .input
        .clone()
        .or_else(|| header_type(template))
        .unwrap_or_default();
    let fill = Fill {
        scope,
        fns,
        input: &input,
        helpers: 0,
    };
    fill.tokens(template.clone(), 0).to_string()
}

/// How deep helpers that quote are followed into helpers of their own.
const MAX_HELPERS: usize = 3;

/// What a template is filled in with: the scope it was quoted in, the helpers that quote, and the name
/// the deriving type goes by there.
struct Fill<'a> {
    scope: &'a Scope,
    fns: &'a HashMap<String, TokenStream>,
    input: &'a str,
    helpers: usize,
}

impl Fill<'_> {
    fn tokens(&self, tokens: TokenStream, depth: usize) -> TokenStream {
        fill_in(tokens, self, depth)
    }

    /// The tokens local `v` holds, filled in where they were quoted; `None` where it holds none.
    fn fragment(&self, v: &str, depth: usize) -> Option<TokenStream> {
        match self.scope.fragments.get(v)? {
            Fragment::Quoted(q) => Some(self.tokens(q.clone(), depth)),
            Fragment::Helper(name) => {
                if self.helpers >= MAX_HELPERS {
                    return Some(TokenStream::new());
                }
                let body = self.fns.get(name)?;
                let mut scope = Scope::default();
                scope.read(body, self.fns, 1);
                let input = scope
                    .input
                    .clone()
                    .unwrap_or_else(|| self.input.to_string());
                let inner = Fill {
                    scope: &scope,
                    fns: self.fns,
                    input: &input,
                    helpers: self.helpers + 1,
                };
                // The items it quotes (`quote! { pub async fn find(..) { .. } }`), not the pieces it
                // builds them of, which its locals hold.
                let items: TokenStream = scope
                    .quotes
                    .iter()
                    .filter(|q| (*q).clone().into_iter().any(|t| is_ident(&t, "fn")))
                    .filter(|q| {
                        !scope.fragments.values().any(
                            |f| matches!(f, Fragment::Quoted(held) if held.to_string() == q.to_string()),
                        )
                    })
                    .flat_map(|q| inner.tokens(q.clone(), depth))
                    .collect();
                Some(items)
            }
        }
    }
}

/// The interpolation an item header names as its type: `impl .. for #name`, else `impl #name`.
fn header_type(template: &TokenStream) -> Option<String> {
    let trees: Vec<TokenTree> = template.clone().into_iter().collect();
    let var_after = |i: usize| match (trees.get(i), trees.get(i + 1)) {
        (Some(TokenTree::Punct(p)), Some(TokenTree::Ident(v))) if p.as_char() == '#' => {
            Some(v.to_string())
        }
        _ => None,
    };
    let impl_at = trees.iter().position(|t| is_ident(t, "impl"))?;
    let body = trees[impl_at..]
        .iter()
        .position(|t| matches!(t, TokenTree::Group(g) if g.delimiter() == Delimiter::Brace))?
        + impl_at;
    if let Some(f) = (impl_at..body).find(|&i| is_ident(&trees[i], "for")) {
        return var_after(f + 1);
    }
    (impl_at + 1..body)
        .filter_map(var_after)
        .find(|v| !v.contains("generics"))
}

fn fill_in(tokens: TokenStream, fill: &Fill, depth: usize) -> TokenStream {
    let (scope, input) = (fill.scope, fill.input);
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < trees.len() {
        match (&trees[i], trees.get(i + 1)) {
            (TokenTree::Punct(p), Some(TokenTree::Group(g)))
                if p.as_char() == '#' && g.delimiter() == Delimiter::Parenthesis =>
            {
                // `#( .. )*`, `#( .. ),*`: left out.
                i += 2;
                if is_punct(trees.get(i), '*') {
                    i += 1;
                } else if is_punct(trees.get(i + 1), '*') {
                    i += 2;
                }
                continue;
            }
            (TokenTree::Punct(p), Some(TokenTree::Ident(v))) if p.as_char() == '#' => {
                let v = v.to_string();
                if v == input {
                    out.push(TokenTree::Ident(Ident::new(INPUT, Span::call_site())));
                } else if let Some(fragment) = fill.fragment(&v, depth) {
                    out.extend(fragment);
                } else if let Some(s) = scope.strings.get(&v) {
                    out.push(TokenTree::Literal(Literal::string(s)));
                } else if depth > 0 && !v.contains("generics") && !v.contains("where") {
                    out.push(TokenTree::Ident(Ident::new(
                        &format!("__derived_{v}"),
                        Span::call_site(),
                    )));
                }
                i += 2;
                continue;
            }
            (TokenTree::Group(g), _) => {
                let inner = fill_in(g.stream(), fill, depth + 1);
                out.push(TokenTree::Group(Group::new(g.delimiter(), inner)));
            }
            (other, _) => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

/// Tokens made here (with no place in the file) written at `site`.
pub fn written_at(tokens: TokenStream, site: Span) -> TokenStream {
    rewrite(tokens, None, site)
}

/// A filled template written at `site`, with its type's name in place.
fn place(tokens: TokenStream, ty: &Ident, site: Span) -> TokenStream {
    rewrite(tokens, Some(ty), site)
}

/// `tokens` at `site`, with the deriving type's placeholder named `ty` where one is given.
fn rewrite(tokens: TokenStream, ty: Option<&Ident>, site: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|t| match t {
            TokenTree::Ident(i) if i == INPUT && ty.is_some() => {
                TokenTree::Ident(ty.cloned().unwrap_or(i))
            }
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), rewrite(g.stream(), ty, site));
                group.set_span(site);
                TokenTree::Group(group)
            }
            mut other => {
                other.set_span(site);
                other
            }
        })
        .collect()
}

//! Route paths the code names by a constant: `#[get(path = "crate::ROUTES.auth.login")]`,
//! `.route(&routes.login, ..)`, `const ERROR_ROUTE: &str = "/error/{id}"`, route tables built by `const fn
//! new()` on nested structs, `concat!`, a slice of a constant (`&DOCS.home[0..DOCS.home.len() - 1]`).
//!
//! The constants are data in the source: their expressions are evaluated here over a tiny value domain
//! (strings, integers, structs of them), never compiled or run. What cannot be evaluated (a method the
//! code computes, a value read at run time) stays as written.

use std::collections::{BTreeMap, HashMap};

use syn::Expr;

use super::{FileFacts, UseAlias};

/// The type of a blanket implementation's functions (`impl<T: SimpleRoute> Route for T`).
pub const ANY_TYPE: &str = "*";

/// The key of `env` that holds the type `Self` stands for while a type's function is evaluated.
const SELF_TYPE: &str = "\u{0}Self";

/// How deep evaluation goes through constants and `const fn` calls.
const MAX_DEPTH: usize = 16;

/// A constant or static of a module, its expression kept as text.
#[derive(Debug, Clone, Default, Hash, serde::Serialize, serde::Deserialize)]
pub struct ConstItem {
    pub module: Vec<String>,
    pub name: String,
    pub expr: String,
}

/// A `const fn` without parameters of a type (`impl Routes { const fn new() -> Routes { .. } }`), its
/// body kept as text.
#[derive(Debug, Clone, Default, Hash, serde::Serialize, serde::Deserialize)]
pub struct ConstFn {
    pub module: Vec<String>,
    pub ty: String,
    pub name: String,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Value {
    Str(String),
    Int(i64),
    Struct(BTreeMap<String, Value>),
}

/// `const fn`s by (type, name), with the module of each.
type ConstFns<'f> = HashMap<(&'f str, &'f str), Vec<(&'f [String], syn::Block)>>;

/// Every constant and `const fn` of the analysed code, parsed once.
pub struct Consts<'f> {
    items: HashMap<&'f str, Vec<(&'f [String], Expr)>>,
    fns: ConstFns<'f>,
    aliases: Vec<&'f UseAlias>,
}

impl<'f> Consts<'f> {
    pub fn new(files: &'f [std::sync::Arc<FileFacts>]) -> Consts<'f> {
        let mut items: HashMap<&str, Vec<(&[String], Expr)>> = HashMap::new();
        let mut fns: ConstFns = HashMap::new();
        let mut aliases = Vec::new();
        for file in files {
            for c in &file.const_items {
                if let Ok(e) = syn::parse_str::<Expr>(&c.expr) {
                    items
                        .entry(c.name.as_str())
                        .or_default()
                        .push((c.module.as_slice(), e));
                }
            }
            for f in &file.const_fns {
                if let Ok(b) = syn::parse_str::<syn::Block>(&f.body) {
                    fns.entry((f.ty.as_str(), f.name.as_str()))
                        .or_default()
                        .push((f.module.as_slice(), b));
                }
            }
            aliases.extend(
                file.uses
                    .iter()
                    .filter(|u| u.name != "*" && u.path.last() != Some(&u.name)),
            );
        }
        Consts {
            items,
            fns,
            aliases,
        }
    }

    /// A route path with the constants it names replaced by their values: a whole path written as an
    /// expression (`crate::ROUTES.auth.login`), or parts in braces the router kept as written
    /// (`/{routes.login}`, `/{ERROR_ROUTE}`). Path parameters (`{id}`) stay.
    pub fn path(&self, raw: &str) -> Option<String> {
        if self.items.is_empty() {
            return None;
        }
        if !raw.starts_with('/') && !raw.is_empty() {
            return self.text(raw);
        }
        if !raw.contains('{') {
            return None;
        }
        let mut out = String::new();
        let mut rest = raw;
        let mut changed = false;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}').map(|c| open + c) else {
                break;
            };
            out.push_str(&rest[..open]);
            let inner = &rest[open + 1..close];
            match self.text(inner).filter(|_| names_a_constant(inner)) {
                Some(v) => {
                    // `/{BASE}/x` with `BASE` `"/api"` or `""`: one slash between the parts.
                    let next = &rest[close + 1..];
                    if out.ends_with('/')
                        && (v.starts_with('/') || (v.is_empty() && next.starts_with('/')))
                    {
                        out.pop();
                    }
                    out.push_str(&v);
                    changed = true;
                }
                None => out.push_str(&rest[open..=close]),
            }
            rest = &rest[close + 1..];
        }
        out.push_str(rest);
        changed.then_some(out)
    }

    fn text(&self, expr: &str) -> Option<String> {
        let e = syn::parse_str::<Expr>(expr).ok()?;
        match self.eval(&e, &HashMap::new(), &[], 0)? {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `e` in `module`, with the `let`s of the `const fn` being evaluated in `env`.
    fn eval(
        &self,
        e: &Expr,
        env: &HashMap<String, Value>,
        module: &[String],
        depth: usize,
    ) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match e {
            Expr::Lit(l) => match &l.lit {
                syn::Lit::Str(s) => Some(Value::Str(s.value())),
                syn::Lit::Int(i) => i.base10_parse().ok().map(Value::Int),
                _ => None,
            },
            Expr::Reference(r) => self.eval(&r.expr, env, module, depth),
            Expr::Paren(p) => self.eval(&p.expr, env, module, depth),
            Expr::Group(g) => self.eval(&g.expr, env, module, depth),
            Expr::Block(b) => self.block(&b.block, env.clone(), module, depth),
            Expr::Path(p) => {
                let segs: Vec<String> = p
                    .path
                    .segments
                    .iter()
                    .map(|s| super::driver::ident(&s.ident))
                    .filter(|s| !matches!(s.as_str(), "crate" | "self" | "super"))
                    .collect();
                if let [one] = segs.as_slice() {
                    if let Some(v) = env.get(one) {
                        return Some(v.clone());
                    }
                }
                // `Self::PATH`, `Healthcheck::PATH`: a type's associated constant.
                if let [.., ty, name] = segs.as_slice() {
                    let ty = match (ty.as_str(), env.get(SELF_TYPE)) {
                        ("Self", Some(Value::Str(t))) => t.clone(),
                        _ => ty.clone(),
                    };
                    if let Some(found) = self.items.get(format!("{ty}::{name}").as_str()) {
                        let (at, e) = pick(found, &[])?;
                        return self.eval(e, &HashMap::new(), at, depth + 1);
                    }
                }
                let (at, e) = self.item(&segs)?;
                self.eval(e, &HashMap::new(), at, depth + 1)
            }
            Expr::Field(f) => {
                let syn::Member::Named(name) = &f.member else {
                    return None;
                };
                match self.eval(&f.base, env, module, depth)? {
                    Value::Struct(fields) => fields.get(&name.to_string()).cloned(),
                    _ => None,
                }
            }
            Expr::Struct(s) => {
                let mut fields = BTreeMap::new();
                for fv in &s.fields {
                    let syn::Member::Named(name) = &fv.member else {
                        continue;
                    };
                    if let Some(v) = self.eval(&fv.expr, env, module, depth) {
                        fields.insert(name.to_string(), v);
                    }
                }
                Some(Value::Struct(fields))
            }
            // `LazyLock::new(|| Routes { .. })`: what the closure makes.
            Expr::Call(c) if lazily_built(c).is_some() => {
                self.eval(lazily_built(c)?, env, module, depth + 1)
            }
            // `Routes::new()`: a `const fn` of the analysed code.
            Expr::Call(c) if c.args.is_empty() => {
                let Expr::Path(p) = &*c.func else { return None };
                let segs = super::driver::path_segments(&p.path);
                let [.., ty, name] = segs.as_slice() else {
                    return None;
                };
                // Two modules may each have a `Routes::new()`: the nearest to where it is called. A
                // type without one of its own may have it from a blanket implementation, with `Self`
                // the type.
                let own = self.fns.get(&(ty.as_str(), name.as_str()));
                let fns = own.or_else(|| self.fns.get(&(ANY_TYPE, name.as_str())))?;
                let (at, body) = fns.iter().max_by_key(|(m, _)| {
                    m.iter().zip(module).take_while(|(a, b)| a == b).count()
                })?;
                let mut env = HashMap::new();
                env.insert(SELF_TYPE.to_string(), Value::Str(ty.clone()));
                self.block(body, env, at, depth + 1)
            }
            Expr::MethodCall(m) if m.method == "len" && m.args.is_empty() => {
                match self.eval(&m.receiver, env, module, depth)? {
                    Value::Str(s) => Some(Value::Int(s.len() as i64)),
                    _ => None,
                }
            }
            Expr::Binary(b) => {
                let (Value::Int(l), Value::Int(r)) = (
                    self.eval(&b.left, env, module, depth)?,
                    self.eval(&b.right, env, module, depth)?,
                ) else {
                    return None;
                };
                match b.op {
                    syn::BinOp::Add(_) => l.checked_add(r).map(Value::Int),
                    syn::BinOp::Sub(_) => l.checked_sub(r).map(Value::Int),
                    _ => None,
                }
            }
            // `&s[a..b]`, `&s[..b]`, `&s[a..]`.
            Expr::Index(i) => {
                let Value::Str(s) = self.eval(&i.expr, env, module, depth)? else {
                    return None;
                };
                let Expr::Range(r) = &*i.index else {
                    return None;
                };
                let bound = |b: &Option<Box<Expr>>, default: usize| -> Option<usize> {
                    match b {
                        None => Some(default),
                        Some(b) => match self.eval(b, env, module, depth)? {
                            Value::Int(n) => usize::try_from(n).ok(),
                            _ => None,
                        },
                    }
                };
                let start = bound(&r.start, 0)?;
                let end = bound(&r.end, s.len())?;
                s.get(start..end).map(|t| Value::Str(t.to_string()))
            }
            // `concat!`, and const_format's `concatcp!`, which also takes constants.
            Expr::Macro(m)
                if matches!(
                    super::driver::last_segment(&m.mac.path).as_str(),
                    "concat" | "concatcp"
                ) =>
            {
                let args = syn::parse::Parser::parse2(
                    syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated,
                    m.mac.tokens.clone(),
                )
                .ok()?;
                let mut out = String::new();
                for a in &args {
                    match self.eval(a, env, module, depth)? {
                        Value::Str(s) => out.push_str(&s),
                        Value::Int(n) => out.push_str(&n.to_string()),
                        Value::Struct(_) => return None,
                    }
                }
                Some(Value::Str(out))
            }
            _ => None,
        }
    }

    /// A `const fn` body or block: its `let`s, then its value.
    fn block(
        &self,
        b: &syn::Block,
        mut env: HashMap<String, Value>,
        module: &[String],
        depth: usize,
    ) -> Option<Value> {
        let (last, lets) = b.stmts.split_last()?;
        for stmt in lets {
            if let syn::Stmt::Local(l) = stmt {
                let (syn::Pat::Ident(name), Some(init)) = (&l.pat, &l.init) else {
                    continue;
                };
                if let Some(v) = self.eval(&init.expr, &env, module, depth) {
                    env.insert(name.ident.to_string(), v);
                }
            }
        }
        match last {
            syn::Stmt::Expr(e, None) => self.eval(e, &env, module, depth),
            _ => None,
        }
    }

    /// The constant a path names: by its module where several share the name, through `use .. as ..`
    /// renames (`pub use api::v1::ROUTES as V1_API_ROUTES;`).
    fn item(&self, segs: &[String]) -> Option<(&[String], &Expr)> {
        let (name, qualifier) = segs.split_last()?;
        if let Some(found) = self.items.get(name.as_str()) {
            return pick(found, qualifier);
        }
        let alias = self.aliases.iter().find(|u| u.name == *name)?;
        let (real, qualifier) = alias.path.split_last()?;
        let qualifier: Vec<String> = qualifier
            .iter()
            .filter(|s| !matches!(s.as_str(), "crate" | "self" | "super"))
            .cloned()
            .collect();
        pick(self.items.get(real.as_str())?, &qualifier)
    }
}

/// Among constants of one name: the only one, else the one whose module the qualifier names.
fn pick<'e>(
    found: &'e [(&'e [String], Expr)],
    qualifier: &[String],
) -> Option<(&'e [String], &'e Expr)> {
    if let [(module, one)] = found {
        return Some((module, one));
    }
    let named: Vec<&(&[String], Expr)> = found
        .iter()
        .filter(|(module, _)| {
            !qualifier.is_empty() && (module.starts_with(qualifier) || module.ends_with(qualifier))
        })
        .collect();
    match named.as_slice() {
        [(module, one)] => Some((module, one)),
        _ => None,
    }
}

/// `LazyLock::new(|| Routes { .. })`, `Lazy::new(..)`: the closure's body, the value a static holds.
pub fn lazily_built(c: &syn::ExprCall) -> Option<&Expr> {
    let Expr::Path(p) = &*c.func else { return None };
    let segs = super::driver::path_segments(&p.path);
    let lazy = matches!(
        segs.as_slice(),
        [.., ty, new] if new == "new" && matches!(ty.as_str(), "LazyLock" | "Lazy" | "LazyCell")
    );
    match c.args.first() {
        Some(Expr::Closure(closure)) if lazy && c.args.len() == 1 => Some(&closure.body),
        _ => None,
    }
}

/// A route path that still holds code hopcheck could not evaluate (`/{..}/ROUTES.pow.verify()`,
/// `/crate::ROUTES.x`): where the route is served is not known. Path parameters (`{id}`, `{id:\d+}`,
/// `<id>`, `:id`) are not code.
pub fn kept_as_written(path: &str) -> bool {
    // (`…`: an expression not written out, see `router::path_alternatives`.)
    let code = |t: &str| t.contains("::") || t.contains(['(', '.', '[', '&', '…']);
    let mut rest = path;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        let inner = &rest[open + 1..close];
        // `{id:\d+}`, `{tail:.*}`: a parameter with its pattern.
        let pattern = !inner.contains("::")
            && inner.split_once(':').is_some_and(|(name, _)| {
                name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        if !pattern && (code(inner) || names_a_constant(inner)) {
            return true;
        }
        rest = &rest[close + 1..];
    }
    path.split('/')
        .filter(|seg| !seg.starts_with('{') && !seg.starts_with('<'))
        .any(|seg| seg.contains("::") || seg.contains('(') || seg.contains('&'))
}

/// `{routes.login}`, `{crate::ROUTES.home}`, `{ERROR_ROUTE}`: not a path parameter (`{id}`).
fn names_a_constant(inner: &str) -> bool {
    inner.contains(['.', ':', '['])
        || (inner.chars().any(|c| c.is_ascii_uppercase())
            && inner
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn table(items: &[(&[&str], &str, &str)], fns: &[(&str, &str, &str)]) -> Vec<Arc<FileFacts>> {
        let file = FileFacts {
            const_items: items
                .iter()
                .map(|(m, n, e)| ConstItem {
                    module: m.iter().map(|s| s.to_string()).collect(),
                    name: n.to_string(),
                    expr: e.to_string(),
                })
                .collect(),
            const_fns: fns
                .iter()
                .map(|(t, n, b)| ConstFn {
                    module: Vec::new(),
                    ty: t.to_string(),
                    name: n.to_string(),
                    body: b.to_string(),
                })
                .collect(),
            uses: vec![UseAlias {
                module: Vec::new(),
                name: "V1".into(),
                path: vec!["api".into(), "ROUTES".into()],
            }],
            ..FileFacts::default()
        };
        vec![Arc::new(file)]
    }

    #[test]
    fn route_tables_built_by_const_fns() {
        let files = table(
            &[
                (&["api", "routes"], "ROUTES", "Routes::new()"),
                (&["pages"], "ROUTES", "\"/pages\""),
                (&["docs"], "DOCS", "Docs { home: \"/docs/\" }"),
                (&["errors"], "ERROR_ROUTE", "concat!(\"/error/\", \"{id}\")"),
                (
                    &["pages"],
                    "PAGES",
                    "LazyLock::new(|| Pages { home: \"/home\" })",
                ),
            ],
            &[
                (
                    "Routes",
                    "new",
                    "{ let auth = Auth::new(); Routes { auth, scope: \"/api\" } }",
                ),
                (
                    "Auth",
                    "new",
                    "{ let login = \"/api/signin\"; Auth { login, logout: \"/api/signout\" } }",
                ),
            ],
        );
        let consts = Consts::new(&files);
        assert_eq!(
            consts.path("crate::V1.auth.login").as_deref(),
            Some("/api/signin")
        );
        assert_eq!(
            consts.path("V1.auth.logout").as_deref(),
            Some("/api/signout")
        );
        assert_eq!(consts.path("/{V1.scope}/x").as_deref(), Some("/api/x"));
        assert_eq!(consts.path("ERROR_ROUTE").as_deref(), Some("/error/{id}"));
        assert_eq!(consts.path("crate::PAGES.home").as_deref(), Some("/home"));
        assert_eq!(
            consts.path("&DOCS.home[0..DOCS.home.len() - 1]").as_deref(),
            Some("/docs")
        );
        assert!(kept_as_written("/{}/V1_ROUTES.pow.verify()"));
        assert!(kept_as_written("/crate::ROUTES.home"));
        assert!(kept_as_written("/api/{routes.login}"));
        assert!(!kept_as_written("/users/{id}/{name:[a-z]+}"));
        assert!(!kept_as_written("/assets/{_:.*}"));
        assert!(!kept_as_written("/files/<path..>"));
        assert!(!kept_as_written("/~/<blog>/<slug>?<responding_to>"));
        // A path parameter, a method the code computes, a constant of two modules: as written.
        assert_eq!(consts.path("/users/{id}"), None);
        assert_eq!(consts.path("V1.pow.verify()"), None);
        assert_eq!(consts.path("ROUTES"), None);
    }
}

//! Knowledge of warp's filters: a route is a chain of filters that ends in what serves it
//! (`warp::path!("v1" / "bulk" / i32).and(warp::get()).and(with_db(pool)).and_then(job_status)`), and
//! routes are put together with `.or(..)` (`health().or(users::routes(db)).recover(rejected)`).
//!
//! Like [`super::router`], it reads one expression at a time and returns route entries; a filter the
//! analysed code makes (`with_db(pool)`, `auth(keys)`) runs on every request before the handler, as a
//! layer does, and one that serves routes of its own is mounted where it is combined.

use syn::{Expr, ExprMethodCall};

use super::driver::{last_segment, path_segments};
use super::router::RouterEnv;
use super::{Loc, RouteEntry};

/// What a filter chain matches and serves, as far as it has been read.
#[derive(Default)]
struct Filter<'a> {
    /// The path its path filters match, from the start of what is left of the request's path.
    path: String,
    /// The method its method filter matches (`warp::post()`); any method without one.
    method: Option<String>,
    /// The analysed code's filters it runs (`.and(auth(keys))`), in order.
    layers: Vec<Vec<String>>,
    /// The handler it ends in (`.and_then(create)`, `.map(|| ..)`) and where.
    served: Option<(Served<'a>, Loc)>,
    /// Routes of the filters it combines (`.or(..)`) or is made of.
    routes: Vec<RouteEntry>,
    /// Whether a filter of warp's own is part of it: only then is a chain read as warp's.
    warp: bool,
    /// Arguments that are code of the function, not filters (a rejection handler, a logger's
    /// closure): walked once the chain is known to be a router.
    walk: Vec<&'a Expr>,
    /// It combines filters with `.or(..)`: a router, whatever it serves.
    combined: bool,
}

/// What a filter hands the request to.
enum Served<'a> {
    Function(Vec<String>),
    Closure(&'a syn::ExprClosure),
}

impl<'a> Filter<'a> {
    /// Its routes: those it combines, and its own if it serves one.
    fn finish(mut self, env: &mut dyn RouterEnv) -> Vec<RouteEntry> {
        if let Some((served, loc)) = self.served.take() {
            if !self.path.is_empty() || self.method.is_some() {
                let handler = match served {
                    Served::Function(path) => path,
                    Served::Closure(c) => env.closure_handler(c),
                };
                self.routes.push(RouteEntry::Route {
                    path: if self.path.is_empty() {
                        "/".to_string()
                    } else {
                        self.path.clone()
                    },
                    method: self.method.clone().unwrap_or_else(|| "ANY".to_string()),
                    handler,
                    loc,
                    cfg: None,
                    layers: self.layers.clone(),
                });
            }
        }
        self.routes
    }
}

/// Whether a method chain is worth reading as warp filters: one of warp's own filters is in it
/// (`warp::path("api")`, `.and(warp::get())`), or the function returns a filter and the chain
/// combines filters (`a().or(b())`).
pub fn is_filter_chain(call: &ExprMethodCall, returns_filter: bool) -> bool {
    let (mut combines, mut and_warp, mut serves_one) = (false, false, false);
    let mut cur = call;
    let root = loop {
        let one_arg = cur.args.len() == 1;
        let name = cur.method.to_string();
        combines |= one_arg && matches!(name.as_str(), "or" | "and");
        and_warp |= name == "and" && cur.args.first().is_some_and(is_warp);
        serves_one |= one_arg && serves(&name);
        match &*cur.receiver {
            Expr::MethodCall(m) => cur = m,
            other => break other,
        }
    };
    let warp_root = is_warp(root);
    combines && (warp_root || returns_filter || and_warp) || warp_root && serves_one
}

/// Whether a function's return type is a warp filter (`impl Filter<Extract = ..> + Clone`,
/// `BoxedFilter<(impl Reply,)>`).
pub fn returns_filter(output: &syn::ReturnType) -> bool {
    let syn::ReturnType::Type(_, ty) = output else {
        return false;
    };
    match &**ty {
        syn::Type::ImplTrait(t) => t.bounds.iter().any(
            |b| matches!(b, syn::TypeParamBound::Trait(t) if last_segment(&t.path) == "Filter"),
        ),
        syn::Type::Path(p) => last_segment(&p.path) == "BoxedFilter",
        _ => false,
    }
}

/// The routes a filter expression serves; `None` if it is not one, or serves none.
pub fn routes(expr: &Expr, env: &mut dyn RouterEnv) -> Option<Vec<RouteEntry>> {
    let mut filter = eval(expr, env)?;
    let serves_route =
        filter.served.is_some() && (!filter.path.is_empty() || filter.method.is_some());
    // `.or(..)` of two options (`env_port.or(default_port)`) combines no filter that serves anything.
    // A path of warp's before routes of their own (`warp::path("api").and(rest_routes)`) puts them
    // under it.
    let prefixes = filter.warp && !filter.path.is_empty() && !filter.routes.is_empty();
    if !(serves_route || filter.combined && !filter.routes.is_empty() || prefixes) {
        return None;
    }
    let walk = std::mem::take(&mut filter.walk);
    let routes = filter.finish(env);
    for arg in walk {
        env.walk(arg);
    }
    Some(routes)
}

/// The function a filter that serves no route hands each request to (`warp::header("x-token")
/// .and_then(signed_in_as)`): where the analysed code runs that filter before a handler, the function
/// runs on the request.
pub fn runs(call: &ExprMethodCall) -> Option<&syn::ExprPath> {
    let mut cur = call;
    loop {
        if serves(&cur.method.to_string()) {
            if let [Expr::Path(p)] = cur.args.iter().collect::<Vec<_>>()[..] {
                return Some(p);
            }
        }
        match &*cur.receiver {
            Expr::MethodCall(m) => cur = m,
            _ => return None,
        }
    }
}

/// A call or macro of warp's own (`warp::path("x")`, `warp::get()`, `warp::path!(..)`).
fn is_warp(expr: &Expr) -> bool {
    match expr {
        Expr::Call(c) => matches!(&*c.func, Expr::Path(p) if is_warp_path(&p.path)),
        Expr::Macro(m) => is_warp_path(&m.mac.path),
        Expr::MethodCall(m) => is_warp(super::driver::chain(&m.receiver).0),
        _ => false,
    }
}

fn is_warp_path(path: &syn::Path) -> bool {
    path.segments.first().is_some_and(|s| s.ident == "warp")
}

/// What serves a request at the end of a chain: `.and_then(handler)` for an async one, `.map(..)` and
/// `.then(..)` for others.
fn serves(method: &str) -> bool {
    matches!(method, "and_then" | "map" | "then")
}

/// Calls on a filter that keep what it serves (rejection handling, logging, boxing).
const PASSTHROUGH: &[&str] = &[
    "recover",
    "or_else",
    "with",
    "boxed",
    "unify",
    "untuple_one",
    "clone",
];

fn eval<'a>(expr: &'a Expr, env: &mut dyn RouterEnv) -> Option<Filter<'a>> {
    match expr {
        Expr::Paren(p) => eval(&p.expr, env),
        Expr::Group(g) => eval(&g.expr, env),
        Expr::Reference(r) => eval(&r.expr, env),
        Expr::Macro(m) if last_segment(&m.mac.path) == "path" => Some(Filter {
            path: path_macro(m.mac.tokens.clone())?,
            warp: true,
            ..Filter::default()
        }),
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else {
                return None;
            };
            let segs = path_segments(&p.path);
            if !is_warp_path(&p.path) {
                // A filter the analysed code makes: it runs before the handler, and may serve routes
                // of its own (`users::routes(db)`).
                let loc = env.loc(syn::spanned::Spanned::span(&p.path));
                return Some(Filter {
                    layers: vec![segs.clone()],
                    routes: vec![RouteEntry::Mount {
                        prefix: String::new(),
                        target: segs,
                        loc,
                        layers: Vec::new(),
                    }],
                    ..Filter::default()
                });
            }
            let names: Vec<&str> = segs.iter().skip(1).map(String::as_str).collect();
            let mut filter = Filter {
                warp: true,
                ..Filter::default()
            };
            match names.as_slice() {
                ["path"] | ["filters", "path", "path"] => {
                    let segment = match c.args.first()? {
                        Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => s.value(),
                        _ => "{segment}".to_string(),
                    };
                    filter.path = format!("/{segment}");
                }
                [.., "path", "param"] => {
                    let ty = p.path.segments.last().and_then(|s| match &s.arguments {
                        syn::PathArguments::AngleBracketed(a) => a.args.first().map(|a| {
                            quote::ToTokens::to_token_stream(a)
                                .to_string()
                                .replace(' ', "")
                        }),
                        _ => None,
                    });
                    filter.path = format!("/{{{}}}", ty.as_deref().unwrap_or("param"));
                }
                [.., "path", "tail"] => filter.path = "/{*tail}".to_string(),
                ["fs", "dir" | "file"] => {
                    let loc = env.loc(syn::spanned::Spanned::span(&p.path));
                    filter.routes.push(RouteEntry::Static {
                        path: String::new(),
                        loc,
                    });
                }
                [method] if is_method(method) => filter.method = Some(method.to_uppercase()),
                _ => {}
            }
            Some(filter)
        }
        // A local holding a router the function built (`let api = users().or(posts());`).
        Expr::Path(p) => {
            let name = p.path.get_ident()?.to_string();
            let routes = env
                .take_local(&name)
                .map(|r| r.finish())
                .unwrap_or_default();
            Some(Filter {
                routes,
                ..Filter::default()
            })
        }
        Expr::MethodCall(m) => eval_method(m, env),
        _ => None,
    }
}

fn is_method(name: &str) -> bool {
    matches!(
        name,
        "get" | "post" | "put" | "delete" | "patch" | "head" | "options"
    )
}

fn eval_method<'a>(call: &'a ExprMethodCall, env: &mut dyn RouterEnv) -> Option<Filter<'a>> {
    let name = call.method.to_string();
    if PASSTHROUGH.contains(&name.as_str()) {
        let mut filter = eval(&call.receiver, env)?;
        // A rejection handler or a logger is no route of its own: it is walked as the code it is.
        filter.walk.extend(call.args.iter());
        return Some(filter);
    }
    let [arg] = call.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    match name.as_str() {
        "and" => {
            let left = eval(&call.receiver, env)?;
            let right = eval(arg, env).unwrap_or_default();
            let prefix = left.path.clone();
            let under = |e: RouteEntry| prefixed(e, &prefix, &left.layers);
            let mut routes: Vec<RouteEntry> = left.routes.clone();
            routes.extend(right.routes.into_iter().map(under));
            let mut layers = left.layers.clone();
            layers.extend(right.layers);
            let mut walk = left.walk;
            walk.extend(right.walk);
            Some(Filter {
                path: format!("{}{}", left.path, right.path),
                method: left.method.or(right.method),
                layers,
                served: left.served.or(right.served),
                routes,
                warp: left.warp || right.warp,
                walk,
                combined: left.combined || right.combined,
            })
        }
        "or" => {
            let left = eval(&call.receiver, env)?;
            let right = eval(arg, env).unwrap_or_default();
            let warp = left.warp || right.warp;
            let mut walk = left.walk.clone();
            walk.extend(right.walk.iter().copied());
            let mut routes = left.finish(env);
            routes.extend(right.finish(env));
            Some(Filter {
                routes,
                warp,
                walk,
                combined: true,
                ..Filter::default()
            })
        }
        m if serves(m) => {
            let mut filter = eval(&call.receiver, env)?;
            let loc = env.loc(syn::spanned::Spanned::span(&call.method));
            // The function it hands the request to is the handler; a closure is one only where no
            // function is (`.map(move || pool.clone()).and_then(create)` hands it to `create`, and
            // `.and_then(create).map(|r| with_header(r, ..))` changes its reply).
            let named = matches!(filter.served, Some((Served::Function(_), _)));
            let handler = match arg {
                Expr::Path(p) => Some((Served::Function(path_segments(&p.path)), loc)),
                Expr::Closure(c) if !named => Some((Served::Closure(c), loc)),
                other => {
                    filter.walk.push(other);
                    None
                }
            };
            if handler.is_some() {
                filter.served = handler;
            }
            Some(filter)
        }
        _ => None,
    }
}

/// An entry of a filter combined after `prefix` (`warp::path("api").and(users::routes())`), behind the
/// filters the prefix runs.
fn prefixed(entry: RouteEntry, prefix: &str, layers: &[Vec<String>]) -> RouteEntry {
    let mut entry = super::router::prefixed(entry, prefix);
    if let RouteEntry::Route { layers: own, .. } | RouteEntry::Mount { layers: own, .. } =
        &mut entry
    {
        own.extend(layers.iter().cloned());
    }
    entry
}

/// The path `warp::path!("v1" / "bulk" / i32 / "results")` matches: `/v1/bulk/{i32}/results`.
fn path_macro(tokens: proc_macro2::TokenStream) -> Option<String> {
    let mut out = String::new();
    let mut part = String::new();
    let flush = |part: &mut String, out: &mut String| {
        if !part.is_empty() {
            out.push('/');
            out.push_str(part);
            part.clear();
        }
    };
    for tt in tokens {
        match tt {
            proc_macro2::TokenTree::Punct(p) if p.as_char() == '/' => flush(&mut part, &mut out),
            // `path!("files" / ..)`: the rest of the path is left to the filters after it.
            proc_macro2::TokenTree::Punct(p) if p.as_char() == '.' => {}
            proc_macro2::TokenTree::Literal(l) => {
                let lit: syn::LitStr = syn::parse2(l.into_token_stream()).ok()?;
                part.push_str(&lit.value());
            }
            proc_macro2::TokenTree::Ident(i) => {
                part.push('{');
                part.push_str(&i.to_string());
                part.push('}');
            }
            _ => return None,
        }
    }
    flush(&mut part, &mut out);
    Some(out)
}

use quote::ToTokens;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_macro_reads_literals_and_types() {
        let tokens: proc_macro2::TokenStream =
            "\"v1\" / \"bulk\" / i32 / \"results\"".parse().unwrap();
        assert_eq!(
            path_macro(tokens).as_deref(),
            Some("/v1/bulk/{i32}/results")
        );
        let tokens: proc_macro2::TokenStream = "\"files\" / ..".parse().unwrap();
        assert_eq!(path_macro(tokens).as_deref(), Some("/files"));
    }
}

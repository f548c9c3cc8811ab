//! Knowledge of axum: router chains (`route`, `nest`, `merge`, `route_service`), method routers
//! (`get(h).post(h2)`, `on(MethodFilter::GET, h)`) and extractor types.
//!
//! It reads one expression at a time and returns route entries; locals and closure handlers are the
//! visitor's business, reached through [`RouterEnv`]. It never resolves names across files.

use syn::{Expr, ExprMethodCall};

use super::driver::{last_segment, path_segments};
use super::{Loc, RouteEntry};

/// What router evaluation needs from the visitor.
pub trait RouterEnv {
    /// The entries of a local router variable, which is consumed by the expression using it.
    fn take_local(&mut self, name: &str) -> Option<Vec<RouteEntry>>;
    /// Registers a closure used as a handler and returns the name it is known by.
    fn closure_handler(&mut self, closure: &syn::ExprClosure) -> Vec<String>;
    fn loc(&self, span: proc_macro2::Span) -> Loc;
}

/// Extractor types whose presence among a function's parameters marks it as a handler.
pub const EXTRACTORS: &[&str] = &[
    "State",
    "Path",
    "Query",
    "Json",
    "Form",
    "Extension",
    "TypedHeader",
    "Multipart",
    "WebSocketUpgrade",
    "ConnectInfo",
    "RawQuery",
    "OriginalUri",
    "MatchedPath",
    "RawForm",
    "Host",
];

/// Methods on a router that keep its routes and add none.
const ROUTER_PASSTHROUGH: &[&str] = &[
    "layer",
    "route_layer",
    "with_state",
    "fallback",
    "fallback_service",
    "method_not_allowed_fallback",
    "into_make_service",
    "into_make_service_with_connect_info",
    "into_service",
    "boxed",
    "clone",
];

const METHODS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "head", "options", "trace", "connect", "any",
];

/// True if this method call looks like an axum router operation (so its chain is a router).
pub fn is_router_op(call: &ExprMethodCall) -> bool {
    let name = call.method.to_string();
    let first_is_str = matches!(
        call.args.first(),
        Some(Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(_),
            ..
        }))
    );
    match (name.as_str(), call.args.len()) {
        ("route" | "nest" | "route_service" | "nest_service", 2) => first_is_str,
        ("merge", 1) => true,
        _ => false,
    }
}

/// `Router::new()`, `Router::default()`, `axum::Router::<S>::new()`.
fn is_router_new(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else { return false };
    let Expr::Path(p) = &*call.func else {
        return false;
    };
    let segs = path_segments(&p.path);
    let n = segs.len();
    n >= 2 && segs[n - 2] == "Router" && matches!(segs[n - 1].as_str(), "new" | "default")
}

/// Evaluates a router expression into its entries; `None` if it is not a router.
pub fn eval_router(expr: &Expr, env: &mut dyn RouterEnv) -> Option<Vec<RouteEntry>> {
    match expr {
        Expr::Paren(p) => eval_router(&p.expr, env),
        Expr::Group(g) => eval_router(&g.expr, env),
        Expr::Try(t) => eval_router(&t.expr, env),
        Expr::Call(call) if is_router_new(expr) => {
            let _ = call;
            Some(Vec::new())
        }
        Expr::Call(call) => {
            // A router made by another function: `api::router()`, `routes(state.clone())`. A router
            // passed to it (`with_auth(users::router())`) is taken to come back out of it.
            let Expr::Path(p) = &*call.func else {
                return None;
            };
            let mut entries = vec![RouteEntry::Mount {
                prefix: String::new(),
                target: path_segments(&p.path),
                loc: env.loc(syn::spanned::Spanned::span(&p.path)),
            }];
            for arg in &call.args {
                let routerish = match arg {
                    Expr::Call(_) | Expr::Path(_) => true,
                    Expr::MethodCall(m) => {
                        is_router_op(m) || is_router_new(super::driver::chain(arg).0)
                    }
                    _ => false,
                };
                if routerish {
                    if let Some(inner) = eval_router(arg, env) {
                        entries.extend(inner);
                    }
                }
            }
            Some(entries)
        }
        Expr::Path(p) if p.path.segments.len() == 1 => env.take_local(&last_segment(&p.path)),
        Expr::MethodCall(call) => eval_method(call, env),
        _ => None,
    }
}

fn eval_method(call: &ExprMethodCall, env: &mut dyn RouterEnv) -> Option<Vec<RouteEntry>> {
    let name = call.method.to_string();
    if ROUTER_PASSTHROUGH.contains(&name.as_str()) {
        return eval_router(&call.receiver, env);
    }
    if !is_router_op(call) {
        return None;
    }
    let mut entries = eval_router(&call.receiver, env)?;
    let args: Vec<&Expr> = call.args.iter().collect();
    match name.as_str() {
        "route" | "route_service" => {
            let (path, loc) = str_lit(args[0], env)?;
            for (method, handler) in method_router(args[1], env) {
                entries.push(RouteEntry::Route {
                    path: path.clone(),
                    method,
                    handler,
                    loc,
                });
            }
        }
        "nest" | "nest_service" => {
            let (prefix, _) = str_lit(args[0], env)?;
            if let Some(inner) = eval_router(args[1], env) {
                entries.extend(inner.into_iter().map(|e| prefixed(e, &prefix)));
            }
        }
        "merge" => {
            if let Some(inner) = eval_router(args[0], env) {
                entries.extend(inner);
            }
        }
        _ => {}
    }
    Some(entries)
}

fn str_lit(expr: &Expr, env: &dyn RouterEnv) -> Option<(String, Loc)> {
    let Expr::Lit(syn::ExprLit {
        lit: syn::Lit::Str(s),
        ..
    }) = expr
    else {
        return None;
    };
    Some((s.value(), env.loc(s.span())))
}

/// Joins a nest prefix and a route path the way axum does: `/api` + `/` is `/api`.
pub fn join_path(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if path.is_empty() || path == "/" {
        return if prefix.is_empty() {
            "/".into()
        } else {
            prefix.into()
        };
    }
    if path.starts_with('/') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}/{path}")
    }
}

fn prefixed(entry: RouteEntry, prefix: &str) -> RouteEntry {
    match entry {
        RouteEntry::Route {
            path,
            method,
            handler,
            loc,
        } => RouteEntry::Route {
            path: join_path(prefix, &path),
            method,
            handler,
            loc,
        },
        RouteEntry::Mount {
            prefix: inner,
            target,
            loc,
        } => RouteEntry::Mount {
            prefix: if inner.is_empty() {
                prefix.trim_end_matches('/').to_string()
            } else {
                join_path(prefix, &inner)
            },
            target,
            loc,
        },
    }
}

/// `get(h).post(h2)` → [("GET", h), ("POST", h2)].
fn method_router(expr: &Expr, env: &mut dyn RouterEnv) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    collect_methods(expr, env, &mut out);
    out
}

fn collect_methods(expr: &Expr, env: &mut dyn RouterEnv, out: &mut Vec<(String, Vec<String>)>) {
    match expr {
        Expr::Paren(p) => collect_methods(&p.expr, env, out),
        Expr::Call(call) => {
            let Expr::Path(p) = &*call.func else { return };
            let args: Vec<&Expr> = call.args.iter().collect();
            method_entry(&last_segment(&p.path), &args, env, out);
        }
        Expr::MethodCall(call) => {
            collect_methods(&call.receiver, env, out);
            let args: Vec<&Expr> = call.args.iter().collect();
            method_entry(&call.method.to_string(), &args, env, out);
        }
        _ => {}
    }
}

/// One link of a method router: `get(h)` / `.post(h)`, or `on(MethodFilter::GET, h)`.
fn method_entry(
    name: &str,
    args: &[&Expr],
    env: &mut dyn RouterEnv,
    out: &mut Vec<(String, Vec<String>)>,
) {
    match args {
        // `get(h)`, and `get_service(h.layer(..))`.
        [handler] if METHODS.contains(&name.trim_end_matches("_service")) => {
            if let Some(h) = handler_name(handler, env) {
                out.push((method_name(name.trim_end_matches("_service")), h));
            }
        }
        [filter, handler] if name == "on" => {
            if let Some(h) = handler_name(handler, env) {
                out.extend(method_filter(filter).into_iter().map(|m| (m, h.clone())));
            }
        }
        _ => {}
    }
}

fn method_name(name: &str) -> String {
    if name == "any" {
        "ANY".into()
    } else {
        name.to_uppercase()
    }
}

/// `MethodFilter::GET`, `MethodFilter::GET.or(MethodFilter::POST)`.
fn method_filter(expr: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    let text = quote::ToTokens::to_token_stream(expr).to_string();
    for m in METHODS {
        let upper = m.to_uppercase();
        if text
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == upper)
        {
            out.push(upper);
        }
    }
    out
}

/// The handler a method router names: a path, a path with layers, or a closure.
fn handler_name(expr: &Expr, env: &mut dyn RouterEnv) -> Option<Vec<String>> {
    match expr {
        Expr::Path(p) => Some(path_segments(&p.path)),
        Expr::Paren(p) => handler_name(&p.expr, env),
        Expr::Reference(r) => handler_name(&r.expr, env),
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "layer" | "with_state" | "into_service"
            ) =>
        {
            handler_name(&m.receiver, env)
        }
        Expr::Closure(c) => Some(env.closure_handler(c)),
        _ => None,
    }
}

/// Is this parameter type an extractor? Returns its name.
pub fn extractor_name(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(tp) = ty else { return None };
    let seg = tp.path.segments.last()?;
    let name = seg.ident.to_string();
    if !EXTRACTORS.contains(&name.as_str()) {
        return None;
    }
    // `Path`, `State`, `Json`… take a type argument; `std::path::Path` is never passed by value.
    let generic = matches!(seg.arguments, syn::PathArguments::AngleBracketed(_));
    let bare_ok = matches!(
        name.as_str(),
        "Multipart" | "WebSocketUpgrade" | "RawQuery" | "OriginalUri" | "MatchedPath" | "RawForm"
    );
    (generic || bare_ok).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::join_path;

    #[test]
    fn nest_prefixes_join_like_axum() {
        assert_eq!(join_path("/api", "/users"), "/api/users");
        assert_eq!(join_path("/api/", "/users"), "/api/users");
        assert_eq!(join_path("/api", "/"), "/api");
        assert_eq!(join_path("", "/"), "/");
        assert_eq!(join_path("/v1", "items/{id}"), "/v1/items/{id}");
    }
}

//! Routes a hand-written service dispatches itself: a `match` on the request's path (hyper's
//! `match req.uri().path() { "/perf/info" => .., "/perf/get" => .. }`, or on the method and the path,
//! `match (req.method(), req.uri().path()) { (&Method::GET, "/") => .. }`). Each arm whose pattern is a
//! path is a route, served by what the arm does.

use syn::{Expr, ExprMatch, Pat};

/// One arm that serves a route: the paths its pattern names, the method its pattern or guard asks for
/// (any without one), and its body.
pub struct ArmRoute<'a> {
    pub paths: Vec<String>,
    pub method: Option<String>,
    pub arm: &'a syn::Arm,
}

/// Does `expr` read the request's path (`req.uri().path()`, `&*req.uri().path()`,
/// `req.uri().path().to_owned()`)?
fn reads_request_path(expr: &Expr) -> bool {
    let (_, calls) = super::driver::chain(strip(expr));
    calls
        .windows(2)
        .any(|w| w[0].method == "uri" && w[1].method == "path" && w[1].args.is_empty())
}

/// Whether `expr` holds the request's path, or what is left of it once a prefix is taken off; if so,
/// that prefix (`""` for the whole path, `"/vss"` for `path.strip_prefix("/vss").unwrap_or_default()`,
/// a constant as written, `/{BASE_PATH}`). `held` gives the prefix of a local that holds such a path.
pub fn request_path(expr: &Expr, held: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if reads_request_path(expr) {
        return Some(String::new());
    }
    let (root, calls) = super::driver::chain(strip(expr));
    let Expr::Path(p) = strip(root) else {
        return None;
    };
    let mut prefix = held(&p.path.get_ident()?.to_string())?;
    for call in calls {
        match (call.method.to_string().as_str(), call.args.first()) {
            ("strip_prefix" | "trim_start_matches", Some(taken)) => {
                let taken = super::router::written_part(taken)?;
                prefix = super::router::join_path(&prefix, &taken);
            }
            (
                "unwrap_or_default" | "unwrap_or" | "unwrap" | "expect" | "as_str" | "as_ref"
                | "to_owned" | "to_string" | "trim_end_matches",
                _,
            ) => {}
            _ => return None,
        }
    }
    Some(prefix)
}

/// Does `expr` read the request's method (`req.method()`)?
fn reads_request_method(expr: &Expr) -> bool {
    let (_, calls) = super::driver::chain(strip(expr));
    calls
        .last()
        .is_some_and(|c| c.method == "method" && c.args.is_empty())
}

fn strip(mut expr: &Expr) -> &Expr {
    loop {
        match expr {
            Expr::Reference(r) => expr = &r.expr,
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => expr = &u.expr,
            Expr::Paren(p) => expr = &p.expr,
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(m.method.to_string().as_str(), "as_str" | "as_ref") =>
            {
                expr = &m.receiver
            }
            _ => return expr,
        }
    }
}

/// The routes of a `match` on the request's path, under the prefix taken off it; `held` gives the
/// prefix of a local that holds the request's path (`let path = req.uri().path().to_owned();`). None
/// when it is no such match, or fewer than two of its arms name a path.
pub fn path_match<'a>(
    e: &'a ExprMatch,
    held: &dyn Fn(&str) -> Option<String>,
) -> Option<Vec<ArmRoute<'a>>> {
    // Where the path is in the scrutinee: alone, or in a tuple beside the method.
    let (at, prefix) = match strip(&e.expr) {
        Expr::Tuple(t) => {
            // Beside the path may be the method, or anything else the service tells requests
            // apart by (`request.headers().contains_key(UPGRADE)`): the path still names the route.
            let (path, prefix) = t
                .elems
                .iter()
                .enumerate()
                .find_map(|(i, x)| Some((i, request_path(x, held)?)))?;
            (Some(path), prefix)
        }
        other => (None, request_path(other, held)?),
    };
    let routes: Vec<ArmRoute> = e
        .arms
        .iter()
        .filter_map(|arm| {
            let (paths, method) = arm_paths(&arm.pat, at)?;
            let method = method.or_else(|| arm.guard.as_ref().and_then(|(_, g)| guard_method(g)));
            let paths = paths
                .iter()
                .map(|p| super::router::join_path(&prefix, p))
                .collect();
            Some(ArmRoute { paths, method, arm })
        })
        .collect();
    (routes.len() >= 2).then_some(routes)
}

/// `method` in `(method, path)`, a local named so.
fn is_method_local(expr: &Expr) -> bool {
    matches!(strip(expr), Expr::Path(p) if p.path.is_ident("method"))
}

/// The paths an arm's pattern names, and its method where the pattern names one.
fn arm_paths(pat: &Pat, at: Option<usize>) -> Option<(Vec<String>, Option<String>)> {
    match (pat, at) {
        (Pat::Or(or), _) => {
            let mut paths = Vec::new();
            let mut method = None;
            for case in &or.cases {
                let (p, m) = arm_paths(case, at)?;
                paths.extend(p);
                method = method.or(m);
            }
            Some((paths, method))
        }
        (Pat::Tuple(t), Some(i)) => {
            let (paths, _) = arm_paths(t.elems.iter().nth(i)?, None)?;
            let method = t
                .elems
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != i)
                .find_map(|(_, p)| pattern_method(p));
            Some((paths, method))
        }
        (Pat::Lit(l), None) => match &l.lit {
            syn::Lit::Str(s) if s.value().starts_with('/') && !is_grpc_method(&s.value()) => {
                Some((vec![s.value()], None))
            }
            _ => None,
        },
        (Pat::Paren(p), _) => arm_paths(&p.pat, at),
        _ => None,
    }
}

/// `/catalog.Catalog/GetProducts`: a gRPC method's path, which tonic's generated server dispatches on
/// (its methods are entry points of their own).
fn is_grpc_method(path: &str) -> bool {
    let mut parts = path[1..].split('/');
    matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(service), Some(method), None)
            if service.contains('.') && method.starts_with(|c: char| c.is_ascii_uppercase())
    )
}

/// `&Method::GET`, `hyper::Method::POST`: the method a pattern names.
fn pattern_method(pat: &Pat) -> Option<String> {
    match pat {
        Pat::Reference(r) => pattern_method(&r.pat),
        Pat::Path(p) => method_name(&super::driver::last_segment(&p.path)),
        _ => None,
    }
}

fn method_name(name: &str) -> Option<String> {
    matches!(
        name,
        "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS"
    )
    .then(|| name.to_string())
}

/// The method an arm's guard asks for (`if *req.method() == http::Method::GET`).
fn guard_method(guard: &Expr) -> Option<String> {
    let Expr::Binary(b) = guard else { return None };
    if !matches!(b.op, syn::BinOp::Eq(_)) {
        return None;
    }
    let named = |x: &Expr| match strip(x) {
        Expr::Path(p) => method_name(&super::driver::last_segment(&p.path)),
        _ => None,
    };
    let (asks, other) = match (named(&b.left), named(&b.right)) {
        (Some(m), _) => (m, &b.right),
        (None, Some(m)) => (m, &b.left),
        _ => return None,
    };
    (reads_request_method(other) || is_method_local(other)).then_some(asks)
}

/// An `if` condition that tests the request's method (`req.method() == Method::GET`, `method ==
/// Method::GET.to_string()` on a local `held` says holds it, `*req.method() != Method::POST`, `m == "GET"
/// || m == "HEAD"`): the methods the then-arm runs for (`GET,HEAD`), or those it does not (`!POST`).
pub fn method_test(cond: &Expr, held: &dyn Fn(&str) -> bool) -> Option<String> {
    match cond {
        Expr::Paren(p) => method_test(&p.expr, held),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
            let inner = method_test(&u.expr, held)?;
            Some(match inner.strip_prefix('!') {
                Some(rest) => rest.to_string(),
                None => format!("!{inner}"),
            })
        }
        Expr::Binary(b) if matches!(b.op, syn::BinOp::Or(_)) => {
            let (l, r) = (method_test(&b.left, held)?, method_test(&b.right, held)?);
            (!l.starts_with('!') && !r.starts_with('!')).then(|| format!("{l},{r}"))
        }
        Expr::Binary(b) if matches!(b.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_)) => {
            let named = |x: &Expr| match strip_text(x) {
                Expr::Path(p) => method_name(&super::driver::last_segment(&p.path)),
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => method_name(&s.value()),
                _ => None,
            };
            let reads = |x: &Expr| {
                let x = strip_text(x);
                reads_request_method(x)
                    || matches!(x, Expr::Path(p) if p.path.get_ident().is_some_and(|i| held(&i.to_string())))
            };
            let asks = match (named(&b.left), named(&b.right)) {
                (Some(m), None) if reads(&b.right) => m,
                (None, Some(m)) if reads(&b.left) => m,
                _ => return None,
            };
            Some(match b.op {
                syn::BinOp::Ne(_) => format!("!{asks}"),
                _ => asks,
            })
        }
        _ => None,
    }
}

/// Does a `let` bind the request's method (`let method = req.method().to_string();`)?
pub fn holds_request_method(init: &Expr) -> bool {
    reads_request_method(strip_text(init))
}

/// [`strip`], and the conversions to text or an owned copy (`.to_string()`, `.clone()`).
fn strip_text(mut expr: &Expr) -> &Expr {
    loop {
        match strip(expr) {
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(
                        m.method.to_string().as_str(),
                        "to_string" | "to_owned" | "clone" | "to_uppercase"
                    ) =>
            {
                expr = &m.receiver
            }
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(src: &str) -> Vec<(Vec<String>, Option<String>)> {
        let e: ExprMatch = syn::parse_str(src).unwrap();
        path_match(&e, &|n| (n == "path").then(String::new))
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.paths, r.method))
            .collect()
    }

    #[test]
    fn arms_of_a_match_on_the_path_are_routes() {
        let got = routes(
            r#"match path.as_str() {
                "/a" | "/b" => x(),
                "/c" if *req.method() == http::Method::GET => y(),
                "other" => z(),
                _ => w(),
            }"#,
        );
        assert_eq!(
            got,
            [
                (vec!["/a".to_string(), "/b".to_string()], None),
                (vec!["/c".to_string()], Some("GET".to_string())),
            ]
        );
        let got = routes(
            r#"match (req.method(), req.uri().path()) {
                (&Method::GET, "/") => x(),
                (&Method::POST, "/echo") => y(),
                _ => z(),
            }"#,
        );
        assert_eq!(
            got,
            [
                (vec!["/".to_string()], Some("GET".to_string())),
                (vec!["/echo".to_string()], Some("POST".to_string())),
            ]
        ); // Beside the path, whether the request asks for a websocket.
        let got = routes(
            r#"match (request.uri().path(), request.headers().contains_key(header::UPGRADE)) {
                ("/", true) => ws(),
                ("/", false) => page(),
                ("/join", false) => join(),
                (_, _) => z(),
            }"#,
        );
        let paths: Vec<_> = got
            .iter()
            .map(|(p, m)| (p[0].as_str(), m.is_none()))
            .collect();
        assert_eq!(paths, [("/", true), ("/", true), ("/join", true)]);
    }

    #[test]
    fn a_match_on_other_strings_is_no_router() {
        assert!(routes(r#"match name.as_str() { "/a" => x(), "/b" => y(), _ => z() }"#).is_empty());
        // tonic's generated server: its methods are the entry points.
        assert!(routes(
            r#"match req.uri().path() { "/shop.Catalog/Count" => x(), "/shop.Catalog/Get" => y(), _ => z() }"#
        )
        .is_empty());
        assert!(routes(r#"match path { "/a" => x(), _ => z() }"#).is_empty());
    }

    #[test]
    fn conditions_on_the_request_method_name_the_methods_each_arm_runs_for() {
        let test = |src: &str| {
            let e: Expr = syn::parse_str(src).unwrap();
            method_test(&e, &|n| n == "method")
        };
        assert_eq!(test("req.method() == Method::GET").as_deref(), Some("GET"));
        assert_eq!(
            test("*req.method() != http::Method::POST").as_deref(),
            Some("!POST")
        );
        assert_eq!(
            test("method == Method::GET.to_string()").as_deref(),
            Some("GET")
        );
        assert_eq!(
            test(r#"method == "GET" || method == "HEAD""#).as_deref(),
            Some("GET,HEAD")
        );
        assert_eq!(
            test("!(req.method() == Method::GET)").as_deref(),
            Some("!GET")
        );
        // Not the request's method: a local that holds something else, a method of another kind.
        assert_eq!(test("kind == Method::GET"), None);
        assert_eq!(test("req.method() == Method::GET && admin"), None);
    }
}

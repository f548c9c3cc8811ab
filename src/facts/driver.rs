//! Knowledge of database drivers: which awaited expressions are round trips (sqlx, tokio-postgres,
//! deadpool-postgres), which build concurrency (`try_join!`, `join_all`, `buffer_unordered`), and how
//! executor expressions are spelled.
//!
//! These are pure functions over syn expressions. They decide shapes only; the visitor owns the state
//! (local aliases, dependencies) and turns shapes into steps.

use quote::ToTokens;
use syn::{Expr, ExprMethodCall};

use super::TripKind;

/// Functions that start an sqlx query.
const SQLX_QUERY_FNS: &[&str] = &[
    "query",
    "query_as",
    "query_scalar",
    "query_with",
    "query_as_with",
    "query_scalar_with",
    "raw_sql",
];

/// Macros that start an sqlx query; the SQL is the first string literal among their arguments.
const SQLX_QUERY_MACROS: &[&str] = &[
    "query",
    "query_as",
    "query_scalar",
    "query_unchecked",
    "query_as_unchecked",
    "query_scalar_unchecked",
    "query_file",
    "query_file_as",
    "query_file_scalar",
    "query_file_unchecked",
    "query_file_as_unchecked",
];

/// sqlx methods that send a query and wait for its result.
const SQLX_TERMINALS: &[&str] = &[
    "fetch_one",
    "fetch_all",
    "fetch_optional",
    "execute",
    "fetch_many",
];

/// Stream adapters that drain an sqlx `fetch` stream in one round trip.
const STREAM_DRAINS: &[&str] = &[
    "try_collect",
    "collect",
    "try_next",
    "next",
    "try_for_each",
    "for_each",
    "try_fold",
    "fold",
    "map",
    "map_ok",
    "try_filter",
    "filter",
    "filter_map",
    "try_filter_map",
    "and_then",
    "map_err",
    "boxed",
];

/// tokio-postgres client methods that are one round trip each, with the SQL (or statement) first.
const PG_SQL_METHODS: &[&str] = &[
    "query",
    "query_one",
    "query_opt",
    "query_raw",
    "query_typed",
    "query_typed_raw",
    "execute",
    "execute_raw",
    "prepare",
    "prepare_cached",
    "prepare_typed",
    "prepare_typed_cached",
    "batch_execute",
    "simple_query",
    "copy_in",
    "copy_out",
];

/// Where the SQL text of a round trip comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlRef {
    Text(String),
    Const(String),
    /// A local variable holding a query builder or prepared statement.
    Local(String),
    Unknown,
}

/// The shape of one database round trip, before the visitor resolves names.
#[derive(Debug)]
pub struct TripShape<'e> {
    pub kind: TripKind,
    pub api: String,
    pub sql: SqlRef,
    /// The executor expression (`&state.db`, `&mut *tx`, `client`).
    pub executor: Option<&'e Expr>,
    /// The method name that sends the query, for the span.
    pub method: &'e ExprMethodCall,
}

/// Flattens `a.b().c()` into the root `a` and the calls `[b, c]`, innermost first.
pub fn chain(expr: &Expr) -> (&Expr, Vec<&ExprMethodCall>) {
    let mut calls = Vec::new();
    let mut cur = expr;
    loop {
        match cur {
            Expr::MethodCall(m) => {
                calls.push(m);
                cur = &m.receiver;
            }
            Expr::Try(t) => cur = &t.expr,
            Expr::Paren(p) => cur = &p.expr,
            Expr::Group(g) => cur = &g.expr,
            _ => break,
        }
    }
    calls.reverse();
    (cur, calls)
}

/// The last segment of a path expression or call, as a string.
pub fn last_segment(path: &syn::Path) -> String {
    path.segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// The path segments of a path expression.
pub fn path_segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| s.ident.to_string()).collect()
}

/// If `root` starts an sqlx query, the SQL it carries and how it is spelled.
pub fn sqlx_query_root(root: &Expr) -> Option<(SqlRef, String)> {
    match root {
        Expr::Call(call) => {
            let Expr::Path(p) = &*call.func else {
                return None;
            };
            let name = last_segment(&p.path);
            // `QueryBuilder::new("SELECT …")`: the statement starts with its first argument.
            let segs = path_segments(&p.path);
            let builder = segs.len() >= 2 && segs[segs.len() - 2] == "QueryBuilder";
            if builder && matches!(name.as_str(), "new" | "with_arguments") {
                let sql = call.args.first().map(sql_ref).unwrap_or(SqlRef::Unknown);
                return Some((sql, "sqlx::QueryBuilder".to_string()));
            }
            if !SQLX_QUERY_FNS.contains(&name.as_str()) {
                return None;
            }
            // A bare `query(…)` must at least look like SQL or a name holding it.
            let sql = call.args.first().map(sql_ref).unwrap_or(SqlRef::Unknown);
            let qualified = p.path.segments.len() > 1;
            if !qualified && matches!(sql, SqlRef::Unknown) {
                return None;
            }
            Some((sql, format!("sqlx::{name}")))
        }
        Expr::Macro(m) => {
            let name = last_segment(&m.mac.path);
            if !SQLX_QUERY_MACROS.contains(&name.as_str()) {
                return None;
            }
            let sql = if name.starts_with("query_file") {
                SqlRef::Unknown
            } else {
                first_string_literal(&m.mac.tokens)
                    .map(SqlRef::Text)
                    .unwrap_or(SqlRef::Unknown)
            };
            Some((sql, format!("sqlx::{name}!")))
        }
        _ => None,
    }
}

/// The first string literal in a macro's tokens (`query_as!(User, "SELECT …", id)`).
pub fn first_string_literal(tokens: &proc_macro2::TokenStream) -> Option<String> {
    for tt in tokens.clone() {
        if let proc_macro2::TokenTree::Literal(lit) = tt {
            if let Ok(syn::Lit::Str(s)) = syn::parse2::<syn::Lit>(lit.into_token_stream()) {
                return Some(s.value());
            }
        }
    }
    None
}

/// Where an SQL argument comes from.
pub fn sql_ref(expr: &Expr) -> SqlRef {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => SqlRef::Text(s.value()),
        Expr::Reference(r) => sql_ref(&r.expr),
        Expr::Paren(p) => sql_ref(&p.expr),
        Expr::Group(g) => sql_ref(&g.expr),
        Expr::Unary(u) => sql_ref(&u.expr),
        Expr::Macro(m) => first_string_literal(&m.mac.tokens)
            .map(SqlRef::Text)
            .unwrap_or(SqlRef::Unknown),
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "as_str" | "as_ref" | "to_string"
            ) =>
        {
            sql_ref(&m.receiver)
        }
        Expr::Path(p) if p.path.segments.len() == 1 => {
            let name = last_segment(&p.path);
            if name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
            {
                SqlRef::Const(name)
            } else {
                SqlRef::Local(name)
            }
        }
        Expr::Path(p) => SqlRef::Const(last_segment(&p.path)),
        _ => SqlRef::Unknown,
    }
}

/// Recognises an awaited expression (the part before `.await`) as a database round trip.
pub fn trip_shape(expr: &Expr, is_query_local: impl Fn(&str) -> bool) -> Option<TripShape<'_>> {
    let (root, calls) = chain(expr);
    let last = *calls.last()?;
    let method = last.method.to_string();

    // sqlx: `query(…)…fetch_one(executor)`, or a builder held in a local.
    let query_root = sqlx_query_root(root).or_else(|| match root {
        Expr::Path(p) if p.path.segments.len() == 1 => {
            let name = last_segment(&p.path);
            is_query_local(&name).then(|| (SqlRef::Local(name), "sqlx::query".to_string()))
        }
        _ => None,
    });
    if let Some((sql, api)) = query_root {
        // `fetch(executor)` followed by stream adapters that drain it is one round trip.
        let send = calls.iter().position(|c| {
            let name = c.method.to_string();
            SQLX_TERMINALS.contains(&name.as_str()) || name == "fetch"
        })?;
        let tail_ok = calls[send + 1..]
            .iter()
            .all(|c| STREAM_DRAINS.contains(&c.method.to_string().as_str()));
        if !tail_ok && send + 1 != calls.len() {
            return None;
        }
        let sender = calls[send];
        return Some(TripShape {
            kind: TripKind::Query,
            api: format!("{api}(…).{}", sender.method),
            sql,
            executor: sender.args.first(),
            method: sender,
        });
    }

    let receiver = &*last.receiver;
    match (method.as_str(), last.args.len()) {
        ("begin", 0) | ("transaction", 0) => Some(TripShape {
            kind: TripKind::Begin,
            api: format!(".{method}()"),
            sql: SqlRef::Text("BEGIN".into()),
            executor: Some(receiver),
            method: last,
        }),
        ("commit", 0) | ("rollback", 0) => Some(TripShape {
            kind: if method == "commit" {
                TripKind::Commit
            } else {
                TripKind::Rollback
            },
            api: format!(".{method}()"),
            sql: SqlRef::Text(method.to_uppercase()),
            executor: Some(receiver),
            method: last,
        }),
        // sqlx's Executor methods on a pool or connection: `pool.execute("…")`, `conn.fetch_one(query)`.
        (m, 1) if SQLX_TERMINALS.contains(&m) => {
            let arg = last.args.first()?;
            let sql = executor_arg_sql(arg, &is_query_local)?;
            Some(TripShape {
                kind: TripKind::Query,
                api: format!(".{m}(…)"),
                sql,
                executor: Some(receiver),
                method: last,
            })
        }
        // tokio-postgres and deadpool-postgres clients: the SQL or a prepared statement comes first.
        (m, n) if PG_SQL_METHODS.contains(&m) && n >= 1 => {
            let arg = last.args.first()?;
            let sql = sql_ref(arg);
            if sql == SqlRef::Unknown {
                return None;
            }
            // Two-argument forms take parameters; one-argument forms are `prepare`/`batch_execute`.
            let takes_params = !matches!(
                m,
                "prepare" | "prepare_cached" | "batch_execute" | "simple_query"
            );
            if takes_params && n < 2 {
                return None;
            }
            let kind = if m.starts_with("prepare") {
                TripKind::Prepare
            } else {
                TripKind::Query
            };
            Some(TripShape {
                kind,
                api: format!(".{m}(…)"),
                sql,
                executor: Some(receiver),
                method: last,
            })
        }
        _ => None,
    }
}

/// The SQL of an argument to an sqlx `Executor` method: a literal, a query expression or a builder local.
fn executor_arg_sql(arg: &Expr, is_query_local: &impl Fn(&str) -> bool) -> Option<SqlRef> {
    if let Some((sql, _)) = sqlx_query_root(chain(arg).0) {
        return Some(sql);
    }
    match sql_ref(arg) {
        SqlRef::Text(t) => Some(SqlRef::Text(t)),
        SqlRef::Local(name) if is_query_local(&name) => Some(SqlRef::Local(name)),
        SqlRef::Const(name) => Some(SqlRef::Const(name)),
        _ => None,
    }
}

/// A stream that is polled later (`let rows = query(…).fetch(&pool);`): a round trip where it is made.
pub fn unawaited_fetch(expr: &ExprMethodCall) -> Option<TripShape<'_>> {
    if expr.method != "fetch" || expr.args.len() != 1 {
        return None;
    }
    let (root, _) = chain(&expr.receiver);
    let (sql, api) = sqlx_query_root(root)?;
    Some(TripShape {
        kind: TripKind::Query,
        api: format!("{api}(…).fetch"),
        sql,
        executor: expr.args.first(),
        method: expr,
    })
}

/// Concurrency macros: each argument is a future that runs at the same time as the others.
pub fn is_join_macro(path: &syn::Path) -> Option<String> {
    let name = last_segment(path);
    if !matches!(name.as_str(), "join" | "try_join") {
        return None;
    }
    Some(format!("{}!", path_segments(path).join("::")))
}

/// Concurrency functions taking futures (`join(a, b)`, `join_all(iter)`).
pub fn is_join_fn(path: &syn::Path) -> Option<String> {
    let name = last_segment(path);
    let known = matches!(
        name.as_str(),
        "join"
            | "try_join"
            | "join3"
            | "join4"
            | "join5"
            | "try_join3"
            | "try_join4"
            | "try_join5"
            | "join_all"
            | "try_join_all"
            | "select_ok"
    );
    // A bare `join(…)` could be anything (`Path::join`, `slice::join`): only qualified or `_all` forms.
    if !known || (path.segments.len() == 1 && !name.contains("_all") && !name.starts_with("try_")) {
        return None;
    }
    Some(path_segments(path).join("::"))
}

/// Future adapters: awaiting `fut.adapter(..)` awaits `fut`.
pub fn is_future_adapter(name: &str) -> bool {
    matches!(
        name,
        "map"
            | "map_ok"
            | "map_err"
            | "and_then"
            | "or_else"
            | "then"
            | "inspect"
            | "inspect_ok"
            | "inspect_err"
            | "err_into"
            | "ok_into"
            | "boxed"
            | "boxed_local"
            | "fuse"
            | "instrument"
            | "in_current_span"
            | "with_current_subscriber"
            | "into_future"
    )
}

/// Task spawns: the future runs detached unless the handle is awaited.
pub fn is_spawn(path: &syn::Path) -> bool {
    let segs = path_segments(path);
    let name = segs.last().map(String::as_str).unwrap_or("");
    matches!(name, "spawn" | "spawn_local") && (segs.len() > 1)
}

/// Stream adapters that run their async closure once per item, one after another.
pub fn is_sequential_adapter(name: &str) -> bool {
    matches!(
        name,
        "then"
            | "for_each"
            | "try_for_each"
            | "fold"
            | "try_fold"
            | "and_then"
            | "filter_map"
            | "map"
    )
}

/// Stream adapters that run several items' futures at once.
pub fn is_concurrent_adapter(name: &str) -> bool {
    matches!(
        name,
        "buffer_unordered"
            | "buffered"
            | "for_each_concurrent"
            | "try_for_each_concurrent"
            | "try_buffer_unordered"
            | "try_buffered"
    )
}

/// The executor spelled without references, derefs and no-op adapters: `&mut *tx` → `tx`,
/// `&state.db` → `state.db`, `state.pool.as_ref()` → `state.pool`.
pub fn executor_text(expr: &Expr) -> (String, bool) {
    let mut cur = expr;
    let mut mutable = false;
    loop {
        match cur {
            Expr::Reference(r) => {
                mutable |= r.mutability.is_some();
                cur = &r.expr;
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => cur = &u.expr,
            Expr::Paren(p) => cur = &p.expr,
            Expr::Group(g) => cur = &g.expr,
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(
                        m.method.to_string().as_str(),
                        "as_ref"
                            | "as_mut"
                            | "clone"
                            | "deref"
                            | "deref_mut"
                            | "borrow"
                            | "borrow_mut"
                            | "as_deref"
                    ) =>
            {
                mutable |= m.method.to_string().contains("mut");
                cur = &m.receiver;
            }
            _ => break,
        }
    }
    let text: String = cur
        .to_token_stream()
        .to_string()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    (text, mutable)
}

/// Strips `?`, `.await`, and error adapters from a `let` initialiser, to see what a local holds.
pub fn strip_plumbing(expr: &Expr) -> &Expr {
    let mut cur = expr;
    loop {
        match cur {
            Expr::Try(t) => cur = &t.expr,
            Expr::Await(a) => cur = &a.base,
            Expr::Paren(p) => cur = &p.expr,
            Expr::Group(g) => cur = &g.expr,
            Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "map_err"
                        | "context"
                        | "with_context"
                        | "expect"
                        | "unwrap"
                        | "wrap_err"
                        | "change_context"
                        | "into_diagnostic"
                        | "ok_or"
                        | "ok_or_else"
                ) =>
            {
                cur = &m.receiver
            }
            _ => break,
        }
    }
    cur
}

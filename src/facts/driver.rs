//! Matching expressions against the catalog: which awaited expressions are round trips, which run futures
//! at once (`try_join!`, `join_all`, `buffer_unordered`), and how executor expressions are spelled.
//!
//! These are pure functions over syn expressions. The knowledge of libraries lives in the catalog (data);
//! this module only knows Rust's shapes. The visitor owns the state (local aliases, dependencies) and
//! turns shapes into steps.

use proc_macro2::Span;
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, ExprMethodCall};

use super::span;
use super::sql::Access;
use super::TripKind;
use crate::catalog::{path_matches, Builder, CallSpec, Catalog, EndpointSpec};

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
#[derive(Debug, Clone)]
pub struct TripShape<'e> {
    pub kind: TripKind,
    pub api: String,
    pub sql: SqlRef,
    /// The executor expression (`&state.db`, `&mut *tx`, `client`).
    pub executor: Option<&'e Expr>,
    /// The name of the call that sends it, and the whole call, for spans.
    pub start: Span,
    pub call: Span,
    /// Read or write, when the catalog fixes it; otherwise the SQL decides.
    pub access: Option<Access>,
    /// The database the catalog names, if any.
    pub database: Option<String>,
    /// A service (cache, HTTP API) rather than a database.
    pub service: bool,
    /// Through a pool, the pool checks the connection with a round trip first.
    pub checkout: bool,
    /// Given SQL text, the library prepares it in a round trip first.
    pub prepares_text: bool,
    /// Statements that follow a BEGIN to set up its transaction (`SET TRANSACTION ISOLATION LEVEL ..`).
    pub settings: usize,
    /// The statements the call sends in turn (1 but for a catalog entry that says more).
    pub statements: usize,
    /// Matched by a method's name alone (`x.delete(db)`): the method call, which the analysed code's own
    /// method of that name answers instead when the receiver is one of its types.
    pub method: Option<&'e ExprMethodCall>,
    /// A locking read built by the query builder (`.lock_exclusive()`, `.for_update()`).
    pub locks: bool,
    /// The `hopcheck.toml` entry that matched it, if one did.
    pub origin: Option<u32>,
}

/// Flattens `a.b().c()` into the root `a` and the calls `[b, c]`, innermost first.
pub fn chain(expr: &Expr) -> (&Expr, Vec<&ExprMethodCall>) {
    let mut calls = Vec::new();
    let mut cur = expr;
    loop {
        match cur {
            // `tags.iter().fold(query(&sql), |q, tag| q.bind(tag))`: the value it starts from, grown
            // by the closure, is what the chain goes on with.
            Expr::MethodCall(m)
                if m.method == "fold"
                    && m.args.len() == 2
                    && matches!(m.args[0], Expr::Call(_) | Expr::MethodCall(_))
                    && matches!(m.args[1], Expr::Closure(_)) =>
            {
                cur = &m.args[0];
            }
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
        .map(|s| ident(&s.ident))
        .unwrap_or_default()
}

/// A name as the module tree and the files know it: `r#impl` is the module `impl` (file `impl.rs`).
pub fn ident(i: &proc_macro2::Ident) -> String {
    // One string, without `unraw`'s copy of the identifier first.
    let mut name = i.to_string();
    if name.starts_with("r#") {
        name.drain(..2);
    }
    name
}

/// The path segments of a path expression.
pub fn path_segments(path: &syn::Path) -> Vec<String> {
    path.segments.iter().map(|s| ident(&s.ident)).collect()
}

/// If `root` starts a query of a catalog builder (`sqlx::query("…")`, `query!(…)`, `Post::find()`): the
/// builder, the SQL the root carries, and how it is spelled.
pub fn query_root<'c>(root: &Expr, catalog: &'c Catalog) -> Option<(&'c Builder, SqlRef, String)> {
    match root {
        Expr::Call(call) => {
            let Expr::Path(p) = &*call.func else {
                return None;
            };
            let segs = path_segments(&p.path);
            let sql = call.args.first().map(sql_ref).unwrap_or(SqlRef::Unknown);
            // A bare imported name (`query(…)`) must at least carry recognisable SQL.
            let bare_ok = !matches!(sql, SqlRef::Unknown);
            let builder = catalog.builders.iter().find(|b| {
                (!b.qualified_only || names_library(b, segs.first()))
                    && b.functions.iter().any(|f| path_matches(&segs, f, bare_ok))
            })?;
            // `sqlx::query` as written; a bare `query` or `Post::find` with its library in front.
            let spelled = if segs.first() == Some(&builder.library) {
                segs.join("::")
            } else {
                format!("{}::{}", builder.library, segs.join("::"))
            };
            Some((builder, sql, spelled))
        }
        Expr::Macro(m) => {
            let name = last_segment(&m.mac.path);
            let first = m.mac.path.segments.first().map(|s| s.ident.to_string());
            let qualified = m.mac.path.segments.len() > 1;
            let builder = catalog
                .builders
                .iter()
                .find(|b| {
                    (!b.qualified_only || qualified && names_library(b, first.as_ref()))
                        && b.macros.contains(&name)
                })
                .or_else(|| opaque_query_macro(&name, catalog))?;
            let sql = if name.contains("file") {
                SqlRef::Unknown
            } else {
                first_string_literal(&m.mac.tokens)
                    .map(SqlRef::Text)
                    .unwrap_or(SqlRef::Unknown)
            };
            Some((builder, sql, format!("{}::{name}!", builder.library)))
        }
        // `match target { A(id) => query_as(..).bind(id), B(id) => query_as(..).bind(id) }.fetch_all(db)`:
        // each arm builds the query the chain then sends.
        Expr::Match(m) => {
            let arms: Vec<&Expr> = m.arms.iter().map(|a| &*a.body).collect();
            built_in_each(&arms, catalog)
        }
        Expr::If(i) => {
            let (_, other) = i.else_branch.as_ref()?;
            let then = block_tail(&i.then_branch)?;
            built_in_each(&[then, other], catalog)
        }
        Expr::Paren(p) => query_root(&p.expr, catalog),
        _ => None,
    }
}

/// A macro named as a query that hopcheck cannot expand (`query_concat_as!(User, "SELECT ", COLS, " FROM
/// users WHERE id = $1"; id)`, a procedural macro of the analysed code that writes `sqlx::query_as!`): taken
/// for a query of the library whose query macros the crate can use, sent where a chain sends it
/// (`.fetch_optional(&self.pool).await`), its SQL read from its first string.
fn opaque_query_macro<'c>(name: &str, catalog: &'c Catalog) -> Option<&'c Builder> {
    let lower = name.to_ascii_lowercase();
    if !(lower.contains("query") || lower.contains("sql")) {
        return None;
    }
    catalog
        .builders
        .iter()
        .find(|b| !b.macros.is_empty() && !b.send.is_empty())
}

/// The query every one of `arms` builds (each arm's value, a chain starting at the same library's
/// builder): its SQL where the arms agree on the statement's kind, else not known.
fn built_in_each<'c>(
    arms: &[&Expr],
    catalog: &'c Catalog,
) -> Option<(&'c Builder, SqlRef, String)> {
    let mut roots = Vec::new();
    for arm in arms {
        let value = match strip_plumbing(arm) {
            Expr::Block(b) => block_tail(&b.block)?,
            other => other,
        };
        roots.push(query_root(chain(value).0, catalog)?);
    }
    let (builder, sql, spelled) = roots.first()?.clone();
    if roots.iter().any(|(b, _, _)| !std::ptr::eq(*b, builder)) {
        return None;
    }
    let verb = |s: &SqlRef| match s {
        SqlRef::Text(t) => t.split_whitespace().next().map(str::to_ascii_uppercase),
        _ => None,
    };
    let sql = match verb(&sql) {
        Some(v) if roots.iter().all(|(_, s, _)| verb(s).as_ref() == Some(&v)) => sql,
        _ => SqlRef::Unknown,
    };
    Some((builder, sql, spelled))
}

/// The value a block ends with (its last expression, with no `;`).
fn block_tail(b: &syn::Block) -> Option<&Expr> {
    match b.stmts.last()? {
        syn::Stmt::Expr(e, None) => Some(e),
        _ => None,
    }
}

/// Does a path's first segment name one of the crates that provide a builder (`sqlx` for `sqlx-core`'s
/// entries too: the library's own name)?
fn names_library(b: &Builder, first: Option<&String>) -> bool {
    first.is_some_and(|f| {
        *f == b.library.replace('-', "_") || b.crates.iter().any(|c| c.replace('-', "_") == *f)
    })
}

/// What a local of the function being read holds, where it matters to recognising a round trip.
pub enum LocalValue<'c> {
    /// An unsent query (of a builder of the catalog, where known).
    Query(Option<&'c Builder>),
    /// A connection, pool or transaction: a pool's connection (`let c = pool.get().await?`) or the
    /// parameter of a transaction's closure (`db.transaction(|t| ..)`), whatever its name.
    Executor,
}

/// Does this executor expression look like a connection, pool or transaction: by its name, or because it
/// is a local `local` knows holds one?
fn is_executor<'c>(expr: &Expr, local: &impl Fn(&str) -> Option<LocalValue<'c>>) -> bool {
    if looks_like_executor(expr) {
        return true;
    }
    let (text, _) = executor_text(expr);
    // A local (`conn`), or a field of `self` (`self.inner`).
    let name = text.strip_prefix("self.").unwrap_or(&text);
    !name.is_empty()
        && name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && matches!(local(&text), Some(LocalValue::Executor))
}

/// Does this executor expression look like a connection, pool or transaction?
pub fn looks_like_executor(expr: &Expr) -> bool {
    if matches!(expr, Expr::Reference(r) if r.mutability.is_some()) {
        return true;
    }
    let (text, mutable) = executor_text(expr);
    mutable || names_an_executor(&text)
}

/// Does this text (`state.db`, `self.pool`) name a connection, pool or transaction?
pub fn names_an_executor(text: &str) -> bool {
    let text = text.to_lowercase();
    [
        "conn",
        "connection",
        "pool",
        "db",
        "tx",
        "txn",
        "transaction",
        "executor",
        "client",
        "database",
        "pg",
    ]
    .iter()
    .any(|w| {
        text.split(|c: char| !c.is_alphanumeric())
            .any(|part| part == *w || part.ends_with(w))
    })
}

/// An expression whose name says it is a pool: `pool`, `self.pool`, `state.db_pool`.
pub fn names_a_pool(expr: &Expr) -> bool {
    let (text, _) = executor_text(expr);
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .any(|part| part == "pool" || part.ends_with("pool"))
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
        // sqlx 0.9's `AssertSqlSafe(format!(..))`, which lets SQL built at run time through.
        Expr::Call(c) if c.args.len() == 1 => match &*c.func {
            Expr::Path(p) if last_segment(&p.path) == "AssertSqlSafe" => sql_ref(&c.args[0]),
            _ => SqlRef::Unknown,
        },
        _ => SqlRef::Unknown,
    }
}

/// The statement a sea-query builder writes (`Query::select().from(..).build_sqlx(PostgresQueryBuilder)`,
/// `Query::update()...to_string(MysqlQueryBuilder)`): its verb, with `FOR UPDATE` where it locks rows,
/// as SQL text the classifier reads (a read or a write). None for any other chain.
pub fn sea_query_text(expr: &Expr) -> Option<String> {
    let (root, calls) = chain(expr);
    let built = calls.last().is_some_and(|c| {
        matches!(
            c.method.to_string().as_str(),
            "build"
                | "build_sqlx"
                | "build_any"
                | "build_any_sqlx"
                | "build_rusqlite"
                | "build_postgres"
                | "to_string"
        ) && c.args.len() == 1
    });
    let Expr::Call(call) = root else { return None };
    let Expr::Path(p) = &*call.func else {
        return None;
    };
    let segs = path_segments(&p.path);
    let [.., query, verb] = segs.as_slice() else {
        return None;
    };
    if !built || query != "Query" || !call.args.is_empty() {
        return None;
    }
    let text = match verb.as_str() {
        "select" => "SELECT",
        "insert" => "INSERT",
        "update" => "UPDATE",
        "delete" => "DELETE",
        _ => return None,
    };
    let locks = calls.iter().any(|c| {
        matches!(
            c.method.to_string().as_str(),
            "lock" | "lock_exclusive" | "lock_shared" | "lock_with_tables" | "lock_with_behavior"
        )
    });
    Some(match locks {
        true => format!("{text} FOR UPDATE"),
        false => text.to_string(),
    })
}

/// How messages name the check a `Connection<Db>` guard makes.
pub const POOL_GUARD: &str = "rocket_db_pools' `Connection` guard";

/// `Connection<Db>` by value (rocket_db_pools' request guard): it takes a connection from the pool,
/// which checks it first.
pub fn is_pool_guard(ty: &syn::Type) -> bool {
    let syn::Type::Path(tp) = ty else {
        return false;
    };
    tp.path.segments.last().is_some_and(|s| {
        s.ident == "Connection" && matches!(s.arguments, syn::PathArguments::AngleBracketed(_))
    })
}

/// `req.guard::<Connection<Db>>()`: a guard asked for by hand, in another guard.
fn guard_call(expr: &Expr) -> Option<TripShape<'_>> {
    let Expr::MethodCall(m) = expr else {
        return None;
    };
    let turbofish = m.turbofish.as_ref()?;
    let asks_pool = turbofish.args.iter().any(|a| match a {
        syn::GenericArgument::Type(t) => is_pool_guard(t),
        _ => false,
    });
    (m.method == "guard" && asks_pool).then(|| pool_check(m, POOL_GUARD, None))
}

/// A pool's check of a connection, made by the method call `m` (a round trip, no statement).
pub fn pool_check<'e>(m: &ExprMethodCall, api: &str, executor: Option<&'e Expr>) -> TripShape<'e> {
    TripShape {
        kind: TripKind::Check,
        api: api.into(),
        sql: SqlRef::Unknown,
        executor,
        start: m.method.span(),
        call: span::of_method_call(m),
        access: None,
        database: None,
        service: false,
        checkout: true,
        prepares_text: false,
        settings: 0,
        statements: 1,
        locks: false,
        method: None,
        origin: None,
    }
}

/// Recognises an awaited expression (the part before `.await`) as a round trip of the catalog.
/// `local` tells which locals hold an unsent query (and of which builder) or an executor.
pub fn trip_shape<'e, 'c>(
    expr: &'e Expr,
    catalog: &'c Catalog,
    local: impl Fn(&str) -> Option<LocalValue<'c>>,
) -> Option<TripShape<'e>> {
    if let Some(shape) = guard_call(expr) {
        return Some(shape);
    }
    let (root, calls) = chain(expr);
    if calls.is_empty() {
        return function_call(expr, catalog);
    }
    let locks = calls.iter().any(|c| is_lock(&c.method.to_string()));
    let mut shape = shape_of_chain(root, calls, catalog, local, true)?;
    shape.locks = locks;
    Some(shape)
}

/// A query builder's row lock: sea-orm's `lock_exclusive()`, diesel's `for_update()`, …
fn is_lock(method: &str) -> bool {
    matches!(
        method,
        "lock_exclusive"
            | "lock_shared"
            | "lock_with_behavior"
            | "for_update"
            | "for_no_key_update"
            | "for_share"
            | "for_key_share"
    )
}

/// `trip_shape` for a method call that is not awaited where it stands: synchronous diesel inside a
/// `conn.run(|c| ..)` shim, or a query future returned to the caller (`fn find(..) -> impl Future`).
pub fn trip_shape_of_call<'e, 'c>(
    call: &'e ExprMethodCall,
    catalog: &'c Catalog,
    local: impl Fn(&str) -> Option<LocalValue<'c>>,
) -> Option<TripShape<'e>> {
    let (root, mut calls) = chain(&call.receiver);
    calls.push(call);
    let locks = calls.iter().any(|c| is_lock(&c.method.to_string()));
    let mut shape = shape_of_chain(root, calls, catalog, local, false)?;
    shape.locks = locks;
    Some(shape)
}

fn shape_of_chain<'e, 'c>(
    root: &'e Expr,
    calls: Vec<&'e ExprMethodCall>,
    catalog: &'c Catalog,
    local: impl Fn(&str) -> Option<LocalValue<'c>>,
    awaited: bool,
) -> Option<TripShape<'e>> {
    let rooted = query_root(root, catalog).or_else(|| match root {
        Expr::Path(p) if p.path.segments.len() == 1 => {
            let name = last_segment(&p.path);
            match local(&name) {
                Some(LocalValue::Query(Some(b))) => {
                    Some((b, SqlRef::Local(name), b.library.clone()))
                }
                _ => None,
            }
        }
        _ => None,
    });
    for builder in catalog.builders.iter().filter(|b| awaited || !b.awaited) {
        if let Some(shape) = builder_trip(builder, root, &calls, rooted.as_ref(), &local) {
            return Some(shape);
        }
    }
    catalog
        .calls
        .iter()
        .filter(|c| awaited || !c.awaited)
        .find_map(|c| {
            // The call itself, or the call followed only by its option methods (`find_one(f).sort(s)`).
            let at = calls
                .iter()
                .rposition(|m| c.methods.iter().any(|n| m.method == n))?;
            let tail_ok = calls[at + 1..]
                .iter()
                .all(|m| c.then.iter().any(|t| m.method == t));
            if !tail_ok {
                return None;
            }
            method_trip(c, calls[at], catalog, &local)
        })
}

/// A chain sent by one of a builder's `send` methods, optionally drained by its `drains`.
fn builder_trip<'e, 'c>(
    b: &Builder,
    root: &'e Expr,
    calls: &[&'e ExprMethodCall],
    rooted: Option<&(&Builder, SqlRef, String)>,
    local: &impl Fn(&str) -> Option<LocalValue<'c>>,
) -> Option<TripShape<'e>> {
    let send = calls
        .iter()
        .position(|c| b.send.iter().any(|s| c.method == s))?;
    let tail_ok = calls[send + 1..]
        .iter()
        .all(|c| b.drains.iter().any(|d| c.method == d));
    if !tail_ok {
        return None;
    }
    let names_roots = !b.functions.is_empty() || !b.macros.is_empty();
    let by_root = rooted.filter(|(rb, _, _)| std::ptr::eq(*rb, b));
    let by_method = calls[..send]
        .iter()
        .any(|c| b.methods.iter().any(|m| c.method == m));
    let any_root = !names_roots && b.methods.is_empty();
    if by_root.is_none() && !by_method && !any_root {
        return None;
    }
    let sender = calls[send];
    let executor = match b.executor.as_deref() {
        Some("root") => Some(root),
        // The first argument of the chain's method that makes it a query (`stmt().bind(&client, ..)`).
        Some("method") => calls[..send]
            .iter()
            .find(|c| b.methods.iter().any(|m| c.method == m))
            .and_then(|c| c.args.first()),
        _ => sender.args.first(),
    };
    if b.executor_hint && !executor.is_some_and(|e| is_executor(e, local)) {
        return None;
    }
    let root_name = match root {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => last_segment(&p.path),
            _ => String::new(),
        },
        _ => String::new(),
    };
    let writes = b.write_functions.contains(&root_name);
    let access = if writes {
        Some(Access::Write)
    } else {
        b.access.map(|a| a.access())
    };
    let (sql, api) = match by_root {
        Some((_, sql, api)) => (sql.clone(), api.clone()),
        None if b.sql_by_name => (named_query(root), b.library.clone()),
        None => (SqlRef::Unknown, b.library.clone()),
    };
    Some(TripShape {
        kind: TripKind::Query,
        api: format!("{api}(…).{}", sender.method),
        sql,
        executor,
        start: sender.method.span(),
        call: span::of_method_call(sender),
        access,
        database: None,
        service: b.endpoint == Some(EndpointSpec::Service),
        checkout: b.checkout_ping,
        prepares_text: false,
        settings: 0,
        statements: 1,
        locks: false,
        method: None,
        origin: b.origin,
    })
}

/// `receiver.method(args)` as one round trip of a `[[calls]]` entry.
fn method_trip<'e, 'c>(
    c: &CallSpec,
    call: &'e ExprMethodCall,
    catalog: &'c Catalog,
    local: &impl Fn(&str) -> Option<LocalValue<'c>>,
) -> Option<TripShape<'e>> {
    if !c.methods.iter().any(|m| call.method == m) {
        return None;
    }
    let args: Vec<&Expr> = call.args.iter().collect();
    if !arity_ok(c, args.len()) {
        return None;
    }
    let sql = match c.sql.as_deref().and_then(arg_index) {
        Some(i) => args.get(i).and_then(|a| sql_of_arg(a, catalog, local)),
        None => None,
    };
    let params = c
        .params
        .as_deref()
        .and_then(arg_index)
        .and_then(|i| args.get(i))
        .is_some_and(|a| is_param_list(a));
    let executor = pick_executor(c, Some(&call.receiver), &args);
    // `conn.prepare(&sql)` with `let (sql, values) = statement.to_sql()?;`: text the code names as SQL,
    // sent on what names a connection.
    let named_sql = || {
        c.sql
            .as_deref()
            .and_then(arg_index)
            .and_then(|i| args.get(i))
            .is_some_and(|a| names_sql_text(a))
            && executor.is_some_and(|e| is_executor(e, local))
    };
    if c.sql_required && sql.is_none() && !params && !named_sql() {
        return None;
    }
    if c.executor_hint && !executor.is_some_and(|e| is_executor(e, local)) {
        return None;
    }
    // Named for what it is (`graph.run(q)`), or a field that holds the library's own value
    // (`self.inner.run(q)` in a wrapper whose `inner` is a `neo4rs::Graph`).
    let held = |e: &Expr| {
        let (text, _) = executor_text(e);
        text.starts_with("self.") && matches!(local(&text), Some(LocalValue::Executor))
    };
    if !c.executor_words.is_empty()
        && !executor.is_some_and(|e| has_word(e, &c.executor_words) || held(e))
    {
        return None;
    }
    let kind = c.kind.map(|k| k.kind()).unwrap_or(TripKind::Query);
    let sql = match sql {
        None if c.sql_by_name => Some(named_query(chain(&call.receiver).0)),
        other => other,
    };
    let sql = match (sql, kind) {
        (Some(s), _) => s,
        (None, TripKind::Begin) => SqlRef::Text("BEGIN".into()),
        (None, TripKind::Commit) => SqlRef::Text("COMMIT".into()),
        (None, TripKind::Rollback) => SqlRef::Text("ROLLBACK".into()),
        (None, _) => SqlRef::Unknown,
    };
    Some(TripShape {
        kind,
        api: format!(".{}(…)", call.method),
        sql,
        executor,
        start: call.method.span(),
        call: span::of_method_call(call),
        access: c.access.map(|a| a.access()),
        database: c.database.clone(),
        service: c.endpoint == Some(EndpointSpec::Service),
        checkout: c.checkout_ping,
        prepares_text: c.prepares_text,
        statements: c.statements.unwrap_or(1).max(1),
        settings: c
            .settings
            .iter()
            .filter_map(|a| arg_index(a).and_then(|i| args.get(i)))
            .filter(|a| is_some_call(a))
            .count(),
        locks: false,
        method: Some(call),
        origin: c.origin,
    })
}

/// The generated query a chain starts with (`queries::models::all_models()`), by the constant its `.sql`
/// file gives it (`models::all_models`, see `facts::generated_sql`).
fn named_query(root: &Expr) -> SqlRef {
    let Expr::Call(c) = root else {
        return SqlRef::Unknown;
    };
    let Expr::Path(p) = &*c.func else {
        return SqlRef::Unknown;
    };
    match path_segments(&p.path).as_slice() {
        [.., module, name] => SqlRef::Const(format!("{module}::{name}")),
        _ => SqlRef::Unknown,
    }
}

/// `&[&id, &name]` or `&[]`: a list of query parameters, as tokio-postgres takes them.
fn is_param_list(expr: &Expr) -> bool {
    match expr {
        Expr::Reference(r) => matches!(&*r.expr, Expr::Array(_)),
        _ => false,
    }
}

/// Does an expression's text have one of these words (as a whole identifier part)?
fn has_word(expr: &Expr, words: &[String]) -> bool {
    let (text, _) = executor_text(expr);
    let text = text.to_lowercase();
    text.split(|c: char| !c.is_alphanumeric())
        .any(|part| words.iter().any(|w| part == w))
}

/// An awaited free-function call of a `[[calls]]` entry: `db::cached_user(&pool, id).await`.
fn function_call<'e>(expr: &'e Expr, catalog: &Catalog) -> Option<TripShape<'e>> {
    let Expr::Call(call) = expr else { return None };
    let Expr::Path(p) = &*call.func else {
        return None;
    };
    let segs = path_segments(&p.path);
    let c = catalog
        .calls
        .iter()
        .find(|c| c.functions.iter().any(|f| path_matches(&segs, f, false)))?;
    let args: Vec<&Expr> = call.args.iter().collect();
    if !arity_ok(c, args.len()) {
        return None;
    }
    let sql = c
        .sql
        .as_deref()
        .and_then(arg_index)
        .and_then(|i| args.get(i))
        .map(|a| sql_ref(a));
    Some(TripShape {
        kind: c.kind.map(|k| k.kind()).unwrap_or(TripKind::Query),
        api: format!("{}(…)", segs.join("::")),
        sql: sql.unwrap_or(SqlRef::Unknown),
        executor: pick_executor(c, None, &args),
        start: p.path.span(),
        call: span::of(expr),
        access: c.access.map(|a| a.access()),
        database: c.database.clone(),
        service: c.endpoint == Some(EndpointSpec::Service),
        checkout: c.checkout_ping,
        prepares_text: c.prepares_text,
        settings: 0,
        statements: 1,
        locks: false,
        method: None,
        origin: c.origin,
    })
}

/// `Some(..)` as written: a setting given, where `None` leaves it to the server.
pub fn is_some_call(e: &Expr) -> bool {
    matches!(strip_plumbing(e), Expr::Call(c) if matches!(&*c.func, Expr::Path(p) if p.path.is_ident("Some")))
}

fn arity_ok(c: &CallSpec, n: usize) -> bool {
    c.args.is_none_or(|a| a == n) && c.min_args.is_none_or(|m| n >= m)
}

pub use crate::catalog::arg_index;

fn pick_executor<'e>(
    c: &CallSpec,
    receiver: Option<&'e Expr>,
    args: &[&'e Expr],
) -> Option<&'e Expr> {
    match c.executor.as_deref() {
        Some("receiver") => receiver,
        Some("none") => None,
        Some(spec) => arg_index(spec).and_then(|i| args.get(i).copied()),
        None => receiver.or(args.first().copied()),
    }
}

/// The SQL an argument carries: a literal, a constant, a query expression or a builder local.
fn sql_of_arg<'c>(
    arg: &Expr,
    catalog: &'c Catalog,
    local: &impl Fn(&str) -> Option<LocalValue<'c>>,
) -> Option<SqlRef> {
    if let Some((_, sql, _)) = query_root(chain(arg).0, catalog) {
        return Some(sql);
    }
    match sql_ref(arg) {
        SqlRef::Text(t) => Some(SqlRef::Text(t)),
        SqlRef::Local(name) if matches!(local(&name), Some(LocalValue::Query(_))) => {
            Some(SqlRef::Local(name))
        }
        SqlRef::Local(_) | SqlRef::Unknown => None,
        SqlRef::Const(name) => Some(SqlRef::Const(name)),
    }
}

/// Is this argument a local whose name says it holds SQL text (`sql`, `insert_sql`, `stmt`, `query`)?
fn names_sql_text(arg: &Expr) -> bool {
    let SqlRef::Local(name) = sql_ref(arg) else {
        return false;
    };
    let name = name.to_ascii_lowercase();
    ["sql", "stmt", "statement", "query"].iter().any(|w| {
        name == *w || name.ends_with(&format!("_{w}")) || name.starts_with(&format!("{w}_"))
    })
}

/// A stream that is polled later (`let rows = query(…).fetch(&pool);`): a round trip where it is made.
pub fn unawaited_stream<'e>(expr: &'e ExprMethodCall, catalog: &Catalog) -> Option<TripShape<'e>> {
    if (expr.method != "fetch" && expr.method != "stream") || expr.args.len() != 1 {
        return None;
    }
    let (builder, sql, api) = query_root(chain(&expr.receiver).0, catalog)?;
    if builder.drains.is_empty() || !builder.send.iter().any(|s| expr.method == s) {
        return None;
    }
    Some(TripShape {
        kind: TripKind::Query,
        api: format!("{api}(…).{}", expr.method),
        sql,
        executor: expr.args.first(),
        start: expr.method.span(),
        call: span::of_method_call(expr),
        access: builder.access.map(|a| a.access()),
        database: None,
        service: false,
        checkout: builder.checkout_ping,
        prepares_text: false,
        settings: 0,
        statements: 1,
        locks: false,
        method: None,
        origin: builder.origin,
    })
}

/// Methods that run a closure inside a transaction: BEGIN, the closure's statements, COMMIT
/// (`conn.transaction(|c| async move { .. }.scope_boxed())`, sea-orm's `db.transaction(|txn| ..)`).
pub fn is_transaction_closure(call: &ExprMethodCall) -> bool {
    let name = call.method.to_string();
    matches!(
        name.as_str(),
        "transaction" | "run_transaction" | "transaction_with_config" | "transaction_async" | "run"
    ) && call.args.iter().any(|a| matches!(a, Expr::Closure(_)))
        && (name != "run" || built_transaction(&call.receiver))
}

/// diesel-async's `conn.build_transaction()`, with its options after it (`.serializable()`, `.read_only()`).
fn built_transaction(e: &Expr) -> bool {
    let mut e = e;
    while let Expr::MethodCall(m) = e {
        if m.method == "build_transaction" {
            return true;
        }
        if !m.args.is_empty() && m.method != "isolation_level" {
            return false;
        }
        e = &m.receiver;
    }
    false
}

/// Concurrency macros of the catalog: each argument is a future that runs at the same time as the others.
pub fn is_join_macro(path: &syn::Path, catalog: &Catalog) -> Option<String> {
    let name = last_segment(path);
    catalog
        .concurrent_macros
        .contains(&name)
        .then(|| format!("{}!", path_segments(path).join("::")))
}

/// Concurrency functions of the catalog taking futures (`future::join(a, b)`, `join_all(iter)`).
pub fn is_join_fn(path: &syn::Path, catalog: &Catalog) -> Option<String> {
    let segs = path_segments(path);
    catalog
        .concurrent_functions
        .iter()
        .any(|f| path_matches(&segs, f, false))
        .then(|| segs.join("::"))
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
            | "left_future"
            | "right_future"
    )
}

/// Task spawns: the future runs detached unless the handle is awaited.
pub fn is_spawn(path: &syn::Path) -> bool {
    let segs = path_segments(path);
    let name = segs.last().map(String::as_str).unwrap_or("");
    // `tokio::spawn`, `task::spawn_local`, and a project's own wrappers (`spawn_try_task`); not
    // `spawn_blocking`, whose result is awaited for the response.
    let wrapper = name.starts_with("spawn_") && name != "spawn_blocking";
    (matches!(name, "spawn" | "spawn_local") && segs.len() > 1) || wrapper
}

/// Work that runs off the request, later and on a task of its own: a task handed to a thread pool (`pool.execute(move || ..)`, scheduled_thread_pool's
/// `execute_after(delay, move || ..)`, futures' `spawn_ok(fut)`): a closure that takes nothing, or a
/// future, as the last argument. A closure given a resource (`db.execute(|conn| ..)`) runs now. Also a
/// websocket's session (axum's and poem's `ws.on_upgrade(|socket| ..)`): the framework runs it on a task of
/// its own once the upgrade response has gone, so the request waits for none of it.
pub fn runs_off_request(m: &syn::ExprMethodCall) -> bool {
    if m.method == "on_upgrade" {
        return matches!(m.args.last(), Some(Expr::Closure(c)) if c.inputs.len() == 1);
    }
    let named = matches!(
        m.method.to_string().as_str(),
        "execute"
            | "execute_after"
            | "execute_at_fixed_rate"
            | "execute_with_fixed_delay"
            | "spawn_ok"
    );
    let task = match m.args.last() {
        Some(Expr::Closure(c)) => c.inputs.is_empty(),
        Some(Expr::Async(_)) => m.method == "spawn_ok",
        _ => false,
    };
    named && task
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

/// Calls that make an iterator over a collection's items.
pub fn makes_iterator(name: &str) -> bool {
    matches!(
        name,
        "iter"
            | "into_iter"
            | "iter_mut"
            | "drain"
            | "chunks"
            | "windows"
            | "lines"
            | "keys"
            | "values"
    )
}

/// Calls that drain a stream: awaited, they run its adapters once per item.
pub fn is_stream_drain(name: &str) -> bool {
    matches!(
        name,
        "collect"
            | "try_collect"
            | "count"
            | "concat"
            | "try_concat"
            | "for_each"
            | "try_for_each"
            | "fold"
            | "try_fold"
            | "for_each_concurrent"
            | "try_for_each_concurrent"
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

/// An executor that takes a connection where it is written (`&mut pool.get().await?`, `&mut
/// get_db_conn().await?`): each statement so written runs on a connection of its own. A lock's guard
/// (`&mut *conn.lock().await`) is one connection shared.
pub fn fresh_connection(expr: &Expr) -> bool {
    let mut e = expr;
    loop {
        e = match e {
            Expr::Reference(r) => &r.expr,
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => &u.expr,
            Expr::Try(t) => &t.expr,
            Expr::Paren(p) => &p.expr,
            _ => break,
        };
    }
    let Expr::Await(a) = e else { return false };
    let name = match strip_plumbing(&a.base) {
        Expr::MethodCall(m) => m.method.to_string(),
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => last_segment(&p.path),
            _ => return false,
        },
        _ => return false,
    };
    !matches!(
        name.as_str(),
        "lock"
            | "lock_owned"
            | "read"
            | "write"
            | "read_owned"
            | "write_owned"
            | "begin"
            | "transaction"
    )
}

/// The executor spelled without references, derefs and no-op adapters: `&mut *tx` → `tx`,
/// `&state.db` → `state.db`, `state.pool.as_ref()` → `state.pool`.
pub fn executor_text(expr: &Expr) -> (String, bool) {
    let (cur, mutable) = executor_core(expr);
    let mut text = String::new();
    if !plain_place(cur, &mut text) {
        text = cur
            .to_token_stream()
            .to_string()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
    }
    (text, mutable)
}

/// Spells `pool`, `state.db`, `self.0.pool` or `db::POOL` into `out` as the token text would be, without
/// building tokens (executors are spelled for every call); false for any other shape.
fn plain_place(expr: &Expr, out: &mut String) -> bool {
    match expr {
        Expr::Path(p)
            if p.qself.is_none() && p.path.segments.iter().all(|s| s.arguments.is_none()) =>
        {
            if p.path.leading_colon.is_some() {
                out.push_str("::");
            }
            for (i, seg) in p.path.segments.iter().enumerate() {
                if i > 0 {
                    out.push_str("::");
                }
                out.push_str(&seg.ident.to_string());
            }
            true
        }
        Expr::Field(f) => {
            if !plain_place(&f.base, out) {
                return false;
            }
            out.push('.');
            match &f.member {
                syn::Member::Named(ident) => out.push_str(&ident.to_string()),
                syn::Member::Unnamed(index) => out.push_str(&index.index.to_string()),
            }
            true
        }
        _ => false,
    }
}

/// The expression an executor argument names, under `&`, `*`, parentheses and `.as_ref()`-like calls,
/// and whether a `&mut` or `_mut` adapter was on the way.
pub fn executor_core(expr: &Expr) -> (&Expr, bool) {
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
            _ => return (cur, mutable),
        }
    }
}

/// The expression inside the invisible groups and parentheses a macro's transcription leaves around a
/// fragment (`$name:expr` written as `"ping"`).
pub fn ungrouped(expr: &Expr) -> &Expr {
    match expr {
        Expr::Group(g) => ungrouped(&g.expr),
        Expr::Paren(p) => ungrouped(&p.expr),
        other => other,
    }
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
                        | "ok"
                        | "unwrap_or_default"
                ) =>
            {
                cur = &m.receiver
            }
            // A project's own error adapter takes a message and hands the value on:
            // `Folder::find(..).await.map_res("Folder not found")?`.
            Expr::MethodCall(m) if is_message_adapter(m) => cur = &m.receiver,
            _ => break,
        }
    }
    cur
}

/// `.map_res("…")`, `.or_internal(format!(..))`: one argument, a message, on an awaited value.
fn is_message_adapter(m: &syn::ExprMethodCall) -> bool {
    let message = match m.args.first() {
        Some(Expr::Lit(l)) => matches!(l.lit, syn::Lit::Str(_)),
        Some(Expr::Macro(mac)) => mac.mac.path.is_ident("format"),
        _ => false,
    };
    m.args.len() == 1 && message && matches!(&*m.receiver, Expr::Await(_))
}

/// Does this type name a connection, pool or transaction of a database library (`DatabaseConnection`,
/// `PgPool`, `Pool<Postgres>`, `AsyncPgConnection`, `Transaction<'_, Postgres>`, a request-wide `DbTxn`)?
pub fn executor_type(ty: &str) -> bool {
    let name = ty.split('<').next().unwrap_or(ty).trim();
    let name = name.rsplit("::").next().unwrap_or(name);
    ["Connection", "Conn", "Pool", "Transaction", "Txn"]
        .iter()
        .any(|end| name.ends_with(end))
}

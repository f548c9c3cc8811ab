//! The one syntax walk: a `syn::visit::Visit` pass per file that records functions with their bodies as
//! steps, routers, `use` aliases, string constants and test modules.
//!
//! It keeps per-function state (the sequence being built, local aliases for executors, transactions and
//! query builders, and which locals derive from which round trips) and drops it when the function ends.
//! syn types never leave this module: everything it returns is plain data.

use std::collections::{HashMap, HashSet};

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::visit::{self, Visit};
use syn::{Expr, Token};

use super::driver::{self, SqlRef, TripShape};
use super::macros::MacroTable;
use super::router::{self, RouterEnv};
use super::span;
use super::TripKind;
use super::{
    Call, Callee, Concurrent, FileFacts, FnFacts, Loc, LoopStep, ParseError, RouteEntry, Step,
    Trip, TypeFacts, UseAlias,
};
use crate::catalog::Catalog;

/// Parses one file and extracts its facts. Never fails: a syntax error becomes `parse_error`.
pub fn extract(
    path: String,
    source: String,
    module: Vec<String>,
    catalog: &Catalog,
    macros: &MacroTable,
) -> FileFacts {
    // A file parsed alone (no table of the whole code) still expands the macros it defines itself
    // (collected before the file's spans exist); a whole run's table already holds them.
    let own;
    let macros = if macros.is_empty() && source.contains("macro_rules") {
        own = macros.with(MacroTable::from_texts([source.as_str()]));
        &own
    } else {
        macros
    };
    let mut facts = FileFacts {
        path,
        module: module.clone(),
        without_runtime: catalog.without_runtime,
        mysql: catalog.mysql,
        ..FileFacts::default()
    };
    let index = LineIndex::new(&source);
    match super::prune::parse_file(&source) {
        Ok(file) => {
            OWN_WRAPPERS.with(|own| *own.borrow_mut() = own_wrappers(&file));
            FILE_INTS.with(|ints| *ints.borrow_mut() = file_ints(&file.items));
            let mut v = Visitor {
                index: &index,
                catalog,
                facts: &mut facts,
                module,
                impl_ctx: None,
                impl_on_library: false,
                impl_cfg: None,
                impl_generics: Vec::new(),
                impl_self_args: Vec::new(),
                impl_trait_args: Vec::new(),
                impl_trait_qualifier: None,
                graphql_root: false,
                graphql_fields: false,
                impl_assoc: Vec::new(),
                library_fields: HashSet::new(),
                test_depth: 0,
                closure_depth: 0,
                tx_depth: 0,
                last_local_types: Vec::new(),
                last_spawned_params: Vec::new(),
                last_awaited_params: Vec::new(),
                last_renders_template: false,
                last_extensions: Vec::new(),
                layer_conds: Vec::new(),
                rbatis_fn: None,
                last_server_layers: Vec::new(),
                last_param_calls: Vec::new(),
                macros,
                macro_depth: 0,
                expanding: Vec::new(),
                tail_arms: false,
                trip_key: None,
                cfg_walked: false,
                in_future_iter: false,
                numbers: integer_consts(&file.items),
                generated_mods: generated_modules(&file.items),
                method_helpers: file
                    .items
                    .iter()
                    .filter_map(|item| match item {
                        syn::Item::Fn(f) => {
                            router::method_helper(f).map(|m| (f.sig.ident.to_string(), m))
                        }
                        _ => None,
                    })
                    .collect(),
                // The crate's manifests say SQLite is its only database, or the file does.
                sqlite_file: catalog.sqlite_only || sqlite_only(&source),
                r2d2_file: source.contains("r2d2"),
                salvo_file: source.contains("salvo"),
                derives_template: source.contains("Template)") || source.contains("Template,"),
                fns: Vec::new(),
            };
            v.visit_file(&file);
        }
        Err(err) => {
            facts.parse_error = Some(ParseError {
                loc: index.loc(err.span()),
                message: err.to_string(),
            });
        }
    }
    // The span table of this thread holds every parsed file's text; nothing refers to it any more.
    proc_macro2::extra::invalidate_current_thread_spans();
    facts.has_directives = super::has_directives(&source);
    facts.source = source;
    facts
}

/// `CELL.get_or_init(..)`, `crate::CONFIG.get_or_try_init(..)`: a process-wide cell (a `static`, named in
/// capitals as statics are) filled by its first caller, read from then on.
fn once_per_process(m: &syn::ExprMethodCall) -> bool {
    let init = matches!(
        m.method.to_string().as_str(),
        "get_or_init" | "get_or_try_init"
    );
    let Expr::Path(p) = &*m.receiver else {
        return false;
    };
    let name = driver::last_segment(&p.path);
    init && name.len() > 1
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}

/// A method of a connection pool's manager that makes a new connection: in an `impl` with an
/// associated `type Connection` (bb8's and r2d2's `ManageConnection`, a project's own manager) or
/// deadpool's `Manager` (`type Type`), one returning that type.
fn opens_pooled_connection(
    impl_ctx: &Option<(String, Option<String>)>,
    impl_assoc: &[(String, String)],
    sig: &syn::Signature,
) -> bool {
    let Some((_, Some(trait_name))) = impl_ctx else {
        return false;
    };
    let assoc = |name: &str| impl_assoc.iter().find(|(n, _)| n == name);
    let Some((name, ty)) =
        assoc("Connection").or_else(|| (trait_name == "Manager").then(|| assoc("Type")).flatten())
    else {
        return false;
    };
    let syn::ReturnType::Type(_, out) = &sig.output else {
        return false;
    };
    let out = quote::ToTokens::to_token_stream(out).to_string();
    out.contains(&format!("Self :: {name}"))
        || out
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .any(|w| w == ty)
}

/// The literal `false`.
fn is_false(e: Option<&Expr>) -> bool {
    matches!(e, Some(Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. })) if !b.value)
}

/// Turns proc-macro2 line/column pairs into byte offsets.
struct LineIndex<'s> {
    source: &'s str,
    starts: Vec<usize>,
}

impl<'s> LineIndex<'s> {
    fn new(source: &'s str) -> Self {
        let mut starts = vec![0];
        starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { source, starts }
    }

    fn offset(&self, lc: proc_macro2::LineColumn) -> usize {
        let Some(&start) = self.starts.get(lc.line.saturating_sub(1)) else {
            return self.source.len();
        };
        let line = &self.source[start..];
        let within = line
            .char_indices()
            .nth(lc.column)
            .map(|(i, _)| i)
            .unwrap_or(line.len());
        start + within
    }

    fn loc(&self, span: Span) -> Loc {
        let (start, end) = (span.start(), span.end());
        let (a, b) = (self.offset(start), self.offset(end));
        Loc {
            line: start.line as u32,
            col: start.column as u32 + 1,
            offset: a as u32,
            len: b.saturating_sub(a) as u32,
        }
    }

    fn loc_between(&self, from: Span, to: Span) -> Loc {
        let a = self.loc(from);
        let b = self.loc(to);
        Loc {
            len: (b.offset + b.len).saturating_sub(a.offset),
            ..a
        }
    }
}

/// What a local variable holds, as far as round trips are concerned.
#[derive(Debug, Clone)]
enum Local {
    /// A pool, client or connection: `let client = state.pool.get().await?`.
    Executor {
        expr: String,
        connection: bool,
        transaction: bool,
    },
    /// A query builder (with its catalog entry) or a prepared statement, with its SQL.
    Query(SqlRef, Option<usize>),
}

/// Per-function state while its body is walked.
#[derive(Default)]
struct FnCtx {
    frames: Vec<Vec<Step>>,
    next_id: u32,
    /// Which trip and call ids each local's value derives from.
    origin: HashMap<String, Vec<u32>>,
    stmt_deps: Vec<u32>,
    stmt_new: Vec<u32>,
    locals: HashMap<String, Local>,
    routes: Vec<RouteEntry>,
    router_locals: HashMap<String, router::Router>,
    /// Locals a function call made (`let api = create_api_router();`): a router where a router takes them.
    made_by_call: HashMap<String, (Vec<String>, Loc)>,
    /// `FuturesUnordered`, `FuturesOrdered` and `JoinSet` locals with the futures pushed into them so far.
    future_sets: HashMap<String, Vec<Vec<Step>>>,
    /// Locals holding an iterator of futures (`let futures = ids.iter().map(|id| async move { .. });`):
    /// the ids of the steps walked where it is made (a loop of them) and the steps of one future: where
    /// a join awaits the local (`try_join_all(futures)`), the loop gives way to the join.
    future_iters: HashMap<String, (HashSet<u32>, Vec<Step>)>,
    /// Locals holding a transaction's result (`let r = conn.transaction(..).await;`) → its COMMIT's id:
    /// where the code then tests the result, the COMMIT belongs to the arm where it succeeded.
    tx_results: HashMap<String, u32>,
    /// `Vec` locals (`Vec::with_capacity(n)`, `vec![]`) that may collect futures for a `join_all`.
    vectors: HashSet<String>,
    /// Handles of tasks spawned here (`let h = tokio::spawn(fut);`), in the order they were spawned, with
    /// where: their work is in `pending` until a handle is awaited.
    spawned: Vec<(String, Loc)>,
    /// Parameters written as `Option<..>` or `Result<..>`, by name: which of the two.
    param_wrappers: HashMap<String, &'static str>,
    /// Sets of futures (`Vec`s) holding handles of spawned tasks, which run whether or not they are joined.
    task_sets: HashSet<String>,
    /// Parameters that collect routes (actix's `cfg: &mut web::ServiceConfig`).
    route_sinks: Vec<String>,
    /// The function returns routes (rocket's `fn routes() -> Vec<Route>`): a list it appends other
    /// functions' routes to is a router.
    returns_routes: bool,
    /// The function returns a warp filter: the filters it combines (`a().or(b())`) are routers.
    returns_filter: bool,
    /// A function that is not `async` but hands back a future (`fn from_request(..) -> Self::Future`,
    /// `-> BoxFuture<'_, T>`): its caller awaits what its last expression makes.
    returns_future: bool,
    /// The function's parameters and their types.
    params: Vec<(String, String)>,
    /// The position of each parameter bound by a plain name (`prefetched: Option<&Owner>`).
    param_pos: HashMap<String, usize>,
    /// Locals that are a parameter converted (`let p = p.into();`), though they shadow it.
    converted_params: HashSet<String>,
    /// Locals bound to a constant a call may pass on (`let get_user = GetUser::builder()..build();`).
    local_consts: HashMap<String, String>,
    /// Locals holding what one awaited call yielded (`let token = repo.delete_token(&a).await?`), by
    /// the call's id: a later test of the local is a test of that call's outcome.
    local_calls: HashMap<String, u32>,
    /// Locals whose type the code spells (`let x = Type::new(..)`, `let x: Type = ..`).
    local_types: Vec<(String, String)>,
    /// Names bound again with a type of their own (a local shadowing a parameter): the name their
    /// current binding is typed under (`data@3`), so that uses before it keep the earlier type.
    shadowed: HashMap<String, String>,
    /// Closures held in locals, by the name their synthetic handler function is known by.
    closure_locals: HashMap<String, Vec<String>>,
    /// Locals holding what a cache's lookup found (`let s = AUTH_CACHE.get(&key).map(..);`), for a later
    /// `match s { Some(v) => .., _ => .. }` that is the cache-aside lookup.
    cache_locals: HashSet<String>,
    /// Method routers held in locals (`let delete_route = post(delete_card);`), by what they serve.
    method_locals: HashMap<String, Vec<(String, Vec<String>)>>,
    /// Tower `ServiceBuilder`s held in locals, by the layers they stack (outermost first).
    layer_stacks: HashMap<String, Vec<Vec<String>>>,
    /// The layers of a gRPC server the function builds (see `FnFacts::server_layers`).
    server_layers: Vec<Vec<String>>,
    /// Locals holding the request's path (`let path = req.uri().path().to_owned();`), which a service
    /// that routes by hand matches on, each with the prefix taken off it (`path.strip_prefix("/vss")`).
    request_paths: HashMap<String, String>,
    /// The ids of the calls that run a closure held in a local where it is handed on by name
    /// (`self.run(check)`): dropped where the function calls that closure itself.
    handed_closures: Vec<u32>,
    /// Locals holding a prepared statement (`let stmt = client.prepare_cached(..).await?`).
    statements: HashSet<String>,
    /// Futures made but not yet awaited (`let f = load(id);`): their steps run where they are awaited.
    pending: HashMap<String, Vec<Step>>,
    closures: u32,
    /// Parameters a task spawned here calls (see [`FnFacts::spawned_params`]).
    spawned_params: Vec<usize>,
    /// Parameters this function awaits itself (`execute_query.await`), by position.
    awaited_params: Vec<usize>,
    /// Types of the values it stores in the request's extensions.
    extensions: Vec<String>,
    /// It renders a template (see [`FnFacts::renders_template`]).
    renders_template: bool,
    /// Locals bound to a list written out (`let queries = vec![a, b];`, not `mut`): a loop over one
    /// runs that many times.
    local_counts: HashMap<String, u32>,
    /// Locals set to a whole number the code writes (`let mut left = SEARCH_LEN;`): a counter a loop
    /// may be bounded by.
    int_locals: HashMap<String, i64>,
    /// Locals bound to what a parameter, or a field of one, holds inside its `Some` (`if let Some(load)
    /// = &opts.load`): a loop over one goes over that parameter's list.
    unwrapped: HashMap<String, (usize, Option<String>)>,
    /// Locals holding the request's method (`let method = req.method().to_string();`).
    request_methods: HashSet<String>,
}

impl FnCtx {
    /// Records the type of a local. A name already bound (a parameter, an earlier local) is typed under
    /// a name of its own from here on.
    fn type_local(&mut self, name: String, ty: String) {
        let bound = self.params.iter().any(|(n, _)| *n == name)
            || self.local_types.iter().any(|(n, _)| *n == name);
        if bound {
            let versioned = format!("{name}@{}", self.local_types.len());
            self.shadowed.insert(name, versioned.clone());
            self.local_types.push((versioned, ty));
        } else {
            self.local_types.push((name, ty));
        }
    }

    /// A call of one of the function's parameters (`task_fn(reporter)`): its position and the call's id.
    fn param_called(&self, s: &Step) -> Option<(usize, u32)> {
        let Step::Call(Call {
            id,
            callee: Callee::Path(path),
            ..
        }) = s
        else {
            return None;
        };
        match path.as_slice() {
            [name] => self.param_pos.get(name).map(|&p| (p, *id)),
            _ => None,
        }
    }

    /// Marks where a path ends with the value it yields.
    fn push_yield(&mut self, tag: Option<String>) {
        if let Some(tag) = tag {
            self.push(Step::Yields(tag));
        }
    }

    /// The name a local's current binding is typed under.
    fn current_name(&self, name: String) -> String {
        self.shadowed.get(&name).cloned().unwrap_or(name)
    }

    /// The trip and call ids the values of these locals derive from.
    fn origins(&self, names: &[String]) -> Vec<u32> {
        names
            .iter()
            .filter_map(|u| self.origin.get(u))
            .flatten()
            .copied()
            .collect()
    }

    fn push(&mut self, step: Step) {
        if let Some(frame) = self.frames.last_mut() {
            frame.push(step);
        }
    }

    /// Marks call `id` of the current sequence as ending the function where it fails (`call().await?`).
    fn mark_propagates(&mut self, id: u32) {
        for step in self.frames.last_mut().into_iter().flatten() {
            if let Step::Call(c) = step {
                if c.id == id {
                    c.propagates = true;
                }
            }
        }
    }

    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.stmt_new.push(self.next_id);
        self.next_id
    }
}

struct Visitor<'a, 's> {
    index: &'a LineIndex<'s>,
    catalog: &'a Catalog,
    facts: &'a mut FileFacts,
    module: Vec<String>,
    impl_ctx: Option<(String, Option<String>)>,
    /// The enclosing `impl` is on a database library's client (`impl Client for
    /// deadpool_postgres::Client`): `self` is that library's connection.
    impl_on_library: bool,
    /// The `#[cfg(PRED)]` of the `impl` block being visited: its methods exist only where it holds.
    impl_cfg: Option<String>,
    /// Generic bounds of the enclosing impl.
    impl_generics: Vec<(String, String)>,
    /// The type arguments the enclosing `impl`'s type is written with (`Header<I>` gives `I`).
    impl_self_args: Vec<String>,
    /// The type arguments of the enclosing `impl`'s trait (`impl AsObject<User, Delete> for Comment` gives
    /// `User`, `Delete`).
    impl_trait_args: Vec<String>,
    /// The module or crate the trait of the `impl` being walked is named from (see
    /// [`FnFacts::trait_qualifier`]).
    impl_trait_qualifier: Option<String>,
    /// The enclosing `impl` is a GraphQL schema's query or mutation root (`#[graphql_object] impl
    /// QueryRoot`, async-graphql's `#[Object] impl MutationRoot`): each method is an entry point.
    graphql_root: bool,
    /// Walking an `#[Object]` impl of a type that is no root by name (see [`FnFacts::graphql_field`]).
    graphql_fields: bool,
    /// The associated types of the enclosing `impl` (`type NewHistoryEntity = NewContributionHistory;`).
    impl_assoc: Vec<(String, String)>,
    /// Fields of this file's structs (struct, field) that hold a database library's connection, pool or
    /// transaction by its path (`inner: Arc<deadpool_postgres::Transaction<'static>>`), whatever the
    /// field's name: the wrapper's methods that delegate to it (`self.inner.query_one(..)`) send.
    library_fields: HashSet<(String, String)>,
    test_depth: u32,
    /// How many closures the walk is inside, in the function being walked: a `return` or a `?` there
    /// leaves the closure, not the function.
    closure_depth: u32,
    /// Inside a transaction closure (`conn.transaction(|c| ..)`).
    tx_depth: u32,
    /// The typed locals of the function body walked last.
    last_local_types: Vec<(String, String)>,
    /// The last body walked: the parameters its spawned tasks call, and its own calls of parameters.
    last_spawned_params: Vec<usize>,
    last_awaited_params: Vec<usize>,
    last_renders_template: bool,
    last_extensions: Vec<String>,
    /// The flag functions the enclosing `if`s test (see [`router::RouterEnv::layer_condition`]).
    layer_conds: Vec<String>,
    /// The statement of the rbatis `#[html_sql]`/`#[py_sql]` function being walked, which its
    /// `impled!()` body sends.
    rbatis_fn: Option<RbatisStatement>,
    last_server_layers: Vec<Vec<String>>,
    last_param_calls: Vec<(usize, u32)>,
    /// The analysed code's `macro_rules!`, expanded where they are invoked.
    macros: &'a MacroTable,
    /// How many macro expansions the current code sits in.
    macro_depth: usize,
    /// The analysed code's macros being expanded, innermost last.
    expanding: Vec<String>,
    /// The file's helpers that wrap a method router around a handler (`get_internal` → `GET`).
    method_helpers: HashMap<String, String>,
    /// The `if`/`match` about to be walked ends the function: its arms' values are what it yields.
    tail_arms: bool,
    /// What the round trip about to be recorded looks up ([`Trip::key`]).
    trip_key: Option<String>,
    /// The statement about to be walked already sits behind its `#[cfg(..)]` guard.
    cfg_walked: bool,
    /// The `let` about to be walked binds an iterator of futures (see `future_iters`), recorded already.
    in_future_iter: bool,
    /// The file's integer constants (`const SUMMARY_CONCURRENCY: usize = 4;`), for the bound a stream's
    /// buffer is given.
    numbers: HashMap<String, u32>,
    /// Modules of this file whose items a build script writes (`pub mod vault { tonic::include_proto!("vault"); }`):
    /// a type named through one is not the analysed code's type of that name.
    generated_mods: HashSet<String>,
    /// The file talks to SQLite or an embedded store only (`rusqlite`, sqlx's SQLite types, `use sled::`)
    /// and to no other database: its statements run in the process.
    sqlite_file: bool,
    /// The file uses salvo: `Router::with_path("x").get(h)` serves routes.
    salvo_file: bool,
    /// The file derives askama's (or rinja's) `Template`: a `.render()` in it renders one.
    derives_template: bool,
    /// The file names r2d2, whose pools check a connection (`SELECT 1`) when `pool.get()` takes it.
    r2d2_file: bool,
    fns: Vec<FnCtx>,
}

fn is_test_attr(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let path = a.path();
        let last = driver::last_segment(path);
        if last == "test" || last == "bench" {
            return true;
        }
        if path.is_ident("cfg") {
            let text = quote::ToTokens::to_token_stream(&a.meta).to_string();
            return text.contains("test")
                && !text.contains("not (test")
                && !text.contains("not(test");
        }
        false
    })
}

/// Single-segment identifiers an expression reads, including inside macro arguments.
fn idents_used(expr: &Expr) -> Vec<String> {
    let mut u = Uses(Vec::new());
    u.visit_expr(expr);
    u.0
}

/// [`idents_used`] of a block.
fn idents_used_in(block: &syn::Block) -> Vec<String> {
    let mut u = Uses(Vec::new());
    u.visit_block(block);
    u.0
}

/// The one-segment paths an expression names, and the identifiers of its macros' tokens.
struct Uses(Vec<String>);

impl<'ast> Visit<'ast> for Uses {
    fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
        if p.path.segments.len() == 1 {
            self.0.push(p.path.segments[0].ident.to_string());
        }
    }
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        collect_token_idents(m.tokens.clone(), &mut self.0);
    }
}

/// The names a statement takes as inputs: [`idents_used`], less those an `if let` or a `match` binds
/// for its own arms (`if let Some(object) = routine(..).await? { return Ok(object) }` takes no earlier
/// `object`).
fn statement_uses(expr: &Expr) -> Vec<String> {
    let without = |names: Vec<String>, pat: &syn::Pat| {
        let mut bound = Vec::new();
        pat_idents(pat, &mut bound);
        names
            .into_iter()
            .filter(|n| !bound.contains(n))
            .collect::<Vec<_>>()
    };
    match expr {
        Expr::If(i) => {
            let Expr::Let(l) = &*i.cond else {
                return idents_used(expr);
            };
            let mut uses = idents_used(&l.expr);
            uses.extend(without(idents_used_in(&i.then_branch), &l.pat));
            if let Some((_, other)) = &i.else_branch {
                uses.extend(idents_used(other));
            }
            uses
        }
        Expr::Match(m) => {
            let mut uses = idents_used(&m.expr);
            for arm in &m.arms {
                let mut names = idents_used(&arm.body);
                if let Some((_, guard)) = &arm.guard {
                    names.extend(idents_used(guard));
                }
                uses.extend(without(names, &arm.pat));
            }
            uses
        }
        _ => idents_used(expr),
    }
}

fn collect_token_idents(tokens: proc_macro2::TokenStream, out: &mut Vec<String>) {
    for tt in tokens {
        match tt {
            proc_macro2::TokenTree::Ident(i) => out.push(i.to_string()),
            proc_macro2::TokenTree::Group(g) => collect_token_idents(g.stream(), out),
            _ => {}
        }
    }
}

fn pat_idents(pat: &syn::Pat, out: &mut Vec<String>) {
    struct Names<'o>(&'o mut Vec<String>);
    impl<'ast> Visit<'ast> for Names<'_> {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            self.0.push(p.ident.to_string());
            visit::visit_pat_ident(self, p);
        }
    }
    Names(out).visit_pat(pat);
}

/// The names a tuple pattern binds, by position (`(a, _, mut c)` → [a, None, c]); None for other patterns.
fn tuple_idents(pat: &syn::Pat) -> Option<Vec<Option<String>>> {
    match pat {
        syn::Pat::Tuple(t) => Some(t.elems.iter().map(single_ident).collect()),
        syn::Pat::Type(t) => tuple_idents(&t.pat),
        _ => None,
    }
}

fn single_ident(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) => Some(p.ident.to_string()),
        syn::Pat::Type(t) => single_ident(&t.pat),
        _ => None,
    }
}

impl<'a, 's> Visitor<'a, 's> {
    fn loc(&self, span: Span) -> Loc {
        self.index.loc(span)
    }

    /// Runs `f` in a scope of its own: names it binds again (a local shadowing a parameter) are the
    /// earlier binding after it.
    fn scoped(&mut self, f: impl FnOnce(&mut Self)) {
        let depth = self.fns.len();
        let saved = self.fns.last().map(|c| c.shadowed.clone());
        f(self);
        if let (Some(saved), true) = (saved, self.fns.len() == depth) {
            if let Some(ctx) = self.ctx() {
                ctx.shadowed = saved;
            }
        }
    }

    fn for_loop(&mut self, e: &syn::ExprForLoop) {
        self.join_task_set(&e.expr);
        let mark = self.new_mark();
        self.visit_expr(&e.expr);
        let made = self.made_since(mark);
        self.bind(&e.pat, &e.expr, &made);
        self.type_element(&e.pat, &e.expr);
        // `for sub in auth_api() { app = app.push(Router::with_path("/api").push(sub)); }`: each router
        // the function hands back, mounted where the loop puts it.
        if let (syn::Pat::Ident(pi), Expr::Call(call)) = (&*e.pat, driver::strip_plumbing(&e.expr))
        {
            if let Expr::Path(p) = &*call.func {
                let target = driver::path_segments(&p.path);
                let loc = self.loc(p.path.span());
                if let Some(ctx) = self.ctx() {
                    ctx.made_by_call.insert(pi.ident.to_string(), (target, loc));
                }
            }
        }
        let body = self.frame(|v| v.visit_block(&e.body));
        // `for attempt in 0..MAX_RETRIES { match attempt().await { Ok(r) => return Ok(r), .. } }`: a
        // retry over a range of attempts, which a success leaves.
        if matches!(driver::strip_plumbing(&e.expr), Expr::Range(_)) && retries_until_ok(&e.body) {
            return self.push_once(body);
        }
        let loc = self.index.loc_between(e.for_token.span, e.expr.span());
        let count = known_count(&e.expr).or_else(|| self.local_count(&e.expr));
        self.push_loop(loc, body, count, false);
        if let Some((param, field)) = self.iterated_param(&e.expr) {
            if let Some(Step::Loop(l)) = self.ctx().and_then(|c| c.frames.last_mut()?.last_mut()) {
                l.over_param = Some(param);
                l.over_field = field;
            }
        }
        // `for ids in all.chunks(MAX_PARAMS)`: a collection taken in chunks.
        if let Some(chunk) = chunk_size(&e.expr) {
            if let Some(Step::Loop(l)) = self.ctx().and_then(|c| c.frames.last_mut()?.last_mut()) {
                l.chunk = l.count.is_none().then_some(chunk);
            }
        }
        // `for s in streams_of(t)`: the call that hands back the list.
        if let Some(call) = self.iterated_call(&e.expr, &made) {
            if let Some(Step::Loop(l)) = self.ctx().and_then(|c| c.frames.last_mut()?.last_mut()) {
                l.over_call = Some(call);
            }
        }
    }

    fn ctx(&mut self) -> Option<&mut FnCtx> {
        self.fns.last_mut()
    }

    /// Walks a function body and records the function.
    fn function(&mut self, sig: &syn::Signature, attrs: &[syn::Attribute], block: &syn::Block) {
        // A function written inside a closure is walked on its own.
        let closures = std::mem::take(&mut self.closure_depth);
        let rbatis = std::mem::replace(&mut self.rbatis_fn, rbatis_statement(sig, attrs));
        // `#[transactional_handler]`, an attribute macro of the code: the body it wraps in its template.
        let wrapped = match self.macros.wrappers.is_empty() {
            true => None,
            false => self.macros.wrappers.wrap(attrs, block),
        };
        self.function_body(sig, attrs, wrapped.as_ref().unwrap_or(block));
        self.rbatis_fn = rbatis;
        self.closure_depth = closures;
    }

    fn function_body(
        &mut self,
        sig: &syn::Signature,
        attrs: &[syn::Attribute],
        block: &syn::Block,
    ) {
        let is_test = self.test_depth > 0 || is_test_attr(attrs);
        let mut extractors = Vec::new();
        let mut params = Vec::new();
        let mut param_types = Vec::new();
        let mut library_extracted = Vec::new();
        let mut bound: Vec<(usize, Vec<String>)> = Vec::new();
        // rocket_db_pools' `Connection<Db>` guards, by value: each takes a connection from the pool.
        let mut pool_guards = Vec::new();
        let mut has_self = false;
        let mut generics = self.impl_generics.clone();
        generics.extend(generic_bounds(&sig.generics, &self.impl_generics));
        let mut impl_params = Vec::new();
        // Parameters holding an unsent query of a builder (`query: QueryAs<'q, Postgres, O, A>`).
        let mut query_params: Vec<(String, usize)> = Vec::new();
        for input in &sig.inputs {
            match input {
                syn::FnArg::Receiver(_) => has_self = true,
                syn::FnArg::Typed(pt) => {
                    if let Some(name) = router::extractor_name(&pt.ty) {
                        extractors.push(name);
                    }
                    // Every typed parameter keeps its place (an extractor's call id derives from it).
                    let mut ty = core_type(&pt.ty).unwrap_or_default();
                    // `check: impl Permission` is a type parameter of its own, which each caller
                    // binds by the value it passes.
                    if let Some(bound) = impl_trait_param(&pt.ty) {
                        ty = format!("impl {bound}");
                        generics.push((ty.clone(), bound));
                        impl_params.push(ty.clone());
                    }
                    // `action: impl AsyncFnOnce(&Ledger) -> R`: what a closure handed for it takes.
                    if let syn::Type::ImplTrait(it) = peel_refs(&pt.ty) {
                        generics.extend(closure_inputs(&ty, &it.bounds));
                    }
                    let mut names = Vec::new();
                    pat_idents(&pt.pat, &mut names);
                    bound.push((param_types.len(), names));
                    if driver::is_pool_guard(&pt.ty) {
                        pool_guards.push(self.loc(pt.ty.span()));
                    }
                    if fills_with_inner(&pt.ty) {
                        library_extracted.push(param_types.len());
                    }
                    param_types.push((ty.clone(), self.loc(pt.ty.span())));
                    if let (Some(name), Some(builder)) =
                        (param_name(&pt.pat), self.query_type(&pt.ty))
                    {
                        query_params.push((name, builder));
                    }
                    if let (Some(name), false) = (param_name(&pt.pat), ty.is_empty()) {
                        let held = newtype_field(&pt.pat, &pt.ty)
                            .or_else(|| wrapped_value(&pt.pat, &pt.ty));
                        params.push((name, held.unwrap_or(ty.clone())));
                    }
                    // `Org { app, .. }: Org` binds `app` to the type of the field `Org.app`.
                    if !ty.is_empty() {
                        for (binding, field) in struct_fields(&pt.pat) {
                            params.push((binding, format!("{ty}{}{field}", super::FIELD)));
                        }
                    }
                }
            }
        }
        // Middleware takes the next handler: it is not a handler itself.
        if params.iter().any(|(_, t)| t == "Next") {
            extractors.clear();
        }
        // actix's `fn config(cfg: &mut web::ServiceConfig)` collects routes through its parameter, and
        // `fn add(prefix: &str, router: Router) -> Router { router.route(..) }` (or `fn endpoints(scope:
        // Scope) -> Scope { scope.service(..) }`) adds them to the one it is handed.
        let mut sinks: Vec<String> = params
            .iter()
            .filter(|(_, t)| super::ROUTER_TYPES.contains(&t.as_str()))
            .map(|(n, _)| n.clone())
            .collect();
        // A method of an extension trait on the router's own type adds routes to `self`.
        if has_self
            && self
                .impl_ctx
                .as_ref()
                .is_some_and(|(t, _)| super::ROUTER_TYPES.contains(&t.as_str()))
        {
            sinks.push("self".into());
        }
        let typed = params.clone();
        // Parameters written as an `Option` or a `Result`, which a `?` may end the function on.
        let wrappers: HashMap<String, &'static str> = sig
            .inputs
            .iter()
            .filter_map(|input| {
                let syn::FnArg::Typed(pt) = input else {
                    return None;
                };
                let syn::Type::Path(tp) = &*pt.ty else {
                    return None;
                };
                let wrapper = match tp.path.segments.last()?.ident.to_string().as_str() {
                    "Option" => "Option",
                    "Result" => "Result",
                    _ => return None,
                };
                Some((param_name(&pt.pat)?, wrapper))
            })
            .collect();
        let receiver_at = param_types.len();
        let returns_routes = match &sig.output {
            syn::ReturnType::Type(_, ty) => quote::ToTokens::to_token_stream(ty)
                .to_string()
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| w == "Route"),
            syn::ReturnType::Default => false,
        };
        let returns_filter = super::warp::returns_filter(&sig.output);
        let returns_future = sig.asyncness.is_none() && names_a_future(&sig.output);
        let body = self.walk_body(|v| {
            if let Some(ctx) = v.ctx() {
                ctx.route_sinks = sinks;
                ctx.returns_routes = returns_routes;
                ctx.returns_filter = returns_filter;
                ctx.returns_future = returns_future;
                ctx.params = typed;
                ctx.param_wrappers = wrappers;
                for (name, builder) in query_params {
                    ctx.locals
                        .insert(name, Local::Query(SqlRef::Unknown, Some(builder)));
                }
                // What a parameter holds derives from its extractor, if it has one: the model gives the
                // extractor's call the id `u32::MAX - position`.
                // `self` comes after the others, as a method call's receiver follows its arguments
                // among the constants it passes (`HtmlCached::Admin.handle(req)` → `match self`).
                if has_self {
                    ctx.param_pos.insert("self".into(), receiver_at);
                }
                for (position, names) in bound {
                    if let [name] = names.as_slice() {
                        ctx.param_pos.insert(name.clone(), position);
                    }
                    for name in names {
                        ctx.origin.insert(name, vec![u32::MAX - position as u32]);
                    }
                }
            }
            v.tail_block(block)
        });
        let (mut steps, mut routes) = body;
        // `fn protected_routes() -> Router<AppState> { protected::router() }`: the router another function
        // builds, handed back.
        if routes.is_empty() && returns_router(&sig.output) {
            if let Some(Expr::Call(c)) = block.stmts.last().and_then(|s| match s {
                syn::Stmt::Expr(e, None) => Some(driver::strip_plumbing(e)),
                _ => None,
            }) {
                if let Expr::Path(p) = &*c.func {
                    let segs = driver::path_segments(&p.path);
                    if !wraps_a_value(&p.path) && !router::is_router_root(&Expr::Call(c.clone())) {
                        routes.push(RouteEntry::Mount {
                            prefix: String::new(),
                            target: segs,
                            loc: self.loc(syn::spanned::Spanned::span(&p.path)),
                            layers: Vec::new(),
                        });
                    }
                }
            }
        }
        // Typed locals type method receivers as parameters do.
        params.extend(std::mem::take(&mut self.last_local_types));
        let (self_ty, trait_name) = match &self.impl_ctx {
            Some((t, tr)) => (Some(t.clone()), tr.clone()),
            None => (None, None),
        };
        let mut attr_routes = router::attr_routes(attrs, &self.catalog.route_attributes);
        // A tonic service method: `async fn say_hello(&self, req: Request<T>) -> Result<Response<U>, Status>`.
        // (A generated trait's own default body is not an implementation; the return type may be an
        // alias such as `EchoResult<T>`.)
        let own_default = self_ty.is_some() && self_ty == trait_name;
        if let (Some(tr), Some(_), false) = (&trait_name, sig.asyncness, own_default) {
            let returns = quote::ToTokens::to_token_stream(&sig.output).to_string();
            // One argument, tonic's `Request<T>` (reqwest-middleware's `handle(&self, req: Request,
            // extensions, next)` is no gRPC method).
            let typed: Vec<&syn::Type> = sig
                .inputs
                .iter()
                .filter_map(|i| match i {
                    syn::FnArg::Typed(t) => Some(&*t.ty),
                    syn::FnArg::Receiver(_) => None,
                })
                .collect();
            let takes_request = matches!(typed.as_slice(), [syn::Type::Path(p)]
            if p.path.segments.last().is_some_and(|s| {
                s.ident == "Request" && matches!(s.arguments, syn::PathArguments::AngleBracketed(_))
            }));
            if has_self
                && takes_request
                && (returns.contains("Status") || returns.contains("Result"))
            {
                attr_routes.push(super::AttrRoute::entry_point(
                    "GRPC",
                    format!("/{tr}/{}", sig.ident),
                ));
            }
        }
        // jsonrpsee's `#[rpc(server)] trait AccountApi`, implemented as `impl AccountApiServer for Api`:
        // each method answers a JSON-RPC method, listed by the function's name (`RPC /get_account`; the
        // name its `#[method(name = "..")]` gives is not read).
        let jsonrpsee = || {
            self.facts
                .uses
                .iter()
                .any(|u| u.path.first().is_some_and(|p| p == "jsonrpsee"))
        };
        if let (Some(tr), false) = (&trait_name, own_default) {
            if has_self && tr.len() > "Server".len() && tr.ends_with("Server") && jsonrpsee() {
                attr_routes.push(super::AttrRoute::entry_point(
                    "RPC",
                    format!("/{}", sig.ident),
                ));
            }
        }
        // A field of a GraphQL schema's query or mutation root: `GRAPHQL /QueryRoot/works`.
        if let (true, Some(ty)) = (self.graphql_root, &self_ty) {
            if !graphql_skipped(attrs) {
                attr_routes.push(super::AttrRoute::entry_point(
                    "GRAPHQL",
                    format!("/{ty}/{}", sig.ident),
                ));
            }
        }
        if !attr_routes.is_empty() && !pool_guards.is_empty() {
            // The framework resolves the guards before the body runs: their checks come first.
            let mut checks: Vec<Step> = pool_guards
                .into_iter()
                .enumerate()
                .map(|(i, loc)| {
                    let mut t =
                        Trip::bare(u32::MAX - 4096 - i as u32, loc, driver::POOL_GUARD.into());
                    t.kind = TripKind::Check;
                    t.checkout = true;
                    Step::Trip(t)
                })
                .collect();
            checks.append(&mut steps);
            steps = checks;
        }
        self.facts.functions.push(FnFacts {
            // `fn r#move` is called as `Page::r#move(..)` and `page.r#move(..)`: one name, `move`.
            name: driver::ident(&sig.ident),
            module: self.module.clone(),
            bound_in: None,
            arity: Some(
                sig.inputs
                    .iter()
                    .filter(|a| matches!(a, syn::FnArg::Typed(_)))
                    .count(),
            ),
            self_ty,
            trait_name,
            has_self,
            is_async: sig.asyncness.is_some(),
            is_test,
            cfg: match (&self.impl_cfg, crate::build::predicate(attrs)) {
                (Some(outer), Some(own)) => Some(format!("all({outer}, {own})")),
                (outer, own) => own.or_else(|| outer.clone()),
            },
            detached: false,
            graphql_field: self.graphql_fields && !graphql_skipped(attrs),
            spawned_params: std::mem::take(&mut self.last_spawned_params),
            awaited_params: std::mem::take(&mut self.last_awaited_params),
            renders_template: std::mem::take(&mut self.last_renders_template),
            path_table: path_table_tested(sig, block),
            extensions: std::mem::take(&mut self.last_extensions),
            server_layers: std::mem::take(&mut self.last_server_layers),
            param_calls: std::mem::take(&mut self.last_param_calls),
            loc: self.loc(sig.ident.span()),
            fn_line: sig.fn_token.span.start().line as u32,
            end_line: block.brace_token.span.close().end().line as u32,
            returns: match &sig.output {
                // actix's `Transform::new_transform` hands back a future of the middleware service,
                // whose type the impl names: `type Transform = AuthMiddleware<S>;`.
                _ if self.actix_transform(&sig.ident) => self
                    .impl_assoc
                    .iter()
                    .find(|(n, _)| n == "Transform")
                    .map(|(_, t)| t.clone()),
                syn::ReturnType::Type(_, ty) => self.assoc_type(ty).or_else(|| core_type(ty)),
                syn::ReturnType::Default => None,
            },
            returns_params: returned_params(sig, block),
            made: super::made::of(sig, block),
            returns_len: super::bounded::of(sig, block),
            returns_bool: returned_bool(sig, block),
            self_args: self.impl_self_args.clone(),
            trait_args: self.impl_trait_args.clone(),
            trait_qualifier: self.impl_trait_qualifier.clone(),
            extractors,
            params,
            param_types,
            library_extracted,
            generics,
            type_params: sig
                .generics
                .type_params()
                .map(|t| t.ident.to_string())
                .chain(impl_params)
                .collect(),
            body: steps,
            routes,
            attr_routes,
        });
    }

    /// Runs `f` with a fresh function context; returns the steps and routes it produced.
    fn walk_body(&mut self, f: impl FnOnce(&mut Self)) -> (Vec<Step>, Vec<RouteEntry>) {
        self.walk_body_in(FnCtx::default(), f)
    }

    /// A task that runs off the request path (spawned, or handed to a thread pool): a function of its
    /// own, still checked for N+1 loops.
    fn detached_task(&mut self, loc: Loc, params: Vec<(String, String)>, body: Vec<Step>) {
        if body.is_empty() {
            return;
        }
        // The enclosing function's parameters the task calls (`task_fn(..)`): what a caller hands
        // there runs in the task.
        if let Some(ctx) = self.ctx() {
            let mut called = Vec::new();
            for step in &body {
                step.walk(&mut |s| called.extend(ctx.param_called(s).map(|(p, _)| p)));
            }
            for p in called {
                if !ctx.spawned_params.contains(&p) {
                    ctx.spawned_params.push(p);
                }
            }
        }
        self.facts.functions.push(FnFacts {
            name: format!("{{spawned@{}}}", loc.line),
            module: self.module.clone(),
            is_async: true,
            is_test: self.test_depth > 0,
            detached: true,
            loc,
            fn_line: loc.line,
            params,
            body,
            ..FnFacts::default()
        });
    }

    /// Where a closure's body starts: the locals it captures keep the types the enclosing function
    /// gave them (`let src = s.clone_source(); let compute = || async move { src.get_tile(..) };`).
    fn captured(&self) -> FnCtx {
        self.fns
            .last()
            .map(|c| FnCtx {
                local_types: c.params.iter().chain(&c.local_types).cloned().collect(),
                shadowed: c.shadowed.clone(),
                ..FnCtx::default()
            })
            .unwrap_or_default()
    }

    /// [`Self::walk_body`], starting from `ctx` (a closure's: the locals it captures, typed).
    fn walk_body_in(
        &mut self,
        ctx: FnCtx,
        f: impl FnOnce(&mut Self),
    ) -> (Vec<Step>, Vec<RouteEntry>) {
        self.fns.push(FnCtx {
            frames: vec![Vec::new()],
            ..ctx
        });
        f(self);
        self.detach_unawaited_handles();
        let mut ctx = self.fns.pop().unwrap_or_default();
        self.last_local_types = std::mem::take(&mut ctx.local_types);
        self.last_spawned_params = std::mem::take(&mut ctx.spawned_params);
        self.last_awaited_params = std::mem::take(&mut ctx.awaited_params);
        self.last_renders_template = ctx.renders_template;
        self.last_extensions = std::mem::take(&mut ctx.extensions);
        self.last_server_layers = std::mem::take(&mut ctx.server_layers);
        let mut steps = ctx.frames.pop().unwrap_or_default();
        drop_closures_called_here(&mut steps, &ctx.handed_closures);
        let mut param_calls = Vec::new();
        for step in &steps {
            step.walk(&mut |s| param_calls.extend(ctx.param_called(s)));
        }
        self.last_param_calls = param_calls;
        self.facts.cached_lookups |= super::cache_aside(&mut steps);
        super::correlate::correlate(&mut steps);
        super::fold_exits(&mut steps);
        // Values made by a call and never awaited came from synchronous calls (or futures dropped).
        let unawaited: std::collections::HashSet<u32> =
            ctx.pending.values().flatten().filter_map(step_id).collect();
        if !unawaited.is_empty() {
            super::walk_mut(&mut steps, &mut |s| {
                if let Step::Call(c) = s {
                    if unawaited.contains(&c.id) {
                        c.awaited = false;
                    }
                }
            });
        }
        let mut routes = std::mem::take(&mut ctx.routes);
        // Router locals never consumed by another router still serve requests (`axum::serve(l, app)`).
        let mut leftover: Vec<_> = ctx.router_locals.into_iter().collect();
        leftover.sort_by_key(|(name, _)| name.clone());
        for (_, local) in leftover {
            routes.extend(local.finish());
        }
        (steps, routes)
    }

    /// Runs `f` in a nested frame and returns the steps it pushed.
    fn frame(&mut self, f: impl FnOnce(&mut Self)) -> Vec<Step> {
        let Some(ctx) = self.ctx() else {
            f(self);
            return Vec::new();
        };
        ctx.frames.push(Vec::new());
        f(self);
        let mut steps = self.ctx().and_then(|c| c.frames.pop()).unwrap_or_default();
        self.facts.cached_lookups |= super::cache_aside(&mut steps);
        super::fold_exits(&mut steps);
        steps
    }

    /// One statement: its data dependencies, then its effects, then what its bindings derive from.
    fn statement(
        &mut self,
        uses_from: Option<&Expr>,
        defines: Vec<String>,
        extends: Vec<String>,
        f: impl FnOnce(&mut Self),
    ) {
        let uses = uses_from.map(idents_used).unwrap_or_default();
        self.statement_using(uses, defines, extends, f);
    }

    /// [`Self::statement`] with the names its round trips take as inputs given.
    fn statement_using(
        &mut self,
        uses: Vec<String>,
        defines: Vec<String>,
        extends: Vec<String>,
        f: impl FnOnce(&mut Self),
    ) {
        let Some(ctx) = self.ctx() else {
            f(self);
            return;
        };
        let mut deps = ctx.origins(&uses);
        deps.sort_unstable();
        deps.dedup();
        let saved_deps = std::mem::replace(&mut ctx.stmt_deps, deps);
        let saved_new = std::mem::take(&mut ctx.stmt_new);
        f(self);
        let Some(ctx) = self.ctx() else { return };
        let new = std::mem::replace(&mut ctx.stmt_new, saved_new);
        let deps = std::mem::replace(&mut ctx.stmt_deps, saved_deps);
        let mut derived = deps;
        derived.extend(&new);
        for name in defines {
            ctx.origin.insert(name, derived.clone());
        }
        // `run.queue = load().await?;`, `list.push(load().await?)`: the value changes, its past stays.
        for name in extends {
            ctx.origin.entry(name).or_default().extend(&derived);
        }
        ctx.stmt_new.extend(new);
    }

    fn deps_since(&mut self, mark: usize) -> Vec<u32> {
        let Some(ctx) = self.ctx() else {
            return Vec::new();
        };
        let mut after = ctx.stmt_deps.clone();
        after.extend(&ctx.stmt_new[mark.min(ctx.stmt_new.len())..]);
        after
    }

    /// Ids of the trips and calls made since `mark` in the current statement.
    fn made_since(&mut self, mark: usize) -> Vec<u32> {
        self.ctx()
            .map(|c| c.stmt_new[mark.min(c.stmt_new.len())..].to_vec())
            .unwrap_or_default()
    }

    /// A method call's receiver as a path of fields. A struct literal (`Query { .. }.list(pool)`) is
    /// typed by its path, through a local name no code can spell.
    fn receiver_path(&mut self, receiver: &Expr) -> Vec<String> {
        let mut inner = receiver;
        while let Expr::Paren(p) = inner {
            inner = &p.expr;
        }
        if let Expr::Struct(st) = inner {
            let ty = driver::last_segment(&st.path);
            let name = format!("{ty} {{..}}");
            if let Some(ctx) = self.ctx() {
                ctx.local_types.push((name.clone(), ty));
            }
            return vec![name];
        }
        // An enum's unit variant (`Page::Attributes.render(db)`, `Self::Admin.handle(req)`): typed as
        // the enum.
        if let Expr::Path(p) = inner {
            let segs = driver::path_segments(&p.path);
            // A unit struct's value (`AdminApiAuth.authenticate(..)`): typed as the struct.
            if let [unit] = segs.as_slice() {
                let local = self.fns.last().is_some_and(|c| {
                    c.params
                        .iter()
                        .chain(&c.local_types)
                        .any(|(n, _)| n == unit)
                });
                let type_like = unit.starts_with(|c: char| c.is_ascii_uppercase())
                    && unit.chars().any(|c| c.is_ascii_lowercase());
                if !local && type_like {
                    if let Some(ctx) = self.ctx() {
                        ctx.local_types.push((unit.clone(), unit.clone()));
                    }
                    return vec![unit.clone()];
                }
            }
            if let [.., ty, variant] = segs.as_slice() {
                let upper = |s: &str| s.starts_with(|c: char| c.is_ascii_uppercase());
                let ty = match (ty.as_str(), &self.impl_ctx) {
                    ("Self", Some((own, _))) => Some(own.clone()),
                    ("Self", None) => None,
                    (other, _) => upper(other).then(|| other.to_string()),
                };
                if let (Some(ty), true) = (ty, upper(variant) && variant_name(&p.path).is_some()) {
                    let name = segs.join("::");
                    if let Some(ctx) = self.ctx() {
                        ctx.local_types.push((name.clone(), ty));
                    }
                    return vec![name];
                }
            }
        }
        // A value a call made (`FolderCipher::new(..).save(conn)`): typed as the call's result.
        if let Expr::Call(c) = driver::strip_plumbing(inner) {
            if let (Expr::Path(p), Some(ty)) = (&*c.func, self.expr_type(inner)) {
                let name = format!("{}()", driver::path_segments(&p.path).join("::"));
                if let Some(ctx) = self.ctx() {
                    ctx.local_types.push((name.clone(), ty));
                }
                return vec![name];
            }
        }
        let mut path = self.current_path(receiver);
        // `self.inner.as_ref().ok_or(..)?.execute(..)`: the place, unwrapped (types are held so).
        if path.is_empty() {
            path = self.current_path(driver::strip_plumbing(inner));
        }
        // A field of what a getter returns (`state.session_state().accounts_store.find(..)`): the
        // getter's result, then its fields.
        if path.is_empty() {
            let mut fields = Vec::new();
            let mut base = driver::strip_plumbing(inner);
            while let Expr::Field(f) = base {
                let syn::Member::Named(name) = &f.member else {
                    break;
                };
                fields.push(name.to_string());
                base = driver::strip_plumbing(&f.base);
            }
            if !fields.is_empty() && matches!(base, Expr::MethodCall(_) | Expr::Call(_)) {
                let mut made = self.receiver_path(base);
                if !made.is_empty() {
                    made.extend(fields.into_iter().rev());
                    return made;
                }
            }
        }
        // A getter's result (`state.store().find(..)`, `self.repo().get(..)`): typed as what the
        // getter returns.
        if let (true, Expr::MethodCall(m)) = (path.is_empty(), driver::strip_plumbing(inner)) {
            // A builder's chain (`Inbox::handle(..).with::<A>(p).with::<B>(p)`): each link on what the
            // one before returns.
            let base = match self.current_path(&m.receiver) {
                place if !place.is_empty() => place,
                _ => self.receiver_path(&m.receiver),
            };
            if let Some(ty) = self.method_returns(&base, m) {
                let name = format!("{}.{}()", base.join("."), m.method);
                if let Some(ctx) = self.ctx() {
                    ctx.local_types.push((name.clone(), ty));
                }
                return vec![name];
            }
        }
        path
    }

    /// The place an expression reads (`state.store`), its first name as the binding in scope here.
    fn current_path(&self, e: &Expr) -> Vec<String> {
        let mut path = field_path(e);
        if let (Some(first), Some(ctx)) = (path.first_mut(), self.fns.last()) {
            *first = ctx.current_name(std::mem::take(first));
        }
        path
    }

    /// What `base.method(..)` returns, as the model reads it off the method it resolves to
    /// (`METHOD_RETURNS`), where `base` is a place or the local a chain's earlier link is held in.
    fn method_returns(&self, base: &[String], m: &syn::ExprMethodCall) -> Option<String> {
        if base.is_empty() || self.fns.is_empty() {
            return None;
        }
        Some(format!(
            "{}{}{}{}/{}",
            super::METHOD_RETURNS,
            base.join(super::FIELD),
            super::FIELD,
            m.method,
            m.args.len()
        ))
    }

    /// `self.inner` where this file's struct declares `inner` as a database library's value.
    fn library_field(&self, e: &Expr) -> bool {
        self.library_place(&driver::executor_text(e).0)
    }

    /// The same, for the place as the code spells it (`self.inner`).
    fn library_place(&self, text: &str) -> bool {
        match (text.strip_prefix("self."), &self.impl_ctx) {
            (Some(field), Some((ty, _))) => self
                .library_fields
                .contains(&(ty.clone(), field.to_string())),
            _ => false,
        }
    }

    /// What a local of the function holds, as the catalog's matching asks.
    fn local_value(&self, name: &str) -> Option<driver::LocalValue<'a>> {
        let catalog = self.catalog;
        // `self.inner` of a wrapper whose field holds a library's transaction.
        if name.starts_with("self.") {
            return self
                .library_place(name)
                .then_some(driver::LocalValue::Executor);
        }
        let Some(local) = self.fns.last()?.locals.get(name) else {
            // A parameter typed as a connection (`c: &DatabaseConnection`), or `self` in an implementation
            // on one (`impl AppDatabase for DatabaseConnection { .. Cache::find().one(self) .. }`).
            let ty = match name {
                "self" => self.impl_ctx.as_ref().map(|(t, _)| t.as_str()),
                _ => self.param_type(name),
            };
            let library = name == "self" && self.impl_on_library;
            return (library || ty.is_some_and(driver::executor_type))
                .then_some(driver::LocalValue::Executor);
        };
        match local {
            Local::Query(_, builder) => Some(driver::LocalValue::Query(
                builder.and_then(|i| catalog.builders.get(i)),
            )),
            // A connection or a transaction; an alias of another place (`let db = &state.db`) as that
            // place's name says.
            Local::Executor {
                expr,
                connection,
                transaction,
            } => (*connection || *transaction || driver::names_an_executor(expr))
                .then_some(driver::LocalValue::Executor),
        }
    }

    fn new_mark(&mut self) -> usize {
        self.ctx().map(|c| c.stmt_new.len()).unwrap_or(0)
    }

    /// An expression whose value is awaited: `.await`, or a future handed to a join.
    fn awaited(&mut self, base: &Expr, await_span: Option<Span>) {
        // `$future.await` in a macro's transcription awaits the fragment inside its group.
        let base = driver::ungrouped(base);
        let mark = self.new_mark();
        let catalog = self.catalog;
        let query_local = |name: &str| self.local_value(name);
        if let Some(shape) = driver::trip_shape(base, catalog, query_local) {
            let then = self.visit_chain_args(base);
            self.trip_key = self.lookup_key(base);
            self.trip(shape, await_span, mark);
            // `.fetch_one(db).map_ok(..).and_then(|p| p.render(db))`: what the closure runs on the row
            // is awaited after the query, on its result.
            let made = self.made_since(mark);
            for (closure, source) in then {
                self.type_closure_input(closure, source);
                self.after(&made, |v| v.future(&closure.body));
            }
            return;
        }
        if self.drain_future_set(base) {
            return;
        }
        if let Some(name) = single_path_ident(base) {
            if self.join_spawned(&name, span::of(base)) || self.take_pending(&name) {
                return;
            }
            // `execute_query.await` on a parameter: what a caller hands there runs here.
            if let Some(ctx) = self.ctx() {
                let position = ctx.param_pos.get(&name).copied().filter(|_| name != "self");
                if let Some(p) = position.filter(|p| !ctx.awaited_params.contains(p)) {
                    ctx.awaited_params.push(p);
                }
            }
        }
        // A stream built earlier and drained here (`let s = stream::iter(xs).then(..); s.collect().await`).
        if let Expr::MethodCall(m) = base {
            let (root, calls) = driver::chain(base);
            let drains = calls
                .iter()
                .all(|c| c.args.is_empty() && driver::is_stream_drain(&c.method.to_string()));
            if drains && single_path_ident(root).is_some_and(|n| self.take_pending(&n)) {
                m.args.iter().for_each(|a| self.visit_expr(a));
                return;
            }
        }
        // `self.run(body).await` with `let body = async { .. };`, `get_or_populate(key, latest).await`
        // with `let latest = db.get_latest(id);`: a future held in a local and handed to an awaited
        // method or function runs there, where it awaits it (not a combinator that runs several at once,
        // `a.race(b)`, `future::join(a, b)`, whose futures are joined).
        let handed_to = match base {
            Expr::MethodCall(m) => Some((
                m.args.iter().collect::<Vec<_>>(),
                matches!(
                    m.method.to_string().as_str(),
                    "join" | "try_join" | "zip" | "try_zip" | "race" | "or" | "select"
                ),
            )),
            Expr::Call(c) => Some((
                c.args.iter().collect(),
                match &*c.func {
                    Expr::Path(p) => {
                        let last = driver::last_segment(&p.path);
                        ["join", "zip", "race", "select"]
                            .iter()
                            .any(|w| last.contains(w))
                    }
                    _ => true,
                },
            )),
            _ => None,
        };
        if let Some((args, false)) = handed_to {
            let handed: Vec<String> = args
                .iter()
                .filter_map(|a| single_path_ident(driver::strip_plumbing(a)))
                .filter(|n| self.fns.last().is_some_and(|c| c.pending.contains_key(n)))
                .collect();
            if let [name] = &handed[..] {
                self.take_pending(name);
            }
        }
        if let Expr::MethodCall(m) = base {
            if driver::is_transaction_closure(m) {
                return self.transaction_closure(m, await_span, mark);
            }
            // A cache's loader runs only on a miss: a branch the model keeps or drops as
            // `assume.cache` says.
            if self.catalog.cached_methods.iter().any(|c| m.method == c) {
                let name = m.method.to_string();
                if !self.facts.cache_methods.contains(&name) {
                    self.facts.cache_methods.push(name);
                }
                return self.cached_lookup(m, true);
            }
            // A static cell filled by its first caller (`APPSERVICES.get_or_init(|| async { .. })`):
            // a lookup of the same kind, whose miss is the process's first request.
            if once_per_process(m) {
                return self.cached_lookup(m, true);
            }
        }
        if let Expr::MethodCall(m) = base {
            // `fut.instrument(span)`, `fut.map_err(f)`, `fut.and_then(|x| next(x))`: the future, then
            // what its adapter chains after it.
            let name = m.method.to_string();
            // A field, a parameter or a typed local holds a value, not a future: `state.mapper.map(id)`
            // and `mapper.map(id)` are the mapper's method.
            let on_value = !m.args.iter().any(|a| matches!(a, Expr::Closure(_)))
                && match &*m.receiver {
                    Expr::Field(_) => true,
                    other => single_path_ident(other).is_some_and(|n| {
                        self.fns.last().is_some_and(|c| {
                            c.params.iter().any(|(p, _)| *p == n)
                                || c.local_types.iter().any(|(l, _)| *l == n)
                        })
                    }),
                };
            // A closure that hands back a future chains it after this one (`insert(..).and_then(|_| async
            // move { .. })`); given to `map` it is an iterator's (`join_all(ids.iter().map(|i| async ..))`).
            let chains_future = matches!(name.as_str(), "and_then" | "then" | "or_else")
                && !yields_items(&m.receiver);
            if driver::is_future_adapter(&name)
                && (chains_future || !returns_future_arg(m))
                && !on_value
            {
                let before = self.new_mark();
                self.awaited(&m.receiver, None);
                // The closure receives the future's output: what it runs depends on it.
                let made = self
                    .ctx()
                    .map(|c| c.stmt_new[before.min(c.stmt_new.len())..].to_vec())
                    .unwrap_or_default();
                for arg in &m.args {
                    match arg {
                        Expr::Closure(c)
                            if matches!(name.as_str(), "and_then" | "then" | "or_else") =>
                        {
                            // `.get_result::<DbAccount>(conn).map_err(..).and_then(|a| a.into_mastodon(s))`:
                            // the parameter is what the future yields.
                            if name != "or_else" {
                                self.type_closure_input(c, &m.receiver);
                            }
                            self.after(&made, |v| v.future(&c.body));
                        }
                        other => self.visit_expr(other),
                    }
                }
                return;
            }
        }
        match base {
            Expr::Async(a) => return self.visit_block(&a.block),
            Expr::Block(b) => return self.visit_block(&b.block),
            Expr::Paren(p) => return self.awaited(&p.expr, await_span),
            // `if authed { map(pair).left_future() } else { map(post).right_future() }.await`: one
            // of the arms' futures.
            Expr::If(_) => return self.future(base),
            Expr::Call(call) => {
                if let Expr::Path(p) = &*call.func {
                    if let Some(form) = driver::is_join_fn(&p.path, self.catalog) {
                        let args: Vec<&Expr> = call.args.iter().collect();
                        return self.concurrent(form, p.path.span(), &args);
                    }
                    if driver::is_spawn(&p.path) {
                        let args: Vec<&Expr> = call.args.iter().collect();
                        return self.concurrent("spawn".into(), p.path.span(), &args);
                    }
                    // `Box::pin(fut).await` awaits `fut`.
                    let segs = driver::path_segments(&p.path);
                    if segs.ends_with(&["Box".to_string(), "pin".to_string()])
                        && call.args.len() == 1
                    {
                        return self.future(&call.args[0]);
                    }
                    // `OptionFuture::from(embed.map(|e| e.fetch(url))).await` awaits the future an
                    // option holds, when it holds one.
                    if segs.ends_with(&["OptionFuture".to_string(), "from".to_string()])
                        && call.args.len() == 1
                    {
                        return self.optional_future(&call.args[0]);
                    }
                    // `tokio::time::timeout(d, fut).await` awaits `fut`.
                    if driver::last_segment(&p.path) == "timeout" && call.args.len() == 2 {
                        self.visit_expr(&call.args[0]);
                        return self.future(&call.args[1]);
                    }
                }
            }
            Expr::MethodCall(_) if self.stream_adapter(base) => return,
            _ => {}
        }
        // Not a round trip itself: walk its parts, then record a call to a function of the analysed code.
        // A closure handed to an awaited call runs inside it, on what the call found first, and what it
        // returns is awaited there (`server_wrap(.., |state, auth| core::list(state, auth), ..).await`):
        // its body is a future priced after the call's own work, which it depends on.
        let args: Vec<&Expr> = match base {
            Expr::Call(call) => call.args.iter().collect(),
            Expr::MethodCall(m) => m.args.iter().collect(),
            _ => Vec::new(),
        };
        // The parameters of a closure the call is handed take what the callee's bound says.
        let called = match base {
            Expr::Call(c) => returned_by(c),
            Expr::MethodCall(m) => self.method_returns(&self.current_path(&m.receiver), m),
            _ => None,
        };
        for (k, a) in args.iter().enumerate() {
            let (Expr::Closure(c), Some(called)) = (a, &called) else {
                continue;
            };
            for (i, input) in c.inputs.iter().enumerate() {
                if let (syn::Pat::Ident(p), Some(ctx)) = (input, self.ctx()) {
                    let sep = super::CLOSURE_INPUT;
                    ctx.type_local(
                        p.ident.to_string(),
                        format!("{sep}{k}{sep}{i}{sep}{called}"),
                    );
                }
            }
        }
        let closures: Vec<(usize, &syn::ExprClosure)> = args
            .iter()
            .copied()
            .enumerate()
            .filter_map(|(k, a)| match a {
                Expr::Closure(c) => Some((k, c)),
                _ => None,
            })
            .collect();
        // A closure held in a local and handed on by name (`self.run(check)`) runs inside the call too.
        let named: Vec<(Vec<String>, Span)> = args
            .iter()
            .filter_map(|a| {
                let mut a = *a;
                while let Expr::Reference(r) = a {
                    a = &r.expr;
                }
                let name = single_path_ident(a)?;
                Some((self.closure_local(&name)?, span::of(a)))
            })
            .collect();
        let arg = |v: &mut Self, a: &Expr| {
            if !matches!(a, Expr::Closure(_)) {
                v.visit_expr(a)
            }
        };
        let mut future_of = None;
        match base {
            Expr::Call(call) => call.args.iter().for_each(|a| arg(self, a)),
            Expr::MethodCall(m) => {
                let before = self.new_mark();
                self.visit_expr(&m.receiver);
                // `repo.wait(id).with_timeout(d)`: the call the method is called on, made last.
                let mut receiver = &*m.receiver;
                while let Expr::Paren(p) = receiver {
                    receiver = &p.expr;
                }
                if let Expr::Call(_) | Expr::MethodCall(_) = receiver {
                    let made = self.made_since(before);
                    future_of = self.ctx().and_then(|c| {
                        c.frames.last()?.iter().rev().find_map(|s| match s {
                            Step::Call(c) if !c.awaited && made.contains(&c.id) => Some(c.id),
                            _ => None,
                        })
                    });
                }
                m.args.iter().for_each(|a| arg(self, a));
            }
            other => visit::visit_expr(self, other),
        }
        let callee = match base {
            Expr::Call(call) => match &*call.func {
                Expr::Path(p) => {
                    // A closure held in a local is called by the name of its synthetic function.
                    let local = p
                        .path
                        .get_ident()
                        .and_then(|i| self.fns.last()?.closure_locals.get(&i.to_string()).cloned());
                    let path = local.unwrap_or_else(|| driver::path_segments(&p.path));
                    Some((Callee::Path(path), span::of(&call.func)))
                }
                _ => None,
            },
            Expr::MethodCall(m) => Some((self.method_callee(m), m.method.span())),
            _ => None,
        };
        let Some((callee, start)) = callee else {
            return self.closures_run_by(&closures, &named, mark, None);
        };
        let on_connection = match base {
            Expr::Call(call) => self.passes_connection(&call.args),
            Expr::MethodCall(m) => {
                self.passes_connection(std::iter::once(&*m.receiver).chain(&m.args))
            }
            _ => false,
        };
        let loc = self.compact(start, await_span, span::of(base));
        self.push_call_on(callee, loc, mark, true, on_connection);
        let call_id = match self.ctx().and_then(|c| c.frames.last()?.last()) {
            Some(Step::Call(c)) => Some(c.id),
            _ => None,
        };
        if let (Some(inner), Some(Step::Call(c))) = (
            future_of,
            self.ctx().and_then(|c| c.frames.last_mut()?.last_mut()),
        ) {
            c.future_of = Some(inner);
        }
        match base {
            Expr::Call(call) => {
                self.set_consts(call.args.iter());
                self.set_types(base);
                if is_graphql_function(call) {
                    self.mark_opaque(true);
                }
            }
            Expr::MethodCall(m) => {
                self.set_consts(m.args.iter().chain(std::iter::once(&*m.receiver)));
                self.set_types(base);
                // A GraphQL executor (`schema.execute(request)`, juniper's `request.execute(&schema,
                // &ctx)`) runs the resolvers the query names, and a JSON-RPC router
                // (`rpc_router.call(req)`) the function the request's method names: their round trips
                // are not on this path as the code spells it, so the call is listed as one hopcheck could
                // not follow (the resolvers and functions are entry points of their own).
                if is_graphql_execution(m, |name| self.param_type(name)) {
                    self.mark_opaque(true);
                } else if is_rpc_dispatch(m, |name| self.param_type(name)) {
                    self.mark_opaque(false);
                }
            }
            _ => {}
        }
        self.closures_run_by(&closures, &named, mark, call_id);
    }

    /// The call just recorded leads where hopcheck cannot follow: a GraphQL executor (`schema`) or
    /// another dispatcher.
    fn mark_opaque(&mut self, schema: bool) {
        if let Some(Step::Call(c)) = self.ctx().and_then(|c| c.frames.last_mut()?.last_mut()) {
            c.opaque = true;
            c.runs_schema = schema;
        }
    }

    /// The bodies of closures handed to a call, as futures it awaits after what it has made since
    /// `mark`, on which they depend. The call (`call`, when one was recorded) keeps what each made.
    fn closures_run_by(
        &mut self,
        closures: &[(usize, &syn::ExprClosure)],
        named: &[(Vec<String>, Span)],
        mark: usize,
        call: Option<u32>,
    ) {
        if closures.is_empty() && named.is_empty() {
            return;
        }
        let made = self.made_since(mark);
        let mut bodies = Vec::new();
        self.after(&made, |v| {
            for (path, at) in named {
                let loc = v.loc(*at);
                if let Some(ctx) = v.ctx() {
                    let id = ctx.id();
                    let after = ctx.stmt_deps.clone();
                    ctx.push(Step::Call(Call {
                        after,
                        ..Call::new(id, loc, Callee::Path(path.clone()))
                    }));
                    ctx.handed_closures.push(id);
                }
            }
            for (k, c) in closures {
                let start = v.new_mark();
                v.future(&c.body);
                bodies.push((*k, v.made_since(start)));
            }
        });
        let Some(call) = call else { return };
        if let Some(ctx) = self.ctx() {
            for frame in ctx.frames.iter_mut().rev() {
                if let Some(Step::Call(c)) = frame
                    .iter_mut()
                    .rev()
                    .find(|s| matches!(s, Step::Call(c) if c.id == call))
                {
                    c.closures = bodies;
                    return;
                }
            }
        }
    }

    /// Runs `f` with what it records depending on `made` (trips and calls of this statement).
    fn after(&mut self, made: &[u32], f: impl FnOnce(&mut Self)) {
        let saved = self.ctx().map(|ctx| {
            let saved = ctx.stmt_deps.clone();
            ctx.stmt_deps.extend(made);
            saved
        });
        f(self);
        if let (Some(ctx), Some(saved)) = (self.ctx(), saved) {
            ctx.stmt_deps = saved;
        }
    }

    /// The constants the call just recorded passes (`Some(owner)`, `None`, `true`, `&[email]`), for
    /// the model to run the callee without the arms they rule out.
    fn set_consts<'e>(&mut self, args: impl Iterator<Item = &'e Expr>) {
        // A parameter handed on (`to_json(.., cipher_sync_data, ..)`) passes whatever this function
        // was given: `param:N`, filled in where this function runs with constants.
        let local_const = |name: &str| self.fns.last()?.local_consts.get(name).cloned();
        let consts: Vec<Option<String>> = args
            .map(|a| {
                const_tag_in(a, &local_const).or_else(|| {
                    // A parameter, or a field of one (`&self.page_cursor`), handed on.
                    self.guard_target(a).map(|(p, field)| match field {
                        Some(f) => format!("param:{p}.{f}"),
                        None => format!("param:{p}"),
                    })
                })
            })
            .collect();
        if consts.iter().all(Option::is_none) {
            return;
        }
        if let Some(Step::Call(c)) = self.ctx().and_then(|c| c.frames.last_mut()?.last_mut()) {
            c.consts = consts;
        }
    }

    /// The turbofish and the argument paths of the call just recorded, for `base`, a call.
    fn set_types(&mut self, base: &Expr) {
        match base {
            Expr::Call(c) => self.set_call_types(c),
            Expr::MethodCall(m) => self.set_types_of(m.turbofish.as_ref(), m.args.iter()),
            _ => {}
        }
    }

    fn set_call_types(&mut self, c: &syn::ExprCall) {
        if let Expr::Path(syn::ExprPath { qself: Some(q), .. }) = &*c.func {
            let ty = (q.position > 0).then(|| core_type(&q.ty)).flatten();
            if let Some(Step::Call(call)) = self.ctx().and_then(|c| c.frames.last_mut()?.last_mut())
            {
                call.qself = ty;
            }
        }
        let turbofish = match &*c.func {
            Expr::Path(p) => p.path.segments.last().and_then(|s| match &s.arguments {
                syn::PathArguments::AngleBracketed(a) => Some(a),
                _ => None,
            }),
            _ => None,
        };
        self.set_types_of(turbofish, c.args.iter());
    }

    fn set_types_of<'e>(
        &mut self,
        turbofish: Option<&syn::AngleBracketedGenericArguments>,
        args: impl Iterator<Item = &'e Expr>,
    ) {
        let turbofish: Vec<String> = turbofish
            .into_iter()
            .flat_map(|a| &a.args)
            .filter_map(|a| match a {
                syn::GenericArgument::Type(t) => core_type(t),
                _ => None,
            })
            .collect();
        let args: Vec<&Expr> = args.collect();
        let mut handed = self.handed_calls(&args);
        handed.extend(self.named_functions(&args));
        let arg_paths: Vec<Vec<String>> = args.into_iter().map(|a| self.arg_path(a)).collect();
        if turbofish.is_empty() && arg_paths.iter().all(Vec::is_empty) && handed.is_empty() {
            return;
        }
        if let Some(Step::Call(c)) = self.ctx().and_then(|c| c.frames.last_mut()?.last_mut()) {
            c.turbofish = turbofish;
            c.arg_paths = arg_paths;
            c.handed = handed;
        }
    }

    /// The arguments of the call just recorded that name a function (`handle_request(store, handle_get)`,
    /// `server.handle_get(&req, request_handlers::handle_info)`): each is recorded as a call of that
    /// function, not awaited and marked `named`, ahead of the call it is handed to, with its position.
    /// The model keeps it only where the callee calls that parameter.
    fn named_functions(&mut self, args: &[&Expr]) -> Vec<(usize, u32)> {
        let mut out = Vec::new();
        for (position, arg) in args.iter().enumerate() {
            let Expr::Path(p) = driver::strip_plumbing(arg) else {
                continue;
            };
            let segs = driver::path_segments(&p.path);
            let fn_like = p.qself.is_none()
                && segs
                    .last()
                    .is_some_and(|l| l.starts_with(|c: char| c.is_ascii_lowercase()));
            // A local or a parameter holds a value, not a function of the code.
            let held = matches!(segs.as_slice(), [one] if self.fns.last().is_some_and(|c| {
                c.locals.contains_key(one)
                    || c.local_types.iter().any(|(n, _)| n == one)
                    || c.params.iter().any(|(n, _)| n == one)
                    || c.closure_locals.contains_key(one)
                    || c.pending.contains_key(one)
            }));
            if !fn_like || held || segs.is_empty() {
                continue;
            }
            let loc = self.loc(p.path.span());
            let Some(ctx) = self.ctx() else { continue };
            let id = ctx.id();
            let Some(frame) = ctx.frames.last_mut() else {
                continue;
            };
            let at = frame.len().saturating_sub(1);
            frame.insert(
                at,
                Step::Call(Call {
                    awaited: false,
                    named: true,
                    ..Call::new(id, loc, Callee::Path(segs))
                }),
            );
            out.push((position, id));
        }
        out
    }

    /// The arguments of the call just recorded that are calls made there and not awaited
    /// (`call_database(ks, Profile::find(&conn, id))`), with their ids: recorded just before it.
    fn handed_calls(&self, args: &[&Expr]) -> Vec<(usize, u32)> {
        let Some(steps) = self.fns.last().and_then(|c| c.frames.last()) else {
            return Vec::new();
        };
        let Some((_, before)) = steps.split_last() else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (position, arg) in args.iter().enumerate() {
            let start = match through_views(arg, &[]) {
                Expr::Call(c) => match &*c.func {
                    Expr::Path(p) => p.path.span(),
                    _ => continue,
                },
                Expr::MethodCall(m) => m.method.span(),
                _ => continue,
            };
            let at = self.loc(start);
            let made = before.iter().rev().find_map(|s| match s {
                Step::Call(c) if !c.awaited && c.loc.line == at.line && c.loc.col == at.col => {
                    Some(c.id)
                }
                _ => None,
            });
            out.extend(made.map(|id| (position, id)));
        }
        out
    }

    /// What an argument of a call is, as a path of fields for the model to type: a place, or a local no
    /// code can name holding a value made in the call.
    fn arg_path(&mut self, a: &Expr) -> Vec<String> {
        let mut a = driver::strip_plumbing(a);
        while let Expr::Reference(r) = a {
            a = driver::strip_plumbing(&r.expr);
        }
        if let Expr::Tuple(t) = a {
            return self.tuple_local(t).into_iter().collect();
        }
        if let Expr::Call(c) = a {
            return self.call_local(a, c).into_iter().collect();
        }
        // A value made in the call (`show(Page { .. })`): held in a local no code can name, typed as
        // the value is.
        if let Expr::Struct(_) = a {
            return self.value_local(a).into_iter().collect();
        }
        // What a method returns (`map(svc.load(id).await?)`), as a value made in the call.
        if let Expr::MethodCall(_) = a {
            if let Some(local) = self.value_local(a) {
                return vec![local];
            }
        }
        let mut path = field_path(a);
        if let (Some(first), Some(ctx)) = (path.first_mut(), self.fns.last()) {
            *first = ctx.current_name(std::mem::take(first));
        }
        path
    }

    /// A value a call makes where it is handed on (`check(CanRead::new(id))`), held in a local no code
    /// can name. A function's result is typed with what it is handed (`either(&Key, &Org { .. }, jwt)`,
    /// see [`super::CALLED_WITH`]); a one-field wrapper built in place (`Header(ApiKey { .. })`) keeps
    /// what it wraps in a second local, its name followed by `<0>`.
    fn call_local(&mut self, e: &Expr, c: &syn::ExprCall) -> Option<String> {
        let ty = self.expr_type(e)?;
        // A function's arguments, or the one value a wrapper is built around.
        let function = ty.starts_with(super::RETURNED_BY);
        let inner: Vec<Vec<String>> = match &*c.func {
            Expr::Path(_) if function || c.args.len() == 1 => {
                c.args.iter().map(|a| self.arg_path(a)).collect()
            }
            _ => Vec::new(),
        };
        let ty = match ty.strip_prefix(super::RETURNED_BY) {
            Some(path) if inner.iter().any(|p| !p.is_empty()) => {
                let args: Vec<String> = inner.iter().map(|p| p.join(super::FIELD)).collect();
                format!("{}{}){path}", super::CALLED_WITH, args.join(";"))
            }
            _ => ty,
        };
        let wrapped = match inner.as_slice() {
            [held]
                if !ty.starts_with(super::RETURNED_BY) && !ty.starts_with(super::CALLED_WITH) =>
            {
                Some(held.clone()).filter(|h| !h.is_empty())
            }
            _ => None,
        };
        let ctx = self.ctx()?;
        let name = format!("value@{}", ctx.local_types.len());
        ctx.local_types.push((name.clone(), ty));
        if let Some(held) = wrapped {
            let place = format!("{}{}", super::PLACE, held.join(super::FIELD));
            ctx.local_types.push((format!("{name}<0>"), place));
        }
        Some(name)
    }

    /// A value made where it is handed to a call, held in a local no code can name, typed as the value.
    fn value_local(&mut self, e: &Expr) -> Option<String> {
        let ty = self.expr_type(e)?;
        let ctx = self.ctx()?;
        let name = format!("value@{}", ctx.local_types.len());
        ctx.local_types.push((name.clone(), ty));
        Some(name)
    }

    /// A tuple handed to a call (`mapper.map((&account, post.unrepost(id).await?))`), held in locals no
    /// code can name: one per element, typed as its value is, and one for the tuple (see
    /// [`super::TUPLE_OF`]). None when an element's type cannot be read.
    fn tuple_local(&mut self, t: &syn::ExprTuple) -> Option<String> {
        let ctx = self.fns.last()?;
        let tuple = format!("tuple@{}", ctx.local_types.len());
        let mut elems = Vec::new();
        for (i, e) in t.elems.iter().enumerate() {
            let mut e = driver::strip_plumbing(e);
            while let Expr::Reference(r) = e {
                e = driver::strip_plumbing(&r.expr);
            }
            let path = field_path(e);
            let ty = if path.len() > 1 {
                let ctx = self.fns.last()?;
                let mut path = path;
                path[0] = ctx.current_name(std::mem::take(&mut path[0]));
                Some(format!("{}{}", super::PLACE, path.join(super::FIELD)))
            } else {
                self.expr_type(e)
            }?;
            elems.push((format!("{tuple}_{i}"), ty));
        }
        let ctx = self.ctx()?;
        let names: Vec<&str> = elems.iter().map(|(n, _)| n.as_str()).collect();
        let ty = format!("{}{}", super::TUPLE_OF, names.join(","));
        ctx.local_types.extend(elems.iter().cloned());
        ctx.local_types.push((tuple.clone(), ty));
        Some(tuple)
    }

    /// Takes out of the current sequence the COMMIT of the transaction whose result `tested` names.
    fn take_commit(&mut self, tested: &Expr) -> Option<Step> {
        let name = single_path_ident(driver::strip_plumbing(tested))?;
        let ctx = self.ctx()?;
        let id = *ctx.tx_results.get(&name)?;
        let frame = ctx.frames.last_mut()?;
        let at = frame
            .iter()
            .position(|s| matches!(s, Step::Trip(t) if t.id == id && t.kind == TripKind::Commit))?;
        ctx.tx_results.remove(&name);
        Some(frame.remove(at))
    }

    /// The parameter whose `Some`/`Ok` value an initialiser yields as it is: `if let Some(v) = param {
    /// v } else { .. }`, `match param { Some(v) => v, .. }`.
    fn unwrapped_param(&self, init: &Expr) -> Option<usize> {
        fn binding(pat: &syn::Pat) -> Option<String> {
            let syn::Pat::TupleStruct(t) = pat else {
                return None;
            };
            let wrapper = driver::last_segment(&t.path);
            match (wrapper.as_str(), t.elems.len()) {
                ("Some" | "Ok", 1) => single_ident(&t.elems[0]),
                _ => None,
            }
        }
        let yields = |body: &Expr, name: &str| {
            let body = match body {
                Expr::Block(b) => match b.block.stmts.as_slice() {
                    [syn::Stmt::Expr(e, None)] => e,
                    _ => return false,
                },
                e => e,
            };
            single_path_ident(body).is_some_and(|n| n == name)
        };
        match init {
            Expr::If(i) => {
                let Expr::Let(l) = &*i.cond else { return None };
                let name = binding(&l.pat)?;
                let then = i.then_branch.stmts.as_slice();
                match then {
                    [syn::Stmt::Expr(e, None)] if yields(e, &name) => self.param_at(&l.expr),
                    _ => None,
                }
            }
            Expr::Match(m) => {
                let yielded = m.arms.iter().any(|a| {
                    binding(&a.pat).is_some_and(|name| a.guard.is_none() && yields(&a.body, &name))
                });
                if yielded {
                    self.param_at(&m.expr)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The position of a parameter a guard or a loop reads (`prefetched`, `&emails`, `flag`,
    /// `opt.as_ref()`), if the expression is one.
    /// How many items a loop's iterable has, when it is a local bound to a list written out
    /// (`for q in queries` after `let queries = vec![a, b];`).
    fn local_count(&mut self, expr: &Expr) -> Option<u32> {
        let e = match driver::strip_plumbing(expr) {
            Expr::Reference(r) => &*r.expr,
            Expr::MethodCall(m)
                if matches!(m.method.to_string().as_str(), "iter" | "into_iter") =>
            {
                &*m.receiver
            }
            other => other,
        };
        let name = single_path_ident(e)?;
        self.ctx()?.local_counts.get(&name).copied()
    }

    fn param_at(&self, e: &Expr) -> Option<usize> {
        let views = [
            "as_ref",
            "as_deref",
            "iter",
            "into_iter",
            "as_slice",
            "clone",
        ];
        let name = single_path_ident(through_views(e, &views))?;
        let ctx = self.fns.last()?;
        // Not a local that shadows it (unless the local is the parameter converted).
        if ctx.shadowed.contains_key(&name) && !ctx.converted_params.contains(&name) {
            return None;
        }
        ctx.param_pos.get(&name).copied()
    }

    /// The parameter a loop goes over (`for e in emails`), or the field of one whose `Some` a local
    /// holds (`for r in load` inside `if let Some(load) = &opts.load`).
    fn iterated_param(&self, e: &Expr) -> Option<(usize, Option<String>)> {
        if let Some(p) = self.param_at(e) {
            return Some((p, None));
        }
        let name = single_path_ident(through_views(e, &["iter", "into_iter", "as_slice"]))?;
        self.fns.last()?.unwrapped.get(&name).cloned()
    }

    /// `param.into()`, `param.clone()`, `Into::into(param)`: the parameter's position.
    fn converted_param(&self, init: &Expr) -> Option<usize> {
        match driver::strip_plumbing(init) {
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(m.method.to_string().as_str(), "into" | "clone" | "to_owned") =>
            {
                self.param_at(&m.receiver)
            }
            Expr::Call(c) if c.args.len() == 1 => match &*c.func {
                Expr::Path(p)
                    if driver::path_segments(&p.path).ends_with(&["into".to_string()]) =>
                {
                    self.param_at(&c.args[0])
                }
                _ => None,
            },
            _ => None,
        }
    }

    /// A closure passed to an iterator adapter (`iter().map(..)`, `into_iter().for_each(..)`): walked as
    /// a loop body when it makes round trips. Returns true when it handled the call.
    fn iterator_closure(&mut self, m: &syn::ExprMethodCall) -> bool {
        let Some(closure) = iterator_closure_of(m) else {
            return false;
        };
        let root = driver::chain(&m.receiver).0;
        self.visit_expr(&m.receiver);
        // `fold(init, |acc, item| ..)`: the item is the second input.
        let folds = matches!(m.method.to_string().as_str(), "fold" | "try_fold");
        if let Some(item) = closure.inputs.iter().nth(usize::from(folds)) {
            self.type_element(item, &m.receiver);
        }
        let mut body = self.frame(|v| v.visit_expr(&closure.body));
        mark_returned(&mut body, &closure.body);
        let count = known_count(root).or_else(|| self.local_count(root));
        let loc = self.loc(m.method.span());
        if body.iter().any(super::has_io) {
            self.push_loop(loc, body, count, false);
        } else if let Some(ctx) = self.ctx() {
            body.into_iter().for_each(|s| ctx.push(s));
        }
        m.args
            .iter()
            .filter(|a| !matches!(a, Expr::Closure(_)))
            .for_each(|a| self.visit_expr(a));
        true
    }

    /// An invocation of one of the analysed code's `macro_rules!`, expanded by its rules and visited in
    /// its place (statements, or one expression). False when no rule matches or the expansion does not
    /// parse: the invocation is then read as before.
    fn expand_macro(&mut self, m: &syn::Macro) -> bool {
        let name = driver::last_segment(&m.path);
        if self.macro_depth >= super::macros::MAX_DEPTH || !self.macros.defines(&name) {
            return false;
        }
        // `::tokio::try_join!(..)` names another crate's macro; so do `tokio::try_join!(..)` (a join the
        // catalog knows) and `$crate::tokio::try_join!(..)` inside the expansion of the analysed code's
        // own `try_join!` that wraps it. (`$crate::name!` is the macro itself.)
        let first = m.path.segments.first().map(|s| s.ident.to_string());
        let qualified = m.path.segments.len() > 2
            || (m.path.segments.len() == 2
                && !matches!(first.as_deref(), Some("crate" | "self" | "super")));
        let known_join = driver::is_join_macro(&m.path, self.catalog).is_some();
        if m.path.leading_colon.is_some()
            || (qualified && (known_join || self.expanding.contains(&name)))
        {
            return false;
        }
        let Some(tokens) = self.macros.expand(&name, &m.tokens, m.path.span()) else {
            return false;
        };
        self.expanding.push(name);
        self.macro_depth += 1;
        let visited = if let Ok(e) = syn::parse2::<Expr>(tokens.clone()) {
            self.visit_expr(&e);
            true
        } else if let Ok(stmts) = syn::parse::Parser::parse2(syn::Block::parse_within, tokens) {
            for stmt in &stmts {
                self.visit_stmt(stmt);
            }
            true
        } else {
            false
        };
        self.macro_depth -= 1;
        self.expanding.pop();
        visited
    }

    /// Items an invocation of the analysed code's `macro_rules!` stands for (`impl Post { get!(posts); }`
    /// defines `Post::get`), visited as if written there.
    fn expand_items<T: syn::parse::Parse>(
        &mut self,
        m: &syn::Macro,
        visit: impl Fn(&mut Self, &T),
    ) {
        let name = driver::last_segment(&m.path);
        if self.macro_depth >= super::macros::MAX_DEPTH || !self.macros.defines(&name) {
            return;
        }
        let Some(tokens) = self.macros.expand(&name, &m.tokens, m.path.span()) else {
            return;
        };
        let items = syn::parse::Parser::parse2(
            |input: syn::parse::ParseStream| {
                let mut items = Vec::new();
                while !input.is_empty() {
                    items.push(input.parse::<T>()?);
                }
                Ok(items)
            },
            tokens,
        );
        if let Ok(items) = items {
            self.macro_depth += 1;
            for item in &items {
                visit(self, item);
            }
            self.macro_depth -= 1;
        }
    }

    /// The items the analysed code's own derive macros write for type `ty` (`#[derive(Model)]` →
    /// `impl Group { async fn find_by_id(..) }`), visited as if written beside it.
    fn expand_derives(&mut self, attrs: &[syn::Attribute], ty: &syn::Ident) {
        if self.macros.derives.is_empty() {
            return;
        }
        for name in derive_names(attrs) {
            if self.macros.derives.defines(&name) {
                let name_of = ty.to_string();
                if !self.facts.own_derived.contains(&name_of) {
                    self.facts.own_derived.push(name_of);
                }
                for tokens in self.macros.derives.expand(&name, ty) {
                    self.visit_generated(tokens);
                }
            }
        }
    }

    /// Items written for the code rather than in it (a derive's template), visited as if written here,
    /// within the expansion depth limit.
    fn visit_generated(&mut self, tokens: proc_macro2::TokenStream) {
        if self.macro_depth >= super::macros::MAX_DEPTH {
            return;
        }
        let Ok(file) = syn::parse2::<syn::File>(tokens) else {
            return;
        };
        self.macro_depth += 1;
        for item in &file.items {
            self.visit_item(item);
        }
        self.macro_depth -= 1;
    }

    /// poem-openapi's `#[derive(SecurityScheme)]`: a handler's parameter of that type is an extractor that
    /// runs the scheme's `checker` (`#[oai(checker = "admin_access")]`, which may query); an enum of
    /// schemes tries its variants until one accepts, at most the costliest of them. Read as the
    /// `FromRequest` it stands for.
    fn security_scheme(
        &mut self,
        attrs: &[syn::Attribute],
        ty: &syn::Ident,
        variants: &[&syn::Type],
    ) {
        if !derive_names(attrs).iter().any(|n| n == "SecurityScheme") {
            return;
        }
        let checker = attrs
            .iter()
            .filter(|a| a.path().is_ident("oai"))
            .filter_map(|a| {
                a.parse_args_with(
                    syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                )
                .ok()
            })
            .flatten()
            .find_map(|m| match m {
                syn::Meta::NameValue(nv) if nv.path.is_ident("checker") => match nv.value {
                    Expr::Lit(syn::ExprLit {
                        lit: syn::Lit::Str(s),
                        ..
                    }) => s.parse::<syn::Path>().ok(),
                    _ => None,
                },
                _ => None,
            });
        let body = match (checker, variants) {
            (Some(checker), _) => quote::quote! {
                match #checker(req, key).await {
                    Some(found) => Ok(found),
                    None => Err(Unauthorized),
                }
            },
            (None, []) => return,
            (None, variants) => {
                let arms = variants.iter().enumerate().map(|(i, v)| {
                    quote::quote! { #i => <#v as FromRequest>::from_request(req, body).await, }
                });
                quote::quote! { match scheme { #(#arms)* _ => Err(Unauthorized) } }
            }
        };
        let tokens = quote::quote! {
            impl FromRequest for #ty {
                async fn from_request(req: &Request, body: &mut RequestBody) -> Result<Self> {
                    #body
                }
            }
        };
        self.visit_generated(super::derives::written_at(tokens, ty.span()));
    }

    /// Types a name a pattern binds from a value whose type the code spells: `if let Some(c) =
    /// Cipher::find(..).await`, `Ok(Some(s)) => ..`, `let Ok(u) = User::load(..) else { .. }`, a `match` arm `Some(c) => ..`.
    fn type_pattern(&mut self, pat: &syn::Pat, from: &Expr) {
        // `Query::Arg(inner, _)`, `Self::Leaf { value, .. }`: each name what the variant holds there.
        if let Some((owner, variant, names)) = self.variant_bindings(pat) {
            for (at, name) in names {
                let ty = format!("{owner}{}{variant}:{at}", super::FIELD);
                if let Some(ctx) = self.ctx() {
                    ctx.type_local(name, ty);
                }
            }
            return;
        }
        // `Some(c)`, and nested as a fallible lookup's result is: `Ok(Some(c))`, `Some(Ok(c))`.
        let mut inner = pat;
        while let syn::Pat::TupleStruct(ts) = inner {
            let wrapper = driver::last_segment(&ts.path);
            if ts.elems.len() != 1 || !matches!(wrapper.as_str(), "Some" | "Ok") {
                return;
            }
            inner = &ts.elems[0];
        }
        if !matches!(inner, syn::Pat::Ident(_) | syn::Pat::Type(_)) {
            return;
        }
        let Some(name) = single_ident(inner) else {
            return;
        };
        // A pattern's names live in its arm: one that rebinds a name (`if let Some(data) = data`) is
        // not taken for a shadowing of the whole function.
        let bound = self.fns.last().is_some_and(|c| {
            c.params
                .iter()
                .chain(&c.local_types)
                .any(|(n, _)| *n == name)
        });
        if bound {
            return;
        }
        let Some(ty) = self.expr_type(from) else {
            return;
        };
        if let Some(ctx) = self.ctx() {
            ctx.type_local(name, ty);
        }
    }

    /// The names an enum variant's pattern binds, with where each sits in the variant (position or
    /// field name), and the enum and variant: `Query::Arg(inner, _)` → (`Query`, `Arg`, [(`0`,
    /// `inner`)]). Not `Some`/`Ok`/`Err`, nor a bare variant whose enum the pattern does not name.
    fn variant_bindings(&self, pat: &syn::Pat) -> Option<VariantBindings> {
        let (path, names): (&syn::Path, Vec<(String, String)>) = match pat {
            syn::Pat::TupleStruct(ts) => (
                &ts.path,
                ts.elems
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| Some((i.to_string(), single_ident(p)?)))
                    .collect(),
            ),
            syn::Pat::Struct(ps) => (
                &ps.path,
                ps.fields
                    .iter()
                    .filter_map(|f| match &f.member {
                        syn::Member::Named(n) => Some((n.to_string(), single_ident(&f.pat)?)),
                        syn::Member::Unnamed(_) => None,
                    })
                    .collect(),
            ),
            _ => return None,
        };
        let segs = driver::path_segments(path);
        let [.., owner, variant] = segs.as_slice() else {
            return None;
        };
        if matches!(variant.as_str(), "Some" | "Ok" | "Err") || names.is_empty() {
            return None;
        }
        let owner = match owner.as_str() {
            "Self" => self.impl_ctx.as_ref()?.0.clone(),
            other => other.to_string(),
        };
        Some((owner, variant.clone(), names))
    }

    /// The type of a value as the code spells it: a call (what the function returns, or the type a
    /// constructor makes), a struct literal, or a local or parameter whose type is known.
    fn expr_type(&mut self, e: &Expr) -> Option<String> {
        let mut e = driver::strip_plumbing(e);
        while let Expr::Reference(r) = e {
            e = driver::strip_plumbing(&r.expr);
        }
        match e {
            Expr::Call(_) | Expr::Struct(_) => value_type(e),
            // sqlx's `query_as::<_, User>(..).bind(..).fetch_one(db)`: the row type it names.
            Expr::MethodCall(m) if m.turbofish.is_none() && sqlx_row_type(e).is_some() => {
                sqlx_row_type(e)
            }
            // A service's or a repository's answer (`let account = accounts.get(id).await?`): what
            // the method returns.
            Expr::MethodCall(m) if m.turbofish.is_none() => {
                let mut base = self.current_path(&m.receiver);
                // On what a function returns (`NewUser::new().insert(conn)`): that value, held as a
                // local of its own.
                if let (true, Expr::Call(call)) =
                    (base.is_empty(), driver::strip_plumbing(&m.receiver))
                {
                    if let (Expr::Path(p), Some(ty)) = (&*call.func, value_type(&m.receiver)) {
                        let name = format!("{}()", driver::path_segments(&p.path).join("::"));
                        if let Some(ctx) = self.ctx() {
                            ctx.local_types.push((name.clone(), ty));
                        }
                        base = vec![name];
                    }
                }
                // At the end of a chain on a value of no known type (`assets::table.filter(..)
                // .paginate_by(10, 1)`): what the one method of the analysed code of that name returns.
                if base.is_empty()
                    && matches!(driver::strip_plumbing(&m.receiver), Expr::MethodCall(_))
                {
                    base = vec![super::UNTYPED.to_string()];
                }
                self.method_returns(&base, m)
            }
            // diesel's `table.load::<Post>(conn)`, `.first::<Self>(conn)`: the type the turbofish names.
            Expr::MethodCall(m) => {
                let args = m.turbofish.as_ref()?;
                let Some(syn::GenericArgument::Type(ty)) = args.args.first() else {
                    return None;
                };
                let ty = core_type(ty)?;
                match (ty.as_str(), &self.impl_ctx) {
                    ("Self", Some((own, _))) => Some(own.clone()),
                    ("Self", None) => None,
                    _ => Some(ty),
                }
            }
            // `let (account, post) = self;` in `impl Trait for (&Account, Post)`: the impl's type.
            Expr::Path(p) if p.path.is_ident("self") => {
                self.impl_ctx.as_ref().map(|(own, _)| own.clone())
            }
            Expr::Path(p) if p.path.segments.len() == 1 => {
                let ctx = self.fns.last()?;
                let name = ctx.current_name(driver::last_segment(&p.path));
                ctx.local_types
                    .iter()
                    .rev()
                    .chain(ctx.params.iter())
                    .find(|(n, _)| *n == name)
                    .map(|(_, t)| t.clone())
            }
            _ => None,
        }
    }

    /// What each future of a join yields (`try_join!(a, b)`, `future::try_join(a, b)`), as far as it is
    /// known, where `e` awaits one: directly, or as the value a macro's closure ends with
    /// (`with_connection!(pool, |c| { let a = ..; try_join!(a, b) })`), whose own locals are then read.
    fn joined_types(&mut self, e: &Expr) -> Vec<Option<String>> {
        let Some((args, block)) = joined_futures(e, self.catalog, 0) else {
            return Vec::new();
        };
        args.iter()
            .map(|arg| {
                // A future made in the block the join ends: typed by what made it.
                let made = match driver::strip_plumbing(arg) {
                    Expr::Path(p) if p.path.segments.len() == 1 => {
                        let name = driver::last_segment(&p.path);
                        block.iter().rev().find_map(|stmt| match stmt {
                            syn::Stmt::Local(l)
                                if single_ident(&l.pat).as_deref() == Some(&name) =>
                            {
                                l.init.as_ref().map(|i| &*i.expr)
                            }
                            _ => None,
                        })
                    }
                    _ => None,
                };
                let arg = made.unwrap_or(arg);
                self.expr_type(arg)
                    .or_else(|| self.expr_type(held_value(arg)))
                    .filter(|t| !t.starts_with(super::PLACE))
            })
            .collect()
    }

    /// Types a closure's one parameter as the value `source` yields, through adapters that keep it
    /// (`.map_err(..)`, `.boxed()`).
    fn type_closure_input(&mut self, closure: &syn::ExprClosure, source: &Expr) {
        // `|u: User| ..`: the type it is written with.
        if let Some(syn::Pat::Type(pt)) = closure.inputs.first() {
            if let (Some(name), Some(ty)) = (single_ident(&pt.pat), core_type(&pt.ty)) {
                if let Some(ctx) = self.ctx() {
                    ctx.type_local(name, ty);
                }
            }
            return;
        }
        let Some(syn::Pat::Ident(param)) = closure.inputs.first() else {
            return;
        };
        if let Some(ty) = self.expr_type(held_value(source)) {
            let name = param.ident.to_string();
            if let Some(ctx) = self.ctx() {
                ctx.type_local(name, ty);
            }
        }
    }

    /// A closure's parameters written with their type (`async |db: &mut dyn Db| ..`) have that type in
    /// its body.
    fn type_written_inputs(&mut self, closure: &syn::ExprClosure) {
        for input in &closure.inputs {
            if let syn::Pat::Type(pt) = input {
                if let (Some(name), Some(ty)) = (single_ident(&pt.pat), core_type(&pt.ty)) {
                    if let Some(ctx) = self.ctx() {
                        ctx.type_local(name, ty);
                    }
                }
            }
        }
    }

    /// A function's body: its final expression is the value it yields.
    fn tail_block(&mut self, block: &syn::Block) {
        let Some((last, rest)) = block.stmts.split_last() else {
            return;
        };
        for stmt in rest {
            self.visit_stmt(stmt);
        }
        match last {
            syn::Stmt::Expr(e, None) if self.in_fn() => self.tail(e),
            other => self.visit_stmt(other),
        }
    }

    /// An expression whose value the function yields: the arms of an `if`/`match` each yield theirs.
    fn tail(&mut self, e: &Expr) {
        match e {
            Expr::If(_) | Expr::Match(_) => {
                self.tail_arms = true;
                self.visit_expr(e);
                self.tail_arms = false;
            }
            Expr::Block(b) if b.label.is_none() => self.tail_block(&b.block),
            Expr::Paren(p) => self.tail(&p.expr),
            other => {
                let awaited = self.fns.last().is_some_and(|c| c.returns_future);
                self.statement(Some(other), Vec::new(), Vec::new(), |v| match awaited {
                    true => v.future(other),
                    false => v.visit_expr(other),
                });
                let tag = yield_tag(other);
                if let Some(ctx) = self.ctx() {
                    ctx.push_yield(tag);
                }
            }
        }
    }

    /// The call whose result a `match` or `if let` tests, when the scrutinee made exactly one call (the
    /// last step): its arms run where the callee yields what they need.
    /// Does the call just made (`id`) end the function where it fails (`call.await?`)?
    fn propagates(&mut self, id: u32) -> bool {
        self.ctx()
            .and_then(|c| c.frames.last())
            .is_some_and(|frame| {
                frame
                    .iter()
                    .any(|s| matches!(s, Step::Call(c) if c.id == id && c.propagates))
            })
    }

    /// The call among `made` whose value a loop goes over: `f(..)`, `&f(..)`, `f(..).into_iter()`.
    fn iterated_call(&mut self, iterable: &Expr, made: &[u32]) -> Option<u32> {
        let mut e = driver::strip_plumbing(iterable);
        loop {
            match e {
                Expr::Reference(r) => e = driver::strip_plumbing(&r.expr),
                Expr::MethodCall(m)
                    if m.args.is_empty()
                        && matches!(m.method.to_string().as_str(), "iter" | "into_iter") =>
                {
                    e = driver::strip_plumbing(&m.receiver)
                }
                _ => break,
            }
        }
        // `streams_of(t)`, or a method of the code (`self.sub_validators()`).
        let fits: Box<dyn Fn(&Callee) -> bool> = match e {
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else { return None };
                let written = driver::path_segments(&p.path);
                Box::new(move |callee| matches!(callee, Callee::Path(segs) if *segs == written))
            }
            Expr::MethodCall(m) => {
                let method = m.method.to_string();
                let args = m.args.len();
                Box::new(
                    move |callee| matches!(callee, Callee::Method { name, args: n, .. } if *name == method && *n == args),
                )
            }
            _ => return None,
        };
        let frame = self.ctx()?.frames.last()?;
        frame.iter().rev().find_map(|s| match s {
            Step::Call(call) if made.contains(&call.id) && fits(&call.callee) => Some(call.id),
            _ => None,
        })
    }

    fn tested_call(&mut self, made: &[u32]) -> Option<u32> {
        // The one awaited call among what the scrutinee made (`f(..).await.map_err(e)?` also records
        // the adapter, which reaches nothing).
        let frame = self.ctx()?.frames.last()?;
        let awaited: Vec<u32> = frame
            .iter()
            .filter_map(|s| match s {
                Step::Call(c) if c.awaited && made.contains(&c.id) => Some(c.id),
                _ => None,
            })
            .collect();
        let trips: Vec<u32> = frame
            .iter()
            .filter_map(|s| match s {
                Step::Trip(t) if made.contains(&t.id) => Some(t.id),
                _ => None,
            })
            .collect();
        // Or the one round trip (`let found = query(..).fetch_optional(db).await?`).
        match (awaited.as_slice(), trips.as_slice()) {
            ([one], []) | ([], [one]) => Some(*one),
            // Or, in synchronous code (`if let Some(s) = test_hook(conn)? { return .. }`), the one
            // function called by its path (a method on a value, `parts.extensions.get::<T>()`, is
            // another test).
            ([], []) => {
                let called: Vec<u32> = frame
                    .iter()
                    .filter_map(|s| match s {
                        Step::Call(c)
                            if made.contains(&c.id)
                                && matches!(c.callee, super::Callee::Path(_)) =>
                        {
                            Some(c.id)
                        }
                        _ => None,
                    })
                    .collect();
                match called.as_slice() {
                    [one] => Some(*one),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// What a query looks up ([`Trip::key`]), where its arguments are parameters, fields of them,
    /// literals and constants: a local's value may differ from one statement to the next.
    fn lookup_key(&self, e: &Expr) -> Option<String> {
        let mut key = String::new();
        self.key_of(e, &mut key, 0).then_some(key)
    }

    fn key_of(&self, e: &Expr, key: &mut String, depth: usize) -> bool {
        if depth > 24 {
            return false;
        }
        let e = match e {
            Expr::Reference(r) => return self.key_of(&r.expr, key, depth + 1),
            Expr::Paren(p) => return self.key_of(&p.expr, key, depth + 1),
            Expr::Group(g) => return self.key_of(&g.expr, key, depth + 1),
            e => e,
        };
        if let Some((p, field)) = self.guard_target(e) {
            match field {
                Some(f) => key.push_str(&format!("${{{p}.{f}}}")),
                None => key.push_str(&format!("${{{p}}}")),
            }
            return true;
        }
        let args = |v: &Self, args: &mut dyn Iterator<Item = &Expr>, key: &mut String| {
            key.push('(');
            for (i, a) in args.enumerate() {
                if i > 0 {
                    key.push(',');
                }
                if !v.key_of(a, key, depth + 1) {
                    return false;
                }
            }
            key.push(')');
            true
        };
        match e {
            Expr::Lit(l) => {
                key.push_str(&quote::ToTokens::to_token_stream(&l.lit).to_string());
                true
            }
            // A constant, a type's item or a unit value (`Role::Admin`); a lone lower-case name is a
            // local.
            Expr::Path(p) => {
                let text = quote::ToTokens::to_token_stream(&p.path)
                    .to_string()
                    .replace(' ', "");
                let constant =
                    p.path.segments.len() > 1 || text.starts_with(|c: char| c.is_ascii_uppercase());
                if constant {
                    key.push_str(&text);
                }
                constant
            }
            Expr::Call(c) => {
                let Expr::Path(f) = &*c.func else {
                    return false;
                };
                key.push_str(
                    &quote::ToTokens::to_token_stream(&f.path)
                        .to_string()
                        .replace(' ', ""),
                );
                args(self, &mut c.args.iter(), key)
            }
            Expr::MethodCall(m) => {
                if !self.key_of(&m.receiver, key, depth + 1) {
                    return false;
                }
                key.push('.');
                key.push_str(&m.method.to_string());
                args(self, &mut m.args.iter(), key)
            }
            Expr::Macro(m) => {
                let parser = syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated;
                let Ok(list) = m.mac.parse_body_with(parser) else {
                    return false;
                };
                key.push_str(
                    &quote::ToTokens::to_token_stream(&m.mac.path)
                        .to_string()
                        .replace(' ', ""),
                );
                key.push('!');
                args(self, &mut list.iter(), key)
            }
            _ => false,
        }
    }

    /// `let headers = try_outcome!(Headers::from_request(request).await);`: the statement goes on only
    /// where the call succeeds; where it fails, the function returns. The call then runs, on each side,
    /// only its paths that end that way.
    ///
    /// `helper(..).await?` says the same more often: the call is marked, and the model splits it the
    /// same way where the callee's paths differ by how they end.
    fn propagate(&mut self, e: &Expr, mark: usize) {
        if self.closure_depth > 0 {
            return;
        }
        // What is done with the value past the `?` (`Session::extract(..).await?.0`, `..?.into_inner()`)
        // does not change that the call ends the function where it fails.
        let mut e = e;
        loop {
            match e {
                Expr::Field(f)
                    if matches!(*f.base, Expr::Try(_) | Expr::Field(_) | Expr::MethodCall(_)) =>
                {
                    e = &f.base
                }
                Expr::MethodCall(m) if matches!(*m.receiver, Expr::Try(_) | Expr::Field(_)) => {
                    e = &m.receiver
                }
                Expr::Reference(r) => e = &r.expr,
                _ => break,
            }
        }
        if let Expr::Try(t) = e {
            // `let cookie = cookie?;` on an `Option` or `Result` parameter: a caller that passes `None`
            // (or an `Err`) ends the function here.
            if let Some((p, (yes, no))) = self.option_param(&t.expr) {
                if let Some(ctx) = self.ctx() {
                    let guard = |pattern: &str| Step::Guard {
                        on: super::Guarded::Param(p),
                        pattern: pattern.to_string(),
                    };
                    ctx.push(Step::Branch(vec![
                        vec![guard(yes)],
                        vec![guard(no), Step::Yields(no.into()), Step::Exit],
                    ]));
                }
                return;
            }
            let made = self.made_since(mark);
            if let (Some(call), Some(ctx)) = (self.tested_call(&made), self.ctx()) {
                ctx.mark_propagates(call);
            }
            return;
        }
        if !propagates(e) {
            return;
        }
        let made = self.made_since(mark);
        let Some(call) = self.tested_call(&made) else {
            return;
        };
        if let Some(ctx) = self.ctx() {
            let guard = |pattern: &str| Step::Guard {
                on: super::Guarded::Outcome(call),
                pattern: pattern.to_string(),
            };
            ctx.push(Step::Branch(vec![
                vec![guard(super::SUCCEEDS)],
                vec![guard(super::FAILS), Step::Yields("Err".into()), Step::Exit],
            ]));
        }
    }

    /// `let state = if key { by_key(..).await } else if jwt { by_jwt(..) } else { Err(..) }?;`: the
    /// local holds, on each arm of the `if`/`match` just walked (pushed from `start` of the sequence),
    /// the result of the arm's one call. Marks each such arm with [`super::Guarded::Holds`] and returns
    /// the id the local's tests are made on.
    fn arm_results(&mut self, e: &Expr, start: usize) -> Option<u32> {
        let e = result_source(e);
        let tails = arm_tails(e)?;
        let ctx = self.ctx()?;
        let local = ctx.next_id + 1;
        let frame = ctx.frames.last_mut()?;
        let arms = frame
            .get_mut(start..)?
            .iter_mut()
            .rev()
            .find_map(|s| match s {
                Step::Branch(arms) if arms.len() == tails.len() => Some(arms),
                _ => None,
            })?;
        if !mark_results(arms, &tails, local) {
            return None;
        }
        ctx.next_id = local;
        Some(local)
    }

    /// A parameter of type `Option` or `Result` (`cookie` in `cookie?`): its position, and the variants
    /// it goes on with and ends with.
    fn option_param(&self, e: &Expr) -> Option<(usize, (&'static str, &'static str))> {
        let name = single_path_ident(e)?;
        let p = self.param_at(e)?;
        let variants = match *self.fns.last()?.param_wrappers.get(&name)? {
            "Option" => ("Some", "None"),
            _ => ("Ok", "Err"),
        };
        Some((p, variants))
    }

    /// Marks the arm being walked as run only when parameter `param` holds `pattern`.
    fn guard_outcome(&mut self, call: u32, pattern: Option<String>) {
        if let (Some(pattern), Some(ctx)) = (pattern, self.ctx()) {
            ctx.push(Step::Guard {
                on: super::Guarded::Outcome(call),
                pattern,
            });
        }
    }

    /// Marks the arm being walked as compiled in only where the `#[cfg(..)]` predicate holds.
    fn cfg_guard(&mut self, predicate: String) {
        self.facts.cfg_guards = true;
        if let Some(ctx) = self.ctx() {
            ctx.push(Step::Guard {
                on: super::Guarded::Cfg,
                pattern: predicate,
            });
        }
    }

    fn guard(&mut self, param: usize, pattern: Option<String>) {
        if let (Some(pattern), Some(ctx)) = (pattern, self.ctx()) {
            ctx.push(Step::Guard {
                on: super::Guarded::Param(param),
                pattern,
            });
        }
    }

    /// An `if` condition that tests a parameter: (its position, what the then-arm needs, what the
    /// else-arm needs). `if let Some(o) = prefetched`, `if flag`, `if !flag`, `if opt.is_none()`.
    fn param_test(&self, cond: &Expr) -> Option<(usize, Option<String>, Option<String>)> {
        let negate = |t: Option<String>| {
            t.map(|t| match t.strip_prefix('!') {
                Some(rest) => rest.to_string(),
                None => format!("!{t}"),
            })
        };
        // What a test of `target` needs, both ways: of a parameter (`Some`, `!Some`), or of one of its
        // fields (`.domain=Some`, `.domain=!Some`).
        let tested = |target: &Expr, yes: String| {
            let (p, field) = self.guard_target(target)?;
            let prefix = field.map(|f| format!(".{f}=")).unwrap_or_default();
            let no = negate(Some(yes.clone()))?;
            Some((
                p,
                Some(format!("{prefix}{yes}")),
                Some(format!("{prefix}{no}")),
            ))
        };
        match cond {
            Expr::Let(l) => tested(&l.expr, pattern_tag(&l.pat)?),
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
                let (p, yes, no) = self.param_test(&u.expr)?;
                Some((p, no, yes))
            }
            Expr::Paren(p) => self.param_test(&p.expr),
            Expr::MethodCall(m) if m.args.is_empty() => {
                let yes = match m.method.to_string().as_str() {
                    "is_some" => "Some",
                    "is_none" => "None",
                    "is_ok" => "Ok",
                    "is_err" => "Err",
                    _ => return None,
                };
                tested(&m.receiver, yes.to_string())
            }
            Expr::Path(_) | Expr::Field(_) => tested(cond, "true".into()),
            // `*options == DeleteOptions::SoftMulti`, `kind != Kind::Admin`: a variant of an enum.
            Expr::Binary(b) if matches!(b.op, syn::BinOp::Eq(_) | syn::BinOp::Ne(_)) => {
                let (target, variant) = match (enum_variant(&b.left), enum_variant(&b.right)) {
                    (None, Some(v)) => (&*b.left, v),
                    (Some(v), None) => (&*b.right, v),
                    _ => return None,
                };
                let mut target = target;
                while let Expr::Unary(syn::ExprUnary {
                    op: syn::UnOp::Deref(_),
                    expr,
                    ..
                })
                | Expr::Reference(syn::ExprReference { expr, .. }) = target
                {
                    target = expr;
                }
                let (p, yes, no) = tested(target, variant)?;
                match b.op {
                    syn::BinOp::Ne(_) => Some((p, no, yes)),
                    _ => Some((p, yes, no)),
                }
            }
            // `a == Kind::X || a == Kind::Y`: one of the variants, or none of them.
            Expr::Binary(b) if matches!(b.op, syn::BinOp::Or(_)) => {
                let (p, yes_a, _) = self.param_test(&b.left)?;
                let (q, yes_b, _) = self.param_test(&b.right)?;
                let plain = |t: &Option<String>| {
                    t.as_ref()
                        .filter(|t| !t.starts_with(['!', '.']) && !t.contains(','))
                        .cloned()
                };
                let (a, b) = (plain(&yes_a)?, plain(&yes_b)?);
                (p == q).then(|| (p, Some(format!("{a},{b}")), Some(format!("!{a},{b}"))))
            }
            _ => None,
        }
    }

    /// An `if` condition that tests a local holding one call's result: (the call, what the then-arm
    /// needs, what the else-arm needs), each when the test says. `if x.is_none()`, `if x.is_err()`,
    /// `if let Some(v) = x`,
    /// `if !x.is_some_and(|t| ..)` (only its else-arm is sure: `Some`).
    fn local_test(&self, cond: &Expr) -> Option<(u32, Option<String>, Option<String>)> {
        let call = |e: &Expr| self.local_outcome(e);
        match cond {
            Expr::Let(l) => {
                let yes = outcome_tag(&l.pat)?;
                Some((call(&l.expr)?, Some(yes.clone()), Some(format!("!{yes}"))))
            }
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
                let (c, yes, no) = self.local_test(&u.expr)?;
                Some((c, no, yes))
            }
            Expr::Paren(p) => self.local_test(&p.expr),
            Expr::MethodCall(m) => {
                let (yes, no) = match (m.method.to_string().as_str(), m.args.len()) {
                    ("is_some", 0) => (Some("Some"), Some("None")),
                    ("is_none", 0) => (Some("None"), Some("!None")),
                    // `if res.is_err() { undo().await?; } res`: the undo runs where the call failed.
                    ("is_ok", 0) => (Some(super::SUCCEEDS), Some(super::FAILS)),
                    ("is_err", 0) => (Some(super::FAILS), Some(super::SUCCEEDS)),
                    ("is_some_and", 1) => (Some("Some"), None),
                    ("is_none_or", 1) => (None, Some("Some")),
                    _ => return None,
                };
                Some((
                    call(&m.receiver)?,
                    yes.map(String::from),
                    no.map(String::from),
                ))
            }
            _ => None,
        }
    }

    /// A value built through a module whose code a build script writes (`vault_web::vault_client::Vault::
    /// new(host)`): its type, by its whole path (`vault_web::vault_client::Vault`), is not the analysed
    /// code's type of that name (the server's trait `Vault`).
    fn made_by_generated(&self, init: &Expr) -> Option<String> {
        let Expr::Call(c) = driver::strip_plumbing(init) else {
            return None;
        };
        let Expr::Path(p) = &*c.func else {
            return None;
        };
        let segs = driver::path_segments(&p.path);
        let first = segs
            .iter()
            .find(|s| !matches!(s.as_str(), "crate" | "self" | "super"))?;
        (segs.len() > 2 && self.generated_mods.contains(first))
            .then(|| segs[..segs.len() - 1].join("::"))
    }

    /// The call or round trip whose result a local holds (`found` of `let found = find(..).await?`).
    fn local_outcome(&self, e: &Expr) -> Option<u32> {
        let name = single_path_ident(through_views(e, &["as_ref", "as_deref"]))?;
        self.fns.last()?.local_calls.get(&name).copied()
    }

    /// A parameter, or a field of one (`get_user.domain`, `self.allow_token`), that a guard tests: its
    /// position, and the field.
    fn guard_target(&self, e: &Expr) -> Option<(usize, Option<String>)> {
        if let Some(p) = self.param_at(e) {
            return Some((p, None));
        }
        let Expr::Field(f) = through_views(e, &["as_ref", "as_deref", "clone"]) else {
            return None;
        };
        let syn::Member::Named(field) = &f.member else {
            return None;
        };
        Some((self.param_at(&f.base)?, Some(field.to_string())))
    }

    /// Types the item a loop or an iterator closure binds (`for a in &attachments`, `|a| ..` over
    /// `attachments.iter()`) as the collection's items: collection types are reduced to their item type
    /// (`Vec<Attachment>` is `Attachment`), so the item has the collection's type name.
    fn type_element(&mut self, pat: &syn::Pat, iterable: &Expr) {
        let item = single_ident(pat);
        let elems = tuple_idents(pat);
        if item.is_none() && elems.is_none() {
            return;
        }
        let Some(ty) = self.element_type(iterable) else {
            return;
        };
        let Some(ctx) = self.ctx() else { return };
        match (item, elems) {
            (Some(item), _) => ctx.type_local(item, ty),
            // `for (article, _) in rows` over `load::<(Article, User)>(..)`: each name by its element.
            (None, Some(elems)) => {
                for (i, elem) in elems.into_iter().enumerate() {
                    if let Some(elem) = elem {
                        ctx.type_local(elem, format!("{ty}{}{i}", super::ELEMENT));
                    }
                }
            }
            (None, None) => {}
        }
    }

    /// The type of the items a loop or an iterator adapter walks, as far as it is known.
    fn element_type(&mut self, iterable: &Expr) -> Option<String> {
        // The collection under the calls that iterate it and keep its items as they are:
        // `self.authors(conn)?.into_iter().filter(..)` iterates what `authors` returns.
        let mut root = driver::strip_plumbing(iterable);
        loop {
            match root {
                Expr::Reference(r) => root = driver::strip_plumbing(&r.expr),
                Expr::MethodCall(m)
                    if matches!(
                        m.method.to_string().as_str(),
                        "iter"
                            | "into_iter"
                            | "iter_mut"
                            | "cloned"
                            | "copied"
                            | "rev"
                            | "filter"
                            | "skip"
                            | "take"
                            | "clone"
                    ) =>
                {
                    root = driver::strip_plumbing(&m.receiver)
                }
                _ => break,
            }
        }
        // `for m in Member::list(conn)?`: the items of what the call returns.
        if matches!(
            driver::strip_plumbing(root),
            Expr::Call(_) | Expr::MethodCall(_)
        ) {
            return self.expr_type(root);
        }
        let collection = single_path_ident(driver::strip_plumbing(root))?;
        self.binding_type(&collection)
    }

    /// The type of the current binding of a local or parameter: the latest local of that name, else the
    /// parameter.
    fn binding_type(&self, name: &str) -> Option<String> {
        let ctx = self.fns.last()?;
        let name = ctx.current_name(name.to_string());
        ctx.local_types
            .iter()
            .rev()
            .chain(ctx.params.iter())
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.clone())
    }

    /// Records a call that is not awaited where it stands.
    fn plain_call(&mut self, callee: Callee, start: Span, call: Span, mark: usize) {
        let loc = self.compact(start, None, call);
        self.push_call(callee, loc, mark, false);
    }

    fn push_call(&mut self, callee: Callee, loc: Loc, mark: usize, awaited: bool) {
        self.push_call_on(callee, loc, mark, awaited, false);
    }

    fn push_call_on(
        &mut self,
        callee: Callee,
        loc: Loc,
        mark: usize,
        awaited: bool,
        on_connection: bool,
    ) {
        let after = self.deps_since(mark);
        let Some(ctx) = self.ctx() else { return };
        let id = ctx.id();
        ctx.push(Step::Call(Call {
            awaited,
            after,
            on_connection,
            ..Call::new(id, loc, callee)
        }));
    }

    /// Whether a call's arguments hand it a transaction or a connection: named so (`tx`, `txn`,
    /// `transaction`), typed so (a parameter of a `*Transaction`/`*Txn` type), a local made by `begin()`
    /// or taken from a pool, or a `&mut` borrow of a parameter typed as a connection.
    fn passes_connection<'e>(&self, args: impl IntoIterator<Item = &'e Expr>) -> bool {
        let Some(ctx) = self.fns.last() else {
            return false;
        };
        args.into_iter().any(|arg| {
            let (text, mutable) = driver::executor_text(arg);
            let head = text.split(['.', '(']).next().unwrap_or("");
            if head.is_empty() {
                return false;
            }
            let typed = self.param_type(head);
            let tx_named = matches!(head, "tx" | "txn" | "transaction");
            let tx_typed = typed.is_some_and(transaction_type);
            let conn_typed = typed.is_some_and(|t| t.contains("Connection") || t.ends_with("Conn"));
            let local = matches!(
                ctx.locals.get(head),
                Some(Local::Executor { connection, transaction, .. }) if *connection || *transaction
            );
            tx_named || tx_typed || local || (mutable && conn_typed)
        })
    }

    /// A closure that hands back an unsent query's future (`|order| Entity::find().order_by(..).one(db)`):
    /// each call of it sends the query where its caller awaits it.
    fn returns_query(&self, closure: &syn::ExprClosure) -> bool {
        let Some(tail) = router::tail(&closure.body) else {
            return false;
        };
        !contains_await(tail) && driver::trip_shape(tail, self.catalog, |_| None).is_some()
    }

    /// Is this `new_transform` in an `impl Transform<S, ServiceRequest> for ..` (an actix middleware)?
    fn actix_transform(&self, name: &syn::Ident) -> bool {
        name == "new_transform"
            && self
                .impl_ctx
                .as_ref()
                .is_some_and(|(_, t)| t.as_deref() == Some("Transform"))
    }

    /// `Self::NewHistoryEntity` in an `impl` that says `type NewHistoryEntity = NewContributionHistory;`:
    /// that type.
    fn assoc_type(&self, ty: &syn::Type) -> Option<String> {
        // `&Self::Repo` too: a getter hands back a reference to it.
        let syn::Type::Path(tp) = peel_refs(ty) else {
            return None;
        };
        let [first, name] = tp.path.segments.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        if first.ident != "Self" {
            return None;
        }
        let name = name.ident.to_string();
        self.impl_assoc
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, t)| t.clone())
    }

    /// The type of the current function's parameter (or typed local) `name`.
    /// What a method call reaches: a method of the receiver, or where the library hands the call on to
    /// the analysed code: rocket's `request.guard::<User>()` (awaited, or rocket 0.4's synchronous one)
    /// is that guard's `from_request`; actix's `addr.send(GetTags {})` is the `handle` of the actor's
    /// `impl Handler<GetTags>`, which runs while the request waits for the reply (`do_send` and
    /// `try_send` wait for none).
    fn method_callee(&mut self, m: &syn::ExprMethodCall) -> Callee {
        let method = driver::ident(&m.method);
        if method == "guard" && m.args.is_empty() {
            let guard = m.turbofish.as_ref().and_then(|t| match t.args.first() {
                Some(syn::GenericArgument::Type(ty)) => core_type(ty),
                _ => None,
            });
            if let Some(g) = guard {
                return Callee::Path(vec![g, "from_request".to_string()]);
            }
        }
        if method == "send" && m.args.len() == 1 {
            if let Some(msg) = self.message_type(&m.args[0]) {
                return Callee::Path(vec![msg, super::ACTOR_HANDLE.to_string()]);
            }
        }
        Callee::Method {
            name: method,
            receiver: self.receiver_path(&m.receiver),
            args: m.args.len(),
        }
    }

    /// The type of a message handed to an actor: a struct written in place (`GetTags {}`,
    /// `CreateArticle { auth, article }`) or a parameter or local typed so.
    fn message_type(&self, arg: &Expr) -> Option<String> {
        let upper = |t: &String| t.starts_with(|c: char| c.is_ascii_uppercase());
        match driver::strip_plumbing(arg) {
            Expr::Struct(st) => driver::path_segments(&st.path).pop().filter(upper),
            Expr::Path(p) => {
                let name = p.path.get_ident()?.to_string();
                let typed = self.param_type(&name).map(str::to_string).or_else(|| {
                    let ctx = self.fns.last()?;
                    let local = ctx.local_types.iter().rev().find(|(n, _)| *n == name);
                    local.map(|(_, t)| t.clone())
                });
                typed.filter(upper)
            }
            _ => None,
        }
    }

    fn param_type(&self, name: &str) -> Option<&str> {
        let ctx = self.fns.last()?;
        ctx.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, t)| t.as_str())
    }

    /// The primary span of an awaited call: from the call through `.await` when that fits on one line,
    /// else through the call's arguments, else the call's name alone.
    fn compact(&self, start: Span, await_span: Option<Span>, call: Span) -> Loc {
        let name = self.loc(start);
        let candidates = [await_span, Some(call)];
        for end in candidates.into_iter().flatten() {
            let loc = self.index.loc_between(start, end);
            if end.end().line as u32 == name.line && loc.len > 0 {
                return loc;
            }
        }
        name
    }

    fn trip(&mut self, shape: TripShape<'_>, await_span: Option<Span>, mark: usize) {
        let start = shape.start;
        let settings = (shape.settings > 0).then(|| {
            let sql = SqlRef::Text("SET TRANSACTION".into());
            let set = TripShape {
                kind: TripKind::Setting,
                api: format!("{}: SET TRANSACTION", shape.api),
                sql,
                executor: shape.executor,
                start,
                call: shape.call,
                access: None,
                database: shape.database.clone(),
                service: false,
                checkout: false,
                prepares_text: false,
                settings: 0,
                statements: 1,
                method: None,
                locks: false,
                origin: shape.origin,
            };
            (shape.settings, set)
        });
        // The statements after the first that the call sends in turn.
        let more = (shape.statements > 1).then(|| {
            let mut next = shape.clone();
            next.statements = 1;
            next.settings = 0;
            (shape.statements - 1, next)
        });
        let loc = self.compact(start, await_span, shape.call);
        let call_loc = self.loc(start);
        let (mut executor, mut on_connection, mut in_transaction) = (None, false, false);
        if let Some(e) = shape.executor {
            let (text, mutable) = driver::executor_text(e);
            // `&mut conn`, or a transaction handed in (`txn`, `&tx`, a request-wide `DbTxn`).
            let head = text.split(['.', '(']).next().unwrap_or("");
            let tx_named = text
                .split(|c: char| !c.is_alphanumeric() && c != '_')
                .any(|w| matches!(w, "tx" | "txn" | "transaction"));
            let tx_typed = self.param_type(head).is_some_and(transaction_type);
            // `&mut pool.get().await?`: a connection taken for this statement alone.
            let fresh = driver::fresh_connection(e);
            on_connection = mutable && !fresh || tx_named || tx_typed;
            let head = text.split(['.', '(']).next().unwrap_or("").to_string();
            let local = self.fns.last().and_then(|c| c.locals.get(&head)).cloned();
            executor = Some(match local {
                Some(Local::Executor {
                    expr,
                    connection,
                    transaction,
                }) => {
                    on_connection |= connection || transaction;
                    in_transaction = transaction;
                    format!("{expr}{}", &text[head.len()..])
                }
                _ => text,
            });
        }
        if self.tx_depth > 0 {
            in_transaction = true;
            on_connection = true;
        }
        // SQLite runs in the process: its queries are no network round trips (a cache or an HTTP API
        // the same code calls still is).
        let in_process = self.sqlite_file && !shape.service
            || executor.as_deref().is_some_and(|e| {
                let head = e.split(['.', '(']).next().unwrap_or("");
                let typed = self.param_type(head);
                e.to_lowercase().contains("sqlite") || typed.is_some_and(|t| t.contains("Sqlite"))
            });
        // SQL text, not a statement prepared before: the library prepares it first.
        let prepare = shape.prepares_text
            && match &shape.sql {
                SqlRef::Text(_) | SqlRef::Const(_) => true,
                SqlRef::Local(name) => self
                    .fns
                    .last()
                    .is_some_and(|c| !c.statements.contains(name)),
                SqlRef::Unknown => false,
            };
        let (sql, sql_const) = match shape.sql {
            SqlRef::Text(t) => (Some(t), None),
            SqlRef::Const(c) => (None, Some(c)),
            SqlRef::Local(name) => match self.fns.last().and_then(|c| c.locals.get(&name)) {
                Some(Local::Query(SqlRef::Text(t), _)) => (Some(t.clone()), None),
                Some(Local::Query(SqlRef::Const(c), _)) => (None, Some(c.clone())),
                _ => (None, None),
            },
            SqlRef::Unknown => (None, None),
        };
        let after = self.deps_since(mark);
        // A method of the analysed code's own type may be what the name means, unless the receiver is a
        // field that holds the library's own value (`self.inner.query_one(..)` in a wrapper of the same
        // name).
        let or_method = shape
            .method
            .filter(|m| !self.library_field(&m.receiver))
            .map(|m| Callee::Method {
                name: driver::ident(&m.method),
                receiver: self.receiver_path(&m.receiver),
                args: m.args.len(),
            });
        let key = self.trip_key.take();
        let Some(ctx) = self.ctx() else { return };
        let id = ctx.id();
        let trip = Step::Trip(Trip {
            id,
            loc,
            call_loc,
            kind: shape.kind,
            api: shape.api,
            sql,
            sql_const,
            executor,
            on_connection,
            in_transaction,
            after,
            access: shape.access,
            database: shape.database,
            service: shape.service,
            in_process,
            checkout: shape.checkout
                && (shape.kind == TripKind::Check || !on_connection && !in_transaction),
            prepare,
            target: None,
            or_method,
            locks: shape.locks,
            origin: shape.origin,
            key,
        });
        ctx.push(trip);
        if let Some((n, next)) = more {
            for _ in 0..n {
                let mark = self.new_mark();
                self.trip(next.clone(), await_span, mark);
            }
        }
        // The transaction's settings, each a statement of its own sent after the BEGIN.
        if let Some((n, set)) = settings {
            self.tx_depth += 1;
            for _ in 1..n {
                let mark = self.new_mark();
                self.trip(set.clone(), await_span, mark);
            }
            let mark = self.new_mark();
            self.trip(set, await_span, mark);
            self.tx_depth -= 1;
        }
    }

    /// `conn.transaction(|c| async move { .. })`: BEGIN, the closure's statements on the transaction,
    /// COMMIT.
    fn transaction_closure(
        &mut self,
        m: &syn::ExprMethodCall,
        await_span: Option<Span>,
        mark: usize,
    ) {
        // sea-orm's `db.transaction_with_config(|txn| .., Some(level), None)`: a `SET TRANSACTION ..`
        // statement per setting given.
        let settings = if m.method == "transaction_with_config" {
            m.args.iter().filter(|a| driver::is_some_call(a)).count()
        } else {
            0
        };
        let shape = |kind: TripKind, sql: &str| TripShape {
            kind,
            api: format!(".{}(|..| ..)", m.method),
            sql: SqlRef::Text(sql.into()),
            executor: Some(&*m.receiver),
            start: m.method.span(),
            call: span::of_method_call(m),
            access: None,
            database: None,
            service: false,
            checkout: false,
            prepares_text: false,
            settings: if kind == TripKind::Begin { settings } else { 0 },
            statements: 1,
            // The analysed code's own `transaction` method (`self.transaction(|tx| ..)` in `impl
            // Database`) answers the call instead, where the receiver is of its type.
            method: Some(m),
            locks: false,
            origin: None,
        };
        self.trip(shape(TripKind::Begin, "BEGIN"), None, mark);
        self.tx_depth += 1;
        for arg in &m.args {
            match arg {
                Expr::Closure(c) => {
                    // The closure's parameter is the transaction, whatever its name (`|t| ..`): the
                    // statements sent on it are round trips.
                    let names: Vec<String> = c.inputs.iter().filter_map(single_ident).collect();
                    let shadowed: Vec<(String, Option<Local>)> = names
                        .into_iter()
                        .filter_map(|name| {
                            let local = Local::Executor {
                                expr: name.clone(),
                                connection: true,
                                transaction: true,
                            };
                            let old = self.ctx()?.locals.insert(name.clone(), local);
                            Some((name, old))
                        })
                        .collect();
                    self.future(&c.body);
                    if let Some(ctx) = self.ctx() {
                        for (name, old) in shadowed {
                            match old {
                                Some(old) => ctx.locals.insert(name, old),
                                None => ctx.locals.remove(&name),
                            };
                        }
                    }
                }
                other => self.visit_expr(other),
            }
        }
        self.tx_depth -= 1;
        let mark = self.new_mark();
        self.trip(shape(TripKind::Commit, "COMMIT"), await_span, mark);
    }

    /// Visits only the arguments along a method chain (binds, closures), not the chain's calls. The
    /// closures of `and_then`/`then` run on what the chain yields: they are returned with the
    /// expression they follow, not visited.
    fn visit_chain_args<'e>(&mut self, expr: &'e Expr) -> Vec<(&'e syn::ExprClosure, &'e Expr)> {
        let (root, calls) = driver::chain(expr);
        match root {
            Expr::Call(c) => c.args.iter().for_each(|a| self.visit_expr(a)),
            Expr::Macro(_) => {}
            other => self.visit_expr(other),
        }
        let mut then = Vec::new();
        for call in calls {
            for arg in &call.args {
                match arg {
                    Expr::Closure(c)
                        if matches!(call.method.to_string().as_str(), "and_then" | "then") =>
                    {
                        then.push((c, &*call.receiver))
                    }
                    other => self.visit_expr(other),
                }
            }
        }
        then
    }

    /// A group of futures run at once: each argument is a branch.
    fn concurrent(&mut self, form: String, span: Span, args: &[&Expr]) {
        let mut branches = Vec::new();
        // `join_all(futs)` over a vector the futures were pushed into: each push is a branch.
        if let [arg] = args {
            let name = single_path_ident(driver::strip_plumbing(arg));
            let set = name
                .clone()
                .and_then(|n| self.ctx().and_then(|c| c.future_sets.remove(&n)));
            if let Some(set) = set {
                branches = set;
            }
            // An iterator of futures made earlier: its steps move here.
            let made = name.and_then(|n| self.ctx().and_then(|c| c.future_iters.remove(&n)));
            if let (Some((ids, joined)), Some(ctx)) = (made, self.ctx()) {
                for frame in ctx.frames.iter_mut() {
                    frame.retain(|s| !step_ids(s).iter().any(|id| ids.contains(id)));
                }
                branches = vec![joined];
            }
        }
        let joined_set = !branches.is_empty();
        for arg in args.iter().filter(|_| !joined_set) {
            let branch = self.frame(|v| v.future(arg));
            branches.push(branch);
        }
        let loc = self.loc(span);
        if branches.iter().any(|b| !b.is_empty()) {
            if let Some(ctx) = self.ctx() {
                ctx.push(Step::Concurrent(Concurrent {
                    loc,
                    form,
                    branches,
                    at_once: None,
                }));
            }
        }
    }

    /// A future expression that a join awaits: `load(id)`, `async { … }`, `ids.iter().map(|id| load(id))`.
    fn future(&mut self, expr: &Expr) {
        match expr {
            Expr::Closure(c) => self.future(&c.body),
            Expr::Async(a) => self.visit_block(&a.block),
            Expr::Block(b) => self.future_block(&b.block),
            // `if c { a.left_future() } else { b.right_future() }`: one of the two runs.
            Expr::If(i) => {
                self.visit_expr(&i.cond);
                let then = self.frame(|v| v.future_block(&i.then_branch));
                let other = match &i.else_branch {
                    Some((_, e)) => self.frame(|v| v.future(e)),
                    None => Vec::new(),
                };
                if let Some(ctx) = self.ctx() {
                    ctx.push(Step::Branch(vec![then, other]));
                }
            }
            Expr::Reference(r) => self.future(&r.expr),
            Expr::Paren(p) => self.future(&p.expr),
            // What a macro's rule passed on (`$fut`).
            Expr::Group(g) => self.future(&g.expr),
            Expr::MethodCall(m) => {
                // An iterator of futures: the closure of `map` is one branch.
                let closure = m.args.iter().find(|a| matches!(a, Expr::Closure(_)));
                match closure {
                    Some(c)
                        if matches!(
                            m.method.to_string().as_str(),
                            "map" | "flat_map" | "filter_map"
                        ) =>
                    {
                        self.visit_expr(&m.receiver);
                        self.future(c);
                    }
                    _ if matches!(
                        m.method.to_string().as_str(),
                        "collect" | "into_iter" | "iter"
                    ) =>
                    {
                        self.future(&m.receiver)
                    }
                    _ => self.awaited(expr, None),
                }
            }
            // `assert_send(fut)`, `timeout(limit, fut)`: a wrapper around a future held in a local.
            Expr::Call(c) => match self.wraps_pending(c) {
                Some(inner) => self.future(inner),
                None => self.awaited(expr, None),
            },
            Expr::Path(_) => self.awaited(expr, None),
            other => self.visit_expr(other),
        }
    }

    /// An option of a future, awaited where it holds one: `opt.map(|x| x.fetch())`,
    /// `url.and_then(|u| embed.map(|e| e.fetch(u)))`. Each closure's parameter is what the option holds.
    fn optional_future(&mut self, e: &Expr) {
        if let Expr::MethodCall(m) = e {
            if let (true, [Expr::Closure(c)]) = (
                matches!(m.method.to_string().as_str(), "map" | "and_then"),
                &m.args.iter().collect::<Vec<_>>()[..],
            ) {
                self.visit_expr(&m.receiver);
                self.type_closure_input(c, &m.receiver);
                let held = self.frame(|v| v.optional_future(&c.body));
                if let Some(ctx) = self.ctx() {
                    ctx.push(Step::Branch(vec![held, Vec::new()]));
                }
                return;
            }
        }
        match e {
            Expr::Paren(p) => self.optional_future(&p.expr),
            Expr::Group(g) => self.optional_future(&g.expr),
            other => self.future(other),
        }
    }

    /// The argument of a one-argument call (`assert_send(fut)`) that is a future held in a local, not
    /// yet awaited, that makes round trips.
    fn wraps_pending<'e>(&self, c: &'e syn::ExprCall) -> Option<&'e Expr> {
        let ctx = self.fns.last()?;
        let [mut arg] = c.args.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        // `task_fn(reporter)`: a closure the function was handed, called, not a wrapper.
        if single_path_ident(&c.func).is_some_and(|f| ctx.param_pos.contains_key(&f)) {
            return None;
        }
        while let Expr::Group(g) = arg {
            arg = &g.expr;
        }
        let name = single_path_ident(arg)?;
        ctx.pending
            .get(&name)
            .is_some_and(|steps| !steps.is_empty())
            .then_some(arg)
    }

    /// A block whose value is a future: its statements run, then its last expression is awaited.
    fn future_block(&mut self, block: &syn::Block) {
        match block.stmts.split_last() {
            Some((syn::Stmt::Expr(last, None), rest)) => {
                rest.iter().for_each(|s| self.visit_stmt(s));
                self.future(last);
            }
            _ => self.visit_block(block),
        }
    }

    /// `stream.then(|x| async { … }).collect().await` (a loop) or with `buffer_unordered(n)` (concurrent).
    fn stream_adapter(&mut self, base: &Expr) -> bool {
        let (root, calls) = driver::chain(base);
        let concurrent = calls
            .iter()
            .any(|c| driver::is_concurrent_adapter(&c.method.to_string()));
        // An awaited chain that drains a stream: the closures of its adapters return futures, `async`
        // or not (`.and_then(|x| mapper.map(x)).try_collect()`); with a buffer, `map`'s do too.
        let drained = concurrent
            || calls
                .last()
                .is_some_and(|c| driver::is_stream_drain(&c.method.to_string()));
        // An iterator's closures run in place (`xs.into_iter().filter_map(..).collect()`).
        let over_items = calls
            .iter()
            .any(|c| driver::makes_iterator(&c.method.to_string()));
        let async_closure = calls.iter().find_map(|c| {
            let name = c.method.to_string();
            if !driver::is_sequential_adapter(&name) && !driver::is_concurrent_adapter(&name) {
                return None;
            }
            let takes_future = drained && !over_items && (name != "map" || concurrent);
            c.args.iter().find_map(|a| match a {
                Expr::Closure(cl) if returns_future(cl) || takes_future => Some((cl, *c)),
                _ => None,
            })
        });
        // `stream::iter(xs.into_iter().map(|x| async move { .. })).buffered(4)`: the futures the iterator
        // makes are the stream's items, run as its buffer lets them.
        let (closure, adapter, walked) = match async_closure {
            Some((closure, adapter)) => (closure, adapter, root),
            None => {
                let Some((closure, items)) = futures_of_iterator(root).filter(|_| concurrent)
                else {
                    return false;
                };
                let adapter = calls
                    .iter()
                    .find(|c| driver::is_concurrent_adapter(&c.method.to_string()));
                let Some(adapter) = adapter else { return false };
                (closure, *adapter, items)
            }
        };
        self.visit_expr(walked);
        // `service.posts(..).await?.map_err(..).and_then(|post| mapper.map(post))`: the closure's
        // parameter is one of the stream's items, typed as what the call that made it returns.
        let keeps_items = calls
            .iter()
            .take_while(|c| !std::ptr::eq(**c, adapter))
            .all(|c| {
                matches!(
                    c.method.to_string().as_str(),
                    "map_err" | "err_into" | "boxed" | "fuse"
                )
            });
        if let ([syn::Pat::Ident(param)], true) = (
            &closure.inputs.iter().cloned().collect::<Vec<_>>()[..],
            keeps_items && std::ptr::eq(walked, root),
        ) {
            if let Some(ty) = self.expr_type(root) {
                let name = param.ident.to_string();
                if let Some(ctx) = self.ctx() {
                    ctx.type_local(name, ty);
                }
            }
        }
        let body = self.frame(|v| v.future(&closure.body));
        let loc = self.loc(adapter.method.span());
        if body.is_empty() {
            return true;
        }
        let at_once = calls
            .iter()
            .find(|c| driver::is_concurrent_adapter(&c.method.to_string()))
            .and_then(|c| c.args.first())
            .and_then(|bound| self.bound(bound));
        if let Some(ctx) = self.ctx() {
            if concurrent {
                let form = format!(
                    ".{}",
                    calls
                        .iter()
                        .map(|c| c.method.to_string())
                        .find(|n| driver::is_concurrent_adapter(n))
                        .unwrap_or_default()
                );
                ctx.push(Step::Concurrent(Concurrent {
                    loc,
                    form,
                    branches: vec![body],
                    at_once,
                }));
            } else {
                ctx.push(Step::Loop(LoopStep {
                    loc,
                    body,
                    ..LoopStep::default()
                }));
            }
        }
        true
    }

    /// How many a stream adapter runs at once, where the code says: `4`, `Some(4)`, a constant of the
    /// file (`SUMMARY_CONCURRENCY`). None for `None` (no bound) and what is not read.
    fn bound(&self, arg: &Expr) -> Option<u32> {
        match driver::strip_plumbing(arg) {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Int(n),
                ..
            }) => n.base10_parse().ok().filter(|&n| n > 0),
            Expr::Call(c)
                if c.args.len() == 1
                    && matches!(&*c.func, Expr::Path(p) if p.path.is_ident("Some")) =>
            {
                self.bound(&c.args[0])
            }
            Expr::Path(p) => self.numbers.get(&driver::last_segment(&p.path)).copied(),
            _ => None,
        }
    }

    /// `let set = FuturesUnordered::new();` or `let set: FuturesUnordered<_> = xs.map(|x| f(x)).collect();`
    /// starts a set of futures that run at once when it is drained. Returns true if `init` was one.
    fn future_set_local(&mut self, name: &str, pat: &syn::Pat, init: &Expr) -> bool {
        let mentions_set = |text: String| {
            ["FuturesUnordered", "FuturesOrdered", "JoinSet"]
                .iter()
                .any(|t| text.contains(t))
        };
        let inner = driver::strip_plumbing(init);
        let (root, calls) = driver::chain(inner);
        let new_set = calls.is_empty()
            && matches!(root, Expr::Call(c) if mentions_set(quote::ToTokens::to_token_stream(&c.func).to_string()));
        let collected = calls.last().is_some_and(|c| {
            c.method == "collect"
                && (c.turbofish.as_ref().is_some_and(|t| mentions_set(quote::ToTokens::to_token_stream(t).to_string()))
                    || matches!(pat, syn::Pat::Type(t) if mentions_set(quote::ToTokens::to_token_stream(&t.ty).to_string())))
        });
        if !new_set && !collected {
            let segs = match root {
                Expr::Call(c) if calls.is_empty() => match &*c.func {
                    Expr::Path(p) => driver::path_segments(&p.path),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            };
            let new_vec = segs.len() >= 2
                && segs[segs.len() - 2] == "Vec"
                && matches!(segs[segs.len() - 1].as_str(), "new" | "with_capacity");
            let empty_macro = matches!(root, Expr::Macro(m) if driver::last_segment(&m.mac.path) == "vec" && m.mac.tokens.is_empty());
            if new_vec || empty_macro {
                if let Some(ctx) = self.ctx() {
                    ctx.vectors.insert(name.to_string());
                }
            }
            return false;
        }
        let branches = if collected {
            let branch = self.frame(|v| v.future(inner));
            vec![branch]
        } else {
            Vec::new()
        };
        if let Some(ctx) = self.ctx() {
            ctx.future_sets.insert(name.to_string(), branches);
        }
        true
    }

    /// `let f = load(id);` or `let f = query(…).fetch_all(&pool);` with no `.await`: the future runs
    /// where `f` is awaited or joined. Returns true if `init` was such a future.
    fn pending_future(&mut self, name: &str, defines: Vec<String>, init: &Expr) -> bool {
        let inner = match init {
            Expr::Paren(p) => &*p.expr,
            other => other,
        };
        // An async block runs only where it is awaited or joined, like a call's future.
        let lazy_block = matches!(inner, Expr::Async(_));
        let call_like = matches!(inner, Expr::Call(_) | Expr::MethodCall(_));
        // A stream whose adapter awaits in its own closure (`stream::iter(xs).then(|x| async { .. })`)
        // runs where it is drained.
        let lazy_stream = driver::chain(inner).1.iter().any(|c| {
            driver::is_sequential_adapter(&c.method.to_string())
                && c.args
                    .iter()
                    .any(|a| matches!(a, Expr::Closure(cl) if returns_future(cl)))
                && !contains_await(&c.receiver)
        });
        if !(call_like || lazy_block)
            || (call_like && contains_await(inner) && !lazy_stream)
            || looks_like_router(inner)
        {
            return false;
        }
        if let Expr::MethodCall(m) = inner {
            // A copy of a value (`let pool = state.db.clone();`) is no future.
            if m.args.is_empty()
                && matches!(
                    m.method.to_string().as_str(),
                    "clone" | "to_owned" | "to_string" | "cloned" | "copied"
                )
            {
                return false;
            }
            // A stream, or an iterator's adapter whose closure runs here, once per item.
            if driver::unawaited_stream(m, self.catalog).is_some()
                || iterator_closure_of(m).is_some()
            {
                return false;
            }
        }
        // A query builder is not a future until a terminal call sends it.
        let builder = driver::query_root(driver::chain(inner).0, self.catalog).is_some();
        if builder && driver::trip_shape(inner, self.catalog, |_| None).is_none() {
            return false;
        }
        // The steps stay where the value is made (a synchronous call, or a future nobody awaits); if
        // `name` is awaited or joined later, they move there.
        let name = name.to_string();
        self.statement(Some(init), defines, Vec::new(), |v| {
            let steps = v.frame(|v| v.awaited(inner, None));
            if let Some(ctx) = v.ctx() {
                if steps.is_empty() {
                    ctx.pending.remove(&name);
                } else {
                    ctx.pending.insert(name, steps.clone());
                    steps.into_iter().for_each(|s| ctx.push(s));
                }
            }
        });
        true
    }

    /// `let h = tokio::spawn(fut);`: the task starts now and the request waits for it where `h` is
    /// awaited. Returns true if `init` spawns a task whose handle `name` holds.
    fn spawned_handle(&mut self, name: &str, defines: Vec<String>, init: &Expr) -> bool {
        let mut init = init;
        while let Expr::Paren(syn::ExprParen { expr, .. })
        | Expr::Group(syn::ExprGroup { expr, .. }) = init
        {
            init = expr;
        }
        let Expr::Call(call) = init else {
            return false;
        };
        let Expr::Path(p) = &*call.func else {
            return false;
        };
        // A bare `spawn(fut)` is tokio's, imported (`use tokio::spawn;`), when its handle is kept.
        let bare = p.path.get_ident().is_some_and(|i| i == "spawn");
        let [fut] = call.args.iter().collect::<Vec<_>>()[..] else {
            return false;
        };
        if !(driver::is_spawn(&p.path) || bare) {
            return false;
        }
        let loc = self.loc(p.path.span());
        let name = name.to_string();
        self.statement(Some(init), defines, Vec::new(), |v| {
            let steps = v.frame(|v| v.future(fut));
            if let Some(ctx) = v.ctx() {
                ctx.pending.insert(name.clone(), steps);
                ctx.spawned.retain(|(n, _)| *n != name);
                ctx.spawned.push((name, loc));
            }
        });
        true
    }

    /// Awaiting one task's handle: every task spawned before it and not yet awaited has run alongside
    /// it, so they are joined here, at once. Returns true if `name` is such a handle.
    fn join_spawned(&mut self, name: &str, span: Span) -> bool {
        let loc = self.loc(span);
        let Some(ctx) = self.ctx() else { return false };
        if !ctx.spawned.iter().any(|(n, _)| n == name) {
            return false;
        }
        let mut branches = Vec::new();
        for (n, _) in std::mem::take(&mut ctx.spawned) {
            if let Some(steps) = ctx.pending.remove(&n) {
                if !steps.is_empty() {
                    branches.push(steps);
                }
            }
        }
        match branches.len() {
            0 => {}
            1 => branches.into_iter().flatten().for_each(|s| ctx.push(s)),
            _ => ctx.push(Step::Concurrent(Concurrent {
                loc,
                form: "spawn".into(),
                branches,
                at_once: None,
            })),
        }
        true
    }

    /// `for handle in handles { handle.await }` over the handles of spawned tasks: the tasks have run
    /// alongside each other since they were spawned, so the loop waits for the costliest once.
    fn join_task_set(&mut self, iterated: &Expr) {
        let mut e = driver::strip_plumbing(iterated);
        loop {
            e = match e {
                Expr::Reference(r) => &r.expr,
                Expr::MethodCall(m)
                    if matches!(
                        m.method.to_string().as_str(),
                        "into_iter" | "iter_mut" | "drain"
                    ) =>
                {
                    &m.receiver
                }
                _ => break,
            };
        }
        let Some(name) = single_path_ident(e) else {
            return;
        };
        let loc = self.loc(span::of(e));
        let Some(ctx) = self.ctx() else { return };
        if !ctx.task_sets.remove(&name) {
            return;
        }
        let branches = ctx.future_sets.remove(&name).unwrap_or_default();
        if branches.iter().any(|b| !b.is_empty()) {
            ctx.push(Step::Concurrent(Concurrent {
                loc,
                form: "spawn".into(),
                branches,
                at_once: None,
            }));
        }
    }

    /// Tasks whose handles are never awaited run off the request path, like any detached task.
    fn detach_unawaited_handles(&mut self) {
        let Some(ctx) = self.ctx() else { return };
        let left: Vec<(Loc, Vec<Step>)> = std::mem::take(&mut ctx.spawned)
            .into_iter()
            .filter_map(|(n, loc)| ctx.pending.remove(&n).map(|steps| (loc, steps)))
            .collect();
        for (loc, body) in left {
            self.detached_task(loc, Vec::new(), body);
        }
    }

    /// Moves the steps of a future made earlier (`let f = load(id);`) to where it is awaited.
    fn take_pending(&mut self, name: &str) -> bool {
        let Some(ctx) = self.ctx() else { return false };
        let Some(steps) = ctx.pending.remove(name) else {
            return false;
        };
        // Removed from where it was made, nested steps too (a branch inside an async block).
        let ids: std::collections::HashSet<u32> = steps.iter().flat_map(step_ids).collect();
        for frame in ctx.frames.iter_mut() {
            frame.retain(|s| !step_ids(s).iter().any(|id| ids.contains(id)));
        }
        steps.into_iter().for_each(|s| ctx.push(s));
        true
    }

    /// Names bound by a pattern take their value (and so their dependencies) from `from`.
    fn bind(&mut self, pat: &syn::Pat, from: &Expr, made: &[u32]) {
        self.type_pattern(pat, from);
        let mut names = Vec::new();
        pat_idents(pat, &mut names);
        let uses = idents_used(from);
        let Some(ctx) = self.ctx() else { return };
        let mut deps = ctx.origins(&uses);
        deps.extend(&ctx.stmt_deps);
        deps.extend(made);
        deps.sort_unstable();
        deps.dedup();
        for n in names {
            ctx.origin.insert(n, deps.clone());
        }
    }

    /// An `if` or `while` condition. In a let chain (`if let Some(user) = find(..).await && let Some(m) =
    /// member(&user.id).await`) each `let` binds its names before the next part runs, so a round trip
    /// that uses them waits for the one that made them.
    fn condition(&mut self, cond: &Expr) {
        match cond {
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) && has_let(cond) => {
                self.condition(&b.left);
                self.controlled_by(&b.right, &[], |v| v.condition(&b.right));
            }
            Expr::Let(l) if self.in_fn() => {
                let mark = self.new_mark();
                self.visit_expr(&l.expr);
                let made = self.made_since(mark);
                self.bind(&l.pat, &l.expr, &made);
                let held = some_binding(&l.pat).zip(self.guard_target(&l.expr));
                if let (Some((name, target)), Some(ctx)) = (held, self.ctx()) {
                    ctx.unwrapped.insert(name, target);
                }
            }
            other => self.visit_expr(other),
        }
    }

    /// Runs `f` with the dependencies of a branch condition added: what runs inside a branch depends
    /// on whatever decided it.
    fn controlled_by(&mut self, cond: &Expr, made: &[u32], f: impl FnOnce(&mut Self)) {
        let uses = idents_used(cond);
        let Some(ctx) = self.ctx() else {
            return f(self);
        };
        let mut extra = ctx.origins(&uses);
        extra.extend(made);
        let saved = ctx.stmt_deps.clone();
        ctx.stmt_deps.extend(extra);
        f(self);
        if let Some(ctx) = self.ctx() {
            ctx.stmt_deps = saved;
        }
    }

    /// Pushes a loop, or its body alone when no path that makes a round trip comes back for another
    /// iteration (`while let … { …; return insert(…).await }`).
    fn push_loop(&mut self, loc: Loc, mut body: Vec<Step>, count: Option<u32>, forever: bool) {
        if body.is_empty() {
            return;
        }
        let Some(ctx) = self.ctx() else { return };
        if super::repeats_io(&body) {
            ctx.push(Step::Loop(LoopStep {
                loc,
                body,
                count,
                forever,
                ..LoopStep::default()
            }));
        } else {
            super::strip_breaks(&mut body);
            body.into_iter().for_each(|s| ctx.push(s));
        }
    }

    /// How many times a loop bounded by a counter runs (see [`counter_bound`]), where the counter is a
    /// local set to a number the code writes.
    fn counted(&mut self, cond: Option<&Expr>, body: &syn::Block) -> Option<u32> {
        let ints = &self.fns.last()?.int_locals;
        counter_bound(cond, body, ints)
    }

    /// The loop just pushed waits on a timer in its body: a poll (see [`super::LoopStep::polls`]).
    fn mark_poll(&mut self, body: &syn::Block) {
        if !waits_on_timer(body) {
            return;
        }
        if let Some(Step::Loop(l)) = self.ctx().and_then(|c| c.frames.last_mut()?.last_mut()) {
            l.polls = true;
        }
    }

    /// A loop's body as steps that run once: a retry loop, whose attempt leaves the loop when it
    /// succeeds, typically makes its round trip once.
    /// How many steps the current sequence holds.
    fn frame_len(&mut self) -> usize {
        self.ctx().and_then(|c| c.frames.last()).map_or(0, Vec::len)
    }

    /// Did the current sequence, from step `mark` on, get a round trip or an awaited call?
    fn io_since(&mut self, mark: usize) -> bool {
        let Some(frame) = self.ctx().and_then(|c| c.frames.last()) else {
            return false;
        };
        frame.iter().skip(mark).any(|s| {
            let mut io = false;
            s.walk(&mut |x| {
                io |= matches!(x, Step::Trip(_)) || matches!(x, Step::Call(c) if c.awaited)
            });
            io
        })
    }

    fn push_once(&mut self, mut body: Vec<Step>) {
        super::strip_breaks(&mut body);
        if let Some(ctx) = self.ctx() {
            body.into_iter().for_each(|s| ctx.push(s));
        }
    }

    /// `set.next().await`, `set.collect().await`, `set.join_next().await`: the set's futures run at once,
    /// the first time it is drained.
    fn drain_future_set(&mut self, base: &Expr) -> bool {
        let (root, calls) = driver::chain(base);
        let Some(name) = single_path_ident(root) else {
            return false;
        };
        let drains = calls.iter().any(|c| {
            matches!(
                c.method.to_string().as_str(),
                "next" | "try_next" | "collect" | "try_collect" | "join_next" | "join_all"
            )
        });
        let Some(ctx) = self.ctx() else { return false };
        if !drains || !ctx.future_sets.contains_key(&name) {
            return false;
        }
        let branches = ctx
            .future_sets
            .get_mut(&name)
            .map(std::mem::take)
            .unwrap_or_default();
        if branches.iter().any(|b| !b.is_empty()) {
            let loc = self.loc(span::of(root));
            if let Some(ctx) = self.ctx() {
                ctx.push(Step::Concurrent(Concurrent {
                    loc,
                    form: "FuturesUnordered".into(),
                    branches,
                    at_once: None,
                }));
            }
        }
        true
    }

    /// A lookup whose loader (the call's closure, or a function handed by name) runs only on a miss:
    /// a branch the model keeps or drops as `assume.cache` says. `awaited`: the lookup is, so its
    /// loader hands back a future.
    fn cached_lookup(&mut self, m: &syn::ExprMethodCall, awaited: bool) {
        self.visit_expr(&m.receiver);
        let cell = once_per_process(m);
        let miss = self.frame(|v| {
            for arg in &m.args {
                match arg {
                    // `CIDRS.get_or_init(|| parse(..))` (std's `OnceLock`): the loader runs as it is.
                    Expr::Closure(c) if cell && !awaited => v.visit_expr(&c.body),
                    Expr::Closure(_) | Expr::Async(_) => v.future(arg),
                    // `ORM.get_or_init(connect)`: the function is called to fill it.
                    Expr::Path(f) if cell => {
                        let call: Expr = if awaited {
                            syn::parse_quote_spanned!(f.span()=> #f().await)
                        } else {
                            syn::parse_quote_spanned!(f.span()=> #f())
                        };
                        v.visit_expr(&call);
                    }
                    other => v.visit_expr(other),
                }
            }
        });
        // A cell filled without waiting (std's `OnceLock`) and without calling any function of the
        // analysed code (`REGION.get_or_init(|| env::var(..))`) is no lookup worth a case of its own.
        let mut waits = awaited;
        for step in &miss {
            step.walk(&mut |s| {
                waits |= match s {
                    Step::Trip(_) => true,
                    Step::Call(c) => match &c.callee {
                        super::Callee::Path(p) => !matches!(
                            p.first().map(String::as_str),
                            Some("std" | "core" | "alloc")
                        ),
                        _ => false,
                    },
                    _ => false,
                }
            });
        }
        if cell && !waits {
            if let Some(ctx) = self.ctx() {
                for step in miss {
                    ctx.push(step);
                }
            }
            return;
        }
        self.facts.cached_lookups |= !miss.is_empty();
        if let (false, Some(ctx)) = (miss.is_empty(), self.ctx()) {
            // A process-wide cell misses once, on the first call (`first`), which no request makes when
            // `main` fills the cell before it serves.
            let mut arm = vec![Step::Guard {
                on: super::Guarded::Cache,
                pattern: if cell { "first" } else { super::CACHE_FILLS }.into(),
            }];
            arm.extend(miss);
            ctx.push(Step::Branch(vec![arm, Vec::new()]));
        }
    }

    /// Records what a `let` binding holds: an executor alias, a transaction, a query builder.
    fn note_local(&mut self, name: &str, init: &Expr) {
        let inner = driver::strip_plumbing(init);
        // `let query = query_builder.build_query_scalar::<i64>();`: still the builder's query.
        let built = match inner {
            Expr::MethodCall(_) => self.still_query(inner),
            _ => None,
        };
        let local = match inner {
            _ if built.is_some() => built,
            Expr::MethodCall(m) if m.args.is_empty() => {
                let method = m.method.to_string();
                let (expr, _) = driver::executor_text(&m.receiver);
                let expr = self.resolve_alias(&expr);
                match method.as_str() {
                    "begin" | "transaction" => Some(Local::Executor {
                        expr,
                        connection: true,
                        transaction: true,
                    }),
                    "acquire" | "get" | "connection" | "conn" => Some(Local::Executor {
                        expr,
                        connection: method != "get",
                        transaction: false,
                    }),
                    _ => None,
                }
            }
            Expr::MethodCall(m) if m.method.to_string().starts_with("prepare") => m
                .args
                .first()
                .map(|a| Local::Query(driver::sql_ref(a), None)),
            Expr::Reference(_) | Expr::Field(_) | Expr::MethodCall(_) | Expr::Path(_) => {
                let (root, calls) = driver::chain(inner);
                if let Some(text) = driver::sea_query_text(inner) {
                    Some(Local::Query(SqlRef::Text(text), None))
                } else if let Some((builder, sql, _)) = driver::query_root(root, self.catalog) {
                    let sends = calls
                        .iter()
                        .any(|c| builder.send.iter().any(|s| c.method == s));
                    (!sends).then(|| Local::Query(self.sql_held(sql), self.builder_index(builder)))
                } else if matches!(inner, Expr::Field(_) | Expr::Reference(_))
                    || matches!(inner, Expr::MethodCall(m) if m.args.is_empty()
                        && SAME_VALUE.contains(&m.method.to_string().as_str()))
                {
                    let (expr, _) = driver::executor_text(inner);
                    Some(Local::Executor {
                        expr: self.resolve_alias(&expr),
                        connection: false,
                        transaction: false,
                    })
                } else {
                    None
                }
            }
            Expr::Call(_) | Expr::Macro(_) => match driver::query_root(inner, self.catalog) {
                Some((builder, sql, _)) => Some(Local::Query(
                    self.sql_held(sql),
                    self.builder_index(builder),
                )),
                None => sql_text_local(inner),
            },
            Expr::Lit(_) => sql_text_local(inner),
            _ => None,
        };
        let statement =
            matches!(inner, Expr::MethodCall(m) if m.method.to_string().starts_with("prepare"));
        if let Some(ctx) = self.ctx() {
            if statement {
                ctx.statements.insert(name.to_string());
            } else {
                ctx.statements.remove(name);
            }
        }
        if let (Some(local), Some(ctx)) = (local, self.ctx()) {
            ctx.locals.insert(name.to_string(), local);
        } else if let Some(ctx) = self.ctx() {
            ctx.locals.remove(name);
        }
    }

    /// The builder whose unsent query a parameter of this type holds: one of its `query-types`, written
    /// with a lifetime first (`QueryAs<'q, DB, O, A>`, through references).
    fn query_type(&self, ty: &syn::Type) -> Option<usize> {
        let syn::Type::Path(p) = peel_refs(ty) else {
            return None;
        };
        let last = p.path.segments.last()?;
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            return None;
        };
        if !matches!(args.args.first(), Some(syn::GenericArgument::Lifetime(_))) {
            return None;
        }
        self.catalog
            .builders
            .iter()
            .position(|b| b.query_types.iter().any(|t| last.ident == t))
    }

    /// A chain on a local that holds an unsent query, which does not send it (`qb.build()`,
    /// `query.bind(x)`): the same query.
    fn still_query(&self, expr: &Expr) -> Option<Local> {
        let (root, calls) = driver::chain(expr);
        let held = self.fns.last()?.locals.get(&single_path_ident(root)?)?;
        let Local::Query(sql, Some(b)) = held else {
            return None;
        };
        let builder = self.catalog.builders.get(*b)?;
        let sends = calls
            .iter()
            .any(|c| builder.send.iter().any(|s| c.method == s));
        (!sends).then(|| Local::Query(sql.clone(), Some(*b)))
    }

    fn builder_index(&self, builder: &crate::catalog::Builder) -> Option<usize> {
        self.catalog
            .builders
            .iter()
            .position(|b| std::ptr::eq(b, builder))
    }

    fn resolve_alias(&self, text: &str) -> String {
        let head = text.split(['.', '(']).next().unwrap_or("");
        match self.fns.last().and_then(|c| c.locals.get(head)) {
            Some(Local::Executor { expr, .. }) => format!("{expr}{}", &text[head.len()..]),
            _ => text.to_string(),
        }
    }

    /// Routes registered by a router expression in statement or tail position.
    fn router_expr(&mut self, expr: &Expr) -> Option<Vec<RouteEntry>> {
        self.ctx()?;
        router::eval_router(expr, self)
    }

    /// A service that routes by hand (`match req.uri().path() { "/perf/info" => .., .. }`): each arm that
    /// names a path is a route, served by what the arm does, as a closure handler would be. The other
    /// arms (`_ => not_found()`) are no request's path to price, and are left out.
    fn dispatch_routes(&mut self, e: &syn::ExprMatch) -> bool {
        let held = self.fns.last().map(|c| &c.request_paths);
        let Some(arms) = super::dispatch::path_match(e, &|n| held.and_then(|h| h.get(n).cloned()))
        else {
            return false;
        };
        self.visit_expr(&e.expr);
        for route in arms {
            let span = route.arm.pat.span();
            let body = &route.arm.body;
            let closure: syn::ExprClosure =
                syn::parse_quote_spanned!(span=> move || async move { #body });
            let handler = self.closure_handler(&closure);
            let loc = self.loc(span);
            if let Some(ctx) = self.ctx() {
                for path in route.paths {
                    ctx.routes.push(RouteEntry::Route {
                        path,
                        method: route.method.clone().unwrap_or_else(|| "ANY".into()),
                        handler: handler.clone(),
                        loc,
                        cfg: None,
                        layers: Vec::new(),
                    });
                }
            }
        }
        true
    }

    /// `let app = app.layer(auth).layer(limit);`: a router local given a layer (or a state, a fallback)
    /// and held again.
    fn grows_router_local(&self, expr: &Expr) -> bool {
        let (root, calls) = driver::chain(expr);
        // Also one a call made (`let router = tests::routes(); router.layer(auth)`), or the router the
        // function is handed.
        // A local a call made or a handed router is taken for a router only where a router's own
        // operation or layer is put on it (`tls_acceptor.clone()` is no router).
        let grown = calls.iter().any(|c| {
            router::is_router_op(c)
                || matches!(
                    c.method.to_string().as_str(),
                    "layer" | "route_layer" | "wrap" | "wrap_fn"
                )
        });
        !calls.is_empty()
            && single_path_ident(root).is_some_and(|n| {
                self.fns.last().is_some_and(|c| {
                    c.router_locals.contains_key(&n)
                        || grown && (c.made_by_call.contains_key(&n) || c.route_sinks.contains(&n))
                })
            })
            && calls.iter().all(|c| {
                router::is_passthrough(&c.method.to_string())
                    || router::is_router_op(c)
                    || (self.salvo_file && router::is_salvo_op(c))
            })
    }

    /// The router a local is given (`let mut route = web::scope("/customers")`), its prefix kept.
    fn local_router(&mut self, expr: &Expr) -> Option<router::Router> {
        self.ctx()?;
        router::eval_local_router(expr, self)
    }

    fn in_fn(&self) -> bool {
        !self.fns.is_empty()
    }

    /// A test of what a cache holds: `cache.get(&k)`, `cache.read().await.contains_key(&k)`, as `if let
    /// Some(v) = ..` or a bool, on a receiver whose name says it is a cache (`self.cache`, `USER_CACHE`)
    /// or that `[[cached]] receivers` names (`translations`).
    fn cache_probe(&mut self, cond: &Expr) -> bool {
        // `if let Some(v) = CACHE.get(k) && v.1.elapsed() < TTL { return .. }`: a let chain whose
        // first test is the lookup.
        if let Expr::Binary(b) = cond {
            if matches!(b.op, syn::BinOp::And(_)) {
                return self.cache_probe(&b.left);
            }
        }
        let mut e = match cond {
            Expr::Let(l) => &*l.expr,
            other => other,
        };
        loop {
            e = match e {
                Expr::Await(a) => &a.base,
                Expr::Try(t) => &t.expr,
                Expr::Paren(p) => &p.expr,
                Expr::Reference(r) => &r.expr,
                Expr::MethodCall(m)
                    if matches!(m.method.to_string().as_str(), "cloned" | "copied")
                        || m.method == "map"
                            && matches!(m.args.first(), Some(Expr::Closure(_))) =>
                {
                    &m.receiver
                }
                _ => break,
            };
        }
        if let Some(name) = single_path_ident(e) {
            return self
                .fns
                .last()
                .is_some_and(|c| c.cache_locals.contains(&name));
        }
        let Expr::MethodCall(m) = e else { return false };
        let name = m.method.to_string();
        // A cache's own lookups (`get`, `peek`), and a project's wrapper's (`memcache.get_session(..)`).
        let lookup = matches!(
            name.as_str(),
            "get" | "contains_key" | "get_if_present" | "peek"
        ) || (name.starts_with("get_") && !name.contains("_or_"));
        if !lookup {
            return false;
        }
        let (text, _) = driver::executor_text(&m.receiver);
        let named = self.catalog.cache_receivers.iter().find(|r| {
            text == **r || text.ends_with(&format!(".{r}")) || text.starts_with(&format!("{r}."))
        });
        if let Some(r) = named {
            if !self.facts.cache_receivers.contains(r) {
                self.facts.cache_receivers.push(r.clone());
            }
            return true;
        }
        text.to_lowercase().contains("cache")
    }

    /// A builder's SQL named by a local that holds its text (`let sql = r"select ..";
    /// let query = sql_query(sql).bind(..);`): the text, so that the builder sent later still has it.
    fn sql_held(&self, sql: SqlRef) -> SqlRef {
        let SqlRef::Local(name) = &sql else {
            return sql;
        };
        match self.fns.last().and_then(|c| c.locals.get(name)) {
            Some(Local::Query(held @ (SqlRef::Text(_) | SqlRef::Const(_)), _)) => held.clone(),
            _ => sql,
        }
    }

    /// Types a local bound again from its earlier binding, after the value is made.
    fn type_rebound(&mut self, rebound: Option<(String, String)>) {
        if let (Some((name, ty)), Some(ctx)) = (rebound, self.ctx()) {
            ctx.type_local(name, ty);
        }
    }

    /// Keeps a constant that may name a route's path or a part of one: a `/..` string, a segment
    /// (`"v1"`, put in by `format!("/{API_PREFIX}")`), a route table (`Routes::new()`, a struct),
    /// `concat!(..)`, or another constant.
    fn route_constant(&mut self, name: &syn::Ident, expr: &Expr) {
        self.route_constant_as(driver::ident(name), expr);
    }

    /// [`Self::route_constant`] under the name it is found by (`Healthcheck::PATH` for an associated
    /// constant of an `impl`).
    fn route_constant_as(&mut self, name: String, expr: &Expr) {
        let kept = match expr {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => {
                // An empty one too: a prefix the service leaves empty (`const BASE_PATH: &str = ""`).
                let v = s.value();
                v.is_empty()
                    || v.starts_with('/')
                    || (!v.is_empty()
                        && v.len() <= 64
                        && v.chars()
                            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c)))
            }
            Expr::Call(c) => c.args.is_empty() || super::consts::lazily_built(c).is_some(),
            Expr::Macro(m) => matches!(
                driver::last_segment(&m.mac.path).as_str(),
                "concat" | "concatcp"
            ),
            Expr::Struct(_) | Expr::Path(_) | Expr::Field(_) | Expr::Reference(_) => true,
            _ => false,
        };
        if kept {
            self.facts.const_items.push(super::consts::ConstItem {
                module: self.module.clone(),
                name,
                expr: quote::ToTokens::to_token_stream(expr).to_string(),
            });
        }
    }
}

impl Visitor<'_, '_> {
    /// Whether the call a chain starts with is a router library's method router (`routing::post(h)`, or a
    /// bare `post(h)` this file imports from a `routing` module), not a function of another kind that
    /// shares the name (`get(id)?`, `reqwest::get(url)`).
    fn routing_root(&self, expr: &Expr) -> bool {
        let (root, _) = driver::chain(expr);
        let Expr::Call(call) = root else { return false };
        let Expr::Path(p) = &*call.func else {
            return false;
        };
        let segs = driver::path_segments(&p.path);
        let from_routing = |path: &[String]| path.iter().any(|s| s == "routing");
        match segs.as_slice() {
            [name] => self.facts.uses.iter().any(|u| {
                (u.name == *name && from_routing(&u.path))
                    || (u.name == "*" && u.path.last().is_some_and(|l| l == "routing"))
            }),
            [.., _] => from_routing(&segs[..segs.len() - 1]),
            [] => false,
        }
    }
}

impl Visitor<'_, '_> {
    /// The ways a branch of the function goes, where any of them does something.
    fn push_branch(&mut self, arms: Vec<Vec<Step>>) {
        if arms.iter().any(|a| !a.is_empty()) {
            if let Some(ctx) = self.ctx() {
                ctx.push(Step::Branch(arms));
            }
        }
    }

    /// An `if`'s arms, each a way the function goes (see `visit_expr_if`).
    fn visit_if(&mut self, e: &syn::ExprIf) {
        // `if basic { router.layer(from_fn(basic_auth)) } else { router.layer(from_fn(no_auth)) }` on a
        // router local: its routes, behind the layer of one arm or another.
        let grows = router::if_arm_tails(e)
            .is_some_and(|arms| arms.iter().all(|a| self.grows_router_local(a)));
        if grows {
            self.visit_expr(&e.cond);
            if let Some(entries) = self.router_expr(&Expr::If(e.clone())) {
                if let Some(ctx) = self.ctx() {
                    ctx.routes.extend(entries);
                }
                return;
            }
        }
        let tail = std::mem::take(&mut self.tail_arms);
        let tested = self.param_test(&e.cond);
        let mark = self.new_mark();
        self.condition(&e.cond);
        // `if let Some(x) = call.await? { .. }`: where the call fails, the function returns.
        let lets = chain_lets(&e.cond);
        for l in &lets {
            self.propagate(&l.expr, mark);
        }
        let made = self.made_since(mark);
        // `if let Some(r) = saved(..).await? { .. } else { .. }`: each arm runs where the call yields it.
        let outcome = match &*e.cond {
            Expr::Let(l) if tested.is_none() => self
                .tested_call(&made)
                .zip(outcome_tag(&l.pat))
                .map(|(c, yes)| {
                    // `if let Some(x) = call.await? { .. }`: past the `?` the value is never an
                    // error, so the other arm runs where the call yields `None`.
                    let no = if yes == "Some" && self.propagates(c) {
                        "None".to_string()
                    } else {
                        format!("!{yes}")
                    };
                    (c, Some(yes.clone()), Some(no))
                }),
            // `if let Some(h) = hash && let Some(r) = lookup(h).await? { return Ok(r) }`: the arm runs
            // where the call yields `Some`; the other may run whatever it yields (or without it).
            Expr::Binary(_) if tested.is_none() => {
                let awaiting: Vec<_> = lets.iter().filter(|l| contains_await(&l.expr)).collect();
                // Where the tested `let` comes last, the other arm runs without the call or where it
                // yields something else: no costlier than the call yielding something else.
                let last = match &*e.cond {
                    Expr::Binary(b) => matches!(&*b.right, Expr::Let(l) if contains_await(&l.expr)),
                    _ => false,
                };
                match awaiting.as_slice() {
                    [l] => self
                        .tested_call(&made)
                        .zip(outcome_tag(&l.pat))
                        .map(|(c, yes)| {
                            let no = match (last, yes == "Some" && self.propagates(c)) {
                                (false, _) => None,
                                (true, true) => Some("None".to_string()),
                                (true, false) => Some(format!("!{yes}")),
                            };
                            (c, Some(yes), no)
                        }),
                    _ => None,
                }
            }
            // `if auth_by_local_token(..).await? { return Ok(()) }`: the arm runs where the call yields
            // `true`, the other where it yields `false`.
            cond if tested.is_none() => tests_bool_result(cond).and_then(|negated| {
                let call = self.tested_call(&made)?;
                let (yes, no) = if negated {
                    ("false", "true")
                } else {
                    ("true", "false")
                };
                Some((call, Some(yes.to_string()), Some(no.to_string())))
            }),
            _ => None,
        };
        // `if token.is_none() { .. }` on a local a call yielded earlier: a test of that call's outcome.
        let outcome =
            outcome.or_else(|| tested.is_none().then(|| self.local_test(&e.cond)).flatten());
        // `if let Some(s) = parts.extensions.get::<SessionInfo>() { .. } else { .. }`.
        let stored = match &*e.cond {
            Expr::Let(l) => extension_probe(&l.expr),
            _ => None,
        };
        // `if method == Method::GET { return next.run(req).await }`: each arm runs for some methods.
        let method = self.fns.last().and_then(|c| {
            super::dispatch::method_test(&e.cond, &|n| c.request_methods.contains(n))
        });
        let extension = |v: &mut Self, pattern: String| {
            if let Some(ctx) = v.ctx() {
                ctx.push(Step::Guard {
                    on: super::Guarded::Extension,
                    pattern,
                });
            }
        };
        let method_guard = |v: &mut Self, pattern: String| {
            if let Some(ctx) = v.ctx() {
                ctx.push(Step::Guard {
                    on: super::Guarded::Method,
                    pattern,
                });
            }
        };
        let (then, other) = {
            let mut out = (Vec::new(), Vec::new());
            self.controlled_by(&e.cond, &made, |v| {
                for l in &lets {
                    v.bind(&l.pat, &l.expr, &made);
                }
                // What each arm knows of the tests the condition makes: that they hold, or not.
                let arm_guards = |v: &mut Self, holds: bool| {
                    if let Some((param, yes, no)) = &tested {
                        v.guard(*param, if holds { yes } else { no }.clone());
                    }
                    if let Some((call, yes, no)) = &outcome {
                        v.guard_outcome(*call, if holds { yes } else { no }.clone());
                    }
                    if let Some(ty) = &stored {
                        extension(v, if holds { ty.clone() } else { format!("!{ty}") });
                    }
                    if let Some(m) = &method {
                        let guard = match (holds, m.strip_prefix('!')) {
                            (true, _) => m.clone(),
                            (false, Some(m)) => m.to_string(),
                            (false, None) => format!("!{m}"),
                        };
                        method_guard(v, guard);
                    }
                };
                out.0 = v.frame(|v| {
                    arm_guards(v, true);
                    if tail {
                        v.tail_block(&e.then_branch)
                    } else {
                        v.visit_block(&e.then_branch)
                    }
                });
                out.1 = v.frame(|v| {
                    arm_guards(v, false);
                    match &e.else_branch {
                        Some((_, expr)) if tail => v.tail(expr),
                        Some((_, expr)) => v.visit_expr(expr),
                        None => {}
                    }
                });
            });
            out
        };
        // What the condition's `Some(name)` bound holds only inside its arm.
        let bound: Vec<String> = lets.iter().filter_map(|l| some_binding(&l.pat)).collect();
        if let Some(ctx) = self.ctx() {
            for name in bound {
                ctx.unwrapped.remove(&name);
            }
        }
        // `if x == "e" && x == "h" { .. }`: a test that never holds; its arm never runs.
        let then = if never_holds(&e.cond) {
            Vec::new()
        } else {
            then
        };
        let mut arms = drop_bare_guards(vec![then, other]);
        // `if let Some(v) = cache.get(&k) { return v }`: what follows runs on a miss.
        if e.else_branch.is_none()
            && self.cache_probe(&e.cond)
            && matches!(arms.first().and_then(|a| a.last()), Some(Step::Exit))
        {
            arms[0].insert(0, cache_miss());
        }
        self.push_branch(arms);
    }
}

impl RouterEnv for Visitor<'_, '_> {
    fn expand_macro(&self, m: &syn::Macro) -> Option<Expr> {
        let name = driver::last_segment(&m.path);
        if self.macro_depth >= super::macros::MAX_DEPTH || !self.macros.defines(&name) {
            return None;
        }
        let tokens = self.macros.expand(&name, &m.tokens, m.path.span())?;
        syn::parse2(tokens).ok()
    }

    fn method_helper(&self, name: &str) -> Option<String> {
        self.method_helpers.get(name).cloned()
    }
    fn layer_condition(&self) -> Option<String> {
        self.layer_conds.last().cloned()
    }

    fn salvo(&self) -> bool {
        self.salvo_file
    }

    fn holds_router(&self, name: &str) -> bool {
        self.fns
            .last()
            .is_some_and(|c| c.router_locals.contains_key(name))
    }

    fn give_local(&mut self, name: &str, router: router::Router) {
        if let Some(ctx) = self.ctx() {
            ctx.router_locals.insert(name.to_string(), router);
        }
    }

    fn take_local(&mut self, name: &str) -> Option<router::Router> {
        let ctx = self.ctx()?;
        if let Some(local) = ctx.router_locals.remove(name) {
            return Some(local);
        }
        // `let api = create_api_router(); .. .nest("/api", api)`: the router that function builds.
        let (target, loc) = ctx.made_by_call.remove(name)?;
        Some(router::Router::made_by(target, loc))
    }

    fn walk(&mut self, expr: &Expr) {
        self.visit_expr(expr);
    }

    fn closure_local(&self, name: &str) -> Option<Vec<String>> {
        self.fns.last()?.closure_locals.get(name).cloned()
    }

    fn local_type(&self, name: &str) -> Option<String> {
        self.binding_type(name)
            .filter(|t| t.starts_with(|c: char| c.is_ascii_uppercase()))
    }

    fn method_local(&self, name: &str) -> Option<Vec<(String, Vec<String>)>> {
        self.fns.last()?.method_locals.get(name).cloned()
    }

    fn layer_stack(&self, name: &str) -> Option<Vec<Vec<String>>> {
        self.fns.last()?.layer_stacks.get(name).cloned()
    }

    fn is_route_sink(&self, name: &str) -> bool {
        self.fns
            .last()
            .is_some_and(|c| c.route_sinks.iter().any(|n| n == name))
    }

    fn handed_router(&self, name: &str) -> bool {
        name != "self"
            && self.is_route_sink(name)
            && matches!(self.param_type(name), Some("Router" | "Scope"))
    }

    fn closure_handler(&mut self, closure: &syn::ExprClosure) -> Vec<String> {
        let n = self.ctx().map(|c| {
            c.closures += 1;
            c.closures
        });
        let line = self.loc(closure.span()).line;
        let name = format!(
            "{{closure@{line}{}}}",
            n.map(|n| format!("#{n}")).unwrap_or_default()
        );
        let mut extractors = Vec::new();
        for input in &closure.inputs {
            if let syn::Pat::Type(pt) = input {
                if let Some(e) = router::extractor_name(&pt.ty) {
                    extractors.push(e);
                }
            }
        }
        let (body, routes) = self.walk_body_in(self.captured(), |v| {
            v.type_written_inputs(closure);
            v.future(&closure.body)
        });
        let params = std::mem::take(&mut self.last_local_types);
        self.facts.functions.push(FnFacts {
            name: name.clone(),
            module: self.module.clone(),
            is_async: true,
            is_test: self.test_depth > 0,
            loc: self.loc(closure.or1_token.span),
            fn_line: closure.or1_token.span.start().line as u32,
            extractors,
            params,
            body,
            routes,
            ..FnFacts::default()
        });
        let mut path = self.module.clone();
        path.insert(0, "crate".into());
        path.push(name);
        path
    }

    fn loc(&self, span: Span) -> Loc {
        self.index.loc(span)
    }
}

/// The module or crate a trait is named from: `publisher` for `publisher::Repository`, or for a bare
/// `Repository` the file's `use publisher::Repository;`.
fn trait_qualifier(path: &syn::Path, uses: &[super::UseAlias]) -> Option<String> {
    let segs = driver::path_segments(path);
    match segs.as_slice() {
        [.., q, _] => Some(q.clone()),
        [name] => uses
            .iter()
            .find(|u| u.name == *name)
            .and_then(|u| u.path.iter().rev().nth(1).cloned()),
        [] => None,
    }
}

/// The trait a type holds an object of (`Arc<dyn a::Repo + Send>`, `Box<dyn Repo>`, `&dyn Repo`).
fn trait_object_path(ty: &syn::Type) -> Option<&syn::Path> {
    match ty {
        syn::Type::TraitObject(t) => t.bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(tb) => Some(&tb.path),
            _ => None,
        }),
        syn::Type::Reference(r) => trait_object_path(&r.elem),
        syn::Type::Paren(p) => trait_object_path(&p.elem),
        syn::Type::Path(tp) => {
            let seg = tp.path.segments.last()?;
            let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
                return None;
            };
            args.args.iter().find_map(|a| match a {
                syn::GenericArgument::Type(t) => trait_object_path(t),
                _ => None,
            })
        }
        _ => None,
    }
}

impl<'ast> Visit<'ast> for Visitor<'_, '_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let saved = self.impl_ctx.take();
        self.function(&f.sig, &f.attrs, &f.block);
        self.impl_ctx = saved;
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        // `impl Routes { const fn new() -> Routes { .. } }`: a route table's constructor; `impl Route
        // for Login { fn route() -> &'static str { "/login" } }`: a route's path (through a blanket
        // `impl<T: SimpleRoute> Route for T { fn route() -> &'static str { Self::PATH } }` too).
        if f.sig.inputs.is_empty()
            && !self.in_fn()
            && (f.sig.constness.is_some() || returns_static_str(&f.sig.output))
        {
            if let Some((ty, _)) = &self.impl_ctx {
                let blanket = self.impl_generics.iter().any(|(g, _)| g == ty);
                self.facts.const_fns.push(super::consts::ConstFn {
                    module: self.module.clone(),
                    ty: if blanket {
                        super::consts::ANY_TYPE.into()
                    } else {
                        ty.clone()
                    },
                    name: f.sig.ident.to_string(),
                    body: quote::ToTokens::to_token_stream(&f.block).to_string(),
                });
            }
        }
        self.function(&f.sig, &f.attrs, &f.block);
        // A pool's manager opening a new connection (its migrations, the statements it prepares) runs
        // where the pool has no idle one, as a library pool's does: not on a request's path.
        if opens_pooled_connection(&self.impl_ctx, &self.impl_assoc, &f.sig) {
            if let Some(opened) = self.facts.functions.last_mut() {
                opened.body.clear();
            }
        }
    }

    fn visit_impl_item_const(&mut self, c: &'ast syn::ImplItemConst) {
        // `impl SimpleRoute for Healthcheck { const PATH: &'static str = "/health"; }`.
        if let (Some((ty, _)), false) = (&self.impl_ctx, self.in_fn()) {
            let name = format!("{ty}::{}", c.ident);
            self.route_constant_as(name, &c.expr);
        }
        visit::visit_impl_item_const(self, c);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(block) = &f.default {
            self.function(&f.sig, &f.attrs, block);
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        // `use kitsune_db::model::Account as DbAccount; impl IntoMastodon for DbAccount`: the type's
        // own name, which the rest of the code types values by.
        let own_name = |name: String| {
            self.facts
                .uses
                .iter()
                .find(|u| u.name == name && u.path.last().is_some_and(|l| *l != name))
                .and_then(|u| u.path.last().cloned())
                .unwrap_or(name)
        };
        let self_ty = match &*i.self_ty {
            syn::Type::Path(tp) => own_name(driver::last_segment(&tp.path)),
            // `impl IntoMastodon for (&DbAccount, DbPost)`: `(Account,Post)`, as a tuple's type is
            // written (see `core_type`).
            syn::Type::Tuple(t) if !t.elems.is_empty() => {
                let elems: Vec<String> = t
                    .elems
                    .iter()
                    .map(|e| core_type(e).map(&own_name).unwrap_or_else(|| "_".into()))
                    .collect();
                format!("({})", elems.join(","))
            }
            other => quote::ToTokens::to_token_stream(other).to_string(),
        };
        let trait_name = i.trait_.as_ref().map(|(_, p, _)| driver::last_segment(p));
        let on_library = names_library_type(&i.self_ty, &self.facts.uses, self.catalog);
        if let Some(t) = &trait_name {
            self.facts.impls.push((self_ty.clone(), t.clone()));
            // `impl<T> GetFollowersUseCase for T where T: DependOnAccountQuery + Send {}`: every type that
            // implements the bounds implements the trait, its default bodies included.
            let bounds = all_bounds(&i.generics, &self_ty);
            if i.generics.type_params().any(|p| p.ident == self_ty) {
                self.facts
                    .blankets
                    .push((t.clone(), self_ty.clone(), bounds));
            }
        }
        // `impl Deref for State { type Target = Inner; }`: `state.field` may be a field of `Inner`.
        if trait_name.as_deref() == Some("Deref") {
            let target = i.items.iter().find_map(|item| match item {
                syn::ImplItem::Type(t) if t.ident == "Target" => core_type(&t.ty),
                _ => None,
            });
            // `impl<S: AdminService> Deref for WebData<S> { type Target = S; }`: a value of the bound.
            let bounds = generic_bounds(&i.generics, &[]);
            let target = target.map(|t| match bounds.iter().find(|(g, _)| *g == t) {
                Some((_, bound)) => bound.clone(),
                None => t,
            });
            if target.is_some() {
                self.facts.types.push(TypeFacts {
                    name: self_ty.clone(),
                    deref: target,
                    ..TypeFacts::default()
                });
            }
        }
        let test = is_test_attr(&i.attrs);
        self.test_depth += u32::from(test);
        let saved_library = std::mem::replace(&mut self.impl_on_library, on_library);
        let saved = self.impl_ctx.replace((self_ty, trait_name));
        let saved_cfg = std::mem::replace(&mut self.impl_cfg, crate::build::predicate(&i.attrs));
        let saved_generics =
            std::mem::replace(&mut self.impl_generics, generic_bounds(&i.generics, &[]));
        let saved_args = std::mem::replace(&mut self.impl_self_args, type_args(&i.self_ty));
        let trait_args = i
            .trait_
            .as_ref()
            .map(|(_, p, _)| path_type_args(p))
            .unwrap_or_default();
        let saved_trait_args = std::mem::replace(&mut self.impl_trait_args, trait_args);
        let qualifier = i
            .trait_
            .as_ref()
            .and_then(|(_, p, _)| trait_qualifier(p, &self.facts.uses));
        let saved_qualifier = std::mem::replace(&mut self.impl_trait_qualifier, qualifier);
        let graphql_root = i.trait_.is_none() && graphql_root(&i.attrs, &i.self_ty);
        let saved_graphql = std::mem::replace(&mut self.graphql_root, graphql_root);
        let fields = i.trait_.is_none() && !graphql_root && graphql_object(&i.attrs);
        let saved_fields = std::mem::replace(&mut self.graphql_fields, fields);
        let assoc: Vec<(String, String)> = i
            .items
            .iter()
            .filter_map(|item| match item {
                syn::ImplItem::Type(t) => Some((t.ident.to_string(), assoc_target(&t.ty)?)),
                _ => None,
            })
            .collect();
        if let (Some((ty, Some(_))), false) = (&self.impl_ctx, self.in_fn()) {
            let ty = ty.clone();
            for (name, target) in &assoc {
                self.facts
                    .assoc_types
                    .push((ty.clone(), name.clone(), target.clone()));
            }
        }
        let saved_assoc = std::mem::replace(&mut self.impl_assoc, assoc);
        visit::visit_item_impl(self, i);
        self.graphql_root = saved_graphql;
        self.graphql_fields = saved_fields;
        self.impl_assoc = saved_assoc;
        self.impl_ctx = saved;
        self.impl_on_library = saved_library;
        self.impl_cfg = saved_cfg;
        self.impl_generics = saved_generics;
        self.impl_self_args = saved_args;
        self.impl_trait_args = saved_trait_args;
        self.impl_trait_qualifier = saved_qualifier;
        self.test_depth -= u32::from(test);
    }

    fn visit_item_struct(&mut self, st: &'ast syn::ItemStruct) {
        self.expand_derives(&st.attrs, &st.ident);
        for f in &st.fields {
            if let Some(name) = &f.ident {
                if holds_library_executor(&f.ty, self.catalog) {
                    self.library_fields
                        .insert((st.ident.to_string(), name.to_string()));
                }
            }
        }
        if derive_names(&st.attrs).iter().any(|d| d == "MergedObject") {
            let merged = st.fields.iter().filter_map(|f| core_type(&f.ty)).collect();
            self.facts
                .merged_objects
                .push((st.ident.to_string(), merged));
        }
        self.security_scheme(&st.attrs, &st.ident, &[]);
        // A field of a generic type is typed by its bound (`database: DB` with `DB: Database`).
        let bounds = generic_bounds(&st.generics, &[]);
        let fields = st
            .fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| {
                let ty = core_type(&f.ty)?;
                let ty = match bounds.iter().find(|(g, _)| *g == ty) {
                    Some((_, bound)) => bound.clone(),
                    None => ty,
                };
                // A tuple struct's fields by position: `self.0`, `AuthExtractor(user): ..`.
                let name = f
                    .ident
                    .as_ref()
                    .map_or_else(|| i.to_string(), |n| n.to_string());
                Some((name, ty))
            })
            .collect();
        if let Some(path) = typed_path(&st.attrs) {
            self.facts.typed_paths.push(super::TypedPath {
                module: self.module.clone(),
                name: st.ident.to_string(),
                path,
            });
        }
        let dyn_qualifiers = st
            .fields
            .iter()
            .filter_map(|f| {
                let name = f.ident.as_ref()?.to_string();
                let q =
                    trait_object_path(&f.ty).and_then(|p| trait_qualifier(p, &self.facts.uses))?;
                Some((name, q))
            })
            .collect();
        let field_args = st
            .fields
            .iter()
            .filter_map(|f| {
                let args = core_type_args(&f.ty);
                let name = f.ident.as_ref()?.to_string();
                (!args.is_empty()).then_some((name, args))
            })
            .collect();
        self.facts.types.push(TypeFacts {
            name: st.ident.to_string(),
            fields,
            defaults: field_defaults(st),
            dyn_qualifiers,
            field_args,
            ..TypeFacts::default()
        });
    }

    fn visit_item_enum(&mut self, e: &'ast syn::ItemEnum) {
        self.expand_derives(&e.attrs, &e.ident);
        let variants: Vec<&syn::Type> = e
            .variants
            .iter()
            .filter_map(|v| match &v.fields {
                syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => Some(&f.unnamed[0].ty),
                _ => None,
            })
            .collect();
        self.security_scheme(&e.attrs, &e.ident, &variants);
        // What a variant holds, by variant and position (`Arg:0`) or name (`Arg:inner`), for the names
        // a pattern binds (`Query::Arg(inner, _)`).
        let fields = e
            .variants
            .iter()
            .flat_map(|v| {
                v.fields.iter().enumerate().filter_map(move |(i, f)| {
                    let at = f
                        .ident
                        .as_ref()
                        .map_or_else(|| i.to_string(), |n| n.to_string());
                    Some((format!("{}:{at}", v.ident), core_type(&f.ty)?))
                })
            })
            .collect();
        self.facts.types.push(TypeFacts {
            name: e.ident.to_string(),
            fields,
            ..TypeFacts::default()
        });
    }

    fn visit_item_type(&mut self, t: &'ast syn::ItemType) {
        self.facts.types.push(TypeFacts {
            name: t.ident.to_string(),
            alias: core_type(&t.ty),
            module: self.module.clone(),
            ..TypeFacts::default()
        });
    }

    fn visit_item_trait(&mut self, t: &'ast syn::ItemTrait) {
        let supertraits = t
            .supertraits
            .iter()
            .filter_map(|b| match b {
                syn::TypeParamBound::Trait(tb) => Some(tb.path.segments.last()?.ident.to_string()),
                _ => None,
            })
            .collect();
        let required = t
            .items
            .iter()
            .filter_map(|item| match item {
                syn::TraitItem::Fn(f) if f.default.is_none() && f.sig.receiver().is_some() => {
                    Some(driver::ident(&f.sig.ident))
                }
                _ => None,
            })
            .collect();
        self.facts.types.push(TypeFacts {
            name: t.ident.to_string(),
            is_trait: true,
            supertraits,
            required,
            ..TypeFacts::default()
        });
        let saved = self
            .impl_ctx
            .replace((t.ident.to_string(), Some(t.ident.to_string())));
        visit::visit_item_trait(self, t);
        self.impl_ctx = saved;
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let test = is_test_attr(&m.attrs);
        if m.content.is_none() {
            if test {
                let mut path = self.module.clone();
                path.push(driver::ident(&m.ident));
                self.facts.test_modules.push(path);
            }
            return;
        }
        self.test_depth += u32::from(test);
        self.module.push(driver::ident(&m.ident));
        if m.content
            .as_ref()
            .is_some_and(|(_, items)| items.iter().any(includes_build_output))
        {
            self.facts.generated_modules.push(self.module.clone());
        }
        visit::visit_item_mod(self, m);
        self.module.pop();
        self.test_depth -= u32::from(test);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        fn walk(
            tree: &syn::UseTree,
            prefix: &mut Vec<String>,
            module: &[String],
            out: &mut Vec<UseAlias>,
        ) {
            match tree {
                syn::UseTree::Path(p) => {
                    prefix.push(driver::ident(&p.ident));
                    walk(&p.tree, prefix, module, out);
                    prefix.pop();
                }
                syn::UseTree::Name(n) => {
                    let mut path = prefix.clone();
                    path.push(driver::ident(&n.ident));
                    let name = driver::ident(&n.ident);
                    if name != "self" {
                        out.push(UseAlias {
                            module: module.to_vec(),
                            name,
                            path,
                        });
                    } else if let Some(last) = prefix.last() {
                        out.push(UseAlias {
                            module: module.to_vec(),
                            name: last.clone(),
                            path: prefix.clone(),
                        });
                    }
                }
                syn::UseTree::Rename(r) => {
                    let mut path = prefix.clone();
                    if r.ident != "self" {
                        path.push(driver::ident(&r.ident));
                    }
                    out.push(UseAlias {
                        module: module.to_vec(),
                        name: driver::ident(&r.rename),
                        path,
                    });
                }
                syn::UseTree::Group(g) => g.items.iter().for_each(|t| walk(t, prefix, module, out)),
                syn::UseTree::Glob(_) => {
                    out.push(UseAlias {
                        module: module.to_vec(),
                        name: "*".into(),
                        path: prefix.clone(),
                    });
                }
            }
        }
        walk(&u.tree, &mut Vec::new(), &self.module, &mut self.facts.uses);
    }

    /// `macro_rules! name { .. }` whose body awaits calls the catalog knows: a function named `name!`
    /// with that many round trips, for its invocations to reach.
    fn visit_impl_item_macro(&mut self, m: &'ast syn::ImplItemMacro) {
        self.expand_items::<syn::ImplItem>(&m.mac, |v, item| v.visit_impl_item(item));
    }

    fn visit_item_macro(&mut self, m: &'ast syn::ItemMacro) {
        if m.ident.is_none() && !self.in_fn() {
            return self.expand_items::<syn::Item>(&m.mac, |v, item| v.visit_item(item));
        }
        let Some(name) = &m.ident else { return };
        if !m.mac.path.is_ident("macro_rules") {
            return;
        }
        let catalog = self.catalog;
        let known = |n: &str| {
            catalog
                .builders
                .iter()
                .any(|b| b.send.iter().any(|s| s == n))
                || catalog
                    .calls
                    .iter()
                    .any(|c| c.methods.iter().any(|x| x == n))
        };
        let trips = awaited_calls(m.mac.tokens.clone(), &known);
        if trips == 0 {
            return;
        }
        let loc = self.loc(name.span());
        // The statements the body spells decide read or write, when they all agree.
        let texts = string_literals(m.mac.tokens.clone());
        let classes: Vec<_> = texts
            .iter()
            .map(|t| super::sql::classify(t))
            .filter(|c| c.by != super::sql::ClassifiedBy::Unknown && !c.verb.is_empty())
            .collect();
        let reads =
            !classes.is_empty() && classes.iter().all(|c| c.access == super::sql::Access::Read);
        let access = reads.then_some(super::sql::Access::Read);
        let body = (0..trips)
            .map(|i| {
                let mut t = Trip::bare(i + 1, loc, format!("{name}!"));
                t.access = access;
                Step::Trip(t)
            })
            .collect();
        self.facts.functions.push(FnFacts {
            name: format!("{name}!"),
            module: self.module.clone(),
            is_async: true,
            is_test: self.test_depth > 0,
            loc,
            fn_line: loc.line,
            body,
            ..FnFacts::default()
        });
    }

    fn visit_item_const(&mut self, c: &'ast syn::ItemConst) {
        if let (false, Some(entries)) = (self.in_fn(), path_table(&c.expr)) {
            self.facts.path_tables.push((c.ident.to_string(), entries));
        }
        if !self.in_fn() {
            if let Some(ty) = core_type(&c.ty) {
                self.facts.statics.push((c.ident.to_string(), ty));
            }
            self.route_constant(&c.ident, &c.expr);
        }
        if let Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &*c.expr
        {
            self.facts.consts.push((c.ident.to_string(), s.value()));
        }
    }

    fn visit_item_static(&mut self, s: &'ast syn::ItemStatic) {
        if let (false, Some(entries)) = (self.in_fn(), path_table(&s.expr)) {
            self.facts.path_tables.push((s.ident.to_string(), entries));
        }
        if !self.in_fn() {
            if let Some(ty) = core_type(&s.ty) {
                self.facts.statics.push((s.ident.to_string(), ty));
            }
            self.route_constant(&s.ident, &s.expr);
        }
        if let Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) = &*s.expr
        {
            self.facts.consts.push((s.ident.to_string(), lit.value()));
        }
    }

    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        if !self.in_fn() {
            return visit::visit_stmt(self, stmt);
        }
        // `#[cfg(feature = "audit")] audit::record(&db, ..).await?;`: compiled in only in some builds.
        let guarded = !std::mem::take(&mut self.cfg_walked);
        if let Some(predicate) = stmt_attrs(stmt)
            .filter(|_| guarded)
            .and_then(crate::build::predicate)
        {
            let steps = self.frame(|v| {
                v.cfg_guard(predicate);
                v.cfg_walked = true;
                v.visit_stmt(stmt);
            });
            let arms = drop_bare_guards(vec![steps, Vec::new()]);
            self.push_branch(arms);
            return;
        }
        if let (syn::Stmt::Local(local), false) = (stmt, self.in_future_iter) {
            if let (Some(name), Some(_)) = (future_iter_local(local), &local.init) {
                // The items an awaited call fetches come first, one after the other; what the closure
                // makes of each is joined later.
                let split = awaited_items(local);
                let stmt = match &split {
                    Some((items, rest)) => {
                        self.visit_expr(items);
                        rest
                    }
                    None => stmt,
                };
                let syn::Stmt::Local(syn::Local {
                    init: Some(init), ..
                }) = stmt
                else {
                    return;
                };
                // As a join runs them: each future once, all at once.
                let joined = self.frame(|v| v.future(&init.expr));
                self.in_future_iter = true;
                let steps = self.frame(|v| v.visit_stmt(stmt));
                self.in_future_iter = false;
                let made: HashSet<u32> = steps.iter().flat_map(step_ids).collect();
                if let Some(ctx) = self.ctx() {
                    ctx.future_iters.insert(name, (made, joined));
                    steps.into_iter().for_each(|s| ctx.push(s));
                }
                return;
            }
        }
        match stmt {
            syn::Stmt::Local(local) => {
                let Some(init) = &local.init else { return };
                let mut defines = Vec::new();
                pat_idents(&local.pat, &mut defines);
                let name = single_ident(&local.pat);
                let int = name.as_ref().and_then(|_| written_int(&init.expr));
                if let Some(ctx) = self.ctx() {
                    for d in &defines {
                        ctx.local_counts.remove(d);
                        ctx.int_locals.remove(d);
                    }
                    if let (Some(n), Some(int)) = (&name, int) {
                        ctx.int_locals.insert(n.clone(), int);
                    }
                    let mutable =
                        matches!(&local.pat, syn::Pat::Ident(p) if p.mutability.is_some());
                    if let (Some(n), Some(count), false) =
                        (&name, written_count(&init.expr), mutable)
                    {
                        ctx.local_counts.insert(n.clone(), count);
                    }
                }
                // `let post_handler = { let mut h = post(handler); h = h.route_layer(..); h };`: the
                // method router the block ends with, for a `.route(..)` after.
                if let (Some(name), Some(held)) = (&name, block_method_router(&init.expr)) {
                    if self.routing_root(held) {
                        let served = router::method_router(held, self);
                        if let (false, Some(ctx)) = (served.is_empty(), self.ctx()) {
                            ctx.method_locals.insert(name.clone(), served);
                        }
                    }
                }
                // utoipa-axum's `let (router, api) = OpenApiRouter::new().routes(..).split_for_parts();`:
                // the router is the first of the pair.
                let (name, router_init) = match split_router(&local.pat, &init.expr) {
                    Some((first, router)) => (Some(first), router),
                    None => (name, &*init.expr),
                };
                // warp: `let get_comments = warp::path!("articles" / String / "comments").and(warp::get())
                // .and_then(list).boxed();`, combined later (`get_comments.or(delete_comment)`): the
                // routes the local holds, mounted where it is used.
                if let (Some(name), Expr::MethodCall(m)) =
                    (&name, driver::strip_plumbing(router_init))
                {
                    let returns_filter = self.fns.last().is_some_and(|c| c.returns_filter);
                    if super::warp::is_filter_chain(m, returns_filter) {
                        if let Some(entries) = super::warp::routes(router_init, self) {
                            let mut held = router::Router::default();
                            held.extend(entries);
                            if let Some(ctx) = self.ctx() {
                                ctx.router_locals.insert(name.clone(), held);
                            }
                            return;
                        }
                    }
                }
                // `let router = { let schema = ..; router.merge(..) };` (one block per feature): the
                // block's statements run, and its value is the router the local holds.
                if let (Some(name), Some((stmts, tail))) = (&name, router_block(router_init)) {
                    for s in stmts {
                        self.visit_stmt(s);
                    }
                    if let Some(local) = self.local_router(tail) {
                        if let Some(ctx) = self.ctx() {
                            ctx.router_locals.insert(name.clone(), local);
                        }
                        return;
                    }
                }
                // `let recent = if let Some(s) = service { Router::new().route(..) } else {
                // Router::new() };`: whichever arm builds it, the local holds its routes.
                let ctx = self.fns.last();
                let arms = router_arms(router_init, &|e| {
                    // The local itself, or a chain on it (`router.layer(from_fn(log))`).
                    single_path_ident(driver::chain(e).0).is_some_and(|n| {
                        ctx.is_some_and(|c| {
                            c.router_locals.contains_key(&n)
                                || c.made_by_call.contains_key(&n)
                                || c.route_sinks.contains(&n)
                        })
                    })
                });
                if let (Some(name), Some(arms)) = (&name, arms) {
                    let mut held: Option<router::Router> = None;
                    // `let app = if let Some(s) = state { app.nest("/x", x(s)) } else { app };`: each
                    // arm starts from the routers held before the `if`, whose routes the first arm
                    // to use them already took.
                    let before: Vec<(String, router::Router)> = self
                        .fns
                        .last()
                        .map(|c| {
                            c.router_locals
                                .iter()
                                .map(|(n, r)| (n.clone(), r.clone()))
                                .collect()
                        })
                        .unwrap_or_default();
                    for (k, (stmts, tail)) in arms.into_iter().enumerate() {
                        if k > 0 {
                            if let Some(ctx) = self.ctx() {
                                for (n, r) in &before {
                                    ctx.router_locals
                                        .entry(n.clone())
                                        .or_insert_with(|| r.emptied());
                                }
                            }
                        }
                        for s in stmts {
                            self.visit_stmt(s);
                        }
                        if let Some(local) = self.local_router(tail) {
                            match &mut held {
                                Some(h) => h.extend(local.finish()),
                                None => held = Some(local),
                            }
                        }
                    }
                    if let (Some(held), Some(ctx)) = (held, self.ctx()) {
                        ctx.router_locals.insert(name.clone(), held);
                        return;
                    }
                }
                // A router held in a local: its routes are counted where it is used.
                if let Some(name) = &name {
                    if let Expr::Call(call) = router_init {
                        if let Expr::Path(p) = &*call.func {
                            let target = driver::path_segments(&p.path);
                            let loc = self.loc(p.path.span());
                            if let Some(ctx) = self.ctx() {
                                ctx.made_by_call.insert(name.clone(), (target, loc));
                            }
                        }
                    }
                    if looks_like_router(router_init)
                        || self.grows_router_local(router_init)
                        || hands_built_router(router_init)
                    {
                        if let Some(local) = self.local_router(router_init) {
                            if let Some(ctx) = self.ctx() {
                                ctx.router_locals.insert(name.clone(), local);
                            }
                            return;
                        }
                    }
                }
                // `let Some(cipher) = Cipher::find(..).await else { .. }`: the name inside is typed.
                if name.is_none() {
                    self.type_pattern(&local.pat, &init.expr);
                    // `let State(AppState { database, .. }) = state;`: each name by its field.
                    let mut fields = named_struct_fields(&local.pat);
                    // `let DbWrapper(db) = DbWrapper::extract(&req).await?;`: a plain `let` takes apart
                    // only a struct, so the name is that newtype's field.
                    if init.diverge.is_none() {
                        fields.extend(newtype_binding(&local.pat));
                    }
                    if let Some(ctx) = self.ctx() {
                        for (binding, owner, field) in fields {
                            ctx.type_local(binding, format!("{owner}{}{field}", super::FIELD));
                        }
                    }
                }
                // `let (article, author) = Article::with_author(..)?`: each name is typed by its element.
                if let Some(elems) = tuple_idents(&local.pat) {
                    // Else as the local or `self` it takes apart is typed (`let (account, post) =
                    // self;`), unless that is a place.
                    let named = matches!(driver::strip_plumbing(&init.expr), Expr::Path(p) if p.path.segments.len() == 1);
                    let ty = tuple_type(&local.pat, &init.expr).or_else(|| {
                        self.expr_type(&init.expr)
                            .filter(|t| named && !t.starts_with(super::PLACE))
                    });
                    if let Some(ty) = ty {
                        if let Some(ctx) = self.ctx() {
                            for (i, elem) in elems.into_iter().enumerate() {
                                if let Some(elem) = elem {
                                    ctx.type_local(elem, format!("{ty}{}{i}", super::ELEMENT));
                                }
                            }
                        }
                    } else {
                        // `let (user, post) = try_join!(user_fut, post_fut)?;`: each name is what its
                        // future yields.
                        let types = self.joined_types(&init.expr);
                        if let Some(ctx) = self.ctx() {
                            for (elem, ty) in elems.into_iter().zip(types) {
                                if let (Some(elem), Some(ty)) = (elem, ty) {
                                    ctx.type_local(elem, ty);
                                }
                            }
                        }
                    }
                }
                let mut rebound = None;
                // `let perspective = perspective.into();`: still the parameter, converted (a caller's
                // `None` stays `None`).
                let converted = self.converted_param(&init.expr);
                if let (Some(name), Some(p)) = (&name, converted) {
                    if let Some(ctx) = self.ctx() {
                        ctx.param_pos.insert(name.clone(), p);
                        ctx.converted_params.insert(name.clone());
                    }
                }
                if let Some(name) = &name {
                    let probes = !contains_await(&init.expr) && self.cache_probe(&init.expr);
                    if let Some(ctx) = self.ctx() {
                        if probes {
                            ctx.cache_locals.insert(name.clone());
                        } else {
                            ctx.cache_locals.remove(name);
                        }
                    }
                    // A constant the local may hand to a call (`let get_user = GetUser::builder()..`).
                    let local_const = |n: &str| self.fns.last()?.local_consts.get(n).cloned();
                    let tag = const_tag_in(&init.expr, &local_const);
                    if let Some(ctx) = self.ctx() {
                        match tag {
                            Some(tag) => ctx.local_consts.insert(name.clone(), tag),
                            None => ctx.local_consts.remove(name),
                        };
                        ctx.unwrapped.remove(name);
                    }
                    // `let member = member.as_member(db).await?`: typed by what the method returns on
                    // the binding before this one (which `expr_type` names), under a name of its own
                    // once the value is made, so that the earlier binding's type no longer answers for
                    // it while the call that makes it still reads the earlier binding.
                    let rebinds = match driver::strip_plumbing(&init.expr) {
                        Expr::MethodCall(m) => field_path(&m.receiver).first() == Some(name),
                        _ => false,
                    };
                    let ty = local_type(&local.pat, &init.expr)
                        .or_else(|| self.expr_type(&init.expr))
                        .or_else(|| self.expr_type(held_value(&init.expr)));
                    // Named by its whole path, which no type of the analysed code answers to.
                    let ty = self.made_by_generated(&init.expr).or(ty);
                    // `let status = OptionFuture::from(status.map(|s| ..))`: made from the binding
                    // before it too.
                    let rebinds = rebinds || ty.is_some() && mentions(&init.expr, name);
                    if let Some(ty) = ty {
                        if rebinds {
                            rebound = Some((name.clone(), ty));
                        } else if let Some(ctx) = self.ctx() {
                            ctx.type_local(name.clone(), ty);
                        }
                    }
                    if self.future_set_local(name, &local.pat, &init.expr) {
                        self.type_rebound(rebound);
                        return;
                    }
                    // `let health = || async { .. };` may be a handler, and
                    // `let cors = CorsLayer::new().allow_origin(AllowOrigin::async_predicate(|o, p| ..))`
                    // a layer: known by name, walked once.
                    let closure = match &*init.expr {
                        Expr::Closure(c) => {
                            (returns_future(c) || self.returns_query(c)).then_some(c)
                        }
                        e => router::layer_closure(e),
                    };
                    if let Some(c) = closure {
                        let path = self.closure_handler(c);
                        if let Some(ctx) = self.ctx() {
                            ctx.closure_locals.insert(name.clone(), path);
                        }
                        self.type_rebound(rebound);
                        return;
                    }
                    let method = super::dispatch::holds_request_method(&init.expr);
                    if let Some(ctx) = self.ctx() {
                        match method {
                            true => ctx.request_methods.insert(name.clone()),
                            false => ctx.request_methods.remove(name),
                        };
                    }
                    let held = self.fns.last().map(|c| &c.request_paths);
                    let path = super::dispatch::request_path(&init.expr, &|n| {
                        held.and_then(|h| h.get(n).cloned())
                    });
                    if let (Some(prefix), Some(ctx)) = (path, self.ctx()) {
                        ctx.request_paths.insert(name.clone(), prefix);
                    }
                    // `let auth = middleware::from_fn_with_state(store.clone(), auth_middleware);`, for a
                    // `.layer(auth)` after: the function it runs on each request.
                    if let Expr::Call(c) = &*init.expr {
                        if let Some(Expr::Path(f)) = router::middleware_arg(c) {
                            let path = driver::path_segments(&f.path);
                            if let Some(ctx) = self.ctx() {
                                ctx.closure_locals.insert(name.clone(), path);
                            }
                        }
                    }
                    // `let session_layer = SessionManagerLayer::new(store).with_name(..);`: the store's
                    // `load`, for a `.layer(session_layer)` after.
                    if let Some(load) = router::session_store_load(&init.expr, self) {
                        if let Some(ctx) = self.ctx() {
                            ctx.closure_locals.insert(name.clone(), load);
                        }
                    }
                    // `let middleware = ServiceBuilder::new().layer(AuthLayer::new(..));`, for a
                    // `.layer(middleware)` after.
                    if !matches!(&*init.expr, Expr::Path(_)) {
                        if let Some(stack) = router::stacked_layers(&init.expr, self) {
                            if let Some(ctx) = self.ctx() {
                                ctx.layer_stacks.insert(name.clone(), stack);
                            }
                        }
                    }
                    // `let delete_route = post(delete_card).layer(limit);`, for a `.route(..)` after.
                    if router::is_method_router(&init.expr) && self.routing_root(&init.expr) {
                        let served = router::method_router(&init.expr, self);
                        if !served.is_empty() {
                            if let Some(ctx) = self.ctx() {
                                ctx.method_locals.insert(name.clone(), served);
                            }
                            self.type_rebound(rebound);
                            return;
                        }
                    }
                    // A builder's query (`let query = qb.build_query_scalar::<i64>();`) is no future,
                    // nor is what std's cell holds (`let region = REGION.get_or_init(|| ..);`).
                    let value = driver::strip_plumbing(&init.expr);
                    if init.diverge.is_none()
                        && self.spawned_handle(name, defines.clone(), &init.expr)
                    {
                        self.type_rebound(rebound);
                        return;
                    }
                    if init.diverge.is_none()
                        && self.still_query(value).is_none()
                        && !matches!(value, Expr::MethodCall(m) if once_per_process(m))
                        && self.pending_future(name, defines.clone(), &init.expr)
                    {
                        self.type_rebound(rebound);
                        return;
                    }
                }
                let bound = name.clone();
                self.statement(Some(&init.expr), defines, Vec::new(), |v| {
                    let mark = v.new_mark();
                    let start = v.ctx().and_then(|c| c.frames.last()).map_or(0, Vec::len);
                    v.visit_expr(&init.expr);
                    let made = v.made_since(mark);
                    // The local holds the call's own result, not a value computed from it (a `match`),
                    // or, bound from an `if`/`match`, the result of each arm's call.
                    let call = v
                        .tested_call(&made)
                        .filter(|_| holds_result(&init.expr))
                        .or_else(|| v.arm_results(&init.expr, start));
                    if let (Some(ctx), Some(name)) = (v.ctx(), bound) {
                        match call {
                            Some(call) => ctx.local_calls.insert(name, call),
                            None => ctx.local_calls.remove(&name),
                        };
                    }
                    if init.diverge.is_none() {
                        v.propagate(&init.expr, mark);
                    }
                    if let Some((_, diverge)) = &init.diverge {
                        let tag = outcome_tag(&local.pat);
                        // `let Some(user) = users.find(id).await? else { return Err(..) }`: the
                        // function goes on where the call yields the pattern, and the `else` runs
                        // where it yields anything else (`None`, past the `?`).
                        let outcome = call.zip(tag.clone()).map(|(c, yes)| {
                            let no = if yes == "Some" && v.propagates(c) {
                                "None".to_string()
                            } else {
                                format!("!{yes}")
                            };
                            (c, yes, no)
                        });
                        // `let Ok(t) = result else { fallback }`: a transaction that failed sent no
                        // COMMIT.
                        let commit = match tag.as_deref() {
                            Some("Ok" | "Some") => v.take_commit(&init.expr),
                            _ => None,
                        };
                        let alt = v.frame(|v| {
                            if let Some((c, _, no)) = &outcome {
                                v.guard_outcome(*c, Some(no.clone()));
                            }
                            v.visit_expr(diverge)
                        });
                        if let Some(ctx) = v.ctx() {
                            match &outcome {
                                Some((c, yes, _)) => ctx.push(Step::Branch(vec![
                                    alt,
                                    vec![Step::Guard {
                                        on: super::Guarded::Outcome(*c),
                                        pattern: yes.clone(),
                                    }],
                                ])),
                                None if !alt.is_empty() => {
                                    ctx.push(Step::Branch(vec![alt, Vec::new()]))
                                }
                                None => {}
                            }
                            if let Some(commit) = commit {
                                ctx.push(commit);
                            }
                        }
                    }
                });
                self.type_rebound(rebound);
                if let (Some(name), None, true) = (&name, &init.diverge, is_transaction(&init.expr))
                {
                    let commit = self.ctx().and_then(|ctx| {
                        ctx.frames.last()?.iter().rev().find_map(|s| match s {
                            Step::Trip(t) if t.kind == TripKind::Commit => Some(t.id),
                            _ => None,
                        })
                    });
                    if let (Some(commit), Some(ctx)) = (commit, self.ctx()) {
                        ctx.tx_results.insert(name.clone(), commit);
                    }
                }
                // `let (sql, values) = Query::select()..build_sqlx(PostgresQueryBuilder);`: the SQL.
                if let (None, Some(sql)) = (&name, built_sql_name(&local.pat)) {
                    if driver::sea_query_text(&init.expr).is_some() {
                        self.note_local(&sql, &init.expr);
                    }
                }
                if let Some(name) = name {
                    // `let list = if let Some(l) = given { l } else { load().await? };`: where the
                    // caller passes `Some(..)`, the local is what the parameter held.
                    if let Some(p) = self.unwrapped_param(&init.expr) {
                        if let Some(ctx) = self.ctx() {
                            ctx.param_pos.insert(name.clone(), p);
                        }
                    }
                    self.note_local(&name, &init.expr);

                    // A connection or transaction handle is not data: using it is no dependency on
                    // the round trip that opened it.
                    if let Some(ctx) = self.ctx() {
                        let handle = matches!(
                            ctx.locals.get(&name),
                            Some(
                                Local::Executor {
                                    connection: true,
                                    ..
                                } | Local::Executor {
                                    transaction: true,
                                    ..
                                }
                            )
                        );
                        if handle {
                            let deps = ctx.stmt_deps.clone();
                            ctx.origin.insert(name, deps);
                        }
                    }
                }
            }
            syn::Stmt::Expr(expr, _) => {
                let mut defines = Vec::new();
                if let Expr::Assign(a) = expr {
                    if let Expr::Path(p) = &*a.left {
                        defines.push(driver::last_segment(&p.path));
                    }
                    // `self.router = self.router.route(..).nest("/teams", teams)` in a builder's method:
                    // the field stands in as a router local of this function (what other methods add
                    // to it is theirs).
                    if let Some(name) = self_field(&a.left) {
                        let grown = self_field(driver::chain(&a.right).0).as_ref() == Some(&name);
                        if grown && looks_like_router(&a.right) {
                            if let Some(ctx) = self.ctx() {
                                ctx.router_locals.entry(name.clone()).or_default();
                            }
                            if let Some(local) = self.local_router(&a.right) {
                                if let Some(ctx) = self.ctx() {
                                    ctx.router_locals.insert(name, local);
                                }
                                return;
                            }
                        }
                    }
                    // `app = app.route(…)`, `router = router.layer(auth)`: the router local grows.
                    if let Some(name) = single_path_ident(&a.left) {
                        if looks_like_router(&a.right) || self.grows_router_local(&a.right) {
                            if let Some(local) = self.local_router(&a.right) {
                                if let Some(ctx) = self.ctx() {
                                    // A router built afresh in one arm (`if auth { app =
                                    // Router::new().nest(..) } else { app = .. }`) does not undo
                                    // the one another arm built: both may serve.
                                    if let Some(earlier) = ctx.router_locals.insert(name, local) {
                                        ctx.routes.extend(earlier.finish());
                                    }
                                }
                                return;
                            }
                        }
                    }
                }
                // What the statement changes takes on its inputs: the receiver of a method call,
                // anything passed as `&mut x`, the base of an assigned field.
                let mut_args = |args: &Punctuated<Expr, Token![,]>| -> Vec<String> {
                    args.iter()
                        .filter_map(|a| match a {
                            Expr::Reference(r) if r.mutability.is_some() => {
                                field_path(&r.expr).into_iter().next()
                            }
                            _ => None,
                        })
                        .collect()
                };
                let extends: Vec<String> = match driver::strip_plumbing(expr) {
                    Expr::Assign(a) if !matches!(&*a.left, Expr::Path(_)) => {
                        field_path(&a.left).into_iter().take(1).collect()
                    }
                    Expr::MethodCall(m) => field_path(&m.receiver)
                        .into_iter()
                        .take(1)
                        .chain(mut_args(&m.args))
                        .filter(|n| n != "self")
                        .collect(),
                    Expr::Call(c) => mut_args(&c.args),
                    _ => Vec::new(),
                };
                // `routes.append(&mut accounts::routes())` in a function that returns routes: the list
                // is a router, and what is appended is mounted with it.
                if let Expr::MethodCall(m) = expr {
                    let list = single_path_ident(&m.receiver);
                    let adds = matches!(m.method.to_string().as_str(), "append" | "extend");
                    let returns_routes = self.fns.last().is_some_and(|c| c.returns_routes);
                    if let (Some(list), true, true, [arg]) = (
                        list,
                        adds,
                        returns_routes,
                        &m.args.iter().collect::<Vec<_>>()[..],
                    ) {
                        let mut inner = *arg;
                        while let Expr::Reference(r) = inner {
                            inner = &r.expr;
                        }
                        if let Some(entries) = self.router_expr(inner) {
                            if let Some(ctx) = self.ctx() {
                                ctx.router_locals.entry(list).or_default().extend(entries);
                            }
                            return;
                        }
                    }
                }
                // A local changed here (`query.page = Some(p)`, `query.set(..)`, `f(&mut query)`) no
                // longer holds the constant it was bound to.
                if let Some(ctx) = self.ctx() {
                    for name in defines.iter().chain(&extends) {
                        ctx.local_consts.remove(name);
                        ctx.local_calls.remove(name);
                    }
                }
                // `alerts.extend(queue.gather().await?)`: the call awaited in the arguments takes only
                // what they name; the list it adds to is changed after it answers.
                let uses = match driver::strip_plumbing(expr) {
                    Expr::MethodCall(m)
                        if !contains_await(&m.receiver)
                            && m.args.iter().any(contains_await)
                            && !field_path(&m.receiver).is_empty() =>
                    {
                        m.args.iter().flat_map(idents_used).collect()
                    }
                    _ => statement_uses(expr),
                };
                self.statement_using(uses, defines, extends, |v| {
                    let mark = v.new_mark();
                    v.visit_expr(expr);
                    v.propagate(expr, mark);
                });
            }
            syn::Stmt::Macro(m) => {
                let mac = &m.mac;
                self.statement(None, Vec::new(), Vec::new(), |v| v.visit_macro(mac));
            }
            syn::Stmt::Item(item) => {
                // A nested item is its own function; it does not run here.
                let saved = std::mem::take(&mut self.fns);
                self.visit_item(item);
                self.fns = saved;
            }
        }
    }

    fn visit_expr_await(&mut self, e: &'ast syn::ExprAwait) {
        let span = e.await_token.span;
        self.awaited(&e.base, Some(span));
    }

    fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
        // sailfish's `page.render_once()`, askama's `page.render()` in a file that derives `Template`:
        // a template's code runs here, which is not read.
        let renders = match m.method.to_string().as_str() {
            "render_once" | "render_once_to_string" => m.args.is_empty(),
            "render" => m.args.is_empty() && self.derives_template,
            _ => false,
        };
        if renders {
            for ctx in self.fns.iter_mut() {
                ctx.renders_template = true;
            }
        }
        if matches!(
            m.method.to_string().as_str(),
            "test_before_acquire" | "test_on_check_out"
        ) && is_false(m.args.first())
        {
            self.facts.checkout_test_off = true;
        }
        if !self.in_fn() {
            return visit::visit_expr_method_call(self, m);
        }
        // jsonrpsee's `module.register_async_method("getAccount", |params, ctx| async move { .. })`: the
        // closure answers the JSON-RPC method of that name, an entry point listed as `RPC /getAccount`.
        if let Some((name, closure)) = rpc_registration(m) {
            self.visit_expr(&m.receiver);
            let handler = self.closure_handler(closure);
            let loc = self.loc(m.method.span());
            if let Some(ctx) = self.ctx() {
                ctx.routes.push(RouteEntry::Route {
                    path: format!("/{name}"),
                    method: "RPC".into(),
                    handler,
                    loc,
                    layers: Vec::new(),
                    cfg: None,
                });
            }
            return;
        }
        // `CONFIG.get_or_init(|| load(&db))` on a static cell: a cached lookup, its loader run on a miss.
        if once_per_process(m) {
            return self.cached_lookup(m, false);
        }
        // `parts.extensions.insert(info.clone())`: the request now carries an `info`'s type.
        if let (true, [value]) = (
            m.method == "insert" && extensions_of(&m.receiver),
            m.args.iter().collect::<Vec<_>>().as_slice(),
        ) {
            let value: &Expr = match value {
                Expr::MethodCall(c) if c.method == "clone" => &c.receiver,
                other => other,
            };
            if let Some(ty) = self.expr_type(value) {
                let ty = match ty.as_str() {
                    "Self" => self.impl_ctx.as_ref().map(|c| c.0.clone()),
                    _ => Some(ty),
                };
                if let (Some(ty), Some(ctx)) = (ty, self.ctx()) {
                    ctx.extensions.push(ty);
                }
            }
        }
        // tonic's `Server::builder().layer(auth::create(..)).add_service(..)`: the layers run before every
        // gRPC method the server serves.
        if m.method == "layer" && m.args.len() == 1 && tonic_server(&m.receiver) {
            if let (Some(layer), Some(ctx)) = (router::tower_layer(&m.args[0]), self.ctx()) {
                ctx.server_layers.push(layer);
            }
        }
        let returns_filter = self.fns.last().is_some_and(|c| c.returns_filter);
        if super::warp::is_filter_chain(m, returns_filter) {
            let expr = Expr::MethodCall(m.clone());
            if let Some(entries) = super::warp::routes(&expr, self) {
                if let Some(ctx) = self.ctx() {
                    ctx.routes.extend(entries);
                }
                return;
            }
            // A filter of the analysed code (`fn signed_in(..) -> impl Filter { warp::header(..)
            // .and_then(signed_in_as) }`): what it hands the request to runs where the filter does.
            if let (true, Some(f)) = (returns_filter, super::warp::runs(m)) {
                visit::visit_expr_method_call(self, m);
                let call: Expr = syn::parse_quote_spanned!(f.span()=> #f().await);
                self.visit_expr(&call);
                return;
            }
        }
        let salvo =
            self.salvo_file && router::is_salvo_op(m) && router::salvo_rooted(&m.receiver, self);
        let grows = || self.grows_router_local(&Expr::MethodCall(m.clone()));
        if salvo || router::is_router_chain(m) || grows() {
            let expr = Expr::MethodCall(m.clone());
            if let Some(entries) = self.router_expr(&expr) {
                if let Some(ctx) = self.ctx() {
                    ctx.routes.extend(entries);
                }
                return;
            }
        }
        if let (Some(set), [fut]) = (
            single_path_ident(&m.receiver),
            m.args.iter().collect::<Vec<_>>().as_slice(),
        ) {
            // A future pushed into a `Vec` (made but not awaited: `let fut = q.execute(&pool);`, an
            // async block): the vector becomes a set of futures, run where it is joined.
            // A task's handle (`handles.push(tokio::spawn(..))`, or one a local holds): the task runs from
            // now on, so the set's tasks run alongside each other however they are awaited.
            let spawned_arg = match fut {
                Expr::Call(c) => matches!(&*c.func, Expr::Path(p) if driver::is_spawn(&p.path)),
                other => single_path_ident(other).is_some_and(|n| {
                    self.fns
                        .last()
                        .is_some_and(|c| c.spawned.iter().any(|(s, _)| *s == n))
                }),
            };
            let future_arg = spawned_arg
                || match fut {
                    Expr::Async(_) => true,
                    other => single_path_ident(other).is_some_and(|n| {
                        self.fns.last().is_some_and(|c| c.pending.contains_key(&n))
                    }),
                };
            if future_arg && m.method == "push" {
                if let Some(ctx) = self.ctx() {
                    if ctx.vectors.contains(&set) {
                        ctx.future_sets.entry(set.clone()).or_default();
                    }
                }
            }
            let is_set = self
                .fns
                .last()
                .is_some_and(|c| c.future_sets.contains_key(&set));
            if is_set
                && matches!(
                    m.method.to_string().as_str(),
                    "push" | "push_back" | "push_front" | "spawn"
                )
            {
                let branch = self.frame(|v| v.future(fut));
                if let Some(ctx) = self.ctx() {
                    if spawned_arg {
                        ctx.task_sets.insert(set.clone());
                    }
                    if let Some(list) = ctx.future_sets.get_mut(&set) {
                        list.push(branch);
                    }
                }
                return;
            }
        }
        // Work handed to a thread pool (`worker.execute(move || broadcast(..))`, scheduled_thread_pool's
        // `execute_after(delay, move || ..)`): it runs off the request path.
        if self.in_fn() && driver::runs_off_request(m) {
            let loc = self.loc(m.method.span());
            if let Some(task) = m.args.last() {
                let (body, _) = self.walk_body_in(self.captured(), |v| v.future(task));
                let params = std::mem::take(&mut self.last_local_types);
                self.detached_task(loc, params, body);
            }
            self.visit_expr(&m.receiver);
            return;
        }
        // A round trip that is not awaited here: a stream polled later, synchronous diesel in a
        // `conn.run(|c| ..)` shim, or a query future handed back to the caller.
        let catalog = self.catalog;
        let query_local = |name: &str| self.local_value(name);
        if let Some(shape) = driver::trip_shape_of_call(m, catalog, query_local) {
            let mark = self.new_mark();
            for (closure, _) in self.visit_chain_args(&m.receiver) {
                self.visit_expr_closure(closure);
            }
            m.args.iter().for_each(|a| self.visit_expr(a));
            self.trip(shape, None, mark);
            return;
        }
        // r2d2's `pool.get()`, synchronous: the pool checks the connection first (`test_on_check_out`).
        if self.r2d2_file
            && m.method == "get"
            && m.args.is_empty()
            && driver::names_a_pool(&m.receiver)
        {
            let mark = self.new_mark();
            self.visit_expr(&m.receiver);
            let check = driver::pool_check(m, "r2d2's `pool.get()`", Some(&*m.receiver));
            self.trip(check, None, mark);
            return;
        }
        // diesel 1's `conn.transaction(|| { .. })`, not awaited: BEGIN, the statements, COMMIT.
        if driver::is_transaction_closure(m) {
            let mark = self.new_mark();
            self.visit_expr(&m.receiver);
            self.transaction_closure(m, None, mark);
            return;
        }
        // `items.iter().map(|x| load(conn, x))`: a synchronous closure over an iterator runs once per
        // item, so what it calls is a loop.
        if self.iterator_closure(m) {
            return;
        }
        // `user.and_then(|u| u.has_liked(conn))`: an option's or a result's adapter runs its closure
        // on what it holds.
        if matches!(
            m.method.to_string().as_str(),
            "map" | "and_then" | "filter" | "is_some_and" | "is_ok_and" | "map_or" | "map_or_else"
        ) {
            for a in &m.args {
                if let Expr::Closure(c) = a {
                    self.type_closure_input(c, &m.receiver);
                }
            }
        }
        let mark = self.new_mark();
        visit::visit_expr_method_call(self, m);
        if self.in_fn() {
            let callee = self.method_callee(m);
            self.plain_call(callee, m.method.span(), span::of_method_call(m), mark);
            self.set_consts(m.args.iter().chain(std::iter::once(&*m.receiver)));
            self.set_types_of(m.turbofish.as_ref(), m.args.iter());
        }
    }

    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        // A detached task does not delay the response; an awaited one is handled by `awaited`.
        if let Expr::Path(p) = &*c.func {
            if self.in_fn() && driver::is_spawn(&p.path) {
                for arg in &c.args {
                    let (body, routes) = self.walk_body(|v| v.future(arg));
                    // A router built on another thread (`thread::spawn(|| { .. Router::new() .. })`).
                    if let Some(ctx) = self.ctx() {
                        ctx.routes.extend(routes);
                    }
                    let loc = self.loc(p.path.span());
                    self.detached_task(loc, Vec::new(), body);
                }
                return;
            }
        }
        // actix's `fn config(cfg: &mut ServiceConfig) { users::routes(cfg); }`: the routes of the function
        // the configuration is handed to are mounted here.
        if let Expr::Path(p) = &*c.func {
            let hands_sink = c.args.iter().any(|a| {
                single_path_ident(driver::strip_plumbing(a)).is_some_and(|n| self.is_route_sink(&n))
            });
            if hands_sink {
                let loc = self.loc(p.path.span());
                if let Some(ctx) = self.ctx() {
                    ctx.routes.push(RouteEntry::Mount {
                        prefix: String::new(),
                        target: driver::path_segments(&p.path),
                        loc,
                        layers: Vec::new(),
                    });
                }
            }
        }
        // `with_auth(state, Router::new().route(..))`: a router built here and handed to a function that
        // puts layers on it and hands it back: its routes are mounted here, behind those layers.
        if let (true, Expr::Path(_)) = (self.in_fn(), &*c.func) {
            let call = Expr::Call(c.clone());
            // Only where the router handed in is read whole (else its parts are visited as they are).
            let entries = hands_built_router(&call)
                .then(|| self.router_expr(&call))
                .flatten()
                .filter(|e| e.iter().any(|e| !matches!(e, RouteEntry::Mount { .. })));
            if let Some(entries) = entries {
                if let Some(ctx) = self.ctx() {
                    ctx.routes.extend(entries);
                }
                for a in c.args.iter().filter(|a| !builds_router(a)) {
                    self.visit_expr(a);
                }
                return;
            }
        }
        let mark = self.new_mark();
        visit::visit_expr_call(self, c);
        // A call that is not awaited reaches a synchronous function of the analysed code, if any
        // (a repository that runs synchronous diesel, a helper that builds a query future).
        if let (true, Expr::Path(p)) = (self.in_fn(), &*c.func) {
            // A closure held in a local (`let load = || async { .. };`) by the name of its synthetic
            // function: its future, handed to a function that awaits it, runs there.
            let local = p
                .path
                .get_ident()
                .and_then(|i| self.fns.last()?.closure_locals.get(&i.to_string()).cloned());
            let callee = Callee::Path(local.unwrap_or_else(|| driver::path_segments(&p.path)));
            self.plain_call(callee, p.path.span(), span::of_call(c), mark);
            self.set_consts(c.args.iter());
            self.set_call_types(c);
        }
    }

    fn visit_expr_break(&mut self, b: &'ast syn::ExprBreak) {
        visit::visit_expr_break(self, b);
        if let Some(ctx) = self.ctx() {
            ctx.push(Step::Break);
        }
    }

    fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
        // `return match found { Ok(s) => Ok(s), _ => Err(..) }`: each arm yields its own value.
        let mut arms = r.expr.as_deref();
        while let Some(Expr::Paren(p)) = arms {
            arms = Some(&p.expr);
        }
        let arms = arms.filter(|e| {
            matches!(e, Expr::If(_) | Expr::Match(_))
                || matches!(e, Expr::Block(b) if b.label.is_none())
        });
        let yields = match arms {
            Some(e) if self.in_fn() => {
                self.tail(e);
                None
            }
            _ => {
                visit::visit_expr_return(self, r);
                r.expr.as_deref().and_then(yield_tag)
            }
        };
        if self.closure_depth > 0 {
            return;
        }
        if let Some(ctx) = self.ctx() {
            ctx.push_yield(yields);
            ctx.push(Step::Exit);
        }
    }

    fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
        if !self.in_fn() {
            return visit::visit_expr_if(self, e);
        }
        // `if config::is_auth_enabled() { app = app.layer(..) }` (an `else` that assigns nothing, a
        // log line): the layer is put on where the flag function says.
        let plain_else = e.else_branch.as_ref().is_none_or(|(_, other)| {
            !quote::ToTokens::to_token_stream(other)
                .into_iter()
                .any(|t| matches!(t, proc_macro2::TokenTree::Punct(p) if p.as_char() == '='))
        });
        // `if is_e2e_testing { router = router.layer(from_fn(e2e_middleware)) }`: a layer put on only
        // in a test mode is left off (see `facts::TEST_MODE`).
        let flag = flag_call(&e.cond).or_else(|| test_mode(&e.cond));
        if let (Some(cond), true) = (flag, plain_else) {
            self.layer_conds.push(cond);
            self.visit_if(e);
            self.layer_conds.pop();
            return;
        }
        self.visit_if(e);
    }
    fn visit_expr_match(&mut self, e: &'ast syn::ExprMatch) {
        if !self.in_fn() {
            return visit::visit_expr_match(self, e);
        }
        if self.dispatch_routes(e) {
            return;
        }
        let tail = std::mem::take(&mut self.tail_arms);
        let mark = self.new_mark();
        self.visit_expr(&e.expr);
        // `match call.await? { .. }`: where the call fails, the function returns.
        if let Expr::Try(_) = &*e.expr {
            self.propagate(&e.expr, mark);
        }
        let made = self.made_since(mark);
        let mut arms = Vec::new();
        let on_param = self.guard_target(&e.expr);
        // `match (count > 0, aliases) { (true, Some(a)) => .., (true, None) => .., .. }`: each element
        // that is a parameter is tested by the same element of each arm's pattern.
        let mut scrutinee = &*e.expr;
        while let Expr::Group(g) = scrutinee {
            scrutinee = &g.expr;
        }
        let in_tuple: Vec<(usize, (usize, Option<String>))> = match scrutinee {
            Expr::Tuple(t) => t
                .elems
                .iter()
                .enumerate()
                .filter_map(|(i, el)| Some((i, self.guard_target(el)?)))
                .collect(),
            _ => Vec::new(),
        };
        // `match found { .. }` on a local a call or a round trip yielded earlier.
        let on_call = self.tested_call(&made).or_else(|| {
            on_param
                .is_none()
                .then(|| self.local_outcome(&e.expr))
                .flatten()
        });
        self.controlled_by(&e.expr, &made, |v| {
            for arm in &e.arms {
                v.bind(&arm.pat, &e.expr, &made);
                let steps = v.frame(|v| {
                    if let Some(predicate) = crate::build::predicate(&arm.attrs) {
                        v.cfg_guard(predicate);
                    }
                    if let (Some((param, field)), None) = (&on_param, &arm.guard) {
                        let prefix = field.as_ref().map(|f| format!(".{f}=")).unwrap_or_default();
                        v.guard(
                            *param,
                            pattern_tag(&arm.pat).map(|t| format!("{prefix}{t}")),
                        );
                    }
                    if let (syn::Pat::Tuple(pt), None) = (&arm.pat, &arm.guard) {
                        for (i, (param, field)) in &in_tuple {
                            let prefix =
                                field.as_ref().map(|f| format!(".{f}=")).unwrap_or_default();
                            let tag = pt.elems.iter().nth(*i).and_then(pattern_tag);
                            v.guard(*param, tag.map(|t| format!("{prefix}{t}")));
                        }
                    }
                    if let (Some(call), None) = (on_call, &arm.guard) {
                        v.guard_outcome(call, outcome_tag(&arm.pat));
                    }
                    if let Some((_, guard)) = &arm.guard {
                        v.visit_expr(guard);
                    }
                    if tail {
                        v.tail(&arm.body);
                    } else {
                        v.visit_expr(&arm.body);
                    }
                });
                arms.push(steps);
            }
        });
        let mut arms = drop_bare_guards(arms);
        // `match cache.get_member(&k) { Some(v) => return Ok(v), None => {} }`: what follows runs on a
        // miss.
        // In the function's value (`match s { Some(c) if c.fresh() => Some(c.v), _ => load().await }`),
        // the hit's arm is what it returns; a guard on it (the entry's freshness) leaves its miss to the
        // other arms.
        let hit = e.arms.iter().position(|a| {
            (a.guard.is_none() || tail) && pattern_tag(&a.pat).as_deref() == Some("Some")
        });
        let returns = |arm: &Vec<Step>| tail || super::may_exit(arm);
        if let Some(i) = hit.filter(|&i| arms.len() == e.arms.len() && returns(&arms[i])) {
            if self.cache_probe(&e.expr) {
                arms[i].insert(0, cache_miss());
            }
        }
        self.push_branch(arms);
    }

    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.scoped(|v| visit::visit_block(v, b));
    }

    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        if !self.in_fn() {
            return visit::visit_expr_for_loop(self, e);
        }
        // The loop's pattern binds its names for the loop alone (`for (merchant, keys) in ..` leaves the
        // parameter `merchant` as it was after the loop).
        self.scoped(|v| v.for_loop(e));
    }

    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        if !self.in_fn() {
            return visit::visit_expr_while(self, e);
        }
        // `while let Some(r) = set.next().await` drains a set of futures that run at once: the
        // concurrent group happens once, before the loop body repeats.
        let drains_set = match &*e.cond {
            Expr::Let(l) => {
                let (root, _) = driver::chain(driver::strip_plumbing(&l.expr));
                single_path_ident(root).is_some_and(|n| {
                    self.fns
                        .last()
                        .is_some_and(|c| c.future_sets.contains_key(&n))
                })
            }
            _ => false,
        };
        if drains_set {
            self.visit_expr(&e.cond);
        }
        let mut waits_only = false;
        let body = self.frame(|v| {
            if !drains_set {
                v.condition(&e.cond);
            }
            if let Expr::Let(l) = &*e.cond {
                v.bind(&l.pat, &l.expr, &[]);
            }
            let mark = v.frame_len();
            v.visit_block(&e.body);
            // `while taken(&db, &id).await? { id = new_id() }`: the body asks nothing, so the loop
            // retries the lookup until it answers as wanted (a new id is free on the first try).
            waits_only = contains_await(&e.cond) && !v.io_since(mark);
        });
        if !drains_set && (retries_until_ok(&e.body) || waits_only) {
            return self.push_once(body);
        }
        let loc = self.index.loc_between(e.while_token.span, e.cond.span());
        let forever =
            matches!(&*e.cond, Expr::Lit(syn::ExprLit { lit: syn::Lit::Bool(b), .. }) if b.value);
        let count = self.counted(Some(&e.cond), &e.body);
        self.push_loop(loc, body, count, forever && count.is_none());
        self.mark_poll(&e.body);
    }

    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        if !self.in_fn() {
            return visit::visit_expr_loop(self, e);
        }
        let body = self.frame(|v| v.visit_block(&e.body));
        let loc = self.loc(e.loop_token.span);
        if retries_until_ok(&e.body) {
            return self.push_once(body);
        }
        let count = self.counted(None, &e.body);
        self.push_loop(loc, body, count, count.is_none());
        self.mark_poll(&e.body);
    }

    fn visit_expr_closure(&mut self, c: &'ast syn::ExprClosure) {
        // A closure's body runs where it is called; iterator closures cannot await, and async
        // closures that are not joined or streamed are counted once, where they are written.
        self.type_written_inputs(c);
        self.closure_depth += 1;
        visit::visit_expr_closure(self, c);
        self.closure_depth -= 1;
    }

    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        if !self.in_fn() {
            return;
        }
        if self.expand_macro(m) {
            return;
        }
        // rbatis' `impled!()`, the body of a function its `#[html_sql(..)]` or `#[py_sql(..)]` writes: the
        // statement it names, sent on the executor the function takes first.
        if driver::last_segment(&m.path) == "impled" {
            if let Some(rb) = self.rbatis_fn.clone() {
                if let Ok(executor) = syn::parse_str::<Expr>(&rb.executor) {
                    let shape = TripShape {
                        kind: TripKind::Query,
                        api: format!("rbatis #[{}]", rb.attr),
                        sql: SqlRef::Text(rb.sql),
                        executor: Some(&executor),
                        start: m.path.span(),
                        call: m.path.span(),
                        access: None,
                        database: None,
                        service: false,
                        checkout: false,
                        prepares_text: false,
                        settings: 0,
                        statements: rb.statements,
                        method: None,
                        locks: false,
                        origin: None,
                    };
                    let mark = self.new_mark();
                    self.trip(shape, None, mark);
                    return;
                }
            }
        }
        if matches!(
            driver::last_segment(&m.path).as_str(),
            "panic" | "bail" | "unreachable" | "todo" | "unimplemented"
        ) {
            if let Some(ctx) = self.ctx() {
                ctx.push(Step::Exit);
            }
            return;
        }
        // rocket `routes![a, b]` (and utoipa-axum `routes!(..)`) returned or held: handlers to mount;
        // rocket_okapi's `mount_endpoints_and_merged_docs! { .. }` mounting route lists.
        let name = driver::last_segment(&m.path);
        if router::ROUTE_LIST_MACROS.contains(&name.as_str())
            || name == "mount_endpoints_and_merged_docs"
        {
            let expr = Expr::Macro(syn::ExprMacro {
                attrs: Vec::new(),
                mac: m.clone(),
            });
            if let Some(entries) = self.router_expr(&expr) {
                if let Some(ctx) = self.ctx() {
                    ctx.routes.extend(entries);
                }
            }
            return;
        }
        // rpc-router's `router_builder!(create_task, list_tasks)` (or `router_builder!(handlers:
        // [..])`): each function answers the JSON-RPC method of its name, an entry point listed as
        // `RPC /create_task`.
        if name == "router_builder" {
            let entries = rpc_functions(&m.tokens)
                .into_iter()
                .map(|f| RouteEntry::Route {
                    path: format!("/{}", f.last().cloned().unwrap_or_default()),
                    method: "RPC".into(),
                    handler: f,
                    loc: self.loc(m.path.span()),
                    layers: Vec::new(),
                    cfg: None,
                })
                .collect::<Vec<_>>();
            if let Some(ctx) = self.ctx() {
                ctx.routes.extend(entries);
            }
            return;
        }
        if let Some(form) = driver::is_join_macro(&m.path, self.catalog) {
            let tokens = strip_biased(m.tokens.clone());
            if let Ok(args) =
                syn::parse::Parser::parse2(Punctuated::<Expr, Token![,]>::parse_terminated, tokens)
            {
                let args: Vec<&Expr> = args.iter().collect();
                self.concurrent(form, m.path.span(), &args);
            }
            return;
        }
        // A project's own macro that wraps round trips (`fetch_home_blogs!(&conn)`): a call to the
        // function the model made of its definition.
        let name = driver::last_segment(&m.path);
        if !STD_MACROS.contains(&name.as_str()) {
            let loc = self.loc(m.path.span());
            if let Some(ctx) = self.ctx() {
                let id = ctx.id();
                let after = ctx.stmt_deps.clone();
                ctx.push(Step::Call(Call {
                    after,
                    ..Call::new(id, loc, Callee::Path(vec![format!("{name}!")]))
                }));
            }
        }
        // Other macros (`format!`, `tracing::info!`, a template crate's `render!`) may hold calls as plain
        // arguments, awaited or not (arguments that make no call are not parsed).
        if !tokens_mention_call(m.tokens.clone()) {
            return;
        }
        if let Ok(args) = syn::parse::Parser::parse2(
            Punctuated::<Expr, Token![,]>::parse_terminated,
            m.tokens.clone(),
        ) {
            for arg in &args {
                self.visit_expr(arg);
            }
        } else if matches!(name.as_str(), "json" | "doc" | "bson") {
            // serde_json's `json!({ "users": { "total": User::count(&db)? } })` and bson's `doc! { .. }`:
            // the values of its objects and arrays, in order.
            for value in json_values(m.tokens.clone()) {
                self.visit_expr(&value);
            }
        } else if let Ok(stmts) =
            syn::parse::Parser::parse2(syn::Block::parse_within, m.tokens.clone())
        {
            // A body of statements (async-stream's `stream! { let mut rows = repo.all(&pool); while let
            // Some(row) = rows.try_next().await? { yield row } }`), run where the macro is.
            for stmt in &stmts {
                self.visit_stmt(stmt);
            }
        }
    }
}

/// The values a `json!`-like literal holds, in order: each object entry's value (after its key's `:`),
/// each array element, and a value that is neither, parsed as an expression.
fn json_values(tokens: proc_macro2::TokenStream) -> Vec<Expr> {
    use proc_macro2::{Delimiter, TokenTree};
    fn is_colon(t: Option<&TokenTree>) -> bool {
        matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == ':')
    }
    // Where an object entry's value starts: after the first `:` that is not half of a `::`.
    fn value_start(entry: &[TokenTree]) -> Option<usize> {
        (0..entry.len())
            .find(|&k| {
                is_colon(entry.get(k))
                    && !is_colon(entry.get(k + 1))
                    && !(k > 0 && is_colon(entry.get(k - 1)))
            })
            .map(|k| k + 1)
    }
    fn is_value(trees: &[TokenTree]) -> bool {
        matches!(trees, [TokenTree::Group(g)] if g.delimiter() != Delimiter::Parenthesis)
            || syn::parse2::<Expr>(trees.iter().cloned().collect()).is_ok()
    }
    // The pieces between top-level commas, a piece that does not yet read as one item joined to the
    // next (a comma of a turbofish, `query_scalar::<_, i64>(..)`, is not between items).
    fn items(
        tokens: proc_macro2::TokenStream,
        whole: impl Fn(&[TokenTree]) -> bool,
    ) -> Vec<Vec<TokenTree>> {
        let mut out = Vec::new();
        let mut current: Vec<TokenTree> = Vec::new();
        for t in tokens {
            match &t {
                TokenTree::Punct(p) if p.as_char() == ',' && !current.is_empty() => {
                    if whole(&current) {
                        out.push(std::mem::take(&mut current));
                    } else {
                        current.push(t);
                    }
                }
                _ => current.push(t),
            }
        }
        if !current.is_empty() {
            out.push(current);
        }
        out
    }
    // Objects nested deeper than this are not read (a hostile file cannot exhaust the stack).
    const DEPTH: usize = 32;
    fn value(trees: &[TokenTree], out: &mut Vec<Expr>, depth: usize) {
        if depth > DEPTH {
            return;
        }
        match trees {
            [TokenTree::Group(g)] if g.delimiter() == Delimiter::Brace => {
                let entry = |e: &[TokenTree]| value_start(e).is_some_and(|k| is_value(&e[k..]));
                for e in items(g.stream(), entry) {
                    if let Some(k) = value_start(&e) {
                        value(&e[k..], out, depth + 1);
                    }
                }
            }
            [TokenTree::Group(g)] if g.delimiter() == Delimiter::Bracket => {
                for element in items(g.stream(), is_value) {
                    value(&element, out, depth + 1);
                }
            }
            _ => {
                if let Ok(e) = syn::parse2::<Expr>(trees.iter().cloned().collect()) {
                    out.push(e);
                }
            }
        }
    }
    let mut out = Vec::new();
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    // `doc! { "k": v }` holds an object's entries without braces of their own.
    match trees.as_slice() {
        [TokenTree::Group(g)] if g.delimiter() != Delimiter::None => value(&trees, &mut out, 0),
        _ => {
            let object = proc_macro2::Group::new(Delimiter::Brace, trees.into_iter().collect());
            value(&[TokenTree::Group(object)], &mut out, 0);
        }
    }
    out
}

/// `rpc_router.call(req)`, `.call_with_resources(req, res)`, `.call_route(..)`: rpc-router's router
/// running the function a JSON-RPC request names, on a receiver named or typed as one.
fn is_rpc_dispatch<'t>(
    m: &syn::ExprMethodCall,
    param_type: impl Fn(&str) -> Option<&'t str>,
) -> bool {
    let Expr::Path(p) = &*m.receiver else {
        return false;
    };
    let name = driver::last_segment(&p.path);
    let rpc = |t: &str| t.to_ascii_lowercase().contains("rpc");
    matches!(
        m.method.to_string().as_str(),
        "call" | "call_with_resources" | "call_route" | "call_route_with_resources"
    ) && (rpc(&name) || param_type(&name).is_some_and(rpc))
}

/// `-> &'static str`.
fn returns_static_str(output: &syn::ReturnType) -> bool {
    let syn::ReturnType::Type(_, ty) = output else {
        return false;
    };
    let syn::Type::Reference(r) = &**ty else {
        return false;
    };
    r.lifetime.as_ref().is_some_and(|l| l.ident == "static")
        && matches!(&*r.elem, syn::Type::Path(p) if p.path.is_ident("str"))
}

/// The functions `router_builder!(a, b)` or `router_builder!(handlers: [a, b], ..)` lists.
fn rpc_functions(tokens: &proc_macro2::TokenStream) -> Vec<Vec<String>> {
    let paths = |tokens: proc_macro2::TokenStream| {
        syn::parse::Parser::parse2(Punctuated::<syn::Path, Token![,]>::parse_terminated, tokens)
            .map(|ps| ps.iter().map(driver::path_segments).collect::<Vec<_>>())
            .ok()
    };
    if let Some(list) = paths(tokens.clone()) {
        return list;
    }
    // `handlers: [a, b]`: the bracketed list after `handlers`.
    let trees: Vec<proc_macro2::TokenTree> = tokens.clone().into_iter().collect();
    trees
        .windows(3)
        .find_map(|w| match w {
            [proc_macro2::TokenTree::Ident(i), proc_macro2::TokenTree::Punct(_), proc_macro2::TokenTree::Group(g)]
                if i == "handlers" =>
            {
                paths(g.stream())
            }
            _ => None,
        })
        .unwrap_or_default()
}

/// Is this `impl` a GraphQL schema's query or mutation root: juniper's `#[graphql_object]` or
/// async-graphql's `#[Object]` on a type named as one (`QueryRoot`, `Mutation`, `UserQuery`, the parts
/// of a `MergedObject`)?
fn graphql_root(attrs: &[syn::Attribute], ty: &syn::Type) -> bool {
    let syn::Type::Path(tp) = ty else {
        return false;
    };
    super::graphql_root_name(&driver::last_segment(&tp.path)) && graphql_object(attrs)
}

/// juniper's `#[graphql_object]` or async-graphql's `#[Object]`: an impl whose methods are fields.
fn graphql_object(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "graphql_object" || s.ident == "Object")
    })
}

/// `#[graphql(skip)]` / `#[graphql(ignore)]`: a method of a GraphQL root that is no field.
fn graphql_skipped(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("graphql") && {
            let text = quote::ToTokens::to_token_stream(&a.meta).to_string();
            text.split(|c: char| !c.is_alphanumeric())
                .any(|w| w == "skip" || w == "ignore")
        }
    })
}

/// `schema.execute(req)`, `request.execute(&schema, &ctx)`, `execute_batch`, `execute_stream`: a GraphQL
/// schema running a request, by the names or, for a parameter, the types (`data: Json<GraphQLRequest>`,
/// `st: Data<Arc<Schema>>`) of what it is called on and with.
/// juniper's free functions that run a schema: `juniper::execute(&query, op, &root, &vars, &ctx)`.
fn is_graphql_function(call: &syn::ExprCall) -> bool {
    let Expr::Path(p) = &*call.func else {
        return false;
    };
    matches!(driver::path_segments(&p.path).as_slice(),
        [lib, f] if lib == "juniper" && matches!(f.as_str(), "execute" | "execute_sync"))
}

fn is_graphql_execution<'t>(
    m: &syn::ExprMethodCall,
    param_type: impl Fn(&str) -> Option<&'t str>,
) -> bool {
    let mentions_schema = |e: &Expr| {
        let mut e = e;
        while let Expr::Reference(r) = e {
            e = &r.expr;
        }
        // A place (`schema`, `state.schema`), not a call that builds something (`sqlx::query("INSERT
        // INTO graphql_log ..")`).
        if !matches!(e, Expr::Path(_) | Expr::Field(_)) {
            return false;
        }
        let text = quote::ToTokens::to_token_stream(e).to_string();
        let root = text
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .next()
            .unwrap_or_default();
        let ty = param_type(root).unwrap_or_default();
        [text.as_str(), ty].iter().any(|t| {
            let t = t.to_ascii_lowercase();
            t.contains("schema") || t.contains("graphql") || t.contains("rootnode")
        })
    };
    matches!(
        m.method.to_string().as_str(),
        "execute" | "execute_batch" | "execute_stream" | "execute_sync"
    ) && (mentions_schema(&m.receiver) || m.args.iter().any(mentions_schema))
}

/// Drops the calls in `handed` (a closure held in a local, run where it is handed on by name) whose
/// closure the function also calls itself (`update().await` under one `cfg`, `publish(.., update)` under
/// the other): that call already prices it.
fn drop_closures_called_here(steps: &mut Vec<Step>, handed: &[u32]) {
    if handed.is_empty() {
        return;
    }
    let mut called = HashSet::new();
    let mut paths = HashMap::new();
    for step in steps.iter() {
        step.walk(&mut |s| {
            if let Step::Call(c) = s {
                if let Callee::Path(p) = &c.callee {
                    if handed.contains(&c.id) {
                        paths.insert(c.id, p.clone());
                    } else {
                        called.insert(p.clone());
                    }
                }
            }
        });
    }
    let dropped: HashSet<u32> = paths
        .into_iter()
        .filter(|(_, p)| called.contains(p))
        .map(|(id, _)| id)
        .collect();
    if !dropped.is_empty() {
        super::retain_steps(
            steps,
            &|s| !matches!(s, Step::Call(c) if dropped.contains(&c.id)),
        );
    }
}

/// `async |x| …`, `|x| async { … }`, `|x| { let y = …; async move { … } }`.
/// An enum, one of its variants, and the names a pattern of it binds, each with its place in the
/// variant (position or field name).
type VariantBindings = (String, String, Vec<(String, String)>);

/// The method router a block's `let` makes for the local the block ends with (`{ let mut h =
/// post(handler); ..; h.route_layer(stack) }`). The layers put on it are not followed.
fn block_method_router(e: &Expr) -> Option<&Expr> {
    let Expr::Block(b) = e else { return None };
    let Some(syn::Stmt::Expr(tail, None)) = b.block.stmts.last() else {
        return None;
    };
    // The local itself, or a layer put on it (`h.route_layer(stack)`).
    let tail = single_path_ident(driver::chain(tail).0)?;
    b.block.stmts.iter().rev().find_map(|s| match s {
        syn::Stmt::Local(l) if single_ident(&l.pat).as_deref() == Some(tail.as_str()) => {
            let init = &l.init.as_ref()?.expr;
            router::is_method_router(init).then_some(&**init)
        }
        _ => None,
    })
}

/// jsonrpsee's `register_method("name", |params, ctx| ..)` (also `register_async_method`,
/// `register_blocking_method`): the method's name and the closure that answers it.
fn rpc_registration(m: &syn::ExprMethodCall) -> Option<(String, &syn::ExprClosure)> {
    if !matches!(
        m.method.to_string().as_str(),
        "register_method" | "register_async_method" | "register_blocking_method"
    ) {
        return None;
    }
    // The arguments of a project macro that registers (`register!("ping", ping)`) come in groups.
    let args: Vec<&Expr> = m.args.iter().map(driver::ungrouped).collect();
    match args.as_slice() {
        [Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(name),
            ..
        }), Expr::Closure(c)] => Some((name.value(), c)),
        _ => None,
    }
}

/// The name a `let` binds to an iterator of futures no one awaits yet (`let futures =
/// ids.into_iter().map(|v| async move { .. });`).
fn future_iter_local(local: &syn::Local) -> Option<String> {
    let name = single_ident(&local.pat)?;
    let init = local.init.as_ref().filter(|i| i.diverge.is_none())?;
    let Expr::MethodCall(m) = &*init.expr else {
        return None;
    };
    if !matches!(m.method.to_string().as_str(), "map" | "filter_map") {
        return None;
    }
    let closure = m.args.iter().find_map(|a| match a {
        Expr::Closure(c) => Some(c),
        _ => None,
    })?;
    // `|p| build(ctx, p)`: a call whose future the join awaits (an async function's), or what a
    // synchronous one returns, which stays where it is when no join takes the local.
    // Only over an iterator's items (`into_iter()`, `iter()`): `fut.map(|r| r.and_then(..))` maps a future.
    let call = matches!(&*closure.body, Expr::Call(_) | Expr::MethodCall(_))
        && !contains_await(&closure.body)
        && yields_items(&m.receiver);
    (returns_future(closure) || call).then_some(name)
}

/// The inline modules of a file that pull in a build script's output (see [`includes_build_output`]).
fn generated_modules(items: &[syn::Item]) -> HashSet<String> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) => {
                let (_, content) = m.content.as_ref()?;
                content
                    .iter()
                    .any(includes_build_output)
                    .then(|| driver::ident(&m.ident))
            }
            _ => None,
        })
        .collect()
}

/// A future-iterator local whose items come from an awaited call (`let futs = load(..).await?.into_iter()
/// .map(|p| build(p));`): the items' expression, and the local with a placeholder in its place.
fn awaited_items(local: &syn::Local) -> Option<(Expr, syn::Stmt)> {
    let init = local.init.as_ref()?;
    let Expr::MethodCall(m) = &*init.expr else {
        return None;
    };
    if !contains_await(&m.receiver) {
        return None;
    }
    let mut rest = local.clone();
    let mut call = m.clone();
    *call.receiver = syn::parse_quote!(__items);
    *rest.init.as_mut()?.expr = Expr::MethodCall(call);
    Some(((*m.receiver).clone(), syn::Stmt::Local(rest)))
}

/// The synchronous closure an iterator adapter runs once per item (`iter().map(|x| load(conn, x))`,
/// `into_iter().for_each(..)`, `iter().fold(0, |n, x| ..)`), if `m` is one.
fn iterator_closure_of(m: &syn::ExprMethodCall) -> Option<&syn::ExprClosure> {
    let adapter = matches!(
        m.method.to_string().as_str(),
        "map"
            | "for_each"
            | "filter_map"
            | "flat_map"
            | "filter"
            | "find"
            | "find_map"
            | "any"
            | "all"
            | "fold"
            | "try_for_each"
            | "try_fold"
            | "map_while"
            | "take_while"
            | "skip_while"
            | "inspect"
            | "partition"
    );
    let Some(Expr::Closure(closure)) = m.args.iter().find(|a| matches!(a, Expr::Closure(_))) else {
        return None;
    };
    if !adapter || returns_future(closure) {
        return None;
    }
    // Only over an iterator (`Option::map` runs at most once).
    let calls = driver::chain(&m.receiver).1;
    let over_items = calls
        .iter()
        .any(|c| driver::makes_iterator(&c.method.to_string()));
    over_items.then_some(closure)
}

/// Marks the call a closure's body hands back (`|c| repo.delete_by_id(c.id)`, not awaited) as
/// [`Call::returned`]: the last call of that name at the top of the body's steps.
fn mark_returned(body: &mut [Step], value: &Expr) {
    let mut e = value;
    loop {
        match e {
            Expr::Paren(p) => e = &p.expr,
            Expr::Block(b) => match b.block.stmts.last() {
                Some(syn::Stmt::Expr(tail, None)) => e = tail,
                _ => return,
            },
            _ => break,
        }
    }
    let name = match e {
        Expr::MethodCall(m) => m.method.to_string(),
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => driver::last_segment(&p.path),
            _ => return,
        },
        _ => return,
    };
    let named = |c: &Call| match &c.callee {
        Callee::Method { name: n, .. } => *n == name,
        Callee::Path(segs) => segs.last() == Some(&name),
        Callee::Extractor(_) => false,
    };
    let tail = body.iter_mut().rev().find_map(|s| match s {
        Step::Call(c) if !c.awaited && named(c) => Some(c),
        _ => None,
    });
    if let Some(c) = tail {
        c.returned = true;
    }
}

fn returns_future(closure: &syn::ExprClosure) -> bool {
    if closure.asyncness.is_some() {
        return true;
    }
    match &*closure.body {
        Expr::Async(_) => true,
        Expr::Block(b) => matches!(
            b.block.stmts.last(),
            Some(syn::Stmt::Expr(Expr::Async(_), None))
        ),
        _ => false,
    }
}

/// A local holding SQL text (`let sql = "SELECT …";`, `format!(..)`, `include_str!("q.sql")`), which
/// a driver call may take by name.
fn sql_text_local(init: &Expr) -> Option<Local> {
    match init {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(Local::Query(SqlRef::Text(s.value()), None)),
        Expr::Macro(m) => match driver::last_segment(&m.mac.path).as_str() {
            "format" | "concat" | "indoc" | "formatdoc" => Some(Local::Query(
                driver::first_string_literal(&m.mac.tokens)
                    .map(SqlRef::Text)
                    .unwrap_or(SqlRef::Unknown),
                None,
            )),
            "include_str" => Some(Local::Query(SqlRef::Unknown, None)),
            _ => None,
        },
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "replace" | "to_string" | "to_owned" | "trim"
            ) =>
        {
            sql_text_local(&m.receiver)
        }
        _ => None,
    }
}

/// The type a `let` spells: an annotation, `Type::new(..)` / `Type::from(..)`, or `Type { .. }`.
fn local_type(pat: &syn::Pat, init: &Expr) -> Option<String> {
    if let syn::Pat::Type(t) = pat {
        return core_type(&t.ty);
    }
    value_type(init)
}

/// The type of a value a call or a struct literal makes, as far as the code spells it.
fn value_type(init: &Expr) -> Option<String> {
    match driver::strip_plumbing(init) {
        Expr::Call(c) => match &*c.func {
            // `Arc::clone(&state.project_service)`: another handle on the value a field holds.
            Expr::Path(p)
                if c.args.len() == 1
                    && matches!(&c.args[0], Expr::Reference(r) if matches!(&*r.expr, Expr::Field(_)))
                    && matches!(driver::path_segments(&p.path).as_slice(),
                        [.., ty, f] if f == "clone" && matches!(ty.as_str(), "Arc" | "Rc" | "Clone")) =>
            {
                value_type(&c.args[0])
            }
            Expr::Path(p) => {
                let segs = driver::path_segments(&p.path);
                let ty = segs.len().checked_sub(2).map(|i| &segs[i]);
                let constructor = segs.last().is_some_and(|f| {
                    f == "new"
                        || f.starts_with("connect")
                        || f.starts_with("from")
                        || f.starts_with("with")
                });
                let upper = |s: &str| s.starts_with(|ch: char| ch.is_ascii_uppercase());
                let last = segs.last()?;
                match ty {
                    Some(ty) if constructor && upper(ty) => Some(ty.clone()),
                    // A tuple struct or a variant built in place (`MerchantIdAuth(id)`,
                    // `Auth::Key(k)`): the struct, or the enum. (`Some(x)` and `Ok(x)` say nothing.)
                    _ if upper(last) && !matches!(last.as_str(), "Some" | "Ok" | "Err") => {
                        Some(ty.filter(|t| upper(t)).unwrap_or(last).clone())
                    }
                    // Any other call: its type is what the function it reaches returns.
                    _ => Some(format!("{}{}", super::RETURNED_BY, segs.join("::"))),
                }
            }
            _ => None,
        },
        // A unit struct (`let validator = SourceValidator;`), or a unit variant of an enum
        // (`Mode::Strict`): a value of that type. A constant (`MAX_LEN`) or `None` is not one.
        Expr::Path(p) if p.qself.is_none() => {
            let segs = driver::path_segments(&p.path);
            let camel = |s: &String| {
                s.starts_with(|c: char| c.is_ascii_uppercase())
                    && s.chars().any(|c| c.is_ascii_lowercase())
            };
            match segs.as_slice() {
                [.., owner, variant] if camel(owner) && camel(variant) && owner != "Self" => {
                    Some(owner.clone())
                }
                [.., last] if camel(last) && last != "None" => Some(last.clone()),
                _ => None,
            }
        }
        // `MailMessage::MfaConfigured { .. }`: a variant built with its fields is of its enum.
        Expr::Struct(st) => {
            let segs = driver::path_segments(&st.path);
            match segs.as_slice() {
                [.., owner, _]
                    if owner != "Self" && owner.starts_with(|c: char| c.is_ascii_uppercase()) =>
                {
                    Some(owner.clone())
                }
                _ => Some(driver::last_segment(&st.path)),
            }
        }
        Expr::Reference(r) => match &*r.expr {
            Expr::Field(_) => value_type(&r.expr),
            // `&*state.queue_service`: what the `Arc` in the field holds.
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => value_type(&u.expr),
            _ => None,
        },
        Expr::Field(_) => {
            let place = field_path(init);
            (place.len() > 1).then(|| format!("{}{}", super::PLACE, place.join(super::FIELD)))
        }
        // `state.store.as_ref()`, `state.pool.clone()`: what the field holds, through its box or `Arc`.
        Expr::MethodCall(m)
            if m.args.is_empty()
                && matches!(&*m.receiver, Expr::Field(_))
                && SAME_VALUE.contains(&m.method.to_string().as_str()) =>
        {
            value_type(&m.receiver)
        }
        // `let deps = self.clone();` in a trait's default body: a value of the type the copy runs for.
        Expr::MethodCall(m)
            if m.args.is_empty()
                && matches!(&*m.receiver, Expr::Path(p) if p.path.is_ident("self"))
                && SAME_VALUE.contains(&m.method.to_string().as_str()) =>
        {
            Some(format!("{}self", super::PLACE))
        }
        // `match Comment::from_id(..) { Ok(c) => c, Err(e) => return .. }`: what the call gives, as `?`
        // would unwrap it.
        Expr::Match(m) if unwraps(m) => value_type(&m.expr),
        _ => None,
    }
}

/// A `match` that yields what its scrutinee holds (`Ok(v) => v`, `Some(v) => v`) and leaves in each
/// other arm (`return`, `continue`, `break`, a panic).
fn unwraps(m: &syn::ExprMatch) -> bool {
    let yields_binding = |arm: &syn::Arm| {
        let syn::Pat::TupleStruct(t) = &arm.pat else {
            return false;
        };
        let (Some(syn::Pat::Ident(bound)), 1) = (t.elems.first(), t.elems.len()) else {
            return false;
        };
        let mut body = &*arm.body;
        while let Expr::Block(b) = body {
            match b.block.stmts.as_slice() {
                [syn::Stmt::Expr(e, None)] => body = e,
                _ => return false,
            }
        }
        is_success_pattern(&arm.pat)
            && matches!(body, Expr::Path(p) if p.path.is_ident(&bound.ident))
    };
    let leaves = |body: &Expr| match body {
        Expr::Return(_) | Expr::Continue(_) | Expr::Break(_) => true,
        Expr::Macro(m) => m.mac.path.segments.last().is_some_and(|s| {
            matches!(
                s.ident.to_string().as_str(),
                "panic" | "unreachable" | "todo" | "unimplemented" | "bail"
            )
        }),
        Expr::Block(b) => matches!(
            b.block.stmts.last(),
            Some(syn::Stmt::Expr(
                Expr::Return(_) | Expr::Continue(_) | Expr::Break(_),
                _
            ))
        ),
        _ => false,
    };
    m.arms.iter().any(yields_binding) && m.arms.iter().all(|a| yields_binding(a) || leaves(&a.body))
}

/// The value under references, parentheses, the plumbing of `driver::strip_plumbing` and these
/// argument-less views of it (`&opt.as_ref()` is `opt`).
fn through_views<'e>(e: &'e Expr, views: &[&str]) -> &'e Expr {
    let mut e = driver::strip_plumbing(e);
    loop {
        match e {
            Expr::Reference(r) => e = &r.expr,
            Expr::Paren(p) => e = &p.expr,
            Expr::MethodCall(m)
                if m.args.is_empty() && views.contains(&m.method.to_string().as_str()) =>
            {
                e = &m.receiver
            }
            _ => return e,
        }
    }
}

/// Methods that hand back the value they are called on, or what the box or the lock around it holds.
const SAME_VALUE: &[&str] = &[
    "clone", "as_ref", "as_deref", "as_mut", "borrow", "deref", "get_ref",
];

/// What a call by path returns, as a local it makes is typed (`RETURNED_BY` + the path).
fn returned_by(c: &syn::ExprCall) -> Option<String> {
    let Expr::Path(p) = &*c.func else { return None };
    Some(format!(
        "{}{}",
        super::RETURNED_BY,
        driver::path_segments(&p.path).join("::")
    ))
}

/// The tuple type a destructuring `let` spells: an annotation, or what the called function returns.
/// The futures a join awaits (`try_join!(a, b)?`, `future::try_join(a, b).await`), and the statements
/// before it where it ends a macro's closure (`with_connection!(pool, |c| { let a = ..; try_join!(a,
/// b) })`: a macro that runs a closure it is given yields what the closure does).
fn joined_futures(
    e: &Expr,
    catalog: &Catalog,
    depth: usize,
) -> Option<(Vec<Expr>, Vec<syn::Stmt>)> {
    if depth > 4 {
        return None;
    }
    match driver::strip_plumbing(e) {
        Expr::Await(a) => joined_futures(&a.base, catalog, depth + 1),
        Expr::Try(t) => joined_futures(&t.expr, catalog, depth + 1),
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "unwrap" | "expect" | "map_err" | "context" | "wrap_err"
            ) =>
        {
            joined_futures(&m.receiver, catalog, depth + 1)
        }
        Expr::Macro(m) => {
            let tokens = strip_biased(m.mac.tokens.clone());
            let parsed =
                syn::parse::Parser::parse2(Punctuated::<Expr, Token![,]>::parse_terminated, tokens)
                    .ok()?;
            if driver::is_join_macro(&m.mac.path, catalog).is_some() {
                return Some((parsed.into_iter().collect(), Vec::new()));
            }
            let Some(Expr::Closure(c)) = parsed.into_iter().last() else {
                return None;
            };
            let mut stmts = match *c.body {
                Expr::Block(b) => b.block.stmts,
                Expr::Async(a) => a.block.stmts,
                _ => return None,
            };
            let Some(syn::Stmt::Expr(tail, None)) = stmts.pop() else {
                return None;
            };
            let (args, _) = joined_futures(&tail, catalog, depth + 1)?;
            Some((args, stmts))
        }
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) if driver::is_join_fn(&p.path, catalog).is_some() => {
                Some((c.args.iter().cloned().collect(), Vec::new()))
            }
            _ => None,
        },
        _ => None,
    }
}

/// The row type of sqlx's typed query fetched (`query_as::<_, User>(..).bind(..).fetch_one(db)`,
/// `query_as!(User, "..")`, `query_scalar` left out: its type is a column's).
fn sqlx_row_type(e: &Expr) -> Option<String> {
    let Expr::MethodCall(m) = e else { return None };
    if !matches!(
        m.method.to_string().as_str(),
        "fetch_one" | "fetch_optional" | "fetch_all" | "fetch"
    ) {
        return None;
    }
    let mut e = &*m.receiver;
    for _ in 0..32 {
        match e {
            Expr::MethodCall(b) if b.method == "bind" || b.method == "persistent" => {
                e = &b.receiver
            }
            Expr::Call(c) => {
                let Expr::Path(p) = &*c.func else { return None };
                let last = p.path.segments.last()?;
                if last.ident != "query_as" {
                    return None;
                }
                let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
                    return None;
                };
                let Some(syn::GenericArgument::Type(ty)) = args.args.iter().nth(1) else {
                    return None;
                };
                return core_type(ty);
            }
            Expr::Macro(mac) => {
                let name = driver::last_segment(&mac.mac.path);
                if name != "query_as" && name != "query_file_as" {
                    return None;
                }
                let first = mac.mac.tokens.clone().into_iter().next()?;
                let ty: syn::Type = syn::parse2(first.into()).ok()?;
                return core_type(&ty);
            }
            _ => return None,
        }
    }
    None
}

fn tuple_type(pat: &syn::Pat, init: &Expr) -> Option<String> {
    if let syn::Pat::Type(t) = pat {
        return core_type(&t.ty);
    }
    match driver::strip_plumbing(init) {
        Expr::Call(c) => returned_by(c),
        _ => None,
    }
}

/// The id of a trip or call, which moves with it.
/// The value an expression yields, as guards name it: the innermost variant (`Ok(Next::Replay(r))` →
/// `Replay`), `Err`, `None`, `Some`/`Ok` around a plain value; rocket's `Outcome::Error(..)` → `Err`.
/// The expression that makes the value an option, a result or a future of `e` holds, through the
/// adapters that keep or reshape the wrapper around it: `OptionFuture::from(id.map(|id|
/// posts.find(id).get_result::<Post>(c).map(optional))).await.transpose()?.flatten()` holds what
/// `get_result::<Post>(c)` makes.
fn held_value(e: &Expr) -> &Expr {
    let mut e = driver::strip_plumbing(e);
    for _ in 0..32 {
        let next = match e {
            Expr::MethodCall(m) => match (m.method.to_string().as_str(), m.args.first()) {
                (
                    "map_err" | "err_into" | "boxed" | "fuse" | "instrument" | "in_current_span"
                    | "as_ref" | "as_deref" | "as_mut" | "cloned" | "copied" | "clone" | "ok"
                    | "transpose" | "flatten" | "optional",
                    _,
                ) => &*m.receiver,
                // `.map_ok(|(id,)| Profile { id })`: what its closure makes.
                ("map" | "map_ok" | "and_then", Some(Expr::Closure(c))) => block_value(&c.body),
                // `.map(OptionalExtension::optional)`, `.map(Some)`: the same value, rewrapped.
                ("map" | "map_ok", Some(Expr::Path(_))) => &*m.receiver,
                _ => break,
            },
            // `OptionFuture::from(x)`, `Some(x)`, `Box::new(x)`: what `x` holds.
            Expr::Call(c) if c.args.len() == 1 => {
                let Expr::Path(f) = &*c.func else { break };
                let segs: Vec<String> = f
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                let wraps = matches!(
                    segs.iter().map(String::as_str).collect::<Vec<_>>()[..],
                    ["Some" | "Ok"] | [.., "OptionFuture" | "Box" | "Arc", "from" | "new"]
                );
                if !wraps {
                    break;
                }
                &c.args[0]
            }
            _ => break,
        };
        e = driver::strip_plumbing(next);
    }
    e
}

/// Does `e` read the name `name` anywhere (a path of one segment)?
fn mentions(e: &Expr, name: &str) -> bool {
    struct Finder<'n> {
        name: &'n str,
        found: bool,
    }
    impl<'ast> Visit<'ast> for Finder<'_> {
        fn visit_path(&mut self, p: &'ast syn::Path) {
            self.found |= p.segments.len() == 1 && p.segments[0].ident == self.name;
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            self.found |= m
                .tokens
                .clone()
                .into_iter()
                .any(|t| matches!(t, proc_macro2::TokenTree::Ident(i) if i == self.name));
        }
    }
    let mut finder = Finder { name, found: false };
    finder.visit_expr(e);
    finder.found
}

/// The value a block ends in (`{ ..; x }` is `x`); any other expression is its own value.
fn block_value(e: &Expr) -> &Expr {
    let block = match e {
        Expr::Block(b) if b.label.is_none() => &b.block,
        Expr::Async(a) => &a.block,
        _ => return e,
    };
    match block.stmts.last() {
        Some(syn::Stmt::Expr(last, None)) => block_value(last),
        _ => e,
    }
}

/// What an arm of an `if`/`match` yields: a value (its block's last expression), the arms of an
/// `if`/`match` it ends with (an `else if`), or nothing to tell (it returns, or yields no value).
enum ArmTail<'e> {
    Value(&'e Expr),
    Nested(Vec<ArmTail<'e>>),
    Unknown,
}

/// `e` without what passes its result on unchanged (`?`, `.await`, `.map_err(..)`, parentheses).
fn result_source(e: &Expr) -> &Expr {
    match e {
        Expr::Try(t) => result_source(&t.expr),
        Expr::Await(a) => result_source(&a.base),
        Expr::Paren(p) => result_source(&p.expr),
        Expr::MethodCall(m) if is_result_adapter(m) => result_source(&m.receiver),
        e => e,
    }
}

/// An adapter that keeps a result's shape (`.map_err(..)`, `.context(..)`, `.ok()`).
fn is_result_adapter(m: &syn::ExprMethodCall) -> bool {
    matches!(
        m.method.to_string().as_str(),
        "ok" | "optional" | "map_err" | "context" | "with_context" | "err_into"
    )
}

/// The arms of an `if` (its `else if`s nested) or a `match`, as the visitor makes them, by what each
/// yields. None for any other expression.
fn arm_tails(e: &Expr) -> Option<Vec<ArmTail<'_>>> {
    match e {
        Expr::If(i) => Some(vec![
            block_tail(&i.then_branch),
            match &i.else_branch {
                Some((_, e)) => tail_of(e),
                None => ArmTail::Unknown,
            },
        ]),
        Expr::Match(m) => Some(m.arms.iter().map(|a| tail_of(&a.body)).collect()),
        _ => None,
    }
}

fn block_tail(b: &syn::Block) -> ArmTail<'_> {
    match b.stmts.last() {
        Some(syn::Stmt::Expr(e, None)) => tail_of(e),
        _ => ArmTail::Unknown,
    }
}

fn tail_of(e: &Expr) -> ArmTail<'_> {
    match e {
        Expr::Block(b) => block_tail(&b.block),
        Expr::Paren(p) => tail_of(&p.expr),
        e => match arm_tails(e) {
            Some(nested) => ArmTail::Nested(nested),
            None if holds_result(e) => ArmTail::Value(e),
            None => ArmTail::Unknown,
        },
    }
}

/// Marks each arm whose value is one call's result as holding it for `local`; where an arm ends with
/// an `if`/`match` of its own, its arms. Whether any arm was marked.
fn mark_results(arms: &mut [Vec<Step>], tails: &[ArmTail], local: u32) -> bool {
    let mut marked = false;
    for (arm, tail) in arms.iter_mut().zip(tails) {
        if arm.iter().any(|s| matches!(s, Step::Exit)) {
            continue;
        }
        match tail {
            ArmTail::Value(e) => {
                let Some(call) = result_call(arm, result_source(e)) else {
                    continue;
                };
                let at = arm
                    .iter()
                    .take_while(|s| matches!(s, Step::Guard { .. }))
                    .count();
                arm.insert(
                    at,
                    Step::Guard {
                        on: super::Guarded::Holds(local, call),
                        pattern: String::new(),
                    },
                );
                marked = true;
            }
            ArmTail::Nested(inner) => {
                if let Some(Step::Branch(nested)) = arm.last_mut() {
                    if nested.len() == inner.len() {
                        marked |= mark_results(nested, inner, local);
                    }
                }
            }
            ArmTail::Unknown => {}
        }
    }
    marked
}

/// The step of `arm` that the call `e` made: the one call of its function or method, or the one round
/// trip sent by its method.
fn result_call(arm: &[Step], e: &Expr) -> Option<u32> {
    let found: Vec<u32> = arm
        .iter()
        .filter_map(|s| match (s, e) {
            (Step::Call(c), Expr::Call(call)) => match (&c.callee, &*call.func) {
                (super::Callee::Path(segs), Expr::Path(p))
                    if *segs == driver::path_segments(&p.path) =>
                {
                    Some(c.id)
                }
                _ => None,
            },
            (Step::Call(c), Expr::MethodCall(m)) => match &c.callee {
                super::Callee::Method { name, .. } if m.method == name => Some(c.id),
                _ => None,
            },
            (Step::Trip(t), Expr::MethodCall(m)) if t.api.ends_with(&format!(".{}", m.method)) => {
                Some(t.id)
            }
            _ => None,
        })
        .collect();
    match found.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// Is the value of `e` the result of the call or query it ends in (through `.await`, `?` and the
/// adapters that keep a result's shape), rather than something a `match` or a block makes of it?
fn holds_result(e: &Expr) -> bool {
    match e {
        Expr::Try(t) => holds_result(&t.expr),
        Expr::Await(a) => holds_result(&a.base),
        Expr::Paren(p) => holds_result(&p.expr),
        Expr::MethodCall(m) if is_result_adapter(m) => holds_result(&m.receiver),
        Expr::Call(_) | Expr::MethodCall(_) | Expr::Macro(_) => true,
        _ => false,
    }
}

/// A condition that is a call's own result (`auth(..).await?`, `!valid(..)`): whether it is negated.
fn tests_bool_result(cond: &Expr) -> Option<bool> {
    match cond {
        Expr::Paren(p) => tests_bool_result(&p.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
            tests_bool_result(&u.expr).map(|n| !n)
        }
        e => match result_source(e) {
            Expr::Call(_) => Some(false),
            // `db.exists(..)`, not a method on what a call made (`from_url(..).is_ok_and(..)`).
            Expr::MethodCall(m) => (!matches!(
                &*m.receiver,
                Expr::Call(_) | Expr::MethodCall(_) | Expr::Try(_) | Expr::Await(_)
            ))
            .then_some(false),
            _ => None,
        },
    }
}

fn yield_tag(e: &Expr) -> Option<String> {
    match e {
        Expr::Paren(p) => yield_tag(&p.expr),
        // `Ok(true)`: a caller's `if check(..).await? { .. }` takes its arm.
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(b),
            ..
        }) => Some(b.value.to_string()),
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else { return None };
            let name = driver::last_segment(&p.path);
            match name.as_str() {
                "Ok" | "Some" | "Success" => {
                    let inner = c.args.first().and_then(yield_tag);
                    Some(inner.unwrap_or(if name == "Some" { name } else { "Ok".into() }))
                }
                "Err" | "Error" | "Failure" | "Forward" => Some("Err".into()),
                _ if p.path.segments.len() >= 2
                    && name.starts_with(|c: char| c.is_ascii_uppercase()) =>
                {
                    Some(name)
                }
                _ => None,
            }
        }
        Expr::Path(p) => variant_name(&p.path),
        // `AuthenticatedState::ApiKey { .. }`: a variant with named fields (an enum's, not a struct's
        // under its module).
        Expr::Struct(s) => {
            let segs = &s.path.segments;
            let upper = |i: usize| {
                segs.iter().nth(i).is_some_and(|s| {
                    s.ident
                        .to_string()
                        .starts_with(|c: char| c.is_ascii_uppercase())
                })
            };
            (segs.len() >= 2 && upper(segs.len() - 1) && upper(segs.len() - 2))
                .then(|| driver::last_segment(&s.path))
        }
        _ => None,
    }
}

/// A path that names an enum variant (`Kind::Soft`, `None`): its name.
fn variant_name(path: &syn::Path) -> Option<String> {
    let name = driver::last_segment(path);
    let variant = path.segments.len() >= 2 || name == "None";
    // `Method::GET`, `crate::POOL`: constants and statics, whose value the name does not say.
    let constant = name.len() > 1 && !name.chars().any(|c| c.is_ascii_lowercase());
    (variant && !constant && name.starts_with(|c: char| c.is_ascii_uppercase()))
        .then(|| variant_tag(path))
}

/// The names a type's `#[derive(..)]` lists, by their last segment (`record_derive::Record` → `Record`).
fn derive_names(attrs: &[syn::Attribute]) -> Vec<String> {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .filter_map(|a| {
            a.parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .ok()
        })
        .flatten()
        .map(|p| driver::last_segment(&p))
        .collect()
}

/// A request's extensions: `parts.extensions`, `req.extensions()`, `req.extensions_mut()`.
fn extensions_of(e: &Expr) -> bool {
    match e {
        Expr::Field(f) => matches!(&f.member, syn::Member::Named(n) if n == "extensions"),
        Expr::MethodCall(m) => {
            m.args.is_empty()
                && matches!(
                    m.method.to_string().as_str(),
                    "extensions" | "extensions_mut"
                )
        }
        Expr::Paren(p) => extensions_of(&p.expr),
        _ => false,
    }
}

/// The type a lookup in a request's extensions asks for: `parts.extensions.get::<SessionInfo>()` (also
/// `.cloned()`) → `SessionInfo`.
fn extension_probe(e: &Expr) -> Option<String> {
    let mut e = e;
    while let Expr::MethodCall(m) = e {
        if matches!(m.method.to_string().as_str(), "cloned" | "copied") {
            e = &m.receiver;
            continue;
        }
        if m.method != "get" || !extensions_of(&m.receiver) {
            return None;
        }
        let args = m.turbofish.as_ref()?;
        return match args.args.first()? {
            syn::GenericArgument::Type(ty) => core_type(ty),
            _ => None,
        };
    }
    None
}

/// The `let`s of an `if`'s condition: the one of `if let ..`, or each of a let chain (`if let Some(h) = hash
/// && let Some(r) = lookup(h).await? ..`), in order.
fn chain_lets(cond: &Expr) -> Vec<&syn::ExprLet> {
    match cond {
        Expr::Let(l) => vec![l],
        Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            let mut out = chain_lets(&b.left);
            out.extend(chain_lets(&b.right));
            out
        }
        _ => Vec::new(),
    }
}

/// A variant as guards name it: its name (`DeleteType::Soft` → `Soft`), but a project's enum's variant
/// named like one of `Option`'s or `Result`'s keeps its enum (`UpdateType::None`), so that it is not
/// taken for a caller's `None`.
fn variant_tag(path: &syn::Path) -> String {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segs.as_slice() {
        [.., ty, name]
            if matches!(name.as_str(), "None" | "Some" | "Ok" | "Err")
                && !matches!(ty.as_str(), "Option" | "Result") =>
        {
            format!("{ty}::{name}")
        }
        [.., name] => name.clone(),
        [] => String::new(),
    }
}

/// An arm that holds only a parameter's guard holds nothing. (A guard on a call's result is kept: the
/// call moves into the arm.)
/// The attributes a statement carries, where it can carry a `#[cfg(..)]`.
fn stmt_attrs(stmt: &syn::Stmt) -> Option<&[syn::Attribute]> {
    let attrs = match stmt {
        syn::Stmt::Local(l) => &l.attrs,
        syn::Stmt::Macro(m) => &m.attrs,
        syn::Stmt::Expr(e, _) => return crate::build::expr_attrs(e),
        syn::Stmt::Item(_) => return None,
    };
    Some(attrs)
}

/// Guards alone are no step when no arm does anything else: the branch costs nothing either way.
/// Where one arm does (a query, a `return`), every arm keeps its guard, so that a caller's constant
/// that rules out the arm which returns also rules out skipping what follows the branch
/// (`if let Some(p) = prefetched { return p; } query`).
fn drop_bare_guards(arms: Vec<Vec<Step>>) -> Vec<Vec<Step>> {
    let bare = |s: &Step| {
        matches!(
            s,
            Step::Guard {
                on: super::Guarded::Param(_) | super::Guarded::Cfg | super::Guarded::Method,
                ..
            }
        )
    };
    if arms.iter().all(|arm| arm.iter().all(bare)) {
        arms.into_iter().map(|_| Vec::new()).collect()
    } else {
        arms
    }
}

/// What each field of a struct holds where the code leaves it out, as guard patterns read it: under
/// `#[derive(Default)]`, or a builder's `#[builder(default)]` / `#[builder(default = EXPR)]`.
fn field_defaults(st: &syn::ItemStruct) -> Vec<(String, String)> {
    let derives = |name: &str| {
        st.attrs.iter().any(|a| {
            a.path().is_ident("derive")
                && a.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                    .is_ok_and(|ps| ps.iter().any(|p| driver::last_segment(p) == name))
        })
    };
    let derived = derives("Default");
    let builder = derives("TypedBuilder") || derives("Builder");
    if !derived && !builder {
        return Vec::new();
    }
    let of_type = |ty: &syn::Type| -> Option<String> {
        let syn::Type::Path(p) = ty else { return None };
        match driver::last_segment(&p.path).as_str() {
            "Option" => Some("None".into()),
            "bool" => Some("false".into()),
            "Vec" => Some("len=0".into()),
            _ => None,
        }
    };
    let mut out = Vec::new();
    for f in &st.fields {
        let Some(name) = &f.ident else { continue };
        // `#[builder(default)]`, `#[builder(default = true)]`.
        let mut from_builder = None;
        for a in f.attrs.iter().filter(|a| a.path().is_ident("builder")) {
            let _ = a.parse_nested_meta(|m| {
                if m.path.is_ident("default") {
                    from_builder = Some(match m.input.peek(Token![=]) {
                        true => m.value()?.parse::<Expr>().ok().and_then(|e| const_tag(&e)),
                        false => of_type(&f.ty),
                    });
                } else if m.input.peek(Token![=]) {
                    m.value()?.parse::<Expr>()?;
                } else if m.input.peek(syn::token::Paren) {
                    m.parse_nested_meta(|inner| {
                        if inner.input.peek(Token![=]) {
                            inner.value()?.parse::<Expr>()?;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            });
        }
        let value = match (builder, from_builder) {
            (true, Some(v)) => v,
            (true, None) if !derived => None,
            _ => of_type(&f.ty),
        };
        if let Some(v) = value {
            out.push((name.to_string(), v));
        }
    }
    out
}

/// A struct's value whose fields the code spells, as guard patterns read it: `{Type;a=None;b=?}`, the
/// fields it sets (`?` where the value is not a constant), and `..` after the name where the rest take
/// their defaults (`..Default::default()`, a builder's unset fields).
fn struct_tag(ty: &str, rest_default: bool, fields: &[(String, Option<String>)]) -> String {
    let mut tag = format!("{{{ty}{}", if rest_default { ".." } else { "" });
    for (f, v) in fields {
        // A struct inside is not followed.
        let v = v.as_deref().filter(|v| !v.starts_with('{')).unwrap_or("?");
        tag.push_str(&format!(";{f}={v}"));
    }
    tag.push('}');
    tag
}

/// `GetUser::builder().username(u).use_resolver(false).build()`: the struct a builder makes, with the
/// fields it sets.
fn builder_tag(e: &Expr) -> Option<String> {
    let Expr::MethodCall(build) = e else {
        return None;
    };
    if build.method != "build" || !build.args.is_empty() {
        return None;
    }
    let (root, calls) = driver::chain(&build.receiver);
    let Expr::Call(c) = root else { return None };
    let Expr::Path(p) = &*c.func else { return None };
    let segs = driver::path_segments(&p.path);
    let [.., ty, builder] = segs.as_slice() else {
        return None;
    };
    if builder != "builder" || !ty.starts_with(|ch: char| ch.is_ascii_uppercase()) {
        return None;
    }
    let mut fields = Vec::new();
    for call in calls {
        let [arg] = call.args.iter().collect::<Vec<_>>()[..] else {
            return None;
        };
        fields.push((call.method.to_string(), const_tag(arg)));
    }
    Some(struct_tag(ty, true, &fields))
}

/// The constant an argument passes, as guards name it: `Some(..)` → `Some`, `None`, `true`, `false`, an
/// enum variant (`DeleteType::Soft` → `Soft`), or `len=N` for a literal list (`&[email]`, `vec![a, b]`).
fn const_tag(arg: &Expr) -> Option<String> {
    const_tag_in(arg, &|_| None)
}

/// [`const_tag`], where a local's name inside the value (`Some(load)`, `View { load: Some(load) }`)
/// stands for the constant `local` says it was bound to (`let load = vec![];`).
fn const_tag_in(arg: &Expr, local: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let const_tag = |e: &Expr| const_tag_in(e, local);
    let mut e = arg;
    while let Expr::Reference(r) = e {
        e = &r.expr;
    }
    if let Some(name) = single_path_ident(e) {
        if let Some(tag) = local(&name) {
            return Some(tag);
        }
    }
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Bool(b),
            ..
        }) => Some(b.value.to_string()),
        Expr::Array(a) => Some(format!("len={}", a.elems.len())),
        Expr::Macro(m) if driver::last_segment(&m.mac.path) == "vec" => {
            let elems = syn::parse::Parser::parse2(
                Punctuated::<Expr, Token![,]>::parse_terminated,
                m.mac.tokens.clone(),
            )
            .ok()?;
            Some(format!("len={}", elems.len()))
        }
        Expr::Call(c) => match &*c.func {
            // `JobPayload::Dependencies(path)`: the variant.
            Expr::Path(p) if names_variant(&p.path) => Some(variant_tag(&p.path)),
            Expr::Path(p) if c.args.len() == 1 => {
                let name = driver::last_segment(&p.path);
                if !matches!(name.as_str(), "Some" | "Ok" | "Err") {
                    return None;
                }
                // `Some(vec![version])`: the variant, and the length of the list it holds.
                match c.args.first().and_then(&const_tag) {
                    Some(inner) if inner.starts_with("len=") => Some(format!("{name}|{inner}")),
                    _ => Some(name),
                }
            }
            _ => None,
        },
        Expr::Path(p) => variant_name(&p.path),
        // `JobPayload::AppDependencies { path, version, .. }`: the variant.
        Expr::Struct(st) if names_variant(&st.path) => Some(variant_tag(&st.path)),
        // `GetUser { username, domain: None, ..Default::default() }`.
        Expr::Struct(st) => {
            let ty = driver::last_segment(&st.path);
            let fields: Vec<(String, Option<String>)> = st
                .fields
                .iter()
                .filter_map(|f| match &f.member {
                    syn::Member::Named(n) => Some((n.to_string(), const_tag(&f.expr))),
                    syn::Member::Unnamed(_) => None,
                })
                .collect();
            let defaulted = st.rest.as_deref().is_some_and(|r| {
                matches!(r, Expr::Call(c) if matches!(&*c.func, Expr::Path(p)
                    if driver::last_segment(&p.path) == "default"))
            });
            (st.rest.is_none() || defaulted).then(|| struct_tag(&ty, defaulted, &fields))
        }
        Expr::MethodCall(_) => builder_tag(e),
        _ => None,
    }
}

/// `Enum::Variant` (or `Self::Variant`) written where a value is made: both names capitalised, and not
/// `Some`/`Ok`/`Err`, which say nothing of the enum.
fn names_variant(path: &syn::Path) -> bool {
    let segs = driver::path_segments(path);
    let upper = |s: &str| s.starts_with(|c: char| c.is_ascii_uppercase());
    match segs.as_slice() {
        [.., owner, variant] => {
            upper(owner) && upper(variant) && !matches!(variant.as_str(), "Some" | "Ok" | "Err")
        }
        _ => false,
    }
}

/// What a pattern needs of the value it matches, as guards name it: `Some(x)` → `Some`, `None`,
/// `true`, a variant (`Kind::Soft { .. }` → `Soft`); `_` or a plain name match anything (none).
fn pattern_tag(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::TupleStruct(t) => Some(variant_tag(&t.path)),
        syn::Pat::Struct(s) => Some(variant_tag(&s.path)),
        syn::Pat::Path(p) => Some(variant_tag(&p.path)),
        syn::Pat::Ident(i) if i.ident == "None" => Some("None".into()),
        syn::Pat::Lit(l) => match &l.lit {
            syn::Lit::Bool(b) => Some(b.value.to_string()),
            _ => None,
        },
        syn::Pat::Reference(r) => pattern_tag(&r.pat),
        syn::Pat::Paren(p) => pattern_tag(&p.pat),
        _ => None,
    }
}

/// `conn.transaction(|c| ..).await`: a transaction run by a closure.
fn is_transaction(e: &Expr) -> bool {
    let mut e = e;
    while let Expr::Await(a) = e {
        e = &a.base;
    }
    matches!(e, Expr::MethodCall(m) if driver::is_transaction_closure(m))
}

/// What a pattern on a call's result needs the call to yield, read as the yields are (see `yield_tag`):
/// through `Ok(..)` and `Some(..)` to what they hold, so that `Ok(None)` needs a path that returns
/// `Ok(None)` and `Ok(Some(auth))` one that returns something.
fn outcome_tag(pat: &syn::Pat) -> Option<String> {
    if let syn::Pat::TupleStruct(t) = pat {
        let name = driver::last_segment(&t.path);
        if let ("Ok" | "Some" | "Success", [inner]) =
            (name.as_str(), t.elems.iter().collect::<Vec<_>>().as_slice())
        {
            let wrapper = if name == "Some" {
                name.clone()
            } else {
                "Ok".into()
            };
            return Some(outcome_tag(inner).unwrap_or(wrapper));
        }
    }
    // A struct's name (`Some(TokenAuth { user })`, `Some(crate::user::TokenAuth { .. })`) is no variant,
    // as no yield reads one (see `yield_tag`): the pattern needs only what wraps it.
    let wrapper = |path: &syn::Path| {
        matches!(
            driver::last_segment(path).as_str(),
            "Ok" | "Some" | "Success" | "Err" | "Error" | "Failure" | "Forward"
        )
    };
    let upper = |s: &syn::PathSegment| {
        s.ident
            .to_string()
            .starts_with(|c: char| c.is_ascii_uppercase())
    };
    let variant = |path: &syn::Path| {
        let segs: Vec<_> = path.segments.iter().collect();
        wrapper(path) || matches!(segs.as_slice(), [.., ty, v] if upper(ty) && upper(v))
    };
    match pat {
        syn::Pat::Reference(r) => outcome_tag(&r.pat),
        syn::Pat::Paren(p) => outcome_tag(&p.pat),
        syn::Pat::Struct(s) if !variant(&s.path) => None,
        syn::Pat::TupleStruct(t) if t.path.segments.len() == 1 && !wrapper(&t.path) => None,
        _ => pattern_tag(pat),
    }
}

/// The ids of the trips and calls in a step, nested ones included.
fn step_ids(step: &Step) -> Vec<u32> {
    let mut out = Vec::new();
    step.walk(&mut |s| out.extend(step_id(s)));
    out
}

fn step_id(step: &Step) -> Option<u32> {
    match step {
        Step::Trip(t) => Some(t.id),
        Step::Call(c) => Some(c.id),
        _ => None,
    }
}

/// A file that uses SQLite and no networked database.
fn sqlite_only(source: &str) -> bool {
    // SQLite, and the embedded key-value stores (sled, redb, RocksDB, LMDB through heed, fjall).
    let sqlite = source.contains("rusqlite")
        || source.contains("SqlitePool")
        || source.contains("SqliteConnection")
        || ["sled", "redb", "rocksdb", "heed", "fjall"]
            .iter()
            .any(|store| source.contains(&format!("use {store}::")));
    let networked = [
        "PgPool",
        "PgConnection",
        "postgres",
        "MySql",
        "mysql",
        "Postgres",
    ]
    .iter()
    .any(|n| source.contains(n));
    sqlite && !networked
}

/// How many items a list written out has: what [`known_count`] reads, and `vec![a, b, c]`.
fn written_count(expr: &Expr) -> Option<u32> {
    if let Expr::Macro(m) = expr {
        if !m.mac.path.is_ident("vec") {
            return None;
        }
        let items = m
            .mac
            .parse_body_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
            .ok()?;
        return u32::try_from(items.len()).ok();
    }
    known_count(expr)
}

/// The size of the chunks a loop takes a collection in: `xs.chunks(100)`, `.chunks_exact(N)` with a
/// constant of the file, through `.iter()`/`.enumerate()` after it.
fn chunk_size(expr: &Expr) -> Option<u32> {
    match driver::strip_plumbing(expr) {
        Expr::Reference(r) => chunk_size(&r.expr),
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "iter" | "into_iter" | "enumerate"
            ) =>
        {
            chunk_size(&m.receiver)
        }
        Expr::MethodCall(m)
            if matches!(m.method.to_string().as_str(), "chunks" | "chunks_exact") =>
        {
            let [size] = m.args.iter().collect::<Vec<_>>()[..] else {
                return None;
            };
            u32::try_from(written_int(size)?).ok().filter(|n| *n > 0)
        }
        _ => None,
    }
}

/// How many items a `for` loop's iterable has, when it is written out: `[a, b, c]`, `&[..]`, `0..3`,
/// `1..=4`.
fn known_count(expr: &Expr) -> Option<u32> {
    let int = |e: &Expr| match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse::<i64>().ok(),
        _ => None,
    };
    match expr {
        Expr::Reference(r) => known_count(&r.expr),
        Expr::Paren(p) => known_count(&p.expr),
        Expr::Array(a) => u32::try_from(a.elems.len()).ok(),
        Expr::Range(r) => {
            let (start, end) = (int(r.start.as_deref()?)?, int(r.end.as_deref()?)?);
            let n = match r.limits {
                syn::RangeLimits::HalfOpen(_) => end - start,
                syn::RangeLimits::Closed(_) => end - start + 1,
            };
            u32::try_from(n.max(0)).ok()
        }
        Expr::MethodCall(m) if matches!(m.method.to_string().as_str(), "iter" | "into_iter") => {
            known_count(&m.receiver)
        }
        _ => None,
    }
}

/// A return type that is a future: `impl Future<..>`, `BoxFuture<..>`, `Pin<Box<dyn Future<..>>>`, an
/// implementation's `Self::Future`.
fn names_a_future(output: &syn::ReturnType) -> bool {
    let syn::ReturnType::Type(_, ty) = output else {
        return false;
    };
    quote::ToTokens::to_token_stream(ty)
        .into_iter()
        .any(|t| matches!(t, proc_macro2::TokenTree::Ident(i) if i.to_string().ends_with("Future")))
}

/// A stream or an iterator (`stream::iter(ids)`, `rows.iter()`, `query.fetch(db)`): what its adapters'
/// closures hand back runs once per item, not once after a future.
fn yields_items(expr: &Expr) -> bool {
    let (root, calls) = driver::chain(expr);
    let from_stream = match root {
        Expr::Call(call) => match &*call.func {
            Expr::Path(p) => p.path.segments.iter().any(|s| s.ident == "stream"),
            _ => false,
        },
        _ => false,
    };
    from_stream
        || calls.iter().any(|c| {
            let name = c.method.to_string();
            driver::makes_iterator(&name)
                || matches!(
                    name.as_str(),
                    "fetch" | "stream" | "into_stream" | "fetch_many"
                )
        })
}

/// An adapter whose argument is itself a future-returning closure is a stream adapter, not a future's.
fn returns_future_arg(m: &syn::ExprMethodCall) -> bool {
    m.args
        .iter()
        .any(|a| matches!(a, Expr::Closure(c) if returns_future(c)))
}

fn contains_await(expr: &Expr) -> bool {
    struct Finder(bool);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_await(&mut self, _: &'ast syn::ExprAwait) {
            self.0 = true;
        }
        fn visit_macro(&mut self, m: &'ast syn::Macro) {
            self.0 |= tokens_mention_await(m.tokens.clone());
        }
    }
    let mut f = Finder(false);
    f.visit_expr(expr);
    f.0
}

/// Macros of std and common crates: never a project's wrapper of round trips.
const STD_MACROS: &[&str] = &[
    "println",
    "print",
    "eprintln",
    "eprint",
    "format",
    "write",
    "writeln",
    "vec",
    "assert",
    "assert_eq",
    "assert_ne",
    "debug_assert",
    "debug_assert_eq",
    "dbg",
    "try_outcome",
    "json",
    "info",
    "debug",
    "warn",
    "error",
    "trace",
    "event",
    "span",
    "info_span",
    "debug_span",
    "error_span",
    "matches",
    "concat",
    "stringify",
    "include_str",
    "include_bytes",
    "env",
    "option_env",
    "cfg",
    "line",
    "file",
    "column",
    "anyhow",
    "bail",
    "ensure",
    "format_args",
    "select",
    "pin",
    "doc",
    "html",
    "sql_function",
    "define_sql_function",
    "table",
    "joinable",
    "allow_tables_to_appear_in_same_query",
    "thread_local",
    "lazy_static",
    "query",
    "query_as",
    "query_scalar",
    "query_file",
    "query_file_as",
    "routes",
    "try_join",
    "join",
    "doc",
    "hashmap",
    "btreemap",
    "hashset",
    "indoc",
    "formatdoc",
    "instrument",
];

/// The string literals among a macro body's tokens.
fn string_literals(tokens: proc_macro2::TokenStream) -> Vec<String> {
    let mut out = Vec::new();
    for tt in tokens {
        match tt {
            proc_macro2::TokenTree::Group(g) => out.extend(string_literals(g.stream())),
            proc_macro2::TokenTree::Literal(lit) => {
                if let Ok(syn::Lit::Str(s)) =
                    syn::parse2::<syn::Lit>(quote::ToTokens::into_token_stream(lit))
                {
                    out.push(s.value());
                }
            }
            _ => {}
        }
    }
    out
}

/// Is this type a database library's own, by its path (`deadpool_postgres::Client`) or by the `use` that
/// imports it?
fn names_library_type(ty: &syn::Type, uses: &[super::UseAlias], catalog: &Catalog) -> bool {
    let syn::Type::Path(tp) = ty else {
        return false;
    };
    let segs = driver::path_segments(&tp.path);
    let first = match segs.as_slice() {
        [one] => uses
            .iter()
            .find(|u| u.name == *one)
            .and_then(|u| u.path.first().cloned()),
        [first, ..] => Some(first.clone()),
        [] => None,
    };
    first.is_some_and(|f| catalog.database_crate(&f))
}

/// Does a field of this type hold a database library's connection, pool or transaction, named by the
/// library's path (`Arc<deadpool_postgres::Transaction<'static>>`, `Option<sqlx::PgPool>`)?
fn holds_library_executor(ty: &syn::Type, catalog: &Catalog) -> bool {
    match ty {
        syn::Type::Reference(r) => holds_library_executor(&r.elem, catalog),
        syn::Type::Paren(p) => holds_library_executor(&p.elem, catalog),
        syn::Type::Path(tp) => {
            let segs = &tp.path.segments;
            let first = segs
                .first()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            let last = segs.last().map(|s| s.ident.to_string()).unwrap_or_default();
            // `neo4rs::Graph`: a graph database's handle, named for the graph.
            let handle = driver::executor_type(&last) || last == "Graph";
            if segs.len() >= 2 && catalog.database_crate(&first) && handle {
                return true;
            }
            // Through a wrapper's type arguments (`Arc<..>`, `Option<..>`, `Mutex<..>`).
            segs.last().is_some_and(|seg| {
                match &seg.arguments {
                syn::PathArguments::AngleBracketed(args) => args.args.iter().any(|a| {
                    matches!(a, syn::GenericArgument::Type(t) if holds_library_executor(t, catalog))
                }),
                _ => false,
            }
            })
        }
        _ => false,
    }
}

fn transaction_type(ty: &str) -> bool {
    ty.contains("Txn") || ty.contains("Transaction")
}

/// A retry or poll loop: its body matches on an awaited attempt, and every `Ok(..)` arm leaves the loop
/// (`loop { match send().await { Ok(r) => break r, Err(e) if tries < 3 => sleep(..).await, Err(e) =>
/// return Err(e) } }`). Only a failed attempt comes back, so the loop typically runs once.
/// A loop body that awaits a timer (`tokio::time::sleep(d).await`, `sleep_until`, `delay_for`,
/// `interval.tick().await`), outside closures and nested items.
fn waits_on_timer(body: &syn::Block) -> bool {
    struct Timer(bool);
    impl<'e> Visit<'e> for Timer {
        fn visit_expr_await(&mut self, a: &'e syn::ExprAwait) {
            let timer = match driver::strip_plumbing(&a.base) {
                Expr::Call(c) => matches!(&*c.func, Expr::Path(p)
                    if matches!(driver::last_segment(&p.path).as_str(), "sleep" | "sleep_until" | "delay_for")),
                Expr::MethodCall(m) => m.method == "tick" && m.args.is_empty(),
                _ => false,
            };
            self.0 |= timer;
            visit::visit_expr_await(self, a);
        }
        fn visit_expr_closure(&mut self, _: &'e syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'e syn::Item) {}
    }
    let mut timer = Timer(false);
    timer.visit_block(body);
    timer.0
}

/// A whole number the code writes: a literal, a negated one, or a constant of the file.
fn written_int(e: &Expr) -> Option<i64> {
    match driver::strip_plumbing(e) {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(i),
            ..
        }) => i.base10_parse().ok(),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => written_int(&u.expr).map(|v| -v),
        Expr::Paren(p) => written_int(&p.expr),
        Expr::Path(p) if p.path.segments.len() == 1 => {
            let name = driver::last_segment(&p.path);
            FILE_INTS.with(|ints| ints.borrow().get(&name).copied())
        }
        _ => None,
    }
}

/// The whole-number constants of a file's items, also those of its inline modules.
fn file_ints(items: &[syn::Item]) -> HashMap<String, i64> {
    let mut out = HashMap::new();
    for item in items {
        match item {
            syn::Item::Const(c) => {
                if let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(i),
                    ..
                }) = &*c.expr
                {
                    if let Ok(v) = i.base10_parse::<i64>() {
                        out.insert(c.ident.to_string(), v);
                    }
                }
            }
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    out.extend(file_ints(inner));
                }
            }
            _ => {}
        }
    }
    out
}

/// How many times a loop bounded by a counter runs: a local set to a known number, stepped by one in
/// the loop's body (`left -= 1;`, `tries += 1;`), and either the loop's own condition on it (`while
/// tries < MAX`) or an exit in its body (`if left <= 0 || v == NIL { return Ok(()) }`, other tests joined
/// by `||` only leaving earlier). The statements after the exit run as many times as it lets the loop go
/// on; those before it, once more. None where the body says less than that.
fn counter_bound(
    cond: Option<&Expr>,
    body: &syn::Block,
    ints: &HashMap<String, i64>,
) -> Option<u32> {
    // `n -= 1` / `n += 1` as a statement of the body: the counter and its step.
    let step = body.stmts.iter().enumerate().find_map(|(k, stmt)| {
        let syn::Stmt::Expr(Expr::Binary(b), _) = stmt else {
            return None;
        };
        let name = single_path_ident(&b.left)?;
        let by = match (&b.op, written_int(&b.right)?) {
            (syn::BinOp::SubAssign(_), 1) => -1,
            (syn::BinOp::AddAssign(_), 1) => 1,
            _ => return None,
        };
        Some((k, name, by))
    });
    let (at, name, by) = step?;
    let start = *ints.get(&name)?;
    // A `continue` of this loop may skip the step: the counter then bounds nothing.
    struct Continues(bool);
    impl<'ast> Visit<'ast> for Continues {
        fn visit_expr_continue(&mut self, c: &'ast syn::ExprContinue) {
            self.0 |= c.label.is_none();
        }
        fn visit_expr_for_loop(&mut self, _: &'ast syn::ExprForLoop) {}
        fn visit_expr_while(&mut self, _: &'ast syn::ExprWhile) {}
        fn visit_expr_loop(&mut self, _: &'ast syn::ExprLoop) {}
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    let mut continues = Continues(false);
    continues.visit_block(body);
    if continues.0 {
        return None;
    }
    // A test of the counter: `n <op> k`, `k <op> n`, or one side of an `||`.
    fn test(e: &Expr, name: &str) -> Option<(syn::BinOp, i64, bool)> {
        match driver::strip_plumbing(e) {
            Expr::Paren(p) => test(&p.expr, name),
            Expr::Binary(b) if matches!(b.op, syn::BinOp::Or(_)) => {
                test(&b.left, name).or_else(|| test(&b.right, name))
            }
            Expr::Binary(b) => {
                if single_path_ident(&b.left).as_deref() == Some(name) {
                    Some((b.op, written_int(&b.right)?, false))
                } else if single_path_ident(&b.right).as_deref() == Some(name) {
                    Some((b.op, written_int(&b.left)?, true))
                } else {
                    None
                }
            }
            _ => None,
        }
    }
    let holds = |op: &syn::BinOp, k: i64, flipped: bool, n: i64| {
        let (a, b) = if flipped { (k, n) } else { (n, k) };
        match op {
            syn::BinOp::Lt(_) => a < b,
            syn::BinOp::Le(_) => a <= b,
            syn::BinOp::Gt(_) => a > b,
            syn::BinOp::Ge(_) => a >= b,
            syn::BinOp::Eq(_) => a == b,
            syn::BinOp::Ne(_) => a != b,
            _ => false,
        }
    };
    const MOST: u32 = 1000;
    if let Some(cond) = cond {
        // `while tries < MAX { tries += 1; .. }`: as many times as the condition holds.
        if matches!(driver::strip_plumbing(cond), Expr::Binary(b) if matches!(b.op, syn::BinOp::Or(_)))
        {
            return None;
        }
        let (op, k, flipped) = test(cond, &name)?;
        let mut n = start;
        let mut runs = 0;
        while holds(&op, k, flipped, n) {
            runs += 1;
            n += by;
            if runs > MOST {
                return None;
            }
        }
        return Some(runs);
    }
    // `loop { .. left -= 1; if left <= 0 { return .. } .. }`: the exit, after or before the step.
    let exit = body.stmts.iter().enumerate().find_map(|(k, stmt)| {
        let syn::Stmt::Expr(Expr::If(i), _) = stmt else {
            return None;
        };
        let leaves =
            matches!(i.then_branch.stmts.last(), Some(syn::Stmt::Expr(e, _)) if leaves_loop(e));
        if !leaves || i.else_branch.is_some() {
            return None;
        }
        Some((k, test(&i.cond, &name)?))
    });
    let (exit_at, (op, k, flipped)) = exit?;
    // Every await in the body after the exit (the loop's round trips run only once it lets them).
    let before_exit_awaits = body.stmts[..exit_at].iter().any(|s| match s {
        syn::Stmt::Expr(e, _) => contains_await(e),
        syn::Stmt::Local(l) => l.init.as_ref().is_some_and(|i| contains_await(&i.expr)),
        _ => false,
    });
    let mut n = start;
    let mut passes = 0;
    loop {
        if at < exit_at {
            n += by;
        }
        if holds(&op, k, flipped, n) {
            break;
        }
        if at > exit_at {
            n += by;
        }
        passes += 1;
        if passes > MOST {
            return None;
        }
    }
    Some(if before_exit_awaits {
        passes + 1
    } else {
        passes
    })
}

fn retries_until_ok(body: &syn::Block) -> bool {
    // Locals an awaited attempt made in the body (`let opt = wait(..).await?;`), also one declared first
    // and assigned the attempt in each arm of an `if` (`let res; if let Some(e) = email { res =
    // insert_with(e).await; } else { res = insert().await; }`).
    fn assigned(e: &Expr, out: &mut Vec<String>) {
        match e {
            Expr::Assign(a) if contains_await(&a.right) => out.extend(single_path_ident(&a.left)),
            Expr::Block(b) => assigned_in(&b.block.stmts, out),
            Expr::If(i) => {
                assigned_in(&i.then_branch.stmts, out);
                if let Some((_, other)) = &i.else_branch {
                    assigned(other, out);
                }
            }
            _ => {}
        }
    }
    fn assigned_in(stmts: &[syn::Stmt], out: &mut Vec<String>) {
        for stmt in stmts {
            if let syn::Stmt::Expr(e, _) = stmt {
                assigned(e, out);
            }
        }
    }
    let mut attempts: Vec<String> = body
        .stmts
        .iter()
        .filter_map(|stmt| match stmt {
            syn::Stmt::Local(l) => l
                .init
                .as_ref()
                .filter(|init| contains_await(&init.expr))
                .and_then(|_| single_ident(&l.pat)),
            _ => None,
        })
        .collect();
    assigned_in(&body.stmts, &mut attempts);
    let attempted = |e: &Expr| {
        contains_await(e)
            || single_path_ident(driver::strip_plumbing(e)).is_some_and(|n| attempts.contains(&n))
    };
    body.stmts.iter().any(|stmt| {
        let expr = match stmt {
            syn::Stmt::Expr(e, _) => e,
            syn::Stmt::Local(l) => match &l.init {
                Some(init) => &*init.expr,
                None => return false,
            },
            _ => return false,
        };
        // `if attempt().await?.is_ok() { ..; return Ok(()) }`: leaves once the attempt succeeds.
        if let Expr::If(i) = expr {
            let succeeded = match &*i.cond {
                Expr::MethodCall(m) => {
                    matches!(m.method.to_string().as_str(), "is_ok" | "is_some")
                        && attempted(&m.receiver)
                }
                Expr::Let(l) => is_success_pattern(&l.pat) && attempted(&l.expr),
                _ => false,
            };
            let leaves = match i.then_branch.stmts.last() {
                Some(syn::Stmt::Expr(e, _)) => leaves_loop(e),
                _ => false,
            };
            return succeeded && leaves;
        }
        let Expr::Match(m) = expr else { return false };
        let mut oks = m
            .arms
            .iter()
            .filter(|a| succeeded_attempt(&a.pat))
            .peekable();
        oks.peek().is_some()
            && attempted(&m.expr)
            && oks.all(|a| leaves_loop(&a.body) || leaves_when_done(&a.body))
            && m.arms.iter().any(|a| !succeeded_attempt(&a.pat))
    })
}

/// An attempt's pattern that says it worked: `Ok(..)` or `Some(..)`, but not what a wrapper's success
/// holds of a failed attempt (`Ok(Err(e))` of `timeout(d, attempt()).await`, `Some(None)`).
fn succeeded_attempt(pat: &syn::Pat) -> bool {
    let failed_inside = match pat {
        syn::Pat::TupleStruct(t) => match t.elems.first() {
            Some(syn::Pat::TupleStruct(inner)) => {
                inner.path.segments.last().is_some_and(|s| s.ident == "Err")
            }
            Some(syn::Pat::Ident(i)) => i.ident == "None" && i.subpat.is_none(),
            Some(syn::Pat::Path(p)) => p.path.is_ident("None"),
            _ => false,
        },
        _ => false,
    };
    is_success_pattern(pat) && !failed_inside
}

/// A poll's arm for an answer that may say "not yet": `Some(opt) => { if let Some(r) = opt { return
/// Ok(r) } }` leaves once the answer holds a value, and polls again otherwise.
fn leaves_when_done(body: &Expr) -> bool {
    let Expr::Block(b) = body else { return false };
    let Some(syn::Stmt::Expr(Expr::If(i), _)) = b.block.stmts.last() else {
        return false;
    };
    let done = matches!(&*i.cond, Expr::Let(l) if is_success_pattern(&l.pat));
    let leaves = match i.then_branch.stmts.last() {
        Some(syn::Stmt::Expr(e, _)) => leaves_loop(e),
        _ => false,
    };
    done && leaves && i.else_branch.is_none()
}

/// `Ok(..)` or `Some(..)`: what an attempt that worked yields.
fn is_success_pattern(pat: &syn::Pat) -> bool {
    is_ok_pattern(pat)
        || matches!(pat, syn::Pat::TupleStruct(t) if t.path.segments.last().is_some_and(|s| s.ident == "Some"))
}

/// `Ok(..)`, also under a binding (`r @ Ok(_)`).
fn is_ok_pattern(pat: &syn::Pat) -> bool {
    match pat {
        syn::Pat::TupleStruct(t) => t.path.segments.last().is_some_and(|s| s.ident == "Ok"),
        syn::Pat::Ident(i) => i.subpat.as_ref().is_some_and(|(_, p)| is_ok_pattern(p)),
        _ => false,
    }
}

/// `return ..` or `break ..` (not `break 'outer` of an enclosing loop), directly or as a block's last
/// statement.
fn leaves_loop(body: &Expr) -> bool {
    match body {
        Expr::Return(_) => true,
        Expr::Break(b) => b.label.is_none(),
        Expr::Block(b) => match b.block.stmts.last() {
            Some(syn::Stmt::Expr(e, _)) => leaves_loop(e),
            _ => false,
        },
        _ => false,
    }
}

/// A condition with a `let` in it: `let P = e`, or a chain of them and tests joined by `&&`.
fn has_let(cond: &Expr) -> bool {
    match cond {
        Expr::Let(_) => true,
        Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
            has_let(&b.left) || has_let(&b.right)
        }
        Expr::Paren(p) => has_let(&p.expr),
        _ => false,
    }
}

/// How many `.await`ed calls of catalog methods a macro body's tokens hold (`$conn.query(..).await`).
fn awaited_calls(tokens: proc_macro2::TokenStream, known: &impl Fn(&str) -> bool) -> u32 {
    let trees: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
    let mut n = 0;
    for (i, tt) in trees.iter().enumerate() {
        match tt {
            proc_macro2::TokenTree::Group(g) => n += awaited_calls(g.stream(), known),
            // `name ( .. ) . await`
            proc_macro2::TokenTree::Ident(id) if known(&id.to_string()) => {
                let call = matches!(trees.get(i + 1), Some(proc_macro2::TokenTree::Group(g)) if g.delimiter() == proc_macro2::Delimiter::Parenthesis);
                let dot = matches!(trees.get(i + 2), Some(proc_macro2::TokenTree::Punct(p)) if p.as_char() == '.');
                let awaited = matches!(trees.get(i + 3), Some(proc_macro2::TokenTree::Ident(a)) if a == "await");
                n += u32::from(call && dot && awaited);
            }
            _ => {}
        }
    }
    n
}

thread_local! {
    /// The whole-number constants the file being walked defines (`const SEARCH_LEN: i32 = 5;`).
    static FILE_INTS: std::cell::RefCell<HashMap<String, i64>> = Default::default();
    /// Names of [`TYPE_WRAPPERS`] the file being walked means as its own types (pict-rs's `State<S>`
    /// is its state struct, not axum's extractor): not unwrapped.
    static OWN_WRAPPERS: std::cell::RefCell<HashSet<String>> = Default::default();
}

/// The extractor wrapper names a file defines or imports from the analysed crate (`use
/// self::state::State;`, `use crate::state::State;`, `struct State<S> { .. }`).
fn own_wrappers(file: &syn::File) -> HashSet<String> {
    fn uses(tree: &syn::UseTree, first: Option<&str>, out: &mut HashSet<String>) {
        let own = |first: Option<&str>| matches!(first, Some("self" | "crate" | "super"));
        match tree {
            syn::UseTree::Path(p) => {
                let head = p.ident.to_string();
                uses(&p.tree, Some(first.unwrap_or(&head)), out);
            }
            syn::UseTree::Name(n) if own(first) => {
                out.insert(n.ident.to_string());
            }
            syn::UseTree::Rename(r) if own(first) => {
                out.insert(r.rename.to_string());
            }
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| uses(t, first, out)),
            _ => {}
        }
    }
    let mut out = HashSet::new();
    for item in &file.items {
        match item {
            syn::Item::Use(u) => uses(&u.tree, None, &mut out),
            syn::Item::Struct(st) => {
                out.insert(st.ident.to_string());
            }
            _ => {}
        }
    }
    // Only the extractors' names: a project's `Result<T>` alias still wraps what it holds.
    out.retain(|name| matches!(name.as_str(), "State" | "Data" | "Extension"));
    out
}

/// Wrappers that hold the type that matters: `Arc<dyn Repo>` is a `Repo`, `State<AppState>` an `AppState`.
const TYPE_WRAPPERS: &[&str] = &[
    "Result",
    "QueryResult",
    "Vec",
    "Arc",
    "Rc",
    "Box",
    "Option",
    "State",
    "Extension",
    "Data",
    // Extractors that deref to what they parsed (`form: Json<Login>`, then `form.login(&db)`).
    "Json",
    "Form",
    "Query",
    "Path",
    "QsQuery",
    "QsForm",
    "Mutex",
    "RwLock",
    "Cow",
    "Pin",
    "Ref",
    "RefMut",
    "LazyLock",
    "LazyCell",
    "Lazy",
    "OnceLock",
    "OnceCell",
];

/// Whether a parameter's type is a library's extractor that fills it with the type it wraps, parsed or
/// taken from the app's state (`web::Json<Notification>`, `State<AppState>`, `Extension<User>`), so that
/// the wrapped type's own extractor, if it has one, is not what runs. A file's own `State<S>` is its own.
fn fills_with_inner(ty: &syn::Type) -> bool {
    let syn::Type::Path(tp) = peel_refs(ty) else {
        return false;
    };
    let Some(seg) = tp.path.segments.last() else {
        return false;
    };
    let name = seg.ident.to_string();
    let own = tp.path.segments.len() == 1 && OWN_WRAPPERS.with(|own| own.borrow().contains(&name));
    !own && matches!(seg.arguments, syn::PathArguments::AngleBracketed(_))
        && matches!(
            name.as_str(),
            "State"
                | "Extension"
                | "Data"
                | "Json"
                | "Form"
                | "Query"
                | "Path"
                | "QsQuery"
                | "QsForm"
        )
}

/// Marker traits that say nothing about what a type does.
const MARKER_TRAITS: &[&str] = &[
    "Send", "Sync", "Clone", "Copy", "Debug", "Unpin", "Sized", "Default",
];

/// One name for a type: the innermost wrapped type, or a trait object's or `impl`'s first real trait.
/// The type arguments of the type [`core_type`] names (`Arc<Table<'c, Role>>` gives `Role`), where it
/// is not one of the wrappers it looks through.
fn core_type_args(ty: &syn::Type) -> Vec<String> {
    match ty {
        syn::Type::Reference(r) => core_type_args(&r.elem),
        syn::Type::Paren(p) => core_type_args(&p.elem),
        syn::Type::Group(g) => core_type_args(&g.elem),
        syn::Type::Path(tp) => match wrapped(tp) {
            Some(Some(inner)) => core_type_args(inner),
            Some(None) => Vec::new(),
            None => path_type_args(&tp.path),
        },
        _ => Vec::new(),
    }
}

fn core_type(ty: &syn::Type) -> Option<String> {
    match ty {
        syn::Type::Reference(r) => core_type(&r.elem),
        syn::Type::Paren(p) => core_type(&p.elem),
        syn::Type::Group(g) => core_type(&g.elem),
        syn::Type::TraitObject(t) => item_type(&t.bounds).or_else(|| first_trait(&t.bounds)),
        // `impl Stream<Item = Result<Post>>`, `impl Iterator<Item = Post>`: what it yields, as a
        // collection is typed by its items.
        syn::Type::ImplTrait(t) => item_type(&t.bounds).or_else(|| first_trait(&t.bounds)),
        // `(Article, User)`: each element's type, for locals destructured from it.
        syn::Type::Tuple(t) if !t.elems.is_empty() => {
            let elems: Vec<String> = t
                .elems
                .iter()
                .map(|e| match e {
                    syn::Type::Tuple(_) => "_".into(),
                    e => core_type(e).unwrap_or_else(|| "_".into()),
                })
                .collect();
            Some(format!("({})", elems.join(",")))
        }
        syn::Type::Path(tp) => {
            if let Some(Some(inner)) = wrapped(tp) {
                return core_type(inner);
            }
            Some(tp.path.segments.last()?.ident.to_string())
        }
        _ => None,
    }
}

/// Whether a path type is a wrapper [`core_type`] looks through (`Arc<..>`, `Option<..>`, `Json<..>`),
/// with the type it wraps where it names one: `None` for any other type.
fn wrapped(tp: &syn::TypePath) -> Option<Option<&syn::Type>> {
    let seg = tp.path.segments.last()?;
    let name = seg.ident.to_string();
    // `State<S>` where the file means its own `State`; `axum::extract::State<..>` is axum's.
    let own = tp.path.segments.len() == 1 && OWN_WRAPPERS.with(|own| own.borrow().contains(&name));
    // `AppResult<Crate>`, `ApiResult<T>`: the service's alias of `Result` with its error type.
    let result_alias = name.ends_with("Result") && name != "Result";
    if !(TYPE_WRAPPERS.contains(&name.as_str()) || result_alias) || own {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return Some(None);
    };
    Some(args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    }))
}

/// The items of a stream or an iterator (`Stream<Item = Result<Post>>` → `Post`).
fn item_type(bounds: &Punctuated<syn::TypeParamBound, Token![+]>) -> Option<String> {
    let traits = [
        "Stream",
        "TryStream",
        "Iterator",
        "DoubleEndedIterator",
        "ExactSizeIterator",
    ];
    bound_assoc(bounds, &traits, "Item")
}

/// The type an associated type stands for: its name, or `<PgDb>::Repo` for another type's associated type
/// (`<PgDb as DependOnRepo>::Repo`), which that type's implementation says.
fn assoc_target(ty: &syn::Type) -> Option<String> {
    if let syn::Type::Path(syn::TypePath {
        qself: Some(q),
        path,
    }) = ty
    {
        let of = core_type(&q.ty)?;
        let name = path.segments.last()?.ident.to_string();
        return Some(format!("{}{of}>::{name}", super::ASSOC_OF));
    }
    core_type(ty)
}

/// `stream::iter(xs.into_iter().map(|x| async move { .. }))`: the closure that makes each future, and the
/// iterator it maps.
fn futures_of_iterator(expr: &Expr) -> Option<(&syn::ExprClosure, &Expr)> {
    let Expr::Call(call) = driver::strip_plumbing(expr) else {
        return None;
    };
    let Expr::Path(func) = &*call.func else {
        return None;
    };
    let segs = driver::path_segments(&func.path);
    if !(segs.len() >= 2 && segs[segs.len() - 2] == "stream" && segs[segs.len() - 1] == "iter") {
        return None;
    }
    let [arg] = call.args.iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let Expr::MethodCall(map) = driver::strip_plumbing(arg) else {
        return None;
    };
    match map.args.iter().collect::<Vec<_>>()[..] {
        [Expr::Closure(closure)] if map.method == "map" && returns_future(closure) => {
            Some((closure, &*map.receiver))
        }
        _ => None,
    }
}

/// The entries of a constant table of route paths: each a path (`"/health"`), or a struct or tuple
/// holding one and perhaps a method (`SkipAuthRoute { path: "/api/tags", method: Method::GET }`). None
/// where an entry holds no path.
fn path_table(expr: &Expr) -> Option<Vec<super::ListedRoute>> {
    fn route_path(e: &Expr) -> Option<String> {
        match driver::strip_plumbing(e) {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()).filter(|p| p.starts_with('/')),
            _ => None,
        }
    }
    fn method(e: &Expr) -> Option<String> {
        let Expr::Path(p) = driver::strip_plumbing(e) else {
            return None;
        };
        let name = driver::last_segment(&p.path);
        let methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"];
        methods.contains(&name.as_str()).then_some(name)
    }
    let array = match driver::strip_plumbing(expr) {
        Expr::Reference(r) => &*r.expr,
        other => other,
    };
    let Expr::Array(array) = array else {
        return None;
    };
    let entry = |e: &Expr| -> Option<super::ListedRoute> {
        let parts: Vec<&Expr> = match driver::strip_plumbing(e) {
            Expr::Struct(st) => st.fields.iter().map(|f| &f.expr).collect(),
            Expr::Tuple(t) => t.elems.iter().collect(),
            other => vec![other],
        };
        let path = parts.iter().find_map(|p| route_path(p))?;
        Some((parts.iter().find_map(|p| method(p)), path))
    };
    let entries: Option<Vec<_>> = array.elems.iter().map(entry).collect();
    entries.filter(|e| !e.is_empty())
}

/// The constant table of route paths a function returning `bool` looks a request up in
/// (`TABLE.iter().any(..)`, `TABLE.contains(..)`), by name.
fn path_table_tested(sig: &syn::Signature, block: &syn::Block) -> Option<String> {
    struct Finder(Option<String>);
    impl<'ast> Visit<'ast> for Finder {
        fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
            if matches!(m.method.to_string().as_str(), "any" | "contains") {
                let (root, _) = driver::chain(&m.receiver);
                if let Expr::Path(p) = driver::strip_plumbing(root) {
                    let name = driver::last_segment(&p.path);
                    let constant = name.len() > 1
                        && name
                            .chars()
                            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
                    if constant {
                        self.0.get_or_insert(name);
                    }
                }
            }
            visit::visit_expr_method_call(self, m);
        }
    }
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    if !matches!(&**ty, syn::Type::Path(p) if p.path.is_ident("bool")) {
        return None;
    }
    let mut finder = Finder(None);
    finder.visit_block(block);
    finder.0
}

/// The integer constants among `items` (`const LIMIT: usize = 4;`), by name.
fn integer_consts(items: &[syn::Item]) -> HashMap<String, u32> {
    items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Const(c) => match &*c.expr {
                Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Int(n),
                    ..
                }) => Some((c.ident.to_string(), n.base10_parse().ok()?)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// Every trait (not a marker) generic parameter `param` is bound by, inline and in the `where` clause.
fn all_bounds(generics: &syn::Generics, param: &str) -> Vec<String> {
    let inline = generics
        .type_params()
        .filter(|p| p.ident == param)
        .flat_map(|p| p.bounds.iter());
    let clause = generics
        .where_clause
        .iter()
        .flat_map(|wc| wc.predicates.iter())
        .filter_map(|pred| match pred {
            syn::WherePredicate::Type(pt)
                if core_type(&pt.bounded_ty).as_deref() == Some(param) =>
            {
                Some(pt.bounds.iter())
            }
            _ => None,
        })
        .flatten();
    let mut out: Vec<String> = Vec::new();
    for b in inline.chain(clause) {
        if let syn::TypeParamBound::Trait(t) = b {
            let name = driver::last_segment(&t.path);
            if !MARKER_TRAITS.contains(&name.as_str()) && !out.contains(&name) {
                out.push(name);
            }
        }
    }
    out
}

fn first_trait(bounds: &Punctuated<syn::TypeParamBound, Token![+]>) -> Option<String> {
    bounds.iter().find_map(|b| match b {
        syn::TypeParamBound::Trait(t) => {
            let name = driver::last_segment(&t.path);
            (!MARKER_TRAITS.contains(&name.as_str())).then_some(name)
        }
        _ => None,
    })
}

/// The trait of a parameter typed `impl Trait` (also behind `&`), where it is a value's trait: not a
/// closure's, a future's or a sequence's (those are typed by what they give).
fn impl_trait_param(ty: &syn::Type) -> Option<String> {
    let syn::Type::ImplTrait(t) = peel_refs(ty) else {
        return None;
    };
    if item_type(&t.bounds).is_some() {
        return None;
    }
    let bound = first_trait(&t.bounds)?;
    let std = [
        "Fn",
        "FnMut",
        "FnOnce",
        "AsyncFn",
        "AsyncFnMut",
        "AsyncFnOnce",
        "Future",
        "IntoFuture",
        "Stream",
        "Iterator",
        "IntoIterator",
        "Into",
        "AsRef",
        "AsMut",
        "Borrow",
        "ToString",
        "Display",
        "Serialize",
        "Deserialize",
        "Hash",
        "Error",
    ];
    (!std.contains(&bound.as_str())).then_some(bound)
}

fn peel_refs(ty: &syn::Type) -> &syn::Type {
    match ty {
        syn::Type::Reference(r) => peel_refs(&r.elem),
        syn::Type::Paren(p) => peel_refs(&p.elem),
        syn::Type::Group(g) => peel_refs(&g.elem),
        other => other,
    }
}

/// The path of `#[typed_path("/users/{id}")]` (axum-extra), its first argument.
fn typed_path(attrs: &[syn::Attribute]) -> Option<String> {
    let attr = attrs.iter().find(|a| a.path().is_ident("typed_path"))?;
    let args = attr
        .parse_args_with(syn::punctuated::Punctuated::<Expr, syn::Token![,]>::parse_terminated)
        .ok()?;
    match args.first()? {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        _ => None,
    }
}

/// `<R: Repo, S>` and `where S: Store` → [("R", "Repo"), ("S", "Store")].
fn generic_bounds(generics: &syn::Generics, outer: &[(String, String)]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = generics
        .type_params()
        .filter_map(|p| Some((p.ident.to_string(), bound_type(&p.bounds)?)))
        .collect();
    // `A: AsyncFnOnce(&mut dyn Db)`: what a closure handed for `A` takes, as `A(0)` → `Db`.
    for p in generics.type_params() {
        out.extend(closure_inputs(&p.ident.to_string(), &p.bounds));
    }
    // Only a type parameter is typed by its bound: `where Database: FromRef<S>` says something of the
    // analysed code's own `Database`, which stays itself.
    let params: Vec<String> = generics
        .type_params()
        .map(|p| p.ident.to_string())
        .chain(outer.iter().map(|(g, _)| g.clone()))
        .collect();
    if let Some(wc) = &generics.where_clause {
        for pred in &wc.predicates {
            if let syn::WherePredicate::Type(pt) = pred {
                if let (Some(name), Some(bound)) =
                    (core_type(&pt.bounded_ty), bound_type(&pt.bounds))
                {
                    if params.contains(&name) {
                        out.extend(closure_inputs(&name, &pt.bounds));
                        out.push((name, bound));
                    }
                }
            }
        }
    }
    // `W: Deref<Target = DB>` with `DB: DatabaseConnector`: a `W` is used as a `DatabaseConnector`.
    let bounds = out.clone();
    for (_, bound) in &mut out {
        if let Some((_, next)) = bounds.iter().find(|(g, b)| g == bound && b != bound) {
            *bound = next.clone();
        }
    }
    out
}

/// What a generic's bounds say it is used as: the type it derefs to (`W: Deref<Target = DB>`), else its
/// first trait that is not a marker.
fn bound_type(bounds: &Punctuated<syn::TypeParamBound, Token![+]>) -> Option<String> {
    bound_assoc(bounds, &["Deref", "DerefMut"], "Target").or_else(|| first_trait(bounds))
}

/// The type a bound by one of `traits` gives its associated type `assoc` (`Deref<Target = Db>` → `Db`).
fn bound_assoc(
    bounds: &Punctuated<syn::TypeParamBound, Token![+]>,
    traits: &[&str],
    assoc: &str,
) -> Option<String> {
    bounds.iter().find_map(|b| {
        let syn::TypeParamBound::Trait(t) = b else {
            return None;
        };
        let seg = t.path.segments.last()?;
        if !traits.iter().any(|tr| seg.ident == tr) {
            return None;
        }
        let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
            return None;
        };
        args.args.iter().find_map(|a| match a {
            syn::GenericArgument::AssocType(at) if at.ident == assoc => core_type(&at.ty),
            _ => None,
        })
    })
}

/// The types a closure bound by `Fn*(..)` / `AsyncFn*(..)` takes, keyed `name(i)` (see
/// `facts::CLOSURE_INPUT`).
fn closure_inputs(
    name: &str,
    bounds: &Punctuated<syn::TypeParamBound, Token![+]>,
) -> Vec<(String, String)> {
    bounds
        .iter()
        .filter_map(|b| match b {
            syn::TypeParamBound::Trait(t) => t.path.segments.last(),
            _ => None,
        })
        .filter(|seg| {
            let s = seg.ident.to_string();
            s.starts_with("Fn") || s.starts_with("AsyncFn")
        })
        .filter_map(|seg| match &seg.arguments {
            syn::PathArguments::Parenthesized(args) => Some(args),
            _ => None,
        })
        .flat_map(|args| {
            args.inputs
                .iter()
                .enumerate()
                .filter_map(|(i, t)| Some((format!("{name}({i})"), core_type(t)?)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `AuthExtractor(user_data): MastodonAuthExtractor`: the value a project's newtype holds, typed as
/// that struct's field `0` (the pattern names the struct even where the type is an alias of it). Not
/// for the wrappers `core_type` already sees through (`State(db): State<PgPool>`).
fn newtype_field(pat: &syn::Pat, ty: &syn::Type) -> Option<String> {
    let syn::Pat::TupleStruct(ts) = pat else {
        return None;
    };
    let syn::Type::Path(written) = ty else {
        return None;
    };
    let written = driver::last_segment(&written.path);
    let name = driver::last_segment(&ts.path);
    // `State(db): DbState` with `type DbState = State<..>`: the framework's extractor, typed by what
    // the alias names (unless the file defines a `State` of its own).
    let own = OWN_WRAPPERS.with(|own| own.borrow().contains(&name));
    let framework = !own
        && (router::EXTRACTORS.contains(&name.as_str()) || TYPE_WRAPPERS.contains(&name.as_str()));
    if ts.elems.len() != 1 || framework || core_type(ty).as_deref() != Some(written.as_str()) {
        return None;
    }
    Some(format!("{name}{}0", super::FIELD))
}

/// The type arguments a type is written with, each as `core_type` reads it (`Header<I>` gives `I`).
fn type_args(ty: &syn::Type) -> Vec<String> {
    let syn::Type::Path(tp) = ty else {
        return Vec::new();
    };
    path_type_args(&tp.path)
}

/// The type arguments of a path's last segment (`AsObject<User, Delete, &C>` gives `User`, `Delete`, `C`).
fn path_type_args(path: &syn::Path) -> Vec<String> {
    let Some(syn::PathArguments::AngleBracketed(args)) = path.segments.last().map(|s| &s.arguments)
    else {
        return Vec::new();
    };
    args.args
        .iter()
        .filter_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(core_type(t).unwrap_or_else(|| "_".into())),
            _ => None,
        })
        .collect()
}

/// The parameters a function hands back as its value, by position (`self` aside): each `return` of
/// one and its final value, through the arms of a trailing `if` or `match`.
/// The statement an rbatis `#[html_sql(..)]`, `#[py_sql(..)]` or `#[sql(..)]` function sends: its SQL
/// (the XML tags and the backquotes rbatis reads left out), the parameter it is sent on, and how many
/// statements (two for a page, a COUNT and then the rows, where it takes a `PageRequest`).
#[derive(Debug, Clone)]
struct RbatisStatement {
    attr: String,
    executor: String,
    sql: String,
    statements: usize,
}

fn rbatis_statement(sig: &syn::Signature, attrs: &[syn::Attribute]) -> Option<RbatisStatement> {
    let attr = attrs.iter().find_map(|a| {
        let name = driver::last_segment(a.path());
        matches!(name.as_str(), "html_sql" | "py_sql" | "sql").then_some((name, a))
    })?;
    let executor = sig.inputs.iter().find_map(|i| match i {
        syn::FnArg::Typed(t) => param_name(&t.pat),
        syn::FnArg::Receiver(_) => None,
    })?;
    let syn::Meta::List(list) = &attr.1.meta else {
        return None;
    };
    let text = string_literals(list.tokens.clone()).join(" ");
    // `<select id="x"> `select * from t` </select>`: the text outside the tags, without backquotes.
    let mut sql = String::new();
    let mut in_tag = false;
    for ch in text.chars() {
        match ch {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                sql.push(' ');
            }
            '`' => {}
            _ if !in_tag => sql.push(ch),
            _ => {}
        }
    }
    let paged = sig.inputs.iter().any(|i| {
        matches!(i, syn::FnArg::Typed(t)
            if matches!(core_type(&t.ty).as_deref(), Some("PageRequest" | "IPageRequest")))
    });
    Some(RbatisStatement {
        attr: attr.0,
        executor,
        sql: sql.split_whitespace().collect::<Vec<_>>().join(" "),
        statements: if paged { 2 } else { 1 },
    })
}

/// The guard of the arm a cache lookup takes on a hit (`if let Some(v) = cache.get(&k) { return v }`):
/// what follows runs on a miss.
fn cache_miss() -> Step {
    Step::Guard {
        on: super::Guarded::Cache,
        pattern: super::CACHE_PROBE.into(),
    }
}

/// A call of a function without arguments that an `if` tests (`config::is_auth_enabled()`, or
/// `!is_enabled()`), as `path` or `!path`.
fn flag_call(cond: &Expr) -> Option<String> {
    match cond {
        Expr::Paren(p) => flag_call(&p.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
            flag_call(&u.expr).map(|c| match c.strip_prefix('!') {
                Some(plain) => plain.to_string(),
                None => format!("!{c}"),
            })
        }
        Expr::Call(c) if c.args.is_empty() => match &*c.func {
            Expr::Path(p) => Some(driver::path_segments(&p.path).join("::")),
            _ => None,
        },
        _ => None,
    }
}

/// A test of a test mode (`is_e2e_testing`, `config.testing`, `!self.mock_mode()`): [`super::TEST_MODE`],
/// `!`-prefixed where the `if` negates it.
fn test_mode(cond: &Expr) -> Option<String> {
    let name = match cond {
        Expr::Paren(p) => return test_mode(&p.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Not(_)) => {
            return test_mode(&u.expr).map(|c| match c.strip_prefix('!') {
                Some(plain) => plain.to_string(),
                None => format!("!{c}"),
            })
        }
        Expr::Path(p) => p.path.segments.last()?.ident.to_string(),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(n) => n.to_string(),
            syn::Member::Unnamed(_) => return None,
        },
        Expr::MethodCall(m) if m.args.is_empty() => m.method.to_string(),
        _ => return None,
    };
    name.to_lowercase()
        .split('_')
        .any(|w| matches!(w, "test" | "testing" | "e2e" | "mock" | "mocked"))
        .then(|| super::TEST_MODE.to_string())
}

/// The `bool` literal a function returns on every path (`fn is_enabled() -> bool { return false; }`,
/// `{ false }`), where it returns nothing else.
fn returned_bool(sig: &syn::Signature, block: &syn::Block) -> Option<bool> {
    let syn::ReturnType::Type(_, ty) = &sig.output else {
        return None;
    };
    if !matches!(&**ty, syn::Type::Path(p) if p.path.is_ident("bool")) {
        return None;
    }
    struct Returns(Vec<Option<bool>>);
    impl<'ast> Visit<'ast> for Returns {
        fn visit_expr_return(&mut self, r: &'ast syn::ExprReturn) {
            self.0.push(r.expr.as_deref().and_then(bool_lit));
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        fn visit_item(&mut self, _: &'ast syn::Item) {}
    }
    fn bool_lit(e: &Expr) -> Option<bool> {
        match e {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Bool(b),
                ..
            }) => Some(b.value),
            Expr::Paren(p) => bool_lit(&p.expr),
            _ => None,
        }
    }
    let mut returns = Returns(Vec::new());
    returns.visit_block(block);
    match block.stmts.last()? {
        syn::Stmt::Expr(Expr::Return(_), _) => {}
        syn::Stmt::Expr(tail, None) => returns.0.push(bool_lit(tail)),
        _ => return None,
    }
    let first = (*returns.0.first()?)?;
    returns.0.iter().all(|r| *r == Some(first)).then_some(first)
}

fn returned_params(sig: &syn::Signature, block: &syn::Block) -> Vec<usize> {
    let names: Vec<Option<String>> = sig
        .inputs
        .iter()
        .filter_map(|i| match i {
            syn::FnArg::Typed(t) => Some(single_ident(&t.pat)),
            syn::FnArg::Receiver(_) => None,
        })
        .collect();
    let position = |e: &Expr| -> Option<usize> {
        let name = single_path_ident(through_views(e, &[]))?;
        names
            .iter()
            .position(|n| n.as_deref() == Some(name.as_str()))
    };
    let mut values: Vec<&Expr> = Vec::new();
    struct Returns<'a, 'e>(&'a mut Vec<&'e Expr>);
    impl<'a, 'e> Visit<'e> for Returns<'a, 'e> {
        fn visit_expr_return(&mut self, r: &'e syn::ExprReturn) {
            if let Some(e) = &r.expr {
                self.0.push(e);
            }
        }
        fn visit_expr_closure(&mut self, _: &'e syn::ExprClosure) {}
        fn visit_expr_async(&mut self, _: &'e syn::ExprAsync) {}
        fn visit_item(&mut self, _: &'e syn::Item) {}
    }
    Returns(&mut values).visit_block(block);
    fn tails<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
        match e {
            Expr::If(i) => {
                if let Some(syn::Stmt::Expr(t, None)) = i.then_branch.stmts.last() {
                    tails(t, out);
                }
                if let Some((_, other)) = &i.else_branch {
                    tails(other, out);
                }
            }
            Expr::Match(m) => m.arms.iter().for_each(|a| tails(&a.body, out)),
            Expr::Block(b) => {
                if let Some(syn::Stmt::Expr(t, None)) = b.block.stmts.last() {
                    tails(t, out);
                }
            }
            other => out.push(other),
        }
    }
    if let Some(syn::Stmt::Expr(tail, None)) = block.stmts.last() {
        tails(tail, &mut values);
    }
    let mut out: Vec<usize> = Vec::new();
    for value in values {
        match position(value) {
            Some(p) if !out.contains(&p) => out.push(p),
            Some(_) => {}
            // It also hands back something else: not only its parameters.
            None => return Vec::new(),
        }
    }
    out
}

/// `Json(body): Json<NewUser>`, `Query(filter): Query<Filter>`: the value a one-field wrapper holds,
/// typed by its one type argument.
fn wrapped_value(pat: &syn::Pat, ty: &syn::Type) -> Option<String> {
    let syn::Pat::TupleStruct(ts) = pat else {
        return None;
    };
    let syn::Type::Path(written) = peel_refs(ty) else {
        return None;
    };
    let seg = written.path.segments.last()?;
    if ts.elems.len() != 1 || seg.ident != driver::last_segment(&ts.path) {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &seg.arguments else {
        return None;
    };
    let mut types = args.args.iter().filter_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    });
    match (types.next(), types.next()) {
        (Some(inner), None) => core_type(inner),
        _ => None,
    }
}

/// `let Wrapper(inner) = ..`: the name a newtype's pattern binds, with the newtype and its field `0`.
/// Not for `Some`/`Ok`/`Err`, nor the framework's wrappers (`let Json(body) = ..`).
fn newtype_binding(pat: &syn::Pat) -> Option<(String, String, String)> {
    let syn::Pat::TupleStruct(ts) = pat else {
        return None;
    };
    let name = driver::last_segment(&ts.path);
    let own = OWN_WRAPPERS.with(|own| own.borrow().contains(&name));
    let framework = !own
        && (router::EXTRACTORS.contains(&name.as_str()) || TYPE_WRAPPERS.contains(&name.as_str()));
    if ts.elems.len() != 1 || framework || matches!(name.as_str(), "Some" | "Ok" | "Err") {
        return None;
    }
    Some((single_ident(&ts.elems[0])?, name, "0".to_string()))
}

/// `CipherDeleteOptions::SoftMulti`: a variant of an enum, by its name.
fn enum_variant(e: &Expr) -> Option<String> {
    let Expr::Path(p) = e else { return None };
    let last = p.path.segments.last()?.ident.to_string();
    (p.path.segments.len() >= 2 && last.starts_with(|c: char| c.is_ascii_uppercase()))
        .then(|| variant_tag(&p.path))
}

/// The name a parameter pattern binds: `db`, `State(state)`, `Extension(ctx)`.
fn param_name(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(p) => Some(p.ident.to_string()),
        syn::Pat::TupleStruct(ts) if ts.elems.len() == 1 => param_name(&ts.elems[0]),
        syn::Pat::Reference(r) => param_name(&r.pat),
        _ => None,
    }
}

/// The fields a struct pattern binds by name, also inside an extractor (`State(App { db, cache: c, .. })`):
/// [(binding, field)].
fn struct_fields(pat: &syn::Pat) -> Vec<(String, String)> {
    match pat {
        syn::Pat::Struct(ps) => ps
            .fields
            .iter()
            .filter_map(|f| {
                let syn::Member::Named(field) = &f.member else {
                    return None;
                };
                Some((single_ident(&f.pat)?, field.to_string()))
            })
            .collect(),
        syn::Pat::TupleStruct(ts) if ts.elems.len() == 1 => struct_fields(&ts.elems[0]),
        syn::Pat::Reference(r) => struct_fields(&r.pat),
        _ => Vec::new(),
    }
}

/// An expression whose value comes out of rocket's `try_outcome!(..)` (a guard calling another guard):
/// where the inner guard fails or forwards, the outer one returns. (`?` says the same of errors; it is
/// not read that way yet: the copies it would make of every callee are not yet independent of the
/// order they are made in.)
fn propagates(e: &Expr) -> bool {
    match e {
        Expr::Paren(p) => propagates(&p.expr),
        Expr::Macro(m) => driver::last_segment(&m.mac.path) == "try_outcome",

        _ => false,
    }
}

/// The names a struct pattern binds with the struct it names and their fields: `State(AppState {
/// database, .. })` → `("database", "AppState", "database")`.
fn named_struct_fields(pat: &syn::Pat) -> Vec<(String, String, String)> {
    match pat {
        syn::Pat::Struct(ps) => {
            let owner = driver::last_segment(&ps.path);
            struct_fields(pat)
                .into_iter()
                .map(|(binding, field)| (binding, owner.clone(), field))
                .collect()
        }
        syn::Pat::TupleStruct(ts) if ts.elems.len() == 1 => named_struct_fields(&ts.elems[0]),
        syn::Pat::Reference(r) => named_struct_fields(&r.pat),
        _ => Vec::new(),
    }
}

/// `self.repo`, `state.db.clone()`, `&ctx.pool` → ["self", "repo"], ["state", "db"], ["ctx", "pool"].
fn field_path(expr: &Expr) -> Vec<String> {
    match expr {
        Expr::Path(p) if p.path.segments.len() == 1 => vec![driver::last_segment(&p.path)],
        Expr::Field(f) => {
            let mut base = field_path(&f.base);
            if base.is_empty() {
                return base;
            }
            match &f.member {
                syn::Member::Named(n) => base.push(n.to_string()),
                syn::Member::Unnamed(i) => base.push(i.index.to_string()),
            }
            base
        }
        Expr::Reference(r) => field_path(&r.expr),
        // `&*state.queue_service`: the value behind an `Arc` is typed as the `Arc` is.
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => field_path(&u.expr),
        Expr::Paren(p) => field_path(&p.expr),
        Expr::MethodCall(m)
            if m.args.is_empty()
                && matches!(
                    m.method.to_string().as_str(),
                    "clone" | "as_ref" | "deref" | "borrow" | "borrow_mut"
                ) =>
        {
            field_path(&m.receiver)
        }
        // `Arc::clone(&config)`, `Rc::clone(&state)`: another handle on the same value.
        Expr::Call(c)
            if c.args.len() == 1
                && matches!(&*c.func, Expr::Path(p)
                    if matches!(driver::path_segments(&p.path).as_slice(),
                        [.., ty, clone] if clone == "clone" && matches!(ty.as_str(), "Arc" | "Rc" | "Clone"))) =>
        {
            field_path(&c.args[0])
        }
        // `state.lock().await.adaptor`, `cache.read().unwrap()`: a lock's guard is typed as what the
        // lock holds (as `Mutex<T>` is `T`).
        Expr::Await(a) => match &*a.base {
            Expr::MethodCall(m) if m.args.is_empty() && is_lock(&m.method.to_string()) => {
                field_path(&m.receiver)
            }
            _ => Vec::new(),
        },
        Expr::MethodCall(m)
            if m.args.is_empty()
                && matches!(m.method.to_string().as_str(), "unwrap" | "expect") =>
        {
            match &*m.receiver {
                Expr::MethodCall(inner)
                    if inner.args.is_empty() && is_lock(&inner.method.to_string()) =>
                {
                    field_path(&inner.receiver)
                }
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    }
}

/// A lock's methods that give its guard.
fn is_lock(method: &str) -> bool {
    matches!(
        method,
        "lock" | "read" | "write" | "lock_owned" | "read_owned" | "write_owned"
    )
}

/// The first name of a tuple pattern (`(sql, values)`), where a builder hands back its SQL and values.
fn built_sql_name(pat: &syn::Pat) -> Option<String> {
    let syn::Pat::Tuple(t) = pat else { return None };
    match t.elems.first()? {
        syn::Pat::Ident(i) if t.elems.len() == 2 => Some(i.ident.to_string()),
        _ => None,
    }
}

/// The name a `Some(name)` pattern binds (`Some(load)`, `Some(ref load)`).
fn some_binding(pat: &syn::Pat) -> Option<String> {
    let syn::Pat::TupleStruct(ts) = pat else {
        return None;
    };
    if driver::last_segment(&ts.path) != "Some" || ts.elems.len() != 1 {
        return None;
    }
    match &ts.elems[0] {
        syn::Pat::Ident(i) if i.subpat.is_none() => Some(i.ident.to_string()),
        _ => None,
    }
}

fn single_path_ident(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Path(p) if p.path.segments.len() == 1 => Some(driver::last_segment(&p.path)),
        _ => None,
    }
}

/// A cheap syntactic test before evaluating an expression as a router.
/// `let (router, api) = <router>.split_for_parts();` (utoipa-axum): the router's name and expression.
fn split_router<'e>(pat: &syn::Pat, init: &'e Expr) -> Option<(String, &'e Expr)> {
    let (syn::Pat::Tuple(t), Expr::MethodCall(m)) = (pat, init) else {
        return None;
    };
    if m.method != "split_for_parts" {
        return None;
    }
    match t.elems.first() {
        Some(syn::Pat::Ident(i)) => Some((i.ident.to_string(), &*m.receiver)),
        _ => None,
    }
}

/// A plain block whose value is a router (`{ use ..; let schema = ..; router.merge(..) }`): its
/// statements before the value, and the value.
/// The arms of an `if`/`else` chain each of which ends in a router (`if let Some(s) = service {
/// Router::new().route(..) } else { Router::new() }`), as their statements and that router.
/// Whether a method chain is built on tonic's `Server::builder()`.
fn tonic_server(expr: &Expr) -> bool {
    matches!(driver::chain(expr).0, Expr::Call(c) if matches!(&*c.func, Expr::Path(p)
        if matches!(driver::path_segments(&p.path).as_slice(), [.., server, builder]
            if server == "Server" && builder == "builder")))
}

/// The arms of an `if` whose every arm ends in a router: one it builds, or a router local `held` says
/// the function holds (`else { app }`).
/// A condition no value satisfies: one expression tested equal to two different literals in a
/// conjunction (`kind == "e" && kind == "h"`, `"e".to_string()` alike).
fn never_holds(cond: &Expr) -> bool {
    fn literal(e: &Expr) -> Option<String> {
        match e {
            Expr::Lit(l) => Some(quote::ToTokens::to_token_stream(&l.lit).to_string()),
            // `"e".to_string()`, `"e".into()`, `String::from("e")`.
            Expr::MethodCall(m) if m.args.is_empty() => literal(&m.receiver),
            Expr::Call(c) if c.args.len() == 1 => literal(&c.args[0]),
            Expr::Paren(p) => literal(&p.expr),
            Expr::Reference(r) => literal(&r.expr),
            _ => None,
        }
    }
    fn equalities(e: &Expr, out: &mut Vec<(String, String)>) {
        match e {
            Expr::Paren(p) => equalities(&p.expr, out),
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                equalities(&b.left, out);
                equalities(&b.right, out);
            }
            Expr::Binary(b) if matches!(b.op, syn::BinOp::Eq(_)) => {
                let side = |x: &Expr| quote::ToTokens::to_token_stream(x).to_string();
                match (literal(&b.left), literal(&b.right)) {
                    (None, Some(v)) => out.push((side(&b.left), v)),
                    (Some(v), None) => out.push((side(&b.right), v)),
                    _ => {}
                }
            }
            _ => {}
        }
    }
    let mut tests = Vec::new();
    equalities(cond, &mut tests);
    tests
        .iter()
        .enumerate()
        .any(|(i, (x, v))| tests[i + 1..].iter().any(|(y, w)| x == y && v != w))
}

fn router_arms<'e>(
    expr: &'e Expr,
    held: &dyn Fn(&Expr) -> bool,
) -> Option<Vec<(&'e [syn::Stmt], &'e Expr)>> {
    let arm = |block: &'e syn::Block| -> Option<(&'e [syn::Stmt], &'e Expr)> {
        let (last, before) = block.stmts.split_last()?;
        match last {
            syn::Stmt::Expr(tail, None) if looks_like_router(tail) || held(tail) => {
                Some((before, tail))
            }
            _ => None,
        }
    };
    // `match cfg.log { true => router.layer(from_fn(log)), false => router }`.
    if let Expr::Match(m) = expr {
        let out = m
            .arms
            .iter()
            .map(|a| match &*a.body {
                Expr::Block(b) if b.label.is_none() => arm(&b.block),
                tail if looks_like_router(tail) || held(tail) => Some((&[][..], tail)),
                _ => None,
            })
            .collect::<Option<Vec<_>>>()?;
        let picks_only = out
            .iter()
            .all(|(_, tail)| held(tail) && single_path_ident(tail).is_some());
        return (!out.is_empty() && !picks_only).then_some(out);
    }
    let Expr::If(e) = expr else { return None };
    let mut out = vec![arm(&e.then_branch)?];
    match e.else_branch.as_ref().map(|(_, b)| &**b)? {
        Expr::Block(b) => out.push(arm(&b.block)?),
        nested @ Expr::If(_) => out.extend(router_arms(nested, held)?),
        _ => return None,
    }
    // Not an `if` that only picks between routers held already (`if a { x } else { y }`).
    out.iter()
        .any(|(_, tail)| !(held(tail) && single_path_ident(tail).is_some()))
        .then_some(out)
}

fn router_block(expr: &Expr) -> Option<(&[syn::Stmt], &Expr)> {
    let Expr::Block(b) = expr else { return None };
    if b.label.is_some() {
        return None;
    }
    let (last, before) = b.block.stmts.split_last()?;
    match last {
        syn::Stmt::Expr(tail, None) if looks_like_router(tail) => Some((before, tail)),
        _ => None,
    }
}

/// A function's return type is a router of a framework (`Router<AppState>`, `Scope`).
fn returns_router(output: &syn::ReturnType) -> bool {
    let syn::ReturnType::Type(_, ty) = output else {
        return false;
    };
    let syn::Type::Path(p) = &**ty else {
        return false;
    };
    p.path
        .segments
        .last()
        .is_some_and(|s| super::ROUTER_TYPES.contains(&s.ident.to_string().as_str()))
}

/// A call that wraps a value rather than makes a router of its own (`Ok(Router::new()..)`, `Box::new(..)`,
/// `Arc::new(..)`, `Default::default()`).
fn wraps_a_value(func: &syn::Path) -> bool {
    matches!(
        driver::last_segment(func).as_str(),
        "Ok" | "Some" | "Err" | "new" | "from" | "default"
    )
}

/// A router built in place (`Router::new().route(..)`).
fn builds_router(a: &Expr) -> bool {
    matches!(driver::strip_plumbing(a), Expr::MethodCall(m) if router::is_router_chain(m))
}

/// A call of a function handed a router built in place (`with_auth(state, Router::new().route(..))`):
/// the router it hands back, behind the layers it puts on it.
fn hands_built_router(expr: &Expr) -> bool {
    let Expr::Call(c) = expr else { return false };
    matches!(&*c.func, Expr::Path(p) if !wraps_a_value(&p.path))
        && c.args.iter().any(builds_router)
        && !router::is_router_root(expr)
}

/// `self.router`: the name a field of `self` goes by as a router local (`self.router`).
fn self_field(expr: &Expr) -> Option<String> {
    let Expr::Field(f) = driver::strip_plumbing(expr) else {
        return None;
    };
    let (Expr::Path(base), syn::Member::Named(field)) = (&*f.base, &f.member) else {
        return None;
    };
    base.path.is_ident("self").then(|| format!("self.{field}"))
}

fn looks_like_router(expr: &Expr) -> bool {
    // `match resource { A => router.merge(a()), .. }`: each arm grows the router.
    if let Expr::Match(m) = expr {
        return m
            .arms
            .iter()
            .filter_map(|a| router::tail(&a.body))
            .any(looks_like_router);
    }
    if let Expr::Macro(m) = expr {
        return router::ROUTE_LIST_MACROS.contains(&driver::last_segment(&m.mac.path).as_str());
    }
    let (root, calls) = driver::chain(expr);
    if calls.iter().any(|c| router::is_router_op(c)) {
        return true;
    }
    // `let v1 = v1::router(cfg).with_state(state);`: only routers take a state this way.
    let router_only = calls.iter().any(|c| {
        matches!(
            c.method.to_string().as_str(),
            "with_state" | "route_layer" | "finish_api"
        )
    });
    router::makes_router(root) || (router_only && matches!(root, Expr::Call(_)))
}

fn tokens_mention_await(tokens: proc_macro2::TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        proc_macro2::TokenTree::Ident(i) => i == "await",
        proc_macro2::TokenTree::Group(g) => tokens_mention_await(g.stream()),
        _ => false,
    })
}

/// A name followed by parentheses (`f(x)`, `x.load(conn)`) or an `.await`: something that may call.
fn tokens_mention_call(tokens: proc_macro2::TokenStream) -> bool {
    let mut after_name = false;
    tokens.into_iter().any(|tt| {
        let call = match &tt {
            proc_macro2::TokenTree::Ident(i) => *i == "await",
            proc_macro2::TokenTree::Group(g) => {
                (after_name && g.delimiter() == proc_macro2::Delimiter::Parenthesis)
                    || tokens_mention_call(g.stream())
            }
            _ => false,
        };
        after_name = matches!(tt, proc_macro2::TokenTree::Ident(_));
        call
    })
}

/// `tokio::join!(biased; a, b)` starts with a mode word.
fn strip_biased(tokens: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    let trees: Vec<_> = tokens.into_iter().collect();
    match trees.as_slice() {
        [proc_macro2::TokenTree::Ident(i), proc_macro2::TokenTree::Punct(p), rest @ ..]
            if i == "biased" && p.as_char() == ';' =>
        {
            rest.iter().cloned().collect()
        }
        _ => trees.into_iter().collect(),
    }
}

/// `include!(concat!(env!("OUT_DIR"), "/queries.rs"));` or tonic's `include_proto!("jobs")`: items the build
/// writes into its output folder.
fn includes_build_output(item: &syn::Item) -> bool {
    let syn::Item::Macro(m) = item else {
        return false;
    };
    let Some(last) = m.mac.path.segments.last() else {
        return false;
    };
    match last.ident.to_string().as_str() {
        "include_proto" => true,
        "include" => m.mac.tokens.to_string().contains("OUT_DIR"),
        _ => false,
    }
}

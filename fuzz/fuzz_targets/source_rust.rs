//! Structured input as a small web service in valid Rust: async handlers and helpers whose bodies await
//! sqlx, tokio-postgres, redis and HTTP calls in sequence, in loops, in branches, in `tokio::join!`, in
//! transactions and in spawned tasks, with allow and budget comments, and an axum router over them. The
//! text goes through the same pipeline as the `source` target (`hopcheck_fuzz::run_source`), so the
//! fuzzer spends its time in the model, the rules, the costs and the fixes rather than in the parser.
//!
//! An input's `Debug` form is the generated program: `cargo fuzz fmt source_rust <input>` prints it.

#![no_main]

use std::fmt::{self, Write};

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|program: Program| {
    hopcheck_fuzz::run_source(program.to_string());
});

/// Bodies nest at most this deep.
const MAX_DEPTH: usize = 4;
/// At most this many functions, statements per body, arms, routes.
const MAX_ITEMS: usize = 8;

#[derive(Arbitrary)]
pub struct Program {
    functions: Vec<Function>,
    routes: Vec<Route>,
    consts: Vec<Sql>,
}

#[derive(Arbitrary, Debug)]
struct Function {
    kind: FnKind,
    directive: Option<Directive>,
    body: Vec<Stmt>,
}

#[derive(Arbitrary, Debug, Clone, Copy, PartialEq)]
enum FnKind {
    /// `async fn fN(State(state): State<AppState>, Path(id): Path<i64>)`.
    Handler,
    /// `async fn fN(db: &PgPool, id: i64)`.
    Helper,
    /// A method of `impl Repo`, called as `state.repo.fN(id)`.
    Method,
    /// `fn fN(conn: &mut PgConnection, id: i64)`: a synchronous helper.
    Sync,
    /// An actix-style handler with a route attribute.
    Attributed,
}

#[derive(Arbitrary, Debug)]
enum Directive {
    Allow { lint: Lint, reason: bool },
    Budget(Duration),
    Garbage(String),
}

#[derive(Arbitrary, Debug)]
enum Duration {
    Ms(u16),
    Seconds(u8),
    /// Values a configuration file may not hold.
    Odd(u8),
    Text(String),
}

const ODD_DURATIONS: &[&str] = &[
    "NaN",
    "inf",
    "-inf",
    "-5ms",
    "1e309s",
    "-0",
    "1e308ms",
    "0.0000001s",
    "",
];

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Lint {
    SequentialQueries,
    QueryInLoop,
    ChattyTransaction,
    OverBudget,
    ReadOnPrimary,
    ResidencyViolation,
    StaleReadAfterWrite,
    UnusedAllow,
    ParseError,
    Unknown,
}

#[derive(Arbitrary, Debug)]
enum Stmt {
    /// `let vN = QUERY;` or `QUERY;`.
    Query {
        query: Query,
        bind: bool,
    },
    /// `let vN = fK(&state.db, v).await?;` in its caller's calling convention.
    Call {
        callee: u8,
        arg: u8,
        awaited: bool,
    },
    For {
        over: u8,
        body: Vec<Stmt>,
    },
    /// `while let Some(row) = rows.try_next().await? { .. }` over a stream.
    Stream {
        query: Query,
        body: Vec<Stmt>,
    },
    Loop {
        body: Vec<Stmt>,
    },
    If {
        cond: u8,
        then: Vec<Stmt>,
        otherwise: Option<Vec<Stmt>>,
    },
    Match {
        scrutinee: Query,
        arms: Vec<Vec<Stmt>>,
    },
    Join {
        how: JoinHow,
        parts: Vec<Query>,
    },
    Transaction {
        pool: Executor,
        body: Vec<Query>,
        end: TxEnd,
    },
    Spawn {
        body: Vec<Stmt>,
    },
    /// A closure that queries, called twice.
    Closure {
        query: Query,
    },
    /// `futures::future::try_join_all(ids.iter().map(|id| fK(..))).await?`.
    JoinAll {
        callee: u8,
    },
    Return {
        query: Option<Query>,
    },
    /// A comment above the next statement.
    Directive {
        directive: Directive,
        then: Box<Stmt>,
    },
    /// `let vN = QUERY` without `.await`, awaited later.
    Deferred {
        query: Query,
        later: Vec<Stmt>,
    },
    Block(Vec<Stmt>),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum JoinHow {
    TokioJoin,
    TokioTryJoin,
    FuturesTryJoin,
    JoinFn,
    Select,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum TxEnd {
    Commit,
    Rollback,
    Dropped,
    /// Handed to a function that commits it.
    Passed,
}

#[derive(Arbitrary, Debug)]
struct Query {
    api: Api,
    sql: Sql,
    executor: Executor,
    bind: Option<u8>,
    awaited: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Api {
    SqlxQuery(Fetch),
    SqlxMacro(Fetch),
    SqlxScalar(Fetch),
    SqlxAs(Fetch),
    TokioPostgres(PgMethod),
    Redis,
    Http,
    Mongo,
    SeaOrm,
    Diesel,
    /// A method hopcheck does not know.
    Unknown,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Fetch {
    One,
    All,
    Optional,
    Execute,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum PgMethod {
    Query,
    QueryOne,
    QueryOpt,
    Execute,
    BatchExecute,
}

#[derive(Arbitrary, Debug)]
enum Sql {
    Template { shape: u8, table: u8 },
    Const(u8),
    Text(String),
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum Executor {
    Db,
    StateDb,
    StateRead,
    Tx,
    Pool,
    SelfDb,
    AsRef,
    Conn,
}

#[derive(Arbitrary, Debug)]
struct Route {
    method: HttpMethod,
    path: u8,
    handler: u8,
    nested: bool,
}

#[derive(Arbitrary, Debug, Clone, Copy)]
enum HttpMethod {
    Get,
    Post,
    Put,
    Delete,
    Any,
}

const SHAPES: &[&str] = &[
    "SELECT id FROM {t} WHERE id = $1",
    "SELECT count(*) FROM {t}",
    "INSERT INTO {t} (id, name) VALUES ($1, $2) RETURNING id",
    "UPDATE {t} SET seen = now() WHERE id = $1",
    "DELETE FROM {t} WHERE id = $1",
    "SELECT * FROM {t} WHERE id = $1 FOR UPDATE",
    "WITH x AS (SELECT id FROM {t}) SELECT * FROM x JOIN teams ON true",
    "BEGIN",
    "COMMIT",
    "SELECT 1",
    "select name from {t} where id = any($1)",
    "INSERT INTO {t} SELECT * FROM users ON CONFLICT DO NOTHING",
];
const TABLES: &[&str] = &[
    "users",
    "orders",
    "customers",
    "teams",
    "public.users",
    "\"Quoted\"",
    "settings",
];
const PATHS: &[&str] = &[
    "/",
    "/users/{id}",
    "/users/:id",
    "/report",
    "/slow",
    "/admin/*rest",
    "/a/{id}/b/{name}",
    "",
];

impl Program {
    fn functions(&self) -> &[Function] {
        &self.functions[..self.functions.len().min(MAX_ITEMS)]
    }
}

/// What rendering needs to know: the functions (to call them in their own convention), the variables
/// declared so far and the current nesting.
struct Ctx<'a> {
    out: String,
    functions: &'a [Function],
    consts: usize,
    vars: usize,
    depth: usize,
    kind: FnKind,
}

impl Ctx<'_> {
    fn line(&mut self, text: &str) {
        for _ in 0..self.depth {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn var(&self, pick: u8) -> String {
        match self.vars {
            0 => "id".to_string(),
            n => format!("v{}", pick as usize % n),
        }
    }

    fn fresh(&mut self) -> String {
        self.vars += 1;
        format!("v{}", self.vars - 1)
    }

    fn body(&mut self, stmts: &[Stmt]) {
        if self.depth > MAX_DEPTH {
            return;
        }
        self.depth += 1;
        let vars = self.vars;
        for s in stmts.iter().take(MAX_ITEMS) {
            self.stmt(s);
        }
        self.vars = vars;
        self.depth -= 1;
    }

    fn block(&mut self, head: &str, stmts: &[Stmt]) {
        self.line(&format!("{head} {{"));
        self.body(stmts);
        self.line("}");
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Query { query, bind } => {
                let q = self.query(query);
                if *bind {
                    let v = self.fresh();
                    self.line(&format!("let {v} = {q};"));
                } else {
                    self.line(&format!("{q};"));
                }
            }
            Stmt::Call {
                callee,
                arg,
                awaited,
            } => {
                let call = self.call(*callee, *arg, *awaited);
                let v = self.fresh();
                self.line(&format!("let {v} = {call};"));
            }
            Stmt::For { over, body } => {
                let over = self.var(*over);
                let item = self.fresh();
                let head = format!("for {item} in {over}.iter()");
                self.block(&head, body);
            }
            Stmt::Stream { query, body } => {
                let q = self.query_with(query, Some("fetch"), false);
                self.line(&format!("let mut rows = {q};"));
                self.block("while let Some(row) = rows.try_next().await?", body);
            }
            Stmt::Loop { body } => {
                self.line("loop {");
                self.body(body);
                self.line("    break;");
                self.line("}");
            }
            Stmt::If {
                cond,
                then,
                otherwise,
            } => {
                let head = format!("if {} > 0", self.var(*cond));
                self.line(&format!("{head} {{"));
                self.body(then);
                match otherwise {
                    Some(e) => {
                        self.line("} else {");
                        self.body(e);
                        self.line("}");
                    }
                    None => self.line("}"),
                }
            }
            Stmt::Match { scrutinee, arms } => {
                let q = self.query(scrutinee);
                self.line(&format!("match {q} {{"));
                for (i, arm) in arms.iter().take(MAX_ITEMS).enumerate() {
                    self.line(&format!("    Some({i}) => {{"));
                    self.body(arm);
                    self.line("    }");
                }
                self.line("    _ => {}");
                self.line("}");
            }
            Stmt::Join { how, parts } => {
                let futures: Vec<String> = parts
                    .iter()
                    .take(MAX_ITEMS)
                    .map(|q| self.query_with(q, None, false))
                    .collect();
                let v = self.fresh();
                let list = futures.join(",\n        ");
                let joined = match how {
                    JoinHow::TokioJoin => format!("tokio::join!(\n        {list}\n    )"),
                    JoinHow::TokioTryJoin => format!("tokio::try_join!(\n        {list}\n    )?"),
                    JoinHow::FuturesTryJoin => {
                        format!("futures::try_join!(\n        {list}\n    )?")
                    }
                    JoinHow::JoinFn => format!("futures::future::join_all(vec![{list}]).await"),
                    JoinHow::Select => format!("tokio::select! {{ x = {list} => x }}"),
                };
                self.line(&format!("let {v} = {joined};"));
            }
            Stmt::Transaction { pool, body, end } => {
                self.line(&format!(
                    "let mut tx = {}.begin().await?;",
                    executor(*pool).trim_start_matches('&')
                ));
                for q in body.iter().take(MAX_ITEMS) {
                    let q = self.query_with(q, None, true);
                    self.line(&format!("{q};"));
                }
                match end {
                    TxEnd::Commit => self.line("tx.commit().await?;"),
                    TxEnd::Rollback => self.line("tx.rollback().await?;"),
                    TxEnd::Dropped => self.line("drop(tx);"),
                    TxEnd::Passed => self.line("save_and_commit(tx, id).await?;"),
                }
            }
            Stmt::Spawn { body } => {
                self.line("tokio::spawn(async move {");
                self.body(body);
                self.line("});");
            }
            Stmt::Closure { query } => {
                let q = self.query(query);
                self.line("let run = || async move {");
                self.line(&format!("    {q}"));
                self.line("};");
                self.line("run().await;");
                self.line("run().await;");
            }
            Stmt::JoinAll { callee } => {
                let call = self.call(*callee, 0, false);
                let v = self.fresh();
                self.line(&format!(
                    "let {v} = futures::future::try_join_all(ids.iter().map(|id| {call})).await?;"
                ));
            }
            Stmt::Return { query } => match query {
                Some(q) => {
                    let q = self.query(q);
                    self.line(&format!("return {q};"));
                }
                None => self.line("return Ok(Default::default());"),
            },
            Stmt::Directive { directive, then } => {
                let text = directive_text(directive);
                self.line(&text);
                self.stmt(then);
            }
            Stmt::Deferred { query, later } => {
                let q = self.query_with(query, None, false);
                self.line(&format!("let pending = {q};"));
                self.body(later);
                let v = self.fresh();
                self.line(&format!("let {v} = pending.await?;"));
            }
            Stmt::Block(body) => self.block("", body),
        }
    }

    /// A call of function `callee` in its own convention.
    fn call(&self, callee: u8, arg: u8, awaited: bool) -> String {
        let n = self.functions.len().max(1);
        let index = callee as usize % n;
        let kind = self.functions.get(index).map_or(FnKind::Helper, |f| f.kind);
        let arg = self.var(arg);
        let call = match kind {
            FnKind::Handler | FnKind::Attributed => {
                format!("f{index}(State(state.clone()), Path({arg}))")
            }
            FnKind::Helper => format!("f{index}(&state.db, {arg})"),
            FnKind::Method => format!("state.repo.f{index}({arg})"),
            FnKind::Sync => return format!("f{index}(&mut conn, {arg})?"),
        };
        if awaited {
            format!("{call}.await?")
        } else {
            call
        }
    }

    fn query(&self, q: &Query) -> String {
        self.query_with(q, None, false)
    }

    /// A query expression: awaited and `?`-ed when `q.awaited` (and no fetch is forced), on the
    /// transaction when `in_tx`.
    fn query_with(&self, q: &Query, fetch: Option<&str>, in_tx: bool) -> String {
        let exec = if in_tx {
            "&mut *tx"
        } else if self.kind == FnKind::Sync {
            "&mut conn"
        } else {
            executor(q.executor)
        };
        let sql = self.sql(&q.sql);
        let bind = q
            .bind
            .map(|v| format!(".bind({})", self.var(v)))
            .unwrap_or_default();
        let sqlx_fetch = |f: Fetch| {
            fetch.unwrap_or(match f {
                Fetch::One => "fetch_one",
                Fetch::All => "fetch_all",
                Fetch::Optional => "fetch_optional",
                Fetch::Execute => "execute",
            })
        };
        let expr = match q.api {
            Api::SqlxQuery(f) => format!("sqlx::query({sql}){bind}.{}({exec})", sqlx_fetch(f)),
            Api::SqlxMacro(f) => {
                let args = q
                    .bind
                    .map(|v| format!(", {}", self.var(v)))
                    .unwrap_or_default();
                format!("sqlx::query!({sql}{args}).{}({exec})", sqlx_fetch(f))
            }
            Api::SqlxScalar(f) => format!(
                "sqlx::query_scalar::<_, i64>({sql}){bind}.{}({exec})",
                sqlx_fetch(f)
            ),
            Api::SqlxAs(f) => format!(
                "sqlx::query_as::<_, User>({sql}){bind}.{}({exec})",
                sqlx_fetch(f)
            ),
            Api::TokioPostgres(m) => {
                let method = match m {
                    PgMethod::Query => "query",
                    PgMethod::QueryOne => "query_one",
                    PgMethod::QueryOpt => "query_opt",
                    PgMethod::Execute => "execute",
                    PgMethod::BatchExecute => "batch_execute",
                };
                format!("client.{method}({sql}, &[&id])")
            }
            Api::Redis => "con.get::<_, String>(&key)".to_string(),
            Api::Http => "state.payments.get(\"https://payments.example/x\").send()".to_string(),
            Api::Mongo => "state.users.find_one(doc! { \"_id\": &id })".to_string(),
            Api::SeaOrm => format!("users::Entity::find_by_id(id).one({exec})"),
            Api::Diesel => format!("users::table.find(id).first::<User>({exec})"),
            Api::Unknown => format!("state.thing.frobnicate({sql})"),
        };
        if q.awaited && fetch.is_none() && self.kind != FnKind::Sync {
            format!("{expr}.await?")
        } else {
            expr
        }
    }

    fn sql(&self, sql: &Sql) -> String {
        match sql {
            Sql::Template { shape, table } => {
                let shape = SHAPES[*shape as usize % SHAPES.len()];
                let table = TABLES[*table as usize % TABLES.len()];
                format!("{:?}", shape.replace("{t}", table))
            }
            Sql::Const(i) if self.consts > 0 => format!("SQL{}", *i as usize % self.consts),
            Sql::Const(_) => "\"SELECT 1\"".to_string(),
            Sql::Text(text) => format!("{text:?}"),
        }
    }
}

fn executor(e: Executor) -> &'static str {
    match e {
        Executor::Db => "&db",
        Executor::StateDb => "&state.db",
        Executor::StateRead => "&state.read",
        Executor::Tx => "&mut *tx",
        Executor::Pool => "&pool",
        Executor::SelfDb => "&self.db",
        Executor::AsRef => "state.db.as_ref()",
        Executor::Conn => "&mut conn",
    }
}

fn lint_name(l: Lint) -> &'static str {
    match l {
        Lint::SequentialQueries => "sequential-queries",
        Lint::QueryInLoop => "query-in-loop",
        Lint::ChattyTransaction => "chatty-transaction",
        Lint::OverBudget => "over-budget",
        Lint::ReadOnPrimary => "read-on-primary",
        Lint::ResidencyViolation => "residency-violation",
        Lint::StaleReadAfterWrite => "stale-read-after-write",
        Lint::UnusedAllow => "unused-allow",
        Lint::ParseError => "parse-error",
        Lint::Unknown => "no-such-lint",
    }
}

/// A `// hopcheck: …` comment on one line.
fn directive_text(d: &Directive) -> String {
    let one_line = |s: &str| s.replace(['\n', '\r'], " ");
    match d {
        Directive::Allow { lint, reason } => format!(
            "// hopcheck: allow({}){}",
            lint_name(*lint),
            if *reason { " measured, it is fine" } else { "" }
        ),
        Directive::Budget(Duration::Ms(ms)) => format!("// hopcheck: budget({ms}ms)"),
        Directive::Budget(Duration::Seconds(s)) => format!("// hopcheck: budget({s}s)"),
        Directive::Budget(Duration::Odd(i)) => format!(
            "// hopcheck: budget({})",
            ODD_DURATIONS[*i as usize % ODD_DURATIONS.len()]
        ),
        Directive::Budget(Duration::Text(t)) => format!("// hopcheck: budget({})", one_line(t)),
        Directive::Garbage(t) => format!("// hopcheck: {}", one_line(t)),
    }
}

impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::from(
            "use axum::{extract::{Path, State}, routing::{get, post}, Router};\nuse sqlx::PgPool;\n\n",
        );
        out.push_str(
            "struct AppState {\n    db: PgPool,\n    read: PgPool,\n    repo: Repo,\n}\n\n",
        );
        let consts = self.consts.len().min(MAX_ITEMS);
        let functions = self.functions();
        let mut ctx = Ctx {
            out: String::new(),
            functions,
            consts,
            vars: 0,
            depth: 0,
            kind: FnKind::Helper,
        };
        for (i, sql) in self.consts.iter().take(consts).enumerate() {
            let _ = writeln!(out, "const SQL{i}: &str = {};", ctx.sql(sql));
        }
        let mut methods = String::new();
        for (i, function) in functions.iter().enumerate() {
            ctx.out.clear();
            ctx.vars = 0;
            ctx.kind = function.kind;
            if let Some(d) = &function.directive {
                out.push_str(&directive_text(d));
                out.push('\n');
            }
            let header = match function.kind {
                FnKind::Handler => format!(
                    "async fn f{i}(State(state): State<AppState>, Path(id): Path<i64>) -> sqlx::Result<i64> {{\n    let db = state.db.clone();\n"
                ),
                FnKind::Attributed => format!(
                    "#[get(\"/attr/{i}\")]\nasync fn f{i}(state: web::Data<AppState>, id: web::Path<i64>) -> sqlx::Result<i64> {{\n"
                ),
                FnKind::Helper => {
                    format!("async fn f{i}(db: &PgPool, id: i64) -> sqlx::Result<i64> {{\n")
                }
                FnKind::Method => {
                    format!("    async fn f{i}(&self, id: i64) -> sqlx::Result<i64> {{\n")
                }
                FnKind::Sync => {
                    format!("fn f{i}(conn: &mut PgConnection, id: i64) -> QueryResult<i64> {{\n")
                }
            };
            // Statements sit one level into the function, two into a method of `impl Repo`.
            let indent = if function.kind == FnKind::Method {
                1
            } else {
                0
            };
            ctx.depth = indent;
            ctx.body(&function.body);
            ctx.depth = indent + 1;
            ctx.line("Ok(0)");
            let text = format!("{header}{}", ctx.out);
            if function.kind == FnKind::Method {
                methods.push_str(&text);
                methods.push_str("    }\n\n");
            } else {
                out.push_str(&text);
                out.push_str("}\n\n");
            }
        }
        if !methods.is_empty() {
            let _ = write!(out, "impl Repo {{\n{}}}\n\n", methods);
        }
        if !self.routes.is_empty() {
            out.push_str("pub fn app(state: AppState) -> Router {\n    Router::new()\n");
            let n = functions.len().max(1);
            for r in self.routes.iter().take(MAX_ITEMS) {
                let method = match r.method {
                    HttpMethod::Get => "get",
                    HttpMethod::Post => "post",
                    HttpMethod::Put => "put",
                    HttpMethod::Delete => "delete",
                    HttpMethod::Any => "any",
                };
                let path = PATHS[r.path as usize % PATHS.len()];
                let handler = format!("f{}", r.handler as usize % n);
                let route = format!(".route({path:?}, {method}({handler}))");
                if r.nested {
                    let _ = writeln!(out, "        .nest(\"/api\", Router::new(){route})");
                } else {
                    let _ = writeln!(out, "        {route}");
                }
            }
            out.push_str("        .with_state(state)\n}\n");
        }
        f.write_str(&out)
    }
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

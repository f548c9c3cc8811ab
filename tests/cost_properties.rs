//! Properties of the cost model, checked on generated services as a user would write them.
//!
//! Each case is the source of a small axum + sqlx service (a route, `GET /r`, whose handler awaits a
//! generated sequence of reads, writes, transactions, `if`/`match` branches, early returns and breaks,
//! loops, concurrent groups and calls to helper functions of the same file, which may call each other)
//! and a generated `hopcheck.toml` (app regions, a primary, maybe replicas, `[rtt]` overrides, a custom
//! region, `[assume]`). Both go through the library as the language server uses it (`parse_source`,
//! `config::parse`, `analyze_files`); every case first checks that the route was found and makes round
//! trips, then the route's `round_trips` and per-deployment `estimated_ms` are compared across variants:
//!
//! - the estimate follows the documented rules (a sequence sums, a branch or a concurrent group takes
//!   its costliest arm, a loop multiplies its body, a call adds its callee, a transaction is BEGIN, its
//!   statements and COMMIT, a round trip costs the RTT to the region that answers it), on programs
//!   without recursion whose early exits make no round trip;
//! - adding a round trip anywhere never lowers a route's cost;
//! - a concurrent group (`tokio::join!`, `tokio::try_join!`, `futures::join!`,
//!   `futures::future::try_join`) never costs more than the same calls awaited in sequence;
//! - raising any one RTT (between two regions, or inside a region) never lowers any route's estimate;
//! - a loop costs at least its body once;
//! - a read sent to a replica nearer than the primary never costs more than on the primary;
//! - `hopcheck plan`'s read-replica and isolation scenarios never cost a route more than today;
//! - moving statements into a helper function that the handler awaits keeps the route's cost;
//! - another route in the same file never changes a route's cost, whichever helpers they share
//!   (a cycle of calls such as `load_thread` ↔ `load_replies` included).

use std::path::Path;

use hopcheck::config::Config;
use proptest::prelude::*;
use proptest::sample::Index;

/// Cases per property: enough to shrink to small counterexamples, few enough for a debug build.
const CASES: u32 = 64;

// -------------------------------------------------------------------------------------------------
// The generated service
// -------------------------------------------------------------------------------------------------

const TABLES: [&str; 5] = ["users", "orders", "teams", "invoices", "audit"];

/// Regions to place deployments, primaries and replicas in: four continents, a GCP region in the
/// same metro as an AWS one and a custom region (both priced from coordinates, not measurements).
const REGIONS: [&str; 8] = [
    "us-east-1",
    "us-west-2",
    "eu-central-1",
    "eu-west-1",
    "ap-southeast-2",
    "sa-east-1",
    "europe-west3",
    CUSTOM_REGION,
];

/// A region of the user's own, defined in every generated configuration.
const CUSTOM_REGION: &str = "dc-lisbon";

#[derive(Debug, Clone, Copy, PartialEq)]
enum Pool {
    Primary,
    Replica,
}

#[derive(Debug, Clone, Copy)]
enum WriteKind {
    Insert,
    Update,
    Delete,
}

/// One database call, as a future (before its `.await`).
#[derive(Debug, Clone)]
enum Query {
    Read { table: usize, pool: Pool, style: u8 },
    Write { table: usize, kind: WriteKind },
}

/// Something a concurrent group runs: a query, or a call to a helper (an index into the helpers).
#[derive(Debug, Clone)]
enum Fut {
    Query(Query),
    Call(usize),
}

#[derive(Debug, Clone, Copy)]
enum JoinForm {
    TokioTryJoin,
    TokioJoin,
    FuturesJoin,
    /// `futures::future::try_join(a, b).await?` (two futures; more are nested pairwise).
    FuturesTryJoinFn,
}

/// What follows a statement's `.await`.
#[derive(Debug, Clone, Copy)]
enum Tail {
    /// `?`
    Try,
    /// `.map_err(…)?`
    MapErr,
    /// Nothing: `let _ = ….await;`
    Ignored,
}

/// How many ids the generated handlers' `ids` list holds.
const IDS_LEN: u32 = 3;

/// How a loop is written.
#[derive(Debug, Clone, Copy)]
enum LoopKind {
    /// `for id in ids.iter()` over `let ids = vec![1, 2, 3]`: a list written out runs its length, 3.
    ForEach,
    /// `for _ in 0..n`: n times.
    Range(u32),
    /// `while let Some(id) = pending.pop()`: `loop-iterations` times.
    WhileLet,
    /// `loop { …; if pending.is_empty() { break; } }`: `loop-iterations` times.
    LoopBreak,
}

#[derive(Debug, Clone)]
enum Stmt {
    /// `let _row = <query>.await?;`, or with another tail.
    Await(Query, Tail),
    /// `helper_<n>(&state).await?;`
    Call(usize),
    /// `if ids.is_empty() { return … }`: a guard clause with no round trip.
    Guard,
    /// `if flag { … } else { … }`, or the same as a `match`.
    If {
        then: Vec<Stmt>,
        otherwise: Vec<Stmt>,
        as_match: bool,
    },
    Loop {
        kind: LoopKind,
        body: Vec<Stmt>,
    },
    /// `if flag { …; return …; }`, or `break` inside a loop: an early exit that may make round
    /// trips.
    Exit(Vec<Stmt>),
    /// `let mut tx = state.db.begin().await?; …; tx.commit().await?;`
    Tx(Vec<Query>),
    /// A concurrent group; `bound` makes each future a local first and joins the locals.
    Join {
        form: JoinForm,
        branches: Vec<Fut>,
        bound: bool,
    },
}

/// A handler (`GET /r`) and the helper functions of its file, written below it; maybe a second
/// handler (`GET /s`), written first.
#[derive(Debug, Clone)]
struct Program {
    helpers: Vec<Vec<Stmt>>,
    handler: Vec<Stmt>,
    other: Option<Vec<Stmt>>,
    /// Helpers may call any helper (recursion, through `Box::pin`), not only those before them.
    recursive: bool,
}

/// The topology of a generated `hopcheck.toml`.
#[derive(Debug, Clone)]
struct Topo {
    deployments: Vec<&'static str>,
    primary: &'static str,
    replicas: Vec<&'static str>,
    /// `[rtt]` overrides, at most one per unordered pair.
    rtt: Vec<(&'static str, &'static str, f64)>,
    intra_region_ms: Option<f64>,
    loop_iterations: Option<u32>,
}

// -------------------------------------------------------------------------------------------------
// Generators
// -------------------------------------------------------------------------------------------------

fn table() -> impl Strategy<Value = usize> {
    0..TABLES.len()
}

fn query() -> impl Strategy<Value = Query> {
    let pool = prop_oneof![Just(Pool::Primary), Just(Pool::Replica)];
    let kind = prop_oneof![
        Just(WriteKind::Insert),
        Just(WriteKind::Update),
        Just(WriteKind::Delete)
    ];
    prop_oneof![
        3 => (table(), pool, 0u8..3)
            .prop_map(|(table, pool, style)| Query::Read { table, pool, style }),
        1 => (table(), kind).prop_map(|(table, kind)| Query::Write { table, kind }),
    ]
}

fn fut() -> impl Strategy<Value = Fut> {
    prop_oneof![
        3 => query().prop_map(Fut::Query),
        1 => any::<usize>().prop_map(Fut::Call),
    ]
}

fn join_form() -> impl Strategy<Value = JoinForm> {
    prop_oneof![
        Just(JoinForm::TokioTryJoin),
        Just(JoinForm::TokioJoin),
        Just(JoinForm::FuturesJoin),
        Just(JoinForm::FuturesTryJoinFn),
    ]
}

fn join() -> impl Strategy<Value = Stmt> {
    (
        join_form(),
        prop::collection::vec(fut(), 2..4),
        any::<bool>(),
    )
        .prop_map(|(form, branches, bound)| Stmt::Join {
            form,
            branches,
            bound,
        })
}

fn tail() -> impl Strategy<Value = Tail> {
    prop_oneof![
        3 => Just(Tail::Try),
        1 => Just(Tail::MapErr),
        1 => Just(Tail::Ignored),
    ]
}

fn loop_kind() -> impl Strategy<Value = LoopKind> {
    prop_oneof![
        Just(LoopKind::ForEach),
        (1u32..5).prop_map(LoopKind::Range),
        Just(LoopKind::WhileLet),
        Just(LoopKind::LoopBreak),
    ]
}

fn tx() -> impl Strategy<Value = Stmt> {
    prop::collection::vec(query(), 1..3).prop_map(Stmt::Tx)
}

/// A statement; `exits` allows early exits that make round trips (`if c { q; return }`).
fn stmt(exits: bool) -> impl Strategy<Value = Stmt> {
    let leaf = prop_oneof![
        6 => (query(), tail()).prop_map(|(q, t)| Stmt::Await(q, t)),
        2 => any::<usize>().prop_map(Stmt::Call),
        1 => Just(Stmt::Guard),
        2 => join(),
        1 => tx(),
    ];
    leaf.prop_recursive(3, 24, 4, move |inner| {
        let block = prop::collection::vec(inner, 0..4);
        let exit_weight = if exits { 1 } else { 0 };
        prop_oneof![
            2 => (block.clone(), block.clone(), any::<bool>()).prop_map(
                |(then, otherwise, as_match)| {
                    Stmt::If {
                        then,
                        otherwise,
                        as_match,
                    }
                }
            ),
            2 => (loop_kind(), block.clone()).prop_map(|(kind, body)| Stmt::Loop { kind, body }),
            exit_weight => block.prop_map(Stmt::Exit),
        ]
    })
}

fn block(exits: bool) -> impl Strategy<Value = Vec<Stmt>> {
    prop::collection::vec(stmt(exits), 0..5)
}

/// A program whose handler starts with a read, so that every route makes at least one round trip.
fn program_with(exits: bool, recursive: bool) -> impl Strategy<Value = Program> {
    (prop::collection::vec(block(exits), 0..4), block(exits)).prop_map(move |(helpers, body)| {
        let first = Stmt::Await(
            Query::Read {
                table: 0,
                pool: Pool::Primary,
                style: 0,
            },
            Tail::Try,
        );
        let mut p = Program {
            helpers,
            handler: std::iter::once(first).chain(body).collect(),
            other: None,
            recursive,
        };
        p.resolve_calls();
        p
    })
}

/// A program with early exits anywhere, and helpers that may call each other recursively.
fn program() -> impl Strategy<Value = Program> {
    program_with(true, true)
}

/// A program whose only early exits are guard clauses without round trips, and whose helpers call only
/// helpers defined before them.
fn straight_program() -> impl Strategy<Value = Program> {
    program_with(false, false)
}

fn rtt_ms() -> impl Strategy<Value = f64> {
    (0u32..3000).prop_map(|t| f64::from(t) / 10.0)
}

fn region() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&REGIONS[..])
}

fn topo() -> impl Strategy<Value = Topo> {
    (
        prop::sample::subsequence(&REGIONS[..], 1..=3),
        region(),
        prop::sample::subsequence(&REGIONS[..], 0..=2),
        prop::collection::vec((region(), region(), rtt_ms()), 0..4),
        prop::option::of((1u32..40).prop_map(|t| f64::from(t) / 10.0)),
        prop::option::of(1u32..=20),
    )
        .prop_map(
            |(deployments, primary, replicas, pairs, intra_region_ms, loop_iterations)| {
                let mut t = Topo {
                    deployments,
                    primary,
                    replicas,
                    rtt: Vec::new(),
                    intra_region_ms,
                    loop_iterations,
                };
                for (a, b, ms) in pairs {
                    if a != b {
                        t.set_rtt(a, b, ms);
                    }
                }
                t
            },
        )
}

fn topo_with_replica() -> impl Strategy<Value = Topo> {
    (topo(), region()).prop_map(|(mut t, r)| {
        if t.replicas.is_empty() {
            t.replicas.push(r);
        }
        t
    })
}

// -------------------------------------------------------------------------------------------------
// Editing programs
// -------------------------------------------------------------------------------------------------

impl Program {
    /// Every block, in a fixed order: the handler's, each helper's, then the nested ones.
    fn block_count(&self) -> usize {
        fn nested(block: &[Stmt]) -> usize {
            block
                .iter()
                .map(|s| match s {
                    Stmt::If {
                        then, otherwise, ..
                    } => 2 + nested(then) + nested(otherwise),
                    Stmt::Loop { body, .. } | Stmt::Exit(body) => 1 + nested(body),
                    _ => 0,
                })
                .sum()
        }
        1 + self.helpers.len()
            + nested(&self.handler)
            + self.helpers.iter().map(|h| nested(h)).sum::<usize>()
    }

    /// Runs `edit` on the block `which` (modulo the number of blocks).
    fn edit_block(&mut self, which: Index, edit: impl FnOnce(&mut Vec<Stmt>)) {
        fn find(block: &mut [Stmt], n: &mut usize, edit: &mut Option<impl FnOnce(&mut Vec<Stmt>)>) {
            for s in block.iter_mut() {
                let children: Vec<&mut Vec<Stmt>> = match s {
                    Stmt::If {
                        then, otherwise, ..
                    } => vec![then, otherwise],
                    Stmt::Loop { body, .. } | Stmt::Exit(body) => vec![body],
                    _ => Vec::new(),
                };
                for child in children {
                    if *n == 0 {
                        if let Some(e) = edit.take() {
                            e(child);
                        }
                        return;
                    }
                    *n -= 1;
                    find(child, n, edit);
                    if edit.is_none() {
                        return;
                    }
                }
            }
        }
        let mut n = which.index(self.block_count());
        let mut edit = Some(edit);
        let top_count = 1 + self.helpers.len();
        if n < top_count {
            let top = match n {
                0 => &mut self.handler,
                i => &mut self.helpers[i - 1],
            };
            (edit.take().expect("not used yet"))(top);
            return;
        }
        n -= top_count;
        for top in std::iter::once(&mut self.handler).chain(self.helpers.iter_mut()) {
            find(top, &mut n, &mut edit);
            if edit.is_none() {
                return;
            }
        }
        unreachable!("block index within block_count");
    }

    /// Makes every call name a helper that exists (and, unless the program is recursive, comes before
    /// its caller); a call with no helper to name becomes a read.
    fn resolve_calls(&mut self) {
        fn fix(block: &mut [Stmt], available: usize) {
            let read = || Query::Read {
                table: 1,
                pool: Pool::Primary,
                style: 1,
            };
            for s in block {
                match s {
                    Stmt::Call(k) if available == 0 => *s = Stmt::Await(read(), Tail::Try),
                    Stmt::Call(k) => *k %= available,
                    Stmt::Join { branches, .. } => {
                        for b in branches {
                            match b {
                                Fut::Call(_) if available == 0 => *b = Fut::Query(read()),
                                Fut::Call(k) => *k %= available,
                                Fut::Query(_) => {}
                            }
                        }
                    }
                    Stmt::If {
                        then, otherwise, ..
                    } => {
                        fix(then, available);
                        fix(otherwise, available);
                    }
                    Stmt::Loop { body, .. } | Stmt::Exit(body) => fix(body, available),
                    Stmt::Await(..) | Stmt::Guard | Stmt::Tx(_) => {}
                }
            }
        }
        let n = self.helpers.len();
        let recursive = self.recursive;
        for (i, h) in self.helpers.iter_mut().enumerate() {
            fix(h, if recursive { n } else { i });
        }
        fix(&mut self.handler, n);
        if let Some(other) = &mut self.other {
            fix(other, n);
        }
    }

    /// Sends every read through one pool.
    fn with_reads_on(mut self, pool: Pool) -> Program {
        fn set(block: &mut [Stmt], pool: Pool) {
            let on = |q: &mut Query| {
                if let Query::Read { pool: p, .. } = q {
                    *p = pool;
                }
            };
            for s in block {
                match s {
                    Stmt::Await(q, _) => on(q),
                    Stmt::Join { branches, .. } => branches.iter_mut().for_each(|b| {
                        if let Fut::Query(q) = b {
                            on(q)
                        }
                    }),
                    Stmt::If {
                        then, otherwise, ..
                    } => {
                        set(then, pool);
                        set(otherwise, pool);
                    }
                    Stmt::Loop { body, .. } | Stmt::Exit(body) => set(body, pool),
                    Stmt::Call(_) | Stmt::Guard | Stmt::Tx(_) => {}
                }
            }
        }
        set(&mut self.handler, pool);
        self.helpers.iter_mut().for_each(|h| set(h, pool));
        if let Some(other) = &mut self.other {
            set(other, pool);
        }
        self
    }
}

impl Topo {
    fn set_rtt(&mut self, a: &'static str, b: &'static str, ms: f64) {
        self.rtt
            .retain(|(x, y, _)| !((*x == a && *y == b) || (*x == b && *y == a)));
        self.rtt.push((a, b, ms));
    }

    /// The regions the configuration names.
    fn regions(&self) -> Vec<&'static str> {
        let mut out: Vec<&'static str> = Vec::new();
        let named = self
            .deployments
            .iter()
            .chain([&self.primary])
            .chain(&self.replicas);
        for r in named {
            if !out.contains(r) {
                out.push(r);
            }
        }
        out
    }
}

// -------------------------------------------------------------------------------------------------
// Rendering
// -------------------------------------------------------------------------------------------------

/// Writes the Rust source of a program.
struct Writer {
    out: String,
    /// Counter for the names of futures bound to locals.
    locals: usize,
}

impl Writer {
    /// The locals every function's statements use.
    fn prologue(&mut self) {
        self.line(1, "let ids: Vec<i64> = vec![1, 2, 3];");
        debug_assert_eq!(IDS_LEN, 3);
        self.line(1, "let mut pending = ids.clone();");
        self.line(1, "let flag = ids.len() > 1;");
    }

    fn line(&mut self, indent: usize, text: &str) {
        for _ in 0..indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// A query's future; `tx` sends it through the open transaction instead of its pool.
    fn query(q: &Query, tx: bool) -> String {
        let executor = |pool: Pool| match (tx, pool) {
            (true, _) => "&mut *tx",
            (false, Pool::Primary) => "&state.db",
            (false, Pool::Replica) => "&state.read",
        };
        match q {
            Query::Read { table, pool, style } => {
                let sql = format!("SELECT id FROM {} WHERE id = $1", TABLES[*table]);
                let exec = executor(*pool);
                match style {
                    0 => format!(
                        "sqlx::query_scalar::<_, i64>(\"{sql}\").bind(1_i64).fetch_one({exec})"
                    ),
                    1 => format!("sqlx::query(\"{sql}\").bind(1_i64).fetch_optional({exec})"),
                    _ => format!(
                        "sqlx::query_as::<_, (i64,)>(\"{sql}\").bind(1_i64).fetch_all({exec})"
                    ),
                }
            }
            Query::Write { table, kind } => {
                let t = TABLES[*table];
                let sql = match kind {
                    WriteKind::Insert => format!("INSERT INTO {t} (id) VALUES ($1)"),
                    WriteKind::Update => format!("UPDATE {t} SET seen_at = now() WHERE id = $1"),
                    WriteKind::Delete => format!("DELETE FROM {t} WHERE id = $1"),
                };
                let exec = executor(Pool::Primary);
                format!("sqlx::query(\"{sql}\").bind(1_i64).execute({exec})")
            }
        }
    }

    fn fut(f: &Fut, at: Place) -> String {
        match f {
            Fut::Query(q) => Writer::query(q, false),
            Fut::Call(k) => at.call(*k),
        }
    }

    fn awaited(future: &str, tail: Tail) -> String {
        match tail {
            Tail::Try => format!("let _row = {future}.await?;"),
            Tail::MapErr => format!("let _row = {future}.await.map_err(|e| e)?;"),
            Tail::Ignored => format!("let _ = {future}.await;"),
        }
    }

    fn block(&mut self, block: &[Stmt], indent: usize, at: Place) {
        for s in block {
            self.stmt(s, indent, at);
        }
    }

    fn stmt(&mut self, s: &Stmt, indent: usize, at: Place) {
        match s {
            Stmt::Await(q, tail) => {
                self.line(indent, &Writer::awaited(&Writer::query(q, false), *tail))
            }
            Stmt::Call(k) => self.line(indent, &format!("{}.await?;", at.call(*k))),
            Stmt::Guard => {
                self.line(indent, "if ids.is_empty() {");
                self.line(indent + 1, &format!("return Ok({});", at.ok_value()));
                self.line(indent, "}");
            }
            Stmt::Exit(body) => {
                self.line(indent, "if flag {");
                self.block(body, indent + 1, at);
                if at.in_loop {
                    self.line(indent + 1, "break;");
                } else {
                    self.line(indent + 1, &format!("return Ok({});", at.ok_value()));
                }
                self.line(indent, "}");
            }
            Stmt::If {
                then,
                otherwise,
                as_match,
            } => {
                if *as_match {
                    self.line(indent, "match ids.len() {");
                    self.line(indent + 1, "0 => {");
                    self.block(then, indent + 2, at);
                    self.line(indent + 1, "}");
                    self.line(indent + 1, "_ => {");
                    self.block(otherwise, indent + 2, at);
                    self.line(indent + 1, "}");
                    self.line(indent, "}");
                } else {
                    self.line(indent, "if flag {");
                    self.block(then, indent + 1, at);
                    if otherwise.is_empty() {
                        self.line(indent, "}");
                    } else {
                        self.line(indent, "} else {");
                        self.block(otherwise, indent + 1, at);
                        self.line(indent, "}");
                    }
                }
            }
            Stmt::Loop { kind, body } => {
                let inner = Place {
                    in_loop: true,
                    ..at
                };
                match kind {
                    LoopKind::ForEach => self.line(indent, "for id in ids.iter() {"),
                    LoopKind::Range(n) => self.line(indent, &format!("for _ in 0..{n} {{")),
                    LoopKind::WhileLet => self.line(indent, "while let Some(id) = pending.pop() {"),
                    LoopKind::LoopBreak => self.line(indent, "loop {"),
                }
                self.block(body, indent + 1, inner);
                if let LoopKind::LoopBreak = kind {
                    self.line(indent + 1, "if pending.is_empty() {");
                    self.line(indent + 2, "break;");
                    self.line(indent + 1, "}");
                }
                self.line(indent, "}");
            }
            Stmt::Tx(queries) => {
                self.line(indent, "let mut tx = state.db.begin().await?;");
                for q in queries {
                    let text = format!("{}.await?;", Writer::query(q, true));
                    self.line(indent, &text);
                }
                self.line(indent, "tx.commit().await?;");
            }
            Stmt::Join {
                form,
                branches,
                bound,
            } => {
                let mut args: Vec<String> = branches.iter().map(|f| Writer::fut(f, at)).collect();
                if *bound {
                    for a in &mut args {
                        self.locals += 1;
                        let name = format!("pending_{}", self.locals);
                        self.line(indent, &format!("let {name} = {a};"));
                        *a = name;
                    }
                }
                let text = match form {
                    JoinForm::TokioTryJoin => {
                        format!("let _all = tokio::try_join!({})?;", args.join(", "))
                    }
                    JoinForm::TokioJoin => format!("let _all = tokio::join!({});", args.join(", ")),
                    JoinForm::FuturesJoin => {
                        format!("let _all = futures::join!({});", args.join(", "))
                    }
                    JoinForm::FuturesTryJoinFn => {
                        let mut args = args.into_iter();
                        let first = args.next().expect("two or more futures");
                        let nested = args.fold(first, |acc, a| {
                            format!("futures::future::try_join({acc}, {a})")
                        });
                        format!("let _all = {nested}.await?;")
                    }
                };
                self.line(indent, &text);
            }
        }
    }
}

/// Where a statement is written.
#[derive(Debug, Clone, Copy)]
struct Place {
    /// In a handler (`state: AppState`) or a helper (`state: &AppState`).
    in_handler: bool,
    /// The helper being written, if it is one.
    helper: Option<usize>,
    /// Inside a loop, where an early exit is a `break`.
    in_loop: bool,
}

impl Place {
    fn state_ref(self) -> &'static str {
        if self.in_handler {
            "&state"
        } else {
            "state"
        }
    }

    /// A call to a helper; one that may close a cycle is boxed, as async recursion must be.
    fn call(self, k: usize) -> String {
        let call = format!("helper_{k}({})", self.state_ref());
        match self.helper {
            Some(me) if k >= me => format!("Box::pin({call})"),
            _ => call,
        }
    }

    fn ok_value(self) -> &'static str {
        if self.in_handler {
            "String::new()"
        } else {
            "()"
        }
    }
}

fn source(p: &Program) -> String {
    let mut w = Writer {
        out: String::new(),
        locals: 0,
    };
    w.out.push_str(
        "use axum::extract::State;\n\
         use axum::routing::get;\n\
         use axum::Router;\n\
         use sqlx::PgPool;\n\
         \n\
         #[derive(Clone)]\n\
         pub struct AppState {\n    db: PgPool,\n    read: PgPool,\n}\n\
         \n\
         pub fn app(state: AppState) -> Router {\n    \
             Router::new()\n        .route(\"/r\", get(handler))\n",
    );
    if p.other.is_some() {
        w.line(2, ".route(\"/s\", get(other))");
    }
    w.line(2, ".with_state(state)");
    w.line(0, "}\n");
    let handlers = p.other.iter().map(|b| ("other", b));
    for (name, body) in handlers.chain([("handler", &p.handler)]) {
        w.line(
            0,
            &format!(
                "async fn {name}(State(state): State<AppState>) -> Result<String, sqlx::Error> {{"
            ),
        );
        w.prologue();
        w.block(
            body,
            1,
            Place {
                in_handler: true,
                helper: None,
                in_loop: false,
            },
        );
        w.line(1, "Ok(String::new())");
        w.line(0, "}\n");
    }
    for (i, body) in p.helpers.iter().enumerate() {
        w.line(
            0,
            &format!("async fn helper_{i}(state: &AppState) -> sqlx::Result<()> {{"),
        );
        w.prologue();
        w.block(
            body,
            1,
            Place {
                in_handler: false,
                helper: Some(i),
                in_loop: false,
            },
        );
        w.line(1, "Ok(())");
        w.line(0, "}\n");
    }
    w.out
}

fn quoted(regions: &[&str]) -> String {
    let q: Vec<String> = regions.iter().map(|r| format!("\"{r}\"")).collect();
    format!("[{}]", q.join(", "))
}

fn config_text(t: &Topo) -> String {
    let mut s = format!("deployments = {}\n\n", quoted(&t.deployments));
    s += &format!("[databases.main]\nprimary = \"{}\"\n", t.primary);
    if !t.replicas.is_empty() {
        s += &format!("replicas = {}\n", quoted(&t.replicas));
    }
    s += "\n[pools]\n\"state.db\" = \"main\"\n";
    if !t.replicas.is_empty() {
        s += "\"state.read\" = \"main.replica\"\n";
    }
    if !t.rtt.is_empty() {
        s += "\n[rtt]\n";
        for (a, b, ms) in &t.rtt {
            s += &format!("\"{a} {b}\" = {ms:?}\n");
        }
    }
    s += &format!("\n[regions.{CUSTOM_REGION}]\nlat = 38.72\nlon = -9.14\n");
    s += "\n[budget]\ndefault = \"60s\"\n";
    if t.intra_region_ms.is_some() || t.loop_iterations.is_some() {
        s += "\n[assume]\n";
        if let Some(n) = t.loop_iterations {
            s += &format!("loop-iterations = {n}\n");
        }
        if let Some(ms) = t.intra_region_ms {
            s += &format!("intra-region-rtt = \"{ms}ms\"\n");
        }
    }
    s
}

// -------------------------------------------------------------------------------------------------
// Running hopcheck
// -------------------------------------------------------------------------------------------------

fn config(t: &Topo) -> Config {
    let text = config_text(t);
    hopcheck::config::parse(Path::new("hopcheck.toml"), &text).unwrap_or_else(|errors| {
        let messages: Vec<String> = errors.iter().map(|e| e.message.clone()).collect();
        panic!("the generated configuration does not load: {messages:?}\n{text}")
    })
}

/// What the route report says.
#[derive(Debug, Clone, PartialEq)]
struct Cost {
    trips: u64,
    /// Per deployment, in the configuration's order.
    ms: Vec<f64>,
}

fn analysis(p: &Program, t: &Topo) -> hopcheck::Analysis {
    let config = config(t);
    let facts = hopcheck::parse_source("src/lib.rs", source(p), &config.catalog);
    assert!(
        facts.parse_error.is_none(),
        "the generated source does not parse: {:?}\n{}",
        facts.parse_error,
        source(p)
    );
    hopcheck::analyze_files(Path::new("generated"), vec![facts], config)
}

/// The cost of `GET /r`, after checking that hopcheck found it and priced every deployment.
fn cost(p: &Program, t: &Topo) -> Cost {
    let a = analysis(p, t);
    let routes: Vec<(Option<&str>, Option<&str>)> = a
        .routes
        .iter()
        .map(|r| (r.method.as_deref(), r.path.as_deref()))
        .collect();
    let mut expected = vec![(Some("GET"), Some("/r"))];
    if p.other.is_some() {
        expected.push((Some("GET"), Some("/s")));
    }
    assert_eq!(routes, expected, "in:\n{}", source(p));
    let route = &a.routes[0];
    assert!(
        route.round_trips > 0,
        "the handler's first read is not counted:\n{}",
        source(p)
    );
    let deployments: Vec<&str> = route.cost.iter().map(|c| c.deployment.as_str()).collect();
    assert_eq!(deployments, t.deployments);
    Cost {
        trips: route.round_trips,
        ms: route.cost.iter().map(|c| c.estimated_ms).collect(),
    }
}

/// Allows for the order in which sums of milliseconds are taken.
fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

fn at_most(a: f64, b: f64) -> bool {
    a <= b || close(a, b)
}

/// `a` costs no more than `b`, in round trips and on every deployment.
fn no_costlier(a: &Cost, b: &Cost) -> bool {
    a.trips <= b.trips && a.ms.iter().zip(&b.ms).all(|(x, y)| at_most(*x, *y))
}

fn same(a: &Cost, b: &Cost) -> bool {
    a.trips == b.trips && a.ms.iter().zip(&b.ms).all(|(x, y)| close(*x, *y))
}

// -------------------------------------------------------------------------------------------------
// The rules, as README.md states them
// -------------------------------------------------------------------------------------------------

/// The cost the documented rules give a program, with the RTTs the configuration gives.
struct Rules<'a> {
    config: &'a Config,
}

impl Rules<'_> {
    fn zero(&self) -> Cost {
        Cost {
            trips: 0,
            ms: vec![0.0; self.config.deployments.len()],
        }
    }

    /// The region that answers a query from deployment `d`: a read on the replica pool goes to the
    /// nearest replica (the primary when there is none), everything else to the primary.
    fn region(&self, q: &Query, d: &str) -> String {
        let db = &self.config.databases[0];
        let nearest = db.replicas.iter().min_by(|a, b| {
            self.config
                .rtt_ms(d, a)
                .total_cmp(&self.config.rtt_ms(d, b))
        });
        match (q, nearest) {
            (
                Query::Read {
                    pool: Pool::Replica,
                    ..
                },
                Some(r),
            ) => r.clone(),
            _ => db.primary.clone(),
        }
    }

    /// A query through a sqlx pool: the pool's connection check, then the query, each a round trip to
    /// the same place.
    fn trip(&self, q: &Query) -> Cost {
        let ms = self
            .config
            .deployments
            .iter()
            .map(|d| 2.0 * self.config.rtt_ms(d, &self.region(q, d)))
            .collect();
        Cost { trips: 1, ms }
    }

    fn fut(&self, f: &Fut, helpers: &[Cost]) -> Cost {
        match f {
            Fut::Query(q) => self.trip(q),
            Fut::Call(k) => helpers[*k].clone(),
        }
    }

    /// A sequence sums; a branch and a concurrent group take their costliest arm; a loop multiplies its
    /// body by its written-out count or `loop-iterations`; a guard clause without a round trip is free.
    fn block(&self, block: &[Stmt], helpers: &[Cost]) -> Cost {
        let mut total = self.zero();
        for s in block {
            let c = match s {
                Stmt::Await(q, _) => self.trip(q),
                Stmt::Tx(queries) => {
                    let primary = Query::Write {
                        table: 0,
                        kind: WriteKind::Update,
                    };
                    // BEGIN (after the pool's connection check), the statements on the
                    // transaction's connection, COMMIT.
                    let checked = self.trip(&primary);
                    let n = u32::try_from(queries.len()).expect("a few") + 2;
                    Cost {
                        trips: u64::from(n),
                        ms: checked
                            .ms
                            .iter()
                            .map(|x| x / 2.0 * f64::from(n + 1))
                            .collect(),
                    }
                }
                Stmt::Exit(_) => unreachable!("the rules are checked on programs without exits"),
                Stmt::Call(k) => helpers[*k].clone(),
                Stmt::Guard => self.zero(),
                Stmt::If {
                    then, otherwise, ..
                } => costlier(self.block(then, helpers), &self.block(otherwise, helpers)),
                Stmt::Loop { kind, body } => {
                    let once = self.block(body, helpers);
                    let n = match kind {
                        LoopKind::Range(n) => *n,
                        LoopKind::ForEach => IDS_LEN,
                        _ => self.config.loop_iterations,
                    };
                    Cost {
                        trips: once.trips * u64::from(n),
                        ms: once.ms.iter().map(|x| x * f64::from(n)).collect(),
                    }
                }
                Stmt::Join { branches, .. } => branches
                    .iter()
                    .fold(self.zero(), |c, b| costlier(c, &self.fut(b, helpers))),
            };
            total.trips += c.trips;
            total.ms.iter_mut().zip(&c.ms).for_each(|(x, y)| *x += y);
        }
        total
    }

    fn program(&self, p: &Program) -> Cost {
        let mut helpers = Vec::new();
        for h in &p.helpers {
            let c = self.block(h, &helpers);
            helpers.push(c);
        }
        self.block(&p.handler, &helpers)
    }
}

/// The costlier of two alternatives, in round trips and on each deployment apart.
fn costlier(mut a: Cost, b: &Cost) -> Cost {
    a.trips = a.trips.max(b.trips);
    a.ms.iter_mut().zip(&b.ms).for_each(|(x, y)| *x = x.max(*y));
    a
}

// -------------------------------------------------------------------------------------------------
// Properties
// -------------------------------------------------------------------------------------------------

/// The sources of a case's variants and its configuration, for a failure's message.
fn shown(programs: &[&Program], t: &Topo) -> String {
    let sources: Vec<String> = programs.iter().map(|p| source(p)).collect();
    format!(
        "{}\n--- hopcheck.toml\n{}",
        sources.join("\n---\n"),
        config_text(t)
    )
}

/// The number of cases, and no file of failed cases written beside this one: a failure prints its
/// shrunk case, to be turned into a fixed test.
fn settings() -> ProptestConfig {
    ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::with_cases(CASES)
    }
}

proptest! {
    #![proptest_config(settings())]

    /// The estimate is the documented composition of the round trips' RTTs.
    #[test]
    fn the_estimate_follows_the_documented_rules(p in straight_program(), t in topo()) {
        let got = cost(&p, &t);
        let want = Rules { config: &config(&t) }.program(&p);
        prop_assert!(
            same(&got, &want),
            "hopcheck {got:?}, the rules {want:?}\n{}",
            shown(&[&p], &t)
        );
    }

    /// Adding a round trip anywhere (a handler, a helper, a branch arm, a loop body, before or after an
    /// early exit) never lowers the route's cost.
    #[test]
    fn adding_a_round_trip_never_lowers_the_cost(
        p in program(),
        t in topo(),
        extra in query(),
        tail in tail(),
        site in any::<Index>(),
        at in any::<Index>(),
    ) {
        let mut more = p.clone();
        more.edit_block(site, |b| {
            let i = at.index(b.len() + 1);
            b.insert(i, Stmt::Await(extra, tail));
        });
        let (before, after) = (cost(&p, &t), cost(&more, &t));
        prop_assert!(
            no_costlier(&before, &after),
            "before {before:?}, after {after:?}\n{}",
            shown(&[&p, &more], &t)
        );
    }

    /// A concurrent group never costs more than the same futures awaited one after another.
    #[test]
    fn a_concurrent_group_never_costs_more_than_the_same_calls_in_sequence(
        p in program(),
        t in topo(),
        group in join(),
        site in any::<Index>(),
        at in any::<Index>(),
    ) {
        let Stmt::Join { branches, .. } = &group else { unreachable!("join() makes groups") };
        let sequence: Vec<Stmt> = branches
            .iter()
            .map(|b| match b {
                Fut::Query(q) => Stmt::Await(q.clone(), Tail::Try),
                Fut::Call(k) => Stmt::Call(*k),
            })
            .collect();
        let place = |prog: &mut Program, stmts: Vec<Stmt>| {
            prog.edit_block(site, |b| {
                let i = at.index(b.len() + 1);
                b.splice(i..i, stmts);
            });
            prog.resolve_calls();
        };
        let (mut joined, mut sequential) = (p.clone(), p);
        place(&mut joined, vec![group.clone()]);
        place(&mut sequential, sequence);
        let (j, s) = (cost(&joined, &t), cost(&sequential, &t));
        prop_assert!(
            no_costlier(&j, &s),
            "joined {j:?}, in sequence {s:?}\n{}",
            shown(&[&joined, &sequential], &t)
        );
    }

    /// Raising the RTT between any two regions of the topology never lowers the route's estimate.
    #[test]
    fn raising_one_rtt_never_lowers_the_estimate(
        p in program(),
        t in topo(),
        pair in (any::<Index>(), any::<Index>()),
        raise in (1u32..2000).prop_map(|x| f64::from(x) / 10.0),
    ) {
        let regions = t.regions();
        let a = regions[pair.0.index(regions.len())];
        let b = regions[pair.1.index(regions.len())];
        prop_assume!(a != b);
        let base = config(&t).rtt_ms(a, b);
        let mut slower = t.clone();
        slower.set_rtt(a, b, base + raise);
        let (before, after) = (cost(&p, &t), cost(&p, &slower));
        prop_assert!(
            no_costlier(&before, &after),
            "{a} ↔ {b}: {base} → {} ms; before {before:?}, after {after:?}\n{}",
            base + raise,
            shown(&[&p], &slower)
        );
    }

    /// Raising the RTT inside a region never lowers the route's estimate.
    #[test]
    fn raising_the_intra_region_rtt_never_lowers_the_estimate(
        p in program(),
        t in topo(),
        raise in (1u32..500).prop_map(|x| f64::from(x) / 10.0),
    ) {
        let base = config(&t).topology.intra_region_ms;
        let mut slower = t.clone();
        slower.intra_region_ms = Some(base + raise);
        let (before, after) = (cost(&p, &t), cost(&p, &slower));
        prop_assert!(
            no_costlier(&before, &after),
            "intra-region {base} → {} ms; before {before:?}, after {after:?}\n{}",
            base + raise,
            shown(&[&p], &t)
        );
    }

    /// Wrapping statements in a loop (`for`, `while let`, `loop` with a `break`) never costs less than
    /// running them once.
    #[test]
    fn a_loop_costs_at_least_its_body_once(
        p in program(),
        t in topo(),
        kind in loop_kind(),
        site in any::<Index>(),
        span in (any::<Index>(), any::<Index>()),
    ) {
        let mut looped = p.clone();
        looped.edit_block(site, |b| {
            let start = span.0.index(b.len() + 1);
            let end = start + span.1.index(b.len() - start + 1);
            let body: Vec<Stmt> = b.drain(start..end).collect();
            b.insert(start, Stmt::Loop { kind, body });
        });
        let (once, repeated) = (cost(&p, &t), cost(&looped, &t));
        prop_assert!(
            no_costlier(&once, &repeated),
            "body {once:?}, loop {repeated:?}\n{}",
            shown(&[&p, &looped], &t)
        );
    }

    /// A read sent through the replica pool never costs more than on the primary, from every
    /// deployment whose nearest replica is no farther than the primary.
    #[test]
    fn a_read_on_a_near_replica_never_costs_more_than_on_the_primary(
        p in program(),
        t in topo_with_replica(),
    ) {
        let c = config(&t);
        let (on_primary, on_replica) =
            (p.clone().with_reads_on(Pool::Primary), p.with_reads_on(Pool::Replica));
        let (primary, replica) = (cost(&on_primary, &t), cost(&on_replica, &t));
        prop_assert_eq!(primary.trips, replica.trips);
        for (i, d) in t.deployments.iter().enumerate() {
            let nearest = t.replicas.iter().map(|r| c.rtt_ms(d, r)).fold(f64::INFINITY, f64::min);
            if nearest <= c.rtt_ms(d, t.primary) {
                prop_assert!(
                    at_most(replica.ms[i], primary.ms[i]),
                    "from {d}: replica {} ms, primary {} ms\n{}",
                    replica.ms[i],
                    primary.ms[i],
                    shown(&[&on_primary, &on_replica], &t)
                );
            }
        }
    }

    /// `hopcheck plan`: a replica in every deployment region never makes a route slower than today,
    /// nor does a primary in every region make it slower than replicas, when no configured RTT between
    /// two regions is below the RTT inside one. The CDN changes no dynamic route.
    #[test]
    fn plan_scenarios_never_cost_more_than_today(p in program(), t in topo()) {
        let mut t = t;
        let intra = t.intra_region_ms.unwrap_or(1.0).min(3.0);
        t.intra_region_ms = Some(intra);
        t.rtt.iter_mut().for_each(|(_, _, ms)| *ms = ms.max(intra));
        let a = analysis(&p, &t);
        prop_assert_eq!(a.routes.len(), 1);
        let plan = hopcheck::plan::plan(&a);
        let scenario = |name: &str| -> Vec<f64> {
            let s = plan.scenarios.iter().find(|s| s.name == name).expect("a scenario");
            t.deployments
                .iter()
                .map(|d| {
                    s.routes
                        .iter()
                        .find(|r| r.path.as_deref() == Some("/r") && r.deployment == *d)
                        .expect("the route from each deployment")
                        .estimated_ms
                })
                .collect()
        };
        let today: Vec<f64> = a.routes[0].cost.iter().map(|c| c.estimated_ms).collect();
        let (current, cdn) = (scenario("current"), scenario("cdn"));
        let (replicas, isolation) = (scenario("read-replicas"), scenario("isolation"));
        let context = shown(&[&p], &t);
        prop_assert_eq!(&current, &today, "{}", context);
        prop_assert_eq!(&cdn, &today, "{}", context);
        for (i, d) in t.deployments.iter().enumerate() {
            prop_assert!(
                at_most(replicas[i], current[i]),
                "{d}: read-replicas {} > current {}\n{context}",
                replicas[i],
                current[i]
            );
            prop_assert!(
                at_most(isolation[i], replicas[i]),
                "{d}: isolation {} > read-replicas {}\n{context}",
                isolation[i],
                replicas[i]
            );
        }
    }

    /// Another route, defined before this one, never changes this route's cost, whichever helpers the
    /// two share, cycles of calls included (each function of a cycle is priced from its own entry).
    #[test]
    fn another_route_never_changes_a_routes_cost(
        p in program(),
        t in topo(),
        entry in any::<usize>(),
        body in block(true),
    ) {
        let mut both = p.clone();
        both.other = Some(std::iter::once(Stmt::Call(entry)).chain(body).collect());
        both.resolve_calls();
        let (alone, beside) = (cost(&p, &t), cost(&both, &t));
        prop_assert!(
            same(&alone, &beside),
            "alone {alone:?}, beside another route {beside:?}\n{}",
            shown(&[&both], &t)
        );
    }

    /// Moving a run of the handler's statements into a helper it awaits keeps the route's cost.
    #[test]
    fn moving_statements_into_a_helper_keeps_the_cost(
        p in straight_program(),
        t in topo(),
        span in (any::<Index>(), any::<Index>()),
    ) {
        let mut extracted = p.clone();
        let start = span.0.index(p.handler.len() + 1);
        let end = start + span.1.index(p.handler.len() - start + 1);
        let moved: Vec<Stmt> = extracted.handler.drain(start..end).collect();
        extracted.helpers.push(moved);
        let helper = extracted.helpers.len() - 1;
        extracted.handler.insert(start, Stmt::Call(helper));
        let (inline, called) = (cost(&p, &t), cost(&extracted, &t));
        prop_assert!(
            same(&inline, &called),
            "inline {inline:?}, in a helper {called:?}\n{}",
            shown(&[&p, &extracted], &t)
        );
    }
}

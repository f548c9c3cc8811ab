//! `chatty-transaction`: a transaction of several statements against a far primary. BEGIN, each
//! statement and COMMIT are round trips to the primary, one after another.

use std::collections::HashMap;

use super::{ordinal, per_deployment, Ctx, Diagnostic, Level, Lint};
use crate::config::Target;
use crate::cost::PathCost;
use crate::facts::{Loc, Step, Trip, TripKind};

pub static LINT: Lint = Lint {
    name: "chatty-transaction",
    default_level: Level::Warn,
    summary: "a transaction of several statements, each a round trip to a far primary",
    doc: include_str!("../../lints/chatty-transaction.md"),
    check,
};

/// A transaction a function opens and this lint reports.
pub struct Transaction<'a> {
    pub begin: &'a Trip,
    /// Statements on its costliest path, loops multiplied.
    pub statements: crate::cost::Trips,
    /// Round trips on that path: BEGIN, the statements and COMMIT (or ROLLBACK).
    pub trips: crate::cost::Trips,
    /// The pool's connection checks among them (before the BEGIN).
    pub pings: crate::cost::Trips,
    /// Statements sent as text and prepared first, each in a round trip of its own.
    pub prepares: crate::cost::Trips,
    pub ms: Vec<f64>,
    /// The steps of that path that make its round trips, in order, for labels.
    parts: Vec<Part<'a>>,
    /// Every step counted in it on any path (BEGIN, statements, COMMIT), by address, and whether its
    /// statements are known to run on a connection.
    members: HashMap<*const Step, bool>,
    /// Its costliest path reaches the COMMIT or ROLLBACK.
    closed: bool,
}

impl Transaction<'_> {
    /// Whether a step of the function is one of the transaction's round trips.
    pub fn holds(&self, step: &Step) -> bool {
        self.members
            .get(&(step as *const Step))
            .is_some_and(|sure| *sure || self.closed)
    }
}

fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for id in 0..ctx.model.fns.len() {
        if !ctx.model.reachable[id] {
            continue;
        }
        for tx in transactions(ctx, id) {
            out.push(diagnostic(ctx, id, &tx));
        }
    }
}

/// The transactions a function on a request path opens itself (a BEGIN among its own steps, or a
/// transaction closure) that hold two or more statements and run on a primary far from some deployment.
pub fn transactions<'a>(ctx: &Ctx<'a>, function: usize) -> Vec<Transaction<'a>> {
    let mut out = Vec::new();
    if ctx.model.reachable[function] {
        let body: &'a [Step] = &ctx.model.func(function).body;
        in_seq(ctx, body, &mut out);
    }
    out
}

/// Looks for a BEGIN in a sequence, then in the sequences nested in it.
fn in_seq<'a>(ctx: &Ctx<'a>, seq: &'a [Step], out: &mut Vec<Transaction<'a>>) {
    for (i, step) in seq.iter().enumerate() {
        if let Step::Trip(begin) = step {
            if begin.kind == TripKind::Begin {
                out.extend(transaction(ctx, begin, step, &seq[i + 1..]));
            }
        }
        for child in step.children() {
            in_seq(ctx, child, out);
        }
    }
}

/// The transaction a BEGIN opens, if it is worth a finding: what follows it up to its COMMIT or
/// ROLLBACK, or the end of the sequence.
fn transaction<'a>(
    ctx: &Ctx<'a>,
    begin: &'a Trip,
    begin_step: &'a Step,
    rest: &'a [Step],
) -> Option<Transaction<'a>> {
    let target = begin.target?;
    if begin.in_process || begin.service || target.db >= ctx.config.databases.len() {
        return None;
    }
    if !far(ctx, target) {
        return None;
    }
    let mut start = Path {
        parts: Vec::new(),
        closed: false,
    };
    start.add(begin_step, ctx.costs.step(begin_step), 0, true, None);
    let mut members = HashMap::from([(begin_step as *const Step, true)]);
    let scan = Scan { ctx, db: target.db };
    let (through, ended) = scan.seq(rest, start, &mut members);
    let path = better(through, ended)?;
    let parts: Vec<Part> = path.counted().cloned().collect();
    let statements = super::saturating_sum(parts.iter().map(|p| p.statements));
    let mut ms = vec![0.0; ctx.config.deployments.len()];
    for part in &parts {
        ms.iter_mut().zip(&part.ms).for_each(|(a, b)| *a += b);
    }
    (statements >= 2).then(|| Transaction {
        begin,
        statements,
        trips: super::saturating_sum(parts.iter().map(|p| p.trips)),
        pings: super::saturating_sum(parts.iter().map(|p| p.pings)),
        prepares: super::saturating_sum(parts.iter().map(|p| p.prepares)),
        ms,
        parts,
        members,
        closed: path.closed,
    })
}

/// The round trip from some deployment to the primary is more than two round trips inside a region.
fn far(ctx: &Ctx, target: Target) -> bool {
    let intra = ctx.config.topology.intra_region_ms;
    ctx.config
        .deployments
        .iter()
        .any(|d| ctx.config.rtt_ms(d, ctx.config.endpoint_region(target, d)) > 2.0 * intra)
}

/// One path through a transaction so far: the steps that make its round trips, from the BEGIN on.
#[derive(Clone)]
struct Path<'a> {
    parts: Vec<Part<'a>>,
    /// Reaches the transaction's COMMIT or ROLLBACK (or a nested BEGIN, where it stops being followed).
    closed: bool,
}

impl<'a> Path<'a> {
    fn add(
        &mut self,
        step: &'a Step,
        cost: PathCost,
        statements: crate::cost::Trips,
        sure: bool,
        ends: Option<&'static str>,
    ) {
        self.closed |= ends.is_some();
        self.parts.push(Part {
            step,
            statements,
            trips: cost.trips,
            pings: cost.pings,
            prepares: cost.prepares,
            ms: cost.ms,
            sure,
            ends,
        });
    }

    /// The parts that count. A path that never reaches the COMMIT or ROLLBACK hands the transaction on
    /// or drops it, and what runs after may not use it: only statements known to run on a connection
    /// count there.
    fn counted(&self) -> impl Iterator<Item = &Part<'a>> {
        self.parts.iter().filter(|p| self.closed || p.sure)
    }

    /// Statements, then round trips, that count.
    fn weight(&self) -> (crate::cost::Trips, crate::cost::Trips) {
        self.counted().fold((0, 0), |(s, t), p| {
            (s.saturating_add(p.statements), t.saturating_add(p.trips))
        })
    }
}

/// The path with more statements (then more round trips).
fn better<'a>(a: Option<Path<'a>>, b: Option<Path<'a>>) -> Option<Path<'a>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.weight() > a.weight() { b } else { a }),
        (a, b) => a.or(b),
    }
}

/// A step of a transaction's path that makes round trips: the BEGIN, statements, its end.
#[derive(Clone)]
struct Part<'a> {
    step: &'a Step,
    statements: crate::cost::Trips,
    trips: crate::cost::Trips,
    pings: crate::cost::Trips,
    prepares: crate::cost::Trips,
    ms: Vec<f64>,
    /// Every statement in it is known to run on a connection or in a transaction (not on a pool).
    sure: bool,
    /// The COMMIT or ROLLBACK it holds.
    ends: Option<&'static str>,
}

struct Scan<'c, 'a> {
    ctx: &'c Ctx<'a>,
    db: usize,
}

impl<'a> Scan<'_, 'a> {
    /// Follows a transaction through a sequence: the costliest path that runs to the sequence's end with
    /// the transaction still open, and the costliest that ends it (COMMIT, ROLLBACK, or leaving early).
    /// A branch is followed into each arm; a loop, a call or a concurrent group is one step, priced by
    /// the cost model (a loop multiplied).
    fn seq(
        &self,
        seq: &'a [Step],
        start: Path<'a>,
        members: &mut HashMap<*const Step, bool>,
    ) -> (Option<Path<'a>>, Option<Path<'a>>) {
        let mut through = Some(start);
        let mut ended = None;
        for step in seq {
            let Some(mut cur) = through.take() else { break };
            match step {
                Step::Exit | Step::Break => ended = better(ended, Some(cur)),
                Step::Guard { .. } | Step::Yields(_) => through = Some(cur),
                Step::Branch(alts) => {
                    for alt in alts {
                        let (t, e) = self.seq(alt, cur.clone(), members);
                        through = better(through, t);
                        ended = better(ended, e);
                    }
                }
                Step::Trip(t) => match t.kind {
                    TripKind::Commit | TripKind::Rollback => {
                        let cost = self.ctx.costs.step(step);
                        members.insert(step as *const Step, true);
                        let end = if t.kind == TripKind::Commit {
                            "COMMIT"
                        } else {
                            "ROLLBACK"
                        };
                        cur.add(step, cost, 0, true, Some(end));
                        ended = better(ended, Some(cur));
                    }
                    // Another BEGIN (a savepoint, or a second transaction): this one is not followed
                    // further, and what came before it ran inside it.
                    TripKind::Begin => {
                        cur.closed = true;
                        ended = better(ended, Some(cur));
                    }
                    TripKind::Query | TripKind::Prepare => {
                        if self.statement(t) {
                            let cost = self.ctx.costs.step(step);
                            let n = cost.trips;
                            members.insert(step as *const Step, true);
                            cur.add(step, cost, n, true, None);
                        }
                        through = Some(cur);
                    }
                    // A pool's connection check: no statement of the transaction.
                    TripKind::Check => through = Some(cur),
                    // The transaction's own settings: its round trips, none of its statements.
                    TripKind::Setting => {
                        let cost = self.ctx.costs.step(step);
                        cur.add(step, cost, 0, true, None);
                        through = Some(cur);
                    }
                },
                Step::Call(_) | Step::Loop(_) | Step::Concurrent(_) => {
                    let cost = self.ctx.costs.step(step);
                    if cost.trips == 0 {
                        through = Some(cur);
                        continue;
                    }
                    let reached = super::trips_under(self.ctx, std::slice::from_ref(step));
                    if reached.iter().any(|t| t.kind == TripKind::Begin) {
                        // A transaction of its own (or a savepoint): not this one's statements.
                        cur.closed = true;
                        ended = better(ended, Some(cur));
                        continue;
                    }
                    let ends = if reached.iter().any(|t| t.kind == TripKind::Commit) {
                        Some("COMMIT")
                    } else if reached.iter().any(|t| t.kind == TripKind::Rollback) {
                        Some("ROLLBACK")
                    } else {
                        None
                    };
                    // Round trips that are no statement of this database (the COMMIT, a call to a
                    // service) are not counted as statements, nor statements sent on a pool.
                    let others = reached
                        .iter()
                        .filter(|t| self.counted(t) && (!self.on_database(t) || on_pool(t)))
                        .count();
                    let statements = cost.trips.saturating_sub(
                        crate::cost::Trips::try_from(others).unwrap_or(crate::cost::Trips::MAX),
                    );
                    let sure = reached
                        .iter()
                        .filter(|t| self.counted(t) && self.on_database(t) && !on_pool(t))
                        .all(|t| t.in_transaction || t.on_connection);
                    if statements == 0 && ends.is_none() {
                        // Round trips beside the transaction, not in it.
                        through = Some(cur);
                        continue;
                    }
                    members.insert(step as *const Step, sure);
                    cur.add(step, cost, statements, sure, ends);
                    if ends.is_some() {
                        ended = better(ended, Some(cur));
                    } else {
                        through = Some(cur);
                    }
                }
            }
        }
        (through, ended)
    }

    /// The cost model counts it as a round trip.
    fn counted(&self, t: &Trip) -> bool {
        !t.in_process
            && t.target
                .is_some_and(|x| x.db < self.ctx.config.databases.len())
    }

    /// A statement on the transaction's database.
    fn on_database(&self, t: &Trip) -> bool {
        matches!(t.kind, TripKind::Query | TripKind::Prepare)
            && !t.service
            && t.target.is_some_and(|x| x.db == self.db)
    }

    /// A statement of the function's own that runs in the transaction (not on the pool beside it).
    fn statement(&self, t: &Trip) -> bool {
        self.counted(t) && self.on_database(t) && (t.in_transaction || t.on_connection)
    }
}

/// Sent on a pool named as such (`pool`, `&state.pool`, `self.db_pool`): each statement takes a
/// connection of its own, outside any transaction. A connection got from a pool (`get_conn(pool)`) is
/// not one.
fn on_pool(t: &Trip) -> bool {
    let Some(executor) = t.executor.as_deref() else {
        return false;
    };
    let path = executor.split('(').next().unwrap_or_default();
    !t.in_transaction
        && !t.on_connection
        && path
            .split('.')
            .any(|field| field.to_ascii_lowercase().contains("pool"))
}

/// Does a statement of the transaction lock rows (`SELECT … FOR UPDATE`) before another statement?
fn locks_before_more(ctx: &Ctx, tx: &Transaction) -> bool {
    let statements: Vec<&Trip> = tx
        .parts
        .iter()
        .flat_map(|p| super::trips_under(ctx, std::slice::from_ref(p.step)))
        .filter(|t| t.kind == crate::facts::TripKind::Query)
        .collect();
    statements
        .iter()
        .position(|t| t.locks_rows())
        .is_some_and(|at| at + 1 < statements.len())
}

fn diagnostic(ctx: &Ctx, function: usize, tx: &Transaction) -> Diagnostic {
    let target = tx.begin.target.unwrap_or(Target {
        db: 0,
        role: crate::config::Role::Primary,
    });
    let region = super::deployments_of(ctx, function)
        .next()
        .map(|(_, d)| ctx.config.endpoint_region(target, d))
        .unwrap_or_default();
    let mut related = Vec::new();
    let mut k = 1;
    for part in &tx.parts {
        let (loc, text) = label(ctx, part, k);
        k += part.statements as usize;
        // A transaction closure's COMMIT is where its BEGIN is: the primary label says it.
        if let Some(loc) = loc.filter(|l| *l != tx.begin.loc) {
            related.push((loc, text));
        }
    }
    Diagnostic {
        lint: LINT.name,
        level: LINT.default_level,
        file: ctx.model.fns[function].file,
        loc: tx.begin.loc,
        label: format!("the BEGIN of a transaction of {} statements", tx.statements),
        message: format!(
            "a transaction of {} statements makes {} round trips to {region}{}: {}",
            tx.statements,
            tx.trips,
            super::unseen(&crate::cost::PathCost {
                trips: tx.trips,
                pings: tx.pings,
                prepares: tx.prepares,
                ms: Vec::new(),
            }),
            per_deployment(ctx, function, &tx.ms)
        ),
        help: if locks_before_more(ctx, tx) {
            format!(
                "each statement waits for the one before it, between a BEGIN and a COMMIT that are round \
                 trips too; a statement takes a row lock (`FOR UPDATE`) or a table lock (`LOCK TABLE`) that later \
                 statements rely on, so do \
                 not merge statements across it: move the logic into a database function called once, \
                 or run the write path in {region}, next to the primary"
            )
        } else if ctx.model.files[ctx.model.fns[function].file].mysql {
            // MySQL has no `RETURNING`, no data-modifying CTE and no arrays.
            format!(
                "each statement waits for the one before it, between a BEGIN and a COMMIT that are round \
                 trips too: merge the statements into fewer (`INSERT … SELECT`, a multi-row `INSERT` for a \
                 batch of rows), move the logic into a stored procedure called once, or run the write path \
                 in {region}, next to the primary"
            )
        } else {
            format!(
                "each statement waits for the one before it, between a BEGIN and a COMMIT that are round \
                 trips too: merge the statements into one (a CTE with `RETURNING`, `INSERT … SELECT`, \
                 `UNNEST` over arrays for a batch of rows), move the logic into a database function called \
                 once, or run the write path in {region}, next to the primary"
            )
        },
        related,
        function: Some(function),
        // One statement instead: one round trip of the transaction's.
        saves_ms: super::most_saved(ctx, function, |d| {
            let ms = tx.ms.get(d).copied().unwrap_or(0.0);
            ms - ms / tx.trips.max(1) as f64
        }),
        ..Diagnostic::default()
    }
}

/// The place and label of a part: `2nd statement`, `3rd to 12th statements, in a loop`, `the COMMIT`.
fn label(ctx: &Ctx, part: &Part, k: usize) -> (Option<Loc>, String) {
    let statements = match part.statements {
        0 => String::new(),
        1 => format!("{} statement", ordinal(k)),
        n => format!(
            "{} to {} statements",
            ordinal(k),
            ordinal(k + n as usize - 1)
        ),
    };
    let (loc, place) = match part.step {
        Step::Trip(t) => (Some(t.loc), String::new()),
        Step::Call(c) => {
            let name = c
                .resolved
                .map(|id| ctx.model.func(id).name.clone())
                .unwrap_or_default();
            (Some(c.loc), format!(", in `{name}`"))
        }
        Step::Loop(l) => (Some(l.loc), ", in a loop".to_string()),
        Step::Concurrent(c) => (Some(c.loc), format!(", from `{}`", c.form)),
        Step::Branch(_) | Step::Exit | Step::Break | Step::Guard { .. } | Step::Yields(_) => {
            (None, String::new())
        }
    };
    let end = part.ends.unwrap_or_default();
    let what = match (statements.is_empty(), end.is_empty()) {
        (false, false) => format!("{statements} and the {end}"),
        (false, true) => statements,
        (true, _) => format!("the {end}"),
    };
    (loc, format!("{what}{place}"))
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::cost::Costs;
    use crate::facts::{FileFacts, FnFacts, Loc, Step, Trip, TripKind};
    use crate::rules::{Ctx, Level};

    fn trip(line: u32, kind: TripKind, sql: &str) -> Step {
        let loc = Loc {
            line,
            col: 5,
            offset: line * 100,
            len: 10,
        };
        let mut t = Trip::bare(line, loc, "execute".into());
        t.kind = kind;
        t.sql = Some(sql.into());
        t.executor = Some("tx".into());
        t.in_transaction = kind != TripKind::Begin;
        t.on_connection = t.in_transaction;
        Step::Trip(t)
    }

    /// A handler running BEGIN, two UPDATEs and COMMIT: the lints reported on it.
    fn lints(deployments: &[&str], chatty: Option<Level>) -> Vec<&'static str> {
        let handler = FnFacts {
            name: "transfer".into(),
            is_async: true,
            extractors: vec!["State".into()],
            body: vec![
                trip(1, TripKind::Begin, "BEGIN"),
                trip(
                    2,
                    TripKind::Query,
                    "UPDATE accounts SET balance = balance - 1 WHERE id = 1",
                ),
                trip(
                    3,
                    TripKind::Query,
                    "UPDATE accounts SET balance = balance + 1 WHERE id = 2",
                ),
                trip(4, TripKind::Commit, "COMMIT"),
            ],
            ..FnFacts::default()
        };
        let files = vec![FileFacts {
            path: "app.rs".into(),
            functions: vec![handler],
            ..FileFacts::default()
        }];
        let mut config = Config::default_topology();
        config.deployments = deployments.iter().map(|d| d.to_string()).collect();
        config.default_budget_ms = 60_000.0;
        if let Some(level) = chatty {
            config.levels.insert("chatty-transaction".into(), level);
        }
        let model = crate::model::build(
            files.into_iter().map(std::sync::Arc::new).collect(),
            &config,
        );
        let costs = Costs::compute(&model, &config);
        let ctx = Ctx {
            model: &model,
            config: &config,
            costs: &costs,
            config_uses: None,
        };
        crate::rules::check(&ctx).iter().map(|d| d.lint).collect()
    }

    #[test]
    fn a_far_transaction_is_one_finding_not_also_a_sequential_run() {
        assert_eq!(lints(&["us-east-1"], None), ["chatty-transaction"]);
        // Far from one deployment is enough.
        assert_eq!(
            lints(&["eu-central-1", "us-east-1"], None),
            ["chatty-transaction"]
        );
    }

    #[test]
    fn a_transaction_next_to_its_primary_is_not_reported() {
        assert!(lints(&["eu-central-1"], None).is_empty());
    }

    #[test]
    fn when_allowed_the_run_is_reported_as_sequential() {
        assert_eq!(
            lints(&["us-east-1"], Some(Level::Allow)),
            ["sequential-queries"]
        );
        assert_eq!(
            lints(&["us-east-1"], Some(Level::Error)),
            ["chatty-transaction"]
        );
    }
}

//! `sequential-queries`: two or more round trips awaited one after another on one path.

use std::collections::HashSet;

use super::{ordinal, per_deployment, Ctx, Diagnostic, Level, Lint};
use crate::facts::sql::Access;
use crate::facts::{Loc, Step, Trip, TripKind};

pub static LINT: Lint = Lint {
    name: "sequential-queries",
    default_level: Level::Warn,
    summary: "round trips awaited one after another that could be merged or run at once",
    doc: include_str!("../../lints/sequential-queries.md"),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for id in 0..ctx.model.fns.len() {
        if ctx.model.reachable[id] {
            check_tree(ctx, id, &ctx.model.func(id).body, out);
        }
    }
}

/// Checks a sequence, then the sequences nested in it. Once a run is reported, the branches inside it
/// are not reported again on their own (their round trips are already in the finding); loop bodies
/// always are.
fn check_tree(ctx: &Ctx, function: usize, seq: &[Step], out: &mut Vec<Diagnostic>) {
    let reported = check_seq(ctx, function, seq, out);
    for step in seq {
        match step {
            Step::Loop(l) => check_tree(ctx, function, &l.body, out),
            Step::Branch(_) | Step::Concurrent(_) if reported => {
                for l in outer_loops(step) {
                    check_tree(ctx, function, &l.body, out);
                }
            }
            Step::Branch(_) | Step::Concurrent(_) => {
                for child in step.children() {
                    check_tree(ctx, function, child, out);
                }
            }
            _ => {}
        }
    }
}

/// The loops under a step that no other loop under it contains (inner ones are `check_tree`'s).
fn outer_loops(step: &Step) -> Vec<&crate::facts::LoopStep> {
    let mut out = Vec::new();
    for child in step.children() {
        for s in child {
            match s {
                Step::Loop(l) => out.push(l),
                other => out.extend(outer_loops(other)),
            }
        }
    }
    out
}

/// One item of a sequential run: a step that makes round trips, with what it costs.
struct Item<'a> {
    step: &'a Step,
    trips: crate::cost::Trips,
    pings: crate::cost::Trips,
    prepares: crate::cost::Trips,
    ms: Vec<f64>,
    /// Inside the costliest arm of an `if`/`match` whose other arms do more than leave early.
    in_branch: bool,
    /// Calls to another service between it and the item before it (an HTTP API next to the app: no
    /// round trip of the database's, but time the run waits for too).
    after_remote: Vec<&'a Step>,
}

/// The steps of a sequence that make round trips, in order, with a branch opened into its costliest arm
/// (so that each round trip of a run is labelled and its data flow read on its own). Loops are
/// `query-in-loop`'s business.
fn items<'a>(
    ctx: &Ctx,
    seq: &'a [Step],
    levels: &mut Vec<(HashSet<Loc>, bool)>,
    out: &mut Vec<Item<'a>>,
) {
    // Calls to another service since the last item: steps that take time without a database round trip.
    let remote = |s: &Step| {
        let cost = ctx.costs.step(s);
        cost.trips == 0 && cost.ms.iter().any(|ms| *ms > 0.0)
    };
    let mut pending: Vec<&Step> = Vec::new();
    for s in seq {
        match s {
            Step::Loop(_) if remote(s) => pending.push(s),
            Step::Loop(_) => {}
            Step::Branch(alts) => {
                let cost = |a: &Vec<Step>| ctx.costs.seq(a).trips;
                let Some(arm) = alts.iter().max_by_key(|a| cost(a)) else {
                    continue;
                };
                // `if c { return } rest` is folded into a branch whose arms each carry `rest`: what
                // every arm that does more than leave early runs is not conditional to a reader.
                let guard = |a: &Vec<Step>| {
                    cost(a) == 0
                        && a.last()
                            .is_some_and(|l| matches!(l, Step::Exit | Step::Break))
                };
                let others: Vec<HashSet<Loc>> = alts
                    .iter()
                    .filter(|a| !std::ptr::eq(*a, arm) && !guard(a))
                    .map(|a| step_locs(a))
                    .collect();
                let mut common = step_locs(arm);
                common.retain(|l| others.iter().all(|o| o.contains(l)));
                levels.push((common, !others.is_empty()));
                let before = out.len();
                items(ctx, arm, levels, out);
                if let Some(first) = out.get_mut(before) {
                    first.after_remote.append(&mut pending);
                }
                levels.pop();
            }
            _ => {
                let cost = ctx.costs.step(s);
                if remote(s) {
                    pending.push(s);
                }
                // The statements one library call sends in turn (a count, then the page): one item,
                // which the code cannot split or join.
                let same_call = match (s, out.last().map(|i| i.step)) {
                    (Step::Trip(t), Some(Step::Trip(last))) => {
                        t.loc == last.loc && t.kind == last.kind
                    }
                    _ => false,
                };
                if let (true, Some(last)) = (same_call && cost.trips > 0, out.last_mut()) {
                    last.trips += cost.trips;
                    last.pings += cost.pings;
                    last.prepares += cost.prepares;
                    for (a, b) in last.ms.iter_mut().zip(&cost.ms) {
                        *a += b;
                    }
                    continue;
                }
                if cost.trips > 0 {
                    out.push(Item {
                        after_remote: std::mem::take(&mut pending),
                        step: s,
                        trips: cost.trips,
                        pings: cost.pings,
                        prepares: cost.prepares,
                        ms: cost.ms,
                        // Conditional if some branch on the way runs it in one arm and not the others.
                        in_branch: levels.iter().any(|(common, conditional)| {
                            *conditional && !step_loc(s).is_some_and(|l| common.contains(&l))
                        }),
                    });
                }
            }
        }
    }
}

fn step_loc(step: &Step) -> Option<Loc> {
    match step {
        Step::Trip(t) => Some(t.loc),
        Step::Call(c) => Some(c.loc),
        Step::Loop(l) => Some(l.loc),
        Step::Concurrent(c) => Some(c.loc),
        Step::Branch(_) | Step::Exit | Step::Break | Step::Guard { .. } | Step::Yields(_) => None,
    }
}

/// The places of every step under a sequence.
fn step_locs(seq: &[Step]) -> HashSet<Loc> {
    let mut out = HashSet::new();
    for s in seq {
        s.walk(&mut |x| out.extend(step_loc(x)));
    }
    out
}

/// Reports the sequential runs of one sequence, if it has any worth reporting. A write that waits for a
/// call to another service which uses earlier statements' results (read the usage, bill it, mark it
/// billed) cannot be merged with them or run beside them: it starts a run of its own (unless a
/// transaction the run opened is still open: it holds its locks across the call, which the lock advice
/// is about).
fn check_seq(ctx: &Ctx, function: usize, seq: &[Step], out: &mut Vec<Diagnostic>) -> bool {
    let mut found = Vec::new();
    items(ctx, seq, &mut Vec::new(), &mut found);
    if found.len() < 2 {
        return false;
    }
    // Nothing calls another service between the items: one run.
    if found.iter().all(|i| i.after_remote.is_empty()) {
        return check_run(ctx, function, seq, found, out);
    }
    let mut runs: Vec<Vec<Item>> = vec![Vec::new()];
    let (mut remote, mut open) = (false, false);
    let mut earlier: HashSet<u32> = HashSet::new();
    for item in found {
        let trips = super::trips_under(ctx, std::slice::from_ref(item.step));
        remote |= item
            .after_remote
            .iter()
            .any(|r| !after(r).is_disjoint(&earlier));
        let writes = trips
            .iter()
            .any(|t| t.kind == TripKind::Query && t.access == Some(Access::Write) && !t.service);
        if remote && writes && !open {
            runs.push(Vec::new());
            remote = false;
        }
        earlier.extend(ids(item.step));
        for t in &trips {
            match t.kind {
                TripKind::Begin => open = true,
                TripKind::Commit | TripKind::Rollback => open = false,
                _ => {}
            }
        }
        if let Some(run) = runs.last_mut() {
            run.push(item);
        }
    }
    let mut reported = false;
    for run in runs {
        reported |= check_run(ctx, function, seq, run, out);
    }
    reported
}

/// Reports one run of round trips of a sequence, if it is worth reporting.
fn check_run(
    ctx: &Ctx,
    function: usize,
    seq: &[Step],
    items: Vec<Item>,
    out: &mut Vec<Diagnostic>,
) -> bool {
    if items.len() < 2 {
        return false;
    }
    // A run worth reporting has two statements, or one inside a transaction it opens (then BEGIN and
    // COMMIT are the saving). BEGIN and COMMIT around a loop are the loop's business (`query-in-loop`),
    // and a statement followed by the COMMIT of a transaction a caller opened cannot be merged.
    let (mut statements, mut opens) = (0, false);
    for item in &items {
        let reached = super::trips_under(ctx, std::slice::from_ref(item.step));
        statements += reached
            .iter()
            .filter(|t| matches!(t.kind, TripKind::Query | TripKind::Prepare))
            .count();
        opens |= reached.iter().any(|t| t.kind == TripKind::Begin);
    }
    if statements < 2 && !(statements == 1 && opens) {
        return false;
    }
    // A run that is one transaction's BEGIN, statements and COMMIT is `chatty-transaction`'s finding.
    let steps: Vec<&Step> = items.iter().map(|i| i.step).collect();
    if super::in_reported_transaction(ctx, function, &steps) {
        return false;
    }
    let trips = super::saturating_sum(items.iter().map(|i| i.trips));
    let n_dep = ctx.config.deployments.len();
    let ms: Vec<f64> = (0..n_dep)
        .map(|d| items.iter().map(|i| i.ms[d]).sum())
        .collect();
    // Round trips that never leave the region cost next to nothing, and one far trip among local ones
    // saves next to nothing when merged: a run needs two that leave the region, from some deployment.
    let intra = ctx.config.topology.intra_region_ms;
    let far = |d: usize| -> crate::cost::Trips {
        super::saturating_sum(
            items
                .iter()
                .filter(|i| i.ms[d] / i.trips as f64 > 2.0 * intra + 0.5)
                .map(|i| i.trips),
        )
    };
    if !(0..n_dep).any(|d| ctx.model.runs_in(function, d) && far(d) >= 2) {
        return false;
    }
    let Some(primary) = costly_loc(ctx, items[1].step) else {
        return false;
    };
    let mut related = Vec::new();
    let mut k = 1;
    for item in &items {
        let Some(loc) = costly_loc(ctx, item.step) else {
            continue;
        };
        if loc != primary {
            related.push((loc, label(ctx, item, k)));
        }
        k += item.trips as usize;
    }
    let reached = super::trips_under(ctx, seq);
    let regions = destinations(ctx, function, &reached);
    let unseen = super::unseen(&crate::cost::PathCost {
        trips,
        pings: super::saturating_sum(items.iter().map(|i| i.pings)),
        prepares: super::saturating_sum(items.iter().map(|i| i.prepares)),
        ms: Vec::new(),
    });
    let unseen = if unseen.is_empty() {
        unseen
    } else {
        format!("{unseen},")
    };
    let message = format!(
        "{trips} sequential round trips{regions}{unseen} cost {}",
        per_deployment(ctx, function, &ms)
    );
    let second_k = 1 + items[0].trips as usize;
    out.push(Diagnostic {
        lint: LINT.name,
        level: LINT.default_level,
        file: ctx.model.fns[function].file,
        loc: primary,
        label: label(ctx, &items[1], second_k),
        message,
        help: help(ctx, function, &items, &reached),
        related,
        function: Some(function),
        // Merged or run at once, the run costs about its costliest item.
        saves_ms: super::most_saved(ctx, function, |d| {
            let most = items.iter().map(|i| i.ms[d]).fold(0.0, f64::max);
            ms[d] - most
        }),
        ..Diagnostic::default()
    });
    true
}

/// Where a step's round trips are: the trip, the call that makes them, or the costliest arm's first.
fn costly_loc(ctx: &Ctx, step: &Step) -> Option<Loc> {
    match step {
        Step::Trip(t) => Some(t.loc),
        Step::Call(c) => (ctx.costs.step(step).trips > 0).then_some(c.loc),
        Step::Concurrent(c) => Some(c.loc),
        Step::Loop(l) => Some(l.loc),
        Step::Branch(alts) => alts
            .iter()
            .max_by_key(|a| ctx.costs.seq(a).trips)
            .and_then(|a| a.iter().find_map(|s| costly_loc(ctx, s))),
        Step::Exit | Step::Break | Step::Guard { .. } | Step::Yields(_) => None,
    }
}

fn label(ctx: &Ctx, item: &Item, k: usize) -> String {
    let which = if item.trips == 1 {
        format!("{} round trip", ordinal(k))
    } else {
        format!(
            "{} to {} round trips",
            ordinal(k),
            ordinal(k + item.trips as usize - 1)
        )
    };
    let text = match item.step {
        Step::Call(crate::facts::Call {
            callee: crate::facts::Callee::Extractor(ty),
            ..
        }) => match ty.strip_prefix(crate::facts::MIDDLEWARE) {
            Some(f) => format!("{which}, in the middleware `{f}`"),
            None => format!("{which}, in the extractor `{ty}`"),
        },
        Step::Call(c) => {
            let name = c
                .resolved
                .map(|id| ctx.model.func(id).name.clone())
                .unwrap_or_default();
            format!("{which}, in `{name}`")
        }
        Step::Concurrent(c) => format!("{which}, from `{}`", c.form),
        _ => which,
    };
    if item.in_branch {
        format!("{text}, in a branch")
    } else {
        text
    }
}

/// ` to eu-central-1` for the regions the run's round trips reach from the first deployment that runs
/// the function.
fn destinations(ctx: &Ctx, function: usize, trips: &[&Trip]) -> String {
    let Some((_, dep)) = super::deployments_of(ctx, function).next() else {
        return String::new();
    };
    let mut regions: Vec<&str> = Vec::new();
    for t in trips {
        let Some(target) = t.target else { continue };
        let r = ctx.config.endpoint_region(target, dep);
        // A service taken to be next to the app (an unmapped HTTP API) is not a destination.
        if t.service && r == dep.as_str() {
            continue;
        }
        if !regions.contains(&r) {
            regions.push(r);
        }
    }
    if regions.is_empty() {
        return String::new();
    }
    format!(" to {}", regions.join(" and "))
}

/// Ids of the trips and calls a step is made of, to tell which later steps use its results.
fn ids(step: &Step) -> HashSet<u32> {
    let mut out = HashSet::new();
    step.walk(&mut |s| match s {
        Step::Trip(t) => {
            out.insert(t.id);
        }
        Step::Call(c) => {
            out.insert(c.id);
        }
        _ => {}
    });
    out
}

fn after(step: &Step) -> HashSet<u32> {
    let mut out = HashSet::new();
    step.walk(&mut |s| match s {
        Step::Trip(t) => out.extend(&t.after),
        Step::Call(c) => out.extend(&c.after),
        _ => {}
    });
    out
}

/// The extractor a step runs, if it is one.
fn extractor(step: &Step) -> Option<&str> {
    match step {
        Step::Call(crate::facts::Call {
            callee: crate::facts::Callee::Extractor(ty),
            ..
        }) => Some(ty),
        _ => None,
    }
}

/// Methods called on one object (`self.get_batch(..)`, `self.check_quota(..)`) that each send their
/// statements on a connection it holds (`&mut self.conn`): they share that connection and borrow it
/// mutably, so they cannot run at once.
fn on_one_object(ctx: &Ctx, items: &[&Item]) -> bool {
    let receiver = |item: &Item| match item.step {
        Step::Call(crate::facts::Call {
            callee: crate::facts::Callee::Method { receiver, .. },
            ..
        }) if !receiver.is_empty() => Some(receiver.clone()),
        _ => None,
    };
    let Some(first) = items.first().and_then(|i| receiver(i)) else {
        return false;
    };
    items.iter().all(|i| {
        let statements: Vec<&Trip> = super::trips_under(ctx, std::slice::from_ref(i.step))
            .into_iter()
            .filter(|t| matches!(t.kind, TripKind::Query | TripKind::Prepare))
            .collect();
        // `&mut self.conn`, a field: not a connection each method takes from a pool itself.
        let held = |t: &Trip| {
            t.executor
                .as_deref()
                .is_some_and(|e| e.starts_with("self.") && !e.contains('('))
        };
        receiver(i).as_ref() == Some(&first)
            && !statements.is_empty()
            && statements
                .iter()
                .all(|t| held(t) && (t.on_connection || t.in_transaction))
    })
}

fn help(ctx: &Ctx, function: usize, items: &[Item], reached: &[&Trip]) -> String {
    // An extractor runs before the body: it cannot join the body's calls, so it is advised on apart.
    let extractors: Vec<&str> = items.iter().filter_map(|i| extractor(i.step)).collect();
    let items: Vec<&Item> = items
        .iter()
        .filter(|i| extractor(i.step).is_none())
        .collect();
    // After the first call, each call is a write (it waits for whatever came before it: a check, a
    // read of the same row), or a read that uses an earlier result or not. A service's calls are
    // neither: the SQL advice on writes does not apply to them.
    let writes_in = |item: &Item| {
        super::trips_under(ctx, std::slice::from_ref(item.step))
            .iter()
            .any(|t| t.kind == TripKind::Query && t.access == Some(Access::Write) && !t.service)
    };
    let mut earlier: HashSet<u32> = HashSet::new();
    let statements_in = |item: &Item| {
        super::trips_under(ctx, std::slice::from_ref(item.step))
            .iter()
            .any(|t| matches!(t.kind, TripKind::Query | TripKind::Prepare))
    };
    let (mut dependent, mut independent, mut later_writes) = (0, 0, 0);
    // Whether a statement came before (a BEGIN is no read or check for a write to wait on), and
    // whether a write did: a read after a write may read what it wrote, so it cannot run beside it.
    let (mut after_statement, mut after_write, mut reads_back) = (false, false, 0);
    for item in items.iter() {
        // A BEGIN or a COMMIT alone is neither a read nor a write.
        if after_statement && !statements_in(item) {
            earlier.extend(ids(item.step));
            continue;
        }
        if after_statement {
            if writes_in(item) {
                later_writes += 1;
            } else if after_write {
                // A poll for what a worker writes (`loop { select result; sleep }`) reads no write
                // of this request back.
                let polled = super::polled(ctx, std::slice::from_ref(item.step));
                let trips = super::trips_under(ctx, std::slice::from_ref(item.step));
                if !trips.iter().all(|t| polled.contains(&(*t as *const _))) {
                    reads_back += 1;
                }
            } else if after(item.step).is_disjoint(&earlier) {
                independent += 1;
            } else {
                dependent += 1;
            }
        }
        after_statement |= statements_in(item);
        after_write |= writes_in(item);
        earlier.extend(ids(item.step));
    }
    // Every round trip here on a connection or in a transaction, or every call handed the same one.
    // (A chain that starts with an extractor's lookup on the pool, or goes on after a COMMIT, is not
    // one connection's.)
    let one_connection = items.iter().all(|i| {
        let mut shared = false;
        i.step.walk(&mut |s| {
            shared |= matches!(s, Step::Trip(t) if t.on_connection || t.in_transaction)
        });
        shared
    }) || items
        .iter()
        .all(|i| matches!(i.step, Step::Call(c) if c.on_connection))
        || on_one_object(ctx, &items);
    let transaction = reached.iter().any(|t| t.kind == TripKind::Begin);
    let services = reached.iter().any(|t| t.service);
    let prepares = reached.iter().any(|t| t.kind == TripKind::Prepare);

    // A row lock taken before later round trips: those are meant to see what earlier holders of the
    // lock committed, so merging across it would read an older snapshot. On the pool, outside a
    // transaction, the statement commits on its own and its lock ends with it (a connection or
    // transaction handed in may be inside one).
    let begun = reached.iter().position(|t| t.kind == TripKind::Begin);
    let locked = reached
        .iter()
        .enumerate()
        .position(|(at, t)| {
            t.locks_rows() && (t.in_transaction || t.on_connection || begun.is_some_and(|b| b < at))
        })
        .is_some_and(|at| at + 1 < reached.len());

    let mut parts = Vec::new();
    if locked {
        parts.push("a statement takes a row lock (`FOR UPDATE`) or a table lock (`LOCK TABLE`) before the later round trips, which must see what earlier holders of the lock committed: do not merge statements across it, fold them into one or run them at once; keep what runs while the lock is held short".to_string());
    } else if one_connection {
        parts.push("they run on one connection or transaction, so they cannot run at once: merge them into one statement (a CTE, `UNION ALL`, or `INSERT … SELECT`)".to_string());
    } else {
        let join = if services {
            "ask for everything in one call where the service allows it (a batch request, one statement), or move the later call off the request path"
        } else {
            "merge them into one statement with a JOIN, a subquery or a CTE"
        };
        // Calls that are not awaited block the thread (as does everything in a synchronous function):
        // `try_join!` alone does not overlap them.
        let f = ctx.model.func(function);
        let synchronous = !f.is_async
            && !f.returns.as_deref().is_some_and(|r| r.contains("Future"))
            && !items
                .iter()
                .any(|i| matches!(i.step, Step::Call(c) if c.awaited));
        let blocking = synchronous
            || items
                .iter()
                .all(|i| matches!(i.step, Step::Call(c) if !c.awaited));
        // A synchronous service without an async runtime (rocket 0.4, plain diesel): threads.
        let file = &ctx.model.files[ctx.model.fns[function].file];
        let threads = synchronous && file.without_runtime;
        let at_once = if threads {
            "run those at once on threads of their own (`std::thread::scope`), each with its own pool connection"
        } else if blocking {
            "run those at once on the blocking pool: `tokio::task::spawn_blocking` each, then `tokio::try_join!`"
        } else {
            "run those at once with `tokio::try_join!` on separate pool connections"
        };
        // With a write among them, what follows is about the reads before it.
        let these = if later_writes > 0 {
            "the reads"
        } else {
            "these calls"
        };
        match (independent, dependent) {
            (0, 0) => {}
            (_, 0) if threads => parts.push(format!("{these} block one after the other and do not use each other's results: merge them into one statement, or run them at once on threads of their own (`std::thread::scope`), each with its own pool connection")),
            (_, 0) if blocking => parts.push(format!("{these} block one after the other and do not use each other's results: merge them into one statement, or run them at once on the blocking pool (`tokio::task::spawn_blocking` each, then `tokio::try_join!`)")),
            (_, 0) => parts.push(format!("{these} do not use each other's results: run them at once with `tokio::try_join!` (each on its own pool connection, not on one `&mut` connection or transaction), or merge them into one statement")),
            (0, _) => parts.push(format!("each read uses an earlier result: {join}")),
            _ => parts.push(format!(
                "some reads use earlier results ({join}) and some do not ({at_once})"
            )),
        }
        // MySQL has no `RETURNING` and no data-modifying CTE.
        if reads_back > 0 && file.mysql {
            parts.push("a read after a write may need to see it: take what it needs from the write's result (the new row's id, `last_insert_id()`) or from the values the code wrote, instead of reading it back".to_string());
        } else if reads_back > 0 {
            parts.push("a read after a write may need to see it: return what it needs from the write itself (`UPDATE … RETURNING …`, `INSERT … RETURNING …`) instead of reading it back".to_string());
        }
        if later_writes > 0 && file.mysql {
            parts.push("a write that follows a read or a check waits for it: where SQL can test the check (not a password hash or other logic of the code), fold it into the write (`UPDATE … WHERE <condition>`, `DELETE … WHERE id = ?`, then read the affected row count), or several writes into one statement (`INSERT … SELECT`, a multi-row `INSERT`)".to_string());
        } else if later_writes > 0 {
            parts.push("a write that follows a read or a check waits for it: where SQL can test the check (not a password hash or other logic of the code), fold it into the write (`UPDATE … WHERE <condition> RETURNING …`, `DELETE … WHERE id = $1`), or several writes into one statement (a CTE, `INSERT … SELECT`)".to_string());
        }
    }
    if prepares {
        parts.push("preparing a statement is a round trip of its own: use `prepare_cached`, or send the SQL with its parameters directly".to_string());
    }
    if transaction && reached.iter().any(|t| t.sets_session()) {
        parts.push("the transaction holds session settings its statements rely on (`SET LOCAL`, `set_config(..)`, such as a row-level security role): keep it, and merge the statements inside it".to_string());
    } else if transaction {
        parts.push("the transaction's BEGIN and COMMIT are round trips too: a single statement needs no explicit transaction".to_string());
    }
    for ty in extractors {
        let what = match ty.strip_prefix(crate::facts::MIDDLEWARE) {
            Some(f) => format!("the middleware `{f}` queries around the handler"),
            None => format!("the extractor `{ty}` queries before the handler runs"),
        };
        parts.push(format!(
            "{what}: where the code checks nothing between its lookup and the handler's next statement, load both in one query (a JOIN); an authentication lookup may give way to claims a signed session or token carries (an id or a role, never a password hash or a secret)"
        ));
    }
    parts.join("; ")
}

//! `query-in-loop`: a round trip inside a loop (N+1), directly or through a called function.

use super::{fmt_ms, per_deployment, Ctx, Diagnostic, Level, Lint};
use crate::facts::sql::Access;
use crate::facts::{LoopStep, Step};

pub static LINT: Lint = Lint {
    name: "query-in-loop",
    default_level: Level::Warn,
    summary: "a round trip on every iteration of a loop (N+1)",
    doc: include_str!("../../lints/query-in-loop.md"),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for id in 0..ctx.model.fns.len() {
        // Request paths, and the tasks they spawn (off the path, but an N+1 there still costs).
        let detached = !ctx.model.reachable[id] && ctx.model.background[id];
        if !ctx.model.reachable[id] && !detached {
            continue;
        }
        for step in &ctx.model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Loop(l) = s {
                    // A worker's `loop { poll; sleep }` is how it waits, not an N+1; so is a request's
                    // wait for a job another process runs (the loop sleeps between reads).
                    if !(l.polls || detached && l.forever) {
                        check_loop(ctx, id, s, l, out);
                    }
                }
            });
        }
    }
}

/// Steps of a loop body that make round trips and then come back for another iteration, not counting
/// nested loops (they are reported on their own). A branch that always leaves the loop (`if found {
/// save().await?; return Ok(()) }`) runs at most once, however many times the loop turns.
fn costly_items<'a>(ctx: &Ctx, body: &'a [Step], out: &mut Vec<&'a Step>) {
    for step in body {
        match step {
            Step::Loop(_) | Step::Exit | Step::Break | Step::Guard { .. } | Step::Yields(_) => {}
            Step::Branch(alts) => alts
                .iter()
                .filter(|a| ctx.costs.split(a).0.is_some())
                .for_each(|a| costly_items(ctx, a, out)),
            Step::Trip(_) | Step::Call(_) | Step::Concurrent(_) => {
                if ctx.costs.step(step).trips > 0 {
                    out.push(step);
                }
            }
        }
    }
}

fn check_loop(ctx: &Ctx, function: usize, step: &Step, l: &LoopStep, out: &mut Vec<Diagnostic>) {
    // A loop the code runs once (over a one-element list its caller passes) is no N+1.
    if l.count.is_some_and(|n| n <= 1) {
        return;
    }
    // Only a round trip on a path that comes back for the next iteration is paid N times.
    match ctx.costs.split(&l.body).0 {
        Some(through) if through.trips > 0 => {}
        _ => return,
    }
    let mut items = Vec::new();
    costly_items(ctx, &l.body, &mut items);
    let Some(first) = items.first() else { return };
    let n = l.count.unwrap_or(ctx.config.loop_iterations);
    let per_iteration = ctx.costs.per_iteration(&l.body);
    let total = ctx.costs.step(step).ms;
    let (loc, what) = describe(ctx, first);
    let trips = per_iteration.trips;
    let cost = per_deployment(ctx, function, &total);
    let checks = match super::unseen(&per_iteration) {
        s if s.is_empty() => s,
        s => format!("{s},"),
    };
    let message = match (what.as_str(), trips) {
        ("", 1) => format!("a round trip inside a loop{checks} costs {cost} over {n} iterations"),
        ("", k) => format!("{k} round trips per iteration inside a loop{checks} cost {cost} over {n} iterations"),
        (call, 1) => format!("{call} runs inside a loop: its round trip{checks} costs {cost} over {n} iterations"),
        (call, k) => format!("{call} runs inside a loop: {k} round trips per iteration{checks} cost {cost} over {n} iterations"),
    };
    let runs = match (l.count, l.over_call) {
        // The bound of a list a function builds (`vec![a]` and a `push` under an `if`).
        (Some(_), Some(_)) => format!("runs at most {n} times, the items of the list it goes over"),
        (Some(_), None) => format!("runs {n} times"),
        (None, _) => format!("is assumed to run {n} times (`assume.loop-iterations`)"),
    };
    let mut related = vec![(
        l.loc,
        match &l.runs_in {
            Some(callee) => format!("`{callee}` calls the closure in a loop, which {runs}"),
            None => format!("this loop {runs}"),
        },
    )];
    for item in &items[1..] {
        let (loc, what) = describe(ctx, item);
        let what = if what.is_empty() {
            "a round trip".to_string()
        } else {
            what
        };
        related.push((loc, format!("{what}, also in the loop")));
    }
    let reached = super::trips_under(ctx, &l.body);
    let reads = reached.iter().any(|t| t.access == Some(Access::Read));
    let writes = reached.iter().any(|t| t.access == Some(Access::Write));
    let mut help = Vec::new();
    // MySQL has no arrays to bind: a list of keys is an `IN (…)` list.
    let mysql = ctx.model.files[ctx.model.fns[function].file].mysql;
    if reads && mysql {
        help.push("load every row at once before the loop (`WHERE id IN (…)` with the collected keys, or a JOIN) and look the rows up in memory");
    } else if reads {
        help.push("load every row at once before the loop (`WHERE id = ANY($1)` with the collected keys, or a JOIN) and look the rows up in memory");
    }
    if writes && mysql {
        help.push("write every row with one statement (a multi-row `INSERT … VALUES (…), (…)`, `INSERT … SELECT`, or `INSERT … ON DUPLICATE KEY UPDATE` for updates)");
    } else if writes {
        help.push("write every row with one statement (a multi-row `INSERT`, `INSERT … SELECT * FROM UNNEST($1, $2)`, or `UPDATE … FROM (VALUES …)`)");
    }
    if help.is_empty() {
        help.push("make one round trip for all items before the loop");
    }
    let first_ms = ctx.costs.step(first).ms.first().copied().unwrap_or(0.0);
    out.push(Diagnostic {
        lint: LINT.name,
        level: LINT.default_level,
        file: ctx.model.fns[function].file,
        loc,
        label: format!("runs on every iteration (≈ {} ms each)", fmt_ms(first_ms)),
        message,
        help: help.join("; "),
        related,
        function: Some(function),
        saves_ms: super::most_saved(ctx, function, |d| {
            total.get(d).copied().unwrap_or(0.0) - per_iteration.ms.get(d).copied().unwrap_or(0.0)
        }),
        ..Diagnostic::default()
    });
}

/// The span of a costly step in a loop, and the call it makes (empty for a direct round trip).
fn describe(ctx: &Ctx, step: &Step) -> (crate::facts::Loc, String) {
    match step {
        Step::Trip(t) => (t.loc, String::new()),
        Step::Call(c) => {
            let name = c
                .resolved
                .map(|id| ctx.model.func(id).name.clone())
                .unwrap_or_default();
            (c.loc, format!("`{name}`"))
        }
        Step::Concurrent(c) => (c.loc, format!("`{}`", c.form)),
        _ => (crate::facts::Loc::default(), String::new()),
    }
}

//! `over-budget`: a route whose estimated latency on some deployment exceeds its budget.

use std::collections::BTreeMap;

use super::{fmt_ms, Ctx, Diagnostic, Level, Lint};

pub static LINT: Lint = Lint {
    name: "over-budget",
    default_level: Level::Error,
    summary: "a route whose estimated latency exceeds its budget",
    doc: include_str!("../../lints/over-budget.md"),
    check,
};

/// How far over its budget a route is, at most, from the deployments that serve it (0 if within).
pub fn over_by(ctx: &Ctx, route: &crate::model::Route, ms: &[f64]) -> f64 {
    ctx.config
        .deployments
        .iter()
        .zip(ms)
        .filter(|(d, _)| ctx.config.app_runs_in(route.app, d))
        .map(|(d, ms)| ms - ctx.model.budget(ctx.config, route, d))
        .fold(0.0, f64::max)
}

fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    // One finding per handler, naming each of its routes that is over.
    let mut by_handler: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut keys: BTreeMap<usize, String> = BTreeMap::new();
    // By how much the handler's costliest route is over its budget: what fixing it saves at least.
    let mut excess: BTreeMap<usize, f64> = BTreeMap::new();
    for route in ctx.model.checked_routes() {
        let cost = ctx.costs.of_fn(route.handler);
        let key = route.key();
        let budget = |d: &str| ctx.model.budget(ctx.config, route, d);
        let over: Vec<(f64, String)> = ctx
            .config
            .deployments
            .iter()
            .zip(&cost.ms)
            .filter(|(d, &ms)| ctx.config.app_runs_in(route.app, d) && ms > budget(d))
            .map(|(d, ms)| (budget(d), format!("≈ {} ms from {d}", fmt_ms(*ms))))
            .collect();
        if over.is_empty() {
            continue;
        }
        let e = excess.entry(route.handler).or_insert(0.0);
        *e = e.max(over_by(ctx, route, &cost.ms));
        let name = match &key {
            Some(k) => format!("route `{k}`"),
            None => format!("handler `{}`", ctx.model.qualified_name(route.handler)),
        };
        // One budget for every deployment over it reads as before; different ones are named each.
        let same = over.iter().all(|(b, _)| *b == over[0].0);
        let costs: Vec<String> = over
            .iter()
            .map(|(b, text)| {
                if same {
                    text.clone()
                } else {
                    format!("{text} (budget {} ms)", fmt_ms(*b))
                }
            })
            .collect();
        let tail = if same {
            format!(", over its {} ms budget", fmt_ms(over[0].0))
        } else {
            ", over its budgets".to_string()
        };
        by_handler
            .entry(route.handler)
            .or_default()
            .push(format!("{name} costs {}{tail}", costs.join(", ")));
        keys.entry(route.handler).or_insert(key.unwrap_or_default());
    }
    for (handler, messages) in by_handler {
        let f = ctx.model.func(handler);
        let worst = ctx.costs.of_fn(handler);
        let trips = worst.trips;
        let typical = ctx.costs.through_fn(handler).map_or(trips, |c| c.trips);
        // Point at the branch that makes the worst case, in the handler's file or by name.
        let file = ctx.model.fns[handler].file;
        let mut related = Vec::new();
        let mut label = format!("{trips} round trips on the critical path");
        if typical < trips {
            label = format!("{typical} round trips when it runs to the end, {trips} at worst");
        }
        label.push_str(&super::unseen(&worst));
        let mut message = messages.join("; ");
        if let Some((at_fn, at)) = ctx.costs.worst_case_branch(handler) {
            if ctx.model.fns[at_fn].file == file {
                related.push((at, "the worst case takes this branch".to_string()));
            } else {
                message.push_str(&format!(
                    " (the worst case takes the branch at {}:{})",
                    ctx.model.file_of(at_fn).path,
                    at.line
                ));
            }
        }
        let key = keys.get(&handler).cloned().unwrap_or_default();
        let raise = if key.is_empty() {
            "default".to_string()
        } else {
            format!("\"{key}\"")
        };
        out.push(Diagnostic {
            lint: LINT.name,
            level: LINT.default_level,
            file,
            loc: f.loc,
            label,
            message,
            help: format!(
                "cut the sequential round trips on this path (see the other findings), move reads to a replica near the app, or raise the budget in hopcheck.toml: [budget] {raise} = \"…ms\""
            ),
            related,
            function: Some(handler),
            saves_ms: excess.get(&handler).copied().unwrap_or(0.0),
            ..Diagnostic::default()
        });
    }
}

//! `unrouted-over-budget`: a handler whose route was not found, priced over the budget it would have.
//! Its budget is not checked (its route key is not known), so without this finding the gate would pass
//! because of what hopcheck did not see.

use super::{fmt_ms, Ctx, Diagnostic, Level, Lint};

pub static LINT: Lint = Lint {
    name: "unrouted-over-budget",
    default_level: Level::Error,
    summary:
        "a handler whose route was not found, priced over its budget: its budget goes unchecked",
    doc: include_str!("../../lints/unrouted-over-budget.md"),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for route in ctx.model.routes.iter().filter(|r| !ctx.model.is_checked(r)) {
        let cost = ctx.costs.of_fn(route.handler);
        let over: Vec<(f64, String)> = ctx
            .config
            .deployments
            .iter()
            .zip(&cost.ms)
            .map(|(d, &ms)| (d, ms, ctx.model.budget(ctx.config, route, d)))
            .filter(|(d, ms, budget)| ctx.config.app_runs_in(route.app, d) && ms > budget)
            .map(|(d, ms, budget)| (budget, format!("≈ {} ms from {d}", fmt_ms(ms))))
            .collect();
        let Some(&(budget, _)) = over.first() else {
            continue;
        };
        let excess = super::over_budget::over_by(ctx, route, &cost.ms);
        let f = ctx.model.func(route.handler);
        let costs: Vec<String> = over.into_iter().map(|(_, text)| text).collect();
        let name = ctx.model.qualified_name(route.handler);
        out.push(Diagnostic {
            lint: LINT.name,
            level: LINT.default_level,
            file: ctx.model.fns[route.handler].file,
            loc: f.loc,
            label: format!("{} round trips, no route found", cost.trips),
            message: format!(
                "handler `{name}` has no route hopcheck could find and costs {}, over the {} ms budget it would have: its budget is not checked",
                costs.join(", "),
                fmt_ms(budget),
            ),
            help: format!(
                "teach hopcheck its route in hopcheck.toml ([[routes]] handler = \"{name}\", method = \"GET\", path = \"/…\"), or check handlers by name with --check-unrouted; if it serves no request, say so above it: `// hopcheck: allow(unrouted-over-budget) <reason>`"
            ),
            related: Vec::new(),
            function: Some(route.handler),
            saves_ms: excess,
            ..Diagnostic::default()
        });
    }
}

//! The lints: one file each, registered in [`LINTS`]. A rule reads the model and the costs and pushes
//! diagnostics; it never looks at syntax and never does I/O.

use serde::Serialize;

use crate::config::Config;
use crate::cost::Costs;
use crate::facts::Loc;
use crate::model::Model;

pub mod chatty_transaction;
pub mod over_budget;
pub mod parse_error;
pub mod query_in_loop;
pub mod read_on_primary;
pub mod residency_violation;
pub mod sequential_queries;
pub mod stale_read_after_write;
pub mod unrouted_over_budget;
pub mod unused_allow;
pub mod unused_config;

pub use crate::domain::Level;

/// What a rule needs: the model, the configuration and the costs.
pub struct Ctx<'a> {
    pub model: &'a Model,
    pub config: &'a Config,
    pub costs: &'a Costs<'a>,
    /// What the code names, for `unused-config` (none where the run sees only part of the project).
    pub config_uses: Option<&'a unused_config::Uses>,
}

/// A finding, located in one file.
#[derive(Debug, Clone, Default)]
pub struct Diagnostic {
    pub lint: &'static str,
    pub level: Level,
    /// Index into the model's files.
    pub file: usize,
    pub loc: Loc,
    /// The label on the primary span.
    pub label: String,
    pub message: String,
    pub help: String,
    /// Secondary spans in the same file.
    pub related: Vec<(Loc, String)>,
    /// The function it is about, so that routes through it can list it.
    pub function: Option<usize>,
    /// Its identity across runs and edits (set after the rules run): see [`fingerprint`].
    pub fingerprint: String,
    /// Why it does not count, when it does not: an allow comment, an ignored path, the baseline.
    pub suppressed: Option<Suppressed>,
    /// What fixing it saves a request, in ms, from the deployment where that is the most (the over-budget
    /// amount for a budget finding); 0 where it is not about latency. Findings are listed costliest first.
    pub saves_ms: f64,
}

/// Why a finding is suppressed. Suppressed findings are kept and shown as such by the machine formats.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    /// `inline` (an allow comment), `config` (`[ignore]` in hopcheck.toml) or `baseline`.
    pub kind: &'static str,
    pub reason: String,
}

pub struct Lint {
    pub name: &'static str,
    pub default_level: Level,
    pub summary: &'static str,
    pub doc: &'static str,
    pub check: fn(&Ctx, &mut Vec<Diagnostic>),
}

pub const LINTS: &[&Lint] = &[
    &sequential_queries::LINT,
    &query_in_loop::LINT,
    &chatty_transaction::LINT,
    &read_on_primary::LINT,
    &stale_read_after_write::LINT,
    &residency_violation::LINT,
    &over_budget::LINT,
    &unrouted_over_budget::LINT,
    &parse_error::LINT,
    &unused_allow::LINT,
    &unused_config::LINT,
];

pub fn find(name: &str) -> Option<&'static Lint> {
    LINTS.iter().copied().find(|l| l.name == name)
}

/// Runs every lint that is not allowed, with the level the configuration gives it.
pub fn check(ctx: &Ctx) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for lint in LINTS {
        let level = ctx.config.level_of(lint.name, lint.default_level);
        if level == Level::Allow {
            continue;
        }
        let start = out.len();
        (lint.check)(ctx, &mut out);
        for d in &mut out[start..] {
            d.level = level;
        }
    }
    // The same finding reached twice (a loop nested in a branch of a reported run) is one finding.
    out.sort_by(|a, b| {
        (a.file, a.loc, a.lint, &a.message).cmp(&(b.file, b.loc, b.lint, &b.message))
    });
    out.dedup_by(|a, b| {
        a.file == b.file && a.loc == b.loc && a.lint == b.lint && a.message == b.message
    });
    sort(ctx.model, &mut out);
    out
}

/// Findings by what fixing them saves, the most first; alike, in reading order (a stable sort of
/// [`sort`]'s order).
pub fn by_savings(out: &mut [Diagnostic]) {
    out.sort_by(|a, b| b.saves_ms.total_cmp(&a.saves_ms));
}

/// The most of `saves` (per deployment) over the deployments that run `function`.
pub fn most_saved(ctx: &Ctx, function: usize, saves: impl Fn(usize) -> f64) -> f64 {
    deployments_of(ctx, function)
        .map(|(i, _)| saves(i))
        .fold(0.0, f64::max)
}

/// Findings in reading order: by file, line, column, lint.
pub fn sort(model: &Model, out: &mut [Diagnostic]) {
    let key = |d: &Diagnostic| {
        (
            model.files[d.file].path.as_str(),
            d.loc.line,
            d.loc.col,
            d.lint,
        )
    };
    out.sort_by(|a, b| key(a).cmp(&key(b)));
}

/// Gives each finding its fingerprint: a hash of the lint, the file, the enclosing function and the
/// primary line's text without whitespace (so it survives line shifts and reformatting elsewhere), then
/// `:n` for the n-th finding with the same hash.
pub fn fingerprint(model: &Model, diagnostics: &mut [Diagnostic]) {
    let mut seen: std::collections::HashMap<u64, usize> = std::collections::HashMap::new();
    for d in diagnostics {
        let file = &model.files[d.file];
        let line: String = file
            .source
            .lines()
            .nth(d.loc.line.saturating_sub(1) as usize)
            .unwrap_or("")
            .chars()
            .filter(|c| !c.is_whitespace())
            .take(100)
            .collect();
        let function = d
            .function
            .map(|f| model.qualified_name(f))
            .unwrap_or_default();
        let hash = fnv1a([d.lint, file.path.as_str(), function.as_str(), line.as_str()]);
        let n = seen.entry(hash).or_insert(0);
        *n += 1;
        d.fingerprint = format!("{hash:016x}:{n}");
    }
}

/// FNV-1a over the parts, each followed by a zero byte: stable across runs, builds and platforms.
fn fnv1a<'a>(parts: impl IntoIterator<Item = &'a str>) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in part.bytes().chain(std::iter::once(0)) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    h
}

/// `≈ 279 ms from us-east-1, ≈ 12 ms from eu-west-1`, for the deployments `function` runs in.
pub fn per_deployment(ctx: &Ctx, function: usize, ms: &[f64]) -> String {
    deployments_of(ctx, function)
        .filter_map(|(i, d)| Some(format!("≈ {} ms from {d}", fmt_ms(*ms.get(i)?))))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The deployments (index, region) that run `function`: those serving a route that reaches it
/// (`[apps]`), every deployment otherwise.
pub fn deployments_of<'a>(
    ctx: &'a Ctx,
    function: usize,
) -> impl Iterator<Item = (usize, &'a String)> + 'a {
    ctx.config
        .deployments
        .iter()
        .enumerate()
        .filter(move |(i, _)| ctx.model.runs_in(function, *i))
}

/// Says which of `trips` round trips come after a pool's connection check (priced in, unseen in the
/// code): `, each after the pool's connection check`, or nothing.
pub fn checks(pings: crate::cost::Trips, trips: crate::cost::Trips) -> String {
    match pings {
        0 => String::new(),
        p if p >= trips => ", each after the pool's connection check".into(),
        1 => ", one after the pool's connection check".into(),
        p => format!(", {p} after the pool's connection check"),
    }
}

/// Says which of `trips` statements the library prepares first, in a round trip of their own (SQL
/// given as text to tokio-postgres): `, each prepared first`, or nothing.
pub fn prepared(prepares: crate::cost::Trips, trips: crate::cost::Trips) -> String {
    match prepares {
        0 => String::new(),
        p if p >= trips => ", each prepared first in a round trip of its own".into(),
        1 => ", one prepared first in a round trip of its own".into(),
        p => format!(", {p} prepared first in a round trip of their own"),
    }
}

/// What a run's price holds besides its statements: pool checks and preparing round trips.
pub fn unseen(cost: &crate::cost::PathCost) -> String {
    format!(
        "{}{}",
        checks(cost.pings, cost.trips),
        prepared(cost.prepares, cost.trips)
    )
}

/// Milliseconds for messages: whole numbers above 10, one decimal below.
pub fn fmt_ms(ms: f64) -> String {
    if ms >= 10.0 {
        format!("{}", ms.round())
    } else {
        let s = format!("{ms:.1}");
        s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
    }
}

/// "1st", "2nd", "3rd", "4th" for labels.
pub fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// Every round trip under a sequence, through resolved calls (each function once).
pub fn trips_under<'a>(
    ctx: &Ctx<'a>,
    seq: &'a [crate::facts::Step],
) -> Vec<&'a crate::facts::Trip> {
    let model: &'a Model = ctx.model;
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut stack: Vec<&'a [crate::facts::Step]> = vec![seq];
    while let Some(steps) = stack.pop() {
        for step in steps {
            step.walk(&mut |s| match s {
                crate::facts::Step::Trip(t) => out.push(t),
                crate::facts::Step::Call(c) => {
                    if let Some(id) = c.resolved {
                        if seen.insert(id) {
                            stack.push(&model.func(id).body);
                        }
                    }
                }
                _ => {}
            });
        }
    }
    out
}

/// The round trips under `seq` that a polling loop repeats, directly or through the calls in it: a poll
/// for what another process writes (a job's result a worker fills in), never a read-back of the
/// request's own write.
pub fn polled<'a>(
    ctx: &Ctx<'a>,
    seq: &'a [crate::facts::Step],
) -> std::collections::HashSet<*const crate::facts::Trip> {
    use crate::facts::Step;
    fn visit<'a>(
        model: &'a Model,
        steps: &'a [Step],
        in_poll: bool,
        seen: &mut std::collections::HashSet<(usize, bool)>,
        out: &mut std::collections::HashSet<*const crate::facts::Trip>,
    ) {
        for step in steps {
            match step {
                Step::Trip(t) if in_poll => {
                    out.insert(t as *const _);
                }
                Step::Call(c) => {
                    if let Some(id) = c.resolved.filter(|&id| seen.insert((id, in_poll))) {
                        visit(model, &model.func(id).body, in_poll, seen, out);
                    }
                }
                Step::Loop(l) => visit(model, &l.body, in_poll || l.polls, seen, out),
                other => {
                    for child in other.children() {
                        visit(model, child, in_poll, seen, out);
                    }
                }
            }
        }
    }
    let mut out = std::collections::HashSet::new();
    visit(
        ctx.model,
        seq,
        false,
        &mut std::collections::HashSet::new(),
        &mut out,
    );
    out
}

/// Whether the steps of a run are all round trips of one transaction that `chatty-transaction` reports
/// (its BEGIN, statements and COMMIT): that finding covers them.
pub fn in_reported_transaction(ctx: &Ctx, function: usize, steps: &[&crate::facts::Step]) -> bool {
    let reported = ctx.config.level_of("chatty-transaction", Level::Warn) != Level::Allow;
    reported
        && chatty_transaction::transactions(ctx, function)
            .iter()
            .any(|tx| steps.iter().all(|s| tx.holds(s)))
}

/// A sum of round trips that stops at `u32::MAX` (recursion in loops multiplies fast).
pub(crate) fn saturating_sum(
    counts: impl Iterator<Item = crate::cost::Trips>,
) -> crate::cost::Trips {
    counts.fold(0, crate::cost::Trips::saturating_add)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_registry_holds_exactly_the_lints_the_configuration_knows() {
        let names: Vec<&str> = LINTS.iter().map(|l| l.name).collect();
        assert_eq!(names, crate::domain::LINT_NAMES);
    }

    use super::*;

    #[test]
    fn lint_names_are_unique_kebab_case() {
        let mut names: Vec<&str> = LINTS.iter().map(|l| l.name).collect();
        for n in &names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{n}");
        }
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), LINTS.len());
    }

    #[test]
    fn every_lint_doc_has_the_fixed_headings() {
        for lint in LINTS {
            for heading in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Use instead",
                "## Configuration",
                "## Known problems",
            ] {
                assert!(
                    lint.doc.contains(heading),
                    "lints/{}.md lacks `{heading}`",
                    lint.name
                );
            }
            assert!(
                lint.doc.starts_with(&format!("# {}\n", lint.name)),
                "lints/{}.md must start with its name",
                lint.name
            );
        }
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(fmt_ms(279.4), "279");
        assert_eq!(fmt_ms(2.0), "2");
        assert_eq!(fmt_ms(1.25), "1.2");
        assert_eq!(ordinal(2), "2nd");
        assert_eq!(ordinal(11), "11th");
        assert_eq!(ordinal(23), "23rd");
    }
}

//! `read-on-primary`: a read that travels to a far primary while its database has a replica nearer the
//! deployment.

use std::collections::{HashMap, HashSet};

use super::{fmt_ms, Ctx, Diagnostic, Level, Lint};
use crate::config::{Role, Target};
use crate::facts::{Loc, Step, Trip};

pub static LINT: Lint = Lint {
    name: "read-on-primary",
    default_level: Level::Warn,
    summary: "a read sent to a far primary while a replica nearer the app could answer it",
    doc: include_str!("../../lints/read-on-primary.md"),
    check,
};

/// A replica must save at least this much per round trip to be worth a finding.
const MIN_SAVING_MS: f64 = 5.0;

fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let config = ctx.config;
    let has_replicas = |db: usize| {
        config
            .databases
            .get(db)
            .is_some_and(|d| !d.service && !d.replicas.is_empty())
    };
    if !(0..config.databases.len()).any(has_replicas) {
        return;
    }
    // Reads that follow a write to their database on some path stay on the primary: moving them would
    // read stale data (`stale-read-after-write` is about those). So do reads a write follows (read,
    // then update): on a lagging replica they would lose updates.
    let any_read = |_: &Trip| true;
    let paths = super::stale_read_after_write::path_reads(ctx.model, config, &any_read);
    let mut stay: HashSet<Loc> = paths.stale.into_iter().map(|s| s.read).collect();
    stay.extend(paths.before_write);
    let routes = routes_through(ctx);
    for id in 0..ctx.model.fns.len() {
        if !ctx.model.reachable[id] {
            continue;
        }
        let mut trips: Vec<(&Trip, u32)> = Vec::new();
        collect(
            &ctx.model.func(id).body,
            1,
            ctx.config.loop_iterations,
            &mut trips,
        );
        for (t, times) in trips {
            let Some(target) = t.target else { continue };
            if target.role != Role::Primary
                || !has_replicas(target.db)
                || !crate::cost::movable(t)
                || stay.contains(&t.loc)
            {
                continue;
            }
            let replica = Target {
                db: target.db,
                role: Role::Replica,
            };
            // Per deployment: the primary's RTT, the nearest replica's and its region.
            let mut savings = Vec::new();
            for (_, d) in super::deployments_of(ctx, id) {
                let far = config.rtt_ms(d, config.endpoint_region(target, d));
                let near_region = config.endpoint_region(replica, d);
                let near = config.rtt_ms(d, near_region);
                // A replica that may not hold the tables (data residency) is no answer.
                let resident =
                    super::residency_violation::outside(config, t, near_region).is_empty();
                if far - near >= MIN_SAVING_MS && resident {
                    savings.push((d, far, near_region, near));
                }
            }
            let Some(&(d, far, near_region, near)) = savings.first() else {
                continue;
            };
            let db = &config.databases[target.db];
            let saved = (far - near) * f64::from(times);
            let route = routes
                .get(&id)
                .and_then(|r| r.first())
                .map(|k| format!(" on `{k}`"))
                .unwrap_or_default();
            let others = routes.get(&id).map_or(0, |r| r.len().saturating_sub(1));
            let more = match others {
                0 => String::new(),
                1 => " and 1 other route".into(),
                n => format!(" and {n} other routes"),
            };
            let per = if times > 1 {
                format!(" ({times} round trips in a loop)")
            } else {
                String::new()
            };
            out.push(Diagnostic {
                lint: LINT.name,
                level: LINT.default_level,
                file: ctx.model.fns[id].file,
                loc: t.call_loc,
                label: format!("read from the primary in {}", db.primary),
                message: format!(
                    "this read goes to the primary of `{}` in {} (≈ {} ms from {d}) while its replica in {near_region} answers in ≈ {} ms: ≈ {} ms saved per request{route}{more}{per}",
                    db.name,
                    db.primary,
                    fmt_ms(far),
                    fmt_ms(near),
                    fmt_ms(saved),
                ),
                help: help(ctx, target.db, t),
                related: Vec::new(),
                function: Some(id),
                saves_ms: saved,
                ..Diagnostic::default()
            });
        }
    }
}

/// Names the pool to read from: one `[pools]` maps to a replica, or one the code names like a replica.
fn help(ctx: &Ctx, db: usize, t: &Trip) -> String {
    let name = &ctx.config.databases[db].name;
    let mapped = ctx
        .config
        .pools
        .iter()
        .find(|(_, target)| target.db == db && target.role == Role::Replica)
        .map(|(key, _)| key.clone());
    let executor = t.executor.as_deref().unwrap_or("the pool");
    match mapped {
        Some(pool) => format!(
            "send it through `{pool}`, which hopcheck.toml maps to `{name}.replica`, instead of `{executor}`"
        ),
        None => format!(
            "open a pool on the replica's URL, send this read through it instead of `{executor}`, and map it in hopcheck.toml: [pools] \"state.read_pool\" = \"{name}.replica\""
        ),
    }
}

/// Every round trip of a function's own body, with how many times it runs per call (loops multiplied).
fn collect<'a>(steps: &'a [Step], times: u32, per_loop: u32, out: &mut Vec<(&'a Trip, u32)>) {
    for step in steps {
        match step {
            Step::Trip(t) => out.push((t, times)),
            Step::Loop(l) => collect(
                &l.body,
                times.saturating_mul(l.count.unwrap_or(per_loop)),
                per_loop,
                out,
            ),
            other => {
                for child in other.children() {
                    collect(child, times, per_loop, out);
                }
            }
        }
    }
}

/// For each function, the keys of the checked routes that reach it.
fn routes_through(ctx: &Ctx) -> HashMap<usize, Vec<String>> {
    let mut out: HashMap<usize, Vec<String>> = HashMap::new();
    for route in ctx.model.checked_routes() {
        let key = route
            .key()
            .unwrap_or_else(|| ctx.model.qualified_name(route.handler));
        for f in ctx.model.reach(route.handler) {
            let keys = out.entry(f).or_default();
            if !keys.contains(&key) {
                keys.push(key.clone());
            }
        }
    }
    out
}

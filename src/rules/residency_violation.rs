//! `residency-violation`: a round trip answered in a region where the data it touches may not be
//! stored (`residency` in `[databases.<name>]`), such as a read through a replica outside the
//! residency set.

use super::{Ctx, Diagnostic, Level, Lint};
use crate::config::Config;
use crate::facts::{Step, Trip};

pub static LINT: Lint = Lint {
    name: "residency-violation",
    default_level: Level::Error,
    summary: "a round trip answered in a region where its tables may not be stored",
    doc: include_str!("../../lints/residency-violation.md"),
    check,
};

/// The tables a round trip names that may not be stored in `region`, with the regions they may be.
pub fn outside<'c>(config: &'c Config, t: &Trip, region: &str) -> Vec<(String, &'c [String])> {
    let Some(db) = t
        .target
        .and_then(|target| config.databases.get(target.db))
        .filter(|d| !d.service)
    else {
        return Vec::new();
    };
    if db.residency.is_empty() && db.table_residency.is_empty() {
        return Vec::new();
    }
    let Some(sql) = t.sql.as_deref() else {
        return Vec::new();
    };
    crate::facts::sql::classify(sql)
        .tables
        .into_iter()
        .filter_map(|table| {
            let allowed = db.allowed_regions(&table)?;
            (!allowed.iter().any(|r| r == region)).then_some((table, allowed))
        })
        .collect()
}

fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let config = ctx.config;
    if config
        .databases
        .iter()
        .all(|d| d.residency.is_empty() && d.table_residency.is_empty())
    {
        return;
    }
    for id in 0..ctx.model.fns.len() {
        if !ctx.model.reachable[id] {
            continue;
        }
        for step in &ctx.model.func(id).body {
            step.walk(&mut |s| {
                let Step::Trip(t) = s else { return };
                let Some(target) = t.target else { return };
                if t.in_process {
                    return;
                }
                for (_, d) in super::deployments_of(ctx, id) {
                    let region = config.endpoint_region(target, d);
                    let tables = outside(config, t, region);
                    let Some((table, allowed)) = tables.first() else {
                        continue;
                    };
                    let names: Vec<String> = tables.iter().map(|(t, _)| format!("`{t}`")).collect();
                    let via = if region == config.databases[target.db].primary {
                        format!("the primary in {region}")
                    } else {
                        format!("the replica in {region} (for the deployment in {d})")
                    };
                    out.push(Diagnostic {
                        lint: LINT.name,
                        level: LINT.default_level,
                        file: ctx.model.fns[id].file,
                        loc: t.call_loc,
                        label: format!("answered in {region}"),
                        message: format!(
                            "{} may be stored only in {}, but this round trip is answered by {via}",
                            names.join(", "),
                            allowed.join(", ")
                        ),
                        help: format!(
                            "send it through a pool on a copy inside {} (the primary, or a replica there), or drop the replica in {region} for `{table}`",
                            allowed.join(", ")
                        ),
                        related: Vec::new(),
                        function: Some(id),
                        ..Diagnostic::default()
                    });
                    break;
                }
            });
        }
    }
}

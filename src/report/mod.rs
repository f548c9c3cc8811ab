//! Reports: one file per output format behind [`Format`]. Formats read the analysis and write text;
//! they never change it. Only the human format uses miette's renderer.

use crate::Analysis;

pub mod cargo;
pub mod github;
pub mod gitlab;
pub mod html;
pub mod human;
pub mod json;
pub mod markdown;
pub mod plan;
pub mod sarif;
pub mod short;

/// An output format.
pub trait Format {
    fn render(&self, analysis: &Analysis) -> String;
}

/// Every format `--format` takes.
pub const FORMATS: &[&str] = &[
    "human", "json", "sarif", "github", "gitlab", "cargo", "short", "markdown",
];

/// How much of a big run the reading formats show.
#[derive(Debug, Clone, Copy, Default)]
pub struct Shown {
    /// `--top N`: the human format's compact view, its N costliest routes and then its N costliest
    /// findings (`Some(0)`: everything).
    pub top: Option<usize>,
    /// `--max-findings N`: at most N findings, the costliest (human and markdown).
    pub max_findings: Option<usize>,
}

/// The format chosen on the command line.
pub fn format(name: &str, color: bool, shown: Shown) -> Option<Box<dyn Format>> {
    match name {
        "human" => Some(Box::new(human::Human { color, shown })),
        "json" => Some(Box::new(json::Json)),
        "sarif" => Some(Box::new(sarif::Sarif)),
        "github" => Some(Box::new(github::Github)),
        "gitlab" => Some(Box::new(gitlab::Gitlab)),
        "cargo" => Some(Box::new(cargo::Cargo)),
        "short" => Some(Box::new(short::Short)),
        "markdown" => Some(Box::new(markdown::Markdown {
            max_findings: shown.max_findings,
        })),
        _ => None,
    }
}

/// Where the topology came from, for the first line of a report.
/// `5 routes, 1 over budget` (and the handlers listed without a route, when there are any): the counts
/// every format's summary gives, from [`crate::Analysis::coverage`].
pub fn route_totals(a: &crate::Analysis) -> String {
    let c = a.coverage();
    let checked = a.routes.iter().filter(|r| r.checked).count();
    let services: std::collections::BTreeSet<&str> = a
        .routes
        .iter()
        .filter_map(|r| r.service.as_deref())
        .collect();
    let served = if services.len() > 1 {
        format!(" of {}", markdown::plural(services.len(), "service"))
    } else {
        String::new()
    };
    // Handlers none of which has a route are checked by name: they are no routes.
    let what = if c.routed == 0 && checked > 0 {
        markdown::plural(checked, "handler") + " without a route (checked by name)"
    } else {
        markdown::plural(checked, "route")
    };
    let mut out = format!("{what}{served}, {} over budget", c.over_budget);
    let unchecked = a.routes.len() - checked;
    if unchecked > 0 {
        out.push_str(&format!(
            " (+{} without a route, not checked{})",
            markdown::plural(unchecked, "handler"),
            unchecked_over(&c)
        ));
    }
    out
}

/// `, 1 of them over budget` for handlers without a route priced over the budget they would have.
pub fn unchecked_over(c: &crate::Coverage) -> String {
    match c.unchecked_over_budget {
        0 => String::new(),
        n => format!(", {n} of them over budget"),
    }
}

pub fn topology_line(analysis: &Analysis) -> String {
    let c = &analysis.config;
    let source = match &c.file {
        Some(_) => "hopcheck.toml".to_string(),
        None => {
            "the default topology (no hopcheck.toml found: `hopcheck init` writes one)".to_string()
        }
    };
    let dbs: Vec<String> = c
        .databases
        .iter()
        .map(|db| {
            let mut s = format!("{} in {}", db.name, db.primary);
            if !db.replicas.is_empty() {
                s.push_str(&format!(" (replicas in {})", db.replicas.join(", ")));
            }
            s
        })
        .collect();
    let rtts: Vec<String> = c
        .deployments
        .iter()
        .flat_map(|d| {
            c.databases.iter().filter_map(move |db| {
                let rtt = c.topology.rtt(d, &db.primary)?;
                let how = match rtt.source {
                    crate::topology::RttSource::SameRegion => "same region",
                    crate::topology::RttSource::Configured => "configured",
                    crate::topology::RttSource::Measured => "measured p50",
                    crate::topology::RttSource::Estimated => "estimated from distance",
                };
                Some(format!(
                    "{d} → {} {} ms ({how})",
                    db.primary,
                    crate::rules::fmt_ms(rtt.ms)
                ))
            })
        })
        .collect();
    let mut pings = String::new();
    if analysis.routes.iter().any(|r| r.checkout_pings > 0) {
        pings.push_str(
            "; each connection taken from a pool costs one more round trip, the pool's check (sqlx's and \
             sea-orm's `test_before_acquire`, r2d2's `test_on_check_out`)",
        );
    }
    if analysis.routes.iter().any(|r| r.prepare_round_trips > 0) {
        pings.push_str(
            "; tokio-postgres prepares a statement given as text in a round trip of its own before it runs",
        );
    }
    let app_in = c.where_apps_run(analysis.model.routes.iter().any(|r| r.app.is_none()));
    format!(
        "priced on {source}: {app_in}; database {}; round trips {}{pings}",
        dbs.join(", "),
        rtts.join(", ")
    )
}

/// Aligned columns; those in `right` are right-aligned.
/// Whether the routes belong to several services (a workspace's binaries): the tables then name each
/// route's service, and list them service by service.
pub fn several_services(a: &Analysis) -> bool {
    a.routes.iter().any(|r| r.service.is_some())
}

/// A route's service for a table cell: its name, or `-` where no service's router mounts it.
/// `≈ 120 ms`, or `—` from a deployment that does not serve the route (`[apps]`).
pub fn cost_cell(c: &crate::DeploymentCost) -> String {
    if c.deployed {
        format!("≈ {} ms", crate::rules::fmt_ms(c.estimated_ms))
    } else {
        "—".into()
    }
}

/// The heading of the column that prices the other case of cached lookups (`on a cache miss`), when
/// some route has one.
pub fn cache_heading(a: &crate::Analysis) -> Option<String> {
    let case = a.routes.iter().find_map(|r| r.cache.as_ref())?.case;
    Some(format!("on a cache {case}"))
}

/// A route's cell in that column: `3 trips, ≈ 280 ms`, or empty where its cached lookups do not
/// change its price.
pub fn cache_cell(r: &crate::RouteReport) -> String {
    r.cache.as_ref().map(|c| c.cell(r)).unwrap_or_default()
}

pub fn service_cell(r: &crate::RouteReport) -> String {
    r.service.clone().unwrap_or_else(|| "-".into())
}

pub fn table(rows: &[Vec<String>], right: &[usize]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let pad = " ".repeat(widths[i].saturating_sub(c.chars().count()));
                if right.contains(&i) {
                    format!("{pad}{c}")
                } else {
                    format!("{c}{pad}")
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

//! `hopcheck plan`: every route priced under the three remedies for a far database, beside today's
//! topology: a CDN (static files at the edge), read replicas in every deployment region (reads that may
//! move, moved), and full regional isolation (a primary per deployment). It reads the analysis and the
//! cost model; the reports in `report::plan` print it.

use std::collections::{BTreeSet, HashSet};

use serde::Serialize;

use crate::config::Config;
use crate::cost::{movable, Costs, Routing};
use crate::facts::{Loc, Step, Trip, TripKind};
use crate::model::Model;
use crate::rules::fmt_ms;
use crate::Analysis;

/// A call site listed in a scenario's changes.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Site {
    pub file: String,
    pub line: u32,
    /// The executor as the code spells it (`state.db`), if known.
    pub executor: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanRoute {
    pub method: Option<String>,
    pub path: Option<String>,
    pub handler: String,
    pub deployment: String,
    /// Serialised to 0.1 ms.
    #[serde(serialize_with = "tenths")]
    pub estimated_ms: f64,
    pub budget_ms: f64,
    pub over_budget: bool,
    /// Static files: served from the app today, from the edge with a CDN.
    pub static_files: bool,
}

fn tenths<S: serde::Serializer>(ms: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((ms * 10.0).round() / 10.0)
}

#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// `current`, `cdn`, `read-replicas` or `isolation`.
    pub name: &'static str,
    /// The topology in one line.
    pub summary: String,
    /// Routes over budget from at least one deployment.
    pub over_budget: usize,
    /// Over the rows of dynamic routes (a route from a deployment).
    #[serde(serialize_with = "tenths")]
    pub median_ms: f64,
    #[serde(serialize_with = "tenths")]
    pub worst_ms: f64,
    #[serde(serialize_with = "tenths")]
    pub total_ms: f64,
    /// What the code and the infrastructure need for it, in sentences.
    pub changes: Vec<String>,
    /// Read replicas: the reads that move to a replica pool.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub moved_reads: Vec<Site>,
    /// Read replicas: the reads that stay on the primary because they follow a write on their path.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kept_reads: Vec<Site>,
    /// Round trips answered in a region where their tables may not be stored (`residency`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub residency_violations: Vec<Violation>,
    /// Isolation: the tables routes write, which every region's primary would have to replicate.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables_written: Vec<String>,
    pub routes: Vec<PlanRoute>,
}

/// A table that a scenario would store outside its residency, and the call that would read it there.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
pub struct Violation {
    pub table: String,
    pub region: String,
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub version: u32,
    pub deployments: Vec<String>,
    pub scenarios: Vec<Scenario>,
    pub recommendation: String,
}

/// Prices every checked route under each scenario.
/// The reads the read-replica scenario keeps on the primary: those after a write to their database on
/// the path (stale on a replica), and those a write follows (read-modify-write: a lagging replica loses
/// updates).
pub fn stay_on_primary(model: &Model, config: &Config) -> HashSet<Loc> {
    let paths = crate::rules::stale_read_after_write::path_reads(model, config, &|_: &Trip| true);
    let mut stay: HashSet<Loc> = paths.stale.into_iter().map(|s| s.read).collect();
    stay.extend(paths.before_write);
    stay
}

pub fn plan(a: &Analysis) -> Plan {
    let model = &a.model;
    let config = &a.config;
    let stale = stay_on_primary(model, config);
    let trips = route_trips(model);

    let current = Costs::compute(model, config);
    let replicas = Costs::routed(
        model,
        config,
        Routing::ReadReplicas {
            stay: stale.clone(),
        },
    );
    let isolation = Costs::routed(model, config, Routing::Isolation);

    let statics: Vec<String> = model
        .static_routes
        .iter()
        .map(|s| s.path.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let mut scenarios = Vec::new();

    let mut today = scenario(
        "current",
        today_summary(config),
        &current,
        false,
        &statics,
        &trips,
    );
    today
        .changes
        .push("none: the topology in hopcheck.toml as it is".into());
    scenarios.push(today);

    let mut cdn = scenario(
        "cdn",
        format!("{}; a CDN in front of the app", today_summary(config)),
        &current,
        true,
        &statics,
        &trips,
    );
    cdn.changes.push(if statics.is_empty() {
        "no static-file routes were found; a CDN changes no dynamic route's database round trips"
            .into()
    } else {
        format!(
            "serve {} from the CDN ({}); dynamic routes keep every round trip",
            plural(statics.len(), "static-file route"),
            statics.join(", ")
        )
    });
    scenarios.push(cdn);

    let (moved, kept) = moving_reads(model, config, &trips, &stale);
    let dbs: Vec<&str> = config
        .databases
        .iter()
        .filter(|d| !d.service)
        .map(|d| d.name.as_str())
        .collect();
    let mut rr = scenario(
        "read-replicas",
        format!(
            "{}; a replica of {} in {}",
            today_summary(config),
            quoted(&dbs),
            config.deployments.join(", ")
        ),
        &replicas,
        false,
        &statics,
        &trips,
    );
    let missing: Vec<String> = config
        .databases
        .iter()
        .filter(|d| !d.service)
        .flat_map(|d| {
            config
                .deployments
                .iter()
                .filter(|dep| **dep != d.primary && !d.replicas.contains(dep))
                .map(move |dep| format!("`{}` in {dep}", d.name))
        })
        .collect();
    if !missing.is_empty() {
        rr.changes
            .push(format!("add a read replica of {}", missing.join(", ")));
    }
    rr.changes.push(if moved.is_empty() {
        "no read on a request path would move".into()
    } else {
        format!(
            "send {} through a replica pool (mapped in [pools] as \"<database>.replica\"): {}",
            plural(moved.len(), "read"),
            sites(&moved)
        )
    });
    if !kept.is_empty() {
        rr.changes.push(format!(
            "keep {} on the primary: each comes after a write to its database on the same request path (a replica may not have it yet) or before one (read-modify-write, where a lagging replica loses updates): {}",
            plural(kept.len(), "read"),
            sites(&kept)
        ));
    }
    rr.moved_reads = moved;
    rr.kept_reads = kept;
    // The playbook's order: before a primary per region, the code fixes that would make replicas
    // enough.
    let first = fixes_first(a, &replicas);
    if let Some(text) = first.as_ref().map(|f| f.sentence()) {
        rr.changes.push(text);
    }
    scenarios.push(rr);

    let (tables, unnamed) = written_tables(model, &trips);
    let mut iso = scenario(
        "isolation",
        iso_summary(&dbs, &config.deployments),
        &isolation,
        false,
        &statics,
        &trips,
    );
    if let [only] = config.deployments.as_slice() {
        // One deployment: isolation is moving the database next to the app; no other region serves
        // traffic, so nothing needs replicating between regions.
        iso.changes.push(format!(
            "move the primary of {} to {only}, next to the app (its only deployment)",
            quoted(&dbs)
        ));
    } else {
        iso.changes.push(format!(
            "run a primary of {} in {} and route each region's traffic to its own",
            quoted(&dbs),
            config.deployments.join(", ")
        ));
        if tables.is_empty() && unnamed.is_empty() {
            iso.changes
                .push("no route writes: every region can serve from its own copy".into());
        } else {
            let mut text = String::from("replicate between the regions what routes write");
            if !tables.is_empty() {
                text.push_str(&format!(
                    ": tables {} (each table written in two regions needs multi-primary replication that resolves conflicting writes, or one owning region per row and an event pipeline to the others)",
                    quoted(&tables)
                ));
            }
            if !unnamed.is_empty() {
                text.push_str(&format!(
                    "{} {} whose table the code does not name ({})",
                    if tables.is_empty() { ":" } else { ", and" },
                    plural(unnamed.len(), "write"),
                    sites(&unnamed)
                ));
            }
            iso.changes.push(text);
        }
    }
    let iso_tables = tables.clone();
    iso.tables_written = tables;
    scenarios.push(iso);

    for s in &mut scenarios {
        if !s.residency_violations.is_empty() {
            let list: Vec<String> = s
                .residency_violations
                .iter()
                .map(|v| format!("`{}` in {} ({}:{})", v.table, v.region, v.file, v.line))
                .collect();
            s.changes.push(format!(
                "breaks data residency: it would answer reads of {} outside their allowed regions",
                list.join(", ")
            ));
        }
    }
    let mut recommendation = recommend(&scenarios);
    // Isolation only when compliance or write latency forces it: where fixing findings brings every
    // route within budget with replicas alone, that comes first.
    if let Some(first) = first.filter(|f| f.enough) {
        let picks_isolation = recommendation.starts_with("Only full regional isolation")
            || recommendation.starts_with("No topology alone");
        if picks_isolation {
            let spared = match (config.deployments.len(), iso_tables.as_slice()) {
                (1, _) => "moving the primary next to the app is then not needed".to_string(),
                (_, []) => "a primary per region is then not needed".to_string(),
                (_, t) => format!(
                    "a primary per region is then not needed, and would need the tables {} synchronised between regions",
                    quoted(t)
                ),
            };
            recommendation = format!(
                "Fix the code first, then add read replicas: {} brings every route within budget with replicas alone ({spared}).",
                first.list(),
            );
        }
    }
    Plan {
        version: 1,
        deployments: config.deployments.clone(),
        scenarios,
        recommendation,
    }
}

/// The findings on the paths of the routes still over budget with read replicas whose fixes would
/// bring them within it, and whether that is so for every such route.
struct FixesFirst {
    /// `chatty-transaction` at src/orders.rs:70 (saves ≈ 1286 ms), each once.
    findings: Vec<(String, String, u32, f64)>,
    /// Routes over budget with replicas.
    routes: usize,
    /// Routes the fixes bring within budget.
    brought: usize,
    enough: bool,
}

impl FixesFirst {
    fn list(&self) -> String {
        let shown: Vec<String> = self
            .findings
            .iter()
            .take(5)
            .map(|(lint, file, line, ms)| {
                format!("{lint} at {file}:{line} (saves ≈ {} ms)", fmt_ms(*ms))
            })
            .collect();
        let more = self.findings.len().saturating_sub(shown.len());
        let mut text = format!(
            "fixing {}: {}",
            plural(self.findings.len(), "finding"),
            shown.join(", ")
        );
        if more > 0 {
            text.push_str(&format!(" and {more} more (`hopcheck check`)"));
        }
        text
    }

    fn sentence(&self) -> String {
        format!(
            "before moving any primary: {} brings {} of {} still over budget with replicas within budget",
            self.list(),
            self.brought,
            plural(self.routes, "route")
        )
    }
}

fn fixes_first(a: &Analysis, replicas: &Costs) -> Option<FixesFirst> {
    let model = &a.model;
    let config = &a.config;
    let fixable = ["sequential-queries", "query-in-loop", "chatty-transaction"];
    let mut findings: Vec<(String, String, u32, f64)> = Vec::new();
    let (mut routes, mut brought) = (0, 0);
    for route in model.checked_routes() {
        let cost = replicas.of_fn(route.handler);
        let over: Vec<(usize, f64, f64)> = config
            .deployments
            .iter()
            .enumerate()
            .filter(|(_, d)| config.app_runs_in(route.app, d))
            .map(|(i, d)| {
                (
                    i,
                    cost.ms.get(i).copied().unwrap_or(0.0),
                    model.budget(config, route, d),
                )
            })
            .filter(|(_, ms, budget)| ms > budget)
            .collect();
        if over.is_empty() {
            continue;
        }
        routes += 1;
        let reach = model.reach(route.handler);
        let on_path: Vec<&crate::rules::Diagnostic> = a
            .diagnostics
            .iter()
            .filter(|d| d.suppressed.is_none() && fixable.contains(&d.lint))
            .filter(|d| d.function.is_some_and(|f| reach.contains(&f)))
            .collect();
        let saves: f64 = on_path.iter().map(|d| d.saves_ms).sum();
        if on_path.is_empty() || over.iter().any(|(_, ms, budget)| ms - saves > *budget) {
            continue;
        }
        brought += 1;
        for d in on_path {
            let file = model.files[d.file].path.clone();
            let key = (d.lint.to_string(), file, d.loc.line, d.saves_ms);
            if !findings
                .iter()
                .any(|f| f.0 == key.0 && f.1 == key.1 && f.2 == key.2)
            {
                findings.push(key);
            }
        }
    }
    if routes == 0 || brought == 0 {
        return None;
    }
    findings.sort_by(|x, y| y.3.total_cmp(&x.3));
    Some(FixesFirst {
        findings,
        routes,
        brought,
        enough: brought == routes,
    })
}

/// A scenario's routes and numbers under one routing.
fn scenario(
    name: &'static str,
    summary: String,
    costs: &Costs,
    edge: bool,
    statics: &[String],
    trips: &[(usize, &Trip)],
) -> Scenario {
    let model = costs.model;
    let config = costs.config;
    let mut routes = Vec::new();
    let mut over = 0;
    let mut dynamic_ms = Vec::new();
    for route in model.checked_routes() {
        let cost = costs.of_fn(route.handler);
        let mut any_over = false;
        for (d, &ms) in config.deployments.iter().zip(&cost.ms) {
            // A deployment that does not serve the route's service (`[apps]`) is no row of its.
            if !config.app_runs_in(route.app, d) {
                continue;
            }
            let budget = model.budget(config, route, d);
            any_over |= ms > budget;
            dynamic_ms.push(ms);
            routes.push(PlanRoute {
                method: route.method.clone(),
                path: route.path.clone(),
                handler: model.qualified_name(route.handler),
                deployment: d.clone(),
                estimated_ms: ms,
                budget_ms: budget,
                over_budget: ms > budget,
                static_files: false,
            });
        }
        over += usize::from(any_over);
    }
    for path in statics {
        for d in &config.deployments {
            let key = format!("GET {path}");
            routes.push(PlanRoute {
                method: Some("GET".into()),
                path: Some(path.clone()),
                handler: if edge {
                    "(static files, at the edge)".into()
                } else {
                    "(static files)".into()
                },
                deployment: d.clone(),
                estimated_ms: 0.0,
                budget_ms: config.budget_for(Some(&key), d),
                over_budget: false,
                static_files: true,
            });
        }
    }
    dynamic_ms.sort_by(f64::total_cmp);
    let median_ms = match dynamic_ms.len() {
        0 => 0.0,
        n if n % 2 == 1 => dynamic_ms[n / 2],
        n => (dynamic_ms[n / 2 - 1] + dynamic_ms[n / 2]) / 2.0,
    };
    Scenario {
        name,
        summary,
        over_budget: over,
        median_ms,
        worst_ms: dynamic_ms.last().copied().unwrap_or(0.0),
        total_ms: dynamic_ms.iter().sum(),
        changes: Vec::new(),
        residency_violations: violations(costs, trips),
        moved_reads: Vec::new(),
        kept_reads: Vec::new(),
        tables_written: Vec::new(),
        routes,
    }
}

/// The round trips a routing answers in a region where their tables may not be stored, once per table
/// and region.
fn violations(costs: &Costs, trips: &[(usize, &Trip)]) -> Vec<Violation> {
    let config = costs.config;
    let mut out: Vec<Violation> = Vec::new();
    for &(id, t) in trips {
        let Some(target) = t.target else { continue };
        if !is_database(config, t) {
            continue;
        }
        let served = config
            .deployments
            .iter()
            .enumerate()
            .filter(|(i, _)| costs.model.runs_in(id, *i));
        for (_, d) in served {
            let region = costs.region_of(t, target, d);
            for (table, _) in crate::rules::residency_violation::outside(config, t, region) {
                if !out.iter().any(|v| v.table == table && v.region == region) {
                    out.push(Violation {
                        table,
                        region: region.to_string(),
                        file: costs.model.file_of(id).path.clone(),
                        line: t.call_loc.line,
                    });
                }
            }
        }
    }
    out.sort();
    out
}

/// The round trips on checked routes' paths, each once, with the function that makes it.
fn route_trips(model: &Model) -> Vec<(usize, &Trip)> {
    let mut fns: BTreeSet<usize> = BTreeSet::new();
    for route in model.checked_routes() {
        fns.extend(model.reach(route.handler));
    }
    let mut out = Vec::new();
    for id in fns {
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Trip(t) = s {
                    out.push((id, t));
                }
            });
        }
    }
    out
}

fn is_database(config: &Config, t: &Trip) -> bool {
    !t.in_process
        && t.target
            .and_then(|target| config.databases.get(target.db))
            .is_some_and(|d| !d.service)
}

fn site(model: &Model, id: usize, t: &Trip) -> Site {
    Site {
        file: model.file_of(id).path.clone(),
        line: t.call_loc.line,
        executor: t.executor.clone(),
    }
}

/// Reads that a replica in every deployment region would answer: those not answered in the region
/// today, split into the ones that move and the ones that stay because they follow a write.
fn moving_reads(
    model: &Model,
    config: &Config,
    trips: &[(usize, &Trip)],
    stale: &HashSet<Loc>,
) -> (Vec<Site>, Vec<Site>) {
    let (mut moved, mut kept) = (BTreeSet::new(), BTreeSet::new());
    for &(id, t) in trips {
        let Some(target) = t.target else { continue };
        if !is_database(config, t) || !movable(t) {
            continue;
        }
        let remote =
            config.deployments.iter().enumerate().any(|(i, d)| {
                model.runs_in(id, i) && config.endpoint_region(target, d) != d.as_str()
            });
        if !remote {
            continue;
        }
        if stale.contains(&t.loc) {
            kept.insert(site(model, id, t));
        } else {
            moved.insert(site(model, id, t));
        }
    }
    (moved.into_iter().collect(), kept.into_iter().collect())
}

/// The tables routes write (from their SQL), and the writes whose table is not visible.
fn written_tables(model: &Model, trips: &[(usize, &Trip)]) -> (Vec<String>, Vec<Site>) {
    let (mut tables, mut unnamed) = (BTreeSet::new(), BTreeSet::new());
    for &(id, t) in trips {
        let write = t.kind == TripKind::Query
            && t.access == Some(crate::facts::sql::Access::Write)
            && !t.service
            && !t.in_process;
        if !write {
            continue;
        }
        let class = t.sql.as_deref().map(crate::facts::sql::classify);
        match class.and_then(|c| c.tables.first().cloned()) {
            Some(table) => {
                tables.insert(table);
            }
            None => {
                unnamed.insert(site(model, id, t));
            }
        }
    }
    (tables.into_iter().collect(), unnamed.into_iter().collect())
}

/// One sentence, from the numbers, with a warning where the scenario it picks breaks data residency.
fn recommend(s: &[Scenario]) -> String {
    let (text, picked) = pick(s);
    let Some(scenario) = picked.and_then(|p| s.iter().find(|x| x.name == p)) else {
        return text;
    };
    if scenario.residency_violations.is_empty() {
        return text;
    }
    let tables: BTreeSet<&str> = scenario
        .residency_violations
        .iter()
        .map(|v| v.table.as_str())
        .collect();
    let tables: Vec<&str> = tables.into_iter().collect();
    format!(
        "{}; but mind data residency: it would store {} outside their allowed regions, so keep those reads on copies inside them.",
        text.trim_end_matches('.'),
        quoted(&tables)
    )
}

/// The recommendation and the scenario it picks, if it picks one.
fn pick(s: &[Scenario]) -> (String, Option<&'static str>) {
    let by = |name: &str| s.iter().find(|x| x.name == name);
    let (Some(cur), Some(rr), Some(iso)) = (by("current"), by("read-replicas"), by("isolation"))
    else {
        return (String::new(), None);
    };
    let ms = |x: f64| format!("{} ms", fmt_ms(x));
    if cur.over_budget == 0 {
        let text = format!(
            "Keep today's topology: no route is over budget (worst route {}).",
            ms(cur.worst_ms)
        );
        return (text, Some("current"));
    }
    let over = plural(cur.over_budget, "route");
    let cdn = by("cdn").map_or(cur.over_budget, |c| c.over_budget);
    if rr.over_budget == 0 {
        let text = format!(
            "Add read replicas: with them every route is within budget ({over} over today, {cdn} with a CDN alone); full isolation is not needed."
        );
        return (text, Some("read-replicas"));
    }
    if iso.over_budget == 0 {
        let text = format!(
            "Only full regional isolation brings every route within budget: {over} over today, {} with read replicas (they write, or read after writing), none with a primary per region (worst route {}); cutting those routes' round trips first may make replicas enough.",
            rr.over_budget,
            ms(iso.worst_ms)
        );
        return (text, Some("isolation"));
    }
    if iso.over_budget < cur.over_budget {
        let text = format!(
            "No topology alone is enough: even with a primary per region {} of {over} stay over budget (worst {}); cut their sequential round trips first (`hopcheck check`), then add read replicas, which alone bring {} within budget.",
            iso.over_budget,
            ms(iso.worst_ms),
            cur.over_budget - rr.over_budget
        );
        return (text, Some("read-replicas"));
    }
    let text = format!(
        "No topology change helps: the {over} over budget are slow even next to their database (worst {} with a primary per region); cut their round trips (`hopcheck check`).",
        ms(iso.worst_ms)
    );
    (text, None)
}

fn iso_summary(dbs: &[&str], deployments: &[String]) -> String {
    match deployments {
        [only] => format!("the primary of {} in {only}", quoted(dbs)),
        _ => format!(
            "a primary of {} in each of {}, synchronised",
            quoted(dbs),
            deployments.join(", ")
        ),
    }
}

fn today_summary(config: &Config) -> String {
    let dbs: Vec<String> = config
        .databases
        .iter()
        .filter(|d| !d.service)
        .map(|d| {
            let mut s = format!("`{}` in {}", d.name, d.primary);
            if !d.replicas.is_empty() {
                s.push_str(&format!(" (replicas in {})", d.replicas.join(", ")));
            }
            s
        })
        .collect();
    format!("{}; {}", config.where_apps_run(true), dbs.join(", "))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn quoted(names: &[impl AsRef<str>]) -> String {
    names
        .iter()
        .map(|n| format!("`{}`", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `src/a.rs:10 (state.db), src/b.rs:4 (pool)`, the first ten, then how many more.
fn sites(list: &[Site]) -> String {
    const SHOWN: usize = 10;
    let mut parts: Vec<String> = list
        .iter()
        .take(SHOWN)
        .map(|s| match &s.executor {
            Some(e) => format!("{}:{} (`{e}`)", s.file, s.line),
            None => format!("{}:{}", s.file, s.line),
        })
        .collect();
    if list.len() > SHOWN {
        parts.push(format!("and {} more", list.len() - SHOWN));
    }
    parts.join(", ")
}

//! hopcheck finds the database round trips on every request path of a Rust web service and prices them
//! against a region topology.
//!
//! The pipeline: discover → parse → facts (per file, in parallel) → model (whole project) → rules + cost →
//! report. [`analyze`] runs it; the CLI is a thin layer over it.

pub mod atomic;
pub mod build;
pub mod cache;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod cost;
pub mod discover;
pub mod domain;
pub mod explain;
pub mod facts;
pub mod fix;
pub mod gate;
pub mod init;
pub mod lsp;
pub mod manifest;
pub mod memo;
pub mod model;
pub mod modtree;
pub mod plan;
pub mod progress;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod suppress;
pub mod topology;
pub mod waterfall;

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use config::Config;
use model::Model;
use rules::{Diagnostic, Level};

/// Parser threads get a large stack: syn recurses once per level of nesting.
pub(crate) const PARSE_STACK_BYTES: usize = 64 << 20;

/// Brackets nested deeper than this are not parsed: no real code does it, and the parser would recurse
/// once per level.
pub const MAX_NESTING: usize = 1_000;

/// How the finding on a file hopcheck itself failed on begins.
const HOPCHECK_FAILED: &str = "hopcheck failed on this file";

/// Files larger than this are not parsed (generated code, data blobs); they are reported instead.
pub const MAX_FILE_BYTES: u64 = 8 << 20;

/// Everything a report needs.
pub struct Analysis {
    /// The folder or file that was analysed, as given: file paths in the model are relative to it
    /// (to its folder, for a file).
    pub root: std::path::PathBuf,
    /// Each file's path from the root of the git repository that holds it (what annotations, code
    /// scanning and links name), or from the analysed folder outside a repository; by file index.
    pub repo_paths: Vec<String>,
    pub model: Model,
    pub config: Config,
    pub diagnostics: Vec<Diagnostic>,
    pub routes: Vec<RouteReport>,
    /// Clients of databases and remote stores the code depends on that hopcheck does not price
    /// (`google-cloud-rust-raw (Google Cloud Spanner)`): their calls count no round trip.
    pub unpriced_clients: Vec<String>,
    /// Web frameworks the code depends on whose routes hopcheck does not read (`gotham (a web
    /// framework)`): handlers they serve may be missed.
    pub unread_frameworks: Vec<String>,
    /// Path dependencies whose folder is not there (`cloud-database (../../libs/cloud-database in
    /// apps/cloud/Cargo.toml)`): calls into them are not followed.
    pub missing_path_dependencies: Vec<String>,
    /// Rust files no `mod` declaration of their crate reaches: not compiled, so left out.
    pub not_compiled: Vec<String>,
    /// Why the facts cache could not be written, when it could not.
    pub cache_note: Option<String>,
    /// What the run read from disk (see [`memo`]).
    pub inputs: memo::Inputs,
    /// Set by `--compare-to`.
    pub comparison: Option<gate::Comparison>,
    /// Set by `--baseline`.
    pub baseline: Option<gate::BaselineReport>,
    /// Which findings fail the run (`--fail-on`).
    pub fail_on: gate::FailOn,
}

/// One route with its cost, as reports show it.
#[derive(Debug, Clone, Serialize)]
pub struct RouteReport {
    pub method: Option<String>,
    pub path: Option<String>,
    pub handler: String,
    /// The handler's module path (`routes::billing::show_invoice`).
    pub handler_path: String,
    /// The service that serves the route, where the analysed code holds several (a workspace's binaries,
    /// each named by its crate); null for one.
    pub service: Option<String>,
    pub file: String,
    pub line: u32,
    pub round_trips: crate::cost::Trips,
    /// Round trips when the handler runs to its end (no early return): the usual case where error
    /// paths return early, while `round_trips` is the worst case.
    pub typical_round_trips: crate::cost::Trips,
    /// Connection checks on the worst path: a pool's round trip before it lends a connection (sqlx's
    /// `test_before_acquire`), priced in `cost` but not counted in `round_trips`.
    pub checkout_pings: crate::cost::Trips,
    /// Statements on the worst path sent as SQL text that the library prepares first, each in a round
    /// trip of its own (tokio-postgres), priced in `cost`, not counted in `round_trips`.
    pub prepare_round_trips: crate::cost::Trips,
    /// Where the worst case parts from the other paths: the first round trip of the costlier arm of the
    /// first branch whose arms differ in round trips.
    pub worst_case_branch: Option<Place>,
    pub lints: Vec<String>,
    pub cost: Vec<DeploymentCost>,
    /// The worst path's round trips in order, from the first deployment (as `--route` draws them).
    pub trips: Vec<RouteTrip>,
    /// Round trips past the waterfall's limit, left out of `trips` (still counted in `round_trips`).
    #[serde(skip_serializing_if = "is_zero")]
    pub trips_left_out: usize,
    /// Calls on the worst path to a service the configuration does not place (an HTTP API, a cache
    /// whose client `[pools]` maps to no `[services]` entry): taken to be next to the app, priced at
    /// the intra-region round trip and not counted in `round_trips`.
    #[serde(skip_serializing_if = "is_zero")]
    pub unplaced_calls: usize,
    /// Calls on the route's paths that may reach the analysed code but could not be resolved: the
    /// price leaves them out, so `round_trips` may be low.
    pub unresolved: Vec<Unresolved>,
    /// Whether the route's budget and paths are checked: false for a handler listed without a route
    /// (priced, not checked, unless `--check-unrouted`).
    pub checked: bool,
    /// The route's price in the other case of the cached lookups on its paths, where the two differ:
    /// `round_trips` and `cost` price the case `assume.cache` names (a hit by default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache: Option<CacheCase>,
    /// The handler, in the model.
    #[serde(skip)]
    pub function: usize,
}

/// A route's price in the case of its cached lookups that the budget verdict does not use.
#[derive(Debug, Clone, Serialize)]
pub struct CacheCase {
    /// The case `round_trips` and `cost` price: `hit` or `miss`.
    pub assumed: &'static str,
    /// The case priced here: the other one.
    pub case: &'static str,
    pub round_trips: crate::cost::Trips,
    /// Per deployment, in the order of `cost`; serialised to 0.1 ms.
    #[serde(serialize_with = "all_tenths")]
    pub estimated_ms: Vec<f64>,
}

impl CacheCase {
    /// `3 trips, ≈ 280 ms` on the costliest deployment that serves the route.
    pub fn cell(&self, r: &RouteReport) -> String {
        let ms = r
            .cost
            .iter()
            .zip(&self.estimated_ms)
            .filter(|(c, _)| c.deployed)
            .map(|(_, &ms)| ms)
            .fold(0.0, f64::max);
        let trips = match self.round_trips {
            1 => "1 trip".to_string(),
            n => format!("{n} trips"),
        };
        if r.cost.is_empty() {
            trips
        } else {
            format!("{trips}, ≈ {} ms", rules::fmt_ms(ms))
        }
    }
}

fn all_tenths<S: serde::Serializer>(all: &[f64], s: S) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    let mut seq = s.serialize_seq(Some(all.len()))?;
    for ms in all {
        seq.serialize_element(&((ms * 10.0).round() / 10.0))?;
    }
    seq.end()
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// What a run saw and what it did not, for every format to report from one place.
#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    /// Rust files read.
    pub files: usize,
    /// Files that could not be parsed or read: routes through them have an unknown cost.
    pub files_unparsed: Vec<String>,
    /// Request handlers found, with a route or without.
    pub handlers: usize,
    /// Handlers with a route.
    pub routed: usize,
    /// Handlers listed without a route (their module path): priced; checked only with `unrouted_checked`.
    pub unrouted: Vec<String>,
    pub unrouted_checked: bool,
    /// Routes with calls that could not be resolved (their price may be low).
    pub routes_with_unresolved: usize,
    /// Checked routes over their budget on some deployment.
    pub over_budget: usize,
    /// Handlers without a route that would be over budget, were they checked.
    pub unchecked_over_budget: usize,
    /// `[[routes]]` entries that name no function of the analysed code.
    pub unmatched_routes: Vec<String>,
    /// Routes whose path holds code hopcheck could not evaluate (`POST /{..}/ROUTES.pow.verify()`):
    /// checked, but where they are served is not known, so budgets by path do not reach them.
    pub paths_as_written: Vec<String>,
    /// Clients of databases and remote stores the code depends on that hopcheck does not price: routes
    /// that use them are priced low.
    pub unpriced_clients: Vec<String>,
    /// Web frameworks the code depends on whose routes hopcheck does not read.
    pub unread_frameworks: Vec<String>,
    /// Path dependencies whose folder is not there: calls into them are not followed.
    pub missing_path_dependencies: Vec<String>,
    /// Rust files no `mod` declaration of their crate reaches: not compiled, so left out (their
    /// handlers serve no route).
    pub files_not_compiled: Vec<String>,
}

/// The first three of a list, then how many more: `a, b, c and 4 more`.
fn first_few(list: &[String]) -> String {
    let first: Vec<&str> = list.iter().take(3).map(String::as_str).collect();
    match list.len() - first.len() {
        0 => first.join(", "),
        more => format!("{} and {more} more", first.join(", ")),
    }
}

impl Coverage {
    /// What the run could not check, as sentences for the notes of every format.
    pub fn gaps(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.unrouted.is_empty() && !self.unrouted_checked {
            let over = if self.unchecked_over_budget > 0 {
                format!(
                    " ({} of them would be over budget)",
                    self.unchecked_over_budget
                )
            } else {
                String::new()
            };
            out.push(format!(
                "{} of {} handlers have no route hopcheck could find, so their budgets are not checked{over}: {}; teach hopcheck your routes ([[routes]] handler, method, path in hopcheck.toml) or check them by handler name with --check-unrouted ([check] unrouted = true)",
                self.unrouted.len(),
                self.handlers,
                first_few(&self.unrouted),
            ));
        }
        // No route at all: every handler is checked by its name, which budgets by route cannot reach.
        if self.routed == 0 && !self.unrouted.is_empty() {
            out.push(format!(
                "no route was found for {} (no router or route attribute hopcheck reads), so each is checked by its name against the default budget: {}; teach hopcheck your routes ([[route-attributes]] path, like for another crate's route macro, or [[routes]] handler, method, path in hopcheck.toml)",
                match self.unrouted.len() {
                    1 => "the one handler".to_string(),
                    n => format!("any of the {n} handlers"),
                },
                first_few(&self.unrouted),
            ));
        }
        for r in &self.unmatched_routes {
            out.push(format!(
                "the [[routes]] entry for `{r}` names no function of the analysed code (or several): write more of its module path"
            ));
        }
        if !self.paths_as_written.is_empty() {
            out.push(format!(
                "{} {} kept as written, naming code hopcheck could not evaluate: {}; a [[routes]] entry (handler, method, path) in hopcheck.toml gives one its path",
                self.paths_as_written.len(),
                if self.paths_as_written.len() == 1 { "route path is" } else { "route paths are" },
                first_few(&self.paths_as_written),
            ));
        }
        if !self.files_not_compiled.is_empty() {
            let n = self.files_not_compiled.len();
            out.push(format!(
                "{n} {} that no `mod` declaration of {} crate reaches {} not compiled, so {} left out: {}",
                if n == 1 { "file" } else { "files" },
                if n == 1 { "its" } else { "their" },
                if n == 1 { "is" } else { "are" },
                if n == 1 { "its handlers are" } else { "their handlers are" },
                first_few(&self.files_not_compiled),
            ));
        }
        if !self.unpriced_clients.is_empty() {
            out.push(format!(
                "the code uses {} hopcheck does not price: {}; their calls count no round trip, so the routes that use them are priced low: [[calls]] or [[builders]] entries in hopcheck.toml teach them",
                if self.unpriced_clients.len() == 1 { "a client of a database or remote store" } else { "clients of databases or remote stores" },
                self.unpriced_clients.join(", "),
            ));
        }
        if !self.missing_path_dependencies.is_empty() {
            let n = self.missing_path_dependencies.len();
            out.push(format!(
                "{} the code depends on by path {} not there: {}; calls into {} are not followed, so the routes that use {} may be priced low",
                if n == 1 { "a crate".to_string() } else { format!("{n} crates") },
                if n == 1 { "is" } else { "are" },
                first_few(&self.missing_path_dependencies),
                if n == 1 { "it" } else { "them" },
                if n == 1 { "it" } else { "them" },
            ));
        }
        if !self.unread_frameworks.is_empty() {
            out.push(format!(
                "the code uses {} whose routes hopcheck does not read: {}; the handlers {} serves may have no route or be missed, so their budgets may not be checked: [[routes]] entries (handler, method, path) in hopcheck.toml name them",
                if self.unread_frameworks.len() == 1 { "a web framework" } else { "web frameworks" },
                self.unread_frameworks.join(", "),
                if self.unread_frameworks.len() == 1 { "it" } else { "they" },
            ));
        }
        if self.routes_with_unresolved > 0 {
            let n = self.routes_with_unresolved;
            out.push(format!(
                "{n} {} calls hopcheck could not resolve (their count is shown as `≥ N`, and may be low): `--route \"<route>\"` lists them; a typed receiver, or an [implementations] entry for a trait, settles them",
                if n == 1 { "route makes" } else { "routes make" },
            ));
        }
        out
    }
}

/// One round trip on a route's worst path.
#[derive(Debug, Clone, Serialize)]
pub struct RouteTrip {
    pub file: String,
    pub line: u32,
    /// `read`, `write`, `unknown`, `begin`, `commit`, `rollback`, `ping`, `prepare`, `http` or `cache`.
    pub kind: &'static str,
    /// Where it is answered: `main (primary) in eu-central-1`.
    pub endpoint: String,
    /// How many times it runs on the path (a loop's iterations).
    pub times: u32,
    /// The calls from the handler down to the function that sends it.
    pub via: Vec<String>,
    /// The concurrent group (`try_join!`, `join_all`) it runs in, if any: the round trips of one group
    /// overlap, and `round_trips` counts only its longest branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<usize>,
}

/// A call that could not be resolved, as the code spells it.
#[derive(Debug, Clone, Serialize)]
pub struct Unresolved {
    pub file: String,
    pub line: u32,
    pub text: String,
}

/// A place in the analysed code, as reports name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Place {
    pub file: String,
    pub line: u32,
}

impl RouteReport {
    /// The costs from the deployments that serve the route (all of them, without `[apps]`).
    pub fn served(&self) -> impl Iterator<Item = &DeploymentCost> {
        self.cost.iter().filter(|c| c.deployed)
    }

    /// The costliest estimate among the deployments that serve the route.
    pub fn worst_ms(&self) -> f64 {
        self.served().map(|c| c.estimated_ms).fold(0.0, f64::max)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DeploymentCost {
    pub deployment: String,
    /// Serialised to 0.1 ms; reports round it themselves.
    #[serde(serialize_with = "tenths")]
    pub estimated_ms: f64,
    pub budget_ms: f64,
    pub over_budget: bool,
    /// Whether the route's service runs in this deployment (`[apps]`): false, the cost is what the
    /// route would take from there, and neither its budget nor the gate applies.
    pub deployed: bool,
}

fn tenths<S: serde::Serializer>(ms: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((ms * 10.0).round() / 10.0)
}

/// Runs the whole pipeline on `root` (a folder or one file), on a thread with a stack large enough for
/// deeply nested code (step trees are walked recursively).
pub fn analyze(root: &Path, config: Config) -> Analysis {
    analyze_showing(root, config, progress::Progress::off())
}

/// [`analyze`], ticking `progress` as files are parsed.
pub fn analyze_showing(root: &Path, config: Config, progress: progress::Progress) -> Analysis {
    analyze_found(root, config, progress, None)
}

/// [`analyze_showing`] on the files a walk of `root` already found, if it was walked.
pub fn analyze_found(
    root: &Path,
    config: Config,
    progress: progress::Progress,
    found: Option<Vec<discover::Found>>,
) -> Analysis {
    let root = root.to_path_buf();
    let run = std::thread::Builder::new()
        .stack_size(PARSE_STACK_BYTES)
        .spawn(move || analyze_here(&root, config, &progress, found));
    match run.map(|handle| handle.join()) {
        Ok(Ok(analysis)) => analysis,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => panic!("cannot start the analysis thread: {e}"),
    }
}

/// The pipeline on the current thread.
pub fn analyze_here(
    root: &Path,
    config: Config,
    progress: &progress::Progress,
    found: Option<Vec<discover::Found>>,
) -> Analysis {
    let timings = progress::laps_start().is_some();
    let lap = progress::lap;
    let found = found.unwrap_or_else(|| discover::discover(root));
    lap("discover");
    let scopes = manifest::Scopes::new(&config.catalog, root);
    // `[build] features = ["ce"]` turns on what `ce` lists in the crates' `[features]`, as cargo does
    // (the manifests read here are the ones the scopes read again for each crate: read once).
    let mut config = config;
    if let Some(build) = config.build.as_mut() {
        let manifests: Vec<_> = discover::manifests(&found, root)
            .iter()
            .filter_map(|m| scopes.manifest(m))
            .collect();
        let tables: Vec<&toml::Table> = manifests
            .iter()
            .filter_map(|m| m.get("features").and_then(toml::Value::as_table))
            .collect();
        build.imply(&tables);
    }
    lap("manifests");
    let (files, read, saving) = parse_all(found, &scopes, progress, config.cache_file.as_deref());
    lap("parse");
    if timings {
        let aside = files.iter().filter(|f| f.source.is_empty()).count();
        let parsed: usize = files.iter().map(|f| f.source.len()).sum();
        eprintln!(
            "{:>10}  {} files parsed ({:.2} MB), {aside} set aside by the text scan",
            "",
            files.len() - aside,
            parsed as f64 / 1e6
        );
    }
    progress.stage("modelling the request paths", 0);
    let cache_named = config.cache_named;
    let mut analysis = analyze_files(root, files, config);
    analysis.unpriced_clients = scopes.unpriced_clients();
    analysis.unread_frameworks = scopes.unread_frameworks();
    analysis.missing_path_dependencies = scopes.missing_path_dependencies(root);
    analysis.cache_note = saving.note().filter(|_| cache_named);
    analysis.inputs = memo::Inputs {
        files: read,
        manifests: scopes.manifests_read(),
    };
    lap("rules");
    analysis
}

/// The facts of one file from its text (`rel`: its path relative to the analysed folder), with the
/// macros it defines itself.
pub fn parse_source(rel: &str, source: String, catalog: &catalog::Catalog) -> facts::FileFacts {
    extract_checked(rel, source, catalog, &facts::macros::MacroTable::default())
}

/// [`parse_source`] with the `macro_rules!` of the whole analysed code, as the language server parses an
/// edited buffer.
pub fn parse_source_with(
    rel: &str,
    source: String,
    catalog: &catalog::Catalog,
    macros: &facts::macros::MacroTable,
) -> facts::FileFacts {
    extract_checked(rel, source, catalog, macros)
}

/// The stages after parsing: model, rules, suppressions, route reports.
pub fn analyze_files(root: &Path, files: Vec<facts::FileFacts>, config: Config) -> Analysis {
    let files = files.into_iter().map(Arc::new).collect();
    analyze_shared(root, files, config, None).0
}

/// [`analyze_files`] on facts the caller keeps too (the language server's cache): only the files the
/// model annotates are copied. `index`: the name lookups of an earlier run, when no file's
/// definitions changed since (see [`model::build_with`]); the ones used are returned for the next run.
pub fn analyze_shared(
    root: &Path,
    files: Vec<Arc<facts::FileFacts>>,
    config: Config,
    index: Option<model::Index>,
) -> (Analysis, model::Index) {
    // `hopcheck.toml` as a file of the run, where findings about its entries point, and what the code
    // names that they may match (read before the model prunes the facts).
    // Files no `mod` declaration reaches are not compiled: left out, and said.
    let not_compiled = modtree::unreached(root, &files);
    progress::lap("mod tree");
    let files: Vec<Arc<facts::FileFacts>> = if not_compiled.is_empty() {
        files
    } else {
        files
            .into_iter()
            .filter(|f| !not_compiled.contains(&f.path))
            .collect()
    };
    let config_file = config_file(root, &config);
    let config_uses = config_file
        .as_ref()
        .map(|_| rules::unused_config::Uses::of(&files));
    // The other case of cached lookups is priced on a model of its own, made from the same resolved
    // calls: only the files the two cases change are copied. (A build script's or a test's lookups are
    // on no request path.)
    let cached = files
        .iter()
        .filter(|f| f.cached_lookups && !f.path.ends_with("build.rs"))
        .any(|f| {
            f.functions
                .iter()
                .any(|g| !g.is_test && facts::costly_miss(&g.body))
        });
    let resolved = model::resolve(files, &config, index);
    // Priced, and let go, before the case the run reports is settled on the files it leaves shared.
    let other_case = cached.then(|| other_cache_case(&resolved, &config));
    let (mut model, index) = resolved.finish(&config);
    progress::lap("models");
    if let Some(file) = config_file {
        model.files.push(Arc::new(file));
    }
    let model = model;
    let (diagnostics, routes) = {
        let costs = cost::Costs::compute(&model, &config);
        progress::lap("costs");
        let ctx = rules::Ctx {
            model: &model,
            config: &config,
            costs: &costs,
            config_uses: config_uses.as_ref(),
        };
        let mut diagnostics = rules::check(&ctx);
        progress::lap("lints");
        // A copy the model made of a function (a handler run without its extractors, a callee run with
        // its caller's constants) repeats the original's findings: they are reported there, once. A
        // copy that is a route's handler (run behind its middleware or its GraphQL endpoint) has the
        // route's own findings (its budget); any it repeats are dropped below, by place.
        let handlers: HashSet<usize> = model.routes.iter().map(|r| r.handler).collect();
        diagnostics.retain(|d| {
            !d.function
                .is_some_and(|f| model.is_copy_of_reachable(f) && !handlers.contains(&f))
        });
        // Copies of one function that are all reached (one per outcome a caller tests) report at the
        // same place: the one naming the most round trips stays.
        let origin = |d: &Diagnostic| {
            d.function
                .map(|f| model.copies.origin.get(&f).copied().unwrap_or(f))
        };
        let mut kept: HashMap<(&str, usize, facts::Loc, Option<usize>), usize> = HashMap::new();
        let mut drop = vec![false; diagnostics.len()];
        for (i, d) in diagnostics.iter().enumerate() {
            let key = (d.lint, d.file, d.loc, origin(d));
            match kept.get(&key) {
                Some(&j) if diagnostics[j].related.len() >= d.related.len() => drop[i] = true,
                Some(&j) => {
                    drop[j] = true;
                    kept.insert(key, i);
                }
                None => {
                    kept.insert(key, i);
                }
            }
        }
        let mut index = 0;
        diagnostics.retain(|_| {
            index += 1;
            !drop[index - 1]
        });
        suppress::apply(&model, &config, &mut diagnostics);
        rules::sort(&model, &mut diagnostics);
        rules::fingerprint(&model, &mut diagnostics);
        rules::by_savings(&mut diagnostics);
        progress::lap("ordered");
        let routes = route_reports(&ctx, &diagnostics);
        progress::lap("routes");
        (diagnostics, routes)
    };
    let mut routes = routes;
    if let Some(prices) = other_case {
        set_cache_case(&prices, config.cache_misses, &mut routes);
    }
    let prefix = repo_prefix(root);
    let repo_paths = model
        .files
        .iter()
        .map(|f| format!("{prefix}{}", f.path))
        .collect();
    let analysis = Analysis {
        root: root.to_path_buf(),
        repo_paths,
        model,
        config,
        diagnostics,
        routes,
        unpriced_clients: Vec::new(),
        unread_frameworks: Vec::new(),
        missing_path_dependencies: Vec::new(),
        not_compiled: not_compiled.into_iter().collect(),
        cache_note: None,
        inputs: memo::Inputs::default(),
        comparison: None,
        baseline: None,
        fail_on: gate::FailOn::default(),
    };
    (analysis, index)
}

/// A route's price keyed by its handler's place, method and path.
type RoutePrices = HashMap<(String, u32, Option<String>, Option<String>), cost::PathCost>;

/// Prices every route in the case of its cached lookups that `assume.cache` does not pick.
fn other_cache_case(resolved: &model::Resolved, config: &Config) -> RoutePrices {
    let mut other = config.clone();
    other.cache_misses = !config.cache_misses;
    let model = resolved.case(&other, other.cache_misses);
    let costs = cost::Costs::compute(&model, &other);
    model
        .routes
        .iter()
        .map(|route| {
            let key = (
                model.file_of(route.handler).path.clone(),
                model.func(route.handler).fn_line,
                route.method.clone(),
                route.path.clone(),
            );
            (key, costs.of_fn(route.handler))
        })
        .collect()
}

/// Keeps the other case's price on the routes where it differs.
fn set_cache_case(prices: &RoutePrices, misses: bool, routes: &mut [RouteReport]) {
    let (assumed, case) = if misses {
        ("miss", "hit")
    } else {
        ("hit", "miss")
    };
    for r in routes.iter_mut() {
        let key = (r.file.clone(), r.line, r.method.clone(), r.path.clone());
        let Some(c) = prices.get(&key) else {
            continue;
        };
        // A few milliseconds (a call to a service next to the app) are not a price of their own.
        let same_ms = c.ms.iter().zip(&r.cost).all(|(&ms, d)| {
            let by = (ms - d.estimated_ms).abs();
            by < 5.0 || by < 0.05 * d.estimated_ms
        });
        if c.trips != r.round_trips || !same_ms {
            r.cache = Some(CacheCase {
                assumed,
                case,
                round_trips: c.trips,
                estimated_ms: c.ms.clone(),
            });
        }
    }
}

/// The configuration as a file of the run (`FileKind::Config`), when it has entries that
/// name something in the code: `unused-config` findings point into it.
fn config_file(root: &Path, config: &config::Config) -> Option<facts::FileFacts> {
    let path = config.file.as_ref()?;
    if config.entries.is_empty() {
        return None;
    }
    let canonical = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let (file, root) = (canonical(path), canonical(root));
    // A run on part of the project the file describes (a folder below it, one file) cannot tell an
    // entry that names code elsewhere from one that names nothing.
    if !file.parent().is_some_and(|dir| dir.starts_with(&root)) {
        return None;
    }
    let shown = file
        .strip_prefix(&root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| path.clone())
        .to_string_lossy()
        .replace('\\', "/");
    Some(facts::FileFacts {
        path: shown,
        source: config.text.clone(),
        kind: facts::FileKind::Config,
        ..facts::FileFacts::default()
    })
}

/// How many rounds of pulling in skipped files a run makes at most.
const MAX_PULL_ROUNDS: usize = 16;

/// What reading one file gave.
enum Read {
    Parsed(Box<facts::FileFacts>),
    /// The text scan found nothing in it; it is parsed later only if parsed code names what it defines.
    Skipped {
        rel: String,
        source: String,
    },
}

/// A pool of threads with room on their stacks for parsing deeply nested code; `None` when it cannot be
/// made (the caller's thread parses then).
pub(crate) fn parse_pool() -> Option<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .stack_size(PARSE_STACK_BYTES)
        .build()
        .ok()
}

fn parse_all(
    found: Vec<discover::Found>,
    scopes: &manifest::Scopes,
    progress: &progress::Progress,
    cache_file: Option<&Path>,
) -> (
    Vec<facts::FileFacts>,
    Vec<(std::path::PathBuf, u64)>,
    CacheSaving,
) {
    progress.stage("parsing", found.len());
    let pool = parse_pool();
    let run = |f: &(dyn Fn() -> Vec<Read> + Sync)| match &pool {
        Some(pool) => pool.install(f),
        None => f(),
    };
    // Every text first: the analysed code's `macro_rules!` expand in any file, so they are collected
    // before any file is parsed.
    let (sources, read): (Vec<Result<String, Box<facts::FileFacts>>>, Vec<_>) = found
        .par_iter()
        .map(|f| match f {
            discover::Found::File { path, rel } => {
                let (source, print) = read_source(path, rel);
                (source, print.map(|p| (path.clone(), p)))
            }
            discover::Found::Error { rel, message } => {
                (Err(Box::new(unreadable(rel, message.clone()))), None)
            }
        })
        .unzip();
    let read: Vec<(std::path::PathBuf, u64)> = read.into_iter().flatten().collect();
    let macros = facts::macros::MacroTable::from_texts(
        sources
            .iter()
            .filter_map(|s| s.as_ref().ok())
            .filter(|t| {
                // A derive's own file, and the files of helpers it may build its items in.
                memchr::memmem::find(t.as_bytes(), b"macro_rules").is_some()
                    || memchr::memmem::find(t.as_bytes(), b"proc_macro_derive").is_some()
                    || memchr::memmem::find(t.as_bytes(), b"quote!").is_some()
            })
            .map(String::as_str),
    );
    let macros = &macros;
    progress::lap("read");
    let kept = cache_file.map(|file| cache::FactsCache::open(file, macros));
    progress::lap("cache open");
    let cache = kept.as_ref();
    // Handed to the parse (which owns each text from there), once.
    let sources = std::sync::Mutex::new(Some(sources));
    let sources = &sources;
    let first = run(&|| {
        found
            .par_iter()
            .zip(
                sources
                    .lock()
                    .ok()
                    .and_then(|mut s| s.take())
                    .unwrap_or_default(),
            )
            .map(|(f, source)| {
                let read = match (f, source) {
                    (discover::Found::File { path, rel }, Ok(text)) => {
                        parse_read(rel, text, &scopes.catalog_for(path), macros, cache)
                    }
                    (_, Err(failed)) => Read::Parsed(failed),
                    (discover::Found::Error { rel, message }, Ok(_)) => {
                        Read::Parsed(Box::new(unreadable(rel, message.clone())))
                    }
                };
                progress.tick();
                read
            })
            .collect()
    });
    let mut parsed = Vec::new();
    type Aside = (
        String,
        String,
        std::collections::HashSet<String>,
        Arc<catalog::Catalog>,
    );
    let mut skipped: Vec<Aside> = Vec::new();
    for (r, f) in first.into_iter().zip(&found) {
        match r {
            Read::Parsed(f) => parsed.push(*f),
            Read::Skipped { rel, source } => {
                let defines = defined_names(&source);
                let catalog = match f {
                    discover::Found::File { path, .. } => scopes.catalog_for(path),
                    discover::Found::Error { .. } => continue,
                };
                skipped.push((rel, source, defines, catalog));
            }
        }
    }
    // Code that was parsed may name types and functions that only skipped files define (a state struct,
    // a synchronous repository): parse those too, until nothing new is named.
    let mut wanted_from = 0;
    for _ in 0..MAX_PULL_ROUNDS {
        let wanted = wanted_names(&parsed[wanted_from..]);
        wanted_from = parsed.len();
        let (pull, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut skipped)
            .into_iter()
            .partition(|(_, _, defines, _)| !defines.is_disjoint(&wanted));
        skipped = keep;
        if pull.is_empty() {
            break;
        }
        progress.stage("parsing the files that code refers to", pull.len());
        let more = run(&|| {
            pull.par_iter()
                .map(|(rel, source, _, catalog)| {
                    let facts = extract_cached(rel, source.clone(), catalog, macros, cache);
                    progress.tick();
                    Read::Parsed(Box::new(facts))
                })
                .collect()
        });
        parsed.extend(more.into_iter().filter_map(|r| match r {
            Read::Parsed(f) => Some(*f),
            Read::Skipped { .. } => None,
        }));
    }
    parsed.extend(skipped.into_iter().map(|(rel, _, _, _)| facts::FileFacts {
        module: discover::module_path(&rel),
        path: rel,
        ..facts::FileFacts::default()
    }));
    let on_disk: std::collections::HashMap<&str, &Path> = found
        .iter()
        .filter_map(|f| match f {
            discover::Found::File { path, rel } => Some((rel.as_str(), path.as_path())),
            discover::Found::Error { .. } => None,
        })
        .collect();
    for f in &mut parsed {
        f.crate_name = on_disk
            .get(f.path.as_str())
            .and_then(|p| scopes.crate_name(p));
    }
    if let (Some(c), true) = (&kept, std::env::var_os("HOPCHECK_TIMINGS").is_some()) {
        let (used, fresh) = c.counts();
        eprintln!(
            "{:>10}  {used} files from the cache, {fresh} parsed into it",
            ""
        );
    }
    // The cache is written on a thread of its own while the model is built; the run waits for it
    // before it reports.
    let saving = kept.zip(cache_file).map(|(c, file)| {
        let file = file.to_path_buf();
        std::thread::spawn(move || {
            c.save().err().map(|e| {
                format!(
                    "the facts cache {} could not be written ({e}); every file is parsed again next time (--no-cache leaves it)",
                    file.display()
                )
            })
        })
    });
    (parsed, read, CacheSaving(saving))
}

/// The facts cache being written: [`CacheSaving::note`] waits for the write and says why it failed.
struct CacheSaving(Option<std::thread::JoinHandle<Option<String>>>);

impl CacheSaving {
    fn note(self) -> Option<String> {
        self.0.and_then(|h| match h.join() {
            Ok(note) => note,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    }
}

/// Reads one file's text, or the finding that it cannot be read; with the fingerprint of what was read
/// (see [`memo::fingerprint`]), when something was.
fn read_source(path: &Path, rel: &str) -> (Result<String, Box<facts::FileFacts>>, Option<u64>) {
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_FILE_BYTES {
        let message = format!(
            "the file is {} MiB, over the {} MiB limit",
            size >> 20,
            MAX_FILE_BYTES >> 20
        );
        return (
            Err(Box::new(unreadable(rel, message))),
            Some(memo::too_large(size)),
        );
    }
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            let message = format!("cannot read it: {e}");
            return (Err(Box::new(unreadable(rel, message))), None);
        }
    };
    let print = memo::fingerprint(&bytes);
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let message = format!("it is not UTF-8 (invalid byte at offset {at})");
        Box::new(unreadable(rel, message))
    });
    (text, Some(print))
}

/// Parses a file's text, unless the text scan shows it cannot matter by itself.
fn parse_read(
    rel: &str,
    source: String,
    catalog: &Arc<catalog::Catalog>,
    macros: &facts::macros::MacroTable,
    cache: Option<&cache::FactsCache>,
) -> Read {
    if rel.ends_with(".sql") {
        return Read::Parsed(Box::new(facts::generated_sql(rel, &source)));
    }
    if !worth_parsing(&source) {
        return Read::Skipped {
            rel: rel.to_string(),
            source,
        };
    }
    Read::Parsed(Box::new(extract_cached(
        rel, source, catalog, macros, cache,
    )))
}

/// A file's facts from the cache, else parsed (and kept there, unless hopcheck failed on the file).
pub(crate) fn extract_cached(
    rel: &str,
    source: String,
    catalog: &Arc<catalog::Catalog>,
    macros: &facts::macros::MacroTable,
    cache: Option<&cache::FactsCache>,
) -> facts::FileFacts {
    let Some(cache) = cache else {
        return extract_checked(rel, source, catalog, macros);
    };
    let key = cache.key(rel, &source, catalog);
    if let Some(facts) = cache.get(key, &source) {
        return facts;
    }
    let facts = extract_checked(rel, source, catalog, macros);
    let failed = facts
        .parse_error
        .as_ref()
        .is_some_and(|e| e.message.starts_with(HOPCHECK_FAILED));
    if !failed {
        cache.put(key, &facts);
    }
    facts
}

fn extract_checked(
    rel: &str,
    source: String,
    catalog: &catalog::Catalog,
    macros: &facts::macros::MacroTable,
) -> facts::FileFacts {
    if rel.ends_with(".sql") {
        return facts::generated_sql(rel, &source);
    }
    if nesting_depth(&source) > MAX_NESTING {
        return unreadable(
            rel,
            format!("brackets nest deeper than {MAX_NESTING} levels, so it is not parsed"),
        );
    }
    guarded(rel, || {
        let module = discover::module_path(rel);
        facts::extract(rel.to_string(), source, module, catalog, macros)
    })
}

/// Runs one file's analysis; a panic in it (a bug of hopcheck's) becomes a finding on that file, and the
/// rest of the run goes on.
fn guarded(rel: &str, work: impl FnOnce() -> facts::FileFacts) -> facts::FileFacts {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(facts) => facts,
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "an internal error".into());
            unreadable(
                rel,
                format!("{HOPCHECK_FAILED} ({why}); the rest was analysed; please report it"),
            )
        }
    }
}

/// The names a file defines, by a crude scan: what follows `fn`, `struct`, `enum`, `trait`, `type`, and
/// the capitalised names of an `impl` header.
fn defined_names(source: &str) -> std::collections::HashSet<String> {
    let words: Vec<&str> = source
        .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == '{'))
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = std::collections::HashSet::new();
    let mut i = 0;
    while i < words.len() {
        match words[i] {
            "fn" | "struct" | "enum" | "trait" | "type" | "union" => {
                if let Some(w) = words.get(i + 1) {
                    out.insert(w.trim_end_matches('{').to_string());
                }
            }
            "impl" => {
                let mut j = i + 1;
                while j < words.len() && !words[j].contains('{') && j < i + 16 {
                    if words[j].starts_with(|c: char| c.is_ascii_uppercase()) {
                        out.insert(words[j].to_string());
                    }
                    j += 1;
                }
                if let Some(w) = words.get(j) {
                    let w = w.trim_end_matches('{');
                    if w.starts_with(|c: char| c.is_ascii_uppercase()) {
                        out.insert(w.to_string());
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// The types and functions parsed code names that some other file may define.
fn wanted_names(files: &[facts::FileFacts]) -> std::collections::HashSet<String> {
    let mut out = std::collections::HashSet::new();
    for file in files {
        for t in &file.types {
            out.extend(t.fields.iter().map(|(_, ty)| ty.clone()));
            out.extend(t.alias.clone());
        }
        for (ty, tr) in &file.impls {
            out.insert(ty.clone());
            out.insert(tr.clone());
        }
        for f in &file.functions {
            out.extend(f.params.iter().map(|(_, t)| t.clone()));
            out.extend(f.param_types.iter().map(|(t, _)| t.clone()));
            out.extend(f.generics.iter().map(|(_, b)| b.clone()));
            out.extend(f.self_ty.clone());
            for step in &f.body {
                step.walk(&mut |s| {
                    if let facts::Step::Call(facts::Call {
                        callee: facts::Callee::Path(segs),
                        ..
                    }) = s
                    {
                        match segs.as_slice() {
                            // `Repo::find(..)`: the type's impl; `users::find(..)`: the function.
                            [.., ty, _] if ty.starts_with(|c: char| c.is_ascii_uppercase()) => {
                                out.insert(ty.clone());
                            }
                            [.., name] if name.starts_with(|c: char| c.is_ascii_lowercase()) => {
                                out.insert(name.clone());
                            }
                            _ => {}
                        }
                    }
                });
            }
        }
    }
    out
}

/// A cheap text scan: parsing dominates the run, and a file with no `async` or `.await`, no router, no
/// re-export, no SQL constant and no out-of-line test module cannot add anything to a request path.
fn worth_parsing(source: &str) -> bool {
    use memchr::memmem::find;
    let bytes = source.as_bytes();
    // Handlers and routers; re-exports (`pub use`, `pub(crate) use`) that calls resolve through.
    let markers: [&[u8]; 19] = [
        b"async",
        // Macros that wrap awaited calls (`macro_rules! fetch { .. $conn.query(..).await .. }`).
        b".await",
        b"Router",
        b"pub use",
        b") use ",
        // actix-web, rocket, poem and loco routers, and route attributes on synchronous handlers.
        b"App::new",
        b"ServiceConfig",
        b"routes!",
        // rocket 0.4's `rocket::ignite().mount(..)` in a synchronous function.
        b"ignite(",
        // rocket_okapi's route lists and the macro that mounts them.
        b"routes_spec!",
        b"mount_endpoints_and_merged_docs!",
        // Route tables built by `const fn new()`, whose paths route attributes name.
        b"const fn",
        b"Route::new",
        b"Routes::new",
        b"#[get(",
        b"#[post(",
        b"#[put(",
        b"#[delete(",
        b"#[route(",
    ];
    if markers.iter().any(|m| find(bytes, m).is_some()) {
        return true;
    }
    // Route paths held in constants of a file of their own (`pub const USER_ROUTE: &str = "/v0/user";`,
    // a prefix left empty, `pub const BASE_PATH: &str = "";`, or put together with `concat!` or const_format's `concatcp!`), which routers elsewhere name.
    let path_const = find(bytes, b"const").is_some()
        && [
            b"str = \"/".as_slice(),
            b"str = \"\";",
            b"concat!(",
            b"concatcp!(",
            b"formatcp!(",
        ]
        .iter()
        .any(|w| find(bytes, w).is_some());
    if path_const {
        return true;
    }
    let sql_const = (find(bytes, b"const").is_some() || find(bytes, b"static").is_some())
        && [
            b"SELECT".as_slice(),
            b"INSERT",
            b"UPDATE",
            b"DELETE",
            b"select ",
            b"insert ",
            b"update ",
            b"delete ",
        ]
        .iter()
        .any(|w| find(bytes, w).is_some());
    sql_const || declares_test_module(bytes)
}

/// `#[cfg(test)] mod tests;`: the named file holds test code, which the model must know.
fn declares_test_module(bytes: &[u8]) -> bool {
    memchr::memmem::find_iter(bytes, b"cfg(test)").any(|at| {
        let rest = &bytes[at..bytes.len().min(at + 300)];
        let end = rest
            .iter()
            .position(|&b| b == b'{' || b == b';')
            .unwrap_or(rest.len());
        rest.get(end) == Some(&b';') && memchr::memmem::find(&rest[..end], b"mod ").is_some()
    })
}

/// The deepest nesting of `(`, `[` and `{` (brackets in strings and comments count too: it is a guard).
fn nesting_depth(source: &str) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for b in source.bytes() {
        match b {
            b'(' | b'[' | b'{' => {
                depth += 1;
                max = max.max(depth);
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// The analysed folder's path inside its git repository (`services/api/`), found by looking for `.git`
/// above it; empty at the repository's root or outside one.
fn repo_prefix(root: &Path) -> String {
    let dir = if root.is_file() {
        root.parent().unwrap_or(Path::new("."))
    } else {
        root
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let Ok(dir) = dir.canonicalize() else {
        return String::new();
    };
    let Some(top) = dir.ancestors().find(|d| d.join(".git").exists()) else {
        return String::new();
    };
    let rel = dir.strip_prefix(top).unwrap_or(Path::new(""));
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("{}/", parts.join("/"))
    }
}

/// A file that could not be read becomes a parse error at its first line.
fn unreadable(rel: &str, message: String) -> facts::FileFacts {
    facts::FileFacts {
        path: rel.to_string(),
        parse_error: Some(facts::ParseError {
            loc: facts::Loc {
                line: 1,
                col: 1,
                offset: 0,
                len: 0,
            },
            message,
        }),
        ..facts::FileFacts::default()
    }
}

/// A route's worst path as a list of round trips: the waterfall from the first deployment, without the
/// pool checks and preparing round trips it draws (they are not in `round_trips`), and how many were
/// left out past the waterfall's limit.
fn route_trips(
    layouts: Option<&mut waterfall::Layouts>,
    handler: usize,
) -> (Vec<RouteTrip>, usize, usize) {
    let Some(layouts) = layouts else {
        return (Vec::new(), 0, 0);
    };
    let w = layouts.of(handler, 0.0);
    let unplaced = w
        .bars
        .iter()
        .filter(|b| !b.counted)
        .map(|b| b.multiplier as usize)
        .sum();
    let trips = w
        .bars
        .iter()
        .filter(|b| b.counted && !matches!(b.access, "check" | "prepare"))
        .map(|b| RouteTrip {
            file: b.file.clone(),
            line: b.line,
            kind: b.kind,
            endpoint: b.label.clone(),
            times: b.multiplier,
            via: b.via.clone(),
            group: b.group,
        })
        .collect();
    (trips, w.hidden, unplaced)
}

/// The unresolved calls in the functions a handler reaches, in file order (`unsure`: the functions
/// that hold one).
fn unresolved_calls(model: &Model, reach: &HashSet<usize>, unsure: &[bool]) -> Vec<Unresolved> {
    let mut out = Vec::new();
    for &id in reach
        .iter()
        .filter(|&&id| unsure.get(id).copied().unwrap_or(false))
    {
        let file = model.file_of(id);
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                let facts::Step::Call(c) = s else { return };
                if !c.unresolved {
                    return;
                }
                let (from, len) = (c.loc.offset as usize, c.loc.len as usize);
                let spelled = file
                    .source
                    .get(from..from + len)
                    .unwrap_or("")
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ");
                // The place starts at the method's name: the receiver goes in front.
                let text = match &c.callee {
                    facts::Callee::Method { receiver, .. } if !receiver.is_empty() => {
                        format!("{}.{spelled}", receiver.join("."))
                    }
                    _ => spelled,
                };
                out.push(Unresolved {
                    file: file.path.clone(),
                    line: c.loc.line,
                    text,
                });
            });
        }
    }
    out.sort_by(|a, b| (&a.file, a.line, &a.text).cmp(&(&b.file, b.line, &b.text)));
    out.dedup_by(|a, b| a.file == b.file && a.line == b.line && a.text == b.text);
    out
}

fn route_reports(ctx: &rules::Ctx, diagnostics: &[Diagnostic]) -> Vec<RouteReport> {
    // The lints found in each function, and the handlers whose over-budget finding is allowed: looked
    // up per route, not searched.
    let mut lints_in: HashMap<usize, HashSet<&str>> = HashMap::new();
    let mut over_allowed: HashSet<usize> = HashSet::new();
    for d in diagnostics {
        match (d.function, d.lint, &d.suppressed) {
            (Some(f), "over-budget", Some(_)) => {
                over_allowed.insert(f);
            }
            (Some(f), lint, None) if lint != "over-budget" => {
                lints_in.entry(f).or_default().insert(lint);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    // Shared by every route: a function on many paths is laid out, and searched, once.
    let mut layouts = (!ctx.config.deployments.is_empty())
        .then(|| waterfall::Layouts::new(ctx.model, &[], ctx.costs, 0));
    let unsure: Vec<bool> = (0..ctx.model.fns.len())
        .map(|id| {
            let mut found = false;
            if !ctx.model.resolved.get(id).copied().unwrap_or(false) {
                return false;
            }
            for step in &ctx.model.func(id).body {
                step.walk(&mut |s| found |= matches!(s, facts::Step::Call(c) if c.unresolved));
            }
            found
        })
        .collect();
    for route in &ctx.model.routes {
        let f = ctx.model.func(route.handler);
        let cost = ctx.costs.of_fn(route.handler);
        let budget = |d: &str| ctx.model.budget(ctx.config, route, d);
        let reach = ctx.model.reach(route.handler);
        let (trips, trips_left_out, unplaced_calls) = route_trips(layouts.as_mut(), route.handler);
        let mut lints: Vec<String> = reach
            .iter()
            .filter_map(|f| lints_in.get(f))
            .flatten()
            .copied()
            .collect::<HashSet<_>>()
            .into_iter()
            .map(str::to_string)
            .collect();
        let deployed = |d: &str| ctx.config.app_runs_in(route.app, d);
        let over = ctx
            .config
            .deployments
            .iter()
            .zip(&cost.ms)
            .any(|(d, &ms)| deployed(d) && ms > budget(d));
        let over_lint_on = ctx.config.level_of("over-budget", Level::Error) != Level::Allow;
        let checked = ctx.model.is_checked(route);
        if over && over_lint_on && !over_allowed.contains(&route.handler) && checked {
            lints.push("over-budget".into());
        }
        lints.sort();
        out.push(RouteReport {
            method: route.method.clone(),
            path: route.path.clone(),
            handler: f.name.clone(),
            handler_path: ctx.model.qualified_name(route.handler),
            service: route.service.clone(),
            file: ctx.model.file_of(route.handler).path.clone(),
            line: f.fn_line,
            round_trips: cost.trips,
            typical_round_trips: ctx
                .costs
                .through_fn(route.handler)
                .map(|c| c.trips)
                .unwrap_or(cost.trips),
            checkout_pings: cost.pings,
            prepare_round_trips: cost.prepares,
            worst_case_branch: ctx
                .costs
                .worst_case_branch(route.handler)
                .map(|(id, loc)| Place {
                    file: ctx.model.file_of(id).path.clone(),
                    line: loc.line,
                }),
            lints,
            cost: ctx
                .config
                .deployments
                .iter()
                .zip(&cost.ms)
                .map(|(d, &ms)| DeploymentCost {
                    deployment: d.clone(),
                    estimated_ms: ms,
                    budget_ms: budget(d),
                    over_budget: deployed(d) && ms > budget(d),
                    deployed: deployed(d),
                })
                .collect(),
            trips,
            trips_left_out,
            unplaced_calls,
            unresolved: unresolved_calls(ctx.model, &reach, &unsure),
            checked,
            cache: None,
            function: route.handler,
        });
    }
    out.sort_by(|a, b| {
        (a.path.is_none(), &a.path, &a.method, &a.file, a.line).cmp(&(
            b.path.is_none(),
            &b.path,
            &b.method,
            &b.file,
            b.line,
        ))
    });
    out
}

impl Analysis {
    /// Things a user should know about the run itself, beyond the findings.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.config.file.is_none() {
            notes.push(report::topology_line(self));
        }
        notes.extend(self.cache_note.clone());
        let trips = self.model.fns.iter().enumerate().any(|(id, _)| {
            self.model.func(id).body.iter().any(|s| {
                let mut found = false;
                s.walk(&mut |x| found |= matches!(x, facts::Step::Trip(_)));
                found
            })
        });
        // Queries to SQLite, in the process: priced at nothing, which the topology line does not say.
        // Executors no [pools] entry maps but whose names make them replica pools: said once each.
        let mut in_process = 0usize;
        let mut inferred: Vec<String> = Vec::new();
        for id in 0..self.model.fns.len() {
            for step in &self.model.func(id).body {
                step.walk(&mut |s| {
                    let facts::Step::Trip(t) = s else { return };
                    in_process += usize::from(t.in_process);
                    let exec = t.executor.as_deref();
                    let replica = self.config.mapped(exec).is_none()
                        && self
                            .config
                            .inferred(exec)
                            .is_some_and(|x| x.role == config::Role::Replica);
                    if let (true, Some(e)) = (replica && !t.service, exec) {
                        if !inferred.iter().any(|x| x == e) {
                            inferred.push(e.to_string());
                        }
                    }
                });
            }
        }
        // Routes whose path renders a template: what the template's code runs is not counted.
        if (0..self.model.fns.len()).any(|id| self.model.func(id).renders_template) {
            let rendering = self
                .model
                .checked_routes()
                .filter(|r| {
                    self.model
                        .reach(r.handler)
                        .into_iter()
                        .any(|f| self.model.func(f).renders_template)
                })
                .count();
            if rendering > 0 {
                notes.push(format!(
                    "{rendering} {} a template (askama, sailfish) whose code hopcheck does not read: a query the template runs while the page renders is not counted",
                    if rendering == 1 { "route renders" } else { "routes render" },
                ));
            }
        }
        if in_process > 0 {
            notes.push(format!(
                "{in_process} {} SQLite (or an embedded store) in the process, as the code or its crates' manifests say: no network round trip, so priced at nothing",
                if in_process == 1 { "query goes to" } else { "queries go to" },
            ));
        }
        if !inferred.is_empty() {
            inferred.sort();
            let db = &self.config.databases[0];
            let list: Vec<String> = inferred.iter().map(|e| format!("`{e}`")).collect();
            let tail = if db.replicas.is_empty() {
                format!(
                    ", but `{}` has no replicas in the topology, so they read from its primary",
                    db.name
                )
            } else {
                String::new()
            };
            let (is, pools, them) = if list.len() == 1 {
                ("is", "a replica pool", "it")
            } else {
                ("are", "replica pools", "them")
            };
            notes.push(format!(
                "{} {is} taken for {pools} of `{}` by name{tail}; map {them} in [pools] to say otherwise",
                list.join(", "),
                db.name
            ));
        }
        if let Some(b) = self.baseline.as_ref().filter(|b| !b.stale.is_empty()) {
            notes.push(format!(
                "{} of {}'s entries match no finding any more (fixed): run `hopcheck baseline` to shrink it",
                b.stale.len(),
                b.file
            ));
        }
        notes.extend(self.coverage().gaps());
        for (tr, types) in &self.model.assumed_implementations {
            let types: Vec<&str> = types.iter().map(String::as_str).collect();
            notes.push(format!(
                "calls through `{tr}` are priced at the costliest of its {} implementations ({}), not knowing which is deployed; [implementations] \"{tr}\" = \"{}\" in hopcheck.toml picks one",
                types.len(),
                types.join(", "),
                types[0]
            ));
        }
        match self.model.assumed_cfgs {
            0 => {}
            n => notes.push(format!(
                "{n} {} between `#[cfg(..)]` alternatives {} priced at the costliest, not knowing which build is deployed; [build] cfg = [..] and features = [..] in hopcheck.toml say which",
                if n == 1 { "choice" } else { "choices" },
                if n == 1 { "is" } else { "are" },
            )),
        }
        if self.model.cached_lookups > 0 {
            let (n, s, hit, miss) = match self.model.cached_lookups {
                1 => (
                    "1 cached lookup is".to_string(),
                    "its loader's round trips",
                    "a hit",
                    "a miss",
                ),
                n => (
                    format!("{n} cached lookups are"),
                    "their loaders' round trips",
                    "hits",
                    "misses",
                ),
            };
            let other = if self.config.cache_misses {
                "hit"
            } else {
                "miss"
            };
            let shown = match self.routes.iter().filter(|r| r.cache.is_some()).count() {
                0 => format!("a {other} changes no route's price by more than a few ms"),
                1 => format!("the 1 route whose price a {other} changes shows both"),
                k => format!("the {k} routes whose price a {other} changes show both"),
            };
            notes.push(if self.config.cache_misses {
                format!("{n} priced as {miss} (assume.cache = \"miss\"): {s} count; {shown}")
            } else {
                format!("{n} priced as {hit}, the usual case: {s} are left out; {shown}, and assume.cache = \"miss\" makes the budget verdict use the miss")
            });
        }
        let unplaced: Vec<usize> = self
            .routes
            .iter()
            .map(|r| r.unplaced_calls)
            .filter(|&n| n > 0)
            .collect();
        if !unplaced.is_empty() {
            let calls: usize = unplaced.iter().sum();
            let (calls, go) = match calls {
                1 => ("1 call".to_string(), "goes"),
                n => (format!("{n} calls"), "go"),
            };
            let routes = match unplaced.len() {
                1 => "1 route".to_string(),
                n => format!("{n} routes"),
            };
            notes.push(format!(
                "{calls} on the worst paths of {routes} {go} to HTTP APIs or caches hopcheck.toml does not place: each is taken to be next to the app ({} ms, no round trip counted; `unplaced_calls` in JSON); [services.<name>] region = \"..\" and a [pools] entry for its client price them where they run",
                self.config.topology.intra_region_ms
            ));
        }
        if !self.routes.is_empty() && !trips {
            notes.push(
                "no database round trips found: hopcheck knows sqlx, tokio-postgres, deadpool-postgres, mysql, mysql_async, sea-orm, diesel, diesel-async, MongoDB, Neo4j, rbatis, Bigtable, redis and reqwest; teach it other calls with [[calls]] in hopcheck.toml"
                    .to_string(),
            );
        }
        notes
    }

    /// What the run saw and what it did not.
    pub fn coverage(&self) -> Coverage {
        let over = |r: &RouteReport| r.cost.iter().any(|c| c.over_budget);
        let unrouted: Vec<&RouteReport> = self.routes.iter().filter(|r| r.path.is_none()).collect();
        let handlers: HashSet<usize> = self.routes.iter().map(|r| r.function).collect();
        let routed: HashSet<usize> = self
            .routes
            .iter()
            .filter(|r| r.path.is_some())
            .map(|r| r.function)
            .collect();
        Coverage {
            files: self
                .model
                .files
                .iter()
                .filter(|f| f.kind == facts::FileKind::Rust)
                .count(),
            files_unparsed: self
                .model
                .files
                .iter()
                .filter(|f| f.parse_error.is_some())
                .map(|f| f.path.clone())
                .collect(),
            handlers: handlers.len(),
            routed: routed.len(),
            unrouted: unrouted.iter().map(|r| r.handler_path.clone()).collect(),
            unrouted_checked: unrouted.iter().all(|r| r.checked),
            routes_with_unresolved: self
                .routes
                .iter()
                .filter(|r| !r.unresolved.is_empty())
                .count(),
            over_budget: self.routes.iter().filter(|r| r.checked && over(r)).count(),
            unchecked_over_budget: self.routes.iter().filter(|r| !r.checked && over(r)).count(),
            unmatched_routes: self
                .model
                .unmatched_routes
                .iter()
                .map(|r| format!("{} {} → {}", r.method, r.path, r.handler))
                .collect(),
            paths_as_written: self
                .routes
                .iter()
                .filter_map(|r| {
                    let path = r.path.as_deref()?;
                    facts::consts::kept_as_written(path).then(|| {
                        format!(
                            "{} {path} ({})",
                            r.method.as_deref().unwrap_or("ANY"),
                            r.handler_path
                        )
                    })
                })
                .collect(),
            unpriced_clients: self.unpriced_clients.clone(),
            unread_frameworks: self.unread_frameworks.clone(),
            missing_path_dependencies: self.missing_path_dependencies.clone(),
            files_not_compiled: self.not_compiled.clone(),
        }
    }

    /// 1 if an unsuppressed finding fails the run (`--fail-on`, error level by default) or a route
    /// regressed past `--fail-on-regression`, else 0.
    pub fn exit_code(&self) -> i32 {
        let finding = self
            .diagnostics
            .iter()
            .any(|d| d.suppressed.is_none() && self.fail_on.fails(d.level));
        let regression = self
            .comparison
            .as_ref()
            .is_some_and(|c| c.regressions() > 0);
        i32::from(finding || regression)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_scan_keeps_what_can_matter() {
        assert!(worth_parsing("async fn h() {}"));
        assert!(worth_parsing("fn app() -> Router { Router::new() }"));
        assert!(worth_parsing("pub const FIND: &str = \"SELECT * FROM t\";"));
        assert!(worth_parsing("#[cfg(test)]\nmod tests;"));
        assert!(worth_parsing("mod users;\npub use users::*;"));
        assert!(worth_parsing("pub(crate) use users::list;"));
        assert!(!worth_parsing("#[cfg(test)]\nmod tests { fn t() {} }"));
        assert!(!worth_parsing(
            "pub fn add(a: u32, b: u32) -> u32 { a + b }"
        ));
    }

    #[test]
    fn a_panic_on_one_file_becomes_a_finding_on_it() {
        let facts = guarded("src/bad.rs", || panic!("boom"));
        let error = facts.parse_error.expect("reported as the file's error");
        assert!(error.message.contains("boom"), "{}", error.message);
        assert_eq!(facts.path, "src/bad.rs");
    }

    #[test]
    fn a_file_that_vanished_after_it_was_listed_is_a_finding_on_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gone.rs");
        std::fs::write(&path, "async fn h() {}").unwrap();
        let found = discover::discover(dir.path());
        std::fs::remove_file(&path).unwrap();
        let scopes = manifest::Scopes::new(&Config::default_topology().catalog, dir.path());
        let (files, _, _) = parse_all(found, &scopes, &progress::Progress::off(), None);
        assert_eq!(files.len(), 1);
        let error = files[0].parse_error.as_ref().expect("reported on the file");
        assert_eq!(files[0].path, "gone.rs");
        assert!(
            error.message.starts_with("cannot read it"),
            "{}",
            error.message
        );
    }

    #[test]
    fn a_handler_called_through_a_renaming_use_is_a_helper_on_the_callers_path() {
        let catalog = Config::default_topology().catalog;
        let files = vec![
            parse_source(
                "src/handlers.rs",
                "pub async fn create(State(db): State<PgPool>) {\n\
                 sqlx::query(\"INSERT INTO a VALUES (1)\").execute(&db).await;\n\
                 sqlx::query(\"INSERT INTO b VALUES (1)\").execute(&db).await;\n}"
                    .into(),
                &catalog,
            ),
            parse_source(
                "src/main.rs",
                "mod handlers;\nuse crate::handlers::create as make;\n\
                 async fn outer(State(db): State<PgPool>) { make(State(db)).await; }"
                    .into(),
                &catalog,
            ),
        ];
        let a = analyze_files(Path::new("."), files, Config::default_topology());
        let handlers: Vec<String> = a.routes.iter().map(|r| r.handler_path.clone()).collect();
        assert_eq!(handlers, ["outer"]);
        assert_eq!(a.routes[0].round_trips, 2, "{:?}", a.routes[0]);
    }

    #[test]
    fn nesting_depth_counts_brackets() {
        assert_eq!(nesting_depth("fn f() { g([1]) }"), 3);
        assert_eq!(nesting_depth(""), 0);
    }
}

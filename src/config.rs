//! `hopcheck.toml`: found by walking up from the analysed path, read into a raw type, then validated
//! into [`Config`]. Every error points into the TOML with a span; nothing here panics on user input.
//!
//! With no file at all, [`Config::default_topology`] prices against a documented default so that a first
//! run still says something useful.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::domain::Level;
use crate::topology::{RegionTable, Topology};

pub const FILE_NAME: &str = "hopcheck.toml";

/// The default topology used when no `hopcheck.toml` exists: the app in us-east-1 and its database an
/// ocean away in eu-central-1, the situation hopcheck is made for.
pub const DEFAULT_DEPLOYMENT: &str = "us-east-1";
pub const DEFAULT_PRIMARY: &str = "eu-central-1";
pub const DEFAULT_BUDGET_MS: f64 = 250.0;
pub const DEFAULT_LOOP_ITERATIONS: u32 = 10;
pub const DEFAULT_INTRA_REGION_MS: f64 = 1.0;

pub use crate::domain::{Role, Target};

#[derive(Debug, Clone)]
pub struct Database {
    pub name: String,
    /// Where it runs: a database's primary, or a service's region.
    pub primary: String,
    pub replicas: Vec<String>,
    /// A `[services]` entry (a cache, an HTTP API) rather than a database.
    pub service: bool,
    /// Regions the database's data may be stored in (`residency`); empty for anywhere.
    pub residency: Vec<String>,
    /// Tables with their own residency (`[databases.<name>.table-residency]`).
    pub table_residency: Vec<(String, Vec<String>)>,
}

impl Database {
    /// The regions a table's rows may be stored in, if the configuration restricts them.
    pub fn allowed_regions(&self, table: &str) -> Option<&[String]> {
        let table = table
            .rsplit('.')
            .next()
            .unwrap_or(table)
            .to_ascii_lowercase();
        self.table_residency
            .iter()
            .find(|(t, _)| t.to_ascii_lowercase() == table)
            .map(|(_, r)| r.as_slice())
            .or((!self.residency.is_empty()).then_some(self.residency.as_slice()))
    }
}

/// One budget entry: `[budget] "GET /x" = "400ms"`, or under `[budget.<deployment>]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Budget {
    pub deployment: Option<String>,
    /// `None` for the deployment's default.
    pub route: Option<String>,
    pub ms: f64,
}

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from; `None` means the default topology.
    pub file: Option<PathBuf>,
    pub deployments: Vec<String>,
    pub databases: Vec<Database>,
    /// Executor expression → target, in file order.
    pub pools: Vec<(String, Target)>,
    pub topology: Topology,
    pub default_budget_ms: f64,
    /// Budgets for a route, a deployment, or a route from a deployment (the default is apart).
    pub budgets: Vec<Budget>,
    pub loop_iterations: u32,
    /// `assume.checkout-ping`: whether pools check a connection with a round trip before lending it;
    /// unset, the code decides (on, unless it calls `.test_before_acquire(false)`).
    pub checkout_ping: Option<bool>,
    pub levels: BTreeMap<String, Level>,
    /// The built-in catalog with the project's `[[builders]]`, `[[calls]]`, … in front.
    pub catalog: crate::catalog::Catalog,
    /// `[ignore] paths`: globs of files whose findings are suppressed (they are still analysed, since
    /// request paths go through them).
    pub ignore: Vec<String>,
    /// An allow comment needs a reason (`[suppressions] require-reason`, default true).
    pub require_reason: bool,
    /// `[check] unrouted`: handlers whose route was not found are checked too, keyed by their name.
    pub check_unrouted: bool,
    /// `assume.cache = "miss"`: a cached lookup is priced as a miss (its loader runs); else as a hit.
    pub cache_misses: bool,
    /// `[implementations]`: trait (or generic bound) → the implementing type that is deployed.
    pub implementations: BTreeMap<String, String>,
    /// `[[routes]]`: routes the code declares in a way hopcheck does not read, declared by hand.
    pub routes: Vec<ManualRoute>,
    /// `[build]`: the cfg flags and features of the deployed build; `None` when not said.
    pub build: Option<crate::build::Build>,
    /// `[apps.<name>]`: services of the analysed code that run in deployments of their own. Empty: every
    /// service runs in every deployment.
    pub apps: Vec<App>,
    /// Where the services no `[apps]` entry names run: the top-level `deployments` (the other columns
    /// come from `[apps]`).
    pub unnamed_deployments: Vec<String>,
    /// The entries that name something in the code, for `unused-config`, and the file's text.
    pub entries: Vec<ConfigEntry>,
    pub text: String,
    /// The file the facts of earlier runs of this folder are kept in (see `cache::pack_for`); `None`:
    /// not kept (`--no-cache`).
    pub cache_file: Option<PathBuf>,
    /// The cache's folder was named (`--cache-dir`, `$HOPCHECK_CACHE_DIR`): a failure to write it is said.
    /// In the default folder it is not (a read-only home is no reason for a note on every run).
    pub cache_named: bool,
}

/// `[apps.<name>]`: a service of the analysed code (a workspace's binary, named by its crate as the
/// route table's `service` column shows it, or the code under `path`) and where it runs.
#[derive(Debug, Clone)]
pub struct App {
    pub name: String,
    /// A folder of the analysed code (relative to its root): routes whose router is mounted there.
    pub path: Option<String>,
    pub deployments: Vec<String>,
}

/// A `hopcheck.toml` entry that names something in the code: one that matches nothing is an
/// `unused-config` finding.
#[derive(Debug, Clone)]
pub struct ConfigEntry {
    /// The entry as a reader finds it: `[pools] "state.db"`, `a [[calls]] entry`.
    pub what: String,
    /// Where it is in the file (bytes).
    pub span: std::ops::Range<usize>,
    pub names: Names,
}

/// What a configuration entry must match in the analysed code.
#[derive(Debug, Clone)]
pub enum Names {
    /// A `[[calls]]`, `[[builders]]` or `[[clients]]` entry (its `origin`): a round trip it made.
    RoundTrips(u32),
    /// `[[no-round-trip]]`: a call of one of these methods or functions.
    Calls {
        methods: Vec<String>,
        functions: Vec<String>,
    },
    /// `[[cached]]`: a lookup through one of these methods, or a probe of one of these receivers.
    Cache {
        methods: Vec<String>,
        receivers: Vec<String>,
    },
    /// A `[pools]` key: a round trip's executor it maps.
    Pool(String),
    /// A `[budget]` route or glob: a route it applies to.
    Budget(String),
    /// A `[[routes]]` entry: the handler it names, found.
    Route(String),
    /// An `[apps]` entry (its index): a route it serves.
    App(usize),
    /// A `[[route-attributes]]` entry (its `origin`): a handler declared with it.
    RouteAttribute(u32),
    /// `[[concurrent]]`: one of these macros or functions written in the code.
    Concurrent {
        macros: Vec<String>,
        functions: Vec<String>,
    },
}

/// A `[[routes]]` entry: `handler = "api::v1::account::get_secret"`, `method = "GET"`, `path = "/secret"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ManualRoute {
    /// The handler's path in the code, as far as it tells it apart (`account::get_secret`).
    pub handler: String,
    pub method: String,
    pub path: String,
}

impl Config {
    /// Records an entry of the file for `unused-config`; `names` is given the entry's number, which the
    /// round trips it makes carry as their origin. Returns that number.
    fn record(
        &mut self,
        what: impl Into<String>,
        span: std::ops::Range<usize>,
        names: impl FnOnce(u32) -> Names,
    ) -> u32 {
        let origin = self.entries.len() as u32;
        self.entries.push(ConfigEntry {
            what: what.into(),
            span,
            names: names(origin),
        });
        origin
    }

    pub fn default_topology() -> Config {
        Config {
            file: None,
            deployments: vec![DEFAULT_DEPLOYMENT.into()],
            databases: vec![Database {
                name: "main".into(),
                primary: DEFAULT_PRIMARY.into(),
                replicas: Vec::new(),
                service: false,
                residency: Vec::new(),
                table_residency: Vec::new(),
            }],
            pools: Vec::new(),
            topology: Topology::new(DEFAULT_INTRA_REGION_MS),
            default_budget_ms: DEFAULT_BUDGET_MS,
            budgets: Vec::new(),
            loop_iterations: DEFAULT_LOOP_ITERATIONS,
            checkout_ping: None,
            levels: BTreeMap::new(),
            catalog: crate::catalog::Catalog::builtin().clone(),
            ignore: Vec::new(),
            require_reason: true,
            check_unrouted: false,
            cache_misses: false,
            implementations: BTreeMap::new(),
            routes: Vec::new(),
            build: None,
            apps: Vec::new(),
            unnamed_deployments: vec![DEFAULT_DEPLOYMENT.into()],
            entries: Vec::new(),
            text: String::new(),
            cache_file: None,
            cache_named: false,
        }
    }

    /// The budget of a route, by its key (`GET /p`; `{id}` and `:id` parameters are the same), from one
    /// deployment: that deployment's entry for the route, the route's entry, that deployment's default,
    /// then the default.
    pub fn budget_for(&self, key: Option<&str>, deployment: &str) -> f64 {
        let key = key.map(normalize_route_key);
        let find = |scope: Option<&str>, route: Option<&str>| {
            self.budgets
                .iter()
                .find(|b| {
                    b.deployment.as_deref() == scope
                        && b.route.as_deref().map(normalize_route_key).as_deref() == route
                })
                .map(|b| b.ms)
        };
        // The longest glob that matches, in a scope.
        let glob = |scope: Option<&str>, route: &str| {
            self.budgets
                .iter()
                .filter(|b| b.deployment.as_deref() == scope)
                .filter_map(|b| b.route.as_deref().map(|r| (r, b.ms)))
                .filter(|(r, _)| r.contains('*') && route_glob_matches(r, route))
                .max_by_key(|(r, _)| r.len())
                .map(|(_, ms)| ms)
        };
        let route = key.as_deref();
        route
            .and_then(|r| find(Some(deployment), Some(r)))
            .or_else(|| route.and_then(|r| find(None, Some(r))))
            .or_else(|| route.and_then(|r| glob(Some(deployment), r)))
            .or_else(|| route.and_then(|r| glob(None, r)))
            .or_else(|| find(Some(deployment), None))
            .unwrap_or(self.default_budget_ms)
    }

    /// The target of an executor expression: a `[pools]` entry matching it (exactly, or as its last
    /// fields: `db` matches `state.db`), else the only database's primary.
    pub fn target_for(&self, executor: Option<&str>) -> Target {
        self.mapped(executor)
            .or_else(|| self.inferred(executor))
            .unwrap_or(Target {
                db: 0,
                role: Role::Primary,
            })
    }

    /// The target of an executor no `[pools]` entry maps, read from its name: `state.read_pool`,
    /// `db_read()`, `replica`, `reader` are a replica of the first database; `write_pool`, `primary`
    /// its primary. `None` when the name says neither.
    pub fn inferred(&self, executor: Option<&str>) -> Option<Target> {
        let role = infer_role(executor?)?;
        (!self.databases.is_empty() && !self.databases[0].service).then_some(Target { db: 0, role })
    }

    /// The `[pools]` entry matching an executor expression, if any.
    pub fn mapped(&self, executor: Option<&str>) -> Option<Target> {
        let exec = executor?;
        self.pools
            .iter()
            .find(|(key, _)| exec == key || exec.ends_with(&format!(".{key}")))
            .map(|(_, target)| *target)
    }

    /// Where a service round trip goes: its `[pools]` mapping, else a service in the app's own region.
    pub fn service_target(&self, executor: Option<&str>) -> Target {
        self.mapped(executor).unwrap_or(Target {
            db: usize::MAX,
            role: Role::Primary,
        })
    }

    /// The region a target is served from, for one deployment: the primary, or the nearest replica.
    pub fn endpoint_region<'a>(&'a self, target: Target, deployment: &'a str) -> &'a str {
        let Some(db) = self.databases.get(target.db) else {
            return deployment;
        };
        if target.role == Role::Replica && !db.replicas.is_empty() {
            let rtt = |r: &String| {
                self.topology
                    .rtt(deployment, r)
                    .map(|x| x.ms)
                    .unwrap_or(f64::MAX)
            };
            if let Some(best) = db.replicas.iter().min_by(|a, b| rtt(a).total_cmp(&rtt(b))) {
                return best;
            }
        }
        &db.primary
    }

    pub fn rtt_ms(&self, from: &str, to: &str) -> f64 {
        self.topology.rtt(from, to).map(|r| r.ms).unwrap_or(0.0)
    }

    /// Whether the routes of an `[apps]` entry (`None`: a service no entry names) are served from the
    /// deployment `d`.
    pub fn app_runs_in(&self, app: Option<usize>, d: &str) -> bool {
        if self.apps.is_empty() {
            return true;
        }
        let list = match app.and_then(|a| self.apps.get(a)) {
            Some(app) => &app.deployments,
            None => &self.unnamed_deployments,
        };
        list.iter().any(|x| x == d)
    }

    /// `app in us-east-1, eu-west-1`, or with `[apps]` each where it runs: `admin in eu-west-1, the
    /// others in us-east-1` (`others`: some routes are served by no entry).
    pub fn where_apps_run(&self, others: bool) -> String {
        if self.apps.is_empty() {
            return format!("app in {}", self.deployments.join(", "));
        }
        let mut parts: Vec<String> = self
            .apps
            .iter()
            .map(|a| format!("{} in {}", a.name, a.deployments.join(", ")))
            .collect();
        if others {
            parts.push(format!(
                "the others in {}",
                self.unnamed_deployments.join(", ")
            ));
        }
        parts.join(", ")
    }

    pub fn level_of(&self, lint: &str, default: Level) -> Level {
        self.levels.get(lint).copied().unwrap_or(default)
    }
}

/// `GET /users/:id` and `GET /users/{id}` name the same route.
/// A topology to try without editing the file: `--deploy`, `--replica DB@REGION`, `--primary DB@REGION`.
#[derive(Debug, Clone, Default)]
pub struct WhatIf {
    pub deploy: Vec<String>,
    pub replicas: Vec<String>,
    pub primaries: Vec<String>,
}

impl WhatIf {
    pub fn is_empty(&self) -> bool {
        self.deploy.is_empty() && self.replicas.is_empty() && self.primaries.is_empty()
    }
}

impl Config {
    /// Applies what-if changes; every problem is returned at once, each naming the flag.
    pub fn apply(&mut self, what: &WhatIf) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        let known = |name: &str, flag: &str, errors: &mut Vec<String>| {
            if self.topology.region(name).is_some() {
                return true;
            }
            let close = RegionTable::builtin().closest_names(name, 3);
            let hint = if close.is_empty() {
                " (`hopcheck regions` lists them)".to_string()
            } else {
                format!("; did you mean {}?", quote_list(&close))
            };
            errors.push(format!("{flag}: unknown region `{name}`{hint}"));
            false
        };
        let mut deployments = self.deployments.clone();
        for d in &what.deploy {
            if known(d, "--deploy", &mut errors) && !deployments.contains(d) {
                deployments.push(d.clone());
            }
        }
        let mut changes: Vec<(usize, String, bool)> = Vec::new();
        for (flag, list, replica) in [
            ("--replica", &what.replicas, true),
            ("--primary", &what.primaries, false),
        ] {
            for item in list {
                let Some((db, region)) = item.split_once('@') else {
                    errors.push(format!(
                        "{flag} {item}: write it as DATABASE@REGION, e.g. main@us-east-1"
                    ));
                    continue;
                };
                let Some(index) = self
                    .databases
                    .iter()
                    .position(|d| d.name == db && !d.service)
                else {
                    let names: Vec<String> = self
                        .databases
                        .iter()
                        .filter(|d| !d.service)
                        .map(|d| d.name.clone())
                        .collect();
                    errors.push(format!(
                        "{flag} {item}: unknown database `{db}` (databases: {})",
                        quote_list(&names)
                    ));
                    continue;
                };
                if known(region, flag, &mut errors) {
                    changes.push((index, region.to_string(), replica));
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        // A deployment tried on the command line serves every service.
        for d in &what.deploy {
            for list in self
                .apps
                .iter_mut()
                .map(|a| &mut a.deployments)
                .chain(std::iter::once(&mut self.unnamed_deployments))
            {
                if !list.contains(d) {
                    list.push(d.clone());
                }
            }
        }
        self.deployments = deployments;
        for (db, region, replica) in changes {
            let db = &mut self.databases[db];
            if !replica {
                db.primary = region;
            } else if !db.replicas.contains(&region) {
                db.replicas.push(region);
            }
        }
        Ok(())
    }
}

/// The role an executor's name implies: the words of its last two segments (`state.read_pool` →
/// `state`, `read`, `pool`).
fn infer_role(executor: &str) -> Option<Role> {
    let segments: Vec<&str> = executor.rsplit('.').take(2).collect();
    let words: Vec<String> = segments
        .iter()
        .flat_map(|s| s.split(|c: char| !c.is_ascii_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    let replica = has(&[
        "read",
        "reader",
        "readers",
        "replica",
        "replicas",
        "ro",
        "readonly",
        "follower",
        "standby",
        "secondary",
    ]);
    let primary = has(&["write", "writer", "primary", "rw", "leader", "master"]);
    match (replica, primary) {
        (true, false) => Some(Role::Replica),
        (false, true) => Some(Role::Primary),
        _ => None,
    }
}

/// Does a budget's route (`GET /invoices/{id}`, a glob such as `/admin/**`) apply to a route's key?
pub fn budget_applies(pattern: &str, key: &str) -> bool {
    let key = normalize_route_key(key);
    normalize_route_key(pattern) == key
        || pattern.contains('*') && route_glob_matches(pattern, &key)
}

/// Does a budget glob (`/admin/**`, `GET /api/*/items`) match a normalised route key (`GET /admin/x`)?
/// `*` is one path segment, `**` any number of them.
fn route_glob_matches(pattern: &str, key: &str) -> bool {
    let pattern = normalize_route_key(pattern);
    let (p_method, p_path) = pattern.split_once(' ').unwrap_or(("", &pattern));
    let (k_method, k_path) = key.split_once(' ').unwrap_or(("", key));
    if !p_method.is_empty() && p_method != k_method {
        return false;
    }
    let p: Vec<&str> = p_path.split('/').filter(|s| !s.is_empty()).collect();
    let k: Vec<&str> = k_path.split('/').filter(|s| !s.is_empty()).collect();
    fn go(p: &[&str], k: &[&str]) -> bool {
        match (p.first(), k.first()) {
            (None, None) => true,
            (Some(&"**"), _) => go(&p[1..], k) || (!k.is_empty() && go(p, &k[1..])),
            (Some(&"*"), Some(_)) => go(&p[1..], &k[1..]),
            (Some(a), Some(b)) => a == b && go(&p[1..], &k[1..]),
            _ => false,
        }
    }
    go(&p, &k)
}

/// `GET /users/:id` → `GET /users/{id}`: how routes are compared.
pub fn normalize_route_key(key: &str) -> String {
    let mut parts = key.split_whitespace();
    let (method, path) = match (parts.next(), parts.next()) {
        (Some(m), Some(p)) => (m.to_uppercase(), p),
        (Some(p), None) => (String::new(), p),
        _ => return String::new(),
    };
    let path: Vec<String> = path
        .split('/')
        .map(|seg| {
            if let Some(name) = seg.strip_prefix(':') {
                format!("{{{name}}}")
            } else {
                seg.to_string()
            }
        })
        .collect();
    format!("{method} {}", path.join("/"))
}

/// A configuration error with the place in the TOML it is about.
#[derive(Debug)]
pub struct ConfigError {
    pub file: PathBuf,
    pub source_text: String,
    /// The same text, named after the file, for renderers.
    pub named: miette::NamedSource<String>,
    pub span: Option<std::ops::Range<usize>>,
    pub message: String,
    pub help: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for ConfigError {}

impl miette::Diagnostic for ConfigError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new("hopcheck::config"))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.clone()) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.named)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let span = self.span.clone()?;
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_primary_with_span(Some("here".into()), span),
        )))
    }
}

impl ConfigError {
    /// `file:line:col`, for one-line renderers.
    pub fn location(&self) -> String {
        match &self.span {
            Some(span) => {
                let before = &self.source_text[..span.start.min(self.source_text.len())];
                let line = before.matches('\n').count() + 1;
                let col = before
                    .rsplit('\n')
                    .next()
                    .map(|l| l.chars().count())
                    .unwrap_or(0)
                    + 1;
                format!("{}:{line}:{col}", self.file.display())
            }
            None => self.file.display().to_string(),
        }
    }
}

/// Finds `hopcheck.toml` at `start` (a folder, or a file's folder) or above it.
/// Where a configuration file found by [`find`] really lives, when that is outside the repository that
/// holds it (or outside its folder, out of a repository): a link an analysed tree could use to make
/// hopcheck read, and echo in its errors, a file elsewhere on the machine.
pub fn link_out_of_tree(found: &Path) -> Option<PathBuf> {
    let real = found.canonicalize().ok()?;
    let dir = found.parent()?.canonicalize().ok()?;
    let fence = dir
        .ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(&dir);
    (!real.starts_with(fence)).then_some(real)
}

pub fn find(start: &Path) -> Option<PathBuf> {
    let start = if start.is_file() {
        start.parent()?
    } else {
        start
    };
    let start = start.canonicalize().ok()?;
    start
        .ancestors()
        .map(|dir| dir.join(FILE_NAME))
        .find(|p| p.is_file())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Raw {
    deployments: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    databases: BTreeMap<String, RawDatabase>,
    #[serde(default)]
    pools: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    rtt: BTreeMap<Spanned<String>, Spanned<Millis>>,
    #[serde(default)]
    budget: BTreeMap<Spanned<String>, Spanned<RawBudget>>,
    #[serde(default)]
    assume: RawAssume,
    #[serde(default)]
    lints: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    regions: BTreeMap<Spanned<String>, RawRegion>,
    #[serde(default)]
    services: BTreeMap<Spanned<String>, RawService>,
    #[serde(default)]
    apps: BTreeMap<Spanned<String>, Spanned<RawApp>>,
    #[serde(default)]
    builders: Vec<Spanned<crate::catalog::Builder>>,
    #[serde(default)]
    calls: Vec<Spanned<crate::catalog::CallSpec>>,
    #[serde(default)]
    concurrent: Vec<Spanned<crate::catalog::Concurrent>>,
    #[serde(default)]
    no_round_trip: Vec<Spanned<crate::catalog::NoRoundTrip>>,
    #[serde(default)]
    cached: Vec<Spanned<crate::catalog::Cached>>,
    #[serde(default)]
    clients: Vec<Spanned<crate::catalog::Client>>,
    #[serde(default)]
    route_attributes: Vec<Spanned<crate::catalog::RouteAttribute>>,
    #[serde(default)]
    ignore: RawIgnore,
    #[serde(default)]
    suppressions: RawSuppressions,
    #[serde(default)]
    check: RawCheck,
    #[serde(default)]
    routes: Vec<Spanned<ManualRoute>>,
    build: Option<RawBuild>,
    #[serde(default)]
    implementations: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawBuild {
    #[serde(default)]
    cfg: Vec<String>,
    #[serde(default)]
    features: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawCheck {
    unrouted: Option<bool>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawIgnore {
    #[serde(default)]
    paths: Vec<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawSuppressions {
    require_reason: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawDatabase {
    primary: Spanned<String>,
    #[serde(default)]
    replicas: Vec<Spanned<String>>,
    #[serde(default)]
    residency: Vec<Spanned<String>>,
    #[serde(default)]
    table_residency: BTreeMap<String, Vec<Spanned<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawAssume {
    loop_iterations: Option<Spanned<i64>>,
    cache: Option<Spanned<String>>,
    intra_region_rtt: Option<Spanned<Millis>>,
    checkout_ping: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawService {
    region: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawApp {
    deployments: Spanned<Vec<Spanned<String>>>,
    path: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawRegion {
    lat: f64,
    lon: f64,
}

/// A `[budget]` value: a duration, or a deployment's own table of them.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum RawBudget {
    Duration(Millis),
    Deployment(BTreeMap<String, Millis>),
}

/// A duration in milliseconds: a number, or a string such as `"250ms"`, `"1.5s"`.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Millis {
    Number(f64),
    Int(i64),
    Text(String),
}

impl Millis {
    fn ms(&self) -> Result<f64, String> {
        let value = match self {
            Millis::Number(n) => *n,
            Millis::Int(n) => *n as f64,
            Millis::Text(t) => parse_duration(t)?,
        };
        if !value.is_finite() || value < 0.0 {
            return Err(format!(
                "`{value}` is not a duration: it must be zero or more milliseconds"
            ));
        }
        Ok(value)
    }
}

pub use crate::domain::parse_duration;

/// Reads and validates a configuration file. All problems found are returned, not only the first.
pub fn load(path: &Path) -> Result<Config, Vec<ConfigError>> {
    let fail = |message: String| {
        Err(vec![ConfigError {
            file: path.to_path_buf(),
            source_text: String::new(),
            named: miette::NamedSource::new(path.display().to_string(), String::new()),
            span: None,
            message,
            help: None,
        }])
    };
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size > MAX_CONFIG_BYTES {
        return fail(format!(
            "{} is {} KiB; a configuration is at most {} KiB, so it is not read",
            path.display(),
            size >> 10,
            MAX_CONFIG_BYTES >> 10
        ));
    }
    match std::fs::read_to_string(path) {
        Ok(text) => parse(path, &text),
        Err(e) => fail(format!("cannot read {}: {e}", path.display())),
    }
}

/// A configuration larger than this is refused unread: real ones are a few KiB.
pub const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// Validates configuration text (also used by the language server on unsaved buffers).
pub fn parse(path: &Path, text: &str) -> Result<Config, Vec<ConfigError>> {
    let err =
        |span: Option<std::ops::Range<usize>>, message: String, help: Option<String>| ConfigError {
            file: path.to_path_buf(),
            source_text: text.to_string(),
            named: miette::NamedSource::new(path.display().to_string(), text.to_string()),
            span,
            message,
            help,
        };
    let raw: Raw = match toml::from_str(text) {
        Ok(r) => r,
        Err(e) => {
            return Err(vec![err(
                e.span(),
                e.message().trim().to_string(),
                Some(KEYS_HELP.into()),
            )])
        }
    };
    let mut errors = Vec::new();
    let mut config = Config {
        file: Some(path.to_path_buf()),
        ..Config::default_topology()
    };

    let mut topology = Topology::new(DEFAULT_INTRA_REGION_MS);
    for (name, region) in &raw.regions {
        let valid = (-90.0..=90.0).contains(&region.lat) && (-180.0..=180.0).contains(&region.lon);
        if !valid {
            errors.push(err(
                Some(name.span()),
                format!("region `{}` has coordinates out of range", name.get_ref()),
                None,
            ));
            continue;
        }
        topology.custom_regions.push(crate::topology::Region {
            provider: "custom".into(),
            name: name.get_ref().clone(),
            location: String::new(),
            lat: region.lat,
            lon: region.lon,
        });
    }
    let known = |name: &Spanned<String>,
                 topology: &Topology,
                 errors: &mut Vec<ConfigError>|
     -> bool {
        if topology.region(name.get_ref()).is_some() {
            return true;
        }
        let close = RegionTable::builtin().closest_names(name.get_ref(), 3);
        let help = if close.is_empty() {
            "name a cloud region (`hopcheck regions` lists them) or define it under [regions.<name>] with lat and lon".to_string()
        } else {
            format!(
                "did you mean {}? (`hopcheck regions` lists all known regions)",
                quote_list(&close)
            )
        };
        errors.push(err(
            Some(name.span()),
            format!("unknown region `{}`", name.get_ref()),
            Some(help),
        ));
        false
    };

    if let Some(a) = &raw.assume.intra_region_rtt {
        match a.get_ref().ms() {
            Ok(ms) => topology.intra_region_ms = ms,
            Err(m) => errors.push(err(Some(a.span()), m, None)),
        }
    }
    for (pair, ms) in &raw.rtt {
        let names: Vec<&str> = pair.get_ref().split_whitespace().collect();
        let [a, b] = names.as_slice() else {
            errors.push(err(
                Some(pair.span()),
                format!("`{}` is not a pair of regions", pair.get_ref()),
                Some("write the key as two region names separated by a space: \"us-east-1 eu-central-1\" = 90".into()),
            ));
            continue;
        };
        for name in [a, b] {
            let spanned = Spanned::new(pair.span(), name.to_string());
            known(&spanned, &topology, &mut errors);
        }
        match ms.get_ref().ms() {
            Ok(v) => topology.add_override(a, b, v),
            Err(m) => errors.push(err(Some(ms.span()), m, None)),
        }
    }

    if let Some(deps) = &raw.deployments {
        if deps.get_ref().is_empty() {
            errors.push(err(
                Some(deps.span()),
                "`deployments` is empty: name at least one region".into(),
                None,
            ));
        }
        config.deployments.clear();
        for d in deps.get_ref() {
            if known(d, &topology, &mut errors) && !config.deployments.contains(d.get_ref()) {
                config.deployments.push(d.get_ref().clone());
            }
        }
    }
    config.unnamed_deployments = config.deployments.clone();
    // `[apps.<name>]`: a service's own deployments are columns of the table too.
    for (name, app) in &raw.apps {
        let list = &app.get_ref().deployments;
        if list.get_ref().is_empty() {
            errors.push(err(
                Some(list.span()),
                format!(
                    "[apps.{}] deployments is empty: name at least one region",
                    name.get_ref()
                ),
                None,
            ));
        }
        let mut deployments = Vec::new();
        for d in list.get_ref() {
            if known(d, &topology, &mut errors) && !deployments.contains(d.get_ref()) {
                deployments.push(d.get_ref().clone());
                if !config.deployments.contains(d.get_ref()) {
                    config.deployments.push(d.get_ref().clone());
                }
            }
        }
        let index = config.apps.len();
        config.record(format!("[apps.{}]", name.get_ref()), name.span(), |_| {
            Names::App(index)
        });
        config.apps.push(App {
            name: name.get_ref().clone(),
            path: app
                .get_ref()
                .path
                .as_ref()
                .map(|p| p.trim_start_matches("./").trim_end_matches('/').to_string()),
            deployments,
        });
    }

    if !raw.databases.is_empty() {
        config.databases.clear();
        for (name, db) in &raw.databases {
            known(&db.primary, &topology, &mut errors);
            let mut replicas = Vec::new();
            for r in &db.replicas {
                if known(r, &topology, &mut errors) {
                    replicas.push(r.get_ref().clone());
                }
            }
            let regions = |list: &[Spanned<String>], errors: &mut Vec<ConfigError>| {
                list.iter()
                    .filter(|r| known(r, &topology, errors))
                    .map(|r| r.get_ref().clone())
                    .collect::<Vec<_>>()
            };
            let residency = regions(&db.residency, &mut errors);
            let table_residency = db
                .table_residency
                .iter()
                .map(|(t, list)| (t.clone(), regions(list, &mut errors)))
                .collect();
            config.databases.push(Database {
                name: name.clone(),
                primary: db.primary.get_ref().clone(),
                replicas,
                service: false,
                residency,
                table_residency,
            });
        }
    }

    for (name, svc) in &raw.services {
        if config.databases.iter().any(|d| &d.name == name.get_ref()) {
            errors.push(err(
                Some(name.span()),
                format!("`{}` names both a database and a service", name.get_ref()),
                None,
            ));
            continue;
        }
        if known(&svc.region, &topology, &mut errors) {
            config.databases.push(Database {
                name: name.get_ref().clone(),
                primary: svc.region.get_ref().clone(),
                replicas: Vec::new(),
                service: true,
                residency: Vec::new(),
                table_residency: Vec::new(),
            });
        }
    }

    for (expr, target) in &raw.pools {
        let text = target.get_ref();
        let (db_name, role) = match text.split_once('.') {
            Some((db, "replica")) => (db, Role::Replica),
            Some((db, "primary")) => (db, Role::Primary),
            Some(_) => {
                errors.push(err(
                    Some(target.span()),
                    format!("`{text}` is not a database or `<database>.replica`"),
                    None,
                ));
                continue;
            }
            None => (text.as_str(), Role::Primary),
        };
        let Some(db) = config.databases.iter().position(|d| d.name == db_name) else {
            let names: Vec<String> = config.databases.iter().map(|d| d.name.clone()).collect();
            errors.push(err(
                Some(target.span()),
                format!(
                    "pool `{}` names unknown database `{db_name}`",
                    expr.get_ref()
                ),
                Some(format!("databases defined here: {}", quote_list(&names))),
            ));
            continue;
        };
        if role == Role::Replica && config.databases[db].replicas.is_empty() {
            errors.push(err(
                Some(target.span()),
                format!("database `{db_name}` has no replicas"),
                Some(format!(
                    "add `replicas = [\"<region>\"]` under [databases.{db_name}]"
                )),
            ));
            continue;
        }
        let key: String = expr
            .get_ref()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let key = key.trim_start_matches('&').to_string();
        let what = format!("[pools] \"{}\"", expr.get_ref());
        config.record(what, expr.span(), |_| Names::Pool(key.clone()));
        config.pools.push((key, Target { db, role }));
    }

    // `GET /invoices/{id}`, or a path glob with or without a method (`/admin/**`, `POST /api/*/items`).
    let route_key = |key: &str| match key.split_whitespace().collect::<Vec<_>>().as_slice() {
        [m, p] => p.starts_with('/') && m.chars().all(|c| c.is_ascii_alphabetic()),
        [p] => p.starts_with('/') && p.contains('*'),
        _ => false,
    };
    let route_help = "budget keys are `default`, a method and a path (\"GET /invoices/{id}\" = \"400ms\"), a path glob (\"/admin/**\"), or a deployment's table ([budget.us-east-1])";
    for (key, value) in &raw.budget {
        let entries: Vec<(Option<String>, &str, &Millis)> = match value.get_ref() {
            RawBudget::Duration(ms) => vec![(None, key.get_ref().as_str(), ms)],
            RawBudget::Deployment(table) => {
                if !config.deployments.contains(key.get_ref()) {
                    errors.push(err(
                        Some(key.span()),
                        format!("[budget.{}] names no deployment", key.get_ref()),
                        Some(format!("deployments: {}", quote_list(&config.deployments))),
                    ));
                    continue;
                }
                table
                    .iter()
                    .map(|(k, ms)| (Some(key.get_ref().clone()), k.as_str(), ms))
                    .collect()
            }
        };
        for (deployment, route, ms) in entries {
            let ms = match ms.ms() {
                Ok(ms) => ms,
                Err(m) => {
                    errors.push(err(Some(value.span()), m, None));
                    continue;
                }
            };
            let route = match route {
                "default" => None,
                r if route_key(r) => Some(r.to_string()),
                r => {
                    let span = if deployment.is_some() {
                        value.span()
                    } else {
                        key.span()
                    };
                    errors.push(err(
                        Some(span),
                        format!("`{r}` is not a route"),
                        Some(route_help.into()),
                    ));
                    continue;
                }
            };
            if let Some(r) = &route {
                config.entries.push(ConfigEntry {
                    what: format!("the budget of `{r}`"),
                    span: if deployment.is_some() {
                        value.span()
                    } else {
                        key.span()
                    },
                    names: Names::Budget(r.clone()),
                });
            }
            match (&deployment, route) {
                (None, None) => config.default_budget_ms = ms,
                (_, route) => config.budgets.push(Budget {
                    deployment,
                    route,
                    ms,
                }),
            }
        }
    }

    if let Some(n) = &raw.assume.loop_iterations {
        match u32::try_from(*n.get_ref()) {
            Ok(v) if v >= 1 => config.loop_iterations = v,
            _ => errors.push(err(
                Some(n.span()),
                "`loop-iterations` must be a whole number of 1 or more".into(),
                None,
            )),
        }
    }

    config.checkout_ping = raw.assume.checkout_ping;
    if let Some(c) = &raw.assume.cache {
        match c.get_ref().as_str() {
            "hit" => config.cache_misses = false,
            "miss" => config.cache_misses = true,
            other => errors.push(err(
                Some(c.span()),
                format!("`cache` is \"hit\" or \"miss\", not `{other}`"),
                Some("\"hit\" prices a cached lookup as found (the usual case), \"miss\" as loaded (the worst)".into()),
            )),
        }
    }

    for (lint, level) in &raw.lints {
        if !crate::domain::LINT_NAMES.contains(&lint.get_ref().as_str()) {
            let names: Vec<String> = crate::domain::LINT_NAMES
                .iter()
                .map(|l| l.to_string())
                .collect();
            let close = closest(lint.get_ref(), &names);
            errors.push(err(
                Some(lint.span()),
                format!("unknown lint `{}`", lint.get_ref()),
                Some(match close {
                    Some(c) => format!("did you mean `{c}`? (`hopcheck lints` lists them)"),
                    None => "`hopcheck lints` lists the lints".into(),
                }),
            ));
            continue;
        }
        match Level::parse(level.get_ref()) {
            Some(l) => {
                config.levels.insert(lint.get_ref().clone(), l);
            }
            None => errors.push(err(
                Some(level.span()),
                format!("`{}` is not a lint level", level.get_ref()),
                Some("use \"allow\", \"warn\" or \"error\"".into()),
            )),
        }
    }

    let mut entries = crate::catalog::Entries::default();
    for b in &raw.builders {
        if b.get_ref().send.is_empty() {
            errors.push(err(
                Some(b.span()),
                "a [[builders]] entry needs `send`: the methods that send the query".into(),
                None,
            ));
        }
        let mut builder = b.get_ref().clone();
        builder.origin =
            Some(config.record("this [[builders]] entry", b.span(), Names::RoundTrips));
        entries.builders.push(builder);
    }
    for c in &raw.calls {
        let spec = c.get_ref();
        if spec.methods.is_empty() && spec.functions.is_empty() {
            errors.push(err(
                Some(c.span()),
                "a [[calls]] entry needs `methods` or `functions`".into(),
                None,
            ));
        }
        for pos in [&spec.sql, &spec.executor].into_iter().flatten() {
            let ok = pos == "receiver" || pos == "none" || crate::catalog::arg_index(pos).is_some();
            if !ok {
                errors.push(err(
                    Some(c.span()),
                    format!("`{pos}` is not an argument position"),
                    Some("write `receiver`, `none`, or `arg0`, `arg1`, …".into()),
                ));
            }
        }
        if let Some(db) = &spec.database {
            if !config.databases.iter().any(|d| &d.name == db) {
                errors.push(err(
                    Some(c.span()),
                    format!("unknown database `{db}`"),
                    None,
                ));
            }
        }
        let mut spec = spec.clone();
        spec.origin = Some(config.record("this [[calls]] entry", c.span(), Names::RoundTrips));
        entries.calls.push(spec);
    }
    for c in &raw.concurrent {
        let (macros, functions) = (c.get_ref().macros.clone(), c.get_ref().functions.clone());
        config.record("this [[concurrent]] entry", c.span(), |_| {
            Names::Concurrent { macros, functions }
        });
        entries.concurrent.push(c.get_ref().clone());
    }
    for q in &raw.no_round_trip {
        let (methods, functions) = (q.get_ref().methods.clone(), q.get_ref().functions.clone());
        config.record("this [[no-round-trip]] entry", q.span(), |_| Names::Calls {
            methods,
            functions,
        });
        entries.no_round_trip.push(q.get_ref().clone());
    }
    for k in &raw.cached {
        let (methods, receivers) = (k.get_ref().methods.clone(), k.get_ref().receivers.clone());
        if methods.is_empty() && receivers.is_empty() {
            errors.push(err(
                Some(k.span()),
                "a [[cached]] entry needs `methods` (a cache's lookups with a loader) or `receivers` (caches the code asks before it queries)".into(),
                None,
            ));
        }
        config.record("this [[cached]] entry", k.span(), |_| Names::Cache {
            methods,
            receivers,
        });
        entries.cached.push(k.get_ref().clone());
    }
    for c in &raw.clients {
        if c.get_ref().types.is_empty() {
            errors.push(err(
                Some(c.span()),
                "a [[clients]] entry needs `types`: the client type names (`BillingApi`, `*Client`)"
                    .into(),
                None,
            ));
        }
        let mut client = c.get_ref().clone();
        client.origin = Some(config.record("this [[clients]] entry", c.span(), Names::RoundTrips));
        entries.clients.push(client);
    }
    for a in &raw.route_attributes {
        let like = a.get_ref().like.rsplit("::").next().unwrap_or_default();
        let known = like != "any"
            && crate::domain::HTTP_METHODS
                .iter()
                .any(|m| m.eq_ignore_ascii_case(like))
            || like == "route";
        if !known || a.get_ref().path.is_empty() {
            errors.push(err(
                Some(a.span()),
                format!("`{}` is not a framework's route attribute", a.get_ref().like),
                Some("write `like = \"actix_web::get\"` (or post, put, patch, delete, head, options), or `like = \"route\"` for one that takes `method = \"..\"`".into()),
            ));
            continue;
        }
        let mut attribute = a.get_ref().clone();
        let what = format!("the [[route-attributes]] entry for `{}`", attribute.path);
        attribute.origin = Some(config.record(what, a.span(), Names::RouteAttribute));
        entries.route_attributes.push(attribute);
    }
    config.catalog = crate::catalog::Catalog::with(entries);

    for glob in &raw.ignore.paths {
        match globset::Glob::new(glob.get_ref()) {
            Ok(_) => config.ignore.push(glob.get_ref().clone()),
            Err(e) => errors.push(err(
                Some(glob.span()),
                format!("`{}` is not a glob: {e}", glob.get_ref()),
                Some("write paths relative to the analysed folder, e.g. \"src/legacy/**\"".into()),
            )),
        }
    }
    if let Some(r) = raw.suppressions.require_reason {
        config.require_reason = r;
    }
    if let Some(u) = raw.check.unrouted {
        config.check_unrouted = u;
    }
    config.implementations = raw.implementations.clone();
    config.build = raw.build.as_ref().map(|b| crate::build::Build {
        cfg: b.cfg.iter().cloned().collect(),
        features: b.features.iter().cloned().collect(),
    });
    for r in &raw.routes {
        let route = r.get_ref();
        let method = route.method.to_ascii_uppercase();
        if !crate::domain::HTTP_METHODS.contains(&method.as_str()) {
            errors.push(err(
                Some(r.span()),
                format!("`{}` is not an HTTP method", route.method),
                Some(format!("one of {}", crate::domain::HTTP_METHODS.join(", "))),
            ));
        } else if !route.path.starts_with('/') {
            errors.push(err(
                Some(r.span()),
                format!("the path `{}` does not start with `/`", route.path),
                None,
            ));
        } else {
            let what = format!("the [[routes]] entry for `{}`", route.handler);
            config.record(what, r.span(), |_| Names::Route(route.handler.clone()));
            config.routes.push(ManualRoute {
                method,
                ..route.clone()
            });
        }
    }

    config.topology = topology;
    config.text = text.to_string();
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(errors)
    }
}

const KEYS_HELP: &str = "known keys: deployments, [databases.<name>] (primary, replicas, residency, table-residency), [pools], [rtt], [budget], [assume] (loop-iterations, intra-region-rtt, checkout-ping, cache), [lints], [regions.<name>] (lat, lon), [services.<name>] (region), [apps.<name>] (deployments, path), [[builders]], [[calls]], [[concurrent]], [[no-round-trip]], [[cached]], [[clients]], [[route-attributes]] (path, like), [ignore] (paths), [suppressions] (require-reason), [check] (unrouted), [[routes]] (handler, method, path), [implementations], [build] (cfg, features); see README.md, \"Configuration\"";

pub fn quote_list(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn closest<'a>(name: &str, candidates: &'a [String]) -> Option<&'a String> {
    candidates
        .iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> Result<Config, Vec<ConfigError>> {
        parse(Path::new("hopcheck.toml"), text)
    }

    #[test]
    fn durations_parse_in_every_spelling() {
        assert_eq!(parse_duration("250ms"), Ok(250.0));
        assert_eq!(parse_duration("1.5s"), Ok(1500.0));
        assert_eq!(parse_duration(" 90 "), Ok(90.0));
        assert!(parse_duration("fast").is_err());
        for absurd in ["NaN", "inf", "-5ms", "1e308s"] {
            assert!(parse_duration(absurd).is_err(), "{absurd}");
        }
    }

    #[test]
    fn unknown_region_names_the_closest_and_points_at_it() {
        let text = "deployments = [\"us-east-7\"]\n";
        let errs = cfg(text).err().unwrap();
        assert_eq!(errs[0].message, "unknown region `us-east-7`");
        assert!(errs[0].help.as_deref().unwrap().contains("`us-east-1`"));
        assert_eq!(&text[errs[0].span.clone().unwrap()], "\"us-east-7\"");
        assert_eq!(errs[0].location(), "hopcheck.toml:1:16");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let errs = cfg("deployment = [\"us-east-1\"]\n").err().unwrap();
        assert!(
            errs[0].message.contains("unknown field `deployment`"),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn pools_map_to_databases_and_replicas() {
        let c = cfg("[databases.main]\nprimary = \"eu-central-1\"\nreplicas = [\"us-east-1\"]\n[pools]\n\"state.db\" = \"main\"\n\"state.read\" = \"main.replica\"\n").unwrap();
        assert_eq!(c.target_for(Some("state.read")).role, Role::Replica);
        assert_eq!(c.target_for(Some("self.state.read")).role, Role::Replica);
        assert_eq!(c.target_for(Some("pool")).role, Role::Primary);
        assert_eq!(
            c.endpoint_region(
                Target {
                    db: 0,
                    role: Role::Replica
                },
                "us-east-1"
            ),
            "us-east-1"
        );
    }

    #[test]
    fn budgets_match_both_parameter_spellings() {
        let c = cfg("[budget]\ndefault = \"300ms\"\n\"GET /users/{id}\" = \"1s\"\n").unwrap();
        assert_eq!(c.budget_for(Some("GET /users/:id"), "us-east-1"), 1000.0);
        assert_eq!(c.budget_for(Some("POST /users/:id"), "us-east-1"), 300.0);
        assert_eq!(c.budget_for(None, "us-east-1"), 300.0);
    }

    #[test]
    fn pool_roles_are_read_from_names() {
        assert_eq!(infer_role("state.read_pool"), Some(Role::Replica));
        assert_eq!(infer_role("ctx.db_read()"), Some(Role::Replica));
        assert_eq!(infer_role("replica"), Some(Role::Replica));
        assert_eq!(infer_role("self.reader"), Some(Role::Replica));
        assert_eq!(infer_role("state.write_pool"), Some(Role::Primary));
        assert_eq!(infer_role("state.db"), None);
        // Words, not substrings: a thread pool is no replica.
        assert_eq!(infer_role("state.thread_pool"), None);
        assert_eq!(infer_role("state.ready"), None);
    }

    #[test]
    fn a_deployment_has_its_own_budgets() {
        let c = cfg("deployments = [\"us-east-1\", \"ap-southeast-2\"]\n[budget]\ndefault = \"300ms\"\n\"GET /report\" = \"2s\"\n[budget.ap-southeast-2]\ndefault = \"500ms\"\n\"GET /users/{id}\" = \"800ms\"\n").unwrap();
        assert_eq!(c.budget_for(Some("GET /users/{id}"), "us-east-1"), 300.0);
        assert_eq!(
            c.budget_for(Some("GET /users/:id"), "ap-southeast-2"),
            800.0
        );
        assert_eq!(c.budget_for(Some("GET /orders"), "ap-southeast-2"), 500.0);
        // A route's own budget comes before a deployment's default.
        assert_eq!(c.budget_for(Some("GET /report"), "ap-southeast-2"), 2000.0);
        // Globs: the longest that matches, after exact entries.
        let c = cfg("[budget]\ndefault = \"300ms\"\n\"/admin/**\" = \"2s\"\n\"/admin/reports/*\" = \"5s\"\n\"POST /api/*/items\" = \"500ms\"\n\"GET /admin/health\" = \"100ms\"\n").unwrap();
        assert_eq!(
            c.budget_for(Some("GET /admin/users/{id}"), "us-east-1"),
            2000.0
        );
        assert_eq!(c.budget_for(Some("GET /admin"), "us-east-1"), 2000.0);
        assert_eq!(
            c.budget_for(Some("GET /admin/reports/daily"), "us-east-1"),
            5000.0
        );
        assert_eq!(c.budget_for(Some("GET /admin/health"), "us-east-1"), 100.0);
        assert_eq!(c.budget_for(Some("POST /api/:v/items"), "us-east-1"), 500.0);
        assert_eq!(c.budget_for(Some("GET /api/v1/items"), "us-east-1"), 300.0);
        let errs = cfg("deployments = [\"us-east-1\"]\n[budget.eu-west-1]\ndefault = \"1s\"\n")
            .err()
            .unwrap();
        assert!(
            errs[0]
                .message
                .contains("[budget.eu-west-1] names no deployment"),
            "{}",
            errs[0].message
        );
    }

    #[test]
    fn an_app_adds_its_deployments_and_runs_only_there() {
        let c = cfg("deployments = [\"us-east-1\"]\n[apps.admin]\ndeployments = [\"eu-west-1\"]\n[budget.eu-west-1]\ndefault = \"1s\"\n").unwrap();
        assert_eq!(c.deployments, ["us-east-1", "eu-west-1"]);
        assert!(c.app_runs_in(Some(0), "eu-west-1"));
        assert!(!c.app_runs_in(Some(0), "us-east-1"));
        assert!(c.app_runs_in(None, "us-east-1"));
        assert!(!c.app_runs_in(None, "eu-west-1"));
        let mut tried = c.clone();
        tried
            .apply(&WhatIf {
                deploy: vec!["ap-south-1".into()],
                ..WhatIf::default()
            })
            .unwrap();
        assert!(tried.app_runs_in(Some(0), "ap-south-1") && tried.app_runs_in(None, "ap-south-1"));
        let errs =
            cfg("[apps.admin]\ndeployments = [\"eu-wst-1\"]\n[apps.api]\ndeployments = []\n")
                .err()
                .unwrap();
        let messages: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages.iter().any(|m| m.contains("eu-wst-1")),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.contains("[apps.api] deployments is empty")),
            "{messages:?}"
        );
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errs = cfg("deployments = [\"nowhere\"]\n[budget]\ndefault = \"soon\"\n[lints]\nquery-in-lop = \"deny\"\n").err().unwrap();
        assert_eq!(
            errs.len(),
            3,
            "{:?}",
            errs.iter().map(|e| &e.message).collect::<Vec<_>>()
        );
        assert!(errs[2].help.as_deref().unwrap().contains("query-in-loop"));
    }
}

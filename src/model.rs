//! The model: the facts of all files joined into one project. It resolves routers to routes with full
//! paths and handlers to entry points; then, from each handler and spawned task outwards, awaited calls to
//! the functions they reach (by path, `use` alias and method name), SQL constants to text, and each round
//! trip to a read or write and a database endpoint. Code that no handler or task reaches is left as parsed.
//!
//! It does no I/O and never looks at syntax; it only joins facts.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

// The index is hashed millions of times on a large workspace: the Fx hash, not SipHash. Its keys come
// from the analysed code, so a tree crafted to collide slows down only its own run.
use rustc_hash::{FxHashMap, FxHashSet};

use crate::config::{Config, Role};
use crate::facts::sql::{self, Access};
use crate::facts::{walk_mut, Callee, FileFacts, FnFacts, RouteEntry, Step, Trip, TripKind};

/// Mounting deeper than this is taken as a cycle.
const MAX_MOUNT_DEPTH: usize = 32;

/// A function in the model: which file, which function of that file.
#[derive(Debug, Clone, Copy)]
pub struct FnRef {
    pub file: usize,
    pub index: usize,
}

/// An entry point: a routed handler, or a function that takes extractors with no route found.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: Option<String>,
    pub path: Option<String>,
    pub handler: usize,
}

impl Route {
    /// `GET /invoices/{id}`, the key budgets use.
    pub fn key(&self) -> Option<String> {
        Some(format!(
            "{} {}",
            self.method.as_deref()?,
            self.path.as_deref()?
        ))
    }
}

/// Static files served under a path: no handler, nothing to price, what a CDN could serve.
#[derive(Debug, Clone)]
pub struct StaticRoute {
    pub path: String,
    pub file: usize,
    pub loc: crate::facts::Loc,
}

pub struct Model {
    /// Shared with the language server's cache: the model copies only the files it annotates.
    pub files: Vec<Arc<FileFacts>>,
    pub fns: Vec<FnRef>,
    pub routes: Vec<Route>,
    pub static_routes: Vec<StaticRoute>,
    /// Budgets written above handlers (`// hopcheck: budget(400ms)`), by function.
    pub inline_budgets: HashMap<usize, f64>,
    /// Functions on some request path.
    pub reachable: Vec<bool>,
    /// Functions that spawned tasks reach.
    pub background: Vec<bool>,
    /// Functions whose calls were resolved: those that some route's handler or a spawned task reaches.
    /// Nothing else is on a path that a lint or a report follows, and only these are priced.
    pub resolved: Vec<bool>,
    /// Pools check a connection with a round trip before lending it (`assume.checkout-ping`, else on
    /// unless the code calls `.test_before_acquire(false)`).
    pub checkout_ping: bool,
    /// Copies of functions whose body depends on how they are reached.
    pub copies: Copies,
    /// Handlers whose route was not found are checked too (`[check] unrouted`, `--check-unrouted`).
    pub check_unrouted: bool,
    /// `[[routes]]` entries that name no function of the analysed code.
    pub unmatched_routes: Vec<crate::config::ManualRoute>,
    /// Cached lookups whose loader makes round trips, priced as `assume.cache` says.
    pub cached_lookups: usize,
    /// Traits reached through a trait object or a generic whose costliest implementation was taken
    /// (no `[implementations]` entry), with their implementing types.
    pub assumed_implementations: BTreeMap<String, BTreeSet<String>>,
    /// `#[cfg(..)]` alternatives kept because `[build]` does not say which is compiled in.
    pub assumed_cfgs: usize,
}

/// Functions the model added as copies of others: a handler's body without its extractors (what a call
/// from another function runs: the caller already has the values), and a trait's default body for one
/// implementing type (where `Self::` means that type).
#[derive(Debug, Default)]
pub struct Copies {
    /// Handler → its body without the extractors the model put in front.
    pub handler_bodies: HashMap<usize, usize>,
    /// (default body, implementing type) → the copy for that type.
    pub specialised: HashMap<(usize, String), usize>,
    /// (function, the constants a call passes to the parameters it tests) → the copy without the
    /// arms they rule out.
    pub by_constants: HashMap<(usize, Vec<Option<String>>), usize>,
    /// (function, what a caller's arm needs it to yield) → the copy with only the arms that yield it
    /// (the function itself where every arm can), and whether any path does.
    pub by_outcome: HashMap<(usize, String), (usize, bool)>,
    /// Such a copy → what it yields.
    pub yielding: HashMap<usize, String>,
    /// (generic function, the types a caller binds its type parameters to) → the copy run with them.
    pub by_types: HashMap<(usize, Vec<(String, String)>), usize>,
    /// Copy → the function of the code it was made from.
    pub origin: HashMap<usize, usize>,
    /// Copy → the function a call to it recurs into, where that is not its origin: a default body
    /// specialised for one type is a function of its own (`Team::from_id` calling `Person::from_id`
    /// does not recur), and so are the copies made of it.
    pub recurs_as: HashMap<usize, usize>,
}

impl Model {
    /// The function a call to `id` recurs into: the same for a copy made with a caller's constants or
    /// outcomes and its origin, different for the default bodies of two implementing types.
    pub fn recursion_key(&self, id: usize) -> usize {
        match self.copies.recurs_as.get(&id) {
            Some(&key) => key,
            None => self.copies.origin.get(&id).copied().unwrap_or(id),
        }
    }

    /// A copy of a function that is on a request path itself: its findings are the original's, and
    /// are reported there, once.
    pub fn is_copy_of_reachable(&self, id: usize) -> bool {
        self.copies
            .origin
            .get(&id)
            .is_some_and(|&o| self.reachable.get(o).copied().unwrap_or(false))
    }
}

impl Model {
    /// The routes the lints check: the routed handlers, or every handler when no router was found at
    /// all.
    pub fn checked_routes(&self) -> impl Iterator<Item = &Route> {
        self.routes.iter().filter(move |r| self.is_checked(r))
    }

    /// Is this route checked? Where routers were found, a handler none of them mounts is most likely
    /// dead code or mounted in a way hopcheck does not read: listed, not checked, unless asked for.
    /// Where none were found (a framework hopcheck does not know), every handler is an entry point.
    pub fn is_checked(&self, route: &Route) -> bool {
        route.path.is_some() || self.check_unrouted || !self.routes.iter().any(|r| r.path.is_some())
    }

    pub fn func(&self, id: usize) -> &FnFacts {
        let r = self.fns[id];
        &self.files[r.file].functions[r.index]
    }

    pub fn file_of(&self, id: usize) -> &FileFacts {
        &self.files[self.fns[id].file]
    }

    /// `routes::billing::show_invoice`, or `Repo::find` for methods.
    pub fn qualified_name(&self, id: usize) -> String {
        let f = self.func(id);
        let mut parts: Vec<&str> = f.module.iter().map(String::as_str).collect();
        if let Some(t) = &f.self_ty {
            parts.push(t);
        }
        parts.push(&f.name);
        parts.join("::")
    }

    /// A route's budget from one deployment: the one written above its handler, else the configuration's.
    pub fn budget(&self, config: &Config, route: &Route, deployment: &str) -> f64 {
        match self.inline_budgets.get(&route.handler) {
            Some(ms) => *ms,
            None => config.budget_for(route.key().as_deref(), deployment),
        }
    }

    /// Every function reachable from `id` through resolved calls, `id` included.
    pub fn reach(&self, id: usize) -> HashSet<usize> {
        let mut seen = HashSet::new();
        let mut stack = vec![id];
        while let Some(f) = stack.pop() {
            if !seen.insert(f) {
                continue;
            }
            for step in &self.func(f).body {
                step.walk(&mut |s| {
                    if let Step::Call(c) = s {
                        if let Some(t) = c.resolved {
                            stack.push(t);
                        }
                    }
                });
            }
        }
        seen
    }
}

/// Joins the facts of all files.
pub fn build(files: Vec<Arc<FileFacts>>, config: &Config) -> Model {
    build_with(files, config, None).0
}

/// What a file contributes to the name lookups: its path, its modules, and the names, modules and
/// owners of what it defines. Files whose definitions hash alike, in the same order, give the same
/// [`Index`] (with the same catalog), however the bodies of their functions changed.
pub fn definitions(file: &FileFacts) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (&file.path, &file.module, &file.test_modules).hash(&mut h);
    (&file.types, &file.impls, &file.uses, &file.statics).hash(&mut h);
    for f in file.functions.iter() {
        (&f.name, &f.module, &f.self_ty, f.is_test).hash(&mut h);
    }
    h.finish()
}

/// [`build`], with the name lookups of an earlier build when the caller knows that every file's
/// [`definitions`] are as they were then (the language server after an edit inside a function).
/// Returns them for the next build.
pub fn build_with(
    mut files: Vec<Arc<FileFacts>>,
    config: &Config,
    earlier: Option<Index>,
) -> (Model, Index) {
    mark_test_files(&mut files);
    let mut fns = Vec::new();
    for (file, facts) in files.iter().enumerate() {
        for index in 0..facts.functions.len() {
            fns.push(FnRef { file, index });
        }
    }
    let mut index = match earlier {
        Some(index) if index.file_of.len() == fns.len() => {
            index.path_cache.borrow_mut().clear();
            index
        }
        _ => Index::new(&files, &fns, &config.catalog),
    };
    index.implementations = config.implementations.clone();
    index.assumed.borrow_mut().clear();

    let files_turn_checks_off = files.iter().any(|f| f.checkout_test_off);
    let mut model = Model {
        files,
        fns,
        routes: Vec::new(),
        static_routes: Vec::new(),
        inline_budgets: HashMap::new(),
        reachable: Vec::new(),
        background: Vec::new(),
        resolved: Vec::new(),
        checkout_ping: config.checkout_ping.unwrap_or(!files_turn_checks_off),
        copies: Copies::default(),
        check_unrouted: config.check_unrouted,
        unmatched_routes: Vec::new(),
        cached_lookups: 0,
        assumed_implementations: BTreeMap::new(),
        assumed_cfgs: 0,
    };
    model.cached_lookups = assume_cache(&mut model, config.cache_misses);
    model.assumed_cfgs = assume_build(&mut model, config.build.as_ref());
    (model.routes, model.static_routes) = routes(&model, &index);
    model.unmatched_routes = declare_routes(&mut model, &config.routes);
    model.inline_budgets = inline_budgets(&model);
    add_extractors(&mut model);
    let entries: Vec<usize> = model.checked_routes().map(|r| r.handler).collect();
    // What spawned tasks reach: off the request path, but still checked for N+1.
    let spawned: Vec<usize> = (0..model.fns.len())
        .filter(|&id| model.func(id).detached && !model.func(id).is_test)
        .collect();
    // Every route's handler, also those listed and not checked: reports price them all.
    let roots: Vec<usize> = model
        .routes
        .iter()
        .map(|r| r.handler)
        .chain(spawned.clone())
        .collect();
    model.resolved = resolve_from(&mut model, &index, config, roots);
    classify_trips(&mut model, config);
    model.reachable = reached_from(&model, entries);
    model.background = reached_from(&model, spawned);
    // Only a choice that can change a price is worth saying: some implementation makes round trips.
    let mut io = IoReach::default();
    model.assumed_implementations = index
        .assumed_implementations()
        .into_iter()
        .filter(|(_, (_, fns))| fns.iter().any(|&f| io.reaches(&model, f)))
        .map(|(tr, (types, _))| (tr, types))
        .collect();
    (model, index)
}

/// Whether a function makes a network round trip, itself or through the calls it makes.
#[derive(Default)]
struct IoReach {
    known: HashMap<usize, bool>,
}

impl IoReach {
    fn reaches(&mut self, model: &Model, id: usize) -> bool {
        if let Some(&k) = self.known.get(&id) {
            return k;
        }
        // A cycle reached again adds nothing new.
        self.known.insert(id, false);
        let mut found = false;
        let mut callees = Vec::new();
        for step in &model.func(id).body {
            step.walk(&mut |s| match s {
                Step::Trip(t) if !t.in_process => found = true,
                Step::Call(c) => callees.extend(c.resolved),
                _ => {}
            });
        }
        found = found || callees.into_iter().any(|c| self.reaches(model, c));
        self.known.insert(id, found);
        found
    }
}

/// A cached lookup runs its loader only on a miss: `assume.cache` says which the price takes. With hits
/// the loader's arm is dropped; with misses it is the only way through.
fn assume_cache(model: &mut Model, misses: bool) -> usize {
    fn is_miss(arm: &[Step]) -> bool {
        matches!(
            arm.first(),
            Some(Step::Guard {
                on: crate::facts::Guarded::Cache,
                ..
            })
        )
    }
    let mut found = 0;
    for_each_branch(
        model,
        |f| f.cached_lookups,
        |alts| {
            if alts.iter().any(|a| is_miss(a)) {
                found += 1;
                alts.retain(|a| is_miss(a) == misses);
            }
        },
    );
    found
}

/// Drops the `#[cfg(..)]` arms the deployed build leaves out (`[build]`); returns how many guarded
/// branches still hold an arm whose predicate is unknown, and so are priced at their costliest.
fn assume_build(model: &mut Model, build: Option<&crate::build::Build>) -> usize {
    fn predicate(arm: &[Step]) -> Option<&str> {
        match arm.first() {
            Some(Step::Guard {
                on: crate::facts::Guarded::Cfg,
                pattern,
            }) => Some(pattern),
            _ => None,
        }
    }
    let mut unknown = 0;
    for_each_branch(
        model,
        |f| f.cfg_guards,
        |alts| {
            let holds: Vec<Option<Option<bool>>> = alts
                .iter()
                .map(|a| predicate(a).map(|p| crate::build::holds(p, build)))
                .collect();
            if holds.iter().any(Option::is_some) {
                let mut keep = holds.iter().map(|h| *h != Some(Some(false)));
                alts.retain(|_| keep.next().unwrap_or(true));
                unknown += usize::from(holds.contains(&Some(None)));
            }
        },
    );
    unknown
}

/// Calls `edit` on the alternatives of every branch in the functions of the files `wanted` picks,
/// outer branches first; a branch left with no alternative keeps an empty one (nothing runs).
fn for_each_branch(
    model: &mut Model,
    wanted: impl Fn(&FileFacts) -> bool,
    mut edit: impl FnMut(&mut Vec<Vec<Step>>),
) {
    fn apply(seq: &mut [Step], edit: &mut impl FnMut(&mut Vec<Vec<Step>>)) {
        for step in seq.iter_mut() {
            if let Step::Branch(alts) = step {
                edit(alts);
                if alts.is_empty() {
                    alts.push(Vec::new());
                }
            }
            for child in step.children_mut() {
                apply(child, edit);
            }
        }
    }
    for file in model.files.iter_mut().filter(|f| wanted(f)) {
        for f in Arc::make_mut(file).functions.iter_mut() {
            apply(&mut f.body, &mut edit);
        }
    }
}

/// Mounts the handlers `[[routes]]` names: a handler listed without a route takes the declared one, any
/// other function of that name gets it besides. Returns the entries that name no function.
fn declare_routes(
    model: &mut Model,
    declared: &[crate::config::ManualRoute],
) -> Vec<crate::config::ManualRoute> {
    let mut unmatched = Vec::new();
    for d in declared {
        let wanted: Vec<&str> = d.handler.split("::").filter(|s| !s.is_empty()).collect();
        let named = |id: usize| {
            let name = model.qualified_name(id);
            let parts: Vec<&str> = name.split("::").collect();
            !model.func(id).is_test && parts.ends_with(&wanted)
        };
        let found: Vec<usize> = (0..model.fns.len())
            .filter(|&id| !model.copies.origin.contains_key(&id) && named(id))
            .collect();
        let [id] = found.as_slice() else {
            unmatched.push(d.clone());
            continue;
        };
        let route = Route {
            method: Some(d.method.clone()),
            path: Some(d.path.clone()),
            handler: *id,
        };
        match model
            .routes
            .iter_mut()
            .find(|r| r.handler == *id && r.path.is_none())
        {
            Some(unrouted) => *unrouted = route,
            None => model.routes.push(route),
        }
    }
    unmatched
}

/// Classifies the round trips of the functions on some path (see [`Model::resolved`]; the others are
/// read by no lint and no report, and stay as the files have them): their SQL (also through a
/// constant), read or write, and the database and role they go to.
fn classify_trips(model: &mut Model, config: &Config) {
    let consts = consts(&model.files);
    // Executors that queries go through with a connection check first: pools of such a library, whose
    // BEGIN checks the connection too. Gathered from every function: a pool is often made off the paths.
    let mut pinging: HashSet<String> = HashSet::new();
    for id in 0..model.fns.len() {
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Trip(t) = s {
                    if let (true, Some(e)) = (t.checkout, &t.executor) {
                        pinging.insert(e.clone());
                    }
                }
            });
        }
    }
    let mut by_fn = Vec::new();
    for id in (0..model.fns.len()).filter(|&id| model.resolved[id]) {
        // Round trips as the files have them; those made from client calls are classified already.
        let mut classified = Vec::new();
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Trip(t) = s {
                    if t.target.is_none() {
                        classified.push(classify(t, &consts, config));
                    }
                }
            });
        }
        // A function without round trips is left as it is (and its file shared, not copied).
        if !classified.is_empty() {
            by_fn.push((id, classified));
        }
    }
    drop(consts);
    for (id, classified) in by_fn {
        let f = fn_mut(&mut model.files, model.fns[id]);
        let mut trips = classified.into_iter();
        walk_mut(&mut f.body, &mut |s| {
            if let Step::Trip(t) = s {
                if t.target.is_some() {
                    return;
                }
                if t.kind == TripKind::Begin
                    && !t.on_connection
                    && !t.in_transaction
                    && t.executor.as_ref().is_some_and(|e| pinging.contains(e))
                {
                    t.checkout = true;
                }
                if let Some((text, access, target)) = trips.next() {
                    t.sql = text;
                    t.access = Some(access);
                    t.target = Some(target);
                }
            }
        });
    }
}

/// String constants of every file, by name, for SQL passed by name.
pub fn consts(files: &[Arc<FileFacts>]) -> HashMap<&str, &str> {
    files
        .iter()
        .flat_map(|f| f.consts.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .collect()
}

/// A round trip's SQL, access and target.
pub fn classify(
    t: &Trip,
    consts: &HashMap<&str, &str>,
    config: &Config,
) -> (Option<String>, Access, crate::config::Target) {
    let text = t.sql.clone().or_else(|| {
        t.sql_const
            .as_deref()
            .and_then(|c| consts.get(c))
            .map(|s| s.to_string())
    });
    let access = match (t.access, t.kind, &text) {
        (Some(fixed), _, _) => fixed,
        (None, TripKind::Query | TripKind::Prepare, Some(text)) => sql::classify(text).access,
        _ => Access::Write,
    };
    let mut target = if t.service {
        config.service_target(t.executor.as_deref())
    } else {
        config.target_for(t.executor.as_deref())
    };
    let named = t
        .database
        .as_deref()
        .and_then(|d| config.databases.iter().position(|x| x.name == d));
    if let Some(db) = named {
        target.db = db;
    }
    let pool_check = t.kind == TripKind::Check;
    if t.in_transaction
        || !(t.kind == TripKind::Query || pool_check)
        || access == Access::Write && !pool_check
    {
        target.role = Role::Primary;
    }
    (text, access, target)
}

/// A trait's implementations a call was priced over: their types' names, and their functions.
pub type Assumed = (BTreeSet<String>, BTreeSet<usize>);

/// What a call passes that decides which copy of its callee it runs.
struct CallSite {
    callee: Callee,
    consts: Vec<Option<String>>,
    /// The callee's type parameters the call binds (`Vec::new()` when none).
    types: Vec<(String, String)>,
    /// Already resolved for good: an extractor, or one implementation of several.
    fixed: bool,
}

/// Resolves the calls of the functions that `roots` reach, and only those: a call elsewhere is on no
/// path any lint or report follows, and resolving is most of the model's work on a large tree. An
/// awaited method of a client type becomes a round trip to that service.
fn resolve_from(
    model: &mut Model,
    index: &Index,
    config: &Config,
    roots: impl IntoIterator<Item = usize>,
) -> Vec<bool> {
    let mut done = vec![false; model.fns.len()];
    let mut stack: Vec<usize> = roots.into_iter().collect();
    while let Some(id) = stack.pop() {
        done.resize(model.fns.len(), false);
        if std::mem::replace(&mut done[id], true) {
            continue;
        }
        own_methods_over_catalog(model, index, id);
        let mut calls = Vec::new();
        // Per call, the implementations it may reach when it goes through a trait several types
        // implement: it becomes one branch per implementation.
        let mut alternatives: Vec<Vec<usize>> = Vec::new();
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Call(c) = s {
                    index.alternatives.borrow_mut().clear();
                    let resolved = match c.callee {
                        // Set when the handler's extractors were added, or one implementation of several.
                        _ if c.chosen => c.resolved,
                        Callee::Extractor(_) => c.resolved,
                        _ => index.resolve_call(&model.files, &model.fns, id, c),
                    };
                    // Implementations recorded while typing a receiver belong to another call.
                    let mut alts = std::mem::take(&mut *index.alternatives.borrow_mut());
                    if !resolved.is_some_and(|r| alts.contains(&r)) {
                        alts.clear();
                    }
                    alternatives.push(alts);
                    let hop = match resolved {
                        None => index.client_hop(&model.files, &model.fns, id, c, &config.catalog),
                        Some(_) => None,
                    };
                    let unresolved = resolved.is_none()
                        && hop.is_none()
                        && index.ambiguous(&model.files, &model.fns, id, c);
                    calls.push((resolved, hop, unresolved));
                }
            });
        }
        // Calls into copies: a handler's body, a default body for one type, a generic function run
        // with the types the caller binds.
        let mut sites: Vec<CallSite> = Vec::new();
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Call(c) = s {
                    let fixed = c.chosen || matches!(c.callee, Callee::Extractor(_));
                    let types = match calls[sites.len()].0 {
                        Some(target) if !fixed => {
                            index.bound_types(&model.files, &model.fns, id, c, target)
                        }
                        _ => Vec::new(),
                    };
                    sites.push(CallSite {
                        callee: c.callee.clone(),
                        consts: c.consts.iter().map(|t| index.with_defaults(t)).collect(),
                        types,
                        fixed,
                    });
                }
            });
        }
        for ((resolved, hop, _), site) in calls.iter_mut().zip(&sites) {
            if let (Some(target), None, false) = (*resolved, &*hop, site.fixed) {
                let target = with_types(model, target, &site.types);
                let target = redirect(model, id, &site.callee, target);
                *resolved = Some(with_constants(model, target, &site.consts));
            }
        }
        for (alts, site) in alternatives.iter_mut().zip(&sites) {
            for alt in alts.iter_mut() {
                let target = redirect(model, id, &site.callee, *alt);
                *alt = with_constants(model, target, &site.consts);
            }
        }
        stack.extend(calls.iter().filter_map(|(resolved, _, _)| *resolved));
        stack.extend(alternatives.iter().flatten().copied());
        // Facts come unresolved: a function whose calls all stay so is left as it is.
        if calls
            .iter()
            .all(|(resolved, hop, unresolved)| resolved.is_none() && hop.is_none() && !unresolved)
        {
            continue;
        }
        let f = fn_mut(&mut model.files, model.fns[id]);
        let mut calls = calls.into_iter();
        walk_mut(&mut f.body, &mut |s| {
            let Step::Call(c) = s else { return };
            match calls.next() {
                Some((_, Some(hop), _)) => {
                    let executor = match &c.callee {
                        Callee::Method { receiver, .. } => Some(receiver.join(".")),
                        _ => None,
                    };
                    let mut trip = Trip::bare(c.id, c.loc, hop.api);
                    trip.after = std::mem::take(&mut c.after);
                    trip.access = Some(Access::Write);
                    trip.service = hop.service;
                    trip.target = Some(if hop.service {
                        config.service_target(executor.as_deref())
                    } else {
                        config.target_for(executor.as_deref())
                    });
                    trip.executor = executor;
                    *s = Step::Trip(trip);
                }
                Some((resolved, None, unresolved)) => {
                    c.resolved = resolved;
                    // The visitor marks the calls it knows cannot be followed (a GraphQL executor).
                    c.unresolved = unresolved || c.opaque;
                }
                None => c.resolved = None,
            }
        });
        if alternatives.iter().any(|alts| alts.len() > 1) {
            branch_implementations(&mut f.body, &mut alternatives.into_iter());
        }
        // A call whose result the function matches on runs, in each arm, the callee's paths that yield
        // what the arm needs.
        stack.extend(distribute_outcomes(model, id));
    }
    done.resize(model.fns.len(), false);
    done
}

/// Turns each call through a trait several types implement into a branch with one call per
/// implementation, each kept as it is (`chosen`): the price takes the costliest, whichever it is deep
/// down, rather than a guess from the implementations' bodies.
/// `alternatives` holds, per call in the order [`Step::walk`] meets them, the implementations it may
/// reach.
fn branch_implementations(seq: &mut [Step], alternatives: &mut impl Iterator<Item = Vec<usize>>) {
    for step in seq.iter_mut() {
        if let Step::Call(c) = step {
            let alts = alternatives.next().unwrap_or_default();
            if alts.len() > 1 && !c.chosen {
                let arms = alts
                    .iter()
                    .map(|&alt| {
                        let mut one = c.clone();
                        one.resolved = Some(alt);
                        one.chosen = true;
                        vec![Step::Call(one)]
                    })
                    .collect();
                *step = Step::Branch(arms);
            }
            continue;
        }
        for child in step.children_mut() {
            branch_implementations(child, alternatives);
        }
    }
}

/// A round trip matched by a method's name alone (`folder.delete(&mut conn)`, sea-orm's `model.delete(db)`)
/// on a receiver of the analysed code's own type that has a method of that name is a call to that method.
fn own_methods_over_catalog(model: &mut Model, index: &Index, id: usize) {
    let mut own = Vec::new();
    for step in &model.func(id).body {
        step.walk(&mut |s| {
            if let Step::Trip(t) = s {
                if let Some(callee) = &t.or_method {
                    own.push(index.own_method(&model.files, &model.fns, id, callee));
                }
            }
        });
    }
    if !own.iter().any(|o| *o) {
        return;
    }
    let f = fn_mut(&mut model.files, model.fns[id]);
    let mut own = own.into_iter();
    walk_mut(&mut f.body, &mut |s| {
        let Step::Trip(t) = s else { return };
        if t.or_method.is_none() || !own.next().unwrap_or(false) {
            return;
        }
        let Some(callee) = t.or_method.take() else {
            return;
        };
        *s = Step::Call(crate::facts::Call {
            id: t.id,
            loc: t.loc,
            callee,
            awaited: true,
            after: std::mem::take(&mut t.after),
            resolved: None,
            unresolved: false,
            on_connection: t.on_connection,
            consts: Vec::new(),
            turbofish: Vec::new(),
            arg_paths: Vec::new(),
            qself: None,
            opaque: false,
            chosen: false,
            propagates: false,
        });
    });
}

/// Budgets written above handlers (`// hopcheck: budget(400ms)`), by function.
fn inline_budgets(model: &Model) -> std::collections::HashMap<usize, f64> {
    // Each file's directives once: budgets by the `fn` line they stand above.
    let mut by_line: std::collections::HashMap<(usize, u32), f64> =
        std::collections::HashMap::new();
    let handler_files: std::collections::HashSet<usize> = model
        .routes
        .iter()
        .map(|r| model.fns[r.handler].file)
        .collect();
    for (index, file) in model.files.iter().enumerate() {
        if !handler_files.contains(&index) || !file.has_directives {
            continue;
        }
        for d in crate::facts::directives::directives(&file.source) {
            if let (crate::facts::directives::DirectiveKind::Budget(ms), Some(line)) =
                (&d.kind, d.function_line)
            {
                by_line.insert((index, line), *ms);
            }
        }
    }
    model
        .fns
        .iter()
        .enumerate()
        .filter_map(|(id, r)| {
            let line = model.files[r.file].functions[r.index].fn_line;
            by_line.get(&(r.file, line)).map(|ms| (id, *ms))
        })
        .collect()
}

/// For each call whose result an `if let`/`match` of the same sequence tests (`match reserve(..).await?
/// { Next::Replay(r) => return Ok(r), Next::Fresh => {} }`), the call moves into each arm as a copy of
/// the callee that keeps only the paths yielding what the arm needs: the callee's costly path that makes
/// the caller return is no longer joined with what the caller does after. Returns the copies made.
fn distribute_outcomes(model: &mut Model, id: usize) -> Vec<usize> {
    use crate::facts::Guarded;
    // What each tested call reaches, and the patterns its arms need.
    let mut targets: HashMap<u32, usize> = HashMap::new();
    let mut wanted: Vec<(u32, String)> = Vec::new();
    for step in &model.func(id).body {
        step.walk(&mut |s| match s {
            Step::Call(c) => {
                if let Some(t) = c.resolved {
                    targets.insert(c.id, t);
                }
            }
            Step::Guard {
                on: Guarded::Outcome(call),
                pattern,
            } => wanted.push((*call, pattern.clone())),
            _ => {}
        });
    }
    let mut copies: HashMap<(u32, String), usize> = HashMap::new();
    let mut made = Vec::new();
    let origin = |model: &Model, f: usize| model.recursion_key(f);
    for (call, pattern) in wanted {
        let Some(&target) = targets.get(&call) else {
            continue;
        };
        // A recursive call stays one: its cost is on the path once, whatever it yields.
        if origin(model, target) == origin(model, id) {
            continue;
        }
        let Some((copy, new, _)) = outcome_copy(model, target, &pattern) else {
            continue;
        };
        if new {
            made.push(copy);
        }
        copies.insert((call, pattern), copy);
    }
    let split = split_propagating(model, id, &mut made);
    if copies.is_empty() && split.is_empty() {
        return made;
    }
    let yielding = model.copies.yielding.get(&id).cloned();
    let f = fn_mut(&mut model.files, model.fns[id]);
    distribute_in(&mut f.body, &copies);
    split_in(&mut f.body, &split);
    // A copy run for one outcome keeps, of the arms just made, those that can end with it.
    if let Some(pattern) = yielding {
        restrict_to(&mut f.body, &pattern);
    }
    made
}

/// Splits each call of `split` in `seq`: where the callee succeeds, the rest of the sequence follows;
/// where it fails, the function ends.
fn split_in(seq: &mut Vec<Step>, split: &Split) {
    for i in 0..seq.len() {
        let found = match &seq[i] {
            Step::Call(c) if c.propagates => {
                c.resolved.and_then(|t| split.get(&(c.id, t)).copied())
            }
            _ => None,
        };
        let Some((ok, failed)) = found else {
            for child in seq[i].children_mut() {
                split_in(child, split);
            }
            continue;
        };
        let mut rest: Vec<Step> = seq.drain(i..).collect();
        let Step::Call(mut on_ok) = rest.remove(0) else {
            return;
        };
        on_ok.resolved = Some(ok);
        on_ok.propagates = false;
        split_in(&mut rest, split);
        let Some(failed) = failed else {
            seq.push(Step::Call(on_ok));
            seq.append(&mut rest);
            return;
        };
        let mut on_err = on_ok.clone();
        on_err.resolved = Some(failed);
        let mut arm = vec![Step::Call(on_ok)];
        arm.append(&mut rest);
        seq.push(Step::Branch(vec![
            arm,
            vec![Step::Call(on_err), Step::Yields("Err".into()), Step::Exit],
        ]));
        return;
    }
}

/// (call, the function it reaches) → (that function on its successful paths, on its failing ones where
/// it has any). A call through a trait object reaches several, one per branch.
type Split = HashMap<(u32, usize), (usize, Option<usize>)>;

/// The calls of function `id` that end it where they fail (`helper(..).await?`) and whose callee's
/// successful paths are not all of its paths. The function goes on after the first only.
fn split_propagating(model: &mut Model, id: usize, made: &mut Vec<usize>) -> Split {
    let mut calls = Vec::new();
    for step in &model.func(id).body {
        step.walk(&mut |s| match s {
            Step::Call(c) if c.propagates => calls.extend(c.resolved.map(|t| (c.id, t))),
            _ => {}
        });
    }
    let mut split = HashMap::new();
    for (call, target) in calls {
        if model.recursion_key(target) == model.recursion_key(id) {
            continue;
        }
        let Some((ok, new, _)) = outcome_copy(model, target, crate::facts::SUCCEEDS) else {
            continue;
        };
        if new {
            made.push(ok);
        }
        // Where every path can succeed, failing costs no more than going on.
        if ok == target {
            continue;
        }
        let Some((failed, new, fails)) = outcome_copy(model, target, crate::facts::FAILS) else {
            continue;
        };
        if new {
            made.push(failed);
        }
        split.insert((call, target), (ok, fails.then_some(failed)));
    }
    split
}

fn distribute_in(seq: &mut Vec<Step>, copies: &HashMap<(u32, String), usize>) {
    use crate::facts::Guarded;
    let mut i = 0;
    while i < seq.len() {
        let tested = match &seq[i] {
            Step::Call(c) if copies.keys().any(|(call, _)| *call == c.id) => Some(c.id),
            _ => None,
        };
        let found = tested.and_then(|call| {
            let j = (i + 1..seq.len()).find(|&j| {
                matches!(&seq[j], Step::Branch(alts) if alts.iter().any(|a| matches!(
                    a.first(),
                    Some(Step::Guard { on: Guarded::Outcome(c), .. }) if *c == call
                )))
            })?;
            Some((call, j))
        });
        if let Some((call, j)) = found {
            let mut taken: Vec<Step> = seq.drain(i..=j).collect();
            let Some(Step::Branch(alts)) = taken.pop() else {
                break;
            };
            let Step::Call(first) = taken.remove(0) else {
                break;
            };
            let arms = alts
                .into_iter()
                .map(|arm| {
                    let pattern = match arm.first() {
                        Some(Step::Guard {
                            on: Guarded::Outcome(c),
                            pattern,
                        }) if *c == call => Some(pattern.clone()),
                        _ => None,
                    };
                    let mut c = first.clone();
                    if let Some(&copy) = pattern.and_then(|p| copies.get(&(call, p))) {
                        c.resolved = Some(copy);
                    }
                    let mut out = vec![Step::Call(c)];
                    out.extend(taken.iter().cloned());
                    out.extend(arm);
                    out
                })
                .collect();
            seq.insert(i, Step::Branch(arms));
        }
        for child in seq[i].children_mut() {
            distribute_in(child, copies);
        }
        i += 1;
    }
}

/// Keeps, in every `if`/`match`, the arms from which the function can end yielding what `pattern`
/// admits: by an exit inside the arm (`helper().await?` failing, `return Err(..)`), or by going on to
/// an end that yields it.
/// Returns whether it left out any arm, and whether any path can still yield it.
fn restrict_to(seq: &mut [Step], pattern: &str) -> (bool, bool) {
    let mut pruned = false;
    let admits = restrict_seq(seq, pattern, true, &mut pruned);
    (pruned, admits)
}

/// Restricts `seq`; `end_admits` says whether going past its end can still yield what `pattern` admits.
/// Returns whether any path through `seq` can. An `if`/`match` none of whose arms can keeps one empty
/// arm, and the path through it is then one the function does not take.
fn restrict_seq(seq: &mut [Step], pattern: &str, end_admits: bool, pruned: &mut bool) -> bool {
    let mut admits = end_admits;
    for i in (0..seq.len()).rev() {
        let ends = i + 1 == seq.len() || matches!(seq[i + 1], Step::Exit);
        match &mut seq[i] {
            // Where a path ends, what it yields decides, whatever comes after.
            Step::Yields(y) if ends => admits = outcome_admits(pattern, y),
            // `helper(..).await?`: the function may end here, failing.
            Step::Call(c) if c.propagates => admits |= outcome_admits(pattern, "Err"),
            Step::Branch(alts) => {
                let mut any = false;
                let arms = alts.len();
                alts.retain_mut(|arm| {
                    let keep = restrict_seq(arm, pattern, admits, pruned);
                    any |= keep;
                    keep
                });
                *pruned |= alts.len() < arms;
                if alts.is_empty() {
                    alts.push(Vec::new());
                }
                admits = any;
            }
            // A loop's body and the branches of a join go on to what follows them: their arms that
            // leave the function are kept as their yields say.
            step => {
                for child in step.children_mut() {
                    restrict_seq(child, pattern, true, pruned);
                }
            }
        }
    }
    admits
}

/// A constant handed on from the caller's parameter (`param:2`), or from a field of it (`param:2.page_cursor`).
fn handed_on(value: &str) -> Option<(usize, Option<&str>)> {
    let rest = value.strip_prefix("param:")?;
    match rest.split_once('.') {
        Some((p, field)) => Some((p.parse().ok()?, Some(field))),
        None => Some((rest.parse().ok()?, None)),
    }
}

/// What a struct value (`{GetUser..;use_resolver=false}`) holds in `field`, if it says.
fn struct_field<'v>(value: &'v str, field: &str) -> Option<&'v str> {
    let inner = value.strip_prefix('{')?.strip_suffix('}')?;
    inner
        .split(';')
        .skip(1)
        .find_map(|kv| kv.strip_prefix(field)?.strip_prefix('='))
}

/// Does an arm that needs `pattern` run when the callee yields `value`? `Ok(x)`/`Some(x)` (and a plain
/// `Ok` yield) stand for any value but an error or a `None`.
fn outcome_admits(pattern: &str, value: &str) -> bool {
    let plain = |t: &str| !matches!(t, "Err" | "None" | "Forward");
    if pattern == crate::facts::FAILS {
        return !plain(value);
    }
    match pattern.strip_prefix('!') {
        Some(not) => not != value,
        None if pattern == value => true,
        None if matches!(pattern, "Ok" | "Some") => plain(value),
        // `Ok(x)` of a value whose shape the code does not show may hold a `None`.
        None if pattern == "None" => value == "Ok",
        None => matches!(value, "Ok" | "Some") && plain(pattern),
    }
}

/// A generic function run with the types a caller binds its own type parameters to (`types`, from a
/// turbofish or from the arguments' types): a copy in which those parameters name the types, so that
/// `T::from_id(..)` and `input.into_mastodon(..)` reach that type's implementation.
fn with_types(model: &mut Model, target: usize, types: &[(String, String)]) -> usize {
    if types.is_empty() {
        return target;
    }
    let key = (target, types.to_vec());
    if let Some(&copy) = model.copies.by_types.get(&key) {
        return copy;
    }
    let copy = add_copy(model, target, |f| {
        for (param, ty) in types {
            let bound = format!("={ty}");
            match f.generics.iter_mut().find(|(g, _)| g == param) {
                Some(entry) => entry.1 = bound,
                None => f.generics.push((param.clone(), bound)),
            }
        }
    });
    model.copies.by_types.insert(key, copy);
    copy
}

/// The function a call reaches, run with the constants it passes (`owner_json(db, Some(o), id)`,
/// `remove_members(db, ws, &[email])`): a copy without the arms of `if`/`match` on those parameters that
/// the constants rule out, and with loops over a literal list run as many times as it holds.
fn with_constants(model: &mut Model, target: usize, consts: &[Option<String>]) -> usize {
    if consts.iter().flatten().all(|c| c.starts_with("param:")) {
        return target;
    }
    let mut used: Vec<Option<String>> = vec![None; consts.len()];
    for step in &model.func(target).body {
        step.walk(&mut |s| {
            let mut params = Vec::new();
            match s {
                Step::Guard {
                    on: crate::facts::Guarded::Param(param),
                    ..
                } => params.push(*param),
                Step::Loop(l) => params.extend(l.over_param),
                // Handed on to a call.
                Step::Call(c) => params.extend(
                    c.consts
                        .iter()
                        .flatten()
                        .filter_map(|v| handed_on(v).map(|(p, _)| p)),
                ),
                _ => {}
            }
            for p in params.into_iter().filter(|&p| p < consts.len()) {
                used[p] = consts[p].clone().filter(|c| !c.starts_with("param:"));
            }
        });
    }
    if used.iter().all(Option::is_none) {
        return target;
    }
    if let Some(&copy) = model.copies.by_constants.get(&(target, used.clone())) {
        return copy;
    }
    let copy = add_copy(model, target, |f| prune_by_constants(&mut f.body, &used));
    model.copies.by_constants.insert((target, used), copy);
    copy
}

fn prune_by_constants(seq: &mut [Step], consts: &[Option<String>]) {
    for step in seq.iter_mut() {
        match step {
            Step::Branch(alts) => {
                alts.retain(|alt| match alt.first() {
                    Some(Step::Guard {
                        on: crate::facts::Guarded::Param(param),
                        pattern,
                    }) => match consts.get(*param) {
                        Some(Some(value)) => pattern_admits(pattern, value),
                        _ => true,
                    },
                    _ => true,
                });
                if alts.is_empty() {
                    alts.push(Vec::new());
                }
            }
            // A parameter this function hands on passes the constant it holds here.
            Step::Call(c) => {
                for value in c.consts.iter_mut() {
                    if let Some((p, field)) = value.as_deref().and_then(handed_on) {
                        let held = consts.get(p).cloned().flatten();
                        // `&self.page_cursor`: that field of the struct the caller spelled.
                        *value = match field {
                            Some(f) => held
                                .as_deref()
                                .and_then(|h| struct_field(h, f))
                                .filter(|v| *v != "?")
                                .map(String::from),
                            None => held,
                        };
                    }
                }
            }
            Step::Loop(l) => {
                let len = l
                    .over_param
                    .and_then(|p| const_len(consts.get(p)?.as_deref()?));
                if let Some(n) = len {
                    l.count = Some(n);
                }
            }
            _ => {}
        }
        for child in step.children_mut() {
            prune_by_constants(child, consts);
        }
    }
}

/// Does an arm that needs `pattern` (`Some`, `!Some`, `true`, a variant) run when the parameter holds
/// `value`? A list's length says nothing of its arms.
fn pattern_admits(pattern: &str, value: &str) -> bool {
    // `.domain=Some`: a field of a struct whose fields the caller spells (`{GetUser..;domain=None}`).
    if let Some(test) = pattern.strip_prefix('.') {
        let Some((field, needs)) = test.split_once('=') else {
            return true;
        };
        return match struct_field(value, field) {
            Some(held) if held != "?" => pattern_admits(needs, held),
            _ => true,
        };
    }
    if value.starts_with("len=") || value.starts_with('{') {
        return true;
    }
    // `Some|len=1`: a `Some` of a one-element list.
    let value = value.split('|').next().unwrap_or(value);
    match pattern.strip_prefix('!') {
        Some(not) => not != value,
        None => pattern == value,
    }
}

/// How many items a constant list holds: `len=3`, or `Some|len=1` for `Some(vec![x])`.
fn const_len(value: &str) -> Option<u32> {
    value
        .split('|')
        .find_map(|part| part.strip_prefix("len=")?.parse().ok())
}

/// Marks every function that some entry point reaches.
fn reached_from(model: &Model, entries: impl IntoIterator<Item = usize>) -> Vec<bool> {
    let mut marked = vec![false; model.fns.len()];
    for entry in entries {
        for f in model.reach(entry) {
            marked[f] = true;
        }
    }
    marked
}

/// Traits whose implementations turn a request into a handler argument.
const EXTRACTOR_TRAITS: &[&str] = &[
    "FromRequestParts",
    "FromRequest",
    "OptionalFromRequestParts",
    "OptionalFromRequest",
];

/// A handler's extractors run before its body: their round trips go first on its path, as calls.
fn add_extractors(model: &mut Model) {
    let mut by_type: HashMap<String, Vec<usize>> = HashMap::new();
    for id in 0..model.fns.len() {
        let f = model.func(id);
        let is_extractor = f
            .trait_name
            .as_deref()
            .is_some_and(|t| EXTRACTOR_TRAITS.contains(&t))
            && matches!(f.name.as_str(), "from_request_parts" | "from_request");
        if let (true, Some(ty)) = (is_extractor, &f.self_ty) {
            by_type.entry(ty.clone()).or_default().push(id);
        }
    }
    // A parameter typed by an alias of an extractor (`type Auth = AuthExtractor<false>;`).
    let aliases: HashMap<&str, &str> = model
        .files
        .iter()
        .flat_map(|f| f.types.iter())
        .filter_map(|t| Some((t.name.as_str(), t.alias.as_deref()?)))
        .collect();
    let by_alias: Vec<(String, Vec<usize>)> = aliases
        .iter()
        .filter_map(|(alias, target)| Some((alias.to_string(), by_type.get(*target)?.clone())))
        .collect();
    for (alias, ids) in by_alias {
        by_type.entry(alias).or_insert(ids);
    }
    // Two crates of a workspace may each have an extractor of that name: the handler's own crate's.
    let crate_of = |model: &Model, id: usize| crate_dir(&model.file_of(id).path).to_string();
    if by_type.is_empty() {
        return;
    }
    let handlers: HashSet<usize> = model.routes.iter().map(|r| r.handler).collect();
    for h in handlers {
        let mut calls: Vec<Step> = Vec::new();
        let params = model.func(h).param_types.clone();
        for (i, (ty, loc)) in params.iter().enumerate() {
            // The handler's own module's extractor first (two modules may each define a
            // `PageContext`), then its crate's.
            let found = by_type.get(ty).and_then(|ids| {
                let module = &model.func(h).module;
                ids.iter()
                    .copied()
                    .find(|&id| model.func(id).module == *module)
                    .or_else(|| {
                        ids.iter()
                            .copied()
                            .find(|&id| crate_of(model, id) == crate_of(model, h))
                    })
                    .or(ids.first().copied())
            });
            if let Some(target) = found {
                let call = |resolved: usize| {
                    Step::Call(crate::facts::Call {
                        id: u32::MAX - i as u32,
                        loc: *loc,
                        callee: Callee::Extractor(ty.clone()),
                        awaited: true,
                        after: Vec::new(),
                        resolved: Some(resolved),
                        unresolved: false,
                        on_connection: false,
                        consts: Vec::new(),
                        turbofish: Vec::new(),
                        arg_paths: Vec::new(),
                        qself: None,
                        opaque: false,
                        chosen: false,
                        propagates: false,
                    })
                };
                // The handler runs only where its extractors succeed; where one fails, the request
                // ends there.
                match outcome_copies(model, target) {
                    Some((ok, failed)) => calls.push(Step::Branch(vec![
                        vec![call(ok)],
                        vec![call(failed), Step::Exit],
                    ])),
                    None => calls.push(call(target)),
                }
            }
        }
        if calls.is_empty() {
            continue;
        }
        // Another function calling the handler hands it values it already has: it runs the body alone.
        let body = add_copy(model, h, |_| {});
        model.copies.handler_bodies.insert(h, body);
        let f = fn_mut(&mut model.files, model.fns[h]);
        calls.append(&mut f.body);
        f.body = calls;
    }
}

/// Function `id` run on its paths that yield success (a value, `Ok`, rocket's `Success`), and on those
/// that fail (an error, `None`, rocket's `Forward`): what a caller that goes on only on success pays
/// before it goes on, and where it stops. None when the function's paths yield nothing it can tell.
fn outcome_copies(model: &mut Model, id: usize) -> Option<(usize, usize)> {
    let (ok, _, _) = outcome_copy(model, id, crate::facts::SUCCEEDS)?;
    let (failed, _, _) = outcome_copy(model, id, crate::facts::FAILS)?;
    Some((ok, failed))
}

/// Function `id` run only on its paths that can end yielding what `pattern` admits: a copy, made once
/// per function and pattern (the function itself where all its paths can), whether it was made now, and
/// whether any path yields it. None when its paths yield nothing it can tell.
fn outcome_copy(model: &mut Model, id: usize, pattern: &str) -> Option<(usize, bool, bool)> {
    let key = (id, pattern.to_string());
    if let Some(&(copy, admits)) = model.copies.by_outcome.get(&key) {
        return Some((copy, false, admits));
    }
    let mut yields = false;
    for step in &model.func(id).body {
        step.walk(&mut |s| yields |= matches!(s, Step::Yields(_)));
    }
    if !yields {
        return None;
    }
    let mut body = model.func(id).body.clone();
    let (pruned, admits) = restrict_to(&mut body, pattern);
    if !pruned {
        model.copies.by_outcome.insert(key, (id, admits));
        return Some((id, false, admits));
    }
    let copy = add_copy(model, id, |f| f.body = body);
    model.copies.yielding.insert(copy, pattern.to_string());
    model.copies.by_outcome.insert(key, (copy, admits));
    Some((copy, true, admits))
}

/// Adds a copy of function `id` (in the same file, at the same place), changed by `edit`; returns its id.
/// Copies are not in the [`Index`]: only the model's redirections reach them.
fn add_copy(model: &mut Model, id: usize, edit: impl FnOnce(&mut FnFacts)) -> usize {
    let r = model.fns[id];
    let mut f = model.func(id).clone();
    edit(&mut f);
    let file = Arc::make_mut(&mut model.files[r.file]);
    file.functions.push(f);
    model.fns.push(FnRef {
        file: r.file,
        index: file.functions.len() - 1,
    });
    let copy = model.fns.len() - 1;
    let origin = model.copies.origin.get(&id).copied().unwrap_or(id);
    model.copies.origin.insert(copy, origin);
    if let Some(&key) = model.copies.recurs_as.get(&id) {
        model.copies.recurs_as.insert(copy, key);
    }
    copy
}

/// Where a call resolved to `target` really goes: the body of a handler without its extractors, or a
/// trait's default body specialised for the type the call names (`Post::paginate(..)`, or `Self::` in
/// a copy already specialised).
fn redirect(model: &mut Model, caller: usize, callee: &Callee, target: usize) -> usize {
    if let Some(&body) = model.copies.handler_bodies.get(&target) {
        return body;
    }
    let f = model.func(target);
    let default_of = match (&f.self_ty, &f.trait_name) {
        (Some(ty), Some(tr)) if ty == tr => tr.clone(),
        _ => return target,
    };
    let Callee::Path(segs) = callee else {
        return target;
    };
    let [ty, _] = segs.as_slice() else {
        return target;
    };
    let ty = if ty == "Self" {
        match &model.func(caller).self_ty {
            Some(t) => t.clone(),
            None => return target,
        }
    } else {
        ty.clone()
    };
    if ty == default_of {
        return target;
    }
    if let Some(&copy) = model.copies.specialised.get(&(target, ty.clone())) {
        return copy;
    }
    let copy = add_copy(model, target, |f| f.self_ty = Some(ty.clone()));
    model.copies.recurs_as.insert(copy, copy);
    model.copies.specialised.insert((target, ty), copy);
    copy
}

/// A function to annotate: its file is copied first if the language server's cache shares it.
fn fn_mut(files: &mut [Arc<FileFacts>], r: FnRef) -> &mut FnFacts {
    &mut Arc::make_mut(&mut files[r.file]).functions[r.index]
}

/// Files that are modules declared `#[cfg(test)] mod x;` elsewhere hold only test code.
fn mark_test_files(files: &mut [Arc<FileFacts>]) {
    let test_mods: Vec<Vec<String>> = files
        .iter()
        .flat_map(|f| f.test_modules.iter().cloned())
        .collect();
    if test_mods.is_empty() {
        return;
    }
    for file in files {
        let unmarked = file.functions.iter().any(|f| !f.is_test);
        if unmarked && test_mods.iter().any(|m| file.module.starts_with(m)) {
            let file = Arc::make_mut(file);
            file.functions.iter_mut().for_each(|f| f.is_test = true);
        }
    }
}

/// An awaited call on a client type, to be priced as a round trip.
struct ClientHop {
    api: String,
    service: bool,
}

/// A path resolution's key: (file, module of the caller, the type `Self` stands for there, the path as
/// written). A trait's default body is specialised per implementing type, so `Self::` differs per copy.
type PathKey = (usize, Vec<String>, Option<String>, Vec<String>);

/// How deep re-exports and aliases are followed.
const MAX_ALIAS_DEPTH: usize = 8;

/// Name lookups over all functions, modules, `use` declarations and types.
pub struct Index {
    by_name: FxHashMap<String, Vec<usize>>,
    /// (module, name) → free functions.
    by_path: FxHashMap<(Vec<String>, String), Vec<usize>>,
    /// (type, name) → its associated functions and methods (trait default bodies under the trait).
    assoc: FxHashMap<(String, String), Vec<usize>>,
    /// Module → its `use` declarations as (local name, absolute path); globs have the name `*`.
    uses: FxHashMap<Vec<String>, Vec<(String, Vec<String>)>>,
    /// Every module path that holds a function, and its prefixes.
    modules: FxHashSet<Vec<String>>,
    /// Struct name → field → type name.
    fields: FxHashMap<String, FxHashMap<String, String>>,
    /// Type alias → the type it names.
    aliases: FxHashMap<String, String>,
    /// Struct → what its fields hold where the code leaves them out (`TypeFacts::defaults`).
    defaults: FxHashMap<String, Vec<(String, String)>>,
    /// `impl Deref for State { type Target = Inner; }`: State → Inner.
    derefs: FxHashMap<String, String>,
    /// The analysed code's traits.
    traits: FxHashSet<String>,
    /// Trait → the traits it requires (`trait FullRepo: AliasRepo + HashRepo`).
    supertraits: FxHashMap<String, Vec<String>>,
    /// Trait → how many types of the analysed code implement it.
    implementors: FxHashMap<String, usize>,
    /// Static or constant → the type of its value.
    statics: FxHashMap<String, String>,
    /// Type → the traits it implements.
    traits_of: FxHashMap<String, FxHashSet<String>>,
    /// Every type the analysed code defines or implements.
    known_types: FxHashSet<String>,
    /// The crate folder of each function's file (`crates/api/` for `crates/api/src/x.rs`), to prefer
    /// functions of the caller's crate when a workspace repeats module paths.
    crate_of: Vec<String>,
    file_of: Vec<usize>,
    /// Method names the catalog says are never the analysed code's (channels, locks, HTTP bodies).
    quiet: FxHashSet<String>,
    /// Path resolutions already made, by (file, module, path): the same calls (`Ok(..)`, `Vec::new()`)
    /// recur throughout a file.
    path_cache: std::cell::RefCell<FxHashMap<PathKey, Option<usize>>>,
    /// Functions the catalog says are never round trips, as written there (`cache::get_or_load`).
    quiet_functions: Vec<String>,
    /// `[implementations]`: the type a trait object or generic stands for (`MCDatabase` → `Postgres`).
    implementations: BTreeMap<String, String>,
    /// Traits whose costliest implementation was taken, not knowing which one is deployed, with the
    /// implementing types seen.
    assumed: std::cell::RefCell<BTreeMap<String, Assumed>>,
    /// The implementations the last resolved call may reach, when it goes through a trait object or a
    /// generic that several types implement and `[implementations]` does not pick one.
    alternatives: std::cell::RefCell<Vec<usize>>,
}

impl Index {
    fn new(files: &[Arc<FileFacts>], fns: &[FnRef], catalog: &crate::catalog::Catalog) -> Index {
        let mut index = Index {
            by_name: FxHashMap::default(),
            by_path: FxHashMap::default(),
            assoc: FxHashMap::default(),
            uses: FxHashMap::default(),
            modules: FxHashSet::default(),
            fields: FxHashMap::default(),
            aliases: FxHashMap::default(),
            defaults: FxHashMap::default(),
            derefs: FxHashMap::default(),
            traits: FxHashSet::default(),
            supertraits: FxHashMap::default(),
            implementors: FxHashMap::default(),
            statics: FxHashMap::default(),
            traits_of: FxHashMap::default(),
            known_types: FxHashSet::default(),
            crate_of: fns
                .iter()
                .map(|r| crate_dir(&files[r.file].path).to_string())
                .collect(),
            file_of: fns.iter().map(|r| r.file).collect(),
            quiet: catalog.quiet_methods.iter().cloned().collect(),
            path_cache: std::cell::RefCell::new(FxHashMap::default()),
            quiet_functions: catalog.quiet_functions.clone(),
            implementations: BTreeMap::new(),
            assumed: std::cell::RefCell::new(BTreeMap::new()),
            alternatives: std::cell::RefCell::new(Vec::new()),
        };
        for (id, r) in fns.iter().enumerate() {
            let f = &files[r.file].functions[r.index];
            index.add_module(&f.module);
            if let Some(t) = &f.self_ty {
                index.known_types.insert(t.clone());
            }
            if f.is_test {
                continue;
            }
            index.by_name.entry(f.name.clone()).or_default().push(id);
            if let Some(t) = &f.self_ty {
                index
                    .assoc
                    .entry((t.clone(), f.name.clone()))
                    .or_default()
                    .push(id);
            }
            if f.self_ty.is_none() {
                index
                    .by_path
                    .entry((f.module.clone(), f.name.clone()))
                    .or_default()
                    .push(id);
            }
        }
        for file in files {
            index.add_module(&file.module);
            index.statics.extend(file.statics.iter().cloned());
            for t in &file.types {
                index.known_types.insert(t.name.clone());
                if let Some(a) = &t.alias {
                    index.aliases.insert(t.name.clone(), a.clone());
                }
                if t.is_trait {
                    index.traits.insert(t.name.clone());
                    if !t.supertraits.is_empty() {
                        index
                            .supertraits
                            .insert(t.name.clone(), t.supertraits.clone());
                    }
                }
                if let Some(target) = &t.deref {
                    index.derefs.insert(t.name.clone(), target.clone());
                }
                let fields = index.fields.entry(t.name.clone()).or_default();
                fields.extend(t.fields.iter().cloned());
                if !t.defaults.is_empty() {
                    index.defaults.insert(t.name.clone(), t.defaults.clone());
                }
            }
            for (ty, tr) in &file.impls {
                let new = index
                    .traits_of
                    .entry(ty.clone())
                    .or_default()
                    .insert(tr.clone());
                if new {
                    *index.implementors.entry(tr.clone()).or_default() += 1;
                }
                index.known_types.insert(ty.clone());
                // A trait the analysed code implements (its own or another crate's): a receiver bound by
                // it reaches those implementations.
                index.known_types.insert(tr.clone());
            }
        }
        for file in files {
            for u in &file.uses {
                let abs = index.absolutize(&u.module, &u.path);
                index
                    .uses
                    .entry(u.module.clone())
                    .or_default()
                    .push((u.name.clone(), abs));
            }
        }
        index
    }

    /// Records a module path and its prefixes (allocating only for those not seen yet).
    fn add_module(&mut self, module: &[String]) {
        for n in (0..=module.len()).rev() {
            if self.modules.contains(&module[..n]) {
                break;
            }
            self.modules.insert(module[..n].to_vec());
        }
    }

    /// A path written in `module` as an absolute module path: `crate::a` → `a`, `self::a` and child
    /// modules → `module::a`, `super::a` → the parent's `a`; anything else is taken as written.
    fn absolutize(&self, module: &[String], path: &[String]) -> Vec<String> {
        let Some(first) = path.first() else {
            return Vec::new();
        };
        match first.as_str() {
            "crate" => path[1..].to_vec(),
            "self" => module.iter().chain(&path[1..]).cloned().collect(),
            "super" => {
                let mut m = module.to_vec();
                let mut rest = path;
                while rest.first().map(String::as_str) == Some("super") {
                    m.pop();
                    rest = &rest[1..];
                }
                m.into_iter().chain(rest.iter().cloned()).collect()
            }
            _ => {
                let child: Vec<String> = module
                    .iter()
                    .chain(std::iter::once(first))
                    .cloned()
                    .collect();
                if !module.is_empty() && self.modules.contains(&child) {
                    module.iter().chain(path).cloned().collect()
                } else {
                    path.to_vec()
                }
            }
        }
    }

    /// Which of `candidates` some call outside tests resolves to. Only calls that name one of them
    /// (directly, or through a `use .. as ..` rename) are resolved.
    fn called_among(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        candidates: &[usize],
    ) -> HashSet<usize> {
        let mut called = HashSet::new();
        if candidates.is_empty() {
            return called;
        }
        let func = |id: usize| &files[fns[id].file].functions[fns[id].index];
        let mut names: HashSet<&str> = candidates
            .iter()
            .map(|&id| func(id).name.as_str())
            .collect();
        for uses in self.uses.values() {
            for (name, path) in uses {
                if path.last() != Some(name) {
                    names.insert(name);
                }
            }
        }
        let wanted: HashSet<usize> = candidates.iter().copied().collect();
        for id in (0..fns.len()).filter(|&id| !func(id).is_test) {
            for step in &func(id).body {
                step.walk(&mut |s| {
                    let Step::Call(c) = s else { return };
                    let name = match &c.callee {
                        Callee::Path(segs) => segs.last(),
                        Callee::Method { name, .. } => Some(name),
                        Callee::Extractor(_) => None,
                    };
                    if name.is_some_and(|n| names.contains(n.as_str())) {
                        called.extend(
                            self.resolve_call(files, fns, id, c)
                                .filter(|t| wanted.contains(t)),
                        );
                    }
                });
            }
        }
        called
    }

    /// Resolves a call step: an awaited one to any function; one that is not awaited only to a
    /// synchronous function, and a method only through its receiver's known type (a bare name is too
    /// weak a clue for the many calls that are not awaited).
    fn resolve_call(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
    ) -> Option<usize> {
        let sync = |id: usize| {
            let r = fns[id];
            !files[r.file].functions[r.index].is_async
        };
        if let Callee::Path(segs) = &call.callee {
            let r = fns[caller];
            let from = &files[r.file].functions[r.index];
            let func = |id: usize| -> &FnFacts {
                let r = fns[id];
                &files[r.file].functions[r.index]
            };
            // `<T as Trait>::method(..)`, or `Trait::method(&value, ..)` on a value whose type is read:
            // that type's implementation.
            let ty = call.qself.clone().or_else(|| {
                let first = call.arg_paths.first().filter(|p| !p.is_empty())?;
                segs.first().filter(|t| self.traits.contains(*t))?;
                self.receiver_type(from, caller, first, &func)
            });
            let hit = ty.and_then(|ty| self.resolve_qualified(from, &ty, segs, &func));
            if let Some(hit) = hit.filter(|&id| call.qself.is_some() || func(id).has_self) {
                return Some(hit).filter(|&id| call.awaited || sync(id));
            }
        }
        if call.awaited {
            return self.resolve(files, fns, caller, &call.callee);
        }
        match &call.callee {
            Callee::Path(segs) => {
                let r = fns[caller];
                let from = &files[r.file].functions[r.index];
                let func = |id: usize| -> &FnFacts {
                    let r = fns[id];
                    &files[r.file].functions[r.index]
                };
                // `T::m(..)` with `T` a generic parameter depends on what the copy binds `T` to.
                let generic = segs.len() == 2 && from.generics.iter().any(|(g, _)| *g == segs[0]);
                let key = (
                    r.file,
                    from.module.clone(),
                    from.self_ty.clone(),
                    segs.clone(),
                );
                if let Some(hit) = self.path_cache.borrow().get(&key).filter(|_| !generic) {
                    return *hit;
                }
                let hit = self
                    .resolve_path(from, caller, segs, &func)
                    .filter(|&id| sync(id));
                if !generic {
                    self.path_cache.borrow_mut().insert(key, hit);
                }
                hit
            }
            Callee::Method { receiver, .. } => {
                let r = fns[caller];
                let from = &files[r.file].functions[r.index];
                let func = |id: usize| -> &FnFacts {
                    let r = fns[id];
                    &files[r.file].functions[r.index]
                };
                let ty = self.receiver_type(from, caller, receiver, &func)?;
                if !self.known_types.contains(&ty) {
                    return None;
                }
                self.resolve(files, fns, caller, &call.callee)
                    .filter(|&id| sync(id))
            }
            Callee::Extractor(_) => None,
        }
    }

    /// Resolves a call made inside function `caller`.
    fn resolve(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        callee: &Callee,
    ) -> Option<usize> {
        let cr = fns[caller];
        let from = &files[cr.file].functions[cr.index];
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        match callee {
            Callee::Path(segs) => {
                if self
                    .quiet_functions
                    .iter()
                    .any(|q| crate::catalog::path_matches(segs, q, false))
                {
                    return None;
                }
                let found = self.resolve_path(from, caller, segs, &func);
                found
                    .or_else(|| {
                        self.resolve_loosely(from, segs, &func, |id| fns[id].file == cr.file)
                    })
                    .or_else(|| self.in_other_crate(from, caller, segs, &func))
            }
            Callee::Method {
                name,
                receiver,
                args,
            } => self.resolve_method(from, caller, name, receiver, *args, &func),
            Callee::Extractor(_) => None,
        }
    }

    fn resolve_path<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        segs: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let first = segs.first()?;
        // `Self::helper` and `Type::helper`: associated functions.
        if segs.len() == 2 {
            let ty = if first == "Self" {
                from.self_ty.clone()
            } else {
                Some(first.clone())
            };
            // `T::read(..)` with `T` bound by the caller to a type (a turbofish): that type's.
            let bound_to = from
                .generics
                .iter()
                .find(|(g, _)| g == first)
                .and_then(|(_, b)| b.strip_prefix('='));
            let ty = match bound_to {
                Some(t) => Some(t.to_string()),
                None => ty,
            };
            // `T::read(..)` with `T: Readable` a generic parameter: the type is chosen by the caller, so
            // the implementations of the bound's method, as for a trait object (the costliest).
            if let Some((_, bound)) = from
                .generics
                .iter()
                .find(|(g, b)| g == first && !b.starts_with('='))
            {
                let impls = self.impls_of(bound, &segs[1], func);
                if let Some(hit) = self.implementation(bound, &impls, func) {
                    return Some(hit);
                }
            }
            if let Some(ty) = ty {
                // The type's own function, else a default body of a trait it implements.
                let own = self.assoc.get(&(ty.clone(), segs[1].clone()));
                let hit = own.and_then(|ids| self.nearest(caller, ids)).or_else(|| {
                    let traits = self.traits_of.get(&ty)?;
                    traits.iter().find_map(|t| {
                        let ids = self.assoc.get(&(t.clone(), segs[1].clone()))?;
                        let defaults: Vec<usize> = ids
                            .iter()
                            .copied()
                            .filter(|&id| func(id).trait_name.as_deref() == Some(t.as_str()))
                            .collect();
                        self.nearest(caller, &defaults)
                    })
                });
                if hit.is_some() {
                    return hit;
                }
            }
            // `UserBackend::get_user_groups(self, id)`, `<H as UserBackend>::get_user_groups(self, id)`:
            // a trait's method called by its path runs on the value it is given, whose type the caller
            // chooses: the one implementation the analysed code has, or the one `[implementations]`
            // names. Otherwise it stays unresolved (`ForeignFrom::foreign_from(x)` with a hundred).
            let mut impls = self.impls_of(first, &segs[1], func);
            impls.retain(|&id| !func(id).is_test);
            // A default body stands for the types that do not write their own.
            let own: Vec<usize> = impls
                .iter()
                .copied()
                .filter(|&id| func(id).self_ty.is_some())
                .collect();
            let impls = if own.is_empty() { impls } else { own };
            if impls.len() == 1 || self.implementations.contains_key(first) {
                if let Some(hit) = self.implementation(first, &impls, func) {
                    return Some(hit);
                }
            }
        }
        let alias = self
            .uses
            .get(&from.module)
            .and_then(|u| u.iter().find(|(n, _)| n == first));
        let abs = match (first.as_str(), alias) {
            ("crate" | "self" | "super", _) => self.absolutize(&from.module, segs),
            (_, Some((_, full))) => full.iter().chain(&segs[1..]).cloned().collect(),
            _ if segs.len() == 1 => {
                let local: Vec<String> = from.module.iter().chain(segs).cloned().collect();
                if let Some(hit) = self.lookup(caller, &local, 0, func) {
                    return Some(hit);
                }
                return self.through_globs(caller, &from.module, first, 0, func);
            }
            _ => self.absolutize(&from.module, segs),
        };
        self.lookup(caller, &abs, 0, func)
    }

    /// The functions that implement trait `tr`'s `method`, or give its default body.
    fn impls_of<'f>(
        &self,
        tr: &str,
        method: &str,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Vec<usize> {
        self.by_name
            .get(method)
            .into_iter()
            .flatten()
            .copied()
            .filter(|&id| func(id).trait_name.as_deref() == Some(tr))
            .collect()
    }

    /// `<T as Trait>::method(..)`: the implementation of `Trait::method` by `T`, or, when `T` is a
    /// generic parameter bound by a trait (`impl<Handler: BackendHandler> Readonly for Handler`), by the
    /// one type of the analysed code that implements that bound and the trait. None when that is not
    /// one function.
    fn resolve_qualified<'f>(
        &self,
        from: &FnFacts,
        ty: &str,
        segs: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let [tr, method] = segs else { return None };
        let ty = match ty {
            "Self" => from.self_ty.as_deref()?,
            other => other,
        };
        let bound = from.generics.iter().find(|(g, _)| g == ty).map(|(_, b)| b);
        let fits = |self_ty: &str| match bound {
            Some(b) => match b.strip_prefix('=') {
                Some(bound_to) => self_ty == bound_to,
                None => self.traits_of.get(self_ty).is_some_and(|t| t.contains(b)),
            },
            None => self_ty == ty,
        };
        let mut impls = self.impls_of(tr, method, func);
        impls.retain(|&id| !func(id).is_test && func(id).self_ty.as_deref().is_some_and(fits));
        match impls[..] {
            [one] => Some(one),
            _ => None,
        }
    }

    /// Among functions that fit, the one in the caller's file, else in its crate, else the first.
    fn nearest(&self, caller: usize, ids: &[usize]) -> Option<usize> {
        ids.iter()
            .copied()
            .find(|&id| Some(&self.file_of[id]) == self.file_of.get(caller))
            .or_else(|| {
                ids.iter()
                    .copied()
                    .find(|&id| Some(&self.crate_of[id]) == self.crate_of.get(caller))
            })
            .or_else(|| ids.first().copied())
    }

    /// A function at an absolute path, following re-exports (`pub use a::f;`, `pub use a::*;`).
    fn lookup<'f>(
        &self,
        caller: usize,
        abs: &[String],
        depth: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        self.lookup_in(caller, abs, depth, func, &mut HashSet::new())
    }

    /// `lookup`, remembering the (module, name) pairs already tried: glob re-exports (`pub use a::*`
    /// in preludes) form a graph that would otherwise be walked again and again.
    fn lookup_in<'f>(
        &self,
        caller: usize,
        abs: &[String],
        depth: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
        tried: &mut HashSet<(Vec<String>, String)>,
    ) -> Option<usize> {
        let (name, module) = abs.split_last()?;
        if !tried.insert((module.to_vec(), name.clone())) {
            return None;
        }
        if let Some(ids) = self.by_path.get(&(module.to_vec(), name.clone())) {
            return self.nearest(caller, ids);
        }
        // `module::Type::method`
        if let Some((ty, _)) = module.split_last() {
            let hit = self
                .assoc
                .get(&(ty.clone(), name.clone()))
                .and_then(|ids| self.nearest(caller, ids));
            if hit.is_some() {
                return hit;
            }
        }
        if depth >= MAX_ALIAS_DEPTH {
            return None;
        }
        let reexport = self
            .uses
            .get(module)
            .and_then(|u| u.iter().find(|(n, _)| n == name));
        if let Some((_, target)) = reexport {
            if target.as_slice() != abs {
                if let Some(hit) = self.lookup_in(caller, target, depth + 1, func, tried) {
                    return Some(hit);
                }
            }
        }
        self.globs_in(caller, module, name, depth + 1, func, tried)
    }

    fn through_globs<'f>(
        &self,
        caller: usize,
        module: &[String],
        name: &String,
        depth: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        self.globs_in(caller, module, name, depth, func, &mut HashSet::new())
    }

    fn globs_in<'f>(
        &self,
        caller: usize,
        module: &[String],
        name: &String,
        depth: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
        tried: &mut HashSet<(Vec<String>, String)>,
    ) -> Option<usize> {
        if depth >= MAX_ALIAS_DEPTH {
            return None;
        }
        let globs = self.uses.get(module)?;
        globs
            .iter()
            .filter(|(n, _)| n == "*")
            .find_map(|(_, target)| {
                let path: Vec<String> = target
                    .iter()
                    .chain(std::iter::once(name))
                    .cloned()
                    .collect();
                self.lookup_in(caller, &path, depth + 1, func, tried)
            })
    }

    /// When exact resolution fails (workspaces, paths through external crate names): a function of that
    /// name whose module ends like the path's qualifier.
    fn resolve_loosely<'f>(
        &self,
        from: &FnFacts,
        segs: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
        same_file: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let path: Vec<String> = self.imported(from, segs).unwrap_or_else(|| {
            segs.iter()
                .filter(|s| !matches!(s.as_str(), "crate" | "self" | "super"))
                .cloned()
                .collect()
        });
        let (name, qualifier) = path.split_last()?;
        let matching: Vec<usize> = self
            .by_name
            .get(name)?
            .iter()
            .copied()
            .filter(|&id| {
                let f = func(id);
                if qualifier.is_empty() {
                    return f.self_ty.is_none();
                }
                f.self_ty.is_none()
                    && !f.module.is_empty()
                    && (f.module.ends_with(qualifier) || qualifier.ends_with(&f.module))
            })
            .collect();
        pick(&matching, |id| {
            same_file(id) && func(id).module == from.module
        })
    }

    /// A path whose first segment the caller's module imports (`use database::collab;` then
    /// `collab::insert_bulk`), spelled in full.
    fn imported(&self, from: &FnFacts, segs: &[String]) -> Option<Vec<String>> {
        let (_, full) = self
            .uses
            .get(&from.module)?
            .iter()
            .find(|(n, _)| Some(n) == segs.first())?;
        Some(full.iter().chain(&segs[1..]).cloned().collect())
    }

    /// `database::collab::insert_bulk` where another crate of the workspace re-exports it
    /// (`pub use collab_db_ops::*` in its `collab` module): the path inside that crate, whose modules are
    /// named from its root like this crate's.
    fn in_other_crate<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        segs: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let path = self.imported(from, segs).unwrap_or_else(|| segs.to_vec());
        if path.len() < 3 || matches!(path[0].as_str(), "crate" | "self" | "super") {
            return None;
        }
        // The crate's folder is named as the crate is (`libs/database`, `crates/diesel_models`).
        let named = |dir: &str| {
            let folder = dir.trim_end_matches('/').rsplit('/').next().unwrap_or("");
            folder.replace('-', "_") == path[0].replace('-', "_")
        };
        let hit = self.lookup(caller, &path[1..], 0, func)?;
        named(&self.crate_of[hit]).then_some(hit)
    }

    /// The type a receiver path has: `self.repo` in `impl Svc` → the type of `Svc.repo`.
    fn receiver_type<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        receiver: &[String],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<String> {
        let first = receiver.first()?;
        let mut ty = if first == "self" {
            from.self_ty.clone()?
        } else {
            match from.params.iter().find(|(n, _)| n == first) {
                Some((_, ty)) => ty.clone(),
                None => self.statics.get(first)?.clone(),
            }
        };
        // A local bound to a place (`let db = &state.0.database;`): that place's type.
        if let Some(place) = ty.strip_prefix(crate::facts::PLACE) {
            let mut path: Vec<String> =
                place.split(crate::facts::FIELD).map(String::from).collect();
            if path.first() == Some(first) {
                return None;
            }
            path.extend(receiver[1..].iter().cloned());
            return self.receiver_type(from, caller, &path, func);
        }
        // A local bound by position from a tuple: `(Article,User)#1` is `User`.
        let mut element = None;
        if let Some((tuple, index)) = ty.rsplit_once(crate::facts::ELEMENT) {
            element = Some(index.parse::<usize>().ok()?);
            ty = tuple.to_string();
        }
        // A local made by a call (`let article = Article::find(conn, id)?`): what that function returns.
        let mut made_by = None;
        if let Some(path) = ty.strip_prefix(crate::facts::RETURNED_BY) {
            let segs: Vec<String> = path.split("::").map(String::from).collect();
            let id = self.resolve_path(from, caller, &segs, func)?;
            ty = func(id).returns.clone()?;
            made_by = Some(id);
        }
        // A getter's result (`state.store()`): what the method it resolves to returns.
        if let Some(rest) = ty.strip_prefix(crate::facts::METHOD_RETURNS) {
            let (call, args) = rest.rsplit_once('/')?;
            let (base, getter) = call.rsplit_once(crate::facts::FIELD)?;
            let base: Vec<String> = base.split(crate::facts::FIELD).map(String::from).collect();
            // Not a local typed by its own method (`let x = x.next()`).
            if base.first() == Some(first) && receiver.len() == 1 {
                return None;
            }
            let id = self.resolve_method(from, caller, getter, &base, args.parse().ok()?, func)?;
            ty = func(id).returns.clone()?;
            made_by = Some(id);
        }
        if let Some(index) = element {
            let elems = ty.strip_prefix('(')?.strip_suffix(')')?;
            ty = elems.split(',').nth(index)?.to_string();
        }
        if ty == "Self" {
            ty = func(made_by?).self_ty.clone()?;
        }
        // A parameter bound from a struct pattern: the type of that field.
        if let Some((owner, field)) = ty.split_once(crate::facts::FIELD) {
            let owner = self.concrete(from, owner.to_string());
            ty = self.field(&owner, field)?;
        }
        ty = self.concrete(from, ty);
        // A type imported under another name (`use crate::logger::ActivityLogger as Logger`).
        if !self.known_types.contains(&ty) {
            let alias = self
                .uses
                .get(&from.module)
                .and_then(|u| u.iter().find(|(n, _)| *n == ty));
            if let Some(real) = alias.and_then(|(_, path)| path.last()) {
                if self.known_types.contains(real) {
                    ty = real.clone();
                }
            }
        }
        for field in &receiver[1..] {
            ty = self.field(&ty, field)?;
            ty = self.concrete(from, ty);
        }
        Some(ty)
    }

    /// A struct value whose other fields take their defaults (`{GetUser..;username=?}`), with those
    /// defaults spelled out (`{GetUser;username=?;domain=None}`).
    fn with_defaults(&self, tag: &Option<String>) -> Option<String> {
        let tag = tag.as_ref()?;
        let Some(inner) = tag.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
            return Some(tag.clone());
        };
        let mut parts = inner.split(';');
        let head = parts.next().unwrap_or_default();
        let Some(ty) = head.strip_suffix("..") else {
            return Some(tag.clone());
        };
        let set: Vec<&str> = parts.collect();
        let mut out = format!("{{{ty}");
        for kv in &set {
            out.push(';');
            out.push_str(kv);
        }
        for (field, value) in self.defaults.get(ty).into_iter().flatten() {
            if !set
                .iter()
                .any(|kv| kv.split('=').next() == Some(field.as_str()))
            {
                out.push_str(&format!(";{field}={value}"));
            }
        }
        out.push('}');
        Some(out)
    }

    /// The type of `owner.field`, also where `owner` derefs to the struct that has the field.
    fn field(&self, owner: &str, field: &str) -> Option<String> {
        // `state.0` of an extractor or wrapper newtype (`State<AppState>` is read as `AppState`).
        if field == "0" && self.fields.get(owner).is_none_or(|f| !f.contains_key("0")) {
            return Some(owner.to_string());
        }
        let mut owner = owner;
        for _ in 0..4 {
            if let Some(ty) = self.fields.get(owner).and_then(|f| f.get(field)) {
                return Some(ty.clone());
            }
            owner = self.derefs.get(owner)?;
        }
        None
    }

    /// An awaited method call that no analysed function answers, on a receiver of a `[[clients]]` type:
    /// a call to another service.
    fn client_hop(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
        catalog: &crate::catalog::Catalog,
    ) -> Option<ClientHop> {
        let Callee::Method { name, receiver, .. } = &call.callee else {
            return None;
        };
        if !call.awaited || catalog.clients.is_empty() {
            return None;
        }
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        let ty = self.receiver_type(func(caller), caller, receiver, &func)?;
        let spec = catalog.clients.iter().find(|c| c.matches(&ty, name))?;
        Some(ClientHop {
            api: format!("{ty}::{name}"),
            service: spec.endpoint != Some(crate::catalog::EndpointSpec::Database),
        })
    }

    /// The types a call binds the callee's own type parameters to: by its turbofish, in order, and by
    /// the type of an argument handed to a parameter typed by one (`map<T>(&self, input: T)` called
    /// as `mapper.map(account)`). Only types of the analysed code are bound.
    fn bound_types(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
        target: usize,
    ) -> Vec<(String, String)> {
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        let callee = func(target);
        if callee.type_params.is_empty() {
            return Vec::new();
        }
        let from = func(caller);
        let known = |ty: &str| self.known_types.contains(ty) && !self.traits.contains(ty);
        let mut out: Vec<(String, String)> = callee
            .type_params
            .iter()
            .zip(&call.turbofish)
            .filter(|(_, ty)| known(ty))
            .map(|(p, ty)| (p.clone(), ty.clone()))
            .collect();
        // `Type::method(value, ..)` hands the receiver as the first argument.
        let skip = usize::from(matches!(call.callee, Callee::Path(_)) && callee.has_self);
        for ((ty, _), path) in callee
            .param_types
            .iter()
            .zip(call.arg_paths.iter().skip(skip))
        {
            if !callee.type_params.contains(ty)
                || out.iter().any(|(p, _)| p == ty)
                || path.is_empty()
            {
                continue;
            }
            if let Some(arg) = self.receiver_type(from, caller, path, &func) {
                if known(&arg) {
                    out.push((ty.clone(), arg));
                }
            }
        }
        out
    }

    /// Is the receiver a parameter typed by one of the function's own type parameters (`input: T`),
    /// that no caller bound to a type, with a bound several types of the analysed code implement? Each
    /// caller picks the implementation by the value it passes, so none is clearly meant.
    fn callers_choice(&self, from: &FnFacts, receiver: &[String]) -> bool {
        let Some(first) = receiver.first() else {
            return false;
        };
        from.params.iter().any(|(n, ty)| {
            n == first
                && from.type_params.contains(ty)
                && from.generics.iter().any(|(g, bound)| {
                    g == ty && !bound.starts_with('=') && self.implemented_by_several(bound)
                })
        })
    }

    /// Do several types implement the trait, or a trait it requires (`trait MapperMarker:
    /// IntoMastodon` with one blanket implementation and many of `IntoMastodon`)?
    fn implemented_by_several(&self, tr: &str) -> bool {
        let mut seen: BTreeSet<&str> = BTreeSet::from([tr]);
        let mut queue = vec![tr];
        while let Some(t) = queue.pop() {
            if self.implementors.get(t).is_some_and(|n| *n > 1) {
                return true;
            }
            for sup in self.supertraits.get(t).into_iter().flatten() {
                if seen.insert(sup) {
                    queue.push(sup);
                }
            }
        }
        false
    }

    /// A generic parameter's bound (or the type a caller bound it to), or an alias's target.
    fn concrete(&self, from: &FnFacts, ty: String) -> String {
        if let Some((_, bound)) = from.generics.iter().find(|(g, _)| *g == ty) {
            return bound.strip_prefix('=').unwrap_or(bound).to_string();
        }
        // Aliases of aliases (`type AppData = Data<ArcData>; type ArcData = Arc<State>;`).
        let mut ty = ty;
        for _ in 0..MAX_ALIAS_DEPTH {
            match self.aliases.get(&ty) {
                Some(next) if *next != ty => ty = next.clone(),
                _ => break,
            }
        }
        ty
    }

    fn resolve_method<'f>(
        &self,
        from: &FnFacts,
        caller: usize,
        name: &str,
        receiver: &[String],
        args: usize,
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        // Rust has no overloading: `txn.execute(stmt)` is not a trait's `execute(&self, a, b, c)`.
        let candidates: Vec<usize> = self
            .by_name
            .get(name)?
            .iter()
            .copied()
            .filter(|&id| {
                let f = func(id);
                f.has_self && id != caller && f.arity.is_none_or(|a| a == args)
            })
            .collect();
        // A value of the caller's type (`input: T`) that no caller bound here: which implementation
        // runs depends on the value, so none is guessed.
        if self.callers_choice(from, receiver) {
            return None;
        }
        match self.receiver_type(from, caller, receiver, func) {
            // A type of the analysed code: its own methods, then those of the traits it implements
            // (for a trait object, every implementation).
            Some(ty) if self.known_types.contains(&ty) => {
                let traits = self.traits_of.get(&ty);
                let typed: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&id| {
                        let f = func(id);
                        f.self_ty.as_deref() == Some(ty.as_str())
                            || f.trait_name.as_deref() == Some(ty.as_str())
                            || f.trait_name
                                .as_ref()
                                .is_some_and(|t| traits.is_some_and(|ts| ts.contains(t)))
                    })
                    .collect();
                let own = typed
                    .iter()
                    .copied()
                    .filter(|&id| func(id).self_ty.as_deref() == Some(ty.as_str()));
                let own: Vec<usize> = own.collect();
                // A trait object or generic bound by a trait whose methods a supertrait declares
                // (`Arc<dyn FullRepo>` with `trait FullRepo: AliasRepo`): that trait's implementations.
                if typed.is_empty() && self.traits.contains(&ty) {
                    return match self.through_supertraits(&ty, &candidates, func) {
                        // Named (and chosen by `[implementations]`) as the trait the code names.
                        Some((_, impls)) => self.implementation(&ty, &impls, func),
                        None => self.one_candidate(name, &candidates),
                    };
                }
                if own.is_empty() && self.traits.contains(&ty) {
                    return self.implementation(&ty, &typed, func);
                }
                costliest(if own.is_empty() { &typed } else { &own }, func)
            }
            // A type from elsewhere (`Next`, `PgPool`, `reqwest::Client`): not the analysed code's method.
            Some(_) => None,
            // An unknown receiver: only where one method of the analysed code fits is it clearly meant;
            // among several, none is guessed (`Call::unresolved`).
            None => self.one_candidate(name, &candidates),
        }
    }

    /// The implementations of a method that a supertrait of `tr` declares (the nearest such trait, and
    /// its implementing functions among `candidates`).
    fn through_supertraits<'f>(
        &self,
        tr: &str,
        candidates: &[usize],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<(String, Vec<usize>)> {
        let mut seen: BTreeSet<&str> = BTreeSet::from([tr]);
        let mut queue: std::collections::VecDeque<&str> = std::collections::VecDeque::from([tr]);
        while let Some(t) = queue.pop_front() {
            for sup in self.supertraits.get(t).into_iter().flatten() {
                if !seen.insert(sup) {
                    continue;
                }
                queue.push_back(sup);
                let impls: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&id| func(id).trait_name.as_deref() == Some(sup.as_str()))
                    .collect();
                if !impls.is_empty() {
                    return Some((sup.clone(), impls));
                }
            }
        }
        None
    }

    /// The implementation a call through a trait object or a generic bound by `tr` reaches, among the
    /// implementing functions `impls`: the one `[implementations]` names; else the costliest, and the
    /// choice is recorded for the notes when several types implement it.
    fn implementation<'f>(
        &self,
        tr: &str,
        impls: &[usize],
        func: &impl Fn(usize) -> &'f FnFacts,
    ) -> Option<usize> {
        let concrete: Vec<usize> = impls
            .iter()
            .copied()
            .filter(|&id| !forwards(func(id)))
            .collect();
        let impls = if concrete.is_empty() {
            impls
        } else {
            &concrete
        };
        // An implementing type by its name, and by its crate's folder where two crates name it alike
        // (`db/db-sqlx-postgres/Database`).
        let named = |id: usize| -> Option<(String, String)> {
            let ty = func(id).self_ty.clone()?;
            let krate = self
                .crate_of
                .get(id)
                .map(|c| c.trim_end_matches('/').to_string())
                .unwrap_or_default();
            Some((ty, krate))
        };
        let pairs: BTreeSet<(String, String)> = impls.iter().filter_map(|&id| named(id)).collect();
        if pairs.len() < 2 {
            return costliest(impls, func);
        }
        let unique_names =
            pairs.iter().map(|(t, _)| t).collect::<BTreeSet<_>>().len() == pairs.len();
        let shown = |(ty, krate): &(String, String)| {
            if unique_names || krate.is_empty() {
                ty.clone()
            } else {
                format!("{krate}/{ty}")
            }
        };
        if let Some(chosen) = self.implementations.get(tr) {
            let of_chosen: Vec<usize> = impls
                .iter()
                .copied()
                .filter(|&id| {
                    named(id).is_some_and(|p| {
                        p.0 == *chosen
                            || shown(&p) == *chosen
                            || chosen.ends_with(&format!("/{}", shown(&p)))
                    })
                })
                .collect();
            if !of_chosen.is_empty() {
                return costliest(&of_chosen, func);
            }
        }
        let types: BTreeSet<String> = pairs.iter().map(shown).collect();
        let mut assumed = self.assumed.borrow_mut();
        let entry = assumed.entry(tr.to_string()).or_default();
        entry.0.extend(types);
        entry.1.extend(impls.iter().copied());
        // Each implementation is a way the call may go: the price takes the costliest of them.
        *self.alternatives.borrow_mut() = impls.to_vec();
        costliest(impls, func)
    }

    /// The traits whose costliest implementation was taken, with their implementing types.
    pub fn assumed_implementations(&self) -> BTreeMap<String, Assumed> {
        self.assumed.borrow().clone()
    }

    /// For a receiver of unknown type: the one method of the analysed code that fits, if only one does.
    fn one_candidate(&self, name: &str, candidates: &[usize]) -> Option<usize> {
        if self.quiet.contains(name) {
            return None;
        }
        match candidates {
            [one] => Some(*one),
            _ => None,
        }
    }

    /// Is this method call, on a receiver of a type of the analysed code, answered by a method of that
    /// type (or of a trait it implements)?
    fn own_method(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        callee: &Callee,
    ) -> bool {
        let Callee::Method {
            name,
            receiver,
            args,
        } = callee
        else {
            return false;
        };
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        let from = func(caller);
        match self.receiver_type(from, caller, receiver, &func) {
            Some(ty) if self.known_types.contains(&ty) => self
                .resolve_method(from, caller, name, receiver, *args, &func)
                .is_some(),
            _ => false,
        }
    }

    /// A call left unresolved although several functions of the analysed code could be meant: an awaited
    /// method on a receiver whose type could not be read.
    fn ambiguous(
        &self,
        files: &[Arc<FileFacts>],
        fns: &[FnRef],
        caller: usize,
        call: &crate::facts::Call,
    ) -> bool {
        let func = |id: usize| -> &FnFacts {
            let r = fns[id];
            &files[r.file].functions[r.index]
        };
        // `Notify::send(&target, ..)` with several implementations and no type to choose by.
        if let (Callee::Path(segs), true) = (&call.callee, call.awaited) {
            return match &segs[..] {
                [tr, method] if self.traits.contains(tr) => {
                    let mut impls = self.impls_of(tr, method, &func);
                    impls.retain(|&id| func(id).self_ty.is_some() && !func(id).is_test);
                    impls.len() > 1
                }
                _ => false,
            };
        }
        let Callee::Method {
            name,
            receiver,
            args,
        } = &call.callee
        else {
            return false;
        };
        if !call.awaited || self.quiet.contains(name) {
            return false;
        }
        if self.callers_choice(func(caller), receiver) {
            return self.by_name.contains_key(name.as_str());
        }
        match self.receiver_type(func(caller), caller, receiver, &func) {
            // A generic bound by a trait that does not itself declare the method: as unknown.
            Some(ty)
                if self.traits.contains(&ty)
                    && self
                        .resolve_method(func(caller), caller, name, receiver, *args, &func)
                        .is_none() => {}
            Some(_) => return false,
            None => {}
        }
        let fits = self.by_name.get(name).map_or(0, |ids| {
            ids.iter()
                .filter(|&&id| {
                    let f = func(id);
                    f.has_self && id != caller && f.arity.is_none_or(|a| a == *args)
                })
                .count()
        });
        fits > 1
    }
}

/// `crates/api/src/db.rs` → `crates/api/`: the folder of the crate a file belongs to.
fn crate_dir(path: &str) -> &str {
    match path.rfind("src/") {
        Some(i) => &path[..i],
        None => "",
    }
}

/// An implementation for a smart pointer or a reference around any implementor (`impl<T: AliasRepo>
/// AliasRepo for Arc<T>`): it hands the call on to the type inside.
fn forwards(f: &FnFacts) -> bool {
    matches!(f.self_ty.as_deref(), Some("Arc" | "Box" | "Rc"))
        || f.self_ty.as_deref().is_some_and(|t| t.starts_with('&'))
}

/// Among methods of one name, the one that does the most I/O (the critical path takes the worst).
fn costliest<'f>(candidates: &[usize], func: &impl Fn(usize) -> &'f FnFacts) -> Option<usize> {
    let weight = |id: usize| {
        let mut n = 0usize;
        for step in &func(id).body {
            step.walk(&mut |s| n += usize::from(matches!(s, Step::Trip(_) | Step::Call(_))));
        }
        n
    };
    candidates
        .iter()
        .copied()
        .max_by_key(|&id| (weight(id), std::cmp::Reverse(id)))
}

/// The one candidate, or the one that `prefer` picks among several.
fn pick(candidates: &[usize], prefer: impl Fn(usize) -> bool) -> Option<usize> {
    match candidates {
        [] => None,
        [one] => Some(*one),
        many => many
            .iter()
            .copied()
            .find(|&id| prefer(id))
            .or(Some(many[0])),
    }
}

/// Routes with full paths from every router-building function that no other router mounts, plus
/// handlers found by their extractors.
fn routes(model: &Model, index: &Index) -> (Vec<Route>, Vec<StaticRoute>) {
    let builders: Vec<usize> = (0..model.fns.len())
        .filter(|&id| !model.func(id).is_test && !model.func(id).routes.is_empty())
        .collect();
    let mut mounted = HashSet::new();
    for &id in &builders {
        for entry in &model.func(id).routes {
            if let RouteEntry::Mount { target, .. } = entry {
                if let Some(t) =
                    index.resolve(&model.files, &model.fns, id, &Callee::Path(target.clone()))
                {
                    if t != id {
                        mounted.insert(t);
                    }
                }
            }
        }
    }
    let mut found = Found::default();
    for &root in builders.iter().filter(|id| !mounted.contains(id)) {
        expand(model, index, root, "", 0, &mut found);
    }
    // A cycle of mounts leaves no root: take its members as roots.
    if builders.iter().all(|id| mounted.contains(id)) {
        for &id in &builders {
            expand(model, index, id, "", 0, &mut found);
        }
    }
    let Found {
        routes: mut out,
        statics,
        ..
    } = found;
    // Routes declared on handlers that no router mounted: poem-openapi operations and tonic methods
    // are served as they are; actix-web and rocket handlers whose mount was not found keep their own path.
    let routed: HashSet<usize> = out.iter().map(|r| r.handler).collect();
    for id in 0..model.fns.len() {
        let f = model.func(id);
        if f.is_test || routed.contains(&id) {
            continue;
        }
        // `#[utoipa::path]` only documents: without a router mounting the handler there is no route.
        for attr in f.attr_routes.iter().filter(|a| !a.documented) {
            out.push(Route {
                method: Some(attr.method.clone()),
                path: Some(attr.path.clone()),
                handler: id,
            });
        }
    }
    // A function taking extractors is a handler whose route was not found, unless it is a method or
    // code other than tests calls it (then it is a helper on some handler's path).
    let routed: HashSet<usize> = out.iter().map(|r| r.handler).collect();
    let candidates: Vec<usize> = (0..model.fns.len())
        .filter(|&id| {
            let f = model.func(id);
            f.is_async && !f.is_test && !f.has_self && !f.extractors.is_empty()
        })
        .filter(|id| !routed.contains(id))
        .collect();
    let called = index.called_among(&model.files, &model.fns, &candidates);
    for id in candidates {
        if !called.contains(&id) {
            out.push(Route {
                method: None,
                path: None,
                handler: id,
            });
        }
    }
    (out, statics)
}

/// What expanding routers finds: routes (each once) and static-file routes.
#[derive(Default)]
struct Found {
    routes: Vec<Route>,
    seen: HashSet<(Option<String>, Option<String>, usize)>,
    statics: Vec<StaticRoute>,
}

/// The routes a handler declares by attribute, mounted under `prefix`.
fn push_attr_routes(model: &Model, handler: usize, prefix: &str, found: &mut Found) {
    for attr in &model.func(handler).attr_routes {
        let route = Route {
            method: Some(attr.method.clone()),
            path: Some(crate::facts::router::join_path(prefix, &attr.path)),
            handler,
        };
        if found
            .seen
            .insert((route.method.clone(), route.path.clone(), handler))
        {
            found.routes.push(route);
        }
    }
}

fn expand(
    model: &Model,
    index: &Index,
    builder: usize,
    prefix: &str,
    depth: usize,
    found: &mut Found,
) {
    if depth > MAX_MOUNT_DEPTH {
        return;
    }
    for entry in &model.func(builder).routes {
        match entry {
            RouteEntry::Route {
                path,
                method,
                handler,
                ..
            } => {
                let Some(h) = index.resolve(
                    &model.files,
                    &model.fns,
                    builder,
                    &Callee::Path(handler.clone()),
                ) else {
                    continue;
                };
                let full = crate::facts::router::join_path(prefix, path);
                let route = Route {
                    method: Some(method.clone()),
                    path: Some(full),
                    handler: h,
                };
                if found
                    .seen
                    .insert((route.method.clone(), route.path.clone(), h))
                {
                    found.routes.push(route);
                }
            }
            RouteEntry::Static { path, loc } => {
                let full = crate::facts::router::join_path(prefix, path);
                let file = model.fns[builder].file;
                if !found
                    .statics
                    .iter()
                    .any(|s| s.path == full && s.file == file)
                {
                    found.statics.push(StaticRoute {
                        path: full,
                        file,
                        loc: *loc,
                    });
                }
            }
            RouteEntry::Mount {
                prefix: inner,
                target,
                ..
            } => {
                let Some(t) = index.resolve(
                    &model.files,
                    &model.fns,
                    builder,
                    &Callee::Path(target.clone()),
                ) else {
                    // A type whose methods carry routes (poem-openapi's `OpenApiService::new(Api, ..)`).
                    let ty = target.last().map(String::as_str);
                    let p = crate::facts::router::join_path(prefix, inner);
                    for id in 0..model.fns.len() {
                        let f = model.func(id);
                        if f.self_ty.as_deref() == ty && !f.is_test {
                            push_attr_routes(model, id, &p, found);
                        }
                    }
                    continue;
                };
                if t == builder {
                    continue;
                }
                let p = if inner.is_empty() {
                    prefix.to_string()
                } else {
                    crate::facts::router::join_path(prefix, inner)
                };
                // A handler with route attributes (`.service(index)`, `routes![index]`).
                push_attr_routes(model, t, &p, found);
                expand(model, index, t, &p, depth + 1, found);
            }
        }
    }
}

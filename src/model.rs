//! The model: the facts of all files joined into one project. It resolves routers to routes with full
//! paths and handlers to entry points; then, from each handler and spawned task outwards, awaited calls to
//! the functions they reach (asking [`crate::resolve`]), SQL constants to text, and each round trip to a
//! read or write and a database endpoint. Code that no handler or task reaches is left as parsed.
//!
//! It does no I/O and never looks at syntax; it only joins facts.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use crate::config::{Config, Role};
use crate::facts::sql::{self, Access};
use crate::facts::{walk_mut, Callee, FileFacts, FnFacts, RouteEntry, Step, Trip, TripKind};
use crate::resolve::crate_dir;

mod graphql;
mod handed;
mod lookups;
pub use crate::resolve::{Assumed, FnRef, Index};

/// Mounting deeper than this is taken as a cycle.
const MAX_MOUNT_DEPTH: usize = 32;

/// An entry point: a routed handler, or a function that takes extractors with no route found.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: Option<String>,
    pub path: Option<String>,
    pub handler: usize,
    /// The service that serves it, where the analysed code holds several (a workspace's binaries): the
    /// crate of the router that mounts it.
    pub service: Option<String>,
    /// The function whose place names the route's service: the root router that mounts it, else the
    /// handler.
    pub root: usize,
    /// The `[apps]` entry that serves it, if one does.
    pub app: Option<usize>,
    /// Middleware functions its router's layers run before the handler, in the order they run; a layer
    /// the router's builder picks among several (`if basic { .. } else { .. }`) is each of them.
    pub middleware: Vec<Vec<usize>>,
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

#[derive(Clone, Default)]
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
    /// With `[apps]`: per function, the deployments (indices of `config.deployments`) that serve a
    /// route reaching it; empty (every deployment) for a function no route reaches, or without `[apps]`.
    pub deployed: Vec<Vec<bool>>,
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

/// A copy of a function run with generics bound: (the function, the types, the module that named them).
pub type TypedKey = (usize, Vec<(String, String)>, Vec<String>);

/// Functions the model added as copies of others: a handler's body without its extractors (what a call
/// from another function runs: the caller already has the values), and a trait's default body for one
/// implementing type (where `Self::` means that type).
#[derive(Debug, Default, Clone)]
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
    pub by_types: HashMap<TypedKey, usize>,
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

    /// Whether function `id` runs in the deployment `d` (an index of the configuration's deployments):
    /// some route reaching it is served there (always, without `[apps]`).
    pub fn runs_in(&self, id: usize, d: usize) -> bool {
        self.deployed
            .get(id)
            .is_none_or(|m| m.is_empty() || m.get(d).copied().unwrap_or(true))
    }

    /// The name of the service a route belongs to: its root router's crate, else its folder.
    pub fn service_name(&self, route: &Route) -> String {
        service_of(self, route.root)
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
    files: Vec<Arc<FileFacts>>,
    config: &Config,
    earlier: Option<Index>,
) -> (Model, Index) {
    resolve(files, config, earlier).finish(config)
}

/// A model whose calls are resolved on the paths of both cases of its cached lookups, before either
/// case is settled: resolving, most of the model's work, is done once for the two cases. Each case
/// then keeps its arms of every cached lookup (see [`Resolved::case`]).
pub struct Resolved {
    model: Model,
    index: Index,
    /// The handlers of checked routes.
    entries: Vec<usize>,
    /// Spawned tasks.
    spawned: Vec<usize>,
    /// Every route's handler, and the spawned tasks.
    roots: Vec<usize>,
    /// Per function, whether a path of either case reaches it from `roots`: one that a case's own paths
    /// no longer reach once its arms are kept was resolved for the other case only.
    either: Vec<bool>,
    /// How many cached lookups the code makes, as each case counts them (see [`cached_lookups`]).
    cached: [usize; 2],
}

/// Joins the facts of all files and resolves the calls on their request paths, keeping both arms of
/// each cached lookup (see [`Resolved`]).
pub fn resolve(
    mut files: Vec<Arc<FileFacts>>,
    config: &Config,
    earlier: Option<Index>,
) -> Resolved {
    mark_test_files(&mut files);
    merged_graphql_fields(&mut files);
    renamed_traits(&mut files);
    cells_filled_at_startup(&mut files);
    let mut fns = Vec::new();
    for (file, facts) in files.iter().enumerate() {
        for index in 0..facts.functions.len() {
            fns.push(FnRef { file, index });
        }
    }
    let mut index = match earlier {
        Some(mut index) if index.file_of.len() == fns.len() => {
            index.path_cache.borrow_mut().clear();
            index.forget_copies();
            index
        }
        _ => Index::new(&files, &fns, &config.catalog, config.build.as_ref()),
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
        deployed: Vec::new(),
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
    let cached = cached_lookups(&model);
    model.assumed_cfgs = assume_build(&mut model, config.build.as_ref()) + index.cfg_choices;
    (model.routes, model.static_routes) = routes(&model, &index, config.build.as_ref());
    model.unmatched_routes = declare_routes(&mut model, &config.routes);
    assign_apps(&mut model, config);
    model.inline_budgets = inline_budgets(&model);
    add_extractors(&mut model, &index);
    skip_listed_routes(&mut model, &index);
    add_middleware(&mut model);
    graphql::run_fields_through_endpoints(&mut model);
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
    model.resolved = resolve_from(&mut model, &mut index, config, roots.clone());
    count_returned_lists(&mut model);
    count_chunked_loops(&mut model, config.loop_iterations);
    classify_trips(&mut model, config);
    settle_harmless_unresolved(&mut model, &index);
    let either = called_from(&model, &roots);
    Resolved {
        model,
        index,
        cached,
        entries,
        spawned,
        roots,
        either,
    }
}

impl Resolved {
    /// The model of one case of the cached lookups (`misses`: the loaders run), sharing the files the
    /// case leaves as they are.
    pub fn case(&self, config: &Config, misses: bool) -> Model {
        let mut model = self.model.clone();
        self.settle(&mut model, config, misses);
        model
    }

    /// The model of the case `assume.cache` picks, and the name lookups for the next build.
    pub fn finish(mut self, config: &Config) -> (Model, Index) {
        let mut model = std::mem::take(&mut self.model);
        self.settle(&mut model, config, config.cache_misses);
        (model, self.index)
    }

    fn settle(&self, model: &mut Model, config: &Config, misses: bool) {
        model.cached_lookups = self.cached[usize::from(misses)];
        if model.cached_lookups > 0 {
            assume_cache(model, misses);
            // What only the other case's arms call is on no path of this one.
            let here = called_from(model, &self.roots);
            for (id, resolved) in model.resolved.iter_mut().enumerate() {
                *resolved &= here[id] || !self.either[id];
            }
        }
        // A closure handed to a function that runs it in a task it spawns is off the request path.
        let resolved = model.resolved.clone();
        let tasks = handed::drop_spawned_closures(model, &resolved);
        handed::loop_looped_closures(model, &resolved);
        // A lookup made again after a lookup-or-create finds its row.
        lookups::settle(model, &self.roots);
        model.reachable = reached_from(model, self.entries.iter().copied());
        model.deployed = deployed(model, config);
        model.background = reached_from(model, self.spawned.iter().copied().chain(tasks));
        // Only a choice that can change a price is worth saying: some implementation makes round trips.
        let mut io = Reach::new(makes_io);
        model.assumed_implementations = self
            .index
            .assumed_implementations()
            .into_iter()
            .filter(|(_, (_, fns))| {
                fns.iter()
                    .any(|&f| model.resolved.get(f) == Some(&true) && io.reaches(model, f))
            })
            .map(|(tr, (types, _))| (tr, types))
            .collect();
    }
}

/// Marks the functions that `roots` reach through the calls the model resolved.
fn called_from(model: &Model, roots: &[usize]) -> Vec<bool> {
    let mut marked = vec![false; model.fns.len()];
    let mut stack = roots.to_vec();
    while let Some(f) = stack.pop() {
        if std::mem::replace(&mut marked[f], true) {
            continue;
        }
        for step in &model.func(f).body {
            step.walk(&mut |s| {
                if let Step::Call(c) = s {
                    stack.extend(c.resolved.filter(|&t| !marked[t]));
                }
            });
        }
    }
    marked
}

/// A loop over what a call returns (`for s in streams_of(t)`) runs as many times as the list that
/// function hands back can hold, when its body says (`vec![a]` and one `push`: at most two).
fn count_returned_lists(model: &mut Model) {
    for id in 0..model.fns.len() {
        if !model.resolved.get(id).copied().unwrap_or(false) {
            continue;
        }
        let mut over = Vec::new();
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Loop(l) = s {
                    if let (None, Some(call)) = (l.count, l.over_call) {
                        over.push(call);
                    }
                }
            });
        }
        if over.is_empty() {
            continue;
        }
        let mut lens: HashMap<u32, u32> = HashMap::new();
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Call(c) = s {
                    let len = c.resolved.and_then(|t| model.func(t).returns_len);
                    if let (true, Some(len)) = (over.contains(&c.id), len) {
                        lens.insert(c.id, len);
                    }
                }
            });
        }
        if lens.is_empty() {
            continue;
        }
        walk_mut(
            &mut fn_mut(&mut model.files, model.fns[id]).body,
            &mut |s| {
                if let Step::Loop(l) = s {
                    if l.count.is_none() {
                        l.count = l.over_call.and_then(|c| lens.get(&c).copied());
                    }
                }
            },
        );
    }
}

/// A loop over a collection taken in chunks (`for ids in all.chunks(1000)`) runs, for the items a
/// collection is assumed to hold, as many chunks as they fill: once for a chunk of at least that many.
fn count_chunked_loops(model: &mut Model, assumed: u32) {
    for id in 0..model.fns.len() {
        if !model.resolved.get(id).copied().unwrap_or(false) {
            continue;
        }
        walk_mut(
            &mut fn_mut(&mut model.files, model.fns[id]).body,
            &mut |s| {
                if let Step::Loop(l) = s {
                    if let (None, Some(chunk)) = (l.count, l.chunk) {
                        l.count = Some(assumed.div_ceil(chunk));
                    }
                }
            },
        );
    }
}

/// Whether a function has what `own` finds in its body, itself or through the calls it makes; memoised
/// per function.
struct Reach {
    own: fn(&[Step]) -> bool,
    known: HashMap<usize, bool>,
}

impl Reach {
    fn new(own: fn(&[Step]) -> bool) -> Reach {
        Reach {
            own,
            known: HashMap::new(),
        }
    }

    fn reaches(&mut self, model: &Model, id: usize) -> bool {
        if let Some(&k) = self.known.get(&id) {
            return k;
        }
        // A cycle reached again adds nothing new.
        self.known.insert(id, false);
        let body = &model.func(id).body;
        let mut callees = Vec::new();
        for step in body {
            step.walk(&mut |s| {
                if let Step::Call(c) = s {
                    callees.extend(c.resolved);
                }
            });
        }
        let found = (self.own)(body) || callees.into_iter().any(|c| self.reaches(model, c));
        self.known.insert(id, found);
        found
    }
}

/// An unresolved call whose every candidate in the analysed code makes no round trip and calls nothing
/// unresolved cannot change a price, whichever is meant (`server.origin().await`, two implementations
/// that both ask DNS): it is no blind spot to report.
fn settle_harmless_unresolved(model: &mut Model, index: &Index) {
    fn io_or_unknown(body: &[Step]) -> bool {
        let mut unresolved = false;
        for step in body {
            step.walk(&mut |s| unresolved |= matches!(s, Step::Call(c) if c.unresolved));
        }
        unresolved || makes_io(body)
    }
    let mut risky = Reach::new(io_or_unknown);
    let mut harmless: Vec<(usize, u32)> = Vec::new();
    for id in 0..model.fns.len() {
        if !model.resolved.get(id).copied().unwrap_or(false) {
            continue;
        }
        let mut unsure = Vec::new();
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Call(c) = s {
                    if c.unresolved && !c.opaque {
                        unsure.push(c);
                    }
                }
            });
        }
        for c in unsure {
            let candidates = index.candidates(&model.files, &model.fns, id, c);
            if candidates.is_some_and(|cs| cs.iter().all(|&f| !risky.reaches(model, f))) {
                harmless.push((id, c.id));
            }
        }
    }
    for (id, call) in harmless {
        let f = fn_mut(&mut model.files, model.fns[id]);
        walk_mut(&mut f.body, &mut |s| {
            if let Step::Call(c) = s {
                if c.id == call {
                    c.unresolved = false;
                }
            }
        });
    }
}

/// Makes a network round trip.
fn makes_io(body: &[Step]) -> bool {
    let mut found = false;
    for step in body {
        step.walk(&mut |s| found |= matches!(s, Step::Trip(t) if !t.in_process));
    }
    found
}

/// The arm of a cached lookup's branch that runs on a miss: it starts with the cache's guard.
fn is_miss(arm: &[Step]) -> bool {
    matches!(
        arm.first(),
        Some(Step::Guard {
            on: crate::facts::Guarded::Cache,
            ..
        })
    )
}

/// How many cached lookups the code makes, outside the arms that each case leaves out: (on a hit,
/// on a miss).
fn cached_lookups(model: &Model) -> [usize; 2] {
    fn count(seq: &[Step], misses: bool, found: &mut usize) {
        for step in seq {
            match step {
                Step::Branch(alts) if alts.iter().any(|a| is_miss(a)) => {
                    *found += 1;
                    for arm in alts.iter().filter(|a| is_miss(a) == misses) {
                        count(arm, misses, found);
                    }
                }
                _ => {
                    for child in step.children() {
                        count(child, misses, found);
                    }
                }
            }
        }
    }
    let mut found = [0, 0];
    for file in model.files.iter().filter(|f| f.cached_lookups) {
        for f in &file.functions {
            count(&f.body, false, &mut found[0]);
            count(&f.body, true, &mut found[1]);
        }
    }
    found
}

/// Keeps, of each cached lookup's branch, the arms of one case (`misses`: the loader runs).
fn assume_cache(model: &mut Model, misses: bool) {
    for_each_branch(
        model,
        |f| f.cached_lookups,
        |alts| {
            if alts.iter().any(|a| is_miss(a)) {
                alts.retain(|a| is_miss(a) == misses);
            }
        },
    );
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
    for file in model.files.iter_mut().filter(|f| wanted(f)) {
        for f in Arc::make_mut(file).functions.iter_mut() {
            apply_to_branches(&mut f.body, &mut edit);
        }
    }
}

/// Calls `edit` on the alternatives of every branch in `seq`, outer branches first (see
/// [`for_each_branch`]).
fn apply_to_branches(seq: &mut [Step], edit: &mut impl FnMut(&mut Vec<Vec<Step>>)) {
    for step in seq.iter_mut() {
        if let Step::Branch(alts) = step {
            edit(alts);
            if alts.is_empty() {
                alts.push(Vec::new());
            }
        }
        for child in step.children_mut() {
            apply_to_branches(child, edit);
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
            service: None,
            root: *id,
            app: None,
            middleware: Vec::new(),
        };
        // A handler without a route, or whose path names code hopcheck could not evaluate, is served
        // where the entry says.
        match model.routes.iter_mut().find(|r| {
            r.handler == *id
                && r.path
                    .as_deref()
                    .is_none_or(crate::facts::consts::kept_as_written)
        }) {
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

/// What a call passes that decides which copy of its callee it runs.
struct CallSite {
    callee: Callee,
    consts: Vec<Option<String>>,
    /// The callee's type parameters the call binds (none when empty), one list per way the call may
    /// bind them (`either(&Key, &Org { .. })` hands over one of two types).
    types: Vec<Vec<(String, String)>>,
    /// Already resolved for good: an extractor, or one implementation of several.
    fixed: bool,
    /// A method call's receiver type, where it is one type of the analysed code: a trait's default
    /// method it reaches runs for that type.
    receiver: Option<String>,
}

/// Resolves the calls of the functions that `roots` reach, and only those: a call elsewhere is on no
/// path any lint or report follows, and resolving is most of the model's work on a large tree. An
/// awaited method of a client type becomes a round trip to that service.
fn resolve_from(
    model: &mut Model,
    index: &mut Index,
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
        index.cover(&model.fns);
        own_methods_over_catalog(model, index, id);
        await_adapted_futures(model, index, id);
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
                        _ => index
                            .resolve_call(&model.files, &model.fns, id, c)
                            .or_else(|| {
                                // A closure's value made by an `async` function: a future it hands back.
                                if !c.returned {
                                    return None;
                                }
                                let returned = crate::facts::Call {
                                    awaited: true,
                                    ..c.clone()
                                };
                                index
                                    .resolve_call(&model.files, &model.fns, id, &returned)
                                    .filter(|&t| model.func(t).is_async)
                            }),
                    };
                    // Implementations recorded while typing a receiver belong to another call.
                    let mut alts = std::mem::take(&mut *index.alternatives.borrow_mut());
                    if !resolved.is_some_and(|r| alts.contains(&r)) {
                        alts.clear();
                    }
                    alternatives.push(alts);
                    let hop = match resolved {
                        None => index
                            .client_hop(&model.files, &model.fns, id, c, &config.catalog)
                            .or_else(|| index.generated_query(&model.files, &model.fns, id, c)),
                        Some(_) => None,
                    };
                    // The visitor marks the calls it knows cannot be followed (a GraphQL executor).
                    let unresolved = c.opaque
                        || resolved.is_none()
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
                    let target = calls[sites.len()].0.filter(|_| !fixed);
                    let types = match target {
                        Some(target) => index.bound_types(&model.files, &model.fns, id, c, target),
                        None => Vec::new(),
                    };
                    let receiver = target
                        .filter(|&t| is_default_body(model.func(t)))
                        .and_then(|_| index.method_receiver(&model.files, &model.fns, id, c));
                    sites.push(CallSite {
                        callee: c.callee.clone(),
                        consts: c.consts.iter().map(|t| index.with_defaults(t)).collect(),
                        types,
                        fixed,
                        receiver,
                    });
                }
            });
        }
        // Where the types this function binds its callees' generics to were named: here, or where its own
        // were bound.
        let bound_in = {
            let f = model.func(id);
            f.bound_in.clone().unwrap_or_else(|| f.module.clone())
        };
        for (((resolved, hop, _), site), alts) in
            calls.iter_mut().zip(&sites).zip(alternatives.iter_mut())
        {
            if let (Some(target), None, false) = (*resolved, &*hop, site.fixed) {
                // Bound one of several ways: a branch per way, as for a trait's implementations.
                if site.types.len() > 1 {
                    *alts = site
                        .types
                        .iter()
                        .map(|types| with_types(model, target, types, &bound_in))
                        .collect();
                }
                let first = site.types.first().map(Vec::as_slice).unwrap_or_default();
                let target = with_types(model, target, first, &bound_in);
                let target = redirect(model, id, site, target);
                *resolved = Some(with_constants(model, target, &site.consts));
            }
        }
        for (alts, site) in alternatives.iter_mut().zip(&sites) {
            for alt in alts.iter_mut() {
                let target = redirect(model, id, site, *alt);
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
                    if let Some(query) = hop.query {
                        // Read or write by its SQL, and sent where its executor goes, as the
                        // round trips the files hold are (see `classify_trips`).
                        trip.sql_const = Some(query);
                        *s = Step::Trip(trip);
                        return;
                    }
                    trip.access = Some(if hop.read {
                        Access::Read
                    } else {
                        Access::Write
                    });
                    trip.service = hop.service;
                    trip.origin = hop.origin;
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
                    c.unresolved = unresolved;
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

/// Undoes [`branch_implementations`]: each branch of one call per implementation becomes that call
/// again, to be resolved for the types a copy binds.
fn unbranch_implementations(seq: &mut [Step]) {
    for step in seq.iter_mut() {
        if let Step::Branch(arms) = step {
            let one_call = |arm: &Vec<Step>| match arm.as_slice() {
                [Step::Call(c)] if c.chosen => Some(c.id),
                _ => None,
            };
            let first = arms.first().and_then(one_call);
            if first.is_some() && arms.iter().all(|arm| one_call(arm) == first) {
                if let Some(Step::Call(mut call)) = arms[0].pop() {
                    call.chosen = false;
                    call.resolved = None;
                    *step = Step::Call(call);
                }
                continue;
            }
        }
        for child in step.children_mut() {
            unbranch_implementations(child);
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
    // A transaction closure handed to the analysed code's own method (`self.transaction(|tx| ..)`): the
    // method, which sends its own BEGIN and COMMIT, stands where the BEGIN was; the COMMIT goes.
    let mut ended = Vec::new();
    walk_mut(&mut f.body, &mut |s| {
        let Step::Trip(t) = s else { return };
        if t.or_method.is_none() || !own.next().unwrap_or(false) {
            return;
        }
        let Some(callee) = t.or_method.take() else {
            return;
        };
        if t.kind == crate::facts::TripKind::Commit && t.api.ends_with("(|..| ..)") {
            ended.push(t.call_loc);
            return;
        }
        *s = Step::Call(crate::facts::Call {
            after: std::mem::take(&mut t.after),
            on_connection: t.on_connection,
            ..crate::facts::Call::new(t.id, t.loc, callee)
        });
    });
    if !ended.is_empty() {
        crate::facts::retain_steps(&mut f.body, &|s| {
            !matches!(s, Step::Trip(t) if t.or_method.is_none()
                && t.kind == crate::facts::TripKind::Commit
                && ended.contains(&t.call_loc))
        });
    }
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

/// `repo.wait(id).with_timeout(d).await`, where `with_timeout` is the project's own adapter of any future
/// (a method of a trait that requires `Future`, or of one implemented for every `F: Future`): awaiting it
/// awaits the future it is called on, so that call is awaited. So is a future handed to a function
/// that awaits that parameter (`self.call_database(ks, Profile::find(&conn, id)).await`).
fn await_adapted_futures(model: &mut Model, index: &Index, id: usize) {
    let mut adapted = Vec::new();
    // (the call, a function named as its argument that it runs).
    let mut hosts: Vec<(u32, u32)> = Vec::new();
    for step in &model.func(id).body {
        step.walk(&mut |s| {
            if let Step::Call(c) = s {
                // `self.call_database(ks, Profile::find(&conn, id)).await`: a future handed to a
                // function that awaits that parameter runs there.
                let name = match &c.callee {
                    Callee::Method { name, .. } => Some(name),
                    Callee::Path(segs) => segs.last(),
                    Callee::Extractor(_) => None,
                };
                let awaiting = name.is_some_and(|n| index.awaiting.contains(n));
                if c.awaited && awaiting && !c.handed.is_empty() {
                    if let Some(t) = index.resolve_call(&model.files, &model.fns, id, c) {
                        // A future it awaits, or a function it calls (`handler(store, req).await`),
                        // itself or through the functions it hands the parameter on to.
                        let runs = |p: usize| runs_param(model, index, t, p, RUNS_PARAM_DEPTH);
                        for &(p, inner) in &c.handed {
                            if runs(p) {
                                adapted.push(inner);
                                hosts.push((c.id, inner));
                            }
                        }
                    }
                }
                if let Some(inner) = c.future_of {
                    let adapter = match (
                        index.resolve_call(&model.files, &model.fns, id, c),
                        &c.callee,
                    ) {
                        (Some(t), _) => index.adapts_futures(model.func(t)),
                        (None, Callee::Method { name, .. }) => {
                            index.only_future_adapters(name, |f| model.func(f))
                        }
                        _ => false,
                    };
                    if adapter {
                        adapted.push(inner);
                    }
                }
            }
        });
    }
    let named = model.func(id).body.iter().any(|s| {
        let mut found = false;
        s.walk(&mut |s| found |= matches!(s, Step::Call(c) if c.named));
        found
    });
    if adapted.is_empty() && !named {
        return;
    }
    let f = fn_mut(&mut model.files, model.fns[id]);
    walk_mut(&mut f.body, &mut |s| {
        if let Step::Call(c) = s {
            c.awaited |= adapted.contains(&c.id);
        }
    });
    // A function named as an argument that the callee does not call runs nowhere here; one it calls
    // runs inside it, after the work it does first (`process_request_secured(req, .., service)` checks
    // the token, then runs the service).
    if named {
        retain_steps(
            &mut f.body,
            &|s| !matches!(s, Step::Call(c) if c.named && !adapted.contains(&c.id)),
        );
        move_after_hosts(&mut f.body, &hosts);
    }
}

/// Moves each named function's call (recorded ahead of the call it is handed to) to just after that
/// call, in whichever sequence holds both.
fn move_after_hosts(seq: &mut Vec<Step>, hosts: &[(u32, u32)]) {
    let position = |seq: &[Step], id: u32| {
        seq.iter()
            .position(|s| matches!(s, Step::Call(c) if c.id == id))
    };
    for &(host, inner) in hosts {
        if let (Some(i), Some(h)) = (position(seq, inner), position(seq, host)) {
            if i < h {
                let step = seq.remove(i);
                seq.insert(h, step);
            }
        }
    }
    for step in seq.iter_mut() {
        for child in step.children_mut() {
            move_after_hosts(child, hosts);
        }
    }
}

/// How many functions deep a parameter handed on is followed to where it is run.
const RUNS_PARAM_DEPTH: usize = 4;

/// Whether function `t` runs what its caller passes at position `p`: it awaits that future or calls that
/// function, or hands the parameter on (`process_request(state, input, service)`) to a function that runs
/// it, up to `depth` functions deep.
fn runs_param(model: &Model, index: &Index, t: usize, p: usize, depth: usize) -> bool {
    let f = model.func(t);
    if f.awaited_params.contains(&p) || f.param_calls.iter().any(|c| c.0 == p) {
        return true;
    }
    if depth == 0 {
        return false;
    }
    let mut handed = Vec::new();
    for step in &f.body {
        step.walk(&mut |s| {
            if let Step::Call(c) = s {
                for (q, v) in c.consts.iter().enumerate() {
                    if v.as_deref().and_then(crate::resolve::handed_param) == Some(p) {
                        handed.push((c, q));
                    }
                }
            }
        });
    }
    handed.into_iter().any(|(c, q)| {
        index
            .resolve_call(&model.files, &model.fns, t, c)
            .is_some_and(|next| next != t && runs_param(model, index, next, q, depth - 1))
    })
}

/// Keeps, in `seq` and every sequence nested in it, the steps `keep` says.
fn retain_steps(seq: &mut Vec<Step>, keep: &dyn Fn(&Step) -> bool) {
    seq.retain(|s| keep(s));
    for step in seq.iter_mut() {
        for child in step.children_mut() {
            retain_steps(child, keep);
        }
    }
}

/// For each call whose result an `if let`/`match` of the same sequence tests (`match reserve(..).await?
/// { Next::Replay(r) => return Ok(r), Next::Fresh => {} }`), the call moves into each arm as a copy of
/// the callee that keeps only the paths yielding what the arm needs: the callee's costly path that makes
/// the caller return is no longer joined with what the caller does after. Returns the copies made.
fn distribute_outcomes(model: &mut Model, id: usize) -> Vec<usize> {
    use crate::facts::Guarded;
    // What each tested call reaches, and the patterns its arms need.
    // A call that goes several ways (a function written once per build, whose build is not known) is
    // each of them: its outcome is not read from one.
    let mut targets: HashMap<u32, Option<usize>> = HashMap::new();
    let mut wanted: Vec<(u32, String)> = Vec::new();
    for step in &model.func(id).body {
        step.walk(&mut |s| match s {
            Step::Call(c) => {
                if let Some(t) = c.resolved {
                    let seen = targets.entry(c.id).or_insert(Some(t));
                    if *seen != Some(t) {
                        *seen = None;
                    }
                }
            }
            Step::Guard {
                on: Guarded::Outcome(call),
                pattern,
            } => wanted.push((*call, pattern.clone())),
            _ => {}
        });
    }
    let mut copies: OutcomeCopies = HashMap::new();
    let mut made = Vec::new();
    let origin = |model: &Model, f: usize| model.recursion_key(f);
    for (call, pattern) in wanted {
        let Some(&Some(target)) = targets.get(&call) else {
            continue;
        };
        // A recursive call stays one: its cost is on the path once, whatever it yields.
        if origin(model, target) == origin(model, id) {
            continue;
        }
        let Some((copy, new, admits)) = outcome_copy(model, target, &pattern) else {
            continue;
        };
        if new {
            made.push(copy);
        }
        copies.insert((call, pattern), (copy, admits));
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
            Step::Call(c) if c.propagates => c
                .resolved
                .and_then(|t| split.get(&(c.id, t)))
                .map(|&(ok, failed)| (c.clone(), ok, failed)),
            _ => None,
        };
        let Some((mut on_ok, ok, failed)) = found else {
            for child in seq[i].children_mut() {
                split_in(child, split);
            }
            continue;
        };
        let mut rest: Vec<Step> = seq.drain(i + 1..).collect();
        seq.truncate(i);
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

/// (tested call, the pattern an arm needs) → (the callee on its paths yielding it, whether any does).
type OutcomeCopies = HashMap<(u32, String), (usize, bool)>;

fn distribute_in(seq: &mut Vec<Step>, copies: &OutcomeCopies) {
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
            let arms: Vec<Vec<Step>> = alts
                .into_iter()
                .filter_map(|arm| {
                    let pattern = match arm.first() {
                        Some(Step::Guard {
                            on: Guarded::Outcome(c),
                            pattern,
                        }) if *c == call => Some(pattern.clone()),
                        _ => None,
                    };
                    let mut c = first.clone();
                    if let Some(&(copy, admits)) = pattern
                        .as_ref()
                        .and_then(|p| copies.get(&(call, p.clone())))
                    {
                        // An arm that needs a value the callee never yields (`Caller::Member` of a
                        // function that only yields `Caller::ApiKey`) does not run. Failures are not
                        // all said (`query(..).await?`), so an arm that needs one always may.
                        if !admits && pattern.as_deref().is_some_and(names_a_value) {
                            return None;
                        }
                        c.resolved = Some(copy);
                    }
                    // A cached lookup's miss stays marked as one, first in its arm.
                    let mut arm = arm.into_iter().peekable();
                    let mut out: Vec<Step> = arm
                        .next_if(|s| {
                            matches!(
                                s,
                                Step::Guard {
                                    on: Guarded::Cache,
                                    ..
                                }
                            )
                        })
                        .into_iter()
                        .collect();
                    out.push(Step::Call(c));
                    out.extend(taken.iter().cloned());
                    out.extend(arm);
                    Some(out)
                })
                .collect();
            if arms.is_empty() {
                // No arm's need is ever met (the callee's yields say less than its code): the call
                // still runs.
                let mut only = vec![Step::Call(first)];
                only.extend(taken);
                seq.splice(i..i, only);
            } else {
                seq.insert(i, Step::Branch(arms));
            }
        }
        for child in seq[i].children_mut() {
            distribute_in(child, copies);
        }
        i += 1;
    }
}

/// Does an arm that needs `pattern` need a value (a variant, `Some`, `Ok`), rather than a failure or
/// the absence of one?
fn names_a_value(pattern: &str) -> bool {
    !pattern.starts_with('!')
        && !matches!(pattern, "Err" | "None" | "Forward")
        && pattern != crate::facts::FAILS
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
            // A path that ends without saying what it yields (`return role >= min;`) may yield anything.
            Step::Exit => admits = true,
            // `helper(..).await?`: the function may end here, failing.
            Step::Call(c) if c.propagates => admits |= outcome_admits(pattern, "Err"),
            Step::Branch(alts) => {
                let after = admits;
                admits = retain_arms(alts, pruned, |arm, pruned| {
                    restrict_seq(arm, pattern, after, pruned)
                });
            }
            // A loop's body and the branches of a join go on to what follows them: their arms that
            // leave the function are kept as their yields say, and the function can end yielding
            // `pattern` where one of them does (`for s in secrets { if ok { return Ok(()) } }`).
            step => {
                for child in step.children_mut() {
                    let mut leaving = child.clone();
                    admits |= restrict_seq(&mut leaving, pattern, false, &mut false);
                    restrict_seq(child, pattern, true, pruned);
                }
            }
        }
    }
    admits
}

/// Keeps the arms of a branch that `keep` says can take a wanted path (it restricts each arm in
/// turn); `pruned` is set where one was left out. A branch none of whose arms can keeps one empty arm.
/// Returns whether any arm can.
fn retain_arms(
    alts: &mut Vec<Vec<Step>>,
    pruned: &mut bool,
    mut keep: impl FnMut(&mut Vec<Step>, &mut bool) -> bool,
) -> bool {
    let arms = alts.len();
    let mut any = false;
    alts.retain_mut(|arm| {
        let kept = keep(arm, pruned);
        any |= kept;
        kept
    });
    *pruned |= alts.len() < arms;
    if alts.is_empty() {
        alts.push(Vec::new());
    }
    any
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
fn with_types(
    model: &mut Model,
    target: usize,
    types: &[(String, String)],
    bound_in: &[String],
) -> usize {
    if types.is_empty() {
        return target;
    }
    let key = (target, types.to_vec(), bound_in.to_vec());
    if let Some(&copy) = model.copies.by_types.get(&key) {
        return copy;
    }
    let copy = add_copy(model, target, |f| {
        // The original may have been priced over every implementation already: the copy chooses anew.
        unbranch_implementations(&mut f.body);
        f.bound_in = Some(bound_in.to_vec());
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
                let len = l.over_param.and_then(|p| {
                    let held = consts.get(p)?.as_deref()?;
                    match &l.over_field {
                        Some(f) => const_len(struct_field(held, f)?),
                        None => const_len(held),
                    }
                });
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
    // `SoftSingle,SoftMulti`: one of the variants; `!SoftSingle,SoftMulti`: none of them.
    match pattern.strip_prefix('!') {
        Some(not) => not.split(',').all(|n| n != value),
        None => pattern.split(',').any(|p| p == value),
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

/// Does the handler's file import the crate `krate` (`use axum::..`)?
fn imports(model: &Model, h: usize, krate: &str) -> bool {
    model
        .file_of(h)
        .uses
        .iter()
        .any(|u| u.path.first().is_some_and(|p| p == krate))
}

/// The web framework a handler's file imports, where it imports one of rocket and axum only.
fn handler_framework(model: &Model, h: usize) -> Option<&'static str> {
    match (imports(model, h, "rocket"), imports(model, h, "axum")) {
        (true, false) => Some("rocket"),
        (false, true) => Some("axum"),
        _ => None,
    }
}

/// Is the handler an actix-web one (its file uses actix-web, and neither axum nor rocket)?
fn serves_with_actix(model: &Model, h: usize) -> bool {
    imports(model, h, "actix_web") && handler_framework(model, h).is_none()
}

/// rocket's `from_request(request)` takes the request alone; axum's `from_request_parts(parts, state)` and
/// `from_request(req, state)` take the state too.
fn extractor_framework(f: &FnFacts) -> &'static str {
    if f.name == "from_request" && f.arity == Some(1) {
        "rocket"
    } else {
        "axum"
    }
}

/// A handler's extractors run before its body: their round trips go first on its path, as calls.
fn add_extractors(model: &mut Model, index: &Index) {
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
    // Handlers, and the middleware their routes' layers run (`auth(State(s), jwt: Jwt, req, next)` takes
    // extractors as a handler does).
    let handlers: HashSet<usize> = model
        .routes
        .iter()
        .flat_map(|r| std::iter::once(r.handler).chain(r.middleware.iter().flatten().copied()))
        .collect();
    // What the layers of a handler's routes store in the request's extensions before it runs (a
    // permission layer that stores the user it authenticated), on every route it serves.
    let mut layered: HashMap<usize, Vec<String>> = HashMap::new();
    let mut stored_by: HashMap<usize, Vec<String>> = HashMap::new();
    for r in &model.routes {
        let mut by_layers: Vec<String> = Vec::new();
        for &m in r.middleware.iter().flatten() {
            let types = stored_by
                .entry(m)
                .or_insert_with(|| stores(model, Some(index), m, &by_type));
            by_layers.extend(types.iter().cloned());
        }
        by_layers.sort();
        by_layers.dedup();
        match layered.get_mut(&r.handler) {
            Some(have) => have.retain(|t| by_layers.contains(t)),
            None => {
                layered.insert(r.handler, by_layers);
            }
        }
    }
    let mut stored_copies = HashMap::new();
    for h in handlers {
        let mut calls: Vec<Step> = Vec::new();
        // A parameter a library's extractor fills (`web::Json<Notification>`) does not run the wrapped
        // type's extractor.
        let library = model.func(h).library_extracted.clone();
        let params: Vec<(String, crate::facts::Loc)> = model
            .func(h)
            .param_types
            .iter()
            .enumerate()
            .map(|(i, (ty, loc))| match library.contains(&i) {
                true => (String::new(), *loc),
                false => (ty.clone(), *loc),
            })
            .collect();
        // What the layers and the extractors before this one stored in the request's extensions.
        let mut stored: Vec<String> = layered.get(&h).cloned().unwrap_or_default();
        // A tuple of extractors (actix's and axum's `(user, db): (SignedInUser, Data<Db>)`) runs each
        // of its elements; the first keeps the parameter's id.
        let elements = params.iter().enumerate().flat_map(|(i, (ty, loc))| {
            let parts: Vec<String> = match ty.strip_prefix('(').and_then(|t| t.strip_suffix(')')) {
                Some(elems) => elems.split(',').map(str::to_string).collect(),
                None => vec![ty.clone()],
            };
            parts.into_iter().enumerate().map(move |(j, ty)| {
                let id = match j {
                    0 => u32::MAX - i as u32,
                    _ => u32::MAX - 1024 - (i * 32 + j) as u32,
                };
                (id, ty, *loc)
            })
        });
        for (id, ty, loc) in elements.collect::<Vec<_>>() {
            let ty = &ty;
            // The one the handler's module imports by name (two modules may each define an `Auth`),
            // else the handler's own module's (two may each define a `PageContext`), then its crate's.
            let found = by_type.get(ty).and_then(|ids| {
                let module = &model.func(h).module;
                let imported = index.imported_from(h, module, ty);
                // A type may be an extractor for two frameworks (rocket's `FromRequest` and axum's
                // `FromRequestParts`, each behind a feature): the one of the framework the handler's
                // file uses.
                let framework = handler_framework(model, h);
                let fitting: Vec<usize> = ids
                    .iter()
                    .copied()
                    .filter(|&id| {
                        framework.is_none_or(|fw| extractor_framework(model.func(id)) == fw)
                    })
                    .collect();
                let ids = if fitting.is_empty() { ids } else { &fitting };
                // Not one a test or a tool stands up that only panics (`unimplemented!()` for the
                // dummy state an OpenAPI generator builds the router with): the service never runs it.
                let real: Vec<usize> = ids
                    .iter()
                    .copied()
                    .filter(|&id| !model.func(id).is_stub())
                    .collect();
                let ids = if real.is_empty() { ids } else { &real };
                // The handler imports a type of that name from a library (`use
                // actix_web_httpauth::extractors::bearer::BearerAuth` beside the project's own
                // `BearerAuth` of another module): the library's type, not the project's extractor.
                if imported.is_some_and(|from| index.in_another_library(from)) {
                    return None;
                }
                ids.iter()
                    .copied()
                    .find(|&id| {
                        Some(model.func(id).module.as_slice()) == imported
                            && crate_of(model, id) == crate_of(model, h)
                    })
                    .or_else(|| {
                        ids.iter()
                            .copied()
                            .find(|&id| model.func(id).module == *module)
                    })
                    .or_else(|| {
                        ids.iter()
                            .copied()
                            .find(|&id| crate_of(model, id) == crate_of(model, h))
                    })
                    .or(ids.first().copied())
            });
            if let Some(target) = found {
                let target = with_stored(model, target, &stored, &mut stored_copies, &by_type);
                for ty in stores(model, None, target, &by_type) {
                    if !stored.contains(&ty) {
                        stored.push(ty);
                    }
                }
                stored.sort();
                let call = |resolved: usize| {
                    Step::Call(crate::facts::Call {
                        resolved: Some(resolved),
                        ..crate::facts::Call::new(id, loc, Callee::Extractor(ty.clone()))
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
        // actix-web extracts a handler's parameters as one tuple, whose future polls all of them
        // together: their round trips overlap, the slowest is the wait (each taken where it succeeds,
        // as the handler runs only then).
        if calls.len() > 1 && serves_with_actix(model, h) {
            let loc = model.func(h).loc;
            let branches = calls
                .drain(..)
                .map(|step| match step {
                    Step::Branch(mut arms) if arms.len() == 2 => arms.swap_remove(0),
                    other => vec![other],
                })
                .collect();
            calls.push(Step::Concurrent(crate::facts::Concurrent {
                loc,
                form: "actix-web's extractors".into(),
                branches,
                at_once: None,
            }));
        }
        // Another function calling the handler hands it values it already has: it runs the body alone.
        let body = add_copy(model, h, |_| {});
        model.copies.handler_bodies.insert(h, body);
        let f = fn_mut(&mut model.files, model.fns[h]);
        calls.append(&mut f.body);
        f.body = calls;
    }
}

/// A middleware that lets the routes a constant table lists through untouched (`if should_skip_auth(&req)
/// { true } else { set_auth_user(&mut req) }`, where `should_skip_auth` looks the request up in
/// `SKIP_AUTH_ROUTES`): on each route, a copy of it with only the arm the table says for that route's
/// method and path.
fn skip_listed_routes(model: &mut Model, index: &Index) {
    // Per middleware, the tables its tests look the request up in (read once, used on every route).
    let mut tables: HashMap<usize, Vec<(u32, Vec<crate::facts::ListedRoute>)>> = HashMap::new();
    let mut by_method: HashMap<usize, bool> = HashMap::new();
    // A middleware's copy per answer of its tables and per method it runs for.
    type Answers = (usize, Vec<(u32, bool)>, String);
    let mut copies: HashMap<Answers, usize> = HashMap::new();
    for i in 0..model.routes.len() {
        let (Some(method), Some(path)) =
            (model.routes[i].method.clone(), model.routes[i].path.clone())
        else {
            continue;
        };
        let mut middleware = model.routes[i].middleware.clone();
        for slot in middleware.iter_mut() {
            for m in slot.iter_mut() {
                let id = *m;
                let tested = tables
                    .entry(id)
                    .or_insert_with(|| path_tables_tested(model, index, id));
                let tests_method = *by_method
                    .entry(id)
                    .or_insert_with(|| tests_method(&model.func(id).body));
                if tested.is_empty() && !tests_method {
                    continue;
                }
                // The route's method, where the middleware tests it and the route has one.
                let known = tests_method && !matches!(method.as_str(), "ANY" | "GRPC" | "GRAPHQL");
                let runs_for = if known { method.clone() } else { String::new() };
                let tests: Vec<(u32, bool)> = tested
                    .iter()
                    .map(|(call, entries)| {
                        let listed = entries.iter().any(|(m, p)| {
                            m.as_deref().is_none_or(|m| m.eq_ignore_ascii_case(&method))
                                && same_route(p, &path)
                        });
                        (*call, listed)
                    })
                    .collect();
                let key = (id, tests.clone(), runs_for.clone());
                *m = *copies.entry(key).or_insert_with(|| {
                    let mut body = model.func(id).body.clone();
                    let mut changed = false;
                    for (call, listed) in tests {
                        let want = if listed { "true" } else { "false" };
                        changed |= keep_tested(&mut body, call, want);
                    }
                    if !runs_for.is_empty() {
                        changed |= keep_method(&mut body, &runs_for);
                    }
                    match changed {
                        true => add_copy(model, id, |f| f.body = body),
                        false => id,
                    }
                });
            }
        }
        model.routes[i].middleware = middleware;
    }
}

/// Of the calls middleware `m` tests as a `bool`, those to a function that looks the request up in a
/// table of route paths (see [`crate::facts::FnFacts::path_table`]): each one's id, and the table's
/// entries.
fn path_tables_tested(
    model: &Model,
    index: &Index,
    m: usize,
) -> Vec<(u32, Vec<crate::facts::ListedRoute>)> {
    // The calls an arm's guard tests as a `bool`, and the calls by path the body makes.
    let mut tested: Vec<u32> = Vec::new();
    let mut calls: Vec<(u32, Callee)> = Vec::new();
    for step in &model.func(m).body {
        step.walk(&mut |s| match s {
            Step::Guard {
                on: crate::facts::Guarded::Outcome(c),
                pattern,
            } if matches!(pattern.as_str(), "true" | "false") => tested.push(*c),
            Step::Call(c) if matches!(c.callee, Callee::Path(_)) => {
                calls.push((c.id, c.callee.clone()))
            }
            _ => {}
        });
    }
    calls.retain(|(id, _)| tested.contains(id));
    calls
        .into_iter()
        .filter_map(|(id, callee)| {
            let f = index.resolve(&model.files, &model.fns, m, &callee)?;
            let table = model.func(f).path_table.as_ref()?;
            let here = &model.file_of(f).path_tables;
            let entries = here
                .iter()
                .chain(model.files.iter().flat_map(|file| &file.path_tables))
                .find(|(name, _)| name == table)
                .map(|(_, entries)| entries.clone())?;
            Some((id, entries))
        })
        .collect()
}

/// Does a listed path name the route's (`/api/articles/{slug}/comments`), a parameter segment matching a
/// parameter segment?
fn same_route(listed: &str, route: &str) -> bool {
    let param = |s: &str| {
        (s.starts_with('{') && s.ends_with('}'))
            || (s.starts_with('<') && s.ends_with('>'))
            || s.starts_with(':')
    };
    let (a, b): (Vec<&str>, Vec<&str>) = (listed.split('/').collect(), route.split('/').collect());
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || (param(x) && param(y)))
}

/// Does the body test the request's method (see [`crate::facts::Guarded::Method`])?
fn tests_method(body: &[Step]) -> bool {
    let mut found = false;
    for step in body {
        step.walk(&mut |s| {
            found |= matches!(
                s,
                Step::Guard {
                    on: crate::facts::Guarded::Method,
                    ..
                }
            );
        });
    }
    found
}

/// Leaves out, at every depth, the arms that run only for other methods than `method`. Whether it left
/// any out.
fn keep_method(seq: &mut [Step], method: &str) -> bool {
    let admits = |pattern: &str| match pattern.strip_prefix('!') {
        Some(not) => !not.split(',').any(|m| m.eq_ignore_ascii_case(method)),
        None => pattern.split(',').any(|m| m.eq_ignore_ascii_case(method)),
    };
    drop_arms(seq, &|arm: &[Step]| {
        arm.iter()
            .map_while(|s| match s {
                Step::Guard { on, pattern } => Some((on, pattern)),
                _ => None,
            })
            .any(|(on, p)| matches!(on, crate::facts::Guarded::Method) && !admits(p))
    })
}

/// Leaves out, at every depth, the arms that run only where call `call` yields other than `want`.
/// Whether it left any out.
fn keep_tested(seq: &mut [Step], call: u32, want: &str) -> bool {
    drop_arms(seq, &|arm: &[Step]| {
        matches!(arm.first(), Some(Step::Guard { on: crate::facts::Guarded::Outcome(c), pattern })
            if *c == call && matches!(pattern.as_str(), "true" | "false") && pattern != want)
    })
}

/// Leaves out, at every depth, the arms of a branch that `ruled_out` says cannot run, where another arm
/// of it can. Whether it left any out.
fn drop_arms(seq: &mut [Step], ruled_out: &dyn Fn(&[Step]) -> bool) -> bool {
    let mut changed = false;
    for step in seq.iter_mut() {
        if let Step::Branch(alts) = step {
            if alts.iter().any(|a| !ruled_out(a)) {
                let before = alts.len();
                alts.retain(|a| !ruled_out(a));
                changed |= alts.len() < before;
            }
        }
        for child in step.children_mut() {
            changed |= drop_arms(child, ruled_out);
        }
    }
    changed
}

/// Runs the middleware of each route's layers (`.layer(middleware::from_fn(auth))`) before its handler:
/// a call of each, in the order they run, ahead of the handler's extractors and body. A handler mounted
/// behind different layers on different routes runs as a copy per set of layers.
fn add_middleware(model: &mut Model) {
    let mut sets: HashMap<usize, Vec<Vec<Vec<usize>>>> = HashMap::new();
    for r in &model.routes {
        let seen = sets.entry(r.handler).or_default();
        if !seen.contains(&r.middleware) {
            seen.push(r.middleware.clone());
        }
    }
    let mut runs: HashMap<(usize, Vec<Vec<usize>>), usize> = HashMap::new();
    for i in 0..model.routes.len() {
        let (h, middleware) = (model.routes[i].handler, model.routes[i].middleware.clone());
        if middleware.is_empty() {
            continue;
        }
        if let Some(&run) = runs.get(&(h, middleware.clone())) {
            model.routes[i].handler = run;
            continue;
        }
        // Another function calling the handler runs its body alone.
        if !model.copies.handler_bodies.contains_key(&h) {
            let body = add_copy(model, h, |_| {});
            model.copies.handler_bodies.insert(h, body);
        }
        let run = match sets[&h].len() {
            1 => h,
            _ => add_copy(model, h, |_| {}),
        };
        let loc = model.func(h).loc;
        let mut k = 0;
        let mut calls: Vec<Step> = Vec::new();
        for slot in &middleware {
            let mut arms: Vec<Vec<Step>> = Vec::new();
            for &m in slot {
                let passing = passing_copies(model, m);
                let mut call = |m: usize| {
                    k += 1;
                    Step::Call(crate::facts::Call {
                        resolved: Some(m),
                        awaited: true,
                        ..crate::facts::Call::new(
                            // Apart from the extractors' ids (`u32::MAX - 1024 - ..`) and the pool
                            // guards' (`u32::MAX - 4096 - ..`).
                            u32::MAX - 8192 - k as u32,
                            loc,
                            Callee::Extractor(format!(
                                "{}{}",
                                crate::facts::MIDDLEWARE,
                                model.func(m).name
                            )),
                        )
                    })
                };
                // The request goes on only where the middleware hands it to the next handler; where
                // it answers itself (`return Err(FORBIDDEN)` after an audit write), it ends there.
                match passing {
                    Some((passes, stops)) => {
                        arms.push(vec![call(passes)]);
                        arms.push(vec![call(stops), Step::Exit]);
                    }
                    None => arms.push(vec![call(m)]),
                }
            }
            match arms.len() {
                1 => calls.append(&mut arms[0]),
                _ => calls.push(Step::Branch(arms)),
            }
        }
        let f = fn_mut(&mut model.files, model.fns[run]);
        calls.append(&mut f.body);
        f.body = calls;
        runs.insert((h, middleware), run);
        model.routes[i].handler = run;
    }
}

/// The types function `id` stores in the request's extensions, itself, through the calls it makes, or
/// through the extractors it asks for by name (`AdminRole` asks for `SessionInfo`, which stores itself).
/// With `index`, calls not resolved yet are resolved here (a layer's helper that stores the user).
fn stores(
    model: &Model,
    index: Option<&Index>,
    id: usize,
    extractors: &HashMap<String, Vec<usize>>,
) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut seen = HashSet::new();
    let mut queue = vec![(id, 0)];
    while let Some((f, depth)) = queue.pop() {
        if !seen.insert(f) || depth > 8 {
            continue;
        }
        let func = model.func(f);
        out.extend(func.extensions.iter().cloned());
        for step in &func.body {
            step.walk(&mut |s| {
                let Step::Call(c) = s else { return };
                let resolved = c.resolved.or_else(|| {
                    index.and_then(|ix| ix.resolve_call(&model.files, &model.fns, f, c))
                });
                queue.extend(resolved.map(|t| (t, depth + 1)));
                // Calls are not resolved yet where extractors are added: another extractor asked for
                // by name (`SessionInfo::from_request_parts(parts, state)`) is found by its type.
                if let Some(ty) = extractor_by_name(&c.callee) {
                    let ids = extractors.get(ty).into_iter().flatten();
                    queue.extend(ids.map(|&t| (t, depth + 1)));
                }
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Extractor `id` run where the request's extensions already hold values of the `stored` types: a copy
/// without the arms that run where one is missing (`if let Some(s) = parts.extensions.get::<SessionInfo>()
/// { s.clone() } else { SessionInfo::from_request_parts(..).await? }` takes the first).
fn with_stored(
    model: &mut Model,
    id: usize,
    stored: &[String],
    copies: &mut HashMap<(usize, Vec<String>), usize>,
    extractors: &HashMap<String, Vec<usize>>,
) -> usize {
    let absent = |arm: &[Step]| {
        matches!(arm.first(), Some(Step::Guard { on: crate::facts::Guarded::Extension, pattern })
            if pattern.strip_prefix('!').is_some_and(|t| stored.iter().any(|s| s == t)))
    };
    if stored.is_empty() {
        return id;
    }
    let key = (id, stored.to_vec());
    if let Some(&copy) = copies.get(&key) {
        return copy;
    }
    // Itself, while its copy is made (an extractor that asks for itself).
    copies.insert(key.clone(), id);
    let mut body = model.func(id).body.clone();
    let mut changed = drop_arms(&mut body, &absent);
    // Another extractor it asks for by name (`RequireAuth::from_request_parts(parts, state)` in
    // `RequireWorkspaceMember`'s): that one's copy, with the same values stored.
    let mut named: Vec<String> = Vec::new();
    for step in &body {
        step.walk(&mut |s| {
            if let Step::Call(c) = s {
                if let (None, Some(ty)) = (c.resolved, extractor_by_name(&c.callee)) {
                    if extractors.get(ty).is_some_and(|ids| ids.len() == 1) && !named.contains(ty) {
                        named.push(ty.clone());
                    }
                }
            }
        });
    }
    let mut copied: HashMap<String, usize> = HashMap::new();
    for ty in named {
        let target = extractors[&ty][0];
        let copy = with_stored(model, target, stored, copies, extractors);
        if copy != target {
            copied.insert(ty, copy);
        }
    }
    if !copied.is_empty() {
        crate::facts::walk_mut(&mut body, &mut |s| {
            if let Step::Call(c) = s {
                if let Some(&copy) = extractor_by_name(&c.callee).and_then(|ty| copied.get(ty)) {
                    c.resolved = Some(copy);
                    c.chosen = true;
                }
            }
        });
        changed = true;
    }
    let copy = if changed {
        add_copy(model, id, |f| f.body = body)
    } else {
        id
    };
    copies.insert(key, copy);
    copy
}

/// The type of an extractor a call asks for by name (`RequireAuth::from_request_parts(parts, state)`).
fn extractor_by_name(callee: &Callee) -> Option<&String> {
    match callee {
        Callee::Path(segs) => match segs.as_slice() {
            [.., ty, f] if matches!(f.as_str(), "from_request_parts" | "from_request") => Some(ty),
            _ => None,
        },
        _ => None,
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

/// Middleware `id` (a function taking the next handler, `next: Next`) run only on its paths that hand
/// the request on (`next.run(request).await`), and only on those that answer it themselves: two copies,
/// made once. None where every path hands it on, or where it hands it on nowhere hopcheck can see.
fn passing_copies(model: &mut Model, id: usize) -> Option<(usize, usize)> {
    const PASSES: &str = "\u{0}passes";
    const STOPS: &str = "\u{0}stops";
    if let (Some(&(p, _)), Some(&(s, _))) = (
        model.copies.by_outcome.get(&(id, PASSES.to_string())),
        model.copies.by_outcome.get(&(id, STOPS.to_string())),
    ) {
        return (p != s).then_some((p, s));
    }
    let f = model.func(id);
    let next: Vec<String> = f
        .params
        .iter()
        .filter(|(_, t)| t == "Next")
        .map(|(n, _)| n.clone())
        .collect();
    let is_next = |c: &crate::facts::Call| {
        matches!(&c.callee, Callee::Method { name, receiver, .. }
            if matches!(name.as_str(), "run" | "call")
                && matches!(receiver.as_slice(), [r] if next.contains(r)))
    };
    let mut passes = f.body.clone();
    let mut stops = f.body.clone();
    let (mut cut_passing, mut cut_stopping) = (false, false);
    let any_passes = keep_passing(&mut passes, &is_next, true, false, &mut cut_passing);
    let any_stops = keep_passing(&mut stops, &is_next, false, true, &mut cut_stopping);
    let result = if next.is_empty() || !any_passes || !any_stops {
        (id, id)
    } else {
        let p = match cut_passing {
            true => add_copy(model, id, |f| f.body = passes),
            false => id,
        };
        (p, add_copy(model, id, |f| f.body = stops))
    };
    model
        .copies
        .by_outcome
        .insert((id, PASSES.to_string()), (result.0, true));
    model
        .copies
        .by_outcome
        .insert((id, STOPS.to_string()), (result.1, true));
    (result.0 != result.1).then_some(result)
}

/// Keeps, of the arms in `seq`, those on a path that hands the request on (a call `is_next` names) when
/// `pass`, or on one that ends without doing so when not; `end` says whether going past the end of
/// `seq` is such a path. Returns whether any path through `seq` is; `cut` is set where an arm was left
/// out. A loop's or a join's arms are kept (a pass of the loop goes on to what follows it).
fn keep_passing(
    seq: &mut [Step],
    is_next: &dyn Fn(&crate::facts::Call) -> bool,
    pass: bool,
    end: bool,
    cut: &mut bool,
) -> bool {
    let mut admits = end;
    for step in seq.iter_mut().rev() {
        match step {
            Step::Exit => admits = !pass,
            Step::Call(c) if is_next(c) => admits = pass,
            // `check(..).await?`: the middleware may answer here, failing.
            Step::Call(c) if c.propagates => admits |= !pass,
            Step::Branch(alts) => {
                let after = admits;
                admits = retain_arms(alts, cut, |arm, cut| {
                    keep_passing(arm, is_next, pass, after, cut)
                });
            }
            step => {
                for child in step.children_mut() {
                    let mut leaving = child.clone();
                    admits |= keep_passing(&mut leaving, is_next, pass, false, &mut false);
                }
            }
        }
    }
    admits
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
fn redirect(model: &mut Model, caller: usize, site: &CallSite, target: usize) -> usize {
    if let Some(&body) = model.copies.handler_bodies.get(&target) {
        return body;
    }
    let f = model.func(target);
    if !is_default_body(f) {
        return target;
    }
    let Some(default_of) = f.trait_name.clone() else {
        return target;
    };
    let ty = match &site.callee {
        // `check.allows(..)` with `check` a `CanRead`: `CanRead`'s run of the default body.
        Callee::Method { .. } => match &site.receiver {
            Some(ty) => ty.clone(),
            None => return target,
        },
        Callee::Path(segs) => match segs.as_slice() {
            [ty, _] if ty == "Self" => match &model.func(caller).self_ty {
                Some(t) => t.clone(),
                None => return target,
            },
            // `A::from_id(..)` in a copy whose `A` its caller bound (`inbox::<User>(..)`): that type's.
            [ty, _] => match model.func(caller).generics.iter().find(|(g, _)| g == ty) {
                Some((_, bound)) => match bound.strip_prefix('=') {
                    Some(bound) => bound.to_string(),
                    None => return target,
                },
                None => ty.clone(),
            },
            _ => return target,
        },
        _ => return target,
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

/// A trait's default body (written in the trait, its `Self` any implementing type).
fn is_default_body(f: &FnFacts) -> bool {
    matches!((&f.self_ty, &f.trait_name), (Some(ty), Some(tr)) if ty == tr)
}

/// A function to annotate: its file is copied first if the language server's cache shares it.
fn fn_mut(files: &mut [Arc<FileFacts>], r: FnRef) -> &mut FnFacts {
    &mut Arc::make_mut(&mut files[r.file]).functions[r.index]
}

/// Files that are modules declared `#[cfg(test)] mod x;` elsewhere hold only test code.
/// async-graphql's `#[derive(MergedObject)] struct QueryRoot(UsersQuery, PostsQuery);`: the fields of
/// each type merged into a root (also through another merged type) are the root's, entry points as the
/// root's own are.
fn merged_graphql_fields(files: &mut [Arc<FileFacts>]) {
    let merged: HashMap<&str, &Vec<String>> = files
        .iter()
        .flat_map(|f| f.merged_objects.iter())
        .map(|(name, parts)| (name.as_str(), parts))
        .collect();
    let mut members: HashSet<String> = HashSet::new();
    let mut queue: Vec<&str> = merged
        .keys()
        .copied()
        .filter(|n| crate::facts::graphql_root_name(n))
        .collect();
    while let Some(name) = queue.pop() {
        for part in merged.get(name).into_iter().flat_map(|parts| parts.iter()) {
            if members.insert(part.clone()) {
                queue.push(part);
            }
        }
    }
    if members.is_empty() {
        return;
    }
    let field_of = |f: &crate::facts::FnFacts| {
        f.graphql_field
            .then_some(f.self_ty.as_ref())
            .flatten()
            .filter(|t| members.contains(*t))
            .cloned()
    };
    for file in files.iter_mut() {
        if !file.functions.iter().any(|f| field_of(f).is_some()) {
            continue;
        }
        for f in &mut Arc::make_mut(file).functions {
            if let Some(ty) = field_of(f) {
                let path = format!("/{ty}/{}", f.name);
                f.attr_routes
                    .push(crate::facts::AttrRoute::entry_point("GRAPHQL", path));
            }
        }
    }
}

/// A trait imported under another name (`use database::{Database as MintDatabase};` then `impl
/// MintDatabase<Error> for SQLMintDatabase`, `Arc<dyn MintDatabase>`) is the trait itself: the name it is
/// written with becomes its own, so that a call through the trait finds the implementations written with
/// either name. Only names that rename one trait of the analysed code and name nothing of its own.
fn renamed_traits(files: &mut [Arc<FileFacts>]) {
    let mut traits: HashSet<String> = HashSet::new();
    let mut named: HashSet<String> = HashSet::new();
    for t in files.iter().flat_map(|f| f.types.iter()) {
        if t.is_trait {
            traits.insert(t.name.clone());
        }
        named.insert(t.name.clone());
    }
    let mut originals: HashMap<&str, HashSet<&str>> = HashMap::new();
    for u in files.iter().flat_map(|f| f.uses.iter()) {
        if let Some(original) = u.path.last() {
            if *original != u.name && traits.contains(original) && !named.contains(&u.name) {
                originals.entry(&u.name).or_default().insert(original);
            }
        }
    }
    let renames: HashMap<String, String> = originals
        .into_iter()
        .filter(|(_, o)| o.len() == 1)
        .filter_map(|(alias, o)| Some((alias.to_string(), o.into_iter().next()?.to_string())))
        .collect();
    if renames.is_empty() {
        return;
    }
    // `MintDatabase<Error>` is `Database<Error>`.
    let rename = |ty: &mut String| {
        let (head, tail) = ty.split_at(ty.find('<').unwrap_or(ty.len()));
        if let Some(original) = renames.get(head) {
            *ty = format!("{original}{tail}");
        }
    };
    let written = |ty: &String| renames.contains_key(ty.split('<').next().unwrap_or(ty));
    for file in files.iter_mut() {
        let in_fn = |f: &crate::facts::FnFacts| {
            f.trait_name.iter().chain(&f.returns).any(written)
                || f.params.iter().any(|(_, t)| written(t))
                || f.param_types.iter().any(|(t, _)| written(t))
                || f.generics.iter().any(|(_, t)| written(t))
        };
        let in_type = |t: &crate::facts::TypeFacts| {
            t.alias.iter().chain(&t.supertraits).any(written)
                || t.fields.iter().any(|(_, ty)| written(ty))
        };
        let touched = file.impls.iter().any(|(_, tr)| written(tr))
            || file.functions.iter().any(in_fn)
            || file.types.iter().any(in_type);
        if !touched {
            continue;
        }
        let file = Arc::make_mut(file);
        file.impls.iter_mut().for_each(|(_, tr)| rename(tr));
        for f in &mut file.functions {
            f.trait_name
                .iter_mut()
                .chain(&mut f.returns)
                .for_each(rename);
            f.params.iter_mut().for_each(|(_, t)| rename(t));
            f.param_types.iter_mut().for_each(|(t, _)| rename(t));
            f.generics.iter_mut().for_each(|(_, t)| rename(t));
        }
        for t in &mut file.types {
            t.alias
                .iter_mut()
                .chain(&mut t.supertraits)
                .for_each(rename);
            t.fields.iter_mut().for_each(|(_, ty)| rename(ty));
        }
    }
}

/// A process-wide cell that `main` fills before it serves (`let store = singletons::get_store().await;`,
/// where `get_store` reads `STORE.get_or_init(..)`) never misses on a request: the arm that fills it is
/// dropped from the functions `main` calls.
fn cells_filled_at_startup(files: &mut [Arc<FileFacts>]) {
    if !files.iter().any(|f| f.cached_lookups) {
        return;
    }
    let fills_cell = |f: &FnFacts| {
        let mut found = false;
        for step in &f.body {
            step.walk(&mut |s| found |= is_cell_fill(s));
        }
        found
    };
    // (the type a `Type::f()` call names, the function's name) of each call `main` makes, and those the
    // functions it calls make in turn (`block_on(async_main())`), a few calls deep.
    let calls_of = |f: &FnFacts, into: &mut Vec<(Option<String>, String)>| {
        for step in &f.body {
            step.walk(&mut |s| {
                if let Step::Call(c) = s {
                    if let Callee::Path(p) = &c.callee {
                        let Some(name) = p.last() else { return };
                        let owner = p
                            .len()
                            .checked_sub(2)
                            .map(|i| p[i].clone())
                            .filter(|o| o.starts_with(|c: char| c.is_ascii_uppercase()));
                        into.push((owner, name.clone()));
                    }
                }
            });
        }
    };
    let mut wave = Vec::new();
    for file in files.iter() {
        let mains = file.functions.iter().filter(|f| {
            f.name == "main" && f.self_ty.is_none() && f.arity == Some(0) && !f.is_test
        });
        for f in mains {
            calls_of(f, &mut wave);
        }
    }
    let mut called: HashSet<(Option<String>, String)> = HashSet::new();
    for _ in 0..3 {
        // By name: the types each was called on.
        let mut fresh: HashMap<String, Vec<Option<String>>> = HashMap::new();
        for c in wave.drain(..) {
            if called.insert(c.clone()) {
                fresh.entry(c.1).or_default().push(c.0);
            }
        }
        if fresh.is_empty() {
            break;
        }
        for file in files.iter() {
            for f in file.functions.iter().filter(|f| !f.is_test && !f.detached) {
                if fresh.get(&f.name).is_some_and(|on| on.contains(&f.self_ty)) {
                    calls_of(f, &mut wave);
                }
            }
        }
    }
    if called.is_empty() {
        return;
    }
    let warmed =
        |f: &FnFacts| called.contains(&(f.self_ty.clone(), f.name.clone())) && fills_cell(f);
    for file in files.iter_mut() {
        if !file.cached_lookups || !file.functions.iter().any(warmed) {
            continue;
        }
        let file = Arc::make_mut(file);
        for f in file.functions.iter_mut().filter(|f| warmed(f)) {
            apply_to_branches(&mut f.body, &mut |alts| {
                alts.retain(|a| !a.first().is_some_and(is_cell_fill));
            });
        }
    }
}

/// The guard of the arm that fills a process-wide cell on its first call.
fn is_cell_fill(step: &Step) -> bool {
    matches!(step, Step::Guard { on: crate::facts::Guarded::Cache, pattern } if pattern == "first")
}

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

/// Routes with full paths from every router-building function that no other router mounts, plus
/// handlers found by their extractors.
fn routes(
    model: &Model,
    index: &Index,
    build: Option<&crate::build::Build>,
) -> (Vec<Route>, Vec<StaticRoute>) {
    let builders: Vec<usize> = (0..model.fns.len())
        .filter(|&id| !model.func(id).is_test && !model.func(id).routes.is_empty())
        .collect();
    let mut mounted = HashSet::new();
    for &id in &builders {
        for entry in &model.func(id).routes {
            if let RouteEntry::Mount { target, .. } = entry {
                if let Some(t) = mount_target(model, index, id, target) {
                    if t != id {
                        mounted.insert(t);
                    }
                }
            }
        }
    }
    let mut found = Found {
        constants: constant_paths(model),
        build: build.cloned(),
        towers: std::rc::Rc::new(tower_layers(model)),
        ..Found::default()
    };
    for file in &model.files {
        for t in &file.typed_paths {
            found
                .typed
                .entry(t.name.clone())
                .or_default()
                .push((t.module.clone(), t.path.clone()));
        }
    }
    for &root in builders.iter().filter(|id| !mounted.contains(id)) {
        found.service = Some(service_of(model, root));
        found.root = root;
        expand(model, index, root, "", &[], 0, &mut found);
    }
    // A cycle of mounts leaves no root: take its members as roots.
    if builders.iter().all(|id| mounted.contains(id)) {
        for &id in &builders {
            found.service = Some(service_of(model, id));
            found.root = id;
            expand(model, index, id, "", &[], 0, &mut found);
        }
    }
    // The layers of the gRPC servers each crate builds (`Server::builder().layer(auth::create(..))`).
    let mut server_layers: HashMap<String, Vec<usize>> = HashMap::new();
    for id in 0..model.fns.len() {
        for layer in &model.func(id).server_layers {
            if let Some(m) = layer_fn(model, index, id, layer, &found.towers) {
                let crate_layers = server_layers
                    .entry(crate_dir(&model.file_of(id).path).to_string())
                    .or_default();
                if !crate_layers.contains(&m) {
                    crate_layers.push(m);
                }
            }
        }
    }
    let Found {
        routes: mut out,
        statics,
        constants,
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
            // A gRPC method runs behind the layers of its crate's server.
            let middleware = match attr.method.as_str() {
                "GRPC" => server_layers
                    .get(crate_dir(&model.file_of(id).path))
                    .into_iter()
                    .flatten()
                    .map(|&m| vec![m])
                    .collect(),
                _ => Vec::new(),
            };
            out.push(Route {
                method: Some(attr.method.clone()),
                // actix serves `#[post("sign-up")]` at `/sign-up`.
                path: Some(crate::facts::router::join_path(
                    "",
                    constants.get(&attr.path).unwrap_or(&attr.path),
                )),
                handler: id,
                service: None,
                root: id,
                app: None,
                middleware,
            });
        }
    }
    // A function taking extractors is a handler whose route was not found, unless it is a method or
    // code other than tests calls it (then it is a helper on some handler's path).
    let routed: HashSet<usize> = out.iter().map(|r| r.handler).collect();
    // A function under `#[cfg(..)]` that the deployed build leaves out is not compiled; one named as a
    // routed handler is that handler in another build (`#[cfg(feature = "v1")]` and `"v2"` copies).
    let routed_names: HashSet<String> = routed.iter().map(|&id| model.qualified_name(id)).collect();
    let other_build = |id: usize| {
        model.func(id).cfg.as_deref().is_some_and(|p| {
            crate::build::holds(p, build) == Some(false)
                || routed_names.contains(&model.qualified_name(id))
        })
    };
    let candidates: Vec<usize> = (0..model.fns.len())
        .filter(|&id| {
            let f = model.func(id);
            f.is_async && !f.is_test && !f.has_self && !f.extractors.is_empty()
        })
        .filter(|&id| !routed.contains(&id) && !other_build(id))
        .collect();
    let called = index.called_among(&model.files, &model.fns, &candidates);
    for id in candidates {
        if !called.contains(&id) {
            out.push(Route {
                method: None,
                path: None,
                handler: id,
                service: None,
                root: id,
                app: None,
                middleware: Vec::new(),
            });
        }
    }
    // One service: nothing to tell apart.
    let services: HashSet<&String> = out.iter().filter_map(|r| r.service.as_ref()).collect();
    if services.len() < 2 {
        out.iter_mut().for_each(|r| r.service = None);
    }
    (out, statics)
}

/// Per function, the deployments serving a route that reaches it (see `Model::deployed`).
fn deployed(model: &Model, config: &Config) -> Vec<Vec<bool>> {
    if config.apps.is_empty() {
        return Vec::new();
    }
    let mut out = vec![Vec::new(); model.fns.len()];
    for route in &model.routes {
        let serves: Vec<bool> = config
            .deployments
            .iter()
            .map(|d| config.app_runs_in(route.app, d))
            .collect();
        for f in model.reach(route.handler) {
            let mask = &mut out[f];
            if mask.is_empty() {
                *mask = serves.clone();
            } else {
                mask.iter_mut().zip(&serves).for_each(|(m, s)| *m |= s);
            }
        }
    }
    out
}

/// The `[apps]` entry serving each route: the one whose `path` holds the route's root router (the
/// longest), else the one named as the route's service is.
fn assign_apps(model: &mut Model, config: &Config) {
    if config.apps.is_empty() {
        return;
    }
    let apps: Vec<Option<usize>> = model
        .routes
        .iter()
        .map(|route| {
            let file = &model.file_of(route.root).path;
            let under = |dir: &str| {
                file.strip_prefix(dir)
                    .is_some_and(|rest| rest.starts_with('/') || dir.is_empty())
            };
            let by_path = config
                .apps
                .iter()
                .enumerate()
                .filter(|(_, a)| a.path.as_deref().is_some_and(under))
                .max_by_key(|(_, a)| a.path.as_ref().map_or(0, String::len))
                .map(|(i, _)| i);
            by_path.or_else(|| {
                let name = service_of(model, route.root);
                config.apps.iter().position(|a| {
                    a.path.is_none()
                        && (a.name == name || a.name.replace('-', "_") == name.replace('-', "_"))
                })
            })
        })
        .collect();
    for (route, app) in model.routes.iter_mut().zip(apps) {
        route.app = app;
    }
}

/// A service's name: its crate's (`revolt_delta`), else its folder's, for the router `builder` mounts.
fn service_of(model: &Model, builder: usize) -> String {
    let file = model.file_of(builder);
    file.crate_name.clone().unwrap_or_else(|| {
        let dir = crate_dir(&file.path).trim_end_matches('/');
        match dir.rsplit('/').next() {
            Some(d) if !d.is_empty() => d.to_string(),
            _ => "(root)".to_string(),
        }
    })
}

/// Is the flag function `cond` (`config::is_auth_enabled`, `!`-prefixed where the `if` negates it),
/// called where `builder` builds the router, one that leaves the layer off on every path?
fn flag_off(model: &Model, index: &Index, builder: usize, cond: &str) -> bool {
    let (negated, path) = match cond.strip_prefix('!') {
        Some(path) => (true, path),
        None => (false, cond),
    };
    if path == crate::facts::TEST_MODE {
        return !negated;
    }
    let segs: Vec<String> = path.split("::").map(str::to_string).collect();
    index
        .resolve(&model.files, &model.fns, builder, &Callee::Path(segs))
        .and_then(|f| model.func(f).returns_bool)
        .is_some_and(|value| value == negated)
}

/// Adds to `run` the middleware `layers` (outermost last, as written on a route) run, outermost first:
/// a slot per layer, holding the function it runs, or each function one of several may run.
fn layer_slots(
    model: &Model,
    index: &Index,
    builder: usize,
    layers: &[Vec<String>],
    towers: &Towers,
    run: &mut Vec<Vec<usize>>,
) {
    for layer in layers.iter().rev() {
        let slot: Vec<usize> = match layer.split_first() {
            // A layer put on only where a flag function says: left out where that function returns
            // the value that leaves it off whatever happens.
            Some((marker, rest)) if marker == crate::facts::IF_LAYER => {
                let Some((cond, inner)) = rest.split_first() else {
                    continue;
                };
                if !flag_off(model, index, builder, cond) {
                    layer_slots(model, index, builder, &[inner.to_vec()], towers, run);
                }
                continue;
            }
            Some((either, alts)) if either == crate::facts::EITHER_LAYER => {
                let mut slot = Vec::new();
                for alt in alts {
                    let path: Vec<String> = alt.split("::").map(str::to_string).collect();
                    if let Some(m) = layer_fn(model, index, builder, &path, towers) {
                        if !slot.contains(&m) {
                            slot.push(m);
                        }
                    }
                }
                slot
            }
            // The layers a function of the analysed code puts on the router it is handed
            // (`set_auth(system::routes())`), read where that function writes them; of its ways of
            // putting them (`match cfg.log { true => router.layer(log), false => router }`), the one
            // with the most.
            Some((handed, target)) if handed == crate::facts::HANDED_LAYERS => {
                let Some(f) = mount_target(model, index, builder, target) else {
                    continue;
                };
                let most = model
                    .func(f)
                    .routes
                    .iter()
                    .filter_map(|e| match e {
                        RouteEntry::Mount { target, layers, .. }
                            if *target == [crate::facts::HANDED_ROUTER] =>
                        {
                            Some(layers)
                        }
                        _ => None,
                    })
                    .max_by_key(|layers| layers.len());
                if let Some(inner) = most.filter(|l| !l.iter().any(|l| l[0] == *handed)) {
                    layer_slots(model, index, f, inner, towers, run);
                }
                continue;
            }
            _ => {
                let parts = tower_parts(model, index, builder, layer, towers);
                if !parts.is_empty() {
                    run.extend(parts.into_iter().map(|m| vec![m]));
                    continue;
                }
                layer_fn(model, index, builder, layer, towers)
                    .into_iter()
                    .collect()
            }
        };
        if !slot.is_empty() {
            run.push(slot);
        }
    }
}

/// The function a layer runs on each request: an axum middleware function, or the `call` of the service
/// a tower `Layer` of the analysed code wraps (`towers`, by the layer's type).
fn layer_fn(
    model: &Model,
    index: &Index,
    builder: usize,
    layer: &[String],
    towers: &Towers,
) -> Option<usize> {
    if let [marker, ty] = layer {
        if marker == crate::facts::EXTRACTOR_LAYER {
            // Its `FromRequestParts` (or `FromRequest`) implementation, as the router's function names it.
            return ["from_request_parts", "from_request"]
                .into_iter()
                .find_map(|name| {
                    let path = Callee::Path(vec![ty.clone(), name.to_string()]);
                    index
                        .resolve(&model.files, &model.fns, builder, &path)
                        .filter(|&f| {
                            model
                                .func(f)
                                .trait_name
                                .as_deref()
                                .is_some_and(|t| EXTRACTOR_TRAITS.contains(&t))
                        })
                });
        }
    }
    let Some((crate::facts::TOWER_LAYER, made)) = layer.split_first().map(|(m, r)| (m.as_str(), r))
    else {
        return index.resolve(
            &model.files,
            &model.fns,
            builder,
            &Callee::Path(layer.to_vec()),
        );
    };
    let (ty, near) = tower_type(model, index, builder, made)?;
    nearest(model, near, towers.calls.get(&ty)?)
}

/// The `call`s a tower layer made of other layers runs (see [`Towers::parts`]), the first to run first;
/// empty for any other layer.
fn tower_parts(
    model: &Model,
    index: &Index,
    builder: usize,
    layer: &[String],
    towers: &Towers,
) -> Vec<usize> {
    let Some((crate::facts::TOWER_LAYER, made)) = layer.split_first().map(|(m, r)| (m.as_str(), r))
    else {
        return Vec::new();
    };
    let Some((ty, near)) = tower_type(model, index, builder, made) else {
        return Vec::new();
    };
    let parts = towers.parts.get(&ty).into_iter().flatten();
    parts
        .filter_map(|part| nearest(model, near, towers.calls.get(part)?))
        .collect()
}

/// The type of the tower layer a router is given, and the function to look for its service near.
fn tower_type(
    model: &Model,
    index: &Index,
    builder: usize,
    made: &[String],
) -> Option<(String, usize)> {
    // `auth::create(keys)` or `AuthLayer::new(keys)`: the type the function returns, near it; `AuthLayer
    // { keys }`: the type written, near the function that builds the router.
    let (ty, near) = match index.resolve(
        &model.files,
        &model.fns,
        builder,
        &Callee::Path(made.to_vec()),
    ) {
        Some(f) => {
            let ty = match model.func(f).returns.as_deref() {
                Some("Self") => model.func(f).self_ty.clone(),
                other => other.map(str::to_string),
            };
            (ty?, f)
        }
        // `AuthLayer { keys }`, `AuthLayer`; `OpenApiAuth::default()` of `#[derive(Default)]`: the type.
        None => {
            let ty = made
                .iter()
                .rev()
                .find(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))?;
            (ty.clone(), builder)
        }
    };
    Some((ty, near))
}

/// The function a router's mount names: a path, or (`[ROUTER_METHOD, name]`) a method of the analysed
/// code on a router's type, the one nearest the builder where several have that name.
fn mount_target(model: &Model, index: &Index, builder: usize, target: &[String]) -> Option<usize> {
    match target {
        [marker, name] if marker == crate::facts::ROUTER_METHOD => {
            let mut ids = index.router_methods(name);
            ids.retain(|&id| !model.func(id).routes.is_empty());
            nearest(model, builder, &ids)
        }
        _ => index.resolve(
            &model.files,
            &model.fns,
            builder,
            &Callee::Path(target.to_vec()),
        ),
    }
}

/// Of several functions of one name (the `call`s of two types called `AuthService`, in `server::auth` and
/// `client::auth`), the one nearest `from`: in its crate, then sharing the most of its module path.
fn nearest(model: &Model, from: usize, ids: &[usize]) -> Option<usize> {
    let here = crate_dir(&model.file_of(from).path);
    let module = &model.func(from).module;
    let score = |id: usize| {
        let same_crate = crate_dir(&model.file_of(id).path) == here;
        let theirs = &model.func(id).module;
        let shared = theirs
            .iter()
            .zip(module)
            .take_while(|(a, b)| a == b)
            .count();
        // Then the least nested beyond what they share (`towers` before `towers::client`), then the
        // first written.
        (
            same_crate,
            shared,
            std::cmp::Reverse(theirs.len()),
            std::cmp::Reverse(id),
        )
    };
    ids.iter().copied().max_by_key(|&id| score(id))
}

/// The tower layers of the analysed code.
#[derive(Default)]
struct Towers {
    /// Layer type → the `call` of the service each `impl<S> Layer<S> for` it makes (several where types
    /// share a name).
    calls: HashMap<String, Vec<usize>>,
    /// A layer that wraps the service in other layers of the analysed code (`self.grant.layer(self
    /// .cookie.layer(inner))`) → their types, outermost (the first to run) first.
    parts: HashMap<String, Vec<String>>,
}

/// The tower layers of the analysed code, by type: `impl<S> Layer<S> for AuthLayer` whose `layer` makes
/// an `AuthService`, with the `call` of `impl Service<..> for AuthService` (the middleware that runs).
fn tower_layers(model: &Model) -> Towers {
    let mut calls: HashMap<&str, Vec<usize>> = HashMap::new();
    for id in 0..model.fns.len() {
        let f = model.func(id);
        // A tower or actix `Service`'s `call`, or that of a poem `Endpoint` a middleware makes.
        let serves = matches!(f.trait_name.as_deref(), Some("Service" | "Endpoint"));
        if f.name == "call" && serves && !f.is_test {
            if let Some(ty) = &f.self_ty {
                calls.entry(ty.as_str()).or_default().push(id);
            }
        }
    }
    let mut out = Towers::default();
    for id in 0..model.fns.len() {
        let f = model.func(id);
        // A tower `Layer`'s `layer`, an actix middleware's `Transform::new_transform`, or a poem
        // `Middleware::transform`.
        let makes_service = matches!(
            (f.name.as_str(), f.trait_name.as_deref()),
            ("layer", Some("Layer"))
                | ("new_transform", Some("Transform"))
                | ("transform", Some("Middleware"))
        );
        if !makes_service || f.is_test {
            continue;
        }
        let Some(layer) = &f.self_ty else { continue };
        // The service it makes: the type it returns, else the one its body builds.
        let made = f
            .returns
            .iter()
            .chain(f.params.iter().map(|(_, t)| t))
            .find_map(|t| calls.get(t.as_str()))
            .and_then(|ids| nearest(model, id, ids));
        if let Some(call) = made {
            out.calls.entry(layer.clone()).or_default().push(call);
        }
    }
    // Layers made of others: each `self.<field>.layer(..)` whose field is typed by a layer above, in
    // the order they wrap (the one applied last runs first).
    for id in 0..model.fns.len() {
        let f = model.func(id);
        if f.name != "layer" || f.trait_name.as_deref() != Some("Layer") || f.is_test {
            continue;
        }
        let Some(layer) = &f.self_ty else { continue };
        let fields = field_types(model, layer);
        let mut parts: Vec<String> = Vec::new();
        for step in &f.body {
            step.walk(&mut |s| {
                if let Step::Call(c) = s {
                    if let Callee::Method { name, receiver, .. } = &c.callee {
                        if let (true, [this, field]) = (name == "layer", receiver.as_slice()) {
                            let ty = fields.iter().find(|(n, _)| this == "self" && n == field);
                            parts.extend(ty.map(|(_, t)| t.clone()));
                        }
                    }
                }
            });
        }
        parts.reverse();
        if parts.len() > 1 && parts.iter().all(|p| out.calls.contains_key(p)) {
            out.parts.insert(layer.clone(), parts);
        }
    }
    out
}

/// The fields of struct `ty` with their types, of every struct of that name.
fn field_types(model: &Model, ty: &str) -> Vec<(String, String)> {
    model
        .files
        .iter()
        .flat_map(|file| &file.types)
        .filter(|t| t.name == ty)
        .flat_map(|t| t.fields.iter().cloned())
        .collect()
}

/// What expanding routers finds: routes (each once) and static-file routes.
#[derive(Default)]
struct Found {
    /// The tower layers of the analysed code (see [`tower_layers`]).
    towers: std::rc::Rc<Towers>,
    routes: Vec<Route>,
    /// Each route found, by (method, path, handler), and where it is in `routes`.
    seen: HashMap<(Option<String>, Option<String>, usize), usize>,
    statics: Vec<StaticRoute>,
    /// Typed paths by struct name: (module, path).
    typed: HashMap<String, Vec<(Vec<String>, String)>>,
    /// Paths written as constants (`crate::ROUTES.auth.login`, `/{routes.login}`) → their values.
    constants: HashMap<String, String>,
    /// The service of the router being expanded, and that router.
    service: Option<String>,
    root: usize,
    /// The deployed build (`[build]`): a route whose `#[cfg(..)]` alternative it leaves out is not served.
    build: Option<crate::build::Build>,
}

impl Found {
    /// Adds a route, once: a route that another router reaches again (the app's, and a function that
    /// builds the same routes only to write their OpenAPI document) runs the middleware of both.
    fn add(&mut self, route: Route) {
        let key = (route.method.clone(), route.path.clone(), route.handler);
        match self.seen.get(&key) {
            Some(&at) => {
                let have = &mut self.routes[at].middleware;
                for m in route.middleware {
                    if !have.contains(&m) {
                        have.push(m);
                    }
                }
            }
            None => {
                self.seen.insert(key, self.routes.len());
                self.routes.push(route);
            }
        }
    }

    /// A path as served: the values of the constants it names, else as written.
    fn path(&self, raw: &str) -> String {
        self.constants
            .get(raw)
            .cloned()
            .unwrap_or_else(|| raw.to_string())
    }
}

/// The route paths of the analysed code that name constants, with their values.
fn constant_paths(model: &Model) -> HashMap<String, String> {
    let consts = crate::facts::consts::Consts::new(&model.files);
    let mut out = HashMap::new();
    for file in &model.files {
        for f in &file.functions {
            let written = f
                .attr_routes
                .iter()
                .map(|a| a.path.as_str())
                .chain(f.routes.iter().map(|e| match e {
                    RouteEntry::Route { path, .. } | RouteEntry::Static { path, .. } => {
                        path.as_str()
                    }
                    RouteEntry::Mount { prefix, .. } => prefix.as_str(),
                }));
            for raw in written {
                if !out.contains_key(raw) {
                    if let Some(value) = consts.path(raw) {
                        out.insert(raw.to_string(), value);
                    }
                }
            }
        }
    }
    out
}

/// Where a handler mounted by `.typed_get(handler)` is served: the path of the typed-path struct its
/// first parameter takes, the one its file imports where several structs share the name. None when no
/// such struct is seen.
fn typed_route_path(model: &Model, handler: usize, found: &Found) -> Option<String> {
    let f = model.func(handler);
    let file = &model.files[model.fns[handler].file];
    let written = &f.param_types.first()?.0;
    // `use web_pages::routes::models::Index as ModelsIndex;`: the struct the name stands for.
    let imported = file
        .uses
        .iter()
        .find(|u| &u.name == written && f.module.starts_with(&u.module))
        .map(|u| u.path.clone());
    let name = imported.as_ref().and_then(|p| p.last()).unwrap_or(written);
    let candidates = found.typed.get(name)?;
    if let [(_, path)] = candidates.as_slice() {
        return Some(path.clone());
    }
    // Several structs of that name: the one whose module the import spells the most of, else the one
    // in the handler's own module.
    let best = match &imported {
        Some(path) => {
            let spelled = &path[..path.len().saturating_sub(1)];
            let overlap = |m: &[String]| {
                m.iter()
                    .rev()
                    .zip(spelled.iter().rev())
                    .take_while(|(a, b)| a == b)
                    .count()
            };
            let most = candidates.iter().map(|c| overlap(&c.0)).max()?;
            let best: Vec<_> = candidates
                .iter()
                .filter(|c| overlap(&c.0) == most)
                .collect();
            (most > 0 && best.len() == 1).then(|| best[0])
        }
        None => candidates.iter().find(|c| c.0 == f.module),
    };
    best.map(|c| c.1.clone())
}

/// The routes a handler declares by attribute, mounted under `prefix` behind `middleware` (the layers of
/// the routers that mount it).
fn push_attr_routes(
    model: &Model,
    handler: usize,
    prefix: &str,
    middleware: &[Vec<usize>],
    found: &mut Found,
) {
    // A framework's own route attribute serves; `#[utoipa::path]` beside it only documents (utoipa-axum's
    // `routes!` serves by it when it is the only one).
    let attrs = &model.func(handler).attr_routes;
    let serving = attrs.iter().any(|a| !a.documented);
    for attr in attrs.iter().filter(|a| !(serving && a.documented)) {
        let route = Route {
            method: Some(attr.method.clone()),
            path: Some(crate::facts::router::join_path(
                prefix,
                &found.path(&attr.path),
            )),
            handler,
            service: found.service.clone(),
            root: found.root,
            app: None,
            middleware: middleware.to_vec(),
        };
        found.add(route);
    }
}

fn expand(
    model: &Model,
    index: &Index,
    builder: usize,
    prefix: &str,
    outer: &[Vec<usize>],
    depth: usize,
    found: &mut Found,
) {
    // The middleware an entry's layers run, after those of the routers it is mounted in: the last
    // layer added is the outermost.
    let towers = found.towers.clone();
    let run = |layers: &[Vec<String>]| -> Vec<Vec<usize>> {
        let mut run = outer.to_vec();
        layer_slots(model, index, builder, layers, &towers, &mut run);
        run
    };
    if depth > MAX_MOUNT_DEPTH {
        return;
    }
    for entry in &model.func(builder).routes {
        match entry {
            RouteEntry::Route {
                path,
                method,
                handler,
                cfg,
                layers,
                ..
            } => {
                let left_out = cfg
                    .as_deref()
                    .is_some_and(|p| crate::build::holds(p, found.build.as_ref()) == Some(false));
                if left_out {
                    continue;
                }
                let Some(h) = index.resolve(
                    &model.files,
                    &model.fns,
                    builder,
                    &Callee::Path(handler.clone()),
                ) else {
                    continue;
                };
                let full = crate::facts::router::join_path(prefix, &found.path(path));
                // `.typed_get(handler)`: the handler's typed path, under the prefixes before it.
                let full = match full.split_once(crate::facts::TYPED_ROUTE) {
                    Some((before, _)) => match typed_route_path(model, h, found) {
                        Some(typed) => crate::facts::router::join_path(before, &typed),
                        None => continue,
                    },
                    None => full,
                };
                let route = Route {
                    method: Some(method.clone()),
                    path: Some(full),
                    handler: h,
                    service: found.service.clone(),
                    root: found.root,
                    app: None,
                    middleware: run(layers),
                };
                found.add(route);
            }
            RouteEntry::Static { path, loc } => {
                let full = crate::facts::router::join_path(prefix, &found.path(path));
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
            // The routes a caller hands this function: mounted where the caller is.
            RouteEntry::Mount { target, .. } if *target == [crate::facts::HANDED_ROUTER] => {}
            RouteEntry::Mount {
                prefix: inner,
                target,
                layers,
                ..
            } => {
                let Some(t) = mount_target(model, index, builder, target) else {
                    // A type whose methods carry routes (poem-openapi's `OpenApiService::new(Api, ..)`).
                    let ty = target.last().map(String::as_str);
                    let p = crate::facts::router::join_path(prefix, inner);
                    for id in 0..model.fns.len() {
                        let f = model.func(id);
                        if f.self_ty.as_deref() == ty && !f.is_test {
                            push_attr_routes(model, id, &p, &run(layers), found);
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
                    crate::facts::router::join_path(prefix, &found.path(inner))
                };
                // A handler with route attributes (`.service(index)`, `routes![index]`).
                push_attr_routes(model, t, &p, &run(layers), found);
                expand(model, index, t, &p, &run(layers), depth + 1, found);
            }
        }
    }
}

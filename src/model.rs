//! The model: the facts of all files joined into one project. It resolves awaited calls to the functions
//! they reach (by path, `use` alias and method name), routers to routes with full paths, handlers to entry
//! points, SQL constants to text, and every round trip to a read or write and a database endpoint.
//!
//! It does no I/O and never looks at syntax; it only joins facts.

use std::collections::{HashMap, HashSet};

use crate::config::{Config, Role};
use crate::facts::sql::{self, Access};
use crate::facts::{has_io, walk_mut, Callee, FileFacts, FnFacts, RouteEntry, Step, TripKind};

/// Mounting deeper than this is taken as a cycle.
const MAX_MOUNT_DEPTH: usize = 32;

/// Method names that std, tokio and common clients use for their own futures: an awaited call with one
/// of these names on something other than `self` is not taken for a function of the analysed code.
const FOREIGN_METHODS: &[&str] = &[
    "send",
    "recv",
    "read",
    "write",
    "lock",
    "acquire",
    "get",
    "flush",
    "close",
    "next",
    "try_next",
    "json",
    "text",
    "bytes",
    "call",
    "ready",
    "wait",
    "join",
    "sleep",
    "read_to_end",
    "read_to_string",
    "write_all",
    "shutdown",
    "accept",
    "connect",
    "collect",
    "try_collect",
    "send_request",
    "changed",
    "notified",
    "tick",
    "elapsed",
    "status",
    "insert",
    "remove",
    "set",
    "del",
    "publish",
    "subscribe",
    "into_future",
    "poll",
];

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

pub struct Model {
    pub files: Vec<FileFacts>,
    pub fns: Vec<FnRef>,
    pub routes: Vec<Route>,
    /// Functions on some request path.
    pub reachable: Vec<bool>,
}

impl Model {
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
pub fn build(mut files: Vec<FileFacts>, config: &Config) -> Model {
    mark_test_files(&mut files);
    let mut fns = Vec::new();
    for (file, facts) in files.iter().enumerate() {
        for index in 0..facts.functions.len() {
            fns.push(FnRef { file, index });
        }
    }
    let index = Index::new(&files, &fns);

    // Resolve calls and classify round trips, one function at a time.
    let consts: HashMap<&str, &str> = files
        .iter()
        .flat_map(|f| f.consts.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .collect();
    let mut resolutions = Vec::new();
    let mut classified = Vec::new();
    for (id, r) in fns.iter().enumerate() {
        let f = &files[r.file].functions[r.index];
        let mut calls = Vec::new();
        let mut trips = Vec::new();
        for step in &f.body {
            step.walk(&mut |s| match s {
                Step::Call(c) => calls.push(index.resolve(&files, &fns, id, &c.callee)),
                Step::Trip(t) => {
                    let text = t.sql.clone().or_else(|| {
                        t.sql_const
                            .as_deref()
                            .and_then(|c| consts.get(c))
                            .map(|s| s.to_string())
                    });
                    let access = match (t.kind, &text) {
                        (TripKind::Query | TripKind::Prepare, Some(text)) => {
                            sql::classify(text).access
                        }
                        _ => Access::Write,
                    };
                    let mut target = config.target_for(t.executor.as_deref());
                    if t.in_transaction || t.kind != TripKind::Query || access == Access::Write {
                        target.role = Role::Primary;
                    }
                    trips.push((text, access, target));
                }
                _ => {}
            });
        }
        resolutions.push(calls);
        classified.push(trips);
    }
    for (id, r) in fns.iter().enumerate() {
        let f = &mut files[r.file].functions[r.index];
        let mut calls = resolutions[id].iter();
        let mut trips = classified[id].iter();
        walk_mut(&mut f.body, &mut |s| match s {
            Step::Call(c) => c.resolved = calls.next().copied().flatten(),
            Step::Trip(t) => {
                if let Some((text, access, target)) = trips.next() {
                    t.sql = text.clone();
                    t.access = Some(*access);
                    t.target = Some(*target);
                }
            }
            _ => {}
        });
    }

    let mut model = Model {
        files,
        fns,
        routes: Vec::new(),
        reachable: Vec::new(),
    };
    model.routes = routes(&model, &index);
    let mut reachable = vec![false; model.fns.len()];
    for route in &model.routes {
        for f in model.reach(route.handler) {
            reachable[f] = true;
        }
    }
    model.reachable = reachable;
    model
}

/// Files that are modules declared `#[cfg(test)] mod x;` elsewhere hold only test code.
fn mark_test_files(files: &mut [FileFacts]) {
    let test_mods: Vec<Vec<String>> = files
        .iter()
        .flat_map(|f| f.test_modules.iter().cloned())
        .collect();
    if test_mods.is_empty() {
        return;
    }
    for file in files {
        if test_mods.iter().any(|m| file.module.starts_with(m)) {
            file.functions.iter_mut().for_each(|f| f.is_test = true);
        }
    }
}

/// Name lookups over all functions.
struct Index {
    by_name: HashMap<String, Vec<usize>>,
    /// `use` aliases per (file, module).
    uses: HashMap<(usize, Vec<String>), HashMap<String, Vec<String>>>,
}

impl Index {
    fn new(files: &[FileFacts], fns: &[FnRef]) -> Index {
        let mut by_name: HashMap<String, Vec<usize>> = HashMap::new();
        for (id, r) in fns.iter().enumerate() {
            let f = &files[r.file].functions[r.index];
            if !f.is_test {
                by_name.entry(f.name.clone()).or_default().push(id);
            }
        }
        let mut uses: HashMap<(usize, Vec<String>), HashMap<String, Vec<String>>> = HashMap::new();
        for (i, file) in files.iter().enumerate() {
            for u in &file.uses {
                uses.entry((i, u.module.clone()))
                    .or_default()
                    .insert(u.name.clone(), u.path.clone());
            }
        }
        Index { by_name, uses }
    }

    /// Resolves a call made inside function `caller`.
    fn resolve(
        &self,
        files: &[FileFacts],
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
                let path = self.expand(cr.file, from, segs);
                let (name, qualifier) = path.split_last()?;
                let candidates = self.by_name.get(name)?;
                let matching: Vec<usize> = candidates
                    .iter()
                    .copied()
                    .filter(|&id| {
                        let f = func(id);
                        if qualifier.is_empty() {
                            return f.self_ty.is_none() || f.self_ty == from.self_ty;
                        }
                        let last = qualifier.last().map(String::as_str);
                        f.module.ends_with(qualifier)
                            || (f.self_ty.is_some() && f.self_ty.as_deref() == last)
                            || (last == Some("Self")
                                && f.self_ty == from.self_ty
                                && f.self_ty.is_some())
                    })
                    .collect();
                pick(&matching, |id| {
                    fns[id].file == cr.file && func(id).module == from.module
                })
            }
            Callee::Method { name, on_self } => {
                if !on_self && FOREIGN_METHODS.contains(&name.as_str()) {
                    return None;
                }
                let candidates: Vec<usize> = self
                    .by_name
                    .get(name)?
                    .iter()
                    .copied()
                    .filter(|&id| func(id).has_self)
                    .collect();
                if *on_self {
                    if let Some(same) = candidates
                        .iter()
                        .copied()
                        .find(|&id| func(id).self_ty == from.self_ty)
                    {
                        return Some(same);
                    }
                }
                // Several impls of one method name: prefer one that reaches the database.
                let with_trips = candidates
                    .iter()
                    .copied()
                    .find(|&id| func(id).body.iter().any(has_io));
                with_trips.or_else(|| candidates.first().copied())
            }
        }
    }

    /// Expands `use` aliases and `crate`/`self`/`super` into a module path ending in the function name.
    fn expand(&self, file: usize, from: &FnFacts, segs: &[String]) -> Vec<String> {
        let Some(first) = segs.first() else {
            return Vec::new();
        };
        let mut path: Vec<String> = match first.as_str() {
            "crate" => segs[1..].to_vec(),
            "self" => from.module.iter().chain(&segs[1..]).cloned().collect(),
            "super" => {
                let mut m = from.module.clone();
                let mut rest = segs;
                while rest.first().map(String::as_str) == Some("super") {
                    m.pop();
                    rest = &rest[1..];
                }
                m.into_iter().chain(rest.iter().cloned()).collect()
            }
            _ => {
                let alias = self
                    .uses
                    .get(&(file, from.module.clone()))
                    .and_then(|u| u.get(first));
                match alias {
                    Some(full) => full.iter().chain(&segs[1..]).cloned().collect(),
                    None => segs.to_vec(),
                }
            }
        };
        if path.first().map(String::as_str) == Some("crate") {
            path.remove(0);
        }
        path
    }
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
fn routes(model: &Model, index: &Index) -> Vec<Route> {
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
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    for &root in builders.iter().filter(|id| !mounted.contains(id)) {
        expand(model, index, root, "", 0, &mut out, &mut seen);
    }
    // A cycle of mounts leaves no root: take its members as roots.
    if builders.iter().all(|id| mounted.contains(id)) {
        for &id in &builders {
            expand(model, index, id, "", 0, &mut out, &mut seen);
        }
    }
    let routed: HashSet<usize> = out.iter().map(|r| r.handler).collect();
    for id in 0..model.fns.len() {
        let f = model.func(id);
        if f.is_async && !f.is_test && !f.extractors.is_empty() && !routed.contains(&id) {
            out.push(Route {
                method: None,
                path: None,
                handler: id,
            });
        }
    }
    out
}

fn expand(
    model: &Model,
    index: &Index,
    builder: usize,
    prefix: &str,
    depth: usize,
    out: &mut Vec<Route>,
    seen: &mut HashSet<(Option<String>, Option<String>, usize)>,
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
                let full = crate::facts::axum::join_path(prefix, path);
                let route = Route {
                    method: Some(method.clone()),
                    path: Some(full),
                    handler: h,
                };
                if seen.insert((route.method.clone(), route.path.clone(), h)) {
                    out.push(route);
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
                    continue;
                };
                if t == builder {
                    continue;
                }
                let p = if inner.is_empty() {
                    prefix.to_string()
                } else {
                    crate::facts::axum::join_path(prefix, inner)
                };
                expand(model, index, t, &p, depth + 1, out, seen);
            }
        }
    }
}

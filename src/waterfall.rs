//! Waterfalls: each route's round trips laid out in time, as the HTML report draws them.
//!
//! The layout follows the cost model step for step, for one deployment: a sequence places its steps one
//! after another, a branch takes its costliest arm (the one the estimate takes), a concurrent group
//! starts its branches together and lasts as long as the slowest, a loop draws its body once stretched
//! N times (each bar carries the multiplier) and a call draws the callee's path. So the end of the last
//! bar is the route's estimate. It is plain data: no HTML here.

use crate::config::Role;
use crate::cost::{Costs, Routing};
use crate::facts::{Step, Trip};
use crate::model::Model;
use crate::Analysis;

/// Calls nested deeper than this are not drawn (the cost model cuts them off too).
const MAX_DEPTH: usize = 64;

/// Bars drawn per waterfall at most; the time of those past it still counts in the total.
pub const MAX_BARS: usize = 400;

/// One round trip in time.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub start_ms: f64,
    pub end_ms: f64,
    /// Its row, top to bottom, in path order.
    pub lane: usize,
    /// `main (primary) in eu-central-1`.
    pub label: String,
    pub database: String,
    /// `primary`, `replica` or `service`.
    pub role: &'static str,
    pub region: String,
    /// `read`, `write` or `unknown`; `check` for a pool's connection check before the statement,
    /// `prepare` for the preparing of a statement sent as text.
    pub access: &'static str,
    /// How the code spells it (`sqlx::query(…).fetch_one`).
    pub api: String,
    pub sql: Option<String>,
    /// Relative to the analysed folder.
    pub file: String,
    /// From the root of the repository (what links name).
    pub repo_file: String,
    pub line: u32,
    /// How many times it runs (loops multiply; 1 outside loops): the bar's width is this many RTTs.
    pub multiplier: u32,
    /// What the round trip is: `read`, `write` or `unknown` (a statement), `begin`, `commit`,
    /// `rollback`, `ping` (a pool's connection check), `prepare`, `http` or `cache` (another service).
    pub kind: &'static str,
    /// The functions called from the handler down to the one that sends it (the handler left out).
    pub via: Vec<String>,
    /// Counted in the route's round trips: a database or a service the configuration places (an API
    /// it does not place is drawn, but not counted).
    pub counted: bool,
    /// The concurrent group it belongs to (innermost), if any; bars of one group's branches start
    /// together.
    pub group: Option<usize>,
}

/// A concurrent group (`try_join!`, `join_all`) in time.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    /// What bars' `group` names.
    pub id: usize,
    pub start_ms: f64,
    pub end_ms: f64,
    /// How the code spells it.
    pub form: String,
}

/// One route's round trips under one routing, from one deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Waterfall {
    pub deployment: String,
    pub bars: Vec<Bar>,
    pub groups: Vec<Group>,
    /// The route's estimate: the end of the last bar, unless some were left out.
    pub total_ms: f64,
    /// Round trips past [`MAX_BARS`], not drawn.
    pub hidden: usize,
    pub budget_ms: f64,
}

/// A route's waterfalls: as configured, and under the plan's scenarios.
#[derive(Debug, Clone)]
pub struct RouteWaterfalls {
    /// Index into `Analysis::routes`.
    pub route: usize,
    pub current: Waterfall,
    /// (`read-replicas` | `isolation`, its waterfall).
    pub scenarios: Vec<(&'static str, Waterfall)>,
}

/// The routings of `hopcheck plan`'s scenarios that move round trips: read replicas (reads after or
/// before a write to their database stay on the primary) and a primary per region.
pub fn plan_routings(
    model: &Model,
    config: &crate::config::Config,
) -> Vec<(&'static str, Routing)> {
    let stay = crate::plan::stay_on_primary(model, config);
    vec![
        ("read-replicas", Routing::ReadReplicas { stay }),
        ("isolation", Routing::Isolation),
    ]
}

/// Every route's waterfalls from the first deployment that serves it (none when there is no
/// deployment).
pub fn routes(a: &Analysis) -> Vec<RouteWaterfalls> {
    routes_from(a, None)
}

/// [`routes`], drawn from the deployment `from` names (by default each route's first deployment that
/// serves it).
pub fn routes_from(a: &Analysis, from: Option<&str>) -> Vec<RouteWaterfalls> {
    let from = from.and_then(|f| a.config.deployments.iter().position(|d| d == f));
    routes_from_each(a, &[from]).pop().unwrap_or_default()
}

/// [`routes`] once per entry of `froms`, each drawn from that deployment (by index; `None`: each
/// route's first that serves it), the routings priced once for all.
pub fn routes_from_each(a: &Analysis, froms: &[Option<usize>]) -> Vec<Vec<RouteWaterfalls>> {
    if a.config.deployments.is_empty() {
        return froms.iter().map(|_| Vec::new()).collect();
    }
    let current = Costs::compute(&a.model, &a.config);
    let scenarios: Vec<(&'static str, Costs)> = plan_routings(&a.model, &a.config)
        .into_iter()
        .map(|(name, routing)| (name, Costs::routed(&a.model, &a.config, routing)))
        .collect();
    let mut out: Vec<Vec<RouteWaterfalls>> = froms.iter().map(|_| Vec::new()).collect();
    for (i, r) in a.routes.iter().enumerate() {
        let Some(route) = a.model.routes.iter().find(|m| {
            m.method == r.method
                && m.path == r.path
                && a.model.file_of(m.handler).path == r.file
                && a.model.func(m.handler).fn_line == r.line
                && a.model.qualified_name(m.handler) == r.handler_path
        }) else {
            continue;
        };
        for (from, falls) in froms.iter().zip(out.iter_mut()) {
            let d = from.unwrap_or_else(|| r.cost.iter().position(|c| c.deployed).unwrap_or(0));
            let budget = r.cost.get(d).map_or(0.0, |c| c.budget_ms);
            falls.push(RouteWaterfalls {
                route: i,
                current: layout(a, &current, route.handler, d, budget),
                scenarios: scenarios
                    .iter()
                    .map(|(name, costs)| (*name, layout(a, costs, route.handler, d, budget)))
                    .collect(),
            });
        }
    }
    out
}

/// A function's waterfall from deployment `d` under `costs`' routing.
pub fn layout(a: &Analysis, costs: &Costs, handler: usize, d: usize, budget_ms: f64) -> Waterfall {
    layout_in(&a.model, &a.repo_paths, costs, handler, d, budget_ms)
}

/// [`layout`] from the model alone (`repo_paths`: each file's path from the repository's root, if known).
pub fn layout_in(
    model: &Model,
    repo_paths: &[String],
    costs: &Costs,
    handler: usize,
    d: usize,
    budget_ms: f64,
) -> Waterfall {
    let mut layouts = Layouts::new(model, repo_paths, costs, d);
    layouts.of(handler, budget_ms)
}

/// Waterfalls of many functions from one deployment under one routing, sharing what they have in common
/// (a function called on several routes is laid out once).
pub struct Layouts<'a, 'c> {
    lay: Layout<'a, 'c>,
}

impl<'a, 'c> Layouts<'a, 'c> {
    pub fn new(
        model: &'a Model,
        repo_paths: &'a [String],
        costs: &'c Costs<'a>,
        d: usize,
    ) -> Layouts<'a, 'c> {
        Layouts {
            lay: Layout {
                model,
                repo_paths,
                costs,
                d,
                stack: Vec::new(),
                next_group: 0,
                done: std::collections::HashMap::new(),
                on_connection: false,
                cycles: Vec::new(),
                inner: std::collections::HashMap::new(),
                cutting: None,
                cut_done: std::collections::HashMap::new(),
            },
        }
    }

    /// The waterfall of function `handler`.
    pub fn of(&mut self, handler: usize, budget_ms: f64) -> Waterfall {
        self.lay.next_group = 0;
        self.lay.on_connection = false;
        finish(&mut self.lay, handler, budget_ms)
    }
}

fn finish(lay: &mut Layout, handler: usize, budget_ms: f64) -> Waterfall {
    let (costs, d) = (lay.costs, lay.d);
    let part = lay.function(handler);
    let mut bars = part.bars;
    let mut groups = part.groups;
    groups.sort_by_key(|g| g.id);
    for (i, b) in bars.iter_mut().enumerate() {
        b.lane = i;
    }
    Waterfall {
        deployment: costs.config.deployments.get(d).cloned().unwrap_or_default(),
        bars,
        groups,
        total_ms: part.ms,
        hidden: part.hidden,
        budget_ms,
    }
}

/// A stretch of path: bars relative to its start, and how long it lasts.
#[derive(Debug, Clone, Default)]
struct Part {
    bars: Vec<Bar>,
    /// The concurrent groups in it, relative to its start.
    groups: Vec<Group>,
    ms: f64,
    /// Bars left out past [`MAX_BARS`].
    hidden: usize,
}

impl Part {
    /// This part, then `next`.
    fn then(mut self, mut next: Part) -> Part {
        next.shift(self.ms);
        self.ms += next.ms;
        self.absorb(next);
        self
    }

    /// Takes `other`'s bars and groups (already placed), as many as fit.
    fn absorb(&mut self, other: Part) {
        let room = MAX_BARS.saturating_sub(self.bars.len());
        self.hidden += other.hidden + other.bars.len().saturating_sub(room);
        self.bars.extend(other.bars.into_iter().take(room));
        self.groups.extend(other.groups);
    }

    fn shift(&mut self, by: f64) {
        for b in &mut self.bars {
            b.start_ms += by;
            b.end_ms += by;
        }
        for g in &mut self.groups {
            g.start_ms += by;
            g.end_ms += by;
        }
    }

    /// Stretched `n` times (a loop body run `n` times, drawn once).
    fn times(mut self, n: u32) -> Part {
        let k = f64::from(n);
        for b in &mut self.bars {
            b.start_ms *= k;
            b.end_ms *= k;
            b.multiplier = b.multiplier.saturating_mul(n);
        }
        for g in &mut self.groups {
            g.start_ms *= k;
            g.end_ms *= k;
        }
        self.ms *= k;
        self
    }
}

/// The costlier of two alternatives (the first on a tie, as the cost model keeps it).
fn costlier(a: Option<Part>, b: Part) -> Part {
    match a {
        Some(a) if a.ms >= b.ms => a,
        _ => b,
    }
}

struct Layout<'a, 'c> {
    model: &'a Model,
    repo_paths: &'a [String],
    costs: &'c Costs<'a>,
    d: usize,
    /// The functions being laid out: a recursive call adds nothing, as in the cost model.
    stack: Vec<usize>,
    /// The id of the next concurrent group.
    next_group: usize,
    /// Functions already laid out, for the next call to them (a call tree shaped like a diamond would
    /// otherwise be walked once per path).
    done: std::collections::HashMap<(usize, bool), Part>,
    /// The function being laid out runs on a connection its caller handed in (as in the cost model).
    on_connection: bool,
    /// The cycles of calls being laid out, by `Costs::cycle_of`, in `stack`'s order.
    cycles: Vec<usize>,
    /// Per cycle being laid out from its entry, its functions laid out since (as the cost model prices
    /// a cycle's function: once per entry, the cycle's other functions once on that walk).
    inner: std::collections::HashMap<usize, std::collections::HashMap<(usize, bool), Part>>,
    /// The cycle of calls being laid out with its recursion cut, for a recursive call into it.
    cutting: Option<usize>,
    /// Functions laid out that way.
    cut_done: std::collections::HashMap<(usize, bool), Part>,
}

impl Layout<'_, '_> {
    fn function(&mut self, id: usize) -> Part {
        let key = (id, self.on_connection);
        let cycle = self.costs.cycle_of(id);
        // Reached from inside its own cycle of calls: laid out once per entry into the cycle. Reached
        // from outside: the cycle's entry, whose layout is the same wherever it is reached from (but
        // for a recursive call, which lays it out with its cycle cut).
        let inside = cycle.filter(|c| self.cycles.contains(c));
        if inside.is_none() && (cycle.is_none() || cycle != self.cutting) {
            if let Some(part) = self.done.get(&key) {
                let part = part.clone();
                return self.renumbered(part);
            }
        }
        // Functions on the stack by what a call to them recurs into (see `Model::recursion_key`), as
        // in the cost model: a recursive call runs its function once more, laid out as the entry of
        // its cycle with the cycle cut there.
        let me = self.model.recursion_key(id);
        if self.stack.contains(&me) {
            return match cycle {
                Some(c) if self.cutting != Some(c) => self.cut(id, c),
                _ => Part::default(),
            };
        }
        if self.stack.len() > MAX_DEPTH {
            return Part::default();
        }
        if let Some(c) = inside {
            if let Some(part) = self.inner.get(&c).and_then(|m| m.get(&key)) {
                let part = part.clone();
                return self.renumbered(part);
            }
        } else if let Some(c) = cycle {
            self.inner.insert(c, Default::default());
        }
        self.stack.push(me);
        self.cycles.push(cycle.unwrap_or(usize::MAX));
        let body = &self.model.func(id).body;
        let part = self.seq(id, body);
        self.stack.pop();
        self.cycles.pop();
        match (inside, cycle) {
            (Some(c), _) => {
                self.inner.entry(c).or_default().insert(key, part.clone());
            }
            (None, c) => {
                if let Some(c) = c {
                    self.inner.remove(&c);
                }
                // Laid out with its cycle cut: only for the recursive call that asked.
                if c.is_none() || c != self.cutting {
                    self.done.insert(key, part.clone());
                }
            }
        }
        part
    }

    /// Function `id` of cycle `c` reached by a recursive call: laid out as the entry of its cycle with
    /// the cycle cut (a recursive call in it adds nothing), as the cost model prices it.
    fn cut(&mut self, id: usize, c: usize) -> Part {
        let key = (id, self.on_connection);
        if let Some(part) = self.cut_done.get(&key) {
            let part = part.clone();
            return self.renumbered(part);
        }
        let stack = std::mem::take(&mut self.stack);
        let cycles = std::mem::take(&mut self.cycles);
        let inner = std::mem::take(&mut self.inner);
        let cutting = self.cutting.replace(c);
        let part = self.function(id);
        self.stack = stack;
        self.cycles = cycles;
        self.inner = inner;
        self.cutting = cutting;
        self.cut_done.insert(key, part.clone());
        part
    }

    /// A laid-out part drawn again elsewhere, with new ids for its concurrent groups.
    fn renumbered(&mut self, mut part: Part) -> Part {
        let mut ids = std::collections::HashMap::new();
        for g in &mut part.groups {
            let id = *ids.entry(g.id).or_insert_with(|| {
                self.next_group += 1;
                self.next_group - 1
            });
            g.id = id;
        }
        for b in &mut part.bars {
            if let Some(g) = &mut b.group {
                *g = ids.get(g).copied().unwrap_or(*g);
            }
        }
        part
    }

    /// A sequence's costliest path, running to its end or leaving early.
    fn seq(&mut self, id: usize, steps: &[Step]) -> Part {
        match self.split(id, steps) {
            (Some(a), Some(b)) => costlier(Some(a), b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => Part::default(),
        }
    }

    /// The costliest path through a sequence to its end, and the costliest leaving it early (as
    /// `Costs::split`).
    fn split(&mut self, id: usize, steps: &[Step]) -> (Option<Part>, Option<Part>) {
        let (through, breaks, exits) = self.paths(id, steps);
        let out = match (breaks, exits) {
            (Some(b), e) => Some(costlier(e, b)),
            (None, e) => e,
        };
        (through, out)
    }

    /// The costliest paths of a sequence: to its end, out of the loop around it, out of the function
    /// (as `Costs::paths`).
    fn paths(&mut self, id: usize, steps: &[Step]) -> (Option<Part>, Option<Part>, Option<Part>) {
        let mut through = Some(Part::default());
        let (mut breaks, mut exits): (Option<Part>, Option<Part>) = (None, None);
        for step in steps {
            let Some(cur) = through.take() else { break };
            match step {
                Step::Exit => exits = Some(costlier(exits, cur)),
                Step::Break => breaks = Some(costlier(breaks, cur)),
                Step::Branch(alts) => {
                    // The arms share what came before: the costliest of each kind is picked first,
                    // then drawn after it (one copy of the path so far, not one per arm).
                    let (mut arm_through, mut arm_breaks, mut arm_exits) = (None, None, None);
                    for alt in alts {
                        let (t, b, e) = self.paths(id, alt);
                        if let Some(a) = t {
                            arm_through = Some(costlier(arm_through, a));
                        }
                        if let Some(a) = b {
                            arm_breaks = Some(costlier(arm_breaks, a));
                        }
                        if let Some(a) = e {
                            arm_exits = Some(costlier(arm_exits, a));
                        }
                    }
                    if let Some(a) = arm_breaks {
                        breaks = Some(costlier(breaks, cur.clone().then(a)));
                    }
                    if let Some(a) = arm_exits {
                        exits = Some(costlier(exits, cur.clone().then(a)));
                    }
                    through = arm_through.map(|a| cur.then(a));
                }
                // A `return` inside a loop ends the function there: what follows the loop is not on
                // that path.
                Step::Loop(l) => {
                    let (after, out) = self.loop_paths(id, l);
                    if let Some(e) = out {
                        exits = Some(costlier(exits, cur.clone().then(e)));
                    }
                    through = after.map(|a| cur.then(a));
                }
                other => {
                    let next = self.step(id, other);
                    through = Some(cur.then(next));
                }
            }
        }
        (through, breaks, exits)
    }

    /// A loop's costliest path that goes on after it, and its costliest that leaves the function inside
    /// it (as `Costs::loop_paths`).
    fn loop_paths(
        &mut self,
        id: usize,
        l: &crate::facts::LoopStep,
    ) -> (Option<Part>, Option<Part>) {
        let n = l.count.unwrap_or(self.costs.config.loop_iterations);
        if n == 0 {
            return (Some(Part::default()), None);
        }
        let (through, breaks, exits) = self.paths(id, &l.body);
        let then = |last: Part| match &through {
            Some(t) => t.clone().times(n - 1).then(last),
            None => last,
        };
        let mut after = through.clone().map(|t| t.times(n));
        if let Some(b) = breaks {
            after = Some(costlier(after, then(b)));
        }
        if after.is_none() && !l.forever {
            after = Some(Part::default());
        }
        (after, exits.map(then))
    }

    fn step(&mut self, id: usize, step: &Step) -> Part {
        match step {
            Step::Trip(t) => self.trip(id, t),
            Step::Call(c) => match c.resolved {
                Some(callee) => {
                    let outer = std::mem::replace(&mut self.on_connection, c.on_connection);
                    let mut part = self.function(callee);
                    self.on_connection = outer;
                    let name = self.model.qualified_name(callee);
                    for b in &mut part.bars {
                        b.via.insert(0, name.clone());
                    }
                    part
                }
                None => Part::default(),
            },
            Step::Branch(alts) => {
                let mut worst: Option<Part> = None;
                for alt in alts {
                    let p = self.seq(id, alt);
                    worst = Some(costlier(worst, p));
                }
                worst.unwrap_or_default()
            }
            Step::Concurrent(c) => {
                let index = self.next_group;
                self.next_group += 1;
                let mut part = Part::default();
                for branch in &c.branches {
                    let mut p = self.seq(id, branch);
                    part.ms = part.ms.max(p.ms);
                    for b in &mut p.bars {
                        b.group.get_or_insert(index);
                    }
                    part.absorb(p);
                }
                part.groups.push(Group {
                    id: index,
                    start_ms: 0.0,
                    end_ms: part.ms,
                    form: c.form.clone(),
                });
                part
            }
            Step::Loop(l) => {
                let n = l.count.unwrap_or(self.costs.config.loop_iterations);
                if n == 0 {
                    return Part::default();
                }
                match self.split(id, &l.body) {
                    // Every iteration but the last comes back; the last may leave early instead.
                    (Some(through), Some(out)) if out.ms > through.ms => {
                        let body = through.times(n - 1);
                        body.then(out)
                    }
                    (Some(through), _) => through.times(n),
                    (None, Some(out)) => out,
                    (None, None) => Part::default(),
                }
            }
            Step::Exit | Step::Break | Step::Guard { .. } | Step::Yields(_) => Part::default(),
        }
    }

    fn trip(&mut self, id: usize, t: &Trip) -> Part {
        if t.in_process {
            return Part::default();
        }
        let cost = self
            .costs
            .trip_on(&Step::Trip(t.clone()), self.on_connection);
        let ms = cost.ms.get(self.d).copied().unwrap_or(0.0);
        let config = self.costs.config;
        let deployment = config.deployments[self.d].as_str();
        let target = t.target.unwrap_or(crate::config::Target {
            db: 0,
            role: Role::Primary,
        });
        let region = self.costs.region_of(t, target, deployment).to_string();
        let moved = region != config.endpoint_region(target, deployment);
        let (database, role) = match config.databases.get(target.db) {
            Some(db) if db.service => (db.name.clone(), "service"),
            Some(db) => {
                let role = match (&self.costs.routing, moved, target.role) {
                    (Routing::ReadReplicas { .. }, true, _) => "replica",
                    (Routing::Isolation, true, _) => "primary",
                    (_, _, Role::Replica) => "replica",
                    (_, _, Role::Primary) => "primary",
                };
                (db.name.clone(), role)
            }
            None => ("an API next to the app".to_string(), "service"),
        };
        let label = if role == "service" {
            format!("{database} in {region}")
        } else {
            format!("{database} ({role}) in {region}")
        };
        let access = match t.access {
            Some(crate::facts::sql::Access::Read) => "read",
            Some(crate::facts::sql::Access::Write) => "write",
            None => "unknown",
        };
        let kind = match t.kind {
            _ if role == "service" => {
                let spelled = format!("{} {}", t.api, t.executor.as_deref().unwrap_or(""));
                let spelled = spelled.to_lowercase();
                let cache = ["redis", "cache", "valkey", "memcache"]
                    .iter()
                    .any(|w| spelled.contains(w));
                if cache {
                    "cache"
                } else {
                    "http"
                }
            }
            crate::facts::TripKind::Query => access,
            crate::facts::TripKind::Begin => "begin",
            crate::facts::TripKind::Commit => "commit",
            crate::facts::TripKind::Rollback => "rollback",
            crate::facts::TripKind::Prepare => "prepare",
            crate::facts::TripKind::Setting => "set",
            crate::facts::TripKind::Check => "ping",
        };
        let model = &self.model;
        let file_index = model.fns[id].file;
        let file = model.files[file_index].path.clone();
        let repo_file = self
            .repo_paths
            .get(file_index)
            .cloned()
            .unwrap_or_else(|| file.clone());
        let statement = Bar {
            start_ms: 0.0,
            end_ms: ms,
            lane: 0,
            label,
            database,
            role,
            region,
            access,
            api: t.api.clone(),
            sql: t.sql.clone(),
            file,
            repo_file,
            line: t.loc.line,
            multiplier: 1,
            kind,
            via: Vec::new(),
            counted: target.db < config.databases.len(),
            group: None,
        };
        // Round trips the code does not show, each as wide as the statement's, just before it: the
        // pool's connection check, the preparing of SQL sent as text. A check by itself is all there
        // is of an acquisition.
        if t.kind == crate::facts::TripKind::Check && cost.pings == 0 {
            return Part::default();
        }
        let mut kinds: Vec<&'static str> = Vec::new();
        kinds.extend((cost.pings > 0).then_some("check"));
        kinds.extend((cost.prepares > 0).then_some("prepare"));
        if t.kind != crate::facts::TripKind::Check {
            kinds.push("statement");
        }
        let each = ms / kinds.len().max(1) as f64;
        let bars = kinds
            .iter()
            .enumerate()
            .map(|(i, kind)| {
                let (start_ms, end_ms) = (each * i as f64, each * (i + 1) as f64);
                match *kind {
                    "statement" => Bar {
                        start_ms,
                        end_ms,
                        ..statement.clone()
                    },
                    hidden => Bar {
                        start_ms,
                        end_ms,
                        access: hidden,
                        kind: if hidden == "check" { "ping" } else { "prepare" },
                        api: if hidden == "check" {
                            "the pool's connection check (`test_before_acquire`)".into()
                        } else {
                            "preparing the statement sent as text".into()
                        },
                        sql: None,
                        ..statement.clone()
                    },
                }
            })
            .collect();
        Part {
            bars,
            groups: Vec::new(),
            ms,
            hidden: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, Target};
    use crate::facts::Loc;
    use crate::facts::{Concurrent, FileFacts, FnFacts, LoopStep};

    fn trip(line: u32) -> Step {
        let mut t = Trip::bare(0, Loc::default(), "q".into());
        t.loc.line = line;
        t.target = Some(Target {
            db: 0,
            role: Role::Primary,
        });
        Step::Trip(t)
    }

    fn config() -> Config {
        let mut c = Config::default_topology();
        c.topology.add_override("us-east-1", "eu-central-1", 90.0);
        c
    }

    /// The analysis of one handler `h` with `body`, and the cost model's estimate for it.
    fn analysis(body: Vec<Step>) -> Analysis {
        // A handler (only what is on a path is priced).
        let f = FnFacts {
            name: "h".into(),
            is_async: true,
            extractors: vec!["State".into()],
            body,
            ..FnFacts::default()
        };
        let files = vec![FileFacts {
            path: "src/h.rs".into(),
            functions: vec![f],
            ..FileFacts::default()
        }];
        crate::analyze_files(std::path::Path::new("."), files, config())
    }

    fn lay(body: Vec<Step>) -> (Waterfall, f64) {
        let a = analysis(body);
        let costs = Costs::compute(&a.model, &a.config);
        let estimate = costs.of_fn(0).ms[0];
        (layout(&a, &costs, 0, 0, 250.0), estimate)
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6
    }

    #[test]
    fn sequential_trips_follow_one_another() {
        let (w, estimate) = lay(vec![trip(1), trip(2), trip(3)]);
        assert_eq!(w.bars.len(), 3);
        let spans: Vec<(f64, f64)> = w.bars.iter().map(|b| (b.start_ms, b.end_ms)).collect();
        assert_eq!(spans, vec![(0.0, 90.0), (90.0, 180.0), (180.0, 270.0)]);
        assert_eq!(w.bars.iter().map(|b| b.lane).collect::<Vec<_>>(), [0, 1, 2]);
        assert!(close(w.total_ms, estimate));
        assert_eq!(w.bars[0].line, 1);
        assert_eq!(w.bars[0].file, "src/h.rs");
        assert!(w.bars[0].label.contains("(primary) in eu-central-1"));
    }

    #[test]
    fn a_concurrent_group_starts_together_and_lasts_its_slowest_branch() {
        let (w, estimate) = lay(vec![
            trip(1),
            Step::Concurrent(Concurrent {
                loc: Loc::default(),
                form: "tokio::try_join!".into(),
                branches: vec![vec![trip(2)], vec![trip(3), trip(4)]],
                at_once: None,
            }),
            trip(5),
        ]);
        let starts: Vec<f64> = w.bars.iter().map(|b| b.start_ms).collect();
        assert_eq!(starts, vec![0.0, 90.0, 90.0, 180.0, 270.0]);
        assert_eq!(w.bars[1].group, Some(0));
        assert_eq!(w.bars[3].group, Some(0));
        assert_eq!(w.bars[4].group, None);
        assert_eq!(w.groups[0].start_ms, 90.0);
        assert_eq!(w.groups[0].end_ms, 270.0);
        assert!(close(w.total_ms, 360.0) && close(w.total_ms, estimate));
    }

    #[test]
    fn a_loop_is_drawn_once_stretched_n_times() {
        let (w, estimate) = lay(vec![
            trip(1),
            Step::Loop(LoopStep {
                body: vec![trip(2), trip(3)],
                count: Some(3),
                ..LoopStep::default()
            }),
        ]);
        assert_eq!(w.bars.len(), 3);
        assert_eq!(w.bars[1].multiplier, 3);
        assert_eq!((w.bars[1].start_ms, w.bars[1].end_ms), (90.0, 360.0));
        assert_eq!((w.bars[2].start_ms, w.bars[2].end_ms), (360.0, 630.0));
        assert!(close(w.total_ms, estimate), "{} vs {estimate}", w.total_ms);
    }

    #[test]
    fn nested_loops_multiply_and_the_default_count_applies() {
        let inner = Step::Loop(LoopStep {
            body: vec![trip(2)],
            count: Some(2),
            ..LoopStep::default()
        });
        let (w, estimate) = lay(vec![Step::Loop(LoopStep {
            body: vec![trip(1), inner],
            ..LoopStep::default()
        })]);
        assert_eq!(w.bars[0].multiplier, 10);
        assert_eq!(w.bars[1].multiplier, 20);
        assert!(close(w.total_ms, estimate) && close(w.total_ms, 30.0 * 90.0));
    }

    #[test]
    fn a_branch_draws_its_costliest_arm_and_an_early_exit_its_path() {
        let mut body = vec![
            trip(1),
            Step::Branch(vec![vec![trip(2), trip(3), Step::Exit], vec![trip(4)]]),
            trip(5),
        ];
        crate::facts::fold_exits(&mut body);
        let (w, estimate) = lay(body);
        // Both paths have 3 round trips: the first (leaving early) is kept, as the estimate keeps it.
        let lines: Vec<u32> = w.bars.iter().map(|b| b.line).collect();
        assert_eq!(lines.len(), 3);
        assert!(close(w.total_ms, estimate));
        let (w, estimate) = lay(vec![Step::Branch(vec![
            vec![trip(1)],
            vec![trip(2), trip(3)],
        ])]);
        assert_eq!(w.bars.iter().map(|b| b.line).collect::<Vec<_>>(), [2, 3]);
        assert!(close(w.total_ms, estimate));
    }

    #[test]
    fn a_loop_that_may_leave_early_pays_its_exit_once() {
        let (w, estimate) = lay(vec![Step::Loop(LoopStep {
            body: vec![
                trip(1),
                Step::Branch(vec![vec![trip(2), Step::Exit], vec![]]),
            ],
            ..LoopStep::default()
        })]);
        // 9 iterations of one round trip, then the last with two.
        assert_eq!(w.bars.len(), 3);
        assert_eq!(w.bars[0].multiplier, 9);
        assert_eq!(w.bars[1].multiplier, 1);
        assert!(close(w.total_ms, estimate) && close(w.total_ms, 11.0 * 90.0));
    }

    #[test]
    fn a_call_tree_shaped_like_a_diamond_is_drawn_up_to_the_cap() {
        // f0 calls f1 twice, f1 calls f2 twice, … f24 makes a round trip: 2^24 round trips.
        let depth = 24;
        let functions: Vec<FnFacts> = (0..=depth)
            .map(|i| {
                let call = |n: u32| {
                    Step::Call(crate::facts::Call::new(
                        n,
                        Loc::default(),
                        crate::facts::Callee::Path(vec![format!("f{}", i + 1)]),
                    ))
                };
                FnFacts {
                    name: format!("f{i}"),
                    is_async: true,
                    // f0 is the handler (the others are called, so only it is one).
                    extractors: vec!["State".into()],
                    body: if i == depth {
                        vec![trip(1)]
                    } else {
                        vec![call(0), call(1)]
                    },
                    ..FnFacts::default()
                }
            })
            .collect();
        let files = vec![FileFacts {
            path: "src/h.rs".into(),
            functions,
            ..FileFacts::default()
        }];
        let a = crate::analyze_files(std::path::Path::new("."), files, config());
        let costs = Costs::compute(&a.model, &a.config);
        let f0 = (0..a.model.fns.len())
            .find(|&i| a.model.func(i).name == "f0")
            .unwrap();
        assert_eq!(costs.of_fn(f0).trips, 1 << depth);
        let w = layout(&a, &costs, f0, 0, 250.0);
        assert_eq!(w.bars.len(), MAX_BARS);
        assert_eq!(w.hidden, (1 << depth) - MAX_BARS);
        assert!(close(w.total_ms, costs.of_fn(f0).ms[0]));
    }

    #[test]
    fn a_function_called_twice_draws_its_groups_twice() {
        let joined = FnFacts {
            name: "pair".into(),
            is_async: true,
            body: vec![Step::Concurrent(Concurrent {
                loc: Loc::default(),
                form: "join!".into(),
                branches: vec![vec![trip(1)], vec![trip(2)]],
                at_once: None,
            })],
            ..FnFacts::default()
        };
        let call = |id| {
            Step::Call(crate::facts::Call::new(
                id,
                Loc::default(),
                crate::facts::Callee::Path(vec!["pair".into()]),
            ))
        };
        let h = FnFacts {
            name: "h".into(),
            is_async: true,
            extractors: vec!["State".into()],
            body: vec![call(0), call(1)],
            ..FnFacts::default()
        };
        let files = vec![FileFacts {
            path: "src/h.rs".into(),
            functions: vec![h, joined],
            ..FileFacts::default()
        }];
        let a = crate::analyze_files(std::path::Path::new("."), files, config());
        let costs = Costs::compute(&a.model, &a.config);
        let w = layout(&a, &costs, 0, 0, 250.0);
        let ids: Vec<Option<usize>> = w.bars.iter().map(|b| b.group).collect();
        assert_eq!(ids, [Some(0), Some(0), Some(1), Some(1)]);
        assert_eq!(w.groups.len(), 2);
        assert_eq!((w.groups[1].start_ms, w.groups[1].end_ms), (90.0, 180.0));
        assert!(close(w.total_ms, costs.of_fn(0).ms[0]));
    }

    #[test]
    fn the_isolation_scenario_makes_every_trip_local() {
        let a = analysis(vec![trip(1), trip(2)]);
        let costs = Costs::routed(&a.model, &a.config, Routing::Isolation);
        let w = layout(&a, &costs, 0, 0, 250.0);
        assert!(close(w.total_ms, costs.of_fn(0).ms[0]));
        assert!(w.bars.iter().all(|b| b.region == "us-east-1"), "{w:?}");
        assert!(w.total_ms < 10.0);
    }
}

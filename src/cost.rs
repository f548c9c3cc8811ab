//! The cost model: milliseconds per deployment for every function's critical path.
//!
//! A sequence costs the sum of its steps, a branch its costliest alternative, a loop its body times
//! `assume.loop-iterations`, a concurrent group its slowest branch, a call the callee's own path, and a
//! round trip the RTT from the deployment to the region that serves it. A recursive call runs its
//! function once more, with the recursion cut there (one nested level). It is pure: model and topology
//! in, numbers out; no I/O.

use crate::config::Config;
use std::collections::{HashMap, HashSet};

use crate::facts::{Loc, Step};
use crate::model::Model;

/// Calls nested deeper than this are cut off (and costed as nothing).
const MAX_CALL_DEPTH: usize = 64;

/// A count of round trips. Loops multiply: nested loops of services with many layers reach billions.
pub type Trips = u64;

/// The cost of a path: round trips on the critical path, and milliseconds per deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct PathCost {
    pub trips: Trips,
    /// Connection checks a pool makes before lending a connection: round trips the code does not show,
    /// in `ms` but not in `trips`.
    pub pings: Trips,
    /// Statements sent as text that the library prepares first, in a round trip of their own: in `ms`,
    /// not in `trips`.
    pub prepares: Trips,
    pub ms: Vec<f64>,
}

impl PathCost {
    pub fn zero(deployments: usize) -> PathCost {
        PathCost {
            trips: 0,
            pings: 0,
            prepares: 0,
            ms: vec![0.0; deployments],
        }
    }

    fn add(&mut self, other: &PathCost) {
        self.trips = self.trips.saturating_add(other.trips);
        self.pings = self.pings.saturating_add(other.pings);
        self.prepares = self.prepares.saturating_add(other.prepares);
        self.ms.iter_mut().zip(&other.ms).for_each(|(a, b)| *a += b);
    }

    /// The costlier of two alternatives, per deployment.
    fn max(&mut self, other: &PathCost) {
        self.trips = self.trips.max(other.trips);
        self.pings = self.pings.max(other.pings);
        self.prepares = self.prepares.max(other.prepares);
        self.ms
            .iter_mut()
            .zip(&other.ms)
            .for_each(|(a, b)| *a = a.max(*b));
    }

    fn times(&mut self, n: u32) {
        let n64 = Trips::from(n);
        self.trips = self.trips.saturating_mul(n64);
        self.pings = self.pings.saturating_mul(n64);
        self.prepares = self.prepares.saturating_mul(n64);
        self.ms.iter_mut().for_each(|a| *a *= f64::from(n));
    }
}

/// The costliest paths of a sequence, by how they end (see `Costs::paths`).
struct Paths {
    through: Option<PathCost>,
    breaks: Option<PathCost>,
    exits: Option<PathCost>,
}

fn sum(a: &PathCost, b: &PathCost) -> PathCost {
    let mut s = a.clone();
    s.add(b);
    s
}

/// A read a replica could answer: a query that reads, outside any transaction.
pub fn movable(t: &crate::facts::Trip) -> bool {
    t.kind == crate::facts::TripKind::Query
        && t.access == Some(crate::facts::sql::Access::Read)
        && !t.in_transaction
        && !t.in_process
}

fn costlier(a: Option<PathCost>, b: PathCost) -> PathCost {
    match a {
        Some(mut a) => {
            a.max(&b);
            a
        }
        None => b,
    }
}

/// The strongly connected components of the call graph of the functions on some path (see
/// `Model::resolved`; no other function is priced): a function alone, or the functions of a cycle of
/// calls, callees before callers (Tarjan's algorithm, without recursion).
fn call_cycles(model: &Model) -> Vec<Vec<usize>> {
    let n = model.fns.len();
    // A copy of a function (run with a caller's constants, or on some of its outcomes) is that function:
    // the graph is over originals, and a cycle holds the copies of its functions too.
    let origin = |id: usize| model.recursion_key(id);
    let resolved = |id: usize| model.resolved.get(id).copied().unwrap_or(false);
    let mut callees: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut copies: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut live = vec![false; n];
    for id in (0..n).filter(|&id| resolved(id)) {
        let from = origin(id);
        live[from] = true;
        copies[from].push(id);
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Call(crate::facts::Call {
                    resolved: Some(t), ..
                }) = s
                {
                    let to = origin(*t);
                    if !callees[from].contains(&to) {
                        callees[from].push(to);
                    }
                }
            });
        }
    }
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut next = 0;
    for start in 0..n {
        if index[start] != usize::MAX || !live[start] {
            continue;
        }
        // (function, how many of its callees were visited)
        let mut work = vec![(start, 0usize)];
        while let Some(&mut (v, ref mut i)) = work.last_mut() {
            if *i == 0 {
                index[v] = next;
                low[v] = next;
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = callees[v].get(*i) {
                *i += 1;
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.extend(&copies[w]);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                out.push(component);
            }
        }
    }
    out
}

/// Where round trips are sent: as the configuration says, or as a scenario of `hopcheck plan` would.
#[derive(Debug, Clone, Default)]
pub enum Routing {
    #[default]
    AsConfigured,
    /// A replica of every database in every deployment's region: reads that may move (outside a
    /// transaction, not after a write to the same database on the path: those at `stay`) are local.
    ReadReplicas { stay: HashSet<Loc> },
    /// A primary of every database in every deployment's region: every database round trip is local.
    Isolation,
}

/// Costs of every function, computed once.
pub struct Costs<'a> {
    pub model: &'a Model,
    pub config: &'a Config,
    pub routing: Routing,
    fn_costs: Vec<Option<PathCost>>,
    /// Functions priced as called with a connection or transaction handed in (`save(&mut tx, ..)`): no
    /// pool check before their statements, which run on that connection. Filled as calls need them.
    conn_costs: std::cell::RefCell<HashMap<usize, PathCost>>,
    /// Whether the function being priced runs on a connection its caller handed in.
    on_connection: std::cell::Cell<bool>,
    /// The functions being priced that way, so that a recursive call adds nothing.
    conn_visiting: std::cell::RefCell<Vec<usize>>,
    /// RTTs by deployment and region: looking one up resolves region names each time.
    rtts: std::cell::RefCell<HashMap<(usize, String), f64>>,
    /// Each priced function's cycle of calls (an index; a function outside any cycle has one of its own).
    cycle_of: Vec<usize>,
    /// Functions of a cycle of calls priced with the cycle cut (a recursive call adds nothing): what a
    /// recursive call costs, one nested level.
    cut: Vec<Option<PathCost>>,
    /// Whether a walk met a recursive call (the cycle's functions are then priced again).
    recursed: bool,
    /// On-connection costs with the recursion cut, as `cut`.
    conn_cut: std::cell::RefCell<HashMap<usize, PathCost>>,
    /// Whether a connection's recursion is being priced as cut.
    conn_cutting: std::cell::Cell<bool>,
}

impl<'a> Costs<'a> {
    pub fn compute(model: &'a Model, config: &'a Config) -> Costs<'a> {
        Costs::routed(model, config, Routing::AsConfigured)
    }

    /// Costs with round trips sent as `routing` says.
    pub fn routed(model: &'a Model, config: &'a Config, routing: Routing) -> Costs<'a> {
        let mut costs = Costs {
            model,
            config,
            routing,
            fn_costs: vec![None; model.fns.len()],
            conn_costs: Default::default(),
            on_connection: Default::default(),
            conn_visiting: Default::default(),
            rtts: Default::default(),
            cycle_of: vec![usize::MAX; model.fns.len()],
            cut: vec![None; model.fns.len()],
            recursed: false,
            conn_cut: Default::default(),
            conn_cutting: Default::default(),
        };
        // Callees first, a cycle of calls at a time: each function of a cycle is priced as the entry of
        // its own walk (the others of the cycle once on the path), so that its cost does not depend on
        // which caller reached the cycle first.
        let n = model.fns.len();
        let mut visiting = vec![false; n];
        for (c, component) in call_cycles(model).into_iter().enumerate() {
            for &f in &component {
                costs.cycle_of[f] = c;
            }
            // First with the cycle cut: a recursive call adds nothing. Where a walk met one, again: a
            // recursive call then costs its function with the cycle cut (one nested level).
            costs.recursed = false;
            let cut = costs.entries(&component, &mut visiting);
            if costs.recursed {
                for (&f, cost) in component.iter().zip(cut) {
                    costs.cut[f] = Some(cost);
                }
                let entries = costs.entries(&component, &mut visiting);
                for (&f, cost) in component.iter().zip(entries) {
                    costs.fn_costs[f] = Some(cost);
                }
            } else {
                for (&f, cost) in component.iter().zip(cut) {
                    costs.fn_costs[f] = Some(cost);
                }
            }
        }
        // Priced while some functions of a cycle were not yet: priced again on demand.
        costs.conn_costs.borrow_mut().clear();
        costs.conn_cut.borrow_mut().clear();
        costs
    }

    /// Each function of a cycle of calls priced as the entry of its own walk (the others of the cycle
    /// once on the path), so that its cost does not depend on which caller reached the cycle first.
    fn entries(&mut self, component: &[usize], visiting: &mut [bool]) -> Vec<PathCost> {
        let mut entries = Vec::with_capacity(component.len());
        for &root in component {
            for &f in component {
                self.fn_costs[f] = None;
            }
            entries.push(self.fn_cost_rec(root, visiting, 0));
        }
        entries
    }

    fn zero(&self) -> PathCost {
        PathCost::zero(self.config.deployments.len())
    }

    /// The region that answers a round trip from deployment `d`, under this routing.
    pub fn region_of<'c>(
        &'c self,
        t: &crate::facts::Trip,
        target: crate::config::Target,
        d: &'c str,
    ) -> &'c str {
        let database = self
            .config
            .databases
            .get(target.db)
            .is_some_and(|db| !db.service);
        match &self.routing {
            Routing::AsConfigured => self.config.endpoint_region(target, d),
            Routing::Isolation if database => d,
            Routing::ReadReplicas { stay } if database && movable(t) && !stay.contains(&t.loc) => d,
            _ => self.config.endpoint_region(target, d),
        }
    }

    /// The cycle of calls function `id` is part of, if it is priced: functions of one cycle share it.
    pub fn cycle_of(&self, id: usize) -> Option<usize> {
        self.cycle_of.get(id).copied().filter(|&c| c != usize::MAX)
    }

    /// The critical-path cost of a function.
    pub fn of_fn(&self, id: usize) -> PathCost {
        self.fn_costs
            .get(id)
            .cloned()
            .flatten()
            .unwrap_or_else(|| self.zero())
    }

    fn fn_cost_rec(&mut self, id: usize, visiting: &mut [bool], depth: usize) -> PathCost {
        if let Some(c) = &self.fn_costs[id] {
            return c.clone();
        }
        // A recursive call costs its function with the cycle cut (`cut`, once known; nothing before).
        // A copy of a function (run with the caller's constants, or on some of its outcomes) is that
        // function.
        let key = self.model.recursion_key(id);
        if visiting[key] {
            self.recursed = true;
            return self.cut[id].clone().unwrap_or_else(|| self.zero());
        }
        if depth > MAX_CALL_DEPTH {
            return self.zero();
        }
        visiting[key] = true;
        // Costs of callees first, so that `step` can read them.
        let model = self.model;
        let mut callees = Vec::new();
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Call(c) = s {
                    if let Some(t) = c.resolved {
                        callees.push(t);
                    }
                }
            });
        }
        for callee in callees {
            self.fn_cost_rec(callee, visiting, depth + 1);
        }
        visiting[key] = false;
        let cost = self.seq(&model.func(id).body);
        self.fn_costs[id] = Some(cost.clone());
        cost
    }

    /// The cost of a sequence of steps: its costliest path, whether it runs to the end or leaves early.
    pub fn seq(&self, steps: &[Step]) -> PathCost {
        let (through, out) = self.split(steps);
        match (through, out) {
            (Some(mut a), Some(b)) => {
                a.max(&b);
                a
            }
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => self.zero(),
        }
    }

    /// The cost of a function's paths that run to its end (no early `return`), if any does.
    pub fn through_fn(&self, id: usize) -> Option<PathCost> {
        self.split(&self.model.func(id).body).0
    }

    /// Where the worst case of a function parts from its other paths: the first branch on its costliest
    /// path whose arms differ in round trips, given as the function holding it and the first step of the
    /// costlier arm. Arms that only leave early without a round trip (guard clauses) are not compared.
    pub fn worst_case_branch(&self, id: usize) -> Option<(usize, Loc)> {
        let mut seen = vec![false; self.model.fns.len()];
        self.branch_in(id, &self.model.func(id).body, &mut seen)
    }

    /// The place of the first step of a sequence that costs a round trip.
    fn first_trip(&self, steps: &[Step]) -> Option<Loc> {
        steps.iter().find_map(|s| match s {
            Step::Branch(alts) => alts.iter().find_map(|a| self.first_trip(a)),
            _ if self.step(s).trips == 0 => None,
            Step::Trip(t) => Some(t.loc),
            Step::Call(c) => Some(c.loc),
            Step::Loop(l) => Some(l.loc),
            Step::Concurrent(c) => Some(c.loc),
            Step::Exit | Step::Break | Step::Guard { .. } | Step::Yields(_) => None,
        })
    }

    fn branch_in(&self, id: usize, steps: &[Step], seen: &mut [bool]) -> Option<(usize, Loc)> {
        for step in steps {
            let found = match step {
                Step::Branch(alts) => {
                    let worst = |alt: &Vec<Step>| {
                        let (through, out) = self.split(alt);
                        let leaves_cheaply =
                            through.is_none() && out.as_ref().is_none_or(|o| o.trips == 0);
                        let trips = |c: Option<PathCost>| c.map_or(0, |c| c.trips);
                        (!leaves_cheaply).then(|| trips(through).max(trips(out)))
                    };
                    let arms: Vec<(&Vec<Step>, Trips)> =
                        alts.iter().filter_map(|a| Some((a, worst(a)?))).collect();
                    let most = arms.iter().map(|a| a.1).max();
                    let least = arms.iter().map(|a| a.1).min();
                    let costliest = arms.iter().find(|a| Some(a.1) == most).map(|a| a.0);
                    match (costliest, most > least) {
                        (Some(arm), true) => self.first_trip(arm).map(|loc| (id, loc)),
                        (Some(arm), false) => self.branch_in(id, arm, seen),
                        (None, _) => None,
                    }
                }
                Step::Loop(l) => self.branch_in(id, &l.body, seen),
                Step::Concurrent(c) => c
                    .branches
                    .iter()
                    .max_by_key(|b| self.seq(b).trips)
                    .and_then(|b| self.branch_in(id, b, seen)),
                Step::Call(c) => match c.resolved {
                    Some(callee) if !seen[callee] => {
                        seen[callee] = true;
                        self.branch_in(callee, &self.model.func(callee).body, seen)
                    }
                    _ => None,
                },
                Step::Trip(_) | Step::Exit | Step::Break | Step::Guard { .. } | Step::Yields(_) => {
                    None
                }
            };
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// What one iteration of a loop costs when it comes back for the next (or, if none does, when it
    /// leaves).
    pub fn per_iteration(&self, body: &[Step]) -> PathCost {
        let (through, out) = self.split(body);
        through.or(out).unwrap_or_else(|| self.zero())
    }

    /// The costliest path that runs through a sequence to its end, and the costliest that leaves it
    /// early (`return`, `break`); `None` where there is no such path.
    pub fn split(&self, steps: &[Step]) -> (Option<PathCost>, Option<PathCost>) {
        let p = self.paths(steps);
        let out = match (p.breaks, p.exits) {
            (Some(b), e) => Some(costlier(e, b)),
            (None, e) => e,
        };
        (p.through, out)
    }

    /// The costliest paths of a sequence: to its end, out of the loop around it (`break`), and out of
    /// the function (`return`, `?`).
    fn paths(&self, steps: &[Step]) -> Paths {
        let mut p = Paths {
            through: Some(self.zero()),
            breaks: None,
            exits: None,
        };
        for step in steps {
            let Some(cur) = p.through.take() else { break };
            match step {
                Step::Exit => p.exits = Some(costlier(p.exits, cur)),
                Step::Break => p.breaks = Some(costlier(p.breaks, cur)),
                Step::Guard { .. } | Step::Yields(_) => p.through = Some(cur),
                Step::Branch(alts) => {
                    for alt in alts {
                        let a = self.paths(alt);
                        if let Some(t) = a.through {
                            p.through = Some(costlier(p.through, sum(&cur, &t)));
                        }
                        if let Some(b) = a.breaks {
                            p.breaks = Some(costlier(p.breaks, sum(&cur, &b)));
                        }
                        if let Some(e) = a.exits {
                            p.exits = Some(costlier(p.exits, sum(&cur, &e)));
                        }
                    }
                }
                // A `return` inside a loop ends the function there: what follows the loop is not on
                // that path.
                Step::Loop(l) => {
                    let (after, exits) = self.loop_paths(l);
                    if let Some(e) = exits {
                        p.exits = Some(costlier(p.exits, sum(&cur, &e)));
                    }
                    p.through = after.map(|a| sum(&cur, &a));
                }
                other => p.through = Some(sum(&cur, &self.step(other))),
            }
        }
        p
    }

    /// A loop's costliest path that goes on after it (every iteration comes back, or the last breaks
    /// out), and its costliest that leaves the function inside it (the last iteration returns).
    fn loop_paths(&self, l: &crate::facts::LoopStep) -> (Option<PathCost>, Option<PathCost>) {
        let n = l.count.unwrap_or(self.config.loop_iterations);
        if n == 0 {
            return (Some(self.zero()), None);
        }
        let body = self.paths(&l.body);
        let before_last = body.through.as_ref().map(|t| {
            let mut t = t.clone();
            t.times(n - 1);
            t
        });
        let then = |last: &PathCost| match &before_last {
            Some(b) => sum(b, last),
            None => last.clone(),
        };
        let mut after = body.through.as_ref().map(|t| {
            let mut all = t.clone();
            all.times(n);
            all
        });
        if let Some(b) = &body.breaks {
            after = Some(costlier(after, then(b)));
        }
        // A loop over a collection may find it empty and run no iteration.
        if after.is_none() && !l.forever {
            after = Some(self.zero());
        }
        (after, body.exits.as_ref().map(then))
    }

    /// What function `id` costs called with a connection or transaction handed in: its statements run
    /// on it, with no pool check before them.
    fn on_connection_cost(&self, id: usize) -> PathCost {
        if let Some(c) = self.conn_costs.borrow().get(&id) {
            return c.clone();
        }
        // A copy of a function (run with the caller's constants or types, or on some of its outcomes) is
        // that function: a call to another copy of it is a recursive call too.
        let key = self.model.recursion_key(id);
        if self.conn_visiting.borrow().contains(&key) {
            // A recursive call: its function once more, with the recursion cut there.
            if self.conn_cutting.get() {
                return self.zero();
            }
            if let Some(c) = self.conn_cut.borrow().get(&id) {
                return c.clone();
            }
            let outer = std::mem::replace(&mut *self.conn_visiting.borrow_mut(), vec![key]);
            self.conn_cutting.set(true);
            let cost = self.on_connection_body(id);
            self.conn_cutting.set(false);
            *self.conn_visiting.borrow_mut() = outer;
            self.conn_cut.borrow_mut().insert(id, cost.clone());
            return cost;
        }
        self.conn_visiting.borrow_mut().push(key);
        let cost = self.on_connection_body(id);
        self.conn_visiting.borrow_mut().retain(|&f| f != key);
        // Priced with the recursion cut: only for the recursive call that asked.
        if !self.conn_cutting.get() {
            self.conn_costs.borrow_mut().insert(id, cost.clone());
        }
        cost
    }

    fn on_connection_body(&self, id: usize) -> PathCost {
        let outer = self.on_connection.replace(true);
        let cost = self.seq(&self.model.func(id).body);
        self.on_connection.set(outer);
        cost
    }

    /// [`Costs::step`] for a round trip made where a caller handed its connection in (`on_connection`).
    pub fn trip_on(&self, trip: &Step, on_connection: bool) -> PathCost {
        let outer = self.on_connection.replace(on_connection);
        let cost = self.step(trip);
        self.on_connection.set(outer);
        cost
    }

    fn rtt_ms(&self, deployment: usize, from: &str, to: &str) -> f64 {
        let key = (deployment, to.to_string());
        if let Some(ms) = self.rtts.borrow().get(&key) {
            return *ms;
        }
        let ms = self.config.rtt_ms(from, to);
        self.rtts.borrow_mut().insert(key, ms);
        ms
    }

    /// The cost of one step.
    pub fn step(&self, step: &Step) -> PathCost {
        match step {
            Step::Trip(t) => {
                let target = t.target.unwrap_or(crate::config::Target {
                    db: 0,
                    role: crate::config::Role::Primary,
                });
                // A database in the process (SQLite) makes no round trip.
                if t.in_process {
                    return self.zero();
                }
                let counted = target.db < self.config.databases.len();
                // Round trips the code does not show, to the same place: the pool's check of the
                // connection, the preparing of SQL sent as text.
                let pinged =
                    counted && t.checkout && self.model.checkout_ping && !self.on_connection.get();
                let prepared = counted && t.prepare;
                let check = t.kind == crate::facts::TripKind::Check;
                // A check alone (`pool.acquire()`) is only that, and nothing where the pool makes none. A
                // service no `[pools]` entry places costs its time but is no counted round trip.
                let statement = u32::from(!check);
                let times = statement + u32::from(pinged) + u32::from(prepared);
                if times == 0 {
                    return self.zero();
                }
                let ms = self
                    .config
                    .deployments
                    .iter()
                    .enumerate()
                    .map(|(i, d)| {
                        f64::from(times) * self.rtt_ms(i, d, self.region_of(t, target, d))
                    })
                    .collect();
                PathCost {
                    trips: if counted { Trips::from(statement) } else { 0 },
                    pings: Trips::from(pinged),
                    prepares: Trips::from(prepared),
                    ms,
                }
            }
            Step::Call(c) => match c.resolved {
                Some(id) if c.on_connection => self.on_connection_cost(id),
                // A recursive call inside a function priced on a connection handed in: its function
                // once more with the recursion cut there, not its whole price (which holds the nesting
                // already).
                Some(id)
                    if self
                        .conn_visiting
                        .borrow()
                        .contains(&self.model.recursion_key(id)) =>
                {
                    match self.conn_cutting.get() {
                        true => self.zero(),
                        false => self
                            .cut
                            .get(id)
                            .cloned()
                            .flatten()
                            .unwrap_or_else(|| self.zero()),
                    }
                }
                // Not priced yet: a recursive call, which costs its function with the cycle cut.
                Some(id) => self
                    .fn_costs
                    .get(id)
                    .cloned()
                    .flatten()
                    .or_else(|| self.cut.get(id).cloned().flatten())
                    .unwrap_or_else(|| self.zero()),
                None => self.zero(),
            },
            Step::Branch(alts)
            | Step::Concurrent(crate::facts::Concurrent { branches: alts, .. }) => {
                let mut worst = self.zero();
                for alt in alts {
                    worst.max(&self.seq(alt));
                }
                // A stream's items run a few at a time (`.buffered(4)`): the collection's items go in
                // rounds, each as slow as one item.
                if let Step::Concurrent(crate::facts::Concurrent {
                    at_once: Some(n), ..
                }) = step
                {
                    worst.times(self.config.loop_iterations.div_ceil((*n).max(1)));
                }
                worst
            }
            Step::Exit | Step::Break | Step::Guard { .. } | Step::Yields(_) => self.zero(),
            // Every iteration but the last comes back; the last may leave early instead.
            Step::Loop(l) => {
                let n = l.count.unwrap_or(self.config.loop_iterations);
                if n == 0 {
                    // `for id in 0..0`: the body never runs.
                    return self.zero();
                }
                match self.split(&l.body) {
                    (Some(mut through), Some(out)) => {
                        let mut last = through.clone();
                        last.max(&out);
                        through.times(n.saturating_sub(1));
                        through.add(&last);
                        through
                    }
                    (Some(mut through), None) => {
                        through.times(n);
                        through
                    }
                    (None, Some(out)) => out,
                    (None, None) => self.zero(),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Role, Target};
    use crate::facts::{Concurrent, FileFacts, FnFacts, Loc, LoopStep, Trip};

    fn trip() -> Step {
        let mut t = Trip::bare(0, Loc::default(), String::new());
        t.target = Some(Target {
            db: 0,
            role: Role::Primary,
        });
        Step::Trip(t)
    }

    fn model_of(body: Vec<Step>) -> Model {
        // A handler (only what is on a path is priced).
        let f = FnFacts {
            name: "h".into(),
            is_async: true,
            extractors: vec!["State".into()],
            body,
            ..FnFacts::default()
        };
        let files = vec![FileFacts {
            functions: vec![f],
            ..FileFacts::default()
        }];
        crate::model::build(
            files.into_iter().map(std::sync::Arc::new).collect(),
            &config(),
        )
    }

    fn config() -> Config {
        let mut c = Config::default_topology();
        c.topology.add_override("us-east-1", "eu-central-1", 90.0);
        c
    }

    #[test]
    fn sequence_sums_branch_takes_worst_loop_multiplies_join_takes_slowest() {
        let c = config();
        let body = vec![
            trip(),
            Step::Branch(vec![vec![trip(), trip()], vec![trip()]]),
            Step::Loop(LoopStep {
                body: vec![trip()],
                ..LoopStep::default()
            }),
            Step::Concurrent(Concurrent {
                loc: Loc::default(),
                form: "join!".into(),
                branches: vec![vec![trip()], vec![trip(), trip()]],
                at_once: None,
            }),
        ];
        let m = model_of(body);
        let costs = Costs::compute(&m, &c);
        let cost = costs.of_fn(0);
        // 1 + 2 (worst branch) + 10 (loop) + 2 (slowest branch) = 15 round trips of 90 ms.
        assert_eq!(cost.trips, 15);
        assert_eq!(cost.ms, vec![1350.0]);
    }

    #[test]
    fn nested_loops_count_past_four_billion_round_trips() {
        let c = config();
        // Ten nested loops of 10 around one query: 10^10 round trips, more than a u32 holds.
        let mut body = vec![trip()];
        for _ in 0..10 {
            body = vec![Step::Loop(LoopStep {
                body,
                ..LoopStep::default()
            })];
        }
        let m = model_of(body);
        assert_eq!(Costs::compute(&m, &c).of_fn(0).trips, 10_000_000_000);
    }

    #[test]
    fn an_early_return_ends_its_path_however_deeply_nested() {
        let c = config();
        // q; if a { if b { q; return } }; q  → the critical path is 2 round trips, not 3.
        let mut body = vec![
            trip(),
            Step::Branch(vec![
                vec![Step::Branch(vec![vec![trip(), Step::Exit], vec![]])],
                vec![],
            ]),
            trip(),
        ];
        crate::facts::fold_exits(&mut body);
        let m = model_of(body);
        assert_eq!(Costs::compute(&m, &c).of_fn(0).trips, 2);
    }

    #[test]
    fn a_loop_that_may_leave_early_pays_its_exit_once() {
        let c = config();
        // for x in xs { q; if found { q; return } } → 10 + 1 round trips, not 20.
        let body = vec![Step::Loop(LoopStep {
            body: vec![trip(), Step::Branch(vec![vec![trip(), Step::Exit], vec![]])],
            ..LoopStep::default()
        })];
        let m = model_of(body);
        assert_eq!(Costs::compute(&m, &c).of_fn(0).trips, 11);
    }

    #[test]
    fn a_return_inside_a_loop_is_not_followed_by_what_comes_after_the_loop() {
        let c = config();
        let looped = |exit_arm: Vec<Step>| {
            Step::Loop(LoopStep {
                body: vec![trip(), Step::Branch(vec![exit_arm, vec![]])],
                ..LoopStep::default()
            })
        };
        // for x in xs { q; if failed { q; q; return } }; q → max(10 + 1, 9 + 3) = 12, not 9 + 3 + 1.
        let m = model_of(vec![looped(vec![trip(), trip(), Step::Exit]), trip()]);
        assert_eq!(Costs::compute(&m, &c).of_fn(0).trips, 12);
        // The same arm leaving the loop only (`break`) goes on after it: 9 + 3 + 1.
        let m = model_of(vec![looped(vec![trip(), trip(), Step::Break]), trip()]);
        assert_eq!(Costs::compute(&m, &c).of_fn(0).trips, 13);
        // A body that always returns: the loop may also find nothing to go over, and go on.
        let m = model_of(vec![looped(vec![]), trip()]);
        let always = model_of(vec![
            Step::Loop(LoopStep {
                body: vec![trip(), Step::Exit],
                ..LoopStep::default()
            }),
            trip(),
            trip(),
        ]);
        assert_eq!(Costs::compute(&m, &c).of_fn(0).trips, 11);
        assert_eq!(Costs::compute(&always, &c).of_fn(0).trips, 2);
    }

    #[test]
    fn a_loop_that_never_runs_costs_nothing_even_if_it_may_leave_early() {
        let c = config();
        // for id in 0..0 { q; if id > 0 { return } } → 0 round trips.
        let body = vec![Step::Loop(LoopStep {
            body: vec![trip(), Step::Branch(vec![vec![Step::Exit], vec![]])],
            count: Some(0),
            ..LoopStep::default()
        })];
        let m = model_of(body);
        assert_eq!(Costs::compute(&m, &c).of_fn(0).trips, 0);
    }

    #[test]
    fn same_region_costs_the_intra_region_rtt() {
        let mut c = config();
        c.deployments = vec!["eu-central-1".into()];
        let m = model_of(vec![trip(), trip()]);
        let costs = Costs::compute(&m, &c);
        assert_eq!(
            costs.of_fn(0).ms,
            vec![2.0 * crate::config::DEFAULT_INTRA_REGION_MS]
        );
    }

    #[test]
    fn the_worst_case_branch_skips_guard_clauses() {
        let c = config();
        let at = |line| {
            let mut t = trip();
            if let Step::Trip(t) = &mut t {
                t.loc.line = line;
            }
            t
        };
        // if bad { return }; q1; if full { q3; q4 } → the worst case is the `full` arm, at line 3.
        let mut body = vec![
            Step::Branch(vec![vec![Step::Exit], vec![]]),
            at(1),
            Step::Branch(vec![vec![at(3), at(4)], vec![]]),
        ];
        crate::facts::fold_exits(&mut body);
        let m = model_of(body);
        let costs = Costs::compute(&m, &c);
        assert_eq!(costs.worst_case_branch(0).map(|(_, l)| l.line), Some(3));
        // A guard clause alone is no worst case.
        let mut body = vec![Step::Branch(vec![vec![Step::Exit], vec![]]), at(1), at(2)];
        crate::facts::fold_exits(&mut body);
        let m = model_of(body);
        assert_eq!(Costs::compute(&m, &c).worst_case_branch(0), None);
    }
}

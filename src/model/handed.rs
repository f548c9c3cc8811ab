//! Closures handed to a function that runs them in a task it spawns.
//!
//! A closure handed to a call is priced where it is written, after the call's own work: most helpers
//! that take one run it there and then (a transaction, a retry, a framework's wrapper). A task runner
//! does not: `spawn_task(kind, user, move |id| async move { restore(..).await })` spawns it and answers
//! at once. A function's parameter that only a task it spawns calls ([`FnFacts::spawned_params`]) makes
//! the closures its callers hand there run off the request path; and a function that hands its own
//! parameter on, inside such a closure, to another that spawns it (`spawn_progress_task` calling
//! `spawn_task(.., move |id, m, db| task_fn(reporter(id, m)))`) spawns that parameter too.

use std::collections::{HashMap, HashSet};

use super::{fn_mut, Model};
use crate::facts::{walk_mut, FnFacts, Step};

/// How many times the spawned parameters are widened through functions that hand theirs on.
const MAX_ROUNDS: usize = 8;

/// Drops, from the functions that `reachable` marks, the steps of closures handed to a parameter their
/// callee spawns. Returns how many round trips and calls were dropped.
pub(super) fn drop_spawned_closures(model: &mut Model, reachable: &[bool]) -> usize {
    let ids: Vec<usize> = (0..model.fns.len())
        .filter(|&id| reachable.get(id).copied().unwrap_or(false))
        .collect();
    let mut spawned: HashMap<usize, HashSet<usize>> = HashMap::new();
    for id in 0..model.fns.len() {
        let f = model.func(id);
        if !f.spawned_params.is_empty() {
            spawned.insert(id, f.spawned_params.iter().copied().collect());
        }
    }
    if spawned.is_empty() {
        return 0;
    }
    let mut off: HashMap<usize, HashSet<u32>> = HashMap::new();
    for _ in 0..MAX_ROUNDS {
        let mut widened = false;
        for &id in &ids {
            let f = model.func(id);
            let dropped = handed_to_spawned(f, &spawned);
            if dropped.is_empty() {
                continue;
            }
            // A parameter of this function called only inside closures that run in a task.
            let mut positions: HashMap<usize, bool> = HashMap::new();
            for &(p, call) in &f.param_calls {
                let inside = dropped.contains(&call);
                *positions.entry(p).or_insert(true) &= inside;
            }
            let set = spawned.entry(id).or_default();
            for (p, only_inside) in positions {
                widened |= only_inside && set.insert(p);
            }
            off.insert(id, dropped);
        }
        if !widened {
            break;
        }
    }
    let mut count = 0;
    for (id, dropped) in off {
        let f = fn_mut(&mut model.files, model.fns[id]);
        count += remove(&mut f.body, &dropped);
    }
    count
}

/// The ids of the steps of closures `f` hands to a callee's spawned parameter.
fn handed_to_spawned(f: &FnFacts, spawned: &HashMap<usize, HashSet<usize>>) -> HashSet<u32> {
    let mut dropped = HashSet::new();
    for step in &f.body {
        step.walk(&mut |s| {
            let Step::Call(c) = s else { return };
            let Some(params) = c.resolved.and_then(|r| spawned.get(&r)) else {
                return;
            };
            for (k, made) in &c.closures {
                if params.contains(k) {
                    dropped.extend(made.iter().copied());
                }
            }
        });
    }
    dropped
}

/// Removes the round trips and calls whose ids `dropped` holds; how many were removed.
fn remove(body: &mut Vec<Step>, dropped: &HashSet<u32>) -> usize {
    let mut count = 0;
    let mut keep = |s: &Step| match s {
        Step::Trip(t) if dropped.contains(&t.id) => false,
        Step::Call(c) if dropped.contains(&c.id) => false,
        _ => true,
    };
    let before = body.len();
    body.retain(&mut keep);
    count += before - body.len();
    walk_mut(body, &mut |s| {
        for child in s.children_mut() {
            let before = child.len();
            child.retain(&mut keep);
            count += before - child.len();
        }
    });
    count
}

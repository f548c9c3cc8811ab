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
use crate::facts::{FnFacts, Step};

/// How many times the spawned parameters are widened through functions that hand theirs on.
const MAX_ROUNDS: usize = 8;

/// Takes, out of the functions that `reachable` marks, the steps of closures handed to a parameter their
/// callee spawns, into detached functions of their own (still checked for N+1, like a spawned task's
/// body). Returns those functions.
pub(super) fn drop_spawned_closures(model: &mut Model, reachable: &[bool]) -> Vec<usize> {
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
        return Vec::new();
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
    let mut tasks = Vec::new();
    let mut off: Vec<(usize, HashSet<u32>)> = off.into_iter().collect();
    off.sort_by_key(|(id, _)| *id);
    for (id, dropped) in off {
        let f = fn_mut(&mut model.files, model.fns[id]);
        let taken = take(&mut f.body, &dropped);
        if taken.is_empty() {
            continue;
        }
        let task = FnFacts {
            name: format!("{{spawned@{}}}", first_line(&taken).unwrap_or(f.loc.line)),
            module: f.module.clone(),
            is_async: true,
            is_test: f.is_test,
            detached: true,
            loc: f.loc,
            fn_line: f.fn_line,
            params: f.params.clone(),
            body: taken,
            ..FnFacts::default()
        };
        let r = model.fns[id];
        let file = std::sync::Arc::make_mut(&mut model.files[r.file]);
        file.functions.push(task);
        model.fns.push(crate::resolve::FnRef {
            file: r.file,
            index: file.functions.len() - 1,
        });
        // Its calls were resolved where it was written.
        model.resolved.push(true);
        tasks.push(model.fns.len() - 1);
    }
    tasks
}

/// The line of the first round trip or call in `steps`.
fn first_line(steps: &[Step]) -> Option<u32> {
    let mut line = None;
    for step in steps {
        step.walk(&mut |s| match s {
            Step::Trip(t) if line.is_none() => line = Some(t.loc.line),
            Step::Call(c) if line.is_none() => line = Some(c.loc.line),
            _ => {}
        });
    }
    line
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

/// Takes out of `seq`, in order, the round trips and calls whose ids `dropped` holds, and the loops and
/// branches made only of them, keeping where the rest nests.
fn take(seq: &mut Vec<Step>, dropped: &HashSet<u32>) -> Vec<Step> {
    let mut taken = Vec::new();
    let mut kept = Vec::with_capacity(seq.len());
    for mut step in seq.drain(..) {
        if all_dropped(&step, dropped) {
            taken.push(step);
            continue;
        }
        for child in step.children_mut() {
            taken.extend(take(child, dropped));
        }
        kept.push(step);
    }
    *seq = kept;
    taken
}

/// Is every round trip and call under `step` (at least one) among `dropped`?
fn all_dropped(step: &Step, dropped: &HashSet<u32>) -> bool {
    let (mut any, mut all) = (false, true);
    step.walk(&mut |s| {
        let id = match s {
            Step::Trip(t) => t.id,
            Step::Call(c) => c.id,
            _ => return,
        };
        any = true;
        all &= dropped.contains(&id);
    });
    any && all
}

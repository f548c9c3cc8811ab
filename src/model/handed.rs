//! Closures handed to a function that runs them in a task it spawns, or once per item of a loop.
//!
//! A closure handed to a call is priced where it is written, after the call's own work: most helpers
//! that take one run it there and then (a transaction, a retry, a framework's wrapper). A task runner
//! does not: `spawn_task(kind, user, move |id| async move { restore(..).await })` spawns it and answers
//! at once. A function's parameter that only a task it spawns calls ([`FnFacts::spawned_params`]) makes
//! the closures its callers hand there run off the request path; and a function that hands its own
//! parameter on, inside such a closure, to another that spawns it (`spawn_progress_task` calling
//! `spawn_task(.., move |id, m, db| task_fn(reporter(id, m)))`) spawns that parameter too. A function that
//! calls its parameter inside one of its loops (`for (element, span) in elements { transformer(element).await?;
//! }`) runs the closure handed there once per item: its steps become a loop at the call.

use std::collections::{HashMap, HashSet};

use super::{fn_mut, Model};
use crate::facts::{FnFacts, Loc, LoopStep, Step};

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

/// Wraps, in the functions `reachable` marks, the steps of each closure handed to a parameter its callee
/// calls inside a loop into a loop of their own at the call. It runs as many times as the callee calls
/// that parameter: once per call outside its loops and once per item of each loop around a call, when
/// the loops' counts are known (`for i in 2..=100`); the assumed count otherwise.
pub(super) fn loop_looped_closures(model: &mut Model, reachable: &[bool]) {
    // Function → parameter → how many times it calls that parameter (`None`: a loop of unknown count).
    let mut looped: HashMap<usize, HashMap<usize, Option<u32>>> = HashMap::new();
    for id in 0..model.fns.len() {
        let f = model.func(id);
        if f.param_calls.is_empty() {
            continue;
        }
        let mut times = HashMap::new();
        calls_times(&f.body, Some(1), &mut times);
        let mut params: HashMap<usize, (Option<u32>, bool)> = HashMap::new();
        for &(p, call) in &f.param_calls {
            let n = times.get(&call).copied().unwrap_or(Some(1));
            let entry = params.entry(p).or_insert((Some(0), false));
            entry.0 = entry.0.zip(n).map(|(a, b)| a.saturating_add(b));
            entry.1 |= n != Some(1);
        }
        let params: HashMap<usize, Option<u32>> = params
            .into_iter()
            .filter(|(_, (_, in_loop))| *in_loop)
            .map(|(p, (n, _))| (p, n))
            .collect();
        if !params.is_empty() {
            looped.insert(id, params);
        }
    }
    if looped.is_empty() {
        return;
    }
    for id in 0..model.fns.len() {
        if !reachable.get(id).copied().unwrap_or(false) {
            continue;
        }
        let mut wraps: Vec<(Loc, Option<u32>, HashSet<u32>, String)> = Vec::new();
        for step in &model.func(id).body {
            step.walk(&mut |s| {
                let Step::Call(c) = s else { return };
                let Some((callee, params)) = c.resolved.and_then(|r| Some((r, looped.get(&r)?)))
                else {
                    return;
                };
                let name = model.func(callee).name.clone();
                for (k, made) in &c.closures {
                    if let (Some(&times), false) = (params.get(k), made.is_empty()) {
                        let made = made.iter().copied().collect();
                        wraps.push((c.loc, times, made, name.clone()));
                    }
                }
            });
        }
        if wraps.is_empty() {
            continue;
        }
        let f = fn_mut(&mut model.files, model.fns[id]);
        for (loc, times, made, callee) in wraps {
            wrap_in_loop(&mut f.body, &made, loc, times, &callee);
        }
    }
}

/// How many times each call in `steps` runs when they run `times` times: the counts of the loops around
/// it multiplied (`None` once a loop's count is not known).
fn calls_times(steps: &[Step], times: Option<u32>, out: &mut HashMap<u32, Option<u32>>) {
    for step in steps {
        match step {
            Step::Call(c) => {
                out.insert(c.id, times);
            }
            Step::Loop(l) => {
                let inner = times.zip(l.count).map(|(a, b)| a.saturating_mul(b));
                calls_times(&l.body, inner, out);
            }
            Step::Branch(arms) => arms.iter().for_each(|a| calls_times(a, times, out)),
            Step::Concurrent(c) => c.branches.iter().for_each(|b| calls_times(b, times, out)),
            _ => {}
        }
    }
}

/// Puts the first run of steps of `seq` made only of the ids `made` (where it nests) into a loop whose
/// header is `loc`, run `count` times. Returns whether it found them.
fn wrap_in_loop(
    seq: &mut Vec<Step>,
    made: &HashSet<u32>,
    loc: Loc,
    count: Option<u32>,
    callee: &str,
) -> bool {
    if let Some(start) = seq.iter().position(|s| all_dropped(s, made)) {
        let end = seq[start..]
            .iter()
            .position(|s| !all_dropped(s, made))
            .map_or(seq.len(), |n| start + n);
        let body: Vec<Step> = seq.drain(start..end).collect();
        seq.insert(
            start,
            Step::Loop(LoopStep {
                loc,
                body,
                count,
                runs_in: Some(callee.to_string()),
                ..LoopStep::default()
            }),
        );
        return true;
    }
    seq.iter_mut()
        .flat_map(|s| s.children_mut())
        .any(|child| wrap_in_loop(child, made, loc, count, callee))
}

//! A lookup made again on one path finds what the first one found or made; a library's cached lookup
//! made again finds what the first one's loader put there.
//!
//! `let found = find(key).await?; if let Some(u) = found { .. } else { create(key).await? }` leaves the
//! row there either way: where the path goes on, a later lookup of the same key (the same statement with
//! the same parameters, [`Trip::key`]) finds it, so the arms that handle its miss do not run. Helpers
//! that look the signed-in user up and create it on a first visit are often called twice per request
//! (once to authorise, once more inside the permissions helper), and pricing both "create" arms counts
//! writes no request makes.
//!
//! The keys a path has established flow into the functions it calls, renamed to their parameters by
//! what the call hands on (`param:N` among [`Call::consts`]), and out of them the same way. A function
//! run with keys known on entry is a copy; one whose own lookups settle a later one of its own is
//! changed in place, for every caller. Keys set inside a loop's body, a concurrent branch or one arm of
//! a branch do not outlive it.

use std::collections::{HashMap, HashSet};

use super::{add_copy, fn_mut, Model, Reach};
use crate::facts::sql::Access;
use crate::facts::{Call, Guarded, Step, Trip, TripKind, FAILS};

/// Starts the key of a cache a probe's miss fills.
const CACHE_KEY: &str = "cache@";

/// How deep the pass follows calls from a root: past it, functions are taken as they are.
const MAX_DEPTH: usize = 12;

/// Settles, on the paths from `roots`, the arms of lookups that a lookup earlier on the path answers.
pub(super) fn settle(model: &mut Model, roots: &[usize]) {
    let mut pass = Pass::default();
    for &root in roots {
        pass.run(model, root, Vec::new(), 0);
    }
    let resolved = &mut model.resolved;
    for id in resolved.len()..model.fns.len() {
        let origin = model.copies.origin.get(&id).copied().unwrap_or(id);
        let was = resolved.get(origin).copied().unwrap_or(false);
        resolved.push(was);
    }
}

struct Pass {
    /// (function, keys known on entry) → the function to call instead, and the keys it establishes,
    /// in its parameters' names.
    memo: HashMap<(usize, Vec<String>), (usize, Vec<String>)>,
    /// Functions being walked: a call back into one of them is taken as it is.
    active: Vec<usize>,
    /// Whether a function writes, itself or through what it calls.
    writes: Reach,
    /// Whether a function branches on a keyed lookup's outcome, itself or through what it calls.
    tests: Reach,
}

impl Default for Pass {
    fn default() -> Pass {
        Pass {
            memo: HashMap::new(),
            active: Vec::new(),
            writes: Reach::new(writes_here),
            tests: Reach::new(tests_lookup_here),
        }
    }
}

/// Sends a write.
fn writes_here(body: &[Step]) -> bool {
    let mut writes = false;
    for step in body {
        step.walk(&mut |s| writes |= matches!(s, Step::Trip(t) if t.access == Some(Access::Write)));
    }
    writes
}

/// Branches on the outcome of one of its own keyed lookups, or on a cache's.
fn tests_lookup_here(body: &[Step]) -> bool {
    let (mut keyed, mut tested) = (HashSet::new(), HashSet::new());
    let mut cached = false;
    for step in body {
        step.walk(&mut |s| match s {
            Step::Guard {
                on: Guarded::Cache, ..
            } => cached = true,
            Step::Trip(t) if lookup_key(t).is_some() => {
                keyed.insert(t.id);
            }
            Step::Guard {
                on: Guarded::Outcome(o),
                ..
            } => {
                tested.insert(*o);
            }
            _ => {}
        });
    }
    cached || !keyed.is_disjoint(&tested)
}

/// One function's walk: its keyed lookups by trip id, and those a key known before them answers.
#[derive(Default)]
struct Walk {
    lookups: HashMap<u32, String>,
    found: HashSet<u32>,
}

impl Pass {
    fn run(
        &mut self,
        model: &mut Model,
        id: usize,
        known: Vec<String>,
        depth: usize,
    ) -> (usize, Vec<String>) {
        let memo_key = (id, known.clone());
        if let Some(done) = self.memo.get(&memo_key) {
            return done.clone();
        }
        // Nothing to settle or establish where no branch on a keyed lookup is reached.
        if depth > MAX_DEPTH || self.active.contains(&id) || !self.tests.reaches(model, id) {
            return (id, Vec::new());
        }
        self.active.push(id);
        let mut body = model.func(id).body.clone();
        let mut state = known.clone();
        let changed = self.seq(model, &mut body, &mut state, &mut Walk::default(), depth);
        self.active.pop();
        let target = match (changed, known.is_empty()) {
            (false, _) => id,
            // What the function's own lookups settle holds for every caller.
            (true, true) => {
                fn_mut(&mut model.files, model.fns[id]).body = body;
                id
            }
            (true, false) => add_copy(model, id, |f| f.body = body),
        };
        let established: Vec<String> = state.into_iter().filter(|k| !known.contains(k)).collect();
        let done = (target, established);
        self.memo.insert(memo_key, done.clone());
        done
    }

    /// Walks `seq` in order, with the keys established so far; whether it changed anything.
    fn seq(
        &mut self,
        model: &mut Model,
        seq: &mut [Step],
        known: &mut Vec<String>,
        walk: &mut Walk,
        depth: usize,
    ) -> bool {
        let mut changed = false;
        // Keys of lookups whose found arm returned: the path that goes on made the row, once it writes.
        let mut pending: Vec<String> = Vec::new();
        for step in seq.iter_mut() {
            let probe = match &*step {
                Step::Branch(arms) => self.cache_probe(model, arms),
                _ => None,
            };
            match step {
                Step::Trip(t) => {
                    if let Some(key) = lookup_key(t) {
                        walk.lookups.insert(t.id, key.clone());
                        if known.contains(key) {
                            walk.found.insert(t.id);
                        }
                    }
                    if t.access == Some(Access::Write) {
                        add_all(known, pending.drain(..));
                    }
                }
                // A cache the path already missed (and so filled) answers this probe of it: the
                // second extraction of an `ApiAuthed` that a layer extracted first finds it cached.
                Step::Branch(arms) if probe.is_some() => {
                    // Only a lookup whose miss surely fills the cache (a library's loader) settles
                    // a later one.
                    let key = probe.unwrap_or_default();
                    if known.contains(&key) {
                        for arm in arms.iter_mut().filter(|a| cache_miss(a)) {
                            if arm.len() > 1 {
                                arm.truncate(1);
                                changed = true;
                            }
                        }
                    }
                    changed |= self.arms(model, arms, known, walk, depth);
                    add_all(known, [key]);
                }
                Step::Branch(arms) => {
                    let tested = tested_lookup(arms, walk);
                    if let Some(id) = tested.filter(|id| walk.found.contains(id)) {
                        let before = arms.len();
                        arms.retain(|arm| !is_miss(arm, id));
                        if arms.is_empty() {
                            arms.push(Vec::new());
                        }
                        changed |= arms.len() != before;
                    }
                    changed |= self.arms(model, arms, known, walk, depth);
                    if let Some(id) = tested.filter(|id| !walk.found.contains(id)) {
                        let key = walk.lookups[&id].clone();
                        let makes = arms
                            .iter()
                            .any(|arm| is_miss(arm, id) && self.makes(model, arm));
                        let mut found_arms = arms.iter().filter(|arm| !is_miss(arm, id)).peekable();
                        let found_returns = found_arms.peek().is_some()
                            && found_arms.all(|arm| matches!(arm.last(), Some(Step::Exit)));
                        if makes {
                            add_all(known, [key]);
                        } else if found_returns {
                            pending.push(key);
                        }
                    }
                }
                Step::Loop(l) => {
                    let mut inner = known.clone();
                    changed |= self.seq(model, &mut l.body, &mut inner, walk, depth);
                }
                Step::Concurrent(c) => {
                    for branch in c.branches.iter_mut() {
                        let mut inner = known.clone();
                        changed |= self.seq(model, branch, &mut inner, walk, depth);
                    }
                }
                Step::Call(c) => {
                    let Some(callee) = c.resolved else { continue };
                    let passed = rename_in(known, c);
                    let (target, established) = self.run(model, callee, passed, depth + 1);
                    if target != callee {
                        c.resolved = Some(target);
                        changed = true;
                    }
                    add_all(known, rename_out(&established, c));
                    if self.writes.reaches(model, target) {
                        add_all(known, pending.drain(..));
                    }
                }
                _ => {}
            }
        }
        changed
    }

    /// The key of the cache a branch probes, where one arm runs on its miss: the function it is written
    /// in (copies are the function they were made from) and the line its miss's first step is on.
    fn cache_probe(&self, model: &Model, arms: &[Vec<Step>]) -> Option<String> {
        let arm = arms.iter().find(|a| cache_miss(a))?;
        let id = *self.active.last()?;
        let origin = model.copies.origin.get(&id).copied().unwrap_or(id);
        let line = arm.iter().skip(1).find_map(|s| match s {
            Step::Trip(t) => Some(t.loc.line),
            Step::Call(c) => Some(c.loc.line),
            Step::Loop(l) => Some(l.loc.line),
            _ => None,
        })?;
        Some(format!("{CACHE_KEY}{origin}:{line}"))
    }

    /// Walks each arm of a branch with the keys known before it; the caches every arm that goes on
    /// fills are known after it. Whether it changed anything.
    fn arms(
        &mut self,
        model: &mut Model,
        arms: &mut [Vec<Step>],
        known: &mut Vec<String>,
        walk: &mut Walk,
        depth: usize,
    ) -> bool {
        let mut changed = false;
        let mut filled = Vec::new();
        for arm in arms.iter_mut() {
            let mut inner = known.clone();
            changed |= self.seq(model, arm, &mut inner, walk, depth);
            filled.push((matches!(arm.last(), Some(Step::Exit)), inner));
        }
        add_all(known, filled_on_every_path(&filled));
        changed
    }

    /// Does an arm make something: write, call what writes, or return?
    fn makes(&mut self, model: &Model, arm: &[Step]) -> bool {
        let mut calls = Vec::new();
        let mut makes = false;
        for step in arm {
            step.walk(&mut |s| match s {
                Step::Exit => makes = true,
                Step::Trip(t) => makes |= t.access == Some(Access::Write),
                Step::Call(c) => calls.extend(c.resolved),
                _ => {}
            });
        }
        makes || calls.into_iter().any(|id| self.writes.reaches(model, id))
    }
}

/// The caches every arm that goes on past the branch fills (an arm that returns is no path past it).
fn filled_on_every_path(arms: &[(bool, Vec<String>)]) -> Vec<String> {
    let mut going_on = arms
        .iter()
        .filter(|(returns, _)| !returns)
        .map(|(_, known)| known);
    let Some(first) = going_on.next() else {
        return Vec::new();
    };
    let rest: Vec<&Vec<String>> = going_on.collect();
    first
        .iter()
        .filter(|k| k.starts_with(CACHE_KEY) && rest.iter().all(|r| r.contains(k)))
        .cloned()
        .collect()
}

/// The arm a library's cached lookup runs on a miss, its loader's (which fills the cache).
fn cache_miss(arm: &[Step]) -> bool {
    matches!(
        arm.first(),
        Some(Step::Guard {
            on: Guarded::Cache,
            pattern,
        }) if pattern == crate::facts::CACHE_FILLS
    )
}

fn add_all(known: &mut Vec<String>, keys: impl IntoIterator<Item = String>) {
    for key in keys {
        if !known.contains(&key) {
            known.push(key);
        }
    }
}

/// A statement that reads by a key.
fn lookup_key(t: &Trip) -> Option<&String> {
    (t.kind == TripKind::Query && t.access != Some(Access::Write))
        .then_some(t.key.as_ref())
        .flatten()
}

/// The keyed lookup of this function whose outcome a branch's arms test.
fn tested_lookup(arms: &[Vec<Step>], walk: &Walk) -> Option<u32> {
    arms.iter().find_map(|arm| match arm.first() {
        Some(Step::Guard {
            on: Guarded::Outcome(id),
            ..
        }) if walk.lookups.contains_key(id) => Some(*id),
        _ => None,
    })
}

/// An arm that runs where the lookup found nothing.
fn is_miss(arm: &[Step], id: u32) -> bool {
    match arm.first() {
        Some(Step::Guard {
            on: Guarded::Outcome(on),
            pattern,
        }) if *on == id => {
            matches!(pattern.as_str(), "None" | "!Some" | "Err" | "!Ok") || pattern == FAILS
        }
        _ => false,
    }
}

/// Keys known to a caller, in the names of the callee's parameters: each `${N}`/`${N.f}` of the key
/// must be handed on as one of the call's arguments. Keys that name what the call does not hand on
/// are left out.
fn rename_in(known: &[String], call: &Call) -> Vec<String> {
    known
        .iter()
        .filter_map(|key| {
            rewrite(key, |p, field| {
                let handed =
                    |value: &str| call.consts.iter().position(|c| c.as_deref() == Some(value));
                if let Some(f) = field {
                    if let Some(j) = handed(&format!("param:{p}.{f}")) {
                        return Some(format!("${{{j}}}"));
                    }
                    return handed(&format!("param:{p}")).map(|j| format!("${{{j}.{f}}}"));
                }
                handed(&format!("param:{p}")).map(|j| format!("${{{j}}}"))
            })
        })
        .collect()
}

/// Keys a callee established, in the names of the caller's parameters.
fn rename_out(established: &[String], call: &Call) -> Vec<String> {
    established
        .iter()
        .filter_map(|key| {
            rewrite(key, |j, field| {
                let value = call.consts.get(j)?.as_deref()?.strip_prefix("param:")?;
                match (value.split_once('.'), field) {
                    (None, None) => Some(format!("${{{value}}}")),
                    (None, Some(f)) => Some(format!("${{{value}.{f}}}")),
                    (Some(_), None) => Some(format!("${{{value}}}")),
                    (Some(_), Some(_)) => None,
                }
            })
        })
        .collect()
}

/// `key` with each parameter `${N}`/`${N.f}` replaced by what `with` makes of it; None where it makes
/// nothing of one.
fn rewrite(
    key: &str,
    mut with: impl FnMut(usize, Option<&str>) -> Option<String>,
) -> Option<String> {
    let mut out = String::with_capacity(key.len());
    let mut rest = key;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find('}')?;
        let inner = &after[..end];
        let (p, field) = match inner.split_once('.') {
            Some((p, f)) => (p, Some(f)),
            None => (inner, None),
        };
        out.push_str(&with(p.parse().ok()?, field)?);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cache_is_filled_past_a_branch_only_where_every_arm_going_on_fills_it() {
        let key = |k: &str| format!("{CACHE_KEY}{k}");
        // One arm fills `a` and `b`, the other only `a`, a third returns: `a` is filled past it.
        let arms = vec![
            (
                false,
                vec![key("a"), key("b"), "find.bind(${0})".to_string()],
            ),
            (false, vec![key("a")]),
            (true, Vec::new()),
        ];
        assert_eq!(filled_on_every_path(&arms), vec![key("a")]);
        // An `if` without `else`: its empty arm fills nothing.
        let arms = vec![(false, vec![key("a")]), (false, Vec::new())];
        assert!(filled_on_every_path(&arms).is_empty());
    }

    #[test]
    fn keys_are_renamed_by_what_the_call_hands_on() {
        let call = Call {
            consts: vec![Some("param:0.db".into()), Some("param:1".into())],
            ..Call::new(
                0,
                crate::facts::Loc::default(),
                crate::facts::Callee::Path(vec![]),
            )
        };
        let known = vec![
            "find.bind(${1.sub}).fetch_optional(${0.db})".to_string(),
            "find.bind(${2})".to_string(),
        ];
        assert_eq!(
            rename_in(&known, &call),
            vec!["find.bind(${1.sub}).fetch_optional(${0})".to_string()]
        );
        let made = vec!["find.bind(${1.sub}).fetch_optional(${0})".to_string()];
        assert_eq!(
            rename_out(&made, &call),
            vec!["find.bind(${1.sub}).fetch_optional(${0.db})".to_string()]
        );
    }
}

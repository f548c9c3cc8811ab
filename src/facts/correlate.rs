//! Tests of one value that exclude each other along a path. `if token.is_none() { hash(..) }` followed by
//! `if !token.is_some_and(..) { return .. }` tests the same call's outcome twice: where the first arm
//! runs (`None`), the second test returns, so no path runs the first arm and then what follows the second.
//! A branch whose arms fix a call's outcome is given, in each arm, the rest of its sequence with the
//! arms that outcome rules out left out. Only where a later branch of the same sequence tests that call
//! again, and only while the copied rest stays small.
//!
//! A local bound from an `if`/`match` whose arms each yield one call's result (`let caller = if key {
//! by_key(..).await } else { by_token(..) }?`) and tested later (`match caller { .. }`) is the same:
//! each arm gets the rest, in which the test is of that arm's call, and the model then keeps, in each
//! copy, the tests that call's yields can meet.

use super::{Guarded, Step, FAILS, SUCCEEDS};

/// How many steps, counted through every nesting, a rest may hold to be copied into each arm.
const MAX_REST: usize = 400;

pub fn correlate(seq: &mut Vec<Step>) {
    let mut i = 0;
    while i < seq.len() {
        if let Some(local) = held_and_tested(seq, i) {
            // Each arm's copy tests the call whose result the local holds there.
            append_rest(seq, i, |arm, tail| {
                if let Some(call) = held(arm, local) {
                    super::walk_mut(tail, &mut |s| {
                        if let Step::Guard {
                            on: Guarded::Outcome(c),
                            ..
                        } = s
                        {
                            if *c == local {
                                *c = call;
                            }
                        }
                    });
                }
            });
        } else if let Some(call) = retested(seq, i) {
            append_rest(seq, i, |arm, tail| {
                if let Some(held) = fixed(arm, call) {
                    rule_out(tail, call, &held);
                }
            });
        }
        for child in seq[i].children_mut() {
            correlate(child);
        }
        i += 1;
    }
}

/// Moves what follows the branch at `i` into each of its arms that goes on, as `edit` changes it for
/// that arm.
fn append_rest(seq: &mut Vec<Step>, i: usize, mut edit: impl FnMut(&[Step], &mut Vec<Step>)) {
    let rest: Vec<Step> = seq.drain(i + 1..).collect();
    if let Step::Branch(arms) = &mut seq[i] {
        for arm in arms.iter_mut() {
            if arm.iter().any(|s| matches!(s, Step::Exit)) {
                continue;
            }
            let mut tail = rest.clone();
            edit(arm, &mut tail);
            arm.extend(tail);
        }
    }
}

/// The call whose outcome the branch at `i` fixes in its arms and a later branch of `seq` tests again.
fn retested(seq: &[Step], i: usize) -> Option<u32> {
    let Step::Branch(arms) = &seq[i] else {
        return None;
    };
    let call = arms.iter().find_map(|arm| {
        arm.iter().find_map(|s| match s {
            Step::Guard {
                on: Guarded::Outcome(c),
                pattern,
            } if pattern != SUCCEEDS && pattern != FAILS => Some(*c),
            _ => None,
        })
    })?;
    let later = seq[i + 1..].iter().any(|s| match s {
        Step::Branch(arms) => arms.iter().any(|arm| fixed(arm, call).is_some()),
        _ => false,
    });
    let size: usize = seq[i + 1..].iter().map(size).sum();
    (later && size <= MAX_REST).then_some(call)
}

/// The local whose value the arms of the branch at `i` hold from different calls (`let state = if key {
/// by_key(..).await } else { by_jwt(..) }`) and a later branch of `seq` tests (`match state { .. }`).
fn held_and_tested(seq: &[Step], i: usize) -> Option<u32> {
    let Step::Branch(arms) = &seq[i] else {
        return None;
    };
    let mut locals = Vec::new();
    for step in arms.iter().flatten() {
        step.walk(&mut |s| {
            if let Step::Guard {
                on: Guarded::Holds(local, _),
                ..
            } = s
            {
                locals.push(*local);
            }
        });
    }
    let size: usize = seq[i + 1..].iter().map(size).sum();
    locals.into_iter().find(|&local| {
        size <= MAX_REST
            && seq[i + 1..].iter().any(|s| {
                let mut tests = false;
                s.walk(&mut |s| {
                    tests |= matches!(s, Step::Guard { on: Guarded::Outcome(c), .. } if *c == local)
                });
                tests
            })
    })
}

/// The call whose result the arm holds for `local`, when it says at its top.
fn held(arm: &[Step], local: u32) -> Option<u32> {
    arm.iter().find_map(|s| match s {
        Step::Guard {
            on: Guarded::Holds(l, call),
            ..
        } if *l == local => Some(*call),
        _ => None,
    })
}

/// What an arm needs the call's outcome to be, when it says.
fn fixed(arm: &[Step], call: u32) -> Option<String> {
    arm.iter().find_map(|s| match s {
        Step::Guard {
            on: Guarded::Outcome(c),
            pattern,
        } if *c == call && pattern != SUCCEEDS && pattern != FAILS => Some(pattern.clone()),
        _ => None,
    })
}

/// Leaves out, in the branches of `seq` (not inside loops, which run again), the arms that need an
/// outcome of `call` that `held` excludes.
fn rule_out(seq: &mut [Step], call: u32, held: &str) {
    for step in seq.iter_mut() {
        if let Step::Branch(arms) = step {
            arms.retain(|arm| fixed(arm, call).is_none_or(|need| !excludes(held, &need)));
            if arms.is_empty() {
                arms.push(Vec::new());
            }
            for arm in arms.iter_mut() {
                rule_out(arm, call, held);
            }
        }
    }
}

/// Can no value be both `a` and `b` (`None` and `Some`, `X` and `!X`)?
fn excludes(a: &str, b: &str) -> bool {
    let (a_not, a) = a.strip_prefix('!').map_or((false, a), |r| (true, r));
    let (b_not, b) = b.strip_prefix('!').map_or((false, b), |r| (true, r));
    match (a_not, b_not) {
        (false, false) => a != b && variants_of_one_kind(a, b),
        (true, false) => a == b,
        (false, true) => a == b,
        (true, true) => false,
    }
}

/// `Some`/`None` and `Ok`/`Err` are the two shapes of one value; other names may be variants of
/// different types (a tuple's fields, nested options), so two of them are not known to exclude.
fn variants_of_one_kind(a: &str, b: &str) -> bool {
    let option = ["Some", "None"];
    let result = ["Ok", "Err"];
    (option.contains(&a) && option.contains(&b)) || (result.contains(&a) && result.contains(&b))
}

fn size(step: &Step) -> usize {
    1 + step
        .children()
        .iter()
        .map(|seq| seq.iter().map(size).sum::<usize>())
        .sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_and_their_negations_exclude() {
        assert!(excludes("None", "Some"));
        assert!(excludes("None", "!None"));
        assert!(excludes("!Some", "Some"));
        assert!(!excludes("Some", "!None"));
        assert!(!excludes("Replay", "Fresh"));
        assert!(!excludes("!Some", "!None"));
    }
}

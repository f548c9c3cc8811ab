//! `stale-read-after-write`: on one request path, a read sent to a replica after a write to the same
//! database. The replica may not have applied the write yet, so the read can miss it.

use std::collections::{HashMap, HashSet};

use super::{Ctx, Diagnostic, Level, Lint};
use crate::config::{Config, Role};
use crate::facts::sql::Access;
use crate::facts::{Loc, Step, Trip, TripKind};
use crate::model::Model;

pub static LINT: Lint = Lint {
    name: "stale-read-after-write",
    default_level: Level::Warn,
    summary: "a read sent to a replica after a write to the same database on one request path",
    doc: include_str!("../../lints/stale-read-after-write.md"),
    check,
};

/// Steps walked per route before giving up: call graphs with many paths are cut short, not explored.
const MAX_STEPS_PER_ROUTE: usize = 200_000;

/// A read that follows a write to its database on some request path.
#[derive(Debug, Clone)]
pub struct StaleRead {
    /// The function holding the read, and the read's `.await`.
    pub function: usize,
    pub read: Loc,
    /// The function holding the write, and the write's `.await`.
    pub write_fn: usize,
    pub write: Loc,
    pub db: usize,
    /// The route whose path it was found on.
    pub handler: usize,
}

/// What the request paths say about reads and writes, in order.
#[derive(Debug, Default)]
pub struct PathReads {
    /// Reads for which `replica` holds that follow a write to the same database, once each (the first
    /// route that shows it).
    pub stale: Vec<StaleRead>,
    /// Reads that a write to the same database follows on some path: a read-modify-write, which a
    /// replica that lags would turn into a lost update.
    pub before_write: HashSet<Loc>,
}

/// Follows every checked route's path in order; see [`PathReads`].
pub fn path_reads(model: &Model, config: &Config, replica: &dyn Fn(&Trip) -> bool) -> PathReads {
    let mut found: HashMap<Loc, StaleRead> = HashMap::new();
    let mut before_write = HashSet::new();
    let handlers: Vec<usize> = {
        let mut seen = HashSet::new();
        model
            .checked_routes()
            .map(|r| r.handler)
            .filter(|h| seen.insert(*h))
            .collect()
    };
    for handler in handlers {
        let mut walk = Walk {
            model,
            config,
            replica,
            handler,
            budget: MAX_STEPS_PER_ROUTE,
            on_stack: Vec::new(),
            found: &mut found,
            before_write: &mut before_write,
        };
        let mut state = State::default();
        walk.function(handler, &mut state);
    }
    let mut stale: Vec<StaleRead> = found.into_values().collect();
    stale.sort_by_key(|s| (s.function, s.read));
    PathReads {
        stale,
        before_write,
    }
}

/// The path so far: the databases written, each with the function and place of its first write, and
/// the reads made, by database.
#[derive(Clone, Default)]
struct State {
    written: HashMap<usize, (usize, Loc)>,
    reads: HashMap<usize, HashSet<Loc>>,
}

impl State {
    /// After alternatives: whatever any of them did.
    fn merge(&mut self, other: State) {
        for (db, at) in other.written {
            self.written.entry(db).or_insert(at);
        }
        for (db, reads) in other.reads {
            self.reads.entry(db).or_default().extend(reads);
        }
    }
}

struct Walk<'a, 'f> {
    model: &'a Model,
    config: &'a Config,
    replica: &'a dyn Fn(&Trip) -> bool,
    handler: usize,
    budget: usize,
    on_stack: Vec<usize>,
    found: &'f mut HashMap<Loc, StaleRead>,
    before_write: &'f mut HashSet<Loc>,
}

impl Walk<'_, '_> {
    fn function(&mut self, id: usize, written: &mut State) {
        if self.on_stack.contains(&id) || self.budget == 0 {
            return;
        }
        self.on_stack.push(id);
        let body = &self.model.func(id).body;
        self.seq(id, body, written);
        self.on_stack.pop();
    }

    fn seq(&mut self, id: usize, steps: &[Step], written: &mut State) {
        for step in steps {
            if self.budget == 0 {
                return;
            }
            self.budget -= 1;
            match step {
                Step::Trip(t) => self.trip(id, t, written),
                Step::Call(c) => {
                    if let Some(callee) = c.resolved {
                        self.function(callee, written);
                    }
                }
                // Any arm may have run: what each writes counts afterwards.
                Step::Branch(alts) => {
                    let before = written.clone();
                    for alt in alts {
                        let mut w = before.clone();
                        self.seq(id, alt, &mut w);
                        written.merge(w);
                    }
                }
                // Branches run at once: none is after another's write.
                Step::Concurrent(c) => {
                    let before = written.clone();
                    for branch in &c.branches {
                        let mut w = before.clone();
                        self.seq(id, branch, &mut w);
                        written.merge(w);
                    }
                }
                // Twice: a write late in one iteration comes before a read early in the next.
                Step::Loop(l) => {
                    self.seq(id, &l.body, written);
                    self.seq(id, &l.body, written);
                }
                Step::Exit | Step::Break => return,
                Step::Guard { .. } | Step::Yields(_) => {}
            }
        }
    }

    fn trip(&mut self, id: usize, t: &Trip, written: &mut State) {
        let Some(target) = t.target else { return };
        let database = self
            .config
            .databases
            .get(target.db)
            .is_some_and(|d| !d.service);
        if !database || t.in_process {
            return;
        }
        let writes = t.kind == TripKind::Query && t.access == Some(Access::Write);
        if writes {
            written.written.entry(target.db).or_insert((id, t.loc));
            if let Some(reads) = written.reads.remove(&target.db) {
                self.before_write.extend(reads);
            }
            return;
        }
        if !crate::cost::movable(t) {
            return;
        }
        written.reads.entry(target.db).or_default().insert(t.loc);
        if !(self.replica)(t) {
            return;
        }
        if let Some(&(write_fn, write)) = written.written.get(&target.db) {
            self.found.entry(t.loc).or_insert(StaleRead {
                function: id,
                read: t.loc,
                write_fn,
                write,
                db: target.db,
                handler: self.handler,
            });
        }
    }
}

fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let config = ctx.config;
    // Without a replica no read goes to one: nothing to walk.
    if config.databases.iter().all(|d| d.replicas.is_empty()) {
        return;
    }
    // Reads the configuration sends to a replica (mapped or named like one) of a database that has one.
    let replica = |t: &Trip| {
        t.target.is_some_and(|target| {
            target.role == Role::Replica
                && config
                    .databases
                    .get(target.db)
                    .is_some_and(|d| !d.replicas.is_empty())
        })
    };
    for s in path_reads(ctx.model, config, &replica).stale {
        let db = &config.databases[s.db].name;
        let route = ctx
            .model
            .routes
            .iter()
            .find(|r| r.handler == s.handler)
            .and_then(|r| r.key())
            .unwrap_or_else(|| ctx.model.qualified_name(s.handler));
        let same_file = ctx.model.fns[s.write_fn].file == ctx.model.fns[s.function].file;
        let mut related = Vec::new();
        let where_written = if same_file {
            related.push((s.write, format!("the write to `{db}`")));
            "above".to_string()
        } else {
            format!("at {}:{}", ctx.model.file_of(s.write_fn).path, s.write.line)
        };
        out.push(Diagnostic {
            lint: LINT.name,
            level: LINT.default_level,
            file: ctx.model.fns[s.function].file,
            loc: s.read,
            label: "read from a replica".into(),
            message: format!(
                "on `{route}` this read goes to a replica of `{db}` after a write to `{db}` ({where_written}): the replica may not have the write yet"
            ),
            help: format!(
                "read from the primary on this path (a pool `[pools]` maps to `{db}`), or carry the written value instead of reading it back{}",
                if ctx.model.files[ctx.model.fns[s.function].file].mysql {
                    ""
                } else {
                    " (`RETURNING …`)"
                }
            ),
            related,
            function: Some(s.function),
            ..Diagnostic::default()
        });
    }
}

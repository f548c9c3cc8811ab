//! `unused-config`: a `hopcheck.toml` entry that names something in the code (a `[[calls]]`,
//! `[[builders]]`, `[[clients]]`, `[[no-round-trip]]`, `[[cached]]` or `[[route-attributes]]` entry, a
//! `[pools]` key, a budget's route, a `[[routes]]` entry) that matches nothing in the analysed code. Such an entry is a price
//! hopcheck was told and did not apply: the routes it was written for are priced without it.

use std::collections::HashSet;

use super::{Ctx, Diagnostic, Level, Lint};
use crate::config::Names;
use crate::facts::{Callee, Loc, Step};

pub static LINT: Lint = Lint {
    name: "unused-config",
    default_level: Level::Error,
    summary: "a hopcheck.toml entry that matches nothing in the analysed code",
    doc: include_str!("../../lints/unused-config.md"),
    check,
};

/// What the analysed code names that configuration entries may match, read from the facts as parsed
/// (before the model drops the arms a build or `assume.cache` rules out: an entry matching code there
/// is still in use).
#[derive(Default)]
pub struct Uses {
    origins: HashSet<u32>,
    executors: HashSet<String>,
    methods: HashSet<String>,
    paths: Vec<Vec<String>>,
    cache_methods: HashSet<String>,
    cache_receivers: HashSet<String>,
}

impl Uses {
    pub fn of(files: &[std::sync::Arc<crate::facts::FileFacts>]) -> Uses {
        let mut uses = Uses::default();
        for f in files {
            uses.cache_methods.extend(f.cache_methods.iter().cloned());
            uses.cache_receivers
                .extend(f.cache_receivers.iter().cloned());
            for func in &f.functions {
                uses.origins
                    .extend(func.attr_routes.iter().filter_map(|a| a.origin));
                for step in &func.body {
                    step.walk(&mut |s| match s {
                        Step::Trip(t) => {
                            uses.origins.extend(t.origin);
                            uses.executors.extend(t.executor.clone());
                        }
                        Step::Call(c) => match &c.callee {
                            Callee::Method { name, .. } => {
                                uses.methods.insert(name.clone());
                            }
                            Callee::Path(segs) => uses.paths.push(segs.clone()),
                            Callee::Extractor(_) => {}
                        },
                        _ => {}
                    });
                }
            }
        }
        uses
    }
}

fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    let (model, config) = (ctx.model, ctx.config);
    let Some(uses) = ctx.config_uses else {
        return;
    };
    if config.entries.is_empty() {
        return;
    }
    let Some(file) = model
        .files
        .iter()
        .position(|f| f.kind == crate::facts::FileKind::Config)
    else {
        return;
    };
    let mut origins = uses.origins.clone();
    // Round trips the model made of calls to client types (`[[clients]]`).
    for f in &model.files {
        for func in &f.functions {
            for step in &func.body {
                step.walk(&mut |s| {
                    if let Step::Trip(t) = s {
                        origins.extend(t.origin);
                    }
                });
            }
        }
    }
    let route_keys: Vec<String> = model.routes.iter().filter_map(|r| r.key()).collect();
    let unmatched: HashSet<&str> = model
        .unmatched_routes
        .iter()
        .map(|r| r.handler.as_str())
        .collect();
    for entry in &config.entries {
        let used = match &entry.names {
            Names::RoundTrips(origin) | Names::RouteAttribute(origin) => origins.contains(origin),
            Names::Calls { methods, functions } => {
                methods.iter().any(|m| uses.methods.contains(m))
                    || functions.iter().any(|f| {
                        uses.paths
                            .iter()
                            .any(|segs| crate::catalog::path_matches(segs, f, false))
                    })
            }
            Names::Cache { methods, receivers } => {
                methods.iter().any(|m| uses.cache_methods.contains(m))
                    || receivers.iter().any(|r| uses.cache_receivers.contains(r))
            }
            // A replica's pool no code uses yet is where `read-on-primary` sends reads.
            Names::Pool(key) if replica_pool(config, key) => true,
            Names::Pool(key) => uses
                .executors
                .iter()
                .any(|e| e == key || e.ends_with(&format!(".{key}"))),
            Names::Budget(route) => route_keys
                .iter()
                .any(|k| crate::config::budget_applies(route, k)),
            Names::Route(handler) => !unmatched.contains(handler.as_str()),
            Names::App(index) => model.routes.iter().any(|r| r.app == Some(*index)),
            // Written anywhere in the code (a project's macro is expanded where it is used, so its
            // name leaves no other trace).
            Names::Concurrent { macros, functions } => {
                let written = |needle: &str| {
                    model.files.iter().any(|f| {
                        f.kind == crate::facts::FileKind::Rust
                            && memchr::memmem::find(f.source.as_bytes(), needle.as_bytes())
                                .is_some()
                    })
                };
                let last = |name: &str| name.rsplit("::").next().unwrap_or(name).to_string();
                macros.iter().any(|m| written(&format!("{}!", last(m))))
                    || functions.iter().any(|f| written(&format!("{}(", last(f))))
            }
        };
        if !used {
            out.push(unused(ctx, file, entry));
        }
    }
}

fn replica_pool(config: &crate::config::Config, key: &str) -> bool {
    config
        .pools
        .iter()
        .any(|(k, t)| k == key && t.role == crate::config::Role::Replica)
}

fn unused(ctx: &Ctx, file: usize, entry: &crate::config::ConfigEntry) -> Diagnostic {
    let source = &ctx.model.files[file].source;
    let start = entry.span.start.min(source.len());
    let before = &source[..start];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before
        .rsplit_once('\n')
        .map_or(before, |(_, l)| l)
        .chars()
        .count() as u32
        + 1;
    // The entry's first line: a table entry spans several.
    let len = source[start..]
        .find('\n')
        .unwrap_or(source.len() - start)
        .min(entry.span.len().max(1));
    let (message, help): (String, String) = match &entry.names {
        Names::RoundTrips(_) => (
            format!("{} matches no call in the analysed code", entry.what),
            "check its `methods`, `functions` or `types` against the code (and its `crates`, which must be dependencies of the crate that calls it), or remove it".into(),
        ),
        Names::Calls { .. } => (
            format!("{} names no call in the analysed code", entry.what),
            "check the names against the code, or remove it".into(),
        ),
        Names::Cache { .. } => (
            format!("{} names no cache lookup in the analysed code", entry.what),
            "check the names against the code (`cache.get_with(key, loader)`, `if let Some(v) = translations.get(&k) { return .. }`), or remove it".into(),
        ),
        Names::Pool(_) => (
            format!("{} is the executor of no round trip in the analysed code", entry.what),
            "write the executor as the code spells it (`state.db`, `pool`), or remove it".into(),
        ),
        Names::Budget(_) => (
            format!("{} applies to no route hopcheck found", entry.what),
            "write the route as `hopcheck check` lists it (`GET /users/{id}`), or remove it".into(),
        ),
        Names::RouteAttribute(_) => (
            format!("{} declares no handler in the analysed code", entry.what),
            "write the attribute's path as the handlers do (`api::endpoint`, or its last segment), or remove it".into(),
        ),
        Names::Route(_) => (
            format!("{} names no function of the analysed code (or several)", entry.what),
            "write more of the handler's module path (`api::v1::account::get_secret`), or remove it".into(),
        ),
        Names::App(_) => {
            let mut names: Vec<String> = ctx.model.routes.iter().map(|r| ctx.model.service_name(r)).collect();
            names.sort();
            names.dedup();
            (
                format!("{} serves no route of the analysed code", entry.what),
                format!(
                    "name a service as its crate is named ({}), or give its folder (`path = \"crates/api\"`)",
                    crate::config::quote_list(&names)
                ),
            )
        }
        Names::Concurrent { .. } => (
            format!(
                "{} names no macro or function the analysed code uses",
                entry.what
            ),
            "write the names as the code calls them (`join_pooled`, a macro without its `!`), or remove it".into(),
        ),
    };
    Diagnostic {
        lint: LINT.name,
        level: ctx.config.level_of(LINT.name, LINT.default_level),
        file,
        loc: Loc {
            line,
            col,
            offset: u32::try_from(start).unwrap_or(0),
            len: u32::try_from(len).unwrap_or(0),
        },
        label: "matches nothing".into(),
        message,
        help,
        ..Diagnostic::default()
    }
}

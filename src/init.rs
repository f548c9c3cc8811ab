//! `hopcheck init`: a commented starter `hopcheck.toml` written for the analysed code: the pools its
//! round trips go through (with the role their names suggest), the databases and regions given as flags
//! or placeholders for them, the features the code's `#[cfg(..)]` tests (for `[build]`), and the budget.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::config::{Role, WhatIf};
use crate::facts::{Step, TripKind};
use crate::Analysis;

/// Pools listed at most: the busiest first.
const MAX_POOLS: usize = 12;

/// How the code uses one executor expression.
#[derive(Default)]
struct Use {
    reads: usize,
    writes: usize,
    service: bool,
}

/// The text of the starter file. `what` holds the regions given on the command line.
pub fn starter(a: &Analysis, what: &WhatIf) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# hopcheck.toml: where your app runs and where its data lives, written by `hopcheck init` for this\n# code. Every key is documented in hopcheck's README (\"Configuration\")."
    );
    let given = |db: &str, list: &[String]| -> Vec<String> {
        list.iter()
            .filter_map(|x| x.split_once('@'))
            .filter(|(d, _)| *d == db)
            .map(|(_, r)| r.to_string())
            .collect()
    };

    out.push_str("\n# The regions your app servers run in; every route is priced from each.\n");
    if what.deploy.is_empty() {
        out.push_str("# Placeholder: set your own (`hopcheck regions` lists the known names).\n");
        out.push_str("deployments = [\"us-east-1\"]\n");
    } else {
        let _ = writeln!(out, "deployments = [{}]", quoted(&what.deploy));
    }

    let primary = given("main", &what.primaries);
    let replicas = given("main", &what.replicas);
    out.push_str(
        "\n# The database the code queries: where its primary runs, and its read replicas.\n",
    );
    out.push_str("[databases.main]\n");
    match primary.last() {
        Some(p) => {
            let _ = writeln!(out, "primary = \"{p}\"");
        }
        None => {
            out.push_str("# Placeholder: the region of your primary.\nprimary = \"eu-central-1\"\n")
        }
    }
    if replicas.is_empty() {
        let near = what.deploy.first().map_or("us-east-1", String::as_str);
        let _ = writeln!(out, "# replicas = [\"{near}\"]");
    } else {
        let _ = writeln!(out, "replicas = [{}]", quoted(&replicas));
    }

    // The executors round trips go through, as the code spells them.
    let mut pools: BTreeMap<String, Use> = BTreeMap::new();
    for id in 0..a.model.fns.len() {
        for step in &a.model.func(id).body {
            step.walk(&mut |s| {
                let Step::Trip(t) = s else { return };
                if t.on_connection || t.in_transaction || t.in_process || t.kind != TripKind::Query
                {
                    return;
                }
                // Paths and accessors (`state.db`, `ctx.db_read()`): what a [pools] key can name.
                let plain = |e: &&str| {
                    !e.is_empty() && e.chars().all(|c| c.is_alphanumeric() || "_.()".contains(c))
                };
                let Some(exec) = t.executor.as_deref().filter(plain) else {
                    return;
                };
                let u = pools.entry(exec.to_string()).or_default();
                u.service |= t.service;
                match t.access {
                    Some(crate::facts::sql::Access::Read) => u.reads += 1,
                    _ => u.writes += 1,
                }
            });
        }
    }
    let mut busiest: Vec<(String, Use)> = pools.into_iter().collect();
    busiest.sort_by(|x, y| {
        (y.1.reads + y.1.writes)
            .cmp(&(x.1.reads + x.1.writes))
            .then(x.0.cmp(&y.0))
    });
    let (services, databases): (Vec<_>, Vec<_>) = busiest.into_iter().partition(|(_, u)| u.service);

    out.push_str(
        "\n# Which executor reaches which database: \"main\" for its primary, \"main.replica\" for its replicas.\n",
    );
    if databases.is_empty() {
        out.push_str("# No database calls were found; map your pools here once hopcheck sees them.\n# [pools]\n# \"state.db\" = \"main\"\n");
    } else {
        let _ = writeln!(
            out,
            "# Found in the code, with how many reads and writes go through each{}.",
            if databases.len() > MAX_POOLS {
                format!(" (the {MAX_POOLS} busiest of {})", databases.len())
            } else {
                String::new()
            }
        );
        out.push_str("[pools]\n");
        for (exec, u) in databases.iter().take(MAX_POOLS) {
            let replica_named = a
                .config
                .inferred(Some(exec))
                .is_some_and(|t| t.role == Role::Replica);
            let note = format!("# {}, {}", count(u.reads, "read"), count(u.writes, "write"));
            if replica_named && replicas.is_empty() {
                let _ = writeln!(
                    out,
                    "# \"{exec}\" = \"main.replica\"  {note}; named like a replica pool: add replicas above, then uncomment"
                );
            } else if replica_named {
                let _ = writeln!(
                    out,
                    "\"{exec}\" = \"main.replica\"  {note}; named like a replica pool"
                );
            } else {
                let _ = writeln!(out, "\"{exec}\" = \"main\"  {note}");
            }
        }
    }
    let env = database_env_vars(a);
    if !env.is_empty() {
        let _ = writeln!(
            out,
            "# The code reads {}: map the pool built from each URL to its database (\"main\", or\n# \"main.replica\" for a replica's URL).",
            env.iter().map(|e| format!("`{e}`")).collect::<Vec<_>>().join(", ")
        );
    }

    if !services.is_empty() {
        let names: Vec<String> = services
            .iter()
            .take(MAX_POOLS)
            .map(|(e, _)| format!("`{e}`"))
            .collect();
        let _ = writeln!(
            out,
            "\n# Caches and HTTP APIs the code calls through {}. To price them, say where each runs and\n# map its client in [pools]:\n# [services.cache]\n# region = \"us-east-1\"\n# and under [pools]: \"{}\" = \"cache\"",
            names.join(", "),
            services[0].0
        );
    }

    let features = tested_features(a);
    if a.model.assumed_cfgs > 0 || !features.is_empty() {
        let _ = writeln!(
            out,
            "\n# The deployed build. Without [build], each `#[cfg(..)]` choice the code makes ({}) is priced at its\n# costliest alternative, code of features you may not ship included.{}",
            a.model.assumed_cfgs,
            match features.is_empty() {
                true => String::new(),
                false => format!(" The code tests the features: {}.", features.join(", ")),
            }
        );
        out.push_str("# [build]\n# features = []  # the Cargo features of the deployed build, all of them\n# cfg = []       # flags set by build scripts or RUSTFLAGS (`--cfg postgresql`)\n");
    }

    out.push_str("\n# Round-trip times you measured yourself override the built-in table (milliseconds).\n# [rtt]\n# \"us-east-1 eu-central-1\" = 90\n");
    let routes = a.routes.iter().filter(|r| r.path.is_some()).count();
    let _ = writeln!(
        out,
        "\n# The latency budget of every route ({} found), and of single routes.",
        routes
    );
    out.push_str("[budget]\ndefault = \"250ms\"\n");
    match a.routes.iter().find(|r| r.path.is_some()) {
        Some(r) => {
            let _ = writeln!(
                out,
                "# \"{} {}\" = \"400ms\"",
                r.method.as_deref().unwrap_or("GET"),
                r.path.as_deref().unwrap_or("/")
            );
        }
        None => out.push_str("# \"GET /invoices/{id}\" = \"400ms\"\n"),
    }
    out.push_str("\n[assume]\nloop-iterations = 10\nintra-region-rtt = \"1ms\"\n\n# [lints]\n# query-in-loop = \"error\"\n");
    out
}

/// The Cargo features the code's `#[cfg(..)]` attributes test (`feature = "enterprise"`), sorted.
fn tested_features(a: &Analysis) -> Vec<String> {
    let mut out = std::collections::BTreeSet::new();
    let mut scan = |predicate: &str| {
        let mut rest = predicate;
        while let Some(at) = rest.find("feature") {
            rest = &rest[at + "feature".len()..];
            let value = rest.trim_start().strip_prefix('=').map(str::trim_start);
            if let Some((name, _)) = value.and_then(|v| v.strip_prefix('"')?.split_once('"')) {
                out.insert(name.to_string());
            }
        }
    };
    for f in a.model.files.iter().flat_map(|f| &f.functions) {
        if let Some(c) = &f.cfg {
            scan(c);
        }
        for step in &f.body {
            step.walk(&mut |s| {
                if let Step::Guard {
                    on: crate::facts::Guarded::Cfg,
                    pattern,
                } = s
                {
                    scan(pattern);
                }
            });
        }
    }
    out.into_iter().collect()
}

/// Environment variable names in the code that look like database URLs (`DATABASE_URL_READ`).
fn database_env_vars(a: &Analysis) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for file in &a.model.files {
        let text = &file.source;
        for (i, _) in text.match_indices("_URL") {
            let start = text[..i]
                .rfind(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .map_or(0, |p| p + 1);
            let end = text[i..]
                .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                .map_or(text.len(), |p| i + p);
            let name = &text[start..end];
            let quoted = text[..start].ends_with('"') && text[end..].starts_with('"');
            let database = [
                "DATABASE", "DB", "POSTGRES", "PG", "MYSQL", "REPLICA", "READ",
            ]
            .iter()
            .any(|w| name.split('_').any(|part| part == *w));
            if quoted && database && !out.iter().any(|x| x == name) {
                out.push(name.to_string());
            }
        }
    }
    out.sort();
    out
}

fn count(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn quoted(list: &[String]) -> String {
    list.iter()
        .map(|x| format!("\"{x}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

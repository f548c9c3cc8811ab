//! The catalog: hopcheck's knowledge of which awaited calls are round trips, held as data.
//!
//! Built-in entries (sqlx, tokio-postgres, sea-orm, diesel-async, transactions, concurrency, calls that are
//! never round trips) live in `builtin.toml`, embedded in the binary; a project adds its own wrappers with
//! entries of the same shape in `hopcheck.toml`. The facts stage matches awaited expressions against the
//! catalog; nothing else in hopcheck names a database library.

use std::sync::OnceLock;

use serde::Deserialize;

use crate::domain::{Access, TripKind};

const BUILTIN: &str = include_str!("builtin.toml");
const UNPRICED: &str = include_str!("unpriced.toml");

/// A client of a database or remote store that the catalog does not price (`unpriced.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Unpriced {
    /// What the crates are clients of (none for a web framework).
    #[serde(default)]
    what: String,
    crates: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnpricedFile {
    unpriced: Vec<Unpriced>,
    /// Web frameworks whose routes hopcheck does not read.
    #[serde(default)]
    frameworks: Vec<Unpriced>,
}

/// A chain that starts a query without sending it (`sqlx::query(..)`, `Post::find()`), sent by one of
/// `send` (`.fetch_one(&pool)`, `.all(db)`): the round trip is the awaited send.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Builder {
    #[serde(default)]
    pub library: String,
    /// The crates that provide it: it applies only to code of a crate that depends on one of them
    /// (directly or through a crate of the analysed code), where a manifest says so. Empty: everywhere.
    #[serde(default)]
    pub crates: Vec<String>,
    /// Only where it is awaited: the library has no blocking API, and the methods' names are common words
    /// (`set.insert(x)` is not sea-orm's `model.insert(db).await`).
    #[serde(default)]
    pub awaited: bool,
    /// Set for a crate that does not depend on `crates`: the chain counts only where its start names the
    /// library (`sqlx::query(..)`, `sqlx::query!(..)`, through a re-export the manifest does not show).
    #[serde(skip)]
    pub qualified_only: bool,
    /// Calls that start the chain: `sqlx::query` (path suffix) or `find` (last segment).
    #[serde(default)]
    pub functions: Vec<String>,
    /// Macros that start the chain (`query!`); the SQL is their first string literal.
    #[serde(default)]
    pub macros: Vec<String>,
    /// Methods in the chain that make it a query (`model.find_related(..)`).
    #[serde(default)]
    pub methods: Vec<String>,
    /// The methods that send it; their first argument is the executor.
    pub send: Vec<String>,
    /// Adapters allowed after the send (stream drains).
    #[serde(default)]
    pub drains: Vec<String>,
    /// `read` or `write`; by default the SQL decides.
    #[serde(default)]
    pub access: Option<AccessSpec>,
    /// Chain roots that make it a write whatever `access` says (`insert_into`).
    #[serde(default)]
    pub write_functions: Vec<String>,
    /// Only a round trip if the executor looks like a connection (`&mut conn`, `db`, `&state.pool`).
    #[serde(default)]
    pub executor_hint: bool,
    /// Where the executor is: `send` (the send method's first argument, the default), `root` (the
    /// chain's start, as in `client.get(url).send()`) or `method` (the first argument of the chain's
    /// method among `methods`, as in `stmt().bind(&client, &id).one()`).
    #[serde(default)]
    pub executor: Option<String>,
    #[serde(default)]
    pub endpoint: Option<EndpointSpec>,
    /// Sent through a pool (not a connection or transaction), the pool first checks the connection
    /// with a round trip of its own (sqlx's `test_before_acquire`, on by default).
    #[serde(default)]
    pub checkout_ping: bool,
    /// The SQL is a named query of a `.sql` file a code generator read (cornucopia's `--! name`): the
    /// chain's start, `models::all_models()`, names it.
    #[serde(default)]
    pub sql_by_name: bool,
    /// The types of an unsent query it makes, written with a lifetime first (sqlx's `QueryAs<'q, DB,
    /// O, A>`): a function that takes one as a parameter and sends it makes the round trip
    /// (`dbx.fetch_one(query)` sending `query.fetch_one(pool)`). A type without the lifetime (axum's
    /// `Query<T>` extractor) is another.
    #[serde(default)]
    pub query_types: Vec<String>,
    /// The `hopcheck.toml` entry it came from (see `config::ConfigEntry`), for `unused-config`.
    #[serde(skip)]
    pub origin: Option<u32>,
}

/// One awaited call that is a round trip by itself: `client.query_one("…", &[])`, `tx.commit()`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CallSpec {
    #[serde(default)]
    pub library: String,
    /// As for builders: the crates that provide it.
    #[serde(default)]
    pub crates: Vec<String>,
    /// As for builders: only where it is awaited.
    #[serde(default)]
    pub awaited: bool,
    /// Awaited method names.
    #[serde(default)]
    pub methods: Vec<String>,
    /// Awaited functions, by path suffix (`db::cached_user`) or last segment.
    #[serde(default)]
    pub functions: Vec<String>,
    /// Exactly this many arguments.
    #[serde(default)]
    pub args: Option<usize>,
    /// At least this many arguments.
    #[serde(default)]
    pub min_args: Option<usize>,
    /// Which argument holds the SQL: `arg0`, `arg1`, …
    #[serde(default)]
    pub sql: Option<String>,
    /// Only a round trip if that argument is recognisable SQL (a literal, a constant, a query)...
    #[serde(default)]
    pub sql_required: bool,
    /// ...or if this argument (`arg1`) is a list of query parameters (`&[&id]`): a statement prepared
    /// before, held in a field or a parameter (`client.query_one(&self.by_id, &[&id])`).
    #[serde(default)]
    pub params: Option<String>,
    /// `receiver`, `arg0`, `arg1`, … or `none`.
    #[serde(default)]
    pub executor: Option<String>,
    /// Only a round trip if the executor looks like a connection.
    #[serde(default)]
    pub executor_hint: bool,
    #[serde(default)]
    pub kind: Option<KindSpec>,
    #[serde(default)]
    pub access: Option<AccessSpec>,
    /// Only a round trip if the executor's name has one of these words (`redis`, `con`).
    #[serde(default)]
    pub executor_words: Vec<String>,
    /// Option methods that may follow it before the `.await` (`coll.find_one(f).sort(s).await`).
    #[serde(default)]
    pub then: Vec<String>,
    /// The database or service it reaches (a `[databases]` or `[services]` name); by default the pool
    /// mapping decides.
    #[serde(default)]
    pub database: Option<String>,
    #[serde(default)]
    pub endpoint: Option<EndpointSpec>,
    /// As for builders: through a pool, a connection check comes first.
    #[serde(default)]
    pub checkout_ping: bool,
    /// Given SQL text (not a prepared statement), the library prepares it in a round trip of its own
    /// before running it (tokio-postgres).
    #[serde(default)]
    pub prepares_text: bool,
    /// As for builders: the receiver chain's start names a generated query.
    #[serde(default)]
    pub sql_by_name: bool,
    /// Arguments (`arg0`, ..) each of which, written `Some(..)`, costs a statement of its own after the
    /// BEGIN: sea-orm sends a transaction's isolation level and its access mode to PostgreSQL as `SET
    /// TRANSACTION ..` statements.
    #[serde(default)]
    pub settings: Vec<String>,
    /// How many statements it sends, one after the other (sqlx-paginated's `fetch_paginated`, a COUNT
    /// and then the page: 2); one by default.
    #[serde(default)]
    pub statements: Option<usize>,
    /// The `hopcheck.toml` entry it came from, for `unused-config`.
    #[serde(skip)]
    pub origin: Option<u32>,
}

/// What a round trip reaches: a database (priced to its primary or replica), or another service (a cache, an
/// HTTP API), priced to the `[services]` entry its executor maps to, else taken to be in the app's region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EndpointSpec {
    Database,
    Service,
}

/// Macros and functions whose future arguments run at once.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Concurrent {
    #[serde(default)]
    pub library: String,
    #[serde(default)]
    pub macros: Vec<String>,
    #[serde(default)]
    pub functions: Vec<String>,
}

/// Awaited methods and functions that are never round trips (and never the analysed code's own).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct NoRoundTrip {
    #[serde(default)]
    pub library: String,
    #[serde(default)]
    pub methods: Vec<String>,
    #[serde(default)]
    pub functions: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AccessSpec {
    Read,
    Write,
}

impl AccessSpec {
    pub fn access(self) -> Access {
        match self {
            AccessSpec::Read => Access::Read,
            AccessSpec::Write => Access::Write,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KindSpec {
    Query,
    Begin,
    Commit,
    Rollback,
    Prepare,
    Check,
}

impl KindSpec {
    pub fn kind(self) -> TripKind {
        match self {
            KindSpec::Query => TripKind::Query,
            KindSpec::Begin => TripKind::Begin,
            KindSpec::Commit => TripKind::Commit,
            KindSpec::Rollback => TripKind::Rollback,
            KindSpec::Check => TripKind::Check,
            KindSpec::Prepare => TripKind::Prepare,
        }
    }
}

/// The sections a catalog file (or `hopcheck.toml`) may hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Entries {
    #[serde(default)]
    pub builders: Vec<Builder>,
    #[serde(default)]
    pub calls: Vec<CallSpec>,
    #[serde(default)]
    pub concurrent: Vec<Concurrent>,
    #[serde(default)]
    pub no_round_trip: Vec<NoRoundTrip>,
    #[serde(default)]
    pub cached: Vec<Cached>,
    #[serde(default)]
    pub clients: Vec<Client>,
    #[serde(default)]
    pub route_attributes: Vec<RouteAttribute>,
}

/// An attribute macro of another crate that declares a route as a framework's does (`#[api::endpoint(..)]`
/// standing for actix-web's `#[get(..)]`): `like` names the framework's attribute by its method
/// (`get`, `post`, …) or `route` (the method is its `method = ".."` argument).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RouteAttribute {
    /// The attribute's path as the code writes it, or its last segments (`endpoint`, `api::endpoint`).
    pub path: String,
    pub like: String,
    /// The `hopcheck.toml` entry it came from, for `unused-config`.
    #[serde(skip)]
    pub origin: Option<u32>,
}

/// Types whose awaited methods are each a call to another service (generated gRPC clients, a vendor's
/// SDK): `client.get_invoice(req).await` on a `BillingClient` is one round trip.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Client {
    #[serde(default)]
    pub library: String,
    /// As for builders: the crates that provide it.
    #[serde(default)]
    pub crates: Vec<String>,
    /// Type names: exact (`BillingApi`) or a suffix after `*` (`*Client`).
    pub types: Vec<String>,
    /// Awaited methods of those types that are not calls (connecting, waiting until ready).
    #[serde(default)]
    pub not_methods: Vec<String>,
    /// Methods that only read (a database client's `read_rows`); every other call is taken to write.
    #[serde(default)]
    pub read_methods: Vec<String>,
    #[serde(default)]
    pub endpoint: Option<EndpointSpec>,
    /// The `hopcheck.toml` entry it came from, for `unused-config`.
    #[serde(skip)]
    pub origin: Option<u32>,
}

impl Client {
    /// Is an awaited `ty::method` one of this entry's calls?
    pub fn matches(&self, ty: &str, method: &str) -> bool {
        let typed = self.types.iter().any(|t| match t.strip_prefix('*') {
            Some(suffix) => ty.ends_with(suffix) && ty.len() > suffix.len(),
            None => t == ty,
        });
        typed && !self.not_methods.iter().any(|m| m == method)
    }
}

/// Cache methods whose loader (a closure or future argument) runs only on a miss, and receivers that are
/// caches the code asks before it queries (`if let Some(v) = translations.get(&k) { return v }`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Cached {
    #[serde(default)]
    pub library: String,
    #[serde(default)]
    pub methods: Vec<String>,
    /// Receivers as the code spells them (`translations`, `self.locales`, `LOCALES`).
    #[serde(default)]
    pub receivers: Vec<String>,
}

/// PostgreSQL clients, and libraries' PostgreSQL features, as dependencies name them.
const POSTGRES: &[&str] = &[
    "tokio-postgres",
    "postgres",
    "deadpool-postgres",
    "bb8-postgres",
    "r2d2-postgres",
    "sqlx-postgres",
    "sqlx/postgres",
    "diesel/postgres",
    "diesel-async/postgres",
    "deadpool-diesel/postgres",
    "sea-orm/sqlx-postgres",
    "sea-orm/sqlx-all",
];

/// MySQL (and MariaDB) clients, and libraries' MySQL features.
const MYSQL: &[&str] = &[
    "sqlx-mysql",
    "mysql",
    "mysql-async",
    "sqlx/mysql",
    "diesel/mysql",
    "diesel-async/mysql",
    "deadpool-diesel/mysql",
    "sea-orm/sqlx-mysql",
];

/// Whether a crate's dependencies (packages, and `package/feature` for their features) say its only
/// database is SQLite: a SQLite driver or a library's SQLite feature, and no client of a networked
/// database (nor a library's feature for one).
fn sqlite_only(dependencies: &std::collections::BTreeSet<String>) -> bool {
    const SQLITE: &[&str] = &[
        "rusqlite",
        "libsqlite3-sys",
        "sqlx-sqlite",
        "sqlx/sqlite",
        "diesel/sqlite",
        "diesel-async/sqlite",
        "deadpool-diesel/sqlite",
        "sea-orm/sqlx-sqlite",
    ];
    const OTHER_NETWORKED: &[&str] = &["mongodb", "tiberius", "scylla", "sqlx/any"];
    SQLITE.iter().any(|d| dependencies.contains(*d))
        && !POSTGRES
            .iter()
            .chain(MYSQL)
            .chain(OTHER_NETWORKED)
            .any(|d| dependencies.contains(*d))
}

/// Whether a crate's dependencies say its SQL is MySQL's (or MariaDB's): a MySQL client or a library's MySQL
/// feature, and no PostgreSQL one. Its help then names no PostgreSQL syntax (`RETURNING`, `= ANY($1)`,
/// `UNNEST`), which MySQL does not have.
fn mysql_dialect(dependencies: &std::collections::BTreeSet<String>) -> bool {
    MYSQL.iter().any(|d| dependencies.contains(*d))
        && !POSTGRES.iter().any(|d| dependencies.contains(*d))
}

/// The catalog in use: the user's entries first (they win), then the built-in ones.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// The crate depends on no async runtime (tokio, async-std, smol, actix): a synchronous service
    /// (rocket 0.4, plain diesel), where `spawn_blocking` and `try_join!` are no advice.
    pub without_runtime: bool,
    /// The crate's only database is SQLite, in the process (its libraries' features say so, and no
    /// networked database client is among its dependencies): its queries are no round trips.
    pub sqlite_only: bool,
    /// The crate's SQL is MySQL's (see [`mysql_dialect`]).
    pub mysql: bool,
    pub builders: Vec<Builder>,
    pub calls: Vec<CallSpec>,
    pub concurrent_macros: Vec<String>,
    pub concurrent_functions: Vec<String>,
    pub quiet_methods: Vec<String>,
    pub quiet_functions: Vec<String>,
    /// The methods a project's own `[[no-round-trip]]` entries name: never a round trip, even where
    /// the analysed code defines a method of that name (the built-in names never drop the project's).
    pub told_quiet_methods: Vec<String>,
    pub cached_methods: Vec<String>,
    /// Receivers the configuration says are caches (`[[cached]] receivers`).
    pub cache_receivers: Vec<String>,
    pub clients: Vec<Client>,
    pub route_attributes: Vec<RouteAttribute>,
}

impl Catalog {
    /// Is `name` (as a path spells it, `deadpool_postgres`) a crate of a database library the catalog
    /// knows?
    pub fn database_crate(&self, name: &str) -> bool {
        let name = name.replace('_', "-");
        self.builders
            .iter()
            .map(|b| &b.crates)
            .chain(self.calls.iter().map(|c| &c.crates))
            .any(|crates| crates.contains(&name))
    }

    /// The built-in catalog alone.
    pub fn builtin() -> &'static Catalog {
        static BUILT: OnceLock<Catalog> = OnceLock::new();
        BUILT.get_or_init(|| Catalog::with(Entries::default()))
    }

    /// The built-in catalog with a project's entries in front.
    pub fn with(user: Entries) -> Catalog {
        // The built-in file is part of the binary and checked by a test; an error here is a build bug.
        let builtin: Entries = toml::from_str(BUILTIN).unwrap_or_default();
        let mut c = Catalog {
            told_quiet_methods: user
                .no_round_trip
                .iter()
                .flat_map(|q| q.methods.iter().cloned())
                .collect(),
            ..Catalog::default()
        };
        for e in [user, builtin] {
            c.builders.extend(e.builders);
            c.calls.extend(e.calls);
            for k in e.concurrent {
                c.concurrent_macros.extend(k.macros);
                c.concurrent_functions.extend(k.functions);
            }
            for q in e.no_round_trip {
                c.quiet_methods.extend(q.methods);
                c.quiet_functions.extend(q.functions);
            }
            for k in e.cached {
                c.cached_methods.extend(k.methods);
                c.cache_receivers.extend(k.receivers);
            }
            c.clients.extend(e.clients);
            c.route_attributes.extend(e.route_attributes);
        }
        // Builders that name their roots are tried before those that take any chain.
        c.builders
            .sort_by_key(|b| b.functions.is_empty() && b.macros.is_empty() && b.methods.is_empty());
        c
    }

    /// The catalog for code of a crate that depends on `dependencies` (crate names, `-` for `_`): the
    /// entries of libraries it does not depend on are left out.
    pub fn in_scope(&self, dependencies: &std::collections::BTreeSet<String>) -> Catalog {
        let wanted = |crates: &[String]| {
            crates.is_empty() || crates.iter().any(|c| dependencies.contains(c))
        };
        // A builder whose chain starts with a named call (`sqlx::query`) still counts where the code
        // spells the library's name: the code says which library it is.
        let builders = self
            .builders
            .iter()
            .filter_map(|b| {
                if wanted(&b.crates) {
                    Some(b.clone())
                } else if !b.functions.is_empty() || !b.macros.is_empty() {
                    Some(Builder {
                        qualified_only: true,
                        ..b.clone()
                    })
                } else {
                    None
                }
            })
            .collect();
        // Dependencies are named as their packages are, with `-`.
        const RUNTIMES: [&str; 6] = [
            "tokio",
            "async-std",
            "smol",
            "actix-rt",
            "actix-web",
            "axum",
        ];
        Catalog {
            without_runtime: !RUNTIMES.iter().any(|r| dependencies.contains(*r)),
            sqlite_only: sqlite_only(dependencies),
            mysql: mysql_dialect(dependencies),
            builders,
            calls: self
                .calls
                .iter()
                .filter(|c| wanted(&c.crates))
                .cloned()
                .collect(),
            clients: self
                .clients
                .iter()
                .filter(|c| wanted(&c.crates))
                .cloned()
                .collect(),
            ..self.clone()
        }
    }

    /// The clients among `dependencies` (crate names, `-` for `_`) of a database or remote store that no
    /// entry prices: `google-cloud-rust-raw (Google Cloud Spanner)`. Their calls count no round trip.
    pub fn unpriced_in(&self, dependencies: &std::collections::BTreeSet<String>) -> Vec<String> {
        let known: std::collections::HashSet<&str> = (self.builders.iter().flat_map(|b| &b.crates))
            .chain(self.calls.iter().flat_map(|c| &c.crates))
            .chain(self.clients.iter().flat_map(|c| &c.crates))
            .map(String::as_str)
            .collect();
        // The file is part of the binary and checked by a test; an error here is a build bug.
        let file: UnpricedFile = toml::from_str(UNPRICED).unwrap_or_default();
        file.unpriced
            .iter()
            .flat_map(|u| {
                u.crates
                    .iter()
                    .filter(|c| dependencies.contains(*c) && !known.contains(c.as_str()))
                    .map(move |c| format!("{c} ({})", u.what))
            })
            .collect()
    }

    /// The web frameworks of `dependencies` whose routes hopcheck does not read (`unpriced.toml`'s
    /// `[[frameworks]]`): the handlers they serve may have no route, or be missed.
    pub fn unread_frameworks_in(dependencies: &std::collections::BTreeSet<String>) -> Vec<String> {
        let file: UnpricedFile = toml::from_str(UNPRICED).unwrap_or_default();
        file.frameworks
            .iter()
            .flat_map(|u| {
                u.crates
                    .iter()
                    .filter(|c| dependencies.contains(*c))
                    .cloned()
            })
            .collect()
    }

    pub fn is_quiet_method(&self, name: &str) -> bool {
        self.quiet_methods.iter().any(|m| m == name)
    }
}

/// `arg0` → 0: which argument a catalog entry names.
pub fn arg_index(spec: &str) -> Option<usize> {
    spec.strip_prefix("arg")?.parse().ok()
}

/// Does a call path (`["sqlx", "query"]`) match a catalog name (`sqlx::query`, or a last segment `find`)?
/// A qualified name whose first segment is a crate (`sqlx::query`) also matches the bare imported name
/// when `bare_ok` (the caller has other evidence, such as recognisable SQL).
pub fn path_matches(segs: &[String], name: &str, bare_ok: bool) -> bool {
    // Called for every call against every catalog entry: compared without allocating (names hold no
    // single `:`, so splitting at `:` and dropping the empty pieces splits at `::`).
    let want = || name.split(':').filter(|s| !s.is_empty());
    let want_len = want().count();
    let Some(last) = want().next_back() else {
        return false;
    };
    if want_len == 1 {
        return segs.last().map(String::as_str) == Some(last);
    }
    if segs.len() >= want_len
        && segs[segs.len() - want_len..]
            .iter()
            .map(String::as_str)
            .eq(want())
    {
        return true;
    }
    // `query_as(..)` imported bare, or through a module of the analysed code that re-exports it
    // (`db::query_as(..)`, `crate::db::query(..)`), carrying recognisable SQL.
    let crate_like = name.starts_with(|c: char| c.is_ascii_lowercase());
    bare_ok && crate_like && segs.last().map(String::as_str) == Some(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_catalog_parses() {
        let entries: Entries = toml::from_str(BUILTIN).expect("builtin.toml is valid");
        assert!(entries.builders.len() >= 4);
        assert!(entries.calls.len() >= 6);
        let c = Catalog::builtin();
        assert!(c.concurrent_macros.iter().any(|m| m == "try_join"));
        assert!(c.is_quiet_method("send"));
    }

    #[test]
    fn the_unpriced_clients_parse_and_none_is_priced() {
        let file: UnpricedFile = toml::from_str(UNPRICED).expect("unpriced.toml is valid");
        assert!(file.unpriced.len() >= 10);
        let all: std::collections::BTreeSet<String> = file
            .unpriced
            .iter()
            .flat_map(|u| u.crates.clone())
            .collect();
        // Manifest names are compared with `-` for `_`.
        assert!(all.iter().all(|c| !c.contains('_')), "{all:?}");
        assert_eq!(Catalog::builtin().unpriced_in(&all).len(), all.len());
        let frameworks: std::collections::BTreeSet<String> = file
            .frameworks
            .iter()
            .flat_map(|u| u.crates.clone())
            .collect();
        assert!(
            frameworks.iter().all(|c| !c.contains('_')),
            "{frameworks:?}"
        );
        assert_eq!(
            Catalog::unread_frameworks_in(&frameworks).len(),
            frameworks.len()
        );
    }

    #[test]
    fn names_match_path_suffixes_and_bare_imports() {
        let p = |s: &str| s.split("::").map(String::from).collect::<Vec<_>>();
        assert!(path_matches(&p("sqlx::query"), "sqlx::query", false));
        assert!(path_matches(&p("query"), "sqlx::query", true));
        assert!(!path_matches(&p("query"), "sqlx::query", false));
        assert!(path_matches(&p("post::Entity::find"), "find", false));
        assert!(path_matches(
            &p("sqlx::QueryBuilder::new"),
            "QueryBuilder::new",
            false
        ));
        assert!(!path_matches(&p("new"), "QueryBuilder::new", true));
        // Through a module that re-exports it, with SQL as evidence.
        assert!(path_matches(&p("db::query_as"), "sqlx::query_as", true));
        assert!(!path_matches(&p("db::query_as"), "sqlx::query_as", false));
    }
}

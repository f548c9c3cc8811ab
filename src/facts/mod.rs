//! Facts: the plain, `Send` data that one pass over a file's syntax tree leaves behind.
//!
//! Everything downstream (the model, the rules, the cost model, the reports) reads these types and never
//! syn's. A function body becomes a tree of [`Step`]s in evaluation order: round trips, awaited calls to
//! other functions, branches, loops and concurrent groups. Routers become [`RouteEntry`] lists. Nothing
//! here is resolved across files: names stay names until the model joins them.

mod bounded;
pub mod consts;
mod correlate;
pub mod derives;
pub mod directives;
mod dispatch;
pub mod driver;
pub mod macros;
mod made;
mod prune;
pub mod router;
pub mod span;
pub mod sql;
mod visitor;
pub mod warp;
pub mod wrappers;

use serde::Serialize;

pub use visitor::extract;

/// The last segment of the call an actor's message makes (`addr.send(GetTags {})` is `GetTags::handle`):
/// the `handle` of the actor's `impl Handler<GetTags>`.
pub const ACTOR_HANDLE: &str = "handle";

/// What starts a directive comment (`// hopcheck: allow(..)`).
pub const DIRECTIVE_MARKER: &str = "hopcheck:";

/// Whether a file's text holds the directive marker at all (a fast scan: most files have none).
pub fn has_directives(source: &str) -> bool {
    memchr::memmem::find(source.as_bytes(), DIRECTIVE_MARKER.as_bytes()).is_some()
}

/// The type of a local made by a call is written `RETURNED_BY` + the call's path, for the model to read
/// off the function it resolves to.
pub const RETURNED_BY: &str = "=>";
/// A local bound by position from a tuple is typed `<tuple type>` + `ELEMENT` + its index.
pub const ELEMENT: &str = "#";
/// A parameter bound from a struct pattern is typed `<struct type>` + `FIELD` + the field's name.
pub const FIELD: &str = ".";
/// The outcome a caller that goes on only on success needs: any value but an error, a `None` or
/// rocket's `Forward`.
/// The condition of a router layer put on only in a test mode (`if is_e2e_testing { .. }`): never in a
/// deployment.
pub const TEST_MODE: &str = "(test mode)";

pub const SUCCEEDS: &str = "Ok";
/// What a `?` returns on: an error or a `None`.
pub const FAILS: &str = "?";
/// A local bound to a place (`let db = &state.0.database;`) is typed `PLACE` + the place's path, its
/// parts joined by `FIELD`: its type is that place's.
pub const PLACE: &str = "~";
/// A value a method returns (`state.store()` in `state.store().find(..)`, `let a = accounts.get(id).await?`)
/// is typed `METHOD_RETURNS` + the receiver's path and the method's name, joined by `FIELD`, then `/` and
/// how many arguments it takes: its type is what that method returns.
pub const METHOD_RETURNS: &str = "->";
/// The receiver of a `METHOD_RETURNS` whose type is not known (a library's chain): the method is the one
/// method of the analysed code of that name, if there is one.
pub const UNTYPED: &str = "?";
/// A type written as another type's associated type, `<PgDb as DependOnRepo>::Repo`: `<PgDb>::Repo`, which
/// the implementation for `PgDb` says.
pub const ASSOC_OF: &str = "<";

/// `<PgDb>::Repo` as (`PgDb`, `Repo`).
pub fn assoc_of(ty: &str) -> Option<(&str, &str)> {
    ty.strip_prefix(ASSOC_OF)?.split_once(">::")
}
/// A value a call by path makes, written with what the call is handed (`either(&Key, &Org { .. },
/// jwt)`): `CALLED_WITH` + each argument's path (its parts joined by `FIELD`, the arguments by `;`) +
/// `)` + the path. Where the function hands back one of its parameters, the value is that argument.
pub const CALLED_WITH: &str = "=>(";
/// A tuple a call is handed (`mapper.map((&account, post))`) is held in a local typed `TUPLE_OF` + the
/// locals holding its elements, joined by `,`: its type is the tuple of theirs.
pub const TUPLE_OF: &str = "(:";
/// A parameter of a closure handed to a call (`pool.transaction_http(&req, async |db| ..)`) is typed
/// `CLOSURE_INPUT` + the argument's and the parameter's positions, each followed by `CLOSURE_INPUT`, then
/// the call written as a local made by it is (`RETURNED_BY` or `METHOD_RETURNS`): its type is what the
/// callee's `Fn` bound on that argument says the closure takes (`A: AsyncFnOnce(&mut dyn Db)`), which the
/// callee's generics hold under `A(0)`.
pub const CLOSURE_INPUT: &str = "|";
/// A trait object of one of a few types, as the function that made it says (`Db` + `NatsDb,SqliteDb`):
/// `Db~NatsDb,SqliteDb`.
pub const ONE_OF: &str = "~";

/// A local's or parameter's type as the facts write it (see the constants above), read back: what
/// resolution follows to the type itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeRef<'a> {
    /// A type by its name (`User`, `(Article,User)`, `Self`), or a struct's field (`Org.app`).
    Named(&'a str),
    /// The type of a place: `state.0.database`.
    Place(Vec<&'a str>),
    /// What the function a path reaches returns: `Article::find`.
    Returned(Vec<&'a str>),
    /// What the function a path reaches returns, called with these arguments (paths of fields): where
    /// it hands back one of its parameters, that argument.
    CalledWith {
        path: Vec<&'a str>,
        args: Vec<Vec<&'a str>>,
    },
    /// What a method returns, called on a place with so many arguments: `state.store()`.
    MethodReturns {
        base: Vec<&'a str>,
        method: &'a str,
        args: usize,
    },
    /// The tuple of the types of these locals.
    Tuple(Vec<&'a str>),
    /// An element of a tuple type, by position.
    Element(Box<TypeRef<'a>>, usize),
    /// The `input`th parameter of a closure handed as the `arg`th argument to the call `callee`.
    ClosureInput {
        callee: Box<TypeRef<'a>>,
        arg: usize,
        input: usize,
    },
}

impl<'a> TypeRef<'a> {
    pub fn parse(written: &'a str) -> Option<TypeRef<'a>> {
        if let Some(rest) = written.strip_prefix(CLOSURE_INPUT) {
            let mut parts = rest.splitn(3, CLOSURE_INPUT);
            let arg = parts.next()?.parse().ok()?;
            let input = parts.next()?.parse().ok()?;
            let callee = Box::new(TypeRef::parse(parts.next()?)?);
            return Some(TypeRef::ClosureInput { callee, arg, input });
        }
        if let Some(names) = written.strip_prefix(TUPLE_OF) {
            return Some(TypeRef::Tuple(names.split(',').collect()));
        }
        if let Some(place) = written.strip_prefix(PLACE) {
            return Some(TypeRef::Place(place.split(FIELD).collect()));
        }
        if let Some((tuple, index)) = written.rsplit_once(ELEMENT) {
            let inner = TypeRef::parse(tuple)?;
            return Some(TypeRef::Element(Box::new(inner), index.parse().ok()?));
        }
        if let Some(rest) = written.strip_prefix(CALLED_WITH) {
            let (args, path) = rest.rsplit_once(')')?;
            return Some(TypeRef::CalledWith {
                path: path.split("::").collect(),
                args: args
                    .split(';')
                    .map(|a| a.split(FIELD).filter(|p| !p.is_empty()).collect())
                    .collect(),
            });
        }
        if let Some(path) = written.strip_prefix(RETURNED_BY) {
            return Some(TypeRef::Returned(path.split("::").collect()));
        }
        if let Some(rest) = written.strip_prefix(METHOD_RETURNS) {
            let (call, args) = rest.rsplit_once('/')?;
            let (base, method) = call.rsplit_once(FIELD)?;
            return Some(TypeRef::MethodReturns {
                base: base.split(FIELD).collect(),
                method,
                args: args.parse().ok()?,
            });
        }
        Some(TypeRef::Named(written))
    }
}

/// A place in a source file: 1-based line and column (in characters), plus the byte range for renderers.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, serde::Deserialize,
)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
    pub offset: u32,
    pub len: u32,
}

/// A type named as a GraphQL schema's query or mutation root (`QueryRoot`, `Mutation`, `UserQuery`).
pub fn graphql_root_name(name: &str) -> bool {
    ["Query", "QueryRoot", "Mutation", "MutationRoot"]
        .iter()
        .any(|r| name.ends_with(r))
}

/// A route a table of paths lists: its method, where the entry names one, and its path.
pub type ListedRoute = (Option<String>, String);

/// The facts of one file.
#[derive(Debug, Default, Clone, serde::Serialize, serde::Deserialize)]
pub struct FileFacts {
    /// Path relative to the analysed root, with forward slashes.
    pub path: String,
    /// The file's text (not kept in the facts cache, which is handed it back).
    #[serde(skip)]
    pub source: String,
    /// The module path the file's position implies (`src/routes/billing.rs` → `routes::billing`).
    pub module: Vec<String>,
    pub functions: Vec<FnFacts>,
    /// `use` aliases: (module the `use` sits in, local name, full path).
    pub uses: Vec<UseAlias>,
    /// String constants (`const SQL: &str = "…"`), by name, for SQL passed by name.
    pub consts: Vec<(String, String)>,
    /// Statics and constants outside functions, with the type of the value they hold (`static HASHER:
    /// LazyLock<Pool>` gives `HASHER` → `Pool`), for typing the receivers of method calls on them.
    pub statics: Vec<(String, String)>,
    /// Out-of-line modules declared under `#[cfg(test)]` (full module paths).
    pub test_modules: Vec<Vec<String>>,
    /// async-graphql's `#[derive(MergedObject)] struct QueryRoot(UsersQuery, PostsQuery);`: the type and
    /// the types it merges, whose fields are its own.
    #[serde(default)]
    pub merged_objects: Vec<(String, Vec<String>)>,
    /// Structs, enums, traits and type aliases, for typing method receivers.
    pub types: Vec<TypeFacts>,
    /// `impl Trait for Type` pairs (type, trait), also for impls with no methods.
    pub impls: Vec<(String, String)>,
    /// Blanket implementations, `impl<T: A + B> Trait for T`: the trait, the type parameter (`T`) and the
    /// traits (not markers) its type must implement.
    #[serde(default)]
    pub blankets: Vec<(String, String, Vec<String>)>,
    /// Associated types a trait implementation binds (`impl DependOnRepo for PgDb { type Repo = PgRepo; }`):
    /// (the type, the name, the type it stands for, `ASSOC_OF` form where it is another's).
    #[serde(default)]
    pub assoc_types: Vec<(String, String, String)>,
    /// Structs that spell a route's path (axum-extra's `#[typed_path("/users/{id}")]`): a handler that
    /// takes one is served there.
    pub typed_paths: Vec<TypedPath>,
    /// Types deriving one of the analysed code's own derive macros: a function of theirs that is not
    /// found may be one the derive writes where hopcheck could not read it (inside a repetition).
    #[serde(default)]
    pub own_derived: Vec<String>,
    /// Constant tables of route paths (`const SKIP_AUTH_ROUTES: [SkipAuthRoute; 6] = [SkipAuthRoute { path:
    /// "/api/tags", method: Method::GET }, ..]`): the name, and each entry's method (where it names one) and
    /// path.
    #[serde(default)]
    pub path_tables: Vec<(String, Vec<ListedRoute>)>,
    pub parse_error: Option<ParseError>,
    /// The file turns the pool's connection check off (`.test_before_acquire(false)`).
    pub checkout_test_off: bool,
    /// Its crate depends on no async runtime (see [`crate::catalog::Catalog::without_runtime`]).
    pub without_runtime: bool,
    /// Its crate's SQL is MySQL's (see [`crate::catalog::Catalog::mysql`]): help names no PostgreSQL syntax.
    pub mysql: bool,
    /// A cached lookup's loader makes round trips here (a branch `assume.cache` settles).
    pub cached_lookups: bool,
    /// The cache methods (`[[cached]]`) called here.
    pub cache_methods: Vec<String>,
    /// `[[cached]] receivers` the file asks before it queries (for `unused-config`).
    pub cache_receivers: Vec<String>,
    /// Rust, or another file the run reads: the configuration (where `unused-config` findings point),
    /// the SQL a code generator turns into Rust at build time.
    pub kind: FileKind,
    /// Some step is guarded by a `#[cfg(..)]` predicate (`Guarded::Cfg`).
    pub cfg_guards: bool,
    /// The text holds `hopcheck:` directives (found when it is parsed, so that later stages need not
    /// scan every file's text again).
    pub has_directives: bool,
    /// The name code of other crates imports this file's crate by (`revolt_permissions` for the package
    /// `revolt-permissions` in `crates/core/permissions/`), where its manifest says it.
    pub crate_name: Option<String>,
    /// Constants and statics that may name a route's path (a route table, a `/..` string), as text.
    pub const_items: Vec<consts::ConstItem>,
    /// `const fn`s without parameters that build such constants.
    pub const_fns: Vec<consts::ConstFn>,
    /// Modules whose items the build writes (`mod queries { include!(concat!(env!("OUT_DIR"), ..)) }`,
    /// tonic's `include_proto!`): what the code calls in them is not in the source.
    pub generated_modules: Vec<Vec<String>>,
}

/// What a file of the run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum FileKind {
    #[default]
    Rust,
    /// `hopcheck.toml`.
    Config,
    /// Named queries a code generator (cornucopia, clorinde) turns into Rust at build time: held as
    /// constants (`models::all_models` → its SQL) that the generated calls' round trips name.
    GeneratedSql,
}

/// The named queries of a cornucopia or clorinde `.sql` file (`--! all_models : Model` then the SQL, up
/// to the next `--!`), as constants keyed `<file stem>::<name>`, the module and function the generated
/// code gives them.
pub fn generated_sql(rel: &str, text: &str) -> FileFacts {
    let stem = rel
        .rsplit('/')
        .next()
        .and_then(|f| f.strip_suffix(".sql"))
        .unwrap_or(rel);
    let mut consts = Vec::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        if let Some(rest) = line.trim_start().strip_prefix("--!") {
            consts.extend(current.take());
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                current = Some((format!("{stem}::{name}"), String::new()));
            }
        } else if let Some((_, sql)) = &mut current {
            if !line.trim_start().starts_with("--") {
                sql.push_str(line);
                sql.push('\n');
            }
        }
    }
    consts.extend(current);
    FileFacts {
        path: rel.to_string(),
        kind: FileKind::GeneratedSql,
        consts,
        ..FileFacts::default()
    }
}

/// A struct whose value is a route's path, by the module it is declared in.
#[derive(Debug, Clone, Hash, serde::Serialize, serde::Deserialize)]
pub struct TypedPath {
    pub module: Vec<String>,
    pub name: String,
    pub path: String,
}

/// Starts the name of a `Callee::Extractor` that is a middleware function a router's layer runs
/// (`middleware require_session`), not an extractor type.
pub const MIDDLEWARE: &str = "middleware ";

/// The path of a route served where its handler's typed path says (`.typed_get(handler)`), until the
/// model reads it from the handler's parameter; any prefix it is mounted under comes before it.
pub const TYPED_ROUTE: &str = "\u{1}typed";

/// Marks a layer that may be a tower `Layer` of the analysed code, by how it is made (`[TOWER_LAYER,
/// "auth", "create"]` for `.layer(auth::create(keys))`): the `call` of the service it wraps runs on every
/// request.
pub const TOWER_LAYER: &str = "\u{1}tower";

/// Marks a layer that runs a request extractor of the analysed code on each request (axum's
/// `from_extractor::<Auth>()`): `[EXTRACTOR_LAYER, type]`.
pub const EXTRACTOR_LAYER: &str = "\u{1}extractor";

/// Marks a layer that is one of several, by the branch that builds the router (`if basic {
/// router.layer(from_fn(basic_auth)) } else { router.layer(from_fn(no_auth)) }`): `[EITHER, "basic_auth",
/// "no_auth"]`, each alternative a layer's path joined by `::`.
pub const EITHER_LAYER: &str = "\u{1}either";

/// Marks a layer put on only where a function of the code says so (`if config::is_auth_enabled() { app =
/// app.layer(..) }`): `[IF_LAYER, "config::is_auth_enabled", path..]`, the condition `!`-prefixed where
/// it is negated. A function that returns `false` whatever happens leaves the layer out.
pub const IF_LAYER: &str = "\u{1}if";

/// Marks a mount of what a method of the analysed code adds to the router it is called on (an extension
/// trait's `scope.resource_routes(..)`): `[ROUTER_METHOD, "resource_routes"]`.
pub const ROUTER_METHOD: &str = "\u{1}method";

/// Marks, in a function that takes a router and gives it back (`fn with_auth(router: Router) -> Router`),
/// the router it is handed: a mount `[HANDED_ROUTER]` that gathers the layers the function puts on it.
pub const HANDED_ROUTER: &str = "\u{1}handed";

/// Marks a layer that stands for the layers function `path` puts on the router it is handed
/// (`with_auth(users::router())`): `[HANDED_LAYERS, path..]`.
pub const HANDED_LAYERS: &str = "\u{1}handed-layers";

/// The types a router is built on: a method of the analysed code on one of them (`impl ScopeExt for
/// Scope { fn resource_routes(self, ..) -> Self { self.service(..) } }`) adds routes to its `self`.
pub const ROUTER_TYPES: &[&str] = &["Router", "Scope", "App", "ServiceConfig", "Resource"];

#[derive(Debug, Clone, Hash, serde::Serialize, serde::Deserialize)]
pub struct UseAlias {
    pub module: Vec<String>,
    pub name: String,
    pub path: Vec<String>,
}

/// A named type of the analysed code. Types are reduced to one name: `Arc<dyn Repo + Send>` is `Repo`.
#[derive(Debug, Clone, Default, Hash, serde::Serialize, serde::Deserialize)]
pub struct TypeFacts {
    pub name: String,
    /// Field name → type name, for structs with named fields.
    pub fields: Vec<(String, String)>,
    /// For `type Name = …;`, the type it names.
    pub alias: Option<String>,
    /// For an alias, the module it is declared in (an inline `mod` of its file included).
    pub module: Vec<String>,
    /// For `impl Deref for Name { type Target = …; }`, the type its fields are reached through.
    pub deref: Option<String>,
    /// A trait rather than a struct, enum or alias.
    pub is_trait: bool,
    /// For a trait, the traits it requires (`trait FullRepo: AliasRepo + HashRepo`), last segments.
    pub supertraits: Vec<String>,
    /// For a trait, the methods taking `self` it declares without a default body: every implementation
    /// must write them.
    pub required: Vec<String>,
    /// The value a field takes where the code leaves it out (`..Default::default()`, a builder's unset
    /// field), as a guard pattern reads it: an `Option` is `None`, a `bool` is `false`, a list is
    /// `len=0`, `#[builder(default = true)]` is `true`. Only fields whose default is one of those.
    pub defaults: Vec<(String, String)>,
    /// Fields holding a trait object, each with the module or crate its trait is named from
    /// (`repo: Arc<dyn publisher::Repository>` gives `repo`, `publisher`).
    #[serde(default)]
    pub dyn_qualifiers: Vec<(String, String)>,
    /// Fields of a generic type written with type arguments (`roles: Arc<Table<'c, Role>>` gives `roles`,
    /// `[Role]`): of the methods an `impl Table<'c, Role>` and an `impl Table<'c, User>` each define, which.
    #[serde(default)]
    pub field_args: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ParseError {
    pub loc: Loc,
    pub message: String,
}

/// The values a function that hands back a trait object makes: types the code spells (`NatsDb`), and
/// the functions whose values it hands on (`default` in `DEFAULT.get_or_init(default)`).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Made {
    pub types: Vec<String>,
    pub via: Vec<Vec<String>>,
}

/// One function, method or closure handler with its body as steps.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct FnFacts {
    pub name: String,
    pub module: Vec<String>,
    /// How many parameters it takes besides `self`; `None` for the bodies of closures, macros and
    /// spawned tasks, which no method call names.
    pub arity: Option<usize>,
    /// The `impl` type (last path segment) for methods and associated functions.
    pub self_ty: Option<String>,
    /// For a copy run with the types a caller binds its generics to: the module where those types were
    /// named, which tells apart two types of one name (`user::remove::UseCase`, `user::connect::UseCase`).
    pub bound_in: Option<Vec<String>>,
    pub trait_name: Option<String>,
    pub has_self: bool,
    pub is_async: bool,
    /// Test code (`#[test]`, `#[cfg(test)]`): never a request path.
    pub is_test: bool,
    /// The function's own `#[cfg(PRED)]` predicate: compiled in only in builds where it holds.
    pub cfg: Option<String>,
    /// The body of a task spawned and not awaited (`tokio::spawn(async { .. })`): off the request path,
    /// but its loops are still checked for N+1.
    pub detached: bool,
    /// A method of an `#[Object]` impl whose type is no GraphQL root by name: a field of the root a
    /// `MergedObject` merges it into, if one does.
    #[serde(default)]
    pub graphql_field: bool,
    /// Parameters (by position, `self` aside) that a task this function spawns calls (`tokio::spawn(async
    /// move { task_fn(..).await })`): a closure handed there runs off the request path.
    pub spawned_params: Vec<usize>,
    /// Calls of a parameter on this function's own path (`task_fn(reporter)`): the parameter's position and
    /// the call's id.
    pub param_calls: Vec<(usize, u32)>,
    /// Parameters (by position, `self` aside) it awaits itself (`execute_query.await`): a future a
    /// caller hands there runs when this function does.
    pub awaited_params: Vec<usize>,
    /// It renders a template (sailfish's `render_once()`, askama's `render()`), whose code, which may
    /// query while the page renders, is not read.
    #[serde(default)]
    pub renders_template: bool,
    /// It answers whether a request's route is listed in a constant table of paths (`SKIP_AUTH_ROUTES
    /// .iter().any(|r| r.matches(req.path(), req.method()))`): the table's name. A middleware that tests
    /// it (`if should_skip_auth(&req) { .. }`) takes, on each route, the arm the table says.
    #[serde(default)]
    pub path_table: Option<String>,
    /// Types of the values it stores in the request's extensions (`parts.extensions.insert(info.clone())`).
    pub extensions: Vec<String>,
    /// The function's name.
    pub loc: Loc,
    /// The line of the `fn` keyword (a route's line in reports).
    pub fn_line: u32,
    /// The line of its closing brace (0 where not known: closures and synthetic functions).
    pub end_line: u32,
    /// Extractor types among the parameters (`State`, `Path`, `Json`, …): evidence of a handler.
    pub extractors: Vec<String>,
    /// Parameter name → type name (`State(state): State<AppState>` gives `state` → `AppState`).
    pub params: Vec<(String, String)>,
    /// Every typed parameter's type name with its place, named or not (`_: AuthUser`).
    pub param_types: Vec<(String, Loc)>,
    /// The positions in `param_types` of parameters a library's extractor fills with the type it names
    /// (`Json<Notification>`, `Data<Pool>`): that type's own extractor does not run.
    #[serde(default)]
    pub library_extracted: Vec<usize>,
    /// The type it returns, unwrapped (`Result<Article, E>` → `Article`).
    pub returns: Option<String>,
    /// What it makes, when it hands back a trait object and the code says which types (see `made.rs`).
    #[serde(default)]
    pub made: Option<Made>,
    /// The most items the list it hands back holds, when its body says (see `bounded.rs`).
    #[serde(default)]
    pub returns_len: Option<u32>,
    /// The value it returns whatever happens, for a function that returns one `bool` literal (`fn
    /// is_enabled() -> bool { return false; }`).
    #[serde(default)]
    pub returns_bool: Option<bool>,
    /// The parameters (by position, `self` aside) it hands back as its value (`fn either<'a>(a: &'a dyn
    /// Auth, b: &'a dyn Auth, jwt: bool) -> &'a dyn Auth { if jwt { return b; } a }` gives 0 and 1).
    pub returns_params: Vec<usize>,
    /// For a method, the type arguments its `impl`'s type is written with (`impl<I: Auth> Auth for
    /// Header<I>` gives `I`): a caller that knows what the value holds binds them.
    pub self_args: Vec<String>,
    /// For a method of an `impl Trait<A, B> for T`, the trait's type arguments (`impl AsObject<User,
    /// Delete> for Comment` gives `User`, `Delete`): a caller run with those types reaches that one.
    pub trait_args: Vec<String>,
    /// For a method of an `impl a::b::Trait for T`, the module or crate the trait is named from (`b`;
    /// through the file's `use` where it is written bare): of several traits of one name, which.
    #[serde(default)]
    pub trait_qualifier: Option<String>,
    /// Generic parameter → its first trait bound (`R: Repo` gives `R` → `Repo`), with the impl's. In a
    /// copy run for one caller, a parameter the caller binds maps to `=Type` instead.
    pub generics: Vec<(String, String)>,
    /// The function's own type parameters, in order (not the impl's): a turbofish binds them.
    pub type_params: Vec<String>,
    pub body: Vec<Step>,
    /// Routes this function registers on routers it builds.
    pub routes: Vec<RouteEntry>,
    /// The layers of a gRPC server this function builds (`Server::builder().layer(auth::create(..))`),
    /// marked as [`TOWER_LAYER`]s: they run before every gRPC method the server's crate implements.
    #[serde(default)]
    pub server_layers: Vec<Vec<String>>,
    /// Routes declared by attributes on it (`#[get("/x")]`), or a gRPC method it implements.
    pub attr_routes: Vec<AttrRoute>,
}

impl FnFacts {
    /// Test code, or a body that only panics (`unimplemented!()` in the implementation a tool's dummy
    /// state needs): no function the service runs where another of its name is written.
    pub fn is_stub(&self) -> bool {
        self.is_test || matches!(self.body.as_slice(), [Step::Exit])
    }
}

/// One step of a path, in evaluation order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Step {
    Trip(Trip),
    Call(Call),
    /// Alternatives (`if`/`match`): only one runs; the costliest is the critical path.
    Branch(Vec<Vec<Step>>),
    Loop(LoopStep),
    Concurrent(Concurrent),
    /// `return` (or a panic): the steps after it in the function do not run on this path.
    Exit,
    /// `break`: the steps after it in the loop body do not run, and the loop ends.
    Break,
    /// First in a branch's arm: the arm runs only when what `on` names holds what `pattern` says
    /// (`Some`, `None`, `true`, `false`, a variant's name; `!Some` for the other arm of an `if let`). A
    /// call that passes a constant to a guarded parameter runs a copy of the function without the arms
    /// it rules out; a call whose result is matched runs, in each arm, a copy of the callee that yields
    /// what the arm needs. Costs nothing.
    Guard {
        on: Guarded,
        pattern: String,
    },
    /// Where the path ends, the value the function yields (`Ok(Next::Replay(r))` → `Replay`, `Err(..)`,
    /// `None`): at a `return`, and at the end of the arms of its final `if`/`match`. Costs nothing.
    Yields(String),
}

/// What a guard tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Guarded {
    /// The function's parameter at this position.
    Param(usize),
    /// The result of the call with this id, in the same function.
    Outcome(u32),
    /// After the leading guards of an arm of the `if`/`match` a local is bound from (`let state = if
    /// key { by_key(..).await } else { by_jwt(..) }?`): on this arm the local (`.0`, tested as
    /// `Outcome(.0)` later) holds the result of call `.1`. A later `match state { .. }` is tested, in
    /// each arm, as that arm's call's outcome. `pattern` is empty.
    Holds(u32, u32),
    /// A cache's lookup: the arm runs on a miss (`pattern` "miss", or "first" for a process-wide cell
    /// filled by its first caller); `assume.cache` picks.
    Cache,
    /// `#[cfg(PRED)]` on a match arm or a statement: the arm is compiled in only where `pattern`, the
    /// predicate, holds; `[build]` says which build is deployed.
    Cfg,
    /// A request's extensions hold a value of the type `pattern` names (`if let Some(s) =
    /// parts.extensions.get::<SessionInfo>()`), or do not (`!SessionInfo`): an extractor that runs after
    /// another has stored one takes the first arm.
    Extension,
    /// The request's method is one of those `pattern` lists (`GET,HEAD`), or none of them (`!GET`): a
    /// middleware that does its work for some methods only (`if method == Method::GET { return
    /// next.run(req).await }`) takes, on each route, the arm its method runs.
    Method,
}

pub use crate::domain::TripKind;

/// One awaited database round trip.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Trip {
    /// Per-function sequence number, for data dependencies.
    pub id: u32,
    /// The `.await` (or the call, for a stream that is polled later).
    pub loc: Loc,
    /// A row lock the query builder adds (see [`Trip::locks_rows`]).
    pub locks: bool,
    /// The method that sends it (`fetch_one`, `query_one`, `begin`).
    pub call_loc: Loc,
    pub kind: TripKind,
    /// How the code spells it, for messages: `sqlx::query(…).fetch_one`.
    pub api: String,
    pub sql: Option<String>,
    /// A constant the SQL is passed by, resolved by the model.
    pub sql_const: Option<String>,
    /// The executor expression after local aliases are resolved (`state.db`, `pool`).
    pub executor: Option<String>,
    /// Runs on one connection (`&mut` connection or a transaction): cannot run concurrently.
    pub on_connection: bool,
    /// Inside a transaction begun in the same function.
    pub in_transaction: bool,
    /// Ids of earlier trips and calls of the same function whose results this one uses.
    pub after: Vec<u32>,
    /// Read or write: fixed by the catalog, or filled by the model from the SQL.
    pub access: Option<sql::Access>,
    /// The database a catalog entry names, if any.
    pub database: Option<String>,
    /// A service (a cache, an HTTP API) rather than a database.
    pub service: bool,
    /// An in-process database (SQLite): no network round trip.
    pub in_process: bool,
    /// Sent through a pool that checks the connection with a round trip before lending it (sqlx's
    /// `test_before_acquire`); a BEGIN on such a pool is marked by the model.
    pub checkout: bool,
    /// Sent as SQL text by a library that prepares it first, in a round trip of its own
    /// (tokio-postgres' `query("SELECT …", ..)`; not a prepared statement, not `query_typed`).
    pub prepare: bool,
    /// The database endpoint, filled by the model from the topology.
    pub target: Option<crate::domain::Target>,
    /// Matched by a method's name alone (`folder.delete(&mut conn)`): the call, which the model makes of
    /// it instead when the receiver is a type of the analysed code with a method of that name.
    pub or_method: Option<Callee>,
    /// The `hopcheck.toml` entry (`[[calls]]`, `[[builders]]`, `[[clients]]`) that made it a round trip.
    pub origin: Option<u32>,
    /// What it looks up, where the statement names it by parameters, fields of them, literals and
    /// constants alone: the call chain with each parameter as `${N}` or `${N.field}`
    /// (`query(..).bind(${1.sub}).fetch_optional(${0})`).
    /// Two trips with one key on one path ask the same question of the same data.
    pub key: Option<String>,
}

impl Trip {
    /// A query round trip known only by where it is (no SQL, no executor).
    pub fn bare(id: u32, loc: Loc, api: String) -> Trip {
        Trip {
            id,
            loc,
            call_loc: loc,
            kind: TripKind::Query,
            api,
            sql: None,
            sql_const: None,
            executor: None,
            on_connection: false,
            in_transaction: false,
            after: Vec::new(),
            access: None,
            database: None,
            service: false,
            in_process: false,
            checkout: false,
            prepare: false,
            target: None,
            or_method: None,
            locks: false,
            origin: None,
            key: None,
        }
    }

    /// A read that locks the rows it reads (`SELECT … FOR UPDATE`, `.lock_exclusive()`), or a statement
    /// that locks a table (`LOCK TABLE t`): what runs after it in the transaction is meant to see what
    /// earlier holders of the lock committed.
    /// Sets the session's state for the statements after it (`SET LOCAL role ..`, `SELECT
    /// set_config('app.user', $1, true)`, a project's `SELECT set_session_context(..)`): what a
    /// transaction holds it for, such as row-level security.
    pub fn sets_session(&self) -> bool {
        self.sql.as_deref().is_some_and(|sql| {
            let upper = sql.trim_start().to_ascii_uppercase();
            upper.starts_with("SET ")
                || upper.starts_with("RESET ")
                || upper.contains("SET_CONFIG(")
                || upper
                    .strip_prefix("SELECT ")
                    .is_some_and(|rest| rest.trim_start().starts_with("SET_"))
        })
    }

    pub fn locks_rows(&self) -> bool {
        const LOCKS: [&str; 4] = [
            "FOR UPDATE",
            "FOR NO KEY UPDATE",
            "FOR SHARE",
            "FOR KEY SHARE",
        ];
        self.locks
            || self.sql.as_deref().is_some_and(|sql| {
                let upper = sql.to_ascii_uppercase();
                let words = upper.split_whitespace().collect::<Vec<_>>().join(" ");
                // `LOCK TABLE issue_data`, `LOCK issue_data IN EXCLUSIVE MODE`: a table lock.
                LOCKS.iter().any(|l| words.contains(l)) || words.starts_with("LOCK ")
            })
    }
}

/// An awaited call to some function; the model resolves it to the analysed code, if it can.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Call {
    pub id: u32,
    pub loc: Loc,
    pub callee: Callee,
    /// Awaited here; a call that is not reaches only synchronous functions (an async one just makes a
    /// future).
    pub awaited: bool,
    /// What a closure that is not `async` hands back (`.map(|c| repo.delete(c.id))`): where it calls an
    /// `async` function, the future it makes runs where the closure's results are awaited or joined.
    #[serde(default)]
    pub returned: bool,
    pub after: Vec<u32>,
    /// Filled by the model: the function this call reaches.
    pub resolved: Option<usize>,
    /// Filled by the model: a method call that may reach the analysed code, but whose receiver's type
    /// could not be read and whose name and arity fit several of its methods. It is priced as reaching
    /// none of them, and reported as unresolved rather than guessed.
    pub unresolved: bool,
    /// Hands a transaction or a connection to the callee (`load(&txn, id)`, `save(&mut conn, ..)`): its
    /// statements then run on that one connection, so such calls cannot run at once.
    pub on_connection: bool,
    /// Per argument, then a method call's receiver (`self` of the callee), the constant it passes, as a
    /// `Step::Guard` pattern reads it: `Some`, `None`, `true`, `false`, a variant's name, or `len=N` for a
    /// literal list. Empty when none.
    pub consts: Vec<Option<String>>,
    /// The types a turbofish names (`resolve::<ApubPerson, Person>(..)`, `.with::<User, Delete>(..)`),
    /// last path segments, in order: they bind the callee's own type parameters.
    pub turbofish: Vec<String>,
    /// Per argument (receiver left out), the path of fields it reads when it is one (`acc`,
    /// `self.user`), for the model to bind a callee's type parameter a value parameter is typed by.
    pub arg_paths: Vec<Vec<String>>,
    /// `<Handler as UserLister>::list_users(self, ..)`: the type the qualified path names (`Handler`), whose
    /// implementation of the trait is meant.
    pub qself: Option<String>,
    /// Known by the visitor to lead where hopcheck cannot follow (a GraphQL executor): always listed as
    /// unresolved.
    pub opaque: bool,
    /// An opaque call that runs a GraphQL schema's resolvers for the request (`schema.execute(req)`,
    /// `juniper::execute(..)`): each field's route runs this function's path with its resolver there.
    pub runs_schema: bool,
    /// Set by the model on a call through a trait object or a generic that it turned into one branch
    /// per implementation: `resolved` is that branch's implementation and stays so.
    pub chosen: bool,
    /// `helper(..).await?`: where the callee fails, this function ends there, failing too.
    pub propagates: bool,
    /// `repo.wait(id).with_timeout(d).await`: the call (not awaited) whose future this awaited method
    /// is called on. Where the method is the project's adapter of any future, that call is awaited.
    pub future_of: Option<u32>,
    /// Per argument that is itself a call made there and not awaited (`call_database(ks,
    /// Profile::find(&conn, id))`): its position and that call's id. Where the callee awaits that
    /// parameter, the inner call is awaited.
    pub handed: Vec<(usize, u32)>,
    /// A function named as an argument of another call, not called here (`handle_request(store,
    /// handle_get)`): it runs where that callee calls the parameter, and only then (see `handed`).
    #[serde(default)]
    pub named: bool,
    /// Closures handed to the call, priced where they are written: the argument's position and the ids
    /// of the round trips and calls their bodies make. The model drops them where the callee only runs
    /// that argument in a task it spawns.
    pub closures: Vec<(usize, Vec<u32>)>,
}

impl Call {
    /// An awaited call with nothing known yet of what it passes or reaches.
    pub fn new(id: u32, loc: Loc, callee: Callee) -> Call {
        Call {
            id,
            loc,
            callee,
            awaited: true,
            returned: false,
            after: Vec::new(),
            resolved: None,
            unresolved: false,
            on_connection: false,
            consts: Vec::new(),
            turbofish: Vec::new(),
            arg_paths: Vec::new(),
            qself: None,
            opaque: false,
            runs_schema: false,
            chosen: false,
            propagates: false,
            future_of: None,
            handed: Vec::new(),
            named: false,
            closures: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Callee {
    /// `orders::load(…)`, `Self::load(…)`.
    Path(Vec<String>),
    /// `self.repo.load(…)`: the method name, and the receiver as a path of fields (`["self", "repo"]`)
    /// when it is one.
    Method {
        name: String,
        receiver: Vec<String>,
        /// How many arguments it passes (besides the receiver): only a method taking as many fits.
        args: usize,
    },
    /// A request extractor a handler takes (`user: AuthUser`): its `FromRequestParts` / `FromRequest`
    /// implementation runs before the handler's body.
    Extractor(String),
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct LoopStep {
    /// The loop header (`for x in xs`), for the secondary label.
    pub loc: Loc,
    pub body: Vec<Step>,
    /// How many times it runs, when the code says (`for x in [a, b, c]`, `for i in 0..3`).
    pub count: Option<u32>,
    /// `loop { .. }` or `while true`: a worker's polling loop, not one over a collection.
    pub forever: bool,
    /// It goes over the function's parameter at this position (`for e in emails`): a call that passes a
    /// literal list there (`&[email]`) runs it that many times.
    pub over_param: Option<usize>,
    /// The field of that parameter it goes over, inside its `Some` (`if let Some(load) = &opts.load {
    /// for r in load { .. } }`): a caller whose struct holds `Some(vec![])` there runs it no time.
    #[serde(default)]
    pub over_field: Option<String>,
    /// Its body waits on a timer (`tokio::time::sleep(..).await`, `interval.tick().await`): a poll for
    /// what another process does (a job's result), not a pass over rows, nor a read-back of a write.
    pub polls: bool,
    /// Not a loop of this code: the function a closure written here is handed to, which calls it once per
    /// item of a loop of its own (`loc` is then the call).
    #[serde(default)]
    pub runs_in: Option<String>,
    /// It goes over what the call with this id returns (`for s in streams_of(t)`): a function that
    /// hands back a list of a few items written out runs it that many times.
    #[serde(default)]
    pub over_call: Option<u32>,
    /// It goes over a collection in chunks of this many (`for ids in all.chunks(1000)`): where the
    /// collection's size is assumed, it runs that many items' worth of chunks (one for a chunk of at
    /// least `assume.loop-iterations`).
    #[serde(default)]
    pub chunk: Option<u32>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Concurrent {
    pub loc: Loc,
    /// How it is spelled: `tokio::try_join!`, `join_all`.
    pub form: String,
    pub branches: Vec<Vec<Step>>,
    /// At most this many of its branch's runs at once (`.buffered(4)`, `.for_each_concurrent(4, ..)`):
    /// over a collection, its items go in rounds of that many. None where all run at once.
    #[serde(default)]
    pub at_once: Option<u32>,
}

/// A route declared on the handler itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AttrRoute {
    pub method: String,
    pub path: String,
    /// Served without being mounted (poem-openapi operations, tonic methods); others (actix-web, rocket,
    /// utoipa) need a `.service(h)` / `routes![h]` to get their prefix.
    pub standalone: bool,
    /// Only documentation (`#[utoipa::path]`): a route only where a router mounts the handler.
    pub documented: bool,
    /// The `[[route-attributes]]` entry that made the attribute a route's, if one did.
    pub origin: Option<u32>,
}

impl AttrRoute {
    /// A method that serves requests without being mounted (a tonic method, a GraphQL root's field).
    pub fn entry_point(method: &str, path: String) -> Self {
        AttrRoute {
            method: method.into(),
            path,
            standalone: true,
            documented: false,
            origin: None,
        }
    }
}

/// What a router-building function registers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum RouteEntry {
    Route {
        path: String,
        method: String,
        handler: Vec<String>,
        loc: Loc,
        /// `#[cfg(PRED)]` on the alternative that serves it (`.route("/x", { #[cfg(feature = "mcp")] {
        /// get(h) } #[cfg(not(feature = "mcp"))] { get(fallback) } })`): mounted only where PRED holds.
        cfg: Option<String>,
        /// Middleware functions a `.layer(..)` after it runs before its handler, outermost last
        /// (`.layer(middleware::from_fn_with_state(state, auth))`), as written.
        #[serde(default)]
        layers: Vec<Vec<String>>,
    },
    /// Static files served under `path` (tower-http `ServeDir`, actix-files `Files`, rocket `FileServer`):
    /// what a CDN could serve from the edge.
    Static { path: String, loc: Loc },
    /// A router made elsewhere, merged or nested under `prefix` (empty for merge).
    Mount {
        prefix: String,
        target: Vec<String>,
        loc: Loc,
        /// Middleware functions a `.layer(..)` after it runs before each of its routes, as written.
        #[serde(default)]
        layers: Vec<Vec<String>>,
    },
}

impl Step {
    /// Visits every step below this one, depth first, including nested sequences.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Step)) {
        f(self);
        for seq in self.children() {
            for step in seq {
                step.walk(f);
            }
        }
    }

    /// The nested sequences of a compound step.
    pub fn children(&self) -> Vec<&Vec<Step>> {
        match self {
            Step::Trip(_)
            | Step::Call(_)
            | Step::Exit
            | Step::Break
            | Step::Guard { .. }
            | Step::Yields(_) => Vec::new(),
            Step::Branch(alts) => alts.iter().collect(),
            Step::Loop(l) => vec![&l.body],
            Step::Concurrent(c) => c.branches.iter().collect(),
        }
    }

    pub fn children_mut(&mut self) -> Vec<&mut Vec<Step>> {
        match self {
            Step::Trip(_)
            | Step::Call(_)
            | Step::Exit
            | Step::Break
            | Step::Guard { .. }
            | Step::Yields(_) => Vec::new(),
            Step::Branch(alts) => alts.iter_mut().collect(),
            Step::Loop(l) => vec![&mut l.body],
            Step::Concurrent(c) => c.branches.iter_mut().collect(),
        }
    }
}

/// Calls `f` on every step of a sequence, depth first, mutably.
pub fn walk_mut(seq: &mut [Step], f: &mut impl FnMut(&mut Step)) {
    for step in seq {
        f(step);
        for child in step.children_mut() {
            walk_mut(child, f);
        }
    }
}

/// Keeps, at every depth, only the steps `keep` accepts.
pub fn retain_steps(seq: &mut Vec<Step>, keep: &impl Fn(&Step) -> bool) {
    seq.retain(|s| keep(s));
    for step in seq.iter_mut() {
        for child in step.children_mut() {
            retain_steps(child, keep);
        }
    }
}

/// The mark on a branch's arm that returns what a cache holds (`if let Some(v) = cache.get(&k) {
/// return v }`): see [`cache_aside`].
pub const CACHE_PROBE: &str = "probe";

/// The mark on the arm of a library's cached lookup that runs its loader on a miss (moka's
/// `try_get_with(k, load)`): the library puts what the loader made in the cache, so the same lookup
/// again in the request finds it (see `model::lookups`). A project's own cache-aside lookup is marked
/// `miss`: whether its miss fills the cache on every path that goes on is not read.
pub const CACHE_FILLS: &str = "fills";

/// Gives a cache-aside lookup its meaning: after `if let Some(v) = cache.get(&k) { return v }` (or `if
/// cache.contains_key(&k) { return }`), what follows runs only on a miss. It becomes the other arm of the
/// probe's branch, guarded as a miss, so that `assume.cache` prices the hit (the usual case: the return)
/// or the miss (the worst: the load). Returns whether such a lookup guards round trips here.
pub fn cache_aside(seq: &mut Vec<Step>) -> bool {
    let probe = |a: &Vec<Step>| matches!(a.first(), Some(Step::Guard { on: Guarded::Cache, pattern }) if pattern == CACHE_PROBE);
    let Some(at) = seq
        .iter()
        .position(|s| matches!(s, Step::Branch(alts) if alts.iter().any(probe)))
    else {
        return false;
    };
    let mut rest = seq.split_off(at + 1);
    let guards_io = rest.iter().any(has_io);
    let nested = cache_aside(&mut rest);
    let Some(Step::Branch(alts)) = seq.last_mut() else {
        return nested;
    };
    // The hit's arm stays even where it may fall through (`Some(v) => match parse(v) { Ok(r) => return
    // r, Err(_) => {} }`); the arms that only fall through lead to the miss.
    let kept: Vec<bool> = alts.iter().map(|a| probe(a) || ends_in_exit(a)).collect();
    for alt in alts.iter_mut().filter(|a| probe(a)) {
        alt.remove(0);
    }
    if guards_io {
        let mut miss = vec![Step::Guard {
            on: Guarded::Cache,
            pattern: "miss".into(),
        }];
        miss.append(&mut rest);
        let mut keep = kept.into_iter();
        alts.retain(|_| keep.next().unwrap_or(false));
        alts.push(miss);
        return true;
    }
    seq.append(&mut rest);
    // `match cached { Some(c) => c, _ => load().await }` as the function's value: the other arms that
    // make round trips are the misses.
    let mut in_arms = false;
    if rest_is_empty_after(seq, at) {
        if let Some(Step::Branch(alts)) = seq.get_mut(at) {
            for alt in alts
                .iter_mut()
                .filter(|a| !a.is_empty() && a.iter().any(has_io))
            {
                if !matches!(
                    alt.first(),
                    Some(Step::Guard {
                        on: Guarded::Cache,
                        ..
                    })
                ) {
                    alt.insert(
                        0,
                        Step::Guard {
                            on: Guarded::Cache,
                            pattern: "miss".into(),
                        },
                    );
                    in_arms = true;
                }
            }
        }
    }
    in_arms || nested
}

/// Whether nothing follows the branch at `at` in `seq`: it ends the function.
fn rest_is_empty_after(seq: &[Step], at: usize) -> bool {
    seq.len() == at + 1
}

/// How many steps [`fold_exits`] may copy into branches' other arms, in all, for one sequence.
const MAX_FOLDED_STEPS: usize = 2048;

/// Gives early returns their meaning: in `if c { a; return } rest`, `rest` runs only when the branch is
/// not taken, so it moves into the alternatives that fall through, however deeply the `return` is
/// nested (`if a { if b { q; return } }`). Branches whose exits make no round trip are left alone (their
/// path is never the costly one).
///
/// Where several arms fall through, each gets its own copy of what follows; a long function of many
/// such branches would grow exponentially, so past [`MAX_FOLDED_STEPS`] copied steps what follows stays
/// after the branch. The price reads exits either way (`Costs::split`); the copies only make a
/// finding's path exact.
pub fn fold_exits(seq: &mut Vec<Step>) {
    let mut budget = MAX_FOLDED_STEPS;
    fold_within(seq, &mut budget);
}

fn fold_within(seq: &mut Vec<Step>, budget: &mut usize) {
    let Some(i) = seq.iter().position(|s| match s {
        Step::Branch(alts) => alts.iter().any(|a| may_exit(a) && a.iter().any(has_io)),
        _ => false,
    }) else {
        return;
    };
    let Some(Step::Branch(alts)) = seq.get(i) else {
        return;
    };
    let receivers = alts.iter().filter(|a| !ends_in_exit(a)).count();
    if receivers > 1 {
        let mut size = 0usize;
        for step in &seq[i + 1..] {
            step.walk(&mut |_| size += 1);
        }
        let copied = size.saturating_mul(receivers - 1);
        if copied > *budget {
            return;
        }
        *budget -= copied;
    }
    let rest = seq.split_off(i + 1);
    if rest.is_empty() {
        return;
    }
    let Some(Step::Branch(alts)) = seq.last_mut() else {
        return;
    };
    for alt in alts.iter_mut().filter(|a| !ends_in_exit(a)) {
        alt.extend(rest.iter().cloned());
        fold_within(alt, budget);
    }
}

fn ends_in_exit(seq: &[Step]) -> bool {
    matches!(seq.last(), Some(Step::Exit | Step::Break))
}

/// Some path through the sequence ends in `return` or `break` (loops nested in it excepted).
fn may_exit(seq: &[Step]) -> bool {
    seq.iter().any(|s| match s {
        Step::Exit | Step::Break => true,
        Step::Branch(alts) => alts.iter().any(|a| may_exit(a)),
        _ => false,
    })
}

/// True if some path through a loop body makes a round trip and then comes back for another
/// iteration; false when every path with a round trip ends in `return` or `break`.
pub fn repeats_io(body: &[Step]) -> bool {
    // The possible states of the paths still running: (made a round trip so far?).
    fn run(seq: &[Step], mut states: Vec<bool>) -> Vec<bool> {
        for step in seq {
            if states.is_empty() {
                break;
            }
            match step {
                Step::Exit | Step::Break => states.clear(),
                Step::Branch(alts) => {
                    let mut next = Vec::new();
                    for alt in alts {
                        for s in run(alt, states.clone()) {
                            if !next.contains(&s) {
                                next.push(s);
                            }
                        }
                    }
                    states = next;
                }
                other if has_io(other) => {
                    states = vec![true];
                }
                _ => {}
            }
        }
        states
    }
    run(body, vec![false]).contains(&true)
}

/// Removes the `break`s that belong to a loop being flattened (not those of loops nested in it).
pub fn strip_breaks(seq: &mut Vec<Step>) {
    seq.retain(|s| !matches!(s, Step::Break));
    for step in seq {
        if let Step::Branch(alts) = step {
            alts.iter_mut().for_each(strip_breaks);
        }
    }
}

/// True if a step makes or may make a round trip (a trip or a call).
pub fn has_io(step: &Step) -> bool {
    let mut found = false;
    step.walk(&mut |s| found |= matches!(s, Step::Trip(_) | Step::Call(_)));
    found
}

/// Methods of the standard library's values (collections, options, strings) that never leave the
/// process, whatever their receiver.
pub const IN_MEMORY_METHODS: &[&str] = &[
    "as_ref",
    "as_str",
    "clone",
    "cloned",
    "collect",
    "contains",
    "contains_key",
    "entry",
    "expect",
    "extend",
    "get",
    "get_mut",
    "get_or_insert_with",
    "insert",
    "into",
    "is_empty",
    "is_none",
    "is_some",
    "iter",
    "len",
    "map",
    "ok",
    "or_default",
    "or_insert",
    "or_insert_with",
    "parse",
    "push",
    "push_str",
    "remove",
    "to_owned",
    "to_string",
    "unwrap",
    "unwrap_or",
    "unwrap_or_default",
    "unwrap_or_else",
];

/// Whether a function's body branches on a cached lookup whose miss may cost something: its arm sends
/// a round trip or makes a call that may (calls are not resolved yet), not only builds values.
pub fn costly_miss(body: &[Step]) -> bool {
    fn may_cost(arm: &[Step]) -> bool {
        let mut found = false;
        for step in arm {
            step.walk(&mut |s| {
                found |= match s {
                    Step::Trip(t) => !t.in_process,
                    Step::Call(c) => match &c.callee {
                        Callee::Method { name, .. } => {
                            c.awaited || !IN_MEMORY_METHODS.contains(&name.as_str())
                        }
                        Callee::Path(path) => {
                            let std = matches!(
                                path.first().map(String::as_str),
                                Some("std" | "core" | "alloc")
                            );
                            let build = matches!(
                                path.last().map(String::as_str),
                                Some("new" | "default" | "from" | "with_capacity")
                            );
                            !std && !build
                        }
                        Callee::Extractor(_) => true,
                    },
                    _ => false,
                };
            });
        }
        found
    }
    let mut found = false;
    for step in body {
        step.walk(&mut |s| {
            if let Step::Branch(alts) = s {
                found |= alts.iter().any(|a| {
                    matches!(
                        a.first(),
                        Some(Step::Guard {
                            on: Guarded::Cache,
                            ..
                        })
                    ) && may_cost(a)
                });
            }
        });
    }
    found
}

#[cfg(test)]
mod tests {
    use super::TypeRef;

    /// Each way the visitor writes a type reads back as what it says.
    #[test]
    fn written_types_read_back() {
        assert_eq!(TypeRef::parse("User"), Some(TypeRef::Named("User")));
        assert_eq!(TypeRef::parse("Org.app"), Some(TypeRef::Named("Org.app")));
        assert_eq!(
            TypeRef::parse("~state.0.database"),
            Some(TypeRef::Place(vec!["state", "0", "database"]))
        );
        assert_eq!(
            TypeRef::parse("=>Article::find"),
            Some(TypeRef::Returned(vec!["Article", "find"]))
        );
        assert_eq!(
            TypeRef::parse("->state.accounts.get/1"),
            Some(TypeRef::MethodReturns {
                base: vec!["state", "accounts"],
                method: "get",
                args: 1
            })
        );
        assert_eq!(
            TypeRef::parse("=>Article::with_author#1"),
            Some(TypeRef::Element(
                Box::new(TypeRef::Returned(vec!["Article", "with_author"])),
                1
            ))
        );
        assert_eq!(
            TypeRef::parse("=>(value@1;;state.key)auth::either"),
            Some(TypeRef::CalledWith {
                path: vec!["auth", "either"],
                args: vec![vec!["value@1"], vec![], vec!["state", "key"]]
            })
        );
        assert_eq!(
            TypeRef::parse("(:tuple@2_0,tuple@2_1"),
            Some(TypeRef::Tuple(vec!["tuple@2_0", "tuple@2_1"]))
        );
        // A method-returns type whose argument count is not a number is not read as one.
        assert_eq!(TypeRef::parse("->state.get/x"), None);
    }
}

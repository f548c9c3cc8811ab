//! Knowledge of routers: the builder chains of axum (`route`, `nest`, `merge`, `route_service`), aide
//! (`api_route`), utoipa-axum (`routes!`), actix-web (`App`, `web::scope`, `web::resource`, `service`,
//! `configure`, `web::get().to(h)`), rocket (`mount`, `routes!`), poem (`Route::new().at(..)`) and loco
//! (`Routes::new().prefix(..).add(..)`); method routers (`get(h).post(h2)`, `on(MethodFilter::GET, h)`);
//! route attributes (`#[get("/x")]`, `#[oai(..)]`, `#[utoipa::path(..)]`) and extractor types.
//!
//! It reads one expression at a time and returns route entries; locals and closure handlers are the
//! visitor's business, reached through [`RouterEnv`]. It never resolves names across files.

use syn::punctuated::Punctuated;
use syn::{Expr, ExprMethodCall, Token};

use super::driver::{last_segment, path_segments};
use super::{AttrRoute, Loc, RouteEntry};

/// What router evaluation needs from the visitor.
pub trait RouterEnv {
    /// A local router variable, which is consumed by the expression using it.
    fn take_local(&mut self, name: &str) -> Option<Router>;
    /// Holds `router` in the local `name` again (an arm of a `match` grows the router the arm before
    /// consumed).
    fn give_local(&mut self, name: &str, router: Router);
    /// Is this name a parameter that collects routes (actix's `cfg: &mut web::ServiceConfig`)?
    fn is_route_sink(&self, name: &str) -> bool;
    /// Registers a closure used as a handler and returns the name it is known by.
    fn closure_handler(&mut self, closure: &syn::ExprClosure) -> Vec<String>;
    /// Walks an argument the router does not consume (a layer, a fairing that mounts more routes).
    fn walk(&mut self, expr: &Expr);
    /// The name a closure handler held in a local (`let health = || async { .. };`) is known by.
    fn closure_local(&self, name: &str) -> Option<Vec<String>>;
    /// The type of a local the code spells (`let auth = BiscuitAuth { .. };`), if it names one.
    fn local_type(&self, _name: &str) -> Option<String> {
        None
    }
    /// What a method router held in a local serves (`let delete_route = post(delete_card);`).
    fn method_local(&self, name: &str) -> Option<Vec<(String, Vec<String>)>>;
    /// The layers of a tower `ServiceBuilder` held in a local (`let middleware =
    /// ServiceBuilder::new().layer(AuthLayer::new(..));`), outermost first.
    fn layer_stack(&self, _name: &str) -> Option<Vec<Vec<String>>> {
        None
    }
    fn loc(&self, span: proc_macro2::Span) -> Loc;
    /// The method of a helper of the analysed file that wraps a method router around its one argument
    /// (`fn get_internal<H>(h: H) -> MethodRouter { get(h).layer(..) }` → `GET`).
    fn method_helper(&self, name: &str) -> Option<String>;
    /// The file uses salvo, whose routers serve methods by name (`Router::with_path("x").get(h)`).
    fn salvo(&self) -> bool {
        false
    }
    /// The flag function an enclosing `if` tests (`if config::is_auth_enabled() { app = app.layer(..)
    /// }`, `!`-prefixed where negated): a layer added there is put on only where it holds.
    fn layer_condition(&self) -> Option<String> {
        None
    }
    /// Does the local `name` hold a router being built?
    fn holds_router(&self, _name: &str) -> bool {
        false
    }
    /// Is `name` a parameter holding a router the caller builds and hands in (`fn with_auth(router:
    /// Router) -> Router { router.layer(..) }`), whose layers then run on the caller's routes?
    /// What an invocation of the analysed code's own `macro_rules!` stands for, as an expression
    /// (`expand_version!("guilds")` → `{ use crate::API_VERSION; format!("/v{}/{}", API_VERSION,
    /// "guilds").as_str() }`).
    fn expand_macro(&self, _m: &syn::Macro) -> Option<Expr> {
        None
    }
    fn handed_router(&self, _name: &str) -> bool {
        false
    }
}

/// If `f` takes one argument and returns a method router made of it (`get(h)`, `post(h).layer(..)`):
/// that router's method.
pub fn method_helper(f: &syn::ItemFn) -> Option<String> {
    let [syn::FnArg::Typed(arg)] = f.sig.inputs.iter().collect::<Vec<_>>().as_slice() else {
        return None;
    };
    let syn::Pat::Ident(param) = &*arg.pat else {
        return None;
    };
    let tail = match f.block.stmts.last()? {
        syn::Stmt::Expr(e, None) => e,
        _ => return None,
    };
    let (root, _) = super::driver::chain(tail);
    let Expr::Call(call) = root else { return None };
    let Expr::Path(p) = &*call.func else {
        return None;
    };
    let name = last_segment(&p.path);
    let base = name.trim_end_matches("_service");
    let takes_param = matches!(
        call.args.first(),
        Some(Expr::Path(a)) if a.path.is_ident(&param.ident)
    );
    (METHODS.contains(&base) && call.args.len() == 1 && takes_param).then(|| method_name(base))
}

/// Extractor types whose presence among a function's parameters marks it as a handler.
pub const EXTRACTORS: &[&str] = &[
    "State",
    "Path",
    "Query",
    "Json",
    "Form",
    "Extension",
    "TypedHeader",
    "Multipart",
    "WebSocketUpgrade",
    "ConnectInfo",
    "RawQuery",
    "OriginalUri",
    "MatchedPath",
    "RawForm",
    "Host",
];

/// Macros that list handlers with route attributes: rocket's and utoipa-axum's `routes!`, rocket_okapi's.
pub const ROUTE_LIST_MACROS: &[&str] = &["routes", "openapi_get_routes", "openapi_get_routes_spec"];

/// Methods on a router that keep its routes and add none.
const ROUTER_PASSTHROUGH: &[&str] = &[
    // axum
    "layer",
    "route_layer",
    "with_state",
    "fallback",
    "fallback_service",
    "method_not_allowed_fallback",
    "into_make_service",
    "into_make_service_with_connect_info",
    "into_service",
    "boxed",
    "clone",
    "finish_api",
    "split_for_parts",
    "into_axum_router",
    // routerify
    "middleware",
    "err_handler",
    "err_handler_with_info",
    "build",
    // actix-web
    "wrap",
    "wrap_fn",
    "app_data",
    "data",
    "guard",
    "name",
    "external_resource",
    // rocket
    "attach",
    "manage",
    "register",
    // poem, poem-openapi
    "with",
    "around",
    "catch_error",
    "catch_all_error",
    "server",
    "summary",
    "description",
    "terms_of_service",
    "contact",
    "license",
    "external_document",
    "url_prefix",
    "extra_request_header",
    "extra_response_header",
];

const METHODS: &[&str] = &[
    "get", "post", "put", "delete", "patch", "head", "options", "trace", "connect", "any",
];

/// Calls that start an empty router.
const ROOTS: &[&[&str]] = &[
    &["Router", "new"],
    &["Router", "default"],
    &["ApiRouter", "new"],
    &["OpenApiRouter", "new"],
    &["App", "new"],
    &["Route", "new"],
    &["Routes", "new"],
    &["AppRoutes", "with_default_routes"],
    &["AppRoutes", "empty"],
    &["rocket", "build"],
    &["rocket", "custom"],
    // rocket 0.4.
    &["rocket", "ignite"],
    // routerify.
    &["Router", "builder"],
];

/// Calls that build a router from something else (`OpenApiService::new(Api, ..)`).
const BUILT: &[&[&str]] = &[&["OpenApiService", "new"]];

/// A call on a router that keeps its routes (a layer, a state, a fallback).
pub fn is_passthrough(method: &str) -> bool {
    ROUTER_PASSTHROUGH.contains(&method)
}

/// A call that makes a router (an empty one, or one built from its arguments).
pub fn makes_router(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else { return false };
    let Expr::Path(p) = &*call.func else {
        return false;
    };
    let segs = path_segments(&p.path);
    // actix's `web::scope("/customers")` and `web::resource("/x")` (held in a local and added to).
    let scoped = call.args.len() == 1
        && match segs.as_slice() {
            [.., last] if last == "scope" || last == "resource" => true,
            [.., ty, new] => new == "new" && (ty == "Scope" || ty == "Resource"),
            _ => false,
        };
    is_router_root(expr)
        || scoped
        || salvo_root(expr)
        || BUILT
            .iter()
            .any(|b| segs.len() >= 2 && segs[segs.len() - 2..] == b[..])
}

fn first_is_str(call: &ExprMethodCall) -> bool {
    matches!(
        call.args.first(),
        Some(Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(_),
            ..
        }))
    )
}

/// The first argument is a path: a string that starts with `/`.
fn first_is_path(call: &ExprMethodCall) -> bool {
    matches!(
        call.args.first(),
        Some(Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        })) if s.value().starts_with('/')
    )
}

/// True if this method call looks like a router operation (so its chain is a router).
pub fn is_router_op(call: &ExprMethodCall) -> bool {
    let name = call.method.to_string();
    // Arguments under `#[cfg(..)]` are alternatives for one place (see `arg_builds`).
    let alternatives = call
        .args
        .iter()
        .filter(|a| crate::build::expr_predicate(a).is_some())
        .count();
    let arity = call.args.len() - alternatives.saturating_sub(1);
    match (name.as_str(), arity) {
        (
            "route" | "nest" | "route_service" | "nest_service" | "nest_no_strip" | "at" | "add"
            | "api_route" | "mount" | "nest_route" | "nest_api_service" | "route_with_tsr",
            2,
        ) => {
            first_is_str(call) || computed_route(call) || composed_prefix(call) || chosen_path(call)
        }
        ("api_route_with", 3) => first_is_str(call),
        // routerify's `.get("/users/:id", h)` and `.scope("/api", api_router())`.
        (method, 2) if METHODS.contains(&method) || method == "any_method" || method == "scope" => {
            first_is_path(call)
        }
        ("merge" | "configure" | "add_route" | "service" | "routes", 1) => true,
        // actix `web::resource("/x").route(web::get().to(h))`, `.to(h)`, `.default_service(web::to(h))`.
        ("route", 1) => is_actix_route(&call.args[0]),
        ("to" | "to_async" | "default_service", 1) => true,
        ("prefix", 1) => first_is_str(call),
        // axum-extra's `Resource::named("users").index(list).show(get_one)`: its conventional routes.
        (
            "index" | "create" | "new" | "show" | "edit" | "update" | "destroy" | "nest"
            | "nest_collection",
            1,
        ) => resource_rooted(&call.receiver),
        // axum-extra's `.typed_get(handler)`: served where the handler's typed path says.
        (typed, 1) => typed
            .strip_prefix("typed_")
            .is_some_and(|m| METHODS.contains(&m) && m != "any"),
        _ => false,
    }
}

/// A router operation, or a layer, state or fallback put on the result of one (`Router::new().route(..)
/// .layer(..)`): the whole chain is one router.
pub fn is_router_chain(call: &ExprMethodCall) -> bool {
    if is_router_op(call) {
        return true;
    }
    if !ROUTER_PASSTHROUGH.contains(&call.method.to_string().as_str()) {
        return false;
    }
    match &*call.receiver {
        Expr::MethodCall(inner) => is_router_chain(inner),
        _ => false,
    }
}

/// A chain that starts at axum-extra's `Resource::named(..)`.
fn resource_rooted(expr: &Expr) -> bool {
    let mut e = expr;
    while let Expr::MethodCall(m) = e {
        e = &m.receiver;
    }
    resource_name(e).is_some()
}

/// The name of axum-extra's `Resource::named("users")`: its routes are under `/users`.
fn resource_name(expr: &Expr) -> Option<String> {
    let Expr::Call(call) = expr else { return None };
    let Expr::Path(p) = &*call.func else {
        return None;
    };
    let segs = path_segments(&p.path);
    if segs.len() < 2 || segs[segs.len() - 2..] != ["Resource", "named"] {
        return None;
    }
    match call.args.first() {
        Some(Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        })) if call.args.len() == 1 => Some(s.value()),
        _ => None,
    }
}

/// `.mount([basepath, "/api"].concat(), routes())`, `.nest(&format!("{base}/v1"), api)`: a prefix the code
/// puts together from literals and names; or one it reads from its configuration (`.nest(&CFG.api_prefix,
/// api())`), kept as written (`/{CFG.api_prefix}`), as hopcheck cannot know it.
fn composed_prefix(call: &ExprMethodCall) -> bool {
    let mut prefix = &call.args[0];
    while let Expr::Reference(r) = prefix {
        prefix = &r.expr;
    }
    let configured = matches!(prefix, Expr::Field(_) | Expr::MethodCall(_));
    matches!(
        call.method.to_string().as_str(),
        "mount" | "nest" | "nest_service" | "nest_no_strip" | "nest_route" | "nest_api_service"
    ) && (path_parts(prefix).is_some() || configured)
}

/// `.nest(match tenancy { Multi => "/{account}/{dataset}", Single => "/{dataset}" }, router)`: a path
/// the configuration chooses among literals (see [`path_alternatives`]).
fn chosen_path(call: &ExprMethodCall) -> bool {
    let is_str = |e: &&Expr| {
        matches!(
            e,
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(_),
                ..
            })
        )
    };
    matches!(call.args.first(), Some(e @ (Expr::Match(_) | Expr::If(_)))
        if arm_values(e).is_some_and(|values| values.iter().all(is_str)))
}

/// The values the arms of a `match` or an `if`/`else` end with, through nested ones, blocks and
/// parentheses; `None` where an arm ends in no value or an `if` has no `else`.
fn arm_values(e: &Expr) -> Option<Vec<&Expr>> {
    let arms: Vec<&Expr> = match e {
        Expr::Paren(p) => return arm_values(&p.expr),
        Expr::Block(_) => return arm_values(tail(e)?),
        Expr::Match(m) if !m.arms.is_empty() => m.arms.iter().map(|a| &*a.body).collect(),
        Expr::If(i) => if_arm_tails(i)?,
        _ => return Some(vec![e]),
    };
    let mut out = Vec::new();
    for arm in arms {
        out.extend(arm_values(tail(arm)?)?);
    }
    Some(out)
}

/// `.route(&routes.login, web::post().to(login))`, `.route(&path, get(h))`, `.route(&format!("{}/users",
/// root), get(h))`: a route whose path is a value the code computes, served by a method router.
fn computed_route(call: &ExprMethodCall) -> bool {
    let mut path = &call.args[0];
    while let Expr::Reference(r) = path {
        path = &r.expr;
    }
    // `get(h)`, and the other methods, layers and state chained on it (`get(list).post(create)`,
    // `post(h).with_state(tracker)`).
    let mut served = &call.args[1];
    while let Expr::MethodCall(m) = served {
        let method = m.method.to_string();
        if !METHODS.contains(&method.as_str()) && !ROUTER_PASSTHROUGH.contains(&method.as_str()) {
            break;
        }
        served = &m.receiver;
    }
    let method_router = is_actix_route(served)
        || matches!(served, Expr::Call(c) if matches!(&*c.func, Expr::Path(p)
            if METHODS.contains(&last_segment(&p.path).as_str())));
    // A name, a field, a path put together, or a call that hands one back
    // (`mas_router::Healthcheck::route()`, `routes.login()`), kept as written where it cannot be read.
    // A path a macro of the code writes (`.route(expand_version!("guilds"), post(create))`, also as
    // the block it expands to) too.
    let computed = matches!(
        path,
        Expr::Path(_)
            | Expr::Field(_)
            | Expr::Call(_)
            | Expr::MethodCall(_)
            | Expr::Macro(_)
            | Expr::Block(_)
    ) || path_parts(path).is_some();
    call.method == "route" && computed && method_router
}

/// actix's `.to(h)`, or actix-web 1's `.to_async(h)` for a handler that hands back a future.
fn serves(method: &str) -> bool {
    matches!(method, "to" | "to_async")
}

/// `web::get().to(h)`, `web::method(Method::GET).to(h)`, `get().to(h)`.
fn is_actix_route(expr: &Expr) -> bool {
    matches!(expr, Expr::MethodCall(m) if serves(&m.method.to_string()))
}

/// Does this chain of method calls start at a router: a router's constructor (`App::new()`,
/// `web::scope("/api")`) or a parameter the function adds routes to?
fn starts_at_router(expr: &Expr, env: &dyn RouterEnv) -> bool {
    let mut e = expr;
    while let Expr::MethodCall(m) = e {
        e = &m.receiver;
    }
    match e {
        Expr::Path(p) => p
            .path
            .get_ident()
            .is_some_and(|i| env.is_route_sink(&i.to_string())),
        Expr::Call(call) => {
            is_router_root(e)
                || matches!(&*call.func, Expr::Path(p) if starts_scope(&path_segments(&p.path)))
        }
        _ => false,
    }
}

/// actix `web::scope("/api")`, `web::resource("/x")`, `Scope::new(..)`: a call that starts a scope.
fn starts_scope(segs: &[String]) -> bool {
    match segs {
        [.., ty, new] if new == "new" => matches!(ty.as_str(), "Scope" | "Resource"),
        [.., name] => matches!(name.as_str(), "scope" | "resource"),
        [] => false,
    }
}

/// A call that starts an empty router.
pub fn is_router_root(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else { return false };
    let Expr::Path(p) = &*call.func else {
        return false;
    };
    let segs = path_segments(&p.path);
    ROOTS
        .iter()
        .any(|root| segs.len() >= 2 && segs[segs.len() - 2..] == root[..])
}

/// A router being built: entries relative to its own prefix (actix `web::scope("/api")` and
/// `web::resource("/x")`, loco `.prefix(..)`); `finish` applies it. A router held in a local keeps its
/// prefix unapplied, so that what is added to it later (`route = route.service(..)`) is under it too.
#[derive(Default, Debug, Clone)]
pub struct Router {
    prefix: String,
    entries: Vec<RouteEntry>,
    /// actix's middleware (`.wrap_fn(auth)`, `.wrap(from_fn(auth))`): it runs on every service of the
    /// app or scope, those added after it as those before.
    wrapped: Vec<Vec<String>>,
    /// The name of axum-extra's `Resource::named("users")` this router is: `.show(h)` serves
    /// `/users/{users_id}`.
    resource: Option<String>,
}

impl Router {
    /// The router a function of the analysed code returns (`create_api_router()`).
    pub fn made_by(target: Vec<String>, loc: Loc) -> Router {
        Router {
            prefix: String::new(),
            entries: vec![RouteEntry::Mount {
                prefix: String::new(),
                target,
                loc,
                layers: Vec::new(),
            }],
            ..Router::default()
        }
    }

    /// Adds routes that another router made, with their own prefixes.
    pub fn extend(&mut self, entries: Vec<RouteEntry>) {
        let prefix = std::mem::take(&mut self.prefix);
        let mut mine = std::mem::take(&mut self.entries);
        if !prefix.is_empty() {
            mine = mine.into_iter().map(|e| prefixed(e, &prefix)).collect();
        }
        mine.extend(entries);
        self.entries = mine;
    }

    /// The same router without its routes: its prefix and middleware, for what is added to it next.
    pub fn emptied(&self) -> Router {
        Router {
            entries: Vec::new(),
            ..self.clone()
        }
    }

    pub fn finish(self) -> Vec<RouteEntry> {
        if self.prefix.is_empty() {
            return self.entries;
        }
        let prefix = self.prefix;
        self.entries
            .into_iter()
            .map(|e| prefixed(e, &prefix))
            .collect()
    }
}

/// Evaluates a router expression into its entries; `None` if it is not a router.
pub fn eval_router(expr: &Expr, env: &mut dyn RouterEnv) -> Option<Vec<RouteEntry>> {
    eval(expr, env).map(Router::finish)
}

/// Evaluates a router expression whose value a local holds: its prefix is kept for what is added later.
pub fn eval_local_router(expr: &Expr, env: &mut dyn RouterEnv) -> Option<Router> {
    eval(expr, env)
}

fn eval(expr: &Expr, env: &mut dyn RouterEnv) -> Option<Router> {
    match expr {
        Expr::Paren(p) => eval(&p.expr, env),
        Expr::Group(g) => eval(&g.expr, env),
        Expr::Try(t) => eval(&t.expr, env),
        Expr::Reference(r) => eval(&r.expr, env),
        _ if is_router_root(expr) => Some(Router::default()),
        Expr::Call(call) => {
            let Expr::Path(p) = &*call.func else {
                return None;
            };
            let segs = path_segments(&p.path);
            let name = segs.last().map(String::as_str).unwrap_or("");
            // actix `web::scope("/api")`, `web::resource("/x")` (or `["/a", "/b"]`), `Scope::new(..)`.
            let scoped = starts_scope(&segs);
            if let Some(resource) = resource_name(expr) {
                return Some(Router {
                    prefix: join_path("/", &resource),
                    resource: Some(resource),
                    ..Router::default()
                });
            }
            // salvo's `Router::with_path("v1/event_reports")`, `Router::with_hoop(auth)`.
            if salvo_root(expr) {
                let mut r = Router::default();
                match name {
                    "with_path" => r.prefix = salvo_path(&call.args[0], env)?,
                    _ => {
                        if let Some(hoop) = hoop_fn(&call.args[0]) {
                            r.wrapped.push(hoop);
                        }
                    }
                }
                return Some(r);
            }
            if scoped && call.args.len() == 1 {
                let prefix = match &call.args[0] {
                    Expr::Array(a) => a
                        .elems
                        .first()
                        .and_then(|e| str_lit(e, env))
                        .map(|(s, _)| s),
                    other => str_lit(other, env)
                        .or_else(|| written_path(other, env))
                        .map(|(s, _)| s),
                };
                if let Some(prefix) = prefix {
                    return Some(Router {
                        prefix,
                        entries: Vec::new(),
                        ..Router::default()
                    });
                }
            }
            // poem-openapi `OpenApiService::new(Api, ..)` or `OpenApiService::new((A, B), ..)`: the
            // operations of those types, mounted where the service is nested.
            if segs.len() >= 2 && segs[segs.len() - 2..] == ["OpenApiService", "new"] {
                let apis: Vec<&Expr> = match call.args.first() {
                    Some(Expr::Tuple(t)) => t.elems.iter().collect(),
                    Some(other) => vec![other],
                    None => Vec::new(),
                };
                let entries = apis
                    .into_iter()
                    .filter_map(|a| match a {
                        Expr::Path(p) => Some(RouteEntry::Mount {
                            prefix: String::new(),
                            target: path_segments(&p.path),
                            loc: env.loc(syn::spanned::Spanned::span(&p.path)),
                            layers: Vec::new(),
                        }),
                        _ => None,
                    })
                    .collect();
                return Some(Router {
                    prefix: String::new(),
                    entries,
                    ..Router::default()
                });
            }
            // A router made by another function: `api::router()`, `routes(state.clone())`. A router
            // passed to it (`with_auth(users::router())`) is taken to come back out of it.
            let mut entries = vec![RouteEntry::Mount {
                prefix: String::new(),
                target: segs.clone(),
                loc: env.loc(syn::spanned::Spanned::span(&p.path)),
                layers: Vec::new(),
            }];
            let mut handed: Vec<Router> = Vec::new();
            for arg in &call.args {
                let routerish = match arg {
                    Expr::Call(_) | Expr::Path(_) => true,
                    Expr::MethodCall(m) => {
                        is_router_op(m) || is_router_root(super::driver::chain(arg).0)
                    }
                    _ => false,
                };
                if routerish {
                    handed.extend(eval(arg, env));
                }
            }
            // One scope handed in (`endpoints(scope("/experiments"))`, `fn endpoints(scope: Scope) ->
            // Scope { scope.service(..) }`): what the function adds is under that scope's prefix.
            if let [one] = &mut handed[..] {
                if !one.prefix.is_empty() {
                    let mut r = std::mem::take(one);
                    entries.append(&mut r.entries);
                    r.entries = entries;
                    return Some(r);
                }
            }
            // What the function puts on the router it is handed (`with_auth(router)` adds an auth layer)
            // runs on the routes handed to it.
            let marker: Vec<String> = std::iter::once(super::HANDED_LAYERS.to_string())
                .chain(segs.iter().cloned())
                .collect();
            for inner in handed {
                let mut handed_entries = inner.finish();
                add_layer(&mut handed_entries, &marker);
                entries.extend(handed_entries);
            }
            Some(Router {
                prefix: String::new(),
                entries,
                ..Router::default()
            })
        }
        Expr::Macro(m) if last_segment(&m.mac.path) == "mount_endpoints_and_merged_docs" => {
            okapi_mounts(m.mac.tokens.clone(), env)
        }
        // `(routes, spec)` (rocket_okapi's `openapi_get_routes_spec!`): the routes.
        Expr::Tuple(t) if t.elems.len() == 2 => eval(&t.elems[0], env),
        // rocket `routes![a, b]`, utoipa-axum `routes!(a, b)`, rocket_okapi `openapi_get_routes![a, b]`
        // and `openapi_get_routes_spec![a, b]`: handlers with route attributes.
        Expr::Macro(m) if ROUTE_LIST_MACROS.contains(&last_segment(&m.mac.path).as_str()) => {
            let paths = syn::parse::Parser::parse2(
                Punctuated::<syn::Path, Token![,]>::parse_terminated,
                m.mac.tokens.clone(),
            )
            .ok()?;
            let loc = env.loc(syn::spanned::Spanned::span(&m.mac.path));
            let entries = paths
                .iter()
                .map(|p| RouteEntry::Mount {
                    prefix: String::new(),
                    target: path_segments(p),
                    loc,
                    layers: Vec::new(),
                })
                .collect();
            Some(Router {
                prefix: String::new(),
                entries,
                ..Router::default()
            })
        }
        Expr::Path(p) if p.path.segments.len() == 1 => {
            let name = last_segment(&p.path);
            if let Some(local) = env.take_local(&name) {
                return Some(local);
            }
            // The routes the caller hands in stand in the router as one mount, which gathers the layers
            // this function puts on them.
            if env.handed_router(&name) {
                return Some(Router::made_by(
                    vec![super::HANDED_ROUTER.to_string()],
                    env.loc(syn::spanned::Spanned::span(&p.path)),
                ));
            }
            env.is_route_sink(&name).then(Router::default)
        }
        // `self.router` in a builder's method, where the function took it for a router local.
        Expr::Field(f) if matches!(&*f.base, Expr::Path(b) if b.path.is_ident("self")) => {
            let syn::Member::Named(field) = &f.member else {
                return None;
            };
            env.take_local(&format!("self.{field}"))
        }
        Expr::MethodCall(call) => eval_method(call, env),
        // `.service({ let srv = web::scope("/health").service(..); #[cfg(feature = "profiling")] {
        // srv.service(..) } #[cfg(not(feature = "profiling"))] srv })`: the routers its `let`s hold, then
        // its value in each build.
        Expr::Block(b) if b.label.is_none() => {
            let mut held: Vec<(String, Router)> = Vec::new();
            for stmt in &b.block.stmts {
                let syn::Stmt::Local(l) = stmt else { continue };
                let (syn::Pat::Ident(id), Some(init)) = (&l.pat, &l.init) else {
                    continue;
                };
                if let Some(r) = eval(&init.expr, env) {
                    held.push((id.ident.to_string(), r));
                }
            }
            let mut out: Option<Router> = None;
            for (alt, cfg) in cfg_alternatives(expr) {
                for (name, r) in &held {
                    env.give_local(name, r.clone());
                }
                if let Some(mut r) = eval(alt, env) {
                    under_cfg(&mut r.entries, cfg.as_deref());
                    match &mut out {
                        Some(o) => o.entries.extend(r.entries),
                        None => out = Some(r),
                    }
                }
            }
            for (name, _) in &held {
                env.take_local(name);
            }
            out
        }
        Expr::If(i) if i.else_branch.is_some() => eval_if(i, env),
        // `router = match resource { Health => router.merge(health()), Human => router.merge(human()) }`
        // in a loop over the configured resources: every arm may run, so the router serves what each adds.
        Expr::Match(m) => {
            let mut grown: Option<Router> = None;
            for arm in &m.arms {
                let Some(body) = tail(&arm.body) else {
                    continue;
                };
                if let (Some(g), Some(name)) = (&grown, chain_local(body)) {
                    env.give_local(
                        &name,
                        Router {
                            entries: Vec::new(),
                            ..g.clone()
                        },
                    );
                }
                if let Some(r) = eval(body, env) {
                    match &mut grown {
                        Some(g) => g.entries.extend(r.entries),
                        None => grown = Some(r),
                    }
                }
            }
            grown
        }
        _ => None,
    }
}

/// `if basic { router.layer(from_fn(basic_auth)) } else { router.layer(from_fn(no_auth)) }`: the router
/// the local holds, behind the layer of one arm or another ([`super::EITHER_LAYER`]), with the routes each
/// arm adds. Without such a local, the routes of every arm.
fn eval_if(i: &syn::ExprIf, env: &mut dyn RouterEnv) -> Option<Router> {
    let arms = if_arm_tails(i)?;
    let local = arms.iter().find_map(|a| chain_local(a));
    let Some((name, held)) = local.and_then(|n| Some((n.clone(), env.take_local(&n)?))) else {
        let mut out: Option<Router> = None;
        for arm in arms {
            if let Some(r) = eval(arm, env) {
                match &mut out {
                    Some(o) => o.entries.extend(r.entries),
                    None => out = Some(r),
                }
            }
        }
        return out;
    };
    // Each arm runs on a router holding one probe route: the layers the probe ends behind are the arm's.
    let probe = || RouteEntry::Route {
        path: "\u{1}probe".into(),
        method: String::new(),
        handler: Vec::new(),
        loc: Loc::default(),
        cfg: None,
        layers: Vec::new(),
    };
    let mut added: Vec<Vec<Vec<String>>> = Vec::new();
    let mut own: Vec<RouteEntry> = Vec::new();
    for arm in arms {
        env.give_local(
            &name,
            Router {
                entries: vec![probe()],
                ..held.clone()
            },
        );
        let Some(r) = eval(arm, env) else {
            env.take_local(&name);
            continue;
        };
        for entry in r.entries {
            match entry {
                RouteEntry::Route { path, layers, .. } if path == "\u{1}probe" => {
                    added.push(layers)
                }
                other => own.push(other),
            }
        }
    }
    let mut out = held;
    let same = added.windows(2).all(|w| w[0] == w[1]);
    if same || added.iter().any(|a| a.len() > 1) {
        // The same layers on every arm, or arms that add several: each of them runs.
        let mut all: Vec<&Vec<String>> = Vec::new();
        for layer in added.iter().flatten() {
            if !all.contains(&layer) {
                all.push(layer);
            }
        }
        for layer in all {
            add_layer(&mut out.entries, layer);
        }
    } else {
        let either: Vec<String> = std::iter::once(super::EITHER_LAYER.to_string())
            .chain(added.iter().filter_map(|a| a.first()).map(|l| l.join("::")))
            .collect();
        add_layer(&mut out.entries, &either);
    }
    out.entries.extend(own);
    Some(out)
}

/// The tail expressions of an `if`'s arms, its `else if`s' included; None where an arm has none or the
/// last `else` is missing.
pub fn if_arm_tails(i: &syn::ExprIf) -> Option<Vec<&Expr>> {
    let mut arms = vec![tail_of_block(&i.then_branch)?];
    let mut rest = Some(&*i.else_branch.as_ref()?.1);
    while let Some(e) = rest {
        match e {
            Expr::If(next) => {
                arms.push(tail_of_block(&next.then_branch)?);
                rest = Some(&*next.else_branch.as_ref()?.1);
            }
            other => {
                arms.push(tail(other)?);
                rest = None;
            }
        }
    }
    Some(arms)
}

/// A block's tail expression.
fn tail_of_block(b: &syn::Block) -> Option<&Expr> {
    match b.stmts.last()? {
        syn::Stmt::Expr(e, None) => tail(e),
        _ => None,
    }
}

/// What a block or an expression evaluates to: its tail expression.
pub fn tail(expr: &Expr) -> Option<&Expr> {
    match expr {
        Expr::Block(b) => match b.block.stmts.last()? {
            syn::Stmt::Expr(e, None) => tail(e),
            _ => None,
        },
        other => Some(other),
    }
}

/// The local a method chain starts from (`router` in `router.merge(..)`).
fn chain_local(expr: &Expr) -> Option<String> {
    let (root, _) = super::driver::chain(expr);
    match root {
        Expr::Path(p) => p.path.get_ident().map(|i| i.to_string()),
        _ => None,
    }
}

fn eval_method(call: &ExprMethodCall, env: &mut dyn RouterEnv) -> Option<Router> {
    if env.salvo() && is_salvo_op(call) && salvo_rooted(&call.receiver, env) {
        return eval_salvo(call, env);
    }
    let name = call.method.to_string();
    if ROUTER_PASSTHROUGH.contains(&name.as_str()) {
        let mut r = eval(&call.receiver, env)?;
        // A closure a layer runs per request is walked as a function of its own, not as part of the
        // function building the router.
        call.args
            .iter()
            .filter(|a| layer_closure(a).is_none())
            .filter(|a| !(name == "wrap_fn" && matches!(a, Expr::Closure(_))))
            .for_each(|a| env.walk(a));
        // axum's `.layer(middleware::from_fn(auth))`: the routes added so far run `auth` first.
        // actix's `.wrap_fn(auth)` / `.wrap(from_fn(auth))`: every service of the app or scope does,
        // also those added after it.
        let middleware = match (name.as_str(), &call.args.iter().collect::<Vec<_>>()[..]) {
            // A tower `ServiceBuilder` of several layers, written here or held in a local.
            ("layer" | "route_layer", [layer]) => match stacked_layers(layer, env) {
                Some(stack) => stack,
                None => middleware_fn(layer, env).into_iter().collect(),
            },
            // actix's `.wrap(auth)`; poem's `.with(auth)`, the last applied running first, as axum's.
            ("wrap" | "with", [layer]) => middleware_fn(layer, env).into_iter().collect(),
            // routerify's `.middleware(Middleware::pre(auth))`: on every route of the router and its
            // scopes.
            ("middleware", [layer]) => middleware_fn(layer, env).into_iter().collect(),
            ("wrap_fn", [Expr::Path(f)]) => vec![path_segments(&f.path)],
            ("wrap_fn", [Expr::Closure(c)]) => vec![env.closure_handler(c)],
            _ => Vec::new(),
        };
        let condition = env.layer_condition();
        for middleware in middleware {
            let middleware = match &condition {
                Some(cond) => [super::IF_LAYER.to_string(), cond.clone()]
                    .into_iter()
                    .chain(middleware)
                    .collect(),
                None => middleware,
            };
            add_layer(&mut r.entries, &middleware);
            if name.starts_with("wrap") || name == "middleware" {
                r.wrapped.push(middleware);
            }
        }
        return Some(r);
    }
    if !is_router_op(call) {
        // A method the analysed code adds to the router's type (`.resource_routes(auth)` of an
        // extension trait): what it adds to its `self` is mounted here. Only on a chain that starts at
        // a router (`App::new()`, `scope("/api")`, the `self` or `cfg` a function adds routes to): any
        // other chain of calls is no router, and is not evaluated again at each of its links.
        if !name.starts_with("into") && starts_at_router(&call.receiver, env) {
            let mut r = eval(&call.receiver, env)?;
            call.args.iter().for_each(|a| env.walk(a));
            r.entries.push(RouteEntry::Mount {
                prefix: String::new(),
                target: vec![super::ROUTER_METHOD.to_string(), name],
                loc: env.loc(call.method.span()),
                layers: Vec::new(),
            });
            let wrapped = r.wrapped.clone();
            let at = r.entries.len() - 1;
            for middleware in &wrapped {
                add_layer(&mut r.entries[at..], middleware);
            }
            return Some(r);
        }
        return None;
    }
    let mut r = match eval(&call.receiver, env) {
        Some(r) => r,
        // rocket's `.mount(..)` on the rocket a fairing hands in (`|rocket| async { rocket.mount(..) }`).
        None if name == "mount" => Router::default(),
        // routerify's `.get("/status", h)` on a builder another crate made (`let router =
        // endpoint::make_router().middleware(..); router.get(..)`).
        None if call.args.len() == 2
            && first_is_path(call)
            && (METHODS.contains(&name.as_str()) || name == "any_method" || name == "scope") =>
        {
            Router::default()
        }
        None => return None,
    };
    let before = r.entries.len();
    for (args, cfg) in arg_builds(call) {
        let built = r.entries.len();
        add_served(&mut r, &name, &args, call, env)?;
        under_cfg(&mut r.entries[built..], cfg.as_deref());
    }
    // What the app or scope wraps runs on the services added after the wrap too.
    let wrapped = r.wrapped.clone();
    for middleware in &wrapped {
        add_layer(&mut r.entries[before..], middleware);
    }
    Some(r)
}

/// A call's arguments in each build: where `#[cfg(..)]` on its arguments picks one of them
/// (`.service(#[cfg(feature = "v2")] web::scope("/v2"), #[cfg(not(feature = "v2"))] web::resource("/"))`),
/// the arguments of each alternative with its predicate; otherwise all of them, in every build.
fn arg_builds(call: &ExprMethodCall) -> Vec<(Vec<&Expr>, Option<String>)> {
    let predicates: Vec<Option<String>> =
        call.args.iter().map(crate::build::expr_predicate).collect();
    if predicates.iter().all(Option::is_none) {
        return vec![(call.args.iter().collect(), None)];
    }
    predicates
        .iter()
        .enumerate()
        .filter_map(|(k, p)| p.clone().map(|p| (k, p)))
        .map(|(k, p)| {
            let args = call
                .args
                .iter()
                .enumerate()
                .filter(|(j, _)| *j == k || predicates[*j].is_none())
                .map(|(_, a)| a)
                .collect();
            (args, Some(p))
        })
        .collect()
}

/// Routes added under a `#[cfg(PRED)]` alternative are served only where PRED holds (and where whatever
/// alternative they were already under holds).
fn under_cfg(entries: &mut [RouteEntry], predicate: Option<&str>) {
    let Some(predicate) = predicate else { return };
    for entry in entries {
        if let RouteEntry::Route { cfg, .. } = entry {
            *cfg = Some(match cfg.take() {
                Some(own) => format!("all({own}, {predicate})"),
                None => predicate.to_string(),
            });
        }
    }
}

/// salvo's router methods that serve a method with a handler (`.get(h)`); `handle` and `goal` serve any.
const SALVO_METHODS: &[(&str, &str)] = &[
    ("get", "GET"),
    ("post", "POST"),
    ("put", "PUT"),
    ("delete", "DELETE"),
    ("patch", "PATCH"),
    ("head", "HEAD"),
    ("options", "OPTIONS"),
    ("handle", "ANY"),
    ("goal", "ANY"),
];

/// salvo's router methods that keep what it serves (a tag of its OpenAPI document, a filter).
const SALVO_KEEPS: &[&str] = &[
    "oapi_tag",
    "oapi_tags",
    "oapi_security",
    "oapi_securities",
    "filter",
    "filter_fn",
    "host",
    "hosts",
];

/// `Router::with_path(..)`, `Router::with_hoop(..)`: a salvo router, under a path or behind a middleware.
fn salvo_root(expr: &Expr) -> bool {
    let Expr::Call(call) = expr else { return false };
    let Expr::Path(p) = &*call.func else {
        return false;
    };
    let segs = path_segments(&p.path);
    call.args.len() == 1
        && matches!(segs.as_slice(), [.., ty, f] if ty == "Router" && (f == "with_path" || f == "with_hoop"))
}

/// A call of salvo's router: serve a method (`.get(h)`), add a child router (`.push(r)`, `.append(&mut
/// vec![..])`), a middleware (`.hoop(mw)`), a path (`.path("x")`), or keep what it serves.
pub fn is_salvo_op(call: &ExprMethodCall) -> bool {
    let name = call.method.to_string();
    match call.args.len() {
        1 => {
            SALVO_METHODS.iter().any(|(m, _)| *m == name)
                || SALVO_KEEPS.contains(&name.as_str())
                || matches!(
                    name.as_str(),
                    "push" | "unshift" | "append" | "hoop" | "path"
                )
        }
        2 => name == "hoop_when",
        _ => false,
    }
}

/// Is `expr` a salvo router: `Router::new()`, `Router::with_path(..)`, `Router::with_hoop(..)` or a local
/// holding a router, with salvo's calls on it? (`map.get(k)` on anything else is no route.)
pub fn salvo_rooted(expr: &Expr, env: &dyn RouterEnv) -> bool {
    let (root, calls) = super::driver::chain(expr);
    let rooted = salvo_root(root)
        || is_router_root(root)
        || matches!(root, Expr::Path(p) if p.path.get_ident().is_some_and(|n| env.holds_router(&n.to_string())));
    rooted && calls.iter().all(|c| is_salvo_op(c))
}

/// A salvo router's path, relative to its parent's (`"v1/event_reports/{report_id}"`); a name or a
/// computed one as written.
fn salvo_path(expr: &Expr, env: &dyn RouterEnv) -> Option<String> {
    let (path, _) = str_lit(expr, env).or_else(|| written_path(expr, env))?;
    Some(if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    })
}

/// The function a salvo middleware runs (`.hoop(hoops::auth_by_access_token)`); one of salvo's own
/// (`Logger::new()`, `max_size(..)`) is none of the analysed code's.
fn hoop_fn(expr: &Expr) -> Option<Vec<String>> {
    match expr {
        Expr::Path(p) => Some(path_segments(&p.path)),
        _ => None,
    }
}

/// One call of a salvo router chain. A router's path applies to everything it serves and to its
/// children; its middleware runs before each of them, those added after it as those before.
fn eval_salvo(call: &ExprMethodCall, env: &mut dyn RouterEnv) -> Option<Router> {
    let mut r = eval(&call.receiver, env)?;
    let name = call.method.to_string();
    let args: Vec<&Expr> = call.args.iter().collect();
    let before = r.entries.len();
    if let Some((_, method)) = SALVO_METHODS.iter().find(|(m, _)| *m == name) {
        if let Some(handler) = handler_name(args[0], env) {
            r.entries.push(RouteEntry::Route {
                path: "/".to_string(),
                method: method.to_string(),
                handler,
                loc: env.loc(syn::spanned::Spanned::span(args[0])),
                cfg: None,
                layers: Vec::new(),
            });
        }
    } else {
        match name.as_str() {
            "push" | "unshift" => {
                if let Some(child) = eval_router(args[0], env) {
                    r.entries.extend(child);
                }
            }
            "append" => {
                let mut list = args[0];
                while let Expr::Reference(x) = list {
                    list = &x.expr;
                }
                let children: Vec<Expr> = match list {
                    Expr::Array(a) => a.elems.iter().cloned().collect(),
                    Expr::Macro(m) if last_segment(&m.mac.path) == "vec" => {
                        syn::parse::Parser::parse2(
                            Punctuated::<Expr, Token![,]>::parse_terminated,
                            m.mac.tokens.clone(),
                        )
                        .ok()?
                        .into_iter()
                        .collect()
                    }
                    _ => Vec::new(),
                };
                for child in &children {
                    if let Some(entries) = eval_router(child, env) {
                        r.entries.extend(entries);
                    }
                }
            }
            "hoop" | "hoop_when" => {
                if let Some(hoop) = hoop_fn(args[0]) {
                    add_layer(&mut r.entries, &hoop);
                    r.wrapped.push(hoop);
                }
                return Some(r);
            }
            "path" => {
                let path = salvo_path(args[0], env)?;
                r.prefix = join_path(&r.prefix, &path);
                if r.prefix == "/" {
                    r.prefix.clear();
                }
                return Some(r);
            }
            _ => return Some(r),
        }
    }
    let wrapped = r.wrapped.clone();
    for middleware in &wrapped {
        add_layer(&mut r.entries[before..], middleware);
    }
    Some(r)
}

/// Adds a middleware to each route and mounted router of `entries`.
fn add_layer(entries: &mut [RouteEntry], middleware: &[String]) {
    for entry in entries {
        if let RouteEntry::Route { layers, .. } | RouteEntry::Mount { layers, .. } = entry {
            layers.push(middleware.to_vec());
        }
    }
}

/// The routes and routers one call of a router chain adds to `r`; None where the call's path cannot be
/// read (the chain is not followed further).
fn add_served(
    r: &mut Router,
    name: &str,
    args: &[&Expr],
    call: &ExprMethodCall,
    env: &mut dyn RouterEnv,
) -> Option<()> {
    match (name, args) {
        // A path and what serves it: axum `route`, poem `at`, loco `add`, aide `api_route`.
        // axum-extra's `route_with_tsr` also answers the path with a trailing slash, by a redirect.
        (
            "route" | "route_service" | "at" | "add" | "api_route" | "route_with_tsr",
            [path, served],
        )
        | ("api_route_with", [path, served, _]) => {
            for (path, loc) in path_alternatives(path, env) {
                if static_files(served).is_some() {
                    r.entries.push(RouteEntry::Static { path, loc });
                } else {
                    push_served(r, &path, served, loc, env);
                }
            }
        }
        // actix-files: `.service(Files::new("/static", "./static"))` names its own path.
        ("service", [inner]) if static_files(inner).is_some() => {
            if let Some(Some((path, loc))) =
                static_files(inner).map(|a| a.and_then(|p| str_lit(p, env)))
            {
                r.entries.push(RouteEntry::Static { path, loc });
            }
        }
        // actix's fallback: whatever no route matched.
        ("default_service", [served]) => {
            let loc = env.loc(syn::spanned::Spanned::span(&call.method));
            push_served(r, "/*", served, loc, env);
        }
        // actix `web::resource("/x").route(web::get().to(h))` and `.to(h)`: the resource's own path.
        ("route" | "to" | "to_async", [served]) => {
            // `web::get().to(h)` is what serves a route, not a router: the call around it says where.
            if is_method_builder(&call.receiver) {
                return None;
            }
            let loc = env.loc(syn::spanned::Spanned::span(&call.method));
            push_served(r, "", served, loc, env);
        }
        // routerify: `.get("/users/:id", h)`, `.any_method("/x", h)`, the handler maybe wrapped by functions
        // of the code that run before it (`util::auth(util::json(h))`).
        (method, [path, served]) if METHODS.contains(&method) || method == "any_method" => {
            let (path, loc) = str_lit(path, env)?;
            let method = match method {
                "any" | "any_method" => "ANY".to_string(),
                other => other.to_uppercase(),
            };
            let (served, wrappers) = unwrapped_handler(served);
            if let Some(handler) = handler_name(served, env) {
                r.entries.push(RouteEntry::Route {
                    path,
                    method,
                    handler,
                    loc,
                    cfg: None,
                    layers: wrappers,
                });
            }
        }
        (
            "nest" | "nest_service" | "nest_no_strip" | "mount" | "nest_route" | "nest_api_service"
            | "scope",
            [prefix, inner],
        ) => {
            let prefixes = path_alternatives(prefix, env);
            // poem nests an endpoint as well as a router (`.nest("/login", post(login))`): it serves
            // the prefix itself.
            let methods = match name {
                "nest" => method_router(inner, env),
                _ => Vec::new(),
            };
            if static_files(inner).is_some() {
                for (prefix, loc) in prefixes {
                    r.entries.push(RouteEntry::Static { path: prefix, loc });
                }
            } else if !methods.is_empty() {
                for (prefix, loc) in prefixes {
                    push_methods(r, &prefix, methods.clone(), loc, None);
                }
            } else if let Some(inner) = eval_router(inner, env) {
                for (prefix, _) in prefixes {
                    r.entries
                        .extend(inner.iter().cloned().map(|e| prefixed(e, &prefix)));
                }
            }
        }
        // axum-extra's `Resource`: its collection (`/users`), a member (`/users/{users_id}`), and
        // routers nested at either.
        (_, [served]) if r.resource.is_some() => {
            let member = format!("/{{{}_id}}", r.resource.as_deref().unwrap_or_default());
            let loc = env.loc(syn::spanned::Spanned::span(&call.method));
            let (path, methods): (String, &[&str]) = match name {
                "index" => (String::new(), &["GET"]),
                "create" => (String::new(), &["POST"]),
                "new" => ("/new".into(), &["GET"]),
                "show" => (member, &["GET"]),
                "edit" => (format!("{member}/edit"), &["GET"]),
                "update" => (member, &["PUT", "PATCH"]),
                "destroy" => (member, &["DELETE"]),
                "nest" | "nest_collection" => {
                    let at = if name == "nest" {
                        member
                    } else {
                        String::new()
                    };
                    if let Some(inner) = eval_router(served, env) {
                        r.entries
                            .extend(inner.into_iter().map(|e| prefixed(e, &at)));
                    }
                    return Some(());
                }
                _ => return Some(()),
            };
            if let Some(handler) = handler_name(served, env) {
                let methods = methods
                    .iter()
                    .map(|m| (m.to_string(), handler.clone()))
                    .collect();
                push_methods(r, &path, methods, loc, None);
            }
        }
        ("prefix", [prefix]) => {
            let (prefix, _) = str_lit(prefix, env)?;
            r.prefix = join_path(&r.prefix, &prefix);
        }
        (typed, [served]) if typed.starts_with("typed_") => {
            let method = typed.trim_start_matches("typed_").to_uppercase();
            let loc = env.loc(syn::spanned::Spanned::span(&call.method));
            if let Some(handler) = handler_name(served, env) {
                r.entries.push(RouteEntry::Route {
                    path: super::TYPED_ROUTE.to_string(),
                    method,
                    handler,
                    loc,
                    cfg: None,
                    layers: Vec::new(),
                });
            }
        }
        // Another router, a function that configures one, or a handler with a route attribute.
        ("merge" | "configure" | "add_route" | "service" | "routes", [inner]) => match inner {
            Expr::Path(p) => {
                let local = match p.path.get_ident() {
                    Some(ident) => env.take_local(&ident.to_string()),
                    None => None,
                };
                match local {
                    Some(local) => r.entries.extend(local.finish()),
                    None => r.entries.push(RouteEntry::Mount {
                        prefix: String::new(),
                        target: path_segments(&p.path),
                        loc: env.loc(syn::spanned::Spanned::span(&p.path)),
                        layers: Vec::new(),
                    }),
                }
            }
            // actix `.configure(|cfg| routes::configure(cfg, flag))`: the function the closure hands the
            // configuration to.
            Expr::Closure(c) => r.entries.extend(configured_through(c, env)),
            other => {
                if let Some(inner) = eval_router(other, env) {
                    r.entries.extend(inner);
                }
            }
        },
        _ => {}
    }
    Some(())
}

/// The functions a configuring closure (`|cfg| f(cfg, ..)`, `move |cfg| { f(cfg, ..); g(cfg) }`) passes its
/// parameter to, as routers mounted where the closure is.
fn configured_through(c: &syn::ExprClosure, env: &mut dyn RouterEnv) -> Vec<RouteEntry> {
    let [syn::Pat::Ident(param)] = c.inputs.iter().collect::<Vec<_>>()[..] else {
        return Vec::new();
    };
    // The calls in the closure's body, also inside its blocks and `if`s (`|cfg| { if federation {
    // apub::config(cfg); webfinger::config(cfg); } }`: each arm may configure, so each is mounted).
    fn collect<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
        match e {
            Expr::Block(b) => statements(&b.block, out),
            Expr::If(i) => {
                statements(&i.then_branch, out);
                if let Some((_, other)) = &i.else_branch {
                    collect(other, out);
                }
            }
            other => out.push(other),
        }
    }
    fn statements<'e>(b: &'e syn::Block, out: &mut Vec<&'e Expr>) {
        for s in &b.stmts {
            if let syn::Stmt::Expr(e, _) = s {
                collect(e, out);
            }
        }
    }
    let mut calls = Vec::new();
    collect(&c.body, &mut calls);
    // `|config| { config.service(create_job).service(get_job); }`: the parameter is added to as a
    // router is.
    let name = param.ident.to_string();
    let mut added = Vec::new();
    for e in &calls {
        if let Expr::MethodCall(_) = e {
            let mut sink = Sink {
                env: &mut *env,
                name: &name,
            };
            added.extend(eval_router(e, &mut sink).unwrap_or_default());
        }
    }
    let mounted: Vec<RouteEntry> = calls
        .into_iter()
        .filter_map(|e| match e {
            Expr::Call(call) => Some(call),
            _ => None,
        })
        .filter(|call| {
            call.args.iter().any(|a| {
                matches!(super::driver::strip_plumbing(a), Expr::Path(p) if p.path.is_ident(&param.ident))
            })
        })
        .filter_map(|call| match &*call.func {
            Expr::Path(p) => Some(RouteEntry::Mount {
                prefix: String::new(),
                target: path_segments(&p.path),
                loc: env.loc(syn::spanned::Spanned::span(&p.path)),
                layers: Vec::new(),
            }),
            _ => None,
        })
        .collect();
    added.extend(mounted);
    added
}

/// The analysed function's router environment, with a configuring closure's parameter as one more
/// name that collects routes.
struct Sink<'e, 'n> {
    env: &'e mut dyn RouterEnv,
    name: &'n str,
}

impl RouterEnv for Sink<'_, '_> {
    fn take_local(&mut self, name: &str) -> Option<Router> {
        self.env.take_local(name)
    }
    fn give_local(&mut self, name: &str, router: Router) {
        self.env.give_local(name, router)
    }
    fn is_route_sink(&self, name: &str) -> bool {
        name == self.name || self.env.is_route_sink(name)
    }
    fn closure_handler(&mut self, closure: &syn::ExprClosure) -> Vec<String> {
        self.env.closure_handler(closure)
    }
    fn walk(&mut self, expr: &Expr) {
        self.env.walk(expr)
    }
    fn closure_local(&self, name: &str) -> Option<Vec<String>> {
        self.env.closure_local(name)
    }
    fn method_local(&self, name: &str) -> Option<Vec<(String, Vec<String>)>> {
        self.env.method_local(name)
    }
    fn loc(&self, span: proc_macro2::Span) -> Loc {
        self.env.loc(span)
    }
    fn method_helper(&self, name: &str) -> Option<String> {
        self.env.method_helper(name)
    }
}

/// Types that serve files from disk.
const STATIC_FILE_SERVICES: &[&str] = &[
    "ServeDir",
    "ServeFile",
    "Files",
    "FileServer",
    "StaticFilesEndpoint",
    "StaticFileEndpoint",
    "SpaRouter",
];

/// Whether an expression builds a static-file service (`ServeDir::new("assets").fallback(..)`); if so,
/// the first argument of its constructor (actix's `Files::new("/static", ..)` mount path).
fn static_files(expr: &Expr) -> Option<Option<&Expr>> {
    match expr {
        Expr::MethodCall(m) => static_files(&m.receiver),
        Expr::Paren(p) => static_files(&p.expr),
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else { return None };
            let segs = path_segments(&p.path);
            let ty = segs.len().checked_sub(2).map(|i| segs[i].as_str());
            ty.filter(|t| STATIC_FILE_SERVICES.contains(t))
                .map(|_| c.args.first())
        }
        _ => None,
    }
}

/// Routes for what serves a path: a method router (`get(h).post(h2)`, `web::get().to(h)`), or a bare
/// handler (poem's `.at("/x", h)`, actix's `web::to(h)`), which answers any method.
fn push_served(r: &mut Router, path: &str, served: &Expr, loc: Loc, env: &mut dyn RouterEnv) {
    for (served, cfg) in cfg_alternatives(served) {
        let mut methods = method_router(served, env);
        if methods.is_empty() {
            if let Some(h) = handler_name(served, env) {
                methods.push(("ANY".into(), h));
            }
        }
        let before = r.entries.len();
        push_methods(r, path, methods, loc, cfg);
        // `get(me).route_layer(from_fn_with_state(state, auth))`: a layer of the method router runs before
        // the methods it was put on.
        for (layer, on) in method_router_layers(served, env) {
            for entry in &mut r.entries[before..] {
                if let RouteEntry::Route { method, layers, .. } = entry {
                    if on.contains(method) {
                        layers.push(layer.clone());
                    }
                }
            }
        }
    }
}

/// The layers put on a method router (`get(a).layer(l).post(b)`), each with the methods it wraps: those
/// added before it.
fn method_router_layers(served: &Expr, env: &mut dyn RouterEnv) -> Vec<(Vec<String>, Vec<String>)> {
    let (root, calls) = super::driver::chain(served);
    let mut methods: Vec<String> = Vec::new();
    if let Expr::Call(c) = root {
        if let Expr::Path(p) = &*c.func {
            let name = last_segment(&p.path);
            if METHODS.contains(&name.as_str()) {
                methods.push(method_name(&name));
            }
        }
    }
    let mut out = Vec::new();
    for call in calls {
        let name = call.method.to_string();
        if METHODS.contains(&name.as_str()) {
            methods.push(method_name(&name));
        } else if matches!(name.as_str(), "layer" | "route_layer") && call.args.len() == 1 {
            let layer = &call.args[0];
            let stack = match stacked_layers(layer, env) {
                Some(stack) => stack,
                None => middleware_fn(layer, env).into_iter().collect(),
            };
            for middleware in stack {
                out.push((middleware, methods.clone()));
            }
        }
    }
    out
}

/// A route per method that serves `path`, each by its handler.
fn push_methods(
    r: &mut Router,
    path: &str,
    methods: Vec<(String, Vec<String>)>,
    loc: Loc,
    cfg: Option<String>,
) {
    for (method, handler) in methods {
        r.entries.push(RouteEntry::Route {
            path: path.to_string(),
            method,
            handler,
            loc,
            cfg: cfg.clone(),
            layers: Vec::new(),
        });
    }
}

/// What serves a path, per `#[cfg(..)]` alternative of a block that picks it (`{ #[cfg(feature = "mcp")]
/// { get(h) } #[cfg(not(feature = "mcp"))] { get(fallback) } }`), with the predicate of each; a plain
/// expression (or a block with no such alternatives) is its own.
fn cfg_alternatives(served: &Expr) -> Vec<(&Expr, Option<String>)> {
    let Expr::Block(b) = served else {
        return vec![(served, None)];
    };
    let mut out = Vec::new();
    for stmt in &b.block.stmts {
        let syn::Stmt::Expr(e, _) = stmt else {
            continue;
        };
        let (attrs, inner) = match e {
            Expr::Block(inner) => (
                &inner.attrs,
                match inner.block.stmts.last() {
                    Some(syn::Stmt::Expr(tail, None)) => tail,
                    _ => continue,
                },
            ),
            Expr::Call(c) => (&c.attrs, e),
            Expr::MethodCall(m) => (&m.attrs, e),
            Expr::Path(p) => (&p.attrs, e),
            _ => continue,
        };
        out.push((inner, crate::build::predicate(attrs)));
    }
    if out.iter().all(|(_, p)| p.is_none()) {
        return match b.block.stmts.last() {
            Some(syn::Stmt::Expr(tail, None)) => vec![(tail, None)],
            _ => Vec::new(),
        };
    }
    out
}

fn str_lit(expr: &Expr, env: &dyn RouterEnv) -> Option<(String, Loc)> {
    match expr {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some((s.value(), env.loc(s.span()))),
        // `"/api".to_owned()`, `"/api".to_string()`, `"/api".into()`, `String::from("/api")`.
        Expr::MethodCall(m)
            if m.args.is_empty()
                && matches!(
                    m.method.to_string().as_str(),
                    "to_owned" | "to_string" | "into"
                ) =>
        {
            str_lit(&m.receiver, env)
        }
        Expr::Call(c) if c.args.len() == 1 => match &*c.func {
            Expr::Path(p)
                if path_segments(&p.path).ends_with(&["String".into(), "from".into()]) =>
            {
                str_lit(&c.args[0], env)
            }
            _ => None,
        },
        _ => None,
    }
}

/// rocket_okapi's `mount_endpoints_and_merged_docs! { rocket, "/base".to_owned(), settings, "/users" =>
/// users::routes(), .. }`: each route list mounted at the base joined with its path.
fn okapi_mounts(tokens: proc_macro2::TokenStream, env: &mut dyn RouterEnv) -> Option<Router> {
    struct Mounts {
        base: Expr,
        pairs: Vec<(Expr, Expr)>,
    }
    impl syn::parse::Parse for Mounts {
        fn parse(input: syn::parse::ParseStream) -> syn::Result<Self> {
            let _rocket: Expr = input.parse()?;
            input.parse::<Token![,]>()?;
            let base: Expr = input.parse()?;
            input.parse::<Token![,]>()?;
            let _settings: Expr = input.parse()?;
            let mut pairs = Vec::new();
            while input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
                let path: Expr = input.parse()?;
                input.parse::<Token![=>]>()?;
                pairs.push((path, input.parse()?));
            }
            Ok(Mounts { base, pairs })
        }
    }
    let mounts: Mounts = syn::parse2(tokens).ok()?;
    let (base, _) = str_lit(&mounts.base, env)?;
    let mut entries = Vec::new();
    for (path, served) in &mounts.pairs {
        let Some((path, _)) = str_lit(path, env) else {
            continue;
        };
        if let Some(inner) = eval_router(served, env) {
            let prefix = join_path(&base, &path);
            entries.extend(inner.into_iter().map(|e| prefixed(e, &prefix)));
        }
    }
    Some(Router {
        prefix: String::new(),
        entries,
        ..Router::default()
    })
}

/// actix's `web::get()`, `web::post()`, `web::method(..)`: what a route answers, without a path.
fn is_method_builder(expr: &Expr) -> bool {
    let Expr::Call(c) = expr else { return false };
    let Expr::Path(p) = &*c.func else {
        return false;
    };
    let segs = path_segments(&p.path);
    let name = segs.last().map(String::as_str).unwrap_or("");
    segs.len() >= 2
        && segs[segs.len() - 2] == "web"
        && (METHODS.contains(&name) || name == "method")
}

/// A path the code computes (`cfg.route(&routes.login, ..)`, `&article_slug`): hopcheck does not run
/// code, so it keeps the expression as written, in braces (`/{routes.login}`), rather than guess.
fn written_path(expr: &Expr, env: &dyn RouterEnv) -> Option<(String, Loc)> {
    let mut e = expr;
    while let Expr::Reference(r) = e {
        e = &r.expr;
    }
    // A macro of the code that writes the path: what it expands to (a block's value, `.as_str()` of it),
    // placed where the macro is. (What the expansion holds is not expanded again.)
    if let Expr::Macro(m) = e {
        if let Some(expanded) = env.expand_macro(&m.mac) {
            let (path, _) = path_written(tail_value(&expanded), env)?;
            return Some((path, env.loc(syn::spanned::Spanned::span(e))));
        }
    }
    path_written(tail_value(e), env)
}

/// The paths a route or nest is served at: the one the code writes, each a `match` or `if` on the
/// configuration can give (`match tenancy { Multi => "/{account}/{dataset}", Single => "/{dataset}" }`:
/// the routes are served under each), or, where the code computes it some other way, the expression
/// kept as written (`/{…}`, said in the notes) rather than the whole router lost.
fn path_alternatives(e: &Expr, env: &dyn RouterEnv) -> Vec<(String, Loc)> {
    let paths: Option<Vec<(String, Loc)>> = str_lit(e, env)
        .or_else(|| written_path(e, env))
        .map(|p| vec![p])
        .or_else(|| {
            arm_values(e)?
                .into_iter()
                .map(|v| str_lit(v, env).or_else(|| written_path(v, env)))
                .collect()
        });
    if let Some(mut out) = paths {
        let mut seen = std::collections::HashSet::new();
        out.retain(|(p, _)| seen.insert(p.clone()));
        return out;
    }
    let loc = env.loc(syn::spanned::Spanned::span(e));
    vec![("/{…}".to_string(), loc)]
}

/// The value a block ends with, through `.as_str()` / `.to_string()` and references.
fn tail_value(e: &Expr) -> &Expr {
    let mut value = e;
    loop {
        match value {
            Expr::Block(b) => match b.block.stmts.last() {
                Some(syn::Stmt::Expr(tail, None)) => value = tail,
                _ => return value,
            },
            Expr::MethodCall(c)
                if c.args.is_empty()
                    && matches!(c.method.to_string().as_str(), "as_str" | "to_string") =>
            {
                value = &c.receiver
            }
            Expr::Reference(r) => value = &r.expr,
            _ => return value,
        }
    }
}

/// [`written_path`] of a value that is no macro of the code.
fn path_written(e: &Expr, env: &dyn RouterEnv) -> Option<(String, Loc)> {
    // `[basepath, "/api"].concat()`, `concat!("/api", "/v1")`, `format!("{}/api", base)`: the literal
    // parts as they are, the computed ones as written (`/{basepath}/api`).
    let parts = path_parts(e).or_else(|| Some(vec![written_part(e)?]).filter(|_| !is_str(e)))?;
    let mut path: String = parts.concat();
    if !path.starts_with('/') {
        path.insert(0, '/');
    }
    Some((path, env.loc(syn::spanned::Spanned::span(e))))
}

fn is_str(e: &Expr) -> bool {
    matches!(
        e,
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(_),
            ..
        })
    )
}

/// A part of a path: a literal as it is, a name, a field or a call as written, in braces (`{routes.login}`).
pub fn written_part(e: &Expr) -> Option<String> {
    let mut e = e;
    // (A macro's `$path` is in an invisible group.)
    while let Expr::Reference(syn::ExprReference { expr, .. })
    | Expr::Group(syn::ExprGroup { expr, .. }) = e
    {
        e = expr;
    }
    match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(s.value()),
        // A name, a field, or a call hopcheck does not run (`cfg_path("/info")`, `routes.login()`).
        Expr::Path(_) | Expr::Field(_) | Expr::Call(_) | Expr::MethodCall(_) | Expr::Index(_) => {
            let text: String = quote::ToTokens::to_token_stream(e)
                .to_string()
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            Some(format!("{{{text}}}"))
        }
        _ => None,
    }
}

/// The parts of a path the code puts together: literals as they are, names and fields as `{written}`.
fn path_parts(e: &Expr) -> Option<Vec<String>> {
    match e {
        Expr::MethodCall(m) if m.method == "concat" && m.args.is_empty() => match &*m.receiver {
            Expr::Array(a) => a.elems.iter().map(written_part).collect(),
            _ => None,
        },
        // const_format's `concatcp!` and `formatcp!` as `concat!` and `format!`.
        Expr::Macro(m)
            if matches!(
                last_segment(&m.mac.path).as_str(),
                "concat" | "format" | "concatcp" | "formatcp"
            ) =>
        {
            let args = syn::parse::Parser::parse2(
                Punctuated::<Expr, Token![,]>::parse_terminated,
                m.mac.tokens.clone(),
            )
            .ok()?;
            let parts: Vec<String> = args.iter().map(written_part).collect::<Option<_>>()?;
            if matches!(last_segment(&m.mac.path).as_str(), "concat" | "concatcp") {
                return Some(parts);
            }
            // `format!("{}/api", base)`, `format!("{base}/api")`: each `{..}` is the next argument,
            // or the name it holds.
            let (template, rest) = parts.split_first()?;
            let mut rest = rest.iter();
            let mut out = String::new();
            let mut chars = template.chars().peekable();
            while let Some(c) = chars.next() {
                // `{{` and `}}` are the braces themselves (`"{}/users/{{id}}"` is `…/users/{id}`).
                if matches!(c, '{' | '}') && chars.peek() == Some(&c) {
                    chars.next();
                    out.push(c);
                    continue;
                }
                if c != '{' {
                    out.push(c);
                    continue;
                }
                let inner: String = chars.by_ref().take_while(|&c| c != '}').collect();
                match inner.as_str() {
                    "" => out.push_str(rest.next()?),
                    name => out.push_str(&format!("{{{name}}}")),
                }
            }
            Some(vec![out])
        }
        _ => None,
    }
}

/// Joins a nest prefix and a route path the way axum does: `/api` + `/` is `/api`.
pub fn join_path(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if path.is_empty() || path == "/" {
        return if prefix.is_empty() {
            "/".into()
        } else {
            prefix.into()
        };
    }
    if path.starts_with('/') {
        format!("{prefix}{path}")
    } else {
        format!("{prefix}/{path}")
    }
}

/// An entry of a router nested under `prefix`.
pub fn prefixed(entry: RouteEntry, prefix: &str) -> RouteEntry {
    match entry {
        RouteEntry::Route {
            path,
            method,
            handler,
            loc,
            cfg,
            layers,
        } => RouteEntry::Route {
            path: join_path(prefix, &path),
            method,
            handler,
            loc,
            cfg,
            layers,
        },
        RouteEntry::Static { path, loc } => RouteEntry::Static {
            path: join_path(prefix, &path),
            loc,
        },
        RouteEntry::Mount {
            prefix: inner,
            target,
            loc,
            layers,
        } => RouteEntry::Mount {
            prefix: if inner.is_empty() {
                prefix.trim_end_matches('/').to_string()
            } else {
                join_path(prefix, &inner)
            },
            target,
            loc,
            layers,
        },
    }
}

/// The function an axum middleware layer runs: `middleware::from_fn(auth)`,
/// `from_fn_with_state(state.clone(), auth)`, a closure in their place, a local holding such a layer, or
/// the closure tower-http's CORS layer asks about each request's origin
/// (`CorsLayer::new().allow_origin(AllowOrigin::async_predicate(|origin, parts| async { .. }))`).
/// `from_extractor_with_state::<..>` aside.
/// The layers of a tower `ServiceBuilder` (`ServiceBuilder::new().layer(CookieLayer::new())
/// .layer(AuthLayer::new(state))`), or of one a local holds: each `.layer(..)` of the chain, outermost
/// first. None for anything else.
pub fn stacked_layers(layer: &Expr, env: &mut dyn RouterEnv) -> Option<Vec<Vec<String>>> {
    if let Expr::Path(p) = layer {
        return env.layer_stack(&p.path.get_ident()?.to_string());
    }
    let (root, calls) = super::driver::chain(layer);
    let Expr::Call(c) = root else { return None };
    let Expr::Path(p) = &*c.func else { return None };
    if !path_segments(&p.path).ends_with(&["ServiceBuilder".to_string(), "new".to_string()]) {
        return None;
    }
    let mut stack = Vec::new();
    for call in calls {
        if let ("layer" | "option_layer", Some(arg)) =
            (call.method.to_string().as_str(), call.args.first())
        {
            stack.extend(middleware_fn(arg, env));
        }
    }
    Some(stack)
}

/// tower-sessions' `SessionManagerLayer::new(store)` (with its options after it): before each request it
/// loads the session from the store, a type of the code implementing `SessionStore` (`SqlStore::new(db)`):
/// that type's `load`.
pub fn session_store_load(layer: &Expr, env: &dyn RouterEnv) -> Option<Vec<String>> {
    let (root, _) = super::driver::chain(layer);
    let Expr::Call(c) = root else { return None };
    let Expr::Path(p) = &*c.func else { return None };
    if !path_segments(&p.path).ends_with(&["SessionManagerLayer".to_string(), "new".to_string()]) {
        return None;
    }
    let mut store = c.args.first()?;
    while let Expr::MethodCall(m) = store {
        if m.method != "clone" {
            break;
        }
        store = &m.receiver;
    }
    let ty = match store {
        Expr::Path(p) => env.local_type(&p.path.get_ident()?.to_string())?,
        Expr::Call(made) => match &*made.func {
            Expr::Path(f) => {
                let segs = path_segments(&f.path);
                segs.iter()
                    .rev()
                    .find(|s| s.starts_with(|c: char| c.is_ascii_uppercase()))?
                    .clone()
            }
            _ => return None,
        },
        _ => return None,
    };
    Some(vec![ty, "load".to_string()])
}

fn middleware_fn(layer: &Expr, env: &mut dyn RouterEnv) -> Option<Vec<String>> {
    if let Some(c) = layer_closure(layer) {
        return Some(env.closure_handler(c));
    }
    if let Some(load) = session_store_load(layer, env) {
        return Some(load);
    }
    match layer {
        Expr::Path(p) => p
            .path
            .get_ident()
            .and_then(|i| env.closure_local(&i.to_string()))
            .or_else(|| tower_layer(layer))
            // actix's `.wrap(auth)` of a middleware a local holds (`let auth = BiscuitAuth { .. };`).
            .or_else(|| {
                let ty = env.local_type(&p.path.get_ident()?.to_string())?;
                Some(vec![super::TOWER_LAYER.to_string(), ty])
            }),
        // `.wrap(auth.clone())`.
        Expr::MethodCall(m) if m.method == "clone" && m.args.is_empty() => {
            middleware_fn(&m.receiver, env)
        }
        Expr::Call(c) if extractor_layer(c).is_some() => extractor_layer(c),
        Expr::Call(c) => match middleware_arg(c) {
            Some(Expr::Path(f)) => Some(
                f.path
                    .get_ident()
                    .and_then(|i| env.closure_local(&i.to_string()))
                    .unwrap_or_else(|| path_segments(&f.path)),
            ),
            Some(_) => None,
            None => tower_layer(layer),
        },
        other => tower_layer(other),
    }
}

/// A layer that may be a tower `Layer` the analysed code implements, by how it is made:
/// `AuthLayer::new(keys)`, `auth::create(keys).filter(..)`, `AuthLayer { keys }`, `AuthLayer`. Which
/// service's `call` it runs is the model's to find (none, for a library's layer).
pub fn tower_layer(layer: &Expr) -> Option<Vec<String>> {
    let made: Vec<String> = match super::driver::chain(layer).0 {
        Expr::Call(c) => match &*c.func {
            Expr::Path(p) => path_segments(&p.path),
            _ => return None,
        },
        Expr::Struct(s) => path_segments(&s.path),
        Expr::Path(p) if last_segment(&p.path).starts_with(|c: char| c.is_ascii_uppercase()) => {
            path_segments(&p.path)
        }
        _ => return None,
    };
    Some(
        std::iter::once(super::TOWER_LAYER.to_string())
            .chain(made)
            .collect(),
    )
}

/// axum's `from_extractor::<Auth>()` / `from_extractor_with_state::<Auth, _>(state)`: a layer that runs
/// the extractor `Auth` on each request, as `[EXTRACTOR_LAYER, Auth]`.
fn extractor_layer(c: &syn::ExprCall) -> Option<Vec<String>> {
    let Expr::Path(p) = &*c.func else { return None };
    let last = p.path.segments.last()?;
    if !matches!(
        last.ident.to_string().as_str(),
        "from_extractor" | "from_extractor_with_state"
    ) {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let Some(syn::GenericArgument::Type(syn::Type::Path(ty))) = args.args.first() else {
        return None;
    };
    Some(vec![
        super::EXTRACTOR_LAYER.to_string(),
        last_segment(&ty.path),
    ])
}

/// The function argument of axum's `from_fn(f)` / `from_fn_with_state(state, f)` and of their
/// `map_request` kin, which run `f` on each request.
pub fn middleware_arg(c: &syn::ExprCall) -> Option<&Expr> {
    let Expr::Path(p) = &*c.func else { return None };
    match (last_segment(&p.path).as_str(), c.args.len()) {
        ("from_fn" | "map_request", 1) => c.args.first(),
        ("from_fn_with_state" | "map_request_with_state", 2) => c.args.last(),
        // routerify's `Middleware::pre(auth)`, `Middleware::post(log)`.
        ("pre" | "post" | "pre_with_info" | "post_with_info", 1)
            if p.path
                .segments
                .iter()
                .rev()
                .nth(1)
                .is_some_and(|s| s.ident == "Middleware") =>
        {
            c.args.first()
        }
        _ => None,
    }
}

/// The closure a layer expression runs on each request: written in axum's `from_fn(|req, next| ..)`, or
/// in tower-http's `AllowOrigin::async_predicate(|origin, parts| ..)` anywhere in the layer's builder
/// chain. The synchronous `predicate` cannot wait on anything and is left out.
pub fn layer_closure(expr: &Expr) -> Option<&syn::ExprClosure> {
    match expr {
        Expr::Paren(p) => layer_closure(&p.expr),
        Expr::Call(c) => {
            let Expr::Path(p) = &*c.func else { return None };
            match (middleware_arg(c), c.args.first()) {
                (Some(Expr::Closure(f)), _) => Some(f),
                (None, Some(Expr::Closure(f)))
                    if c.args.len() == 1 && last_segment(&p.path) == "async_predicate" =>
                {
                    Some(f)
                }
                (None, _) => c.args.iter().find_map(layer_closure),
                _ => None,
            }
        }
        Expr::MethodCall(m) => m
            .args
            .iter()
            .find_map(layer_closure)
            .or_else(|| layer_closure(&m.receiver)),
        _ => None,
    }
}

/// Whether `expr` builds a method router: its chain starts with `get(h)`, `routing::post(h)`, `on(filter,
/// h)` (then `.post(h2)`, `.layer(..)`, ..).
pub fn is_method_router(expr: &Expr) -> bool {
    let (root, _) = super::driver::chain(expr);
    let Expr::Call(call) = root else { return false };
    let Expr::Path(p) = &*call.func else {
        return false;
    };
    let name = last_segment(&p.path);
    let base = name.trim_end_matches("_service").trim_end_matches("_with");
    (METHODS.contains(&base) || base == "on") && (1..=2).contains(&call.args.len())
}

/// `get(h).post(h2)` → [("GET", h), ("POST", h2)].
pub fn method_router(expr: &Expr, env: &mut dyn RouterEnv) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    collect_methods(expr, env, &mut out);
    out
}

fn collect_methods(expr: &Expr, env: &mut dyn RouterEnv, out: &mut Vec<(String, Vec<String>)>) {
    match expr {
        Expr::Paren(p) => collect_methods(&p.expr, env, out),
        Expr::Path(p) => {
            if let Some(held) = p
                .path
                .get_ident()
                .and_then(|i| env.method_local(&i.to_string()))
            {
                out.extend(held);
            }
        }
        Expr::Call(call) => {
            let Expr::Path(p) = &*call.func else { return };
            let args: Vec<&Expr> = call.args.iter().collect();
            let name = last_segment(&p.path);
            // actix `web::to(h)`: any method.
            if serves(&name) && args.len() == 1 {
                if let Some(h) = handler_name(args[0], env) {
                    out.push(("ANY".into(), h));
                }
                return;
            }
            method_entry(&name, &args, env, out);
        }
        Expr::MethodCall(call) => {
            let args: Vec<&Expr> = call.args.iter().collect();
            // actix `web::get().to(h)`, `web::method(Method::POST).to(h)`, `web::route().to(h)`.
            if serves(&call.method.to_string()) && args.len() == 1 {
                if let Some(h) = handler_name(args[0], env) {
                    for m in actix_methods(&call.receiver) {
                        out.push((m, h.clone()));
                    }
                }
                return;
            }
            collect_methods(&call.receiver, env, out);
            method_entry(&call.method.to_string(), &args, env, out);
        }
        _ => {}
    }
}

/// The methods an actix `Route` answers: `web::get()` → GET, `web::method(Method::PUT)` → PUT,
/// `web::route()` (with no `.method(..)`) → ANY.
fn actix_methods(route: &Expr) -> Vec<String> {
    let (root, calls) = super::driver::chain(route);
    let mut out: Vec<String> = calls
        .iter()
        .filter(|c| c.method == "method")
        .flat_map(|c| c.args.first().map(method_filter).unwrap_or_default())
        .collect();
    if let Expr::Call(call) = root {
        if let Expr::Path(p) = &*call.func {
            let name = last_segment(&p.path);
            if METHODS.contains(&name.as_str()) && call.args.is_empty() {
                out.push(method_name(&name));
            } else if name == "method" {
                out.extend(call.args.first().map(method_filter).unwrap_or_default());
            }
        }
    }
    if out.is_empty() {
        out.push("ANY".into());
    }
    out
}

/// One link of a method router: `get(h)` / `.post(h)`, `get_with(h, docs)` (aide),
/// `on(MethodFilter::GET, h)`, `.method(Method::GET, h)` (poem).
fn method_entry(
    name: &str,
    args: &[&Expr],
    env: &mut dyn RouterEnv,
    out: &mut Vec<(String, Vec<String>)>,
) {
    let base = name.trim_end_matches("_service").trim_end_matches("_with");
    match args {
        // `get(h)`, and `get_service(h.layer(..))`.
        [handler] if METHODS.contains(&base) => {
            if let Some(h) = handler_name(handler, env) {
                out.push((method_name(base), h));
            }
        }
        [handler, _docs] if name.ends_with("_with") && METHODS.contains(&base) => {
            if let Some(h) = handler_name(handler, env) {
                out.push((method_name(base), h));
            }
        }
        // A helper of the file that wraps a method router around the handler (`get_internal(h)`).
        [handler] if env.method_helper(name).is_some() => {
            if let (Some(h), Some(method)) = (handler_name(handler, env), env.method_helper(name)) {
                out.push((method, h));
            }
        }
        [filter, handler] if name == "on" || name == "method" => {
            if let Some(h) = handler_name(handler, env) {
                out.extend(method_filter(filter).into_iter().map(|m| (m, h.clone())));
            }
        }
        _ => {}
    }
}

fn method_name(name: &str) -> String {
    if name == "any" {
        "ANY".into()
    } else {
        name.to_uppercase()
    }
}

/// `MethodFilter::GET`, `MethodFilter::GET.or(MethodFilter::POST)`.
fn method_filter(expr: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    let text = quote::ToTokens::to_token_stream(expr).to_string();
    for m in METHODS {
        let upper = m.to_uppercase();
        if text
            .split(|c: char| !c.is_alphanumeric())
            .any(|w| w == upper)
        {
            out.push(upper);
        }
    }
    out
}

/// The handler a method router names: a path, a path with layers, or a closure.
fn handler_name(expr: &Expr, env: &mut dyn RouterEnv) -> Option<Vec<String>> {
    match expr {
        Expr::Path(p) => {
            let local = p
                .path
                .get_ident()
                .and_then(|i| env.closure_local(&i.to_string()));
            Some(local.unwrap_or_else(|| path_segments(&p.path)))
        }
        Expr::Paren(p) => handler_name(&p.expr, env),
        Expr::Reference(r) => handler_name(&r.expr, env),
        Expr::MethodCall(m)
            if matches!(
                m.method.to_string().as_str(),
                "layer" | "with_state" | "into_service"
            ) =>
        {
            handler_name(&m.receiver, env)
        }
        Expr::Closure(c) => Some(env.closure_handler(c)),
        // poem's `#[handler]` on a generic function makes a struct of the function's name, which a route
        // names by its `Default` (`get(account::list::<S>::default())`): that function serves it.
        Expr::Call(c) if c.args.is_empty() => {
            let Expr::Path(p) = &*c.func else { return None };
            let segs = path_segments(&p.path);
            match segs.as_slice() {
                [fun @ .., last, default]
                    if default == "default" && last.starts_with(|ch: char| ch.is_lowercase()) =>
                {
                    Some(fun.iter().chain([last]).cloned().collect())
                }
                _ => None,
            }
        }
        // A function that wraps the handler it is given (`endpoint_auth(ws_handler)`, poem's
        // `.at("/stream", endpoint_auth(h))`): the handler serves the route.
        Expr::Call(c) if c.args.len() == 1 && matches!(&*c.func, Expr::Path(_)) => match &c.args[0]
        {
            arg @ (Expr::Path(_) | Expr::Closure(_)) => handler_name(arg, env),
            _ => handler_factory(c),
        },
        Expr::Call(c) => handler_factory(c),
        _ => None,
    }
}

/// A handler wrapped by functions of the code that take it last and hand back one that runs it
/// (routerify's `util::cache(ONE_MINUTE, util::json(h))`): the handler, and the wrappers as layers, the
/// innermost first, each running before what it wraps.
fn unwrapped_handler(expr: &Expr) -> (&Expr, Vec<Vec<String>>) {
    let mut wrappers = Vec::new();
    let mut e = expr;
    // `|r| named_request_span(r, handle_status, RequestName("status"))`: a closure that hands the request
    // to a function with the handler, named among its arguments.
    if let Expr::Closure(c) = e {
        let params: Vec<String> = c
            .inputs
            .iter()
            .filter_map(|p| match p {
                syn::Pat::Ident(i) => Some(i.ident.to_string()),
                _ => None,
            })
            .collect();
        let mut body = &*c.body;
        while let Expr::Block(b) = body {
            match b.block.stmts.as_slice() {
                [syn::Stmt::Expr(value, None)] => body = value,
                _ => break,
            }
        }
        if let Expr::Call(call) = body {
            let named: Vec<&Expr> = call
                .args
                .iter()
                .filter(|a| {
                    matches!(a, Expr::Path(p) if p.qself.is_none()
                        && p.path.segments.last().is_some_and(|s| {
                            let name = s.ident.to_string();
                            name.starts_with(|ch: char| ch.is_ascii_lowercase()) && !params.contains(&name)
                        }))
                })
                .collect();
            if let ([handler], Expr::Path(f)) = (named.as_slice(), &*call.func) {
                return (handler, vec![path_segments(&f.path)]);
            }
        }
    }
    while let Expr::Call(c) = e {
        let Expr::Path(p) = &*c.func else { break };
        let inner = match c.args.last() {
            Some(inner @ (Expr::Path(_) | Expr::Call(_) | Expr::Closure(_))) => inner,
            _ => break,
        };
        if handler_factory(c).is_none() {
            break;
        }
        wrappers.push(path_segments(&p.path));
        e = inner;
    }
    wrappers.reverse();
    (e, wrappers)
}

/// A function of the code that makes the handler from what it is given (`get(secure_case_handler(
/// make_case!(QueryCompany)))`, returning `move |State(s), ..| async move { case.execute(..).await }`):
/// it stands for the closure it returns, whose body it holds.
fn handler_factory(c: &syn::ExprCall) -> Option<Vec<String>> {
    let Expr::Path(p) = &*c.func else { return None };
    let segs = path_segments(&p.path);
    let last = segs.last()?;
    let function = last.starts_with(|ch: char| ch.is_ascii_lowercase())
        && segs
            .iter()
            .rev()
            .nth(1)
            .is_none_or(|m| m.starts_with(|ch: char| ch.is_ascii_lowercase()));
    (function && !c.args.is_empty()).then_some(segs)
}

/// Is this parameter type an extractor? Returns its name.
pub fn extractor_name(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(tp) = ty else { return None };
    let seg = tp.path.segments.last()?;
    let name = seg.ident.to_string();
    if !EXTRACTORS.contains(&name.as_str()) {
        return None;
    }
    // `Path`, `State`, `Json`… take a type argument; `std::path::Path` is never passed by value.
    let generic = matches!(seg.arguments, syn::PathArguments::AngleBracketed(_));
    let bare_ok = matches!(
        name.as_str(),
        "Multipart" | "WebSocketUpgrade" | "RawQuery" | "OriginalUri" | "MatchedPath" | "RawForm"
    );
    (generic || bare_ok).then_some(name)
}

/// The comma-separated arguments of an attribute that parse as expressions. Others are left out, not
/// the whole attribute: utoipa's `responses((.., body = ApiError<'_>))` is no expression, but its
/// `get` and `path = ".."` are.
fn attr_args(attr: &syn::Attribute) -> Option<Vec<Expr>> {
    let syn::Meta::List(list) = &attr.meta else {
        return None;
    };
    let mut args = Vec::new();
    let mut part = proc_macro2::TokenStream::new();
    let mut flush = |part: &mut proc_macro2::TokenStream| {
        if let Ok(e) = syn::parse2::<Expr>(std::mem::take(part)) {
            args.push(e);
        }
    };
    for t in list.tokens.clone() {
        match &t {
            proc_macro2::TokenTree::Punct(p) if p.as_char() == ',' => flush(&mut part),
            _ => part.extend([t]),
        }
    }
    flush(&mut part);
    Some(args)
}

/// A route declared by an attribute on the function: actix-web and rocket (`#[get("/x")]`,
/// `#[route("/x", method = "GET")]`), poem-openapi (`#[oai(path = "/x", method = "get")]`), dropshot
/// (`#[endpoint { method = GET, path = "/x" }]`), utoipa (`#[utoipa::path(get, path = "/x")]`).
pub fn attr_routes(
    attrs: &[syn::Attribute],
    taught: &[crate::catalog::RouteAttribute],
) -> Vec<AttrRoute> {
    let mut out = Vec::new();
    for attr in attrs {
        let path = attr.path();
        // `[[route-attributes]]`: another crate's attribute that stands for a framework's.
        let written = path_segments(path);
        let teacher = taught.iter().find(|t| {
            let want: Vec<&str> = t.path.split("::").collect();
            written.len() >= want.len()
                && written[written.len() - want.len()..]
                    .iter()
                    .zip(&want)
                    .all(|(a, b)| a == b)
        });
        let name = match teacher {
            Some(t) => t.like.rsplit("::").next().unwrap_or_default().to_string(),
            None => last_segment(path),
        };
        let origin = teacher.and_then(|t| t.origin);
        if !(METHODS.contains(&name.as_str())
            || matches!(
                name.as_str(),
                "route" | "oai" | "path" | "endpoint" | "channel"
            ))
        {
            continue;
        }
        let Some(args) = attr_args(attr) else {
            continue;
        };
        let lit = |e: &Expr| match e {
            Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) => Some(s.value()),
            _ => None,
        };
        let assigned = |key: &str| -> Vec<String> {
            args.iter()
                .filter_map(|a| match a {
                    Expr::Assign(x) if matches!(&*x.left, Expr::Path(p) if p.path.is_ident(key)) => match &*x.right {
                        Expr::Path(p) => Some(last_segment(&p.path)),
                        other => lit(other),
                    },
                    _ => None,
                })
                .collect()
        };
        let standalone = matches!(name.as_str(), "oai" | "endpoint" | "channel");
        let documented = name == "path";
        let (methods, route) = match name.as_str() {
            // `#[get("/x")]`, and forks of actix's codegen that name it (`#[codegen::post(path =
            // "/x")]`, or a constant's path as text: `path = "crate::ROUTES.auth.login"`, kept as written).
            m if METHODS.contains(&m) && m != "any" => (
                vec![m.to_uppercase()],
                args.first()
                    .and_then(lit)
                    .or_else(|| assigned("path").into_iter().next()),
            ),
            "route" => (assigned("method"), args.first().and_then(lit)),
            // dropshot: `#[endpoint { method = GET, path = "/v0/projects" }]`, and a websocket's
            // `#[channel { protocol = WEBSOCKETS, path = "/v0/runners/{runner}/channel" }]`.
            "oai" | "endpoint" => (assigned("method"), assigned("path").into_iter().next()),
            "channel" if !assigned("protocol").is_empty() => {
                (vec!["GET".into()], assigned("path").into_iter().next())
            }
            "path" if path.segments.len() > 1 && path.segments[0].ident == "utoipa" => {
                let method = args.iter().find_map(|a| match a {
                    Expr::Path(p) => Some(last_segment(&p.path)),
                    _ => None,
                });
                (
                    method.into_iter().collect(),
                    assigned("path").into_iter().next(),
                )
            }
            _ => continue,
        };
        let Some(route) = route else { continue };
        // rocket's `/search?<q>`: the query string is not part of the path.
        let route = route.split('?').next().unwrap_or_default().to_string();
        let methods = if methods.is_empty() {
            vec!["ANY".to_string()]
        } else {
            methods
        };
        for m in methods {
            out.push(AttrRoute {
                method: m.to_uppercase(),
                path: route.clone(),
                standalone,
                documented,
                origin,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::join_path;

    #[test]
    fn nest_prefixes_join_like_axum() {
        assert_eq!(join_path("/api", "/users"), "/api/users");
        assert_eq!(join_path("/api/", "/users"), "/api/users");
        assert_eq!(join_path("/api", "/"), "/api");
        assert_eq!(join_path("", "/"), "/");
        assert_eq!(join_path("/v1", "items/{id}"), "/v1/items/{id}");
    }
}

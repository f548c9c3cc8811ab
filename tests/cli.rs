//! The command line as a user meets it: the JSON contract, exit statuses, configuration errors,
//! the default topology, `explain`, `lints`, `regions` and `init`.

mod common;

use common::*;

fn shop() -> std::path::PathBuf {
    fixtures().join("projects/shop")
}

fn route<'a>(json: &'a serde_json::Value, method: &str, path: &str) -> &'a serde_json::Value {
    json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == method && r["path"] == path)
        .unwrap_or_else(|| panic!("no route {method} {path} in {}", json["routes"]))
}

/// Each route's round trips, as `(method, path, trips)`: every one listed must be there with that price.
fn assert_trips(json: &serde_json::Value, want: &[(&str, &str, u64)]) {
    let got: Vec<(&str, &str, u64)> = want
        .iter()
        .map(|(method, path, _)| {
            let trips = route(json, method, path)["round_trips"].as_u64().unwrap();
            (*method, *path, trips)
        })
        .collect();
    assert_eq!(got, want, "{json}");
}

#[test]
fn json_contract_lists_every_route_with_its_price() {
    let (status, json) = check_json(&shop(), &[]);
    assert_eq!(json["version"], 1);
    assert_eq!(status, 1, "a route is over budget");

    let routes = json["routes"].as_array().unwrap();
    let keys: Vec<String> = routes
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        keys,
        [
            "GET /health",
            "GET /orders",
            "POST /orders",
            "GET /orders/{id}",
            "GET /users/{id}"
        ]
    );

    let profile = route(&json, "GET", "/users/{id}");
    assert_eq!(profile["handler"], "user_profile");
    assert_eq!(profile["handler_path"], "routes::users::user_profile");
    assert_eq!(profile["file"], "src/routes/users.rs");
    assert_eq!(profile["line"], 21);
    assert_eq!(profile["round_trips"], 3);
    // Each of the three queries goes through a sqlx pool, which checks the connection first.
    assert_eq!(profile["checkout_pings"], 3);
    assert_eq!(
        profile["lints"],
        serde_json::json!(["over-budget", "sequential-queries"])
    );
    let cost = profile["cost"].as_array().unwrap();
    assert_eq!(cost.len(), 2);
    assert_eq!(cost[0]["deployment"], "us-east-1");
    // Three round trips and three connection checks at the measured us-east-1 ↔ eu-central-1 median
    // (92.85 ms).
    let ms = cost[0]["estimated_ms"].as_f64().unwrap();
    assert!((ms - 557.1).abs() < 0.1, "{ms}");
    assert_eq!(cost[0]["budget_ms"], 500.0);
    assert_eq!(cost[0]["over_budget"], true);
    assert_eq!(cost[1]["deployment"], "eu-central-1");
    assert_eq!(cost[1]["estimated_ms"], 6.0);
    assert_eq!(cost[1]["over_budget"], false);

    // Concurrent reads cost one round trip and carry no lint.
    let show = route(&json, "GET", "/orders/{id}");
    assert_eq!(show["round_trips"], 1);
    assert_eq!(show["lints"], serde_json::json!([]));

    // BEGIN, INSERT, 10 × INSERT in the loop, COMMIT; the route has its own 1.5 s budget.
    let create = route(&json, "POST", "/orders");
    assert_eq!(create["round_trips"], 13);
    assert_eq!(create["cost"][0]["budget_ms"], 1500.0);
    assert_eq!(
        create["lints"],
        serde_json::json!(["chatty-transaction", "query-in-loop"])
    );

    let health = route(&json, "GET", "/health");
    assert_eq!(health["round_trips"], 0);

    for d in json["diagnostics"].as_array().unwrap() {
        for key in ["lint", "severity", "file", "message", "help"] {
            assert!(d[key].is_string(), "{key} in {d}");
        }
        assert!(d["line"].as_u64().unwrap() >= 1 && d["column"].as_u64().unwrap() >= 1);
    }
    let over = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["lint"] == "over-budget")
        .unwrap();
    assert_eq!(over["severity"], "error");
    assert_eq!(over["file"], "src/routes/users.rs");
}

#[test]
fn exit_status_is_zero_when_nothing_is_over_budget() {
    let (status, json) = check_json(&fixtures().join("sequential_queries.rs"), &[]);
    assert_eq!(status, 0);
    assert!(
        !json["diagnostics"].as_array().unwrap().is_empty(),
        "warnings alone do not fail the run"
    );
}

#[test]
fn a_lint_configured_as_error_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("query_in_loop.rs"), dir.path().join("a.rs")).unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "[lints]\nquery-in-loop = \"error\"\n[budget]\ndefault = \"60s\"\n",
    )
    .unwrap();
    let (status, json) = check_json(dir.path(), &[]);
    assert_eq!(status, 1);
    let severities: Vec<(&str, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["lint"].as_str().unwrap(), d["severity"].as_str().unwrap()))
        .collect();
    assert!(severities.contains(&("query-in-loop", "error")));
    assert!(
        severities
            .iter()
            .all(|(l, s)| (*l == "query-in-loop") == (*s == "error")),
        "{severities:?}"
    );

    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "[lints]\nquery-in-loop = \"allow\"\n[budget]\ndefault = \"60s\"\n",
    )
    .unwrap();
    let (status, json) = check_json(dir.path(), &[]);
    assert_eq!(status, 0);
    assert!(!json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["lint"] == "query-in-loop"));
}

#[test]
fn config_errors_point_into_the_toml_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.rs"), "fn main() {}\n").unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "deployments = [\"us-east-1\"]\n[databases.main]\nprimary = \"eu-centrl-1\"\n",
    )
    .unwrap();
    let out = hopcheck(&["check", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown region `eu-centrl-1`"), "{err}");
    assert!(
        err.contains("`eu-central-1`"),
        "names the closest region: {err}"
    );
    assert!(
        err.contains("hopcheck.toml:3:11"),
        "gives the location: {err}"
    );
    assert!(stdout(&out).is_empty());

    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "deployments = [\"us-east-1\"]\n[budgets]\ndefault = 1\n",
    )
    .unwrap();
    let out = hopcheck(&["check", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown field `budgets`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn config_flag_overrides_the_file_found() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("other.toml");
    std::fs::write(
        &cfg,
        "deployments = [\"eu-central-1\"]\n[databases.main]\nprimary = \"eu-central-1\"\n",
    )
    .unwrap();
    let (_, json) = check_json(&shop(), &["--config", &cfg.to_string_lossy()]);
    let profile = route(&json, "GET", "/users/{id}");
    assert_eq!(profile["cost"][0]["deployment"], "eu-central-1");
    // Three queries, each after the pool's connection check, inside the region.
    assert_eq!(profile["cost"][0]["estimated_ms"], 6.0);
    // Round trips inside the region are not worth a sequential-queries finding.
    assert!(!json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["lint"] == "sequential-queries"));
}

#[test]
fn without_a_config_the_default_topology_is_used_and_said() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("over_budget.rs"), dir.path().join("app.rs")).unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    assert!(json["config"]["file"].is_null());
    assert_eq!(
        json["config"]["deployments"],
        serde_json::json!(["us-east-1"])
    );
    let out = hopcheck(&["check", "--format", "json", &dir.path().to_string_lossy()]);
    assert!(
        stderr(&out).contains("default topology"),
        "{}",
        stderr(&out)
    );
    let human = hopcheck(&["check", &dir.path().to_string_lossy()]);
    assert!(
        stdout(&human).contains("priced on the default topology"),
        "{}",
        stdout(&human)
    );
}

#[test]
fn a_missing_path_is_an_error() {
    let out = hopcheck(&["check", "no/such/folder"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"));
}

#[test]
fn hopcheck_alone_checks_the_current_folder() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hopcheck"))
        .current_dir(shop())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("GET /users/{id}"));
}

#[test]
fn explain_prints_the_lint_doc_and_lints_lists_them() {
    let out = hopcheck(&["explain", "query-in-loop"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).starts_with("# query-in-loop\n"));
    assert!(stdout(&out).contains("## Use instead"));

    let out = hopcheck(&["explain", "query-in-lop"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("did you mean `query-in-loop`"));

    let out = hopcheck(&["lints"]);
    for name in [
        "sequential-queries",
        "query-in-loop",
        "over-budget",
        "parse-error",
    ] {
        assert!(stdout(&out).contains(name));
    }
}

#[test]
fn regions_lists_known_regions() {
    let out = hopcheck(&["regions", "frankfurt"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("eu-central-1"));
}

#[test]
fn init_writes_a_valid_config_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let out = hopcheck(&["init", &d]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written = std::fs::read_to_string(dir.path().join("hopcheck.toml")).unwrap();
    assert!(written.contains("deployments"));
    let out = hopcheck(&["init", &d]);
    assert_eq!(out.status.code(), Some(2), "never overwrites");
    std::fs::write(dir.path().join("a.rs"), "fn main() {}\n").unwrap();
    let (status, json) = check_json(dir.path(), &["--allow-empty"]);
    assert_eq!(status, 0);
    assert!(json["config"]["file"]
        .as_str()
        .unwrap()
        .ends_with("hopcheck.toml"));
}

/// Code with optional features: `init` says which features the code tests and offers `[build]`, and
/// once it is filled in, the features the build leaves out cost nothing (their functions included).
#[test]
fn init_offers_the_build_and_the_build_decides_what_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"books\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naxum = \"0.8\"\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n\n[features]\nenterprise = []\ncloud = []\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        r#"use axum::extract::State;

#[cfg(feature = "enterprise")]
async fn audit(db: &sqlx::PgPool) {
    let _ = sqlx::query("INSERT INTO audit DEFAULT VALUES").execute(db).await;
}

#[cfg(not(feature = "enterprise"))]
async fn audit(_db: &sqlx::PgPool) {}

async fn close(State(db): State<sqlx::PgPool>) -> String {
    #[cfg(feature = "cloud")]
    let _ = sqlx::query("UPDATE usage SET n = n + 1").execute(&db).await;
    audit(&db).await;
    String::new()
}

fn main() {
    let _app: axum::Router<sqlx::PgPool> = axum::Router::new().route("/close", axum::routing::post(close));
}
"#,
    )
    .unwrap();
    let d = dir.path().to_string_lossy().into_owned();
    let out = hopcheck(&["init", &d]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let config = dir.path().join("hopcheck.toml");
    let written = std::fs::read_to_string(&config).unwrap();
    assert!(
        written.contains("The code tests the features: cloud, enterprise."),
        "{written}"
    );
    assert!(written.contains("# [build]\n# features = []"), "{written}");
    let trips = |json: &serde_json::Value| json["routes"][0]["round_trips"].as_u64().unwrap();
    // Not said: every alternative at its costliest.
    let (_, json) = check_json(dir.path(), &["--no-cache"]);
    assert_eq!(trips(&json), 2, "{}", json["routes"]);
    // Said, as `init` offers it: the open build runs neither the cloud statement nor the enterprise audit.
    let said = written
        .replace("# [build]\n", "[build]\n")
        .replace("# features = []", "features = []");
    std::fs::write(&config, said).unwrap();
    let (status, json) = check_json(dir.path(), &["--no-cache"]);
    assert_ne!(status, 2, "the configuration loads");
    assert_eq!(trips(&json), 0, "{}", json["routes"]);
}

#[test]
fn human_output_shows_findings_and_the_route_table() {
    let out = hopcheck(&["check", "fixtures/projects/shop"]);
    let text = stdout(&out);
    insta::assert_snapshot!("shop_human", text);
}

#[test]
fn routers_from_locals_helpers_and_other_files_get_full_paths() {
    let (_, json) = check_json(&fixtures().join("projects/ledger"), &[]);
    let mut got: Vec<(String, String, String)> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["handler_path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    got.sort();
    let want = [
        ("GET", "/api/v1/accounts/{id}", "accounts::show"),
        (
            "GET",
            "/api/v1/accounts/{id}/statement",
            "accounts::statement",
        ),
        ("GET", "/healthz", "health::check"),
        ("GET", "/reports/daily", "api::reports::daily"),
        ("GET", "/version", "{closure@24#1}"),
        ("POST", "/api/v1/transfers", "api::transfers::create"),
    ];
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(got, want);
    // tokio-postgres: BEGIN, two INSERTs and COMMIT are four round trips to Tokyo.
    let transfer = route(&json, "POST", "/api/v1/transfers");
    assert_eq!(transfer["round_trips"], 4);
    // A query given as text (prepared first), then one query per row on the cached statement (5
    // iterations): `prepare_cached` asks the database only once per connection.
    let statement = route(&json, "GET", "/api/v1/accounts/{id}/statement");
    assert_eq!(statement["round_trips"], 6);
    assert_eq!(statement["prepare_round_trips"], 1);
    // The transfer's two INSERTs are text: each is prepared first.
    assert_eq!(transfer["prepare_round_trips"], 2);
}

#[test]
fn concurrent_forms_and_other_paths_cost_one_round_trip() {
    let (_, json) = check_json(&fixtures().join("sequential_queries.rs"), &[]);
    let routes = json["routes"].as_array().unwrap();
    let goods: Vec<&serde_json::Value> = routes
        .iter()
        .filter(|r| r["handler"].as_str().unwrap().starts_with("good_"))
        .collect();
    assert!(goods.len() >= 9);
    for r in goods {
        // One round trip, or none where the database runs in the process (SQLite); `good_sequential_`
        // cases make several that cannot be merged.
        let name = r["handler"].as_str().unwrap();
        assert!(
            name.starts_with("good_sequential_") || r["round_trips"].as_u64().unwrap() <= 1,
            "{name}"
        );
        assert_eq!(r["lints"], serde_json::json!([]), "{}", r["handler"]);
    }
    for r in routes
        .iter()
        .filter(|r| r["handler"].as_str().unwrap().starts_with("bad_"))
    {
        let trips = r["round_trips"].as_f64().unwrap();
        assert!(trips >= 2.0, "{}", r["handler"]);
        // Each round trip to eu-central-1 costs the measured 92.85 ms from us-east-1, and so does each
        // connection check of a sqlx pool before a query and each preparing of tokio-postgres SQL text.
        let pings = r["checkout_pings"].as_f64().unwrap();
        let prepares = r["prepare_round_trips"].as_f64().unwrap();
        let ms = r["cost"][0]["estimated_ms"].as_f64().unwrap();
        // A call to an HTTP API next to the app costs the 1 ms round trip inside the region, and is
        // said to be one the configuration does not place.
        let http = if r["handler"].as_str().unwrap().contains("_a_call_") {
            1.0
        } else {
            0.0
        };
        assert_eq!(
            r["unplaced_calls"].as_f64().unwrap_or(0.0),
            http,
            "{}",
            r["handler"]
        );
        assert!(
            (ms - (trips + pings + prepares) * 92.85 - http).abs() < 0.1,
            "{}: {ms}",
            r["handler"]
        );
    }
    // Not a handler and called by no handler: not a route.
    assert!(!routes
        .iter()
        .any(|r| r["handler"] == "good_not_on_a_request_path"));
    // The good route's call to the billing API and the bad one's to the avatars API.
    assert!(
        json["notes"].to_string().contains("2 calls on the worst paths of 2 routes go to HTTP APIs or caches hopcheck.toml does not place"),
        "{}",
        json["notes"]
    );
}

#[test]
fn calls_to_services_the_configuration_places_are_not_said_to_be_unplaced() {
    let (_, json) = check_json(&fixtures().join("libraries"), &[]);
    let unplaced = |handler: &str| {
        let r = json["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["handler"] == handler)
            .unwrap_or_else(|| panic!("no route for {handler}"));
        r["unplaced_calls"].as_u64().unwrap_or(0)
    };
    // `[services.payments]` places the payments client; redis has no `[services]` entry.
    assert_eq!(unplaced("bad_two_calls_to_the_payments_api"), 0);
    assert_eq!(unplaced("good_cache_in_the_region"), 2);
    let human = stdout(&hopcheck(&[
        "check",
        "--top",
        "0",
        &fixtures().join("libraries").to_string_lossy(),
    ]));
    assert!(
        human.contains("2 calls on the worst paths of 1 route go to HTTP APIs or caches"),
        "{human}"
    );
}

/// The help of each `sequential-queries` finding in a fixture, by the function it is in.
fn helps_by_function(fixture: &str) -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(fixtures().join(fixture)).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (_, json) = check_json(&fixtures().join(fixture), &[]);
    let mut out = std::collections::BTreeMap::new();
    for d in json["diagnostics"].as_array().unwrap() {
        let line = d["line"].as_u64().unwrap() as usize;
        let name = lines[..line]
            .iter()
            .rev()
            .find_map(|l| {
                l.strip_prefix("async fn ")
                    .map(|r| r.split('(').next().unwrap().to_string())
            })
            .unwrap();
        out.insert(name, d["help"].as_str().unwrap().to_string());
    }
    out
}

#[test]
fn the_help_follows_the_data_dependencies() {
    let helps = helps_by_function("sequential_queries.rs");
    for independent in [
        "bad_two_independent_reads",
        "bad_through_helpers",
        "bad_repository_methods",
        "bad_future_made_then_awaited",
    ] {
        assert!(
            helps[independent].contains("tokio::try_join!"),
            "{independent}: {}",
            helps[independent]
        );
        assert!(
            !helps[independent].contains("JOIN, a subquery"),
            "{independent}: {}",
            helps[independent]
        );
    }
    for dependent in [
        "bad_dependent_reads",
        "bad_query_after_a_guard",
        "bad_chained_futures",
        "bad_dependency_through_the_scrutinee",
        "bad_dependency_through_a_let_chain",
        "bad_dependency_through_a_mutable_argument",
    ] {
        assert!(
            helps[dependent].contains("JOIN, a subquery or a CTE"),
            "{dependent}: {}",
            helps[dependent]
        );
        assert!(
            !helps[dependent].contains("try_join"),
            "{dependent}: {}",
            helps[dependent]
        );
    }
}

#[test]
fn calls_that_share_a_transaction_handed_in_are_not_advised_to_run_at_once() {
    let helps = helps_by_function("sequential_queries.rs");
    let help = &helps["bad_reads_on_the_transaction_handed_in"];
    assert!(
        help.contains("run on one connection or transaction"),
        "{help}"
    );
    assert!(!help.contains("try_join"), "{help}");
}

#[test]
fn a_write_after_a_read_is_never_advised_to_run_at_once() {
    let helps = helps_by_function("sequential_queries.rs");
    for name in [
        "bad_dependency_through_if_let",
        "bad_dependency_through_a_field",
    ] {
        assert!(
            helps[name].contains("fold it into the write"),
            "{name}: {}",
            helps[name]
        );
        assert!(!helps[name].contains("try_join"), "{name}: {}", helps[name]);
    }
}

#[test]
fn loops_that_end_on_their_first_round_trip_are_not_multiplied() {
    let (_, json) = check_json(&fixtures().join("query_in_loop.rs"), &[]);
    for name in [
        "good_loop_that_returns_on_its_first_round_trip",
        "good_loop_that_breaks_after_its_round_trip",
    ] {
        let r = json["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["handler"] == name)
            .unwrap();
        assert_eq!(r["round_trips"], 1, "{name}");
    }
    let r = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["handler"] == "bad_for_loop")
        .unwrap();
    assert_eq!(r["round_trips"], 10);
}

#[test]
fn layered_services_resolve_methods_by_their_receivers_type() {
    let (_, json) = check_json(&fixtures().join("projects/blog"), &[]);
    let routes = json["routes"].as_array().unwrap();
    let keys: Vec<String> = routes
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["method"].as_str().unwrap_or("-"),
                r["path"].as_str().unwrap_or("-"),
                r["handler_path"]
            )
        })
        .collect();
    // The middleware (it takes `Next`) is no handler; the wrapped router keeps its prefix. A function
    // that adds a route to the router it is handed serves it, its computed path kept as written.
    assert_eq!(
        keys,
        [
            "GET /posts \"http::posts::list\"",
            "POST /posts/{id}/like \"http::posts::like\"",
            "GET /{prefix}/latest \"http::posts::list\""
        ]
    );
    // The `CurrentUser` extractor's lookup, then handler → service trait object → generic repository
    // bound: four round trips, not one.
    assert_eq!(route(&json, "POST", "/posts/{id}/like")["round_trips"], 4);
    assert_eq!(route(&json, "GET", "/posts")["round_trips"], 1);
}

#[test]
fn pools_route_round_trips_to_their_database_and_replica() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        r#"deployments = ["us-east-1"]
[databases.main]
primary = "eu-central-1"
replicas = ["us-east-1"]
[databases.events]
primary = "ap-northeast-1"
[pools]
"state.db" = "main"
"state.read" = "main.replica"
"state.events" = "events"
[rtt]
"us-east-1 eu-central-1" = 90
"us-east-1 ap-northeast-1" = 150
[budget]
default = "1s"
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
async fn read_near(State(state): State<AppState>) {
    sqlx::query("SELECT 1 FROM users").fetch_one(&state.read).await;
}
async fn write_far(State(state): State<AppState>) {
    sqlx::query("UPDATE users SET n = 1").execute(&state.read).await;
}
async fn events(State(state): State<AppState>) {
    sqlx::query("SELECT 1 FROM events").fetch_all(&state.events).await;
}
async fn primary(State(state): State<AppState>) {
    sqlx::query("SELECT 1 FROM users").fetch_one(&state.db).await;
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    let cost = |h: &str| {
        json["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["handler"] == h)
            .unwrap()["cost"][0]["estimated_ms"]
            .as_f64()
            .unwrap()
    };
    // A read on the replica pool stays in the region; a write on it still goes to the primary. Each
    // query first waits for the pool's connection check, a round trip to the same place.
    assert_eq!(cost("read_near"), 2.0);
    assert_eq!(cost("write_far"), 180.0);
    assert_eq!(cost("events"), 300.0);
    assert_eq!(cost("primary"), 180.0);
}

#[test]
fn a_project_teaches_hopcheck_its_own_wrappers_in_toml() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
async fn profile(State(state): State<AppState>, Path(id): Path<i64>) {
    let user = state.store.cached_user(id).await;
    let orders = repo::orders_of(&state, id).await;
    let (a, b) = pooled_join!(repo::orders_of(&state, 1), repo::orders_of(&state, 2));
    state.events.publish_later(id).await;
    audit::record(&state, id).await;
}
mod audit {
    pub async fn record(state: &AppState, id: i64) {
        sqlx::query("INSERT INTO audit (id) VALUES ($1)").bind(id).execute(&state.db).await;
    }
}
impl Outbox {
    async fn publish_later(&self, id: i64) {
        sqlx::query("INSERT INTO outbox (id) VALUES ($1)").bind(id).execute(&self.pool).await;
    }
}
"#,
    )
    .unwrap();
    // Without the entries, only `publish_later` and `audit::record` (the analysed code's own) are seen.
    let without = check_json(dir.path(), &[]).1;
    assert_eq!(without["routes"][0]["round_trips"], 2);

    std::fs::write(
        dir.path().join("hopcheck.toml"),
        r#"[budget]
default = "1s"

[[calls]]
methods = ["cached_user"]
args = 1
access = "read"

[[calls]]
functions = ["repo::orders_of"]
access = "read"

[[concurrent]]
macros = ["pooled_join"]

[[no-round-trip]]
methods = ["publish_later"]
functions = ["audit::record"]
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    // cached_user, orders_of, then the two joined calls at once: three round trips in a row; the
    // outbox write is declared no round trip on the request path.
    assert_eq!(json["routes"][0]["round_trips"], 3, "{}", json["routes"]);
    let lints = lints(&json);
    assert_eq!(lints, ["sequential-queries"]);

    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "[[calls]]\nmethods = [\"x\"]\nexecutor = \"first\"\n",
    )
    .unwrap();
    let out = hopcheck(&["check", &dir.path().to_string_lossy()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("`first` is not an argument position"),
        "{}",
        stderr(&out)
    );
}

/// (method, path, handler path, round trips) of every route of a fixture project.
fn route_table(project: &str) -> Vec<(String, String, String, u64)> {
    let (_, json) = check_json(&fixtures().join("projects").join(project), &[]);
    let mut rows: Vec<(String, String, String, u64)> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["method"].as_str().unwrap_or("-").to_string(),
                r["path"].as_str().unwrap_or("-").to_string(),
                r["handler_path"].as_str().unwrap().to_string(),
                r["round_trips"].as_u64().unwrap(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// A workspace of `members` (folder, package name), each depending on `deps` (lines of a
/// `[dependencies]` table), with an empty `src/`.
fn workspace(members: &[(&str, &str)], deps: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let folders: Vec<String> = members.iter().map(|(f, _)| format!("{f:?}")).collect();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        format!("[workspace]\nmembers = [{}]\n", folders.join(", ")),
    )
    .unwrap();
    for (folder, name) in members {
        std::fs::create_dir_all(dir.path().join(folder).join("src")).unwrap();
        std::fs::write(
            dir.path().join(folder).join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n[dependencies]\n{deps}"),
        )
        .unwrap();
    }
    dir
}

/// Each route's `key` (its path, its handler) with its round trips, in the output's order.
fn priced(json: &serde_json::Value, key: &str) -> Vec<(String, u64)> {
    json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r[key].as_str().unwrap().to_string(),
                r["round_trips"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn rows(want: &[(&str, &str, &str, u64)]) -> Vec<(String, String, String, u64)> {
    let mut v: Vec<_> = want
        .iter()
        .map(|(m, p, h, n)| (m.to_string(), p.to_string(), h.to_string(), *n))
        .collect();
    v.sort();
    v
}

#[test]
fn actix_web_scopes_resources_configure_and_attribute_routes() {
    assert_eq!(
        route_table("actix-notes"),
        rows(&[
            ("GET", "/health", "notes::health", 0),
            ("ANY", "/*", "notes::not_found", 0),
            ("ANY", "/api/notes/{id}/raw", "notes::raw", 1),
            ("GET", "/api/notes", "notes::list", 1),
            ("POST", "/api/notes", "notes::create", 11),
            ("GET", "/api/notes/{id}", "notes::show", 2),
            ("DELETE", "/api/notes/{id}", "notes::remove", 1),
            // `#[cfg(..)]` picks one of two services (no `[build]` says which, so both are served),
            // or adds to a scope a block built. The project's `Audit` middleware, wrapped on that
            // scope, writes once before each of its handlers.
            ("GET", "/api/archive", "notes::archived", 1),
            ("ANY", "/api/archive", "notes::not_found", 0),
            ("GET", "/api/stats", "notes::stats", 2),
            ("GET", "/api/stats/heap", "notes::heap", 1),
        ])
    );
}

#[test]
fn rocket_mounts_routes_and_request_guards() {
    // The `User` guard's session lookup runs before each handler that takes it.
    assert_eq!(
        route_table("rocket-todo"),
        rows(&[
            ("GET", "/", "index", 0),
            // Mounted by a fairing; `?<q>` is no part of the path.
            ("GET", "/find", "todos::search", 1),
            ("GET", "/todos", "todos::list", 2),
            ("POST", "/todos/done", "todos::done", 11),
        ])
    );
}

#[test]
fn poem_openapi_and_tonic_entry_points() {
    assert_eq!(
        route_table("poem-tonic"),
        rows(&[
            ("GET", "/products/:id", "web::product", 2),
            ("DELETE", "/products/:id", "web::remove", 1),
            // `.server(..)` on the OpenAPI service keeps the `/api` nest.
            ("GET", "/api/products", "api::CatalogApi::list", 1),
            // A poem-openapi security scheme runs its checker (one query) before the endpoint.
            ("GET", "/api/reviews", "api::CatalogApi::reviews", 2),
            (
                "GRPC",
                "/Catalog/get_products",
                "grpc::CatalogService::get_products",
                10
            ),
            // A result alias is still a gRPC method; the generated trait's default `ping` is not one.
            ("GRPC", "/Catalog/count", "grpc::CatalogService::count", 1),
        ])
    );
}

#[test]
fn salvo_routers_nest_paths_and_run_their_hoops() {
    assert_eq!(
        route_table("salvo-rooms"),
        rows(&[
            ("GET", "/", "routing::home", 0),
            // A map's `get` in the handler is no route.
            ("GET", "/health", "routing::health", 0),
            // The session hoop runs before every handler of its router, those served before the
            // `.hoop(..)` as those after, and before those of the routers pushed into it. The data
            // crate is reached as `crate::data`, the server's alias of it.
            ("GET", "/api/rooms", "routing::list_rooms", 2),
            ("POST", "/api/rooms", "routing::create_room", 2),
            ("GET", "/api/rooms/{room_id}/members", "routing::members", 2),
            ("POST", "/api/rooms/{room_id}/join", "routing::join_room", 2),
            // Pushed in a loop over versions: the version as written.
            ("GET", "/api/client/{v}/whoami", "routing::whoami", 1),
        ])
    );
}

#[test]
fn closure_handlers_held_in_locals_are_routed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
pub fn app() -> Router<PgPool> {
    let health = || async { "ok" };
    let stats = |State(db): State<PgPool>| async move { sqlx::query("SELECT 1").execute(&db).await.map(|_| ()) };
    Router::new().route("/health", get(health)).route("/stats", get(stats))
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let got = priced(&json, "path");
    assert_eq!(got, [("/health".to_string(), 0), ("/stats".to_string(), 1)]);
}

#[test]
fn rocket_okapi_route_lists_are_mounted_under_their_prefixes() {
    // `mount_endpoints_and_merged_docs!` mounts each `openapi_get_routes_spec!` list at the base joined
    // with its path; neither macro is in a file that says `routes!` or `async`.
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir_all(src.join("routes")).unwrap();
    let files = [
        (
            "main.rs",
            "mod routes;\n#[rocket::launch]\nfn rocket() -> _ {\n    routes::mount(rocket::build())\n}\n",
        ),
        (
            "routes/mod.rs",
            r#"pub mod users;
pub fn mount(mut rocket: Rocket<Build>) -> Rocket<Build> {
    let settings = OpenApiSettings::default();
    mount_endpoints_and_merged_docs! {
        rocket, "/0.8".to_owned(), settings,
        "/" => (vec![], custom_openapi_spec()),
        "/users" => users::routes(),
    };
    rocket
}
"#,
        ),
        (
            "routes/users.rs",
            r#"pub fn routes() -> (Vec<rocket::Route>, OpenApi) {
    openapi_get_routes_spec![fetch]
}
#[rocket::get("/<id>")]
pub async fn fetch(db: &State<sqlx::PgPool>, id: i64) -> String {
    sqlx::query("SELECT 1").bind(id).fetch_one(db.inner()).await.ok();
    String::new()
}
"#,
        ),
    ];
    for (name, text) in files {
        std::fs::write(src.join(name), text).unwrap();
    }
    let (_, json) = check_json(dir.path(), &["-q"]);
    let got = priced(&json, "path");
    assert_eq!(got, [("/0.8/users/<id>".to_string(), 1)]);
}

#[test]
fn aide_routes_and_nested_api_services() {
    assert_eq!(
        route_table("aide-api"),
        rows(&[
            ("POST", "/api/v1/app", "create_app", 1),
            ("GET", "/api/v1/app", "list_apps", 1),
            ("GET", "/api/v1/app/{id}", "app_stats", 2),
        ])
    );
}

#[test]
fn path_dependencies_in_the_repository_are_followed_and_none_outside_it() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| put(dir.path(), rel, text);
    std::fs::create_dir_all(dir.path().join("repo/.git")).unwrap();
    write(
        "repo/app/Cargo.toml",
        "[package]\nname = \"app\"\n[dependencies]\nshared = { path = \"../shared\" }\nsecret = { path = \"../../elsewhere\" }\n",
    );
    write(
        "repo/app/src/main.rs",
        "async fn profile(State(pool): State<PgPool>) {\n    shared::users::find(&pool).await;\n    shared::users::find(&pool).await;\n    secret::keys::load(&pool).await;\n}\n",
    );
    write(
        "repo/shared/Cargo.toml",
        "[package]\nname = \"shared\"\n[dependencies]\nsqlx = \"0.8\"\n",
    );
    write("repo/shared/src/lib.rs", "pub mod users;\n");
    write(
        "repo/shared/src/users.rs",
        "pub async fn find(pool: &PgPool) {\n    sqlx::query(\"SELECT 1\").fetch_one(pool).await;\n}\n",
    );
    // A crate outside the repository: a manifest must not send hopcheck reading there.
    write(
        "elsewhere/Cargo.toml",
        "[package]\nname = \"secret\"\n[dependencies]\nsqlx = \"0.8\"\n",
    );
    write("elsewhere/src/lib.rs", "pub mod keys;\n");
    write(
        "elsewhere/src/keys.rs",
        "pub async fn load(pool: &PgPool) {\n    sqlx::query(\"SELECT 2\").fetch_one(pool).await;\n    sqlx::query(\"SELECT 3\").fetch_one(pool).await;\n}\n",
    );
    let (_, json) = check_json(&dir.path().join("repo/app"), &["-q"]);
    assert_eq!(
        json["routes"][0]["round_trips"], 2,
        "the two calls into ../shared, none into ../../elsewhere: {}",
        json["routes"]
    );
    assert_eq!(json["diagnostics"][0]["file"], "src/main.rs");
    let files: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["file"].as_str())
        .collect();
    assert!(files.iter().all(|f| !f.contains("elsewhere")), "{files:?}");
}

#[test]
fn sqlite_queries_are_no_round_trips_and_documented_routes_need_a_router() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
use rusqlite::Connection;

/// Documented, but no router mounts it: no route.
#[utoipa::path(get, path = "/unmounted")]
async fn unmounted() -> &'static str { "x" }

async fn counts(State(db): State<AppState>) -> rusqlite::Result<()> {
    let conn = db.conn.lock().unwrap();
    conn.execute("DELETE FROM sessions WHERE expired = 1", [])?;
    conn.execute("DELETE FROM tokens WHERE expired = 1", [])?;
    Ok(())
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let routes = priced(&json, "handler");
    assert_eq!(routes, [("counts".to_string(), 0)]);
    assert_eq!(json["diagnostics"].as_array().unwrap().len(), 0);
}

#[test]
fn utoipa_axum_routers_take_their_paths_from_the_attributes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
use axum::{routing::get, Router};
use utoipa_axum::{router::OpenApiRouter, routes};

/// Lists a crate's owners.
#[utoipa::path(
    get,
    path = "/api/v1/crates/{name}/owners",
    responses((status = 200, body = Owners), (status = "4XX", body = ApiError<'_>)),
)]
async fn list_owners(state: AppState, path: CratePath) -> Json<Owners> {
    let conn = state.db.get().await.unwrap();
    Json(owners(&conn, &path.name).await)
}

async fn metrics(state: AppState) -> String {
    String::new()
}

fn build(state: AppState) -> Router {
    let (router, _api) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(list_owners))
        .split_for_parts();
    router.route("/api/private/metrics", get(metrics)).with_state(state)
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let mut routes: Vec<(String, String, String)> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("-").to_string();
            (s("method"), s("path"), s("handler"))
        })
        .collect();
    routes.sort();
    let expected = [
        ("GET", "/api/private/metrics", "metrics"),
        ("GET", "/api/v1/crates/{name}/owners", "list_owners"),
    ]
    .map(|(m, p, h)| (m.to_string(), p.to_string(), h.to_string()));
    assert_eq!(routes, expected);
}

#[test]
fn utoipa_actix_web_scopes_configure_their_parameter_and_serve_actix_attributes() {
    // `utoipa_actix_web::scope(..).configure(|config| { config.service(h).service(g); })`: each handler
    // is served at the scope plus its actix attribute; `#[utoipa::path]` beside it only documents.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
#[utoipa::path(post, path = "/job", context_path = "/api", responses((status = 200)))]
#[post("")]
pub async fn create_job(db: web::Data<sqlx::PgPool>) -> String {
    sqlx::query("INSERT INTO jobs DEFAULT VALUES").execute(db.get_ref()).await.ok();
    String::new()
}
#[utoipa::path(get, path = "/job/{job_id}", context_path = "/api", responses((status = 200)))]
#[get("/{job_id}")]
pub async fn get_job(job_id: web::Path<String>, db: web::Data<sqlx::PgPool>) -> String {
    sqlx::query("SELECT 1").execute(db.get_ref()).await.ok();
    String::new()
}
#[get("")]
pub async fn health_check() -> String {
    String::new()
}
pub async fn main() -> std::io::Result<()> {
    HttpServer::new(move || {
        App::new()
            .into_utoipa_app()
            .service(utoipa_actix_web::scope("/api/job").configure(|config| {
                config.service(create_job).service(get_job);
            }))
            .service(utoipa_actix_web::scope("/health").configure(|config| {
                config.service(health_check);
            }))
            .into_app()
    })
    .bind(("0.0.0.0", 8082))?
    .run()
    .await
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let mut routes: Vec<String> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r["method"].as_str().unwrap_or("-"),
                r["path"].as_str().unwrap_or("-"),
                r["handler"].as_str().unwrap()
            )
        })
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            "GET /api/job/{job_id} get_job",
            "GET /health health_check",
            "POST /api/job create_job"
        ]
    );
}

#[test]
fn dropshot_endpoints_and_channels_are_routes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("api.rs"),
        r#"
#[endpoint {
    method = GET,
    path = "/v0/projects/{project}",
    tags = ["projects"]
}]
pub async fn project_get(
    rqctx: RequestContext<ApiContext>,
    path_params: Path<ProjectParams>,
) -> Result<ResponseOk<JsonProject>, HttpError> {
    let conn = rqctx.context().pool.get().await?;
    sqlx::query("SELECT * FROM project WHERE slug = $1").bind(&path_params.project).fetch_one(&conn).await?;
    Ok(ResponseOk::new())
}

#[channel {
    protocol = WEBSOCKETS,
    path = "/v0/runners/{runner}/channel",
}]
pub async fn runner_channel(rqctx: RequestContext<ApiContext>, conn: WebsocketConnection) -> WebsocketChannelResult {
    Ok(())
}

pub fn register(api: &mut ApiDescription<ApiContext>) -> Result<(), ApiDescriptionRegisterError> {
    api.register(project_get)?;
    api.register(runner_channel)?;
    Ok(())
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let mut routes: Vec<(String, String, u64)> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                format!(
                    "{} {}",
                    r["method"].as_str().unwrap_or("-"),
                    r["path"].as_str().unwrap_or("-")
                ),
                r["handler"].as_str().unwrap().to_string(),
                r["round_trips"].as_u64().unwrap(),
            )
        })
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            (
                "GET /v0/projects/{project}".to_string(),
                "project_get".to_string(),
                1
            ),
            (
                "GET /v0/runners/{runner}/channel".to_string(),
                "runner_channel".to_string(),
                0
            )
        ]
    );
}

#[test]
fn sql_built_at_run_time_through_assert_sql_safe_is_a_statement() {
    // sqlx 0.9 takes SQL a program builds only wrapped in `AssertSqlSafe`; `query` is imported bare.
    let handler = r#"
use sqlx::{query, AssertSqlSafe, Postgres, Transaction};
pub fn app() -> Router<sqlx::PgPool> {
    Router::new().route("/orgs/{id}/lock", post(lock))
}
async fn set_lock_timeout(tx: &mut Transaction<'_, Postgres>) -> sqlx::Result<()> {
    query(AssertSqlSafe(format!("SET LOCAL lock_timeout = {}", 5000))).execute(&mut **tx).await?;
    Ok(())
}
async fn lock(State(db): State<sqlx::PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {
    let mut tx = db.begin().await?;
    set_lock_timeout(&mut tx).await?;
    query("SELECT id FROM orgs WHERE id = $1 FOR NO KEY UPDATE").bind(id).execute(&mut *tx).await?;
    tx.commit().await
}
"#;
    let dir = workspace(
        &[("api", "api")],
        "axum = \"0.8\"\nsqlx = { version = \"0.9\", features = [\"postgres\"] }\n",
    );
    std::fs::write(dir.path().join("api/src/main.rs"), handler).unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    // BEGIN, the timeout, the lock, COMMIT.
    assert_eq!(json["routes"][0]["round_trips"], 4, "{}", json["routes"]);
}

#[test]
fn a_crate_whose_manifest_says_sqlite_only_prices_its_queries_at_nothing() {
    // The connection type is an alias in another file, so only the manifest tells which database it is.
    let handler = r#"
pub fn app() -> Router<Pool> {
    Router::new().route("/projects/{id}", get(project))
}
async fn project(State(pool): State<Pool>, Path(id): Path<i64>) -> String {
    let mut conn = pool.get().await.unwrap();
    let name: String = sqlx::query_scalar("SELECT name FROM project WHERE id = $1").bind(id).fetch_one(&mut *conn).await.unwrap();
    let runs: i64 = sqlx::query_scalar("SELECT count(*) FROM run WHERE project = $1").bind(id).fetch_one(&mut *conn).await.unwrap();
    format!("{name} {runs}")
}
"#;
    let priced = |features: &str, own_features: &str| {
        let dir = workspace(
            &[("api", "api")],
            &format!("axum = \"0.8\"\nsqlx = {{ version = \"0.8\", features = [{features}] }}\n"),
        );
        let manifest = dir.path().join("api/Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap();
        std::fs::write(&manifest, format!("{text}{own_features}")).unwrap();
        std::fs::write(dir.path().join("api/src/main.rs"), handler).unwrap();
        let (_, json) = check_json(dir.path(), &["-q"]);
        let route = &json["routes"][0];
        (
            route["round_trips"].as_u64().unwrap(),
            json["notes"].to_string().contains("queries go to SQLite"),
        )
    };
    assert_eq!(priced("\"sqlite\", \"runtime-tokio\"", ""), (0, true));
    // A build may talk to PostgreSQL: priced as the networked database.
    assert_eq!(priced("\"sqlite\", \"postgres\"", ""), (2, false));
    assert_eq!(
        priced("\"sqlite\"", "[features]\npg = [\"sqlx/postgres\"]\n"),
        (2, false)
    );
}

#[test]
fn actix_configure_closures_mount_what_they_call_under_their_scope() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
use actix_web::{web, App};

async fn login(body: web::Json<Login>) -> String {
    String::new()
}

async fn health() -> &'static str {
    "ok"
}

fn configure_auth(cfg: &mut web::ServiceConfig, resets: bool) {
    cfg.route("/login", web::post().to(login));
}

fn app(resets: bool) -> App {
    App::new()
        .service(web::scope("/auth").configure(|cfg| configure_auth(cfg, resets)))
        .configure(move |cfg| {
            cfg.route("/health", web::get().to(health));
        })
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let routes = common::paths_and_handlers(&json);
    assert!(
        routes.contains(&("/auth/login".to_string(), "login".to_string())),
        "{routes:?}"
    );
}

/// `fn configure_api(cfg: &mut ServiceConfig) { users::configure(cfg); }`: a configuring function that
/// hands its configuration on mounts what the other one adds, under the scope it is mounted in.
#[test]
fn actix_configure_functions_that_hand_their_configuration_on_keep_the_scope() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src/users")).unwrap();
    std::fs::write(
        dir.path().join("src/users/mod.rs"),
        r#"
use actix_web::{web, HttpResponse};

pub fn configure_routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/users/{id}", web::get().to(get_user));
}

async fn get_user(pool: web::Data<sqlx::PgPool>) -> HttpResponse {
    sqlx::query("SELECT 1").execute(pool.get_ref()).await.ok();
    HttpResponse::Ok().finish()
}
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/lib.rs"),
        r#"
mod users;
use actix_web::{web, App, HttpServer};

pub fn configure_server_api(cfg: &mut web::ServiceConfig) {
    users::configure_routes(cfg);
}

pub async fn run() -> std::io::Result<()> {
    HttpServer::new(move || {
        App::new().service(web::scope("/api/v1").configure(|cfg| configure_server_api(cfg)))
    })
    .bind("0.0.0.0:8080")?
    .run()
    .await
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let routes = common::paths_and_handlers(&json);
    assert_eq!(
        routes,
        vec![("/api/v1/users/{id}".to_string(), "get_user".to_string())]
    );
}

#[test]
fn statements_of_a_helper_handed_a_transaction_take_no_pool_check() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
use axum::extract::{Json, State};
use sqlx::{PgConnection, PgPool};

async fn insert_subscriber(conn: &mut PgConnection, email: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar("INSERT INTO subscribers (email) VALUES ($1) RETURNING id").bind(email).fetch_one(conn).await
}

async fn store_token(conn: &mut PgConnection, id: i64) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO tokens (subscriber_id) VALUES ($1)").bind(id).execute(conn).await?;
    Ok(())
}

async fn subscribe(State(pool): State<PgPool>, Json(email): Json<String>) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let id = insert_subscriber(&mut tx, &email).await?;
    store_token(&mut tx, id).await?;
    tx.commit().await?;
    Ok(())
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let route = &json["routes"][0];
    assert_eq!(route["handler"], "subscribe");
    // BEGIN, two statements, COMMIT, all on the transaction's connection: no pool check before the
    // helpers' statements.
    assert_eq!(route["round_trips"], 4, "{route}");
    assert_eq!(route["checkout_pings"], 0, "{route}");
}

#[test]
fn method_calls_reach_methods_of_their_arity_and_struct_literals_are_typed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
use axum::extract::{Path, State};
use sqlx::PgPool;

struct InviteQuery { owner: i64 }
struct PostQuery { tag: String }
struct Pipeline;

impl InviteQuery {
    async fn list(self, db: &PgPool) -> sqlx::Result<Vec<i64>> {
        sqlx::query_scalar("SELECT id FROM invites WHERE owner = $1").bind(self.owner).fetch_all(db).await
    }
}

impl PostQuery {
    async fn list(self, db: &PgPool) -> sqlx::Result<Vec<i64>> {
        let tag: i64 = sqlx::query_scalar("SELECT id FROM tags WHERE name = $1").bind(&self.tag).fetch_one(db).await?;
        let ids = sqlx::query_scalar("SELECT post_id FROM post_tags WHERE tag_id = $1").bind(tag).fetch_all(db).await?;
        sqlx::query("UPDATE tags SET hits = hits + 1 WHERE id = $1").bind(tag).execute(db).await?;
        Ok(ids)
    }
}

impl Pipeline {
    async fn execute(&self, db: &PgPool, a: i64, b: i64) -> sqlx::Result<()> {
        sqlx::query("DELETE FROM a WHERE id = $1").bind(a).execute(db).await?;
        sqlx::query("DELETE FROM b WHERE id = $1").bind(b).execute(db).await?;
        Ok(())
    }
}

async fn invites(State(db): State<PgPool>, Path(owner): Path<i64>) -> sqlx::Result<()> {
    let ids = InviteQuery { owner }.list(&db).await?;
    println!("{ids:?}");
    Ok(())
}

async fn run_statement(State(db): State<PgPool>, Path(sql): Path<String>) -> sqlx::Result<()> {
    let statement = prepare(&sql);
    connect(&db).execute(statement).await?;
    Ok(())
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let trips = |handler: &str| {
        json["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["handler"] == handler)
            .map(|r| r["round_trips"].as_u64().unwrap())
    };
    // `InviteQuery { .. }.list(..)` is InviteQuery's one query, not PostQuery's three.
    assert_eq!(trips("invites"), Some(1));
    // `connect(..).execute(statement)` passes one argument: not `Pipeline::execute(&self, db, a, b)`'s
    // two deletes, but the one statement it sends on the connection.
    assert_eq!(trips("run_statement"), Some(1));
}

#[test]
fn synchronous_repositories_in_files_without_async_are_followed() {
    // `state.rs` and `repo.rs` have no `async`: the text scan skips them until the handler names their
    // types, and the blocking diesel calls in them are round trips all the same.
    let (_, json) = check_json(&fixtures().join("projects/sync-repo"), &[]);
    let profile = route(&json, "GET", "/users/{id}");
    assert_eq!(profile["round_trips"], 2);
    // Each `self.pool.get()` of r2d2 checks the connection (`SELECT 1`) first.
    assert_eq!(profile["checkout_pings"], 2);
    let sequential = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["lint"] == "sequential-queries")
        .unwrap();
    let help = sequential["help"].as_str().unwrap();
    assert!(help.contains("spawn_blocking"), "{help}");
}

#[test]
fn typical_and_worst_case_counts_differ_where_an_early_return_costs_more() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
async fn h(State(db): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&db).await?;
    if n > 1000 {
        sqlx::query("DELETE FROM sessions").execute(&db).await?;
        sqlx::query("DELETE FROM tokens").execute(&db).await?;
        return Ok(());
    }
    sqlx::query("UPDATE users SET seen = now() WHERE id = $1").bind(id).execute(&db).await?;
    Ok(())
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(json["routes"][0]["round_trips"], 3);
    assert_eq!(json["routes"][0]["typical_round_trips"], 2);
}

#[test]
fn routers_on_other_threads_spawn_wrappers_and_typed_locals() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
fn main() {
    std::thread::spawn(|| {
        let metrics = Router::new().route("/metrics", get(metrics));
        serve(metrics);
    });
}

async fn metrics(State(db): State<PgPool>) -> String {
    // A project's own wrapper of `tokio::spawn`: the task is off the request path.
    spawn_try_task(async move {
        sqlx::query("DELETE FROM old_metrics").execute(&db).await;
        sqlx::query("VACUUM").execute(&db).await;
    });
    // `reports` is typed by its constructor: its `count` is Reports::count, not Audit::count.
    let reports = Reports::new(db.clone());
    reports.count().await
}

struct Reports { db: PgPool }
impl Reports {
    fn new(db: PgPool) -> Reports { Reports { db } }
    async fn count(&self) -> String { String::new() }
}
struct Audit { db: PgPool }
impl Audit {
    async fn count(&self) -> String {
        sqlx::query("SELECT count(*) FROM audit").fetch_one(&self.db).await;
        String::new()
    }
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let r = route(&json, "GET", "/metrics");
    assert_eq!(r["round_trips"], 0, "{r}");
}

#[test]
fn handlers_no_router_mounts_are_listed_and_fail_only_when_priced_over_budget() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
pub fn app() -> Router<PgPool> {
    Router::new().route("/live", get(live))
}
async fn live(State(db): State<PgPool>) {
    sqlx::query("SELECT 1").execute(&db).await;
}
/// Takes extractors, but no router mounts it: dead code, or a route hopcheck could not see.
async fn forgotten(State(db): State<PgPool>) {
    sqlx::query("SELECT 1").execute(&db).await;
    sqlx::query("SELECT 2").execute(&db).await;
    sqlx::query("SELECT 3").execute(&db).await;
    sqlx::query("SELECT 4").execute(&db).await;
}
"#,
    )
    .unwrap();
    let (status, json) = check_json(dir.path(), &["-q"]);
    // Four round trips from us-east-1 to eu-central-1 are over the default 250 ms: its budget is not
    // checked (no route key), but the run cannot pass as if it had been.
    assert_eq!(status, 1);
    assert_eq!(
        lints(&json),
        ["unrouted-over-budget"],
        "{}",
        json["diagnostics"]
    );
    let forgotten = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["handler"] == "forgotten")
        .unwrap();
    assert!(forgotten["path"].is_null());
    assert_eq!(forgotten["round_trips"], 4);
}

#[test]
fn another_builds_copy_of_a_handler_and_a_spawned_one_are_no_unrouted_handlers() {
    // `organization_create` exists once per feature and the router names it once; `migrate_one` takes
    // a `State` but is handed to a task set, not mounted; `forgotten` is what is left unrouted.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
pub fn app() -> Router<PgPool> {
    Router::new().route("/organizations", post(organization_create))
}
#[cfg(feature = "v1")]
async fn organization_create(State(db): State<PgPool>) {
    sqlx::query("INSERT INTO organizations DEFAULT VALUES").execute(&db).await;
}
#[cfg(feature = "v2")]
async fn organization_create(State(db): State<PgPool>) {
    sqlx::query("INSERT INTO organizations_v2 DEFAULT VALUES").execute(&db).await;
    sqlx::query("INSERT INTO audit DEFAULT VALUES").execute(&db).await;
    sqlx::query("INSERT INTO audit DEFAULT VALUES").execute(&db).await;
}
pub async fn migrate_all(db: PgPool, ids: Vec<i64>) {
    let mut set = tokio::task::JoinSet::new();
    for id in ids {
        set.spawn_local(migrate_one(State(db.clone()), id));
    }
}
async fn migrate_one(State(db): State<PgPool>, id: i64) {
    sqlx::query("UPDATE items SET v = 2 WHERE id = $1").bind(id).execute(&db).await;
    sqlx::query("UPDATE items SET w = 2 WHERE id = $1").bind(id).execute(&db).await;
    sqlx::query("UPDATE items SET x = 2 WHERE id = $1").bind(id).execute(&db).await;
}
async fn forgotten(State(db): State<PgPool>) {
    sqlx::query("SELECT 1").execute(&db).await;
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(
        json["coverage"]["unrouted"],
        serde_json::json!(["app::forgotten"]),
        "{}",
        json["coverage"]
    );
    assert!(
        lints(&json).iter().all(|l| *l != "unrouted-over-budget"),
        "{}",
        json["diagnostics"]
    );
    // The build that is deployed leaves the other copy out, named or not.
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "[build]\nfeatures = [\"v1\"]\n",
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(
        json["coverage"]["unrouted"],
        serde_json::json!(["app::forgotten"])
    );
}

#[test]
fn methods_on_values_returned_by_calls_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
async fn show(State(pool): State<Pool>, Path(slug): Path<String>) -> String {
    let conn = &mut pool.get().unwrap();
    let article = Article::by_slug(conn, &slug).unwrap();
    let count = article.favorites_count(conn);
    format!("{count}")
}
pub struct Article { id: i32 }
impl Article {
    pub fn by_slug(conn: &mut PgConnection, slug: &str) -> QueryResult<Article> {
        articles::table.filter(articles::slug.eq(slug)).first(conn)
    }
    pub fn favorites_count(&self, conn: &mut PgConnection) -> i64 {
        favorites::table.filter(favorites::article_id.eq(self.id)).count().get_result(conn).unwrap_or(0)
    }
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(json["routes"][0]["round_trips"], 2, "{}", json["routes"]);
}

#[test]
fn types_imported_under_another_name_type_their_locals() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        r#"
mod logger;
use crate::logger::ActivityLogger as Logger;

async fn handler(State(db): State<PgPool>) {
    let log = Logger::new(db.clone());
    log.record("viewed").await;
}
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/logger.rs"),
        r#"
pub struct ActivityLogger { db: PgPool }
impl ActivityLogger {
    pub fn new(db: PgPool) -> Self { ActivityLogger { db } }
    pub async fn record(&self, what: &str) {
        sqlx::query("INSERT INTO activity (what) VALUES ($1)").bind(what).execute(&self.db).await;
    }
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(json["routes"][0]["round_trips"], 1, "{}", json["routes"]);
}

#[test]
fn methods_on_values_destructured_from_a_returned_tuple_are_followed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
async fn show(State(pool): State<Pool>, Path(slug): Path<String>) -> String {
    let conn = &mut pool.get().unwrap();
    let (article, author) = Article::with_author(conn, &slug).unwrap();
    let count = article.favorites_count(conn);
    let profile = author.profile(conn);
    format!("{count} {profile}")
}
pub struct Article { id: i32 }
pub struct User { id: i32 }
impl Article {
    pub fn with_author(conn: &mut PgConnection, slug: &str) -> QueryResult<(Self, User)> {
        articles::table.inner_join(users::table).filter(articles::slug.eq(slug)).first(conn)
    }
    pub fn favorites_count(&self, conn: &mut PgConnection) -> i64 {
        favorites::table.filter(favorites::article_id.eq(self.id)).count().get_result(conn).unwrap_or(0)
    }
}
impl User {
    pub fn profile(&self, conn: &mut PgConnection) -> bool {
        follows::table.filter(follows::followee_id.eq(self.id)).count().get_result::<i64>(conn).is_ok()
    }
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(json["routes"][0]["round_trips"], 3, "{}", json["routes"]);
}

#[test]
fn a_transaction_that_sets_the_session_is_kept_by_the_help() {
    // Row-level security: the transaction exists for its `SET LOCAL`; dropping it would leak rows.
    let help = sequential_help(
        r#"
/// A transaction as the signed-in user: row-level security reads the setting.
async fn begin_as(db: &sqlx::PgPool, user: &str) -> sqlx::Transaction<'static, sqlx::Postgres> {
    let mut tx = db.begin().await.unwrap();
    sqlx::query("SELECT set_config('app.user', $1, true)").bind(user).execute(&mut *tx).await.unwrap();
    tx
}
async fn flows(State(db): State<sqlx::PgPool>, Path(user): Path<String>) -> String {
    let mut tx = begin_as(&db, &user).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM flow").fetch_one(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    n.to_string()
}
fn main() { let _ = axum::Router::new().route("/flows/{user}", axum::routing::get(flows)); }
"#,
    );
    assert!(
        help.contains("keep it, and merge the statements inside it"),
        "{help}"
    );
    assert!(!help.contains("needs no explicit transaction"), "{help}");
}

#[test]
fn a_request_that_polls_for_a_job_is_no_n_plus_one_nor_a_read_back() {
    // The handler queues a job, then waits for a worker to complete it: the loop sleeps between reads.
    let help = |source: &str| {
        let json = check_source(source);
        let lints: Vec<String> = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!("{}: {}", d["lint"], d["help"]))
            .collect();
        lints.join("\n")
    };
    let found = help(
        r#"
async fn run_and_wait(State(db): State<sqlx::PgPool>, Json(script): Json<String>) -> String {
    let id: i64 = sqlx::query_scalar("INSERT INTO queue (script) VALUES ($1) RETURNING id").bind(&script).fetch_one(&db).await.unwrap();
    let mut result: Option<String> = None;
    let mut waited = 0;
    loop {
        if result.is_none() {
            result = sqlx::query_scalar("SELECT result FROM completed WHERE id = $1").bind(id).fetch_optional(&db).await.unwrap();
        }
        if result.is_some() || waited > 100 {
            break;
        }
        waited += 1;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    result.unwrap_or_default()
}
fn main() { let _ = axum::Router::new().route("/run", axum::routing::post(run_and_wait)); }
"#,
    );
    assert!(!found.contains("query-in-loop"), "{found}");
    assert!(
        !found.contains("RETURNING …` instead of reading it back"),
        "{found}"
    );
    // The same loop over rows, without the wait, is an N+1.
    let rows = help(
        r#"
async fn totals(State(db): State<sqlx::PgPool>, Json(ids): Json<Vec<i64>>) -> String {
    let mut it = ids.into_iter();
    let mut sum = 0i64;
    loop {
        let Some(id) = it.next() else { break };
        let n: i64 = sqlx::query_scalar("SELECT total FROM orders WHERE id = $1").bind(id).fetch_one(&db).await.unwrap();
        sum += n;
    }
    sum.to_string()
}
fn main() { let _ = axum::Router::new().route("/totals", axum::routing::post(totals)); }
"#,
    );
    assert!(rows.contains("query-in-loop"), "{rows}");
}

#[test]
fn a_synchronous_service_without_an_async_runtime_is_advised_threads() {
    // rocket 0.4 with plain diesel and no tokio: `spawn_blocking` and `try_join!` do not exist there.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"nags\"\nversion = \"0.1.0\"\n[dependencies]\nrocket = \"0.4\"\ndiesel = { version = \"1\", features = [\"postgres\"] }\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        r#"#![feature(proc_macro_hygiene, decl_macro)]
#[macro_use]
extern crate rocket;
use diesel::prelude::*;

#[get("/nags/<user>")]
fn nags(user: i32, conn: DbConn) -> String {
    let open = proposals::table.filter(proposals::author.eq(user)).count().get_result::<i64>(&*conn).unwrap();
    let reviews = reviews::table.filter(reviews::reviewer.eq(user)).count().get_result::<i64>(&*conn).unwrap();
    format!("{open} {reviews}")
}

fn main() {
    rocket::ignite().mount("/", routes![nags]).launch();
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let help = help_of(&json, "sequential-queries");
    assert!(help.contains("std::thread::scope"), "{help}");
    assert!(
        !help.contains("spawn_blocking") && !help.contains("try_join"),
        "{help}"
    );
}

#[test]
fn help_for_blocking_calls_in_a_synchronous_function_never_offers_bare_try_join() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
async fn feed(State(repo): State<Repo>, Path(user): Path<i32>) -> String {
    repo.feed(user).await
}
pub struct Repo { pool: Pool }
impl Repo {
    pub async fn feed(&self, user: i32) -> String {
        load_feed(&mut self.pool.get().unwrap(), user)
    }
}
fn load_feed(conn: &mut PgConnection, user: i32) -> String {
    let ids = follows::table.filter(follows::follower_id.eq(user)).select(follows::followee_id).load::<i32>(conn).unwrap();
    let posts = posts::table.filter(posts::author_id.eq_any(ids)).load::<Post>(conn).unwrap();
    let tags = tags::table.load::<Tag>(conn).unwrap();
    format!("{} {}", posts.len(), tags.len())
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let help = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["lint"] == "sequential-queries")
        .expect("a sequential-queries finding")["help"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(help.contains("some reads use earlier results"), "{help}");
    assert!(help.contains("spawn_blocking"), "{help}");
    assert!(!help.contains("on separate pool connections"), "{help}");
}

#[test]
fn fields_bound_by_a_struct_pattern_parameter_type_their_methods() {
    // `app` is the extractor's field, then shadowed by a local of another type: the call before the
    // shadowing still reaches the field type's method.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
pub fn router() -> Router {
    Router::new().route("/app", patch(patch_application))
}
pub struct WithApp { pub app: Model }
async fn patch_application(State(db): State<DatabaseConnection>, WithApp { app }: WithApp) -> String {
    let metadata = app.fetch_metadata(&db).await;
    let app: ActiveModel = app.into();
    let app = app.update(&db).await;
    String::new()
}
pub struct Model { id: i32 }
pub struct ActiveModel { id: i32 }
impl Model {
    pub async fn fetch_metadata(&self, db: &DatabaseConnection) -> i32 {
        metadata::Entity::find_by_id(self.id).one(db).await;
        1
    }
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(
        route(&json, "PATCH", "/app")["round_trips"],
        2,
        "{}",
        json["routes"]
    );
}

#[test]
fn a_receiver_bound_by_another_crates_trait_reaches_the_analysed_implementation() {
    // `Database` is declared in a crate that is not analysed; `Postgres` implements it here.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
use store_api::Database;
pub fn router<DB: Database>() -> Router<AppState<DB>> {
    Router::new().route("/", get(index::<DB>))
}
pub struct AppState<DB: Database> { pub database: DB }
async fn index<DB: Database>(state: State<AppState<DB>>) -> String {
    let count = state.database.total_history().await.unwrap_or(-1);
    format!("{count}")
}
pub struct Postgres { pool: PgPool }
#[async_trait]
impl Database for Postgres {
    async fn total_history(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT sum(total) FROM total_history_count_user").fetch_one(&self.pool).await
    }
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(
        route(&json, "GET", "/")["round_trips"],
        1,
        "{}",
        json["routes"]
    );
}

#[test]
fn the_worst_case_points_at_the_branch_that_makes_it() {
    let file = fixtures().join("over_budget.rs");
    let config = fixtures().join("hopcheck.toml");
    let (_, json) = check_json(&file, &["--config", config.to_str().unwrap()]);
    // One read, or three when `q.full`: the route and its finding name the arm that costs more.
    let report = route(&json, "GET", "/report");
    assert_eq!(report["round_trips"], 3);
    assert_eq!(
        report["worst_case_branch"],
        serde_json::json!({"file": "over_budget.rs", "line": 41})
    );
    let over = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["lint"] == "over-budget" && d["line"] == 37)
        .unwrap();
    assert_eq!(
        over["related"],
        serde_json::json!([{"line": 41, "column": 14, "message": "the worst case takes this branch"}])
    );
    // The sequential run opens the branch: each of its round trips is labelled, and the help reads
    // their data flow one by one (`names` uses `top`, `top` does not use `total`).
    let run = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["lint"] == "sequential-queries" && d["line"] == 41)
        .unwrap();
    assert_eq!(run["label"], "2nd round trip, in a branch");
    assert_eq!(run["related"][1]["line"], 45);
    assert_eq!(run["related"][1]["message"], "3rd round trip, in a branch");
    assert!(
        run["help"]
            .as_str()
            .unwrap()
            .starts_with("some reads use earlier results"),
        "{}",
        run["help"]
    );
    // Straight-line routes have no such branch.
    assert_eq!(
        route(&json, "GET", "/slow")["worst_case_branch"],
        serde_json::Value::Null
    );
}

#[test]
fn a_clients_entry_teaches_a_vendor_sdk_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let toml = r#"deployments = ["us-east-1"]
[databases.main]
primary = "us-east-1"
[services.billing]
region = "ap-southeast-2"
[pools]
"state.billing" = "billing"
[[clients]]
types = ["BillingApi"]
not-methods = ["warm_up"]
"#;
    std::fs::write(dir.path().join("hopcheck.toml"), toml).unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
pub struct AppState { billing: BillingApi }
async fn pay(State(state): State<AppState>) {
    state.billing.warm_up().await;
    let a = state.billing.invoice(1).await;
    let b = state.billing.refund(2).await;
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    // Two calls to Sydney, one after the other; `warm_up` is no call.
    let pay = &json["routes"][0];
    assert_eq!(pay["round_trips"], 2);
    assert_eq!(
        pay["lints"],
        serde_json::json!(["over-budget", "sequential-queries"])
    );
    let run = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["lint"] == "sequential-queries")
        .unwrap();
    assert!(
        run["message"]
            .as_str()
            .unwrap()
            .contains("to ap-southeast-2"),
        "{run}"
    );

    // An entry without types is an error that points at it.
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        toml.replace("[\"BillingApi\"]", "[]"),
    )
    .unwrap();
    let out = hopcheck(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a [[clients]] entry needs `types`"), "{err}");
}

/// A service of 120 files.
fn slow_tree() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    for file in 0..120 {
        let mut text = String::from("use axum::extract::State;\n");
        for f in 0..4 {
            text.push_str(&format!(
                "pub async fn handler_{f}(State(pool): State<PgPool>) -> Result<String, Error> {{\n    \
                 let a = sqlx::query(\"SELECT id FROM users WHERE id = $1\").bind({f}).fetch_one(&pool).await?;\n    \
                 let b = sqlx::query(\"SELECT id FROM orders WHERE user_id = $1\").fetch_all(&pool).await?;\n    \
                 Ok(format!(\"{{a:?}} {{b:?}}\"))\n}}\n"
            ));
        }
        std::fs::write(dir.path().join(format!("src/m{file}.rs")), text).unwrap();
    }
    dir
}

/// Runs hopcheck with a terminal as its stdout and stderr (through `script`), returning what the
/// terminal showed.
fn on_a_terminal(args: &str, env: &[(&str, &str)]) -> String {
    let bin = env!("CARGO_BIN_EXE_hopcheck");
    let mut cmd = std::process::Command::new("script");
    cmd.args(["-qec", &format!("{bin} {args} > /dev/null"), "/dev/null"])
        .env_remove("CI");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .expect("`script` (util-linux) runs a command on a terminal");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_long_run_on_a_terminal_shows_progress_and_clears_it() {
    if !have_program("script") {
        return;
    }
    let tree = slow_tree();
    let dir = tree.path().display();
    // Shown from the start, so that the test does not depend on the machine's speed.
    let now = [("HOPCHECK_PROGRESS_AFTER_MS", "0")];
    let shown = on_a_terminal(&format!("check --format json {dir}"), &now);
    // Which stage is on screen depends on the machine's speed: reading, parsing (with its count) or
    // modelling.
    assert!(
        regex_like_progress(&shown)
            || shown.contains("\r\x1b[2Kreading…")
            || shown.contains("\r\x1b[2Kmodelling the request paths…"),
        "a progress line such as `parsing 40/120 files`: {shown:?}"
    );
    assert!(
        shown.contains("\r\x1b[2K"),
        "the line is redrawn in place and cleared: {shown:?}"
    );
    let after_clear = shown.rsplit("\r\x1b[2K").next().unwrap();
    assert!(
        !after_clear.contains("parsing"),
        "nothing of it stays on the screen: {after_clear:?}"
    );

    for (args, env) in [
        (format!("check -q --format json {dir}"), now.to_vec()),
        (
            format!("check --format json {dir}"),
            vec![now[0], ("CI", "true")],
        ),
    ] {
        let shown = on_a_terminal(&args, &env);
        assert!(
            !shown.contains("files\r") && !shown.contains("\x1b[2K"),
            "no progress with --quiet or in CI ({args}, {env:?}): {shown:?}"
        );
    }
    // Not on a pipe either.
    let piped = std::process::Command::new(env!("CARGO_BIN_EXE_hopcheck"))
        .args(["check", "--format", "json", &dir.to_string()])
        .env("HOPCHECK_PROGRESS_AFTER_MS", "0")
        .output()
        .unwrap();
    assert!(!stderr(&piped).contains("\x1b[2K"), "{}", stderr(&piped));
}

/// `parsing N/M files` with numbers, somewhere in the output.
fn regex_like_progress(text: &str) -> bool {
    text.split("parsing ").skip(1).any(|rest| {
        let Some((count, tail)) = rest.split_once(' ') else {
            return false;
        };
        let mut parts = count.split('/');
        tail.starts_with("files")
            && parts.next().is_some_and(|n| n.parse::<u32>().is_ok())
            && parts.next() == Some("120")
    })
}

#[test]
fn a_cycle_of_calls_costs_the_same_whichever_handler_comes_first() {
    let handlers = [
        "async fn thread(State(db): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {\n    load_thread(&db, id).await\n}\n",
        "async fn replies(State(db): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {\n    load_replies(&db, id).await\n}\n",
    ];
    let rest = r#"
pub fn app(db: PgPool) -> Router {
    Router::new().route("/threads/{id}", get(thread)).route("/replies/{id}", get(replies)).with_state(db)
}

async fn load_thread(db: &PgPool, id: i64) -> sqlx::Result<()> {
    sqlx::query("SELECT title FROM threads WHERE id = $1").bind(id).fetch_one(db).await?;
    Box::pin(load_replies(db, id)).await
}

async fn load_replies(db: &PgPool, parent: i64) -> sqlx::Result<()> {
    let children: Vec<i64> = sqlx::query_scalar("SELECT id FROM threads WHERE parent = $1")
        .bind(parent)
        .fetch_all(db)
        .await?;
    for child in children {
        Box::pin(load_thread(db, child)).await?;
    }
    Ok(())
}
"#;
    for order in [[0, 1], [1, 0]] {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("{}{}{rest}", handlers[order[0]], handlers[order[1]]);
        std::fs::write(dir.path().join("lib.rs"), text).unwrap();
        let (_, json) = check_json(dir.path(), &["-q"]);
        // A recursive call runs once more, with the recursion cut there. /threads: its read, the
        // replies' read, then 10 assumed children, each a thread read and its replies' read (whose
        // children are where the cycle is cut): 1 + 1 + 10 × 2. /replies: its read, then 10 children,
        // each a thread read and the replies once more (a read and 10 thread reads): 1 + 10 × 12.
        assert_eq!(
            route(&json, "GET", "/threads/{id}")["round_trips"],
            22,
            "{order:?}"
        );
        assert_eq!(
            route(&json, "GET", "/replies/{id}")["round_trips"],
            121,
            "{order:?}"
        );
    }
}

#[test]
fn route_draws_its_waterfall_in_the_terminal() {
    let shop = shop().display().to_string();
    let out = hopcheck(&["check", "-q", "--route", "GET /users/:id", &shop]);
    let text = stdout(&out);
    let drawn = text
        .split_once("GET /users/{id} (routes::users::user_profile) from us-east-1: ≈ 557 ms, budget 500 ms\n")
        .unwrap_or_else(|| panic!("the route's heading: {text}"))
        .1;
    // The three sequential round trips, each after the pool's connection check, each starting where the
    // one before ended.
    let rows: Vec<&str> = drawn.lines().take(6).collect();
    let mut end = 0;
    // Files by the shortest end of their path that tells them apart.
    for (row, place) in rows.iter().zip([
        "db.rs:15", "db.rs:15", "db.rs:21", "db.rs:21", "db.rs:26", "db.rs:26",
    ]) {
        assert!(row.trim_start().starts_with(place), "{row}");
        assert!(row.ends_with(" 93 ms"), "{row}");
        let start = row.chars().position(|c| c == '█').expect("a bar");
        let width = row.chars().filter(|&c| c == '█').count();
        assert!(end == 0 || start == end, "sequential: {rows:#?}");
        end = start + width;
    }
    assert!(
        rows[0].contains("check main (primary) in eu-central-1"),
        "{}",
        rows[0]
    );
    assert!(
        rows[5].contains("write main (primary) in eu-central-1"),
        "{}",
        rows[5]
    );
    assert!(drawn.contains("with isolation: ≈ 6 ms"), "{drawn}");

    // A loop's bar carries its multiplier.
    let text = stdout(&hopcheck(&[
        "check",
        "-q",
        "--route",
        "POST /orders",
        &shop,
    ]));
    assert!(
        text.lines()
            .any(|l| l.contains(" orders.rs:81 ") && l.ends_with("929 ms ×10")),
        "{text}"
    );

    let none = hopcheck(&["check", "-q", "--route", "GET /nope", &shop]);
    assert_eq!(none.status.code(), Some(2));
    assert!(
        stderr(&none).contains("the routes are: GET /health"),
        "{}",
        stderr(&none)
    );
    let json = hopcheck(&["check", "--format", "json", "--route", "GET /health", &shop]);
    assert_eq!(json.status.code(), Some(2));

    // `--from` draws it from another deployment; one that is not a deployment is an error.
    let text = stdout(&hopcheck(&[
        "check",
        "-q",
        "--route",
        "GET /users/{id}",
        "--from",
        "eu-central-1",
        &shop,
    ]));
    assert!(
        text.contains("GET /users/{id} (routes::users::user_profile) from eu-central-1: ≈ 6 ms, budget 500 ms\n"),
        "{text}"
    );
    let elsewhere = hopcheck(&[
        "check",
        "-q",
        "--route",
        "GET /users/{id}",
        "--from",
        "mars-1",
        &shop,
    ]);
    assert_eq!(elsewhere.status.code(), Some(2));
    assert!(
        stderr(&elsewhere).contains(
            "--from mars-1: not a deployment; the deployments are: us-east-1, eu-central-1"
        ),
        "{}",
        stderr(&elsewhere)
    );
}

#[test]
fn route_waterfall_rows_name_files_by_the_shortest_unique_end_of_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir
        .path()
        .join("server/service-with-a-long-name/src/handlers/users.rs");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(
        &file,
        "async fn show(State(pool): State<PgPool>) {\n    sqlx::query(\"SELECT 1\").fetch_one(&pool).await;\n}\nfn app() -> Router { Router::new().route(\"/u\", get(show)) }\n",
    )
    .unwrap();
    let text = stdout(&hopcheck(&[
        "check",
        "-q",
        "--route",
        "GET /u",
        &dir.path().display().to_string(),
    ]));
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("users.rs:2 ") && l.contains(" read main")),
        "{text}"
    );
}

/// sqlx's pools check an idle connection with a round trip before lending it (`test_before_acquire`,
/// on by default): priced before each query through a pool, each BEGIN on one and each
/// `pool.acquire()`, not on the statements of a transaction or an acquired connection; off where the
/// code turns it off, or as `assume.checkout-ping` says.
#[test]
fn a_pool_s_connection_check_is_priced_where_the_pool_makes_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    let config = "deployments = [\"eu-west-1\"]\n[databases.main]\nprimary = \"us-east-1\"\n[rtt]\n\"eu-west-1 us-east-1\" = 80\n";
    std::fs::write(dir.path().join("hopcheck.toml"), config).unwrap();
    let handlers = r#"
async fn one(State(pool): State<PgPool>) {
    sqlx::query("SELECT 1 FROM users").fetch_one(&pool).await;
}
async fn tx(State(pool): State<PgPool>) {
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE users SET n = 1").execute(&mut *tx).await?;
    sqlx::query("UPDATE teams SET n = 1").execute(&mut *tx).await?;
    tx.commit().await?;
}
async fn on_connection(State(pool): State<PgPool>) {
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT 1 FROM users").fetch_one(&mut *conn).await;
}
fn app() -> Router {
    Router::new().route("/one", get(one)).route("/tx", get(tx)).route("/conn", get(on_connection))
}
"#;
    let main = dir.path().join("src/main.rs");
    std::fs::write(&main, handlers).unwrap();
    let priced = |extra: &[&str]| {
        let (_, json) = check_json(dir.path(), extra);
        let route = |path: &str| {
            let r = json["routes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["path"] == path)
                .unwrap()
                .clone();
            (
                r["round_trips"].as_u64().unwrap(),
                r["checkout_pings"].as_u64().unwrap(),
                r["cost"][0]["estimated_ms"].as_f64().unwrap(),
            )
        };
        (route("/one"), route("/tx"), route("/conn"))
    };
    // A query through the pool: the check, then the query. A transaction: the check before its BEGIN,
    // then BEGIN, two statements and COMMIT on its connection.
    let (one, tx, conn) = priced(&[]);
    assert_eq!(one, (1, 1, 160.0));
    assert_eq!(tx, (4, 1, 400.0));
    // `pool.acquire()` is the check; the statement on the acquired connection is one round trip.
    assert_eq!(conn, (1, 1, 160.0));
    let text = stdout(&hopcheck(&["check", &dir.path().display().to_string()]));
    assert!(
        text.contains("the pool's check (sqlx's and sea-orm's `test_before_acquire`"),
        "{text}"
    );

    // The code turns the check off where it builds its pool: no check is priced.
    std::fs::write(
        &main,
        format!("{handlers}\nasync fn pool(url: &str) -> PgPool {{\n    PgPoolOptions::new().test_before_acquire(false).connect(url).await.unwrap()\n}}\n"),
    )
    .unwrap();
    let (one, tx, conn) = priced(&[]);
    assert_eq!(one, (1, 0, 80.0));
    assert_eq!(tx, (4, 0, 320.0));
    assert_eq!(conn, (1, 0, 80.0));

    // The configuration has the last word, either way.
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        format!("{config}[assume]\ncheckout-ping = true\n"),
    )
    .unwrap();
    assert_eq!(priced(&[]).0, (1, 1, 160.0));
    std::fs::write(&main, handlers).unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        format!("{config}[assume]\ncheckout-ping = false\n"),
    )
    .unwrap();
    assert_eq!(priced(&[]).0, (1, 0, 80.0));
}

/// rocket_db_pools' `Connection<Db>` guard takes a connection from a sqlx pool, which checks it: once
/// for the handler's own guard, once for the one the `User` guard asks for by hand.
#[test]
fn a_rocket_connection_guard_is_a_pool_check() {
    let (_, json) = check_json(&fixtures().join("projects/rocket-todo"), &[]);
    let list = route(&json, "GET", "/todos");
    assert_eq!(list["round_trips"], 2, "{list}");
    assert_eq!(list["checkout_pings"], 2, "{list}");
    // From Virginia, four round trips of 69.6 ms to Dublin.
    let ms = list["cost"][1]["estimated_ms"].as_f64().unwrap();
    assert!((ms - 4.0 * 69.6).abs() < 0.5, "{ms}");
    // The index takes no connection.
    assert_eq!(route(&json, "GET", "/")["checkout_pings"], 0);
}

/// tokio-postgres prepares a statement given as SQL text in a round trip of its own before it runs it;
/// a prepared statement, `query_typed` and the simple protocol (`simple_query`, `batch_execute`) make
/// one round trip; deadpool's `prepare_cached` asks the database once per connection only, which no
/// request of a warm pool waits for.
#[test]
fn tokio_postgres_prepares_sql_text_first() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "deployments = [\"eu-west-1\"]\n[databases.main]\nprimary = \"us-east-1\"\n[rtt]\n\"eu-west-1 us-east-1\" = 80\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        r#"
async fn text(State(pool): State<Pool>) {
    let client = pool.get().await.unwrap();
    let sql = "SELECT name FROM users WHERE id = $1";
    client.query_one(sql, &[&1]).await;
}
async fn prepared(State(pool): State<Pool>) {
    let client = pool.get().await.unwrap();
    let stmt = client.prepare("SELECT name FROM users WHERE id = $1").await.unwrap();
    client.query_one(&stmt, &[&1]).await;
}
async fn cached(State(pool): State<Pool>) {
    let client = pool.get().await.unwrap();
    let stmt = client.prepare_cached("SELECT name FROM users WHERE id = $1").await.unwrap();
    client.query_one(&stmt, &[&1]).await;
}
async fn typed(State(pool): State<Pool>) {
    let client = pool.get().await.unwrap();
    client.query_typed("SELECT name FROM users WHERE id = $1", &[(&1, Type::INT8)]).await;
}
async fn simple(State(pool): State<Pool>) {
    let client = pool.get().await.unwrap();
    client.simple_query("SELECT 1").await;
}
fn app() -> Router {
    Router::new()
        .route("/text", get(text))
        .route("/prepared", get(prepared))
        .route("/cached", get(cached))
        .route("/typed", get(typed))
        .route("/simple", get(simple))
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    let priced = |path: &str| {
        let r = route(&json, "GET", path);
        (
            r["round_trips"].as_u64().unwrap(),
            r["prepare_round_trips"].as_u64().unwrap(),
            r["cost"][0]["estimated_ms"].as_f64().unwrap(),
        )
    };
    assert_eq!(priced("/text"), (1, 1, 160.0));
    assert_eq!(priced("/prepared"), (2, 0, 160.0));
    assert_eq!(priced("/cached"), (1, 0, 80.0));
    assert_eq!(priced("/typed"), (1, 0, 80.0));
    assert_eq!(priced("/simple"), (1, 0, 80.0));
    // `prepare_cached` fills a connection's statement cache once: even where data caches are assumed
    // to miss, a warm pool's connection has the statement, so it is no round trip.
    let config = std::fs::read_to_string(dir.path().join("hopcheck.toml")).unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        format!("{config}[assume]\ncache = \"miss\"\n"),
    )
    .unwrap();
    let (_, misses) = check_json(dir.path(), &[]);
    let cached = route(&misses, "GET", "/cached");
    assert_eq!(cached["round_trips"], 1);
    assert_eq!(cached["trips"][0]["kind"], "read");
    assert!(cached.get("cache").is_none(), "{cached}");
    assert_eq!(route(&misses, "GET", "/prepared")["round_trips"], 2);
}

#[test]
fn an_extractor_is_the_one_of_the_handlers_own_crate_when_two_crates_name_one_alike() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| put(dir.path(), rel, text);
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"admin\", \"web\"]\n[workspace.dependencies]\nsqlx = \"0.8\"\n",
    );
    let manifest = |name: &str| {
        format!(
            "[package]\nname = \"{name}\"\n[dependencies]\nsqlx.workspace = true\naxum = \"0.8\"\n"
        )
    };
    write("admin/Cargo.toml", &manifest("admin"));
    write("web/Cargo.toml", &manifest("web"));
    // The admin crate's `MaybeUser` makes two round trips, the web crate's one.
    let extractor = |queries: &str| {
        format!(
            "pub struct MaybeUser;\nimpl<S> FromRequestParts<S> for MaybeUser {{\n    async fn from_request_parts(p: &mut Parts, s: &S) -> Result<Self, ()> {{\n{queries}        Ok(MaybeUser)\n    }}\n}}\n"
        )
    };
    let query = "        sqlx::query(\"SELECT 1\").fetch_one(&POOL).await;\n";
    write("admin/src/session.rs", &extractor(&query.repeat(2)));
    write("web/src/session.rs", &extractor(query));
    write(
        "web/src/main.rs",
        "mod session;\nuse crate::session::MaybeUser;\nasync fn home(user: MaybeUser, State(pool): State<PgPool>) {\n    sqlx::query(\"SELECT 2\").fetch_one(&pool).await;\n}\nfn app() -> Router { Router::new().route(\"/\", get(home)) }\n",
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let home = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["handler"] == "home")
        .expect("the route");
    assert_eq!(home["round_trips"], 2, "{home}");
}

#[test]
fn a_router_function_named_like_its_crate_is_mounted_under_a_configured_prefix() {
    // `api::api()` where crate `api` re-exports `route::api`; the prefix comes from the configuration,
    // which hopcheck cannot read: the routes keep it as written, and say so.
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| put(dir.path(), rel, text);
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"api\", \"server\"]\n",
    );
    write(
        "api/Cargo.toml",
        "[package]\nname = \"api\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\n",
    );
    write(
        "server/Cargo.toml",
        "[package]\nname = \"server\"\n[dependencies]\napi = { path = \"../api\" }\naxum = \"0.8\"\n",
    );
    write("api/src/lib.rs", "mod route;\npub use route::api;\n");
    write(
        "api/src/route.rs",
        "use axum::{routing::get, Router, extract::State};\nuse sqlx::PgPool;\n\
         pub fn api() -> Router<PgPool> { Router::new().route(\"/users\", get(users)) }\n\
         async fn users(State(db): State<PgPool>) { sqlx::query(\"SELECT 1\").execute(&db).await.ok(); }\n",
    );
    write(
        "server/src/main.rs",
        "use axum::Router;\npub struct Config { pub prefix: String }\n\
         pub fn app(cfg: &Config) -> Router<sqlx::PgPool> { Router::new().nest(&cfg.prefix, api::api()) }\n",
    );
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(
        round_trips_of(&json, "/{cfg.prefix}/users"),
        Some(1),
        "{json}"
    );
    assert!(round_trips_of(&json, "/users").is_none(), "{json}");
    assert!(
        json["notes"].to_string().contains("kept as written"),
        "{json}"
    );
}

#[test]
fn a_router_type_named_alike_in_two_crates_is_the_one_the_caller_imports() {
    // `log::SystemRouter` and `system::SystemRouter`, each with `admin_register`; the server imports
    // the second through a crate that re-exports both crates.
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| put(dir.path(), rel, text);
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"log\", \"system\", \"hub\", \"server\"]\n",
    );
    let manifest = |name: &str, deps: &str| {
        format!("[package]\nname = \"{name}\"\n[dependencies]\nactix-web = \"4\"\nsqlx = \"0.8\"\n{deps}")
    };
    write("log/Cargo.toml", &manifest("log", ""));
    write("system/Cargo.toml", &manifest("system", ""));
    write(
        "hub/Cargo.toml",
        &manifest(
            "hub",
            "log = { path = \"../log\" }\nsystem = { path = \"../system\" }\n",
        ),
    );
    write(
        "server/Cargo.toml",
        &manifest("server", "hub = { path = \"../hub\" }\n"),
    );
    let router = |scope: &str, handler: &str, queries: usize| {
        format!(
            "use actix_web::{{web, Scope, HttpResponse}};\npub struct SystemRouter;\n\
             impl SystemRouter {{\n    pub fn admin_register() -> Scope {{\n        web::scope(\"{scope}\").route(\"/items\", web::get().to({handler}))\n    }}\n}}\n\
             async fn {handler}(db: web::Data<sqlx::PgPool>) -> HttpResponse {{\n{}    HttpResponse::Ok().finish()\n}}\n",
            "    sqlx::query(\"SELECT 1\").execute(db.get_ref()).await.ok();\n".repeat(queries)
        )
    };
    write("log/src/lib.rs", &router("/logs", "log_items", 1));
    write("system/src/lib.rs", &router("/system", "system_items", 2));
    write("hub/src/lib.rs", "pub use log;\npub use system;\n");
    write(
        "server/src/main.rs",
        "use actix_web::{web, App, HttpServer};\nuse hub::system::SystemRouter;\n\
         #[actix_web::main]\nasync fn main() -> std::io::Result<()> {\n    HttpServer::new(|| App::new().service(web::scope(\"/api\").service(SystemRouter::admin_register())))\n        .bind(\"0.0.0.0:80\")?\n        .run()\n        .await\n}\n",
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(
        round_trips_of(&json, "/api/system/items"),
        Some(2),
        "{json}"
    );
    assert!(round_trips_of(&json, "/api/logs/items").is_none(), "{json}");
}

#[test]
fn a_cached_lookup_a_layer_filled_is_a_hit_for_the_handlers_own_extraction() {
    // `from_extractor::<Authed>()` runs the extractor first; moka's `try_get_with` misses, runs the
    // loader and keeps what it made; the handler's own `Authed` then finds it: one lookup, not two.
    // A cache-aside lookup of the project's own (`match cached { Some(..) => .., _ => load }`) fills
    // the cache where its code says, which is not read: both of its misses count.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"app\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\nmoka = \"0.12\"\n",
    );
    put(dir.path(), "hopcheck.toml", "[assume]\ncache = \"miss\"\n");
    put(
        dir.path(),
        "src/main.rs",
        "use axum::{extract::{FromRequestParts, State}, http::request::Parts, middleware, routing::get, Router};\n\
         use sqlx::PgPool;\n\
         static TOKENS: std::sync::LazyLock<moka::future::Cache<String, i64>> = std::sync::LazyLock::new(|| moka::future::Cache::new(100));\n\
         pub struct Authed(i64);\n\
         impl FromRequestParts<PgPool> for Authed {\n    type Rejection = ();\n\
             async fn from_request_parts(parts: &mut Parts, db: &PgPool) -> Result<Self, ()> {\n\
                 let token = parts.headers.get(\"x-token\").and_then(|t| t.to_str().ok()).unwrap_or_default().to_string();\n\
                 let id = TOKENS.try_get_with(token.clone(), async move {\n\
                     sqlx::query_scalar::<_, i64>(\"SELECT id FROM tokens WHERE token = $1\").bind(&token).fetch_one(db).await\n\
                 }).await.map_err(|_| ())?;\n\
                 Ok(Authed(id))\n    }\n}\n\
         async fn notes(user: Authed, State(db): State<PgPool>) -> String {\n\
             sqlx::query_scalar(\"SELECT body FROM notes WHERE owner = $1\").bind(user.0).fetch_one(&db).await.unwrap_or_default()\n}\n\
         pub struct Session(i64);\n\
         impl FromRequestParts<PgPool> for Session {\n    type Rejection = ();\n\
             async fn from_request_parts(parts: &mut Parts, db: &PgPool) -> Result<Self, ()> {\n\
                 let key = parts.headers.get(\"cookie\").and_then(|t| t.to_str().ok()).unwrap_or_default().to_string();\n\
                 let cached = SESSION_CACHE.get(&key).map(|s| s.clone());\n\
                 match cached {\n            Some((id, fresh)) if fresh => Ok(Session(id)),\n\
                     _ => {\n                let id: i64 = sqlx::query_scalar(\"SELECT user_id FROM sessions WHERE key = $1\").bind(&key).fetch_one(db).await.map_err(|_| ())?;\n\
                         SESSION_CACHE.insert(key, (id, true));\n                Ok(Session(id))\n            }\n        }\n    }\n}\n\
         static SESSION_CACHE: moka::sync::Cache<String, (i64, bool)> = moka::sync::Cache::new(100);\n\
         async fn drafts(session: Session, State(db): State<PgPool>) -> String {\n\
             sqlx::query_scalar(\"SELECT body FROM drafts WHERE owner = $1\").bind(session.0).fetch_one(&db).await.unwrap_or_default()\n}\n\
         pub fn app(db: PgPool) -> Router {\n\
             let notes = Router::new().route(\"/notes\", get(notes)).route_layer(middleware::from_extractor_with_state::<Authed, _>(db.clone()));\n\
             let drafts = Router::new().route(\"/drafts\", get(drafts)).route_layer(middleware::from_extractor_with_state::<Session, _>(db.clone()));\n\
             Router::new().merge(notes).merge(drafts).with_state(db)\n}\n",
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let notes = route(&json, "GET", "/notes");
    assert_eq!(notes["round_trips"], 2, "{notes}");
    // The session's lookup is a cached one (a hit costs the query alone), its misses both counted.
    let drafts = route(&json, "GET", "/drafts");
    assert_eq!(drafts["round_trips"], 3, "{drafts}");
    assert_eq!(drafts["cache"]["round_trips"], 1, "{drafts}");
}

#[test]
fn a_route_that_renders_a_template_says_its_code_is_not_read() {
    // A sailfish template may call methods that query while the page renders: not counted, and said.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"app\"\n[dependencies]\nactix-web = \"4\"\nsailfish = \"0.8\"\nsqlx = \"0.8\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        "use actix_web::{get, web, HttpResponse};\nuse sailfish::TemplateOnce;\n\
         #[derive(TemplateOnce)]\n#[template(path = \"index.stpl\")]\nstruct Index { count: i64 }\n\
         #[get(\"/\")]\nasync fn index(db: web::Data<sqlx::PgPool>) -> HttpResponse {\n\
             let count: i64 = sqlx::query_scalar(\"SELECT count(*) FROM posts\").fetch_one(db.get_ref()).await.unwrap_or_default();\n\
             HttpResponse::Ok().body(Index { count }.render_once().unwrap())\n}\n\
         #[get(\"/health\")]\nasync fn health() -> HttpResponse { HttpResponse::Ok().finish() }\n\
         #[actix_web::main]\nasync fn main() -> std::io::Result<()> {\n\
             actix_web::HttpServer::new(|| actix_web::App::new().service(index).service(health)).bind(\"0.0.0.0:80\")?.run().await\n}\n",
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(round_trips_of(&json, "/"), Some(1), "{json}");
    let notes = json["notes"].to_string();
    assert!(notes.contains("1 route renders a template"), "{notes}");
}

#[test]
fn a_path_with_nothing_to_check_fails_unless_allowed() {
    // A mistyped CI path or a folder without handlers must not pass a gate.
    let empty = tempfile::tempdir().unwrap();
    let d = empty.path().to_string_lossy().into_owned();
    let out = hopcheck(&["check", "-q", &d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("nothing to check"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("no Rust files"), "{}", stderr(&out));
    let out = hopcheck(&["check", "-q", "--allow-empty", &d]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    std::fs::write(
        empty.path().join("lib.rs"),
        "pub fn add(a: i32, b: i32) -> i32 { a + b }\n",
    )
    .unwrap();
    let out = hopcheck(&["check", "-q", &d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no request handlers"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_file_that_does_not_parse_fails_the_run() {
    // Its routes' cost is unknown: the gate does not pass without it.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("main.rs"),
        "mod broken;\nasync fn list(axum::extract::State(db): axum::extract::State<sqlx::PgPool>) {\n    \
         sqlx::query(\"SELECT 1\").execute(&db).await.unwrap();\n}\n\
         fn main() { let _: axum::Router = axum::Router::new().route(\"/\", axum::routing::get(list)); }\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("broken.rs"), "pub async fn orders( -> {\n").unwrap();
    let (status, json) = check_json(dir.path(), &[]);
    assert_eq!(status, 1);
    let lints: Vec<(&str, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["lint"].as_str().unwrap(), d["severity"].as_str().unwrap()))
        .collect();
    assert!(lints.contains(&("parse-error", "error")), "{lints:?}");
    // Said so, it may pass without the file.
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "[lints]\nparse-error = \"warn\"\n",
    )
    .unwrap();
    let (status, _) = check_json(dir.path(), &[]);
    assert_eq!(status, 0);
}

/// The prices fixture in a temporary folder, to try configurations on.
fn prices_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("prices");
    let copied = std::process::Command::new("cp")
        .arg("-r")
        .arg(format!("{}/.", src.display()))
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(copied.success());
    dir
}

/// Writes `text` to `rel` under `root`, making its folders.
fn put(root: &std::path::Path, rel: &str, text: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The worst-path round trips of the route at `path`.
fn find_route<'a>(json: &'a serde_json::Value, path: &str) -> Option<&'a serde_json::Value> {
    json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == path)
}

fn round_trips_of(json: &serde_json::Value, path: &str) -> Option<u64> {
    find_route(json, path).map(|r| r["round_trips"].as_u64().unwrap())
}

fn route_at<'a>(json: &'a serde_json::Value, path: &str) -> &'a serde_json::Value {
    find_route(json, path).unwrap_or_else(|| panic!("no route {path}"))
}

#[test]
fn a_cached_lookup_is_a_hit_unless_the_configuration_assumes_misses() {
    let dir = prices_copy();
    let d = dir.path().to_string_lossy().into_owned();
    let page = |json: &serde_json::Value| round_trips_of(json, "/sites/{site}");
    let (_, hits) = check_json(dir.path(), &[]);
    assert_eq!(page(&hits), Some(1));
    // moka's loader, and the project's own cache-aside lookups (`caches::greeting`,
    // `caches::locale_name` on a map `[[cached]] receivers` names, `caches::member_role`'s `match`
    // on its client of a shared cache, `caches::org_key`'s let chain, and `caches::document`'s
    // awaited probe whose outcome it tests), and the static cells filled on a first request:
    // `caches::account`'s `SETTINGS.get_or_init(..)` and `PLANS.get_or_init(load_plans)`, and
    // `factories::coordinator`'s (std's `REGION.get_or_init(|| env::var(..))` waits on nothing).
    // deadpool's statement cache in `delegating::Transaction::query_one` (`prepare_cached`) is no
    // lookup a request waits on.
    assert!(hits["notes"]
        .to_string()
        .contains("10 cached lookups are priced as hits"));
    assert_eq!(round_trips_of(&hits, "/docs/{id}"), Some(2));
    assert_eq!(round_trips_of(&hits, "/orgs/{org}/secret"), Some(1));
    assert_eq!(round_trips_of(&hits, "/greeting/{user}/{locale}"), Some(1));
    assert_eq!(round_trips_of(&hits, "/locales/{locale}"), Some(1));
    assert_eq!(round_trips_of(&hits, "/orgs/{org}/members/{user}"), Some(1));
    // Both cases are shown: the miss beside the hit, in JSON and in the routes table.
    let case = |json: &serde_json::Value, path: &str| {
        let r = route_at(json, path);
        (
            r["cache"]["case"].clone(),
            r["cache"]["round_trips"].clone(),
        )
    };
    assert_eq!(case(&hits, "/sites/{site}"), ("miss".into(), 2.into()));
    assert_eq!(
        case(&hits, "/greeting/{user}/{locale}"),
        ("miss".into(), 3.into())
    );
    assert_eq!(case(&hits, "/docs/{id}"), ("miss".into(), 3.into()));
    assert!(
        route_at(&hits, "/stats").get("cache").is_none(),
        "a route no cache changes has no other case"
    );
    let human = stdout(&hopcheck(&["check", "--top", "0", &d]));
    let line = |text: &str, wanted: &str| {
        text.lines()
            .find(|l| l.starts_with(wanted))
            .unwrap_or_else(|| panic!("no `{wanted}` line in {text}"))
            .to_string()
    };
    assert!(
        line(&human, "route ").contains("on a cache miss"),
        "{human}"
    );
    assert!(
        line(&human, "GET /sites/{site} ").contains("2 trips, ≈ 371 ms"),
        "{human}"
    );
    let markdown = stdout(&hopcheck(&["check", "--format", "markdown", &d]));
    assert!(
        markdown.contains("| on a cache miss |") && markdown.contains("| 2 trips, ≈ 371 ms |"),
        "{markdown}"
    );
    let report = dir.path().join("report.html");
    hopcheck(&["report", "--html", &report.to_string_lossy(), &d]);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("on a cache miss: 2 trips, ≈ 371 ms"));
    let config = std::fs::read_to_string(dir.path().join("hopcheck.toml")).unwrap();
    let config = config.replace("[assume]\n", "[assume]\ncache = \"miss\"\n");
    std::fs::write(dir.path().join("hopcheck.toml"), config).unwrap();
    let (_, misses) = check_json(dir.path(), &[]);
    assert_eq!(page(&misses), Some(2), "the loader's query counts");
    assert_eq!(
        round_trips_of(&misses, "/greeting/{user}/{locale}"),
        Some(3)
    );
    assert_eq!(round_trips_of(&misses, "/locales/{locale}"), Some(2));
    assert_eq!(
        round_trips_of(&misses, "/orgs/{org}/members/{user}"),
        Some(2)
    );
    assert_eq!(round_trips_of(&misses, "/orgs/{org}/secret"), Some(2));
    assert_eq!(case(&misses, "/sites/{site}"), ("hit".into(), 1.into()));
    let human = stdout(&hopcheck(&["check", "--top", "0", &d]));
    assert!(line(&human, "route ").contains("on a cache hit"), "{human}");
    assert!(misses["notes"]
        .to_string()
        .contains("10 cached lookups are priced as misses"));
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "[assume]\ncache = \"sometimes\"\n",
    )
    .unwrap();
    let out = hopcheck(&["check", "-q", &d]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a value that is neither is an error"
    );
    assert!(
        stderr(&out).contains("\"hit\" or \"miss\""),
        "{}",
        stderr(&out)
    );
}

#[test]
fn the_deployed_implementation_of_a_trait_is_named_or_the_costliest_is_said() {
    let dir = prices_copy();
    let account = |json: &serde_json::Value| round_trips_of(json, "/accounts/{id}");
    let (_, costliest) = check_json(dir.path(), &[]);
    assert_eq!(account(&costliest), Some(2), "Postgres' two statements");
    let notes = costliest["notes"].to_string();
    assert!(
        notes.contains("calls through `Database` are priced at the costliest of its 2 implementations (Postgres, Sqlite)"),
        "{notes}"
    );
    let config = std::fs::read_to_string(dir.path().join("hopcheck.toml")).unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        format!("{config}\n[implementations]\n\"Database\" = \"Sqlite\"\n"),
    )
    .unwrap();
    let (_, chosen) = check_json(dir.path(), &[]);
    assert_eq!(account(&chosen), Some(1), "the one named");
    assert!(!chosen["notes"]
        .to_string()
        .contains("calls through `Database`"));
}

/// Two crates that name their implementing types alike: every type is named by its crate, the same
/// way in the note however the calls reach them.
#[test]
fn implementations_named_alike_in_two_crates_are_each_said_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| put(root, rel, text);
    write(
        "Cargo.toml",
        "[workspace]\nmembers = [\"api\", \"sync\", \"token\"]\n",
    );
    write(
        "api/Cargo.toml",
        "[package]\nname = \"api\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\n",
    );
    write("sync/Cargo.toml", "[package]\nname = \"sync\"\n");
    write("token/Cargo.toml", "[package]\nname = \"token\"\n");
    write(
        "api/src/main.rs",
        r#"use axum::{routing::get, Router, extract::State};
async fn info(State(db): State<std::sync::Arc<dyn sync::Db>>) -> String {
    db.count().await;
    String::new()
}
async fn token(State(db): State<std::sync::Arc<dyn token::Db>>) -> String {
    db.user().await;
    String::new()
}
fn app() -> Router<()> {
    Router::new().route("/info", get(info)).route("/token", get(token))
}
"#,
    );
    for (krate, other) in [("sync", "PgDb"), ("token", "MyDb")] {
        let method = if krate == "sync" { "count" } else { "user" };
        write(
            &format!("{krate}/src/lib.rs"),
            &format!(
                r#"pub trait Db {{ async fn {method}(&self); }}
pub struct MockDb;
impl Db for MockDb {{ async fn {method}(&self) {{}} }}
pub struct {other} {{ pool: sqlx::PgPool }}
impl Db for {other} {{
    async fn {method}(&self) {{ sqlx::query("SELECT 1").execute(&self.pool).await.unwrap(); }}
}}
"#
            ),
        );
    }
    let (_, json) = check_json(root, &[]);
    let notes = json["notes"].to_string();
    assert!(
        notes.contains("calls through `Db` are priced at the costliest of its 4 implementations (sync/MockDb, sync/PgDb, token/MockDb, token/MyDb)"),
        "{notes}"
    );
}

/// A trait object whose methods its supertraits declare (`Arc<dyn FullStore>`, `trait FullStore:
/// AliasStore`) is named, and chosen, by the trait the code names.
#[test]
fn a_trait_object_made_of_supertraits_is_named_and_chosen_by_its_own_name() {
    let dir = prices_copy();
    let aliases = |json: &serde_json::Value| round_trips_of(json, "/aliases");
    let (_, costliest) = check_json(dir.path(), &[]);
    assert_eq!(aliases(&costliest), Some(2), "PostgreSQL's two statements");
    let notes = costliest["notes"].to_string();
    assert!(
        notes.contains("calls through `FullStore` are priced at the costliest of its 2 implementations (PgStore, SledStore)"),
        "{notes}"
    );
    assert!(!notes.contains("`AliasStore`"), "{notes}");
    let config = std::fs::read_to_string(dir.path().join("hopcheck.toml")).unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        format!("{config}\n[implementations]\n\"FullStore\" = \"SledStore\"\n"),
    )
    .unwrap();
    let (_, chosen) = check_json(dir.path(), &[]);
    assert_eq!(
        aliases(&chosen),
        Some(0),
        "the embedded store answers in the process"
    );
    assert!(!chosen["notes"].to_string().contains("`FullStore`"));
}

#[test]
fn a_route_path_the_code_computes_is_kept_as_written_and_never_becomes_the_root() {
    // actix routes whose paths are values (`&routes.login`, a local): hopcheck does not run code, so
    // the path reads as written; `web::get().to(h)` alone is no route at `/`.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        "use actix_web::web;\n\
         pub struct Routes { pub login: String }\n\
         async fn login(db: web::Data<sqlx::PgPool>) -> String {\n    \
             sqlx::query(\"SELECT 1\").execute(db.get_ref()).await.unwrap();\n    String::new()\n}\n\
         async fn home(db: web::Data<sqlx::PgPool>) -> String {\n    \
             sqlx::query(\"SELECT 2\").execute(db.get_ref()).await.unwrap();\n    String::new()\n}\n\
         pub fn services(cfg: &mut web::ServiceConfig, routes: &Routes) {\n    \
             let home_path = routes.login.clone() + \"/home\";\n    \
             cfg.route(&routes.login, web::post().to(login))\n        .route(&home_path, web::get().to(home));\n}\n",
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    let mut routes: Vec<String> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {} {}", r["method"], r["path"], r["handler"]))
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            "\"GET\" \"/{home_path}\" \"home\"",
            "\"POST\" \"/{routes.login}\" \"login\""
        ]
    );
}

#[test]
fn a_query_builder_held_in_a_local_keeps_the_sql_text_a_local_gave_it() {
    // `let sql = r"select .."; let query = sql_query(sql).bind(..); query.load(conn)`: a read, not a
    // statement of unknown text (which is taken for a write).
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"rdeps\"\n[dependencies]\ndiesel = \"2\"\naxum = \"0.8\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r###"use diesel::prelude::*;
async fn rdeps(State(pool): State<Pool>) -> String {
    let mut conn = pool.get().unwrap();
    let sql_stmt = r#"
        select name from packages where origin = $1"#;
    let query = sql_query(sql_stmt).bind::<Text, _>("core");
    let found = query.load::<Dependent>(&mut conn).unwrap();
    String::new()
}
fn app() -> axum::Router { axum::Router::new().route("/rdeps", axum::routing::get(rdeps)) }
"###,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let kinds: Vec<&str> = json["routes"][0]["trips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["read"], "{}", json["routes"]);
}

#[test]
fn a_route_path_a_function_computes_is_kept_as_written_and_said() {
    // `web::resource(&cfg_path("/info"))`: hopcheck does not run `cfg_path`, so the route is not served
    // at "/" (what the scope would be without its path): its path stays as written and is said.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        r#"use actix_web::{web, App, HttpServer};
pub fn cfg_path(path: &str) -> String {
    format!("/1.5/{{uid}}{}", path.replace("{c}", "{c:[a-z]+}"))
}
async fn info(db: web::Data<sqlx::PgPool>) -> String {
    sqlx::query("SELECT 1").execute(db.get_ref()).await.unwrap();
    String::new()
}
async fn health() -> &'static str { "ok" }
#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| {
        App::new()
            .service(web::resource(&cfg_path("/info")).route(web::get().to(info)))
            .service(web::resource("/health").route(web::get().to(health)))
    })
    .bind(("0.0.0.0", 8000))?
    .run()
    .await
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let mut routes = priced(&json, "path");
    routes.sort();
    assert_eq!(
        routes,
        [
            ("/health".to_string(), 0),
            ("/{cfg_path(\"/info\")}".to_string(), 1),
        ]
    );
    assert_eq!(
        json["coverage"]["paths_as_written"],
        serde_json::json!(["GET /{cfg_path(\"/info\")} (info)"])
    );
}

#[test]
fn routes_of_a_fork_of_actix_codegen_are_found_with_their_paths_as_written() {
    // `#[codegen::post(path = "…")]`: a literal path, or a constant's path as text (kept as written).
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        "use actix_web::web;\n\
         #[my_codegen::post(path = \"/api/login\")]\n\
         async fn login(db: web::Data<sqlx::PgPool>) -> String {\n    \
             sqlx::query(\"SELECT 1\").execute(db.get_ref()).await.unwrap();\n    String::new()\n}\n\
         #[my_codegen::get(path = \"crate::ROUTES.home\", wrap = \"auth()\")]\n\
         async fn home(db: web::Data<sqlx::PgPool>) -> String {\n    \
             sqlx::query(\"SELECT 2\").execute(db.get_ref()).await.unwrap();\n    String::new()\n}\n\
         pub fn services(cfg: &mut web::ServiceConfig) {\n    cfg.service(login);\n    cfg.service(home);\n}\n",
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    let mut routes: Vec<String> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{} {} {}", r["method"], r["path"], r["checked"]))
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            "\"GET\" \"/crate::ROUTES.home\" true",
            "\"POST\" \"/api/login\" true"
        ]
    );
}

#[test]
fn route_paths_in_a_file_of_constants_are_served_at_their_values() {
    // The paths live in a module that holds nothing but constants (no `async`, no router): plain,
    // `concat!` and const_format's `concatcp!` of other constants.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"mod endpoints;
use axum::routing::get;
use axum::Router;
use crate::endpoints::{INFO_ROUTE, USER_ROUTE, USERS_ROUTE};
pub fn app() -> Router {
    Router::new()
        .route(INFO_ROUTE, get(page))
        .route(USERS_ROUTE, get(page))
        .route(USER_ROUTE, get(page))
}
async fn page() -> String { String::new() }
"#,
    );
    put(
        dir.path(),
        "src/endpoints.rs",
        r#"use const_format::concatcp;
const VERSION_ROUTE: &str = "/v0";
pub const INFO_ROUTE: &str = "/v0/info";
pub const USERS_ROUTE: &str = concat!("/v0", "/users");
const USER_PREFIX: &str = concatcp!(VERSION_ROUTE, "/user");
pub const USER_ROUTE: &str = concatcp!(USER_PREFIX, "/{user_id}");
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let mut paths: Vec<String> = priced(&json, "path").into_iter().map(|(p, _)| p).collect();
    paths.sort();
    assert_eq!(paths, ["/v0/info", "/v0/user/{user_id}", "/v0/users"]);
    assert_eq!(json["coverage"]["paths_as_written"], serde_json::json!([]));
}

#[test]
fn route_paths_named_by_constants_are_served_at_their_values() {
    // A route table built by `const fn new()` on nested structs in another module, renamed on import; a
    // plain `const`; a slice of a constant; a scope from a constant's field; a table a `LazyLock` builds;
    // a path the code computes by a method stays as written.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src/api")).unwrap();
    let files = [
        (
            "src/main.rs",
            r#"mod api;
mod pages;
pub use api::ROUTES as V1_ROUTES;
use actix_web::web;
#[my_codegen::post(path = "crate::V1_ROUTES.auth.login")]
async fn login(db: web::Data<sqlx::PgPool>) -> String {
    sqlx::query("SELECT 1").execute(db.get_ref()).await.unwrap();
    String::new()
}
#[my_codegen::get(path = "V1_ROUTES.scope")]
async fn docs() -> String { String::new() }
#[my_codegen::get(path = "&V1_ROUTES.auth.home[0..V1_ROUTES.auth.home.len() - 1]")]
async fn home() -> String { String::new() }
#[my_codegen::get(path = "ERROR_ROUTE")]
async fn error() -> String { String::new() }
#[my_codegen::get(path = "V1_ROUTES.auth.computed()")]
async fn computed() -> String { String::new() }
#[my_codegen::get(path = "crate::pages::PAGES.about")]
async fn about() -> String { String::new() }
const ERROR_ROUTE: &str = concat!("/error/", "{id}");
pub fn services(cfg: &mut web::ServiceConfig) {
    cfg.service(login);
    cfg.service(docs);
    cfg.service(home);
    cfg.service(error);
    cfg.service(computed);
    cfg.service(about);
}
"#,
        ),
        (
            "src/api/mod.rs",
            r#"pub const ROUTES: Routes = Routes::new();
pub struct Routes { pub auth: Auth, pub scope: &'static str }
impl Routes {
    const fn new() -> Routes {
        let scope = "/api/v1";
        Routes { auth: Auth::new(), scope }
    }
}
pub struct Auth { pub login: &'static str, pub home: &'static str }
impl Auth {
    const fn new() -> Auth {
        Auth { login: "/api/v1/signin", home: "/home/" }
    }
}
"#,
        ),
        (
            // Another `Routes::new()` of the same name, in another module.
            "src/pages.rs",
            r#"pub const ROUTES: Routes = Routes::new();
pub struct Routes { pub auth: Auth }
impl Routes {
    const fn new() -> Routes { Routes { auth: Auth { login: "/login" } } }
}
pub struct Auth { pub login: &'static str }
pub static PAGES: std::sync::LazyLock<Pages> = std::sync::LazyLock::new(|| Pages { about: "/about" });
pub struct Pages { pub about: &'static str }
"#,
        ),
    ];
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let (_, json) = check_json(dir.path(), &["-q"]);
    let mut routes = priced(&json, "path");
    routes.sort();
    assert_eq!(
        routes,
        [
            ("/V1_ROUTES.auth.computed()".to_string(), 0),
            ("/about".to_string(), 0),
            ("/api/v1".to_string(), 0),
            ("/api/v1/signin".to_string(), 1),
            ("/error/{id}".to_string(), 0),
            ("/home".to_string(), 0),
        ]
    );
    // The path kept as written is said, with the line that teaches it; a [[routes]] entry gives it.
    assert_eq!(
        json["coverage"]["paths_as_written"],
        serde_json::json!(["GET /V1_ROUTES.auth.computed() (computed)"])
    );
    let notes = json["notes"].to_string();
    assert!(notes.contains("1 route path is kept as written"), "{notes}");
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "[[routes]]\nhandler = \"computed\"\nmethod = \"GET\"\npath = \"/api/v1/computed\"\n",
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let paths: Vec<String> = priced(&json, "path").into_iter().map(|(p, _)| p).collect();
    assert!(paths.contains(&"/api/v1/computed".to_string()), "{paths:?}");
    assert!(!paths.iter().any(|p| p.contains("computed()")), "{paths:?}");
    assert_eq!(json["coverage"]["paths_as_written"], serde_json::json!([]));
}

#[test]
fn a_call_into_another_crate_of_the_workspace_that_is_not_found_is_unresolved() {
    // `acme_perms::check` is made by a macro hopcheck does not expand: code of the analysed workspace
    // it could not follow, said as such, unlike a library's function.
    let dir = workspace(
        &[("api", "api"), ("perms", "acme-perms")],
        "sqlx = \"0.8\"\n",
    );
    let root = dir.path();
    std::fs::write(
        root.join("perms/src/lib.rs"),
        "generate_checks!(check);\npub async fn known(db: &sqlx::PgPool) {\n    sqlx::query(\"SELECT 1\").execute(db).await.ok();\n}\n",
    )
    .unwrap();
    std::fs::write(
        root.join("api/src/main.rs"),
        r#"use acme_perms::check;
pub async fn show(State(db): State<sqlx::PgPool>) -> String {
    acme_perms::known(&db).await;
    check(&db).await;
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    String::new()
}
fn main() {
    let _ = axum::Router::new().route("/show", axum::routing::get(show));
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(root, &["-q"]);
    let route = &json["routes"][0];
    assert_eq!(route["round_trips"], 1);
    let unresolved: Vec<&str> = route["unresolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["text"].as_str().unwrap())
        .collect();
    assert_eq!(unresolved, ["check(&db).await"]);
}

#[test]
fn a_synchronous_call_into_another_crate_of_the_workspace_is_followed() {
    // rocket + diesel: the handler calls a plain function the models crate exports, imported by
    // name (`use acme_models::inbox::inbox;`) and by its full path; both reach its two statements.
    let dir = workspace(
        &[("web", "web"), ("models", "acme-models")],
        "diesel = { version = \"2\", features = [\"postgres\"] }\nrocket = \"0.5\"\n",
    );
    let root = dir.path();
    std::fs::write(root.join("models/src/lib.rs"), "pub mod inbox;\n").unwrap();
    std::fs::write(
        root.join("models/src/inbox.rs"),
        r#"use diesel::prelude::*;
pub fn inbox(conn: &mut PgConnection, id: i32) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM mentions WHERE comment = $1").execute(conn)?;
    diesel::sql_query("DELETE FROM comments WHERE id = $1").execute(conn)
}
"#,
    )
    .unwrap();
    std::fs::write(
        root.join("web/src/main.rs"),
        r#"#[macro_use]
extern crate rocket;
use acme_models::inbox::inbox;

#[post("/comments/<id>/delete")]
pub fn delete(id: i32, mut conn: DbConn) -> String {
    inbox(&mut conn, id).ok();
    String::new()
}

#[post("/comments/<id>/purge")]
pub fn purge(id: i32, mut conn: DbConn) -> String {
    acme_models::inbox::inbox(&mut conn, id).ok();
    String::new()
}

#[launch]
fn rocket() -> _ {
    rocket::build().mount("/", routes![delete, purge])
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(root, &["-q"]);
    assert_eq!(
        priced(&json, "path"),
        [
            ("/comments/<id>/delete".to_string(), 2),
            ("/comments/<id>/purge".to_string(), 2)
        ]
    );
}

#[test]
fn each_binary_of_a_workspace_is_its_own_service() {
    // Two binaries both serve `GET /`: their routes are told apart by service in every table.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"api\", \"admin\"]\n",
    )
    .unwrap();
    let crates = [
        (
            "api",
            "shop-api",
            r#"async fn index() -> &'static str { "shop" }
async fn orders(State(db): State<sqlx::PgPool>) -> String {
    sqlx::query("SELECT 1").execute(&db).await.ok();
    String::new()
}
fn main() {
    let _ = axum::Router::new().route("/", get(index)).route("/orders", get(orders));
}
"#,
        ),
        (
            "admin",
            "shop-admin",
            r#"async fn dashboard(State(db): State<sqlx::PgPool>) -> String {
    sqlx::query("SELECT 2").execute(&db).await.ok();
    String::new()
}
fn main() {
    let _ = axum::Router::new().route("/", get(dashboard));
}
"#,
        ),
    ];
    for (folder, name, main) in crates {
        std::fs::create_dir_all(root.join(folder).join("src")).unwrap();
        std::fs::write(
            root.join(folder).join("Cargo.toml"),
            format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\n"),
        )
        .unwrap();
        std::fs::write(root.join(folder).join("src/main.rs"), main).unwrap();
    }
    let (_, json) = check_json(root, &["-q"]);
    let mut routes: Vec<(String, String, String)> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["service"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["handler"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    routes.sort();
    let want = [
        ("shop_admin", "/", "dashboard"),
        ("shop_api", "/", "index"),
        ("shop_api", "/orders", "orders"),
    ];
    assert_eq!(
        routes,
        want.map(|(s, p, h)| (s.to_string(), p.to_string(), h.to_string()))
    );
    let human = hopcheck(&["check", root.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("3 routes of 2 services"), "{text}");
    let header = text
        .lines()
        .find(|l| l.contains("route") && l.contains("handler"))
        .unwrap();
    assert!(header.starts_with("service"), "{header}");
}

/// A workspace of two binaries on one database in us-east-1: `shop-api` serves `/orders` (one read),
/// `shop-admin` serves `/` (two reads in a row), each crate in its own folder.
fn two_binaries() -> tempfile::TempDir {
    let dir = workspace(
        &[("api", "shop-api"), ("admin", "shop-admin")],
        "axum = \"0.8\"\nsqlx = \"0.8\"\n",
    );
    let root = dir.path();
    std::fs::write(
        root.join("api/src/main.rs"),
        r#"async fn orders(State(db): State<sqlx::PgPool>) -> String {
    sqlx::query("SELECT id FROM orders").execute(&db).await.ok();
    String::new()
}
fn main() {
    let _ = axum::Router::new().route("/orders", get(orders));
}
"#,
    )
    .unwrap();
    std::fs::write(
        root.join("admin/src/main.rs"),
        r#"async fn dashboard(State(db): State<sqlx::PgPool>) -> String {
    sqlx::query("SELECT count(*) FROM users").execute(&db).await.ok();
    sqlx::query("SELECT count(*) FROM orders").execute(&db).await.ok();
    String::new()
}
fn main() {
    let _ = axum::Router::new().route("/", get(dashboard));
}
"#,
    )
    .unwrap();
    dir
}

const TWO_BINARIES_TOPOLOGY: &str =
    "[databases.main]\nprimary = \"us-east-1\"\n[budget]\ndefault = \"50ms\"\n";

/// Per route of a JSON output: (service, path, [(deployment, deployed, over budget)]).
type Served = Vec<(String, String, Vec<(String, bool, bool)>)>;

fn served(json: &serde_json::Value) -> Served {
    let mut out: Vec<_> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let cost = r["cost"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["deployment"].as_str().unwrap().to_string(),
                        c["deployed"].as_bool().unwrap(),
                        c["over_budget"].as_bool().unwrap(),
                    )
                })
                .collect();
            (
                r["service"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                cost,
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn each_service_of_a_workspace_is_judged_only_where_it_runs() {
    let dir = two_binaries();
    let root = dir.path();
    let config = root.join("hopcheck.toml");
    let owned = |v: &[(&str, bool, bool)]| -> Vec<(String, bool, bool)> {
        v.iter().map(|(d, s, o)| (d.to_string(), *s, *o)).collect()
    };
    // Both regions for every service: each route is over its 50 ms budget from Ireland.
    std::fs::write(
        &config,
        format!("deployments = [\"us-east-1\", \"eu-west-1\"]\n{TWO_BINARIES_TOPOLOGY}"),
    )
    .unwrap();
    let (code, json) = check_json(root, &["-q"]);
    assert_eq!(code, 1);
    let both = owned(&[("us-east-1", true, false), ("eu-west-1", true, true)]);
    assert_eq!(
        served(&json),
        [
            ("shop_admin".to_string(), "/".to_string(), both.clone()),
            ("shop_api".to_string(), "/orders".to_string(), both)
        ]
    );

    // The API runs in Virginia, next to its database; only the admin runs in Ireland.
    std::fs::write(
        &config,
        format!(
            "deployments = [\"us-east-1\"]\n[apps.shop-admin]\ndeployments = [\"eu-west-1\"]\n{TWO_BINARIES_TOPOLOGY}"
        ),
    )
    .unwrap();
    let (code, json) = check_json(root, &["-q"]);
    assert_eq!(code, 1, "the admin is still over from Ireland");
    assert_eq!(
        json["config"]["deployments"],
        serde_json::json!(["us-east-1", "eu-west-1"])
    );
    assert_eq!(
        served(&json),
        [
            (
                "shop_admin".to_string(),
                "/".to_string(),
                owned(&[("us-east-1", false, false), ("eu-west-1", true, true)])
            ),
            (
                "shop_api".to_string(),
                "/orders".to_string(),
                owned(&[("us-east-1", true, false), ("eu-west-1", false, false)])
            )
        ]
    );
    // Findings price only the deployments that run the code.
    let messages: Vec<(&str, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["lint"].as_str().unwrap(), d["message"].as_str().unwrap()))
        .collect();
    for lint in ["over-budget", "sequential-queries"] {
        let (_, message) = messages
            .iter()
            .find(|(l, _)| *l == lint)
            .unwrap_or_else(|| panic!("no {lint} in {messages:?}"));
        assert!(message.contains("from eu-west-1"), "{message}");
        assert!(!message.contains("from us-east-1"), "{message}");
    }
    assert_eq!(
        messages.iter().filter(|(l, _)| *l == "over-budget").count(),
        1,
        "{messages:?}"
    );
    // The table leaves a deployment that does not serve a route empty, and the topology says who runs where.
    let human = hopcheck(&["check", root.to_str().unwrap()]);
    let text = stdout(&human);
    let api = text.lines().find(|l| l.contains("/orders")).unwrap();
    assert!(api.contains('—'), "{api}");
    assert!(
        text.contains("shop-admin in eu-west-1, the others in us-east-1"),
        "{text}"
    );

    // An app that names no service is said, with the names that would match.
    std::fs::write(
        &config,
        format!(
            "deployments = [\"us-east-1\"]\n[apps.shop-admin]\ndeployments = [\"eu-west-1\"]\n[apps.worker]\ndeployments = [\"eu-west-1\"]\n{TWO_BINARIES_TOPOLOGY}"
        ),
    )
    .unwrap();
    let (_, json) = check_json(root, &["-q"]);
    let unused: Vec<String> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["lint"] == "unused-config")
        .map(|d| {
            format!(
                "{} | {}",
                d["message"].as_str().unwrap(),
                d["help"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(unused.len(), 1, "{unused:?}");
    assert!(
        unused[0].contains("[apps.worker] serves no route"),
        "{unused:?}"
    );
    assert!(unused[0].contains("`shop_admin`, `shop_api`"), "{unused:?}");
}

#[test]
fn an_app_may_be_named_by_its_folder() {
    // `path` picks the routes whose router is under a folder, whatever the crate is called.
    let dir = two_binaries();
    let root = dir.path();
    std::fs::write(
        root.join("hopcheck.toml"),
        format!(
            "deployments = [\"eu-west-1\"]\n[apps.backend]\npath = \"api\"\ndeployments = [\"us-east-1\"]\n{TWO_BINARIES_TOPOLOGY}"
        ),
    )
    .unwrap();
    let (_, json) = check_json(root, &["-q"]);
    let where_served: Vec<(String, Vec<String>)> = served(&json)
        .into_iter()
        .map(|(s, _, cost)| (s, cost.into_iter().filter(|c| c.1).map(|c| c.0).collect()))
        .collect();
    assert_eq!(
        where_served,
        [
            ("shop_admin".to_string(), vec!["eu-west-1".to_string()]),
            ("shop_api".to_string(), vec!["us-east-1".to_string()])
        ]
    );
}

#[test]
fn routes_a_library_crate_configures_belong_to_the_binary_that_mounts_them() {
    // `server` mounts the `federation` crate's routes inside an `if` of a configuring closure, through a
    // re-export at that crate's root, while `metrics` (another binary) has a root-level `config` of its
    // own: the federation routes are the server's.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"server\", \"federation\", \"metrics\"]\n",
    )
    .unwrap();
    let crates = [
        (
            "server",
            "main.rs",
            r#"async fn home() -> &'static str { "home" }
fn main() {
    let federated = true;
    let _ = App::new()
        .route("/", web::get().to(home))
        .configure(|cfg| {
            if federated {
                federation::config(cfg);
            }
        });
}
"#,
        ),
        (
            "federation",
            "lib.rs",
            r#"mod http;
pub use http::config;
"#,
        ),
        (
            "metrics",
            "main.rs",
            r#"async fn metrics() -> &'static str { "" }
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(metrics));
}
fn main() {
    let _ = App::new().configure(config);
}
"#,
        ),
    ];
    for (folder, file, text) in crates {
        std::fs::create_dir_all(root.join(folder).join("src")).unwrap();
        std::fs::write(
            root.join(folder).join("Cargo.toml"),
            format!("[package]\nname = \"{folder}\"\nversion = \"0.1.0\"\n[dependencies]\nactix-web = \"4\"\nsqlx = \"0.8\"\n"),
        )
        .unwrap();
        std::fs::write(root.join(folder).join("src").join(file), text).unwrap();
    }
    std::fs::write(
        root.join("federation/src/http.rs"),
        r#"async fn inbox(db: web::Data<sqlx::PgPool>) -> String {
    sqlx::query("SELECT 1").execute(db.get_ref()).await.ok();
    String::new()
}
pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/inbox", web::post().to(inbox));
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(root, &["-q"]);
    let mut routes: Vec<(String, String)> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["service"].as_str().unwrap_or("-").to_string(),
                r["path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    routes.sort();
    let want = [
        ("metrics", "/metrics"),
        ("server", "/"),
        ("server", "/inbox"),
    ];
    assert_eq!(routes, want.map(|(s, p)| (s.to_string(), p.to_string())));
}

#[test]
fn only_tonic_shaped_trait_methods_are_grpc_methods() {
    // A tonic method takes one `Request<T>`; reqwest-middleware's `handle(&self, req: Request, ..)` and
    // an ADR handler's `handle(&self, req: &Request)` are not gRPC methods.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("svc.rs"),
        r#"
pub struct CatalogService { db: sqlx::PgPool }
#[tonic::async_trait]
impl catalog_server::Catalog for CatalogService {
    async fn count(&self, request: Request<CountRequest>) -> Result<Response<CountReply>, Status> {
        sqlx::query("SELECT count(*) FROM items").execute(&self.db).await.ok();
        Ok(Response::new(CountReply::default()))
    }
}
pub struct Logging;
impl Middleware for Logging {
    async fn handle(&self, req: Request, extensions: &mut Extensions, next: Next<'_>) -> Result<Response> {
        next.run(req, extensions).await
    }
}
pub struct Algorithm;
impl Handler for Algorithm {
    async fn handle(&self, req: &Request) -> Result<Response> {
        Ok(Response::default())
    }
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(priced(&json, "path"), [("/Catalog/count".to_string(), 1)]);
}

#[test]
fn a_router_a_helper_returns_into_a_local_is_nested() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
pub fn app() -> Router<PgPool> {
    let api = create_api_router();
    Router::new().route("/", get(index)).nest("/api", api)
}
fn create_api_router() -> Router<PgPool> {
    let router = Router::new();
    router.route("/queue/{name}", get(queue))
}
async fn index() -> &'static str { "ok" }
async fn queue(State(db): State<PgPool>) -> String {
    sqlx::query("SELECT 1").execute(&db).await.ok();
    String::new()
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let mut routes = priced(&json, "path");
    routes.sort();
    assert_eq!(
        routes,
        [("/".to_string(), 0), ("/api/queue/{name}".to_string(), 1)]
    );
}

#[test]
fn actix_scopes_held_in_locals_keep_their_prefix_as_routes_are_added() {
    // `let mut route = web::scope("/customers")`, then `route = route.service(..)` in blocks: every
    // resource is under the scope; a scope whose path the code computes keeps it as written.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        r#"
use actix_web::{web, App, HttpResponse, Scope};
pub struct Customers;
impl Customers {
    pub fn server(state: AppState) -> Scope {
        let mut route = web::scope("/customers").app_data(web::Data::new(state));
        #[cfg(feature = "olap")]
        {
            route = route.service(web::resource("/{id}/mandates").route(web::get().to(mandates)));
        }
        route = route
            .service(web::resource("").route(web::post().to(create)))
            .service(web::resource("/{id}").route(web::delete().to(delete)));
        route
    }
}
pub struct Payments;
impl Payments {
    pub fn server(state: AppState) -> Scope {
        let base_path = format!("/{}/payments", state.prefix);
        web::scope(&base_path).service(web::resource("/{id}").route(web::get().to(mandates)))
    }
}
async fn create(state: web::Data<AppState>) -> HttpResponse { sqlx::query("INSERT INTO c VALUES (1)").execute(&state.pool).await.ok(); HttpResponse::Ok().finish() }
async fn delete(state: web::Data<AppState>) -> HttpResponse { sqlx::query("DELETE FROM c").execute(&state.pool).await.ok(); HttpResponse::Ok().finish() }
async fn mandates(state: web::Data<AppState>) -> HttpResponse { sqlx::query("SELECT 1").fetch_one(&state.pool).await.ok(); HttpResponse::Ok().finish() }
#[derive(Clone)]
pub struct AppState { pool: sqlx::PgPool, prefix: String }
fn app(state: AppState) {
    let _ = App::new().service(Customers::server(state.clone())).service(Payments::server(state));
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    let routes = route_names(&json, "");
    assert_eq!(
        routes,
        [
            "DELETE /customers/{id}",
            "GET /customers/{id}/mandates",
            "GET /{base_path}/{id}",
            "POST /customers",
        ]
    );
}

#[test]
fn mount_prefixes_put_together_from_literals_and_names_keep_the_names_as_written_and_appended_lists_mount(
) {
    // `[basepath, "/api"].concat()` and `format!("{}/admin", basepath)`: the literal parts as they are, the
    // computed ones in braces, never dropped; a list of routes that others are appended to mounts them all.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        r#"
#[rocket::get("/x")]
async fn x(conn: DbConn) -> String { sqlx::query("SELECT 1").execute(&conn).await; String::new() }
#[rocket::post("/y")]
async fn y(conn: DbConn) -> String { sqlx::query("DELETE FROM y").execute(&conn).await; String::new() }
pub fn core_routes() -> Vec<rocket::Route> { rocket::routes![x] }
/// Routes gathered by appending other functions' routes.
pub fn all_routes() -> Vec<rocket::Route> {
    let mut more = rocket::routes![y];
    let mut routes = Vec::new();
    routes.append(&mut core_routes());
    routes.append(&mut more);
    routes
}
async fn launch(basepath: &str) {
    let _ = rocket::custom(config)
        .mount([basepath, "/api"].concat(), core_routes())
        .mount(format!("{}/admin", basepath), core_routes())
        .mount(concat!("/v", "1"), all_routes());
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    let mut paths: Vec<&str> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        ["/v1/x", "/v1/y", "/{basepath}/admin/x", "/{basepath}/api/x"]
    );
}

/// The help of the first `lint` finding of a run's JSON.
fn help_of(json: &serde_json::Value, lint: &str) -> String {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["lint"] == lint)
        .unwrap_or_else(|| panic!("a {lint} finding: {json}"))["help"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The help of the sequential-queries finding in `source`'s one handler.
fn sequential_help(source: &str) -> String {
    help_of(&check_source(source), "sequential-queries")
}

/// The JSON report of a folder holding `source` alone, as `app.rs`.
fn check_source(source: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.rs"), source).unwrap();
    check_json(dir.path(), &["-q"]).1
}

#[test]
fn help_never_advises_merging_statements_across_a_row_lock() {
    // The host is locked, then the resources already on it are read: that read must see what the
    // lock's earlier holders committed, so one statement (an older snapshot) would be wrong.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
async fn pick_host(State(pool): State<PgPool>) -> sqlx::Result<i64> {
    let mut tx = pool.begin().await?;
    let used = pick(&mut tx).await?;
    tx.commit().await?;
    Ok(used)
}
async fn pick(tx: &mut Transaction<'_, Postgres>) -> sqlx::Result<i64> {
    let host: i64 = sqlx::query_scalar("SELECT id FROM hosts WHERE free > 0 ORDER BY free LIMIT 1 FOR UPDATE")
        .fetch_one(&mut **tx).await?;
    sqlx::query_scalar("SELECT count(*) FROM workspaces WHERE host_id = $1").bind(host).fetch_one(&mut **tx).await
}
fn app() -> Router { Router::new().route("/hosts/pick", post(pick_host)) }
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    for lint in ["sequential-queries", "chatty-transaction"] {
        let help = help_of(&json, lint);
        assert!(help.contains("row lock"), "{lint}: {help}");
        assert!(
            !help.contains("merge them") && !help.contains("merge the statements"),
            "{lint}: {help}"
        );
    }
}

#[test]
fn help_never_advises_folding_statements_across_a_table_lock() {
    // A state store's load locks the table, reads, and its save writes and commits: the later
    // statements must see what the lock's earlier holders committed, so no fold or merge is right.
    let help = sequential_help(
        r#"
struct IssueData<'a> { transaction: tokio_postgres::Transaction<'a>, data: String }
async fn load(db: &mut tokio_postgres::Client, key: &str) -> Result<IssueData<'_>, tokio_postgres::Error> {
    let transaction = db.transaction().await?;
    transaction.execute("LOCK TABLE issue_data", &[]).await?;
    let data = transaction.query_opt("SELECT data FROM issue_data WHERE key = $1", &[&key]).await?
        .map(|row| row.get::<usize, String>(0)).unwrap_or_default();
    Ok(IssueData { transaction, data })
}
async fn note(State(mut db): State<tokio_postgres::Client>, Path(key): Path<String>) -> Result<(), tokio_postgres::Error> {
    let state = load(&mut db, &key).await?;
    state.transaction.execute("INSERT INTO issue_data (key, data) VALUES ($1, $2)", &[&key, &state.data]).await?;
    state.transaction.commit().await
}
fn app() -> Router { Router::new().route("/notes/{key}", post(note)) }
"#,
    );
    assert!(help.contains("lock"), "{help}");
    assert!(
        !help.contains("fold it into the write") && !help.contains("merge them"),
        "{help}"
    );
}

#[test]
fn a_row_lock_outside_a_transaction_is_not_said_to_be_held() {
    // On the pool, the locking statement commits on its own and its lock ends with it: the later
    // statements may be merged.
    let help = sequential_help(
        r#"
async fn add_cell(State(pool): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {
    let _n: i64 = sqlx::query_scalar("SELECT id FROM notebooks WHERE id = $1").bind(id).fetch_one(&pool).await?;
    let _c: i64 = sqlx::query_scalar("WITH lock AS (SELECT * FROM notebooks WHERE id = $1 FOR UPDATE) INSERT INTO cells (notebook_id) VALUES ($1) RETURNING id")
        .bind(id).fetch_one(&pool).await?;
    sqlx::query("UPDATE notebooks SET updated_at = now() WHERE id = $1").bind(id).execute(&pool).await?;
    Ok(())
}
fn app() -> Router { Router::new().route("/notebooks/{id}/cells", post(add_cell)) }
"#,
    );
    assert!(!help.contains("row lock"), "{help}");
}

#[test]
fn a_list_extended_with_a_result_does_not_make_the_next_read_depend_on_the_first() {
    // `alerts` holds the first read's answer, but the second read takes only the queue: the two
    // do not use each other's results.
    let help = sequential_help(
        r#"
async fn alerts(State(pool): State<PgPool>, State(queue): State<Queue>) -> sqlx::Result<Vec<String>> {
    let mut alerts = Vec::new();
    if let Some(manual) = sqlx::query_scalar::<_, String>("SELECT value FROM config WHERE name = 'alert'")
        .fetch_optional(&pool).await?
    {
        alerts.push(manual);
    }
    alerts.extend(sqlx::query_scalar::<_, String>("SELECT name FROM queue WHERE stuck").fetch_all(&queue.pool).await?);
    Ok(alerts)
}
fn app() -> Router { Router::new().route("/alerts", get(alerts)) }
"#,
    );
    assert!(help.contains("do not use each other's results"), "{help}");
    assert!(!help.contains("uses an earlier result"), "{help}");
}

#[test]
fn methods_of_one_object_on_the_connection_it_holds_are_not_advised_to_run_at_once() {
    // `self.batch_exists(..)` and `self.quota(..)` each query on `&mut self.conn`: one connection, which
    // they borrow in turn; methods of an object that reads on its pool may run at once.
    let held = sequential_help(
        r#"
pub struct Store { conn: PgConnection }
impl Store {
    async fn batch_exists(&mut self, id: i64) -> sqlx::Result<bool> {
        sqlx::query_scalar("SELECT true FROM batches WHERE id = $1").bind(id).fetch_one(&mut self.conn).await
    }
    async fn quota(&mut self, user: i64) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT used FROM quotas WHERE user_id = $1").bind(user).fetch_one(&mut self.conn).await
    }
    async fn append(&mut self, id: i64, user: i64) -> sqlx::Result<()> {
        let exists = self.batch_exists(id).await?;
        let used = self.quota(user).await?;
        Ok(())
    }
}
async fn post_batch(State(store): State<Store>, Path(id): Path<i64>) -> sqlx::Result<()> {
    let mut store = store;
    store.append(id, 1).await
}
fn app() -> Router { Router::new().route("/batches/{id}", post(post_batch)) }
"#,
    );
    assert!(help_says_one_connection(&held), "{held}");
    let pooled = sequential_help(
        r#"
pub struct Repo { pool: PgPool }
impl Repo {
    async fn user(&self, id: i64) -> sqlx::Result<String> {
        sqlx::query_scalar("SELECT name FROM users WHERE id = $1").bind(id).fetch_one(&self.pool).await
    }
    async fn orders(&self, id: i64) -> sqlx::Result<i64> {
        sqlx::query_scalar("SELECT count(*) FROM orders WHERE user_id = $1").bind(id).fetch_one(&self.pool).await
    }
}
async fn profile(State(repo): State<Repo>, Path(id): Path<i64>) -> sqlx::Result<String> {
    let name = repo.user(id).await?;
    let n = repo.orders(id).await?;
    Ok(format!("{name} {n}"))
}
fn app() -> Router { Router::new().route("/users/{id}", get(profile)) }
"#,
    );
    assert!(pooled.contains("try_join!"), "{pooled}");
}

fn help_says_one_connection(help: &str) -> bool {
    help.contains("they run on one connection or transaction, so they cannot run at once")
        && !help.contains("try_join!")
}

#[test]
fn statements_each_on_a_connection_taken_for_them_may_run_at_once() {
    // Each read takes its own connection from the pool where it is written (`&mut get_conn().await?`):
    // nothing is shared, so `try_join!` is the fix; one connection held in a local is shared.
    let fresh = sequential_help(
        r#"
async fn members(Path(team): Path<i64>) -> Result<String, Error> {
    let owner: String = teams::table.find(team).select(teams::owner).first(&mut get_conn().await?).await?;
    let users: Vec<String> = members::table.filter(members::team.eq(team)).select(members::name).load(&mut get_conn().await?).await?;
    Ok(format!("{owner}: {}", users.join(", ")))
}
fn app() -> Router { Router::new().route("/teams/{team}/members", get(members)) }
"#,
    );
    assert!(
        fresh.contains("run them at once with `tokio::try_join!`"),
        "{fresh}"
    );
    assert!(!fresh.contains("they run on one connection"), "{fresh}");
    let shared = sequential_help(
        r#"
async fn members(Path(team): Path<i64>) -> Result<String, Error> {
    let mut conn = get_conn().await?;
    let owner: String = teams::table.find(team).select(teams::owner).first(&mut conn).await?;
    let users: Vec<String> = members::table.filter(members::team.eq(team)).select(members::name).load(&mut conn).await?;
    Ok(format!("{owner}: {}", users.join(", ")))
}
fn app() -> Router { Router::new().route("/teams/{team}/members", get(members)) }
"#,
    );
    assert!(shared.contains("they run on one connection"), "{shared}");
}

#[test]
fn a_name_an_if_let_binds_again_is_no_input_from_the_earlier_binding() {
    // Both lookups bind `object`; the second takes only the name, so the two do not depend on each
    // other (the second runs where the first found nothing).
    let help = sequential_help(
        r#"
async fn details(State(db): State<PgPool>, Path(name): Path<String>) -> sqlx::Result<String> {
    if let Some(object) = relation(&db, &name).await? {
        return Ok(object);
    }
    if let Some(object) = routine(&db, &name).await? {
        return Ok(object);
    }
    Ok(String::new())
}
async fn relation(db: &PgPool, name: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT relname FROM pg_class WHERE relname = $1").bind(name).fetch_optional(db).await
}
async fn routine(db: &PgPool, name: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("SELECT proname FROM pg_proc WHERE proname = $1").bind(name).fetch_optional(db).await
}
fn app() -> Router { Router::new().route("/objects/{name}", get(details)) }
"#,
    );
    assert!(help.contains("do not use each other's results"), "{help}");
}

#[test]
fn route_attributes_of_other_crates_are_taught_in_the_configuration() {
    // A team's own route macros, wrapping actix-web's: `#[api::read(..)]` stands for `#[get(..)]`,
    // `#[endpoint(.., method = "..")]` for `#[route(..)]`.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        r#"
use actix_web::{web, App, HttpServer};

#[api::read("/users/{id}")]
async fn user(pool: web::Data<PgPool>, id: web::Path<i64>) -> String {
    sqlx::query_scalar("SELECT name FROM users WHERE id = $1").bind(*id).fetch_one(pool.get_ref()).await.unwrap_or_default()
}

#[endpoint("/login", method = "POST")]
async fn login(pool: web::Data<PgPool>, body: String) -> String {
    sqlx::query("UPDATE users SET seen = now() WHERE name = $1").bind(body).execute(pool.get_ref()).await.ok();
    String::new()
}

#[actix_web::main]
async fn main() {
    HttpServer::new(|| App::new().service(user).service(login)).bind("0:8080").unwrap().run().await.unwrap();
}
"#,
    )
    .unwrap();
    let routes = |json: &serde_json::Value| route_names(json, "");
    let (_, untaught) = check_json(dir.path(), &["-q"]);
    assert_eq!(routes(&untaught), Vec::<String>::new(), "{untaught}");
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "[[route-attributes]]\npath = \"api::read\"\nlike = \"actix_web::get\"\n\n[[route-attributes]]\npath = \"endpoint\"\nlike = \"route\"\n\n[[route-attributes]]\npath = \"api::remove\"\nlike = \"actix_web::delete\"\n",
    )
    .unwrap();
    let (code, taught) = check_json(dir.path(), &["-q"]);
    assert_eq!(
        routes(&taught),
        ["GET /users/{id}", "POST /login"],
        "{taught}"
    );
    // The entry no handler uses is said, at its line.
    let unused: Vec<u64> = taught["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["lint"] == "unused-config")
        .map(|d| d["line"].as_u64().unwrap())
        .collect();
    assert_eq!(unused, [9], "{taught}");
    assert_eq!(code, 1);
    // A `like` that names no framework attribute is a configuration error.
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "[[route-attributes]]\npath = \"api::read\"\nlike = \"actix_web::fetch\"\n",
    )
    .unwrap();
    let out = hopcheck(&["check", "-q", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("is not a framework's route attribute"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_chain_that_leaves_its_transaction_is_not_said_to_run_on_one_connection() {
    // A read on the pool, a transaction of two writes, then a read on the pool after COMMIT: only the
    // writes share a connection, so the help must not claim that all of them do; and no two of the
    // reads could run at once (the second needs the first's owner, after the writes).
    let help = sequential_help(
        r#"
async fn rename(State(pool): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<String> {
    let owner: i64 = sqlx::query_scalar("SELECT owner FROM folders WHERE id = $1").bind(id).fetch_one(&pool).await?;
    let mut tx = pool.begin().await?;
    sqlx::query("UPDATE folders SET name = 'x' WHERE id = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query("INSERT INTO folder_log (folder, owner) VALUES ($1, $2)").bind(id).bind(owner).execute(&mut *tx).await?;
    tx.commit().await?;
    let name: String = sqlx::query_scalar("SELECT name FROM owners WHERE id = $1").bind(owner).fetch_one(&pool).await?;
    Ok(name)
}
fn app() -> Router { Router::new().route("/folders/{id}/name", post(rename)) }
"#,
    );
    assert!(!help.contains("they run on one connection"), "{help}");
    // The BEGIN between the first read and the writes is no read that could run beside it.
    assert!(!help.contains("do not use each other's results"), "{help}");
}

#[test]
fn a_handler_a_wrapper_function_is_given_serves_the_route() {
    // `endpoint_auth(h)` (poem's `.around(..)` behind a helper) and `get(authed(h))`: the handler
    // inside serves the route.
    let json = check_source(
        r#"
fn endpoint_auth<E: Endpoint + 'static>(e: E) -> impl Endpoint<Output = E::Output> { e.around(|ep, req| async move { ep.call(req).await }) }
fn authed<H>(h: H) -> H { h }
#[handler]
async fn stream(Data(pool): Data<&PgPool>) -> String { sqlx::query("SELECT 1").execute(pool).await.map(|_| String::new()).unwrap_or_default() }
async fn feed(State(pool): State<PgPool>) -> String { sqlx::query("SELECT 2").execute(&pool).await.map(|_| String::new()).unwrap_or_default() }
fn gateway() -> Route { Route::new().at("/api/stream", endpoint_auth(stream)) }
fn app() -> Router<PgPool> { Router::new().route("/api/feed", get(authed(feed))) }
"#,
    );
    let routes = common::paths_and_handlers(&json);
    assert!(
        routes.contains(&("/api/stream".into(), "stream".into())),
        "{routes:?}"
    );
    assert!(
        routes.contains(&("/api/feed".into(), "feed".into())),
        "{routes:?}"
    );
}

#[test]
fn top_shows_the_costliest_routes_then_the_costliest_findings_a_line_each() {
    let dir = twelve_routes();
    let out = hopcheck(&["check", "--top", "3", dir.path().to_str().unwrap()]);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("route"), "{text}");
    assert!(lines[1].starts_with("GET /r11 "), "{text}");
    assert!(lines[3].starts_with("GET /r9 "), "{text}");
    assert_eq!(
        lines[4],
        "9 more routes, cheaper (`--top 0` lists them all)"
    );
    // The three costliest findings, one line each: h11's run of 13 reads first.
    assert!(
        lines[6].starts_with("⚠ app.rs:") && lines[6].contains("sequential-queries: 13 sequential"),
        "{text}"
    );
    assert_eq!(
        lines[9],
        "21 more findings, cheaper (`--top 0` or `--format short` lists them all)"
    );
    assert!(
        text.contains("12 routes, 12 over budget; 12 errors, 12 warnings"),
        "{text}"
    );
    assert!(text.lines().count() < 20, "{text}");
    // `--top 0` shows everything.
    let all = stdout(&hopcheck(&[
        "check",
        "--top",
        "0",
        dir.path().to_str().unwrap(),
    ]));
    assert!(all.contains("GET /r0 "), "{all}");
    assert!(!all.contains("more findings"), "{all}");
}

#[test]
fn max_findings_keeps_the_costliest_in_full() {
    let dir = twelve_routes();
    let path = dir.path().to_str().unwrap();
    let text = stdout(&hopcheck(&["check", "--max-findings", "2", path]));
    assert_eq!(text.matches("╭─[app.rs:").count(), 2, "{text}");
    assert!(text.contains("13 sequential round trips"), "{text}");
    assert!(text.contains("22 more findings, cheaper"), "{text}");
    assert!(text.contains("GET /r0 "), "the whole route table: {text}");
    let markdown = stdout(&hopcheck(&[
        "check",
        "--format",
        "markdown",
        "--max-findings",
        "1",
        path,
    ]));
    assert_eq!(markdown.matches("- **").count(), 1, "{markdown}");
    assert!(markdown.contains("- and 23 more"), "{markdown}");
}

#[test]
fn on_a_terminal_many_findings_get_the_compact_view() {
    if !have_program("script") {
        return;
    }
    let dir = twelve_routes();
    let bin = env!("CARGO_BIN_EXE_hopcheck");
    let out = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("{bin} check --color never {}", dir.path().display()),
            "/dev/null",
        ])
        .env_remove("CI")
        .output()
        .expect("`script` (util-linux) runs a command on a terminal");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(shown.contains("2 more routes, cheaper"), "{shown}");
    assert!(shown.contains("14 more findings, cheaper"), "{shown}");
    // Not on a terminal (a pipe, a CI log): everything, in full.
    let piped = stdout(&hopcheck(&["check", dir.path().to_str().unwrap()]));
    assert!(!piped.contains("more findings"), "{piped}");
}

/// A finding whose first round trip is an extractor's lookup says how to save it without advice that
/// would skip a check or put a secret in a token.
#[test]
fn an_extractors_lookup_is_advised_on_without_carrying_secrets() {
    let (_, json) = check_json(&fixtures().join("projects/blog"), &["-q"]);
    let help: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"] == "src/http/posts.rs" && d["lint"] == "sequential-queries")
        .filter_map(|d| d["help"].as_str())
        .collect();
    let extractor = help
        .iter()
        .find(|h| h.contains("the extractor `"))
        .unwrap_or_else(|| panic!("{help:?}"));
    assert!(
        extractor.contains("where the code checks nothing between"),
        "{extractor}"
    );
    assert!(
        extractor.contains("never a password hash or a secret"),
        "{extractor}"
    );
}

/// MySQL has no `RETURNING`, no arrays to bind (`= ANY($1)`, `UNNEST`) and no `$1` placeholders: the help
/// on a MySQL service names none of them, while a PostgreSQL one keeps them.
#[test]
fn help_on_a_mysql_service_names_no_postgresql_syntax() {
    let handlers = r#"
use axum::{extract::State, routing::post, Router};
use sqlx::{MySqlPool, Row};

pub fn app(pool: MySqlPool) -> Router {
    Router::new()
        .route("/orders", post(create))
        .route("/orders/tags", post(tag_all))
        .route("/orders/move", post(move_order))
        .with_state(pool)
}

async fn create(State(pool): State<MySqlPool>) -> String {
    sqlx::query("INSERT INTO orders (item) VALUES (?)").bind("a").execute(&pool).await.unwrap();
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM orders WHERE item = ?").bind("a").fetch_one(&pool).await.unwrap();
    let owner: String = sqlx::query_scalar("SELECT owner FROM items WHERE name = ?").bind("a").fetch_one(&pool).await.unwrap();
    sqlx::query("UPDATE owners SET orders = orders + 1 WHERE name = ?").bind(&owner).execute(&pool).await.unwrap();
    format!("{n}")
}

async fn tag_all(State(pool): State<MySqlPool>, ids: Vec<i64>) -> String {
    for id in &ids {
        let tag: String = sqlx::query_scalar("SELECT tag FROM tags WHERE id = ?").bind(id).fetch_one(&pool).await.unwrap();
        sqlx::query("INSERT INTO order_tags (order_id, tag) VALUES (?, ?)").bind(id).bind(&tag).execute(&pool).await.unwrap();
    }
    String::new()
}

async fn move_order(State(pool): State<MySqlPool>) -> String {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("UPDATE orders SET shelf = 2 WHERE id = 1").execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE shelves SET used = used + 1 WHERE id = 2").execute(&mut *tx).await.unwrap();
    sqlx::query("UPDATE shelves SET used = used - 1 WHERE id = 1").execute(&mut *tx).await.unwrap();
    tx.commit().await.unwrap();
    String::new()
}
"#;
    let helps = |features: &str| {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("src")).unwrap();
        std::fs::write(
            dir.path().join("Cargo.toml"),
            format!(
                "[package]\nname = \"orders\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\n\
                 tokio = \"1\"\nsqlx = {{ version = \"0.8\", features = [{features}] }}\n"
            ),
        )
        .unwrap();
        std::fs::write(dir.path().join("src/main.rs"), handlers).unwrap();
        let (_, json) = check_json(dir.path(), &["-q"]);
        let diagnostics = json["diagnostics"].as_array().unwrap().clone();
        let lints: std::collections::BTreeSet<String> = diagnostics
            .iter()
            .map(|d| d["lint"].as_str().unwrap().to_string())
            .collect();
        for lint in ["sequential-queries", "query-in-loop", "chatty-transaction"] {
            assert!(lints.contains(lint), "{features}: no {lint} in {lints:?}");
        }
        diagnostics
            .iter()
            .map(|d| d["help"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mysql = helps("\"mysql\", \"runtime-tokio\"");
    for postgres_only in [
        "RETURNING",
        "ANY(",
        "UNNEST",
        "$1",
        "a CTE",
        "database function",
    ] {
        assert!(
            !mysql.contains(postgres_only),
            "{postgres_only} in:\n{mysql}"
        );
    }
    for said in [
        "IN (…)",
        "multi-row `INSERT … VALUES",
        "last_insert_id()",
        "stored procedure",
    ] {
        assert!(mysql.contains(said), "{said} missing in:\n{mysql}");
    }
    // The same code on PostgreSQL (its SQL would use `$1`; the help does not read it) keeps its advice.
    let postgres = helps("\"postgres\", \"runtime-tokio\"");
    for said in ["RETURNING", "= ANY($1)", "UNNEST"] {
        assert!(postgres.contains(said), "{said} missing in:\n{postgres}");
    }
}

#[test]
fn a_check_written_once_per_build_in_another_crate_is_each_build_where_none_is_deployed() {
    // `core::auth::check_permissions` is written twice: the open build's says `false` at once, the
    // enterprise build's reads the user first. Told no build, the enterprise block of the handler is
    // priced with either, so the costlier one: the check's read and the two reads after it.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (path, text) in [
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"core\", \"api\"]\n",
        ),
        (
            "core/Cargo.toml",
            "[package]\nname = \"app-core\"\nversion = \"0.1.0\"\n[dependencies]\nsqlx = \"0.8\"\n[features]\nenterprise = []\n",
        ),
        (
            "core/src/lib.rs",
            "pub mod auth;\n",
        ),
        (
            "core/src/auth.rs",
            r#"
#[cfg(not(feature = "enterprise"))]
pub async fn check_permissions(_db: &sqlx::PgPool, _user: &str) -> bool {
    false
}

#[cfg(feature = "enterprise")]
pub async fn check_permissions(db: &sqlx::PgPool, user: &str) -> bool {
    let role: Option<String> = sqlx::query_scalar("SELECT role FROM users WHERE email = $1")
        .bind(user)
        .fetch_optional(db)
        .await
        .ok()
        .flatten();
    match role {
        Some(role) => return role == "admin",
        None => return false,
    }
}
"#,
        ),
        (
            "api/Cargo.toml",
            "[package]\nname = \"api\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\napp-core = { path = \"../core\" }\n[features]\nenterprise = [\"app-core/enterprise\"]\n",
        ),
        (
            "api/src/main.rs",
            r#"
use axum::{extract::State, routing::get, Router};
#[cfg(feature = "enterprise")]
use app_core::auth::check_permissions;

async fn list_services(State(db): State<sqlx::PgPool>) -> String {
    #[cfg(feature = "enterprise")]
    {
        if !check_permissions(&db, "me").await {
            return "forbidden".into();
        }
        let _ = sqlx::query("SELECT 1 FROM services").execute(&db).await;
        let _ = sqlx::query("SELECT 1 FROM settings").execute(&db).await;
        return "services".into();
    }
    #[cfg(not(feature = "enterprise"))]
    "none".into()
}

#[tokio::main]
async fn main() {
    let db = sqlx::PgPool::connect_lazy("postgres://").unwrap();
    let app: Router = Router::new().route("/services", get(list_services)).with_state(db);
    let _ = app;
}
"#,
        ),
    ] {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    let (_, json) = check_json(root, &["-q"]);
    assert_eq!(json["routes"][0]["round_trips"], 3, "{}", json["routes"]);
    // The open build's check refuses: its handler answers at once.
    std::fs::write(root.join("hopcheck.toml"), "[build]\nfeatures = []\n").unwrap();
    let (_, json) = check_json(root, &["-q"]);
    assert_eq!(json["routes"][0]["round_trips"], 0, "{}", json["routes"]);
    // The enterprise build's reads the user, then the handler's two reads.
    std::fs::write(
        root.join("hopcheck.toml"),
        "[build]\nfeatures = [\"enterprise\"]\n",
    )
    .unwrap();
    let (_, json) = check_json(root, &["-q"]);
    assert_eq!(json["routes"][0]["round_trips"], 3, "{}", json["routes"]);
}

#[test]
fn a_router_given_one_layer_or_another_by_an_if_runs_the_costlier_not_both() {
    // The configuration picks the authentication middleware: basic (one read) or none (a read and
    // a write for the default admin). A route behind it runs one of them, never both.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"podcasts\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\ntokio = \"1\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("src/main.rs"),
        r#"
use axum::extract::{Request, State};
use axum::middleware::{from_fn_with_state, Next};
use axum::response::Response;
use axum::{routing::get, Router};
use sqlx::PgPool;

async fn categories(State(db): State<PgPool>) -> String {
    let _ = sqlx::query("SELECT name FROM categories").execute(&db).await;
    String::new()
}

async fn basic_auth(State(db): State<PgPool>, req: Request, next: Next) -> Response {
    let _ = sqlx::query("SELECT 1 FROM users WHERE name = $1").execute(&db).await;
    next.run(req).await
}

async fn no_auth(State(db): State<PgPool>, req: Request, next: Next) -> Response {
    let _ = sqlx::query("SELECT 1 FROM users WHERE name = 'admin'").execute(&db).await;
    let _ = sqlx::query("INSERT INTO users (name) VALUES ('admin')").execute(&db).await;
    next.run(req).await
}

fn private_api(db: PgPool, basic: bool) -> Router {
    let mut router = Router::new()
        .route("/categories", get(categories))
        .with_state(db.clone());
    if std::env::var("EXTRA").is_ok() {
        router = router.merge(Router::new());
    }
    if basic {
        router.layer(from_fn_with_state(db.clone(), basic_auth))
    } else {
        router.layer(from_fn_with_state(db, no_auth))
    }
}

#[tokio::main]
async fn main() {
    let db = PgPool::connect_lazy("postgres://").unwrap();
    let app: Router = Router::new().nest("/api/v1", private_api(db, true));
    let _ = app;
}
"#,
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &["-q"]);
    let route = &json["routes"][0];
    assert_eq!(route["path"], "/api/v1/categories", "{}", json["routes"]);
    assert_eq!(route["round_trips"], 3, "{}", json["routes"]);
    let vias: Vec<String> = route["trips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["via"].to_string())
        .collect();
    assert!(
        vias.iter().any(|v| v.contains("no_auth"))
            && !vias.iter().any(|v| v.contains("basic_auth")),
        "{vias:?}"
    );
}

/// A GraphQL field's route pays what the endpoint that runs the schema does around it: here a
/// hand-written dispatcher hands `/graphql` to a function that reads the session, opens a transaction,
/// runs the schema with juniper's `execute` and commits. The field costs the session read, BEGIN, its
/// own read and COMMIT; the HTTP route itself lists the schema's run as a call it cannot follow.
#[test]
fn a_graphql_field_runs_behind_the_endpoint_that_executes_the_schema() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"api\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\njuniper = \"0.16\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::State, routing::post, Router};
use sqlx::PgPool;

pub struct Context { pub db: PgPool }
impl juniper::Context for Context {}

pub struct Query;

#[juniper::graphql_object(Context = Context)]
impl Query {
    async fn user(context: &Context, id: i64) -> juniper::FieldResult<String> {
        Ok(sqlx::query_scalar("SELECT name FROM users WHERE id = $1").bind(id).fetch_one(&context.db).await?)
    }
}

async fn graphql(State(pool): State<PgPool>, body: String) -> String {
    handle_api(&pool, body).await
}

async fn handle_api(pool: &PgPool, body: String) -> String {
    let _session: Option<i64> = sqlx::query_scalar("SELECT user_id FROM sessions WHERE token = $1")
        .bind(&body)
        .fetch_optional(pool)
        .await
        .unwrap_or_default();
    let tx = pool.begin().await.unwrap();
    let ctx = Context { db: pool.clone() };
    let result = juniper::execute(&body, None, &schema(), &juniper::Variables::new(), &ctx).await;
    tx.commit().await.unwrap();
    format!("{result:?}")
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect("postgres://").await.unwrap();
    let app = Router::new().route("/graphql", post(graphql)).with_state(pool);
    axum::serve(tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap(), app).await.unwrap();
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let field = route(&json, "GRAPHQL", "/Query/user");
    assert_eq!(field["round_trips"], 4, "{field}");
    let kinds: Vec<&str> = field["trips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["read", "begin", "read", "commit"]);
    let endpoint = route(&json, "POST", "/graphql");
    assert_eq!(endpoint["round_trips"], 3, "{endpoint}");
    assert_eq!(
        endpoint["unresolved"].as_array().unwrap().len(),
        1,
        "{endpoint}"
    );
}

/// `<Refund as RefundExt>::list(..)` where the implementation is written once per build
/// (`#[cfg(feature = "v1")]` and `"v2"`) and no `[build]` says which: each build's, the costliest priced,
/// never listed as unresolved.
#[test]
fn a_qualified_call_reaches_an_implementation_written_once_per_build() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"shop\"\n[features]\nv1 = []\nv2 = []\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::State, routing::get, Router};
use sqlx::PgPool;

pub struct Refund;

pub trait RefundExt {
    #[cfg(feature = "v1")]
    async fn list(pool: &PgPool) -> Vec<i64>;
    #[cfg(feature = "v2")]
    async fn list(pool: &PgPool) -> Vec<i64>;
}

impl RefundExt for Refund {
    #[cfg(feature = "v1")]
    async fn list(pool: &PgPool) -> Vec<i64> {
        sqlx::query_scalar("SELECT id FROM refunds").fetch_all(pool).await.unwrap()
    }
    #[cfg(feature = "v2")]
    async fn list(pool: &PgPool) -> Vec<i64> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM refunds").fetch_one(pool).await.unwrap();
        let _ = n;
        sqlx::query_scalar("SELECT id FROM refunds_v2").fetch_all(pool).await.unwrap()
    }
}

async fn refunds(State(pool): State<PgPool>) -> String {
    let ids = <Refund as RefundExt>::list(&pool).await;
    format!("{ids:?}")
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect("postgres://").await.unwrap();
    let app = Router::new().route("/refunds", get(refunds)).with_state(pool);
    axum::serve(tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap(), app).await.unwrap();
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let r = route(&json, "GET", "/refunds");
    assert_eq!(r["round_trips"], 2, "{r}");
    assert!(r["unresolved"].as_array().unwrap().is_empty(), "{r}");
}

/// An actix service built through an extension trait on `Scope` (`scope("/api").resource_routes()`),
/// whose scopes mount `endpoints()` of another crate of the workspace named through a glob import
/// (`use cac::api::*;` then `secrets::endpoints()`, and `experiments::endpoints(scope("/experiments"))`,
/// which adds its services to the scope it is handed), with diesel taken from a fork published under
/// its own name (`diesel = { package = "juspay_diesel" }`): every route keeps its prefix and its query.
#[test]
fn routes_added_by_an_extension_trait_from_a_glob_imported_crate_keep_their_prefix_and_price() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| put(dir.path(), rel, text);
    write("Cargo.toml", "[workspace]\nmembers = [\"app\", \"cac\"]\n");
    write(
        "app/Cargo.toml",
        "[package]\nname = \"app\"\n[dependencies]\nactix-web = \"4\"\ncac = { path = \"../cac\" }\n",
    );
    write(
        "cac/Cargo.toml",
        "[package]\nname = \"cac\"\n[dependencies]\nactix-web = \"4\"\ndiesel = { version = \"2\", package = \"juspay_diesel\", features = [\"postgres\"] }\n",
    );
    write("cac/src/lib.rs", "pub mod api;\n");
    write("cac/src/api.rs", "pub mod experiments;\npub mod secrets;\n");
    // A function handed the scope it adds its services to.
    write(
        "cac/src/api/experiments.rs",
        r#"
use actix_web::{get, web, Scope};
use diesel::prelude::*;

#[get("")]
async fn list(pool: web::Data<DbPool>) -> String {
    let mut conn = pool.get().unwrap();
    let n: i64 = experiments::table.count().get_result(&mut conn).unwrap();
    n.to_string()
}

pub fn endpoints(scope: Scope) -> Scope {
    scope.service(list)
}
"#,
    );
    write(
        "cac/src/api/secrets.rs",
        "mod handlers;\npub use handlers::endpoints;\n",
    );
    write(
        "cac/src/api/secrets/handlers.rs",
        r#"
use actix_web::{get, web, web::scope, Scope};
use diesel::prelude::*;

#[get("/{name}")]
async fn show(pool: web::Data<DbPool>, name: web::Path<String>) -> String {
    let mut conn = pool.get().unwrap();
    let value: String = secrets::table
        .filter(secrets::name.eq(name.into_inner()))
        .select(secrets::value)
        .get_result(&mut conn)
        .unwrap();
    value
}

pub fn endpoints() -> Scope {
    scope("").service(show)
}
"#,
    );
    write(
        "app/src/main.rs",
        r#"
use actix_web::{web::scope, App, HttpServer, Scope};
use cac::api::*;

trait ScopeExt {
    fn resource_routes(self) -> Self;
}

impl ScopeExt for Scope {
    fn resource_routes(self) -> Self {
        self.service(scope("/secrets").service(secrets::endpoints()))
            .service(experiments::endpoints(scope("/experiments")))
    }
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(move || App::new().service(scope("/api").resource_routes()))
        .bind("0.0.0.0:8080")?
        .run()
        .await
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let mut paths: Vec<&str> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap())
        .collect();
    paths.sort_unstable();
    assert_eq!(paths, ["/api/experiments", "/api/secrets/{name}"], "{json}");
    assert_eq!(route(&json, "GET", "/api/secrets/{name}")["round_trips"], 1);
    assert_eq!(route(&json, "GET", "/api/experiments")["round_trips"], 1);
}

/// sqlx sends BEGIN and COMMIT only where they are awaited: a git library's ref `transaction()` and a
/// pack writer's `commit()`, called without `.await` in a crate whose database client is sqlx, are no
/// round trips.
#[test]
fn a_transaction_that_is_not_awaited_is_no_round_trip_for_an_async_client() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"forge\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\ngit2 = \"0.16\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::State, routing::post, Router};
use sqlx::PgPool;

async fn push(State(pool): State<PgPool>, pack: Vec<u8>) -> String {
    let mut tx = pool.begin().await.unwrap();
    let path: String = sqlx::query_scalar("SELECT path FROM repos WHERE id = 1").fetch_one(&mut *tx).await.unwrap();
    let repo = git2::Repository::open(&path).unwrap();
    repo.refs.transaction().prepare(edits()).unwrap().commit().unwrap();
    let mut writer = repo.odb().unwrap().packwriter().unwrap();
    std::io::Write::write_all(&mut writer, &pack).unwrap();
    writer.commit().unwrap();
    tx.commit().await.unwrap();
    path
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect("postgres://").await.unwrap();
    let app = Router::new().route("/push", post(push)).with_state(pool);
    axum::serve(tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap(), app).await.unwrap();
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let r = route(&json, "POST", "/push");
    let kinds: Vec<&str> = r["trips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["begin", "read", "commit"], "{r}");
}

#[test]
fn a_builder_that_holds_the_router_in_a_field_serves_what_its_methods_add() {
    // `ApiBuilder::new().with_default_routes().into_router(pool)`: the router lives in `self.router`,
    // grown by assignment in a method, with a router nested under a prefix.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"gateway\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\ntokio = \"1\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::State, routing::get, Router};
use sqlx::PgPool;

async fn status(State(pool): State<PgPool>) -> String {
    sqlx::query_scalar("SELECT 'ok'").fetch_one(&pool).await.unwrap_or_default()
}

async fn team(State(pool): State<PgPool>) -> String {
    let name: String = sqlx::query_scalar("SELECT name FROM teams LIMIT 1").fetch_one(&pool).await.unwrap_or_default();
    let _: i64 = sqlx::query_scalar("SELECT count(*) FROM members").fetch_one(&pool).await.unwrap_or_default();
    name
}

pub struct ApiBuilder {
    router: Router<PgPool>,
}

impl ApiBuilder {
    pub fn new() -> Self {
        Self { router: Router::new() }
    }

    pub fn with_default_routes(mut self) -> Self {
        let teams = Router::new().route("/{team_id}", get(team));
        self.router = self.router.route("/", get(status)).nest("/teams", teams);
        self
    }

    pub fn into_router(self, pool: PgPool) -> Router {
        self.router.with_state(pool)
    }
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect_lazy("postgres://").unwrap();
    let app = ApiBuilder::new().with_default_routes().into_router(pool);
    axum::serve(tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap(), app).await.unwrap();
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(route(&json, "GET", "/")["round_trips"], 1, "{json}");
    assert_eq!(
        route(&json, "GET", "/teams/{team_id}")["round_trips"],
        2,
        "{json}"
    );
    assert_eq!(json["routes"].as_array().unwrap().len(), 2, "{json}");
}

#[test]
fn poem_routes_name_generic_handlers_by_their_default_and_nest_endpoints_at_their_prefix() {
    // `#[handler]` on a generic function makes a struct of its name, which the route names by its
    // `Default`; `.nest("/login", post(login))` serves the prefix itself.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"admin\"\nversion = \"0.1.0\"\n[dependencies]\npoem = \"3\"\nsqlx = \"0.8\"\ntokio = \"1\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use poem::{get, handler, post, web::Data, Endpoint, EndpointExt, Route, Server};
use sqlx::PgPool;

pub trait Accounts: Send + Sync + 'static {
    fn count(&self) -> impl std::future::Future<Output = i64> + Send;
}

pub struct PgAccounts {
    pool: PgPool,
}

impl Accounts for PgAccounts {
    async fn count(&self) -> i64 {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts").fetch_one(&self.pool).await.unwrap_or(0);
        let _: i64 = sqlx::query_scalar("SELECT count(*) FROM roles").fetch_one(&self.pool).await.unwrap_or(0);
        n
    }
}

#[handler]
async fn list_accounts<A: Accounts>(accounts: Data<&A>) -> String {
    accounts.count().await.to_string()
}

#[handler]
async fn login(pool: Data<&PgPool>) -> String {
    sqlx::query_scalar("SELECT name FROM users LIMIT 1").fetch_one(pool.0).await.unwrap_or_default()
}

#[handler]
async fn health() -> &'static str {
    "ok"
}

fn api<A: Accounts>() -> impl Endpoint {
    Route::new()
        .at("/health", get(health))
        .nest("/login", post(login))
        .nest("/accounts", Route::new().at("/", get(list_accounts::<A>::default())))
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect_lazy("postgres://").unwrap();
    let app = Route::new().nest("/api", api::<PgAccounts>()).data(PgAccounts { pool: pool.clone() }).data(pool);
    Server::new(poem::listener::TcpListener::bind("0.0.0.0:3000")).run(app).await.unwrap();
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[
            ("GET", "/api/health", 0),
            ("POST", "/api/login", 1),
            ("GET", "/api/accounts", 2),
        ],
    );
    assert_eq!(json["routes"].as_array().unwrap().len(), 3, "{json}");
    assert_eq!(
        json["coverage"]["unrouted"],
        serde_json::json!([]),
        "{json}"
    );
}

#[test]
fn a_middleware_that_works_for_some_methods_only_costs_those_routes_alone() {
    // poem's `.with(AuditLog)` writes an audit row after every request but a GET; axum's `csrf`
    // middleware looks the token up for every method but the safe ones.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"notes\"\nversion = \"0.1.0\"\n[dependencies]\npoem = \"3\"\naxum = \"0.8\"\nsqlx = \"0.8\"\ntokio = \"1\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
mod admin;

use poem::http::Method;
use poem::{get, handler, web::Data, Endpoint, EndpointExt, Middleware, Request, Result, Route, Server};
use sqlx::PgPool;

pub struct AuditLog;

impl<E: Endpoint> Middleware<E> for AuditLog {
    type Output = AuditLogEndpoint<E>;

    fn transform(&self, ep: E) -> Self::Output {
        AuditLogEndpoint { inner: ep }
    }
}

pub struct AuditLogEndpoint<E> {
    inner: E,
}

impl<E: Endpoint> Endpoint for AuditLogEndpoint<E> {
    type Output = E::Output;

    async fn call(&self, req: Request) -> Result<Self::Output> {
        let method = req.method().to_string();
        let pool = req.data::<PgPool>().cloned().unwrap();
        let result = self.inner.call(req).await;
        if method == Method::GET.to_string() {
            return result;
        }
        let _ = sqlx::query("INSERT INTO audit (method) VALUES ($1)").bind(&method).execute(&pool).await;
        result
    }
}

#[handler]
async fn list_notes(pool: Data<&PgPool>) -> String {
    sqlx::query_scalar("SELECT string_agg(title, ',') FROM notes").fetch_one(pool.0).await.unwrap_or_default()
}

#[handler]
async fn add_note(pool: Data<&PgPool>, body: String) -> String {
    let _ = sqlx::query("INSERT INTO notes (title) VALUES ($1)").bind(&body).execute(pool.0).await;
    body
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect_lazy("postgres://").unwrap();
    let app = Route::new()
        .at("/notes", get(list_notes).post(add_note))
        .with(AuditLog)
        .data(pool);
    Server::new(poem::listener::TcpListener::bind("0.0.0.0:3000")).run(app).await.unwrap();
}
"#,
    );
    put(
        dir.path(),
        "src/admin.rs",
        r#"
use axum::{extract::{Request, State}, http::Method, middleware::{self, Next}, response::Response, routing::get, Router};
use sqlx::PgPool;

async fn csrf(State(pool): State<PgPool>, req: Request, next: Next) -> Response {
    if req.method() == Method::GET || req.method() == Method::HEAD {
        return next.run(req).await;
    }
    let _: Option<i64> = sqlx::query_scalar("SELECT 1 FROM csrf_tokens WHERE token = $1").bind("t").fetch_optional(&pool).await.unwrap_or(None);
    next.run(req).await
}

async fn settings(State(pool): State<PgPool>) -> String {
    sqlx::query_scalar("SELECT value FROM settings LIMIT 1").fetch_one(&pool).await.unwrap_or_default()
}

async fn save_settings(State(pool): State<PgPool>) -> String {
    let _ = sqlx::query("UPDATE settings SET value = 'x'").execute(&pool).await;
    String::new()
}

pub fn router(pool: PgPool) -> Router {
    Router::new()
        .route("/admin/settings", get(settings).put(save_settings))
        .layer(middleware::from_fn_with_state(pool.clone(), csrf))
        .with_state(pool)
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[
            ("GET", "/notes", 1),
            ("POST", "/notes", 2),
            ("GET", "/admin/settings", 1),
            ("PUT", "/admin/settings", 2),
        ],
    );
}

#[test]
fn sql_a_sea_query_builder_writes_is_read_as_its_statement() {
    // `Query::select()..build_sqlx(..)` hands back the SQL and its values: a read, unless it locks the
    // rows; `Query::update()..to_string(..)` is a write.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"seaq\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\nsea-query = \"0.32\"\nsea-query-binder = \"0.7\"\nsqlx = \"0.8\"\ntokio = \"1\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::State, routing::post, Router};
use sea_query::{Alias, Asterisk, Expr, PostgresQueryBuilder, Query};
use sea_query_binder::SqlxBinder;
use sqlx::PgPool;

async fn rename(State(pool): State<PgPool>) -> String {
    let (sql, values) = Query::select()
        .column(Asterisk)
        .from(Alias::new("users"))
        .and_where(Expr::col(Alias::new("id")).eq(1))
        .build_sqlx(PostgresQueryBuilder);
    let rows: Vec<(i64,)> = sqlx::query_as_with(&sql, values).fetch_all(&pool).await.unwrap_or_default();
    let (sql, values) = Query::select()
        .column(Asterisk)
        .from(Alias::new("accounts"))
        .lock_exclusive()
        .build_sqlx(PostgresQueryBuilder);
    let _: Vec<(i64,)> = sqlx::query_as_with(&sql, values).fetch_all(&pool).await.unwrap_or_default();
    let sql = Query::update()
        .table(Alias::new("users"))
        .value(Alias::new("name"), "x")
        .to_string(PostgresQueryBuilder);
    let _ = sqlx::query(&sql).execute(&pool).await;
    rows.len().to_string()
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect_lazy("postgres://").unwrap();
    let app = Router::new().route("/users/rename", post(rename)).with_state(pool);
    axum::serve(tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap(), app).await.unwrap();
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let kinds: Vec<&str> = route(&json, "POST", "/users/rename")["trips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["read", "write", "write"], "{json}");
}

#[test]
fn axum_extra_resource_serves_its_conventional_routes() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"crud\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\naxum-extra = \"0.10\"\nsqlx = \"0.8\"\ntokio = \"1\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::{Path, State}, routing::get, Router};
use axum_extra::routing::Resource;
use sqlx::PgPool;

async fn one(pool: &PgPool) {
    sqlx::query("SELECT 1").execute(pool).await.unwrap();
}

async fn index(State(pool): State<PgPool>) { one(&pool).await; }
async fn create(State(pool): State<PgPool>) { one(&pool).await; one(&pool).await; }
async fn new_form() {}
async fn show(State(pool): State<PgPool>, Path(id): Path<i64>) { let _ = id; one(&pool).await; }
async fn edit(State(pool): State<PgPool>) { one(&pool).await; one(&pool).await; one(&pool).await; }
async fn update(State(pool): State<PgPool>) { one(&pool).await; one(&pool).await; }
async fn destroy(State(pool): State<PgPool>) { one(&pool).await; }
async fn posts(State(pool): State<PgPool>) { one(&pool).await; }
async fn featured(State(pool): State<PgPool>) { one(&pool).await; one(&pool).await; }

struct Repo;
impl Repo {
    fn create(&self, _x: u8) -> Self { Repo }
    fn update(&self, _x: u8) -> Self { Repo }
}

fn users() -> Router<PgPool> {
    let _not_a_router = Repo.create(1).update(2);
    let resource = Resource::named("users")
        .index(index)
        .create(create)
        .new(new_form)
        .show(show)
        .edit(edit)
        .update(update)
        .destroy(destroy)
        .nest(Router::new().route("/posts", get(posts)))
        .nest_collection(Router::new().route("/featured", get(featured)));
    Router::new().nest("/v1", Router::new().merge(resource))
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect_lazy("postgres://").unwrap();
    let app: Router = Router::new().nest("/api", users()).with_state(pool);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(
        route_names(&json, ""),
        [
            "DELETE /api/v1/users/{users_id}",
            "GET /api/v1/users",
            "GET /api/v1/users/featured",
            "GET /api/v1/users/new",
            "GET /api/v1/users/{users_id}",
            "GET /api/v1/users/{users_id}/edit",
            "GET /api/v1/users/{users_id}/posts",
            "PATCH /api/v1/users/{users_id}",
            "POST /api/v1/users",
            "PUT /api/v1/users/{users_id}",
        ],
        "{json}"
    );
    assert_trips(
        &json,
        &[
            ("GET", "/api/v1/users", 1),
            ("POST", "/api/v1/users", 2),
            ("GET", "/api/v1/users/new", 0),
            ("GET", "/api/v1/users/{users_id}", 1),
            ("GET", "/api/v1/users/{users_id}/edit", 3),
            ("PUT", "/api/v1/users/{users_id}", 2),
            ("PATCH", "/api/v1/users/{users_id}", 2),
            ("DELETE", "/api/v1/users/{users_id}", 1),
            ("GET", "/api/v1/users/{users_id}/posts", 1),
            ("GET", "/api/v1/users/featured", 2),
        ],
    );
}

#[test]
fn a_scope_at_an_empty_constant_serves_its_routes_at_the_root() {
    // `web::scope(config::BASE_PATH)` where the configuration crate leaves the prefix empty.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"mod config;
use actix_web::{get, web, App, HttpServer};
#[get("/health")]
async fn health(db: web::Data<sqlx::PgPool>) -> String {
    sqlx::query("SELECT 1").execute(db.get_ref()).await.unwrap();
    String::new()
}
async fn not_found() -> &'static str {
    "not found"
}
// Mounted by nothing hopcheck sees: kept at its own path, which actix serves from the root.
#[get("ping")]
async fn ping() -> &'static str {
    "pong"
}
#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| {
        App::new().service(
            web::scope(config::BASE_PATH)
                .service(health)
                .default_service(web::route().to(not_found)),
        )
    })
    .bind(("0.0.0.0", 8080))?
    .run()
    .await
}
"#,
    );
    put(
        dir.path(),
        "src/config.rs",
        "/// Where every route is served.\npub const BASE_PATH: &str = \"\";\n",
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[("GET", "/health", 1), ("ANY", "/*", 0), ("GET", "/ping", 0)],
    );
    assert_eq!(json["coverage"]["paths_as_written"], serde_json::json!([]));
}

#[test]
fn an_extractor_finds_what_a_layer_of_its_route_stored_in_the_request() {
    // A permission layer authenticates (blacklist, user, permissions) and stores the user; the handler's
    // own `RequireAuth` takes it from the request's extensions before it would look the user up again.
    // A route without the layer pays for that lookup.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"rbac\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\ntokio = \"1\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::{FromRequestParts, State}, http::request::Parts, middleware::from_extractor_with_state, routing::get, Router};
use sqlx::PgPool;

#[derive(Clone)]
pub struct AppState { pool: PgPool }

#[derive(Clone)]
pub struct User { id: i64 }
#[derive(Clone)]
pub struct AuthenticatedUser(pub User);

async fn load_user(state: &AppState) -> Result<User, ()> {
    let _: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM blacklist)").fetch_one(&state.pool).await.map_err(|_| ())?;
    let id: i64 = sqlx::query_scalar("SELECT id FROM users").fetch_one(&state.pool).await.map_err(|_| ())?;
    Ok(User { id })
}

pub async fn auth_and_check_permission(parts: &mut Parts, state: &AppState, permission: &str) -> Result<User, ()> {
    let user = load_user(state).await?;
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM permissions WHERE user_id = $1").bind(user.id).fetch_all(&state.pool).await.map_err(|_| ())?;
    if !names.iter().any(|n| n == permission) {
        return Err(());
    }
    parts.extensions.insert(AuthenticatedUser(user.clone()));
    Ok(user)
}

pub struct RequireUsersRead;
impl FromRequestParts<AppState> for RequireUsersRead {
    type Rejection = ();
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ()> {
        auth_and_check_permission(parts, state, "users:read").await?;
        Ok(RequireUsersRead)
    }
}

pub struct RequireAuth(pub User);
impl FromRequestParts<AppState> for RequireAuth {
    type Rejection = ();
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ()> {
        if let Some(prev) = parts.extensions.get::<AuthenticatedUser>() {
            return Ok(RequireAuth(prev.0.clone()));
        }
        let user = load_user(state).await?;
        parts.extensions.insert(AuthenticatedUser(user.clone()));
        Ok(RequireAuth(user))
    }
}

async fn list_permissions(State(state): State<AppState>, RequireAuth(_user): RequireAuth) -> String {
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM permissions").fetch_all(&state.pool).await.unwrap_or_default();
    names.join(",")
}

/// Asks for `RequireAuth` by name, then checks the membership.
pub struct RequireMember(pub User);
impl FromRequestParts<AppState> for RequireMember {
    type Rejection = ();
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ()> {
        let user = RequireAuth::from_request_parts(parts, state).await?.0;
        let _: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM members WHERE user_id = $1)").bind(user.id).fetch_one(&state.pool).await.map_err(|_| ())?;
        Ok(RequireMember(user))
    }
}

async fn members(RequireMember(_user): RequireMember) -> String {
    String::new()
}

async fn me(State(state): State<AppState>, RequireAuth(user): RequireAuth) -> String {
    let name: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1").bind(user.id).fetch_one(&state.pool).await.unwrap_or_default();
    name
}

fn app(state: AppState) -> Router {
    let protected = Router::new()
        .route("/", get(list_permissions))
        .route("/members", get(members))
        .route_layer(from_extractor_with_state::<RequireUsersRead, _>(state.clone()));
    Router::new()
        .nest("/permissions", protected)
        .route("/me", get(me))
        .with_state(state)
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect_lazy("postgres://").unwrap();
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app(AppState { pool })).await.unwrap();
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[
            ("GET", "/permissions", 4),
            ("GET", "/permissions/members", 4),
            ("GET", "/me", 3),
        ],
    );
}

#[test]
fn methods_of_a_generic_type_specialised_per_entity_are_told_apart_by_the_field_type() {
    // `impl Table<'c, Role>` and `impl Table<'c, User>` each define `create`; the state's fields say
    // which table they are. A generic `impl<T> Table<'c, T>` method serves every field.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"tables\"\nversion = \"0.1.0\"\n[dependencies]\nactix-web = \"4\"\nsqlx = \"0.8\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use std::marker::PhantomData;
use std::sync::Arc;
use actix_web::{post, web::Data, App, HttpServer};
use sqlx::PgPool;

pub struct Role;
pub struct User;

pub struct Table<'c, T> {
    pub pool: Arc<PgPool>,
    _marker: PhantomData<&'c T>,
}

impl<'c, T> Table<'c, T> {
    pub async fn count(&self) -> i64 {
        sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&*self.pool).await.unwrap_or(0)
    }
}

impl<'c> Table<'c, Role> {
    pub async fn create(&self, name: &str) {
        sqlx::query("INSERT INTO roles (name) VALUES ($1)").bind(name).execute(&*self.pool).await.unwrap();
    }
}

impl<'c> Table<'c, User> {
    pub async fn create(&self, name: &str) {
        sqlx::query("SELECT 1 FROM roles WHERE id = 1").execute(&*self.pool).await.unwrap();
        sqlx::query("INSERT INTO users (name) VALUES ($1)").bind(name).execute(&*self.pool).await.unwrap();
        sqlx::query("INSERT INTO audit (name) VALUES ($1)").bind(name).execute(&*self.pool).await.unwrap();
    }
}

pub struct Database<'c> {
    pub roles: Arc<Table<'c, Role>>,
    pub users: Arc<Table<'c, User>>,
}

pub struct AppState<'a> {
    pub context: Arc<Database<'a>>,
}

#[post("/roles")]
async fn create_role(state: Data<AppState<'_>>) -> String {
    state.context.roles.create("admin").await;
    String::new()
}

#[post("/users")]
async fn create_user(state: Data<AppState<'_>>) -> String {
    state.context.users.create("ann").await;
    String::new()
}

#[post("/roles/count")]
async fn count_roles(state: Data<AppState<'_>>) -> String {
    state.context.roles.count().await.to_string()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    HttpServer::new(|| App::new().service(create_role).service(create_user).service(count_roles))
        .bind(("0.0.0.0", 8080))?
        .run()
        .await
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[
            ("POST", "/roles", 1),
            ("POST", "/users", 3),
            ("POST", "/roles/count", 1),
        ],
    );
}

#[test]
fn a_rocket_0_4_app_mounts_its_routes_from_a_synchronous_function() {
    // `rocket::ignite()` (rocket 0.4) in a module with nothing async: its mounts are read.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"#![feature(proc_macro_hygiene, decl_macro)]
#[macro_use]
extern crate rocket;
mod api;
fn main() {
    api::init().launch();
}
"#,
    );
    put(
        dir.path(),
        "src/api/mod.rs",
        r#"pub mod users;
use rocket::Rocket;
pub fn init() -> Rocket {
    rocket::ignite().mount("/user", users::routes())
}
"#,
    );
    put(
        dir.path(),
        "src/api/users.rs",
        r#"use diesel::prelude::*;
use diesel::PgConnection;
#[get("/<id>")]
pub fn get(id: i32, conn: crate::Conn) -> String {
    diesel::sql_query("SELECT name FROM users WHERE id = $1").execute(&*conn).unwrap();
    id.to_string()
}
pub fn routes() -> Vec<rocket::Route> {
    routes![get]
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(route_names(&json, ""), ["GET /user/<id>"], "{json}");
}

#[test]
fn a_handler_a_function_of_the_code_makes_serves_its_route() {
    // `get(list_handler("items"))`: the function returns the closure that serves the route.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::State, routing::get, Router};
use futures::future::BoxFuture;
use sqlx::PgPool;

fn list_handler(table: &'static str) -> impl Fn(State<PgPool>) -> BoxFuture<'static, String> + Clone {
    move |State(pool): State<PgPool>| {
        Box::pin(async move {
            let _ = sqlx::query("SELECT 1").execute(&pool).await;
            table.to_string()
        })
    }
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect_lazy("postgres://").unwrap();
    let app = Router::new()
        .route("/items", get(list_handler("items")))
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("GET", "/items", 1)]);
}

#[test]
fn a_module_in_a_folder_named_with_a_hyphen_is_reached_by_its_path_attribute_name() {
    // `#[path = "client-systems/mod.rs"] mod client_systems;`: the router nested from it is found,
    // and its handler's helper in a sibling file is priced.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"#[path = "client-systems/mod.rs"]
mod client_systems;
use axum::Router;
#[tokio::main]
async fn main() {
    let pool = sqlx::PgPool::connect_lazy("postgres://").unwrap();
    let app: Router = Router::new()
        .nest("/client-systems/desktop", crate::client_systems::desktop::create_router())
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#,
    );
    put(
        dir.path(),
        "src/client-systems/mod.rs",
        "pub mod desktop;\n",
    );
    put(
        dir.path(),
        "src/client-systems/desktop/mod.rs",
        "pub mod routes;\npub mod services;\npub use routes::create_router;\n",
    );
    put(
        dir.path(),
        "src/client-systems/desktop/routes.rs",
        r#"use axum::{extract::State, routing::post, Router};
use sqlx::PgPool;
use crate::client_systems::desktop::services::generate;
async fn generate_handler(State(pool): State<PgPool>) -> String {
    generate(&pool).await
}
pub fn create_router() -> Router<PgPool> {
    Router::new().route("/qwc", post(generate_handler))
}
"#,
    );
    put(
        dir.path(),
        "src/client-systems/desktop/services.rs",
        r#"use sqlx::PgPool;
pub async fn generate(pool: &PgPool) -> String {
    let _ = sqlx::query("SELECT 1 FROM tenants").execute(pool).await;
    let _ = sqlx::query("INSERT INTO credentials DEFAULT VALUES").execute(pool).await;
    String::new()
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("POST", "/client-systems/desktop/qwc", 2)]);
}

#[test]
fn a_method_called_on_a_parsed_body_is_the_parsed_type_s() {
    // `form: Json<Login>` derefs to `Login`: `form.login(&db)` is `Login::login`.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"
use actix_web::web::{self, post};
use actix_web_validator::Json;
use sqlx::PgPool;

pub struct Login { name: String }
impl Login {
    pub async fn login(&self, db: &PgPool) -> Result<String, sqlx::Error> {
        sqlx::query("SELECT password FROM users WHERE name = $1").bind(&self.name).fetch_one(db).await?;
        Ok(String::new())
    }
}

pub async fn login_handler(db: web::Data<PgPool>, form: Json<Login>) -> String {
    form.login(&db).await.unwrap_or_default()
}

pub fn config(cfg: &mut web::ServiceConfig) {
    cfg.route("/login", post().to(login_handler));
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("POST", "/login", 1)]);
}

#[test]
fn a_layer_put_on_behind_a_flag_the_code_leaves_off_is_not_run() {
    // `if config::is_token_auth_enabled() { app = app.layer(..) }` with the flag written `return false`:
    // that layer never runs. A flag read at run time keeps its layer (the costliest case).
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"mod config;
use axum::{extract::{Request, State}, middleware::{from_fn_with_state, Next}, response::Response, routing::get, Router};
use sqlx::PgPool;

async fn token_auth(State(pool): State<PgPool>, req: Request, next: Next) -> Response {
    let _ = sqlx::query("SELECT 1 FROM tokens").execute(&pool).await;
    next.run(req).await
}

async fn ip_auth(State(pool): State<PgPool>, req: Request, next: Next) -> Response {
    let _ = sqlx::query("SELECT 1 FROM allowed_ips").execute(&pool).await;
    next.run(req).await
}

async fn health() -> &'static str {
    "ok"
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect_lazy("postgres://").unwrap();
    let mut app = Router::new().route("/health", get(health));
    if config::is_token_auth_enabled() {
        app = app.layer(from_fn_with_state(pool.clone(), token_auth));
    } else {
        tracing::info!("token authentication disabled");
    }
    if !config::ip_auth_disabled() {
        app = app.layer(from_fn_with_state(pool.clone(), ip_auth));
    }
    let app = app.with_state(pool);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#,
    );
    put(
        dir.path(),
        "src/config.rs",
        r#"pub fn is_token_auth_enabled() -> bool {
    return false;
}
pub fn ip_auth_disabled() -> bool {
    std::env::var("NO_IP_AUTH").is_ok()
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("GET", "/health", 1)]);
}

#[test]
fn routers_a_function_hands_back_as_a_list_are_mounted_where_a_loop_puts_them() {
    // salvo: `for sub in system_api() { app = app.push(Router::with_path("/api/system").push(sub)); }`.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"site\"\nversion = \"0.1.0\"\n[dependencies]\nsalvo = \"0.68\"\nsqlx = \"0.8\"\ntokio = \"1\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"mod api;
use salvo::prelude::*;

fn router() -> Router {
    let mut system = Router::new();
    for sub_router in api::system_api() {
        system = system.push(Router::with_path("/api/system").push(sub_router));
    }
    let names = vec!["a", "b"];
    for name in names {
        let _ = name.len();
    }
    Router::new().push(system)
}

#[tokio::main]
async fn main() {
    let acceptor = TcpListener::new("0.0.0.0:5800").bind().await;
    Server::new(acceptor).serve(router()).await;
}
"#,
    );
    put(
        dir.path(),
        "src/api.rs",
        r#"use salvo::prelude::*;

#[handler]
async fn profile(res: &mut Response) {
    let pool = sqlx::PgPool::connect_lazy("postgres://").unwrap();
    let _ = sqlx::query("SELECT 1 FROM users").execute(&pool).await;
    res.render("ok");
}

pub fn system_api() -> Vec<Router> {
    vec![Router::with_path("/profile").get(profile)]
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(
        route_names(&json, ""),
        ["GET /api/system/profile"],
        "{json}"
    );
}

#[test]
fn routerify_routes_are_served_behind_their_middleware_and_wrappers() {
    // routerify: `.get(path, h)` on `Router::builder()`, `.scope(prefix, router())`, a pre-middleware that
    // runs before every route of its router and its scopes (those added before it too), and functions
    // of the code that wrap a handler and run before it (`util::full(list)`), or only adapt it
    // (`util::json(get_user)`).
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"registry\"\nversion = \"0.1.0\"\n[dependencies]\nrouterify = \"3\"\nhyper = \"0.14\"\nsqlx = \"0.8\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use hyper::{Body, Request, Response};
use routerify::ext::RequestExt;
use routerify::Router;
use sqlx::PgPool;

mod api;
mod util;

async fn get_user(req: Request<Body>) -> Result<Response<Body>, Error> {
    let db = req.data::<PgPool>().unwrap();
    sqlx::query("SELECT 2").fetch_one(db).await?;
    sqlx::query("SELECT 3").fetch_one(db).await?;
    Ok(Response::new(Body::empty()))
}

async fn list(req: Request<Body>) -> Result<Response<Body>, Error> {
    let db = req.data::<PgPool>().unwrap();
    sqlx::query("SELECT 4").fetch_all(db).await?;
    Ok(Response::new(Body::empty()))
}

fn users_router() -> Router<Body, Error> {
    Router::builder()
        .get("/:id", util::json(get_user))
        .build()
        .unwrap()
}

// A builder another crate makes, routes added to it here, each handed with its name to another crate's
// function that runs it.
fn ops_router() -> routerify::RouterBuilder<Body, Error> {
    let router = http_utils::endpoint::make_router();
    router.get("/ops/status", |r| {
        http_utils::endpoint::request_span(r, list, RequestName("status"))
    })
}

fn router(pool: PgPool) -> Router<Body, Error> {
    Router::builder()
        .data(pool)
        .get("/health", list)
        .scope("/api", api::api_router())
        .post("/items", util::full(util::json(list)))
        .build()
        .unwrap()
}
"#,
    );
    put(
        dir.path(),
        "src/api/mod.rs",
        r#"
use hyper::Body;
use routerify::{Middleware, Router};
use crate::util;

pub fn api_router() -> Router<Body, Error> {
    Router::builder()
        .get("/list", crate::list)
        .middleware(Middleware::pre(util::auth_middleware))
        .scope("/users", crate::users_router())
        .build()
        .unwrap()
}
"#,
    );
    put(
        dir.path(),
        "src/util.rs",
        r#"
use hyper::{Body, Request};
use routerify::ext::RequestExt;

pub fn json<H, F>(handler: H) -> impl Fn(Request<Body>) -> F where H: Fn(Request<Body>) -> F {
    move |req| handler(req)
}

pub fn full<H, F>(handler: H) -> impl Fn(Request<Body>) -> F where H: Fn(Request<Body>) -> F {
    let handler = std::sync::Arc::new(handler);
    move |req| {
        let handler = handler.clone();
        async move {
            let db = req.data::<sqlx::PgPool>().unwrap();
            sqlx::query("SELECT 5").execute(db).await?;
            handler(req).await
        }
    }
}

pub async fn auth_middleware(req: Request<Body>) -> Result<Request<Body>, Error> {
    let db = req.data::<sqlx::PgPool>().unwrap();
    sqlx::query("SELECT 1").fetch_one(db).await?;
    Ok(req)
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(
        route_names(&json, ""),
        [
            "GET /api/list",
            "GET /api/users/:id",
            "GET /health",
            "GET /ops/status",
            "POST /items"
        ],
        "{json}"
    );
    assert_trips(
        &json,
        &[
            ("GET", "/health", 1),
            ("GET", "/api/list", 2),
            ("GET", "/api/users/:id", 3),
            ("POST", "/items", 2),
            ("GET", "/ops/status", 1),
        ],
    );
}

#[test]
fn a_layer_on_a_method_router_runs_before_the_methods_it_was_put_on() {
    // `get(me).route_layer(from_fn_with_state(state, auth))`: auth's lookup runs before `me`; in
    // `get(list).layer(from_fn(audit)).post(create)` the audit runs before `list`, not `create`.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"jwt\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::{Request, State}, middleware::{self, Next}, response::Response, routing::get, Router};
use sqlx::PgPool;

async fn auth(State(db): State<PgPool>, req: Request, next: Next) -> Response {
    sqlx::query("SELECT id FROM users WHERE token = $1").fetch_optional(&db).await.unwrap();
    next.run(req).await
}

async fn audit(State(db): State<PgPool>, req: Request, next: Next) -> Response {
    sqlx::query("INSERT INTO audit DEFAULT VALUES").execute(&db).await.unwrap();
    next.run(req).await
}

async fn me(State(db): State<PgPool>) -> String {
    sqlx::query("SELECT name FROM users").fetch_one(&db).await.unwrap();
    String::new()
}

async fn list(State(db): State<PgPool>) -> String {
    sqlx::query("SELECT name FROM notes").fetch_all(&db).await.unwrap();
    String::new()
}

async fn create(State(db): State<PgPool>) -> String {
    sqlx::query("INSERT INTO notes DEFAULT VALUES").execute(&db).await.unwrap();
    String::new()
}

fn app(db: PgPool) -> Router {
    Router::new()
        .route("/me", get(me).route_layer(middleware::from_fn_with_state(db.clone(), auth)))
        .route(
            "/notes",
            get(list).layer(middleware::from_fn_with_state(db.clone(), audit)).post(create),
        )
        .with_state(db)
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[
            ("GET", "/me", 2),
            ("GET", "/notes", 2),
            ("POST", "/notes", 1),
        ],
    );
}

#[test]
fn a_session_layer_loads_the_session_from_the_projects_store_before_each_route() {
    // tower-sessions' `SessionManagerLayer::new(store)` over `SqlStore`, the project's `SessionStore`: its
    // `load` runs before every route of the router the layer is on (here through a `ServiceBuilder` held in
    // a local), not before the routes of another router.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"registry\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\ntower = \"0.5\"\ntower-sessions = \"0.14\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::State, routing::get, Router};
use sqlx::PgPool;
use tower::ServiceBuilder;
use tower_sessions::{session::{Id, Record}, session_store, SessionManagerLayer, SessionStore};

#[derive(Clone, Debug)]
pub struct SqlStore { db: PgPool }

impl SqlStore {
    pub fn new(db: PgPool) -> Self { SqlStore { db } }
}

#[async_trait::async_trait]
impl SessionStore for SqlStore {
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        sqlx::query("UPDATE sessions SET data = $1").execute(&self.db).await.unwrap();
        Ok(())
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        sqlx::query("SELECT data FROM sessions WHERE id = $1").fetch_optional(&self.db).await.unwrap();
        Ok(None)
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        Ok(())
    }
}

async fn index(State(db): State<PgPool>) -> String {
    sqlx::query("SELECT name FROM crates").fetch_all(&db).await.unwrap();
    String::new()
}

fn frontend(db: PgPool) -> Router<PgPool> {
    let store = SqlStore::new(db);
    let session_layer = SessionManagerLayer::new(store).with_name("session");
    let session_service = ServiceBuilder::new().layer(session_layer);
    Router::new().route("/", get(index)).layer(session_service)
}

fn api() -> Router<PgPool> {
    Router::new().route("/api/crates", get(index))
}

fn app(db: PgPool) -> Router {
    Router::new().merge(frontend(db.clone())).merge(api()).with_state(db)
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("GET", "/", 2), ("GET", "/api/crates", 1)]);
}

#[test]
fn a_route_path_a_macro_of_the_code_writes_is_served() {
    // `.route(expand_version!("guilds"), post(create_guild))`: the path is what the macro writes,
    // `format!("/v{}/{}", API_VERSION, $path)`, kept as written where it names a value.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"chat\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.5\"\nsqlx = \"0.5\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::routing::{get, post};
use axum::{Extension, Router};

pub const API_VERSION: u8 = 0;

macro_rules! expand_version {
    ($path:expr) => {{
        use crate::API_VERSION;
        format!("/v{}/{}", API_VERSION, $path).as_str()
    }};
}

async fn create_guild(Extension(db): Extension<sqlx::PgPool>) -> String {
    sqlx::query("INSERT INTO guilds DEFAULT VALUES").execute(&db).await.unwrap();
    String::new()
}

async fn get_guild(Extension(db): Extension<sqlx::PgPool>) -> String {
    sqlx::query("SELECT 1 FROM guilds").fetch_one(&db).await.unwrap();
    sqlx::query("SELECT 1 FROM members").fetch_all(&db).await.unwrap();
    String::new()
}

pub fn routes() -> Router {
    Router::new()
        .route(expand_version!("guilds"), post(create_guild))
        .route(expand_version!("guilds/:guild_id"), get(get_guild))
}

fn main() {}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[
            ("POST", "/v{API_VERSION}/guilds", 1),
            ("GET", "/v{API_VERSION}/guilds/:guild_id", 2),
        ],
    );
    assert_eq!(
        json["coverage"]["unrouted"],
        serde_json::json!([]),
        "{json}"
    );
}

#[test]
fn a_query_macro_hopcheck_cannot_expand_is_sent_where_its_chain_sends_it() {
    // A procedural macro of the code that writes `sqlx::query_as!` from pieces: its query is sent by
    // `.fetch_optional(&self.pool).await`, one round trip; a macro not named as a query is not taken for one.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"registry\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\nregistry_macros = { path = \"macros\" }\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::State, routing::get, Router};
use registry_macros::{query_concat_as, make_stream};

#[derive(Clone)]
pub struct Database { pool: sqlx::PgPool }

impl Database {
    pub async fn get_user(&self, id: i64) -> sqlx::Result<Option<User>> {
        query_concat_as!(User, "SELECT ", USER_COLUMNS, " FROM users WHERE id = $1"; id)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn touch(&self, id: i64) -> sqlx::Result<()> {
        query_concat_as!(User, "UPDATE users SET seen = now() WHERE id = $1"; id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn events(&self) -> Vec<u8> {
        make_stream!(self).fetch_all(&self.pool).await
    }
}

async fn show(State(db): State<Database>) -> String {
    let _ = db.get_user(1).await;
    let _ = db.touch(1).await;
    String::new()
}

async fn events(State(db): State<Database>) -> String {
    let _ = db.events().await;
    String::new()
}

fn app(db: Database) -> Router {
    Router::new().route("/users/me", get(show)).route("/events", get(events)).with_state(db)
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("GET", "/users/me", 2), ("GET", "/events", 0)]);
    let kinds: Vec<&str> = route(&json, "GET", "/users/me")["trips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["read", "write"], "{json}");
}

#[test]
fn rbatis_statements_are_round_trips() {
    // crud!'s functions, an #[html_sql] and a paged #[py_sql] function (`impled!()` bodies), `rb.exec`, and
    // a transaction begun with `acquire_begin`.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"admin\"\nversion = \"0.1.0\"\n[dependencies]\naxum = \"0.8\"\nrbatis = \"4.5\"\nrbs = \"4.5\"\ntokio = \"1\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r##"
use axum::{extract::State, routing::{get, post}, Router};
use rbatis::{crud, executor::Executor, html_sql, impled, py_sql, PageRequest, RBatis};

#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct User { id: Option<i64>, name: String }
crud!(User {}, "sys_user");

impl User {
    #[html_sql(r#"<select id="select_by_name">`select * from sys_user where name = #{name}`</select>"#)]
    pub async fn select_by_name(rb: &dyn Executor, name: &str) -> rbatis::Result<Vec<User>> {
        impled!()
    }

    #[py_sql("`select * from sys_user where role_id = #{role_id}`")]
    pub async fn select_by_role(rb: &dyn Executor, page: &PageRequest, role_id: i64) -> rbatis::Result<rbatis::Page<User>> {
        impled!()
    }
}

async fn add_user(State(rb): State<RBatis>) -> String {
    let found = User::select_by_name(&rb, "ann").await.unwrap_or_default();
    if found.is_empty() {
        let tx = rb.acquire_begin().await.unwrap();
        let _ = User::insert(&tx, &User { id: None, name: "ann".into() }).await;
        let _ = tx.exec("UPDATE counters SET n = n + 1", vec![]).await;
        let _ = tx.commit().await;
    }
    String::new()
}

async fn role_users(State(rb): State<RBatis>) -> String {
    let _ = User::select_by_role(&rb, &PageRequest::new(1, 10), 1).await;
    let _ = User::select_by_column(&rb, "id", 1).await;
    String::new()
}

#[tokio::main]
async fn main() {
    let rb = RBatis::new();
    let app = Router::new()
        .route("/users", post(add_user))
        .route("/roles/users", get(role_users))
        .with_state(rb);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"##,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    // SELECT, BEGIN, INSERT, UPDATE, COMMIT; a paged read (COUNT, rows), then a read.
    assert_trips(&json, &[("POST", "/users", 5), ("GET", "/roles/users", 3)]);
    assert_eq!(json["coverage"]["unpriced_clients"], serde_json::json!([]));
}

#[test]
fn warp_routes_held_in_locals_are_served_where_they_are_combined() {
    // `let get_comments = warp::path!(..).and(warp::get()).and_then(h).boxed();`, then
    // `get_comments.or(delete_comment)`, mounted under `warp::path("api").and(comment::routes())`.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"mod comment;
use warp::Filter;
#[tokio::main]
async fn main() {
    let routes = warp::path("api").and(comment::routes());
    warp::serve(routes).run(([0, 0, 0, 0], 3030)).await;
}
"#,
    );
    put(
        dir.path(),
        "src/comment.rs",
        r#"use warp::{Filter, Rejection, Reply};
pub fn routes() -> impl Filter<Extract = impl Reply, Error = Rejection> + Clone {
    let get_comments = warp::path!("articles" / String / "comments")
        .and(warp::get())
        .and_then(get_comments_handler)
        .boxed();
    let delete_comment = warp::path!("articles" / String / "comments" / i32)
        .and(warp::delete())
        .and_then(delete_comment_handler)
        .boxed();
    get_comments.or(delete_comment).boxed()
}
pub async fn get_comments_handler(slug: String) -> Result<impl Reply, Rejection> {
    let pool = sqlx::PgPool::connect_lazy("postgres://").unwrap();
    let _ = sqlx::query("SELECT 1 FROM comments WHERE slug = $1").bind(&slug).execute(&pool).await;
    Ok(slug)
}
pub async fn delete_comment_handler(slug: String, id: i32) -> Result<impl Reply, Rejection> {
    Ok(format!("{slug}{id}"))
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_eq!(
        route_names(&json, ""),
        [
            "DELETE /api/articles/{String}/comments/{i32}",
            "GET /api/articles/{String}/comments"
        ],
        "{json}"
    );
    assert_trips(&json, &[("GET", "/api/articles/{String}/comments", 1)]);
}

#[test]
fn a_query_grown_by_a_fold_is_sent_where_the_chain_sends_it() {
    // `tags.iter().fold(query(&sql), |q, tag| q.bind(tag)).execute(self.db)`: one INSERT of every tag.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"conduit\"\nversion = \"0.1.0\"\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\naxum = \"0.8\"\ntokio = \"1\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::{extract::State, routing::post, Json, Router};
use sqlx::{query, PgPool, Postgres, Executor};

pub struct TagService<E: Executor<'static, Database = Postgres> + Copy> {
    db: E,
}

impl<E> TagService<E>
where
    E: Executor<'static, Database = Postgres> + Copy,
{
    pub async fn create_tags(&self, tags: &[String]) -> sqlx::Result<()> {
        let sql = format!("INSERT INTO tags (tag) VALUES {}", vec!["(?)"; tags.len()].join(","));
        tags.iter()
            .fold(query(&sql), |q, tag| q.bind(tag))
            .execute(self.db)
            .await?;
        Ok(())
    }
}

async fn create_tags(State(pool): State<&'static PgPool>, Json(tags): Json<Vec<String>>) -> String {
    let _ = TagService { db: pool }.create_tags(&tags).await;
    String::new()
}

#[tokio::main]
async fn main() {
    let pool: &'static PgPool = Box::leak(Box::new(PgPool::connect_lazy("postgres://").unwrap()));
    let app = Router::new().route("/tags", post(create_tags)).with_state(pool);
    let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await.unwrap();
    axum::serve(listener, app).await.unwrap();
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("POST", "/tags", 1)]);
}

#[test]
fn bigtable_rpcs_are_database_round_trips_read_or_write_by_their_method() {
    // Google Cloud Bigtable through its generated gRPC client: a read of a row and a write of one, each a
    // request to the database (not a call to another service, priced at nothing until placed).
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"push\"\n[dependencies]\naxum = \"0.8\"\ntonic = \"0.14\"\ngoogleapis-tonic-google-bigtable-v2 = \"0.38\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use googleapis_tonic_google_bigtable_v2::google::bigtable::v2::bigtable_client::BigtableClient;
use tonic::transport::Channel;

pub fn app() -> axum::Router { axum::Router::new().route("/devices/{id}", axum::routing::put(touch)) }

fn client(channel: Channel) -> BigtableClient<Channel> { BigtableClient::new(channel) }

async fn touch(State(channel): State<Channel>, Path(id): Path<String>) -> String {
    let mut table = client(channel);
    let rows = table.read_rows(ReadRowsRequest { rows_limit: 1, ..Default::default() }).await.unwrap();
    table.mutate_row(MutateRowRequest { row_key: id.into_bytes(), ..Default::default() }).await.unwrap();
    String::new()
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("PUT", "/devices/{id}", 2)]);
    let trips = &route(&json, "PUT", "/devices/{id}")["trips"];
    let kinds: Vec<&str> = trips
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["read", "write"], "{trips}");
    assert!(
        trips[0]["endpoint"].as_str().unwrap().starts_with("main"),
        "{trips}"
    );
}

#[test]
fn a_type_a_library_extractor_fills_or_one_imported_from_elsewhere_runs_no_extractor_of_the_project(
) {
    // `web::Json<Notification>` parses the body into a `Notification`: the project's extractor for that
    // type (used by its other routes) does not run. `BearerAuth` imported from actix-web-httpauth is
    // not the project's own `BearerAuth` of another module.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"push\"\n[dependencies]\nactix-web = \"4\"\nactix-web-httpauth = \"0.8\"\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
mod extractors;
mod legacy;
use actix_web::{web, App, HttpResponse};
use actix_web_httpauth::extractors::bearer::BearerAuth;
use crate::extractors::Notification;

async fn store(notif: web::Json<Notification>, db: web::Data<sqlx::PgPool>) -> HttpResponse {
    sqlx::query("INSERT INTO pushes (id) VALUES ($1)").bind(notif.id).execute(db.get_ref()).await.ok();
    HttpResponse::Ok().finish()
}
async fn deliver(notif: Notification, db: web::Data<sqlx::PgPool>) -> HttpResponse {
    sqlx::query("INSERT INTO deliveries (id) VALUES ($1)").bind(notif.id).execute(db.get_ref()).await.ok();
    HttpResponse::Ok().finish()
}
async fn me(auth: BearerAuth, db: web::Data<sqlx::PgPool>) -> HttpResponse {
    sqlx::query("SELECT name FROM tokens WHERE token = $1").bind(auth.token()).execute(db.get_ref()).await.ok();
    HttpResponse::Ok().finish()
}
fn main() {
    App::new()
        .route("/store", web::put().to(store))
        .route("/deliver", web::put().to(deliver))
        .route("/me", web::get().to(me));
}
"#,
    );
    let extractor = |ty: &str, table: &str| {
        format!(
            r#"
use actix_web::{{FromRequest, HttpRequest, dev::Payload}};
pub struct {ty} {{ pub id: i64 }}
impl FromRequest for {ty} {{
    type Error = actix_web::Error;
    type Future = futures::future::LocalBoxFuture<'static, Result<Self, Self::Error>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {{
        let db = req.app_data::<sqlx::PgPool>().unwrap().clone();
        Box::pin(async move {{
            sqlx::query("SELECT id FROM {table}").execute(&db).await.ok();
            Ok({ty} {{ id: 1 }})
        }})
    }}
}}
"#
        )
    };
    put(
        dir.path(),
        "src/extractors.rs",
        &extractor("Notification", "subscriptions"),
    );
    put(
        dir.path(),
        "src/legacy.rs",
        &extractor("BearerAuth", "sessions"),
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[
            ("PUT", "/store", 1),
            ("PUT", "/deliver", 2),
            ("GET", "/me", 1),
        ],
    );
}

#[test]
fn a_prefix_the_configuration_chooses_serves_the_routes_under_each_and_keeps_the_router() {
    // `.nest(match tenancy { .. }, ..)`: the routes are under either prefix, and the rest of the chain
    // (a route after the nest, the nest before it) is still read.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"
pub fn app(tenancy: Tenancy, multi: bool) -> axum::Router<PgPool> {
    axum::Router::new()
        .nest("/odata", axum::Router::new().route("/", get(odata)))
        .nest(
            match tenancy {
                Tenancy::Multi => "/{account}/{dataset}",
                Tenancy::Single => "/{dataset}",
            },
            axum::Router::new().route("/ingest", post(ingest)),
        )
        .nest(if multi { "/v2" } else { "/v1" }, axum::Router::new().route("/tail", get(tail)))
        .route("/system/probe", get(probe))
}
async fn odata(State(db): State<PgPool>) { sqlx::query("SELECT 1").execute(&db).await.ok(); }
async fn ingest(State(db): State<PgPool>) { sqlx::query("INSERT INTO t VALUES (1)").execute(&db).await.ok(); }
async fn tail(State(db): State<PgPool>) { sqlx::query("SELECT 2").execute(&db).await.ok(); }
async fn probe() -> &'static str { "ok" }
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let mut routes = priced(&json, "path");
    routes.sort();
    let want = [
        ("/odata", 1),
        ("/system/probe", 0),
        ("/v1/tail", 1),
        ("/v2/tail", 1),
        ("/{account}/{dataset}/ingest", 1),
        ("/{dataset}/ingest", 1),
    ];
    assert_eq!(routes, want.map(|(p, n)| (p.to_string(), n)));
}

#[test]
fn a_layer_put_on_only_in_a_test_mode_is_left_off() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"
pub fn app(config: Config, e2e_output: Option<PathBuf>) -> axum::Router<PgPool> {
    let mut router = axum::Router::new().route("/items", get(items));
    let is_e2e_testing = e2e_output.is_some();
    if is_e2e_testing {
        router = router.layer(middleware::from_fn(drain_queue));
    }
    if !config.testing {
        router = router.layer(middleware::from_fn(audit));
    }
    router
}
async fn items(State(db): State<PgPool>) { sqlx::query("SELECT * FROM items").execute(&db).await.ok(); }
async fn drain_queue(State(db): State<PgPool>, req: Request, next: Next) -> Response {
    for _ in 0..100 { sqlx::query("DELETE FROM outbox").execute(&db).await.ok(); }
    next.run(req).await
}
async fn audit(State(db): State<PgPool>, req: Request, next: Next) -> Response {
    sqlx::query("INSERT INTO audit VALUES (1)").execute(&db).await.ok();
    next.run(req).await
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("GET", "/items", 2)]);
}

#[test]
fn futures_made_ahead_run_where_a_function_or_a_join_awaits_them() {
    // A future held in a local, a closure's future, both handed to a cache helper that awaits them on a
    // miss; an iterator of futures held in a local and joined (all at once); a store typed through an
    // alias written once per build and named by its module.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"keys\"\n[dependencies]\naxum = \"0.8\"\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\nfutures = \"0.3\"\n[features]\ncassandra = []\n",
    );
    put(
        dir.path(),
        "src/app.rs",
        r#"
use crate::store::{DbState, Postgres, Cassandra};
#[cfg(not(feature = "cassandra"))]
pub type StorageState = DbState<PgPool, Postgres>;
#[cfg(feature = "cassandra")]
pub type StorageState = DbState<Session, Cassandra>;
"#,
    );
    put(
        dir.path(),
        "src/store.rs",
        r#"
pub struct Postgres;
pub struct Cassandra;
pub struct DbState<C, T> { pub pool: C, kind: std::marker::PhantomData<T> }
pub trait KeyStore { async fn latest(&self, id: i64) -> Result<i64, String>; }
impl KeyStore for DbState<PgPool, Postgres> {
    async fn latest(&self, id: i64) -> Result<i64, String> {
        sqlx::query("SELECT max(version) FROM keys WHERE id = $1").bind(id).execute(&self.pool).await.map_err(|e| e.to_string())?;
        Ok(1)
    }
}
"#,
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
mod app;
mod store;
use crate::store::KeyStore;

pub struct Tenant { db: app::StorageState }
impl Tenant { pub fn db(&self) -> &app::StorageState { &self.db } }

pub async fn cached<T: Clone, F>(key: String, load: F) -> Result<T, String>
where F: std::future::Future<Output = Result<T, String>> {
    if let Some(v) = CACHE.get(&key).await { Ok(v) } else { let v = load.await?; Ok(v) }
}

async fn held(State(t): State<Arc<Tenant>>, Path(id): Path<i64>) -> Result<String, String> {
    let db = t.db();
    let latest = db.latest(id);
    cached(format!("latest_{id}"), latest).await?;
    Ok(String::new())
}
async fn closure(State(t): State<Arc<Tenant>>, Path(id): Path<i64>) -> Result<String, String> {
    let db = t.db();
    let load = || async { db.latest(id).await };
    cached(format!("key_{id}"), load()).await?;
    Ok(String::new())
}
async fn joined(State(t): State<Arc<Tenant>>, Json(ids): Json<Vec<i64>>) -> Result<String, String> {
    let db = t.db();
    let lookups = ids.into_iter().map(|id| async move { db.latest(id).await });
    futures::future::try_join_all(lookups).await?;
    Ok(String::new())
}
pub fn app() -> axum::Router<Arc<Tenant>> {
    axum::Router::new()
        .route("/held/{id}", get(held))
        .route("/closure/{id}", get(closure))
        .route("/joined", post(joined))
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[
            ("GET", "/held/{id}", 1),
            ("GET", "/closure/{id}", 1),
            ("POST", "/joined", 1),
        ],
    );
}

#[test]
fn an_attribute_macro_of_the_code_runs_the_body_where_its_template_places_it() {
    // `#[transactional]` is the workspace's own proc macro: its template opens a transaction around the
    // handler's body and commits after it.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[workspace]\nmembers = [\"app\", \"macros\"]\n",
    );
    put(
        dir.path(),
        "macros/Cargo.toml",
        "[package]\nname = \"macros\"\n[lib]\nproc-macro = true\n[dependencies]\nquote = \"1\"\nsyn = \"2\"\n",
    );
    put(
        dir.path(),
        "macros/src/lib.rs",
        r#"
use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, ItemFn};

#[proc_macro_attribute]
pub fn transactional(_attr: TokenStream, item: TokenStream) -> TokenStream {
    let input = parse_macro_input!(item as ItemFn);
    let signature = &input.sig;
    let body = &input.block;
    let name = &input.sig.ident;
    quote! {
        #signature {
            tracing::debug!(handler = stringify!(#name));
            let mut tx = POOL.begin().await.unwrap();
            let out = async move #body.await;
            tx.commit().await.unwrap();
            out
        }
    }
    .into()
}
"#,
    );
    put(
        dir.path(),
        "app/Cargo.toml",
        "[package]\nname = \"app\"\n[dependencies]\naxum = \"0.8\"\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\nmacros = { path = \"../macros\" }\n",
    );
    put(
        dir.path(),
        "app/src/main.rs",
        r#"
static POOL: LazyLock<PgPool> = LazyLock::new(|| PgPool::connect_lazy("postgres://").unwrap());

#[macros::transactional]
async fn rename(State(db): State<PgPool>, Json(name): Json<String>) -> String {
    sqlx::query("UPDATE users SET name = $1").bind(&name).execute(&db).await.ok();
    name
}
async fn show(State(db): State<PgPool>) -> String {
    sqlx::query("SELECT name FROM users").execute(&db).await.ok();
    String::new()
}
pub fn app() -> axum::Router<PgPool> {
    axum::Router::new().route("/rename", post(rename)).route("/show", get(show))
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("POST", "/rename", 3), ("GET", "/show", 1)]);
}

#[test]
fn jsonrpsee_methods_registered_on_a_module_are_entry_points() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"indexer\"\n[dependencies]\njsonrpsee = { version = \"0.24\", features = [\"server\"] }\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
mod server;
pub struct Api { db: PgPool }
impl Api {
    pub async fn get_account(&self, id: i64) -> Result<i64, String> {
        sqlx::query("SELECT * FROM accounts WHERE id = $1").bind(id).execute(&self.db).await.map_err(|e| e.to_string())?;
        sqlx::query("SELECT * FROM balances WHERE id = $1").bind(id).execute(&self.db).await.map_err(|e| e.to_string())?;
        Ok(id)
    }
}
fn build_rpc_module(api: Api) -> Result<RpcModule<Api>, anyhow::Error> {
    let mut module = RpcModule::new(api);
    module.register_async_method("liveness", |_params, _ctx| async move { Ok::<_, ErrorObjectOwned>(()) })?;
    module.register_async_method("getAccount", |params, ctx| async move {
        let api = ctx.as_ref();
        let id = params.parse()?;
        api.get_account(id).await.map_err(Into::into)
    })?;
    Ok(module)
}
"#,
    );
    // The `#[rpc(server)]` form: the trait's implementation answers each method.
    put(
        dir.path(),
        "src/server.rs",
        r#"
use jsonrpsee::core::RpcResult;
pub struct Indexer { db: PgPool }
#[async_trait]
impl AccountApiServer for Indexer {
    async fn get_balance(&self, id: i64) -> RpcResult<i64> {
        sqlx::query("SELECT * FROM balances WHERE id = $1").bind(id).execute(&self.db).await.ok();
        Ok(id)
    }
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[
            ("RPC", "/getAccount", 2),
            ("RPC", "/liveness", 0),
            ("RPC", "/get_balance", 1),
        ],
    );
}

#[test]
fn jsonrpsee_methods_a_project_macro_registers_are_entry_points() {
    // `register!("page_get", page_get)`: the macro writes the registration with the method name and the
    // function it calls as fragments; the wrapper's own work runs around every method.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"wiki\"\n[dependencies]\njsonrpsee = { version = \"0.24\", features = [\"server\"] }\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
pub struct State { db: PgPool }
async fn page_get(state: &State) -> Result<i64, String> {
    sqlx::query("SELECT * FROM pages").execute(&state.db).await.map_err(|e| e.to_string())?;
    Ok(1)
}
async fn ping(_state: &State) -> Result<i64, String> {
    Ok(0)
}
fn build_module(state: State) -> Result<RpcModule<State>, anyhow::Error> {
    let mut module = RpcModule::new(state);
    macro_rules! register {
        ($name:expr, $method:ident $(,)?) => {{
            module.register_async_method($name, |_params, state, _extensions| async move {
                sqlx::query("SET search_path TO wiki").execute(&state.db).await.ok();
                $method(&state).await
            })?;
        }};
    }
    register!("page_get", page_get);
    register!("ping", ping,);
    Ok(module)
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("RPC", "/page_get", 2), ("RPC", "/ping", 1)]);
}

#[test]
fn a_future_a_project_macro_awaits_is_the_fragment_it_was_given() {
    // `find_or_error!(get_optional(db, id), Text)` writes `$future.await?.ok_or(..)` (inside `paste!`):
    // the call handed in is what is awaited.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"
#[macro_use]
mod macros;
pub enum Error { TextNotFound }
async fn get_optional(db: &PgPool, id: i64) -> Result<Option<i64>, Error> {
    sqlx::query("SELECT * FROM texts WHERE id = $1").bind(id).execute(db).await.ok();
    Ok(None)
}
async fn get_text(db: &PgPool, id: i64) -> Result<i64, Error> {
    find_or_error!(get_optional(db, id), Text)
}
async fn show(State(db): State<PgPool>) -> String {
    get_text(&db, 1).await.ok();
    let _other = find_or_error!(get_optional(&db, 2), Text);
    String::new()
}
pub fn app() -> axum::Router<PgPool> {
    axum::Router::new().route("/show", get(show))
}
"#,
    );
    put(
        dir.path(),
        "src/macros.rs",
        r#"
macro_rules! find_or_error {
    ($future:expr, $error:ident $(,)?) => {
        paste! {
            $future.await?.ok_or(Error::[<$error NotFound>])
        }
    };
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("GET", "/show", 2)]);
}

#[test]
fn futures_mapped_from_fetched_items_run_after_the_fetch_and_all_at_once() {
    // `let futs = list(..).await?.into_iter().map(|p| build(p));` then `try_join_all(futs)`: the list is
    // fetched first; the futures the closure's calls make are joined (one round trip on the critical
    // path, not ten).
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"
async fn list(db: &PgPool) -> Result<Vec<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT id FROM pages WHERE deleted").fetch_all(db).await
}
async fn build(db: &PgPool, id: i64) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT * FROM revisions WHERE page = $1").bind(id).execute(db).await?;
    Ok(id)
}
async fn deleted(State(db): State<PgPool>) -> Result<String, sqlx::Error> {
    let futs = list(&db).await?.into_iter().map(|p| build(&db, p));
    let _all: Vec<i64> = futures::future::try_join_all(futs).await?;
    Ok(String::new())
}
async fn one_by_one(State(db): State<PgPool>) -> Result<String, sqlx::Error> {
    for p in list(&db).await? {
        build(&db, p).await?;
    }
    Ok(String::new())
}
pub fn app() -> axum::Router<PgPool> {
    axum::Router::new().route("/deleted", get(deleted)).route("/one", get(one_by_one))
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("GET", "/deleted", 2), ("GET", "/one", 11)]);
}

#[test]
fn a_function_named_by_a_raw_identifier_is_reached() {
    // `fn r#move` called as `PageService::r#move(..)` and `page.r#move(..)`.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"
pub struct PageService;
impl PageService {
    pub async fn r#move(db: &PgPool) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE pages SET slug = $1").execute(db).await?;
        Ok(())
    }
}
pub struct Page { db: PgPool }
impl Page {
    pub async fn r#type(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT kind FROM pages").execute(&self.db).await?;
        sqlx::query("SELECT kind FROM page_kinds").execute(&self.db).await?;
        Ok(())
    }
}
async fn move_page(State(db): State<PgPool>) -> Result<String, sqlx::Error> {
    PageService::r#move(&db).await?;
    let page = Page { db: db.clone() };
    page.r#type().await?;
    Ok(String::new())
}
pub fn app() -> axum::Router<PgPool> {
    axum::Router::new().route("/move", post(move_page))
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("POST", "/move", 3)]);
}

#[test]
fn a_client_a_build_script_generates_is_not_the_servers_trait_of_the_same_name() {
    // `web_vault::vault_client::Vault::new(host)` (grpc-web's client, generated into a module that only
    // includes a build script's output) shares its name with the server's trait `vault_server::Vault`:
    // calling it is a call to another service, not the server's own queries.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"vault\"\n[dependencies]\naxum = \"0.7\"\ntonic = \"0.10\"\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
pub mod vault {
    tonic::include_proto!("vault");
}
pub mod web_vault {
    tonic::include_proto!("grpc_web/vault");
}
pub struct VaultService { db: PgPool }
#[tonic::async_trait]
impl vault::vault_server::Vault for VaultService {
    async fn get_service_account(&self, req: tonic::Request<vault::GetReq>) -> Result<tonic::Response<vault::GetResp>, tonic::Status> {
        sqlx::query("SELECT * FROM service_accounts").execute(&self.db).await.ok();
        sqlx::query("SELECT * FROM secrets").execute(&self.db).await.ok();
        Ok(tonic::Response::new(vault::GetResp::default()))
    }
}
async fn secrets(State(host): State<String>) -> String {
    let client = web_vault::vault_client::Vault::new(host);
    let _r = client.get_service_account(web_vault::GetReq::default()).await;
    String::new()
}
pub fn app() -> axum::Router<String> {
    axum::Router::new().route("/secrets", get(secrets))
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(
        &json,
        &[
            ("GET", "/secrets", 0),
            ("GRPC", "/Vault/get_service_account", 2),
        ],
    );
}

#[test]
fn mongodb_calls_inside_a_session_and_its_commit_are_round_trips() {
    // mongodb 2.x: `coll.find_one_with_session(filter, None, &mut session)`, then
    // `session.commit_transaction()`; `start_transaction` sends nothing.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"watch\"\n[dependencies]\naxum = \"0.6\"\nmongodb = \"2.5\"\n",
    );
    put(
        dir.path(),
        "src/main.rs",
        r#"
use mongodb::{bson::doc, Client, Collection};
async fn delete(Extension(client): Extension<Client>, Json(uuid): Json<String>) -> StatusCode {
    let mut session = client.start_session(None).await.unwrap();
    session.start_transaction(None).await.unwrap();
    let groups: Collection<Group> = client.database("app").collection("groups");
    if let Ok(Some(_)) = groups.find_one_with_session(doc! {"uuid": &uuid}, None, &mut session).await {
        groups.delete_one_with_session(doc! {"uuid": &uuid}, None, &mut session).await.unwrap();
        session.commit_transaction().await.unwrap();
        StatusCode::OK
    } else {
        session.abort_transaction().await.ok();
        StatusCode::BAD_REQUEST
    }
}
pub fn app() -> axum::Router {
    axum::Router::new().route("/groups/delete", axum::routing::delete(delete))
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    let route = route(&json, "DELETE", "/groups/delete");
    assert_eq!(route["round_trips"], 3, "{route}");
    let kinds: Vec<&str> = route["trips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["read", "write", "commit"]);
}

#[test]
fn a_loop_over_chunks_runs_as_many_chunks_as_the_assumed_items_fill() {
    // `for ids in all.chunks(MAX_PARAMS)` with a chunk of at least the ten items a collection is assumed to
    // hold runs once (the batched form, no N+1); one of three runs four times.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"
const MAX_PARAMS: usize = 30_000;
async fn batched(State(db): State<PgPool>, Json(ids): Json<Vec<i64>>) {
    for chunk in ids.chunks(MAX_PARAMS) {
        sqlx::query("SELECT * FROM accounts WHERE id = ANY($1)").bind(chunk).execute(&db).await.ok();
    }
}
async fn small(State(db): State<PgPool>, Json(ids): Json<Vec<i64>>) {
    for chunk in ids.chunks(3) {
        sqlx::query("SELECT * FROM accounts WHERE id = ANY($1)").bind(chunk).execute(&db).await.ok();
    }
}
pub fn app() -> axum::Router<PgPool> {
    axum::Router::new().route("/batched", post(batched)).route("/small", post(small))
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("POST", "/batched", 1), ("POST", "/small", 4)]);
    let lints = |path: &str| route(&json, "POST", path)["lints"].to_string();
    assert!(
        !lints("/batched").contains("query-in-loop"),
        "{}",
        lints("/batched")
    );
    assert!(
        lints("/small").contains("query-in-loop"),
        "{}",
        lints("/small")
    );
}

#[test]
fn a_method_router_a_block_makes_serves_the_route_it_is_given_to() {
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "src/main.rs",
        r#"
use axum::routing::post;
async fn request_handler(State(db): State<PgPool>) -> String {
    sqlx::query("SELECT 1").execute(&db).await.ok();
    String::new()
}
pub fn app(state: PgPool, limit: Option<u64>) -> axum::Router {
    let post_request_handler = {
        let mut handler = post(request_handler);
        if let Some(limit) = limit {
            handler = handler.route_layer(ConcurrencyLimitLayer::new(limit));
        }
        handler.route_layer(TraceLayer::new_for_http())
    };
    axum::Router::new()
        .route("/subgraphs/id/{id}", post_request_handler)
        .with_state(state)
}
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("POST", "/subgraphs/id/{id}", 1)]);
}

#[test]
fn a_trait_object_reaches_the_callers_crates_type_where_two_crates_name_theirs_alike() {
    // The shared crate's `TransferService` queries; the client's, of the same name, asks the server by
    // gRPC. A handler of the client calls through `Arc<dyn TransferServiceTrait>`: the client's.
    let dir = tempfile::tempdir().unwrap();
    put(
        dir.path(),
        "Cargo.toml",
        "[workspace]\nmembers = [\"shared\", \"client\"]\n",
    );
    put(
        dir.path(),
        "shared/Cargo.toml",
        "[package]\nname = \"shared\"\n[dependencies]\nsqlx = { version = \"0.8\", features = [\"postgres\"] }\n",
    );
    put(
        dir.path(),
        "shared/src/lib.rs",
        r#"
pub type DynTransferService = Arc<dyn TransferServiceTrait + Send + Sync>;
#[async_trait]
pub trait TransferServiceTrait { async fn get_transfers(&self) -> Vec<i64>; }
pub struct TransferService { db: PgPool }
#[async_trait]
impl TransferServiceTrait for TransferService {
    async fn get_transfers(&self) -> Vec<i64> {
        sqlx::query("SELECT * FROM transfers").execute(&self.db).await.ok();
        sqlx::query("SELECT count(*) FROM transfers").execute(&self.db).await.ok();
        Vec::new()
    }
}
"#,
    );
    put(
        dir.path(),
        "client/Cargo.toml",
        "[package]\nname = \"client\"\n[dependencies]\naxum = \"0.8\"\nshared = { path = \"../shared\" }\n",
    );
    put(
        dir.path(),
        "client/src/main.rs",
        r#"
use shared::{DynTransferService, TransferServiceTrait};
pub struct TransferService { url: String }
#[async_trait]
impl TransferServiceTrait for TransferService {
    async fn get_transfers(&self) -> Vec<i64> { Vec::new() }
}
pub struct AppState { transfer_service: DynTransferService }
async fn get_transfers(State(data): State<Arc<AppState>>) -> String {
    data.transfer_service.get_transfers().await;
    String::new()
}
pub fn app() -> axum::Router<Arc<AppState>> { axum::Router::new().route("/api/transfers", get(get_transfers)) }
"#,
    );
    let (_, json) = check_json(dir.path(), &["-q"]);
    assert_trips(&json, &[("GET", "/api/transfers", 0)]);
}

//! Replica routing and the regional plan as a user meets them: `hopcheck plan`, the what-if flags,
//! pools read from their names, and `hopcheck init` writing a starter file for the code.

mod common;

use common::*;

fn teams() -> std::path::PathBuf {
    fixtures().join("projects/teams")
}

fn plan_json(path: &std::path::Path, extra: &[&str]) -> serde_json::Value {
    let p = path.to_string_lossy().into_owned();
    let mut args = vec!["plan", "--format", "json", &p];
    args.extend_from_slice(extra);
    let out = hopcheck(&args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", stdout(&out), stderr(&out)))
}

fn scenario<'a>(plan: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    plan["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

fn cost(s: &serde_json::Value, method: &str, path: &str) -> f64 {
    s["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["method"] == method && r["path"] == path)
        .unwrap_or_else(|| panic!("no route {method} {path}"))["estimated_ms"]
        .as_f64()
        .unwrap()
}

#[test]
fn plan_prices_every_route_under_each_scenario_and_recommends_from_the_numbers() {
    let plan = plan_json(&teams(), &[]);
    assert_eq!(plan["version"], 1);
    let names: Vec<&str> = plan["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["current", "cdn", "read-replicas", "isolation"]);

    // Dublin app, Virginia primary (70 ms), replica in Dublin; each query waits for the pool's
    // connection check, a round trip to the same place, first.
    let current = scenario(&plan, "current");
    assert_eq!(cost(current, "GET", "/teams/{id}"), 139.2);
    assert_eq!(cost(current, "POST", "/teams/{id}/archive"), 417.6);
    assert_eq!(current["over_budget"], 1);

    // A CDN takes the static files and changes no dynamic route.
    let cdn = scenario(&plan, "cdn");
    assert_eq!(cdn["over_budget"], 1);
    assert_eq!(cost(cdn, "GET", "/teams/{id}"), 139.2);
    let assets = cdn["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/assets")
        .expect("the ServeDir route");
    assert_eq!(assets["static_files"], true);

    // Replicas move the read on the primary; the read after a write and the writes stay.
    let rr = scenario(&plan, "read-replicas");
    assert_eq!(cost(rr, "GET", "/teams/{id}"), 2.0);
    assert_eq!(cost(rr, "POST", "/teams/{id}/visit"), 278.4);
    assert_eq!(rr["over_budget"], 1);
    let lines = |key: &str| -> Vec<u64> {
        rr[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["line"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(lines("moved_reads"), [38]);
    assert_eq!(lines("kept_reads"), [80]);

    // A primary in Dublin: every database round trip is local; the written tables need replication.
    let iso = scenario(&plan, "isolation");
    assert_eq!(cost(iso, "POST", "/teams/{id}/archive"), 6.0);
    assert_eq!(iso["over_budget"], 0);
    assert_eq!(
        iso["tables_written"],
        serde_json::json!(["audit", "invites", "teams"])
    );

    // Only moving the primary brings every route within budget, but the playbook comes first: the
    // archive's three writes in one statement bring it within budget with replicas alone.
    let rec = plan["recommendation"].as_str().unwrap();
    assert_eq!(
        rec,
        "Fix the code first, then add read replicas: fixing 1 finding: sequential-queries at src/teams.rs:100 (saves ≈ 278 ms) brings every route within budget with replicas alone (moving the primary next to the app is then not needed)."
    );
}

/// With several deployments, isolation says what it costs: the tables written in each region.
#[test]
fn isolation_names_what_writing_in_two_regions_takes() {
    let plan = plan_json(&common::fixtures().join("projects/shop"), &[]);
    let iso = scenario(&plan, "isolation");
    let changes = iso["changes"].to_string();
    assert!(
        changes.contains("tables `order_lines`, `orders`, `users` (each table written in two regions needs multi-primary replication that resolves conflicting writes, or one owning region per row and an event pipeline to the others)"),
        "{changes}"
    );
}

#[test]
fn plan_in_words_shows_the_table_the_changes_and_the_recommendation() {
    let out = hopcheck(&["plan", teams().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    for needed in [
        "routes over budget",
        "read-replicas",
        "POST /teams/{id}/archive",
        "418 ms !",
        "src/teams.rs:38 (`state.db`)",
        "before moving any primary: fixing 1 finding: sequential-queries at src/teams.rs:100",
        "Recommendation: Fix the code first, then add read replicas",
    ] {
        assert!(text.contains(needed), "{needed:?} missing from:\n{text}");
    }
    // The routes table names each route's handler; the prose wraps (a file:line list included).
    let header = text
        .lines()
        .find(|l| l.starts_with("route "))
        .unwrap_or_else(|| panic!("no routes table in:\n{text}"));
    assert!(
        header.split_whitespace().nth(1) == Some("handler"),
        "{header}"
    );
    let prose = text
        .split_once("What each scenario is and needs:")
        .unwrap()
        .1;
    for line in prose.lines() {
        assert!(line.chars().count() <= 110, "{line}");
    }
}

#[test]
fn what_if_flags_change_the_topology_without_editing_the_file() {
    let shop = fixtures().join("projects/shop");
    // No replica in the file: no read-on-primary. With one in Virginia, each far read is a finding.
    let (_, before) = check_json(&shop, &[]);
    let count = |json: &serde_json::Value| {
        json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["lint"] == "read-on-primary")
            .count()
    };
    assert_eq!(count(&before), 0);
    let (_, after) = check_json(&shop, &["--replica", "main@us-east-1"]);
    assert!(count(&after) >= 3, "{}", after["diagnostics"]);
    // A third deployment gets its own column.
    let (_, more) = check_json(&shop, &["--deploy", "ap-southeast-2"]);
    assert_eq!(more["config"]["deployments"].as_array().unwrap().len(), 3);
    // Moving the primary to Virginia makes the Virginia deployment's round trips local, and the
    // Frankfurt one's far.
    let (_, moved) = check_json(&shop, &["--primary", "main@us-east-1"]);
    let profile = moved["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/users/{id}")
        .unwrap();
    assert_eq!(profile["cost"][0]["deployment"], "us-east-1");
    assert_eq!(profile["cost"][0]["estimated_ms"], 6.0);
    assert!(profile["cost"][1]["estimated_ms"].as_f64().unwrap() > 500.0);

    let out = hopcheck(&[
        "check",
        shop.to_str().unwrap(),
        "--replica",
        "main@us-est-1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("did you mean `us-east-1`"),
        "{}",
        stderr(&out)
    );
    let out = hopcheck(&[
        "plan",
        shop.to_str().unwrap(),
        "--primary",
        "orders@us-east-1",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown database `orders`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn static_file_services_of_each_framework_are_cdn_routes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
pub fn axum_app() -> Router {
    Router::new()
        .route("/", get(home))
        .nest_service("/assets", ServeDir::new("assets").not_found_service(ServeFile::new("404.html")))
        .route_service("/favicon.ico", ServeFile::new("favicon.ico"))
}
pub fn actix_app(cfg: &mut web::ServiceConfig) {
    cfg.service(Files::new("/static", "./static").show_files_listing());
}
pub fn rocket_app() -> Rocket<Build> {
    rocket::build().mount("/public", FileServer::from("public"))
}
async fn home(State(db): State<PgPool>) -> String { String::new() }
"#,
    )
    .unwrap();
    let plan = plan_json(dir.path(), &[]);
    let mut paths: Vec<String> = scenario(&plan, "cdn")["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["static_files"] == true)
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect();
    paths.sort();
    assert_eq!(paths, ["/assets", "/favicon.ico", "/public", "/static"]);
}

#[test]
fn init_writes_a_starter_for_the_code_and_never_overwrites() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
async fn show(State(state): State<AppState>) {
    let url = std::env::var("DATABASE_URL_READ").unwrap();
    sqlx::query("SELECT 1 FROM users").fetch_one(&state.read_pool).await;
    sqlx::query("UPDATE users SET n = 1").execute(&state.db).await;
}
"#,
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let out = hopcheck(&[
        "init",
        d,
        "--deploy",
        "eu-west-1",
        "--primary",
        "main@us-east-1",
        "--replica",
        "main@eu-west-1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = std::fs::read_to_string(dir.path().join("hopcheck.toml")).unwrap();
    for needed in [
        "deployments = [\"eu-west-1\"]",
        "primary = \"us-east-1\"",
        "replicas = [\"eu-west-1\"]",
        "\"state.read_pool\" = \"main.replica\"",
        "\"state.db\" = \"main\"",
        "`DATABASE_URL_READ`",
    ] {
        assert!(text.contains(needed), "{needed:?} missing from:\n{text}");
    }
    // The file it wrote is the one `check` then uses, and the pools route as written.
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(
        json["config"]["deployments"],
        serde_json::json!(["eu-west-1"])
    );
    assert_eq!(json["routes"][0]["round_trips"], 2);

    std::fs::write(dir.path().join("hopcheck.toml"), "# mine\n").unwrap();
    let out = hopcheck(&["init", d]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("already exists"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("hopcheck.toml")).unwrap(),
        "# mine\n"
    );
}

#[test]
fn residency_is_checked_in_check_and_in_every_plan_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let toml = r#"deployments = ["eu-central-1", "us-east-1"]
[databases.main]
primary = "eu-central-1"
replicas = ["us-east-1"]
[databases.main.table-residency]
users = ["eu-central-1", "eu-west-1"]
[pools]
"state.read" = "main.replica"
"#;
    std::fs::write(dir.path().join("hopcheck.toml"), toml).unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
pub fn app() -> Router<AppState> { Router::new().route("/u", get(profile)).route("/p", get(posts)) }
async fn profile(State(state): State<AppState>) {
    sqlx::query("SELECT name FROM users WHERE id = 1").fetch_one(&state.read).await;
}
async fn posts(State(state): State<AppState>) {
    sqlx::query("SELECT title FROM posts").fetch_all(&state.db).await;
}
"#,
    )
    .unwrap();
    // The topology already copies `users` to Virginia: an error at the read, none for `posts`.
    let (status, json) = check_json(dir.path(), &[]);
    assert_eq!(status, 1);
    let found: Vec<(String, u64)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["lint"] == "residency-violation")
        .map(|d| {
            (
                d["message"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, 4);
    assert!(
        found[0]
            .0
            .contains("`users` may be stored only in eu-central-1, eu-west-1"),
        "{}",
        found[0].0
    );
    assert!(
        found[0].0.contains("the replica in us-east-1"),
        "{}",
        found[0].0
    );

    // Replicas and isolation both put `users` in Virginia; `posts` may travel.
    let plan = plan_json(dir.path(), &[]);
    for name in ["read-replicas", "isolation"] {
        let v = &scenario(&plan, name)["residency_violations"];
        assert_eq!(v.as_array().map(Vec::len), Some(1), "{name}: {v}");
        assert_eq!(v[0]["table"], "users");
        assert_eq!(v[0]["region"], "us-east-1");
    }
}

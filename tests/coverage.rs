//! What a run could not check is said in every format, and the gate cannot pass because of it: handlers
//! without a route, routes declared by hand, and one count of what is over budget everywhere.

mod common;

use common::*;
use serde_json::Value;

/// The fixture copied into a temporary folder, with `extra` appended to its configuration.
fn project(extra: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("unrouted");
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    for f in ["Cargo.toml", "src/main.rs"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let config = std::fs::read_to_string(src.join("hopcheck.toml")).unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        format!("{config}\n{extra}"),
    )
    .unwrap();
    dir
}

fn run(dir: &std::path::Path, format: &str, extra: &[&str]) -> (i32, String) {
    let d = dir.to_string_lossy().into_owned();
    let mut args = vec!["check", "--format", format, &d];
    args.extend_from_slice(extra);
    let out = hopcheck(&args);
    (out.status.code().unwrap_or(-1), stdout(&out))
}

#[test]
fn a_handler_without_a_route_is_named_in_every_format() {
    let dir = project("");
    let (status, json) = check_json(dir.path(), &[]);
    assert_eq!(
        status, 1,
        "unchecked, but priced over budget: the run cannot pass as if it had been checked"
    );
    let failing: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(failing.len(), 1, "{failing:?}");
    assert!(
        failing[0].starts_with("handler `export_orders` has no route hopcheck could find"),
        "{failing:?}"
    );
    let coverage = &json["coverage"];
    assert_eq!(coverage["handlers"], 2);
    assert_eq!(coverage["routed"], 1);
    assert_eq!(coverage["unrouted"], serde_json::json!(["export_orders"]));
    assert_eq!(coverage["unrouted_checked"], false);
    assert_eq!(coverage["over_budget"], 0);
    assert_eq!(coverage["unchecked_over_budget"], 1);
    let unrouted = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["handler"] == "export_orders")
        .unwrap();
    assert_eq!(unrouted["checked"], false);
    assert_eq!(unrouted["round_trips"], 3);
    let says = |text: &str| {
        text.contains("no route hopcheck could find") && text.contains("export_orders")
    };
    assert!(json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| says(n.as_str().unwrap())));

    let (_, human) = run(dir.path(), "human", &[]);
    assert!(says(&human), "{human}");
    assert!(
        human.contains("1 route, 0 over budget (+1 handler without a route, not checked, 1 of them over budget); 1 error"),
        "{human}"
    );
    assert!(human.contains("over budget, not checked"), "{human}");

    let (_, markdown) = run(dir.path(), "markdown", &[]);
    assert!(says(&markdown), "{markdown}");
    assert!(
        markdown.contains("❌ the route is within budget (1 handler without a route not checked, 1 of them over budget); 1 error"),
        "{markdown}"
    );

    let (_, sarif) = run(dir.path(), "sarif", &[]);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 1);
    assert_eq!(results[0]["ruleId"], "unrouted-over-budget");
    let properties = &sarif["runs"][0]["properties"];
    assert_eq!(
        properties["coverage"]["unrouted"],
        serde_json::json!(["export_orders"])
    );
    assert!(properties["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| says(n.as_str().unwrap())));

    let (_, github) = run(dir.path(), "github", &[]);
    let warning = github
        .lines()
        .find(|l| l.starts_with("::warning title=hopcheck"))
        .unwrap_or_else(|| panic!("{github}"));
    assert!(says(warning), "{warning}");
    assert!(
        github.contains("title=hopcheck unrouted-over-budget::handler `export_orders`"),
        "{github}"
    );

    // Lowered to a warning, it is said and no longer fails the run.
    let lowered = project("[lints]\nunrouted-over-budget = \"warn\"\n");
    let (status, _) = check_json(lowered.path(), &[]);
    assert_eq!(status, 0);

    let html = dir.path().join("report.html");
    let out = hopcheck(&[
        "report",
        &dir.path().to_string_lossy(),
        "--html",
        &html.to_string_lossy(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(says(&page), "the report's header names it");
}

#[test]
fn check_unrouted_checks_them_by_name() {
    let dir = project("");
    let (status, json) = check_json(dir.path(), &["--check-unrouted"]);
    assert_eq!(status, 1);
    let over: Vec<&str> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["lint"] == "over-budget")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(over.len(), 1, "{over:?}");
    assert!(over[0].contains("handler `export_orders`"), "{}", over[0]);
    assert_eq!(json["coverage"]["over_budget"], 1);
    assert!(!json["notes"]
        .to_string()
        .contains("no route hopcheck could find"));
    // The same from the configuration.
    let dir = project("[check]\nunrouted = true\n");
    let (status, _) = check_json(dir.path(), &[]);
    assert_eq!(status, 1);
}

#[test]
fn a_route_declared_by_hand_is_a_route_with_its_budget() {
    let dir = project(
        "[[routes]]\nhandler = \"export_orders\"\nmethod = \"get\"\npath = \"/orders/export\"\n",
    );
    let (status, json) = check_json(dir.path(), &[]);
    assert_eq!(status, 1, "over its budget, and now checked");
    let route = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["handler"] == "export_orders")
        .unwrap();
    assert_eq!(route["method"], "GET");
    assert_eq!(route["path"], "/orders/export");
    assert_eq!(route["checked"], true);
    assert_eq!(json["coverage"]["unrouted"], serde_json::json!([]));
    // Its key takes a budget like any route's.
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("unrouted");
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::copy(src.join("src/main.rs"), dir.path().join("src/main.rs")).unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "deployments = [\"us-east-1\"]\n\n[databases.main]\nprimary = \"eu-central-1\"\n\n[budget]\ndefault = \"250ms\"\n\"GET /orders/export\" = \"1s\"\n\n[[routes]]\nhandler = \"export_orders\"\nmethod = \"GET\"\npath = \"/orders/export\"\n",
    )
    .unwrap();
    let (status, json) = check_json(dir.path(), &[]);
    assert_eq!(status, 0, "{}", json["diagnostics"]);
}

#[test]
fn a_routes_entry_that_names_nothing_is_said() {
    let dir = project("[[routes]]\nhandler = \"export_invoices\"\nmethod = \"GET\"\npath = \"/invoices/export\"\n");
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(
        json["coverage"]["unmatched_routes"],
        serde_json::json!(["GET /invoices/export → export_invoices"])
    );
    assert!(json["notes"].to_string().contains("names no function"));
    // A method that is not one is a configuration error that points into the file.
    let dir =
        project("[[routes]]\nhandler = \"export_orders\"\nmethod = \"FETCH\"\npath = \"/x\"\n");
    let (status, out) = run(dir.path(), "json", &[]);
    assert_eq!(status, 2, "{out}");
}

#[test]
fn every_format_counts_the_same_routes_over_budget() {
    let dir = project(
        "[[routes]]\nhandler = \"export_orders\"\nmethod = \"GET\"\npath = \"/orders/export\"\n",
    );
    let (_, json) = check_json(dir.path(), &[]);
    let over = json["coverage"]["over_budget"].as_u64().unwrap();
    assert_eq!(over, 1);
    let from_routes = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["checked"] == true
                && r["cost"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|c| c["over_budget"] == true)
        })
        .count() as u64;
    assert_eq!(from_routes, over);
    let (_, human) = run(dir.path(), "human", &[]);
    assert!(human.contains("2 routes, 1 over budget;"), "{human}");
    let (_, markdown) = run(dir.path(), "markdown", &[]);
    assert!(markdown.contains("1 of 2 routes over budget"), "{markdown}");
    let (_, github) = run(dir.path(), "github", &[]);
    assert!(github.contains("2 routes, 1 over budget;"), "{github}");
    let html = dir.path().join("report.html");
    hopcheck(&[
        "report",
        &dir.path().to_string_lossy(),
        "--html",
        &html.to_string_lossy(),
    ]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("hopcheck: 2 routes, 1 over budget"),
        "the report's header"
    );
}

#[test]
fn a_database_client_hopcheck_does_not_price_is_said_in_every_format() {
    let dir = project("");
    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        manifest.replace("[dependencies]\n", "[dependencies]\nscylla = \"1\"\n"),
    )
    .unwrap();
    let says = |text: &str| {
        text.contains("a client of a database or remote store hopcheck does not price: scylla (Cassandra / ScyllaDB)")
    };
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(
        json["coverage"]["unpriced_clients"],
        serde_json::json!(["scylla (Cassandra / ScyllaDB)"])
    );
    assert!(says(&json["notes"].to_string()), "{}", json["notes"]);
    for format in ["human", "markdown", "sarif", "github"] {
        let (_, out) = run(dir.path(), format, &[]);
        assert!(says(&out), "{format}: {out}");
    }
    // Taught by the project's own entry, it is priced: nothing to say.
    let config = std::fs::read_to_string(dir.path().join("hopcheck.toml")).unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        format!("{config}\n[[calls]]\ncrates = [\"scylla\"]\nmethods = [\"query_unpaged\"]\nexecutor = \"receiver\"\n"),
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(json["coverage"]["unpriced_clients"], serde_json::json!([]));
    assert!(!says(&json["notes"].to_string()), "{}", json["notes"]);
    // SQL Server through bb8's pool, written with an underscore as Cargo allows.
    std::fs::write(
        dir.path().join("Cargo.toml"),
        manifest.replace(
            "[dependencies]\n",
            "[dependencies]\nbb8_tiberius = \"0.15\"\n",
        ),
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(
        json["coverage"]["unpriced_clients"],
        serde_json::json!(["bb8-tiberius (SQL Server)"])
    );
    // A GraphQL API seaography generates over sea-orm: its resolvers' statements are not seen.
    std::fs::write(
        dir.path().join("Cargo.toml"),
        manifest.replace("[dependencies]\n", "[dependencies]\nseaography = \"1\"\n"),
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(
        json["coverage"]["unpriced_clients"],
        serde_json::json!(["seaography (GraphQL resolvers generated over sea-orm)"])
    );
}

#[test]
fn a_web_framework_whose_routes_are_not_read_is_said_in_every_format() {
    let dir = project("");
    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(json["coverage"]["unread_frameworks"], serde_json::json!([]));
    // A gotham service (written with an underscore-free name, as Cargo.toml has it): its routes are
    // not read, so handlers it serves may be missed.
    std::fs::write(
        dir.path().join("Cargo.toml"),
        manifest.replace("[dependencies]\n", "[dependencies]\ngotham = \"0.7\"\n"),
    )
    .unwrap();
    let says = |text: &str| {
        text.contains("the code uses a web framework whose routes hopcheck does not read: gotham;")
    };
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(
        json["coverage"]["unread_frameworks"],
        serde_json::json!(["gotham"])
    );
    assert!(says(&json["notes"].to_string()), "{}", json["notes"]);
    for format in ["human", "markdown", "sarif", "github"] {
        let (_, out) = run(dir.path(), format, &[]);
        assert!(says(&out), "{format}: {out}");
    }
    // A router over a bare hyper server (lotide's `trout`).
    std::fs::write(
        dir.path().join("Cargo.toml"),
        manifest.replace("[dependencies]\n", "[dependencies]\ntrout = \"0.4\"\n"),
    )
    .unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(
        json["coverage"]["unread_frameworks"],
        serde_json::json!(["trout"])
    );
}

#[test]
fn a_path_dependency_that_is_not_there_is_said_in_every_format() {
    // The crate depends on its database layer by path, but that folder was deleted: what calls into it
    // do cannot be seen.
    let dir = project("");
    let manifest = std::fs::read_to_string(dir.path().join("Cargo.toml")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        manifest.replace(
            "[dependencies]\n",
            "[dependencies]\ncloud-database = { path = \"../libs/cloud-database\" }\n",
        ),
    )
    .unwrap();
    let says = |text: &str| {
        text.contains("a crate the code depends on by path is not there: cloud-database (../libs/cloud-database in Cargo.toml); calls into it are not followed")
    };
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(
        json["coverage"]["missing_path_dependencies"],
        serde_json::json!(["cloud-database (../libs/cloud-database in Cargo.toml)"])
    );
    assert!(says(&json["notes"].to_string()), "{}", json["notes"]);
    for format in ["human", "markdown", "sarif", "github"] {
        let (_, out) = run(dir.path(), format, &[]);
        assert!(says(&out), "{format}: {out}");
    }
    // A dependency whose folder is there: nothing to say.
    std::fs::write(
        dir.path().join("Cargo.toml"),
        manifest.replace(
            "[dependencies]\n",
            "[dependencies]\ncloud-database = { path = \"libs/cloud-database\" }\n",
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("libs/cloud-database/src")).unwrap();
    std::fs::write(
        dir.path().join("libs/cloud-database/Cargo.toml"),
        "[package]\nname = \"cloud-database\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("libs/cloud-database/src/lib.rs"), "").unwrap();
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(
        json["coverage"]["missing_path_dependencies"],
        serde_json::json!([])
    );
    assert!(!says(&json["notes"].to_string()), "{}", json["notes"]);
}

#[test]
fn a_file_no_mod_declaration_reaches_is_left_out_and_said() {
    // `src/pages/old.rs` is an old copy its crate no longer compiles (its `mod` line is commented out):
    // its handler is no route, nor an unrouted handler. `src/pages/cfg.rs` is declared inside a macro's input, and stays.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[package]\nname = \"pages\"\n[dependencies]\naxum = \"0.8\"\nsqlx = \"0.8\"\n",
    );
    write(
        "src/main.rs",
        "mod pages;\nfn app() -> axum::Router { axum::Router::new().route(\"/home\", axum::routing::get(pages::home::home)) }\n",
    );
    write(
        "src/pages/mod.rs",
        "pub mod home;\n// pub mod old;\ncfg_if::cfg_if! { if #[cfg(feature = \"extra\")] { pub mod cfg; } }\n",
    );
    let handler = |name: &str| {
        format!("pub async fn {name}(State(db): State<PgPool>) {{ sqlx::query(\"SELECT 1\").execute(&db).await; }}\n")
    };
    write("src/pages/home.rs", &handler("home"));
    write("src/pages/old.rs", &handler("old_home"));
    write("src/pages/cfg.rs", &handler("extra_home"));
    let (_, json) = check_json(root, &["-q"]);
    assert_eq!(
        json["coverage"]["files_not_compiled"],
        serde_json::json!(["src/pages/old.rs"])
    );
    let handlers: Vec<&str> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["handler"].as_str().unwrap())
        .collect();
    assert!(
        handlers.contains(&"home") && handlers.contains(&"extra_home"),
        "{handlers:?}"
    );
    assert!(!handlers.contains(&"old_home"), "{handlers:?}");
    let says = |text: &str| {
        text.contains("1 file that no `mod` declaration of its crate reaches is not compiled")
    };
    assert!(says(&json["notes"].to_string()), "{}", json["notes"]);
    for format in ["human", "markdown", "sarif", "github"] {
        let (_, out) = run(root, format, &[]);
        assert!(says(&out), "{format}: {out}");
    }
}

#[test]
fn handlers_without_any_route_are_no_routes_and_the_notes_say_how_to_teach_them() {
    // No router, no route attribute hopcheck reads: the handlers are checked by name, and said so.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("api.rs"),
        r#"
async fn export(State(db): State<PgPool>) {
    sqlx::query("SELECT 1").execute(&db).await;
}
async fn import(State(db): State<PgPool>) {
    sqlx::query("INSERT INTO t DEFAULT VALUES").execute(&db).await;
}
"#,
    )
    .unwrap();
    let (_, human) = run(dir.path(), "human", &[]);
    assert!(
        human.contains("2 handlers without a route (checked by name), 0 over budget"),
        "{human}"
    );
    assert!(
        human.contains("no route was found for any of the 2 handlers"),
        "{human}"
    );
    assert!(human.contains("[[route-attributes]]"), "{human}");
    let (_, markdown) = run(dir.path(), "markdown", &[]);
    assert!(
        markdown.contains("no route was found for any of the 2 handlers"),
        "{markdown}"
    );
}

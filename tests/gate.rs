//! The pull-request gate as a user meets it: `--compare-to` on a real git history, baselines,
//! allow comments and `[ignore]`, budgets written on handlers or on the command line, `--fail-on`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// A copy of the shop fixture in a fresh git repository with one commit.
fn shop_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&fixtures().join("projects/shop"), dir.path());
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "-A"]);
    git(dir.path(), &["commit", "-qm", "base"]);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.email=dev@example.com", "-c", "user.name=dev"])
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Adds a third, independent count to `GET /orders` (371 → 557 ms from us-east-1, over 500 ms: each
/// query pays the pool's connection check too).
fn add_a_query(dir: &Path) {
    let file = dir.join("src/routes/orders.rs");
    let text = std::fs::read_to_string(&file).unwrap();
    let at = text.find("    let count: i64").unwrap();
    let added = "    let pending: i64 = sqlx::query_scalar(\"SELECT count(*) FROM orders WHERE paid = false\")\n        .fetch_one(&state.db)\n        .await\n        .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;\n";
    std::fs::write(&file, format!("{}{added}{}", &text[..at], &text[at..])).unwrap();
}

fn unsuppressed(json: &serde_json::Value) -> Vec<&serde_json::Value> {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d.get("suppressed").is_none())
        .collect()
}

#[test]
fn compare_to_reports_before_and_after_and_fails_on_what_the_change_added() {
    let repo = shop_repo();
    add_a_query(repo.path());
    let status_before = git(repo.path(), &["status", "--porcelain"]);

    let (status, json) = check_json(repo.path(), &["--compare-to", "HEAD"]);
    assert_eq!(status, 1, "the route is now over budget");
    let c = &json["comparison"];
    assert_eq!(c["base"], "HEAD");
    let orders = c["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/orders" && r["method"] == "GET" && r["deployment"] == "us-east-1")
        .expect("GET /orders changed");
    assert_eq!(orders["before_ms"], 371.4);
    assert_eq!(orders["after_ms"], 557.1);
    // Only what the change added counts; what the base had is marked.
    let new: Vec<(&str, u64)> = unsuppressed(&json)
        .iter()
        .map(|d| (d["lint"].as_str().unwrap(), d["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(new, [("sequential-queries", 35), ("over-budget", 29)]);
    assert_eq!(c["new_findings"].as_array().unwrap().len(), 2);
    let base_kind = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["suppressed"]["kind"] == "base")
        .count();
    assert!(base_kind >= 3, "{}", json["diagnostics"]);

    // The human report says it, and the work tree is as it was.
    let out = hopcheck(&[
        "check",
        repo.path().to_str().unwrap(),
        "--compare-to",
        "HEAD",
    ]);
    assert!(
        stdout(&out).contains("GET /orders from us-east-1: ≈ 371 → 557 ms (+186 ms)"),
        "{}",
        stdout(&out)
    );
    assert_eq!(git(repo.path(), &["status", "--porcelain"]), status_before);

    // A regression threshold fails even a route that stays under budget.
    let (status, json) = check_json(
        repo.path(),
        &[
            "--compare-to",
            "HEAD",
            "--fail-on-regression",
            "50ms",
            "--budget",
            "2s",
        ],
    );
    assert_eq!(status, 1);
    assert!(json["comparison"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["regression"] == true));
    let (status, _) = check_json(
        repo.path(),
        &[
            "--compare-to",
            "HEAD",
            "--fail-on-regression",
            "200ms",
            "--budget",
            "2s",
        ],
    );
    assert_eq!(status, 0);

    let out = hopcheck(&[
        "check",
        repo.path().to_str().unwrap(),
        "--compare-to",
        "no-such-branch",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no commit `no-such-branch`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_baseline_lets_a_legacy_service_start_and_fails_only_on_what_gets_worse() {
    let repo = shop_repo();
    let dir = repo.path().to_str().unwrap();
    let out = hopcheck(&["baseline", dir]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let file = repo.path().join("hopcheck-baseline.json");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(written["version"], 1);
    let count = written["findings"].as_array().unwrap().len();
    assert!(count >= 4, "{written}");

    // Everything known is accepted: nothing fails.
    let baseline = file.to_str().unwrap();
    let (status, json) = check_json(repo.path(), &["--baseline", baseline]);
    assert_eq!(status, 0, "{}", json["diagnostics"]);
    assert!(unsuppressed(&json).is_empty());
    assert_eq!(json["baseline"]["matched"], count);

    // A new sequential query, in another place of the file (lines shift), is new; the rest stays accepted.
    add_a_query(repo.path());
    let (status, json) = check_json(repo.path(), &["--baseline", baseline]);
    assert_eq!(status, 1);
    let lints: Vec<&str> = unsuppressed(&json)
        .iter()
        .map(|d| d["lint"].as_str().unwrap())
        .collect();
    // Costliest first: merging the run saves more than the route is over its budget.
    assert_eq!(
        lints,
        ["sequential-queries", "over-budget"],
        "{}",
        json["diagnostics"]
    );
    // The old 2-query run of GET /orders is gone: its entry is stale, and said to be.
    assert_eq!(json["baseline"]["stale"].as_array().unwrap().len(), 1);
    let out = hopcheck(&["check", dir, "--baseline", baseline]);
    assert!(
        stdout(&out).contains("match no finding any more"),
        "{}",
        stdout(&out)
    );

    // A route already over budget that gets slower is worse than the baseline.
    let users = repo.path().join("src/routes/users.rs");
    let text = std::fs::read_to_string(&users).unwrap();
    std::fs::write(
        &users,
        text.replace(
            "    Ok(Json(Profile",
            "    let _ = find_user(&state.db, id).await;\n    Ok(Json(Profile",
        ),
    )
    .unwrap();
    let (_, json) = check_json(repo.path(), &["--baseline", baseline]);
    let over: Vec<&str> = unsuppressed(&json)
        .iter()
        .filter(|d| d["lint"] == "over-budget")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        over.iter()
            .any(|m| m.contains("worse than the baseline: GET /users/{id} ≈ 557 →")),
        "{over:?}"
    );

    std::fs::write(&file, "{ not json").unwrap();
    let out = hopcheck(&["check", dir, "--baseline", baseline]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a hopcheck baseline"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ignored_paths_and_allows_are_suppressed_not_dropped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src/legacy")).unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "deployments = [\"us-east-1\"]\n[databases.main]\nprimary = \"eu-central-1\"\n[budget]\ndefault = \"10s\"\n[ignore]\npaths = [\"src/legacy/**\"]\n",
    )
    .unwrap();
    let handler = |name: &str| {
        format!(
            "async fn {name}(State(db): State<PgPool>) {{\n    let a = sqlx::query(\"SELECT 1 FROM a\").fetch_one(&db).await;\n    let b = sqlx::query(\"SELECT 1 FROM b\").fetch_one(&db).await;\n}}\n"
        )
    };
    std::fs::write(dir.path().join("src/legacy/old.rs"), handler("old")).unwrap();
    std::fs::write(dir.path().join("src/new.rs"), handler("new")).unwrap();
    let (status, json) = check_json(dir.path(), &["--fail-on", "warning"]);
    assert_eq!(
        status, 1,
        "the new file's finding fails at --fail-on warning"
    );
    let all = json["diagnostics"].as_array().unwrap();
    assert_eq!(all.len(), 2);
    let legacy = all
        .iter()
        .find(|d| d["file"] == "src/legacy/old.rs")
        .unwrap();
    assert_eq!(legacy["suppressed"]["kind"], "config");
    assert!(legacy["fingerprint"].as_str().unwrap().len() > 10);

    // --fail-on never: findings are reported, the run passes.
    let (status, _) = check_json(dir.path(), &["--fail-on", "never"]);
    assert_eq!(status, 0);
    // A bad glob is a configuration error with its place.
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "[ignore]\npaths = [\"src/[legacy\"]\n",
    )
    .unwrap();
    let out = hopcheck(&["check", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is not a glob"), "{}", stderr(&out));
}

#[test]
fn budgets_come_from_the_handler_the_command_line_and_globs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("hopcheck.toml"),
        "deployments = [\"us-east-1\"]\n[databases.main]\nprimary = \"eu-central-1\"\n[budget]\ndefault = \"100ms\"\n\"/admin/**\" = \"1s\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("app.rs"),
        r#"
pub fn app() -> Router<PgPool> {
    Router::new().route("/a", get(a)).route("/b", get(b)).route("/admin/report", get(report))
}
// hopcheck: budget(400ms)
#[tracing::instrument]
async fn a(State(db): State<PgPool>) {
    sqlx::query("SELECT 1 FROM t").fetch_one(&db).await;
    sqlx::query("SELECT 2 FROM t").fetch_one(&db).await;
}
async fn b(State(db): State<PgPool>) {
    sqlx::query("SELECT 1 FROM t").fetch_one(&db).await;
    sqlx::query("SELECT 2 FROM t").fetch_one(&db).await;
}
async fn report(State(db): State<PgPool>) {
    sqlx::query("SELECT 1 FROM t").fetch_one(&db).await;
    sqlx::query("SELECT 2 FROM t").fetch_one(&db).await;
}
"#,
    )
    .unwrap();
    let budget_of = |json: &serde_json::Value, path: &str| {
        json["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"] == path)
            .unwrap()["cost"][0]["budget_ms"]
            .as_f64()
            .unwrap()
    };
    let (_, json) = check_json(dir.path(), &[]);
    assert_eq!(budget_of(&json, "/a"), 400.0, "written above the handler");
    assert_eq!(budget_of(&json, "/b"), 100.0);
    assert_eq!(
        budget_of(&json, "/admin/report"),
        1000.0,
        "the /admin/** glob"
    );
    let (_, json) = check_json(dir.path(), &["--budget", "300ms"]);
    assert_eq!(
        budget_of(&json, "/b"),
        300.0,
        "--budget replaces the default"
    );
    assert_eq!(budget_of(&json, "/a"), 400.0);
    let out = hopcheck(&["check", dir.path().to_str().unwrap(), "--budget", "soon"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn an_unused_config_entry_the_base_had_is_no_new_finding() {
    // The base is analysed with the same hopcheck.toml, standing where it stands in the working tree: an
    // entry that matched nothing before the change is the base's finding, not the change's.
    let repo = shop_repo();
    let config = repo.path().join("hopcheck.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        format!("{text}\n[[no-round-trip]]\nmethods = [\"warm_up\"]\n"),
    )
    .unwrap();
    git(repo.path(), &["commit", "-qam", "a stale entry"]);
    add_a_query(repo.path());
    let (_, json) = check_json(repo.path(), &["--compare-to", "HEAD"]);
    let unused: Vec<&serde_json::Value> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["lint"] == "unused-config")
        .collect();
    assert_eq!(unused.len(), 1, "{}", json["diagnostics"]);
    assert_eq!(unused[0]["suppressed"]["kind"], "base", "{}", unused[0]);
    let new: Vec<&str> = unsuppressed(&json)
        .iter()
        .map(|d| d["lint"].as_str().unwrap())
        .collect();
    assert_eq!(new, ["sequential-queries", "over-budget"]);
}

/// `check --format json --compare-to REV` in `repo` with the cache in `cache` and the stage timings on:
/// (exit status, JSON, stderr).
fn compared(repo: &Path, cache: &Path, rev: &str) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_hopcheck"))
        .args(["check", "--format", "json", "--compare-to", rev])
        .current_dir(repo)
        .env("HOPCHECK_TIMINGS", "1")
        .env("HOPCHECK_CACHE_DIR", cache)
        .output()
        .expect("the hopcheck binary runs");
    let json =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", stderr(&out)));
    (out.status.code().unwrap_or(-1), json, stderr(&out))
}

/// Which stage laps a run's timings name.
fn laps(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter_map(|l| l.split_once(':'))
        .filter(|(_, t)| t.trim_end().ends_with(" ms"))
        .map(|(stage, _)| stage.trim())
        .collect()
}

#[test]
fn a_base_compared_again_comes_from_the_cache_with_the_same_verdict() {
    let repo = shop_repo();
    let cache = tempfile::tempdir().unwrap();
    let fresh = |rev: &str| {
        let (status, json) = check_json(repo.path(), &["--compare-to", rev, "--no-cache"]);
        (status, json)
    };
    let (_, _, err) = compared(repo.path(), cache.path(), "HEAD");
    assert!(laps(&err).contains(&"base tree"), "{err}");
    // The work tree changes, the base does not: the base's summary is kept, the head analysed.
    add_a_query(repo.path());
    let (status, json, err) = compared(repo.path(), cache.path(), "HEAD");
    assert!(laps(&err).contains(&"base kept"), "{err}");
    assert!(!laps(&err).contains(&"base tree"), "{err}");
    assert!(laps(&err).contains(&"parse"), "{err}");
    assert_eq!((status, json.clone()), fresh("HEAD"));
    assert_eq!(status, 1, "the added query fails the run");
    // Nothing changed since: the whole report is kept.
    let (again_status, again, err) = compared(repo.path(), cache.path(), "HEAD");
    assert!(!laps(&err).contains(&"parse"), "{err}");
    assert!(!laps(&err).iter().any(|l| l.starts_with("base")), "{err}");
    assert_eq!((again_status, again), (status, json));
    // Committed: the old commit is the base under another name, and still kept; the new one is not.
    git(repo.path(), &["commit", "-qam", "a query more"]);
    let (status, json, err) = compared(repo.path(), cache.path(), "HEAD~1");
    assert!(laps(&err).contains(&"base kept"), "{err}");
    assert_eq!((status, json), fresh("HEAD~1"));
    let (status, json, err) = compared(repo.path(), cache.path(), "HEAD");
    assert!(laps(&err).contains(&"base tree"), "{err}");
    assert_eq!((status, json), fresh("HEAD"));
    assert_eq!(status, 0, "nothing new since HEAD");
}

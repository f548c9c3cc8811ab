//! `hopcheck fix` on `fixtures/fix/`, a small crate that builds: the fixes it makes, their exact text, that
//! a second run changes nothing, that the fixed findings are gone, and that the fixed crate still builds.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

/// The independent pair on the analytics database (no replica): joined.
const DASHBOARD_BEFORE: &str = r#"    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&state.analytics).await?;
    let orders: i64 = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&state.analytics).await?; //~ sequential-queries
"#;
const DASHBOARD_AFTER: &str = r#"    let (users, orders): (i64, i64) = futures::try_join!(
        sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&state.analytics),
        sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&state.analytics),
    )?; //~ sequential-queries
"#;

/// The read on the primary: the replica pool instead.
const SHOW_USER_BEFORE: &str = "        .fetch_one(&state.db) //~ read-on-primary\n";
const SHOW_USER_AFTER: &str = "        .fetch_one(&state.read) //~ read-on-primary\n";

/// Two independent reads on the primary: joined, and each on the replica.
const ORDER_PAGE_BEFORE: &str = r#"    let status: String = sqlx::query_scalar("SELECT status FROM orders WHERE id = $1").bind(id).fetch_one(&state.db).await?; //~ read-on-primary
    let lines: i64 = sqlx::query_scalar("SELECT count(*) FROM lines WHERE order_id = $1").bind(id).fetch_one(&state.db).await?; //~ read-on-primary sequential-queries
"#;
const ORDER_PAGE_AFTER: &str = r#"    let (status, lines): (String, i64) = futures::try_join!(
        sqlx::query_scalar("SELECT status FROM orders WHERE id = $1").bind(id).fetch_one(&state.read), //~ read-on-primary
        sqlx::query_scalar("SELECT count(*) FROM lines WHERE order_id = $1").bind(id).fetch_one(&state.read),
    )?; //~ read-on-primary sequential-queries
"#;

/// Two independent counts with the same `map_err`: joined, and the join maps the error.
const STATS_BEFORE: &str = r#"    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&state.analytics).await.map_err(|_| "unavailable")?;
    let teams: i64 = sqlx::query_scalar("SELECT count(*) FROM teams").fetch_one(&state.analytics).await.map_err(|_| "unavailable")?; //~ sequential-queries
"#;
const STATS_AFTER: &str = r#"    let (users, teams): (i64, i64) = futures::try_join!(
        sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&state.analytics),
        sqlx::query_scalar("SELECT count(*) FROM teams").fetch_one(&state.analytics),
    ).map_err(|_| "unavailable")?; //~ sequential-queries
"#;

/// Two calls to the project's functions that only read: joined like the reads they send.
const PROFILE_BEFORE: &str = r#"    let name = repo::user_name(&state.analytics, id).await?;
    let orders = repo::order_count(&state.analytics, id).await?; //~ sequential-queries
"#;
const PROFILE_AFTER: &str = r#"    let (name, orders) = futures::try_join!(
        repo::user_name(&state.analytics, id),
        repo::order_count(&state.analytics, id),
    )?; //~ sequential-queries
"#;

/// The fixture as `hopcheck fix` leaves it.
fn expected_fixed(original: &str) -> String {
    let mut text = original.to_string();
    for (before, after) in [
        (DASHBOARD_BEFORE, DASHBOARD_AFTER),
        (SHOW_USER_BEFORE, SHOW_USER_AFTER),
        (ORDER_PAGE_BEFORE, ORDER_PAGE_AFTER),
        (STATS_BEFORE, STATS_AFTER),
        (PROFILE_BEFORE, PROFILE_AFTER),
    ] {
        assert_eq!(text.matches(before).count(), 1, "the fixture has {before}");
        text = text.replace(before, after);
    }
    text
}

/// A copy of the fixture in a temporary folder (without any `target/`).
fn copy_fixture() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap();
            if path.is_dir() {
                if name != "target" {
                    copy(&path, &to.join(name));
                }
            } else if name != "Cargo.lock" {
                std::fs::copy(&path, to.join(name)).unwrap();
            }
        }
    }
    let dir = tempfile::tempdir().unwrap();
    copy(&fixtures().join("fix"), dir.path());
    dir
}

fn run(args: &[&str], dir: &Path) -> std::process::Output {
    let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    all.push(dir.to_string_lossy().into_owned());
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    hopcheck(&all)
}

fn lib_rs(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("src/lib.rs")).unwrap()
}

/// Whether cargo's registry cache holds `futures`, so that the fixture builds offline.
fn futures_cached() -> bool {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cargo")));
    let Some(cache) = home.map(|h| h.join("registry/cache")) else {
        return false;
    };
    std::fs::read_dir(cache).into_iter().flatten().any(|index| {
        std::fs::read_dir(index.unwrap().path())
            .into_iter()
            .flatten()
            .any(|f| {
                let name = f.unwrap().file_name().to_string_lossy().into_owned();
                name.starts_with("futures-0.3") && name.ends_with(".crate")
            })
    })
}

/// `cargo check` on the crate in `dir`, building into `dir/target`; offline when the registry cache
/// has `futures`, online otherwise (or when offline resolution fails).
fn cargo_check(dir: &Path) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let attempt = |offline: bool| {
        let mut cmd = Command::new(&cargo);
        cmd.args(["check", "--quiet"])
            .current_dir(dir)
            .env("CARGO_TARGET_DIR", dir.join("target"))
            .env_remove("RUSTFLAGS");
        if offline {
            cmd.arg("--offline");
        }
        cmd.output().expect("cargo runs")
    };
    let mut out = attempt(futures_cached());
    if !out.status.success() && futures_cached() {
        out = attempt(false);
    }
    assert!(
        out.status.success(),
        "cargo check failed in {}:\n{}\n{}",
        dir.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_fixture_reports_exactly_its_marks() {
    let dir = fixtures().join("fix");
    let (_, json) = check_json(&dir, &[]);
    assert_eq!(expected(&dir), actual(&json));
}

#[test]
fn fix_rewrites_the_fixture_once_and_the_crate_still_builds() {
    let dir = copy_fixture();
    let original = lib_rs(dir.path());
    cargo_check(dir.path());

    let out = run(&["fix"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = lib_rs(dir.path());
    assert_eq!(text, expected_fixed(&original));
    // The dependent pair is as it was.
    assert!(
        text.contains(".bind(&email).fetch_one(&state.analytics).await?; //~ sequential-queries")
    );
    let printed = stdout(&out);
    assert!(
        printed.contains("src/lib.rs:20:73: sequential-queries: run the 2 reads at once with `futures::try_join!`"),
        "{printed}"
    );
    assert!(
        printed
            .contains("src/lib.rs:36:10: read-on-primary: read from the replica pool `state.read`"),
        "{printed}"
    );
    assert!(
        printed.contains("fixed 7 findings in 1 file; 3 findings have no automatic fix"),
        "{printed}"
    );

    // A second run finds nothing more to fix.
    let again = run(&["fix"], dir.path());
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stdout(&again).contains("fixed 0 findings in 0 files"),
        "{}",
        stdout(&again)
    );
    assert_eq!(lib_rs(dir.path()), text);

    // What is left: the dependent pair, the read after a write, and the pair whose errors map apart.
    let (_, json) = check_json(dir.path(), &[]);
    let lines: Vec<&str> = text.lines().collect();
    let left: Vec<(String, &str)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let line = d["line"].as_u64().unwrap() as usize;
            (d["lint"].as_str().unwrap().to_string(), lines[line - 1])
        })
        .collect();
    assert_eq!(left.len(), 3, "{left:?}");
    assert!(left.iter().all(|(lint, _)| lint == "sequential-queries"));
    assert!(left[0].1.contains("bind(&email)"), "{left:?}");
    assert!(left[1].1.contains("SELECT name FROM users"), "{left:?}");
    assert!(left[2].1.contains("\"no teams\""), "{left:?}");

    cargo_check(dir.path());
}

#[test]
fn dry_run_writes_nothing_and_lists_the_fixes() {
    let dir = copy_fixture();
    let original = lib_rs(dir.path());
    let out = run(&["fix", "--dry-run"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(lib_rs(dir.path()), original);
    let printed = stdout(&out);
    assert!(printed.contains(
        "src/lib.rs:44:100: sequential-queries: run the 2 reads at once with `futures::try_join!`"
    ));
    // Then why the others have none, grouped, the commonest first.
    assert!(
        printed.ends_with("would fix 7 findings in 1 file; 3 findings have no automatic fix (`hopcheck check` says what to do):
  2 sequential-queries: one read uses another's result, or they are not adjacent, handle errors apart or borrow one value mutably
  1 sequential-queries: not two reads on a pool: a write, a transaction or one connection keeps the order, or a call also writes, cannot be resolved, or fails with another error type
"),
        "{printed}"
    );
    assert_eq!(printed.lines().count(), 7 + 1 + 2, "{printed}");
    // JSON says the same of each finding.
    let (_, json) = check_json(dir.path(), &[]);
    let fixes: Vec<(bool, String)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let fix = &d["fix"];
            let text = fix["title"].as_str().or(fix["reason"].as_str()).unwrap();
            (fix["available"].as_bool().unwrap(), text.to_string())
        })
        .collect();
    assert_eq!(fixes.iter().filter(|(yes, _)| *yes).count(), 7, "{fixes:?}");
    assert!(fixes.contains(&(
        false,
        "one read uses another's result, or they are not adjacent, handle errors apart or borrow one value mutably".into()
    )));
}

#[test]
fn diff_prints_a_patch_that_applies_and_writes_nothing() {
    let dir = copy_fixture();
    let original = lib_rs(dir.path());
    let out = run(&["fix", "--diff"], dir.path());
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(lib_rs(dir.path()), original);
    let diff = stdout(&out);
    assert!(
        diff.starts_with("--- a/src/lib.rs\n+++ b/src/lib.rs\n@@ -16,8 +16,10 @@\n"),
        "{diff}"
    );
    assert!(diff.contains("\n-        .fetch_one(&state.db) //~ read-on-primary\n+        .fetch_one(&state.read) //~ read-on-primary\n"));
    assert!(stderr(&out).contains("would fix 7 findings in 1 file"));
    // `git apply` takes it, and gives what `hopcheck fix` writes.
    std::fs::write(dir.path().join("fix.diff"), &diff).unwrap();
    let applied = Command::new("git")
        .args(["apply", "fix.diff"])
        .current_dir(dir.path())
        .output()
        .expect("git runs");
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    assert_eq!(lib_rs(dir.path()), expected_fixed(&original));
}

#[test]
fn a_file_changed_after_the_analysis_is_left_alone() {
    let dir = copy_fixture();
    let config = hopcheck::config::load(&dir.path().join("hopcheck.toml")).unwrap();
    let analysis = hopcheck::analyze(dir.path(), config.clone());
    let changes = hopcheck::fix::by_file(&analysis, hopcheck::fix::fixes(&analysis));
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].fixes.len(), 7);
    // Someone edits the file between the analysis and the write.
    let edited = format!("{}// edited meanwhile\n", lib_rs(dir.path()));
    std::fs::write(dir.path().join("src/lib.rs"), &edited).unwrap();
    let written = hopcheck::fix::write(&changes[0]);
    assert!(
        matches!(written, Err(hopcheck::fix::WriteError::Changed)),
        "{written:?}"
    );
    assert_eq!(lib_rs(dir.path()), edited);
    // Analysed again, it is fixed.
    let analysis = hopcheck::analyze(dir.path(), config);
    let changes = hopcheck::fix::by_file(&analysis, hopcheck::fix::fixes(&analysis));
    hopcheck::fix::write(&changes[0]).unwrap();
    assert!(lib_rs(dir.path()).ends_with("// edited meanwhile\n"));
    assert!(lib_rs(dir.path()).contains("futures::try_join!("));
}

#[test]
fn usage_errors_exit_with_2() {
    let dir = copy_fixture();
    let both = run(&["fix", "--dry-run", "--diff"], dir.path());
    assert_eq!(both.status.code(), Some(2));
    let missing = hopcheck(&["fix", "no/such/folder"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(stderr(&missing).contains("does not exist"));
}

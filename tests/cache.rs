//! The facts cache: a run that takes files' facts from it reports exactly what a run that parses them
//! does, an edited file is parsed again, and a cache that cannot be written is said, not fatal.

mod common;

use std::path::Path;
use std::process::Command;

use common::{fixtures, root};

/// Runs `hopcheck check --format json` on `path` with the cache in `cache` (none: `--no-cache`), with
/// the stage timings on: (stdout, stderr).
fn run(path: &Path, cache: Option<&Path>) -> (String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hopcheck"));
    cmd.args(["check", "--format", "json"])
        .arg(path)
        .current_dir(root())
        .env("HOPCHECK_TIMINGS", "1")
        .env_remove("HOPCHECK_CACHE_DIR");
    match cache {
        Some(dir) => cmd.arg("--cache-dir").arg(dir),
        None => cmd.arg("--no-cache"),
    };
    let out = cmd.output().expect("the hopcheck binary runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// (files from the cache, files parsed into it), as the timings line says.
fn counts(stderr: &str) -> (usize, usize) {
    let line = stderr
        .lines()
        .find(|l| l.contains("files from the cache"))
        .unwrap_or_else(|| panic!("no cache line in: {stderr}"));
    let numbers: Vec<usize> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

#[test]
fn a_run_from_the_cache_reports_exactly_what_a_fresh_parse_does() {
    let mut folders = vec![fixtures().join("prices"), fixtures().join("fix")];
    for entry in std::fs::read_dir(fixtures().join("projects")).unwrap() {
        folders.push(entry.unwrap().path());
    }
    for folder in folders {
        let cache = tempfile::tempdir().unwrap();
        let (fresh, _) = run(&folder, None);
        let (first, first_err) = run(&folder, Some(cache.path()));
        let (second, second_err) = run(&folder, Some(cache.path()));
        assert_eq!(fresh, first, "{}", folder.display());
        assert_eq!(
            fresh,
            second,
            "{}: the run from the cache differs",
            folder.display()
        );
        let (_, parsed) = counts(&first_err);
        let (used, parsed_again) = counts(&second_err);
        assert!(
            parsed > 0,
            "{}: nothing was parsed: {first_err}",
            folder.display()
        );
        assert_eq!((used, parsed_again), (parsed, 0), "{}", folder.display());
    }
}

#[test]
fn an_edited_file_is_parsed_again_and_priced_as_it_now_is() {
    let dir = tempfile::tempdir().unwrap();
    let cache = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.rs");
    let handler = |queries: usize| {
        let body = "    sqlx::query(\"SELECT 1\").execute(&pool).await.ok();\n".repeat(queries);
        format!(
            "use axum::{{extract::State, routing::get, Router}};\n\
             use sqlx::PgPool;\n\
             async fn show(State(pool): State<PgPool>) {{\n{body}}}\n\
             pub fn app() -> Router<PgPool> {{ Router::new().route(\"/show\", get(show)) }}\n"
        )
    };
    std::fs::write(dir.path().join("other.rs"), "pub async fn unused() {}\n").unwrap();
    let trips = |out: &str| {
        let json: serde_json::Value = serde_json::from_str(out).unwrap();
        json["routes"][0]["round_trips"].as_u64().unwrap()
    };
    std::fs::write(&app, handler(1)).unwrap();
    let (out, _) = run(dir.path(), Some(cache.path()));
    assert_eq!(trips(&out), 1);
    std::fs::write(&app, handler(3)).unwrap();
    let (out, err) = run(dir.path(), Some(cache.path()));
    assert_eq!(trips(&out), 3);
    // The edited file was parsed again; the other came from the cache.
    assert_eq!(counts(&err), (1, 1), "{err}");
    assert_eq!(out, run(dir.path(), None).0);
}

#[test]
fn a_cache_that_cannot_be_written_is_a_note_and_the_run_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the cache folder should be.
    let blocked = dir.path().join("not-a-folder");
    std::fs::write(&blocked, "").unwrap();
    let project = fixtures().join("projects/shop");
    let (out, err) = run(&project, Some(&blocked));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fresh: serde_json::Value = serde_json::from_str(&run(&project, None).0).unwrap();
    assert_eq!(json["routes"], fresh["routes"]);
    assert_eq!(json["diagnostics"], fresh["diagnostics"]);
    let said =
        |text: &str| text.contains("the facts cache") && text.contains("could not be written");
    assert!(said(&err), "{err}");
    // Said in the report too, not only on the terminal.
    assert!(json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| said(n.as_str().unwrap())));
}

#[test]
fn no_cache_writes_nothing_and_the_variable_names_the_folder() {
    let cache = tempfile::tempdir().unwrap();
    let project = fixtures().join("projects/shop");
    let status = Command::new(env!("CARGO_BIN_EXE_hopcheck"))
        .args(["check", "-q", "--no-cache", "--format", "json"])
        .arg(&project)
        .env("HOPCHECK_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    assert!(status.status.code().is_some());
    assert_eq!(std::fs::read_dir(cache.path()).unwrap().count(), 0);
    Command::new(env!("CARGO_BIN_EXE_hopcheck"))
        .args(["check", "-q", "--format", "json"])
        .arg(&project)
        .env("HOPCHECK_CACHE_DIR", cache.path())
        .output()
        .unwrap();
    let names: Vec<String> = std::fs::read_dir(cache.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names
            .iter()
            .any(|n| n.starts_with("facts-") && n.ends_with(".bin")),
        "{names:?}"
    );
    // The analysed folder holds no cache of its own.
    assert!(!project.join(".hopcheck_cache").exists());
}

//! The facts cache: a run that takes files' facts from it reports exactly what a run that parses them
//! does, an edited file is parsed again, and a cache that cannot be written is said, not fatal. And the
//! kept report: a run whose inputs are all unchanged prints the last run's report again, and any change
//! to what the report is made from (a file's bytes, a new file, a manifest, an option) is analysed.

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

/// Deletes the kept reports in the cache folder, so that the next run analyses (from the facts cache).
fn forget_reports(cache: &Path) {
    for entry in std::fs::read_dir(cache).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("run-") {
            std::fs::remove_file(path).unwrap();
        }
    }
}

/// Whether the run analysed the code (its timings name the parse), rather than printing a kept report.
fn analysed(stderr: &str) -> bool {
    stderr.lines().any(|l| l.trim_start().starts_with("parse:"))
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
        forget_reports(cache.path());
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
    assert!(analysed(&err), "{err}");
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

/// Runs `hopcheck check ARGS` in `dir` with the cache in `cache` and the timings on: (stdout, stderr,
/// exit status).
fn check_in(dir: &Path, cache: &Path, args: &[&str]) -> (String, String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_hopcheck"))
        .arg("check")
        .args(args)
        .current_dir(dir)
        .env("HOPCHECK_TIMINGS", "1")
        .env("HOPCHECK_CACHE_DIR", cache)
        .output()
        .expect("the hopcheck binary runs");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code().unwrap_or(-1),
    )
}

/// The lines of stderr a user sees (the stage timings left out).
fn said(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| !l.ends_with(" ms") && !l.starts_with("    "))
        .collect()
}

/// A copy of the `shop` project in a folder of its own.
fn shop_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = fixtures().join("projects/shop");
    for entry in walk(&from) {
        let to = dir.path().join(entry.strip_prefix(&from).unwrap());
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(&entry, &to).unwrap();
    }
    dir
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn an_unchanged_project_prints_the_kept_report_in_every_format() {
    let project = shop_copy();
    let cache = tempfile::tempdir().unwrap();
    for format in ["human", "json", "sarif", "github", "short"] {
        let args = ["--format", format, "--color", "never"];
        let first = check_in(project.path(), cache.path(), &args);
        assert!(analysed(&first.1), "{format}: {}", first.1);
        let second = check_in(project.path(), cache.path(), &args);
        assert!(
            !analysed(&second.1),
            "{format}: analysed again: {}",
            second.1
        );
        assert_eq!(first.0, second.0, "{format}");
        assert_eq!(said(&first.1), said(&second.1), "{format}");
        assert_eq!(first.2, second.2, "{format}");
        assert_eq!(first.2, 1, "{format}: the shop's findings fail the run");
    }
    // A kept report that does not read back is ignored, and the run analyses.
    for entry in std::fs::read_dir(cache.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("run-")
        {
            let mut bytes = std::fs::read(&path).unwrap();
            let last = bytes.len() - 1;
            bytes[last] ^= 1;
            std::fs::write(&path, bytes).unwrap();
        }
    }
    let args = ["--format", "short", "--color", "never"];
    let (out, err, status) = check_in(project.path(), cache.path(), &args);
    assert!(analysed(&err), "{err}");
    let (again, err, _) = check_in(project.path(), cache.path(), &args);
    assert!(!analysed(&err), "{err}");
    assert_eq!((out, status), (again, 1));
    // Another option is another report.
    let (_, err, _) = check_in(
        project.path(),
        cache.path(),
        &["--format", "json", "--fail-on", "never"],
    );
    assert!(analysed(&err), "{err}");
    let (_, err, status) = check_in(
        project.path(),
        cache.path(),
        &["--format", "json", "--fail-on", "never"],
    );
    assert!(!analysed(&err), "{err}");
    assert_eq!(status, 0);
}

#[test]
fn any_change_to_what_the_report_is_made_of_is_analysed() {
    let project = shop_copy();
    let cache = tempfile::tempdir().unwrap();
    let json = ["--format", "json"];
    let run = || check_in(project.path(), cache.path(), &json);
    let fresh = || {
        let out = Command::new(env!("CARGO_BIN_EXE_hopcheck"))
            .args(["check", "--no-cache", "--format", "json"])
            .current_dir(project.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (before, _, _) = run();
    let handlers = walk(project.path())
        .into_iter()
        .find(|p| std::fs::read_to_string(p).unwrap().contains("sqlx::query"))
        .expect("a file with a query");
    // A file's bytes: one more query on a route.
    let text = std::fs::read_to_string(&handlers).unwrap();
    let edited = text.replacen(
        "sqlx::query",
        "sqlx::query(\"SELECT 1\").execute(&state.db).await.ok();\n    sqlx::query",
        1,
    );
    assert_ne!(text, edited);
    std::fs::write(&handlers, &edited).unwrap();
    let (after, err, _) = run();
    assert!(analysed(&err), "an edited file: {err}");
    assert_ne!(before, after);
    assert_eq!(after, fresh());
    // The same bytes again: the kept report of this state.
    let (again, err, _) = run();
    assert!(!analysed(&err), "{err}");
    assert_eq!(again, after);
    // A new file.
    let new = handlers.with_file_name("extra.rs");
    std::fs::write(&new, "pub async fn nothing() {}\n").unwrap();
    let (_, err, _) = run();
    assert!(analysed(&err), "a new file: {err}");
    std::fs::remove_file(&new).unwrap();
    let (_, err, _) = run();
    assert!(analysed(&err), "a deleted file: {err}");
    // A manifest (what a crate depends on decides what is a query).
    let manifest = project.path().join("Cargo.toml");
    let toml = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, format!("{toml}\n# edited\n")).unwrap();
    let (_, err, _) = run();
    assert!(analysed(&err), "an edited manifest: {err}");
    // The configuration.
    let config = project.path().join("hopcheck.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, format!("{text}\n# edited\n")).unwrap();
    let (_, err, _) = run();
    assert!(analysed(&err), "a new configuration: {err}");
}

//! The language server, `hopcheck lsp`, driven by real clients over stdio.
//!
//! - Neovim's built-in client, headless (`tests/lsp/neovim.lua`), on a copy of the shop fixture: the
//!   diagnostics of `src/routes/users.rs` (the same findings as `hopcheck check --format json`), the
//!   code lens, the hovers, the code actions, "allow with a reason" applied and saved, and how long
//!   after typing a new query the diagnostics count it.
//! - pytest-lsp, a strict client that checks every message against the LSP types
//!   (`tests/lsp/test_server.py`): open, a file that does not parse, a configuration error, a burst of
//!   edits, hover/code lens/code action results, shutdown and exit. It is installed on first use into a
//!   virtual environment at `target/py-lsp`; without python3's venv or PyPI the test is skipped with a
//!   message, except in CI, where it fails.
//!
//! Every client runs under a deadline and is killed past it, so a server that hangs fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

const USERS: &str = "src/routes/users.rs";

/// The strict client and what it needs, pinned.
const PY_LSP: &[&str] = &[
    "pytest-lsp==1.0.1",
    "pygls==2.1.1",
    "lsprotocol==2025.0.0",
    "pytest==9.2.0",
    "pytest-asyncio==1.5.0",
];

/// How long Neovim may take for the whole session.
const NVIM_DEADLINE: Duration = Duration::from_secs(60);
/// How long the pytest-lsp cases may take together.
const PYTEST_DEADLINE: Duration = Duration::from_secs(240);
/// The most the diagnostics may lag behind typing in the editor.
const EDIT_TO_DIAGNOSTICS_MS: f64 = 2000.0;

/// A copy of `fixtures/projects/shop` at `dir/shop`, by its canonical path (the server reports
/// canonical paths, and the editor must see the same ones).
fn shop_copy(dir: &Path) -> PathBuf {
    let to = dir.join("shop");
    copy_dir(&common::fixtures().join("projects/shop"), &to);
    to.canonicalize().unwrap()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let path = entry.path();
        if path.is_dir() {
            if entry.file_name() != "target" {
                copy_dir(&path, &to.join(entry.file_name()));
            }
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).unwrap();
        }
    }
}

/// Runs a command with its output in files under `logs`, killing it past `deadline`. Returns its status
/// and output; panics if it had to be killed.
fn run_bounded(
    mut command: Command,
    what: &str,
    logs: &Path,
    deadline: Duration,
) -> (ExitStatus, String) {
    let out_path = logs.join(format!("{what}.out"));
    let err_path = logs.join(format!("{what}.err"));
    let mut child = command
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("{what} could not be started: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = format!(
        "{}{}",
        std::fs::read_to_string(&out_path).unwrap_or_default(),
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    match status {
        Some(status) => (status, output),
        None => panic!(
            "{what} was still running after {deadline:?} and was killed; its output:\n{output}"
        ),
    }
}

// ---------------------------------------------------------------------------------------------------
// Neovim
// ---------------------------------------------------------------------------------------------------

/// The findings of one file in `hopcheck check --format json`, as the editor shows them: (line, column,
/// end line, end column, severity, lint, message), 1-based, with Neovim's severities (1 error, 2 warning).
fn cli_findings(root: &Path, file: &str) -> Vec<(u64, u64, u64, u64, u64, String, String)> {
    let (_, json) = common::check_json(root, &[]);
    let mut out: Vec<_> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["file"] == file && d.get("suppressed").is_none())
        .map(|d| {
            let severity = match d["severity"].as_str().unwrap() {
                "error" => 1,
                "warning" => 2,
                other => panic!("unexpected severity {other}"),
            };
            (
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["end_line"].as_u64().unwrap(),
                d["end_column"].as_u64().unwrap(),
                severity,
                d["lint"].as_str().unwrap().to_string(),
                d["message"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

/// The editor's diagnostics in the same shape; the message keeps only what precedes the help.
fn editor_findings(list: &Value) -> Vec<(u64, u64, u64, u64, u64, String, String)> {
    let mut out: Vec<_> = list
        .as_array()
        .unwrap_or_else(|| panic!("a list of diagnostics: {list}"))
        .iter()
        .map(|d| {
            assert_eq!(d["source"], "hopcheck", "{d}");
            let message = d["message"].as_str().unwrap();
            (
                d["line"].as_u64().unwrap(),
                d["col"].as_u64().unwrap(),
                d["end_line"].as_u64().unwrap(),
                d["end_col"].as_u64().unwrap(),
                d["severity"].as_u64().unwrap(),
                d["code"].as_str().unwrap().to_string(),
                message.split("\nhelp: ").next().unwrap().to_string(),
            )
        })
        .collect();
    out.sort();
    out
}

fn lints_of(list: &Value) -> Vec<String> {
    editor_findings(list).into_iter().map(|f| f.5).collect()
}

#[test]
fn neovim_shows_findings_lens_hover_and_actions_and_follows_edits() {
    if !common::have_program("nvim") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let shop = shop_copy(tmp.path());
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let result_path = tmp.path().join("result.json");
    let expected = cli_findings(&shop, USERS);
    assert_eq!(
        expected.iter().map(|f| f.5.as_str()).collect::<Vec<_>>(),
        ["over-budget", "sequential-queries"],
        "the shop fixture changed: {expected:?}"
    );

    let mut nvim = Command::new("nvim");
    nvim.args(["--headless", "-u", "NONE", "-i", "NONE", "-n", "-c"])
        .arg(format!(
            "luafile {}",
            common::root().join("tests/lsp/neovim.lua").display()
        ))
        .arg(USERS)
        .current_dir(&shop)
        .env("HOPCHECK_BIN", env!("CARGO_BIN_EXE_hopcheck"))
        .env("HOPCHECK_RESULT", &result_path)
        // Neovim's log, state and cache stay in the temporary folder.
        .env("HOME", &home)
        .env("XDG_CONFIG_HOME", &home)
        .env("XDG_DATA_HOME", &home)
        .env("XDG_STATE_HOME", &home)
        .env("XDG_CACHE_HOME", &home);
    let (status, output) = run_bounded(nvim, "nvim", tmp.path(), NVIM_DEADLINE);
    let text = std::fs::read_to_string(&result_path).unwrap_or_else(|e| {
        panic!("Neovim wrote no result ({e}); status {status}, output:\n{output}")
    });
    let r: Value = serde_json::from_str(&text).unwrap();
    if let Some(error) = r.get("error") {
        panic!("the Neovim session failed: {}\nsteps done: {}\nresult: {r:#}\nNeovim's output:\n{output}", error.as_str().unwrap_or(""), r["steps"]);
    }
    assert!(status.success(), "nvim exited with {status}:\n{output}");

    // 1. The diagnostics on open are the command line's findings for the file.
    assert_eq!(
        editor_findings(&r["diagnostics"]),
        expected,
        "diagnostics in Neovim vs `hopcheck check --format json`"
    );
    let fn_line = expected[0].0;

    // 2. One lens, on the handler.
    assert_eq!(
        r["lenses"],
        serde_json::json!([{
            "line": fn_line,
            "title": "3 round trips · ≈ 557 ms from us-east-1 (over) · ≈ 6 ms from eu-central-1 · budget 500 ms",
        }])
    );

    // 3. The hover on the handler's `fn` line: its route, its round trips in order, the estimate.
    let hover = r["hover_handler"].as_str().expect("a hover on the handler");
    assert!(hover.contains("**routes::users::user_profile**"), "{hover}");
    assert!(
        hover.contains("`GET /users/{id}`: 3 round trips · ≈ 557 ms from us-east-1 (over)"),
        "{hover}"
    );
    let order: Vec<&str> = hover
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .map(|l| l.rsplit_once('(').unwrap().1.trim_end_matches(')'))
        .collect();
    assert_eq!(
        order,
        ["src/db.rs:15", "src/db.rs:21", "src/db.rs:26"],
        "{hover}"
    );

    // 4. The actions for the over-budget finding: "allow with a reason" (and any safe fix, which would
    // be preferred; the route-level finding has none).
    assert_eq!(
        r["actions"],
        serde_json::json!([{
            "title": "Allow `over-budget` here, with a reason",
            "kind": "quickfix",
            "codes": ["over-budget"],
        }])
    );

    // 5. Applied and saved: the comment is on disk above the handler, and the finding is gone while
    // the other one stays (a line lower).
    let on_disk = std::fs::read_to_string(shop.join(USERS)).unwrap();
    let lines: Vec<&str> = on_disk.lines().collect();
    assert_eq!(
        lines[fn_line as usize - 1],
        "// hopcheck: allow(over-budget) the admin report is slow on purpose"
    );
    assert!(lines[fn_line as usize].starts_with("async fn user_profile("));
    let after_allow = editor_findings(&r["diagnostics_after_allow"]);
    let sequential = &expected[1];
    assert_eq!(
        after_allow,
        [(
            sequential.0 + 1,
            sequential.1,
            sequential.2 + 1,
            sequential.3,
            sequential.4,
            sequential.5.clone(),
            sequential.6.clone()
        )]
    );
    let (_, json) = common::check_json(&shop, &[]);
    assert!(
        json["diagnostics"].as_array().unwrap().iter().any(|d| {
            d["lint"] == "over-budget" && d["file"] == USERS && d.get("suppressed").is_some()
        }),
        "the command line also sees the finding as allowed: {json:#}"
    );

    // 6. After typing a query into the handler, the diagnostics count it, soon enough.
    assert_eq!(
        lints_of(&r["diagnostics_after_edit"]),
        ["sequential-queries"]
    );
    let message = r["diagnostics_after_edit"][0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("4 sequential round trips to eu-central-1"),
        "{message}"
    );
    let ms = r["edit_to_diagnostics_ms"]
        .as_f64()
        .expect("a measured time");
    println!(
        "neovim: edit to updated diagnostics in {ms:.0} ms (Neovim's 150 ms debounce included)"
    );
    assert!(
        ms < EDIT_TO_DIAGNOSTICS_MS,
        "the diagnostics took {ms:.0} ms to follow an edit"
    );
    let trip = r["hover_trip"]
        .as_str()
        .expect("a hover on the new round trip");
    assert!(
        trip.starts_with("**round trip** `sqlx::query_scalar(…).fetch_one`"),
        "{trip}"
    );
    assert!(trip.contains("main (primary): eu-central-1"), "{trip}");
    assert!(trip.contains("SELECT count(*) FROM orders"), "{trip}");

    // 7. Shutdown and exit as Neovim does them: status 0.
    assert_eq!(
        r["server_exit"],
        serde_json::json!({"code": 0, "signal": 0})
    );
}

// ---------------------------------------------------------------------------------------------------
// pytest-lsp
// ---------------------------------------------------------------------------------------------------

/// Python packages installed once into a virtual environment at `target/py-lsp`; returns its `python`.
/// Panics with pip's output if they cannot be installed.
fn py_lsp() -> PathBuf {
    let venv = common::root().join("target/py-lsp");
    let python = venv.join("bin/python");
    let marker = venv.join("hopcheck-requirements.txt");
    let wanted = PY_LSP.join("\n") + "\n";
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return python;
    }
    if !python.is_file() {
        let out = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .output()
            .unwrap_or_else(|e| panic!("python3 is needed to install pytest-lsp: {e}"));
        assert!(
            out.status.success(),
            "python3 -m venv {} failed (Debian's python3 needs the python3-venv package):\n{}{}",
            venv.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PY_LSP)
        .output()
        .unwrap_or_else(|e| panic!("pip of {} runs: {e}", venv.display()));
    assert!(
        out.status.success(),
        "pip install {} failed:\n{}{}",
        PY_LSP.join(" "),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&marker, wanted).expect("the marker file can be written");
    python
}

#[test]
fn a_strict_client_passes_the_protocol_cases() {
    if !common::have_python_tools(&common::root().join("target/py-lsp")) {
        return;
    }
    let python = py_lsp();
    let tmp = tempfile::tempdir().unwrap();
    let shop = shop_copy(tmp.path());
    let file = common::root().join("tests/lsp/test_server.py");
    let cases = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("async def test_"))
        .count();
    assert!(cases >= 7, "tests/lsp/test_server.py has {cases} cases");

    let mut pytest = Command::new(&python);
    pytest
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .args(["-o", "asyncio_default_fixture_loop_scope=function"])
        .arg("--basetemp")
        .arg(tmp.path().join("pytest"))
        .arg(&file)
        .current_dir(common::root())
        .env("HOPCHECK_BIN", env!("CARGO_BIN_EXE_hopcheck"))
        .env("HOPCHECK_SHOP", &shop)
        .env("HOPCHECK_FIX", common::fixtures().join("fix"))
        .env("PYTHONDONTWRITEBYTECODE", "1");
    let (status, output) = run_bounded(pytest, "pytest", tmp.path(), PYTEST_DEADLINE);
    println!("{output}");
    assert!(
        status.success(),
        "pytest-lsp cases failed ({status}):\n{output}"
    );
    // Every case ran and passed: none skipped or deselected.
    let last = output
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("");
    assert!(
        last.starts_with(&format!("{cases} passed"))
            && ["failed", "skipped", "error", "deselected", "xfail"]
                .iter()
                .all(|w| !last.contains(w)),
        "expected {cases} passed, got: {last}"
    );
}

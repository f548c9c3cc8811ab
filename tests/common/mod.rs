//! Helpers shared by the integration tests: run the real binary, read fixtures' inline marks.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixtures() -> PathBuf {
    root().join("fixtures")
}

/// Runs `hopcheck` with `args` in the crate's folder (its facts cache under `target/`, not the user's).
pub fn hopcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hopcheck"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .env(
            "HOPCHECK_CACHE_DIR",
            root().join("target/hopcheck-test-cache"),
        )
        .output()
        .expect("the hopcheck binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `hopcheck check --format json PATH` → (exit status, parsed output).
pub fn check_json(path: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let p = path.to_string_lossy().into_owned();
    let mut args = vec!["check", "--format", "json", &p];
    args.extend_from_slice(extra);
    let out = hopcheck(&args);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "json output for {p}: {e}\nstdout: {}\nstderr: {}",
            stdout(&out),
            stderr(&out)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

/// The inline marks of a file: `//~ lint-a lint-b` at the end of a line expects those lints on that line.
pub fn marks(text: &str) -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some((_, rest)) = line.split_once("//~") else {
            continue;
        };
        // Up to the next mark on the line (`//~ sequential-queries //= 2`).
        for lint in rest
            .split("//")
            .next()
            .unwrap_or_default()
            .split_whitespace()
        {
            out.push((i as u32 + 1, lint.to_string()));
        }
    }
    out
}

/// (file, line) → lints, from the marks of every `.rs` file under `dir` (or `dir` itself).
pub fn expected(path: &Path) -> BTreeMap<(String, u32), Vec<String>> {
    let mut out: BTreeMap<(String, u32), Vec<String>> = BTreeMap::new();
    let files: Vec<PathBuf> = if path.is_file() {
        vec![path.to_path_buf()]
    } else {
        walk(path)
    };
    for f in files {
        let rel = if path.is_file() {
            f.file_name().unwrap().to_string_lossy().into_owned()
        } else {
            f.strip_prefix(path)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        };
        let text = std::fs::read_to_string(&f).unwrap();
        for (line, lint) in marks(&text) {
            out.entry((rel.clone(), line)).or_default().push(lint);
        }
    }
    // A project's `hopcheck.toml` marks findings about its own entries with `#~ lint`.
    let config = path.join("hopcheck.toml");
    if path.is_dir() && config.is_file() {
        let text = std::fs::read_to_string(&config).unwrap();
        for (line, lint) in marks(&text.replace("#~", "//~")) {
            out.entry(("hopcheck.toml".into(), line))
                .or_default()
                .push(lint);
        }
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

/// (file, line) → lints, from the JSON output.
pub fn actual(json: &serde_json::Value) -> BTreeMap<(String, u32), Vec<String>> {
    let mut out: BTreeMap<(String, u32), Vec<String>> = BTreeMap::new();
    // Suppressed findings are not reported to the user (the JSON keeps them, marked).
    let reported = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d.get("suppressed").is_none());
    for d in reported {
        let key = (
            d["file"].as_str().unwrap().to_string(),
            d["line"].as_u64().unwrap() as u32,
        );
        out.entry(key)
            .or_default()
            .push(d["lint"].as_str().unwrap().to_string());
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

pub fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            if p.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            out.extend(walk(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The lint of every diagnostic in a JSON report, in report order.
pub fn lints(json: &serde_json::Value) -> Vec<&str> {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["lint"].as_str().unwrap())
        .collect()
}

/// An npm package installed once into `target/npm-tools/<name>` (the npm registry is reachable from
/// every machine that runs the tests), returning that folder. Panics with npm's output if it cannot be
/// installed: the tests that use a real validator must not pass without it.
pub fn npm_package(package: &str, version: &str) -> PathBuf {
    let (dir, marker) = npm_place(package, version);
    if marker.is_file() {
        return dir;
    }
    std::fs::create_dir_all(&dir).expect("target/npm-tools can be created");
    let out = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(&dir)
        .arg(format!("{package}@{version}"))
        .output()
        .unwrap_or_else(|e| panic!("npm is needed to install {package}: {e}"));
    assert!(
        out.status.success() && marker.is_file(),
        "npm install {package}@{version} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    dir
}

/// Every line of the `.rs` files under `dir` holding `marker`, as (file, line, the text after it).
fn marked(dir: &Path, marker: &str) -> Vec<(String, u32, String)> {
    let mut out = Vec::new();
    for f in walk(dir) {
        let rel = f
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&f).unwrap();
        for (i, line) in text.lines().enumerate() {
            // A mark runs to the next one on the line (`//= 2 //~ sequential-queries`).
            if let Some((_, rest)) = line.split_once(marker) {
                let own = rest.split("//").next().unwrap_or_default();
                out.push((rel.clone(), i as u32 + 1, own.trim().to_string()));
            }
        }
    }
    out
}

/// The round-trip marks of every `.rs` file under `dir`: `//= N` at the end of a handler's `fn` line
/// expects the route (or unrouted handler) declared there to cost N round trips on its worst path;
/// `//= N, miss M` expects M when its cached lookups miss.
pub fn trip_marks(dir: &Path) -> BTreeMap<(String, u32), String> {
    marked(dir, "//=")
        .into_iter()
        .map(|(rel, line, mark)| {
            let (n, miss) = match mark.split_once(", miss ") {
                Some((n, m)) => (n, Some(m)),
                None => (mark.as_str(), None),
            };
            let bad = || panic!("{rel}:{line}: bad `//=` mark");
            let n: u32 = n.parse().unwrap_or_else(|_| bad());
            let text = match miss {
                Some(m) => format!("{n}, miss {}", m.parse::<u32>().unwrap_or_else(|_| bad())),
                None => n.to_string(),
            };
            ((rel, line), text)
        })
        .collect()
}

/// (file, line of the handler) → round trips, for every route and unrouted handler in a JSON report,
/// spelled as [`trip_marks`] spells them: `1`, or `1, miss 3` where its cached lookups' miss costs more.
pub fn route_trips(json: &serde_json::Value) -> BTreeMap<(String, u32), String> {
    let mut out = BTreeMap::new();
    for r in json["routes"].as_array().unwrap() {
        let key = (
            r["file"].as_str().unwrap().to_string(),
            r["line"].as_u64().unwrap() as u32,
        );
        let mut text = r["round_trips"].as_u64().unwrap().to_string();
        if let Some(miss) = r.get("cache").filter(|c| c["case"] == "miss") {
            text.push_str(&format!(", miss {}", miss["round_trips"]));
        }
        out.insert(key, text);
    }
    out
}

/// The `//? unresolved` marks of every `.rs` file under `dir`: (file, line) of each call expected to be
/// reported as unresolved.
pub fn unresolved_marks(dir: &Path) -> std::collections::BTreeSet<(String, u32)> {
    marked(dir, "//? unresolved")
        .into_iter()
        .map(|(rel, line, _)| (rel, line))
        .collect()
}

/// (file, line) of every unresolved call the JSON report lists on some route.
pub fn unresolved_calls(json: &serde_json::Value) -> std::collections::BTreeSet<(String, u32)> {
    json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["unresolved"].as_array().unwrap().iter())
        .map(|u| {
            (
                u["file"].as_str().unwrap().to_string(),
                u["line"].as_u64().unwrap() as u32,
            )
        })
        .collect()
}

/// A test that needs something this machine may not have: false (after saying what is skipped and
/// why) when it is missing. Where `CI` is set, as `.ci/run` sets it after installing everything, a
/// missing tool is a failure instead.
pub fn skip(why: &str) -> bool {
    assert!(
        std::env::var_os("CI").is_none(),
        "{why}: CI installs it (.ci/run), so it must be there"
    );
    eprintln!("skipped: {why}");
    false
}

/// Is `program` on PATH? Skips (see [`skip`]) when not.
pub fn have_program(program: &str) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()));
    found || skip(&format!("`{program}` is not installed"))
}

/// Can packages be installed from `host` (a package registry)? Only asked when they are not installed
/// yet (`installed`: a file the install leaves).
pub fn can_install(installed: &Path, host: &str) -> bool {
    use std::net::ToSocketAddrs;
    if installed.exists() {
        return true;
    }
    let reachable = (host, 443).to_socket_addrs().is_ok_and(|mut addrs| {
        addrs.any(|a| {
            std::net::TcpStream::connect_timeout(&a, std::time::Duration::from_secs(3)).is_ok()
        })
    });
    reachable || skip(&format!("{host} cannot be reached to install a test tool"))
}

/// Python 3 with `venv` (Debian's python3-venv), and PyPI unless the tools at `venv` are installed.
pub fn have_python_tools(venv: &Path) -> bool {
    if !have_program("python3") {
        return false;
    }
    let with_venv = Command::new("python3")
        .args(["-c", "import venv, ensurepip"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !with_venv && !venv.join("bin/python").is_file() {
        return skip("python3 has no venv module (Debian: python3-venv)");
    }
    can_install(&venv.join("hopcheck-requirements.txt"), "pypi.org")
}

/// npm, and its registry unless `package` is installed already (see [`npm_package`]).
pub fn have_npm_package(package: &str, version: &str) -> bool {
    let (_, marker) = npm_place(package, version);
    have_program("npm") && can_install(&marker, "registry.npmjs.org")
}

/// Where [`npm_package`] installs a package, and the file that says it is installed.
fn npm_place(package: &str, version: &str) -> (PathBuf, PathBuf) {
    let name = package.trim_start_matches('@').replace('/', "-");
    let dir = root()
        .join("target/npm-tools")
        .join(format!("{name}-{version}"));
    let marker = dir.join("node_modules").join(package).join("package.json");
    (dir, marker)
}

/// Twelve routes, each with a run of n + 1 reads (over its budget too): 24 findings.
pub fn twelve_routes() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let mut src = String::from("pub fn app() -> Router {\n    Router::new()");
    for n in 0..12 {
        src.push_str(&format!(".route(\"/r{n}\", get(h{n}))"));
    }
    src.push_str("\n}\n");
    for n in 0..12 {
        src.push_str(&format!("async fn h{n}(State(db): State<PgPool>) {{\n"));
        for k in 0..=n + 1 {
            src.push_str(&format!(
                "    sqlx::query(\"SELECT {k}\").fetch_one(&db).await;\n"
            ));
        }
        src.push_str("}\n");
    }
    std::fs::write(dir.path().join("app.rs"), src).unwrap();
    dir
}

/// Each route of a JSON report as (path, handler), `-` for what it lacks.
pub fn paths_and_handlers(json: &serde_json::Value) -> Vec<(String, String)> {
    json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let s = |k: &str| r[k].as_str().unwrap_or("-").to_string();
            (s("path"), s("handler"))
        })
        .collect()
}

/// The routes a report lists as `METHOD path`, sorted: those whose file ends with `file` (all for ""),
/// without the handlers whose route was not found.
pub fn route_names(json: &serde_json::Value, file: &str) -> Vec<String> {
    let mut names: Vec<String> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| !r["method"].is_null())
        .filter(|r| r["file"].as_str().unwrap_or_default().ends_with(file))
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["path"].as_str().unwrap()
            )
        })
        .collect();
    names.sort();
    names
}

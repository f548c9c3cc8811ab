//! Every fixture is analysed by the real binary, and its diagnostics must be exactly the inline marks.

mod common;

use common::*;

/// One-case-per-function snippets: one file per lint in `fixtures/` (in `fixtures/replicas/` for the lints
/// about replicas, with a topology that has one), one per library in `fixtures/libraries/`.
fn snippet_files() -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = [
        fixtures(),
        fixtures().join("libraries"),
        fixtures().join("replicas"),
    ]
    .iter()
    .flat_map(|dir| std::fs::read_dir(dir).unwrap())
    .map(|e| e.unwrap().path())
    .filter(|p| p.extension().is_some_and(|x| x == "rs"))
    .collect();
    files.sort();
    files
}

fn project_dirs() -> Vec<std::path::PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(fixtures().join("projects"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn snippets_report_exactly_their_marks() {
    let files = snippet_files();
    assert!(files.len() >= 4, "snippet fixtures are missing");
    let mut failures = Vec::new();
    for file in files {
        let (_, json) = check_json(&file, &[]);
        let (want, got) = (expected(&file), actual(&json));
        if want != got {
            failures.push(format!(
                "{}:\n  expected {want:?}\n  reported {got:?}",
                file.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn projects_report_exactly_their_marks() {
    let dirs = project_dirs();
    assert!(!dirs.is_empty());
    for dir in dirs {
        assert!(
            dir.join("hopcheck.toml").is_file(),
            "{} needs a hopcheck.toml",
            dir.display()
        );
        let (_, json) = check_json(&dir, &[]);
        assert_eq!(expected(&dir), actual(&json), "{}", dir.display());
    }
}

#[test]
fn snippets_hold_positive_and_negative_cases() {
    for file in snippet_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        assert!(text.contains("fn bad_"), "{name}: no bad_ case");
        assert!(!marks(&text).is_empty(), "{name}: no marks");
        if name != "parse_error" {
            assert!(text.contains("fn good_"), "{name}: no good_ case");
        }
    }
}

#[test]
fn messages_are_lowercase_without_a_final_period() {
    let mut paths = snippet_files();
    paths.extend(project_dirs());
    for path in paths {
        let (_, json) = check_json(&path, &[]);
        for d in json["diagnostics"].as_array().unwrap() {
            for key in ["message", "help", "label"] {
                let text = d[key].as_str().unwrap();
                assert!(!text.is_empty(), "empty {key} in {d}");
                assert!(
                    !text.starts_with(|c: char| c.is_uppercase()),
                    "{key} starts uppercase: {text}"
                );
                assert!(!text.ends_with('.'), "{key} ends with a period: {text}");
            }
        }
    }
}

#[test]
fn a_file_that_does_not_parse_leaves_the_rest_analysed() {
    let (_, json) = check_json(&fixtures(), &[]);
    let lints = lints(&json);
    assert!(lints.contains(&"parse-error"));
    assert!(lints.contains(&"query-in-loop"));
    assert!(lints.contains(&"sequential-queries"));
}

#[test]
fn every_lint_has_a_doc_a_fixture_and_a_readme_row() {
    let out = hopcheck(&["lints"]);
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let names: Vec<String> = stdout(&out)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(String::from)
        .collect();
    assert!(names.len() >= 4);
    for name in names {
        assert!(
            root().join(format!("lints/{name}.md")).is_file(),
            "lints/{name}.md"
        );
        let file = format!("{}.rs", name.replace('-', "_"));
        // A lint about hopcheck.toml has a project of its own, marked in its configuration.
        let project = fixtures().join(name.replace('-', "_"));
        let marked = if project.join("hopcheck.toml").is_file() {
            expected(&project)
                .iter()
                .any(|((f, _), lints)| f == "hopcheck.toml" && lints.contains(&name))
        } else {
            let fixture = [fixtures(), fixtures().join("replicas")]
                .iter()
                .map(|d| d.join(&file))
                .find(|p| p.is_file())
                .unwrap_or_else(|| panic!("no fixtures/{file} or fixtures/replicas/{file}"));
            let text = std::fs::read_to_string(&fixture).unwrap();
            marks(&text).iter().any(|(_, l)| *l == name)
        };
        assert!(marked, "no fixture marks `{name}`");
        assert!(
            readme.contains(&format!("| [`{name}`](lints/{name}.md) |")),
            "README row for {name}"
        );
    }
}

/// `fixtures/prices/` holds the shapes real services were priced wrongly on, one handler each: every
/// handler's worst-path round trips must be its `//= N` mark, and its findings exactly its `//~` marks.
#[test]
fn prices_are_exactly_their_marks() {
    let dir = fixtures().join("prices");
    let (_, json) = check_json(&dir, &[]);
    let want = trip_marks(&dir);
    assert!(want.len() >= 17, "the price reproductions are missing");
    let got = route_trips(&json);
    let wrong: Vec<String> = want
        .iter()
        .filter(|(k, n)| got.get(*k) != Some(*n))
        .map(|((file, line), n)| {
            let found = got.get(&(file.clone(), *line));
            format!("{file}:{line}: expected {n} round trips, found {found:?}")
        })
        .chain(
            got.keys()
                .filter(|k| !want.contains_key(*k))
                .map(|(file, line)| format!("{file}:{line}: a route without a `//=` mark")),
        )
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    assert_eq!(expected(&dir), actual(&json));
    // Calls that cannot be resolved are listed on their routes, exactly those marked `//? unresolved`.
    assert_eq!(unresolved_marks(&dir), unresolved_calls(&json));
    // Every route's `trips` lists its worst path's round trips, as many as it counts (where none run
    // at once).
    for r in json["routes"].as_array().unwrap() {
        let trips = r["trips"].as_array().unwrap();
        if trips.iter().any(|t| t.get("group").is_some()) {
            continue;
        }
        let listed: u64 = r["trips"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["times"].as_u64().unwrap())
            .sum();
        assert_eq!(listed, r["round_trips"].as_u64().unwrap(), "{r}");
    }
}

/// warp's filter chains serve where their path and method filters say, under the prefix of the filter
/// they are combined after; a filter of the service's own that serves nothing (`with_pool(pool)`) is no
/// route.
#[test]
fn warp_filters_serve_where_they_say() {
    let (_, json) = check_json(&fixtures().join("prices"), &[]);
    let served = route_names(&json, "filters.rs");
    assert_eq!(
        served,
        ["GET /api/checks/{i64}", "GET /version", "POST /api/checks"]
    );
}

/// A closure that a callee calls in a loop of its own is an N+1 at the call, and the finding says whose
/// loop it is and how many times it runs.
#[test]
fn a_closure_called_in_a_callees_loop_names_that_callee() {
    let dir = fixtures().join("prices");
    let (_, json) = check_json(&dir, &[]);
    let labels: Vec<(u64, String)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["lint"] == "query-in-loop" && d["file"] == "src/handed.rs")
        .map(|d| {
            let related = d["related"][0]["message"].as_str().unwrap().to_string();
            (d["line"].as_u64().unwrap(), related)
        })
        .collect();
    assert_eq!(
        labels,
        [
            (
                156,
                "`each_word` calls the closure in a loop, which is assumed to run 10 times (`assume.loop-iterations`)".to_string()
            ),
            (
                173,
                "`free_name` calls the closure in a loop, which runs 5 times".to_string()
            ),
        ]
    );
}

/// A router built in blocks (`let router = { ..; router.nest("/api", ..) };`, one per feature), in the arms
/// of an `if`, or afresh in each arm, keeps every block's routes with their prefixes.
#[test]
fn routers_built_in_blocks_keep_their_prefixes() {
    let (_, json) = check_json(&fixtures().join("prices"), &[]);
    let routes: Vec<(String, String)> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["path"].as_str().unwrap().to_string(),
                r["handler"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (path, handler) in [
        ("/api/v1/notes", "notes"),
        // `format!("/{API_VERSION}")`, a constant segment.
        ("/v2/notes/all", "notes"),
        // `.route(&format!("{}/realms/{{realm}}/notes", ROOT_PATH), get(notes).delete(home))`.
        ("/auth/realms/{realm}/notes", "notes"),
        ("/auth/realms/{realm}/notes", "home"),
        ("/graphql/explorer", "home"),
        // A router an `if`/`else` builds, held in a local and nested; an app built afresh in each arm.
        ("/secure/archive/files", "files"),
        ("/open/notes", "notes"),
        ("/motd", "home"),
        // Grown in a loop by a `match` over resources; paths named by route types (`Login::route()`,
        // `Healthcheck::route()` through a blanket implementation and an associated constant).
        ("/resources/health", "health"),
        ("/resources/login", "login"),
        // Method routers held in locals (`let purge_route = post(purge_notes).layer(..);` under one
        // `#[cfg]`, without the layer under the other) before `.route(..)` mounts them.
        ("/notes/purge", "purge_notes"),
        ("/notes/all", "notes"),
    ] {
        assert!(
            routes.contains(&(path.to_string(), handler.to_string())),
            "{path} ({handler}) missing from {routes:?}"
        );
    }
}

/// `.typed_get(handler)` (axum-extra) serves the handler at the path of the `#[typed_path]` struct its
/// first parameter takes (the one its module imports, where two modules declare the same name), under
/// the prefix the router is nested in.
#[test]
fn typed_routes_are_served_at_their_structs_paths() {
    let (_, json) = check_json(&fixtures().join("prices"), &[]);
    let routes: Vec<(String, String, String)> = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["file"].as_str().unwrap().ends_with("typed_routes.rs"))
        .map(|r| {
            (
                r["method"].as_str().unwrap().to_string(),
                r["path"].as_str().unwrap().to_string(),
                r["handler_path"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let want = [
        (
            "GET",
            "/app/teams/{team_id}/history",
            "typed_routes::history::loader",
        ),
        (
            "GET",
            "/app/teams/{team_id}/models",
            "typed_routes::models::loader",
        ),
        (
            "POST",
            "/app/teams/{team_id}/models/delete/{id}",
            "typed_routes::models::delete",
        ),
    ];
    let mut got = routes.clone();
    got.sort();
    let want: Vec<(String, String, String)> = want
        .iter()
        .map(|(m, p, h)| (m.to_string(), p.to_string(), h.to_string()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(json["coverage"]["unrouted"], serde_json::json!([]));
}

/// Routes with calls hopcheck could not resolve are counted in the coverage and said in the notes, which
/// every format prints: their price may be low.
#[test]
fn routes_with_unresolved_calls_are_said_in_every_format() {
    let dir = fixtures().join("prices");
    let (_, json) = check_json(&dir, &[]);
    let n = json["coverage"]["routes_with_unresolved"].as_u64().unwrap();
    assert!(n >= 1, "{}", json["coverage"]);
    let said = format!("{n} route");
    assert!(
        json["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().starts_with(&said)
                && t.as_str().unwrap().contains("could not resolve")),
        "{}",
        json["notes"]
    );
    for format in ["human", "markdown", "github"] {
        let out = hopcheck(&["check", "-q", "--format", format, dir.to_str().unwrap()]);
        assert!(
            stdout(&out).contains("could not resolve"),
            "{format}: {}",
            stdout(&out)
        );
    }
}

/// cornucopia's generated calls read or write as the named query of their `.sql` file says; a
/// statement held in a local names none, so it stays unknown (priced on the primary, shown as a write).
#[test]
fn generated_queries_read_or_write_as_their_sql_says() {
    let (_, json) = check_json(&fixtures().join("prices"), &[]);
    let kinds = |path: &str| -> Vec<(u64, String)> {
        json["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"] == path)
            .unwrap_or_else(|| panic!("{path}"))["trips"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["line"].as_u64().unwrap(),
                    t["kind"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    assert_eq!(kinds("/models"), [(19, "read".into()), (24, "read".into())]);
    assert_eq!(
        kinds("/models/{id}"),
        [(36, "write".into()), (40, "write".into())]
    );
    // The .sql files are read, not counted as analysed Rust.
    let rust = walk(&fixtures().join("prices")).len() as u64;
    assert_eq!(json["coverage"]["files"], rust);
}

/// Entries of hopcheck.toml that match nothing fail the run, pointing into the file; those that match
/// apply: the warm-up the configuration says costs nothing is not priced, though the project defines it.
#[test]
fn unused_config_entries_fail_the_run_and_used_ones_apply() {
    let dir = fixtures().join("unused_config");
    let (code, json) = check_json(&dir, &[]);
    assert_eq!(code, 1, "{json}");
    let users = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["path"] == "/users/{id}")
        .expect("the route");
    assert_eq!(users["round_trips"], 1, "{users}");
    let human = hopcheck(&["check", "-q", dir.to_str().unwrap()]);
    let text = stdout(&human);
    assert!(
        text.contains("hopcheck.toml:9:1") && text.contains("\"state.dbb\" = \"main\""),
        "{text}"
    );
}

/// Without `[build]`, hopcheck cannot know which `#[cfg(..)]` arm is compiled in: it prices the
/// costliest and says so; with it, only the deployed build's arm counts (the fixture's own config).
#[test]
fn cfg_alternatives_are_priced_by_the_deployed_build_or_said_to_be_assumed() {
    let dir = fixtures().join("prices");
    let price = |json: &serde_json::Value, path: &str| {
        json["routes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"] == path)
            .map(|r| r["round_trips"].as_u64().unwrap())
    };
    let adopt = |json: &serde_json::Value| price(json, "/adopt");
    let cfg_note = |json: &serde_json::Value| {
        json["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("`#[cfg(..)]` alternatives"))
    };
    let (_, built) = check_json(&dir, &[]);
    assert_eq!(adopt(&built), Some(1));
    assert!(!cfg_note(&built), "{}", built["notes"]);

    let config = std::fs::read_to_string(dir.join("hopcheck.toml")).unwrap();
    let unsaid = config.split("\n# The deployed build").next().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("hopcheck.toml");
    std::fs::write(&path, unsaid).unwrap();
    let (_, assumed) = check_json(&dir, &["--config", path.to_str().unwrap()]);
    // The MySQL arm's two statements and the audit insert.
    assert_eq!(adopt(&assumed), Some(3));
    assert!(cfg_note(&assumed), "{}", assumed["notes"]);
    // A function, and an `impl` block, written once per build: the costliest, not the first written.
    assert_eq!(price(&built, "/books/close"), Some(1));
    assert_eq!(price(&assumed, "/books/close"), Some(3));
    assert_eq!(price(&built, "/books/reopen"), Some(1));
    assert_eq!(price(&assumed, "/books/reopen"), Some(2));

    // A feature that turns on others (`hosted = ["postgres", "audit"]`), as cargo reads it.
    std::fs::write(
        &path,
        format!("{unsaid}\n[build]\nfeatures = [\"hosted\"]\n"),
    )
    .unwrap();
    let (_, hosted) = check_json(&dir, &["--config", path.to_str().unwrap()]);
    assert_eq!(adopt(&hosted), Some(2));
    assert!(!cfg_note(&hosted), "{}", hosted["notes"]);
}

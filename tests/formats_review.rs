//! The review formats: `--format github` (annotations and the job summary) and `--format markdown` (the
//! pull-request comment), on the sample shop. The binary runs without the GitHub Actions variables, so
//! that no link or path of the machine that runs the tests ends up in a snapshot.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::*;
use hopcheck::report::markdown::{self, Links};
use hopcheck::report::Format;

const SHOP: &str = "fixtures/projects/shop";

/// The variables a GitHub Actions runner sets that change what the review formats write.
const GITHUB_VARS: &[&str] = &[
    "GITHUB_ACTIONS",
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_SHA",
    "GITHUB_STEP_SUMMARY",
    "CI_PROJECT_URL",
    "CI_COMMIT_SHA",
];

/// `hopcheck ARGS` in the crate's folder, without the GitHub Actions variables, plus `env`.
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hopcheck"));
    cmd.args(args).current_dir(root()).env("NO_COLOR", "1");
    for var in GITHUB_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the hopcheck binary runs")
}

/// Nothing machine-specific: no absolute path of the checkout, no link.
fn assert_portable(text: &str) {
    let here = root().to_string_lossy().into_owned();
    assert!(!text.contains(&here), "an absolute path in:\n{text}");
    assert!(
        !text.contains("http://") && !text.contains("https://"),
        "a link in:\n{text}"
    );
}

fn shop_json() -> serde_json::Value {
    let (_, json) = check_json(Path::new(SHOP), &[]);
    json
}

fn route_name(r: &serde_json::Value) -> String {
    format!(
        "{} {}",
        r["method"].as_str().unwrap(),
        r["path"].as_str().unwrap()
    )
}

/// The cells of a Markdown table row (escaped pipes are left inside their cell).
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut prev = ' ';
    for ch in inner.chars() {
        if ch == '|' && prev != '\\' {
            out.push(String::new());
        } else {
            out.last_mut().unwrap().push(ch);
        }
        prev = ch;
    }
    out.iter().map(|c| c.trim().to_string()).collect()
}

/// `≈ 279 ms` → 279.
fn ms(cell: &str) -> f64 {
    cell.trim_start_matches('≈')
        .trim()
        .trim_end_matches("ms")
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a cost: {cell:?}"))
}

#[test]
fn github_annotations_on_the_shop() {
    let out = run(&["check", "--format", "github", SHOP], &[]);
    assert_eq!(out.status.code(), Some(1), "a route is over budget");
    let text = stdout(&out);
    assert_portable(&text);
    insta::assert_snapshot!("shop_github", text);
}

#[test]
fn every_annotation_matches_a_finding_of_the_json_output() {
    let json = shop_json();
    let text = stdout(&run(&["check", "--format", "github", SHOP], &[]));
    let lines: Vec<&str> = text.lines().collect();
    let mut diagnostics: Vec<&serde_json::Value> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d.get("suppressed").is_none())
        .collect();
    // Errors first, then warnings, each costliest first (the JSON's order).
    diagnostics.sort_by_key(|d| d["severity"] != "error");
    assert_eq!(lines.len(), diagnostics.len() + 1, "{text}");
    for (line, d) in lines.iter().zip(&diagnostics) {
        let kind = if d["severity"] == "error" {
            "error"
        } else {
            "warning"
        };
        // Annotations name files from the repository's root: the fixture sits in this repository.
        let mut props = format!(
            "::{kind} file=fixtures/projects/shop/{},line={},endLine={}",
            d["file"].as_str().unwrap(),
            d["line"],
            d["end_line"]
        );
        if d["line"] == d["end_line"] {
            props.push_str(&format!(
                ",col={},endColumn={}",
                d["column"], d["end_column"]
            ));
        }
        props.push_str(&format!(
            ",title=hopcheck {}::",
            d["lint"].as_str().unwrap()
        ));
        assert!(
            line.starts_with(&props),
            "{line}\nshould start with\n{props}"
        );
        let message = format!(
            "{}. {}",
            d["message"].as_str().unwrap(),
            d["help"].as_str().unwrap()
        );
        assert!(
            line.ends_with(&message),
            "{line}\nshould end with\n{message}"
        );
    }
    assert_eq!(
        lines.last().copied(),
        Some("::notice title=hopcheck::5 routes, 1 over budget; 1 error, 4 warnings")
    );
}

#[test]
fn markdown_comment_on_the_shop() {
    let out = run(&["check", "--format", "markdown", SHOP], &[]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert_portable(&text);
    assert!(
        text.starts_with("### hopcheck: ❌ 1 of 5 routes over budget; 1 error, 4 warnings\n"),
        "{text}"
    );
    insta::assert_snapshot!("shop_markdown", text);
}

#[test]
fn markdown_links_lines_on_github() {
    let env = [
        ("GITHUB_SERVER_URL", "https://github.example"),
        ("GITHUB_REPOSITORY", "acme/shop"),
        ("GITHUB_SHA", "0123abcd"),
    ];
    let text = stdout(&run(&["check", "--format", "markdown", SHOP], &env));
    assert!(
        text.contains(
            "- **over-budget** in [`fixtures/projects/shop/src/routes/users.rs:21`](https://github.example/acme/shop/blob/0123abcd/fixtures/projects/shop/src/routes/users.rs#L21) — "
        ),
        "{text}"
    );
    // Without the commit there is nothing to link to.
    let text = stdout(&run(&["check", "--format", "markdown", SHOP], &env[..2]));
    assert!(!text.contains("https://"), "{text}");
    assert!(
        text.contains("- **over-budget** in `fixtures/projects/shop/src/routes/users.rs:21` — ")
    );
}

#[test]
fn the_job_summary_lists_every_route_with_its_cost() {
    let json = shop_json();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("summary.md");
    let path = file.to_string_lossy().into_owned();
    let out = run(
        &["check", "--format", "github", "--summary", &path, SHOP],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let summary = std::fs::read_to_string(&file).unwrap();
    assert_portable(&summary);
    assert!(summary.starts_with("## hopcheck\n\n"), "{summary}");

    let table: Vec<&str> = summary.lines().filter(|l| l.starts_with('|')).collect();
    let deployments: Vec<&str> = json["config"]["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let mut header = vec!["route", "handler", "round trips"];
    header.extend(&deployments);
    header.extend(["budget", "status"]);
    assert_eq!(cells(table[0]), header);
    let routes = json["routes"].as_array().unwrap();
    let rows = &table[2..];
    assert_eq!(rows.len(), routes.len(), "{summary}");

    let mut worst_before = f64::INFINITY;
    for line in rows {
        let c = cells(line);
        let name = c[0].trim_matches('`');
        let r = routes
            .iter()
            .find(|r| route_name(r) == name)
            .unwrap_or_else(|| panic!("no route {name} in the JSON output"));
        assert_eq!(c[1], format!("`{}`", r["handler_path"].as_str().unwrap()));
        assert_eq!(c[2], r["round_trips"].to_string(), "{line}");
        let cost = r["cost"].as_array().unwrap();
        let mut worst: f64 = 0.0;
        for (i, d) in cost.iter().enumerate() {
            assert_eq!(d["deployment"], deployments[i]);
            let want = d["estimated_ms"].as_f64().unwrap();
            let got = ms(&c[3 + i]);
            assert!(
                (got - want).abs() <= 0.55,
                "{name} {}: {got} vs {want}",
                deployments[i]
            );
            worst = worst.max(want);
        }
        assert_eq!(
            ms(&c[3 + cost.len()]),
            cost[0]["budget_ms"].as_f64().unwrap()
        );
        let over = cost.iter().any(|d| d["over_budget"] == true);
        assert_eq!(c[4 + cost.len()].starts_with('❌'), over, "{line}");
        assert_eq!(c[4 + cost.len()].starts_with('✅'), !over, "{line}");
        assert!(worst <= worst_before, "costliest first: {summary}");
        worst_before = worst;
    }
    assert!(
        summary.contains("\n**5 findings**: 1 error, 4 warnings.\n"),
        "{summary}"
    );

    // The summary goes to $GITHUB_STEP_SUMMARY without --summary, appended.
    let step = dir.path().join("step.md");
    std::fs::write(&step, "before\n").unwrap();
    run(
        &["check", "--format", "github", SHOP],
        &[("GITHUB_STEP_SUMMARY", &step.to_string_lossy())],
    );
    let appended = std::fs::read_to_string(&step).unwrap();
    assert_eq!(appended, format!("before\n{summary}"));
}

/// The shop analysed through the library, as the CLI does.
fn shop_analysis() -> hopcheck::Analysis {
    let dir = root().join(SHOP);
    let config =
        hopcheck::config::load(&dir.join("hopcheck.toml")).expect("the shop's config loads");
    hopcheck::analyze(&dir, config)
}

/// A comparison as `--compare-to` would record it: the profile route got slower, a finding is new.
fn with_comparison(a: &mut hopcheck::Analysis) {
    let profile = a
        .routes
        .iter()
        .find(|r| r.path.as_deref() == Some("/users/{id}"))
        .unwrap();
    let change = |i: usize, before: f64, regression: bool| hopcheck::gate::RouteChange {
        method: profile.method.clone(),
        path: profile.path.clone(),
        handler: profile.handler.clone(),
        deployment: profile.cost[i].deployment.clone(),
        before_ms: Some(before),
        after_ms: Some(profile.cost[i].estimated_ms),
        budget_ms: profile.cost[i].budget_ms,
        regression,
    };
    let routes = vec![change(0, 371.4, true), change(1, 4.0, false)];
    let new = a
        .diagnostics
        .iter()
        .find(|d| d.lint == "sequential-queries" && d.loc.line == 23)
        .unwrap()
        .fingerprint
        .clone();
    a.comparison = Some(hopcheck::gate::Comparison {
        base: "origin/main".into(),
        routes,
        new_findings: vec![new],
        fixed_findings: 1,
    });
}

#[test]
fn markdown_comment_with_a_comparison() {
    let mut a = shop_analysis();
    with_comparison(&mut a);
    let text = markdown::render_with(&a, &Links::none(), None);
    assert_portable(&text);
    assert!(
        text.starts_with(
            "### hopcheck: ❌ 1 route got slower, 1 new finding\n\nCompared with `origin/main`: 1 finding fixed.\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "| `GET /users/{id}` | us-east-1 | 371 → 557 ms | +186 ms (+50%) | 500 ms | ❌ regression, over budget |\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "| `GET /users/{id}` | eu-central-1 | 4 → 6 ms | +2 ms (+50%) | 500 ms | ⚠️ slower |\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("**New findings**\n\n- **sequential-queries** in `fixtures/projects/shop/src/routes/users.rs:23` — 3 sequential round trips"),
        "{text}"
    );
    assert_eq!(
        text.matches("- **").count(),
        1,
        "only the new finding is listed: {text}"
    );
    assert!(text.contains("<details><summary>All 5 routes</summary>\n\n| route | handler |"));
    assert!(text.trim_end().ends_with("</details>"));
    insta::assert_snapshot!("shop_markdown_comparison", text);

    // The job summary shows the same changes.
    let summary = hopcheck::report::github::summary(&a);
    assert!(summary
        .contains("### Changes since `origin/main`\n\n| route | deployment | before → after |"));
    assert!(summary.contains(
        "| `GET /users/{id}` | us-east-1 | 371 → 557 ms | +186 ms (+50%) | 500 ms | ❌ regression, over budget |\n"
    ));
    assert!(summary.contains("1 new finding, 1 fixed.\n"), "{summary}");
}

#[test]
fn the_summary_reports_the_baseline() {
    let mut a = shop_analysis();
    a.baseline = Some(hopcheck::gate::BaselineReport {
        file: "hopcheck-baseline.json".into(),
        matched: 3,
        stale: vec![hopcheck::gate::BaselineEntry {
            lint: "query-in-loop".into(),
            file: "src/routes/orders.rs".into(),
            function: "routes::orders::create_order".into(),
            fingerprint: "00000000000000ab:1".into(),
        }],
    });
    let summary = hopcheck::report::github::summary(&a);
    assert!(
        summary.contains(
            "Baseline `hopcheck-baseline.json`: 3 findings accepted, 1 stale entry (fixed: the baseline can shrink).\n"
        ),
        "{summary}"
    );
}

#[test]
fn suppressed_findings_are_counted_not_listed() {
    let mut a = shop_analysis();
    let total = a.diagnostics.len();
    for d in a
        .diagnostics
        .iter_mut()
        .filter(|d| d.lint == "query-in-loop")
    {
        d.suppressed = Some(hopcheck::rules::Suppressed {
            kind: "inline",
            reason: "bounded".into(),
        });
    }
    let text = markdown::render_with(&a, &Links::none(), None);
    assert_eq!(text.matches("\n- **").count(), total - 1, "{text}");
    assert!(!text.contains("**query-in-loop**"), "{text}");
    assert!(text.contains("\n1 suppressed finding not listed"), "{text}");
    let annotations = hopcheck::report::github::Github.render(&a);
    assert!(!annotations.contains("query-in-loop"), "{annotations}");
    assert!(
        annotations.ends_with("::notice title=hopcheck::5 routes, 1 over budget; 1 error, 3 warnings (1 suppressed)\n"),
        "{annotations}"
    );
}

#[test]
fn github_annotates_the_costliest_ten_of_each_kind_and_lists_the_rest_in_the_summary() {
    // Twelve handlers, each with a run of n + 1 reads (over its budget too): 12 errors, 12 warnings.
    let dir = twelve_routes();
    let summary = dir.path().join("summary.md");
    let out = run(
        &[
            "check",
            "--format",
            "github",
            "--summary",
            summary.to_str().unwrap(),
            dir.path().to_str().unwrap(),
        ],
        &[],
    );
    let text = stdout(&out);
    let count = |kind: &str| text.lines().filter(|l| l.starts_with(kind)).count();
    assert_eq!(count("::error "), 10, "{text}");
    assert_eq!(count("::warning "), 10, "{text}");
    // The costliest: h11's run of 13 reads is annotated, h0's run of 2 is not.
    assert!(text.contains("13 sequential round trips"), "{text}");
    assert!(!text.contains("::2 sequential round trips"), "{text}");
    let notice = text.lines().last().unwrap();
    assert!(
        notice.contains("the 20 costliest as annotations, 4 more in the job summary"),
        "{notice}"
    );
    let summary = std::fs::read_to_string(&summary).unwrap();
    assert!(summary.contains("the other 4 findings:"), "{summary}");
    assert!(summary.contains(": 2 sequential round trips"), "{summary}");
}

#[test]
fn the_markdown_comment_stays_under_githubs_limit_on_a_big_service() {
    // 900 routes with long paths: their whole table alone is well over 65,536 characters.
    let dir = tempfile::tempdir().unwrap();
    let mut src = String::from("pub fn app() -> Router {\n    Router::new()");
    for n in 0..900 {
        src.push_str(&format!(
            ".route(\"/api/v1/organizations/{{organization_id}}/projects/{{project_id}}/resource_{n}\", get(h{n}))"
        ));
    }
    src.push_str("\n}\n");
    for n in 0..900 {
        src.push_str(&format!(
            "async fn h{n}(State(db): State<PgPool>) {{\n    sqlx::query(\"SELECT {n}\").fetch_one(&db).await;\n}}\n"
        ));
    }
    std::fs::write(dir.path().join("app.rs"), src).unwrap();
    let text = stdout(&run(
        &[
            "check",
            "--format",
            "markdown",
            dir.path().to_str().unwrap(),
        ],
        &[],
    ));
    assert!(
        text.chars().count() <= 60_000,
        "{} characters",
        text.chars().count()
    );
    assert!(text.starts_with("### hopcheck: "), "{text}");
    assert!(
        text.contains("more, cheaper routes left out to keep this comment short"),
        "{text}"
    );
}

//! `hopcheck report --html FILE`: the page's structure, that it loads nothing from anywhere, that its
//! waterfalls add up to the routes' estimates, and that names and SQL from the analysed code are escaped.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// The fixture projects the page is checked on.
const PROJECTS: &[&str] = &[
    "shop",
    "ledger",
    "blog",
    "teams",
    "actix-notes",
    "aide-api",
    "poem-tonic",
    "rocket-todo",
    "sync-repo",
];

/// The CI variables that turn links to a forge on.
const CI_VARS: &[&str] = &[
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_SHA",
    "CI_PROJECT_URL",
    "CI_COMMIT_SHA",
];

/// Runs `hopcheck report --html <tmp> PATH extra…` without any CI variables; returns the page.
fn page_with(path: &Path, extra: &[&str], env: &[(&str, &str)]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hopcheck"));
    cmd.arg("report")
        .arg("--html")
        .arg(&file)
        .arg(path)
        .args(extra)
        .current_dir(root())
        .env("NO_COLOR", "1");
    for var in CI_VARS {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the hopcheck binary runs");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("wrote "), "{}", stdout(&out));
    std::fs::read_to_string(&file).expect("the page was written")
}

fn page(project: &str) -> String {
    page_with(&project_path(project), &["-q"], &[])
}

fn project_path(project: &str) -> PathBuf {
    fixtures().join("projects").join(project)
}

/// One start tag: its name and attributes (values unescaped only of what the tests compare).
#[derive(Debug, Clone)]
struct Tag {
    name: String,
    attrs: BTreeMap<String, String>,
    closing: bool,
}

impl Tag {
    fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map_or("", String::as_str)
    }

    fn class(&self) -> &str {
        self.attr("class")
    }

    fn has_class(&self, c: &str) -> bool {
        self.class().split(' ').any(|x| x == c)
    }

    fn num(&self, name: &str) -> f64 {
        self.attr(name)
            .parse()
            .unwrap_or_else(|e| panic!("{name} of {self:?}: {e}"))
    }
}

/// The tags of a page, in order; the contents of `<style>` and `<script>` are skipped. The page quotes
/// every attribute with `"` and escapes `"` inside, so this is enough to read it.
fn tags(html: &str) -> Vec<Tag> {
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        if rest.starts_with('!') {
            continue;
        }
        // A template's content is not part of the page until a script puts it there.
        if rest.starts_with("template") {
            let end = rest.find("</template>").expect("every template ends");
            rest = &rest[end + "</template>".len()..];
            continue;
        }
        let end = rest.find('>').expect("every tag ends");
        let inner = &rest[..end];
        rest = &rest[end + 1..];
        let closing = inner.starts_with('/');
        let inner = inner.trim_start_matches('/').trim_end_matches('/');
        let name_end = inner
            .find(|c: char| c.is_whitespace())
            .unwrap_or(inner.len());
        let name = inner[..name_end].to_string();
        let mut attrs = BTreeMap::new();
        let mut a = inner[name_end..].trim_start();
        while !a.is_empty() {
            let key_end = a
                .find(|c: char| c == '=' || c.is_whitespace())
                .unwrap_or(a.len());
            let key = a[..key_end].to_string();
            a = &a[key_end..];
            if let Some(v) = a.strip_prefix("=\"") {
                let close = v.find('"').expect("quoted attribute");
                attrs.insert(key, v[..close].to_string());
                a = v[close + 1..].trim_start();
            } else {
                attrs.insert(key, String::new());
                a = a.trim_start();
            }
        }
        if !closing && (name == "style" || name == "script") {
            let close = format!("</{name}>");
            let end = rest.find(&close).expect("closed");
            rest = &rest[end..];
        }
        out.push(Tag {
            name,
            attrs,
            closing,
        });
    }
    out
}

/// One route section of the page.
#[derive(Debug)]
struct Route {
    section: Tag,
    /// Each chart: its figure and its bars, groups and budget line.
    charts: Vec<Chart>,
}

#[derive(Debug)]
struct Chart {
    figure: Tag,
    bars: Vec<Tag>,
    groups: Vec<Tag>,
    budget: Option<Tag>,
}

fn routes(html: &str) -> Vec<Route> {
    let mut out: Vec<Route> = Vec::new();
    for t in tags(html).into_iter().filter(|t| !t.closing) {
        match t.name.as_str() {
            "section" if t.has_class("route") => out.push(Route {
                section: t,
                charts: Vec::new(),
            }),
            "figure" => out.last_mut().unwrap().charts.push(Chart {
                figure: t,
                bars: Vec::new(),
                groups: Vec::new(),
                budget: None,
            }),
            "rect" | "line" => {
                let Some(chart) = out.last_mut().and_then(|r| r.charts.last_mut()) else {
                    continue;
                };
                if t.has_class("bar") {
                    chart.bars.push(t);
                } else if t.has_class("group") {
                    chart.groups.push(t);
                } else if t.has_class("budget") {
                    chart.budget = Some(t);
                }
            }
            _ => {}
        }
    }
    out
}

/// The page as an outline: the block elements with their classes, each route with its figures and
/// their bar counts; what a reviewer can read in a snapshot.
fn outline(html: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut in_svg = false;
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let shown = [
        "html",
        "head",
        "style",
        "body",
        "header",
        "h1",
        "p",
        "table",
        "form",
        "select",
        "main",
        "section",
        "h2",
        "div",
        "figure",
        "figcaption",
        "details",
        "ol",
        "script",
    ];
    for t in tags(html) {
        if t.name == "svg" {
            if t.closing {
                let list: Vec<String> = counts.iter().map(|(k, n)| format!("{k}×{n}")).collect();
                out.push_str(&format!(
                    "{}svg [{}]\n",
                    "  ".repeat(depth),
                    list.join(", ")
                ));
                counts.clear();
            }
            in_svg = !t.closing;
            continue;
        }
        if in_svg {
            if !t.closing {
                let key = match t.class() {
                    "" => t.name.clone(),
                    c => format!("{}.{}", t.name, c.replace(' ', ".")),
                };
                *counts.entry(key).or_default() += 1;
            }
            continue;
        }
        if !shown.contains(&t.name.as_str()) {
            continue;
        }
        if t.closing {
            depth = depth.saturating_sub(1);
            continue;
        }
        let mut line = format!("{}{}", "  ".repeat(depth), t.name);
        if !t.class().is_empty() {
            line.push('.');
            line.push_str(&t.class().replace(' ', "."));
        }
        for key in [
            "id",
            "data-name",
            "data-trips",
            "data-lints",
            "data-scenario",
            "data-bars",
        ] {
            if let Some(v) = t.attrs.get(key) {
                line.push_str(&format!(" {key}={v:?}"));
            }
        }
        out.push_str(&line);
        out.push('\n');
        depth += 1;
    }
    out
}

#[test]
fn the_page_of_the_sample_service_has_this_structure() {
    insta::assert_snapshot!("shop_structure", outline(&page("shop")));
}

#[test]
fn the_page_loads_nothing_from_anywhere() {
    for project in PROJECTS {
        let html = page(project);
        for needle in [
            "http://", "https://", "src=", "<link", "@import", "url(", "//cdn",
        ] {
            assert!(
                !html.contains(needle),
                "{project}: the page holds {needle:?}"
            );
        }
        assert!(html.contains("<style>") && html.contains("<script>"));
        // Complete without the script: the controls are hidden until it runs, and every route is there.
        assert!(html.contains("<form id=\"controls\" class=\"controls\" hidden>"));
        assert!(!html.contains("<section class=\"route\" hidden"));
    }
}

#[test]
fn with_ci_variables_bars_link_to_the_lines_on_github_and_load_nothing() {
    let html = page_with(
        &project_path("shop"),
        &["-q"],
        &[
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            ("GITHUB_SHA", "0123abc"),
        ],
    );
    let all = tags(&html);
    let linked: Vec<&Tag> = all
        .iter()
        .filter(|t| t.attr("href").starts_with("https://"))
        .collect();
    assert!(!linked.is_empty());
    for t in &linked {
        assert_eq!(t.name, "a", "{t:?}");
        assert!(
            t.attr("href")
                .starts_with("https://github.com/acme/shop/blob/0123abc/"),
            "{t:?}"
        );
    }
    // Paths from the repository's root: the fixture sits in this crate's repository.
    assert!(html.contains(
        "href=\"https://github.com/acme/shop/blob/0123abc/fixtures/projects/shop/src/routes/orders.rs#L52\""
    ));
    assert!(all.iter().all(|t| !t.attrs.contains_key("src")));
}

/// The addresses of the page's links to lines (every link but those to its own sections).
fn line_links(html: &str) -> Vec<String> {
    tags(html)
        .into_iter()
        .filter(|t| !t.closing && t.name == "a" && !t.attr("href").starts_with('#'))
        .map(|t| t.attr("href").to_string())
        .collect()
}

#[test]
fn with_gitlab_ci_variables_bars_link_to_the_lines_on_gitlab() {
    let html = page_with(
        &project_path("shop"),
        &["-q"],
        &[
            ("CI_PROJECT_URL", "https://gitlab.example/acme/shop"),
            ("CI_COMMIT_SHA", "0123abc"),
        ],
    );
    let links = line_links(&html);
    assert!(links.len() > 10, "{links:?}");
    for l in &links {
        assert!(
            l.starts_with(
                "https://gitlab.example/acme/shop/-/blob/0123abc/fixtures/projects/shop/"
            ),
            "{l}"
        );
    }
    assert!(html.contains(
        "href=\"https://gitlab.example/acme/shop/-/blob/0123abc/fixtures/projects/shop/src/routes/orders.rs#L52\""
    ));
    // Without the commit there is nothing to link to: relative links, as outside CI.
    let html = page_with(
        &project_path("shop"),
        &["-q"],
        &[("CI_PROJECT_URL", "https://gitlab.example/acme/shop")],
    );
    assert!(!html.contains("https://"));
    assert!(html.contains("href=\"src/routes/orders.rs#L52\""));
}

#[test]
fn a_source_url_template_links_every_line_and_wins_over_ci_variables() {
    let template = "https://code.example/view?repo=shop&file={path}&line={line}#'{line}";
    let html = page_with(
        &project_path("shop"),
        &["-q", "--source-url", template],
        &[
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            ("GITHUB_SHA", "0123abc"),
            ("CI_PROJECT_URL", "https://gitlab.example/acme/shop"),
            ("CI_COMMIT_SHA", "0123abc"),
        ],
    );
    assert!(!html.contains("github.com") && !html.contains("gitlab.example"));
    // The address is escaped in the attribute: `&` and `'` as entities, the path percent-encoded.
    assert!(
        html.contains(
            "href=\"https://code.example/view?repo=shop&amp;file=fixtures/projects/shop/src/routes/orders.rs&amp;line=52#&#39;52\""
        ),
        "{html}"
    );
    let links = line_links(&html);
    assert!(links.len() > 10, "{links:?}");
    for l in &links {
        assert!(
            l.starts_with(
                "https://code.example/view?repo=shop&amp;file=fixtures/projects/shop/src/"
            ),
            "{l}"
        );
    }
    // A hostile file name stays inside the path: percent-encoded, it cannot end the attribute or add
    // a parameter.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/a\"&b=c #.rs"),
        "async fn h(State(pool): State<PgPool>) {\n    sqlx::query(\"SELECT 1\").fetch_one(&pool).await;\n}\nfn app() -> Router { Router::new().route(\"/x\", get(h)) }\n",
    )
    .unwrap();
    let html = page_with(
        dir.path(),
        &["-q", "--source-url", "https://h.example/{path}?l={line}"],
        &[],
    );
    let links = line_links(&html);
    assert!(!links.is_empty());
    for l in &links {
        assert!(l.starts_with("https://h.example/"), "{l}");
        assert!(!l.contains('"') && !l.contains(' '), "{l}");
    }
    assert!(
        links
            .iter()
            .any(|l| l.ends_with("src/a%22%26b%3Dc%20%23.rs?l=2")),
        "{links:?}"
    );
}

#[test]
fn a_bad_source_url_is_refused_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    for (template, says) in [
        ("https://code.example/blob/main#L{line}", "needs {path}"),
        (
            "ftp://code.example/{path}",
            "must start with https:// or http://",
        ),
        (
            "javascript:alert(1)//{path}",
            "must start with https:// or http://",
        ),
        ("{path}#L{line}", "must start with https:// or http://"),
        ("https://{path}", "host"),
        (
            "https://code.example/{file}#L{line}",
            "unknown placeholder {file}",
        ),
    ] {
        let out = hopcheck(&[
            "report",
            "--html",
            file.to_str().unwrap(),
            "--source-url",
            template,
            "fixtures/projects/shop",
        ]);
        assert_eq!(out.status.code(), Some(2), "{template}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with(&format!("error: --source-url {template}: ")) && err.contains(says),
            "{template}: {err}"
        );
        // Refused at once: no analysis ran (no notes), nothing was written.
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(stdout(&out).is_empty());
        assert!(!file.exists());
    }
}

#[test]
fn without_loops_or_branches_a_route_has_one_bar_per_round_trip() {
    let mut checked = 0;
    for project in PROJECTS {
        let (_, json) = check_json(&project_path(project), &["-q"]);
        for r in routes(&page(project)) {
            let main = &r.charts[0];
            assert_eq!(main.figure.attr("data-scenario"), "current");
            let looped = main.bars.iter().any(|b| b.attr("data-mult") != "1");
            // A concurrent group draws every branch; the round trips count its slowest.
            if main.bars.iter().any(|b| !b.attr("data-group").is_empty()) {
                assert!(main.bars.len() as f64 >= r.section.num("data-trips"));
                continue;
            }
            let name = r.section.attr("data-name");
            let report = json["routes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|j| {
                    let n = match (j["method"].as_str(), j["path"].as_str()) {
                        (Some(m), Some(p)) => format!("{m} {p}"),
                        _ => format!("{} (no route)", j["handler_path"].as_str().unwrap()),
                    };
                    n.replace('&', "&amp;")
                        .replace('<', "&lt;")
                        .replace('>', "&gt;")
                        == name
                })
                .unwrap_or_else(|| panic!("{project}: no route {name} in the json"));
            let branched = !report["worst_case_branch"].is_null()
                || report["round_trips"] != report["typical_round_trips"];
            if looped || branched {
                continue;
            }
            // One bar per round trip, and one per connection check a pool makes before a query and per
            // preparing of SQL sent as text.
            assert_eq!(
                main.bars.len() as f64,
                r.section.num("data-trips")
                    + report["checkout_pings"].as_f64().unwrap()
                    + report["prepare_round_trips"].as_f64().unwrap(),
                "{project} {name}"
            );
            assert_eq!(main.figure.num("data-bars"), main.bars.len() as f64);
            checked += 1;
        }
    }
    assert!(checked > 10, "only {checked} routes checked");
}

#[test]
fn each_waterfall_ends_at_the_route_s_estimate() {
    for project in PROJECTS {
        let (_, json) = check_json(&project_path(project), &["-q"]);
        let estimates: Vec<f64> = json["routes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["cost"][0]["estimated_ms"].as_f64().unwrap())
            .collect();
        let html = page(project);
        let routes = routes(&html);
        assert_eq!(routes.len(), estimates.len(), "{project}");
        // The page lists routes costliest first.
        let shown: Vec<f64> = routes
            .iter()
            .map(|r| r.section.num("data-estimate"))
            .collect();
        assert!(
            shown.windows(2).all(|w| w[0] >= w[1]),
            "{project}: {shown:?}"
        );
        let mut sorted_json = estimates.clone();
        sorted_json.sort_by(|a, b| b.total_cmp(a));
        for (r, json_ms) in routes.iter().zip(&sorted_json) {
            let name = r.section.attr("data-name");
            let estimate = r.section.num("data-estimate");
            // The JSON rounds to 0.1 ms.
            assert!(
                (estimate - json_ms).abs() <= 0.05 + 1e-9,
                "{project} {name}"
            );
            let main = &r.charts[0];
            let total = main.figure.num("data-total");
            assert!(
                (total - estimate).abs() < 0.002,
                "{project} {name}: waterfall {total} vs estimate {estimate}"
            );
            // Every bar is drawn up to a cap; the fixtures stay under it.
            assert_eq!(main.figure.attr("data-hidden"), "0", "{project} {name}");
            let end = main
                .bars
                .iter()
                .map(|b| b.num("data-end"))
                .fold(0.0, f64::max);
            assert!(
                (end - estimate).abs() < 0.002,
                "{project} {name}: the last bar ends at {end}, the estimate is {estimate}"
            );
            for b in &main.bars {
                assert!(b.num("data-start") <= b.num("data-end"), "{b:?}");
            }
            // The scenarios, drawn beside it, are never slower than today.
            assert_eq!(
                r.charts
                    .iter()
                    .map(|c| c.figure.attr("data-scenario"))
                    .collect::<Vec<_>>(),
                ["current", "read-replicas", "isolation"]
            );
            for c in &r.charts[1..] {
                assert!(
                    c.figure.num("data-total") <= total + 1e-6,
                    "{project} {name}"
                );
                let budget = c.budget.as_ref().expect("a budget line");
                assert_eq!(
                    budget.attr("data-ms"),
                    main.budget.as_ref().unwrap().attr("data-ms")
                );
            }
        }
    }
}

#[test]
fn the_scenarios_match_hopcheck_plan() {
    let p = project_path("shop").display().to_string();
    let out = hopcheck(&["plan", "--format", "json", "-q", &p]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let deployment = plan["deployments"][0].as_str().unwrap();
    let html = page("shop");
    let routes = routes(&html);
    for scenario in ["read-replicas", "isolation"] {
        let s = plan["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == scenario)
            .unwrap();
        for pr in s["routes"].as_array().unwrap() {
            if pr["deployment"] != deployment || pr["static_files"] == true {
                continue;
            }
            let name = format!(
                "{} {}",
                pr["method"].as_str().unwrap(),
                pr["path"].as_str().unwrap()
            );
            let r = routes
                .iter()
                .find(|r| r.section.attr("data-name") == name)
                .unwrap();
            let c = r
                .charts
                .iter()
                .find(|c| c.figure.attr("data-scenario") == scenario)
                .unwrap();
            let ms = pr["estimated_ms"].as_f64().unwrap();
            assert!(
                (c.figure.num("data-total") - ms).abs() <= 0.05 + 1e-9,
                "{scenario} {name}: {} vs plan {ms}",
                c.figure.num("data-total")
            );
        }
    }
}

#[test]
fn a_concurrent_group_s_branches_start_together() {
    let mut groups_seen = 0;
    for project in ["shop", "ledger"] {
        for r in routes(&page(project)) {
            for c in &r.charts {
                for g in &c.groups {
                    let start = g.num("data-start");
                    let end = g.num("data-end");
                    let id = {
                        // A group's bars name it; its rect comes in the order of the ids.
                        let index = c.groups.iter().position(|x| std::ptr::eq(x, g)).unwrap();
                        let mut ids: Vec<&str> = c
                            .bars
                            .iter()
                            .map(|b| b.attr("data-group"))
                            .filter(|x| !x.is_empty())
                            .collect();
                        ids.sort_by_key(|x| x.parse::<usize>().unwrap());
                        ids.dedup();
                        ids[index].to_string()
                    };
                    let bars: Vec<&Tag> = c
                        .bars
                        .iter()
                        .filter(|b| b.attr("data-group") == id)
                        .collect();
                    let at_start = bars
                        .iter()
                        .filter(|b| (b.num("data-start") - start).abs() < 1e-6)
                        .count();
                    assert!(
                        at_start >= 2,
                        "{project} {}: {at_start} bars start with the group",
                        r.section.attr("data-name")
                    );
                    let last = bars.iter().map(|b| b.num("data-end")).fold(0.0, f64::max);
                    assert!(
                        (last - end).abs() < 1e-6,
                        "the slowest branch ends the group"
                    );
                    // The group is drawn in lanes of its own, side by side in time.
                    for b in &bars {
                        assert!(b.num("data-start") >= start - 1e-6);
                    }
                    groups_seen += 1;
                }
            }
        }
    }
    assert!(groups_seen >= 2, "{groups_seen}");
}

#[test]
fn a_loop_is_drawn_once_with_its_multiplier() {
    let html = page("shop");
    let r = routes(&html)
        .into_iter()
        .find(|r| r.section.attr("data-name") == "POST /orders")
        .unwrap();
    let looped: Vec<&Tag> = r.charts[0]
        .bars
        .iter()
        .filter(|b| b.attr("data-mult") == "10")
        .collect();
    assert_eq!(looped.len(), 1, "{:?}", r.charts[0].bars);
    let b = looped[0];
    let one = r.charts[0]
        .bars
        .iter()
        .find(|b| b.attr("data-mult") == "1")
        .unwrap();
    let width = b.num("data-end") - b.num("data-start");
    let single = one.num("data-end") - one.num("data-start");
    assert!((width - 10.0 * single).abs() < 1e-6, "{width} vs {single}");
    assert!(html.contains("<text class=\"mult\""));
}

#[test]
fn hostile_file_names_and_sql_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let name = "src/<img onerror=x>\"'&amp;.rs";
    let path = dir.path().join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        &path,
        "async fn h(State(pool): State<PgPool>) {\n    sqlx::query(\"SELECT '</title></rect></svg><script>alert(1)</script>' AS \\\"x\\\"\").fetch_one(&pool).await;\n    sqlx::query(\"SELECT 2\").fetch_one(&pool).await;\n}\nfn app() -> Router { Router::new().route(\"/x/<b>\", get(h)) }\n",
    )
    .unwrap();
    let html = page_with(dir.path(), &["-q"], &[]);
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(!html.contains("<b>"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(
        html.contains("src/&lt;img onerror=x&gt;&quot;&#39;&amp;amp;.rs:2"),
        "{html}"
    );
    assert!(html.contains("href=\"src/%3Cimg%20onerror%3Dx%3E%22%27%26amp%3B.rs#L2\""));
    // Still one page with one script, and the route's two queries, each after the pool's connection
    // check.
    assert_eq!(html.matches("<script>").count(), 1);
    let routes = routes(&html);
    assert_eq!(routes.len(), 1);
    assert_eq!(routes[0].charts[0].bars.len(), 4);
    assert_eq!(routes[0].section.attr("data-name"), "GET /x/&lt;b&gt;");
}

#[test]
fn the_what_if_flags_apply_to_the_page() {
    let p = project_path("shop");
    let html = page_with(&p, &["-q", "--replica", "main@us-east-1"], &[]);
    assert!(
        html.contains("(replica) in us-east-1"),
        "reads go to the new replica"
    );
    let html = page_with(&p, &["-q", "--deploy", "ap-southeast-1"], &[]);
    assert!(html.contains("<option value=\"2\">ap-southeast-1</option>"));
}

#[test]
fn report_needs_a_file_and_reports_what_it_cannot_write() {
    let out = hopcheck(&["report", "fixtures/projects/shop"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = hopcheck(&[
        "report",
        "--html",
        "/nonexistent-folder/x.html",
        "-q",
        "fixtures/projects/shop",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot write"), "{}", stderr(&out));
}

/// A headless Chromium, if one is installed (`HOPCHECK_CHROMIUM` names another).
fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HOPCHECK_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium-headless-shell",
        "chromium",
        "chromium-browser",
        "google-chrome",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|p| p.is_file())
}

/// The document as the browser has it once its scripts ran (`--dump-dom`).
fn rendered(browser: &Path, page: &Path) -> String {
    let out = Command::new(browser)
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("the browser runs");
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out)
}

/// The names of the routes the browser shows, in order.
fn shown(dom: &str) -> Vec<String> {
    tags(dom)
        .into_iter()
        .filter(|t| !t.closing && t.name == "section" && t.has_class("route"))
        .filter(|t| !t.attrs.contains_key("hidden"))
        .map(|t| t.attr("data-name").to_string())
        .collect()
}

/// The browser for the tests that open the page, or `None` (with a note) to skip them; in CI, which
/// installs it (`.ci/run`), a missing browser is a failure, not a skip.
fn browser_or_skip() -> Option<PathBuf> {
    let browser = chromium();
    if browser.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "no headless Chromium in CI: install chromium-headless-shell"
        );
        eprintln!("skipped: no headless Chromium (install chromium-headless-shell or set HOPCHECK_CHROMIUM)");
    }
    browser
}

#[test]
fn in_a_browser_the_controls_sort_and_filter_and_the_page_is_whole_without_scripts() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    let html = page("shop");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    std::fs::write(&file, &html).unwrap();

    // Scripts off (the page without its script: `--dump-dom` itself needs them on): the controls stay
    // hidden and every route is there, costliest first.
    let start = html.find("<script>").unwrap();
    let end = html.find("</script>").unwrap() + "</script>".len();
    std::fs::write(&file, format!("{}{}", &html[..start], &html[end..])).unwrap();
    let dom = rendered(&browser, &file);
    assert!(
        dom.contains("<form id=\"controls\" class=\"controls\" hidden=\"\">"),
        "{dom}"
    );
    let all = shown(&dom);
    assert_eq!(
        all,
        [
            "POST /orders",
            "GET /users/{id}",
            "GET /orders",
            "GET /orders/{id}",
            "GET /health"
        ]
    );

    // Scripts on: the controls appear and nothing else changes until they are used.
    std::fs::write(&file, &html).unwrap();
    let dom = rendered(&browser, &file);
    assert!(
        dom.contains("<form id=\"controls\" class=\"controls\">"),
        "{dom}"
    );
    assert_eq!(shown(&dom), all);

    // Using them, as a user would: each step is a change event on one control.
    let steps = [
        (
            "pick('lint').value = 'sequential-queries'; fire('lint');",
            vec!["GET /users/{id}", "GET /orders"],
        ),
        (
            "pick('lint').value = ''; fire('lint'); pick('sort').value = 'cost-asc'; fire('sort');",
            vec!["GET /health", "GET /orders/{id}", "GET /orders", "GET /users/{id}", "POST /orders"],
        ),
        (
            "pick('sort').value = 'cost-desc'; pick('deployment').value = '0'; pick('over').checked = true; fire('over');",
            vec!["GET /users/{id}"],
        ),
        (
            "pick('deployment').value = '1'; fire('deployment');",
            vec![],
        ),
    ];
    let mut script = String::from(
        "<script>var pick = function (id) { return document.getElementById(id); };\
         var fire = function (id) { pick(id).dispatchEvent(new Event('change')); };",
    );
    for (i, (step, expected)) in steps.iter().enumerate() {
        script.push_str(step);
        let with = html.replace("</body>", &format!("{script}</script>\n</body>"));
        std::fs::write(&file, with).unwrap();
        let dom = rendered(&browser, &file);
        assert_eq!(shown(&dom), *expected, "after step {i}: {step}");
    }

    // The deployment menu redraws the waterfalls from the deployment it names, and back.
    let captions = |steps: &str| {
        let with = html.replace(
            "</body>",
            &format!(
                "<script>var pick = function (id) {{ return document.getElementById(id); }};\
                 var fire = function (id) {{ pick(id).dispatchEvent(new Event('change')); }};{steps}</script>\n</body>"
            ),
        );
        std::fs::write(&file, with).unwrap();
        let dom = rendered(&browser, &file);
        let visible = dom.split("<template").next().unwrap_or("").to_string();
        visible
            .match_indices("<figcaption>as configured from ")
            .map(|(at, _)| visible[at..].split(':').next().unwrap().to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    let set = |items: &[&str]| {
        items
            .iter()
            .map(|s| s.to_string())
            .collect::<std::collections::BTreeSet<_>>()
    };
    assert_eq!(
        captions("pick('deployment').value = '1'; fire('deployment');"),
        set(&["<figcaption>as configured from eu-central-1"])
    );
    assert_eq!(
        captions("pick('deployment').value = '1'; fire('deployment'); pick('deployment').value = '-1'; fire('deployment');"),
        set(&["<figcaption>as configured from us-east-1"])
    );
}

/// A screenshot, as rows of RGB pixels.
struct Screenshot {
    width: usize,
    height: usize,
    pixels: Vec<[u8; 3]>,
}

impl Screenshot {
    fn decode(file: &Path) -> Screenshot {
        let reader = std::io::BufReader::new(std::fs::File::open(file).expect("a screenshot"));
        let mut decoder = png::Decoder::new(reader);
        decoder.set_transformations(png::Transformations::normalize_to_color8());
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("a sane size")];
        let info = reader.next_frame(&mut buf).expect("the PNG decodes");
        let channels = info.color_type.samples();
        let (width, height) = (info.width as usize, info.height as usize);
        let mut pixels = Vec::with_capacity(width * height);
        for y in 0..height {
            let row = &buf[y * info.line_size..][..width * channels];
            pixels.extend(row.chunks(channels).map(|p| match channels {
                1 | 2 => [p[0]; 3],
                _ => [p[0], p[1], p[2]],
            }));
        }
        Screenshot {
            width,
            height,
            pixels,
        }
    }

    fn at(&self, x: usize, y: usize) -> [u8; 3] {
        self.pixels[y * self.width + x]
    }
}

/// A solid rectangle of one colour found in a screenshot: columns `left..right`, rows `top..bottom`.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Rect {
    left: usize,
    right: usize,
    top: usize,
    bottom: usize,
}

/// The solid rectangles at least `min_height` rows high (and three pixels wide) painted in one of
/// `colours`, top to bottom. Text in those colours makes no such rectangle: its strokes are thinner,
/// or shorter.
fn rectangles(shot: &Screenshot, colours: &[[u8; 3]], min_height: usize) -> Vec<Rect> {
    let close = |p: [u8; 3]| {
        colours
            .iter()
            .any(|c| (0..3).all(|i| p[i].abs_diff(c[i]) <= 6))
    };
    // Runs of matching pixels in each row, grown downwards into rectangles while the next row has a
    // run over the same columns (give or take the antialiased edges).
    let mut open: Vec<Rect> = Vec::new();
    let mut done: Vec<Rect> = Vec::new();
    for y in 0..shot.height {
        let mut runs = Vec::new();
        let mut x = 0;
        while x < shot.width {
            if !close(shot.at(x, y)) {
                x += 1;
                continue;
            }
            // A run may cross a line of another colour two pixels wide (the budget's dashes, with their
            // antialiased edges).
            let start = x;
            loop {
                while x < shot.width && close(shot.at(x, y)) {
                    x += 1;
                }
                match (1..=3).find(|d| x + d < shot.width && close(shot.at(x + d, y))) {
                    Some(d) => x += d,
                    None => break,
                }
            }
            if x - start >= 3 {
                runs.push((start, x));
            }
        }
        let mut next = Vec::new();
        for (left, right) in runs {
            let same = |r: &Rect| r.left.abs_diff(left) <= 2 && r.right.abs_diff(right) <= 2;
            match open.iter().position(same) {
                Some(i) => {
                    let mut r = open.swap_remove(i);
                    r.bottom = y + 1;
                    next.push(r);
                }
                None => next.push(Rect {
                    left,
                    right,
                    top: y,
                    bottom: y + 1,
                }),
            }
        }
        done.append(&mut open);
        open = next;
    }
    done.append(&mut open);
    done.retain(|r| r.bottom - r.top >= min_height);
    done.sort_by_key(|r| (r.top, r.left));
    done
}

/// `#rgb` or `#rrggbb`, the value of the custom property `name` in the page's stylesheet (its first,
/// light, definition).
fn css_colour(html: &str, name: &str) -> [u8; 3] {
    let at = html
        .find(&format!("{name}:#"))
        .unwrap_or_else(|| panic!("no {name} colour in the stylesheet"));
    let hex: String = html[at + name.len() + 2..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    let digit = |i: usize, n: usize| u8::from_str_radix(&hex[i..i + n], 16).unwrap();
    match hex.len() {
        3 => [digit(0, 1) * 17, digit(1, 1) * 17, digit(2, 1) * 17],
        6 => [digit(0, 2), digit(2, 2), digit(4, 2)],
        _ => panic!("{name}: #{hex}"),
    }
}

/// What headless Chromium did with a page, the network off: what it drew and printed, what it asked
/// for.
struct Visit {
    screenshot: Screenshot,
    /// The page's console messages (Chromium prints each, errors and uncaught exceptions included, as
    /// a `CONSOLE` line on stderr; it does not say which kind each is).
    console: Vec<String>,
    /// Every network address in Chromium's network log.
    requests: Vec<String>,
}

/// Opens `page` in a fresh profile with every host name unresolvable and the background networking
/// off, in a `width`×`height` window; its screenshot is also kept in `keep` to look at.
fn visit(browser: &Path, page: &Path, (width, height): (u32, u32), keep: &Path) -> Visit {
    let dir = tempfile::tempdir().unwrap();
    let shot = dir.path().join("screenshot.png");
    let net_log = dir.path().join("net-log.json");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--enable-logging=stderr",
            "--v=0",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--log-net-log={}", net_log.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("the browser runs");
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::copy(&shot, keep).expect("a screenshot was taken");
    let console = stderr(&out)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_string)
        .collect();
    let log: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&net_log).expect("a network log")).unwrap();
    let mut requests = Vec::new();
    let mut stack = vec![&log["events"]];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) => {
                let scheme = s.split(':').next().unwrap_or("").to_ascii_lowercase();
                if ["http", "https", "ws", "wss", "ftp"].contains(&scheme.as_str()) {
                    requests.push(s.clone());
                }
            }
            serde_json::Value::Array(a) => stack.extend(a),
            serde_json::Value::Object(o) => stack.extend(o.values()),
            _ => {}
        }
    }
    Visit {
        screenshot: Screenshot::decode(&shot),
        console,
        requests,
    }
}

#[test]
fn offline_in_a_browser_the_page_logs_nothing_asks_for_nothing_and_draws_each_round_trip() {
    let Some(browser) = browser_or_skip() else {
        return;
    };
    // The costliest route of this service comes first on the page; its round trips run one after
    // another, without a loop or a branch, so the waterfall has one bar per round trip.
    let project = project_path("teams");
    let (_, json) = check_json(&project, &["-q"]);
    let first = json["routes"]
        .as_array()
        .unwrap()
        .iter()
        .max_by(|a, b| {
            let ms = |r: &serde_json::Value| r["cost"][0]["estimated_ms"].as_f64().unwrap();
            ms(a).total_cmp(&ms(b))
        })
        .unwrap();
    let trips = first["round_trips"].as_u64().unwrap() as usize;
    assert!(trips >= 2, "{first}");
    // Each query goes through a sqlx pool, which checks the connection with a round trip first: a
    // bar of its own.
    let pings = first["checkout_pings"].as_u64().unwrap() as usize;
    assert_eq!(pings, trips, "{first}");
    let html = page_with(&project, &["-q"], &[]);
    let page_routes = routes(&html);
    let shown = &page_routes[0];
    assert_eq!(
        shown.section.attr("data-name"),
        format!(
            "{} {}",
            first["method"].as_str().unwrap(),
            first["path"].as_str().unwrap()
        )
    );
    assert_eq!(shown.section.num("data-trips"), trips as f64);
    let bars = &shown.charts[0].bars;
    assert_eq!(bars.len(), trips + pings);
    // The bars' colours, from the page's stylesheet; no bar is a replica's, drawn lighter.
    let colours: Vec<[u8; 3]> = bars
        .iter()
        .map(|b| {
            assert!(
                !b.has_class("replica") && b.attr("data-mult") == "1",
                "{b:?}"
            );
            let kind = ["read", "write", "check"]
                .into_iter()
                .find(|k| b.has_class(k))
                .unwrap_or("unknown");
            css_colour(&html, &format!("--{kind}"))
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("report.html");
    let kept = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let window = (1280, 1000);
    // A main chart's bar is 18 pixels high; a scenario's, 6.
    let bar_height = 14;

    // First, that each check can fail: a page with a failing script, an image from a host, and bars
    // painted in another colour.
    let broken = html
        .replace(
            "</head>",
            "<style>rect.bar{fill:#777!important}</style>\n</head>",
        )
        .replace(
            "</body>",
            "<img src=\"https://example.invalid/x.png\" alt=\"\">\n<script>console.error('broken'); undefinedFunction();</script>\n</body>",
        );
    std::fs::write(&file, &broken).unwrap();
    let seen = visit(&browser, &file, window, &kept.join("html-broken.png"));
    assert!(
        seen.console.iter().any(|l| l.contains("\"broken\""))
            && seen.console.iter().any(|l| l.contains("undefinedFunction")),
        "the console messages are not where the test reads them: {:?}",
        seen.console
    );
    assert!(
        seen.requests
            .iter()
            .any(|r| r.starts_with("https://example.invalid/")),
        "the network log does not show what the page asked for: {:?}",
        seen.requests
    );
    assert_eq!(
        rectangles(&seen.screenshot, &colours, bar_height),
        [],
        "bars painted grey were found in {}",
        kept.join("html-broken.png").display()
    );

    // The page itself.
    std::fs::write(&file, &html).unwrap();
    let shot_file = kept.join("html-report.png");
    let seen = visit(&browser, &file, window, &shot_file);
    let shot = shot_file.display();
    assert_eq!(seen.console, Vec::<String>::new(), "console messages");
    assert_eq!(seen.requests, Vec::<String>::new(), "network requests");
    let found = rectangles(&seen.screenshot, &colours, bar_height);
    assert!(!found.is_empty(), "no bar drawn in {shot}");
    // The first chart's bars: one per lane, 20 pixels apart; the next chart is further down.
    let mut chart = vec![found[0]];
    for r in &found[1..] {
        let last = chart.last().unwrap();
        if r.top.abs_diff(last.top + 20) > 2 {
            break;
        }
        chart.push(*r);
    }
    assert_eq!(
        chart.len(),
        trips + pings,
        "the first chart of {shot} has {} bars, the route {trips} round trips and {pings} connection checks: {chart:?}",
        chart.len()
    );
    for (i, pair) in chart.windows(2).enumerate() {
        let (a, b) = (pair[0], pair[1]);
        // Sequential round trips: each starts where the one before ends, as wide as its RTT.
        assert!(
            b.left.abs_diff(a.right) <= 2,
            "bar {} of {shot} starts at x={}, the one before ends at x={}",
            i + 1,
            b.left,
            a.right
        );
        let ms = |t: &Tag| t.num("data-end") - t.num("data-start");
        let ratio = (b.right - b.left) as f64 / (a.right - a.left) as f64;
        let expected = ms(&bars[i + 1]) / ms(&bars[i]);
        assert!(
            (ratio - expected).abs() < 0.05,
            "bar widths in {shot}: {ratio} vs {expected}"
        );
    }
    for r in &chart {
        assert!(r.bottom - r.top <= 20, "{r:?}");
        assert!(r.bottom < seen.screenshot.height, "the chart is cut: {r:?}");
    }
}

/// `--from REGION` draws every waterfall from that deployment.
#[test]
fn the_waterfalls_are_drawn_from_the_deployment_from_names() {
    let shop = project_path("shop");
    let default = page_with(&shop, &["-q"], &[]);
    let from = page_with(&shop, &["-q", "--from", "eu-central-1"], &[]);
    // What the page shows before a script swaps in another deployment's waterfalls.
    let visible = |html: &str| {
        let mut out = String::new();
        let mut rest = html;
        while let Some(at) = rest.find("<template") {
            out.push_str(&rest[..at]);
            let end = rest[at..].find("</template>").unwrap() + at;
            rest = &rest[end + "</template>".len()..];
        }
        out.push_str(rest);
        out
    };
    let (default, from) = (visible(&default), visible(&from));
    assert!(default.contains("<figcaption>as configured from us-east-1: ≈ 557 ms"));
    assert!(
        !from.contains("as configured from us-east-1"),
        "every route is drawn from eu-central-1"
    );
    assert!(from.contains("<figcaption>as configured from eu-central-1: ≈ 6 ms"));
}

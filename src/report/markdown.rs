//! `--format markdown`: the pull-request comment view. A title line with a verdict; with `--compare-to`,
//! the routes whose estimate changed and the new findings, then every route in a collapsed section;
//! without it, the findings and the routes. The GitHub job summary (`--format github`) shares the tables.

use super::Format;
use crate::gate::{Comparison, RouteChange};
use crate::rules::{fmt_ms, Diagnostic, Level};
use crate::{Analysis, RouteReport};

pub struct Markdown {
    /// `--max-findings N`: at most N findings listed (else [`MAX_FINDINGS`]).
    pub max_findings: Option<usize>,
}

/// Findings listed in full; the rest are counted.
pub const MAX_FINDINGS: usize = 50;

impl Format for Markdown {
    fn render(&self, a: &Analysis) -> String {
        render_with(a, &Links::from_env(), self.max_findings)
    }
}

/// The most characters a comment may have: GitHub refuses one of more than 65,536, and a bot's comment
/// tool may add a header of its own.
pub const MAX_CHARS: usize = 60_000;

/// The comment, with `file:line` linked as `links` says, under [`MAX_CHARS`]: where it would be longer,
/// the route table keeps its costliest routes and the findings list its costliest findings, and each says
/// how many it left out.
pub fn render_with(a: &Analysis, links: &Links, max_findings: Option<usize>) -> String {
    let mut limits = Limits {
        routes: usize::MAX,
        findings: max_findings.unwrap_or(MAX_FINDINGS),
    };
    loop {
        let out = render_limited(a, links, limits);
        if out.chars().count() <= MAX_CHARS || (limits.routes == 0 && limits.findings == 0) {
            return out;
        }
        limits = Limits {
            routes: (limits.routes.min(a.routes.len()) / 2),
            findings: limits.findings / 2,
        };
    }
}

/// How many routes and findings a comment lists.
#[derive(Clone, Copy)]
struct Limits {
    routes: usize,
    findings: usize,
}

fn render_limited(a: &Analysis, links: &Links, limits: Limits) -> String {
    let mut out = String::new();
    match &a.comparison {
        Some(c) => {
            let new = new_findings(a, c);
            out.push_str(&comparison_view(c, &new, links));
            out.push_str(&baseline_line(a));
            out.push_str(&format!(
                "<details><summary>All {}</summary>\n\n",
                plural(a.routes.len(), "route")
            ));
            out.push_str(&routes_table_top(a, limits.routes));
            out.push_str(&format!("\n{}\n\n</details>\n", topology(a)));
        }
        None => {
            out.push_str(&format!("### hopcheck: {}\n\n", verdict(a)));
            let shown: Vec<Finding> = a
                .diagnostics
                .iter()
                .filter(|d| d.suppressed.is_none())
                .map(|d| Finding::of(a, d))
                .collect();
            if !shown.is_empty() {
                out.push_str("**Findings**\n\n");
                out.push_str(&findings_list_top(&shown, links, limits.findings));
                out.push('\n');
            }
            let suppressed = a.diagnostics.len() - shown.len();
            if suppressed > 0 {
                out.push_str(&format!(
                    "{} not listed (allowed inline, ignored in hopcheck.toml or accepted by the baseline).\n\n",
                    plural(suppressed, "suppressed finding")
                ));
            }
            out.push_str(&baseline_line(a));
            out.push_str(&routes_table_top(a, limits.routes));
            out.push_str(&format!("\n{}\n", topology(a)));
        }
    }
    out
}

/// Links from `file:line` to the file at the analysed commit, or wherever a `--source-url` template says.
#[derive(Debug, Clone, Default)]
pub struct Links {
    /// The address of a line, in pieces; `None` for plain text.
    template: Option<Vec<Piece>>,
}

/// A piece of a link's address: text as it is, or a placeholder.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    /// `{path}`: the file's path from the repository's root, percent-encoded.
    Path,
    /// `{line}`: the line number.
    Line,
}

/// The environment variables that links to the code are made from (a report's output depends on them).
pub const LINK_VARIABLES: [&str; 5] = [
    "GITHUB_SERVER_URL",
    "GITHUB_REPOSITORY",
    "GITHUB_SHA",
    "CI_PROJECT_URL",
    "CI_COMMIT_SHA",
];

impl Links {
    /// Plain `file:line`, no links.
    pub fn none() -> Links {
        Links::default()
    }

    /// Links into `repo` (`owner/name`) at commit `sha` on `server` (`https://github.com`).
    pub fn github(server: &str, repo: &str, sha: &str) -> Links {
        let [server, repo, sha] = [server.trim(), repo.trim(), sha.trim()];
        if server.is_empty() || repo.is_empty() || sha.is_empty() {
            return Links::none();
        }
        Links::blob(format!(
            "{}/{}/blob/{}/",
            server.trim_end_matches('/'),
            repo.trim_matches('/'),
            sha
        ))
    }

    /// Links into the GitLab project at `project` (`https://gitlab.com/group/project`) at commit `sha`.
    pub fn gitlab(project: &str, sha: &str) -> Links {
        let [project, sha] = [project.trim(), sha.trim()];
        if project.is_empty() || sha.is_empty() {
            return Links::none();
        }
        Links::blob(format!("{}/-/blob/{sha}/", project.trim_end_matches('/')))
    }

    /// `{prefix}{path}#L{line}`.
    fn blob(prefix: String) -> Links {
        Links {
            template: Some(vec![
                Piece::Text(prefix),
                Piece::Path,
                Piece::Text("#L".into()),
                Piece::Line,
            ]),
        }
    }

    /// Links to `template`, an `http://` or `https://` address in which `{path}` stands for the file's
    /// path from the repository's root (percent-encoded) and `{line}` for the line, e.g.
    /// `https://git.example.com/shop/-/blob/main/{path}#L{line}`. The error says what is wrong with it.
    pub fn template(template: &str) -> Result<Links, String> {
        if template
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
        {
            return Err("an address has no spaces or control characters".into());
        }
        let lower = template.to_ascii_lowercase();
        let Some(after_scheme) = ["https://", "http://"]
            .iter()
            .find(|s| lower.starts_with(*s))
            .map(|s| &template[s.len()..])
        else {
            return Err("the address must start with https:// or http://".into());
        };
        let host = &after_scheme[..after_scheme
            .find(['/', '?', '#'])
            .unwrap_or(after_scheme.len())];
        if host.is_empty() {
            return Err("the address names no host".into());
        }
        if host.contains('{') {
            return Err("the host must be written out, not come from a placeholder".into());
        }
        let mut pieces = Vec::new();
        let mut text = String::new();
        let mut rest = template;
        while let Some(open) = rest.find('{') {
            text.push_str(&rest[..open]);
            let Some(close) = rest[open..].find('}') else {
                return Err("a `{` is not closed: the placeholders are {path} and {line}".into());
            };
            let piece = match &rest[open + 1..open + close] {
                "path" => Piece::Path,
                "line" => Piece::Line,
                other => {
                    return Err(format!(
                    "unknown placeholder {{{other}}}: the placeholders are {{path}} and {{line}}"
                ))
                }
            };
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(&mut text)));
            }
            pieces.push(piece);
            rest = &rest[open + close + 1..];
        }
        text.push_str(rest);
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        if !pieces.contains(&Piece::Path) {
            return Err("the address needs {path}, where the file's path goes".into());
        }
        Ok(Links {
            template: Some(pieces),
        })
    }

    /// From the CI's variables (see [`LINK_VARIABLES`]): GitHub Actions' `GITHUB_SERVER_URL`, `GITHUB_REPOSITORY` and `GITHUB_SHA`
    /// when all three are set, else GitLab CI's `CI_PROJECT_URL` and `CI_COMMIT_SHA` when both are.
    pub fn from_env() -> Links {
        let var = |name: &str| {
            debug_assert!(LINK_VARIABLES.contains(&name));
            std::env::var(name).unwrap_or_default()
        };
        let github = Links::github(
            &var("GITHUB_SERVER_URL"),
            &var("GITHUB_REPOSITORY"),
            &var("GITHUB_SHA"),
        );
        if github.template.is_some() {
            return github;
        }
        Links::gitlab(&var("CI_PROJECT_URL"), &var("CI_COMMIT_SHA"))
    }

    /// The address of a line, when links are on.
    pub fn url(&self, file: &str, line: u32) -> Option<String> {
        let mut out = String::new();
        for piece in self.template.as_ref()? {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Path => out.push_str(&encode_path(file)),
                Piece::Line => out.push_str(&line.to_string()),
            }
        }
        Some(out)
    }

    /// `` `file:line` ``, linked when links are on.
    pub fn place(&self, file: &str, line: u32) -> String {
        let text = code(&format!("{file}:{line}"));
        match self.url(file, line) {
            Some(url) => format!("[{text}]({url})"),
            None => text,
        }
    }
}

/// Percent-encodes a relative path for a URL, keeping its slashes.
pub fn encode_path(path: &str) -> String {
    let mut out = String::new();
    for b in path.trim_start_matches("./").bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(b as char)
            }
            b'\\' => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// A finding as the Markdown views list it.
#[derive(Debug, Clone)]
pub struct Finding<'a> {
    pub lint: &'a str,
    pub file: &'a str,
    pub line: u32,
    pub message: &'a str,
    pub help: &'a str,
    /// Whether it fails the run (`--fail-on`).
    pub fails: bool,
}

impl<'a> Finding<'a> {
    pub fn of(a: &'a Analysis, d: &'a Diagnostic) -> Finding<'a> {
        Finding {
            lint: d.lint,
            file: &a.repo_paths[d.file],
            line: d.loc.line,
            message: &d.message,
            help: &d.help,
            fails: a.fail_on.fails(d.level),
        }
    }
}

/// The comparison's new findings that count, in report order.
fn new_findings<'a>(a: &'a Analysis, c: &Comparison) -> Vec<Finding<'a>> {
    a.diagnostics
        .iter()
        .filter(|d| d.suppressed.is_none() && c.new_findings.contains(&d.fingerprint))
        .map(|d| Finding::of(a, d))
        .collect()
}

/// `- **lint** in `file:line` — message`, the help on the next line; at most [`MAX_FINDINGS`].
pub fn findings_list(findings: &[Finding], links: &Links) -> String {
    findings_list_top(findings, links, MAX_FINDINGS)
}

/// [`findings_list`] with at most `max` findings.
fn findings_list_top(findings: &[Finding], links: &Links, max: usize) -> String {
    let mut out = String::new();
    for f in findings.iter().take(max) {
        out.push_str(&format!(
            "- **{}** in {} — {}",
            f.lint,
            links.place(f.file, f.line),
            text(f.message)
        ));
        if f.help.trim().is_empty() {
            out.push('\n');
        } else {
            // A backslash at the end of a line is a hard line break.
            out.push_str(&format!("\\\n  {}\n", text(f.help)));
        }
    }
    if findings.len() > max {
        out.push_str(&format!(
            "- and {} more (`--format json` lists them all)\n",
            findings.len() - max
        ));
    }
    out
}

/// The title, the changed routes and the new findings of a comparison.
pub fn comparison_view(c: &Comparison, new: &[Finding], links: &Links) -> String {
    let mut out = format!(
        "### hopcheck: {}\n\nCompared with {}",
        comparison_verdict(c, new),
        code(&c.base)
    );
    if c.fixed_findings > 0 {
        out.push_str(&format!(": {} fixed", plural(c.fixed_findings, "finding")));
    }
    out.push_str(".\n\n");
    if c.routes.is_empty() {
        out.push_str("No route's estimate changed.\n\n");
    } else {
        out.push_str(&changes_table(c));
        out.push('\n');
    }
    if !new.is_empty() {
        out.push_str("**New findings**\n\n");
        out.push_str(&findings_list(new, links));
        out.push('\n');
    }
    out
}

/// `❌ 2 routes got slower, 1 new finding`, `⚠️ 1 route got slower`, `✅ no route got slower`.
/// ❌ when a route regressed past `--fail-on-regression` or a new finding fails the run.
pub fn comparison_verdict(c: &Comparison, new: &[Finding]) -> String {
    let slower = distinct(
        c.routes
            .iter()
            .filter(|r| delta(r).is_some_and(|d| d > 0.0)),
    );
    let regressed = distinct(c.routes.iter().filter(|r| r.regression));
    let icon = if regressed > 0 || new.iter().any(|f| f.fails) {
        "❌"
    } else if slower > 0 || !new.is_empty() {
        "⚠️"
    } else {
        "✅"
    };
    let mut text = match slower {
        0 => "no route got slower".to_string(),
        1 => "1 route got slower".to_string(),
        n => format!("{n} routes got slower"),
    };
    if regressed > 0 && regressed < slower {
        text.push_str(&format!(" ({regressed} past the threshold)"));
    }
    if !new.is_empty() {
        text.push_str(&format!(", {}", plural(new.len(), "new finding")));
    }
    format!("{icon} {text}")
}

/// How many different routes the changes are about.
fn distinct<'a>(changes: impl Iterator<Item = &'a RouteChange>) -> usize {
    let mut keys: Vec<_> = changes.map(|r| (&r.method, &r.path, &r.handler)).collect();
    keys.sort();
    keys.dedup();
    keys.len()
}

/// After minus before, when the route exists on both sides; changes below 0.05 ms are none.
fn delta(r: &RouteChange) -> Option<f64> {
    let d = r.after_ms? - r.before_ms?;
    Some(if d.abs() < 0.05 { 0.0 } else { d })
}

/// The routes whose estimate changed: before → after per deployment, the delta, budget and status;
/// regressions first, then the largest slowdowns.
pub fn changes_table(c: &Comparison) -> String {
    let mut rows: Vec<&RouteChange> = c.routes.iter().collect();
    let rank = |r: &RouteChange| match (r.before_ms, r.after_ms) {
        (Some(_), Some(_)) => 0,
        (None, _) => 1,
        (_, None) => 2,
    };
    rows.sort_by(|x, y| {
        y.regression
            .cmp(&x.regression)
            .then(rank(x).cmp(&rank(y)))
            .then(delta(y).unwrap_or(0.0).total_cmp(&delta(x).unwrap_or(0.0)))
            .then_with(|| (&x.path, &x.method).cmp(&(&y.path, &y.method)))
    });
    let mut out = String::from(
        "| route | deployment | before → after | change | budget | status |\n\
         |:--|:--|--:|--:|--:|:--|\n",
    );
    for r in rows {
        let ms = |v: Option<f64>| v.map_or("—".to_string(), fmt_ms);
        let span = match (r.before_ms, r.after_ms) {
            (None, None) => "—".to_string(),
            (before, after) => format!("{} → {} ms", ms(before), ms(after)),
        };
        let change = match (r.before_ms, r.after_ms) {
            (Some(b), Some(a)) => change(b, a),
            (None, Some(_)) => "new route".to_string(),
            (Some(_), None) => "removed".to_string(),
            (None, None) => String::new(),
        };
        let over = r.after_ms.is_some_and(|a| a > r.budget_ms);
        let d = delta(r);
        let (icon, word) = if r.after_ms.is_none() {
            ("➖", "removed")
        } else if r.before_ms.is_none() {
            (if over { "❌" } else { "✅" }, "new")
        } else if r.regression {
            ("❌", "regression")
        } else if d.is_some_and(|d| d > 0.0) {
            (if over { "❌" } else { "⚠️" }, "slower")
        } else if d.is_some_and(|d| d < 0.0) {
            (if over { "❌" } else { "✅" }, "faster")
        } else {
            (if over { "❌" } else { "✅" }, "unchanged")
        };
        let status = if over {
            format!("{icon} {word}, over budget")
        } else {
            format!("{icon} {word}")
        };
        out.push_str(&row(&[
            route_cell(r.method.as_deref(), r.path.as_deref()),
            cell(&r.deployment),
            span,
            change,
            format!("{} ms", fmt_ms(r.budget_ms)),
            status,
        ]));
    }
    out
}

/// `+93 ms (+50%)`, `−12 ms (−8%)`, `±0 ms`.
fn change(before: f64, after: f64) -> String {
    let d = after - before;
    if d.abs() < 0.05 {
        return "±0 ms".to_string();
    }
    let sign = if d > 0.0 { "+" } else { "−" };
    let mut out = format!("{sign}{} ms", fmt_ms(d.abs()));
    if before > 0.0 {
        out.push_str(&format!(" ({sign}{:.0}%)", (d.abs() / before * 100.0)));
    }
    out
}

/// Every route, costliest first: route, handler, round trips, one estimate per deployment, budget,
/// status.
pub fn routes_table(a: &Analysis) -> String {
    routes_table_top(a, usize::MAX)
}

/// [`routes_table`] with its `max` costliest routes, and a last row saying how many it left out.
fn routes_table_top(a: &Analysis, max: usize) -> String {
    if a.routes.is_empty() {
        return "No request handlers found.\n".to_string();
    }
    let services = super::several_services(a);
    let (mut out, mut align) = if services {
        (
            String::from("| service | route | handler | round trips |"),
            String::from("|:--|:--|:--|--:|"),
        )
    } else {
        (
            String::from("| route | handler | round trips |"),
            String::from("|:--|:--|--:|"),
        )
    };
    for d in &a.config.deployments {
        out.push_str(&format!(" {} |", cell(d)));
        align.push_str("--:|");
    }
    let cache = super::cache_heading(a);
    if let Some(heading) = &cache {
        out.push_str(&format!(" {heading} |"));
        align.push_str("--:|");
    }
    out.push_str(" budget | status |\n");
    align.push_str("--:|:--|\n");
    out.push_str(&align);
    let routes = costliest_first(&a.routes);
    for r in routes.iter().take(max) {
        let mut cells = vec![
            route_cell(r.method.as_deref(), r.path.as_deref()),
            code(&r.handler_path),
            trips(r),
        ];
        if services {
            cells.insert(0, cell(&super::service_cell(r)));
        }
        cells.extend(r.cost.iter().map(super::cost_cell));
        if cache.is_some() {
            cells.push(super::cache_cell(r));
        }
        cells.push(budget(r));
        cells.push(if r.cost.iter().any(|c| c.over_budget) {
            "❌ over budget".to_string()
        } else {
            "✅".to_string()
        });
        out.push_str(&row(&cells));
    }
    if routes.len() > max {
        out.push_str(&format!(
            "\n{} more, cheaper routes left out to keep this comment short (`--format json` lists them all).\n",
            routes.len() - max
        ));
    }
    out
}

/// The routes ordered by their costliest deployment, costliest first.
pub fn costliest_first(routes: &[RouteReport]) -> Vec<&RouteReport> {
    let worst = |r: &RouteReport| r.worst_ms();
    let mut out: Vec<&RouteReport> = routes.iter().collect();
    out.sort_by(|x, y| {
        worst(y)
            .total_cmp(&worst(x))
            .then_with(|| (&x.path, &x.method).cmp(&(&y.path, &y.method)))
    });
    out
}

/// `3`, or `2–3` when the path that runs to the end makes fewer round trips than the worst case; `≥ 3`
/// when calls on the route could not be resolved (the count leaves them out).
pub fn trips(r: &RouteReport) -> String {
    let count = if r.typical_round_trips < r.round_trips {
        format!("{}–{}", r.typical_round_trips, r.round_trips)
    } else {
        r.round_trips.to_string()
    };
    if r.unresolved.is_empty() {
        count
    } else {
        format!("≥ {count}")
    }
}

/// `250 ms`, or `250 ms / 150 ms` (per deployment) when the deployments' budgets differ.
fn budget(r: &RouteReport) -> String {
    let all: Vec<String> = r
        .served()
        .map(|c| format!("{} ms", fmt_ms(c.budget_ms)))
        .collect();
    if all.windows(2).all(|w| w[0] == w[1]) {
        all.into_iter().next().unwrap_or_default()
    } else {
        all.join(" / ")
    }
}

/// `` `GET /users/{id}` ``, or _no route found_ for a handler whose route was not found.
pub fn route_cell(method: Option<&str>, path: Option<&str>) -> String {
    match (method, path) {
        (Some(m), Some(p)) => code(&format!("{m} {p}")),
        (None, Some(p)) => code(p),
        _ => "_no route found_".to_string(),
    }
}

/// The first line of a run without a comparison: `❌ 1 of 5 routes over budget; 1 error, 4 warnings`.
/// ❌ when the run fails, ⚠️ when something is over budget or found, ✅ otherwise.
pub fn verdict(a: &Analysis) -> String {
    let (errors, warnings) = counts(&a.diagnostics);
    let over = a.coverage().over_budget;
    let checked = a.routes.iter().filter(|r| r.checked).count();
    let icon = if a.exit_code() != 0 {
        "❌"
    } else if over > 0 || errors + warnings > 0 {
        "⚠️"
    } else {
        "✅"
    };
    let mut routes = if over > 0 {
        format!("{over} of {} over budget", plural(checked, "route"))
    } else if checked == 1 {
        "the route is within budget".to_string()
    } else {
        format!("all {} within budget", plural(checked, "route"))
    };
    if checked < a.routes.len() {
        routes.push_str(&format!(
            " ({} without a route not checked{})",
            plural(a.routes.len() - checked, "handler"),
            super::unchecked_over(&a.coverage())
        ));
    }
    let findings = if errors + warnings == 0 {
        "no findings".to_string()
    } else {
        format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    };
    format!("{icon} {routes}; {findings}")
}

/// Unsuppressed (errors, warnings).
pub fn counts(diagnostics: &[Diagnostic]) -> (usize, usize) {
    let live = || diagnostics.iter().filter(|d| d.suppressed.is_none());
    (
        live().filter(|d| d.level == Level::Error).count(),
        live().filter(|d| d.level == Level::Warn).count(),
    )
}

/// With `--baseline`: what it accepted, and how many of its entries no longer match.
pub fn baseline_line(a: &Analysis) -> String {
    let Some(b) = &a.baseline else {
        return String::new();
    };
    let mut out = format!(
        "Baseline {}: {} accepted, {}",
        code(&b.file),
        plural(b.matched, "finding"),
        plural(b.stale.len(), "stale entry")
    );
    if !b.stale.is_empty() {
        out.push_str(" (fixed: the baseline can shrink)");
    }
    out.push_str(".\n\n");
    out
}

/// Where the costs come from and the run's notes, in small print, one paragraph each.
pub fn topology(a: &Analysis) -> String {
    let line = super::topology_line(a);
    let mut out = format!("<sub>{}</sub>", text(&line));
    for note in a.notes().into_iter().filter(|n| *n != line) {
        out.push_str(&format!("\n\n<sub>note: {}</sub>", text(&note)));
    }
    out
}

/// `1 route`, `2 routes`, `1 stale entry`, `2 stale entries`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else if let Some(stem) = word.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {word}s")
    }
}

/// One table row from cells already in Markdown.
pub fn row(cells: &[String]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

/// Plain text for a table cell: pipes escaped, one line.
pub fn cell(s: &str) -> String {
    text(s).replace('|', "\\|")
}

/// A code span (pipes escaped, so it can sit in a table cell).
pub fn code(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ").replace('|', "\\|");
    if s.contains('`') {
        format!("`` {s} ``")
    } else {
        format!("`{s}`")
    }
}

/// Text on one line, with `<` outside code spans escaped so that it is never taken for HTML.
pub fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_code = false;
    for ch in s.chars() {
        match ch {
            '`' => {
                in_code = !in_code;
                out.push(ch);
            }
            '\r' => {}
            '\n' => out.push(' '),
            '<' if !in_code => out.push_str("&lt;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change_row(before: Option<f64>, after: Option<f64>, regression: bool) -> RouteChange {
        RouteChange {
            method: Some("GET".into()),
            path: Some("/users/{id}".into()),
            handler: "user_profile".into(),
            deployment: "us-east-1".into(),
            before_ms: before,
            after_ms: after,
            budget_ms: 250.0,
            regression,
        }
    }

    fn comparison(routes: Vec<RouteChange>) -> Comparison {
        Comparison {
            base: "origin/main".into(),
            routes,
            new_findings: vec!["00000000000000ab:1".into()],
            fixed_findings: 1,
        }
    }

    fn finding(fails: bool) -> Finding<'static> {
        Finding {
            lint: "sequential-queries",
            file: "src/routes/users.rs",
            line: 23,
            message: "3 sequential round trips to eu-central-1",
            help: "merge them into one statement with a JOIN",
            fails,
        }
    }

    #[test]
    fn a_regression_shows_before_after_and_fails_the_verdict() {
        let c = comparison(vec![
            change_row(Some(185.7), Some(278.55), true),
            faster_row(),
        ]);
        let view = comparison_view(&c, &[finding(false)], &Links::none());
        assert!(
            view.starts_with(
                "### hopcheck: ❌ 1 route got slower, 1 new finding\n\nCompared with `origin/main`: 1 finding fixed.\n\n"
            ),
            "{view}"
        );
        assert!(
            view.contains(
                "| `GET /users/{id}` | us-east-1 | 186 → 279 ms | +93 ms (+50%) | 250 ms | ❌ regression, over budget |\n"
            ),
            "{view}"
        );
        assert!(
            view.contains(
                "| `GET /orders` | eu-central-1 | 5 → 2 ms | −3 ms (−60%) | 250 ms | ✅ faster |\n"
            ),
            "{view}"
        );
        // The regression comes first.
        assert!(view.find("/users/{id}").unwrap() < view.find("`GET /orders`").unwrap());
        assert!(view.contains(
            "**New findings**\n\n- **sequential-queries** in `src/routes/users.rs:23` — 3 sequential round trips to eu-central-1\\\n  merge them into one statement with a JOIN\n"
        ), "{view}");
    }

    fn faster_row() -> RouteChange {
        RouteChange {
            method: Some("GET".into()),
            path: Some("/orders".into()),
            handler: "list_orders".into(),
            deployment: "eu-central-1".into(),
            before_ms: Some(5.0),
            after_ms: Some(2.0),
            budget_ms: 250.0,
            regression: false,
        }
    }

    #[test]
    fn verdicts_read_the_changes() {
        let none = comparison(vec![faster_row()]);
        assert_eq!(comparison_verdict(&none, &[]), "✅ no route got slower");
        let slower = comparison(vec![change_row(Some(100.0), Some(120.0), false)]);
        assert_eq!(comparison_verdict(&slower, &[]), "⚠️ 1 route got slower");
        assert_eq!(
            comparison_verdict(&slower, &[finding(true), finding(false)]),
            "❌ 1 route got slower, 2 new findings"
        );
        let two = comparison(vec![
            change_row(Some(100.0), Some(200.0), true),
            RouteChange {
                deployment: "eu-central-1".into(),
                ..change_row(Some(1.0), Some(2.0), true)
            },
            RouteChange {
                path: Some("/orders".into()),
                ..change_row(Some(1.0), Some(1.5), false)
            },
        ]);
        assert_eq!(
            comparison_verdict(&two, &[]),
            "❌ 2 routes got slower (1 past the threshold)"
        );
    }

    #[test]
    fn new_and_removed_routes_have_no_delta() {
        let c = comparison(vec![
            change_row(None, Some(300.0), false),
            RouteChange {
                path: Some("/gone".into()),
                ..change_row(Some(10.0), None, false)
            },
        ]);
        let table = changes_table(&c);
        assert!(
            table.contains(
                "| `GET /users/{id}` | us-east-1 | — → 300 ms | new route | 250 ms | ❌ new, over budget |"
            ),
            "{table}"
        );
        assert!(
            table.contains(
                "| `GET /gone` | us-east-1 | 10 → — ms | removed | 250 ms | ➖ removed |"
            ),
            "{table}"
        );
    }

    #[test]
    fn links_point_at_the_line_at_the_commit() {
        let links = Links::github("https://github.com/", "acme/shop", "0123abc");
        assert_eq!(
            links.url("src/routes/users.rs", 23).as_deref(),
            Some("https://github.com/acme/shop/blob/0123abc/src/routes/users.rs#L23")
        );
        assert_eq!(
            links.place("src/a b(1).rs", 7),
            "[`src/a b(1).rs:7`](https://github.com/acme/shop/blob/0123abc/src/a%20b%281%29.rs#L7)"
        );
        assert_eq!(
            Links::github("https://github.com", "", "0123abc").url("a.rs", 1),
            None
        );
        assert_eq!(Links::none().place("a.rs", 1), "`a.rs:1`");
    }

    #[test]
    fn gitlab_links_and_templates_fill_in_the_path_and_the_line() {
        let links = Links::gitlab("https://gitlab.example/acme/shop/", "0123abc");
        assert_eq!(
            links.url("src/a b.rs", 9).as_deref(),
            Some("https://gitlab.example/acme/shop/-/blob/0123abc/src/a%20b.rs#L9")
        );
        assert_eq!(Links::gitlab("", "0123abc").url("a.rs", 1), None);
        let links = Links::template("https://code.example/view?file={path}&at={line}&again={path}")
            .unwrap();
        assert_eq!(
            links.url("src/{line}.rs", 4).as_deref(),
            Some("https://code.example/view?file=src/%7Bline%7D.rs&at=4&again=src/%7Bline%7D.rs")
        );
        assert_eq!(
            Links::template("HTTP://h/{path}")
                .unwrap()
                .url("a.rs", 1)
                .as_deref(),
            Some("HTTP://h/a.rs")
        );
    }

    #[test]
    fn a_template_must_be_an_http_address_with_the_path_after_its_host() {
        let error = |t: &str| Links::template(t).unwrap_err();
        assert!(error("https://h/blob/main#L{line}").contains("needs {path}"));
        for t in [
            "ftp://h/{path}",
            "javascript:alert(1)//{path}",
            "{path}#L{line}",
            "file:///{path}",
        ] {
            assert!(error(t).contains("https:// or http://"), "{t}");
        }
        assert!(error("https://{path}").contains("host"));
        assert!(error("https://h.example{path}").contains("host"));
        assert!(error("https:///{path}").contains("no host"));
        assert!(error("https://h/{file}").contains("unknown placeholder {file}"));
        assert!(error("https://h/{path").contains("not closed"));
        assert!(error("https://h/{path} x").contains("spaces"));
    }

    #[test]
    fn findings_are_capped() {
        let many = vec![finding(false); MAX_FINDINGS + 3];
        let list = findings_list(&many, &Links::none());
        assert_eq!(
            list.matches("- **sequential-queries**").count(),
            MAX_FINDINGS
        );
        assert!(
            list.ends_with("- and 3 more (`--format json` lists them all)\n"),
            "{list}"
        );
    }

    #[test]
    fn round_trips_show_the_typical_and_the_worst_case() {
        let route = |typical, worst| RouteReport {
            method: Some("GET".into()),
            path: Some("/a|b".into()),
            handler: "h".into(),
            handler_path: "routes::h".into(),
            service: None,
            file: "src/routes.rs".into(),
            line: 1,
            round_trips: worst,
            typical_round_trips: typical,
            checkout_pings: 0,
            prepare_round_trips: 0,
            worst_case_branch: None,
            lints: Vec::new(),
            cost: Vec::new(),
            trips: Vec::new(),
            trips_left_out: 0,
            unplaced_calls: 0,
            unresolved: Vec::new(),
            checked: true,
            cache: None,
            function: 0,
        };
        assert_eq!(trips(&route(2, 3)), "2–3");
        assert_eq!(trips(&route(3, 3)), "3");
        let mut unsure = route(3, 3);
        unsure.unresolved.push(crate::Unresolved {
            file: "src/routes.rs".into(),
            line: 2,
            text: "x.load(db)".into(),
        });
        assert_eq!(trips(&unsure), "≥ 3");
        assert_eq!(route_cell(Some("GET"), Some("/a|b")), "`GET /a\\|b`");
        assert_eq!(route_cell(None, None), "_no route found_");
    }

    #[test]
    fn cells_and_text_are_escaped() {
        assert_eq!(cell("a|b\nc"), "a\\|b c");
        assert_eq!(code("x|y"), "`x\\|y`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(text("WHERE <cond> `Vec<T>`"), "WHERE &lt;cond> `Vec<T>`");
        assert_eq!(plural(1, "stale entry"), "1 stale entry");
        assert_eq!(plural(2, "stale entry"), "2 stale entries");
    }
}

//! `hopcheck report --html FILE`: one self-contained page (inline CSS, inline SVG, a little inline
//! script; nothing loaded from anywhere) with a summary and, per route, its round trips as a waterfall
//! beside the same route under the plan's scenarios. The layout comes from [`crate::waterfall`]; this
//! file only writes it. Every piece of text comes from analysed code or its configuration, so every
//! piece is escaped.

use std::fmt::Write as _;

use crate::report::markdown::Links;
use crate::rules::fmt_ms;
use crate::waterfall::{self, Bar, RouteWaterfalls, Waterfall};
use crate::{Analysis, RouteReport};

/// The width of the main chart's plot area, and of a scenario's, in pixels.
const MAIN_WIDTH: f64 = 460.0;
const SMALL_WIDTH: f64 = 220.0;
/// Room on the left of the main chart for the bars' labels, at most, and the width of one character of
/// their monospace font.
const MAX_LABEL_WIDTH: f64 = 420.0;
const CHAR_WIDTH: f64 = 6.7;
const MAIN_ROW: f64 = 20.0;
const SMALL_ROW: f64 = 8.0;
/// How many of the costliest routes the summary lists per deployment.
const WORST: usize = 3;

/// The page, with `file:line` linked as `links` says (relative to the analysed folder without links).
pub fn render(a: &Analysis, links: &Links) -> String {
    render_from(a, links, None)
}

/// [`render`], with the waterfalls drawn from the deployment `from` names.
pub fn render_from(a: &Analysis, links: &Links, from: Option<&str>) -> String {
    // The waterfalls as drawn, and the same from every deployment for the page's deployment menu to
    // show: one pricing for all.
    let from = from.and_then(|f| a.config.deployments.iter().position(|d| d == f));
    let mut froms = vec![from];
    if a.config.deployments.len() > 1 {
        froms.extend((0..a.config.deployments.len()).map(Some));
    }
    let mut drawn = waterfall::routes_from_each(a, &froms).into_iter();
    let falls = drawn.next().unwrap_or_default();
    let every: Vec<Vec<RouteWaterfalls>> = drawn.collect();
    let mut order: Vec<&RouteWaterfalls> = falls.iter().collect();
    order.sort_by(|x, y| {
        let cost = |w: &RouteWaterfalls| {
            a.routes[w.route]
                .served()
                .next()
                .map_or(0.0, |c| c.estimated_ms)
        };
        cost(y).total_cmp(&cost(x)).then(x.route.cmp(&y.route))
    });
    let mut out = String::new();
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<title>hopcheck report</title>\n<style>");
    out.push_str(STYLE);
    out.push_str("</style>\n</head>\n<body>\n");
    summary(&mut out, a);
    controls(&mut out, a);
    out.push_str("<main id=\"routes\">\n");
    for (i, w) in order.iter().enumerate() {
        let alternatives: Vec<Option<&RouteWaterfalls>> = every
            .iter()
            .map(|falls| falls.iter().find(|x| x.route == w.route))
            .collect();
        route(&mut out, a, w, &alternatives, i, links);
    }
    out.push_str("</main>\n<script>");
    out.push_str(SCRIPT);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

/// Escapes text for an element's content or a quoted attribute.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (a file name may hold them) are shown as their symbols, not passed
            // through.
            c if c < ' ' && c != '\n' && c != '\t' => {
                let _ = write!(out, "&#x{:X};", 0x2400 + u32::from(c));
            }
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A relative link to a file of the analysed folder: percent-encoded, so that no file name can become
/// a scheme (`javascript:`) or another host (`//host`).
fn relative_link(file: &str, line: u32) -> String {
    let mut out = super::markdown::encode_path(file);
    if out.starts_with('/') {
        out.insert(0, '.');
    }
    format!("{out}#L{line}")
}

fn link(bar: &Bar, links: &Links) -> String {
    links
        .url(&bar.repo_file, bar.line)
        .unwrap_or_else(|| relative_link(&bar.file, bar.line))
}

/// A number for a data attribute.
fn num(ms: f64) -> String {
    let r = (ms * 1000.0).round() / 1000.0;
    format!("{r}")
}

fn route_name(r: &RouteReport) -> String {
    let name = match (&r.method, &r.path) {
        (Some(m), Some(p)) => format!("{m} {p}"),
        _ => format!("{} (no route)", r.handler_path),
    };
    match &r.service {
        Some(service) => format!("{service}: {name}"),
        None => name,
    }
}

fn summary(out: &mut String, a: &Analysis) {
    let _ = writeln!(
        out,
        "<header class=\"summary\">\n<h1>hopcheck: {}</h1>\n<p class=\"topology\">{}</p>",
        escape(&crate::report::route_totals(a)),
        escape(&crate::report::topology_line(a))
    );
    for gap in a.coverage().gaps() {
        let _ = writeln!(out, "<p class=\"gap\">{}</p>", escape(&gap));
    }
    out.push_str("<table class=\"worst\">\n<thead><tr><th>deployment</th><th>over budget</th><th>costliest routes</th></tr></thead>\n<tbody>\n");
    for (d, deployment) in a.config.deployments.iter().enumerate() {
        let mut rows: Vec<(usize, &RouteReport)> = a.routes.iter().enumerate().collect();
        // A route its service does not serve from here is no route of this deployment (`[apps]`).
        let ms = |r: &RouteReport| {
            r.cost
                .get(d)
                .filter(|c| c.deployed)
                .map_or(0.0, |c| c.estimated_ms)
        };
        rows.sort_by(|x, y| ms(y.1).total_cmp(&ms(x.1)).then(x.0.cmp(&y.0)));
        let over_here = rows
            .iter()
            .filter(|(_, r)| r.cost.get(d).is_some_and(|c| c.over_budget))
            .count();
        let worst: Vec<String> = rows
            .iter()
            .take(WORST)
            .filter(|(_, r)| ms(r) > 0.0)
            .map(|(i, r)| {
                let over = r.cost.get(d).is_some_and(|c| c.over_budget);
                format!(
                    "<li{}><a href=\"#route-{i}\">{}</a> ≈ {} ms{}</li>",
                    if over { " class=\"over\"" } else { "" },
                    escape(&route_name(r)),
                    fmt_ms(ms(r)),
                    if over { " (over budget)" } else { "" }
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr><td class=\"deployment\">{}</td><td class=\"count\">{over_here}</td><td><ol>{}</ol></td></tr>",
            escape(deployment),
            worst.join("")
        );
    }
    out.push_str("</tbody>\n</table>\n</header>\n");
}

/// Sorting and filtering, shown only when the script runs (the page is complete without it).
fn controls(out: &mut String, a: &Analysis) {
    out.push_str("<form id=\"controls\" class=\"controls\" hidden>\n");
    out.push_str("<label>sort <select id=\"sort\"><option value=\"cost-desc\">costliest first</option><option value=\"cost-asc\">cheapest first</option><option value=\"name\">by route</option></select></label>\n");
    out.push_str(
        "<label>deployment <select id=\"deployment\"><option value=\"-1\">slowest of all</option>",
    );
    for (i, d) in a.config.deployments.iter().enumerate() {
        let _ = write!(out, "<option value=\"{i}\">{}</option>", escape(d));
    }
    out.push_str("</select></label>\n");
    let mut lints: Vec<&str> = a
        .routes
        .iter()
        .flat_map(|r| r.lints.iter().map(String::as_str))
        .collect();
    lints.sort_unstable();
    lints.dedup();
    out.push_str("<label>lint <select id=\"lint\"><option value=\"\">any</option>");
    for l in lints {
        let _ = write!(out, "<option value=\"{0}\">{0}</option>", escape(l));
    }
    out.push_str("</select></label>\n");
    out.push_str(
        "<label><input type=\"checkbox\" id=\"over\"> only over budget</label>\n</form>\n",
    );
}

/// A route's section: its heading, its numbers, and its waterfalls from `w`'s deployment, with those
/// from each deployment (`alternatives`, by index) kept in templates the deployment menu swaps in.
fn route(
    out: &mut String,
    a: &Analysis,
    w: &RouteWaterfalls,
    alternatives: &[Option<&RouteWaterfalls>],
    order: usize,
    links: &Links,
) {
    let r = &a.routes[w.route];
    let costs: Vec<String> = r
        .cost
        .iter()
        .map(|c| num(if c.deployed { c.estimated_ms } else { 0.0 }))
        .collect();
    let overs: Vec<&str> = r
        .cost
        .iter()
        .map(|c| if c.over_budget { "1" } else { "0" })
        .collect();
    let estimate = r.served().next().map_or(0.0, |c| c.estimated_ms);
    let _ = writeln!(
        out,
        "<section class=\"route{}\" id=\"route-{}\" data-order=\"{order}\" data-name=\"{}\" data-estimate=\"{}\" data-costs=\"{}\" data-over=\"{}\" data-deployments=\"{}\" data-lints=\"{}\" data-trips=\"{}\">",
        if r.cost.iter().any(|c| c.over_budget) { " over" } else { "" },
        w.route,
        escape(&route_name(r)),
        num(estimate),
        costs.join(" "),
        overs.join(" "),
        escape(&r.cost.iter().map(|c| c.deployment.as_str()).collect::<Vec<_>>().join(" ")),
        escape(&r.lints.join(" ")),
        r.round_trips
    );
    let (method, path) = match (&r.method, &r.path) {
        (Some(m), Some(p)) => (m.as_str(), p.as_str()),
        _ => ("", "(no route)"),
    };
    let _ = writeln!(
        out,
        "<h2><span class=\"method\">{}</span> <span class=\"path\">{}</span> <span class=\"handler\">{}</span></h2>",
        escape(method),
        escape(path),
        escape(&r.handler_path)
    );
    let costs: Vec<String> = r
        .served()
        .map(|c| {
            format!(
                "<span class=\"cost{}\">{}: ≈ {} ms of {} ms</span>",
                if c.over_budget { " over" } else { "" },
                escape(&c.deployment),
                fmt_ms(c.estimated_ms),
                fmt_ms(c.budget_ms)
            )
        })
        .collect();
    // The other case of its cached lookups, where it changes the price.
    let costs: Vec<String> = costs
        .into_iter()
        .chain(r.cache.as_ref().map(|c| {
            format!(
                "<span class=\"cache\">on a cache {}: {}</span>",
                c.case,
                escape(&c.cell(r))
            )
        }))
        .collect();
    let _ = writeln!(
        out,
        "<p class=\"meta\">{} round trip{} · {} · <a href=\"{}\">{}:{}</a>{}</p>",
        r.round_trips,
        if r.round_trips == 1 { "" } else { "s" },
        costs.join(" · "),
        escape(
            &links
                .url(&repo_path(a, &r.file), r.line)
                .unwrap_or_else(|| relative_link(&r.file, r.line))
        ),
        escape(&r.file),
        r.line,
        if r.lints.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = r
                .lints
                .iter()
                .map(|l| format!("<span class=\"lint\">{}</span>", escape(l)))
                .collect();
            format!(" · {}", names.join(" "))
        }
    );
    let from = a
        .config
        .deployments
        .iter()
        .position(|d| *d == w.current.deployment)
        .unwrap_or(0);
    let _ = writeln!(out, "<div class=\"view\" data-from=\"{from}\">");
    view(out, w, links);
    out.push_str("</div>\n");
    for (d, alt) in alternatives.iter().enumerate() {
        if let Some(alt) = alt {
            let _ = writeln!(out, "<template data-from=\"{d}\">");
            view(out, alt, links);
            out.push_str("</template>\n");
        }
    }
    out.push_str("</section>\n");
}

/// A route's waterfalls as configured and under the scenarios, and its round trips listed.
fn view(out: &mut String, w: &RouteWaterfalls, links: &Links) {
    // One scale for the route's charts, so that the scenarios' bars compare with today's.
    let scale = w
        .scenarios
        .iter()
        .map(|(_, s)| s.total_ms)
        .fold(w.current.total_ms.max(w.current.budget_ms), f64::max)
        .max(1.0);
    out.push_str("<div class=\"charts\">\n");
    chart(
        out,
        &w.current,
        "as configured",
        "current",
        scale,
        true,
        links,
    );
    out.push_str("<div class=\"scenarios\">\n");
    for (name, s) in &w.scenarios {
        let title = match *name {
            "read-replicas" => "with read replicas",
            "isolation" => "with a primary per region",
            other => other,
        };
        chart(out, s, title, name, scale, false, links);
    }
    out.push_str("</div>\n</div>\n");
    trips_list(out, &w.current, links);
}

/// A file's path from the repository's root, for links.
fn repo_path(a: &Analysis, file: &str) -> String {
    a.model
        .files
        .iter()
        .position(|f| f.path == file)
        .and_then(|i| a.repo_paths.get(i).cloned())
        .unwrap_or_else(|| file.to_string())
}

/// Tick spacing: 1, 2 or 5 × a power of ten, for at most about six ticks.
fn tick_step(scale: f64) -> f64 {
    let raw = scale / 6.0;
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power)
}

fn chart(
    out: &mut String,
    w: &Waterfall,
    title: &str,
    kind: &str,
    scale: f64,
    main: bool,
    links: &Links,
) {
    let (plot, row, left) = if main {
        let longest = w.bars.iter().map(|b| label(b).chars().count()).max();
        let left = longest.map_or(120.0, |n| n as f64 * CHAR_WIDTH + 12.0);
        (MAIN_WIDTH, MAIN_ROW, left.min(MAX_LABEL_WIDTH))
    } else {
        (SMALL_WIDTH, SMALL_ROW, 0.0)
    };
    let top = if main { 18.0 } else { 4.0 };
    let rows = w.bars.len().max(1) as f64;
    let height = top + rows * row + 6.0;
    let width = left + plot + 8.0;
    let x = |ms: f64| left + ms / scale * plot;
    let _ = writeln!(
        out,
        "<figure class=\"waterfall {}\" data-scenario=\"{}\" data-total=\"{}\" data-bars=\"{}\" data-hidden=\"{}\">",
        if main { "main" } else { "small" },
        escape(kind),
        num(w.total_ms),
        w.bars.len(),
        w.hidden
    );
    let _ = writeln!(
        out,
        "<figcaption>{} from {}: ≈ {} ms{}{}</figcaption>",
        escape(title),
        escape(&w.deployment),
        fmt_ms(w.total_ms),
        if w.total_ms > w.budget_ms {
            " <span class=\"over\">over budget</span>"
        } else {
            ""
        },
        if w.hidden > 0 {
            format!(
                " <span class=\"hidden-trips\">({} more round trips not drawn)</span>",
                w.hidden
            )
        } else {
            String::new()
        }
    );
    let _ = writeln!(
        out,
        "<svg width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-label=\"{} waterfall: {} round trips, {} ms\">",
        escape(title),
        w.bars.len(),
        fmt_ms(w.total_ms)
    );
    if main {
        let step = tick_step(scale);
        let mut t = 0.0;
        while t <= scale + 1e-9 {
            let _ = writeln!(
                out,
                "<g class=\"tick\"><line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\"/><text x=\"{0:.1}\" y=\"12\">{3} ms</text></g>",
                x(t),
                top - 2.0,
                height,
                fmt_ms(t)
            );
            t += step;
        }
    }
    for g in &w.groups {
        let _ = writeln!(
            out,
            "<rect class=\"group\" x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" data-start=\"{}\" data-end=\"{}\"><title>{}</title></rect>",
            x(g.start_ms),
            top,
            (x(g.end_ms) - x(g.start_ms)).max(1.0),
            rows * row,
            num(g.start_ms),
            num(g.end_ms),
            escape(&format!("{}: its branches run at once", g.form))
        );
    }
    for b in &w.bars {
        let y = top + b.lane as f64 * row;
        let bw = (x(b.end_ms) - x(b.start_ms)).max(1.0);
        let mult = if b.multiplier > 1 {
            format!(" ×{}", b.multiplier)
        } else {
            String::new()
        };
        let tip = format!(
            "{}{mult}: {} {}, {}:{}, ≈ {} ms{}{}",
            b.api,
            b.access,
            b.label,
            b.file,
            b.line,
            fmt_ms(b.end_ms - b.start_ms),
            if b.multiplier > 1 {
                format!(" ({} runs)", b.multiplier)
            } else {
                String::new()
            },
            b.sql
                .as_deref()
                .map(|s| format!("\n{}", s.trim()))
                .unwrap_or_default()
        );
        let _ = write!(
            out,
            "<a class=\"bar-link\" href=\"{}\"><rect class=\"bar {} {}\" x=\"{:.1}\" y=\"{:.1}\" width=\"{bw:.1}\" height=\"{:.1}\" data-start=\"{}\" data-end=\"{}\" data-lane=\"{}\" data-mult=\"{}\" data-group=\"{}\"><title>{}</title></rect>",
            escape(&link(b, links)),
            b.access,
            b.role,
            x(b.start_ms),
            y + 1.0,
            row - 2.0,
            num(b.start_ms),
            num(b.end_ms),
            b.lane,
            b.multiplier,
            b.group.map(|g| g.to_string()).unwrap_or_default(),
            escape(&tip)
        );
        if main {
            let _ = write!(
                out,
                "<text class=\"label\" x=\"4\" y=\"{:.1}\">{}</text>",
                y + row * 0.7,
                escape(&clipped(&label(b), ((left - 8.0) / CHAR_WIDTH) as usize))
            );
            if b.multiplier > 1 {
                let _ = write!(
                    out,
                    "<text class=\"mult\" x=\"{:.1}\" y=\"{:.1}\">×{}</text>",
                    x(b.end_ms) + 3.0,
                    y + row * 0.7,
                    b.multiplier
                );
            }
        }
        out.push_str("</a>\n");
    }
    if w.budget_ms > 0.0 && w.budget_ms.is_finite() {
        let bx = x(w.budget_ms);
        let _ = writeln!(
            out,
            "<line class=\"budget\" x1=\"{bx:.1}\" y1=\"{:.1}\" x2=\"{bx:.1}\" y2=\"{height:.1}\" data-ms=\"{}\"><title>budget {} ms</title></line>",
            top - 4.0,
            num(w.budget_ms),
            fmt_ms(w.budget_ms)
        );
    }
    if w.bars.is_empty() {
        let _ = writeln!(
            out,
            "<text class=\"none\" x=\"{:.1}\" y=\"{:.1}\">no round trips</text>",
            left + 4.0,
            top + row * 0.8
        );
    }
    out.push_str("</svg>\n</figure>\n");
}

/// A bar's label on the main chart: `routes/users.rs:22 read main (replica) in us-east-1`.
fn label(b: &Bar) -> String {
    format!(
        "{}:{} {} {}",
        short_file(&b.file),
        b.line,
        b.access,
        b.label
    )
}

/// At most `n` characters, the last an ellipsis when cut.
fn clipped(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        return s.to_string();
    }
    let mut out: String = s.chars().take(n.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The last two components of a path, for labels.
fn short_file(file: &str) -> &str {
    let mut cut = file.len();
    for _ in 0..2 {
        match file[..cut].rfind('/') {
            Some(i) => cut = i,
            None => return file,
        }
    }
    &file[cut + 1..]
}

/// The round trips as text: what the chart shows, readable without it.
fn trips_list(out: &mut String, w: &Waterfall, links: &Links) {
    if w.bars.is_empty() {
        return;
    }
    out.push_str("<details class=\"trips\"><summary>round trips in path order</summary>\n<ol>\n");
    for b in &w.bars {
        let _ = write!(
            out,
            "<li class=\"trip {}\"><a href=\"{}\">{}:{}</a> <code>{}</code> {} {} · {}–{} ms",
            b.access,
            escape(&link(b, links)),
            escape(&b.file),
            b.line,
            escape(&b.api),
            b.access,
            escape(&b.label),
            fmt_ms(b.start_ms),
            fmt_ms(b.end_ms)
        );
        if b.multiplier > 1 {
            let _ = write!(out, " ({} runs)", b.multiplier);
        }
        if let Some(sql) = &b.sql {
            let _ = write!(out, "<pre>{}</pre>", escape(sql.trim()));
        }
        out.push_str("</li>\n");
    }
    out.push_str("</ol>\n</details>\n");
}

const STYLE: &str = r#"
:root{color-scheme:light dark;--fg:#1b1f24;--muted:#59636e;--bg:#fff;--line:#d1d9e0;--read:#2f81f7;--write:#d1242f;--unknown:#9a6700;--check:#8c959f;--prepare:#c4a15a;--over:#cf222e;--group:rgba(130,80,223,.12)}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--bg:#0d1117;--line:#3d444d;--group:rgba(163,113,247,.18)}}
[hidden]{display:none!important}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0 auto;padding:1rem 1.5rem;max-width:1400px}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.05rem;margin:.2rem 0}
.topology,.meta,figcaption{color:var(--muted)}
table.worst{border-collapse:collapse;margin:.5rem 0 1rem}table.worst td,table.worst th{border-bottom:1px solid var(--line);padding:.25rem .6rem;text-align:left;vertical-align:top}
table.worst ol{margin:0;padding-left:1.2rem}
span.over,li.over{color:var(--over);font-weight:600}
.controls{display:flex;gap:1rem;flex-wrap:wrap;padding:.5rem 0;border-bottom:1px solid var(--line);margin-bottom:.5rem}
section.route{border-bottom:1px solid var(--line);padding:.8rem 0}
section.route.over h2 .path{color:var(--over)}
.method{font-family:ui-monospace,monospace;font-weight:700}.handler{color:var(--muted);font-weight:400;font-size:.9rem}
.lint{font-family:ui-monospace,monospace;font-size:.85em;border:1px solid var(--line);border-radius:4px;padding:0 .3em}
.charts{display:flex;gap:1.2rem;flex-wrap:wrap;align-items:flex-start}
.scenarios{display:flex;flex-direction:column;gap:.4rem}
figure{margin:.3rem 0}figure.small figcaption{font-size:.8rem}
svg{display:block;overflow:visible}svg text{font:11px ui-monospace,monospace;fill:var(--fg)}
.tick line{stroke:var(--line);stroke-width:1}.tick text{fill:var(--muted);text-anchor:middle}
rect.bar{fill:var(--unknown)}rect.bar.read{fill:var(--read)}rect.bar.write{fill:var(--write)}rect.bar.check{fill:var(--check)}rect.bar.prepare{fill:var(--prepare)}
rect.bar.replica{opacity:.75}a.bar-link:hover rect.bar,a.bar-link:focus rect.bar{stroke:var(--fg);stroke-width:1.5}
rect.group{fill:var(--group)}
line.budget{stroke:var(--over);stroke-width:1.5;stroke-dasharray:4 3}
text.mult{font-weight:700}text.none{fill:var(--muted)}
details.trips{margin-top:.3rem}details.trips pre{margin:.2rem 0 .4rem;white-space:pre-wrap;font-size:.85em}
"#;

const SCRIPT: &str = r#"
(function () {
  var form = document.getElementById('controls');
  var main = document.getElementById('routes');
  if (!form || !main) return;
  form.hidden = false;
  var sections = Array.prototype.slice.call(main.querySelectorAll('section.route'));
  var pick = function (id) { return document.getElementById(id); };
  function cost(s, d) {
    var costs = s.getAttribute('data-costs').split(' ').map(Number);
    return d < 0 ? Math.max.apply(null, costs.concat([0])) : (costs[d] || 0);
  }
  function apply() {
    var d = Number(pick('deployment').value);
    var lint = pick('lint').value;
    var onlyOver = pick('over').checked;
    var sort = pick('sort').value;
    sections.forEach(function (s) {
      var lints = s.getAttribute('data-lints').split(' ');
      var over = s.getAttribute('data-over').split(' ');
      var isOver = d < 0 ? over.indexOf('1') >= 0 : over[d] === '1';
      s.hidden = (lint !== '' && lints.indexOf(lint) < 0) || (onlyOver && !isOver);
    });
    var sorted = sections.slice().sort(function (a, b) {
      if (sort === 'name') return a.getAttribute('data-name') < b.getAttribute('data-name') ? -1 : 1;
      var diff = cost(b, d) - cost(a, d);
      if (sort === 'cost-asc') diff = -diff;
      return diff || Number(a.getAttribute('data-order')) - Number(b.getAttribute('data-order'));
    });
    sorted.forEach(function (s) { main.appendChild(s); });
    // The waterfalls from the chosen deployment (the slowest of all: each route's own).
    sections.forEach(function (s) {
      var view = s.querySelector('.view');
      if (!view.hasAttribute('data-default')) view.setAttribute('data-default', view.getAttribute('data-from'));
      var from = d < 0 ? view.getAttribute('data-default') : String(d);
      var t = s.querySelector('template[data-from="' + from + '"]');
      if (t && view.getAttribute('data-from') !== from) {
        view.replaceChildren(t.content.cloneNode(true));
        view.setAttribute('data-from', from);
      }
    });
  }
  ['sort', 'deployment', 'lint', 'over'].forEach(function (id) { pick(id).addEventListener('change', apply); });
})();
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
        assert_eq!(escape("a\u{1b}b"), "a&#x241B;b");
    }

    #[test]
    fn relative_links_cannot_leave_the_page_s_folder() {
        assert_eq!(relative_link("src/a b.rs", 3), "src/a%20b.rs#L3");
        assert_eq!(
            relative_link("javascript:alert(1)", 1),
            "javascript%3Aalert%281%29#L1"
        );
        assert_eq!(relative_link("//host/x.rs", 1), ".//host/x.rs#L1");
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(279.0), 50.0);
        assert_eq!(tick_step(1500.0), 500.0);
        assert_eq!(tick_step(3.0), 0.5);
    }

    #[test]
    fn long_labels_are_cut_with_an_ellipsis() {
        assert_eq!(clipped("abcdef", 4), "abc…");
        assert_eq!(clipped("abc", 4), "abc");
    }

    #[test]
    fn labels_keep_the_last_two_path_components() {
        assert_eq!(short_file("src/routes/users.rs"), "routes/users.rs");
        assert_eq!(short_file("main.rs"), "main.rs");
    }
}

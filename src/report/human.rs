//! The human format: each finding rendered by miette with the source, a label on each round trip and the
//! loop header, then a table of routes with their cost per deployment, then a summary line.

use std::collections::HashMap;
use std::fmt;

use miette::{
    Diagnostic as _, GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError,
    MietteSpanContents, SourceCode, SourceSpan, SpanContents,
};

use super::Format;
use crate::rules::{fmt_ms, Diagnostic, Level};
use crate::Analysis;

pub struct Human {
    pub color: bool,
    pub shown: super::Shown,
}

/// A finding in the shape miette renders.
struct Rendered<'a> {
    d: &'a Diagnostic,
    source: Source<'a>,
}

/// A file's text as miette reads it, without a copy: the lines around a span are read from a little above
/// the span, not from the top of the file (the same lines, numbered the same).
struct Source<'a> {
    name: &'a str,
    text: &'a str,
}

impl SourceCode for Source<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let bytes = self.text.as_bytes();
        let at = span.offset().min(bytes.len());
        // A line terminator: `\n`, or a `\r` not followed by one (as miette counts lines).
        let ends_line =
            |i: usize| bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        // The start of a line with more than `before` lines between it and the span's line.
        let mut seen = 0;
        let mut from = 0;
        for i in (0..at).rev() {
            if ends_line(i) {
                seen += 1;
                if seen == before + 2 {
                    from = i + 1;
                    break;
                }
            }
        }
        let lines_above = memchr::memchr_iter(b'\n', &bytes[..from]).count()
            + memchr::memchr_iter(b'\r', &bytes[..from])
                .filter(|&i| bytes.get(i + 1) != Some(&b'\n'))
                .count();
        let shifted = SourceSpan::new((span.offset() - from.min(span.offset())).into(), span.len());
        let inner = bytes[from..].read_span(&shifted, before, after)?;
        let start = from + inner.span().offset();
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_string(),
            &bytes[start..start + inner.span().len()],
            SourceSpan::new(start.into(), inner.span().len()),
            inner.line() + lines_above,
            inner.column(),
            inner.line_count() + lines_above,
        )))
    }
}

impl fmt::Debug for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.d.message)
    }
}

impl std::error::Error for Rendered<'_> {}

impl miette::Diagnostic for Rendered<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.d.lint))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.d.level {
            Level::Error => miette::Severity::Error,
            _ => miette::Severity::Warning,
        })
    }
    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        (!self.d.help.is_empty()).then(|| Box::new(&self.d.help) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = |l: crate::facts::Loc| (l.offset as usize, l.len.max(1) as usize);
        let mut labels = vec![LabeledSpan::new_primary_with_span(
            Some(self.d.label.clone()),
            span(self.d.loc),
        )];
        labels.extend(
            self.d
                .related
                .iter()
                .map(|(l, m)| LabeledSpan::new_with_span(Some(m.clone()), span(*l))),
        );
        Some(Box::new(labels.into_iter()))
    }
}

impl Format for Human {
    fn render(&self, a: &Analysis) -> String {
        let theme = if self.color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme)
            .with_width(110)
            .with_links(false);
        let mut out = String::new();
        let live: Vec<&Diagnostic> = a
            .diagnostics
            .iter()
            .filter(|d| d.suppressed.is_none())
            .collect();
        // The compact view: the costliest routes first, then the costliest findings.
        let top = self.shown.top.filter(|&n| n > 0);
        let max = top
            .into_iter()
            .chain(self.shown.max_findings)
            .min()
            .unwrap_or(usize::MAX);
        if let Some(n) = top {
            out.push_str(&routes_table(a, n));
            out.push('\n');
        }
        for d in live.iter().take(max) {
            // Compact: one line each, to fit a screen.
            if top.is_some() {
                let file = &a.model.files[d.file];
                let icon = if d.level == Level::Error { "×" } else { "⚠" };
                out.push_str(&format!(
                    "{icon} {}:{}:{} {}: {}\n",
                    file.path, d.loc.line, d.loc.col, d.lint, d.message
                ));
                continue;
            }
            let file = &a.model.files[d.file];
            let r = Rendered {
                d,
                source: Source {
                    name: &file.path,
                    text: &file.source,
                },
            };
            let _ = r.code();
            let mut text = String::new();
            if handler.render_report(&mut text, &r).is_err() {
                text = format!(
                    "{}:{}:{}: {}\n",
                    file.path, d.loc.line, d.loc.col, d.message
                );
            }
            out.push_str(&text);
            out.push('\n');
        }
        if live.len() > max {
            out.push_str(&format!(
                "{} more {}, cheaper (`--top 0` or `--format short` lists them all)\n",
                live.len() - max,
                if live.len() - max == 1 {
                    "finding"
                } else {
                    "findings"
                },
            ));
        }
        if top.is_none() {
            out.push_str(&routes_table(a, usize::MAX));
        }
        out.push_str(&summary(a));
        out
    }
}

/// The route table, costliest first, with at most `max` routes (and a line for the others).
fn routes_table(a: &Analysis, max: usize) -> String {
    if a.routes.is_empty() {
        return "no request handlers found (axum routes, or async functions taking extractors such as `State` or `Json`)\n".into();
    }
    let services = super::several_services(a);
    let mut rows: Vec<Vec<String>> = Vec::new();
    let mut header = vec!["route".to_string(), "handler".into(), "trips".into()];
    if services {
        header.insert(0, "service".into());
    }
    header.extend(a.config.deployments.iter().cloned());
    let cache = super::cache_heading(a);
    header.extend(cache.clone());
    header.push("budget".into());
    header.push(String::new());
    rows.push(header);
    let mut routes: Vec<_> = a.routes.iter().collect();
    routes.sort_by(|x, y| {
        let (cx, cy) = (x.worst_ms(), y.worst_ms());
        cy.total_cmp(&cx).then_with(|| x.path.cmp(&y.path))
    });
    let left_out = routes.len().saturating_sub(max);
    routes.truncate(max);
    // Service by service (a stable sort keeps each one's costliest first).
    if services {
        routes.sort_by(|x, y| {
            x.service
                .is_none()
                .cmp(&y.service.is_none())
                .then(x.service.cmp(&y.service))
        });
    }
    for r in routes {
        let name = match (&r.method, &r.path) {
            (Some(m), Some(p)) => format!("{m} {p}"),
            _ => "(no route found)".into(),
        };
        // "3", or "2–3" when the path that runs to the end makes fewer than the worst one; "≥ 3" when
        // some call on it could not be resolved.
        let trips = super::markdown::trips(r);
        let mut row = vec![name, r.handler_path.clone(), trips];
        if services {
            row.insert(0, super::service_cell(r));
        }
        row.extend(r.cost.iter().map(super::cost_cell));
        if cache.is_some() {
            row.push(super::cache_cell(r));
        }
        row.push(
            r.served()
                .next()
                .map(|c| format!("{} ms", fmt_ms(c.budget_ms)))
                .unwrap_or_default(),
        );
        let over = r.cost.iter().any(|c| c.over_budget);
        row.push(match (over, r.checked) {
            (true, true) => "over budget".into(),
            (true, false) => "over budget, not checked".into(),
            (false, true) => "ok".into(),
            (false, false) => "not checked".into(),
        });
        rows.push(row);
    }
    // Numbers are right-aligned, names left-aligned.
    let first_number = if services { 3 } else { 2 };
    let right: Vec<usize> = (first_number..rows[0].len().saturating_sub(1)).collect();
    let mut out = super::table(&rows, &right);
    if left_out > 0 {
        out.push_str(&format!(
            "{left_out} more {}, cheaper (`--top 0` lists them all)\n",
            if left_out == 1 { "route" } else { "routes" }
        ));
    }
    out
}

fn summary(a: &Analysis) -> String {
    let errors = a
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error && d.suppressed.is_none())
        .count();
    let warnings = a
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Warn && d.suppressed.is_none())
        .count();
    let plural = |n: usize, w: &str| {
        if n == 1 {
            format!("{n} {w}")
        } else {
            format!("{n} {w}s")
        }
    };
    let suppressed = a
        .diagnostics
        .iter()
        .filter(|d| d.suppressed.is_some())
        .count();
    let suppressed = if suppressed > 0 {
        format!(" ({suppressed} suppressed)")
    } else {
        String::new()
    };
    let mut out = format!(
        "\n{}; {}, {}{suppressed} in {}\n",
        super::route_totals(a),
        plural(errors, "error"),
        plural(warnings, "warning"),
        plural(
            a.model
                .files
                .iter()
                .filter(|f| f.kind == crate::facts::FileKind::Rust)
                .count(),
            "file"
        ),
    );
    if let Some(c) = &a.comparison {
        out.push_str(&comparison(c));
    }
    if a.config.file.is_some() {
        out.push_str(&super::topology_line(a));
        out.push('\n');
    }
    for note in a.notes() {
        out.push_str(&format!("note: {note}\n"));
    }
    out
}

/// `--compare-to`: the routes whose estimate changed, before → after.
fn comparison(c: &crate::gate::Comparison) -> String {
    let mut out = format!(
        "compared with {}: {} new {}, {} fixed",
        c.base,
        c.new_findings.len(),
        if c.new_findings.len() == 1 {
            "finding"
        } else {
            "findings"
        },
        c.fixed_findings
    );
    if c.routes.is_empty() {
        out.push_str("; no route's estimate changed\n");
        return out;
    }
    out.push('\n');
    for r in &c.routes {
        let name = match (&r.method, &r.path) {
            (Some(m), Some(p)) => format!("{m} {p}"),
            _ => r.handler.clone(),
        };
        let change = match (r.before_ms, r.after_ms) {
            (Some(b), Some(a)) => {
                let sign = if a >= b { "+" } else { "−" };
                format!(
                    "≈ {} → {} ms ({sign}{} ms)",
                    fmt_ms(b),
                    fmt_ms(a),
                    fmt_ms((a - b).abs())
                )
            }
            (None, Some(a)) => format!("new, ≈ {} ms", fmt_ms(a)),
            (Some(b), None) => format!("removed (was ≈ {} ms)", fmt_ms(b)),
            (None, None) => String::new(),
        };
        let flag = if r.regression { "  regression" } else { "" };
        out.push_str(&format!("  {name} from {}: {change}{flag}\n", r.deployment));
    }
    out
}

/// Columns of the time axis in a terminal waterfall.
const AXIS: usize = 48;

/// The waterfalls of the routes `wanted` names (`GET /users/{id}`, or a path for every method), as
/// configured and under the plan's scenarios; empty when none matches.
pub fn waterfalls(a: &Analysis, wanted: &str, from: Option<&str>) -> String {
    let wanted = wanted.trim();
    let (method, path) = match wanted.split_once(' ') {
        Some((m, p)) => (Some(m.trim().to_ascii_uppercase()), p.trim()),
        None => (None, wanted),
    };
    let same_path = |p: &str| {
        crate::config::normalize_route_key(&format!("X {p}"))
            == crate::config::normalize_route_key(&format!("X {path}"))
    };
    let mut out = String::new();
    for w in crate::waterfall::routes_from(a, from) {
        let r = &a.routes[w.route];
        let matches = r.path.as_deref().is_some_and(same_path)
            && method
                .as_deref()
                .is_none_or(|m| r.method.as_deref() == Some(m));
        if !matches {
            continue;
        }
        let scale = w.current.total_ms.max(w.current.budget_ms).max(1.0);
        out.push_str(&format!(
            "\n{} {} ({}) from {}: ≈ {} ms, budget {} ms\n",
            r.method.as_deref().unwrap_or(""),
            r.path.as_deref().unwrap_or(""),
            r.handler_path,
            w.current.deployment,
            fmt_ms(w.current.total_ms),
            fmt_ms(w.current.budget_ms)
        ));
        out.push_str(&draw(&w.current, scale));
        if let Some(c) = &r.cache {
            out.push_str(&format!(
                "  drawn for a cache {} (assume.cache); on a {}: {}\n",
                c.assumed,
                c.case,
                c.cell(r)
            ));
        }
        if !r.unresolved.is_empty() {
            out.push_str(&format!(
                "  {} call{} not followed, so not priced (a receiver whose type is not known where several methods fit, or a\n  library running code it picks per request, such as a GraphQL schema, whose resolvers are `GRAPHQL` routes):\n",
                r.unresolved.len(),
                if r.unresolved.len() == 1 { "" } else { "s" }
            ));
            for u in &r.unresolved {
                out.push_str(&format!("    {}:{}: {}\n", u.file, u.line, u.text));
            }
        }
        for (name, s) in &w.scenarios {
            out.push_str(&format!("\n  with {name}: ≈ {} ms\n", fmt_ms(s.total_ms)));
            out.push_str(&draw(s, scale));
        }
    }
    out
}

/// One waterfall: a row per round trip (where it is, what it does, a bar placed in time), then the axis
/// with the budget marked `|`.
fn draw(w: &crate::waterfall::Waterfall, scale: f64) -> String {
    let col = |ms: f64| ((ms / scale) * AXIS as f64).round().clamp(0.0, AXIS as f64) as usize;
    let mut out = String::new();
    if w.bars.is_empty() {
        out.push_str("  (no round trips)\n");
    }
    // Files by the shortest end of their path that tells them apart; what each does, in words.
    let files = shortest_unique(w.bars.iter().map(|b| b.file.as_str()));
    let rows: Vec<(String, String)> = w
        .bars
        .iter()
        .map(|b| {
            let place = format!("{}:{}", files[b.file.as_str()], b.line);
            let verb = match b.kind {
                "http" => "HTTP to",
                "cache" => "cache",
                _ => b.access,
            };
            (place, format!("{verb} {}", b.label))
        })
        .collect();
    let width = |max: usize, pick: fn(&(String, String)) -> &String| {
        rows.iter()
            .map(|r| pick(r).chars().count())
            .max()
            .unwrap_or(0)
            .clamp(12, max)
    };
    let (place_w, what_w) = (width(40, |r| &r.0), width(44, |r| &r.1));
    for (b, (place, what)) in w.bars.iter().zip(&rows) {
        let (start, end) = (col(b.start_ms), col(b.end_ms));
        let bar = end.saturating_sub(start).max(1);
        let times = if b.multiplier > 1 {
            format!(" ×{}", b.multiplier)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {} {} {}{} {} ms{times}\n",
            fit(place, place_w, true),
            fit(what, what_w, false),
            " ".repeat(start),
            "█".repeat(bar),
            fmt_ms(b.end_ms - b.start_ms)
        ));
    }
    if w.hidden > 0 {
        out.push_str(&format!("  … {} more round trips not drawn\n", w.hidden));
    }
    let mut axis: Vec<char> = "─".repeat(AXIS + 1).chars().collect();
    if w.budget_ms > 0.0 {
        axis[col(w.budget_ms)] = '|';
    }
    let pad = if w.bars.is_empty() {
        61
    } else {
        place_w + 1 + what_w
    };
    out.push_str(&format!(
        "  {:<pad$} {}\n  {:<pad$} 0 ms{:>width$}\n",
        "",
        axis.into_iter().collect::<String>(),
        "",
        format!("{} ms", fmt_ms(scale)),
        width = AXIS - 3
    ));
    out
}

/// `text` in `width` characters, padded; a longer one cut at a word's end (a place: at a path
/// separator, keeping the end) and marked `…`.
fn fit(text: &str, width: usize, keep_end: bool) -> String {
    let count = text.chars().count();
    if count <= width {
        return format!("{text}{}", " ".repeat(width - count));
    }
    let chars: Vec<char> = text.chars().collect();
    let cut = if keep_end {
        // `…/src/db.rs:12`: from a separator, the end that fits.
        let tail = &chars[count - (width - 1)..];
        let from = tail.iter().position(|&c| c == '/').map_or(0, |i| i + 1);
        let kept: String = tail[from.min(tail.len())..].iter().collect();
        format!("…{kept}")
    } else {
        let head = &chars[..width - 1];
        let to = head.iter().rposition(|&c| c == ' ').unwrap_or(head.len());
        let kept: String = head[..to].iter().collect();
        format!("{}…", kept.trim_end())
    };
    let n = cut.chars().count();
    format!("{cut}{}", " ".repeat(width.saturating_sub(n)))
}

/// Each path by the fewest trailing components that no other path ends with (`api/src/lib.rs` beside
/// `db/src/lib.rs`; `users.rs` where it is the only one of that name).
fn shortest_unique<'p>(paths: impl Iterator<Item = &'p str>) -> HashMap<&'p str, String> {
    let all: Vec<&str> = {
        let mut v: Vec<&str> = paths.collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let parts: Vec<Vec<&str>> = all.iter().map(|p| p.split('/').collect()).collect();
    let suffix = |p: &[&str], n: usize| p[p.len().saturating_sub(n)..].join("/");
    all.iter()
        .zip(&parts)
        .map(|(path, mine)| {
            let n = (1..=mine.len())
                .find(|&n| {
                    let end = suffix(mine, n);
                    parts
                        .iter()
                        .filter(|other| *other != mine)
                        .all(|other| suffix(other, n) != end)
                })
                .unwrap_or(mine.len());
            (*path, suffix(mine, n))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_cut_at_a_word_and_places_at_a_separator() {
        assert_eq!(
            fit("read main (primary) in eu-central-1", 40, false).trim_end(),
            "read main (primary) in eu-central-1"
        );
        assert_eq!(
            fit("read analytics (replica) in ap-southeast-2", 30, false),
            "read analytics (replica) in…  "
        );
        assert_eq!(
            fit("crates/server/src/handlers/users.rs:12", 24, true),
            "…handlers/users.rs:12   "
        );
    }

    #[test]
    fn files_are_named_by_the_shortest_end_that_tells_them_apart() {
        let paths = [
            "crates/api/src/lib.rs",
            "crates/db/src/lib.rs",
            "src/users.rs",
        ];
        let short = shortest_unique(paths.into_iter());
        assert_eq!(short["crates/api/src/lib.rs"], "api/src/lib.rs");
        assert_eq!(short["crates/db/src/lib.rs"], "db/src/lib.rs");
        assert_eq!(short["src/users.rs"], "users.rs");
    }
}

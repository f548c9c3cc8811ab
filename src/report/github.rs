//! `--format github`: GitHub Actions workflow commands (annotations), and the job summary.
//!
//! The costliest unsuppressed findings become `::error …::` or `::warning …::` on their spans, at most
//! ten of each (all GitHub shows per step), errors first; one `::notice` sums the run up and says how many
//! more the job summary lists. The job summary is Markdown: the routes with their cost, the findings
//! count, the findings left out of the annotations, and with `--compare-to` or `--baseline` what changed.

use super::markdown::{self, code, plural};
use super::Format;
use crate::rules::Level;
use crate::Analysis;

pub struct Github;

/// Annotations of each kind GitHub shows for a step.
pub const ANNOTATIONS: usize = 10;

/// The unsuppressed findings that become annotations (the costliest ten errors, then the costliest ten
/// warnings) and those left for the job summary, both costliest first.
fn annotated(
    a: &Analysis,
) -> (
    Vec<&crate::rules::Diagnostic>,
    Vec<&crate::rules::Diagnostic>,
) {
    let live = || a.diagnostics.iter().filter(|d| d.suppressed.is_none());
    let (mut shown, mut left): (
        Vec<&crate::rules::Diagnostic>,
        Vec<&crate::rules::Diagnostic>,
    ) = (Vec::new(), Vec::new());
    for errors in [true, false] {
        let kind: Vec<_> = live()
            .filter(|d| (d.level == Level::Error) == errors)
            .collect();
        let cut = kind.len().min(ANNOTATIONS);
        shown.extend(&kind[..cut]);
        left.extend(&kind[cut..]);
    }
    left.sort_by(|x, y| y.saves_ms.total_cmp(&x.saves_ms));
    (shown, left)
}

impl Format for Github {
    fn render(&self, a: &Analysis) -> String {
        let mut out = String::new();
        let (shown, left) = annotated(a);
        let annotations = shown.len();
        for d in shown {
            let file = &a.model.files[d.file];
            let (end_line, end_column) = super::json::end_of(&file.source, d.loc);
            let kind = if d.level == Level::Error {
                "error"
            } else {
                "warning"
            };
            let span = Span {
                line: d.loc.line,
                col: d.loc.col,
                end_line,
                end_column,
            };
            out.push_str(&annotation(
                kind,
                &a.repo_paths[d.file],
                span,
                &format!("hopcheck {}", d.lint),
                &message(&d.message, &d.help),
            ));
        }
        // What the run could not check, where a reviewer sees it (not only in the job's log).
        for gap in a.coverage().gaps() {
            out.push_str(&command(
                "warning",
                &[("title", "hopcheck: not checked")],
                &gap,
            ));
        }
        let mut totals = totals(a);
        if !left.is_empty() {
            totals.push_str(&format!(
                "; the {annotations} costliest as annotations, {} more in the job summary",
                left.len()
            ));
        }
        out.push_str(&command("notice", &[("title", "hopcheck")], &totals));
        out
    }
}

/// Where an annotation goes: 1-based lines and columns, `end_column` just past the span.
#[derive(Debug, Clone, Copy)]
pub struct Span {
    pub line: u32,
    pub col: u32,
    pub end_line: u32,
    pub end_column: u32,
}

/// `::error file=…,line=…,endLine=…[,col=…,endColumn=…],title=…::message` (columns only when the span is
/// on one line: GitHub ignores the annotation's columns otherwise).
pub fn annotation(kind: &str, file: &str, span: Span, title: &str, message: &str) -> String {
    let (line, end_line) = (span.line.to_string(), span.end_line.to_string());
    let (col, end_column) = (span.col.to_string(), span.end_column.to_string());
    let mut props: Vec<(&str, &str)> =
        vec![("file", file), ("line", &line), ("endLine", &end_line)];
    if span.line == span.end_line {
        props.push(("col", &col));
        props.push(("endColumn", &end_column));
    }
    props.push(("title", title));
    command(kind, &props, message)
}

/// One workflow command line, its properties and message escaped.
pub fn command(kind: &str, props: &[(&str, &str)], message: &str) -> String {
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{k}={}", escape_property(v)))
        .collect();
    let sep = if props.is_empty() { "" } else { " " };
    format!(
        "::{kind}{sep}{}::{}\n",
        props.join(","),
        escape_data(message)
    )
}

/// `<message>. <help>`, or the message alone.
fn message(message: &str, help: &str) -> String {
    let help = help.trim();
    if help.is_empty() {
        return message.to_string();
    }
    let message = message.trim_end();
    if message.ends_with(['.', '!', '?', ':']) {
        format!("{message} {help}")
    } else {
        format!("{message}. {help}")
    }
}

/// `5 routes, 1 over budget; 1 error, 4 warnings` (and the suppressed ones, when there are any).
fn totals(a: &Analysis) -> String {
    let (errors, warnings) = markdown::counts(&a.diagnostics);
    let suppressed = a
        .diagnostics
        .iter()
        .filter(|d| d.suppressed.is_some())
        .count();
    let mut out = format!(
        "{}; {}, {}",
        super::route_totals(a),
        plural(errors, "error"),
        plural(warnings, "warning")
    );
    if suppressed > 0 {
        out.push_str(&format!(" ({suppressed} suppressed)"));
    }
    out
}

/// A message's escaping: `%`, CR and LF.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property's escaping: the message's, plus `:` and `,`, which end a property.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The job summary: the routes costliest first, the findings count, and what changed.
pub fn summary(a: &Analysis) -> String {
    let mut out = String::from("## hopcheck\n\n");
    out.push_str(&markdown::routes_table(a));
    out.push('\n');
    let (errors, warnings) = markdown::counts(&a.diagnostics);
    let suppressed = a
        .diagnostics
        .iter()
        .filter(|d| d.suppressed.is_some())
        .count();
    let mut findings = if errors + warnings == 0 {
        "No findings".to_string()
    } else {
        format!(
            "**{}**: {}, {}",
            plural(errors + warnings, "finding"),
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    };
    if suppressed > 0 {
        findings.push_str(&format!(" ({suppressed} suppressed)"));
    }
    findings.push_str(".\n\n");
    out.push_str(&findings);
    // What the annotations leave out (GitHub shows ten of each kind), costliest first.
    let (_, left) = annotated(a);
    if !left.is_empty() {
        out.push_str(&format!(
            "The annotations show the costliest {} errors and {} warnings; the other {}:\n\n",
            ANNOTATIONS,
            ANNOTATIONS,
            plural(left.len(), "finding")
        ));
        for d in &left {
            out.push_str(&format!(
                "- **{}** {}:{}: {}\n",
                d.lint,
                code(&a.repo_paths[d.file]),
                d.loc.line,
                d.message
            ));
        }
        out.push('\n');
    }
    if let Some(c) = &a.comparison {
        out.push_str(&format!("### Changes since {}\n\n", code(&c.base)));
        if c.routes.is_empty() {
            out.push_str("No route's estimate changed.\n\n");
        } else {
            out.push_str(&markdown::changes_table(c));
            out.push('\n');
        }
        out.push_str(&format!(
            "{}, {} fixed.\n\n",
            plural(c.new_findings.len(), "new finding"),
            c.fixed_findings
        ));
    }
    out.push_str(&markdown::baseline_line(a));
    out.push_str(&markdown::topology(a));
    out.push_str("\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_properties_are_escaped() {
        let span = Span {
            line: 3,
            col: 5,
            end_line: 3,
            end_column: 9,
        };
        let line = annotation(
            "warning",
            "src/a,b:c.rs",
            span,
            "hopcheck query-in-loop",
            "100% of calls: a, b\r\nthen c",
        );
        assert_eq!(
            line,
            "::warning file=src/a%2Cb%3Ac.rs,line=3,endLine=3,col=5,endColumn=9,title=hopcheck query-in-loop::100%25 of calls: a, b%0D%0Athen c\n"
        );
        assert_eq!(escape_property("50%,x:y\n"), "50%25%2Cx%3Ay%0A");
        assert_eq!(escape_data("50%,x:y\n"), "50%25,x:y%0A");
    }

    #[test]
    fn columns_only_on_one_line() {
        let span = Span {
            line: 3,
            col: 5,
            end_line: 6,
            end_column: 2,
        };
        assert_eq!(
            annotation("error", "src/main.rs", span, "hopcheck over-budget", "slow"),
            "::error file=src/main.rs,line=3,endLine=6,title=hopcheck over-budget::slow\n"
        );
    }

    #[test]
    fn help_follows_the_message() {
        assert_eq!(message("slow", "merge them"), "slow. merge them");
        assert_eq!(message("slow.", "merge them"), "slow. merge them");
        assert_eq!(message("slow", ""), "slow");
    }
}

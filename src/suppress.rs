//! Suppressions, after the rules: `// hopcheck: allow(lint) reason` comments in the code, `[ignore]`
//! paths in hopcheck.toml, and `unused-allow` findings for allow comments that suppress nothing. A
//! suppressed finding is kept, marked, so that machine formats can show it as suppressed.

use crate::config::Config;
use crate::facts::Loc;
use crate::model::Model;
use crate::rules::{Diagnostic, Level, Suppressed};

pub use crate::facts::directives::{directives, today, Directive, DirectiveKind};

/// Marks the findings that allow comments and `[ignore]` paths suppress, and adds an `unused-allow`
/// finding for each allow comment that suppresses nothing or cannot be applied.
pub fn apply(model: &Model, config: &Config, diagnostics: &mut Vec<Diagnostic>) {
    let today = today();
    let ignore = ignore_set(&config.ignore);
    let mut extra = Vec::new();
    for (file_index, file) in model.files.iter().enumerate() {
        let ignored = ignore
            .as_ref()
            .and_then(|set| set.matches(&file.path).first().map(|&i| &config.ignore[i]));
        if let Some(glob) = ignored {
            for d in diagnostics.iter_mut().filter(|d| d.file == file_index) {
                d.suppressed.get_or_insert(Suppressed {
                    kind: "config",
                    reason: format!("[ignore] paths: {glob}"),
                });
            }
        }
        if !file.has_directives {
            continue;
        }
        for mut directive in directives(&file.source) {
            // Above a function: it covers the function, through its closing brace.
            if let Some(fn_line) = directive.function_line {
                let end = file
                    .functions
                    .iter()
                    .filter(|f| f.fn_line == fn_line)
                    .map(|f| f.end_line)
                    .max();
                directive.last = end.unwrap_or(directive.last).max(directive.last);
            }
            let problem = match &directive.kind {
                DirectiveKind::Budget(_) => continue,
                DirectiveKind::Invalid(why) => Some(why.clone()),
                DirectiveKind::Allow {
                    lints,
                    reason,
                    until,
                } => {
                    let unknown: Vec<&String> = lints
                        .iter()
                        .filter(|l| crate::rules::find(l).is_none())
                        .collect();
                    if !unknown.is_empty() {
                        Some(format!(
                            "unknown lint {}: `hopcheck lints` lists them",
                            unknown
                                .iter()
                                .map(|l| format!("`{l}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    } else if placeholder(reason) && config.require_reason {
                        Some("an allow needs a reason after it: `// hopcheck: allow(lint) why it is fine`".into())
                    } else if until.as_ref().is_some_and(|u| *u < today) {
                        // Expired: the findings count again, and say why.
                        let until = until.clone().unwrap_or_default();
                        for d in diagnostics
                            .iter_mut()
                            .filter(|d| covers(&directive, file_index, d, lints))
                        {
                            if d.suppressed.is_none() && !d.message.contains("allow expired") {
                                d.message
                                    .push_str(&format!(" (its allow expired on {until})"));
                            }
                        }
                        continue;
                    } else {
                        let mut used = false;
                        for d in diagnostics
                            .iter_mut()
                            .filter(|d| covers(&directive, file_index, d, lints))
                        {
                            used = true;
                            d.suppressed.get_or_insert(Suppressed {
                                kind: "inline",
                                reason: reason.clone(),
                            });
                        }
                        (!used).then(|| {
                            format!(
                                "this allow suppresses nothing: no {} finding {}",
                                lints.join(", "),
                                if directive.function_line.is_some() {
                                    "in the function below"
                                } else if directive.first == directive.line {
                                    "on this line"
                                } else {
                                    "on the statement below"
                                }
                            )
                        })
                    }
                }
            };
            if let Some(message) = problem {
                extra.push(unused(model, config, file_index, &directive, message));
            }
        }
    }
    extra.retain(|d| d.level != Level::Allow);
    diagnostics.extend(extra);
}

/// No reason, or the placeholder an editor's "allow" action writes (`<why this is fine>`).
fn placeholder(reason: &str) -> bool {
    let r = reason.trim();
    r.is_empty() || (r.starts_with('<') && r.ends_with('>'))
}

/// Does an allow comment cover a finding?
fn covers(directive: &Directive, file: usize, d: &Diagnostic, lints: &[String]) -> bool {
    if d.file != file || !lints.iter().any(|l| l == d.lint || l == "all") {
        return false;
    }
    (directive.first..=directive.last).contains(&d.loc.line)
}

pub use crate::facts::has_directives;

fn unused(
    model: &Model,
    config: &Config,
    file: usize,
    directive: &Directive,
    message: String,
) -> Diagnostic {
    let lint = &crate::rules::unused_allow::LINT;
    // The comment's bytes, to its line's end: reports that show the source point there.
    let source = &model.files[file].source;
    let (offset, len) = source
        .split_inclusive('\n')
        .scan(0, |start, line| {
            let here = *start;
            *start += line.len();
            Some((here, line))
        })
        .nth(directive.line.saturating_sub(1) as usize)
        .map(|(start, line)| {
            let line = line.trim_end_matches(['\n', '\r']);
            let col = line
                .char_indices()
                .nth(directive.col.saturating_sub(1) as usize)
                .map_or(line.len(), |(i, _)| i);
            (start + col, line.len() - col)
        })
        .map(|(o, l)| (u32::try_from(o).unwrap_or(0), u32::try_from(l).unwrap_or(0)))
        .unwrap_or((0, 0));
    Diagnostic {
        lint: lint.name,
        level: config.level_of(lint.name, lint.default_level),
        file,
        loc: Loc {
            line: directive.line,
            col: directive.col,
            offset,
            len,
        },
        label: "this allow".into(),
        message,
        help: "remove the comment, or fix it: `// hopcheck: allow(<lint>) <reason> [until=YYYY-MM-DD]`"
            .into(),
        ..Diagnostic::default()
    }
}

fn ignore_set(globs: &[String]) -> Option<globset::GlobSet> {
    if globs.is_empty() {
        return None;
    }
    let mut b = globset::GlobSetBuilder::new();
    for g in globs {
        if let Ok(glob) = globset::Glob::new(g) {
            b.add(glob);
        }
    }
    b.build().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::directives::*;

    #[test]
    fn directives_cover_their_line_statement_or_function() {
        let src = "\
fn a() {
    let x = q().await; // hopcheck: allow(query-in-loop) batch of three
    // hopcheck: allow(sequential-queries) -- the second read needs the first
    let y = sqlx::query(\"..\")
        .fetch_one(&db)
        .await?;
}
// hopcheck: allow(over-budget) reports are slow until=2027-01-31
#[get(\"/r\")]
async fn report() {
    one().await;
}
";
        let d = directives(src);
        assert_eq!(d.len(), 3);
        assert_eq!((d[0].first, d[0].last, d[0].function_line), (2, 2, None));
        assert_eq!((d[1].first, d[1].last), (4, 6));
        assert!(
            matches!(&d[1].kind, DirectiveKind::Allow { reason, .. } if reason == "the second read needs the first")
        );
        assert_eq!(d[2].function_line, Some(10));
        assert!(
            matches!(&d[2].kind, DirectiveKind::Allow { until: Some(u), .. } if u == "2027-01-31")
        );
    }

    #[test]
    fn bad_directives_say_why() {
        assert!(matches!(parse("allow()"), DirectiveKind::Invalid(_)));
        assert!(
            matches!(parse("allow(x) why until=soon"), DirectiveKind::Invalid(m) if m.contains("until=soon"))
        );
        assert!(matches!(parse("alow(x)"), DirectiveKind::Invalid(_)));
        assert!(
            placeholder("<why this is fine>") && placeholder("  ") && !placeholder("batch of 3")
        );
        assert_eq!(parse("budget(400ms)"), DirectiveKind::Budget(400.0));
        // Comment markers inside strings are not comments.
        assert_eq!(comment_start("let s = \"// hopcheck: allow(x)\";"), None);
    }

    #[test]
    fn dates_are_computed_without_a_calendar_crate() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_783), (2026, 11, 26));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
    }
}

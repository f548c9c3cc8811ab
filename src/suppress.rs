//! Suppressions, after the rules: `// hopcheck: allow(lint) reason` comments in the code, `[ignore]`
//! paths in hopcheck.toml, and `unused-allow` findings for allow comments that suppress nothing. A
//! suppressed finding is kept, marked, so that machine formats can show it as suppressed.

use crate::config::Config;
use crate::facts::Loc;
use crate::model::Model;
use crate::rules::{Diagnostic, Level, Suppressed};

/// One `// hopcheck: …` comment.
#[derive(Debug, Clone, PartialEq)]
pub struct Directive {
    /// The comment's line and column (1-based).
    pub line: u32,
    pub col: u32,
    pub kind: DirectiveKind,
    /// The lines it covers: its own line for a trailing comment, else the statement or function that
    /// follows it.
    pub first: u32,
    pub last: u32,
    /// The `fn` line when the comment stands above a function.
    pub function_line: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DirectiveKind {
    Allow {
        lints: Vec<String>,
        reason: String,
        /// `until=YYYY-MM-DD`: the allow stops applying after that day.
        until: Option<String>,
    },
    /// `budget(400ms)` above a handler.
    Budget(f64),
    /// A `hopcheck:` comment that cannot be read, with why.
    Invalid(String),
}

const MARKER: &str = "hopcheck:";

/// The directives of one file, from its text.
pub fn directives(source: &str) -> Vec<Directive> {
    let lines: Vec<&str> = source.lines().collect();
    let mut out = Vec::new();
    for (i, text) in lines.iter().enumerate() {
        let Some(at) = comment_start(text) else {
            continue;
        };
        // A second `//` on the line starts another comment, not part of this one.
        let comment = text[at + 2..].trim_start_matches('/');
        let comment = comment.split("//").next().unwrap_or("").trim();
        let Some(body) = comment.strip_prefix(MARKER) else {
            continue;
        };
        let line = i as u32 + 1;
        let trailing = !text[..at].trim().is_empty();
        let (first, last, function_line) = if trailing {
            (line, line, None)
        } else {
            covered(&lines, i + 1)
        };
        out.push(Directive {
            line,
            col: text[..at].chars().count() as u32 + 1,
            kind: parse(body.trim()),
            first,
            last,
            function_line,
        });
    }
    out
}

/// Where a `//` comment starts on a line, outside string literals (a rough scan: enough for the lines
/// directives sit on).
fn comment_start(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut in_str = false;
    let mut i = 0;
    while i + 1 < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && bytes[i + 1] == b'/' => return Some(i),
            _ => {}
        }
        i += 1;
    }
    None
}

/// The lines a comment on its own line covers: the next code line (past comments, doc comments and
/// attributes), through the end of its statement, or the whole function when that line starts one.
fn covered(lines: &[&str], from: usize) -> (u32, u32, Option<u32>) {
    let mut i = from;
    while i < lines.len() {
        let t = lines[i].trim();
        if t.is_empty() || t.starts_with("//") || t.starts_with("#[") || t.starts_with("#!") {
            i += 1;
            continue;
        }
        break;
    }
    let first = i as u32 + 1;
    if i >= lines.len() {
        return (first, first, None);
    }
    let head = lines[i].trim();
    let is_fn = head
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|w| w == "fn");
    // The statement ends on a line that ends with `;`, `{` or `}` (or at the end of the file).
    let mut j = i;
    while j < lines.len() {
        let t = lines[j].split("//").next().unwrap_or("").trim_end();
        if t.ends_with(';') || t.ends_with('{') || t.ends_with('}') || t.ends_with("},") {
            break;
        }
        j += 1;
    }
    let last = (j.min(lines.len() - 1)) as u32 + 1;
    (first, last, is_fn.then_some(first))
}

/// Reads what follows `hopcheck:`.
fn parse(body: &str) -> DirectiveKind {
    let call = |name: &str| -> Option<(String, String)> {
        let rest = body.strip_prefix(name)?.trim_start().strip_prefix('(')?;
        let end = rest.find(')')?;
        Some((rest[..end].to_string(), rest[end + 1..].trim().to_string()))
    };
    if let Some((args, rest)) = call("allow") {
        let lints: Vec<String> = args
            .split(',')
            .map(|l| l.trim().to_string())
            .filter(|l| !l.is_empty())
            .collect();
        if lints.is_empty() {
            return DirectiveKind::Invalid("`allow()` names no lint".into());
        }
        let mut until = None;
        let mut words = Vec::new();
        for word in rest.split_whitespace() {
            match word.strip_prefix("until=") {
                Some(date) if valid_date(date) => until = Some(date.to_string()),
                Some(date) => {
                    return DirectiveKind::Invalid(format!(
                        "`until={date}` is not a date: write until=YYYY-MM-DD"
                    ))
                }
                None => words.push(word),
            }
        }
        let reason = words
            .join(" ")
            .trim_start_matches(['-', '–', '—', ':'])
            .trim()
            .to_string();
        return DirectiveKind::Allow {
            lints,
            reason,
            until,
        };
    }
    if let Some((args, _)) = call("budget") {
        return match crate::config::parse_duration(&args) {
            Ok(ms) => DirectiveKind::Budget(ms),
            Err(e) => DirectiveKind::Invalid(format!("`budget({args})`: {e}")),
        };
    }
    DirectiveKind::Invalid(format!(
        "unknown directive `{body}`: write `hopcheck: allow(<lint>) <reason>` or `hopcheck: budget(<duration>)`"
    ))
}

fn valid_date(d: &str) -> bool {
    let parts: Vec<&str> = d.split('-').collect();
    matches!(parts.as_slice(), [y, m, dd] if y.len() == 4 && m.len() == 2 && dd.len() == 2
        && [y, m, dd].iter().all(|p| p.chars().all(|c| c.is_ascii_digit()))
        && (1..=12).contains(&m.parse::<u32>().unwrap_or(0))
        && (1..=31).contains(&dd.parse::<u32>().unwrap_or(0)))
}

/// Today as `YYYY-MM-DD` (UTC), for `until=`. `HOPCHECK_TODAY` sets it (tests, reproducible runs).
pub fn today() -> String {
    if let Ok(d) = std::env::var("HOPCHECK_TODAY") {
        if valid_date(&d) {
            return d;
        }
    }
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Days since 1970-01-01 to a proleptic Gregorian date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

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

/// Whether a file's text holds the directive marker at all (a fast scan: most files have none).
pub fn has_directives(source: &str) -> bool {
    memchr::memmem::find(source.as_bytes(), MARKER.as_bytes()).is_some()
}

/// Budgets written above handlers (`// hopcheck: budget(400ms)`), by function.
pub fn inline_budgets(model: &Model) -> std::collections::HashMap<usize, f64> {
    // Each file's directives once: budgets by the `fn` line they stand above.
    let mut by_line: std::collections::HashMap<(usize, u32), f64> =
        std::collections::HashMap::new();
    let handler_files: std::collections::HashSet<usize> = model
        .routes
        .iter()
        .map(|r| model.fns[r.handler].file)
        .collect();
    for (index, file) in model.files.iter().enumerate() {
        if !handler_files.contains(&index) || !file.has_directives {
            continue;
        }
        for d in directives(&file.source) {
            if let (DirectiveKind::Budget(ms), Some(line)) = (&d.kind, d.function_line) {
                by_line.insert((index, line), *ms);
            }
        }
    }
    model
        .fns
        .iter()
        .enumerate()
        .filter_map(|(id, r)| {
            let line = model.files[r.file].functions[r.index].fn_line;
            by_line.get(&(r.file, line)).map(|ms| (id, *ms))
        })
        .collect()
}

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

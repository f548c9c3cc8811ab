//! Directives: the `// hopcheck: …` comments of a file (`allow(lint) reason`, `budget(400ms)`), read from
//! its text. Suppressions apply them after the rules; the model reads the budgets above handlers.

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

use super::DIRECTIVE_MARKER as MARKER;

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
pub(crate) fn comment_start(text: &str) -> Option<usize> {
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
pub(crate) fn covered(lines: &[&str], from: usize) -> (u32, u32, Option<u32>) {
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
pub(crate) fn parse(body: &str) -> DirectiveKind {
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
        return match crate::domain::parse_duration(&args) {
            Ok(ms) => DirectiveKind::Budget(ms),
            Err(e) => DirectiveKind::Invalid(format!("`budget({args})`: {e}")),
        };
    }
    DirectiveKind::Invalid(format!(
        "unknown directive `{body}`: write `hopcheck: allow(<lint>) <reason>` or `hopcheck: budget(<duration>)`"
    ))
}

pub(crate) fn valid_date(d: &str) -> bool {
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
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
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

//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF readers.
//!
//! One run; one rule per lint (in the order of [`LINTS`], so `ruleIndex` is the lint's position there);
//! one result per finding, in report order. Paths are relative to the analysed folder under the
//! `%SRCROOT%` base. Columns are counted in UTF-16 code units, SARIF's default `columnKind`, and
//! `endColumn` is exclusive. Suppressed findings are kept, with a `suppressions` entry.

use serde::Serialize;

use super::Format;
use crate::facts::Loc;
use crate::rules::{Diagnostic, Level, Lint, LINTS};
use crate::Analysis;

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// The base every artifact URI is relative to: the analysed folder.
pub const SRCROOT: &str = "%SRCROOT%";

pub struct Sarif;

impl Format for Sarif {
    fn render(&self, a: &Analysis) -> String {
        let mut s = serde_json::to_string_pretty(&log(a))
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: [Run<'a>; 1],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool,
    column_kind: &'static str,
    results: Vec<SarifResult<'a>>,
    /// What the run saw and did not (files set aside, handlers without a route) and its notes.
    properties: RunProperties,
}

#[derive(Serialize)]
struct RunProperties {
    coverage: crate::Coverage,
    notes: Vec<String>,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: &'static str,
    semantic_version: &'static str,
    information_uri: String,
    rules: Vec<Rule>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: &'static str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Help,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    default_configuration: Configuration,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

impl Text {
    fn new(text: impl Into<String>) -> Text {
        Text { text: text.into() }
    }
}

#[derive(Serialize)]
struct Help {
    text: &'static str,
    markdown: &'static str,
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult<'a> {
    rule_id: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    rule_index: Option<usize>,
    level: &'static str,
    message: Text,
    locations: [Location; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related_locations: Vec<Location>,
    partial_fingerprints: Fingerprints<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    /// Set on related locations, which results can link to.
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<usize>,
    physical_location: PhysicalLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<Text>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: Region,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    start_column: u32,
    end_line: u32,
    end_column: u32,
}

#[derive(Serialize)]
struct Fingerprints<'a> {
    #[serde(rename = "primaryLocationLineHash")]
    line_hash: &'a str,
    #[serde(rename = "hopcheck/v1")]
    hopcheck: &'a str,
}

#[derive(Serialize)]
struct Suppression<'a> {
    kind: &'static str,
    #[serde(skip_serializing_if = "str::is_empty")]
    justification: &'a str,
}

/// The whole SARIF log.
fn log(a: &Analysis) -> Log<'_> {
    Log {
        schema: SCHEMA,
        version: "2.1.0",
        runs: [Run {
            tool: Tool {
                driver: Driver {
                    name: "hopcheck",
                    version: env!("CARGO_PKG_VERSION"),
                    semantic_version: env!("CARGO_PKG_VERSION"),
                    information_uri: information_uri(),
                    rules: LINTS.iter().map(|l| rule(l)).collect(),
                },
            },
            column_kind: "utf16CodeUnits",
            results: a.diagnostics.iter().map(|d| result(a, d)).collect(),
            properties: RunProperties {
                coverage: a.coverage(),
                notes: a.notes(),
            },
        }],
    }
}

/// The crate's repository or homepage from Cargo.toml, else its page on crates.io.
fn information_uri() -> String {
    [env!("CARGO_PKG_REPOSITORY"), env!("CARGO_PKG_HOMEPAGE")]
        .into_iter()
        .map(|u| u.trim_end_matches('/'))
        .find(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://crates.io/crates/{}", env!("CARGO_PKG_NAME")))
}

/// The lint's documentation in the repository, when Cargo.toml names the repository.
fn help_uri(lint: &Lint) -> Option<String> {
    let repo = env!("CARGO_PKG_REPOSITORY").trim_end_matches('/');
    let repo = repo.strip_suffix(".git").unwrap_or(repo);
    (repo.starts_with("https://") || repo.starts_with("http://"))
        .then(|| format!("{repo}/blob/HEAD/lints/{}.md", lint.name))
}

/// A lint as a SARIF `reportingDescriptor`.
fn rule(lint: &'static Lint) -> Rule {
    Rule {
        id: lint.name,
        name: pascal_case(lint.name),
        short_description: Text::new(lint.summary),
        full_description: Text::new(full_description(lint)),
        help: Help {
            text: lint.doc,
            markdown: lint.doc,
        },
        help_uri: help_uri(lint),
        default_configuration: Configuration {
            level: level(lint.default_level),
        },
    }
}

/// `sequential-queries` → `SequentialQueries`: SARIF's `name` is an identifier, `id` the lint's name.
fn pascal_case(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

/// The doc's "What it does" section on one line, else its summary.
fn full_description(lint: &Lint) -> String {
    let section = lint
        .doc
        .split_once("## What it does")
        .map(|(_, rest)| rest.split("\n#").next().unwrap_or(rest))
        .unwrap_or("");
    let text = section.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        sentence(lint.summary)
    } else {
        text
    }
}

/// SARIF's levels: `error`, `warning`, `note`.
fn level(level: Level) -> &'static str {
    match level {
        Level::Error => "error",
        Level::Warn => "warning",
        Level::Allow => "note",
    }
}

/// Capitalised, ending with a full stop.
fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let mut out: String = match chars.next() {
        Some(c) if c.is_lowercase() => c.to_uppercase().chain(chars).collect(),
        _ => text.to_string(),
    };
    if !out.is_empty() && !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// The message, then the help as a second sentence.
fn message_text(d: &Diagnostic) -> String {
    let mut text = sentence(&d.message);
    let help = sentence(&d.help);
    if !help.is_empty() {
        text.push(' ');
        text.push_str(&help);
    }
    text
}

/// One finding as a SARIF `result`.
fn result<'a>(a: &'a Analysis, d: &'a Diagnostic) -> SarifResult<'a> {
    let file = &a.model.files[d.file];
    let place = |id: Option<usize>, loc: Loc, label: &str| Location {
        id,
        physical_location: physical(&a.repo_paths[d.file], &file.source, loc),
        message: (!label.is_empty()).then(|| Text::new(label)),
    };
    SarifResult {
        rule_id: d.lint,
        rule_index: LINTS.iter().position(|l| l.name == d.lint),
        level: level(d.level),
        message: Text::new(message_text(d)),
        locations: [place(None, d.loc, &d.label)],
        related_locations: d
            .related
            .iter()
            .enumerate()
            .map(|(i, (loc, label))| place(Some(i + 1), *loc, label))
            .collect(),
        partial_fingerprints: Fingerprints {
            line_hash: &d.fingerprint,
            hopcheck: &d.fingerprint,
        },
        suppressions: d
            .suppressed
            .iter()
            .map(|s| Suppression {
                kind: if s.kind == "inline" {
                    "inSource"
                } else {
                    "external"
                },
                justification: &s.reason,
            })
            .collect(),
    }
}

/// A `physicalLocation` in the file at `path`, for the span `loc` of `source`.
fn physical(path: &str, source: &str, loc: Loc) -> PhysicalLocation {
    let (end_line, end_char) = super::json::end_of(source, loc);
    let start_line = loc.line.max(1);
    let start_column = utf16_column(source, start_line, loc.col.max(1));
    let end_line = end_line.max(start_line);
    let mut end_column = utf16_column(source, end_line, end_char.max(1));
    if end_line == start_line {
        end_column = end_column.max(start_column);
    }
    PhysicalLocation {
        artifact_location: ArtifactLocation {
            uri: uri(path),
            uri_base_id: SRCROOT,
        },
        region: Region {
            start_line,
            start_column,
            end_line,
            end_column,
        },
    }
}

/// A relative path as a URI reference: forward slashes, and the characters a URI cannot hold escaped.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A 1-based column counted in characters on `line`, as 1-based UTF-16 code units.
fn utf16_column(source: &str, line: u32, col: u32) -> u32 {
    let Some(text) = source.lines().nth(line.saturating_sub(1) as usize) else {
        return col;
    };
    let before = col.saturating_sub(1) as usize;
    let units: usize = text.chars().take(before).map(char::len_utf16).sum();
    // A column past the end of the line (the line break itself) keeps its distance from the end.
    let past = before.saturating_sub(text.chars().count());
    (units + past) as u32 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_utf16_units() {
        let src = "let a = \"≈\";\nlet b = \"😀\" + x;\n";
        assert_eq!(utf16_column(src, 1, 1), 1);
        assert_eq!(utf16_column(src, 1, 11), 11);
        // `😀` is one character and two UTF-16 units.
        assert_eq!(utf16_column(src, 2, 11), 12);
        assert_eq!(utf16_column(src, 2, 40), 41);
    }

    #[test]
    fn uris_are_escaped_relative_references() {
        assert_eq!(uri("src/routes/users.rs"), "src/routes/users.rs");
        assert_eq!(uri("src/my routes/ü.rs"), "src/my%20routes/%C3%BC.rs");
    }

    #[test]
    fn names_and_messages_read_well() {
        assert_eq!(pascal_case("sequential-queries"), "SequentialQueries");
        let d = Diagnostic {
            message: "2 trips".into(),
            help: "merge them".into(),
            ..Diagnostic::default()
        };
        assert_eq!(message_text(&d), "2 trips. Merge them.");
    }
}

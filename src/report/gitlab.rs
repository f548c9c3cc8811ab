//! `--format gitlab`: GitLab Code Quality JSON (the `codequality` report of a CI job).
//!
//! An array with one issue per unsuppressed finding, in report order: GitLab has no suppressed state,
//! so suppressed findings are left out. Each issue's `fingerprint` is the finding's, which is unique
//! within a run and stable across line shifts, so GitLab can tell new issues from moved ones.

use serde::Serialize;

use super::Format;
use crate::rules::{Diagnostic, Level};
use crate::Analysis;

pub struct Gitlab;

#[derive(Serialize)]
struct Issue<'a> {
    description: &'a str,
    check_name: &'a str,
    fingerprint: &'a str,
    severity: &'static str,
    location: Location<'a>,
}

#[derive(Serialize)]
struct Location<'a> {
    path: &'a str,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
    end: u32,
}

/// Code Quality's severities are info, minor, major, critical and blocker.
fn severity(level: Level) -> &'static str {
    match level {
        Level::Error => "major",
        Level::Warn => "minor",
        Level::Allow => "info",
    }
}

fn issue<'a>(a: &'a Analysis, d: &'a Diagnostic) -> Issue<'a> {
    let file = &a.model.files[d.file];
    let (end, _) = super::json::end_of(&file.source, d.loc);
    Issue {
        description: &d.message,
        check_name: d.lint,
        fingerprint: &d.fingerprint,
        severity: severity(d.level),
        location: Location {
            path: &a.repo_paths[d.file],
            lines: Lines {
                begin: d.loc.line,
                end: end.max(d.loc.line),
            },
        },
    }
}

impl Format for Gitlab {
    fn render(&self, a: &Analysis) -> String {
        let issues: Vec<Issue> = a
            .diagnostics
            .iter()
            .filter(|d| d.suppressed.is_none())
            .map(|d| issue(a, d))
            .collect();
        let mut s = serde_json::to_string_pretty(&issues)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }
}

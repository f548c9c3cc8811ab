//! `--format json`: the versioned machine contract. Keys are only ever added, never renamed or removed,
//! without bumping `version`.

use serde::Serialize;

use super::Format;
use crate::rules::Diagnostic;
use crate::{Analysis, RouteReport};

pub const VERSION: u32 = 1;

pub struct Json;

#[derive(Serialize)]
struct Output<'a> {
    version: u32,
    config: ConfigOut<'a>,
    routes: &'a [RouteReport],
    diagnostics: Vec<DiagOut<'a>>,
    /// Remarks about the run (the default topology was used, no database call was found, handlers
    /// without a route).
    notes: Vec<String>,
    /// What the run saw and what it did not: files read and set aside, handlers routed and unrouted.
    coverage: crate::Coverage,
    /// With `--compare-to`: the routes that changed and the findings that are new.
    #[serde(skip_serializing_if = "Option::is_none")]
    comparison: Option<&'a crate::gate::Comparison>,
    /// With `--baseline`: how many findings it accepted and its stale entries.
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<&'a crate::gate::BaselineReport>,
}

#[derive(Serialize)]
struct ConfigOut<'a> {
    /// The configuration file, or null when the default topology was used.
    file: Option<String>,
    deployments: &'a [String],
    loop_iterations: u32,
}

#[derive(Serialize)]
struct DiagOut<'a> {
    lint: &'a str,
    severity: &'a str,
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    message: &'a str,
    help: &'a str,
    label: &'a str,
    related: Vec<RelatedOut<'a>>,
    /// Stable across runs and line shifts: what baselines and SARIF fingerprints use.
    fingerprint: &'a str,
    /// What fixing it saves a request (ms, from the deployment where that is the most; for a budget
    /// finding, how far over it is). Findings come costliest first.
    #[serde(serialize_with = "tenths")]
    saves_ms: f64,
    /// Present when the finding does not count: `{"kind": "inline"|"config"|"baseline", "reason"}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    suppressed: Option<&'a crate::rules::Suppressed>,
    /// Whether `hopcheck fix` has an edit for it: `{"available": true, "title": ..}`, or `{"available":
    /// false, "reason": ..}` saying what fixing it takes. Absent on suppressed findings.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<FixOut>,
}

#[derive(Serialize)]
struct FixOut {
    available: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
}

#[derive(Serialize)]
struct RelatedOut<'a> {
    line: u32,
    column: u32,
    message: &'a str,
}

/// The line and column just past a span, from the source text.
pub fn end_of(source: &str, loc: crate::facts::Loc) -> (u32, u32) {
    let start = (loc.offset as usize).min(source.len());
    let end = (loc.offset as usize + loc.len as usize).min(source.len());
    let Some(text) = source.get(start..end) else {
        return (loc.line, loc.col);
    };
    let newlines = text.matches('\n').count() as u32;
    if newlines == 0 {
        return (loc.line, loc.col + text.chars().count() as u32);
    }
    let last = text.rsplit('\n').next().unwrap_or("");
    (loc.line + newlines, last.chars().count() as u32 + 1)
}

/// Fixes and reasons by fingerprint.
struct Fixes {
    titles: std::collections::HashMap<String, String>,
    reasons: std::collections::HashMap<String, &'static str>,
}

fn diag<'a>(a: &'a Analysis, d: &'a Diagnostic, fixes: &Fixes) -> DiagOut<'a> {
    let file = &a.model.files[d.file];
    let (end_line, end_column) = end_of(&file.source, d.loc);
    DiagOut {
        lint: d.lint,
        severity: d.level.severity(),
        file: &file.path,
        line: d.loc.line,
        column: d.loc.col,
        end_line,
        end_column,
        message: &d.message,
        help: &d.help,
        label: &d.label,
        related: d
            .related
            .iter()
            .map(|(l, m)| RelatedOut {
                line: l.line,
                column: l.col,
                message: m,
            })
            .collect(),
        fingerprint: &d.fingerprint,
        saves_ms: d.saves_ms,
        suppressed: d.suppressed.as_ref(),
        fix: d
            .suppressed
            .is_none()
            .then(|| match fixes.titles.get(&d.fingerprint) {
                Some(title) => FixOut {
                    available: true,
                    title: Some(title.clone()),
                    reason: None,
                },
                None => FixOut {
                    available: false,
                    title: None,
                    reason: Some(
                        fixes
                            .reasons
                            .get(&d.fingerprint)
                            .copied()
                            .unwrap_or("no automatic fix for this lint"),
                    ),
                },
            }),
    }
}

fn tenths<S: serde::Serializer>(ms: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64((ms * 10.0).round() / 10.0)
}

impl Format for Json {
    fn render(&self, a: &Analysis) -> String {
        let (found, reasons) = crate::fix::fixes_and_reasons(a);
        let fixes = Fixes {
            titles: found
                .into_iter()
                .map(|f| (f.fingerprint, f.title))
                .collect(),
            reasons,
        };
        let out = Output {
            version: VERSION,
            config: ConfigOut {
                file: a.config.file.as_ref().map(|f| f.display().to_string()),
                deployments: &a.config.deployments,
                loop_iterations: a.config.loop_iterations,
            },
            routes: &a.routes,
            diagnostics: a.diagnostics.iter().map(|d| diag(a, d, &fixes)).collect(),
            notes: a.notes(),
            coverage: a.coverage(),
            comparison: a.comparison.as_ref(),
            baseline: a.baseline.as_ref(),
        };
        let mut s = serde_json::to_string_pretty(&out)
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
        s.push('\n');
        s
    }
}

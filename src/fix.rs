//! Fixes, shared by `hopcheck fix` and the language server's code actions: machine-applicable edits only
//! where they keep behaviour.

use crate::Analysis;

/// Replace the bytes `start..end` of a file's text with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// The edits that fix one finding, all in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// Index into the analysis's files.
    pub file: usize,
    /// The fingerprint of the finding it fixes.
    pub fingerprint: String,
    /// What it does, for a code action's title: "run the 2 reads at once with `tokio::try_join!`".
    pub title: String,
    pub edits: Vec<Edit>,
}

/// Every safe fix for the analysis's unsuppressed findings.
pub fn fixes(_a: &Analysis) -> Vec<Fix> {
    Vec::new()
}

/// A text with edits applied (edits must not overlap; they are applied from the end).
pub fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.start));
    let mut out = text.to_string();
    for e in sorted {
        if e.start <= e.end && e.end <= out.len() {
            out.replace_range(e.start..e.end, &e.text);
        }
    }
    out
}

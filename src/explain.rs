//! `hopcheck explain <lint>` and `hopcheck lints`: the lint docs embedded from `lints/*.md`.

use crate::rules::{self, LINTS};

/// The doc of a lint, or an error naming the closest lint.
pub fn explain(name: &str) -> Result<&'static str, String> {
    if let Some(lint) = rules::find(name) {
        return Ok(lint.doc);
    }
    let best = LINTS
        .iter()
        .map(|l| (strsim::jaro_winkler(name, l.name), l.name))
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .filter(|(score, _)| *score > 0.7);
    Err(match best {
        Some((_, n)) => {
            format!("unknown lint `{name}`: did you mean `{n}`? (`hopcheck lints` lists them)")
        }
        None => format!("unknown lint `{name}` (`hopcheck lints` lists them)"),
    })
}

/// One line per lint: name, default level, summary.
pub fn list() -> String {
    let width = LINTS.iter().map(|l| l.name.len()).max().unwrap_or(0);
    LINTS
        .iter()
        .map(|l| {
            format!(
                "{:width$}  {:7}  {}\n",
                l.name,
                l.default_level.severity(),
                l.summary
            )
        })
        .collect()
}

//! `--format short`: one line per finding, `file:line:col: severity[lint]: message`, for editors' problem
//! matchers and grep. Suppressed findings are left out.

use super::Format;
use crate::Analysis;

pub struct Short;

impl Format for Short {
    fn render(&self, a: &Analysis) -> String {
        let mut out = String::new();
        for d in a.diagnostics.iter().filter(|d| d.suppressed.is_none()) {
            let file = &a.model.files[d.file].path;
            // One line each: a message never spans lines here.
            let message = d.message.replace(['\n', '\r'], " ");
            out.push_str(&format!(
                "{file}:{}:{}: {}[{}]: {message}\n",
                d.loc.line,
                d.loc.col,
                d.level.severity(),
                d.lint
            ));
        }
        out
    }
}

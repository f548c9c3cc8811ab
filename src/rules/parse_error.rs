//! `parse-error`: a file that syn cannot parse. The rest of the project is still analysed.

use super::{Ctx, Diagnostic, Level, Lint};

pub static LINT: Lint = Lint {
    name: "parse-error",
    default_level: Level::Error,
    summary: "a file that cannot be parsed, so its functions are not analysed",
    doc: include_str!("../../lints/parse-error.md"),
    check,
};

fn check(ctx: &Ctx, out: &mut Vec<Diagnostic>) {
    for (i, file) in ctx.model.files.iter().enumerate() {
        let Some(err) = &file.parse_error else {
            continue;
        };
        out.push(Diagnostic {
            lint: LINT.name,
            level: LINT.default_level,
            file: i,
            loc: err.loc,
            label: "cannot parse here".into(),
            message: format!("cannot parse this file: {}", err.message),
            help: "hopcheck skipped this file, so the cost of routes through it is unknown; does `cargo check` accept it? (`[lints] parse-error = \"warn\"` lets the run pass without it)".into(),
            related: Vec::new(),
            function: None,
            ..Diagnostic::default()
        });
    }
}

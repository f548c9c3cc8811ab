//! `unused-allow`: a `// hopcheck: allow(..)` comment that suppresses nothing, or that cannot apply (no
//! reason, an unknown lint, a date that is not one). The findings are made by `crate::suppress`, once
//! every other lint has run; this entry gives the lint its name, level and documentation.

use super::{Ctx, Diagnostic, Level, Lint};

pub static LINT: Lint = Lint {
    name: "unused-allow",
    default_level: Level::Warn,
    summary: "an allow comment that suppresses nothing or cannot apply",
    doc: include_str!("../../lints/unused-allow.md"),
    check,
};

fn check(_ctx: &Ctx, _out: &mut Vec<Diagnostic>) {}

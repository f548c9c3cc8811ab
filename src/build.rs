//! Which build is deployed: `#[cfg(..)]` predicates judged against `[build]` in hopcheck.toml.
//!
//! A service that supports several databases (`#[cfg(postgresql)]`, `#[cfg(feature = "sqlite")]`)
//! spells each backend's statements in an arm of its own, and only one is compiled in. The facts keep
//! every arm, each behind its predicate; the model drops the arms the deployed build leaves out. Without
//! `[build]`, a predicate that names a flag or a feature is unknown and every arm stays, so the price is
//! the costliest and the output says it assumed so.

use std::collections::BTreeSet;

/// `[build]`: the cfg flags (`--cfg postgresql`, or set by a build script) and Cargo features of the
/// build that is deployed. Said at all, it is the whole list: a flag or feature it leaves out is off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Build {
    pub cfg: BTreeSet<String>,
    pub features: BTreeSet<String>,
}

impl Build {
    /// Turns on the features that those said turn on in their turn, as cargo does, through the
    /// `[features]` tables of the analysed crates (`ce = ["ce_core", "jemalloc"]`): a `dep:` entry
    /// names an optional dependency, not a feature; `crate/feature` (or `crate?/feature`) turns on that
    /// feature of a crate of the analysed code, named here by the feature alone.
    pub fn imply(&mut self, tables: &[&toml::Table]) {
        let mut todo: Vec<String> = self.features.iter().cloned().collect();
        while let Some(feature) = todo.pop() {
            for table in tables {
                let Some(implied) = table.get(&feature).and_then(toml::Value::as_array) else {
                    continue;
                };
                for item in implied.iter().filter_map(toml::Value::as_str) {
                    if item.starts_with("dep:") {
                        continue;
                    }
                    let name = item.rsplit('/').next().unwrap_or(item);
                    if self.features.insert(name.to_string()) {
                        todo.push(name.to_string());
                    }
                }
            }
        }
    }
}

/// Whether the predicate of `#[cfg(PRED)]` holds, as its tokens read (`postgresql`, `feature = "s3"`,
/// `any(sqlite, mysql)`): `None` when it cannot be known. Tests and debug assertions are off in a
/// deployed build; flags and features are known only through `[build]`; targets are not known.
pub fn holds(predicate: &str, build: Option<&Build>) -> Option<bool> {
    let meta = syn::parse_str::<syn::Meta>(predicate).ok()?;
    judge(&meta, build)
}

fn judge(meta: &syn::Meta, build: Option<&Build>) -> Option<bool> {
    match meta {
        syn::Meta::Path(p) => {
            let name = p.get_ident()?.to_string();
            match name.as_str() {
                "test" | "debug_assertions" | "miri" | "doc" | "doctest" => Some(false),
                "unix" | "windows" => None,
                _ => build.map(|b| b.cfg.contains(&name)),
            }
        }
        syn::Meta::NameValue(nv) => {
            let key = nv.path.get_ident()?.to_string();
            let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(value),
                ..
            }) = &nv.value
            else {
                return None;
            };
            match key.as_str() {
                "feature" => build.map(|b| b.features.contains(&value.value())),
                _ => None,
            }
        }
        syn::Meta::List(list) => {
            let inner = list
                .parse_args_with(
                    syn::punctuated::Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated,
                )
                .ok()?;
            let values: Vec<Option<bool>> = inner.iter().map(|m| judge(m, build)).collect();
            match list.path.get_ident()?.to_string().as_str() {
                "not" => match values.as_slice() {
                    [v] => v.map(|v| !v),
                    _ => None,
                },
                "all" if values.contains(&Some(false)) => Some(false),
                "all" if values.iter().all(|v| *v == Some(true)) => Some(true),
                "any" if values.contains(&Some(true)) => Some(true),
                "any" if values.iter().all(|v| *v == Some(false)) => Some(false),
                _ => None,
            }
        }
    }
}

/// The predicate of a `#[cfg(..)]` among `attrs`, as its tokens read.
pub fn predicate(attrs: &[syn::Attribute]) -> Option<String> {
    attrs
        .iter()
        .find(|a| a.path().is_ident("cfg"))
        .and_then(|a| a.meta.require_list().ok())
        .map(|l| l.tokens.to_string())
}

/// The attributes an expression carries, where it can carry a `#[cfg(..)]` (a statement, an argument).
pub fn expr_attrs(expr: &syn::Expr) -> Option<&[syn::Attribute]> {
    use syn::Expr;
    let attrs = match expr {
        Expr::Await(x) => &x.attrs,
        Expr::Try(x) => &x.attrs,
        Expr::Call(x) => &x.attrs,
        Expr::MethodCall(x) => &x.attrs,
        Expr::Block(x) => &x.attrs,
        Expr::If(x) => &x.attrs,
        Expr::Match(x) => &x.attrs,
        Expr::Macro(x) => &x.attrs,
        Expr::Assign(x) => &x.attrs,
        Expr::ForLoop(x) => &x.attrs,
        Expr::Path(x) => &x.attrs,
        Expr::Reference(x) => &x.attrs,
        Expr::Paren(x) => &x.attrs,
        _ => return None,
    };
    Some(attrs)
}

/// The predicate of a `#[cfg(..)]` on an expression (an argument, a block's statement), as its tokens read.
pub fn expr_predicate(expr: &syn::Expr) -> Option<String> {
    expr_attrs(expr).and_then(predicate)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postgres() -> Build {
        Build {
            cfg: ["postgresql".to_string()].into(),
            features: ["s3".to_string()].into(),
        }
    }

    #[test]
    fn flags_and_features_are_known_only_through_build() {
        assert_eq!(holds("postgresql", None), None);
        assert_eq!(holds("postgresql", Some(&postgres())), Some(true));
        assert_eq!(holds("sqlite", Some(&postgres())), Some(false));
        assert_eq!(holds("feature = \"s3\"", Some(&postgres())), Some(true));
        assert_eq!(
            holds("feature = \"sqlite\"", Some(&postgres())),
            Some(false)
        );
        assert_eq!(holds("feature = \"sqlite\"", None), None);
    }

    #[test]
    fn tests_are_never_deployed_and_targets_are_unknown() {
        assert_eq!(holds("test", None), Some(false));
        assert_eq!(holds("not(test)", None), Some(true));
        assert_eq!(holds("any(test, sqlite)", None), None);
        assert_eq!(holds("all(test, sqlite)", None), Some(false));
        assert_eq!(holds("target_os = \"linux\"", Some(&postgres())), None);
        assert_eq!(holds("any(sqlite, mysql)", Some(&postgres())), Some(false));
        assert_eq!(
            holds("not(any(sqlite, mysql))", Some(&postgres())),
            Some(true)
        );
    }

    #[test]
    fn a_feature_turns_on_those_it_lists_in_turn() {
        let table: toml::Table = toml::from_str(
            "ce = [\"ce_core\", \"dep:jemallocator\"]\nce_core = [\"oss_core\", \"windmill-common/private\"]\noss_core = [\"mcp\"]\nee = [\"cloud\"]\n",
        )
        .unwrap();
        let mut build = Build {
            features: ["ce".to_string()].into(),
            ..Build::default()
        };
        build.imply(&[&table]);
        let on: Vec<&str> = build.features.iter().map(String::as_str).collect();
        assert_eq!(on, ["ce", "ce_core", "mcp", "oss_core", "private"]);
        assert_eq!(holds("feature = \"mcp\"", Some(&build)), Some(true));
        assert_eq!(holds("feature = \"cloud\"", Some(&build)), Some(false));
    }
}

//! Files no `mod` declaration reaches: a crate compiles only the files its module tree names, so a file
//! left out of it (an old copy, a module whose `mod` line was removed) serves no route. Judged from the
//! parent module's text, and only where that parent is known: a file whose parent declares modules in
//! ways this does not read (`#[path]`, `include!`, a macro that writes `mod $name`) is kept.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::facts::{FileFacts, FileKind};

/// The paths (relative to the analysed root) of the Rust files no `mod` declaration reaches.
pub fn unreached(root: &Path, files: &[Arc<FileFacts>]) -> BTreeSet<String> {
    let by_path: HashMap<&str, &FileFacts> =
        files.iter().map(|f| (f.path.as_str(), &**f)).collect();
    // The text of a file: as parsed, else (a file the text scan set aside) as on disk.
    let text_of = |rel: &str| -> Option<String> {
        match by_path.get(rel) {
            Some(f) if !f.source.is_empty() => Some(f.source.clone()),
            Some(_) => std::fs::read_to_string(root.join(rel)).ok(),
            None => None,
        }
    };
    // The files a crate's manifest names as targets (`[[bin]] path = "src/daemon.rs"`, `[[test]]`,
    // `[lib]`): roots of their own.
    let mut targets: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut is_target = |base: &str, path: &str| {
        let krate = base.trim_end_matches("src/").to_string();
        let paths = targets
            .entry(krate.clone())
            .or_insert_with(|| manifest_targets(&root.join(&krate).join("Cargo.toml"), &krate));
        paths.contains(path)
    };
    let mut out = BTreeSet::new();
    // A file that could not be read keeps its `parse-error` finding: it is never left out.
    for f in files
        .iter()
        .filter(|f| f.kind == FileKind::Rust && f.parse_error.is_none())
    {
        let Some((base, inner)) = split_src(&f.path) else {
            continue;
        };
        if inner.starts_with("bin/") || is_target(base, &f.path) {
            continue;
        }
        let module = crate::discover::module_path(&f.path);
        let Some((name, parent)) = module.split_last() else {
            continue;
        };
        let candidates = if parent.is_empty() {
            vec![format!("{base}lib.rs"), format!("{base}main.rs")]
        } else {
            let at = parent.join("/");
            vec![format!("{base}{at}.rs"), format!("{base}{at}/mod.rs")]
        };
        let texts: Vec<String> = candidates.iter().filter_map(|c| text_of(c)).collect();
        if texts.is_empty() {
            continue;
        }
        let named = texts.iter().any(|t| {
            declares(t, name)
                || t.contains("#[path")
                || t.contains("include!")
                || t.contains("mod $")
        });
        if !named {
            out.insert(f.path.clone());
        }
    }
    out
}

/// The paths (relative to the analysed root, `krate` being the crate's folder there) of the targets a
/// manifest names: `[lib]`, `[[bin]]`, `[[test]]`, `[[example]]`, `[[bench]]`.
fn manifest_targets(manifest: &Path, krate: &str) -> BTreeSet<String> {
    let Some(table) = std::fs::read_to_string(manifest)
        .ok()
        .and_then(|t| t.parse::<toml::Table>().ok())
    else {
        return BTreeSet::new();
    };
    let path_of = |t: &toml::Value| {
        let path = t.get("path")?.as_str()?.trim_start_matches("./");
        Some(format!("{krate}{path}"))
    };
    let mut out: BTreeSet<String> = table.get("lib").and_then(path_of).into_iter().collect();
    for kind in ["bin", "test", "example", "bench"] {
        if let Some(list) = table.get(kind).and_then(toml::Value::as_array) {
            out.extend(list.iter().filter_map(path_of));
        }
    }
    out
}

/// `crates/api/src/routes/users.rs` → (`crates/api/src/`, `routes/users.rs`).
fn split_src(path: &str) -> Option<(&str, &str)> {
    // The innermost `src` folder, as `discover::module_path` reads it (`src/api/common/src/auth.rs`).
    let at = match path.rfind("/src/") {
        Some(at) => at + 1,
        None if path.starts_with("src/") => 0,
        None => return None,
    };
    Some((&path[..at + 4], &path[at + 4..]))
}

/// Whether `text` declares the module `name` (`mod name;`, `pub(crate) mod name {`), also inside a
/// macro's input (`cfg_if! { mod name; }`).
fn declares(text: &str, name: &str) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut rest = text;
    while let Some(at) = rest.find("mod") {
        let before = rest[..at].chars().next_back();
        let after = &rest[at + 3..];
        rest = after;
        if before.is_some_and(ident) || !after.starts_with(char::is_whitespace) {
            continue;
        }
        let after = after.trim_start();
        let after = after.strip_prefix("r#").unwrap_or(after);
        if let Some(tail) = after.strip_prefix(name) {
            if !tail.starts_with(ident) {
                return true;
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::{declares, split_src};

    #[test]
    fn module_declarations_are_read_from_text() {
        assert!(declares("mod add;\npub mod list;\n", "list"));
        assert!(declares("pub(crate) mod r#impl;", "impl"));
        assert!(declares(
            "cfg_if::cfg_if! { if #[cfg(x)] { mod login; } }",
            "login"
        ));
        assert!(!declares("mod logins;\n", "login"));
        assert!(!declares("// the login page\nfn model() {}", "login"));
        assert_eq!(split_src("src/a/b.rs"), Some(("src/", "a/b.rs")));
        assert_eq!(
            split_src("crates/api/src/db.rs"),
            Some(("crates/api/src/", "db.rs"))
        );
        assert_eq!(split_src("app.rs"), None);
        assert_eq!(
            split_src("src/api/common/src/auth/mod.rs"),
            Some(("src/api/common/src/", "auth/mod.rs"))
        );
    }
}

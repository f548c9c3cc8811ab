//! Files no `mod` declaration reaches: a crate compiles only the files its module tree names, so a file
//! left out of it (an old copy, a module whose `mod` line was removed) serves no route. Judged from the
//! parent module's text, and only where that parent is known: a file whose parent declares modules in
//! ways this does not read (`#[path]`, `include!`, a macro that writes `mod $name`) is kept.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use crate::facts::{FileFacts, FileKind};

/// The paths (relative to the analysed root) of the Rust files no `mod` declaration reaches.
pub fn unreached(root: &Path, files: &[Arc<FileFacts>]) -> BTreeSet<String> {
    let by_path: HashMap<&str, &FileFacts> =
        files.iter().map(|f| (f.path.as_str(), &**f)).collect();
    // The text of a file: as parsed, else (a file the text scan set aside) as on disk.
    let text_of = |rel: &str| -> Option<Cow<'_, str>> {
        match by_path.get(rel) {
            Some(f) if !f.source.is_empty() => Some(Cow::Borrowed(f.source.as_str())),
            Some(_) => std::fs::read_to_string(root.join(rel)).ok().map(Cow::Owned),
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
    // What each parent module declares, read once.
    let mut parents: HashMap<String, Option<Declared>> = HashMap::new();
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
        let mut known = false;
        let mut named = false;
        for c in &candidates {
            let decls = parents
                .entry(c.clone())
                .or_insert_with(|| text_of(c).map(|t| Declared::of(&t)));
            if let Some(d) = decls {
                known = true;
                named |= d.opaque || d.names.contains(name);
            }
        }
        if known && !named {
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

/// The modules a file declares by name (`mod name;`, `pub(crate) mod name {`, also inside a macro's input:
/// `cfg_if! { mod name; }`), and whether it may declare others in ways not read here (`#[path]`,
/// `include!`, a macro writing `mod $name`).
struct Declared {
    names: std::collections::HashSet<String>,
    opaque: bool,
}

impl Declared {
    /// Read from the file's tokens, so that a declaration in a comment (`// pub mod old;`) declares
    /// nothing; from its text where it does not lex.
    fn of(text: &str) -> Declared {
        match text.parse::<proc_macro2::TokenStream>() {
            Ok(tokens) => {
                let mut out = Declared {
                    names: Default::default(),
                    opaque: false,
                };
                out.read(tokens);
                out
            }
            Err(_) => Declared::of_text(text),
        }
    }

    fn read(&mut self, tokens: proc_macro2::TokenStream) {
        use proc_macro2::TokenTree;
        let tokens: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, t) in tokens.iter().enumerate() {
            let next = tokens.get(i + 1);
            match t {
                TokenTree::Group(g) => {
                    // `#[path = ".."]`
                    let first = g.stream().into_iter().next();
                    if matches!(&first, Some(TokenTree::Ident(p)) if p == "path")
                        && i > 0
                        && matches!(&tokens[i - 1], TokenTree::Punct(p) if p.as_char() == '#')
                    {
                        self.opaque = true;
                    }
                    self.read(g.stream());
                }
                TokenTree::Ident(id) if id == "mod" => match next {
                    Some(TokenTree::Ident(name)) => {
                        let name = name.to_string();
                        let name = name.strip_prefix("r#").unwrap_or(&name);
                        self.names.insert(name.to_string());
                    }
                    Some(TokenTree::Punct(p)) if p.as_char() == '$' => self.opaque = true,
                    _ => {}
                },
                TokenTree::Ident(id) if id == "include" => {
                    if matches!(next, Some(TokenTree::Punct(p)) if p.as_char() == '!') {
                        self.opaque = true;
                    }
                }
                _ => {}
            }
        }
    }

    fn of_text(text: &str) -> Declared {
        let ident = |c: char| c.is_alphanumeric() || c == '_';
        let mut names = std::collections::HashSet::new();
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
            let name: String = after.chars().take_while(|&c| ident(c)).collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
        let opaque = text.contains("#[path") || text.contains("include!") || text.contains("mod $");
        Declared { names, opaque }
    }
}

#[cfg(test)]
mod tests {
    use super::{split_src, Declared};

    #[test]
    fn module_declarations_are_read_from_text() {
        let declares = |text: &str, name: &str| Declared::of(text).names.contains(name);
        assert!(declares("mod add;\npub mod list;\n", "list"));
        assert!(declares("pub(crate) mod r#impl;", "impl"));
        assert!(declares(
            "cfg_if::cfg_if! { if #[cfg(x)] { mod login; } }",
            "login"
        ));
        assert!(!declares("mod logins;\n", "login"));
        assert!(!declares("// the login page\nfn model() {}", "login"));
        assert!(!declares(
            "mod a;\n// pub mod login;\n/* mod login; */",
            "login"
        ));
        assert!(Declared::of("macro_rules! m { ($n:ident) => { mod $n; } }").opaque);
        assert!(Declared::of("include!(concat!(env!(\"OUT_DIR\"), \"/x.rs\"));").opaque);
        assert!(Declared::of("#[path = \"x.rs\"] mod y;").opaque);
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

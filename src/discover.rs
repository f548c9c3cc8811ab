//! Which files to analyse: the `.rs` files under the root (and the `.sql` files of `queries/` folders,
//! which cornucopia and clorinde turn into Rust at build time), honouring `.gitignore`, skipping hidden folders,
//! `target/`, and the `tests/`, `benches/` and `examples/` folders of a crate (test and example code is not a
//! request path); and
//! the crates the root's crates depend on by path (`shared = { path = "../shared" }`) inside the same git
//! repository (or under the root, outside a repository): a manifest cannot send hopcheck reading
//! elsewhere on the machine.
//!
//! It only lists paths; reading happens in the parse stage. Walk errors (an unreadable folder, a symlink
//! loop) become entries too, so that the report can name them.

use std::path::{Path, PathBuf};

/// A file to analyse, or a place the walk could not enter.
#[derive(Clone)]
pub enum Found {
    File { path: PathBuf, rel: String },
    Error { rel: String, message: String },
}

/// The `.sql` files a code generator turns into Rust at build time: cornucopia's and clorinde's
/// `queries/` folder, whose named queries the generated calls run.
fn generated_sql(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "sql")
        && path
            .parent()
            .and_then(Path::file_name)
            .is_some_and(|n| n == "queries")
}

/// How many hops of path dependencies are followed.
const MAX_PATH_DEP_DEPTH: usize = 8;

/// Lists the `.rs` files under `root` (or `root` itself if it is a file) and under the crates they
/// depend on by path outside it, sorted by relative path.
pub fn discover(root: &Path) -> Vec<Found> {
    let repo = repository_of(root);
    let mut out = walk(root, root, repo.is_some());
    if root.is_dir() {
        let mut seen: Vec<PathBuf> = root.canonicalize().into_iter().collect();
        let Some(fence) = repo.or_else(|| seen.first().cloned()) else {
            return out;
        };
        let mut frontier = manifests(&out, root);
        for _ in 0..MAX_PATH_DEP_DEPTH {
            let mut next = Vec::new();
            for manifest in frontier {
                for dep in path_dependencies(&manifest) {
                    let Ok(dep) = dep.canonicalize() else {
                        continue;
                    };
                    if seen.iter().any(|s| dep.starts_with(s)) || !dep.starts_with(&fence) {
                        continue;
                    }
                    seen.push(dep.clone());
                    let found = walk(&dep, root, true);
                    next.extend(manifests(&found, root));
                    next.push(dep.join("Cargo.toml"));
                    out.extend(found);
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
    }
    out.sort_by(|a, b| key(a).cmp(key(b)));
    out.dedup_by(|a, b| key(a) == key(b));
    out
}

/// The `Cargo.toml` files next to the `src/` folders of the files found.
pub fn manifests(found: &[Found], root: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = vec![root.join("Cargo.toml")];
    for f in found {
        let Found::File { path, .. } = f else {
            continue;
        };
        let Some(src) = path
            .ancestors()
            .find(|a| a.file_name().is_some_and(|n| n == "src"))
        else {
            continue;
        };
        if let Some(krate) = src.parent() {
            out.push(krate.join("Cargo.toml"));
        }
    }
    out.sort();
    out.dedup();
    out.retain(|m| m.is_file());
    out
}

/// The folders of a manifest's `path` dependencies (`[dependencies]`, and `[workspace.dependencies]`).
fn path_dependencies(manifest: &Path) -> Vec<PathBuf> {
    let Ok(text) = std::fs::read_to_string(manifest) else {
        return Vec::new();
    };
    let Ok(value) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let dir = manifest.parent().unwrap_or(Path::new("."));
    let mut tables = vec![value.get("dependencies")];
    tables.push(value.get("workspace").and_then(|w| w.get("dependencies")));
    tables
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_table())
        .flat_map(|t| t.values())
        .filter_map(|dep| dep.get("path").and_then(|p| p.as_str()))
        .map(|p| dir.join(p))
        .filter(|p| p.join("Cargo.toml").is_file())
        .collect()
}

/// The top folder of the git repository that holds `root` (canonical), if any.
pub(crate) fn repository_of(root: &Path) -> Option<PathBuf> {
    let dir = root.canonicalize().ok()?;
    let dir = if dir.is_file() {
        dir.parent()?.to_path_buf()
    } else {
        dir
    };
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .map(Path::to_path_buf)
}

/// The `.rs` files under `dir`, named relative to `root`. The `.gitignore` files of the folders above
/// `dir` are read only inside a repository (`in_repo`); the user's global git configuration never is, so
/// that a run does not depend on the machine.
fn walk(dir: &Path, root: &Path, in_repo: bool) -> Vec<Found> {
    let root_for_names = root;
    let root = dir;
    if root.is_file() {
        let rel = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        return vec![Found::File {
            path: root.to_path_buf(),
            rel,
        }];
    }
    let walker = ignore::WalkBuilder::new(root)
        .hidden(true)
        .git_ignore(true)
        .git_exclude(true)
        .require_git(false)
        .git_global(false)
        .parents(in_repo)
        .follow_links(false)
        .filter_entry(|e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            if !is_dir || e.depth() == 0 {
                return true;
            }
            let name = e.file_name();
            if name == "target" || name == "node_modules" {
                return false;
            }
            // `tests/` and `benches/` next to a Cargo.toml are test code; `examples/` are programs that
            // show how to use the crate, not the service (a client library's example server).
            let crate_side_dir = (name == "tests" || name == "benches" || name == "examples")
                && e.path()
                    .parent()
                    .is_some_and(|p| p.join("Cargo.toml").is_file());
            !crate_side_dir
        })
        .build_parallel();
    // On every core, as `rg` walks: a large tree's walk is mostly waiting on the file system.
    let out = std::sync::Mutex::new(Vec::new());
    walker.run(|| {
        let out = &out;
        Box::new(move |entry| {
            let found = match entry {
                Ok(e) => {
                    let is_file = e.file_type().is_some_and(|t| t.is_file());
                    if !is_file
                        || !(e.path().extension().is_some_and(|x| x == "rs")
                            || generated_sql(e.path()))
                    {
                        return ignore::WalkState::Continue;
                    }
                    Found::File {
                        rel: relative(root_for_names, e.path()),
                        path: e.into_path(),
                    }
                }
                Err(err) => {
                    let rel = err_path(&err)
                        .map(|p| relative(root_for_names, &p))
                        .unwrap_or_else(|| ".".into());
                    Found::Error {
                        rel,
                        message: err.to_string(),
                    }
                }
            };
            if let Ok(mut out) = out.lock() {
                out.push(found);
            }
            ignore::WalkState::Continue
        })
    });
    let mut out = out.into_inner().unwrap_or_default();
    out.sort_by(|a, b| key(a).cmp(key(b)));
    out
}

fn key(f: &Found) -> &str {
    match f {
        Found::File { rel, .. } | Found::Error { rel, .. } => rel,
    }
}

fn err_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            err_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}

/// `root/src/a.rs` → `src/a.rs`, with forward slashes.
pub fn relative(root: &Path, path: &Path) -> String {
    let join = |p: &Path| {
        p.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/")
    };
    if let Ok(rel) = path.strip_prefix(root) {
        return join(rel);
    }
    // A path dependency outside the root: `../shared/src/db.rs`.
    let (Ok(r), Ok(p)) = (root.canonicalize(), path.canonicalize()) else {
        return join(path);
    };
    if let Ok(rel) = p.strip_prefix(&r) {
        return join(rel);
    }
    let common = r
        .components()
        .zip(p.components())
        .take_while(|(a, b)| a == b)
        .count();
    let ups = r.components().count() - common;
    let mut parts: Vec<String> = vec!["..".to_string(); ups];
    parts.extend(
        p.components()
            .skip(common)
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

/// The module path a file's place implies: `src/routes/billing.rs` → `routes::billing`,
/// `src/routes/mod.rs` → `routes`, `src/main.rs` → the crate root.
pub fn module_path(rel: &str) -> Vec<String> {
    let parts: Vec<&str> = rel.split('/').collect();
    let start = parts
        .iter()
        .rposition(|p| *p == "src")
        .map(|i| i + 1)
        .unwrap_or(0);
    // A folder whose name is no identifier (`client-systems/`) is declared with `#[path] mod
    // client_systems;`: its module takes the name with underscores.
    let mut module: Vec<String> = parts[start..]
        .iter()
        .map(|p| p.trim_end_matches(".rs").replace('-', "_"))
        .collect();
    if module
        .last()
        .is_some_and(|m| m == "mod" || m == "lib" || m == "main")
    {
        module.pop();
    }
    if module.first().is_some_and(|m| m == "bin") {
        module.clear();
    }
    module
}

#[cfg(test)]
mod tests {
    use super::module_path;

    #[test]
    fn module_paths_follow_rust_layout() {
        assert_eq!(
            module_path("src/routes/billing.rs"),
            vec!["routes", "billing"]
        );
        assert_eq!(module_path("src/routes/mod.rs"), vec!["routes"]);
        assert!(module_path("src/main.rs").is_empty());
        assert!(module_path("crates/api/src/lib.rs").is_empty());
        assert_eq!(module_path("crates/api/src/db.rs"), vec!["db"]);
    }
}

//! Which libraries each crate of the analysed code depends on, read from its `Cargo.toml` as data (never
//! built or run): the catalog's entries for a library apply only to code of a crate that depends on it, so
//! that `set.insert(database_id)` is not sea-orm's `model.insert(db)` in a crate without sea-orm.
//!
//! A file belongs to the crate whose folder holds its `src/` (`crates/api/src/x.rs` → `crates/api/`).
//! A crate depends on the libraries its `[dependencies]` (also per target, and inherited from the
//! workspace) name, and on those of the crates it depends on by `path` inside the same repository (a
//! project's `db` crate that wraps sqlx). Files outside any crate, or of a crate whose manifest cannot be
//! read, get the whole catalog: where hopcheck cannot know, it does not narrow.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::catalog::Catalog;

/// How many hops of path dependencies are followed.
const MAX_DEPTH: usize = 8;

/// The catalog in scope for each crate, computed once per crate folder.
pub struct Scopes {
    catalog: Catalog,
    /// Files must stay inside this folder (the repository, else the analysed root) to be read.
    fence: Option<PathBuf>,
    by_crate: Mutex<HashMap<PathBuf, Arc<Catalog>>>,
    /// The catalog of each folder's files.
    by_dir: Mutex<HashMap<PathBuf, Arc<Catalog>>>,
    /// Manifests read so far: a workspace's crates share most of theirs.
    manifests: Mutex<Manifests>,
    whole: Arc<Catalog>,
    /// The name each crate folder's code is imported by, once per folder.
    names: Mutex<HashMap<PathBuf, Option<String>>>,
    /// The libraries the crates of the analysed code depend on, all together.
    seen: Mutex<BTreeSet<String>>,
}

/// Manifests by path, each read and parsed once (`None`: unreadable), and what each crate folder's own
/// manifest names, worked out once: a workspace's crates share most of their path dependencies.
#[derive(Default)]
pub struct Manifests {
    read: HashMap<PathBuf, Option<Arc<toml::Table>>>,
    direct: HashMap<PathBuf, Option<Arc<Direct>>>,
    /// Path dependencies whose folder is not there (`cloud-database` at `../../libs/cloud-database`,
    /// deleted): what calls into them do cannot be seen. By manifest, the name and the path as written.
    missing: BTreeSet<(PathBuf, String, String)>,
}

/// What one crate's manifest names: libraries (with the features it turns on) and the folders of its
/// path dependencies inside the fence.
struct Direct {
    names: BTreeSet<String>,
    paths: Vec<PathBuf>,
}

impl Manifests {
    fn get(&mut self, path: &Path) -> Option<Arc<toml::Table>> {
        self.read
            .entry(path.to_path_buf())
            .or_insert_with(|| read_toml(path).map(Arc::new))
            .clone()
    }
}

impl Scopes {
    pub fn new(catalog: &Catalog, root: &Path) -> Scopes {
        let fence = crate::discover::repository_of(root).or_else(|| {
            let root = root.canonicalize().ok()?;
            Some(if root.is_file() {
                root.parent()?.to_path_buf()
            } else {
                root
            })
        });
        Scopes {
            catalog: catalog.clone(),
            fence,
            by_crate: Mutex::new(HashMap::new()),
            by_dir: Mutex::new(HashMap::new()),
            manifests: Mutex::new(Manifests::default()),
            whole: Arc::new(catalog.clone()),
            names: Mutex::new(HashMap::new()),
            seen: Mutex::new(BTreeSet::new()),
        }
    }

    /// The parsed `Cargo.toml` at `path`, read once for the whole run.
    pub fn manifest(&self, path: &Path) -> Option<Arc<toml::Table>> {
        self.manifests.lock().ok()?.get(path)
    }

    /// The name other crates import the crate of `file` by: its `[lib] name`, else its package's name
    /// with `-` for `_`.
    pub fn crate_name(&self, file: &Path) -> Option<String> {
        let folder = file.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some(known) = self.names.lock().ok()?.get(&folder) {
            return known.clone();
        }
        let name = crate_of(file).and_then(|krate| {
            let manifest = self.manifests.lock().ok()?.get(&krate.join("Cargo.toml"))?;
            let named = |table: &str| {
                manifest
                    .get(table)?
                    .get("name")?
                    .as_str()
                    .map(|n| n.replace('-', "_"))
            };
            named("lib").or_else(|| named("package"))
        });
        self.names.lock().ok()?.insert(folder, name.clone());
        name
    }

    /// Every manifest the run looked for, read or not.
    pub fn manifests_read(&self) -> Vec<PathBuf> {
        match self.manifests.lock() {
            Ok(m) => m.read.keys().cloned().collect(),
            Err(_) => Vec::new(),
        }
    }

    /// The clients of databases and remote stores the crates read so far depend on that the catalog
    /// does not price (see [`Catalog::unpriced_in`]).
    pub fn unpriced_clients(&self) -> Vec<String> {
        match self.seen.lock() {
            Ok(seen) => self.catalog.unpriced_in(&seen),
            Err(_) => Vec::new(),
        }
    }

    /// The path dependencies of the crates read so far whose folder is not there, as `name (path in
    /// manifest)` with the manifest's path relative to `root`.
    pub fn missing_path_dependencies(&self, root: &Path) -> Vec<String> {
        let Ok(m) = self.manifests.lock() else {
            return Vec::new();
        };
        let root = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        m.missing
            .iter()
            .map(|(manifest, name, path)| {
                let manifest = manifest.canonicalize().unwrap_or_else(|_| manifest.clone());
                let shown = manifest.strip_prefix(&root).unwrap_or(&manifest);
                format!("{name} ({path} in {})", shown.display())
            })
            .collect()
    }

    /// The web frameworks the crates read so far depend on whose routes hopcheck does not read.
    pub fn unread_frameworks(&self) -> Vec<String> {
        match self.seen.lock() {
            Ok(seen) => Catalog::unread_frameworks_in(&seen),
            Err(_) => Vec::new(),
        }
    }

    /// The catalog for the code of `file` (a path on disk).
    pub fn catalog_for(&self, file: &Path) -> Arc<Catalog> {
        // Files of one folder belong to one crate: looked up once per folder.
        let folder = file.parent().map(Path::to_path_buf).unwrap_or_default();
        if let Some(c) = self
            .by_dir
            .lock()
            .ok()
            .and_then(|m| m.get(&folder).cloned())
        {
            return c;
        }
        let catalog = self.catalog_of_crate(file);
        if let Ok(mut m) = self.by_dir.lock() {
            m.insert(folder, catalog.clone());
        }
        catalog
    }

    fn catalog_of_crate(&self, file: &Path) -> Arc<Catalog> {
        let Some(krate) = crate_of(file) else {
            return self.whole.clone();
        };
        if let Some(c) = self
            .by_crate
            .lock()
            .ok()
            .and_then(|m| m.get(&krate).cloned())
        {
            return c;
        }
        let deps = match self.manifests.lock() {
            Ok(mut m) => dependencies(&krate, self.fence.as_deref(), &mut m),
            Err(_) => None,
        };
        if let (Some(deps), Ok(mut seen)) = (&deps, self.seen.lock()) {
            seen.extend(deps.iter().cloned());
        }
        let scoped = match deps {
            Some(deps) => Arc::new(self.catalog.in_scope(&deps)),
            None => self.whole.clone(),
        };
        if let Ok(mut m) = self.by_crate.lock() {
            m.insert(krate, scoped.clone());
        }
        scoped
    }
}

/// The folder of the crate `file` belongs to: the parent of its nearest `src` folder, if it has a
/// `Cargo.toml`.
pub fn crate_of(file: &Path) -> Option<PathBuf> {
    let file = file.canonicalize().ok()?;
    let src = file
        .ancestors()
        .skip(1)
        .find(|a| a.file_name().is_some_and(|n| n == "src"))?;
    let krate = src.parent()?;
    krate
        .join("Cargo.toml")
        .is_file()
        .then(|| krate.to_path_buf())
}

/// The libraries the crate in `dir` depends on (names with `-` for `_`), with those of its path
/// dependencies inside `fence`; `None` when its manifest cannot be read.
pub fn dependencies(
    dir: &Path,
    fence: Option<&Path>,
    manifests: &mut Manifests,
) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    let mut seen = Vec::new();
    let mut frontier = vec![dir.to_path_buf()];
    let mut first = true;
    for _ in 0..=MAX_DEPTH {
        let mut next = Vec::new();
        for dir in frontier {
            if seen.contains(&dir) {
                continue;
            }
            seen.push(dir.clone());
            let Some(direct) = direct(&dir, fence, manifests) else {
                if first {
                    return None;
                }
                continue;
            };
            first = false;
            out.extend(direct.names.iter().cloned());
            next.extend(direct.paths.iter().cloned());
        }
        if next.is_empty() {
            break;
        }
        frontier = next;
    }
    Some(out)
}

/// What the manifest of the crate in `dir` names itself (see [`Direct`]), once per folder.
fn direct(dir: &Path, fence: Option<&Path>, manifests: &mut Manifests) -> Option<Arc<Direct>> {
    if let Some(known) = manifests.direct.get(dir) {
        return known.clone();
    }
    let found = read_direct(dir, fence, manifests).map(Arc::new);
    manifests.direct.insert(dir.to_path_buf(), found.clone());
    found
}

fn read_direct(dir: &Path, fence: Option<&Path>, manifests: &mut Manifests) -> Option<Direct> {
    let manifest = manifests.get(&dir.join("Cargo.toml"))?;
    let mut out = BTreeSet::new();
    let mut paths = Vec::new();
    // Features of dependencies that the crate's own features may turn on (`postgresql =
    // ["diesel/postgres"]`): a build may have them.
    let features = manifest.get("features").and_then(toml::Value::as_table);
    for f in features.into_iter().flat_map(|t| t.values()) {
        for v in f
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(toml::Value::as_str)
        {
            if let Some((dep, feature)) = v.split_once('/') {
                let dep = dep.trim_end_matches('?').trim_start_matches("dep:");
                out.insert(format!("{}/{feature}", dep.replace('_', "-")));
            }
        }
    }
    let workspace = workspace_dependencies(dir, fence, manifests);
    for (name, dep) in dependency_entries(&manifest) {
        let inherited = dep
            .get("workspace")
            .and_then(toml::Value::as_bool)
            .unwrap_or(false);
        let (spec, base) = match (inherited, &workspace) {
            (true, Some((root, table))) => match table.get(&name) {
                Some(spec) => (spec.clone(), root.clone()),
                None => (dep.clone(), dir.to_path_buf()),
            },
            _ => (dep.clone(), dir.to_path_buf()),
        };
        let package = spec
            .get("package")
            .and_then(toml::Value::as_str)
            .unwrap_or(&name);
        // A fork published under another name but imported by the original's (`diesel = { package =
        // "juspay_diesel" }`) keeps the original's API: the crate depends on both names.
        let mut names = vec![package.replace('_', "-")];
        if package != name {
            names.push(name.replace('_', "-"));
        }
        for package in names {
            // Its features too, as cargo writes them (`sqlx/sqlite`): the database a crate
            // talks to may be said by nothing else.
            for features in [&spec, &dep].map(|s| s.get("features").and_then(toml::Value::as_array))
            {
                for f in features
                    .into_iter()
                    .flatten()
                    .filter_map(toml::Value::as_str)
                {
                    out.insert(format!("{package}/{f}"));
                }
            }
            out.insert(package);
        }
        let Some(path) = spec.get("path").and_then(toml::Value::as_str) else {
            continue;
        };
        let Ok(target) = base.join(path).canonicalize() else {
            manifests.missing.insert((
                base.join("Cargo.toml"),
                name.replace('_', "-"),
                path.to_string(),
            ));
            continue;
        };
        if fence.is_none_or(|f| target.starts_with(f)) {
            paths.push(target);
        }
    }
    Some(Direct { names: out, paths })
}

fn read_toml(path: &Path) -> Option<toml::Table> {
    // A manifest is small; a huge one is not read (nor is one that is not a file).
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() || meta.len() > 1 << 20 {
        return None;
    }
    std::fs::read_to_string(path).ok()?.parse().ok()
}

/// `[dependencies]` and `[target.'cfg(..)'.dependencies]` as (key, spec): a bare version string becomes
/// an empty table.
fn dependency_entries(manifest: &toml::Table) -> Vec<(String, toml::Value)> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    if let Some(t) = manifest.get("dependencies").and_then(toml::Value::as_table) {
        tables.push(t);
    }
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        for target in targets.values() {
            if let Some(t) = target.get("dependencies").and_then(toml::Value::as_table) {
                tables.push(t);
            }
        }
    }
    tables
        .into_iter()
        .flat_map(|t| t.iter())
        .map(|(k, v)| {
            let spec = if v.is_table() {
                v.clone()
            } else {
                toml::Value::Table(toml::Table::new())
            };
            (k.clone(), spec)
        })
        .collect()
}

/// The `[workspace.dependencies]` of the workspace above `dir` (inside `fence`), with the workspace's
/// folder.
fn workspace_dependencies(
    dir: &Path,
    fence: Option<&Path>,
    manifests: &mut Manifests,
) -> Option<(PathBuf, toml::map::Map<String, toml::Value>)> {
    for folder in dir.ancestors() {
        if fence.is_some_and(|f| !folder.starts_with(f)) {
            return None;
        }
        let Some(manifest) = manifests.get(&folder.join("Cargo.toml")) else {
            continue;
        };
        if let Some(ws) = manifest.get("workspace") {
            let deps = ws
                .get("dependencies")
                .and_then(toml::Value::as_table)
                .cloned()
                .unwrap_or_default();
            let deps = deps
                .into_iter()
                .map(|(k, v)| {
                    let v = if v.is_table() {
                        v
                    } else {
                        toml::Value::Table(toml::Table::new())
                    };
                    (k, v)
                })
                .collect();
            return Some((folder.to_path_buf(), deps));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_crate_depends_on_its_own_and_its_path_dependencies_libraries() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        write(
            &root,
            "Cargo.toml",
            "[workspace]\nmembers = [\"api\", \"db\"]\n[workspace.dependencies]\npg = { package = \"tokio-postgres\", version = \"0.7\" }\ndb = { path = \"db\" }\n",
        );
        write(
            &root,
            "api/Cargo.toml",
            "[package]\nname = \"api\"\n[dependencies]\naxum = \"0.8\"\ndb.workspace = true\n[target.'cfg(unix)'.dependencies]\nredis_pool = \"1\"\n",
        );
        write(
            &root,
            "db/Cargo.toml",
            "[package]\nname = \"db\"\n[dependencies]\nsqlx = { version = \"0.8\" }\npg = { workspace = true }\ndiesel = { package = \"juspay_diesel\", version = \"2\" }\n",
        );
        write(&root, "api/src/main.rs", "fn main() {}");
        let krate = crate_of(&root.join("api/src/main.rs")).unwrap();
        assert_eq!(krate, root.join("api"));
        let deps = dependencies(&krate, Some(&root), &mut Manifests::default()).unwrap();
        // A renamed dependency is its package, and the name the code imports it by: a fork published
        // under its own name but imported as the original (`diesel = { package = "juspay_diesel" }`)
        // keeps the original's API.
        for lib in [
            "axum",
            "db",
            "redis-pool",
            "sqlx",
            "tokio-postgres",
            "pg",
            "juspay-diesel",
            "diesel",
        ] {
            assert!(deps.contains(lib), "{lib} in {deps:?}");
        }
    }

    #[test]
    fn a_path_dependency_outside_the_fence_is_not_read() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().canonicalize().unwrap();
        write(
            &root,
            "app/Cargo.toml",
            "[package]\nname = \"app\"\n[dependencies]\nother = { path = \"../other\" }\n",
        );
        write(
            &root,
            "other/Cargo.toml",
            "[package]\nname = \"other\"\n[dependencies]\nmongodb = \"3\"\n",
        );
        let deps = dependencies(
            &root.join("app"),
            Some(&root.join("app")),
            &mut Manifests::default(),
        )
        .unwrap();
        assert!(
            deps.contains("other") && !deps.contains("mongodb"),
            "{deps:?}"
        );
    }

    #[test]
    fn a_file_outside_any_crate_gets_the_whole_catalog() {
        let tmp = tempfile::tempdir().unwrap();
        write(tmp.path(), "snippet.rs", "fn main() {}");
        assert!(crate_of(&tmp.path().join("snippet.rs")).is_none());
        let scopes = Scopes::new(Catalog::builtin(), tmp.path());
        let whole = scopes.catalog_for(&tmp.path().join("snippet.rs"));
        assert_eq!(whole.calls.len(), Catalog::builtin().calls.len());
    }

    #[test]
    fn entries_of_libraries_the_crate_does_not_use_are_left_out() {
        let tmp = tempfile::tempdir().unwrap();
        write(
            tmp.path(),
            "Cargo.toml",
            "[package]\nname = \"app\"\n[dependencies]\ndiesel = \"2\"\n",
        );
        write(tmp.path(), "src/main.rs", "fn main() {}");
        let scopes = Scopes::new(Catalog::builtin(), tmp.path());
        let scoped = scopes.catalog_for(&tmp.path().join("src/main.rs"));
        assert!(scoped.calls.iter().all(|c| c.library != "mongodb"));
        assert!(scoped.builders.iter().any(|b| b.library == "diesel-async"));
        // sqlx's chains count only where the code spells `sqlx::`.
        let sqlx: Vec<_> = scoped
            .builders
            .iter()
            .filter(|b| b.library == "sqlx")
            .collect();
        assert!(!sqlx.is_empty() && sqlx.iter().all(|b| b.qualified_only));
        assert!(scoped
            .builders
            .iter()
            .filter(|b| b.library == "diesel-async")
            .all(|b| !b.qualified_only));
    }
}

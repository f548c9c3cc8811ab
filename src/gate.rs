//! The pull-request gate: what fails a run (`--fail-on`, `--fail-on-regression`), the baseline that lets a
//! legacy service adopt hopcheck, and the comparison with a base revision (`--compare-to`).

use serde::Serialize;

use crate::rules::Level;

/// Which unsuppressed findings fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FailOn {
    #[default]
    Error,
    Warning,
    Never,
}

impl FailOn {
    pub fn parse(text: &str) -> Option<FailOn> {
        match text {
            "error" => Some(FailOn::Error),
            "warning" => Some(FailOn::Warning),
            "never" => Some(FailOn::Never),
            _ => None,
        }
    }

    /// Does a finding at this level fail the run?
    pub fn fails(self, level: Level) -> bool {
        match self {
            FailOn::Error => level == Level::Error,
            FailOn::Warning => level >= Level::Warn,
            FailOn::Never => false,
        }
    }
}

/// A route's estimate at the base revision and now, from one deployment.
#[derive(Debug, Clone, Serialize)]
pub struct RouteChange {
    pub method: Option<String>,
    pub path: Option<String>,
    pub handler: String,
    pub deployment: String,
    /// `None` where the route did not exist at the base revision (or no longer exists). Serialised to
    /// 0.1 ms.
    #[serde(serialize_with = "tenths")]
    pub before_ms: Option<f64>,
    #[serde(serialize_with = "tenths")]
    pub after_ms: Option<f64>,
    pub budget_ms: f64,
    /// Slower by more than `--fail-on-regression` allows.
    pub regression: bool,
}

fn tenths<S: serde::Serializer>(ms: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match ms {
        Some(ms) => s.serialize_some(&((ms * 10.0).round() / 10.0)),
        None => s.serialize_none(),
    }
}

/// The analysis compared with a base revision.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The revision compared with, as the user named it (`origin/main`).
    pub base: String,
    /// Routes whose estimate changed, appeared or disappeared.
    pub routes: Vec<RouteChange>,
    /// Fingerprints of the findings that the base revision did not have.
    pub new_findings: Vec<String>,
    /// How many findings of the base revision are gone.
    pub fixed_findings: usize,
}

impl Comparison {
    pub fn regressions(&self) -> usize {
        self.routes.iter().filter(|r| r.regression).count()
    }
}

/// A baseline entry: a finding accepted when the baseline was written.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct BaselineEntry {
    pub lint: String,
    pub file: String,
    /// The enclosing function's path (`routes::users::list`), for readers of the file.
    pub function: String,
    pub fingerprint: String,
}

/// What `--baseline FILE` did.
#[derive(Debug, Clone, Serialize)]
pub struct BaselineReport {
    pub file: String,
    /// Findings the baseline accepts (marked suppressed).
    pub matched: usize,
    /// Entries that match no finding any more: fixed, so the baseline can shrink.
    pub stale: Vec<BaselineEntry>,
}

/// A percentage regression must also be at least this many milliseconds.
const MIN_PERCENT_REGRESSION_MS: f64 = 5.0;

/// How much slower a route may get before `--fail-on-regression` fails the run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Threshold {
    Ms(f64),
    Percent(f64),
}

impl Threshold {
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let t = text.trim();
        if let Some(p) = t.strip_suffix('%') {
            return p
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|v| v.is_finite() && *v >= 0.0)
                .map(Threshold::Percent)
                .ok_or_else(|| format!("`{text}` is not a percentage (e.g. 20%)"));
        }
        crate::config::parse_duration(t)
            .map(Threshold::Ms)
            .map_err(|_| format!("`{text}` is neither a duration (50ms) nor a percentage (20%)"))
    }

    /// Is going from `before` to `after` a regression past this threshold?
    pub fn exceeded(self, before: f64, after: f64) -> bool {
        match self {
            Threshold::Ms(ms) => after - before > ms,
            // A few milliseconds are noise whatever the percentage (2 → 3 ms is +50%).
            Threshold::Percent(p) => {
                after - before > before * p / 100.0 && after - before >= MIN_PERCENT_REGRESSION_MS
            }
        }
    }
}

/// The baseline file: findings and route costs accepted when it was written.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<BaselineEntry>,
    pub routes: Vec<BaselineRoute>,
}

/// A route's estimate when the baseline was written.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct BaselineRoute {
    pub method: Option<String>,
    pub path: Option<String>,
    pub handler: String,
    pub deployment: String,
    pub estimated_ms: f64,
}

/// The default file name `hopcheck baseline` writes.
pub const BASELINE_FILE: &str = "hopcheck-baseline.json";

/// Milliseconds a route may grow over its baseline before it counts as worse (rounding in the file).
const BASELINE_SLACK_MS: f64 = 0.5;

/// The baseline of an analysis: every finding not suppressed in the code, and every route's estimate.
pub fn baseline_of(a: &crate::Analysis) -> Baseline {
    let findings = a
        .diagnostics
        .iter()
        .filter(|d| d.suppressed.is_none())
        .map(|d| BaselineEntry {
            lint: d.lint.to_string(),
            file: a.model.files[d.file].path.clone(),
            function: d
                .function
                .map(|f| a.model.qualified_name(f))
                .unwrap_or_default(),
            fingerprint: d.fingerprint.clone(),
        })
        .collect();
    let routes = a
        .routes
        .iter()
        .flat_map(|r| {
            r.served().map(|c| BaselineRoute {
                method: r.method.clone(),
                path: r.path.clone(),
                handler: r.handler_path.clone(),
                deployment: c.deployment.clone(),
                estimated_ms: (c.estimated_ms * 10.0).round() / 10.0,
            })
        })
        .collect();
    Baseline {
        version: 1,
        findings,
        routes,
    }
}

/// The baseline as the file holds it: pretty JSON, one entry a few lines, stable order.
pub fn baseline_text(b: &Baseline) -> String {
    let mut text = serde_json::to_string_pretty(b).unwrap_or_default();
    text.push('\n');
    text
}

/// Marks the findings a baseline file accepts as suppressed, and lists its stale entries. A finding
/// is accepted when its fingerprint is in the file (as many times as it is there); an `over-budget`
/// finding only while none of its routes costs more than the file says.
pub fn apply_baseline(a: &mut crate::Analysis, file: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the baseline {}: {e}", file.display()))?;
    let baseline: Baseline = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a hopcheck baseline: {e} (write one with `hopcheck baseline`)",
            file.display(),
            e.line(),
            e.column()
        )
    })?;
    if baseline.version != 1 {
        return Err(format!(
            "{}: baseline version {} is not supported (this hopcheck writes version 1)",
            file.display(),
            baseline.version
        ));
    }
    let mut unmatched: Vec<Option<&BaselineEntry>> = baseline.findings.iter().map(Some).collect();
    let mut matched = 0;
    for i in 0..a.diagnostics.len() {
        if a.diagnostics[i].suppressed.is_some() {
            continue;
        }
        let fingerprint = a.diagnostics[i].fingerprint.clone();
        let Some(slot) = unmatched
            .iter_mut()
            .find(|e| e.is_some_and(|e| e.fingerprint == fingerprint))
        else {
            continue;
        };
        *slot = None;
        let worse = match (a.diagnostics[i].lint, a.diagnostics[i].function) {
            ("over-budget" | "unrouted-over-budget", Some(handler)) => {
                worse_routes(a, handler, &baseline.routes)
            }
            _ => Vec::new(),
        };
        let d = &mut a.diagnostics[i];
        if worse.is_empty() {
            matched += 1;
            d.suppressed = Some(crate::rules::Suppressed {
                kind: "baseline",
                reason: format!("accepted in {}", file.display()),
            });
        } else {
            d.message
                .push_str(&format!(" (worse than the baseline: {})", worse.join(", ")));
        }
    }
    let stale = unmatched.into_iter().flatten().cloned().collect();
    a.baseline = Some(BaselineReport {
        file: file.display().to_string(),
        matched,
        stale,
    });
    Ok(())
}

/// The routes of a handler that cost more than the baseline says, as `GET /x ≈ 120 → 210 ms from us-east-1`.
fn worse_routes(a: &crate::Analysis, handler: usize, routes: &[BaselineRoute]) -> Vec<String> {
    let name = a.model.qualified_name(handler);
    let mut out = Vec::new();
    for r in a.routes.iter().filter(|r| r.handler_path == name) {
        for c in r.served() {
            let before = routes.iter().find(|b| {
                b.handler == name
                    && b.method == r.method
                    && b.path == r.path
                    && b.deployment == c.deployment
            });
            let worse = before.is_none_or(|b| c.estimated_ms > b.estimated_ms + BASELINE_SLACK_MS);
            if worse && c.over_budget {
                let key = match (&r.method, &r.path) {
                    (Some(m), Some(p)) => format!("{m} {p}"),
                    _ => name.clone(),
                };
                out.push(match before {
                    Some(b) => format!(
                        "{key} ≈ {} → {} ms from {}",
                        crate::rules::fmt_ms(b.estimated_ms),
                        crate::rules::fmt_ms(c.estimated_ms),
                        c.deployment
                    ),
                    None => format!("{key} is not in the baseline"),
                });
            }
        }
    }
    out
}

/// The analysis of the code at a base revision, running on a thread of its own beside the head's.
pub struct Base {
    name: String,
    /// What the comparison needs of the base's analysis.
    run: Option<std::thread::JoinHandle<Result<BaseSummary, String>>>,
}

/// A route's key across revisions: method, path, handler and deployment.
type RouteKey = (Option<String>, Option<String>, String, String);

/// What a comparison takes from the base: each route's estimate per deployment, and the fingerprints of
/// its findings that count.
#[derive(serde::Serialize, serde::Deserialize)]
struct BaseSummary {
    routes: Vec<(RouteKey, f64)>,
    prints: Vec<String>,
}

fn route_key(r: &crate::RouteReport, deployment: &str) -> RouteKey {
    (
        r.method.clone(),
        r.path.clone(),
        r.handler_path.clone(),
        deployment.to_string(),
    )
}

impl BaseSummary {
    fn of(analysis: &crate::Analysis) -> BaseSummary {
        BaseSummary {
            routes: analysis
                .routes
                .iter()
                .flat_map(|r| {
                    r.served()
                        .map(move |c| (route_key(r, &c.deployment), c.estimated_ms))
                })
                .collect(),
            prints: analysis
                .diagnostics
                .iter()
                .filter(|d| d.suppressed.is_none())
                .map(|d| d.fingerprint.clone())
                .collect(),
        }
    }
}

/// A run that ends before the comparison (a usage error) still waits for the base, so that its files are
/// removed.
impl Drop for Base {
    fn drop(&mut self) {
        if let Some(run) = self.run.take() {
            let _ = run.join();
        }
    }
}

/// A base revision and the files hopcheck reads in it, listed by git (not read yet).
pub struct BaseRevision {
    name: String,
    revision: git::Revision,
    listing: Vec<(String, String)>,
    names: String,
}

/// The commit `base` names in the repository `root` is in, with its files listed; an error when there
/// is no such commit.
pub fn base_revision(root: &std::path::Path, base: &str) -> Result<BaseRevision, String> {
    let revision = git::revision(root, base)?;
    let (listing, names) = revision.listing()?;
    Ok(BaseRevision {
        name: base.to_string(),
        revision,
        listing,
        names,
    })
}

impl BaseRevision {
    /// What the base's analysis is made of: each file's blob id and path, and the analysed folder.
    pub fn key(&self) -> String {
        format!("{}\n{:?}", self.names, self.listing)
    }
}

/// Starts analysing the code at a base revision (read from git's objects into a temporary folder: the
/// user's work tree is never touched) with the same configuration (files unchanged since come from the
/// facts cache); its files are written out on the base's thread. `key`: what the run's output depends
/// on besides the code (options, configuration), when the base's summary may be kept beside the facts
/// cache: a later run comparing with the same files under the same key takes it from there instead of
/// analysing them again.
pub fn start_base(
    root: &std::path::Path,
    base: BaseRevision,
    config: crate::config::Config,
    key: Option<String>,
) -> Result<Base, String> {
    let root = root.to_path_buf();
    let name = base.name.clone();
    let run = std::thread::Builder::new()
        .name("base".into())
        .spawn(move || {
            let listing = &base.listing;
            let kept = key.zip(config.cache_file.as_ref()).map(|(key, pack)| {
                crate::memo::place(pack, "base", &format!("{key}\n{}", base.key()))
            });
            if let Some(summary) = kept
                .as_ref()
                .and_then(|(file, key)| crate::memo::read_value(file, *key))
            {
                crate::progress::lap("base kept");
                return Ok(summary);
            }
            let tree = base.revision.tree(listing)?;
            crate::progress::lap("base tree");
            // The base is checked with this configuration, as if it stood where it stands here (so
            // that an entry that matched nothing before is no new finding now).
            let mut config = config;
            let canonical =
                |p: &std::path::Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
            if let Some(file) = &config.file {
                if let Ok(rel) = canonical(file).strip_prefix(canonical(&root)) {
                    config.file = Some(tree.root.join(rel));
                }
            }
            let analysis = crate::analyze(&tree.root, config);
            crate::progress::lap("base");
            let summary = BaseSummary::of(&analysis);
            if let (Some((file, key)), None) = (&kept, &analysis.cache_note) {
                crate::memo::keep_value(file, *key, &summary);
            }
            // Freed by the process's exit, not node by node.
            std::mem::forget(analysis);
            drop(tree);
            crate::progress::lap("base gone");
            Ok(summary)
        })
        .map_err(|e| format!("cannot start the base's analysis: {e}"))?;
    Ok(Base {
        name,
        run: Some(run),
    })
}

/// Records what changed since the base [`start_base`] analyses: each route's estimate before and after,
/// and which findings are new. Findings the base already had are marked suppressed (kind `base`), except
/// an `over-budget` whose route got slower. Fails when the base's files could not be written out.
pub fn compare(
    a: &mut crate::Analysis,
    mut base: Base,
    threshold: Option<Threshold>,
) -> Result<(), String> {
    let run = base
        .run
        .take()
        .ok_or("the base's analysis was already taken")?;
    let before = match run.join() {
        Ok(done) => done?,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    let base = base.name.clone();
    let base = base.as_str();

    // Routes: before and after, per deployment.
    let mut old: std::collections::BTreeMap<RouteKey, f64> = before.routes.into_iter().collect();
    let mut routes = Vec::new();
    let mut slower_handlers = std::collections::HashSet::new();
    for r in &a.routes {
        for c in r.served() {
            let k = route_key(r, &c.deployment);
            let was = old.remove(&k);
            let changed = was.is_none_or(|b| (b - c.estimated_ms).abs() >= 0.05);
            if !changed {
                continue;
            }
            let regression = match (threshold, was) {
                (Some(t), Some(b)) => t.exceeded(b, c.estimated_ms),
                (Some(t), None) => t.exceeded(0.0, c.estimated_ms),
                (None, _) => false,
            };
            if was.is_none_or(|b| c.estimated_ms > b + 0.05) {
                slower_handlers.insert(r.handler_path.clone());
            }
            routes.push(RouteChange {
                method: r.method.clone(),
                path: r.path.clone(),
                handler: r.handler_path.clone(),
                deployment: c.deployment.clone(),
                before_ms: was,
                after_ms: Some(c.estimated_ms),
                budget_ms: c.budget_ms,
                regression,
            });
        }
    }
    for ((method, path, handler, deployment), ms) in old {
        routes.push(RouteChange {
            method,
            path,
            handler,
            deployment,
            before_ms: Some(ms),
            after_ms: None,
            budget_ms: 0.0,
            regression: false,
        });
    }

    // Findings: new ones keep counting; those the base had are marked.
    let mut base_prints: Vec<Option<&str>> =
        before.prints.iter().map(|p| Some(p.as_str())).collect();
    let mut new_findings = Vec::new();
    for d in a.diagnostics.iter_mut().filter(|d| d.suppressed.is_none()) {
        let slot = base_prints
            .iter_mut()
            .find(|p| p.is_some_and(|p| p == d.fingerprint));
        let got_slower = matches!(d.lint, "over-budget" | "unrouted-over-budget")
            && d.function
                .is_some_and(|f| slower_handlers.contains(&a.model.qualified_name(f)));
        match slot {
            Some(slot) if !got_slower => {
                *slot = None;
                d.suppressed = Some(crate::rules::Suppressed {
                    kind: "base",
                    reason: format!("already at {base}"),
                });
            }
            Some(slot) => {
                *slot = None;
                new_findings.push(d.fingerprint.clone());
            }
            None => new_findings.push(d.fingerprint.clone()),
        }
    }
    let fixed_findings = base_prints.iter().flatten().count();
    a.comparison = Some(Comparison {
        base: base.to_string(),
        routes,
        new_findings,
        fixed_findings,
    });
    Ok(())
}

/// Reading a revision's files out of git, without touching the work tree or the index.
mod git {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};

    /// A revision's files written under a temporary folder, removed when dropped.
    pub struct Tree {
        pub root: PathBuf,
        dir: PathBuf,
    }

    impl Drop for Tree {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
    }

    /// A revision of the repository `root` is in, known to exist: what [`Revision::tree`] writes out.
    pub struct Revision {
        top: String,
        prefix: String,
        commit: String,
        rev: String,
        /// The analysed file's name, when `root` is a file.
        file: Option<String>,
        root: PathBuf,
    }

    /// The commit `rev` names in the repository `root` is in; an error when there is none.
    pub fn revision(root: &Path, rev: &str) -> Result<Revision, String> {
        let (dir, file) = if root.is_file() {
            (
                root.parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new(".")),
                root.file_name().map(|f| f.to_string_lossy().into_owned()),
            )
        } else {
            (root, None)
        };
        let top = git(dir, &["rev-parse", "--show-toplevel"])
            .map_err(|e| format!("{} is not in a git repository ({e})", dir.display()))?;
        let prefix = git(dir, &["rev-parse", "--show-prefix"])?;
        let commit = git(dir, &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")])
            .map_err(|_| format!("no commit `{rev}` in this repository (fetch it first, e.g. `git fetch origin {rev}`)"))?;
        Ok(Revision {
            top,
            prefix,
            commit,
            rev: rev.to_string(),
            file,
            root: root.to_path_buf(),
        })
    }

    impl Revision {
        /// The revision's files hopcheck reads (`.rs`, `Cargo.toml`, `.gitignore`) under the analysed
        /// folder, as (blob id, path from the repository's top), and what names the analysed folder: what
        /// the base's analysis is made from.
        pub fn listing(&self) -> Result<(Vec<(String, String)>, String), String> {
            let listing = Command::new("git")
                .arg("-C")
                .arg(&self.top)
                .args(["ls-tree", "-r", "-z", "--full-tree", &self.commit])
                .output()
                .map_err(|e| format!("cannot run git: {e}"))?;
            if !listing.status.success() {
                return Err(String::from_utf8_lossy(&listing.stderr).trim().to_string());
            }
            // `<mode> blob <sha>\t<path>`; only regular files under the analysed folder.
            let mut wanted: Vec<(String, String)> = Vec::new();
            for entry in listing.stdout.split(|&b| b == 0) {
                let entry = String::from_utf8_lossy(entry);
                let Some((meta, path)) = entry.split_once('\t') else {
                    continue;
                };
                let parts: Vec<&str> = meta.split(' ').collect();
                let [mode, "blob", sha] = parts.as_slice() else {
                    continue;
                };
                if !mode.starts_with("100") || !path.starts_with(self.prefix.as_str()) {
                    continue;
                }
                let name = path.rsplit('/').next().unwrap_or("");
                if name.ends_with(".rs") || name == "Cargo.toml" || name == ".gitignore" {
                    wanted.push((sha.to_string(), path.to_string()));
                }
            }
            Ok((wanted, format!("{} {:?}", self.prefix, self.file)))
        }

        /// The files of [`Revision::listing`], written to a temporary folder; `Tree::root` is the
        /// analysed folder's counterpart.
        pub fn tree(&self, wanted: &[(String, String)]) -> Result<Tree, String> {
            let Revision {
                top,
                prefix,
                rev,
                file,
                root,
                ..
            } = self;
            let tmp = std::env::temp_dir().join(format!(
                "hopcheck-base-{}-{}",
                std::process::id(),
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos())
            ));
            std::fs::create_dir_all(&tmp)
                .map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
            let tree = Tree {
                root: match &file {
                    Some(f) => tmp.join(prefix).join(f),
                    None => tmp.join(prefix),
                },
                dir: tmp.clone(),
            };
            std::fs::create_dir_all(tmp.join(prefix)).map_err(|e| e.to_string())?;
            // One `git cat-file --batch` for every blob.
            let mut child = Command::new("git")
                .arg("-C")
                .arg(top)
                .args(["cat-file", "--batch"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .map_err(|e| format!("cannot run git: {e}"))?;
            let mut stdin = child.stdin.take().ok_or("git cat-file has no input")?;
            let shas: Vec<String> = wanted.iter().map(|(sha, _)| sha.clone()).collect();
            let writer = std::thread::spawn(move || {
                for sha in shas {
                    if writeln!(stdin, "{sha}").is_err() {
                        break;
                    }
                }
            });
            let mut out = BufReader::new(child.stdout.take().ok_or("git cat-file has no output")?);
            for (_, path) in wanted {
                let mut header = String::new();
                out.read_line(&mut header).map_err(|e| e.to_string())?;
                let size: usize = header
                    .split_whitespace()
                    .nth(2)
                    .and_then(|s| s.parse().ok())
                    .ok_or_else(|| format!("git cat-file: unexpected `{}`", header.trim()))?;
                let mut content = vec![0; size + 1];
                out.read_exact(&mut content).map_err(|e| e.to_string())?;
                content.pop();
                // Paths come from git's own listing; refuse anything that would leave the folder.
                if path.split('/').any(|seg| seg == ".." || seg.is_empty()) {
                    continue;
                }
                let dest = tmp.join(path);
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                std::fs::write(&dest, &content)
                    .map_err(|e| format!("cannot write {}: {e}", dest.display()))?;
            }
            let _ = writer.join();
            let _ = child.wait();
            if !tree.root.exists() {
                return Err(format!("{} does not exist at {rev}", root.display()));
            }
            Ok(tree)
        }
    }
}

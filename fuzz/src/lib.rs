//! What the fuzz targets do with one input, shared with `tests/fuzz_regressions.rs`, which replays the
//! saved inputs through these same functions on the stable toolchain.
//!
//! Each function runs hopcheck the way a user meets it (a file analysed and reported in every format,
//! with its fixes and plan; a `hopcheck.toml`; a language server session) and checks what the user would
//! see: no panic, no internal error turned into a finding, and for bad input a clean error or diagnostic.
//! A failed check panics, which the fuzzer reports as a crash.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use hopcheck::config::{self, Config};
use hopcheck::Analysis;
use lsp_server::Message;

/// The stack the CLI and the language server give their analysis threads: parsing recurses once per
/// level of nesting, and the harness must not fail where hopcheck itself would not.
const STACK_BYTES: usize = 64 << 20;

/// The analysed file's path, relative to the root.
pub const SOURCE_PATH: &str = "src/fuzz.rs";

/// What hopcheck reports when the analysis of a file panicked (it goes on with the other files).
const INTERNAL_ERROR: &str = "hopcheck failed on this file";

/// In an LSP script, stands for the path of the folder [`workspace`] makes.
pub const ROOT_MARK: &str = "$ROOT";

/// What a user sees of one analysis, for tests to check.
#[derive(Debug, Default)]
pub struct Outcome {
    /// The lints of the unsuppressed findings, in report order.
    pub lints: Vec<String>,
    /// The file's parse error, if it did not parse.
    pub parse_error: Option<String>,
    pub routes: usize,
    /// Files the safe fixes would change.
    pub fixed_files: usize,
}

/// What a configuration file gave.
#[derive(Debug)]
pub enum ConfigOutcome {
    /// It loaded, and this is the analysis of [`CONFIG_PROBE`] with it.
    Loaded(Outcome),
    /// It did not: the errors as the CLI prints them.
    Rejected(Vec<String>),
}

/// What a language server session sent back.
#[derive(Debug)]
pub struct LspOutcome {
    pub sent: Vec<Message>,
    /// How the message loop ended: `Err` for a protocol error, such as `exit` without `shutdown`.
    pub ended: Result<(), String>,
}

/// Runs `work` on a thread with the analysis's stack, passing a panic on.
pub fn on_big_stack<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    let thread = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(work)
        .expect("cannot start a thread");
    match thread.join() {
        Ok(out) => out,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// The `source` targets: one file analysed with the default topology.
pub fn run_source(text: String) -> Outcome {
    on_big_stack(move || analyze_text(text, Config::default_topology()))
}

/// A small service that reaches most of the cost model: a router, a state with a primary pool, a
/// replica pool and an HTTP client, a loop, a transaction and residency-bound tables.
pub const CONFIG_PROBE: &str = r#"use axum::{routing::get, Router};

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/users/{id}", get(show))
        .route("/report", get(report))
        .with_state(state)
}

async fn show(State(state): State<AppState>, Path(id): Path<i64>) -> sqlx::Result<String> {
    let name: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1").bind(id).fetch_one(&state.db).await?;
    let email: String = sqlx::query_scalar("SELECT email FROM customers WHERE id = $1").bind(id).fetch_one(&state.read).await?;
    let _ = state.payments.get("https://payments.example/x").send().await;
    Ok(format!("{name} {email}"))
}

async fn report(State(state): State<AppState>) -> sqlx::Result<()> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM users").fetch_all(&state.read).await?;
    for id in ids {
        sqlx::query("UPDATE users SET seen = now() WHERE id = $1").bind(id).execute(&state.db).await?;
    }
    let mut tx = state.db.begin().await?;
    sqlx::query("INSERT INTO audit (n) VALUES (1)").execute(&mut *tx).await?;
    sqlx::query("INSERT INTO audit (n) VALUES (2)").execute(&mut *tx).await?;
    tx.commit().await
}
"#;

/// The `config` target: a `hopcheck.toml`, then an analysis of [`CONFIG_PROBE`] with it.
pub fn run_config(text: String) -> ConfigOutcome {
    on_big_stack(
        move || match config::parse(Path::new(config::FILE_NAME), &text) {
            Ok(config) => ConfigOutcome::Loaded(analyze_text(CONFIG_PROBE.to_string(), config)),
            Err(errors) => {
                assert!(
                    !errors.is_empty(),
                    "a rejected configuration names no error"
                );
                ConfigOutcome::Rejected(errors.iter().map(render_config_error).collect())
            }
        },
    )
}

/// A configuration error as `hopcheck check` prints it: miette's report, or `file:line:col: message`.
fn render_config_error(e: &config::ConfigError) -> String {
    assert!(
        !e.message.trim().is_empty(),
        "a configuration error says nothing"
    );
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
            .with_links(false);
    let mut text = String::new();
    if handler.render_report(&mut text, e).is_err() || e.span.is_none() {
        text = format!("error: {}: {}\n", e.location(), e.message);
    }
    text
}

/// Parses and analyses one file, renders every report, computes the fixes and the plan, and checks them.
fn analyze_text(text: String, config: Config) -> Outcome {
    let facts = hopcheck::parse_source(SOURCE_PATH, text, &config.catalog);
    let parse_error = facts.parse_error.as_ref().map(|e| e.message.clone());
    // Analysed as a file of the workspace: the fixes read its Cargo.toml to choose the join macro.
    let a = hopcheck::analyze_files(workspace(), vec![facts], config);
    for d in &a.diagnostics {
        assert!(
            !d.message.contains(INTERNAL_ERROR),
            "internal error: {}",
            d.message
        );
    }
    let lints: Vec<String> = a
        .diagnostics
        .iter()
        .filter(|d| d.suppressed.is_none())
        .map(|d| d.lint.to_string())
        .collect();
    if parse_error.is_some() {
        assert!(
            lints.iter().any(|l| l == "parse-error"),
            "a file that does not parse has no parse-error finding: {lints:?}"
        );
    }
    for r in &a.routes {
        for c in &r.cost {
            assert!(
                !c.estimated_ms.is_nan() && !c.budget_ms.is_nan(),
                "a route is priced at NaN: {r:?}"
            );
        }
    }
    render_everything(&a);
    let fixed_files = check_fixes(&a);
    Outcome {
        lints,
        parse_error,
        routes: a.routes.len(),
        fixed_files,
    }
}

/// Every report format, the notes, the plan.
fn render_everything(a: &Analysis) {
    for name in hopcheck::report::FORMATS {
        let format = hopcheck::report::format(name, false, hopcheck::report::Shown::default())
            .expect("a listed format");
        std::hint::black_box(format.render(a));
    }
    std::hint::black_box((a.notes(), a.exit_code()));
    let plan = hopcheck::plan::plan(a);
    std::hint::black_box((
        hopcheck::report::plan::human(&plan),
        hopcheck::report::plan::json(&plan),
    ));
}

/// The safe fixes: each edit lies inside the text on character boundaries, and what `hopcheck fix`
/// would write parses. Returns how many files they change.
fn check_fixes(a: &Analysis) -> usize {
    let fixes = hopcheck::fix::fixes(a);
    for f in &fixes {
        let source = &a.model.files[f.file].source;
        for e in &f.edits {
            assert!(
                e.start <= e.end
                    && e.end <= source.len()
                    && source.is_char_boundary(e.start)
                    && source.is_char_boundary(e.end),
                "fix `{}` has an edit outside its text: {e:?}",
                f.title
            );
        }
    }
    let changes = hopcheck::fix::by_file(a, fixes);
    for c in &changes {
        assert!(
            hopcheck::fix::parses(&c.after),
            "a fix leaves the file not parsing"
        );
        std::hint::black_box(hopcheck::fix::unified_diff(
            &a.model.files[c.file].path,
            &c.before,
            &c.after,
        ));
    }
    changes.len()
}

/// The folder the analysed file is taken to be in, and the `lsp` target's workspace: a small axum service
/// with a `hopcheck.toml` and a Cargo.toml that has tokio's macros. Nothing writes to it. It is made once,
/// in the temporary folder under a name that changes with its content, and shared by every process that
/// fuzzes or tests.
pub fn workspace() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let files = [
            (
                "Cargo.toml",
                "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ntokio = { version = \"1\", features = [\"macros\"] }\n",
            ),
            ("hopcheck.toml", LSP_CONFIG),
            ("src/main.rs", CONFIG_PROBE),
            ("src/db.rs", LSP_DB),
        ];
        let stamp = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            files.hash(&mut h);
            h.finish()
        };
        let root = std::env::temp_dir().join(format!("hopcheck-fuzz-workspace-{stamp:016x}"));
        if !root.exists() {
            // Written beside it, then renamed: another process never sees it half made.
            let draft = root.with_extension(std::process::id().to_string());
            for (rel, text) in files {
                let path = draft.join(rel);
                std::fs::create_dir_all(path.parent().expect("a folder"))
                    .expect("cannot make the root");
                std::fs::write(&path, text).expect("cannot write the root");
            }
            if std::fs::rename(&draft, &root).is_err() {
                // Another process made it first.
                let _ = std::fs::remove_dir_all(&draft);
            }
        }
        root.canonicalize().unwrap_or(root)
    })
}

const LSP_CONFIG: &str = r#"deployments = ["us-east-1"]

[databases.main]
primary = "eu-central-1"
replicas = ["us-east-1"]

[databases.main.table-residency]
customers = ["eu-central-1"]

[services.payments]
region = "eu-west-1"

[pools]
"state.db" = "main"
"state.read" = "main.replica"
"state.payments" = "payments"

[budget]
default = "250ms"
"GET /report" = "100ms"
"#;

const LSP_DB: &str = r#"pub async fn load_user(db: &PgPool, id: i64) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT id FROM users WHERE id = $1").bind(id).fetch_one(db).await
}

pub async fn load_settings(db: &PgPool, id: i64) -> sqlx::Result<String> {
    sqlx::query_scalar("SELECT theme FROM settings WHERE user_id = $1").bind(id).fetch_one(db).await
}
"#;

/// Reads an LSP script: one JSON-RPC message a line, with [`ROOT_MARK`] for the workspace folder's path.
/// Blank lines and lines that are not JSON-RPC messages are skipped.
pub fn lsp_messages(script: &str) -> Vec<Message> {
    let root = workspace().to_string_lossy().into_owned();
    let script = script.replace(ROOT_MARK, &root);
    script
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

/// The `lsp` target: a language server session over the script's messages.
pub fn run_lsp(script: &str) -> LspOutcome {
    let root = workspace().to_path_buf();
    let messages = lsp_messages(script);
    let (sent, ended) = on_big_stack(move || hopcheck::lsp::replay(root, messages));
    for m in &sent {
        if let Message::Notification(n) = m {
            if n.method == "textDocument/publishDiagnostics" {
                let text = n.params.to_string();
                assert!(!text.contains(INTERNAL_ERROR), "internal error: {text}");
            }
        }
    }
    LspOutcome { sent, ended }
}

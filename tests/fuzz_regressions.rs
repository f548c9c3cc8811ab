//! The fuzz targets' saved inputs (`fuzz/regressions/<target>/`) and a few seeds, replayed on the stable
//! toolchain through the functions the targets call (`fuzz/src/lib.rs`): no panic, no internal error,
//! and bad input ends in a clean error or diagnostic.
//!
//! `source_rust` inputs are saved as the Rust text they generate, which goes through the same function
//! as `source`; `lsp` inputs as the LSP script they generate.

#[path = "../fuzz/src/lib.rs"]
mod fuzz;

use std::path::PathBuf;

use fuzz::ConfigOutcome;
use lsp_server::Message;

/// The saved inputs of one target, by file name.
fn saved(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut out: Vec<(String, Vec<u8>)> = entries
        .map(|e| e.expect("a readable folder").path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).expect("a readable input"))
        })
        .collect();
    out.sort();
    out
}

/// Runs every saved input of `target`, then fails once, naming each input that panicked.
fn replay(target: &str, run: impl Fn(&[u8])) {
    let mut failed = Vec::new();
    for (name, bytes) in saved(target) {
        if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&bytes))) {
            let why = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            failed.push(format!("fuzz/regressions/{target}/{name}: {why}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

/// The `source` and `config` targets skip input that is not UTF-8.
fn text(bytes: &[u8]) -> Option<String> {
    std::str::from_utf8(bytes).ok().map(str::to_string)
}

#[test]
fn saved_source_inputs() {
    replay("source", |bytes| {
        if let Some(text) = text(bytes) {
            fuzz::run_source(text);
        }
    });
}

#[test]
fn saved_source_rust_programs() {
    replay("source_rust", |bytes| {
        fuzz::run_source(String::from_utf8_lossy(bytes).into_owned());
    });
}

#[test]
fn saved_config_inputs() {
    replay("config", |bytes| {
        if let Some(text) = text(bytes) {
            fuzz::run_config(text);
        }
    });
}

#[test]
fn saved_lsp_scripts() {
    replay("lsp", |bytes| {
        fuzz::run_lsp(&String::from_utf8_lossy(bytes));
    });
}

#[test]
fn a_file_that_does_not_parse_is_a_parse_error_finding() {
    let out = fuzz::run_source("async fn h( {".into());
    assert!(out.parse_error.is_some());
    assert_eq!(out.lints, ["parse-error"]);
}

#[test]
fn sequential_reads_in_a_routed_handler_are_found() {
    let out = fuzz::run_source(fuzz::CONFIG_PROBE.into());
    assert_eq!(out.parse_error, None);
    assert_eq!(out.routes, 2);
    assert!(
        out.lints.iter().any(|l| l == "sequential-queries"),
        "{:?}",
        out.lints
    );
}

#[test]
fn independent_reads_get_a_fix_that_parses() {
    let text = "async fn h(State(db): State<PgPool>) -> sqlx::Result<()> {
    let a: i64 = sqlx::query_scalar(\"SELECT count(*) FROM users\").fetch_one(&db).await?;
    let b: i64 = sqlx::query_scalar(\"SELECT count(*) FROM teams\").fetch_one(&db).await?;
    println!(\"{a} {b}\");
    Ok(())
}
";
    let out = fuzz::run_source(text.into());
    // Two queries and two connection checks from Virginia to Frankfurt: over the 250 ms budget too.
    // Merging them saves more than the route is over, so that finding comes first.
    assert_eq!(out.lints, ["sequential-queries", "over-budget"]);
    assert_eq!(out.fixed_files, 1);
}

#[test]
fn an_empty_file_is_a_clean_report() {
    let out = fuzz::run_source(String::new());
    assert!(out.lints.is_empty() && out.routes == 0, "{out:?}");
}

#[test]
fn hostile_durations_are_configuration_errors() {
    for text in [
        "[budget]\ndefault = \"NaN\"\n",
        "[budget]\ndefault = \"-5ms\"\n",
        "[budget]\ndefault = \"1e309\"\n",
        "[rtt]\n\"us-east-1 eu-central-1\" = \"inf\"\n",
        "[assume]\nloop-iterations = -1\n",
        "deployments = [\"mars-north-1\"]\n",
        "[regions.x]\nlat = 91\nlon = 0\n",
        "deployments = [",
    ] {
        match fuzz::run_config(text.into()) {
            ConfigOutcome::Rejected(errors) => {
                assert!(errors.iter().all(|e| !e.trim().is_empty()), "{errors:?}")
            }
            ConfigOutcome::Loaded(_) => panic!("accepted: {text}"),
        }
    }
}

#[test]
fn a_valid_configuration_prices_the_probe() {
    let text = "deployments = [\"us-east-1\", \"eu-west-1\"]\n\n[databases.main]\nprimary = \"eu-central-1\"\nreplicas = [\"us-east-1\"]\n\n[pools]\n\"state.read\" = \"main.replica\"\n\n[budget]\ndefault = \"1e300ms\"\n";
    match fuzz::run_config(text.into()) {
        ConfigOutcome::Loaded(out) => assert_eq!(out.routes, 2, "{out:?}"),
        ConfigOutcome::Rejected(errors) => panic!("{errors:?}"),
    }
}

/// How many responses the server sent.
fn responses(sent: &[Message]) -> usize {
    sent.iter()
        .filter(|m| matches!(m, Message::Response(_)))
        .count()
}

#[test]
fn an_lsp_session_answers_and_shuts_down() {
    let script = r#"{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":{"uri":"file://$ROOT/src/main.rs","languageId":"rust","version":1,"text":"async fn h(State(db): State<PgPool>) {\n    sqlx::query(\"SELECT 1\").execute(&db).await;\n    sqlx::query(\"SELECT 2\").execute(&db).await;\n}\n"}}}
{"jsonrpc":"2.0","id":1,"method":"textDocument/hover","params":{"textDocument":{"uri":"file://$ROOT/src/main.rs"},"position":{"line":1,"character":8}}}
{"jsonrpc":"2.0","id":2,"method":"textDocument/codeLens","params":{"textDocument":{"uri":"untitled:1"}}}
not a message
{"jsonrpc":"2.0","id":3,"method":"shutdown"}
{"jsonrpc":"2.0","method":"exit"}
"#;
    let out = fuzz::run_lsp(script);
    assert_eq!(out.ended, Ok(()));
    assert_eq!(responses(&out.sent), 3);
}

#[test]
fn exit_without_shutdown_ends_the_session_with_an_error() {
    let out = fuzz::run_lsp(r#"{"jsonrpc":"2.0","method":"exit"}"#);
    assert!(out.ended.is_err());
}

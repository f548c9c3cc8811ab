//! The formats editors read: `--format cargo` (cargo's JSON messages, as rust-analyzer reads them with
//! the `cargo_metadata` crate), `--with-cargo` (rustc's messages beside hopcheck's, under one package id)
//! and `--format short` (one line per finding).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_metadata::diagnostic::DiagnosticLevel;
use cargo_metadata::{CompilerMessage, Message, MetadataCommand};
use common::*;

fn shop() -> PathBuf {
    fixtures().join("projects/shop")
}

/// The messages of a cargo-format output; every line must be a compiler message.
fn compiler_messages(stdout: &[u8]) -> Vec<CompilerMessage> {
    Message::parse_stream(stdout)
        .map(|m| match m.expect("stdout reads") {
            Message::CompilerMessage(m) => m,
            other => panic!(
                "a line that is not a compiler message: {other:?}\nstdout:\n{}",
                String::from_utf8_lossy(stdout)
            ),
        })
        .collect()
}

/// The unsuppressed findings of `--format json`.
fn unsuppressed(json: &serde_json::Value) -> Vec<serde_json::Value> {
    json["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|d| d.get("suppressed").is_none_or(|s| s.is_null()))
        .cloned()
        .collect()
}

/// The id `cargo metadata` gives the package of `dir`.
fn package_id(dir: &Path) -> String {
    let metadata = MetadataCommand::new()
        .manifest_path(dir.join("Cargo.toml"))
        .no_deps()
        .exec()
        .expect("cargo metadata");
    assert_eq!(metadata.packages.len(), 1);
    metadata.packages[0].id.repr.clone()
}

#[test]
fn cargo_format_is_one_compiler_message_per_finding_at_the_json_positions() {
    let out = hopcheck(&["check", "--format", "cargo", "fixtures/projects/shop"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for line in text.lines() {
        assert!(
            line.starts_with(r#"{"reason":"compiler-message","package_id":"#),
            "each line is one cargo message: {line}"
        );
        let raw: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        assert_eq!(raw["message"]["$message_type"], "diagnostic");
        assert!(raw["manifest_path"]
            .as_str()
            .is_some_and(|m| m.ends_with("shop/Cargo.toml")));
    }
    let messages = compiler_messages(&out.stdout);

    let (_, json) = check_json(&shop(), &[]);
    let expected = unsuppressed(&json);
    assert!(!expected.is_empty());
    assert_eq!(messages.len(), expected.len(), "{text}");

    let id = package_id(&shop());
    let shop = shop().canonicalize().unwrap();
    for (m, j) in messages.iter().zip(&expected) {
        assert_eq!(m.package_id.repr, id);
        assert_eq!(m.target.name, "shop");
        assert!(Path::new(&m.target.src_path).is_file());
        let d = &m.message;
        let lint = j["lint"].as_str().unwrap();
        let level = match j["severity"].as_str().unwrap() {
            "error" => DiagnosticLevel::Error,
            "warning" => DiagnosticLevel::Warning,
            other => panic!("severity {other}"),
        };
        assert_eq!(d.level, level, "{lint}");
        assert_eq!(
            d.code.as_ref().map(|c| c.code.as_str()),
            Some(format!("hopcheck::{lint}").as_str())
        );
        assert_eq!(d.message, j["message"].as_str().unwrap());

        let primary: Vec<_> = d.spans.iter().filter(|s| s.is_primary).collect();
        assert_eq!(primary.len(), 1, "one primary span: {d:?}");
        let p = primary[0];
        let file = Path::new(&p.file_name);
        assert!(file.is_absolute() && file.is_file(), "{}", p.file_name);
        assert_eq!(file, shop.join(j["file"].as_str().unwrap()));
        let at = |key: &str| j[key].as_u64().unwrap() as usize;
        assert_eq!(
            (p.line_start, p.column_start, p.line_end, p.column_end),
            (at("line"), at("column"), at("end_line"), at("end_column")),
            "{lint} at {}",
            j["file"]
        );
        assert_eq!(p.label.as_deref(), j["label"].as_str());
        assert_eq!(p.text.len(), p.line_end - p.line_start + 1);
        assert_eq!(p.text[0].highlight_start, p.column_start);
        assert_eq!(p.text.last().unwrap().highlight_end, p.column_end);
        let source = std::fs::read_to_string(file).unwrap();
        assert_eq!(
            p.text[0].text,
            source.lines().nth(p.line_start - 1).unwrap()
        );
        assert!(p.byte_end as usize <= source.len() && p.byte_start <= p.byte_end);

        // The related labels are the secondary spans, in order.
        let secondary: Vec<(usize, usize, Option<&str>)> = d
            .spans
            .iter()
            .filter(|s| !s.is_primary)
            .map(|s| (s.line_start, s.column_start, s.label.as_deref()))
            .collect();
        let related: Vec<(usize, usize, Option<&str>)> = j["related"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["line"].as_u64().unwrap() as usize,
                    r["column"].as_u64().unwrap() as usize,
                    r["message"].as_str(),
                )
            })
            .collect();
        assert_eq!(secondary, related);

        assert_eq!(d.children.len(), 1);
        assert_eq!(d.children[0].level, DiagnosticLevel::Help);
        assert_eq!(d.children[0].message, j["help"].as_str().unwrap());
        assert!(d.children[0].spans.is_empty());

        let rendered = d.rendered.as_deref().unwrap();
        let head = format!(
            "{}[hopcheck::{lint}]: {}\n --> fixtures/projects/shop/{}:{}:{}\n  = help: ",
            j["severity"].as_str().unwrap(),
            d.message,
            j["file"].as_str().unwrap(),
            at("line"),
            at("column")
        );
        assert!(rendered.starts_with(&head), "{rendered}");
    }
}

#[test]
fn a_folder_outside_any_package_gets_a_stable_made_up_id() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        fixtures().join("sequential_queries.rs"),
        dir.path().join("handlers.rs"),
    )
    .unwrap();
    let run = || {
        let out = hopcheck(&[
            "check",
            "--format",
            "cargo",
            "--quiet",
            dir.path().to_str().unwrap(),
        ]);
        compiler_messages(&out.stdout)
    };
    let messages = run();
    assert!(!messages.is_empty());
    let root = dir.path().canonicalize().unwrap();
    let id = format!("path+file://{}#hopcheck", root.display());
    for m in &messages {
        assert_eq!(m.package_id.repr, id);
        let primary = m.message.spans.iter().find(|s| s.is_primary).unwrap();
        assert_eq!(Path::new(&primary.file_name), root.join("handlers.rs"));
    }
    assert_eq!(run()[0].package_id, messages[0].package_id);
}

const SERVICE: &str = r#"//! A service with stand-ins for its libraries, so that it builds without dependencies.

mod sqlx {
    pub struct PgPool;
    pub struct Query(pub &'static str);

    pub fn query_scalar(sql: &'static str) -> Query {
        Query(sql)
    }

    impl Query {
        pub async fn fetch_one(self, _db: &PgPool) -> Result<i64, ()> {
            Ok(self.0.len() as i64)
        }
    }
}

pub struct State<T>(pub T);

pub async fn counts(State(db): State<sqlx::PgPool>) -> Result<i64, ()> {
    let users = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&db).await?;
    let orders = sqlx::query_scalar("SELECT count(*) FROM orders").fetch_one(&db).await?;
    Ok(users + orders)
}

fn main() {
    let unused = 1;
    let _mounted = counts;
}
"#;

#[test]
fn with_cargo_check_rustc_and_hopcheck_messages_share_the_package_id() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("svc");
    std::fs::create_dir_all(project.join("src")).unwrap();
    std::fs::write(
        project.join("Cargo.toml"),
        "[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(project.join("src/main.rs"), SERVICE).unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_hopcheck"))
        .args([
            "check",
            "--format",
            "cargo",
            "--with-cargo",
            "check",
            "--quiet",
        ])
        .arg(&project)
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .env("NO_COLOR", "1")
        .output()
        .expect("hopcheck runs");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "status {:?}: {}",
        out.status,
        stderr(&out)
    );
    let messages = compiler_messages(&out.stdout);
    let code = |m: &CompilerMessage| m.message.code.as_ref().map(|c| c.code.clone());
    let rustc = messages
        .iter()
        .find(|m| code(m).as_deref() == Some("unused_variables"))
        .unwrap_or_else(|| panic!("rustc's warning in {}", stdout(&out)));
    let ours = messages
        .iter()
        .find(|m| code(m).as_deref() == Some("hopcheck::sequential-queries"))
        .unwrap_or_else(|| panic!("hopcheck's finding in {}", stdout(&out)));
    let id = package_id(&project);
    assert_eq!(rustc.package_id.repr, id);
    assert_eq!(ours.package_id.repr, id);
    assert_eq!(rustc.target.name, ours.target.name);
    assert_eq!(rustc.message.level, DiagnosticLevel::Warning);

    // rustc's messages come first, then hopcheck's.
    let first_ours = messages.iter().position(|m| {
        code(m)
            .as_deref()
            .is_some_and(|c| c.starts_with("hopcheck::"))
    });
    let last_rustc = messages.iter().rposition(|m| {
        !code(m)
            .as_deref()
            .is_some_and(|c| c.starts_with("hopcheck::"))
    });
    assert!(last_rustc < first_ours);

    let primary = ours.message.spans.iter().find(|s| s.is_primary).unwrap();
    let main = project.join("src/main.rs").canonicalize().unwrap();
    assert_eq!(Path::new(&primary.file_name), main);
    assert_eq!(
        primary.line_start,
        SERVICE
            .lines()
            .position(|l| l.contains("FROM orders"))
            .unwrap()
            + 1
    );
}

/// `file:line:col: (warning|error)[lint]: message`, the lint in lowercase kebab case.
fn is_short_line(line: &str) -> bool {
    let Some((file, rest)) = line.split_once(':') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mut parts = rest.splitn(3, ':');
    let (Some(l), Some(c), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    let Some(rest) = rest.strip_prefix(' ') else {
        return false;
    };
    let Some(rest) = rest
        .strip_prefix("warning[")
        .or_else(|| rest.strip_prefix("error["))
    else {
        return false;
    };
    let Some((lint, message)) = rest.split_once("]: ") else {
        return false;
    };
    !file.is_empty()
        && digits(l)
        && digits(c)
        && !lint.is_empty()
        && lint.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
        && !message.is_empty()
}

#[test]
fn the_line_matcher_holds_to_the_short_format() {
    assert!(is_short_line(
        "src/a.rs:3:7: warning[sequential-queries]: 2 trips"
    ));
    assert!(is_short_line("src/a.rs:3:7: error[over-budget]: x: y"));
    assert!(!is_short_line("src/a.rs:3: warning[x]: y"));
    assert!(!is_short_line("src/a.rs:3:7: note[x]: y"));
    assert!(!is_short_line("src/a.rs:3:7: warning[Query_x]: y"));
    assert!(!is_short_line("src/a.rs:3:7: warning[x]: "));
    assert!(!is_short_line(":3:7: warning[x]: y"));
}

#[test]
fn short_format_is_one_line_per_unsuppressed_finding() {
    let out = hopcheck(&["check", "--format", "short", "fixtures/projects/shop"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    for line in &lines {
        assert!(is_short_line(line), "not a short line: {line:?}");
    }
    let (_, json) = check_json(&shop(), &[]);
    let expected: Vec<String> = unsuppressed(&json)
        .iter()
        .map(|d| {
            format!(
                "{}:{}:{}: {}[{}]: {}",
                d["file"].as_str().unwrap(),
                d["line"],
                d["column"],
                d["severity"].as_str().unwrap(),
                d["lint"].as_str().unwrap(),
                d["message"].as_str().unwrap()
            )
        })
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(lines, expected);
}

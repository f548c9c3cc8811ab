//! `--format cargo`: rustc/cargo JSON diagnostic messages, for rust-analyzer's `check.overrideCommand` and
//! any tool that reads cargo's messages.
//!
//! Each unsuppressed finding is one line: a rustc diagnostic (`$message_type: "diagnostic"`) in cargo's
//! `compiler-message` envelope, whose `package_id` is the id `cargo metadata` gives the package that holds
//! the file. Readers that clear a package's earlier diagnostics when they meet its id (rust-analyzer does)
//! therefore keep rustc's or clippy's messages for the same package beside hopcheck's. Nothing else is
//! written on stdout: no summary, and no `build-finished` line, since hopcheck builds nothing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use super::Format;
use crate::rules::{Diagnostic, Level};
use crate::Analysis;

pub struct Cargo;

impl Format for Cargo {
    fn render(&self, a: &Analysis) -> String {
        render_at(a, &a.root)
    }
}

/// The messages for the analysis of `root` (the folder or file that was analysed): one JSON line per
/// unsuppressed finding, each ending with a newline.
pub fn render_at(a: &Analysis, root: &Path) -> String {
    let findings: Vec<&Diagnostic> = a
        .diagnostics
        .iter()
        .filter(|d| d.suppressed.is_none())
        .collect();
    if findings.is_empty() {
        return String::new();
    }
    let base = base_dir(root);
    let packages = Packages::load(&base);
    let mut out = String::new();
    for d in findings {
        let file = &a.model.files[d.file];
        let path = absolute(&base.join(&file.path));
        let package = packages.holding(&path);
        let file_name = path.to_string_lossy().into_owned();
        let envelope = Envelope {
            reason: "compiler-message",
            package_id: &package.id,
            manifest_path: &package.manifest_path,
            target: &package.target,
            message: message(d, &file.source, &file_name, &shown_path(root, &file.path)),
        };
        match serde_json::to_string(&envelope) {
            Ok(line) => {
                out.push_str(&line);
                out.push('\n');
            }
            Err(e) => eprintln!("error: cannot write a cargo message: {e}"),
        }
    }
    out
}

/// Runs `cargo check` or `cargo clippy` (`which`) with JSON messages in `root` and returns its
/// compiler messages, enveloped as cargo prints them, to be printed beside hopcheck's.
///
/// Only `compiler-message` lines are kept (artifacts and build-script lines are dropped), each followed by
/// a newline. Cargo's stderr (progress, a failed build's summary) goes to ours. A build that fails is not
/// an error here, its messages are the point; only failing to start cargo is.
pub fn cargo_messages(root: &Path, which: &str) -> Result<String, String> {
    if which != "check" && which != "clippy" {
        return Err(format!(
            "unknown cargo command `{which}` (expected check or clippy)"
        ));
    }
    let output = Command::new(cargo_program())
        .arg(which)
        .arg("--message-format=json")
        .current_dir(base_dir(root))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut out = String::new();
    for line in stdout.lines() {
        let Ok(value) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if value.get("reason").and_then(|r| r.as_str()) == Some("compiler-message") {
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    Ok(out)
}

/// The cargo to run: the one that started us when there is one (`cargo run`), else `cargo` on the PATH.
fn cargo_program() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// The folder file paths are relative to: the root, or the folder of a root that is one file.
fn base_dir(root: &Path) -> PathBuf {
    if root.is_file() {
        match root.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    } else {
        root.to_path_buf()
    }
}

/// Canonical when the file exists, else made absolute against the current folder.
fn absolute(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// The path `rendered` shows: as the user named it, relative to the current folder when the root was.
fn shown_path(root: &Path, rel: &str) -> String {
    let base = base_dir(root);
    if base == Path::new(".") {
        rel.to_string()
    } else {
        base.join(rel).to_string_lossy().into_owned()
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    reason: &'static str,
    package_id: &'a str,
    manifest_path: &'a str,
    target: &'a Target,
    message: Message<'a>,
}

/// A cargo target as its messages carry it.
#[derive(Serialize, Clone)]
struct Target {
    kind: Vec<String>,
    crate_types: Vec<String>,
    name: String,
    src_path: String,
    edition: String,
    doc: bool,
    doctest: bool,
    test: bool,
}

#[derive(Serialize)]
struct Message<'a> {
    #[serde(rename = "$message_type")]
    message_type: &'static str,
    message: &'a str,
    code: Option<Code>,
    level: &'static str,
    spans: Vec<Span>,
    children: Vec<Message<'a>>,
    rendered: Option<String>,
}

#[derive(Serialize)]
struct Code {
    code: String,
    explanation: Option<String>,
}

#[derive(Serialize)]
struct Span {
    file_name: String,
    byte_start: u32,
    byte_end: u32,
    line_start: u32,
    line_end: u32,
    column_start: u32,
    column_end: u32,
    is_primary: bool,
    text: Vec<SpanLine>,
    label: Option<String>,
    suggested_replacement: Option<String>,
    suggestion_applicability: Option<String>,
    expansion: Option<()>,
}

#[derive(Serialize)]
struct SpanLine {
    text: String,
    highlight_start: u32,
    highlight_end: u32,
}

/// `error` or `warning`: the levels rustc messages use for lints.
fn level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warn | Level::Allow => "warning",
    }
}

fn message<'a>(d: &'a Diagnostic, source: &str, file_name: &str, shown: &str) -> Message<'a> {
    let mut spans = vec![span(source, file_name, d.loc, &d.label, true)];
    spans.extend(
        d.related
            .iter()
            .map(|(loc, label)| span(source, file_name, *loc, label, false)),
    );
    let level = level(d.level);
    let code = format!("hopcheck::{}", d.lint);
    let primary = &spans[0];
    let mut rendered = format!(
        "{level}[{code}]: {}\n --> {shown}:{}:{}\n",
        d.message, primary.line_start, primary.column_start
    );
    let mut children = Vec::new();
    if !d.help.is_empty() {
        rendered.push_str(&format!("  = help: {}\n", d.help));
        children.push(Message {
            message_type: "diagnostic",
            message: &d.help,
            code: None,
            level: "help",
            spans: Vec::new(),
            children: Vec::new(),
            rendered: None,
        });
    }
    Message {
        message_type: "diagnostic",
        message: &d.message,
        code: Some(Code {
            code,
            explanation: None,
        }),
        level,
        spans,
        children,
        rendered: Some(rendered),
    }
}

/// A rustc span over `loc`: 1-based lines and character columns, the end exclusive, with the text of each
/// line it covers. A place with no line (a file that could not be read) is put at 1:1.
fn span(source: &str, file_name: &str, loc: crate::facts::Loc, label: &str, primary: bool) -> Span {
    let loc = crate::facts::Loc {
        line: loc.line.max(1),
        col: loc.col.max(1),
        ..loc
    };
    let (line_end, column_end) = super::json::end_of(source, loc);
    let byte_start = loc.offset.min(source.len() as u32);
    let byte_end = loc.offset.saturating_add(loc.len).min(source.len() as u32);
    let text = source
        .split('\n')
        .take(if source.is_empty() { 0 } else { usize::MAX })
        .enumerate()
        .skip(loc.line as usize - 1)
        .take((line_end - loc.line + 1) as usize)
        .map(|(i, text)| {
            let text = text.strip_suffix('\r').unwrap_or(text);
            let n = i as u32 + 1;
            SpanLine {
                text: text.to_string(),
                highlight_start: if n == loc.line { loc.col } else { 1 },
                highlight_end: if n == line_end {
                    column_end
                } else {
                    text.chars().count() as u32 + 1
                },
            }
        })
        .collect();
    Span {
        file_name: file_name.to_string(),
        byte_start,
        byte_end,
        line_start: loc.line,
        line_end,
        column_start: loc.col,
        column_end,
        is_primary: primary,
        text,
        label: (!label.is_empty()).then(|| label.to_string()),
        suggested_replacement: None,
        suggestion_applicability: None,
        expansion: None,
    }
}

/// A package a finding's file can belong to.
struct Package {
    id: String,
    manifest_path: String,
    /// The folder of its manifest, canonical.
    dir: PathBuf,
    target: Target,
}

/// The packages of the workspace at the analysed root, and the stand-in for files outside them.
struct Packages {
    known: Vec<Package>,
    fallback: Package,
}

impl Packages {
    /// Reads `cargo metadata --no-deps` (it resolves and builds nothing) in `base`. Without cargo or a
    /// readable manifest every file belongs to the stand-in package, `path+file://<root>#hopcheck`.
    fn load(base: &Path) -> Packages {
        let root = absolute(base);
        let fallback = Package {
            id: format!("path+file://{}#hopcheck", root.display()),
            manifest_path: root.join("Cargo.toml").to_string_lossy().into_owned(),
            dir: root.clone(),
            target: placeholder_target(&root),
        };
        let metadata = Command::new(cargo_program())
            .args(["metadata", "--format-version", "1", "--no-deps"])
            .current_dir(base)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok());
        let known = metadata
            .as_ref()
            .and_then(|m| m.get("packages"))
            .and_then(|p| p.as_array())
            .map(|packages| packages.iter().filter_map(package).collect())
            .unwrap_or_default();
        Packages { known, fallback }
    }

    /// The package whose manifest folder holds `file`, the innermost when several do.
    fn holding(&self, file: &Path) -> &Package {
        self.known
            .iter()
            .filter(|p| file.starts_with(&p.dir))
            .max_by_key(|p| p.dir.components().count())
            .unwrap_or(&self.fallback)
    }
}

fn package(p: &serde_json::Value) -> Option<Package> {
    let id = p.get("id")?.as_str()?.to_string();
    let manifest_path = p.get("manifest_path")?.as_str()?.to_string();
    let dir = absolute(Path::new(&manifest_path).parent()?);
    let edition = p.get("edition").and_then(|e| e.as_str()).unwrap_or("2021");
    let target = p
        .get("targets")
        .and_then(|t| t.as_array())
        .and_then(|targets| targets.iter().find_map(|t| target(t, edition)))
        .unwrap_or_else(|| placeholder_target(&dir));
    Some(Package {
        id,
        manifest_path,
        dir,
        target,
    })
}

/// A lib or bin target of the metadata; other kinds (tests, examples, build scripts) give `None`.
fn target(t: &serde_json::Value, edition: &str) -> Option<Target> {
    let strings = |key: &str| -> Vec<String> {
        t.get(key)
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|s| s.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    };
    let kind = strings("kind");
    let lib_or_bin = kind.iter().any(|k| {
        matches!(
            k.as_str(),
            "bin" | "lib" | "rlib" | "dylib" | "cdylib" | "staticlib" | "proc-macro"
        )
    });
    if !lib_or_bin {
        return None;
    }
    let flag = |key: &str, default: bool| t.get(key).and_then(|v| v.as_bool()).unwrap_or(default);
    let crate_types = match strings("crate_types") {
        c if c.is_empty() => kind.clone(),
        c => c,
    };
    Some(Target {
        crate_types,
        name: t.get("name")?.as_str()?.to_string(),
        src_path: t.get("src_path")?.as_str()?.to_string(),
        edition: t
            .get("edition")
            .and_then(|e| e.as_str())
            .unwrap_or(edition)
            .to_string(),
        doc: flag("doc", true),
        doctest: flag("doctest", kind.iter().any(|k| k == "lib")),
        test: flag("test", true),
        kind,
    })
}

/// A target for a folder cargo does not describe: its `src/lib.rs` or `src/main.rs` when there is one.
fn placeholder_target(dir: &Path) -> Target {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().replace(['-', '.', ' '], "_"))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "hopcheck".to_string());
    let (kind, src) = if dir.join("src/main.rs").is_file() && !dir.join("src/lib.rs").is_file() {
        ("bin", dir.join("src/main.rs"))
    } else {
        ("lib", dir.join("src/lib.rs"))
    };
    Target {
        kind: vec![kind.to_string()],
        crate_types: vec![kind.to_string()],
        name,
        src_path: src.to_string_lossy().into_owned(),
        edition: "2021".to_string(),
        doc: true,
        doctest: kind == "lib",
        test: true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::Loc;

    #[test]
    fn spans_are_one_based_with_the_end_exclusive_and_the_lines_they_cover() {
        let source = "fn f() {\n    let é = g().await;\n}\n";
        let offset = source.find("g()").unwrap() as u32;
        let loc = Loc {
            line: 2,
            col: 13,
            offset,
            len: "g().await".len() as u32,
        };
        let s = span(source, "/x/src/a.rs", loc, "here", true);
        assert_eq!((s.line_start, s.column_start), (2, 13));
        assert_eq!((s.line_end, s.column_end), (2, 22));
        assert_eq!((s.byte_start, s.byte_end), (offset, offset + 9));
        assert_eq!(s.text.len(), 1);
        assert_eq!(s.text[0].text, "    let é = g().await;");
        assert_eq!(
            (s.text[0].highlight_start, s.text[0].highlight_end),
            (13, 22)
        );

        let all = Loc {
            line: 1,
            col: 1,
            offset: 0,
            len: source.len() as u32 - 1,
        };
        let s = span(source, "/x/src/a.rs", all, "", false);
        assert_eq!((s.line_end, s.column_end), (3, 2));
        let lines: Vec<(u32, u32)> = s
            .text
            .iter()
            .map(|t| (t.highlight_start, t.highlight_end))
            .collect();
        assert_eq!(lines, [(1, 9), (1, 23), (1, 2)]);
        assert!(s.label.is_none());
    }

    #[test]
    fn a_place_with_no_line_is_put_at_the_start() {
        let s = span("", "/x/a.rs", Loc::default(), "x", true);
        assert_eq!((s.line_start, s.column_start, s.line_end), (1, 1, 1));
        assert!(s.text.is_empty());
    }

    #[test]
    fn only_lib_and_bin_targets_are_taken() {
        let t: serde_json::Value = serde_json::json!({
            "name": "b", "kind": ["custom-build"], "src_path": "/x/build.rs"
        });
        assert!(target(&t, "2021").is_none());
        let t: serde_json::Value = serde_json::json!({
            "name": "shop", "kind": ["bin"], "crate_types": ["bin"], "src_path": "/x/src/main.rs",
            "edition": "2024"
        });
        let t = target(&t, "2021").unwrap();
        assert_eq!((t.kind[0].as_str(), t.edition.as_str()), ("bin", "2024"));
    }
}

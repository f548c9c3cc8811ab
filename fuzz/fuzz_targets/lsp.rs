//! Structured input as a language server session: didOpen, didChange, didSave and didClose of the
//! workspace's files and of others (outside it, relative, not `file:`, with `..`, percent-escaped), with
//! fixture text, edited fixture text or any text; hover, codeLens and codeAction requests at any
//! position; shutdown, exit, unknown methods and known methods with params of the wrong shape. The
//! session is written as an LSP script (one JSON-RPC message a line) and replayed by
//! `hopcheck_fuzz::run_lsp` against a small workspace (`hopcheck_fuzz::workspace`).
//!
//! An input's `Debug` form is that script: `cargo fuzz fmt lsp <input>` prints it, ready to save under
//! `fuzz/regressions/lsp/`.

#![no_main]

use std::fmt;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

fuzz_target!(|session: Session| {
    hopcheck_fuzz::run_lsp(&session.script());
});

/// At most this many messages a session.
const MAX_MESSAGES: usize = 24;

#[derive(Arbitrary)]
pub struct Session {
    messages: Vec<Msg>,
}

#[derive(Arbitrary)]
enum Msg {
    Open {
        doc: Doc,
        text: Text,
    },
    Change {
        doc: Doc,
        changes: Vec<Text>,
    },
    Save {
        doc: Doc,
        text: Option<Text>,
    },
    Close {
        doc: Doc,
    },
    Watched,
    Hover {
        id: Id,
        doc: Doc,
        at: Pos,
    },
    CodeLens {
        id: Id,
        doc: Doc,
    },
    CodeAction {
        id: Id,
        doc: Doc,
        start: Pos,
        end: Pos,
    },
    Shutdown {
        id: Id,
    },
    Exit,
    Unknown {
        id: Option<Id>,
        method: String,
        params: Params,
    },
    /// A method the server handles, with params of another shape.
    Malformed {
        id: Option<Id>,
        method: Method,
        params: Params,
    },
    /// A response to a request the server never sent.
    Response {
        id: Id,
    },
}

#[derive(Arbitrary, Clone, Copy)]
enum Method {
    DidOpen,
    DidChange,
    DidSave,
    DidClose,
    Hover,
    CodeLens,
    CodeAction,
    Shutdown,
}

#[derive(Arbitrary)]
enum Doc {
    Main,
    Db,
    Config,
    Manifest,
    /// In the workspace, not on disk.
    New,
    Outside,
    Relative,
    NotFile,
    DotDot,
    Escaped,
    /// `file://$ROOT/` and any text.
    InRoot(String),
    /// `file://$ROOT/src/%` and any text: a percent escape that may not be one.
    Percent(String),
    Any(String),
}

#[derive(Arbitrary)]
enum Text {
    Fixture(u8),
    /// A fixture with `insert` put in at `at` (a byte offset, moved back to a character boundary).
    Edited {
        fixture: u8,
        at: u16,
        insert: String,
    },
    /// A fixture with `len` bytes cut at `at`.
    Cut {
        fixture: u8,
        at: u16,
        len: u16,
    },
    Any(String),
}

#[derive(Arbitrary)]
enum Id {
    Number(i32),
    Text(String),
}

#[derive(Arbitrary)]
struct Pos {
    line: Num,
    character: Num,
}

#[derive(Arbitrary)]
enum Num {
    Small(u8),
    Medium(u16),
    Max,
    Huge(u64),
    Negative(i64),
    Float(f64),
    Missing,
    Text(String),
}

#[derive(Arbitrary)]
enum Params {
    Null,
    Empty,
    Array(Vec<u8>),
    Text(String),
    Number(i64),
    /// `{"textDocument": {"uri": <doc>}}` and nothing else.
    UriOnly(Doc),
}

const FIXTURES: &[&str] = &[
    hopcheck_fuzz::CONFIG_PROBE,
    include_str!("../../fixtures/sequential_queries.rs"),
    include_str!("../../fixtures/query_in_loop.rs"),
    include_str!("../../fixtures/chatty_transaction.rs"),
    include_str!("../../fixtures/over_budget.rs"),
    include_str!("../../fixtures/unused_allow.rs"),
    include_str!("../../fixtures/parse_error.rs"),
    include_str!("../../fixtures/replicas/read_on_primary.rs"),
    include_str!("../../fixtures/replicas/hopcheck.toml"),
    include_str!("../../fixtures/libraries/hopcheck.toml"),
    "",
];

impl Doc {
    fn uri(&self) -> String {
        let root = hopcheck_fuzz::ROOT_MARK;
        match self {
            Doc::Main => format!("file://{root}/src/main.rs"),
            Doc::Db => format!("file://{root}/src/db.rs"),
            Doc::Config => format!("file://{root}/hopcheck.toml"),
            Doc::Manifest => format!("file://{root}/Cargo.toml"),
            Doc::New => format!("file://{root}/src/new.rs"),
            Doc::Outside => "file:///nonexistent/elsewhere/main.rs".to_string(),
            Doc::Relative => "src/main.rs".to_string(),
            Doc::NotFile => "untitled:Untitled-1".to_string(),
            Doc::DotDot => format!("file://{root}/src/../../{}/src/./main.rs", "x"),
            Doc::Escaped => format!("file://{root}/src/m%61in.rs%"),
            Doc::InRoot(rest) => format!("file://{root}/{rest}"),
            Doc::Percent(rest) => format!("file://{root}/src/%{rest}"),
            Doc::Any(uri) => uri.clone(),
        }
    }
}

impl Text {
    fn render(&self) -> String {
        let fixture = |i: &u8| FIXTURES[*i as usize % FIXTURES.len()];
        let boundary = |text: &str, at: usize| {
            let mut at = at.min(text.len());
            while !text.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        match self {
            Text::Fixture(i) => fixture(i).to_string(),
            Text::Edited {
                fixture: i,
                at,
                insert,
            } => {
                let mut text = fixture(i).to_string();
                let at = boundary(&text, *at as usize);
                text.insert_str(at, insert);
                text
            }
            Text::Cut {
                fixture: i,
                at,
                len,
            } => {
                let mut text = fixture(i).to_string();
                let start = boundary(&text, *at as usize);
                let end = boundary(&text, start + *len as usize);
                text.replace_range(start..end, "");
                text
            }
            Text::Any(text) => text.clone(),
        }
    }
}

impl Id {
    fn json(&self) -> Value {
        match self {
            Id::Number(n) => json!(n),
            Id::Text(s) => json!(s),
        }
    }
}

impl Num {
    fn json(&self) -> Value {
        match self {
            Num::Small(n) => json!(n),
            Num::Medium(n) => json!(n),
            Num::Max => json!(u32::MAX),
            Num::Huge(n) => json!(n),
            Num::Negative(n) => json!(n),
            Num::Float(x) => json!(x),
            Num::Missing => Value::Null,
            Num::Text(s) => json!(s),
        }
    }
}

impl Pos {
    fn json(&self) -> Value {
        json!({"line": self.line.json(), "character": self.character.json()})
    }
}

impl Params {
    fn json(&self) -> Value {
        match self {
            Params::Null => Value::Null,
            Params::Empty => json!({}),
            Params::Array(items) => json!(items),
            Params::Text(s) => json!(s),
            Params::Number(n) => json!(n),
            Params::UriOnly(doc) => json!({"textDocument": {"uri": doc.uri()}}),
        }
    }
}

impl Method {
    fn name(self) -> &'static str {
        match self {
            Method::DidOpen => "textDocument/didOpen",
            Method::DidChange => "textDocument/didChange",
            Method::DidSave => "textDocument/didSave",
            Method::DidClose => "textDocument/didClose",
            Method::Hover => "textDocument/hover",
            Method::CodeLens => "textDocument/codeLens",
            Method::CodeAction => "textDocument/codeAction",
            Method::Shutdown => "shutdown",
        }
    }
}

fn notification(method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "method": method, "params": params})
}

fn request(id: &Id, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id.json(), "method": method, "params": params})
}

impl Msg {
    fn json(&self) -> Value {
        match self {
            Msg::Open { doc, text } => notification(
                "textDocument/didOpen",
                json!({"textDocument": {"uri": doc.uri(), "languageId": "rust", "version": 1, "text": text.render()}}),
            ),
            Msg::Change { doc, changes } => {
                let changes: Vec<Value> = changes
                    .iter()
                    .take(3)
                    .map(|t| json!({"text": t.render()}))
                    .collect();
                notification(
                    "textDocument/didChange",
                    json!({"textDocument": {"uri": doc.uri(), "version": 2}, "contentChanges": changes}),
                )
            }
            Msg::Save { doc, text } => {
                let mut params = json!({"textDocument": {"uri": doc.uri()}});
                if let Some(t) = text {
                    params["text"] = json!(t.render());
                }
                notification("textDocument/didSave", params)
            }
            Msg::Close { doc } => notification(
                "textDocument/didClose",
                json!({"textDocument": {"uri": doc.uri()}}),
            ),
            Msg::Watched => notification(
                "workspace/didChangeWatchedFiles",
                json!({"changes": [{"uri": Doc::Main.uri(), "type": 2}]}),
            ),
            Msg::Hover { id, doc, at } => request(
                id,
                "textDocument/hover",
                json!({"textDocument": {"uri": doc.uri()}, "position": at.json()}),
            ),
            Msg::CodeLens { id, doc } => request(
                id,
                "textDocument/codeLens",
                json!({"textDocument": {"uri": doc.uri()}}),
            ),
            Msg::CodeAction {
                id,
                doc,
                start,
                end,
            } => request(
                id,
                "textDocument/codeAction",
                json!({
                    "textDocument": {"uri": doc.uri()},
                    "range": {"start": start.json(), "end": end.json()},
                    "context": {"diagnostics": []},
                }),
            ),
            Msg::Shutdown { id } => request(id, "shutdown", Value::Null),
            Msg::Exit => notification("exit", Value::Null),
            Msg::Unknown { id, method, params } => match id {
                Some(id) => request(id, method, params.json()),
                None => notification(method, params.json()),
            },
            Msg::Malformed { id, method, params } => match id {
                Some(id) => request(id, method.name(), params.json()),
                None => notification(method.name(), params.json()),
            },
            Msg::Response { id } => json!({"jsonrpc": "2.0", "id": id.json(), "result": null}),
        }
    }
}

impl Session {
    /// One message a line.
    fn script(&self) -> String {
        self.messages
            .iter()
            .take(MAX_MESSAGES)
            .map(|m| format!("{}\n", m.json()))
            .collect()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.script())
    }
}

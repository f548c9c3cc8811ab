//! `hopcheck lsp`: a language server over stdio. It keeps each file's facts and re-parses only the files
//! that change (an edited buffer; on open, save and close, and when the client reports changes on disk,
//! files changed outside the editor), then re-runs the stages after parsing (model, rules, costs) on facts
//! it shares with the model. It publishes diagnostics for open files, a code lens with the
//! cost of each handler, hovers on handlers and round trips, and code actions: the safe fixes of
//! `crate::fix` and "allow with a reason". A bad `hopcheck.toml` becomes diagnostics on that file.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use lsp_server::{Connection, Message, Notification, Request, Response};
use serde_json::{json, Value};

use crate::config::{self, Config};
use crate::facts::{FileFacts, Loc, Step};
use crate::rules::{fmt_ms, Level};
use crate::Analysis;

/// How long edits must pause before the analysis runs again.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Stack for the server's thread: parsing deeply nested code recurses.
const STACK_BYTES: usize = 64 << 20;

/// Runs the server until the client asks it to exit; returns the exit status.
pub fn run() -> i32 {
    let thread = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(serve);
    match thread.map(|t| t.join()) {
        Ok(Ok(Ok(()))) => 0,
        Ok(Ok(Err(e))) => {
            eprintln!("error: hopcheck lsp: {e}");
            1
        }
        _ => {
            eprintln!("error: hopcheck lsp stopped unexpectedly");
            1
        }
    }
}

type Error = Box<dyn std::error::Error + Send + Sync>;

fn serve() -> Result<(), Error> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = json!({
        "textDocumentSync": {"openClose": true, "change": 1, "save": {"includeText": true}},
        "hoverProvider": true,
        "codeLensProvider": {"resolveProvider": false},
        "codeActionProvider": {"codeActionKinds": ["quickfix"]},
    });
    let params = connection.initialize(capabilities)?;
    // Files changed outside the editor (a `git checkout`, hopcheck.toml edited elsewhere): ask the
    // client to say so, where it can.
    let watch =
        &params["capabilities"]["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"];
    if watch.as_bool() == Some(true) {
        let request = Request::new(
            lsp_server::RequestId::from("hopcheck/watch".to_string()),
            "client/registerCapability".to_string(),
            json!({"registrations": [{
                "id": "hopcheck-files",
                "method": "workspace/didChangeWatchedFiles",
                "registerOptions": {"watchers": [
                    {"globPattern": "**/hopcheck.toml"},
                    {"globPattern": "**/*.rs"},
                    {"globPattern": "**/Cargo.toml"},
                ]},
            }]}),
        );
        connection.sender.send(Message::Request(request))?;
    }
    let mut server = Server::new(root_of(&params));
    server.main_loop(&connection)?;
    // The connection must be dropped before the I/O threads can end.
    drop(connection);
    io_threads.join()?;
    Ok(())
}

/// Runs the server's message loop on `messages` (after the `initialize` handshake) over in-memory
/// channels, with `root` as the workspace, and returns what the server sent back. The fuzzer and tests
/// drive the message handling this way; an `Err` is the loop ending with an error, as `exit` without
/// `shutdown` does.
pub fn replay(root: PathBuf, messages: Vec<Message>) -> (Vec<Message>, Result<(), String>) {
    let (server, client) = Connection::memory();
    for m in messages {
        // The server's receiver is alive: sending cannot fail.
        let _ = client.sender.send(m);
    }
    drop(client.sender);
    let outcome = Server::new(root)
        .main_loop(&server)
        .map_err(|e| e.to_string());
    drop(server);
    (client.receiver.try_iter().collect(), outcome)
}

/// The workspace folder from `initialize`: the first workspace folder, `rootUri`, or the current folder.
fn root_of(params: &Value) -> PathBuf {
    let uri = params["workspaceFolders"][0]["uri"]
        .as_str()
        .or_else(|| params["rootUri"].as_str());
    uri.and_then(path_of)
        .or_else(|| params["rootPath"].as_str().map(PathBuf::from))
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A file's facts, with what they were computed from.
struct Cached {
    /// Where the text came from: an open buffer's version, or the file's modification time and size.
    stamp: Stamp,
    facts: Arc<FileFacts>,
    /// Its text defines `macro_rules!`.
    defines_macros: bool,
    /// Its [`crate::model::definitions`].
    definitions: u64,
}

#[derive(Clone, PartialEq)]
enum Stamp {
    Buffer(u64),
    Disk(Option<SystemTime>, u64),
}

/// A file discovery found: its path, its path relative to the root, and its canonical path (how open
/// buffers are named).
struct Listed {
    path: PathBuf,
    rel: String,
    canonical: PathBuf,
}

/// The facts of every file of a workspace, kept between analyses. An analysis after an edit parses
/// only the edited buffer again and shares every other file's facts with the model. The tree is listed,
/// and files on disk are looked at again, only after [`Workspace::rescan`]: on open, save and close,
/// and when the client reports files changed on disk.
pub struct Workspace {
    root: PathBuf,
    listing: Option<Vec<Listed>>,
    /// Compare files on disk with their stamps at the next analysis.
    check_disk: bool,
    cache: HashMap<String, Cached>,
    /// The catalog the cached facts were extracted with (as text): another one parses every file again.
    catalog: String,
    /// The name lookups of the last analysis, and the definitions of every file they were made from.
    index: Option<(crate::model::Index, Vec<u64>)>,
    /// The catalog in scope per crate (its manifests read once), until the tree is listed again.
    scopes: Option<crate::manifest::Scopes>,
}

impl Workspace {
    pub fn new(root: PathBuf) -> Workspace {
        Workspace {
            root,
            listing: None,
            check_disk: true,
            cache: HashMap::new(),
            catalog: String::new(),
            index: None,
            scopes: None,
        }
    }

    /// Lists the tree again and compares files on disk with what was parsed, at the next analysis.
    pub fn rescan(&mut self) {
        self.listing = None;
        self.check_disk = true;
        self.scopes = None;
    }

    /// Analyses the workspace: `open` holds the editor's buffers (path → text, and a hash of it; a file
    /// is matched by its canonical path or by its path as listed), which stand for the files on disk.
    pub fn analyze(&mut self, open: &HashMap<PathBuf, (String, u64)>, config: Config) -> Analysis {
        let root = self.root.clone();
        let listing = self.listing.get_or_insert_with(|| {
            crate::discover::discover(&root)
                .into_iter()
                .filter_map(|f| match f {
                    crate::discover::Found::File { path, rel } => Some(Listed {
                        canonical: path.canonicalize().unwrap_or_else(|_| path.clone()),
                        path,
                        rel,
                    }),
                    crate::discover::Found::Error { .. } => None,
                })
                .collect()
        });
        // The workspace's `macro_rules!`, from the buffers, the files parsed before and the disk.
        // Files parsed before say whether they define macros; only the others are read.
        let mut texts: Vec<String> = Vec::new();
        let defines = |t: &str| t.contains("macro_rules");
        for f in listing.iter() {
            let buffer = open.get(&f.canonical).or_else(|| open.get(&f.path));
            match (buffer, self.cache.get(&f.rel)) {
                (Some((text, _)), _) => texts.extend(defines(text).then(|| text.clone())),
                (None, Some(c)) => {
                    texts.extend(c.defines_macros.then(|| c.facts.source.clone()));
                }
                (None, None) => {
                    texts.extend(std::fs::read_to_string(&f.path).ok().filter(|t| defines(t)))
                }
            }
        }
        let macros = crate::facts::macros::MacroTable::from_texts(texts.iter().map(String::as_str));
        // Facts depend on the catalog and the macros: another of either parses every file again (and
        // the index depends on the deployed build too).
        let catalog = format!("{:?}{:?}{:?}", config.catalog, macros, config.build);
        if catalog != self.catalog {
            self.cache.clear();
            self.index = None;
            self.scopes = None;
            self.catalog = catalog;
        }
        let scopes = self
            .scopes
            .get_or_insert_with(|| crate::manifest::Scopes::new(&config.catalog, &root));
        // The first analysis (and the first after the catalog or the macros changed) reads unchanged
        // files' facts from the facts cache, and keeps what it parses there for the next start.
        let disk = match (self.cache.is_empty(), &config.cache_file) {
            (true, Some(file)) => Some(crate::cache::FactsCache::open(file, &macros)),
            _ => None,
        };
        // Each file's facts: kept from the last analysis while its stamp holds, else parsed again (on
        // all cores when there are several, as at the start).
        enum Slot<'b> {
            Kept(Arc<FileFacts>, u64),
            Parse(Stamp, Option<&'b String>),
        }
        let slots: Vec<Slot> = listing
            .iter()
            .map(|f| {
                let buffer = open.get(&f.canonical).or_else(|| open.get(&f.path));
                let cached = self.cache.get(&f.rel);
                let stamp = match (buffer, cached) {
                    (Some((_, h)), _) => Stamp::Buffer(*h),
                    // Unchanged on disk, until a rescan says otherwise.
                    (None, Some(c)) if !self.check_disk && matches!(c.stamp, Stamp::Disk(..)) => {
                        c.stamp.clone()
                    }
                    (None, _) => {
                        let meta = std::fs::metadata(&f.path).ok();
                        Stamp::Disk(
                            meta.as_ref().and_then(|m| m.modified().ok()),
                            meta.map_or(0, |m| m.len()),
                        )
                    }
                };
                if let Some(c) = cached.filter(|c| c.stamp == stamp) {
                    return Slot::Kept(c.facts.clone(), c.definitions);
                }
                Slot::Parse(stamp, buffer.map(|(text, _)| text))
            })
            .collect();
        let parse = |f: &Listed, buffer: Option<&String>| {
            let text = match buffer {
                Some(text) => Some(text.clone()),
                None => std::fs::read(&f.path)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok()),
            };
            let defines_macros = text.as_deref().is_some_and(|t| t.contains("macro_rules"));
            let facts = match text {
                Some(text) if text.len() as u64 <= crate::MAX_FILE_BYTES => {
                    let catalog = scopes.catalog_for(&f.path);
                    crate::extract_cached(&f.rel, text, &catalog, &macros, disk.as_ref())
                }
                _ => FileFacts {
                    path: f.rel.clone(),
                    module: crate::discover::module_path(&f.rel),
                    ..FileFacts::default()
                },
            };
            (Arc::new(facts), defines_macros)
        };
        let wanted: Vec<(&Listed, Option<&String>)> = listing
            .iter()
            .zip(&slots)
            .filter_map(|(f, slot)| match slot {
                Slot::Parse(_, buffer) => Some((f, *buffer)),
                Slot::Kept(..) => None,
            })
            .collect();
        let parsed: Vec<(Arc<FileFacts>, bool)> = match crate::parse_pool() {
            Some(pool) if wanted.len() > 1 => pool.install(|| {
                use rayon::prelude::*;
                wanted.par_iter().map(|(f, b)| parse(f, *b)).collect()
            }),
            _ => wanted.iter().map(|(f, b)| parse(f, *b)).collect(),
        };
        let mut parsed = parsed.into_iter();
        let mut files = Vec::with_capacity(listing.len());
        let mut definitions = Vec::with_capacity(listing.len());
        for (f, slot) in listing.iter().zip(slots) {
            let (facts, defined) = match slot {
                Slot::Kept(facts, defined) => (facts, defined),
                Slot::Parse(stamp, _) => {
                    let Some((facts, defines_macros)) = parsed.next() else {
                        continue;
                    };
                    let defined = crate::model::definitions(&facts);
                    self.cache.insert(
                        f.rel.clone(),
                        Cached {
                            stamp,
                            facts: facts.clone(),
                            defines_macros,
                            definitions: defined,
                        },
                    );
                    (facts, defined)
                }
            };
            files.push(facts);
            definitions.push(defined);
        }
        self.check_disk = false;
        // Best effort: a cache that cannot be written only means the next start parses again.
        if let Some(disk) = disk {
            let _ = disk.save();
        }
        let listed: HashSet<&str> = listing.iter().map(|f| f.rel.as_str()).collect();
        self.cache.retain(|rel, _| listed.contains(rel.as_str()));
        // An edit inside a function body leaves every definition as it was: the lookups still hold.
        let earlier = self
            .index
            .take()
            .filter(|(_, made_from)| *made_from == definitions)
            .map(|(index, _)| index);
        let (mut analysis, index) = crate::analyze_shared(&self.root, files, config, earlier);
        if let Some(scopes) = &self.scopes {
            analysis.unpriced_clients = scopes.unpriced_clients();
            analysis.unread_frameworks = scopes.unread_frameworks();
            analysis.missing_path_dependencies = scopes.missing_path_dependencies(&self.root);
        }
        self.index = Some((index, definitions));
        analysis
    }
}

struct Server {
    root: PathBuf,
    /// Open buffers: path → (text, a hash of it).
    open: HashMap<PathBuf, (String, u64)>,
    workspace: Workspace,
    analysis: Option<Analysis>,
    /// What each function of the analysis costs, worked out on the first hover or lens that needs it.
    prices: std::cell::OnceCell<Vec<crate::cost::PathCost>>,
    /// Files diagnostics were published for, to clear them when they have none.
    published: HashSet<String>,
    /// The configuration file's problems were published: clear them once it loads.
    config_errors_shown: Option<PathBuf>,
    dirty: bool,
}

impl Server {
    fn new(root: PathBuf) -> Server {
        let root = root.canonicalize().unwrap_or(root);
        Server {
            workspace: Workspace::new(root.clone()),
            root,
            open: HashMap::new(),
            analysis: None,
            prices: std::cell::OnceCell::new(),
            published: HashSet::new(),
            config_errors_shown: None,
            dirty: true,
        }
    }

    fn main_loop(&mut self, connection: &Connection) -> Result<(), Error> {
        loop {
            let message = if self.dirty {
                match connection.receiver.recv_timeout(DEBOUNCE) {
                    Ok(m) => m,
                    Err(crossbeam_timeout) if crossbeam_timeout.is_timeout() => {
                        self.refresh(connection)?;
                        continue;
                    }
                    Err(_) => return Ok(()),
                }
            } else {
                match connection.receiver.recv() {
                    Ok(m) => m,
                    Err(_) => return Ok(()),
                }
            };
            match message {
                Message::Request(request) => {
                    if connection.handle_shutdown(&request)? {
                        return Ok(());
                    }
                    // Answers use the newest text.
                    if self.dirty {
                        self.refresh(connection)?;
                    }
                    let response = self.answer(&request);
                    connection.sender.send(Message::Response(response))?;
                }
                Message::Notification(n) => self.notice(n, connection)?,
                Message::Response(_) => {}
            }
        }
    }

    /// Open, change, save and close: buffers are kept, and the analysis runs again (at once on open and
    /// save, after a pause in typing on change).
    fn notice(&mut self, n: Notification, connection: &Connection) -> Result<(), Error> {
        let uri = n.params["textDocument"]["uri"].as_str().unwrap_or("");
        let path = path_of(uri);
        match n.method.as_str() {
            "textDocument/didOpen" => {
                if let (Some(path), Some(text)) = (path, n.params["textDocument"]["text"].as_str())
                {
                    self.open.insert(path, (text.to_string(), hash(text)));
                }
                self.workspace.rescan();
                self.refresh(connection)?;
            }
            "textDocument/didChange" => {
                // Full sync: the last change holds the whole text.
                let text = n.params["contentChanges"]
                    .as_array()
                    .and_then(|c| c.last())
                    .and_then(|c| c["text"].as_str());
                if let (Some(path), Some(text)) = (path, text) {
                    self.open.insert(path, (text.to_string(), hash(text)));
                    self.dirty = true;
                }
            }
            "textDocument/didSave" => {
                if let (Some(path), Some(text)) = (path.clone(), n.params["text"].as_str()) {
                    self.open.insert(path, (text.to_string(), hash(text)));
                }
                self.workspace.rescan();
                self.refresh(connection)?;
            }
            "textDocument/didClose" => {
                if let Some(path) = path {
                    self.open.remove(&path);
                    if let Some(rel) = self.rel(&path) {
                        self.publish(connection, &rel, Vec::new())?;
                        self.published.remove(&rel);
                    }
                }
                // Its file on disk stands for it again.
                self.workspace.rescan();
                self.dirty = true;
            }
            "workspace/didChangeWatchedFiles" => {
                self.workspace.rescan();
                self.dirty = true;
            }
            // After `shutdown`, `exit` is taken by `handle_shutdown`; here it came without one, and the
            // protocol wants the process to end with status 1.
            "exit" => return Err("the client sent `exit` before `shutdown`".into()),
            _ => {}
        }
        Ok(())
    }

    /// Re-analyses with the newest text and publishes the diagnostics of open files.
    fn refresh(&mut self, connection: &Connection) -> Result<(), Error> {
        self.dirty = false;
        let mut config = self.config(connection)?;
        // The first analysis takes unchanged files' facts from the facts cache the command line keeps.
        config.cache_file = crate::cache::pack_for(None, &self.root);
        // The previous analysis shares the cached facts: let it go first, so that only the files the
        // new model annotates are copied.
        self.analysis = None;
        self.prices = std::cell::OnceCell::new();
        self.analysis = Some(self.workspace.analyze(&self.open, config));
        self.publish_all(connection)
    }

    /// The configuration: `hopcheck.toml` at the root or above it (an open buffer's text first), else
    /// the default topology. A file that does not load gets its errors as diagnostics, and the default
    /// topology is used meanwhile.
    fn config(&mut self, connection: &Connection) -> Result<Config, Error> {
        let Some(file) = config::find(&self.root).filter(|f| config::link_out_of_tree(f).is_none())
        else {
            return Ok(Config::default_topology());
        };
        let text = match self.open.get(&file) {
            Some((text, _)) => Some(text.clone()),
            None => std::fs::read_to_string(&file).ok(),
        };
        let Some(text) = text else {
            return Ok(Config::default_topology());
        };
        match config::parse(&file, &text) {
            Ok(c) => {
                if self.config_errors_shown.take().is_some() {
                    send_diagnostics(connection, &uri_of(&file), Vec::new())?;
                }
                Ok(c)
            }
            Err(errors) => {
                let diagnostics = errors
                    .iter()
                    .map(|e| {
                        let start = e.span.as_ref().map_or(0, |s| s.start);
                        let end = e.span.as_ref().map_or(0, |s| s.end);
                        let message = match &e.help {
                            Some(h) => format!("{}\nhelp: {h}", e.message),
                            None => e.message.clone(),
                        };
                        json!({
                            "range": {"start": position_at(&text, start), "end": position_at(&text, end)},
                            "severity": 1,
                            "source": "hopcheck",
                            "code": "config",
                            "message": message,
                        })
                    })
                    .collect();
                send_diagnostics(connection, &uri_of(&file), diagnostics)?;
                self.config_errors_shown = Some(file);
                Ok(Config::default_topology())
            }
        }
    }

    fn rel(&self, path: &Path) -> Option<String> {
        let canonical = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let rel = canonical.strip_prefix(&self.root).ok()?;
        Some(
            rel.components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/"),
        )
    }

    fn open_rels(&self) -> HashSet<String> {
        self.open.keys().filter_map(|p| self.rel(p)).collect()
    }

    fn publish_all(&mut self, connection: &Connection) -> Result<(), Error> {
        let Some(a) = &self.analysis else {
            return Ok(());
        };
        let open = self.open_rels();
        let mut by_file: HashMap<String, Vec<Value>> = HashMap::new();
        for d in a.diagnostics.iter().filter(|d| d.suppressed.is_none()) {
            let file = &a.model.files[d.file];
            if open.contains(&file.path) {
                by_file
                    .entry(file.path.clone())
                    .or_default()
                    .push(diagnostic(a, d, &self.root));
            }
        }
        let mut targets: HashSet<String> = std::mem::take(&mut self.published);
        targets.extend(open);
        // An open configuration file with errors keeps the diagnostics `config` published for it.
        if let Some(rel) = self
            .config_errors_shown
            .as_deref()
            .and_then(|f| self.rel(f))
        {
            targets.remove(&rel);
        }
        for rel in targets {
            let list = by_file.remove(&rel).unwrap_or_default();
            if !list.is_empty() {
                self.published.insert(rel.clone());
            }
            send_diagnostics(connection, &uri_of(&self.root.join(&rel)), list)?;
        }
        Ok(())
    }

    fn publish(&self, connection: &Connection, rel: &str, list: Vec<Value>) -> Result<(), Error> {
        send_diagnostics(connection, &uri_of(&self.root.join(rel)), list)
    }

    /// Hover, code lens and code action requests; anything else is answered "method not found".
    fn answer(&self, request: &Request) -> Response {
        let id = request.id.clone();
        let result = match request.method.as_str() {
            "textDocument/hover" => self.hover(&request.params),
            "textDocument/codeLens" => self.code_lens(&request.params),
            "textDocument/codeAction" => self.code_actions(&request.params),
            _ => {
                return Response::new_err(
                    id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("hopcheck does not answer {}", request.method),
                )
            }
        };
        Response::new_ok(id, result)
    }

    /// The analysis and the index of the file a request is about.
    fn file_of(&self, params: &Value) -> Option<(&Analysis, usize)> {
        let a = self.analysis.as_ref()?;
        let path = path_of(params["textDocument"]["uri"].as_str()?)?;
        let rel = self.rel(&path)?;
        let index = a.model.files.iter().position(|f| f.path == rel)?;
        Some((a, index))
    }

    /// On a handler's name or `fn` line: its routes, round trips in order and estimate; on an awaited
    /// round trip: where it goes and what it costs.
    fn hover(&self, params: &Value) -> Value {
        let Some((a, file)) = self.file_of(params) else {
            return Value::Null;
        };
        let line = line_of(&params["position"]["line"]);
        let source = &a.model.files[file].source;
        let col = char_column(
            source,
            line,
            params["position"]["character"].as_u64().unwrap_or(0),
        );
        // A round trip under the cursor.
        for (id, r) in a.model.fns.iter().enumerate() {
            if r.file != file {
                continue;
            }
            let mut found = None;
            for step in &a.model.func(id).body {
                step.walk(&mut |s| {
                    if let Step::Trip(t) = s {
                        if contains(t.call_loc, line, col) || contains(t.loc, line, col) {
                            found.get_or_insert(t.clone());
                        }
                    }
                });
            }
            if let Some(mut t) = found {
                // Off every request path, the model left it as the file has it: classify it here.
                if t.target.is_none() {
                    let consts = crate::model::consts(&a.model.files);
                    let (sql, access, target) = crate::model::classify(&t, &consts, &a.config);
                    (t.sql, t.access, t.target) = (sql, Some(access), Some(target));
                }
                return markdown(&trip_text(a, &t));
            }
        }
        // A call to one of the project's functions under the cursor: what it costs.
        if let Some(callee) = project_calls(a, file)
            .into_iter()
            .find(|(loc, _)| contains(*loc, line, col))
            .map(|(_, callee)| callee)
        {
            return markdown(&call_text(a, self.price_of(a, callee), callee));
        }
        // A handler's `fn` line.
        let handler = a.model.fns.iter().enumerate().find(|(id, r)| {
            r.file == file
                && a.model.func(*id).fn_line == line
                && a.model.routes.iter().any(|route| route.handler == *id)
        });
        match handler {
            Some((id, _)) => markdown(&handler_text(a, id)),
            None => Value::Null,
        }
    }

    /// What a function of the analysis costs on its worst path.
    fn price_of(&self, a: &Analysis, function: usize) -> &crate::cost::PathCost {
        let prices = self.prices.get_or_init(|| {
            let costs = crate::cost::Costs::compute(&a.model, &a.config);
            (0..a.model.fns.len()).map(|f| costs.of_fn(f)).collect()
        });
        &prices[function]
    }

    /// A lens above each handler of the file: round trips, estimate per deployment, budget.
    fn code_lens(&self, params: &Value) -> Value {
        let Some((a, file)) = self.file_of(params) else {
            return json!([]);
        };
        let mut lenses = Vec::new();
        let mut done = HashSet::new();
        for r in &a.routes {
            let Some(id) = a.model.routes.iter().find_map(|route| {
                (a.model.qualified_name(route.handler) == r.handler_path
                    && a.model.fns[route.handler].file == file)
                    .then_some(route.handler)
            }) else {
                continue;
            };
            if !done.insert(id) {
                continue;
            }
            let line = a.model.func(id).fn_line.saturating_sub(1);
            lenses.push(json!({
                "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
                "command": {"title": lens_title(r), "command": ""},
            }));
        }
        // Above a call to a project function that costs more than one far round trip: what it costs.
        let far = far_round_trip(a);
        let mut lines = HashSet::new();
        for (loc, callee) in project_calls(a, file) {
            let cost = self.price_of(a, callee);
            let worst = cost.ms.iter().copied().fold(0.0, f64::max);
            if cost.trips < 2 || worst <= far || !lines.insert(loc.line) {
                continue;
            }
            let line = loc.line.saturating_sub(1);
            lenses.push(json!({
                "range": {"start": {"line": line, "character": 0}, "end": {"line": line, "character": 0}},
                "command": {"title": call_title(a, cost, callee), "command": ""},
            }));
        }
        Value::Array(lenses)
    }

    /// For findings in the range: the safe fix, where there is one, and "allow with a reason".
    fn code_actions(&self, params: &Value) -> Value {
        let Some((a, file)) = self.file_of(params) else {
            return json!([]);
        };
        let uri = params["textDocument"]["uri"].clone();
        let source = &a.model.files[file].source;
        let from = line_of(&params["range"]["start"]["line"]);
        let to = line_of(&params["range"]["end"]["line"]);
        let fixes = crate::fix::fixes(a);
        let mut actions = Vec::new();
        for d in a
            .diagnostics
            .iter()
            .filter(|d| d.file == file && d.suppressed.is_none())
            .filter(|d| d.loc.line >= from.min(to) && d.loc.line <= to.max(from))
        {
            let lsp = diagnostic(a, d, &self.root);
            for f in fixes
                .iter()
                .filter(|f| f.fingerprint == d.fingerprint && f.file == file)
            {
                let edits: Vec<Value> = f
                    .edits
                    .iter()
                    .map(|e| {
                        json!({
                            "range": {"start": position_at(source, e.start), "end": position_at(source, e.end)},
                            "newText": e.text,
                        })
                    })
                    .collect();
                actions.push(json!({
                    "title": f.title,
                    "kind": "quickfix",
                    "diagnostics": [lsp.clone()],
                    "isPreferred": true,
                    "edit": {"changes": {uri.as_str().unwrap_or(""): edits}},
                }));
            }
            // `// hopcheck: allow(lint) reason` on its own line above the finding, indented like it.
            let line_text = source.lines().nth(d.loc.line as usize - 1).unwrap_or("");
            let indent: String = line_text
                .chars()
                .take_while(|c| c.is_whitespace())
                .collect();
            let at = json!({"line": d.loc.line - 1, "character": 0});
            actions.push(json!({
                "title": format!("Allow `{}` here, with a reason", d.lint),
                "kind": "quickfix",
                "diagnostics": [lsp],
                "edit": {"changes": {uri.as_str().unwrap_or(""): [{
                    "range": {"start": at, "end": at},
                    "newText": format!("{indent}// hopcheck: allow({}) <why this is fine>\n", d.lint),
                }]}},
            }));
        }
        Value::Array(actions)
    }
}

/// A finding as an LSP diagnostic, with its related round trips and the loop header.
fn diagnostic(a: &Analysis, d: &crate::rules::Diagnostic, root: &Path) -> Value {
    let file = &a.model.files[d.file];
    let uri = uri_of(&root.join(&file.path));
    let related: Vec<Value> = d
        .related
        .iter()
        .map(|(loc, message)| {
            json!({
                "location": {"uri": uri, "range": range(&file.source, *loc)},
                "message": message,
            })
        })
        .collect();
    let mut message = d.message.clone();
    if !d.help.is_empty() {
        message.push_str(&format!("\nhelp: {}", d.help));
    }
    json!({
        "range": range(&file.source, d.loc),
        "severity": if d.level == Level::Error { 1 } else { 2 },
        "code": d.lint,
        "codeDescription": {"href": format!("https://hopcheck.invalid/lints/{}", d.lint)},
        "source": "hopcheck",
        "message": message,
        "relatedInformation": related,
        "data": {"fingerprint": d.fingerprint},
    })
}

/// `3 round trips · ≈ 279 ms from us-east-1 · budget 250 ms`.
fn lens_title(r: &crate::RouteReport) -> String {
    let trips = if r.typical_round_trips < r.round_trips {
        format!("{}–{} round trips", r.typical_round_trips, r.round_trips)
    } else if r.round_trips == 1 {
        "1 round trip".to_string()
    } else {
        format!("{} round trips", r.round_trips)
    };
    let trips = if r.unresolved.is_empty() {
        trips
    } else {
        format!("≥ {trips} ({} calls not resolved)", r.unresolved.len())
    };
    let mut parts = vec![trips];
    for c in r.served() {
        let over = if c.over_budget { " (over)" } else { "" };
        parts.push(format!(
            "≈ {} ms from {}{over}",
            fmt_ms(c.estimated_ms),
            c.deployment
        ));
    }
    if let Some(c) = r.served().next() {
        parts.push(format!("budget {} ms", fmt_ms(c.budget_ms)));
    }
    if let Some(c) = &r.cache {
        parts.push(format!("on a cache {}: {}", c.case, c.cell(r)));
    }
    parts.join(" · ")
}

/// The calls in a file's functions that reach a function of the analysed code, with where each is.
fn project_calls(a: &Analysis, file: usize) -> Vec<(Loc, usize)> {
    let mut out = Vec::new();
    for (id, r) in a.model.fns.iter().enumerate() {
        if r.file != file || a.model.copies.origin.contains_key(&id) {
            continue;
        }
        for step in &a.model.func(id).body {
            step.walk(&mut |s| {
                if let Step::Call(c) = s {
                    if let Some(callee) = c.resolved {
                        out.push((c.loc, callee));
                    }
                }
            });
        }
    }
    out
}

/// The longest round trip from a deployment to a database's primary: "one far round trip".
fn far_round_trip(a: &Analysis) -> f64 {
    let c = &a.config;
    c.deployments
        .iter()
        .flat_map(|d| {
            c.databases
                .iter()
                .filter(|db| !db.service)
                .map(move |db| c.rtt_ms(d, &db.primary))
        })
        .fold(0.0, f64::max)
}

/// `repo::orders: 2 round trips · ≈ 186 ms from us-east-1`.
fn call_title(a: &Analysis, cost: &crate::cost::PathCost, callee: usize) -> String {
    let mut parts = vec![format!(
        "{}: {}",
        a.model.qualified_name(callee),
        match cost.trips {
            1 => "1 round trip".to_string(),
            n => format!("{n} round trips"),
        }
    )];
    for (d, ms) in a.config.deployments.iter().zip(&cost.ms) {
        parts.push(format!("≈ {} ms from {d}", fmt_ms(*ms)));
    }
    parts.join(" · ")
}

/// A call's hover: what the function it reaches costs on its worst path, and its round trips in order.
fn call_text(a: &Analysis, cost: &crate::cost::PathCost, callee: usize) -> String {
    let mut out = format!("**{}** (worst path)\n\n", call_title(a, cost, callee));
    out.push_str(&trips_text(a, callee));
    out
}

/// A handler's hover: its routes, each round trip on its path in order, and the estimate.
fn handler_text(a: &Analysis, id: usize) -> String {
    let name = a.model.qualified_name(id);
    let mut out = format!("**{name}**\n\n");
    for r in a.routes.iter().filter(|r| r.handler_path == name) {
        if let (Some(m), Some(p)) = (&r.method, &r.path) {
            out.push_str(&format!("`{m} {p}`: {}\n\n", lens_title(r)));
        }
    }
    out.push_str(&trips_text(a, id));
    out
}

/// "Round trips, in order:" and a numbered line for each that a function reaches.
fn trips_text(a: &Analysis, id: usize) -> String {
    let mut trips = Vec::new();
    let mut seen = HashSet::new();
    in_order(a, id, &mut trips, &mut seen);
    if trips.is_empty() {
        return String::new();
    }
    let mut out = "Round trips, in order:\n".to_string();
    for (i, (f, t)) in trips.iter().enumerate() {
        let file = &a.model.file_of(*f).path;
        out.push_str(&format!(
            "{}. `{}` → {} ({}:{})\n",
            i + 1,
            t.api,
            endpoint(a, t),
            file,
            t.loc.line
        ));
    }
    out
}

/// The round trips a function reaches, in evaluation order, each function once.
fn in_order<'a>(
    a: &'a Analysis,
    id: usize,
    out: &mut Vec<(usize, &'a crate::facts::Trip)>,
    seen: &mut HashSet<usize>,
) {
    if !seen.insert(id) || out.len() > 200 {
        return;
    }
    steps_in_order(a, id, &a.model.func(id).body, out, seen);
}

fn steps_in_order<'a>(
    a: &'a Analysis,
    id: usize,
    list: &'a [Step],
    out: &mut Vec<(usize, &'a crate::facts::Trip)>,
    seen: &mut HashSet<usize>,
) {
    for step in list {
        match step {
            Step::Trip(t) => out.push((id, t)),
            Step::Call(c) => {
                if let Some(callee) = c.resolved {
                    in_order(a, callee, out, seen);
                }
            }
            other => {
                for child in other.children() {
                    steps_in_order(a, id, child, out, seen);
                }
            }
        }
    }
}

/// Where a round trip goes: `main (primary) in eu-central-1 · ≈ 93 ms from us-east-1`.
fn endpoint(a: &Analysis, t: &crate::facts::Trip) -> String {
    let Some(target) = t.target else {
        return "unknown".into();
    };
    let c = &a.config;
    let name = c
        .databases
        .get(target.db)
        .map_or("an API next to the app".to_string(), |d| {
            let role = match target.role {
                config::Role::Primary if d.service => "",
                config::Role::Primary => " (primary)",
                config::Role::Replica => " (replica)",
            };
            format!("{}{role}", d.name)
        });
    let costs: Vec<String> = c
        .deployments
        .iter()
        .map(|d| {
            let region = c.endpoint_region(target, d);
            format!("{region}, ≈ {} ms from {d}", fmt_ms(c.rtt_ms(d, region)))
        })
        .collect();
    format!("{name}: {}", costs.join("; "))
}

/// A round trip's hover.
fn trip_text(a: &Analysis, t: &crate::facts::Trip) -> String {
    let mut out = format!("**round trip** `{}`\n\n{}\n", t.api, endpoint(a, t));
    if let Some(access) = t.access {
        let what = match access {
            crate::facts::sql::Access::Read => "a read",
            crate::facts::sql::Access::Write => "a write (or SQL hopcheck cannot read)",
        };
        out.push_str(&format!("\n{what}"));
        if t.in_transaction {
            out.push_str(", in a transaction");
        }
        out.push('\n');
    }
    if let Some(sql) = &t.sql {
        out.push_str(&format!("\n```sql\n{}\n```\n", sql.trim()));
    }
    out
}

fn markdown(text: &str) -> Value {
    json!({"contents": {"kind": "markdown", "value": text}})
}

/// The 1-based line of an LSP position's 0-based `line` (a client may send any number).
fn line_of(line: &Value) -> u32 {
    u32::try_from(line.as_u64().unwrap_or(0))
        .unwrap_or(u32::MAX)
        .saturating_add(1)
}

fn contains(loc: Loc, line: u32, col: u32) -> bool {
    loc.line == line && col >= loc.col && col <= loc.col + loc.len.max(1)
}

/// The 1-based character column of an LSP position (UTF-16 units) on a line.
fn char_column(source: &str, line: u32, utf16: u64) -> u32 {
    let text = source
        .lines()
        .nth(line.saturating_sub(1) as usize)
        .unwrap_or("");
    let mut units = 0u64;
    let mut chars = 0u32;
    for ch in text.chars() {
        if units >= utf16 {
            break;
        }
        units += ch.len_utf16() as u64;
        chars += 1;
    }
    chars + 1
}

/// A finding's place as an LSP range (0-based lines, UTF-16 characters).
fn range(source: &str, loc: Loc) -> Value {
    let start = loc.offset as usize;
    let end = start + loc.len as usize;
    if loc.offset == 0 && loc.len == 0 {
        let p = json!({"line": loc.line.saturating_sub(1), "character": 0});
        return json!({"start": p, "end": p});
    }
    json!({"start": position_at(source, start), "end": position_at(source, end)})
}

/// The LSP position of a byte offset.
fn position_at(source: &str, offset: usize) -> Value {
    let offset = offset.min(source.len());
    let mut at = offset;
    while !source.is_char_boundary(at) {
        at -= 1;
    }
    let before = &source[..at];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = source[line_start..at].chars().map(char::len_utf16).sum();
    json!({"line": line, "character": character})
}

fn send_diagnostics(
    connection: &Connection,
    uri: &str,
    diagnostics: Vec<Value>,
) -> Result<(), Error> {
    let params = json!({"uri": uri, "diagnostics": diagnostics});
    connection
        .sender
        .send(Message::Notification(Notification::new(
            "textDocument/publishDiagnostics".to_string(),
            params,
        )))?;
    Ok(())
}

fn hash(text: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    h.finish()
}

/// `file:///a/b%20c.rs` → `/a/b c.rs`.
fn path_of(uri: &str) -> Option<PathBuf> {
    let rest = uri.strip_prefix("file://")?;
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            // Bytes, not a `str` slice: the two after `%` may start a multi-byte character.
            let hex = &bytes[i + 1..i + 3];
            let hex = std::str::from_utf8(hex)
                .ok()
                .filter(|h| h.bytes().all(|b| b.is_ascii_hexdigit()));
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out).ok().map(PathBuf::from)
}

/// `/a/b c.rs` → `file:///a/b%20c.rs`.
fn uri_of(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::from("file://");
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_paths_round_trip() {
        let p = Path::new("/work/my app/src/ü.rs");
        assert_eq!(path_of(&uri_of(p)).as_deref(), Some(p));
        assert_eq!(path_of("file:///a/b.rs"), Some(PathBuf::from("/a/b.rs")));
        assert_eq!(path_of("untitled:1"), None);
    }

    const HANDLER: &str = "async fn h(State(db): State<PgPool>) {\n\
        sqlx::query(\"SELECT 1\").execute(&db).await;\n}\n";

    /// The sequential-queries findings (the route's budget is beside the point here).
    fn lints(a: &Analysis) -> Vec<&'static str> {
        let found = a.diagnostics.iter().map(|d| d.lint);
        found.filter(|l| *l == "sequential-queries").collect()
    }

    /// The editor's first analysis keeps what it parses in the facts cache the command line reads, and
    /// the next start reports the same from it.
    #[test]
    fn the_first_analysis_fills_the_facts_cache_and_the_next_start_reads_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("src")).unwrap();
        let two = format!("{HANDLER}async fn g(State(db): State<PgPool>) {{\n    sqlx::query(\"SELECT 1\").execute(&db).await;\n    sqlx::query(\"SELECT 2\").execute(&db).await;\n}}\n");
        std::fs::write(root.join("src/main.rs"), &two).unwrap();
        let pack = root.join("cache/facts-0.bin");
        let config = || Config {
            cache_file: Some(pack.clone()),
            ..Config::default_topology()
        };
        let first = Workspace::new(root.clone()).analyze(&HashMap::new(), config());
        assert!(pack.exists(), "the pack is written");
        let macros = crate::facts::macros::MacroTable::default();
        let disk = crate::cache::FactsCache::open(&pack, &macros);
        let scopes = crate::manifest::Scopes::new(&Config::default_topology().catalog, &root);
        let catalog = scopes.catalog_for(&root.join("src/main.rs"));
        let key = disk.key("src/main.rs", &two, &catalog);
        assert!(disk.get(key, &two).is_some(), "the file's facts are kept");
        let second = Workspace::new(root.clone()).analyze(&HashMap::new(), config());
        assert_eq!(lints(&first), lints(&second));
        assert_eq!(lints(&second), ["sequential-queries"]);
    }

    #[test]
    fn the_workspace_parses_again_what_changed_and_shares_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("src")).unwrap();
        let main = root.join("src/main.rs");
        let handler = format!("mod other;\n{HANDLER}");
        std::fs::write(&main, &handler).unwrap();
        std::fs::write(root.join("src/other.rs"), "pub async fn o() {}\n").unwrap();
        let mut ws = Workspace::new(root.clone());
        let mut open = HashMap::new();
        let first = ws.analyze(&open, Config::default_topology());
        assert_eq!(lints(&first), Vec::<&str>::new());
        let other = ws.cache["src/other.rs"].facts.clone();

        // An edited buffer stands for its file: parsed again; the file nobody touched is shared.
        let edited = handler.replace(
            "}\n",
            "    sqlx::query(\"SELECT 2\").execute(&db).await;\n}\n",
        );
        open.insert(main.clone(), (edited.clone(), hash(&edited)));
        let second = ws.analyze(&open, Config::default_topology());
        assert_eq!(lints(&second), ["sequential-queries"]);
        assert_eq!(second.routes[0].round_trips, 2);
        let shared = second.model.files.iter().find(|f| f.path == "src/other.rs");
        assert!(Arc::ptr_eq(shared.unwrap(), &other));

        // The buffer closed, a third query saved on disk by another program: seen after a rescan.
        open.clear();
        let three = edited.replace(
            "}\n",
            "    sqlx::query(\"SELECT 3\").execute(&db).await;\n}\n",
        );
        std::fs::write(&main, &three).unwrap();
        ws.rescan();
        let third = ws.analyze(&open, Config::default_topology());
        assert_eq!(third.routes[0].round_trips, 3);

        // A function defined in another buffer after the call to it was written: the name lookups
        // are made again, and the call now leads to its query.
        let calling = three.replace("}\n", "    crate::other::helper(&db).await;\n}\n");
        open.insert(main.clone(), (calling.clone(), hash(&calling)));
        assert_eq!(
            ws.analyze(&open, Config::default_topology()).routes[0].round_trips,
            3
        );
        // (`o` renamed: as many functions as before, under another name.)
        let helper =
            "pub async fn helper(db: &PgPool) { sqlx::query(\"SELECT 4\").execute(db).await; }\n";
        let other_path = root.join("src/other.rs");
        open.insert(other_path, (helper.to_string(), hash(helper)));
        assert_eq!(
            ws.analyze(&open, Config::default_topology()).routes[0].round_trips,
            4
        );
        // Both buffers closed: the files on disk stand for them again.
        open.clear();
        ws.rescan();
        assert_eq!(
            ws.analyze(&open, Config::default_topology()).routes[0].round_trips,
            3
        );

        // A new file on disk (a binary of its own) comes in with the next rescan too.
        std::fs::create_dir(root.join("src/bin")).unwrap();
        std::fs::write(root.join("src/bin/late.rs"), HANDLER).unwrap();
        assert_eq!(
            ws.analyze(&open, Config::default_topology())
                .model
                .files
                .len(),
            2
        );
        ws.rescan();
        assert_eq!(
            ws.analyze(&open, Config::default_topology())
                .model
                .files
                .len(),
            3
        );
    }

    /// A server on a folder whose `src/main.rs` is `code`, analysed on the default topology.
    fn analysed(code: &str) -> (tempfile::TempDir, PathBuf, Server) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        std::fs::create_dir(root.join("src")).unwrap();
        std::fs::write(root.join("src/main.rs"), code).unwrap();
        let mut server = Server::new(root.clone());
        server.analysis = Some(
            server
                .workspace
                .analyze(&server.open, Config::default_topology()),
        );
        (dir, root, server)
    }

    #[test]
    fn a_round_trip_off_every_request_path_still_has_its_hover() {
        // A job nothing calls: the model leaves its round trip unclassified.
        let job = "async fn job(db: &PgPool) {\n    sqlx::query(\"SELECT id FROM users\").fetch_one(db).await;\n}\n";
        let (_dir, root, server) = analysed(job);
        let params = json!({
            "textDocument": {"uri": uri_of(&root.join("src/main.rs"))},
            "position": {"line": 1, "character": 48},
        });
        let text = server.hover(&params)["contents"]["value"].to_string();
        assert!(text.contains("main (primary): eu-central-1"), "{text}");
        assert!(text.contains("a read"), "{text}");
    }

    #[test]
    fn a_call_to_a_project_function_shows_its_price() {
        let code = "use axum::extract::State;
use sqlx::PgPool;

async fn page(State(db): State<PgPool>) -> String {
    let n = counts(&db).await;
    let name = one(&db).await;
    format!(\"{name} {n}\")
}

async fn counts(db: &PgPool) -> i64 {
    let a: i64 = sqlx::query_scalar(\"SELECT count(*) FROM users\").fetch_one(db).await.unwrap();
    let b: i64 = sqlx::query_scalar(\"SELECT count(*) FROM teams\").fetch_one(db).await.unwrap();
    a + b
}

async fn one(db: &PgPool) -> String {
    sqlx::query_scalar(\"SELECT name FROM users LIMIT 1\").fetch_one(db).await.unwrap()
}

fn app() -> axum::Router<PgPool> {
    axum::Router::new().route(\"/\", axum::routing::get(page))
}
";
        let (_dir, root, server) = analysed(code);
        let uri = uri_of(&root.join("src/main.rs"));
        let hover = |line: u32, character: u32| {
            let params = json!({
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
            });
            server.hover(&params)["contents"]["value"].to_string()
        };
        // On `counts(&db)`: its two round trips, priced, and each of them.
        let text = hover(4, 14);
        assert!(
            text.contains("counts: 2 round trips · ≈ 371 ms from us-east-1"),
            "{text}"
        );
        assert!(
            text.contains("2. `sqlx::query_scalar(…).fetch_one` → main (primary)"),
            "{text}"
        );
        // A lens above the call that costs more than one far round trip, none above the other.
        let lenses = server.code_lens(&json!({"textDocument": {"uri": uri}}));
        let titles: Vec<(u64, String)> = lenses
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["range"]["start"]["line"].as_u64().unwrap(),
                    l["command"]["title"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(
            titles.contains(&(4, "counts: 2 round trips · ≈ 371 ms from us-east-1".into())),
            "{titles:?}"
        );
        assert!(!titles.iter().any(|(line, _)| *line == 5), "{titles:?}");
    }

    #[test]
    fn positions_count_utf16_units() {
        let src = "let é = 1;\nlet 😀x = 2;\n";
        assert_eq!(
            position_at(src, src.find('x').unwrap()),
            json!({"line": 1, "character": 6})
        );
        assert_eq!(char_column(src, 2, 6), 6);
    }
}

//! Fixes, shared by `hopcheck fix` and the language server's code actions: machine-applicable edits only
//! where they keep behaviour.
//!
//! Two findings have one: a `sequential-queries` run of independent reads written as adjacent
//! `let PAT = EXPR.await?;` statements becomes one `let (P1, P2) = tokio::try_join!(EXPR1, EXPR2)?;`
//! (`futures::try_join!` where the crate has `futures` and not tokio's macros), and a `read-on-primary`
//! read takes the replica pool that `[pools]` maps (`&state.db` becomes `&state.read`). Every other
//! finding keeps its textual help.
//!
//! The facts say which round trips are independent reads; the edits need the text, so this module parses
//! the one file being fixed with syn, on a thread of its own (the span table of a parse lives as long as
//! its thread), and lets no syntax tree out. Edits are small and leave the expressions they move as they
//! are written, so that fixes of different findings in one statement apply together. A fix whose result
//! does not parse is dropped. The join macro is chosen from the Cargo.toml of the file's crate, the only
//! other file read. It never builds the code, so a fix is only as safe as these checks: identifiers and
//! data dependencies, one library's error type, no temporaries the futures borrow.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, LineColumn, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::config::Role;
use crate::facts::sql::Access;
use crate::facts::{driver, Call, Loc, Step, Trip, TripKind};
use crate::rules::Diagnostic;
use crate::Analysis;
use crate::PARSE_STACK_BYTES;

/// Replace the bytes `start..end` of a file's text with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

/// The edits that fix one finding, all in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    /// Index into the analysis's files.
    pub file: usize,
    /// The fingerprint of the finding it fixes.
    pub fingerprint: String,
    /// What it does, for a code action's title: "run the 2 reads at once with `tokio::try_join!`".
    pub title: String,
    pub edits: Vec<Edit>,
}

/// Lines are kept within rustfmt's default width where the fix lays them out.
const MAX_WIDTH: usize = 100;

/// Every safe fix for the analysis's unsuppressed findings, in the findings' order.
pub fn fixes(a: &Analysis) -> Vec<Fix> {
    fixes_and_reasons(a).0
}

/// [`fixes`], and why each other unsuppressed finding has none, by fingerprint.
pub fn fixes_and_reasons(a: &Analysis) -> (Vec<Fix>, HashMap<String, &'static str>) {
    let mut reasons = HashMap::new();
    // The findings a fix may exist for, by file; the files are shared among the cores, each parsing
    // its own on a thread of its own and dropping a file's tree once its findings are done.
    let mut by_file: Vec<(usize, Vec<usize>)> = Vec::new();
    for (i, d) in a.diagnostics.iter().enumerate() {
        if d.suppressed.is_some() {
            continue;
        }
        if !matches!(d.lint, "sequential-queries" | "read-on-primary") {
            reasons.insert(d.fingerprint.clone(), no_fixer(d.lint));
            continue;
        }
        match by_file.iter_mut().find(|(f, _)| *f == d.file) {
            Some((_, found)) => found.push(i),
            None => by_file.push((d.file, vec![i])),
        }
    }
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, by_file.len().max(1));
    let mut shares: Vec<Vec<(usize, Vec<usize>)>> = vec![Vec::new(); workers];
    for (n, file) in by_file.into_iter().enumerate() {
        shares[n % workers].push(file);
    }
    let mut done: Vec<(usize, Result<Fix, &'static str>)> = std::thread::scope(|s| {
        let running: Vec<_> = shares
            .into_iter()
            .map(|share| {
                std::thread::Builder::new()
                    .stack_size(PARSE_STACK_BYTES)
                    .spawn_scoped(s, move || Fixer::new(a).files(&share))
            })
            .collect();
        running
            .into_iter()
            .flat_map(|r| match r.map(|handle| handle.join()) {
                Ok(Ok(out)) => out,
                Ok(Err(panic)) => std::panic::resume_unwind(panic),
                Err(e) => panic!("cannot start the parsing thread: {e}"),
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    let mut out = Vec::new();
    for (i, fix) in done {
        match fix {
            Ok(fix) => out.push(fix),
            Err(why) => {
                reasons.insert(a.diagnostics[i].fingerprint.clone(), why);
            }
        }
    }
    (out, reasons)
}

const NOT_IN_A_FUNCTION: &str = "its round trips are not sent from one function's body";
const DOES_NOT_PARSE: &str = "its file does not parse";
const NOT_WRITTEN_PLAIN: &str =
    "the pool is not written as a plain argument or receiver of the call (a macro, a helper's result)";

/// Why a finding of a lint that has no automatic fix has none: what fixing it takes.
fn no_fixer(lint: &str) -> &'static str {
    match lint {
        "query-in-loop" => "one statement for all the items (`WHERE id = ANY($1)`, a join) is written against the schema, by hand",
        "over-budget" | "unrouted-over-budget" => "a route's total: fixing the findings on its path brings it down",
        "chatty-transaction" => "moving reads out of a transaction, or its statements into one, changes what they see: the code's owner decides",
        "stale-read-after-write" => "which pool a read must use after a write is the code's owner's choice (the primary, or a wait for the replica)",
        "residency-violation" => "where data may live is a policy decision: route the query to a database in an allowed region",
        "unused-allow" => "the allow comment may be kept on purpose: delete it by hand",
        "unused-config" => "the entry may name code on another branch: edit hopcheck.toml by hand",
        "parse-error" => "the file must be fixed so that it parses",
        _ => "no automatic fix for this lint",
    }
}

/// A text with edits applied (edits must not overlap; they are applied from the end, and of two that
/// start at one place, an insertion lands before a replacement).
pub fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse((e.start, e.end)));
    let mut out = text.to_string();
    for e in sorted {
        if e.start <= e.end
            && e.end <= out.len()
            && out.is_char_boundary(e.start)
            && out.is_char_boundary(e.end)
        {
            out.replace_range(e.start..e.end, &e.text);
        }
    }
    out
}

/// A read sent on a pool, outside any transaction: one that may run beside another.
fn pool_read(t: &Trip) -> bool {
    t.kind == TripKind::Query
        && t.access == Some(Access::Read)
        && !t.on_connection
        && !t.in_transaction
        && !t.service
        && !t.in_process
}

/// Whether a function, with all it calls, sends only reads on a pool, at least one, and calls nothing
/// that could not be resolved: joining two such calls changes no write's order.
fn reads_only(a: &Analysis, function: usize) -> bool {
    let mut reads = 0;
    let mut other = false;
    for f in a.model.reach(function) {
        for step in &a.model.func(f).body {
            step.walk(&mut |s| match s {
                Step::Trip(t) if t.in_process => {}
                Step::Trip(t) if pool_read(t) => reads += 1,
                Step::Trip(_) => other = true,
                Step::Call(c) if c.unresolved => other = true,
                _ => {}
            });
        }
    }
    reads > 0 && !other
}

/// The error type each async function of a file that returns a `Result` spells, as the result with its
/// value left out (`sqlx::Result<_>`, `Result<_,AppError>`), by its name and the line of its `fn`.
fn error_types(parsed: &Parsed) -> HashMap<(String, u32), String> {
    let file = &parsed.ast;
    let mut sigs = Signatures::default();
    sigs.visit_file(file);
    let mut out = HashMap::new();
    for sig in sigs.0 {
        if sig.asyncness.is_none() {
            continue;
        }
        let syn::ReturnType::Type(_, ty) = &sig.output else {
            continue;
        };
        let syn::Type::Path(tp) = &**ty else {
            continue;
        };
        let Some(last) = tp.path.segments.last() else {
            continue;
        };
        let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
            continue;
        };
        if last.ident != "Result" {
            continue;
        }
        let rest: String = args
            .args
            .iter()
            .skip(1)
            .map(|g| format!(",{}", strip_ws(&g.to_token_stream().to_string())))
            .collect();
        let prefix: Vec<String> = tp
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        let line = parsed.line(sig.fn_token.span.start()) as u32;
        out.insert(
            (sig.ident.to_string(), line),
            format!("{}<_{rest}>", prefix.join("::")),
        );
    }
    out
}

/// The byte offset where each line of a text starts.
fn line_starts(source: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(source.match_indices('\n').map(|(i, _)| i + 1));
    starts
}

/// Every function signature of a file.
#[derive(Default)]
struct Signatures<'ast>(Vec<&'ast syn::Signature>);

impl<'ast> Visit<'ast> for Signatures<'ast> {
    fn visit_signature(&mut self, s: &'ast syn::Signature) {
        self.0.push(s);
    }
}

/// Whether two edits touch the same text: their ranges intersect, an insertion falls strictly inside
/// the other's range, or both insert at one place (their order would be a guess).
pub fn overlap(a: &Edit, b: &Edit) -> bool {
    if a.start == a.end && b.start == b.end {
        return a.start == b.start;
    }
    let inside = |p: usize, e: &Edit| e.start < p && p < e.end;
    if a.start == a.end {
        return inside(a.start, b);
    }
    if b.start == b.end {
        return inside(b.start, a);
    }
    a.start < b.end && b.start < a.end
}

/// Whether a Rust file's text parses.
pub fn parses(text: &str) -> bool {
    on_parse_thread(|| syn::parse_file(text).is_ok())
}

/// Runs `f` on a new thread with a large stack: syn recurses deeply, and the span table that parsing
/// fills belongs to the thread, so it goes away with it.
fn on_parse_thread<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    std::thread::scope(|s| {
        let run = std::thread::Builder::new()
            .stack_size(PARSE_STACK_BYTES)
            .spawn_scoped(s, f);
        match run.map(|handle| handle.join()) {
            Ok(Ok(out)) => out,
            Ok(Err(panic)) => std::panic::resume_unwind(panic),
            Err(e) => panic!("cannot start the parsing thread: {e}"),
        }
    })
}

// ---------------------------------------------------------------------------------------------------
// Computing fixes.

/// One parsed text, a whole file or one function of it: its syntax tree, and where the file's lines
/// start.
struct Parsed {
    ast: syn::File,
    starts: Vec<usize>,
    /// The lines of the file before the parsed text (0 for a whole file): a span's line in the tree,
    /// plus this, is its line in the file.
    base: usize,
    /// For one function's text: its byte range in the file.
    range: Option<(usize, usize)>,
}

impl Parsed {
    fn new(source: &str) -> Option<Parsed> {
        let ast = syn::parse_file(source).ok()?;
        Some(Parsed {
            ast,
            starts: line_starts(source),
            base: 0,
            range: None,
        })
    }

    /// The lines `first..=last` of the file (a function from the line of its `fn` to that of its closing
    /// brace), parsed as a file of that one function. None where they are not one item (a line shared
    /// with another item): the caller parses the whole file instead. A fixer reads the function's
    /// statements, never the code around it, so a tenth of the file is parsed rather than all of it.
    fn function(source: &str, first: u32, last: u32) -> Option<Parsed> {
        let starts = line_starts(source);
        let (first, last) = (first as usize, last as usize);
        if first == 0 || last < first {
            return None;
        }
        let start = *starts.get(first - 1)?;
        let end = starts.get(last).copied().unwrap_or(source.len());
        let ast = syn::parse_file(&source[start..end]).ok()?;
        (ast.items.len() == 1).then_some(Parsed {
            ast,
            starts,
            base: first - 1,
            range: Some((start, end)),
        })
    }

    /// A span's line in the file.
    fn line(&self, lc: LineColumn) -> usize {
        lc.line + self.base
    }

    /// Whether the file, with these edits, still parses. For one function's text with every edit
    /// inside it, that text alone is parsed again, and must still be one item.
    fn parses_with(&self, source: &str, edits: &[Edit]) -> bool {
        if let Some((start, end)) = self.range {
            if edits.iter().all(|e| start <= e.start && e.end <= end) {
                let shifted: Vec<Edit> = edits
                    .iter()
                    .map(|e| Edit {
                        start: e.start - start,
                        end: e.end - start,
                        text: e.text.clone(),
                    })
                    .collect();
                return syn::parse_file(&apply_edits(&source[start..end], &shifted))
                    .is_ok_and(|f| f.items.len() == 1);
            }
        }
        syn::parse_file(&apply_edits(source, edits)).is_ok()
    }

    /// The byte offset of a line and column (in characters) of the parsed text.
    fn offset(&self, source: &str, lc: LineColumn) -> usize {
        let Some(&start) = self.starts.get(self.line(lc).saturating_sub(1)) else {
            return source.len();
        };
        source[start..]
            .char_indices()
            .nth(lc.column)
            .map_or(source.len(), |(i, _)| start + i)
    }

    fn range(&self, source: &str, span: Span) -> (usize, usize) {
        (
            self.offset(source, span.start()),
            self.offset(source, span.end()),
        )
    }
}

struct Fixer<'a> {
    a: &'a Analysis,
    /// By file and a function's first and last lines: its parsed text.
    parsed: HashMap<(usize, (u32, u32)), Option<Parsed>>,
    /// The join macro each crate folder can use, if any.
    joins: HashMap<PathBuf, Option<&'static str>>,
    /// Reads that must stay on the primary: after a write to their database on some path, or before one.
    stay: Option<HashSet<Loc>>,
    /// By function: the error type it spells, where it is async and returns a `Result`.
    errors: HashMap<usize, Option<String>>,
}

impl<'a> Fixer<'a> {
    fn new(a: &'a Analysis) -> Self {
        Fixer {
            a,
            parsed: HashMap::new(),
            joins: HashMap::new(),
            stay: None,
            errors: HashMap::new(),
        }
    }

    /// The syntax tree of a function's text, or of its whole file where its lines are not known or are
    /// not one item of their own; parsed on first use (None where it does not parse).
    fn parsed_fn(&mut self, function: usize) -> Option<&Parsed> {
        let a = self.a;
        let file = a.model.fns.get(function)?.file;
        let f = a.model.func(function);
        let source = &a.model.files[file].source;
        let lines = (f.fn_line, f.end_line);
        self.parsed
            .entry((file, lines))
            .or_insert_with(|| {
                Parsed::function(source, lines.0, lines.1).or_else(|| Parsed::new(source))
            })
            .as_ref()
    }

    /// The parsed text of a finding's function where it is written in the finding's file, else the whole
    /// file.
    fn parsed_in(&mut self, function: usize, file: usize) -> Option<&Parsed> {
        if self
            .a
            .model
            .fns
            .get(function)
            .is_some_and(|r| r.file == file)
        {
            return self.parsed_fn(function);
        }
        let source = &self.a.model.files[file].source;
        self.parsed
            .entry((file, (0, 0)))
            .or_insert_with(|| Parsed::new(source))
            .as_ref()
    }

    /// The fix, or why there is none, of each finding (by index) of these files.
    fn files(mut self, files: &[(usize, Vec<usize>)]) -> Vec<(usize, Result<Fix, &'static str>)> {
        let a = self.a;
        let mut out = Vec::new();
        for (file, findings) in files {
            // The file is parsed only when one of its findings passes what the model can tell (most
            // findings have no fix for a reason that needs no syntax).
            for &i in findings {
                let d = &a.diagnostics[i];
                let fix = match d.lint {
                    "sequential-queries" => self.sequential(d),
                    _ => self.replica(d),
                };
                let fix = fix.and_then(|fix| {
                    let source = &a.model.files[d.file].source;
                    let parses = well_formed(source, &fix.edits)
                        && d.function
                            .and_then(|f| self.parsed_in(f, d.file))
                            .is_some_and(|p| p.parses_with(source, &fix.edits));
                    parses
                        .then_some(fix)
                        .ok_or("the edit would leave code that does not parse")
                });
                out.push((i, fix));
            }
            self.parsed.retain(|(f, _), _| f != file);
        }
        out
    }

    // --- sequential-queries ---------------------------------------------------------------------

    fn sequential(&mut self, d: &Diagnostic) -> Result<Fix, &'static str> {
        let a = self.a;
        let function = d.function.ok_or(NOT_IN_A_FUNCTION)?;
        let mac = self.join_macro(d.file).ok_or(
            "the crate depends on neither tokio (with its `macros` feature) nor futures: there is no `try_join!` to use",
        )?;
        let source = &a.model.files[d.file].source;
        let body = &a.model.func(function).body;
        // The round trips of the finding: its primary place and its related ones.
        let places: HashSet<Loc> = std::iter::once(d.loc)
            .chain(d.related.iter().map(|(l, _)| *l))
            .collect();
        let mut trips: Vec<&Trip> = Vec::new();
        let mut calls: Vec<&Call> = Vec::new();
        let mut others: Vec<usize> = Vec::new();
        for step in body {
            step.walk(&mut |s| match s {
                Step::Trip(t) if places.contains(&t.loc) => trips.push(t),
                Step::Trip(t) => others.push(t.loc.offset as usize),
                Step::Call(c) if c.awaited && places.contains(&c.loc) => calls.push(c),
                Step::Loop(l) => others.push(l.loc.offset as usize),
                Step::Concurrent(c) => others.push(c.loc.offset as usize),
                _ => {}
            });
        }
        // Calls to the project's functions that only read on a pool, with the error type they return.
        let helpers: Vec<(&Call, String)> = calls
            .into_iter()
            .filter_map(|c| {
                let callee = c.resolved?;
                reads_only(a, callee).then_some(())?;
                Some((c, self.error_of(callee)?))
            })
            .collect();
        let reads = trips.iter().filter(|t| pool_read(t)).count();
        if reads + helpers.len() < 2 {
            return Err("not two reads on a pool: a write, a transaction or one connection keeps the order, or a call also writes, cannot be resolved, or fails with another error type");
        }
        let parsed = self.parsed_in(function, d.file).ok_or(DOES_NOT_PARSE)?;
        let mut blocks = Blocks::default();
        blocks.visit_file(&parsed.ast);
        let ctx = StmtCtx {
            source,
            parsed,
            trips: &trips,
            helpers: &helpers,
            others: &others,
            catalog: &a.config.catalog,
        };
        let mut edits = Vec::new();
        let mut joined = 0;
        let mut candidates = 0;
        for block in blocks.0 {
            let mut group: Vec<Candidate> = Vec::new();
            for (i, stmt) in block.stmts.iter().enumerate() {
                let Some(c) = ctx.candidate(i, stmt) else {
                    flush(&mut group, source, mac, &mut edits, &mut joined);
                    continue;
                };
                candidates += 1;
                if !group
                    .last()
                    .is_some_and(|last| joins(source, &group, last, &c))
                {
                    flush(&mut group, source, mac, &mut edits, &mut joined);
                }
                group.push(c);
            }
            flush(&mut group, source, mac, &mut edits, &mut joined);
        }
        if edits.is_empty() && candidates < 2 {
            return Err("the reads are not each a statement of their own, `let x = ….await?;` (one is inside an expression, a `match`, a loop or a closure, or its value is used before the `?`)");
        }
        if edits.is_empty() {
            return Err("one read uses another's result, or they are not adjacent, handle errors apart or borrow one value mutably");
        }
        Ok(Fix {
            file: d.file,
            fingerprint: d.fingerprint.clone(),
            title: format!("run the {joined} reads at once with `{mac}`"),
            edits,
        })
    }

    /// The error type a project function's result carries, as its signature spells the result with its
    /// value left out (`sqlx::Result<_>`, `Result<_, AppError>`): two futures joined by one `try_join!`
    /// must fail alike. None where the signature is not found or returns no `Result`.
    fn error_of(&mut self, function: usize) -> Option<String> {
        let f = self.a.model.func(function);
        let (line, name) = (f.fn_line, f.name.clone());
        // Each function's signature is read once.
        if !self.errors.contains_key(&function) {
            let error = self
                .parsed_fn(function)
                .and_then(|p| error_types(p).remove(&(name, line)));
            self.errors.insert(function, error);
        }
        self.errors.get(&function)?.clone()
    }

    /// `tokio::try_join!` when the crate of the file depends on tokio with its macros, else
    /// `futures::try_join!` when it depends on futures, else none.
    fn join_macro(&mut self, file: usize) -> Option<&'static str> {
        let path = disk_path(self.a, file);
        let dir = path
            .ancestors()
            .skip(1)
            .find(|d| d.join("Cargo.toml").is_file())?
            .to_path_buf();
        *self
            .joins
            .entry(dir.clone())
            .or_insert_with(|| crate_join_macro(&dir))
    }

    // --- read-on-primary ------------------------------------------------------------------------

    fn replica(&mut self, d: &Diagnostic) -> Result<Fix, &'static str> {
        let a = self.a;
        let function = d.function.ok_or(NOT_IN_A_FUNCTION)?;
        let mut found = None;
        for step in &a.model.func(function).body {
            step.walk(&mut |s| {
                if let Step::Trip(t) = s {
                    if t.call_loc == d.loc {
                        found = Some(t);
                    }
                }
            });
        }
        let no_pool = "the read's pool is not one `[pools]` names, so its replica is not known";
        let t = found.ok_or(NOT_IN_A_FUNCTION)?;
        let target = t.target.ok_or(no_pool)?;
        let executor = t.executor.as_deref().ok_or(no_pool)?;
        if !crate::cost::movable(t) || t.on_connection {
            return Err("the read runs on a connection or in a transaction the code holds: moving it changes what it sees");
        }
        if self.stays(t.loc) {
            return Err("a write to the same database comes before or after it on some path: it stays on the primary to read its own writes");
        }
        let head = |e: &str| e.split(['.', '(']).next().unwrap_or("").to_string();
        let (pool, _) = a.config.pools.iter().find(|(key, to)| {
            to.db == target.db
                && to.role == Role::Replica
                && head(key) == head(executor)
                && key != executor
        }).ok_or("`[pools]` maps no replica pool reached the way this read's pool is (`state.db` → `state.read`)")?;
        let other_type =
            "the replica pool `[pools]` names is not a field of the same type as the primary's";
        syn::parse_str::<syn::Expr>(pool).map_err(|_| other_type)?;
        if !same_field_type(a, function, executor, pool) {
            return Err(other_type);
        }
        let source = &a.model.files[d.file].source;
        let parsed = self.parsed_in(function, d.file).ok_or(DOES_NOT_PARSE)?;
        let mut calls = MethodCalls::default();
        calls.visit_file(&parsed.ast);
        let call = calls
            .0
            .into_iter()
            .find(|c| parsed.offset(source, c.method.span().start()) == d.loc.offset as usize)
            .ok_or(NOT_WRITTEN_PLAIN)?;
        let (start, end) = std::iter::once(&*call.receiver)
            .chain(call.args.iter())
            .map(|e| parsed.range(source, core(e).span()))
            .find(|&(s, e)| strip_ws(&source[s..e]) == executor)
            .ok_or(NOT_WRITTEN_PLAIN)?;
        Ok(Fix {
            file: d.file,
            fingerprint: d.fingerprint.clone(),
            title: format!("read from the replica pool `{pool}`"),
            edits: vec![Edit {
                start,
                end,
                text: pool.clone(),
            }],
        })
    }

    /// Whether a read must stay on the primary: `stale-read-after-write` would report it on a replica,
    /// or a write follows it (a replica that lags would lose the update).
    fn stays(&mut self, read: Loc) -> bool {
        let a = self.a;
        let stay = self.stay.get_or_insert_with(|| {
            let any = |_: &Trip| true;
            let paths = crate::rules::stale_read_after_write::path_reads(&a.model, &a.config, &any);
            let mut stay: HashSet<Loc> = paths.stale.into_iter().map(|s| s.read).collect();
            stay.extend(paths.before_write);
            stay
        });
        stay.contains(&read)
    }
}

/// Edits that lie within the text, on character boundaries, and do not overlap one another.
fn well_formed(source: &str, edits: &[Edit]) -> bool {
    let inside = edits.iter().all(|e| {
        e.start <= e.end
            && e.end <= source.len()
            && source.is_char_boundary(e.start)
            && source.is_char_boundary(e.end)
    });
    let apart = edits
        .iter()
        .enumerate()
        .all(|(i, x)| edits[i + 1..].iter().all(|y| !overlap(x, y)));
    inside && apart
}

/// Where the file of the analysis is on disk.
fn disk_path(a: &Analysis, file: usize) -> PathBuf {
    let base = if a.root.is_file() {
        a.root.parent().map(Path::to_path_buf).unwrap_or_default()
    } else {
        a.root.clone()
    };
    base.join(&a.model.files[file].path)
}

/// The join macro a crate can use, from its Cargo.toml (and its workspace's, for inherited entries).
fn crate_join_macro(dir: &Path) -> Option<&'static str> {
    let manifest = read_toml(&dir.join("Cargo.toml"))?;
    let workspace = || {
        dir.ancestors()
            .skip(1)
            .filter_map(|d| read_toml(&d.join("Cargo.toml")))
            .find(|t| t.contains_key("workspace"))
    };
    let tokio = dependency(&manifest, "tokio", &workspace);
    if tokio.is_some_and(|(_, features)| features.iter().any(|f| f == "macros" || f == "full")) {
        return Some("tokio::try_join!");
    }
    // `futures::try_join!` needs its `async-await` feature, on by default.
    let futures = dependency(&manifest, "futures", &workspace);
    if futures
        .is_some_and(|(defaults, features)| defaults || features.iter().any(|f| f == "async-await"))
    {
        return Some("futures::try_join!");
    }
    None
}

fn read_toml(path: &Path) -> Option<toml::Table> {
    toml::from_str(&std::fs::read_to_string(path).ok()?).ok()
}

/// A normal dependency of a manifest (in `[dependencies]` or a `[target.…]` table): whether it keeps
/// its default features, and the features it turns on (with the workspace's, for `workspace = true`).
fn dependency(
    manifest: &toml::Table,
    name: &str,
    workspace: &dyn Fn() -> Option<toml::Table>,
) -> Option<(bool, Vec<String>)> {
    let mut tables: Vec<&toml::Table> = Vec::new();
    tables.extend(manifest.get("dependencies").and_then(|d| d.as_table()));
    if let Some(targets) = manifest.get("target").and_then(|t| t.as_table()) {
        tables.extend(
            targets
                .values()
                .filter_map(|t| t.get("dependencies").and_then(|d| d.as_table())),
        );
    }
    let entry = tables.iter().find_map(|t| t.get(name))?;
    let mut out = entry_features(entry);
    let inherited = entry
        .get("workspace")
        .and_then(|w| w.as_bool())
        .unwrap_or(false);
    if inherited {
        let root = workspace()?;
        let base = root
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(|d| d.get(name))?;
        let (defaults, features) = entry_features(base);
        out.0 = defaults;
        out.1.extend(features);
    }
    Some(out)
}

fn entry_features(entry: &toml::Value) -> (bool, Vec<String>) {
    let defaults = entry
        .get("default-features")
        .or_else(|| entry.get("default_features"))
        .and_then(|v| v.as_bool())
        .unwrap_or(true);
    let features = entry
        .get("features")
        .and_then(|f| f.as_array())
        .map(|f| {
            f.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    (defaults, features)
}

/// When the state type of the executor is known, the replica pool must be a field of it of the same
/// type as the primary's (`state.read` and `state.db` both `PgPool`).
fn same_field_type(a: &Analysis, function: usize, executor: &str, pool: &str) -> bool {
    let parts = |e: &str| -> Option<(String, String)> {
        let mut it = e.split('.');
        let (head, field) = (it.next()?, it.next()?);
        it.next()
            .is_none()
            .then(|| (head.to_string(), field.to_string()))
    };
    let (Some((head, primary)), Some((_, replica))) = (parts(executor), parts(pool)) else {
        return true;
    };
    let f = a.model.func(function);
    let Some((_, ty)) = f.params.iter().find(|(n, _)| *n == head) else {
        return true;
    };
    let Some(facts) = a
        .model
        .files
        .iter()
        .flat_map(|file| &file.types)
        .find(|t| t.name == *ty && !t.fields.is_empty())
    else {
        return true;
    };
    let field = |name: &str| facts.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t);
    match (field(&primary), field(&replica)) {
        (_, None) => false,
        (Some(p), Some(r)) => p == r,
        (None, Some(_)) => true,
    }
}

fn strip_ws(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The expression an executor argument names (what the facts record as the executor).
fn core(e: &syn::Expr) -> &syn::Expr {
    crate::facts::driver::executor_core(e).0
}

/// Every block of a file, outermost first.
#[derive(Default)]
struct Blocks<'ast>(Vec<&'ast syn::Block>);

impl<'ast> Visit<'ast> for Blocks<'ast> {
    fn visit_block(&mut self, b: &'ast syn::Block) {
        self.0.push(b);
        syn::visit::visit_block(self, b);
    }
}

/// Every method call of a file.
#[derive(Default)]
struct MethodCalls<'ast>(Vec<&'ast syn::ExprMethodCall>);

impl<'ast> Visit<'ast> for MethodCalls<'ast> {
    fn visit_expr_method_call(&mut self, c: &'ast syn::ExprMethodCall) {
        self.0.push(c);
        syn::visit::visit_expr_method_call(self, c);
    }
}

/// What statements are read against.
struct StmtCtx<'s> {
    source: &'s str,
    parsed: &'s Parsed,
    /// The finding's round trips.
    trips: &'s [&'s Trip],
    /// Its calls to the project's functions that only read, with the error type each returns.
    helpers: &'s [(&'s Call, String)],
    /// Where the function's other round trips, loops and concurrent groups are.
    others: &'s [usize],
    catalog: &'s crate::catalog::Catalog,
}

/// A statement `let PAT = EXPR.await?;` whose EXPR is one independent read of the finding.
struct Candidate<'s> {
    /// It has lint attributes: they stay above the joined statement, so it can only start a group.
    attributed: bool,
    index: usize,
    /// The statement, `let` to `;`.
    start: usize,
    end: usize,
    indent: String,
    pat: String,
    ty: Option<String>,
    expr: (usize, usize),
    /// What maps its error before the `?`: `.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)`, or
    /// nothing. The members of a group share it, and the joined statement keeps it.
    catch: String,
    /// The round trip or call, by its id, and those it comes after.
    id: u32,
    after: &'s [u32],
    /// The library that sends it (`sqlx`), or the error type a project function returns: members of a
    /// group fail alike.
    library: String,
    /// Names its pattern binds.
    binds: HashSet<String>,
    /// Its EXPR's tokens.
    tokens: Vec<Tok>,
}

impl<'s> StmtCtx<'s> {
    fn candidate(&self, index: usize, stmt: &syn::Stmt) -> Option<Candidate<'s>> {
        let (source, parsed) = (self.source, self.parsed);
        let syn::Stmt::Local(local) = stmt else {
            return None;
        };
        let init = local.init.as_ref()?;
        // A lint attribute (`#[allow(..)]`) may stay above the joined statement; others change what
        // the statement is.
        let lint = |a: &syn::Attribute| {
            a.path().get_ident().is_some_and(|i| {
                matches!(i.to_string().as_str(), "allow" | "expect" | "warn" | "deny")
            })
        };
        if !local.attrs.iter().all(lint) || init.diverge.is_some() {
            return None;
        }
        let syn::Expr::Try(tried) = &*init.expr else {
            return None;
        };
        let text = |span: Span| {
            let (s, e) = parsed.range(source, span);
            source[s..e].to_string()
        };
        // `EXPR.await?` or `EXPR.await.map_err(F)?`.
        let (awaited, catch) = match &*tried.expr {
            syn::Expr::Await(a) => (a, String::new()),
            syn::Expr::MethodCall(m) if m.method == "map_err" && m.args.len() == 1 => {
                let syn::Expr::Await(a) = &*m.receiver else {
                    return None;
                };
                let f = text(m.args[0].span());
                if f.contains('\n') || f.contains("//") || f.contains("/*") {
                    return None;
                }
                (a, format!(".map_err({f})"))
            }
            _ => return None,
        };
        let base = &*awaited.base;
        let start = parsed.offset(source, local.let_token.span.start());
        let end = parsed.offset(source, local.semi_token.span.end());
        let expr = parsed.range(source, base.span());
        // One round trip of the finding, sent from within EXPR, and nothing else that costs.
        let mut mine = self.trips.iter().filter(|t| {
            let at = t.call_loc.offset as usize;
            expr.0 <= at && at < expr.1
        });
        let trip = mine.next().copied();
        if mine.next().is_some() || self.others.iter().any(|&o| start <= o && o < end) {
            return None;
        }
        // Else one call to a project function that only reads.
        let inside = |at: usize| expr.0 <= at && at < expr.1;
        let helper = match trip {
            Some(_) => None,
            None => {
                let mut mine = self
                    .helpers
                    .iter()
                    .filter(|(c, _)| inside(c.loc.offset as usize));
                let one = mine.next()?;
                if mine.next().is_some() {
                    return None;
                }
                Some(one)
            }
        };
        if trip.is_some_and(|t| !pool_read(t)) {
            return None;
        }
        // `let` starts its line; only `.await?;` (or `.await.map_err(F)?;`) follows EXPR; no comment is
        // lost.
        let line_start = source[..start].rfind('\n').map_or(0, |i| i + 1);
        let indent = &source[line_start..start];
        if !indent.chars().all(|c| c == ' ' || c == '\t') {
            return None;
        }
        let head = &source[start..expr.0];
        if strip_ws(&source[expr.1..end]) != strip_ws(&format!(".await{catch}?;"))
            || head.contains("//")
            || head.contains("/*")
        {
            return None;
        }
        let (pat, ty) = match &local.pat {
            syn::Pat::Type(pt) => (&*pt.pat, Some(&*pt.ty)),
            p => (p, None),
        };
        let pat_text = text(pat.span());
        let ty_text = ty.map(|t| text(t.span()));
        if std::iter::once(&pat_text)
            .chain(&ty_text)
            .any(|t| t.contains('\n'))
        {
            return None;
        }
        if !movable_expr(base) {
            return None;
        }
        let (id, after, library) = match (trip, helper) {
            (Some(t), _) => (
                t.id,
                t.after.as_slice(),
                library_of(base, t, self.catalog, parsed, source)?,
            ),
            (None, Some((c, error))) => (c.id, c.after.as_slice(), format!("fn -> {error}")),
            (None, None) => return None,
        };
        let mut binds = Bindings::default();
        binds.visit_pat(pat);
        let mut tokens = Vec::new();
        flatten(base.to_token_stream(), parsed, source, &mut tokens);
        let control = tokens.iter().any(|t| match &t.kind {
            Kind::Ident(w) => matches!(
                w.as_str(),
                "await" | "return" | "break" | "continue" | "yield"
            ),
            Kind::Punct('?', _) => true,
            _ => false,
        });
        if control {
            return None;
        }
        Some(Candidate {
            attributed: !local.attrs.is_empty(),
            index,
            start,
            end,
            indent: indent.to_string(),
            pat: pat_text,
            ty: ty_text,
            expr,
            catch,
            id,
            after,
            library,
            binds: binds.0,
            tokens,
        })
    }
}

/// Whether a statement can join the group: the next one, nothing but whitespace between, the same
/// library, and independent of every earlier member (by the names it uses and by the facts).
fn joins(source: &str, group: &[Candidate], last: &Candidate, c: &Candidate) -> bool {
    // Between them: whitespace and line comments (they move with the statement before them).
    if c.index != last.index + 1 || source[last.end..c.start].contains("/*") || c.attributed {
        return false;
    }
    if c.library != last.library || c.indent != last.indent || c.catch != last.catch {
        return false;
    }
    let mine = uses(&c.tokens);
    let earlier: HashSet<u32> = group.iter().map(|g| g.id).collect();
    if group.iter().any(|g| !g.binds.is_disjoint(&c.binds))
        || group
            .iter()
            .any(|g| mine.keys().any(|n| g.binds.contains(n)))
        || c.after.iter().any(|id| earlier.contains(id))
    {
        return false;
    }
    // A value one future borrows and another takes, or one borrows mutably, cannot be shared.
    group.iter().all(|g| {
        let theirs = uses(&g.tokens);
        mine.iter().all(|(name, how)| {
            let Some(other) = theirs.get(name) else {
                return true;
            };
            let both: HashSet<Use> = how.union(other).copied().collect();
            !(both.contains(&Use::MutRef) || both.contains(&Use::Ref) && both.contains(&Use::Bare))
        })
    })
}

/// Ends a group: two or more statements become one `try_join!`.
fn flush(
    group: &mut Vec<Candidate>,
    source: &str,
    mac: &str,
    edits: &mut Vec<Edit>,
    joined: &mut usize,
) {
    let members = std::mem::take(group);
    if members.len() < 2 {
        return;
    }
    *joined += members.len();
    edits.extend(join_edits(source, &members, mac));
}

/// The edits that turn a group into one statement. They replace the text around each EXPR and leave
/// EXPR's tokens as written (only the whitespace between them changes), so a fix inside EXPR (a pool
/// swapped for a replica) applies beside this one.
fn join_edits(source: &str, group: &[Candidate], mac: &str) -> Vec<Edit> {
    let indent = &group[0].indent;
    let unit = if indent.contains('\t') { "\t" } else { "    " };
    let nl = if source.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let width = |s: &str| {
        indent
            .chars()
            .map(|c| if c == '\t' { 4 } else { 1 })
            .sum::<usize>()
            + s.chars().count()
    };
    let catch = &group[0].catch;
    let pats: Vec<&str> = group.iter().map(|c| c.pat.as_str()).collect();
    let mut head = format!("let ({})", pats.join(", "));
    if group.iter().any(|c| c.ty.is_some()) {
        let tys: Vec<&str> = group
            .iter()
            .map(|c| c.ty.as_deref().unwrap_or("_"))
            .collect();
        head.push_str(&format!(": ({})", tys.join(", ")));
    }
    head.push_str(&format!(" = {mac}("));
    let flats: Vec<Option<String>> = group.iter().map(|c| flat(source, c)).collect();
    let comments: Vec<Comments> = group
        .windows(2)
        .map(|w| comments(&source[w[0].end..w[1].start]))
        .collect();
    let commented = comments
        .iter()
        .any(|c| c.trailing.is_some() || !c.lines.is_empty());
    let one_line = !commented && flats.iter().all(Option::is_some) && {
        let exprs: Vec<&str> = flats.iter().flatten().map(String::as_str).collect();
        width(&format!("{head}{}){catch}?;", exprs.join(", "))) <= MAX_WIDTH
    };
    let mut edits = Vec::new();
    let (open, between, close) = if one_line {
        (head, ", ".to_string(), format!("){catch}?;"))
    } else {
        (
            format!("{head}{nl}{indent}{unit}"),
            format!(",{nl}{indent}{unit}"),
            format!(",{nl}{indent}){catch}?;"),
        )
    };
    edits.push(Edit {
        start: group[0].start,
        end: group[0].expr.0,
        text: open,
    });
    for (i, c) in group.iter().enumerate() {
        let fits = flats[i]
            .as_ref()
            .is_some_and(|f| one_line || width(&format!("{unit}{f},")) <= MAX_WIDTH);
        if fits {
            // Joined onto one line: the line breaks before `.method` go.
            edits.extend(newline_gaps(source, c).map(|(s, e)| Edit {
                start: s,
                end: e,
                text: String::new(),
            }));
        } else {
            // As written, one level deeper.
            for (s, e) in newline_gaps(source, c) {
                for (k, _) in source[s..e].match_indices('\n') {
                    let at = s + k + 1;
                    if !matches!(source.as_bytes().get(at), Some(b'\n' | b'\r')) {
                        edits.push(Edit {
                            start: at,
                            end: at,
                            text: unit.to_string(),
                        });
                    }
                }
            }
        }
        let next = group.get(i + 1);
        let text = match comments.get(i) {
            None => close.clone(),
            Some(Comments { trailing, lines }) if !one_line => {
                // `EXPR, // its comment`, then the comments above the next statement, above its EXPR.
                let mut text = ",".to_string();
                if let Some(t) = trailing {
                    text.push_str(&format!(" {t}"));
                }
                for line in lines {
                    text.push_str(&format!("{nl}{indent}{unit}{line}"));
                }
                text.push_str(&format!("{nl}{indent}{unit}"));
                text
            }
            Some(_) => between.clone(),
        };
        edits.push(Edit {
            start: c.expr.1,
            end: next.map_or(c.end, |n| n.expr.0),
            text,
        });
    }
    edits
}

/// The line comments between two statements: at the end of the first one's line, and on lines of
/// their own.
struct Comments {
    trailing: Option<String>,
    lines: Vec<String>,
}

fn comments(gap: &str) -> Comments {
    let (first, rest) = gap.split_once('\n').unwrap_or((gap, ""));
    let first = first.trim();
    Comments {
        trailing: (!first.is_empty()).then(|| first.to_string()),
        lines: rest
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

/// The stretches of whitespace or comments between EXPR's tokens that hold a line break.
fn newline_gaps<'c>(
    source: &'c str,
    c: &'c Candidate,
) -> impl Iterator<Item = (usize, usize)> + 'c {
    c.tokens
        .windows(2)
        .map(|w| (w[0].end, w[1].start))
        .filter(move |&(s, e)| s < e && source[s..e].contains('\n'))
}

/// EXPR on one line, when every line break in it comes before a `.method` and no comment is lost.
fn flat(source: &str, c: &Candidate) -> Option<String> {
    let mut out = String::new();
    let mut at = c.expr.0;
    for w in c.tokens.windows(2) {
        let (s, e) = (w[0].end, w[1].start);
        if s >= e || !source[s..e].contains('\n') {
            continue;
        }
        if !source[s..e].trim().is_empty() || !matches!(w[1].kind, Kind::Punct('.', _)) {
            return None;
        }
        out.push_str(&source[at..s]);
        at = e;
    }
    out.push_str(&source[at..c.expr.1]);
    (!out.contains('\n')).then_some(out)
}

/// Whether EXPR can be evaluated inside the macro as it was before `.await`: every `&` borrows a place
/// (a local, a field, a constant), not a temporary that the macro's own `let` would drop while the
/// future still borrows it (`&format!(..)`).
fn movable_expr(e: &syn::Expr) -> bool {
    #[derive(Default)]
    struct Refs(bool);
    impl<'ast> Visit<'ast> for Refs {
        fn visit_expr_reference(&mut self, r: &'ast syn::ExprReference) {
            self.0 |= !place(&r.expr);
            syn::visit::visit_expr_reference(self, r);
        }
    }
    fn place(e: &syn::Expr) -> bool {
        match e {
            syn::Expr::Path(_) | syn::Expr::Lit(_) => true,
            syn::Expr::Field(f) => place(&f.base),
            syn::Expr::Index(i) => place(&i.expr),
            syn::Expr::Paren(p) => place(&p.expr),
            syn::Expr::Group(g) => place(&g.expr),
            syn::Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => place(&u.expr),
            _ => false,
        }
    }
    let mut refs = Refs::default();
    refs.visit_expr(e);
    !refs.0
}

/// The library whose call sends the round trip (`sqlx`), by the catalog: the builder that starts the
/// chain, else the `[[calls]]` entry of the sending method.
fn library_of(
    base: &syn::Expr,
    trip: &Trip,
    catalog: &crate::catalog::Catalog,
    parsed: &Parsed,
    source: &str,
) -> Option<String> {
    let (root, calls) = driver::chain(base);
    if let Some((builder, _, _)) = driver::query_root(root, catalog) {
        return Some(builder.library.clone()).filter(|l| !l.is_empty());
    }
    let sender = calls.iter().find(|c| {
        parsed.offset(source, c.method.span().start()) == trip.call_loc.offset as usize
    })?;
    catalog
        .calls
        .iter()
        .find(|c| c.methods.iter().any(|m| sender.method == m))
        .map(|c| c.library.clone())
        .filter(|l| !l.is_empty())
}

/// The names a pattern binds.
#[derive(Default)]
struct Bindings(HashSet<String>);

impl<'ast> Visit<'ast> for Bindings {
    fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
        self.0.insert(p.ident.to_string());
        syn::visit::visit_pat_ident(self, p);
    }
}

/// One token of an expression, with its bytes in the file.
#[derive(Debug, Clone)]
struct Tok {
    kind: Kind,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Ident(String),
    /// The character, and whether the next punctuation joins it (`::`).
    Punct(char, bool),
    Open,
    Close,
    Literal,
}

/// The tokens of a stream in order, delimiters included, macros' tokens too.
fn flatten(stream: TokenStream, parsed: &Parsed, source: &str, out: &mut Vec<Tok>) {
    for tt in stream {
        let (s, e) = parsed.range(source, tt.span());
        match tt {
            TokenTree::Group(g) => {
                let visible = g.delimiter() != Delimiter::None;
                if visible {
                    let (s, e) = parsed.range(source, g.span_open());
                    out.push(Tok {
                        kind: Kind::Open,
                        start: s,
                        end: e,
                    });
                }
                flatten(g.stream(), parsed, source, out);
                if visible {
                    let (s, e) = parsed.range(source, g.span_close());
                    out.push(Tok {
                        kind: Kind::Close,
                        start: s,
                        end: e,
                    });
                }
            }
            TokenTree::Ident(i) => out.push(Tok {
                kind: Kind::Ident(i.to_string()),
                start: s,
                end: e,
            }),
            TokenTree::Punct(p) => out.push(Tok {
                kind: Kind::Punct(p.as_char(), p.spacing() == proc_macro2::Spacing::Joint),
                start: s,
                end: e,
            }),
            TokenTree::Literal(_) => out.push(Tok {
                kind: Kind::Literal,
                start: s,
                end: e,
            }),
        }
    }
}

/// How an expression uses a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Use {
    /// `&name`
    Ref,
    /// `&mut name`
    MutRef,
    /// `f(name)`: the whole value as an argument, moved unless it is `Copy`.
    Bare,
    Other,
}

/// The names an expression uses (not fields, methods or later path segments), with how.
fn uses(tokens: &[Tok]) -> HashMap<String, HashSet<Use>> {
    let mut out: HashMap<String, HashSet<Use>> = HashMap::new();
    let kind = |i: usize| tokens.get(i).map(|t| &t.kind);
    for (i, t) in tokens.iter().enumerate() {
        let Kind::Ident(name) = &t.kind else { continue };
        let before = i.checked_sub(1).and_then(kind);
        if matches!(before, Some(Kind::Punct('.' | ':', _))) || name == "mut" {
            continue;
        }
        let how = match before {
            Some(Kind::Punct('&', _)) => Use::Ref,
            Some(Kind::Ident(m)) if m == "mut" => match i.checked_sub(2).and_then(kind) {
                Some(Kind::Punct('&', _)) => Use::MutRef,
                _ => Use::Other,
            },
            Some(Kind::Open | Kind::Punct(',', _))
                if matches!(kind(i + 1), Some(Kind::Close | Kind::Punct(',', _))) =>
            {
                Use::Bare
            }
            _ => Use::Other,
        };
        out.entry(name.clone()).or_default().insert(how);
    }
    out
}

// ---------------------------------------------------------------------------------------------------
// Applying fixes: `hopcheck fix`.

/// One file's fixes, applied together.
#[derive(Debug, Clone)]
pub struct FileFix {
    /// Index into the analysis's files.
    pub file: usize,
    /// Where it is on disk.
    pub path: PathBuf,
    /// The text that was analysed, and the text with the fixes.
    pub before: String,
    pub after: String,
    /// The fixes applied, in the findings' order.
    pub fixes: Vec<Fix>,
}

/// The fixes grouped by file: in each, every fix that overlaps none kept before it (the first of two
/// that overlap is kept) and leaves the file parsing.
pub fn by_file(a: &Analysis, fixes: Vec<Fix>) -> Vec<FileFix> {
    let mut out: Vec<FileFix> = Vec::new();
    for fix in fixes {
        let at = match out.iter().position(|f| f.file == fix.file) {
            Some(at) => at,
            None => {
                let before = a.model.files[fix.file].source.clone();
                out.push(FileFix {
                    file: fix.file,
                    path: disk_path(a, fix.file),
                    after: before.clone(),
                    before,
                    fixes: Vec::new(),
                });
                out.len() - 1
            }
        };
        let f = &mut out[at];
        let taken = f.fixes.iter().flat_map(|x| &x.edits);
        if taken
            .clone()
            .any(|e| fix.edits.iter().any(|n| overlap(e, n)))
        {
            continue;
        }
        let edits: Vec<Edit> = taken.chain(&fix.edits).cloned().collect();
        let after = apply_edits(&f.before, &edits);
        if parses(&after) {
            f.after = after;
            f.fixes.push(fix);
        }
    }
    out.retain(|f| !f.fixes.is_empty() && f.after != f.before);
    out
}

/// Why a file was not written.
#[derive(Debug)]
pub enum WriteError {
    /// Its text on disk is no longer the text that was analysed.
    Changed,
    Io(std::io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Changed => write!(f, "it changed since it was analysed"),
            WriteError::Io(e) => write!(f, "{e}"),
        }
    }
}

/// Writes one file's fixes: re-reads it first and leaves it alone if it changed since it was analysed,
/// then writes beside it, reads back and renames.
pub fn write(change: &FileFix) -> Result<(), WriteError> {
    let now = std::fs::read_to_string(&change.path).map_err(WriteError::Io)?;
    if now != change.before {
        return Err(WriteError::Changed);
    }
    crate::atomic::write_atomically(&change.path, &change.after).map_err(WriteError::Io)
}

/// What `hopcheck fix` does with the fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Write,
    /// List them, write nothing.
    DryRun,
    /// Print a unified diff, write nothing.
    Diff,
}

/// `hopcheck fix`: computes the fixes of an analysis and writes, lists or diffs them. Returns the exit
/// status: 0, or 2 when a file could not be written or changed since it was analysed.
pub fn run(a: &Analysis, mode: Mode) -> i32 {
    use std::io::Write;
    let (fixes, reasons) = fixes_and_reasons(a);
    let changes = by_file(a, fixes);
    let mut out = String::new();
    let mut status = 0;
    let (mut findings, mut files) = (0, 0);
    for c in &changes {
        let rel = &a.model.files[c.file].path;
        match mode {
            Mode::Diff => out.push_str(&unified_diff(rel, &c.before, &c.after)),
            Mode::DryRun => {}
            Mode::Write => {
                if let Err(e) = write(c) {
                    match e {
                        WriteError::Changed => eprintln!(
                            "skipped {}: {e}; run `hopcheck fix` again",
                            c.path.display()
                        ),
                        WriteError::Io(_) => {
                            eprintln!("error: cannot write {}: {e}", c.path.display())
                        }
                    }
                    status = 2;
                    continue;
                }
            }
        }
        if mode != Mode::Diff {
            for fix in &c.fixes {
                let d = a
                    .diagnostics
                    .iter()
                    .find(|d| d.fingerprint == fix.fingerprint);
                let (line, col, lint) = d.map_or((0, 0, ""), |d| (d.loc.line, d.loc.col, d.lint));
                out.push_str(&format!("{rel}:{line}:{col}: {lint}: {}\n", fix.title));
            }
        }
        findings += c.fixes.len();
        files += 1;
    }
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let verb = if mode == Mode::Write {
        "fixed"
    } else {
        "would fix"
    };
    let summary = format!(
        "{verb} {} in {}",
        plural(findings, "finding"),
        plural(files, "file")
    );
    let fixed: HashSet<&str> = changes
        .iter()
        .flat_map(|c| &c.fixes)
        .map(|f| f.fingerprint.as_str())
        .collect();
    let by_hand = a
        .diagnostics
        .iter()
        .filter(|d| d.suppressed.is_none() && !fixed.contains(d.fingerprint.as_str()))
        .count();
    let mut summary = match by_hand {
        0 => summary,
        n => format!(
            "{summary}; {} no automatic fix (`hopcheck check` says what to do)",
            if n == 1 {
                "1 finding has".to_string()
            } else {
                format!("{n} findings have")
            }
        ),
    };
    // Why, grouped: the commonest first.
    if by_hand > 0 && mode == Mode::DryRun {
        summary.push_str(":\n");
        let mut why: HashMap<(&str, &str), usize> = HashMap::new();
        for d in a
            .diagnostics
            .iter()
            .filter(|d| d.suppressed.is_none() && !fixed.contains(d.fingerprint.as_str()))
        {
            let reason = reasons
                .get(&d.fingerprint)
                .copied()
                .unwrap_or(no_fixer(d.lint));
            *why.entry((d.lint, reason)).or_default() += 1;
        }
        let mut why: Vec<_> = why.into_iter().collect();
        why.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        let width = why.first().map_or(1, |(_, n)| n.to_string().len());
        for ((lint, reason), n) in why {
            summary.push_str(&format!("  {n:>width$} {lint}: {reason}\n"));
        }
        summary.pop();
    }
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`hopcheck fix --diff | head`) is not an error of the fixes.
    let _ = stdout.write_all(out.as_bytes());
    if mode == Mode::Diff {
        let _ = stdout.flush();
        eprintln!("{summary}");
    } else {
        let _ = writeln!(stdout, "{summary}");
    }
    status
}

/// A unified diff of two texts, by lines, with three lines of context (`--- a/PATH`, `+++ b/PATH`).
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (
        old.split_inclusive('\n').collect(),
        new.split_inclusive('\n').collect(),
    );
    // The common head and tail are kept; the longest common subsequence of the middle is the rest.
    let pre = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suf = a[pre..]
        .iter()
        .rev()
        .zip(b[pre..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[pre..a.len() - suf], &b[pre..b.len() - suf]);
    let mut lcs = vec![vec![0u32; bm.len() + 1]; am.len() + 1];
    for i in (0..am.len()).rev() {
        for j in (0..bm.len()).rev() {
            lcs[i][j] = if am[i] == bm[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    // (tag, line, old line number before it, new line number before it)
    let mut ops: Vec<(char, &str)> = a[..pre].iter().map(|l| (' ', *l)).collect();
    let (mut i, mut j) = (0, 0);
    while i < am.len() || j < bm.len() {
        if i < am.len() && j < bm.len() && am[i] == bm[j] {
            ops.push((' ', am[i]));
            (i, j) = (i + 1, j + 1);
        } else if i < am.len() && (j == bm.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', am[i]));
            i += 1;
        } else {
            ops.push(('+', bm[j]));
            j += 1;
        }
    }
    ops.extend(a[a.len() - suf..].iter().map(|l| (' ', *l)));
    let changed: Vec<usize> = (0..ops.len()).filter(|&k| ops[k].0 != ' ').collect();
    let mut out = String::new();
    if changed.is_empty() {
        return out;
    }
    out.push_str(&format!("--- a/{path}\n+++ b/{path}\n"));
    let mut k = 0;
    while k < changed.len() {
        let first = changed[k].saturating_sub(3);
        while k + 1 < changed.len() && changed[k + 1] - changed[k] <= 7 {
            k += 1;
        }
        let last = (changed[k] + 3).min(ops.len() - 1);
        k += 1;
        let count = |tag: char| {
            ops[..first]
                .iter()
                .filter(|o| o.0 == ' ' || o.0 == tag)
                .count()
        };
        let span = |tag: char| {
            ops[first..=last]
                .iter()
                .filter(|o| o.0 == ' ' || o.0 == tag)
                .count()
        };
        let (os, oc, ns, nc) = (count('-'), span('-'), count('+'), span('+'));
        let start = |s: usize, c: usize| if c == 0 { s } else { s + 1 };
        out.push_str(&format!(
            "@@ -{},{oc} +{},{nc} @@\n",
            start(os, oc),
            start(ns, nc)
        ));
        for (tag, line) in &ops[first..=last] {
            out.push(*tag);
            out.push_str(line);
            if !line.ends_with('\n') {
                out.push_str("\n\\ No newline at end of file\n");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKIO: &str = "[package]\nname = \"svc\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\nsqlx = \"0.8\"\ntokio = { version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }\n";

    /// The topology of the replica snippets: app in Virginia, primary in Frankfurt, replica in Virginia.
    const REPLICA: &str = "deployments = [\"us-east-1\"]\n[databases.main]\nprimary = \"eu-central-1\"\nreplicas = [\"us-east-1\"]\n[pools]\n\"state.db\" = \"main\"\n\"state.read\" = \"main.replica\"\n";

    const HEAD: &str = "use axum::extract::{Path, State};\nuse sqlx::PgPool;\n\nstruct AppState {\n    db: PgPool,\n    read: PgPool,\n}\n\n";

    /// Analyses one file `src/lib.rs` (HEAD, then `body`) of a crate with this Cargo.toml and
    /// hopcheck.toml (none for the default topology).
    fn analyse(manifest: &str, config: Option<&str>, body: &str) -> (tempfile::TempDir, Analysis) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("src")).unwrap();
        std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
        std::fs::write(dir.path().join("src/lib.rs"), format!("{HEAD}{body}")).unwrap();
        let config = match config {
            Some(text) => {
                let path = dir.path().join("hopcheck.toml");
                std::fs::write(&path, text).unwrap();
                crate::config::parse(&path, text).unwrap()
            }
            None => crate::config::Config::default_topology(),
        };
        let a = crate::analyze(dir.path(), config);
        (dir, a)
    }

    /// The fixed text of `src/lib.rs` after HEAD, with every fix applied, and the titles.
    fn fixed(manifest: &str, config: Option<&str>, body: &str) -> (String, Vec<String>) {
        let (_dir, a) = analyse(manifest, config, body);
        let changes = by_file(&a, fixes(&a));
        let titles = changes
            .iter()
            .flat_map(|c| &c.fixes)
            .map(|f| f.title.clone())
            .collect();
        let text = changes
            .first()
            .map_or(a.model.files[0].source.clone(), |c| c.after.clone());
        (text[HEAD.len()..].to_string(), titles)
    }

    const REPO: &str = "mod repo {
    use sqlx::PgPool;
    pub async fn user(db: &PgPool, id: i64) -> sqlx::Result<String> {
        sqlx::query_scalar(\"SELECT name FROM users WHERE id = $1\").bind(id).fetch_one(db).await
    }
    pub async fn orders(db: &PgPool, id: i64) -> sqlx::Result<Vec<i64>> {
        sqlx::query_scalar(\"SELECT id FROM orders WHERE user_id = $1\").bind(id).fetch_all(db).await
    }
    pub async fn seen(db: &PgPool, id: i64) -> sqlx::Result<()> {
        sqlx::query(\"UPDATE users SET seen = now() WHERE id = $1\").bind(id).execute(db).await?;
        Ok(())
    }
    pub async fn teams(db: &PgPool, id: i64) -> Result<Vec<i64>, String> {
        sqlx::query_scalar(\"SELECT team FROM members WHERE user_id = $1\").bind(id).fetch_all(db).await.map_err(|e| e.to_string())
    }
}

";

    #[test]
    fn a_lint_attribute_above_the_first_read_stays_above_the_joined_statement() {
        let body = "async fn h(State(db): State<PgPool>) -> sqlx::Result<()> {
    #[allow(clippy::needless_question_mark)]
    let a: i64 = sqlx::query_scalar(\"SELECT count(*) FROM users\").fetch_one(&db).await?;
    let b: i64 = sqlx::query_scalar(\"SELECT count(*) FROM teams\").fetch_one(&db).await?;
    println!(\"{a} {b}\");
    Ok(())
}
";
        let (text, titles) = fixed(TOKIO, None, body);
        assert_eq!(titles.len(), 1, "{text}");
        assert!(
            text.contains("    #[allow(clippy::needless_question_mark)]\n    let (a, b): (i64, i64) = tokio::try_join!("),
            "{text}"
        );
    }

    #[test]
    fn independent_calls_to_helpers_that_only_read_are_joined() {
        let body = format!(
            "{REPO}async fn h(State(db): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {{
    let name = repo::user(&db, id).await?;
    let orders = repo::orders(&db, id).await?;
    println!(\"{{name}} {{}}\", orders.len());
    Ok(())
}}
"
        );
        let (text, titles) = fixed(TOKIO, None, &body);
        assert!(
            text.contains(
                "    let (name, orders) = tokio::try_join!(repo::user(&db, id), repo::orders(&db, id))?;\n"
            ),
            "{text}"
        );
        assert_eq!(titles, ["run the 2 reads at once with `tokio::try_join!`"]);
    }

    #[test]
    fn a_helper_that_writes_or_fails_otherwise_is_not_joined() {
        // A write keeps its place; a helper whose error type differs cannot share a `try_join!`, even
        // where both errors are mapped alike.
        for (first, second) in [
            ("repo::user(&db, id).await?", "repo::seen(&db, id).await?"),
            (
                "repo::user(&db, id).await.map_err(|e| e.to_string())?",
                "repo::teams(&db, id).await.map_err(|e| e.to_string())?",
            ),
        ] {
            let body = format!(
                "{REPO}async fn h(State(db): State<PgPool>, Path(id): Path<i64>) -> Result<(), String> {{
    let name = {first};
    let other = {second};
    println!(\"{{name}} {{other:?}}\");
    Ok(())
}}
"
            );
            let (text, titles) = fixed(TOKIO, None, &body);
            assert!(titles.is_empty(), "{second}: {text}");
        }
        // The same two, each with an error type its partner shares, are joined.
        let body = format!(
            "{REPO}async fn h(State(db): State<PgPool>, Path(id): Path<i64>) -> Result<(), String> {{
    let name = repo::user(&db, id).await.map_err(|e| e.to_string())?;
    let other = repo::orders(&db, id).await.map_err(|e| e.to_string())?;
    println!(\"{{name}} {{other:?}}\");
    Ok(())
}}
"
        );
        assert_eq!(fixed(TOKIO, None, &body).1.len(), 1);
    }

    #[test]
    fn independent_reads_are_joined_on_one_line_when_it_fits() {
        let body = "async fn h(State(db): State<PgPool>) -> sqlx::Result<()> {
    let q = sqlx::query_scalar(\"SELECT count(*) FROM users\");
    let r = sqlx::query_scalar(\"SELECT count(*) FROM teams\");
    let a: i64 = q.fetch_one(&db).await?;
    let b: i64 = r.fetch_one(&db).await?;
    println!(\"{a} {b}\");
    Ok(())
}
";
        let (text, titles) = fixed(TOKIO, None, body);
        assert_eq!(
            text,
            body.replace(
                "    let a: i64 = q.fetch_one(&db).await?;\n    let b: i64 = r.fetch_one(&db).await?;",
                "    let (a, b): (i64, i64) = tokio::try_join!(q.fetch_one(&db), r.fetch_one(&db))?;"
            )
        );
        assert_eq!(titles, ["run the 2 reads at once with `tokio::try_join!`"]);
    }

    #[test]
    fn typed_lets_keep_their_types_and_long_ones_take_a_line_each() {
        let body = "async fn h(State(db): State<PgPool>) -> sqlx::Result<()> {
    let users: i64 = sqlx::query_scalar(\"SELECT count(*) FROM users\")
        .fetch_one(&db)
        .await?;
    let orders: i64 = sqlx::query_scalar(\"SELECT count(*) FROM orders\").fetch_one(&db).await?;
    let teams = sqlx::query_scalar::<_, i64>(\"SELECT count(*) FROM teams\").fetch_one(&db).await?;
    println!(\"{users} {orders} {teams}\");
    Ok(())
}
";
        let (text, _) = fixed(TOKIO, None, body);
        assert_eq!(
            text,
            "async fn h(State(db): State<PgPool>) -> sqlx::Result<()> {
    let (users, orders, teams): (i64, i64, _) = tokio::try_join!(
        sqlx::query_scalar(\"SELECT count(*) FROM users\").fetch_one(&db),
        sqlx::query_scalar(\"SELECT count(*) FROM orders\").fetch_one(&db),
        sqlx::query_scalar::<_, i64>(\"SELECT count(*) FROM teams\").fetch_one(&db),
    )?;
    println!(\"{users} {orders} {teams}\");
    Ok(())
}
"
        );
    }

    #[test]
    fn a_chain_too_long_for_one_line_keeps_its_lines_one_level_deeper() {
        let body = "async fn h(State(db): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {
    let name: String = sqlx::query_scalar(\"SELECT name FROM users WHERE id = $1 AND deleted_at IS NULL AND banned = false\")
        .bind(id)
        .fetch_one(&db)
        .await?;
    // The orders, counted.
    let orders: i64 = sqlx::query_scalar(\"SELECT count(*) FROM orders WHERE user_id = $1\").bind(id).fetch_one(&db).await?;
    println!(\"{name} {orders}\");
    Ok(())
}
";
        let (text, _) = fixed(TOKIO, None, body);
        assert_eq!(
            text,
            "async fn h(State(db): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {
    let (name, orders): (String, i64) = tokio::try_join!(
        sqlx::query_scalar(\"SELECT name FROM users WHERE id = $1 AND deleted_at IS NULL AND banned = false\")
            .bind(id)
            .fetch_one(&db),
        // The orders, counted.
        sqlx::query_scalar(\"SELECT count(*) FROM orders WHERE user_id = $1\").bind(id).fetch_one(&db),
    )?;
    println!(\"{name} {orders}\");
    Ok(())
}
"
        );
    }

    #[test]
    fn a_read_that_uses_an_earlier_binding_is_not_joined_with_it() {
        let body = "async fn h(State(db): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {
    let team: i64 = sqlx::query_scalar(\"SELECT team_id FROM users WHERE id = $1\").bind(id).fetch_one(&db).await?;
    let name: String = sqlx::query_scalar(\"SELECT name FROM teams WHERE id = $1\").bind(team).fetch_one(&db).await?;
    println!(\"{name}\");
    Ok(())
}
";
        let (text, titles) = fixed(TOKIO, None, body);
        assert_eq!(text, body);
        assert!(titles.is_empty());
        // The first two are independent; the third uses the first: two are joined, the third waits.
        let body = "async fn h(State(db): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {
    let team: i64 = sqlx::query_scalar(\"SELECT team_id FROM users WHERE id = $1\").bind(id).fetch_one(&db).await?;
    let n: i64 = sqlx::query_scalar(\"SELECT count(*) FROM orders\").fetch_one(&db).await?;
    let name: String = sqlx::query_scalar(\"SELECT name FROM teams WHERE id = $1\").bind(team).fetch_one(&db).await?;
    println!(\"{n} {name}\");
    Ok(())
}
";
        let (text, _) = fixed(TOKIO, None, body);
        assert_eq!(
            text,
            "async fn h(State(db): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {
    let (team, n): (i64, i64) = tokio::try_join!(
        sqlx::query_scalar(\"SELECT team_id FROM users WHERE id = $1\").bind(id).fetch_one(&db),
        sqlx::query_scalar(\"SELECT count(*) FROM orders\").fetch_one(&db),
    )?;
    let name: String = sqlx::query_scalar(\"SELECT name FROM teams WHERE id = $1\").bind(team).fetch_one(&db).await?;
    println!(\"{n} {name}\");
    Ok(())
}
"
        );
    }

    #[test]
    fn reads_that_map_their_errors_alike_are_joined_and_keep_the_mapping() {
        let body = "async fn h(State(db): State<PgPool>) -> Result<(), String> {
    let a: i64 = sqlx::query_scalar(\"SELECT 1\").fetch_one(&db).await.map_err(|e| e.to_string())?;
    let b: i64 = sqlx::query_scalar(\"SELECT 2\").fetch_one(&db).await.map_err(|e| e.to_string())?;
    println!(\"{a} {b}\");
    Ok(())
}
";
        assert_eq!(
            fixed(TOKIO, None, body).0,
            "async fn h(State(db): State<PgPool>) -> Result<(), String> {
    let (a, b): (i64, i64) = tokio::try_join!(
        sqlx::query_scalar(\"SELECT 1\").fetch_one(&db),
        sqlx::query_scalar(\"SELECT 2\").fetch_one(&db),
    ).map_err(|e| e.to_string())?;
    println!(\"{a} {b}\");
    Ok(())
}
"
        );
    }

    #[test]
    fn reads_that_handle_errors_apart_are_not_joined() {
        for (x, y) in [
            (
                ".map_err(|e| e.to_string())?",
                ".map_err(|_| String::new())?",
            ),
            (".unwrap_or(0)", ".unwrap_or(0)"),
            ("?", ".map_err(|e| e.to_string())?"),
        ] {
            let body = format!(
                "async fn h(State(db): State<PgPool>) -> Result<(), String> {{
    let a: i64 = sqlx::query_scalar(\"SELECT 1\").fetch_one(&db).await{x};
    let b: i64 = sqlx::query_scalar(\"SELECT 2\").fetch_one(&db).await{y};
    println!(\"{{a}} {{b}}\");
    Ok(())
}}
"
            );
            assert_eq!(fixed(TOKIO, None, &body).0, body);
        }
    }

    #[test]
    fn nothing_is_joined_without_a_join_macro_or_on_one_connection() {
        let body = "async fn h(State(db): State<PgPool>) -> sqlx::Result<()> {
    let a: i64 = sqlx::query_scalar(\"SELECT 1\").fetch_one(&db).await?;
    let b: i64 = sqlx::query_scalar(\"SELECT 2\").fetch_one(&db).await?;
    println!(\"{a} {b}\");
    Ok(())
}
";
        let bare = "[package]\nname = \"svc\"\nversion = \"0.1.0\"\n\n[dependencies]\nsqlx = \"0.8\"\ntokio = \"1\"\n";
        assert_eq!(fixed(bare, None, body).0, body);
        let futures = format!("{bare}futures = \"0.3\"\n");
        assert!(fixed(&futures, None, body)
            .0
            .contains("let (a, b): (i64, i64) = futures::try_join!("));
        let on_a_connection = "async fn h(State(db): State<PgPool>) -> sqlx::Result<()> {
    let mut conn = db.acquire().await?;
    let a: i64 = sqlx::query_scalar(\"SELECT 1\").fetch_one(&mut *conn).await?;
    let b: i64 = sqlx::query_scalar(\"SELECT 2\").fetch_one(&mut *conn).await?;
    println!(\"{a} {b}\");
    Ok(())
}
";
        assert_eq!(fixed(TOKIO, None, on_a_connection).0, on_a_connection);
    }

    #[test]
    fn a_temporary_the_future_borrows_or_another_library_keeps_them_apart() {
        let body = "async fn h(State(db): State<PgPool>, Path(id): Path<i64>) -> sqlx::Result<()> {
    let a: i64 = sqlx::query_scalar(&format!(\"SELECT {id}\")).fetch_one(&db).await?;
    let b: i64 = sqlx::query_scalar(\"SELECT 2\").fetch_one(&db).await?;
    println!(\"{a} {b}\");
    Ok(())
}
";
        assert_eq!(fixed(TOKIO, None, body).0, body);
        let config = "[[builders]]\nlibrary = \"repo\"\nfunctions = [\"Repo::select\"]\nsend = [\"fetch_one\"]\naccess = \"read\"\n";
        let body = "async fn h(State(db): State<PgPool>) -> sqlx::Result<()> {
    let a: i64 = sqlx::query_scalar(\"SELECT 1\").fetch_one(&db).await?;
    let b: i64 = Repo::select(\"users\").fetch_one(&db).await?;
    println!(\"{a} {b}\");
    Ok(())
}
";
        let (_dir, a) = analyse(TOKIO, Some(config), body);
        assert!(
            a.diagnostics.iter().any(|d| d.lint == "sequential-queries"),
            "the run is reported"
        );
        assert!(fixes(&a).is_empty());
    }

    #[test]
    fn a_read_on_the_primary_takes_the_replica_pool() {
        let body = "async fn h(State(state): State<AppState>, Path(id): Path<i64>) -> sqlx::Result<String> {
    sqlx::query_scalar(\"SELECT name FROM users WHERE id = $1\").bind(id).fetch_one(&state.db).await
}
";
        let (text, titles) = fixed(TOKIO, Some(REPLICA), body);
        assert_eq!(text, body.replace("&state.db", "&state.read"));
        assert_eq!(titles, ["read from the replica pool `state.read`"]);
        // A replica pool of another variable than the executor's is not guessed at.
        let other = REPLICA.replace("\"state.read\"", "\"read_pool\"");
        assert_eq!(fixed(TOKIO, Some(&other), body).0, body);
    }

    #[test]
    fn a_read_after_a_write_stays_on_the_primary() {
        let body = "async fn h(State(state): State<AppState>, Path(id): Path<i64>) -> sqlx::Result<String> {
    sqlx::query(\"UPDATE users SET seen = now() WHERE id = $1\").bind(id).execute(&state.db).await?;
    sqlx::query_scalar(\"SELECT name FROM users WHERE id = $1\").bind(id).fetch_one(&state.db).await
}
";
        assert_eq!(fixed(TOKIO, Some(REPLICA), body).0, body);
    }

    #[test]
    fn edits_apply_from_the_end_and_an_insertion_goes_before_a_replacement() {
        let edit = |start, end, text: &str| Edit {
            start,
            end,
            text: text.to_string(),
        };
        let text = "let a = pool;";
        let edits = [edit(8, 12, "replica"), edit(8, 8, "&"), edit(0, 3, "const")];
        assert_eq!(apply_edits(text, &edits), "const a = &replica;");
        assert!(overlap(&edit(2, 6, ""), &edit(5, 9, "")));
        assert!(overlap(&edit(4, 4, "x"), &edit(2, 6, "")));
        assert!(overlap(&edit(4, 4, "x"), &edit(4, 4, "y")));
        assert!(!overlap(&edit(2, 2, "x"), &edit(2, 6, "")));
        assert!(!overlap(&edit(2, 4, ""), &edit(4, 6, "")));
        // Edits out of range or inside a character are left out.
        assert_eq!(apply_edits("é", &[edit(1, 2, "x"), edit(5, 6, "y")]), "é");
    }

    #[test]
    fn the_diff_is_unified_with_three_lines_of_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nD\ne\nf\ng\nh\n";
        assert_eq!(
            unified_diff("x.rs", old, new),
            "--- a/x.rs\n+++ b/x.rs\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+D\n e\n f\n g\n"
        );
        assert_eq!(unified_diff("x.rs", old, old), "");
        assert_eq!(
            unified_diff("x.rs", "a", "b"),
            "--- a/x.rs\n+++ b/x.rs\n@@ -1,1 +1,1 @@\n-a\n\\ No newline at end of file\n+b\n\\ No newline at end of file\n"
        );
    }
}

//! Classifies a SQL statement string found in Rust source as a read (which may
//! be served by a read replica) or a write (which must go to the primary), and
//! names the tables it touches for diagnostics. It parses the text with
//! `sqlparser` (PostgreSQL, then MySQL, SQLite and generic dialects) and falls
//! back to a conservative keyword scan when no dialect accepts it; anything it
//! cannot understand is treated as a write. It only ever inspects the text: it
//! never executes SQL, opens connections, or caches results.

use sqlparser::ast::{
    CopySource, Expr, FromTable, FunctionArg, FunctionArgExpr, FunctionArguments, InTarget,
    ObjectName, ObjectNamePart, ObjectType, Query, Select, SelectItem, SetExpr, Statement, Table,
    TableFactor, TableObject, TableWithJoins, UpdateTableFromKind,
};
use sqlparser::dialect::{Dialect, GenericDialect, MySqlDialect, PostgreSqlDialect, SQLiteDialect};
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

pub use crate::domain::Access;

/// How the classification was reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ClassifiedBy {
    /// A `sqlparser` dialect parsed the whole text.
    Parser,
    /// No dialect parsed the text, so the leading keyword decided.
    Keyword,
    /// The text had no keyword at all.
    Unknown,
}

/// The classification of one SQL string.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SqlClass {
    /// Whether the statement reads or writes.
    pub access: Access,
    /// How the access was decided.
    pub by: ClassifiedBy,
    /// The first keyword upper-cased, e.g. "SELECT", "INSERT", "WITH"; empty if none.
    pub verb: String,
    /// The tables the statement names (lower-case, unqualified and
    /// schema-qualified as written, deduplicated, in order of appearance),
    /// best effort, for messages.
    pub tables: Vec<String>,
}

/// The parser's own recursion limit; deeper statements fail to parse instead of
/// exhausting the stack.
const PARSER_RECURSION_LIMIT: usize = 64;

/// Inputs nested deeper than this many brackets skip the parser entirely.
const MAX_NESTING_DEPTH: usize = 200;

/// Inputs with more tokens than this skip the parser. Long operator chains
/// (`a OR b OR c …`) parse iteratively into trees as deep as the chain, and
/// dropping or walking such a tree recurses once per level, so the token count
/// bounds the stack that later needs.
const MAX_PARSE_TOKENS: usize = 10_000;

/// Inputs with more of these keywords than [`MAX_STATEMENT_NESTERS`] skip the
/// parser. Every statement nested inside another (`EXPLAIN EXPLAIN …`,
/// `PREPARE p AS …`, `IF … END IF` and other blocks) needs one of them, and
/// `sqlparser` recurses through statements without its stack-growing guard,
/// using tens of kilobytes of stack per level in unoptimised builds.
const STATEMENT_NESTERS: &[&str] = &["END", "EXPLAIN", "DESCRIBE", "DESC", "PREPARE", "RULE"];

/// The most statement-nesting keywords an input may have and still be parsed.
const MAX_STATEMENT_NESTERS: usize = 16;

/// How deep the table walk descends into nested queries and expressions.
const MAX_WALK_DEPTH: usize = 64;

/// Functions that change state even when called from a `SELECT`.
const WRITE_FUNCTIONS: &[&str] = &[
    "nextval",
    "setval",
    "pg_advisory_lock",
    "pg_advisory_lock_shared",
    "pg_advisory_xact_lock",
    "pg_advisory_xact_lock_shared",
    "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared",
    "pg_try_advisory_xact_lock",
    "pg_try_advisory_xact_lock_shared",
    "pg_advisory_unlock",
    "pg_advisory_unlock_all",
    "pg_notify",
    "set_config",
    "lo_create",
    "lo_creat",
    "lo_import",
    "lo_unlink",
    "lo_from_bytea",
    "lo_put",
    "txid_current",
    "pg_current_xact_id",
    "get_lock",
];

/// Leading keywords that the keyword fallback treats as reads.
const READ_VERBS: &[&str] = &["SELECT", "WITH", "VALUES", "SHOW", "TABLE", "EXPLAIN"];

/// Keywords that mark a data-modifying statement nested in a read-looking one.
const WRITE_KEYWORDS: &[&str] = &["INSERT", "UPDATE", "DELETE", "MERGE"];

/// Classifies one SQL string; it never panics and treats anything unclear as a write.
pub fn classify(sql: &str) -> SqlClass {
    let verb = first_keyword(sql);
    if verb.is_empty() {
        return SqlClass {
            access: Access::Write,
            by: ClassifiedBy::Unknown,
            verb,
            tables: Vec::new(),
        };
    }
    if max_nesting_depth(sql) <= MAX_NESTING_DEPTH {
        if let Some(class) = classify_parsed(sql, &verb) {
            return class;
        }
    }
    classify_keywords(sql, verb)
}

/// Tries each dialect in turn and classifies from the first AST produced.
fn classify_parsed(sql: &str, verb: &str) -> Option<SqlClass> {
    let dialects: [&dyn Dialect; 4] = [
        &PostgreSqlDialect {},
        &MySqlDialect {},
        &SQLiteDialect {},
        &GenericDialect {},
    ];
    for dialect in dialects {
        let Some((statements, lexemes)) = parse_with(dialect, sql) else {
            continue;
        };
        let mut access = if statements.iter().any(statement_writes) {
            Access::Write
        } else {
            Access::Read
        };
        // Function calls and nested locking clauses are found in the token
        // stream, which covers subqueries the AST walk does not descend into.
        if has_write_function(&lexemes) || has_lock_clause(&lexemes) {
            access = Access::Write;
        }
        let mut tables = Tables::default();
        for statement in &statements {
            tables.statement(statement);
        }
        let mut names = tables.finish();
        if names.is_empty() {
            names = scan_tables(&lexemes);
        }
        return Some(SqlClass {
            access,
            by: ClassifiedBy::Parser,
            verb: verb.to_string(),
            tables: names,
        });
    }
    None
}

/// Tokenizes and parses `sql` with one dialect, returning the statements and a
/// simplified token stream, or `None` if either step fails.
fn parse_with(dialect: &dyn Dialect, sql: &str) -> Option<(Vec<Statement>, Vec<Lexeme>)> {
    let tokens = Tokenizer::new(dialect, sql).tokenize_with_location().ok()?;
    let lexemes: Vec<Lexeme> = tokens
        .iter()
        .filter_map(|token| match &token.token {
            Token::Word(word) => Some(Lexeme::Word {
                text: word.value.clone(),
                quoted: word.quote_style.is_some(),
            }),
            Token::LParen => Some(Lexeme::LParen),
            Token::RParen => Some(Lexeme::RParen),
            Token::Period => Some(Lexeme::Dot),
            Token::Whitespace(_) | Token::EOF => None,
            _ => Some(Lexeme::Other),
        })
        .collect();
    if lexemes.len() > MAX_PARSE_TOKENS {
        return None;
    }
    let nesters = lexemes
        .iter()
        .filter(|lexeme| {
            STATEMENT_NESTERS
                .iter()
                .any(|keyword| lexeme.is_keyword(keyword))
        })
        .count();
    if nesters > MAX_STATEMENT_NESTERS {
        return None;
    }
    let statements = Parser::new(dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
        .parse_statements()
        .ok()?;
    if statements.is_empty() {
        return None;
    }
    Some((statements, lexemes))
}

/// Decides from the leading keyword when no dialect could parse the text.
fn classify_keywords(sql: &str, verb: String) -> SqlClass {
    let lexemes = lex(sql);
    let mut access = Access::Write;
    if READ_VERBS.contains(&verb.as_str()) {
        access = Access::Read;
        let nested_write = has_any_keyword(&lexemes, WRITE_KEYWORDS);
        if verb == "WITH" && nested_write {
            access = Access::Write;
        }
        if verb == "EXPLAIN" && nested_write && has_any_keyword(&lexemes, &["ANALYZE", "ANALYSE"]) {
            access = Access::Write;
        }
        if has_lock_clause(&lexemes) || has_write_function(&lexemes) {
            access = Access::Write;
        }
    }
    SqlClass {
        access,
        by: ClassifiedBy::Keyword,
        verb,
        tables: scan_tables(&lexemes),
    }
}

/// Returns whether executing the statement may change state on the server.
fn statement_writes(statement: &Statement) -> bool {
    match statement {
        Statement::Query(query) => query_writes(query, 0),
        Statement::Explain {
            analyze,
            statement,
            options,
            ..
        } => {
            let analyzed = *analyze
                || options.as_ref().is_some_and(|options| {
                    options.iter().any(|option| {
                        option.name.value.eq_ignore_ascii_case("analyze")
                            && option.arg.as_ref().is_none_or(option_enabled)
                    })
                });
            analyzed && statement_writes(statement)
        }
        Statement::ExplainTable { .. }
        | Statement::ShowFunctions { .. }
        | Statement::ShowVariable { .. }
        | Statement::ShowStatus { .. }
        | Statement::ShowVariables { .. }
        | Statement::ShowCreate { .. }
        | Statement::ShowColumns { .. }
        | Statement::ShowCatalogs { .. }
        | Statement::ShowDatabases { .. }
        | Statement::ShowProcessList { .. }
        | Statement::ShowSchemas { .. }
        | Statement::ShowCharset(_)
        | Statement::ShowObjects(_)
        | Statement::ShowTables { .. }
        | Statement::ShowViews { .. }
        | Statement::ShowCollation { .. } => false,
        _ => true,
    }
}

/// Returns whether an `EXPLAIN` option argument such as `true`, `off` or `0`
/// turns the option on; anything unrecognised counts as on.
fn option_enabled(arg: &Expr) -> bool {
    let text = match arg {
        Expr::Value(value) => value.value.to_string(),
        Expr::Identifier(ident) => ident.value.clone(),
        _ => return true,
    };
    !matches!(
        text.to_ascii_lowercase().as_str(),
        "false" | "off" | "0" | "'false'" | "'off'" | "'0'"
    )
}

/// Returns whether a query locks rows, creates a table, or modifies data in a
/// CTE. Queries nested deeper than the walk limit count as writes.
fn query_writes(query: &Query, depth: usize) -> bool {
    if depth >= MAX_WALK_DEPTH || !query.locks.is_empty() {
        return true;
    }
    if let Some(with) = &query.with {
        if with
            .cte_tables
            .iter()
            .any(|cte| query_writes(&cte.query, depth + 1))
        {
            return true;
        }
    }
    set_expr_writes(&query.body, depth + 1)
}

/// Returns whether a query body writes. Set operations are walked with an
/// explicit stack because long `UNION` chains parse into deep left-nested trees.
fn set_expr_writes(body: &SetExpr, depth: usize) -> bool {
    let mut pending = vec![body];
    while let Some(body) = pending.pop() {
        let writes = match body {
            SetExpr::Select(select) => select_writes(select, depth),
            SetExpr::Query(query) => query_writes(query, depth),
            SetExpr::SetOperation { left, right, .. } => {
                pending.push(right);
                pending.push(left);
                false
            }
            SetExpr::Values(_) | SetExpr::Table(_) => false,
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                true
            }
        };
        if writes {
            return true;
        }
    }
    false
}

/// Returns whether a `SELECT` writes: `SELECT … INTO` or a locking derived table.
fn select_writes(select: &Select, depth: usize) -> bool {
    if select.into.is_some() {
        return true;
    }
    select
        .from
        .iter()
        .any(|item| table_with_joins_writes(item, depth))
}

/// Returns whether any derived table in a FROM item writes.
fn table_with_joins_writes(item: &TableWithJoins, depth: usize) -> bool {
    table_factor_writes(&item.relation, depth)
        || item
            .joins
            .iter()
            .any(|join| table_factor_writes(&join.relation, depth))
}

/// Returns whether a FROM relation is a derived table that writes.
fn table_factor_writes(factor: &TableFactor, depth: usize) -> bool {
    if depth >= MAX_WALK_DEPTH {
        return true;
    }
    match factor {
        TableFactor::Derived { subquery, .. } => query_writes(subquery, depth + 1),
        TableFactor::NestedJoin {
            table_with_joins, ..
        } => table_with_joins_writes(table_with_joins, depth + 1),
        _ => false,
    }
}

/// Collects table names from an AST, in order of appearance.
#[derive(Default)]
struct Tables {
    names: Vec<String>,
    ctes: Vec<String>,
    depth: usize,
}

impl Tables {
    /// Returns the collected names without CTE aliases.
    fn finish(self) -> Vec<String> {
        let ctes = self.ctes;
        self.names
            .into_iter()
            .filter(|name| !ctes.contains(name))
            .collect()
    }

    /// Records one object name, lower-cased and dot-joined.
    fn name(&mut self, name: &ObjectName) {
        let mut parts = Vec::with_capacity(name.0.len());
        for part in &name.0 {
            let ObjectNamePart::Identifier(ident) = part else {
                return;
            };
            parts.push(ident.value.to_lowercase());
        }
        push_unique(&mut self.names, parts.join("."));
    }

    fn statement(&mut self, statement: &Statement) {
        match statement {
            Statement::Query(query) => self.query(query),
            Statement::Insert(insert) => {
                match &insert.table {
                    TableObject::TableName(name) => self.name(name),
                    TableObject::TableQuery(query) => self.query(query),
                    TableObject::TableFunction(_) => {}
                }
                if let Some(source) = &insert.source {
                    self.query(source);
                }
            }
            Statement::Update(update) => {
                self.table_with_joins(&update.table);
                match &update.from {
                    Some(UpdateTableFromKind::BeforeSet(items))
                    | Some(UpdateTableFromKind::AfterSet(items)) => {
                        items.iter().for_each(|item| self.table_with_joins(item));
                    }
                    None => {}
                }
                for assignment in &update.assignments {
                    self.expr(&assignment.value);
                }
                if let Some(selection) = &update.selection {
                    self.expr(selection);
                }
            }
            Statement::Delete(delete) => {
                delete.tables.iter().for_each(|name| self.name(name));
                match &delete.from {
                    FromTable::WithFromKeyword(items) | FromTable::WithoutKeyword(items) => {
                        items.iter().for_each(|item| self.table_with_joins(item));
                    }
                }
                if let Some(using) = &delete.using {
                    using.iter().for_each(|item| self.table_with_joins(item));
                }
                if let Some(selection) = &delete.selection {
                    self.expr(selection);
                }
            }
            Statement::Merge(merge) => {
                self.table_factor(&merge.table);
                self.table_factor(&merge.source);
            }
            Statement::Explain { statement, .. } => self.statement(statement),
            Statement::ExplainTable { table_name, .. } => self.name(table_name),
            Statement::Truncate(truncate) => {
                truncate
                    .table_names
                    .iter()
                    .for_each(|target| self.name(&target.name));
            }
            Statement::Drop {
                object_type: ObjectType::Table,
                names,
                ..
            } => names.iter().for_each(|name| self.name(name)),
            Statement::AlterTable(alter) => self.name(&alter.name),
            Statement::CreateTable(create) => {
                self.name(&create.name);
                if let Some(query) = &create.query {
                    self.query(query);
                }
            }
            Statement::CreateIndex(create) => self.name(&create.table_name),
            Statement::Copy { source, .. } => match source {
                CopySource::Table { table_name, .. } => self.name(table_name),
                CopySource::Query(query) => self.query(query),
            },
            Statement::Lock(lock) => lock
                .tables
                .iter()
                .for_each(|target| self.name(&target.name)),
            _ => {}
        }
    }

    fn query(&mut self, query: &Query) {
        if self.depth >= MAX_WALK_DEPTH {
            return;
        }
        self.depth += 1;
        self.query_parts(query);
        self.depth -= 1;
    }

    fn query_parts(&mut self, query: &Query) {
        if let Some(with) = &query.with {
            for cte in &with.cte_tables {
                push_unique(&mut self.ctes, cte.alias.name.value.to_lowercase());
                self.query(&cte.query);
            }
        }
        self.set_expr(&query.body);
    }

    /// Walks a query body; set operations use an explicit stack, left first.
    fn set_expr(&mut self, body: &SetExpr) {
        let mut pending = vec![body];
        while let Some(body) = pending.pop() {
            match body {
                SetExpr::Select(select) => self.select(select),
                SetExpr::Query(query) => self.query(query),
                SetExpr::SetOperation { left, right, .. } => {
                    pending.push(right);
                    pending.push(left);
                }
                SetExpr::Values(_) => {}
                SetExpr::Insert(statement)
                | SetExpr::Update(statement)
                | SetExpr::Delete(statement)
                | SetExpr::Merge(statement) => self.statement(statement),
                SetExpr::Table(table) => self.table(table),
            }
        }
    }

    /// Records the relation of a `TABLE name` query.
    fn table(&mut self, table: &Table) {
        let Some(name) = &table.table_name else {
            return;
        };
        let name = name.value.to_lowercase();
        let full = match &table.schema_name {
            Some(schema) => format!("{}.{name}", schema.value.to_lowercase()),
            None => name,
        };
        push_unique(&mut self.names, full);
    }

    fn select(&mut self, select: &Select) {
        for item in &select.projection {
            match item {
                SelectItem::UnnamedExpr(expr)
                | SelectItem::ExprWithAlias { expr, .. }
                | SelectItem::ExprWithAliases { expr, .. } => self.expr(expr),
                _ => {}
            }
        }
        if let Some(into) = &select.into {
            for target in &into.targets {
                match target {
                    Expr::Identifier(ident) => {
                        push_unique(&mut self.names, ident.value.to_lowercase());
                    }
                    Expr::CompoundIdentifier(idents) => {
                        let parts: Vec<String> = idents
                            .iter()
                            .map(|ident| ident.value.to_lowercase())
                            .collect();
                        push_unique(&mut self.names, parts.join("."));
                    }
                    _ => {}
                }
            }
        }
        select
            .from
            .iter()
            .for_each(|item| self.table_with_joins(item));
        if let Some(selection) = &select.selection {
            self.expr(selection);
        }
        if let Some(having) = &select.having {
            self.expr(having);
        }
    }

    fn table_with_joins(&mut self, item: &TableWithJoins) {
        self.table_factor(&item.relation);
        for join in &item.joins {
            self.table_factor(&join.relation);
        }
    }

    fn table_factor(&mut self, factor: &TableFactor) {
        // A relation with arguments is a table-valued function call, not a table.
        match factor {
            TableFactor::Table {
                name, args: None, ..
            } => self.name(name),
            TableFactor::Derived { subquery, .. } => self.query(subquery),
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.table_with_joins(table_with_joins),
            _ => {}
        }
    }

    /// Descends into the common expression forms that can hold subqueries.
    fn expr(&mut self, expr: &Expr) {
        if self.depth >= MAX_WALK_DEPTH {
            return;
        }
        self.depth += 1;
        self.expr_parts(expr);
        self.depth -= 1;
    }

    fn expr_parts(&mut self, expr: &Expr) {
        match expr {
            Expr::Subquery(query) => self.query(query),
            Expr::Exists { subquery, .. } => self.query(subquery),
            Expr::In { expr, target, .. } => {
                self.expr(expr);
                match target {
                    InTarget::Subquery(query) => self.query(query),
                    InTarget::List(list) => list.iter().for_each(|item| self.expr(item)),
                    InTarget::Table { name, .. } => self.name(name),
                    InTarget::Unnest(inner) => self.expr(inner),
                }
            }
            Expr::BinaryOp { left, right, .. }
            | Expr::AnyOp { left, right, .. }
            | Expr::AllOp { left, right, .. }
            | Expr::IsDistinctFrom(left, right)
            | Expr::IsNotDistinctFrom(left, right) => {
                self.expr(left);
                self.expr(right);
            }
            Expr::UnaryOp { expr, .. }
            | Expr::Nested(expr)
            | Expr::Cast { expr, .. }
            | Expr::IsNull(expr)
            | Expr::IsNotNull(expr)
            | Expr::IsTrue(expr)
            | Expr::IsNotTrue(expr)
            | Expr::IsFalse(expr)
            | Expr::IsNotFalse(expr) => self.expr(expr),
            Expr::Between {
                expr, low, high, ..
            } => {
                self.expr(expr);
                self.expr(low);
                self.expr(high);
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if let Some(operand) = operand {
                    self.expr(operand);
                }
                for when in conditions {
                    self.expr(&when.condition);
                    self.expr(&when.result);
                }
                if let Some(else_result) = else_result {
                    self.expr(else_result);
                }
            }
            Expr::Tuple(items) => items.iter().for_each(|item| self.expr(item)),
            Expr::Function(function) => match &function.args {
                FunctionArguments::Subquery(query) => self.query(query),
                FunctionArguments::List(list) => {
                    for arg in &list.args {
                        let (FunctionArg::Named { arg, .. }
                        | FunctionArg::ExprNamed { arg, .. }
                        | FunctionArg::Unnamed(arg)) = arg;
                        if let FunctionArgExpr::Expr(expr) = arg {
                            self.expr(expr);
                        }
                    }
                }
                FunctionArguments::None => {}
            },
            _ => {}
        }
    }
}

/// Appends `name` unless it is empty or already present.
fn push_unique(names: &mut Vec<String>, name: String) {
    if !name.is_empty() && !names.contains(&name) {
        names.push(name);
    }
}

/// A simplified token: enough to find keywords, function calls and names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Lexeme {
    /// An identifier or keyword; quoted identifiers never match keywords.
    Word { text: String, quoted: bool },
    /// An opening parenthesis.
    LParen,
    /// A closing parenthesis.
    RParen,
    /// A `.` between parts of a qualified name.
    Dot,
    /// Anything else: punctuation, numbers, strings, placeholders.
    Other,
}

impl Lexeme {
    /// Returns whether this is the unquoted keyword `keyword`, ignoring ASCII case.
    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self, Lexeme::Word { text, quoted: false } if text.eq_ignore_ascii_case(keyword))
    }
}

/// Returns whether any unquoted word is one of `keywords`.
fn has_any_keyword(lexemes: &[Lexeme], keywords: &[&str]) -> bool {
    lexemes
        .iter()
        .any(|lexeme| keywords.iter().any(|keyword| lexeme.is_keyword(keyword)))
}

/// Returns whether the text calls a function known to write.
fn has_write_function(lexemes: &[Lexeme]) -> bool {
    lexemes.windows(2).any(|pair| {
        let [Lexeme::Word { text, .. }, Lexeme::LParen] = pair else {
            return false;
        };
        WRITE_FUNCTIONS
            .iter()
            .any(|function| text.eq_ignore_ascii_case(function))
    })
}

/// Returns whether the text has a row-locking clause anywhere.
fn has_lock_clause(lexemes: &[Lexeme]) -> bool {
    const CLAUSES: &[&[&str]] = &[
        &["FOR", "UPDATE"],
        &["FOR", "SHARE"],
        &["FOR", "NO", "KEY", "UPDATE"],
        &["FOR", "KEY", "SHARE"],
        &["LOCK", "IN", "SHARE", "MODE"],
    ];
    (0..lexemes.len()).any(|start| {
        CLAUSES.iter().any(|clause| {
            lexemes
                .get(start..start + clause.len())
                .is_some_and(|window| {
                    window
                        .iter()
                        .zip(clause.iter())
                        .all(|(lexeme, keyword)| lexeme.is_keyword(keyword))
                })
        })
    })
}

/// Finds table names after `FROM`, `JOIN`, `INTO`, `UPDATE` and `TABLE` by keyword scan.
fn scan_tables(lexemes: &[Lexeme]) -> Vec<String> {
    // Keywords that can follow the introducers without being a table name.
    const NOT_TABLES: &[&str] = &[
        "SELECT", "SET", "LATERAL", "VALUES", "WITH", "UNNEST", "WHERE", "ONLY", "IF",
    ];
    // Functions whose argument lists use `FROM` for something other than a table.
    const FROM_FUNCTIONS: &[&str] = &["EXTRACT", "SUBSTRING", "TRIM", "POSITION", "OVERLAY"];

    let mut names = Vec::new();
    let mut parens: Vec<bool> = Vec::new();
    for (index, lexeme) in lexemes.iter().enumerate() {
        let previous = index.checked_sub(1).and_then(|at| lexemes.get(at));
        match lexeme {
            Lexeme::LParen => {
                let in_function = previous.is_some_and(|previous| {
                    FROM_FUNCTIONS
                        .iter()
                        .any(|function| previous.is_keyword(function))
                });
                parens.push(in_function);
                continue;
            }
            Lexeme::RParen => {
                parens.pop();
                continue;
            }
            Lexeme::Word { .. } => {}
            Lexeme::Dot | Lexeme::Other => continue,
        }
        let is_from = lexeme.is_keyword("FROM");
        let introduces = is_from
            || lexeme.is_keyword("JOIN")
            || lexeme.is_keyword("INTO")
            || lexeme.is_keyword("UPDATE")
            || lexeme.is_keyword("TABLE");
        if !introduces {
            continue;
        }
        // `FOR UPDATE` and `FOR NO KEY UPDATE` are locking clauses, not targets.
        if lexeme.is_keyword("UPDATE")
            && previous
                .is_some_and(|previous| previous.is_keyword("FOR") || previous.is_keyword("KEY"))
        {
            continue;
        }
        if is_from {
            if parens.last().copied().unwrap_or(false) {
                continue;
            }
            if previous.is_some_and(|previous| previous.is_keyword("DISTINCT")) {
                continue;
            }
        }
        let mut at = index + 1;
        if lexemes.get(at).is_some_and(|next| next.is_keyword("ONLY")) {
            at += 1;
        }
        let mut parts = Vec::new();
        while let Some(Lexeme::Word { text, quoted }) = lexemes.get(at) {
            if !quoted
                && parts.is_empty()
                && NOT_TABLES.iter().any(|k| text.eq_ignore_ascii_case(k))
            {
                break;
            }
            parts.push(text.to_lowercase());
            if lexemes.get(at + 1) != Some(&Lexeme::Dot) {
                at += 1;
                break;
            }
            at += 2;
        }
        if parts.is_empty() {
            continue;
        }
        // A name followed by `(` after FROM or JOIN is a table function.
        if !lexeme.is_keyword("INTO") && lexemes.get(at) == Some(&Lexeme::LParen) {
            continue;
        }
        push_unique(&mut names, parts.join("."));
    }
    names
}

/// Returns the first keyword, upper-cased, after whitespace, comments, `(` and `;`.
fn first_keyword(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut at = 0;
    loop {
        at = skip_trivia(bytes, at);
        match bytes.get(at) {
            Some(b'(' | b';') => at += 1,
            _ => break,
        }
    }
    if !bytes.get(at).is_some_and(u8::is_ascii_alphabetic) {
        return String::new();
    }
    let end = bytes[at..]
        .iter()
        .position(|byte| !(byte.is_ascii_alphanumeric() || *byte == b'_'))
        .map_or(bytes.len(), |offset| at + offset);
    sql.get(at..end).unwrap_or_default().to_ascii_uppercase()
}

/// Skips whitespace and comments starting at `at`, returning the next position.
fn skip_trivia(bytes: &[u8], mut at: usize) -> usize {
    loop {
        match (bytes.get(at), bytes.get(at + 1)) {
            (Some(byte), _) if byte.is_ascii_whitespace() => at += 1,
            (Some(b'-'), Some(b'-')) => {
                at = bytes[at..]
                    .iter()
                    .position(|byte| *byte == b'\n')
                    .map_or(bytes.len(), |offset| at + offset + 1);
            }
            (Some(b'/'), Some(b'*')) => at = skip_block_comment(bytes, at),
            _ => return at,
        }
    }
}

/// Skips a possibly nested `/* … */` comment starting at `at`; an unterminated
/// comment runs to the end of the input.
fn skip_block_comment(bytes: &[u8], mut at: usize) -> usize {
    let mut depth = 0usize;
    while at < bytes.len() {
        match (bytes.get(at), bytes.get(at + 1)) {
            (Some(b'/'), Some(b'*')) => {
                depth += 1;
                at += 2;
            }
            (Some(b'*'), Some(b'/')) => {
                depth = depth.saturating_sub(1);
                at += 2;
                if depth == 0 {
                    return at;
                }
            }
            _ => at += 1,
        }
    }
    bytes.len()
}

/// Returns the deepest bracket nesting in the text, ignoring quoting.
fn max_nesting_depth(sql: &str) -> usize {
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for byte in sql.bytes() {
        match byte {
            b'(' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b')' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// Splits text that no dialect could tokenize into lexemes, skipping comments
/// and the contents of string literals.
fn lex(sql: &str) -> Vec<Lexeme> {
    let bytes = sql.as_bytes();
    let mut lexemes = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        at = skip_trivia(bytes, at);
        let Some(&byte) = bytes.get(at) else {
            break;
        };
        match byte {
            b'(' => {
                lexemes.push(Lexeme::LParen);
                at += 1;
            }
            b')' => {
                lexemes.push(Lexeme::RParen);
                at += 1;
            }
            b'.' => {
                lexemes.push(Lexeme::Dot);
                at += 1;
            }
            b'\'' => {
                at = skip_quoted(bytes, at, b'\'');
                lexemes.push(Lexeme::Other);
            }
            b'"' | b'`' => {
                let end = skip_quoted(bytes, at, byte);
                let inner = sql.get(at + 1..end.saturating_sub(1)).unwrap_or_default();
                let (doubled, single) = if byte == b'"' {
                    ("\"\"", "\"")
                } else {
                    ("``", "`")
                };
                lexemes.push(Lexeme::Word {
                    text: inner.replace(doubled, single),
                    quoted: true,
                });
                at = end;
            }
            b'$' => {
                at = skip_dollar(bytes, at);
                lexemes.push(Lexeme::Other);
            }
            _ if byte.is_ascii_alphabetic() || byte == b'_' || byte >= 0x80 => {
                let end = bytes[at..]
                    .iter()
                    .position(|byte| {
                        !(byte.is_ascii_alphanumeric()
                            || matches!(byte, b'_' | b'$')
                            || *byte >= 0x80)
                    })
                    .map_or(bytes.len(), |offset| at + offset);
                lexemes.push(Lexeme::Word {
                    text: sql.get(at..end).unwrap_or_default().to_string(),
                    quoted: false,
                });
                at = end;
            }
            _ => {
                lexemes.push(Lexeme::Other);
                at += 1;
            }
        }
    }
    lexemes
}

/// Skips a literal quoted with `quote` (a doubled quote escapes it), returning
/// the position after the closing quote or the end of the input.
fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut at = start + 1;
    while at < bytes.len() {
        if bytes.get(at) == Some(&quote) {
            if bytes.get(at + 1) == Some(&quote) {
                at += 2;
                continue;
            }
            return at + 1;
        }
        at += 1;
    }
    bytes.len()
}

/// Skips a `$tag$ … $tag$` string, or just the `$` of a `$1` placeholder.
fn skip_dollar(bytes: &[u8], start: usize) -> usize {
    let tag_end = bytes[start + 1..]
        .iter()
        .position(|byte| !(byte.is_ascii_alphanumeric() || *byte == b'_'))
        .map(|offset| start + 1 + offset);
    let Some(tag_end) = tag_end else {
        return bytes.len();
    };
    let is_tag =
        bytes.get(tag_end) == Some(&b'$') && !bytes.get(start + 1).is_some_and(u8::is_ascii_digit);
    if !is_tag {
        return start + 1;
    }
    let tag = &bytes[start..=tag_end];
    let body = tag_end + 1;
    bytes[body..]
        .windows(tag.len())
        .position(|window| window == tag)
        .map_or(bytes.len(), |offset| body + offset + tag.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Classifies `sql` and checks access and method together.
    #[track_caller]
    fn assert_class(sql: &str, access: Access, by: ClassifiedBy) -> SqlClass {
        let class = classify(sql);
        assert_eq!(
            (class.access, class.by),
            (access, by),
            "classify({sql:?}) = {class:?}"
        );
        class
    }

    /// Runs `f` on a thread with a 2 MiB stack, the size rayon and test threads use.
    fn on_small_stack(f: impl FnOnce() + Send + 'static) {
        let handle = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(f)
            .expect("spawn test thread");
        assert!(handle.join().is_ok(), "classification panicked");
    }

    #[test]
    fn select_with_postgres_placeholders_is_a_parsed_read() {
        let class = assert_class(
            "SELECT id, name FROM users WHERE id = $1 AND org_id = $2::uuid",
            Access::Read,
            ClassifiedBy::Parser,
        );
        assert_eq!(class.verb, "SELECT");
        assert_eq!(class.tables, ["users"]);
    }

    #[test]
    fn select_with_mysql_placeholders_is_a_parsed_read() {
        let class = assert_class(
            "SELECT * FROM `orders` WHERE customer_id = ? AND status = ?",
            Access::Read,
            ClassifiedBy::Parser,
        );
        assert_eq!(class.tables, ["orders"]);
    }

    #[test]
    fn writes_with_either_placeholder_style_are_parsed_writes() {
        for (sql, table) in [
            (
                "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id",
                "users",
            ),
            ("INSERT INTO users (name, email) VALUES (?, ?)", "users"),
            ("UPDATE users SET name = $1 WHERE id = $2", "users"),
            ("UPDATE users SET name = ? WHERE id = ?", "users"),
            ("DELETE FROM sessions WHERE id = $1", "sessions"),
            ("DELETE FROM sessions WHERE id = ?", "sessions"),
        ] {
            let class = assert_class(sql, Access::Write, ClassifiedBy::Parser);
            assert_eq!(class.tables, [table], "{sql}");
        }
    }

    #[test]
    fn sqlx_type_override_aliases_still_parse() {
        let class = assert_class(
            r#"SELECT id AS "id!", name AS "name?: String" FROM users WHERE id = $1"#,
            Access::Read,
            ClassifiedBy::Parser,
        );
        assert_eq!(class.tables, ["users"]);
    }

    #[test]
    fn plain_query_forms_are_reads() {
        assert_class(
            "VALUES (1, 'a'), (2, 'b')",
            Access::Read,
            ClassifiedBy::Parser,
        );
        assert_class("SHOW search_path", Access::Read, ClassifiedBy::Parser);
        assert_class("SHOW TABLES", Access::Read, ClassifiedBy::Parser);
        assert_class(
            "EXPLAIN SELECT * FROM t",
            Access::Read,
            ClassifiedBy::Parser,
        );
        assert_class(
            "(SELECT a FROM t) UNION ALL (SELECT a FROM u)",
            Access::Read,
            ClassifiedBy::Parser,
        );
        // sqlparser 0.64 rejects a bare `TABLE name`, so the keyword path decides.
        let table = classify("TABLE users");
        assert_eq!(table.access, Access::Read);
        assert_eq!(table.tables, ["users"]);
    }

    #[test]
    fn explain_is_a_write_only_when_it_analyzes_a_write() {
        assert_class("EXPLAIN DELETE FROM t", Access::Read, ClassifiedBy::Parser);
        assert_class(
            "EXPLAIN ANALYZE SELECT * FROM t",
            Access::Read,
            ClassifiedBy::Parser,
        );
        assert_class(
            "EXPLAIN ANALYZE DELETE FROM t",
            Access::Write,
            ClassifiedBy::Parser,
        );
        assert_class(
            "EXPLAIN (ANALYZE, BUFFERS) UPDATE t SET a = 1",
            Access::Write,
            ClassifiedBy::Parser,
        );
        assert_class(
            "EXPLAIN (ANALYZE false) DELETE FROM t",
            Access::Read,
            ClassifiedBy::Parser,
        );
    }

    #[test]
    fn locking_clauses_make_a_select_a_write() {
        for sql in [
            "SELECT * FROM jobs WHERE id = $1 FOR UPDATE",
            "SELECT * FROM jobs ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
            "SELECT * FROM jobs FOR SHARE",
            "SELECT * FROM jobs WHERE id IN (SELECT id FROM queue FOR UPDATE SKIP LOCKED)",
        ] {
            assert_class(sql, Access::Write, ClassifiedBy::Parser);
        }
        // sqlparser 0.64 only knows `FOR UPDATE` and `FOR SHARE`; the other
        // Postgres strengths and MySQL's form reach the keyword fallback.
        for sql in [
            "SELECT * FROM jobs FOR NO KEY UPDATE",
            "SELECT * FROM jobs FOR KEY SHARE",
            "SELECT * FROM jobs WHERE id = ? LOCK IN SHARE MODE",
        ] {
            assert_class(sql, Access::Write, ClassifiedBy::Keyword);
        }
    }

    #[test]
    fn lock_words_inside_strings_do_not_count() {
        assert_class(
            "SELECT * FROM notes WHERE body = 'FOR UPDATE' OR body = 'nextval(x)'",
            Access::Read,
            ClassifiedBy::Parser,
        );
    }

    #[test]
    fn select_into_a_new_table_is_a_write() {
        let class = assert_class(
            "SELECT * INTO archived_orders FROM orders WHERE created_at < $1",
            Access::Write,
            ClassifiedBy::Parser,
        );
        assert_eq!(class.tables, ["archived_orders", "orders"]);
    }

    #[test]
    fn data_modifying_ctes_are_writes() {
        for sql in [
            "WITH moved AS (DELETE FROM queue WHERE id = $1 RETURNING *) SELECT * FROM moved",
            "WITH ins AS (INSERT INTO t (a) VALUES ($1) RETURNING id) SELECT id FROM ins",
            "WITH up AS (UPDATE t SET a = 1 RETURNING id) SELECT count(*) FROM up",
            "WITH src AS (SELECT * FROM staging) INSERT INTO t SELECT * FROM src",
        ] {
            let class = assert_class(sql, Access::Write, ClassifiedBy::Parser);
            assert_eq!(class.verb, "WITH");
        }
    }

    #[test]
    fn read_only_cte_is_a_read_and_its_name_is_not_a_table() {
        let class = assert_class(
            "WITH recent AS (SELECT * FROM orders WHERE created_at > $1) \
             SELECT r.* FROM recent r JOIN customers c ON c.id = r.customer_id",
            Access::Read,
            ClassifiedBy::Parser,
        );
        assert_eq!(class.tables, ["orders", "customers"]);
    }

    #[test]
    fn functions_that_write_make_a_select_a_write() {
        for sql in [
            "SELECT nextval('users_id_seq')",
            "SELECT NEXTVAL('users_id_seq')",
            "SELECT pg_catalog.setval('users_id_seq', $1)",
            "SELECT pg_advisory_lock($1)",
            "SELECT pg_advisory_xact_lock(hashtext($1))",
            "SELECT pg_try_advisory_lock(42)",
            "SELECT pg_notify('events', $1)",
            "SELECT set_config('app.user', $1, true)",
            "SELECT lo_create(0)",
            "SELECT id FROM t WHERE id = (SELECT nextval('s'))",
        ] {
            assert_class(sql, Access::Write, ClassifiedBy::Parser);
        }
        assert_class(
            "SELECT currval('users_id_seq')",
            Access::Read,
            ClassifiedBy::Parser,
        );
    }

    #[test]
    fn other_statements_are_writes() {
        for (sql, verb) in [
            ("CREATE TABLE t (id int)", "CREATE"),
            ("ALTER TABLE t ADD COLUMN a int", "ALTER"),
            ("DROP TABLE t", "DROP"),
            ("TRUNCATE t", "TRUNCATE"),
            ("GRANT SELECT ON t TO app", "GRANT"),
            ("SET search_path TO app", "SET"),
            ("CALL refresh_stats()", "CALL"),
            ("LOCK TABLE t IN ACCESS EXCLUSIVE MODE", "LOCK"),
            ("BEGIN", "BEGIN"),
            ("START TRANSACTION", "START"),
            ("COMMIT", "COMMIT"),
            ("ROLLBACK", "ROLLBACK"),
            ("COPY t FROM STDIN", "COPY"),
            (
                "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
                "MERGE",
            ),
            ("INSERT OR REPLACE INTO kv (k, v) VALUES (?1, ?2)", "INSERT"),
        ] {
            let class = assert_class(sql, Access::Write, ClassifiedBy::Parser);
            assert_eq!(class.verb, verb);
        }
    }

    #[test]
    fn several_statements_are_a_write_if_any_is() {
        assert_class(
            "SELECT 1; DELETE FROM t",
            Access::Write,
            ClassifiedBy::Parser,
        );
        assert_class(
            "DELETE FROM t WHERE id = $1; SELECT 1",
            Access::Write,
            ClassifiedBy::Parser,
        );
        let class = assert_class(
            "SELECT 1 FROM a; SELECT 2 FROM b;",
            Access::Read,
            ClassifiedBy::Parser,
        );
        assert_eq!(class.tables, ["a", "b"]);
    }

    #[test]
    fn keyword_fallback_decides_what_no_dialect_parses() {
        let fragment = assert_class(
            "SELECT a, b FROM t WHERE",
            Access::Read,
            ClassifiedBy::Keyword,
        );
        assert_eq!(fragment.verb, "SELECT");
        assert_eq!(fragment.tables, ["t"]);
        let commented = assert_class(
            "-- leading comment\n/* block /* nested */ comment */ ( (select a from t where",
            Access::Read,
            ClassifiedBy::Keyword,
        );
        assert_eq!(commented.verb, "SELECT");
        assert_class(
            "WITH x AS (DELETE FROM q RETURNING *) SELECT * FROM x WHERE",
            Access::Write,
            ClassifiedBy::Keyword,
        );
        assert_class(
            "WITH x AS (SELECT 1) SELECT * FROM x WHERE",
            Access::Read,
            ClassifiedBy::Keyword,
        );
        assert_class(
            "SELECT nextval('s') FROM WHERE",
            Access::Write,
            ClassifiedBy::Keyword,
        );
        let vendor = assert_class(
            "FROBNICATE the_table NOW",
            Access::Write,
            ClassifiedBy::Keyword,
        );
        assert_eq!(vendor.verb, "FROBNICATE");
        assert_class("UPSERT INTO t VALUES", Access::Write, ClassifiedBy::Keyword);
    }

    #[test]
    fn empty_or_keywordless_input_is_an_unknown_write() {
        for sql in [
            "",
            "   \n\t ",
            "-- only a comment",
            "/* unterminated",
            "((( ",
            ";",
            "$1",
            "42",
            "'just a string'",
        ] {
            let class = assert_class(sql, Access::Write, ClassifiedBy::Unknown);
            assert_eq!(class.verb, "");
            assert!(class.tables.is_empty());
        }
    }

    #[test]
    fn verb_is_upper_cased_and_skips_leading_trivia() {
        assert_eq!(classify("  select 1").verb, "SELECT");
        assert_eq!(
            classify("\n-- hi\n(Insert into t values (1))").verb,
            "INSERT"
        );
        assert_eq!(
            classify("/* a */with x as (select 1) select 1").verb,
            "WITH"
        );
    }

    #[test]
    fn deep_nesting_falls_back_without_overflowing_the_stack() {
        on_small_stack(|| {
            for depth in [60, 150, 199, 200, 201, 10_000] {
                let sql = format!("SELECT {}1{}", "(".repeat(depth), ")".repeat(depth));
                assert_eq!(classify(&sql).access, Access::Read, "depth {depth}");
            }
            let deep = format!("SELECT {}1{}", "(".repeat(10_000), ")".repeat(10_000));
            assert_eq!(classify(&deep).by, ClassifiedBy::Keyword);
            let mut nested = String::from("SELECT id FROM t0");
            for level in 1..150 {
                nested = format!("SELECT id FROM t{level} WHERE id IN ({nested})");
            }
            assert_eq!(classify(&nested).access, Access::Read);
            let unclosed = "SELECT ".to_string() + &"(".repeat(100_000);
            assert_eq!(classify(&unclosed).access, Access::Read);
        });
    }

    #[test]
    fn long_flat_chains_do_not_overflow_the_stack() {
        on_small_stack(|| {
            let or_chain =
                "SELECT * FROM t WHERE ".to_string() + &"a = 1 OR ".repeat(2_400) + "a = 1";
            assert_eq!(classify(&or_chain).access, Access::Read);
            let huge_or = "SELECT * FROM t WHERE ".to_string() + &"a OR ".repeat(200_000) + "a";
            assert_eq!(classify(&huge_or).access, Access::Read);
            let unions = "SELECT 1".to_string() + &" UNION SELECT 1".repeat(2_400);
            assert_eq!(classify(&unions).access, Access::Read);
            let nots = "SELECT ".to_string() + &"NOT ".repeat(50_000) + "true";
            assert_eq!(classify(&nots).access, Access::Read);
            let explains = "EXPLAIN ".repeat(10_000) + "SELECT 1";
            assert_eq!(classify(&explains).access, Access::Read);
            let prepares = "PREPARE p AS ".repeat(60) + "DELETE FROM t";
            assert_eq!(classify(&prepares).access, Access::Write);
            let blocks = "IF a THEN ".repeat(60) + "SELECT 1;" + &" END IF;".repeat(60);
            assert_eq!(classify(&blocks).access, Access::Write);
        });
    }

    #[test]
    fn odd_characters_and_every_prefix_never_panic() {
        let sql = "SELECT \"Ünï\".*, 'é😀''x', $$body ; $$, `a` FROM \"Ünï\" /* ç */ \
                   JOIN s.t ON x = ? -- 🦀\n WHERE y = $1 AND z @> '{}' FOR UPDATE";
        for (index, _) in sql.char_indices() {
            let _ = classify(&sql[..index]);
            let _ = classify(&sql[index..]);
        }
        for sql in [
            "\u{feff}SELECT 1",
            "SELECT \0",
            "SELECT 'unterminated",
            "SELECT \"x",
            "\\",
            "`",
            "$a",
            "$a$ x",
        ] {
            let _ = classify(sql);
        }
    }

    #[test]
    fn tables_are_lower_cased_deduplicated_and_in_order() {
        let class = classify(
            "INSERT INTO archive SELECT o.* FROM Orders o \
             JOIN public.\"Customers\" c ON c.id = o.customer_id \
             JOIN orders o2 ON o2.id = o.id \
             WHERE o.id IN (SELECT order_id FROM refunds) \
             AND EXISTS (SELECT 1 FROM audit.log l WHERE l.id = o.id)",
        );
        assert_eq!(
            class.tables,
            [
                "archive",
                "orders",
                "public.customers",
                "refunds",
                "audit.log"
            ]
        );
    }

    #[test]
    fn tables_cover_update_delete_and_conflict_clauses() {
        assert_eq!(
            classify("UPDATE accounts a SET balance = b.total FROM balances b WHERE a.id = b.id")
                .tables,
            ["accounts", "balances"]
        );
        assert_eq!(
            classify("DELETE FROM sessions s USING users u WHERE s.user_id = u.id").tables,
            ["sessions", "users"]
        );
        assert_eq!(
            classify("INSERT INTO t (a) VALUES ($1) ON CONFLICT (a) DO UPDATE SET a = excluded.a")
                .tables,
            ["t"]
        );
        assert!(classify("SELECT * FROM generate_series(1, 10)")
            .tables
            .is_empty());
    }

    #[test]
    fn keyword_scan_finds_tables_and_skips_function_from() {
        let class = classify(
            "SELECT extract(epoch FROM created_at) FROM ONLY events e JOIN \"Users\" u \
             ON u.id = e.user_id WHERE a IS DISTINCT FROM b AND",
        );
        assert_eq!(class.by, ClassifiedBy::Keyword);
        assert_eq!(class.tables, ["events", "users"]);
        let locked = classify("SELECT * FROM jobs FOR NO KEY UPDATE SKIP LOCKED");
        assert_eq!(locked.tables, ["jobs"]);
    }

    #[test]
    fn enums_serialize_in_kebab_case() {
        assert_eq!(
            serde_json::to_string(&Access::Read).ok().as_deref(),
            Some("\"read\"")
        );
        assert_eq!(
            serde_json::to_string(&Access::Write).ok().as_deref(),
            Some("\"write\"")
        );
        assert_eq!(
            serde_json::to_string(&ClassifiedBy::Keyword)
                .ok()
                .as_deref(),
            Some("\"keyword\"")
        );
    }
}

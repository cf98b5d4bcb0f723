//! Schema introspection: the tables of the current database with their columns,
//! primary keys, indexes, foreign keys and CHECK constraints, read from the
//! catalogue (SQLite's `sqlite_master` and pragmas, PostgreSQL's `pg_catalog` in
//! `current_schema()`) into plain ordered data. The migration tests compare it:
//! a reverted migration must leave the schema exactly as it found it, and the
//! two backends must mean the same (`Schema::meaning`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};

use super::DbConnection;

/// Diesel's bookkeeping table, which no migration creates.
const MIGRATIONS_TABLE: &str = "__diesel_schema_migrations";

/// Every table of the database but diesel's bookkeeping table, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    pub tables: BTreeMap<String, Table>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    pub columns: BTreeMap<String, Column>,
    /// The column names in their order in the table.
    pub column_order: Vec<String>,
    /// The primary key's columns in key order; empty when there is none.
    pub primary_key: Vec<String>,
    /// Indexes by name, without the primary key's.
    pub indexes: BTreeMap<String, Index>,
    pub foreign_keys: BTreeSet<ForeignKey>,
    pub checks: BTreeSet<Check>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub kind: ColumnKind,
    pub nullable: bool,
    pub default: Option<Expression>,
}

/// A column's type as a portable kind (the diesel types `schema.rs` uses).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColumnKind {
    BigInt,
    Integer,
    Text,
    Bool,
    Date,
    Timestamp,
    Double,
    Binary,
    /// A type without a portable kind, as the database names it.
    Other(String),
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Index {
    /// Column names in index order; an expression column is `(expression)`.
    pub columns: Vec<String>,
    pub unique: bool,
    /// The WHERE clause of a partial index.
    pub partial: Option<Expression>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ForeignKey {
    /// The constraint's name: PostgreSQL names every one, SQLite none.
    pub name: Option<String>,
    pub columns: Vec<String>,
    pub references_table: String,
    pub references_columns: Vec<String>,
    pub on_delete: OnDelete,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OnDelete {
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Check {
    /// The constraint's name: PostgreSQL names every one, SQLite only when written.
    pub name: Option<String>,
    pub expression: Expression,
}

/// An SQL expression (a CHECK, a default, a partial index's WHERE) as its
/// backend prints it, with what it means in terms both backends share: the
/// table's columns it names and the literals it holds. PostgreSQL prints
/// `kind IN ('a', 'b')` as `kind = ANY (ARRAY['a'::text, 'b'::text])`, so the
/// text can only be compared on one backend; columns and literals on both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Expression {
    /// The tokens joined by single spaces; empty in `Schema::meaning`.
    pub text: String,
    pub columns: BTreeSet<String>,
    /// String literals quoted, numbers as written, and true/false/null.
    pub literals: BTreeSet<String>,
}

/// Reads the schema of the database `conn` is connected to.
pub fn introspect(conn: &mut DbConnection) -> QueryResult<Schema> {
    match conn {
        DbConnection::Sqlite(c) => sqlite::introspect(c),
        DbConnection::Postgres(c) => postgres::introspect(c),
    }
}

impl Schema {
    /// The schema reduced to what both backends can agree on: names of indexes
    /// and constraints dropped (an index is keyed by what it covers instead),
    /// expressions reduced to their columns and literals.
    pub fn meaning(&self) -> Schema {
        let tables = self
            .tables
            .iter()
            .map(|(name, table)| {
                let columns = table
                    .columns
                    .iter()
                    .map(|(name, c)| {
                        let column = Column {
                            default: c.default.as_ref().map(Expression::meaning),
                            ..c.clone()
                        };
                        (name.clone(), column)
                    })
                    .collect();
                let indexes = table
                    .indexes
                    .values()
                    .map(|index| {
                        let index = Index {
                            partial: index.partial.as_ref().map(Expression::meaning),
                            ..index.clone()
                        };
                        (index.describe(), index)
                    })
                    .collect();
                let foreign_keys = table
                    .foreign_keys
                    .iter()
                    .map(|fk| ForeignKey {
                        name: None,
                        ..fk.clone()
                    })
                    .collect();
                let checks = table
                    .checks
                    .iter()
                    .map(|check| Check {
                        name: None,
                        expression: check.expression.meaning(),
                    })
                    .collect();
                let table = Table {
                    columns,
                    column_order: table.column_order.clone(),
                    primary_key: table.primary_key.clone(),
                    indexes,
                    foreign_keys,
                    checks,
                };
                (name.clone(), table)
            })
            .collect();
        Schema { tables }
    }

    /// What differs between `self` (called `left`) and `other` (`right`), one
    /// line per difference; empty when the two are equal.
    pub fn differences(&self, other: &Schema, left: &str, right: &str) -> Vec<String> {
        let mut out = Vec::new();
        let sides = Sides { left, right };
        for (name, a, b) in pairs(&self.tables, &other.tables) {
            match (a, b) {
                (Some(a), Some(b)) => a.differences(b, name, &sides, &mut out),
                (Some(_), None) => out.push(format!("table {name}: only in {left}")),
                (None, Some(_)) => out.push(format!("table {name}: only in {right}")),
                (None, None) => {}
            }
        }
        out
    }
}

struct Sides<'a> {
    left: &'a str,
    right: &'a str,
}

impl Sides<'_> {
    fn map<K: Ord + Debug, V: PartialEq + Debug>(
        &self,
        what: &str,
        a: &BTreeMap<K, V>,
        b: &BTreeMap<K, V>,
        out: &mut Vec<String>,
    ) {
        for (key, x, y) in pairs(a, b) {
            match (x, y) {
                (Some(x), Some(y)) if x != y => out.push(format!(
                    "{what} {key:?}: {x:?} in {}, {y:?} in {}",
                    self.left, self.right
                )),
                (Some(x), None) => out.push(format!("{what} {key:?}: {x:?} only in {}", self.left)),
                (None, Some(y)) => {
                    out.push(format!("{what} {key:?}: {y:?} only in {}", self.right))
                }
                _ => {}
            }
        }
    }

    fn set<T: Ord + Debug>(
        &self,
        what: &str,
        a: &BTreeSet<T>,
        b: &BTreeSet<T>,
        out: &mut Vec<String>,
    ) {
        for x in a.difference(b) {
            out.push(format!("{what}: {x:?} only in {}", self.left));
        }
        for y in b.difference(a) {
            out.push(format!("{what}: {y:?} only in {}", self.right));
        }
    }
}

/// The keys of two maps in order, with each side's value.
fn pairs<'a, K: Ord, V>(
    a: &'a BTreeMap<K, V>,
    b: &'a BTreeMap<K, V>,
) -> Vec<(&'a K, Option<&'a V>, Option<&'a V>)> {
    let keys: BTreeSet<&K> = a.keys().chain(b.keys()).collect();
    keys.into_iter().map(|k| (k, a.get(k), b.get(k))).collect()
}

impl Table {
    fn differences(&self, other: &Table, name: &str, sides: &Sides, out: &mut Vec<String>) {
        sides.map(
            &format!("table {name}: column"),
            &self.columns,
            &other.columns,
            out,
        );
        if self.columns.len() == other.columns.len() && self.column_order != other.column_order {
            out.push(format!(
                "table {name}: column order {:?} in {}, {:?} in {}",
                self.column_order, sides.left, other.column_order, sides.right
            ));
        }
        if self.primary_key != other.primary_key {
            out.push(format!(
                "table {name}: primary key {:?} in {}, {:?} in {}",
                self.primary_key, sides.left, other.primary_key, sides.right
            ));
        }
        sides.map(
            &format!("table {name}: index"),
            &self.indexes,
            &other.indexes,
            out,
        );
        sides.set(
            &format!("table {name}: foreign key"),
            &self.foreign_keys,
            &other.foreign_keys,
            out,
        );
        sides.set(
            &format!("table {name}: check"),
            &self.checks,
            &other.checks,
            out,
        );
    }
}

impl Index {
    /// What the index covers, in words: `unique (a, b) where [status] ['pending']`.
    pub fn describe(&self) -> String {
        let unique = if self.unique { "unique " } else { "" };
        let partial = match &self.partial {
            Some(e) => format!(" where {:?} {:?}", e.columns, e.literals),
            None => String::new(),
        };
        format!("{unique}({}){partial}", self.columns.join(", "))
    }
}

impl Expression {
    /// Reads `sql`, an expression on a table with `columns`.
    fn parse(sql: &str, columns: &BTreeSet<String>) -> Expression {
        Expression::from_tokens(&tokens(sql), columns)
    }

    fn from_tokens(tokens: &[Token], columns: &BTreeSet<String>) -> Expression {
        let mut named = BTreeSet::new();
        let mut literals = BTreeSet::new();
        for token in tokens {
            match token {
                Token::Word(w) if columns.contains(w) => {
                    named.insert(w.clone());
                }
                Token::Word(w) if ["true", "false", "null"].contains(&w.as_str()) => {
                    literals.insert(w.clone());
                }
                Token::Quoted(w) if columns.contains(w) => {
                    named.insert(w.clone());
                }
                Token::Str(s) => {
                    literals.insert(format!("'{}'", s.replace('\'', "''")));
                }
                Token::Number(n) => {
                    literals.insert(n.clone());
                }
                _ => {}
            }
        }
        let text = tokens
            .iter()
            .map(Token::to_sql)
            .collect::<Vec<_>>()
            .join(" ");
        Expression {
            text,
            columns: named,
            literals,
        }
    }

    fn meaning(&self) -> Expression {
        Expression {
            text: String::new(),
            ..self.clone()
        }
    }
}

/// One SQL token. Unquoted words are lower-cased (SQL folds them); comments
/// and white space are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Str(String),
    Number(String),
    Punct(String),
}

impl Token {
    fn to_sql(&self) -> String {
        match self {
            Token::Word(w) | Token::Number(w) | Token::Punct(w) => w.clone(),
            Token::Quoted(w) => format!("\"{}\"", w.replace('"', "\"\"")),
            Token::Str(s) => format!("'{}'", s.replace('\'', "''")),
        }
    }

    fn is_word(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w == word)
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self, Token::Punct(x) if x == p)
    }
}

/// Splits SQL into tokens: enough of both dialects for CREATE TABLE statements,
/// CHECK and default expressions and index predicates.
fn tokens(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    // Reads a quoted run closed by `quote` (doubled inside); returns it and the next index.
    let quoted = |start: usize, quote: char| -> (String, usize) {
        let mut s = String::new();
        let mut j = start + 1;
        while j < chars.len() {
            if chars[j] == quote {
                if chars.get(j + 1) == Some(&quote) {
                    s.push(quote);
                    j += 2;
                    continue;
                }
                return (s, j + 1);
            }
            s.push(chars[j]);
            j += 1;
        }
        (s, j)
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' {
            let (s, j) = quoted(i, '\'');
            out.push(Token::Str(s));
            i = j;
        } else if c == '"' || c == '`' {
            let (s, j) = quoted(i, c);
            out.push(Token::Quoted(s));
            i = j;
        } else if c.is_ascii_digit() || (c == '.' && next.is_some_and(|n| n.is_ascii_digit())) {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push(Token::Number(chars[start..i].iter().collect()));
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            out.push(Token::Word(word.to_lowercase()));
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            if ["::", "<>", "<=", ">=", "!=", "||", "=="].contains(&two.as_str()) {
                out.push(Token::Punct(two));
                i += 2;
            } else {
                out.push(Token::Punct(c.to_string()));
                i += 1;
            }
        }
    }
    out
}

/// The tokens inside the parenthesis that opens at `tokens[open]`, and the
/// index after its closing one.
fn parenthesised(tokens: &[Token], open: usize) -> (&[Token], usize) {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            // Saturating: a stray `)` (text that does not open here) ends it.
            depth = depth.saturating_sub(1);
            if depth == 0 {
                return (&tokens[(open + 1).min(i)..i], i + 1);
            }
        }
    }
    (&tokens[(open + 1).min(tokens.len())..], tokens.len())
}

/// The CHECK constraints written in a CREATE TABLE statement (SQLite keeps
/// nothing else of them): each `[CONSTRAINT name] CHECK (expression)`.
fn checks_in_create_table(sql: &str, columns: &BTreeSet<String>) -> BTreeSet<Check> {
    let tokens = tokens(sql);
    let mut checks = BTreeSet::new();
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].is_word("check") && tokens.get(i + 1).is_some_and(|t| t.is_punct("(")) {
            let name = match (
                i.checked_sub(2).map(|j| &tokens[j]),
                tokens.get(i.wrapping_sub(1)),
            ) {
                (Some(t), Some(Token::Word(n) | Token::Quoted(n))) if t.is_word("constraint") => {
                    Some(n.clone())
                }
                _ => None,
            };
            let (inside, after) = parenthesised(&tokens, i + 1);
            checks.insert(Check {
                name,
                expression: Expression::from_tokens(inside, columns),
            });
            i = after;
        } else {
            i += 1;
        }
    }
    checks
}

/// The WHERE clause of a CREATE INDEX statement, if it has one.
fn index_predicate(sql: &str) -> Option<Vec<Token>> {
    let tokens = tokens(sql);
    let mut depth = 0i32;
    for (i, token) in tokens.iter().enumerate() {
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            depth -= 1;
        } else if depth == 0 && token.is_word("where") {
            let mut predicate = tokens[i + 1..].to_vec();
            if predicate.last().is_some_and(|t| t.is_punct(";")) {
                predicate.pop();
            }
            return Some(predicate);
        }
    }
    None
}

mod sqlite {
    //! SQLite: `sqlite_master` and the table-valued pragmas.

    use super::*;
    use diesel::SqliteConnection;

    #[derive(QueryableByName)]
    struct Master {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Nullable<Text>)]
        sql: Option<String>,
    }

    #[derive(QueryableByName)]
    struct ColumnRow {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        declared: String,
        #[diesel(sql_type = Bool)]
        not_null: bool,
        #[diesel(sql_type = Integer)]
        pk: i32,
        #[diesel(sql_type = Nullable<Text>)]
        default_sql: Option<String>,
    }

    #[derive(QueryableByName)]
    struct IndexRow {
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Bool)]
        is_unique: bool,
        #[diesel(sql_type = Text)]
        origin: String,
        #[diesel(sql_type = Bool)]
        partial: bool,
    }

    #[derive(QueryableByName)]
    struct IndexColumn {
        #[diesel(sql_type = Nullable<Text>)]
        name: Option<String>,
    }

    #[derive(QueryableByName)]
    struct ForeignKeyRow {
        #[diesel(sql_type = Integer)]
        id: i32,
        #[diesel(sql_type = Text)]
        parent: String,
        #[diesel(sql_type = Text)]
        from_column: String,
        #[diesel(sql_type = Nullable<Text>)]
        to_column: Option<String>,
        #[diesel(sql_type = Text)]
        on_delete: String,
    }

    pub fn introspect(conn: &mut SqliteConnection) -> QueryResult<Schema> {
        let masters: Vec<Master> = diesel::sql_query(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ? ORDER BY name",
        )
        .bind::<Text, _>(MIGRATIONS_TABLE)
        .load(conn)?;
        let mut schema = Schema::default();
        for master in &masters {
            let table = table(conn, &master.name, master.sql.as_deref().unwrap_or(""))?;
            schema.tables.insert(master.name.clone(), table);
        }
        // A foreign key without columns refers to the parent's primary key.
        let primary_keys: BTreeMap<String, Vec<String>> = schema
            .tables
            .iter()
            .map(|(name, t)| (name.clone(), t.primary_key.clone()))
            .collect();
        for table in schema.tables.values_mut() {
            table.foreign_keys = std::mem::take(&mut table.foreign_keys)
                .into_iter()
                .map(|mut fk| {
                    if fk.references_columns.is_empty() {
                        fk.references_columns = primary_keys
                            .get(&fk.references_table)
                            .cloned()
                            .unwrap_or_default();
                    }
                    fk
                })
                .collect();
        }
        Ok(schema)
    }

    fn table(conn: &mut SqliteConnection, name: &str, sql: &str) -> QueryResult<Table> {
        let rows: Vec<ColumnRow> = diesel::sql_query(
            "SELECT name, type AS declared, \"notnull\" AS not_null, pk, dflt_value AS default_sql \
             FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind::<Text, _>(name)
        .load(conn)?;
        let names: BTreeSet<String> = rows.iter().map(|r| r.name.clone()).collect();
        let mut primary: Vec<&ColumnRow> = rows.iter().filter(|r| r.pk > 0).collect();
        primary.sort_by_key(|r| r.pk);
        // `INTEGER PRIMARY KEY` makes the column the 64-bit rowid, never null.
        let rowid_alias = match primary.as_slice() {
            [only] if only.declared.eq_ignore_ascii_case("INTEGER") => Some(only.name.clone()),
            _ => None,
        };
        let mut table = Table {
            primary_key: primary.iter().map(|r| r.name.clone()).collect(),
            column_order: rows.iter().map(|r| r.name.clone()).collect(),
            checks: checks_in_create_table(sql, &names),
            ..Table::default()
        };
        for row in &rows {
            let is_rowid = rowid_alias.as_deref() == Some(row.name.as_str());
            let column = Column {
                kind: if is_rowid {
                    ColumnKind::BigInt
                } else {
                    kind(&row.declared)
                },
                nullable: !row.not_null && !is_rowid,
                default: row
                    .default_sql
                    .as_deref()
                    .map(|d| Expression::parse(d, &BTreeSet::new())),
            };
            table.columns.insert(row.name.clone(), column);
        }

        let indexes: Vec<IndexRow> = diesel::sql_query(
            "SELECT name, \"unique\" AS is_unique, origin, partial FROM pragma_index_list(?)",
        )
        .bind::<Text, _>(name)
        .load(conn)?;
        for index in indexes.into_iter().filter(|i| i.origin != "pk") {
            let columns: Vec<IndexColumn> =
                diesel::sql_query("SELECT name FROM pragma_index_info(?) ORDER BY seqno")
                    .bind::<Text, _>(&index.name)
                    .load(conn)?;
            let partial = if index.partial {
                let sql: Vec<Master> = diesel::sql_query(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name = ?",
                )
                .bind::<Text, _>(&index.name)
                .load(conn)?;
                sql.first()
                    .and_then(|m| m.sql.as_deref())
                    .and_then(index_predicate)
                    .map(|p| Expression::from_tokens(&p, &names))
            } else {
                None
            };
            let columns = columns
                .into_iter()
                .map(|c| c.name.unwrap_or_else(|| "(expression)".into()))
                .collect();
            table.indexes.insert(
                index.name,
                Index {
                    columns,
                    unique: index.is_unique,
                    partial,
                },
            );
        }

        let keys: Vec<ForeignKeyRow> = diesel::sql_query(
            "SELECT id, \"table\" AS parent, \"from\" AS from_column, \"to\" AS to_column, \
                    on_delete \
             FROM pragma_foreign_key_list(?) ORDER BY id, seq",
        )
        .bind::<Text, _>(name)
        .load(conn)?;
        let mut grouped: BTreeMap<i32, ForeignKey> = BTreeMap::new();
        for key in keys {
            let fk = grouped.entry(key.id).or_insert_with(|| ForeignKey {
                name: None,
                columns: Vec::new(),
                references_table: key.parent.clone(),
                references_columns: Vec::new(),
                on_delete: on_delete(&key.on_delete),
            });
            fk.columns.push(key.from_column);
            fk.references_columns.extend(key.to_column);
        }
        table.foreign_keys = grouped.into_values().collect();
        Ok(table)
    }

    /// The portable kind of a declared column type.
    fn kind(declared: &str) -> ColumnKind {
        match declared.to_ascii_uppercase().as_str() {
            "BIGINT" | "INT8" => ColumnKind::BigInt,
            "INTEGER" | "INT" | "INT4" => ColumnKind::Integer,
            "TEXT" => ColumnKind::Text,
            "BOOLEAN" | "BOOL" => ColumnKind::Bool,
            "DATE" => ColumnKind::Date,
            "TIMESTAMP" | "DATETIME" => ColumnKind::Timestamp,
            "DOUBLE" | "DOUBLE PRECISION" | "REAL" | "FLOAT8" => ColumnKind::Double,
            "BLOB" => ColumnKind::Binary,
            _ => ColumnKind::Other(declared.to_string()),
        }
    }

    fn on_delete(action: &str) -> OnDelete {
        match action {
            "CASCADE" => OnDelete::Cascade,
            "RESTRICT" => OnDelete::Restrict,
            "SET NULL" => OnDelete::SetNull,
            "SET DEFAULT" => OnDelete::SetDefault,
            _ => OnDelete::NoAction,
        }
    }
}

mod postgres {
    //! PostgreSQL: `pg_catalog`, restricted to the tables of `current_schema()`.

    use super::*;
    use diesel::PgConnection;

    /// The tables of the current schema but diesel's, as a FROM item `c`.
    const TABLES: &str = "pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
        AND n.nspname = current_schema() AND c.relkind IN ('r', 'p') \
        AND c.relname <> '__diesel_schema_migrations'";

    #[derive(QueryableByName)]
    struct ColumnRow {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        type_name: String,
        #[diesel(sql_type = Bool)]
        not_null: bool,
        #[diesel(sql_type = Nullable<Text>)]
        default_sql: Option<String>,
    }

    #[derive(QueryableByName)]
    struct IndexRow {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Bool)]
        is_primary: bool,
        #[diesel(sql_type = Bool)]
        is_unique: bool,
        #[diesel(sql_type = Nullable<Text>)]
        predicate: Option<String>,
        #[diesel(sql_type = Text)]
        column_name: String,
    }

    #[derive(QueryableByName)]
    struct ConstraintRow {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        definition: String,
    }

    #[derive(QueryableByName)]
    struct ForeignKeyRow {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        name: String,
        #[diesel(sql_type = Text)]
        parent: String,
        #[diesel(sql_type = Text)]
        on_delete: String,
        #[diesel(sql_type = Text)]
        column_name: String,
        #[diesel(sql_type = Text)]
        parent_column: String,
    }

    pub fn introspect(conn: &mut PgConnection) -> QueryResult<Schema> {
        let mut schema = Schema::default();

        let columns: Vec<ColumnRow> = diesel::sql_query(format!(
            "SELECT c.relname::text AS table_name, a.attname::text AS name, \
                    format_type(a.atttypid, a.atttypmod) AS type_name, a.attnotnull AS not_null, \
                    pg_get_expr(d.adbin, d.adrelid) AS default_sql \
             FROM {TABLES} \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped \
             LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum \
             ORDER BY c.relname, a.attnum"
        ))
        .load(conn)?;
        for row in columns {
            let table = schema.tables.entry(row.table_name).or_default();
            table.column_order.push(row.name.clone());
            table.columns.insert(
                row.name,
                Column {
                    kind: kind(&row.type_name),
                    nullable: !row.not_null,
                    default: row
                        .default_sql
                        .as_deref()
                        .map(|d| Expression::parse(d, &BTreeSet::new())),
                },
            );
        }
        let names = |schema: &Schema, table: &str| -> BTreeSet<String> {
            schema
                .tables
                .get(table)
                .map(|t| t.columns.keys().cloned().collect())
                .unwrap_or_default()
        };

        // The key columns of every index (INCLUDE columns left out), in order.
        let indexes: Vec<IndexRow> = diesel::sql_query(format!(
            "SELECT c.relname::text AS table_name, ic.relname::text AS name, \
                    i.indisprimary AS is_primary, i.indisunique AS is_unique, \
                    pg_get_expr(i.indpred, i.indrelid) AS predicate, \
                    COALESCE(a.attname::text, \
                             '(' || pg_get_indexdef(i.indexrelid, k.ord::int4, true) || ')') \
                        AS column_name \
             FROM {TABLES} \
             JOIN pg_index i ON i.indrelid = c.oid \
             JOIN pg_class ic ON ic.oid = i.indexrelid \
             CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) \
             LEFT JOIN pg_attribute a \
                 ON a.attrelid = c.oid AND a.attnum = k.attnum AND k.attnum > 0 \
             WHERE k.ord <= i.indnkeyatts \
             ORDER BY c.relname, ic.relname, k.ord"
        ))
        .load(conn)?;
        for row in indexes {
            let columns = names(&schema, &row.table_name);
            let table = schema.tables.entry(row.table_name).or_default();
            if row.is_primary {
                table.primary_key.push(row.column_name);
                continue;
            }
            table
                .indexes
                .entry(row.name)
                .or_insert_with(|| Index {
                    columns: Vec::new(),
                    unique: row.is_unique,
                    partial: row
                        .predicate
                        .as_deref()
                        .map(|p| Expression::parse(p, &columns)),
                })
                .columns
                .push(row.column_name);
        }

        let keys: Vec<ForeignKeyRow> = diesel::sql_query(format!(
            "SELECT c.relname::text AS table_name, con.conname::text AS name, \
                    pc.relname::text AS parent, con.confdeltype::text AS on_delete, \
                    a.attname::text AS column_name, pa.attname::text AS parent_column \
             FROM {TABLES} \
             JOIN pg_constraint con ON con.conrelid = c.oid AND con.contype = 'f' \
             JOIN pg_class pc ON pc.oid = con.confrelid \
             CROSS JOIN LATERAL unnest(con.conkey, con.confkey) \
                 WITH ORDINALITY AS k(attnum, parent_attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum \
             JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.parent_attnum \
             ORDER BY c.relname, con.conname, k.ord"
        ))
        .load(conn)?;
        let mut grouped: BTreeMap<(String, String), ForeignKey> = BTreeMap::new();
        for row in keys {
            let fk = grouped
                .entry((row.table_name, row.name.clone()))
                .or_insert_with(|| ForeignKey {
                    name: Some(row.name),
                    columns: Vec::new(),
                    references_table: row.parent,
                    references_columns: Vec::new(),
                    on_delete: on_delete(&row.on_delete),
                });
            fk.columns.push(row.column_name);
            fk.references_columns.push(row.parent_column);
        }
        for ((table_name, _), fk) in grouped {
            schema
                .tables
                .entry(table_name)
                .or_default()
                .foreign_keys
                .insert(fk);
        }

        let checks: Vec<ConstraintRow> = diesel::sql_query(format!(
            "SELECT c.relname::text AS table_name, con.conname::text AS name, \
                    pg_get_constraintdef(con.oid) AS definition \
             FROM {TABLES} \
             JOIN pg_constraint con ON con.conrelid = c.oid AND con.contype = 'c'"
        ))
        .load(conn)?;
        for row in checks {
            let columns = names(&schema, &row.table_name);
            // The definition reads `CHECK (expression)`, maybe followed by NOT VALID.
            let tokens = tokens(&row.definition);
            let open = tokens.iter().position(|t| t.is_punct("(")).unwrap_or(0);
            let (inside, _) = parenthesised(&tokens, open);
            schema
                .tables
                .entry(row.table_name)
                .or_default()
                .checks
                .insert(Check {
                    name: Some(row.name),
                    expression: Expression::from_tokens(inside, &columns),
                });
        }
        Ok(schema)
    }

    /// The portable kind of a type as `format_type` names it.
    fn kind(type_name: &str) -> ColumnKind {
        match type_name {
            "bigint" => ColumnKind::BigInt,
            "integer" => ColumnKind::Integer,
            "text" => ColumnKind::Text,
            "boolean" => ColumnKind::Bool,
            "date" => ColumnKind::Date,
            "timestamp without time zone" => ColumnKind::Timestamp,
            "double precision" => ColumnKind::Double,
            "bytea" => ColumnKind::Binary,
            _ => ColumnKind::Other(type_name.to_string()),
        }
    }

    /// `pg_constraint.confdeltype`.
    fn on_delete(code: &str) -> OnDelete {
        match code {
            "c" => OnDelete::Cascade,
            "r" => OnDelete::Restrict,
            "n" => OnDelete::SetNull,
            "d" => OnDelete::SetDefault,
            _ => OnDelete::NoAction,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn columns(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn a_check_means_the_same_as_sqlite_and_postgresql_print_it() {
        let cols = columns(&["kind", "name"]);
        let sqlite = Expression::parse("kind IN ('office', 'it''s')", &cols);
        let postgres =
            Expression::parse("(kind = ANY (ARRAY['office'::text, 'it''s'::text]))", &cols);
        assert_eq!(sqlite.meaning(), postgres.meaning());
        assert_eq!(sqlite.columns, columns(&["kind"]));
        assert_eq!(sqlite.text, "kind in ( 'office' , 'it''s' )");
    }

    #[test]
    fn checks_are_read_from_a_create_table_statement() {
        let sql = "CREATE TABLE \"t\" (\n  id INTEGER PRIMARY KEY, -- a CHECK (in a comment)\n  \
                   role TEXT NOT NULL CHECK (role IN ('a', 'check')),\n  \
                   n INTEGER CHECK (n BETWEEN 0 AND (100)),\n  \
                   CONSTRAINT named CHECK (role <> 'a' OR n IS NOT NULL)\n)";
        let checks = checks_in_create_table(sql, &columns(&["id", "role", "n"]));
        let found: Vec<(Option<String>, String)> = checks
            .into_iter()
            .map(|c| (c.name, c.expression.text))
            .collect();
        assert_eq!(
            found,
            vec![
                (None, "n between 0 and ( 100 )".to_string()),
                (None, "role in ( 'a' , 'check' )".to_string()),
                (
                    Some("named".to_string()),
                    "role <> 'a' or n is not null".to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_partial_index_keeps_its_where_clause() {
        let predicate =
            index_predicate("CREATE UNIQUE INDEX x ON t (task_id) WHERE status = 'pending'")
                .map(|p| Expression::from_tokens(&p, &columns(&["status", "task_id"])));
        let predicate = predicate.map(|e| (e.columns, e.literals));
        assert_eq!(
            predicate,
            Some((columns(&["status"]), columns(&["'pending'"])))
        );
        assert_eq!(index_predicate("CREATE INDEX x ON t (a)"), None);
    }
}

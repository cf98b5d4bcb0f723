//! A statement's query plan, as the database would run it, with its values
//! bound: for tests that hold a hot statement to its index. A dropped or
//! unusable index does not fail anything else; it turns a seek per batch
//! into a walk of the table, which shows only at a million rows.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Integer, Text};
use diesel::sqlite::Sqlite;

use super::DbConnection;

/// `EXPLAIN QUERY PLAN <query>` on SQLite: a row a step (id, parent, unused,
/// what it does).
#[derive(QueryId)]
struct SqlitePlan<Q>(Q);

impl<Q: QueryFragment<Sqlite>> QueryFragment<Sqlite> for SqlitePlan<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("EXPLAIN QUERY PLAN ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> Query for SqlitePlan<Q> {
    type SqlType = (Integer, Integer, Integer, Text);
}

impl<Q> RunQueryDsl<SqliteConnection> for SqlitePlan<Q> {}

/// `EXPLAIN <query>` on PostgreSQL: a line of the plan a row.
#[derive(QueryId)]
struct PgPlan<Q>(Q);

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for PgPlan<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("EXPLAIN ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> Query for PgPlan<Q> {
    type SqlType = Text;
}

impl<Q> RunQueryDsl<PgConnection> for PgPlan<Q> {}

/// The plan of `query` on `conn`'s backend, a line a step: SQLite's
/// `SEARCH notices USING COVERING INDEX …` or PostgreSQL's `Index Scan
/// using … on …`. Nothing is run but the planning.
pub fn of<Q>(conn: &mut DbConnection, query: Q) -> QueryResult<Vec<String>>
where
    Q: QueryFragment<Sqlite> + QueryFragment<Pg> + QueryId,
{
    match conn {
        DbConnection::Sqlite(c) => Ok(SqlitePlan(query)
            .load::<(i32, i32, i32, String)>(c)?
            .into_iter()
            .map(|(_, _, _, step)| step)
            .collect()),
        DbConnection::Postgres(c) => PgPlan(query).load::<String>(c),
    }
}

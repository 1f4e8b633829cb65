//! The store as DataFusion sees it: one engine over the Parquet files (with the
//! shared views and the common filters), the named SQL queries of `queries/`, traces
//! loaded into trees for the graph analyses, and results as rows.

mod aliases;
pub mod cluster;
pub mod engine;
pub mod load;
pub mod named;
pub mod rows;
mod stream;
pub mod visible;

pub use engine::{Engine, Filters, QueryResult};
pub use named::NamedQuery;
pub use rows::Rows;

/// Errors of the query layer. Each says which SQL failed: a named query, the shared
/// views, or which statement of an ad hoc script; DataFusion's own message follows as
/// the cause.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// Opening the session over the store (registering its Parquet tables).
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A view of `queries/views.sql` could not be created.
    #[error("cannot create the views of queries/test_id_aliases.sql and queries/views.sql")]
    Views {
        source: datafusion::error::DataFusionError,
    },
    /// A named query (`queries/<query>.sql`) failed to plan or run.
    #[error("query {query} (queries/{query}.sql) failed")]
    Named {
        query: &'static str,
        source: datafusion::error::DataFusionError,
    },
    /// Ad hoc SQL that DataFusion's parser rejects; the message has line and column.
    /// The parser's error is kept but not shown as a cause: it says the same again.
    #[error("cannot parse the SQL: {}", parser_message(parser))]
    Parse {
        parser: datafusion::error::DataFusionError,
    },
    /// One statement of a several-statement script failed to plan or run.
    #[error("SQL statement {number} of {count} failed")]
    Statement {
        /// 1-based position of the statement in the script.
        number: usize,
        count: usize,
        source: datafusion::error::DataFusionError,
    },
    /// The `--cluster` scheduler cannot be used.
    #[error("--cluster {scheduler}: {message}")]
    Cluster { scheduler: String, message: String },
    /// Ad hoc SQL with nothing but comments, whitespace or `;`.
    #[error("no SQL statement given")]
    Empty,
    /// A named query's result lacks a column its row type reads: the SQL and the Rust
    /// disagree (a renamed column), which must not read as zeros.
    #[error("query {query} returned no column `{column}` (it has: {available})")]
    MissingColumn {
        query: String,
        column: String,
        available: String,
    },
    /// A named query's column has another type than its reader expects.
    #[error("query {query}: column `{column}` is {found}, not {expected}")]
    ColumnType {
        query: String,
        column: String,
        expected: &'static str,
        found: String,
    },
    /// A column's values do not fit the row type's field.
    #[error("query {query}: row {row} does not fit its row type: {message}")]
    BadRow {
        query: String,
        row: usize,
        message: String,
    },
}

#[cfg(test)]
mod named_snapshots;
#[cfg(test)]
mod sql_tests;

/// The innermost message of a parser error, without its "sql parser error: " prefix:
/// `Expected: an SQL statement, found: SELEKT at Line: 1, Column: 1`.
fn parser_message(error: &datafusion::error::DataFusionError) -> String {
    let mut innermost: &dyn std::error::Error = error;
    while let Some(next) = innermost.source() {
        innermost = next;
    }
    let text = innermost.to_string();
    text.strip_prefix("sql parser error: ")
        .map_or(text.clone(), str::to_string)
}

//! The store as DataFusion sees it: one engine over the Parquet files (with the
//! shared views and the common filters), the named SQL queries of `queries/`, traces
//! loaded into trees for the graph analyses, and results as rows.

pub mod engine;
pub mod load;
pub mod named;
pub mod rows;

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
    #[error("cannot create the views of queries/views.sql")]
    Views {
        source: datafusion::error::DataFusionError,
    },
    /// A named query (`queries/<query>.sql`) failed to plan or run.
    #[error("query {query} (queries/{query}.sql) failed")]
    Named {
        query: &'static str,
        source: datafusion::error::DataFusionError,
    },
    /// Ad hoc SQL that DataFusion's parser rejects (the cause has line and column).
    #[error("cannot parse the SQL")]
    Parse {
        source: datafusion::error::DataFusionError,
    },
    /// One statement of ad hoc SQL failed to plan or run.
    #[error("{}", statement_failed(*number, *count))]
    Statement {
        /// 1-based position of the statement in the script.
        number: usize,
        count: usize,
        source: datafusion::error::DataFusionError,
    },
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

fn statement_failed(number: usize, count: usize) -> String {
    if count == 1 {
        "the SQL statement failed".to_string()
    } else {
        format!("SQL statement {number} of {count} failed")
    }
}

#[cfg(test)]
mod named_snapshots;
#[cfg(test)]
mod sql_tests;

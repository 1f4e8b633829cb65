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

/// Errors of the query layer.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
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
    /// A column's values do not fit the row type's field.
    #[error("query {query}: row {row} does not fit its row type: {message}")]
    BadRow {
        query: String,
        row: usize,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod sql_tests;

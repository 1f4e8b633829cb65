//! Questions asked of the store: the DataFusion engine, the named SQL queries, and
//! the graph analyses that SQL expresses badly (critical path, pass/fail comparison),
//! written in pure Rust over traces loaded from the engine, with the statistics they
//! share.

pub mod bottlenecks;
pub mod compare;
pub mod critical_path;
pub mod engine;
pub mod load;
pub mod named;
pub mod stats;
pub mod tree;

pub use engine::{Engine, Filters, QueryResult};
pub use named::NamedQuery;

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
    #[error("{0}")]
    Invalid(String),
}

#[cfg(test)]
mod sql_tests;

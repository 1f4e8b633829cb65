//! The Parquet store: `<data>/spans/date=YYYY-MM-DD/<unique>.parquet`, written
//! atomically and deduplicated by `(trace_id, span_id)`. Plain Parquet with standard
//! types, so DuckDB, polars or Spark read it as it is.

pub mod dedupe;
pub mod layout;
pub mod schema;
pub mod writer;

use std::path::{Path, PathBuf};

pub use layout::Store;
pub use writer::{StoreWriter, WriteStats};

/// Errors of the store layer, each naming the file involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: cannot write Parquet: {message}")]
    Write { path: PathBuf, message: String },
    #[error("{path}: not a readable pipescope Parquet file: {message}")]
    Corrupt { path: PathBuf, message: String },
    /// A command that reads the store was pointed at a directory without one.
    #[error(
        "no store at {path} (run `pipescope ingest FILES` first, or pass --data DIR / set PIPESCOPE_DATA)"
    )]
    Missing { path: PathBuf },
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

#[cfg(test)]
mod roundtrip_tests;

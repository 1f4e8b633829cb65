//! The Parquet store: `<data>/spans/date=YYYY-MM-DD/<unique>.parquet`, written
//! atomically and deduplicated by `(trace_id, span_id)`. Plain Parquet with standard
//! types, so DuckDB, polars or Spark read it as it is.

pub mod bucket;
pub mod compact;
pub mod dedupe;
pub mod format;
pub mod integrity;
pub mod journal;
pub mod layout;
pub mod manifest;
pub mod part;
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
    /// A file the writer cannot read back (loading the keys of stored spans): writing
    /// on would store its spans again, so the writer stops and says how to go on.
    #[error(
        "{path}: not a readable pipescope Parquet file: {message} (`pipescope check --repair` sets damaged files aside)"
    )]
    Corrupt { path: PathBuf, message: String },
    /// A file an analysis had to leave out, as the error `--strict` fails with (and,
    /// after `warning: skipping`, the warning it prints otherwise).
    #[error("damaged store file {}: {message}; run pipescope check", path.display())]
    Damaged { path: PathBuf, message: String },
    /// A store written by a newer pipescope, which this one could misread.
    #[error(
        "store at {} has format version {version}; this pipescope reads up to {known}; upgrade pipescope",
        path.display()
    )]
    TooNew {
        path: PathBuf,
        version: u32,
        known: u32,
    },
    #[error("{}: not a store format version (expected a number, found {found:?})", path.display())]
    BadFormatFile { path: PathBuf, found: String },
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

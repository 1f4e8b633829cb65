//! Typed errors of the source layer: finding and opening inputs, and the fatal errors
//! that stop a decoder (reading failed, or the sink refused to go on). Malformed items
//! are not errors: decoders report them as [`Problem`](super::Problem)s and go on.

use std::path::PathBuf;

use super::SinkError;

/// What can stop a source: an input that cannot be found or opened, a read that
/// failed mid-decode, or the sink's own error.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// A command-line argument names nothing that exists.
    #[error("{arg}: no such file or directory")]
    NotFound { arg: String },
    /// A glob pattern is malformed.
    #[error("{arg}: invalid glob pattern: {message}")]
    BadPattern { arg: String, message: String },
    /// A glob pattern matched no file.
    #[error("{arg}: the pattern matched no files")]
    NoMatch { arg: String },
    /// Reading a directory or opening / sniffing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A format name given on the command line is unknown.
    #[error("unknown format {name:?} (expected otlp, otlp-proto, jaeger, zipkin, python or junit)")]
    UnknownFormat { name: String },
    /// Reading an input failed while it was being decoded (binary formats).
    #[error(transparent)]
    Read(#[from] std::io::Error),
    /// Reading a JSON input failed while it was being decoded (serde_json reports the
    /// I/O error as its own).
    #[error("reading {origin}")]
    ReadJson {
        origin: String,
        #[source]
        source: serde_json::Error,
    },
    /// The sink failed (the store, `--strict`): decoding stopped with its error,
    /// whose message and causes are shown as they are.
    #[error(transparent)]
    Sink(#[from] SinkError),
}

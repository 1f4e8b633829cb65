//! Typed errors of the input layer.

use std::path::PathBuf;

/// What can go wrong before decoding starts (finding and opening inputs).
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
    #[error("unknown format {name:?} (expected otlp, otlp-proto, jaeger, zipkin or python)")]
    UnknownFormat { name: String },
}

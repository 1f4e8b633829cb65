//! Typed errors of `pull`: what stops a pull, as opposed to the failures it records
//! and goes on from (a request that failed after its retries skips one item).

use crate::ingest::IngestError;
use crate::source::backend::api::Window;
use crate::source::backend::http::HttpError;

use super::checkpoint::CheckpointError;

/// What stops a pull. What was committed before it stays, and the checkpoint covers
/// exactly that.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// Reading or writing the checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// Opening, writing or committing the store failed.
    #[error(transparent)]
    Store(#[from] IngestError),
    /// A request failed in a way every further one would too (authentication, a
    /// rejected query).
    #[error("pull stopped in window {window}; the checkpoint covers what was stored before it")]
    Stopped {
        window: Window,
        #[source]
        source: HttpError,
    },
    /// Jaeger service discovery could not list the services.
    #[error("cannot list services")]
    ListServices {
        #[source]
        source: HttpError,
    },
    /// Jaeger service discovery found no service matching the pattern.
    #[error("no service matches --service-regex '{pattern}'")]
    NoServiceMatches { pattern: String },
}

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
    /// The backend could not be reached (connection refused, timeouts) even after the
    /// retries: reported once, not once per window.
    #[error(
        "cannot reach the backend (pulling window {window}); the checkpoint covers what was stored before it"
    )]
    Unreachable {
        window: Window,
        #[source]
        source: HttpError,
    },
    /// Service discovery (Jaeger, Zipkin) could not list the services.
    #[error("cannot list the backend's services")]
    ListServices {
        #[source]
        source: HttpError,
    },
    /// Service discovery found no service matching the pattern.
    #[error("no service matches --service-regex '{pattern}' ({listed} services listed)")]
    NoServiceMatches { pattern: String, listed: usize },
}

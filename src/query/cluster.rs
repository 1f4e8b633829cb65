//! `--cluster df://HOST:PORT`: the engine's SQL runs on a DataFusion Ballista cluster
//! (its scheduler at HOST:PORT, its executors reading the store where it lives: the
//! bucket of `--data s3://…`, or the directory, which every executor must then see at
//! the same path). The session is the same — tables, views, named queries, bound
//! parameters — only its plans are sent to the scheduler; what runs in Rust (the
//! critical path, compare's statistics) runs here, on the rows the cluster returns.
//!
//! What the cluster reads is the store's directory as its scheduler lists it, not
//! the files this process checked: a damaged file fails the query instead of being
//! left out (`pipescope check --repair` sets it aside), and a compaction publishing
//! at that moment can be read with its inputs. Run `compact` outside the reports.
//!
//! Built with `--features cluster` only; without it `--cluster` says how to build it.

use std::sync::OnceLock;

use datafusion::execution::context::SessionContext;
use datafusion::prelude::SessionConfig;

use super::QueryError;

/// Where the analyses run, set once by the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    /// `df://HOST:PORT` of the scheduler.
    pub scheduler: String,
    /// The store as the executors read it: the bucket URL (`s3://bucket/prefix`), or
    /// `None` for the local directory's own path.
    pub store_url: Option<String>,
}

static CLUSTER: OnceLock<Cluster> = OnceLock::new();

/// Sends every engine's SQL to `cluster` from now on (the first call wins).
pub fn set(cluster: Cluster) {
    let _ = CLUSTER.set(cluster);
}

/// The cluster engines run on, if `--cluster` was given.
pub fn get() -> Option<&'static Cluster> {
    CLUSTER.get()
}

/// A session whose plans run on `cluster`'s scheduler.
#[cfg(feature = "cluster")]
pub async fn context(
    cluster: &Cluster,
    config: SessionConfig,
) -> Result<SessionContext, QueryError> {
    use ballista::prelude::SessionContextExt;
    use datafusion::execution::session_state::SessionStateBuilder;

    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_default_features()
        .build();
    SessionContext::remote_with_state(&cluster.scheduler, state)
        .await
        .map_err(|source| QueryError::Cluster {
            scheduler: cluster.scheduler.clone(),
            message: source.to_string(),
        })
}

/// Without the `cluster` feature: an error that says how to get it.
#[cfg(not(feature = "cluster"))]
pub async fn context(
    cluster: &Cluster,
    _config: SessionConfig,
) -> Result<SessionContext, QueryError> {
    Err(QueryError::Cluster {
        scheduler: cluster.scheduler.clone(),
        message: "this pipescope was built without Ballista; build it with `cargo build --release --features cluster`".into(),
    })
}

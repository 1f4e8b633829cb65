//! `pipescope receive`: an OTLP endpoint (HTTP and gRPC) that CI jobs and test
//! runners export traces to directly, as they would to an OpenTelemetry Collector.
//!
//! ```text
//! http.rs / grpc.rs ─► body.rs (check) ─► durable.rs ─► wal.rs (append + fsync) ─► ack
//!                                             └─► compactor ─► ingest Batcher ─► store
//! ```
//! A request is acknowledged only once its body is in the write-ahead log and
//! fsynced; the log is compacted into the Parquet store in batches (by size and by
//! age) and replayed on start, so a crash loses nothing acknowledged and the store's
//! deduplication drops what is replayed twice.

pub mod body;
pub mod durable;
pub mod grpc;
pub mod http;
pub mod stats;
pub mod wal;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::ingest::IngestOptions;
use crate::store::Store;
pub use durable::DurableOptions;
pub use stats::{Snapshot, Stats};

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct ReceiveOptions {
    /// OTLP/HTTP listen address (None: no HTTP server).
    pub http: Option<SocketAddr>,
    /// OTLP/gRPC listen address (None: no gRPC server).
    pub grpc: Option<SocketAddr>,
    /// Bearer token every request must carry.
    pub token: Option<String>,
    /// Largest accepted body, compressed or not (413 / OUT_OF_RANGE above).
    pub max_body_bytes: usize,
    pub durable: DurableOptions,
    pub ingest: IngestOptions,
    /// Interval of the status line on stderr (None: never).
    pub status_every: Option<Duration>,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        ReceiveOptions {
            http: Some(SocketAddr::from(([127, 0, 0, 1], 4318))),
            grpc: Some(SocketAddr::from(([127, 0, 0, 1], 4317))),
            token: None,
            max_body_bytes: 16 << 20,
            durable: DurableOptions::default(),
            ingest: IngestOptions::default(),
            status_every: Some(Duration::from_secs(10)),
        }
    }
}

/// What the servers share.
pub struct Shared {
    pub(crate) durable: Arc<durable::Durable>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) token: Option<String>,
    pub(crate) max_body_bytes: usize,
}

/// Whether an `Authorization` header satisfies the configured token.
pub(crate) fn bearer_ok(token: Option<&str>, header: Option<&str>) -> bool {
    let Some(token) = token else {
        return true;
    };
    let Some((scheme, given)) = header.and_then(|h| h.trim().split_once(' ')) else {
        return false;
    };
    // Compare every byte so the time taken does not reveal a matching prefix.
    scheme.eq_ignore_ascii_case("bearer")
        && given.trim().len() == token.len()
        && given
            .trim()
            .bytes()
            .zip(token.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Replays the write-ahead log, serves until `shutdown` resolves (or the compactor
/// fails), then stores everything acknowledged and returns the final counters.
/// `on_listening` is called with the bound addresses (HTTP, gRPC) once serving.
pub async fn run(
    store: &Store,
    options: ReceiveOptions,
    shutdown: impl std::future::Future<Output = ()>,
    on_listening: impl FnOnce(Option<SocketAddr>, Option<SocketAddr>),
) -> anyhow::Result<Snapshot> {
    let stats = Arc::new(Stats::default());
    let wal = wal::WalDir::open(store.root())?;
    let (durable, workers) = {
        let (store, ingest, opts, stats) = (
            store.clone(),
            options.ingest.clone(),
            options.durable.clone(),
            stats.clone(),
        );
        tokio::task::spawn_blocking(move || durable::start(&store, wal, &ingest, &opts, stats))
            .await??
    };
    let shared = Arc::new(Shared {
        durable: durable.clone(),
        stats: stats.clone(),
        token: options.token.clone(),
        max_body_bytes: options.max_body_bytes,
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut servers = Vec::new();
    let mut http_addr = None;
    if let Some(addr) = options.http {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for OTLP/HTTP on {addr}"))?;
        http_addr = Some(listener.local_addr()?);
        servers.push(tokio::spawn(http::serve(
            listener,
            shared.clone(),
            stop_rx.clone(),
        )));
    }
    let mut grpc_addr = None;
    if let Some(addr) = options.grpc {
        let listener = TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen for OTLP/gRPC on {addr}"))?;
        grpc_addr = Some(listener.local_addr()?);
        let mut stop = stop_rx.clone();
        let shared = shared.clone();
        servers.push(tokio::spawn(async move {
            let signal = async move {
                let _ = stop.changed().await;
            };
            if let Err(e) = grpc::serve(listener, shared, signal).await {
                tracing::error!("OTLP/gRPC server: {e}");
            }
        }));
    }
    on_listening(http_addr, grpc_addr);

    let status = options.status_every.map(|every| {
        let stats = stats.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.tick().await;
            loop {
                tick.tick().await;
                eprintln!("{}", stats.snapshot());
            }
        })
    });
    let fatal = {
        let stats = stats.clone();
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if stats.fatal().is_some() {
                    return;
                }
            }
        }
    };
    tokio::select! {
        () = shutdown => {}
        () = fatal => {}
    }

    // Stop accepting, let requests in progress finish, then drain the durable path.
    let _ = stop_tx.send(true);
    for server in servers {
        if tokio::time::timeout(Duration::from_secs(10), server)
            .await
            .is_err()
        {
            tracing::warn!("a server did not stop within 10 s");
        }
    }
    if let Some(status) = status {
        status.abort();
    }
    tokio::task::spawn_blocking(move || {
        durable.close();
        workers.join()
    })
    .await??;
    if let Some(fatal) = stats.fatal() {
        anyhow::bail!("the receiver stopped: cannot write to the store: {fatal}");
    }
    Ok(stats.snapshot())
}

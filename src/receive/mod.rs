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

pub mod auth;
pub mod body;
pub mod durable;
pub mod grpc;
pub mod http;
pub mod limits;
pub mod listen;
pub mod stats;
pub mod tls;
pub mod wal;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::ingest::IngestOptions;
use crate::store::Store;
pub use auth::Token;
pub use durable::DurableOptions;
pub use stats::{Snapshot, Stats};
pub use tls::TlsFiles;

/// How to run the receiver.
#[derive(Debug, Clone)]
pub struct ReceiveOptions {
    /// OTLP/HTTP listen address (None: no HTTP server).
    pub http: Option<SocketAddr>,
    /// OTLP/gRPC listen address (None: no gRPC server).
    pub grpc: Option<SocketAddr>,
    /// Bearer token every request must carry.
    pub token: Option<Token>,
    /// Largest accepted body, compressed or not (413 / OUT_OF_RANGE above).
    pub max_body_bytes: usize,
    /// Bytes of request bodies being read or decoded at once, both protocols together
    /// (503 / UNAVAILABLE above).
    pub max_inflight_bytes: u64,
    /// Open connections, both servers together; more are closed at once.
    pub max_connections: usize,
    /// Longest wait for a request head (HTTP/1: also between keep-alive requests),
    /// for a TLS handshake, and for the first call on an HTTP/2 connection.
    pub header_timeout: Duration,
    /// Longest pause between two pieces of a request body.
    pub body_timeout: Duration,
    /// Serve TLS with this certificate and key (both servers).
    pub tls: Option<TlsFiles>,
    pub durable: DurableOptions,
    pub ingest: IngestOptions,
    /// Interval of the status line on stderr (None: never).
    pub status_every: Option<Duration>,
    /// The write-ahead log's directory (None: `<data>/wal`).
    pub wal: Option<std::path::PathBuf>,
}

impl Default for ReceiveOptions {
    fn default() -> Self {
        ReceiveOptions {
            http: Some(SocketAddr::from(([127, 0, 0, 1], 4318))),
            grpc: Some(SocketAddr::from(([127, 0, 0, 1], 4317))),
            token: None,
            max_body_bytes: 16 << 20,
            max_inflight_bytes: 64 << 20,
            max_connections: 4096,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            tls: None,
            durable: DurableOptions::default(),
            ingest: IngestOptions::default(),
            status_every: Some(Duration::from_secs(10)),
            wal: None,
        }
    }
}

/// What the servers share.
pub struct Shared {
    pub(crate) durable: Arc<durable::Durable>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) token: Option<Token>,
    pub(crate) max_body_bytes: usize,
    pub(crate) budget: Arc<limits::Budget>,
    pub(crate) header_timeout: Duration,
    pub(crate) body_timeout: Duration,
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
    // What can be refused is refused before the write-ahead log is replayed.
    if options.max_inflight_bytes < options.max_body_bytes as u64 {
        anyhow::bail!(
            "--max-inflight-bytes ({}) is smaller than --max-body-bytes ({}): the largest bodies could never be read",
            options.max_inflight_bytes,
            options.max_body_bytes
        );
    }
    let identity = options.tls.as_ref().map(tls::Identity::load).transpose()?;
    let stats = Arc::new(Stats::default());
    let wal = match &options.wal {
        Some(dir) => wal::WalDir::open_at(dir)?,
        None => wal::WalDir::open(store.root())?,
    };
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
        budget: limits::Budget::new(options.max_inflight_bytes),
        header_timeout: options.header_timeout,
        body_timeout: options.body_timeout,
    });
    let connections = limits::Connections::new(options.max_connections);
    let accept = |name, alpn: &[u8]| -> anyhow::Result<listen::Accept> {
        Ok(listen::Accept {
            name,
            tls: identity.as_ref().map(|i| i.acceptor(alpn)).transpose()?,
            connections: connections.clone(),
            stats: stats.clone(),
            handshake_timeout: options.header_timeout,
        })
    };
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
            accept("OTLP/HTTP", b"http/1.1")?,
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
        servers.push(tokio::spawn(grpc::serve(
            listener,
            accept("OTLP/gRPC", b"h2")?,
            shared.clone(),
            stop_rx.clone(),
        )));
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
    shutdown.await;

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
    .await?
    .context("the receiver stopped: cannot write to the store")?;
    Ok(stats.snapshot())
}

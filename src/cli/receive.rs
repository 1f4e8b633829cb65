//! `pipescope receive`: serve OTLP/HTTP and OTLP/gRPC and store what arrives.
//!
//! Prints one line per server on stderr once it is listening
//! (`listening: otlp-http http://127.0.0.1:4318/v1/traces`, `listening: otlp-grpc
//! 127.0.0.1:4317`), a status line periodically, and the final counters when it stops
//! on SIGTERM / Ctrl-C. Exit status 0 after a clean stop, 2 on error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::ingest::IngestOptions;
use crate::model::conventions::Conventions;
use crate::receive::{self, DurableOptions, ReceiveOptions};
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// OTLP/HTTP listen address (`POST /v1/traces`); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:4318")]
    pub http: SocketAddr,
    /// OTLP/gRPC listen address (`TraceService/Export`); port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:4317")]
    pub grpc: SocketAddr,
    /// Do not serve OTLP/HTTP.
    #[arg(long)]
    pub no_http: bool,
    /// Do not serve OTLP/gRPC.
    #[arg(long)]
    pub no_grpc: bool,
    /// Allow listening on a non-loopback address (other machines can then send spans).
    #[arg(long)]
    pub allow_remote: bool,
    /// Require `Authorization: Bearer <token>`, the token read from this environment
    /// variable.
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// Largest accepted request body in bytes (also after gzip inflation).
    #[arg(long, default_value_t = 16 << 20)]
    pub max_body_bytes: usize,
    /// Requests waiting for the write-ahead log before new ones get 429.
    #[arg(long, default_value_t = 256)]
    pub queue: usize,
    /// Compact the write-ahead log into Parquet once a segment holds this many bytes…
    #[arg(long, default_value_t = 32 << 20)]
    pub flush_bytes: u64,
    /// …or once it is this old (e.g. 5s, 1m).
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub flush_interval: Duration,
    /// Write-ahead bytes waiting for compaction before new requests get 429.
    #[arg(long, default_value_t = 1 << 30)]
    pub max_backlog_bytes: u64,
    /// Interval of the status line on stderr (0s: never).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub status_interval: Duration,
    /// A TOML conventions file adding attribute keys and result values to the built-in ones.
    #[arg(long, env = "PIPESCOPE_CONVENTIONS")]
    pub conventions: Option<PathBuf>,
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let http = (!args.no_http).then_some(args.http);
    let grpc = (!args.no_grpc).then_some(args.grpc);
    if http.is_none() && grpc.is_none() {
        anyhow::bail!("--no-http and --no-grpc leave nothing to serve");
    }
    for addr in http.iter().chain(grpc.iter()) {
        if !addr.ip().is_loopback() && !args.allow_remote {
            anyhow::bail!(
                "{addr} is reachable from other machines; pass --allow-remote to listen there (and consider --token-env)"
            );
        }
    }
    let token = match &args.token_env {
        Some(var) => {
            let token = std::env::var(var)
                .with_context(|| format!("--token-env {var}: the variable is not set"))?;
            if token.trim().is_empty() {
                anyhow::bail!("--token-env {var}: the variable is empty");
            }
            Some(token.trim().to_string())
        }
        None => None,
    };
    let conventions = match &args.conventions {
        Some(path) => Conventions::builtin().with_user_file(path)?,
        None => Conventions::builtin(),
    };
    let options = ReceiveOptions {
        http,
        grpc,
        token,
        max_body_bytes: args.max_body_bytes,
        durable: DurableOptions {
            queue: args.queue,
            segment_bytes: args.flush_bytes,
            max_age: args.flush_interval,
            max_backlog_bytes: args.max_backlog_bytes,
        },
        ingest: IngestOptions {
            conventions,
            ..IngestOptions::default()
        },
        status_every: (!args.status_interval.is_zero()).then_some(args.status_interval),
    };
    let store = Store::open(data)
        .with_context(|| format!("cannot open the store at {}", data.display()))?;
    let last = receive::run(&store, options, shutdown_signal(), |http, grpc| {
        if let Some(addr) = http {
            eprintln!("listening: otlp-http http://{addr}/v1/traces");
        }
        if let Some(addr) = grpc {
            eprintln!("listening: otlp-grpc {addr}");
        }
    })
    .await?;
    eprintln!("stopped; {last}");
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

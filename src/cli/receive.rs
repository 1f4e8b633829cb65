//! `pipescope receive`: serve OTLP/HTTP and OTLP/gRPC and store what arrives.
//!
//! Prints one line per server on stderr once it is listening
//! (`listening: otlp-http http://127.0.0.1:4318/v1/traces`, `listening: otlp-grpc
//! 127.0.0.1:4317`; with TLS `https://…` and `… (TLS)`), a status line periodically, and the final counters when it stops
//! on SIGTERM / Ctrl-C. Exit status 0 after a clean stop, 2 on error.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::ingest::IngestOptions;
use crate::model::conventions::Conventions;
use crate::receive::auth::MAX_TOKEN_BYTES;
use crate::receive::{self, DurableOptions, ReceiveOptions, TlsFiles, Token, limits};
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
    /// Needs --token-env, or --insecure-no-auth to accept spans from anyone.
    #[arg(long)]
    pub allow_remote: bool,
    /// With --allow-remote: accept requests without a bearer token.
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// Require `Authorization: Bearer <token>`, the token read from this environment
    /// variable (at most 512 bytes; compared in constant time).
    #[arg(long, value_name = "VAR")]
    pub token_env: Option<String>,
    /// Serve TLS on both ports with this PEM certificate chain (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Largest accepted request body in bytes (also after gzip inflation).
    #[arg(long, default_value_t = 16 << 20)]
    pub max_body_bytes: usize,
    /// Bytes of request bodies being read or decoded at once, both protocols together;
    /// beyond it new requests get 503 with Retry-After (gRPC: UNAVAILABLE).
    #[arg(long, default_value_t = 64 << 20)]
    pub max_inflight_bytes: u64,
    /// Open connections, both protocols together; more are closed at once.
    #[arg(long, default_value_t = 4096)]
    pub max_connections: usize,
    /// Longest wait for a request's headers (also for the next request on a
    /// keep-alive connection, a TLS handshake, and the first call of a gRPC connection).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub header_timeout: Duration,
    /// Longest pause while a request body arrives; a body that stalls longer is
    /// dropped (408 / DEADLINE_EXCEEDED), nothing of it stored.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub body_timeout: Duration,
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
    /// The write-ahead log's directory, on local disk [default: DATA/wal; with
    /// --data s3://…, the working copy's wal/].
    #[arg(long, env = "PIPESCOPE_WAL")]
    pub wal: Option<PathBuf>,
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
    let remote = http
        .iter()
        .chain(grpc.iter())
        .find(|a| !a.ip().is_loopback());
    if let Some(addr) = remote {
        if !args.allow_remote {
            anyhow::bail!(
                "{addr} is reachable from other machines; pass --allow-remote to listen there (and --token-env)"
            );
        }
        if args.token_env.is_none() {
            if !args.insecure_no_auth {
                anyhow::bail!(
                    "{addr} is reachable from other machines and no token is required: pass --token-env VAR (or --insecure-no-auth to accept spans from anyone)"
                );
            }
            eprintln!(
                "warning: {addr} accepts spans from anyone who can reach it (--insecure-no-auth)"
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
            let token = Token::new(token.trim()).with_context(|| {
                format!("--token-env {var}: the token is longer than {MAX_TOKEN_BYTES} bytes")
            })?;
            Some(token)
        }
        None => None,
    };
    let conventions = match &args.conventions {
        Some(path) => Conventions::builtin().with_user_file(path)?,
        None => Conventions::builtin(),
    };
    let tls = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        _ => None,
    };
    // Each connection is a file descriptor, and the store and log need some more.
    let want = args.max_connections as u64 + 256;
    match limits::raise_open_files(want) {
        Ok(got) if got < want => eprintln!(
            "warning: the open-file limit is {got}: fewer than --max-connections {} connections can be accepted",
            args.max_connections
        ),
        Ok(_) => {}
        Err(e) => eprintln!("warning: cannot read or raise the open-file limit: {e}"),
    }
    let options = ReceiveOptions {
        http,
        grpc,
        token,
        max_body_bytes: args.max_body_bytes,
        max_inflight_bytes: args.max_inflight_bytes,
        max_connections: args.max_connections,
        header_timeout: args.header_timeout,
        body_timeout: args.body_timeout,
        tls,
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
        wal: args.wal,
    };
    let store = Store::open(data)
        .with_context(|| format!("cannot open the store at {}", data.display()))?;
    let tls = options.tls.is_some();
    let last = receive::run(&store, options, shutdown_signal(), |http, grpc| {
        let (scheme, note) = if tls {
            ("https", " (TLS)")
        } else {
            ("http", "")
        };
        if let Some(addr) = http {
            eprintln!("listening: otlp-http {scheme}://{addr}/v1/traces");
        }
        if let Some(addr) = grpc {
            eprintln!("listening: otlp-grpc {addr}{note}");
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

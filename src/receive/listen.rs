//! The accept loop both servers run: a connection beyond `--max-connections` is closed
//! at once (the ones already open keep working), a TLS handshake must finish within
//! `--header-timeout`, and on shutdown the loop stops accepting and waits for its
//! connections to finish what they started.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::limits::Connections;
use super::stats::Stats;

/// A connection's byte stream, plain TCP or TLS.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// How a server accepts connections.
pub struct Accept {
    /// "OTLP/HTTP" or "OTLP/gRPC", for log lines.
    pub name: &'static str,
    pub tls: Option<TlsAcceptor>,
    pub connections: Arc<Connections>,
    pub stats: Arc<Stats>,
    /// Longest TLS handshake.
    pub handshake_timeout: Duration,
}

/// Accepts until `shutdown` turns true, running `serve` on every connection admitted
/// (with a receiver of the same shutdown signal), then waits for those to end.
pub async fn accept_loop<F, Fut>(
    listener: TcpListener,
    accept: Accept,
    mut shutdown: watch::Receiver<bool>,
    serve: F,
) where
    F: Fn(Box<dyn Io>, watch::Receiver<bool>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let serve = Arc::new(serve);
    let mut connections = JoinSet::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors (EMFILE) fails every accept until one
                    // closes: pause rather than spin.
                    tracing::warn!("{} accept failed: {e}", accept.name);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            _ = shutdown.changed() => break,
        };
        let Some(slot) = accept.connections.try_open() else {
            accept.stats.connection_refused();
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let (serve, tls, stop) = (serve.clone(), accept.tls.clone(), shutdown.clone());
        let (name, handshake_timeout) = (accept.name, accept.handshake_timeout);
        connections.spawn(async move {
            let _slot = slot;
            let io: Box<dyn Io> = match tls {
                None => Box::new(stream),
                Some(tls) => {
                    match tokio::time::timeout(handshake_timeout, tls.accept(stream)).await {
                        Ok(Ok(stream)) => Box::new(stream),
                        Ok(Err(e)) => {
                            tracing::debug!("{name} TLS handshake with {peer} failed: {e}");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!("{name} TLS handshake with {peer} timed out");
                            return;
                        }
                    }
                }
            };
            serve(io, stop).await;
        });
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

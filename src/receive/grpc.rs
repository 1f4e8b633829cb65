//! OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export`, sharing
//! the HTTP side's checks and durable path. Back-pressure is `RESOURCE_EXHAUSTED`
//! with a `google.rpc.RetryInfo` detail, which is what makes OTLP exporters retry it;
//! UNAVAILABLE (also with `RetryInfo`) while `--max-inflight-bytes` are being read.
//! tonic's generated service runs on hyper's HTTP/2 server directly, so that the
//! accept loop, TLS and limits are the HTTP side's (src/receive/listen.rs).

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use prost::Message as _;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tonic::codegen::Service as _;
use tonic::{Code, Request, Response, Status};

use super::Shared;
use super::auth::bearer_ok;
use super::body::{self, BodyError};
use super::durable::Submitted;
use super::http::{MAX_HEADER_BYTES, RETRY_AFTER_SECS};
use super::limits::{ReadError, Reservation, read_body};
use super::listen::{self, Accept};
use crate::source::BodyKind;

/// The gRPC service.
pub struct Receiver {
    shared: Arc<Shared>,
}

/// Serves gRPC (HTTP/2) on the connections `accept` admits until `shutdown` turns true.
/// A connection that has not started a call within `--header-timeout` is closed
/// (HTTP/2's counterpart of a slow request head); the keep-alive pings close one
/// whose peer stopped answering.
pub async fn serve(
    listener: TcpListener,
    accept: Accept,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let service = TraceServiceServer::new(Receiver {
        shared: shared.clone(),
    })
    .max_decoding_message_size(shared.max_body_bytes)
    .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
    listen::accept_loop(listener, accept, shutdown, move |io, mut stop| {
        let (shared, service) = (shared.clone(), service.clone());
        async move {
            let called = Arc::new(AtomicBool::new(false));
            let header_timeout = shared.header_timeout;
            let handler = {
                let called = called.clone();
                hyper::service::service_fn(move |req| {
                    called.store(true, Ordering::Relaxed);
                    call(req, shared.clone(), service.clone())
                })
            };
            let conn = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                .timer(TokioTimer::new())
                .keep_alive_interval(Some(KEEP_ALIVE))
                .keep_alive_timeout(KEEP_ALIVE)
                .max_header_list_size(MAX_HEADER_BYTES as u32)
                .serve_connection(TokioIo::new(io), handler);
            tokio::pin!(conn);
            let first_call = tokio::time::sleep(header_timeout);
            tokio::pin!(first_call);
            let mut waiting = true;
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::debug!("OTLP/gRPC connection: {e}");
                        }
                        return;
                    }
                    () = first_call.as_mut(), if waiting => {
                        if !called.load(Ordering::Relaxed) {
                            tracing::debug!("OTLP/gRPC connection without a call: closed");
                            return;
                        }
                        waiting = false;
                    }
                    _ = stop.changed() => {
                        // Let calls in progress finish (GOAWAY), then close.
                        conn.as_mut().graceful_shutdown();
                        let _ = conn.await;
                        return;
                    }
                }
            }
        }
    })
    .await;
}

/// Interval of the HTTP/2 pings, and how long an answer may take.
const KEEP_ALIVE: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads the call's body within the in-flight budget and the stall timeout, then
/// hands it to tonic with the reservation in the request's extensions (the handler
/// grows it by the decoded request).
async fn call(
    req: hyper::Request<Incoming>,
    shared: Arc<Shared>,
    mut service: TraceServiceServer<Receiver>,
) -> Result<hyper::Response<tonic::body::Body>, Infallible> {
    let (mut parts, body) = req.into_parts();
    let reservation = Arc::new(shared.budget.reserve());
    // A unary call's body is one message behind its 5-byte gRPC frame header.
    let limit = shared.max_body_bytes.saturating_add(5);
    let bytes = match read_body(body, limit, &reservation, shared.body_timeout).await {
        Ok(bytes) => bytes,
        Err(e) => {
            let status = read_failed(e);
            match status.code() {
                Code::Unavailable => shared.stats.busy(),
                _ => shared.stats.refused(),
            }
            return Ok(status.into_http());
        }
    };
    parts.extensions.insert(reservation.clone());
    std::future::poll_fn(|cx| {
        tonic::codegen::Service::<hyper::Request<Full<Bytes>>>::poll_ready(&mut service, cx)
    })
    .await?;
    let response = service
        .call(hyper::Request::from_parts(parts, Full::new(bytes)))
        .await;
    drop(reservation);
    response
}

/// The status of a call whose body was not read to its end: UNAVAILABLE (retryable)
/// when the budget is taken by other calls.
fn read_failed(error: ReadError) -> Status {
    let message = error.to_string();
    match error {
        ReadError::Busy => retry_later(Code::Unavailable, &message),
        ReadError::TooLarge { .. } | ReadError::OverBudget { .. } => Status::out_of_range(message),
        ReadError::Stalled(_) => Status::deadline_exceeded(message),
        ReadError::Broken(_) => Status::cancelled(message),
    }
}

#[tonic::async_trait]
impl TraceService for Receiver {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let result = self.export_inner(request).await;
        match &result {
            Ok(_) => {}
            Err(s) if matches!(s.code(), Code::ResourceExhausted | Code::Unavailable) => {
                self.shared.stats.busy()
            }
            Err(_) => self.shared.stats.refused(),
        }
        result
    }
}

impl Receiver {
    async fn export_inner(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let auth = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        if !bearer_ok(self.shared.token.as_ref(), auth) {
            return Err(Status::unauthenticated("missing or wrong bearer token"));
        }
        let reservation = request.extensions().get::<Arc<Reservation>>().cloned();
        let bytes = request.into_inner().encode_to_vec();
        // The decoded request and its encoding are in memory as well as the body.
        if let Some(reservation) = &reservation
            && reservation.grow(bytes.len() as u64).is_err()
        {
            return Err(retry_later(
                Code::Unavailable,
                "the receiver is decoding too many requests at once; retry later",
            ));
        }
        let checked = match body::check(BodyKind::OtlpProto, &bytes) {
            Ok(c) => c,
            Err(BodyError::TooLarge { limit }) => {
                return Err(Status::out_of_range(format!("over {limit} bytes")));
            }
            Err(e) => return Err(Status::invalid_argument(e.to_string())),
        };
        if checked.accepted > 0 {
            match self
                .shared
                .durable
                .submit(BodyKind::OtlpProto, bytes, checked.accepted)
                .await
            {
                Submitted::Durable => {}
                Submitted::Busy => {
                    return Err(retry_later(
                        Code::ResourceExhausted,
                        "the write path is full; retry later",
                    ));
                }
                Submitted::Failed(why) => return Err(retry_later(Code::Unavailable, &why)),
            }
        }
        self.shared.stats.rejected_spans(checked.rejected);
        let partial_success = (checked.rejected > 0).then(|| ExportTracePartialSuccess {
            rejected_spans: i64::try_from(checked.rejected).unwrap_or(i64::MAX),
            error_message: checked.first_problem.unwrap_or_default(),
        });
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success,
        }))
    }
}

/// A retryable status carrying `RetryInfo` (as `grpc-status-details-bin`).
fn retry_later(code: Code, message: &str) -> Status {
    let retry = RetryInfo {
        retry_delay: Some(Duration {
            seconds: RETRY_AFTER_SECS as i64,
            nanos: 0,
        }),
    };
    let details = RpcStatus {
        code: code as i32,
        message: message.to_string(),
        details: vec![Any {
            type_url: "type.googleapis.com/google.rpc.RetryInfo".into(),
            value: retry.encode_to_vec(),
        }],
    };
    Status::with_details(code, message, details.encode_to_vec().into())
}

/// `google.rpc.Status` with details.
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<Any>,
}

/// `google.protobuf.Any`.
#[derive(Clone, PartialEq, prost::Message)]
struct Any {
    #[prost(string, tag = "1")]
    type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    value: Vec<u8>,
}

/// `google.rpc.RetryInfo`.
#[derive(Clone, PartialEq, prost::Message)]
struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    retry_delay: Option<Duration>,
}

/// `google.protobuf.Duration`.
#[derive(Clone, PartialEq, prost::Message)]
struct Duration {
    #[prost(int64, tag = "1")]
    seconds: i64,
    #[prost(int32, tag = "2")]
    nanos: i32,
}

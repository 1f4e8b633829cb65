//! OTLP/HTTP: `POST /v1/traces` with a protobuf or JSON body (by `Content-Type`),
//! optionally gzip-compressed (`Content-Encoding`), answered as the OTLP
//! specification says: 200 with an `ExportTraceServiceResponse` (carrying
//! `partial_success` when spans were rejected) once the spans are durable; 400 with a
//! `google.rpc.Status` naming the reason for an undecodable body; 413 over the size
//! limit; 415 for another content type or encoding; 401 without the bearer token;
//! 429 / 503 with `Retry-After` when the write path is full or failing, 503 with
//! `Retry-After` when `--max-inflight-bytes` are being read; 408 (and the connection
//! closed) for a body that stalls longer than `--body-timeout`.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{
    CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue, RETRY_AFTER,
};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceResponse,
};
use prost::Message as _;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::Shared;
use super::auth::bearer_ok;
use super::body::{self, BodyError, Checked};
use super::durable::Submitted;
use super::limits::{ReadError, read_body};
use super::listen::{self, Accept};
use crate::source::BodyKind;

/// Seconds clients are asked to wait when the write path is full.
pub const RETRY_AFTER_SECS: u64 = 1;

/// `google.rpc.Status`, the body of OTLP/HTTP error responses.
#[derive(Clone, PartialEq, prost::Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
}

/// Largest request head (request line and headers) of either protocol: larger ones
/// get 431 (HTTP/1) or a stream reset (HTTP/2).
pub const MAX_HEADER_BYTES: usize = 16 << 10;

/// Serves HTTP/1.1 on the connections `accept` admits until `shutdown` turns true.
pub async fn serve(
    listener: TcpListener,
    accept: Accept,
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
) {
    let header_timeout = shared.header_timeout;
    listen::accept_loop(listener, accept, shutdown, move |io, mut stop| {
        let shared = shared.clone();
        async move {
            let service = hyper::service::service_fn(move |req| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(handle(req, &shared).await) }
            });
            // The header timeout also closes a keep-alive connection idle that long.
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout)
                .max_header_size(MAX_HEADER_BYTES)
                .serve_connection(TokioIo::new(io), service);
            tokio::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!("OTLP/HTTP connection: {e}");
                    }
                }
                _ = stop.changed() => {
                    // Finish the request in progress, then close the connection.
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
            }
        }
    })
    .await;
}

/// Answers one request.
pub async fn handle(req: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    let response = answer(req, shared).await;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE => shared.stats.busy(),
        _ => shared.stats.refused(),
    }
    response
}

async fn answer(req: Request<Incoming>, shared: &Shared) -> Response<Full<Bytes>> {
    if req.uri().path() != "/v1/traces" {
        return plain(StatusCode::NOT_FOUND, "only /v1/traces is served here");
    }
    if req.method() != Method::POST {
        return plain(StatusCode::METHOD_NOT_ALLOWED, "use POST");
    }
    let headers = req.headers();
    let auth = headers
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !bearer_ok(shared.token.as_ref(), auth) {
        return plain(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
    }
    let media = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let kind = match media.as_str() {
        "application/x-protobuf" | "application/protobuf" => BodyKind::OtlpProto,
        "application/json" => BodyKind::OtlpJson,
        other => {
            return plain(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!(
                    "Content-Type '{other}' is not supported: use application/x-protobuf or application/json"
                ),
            );
        }
    };
    let gzip = match headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()) {
        None => false,
        Some(e) if e.eq_ignore_ascii_case("identity") => false,
        Some(e) if e.eq_ignore_ascii_case("gzip") => true,
        Some(other) => {
            return status(
                kind,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                &format!("Content-Encoding '{other}' is not supported: use gzip or none"),
            );
        }
    };
    let limit = shared.max_body_bytes;
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > limit as u64) {
        return too_large(kind, limit);
    }
    // Held until the answer: the body is then in the write-ahead log or dropped.
    let reservation = shared.budget.reserve();
    if let Some(n) = announced
        && let Err(refusal) = reservation.grow(n)
    {
        return read_failed(kind, ReadError::from_refusal(refusal, &shared.budget));
    }
    let raw = match read_body(req.into_body(), limit, &reservation, shared.body_timeout).await {
        Ok(raw) => raw,
        Err(e) => return read_failed(kind, e),
    };
    let body = if gzip {
        let inflated = match body::gunzip(&raw, limit) {
            Ok(b) => b,
            Err(BodyError::TooLarge { .. }) => return too_large(kind, limit),
            Err(e) => return status(kind, StatusCode::BAD_REQUEST, &e.to_string()),
        };
        // Both copies are in memory until the compressed one is dropped here.
        if let Err(refusal) = reservation.grow(inflated.len() as u64) {
            return read_failed(kind, ReadError::from_refusal(refusal, &shared.budget));
        }
        inflated
    } else {
        raw.to_vec()
    };
    let checked = match body::check(kind, &body) {
        Ok(c) => c,
        Err(e) => return status(kind, StatusCode::BAD_REQUEST, &e.to_string()),
    };
    if checked.accepted > 0 {
        match shared.durable.submit(kind, body, checked.accepted).await {
            Submitted::Durable => {}
            Submitted::Busy => {
                return retry_later(
                    kind,
                    StatusCode::TOO_MANY_REQUESTS,
                    "the write path is full; retry later",
                );
            }
            Submitted::Failed(why) => {
                return retry_later(kind, StatusCode::SERVICE_UNAVAILABLE, &why);
            }
        }
    }
    shared.stats.rejected_spans(checked.rejected);
    success(kind, &checked)
}

fn success(kind: BodyKind, checked: &Checked) -> Response<Full<Bytes>> {
    let partial = (checked.rejected > 0).then(|| ExportTracePartialSuccess {
        rejected_spans: i64::try_from(checked.rejected).unwrap_or(i64::MAX),
        error_message: checked.first_problem.clone().unwrap_or_default(),
    });
    let body = match kind {
        BodyKind::OtlpProto => ExportTraceServiceResponse {
            partial_success: partial,
        }
        .encode_to_vec(),
        BodyKind::OtlpJson | BodyKind::Jaeger | BodyKind::Zipkin => {
            let doc = match partial {
                Some(p) => serde_json::json!({"partialSuccess": {
                    "rejectedSpans": p.rejected_spans,
                    "errorMessage": p.error_message,
                }}),
                None => serde_json::json!({}),
            };
            doc.to_string().into_bytes()
        }
    };
    respond(StatusCode::OK, content_type(kind), body)
}

/// The answer to a body that was not read to its end. A stalled or broken body
/// also closes the connection: what is left of it cannot be skipped reliably.
fn read_failed(kind: BodyKind, error: ReadError) -> Response<Full<Bytes>> {
    let message = error.to_string();
    let mut response = match error {
        ReadError::TooLarge { limit } => return too_large(kind, limit),
        ReadError::OverBudget { .. } => status(kind, StatusCode::PAYLOAD_TOO_LARGE, &message),
        ReadError::Busy => return retry_later(kind, StatusCode::SERVICE_UNAVAILABLE, &message),
        ReadError::Stalled(_) => status(kind, StatusCode::REQUEST_TIMEOUT, &message),
        ReadError::Broken(_) => status(kind, StatusCode::BAD_REQUEST, &message),
    };
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

fn too_large(kind: BodyKind, limit: usize) -> Response<Full<Bytes>> {
    status(
        kind,
        StatusCode::PAYLOAD_TOO_LARGE,
        &BodyError::TooLarge { limit }.to_string(),
    )
}

fn retry_later(kind: BodyKind, code: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = status(kind, code, message);
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(RETRY_AFTER_SECS));
    response
}

/// An error answered with a `google.rpc.Status` in the request's encoding.
fn status(kind: BodyKind, code: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let rpc_code = match code {
        StatusCode::BAD_REQUEST => 3,          // INVALID_ARGUMENT
        StatusCode::TOO_MANY_REQUESTS => 8,    // RESOURCE_EXHAUSTED
        StatusCode::SERVICE_UNAVAILABLE => 14, // UNAVAILABLE
        StatusCode::PAYLOAD_TOO_LARGE => 8,
        StatusCode::REQUEST_TIMEOUT => 4, // DEADLINE_EXCEEDED
        _ => 2,                           // UNKNOWN
    };
    let body = match kind {
        BodyKind::OtlpProto => RpcStatus {
            code: rpc_code,
            message: message.to_string(),
        }
        .encode_to_vec(),
        BodyKind::OtlpJson | BodyKind::Jaeger | BodyKind::Zipkin => {
            serde_json::json!({"code": rpc_code, "message": message})
                .to_string()
                .into_bytes()
        }
    };
    respond(code, content_type(kind), body)
}

fn plain(code: StatusCode, message: &str) -> Response<Full<Bytes>> {
    respond(
        code,
        "text/plain; charset=utf-8",
        format!("{message}\n").into_bytes(),
    )
}

fn content_type(kind: BodyKind) -> &'static str {
    match kind {
        BodyKind::OtlpProto => "application/x-protobuf",
        BodyKind::OtlpJson | BodyKind::Jaeger | BodyKind::Zipkin => "application/json",
    }
}

fn respond(code: StatusCode, content_type: &'static str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = code;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

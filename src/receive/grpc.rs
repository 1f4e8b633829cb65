//! OTLP/gRPC: `opentelemetry.proto.collector.trace.v1.TraceService/Export`, sharing
//! the HTTP side's checks and durable path. Back-pressure is `RESOURCE_EXHAUSTED`
//! with a `google.rpc.RetryInfo` detail, which is what makes OTLP exporters retry it.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use prost::Message as _;
use tokio::net::TcpListener;
use tonic::{Code, Request, Response, Status};

use super::body::{self, BodyError};
use super::durable::Submitted;
use super::http::RETRY_AFTER_SECS;
use super::{Shared, bearer_ok};
use crate::source::BodyKind;

/// The gRPC service.
pub struct Receiver {
    shared: Arc<Shared>,
}

/// Serves until `shutdown` resolves, finishing calls in progress.
pub async fn serve(
    listener: TcpListener,
    shared: Arc<Shared>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), tonic::transport::Error> {
    let limit = shared.max_body_bytes;
    let service = TraceServiceServer::new(Receiver { shared })
        .max_decoding_message_size(limit)
        .accept_compressed(tonic::codec::CompressionEncoding::Gzip);
    tonic::transport::Server::builder()
        .serve_with_incoming_shutdown(
            service,
            tonic::transport::server::TcpIncoming::from(listener),
            shutdown,
        )
        .await
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
            Err(s) if s.code() == Code::ResourceExhausted => self.shared.stats.busy(),
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
        if !bearer_ok(self.shared.token.as_deref(), auth) {
            return Err(Status::unauthenticated("missing or wrong bearer token"));
        }
        let bytes = request.into_inner().encode_to_vec();
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

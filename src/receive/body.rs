//! Checks an OTLP request body before it is made durable: undecodable bodies are
//! refused (HTTP 400 / gRPC INVALID_ARGUMENT), spans the decoders skip are counted as
//! rejected for the response's `partial_success`. The same decoders run again when
//! the write-ahead log is compacted, so what is accepted here is what is stored.

use std::io::Read;

use flate2::read::GzDecoder;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message as _;

use crate::model::{SourceKind, Span};
use crate::source::{self, BodyKind, Problem, SinkError, SourceError, SpanSink};

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("{0}")]
    Invalid(String),
    #[error("body exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize },
}

/// What a valid body holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// Spans that will be stored.
    pub accepted: u64,
    /// Spans the decoder skipped (bad ids, times…).
    pub rejected: u64,
    /// The first rejection, for `partial_success.error_message`.
    pub first_problem: Option<String>,
}

/// Inflates a gzip body, refusing to produce more than `limit` bytes.
pub fn gunzip(body: &[u8], limit: usize) -> Result<Vec<u8>, BodyError> {
    let mut out = Vec::new();
    let mut reader = GzDecoder::new(body).take(limit as u64 + 1);
    reader
        .read_to_end(&mut out)
        .map_err(|e| BodyError::Invalid(format!("gzip Content-Encoding: {e}")))?;
    if out.len() > limit {
        return Err(BodyError::TooLarge { limit });
    }
    Ok(out)
}

/// Decodes a body far enough to refuse it or count its spans.
pub fn check(kind: BodyKind, body: &[u8]) -> Result<Checked, BodyError> {
    let mut counter = Counter::default();
    match kind {
        BodyKind::OtlpProto => {
            if let Err(e) = ExportTraceServiceRequest::decode(body) {
                return Err(BodyError::Invalid(format!(
                    "not an OTLP ExportTraceServiceRequest protobuf message: {e}"
                )));
            }
            decode(kind, body, "request", &mut counter)
        }
        BodyKind::OtlpJson | BodyKind::Jaeger | BodyKind::Zipkin => {
            if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                return Err(BodyError::Invalid(format!("invalid JSON: {e}")));
            }
            decode(kind, body, "request", &mut counter)
        }
    }
    .map_err(|e| BodyError::Invalid(e.to_string()))?;
    Ok(counter.checked)
}

/// Runs the decoder for `kind` into `sink`; OTLP spans are marked as received.
pub fn decode(
    kind: BodyKind,
    body: &[u8],
    origin: &str,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    source::decode_body(kind, body, origin, SourceKind::OtlpHttp, sink)
}

/// Counts spans and rejections without keeping them.
#[derive(Default)]
struct Counter {
    checked: Checked,
}

impl SpanSink for Counter {
    fn span(&mut self, _span: Span) -> Result<(), SinkError> {
        self.checked.accepted += 1;
        Ok(())
    }

    fn skipped(&mut self, problem: Problem) -> Result<(), SinkError> {
        // A dropped link keeps its span; anything else means a span was not decoded.
        if problem.message.starts_with("links[") {
            return Ok(());
        }
        self.checked.rejected += 1;
        if self.checked.first_problem.is_none() {
            self.checked.first_problem = Some(problem.to_string());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span as PbSpan};

    fn request(spans: Vec<PbSpan>) -> Vec<u8> {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                scope_spans: vec![ScopeSpans {
                    spans,
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec()
    }

    fn span(id: u8) -> PbSpan {
        PbSpan {
            trace_id: vec![1; 16],
            span_id: vec![id; 8],
            name: "s".into(),
            start_time_unix_nano: 1,
            end_time_unix_nano: 2,
            ..Default::default()
        }
    }

    #[test]
    fn good_and_bad_spans_are_counted() {
        let mut bad = span(3);
        bad.span_id = vec![1, 2, 3];
        let checked = check(BodyKind::OtlpProto, &request(vec![span(1), span(2), bad])).unwrap();
        assert_eq!(checked.accepted, 2);
        assert_eq!(checked.rejected, 1);
        assert!(checked.first_problem.unwrap().contains("span id"));
    }

    #[test]
    fn truncated_protobuf_and_invalid_json_are_refused() {
        let body = request(vec![span(1)]);
        let err = check(BodyKind::OtlpProto, &body[..body.len() - 3]).unwrap_err();
        assert!(err.to_string().contains("not an OTLP"), "{err}");
        let err = check(BodyKind::OtlpJson, br#"{"resourceSpans": ["#).unwrap_err();
        assert!(err.to_string().contains("invalid JSON"), "{err}");
        assert_eq!(
            check(BodyKind::OtlpJson, b"{}").unwrap(),
            Checked::default(),
            "an empty request is valid"
        );
    }

    #[test]
    fn gzip_is_inflated_within_the_limit() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(&[b'x'; 1000]).unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(gunzip(&gz, 1000).unwrap().len(), 1000);
        assert_eq!(
            gunzip(&gz, 999).unwrap_err(),
            BodyError::TooLarge { limit: 999 }
        );
        assert!(matches!(gunzip(b"nope", 10), Err(BodyError::Invalid(_))));
    }
}

//! Decoders, one per wire format, all streaming spans into a [`SpanSink`] and
//! reporting what they skip as [`Problem`]s: OTLP/JSON (`otlp_json`), OTLP protobuf
//! (`otlp_proto`), Jaeger v1 (`jaeger`), Zipkin v2 (`zipkin`), the Python SDK's span
//! JSON (`python_sdk`), JUnit XML test reports (`junit`); the rest is the JSON plumbing they share (`json_stream`,
//! `json_items`, `flex`, `anyvalue`, `ids`, `enums`).
//!
//! Two entry points: [`decode`] reads a whole input stream of a [`Format`] (files,
//! stdin: `ingest`), [`decode_body`] one complete body of a [`BodyKind`] (an OTLP
//! request to `receive` or a record of its write-ahead log, a backend's answer to
//! `pull`). Fatal errors are [`SourceError`]s; malformed items are only problems.

mod anyvalue;
mod enums;
mod flex;
mod ids;
mod jaeger;
mod json_items;
mod json_stream;
pub mod junit;
mod otlp_attributes;
mod otlp_json;
mod otlp_proto;
mod python_sdk;
mod zipkin;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod real_fixtures;

use std::io::BufRead;

use super::{Format, Problem, SinkError, SourceError, SpanSink, detect};
use crate::model::SourceKind;

/// How one complete body is encoded: an OTLP/HTTP request, a write-ahead log record,
/// a backend's response. Unlike a [`Format`] (a whole input, sniffed), the sender
/// says which it is (content type, API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BodyKind {
    /// An `ExportTraceServiceRequest` / `TracesData` protobuf message.
    OtlpProto,
    /// OTLP/JSON in any of its wrappers (`resourceSpans`, api_v3 `result`, Tempo
    /// `batches` / `trace`).
    OtlpJson,
    /// Jaeger v1 JSON (`/api/traces`).
    Jaeger,
    /// Zipkin v2 JSON (`/api/v2/traces`).
    Zipkin,
}

/// Decodes one complete body of `kind` into the sink. `source` is stored on the
/// spans of OTLP bodies (Jaeger and Zipkin spans always name their own source).
pub fn decode_body(
    kind: BodyKind,
    bytes: &[u8],
    origin: &str,
    source: SourceKind,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    match kind {
        BodyKind::OtlpProto => decode_otlp_proto_message(bytes, origin, source, sink),
        BodyKind::OtlpJson => decode_otlp_json_body(bytes, origin, source, sink),
        BodyKind::Jaeger => decode(Format::Jaeger, &mut &bytes[..], origin, sink),
        BodyKind::Zipkin => decode(Format::Zipkin, &mut &bytes[..], origin, sink),
    }
}

/// Decodes a whole input stream, pushing spans and skipped items into the sink.
/// `origin` names the input in problems (file path, `stdin`, a URL). A JUnit report
/// decoded here has no CI context (no run, branch or time); `ingest` calls
/// [`junit::decode`] with one.
///
/// Returns `Err` only for a fatal error (the sink failed, I/O failed); malformed
/// items are reported through [`SpanSink::skipped`] and decoding continues wherever
/// the format allows resynchronising (the next JSON line, the next protobuf frame,
/// the next span).
pub fn decode(
    format: Format,
    input: &mut dyn BufRead,
    origin: &str,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    match format {
        Format::OtlpJson => {
            if starts_like_proto(input)? {
                otlp_proto::decode_framed(input, origin, SourceKind::Otlp, sink)
            } else {
                otlp_json::decode(input, origin, SourceKind::Otlp, sink)
            }
        }
        Format::OtlpProto => otlp_proto::decode_framed(input, origin, SourceKind::Otlp, sink),
        Format::Jaeger => jaeger::decode(input, origin, sink),
        Format::Zipkin => zipkin::decode(input, origin, sink),
        Format::PythonSdk => python_sdk::decode(input, origin, sink),
        Format::Junit => junit::decode(input, origin, &junit::JunitContext::default(), sink),
    }
}

/// Whether buffered input begins like a protobuf frame rather than JSON.
fn starts_like_proto(input: &mut dyn BufRead) -> std::io::Result<bool> {
    let buf = loop {
        match input.fill_buf() {
            Ok(buf) => break buf,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    Ok(detect(buf) == Some(Format::OtlpProto))
}

/// Decodes one OTLP protobuf message (an `ExportTraceServiceRequest` / `TracesData`
/// body as POSTed to `/v1/traces` or returned by Tempo). Used by the HTTP receiver
/// and `pull`.
pub fn decode_otlp_proto_message(
    bytes: &[u8],
    origin: &str,
    source: SourceKind,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    otlp_proto::decode_message_at(bytes, origin, source, sink)
}

/// Decodes one OTLP/JSON body in any of its wrappers (`resourceSpans`, api_v3
/// `result`, Tempo `batches` / `trace`). `source` is stored on every span.
pub fn decode_otlp_json_body(
    bytes: &[u8],
    origin: &str,
    source: SourceKind,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    let mut reader = bytes;
    otlp_json::decode(&mut reader, origin, source, sink)
}

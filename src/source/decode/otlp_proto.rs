//! OTLP protobuf decoder: single messages (OTLP/HTTP bodies, Tempo responses) and the
//! Collector file exporter's `format: proto` stream of frames, each a 4-byte
//! big-endian length followed by a `TracesData` message (wire-identical to
//! `ExportTraceServiceRequest`). A file holding one unframed message (a saved OTLP/HTTP
//! request body) is read too: it starts with the `resource_spans` tag byte 0x0A, which
//! as the first byte of a frame length would mean a frame of over 160 MiB.

use super::anyvalue::proto_attributes;
use super::{Problem, SourceError, SpanSink, enums, ids};
use crate::model::{Link, SourceKind, Span};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1 as pb;
use prost::Message as _;
use std::io::{BufRead, Read};

/// Frames larger than this are taken as a sign that the input is not a frame stream
/// (a stray length would otherwise make us buffer gigabytes).
const MAX_FRAME: u64 = 1 << 30;

/// Field 1 (`resource_spans`), length-delimited: the first byte of every non-empty
/// `TracesData` / `ExportTraceServiceRequest`.
pub(crate) const RESOURCE_SPANS_TAG: u8 = 0x0A;

/// Decodes a stream of length-prefixed messages, or one unframed message.
pub fn decode_framed(
    input: &mut dyn BufRead,
    origin: &str,
    source: SourceKind,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    if input.fill_buf()?.first() == Some(&RESOURCE_SPANS_TAG) {
        let mut message = Vec::new();
        input.read_to_end(&mut message)?;
        return decode_message_at(&message, origin, source, sink);
    }
    let mut offset: u64 = 0;
    loop {
        let mut len_buf = [0u8; 4];
        let got = read_up_to(input, &mut len_buf)?;
        if got == 0 {
            return Ok(());
        }
        let at = format!("{origin}: byte {offset}");
        if got < 4 {
            return Ok(sink.skipped(Problem {
                location: at,
                message: format!("truncated frame: {got} of 4 length bytes, then end of input"),
            })?);
        }
        let len = u64::from(u32::from_be_bytes(len_buf));
        if len > MAX_FRAME {
            return Ok(sink.skipped(Problem {
                location: at,
                message: format!(
                    "frame length {len} exceeds {MAX_FRAME} bytes: not an OTLP protobuf frame; rest of input skipped"
                ),
            })?);
        }
        let mut msg = Vec::new();
        input.take(len).read_to_end(&mut msg)?;
        if (msg.len() as u64) < len {
            return Ok(sink.skipped(Problem {
                location: at,
                message: format!(
                    "truncated frame: length prefix says {len} bytes, only {} remain",
                    msg.len()
                ),
            })?);
        }
        decode_message_at(&msg, &at, source, sink)?;
        offset += 4 + len;
    }
}

/// Decodes one unframed message; `location` prefixes problem locations.
pub fn decode_message_at(
    bytes: &[u8],
    location: &str,
    source: SourceKind,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    let request = match ExportTraceServiceRequest::decode(bytes) {
        Ok(r) => r,
        Err(e) => {
            return Ok(sink.skipped(Problem {
                location: location.to_owned(),
                message: format!("not a valid OTLP protobuf trace message: {e}"),
            })?);
        }
    };
    for (r, rs) in request.resource_spans.into_iter().enumerate() {
        let resource = proto_attributes(rs.resource.map(|r| r.attributes).unwrap_or_default());
        let service = resource
            .iter()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v.clone());
        for (s, ss) in rs.scope_spans.into_iter().enumerate() {
            for (i, span) in ss.spans.into_iter().enumerate() {
                let path = || format!("{location} resourceSpans[{r}].scopeSpans[{s}].spans[{i}]");
                match convert(span) {
                    Ok((mut span, link_problems)) => {
                        for message in link_problems {
                            sink.skipped(Problem {
                                location: path(),
                                message,
                            })?;
                        }
                        span.resource = resource.clone();
                        span.service = service.clone();
                        span.source = Some(source);
                        sink.span(span)?;
                    }
                    Err(message) => sink.skipped(Problem {
                        location: path(),
                        message,
                    })?,
                }
            }
        }
    }
    Ok(())
}

fn convert(s: pb::Span) -> Result<(Span, Vec<String>), String> {
    let trace_id = ids::from_bytes(&s.trace_id, ids::TRACE_HEX_LEN, "trace id")?;
    let span_id = ids::from_bytes(&s.span_id, ids::SPAN_HEX_LEN, "span id")?;
    let parent_span_id = if s.parent_span_id.iter().all(|&b| b == 0) {
        None
    } else {
        Some(ids::from_bytes(
            &s.parent_span_id,
            ids::SPAN_HEX_LEN,
            "parent span id",
        )?)
    };
    let time = |ns: u64, what: &str| {
        i64::try_from(ns).map_err(|_| format!("{what} {ns} does not fit in i64 nanoseconds"))
    };
    let start_ns = time(s.start_time_unix_nano, "start time")?;
    let end_ns = time(s.end_time_unix_nano, "end time")?;
    let mut problems = Vec::new();
    let mut links = Vec::with_capacity(s.links.len());
    for (i, l) in s.links.into_iter().enumerate() {
        let id = |bytes: &[u8], len, what| {
            if bytes.is_empty() {
                Ok(String::new())
            } else {
                ids::from_bytes(bytes, len, what)
            }
        };
        match (
            id(&l.trace_id, ids::TRACE_HEX_LEN, "link trace id"),
            id(&l.span_id, ids::SPAN_HEX_LEN, "link span id"),
        ) {
            (Ok(trace_id), Ok(span_id)) => links.push(Link { trace_id, span_id }),
            (Err(e), _) | (_, Err(e)) => problems.push(format!("links[{i}] dropped: {e}")),
        }
    }
    let (status, status_message) = match s.status {
        Some(st) => (
            enums::status_from_int(i64::from(st.code)),
            (!st.message.is_empty()).then_some(st.message),
        ),
        None => (Default::default(), None),
    };
    let span = Span {
        trace_id,
        span_id,
        parent_span_id,
        name: s.name,
        kind: enums::kind_from_int(i64::from(s.kind)).to_owned(),
        start_ns,
        end_ns,
        status,
        status_message,
        attributes: proto_attributes(s.attributes),
        links,
        ..Span::default()
    };
    Ok((span, problems))
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
fn read_up_to(input: &mut dyn BufRead, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match input.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

#[cfg(test)]
#[path = "otlp_proto_tests.rs"]
mod tests;

//! Decoder for the OpenTelemetry Python SDK's JSON span dump (`ReadableSpan.to_json`):
//! pytest-otel's `test_spans_http.json` (a JSON array of spans) and the
//! `ConsoleSpanExporter` output (concatenated pretty-printed span objects).
//!
//! Ids are `0x`-prefixed hex in `context`, times are ISO-8601 strings, kinds look like
//! `SpanKind.SERVER`, attributes and resource attributes are plain JSON objects.

use super::anyvalue::AnyVal;
use super::json_items::{self, Item, ItemDecoder, id_at, str_at};
use super::{Problem, SinkError, SourceError, SpanSink, enums, ids};
use crate::model::{Link, SourceKind, Span, Status};
use serde_json::Value;
use std::io::BufRead;

/// Decodes a Python SDK JSON input stream.
pub fn decode(
    input: &mut dyn BufRead,
    origin: &str,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    json_items::decode_items(input, origin, None, &mut Decoder { sink })
}

struct Decoder<'s> {
    sink: &'s mut dyn SpanSink,
}

impl ItemDecoder for Decoder<'_> {
    fn item(&mut self, item: Item, location: &str) -> Result<(), SinkError> {
        let span = match item {
            Item::Element(v) | Item::Enveloped(v) => v,
            Item::Object(obj) => Value::Object(obj),
        };
        match convert(&span) {
            Ok(span) => self.sink.span(span),
            Err(message) => self.sink.skipped(Problem {
                location: location.to_owned(),
                message,
            }),
        }
    }

    fn sink(&mut self) -> &mut dyn SpanSink {
        self.sink
    }
}

fn convert(v: &Value) -> Result<Span, String> {
    if !v.is_object() {
        return Err(format!(
            "expected a Python SDK span object, found {}",
            json_items::json_type(v)
        ));
    }
    let context = v.get("context").ok_or("missing context")?;
    let trace_id = ids::trace_id(id_at(context, "trace_id")?)?;
    let span_id = ids::span_id(id_at(context, "span_id")?)?;
    let parent_span_id = match str_at(v, "parent_id") {
        Some(p) => ids::parent_id(p)?,
        None => None,
    };
    let start_ns = time(v, "start_time")?;
    let end_ns = time(v, "end_time")?;
    let kind = str_at(v, "kind")
        .and_then(enums::kind_from_name)
        .unwrap_or("unspecified");
    let status_obj = v.get("status");
    let status = status_obj
        .and_then(|s| str_at(s, "status_code"))
        .and_then(enums::status_from_name)
        .unwrap_or(Status::Unset);
    let status_message = status_obj
        .and_then(|s| str_at(s, "description"))
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    let attributes = object_attributes(v.get("attributes"));
    let resource = object_attributes(v.get("resource").and_then(|r| r.get("attributes")));
    let service = resource
        .iter()
        .find(|(k, _)| k == "service.name")
        .map(|(_, v)| v.clone());

    let mut links = Vec::new();
    for (i, l) in v
        .get("links")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let ctx = l.get("context").unwrap_or(l);
        let t = str_at(ctx, "trace_id").unwrap_or_default();
        let s = str_at(ctx, "span_id").unwrap_or_default();
        let link = ids::link_id(t, ids::TRACE_HEX_LEN)
            .and_then(|trace_id| Ok((trace_id, ids::link_id(s, ids::SPAN_HEX_LEN)?)))
            .map_err(|e| format!("links[{i}]: {e}"))?;
        links.push(Link {
            trace_id: link.0,
            span_id: link.1,
        });
    }

    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        name: str_at(v, "name").unwrap_or_default().to_owned(),
        kind: kind.to_owned(),
        service,
        start_ns,
        end_ns,
        status,
        status_message,
        attributes,
        resource,
        links,
        source: Some(SourceKind::Otlp),
        ..Span::default()
    })
}

/// An ISO-8601 time; absent or null means 0 (an unfinished span has no end time).
fn time(v: &Value, key: &str) -> Result<i64, String> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s)
            .map_err(|e| format!("{key} {s:?} is not an ISO-8601 time: {e}"))?
            .timestamp_nanos_opt()
            .ok_or_else(|| format!("{key} {s:?} is outside the i64 nanosecond range")),
        Some(other) => Err(format!(
            "{key} is {}, expected an ISO-8601 string",
            json_items::json_type(other)
        )),
    }
}

/// A plain `{"key": value}` object, values stringified.
fn object_attributes(v: Option<&Value>) -> Vec<(String, String)> {
    v.and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), AnyVal::from_json(v.clone()).into_text()))
        .collect()
}

#[cfg(test)]
#[path = "python_sdk_tests.rs"]
mod tests;

//! Zipkin v2 JSON decoder: `/api/v2/trace/{id}` (a list of spans) and
//! `/api/v2/traces` (a list of lists).
//!
//! Times are µs; tags are all strings; an absent `kind` means internal. Status follows
//! the OpenTelemetry Zipkin exporter: `otel.status_code` when present, else an `error`
//! tag means error, and its value is the message.

use super::json_items::{self, Item, ItemDecoder, id_at, micros_interval, str_at};
use super::{Problem, SinkError, SourceError, SpanSink, enums, ids};
use crate::model::{SourceKind, Span, Status};
use serde_json::Value;
use std::io::BufRead;

/// Decodes a Zipkin JSON input stream.
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
        match item {
            Item::Element(Value::Array(trace)) | Item::Enveloped(Value::Array(trace)) => {
                for (i, span) in trace.iter().enumerate() {
                    self.span(span, &format!("{location}[{i}]"))?;
                }
                Ok(())
            }
            Item::Element(span) | Item::Enveloped(span) => self.span(&span, location),
            Item::Object(obj) => self.span(&Value::Object(obj), location),
        }
    }

    fn sink(&mut self) -> &mut dyn SpanSink {
        self.sink
    }
}

impl Decoder<'_> {
    fn span(&mut self, v: &Value, location: &str) -> Result<(), SinkError> {
        match convert(v) {
            Ok(span) => self.sink.span(span),
            Err(message) => self.sink.skipped(Problem {
                location: location.to_owned(),
                message,
            }),
        }
    }
}

fn convert(v: &Value) -> Result<Span, String> {
    if !v.is_object() {
        return Err(format!(
            "expected a Zipkin span object, found {}",
            json_items::json_type(v)
        ));
    }
    let trace_id = ids::trace_id(id_at(v, "traceId")?)?;
    let span_id = ids::span_id(id_at(v, "id")?)?;
    let parent_span_id = match str_at(v, "parentId") {
        Some(p) => ids::parent_id(p)?,
        None => None,
    };
    let (start_ns, end_ns) = micros_interval(v, "timestamp")?;

    // Tags are strings by spec; anything else is kept as its JSON text.
    let attributes: Vec<(String, String)> = v
        .get("tags")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), text)
        })
        .collect();
    let tag = |key: &str| attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let otel_status = tag("otel.status_code").and_then(|s| enums::status_from_name(s));
    let error_tag = tag("error");
    let status = match (otel_status, error_tag) {
        (Some(s), _) => s,
        (None, Some(_)) => Status::Error,
        (None, None) => Status::Unset,
    };
    let status_message = match status {
        Status::Error => tag("otel.status_description")
            .or(error_tag)
            .filter(|m| !m.is_empty() && !m.eq_ignore_ascii_case("true"))
            .cloned(),
        _ => None,
    };

    let kind = match str_at(v, "kind") {
        Some(k) => enums::kind_from_name(k).unwrap_or("unspecified"),
        None => "internal",
    };
    let service = v
        .get("localEndpoint")
        .and_then(|e| str_at(e, "serviceName"))
        .map(str::to_owned);
    let resource = service
        .iter()
        .map(|s| ("service.name".to_owned(), s.clone()))
        .collect();

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
        source: Some(SourceKind::Zipkin),
        ..Span::default()
    })
}

#[cfg(test)]
#[path = "zipkin_tests.rs"]
mod tests;

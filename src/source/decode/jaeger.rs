//! Jaeger v1 JSON decoder: `/api/traces` envelopes `{"data":[trace…]}`, bare trace
//! objects `{"traceID","spans","processes"}`, UI downloads (lists of traces) and lists
//! of spans with an inline `process`.
//!
//! Jaeger's model is mapped onto OTLP's the way Jaeger's own OTLP translator does:
//! `span.kind` and `otel.status_code` / `error` tags carry kind and status, the
//! `CHILD_OF` reference in the same trace is the parent (else `FOLLOWS_FROM`, else the
//! deprecated `parentSpanID`), other references become links, the process's
//! `serviceName` and tags become the resource. Tags stay in `attributes` as well.

use super::anyvalue::AnyVal;
use super::json_items::{self, Item, ItemDecoder, id_at, micros_interval, str_at};
use super::{Problem, SinkError, SourceError, SpanSink, enums, ids};
use crate::model::{Link, SourceKind, Span, Status};
use serde_json::{Map, Value};
use std::io::BufRead;

/// Decodes a Jaeger JSON input stream.
pub fn decode(
    input: &mut dyn BufRead,
    origin: &str,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    json_items::decode_items(input, origin, Some("data"), &mut Decoder { sink })
}

struct Decoder<'s> {
    sink: &'s mut dyn SpanSink,
}

impl ItemDecoder for Decoder<'_> {
    fn item(&mut self, item: Item, location: &str) -> Result<(), SinkError> {
        match item {
            Item::Enveloped(trace) => self.trace(&trace, location),
            Item::Element(v) if v.get("spans").is_some() => self.trace(&v, location),
            Item::Element(Value::Array(spans)) => {
                for (i, span) in spans.iter().enumerate() {
                    self.span(span, None, None, &format!("{location}[{i}]"))?;
                }
                Ok(())
            }
            Item::Element(span) => self.span(&span, None, None, location),
            Item::Object(obj) => {
                if let Some(errors) = obj.get("errors").and_then(Value::as_array) {
                    for e in errors {
                        self.sink.skipped(Problem {
                            location: location.to_owned(),
                            message: format!("the Jaeger API reported an error: {e}"),
                        })?;
                    }
                }
                if obj.contains_key("spans") {
                    self.trace(&Value::Object(obj), location)
                } else if obj.contains_key("spanID") {
                    self.span(&Value::Object(obj), None, None, location)
                } else {
                    Ok(())
                }
            }
        }
    }

    fn sink(&mut self) -> &mut dyn SpanSink {
        self.sink
    }
}

impl Decoder<'_> {
    fn trace(&mut self, trace: &Value, location: &str) -> Result<(), SinkError> {
        let processes = trace.get("processes").and_then(Value::as_object);
        let trace_id = str_at(trace, "traceID");
        let Some(spans) = trace.get("spans").and_then(Value::as_array) else {
            return self.sink.skipped(Problem {
                location: location.to_owned(),
                message: "expected a Jaeger trace with a `spans` array".to_owned(),
            });
        };
        for (i, span) in spans.iter().enumerate() {
            self.span(span, processes, trace_id, &format!("{location}.spans[{i}]"))?;
        }
        Ok(())
    }

    fn span(
        &mut self,
        span: &Value,
        processes: Option<&Map<String, Value>>,
        trace_id: Option<&str>,
        location: &str,
    ) -> Result<(), SinkError> {
        match convert(span, processes, trace_id) {
            Ok(span) => self.sink.span(span),
            Err(message) => self.sink.skipped(Problem {
                location: location.to_owned(),
                message,
            }),
        }
    }
}

fn convert(
    v: &Value,
    processes: Option<&Map<String, Value>>,
    trace_default: Option<&str>,
) -> Result<Span, String> {
    if !v.is_object() {
        return Err(format!(
            "expected a Jaeger span object, found {}",
            json_items::json_type(v)
        ));
    }
    let raw_trace = match v.get("traceID") {
        None | Some(Value::Null) => trace_default.ok_or("missing traceID")?,
        Some(_) => id_at(v, "traceID")?,
    };
    let trace_id = ids::trace_id(raw_trace)?;
    let span_id = ids::span_id(id_at(v, "spanID")?)?;

    let (parent_span_id, links) = references(v, &trace_id)?;
    let (start_ns, end_ns) = micros_interval(v, "startTime")?;

    let attributes = tags(v.get("tags"));
    let mut kind = "unspecified";
    let mut status = Status::Unset;
    let mut status_from_otel = false;
    let mut status_message = None;
    for (key, value) in &attributes {
        match key.as_str() {
            "span.kind" => kind = enums::kind_from_name(value).unwrap_or(kind),
            "otel.status_code" => {
                if let Some(s) = enums::status_from_name(value) {
                    status = s;
                    status_from_otel = true;
                }
            }
            "otel.status_description" if !value.is_empty() => {
                status_message = Some(value.clone());
            }
            "error" if !status_from_otel && value.eq_ignore_ascii_case("true") => {
                status = Status::Error;
            }
            _ => {}
        }
    }

    let process = v.get("process").filter(|p| p.is_object()).or_else(|| {
        let id = str_at(v, "processID")?;
        processes?.get(id)
    });
    let service = process
        .and_then(|p| str_at(p, "serviceName"))
        .map(str::to_owned);
    let mut resource = Vec::new();
    if let Some(name) = &service {
        resource.push(("service.name".to_owned(), name.clone()));
    }
    if let Some(p) = process {
        resource.extend(tags(p.get("tags")));
    }

    Ok(Span {
        trace_id,
        span_id,
        parent_span_id,
        name: str_at(v, "operationName").unwrap_or_default().to_owned(),
        kind: kind.to_owned(),
        service,
        start_ns,
        end_ns,
        status,
        status_message,
        attributes,
        resource,
        links,
        source: Some(SourceKind::Jaeger),
        ..Span::default()
    })
}

/// Parent and links from `references` (and the deprecated `parentSpanID`).
fn references(v: &Value, trace_id: &str) -> Result<(Option<String>, Vec<Link>), String> {
    let mut refs = Vec::new();
    for r in v
        .get("references")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ref_type = str_at(r, "refType").unwrap_or("CHILD_OF");
        let ref_trace = match str_at(r, "traceID") {
            Some(t) => ids::trace_id(t)?,
            None => trace_id.to_owned(),
        };
        let Some(ref_span) = ids::parent_id(id_at(r, "spanID")?)? else {
            continue;
        };
        let child_of = !ref_type.eq_ignore_ascii_case("FOLLOWS_FROM");
        refs.push((child_of, ref_trace, ref_span));
    }
    let same_trace = |want_child: bool| {
        refs.iter()
            .position(|(child, t, _)| *child == want_child && t == trace_id)
    };
    let parent_ref = same_trace(true).or_else(|| same_trace(false));
    let mut parent = parent_ref.map(|i| refs[i].2.clone());
    if parent.is_none()
        && let Some(p) = str_at(v, "parentSpanID")
    {
        parent = ids::parent_id(p)?;
    }
    let links = refs
        .iter()
        .enumerate()
        .filter(|(i, (child, _, _))| !*child || Some(*i) != parent_ref)
        .map(|(_, (_, t, s))| Link {
            trace_id: t.clone(),
            span_id: s.clone(),
        })
        .collect();
    Ok((parent, links))
}

/// Stringified `[{key, type, value}]` tags; the value may be a string whatever the type.
fn tags(list: Option<&Value>) -> Vec<(String, String)> {
    list.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            let key = str_at(t, "key")?.to_owned();
            let value = t.get("value").cloned().unwrap_or(Value::Null);
            Some((key, AnyVal::from_json(value).into_text()))
        })
        .collect()
}

#[cfg(test)]
#[path = "jaeger_tests.rs"]
mod tests;

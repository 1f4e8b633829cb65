//! OTLP/JSON encoding of synthetic traces, with the quirks real producers show:
//! hex ids in either case or base64 (Tempo), int64 as strings or numbers, enums as
//! ints or names, and the legacy `instrumentationLibrarySpans` layout.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::{Map, Value, json};

use super::trace::{Kind, SpanStatus, SynthTrace, Val, hex};

/// How ids are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IdStyle {
    Lower,
    Upper,
    Base64,
}

/// The quirks of one OTLP file.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OtlpStyle {
    pub ids: IdStyle,
    pub int64_as_string: bool,
    pub enum_names: bool,
    pub legacy: bool,
}

impl OtlpStyle {
    /// What the Collector's file exporter writes.
    pub(crate) const STANDARD: OtlpStyle = OtlpStyle {
        ids: IdStyle::Lower,
        int64_as_string: true,
        enum_names: false,
        legacy: false,
    };
}

fn id(bytes: &[u8], style: IdStyle) -> String {
    match style {
        IdStyle::Lower => hex(bytes),
        IdStyle::Upper => hex(bytes).to_uppercase(),
        IdStyle::Base64 => B64.encode(bytes),
    }
}

fn int64(v: i64, style: &OtlpStyle) -> Value {
    if style.int64_as_string {
        Value::String(v.to_string())
    } else {
        Value::from(v)
    }
}

fn any_value(v: &Val, style: &OtlpStyle) -> Value {
    match v {
        Val::Str(s) => json!({ "stringValue": s }),
        Val::Int(i) => json!({ "intValue": int64(*i, style) }),
        Val::Bool(b) => json!({ "boolValue": b }),
        Val::Float(f) => json!({ "doubleValue": f }),
    }
}

fn key_values(attrs: &[(String, Val)], style: &OtlpStyle) -> Value {
    Value::Array(
        attrs
            .iter()
            .map(|(k, v)| json!({ "key": k, "value": any_value(v, style) }))
            .collect(),
    )
}

fn kind(k: Kind, style: &OtlpStyle) -> Value {
    let (n, name) = match k {
        Kind::Internal => (1, "SPAN_KIND_INTERNAL"),
        Kind::Server => (2, "SPAN_KIND_SERVER"),
        Kind::Client => (3, "SPAN_KIND_CLIENT"),
    };
    if style.enum_names {
        Value::from(name)
    } else {
        Value::from(n)
    }
}

fn status(s: SpanStatus, message: Option<&String>, style: &OtlpStyle) -> Value {
    let (n, name) = match s {
        SpanStatus::Unset => return json!({}),
        SpanStatus::Ok => (1, "STATUS_CODE_OK"),
        SpanStatus::Error => (2, "STATUS_CODE_ERROR"),
    };
    let mut m = Map::new();
    m.insert(
        "code".into(),
        if style.enum_names {
            Value::from(name)
        } else {
            Value::from(n)
        },
    );
    if let Some(msg) = message {
        m.insert("message".into(), Value::from(msg.as_str()));
    }
    Value::Object(m)
}

/// One `ResourceSpans` object per resource of the trace.
pub(crate) fn resource_spans(trace: &SynthTrace, style: &OtlpStyle) -> Vec<Value> {
    let tid = id(&trace.trace_id, style.ids);
    let (scopes_key, scope_key) = if style.legacy {
        ("instrumentationLibrarySpans", "instrumentationLibrary")
    } else {
        ("scopeSpans", "scope")
    };
    let mut out = Vec::with_capacity(trace.resources.len());
    for (ri, res) in trace.resources.iter().enumerate() {
        let spans: Vec<Value> = trace
            .spans
            .iter()
            .filter(|s| s.resource == ri)
            .map(|s| {
                let mut m = Map::new();
                m.insert("traceId".into(), Value::from(tid.as_str()));
                m.insert("spanId".into(), Value::from(id(&s.span_id, style.ids)));
                let parent = s.parent.map(|p| id(&p, style.ids)).unwrap_or_default();
                m.insert("parentSpanId".into(), Value::from(parent));
                m.insert("name".into(), Value::from(s.name.as_str()));
                m.insert("kind".into(), kind(s.kind, style));
                m.insert("startTimeUnixNano".into(), int64(s.start_us * 1000, style));
                m.insert("endTimeUnixNano".into(), int64(s.end_us * 1000, style));
                m.insert("attributes".into(), key_values(&s.attrs, style));
                if !s.links.is_empty() {
                    let links = s
                        .links
                        .iter()
                        .map(|(t, sp)| json!({ "traceId": id(t, style.ids), "spanId": id(sp, style.ids) }))
                        .collect();
                    m.insert("links".into(), Value::Array(links));
                }
                m.insert(
                    "status".into(),
                    status(s.status, s.status_message.as_ref(), style),
                );
                Value::Object(m)
            })
            .collect();
        if spans.is_empty() {
            continue;
        }
        out.push(json!({
            "resource": { "attributes": key_values(res, style) },
            scopes_key: [{ scope_key: { "name": "pipescope-synth", "version": "1.0.0" }, "spans": spans }],
        }));
    }
    out
}

/// `{"resourceSpans":[…]}` holding the given traces.
pub(crate) fn document(traces: &[&SynthTrace], style: &OtlpStyle) -> Value {
    let rs: Vec<Value> = traces
        .iter()
        .flat_map(|t| resource_spans(t, style))
        .collect();
    json!({ "resourceSpans": rs })
}

/// Tempo's `/api/traces/{id}` response: `{"batches":[…]}` with base64 ids.
pub(crate) fn tempo_document(trace: &SynthTrace) -> Value {
    let style = OtlpStyle {
        ids: IdStyle::Base64,
        ..OtlpStyle::STANDARD
    };
    json!({ "batches": resource_spans(trace, &style) })
}

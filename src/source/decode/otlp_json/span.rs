//! One OTLP/JSON span, parsed into a typed struct (no `serde_json::Value`) and then
//! validated into a [`Span`].
//!
//! Every scalar is read as a [`Flex`] so that a field of the wrong type makes this one
//! span unusable (reported with its JSON path) instead of aborting the stream.

use crate::model::{Link, Span, Status};
use crate::source::decode::enums;
use crate::source::decode::flex::{Flex, Key};
use crate::source::decode::ids;
use crate::source::decode::otlp_attributes::{Attributes, Lenient};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use std::fmt;

/// A span as it appears on the wire.
#[derive(Debug, Default)]
pub struct RawSpan {
    /// False when the array element was not an object at all.
    pub is_object: bool,
    pub trace_id: Flex,
    pub span_id: Flex,
    pub parent_span_id: Flex,
    pub name: Flex,
    pub kind: Flex,
    pub start: Flex,
    pub end: Flex,
    pub attributes: Vec<(String, String)>,
    pub status_code: Flex,
    pub status_message: Flex,
    pub links: Vec<RawLink>,
}

/// A link as it appears on the wire.
#[derive(Debug, Default)]
pub struct RawLink {
    pub trace_id: Flex,
    pub span_id: Flex,
}

impl<'de> Deserialize<'de> for RawSpan {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SpanVisitor)
    }
}

struct SpanVisitor;

impl<'de> Visitor<'de> for SpanVisitor {
    type Value = RawSpan;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OTLP span object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawSpan, A::Error> {
        let mut s = RawSpan {
            is_object: true,
            ..RawSpan::default()
        };
        while let Some(Key(key)) = map.next_key::<Key>()? {
            match key.as_str() {
                "traceId" | "trace_id" => s.trace_id = map.next_value()?,
                "spanId" | "span_id" => s.span_id = map.next_value()?,
                "parentSpanId" | "parent_span_id" => s.parent_span_id = map.next_value()?,
                "name" => s.name = map.next_value()?,
                "kind" => s.kind = map.next_value()?,
                "startTimeUnixNano" | "start_time_unix_nano" => s.start = map.next_value()?,
                "endTimeUnixNano" | "end_time_unix_nano" => s.end = map.next_value()?,
                "attributes" => s.attributes = map.next_value::<Attributes>()?.0,
                "status" => {
                    let st = map.next_value::<RawStatus>()?;
                    s.status_code = st.code;
                    s.status_message = st.message;
                }
                "links" => {
                    s.links = map
                        .next_value::<Lenient<Vec<RawLink>>>()?
                        .0
                        .unwrap_or_default()
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(s)
    }
    crate::source::decode::flex::ignore_non_objects!(RawSpan::default());
}

#[derive(Default)]
struct RawStatus {
    code: Flex,
    message: Flex,
}

impl<'de> Deserialize<'de> for RawStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawStatus;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a status object")
            }
            crate::source::decode::flex::ignore_non_objects!(RawStatus::default());
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawStatus, A::Error> {
                let mut st = RawStatus::default();
                while let Some(Key(key)) = map.next_key::<Key>()? {
                    match key.as_str() {
                        "code" => st.code = map.next_value()?,
                        "message" => st.message = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(st)
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RawLink {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawLink;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a link object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawLink, A::Error> {
                let mut l = RawLink::default();
                while let Some(Key(key)) = map.next_key::<Key>()? {
                    match key.as_str() {
                        "traceId" | "trace_id" => l.trace_id = map.next_value()?,
                        "spanId" | "span_id" => l.span_id = map.next_value()?,
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(l)
            }
            crate::source::decode::flex::ignore_non_objects!(RawLink::default());
        }
        d.deserialize_any(V)
    }
}

/// A link that could not be used, reported while the span itself is kept.
pub type LinkProblem = String;

impl RawSpan {
    /// Validates and normalises the span. `Err` explains why the span is unusable;
    /// the `Vec` lists links that were dropped.
    pub fn into_span(self) -> Result<(Span, Vec<LinkProblem>), String> {
        if !self.is_object {
            return Err("expected a span object".to_owned());
        }
        let trace_id = ids::trace_id(id_text(&self.trace_id, "traceId")?)?;
        let span_id = ids::span_id(id_text(&self.span_id, "spanId")?)?;
        let parent_span_id = match &self.parent_span_id {
            Flex::Null => None,
            other => ids::parent_id(id_text(other, "parentSpanId")?)?,
        };
        let start_ns = time(&self.start, "startTimeUnixNano")?;
        let end_ns = time(&self.end, "endTimeUnixNano")?;
        let kind = match &self.kind {
            Flex::Null => "unspecified",
            Flex::Str(s) => enums::kind_from_name(s).unwrap_or("unspecified"),
            other => other.as_i64().map_or("unspecified", enums::kind_from_int),
        };
        let status = match &self.status_code {
            Flex::Str(s) => enums::status_from_name(s).unwrap_or(Status::Unset),
            other => other.as_i64().map_or(Status::Unset, enums::status_from_int),
        };
        let mut link_problems = Vec::new();
        let mut links = Vec::with_capacity(self.links.len());
        for (i, l) in self.links.into_iter().enumerate() {
            let ids = id_text(&l.trace_id, "traceId")
                .and_then(|t| ids::link_id(t, ids::TRACE_HEX_LEN))
                .and_then(|t| {
                    let s = match &l.span_id {
                        Flex::Null => "",
                        other => id_text(other, "spanId")?,
                    };
                    Ok((t, ids::link_id(s, ids::SPAN_HEX_LEN)?))
                });
            match ids {
                Ok((trace_id, span_id)) => links.push(Link { trace_id, span_id }),
                Err(e) => link_problems.push(format!("links[{i}] dropped: {e}")),
            }
        }
        let span = Span {
            trace_id,
            span_id,
            parent_span_id,
            name: scalar_text(self.name),
            kind: kind.to_owned(),
            start_ns,
            end_ns,
            status,
            status_message: scalar_text(self.status_message).into_nonempty(),
            attributes: self.attributes,
            links,
            ..Span::default()
        };
        Ok((span, link_problems))
    }
}

trait NonEmpty {
    fn into_nonempty(self) -> Option<String>;
}

impl NonEmpty for String {
    fn into_nonempty(self) -> Option<String> {
        (!self.is_empty()).then_some(self)
    }
}

fn id_text<'a>(v: &'a Flex, field: &str) -> Result<&'a str, String> {
    match v {
        Flex::Str(s) => Ok(s),
        Flex::Null => Err(format!("missing {field}")),
        other => Err(format!(
            "{field} is {}, expected a hex string",
            other.describe()
        )),
    }
}

/// Nanosecond timestamps: absent means 0; anything unusable makes the span unusable.
fn time(v: &Flex, field: &str) -> Result<i64, String> {
    match v {
        Flex::Null => Ok(0),
        other => other.as_i64().ok_or_else(|| {
            format!(
                "{field} is {}, expected nanoseconds since the epoch that fit in an i64",
                other.describe()
            )
        }),
    }
}

/// Text of a scalar that should be a string (span names, status messages).
fn scalar_text(v: Flex) -> String {
    match v {
        Flex::Str(s) => s,
        Flex::Null | Flex::Nested => String::new(),
        Flex::Bool(b) => b.to_string(),
        Flex::Int(i) => i.to_string(),
        Flex::UInt(u) => u.to_string(),
        Flex::Float(f) => crate::source::decode::anyvalue::format_double(f),
    }
}

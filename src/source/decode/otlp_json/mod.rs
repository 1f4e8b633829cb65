//! Streaming OTLP/JSON decoder.
//!
//! Accepts `{"resourceSpans":[…]}` as one (pretty-printed, possibly multi-GB) object,
//! one object per line (Collector file exporter) or concatenated objects, inside the
//! wrappers real backends add: Jaeger api_v3 `{"result":{…}}`, Tempo `{"batches":[…]}`
//! and `{"trace":{…}}`. Legacy `instrumentationLibrarySpans` and snake_case field names
//! are accepted. The value loop comes from [`json_stream`](super::json_stream); this
//! module drives serde with `DeserializeSeed`s so each span reaches the sink as soon as
//! it is parsed and memory stays bounded by one span (or, when a resource object comes
//! after its spans, by one `resourceSpans` element).

mod resource_spans;
mod span;

use super::flex::Key;
use super::json_stream::{self, HandlerError, ValueHandler, ValuePos};
use super::{Problem, SinkError, SourceError, SpanSink};
use crate::model::{SourceKind, Span};
use resource_spans::ResourceSpansList;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::io::BufRead;

/// Decodes an OTLP/JSON input stream. `source` is the default source of the spans;
/// Tempo wrappers (`batches`, `trace`) turn a default of `Otlp` into `Tempo`.
pub fn decode(
    input: &mut dyn BufRead,
    origin: &str,
    source: SourceKind,
    sink: &mut dyn SpanSink,
) -> Result<(), SourceError> {
    let mut handler = Handler {
        ctx: Ctx {
            sink,
            origin,
            fatal: None,
            pos: ValuePos {
                line: None,
                index: 0,
            },
        },
        source,
    };
    json_stream::for_each_value(input, origin, &mut handler)
}

/// Shared by all seeds of one input: the sink, and the sink's error when it failed
/// (serde can only carry its own error type up the stack).
struct Ctx<'s> {
    sink: &'s mut dyn SpanSink,
    origin: &'s str,
    fatal: Option<SinkError>,
    pos: ValuePos,
}

impl Ctx<'_> {
    fn emit<E: de::Error>(&mut self, span: Span) -> Result<(), E> {
        self.sink.span(span).map_err(|e| self.fail(e))
    }

    fn skip<E: de::Error>(&mut self, path: &dyn fmt::Display, message: String) -> Result<(), E> {
        let location = self.pos.locate(self.origin, &path.to_string());
        self.sink
            .skipped(Problem { location, message })
            .map_err(|e| self.fail(e))
    }

    fn fail<E: de::Error>(&mut self, e: SinkError) -> E {
        self.fatal = Some(e);
        E::custom("stopped: the span sink failed")
    }
}

struct Handler<'s> {
    ctx: Ctx<'s>,
    source: SourceKind,
}

impl ValueHandler for Handler<'_> {
    fn value<'de, R: serde_json::de::Read<'de>>(
        &mut self,
        de: &mut serde_json::Deserializer<R>,
        pos: ValuePos,
    ) -> Result<(), HandlerError> {
        self.ctx.pos = pos;
        let seed = TopSeed {
            ctx: &mut self.ctx,
            prefix: "$".to_owned(),
            source: self.source,
            top: true,
        };
        seed.deserialize(de)
            .map_err(|e| match self.ctx.fatal.take() {
                Some(fatal) => HandlerError::Fatal(fatal),
                None => HandlerError::Json(e),
            })
    }

    fn problem(&mut self, problem: Problem) -> Result<(), SinkError> {
        self.ctx.sink.skipped(problem)
    }
}

/// A top-level object or a wrapper (`result`, `trace`) around `resourceSpans`.
struct TopSeed<'c, 's> {
    ctx: &'c mut Ctx<'s>,
    prefix: String,
    source: SourceKind,
    /// Only the outermost value must be an object; nested wrappers of another type
    /// are simply not wrappers.
    top: bool,
}

impl<'de> DeserializeSeed<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl TopSeed<'_, '_> {
    fn not_object<E: de::Error>(&self, found: de::Unexpected) -> Result<(), E> {
        if self.top {
            Err(E::invalid_type(
                found,
                &"an OTLP/JSON object with resourceSpans",
            ))
        } else {
            Ok(())
        }
    }
}

/// Tempo's wrappers mark spans as read from Tempo unless the caller said otherwise.
fn tempo(source: SourceKind) -> SourceKind {
    if source == SourceKind::Otlp {
        SourceKind::Tempo
    } else {
        source
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OTLP/JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let key = key.as_str();
            let list_key = match key {
                "resourceSpans" => Some(("resourceSpans", self.source)),
                "resource_spans" => Some(("resource_spans", self.source)),
                "batches" => Some(("batches", tempo(self.source))),
                _ => None,
            };
            if let Some((key, source)) = list_key {
                map.next_value_seed(ResourceSpansList {
                    ctx: &mut *self.ctx,
                    prefix: &self.prefix,
                    key,
                    source,
                })?;
                continue;
            }
            let wrapper = match key {
                "result" => Some(("result", self.source)),
                "trace" => Some(("trace", tempo(self.source))),
                _ => None,
            };
            match wrapper {
                Some((name, source)) => map.next_value_seed(TopSeed {
                    ctx: &mut *self.ctx,
                    prefix: format!("{}.{name}", self.prefix),
                    source,
                    top: false,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    /// A top-level array of OTLP objects.
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if !self.top {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            return Ok(());
        }
        let mut i = 0;
        while seq
            .next_element_seed(TopSeed {
                ctx: &mut *self.ctx,
                prefix: format!("{}[{i}]", self.prefix),
                source: self.source,
                top: false,
            })?
            .is_some()
        {
            i += 1;
        }
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.not_object(de::Unexpected::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.not_object(de::Unexpected::Signed(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.not_object(de::Unexpected::Unsigned(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.not_object(de::Unexpected::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.not_object(de::Unexpected::Str(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.not_object(de::Unexpected::Unit)
    }
}

#[cfg(test)]
mod tests;

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

mod span;

use super::anyvalue::Attributes;
use super::flex::Key;
use super::json_stream::{self, HandlerError, JsonDe, ValueHandler, ValuePos};
use super::{Problem, SpanSink};
use crate::model::{SourceKind, Span};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use span::RawSpan;
use std::fmt;
use std::io::BufRead;

/// Decodes an OTLP/JSON input stream. `source` is the default source of the spans;
/// Tempo wrappers (`batches`, `trace`) turn a default of `Otlp` into `Tempo`.
pub fn decode(
    input: &mut dyn BufRead,
    origin: &str,
    source: SourceKind,
    sink: &mut dyn SpanSink,
) -> anyhow::Result<()> {
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
    fatal: Option<anyhow::Error>,
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

    fn fail<E: de::Error>(&mut self, e: anyhow::Error) -> E {
        self.fatal = Some(e);
        E::custom("stopped: the span sink failed")
    }
}

struct Handler<'s> {
    ctx: Ctx<'s>,
    source: SourceKind,
}

impl ValueHandler for Handler<'_> {
    fn value(&mut self, de: &mut JsonDe<'_, '_>, pos: ValuePos) -> Result<(), HandlerError> {
        self.ctx.pos = pos;
        let seed = TopSeed {
            ctx: &mut self.ctx,
            prefix: "$".to_owned(),
            source: self.source,
            top: true,
        };
        seed.deserialize(de).map_err(|e| match self.ctx.fatal.take() {
            Some(fatal) => HandlerError::Fatal(fatal),
            None => HandlerError::Json(e),
        })
    }

    fn problem(&mut self, problem: Problem) -> anyhow::Result<()> {
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
            Err(E::invalid_type(found, &"an OTLP/JSON object with resourceSpans"))
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

/// Where a span sits, formatted only when a problem is reported.
#[derive(Clone, Copy)]
struct SpanPath<'p> {
    prefix: &'p str,
    rs_key: &'static str,
    rs: usize,
    ss_key: &'static str,
    ss: usize,
    span: usize,
}

impl fmt::Display for SpanPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{}[{}].{}[{}].spans[{}]",
            self.prefix, self.rs_key, self.rs, self.ss_key, self.ss, self.span
        )
    }
}

/// The `resourceSpans` / `batches` array.
struct ResourceSpansList<'c, 's, 'p> {
    ctx: &'c mut Ctx<'s>,
    prefix: &'p str,
    key: &'static str,
    source: SourceKind,
}

impl<'de> DeserializeSeed<'de> for ResourceSpansList<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResourceSpansList<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of resourceSpans")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut rs = 0;
        loop {
            let seed = ResourceSpansSeed {
                ctx: &mut *self.ctx,
                source: self.source,
                path: SpanPath {
                    prefix: self.prefix,
                    rs_key: self.key,
                    rs,
                    ss_key: "scopeSpans",
                    ss: 0,
                    span: 0,
                },
            };
            if seq.next_element_seed(seed)?.is_none() {
                return Ok(());
            }
            rs += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    crate::source::flex::ignore_scalars!(());
}

/// What one `resourceSpans` element has seen so far.
struct ResourceState {
    /// Stringified resource attributes and `service.name`, once the resource is read.
    resource: Option<(Vec<(String, String)>, Option<String>)>,
    /// Spans that arrived before their resource.
    pending: Vec<Span>,
    source: SourceKind,
}

impl ResourceState {
    fn complete(&self, mut span: Span) -> Span {
        if let Some((attrs, service)) = &self.resource {
            span.resource = attrs.clone();
            span.service = service.clone();
        }
        span.source = Some(self.source);
        span
    }
}

struct ResourceSpansSeed<'c, 's, 'p> {
    ctx: &'c mut Ctx<'s>,
    source: SourceKind,
    path: SpanPath<'p>,
}

impl<'de> DeserializeSeed<'de> for ResourceSpansSeed<'_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ResourceSpansSeed<'_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a resourceSpans object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        let mut state = ResourceState {
            resource: None,
            pending: Vec::new(),
            source: self.source,
        };
        let result = self.read_fields(&mut map, &mut state);
        // Spans read before a syntax error are kept, even without their resource.
        if result.is_err() && self.ctx.fatal.is_some() {
            return result;
        }
        for span in std::mem::take(&mut state.pending) {
            self.ctx.emit(state.complete(span))?;
        }
        result
    }
    crate::source::flex::ignore_non_objects!(());
}

impl ResourceSpansSeed<'_, '_, '_> {
    fn read_fields<'de, A: MapAccess<'de>>(
        &mut self,
        map: &mut A,
        state: &mut ResourceState,
    ) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key>()? {
            let ss_key = match key.as_str() {
                "resource" => {
                    let attrs = map.next_value::<RawResource>()?.attributes;
                    let service = attrs
                        .iter()
                        .find(|(k, _)| k == "service.name")
                        .map(|(_, v)| v.clone());
                    state.resource = Some((attrs, service));
                    for span in std::mem::take(&mut state.pending) {
                        self.ctx.emit(state.complete(span))?;
                    }
                    continue;
                }
                "scopeSpans" => "scopeSpans",
                "scope_spans" => "scope_spans",
                "instrumentationLibrarySpans" => "instrumentationLibrarySpans",
                "instrumentation_library_spans" => "instrumentation_library_spans",
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            map.next_value_seed(ScopeSpansList {
                ctx: &mut *self.ctx,
                state: &mut *state,
                path: SpanPath {
                    ss_key,
                    ..self.path
                },
            })?;
        }
        Ok(())
    }
}

/// `resource`: only its attributes matter.
#[derive(Default)]
struct RawResource {
    attributes: Vec<(String, String)>,
}

impl<'de> de::Deserialize<'de> for RawResource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawResource;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a resource object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawResource, A::Error> {
                let mut r = RawResource::default();
                while let Some(Key(key)) = map.next_key::<Key>()? {
                    if key.as_str() == "attributes" {
                        r.attributes = map.next_value::<Attributes>()?.0;
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(r)
            }
            crate::source::flex::ignore_non_objects!(RawResource::default());
        }
        d.deserialize_any(V)
    }
}

/// The `scopeSpans` array; also walks each element's `spans`.
struct ScopeSpansList<'c, 's, 'p, 'st> {
    ctx: &'c mut Ctx<'s>,
    state: &'st mut ResourceState,
    path: SpanPath<'p>,
}

impl<'de> DeserializeSeed<'de> for ScopeSpansList<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScopeSpansList<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of scopeSpans")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut ss = 0;
        loop {
            let seed = ScopeSpansSeed {
                ctx: &mut *self.ctx,
                state: &mut *self.state,
                path: SpanPath { ss, ..self.path },
            };
            if seq.next_element_seed(seed)?.is_none() {
                return Ok(());
            }
            ss += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    crate::source::flex::ignore_scalars!(());
}

/// One `scopeSpans` element; `spans` is the only field used (the scope is not a
/// column of the span table).
struct ScopeSpansSeed<'c, 's, 'p, 'st> {
    ctx: &'c mut Ctx<'s>,
    state: &'st mut ResourceState,
    path: SpanPath<'p>,
}

impl<'de> DeserializeSeed<'de> for ScopeSpansSeed<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for ScopeSpansSeed<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a scopeSpans object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(Key(key)) = map.next_key::<Key>()? {
            if key.as_str() == "spans" {
                map.next_value_seed(SpansList {
                    ctx: &mut *self.ctx,
                    state: &mut *self.state,
                    path: self.path,
                })?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
    crate::source::flex::ignore_non_objects!(());
}

/// The `spans` array: every element is decoded, validated and emitted at once.
struct SpansList<'c, 's, 'p, 'st> {
    ctx: &'c mut Ctx<'s>,
    state: &'st mut ResourceState,
    path: SpanPath<'p>,
}

impl<'de> DeserializeSeed<'de> for SpansList<'_, '_, '_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SpansList<'_, '_, '_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of spans")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        while let Some(raw) = seq.next_element::<RawSpan>()? {
            let path = SpanPath { span: i, ..self.path };
            i += 1;
            match raw.into_span() {
                Err(message) => self.ctx.skip(&path, message)?,
                Ok((span, link_problems)) => {
                    for message in link_problems {
                        self.ctx.skip(&path, message)?;
                    }
                    if self.state.resource.is_some() {
                        self.ctx.emit(self.state.complete(span))?;
                    } else {
                        self.state.pending.push(span);
                    }
                }
            }
        }
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
    crate::source::flex::ignore_scalars!(());
}

#[cfg(test)]
mod tests;

//! The `resourceSpans` level of OTLP/JSON: resources, scopes and span arrays, walked
//! with `DeserializeSeed`s so that each span is validated and handed to the sink as
//! soon as it is parsed. Only a span that arrives before its resource object waits
//! (in [`ResourceState::pending`]) until the resource has been read.

use super::Ctx;
use super::span::RawSpan;
use crate::model::{SourceKind, Span};
use crate::source::decode::flex::Key;
use crate::source::decode::otlp_attributes::Attributes;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;

/// Where a span sits, formatted only when a problem is reported.
#[derive(Clone, Copy)]
pub(super) struct SpanPath<'p> {
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
pub(super) struct ResourceSpansList<'c, 's, 'p> {
    pub(super) ctx: &'c mut Ctx<'s>,
    pub(super) prefix: &'p str,
    pub(super) key: &'static str,
    pub(super) source: SourceKind,
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
    crate::source::decode::flex::ignore_scalars!(());
}

/// Stringified resource attributes and the `service.name` among them.
type Resource = (Vec<(String, String)>, Option<String>);

/// What one `resourceSpans` element has seen so far.
struct ResourceState {
    /// Stringified resource attributes and `service.name`, once the resource is read.
    resource: Option<Resource>,
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
    crate::source::decode::flex::ignore_non_objects!(());
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
            crate::source::decode::flex::ignore_non_objects!(RawResource::default());
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
    crate::source::decode::flex::ignore_scalars!(());
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
    crate::source::decode::flex::ignore_non_objects!(());
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
            let path = SpanPath {
                span: i,
                ..self.path
            };
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
    crate::source::decode::flex::ignore_scalars!(());
}

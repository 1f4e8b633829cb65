//! The generator's own, format-neutral trace model.
//!
//! Scenario code builds [`SynthTrace`]s through [`TraceBuilder`]; the encoders in
//! `encode_*.rs` turn the same trace into OTLP, Jaeger or Zipkin bytes. Times are kept
//! in whole microseconds so that a trace emitted twice (OTLP in ns, Jaeger/Zipkin in µs)
//! is bit-for-bit the same data and deduplicates cleanly.

use rand::Rng;
use rand::rngs::SmallRng;

/// An attribute value with the type the emitter would have used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Str(String),
    Int(i64),
    Bool(bool),
    Float(f64),
}

impl Val {
    /// The value as Zipkin (string-only tags) would carry it.
    pub(crate) fn to_tag_string(&self) -> String {
        match self {
            Val::Str(s) => s.clone(),
            Val::Int(i) => i.to_string(),
            Val::Bool(b) => b.to_string(),
            Val::Float(f) => f.to_string(),
        }
    }
}

impl From<&str> for Val {
    fn from(s: &str) -> Self {
        Val::Str(s.to_string())
    }
}
impl From<String> for Val {
    fn from(s: String) -> Self {
        Val::Str(s)
    }
}
impl From<&String> for Val {
    fn from(s: &String) -> Self {
        Val::Str(s.clone())
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Self {
        Val::Int(i)
    }
}
impl From<bool> for Val {
    fn from(b: bool) -> Self {
        Val::Bool(b)
    }
}
impl From<f64> for Val {
    fn from(f: f64) -> Self {
        Val::Float(f)
    }
}

pub(crate) type Attrs = Vec<(String, Val)>;

/// Builds an attribute list from `(key, value)` pairs of mixed value types.
macro_rules! attrs {
    ($($k:expr => $v:expr),* $(,)?) => {
        vec![$(($k.to_string(), $crate::synth::trace::Val::from($v))),*]
    };
}
pub(crate) use attrs;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Internal,
    Server,
    Client,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpanStatus {
    Unset,
    Ok,
    Error,
}

#[derive(Debug, Clone)]
pub(crate) struct SynthSpan {
    pub span_id: [u8; 8],
    pub parent: Option<[u8; 8]>,
    /// Index into [`SynthTrace::resources`].
    pub resource: usize,
    pub name: String,
    pub kind: Kind,
    pub start_us: i64,
    pub end_us: i64,
    pub status: SpanStatus,
    pub status_message: Option<String>,
    pub attrs: Attrs,
    /// Links to other traces' spans (a re-run's root links to the previous attempt).
    pub links: Vec<([u8; 16], [u8; 8])>,
}

/// One pipeline run attempt: one trace.
#[derive(Debug, Clone)]
pub(crate) struct SynthTrace {
    pub trace_id: [u8; 16],
    pub resources: Vec<Attrs>,
    pub spans: Vec<SynthSpan>,
}

/// Handle to a span inside a [`TraceBuilder`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpanRef(pub usize);

/// Collects the spans of one trace; ids come from the scenario's seeded rng.
pub(crate) struct TraceBuilder {
    pub trace: SynthTrace,
}

impl TraceBuilder {
    pub(crate) fn new(rng: &mut SmallRng) -> Self {
        TraceBuilder {
            trace: SynthTrace {
                trace_id: rng.random(),
                resources: Vec::new(),
                spans: Vec::new(),
            },
        }
    }

    pub(crate) fn resource(&mut self, attrs: Attrs) -> usize {
        self.trace.resources.push(attrs);
        self.trace.resources.len() - 1
    }

    /// Adds a span; `status` Unset/Ok/Error as the emitter would set it.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn span(
        &mut self,
        rng: &mut SmallRng,
        resource: usize,
        parent: Option<SpanRef>,
        name: impl Into<String>,
        kind: Kind,
        start_us: i64,
        end_us: i64,
        status: SpanStatus,
        attrs: Attrs,
    ) -> SpanRef {
        let parent = parent.map(|p| self.trace.spans[p.0].span_id);
        self.trace.spans.push(SynthSpan {
            span_id: rng.random(),
            parent,
            resource,
            name: name.into(),
            kind,
            start_us,
            end_us: end_us.max(start_us),
            status,
            status_message: None,
            attrs,
            links: Vec::new(),
        });
        SpanRef(self.trace.spans.len() - 1)
    }

    pub(crate) fn get_mut(&mut self, s: SpanRef) -> &mut SynthSpan {
        &mut self.trace.spans[s.0]
    }

    pub(crate) fn get(&self, s: SpanRef) -> &SynthSpan {
        &self.trace.spans[s.0]
    }
}

/// Lowercase hex of an id.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

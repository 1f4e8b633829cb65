//! Inputs: decoders for every trace wire format pipescope reads, format detection,
//! and the expansion of command-line paths (files, directories, globs, stdin, `.gz`)
//! into readers. Every decoder streams spans into a [`SpanSink`]; nothing here
//! normalises CI conventions or touches the store.

pub mod backend;
pub mod decode;
mod detect;
mod error;
pub mod input;

pub use decode::{decode, decode_otlp_json_body, decode_otlp_proto_message};
pub use detect::detect;
pub use error::SourceError;
pub use input::{Input, InputSpec, expand_inputs};

use crate::model::Span;

/// Wire formats pipescope decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// OTLP/JSON in any of its wrappers. Decoding this format also accepts OTLP
    /// protobuf frames, so that `--format otlp` means "either OTLP encoding".
    OtlpJson,
    /// Length-prefixed OTLP protobuf frames (Collector file exporter, `format: proto`).
    OtlpProto,
    /// Jaeger v1 JSON (`/api/traces`, UI download, single traces).
    Jaeger,
    /// Zipkin v2 JSON.
    Zipkin,
    /// The OpenTelemetry Python SDK's span JSON (pytest-otel, ConsoleSpanExporter).
    PythonSdk,
}

impl Format {
    /// Parses a `--format` name: `otlp` (JSON or protobuf, sniffed), `otlp-json`,
    /// `otlp-proto`, `jaeger`, `zipkin`, `python`.
    pub fn from_name(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "otlp" | "otlp-json" | "otlp_json" | "json" => Some(Format::OtlpJson),
            "otlp-proto" | "otlp_proto" | "proto" | "protobuf" => Some(Format::OtlpProto),
            "jaeger" => Some(Format::Jaeger),
            "zipkin" => Some(Format::Zipkin),
            "python" | "python-sdk" | "python_sdk" => Some(Format::PythonSdk),
            _ => None,
        }
    }

    /// The canonical name (accepted by [`Format::from_name`]).
    pub fn name(self) -> &'static str {
        match self {
            Format::OtlpJson => "otlp",
            Format::OtlpProto => "otlp-proto",
            Format::Jaeger => "jaeger",
            Format::Zipkin => "zipkin",
            Format::PythonSdk => "python",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Something in the input that could not be decoded and was skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Where: `file:line`, `file: $.resourceSpans[3].scopeSpans[0].spans[7]`, a span id…
    pub location: String,
    /// What was expected and what was found.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// Receives decoded spans and skipped items from a decoder.
pub trait SpanSink {
    /// Takes one decoded span. An error (e.g. the store failed) stops decoding.
    fn span(&mut self, span: Span) -> anyhow::Result<()>;
    /// Reports an item that was skipped. Returning an error stops decoding
    /// (that is how `--strict` works).
    fn skipped(&mut self, problem: Problem) -> anyhow::Result<()>;
}

/// Collects everything in memory; for tests and small inputs.
#[derive(Debug, Default)]
pub struct VecSink {
    pub spans: Vec<Span>,
    pub problems: Vec<Problem>,
}

impl SpanSink for VecSink {
    fn span(&mut self, span: Span) -> anyhow::Result<()> {
        self.spans.push(span);
        Ok(())
    }
    fn skipped(&mut self, problem: Problem) -> anyhow::Result<()> {
        self.problems.push(problem);
        Ok(())
    }
}

//! Where traces come from, up to decoded spans. This top level holds what every
//! source shares: the wire [`Format`]s and their detection (`detect`), the expansion
//! of command-line paths (files, directories, globs, stdin, `.gz`) into readers
//! (`input`), the [`SpanSink`] decoders write into with the [`Problem`]s they skip
//! (`sink`), and the errors of this layer ([`SourceError`]). Below it, `decode` has
//! one decoder per format and `backend` the query clients of Jaeger, Tempo and
//! Zipkin. Everything here produces `model::Span`s; nothing here normalises CI
//! conventions or touches the store.

pub mod backend;
pub mod decode;
mod detect;
mod error;
pub mod input;
mod sink;

pub use decode::{BodyKind, decode, decode_body, decode_otlp_json_body, decode_otlp_proto_message};
pub use detect::detect;
pub use error::SourceError;
pub use input::{Input, InputSpec, expand_inputs};
pub use sink::{Problem, SinkError, SpanSink, VecSink};

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
    /// A JUnit XML test report (Surefire, Gradle, pytest, jest-junit, gotestsum, …).
    Junit,
}

impl Format {
    /// Parses a `--format` name: `otlp` (JSON or protobuf, sniffed), `otlp-json`,
    /// `otlp-proto`, `jaeger`, `zipkin`, `python`, `junit`.
    pub fn from_name(s: &str) -> Option<Format> {
        match s.trim().to_ascii_lowercase().as_str() {
            "otlp" | "otlp-json" | "otlp_json" | "json" => Some(Format::OtlpJson),
            "otlp-proto" | "otlp_proto" | "proto" | "protobuf" => Some(Format::OtlpProto),
            "jaeger" => Some(Format::Jaeger),
            "zipkin" => Some(Format::Zipkin),
            "python" | "python-sdk" | "python_sdk" => Some(Format::PythonSdk),
            "junit" | "junit-xml" | "junit_xml" | "xunit" => Some(Format::Junit),
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
            Format::Junit => "junit",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

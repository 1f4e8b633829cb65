//! Which trace goes into which file, in which format and with which quirks.
//!
//! Every trace is written once in its primary format; with `messy`, a few OTLP traces
//! are written a second time as Jaeger or Zipkin (the same ids and µs times), which the
//! store must deduplicate. Traces with links (GitHub re-runs) never go to Zipkin only,
//! because Zipkin has no links and the attempt would be lost.
//!
//! Traces arrive one at a time ([`Files::push`]) and each file is handed to the
//! [`Sink`] as soon as it is full, so at most one file's worth of traces per format is
//! held. Only the duplicates (messy data, a few % of the small presets' traces) wait
//! for the end, in one file each.

use std::convert::Infallible;
use std::path::Path;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use super::FormatMix;
use super::encode_legacy::{jaeger_document, zipkin_document, zipkin_spans};
use super::encode_otlp::{IdStyle, OtlpStyle, document, resource_spans, tempo_document};
use super::encode_otlp_proto::push_frame;
use super::trace::{SynthTrace, hex};

/// Where finished files go.
pub(crate) trait Sink {
    type Error;
    /// Takes one whole file: its name (with extension) and its bytes.
    fn file(&mut self, name: String, bytes: Vec<u8>) -> Result<(), Self::Error>;
}

/// Keeps the files in memory, in the order they were finished.
impl Sink for Vec<(String, Vec<u8>)> {
    type Error = Infallible;
    fn file(&mut self, name: String, bytes: Vec<u8>) -> Result<(), Infallible> {
        self.push((name, bytes));
        Ok(())
    }
}

/// Writes each file into a directory that exists.
pub(crate) struct DirSink<'a>(pub &'a Path);

impl Sink for DirSink<'_> {
    type Error = std::io::Error;
    fn file(&mut self, name: String, bytes: Vec<u8>) -> std::io::Result<()> {
        std::fs::write(self.0.join(name), bytes)
    }
}

/// Traces per file of each batched format.
const OTLP_LINES_PER_FILE: usize = 40;
const OTLP_PRETTY_PER_FILE: usize = 25;
const JAEGER_PER_FILE: usize = 20;
const ZIPKIN_PER_FILE: usize = 30;

#[derive(Clone, Copy, PartialEq, Eq)]
enum Fmt {
    OtlpLines,
    OtlpProto,
    OtlpPretty,
    Jaeger,
    Zipkin,
    Tempo,
}

/// Traces waiting for their file to fill, and how many files of the format are done.
#[derive(Default)]
struct Pending {
    traces: Vec<SynthTrace>,
    files: usize,
}

/// Lays traces out into files as they come.
pub(crate) struct Files<S> {
    sink: S,
    mix: FormatMix,
    messy: bool,
    rng: SmallRng,
    /// The OTLP lines file being filled: its bytes and its number of traces.
    lines: Vec<u8>,
    lines_traces: usize,
    lines_files: usize,
    /// The same for the OTLP protobuf file being filled: one frame per trace.
    proto_frames: Vec<u8>,
    proto_traces: usize,
    proto_files: usize,
    pretty: Pending,
    jaeger: Pending,
    zipkin: Pending,
    dup_jaeger: Vec<SynthTrace>,
    dup_zipkin: Vec<SynthTrace>,
}

impl<S: Sink> Files<S> {
    pub(crate) fn new(sink: S, mix: FormatMix, messy: bool, seed: u64) -> Self {
        Files {
            sink,
            mix,
            messy,
            // A separate stream so that file layout choices never shift the scenario's rng.
            rng: SmallRng::seed_from_u64(seed ^ 0x5eed_f11e_5eed_f11e),
            lines: Vec::new(),
            lines_traces: 0,
            lines_files: 0,
            proto_frames: Vec::new(),
            proto_traces: 0,
            proto_files: 0,
            pretty: Pending::default(),
            jaeger: Pending::default(),
            zipkin: Pending::default(),
            dup_jaeger: Vec::new(),
            dup_zipkin: Vec::new(),
        }
    }

    /// Places one trace; writes the file it completes.
    pub(crate) fn push(&mut self, t: SynthTrace) -> Result<(), S::Error> {
        let linked = t.spans.iter().any(|s| !s.links.is_empty());
        let fmt = match self.mix {
            FormatMix::OtlpOnly => Fmt::OtlpLines,
            FormatMix::OtlpProtoOnly => Fmt::OtlpProto,
            FormatMix::JaegerOnly => Fmt::Jaeger,
            FormatMix::ZipkinOnly => Fmt::Zipkin,
            FormatMix::All => {
                let r: f64 = self.rng.random();
                match r {
                    _ if r < 0.58 => Fmt::OtlpLines,
                    _ if r < 0.70 => Fmt::OtlpPretty,
                    _ if r < 0.84 => Fmt::Jaeger,
                    _ if r < 0.96 && !linked => Fmt::Zipkin,
                    _ if r < 0.96 => Fmt::Jaeger,
                    _ if self.messy => Fmt::Tempo,
                    _ => Fmt::OtlpLines,
                }
            }
        };
        match fmt {
            Fmt::OtlpLines => {
                let dup = self.messy && self.mix == FormatMix::All && self.rng.random_bool(0.08);
                let to_jaeger = dup && (linked || self.rng.random_bool(0.5));
                self.push_line(&t)?;
                if to_jaeger {
                    self.dup_jaeger.push(t);
                } else if dup {
                    self.dup_zipkin.push(t);
                }
            }
            Fmt::OtlpPretty => {
                self.pretty.traces.push(t);
                if self.pretty.traces.len() == OTLP_PRETTY_PER_FILE {
                    self.flush_pretty()?;
                }
            }
            Fmt::OtlpProto => {
                push_frame(&mut self.proto_frames, &t);
                self.proto_traces += 1;
                if self.proto_traces == OTLP_LINES_PER_FILE {
                    self.flush_proto()?;
                }
            }
            Fmt::Jaeger => {
                self.jaeger.traces.push(t);
                if self.jaeger.traces.len() == JAEGER_PER_FILE {
                    self.flush_jaeger()?;
                }
            }
            Fmt::Zipkin => {
                self.zipkin.traces.push(t);
                if self.zipkin.traces.len() == ZIPKIN_PER_FILE {
                    self.flush_zipkin()?;
                }
            }
            Fmt::Tempo => {
                let name = format!("tempo-{}.json", hex(&t.trace_id));
                self.sink.file(name, to_bytes(&tempo_document(&t), false))?;
            }
        }
        Ok(())
    }

    /// Writes the files still open; returns the sink and the number of traces written
    /// twice.
    pub(crate) fn finish(mut self) -> Result<(S, u64), S::Error> {
        if self.lines_traces > 0 {
            self.flush_lines()?;
        }
        if self.proto_traces > 0 {
            self.flush_proto()?;
        }
        if !self.pretty.traces.is_empty() {
            self.flush_pretty()?;
        }
        if !self.jaeger.traces.is_empty() {
            self.flush_jaeger()?;
        }
        if !self.zipkin.traces.is_empty() {
            self.flush_zipkin()?;
        }
        if !self.dup_jaeger.is_empty() {
            let refs: Vec<&SynthTrace> = self.dup_jaeger.iter().collect();
            let bytes = to_bytes(&jaeger_document(&refs), true);
            self.sink.file("dup-jaeger-000.json".into(), bytes)?;
        }
        if !self.dup_zipkin.is_empty() {
            // A flat list of spans, the `/api/v2/trace/{id}` shape, for variety.
            let flat: Vec<Value> = self.dup_zipkin.iter().flat_map(zipkin_spans).collect();
            let bytes = to_bytes(&Value::Array(flat), false);
            self.sink.file("dup-zipkin-000.json".into(), bytes)?;
        }
        let dups = (self.dup_jaeger.len() + self.dup_zipkin.len()) as u64;
        Ok((self.sink, dups))
    }

    fn push_line(&mut self, t: &SynthTrace) -> Result<(), S::Error> {
        let style = if self.messy {
            quirky_style(self.lines_files)
        } else {
            OtlpStyle::STANDARD
        };
        let line = serde_json::json!({ "resourceSpans": resource_spans(t, &style) });
        push_json(&mut self.lines, &line, false);
        self.lines.push(b'\n');
        self.lines_traces += 1;
        if self.lines_traces == OTLP_LINES_PER_FILE {
            self.flush_lines()?;
        }
        Ok(())
    }

    fn flush_lines(&mut self) -> Result<(), S::Error> {
        let name = format!("otlp-lines-{:03}.jsonl", self.lines_files);
        self.lines_files += 1;
        self.lines_traces = 0;
        self.sink.file(name, std::mem::take(&mut self.lines))
    }

    fn flush_proto(&mut self) -> Result<(), S::Error> {
        let name = format!("otlp-proto-{:03}.binpb", self.proto_files);
        self.proto_files += 1;
        self.proto_traces = 0;
        self.sink.file(name, std::mem::take(&mut self.proto_frames))
    }

    fn flush_pretty(&mut self) -> Result<(), S::Error> {
        let k = self.pretty.files;
        let style = if self.messy {
            quirky_style(k + 1)
        } else {
            OtlpStyle::STANDARD
        };
        let bytes = to_bytes(&document(&self.pretty.refs(), &style), true);
        self.pretty.done();
        self.sink.file(format!("otlp-{k:03}.json"), bytes)
    }

    fn flush_jaeger(&mut self) -> Result<(), S::Error> {
        let k = self.jaeger.files;
        let bytes = to_bytes(&jaeger_document(&self.jaeger.refs()), true);
        self.jaeger.done();
        self.sink.file(format!("jaeger-{k:03}.json"), bytes)
    }

    fn flush_zipkin(&mut self) -> Result<(), S::Error> {
        let k = self.zipkin.files;
        let bytes = to_bytes(&zipkin_document(&self.zipkin.refs()), false);
        self.zipkin.done();
        self.sink.file(format!("zipkin-{k:03}.json"), bytes)
    }
}

impl Pending {
    fn refs(&self) -> Vec<&SynthTrace> {
        self.traces.iter().collect()
    }

    /// Empties the batch after its file has been made.
    fn done(&mut self) {
        self.traces.clear();
        self.files += 1;
    }
}

/// Quirks of the k-th OTLP file on messy data.
fn quirky_style(k: usize) -> OtlpStyle {
    match k % 4 {
        0 => OtlpStyle::STANDARD,
        1 => OtlpStyle {
            ids: IdStyle::Upper,
            int64_as_string: false,
            ..OtlpStyle::STANDARD
        },
        2 => OtlpStyle {
            enum_names: true,
            legacy: true,
            ..OtlpStyle::STANDARD
        },
        _ => OtlpStyle {
            int64_as_string: false,
            enum_names: true,
            ..OtlpStyle::STANDARD
        },
    }
}

fn push_json(buf: &mut Vec<u8>, v: &Value, pretty: bool) {
    // Serialising a `Value` into a Vec cannot fail: every key is a string and there is
    // no I/O; an empty output would be caught by the parse tests.
    let r = if pretty {
        serde_json::to_writer_pretty(&mut *buf, v)
    } else {
        serde_json::to_writer(&mut *buf, v)
    };
    debug_assert!(r.is_ok());
}

fn to_bytes(v: &Value, pretty: bool) -> Vec<u8> {
    let mut buf = Vec::new();
    push_json(&mut buf, v, pretty);
    buf
}

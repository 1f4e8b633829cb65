//! Synthetic CI trace data with planted truth.
//!
//! Generates a month of pipeline runs of a fictional repository in the wire formats and
//! attribute conventions real emitters use (GitHub receiver `cicd.*`, GitHub Actions
//! exporter `github.*`, Jenkins plugin, Tekton task scripts; pytest-otel, `test.case.*`
//! and JUnit tests), messy the way real data is, together with a [`Truth`] naming every
//! fact the analyses must find: flaky tests and their causes, broken tests, the
//! bottleneck task, per-branch failure counts. Used by `pipescope demo`, integration
//! tests and benchmarks. Output is bytes only: this module knows nothing of decoders
//! or the store, and the same seed always yields the same bytes.
//!
//! Layout: `catalog` (branches, suites, planted tests) → `scenario` (what happens when)
//! → `pipeline_*` / `suites` (spans in each convention) → `encode_*` / `files` (wire
//! formats). `bench` is a separate fast writer for large inputs.

mod bench;
mod catalog;
pub mod delivery;
mod encode_legacy;
mod encode_otlp;
mod encode_otlp_proto;
mod files;
mod generator;
pub mod history;
mod pipeline_jenkins;
mod pipeline_main;
mod pipeline_release;
mod pipeline_tekton;
mod run;
mod scenario;
mod suites;
mod tally;
mod trace;
mod truth;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use bench::otlp_json_lines;
pub use truth::{Cause, PlantedFlaky, TestStats, Truth};

/// Which wire formats to emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatMix {
    /// OTLP/JSON lines and pretty objects, Jaeger v1, Zipkin v2 (and Tempo when messy).
    All,
    /// Only OTLP/JSON lines (Collector file exporter style).
    OtlpOnly,
    /// Only length-prefixed OTLP protobuf frames (file exporter, `format: proto`).
    OtlpProtoOnly,
    /// Only Jaeger v1 JSON documents.
    JaegerOnly,
    /// Only Zipkin v2 JSON documents (their spans have no links).
    ZipkinOnly,
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct SynthConfig {
    /// Seed of the one rng; equal configs give byte-identical output.
    pub seed: u64,
    /// Approximate number of pipeline runs (traces, every attempt counted); the exact
    /// numbers are in [`Truth::branch_runs`].
    pub runs: usize,
    /// Start of the first run, ns since the Unix epoch; runs spread over `days` days
    /// after it.
    pub start: i64,
    /// Days the runs spread over: 30 for a month of history, 365 for the year a time
    /// filter's pruning is measured on.
    pub days: u32,
    pub formats: FormatMix,
    /// Clock skew, orphan spans, 100 KB attributes, id/int64/enum quirks, duplicated
    /// traces across formats.
    pub messy: bool,
    /// Adds the delivery history (two more repositories on their way to production,
    /// see [`delivery`]) and its truth, [`Truth::delivery`].
    pub delivery: bool,
}

/// 2025-06-01T00:00:00Z: fixed so that the demo is reproducible.
const DEMO_START_NS: i64 = 1_748_736_000_000_000_000;

impl SynthConfig {
    /// The bundled demo: ~300 runs, every analysis shows something, all formats, messy.
    pub fn demo() -> Self {
        SynthConfig {
            seed: 42,
            runs: 300,
            start: DEMO_START_NS,
            days: 30,
            formats: FormatMix::All,
            messy: true,
            delivery: true,
        }
    }

    /// For integration tests: small and fast, still every planted fact with enough
    /// executions for statistics (each flaky test >= 40 executions, >= 5 failures).
    pub fn small_test(seed: u64) -> Self {
        SynthConfig {
            seed,
            runs: 150,
            start: DEMO_START_NS,
            days: 30,
            formats: FormatMix::All,
            messy: true,
            delivery: true,
        }
    }

    /// Realistic data of about `target_spans` spans (OTLP lines only, clean), for
    /// benchmarks of the whole pipeline.
    pub fn bench(target_spans: usize) -> Self {
        SynthConfig {
            seed: 7,
            // Measured average: ~35 spans per trace.
            runs: (target_spans / 35).max(1),
            start: DEMO_START_NS,
            days: 30,
            formats: FormatMix::OtlpOnly,
            messy: false,
            delivery: false,
        }
    }
}

/// Generated files and what they contain.
#[derive(Debug, Clone)]
pub struct SynthOutput {
    /// Relative file name (with extension) and contents.
    pub files: Vec<(String, Vec<u8>)>,
    pub truth: Truth,
    /// Distinct spans (duplicated traces counted once).
    pub span_count: usize,
}

/// Generates the data set described by `cfg`, in memory.
pub fn generate(cfg: &SynthConfig) -> SynthOutput {
    let Ok((files, truth)) = stream(cfg, Vec::new());
    SynthOutput {
        files,
        span_count: truth.spans as usize,
        truth,
    }
}

/// Writes the files under `dir` (creating it) and returns the truth. The truth is not
/// written there, so that `dir` holds trace data only.
///
/// Each file is written as soon as it is full, so memory stays the same whatever the
/// size of the data set: only the delivery history (a fixed month, when configured)
/// and the duplicated traces of messy data are held until the end.
pub fn write_to_dir(cfg: &SynthConfig, dir: &Path) -> std::io::Result<Truth> {
    std::fs::create_dir_all(dir)?;
    let (_, truth) = stream(cfg, files::DirSink(dir))?;
    Ok(truth)
}

/// Generates `cfg` into `sink`, one trace at a time; the same for memory and disk so
/// that both hold the same bytes.
fn stream<S: files::Sink>(cfg: &SynthConfig, sink: S) -> Result<(S, Truth), S::Error> {
    let mut files = files::Files::new(sink, cfg.formats, cfg.messy, cfg.seed);
    let mut truth = scenario::generate(cfg, |run| files.push(run.trace))?;
    let (mut sink, dups) = files.finish()?;
    truth.duplicated_traces = dups;
    if cfg.delivery {
        let d = delivery::generate(cfg);
        for run in &d.runs {
            tally::count_run(&mut truth, run);
        }
        for (name, bytes) in d.files {
            sink.file(name, bytes)?;
        }
        truth.delivery = Some(d.truth);
    }
    Ok((sink, truth))
}

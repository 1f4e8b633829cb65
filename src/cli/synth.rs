//! `pipescope synth`: write synthetic CI traces with planted truth (flaky tests with
//! known causes, broken tests, a bottleneck behind parallel work, failing and hostile
//! branches) — for trying pipescope without data, for tests and for benchmarks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::synth::{FormatMix, SynthConfig, write_to_dir};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// What `pipescope demo` ingests.
    Demo,
    /// Small, every planted fact present (the integration tests' data).
    Test,
    /// Large and uniform, for benchmarks (size set by --spans).
    Bench,
}

/// The file formats to write (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Formats {
    /// OTLP/JSON lines and objects, Jaeger and Zipkin mixed (the demo and test presets).
    Mixed,
    /// OTLP/JSON lines only (the bench preset).
    Otlp,
    /// Length-prefixed OTLP protobuf frames only.
    OtlpProto,
    /// Jaeger v1 JSON only.
    Jaeger,
    /// Zipkin v2 JSON only.
    Zipkin,
}

impl Formats {
    fn mix(self) -> FormatMix {
        match self {
            Formats::Mixed => FormatMix::All,
            Formats::Otlp => FormatMix::OtlpOnly,
            Formats::OtlpProto => FormatMix::OtlpProtoOnly,
            Formats::Jaeger => FormatMix::JaegerOnly,
            Formats::Zipkin => FormatMix::ZipkinOnly,
        }
    }
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Directory to write the trace files into (it then holds trace files only, ready
    /// for `pipescope ingest`).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value_t = Preset::Demo)]
    pub preset: Preset,
    /// Random seed (default: the preset's): the same seed writes the same bytes.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write what was planted (flaky tests and their causes, the critical task,
    /// runs and failures per branch) as JSON to this file.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Approximate number of spans (bench preset).
    #[arg(long, default_value_t = 1_000_000)]
    pub spans: usize,
    /// The file formats to write (default: the preset's), e.g. to measure ingest of
    /// each format on the same runs.
    #[arg(long, value_enum)]
    pub format: Option<Formats>,
    /// Days the runs spread over (default: the preset's, 30).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: Option<u32>,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let mut config = match args.preset {
        Preset::Demo => SynthConfig::demo(),
        Preset::Test => SynthConfig::small_test(0),
        Preset::Bench => SynthConfig::bench(args.spans),
    };
    if let Some(seed) = args.seed {
        config.seed = seed;
    }
    if let Some(days) = args.days {
        config.days = days;
    }
    if let Some(formats) = args.format {
        config.formats = formats.mix();
    }
    let truth = write_to_dir(&config, &args.out)
        .with_context(|| format!("cannot write to {}", args.out.display()))?;
    if let Some(path) = &args.truth {
        std::fs::write(path, serde_json::to_vec_pretty(&truth)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    eprintln!(
        "wrote {} traces ({} spans) to {}",
        truth.traces,
        truth.spans,
        args.out.display()
    );
    Ok(ExitCode::SUCCESS)
}

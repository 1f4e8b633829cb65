//! `pipescope synth`: write synthetic CI traces with planted truth (flaky tests with
//! known causes, broken tests, a bottleneck behind parallel work, failing and hostile
//! branches) — for trying pipescope without data, for tests and for benchmarks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::synth::{SynthConfig, write_to_dir};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// What `pipescope demo` ingests.
    Demo,
    /// Small, every planted fact present (the integration tests' data).
    Test,
    /// Large and uniform, for benchmarks (size set by --spans).
    Bench,
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

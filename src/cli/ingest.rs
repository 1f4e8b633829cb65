//! `pipescope ingest PATH...`: decode trace files and store them (`crate::ingest`),
//! with a progress bar and a summary on stderr.
//!
//! JUnit XML reports say nothing of the CI run that produced them: the context flags
//! (`--pipeline`, `--run-id`, `--attempt`, `--task`, `--branch`, `--commit`, `--repo`,
//! `--time`) say it, and whatever they leave out comes from the environment of the CI
//! system the command runs on (GitHub Actions, GitLab CI, Jenkins, Buildkite,
//! CircleCI; see `source::decode::junit`).
//!
//! Exit status: 0 when everything was stored, 2 when anything was skipped (each
//! skipped item is reported with its file and position) or on error.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use crate::ingest::{IngestError, IngestJob, IngestOptions, IngestSummary, default_threads};
use crate::model::conventions::Conventions;
use crate::source::Format;
use crate::source::decode::junit::{self, JunitContext};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Files, directories (read recursively), glob patterns, or `-` for stdin. `.gz` is
    /// decompressed.
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Decode every input as this format instead of detecting it: otlp, otlp-proto,
    /// jaeger, zipkin, python, junit.
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    #[command(flatten)]
    pub context: ContextArgs,
    /// Stop at the first malformed file or span (nothing of this ingest is stored).
    #[arg(long)]
    pub strict: bool,
    /// A TOML conventions file adding attribute keys and result values to the built-in ones.
    #[arg(long, env = "PIPESCOPE_CONVENTIONS")]
    pub conventions: Option<PathBuf>,
    /// Spans held in memory before they are normalised and written.
    #[arg(long, default_value_t = 50_000)]
    pub batch_spans: usize,
    /// Threads decoding inputs (several files decode at once; one file on one thread).
    /// Default: one per core.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
}

/// The CI run JUnit reports came from. Each flag left out is read from the CI
/// environment (GitHub Actions, GitLab CI, Jenkins, Buildkite, CircleCI) when there
/// is one. Trace formats carry their own context and ignore these.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "JUnit context")]
pub struct ContextArgs {
    /// Pipeline (workflow) the JUnit reports belong to.
    #[arg(long)]
    pub pipeline: Option<String>,
    /// Id of the pipeline run; reports of one run share it. Without one (and no CI
    /// environment), each report is its own run, named after its file and time.
    #[arg(long)]
    pub run_id: Option<String>,
    /// 1-based attempt of the run (a re-run of the same run id).
    #[arg(long, value_parser = clap::value_parser!(i32).range(1..))]
    pub attempt: Option<i32>,
    /// Job / task that ran the tests.
    #[arg(long)]
    pub task: Option<String>,
    /// Branch under test.
    #[arg(long)]
    pub branch: Option<String>,
    /// Commit under test.
    #[arg(long)]
    pub commit: Option<String>,
    /// Repository (`owner/name` or a URL).
    #[arg(long)]
    pub repo: Option<String>,
    /// When suites without a `timestamp` ran (ISO 8601, no zone = UTC, or Unix
    /// seconds). Without it, the report file's modification time.
    #[arg(long, value_parser = parse_time)]
    pub time: Option<i64>,
}

impl ContextArgs {
    /// The context these flags give, completed from the CI environment of this process.
    pub fn resolve(&self) -> JunitContext {
        self.resolve_with(|key| std::env::var(key).ok())
    }

    /// [`ContextArgs::resolve`] with the environment read through `lookup`.
    pub fn resolve_with(&self, lookup: impl Fn(&str) -> Option<String>) -> JunitContext {
        JunitContext {
            pipeline: self.pipeline.clone(),
            run_id: self.run_id.clone(),
            attempt: self.attempt,
            task: self.task.clone(),
            branch: self.branch.clone(),
            commit: self.commit.clone(),
            repo: self.repo.clone(),
            time_ns: self.time,
        }
        .with_env(lookup)
    }
}

fn parse_format(text: &str) -> Result<Format, String> {
    Format::from_name(text).ok_or_else(|| {
        format!("unknown format '{text}' (otlp, otlp-proto, jaeger, zipkin, python, junit)")
    })
}

fn parse_time(text: &str) -> Result<i64, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<i64>() {
        return secs
            .checked_mul(1_000_000_000)
            .filter(|ns| *ns > 0)
            .ok_or_else(|| format!("'{text}' is not a time after 1970"));
    }
    junit::parse_timestamp(text).ok_or_else(|| {
        format!("'{text}' is not a time (expected e.g. 2026-12-02T15:04:05Z or Unix seconds)")
    })
}

pub fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let conventions = match &args.conventions {
        Some(path) => Conventions::builtin().with_user_file(path)?,
        None => Conventions::builtin(),
    };
    let options = IngestOptions {
        format: args.format,
        strict: args.strict,
        batch_spans: args.batch_spans,
        conventions,
        spans_seen: None,
        threads: args.threads.map_or_else(default_threads, usize::from),
        junit: args.context.resolve(),
    };
    let summary = ingest_paths(data, &args.paths, &options)?;
    Ok(if summary.skipped > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

/// Ingests `paths` into the store at `data` with a progress bar, and prints the
/// summary on stderr; shared with `demo`.
pub fn ingest_paths(
    data: &Path,
    paths: &[String],
    options: &IngestOptions,
) -> anyhow::Result<IngestSummary> {
    let job = IngestJob::open(data, paths)?;
    let started = Instant::now();
    let bar = progress_bar(job.inputs().len() as u64);
    let seen = Arc::new(AtomicU64::new(0));
    let options = IngestOptions {
        spans_seen: Some(seen.clone()),
        ..options.clone()
    };
    // The bar moves inside a large file too: a ticker reads the span counter.
    let ticker = (!bar.is_hidden()).then(|| {
        let (bar, seen) = (bar.clone(), seen.clone());
        std::thread::spawn(move || {
            while !bar.is_finished() {
                bar.set_message(format!("{} spans", seen.load(Ordering::Relaxed)));
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        })
    });
    let result = job.run(&options, &mut |_, _| bar.inc(1));
    bar.finish_and_clear();
    if let Some(ticker) = ticker {
        let _ = ticker.join();
    }
    let summary = result.map_err(|e| match e {
        // One ingest is one commit: a write that failed (a full disk) stored nothing.
        IngestError::Store(_) => anyhow::Error::new(e).context(
            "nothing of this ingest was stored (the store is as it was); once the cause is fixed, run it again",
        ),
        other => other.into(),
    })?;
    report(&summary, started.elapsed().as_secs_f64());
    Ok(summary)
}

fn progress_bar(inputs: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(inputs);
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} {bar:30} {pos}/{len} files, {msg} ({elapsed})")
    {
        bar.set_style(style);
    }
    bar
}

/// The summary line (left out with `--quiet`), then every skipped input: those explain
/// a non-zero exit, so even `--quiet` names them.
fn report(summary: &IngestSummary, seconds: f64) {
    let w = summary.write;
    if tracing::enabled!(tracing::Level::WARN) {
        eprintln!(
            "ingested {} files ({:.1} MB): {} traces, {} spans read, {} stored, {} already stored, {} skipped ({:.1}s, {:.0} spans/s)",
            summary.files,
            summary.bytes as f64 / 1e6,
            summary.traces,
            summary.spans_read,
            w.stored,
            w.duplicates,
            summary.skipped,
            seconds,
            summary.spans_read as f64 / seconds.max(1e-9),
        );
    }
    for problem in &summary.problems {
        eprintln!("skipped: {problem}");
    }
    let unlisted = summary
        .skipped
        .saturating_sub(summary.problems.len() as u64);
    if unlisted > 0 {
        eprintln!("skipped: … and {unlisted} more");
    }
}

//! `pipescope ingest PATH...`: decode trace files and store them (`crate::ingest`),
//! with a progress bar and a summary on stderr.
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

use crate::ingest::{IngestJob, IngestOptions, IngestSummary};
use crate::model::conventions::Conventions;
use crate::source::Format;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Files, directories (read recursively), glob patterns, or `-` for stdin. `.gz` is
    /// decompressed.
    #[arg(required = true)]
    pub paths: Vec<String>,
    /// Decode every input as this format instead of detecting it: otlp, otlp-proto,
    /// jaeger, zipkin, python.
    #[arg(long, value_parser = parse_format)]
    pub format: Option<Format>,
    /// Stop at the first malformed file or span (nothing of this ingest is stored).
    #[arg(long)]
    pub strict: bool,
    /// A TOML conventions file adding attribute keys and result values to the built-in ones.
    #[arg(long, env = "PIPESCOPE_CONVENTIONS")]
    pub conventions: Option<PathBuf>,
    /// Spans held in memory before they are normalised and written.
    #[arg(long, default_value_t = 200_000)]
    pub batch_spans: usize,
}

fn parse_format(text: &str) -> Result<Format, String> {
    Format::from_name(text).ok_or_else(|| {
        format!("unknown format '{text}' (otlp, otlp-proto, jaeger, zipkin, python)")
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
    let summary = result?;
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

fn report(summary: &IngestSummary, seconds: f64) {
    let w = summary.write;
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

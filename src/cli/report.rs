//! `pipescope report`: the nightly reliability report — a self-contained HTML file
//! (or Markdown / JSON) comparing the last `--since` with the `--baseline` before it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};

use crate::analysis::report::gather;
use crate::analysis::time::{now_ns, parse_time};
use crate::render::report as render;
use crate::store::Store;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Html,
    Markdown,
    Json,
}

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The current period: this long back from now.
    #[arg(long, default_value = "1d")]
    pub since: String,
    /// The baseline: this long back from now, up to the start of the current period.
    #[arg(long, default_value = "7d")]
    pub baseline: String,
    /// Output file (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Pretend it is this time (RFC 3339): reproducible reports and tests.
    #[arg(long, hide = true)]
    pub now: Option<String>,
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(data)?;
    let now = match &args.now {
        Some(t) => parse_time(t, now_ns()).map_err(|e| anyhow!("--now: {e}"))?,
        None => now_ns(),
    };
    let since = parse_time(&args.since, now).map_err(|e| anyhow!("--since: {e}"))?;
    let baseline = parse_time(&args.baseline, now).map_err(|e| anyhow!("--baseline: {e}"))?;
    if baseline >= since {
        bail!(
            "--baseline {} must reach further back than --since {}",
            args.baseline,
            args.since
        );
    }
    let report = gather(&store, &args.since, &args.baseline, since, baseline, now).await?;
    let text = match args.format {
        ReportFormat::Html => render::html(&report),
        ReportFormat::Markdown => render::markdown(&report),
        ReportFormat::Json => format!("{:#}\n", render::json(&report)),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write {}", path.display()))?,
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes())?;
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `pipescope report`: the nightly reliability report — a self-contained HTML file
//! (or Markdown / JSON) comparing the current period (`--since` up to `--until`) with
//! the baseline before it (by default the same span of time; see
//! `analysis::report::window`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};

use crate::analysis::delivery::DeliverySettings;
use crate::analysis::report::window::{Window, WindowArgs};
use crate::analysis::report::{Asked, gather};
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
    /// Start of the current period: a duration back from --until (1d, 2w), a date
    /// (2026-10-01, midnight UTC) or an RFC 3339 time.
    #[arg(long, default_value = "1d")]
    pub since: String,
    /// End of the current period (exclusive), in the same forms [default: now].
    #[arg(long)]
    pub until: Option<String>,
    /// Start of the baseline, which runs up to --since; in the same forms, durations
    /// counting back from --until [default: the same span of time as the current
    /// period, just before it].
    #[arg(long)]
    pub baseline: Option<String>,
    /// Output file (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ReportFormat::Html)]
    pub format: ReportFormat,
    /// Config file with a `[delivery]` section, for the path to production (default:
    /// ./pipescope.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Pretend it is this time (RFC 3339): reproducible reports and tests.
    #[arg(long, hide = true)]
    pub now: Option<String>,
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let now = match &args.now {
        Some(t) => parse_time(t, now_ns()).map_err(|e| anyhow!("--now: {e}"))?,
        None => now_ns(),
    };
    let window = Window::resolve(
        WindowArgs {
            since: &args.since,
            until: args.until.as_deref(),
            baseline: args.baseline.as_deref(),
        },
        now,
    )?;
    let settings = DeliverySettings::load(args.config.as_deref())?;
    let store = Store::open_existing(data)?;
    let asked = Asked {
        since: &args.since,
        baseline: args.baseline.as_deref(),
    };
    let report = gather(&store, asked, &window, &settings).await?;
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

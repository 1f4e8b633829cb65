//! `pipescope dora`: the four DORA keys of a window per repository (or per deploying
//! pipeline), each with Apache DevLake's band and the trend against a baseline window
//! (`analysis::delivery::dora`).

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use serde_json::json;

use super::delivery::SettingsArgs;
use crate::analysis::delivery::{DoraBy, History, Period, dora_window, paths};
use crate::analysis::report::window::{Window, WindowArgs};
use crate::analysis::report::words;
use crate::analysis::time::{now_ns, parse_time};
use crate::render::{self, OutputFormat, Rows};
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Start of the window: a duration back from --until (30d, 12w), a date or an RFC
    /// 3339 time.
    #[arg(long, default_value = "30d")]
    pub since: String,
    /// End of the window (exclusive), in the same forms [default: now].
    #[arg(long)]
    pub until: Option<String>,
    /// Start of the baseline, which runs up to --since [default: the same span of time
    /// just before the window].
    #[arg(long)]
    pub baseline: Option<String>,
    /// Keys per repository or per deploying pipeline.
    #[arg(long, value_enum, default_value_t = DoraBy::Repo)]
    pub by: DoraBy,
    #[command(flatten)]
    pub settings: SettingsArgs,
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub format: OutputFormat,
    /// Pretend it is this time (RFC 3339): reproducible output and tests.
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
    let settings = args.settings.settings()?;
    let store = Store::open_existing(data)?;
    let history = History::load_since(
        &store,
        Some(window.baseline_ns),
        args.settings.repo.as_deref(),
    )
    .await
    .with_context(|| format!("cannot query the store at {}", data.display()))?;
    let changes = paths(&history, &settings);
    let current = Period {
        start_ns: window.since_ns,
        end_ns: window.until_ns,
    };
    let baseline = Period {
        start_ns: window.baseline_ns,
        end_ns: window.since_ns,
    };
    let rows = dora_window(&history, &changes, &settings, args.by, current, baseline);
    let mut rows = Rows::from_records(&rows);
    let mut params = serde_json::Map::new();
    params.insert("since".into(), json!(args.since));
    params.insert("until".into(), json!(args.until));
    params.insert("baseline".into(), json!(args.baseline));
    params.insert("by".into(), json!(args.by.name()));
    params.insert("repo".into(), json!(args.settings.repo));
    params.insert("window".into(), json!(window.bounds()));
    if args.format == OutputFormat::Table {
        println!("DORA keys of {}.", words::periods(&window));
        if rows.rows.is_empty() {
            println!(
                "No production deployment in this window (production: {}).",
                settings.production.join(", ")
            );
        }
        rows = rows.select(&["group", "key", "shown", "band", "trend"]);
    }
    render::print(args.format, "dora", &params, &rows)?;
    Ok(ExitCode::SUCCESS)
}

super::value_enum!(DoraBy);

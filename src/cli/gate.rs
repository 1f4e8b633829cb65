//! `pipescope gate`: may this change merge? Compares the current runs (a run id or a
//! window) against a baseline window with the rules of `gate::rules`, triages the
//! failures of failed current runs, and exits 0 (clean), 1 (a rule was violated) or
//! 2 (error: no data, bad arguments). `--exit-zero` reports without failing.
//!
//! Defaults for a PR job: the current window is the PR's branch over the last 7 days
//! (`$GITHUB_HEAD_REF`, `$CI_MERGE_REQUEST_SOURCE_BRANCH_NAME`, `$CI_COMMIT_REF_NAME`
//! or `$GITHUB_REF_NAME`), the baseline its target branch over 14 days
//! (`$GITHUB_BASE_REF`, `$CI_MERGE_REQUEST_TARGET_BRANCH_NAME`, `$CI_DEFAULT_BRANCH`,
//! else `main`). Thresholds come from the `[gate]` section of `pipescope.toml`
//! (see `gate::config`), overridden by the flags below.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};

use crate::analysis::gate::{
    GateConfig, GateReport, Window, WindowMeasures, config::RULES, measure,
};
use crate::analysis::time::now_ns;
use crate::query::{Engine, Filters};
use crate::render::gate::{GateFormat, write};
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The pipeline run to judge (its run id; every attempt of it).
    #[arg(long, conflicts_with = "current")]
    pub current_run: Option<String>,
    /// The runs to judge, as a window: `branch=feature/x,since=2d` (keys: branch,
    /// pipeline, since, until). Default: the PR's branch (from CI variables), 7 days.
    #[arg(long)]
    pub current: Option<String>,
    /// The runs to compare with: `branch=main,since=14d`. Default: `[gate] baseline` of
    /// the config, else the PR's target branch (from CI variables, else main), 14 days.
    #[arg(long)]
    pub baseline: Option<String>,
    /// Config file with a `[gate]` section (default: ./pipescope.toml when present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Relative p50 duration increase that fails (0.2 = +20 %).
    #[arg(long)]
    pub p50_increase: Option<f64>,
    /// Relative p95 duration increase that fails.
    #[arg(long)]
    pub p95_increase: Option<f64>,
    /// Smallest absolute duration increase (seconds) that can fail.
    #[arg(long)]
    pub min_increase_s: Option<f64>,
    /// Failure-rate increase (percentage points) that fails.
    #[arg(long)]
    pub failure_rate_increase: Option<f64>,
    /// Minimum runs for every rule (overrides each rule's own minimum).
    #[arg(long)]
    pub min_runs: Option<u64>,
    /// p-value below which a change counts as real.
    #[arg(long)]
    pub significance: Option<f64>,
    /// Do not check this rule (repeatable): duration_p50, duration_p95, failure_rate,
    /// new_flaky, new_failure.
    #[arg(long = "disable")]
    pub disable: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GateFormat::Table)]
    pub format: GateFormat,
    /// Report violations but exit 0.
    #[arg(long)]
    pub exit_zero: bool,
}

fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .filter_map(|n| std::env::var(n).ok())
        .find(|v| !v.trim().is_empty())
}

/// Config file, then flags.
pub fn config(args: &Args) -> anyhow::Result<GateConfig> {
    let path = match &args.config {
        Some(path) => Some(path.clone()),
        None => Some(PathBuf::from("pipescope.toml")).filter(|p| p.is_file()),
    };
    let mut config = match path {
        Some(path) => GateConfig::from_file(&path).map_err(|e| anyhow!(e))?,
        None => GateConfig::default(),
    };
    let set = |slot: &mut f64, value: Option<f64>| {
        if let Some(v) = value {
            *slot = v;
        }
    };
    set(&mut config.p50_increase, args.p50_increase);
    set(&mut config.p95_increase, args.p95_increase);
    set(&mut config.min_increase_s, args.min_increase_s);
    set(
        &mut config.failure_rate_increase_pp,
        args.failure_rate_increase,
    );
    set(&mut config.significance, args.significance);
    if let Some(n) = args.min_runs {
        config.duration_min_runs = n;
        config.failure_rate_min_runs = n;
        config.new_failure_min_runs = n;
        config.new_flaky_min_runs = n;
    }
    config.disable.extend(args.disable.iter().cloned());
    config.validate().map_err(|e| {
        anyhow!(
            "invalid gate configuration: {e} (rules: {})",
            RULES.join(", ")
        )
    })?;
    Ok(config)
}

/// The current set: its label and engine filters.
fn current(args: &Args, now: i64) -> anyhow::Result<(String, Filters)> {
    if let Some(run) = &args.current_run {
        let filters = Filters {
            run_id: Some(run.clone()),
            ..Filters::default()
        };
        return Ok((format!("run {run}"), filters));
    }
    let text = match &args.current {
        Some(text) => text.clone(),
        None => {
            let branch = env_first(&[
                "GITHUB_HEAD_REF",
                "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME",
                "CI_COMMIT_REF_NAME",
                "GITHUB_REF_NAME",
            ])
            .ok_or_else(|| {
                anyhow!("no current runs given: pass --current-run RUN_ID or --current 'branch=NAME,since=2d' (no CI branch variable is set)")
            })?;
            Window {
                branch: Some(branch),
                since: Some("7d".into()),
                ..Window::default()
            }
            .describe()
        }
    };
    window_filters("--current", &text, now)
}

fn window_filters(flag: &str, text: &str, now: i64) -> anyhow::Result<(String, Filters)> {
    let window = Window::parse(text).map_err(|e| anyhow!("{flag} '{text}': {e}"))?;
    let filters = window
        .filters(now)
        .map_err(|e| anyhow!("{flag} '{text}': {e}"))?;
    Ok((window.describe(), filters))
}

fn baseline_text(args: &Args, config: &GateConfig) -> String {
    if let Some(text) = args.baseline.clone().or_else(|| config.baseline.clone()) {
        return text;
    }
    let branch = env_first(&[
        "GITHUB_BASE_REF",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
        "CI_DEFAULT_BRANCH",
    ])
    .unwrap_or_else(|| "main".into());
    Window {
        branch: Some(branch),
        since: Some("14d".into()),
        ..Window::default()
    }
    .describe()
}

async fn measure_window(store: &Store, filters: &Filters) -> anyhow::Result<WindowMeasures> {
    let engine = Engine::open(store, filters).await?;
    Ok(measure(&engine).await?)
}

/// Evaluates the gate (used by `gate` and by `report`).
pub async fn evaluate(args: &Args, data: &Path) -> anyhow::Result<GateReport> {
    let store = Store::open_existing(data)?;
    let config = config(args)?;
    let now = now_ns();
    let (current_label, current_filters) = current(args, now)?;
    let (baseline_label, baseline_filters) =
        window_filters("--baseline", &baseline_text(args, &config), now)?;
    let current = measure_window(&store, &current_filters)
        .await
        .with_context(|| format!("cannot measure the current runs ({current_label})"))?;
    let baseline = measure_window(&store, &baseline_filters)
        .await
        .with_context(|| format!("cannot measure the baseline ({baseline_label})"))?;
    if current.pipeline_runs.runs == 0 {
        bail!(
            "no pipeline runs in the current set ({current_label}) in {}: was the run ingested? (`pipescope failures --by branch` lists what the store holds)",
            data.display()
        );
    }
    if baseline.pipeline_runs.runs == 0 {
        bail!(
            "no pipeline runs in the baseline ({baseline_label}) in {}: widen it with --baseline 'branch=main,since=30d'",
            data.display()
        );
    }
    Ok(GateReport::evaluate(
        current_label,
        baseline_label,
        &baseline,
        &current,
        &config,
    ))
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let report = evaluate(&args, data).await?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    write(&report, args.format, &mut out)?;
    out.flush()?;
    Ok(if report.passed() || args.exit_zero {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

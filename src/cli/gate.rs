//! `pipescope gate`: may this change merge? Compares the current runs (a run id or a
//! selection) against a baseline selection with the rules of `analysis::gate::rules`,
//! triages the failures of failed current runs, and exits 0 (clean), 1 (a rule was
//! violated) or 2 (error: no data, bad arguments). `--exit-zero` reports without
//! failing.
//!
//! What a PR job leaves out comes from its CI variables (`analysis::gate::ci_env`);
//! thresholds from the `[gate]` section of `pipescope.toml` (`analysis::gate::config`),
//! overridden by the flags below.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use crate::analysis::gate::{CurrentRuns, GateRequest, Overrides};
use crate::analysis::time::now_ns;
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
    pub config: Option<std::path::PathBuf>,
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
    /// Family-wise error rate: the chance that a run with no change fails a duration
    /// or failure-rate rule at all. Every subject's test is corrected together
    /// (Holm-Bonferroni); a violation needs an adjusted p-value below this.
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

impl Args {
    /// The evaluation these arguments ask for.
    pub fn request(&self) -> GateRequest {
        let current = match (&self.current_run, &self.current) {
            (Some(run), _) => CurrentRuns::Run(run.clone()),
            (None, Some(text)) => CurrentRuns::Selection(text.clone()),
            (None, None) => CurrentRuns::FromCi,
        };
        GateRequest {
            current,
            baseline: self.baseline.clone(),
            config_file: self.config.clone(),
            overrides: Overrides {
                p50_increase: self.p50_increase,
                p95_increase: self.p95_increase,
                min_increase_s: self.min_increase_s,
                failure_rate_increase_pp: self.failure_rate_increase,
                min_runs: self.min_runs,
                significance: self.significance,
                disable: self.disable.clone(),
            },
        }
    }
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let store = Store::open_existing(data)?;
    let env = |name: &str| std::env::var(name).ok();
    let report = args.request().evaluate(&store, &env, now_ns()).await?;
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

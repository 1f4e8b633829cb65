//! `pipescope gate`: may this change merge? Compares the current runs (a run id or a
//! selection) against a baseline selection with the rules of `analysis::gate::rules`,
//! triages the failures of failed current runs, and exits 0 (clean), 1 (a rule was
//! violated) or 2 (error: no data, bad arguments). `--exit-zero` reports without
//! failing.
//!
//! With `--allow-known-flaky` (or `[gate] allow_known_flaky = true`) the gate decides
//! the job: the test step runs with `continue-on-error`, and the gate exits 0 when
//! every failure of the judged run is known flaky, 1 otherwise
//! (`analysis::gate::verdict`). It is then fail-safe: when it cannot judge (the store
//! is unreadable, a query fails, the run is not in the store), it exits with the job's
//! own verdict (`--job-status`, else `$PIPESCOPE_JOB_STATUS` / `$CI_JOB_STATUS`, else
//! failure) instead of 2, so it never turns a red job green — nor a green one red.
//!
//! What a PR job leaves out comes from its CI variables (`analysis::gate::ci_env`);
//! thresholds from the `[gate]` section of `pipescope.toml` (`analysis::gate::config`),
//! overridden by the flags below.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::analysis::gate::{CurrentRuns, GateConfig, GateRequest, JobStatus, Overrides};
use crate::analysis::time::now_ns;
use crate::render::gate::{GateFormat, write};
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The pipeline run to judge (its run id; every attempt of it).
    #[arg(long, conflicts_with_all = ["current", "junit"])]
    pub current_run: Option<String>,
    /// The JUnit XML report(s) of the run that just finished: ingested, then judged
    /// as that run. (Needs JUnit ingest; see `junit_run`.)
    #[arg(long, num_args = 1.., conflicts_with = "current")]
    pub junit: Vec<PathBuf>,
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
    /// Family-wise error rate: the chance that a run with no change fails a duration
    /// or failure-rate rule at all. Every subject's test is corrected together
    /// (Holm-Bonferroni); a violation needs an adjusted p-value below this.
    #[arg(long)]
    pub significance: Option<f64>,
    /// Do not check this rule (repeatable): duration_p50, duration_p95, failure_rate,
    /// new_flaky, new_failure.
    #[arg(long = "disable")]
    pub disable: Vec<String>,
    /// Decide the job: exit 0 when every failure of the judged run is known flaky
    /// (flaky in the baseline), 1 when any is new, broken before or of the platform.
    /// When the gate cannot judge, it exits with the job's own verdict (--job-status).
    #[arg(long)]
    pub allow_known_flaky: bool,
    /// The job's (test step's) own result: success or failure (GitHub:
    /// `${{ steps.tests.outcome }}`). Default: $PIPESCOPE_JOB_STATUS, then GitLab's
    /// $CI_JOB_STATUS; unknown counts as failure when the gate cannot judge.
    #[arg(long)]
    pub job_status: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = GateFormat::Table)]
    pub format: GateFormat,
    /// Report violations but exit 0.
    #[arg(long)]
    pub exit_zero: bool,
}

impl Args {
    /// The evaluation these arguments ask for (`--junit` resolved to its run id).
    pub fn request(&self, junit_run: Option<String>) -> GateRequest {
        let current = match (junit_run.or(self.current_run.clone()), &self.current) {
            (Some(run), _) => CurrentRuns::Run(run),
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
                allow_known_flaky: self.allow_known_flaky,
            },
            job_status: self.job_status.as_deref().and_then(JobStatus::parse),
        }
    }

    /// Whether the gate decides the job (flag or config). A config that cannot be
    /// read counts as deciding when the flag is set, so the fail-safe still holds.
    fn decides_job(&self) -> bool {
        self.allow_known_flaky
            || GateConfig::load(self.config.as_deref(), &Overrides::default())
                .is_ok_and(|c| c.allow_known_flaky)
    }
}

pub async fn run(args: Args, data: &Path) -> anyhow::Result<ExitCode> {
    let env = |name: &str| std::env::var(name).ok();
    let judged = judge(&args, data, &env).await;
    let report = match judged {
        Ok(report) => report,
        Err(error) if args.decides_job() => return Ok(fail_safe(&args, &env, &error)),
        Err(error) => return Err(error),
    };
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

async fn judge(
    args: &Args,
    data: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<crate::analysis::gate::GateReport> {
    let store = Store::open_existing(data)?;
    let junit_run = junit_run(&args.junit, &store)?;
    Ok(args
        .request(junit_run)
        .evaluate(&store, env, now_ns())
        .await?)
}

/// HOOK for JUnit ingest (issue 11, first half): ingest `paths` into `store` and return
/// the run id they were stored under, so the gate judges that run. `None` when no
/// report was given. Until JUnit ingest lands this is an error, which under
/// `--allow-known-flaky` falls back to the job's own verdict.
fn junit_run(paths: &[PathBuf], store: &Store) -> anyhow::Result<Option<String>> {
    if paths.is_empty() {
        return Ok(None);
    }
    let _ = store;
    anyhow::bail!(
        "--junit {}: JUnit ingest is not available in this build; pass --current-run RUN_ID",
        paths[0].display()
    )
}

/// The job's own verdict, when the gate cannot judge: the message on stderr and the
/// exit status the job would have had without the gate.
fn fail_safe(args: &Args, env: &dyn Fn(&str) -> Option<String>, error: &anyhow::Error) -> ExitCode {
    let status = args
        .job_status
        .as_deref()
        .and_then(JobStatus::parse)
        .or_else(|| JobStatus::from_env(env));
    let mut said = error.to_string();
    eprintln!("error: the gate cannot judge this run: {said}");
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !said.contains(&cause) {
            eprintln!("  Cause: {cause}");
            said = cause;
        }
    }
    let (word, code) = match status {
        Some(JobStatus::Success) => ("success", 0),
        Some(JobStatus::Failure) => ("failure", 1),
        None => ("unknown, so failure", 1),
    };
    eprintln!(
        "  Fail-safe: the job's own verdict stands: {word} (exit {code}). Known flakes are not forgiven without a readable store."
    );
    ExitCode::from(code)
}

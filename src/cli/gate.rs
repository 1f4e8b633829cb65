//! `pipescope gate`: may this change merge? Compares the current runs (a run id or a
//! selection) against a baseline selection with the rules of `analysis::gate::rules`,
//! triages the failures of failed current runs, and exits 0 (clean), 1 (a rule was
//! violated) or 2 (error: no data, bad arguments). `--exit-zero` reports without
//! failing.
//!
//! With `--allow-known-flaky` (or `[gate] allow_known_flaky = true`) the gate decides
//! the job: the test step runs with `continue-on-error`, `--junit PATH…` ingests its
//! report (with the JUnit context flags of `ingest`, completed from the CI variables)
//! and judges that run, and the gate exits 0 when every failure of it is known flaky,
//! 1 otherwise
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

use anyhow::Context;

use super::ingest::ContextArgs;
use crate::analysis::gate::{
    CurrentRuns, GateConfig, GateReport, GateRequest, JobStatus, Overrides,
};
use crate::analysis::time::now_ns;
use crate::ingest::{IngestOptions, ingest_junit};
use crate::render::gate::{GateFormat, write};
use crate::store::Store;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The pipeline run to judge (its run id; every attempt of it).
    #[arg(long, conflicts_with_all = ["current", "junit"])]
    pub current_run: Option<String>,
    /// The JUnit XML report(s) of the run that just finished (files, directories,
    /// globs): ingested into the store with the JUnit context below, then judged as
    /// that run. A report that cannot be read or parsed is an error (fail-safe under
    /// --allow-known-flaky).
    #[arg(long, num_args = 1.., conflicts_with = "current")]
    pub junit: Vec<String>,
    #[command(flatten)]
    pub junit_context: ContextArgs,
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
) -> anyhow::Result<GateReport> {
    // The reports go in first: on a job's first run they create the store.
    let junit_run = junit_run(args, data, env)?;
    let store = Store::open_existing(data)?;
    Ok(args
        .request(junit_run)
        .evaluate(&store, env, now_ns())
        .await?)
}

/// Ingests the `--junit` reports (strictly: a malformed report is an error, not a
/// skipped file, since the gate must see every failure) and returns the one run id
/// they were stored under; `None` without `--junit`.
fn junit_run(
    args: &Args,
    data: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<String>> {
    if args.junit.is_empty() {
        return Ok(None);
    }
    let ctx = args.junit_context.resolve_with(env);
    let options = IngestOptions {
        strict: true,
        ..IngestOptions::default()
    };
    let done = ingest_junit(data, &args.junit, &ctx, &options)
        .with_context(|| format!("--junit {}: cannot ingest the report", args.junit.join(" ")))?;
    if done.summary.spans_read == 0 {
        anyhow::bail!("--junit {}: no test in the report(s)", args.junit.join(" "));
    }
    match done.run_ids.as_slice() {
        [run] => Ok(Some(run.clone())),
        runs => anyhow::bail!(
            "--junit: the reports were stored as {} runs ({}); pass --run-id so they are judged as one",
            runs.len(),
            runs.join(", ")
        ),
    }
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

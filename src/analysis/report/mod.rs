//! Gathers what the nightly report shows: headline numbers now vs the baseline,
//! flaky tests with their likely cause, pipeline failure rate per branch per day or
//! week, duration trends of the slowest tasks, the critical path of a recent run, and
//! the gate, how many of the current period's failures were the CI platform's
//! ([`platform`]), and the path to production with the DORA keys ([`delivery`]). Everything comes from the other analyses (gate measures, flaky, compare,
//! failures, critical path) and `queries/report_task_durations.sql`; `render::report`
//! draws it. [`window`] resolves the two periods from the flags, [`words`] says them in
//! plain English, `waterfall` folds the critical path for drawing.

pub mod delivery;
pub mod platform;
mod waterfall;
pub mod window;
pub mod words;

pub use waterfall::Bar;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::analysis::compare::{Signal, compare_test};
use crate::analysis::delivery::DeliverySettings;
use crate::analysis::failures::{self, Bucket, ByBranch};
use crate::analysis::flaky;
use crate::analysis::gate::{GateConfig, GateReport, RunMeasures, measure};
use crate::analysis::stats::{percentile, round3};
use crate::query::{Engine, Filters, NamedQuery, QueryError, rows::records};
use crate::store::Store;
use window::{Bounds, Window};

/// Headline numbers of one window.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Headline {
    pub runs: u64,
    pub failed_runs: u64,
    pub failure_rate: f64,
    pub p50_pipeline_s: f64,
    pub flaky_tests: u64,
}

/// One flaky test with its likely cause and its failure rate in each window.
#[derive(Debug, Clone, Serialize)]
pub struct FlakyTest {
    pub test: String,
    pub runs: u64,
    pub failures: u64,
    pub score: f64,
    pub baseline_failure_rate: Option<f64>,
    pub current_failure_rate: Option<f64>,
    /// `signal: span (detail)` of compare's top row.
    pub likely_cause: String,
}

/// A named series of (x label, y) points.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<(String, f64)>,
}

/// One branch's pipeline runs per bucket (day or week), with the counts.
#[derive(Debug, Clone, Serialize)]
pub struct BranchRates {
    pub branch: String,
    /// Over the whole report (baseline and current period).
    pub runs: u64,
    pub failed: u64,
    pub points: Vec<RatePoint>,
}

/// One bucket of a [`BranchRates`].
#[derive(Debug, Clone, Serialize)]
pub struct RatePoint {
    /// The bucket's first day (`2026-10-05`).
    pub bucket: String,
    pub runs: u64,
    pub failed: u64,
    pub failure_rate: f64,
}

/// Everything in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    /// `--since` as given.
    pub since: String,
    /// `--baseline` as given; null when left out (the same span before `since`).
    pub baseline: Option<String>,
    /// The resolved periods.
    pub period: Bounds,
    /// The periods in plain English ("This report covers 1–22 October 2026, …").
    pub summary: String,
    pub current: Headline,
    pub previous: Headline,
    pub flaky: Vec<FlakyTest>,
    /// `day`, or `week` when the report spans more than 16 days.
    pub failure_rate_bucket: String,
    /// Pipeline failure rate of the busiest branches, per bucket.
    pub failure_rate_by_branch: Vec<BranchRates>,
    /// The current period's failed runs per pipeline (and all pipelines, last): how
    /// many and how much of their time the platform failed rather than the change.
    pub platform_or_change: Vec<platform::PlatformShare>,
    /// Per slow task, p50 and p95 per day (series named `task p50`, `task p95`).
    pub task_durations: Vec<Series>,
    /// The run whose critical path is drawn.
    pub critical_path_run: Option<String>,
    pub critical_path: Vec<Bar>,
    pub gate: GateReport,
    pub path_to_production: delivery::PathToProduction,
}

fn headline(m: &RunMeasures) -> Headline {
    let mut pipeline_durations: Vec<f64> = m
        .durations
        .iter()
        .filter(|(s, _)| s.kind == "pipeline")
        .flat_map(|(_, v)| v.iter().copied())
        .collect();
    pipeline_durations.sort_by(f64::total_cmp);
    let p50 = percentile(&pipeline_durations, 50.0);
    Headline {
        runs: m.pipeline_runs.runs,
        failed_runs: m.pipeline_runs.failed,
        failure_rate: round3(m.pipeline_runs.rate()),
        p50_pipeline_s: if p50.is_nan() { 0.0 } else { round3(p50) },
        flaky_tests: m.flaky.len() as u64,
    }
}

/// What the user asked for, as given: the labels the report repeats.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    pub since: &'a str,
    pub baseline: Option<&'a str>,
}

/// Gathers the report over `window`: the current period `[since, until)` against the
/// baseline `[baseline, since)`.
pub async fn gather(
    store: &Store,
    asked: Asked<'_>,
    w: &Window,
    settings: &DeliverySettings,
) -> Result<ReportData, QueryError> {
    let filters = |from: i64, to: i64| Filters {
        since_ns: Some(from),
        until_ns: Some(to),
        ..Filters::default()
    };
    let current_engine = Engine::open(store, &filters(w.since_ns, w.until_ns)).await?;
    let previous_engine = Engine::open(store, &filters(w.baseline_ns, w.since_ns)).await?;
    let all_engine = Engine::open(store, &filters(w.baseline_ns, w.until_ns)).await?;

    let current_m = measure(&current_engine).await?;
    let previous_m = measure(&previous_engine).await?;
    let bounds = w.bounds();
    let gate = GateReport::from_measures(
        format!("since={},until={}", bounds.current_from, bounds.current_to),
        format!(
            "since={},until={}",
            bounds.baseline_from, bounds.current_from
        ),
        &previous_m,
        &current_m,
        &GateConfig::default(),
        None,
    );

    let mut flaky_list = Vec::new();
    let rows = flaky::rows(&all_engine, false).await?;
    for row in rows.iter().take(10) {
        let test = row.test.as_str();
        let cause = compare_test(&all_engine, test)
            .await?
            .first()
            .map(|c| format!("{}: {} ({})", signal_name(c.signal), c.span, c.detail))
            .unwrap_or_else(|| "-".into());
        let rate = |m: &RunMeasures| {
            m.tests
                .get(test)
                .filter(|c| c.runs > 0)
                .map(|c| round3(c.rate()))
        };
        flaky_list.push(FlakyTest {
            test: test.to_string(),
            runs: row.runs,
            failures: row.failures,
            score: row.score,
            baseline_failure_rate: rate(&previous_m),
            current_failure_rate: rate(&current_m),
            likely_cause: cause,
        });
    }

    let bucket = if w.until_ns - w.baseline_ns > DAILY_UP_TO_NS {
        Bucket::Week
    } else {
        Bucket::Day
    };
    Ok(ReportData {
        since: asked.since.to_string(),
        baseline: asked.baseline.map(str::to_string),
        period: bounds,
        summary: words::summary(w),
        current: headline(&current_m),
        previous: headline(&previous_m),
        flaky: flaky_list,
        failure_rate_bucket: bucket.name().to_string(),
        failure_rate_by_branch: branch_rates(&all_engine, bucket).await?,
        platform_or_change: platform::shares(&current_engine).await?,
        task_durations: task_series(&all_engine).await?,
        critical_path_run: None,
        critical_path: Vec::new(),
        gate,
        path_to_production: delivery::gather(store, w, settings).await?,
    }
    .with_critical_path(waterfall::recent(&all_engine).await?))
}

impl ReportData {
    fn with_critical_path(mut self, path: Option<(String, Vec<Bar>)>) -> Self {
        if let Some((run, bars)) = path {
            self.critical_path_run = Some(run);
            self.critical_path = bars;
        }
        self
    }
}

/// A signal's name as compare's JSON spells it (`self_duration`).
fn signal_name(signal: Signal) -> String {
    match serde_json::to_value(signal) {
        Ok(Value::String(name)) => name,
        _ => String::new(),
    }
}

/// The busiest branches shown: six small charts fit a page.
const MAX_BRANCHES: usize = 6;
const MAX_TASKS: usize = 3;
/// Failure rates are bucketed per day up to 16 days (at most 17 calendar days), per
/// week beyond: a small chart has room for about 19 bars labelled `12/34`.
const DAILY_UP_TO_NS: i64 = 16 * 86_400 * 1_000_000_000;

async fn branch_rates(engine: &Engine, bucket: Bucket) -> Result<Vec<BranchRates>, QueryError> {
    let rows = failures::rows::<ByBranch>(engine, Some(bucket)).await?;
    let mut per: BTreeMap<String, BranchRates> = BTreeMap::new();
    for row in rows {
        let branch = row.group.branch.unwrap_or_default();
        let entry = per.entry(branch.clone()).or_insert_with(|| BranchRates {
            branch,
            runs: 0,
            failed: 0,
            points: Vec::new(),
        });
        entry.runs += row.runs;
        entry.failed += row.failed;
        entry.points.push(RatePoint {
            bucket: row.bucket.unwrap_or_default().chars().take(10).collect(),
            runs: row.runs,
            failed: row.failed,
            failure_rate: row.failure_rate,
        });
    }
    let mut branches: Vec<BranchRates> = per.into_values().collect();
    branches.sort_by(|a, b| b.runs.cmp(&a.runs).then_with(|| a.branch.cmp(&b.branch)));
    branches.truncate(MAX_BRANCHES);
    for b in &mut branches {
        b.points.sort_by(|x, y| x.bucket.cmp(&y.bucket));
    }
    Ok(branches)
}

/// A row of `queries/report_task_durations.sql`: one successful task execution.
#[derive(Debug, Default, Serialize, Deserialize)]
struct TaskDurationRow {
    task: String,
    /// The day it started, as text; its first 10 characters are the date.
    day: String,
    duration_ns: i64,
}

async fn task_series(engine: &Engine) -> Result<Vec<Series>, QueryError> {
    let query = NamedQuery::ReportTaskDurations;
    let rows: Vec<TaskDurationRow> = records(query.name(), &engine.run(query, vec![]).await?)?;
    let mut per: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for row in rows {
        let day = row.day.chars().take(10).collect::<String>();
        let s = row.duration_ns as f64 / 1e9;
        per.entry(row.task)
            .or_default()
            .entry(day)
            .or_default()
            .push(s);
    }
    // The slowest tasks by their overall median.
    let mut ranked: Vec<(String, f64)> = per
        .iter()
        .map(|(task, days)| {
            let mut all: Vec<f64> = days.values().flatten().copied().collect();
            all.sort_by(f64::total_cmp);
            (task.clone(), percentile(&all, 50.0))
        })
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let mut series = Vec::new();
    for (task, _) in ranked.into_iter().take(MAX_TASKS) {
        let days = per.remove(&task).unwrap_or_default();
        for (label, pct) in [("p50", 50.0), ("p95", 95.0)] {
            let points = days
                .iter()
                .map(|(day, values)| {
                    let mut v = values.clone();
                    v.sort_by(f64::total_cmp);
                    (day.clone(), round3(percentile(&v, pct)))
                })
                .collect();
            series.push(Series {
                name: format!("{task} {label}"),
                points,
            });
        }
    }
    Ok(series)
}

//! Gathers what the nightly report shows: headline numbers now vs the baseline,
//! flaky tests with their likely cause, failure rate per branch per day, duration
//! trends of the slowest tasks, the critical path of a recent run, and the gate.
//! Everything comes from the other analyses (gate measures, flaky, compare, failures,
//! critical path) and `queries/report_task_durations.sql`; `render::report` draws it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::analysis::compare::{Signal, compare_test};
use crate::analysis::critical_path::critical_spans;
use crate::analysis::failures::{self, Bucket, ByBranch};
use crate::analysis::flaky;
use crate::analysis::gate::{GateConfig, GateReport, RunMeasures, measure};
use crate::analysis::stats::{percentile, round3};
use crate::query::{Engine, Filters, NamedQuery, QueryError, load, rows::records};
use crate::store::Store;

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

/// One bar of the critical-path waterfall (seconds from the run's start).
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub name: String,
    pub role: String,
    pub depth: u32,
    pub start_s: f64,
    pub end_s: f64,
}

/// Everything in the report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportData {
    pub since: String,
    pub baseline: String,
    pub current: Headline,
    pub previous: Headline,
    pub flaky: Vec<FlakyTest>,
    /// Failure rate per branch (series) per day.
    pub failure_rate_by_branch: Vec<Series>,
    /// Per slow task, p50 and p95 per day (series named `task p50`, `task p95`).
    pub task_durations: Vec<Series>,
    /// The run whose critical path is drawn.
    pub critical_path_run: Option<String>,
    pub critical_path: Vec<Bar>,
    pub gate: GateReport,
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

/// Gathers the report over `[baseline_ns, now)`, the current window being
/// `[since_ns, now)` and the baseline `[baseline_ns, since_ns)`.
pub async fn gather(
    store: &Store,
    since_label: &str,
    baseline_label: &str,
    since_ns: i64,
    baseline_ns: i64,
    now_ns: i64,
) -> Result<ReportData, QueryError> {
    let window = |from: i64, to: i64| Filters {
        since_ns: Some(from),
        until_ns: Some(to),
        ..Filters::default()
    };
    let current_engine = Engine::open(store, &window(since_ns, now_ns)).await?;
    let previous_engine = Engine::open(store, &window(baseline_ns, since_ns)).await?;
    let all_engine = Engine::open(store, &window(baseline_ns, now_ns)).await?;

    let current_m = measure(&current_engine).await?;
    let previous_m = measure(&previous_engine).await?;
    let gate = GateReport::from_measures(
        format!("since={since_label}"),
        format!("since={baseline_label},until={since_label}"),
        &previous_m,
        &current_m,
        &GateConfig::default(),
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

    Ok(ReportData {
        since: since_label.to_string(),
        baseline: baseline_label.to_string(),
        current: headline(&current_m),
        previous: headline(&previous_m),
        flaky: flaky_list,
        failure_rate_by_branch: branch_series(&all_engine).await?,
        task_durations: task_series(&all_engine).await?,
        critical_path_run: None,
        critical_path: Vec::new(),
        gate,
    }
    .with_critical_path(critical(&all_engine).await?))
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

const MAX_BRANCHES: usize = 6;
const MAX_TASKS: usize = 3;

async fn branch_series(engine: &Engine) -> Result<Vec<Series>, QueryError> {
    let rows = failures::rows::<ByBranch>(engine, Some(Bucket::Day)).await?;
    let mut runs: BTreeMap<String, u64> = BTreeMap::new();
    let mut points: BTreeMap<String, Vec<(String, f64)>> = BTreeMap::new();
    for row in rows {
        let branch = row.group.branch.unwrap_or_default();
        let day = row
            .bucket
            .unwrap_or_default()
            .chars()
            .take(10)
            .collect::<String>();
        *runs.entry(branch.clone()).or_default() += row.runs;
        points
            .entry(branch)
            .or_default()
            .push((day, row.failure_rate));
    }
    let mut branches: Vec<(String, u64)> = runs.into_iter().collect();
    branches.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(branches
        .into_iter()
        .take(MAX_BRANCHES)
        .map(|(name, _)| {
            let mut pts = points.remove(&name).unwrap_or_default();
            pts.sort_by(|a, b| a.0.cmp(&b.0));
            Series { name, points: pts }
        })
        .collect())
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

/// The most recent successful run's critical path (any run when none succeeded).
async fn critical(engine: &Engine) -> Result<Option<(String, Vec<Bar>)>, QueryError> {
    let traces = load::pipeline_traces(engine).await?;
    let root_of = |t: &load::LoadedTrace| {
        (0..t.tree.len()).find(|&i| {
            t.tree.span(i).role.as_deref() == Some("pipeline") && t.tree.parent(i).is_none()
        })
    };
    let candidate = traces
        .iter()
        .filter_map(|t| root_of(t).map(|r| (t, r)))
        .max_by_key(|(t, r)| {
            let span = t.tree.span(*r);
            (span.outcome.as_deref() == Some("pass"), span.start_ns)
        });
    let Some((trace, root)) = candidate else {
        return Ok(None);
    };
    let tree = &trace.tree;
    let t0 = tree.span(root).start_ns;
    let depth_of = |mut i: usize| {
        let mut d = 0;
        while let Some(p) = tree.parent(i) {
            if i == root {
                break;
            }
            i = p;
            d += 1;
        }
        d
    };
    let bars = critical_spans(tree, root)
        .into_iter()
        .map(|i| {
            let s = tree.span(i);
            Bar {
                name: s
                    .task
                    .clone()
                    .filter(|_| s.role.as_deref() == Some("task"))
                    .unwrap_or_else(|| s.name.clone()),
                role: s.role.clone().unwrap_or_default(),
                depth: depth_of(i),
                start_s: round3((s.start_ns - t0) as f64 / 1e9),
                end_s: round3((s.end_ns - t0) as f64 / 1e9),
            }
        })
        .collect();
    Ok(Some((trace.trace_id.clone(), bars)))
}

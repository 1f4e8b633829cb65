//! Gathers what the nightly report shows: headline numbers now vs the baseline,
//! flaky tests with their likely cause, failure rate per branch per day, duration
//! trends of the slowest tasks, the critical path of a recent run, and the gate.
//! Everything comes from the other analyses (gate measures, flaky, compare, failures,
//! critical path) and `queries/report_task_durations.sql`; `render::report` draws it.
//! [`window`] resolves the two periods from the flags, [`words`] says them in plain
//! English.

pub mod window;
pub mod words;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::analysis::compare::{Signal, compare_test};
use crate::analysis::critical_path::critical_path;
use crate::analysis::failures::{self, Bucket, ByBranch};
use crate::analysis::flaky;
use crate::analysis::gate::{GateConfig, GateReport, RunMeasures, measure};
use crate::analysis::stats::{percentile, round3};
use crate::model::tree::TraceTree;
use crate::query::{Engine, Filters, NamedQuery, QueryError, load, rows::records};
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

/// One bar of the critical-path waterfall (seconds from the run's start): a span on
/// the path, or (`off_path` > 0) the children of one path span that are off it, folded
/// into one row covering their extent.
#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub name: String,
    pub role: String,
    pub depth: u32,
    pub start_s: f64,
    pub end_s: f64,
    /// How many spans this folded row stands for (the off-path children and everything
    /// below them); absent for a span on the path.
    #[serde(skip_serializing_if = "is_zero")]
    pub off_path: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
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

/// What the user asked for, as given: the labels the report repeats.
#[derive(Debug, Clone, Copy)]
pub struct Asked<'a> {
    pub since: &'a str,
    pub baseline: Option<&'a str>,
}

/// Gathers the report over `window`: the current period `[since, until)` against the
/// baseline `[baseline, since)`.
pub async fn gather(store: &Store, asked: Asked<'_>, w: &Window) -> Result<ReportData, QueryError> {
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
    Ok(Some((trace.trace_id.clone(), waterfall(&trace.tree, root))))
}

/// The waterfall rows of `root`'s critical path: every span that is on it or has
/// descendants on it, depth-first, each followed (after its own path children) by one
/// folded row for its children that are off the path, so a run with hundreds of
/// parallel tests draws the chain plus a row per parent, not every span.
fn waterfall(tree: &TraceTree, root: usize) -> Vec<Bar> {
    let own = critical_path(tree, root);
    // A span is drawn when it, or something below it, spends time on the path.
    let mut on_path = vec![false; tree.len()];
    let subtree: Vec<usize> = std::iter::once(root)
        .chain(tree.descendants(root))
        .collect();
    for &i in subtree.iter().rev() {
        on_path[i] = own[i] > 0 || tree.children(i).iter().any(|&c| on_path[c]);
    }
    let t0 = tree.span(root).start_ns;
    let seconds = |ns: i64| round3((ns - t0) as f64 / 1e9);
    enum Item {
        Span(usize, u32),
        Folded(usize, u32),
    }
    let mut bars = Vec::new();
    let mut stack = vec![Item::Span(root, 0)];
    while let Some(item) = stack.pop() {
        match item {
            Item::Span(i, depth) => {
                let s = tree.span(i);
                bars.push(Bar {
                    name: s
                        .task
                        .clone()
                        .filter(|_| s.role.as_deref() == Some("task"))
                        .unwrap_or_else(|| s.name.clone()),
                    role: s.role.clone().unwrap_or_default(),
                    depth,
                    start_s: seconds(s.start_ns),
                    end_s: seconds(s.end_ns),
                    off_path: 0,
                });
                let children = tree.children(i);
                if children.iter().any(|&c| !on_path[c]) {
                    stack.push(Item::Folded(i, depth + 1));
                }
                for &c in children.iter().rev().filter(|&&c| on_path[c]) {
                    stack.push(Item::Span(c, depth + 1));
                }
            }
            Item::Folded(parent, depth) => {
                let off: Vec<usize> = tree
                    .children(parent)
                    .iter()
                    .copied()
                    .filter(|&c| !on_path[c])
                    .collect();
                let count: usize = off.iter().map(|&c| 1 + tree.descendants(c).count()).sum();
                let start = off
                    .iter()
                    .map(|&c| tree.span(c).start_ns)
                    .min()
                    .unwrap_or(t0);
                let end = off.iter().map(|&c| tree.span(c).end_ns).max().unwrap_or(t0);
                bars.push(Bar {
                    name: if count == 1 {
                        "1 span off the critical path".into()
                    } else {
                        format!("{count} spans off the critical path")
                    },
                    role: "folded".into(),
                    depth,
                    start_s: seconds(start),
                    end_s: seconds(end.max(start)),
                    off_path: count as u64,
                });
            }
        }
    }
    bars
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tree::TreeSpan;

    const S: i64 = 1_000_000_000;

    #[test]
    fn spans_off_the_path_fold_into_one_row_per_parent() {
        let mut spans = vec![
            TreeSpan::for_test("run", None, 0, 20 * S),
            TreeSpan::for_test("build", Some("run"), 0, 10 * S),
            TreeSpan::for_test("lint", Some("run"), 0, 3 * S),
            TreeSpan::for_test("docs", Some("run"), 0, 2 * S),
            TreeSpan::for_test("docs-page", Some("docs"), 0, S),
            TreeSpan::for_test("tests", Some("run"), 10 * S, 20 * S),
        ];
        // 100 tests in parallel; the 9 s one decides when `tests` ends.
        for k in 0..100 {
            let end = if k == 42 {
                20 * S
            } else {
                11 * S + k * S / 100
            };
            spans.push(TreeSpan::for_test(
                &format!("t{k}"),
                Some("tests"),
                11 * S,
                end,
            ));
        }
        let tree = TraceTree::new(spans);
        let bars = waterfall(&tree, 0);
        let rows: Vec<(&str, u32, u64)> = bars
            .iter()
            .map(|b| (b.name.as_str(), b.depth, b.off_path))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("run", 0, 0),
                ("build", 1, 0),
                ("tests", 1, 0),
                ("t42", 2, 0),
                ("99 spans off the critical path", 2, 99),
                ("3 spans off the critical path", 1, 3),
            ]
        );
        let folded = &bars[5];
        assert_eq!((folded.start_s, folded.end_s), (0.0, 3.0));
        assert_eq!((bars[4].start_s, bars[4].end_s), (11.0, 11.99));
    }
}

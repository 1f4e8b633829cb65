//! "It's the platform!" or "it's your change!": the failed pipeline runs of a window,
//! per pipeline (and per day or week), split into the runs the CI platform failed and
//! the runs the code or its tests failed, by count and by lost time (the failed runs'
//! durations). `pipescope failures --by cause` shows the rows; the report says them in
//! words.
//!
//! The failed runs and their failed spans come from `queries/failure_cause.sql` (failed
//! = `pipeline_runs.failed`: fail, error or timeout, so the counts match `failures --by
//! pipeline`; a cancelled run is not a failure there and not here). Which failure of a
//! run is the platform's is the gate triage's rule (`analysis::platform`); the run is
//! the platform's when the failure that happened first (ended first) is.

use std::collections::BTreeMap;

use datafusion::common::ScalarValue;
use serde::{Deserialize, Serialize};

use super::failures::Bucket;
use super::gate::measures::FailedSpan;
use super::platform::{Fault, blame, first_failure};
use crate::query::{Engine, NamedQuery, QueryError, rows::records};

/// Platform and change failures of one pipeline (in one bucket), or of all pipelines
/// (`total`). Field order is the JSON contract's column order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CauseRow {
    /// The pipeline; null for runs whose pipeline has no name, and on total rows.
    pub pipeline: Option<String>,
    /// Whether this row sums every pipeline (of its bucket). It comes last.
    pub total: bool,
    /// Start of the day or week (RFC 3339), when bucketed.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub bucket: Option<String>,
    pub failed_runs: u64,
    pub platform_runs: u64,
    pub change_runs: u64,
    /// platform_runs / failed_runs (0 with no failed runs), 4 decimals.
    pub platform_share: f64,
    /// The failed runs' durations, seconds.
    pub lost_s: f64,
    /// The platform runs' durations, seconds.
    pub platform_lost_s: f64,
    /// platform_lost_s / lost_s (0 when nothing was lost), 4 decimals.
    pub platform_lost_share: f64,
}

/// One pipeline's (or the total's) row and, for the report's words, the failures
/// that decided its platform runs ("checkout errored"), most runs first.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineCause {
    pub row: CauseRow,
    pub platform_causes: Vec<CauseCount>,
}

/// How many platform runs one kind of failure decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CauseCount {
    /// `checkout errored`, `test timed out`, `build / Set up job failed`, `nothing
    /// below the run failed`.
    pub cause: String,
    pub runs: u64,
}

/// A row of `queries/failure_cause.sql`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct SpanRow {
    run_key: Option<String>,
    pipeline: Option<String>,
    bucket: Option<String>,
    duration_ns: Option<i64>,
    role: Option<String>,
    name: Option<String>,
    task: Option<String>,
    test: Option<String>,
    outcome: Option<String>,
    status: Option<String>,
    status_message: Option<String>,
    end_ns: Option<i64>,
}

/// One failed run: its failed spans with their end times.
struct FailedRun {
    pipeline: Option<String>,
    bucket: Option<String>,
    duration_ns: i64,
    spans: Vec<(FailedSpan, i64)>,
}

/// What nothing failing below the pipeline reads as.
const NOTHING_BELOW: &str = "nothing below the run failed";

/// Whose fault one failed run is, and the failure that decided it in a few words.
fn judge(run: &FailedRun) -> (Fault, String) {
    let spans: Vec<&FailedSpan> = run.spans.iter().map(|(s, _)| s).collect();
    let blamed = blame(&spans);
    let Some(first) = first_failure(&blamed, |i| run.spans[i].1) else {
        // No failed span at all: nothing below the pipeline failed.
        return (Fault::Platform, NOTHING_BELOW.to_string());
    };
    let what = match (first.kind.as_str(), first.span.outcome.as_deref()) {
        ("pipeline", _) => NOTHING_BELOW.to_string(),
        (_, Some("error")) => format!("{} errored", first.subject),
        (_, Some("cancel")) => format!("{} was cancelled", first.subject),
        (_, Some("timeout")) => format!("{} timed out", first.subject),
        _ => format!("{} failed", first.subject),
    };
    (first.fault, what)
}

/// Per bucket, one row per pipeline (most failed runs first) and a total row; without
/// buckets there is always the total row, zeros when nothing failed.
pub async fn rows(
    engine: &Engine,
    bucket: Option<Bucket>,
) -> Result<Vec<PipelineCause>, QueryError> {
    let bucket_name = bucket.map_or("none", Bucket::name);
    let query = NamedQuery::FailureCause;
    let result = engine
        .run(query, vec![("bucket", ScalarValue::from(bucket_name))])
        .await?;
    let span_rows: Vec<SpanRow> = records(query.name(), &result)?;
    let mut out = summarise(group_runs(span_rows));
    if out.is_empty() && bucket.is_none() {
        out.push(Tally::default().finish(None, true, None));
    }
    Ok(out)
}

fn group_runs(span_rows: Vec<SpanRow>) -> Vec<FailedRun> {
    let mut runs: BTreeMap<String, FailedRun> = BTreeMap::new();
    for row in span_rows {
        let key = row.run_key.clone().unwrap_or_default();
        let run = runs.entry(key.clone()).or_insert_with(|| FailedRun {
            pipeline: row.pipeline.clone(),
            bucket: row.bucket.clone(),
            duration_ns: row.duration_ns.unwrap_or(0).max(0),
            spans: Vec::new(),
        });
        let Some(role) = row.role else {
            continue;
        };
        let span = FailedSpan {
            trace_id: key.clone(),
            run: key,
            attempt: None,
            pipeline: row.pipeline.unwrap_or_default(),
            role,
            name: row.name.unwrap_or_default(),
            task: row.task,
            test: row.test,
            outcome: row.outcome,
            status: row.status.unwrap_or_default(),
            status_message: row.status_message,
        };
        run.spans.push((span, row.end_ns.unwrap_or(i64::MAX)));
    }
    runs.into_values().collect()
}

#[derive(Default)]
struct Tally {
    failed: u64,
    platform: u64,
    lost_ns: i64,
    platform_lost_ns: i64,
    causes: BTreeMap<String, u64>,
}

impl Tally {
    fn add(&mut self, run: &FailedRun, fault: Fault, cause: &str) {
        self.failed += 1;
        self.lost_ns += run.duration_ns;
        if fault == Fault::Platform {
            self.platform += 1;
            self.platform_lost_ns += run.duration_ns;
            *self.causes.entry(cause.to_string()).or_default() += 1;
        }
    }

    fn finish(
        self,
        pipeline: Option<String>,
        total: bool,
        bucket: Option<String>,
    ) -> PipelineCause {
        let share = |part: f64, whole: f64| {
            if whole > 0.0 {
                (part / whole * 10_000.0).round() / 10_000.0
            } else {
                0.0
            }
        };
        let seconds = |ns: i64| (ns as f64 / 1e6).round() / 1e3;
        let mut causes: Vec<CauseCount> = self
            .causes
            .into_iter()
            .map(|(cause, runs)| CauseCount { cause, runs })
            .collect();
        causes.sort_by(|a, b| b.runs.cmp(&a.runs).then_with(|| a.cause.cmp(&b.cause)));
        PipelineCause {
            row: CauseRow {
                pipeline,
                total,
                bucket,
                failed_runs: self.failed,
                platform_runs: self.platform,
                change_runs: self.failed - self.platform,
                platform_share: share(self.platform as f64, self.failed as f64),
                lost_s: seconds(self.lost_ns),
                platform_lost_s: seconds(self.platform_lost_ns),
                platform_lost_share: share(self.platform_lost_ns as f64, self.lost_ns as f64),
            },
            platform_causes: causes,
        }
    }
}

/// The tallies of one bucket: per pipeline, and of all pipelines.
#[derive(Default)]
struct BucketTally {
    pipelines: BTreeMap<Option<String>, Tally>,
    total: Tally,
}

fn summarise(runs: Vec<FailedRun>) -> Vec<PipelineCause> {
    let mut per: BTreeMap<Option<String>, BucketTally> = BTreeMap::new();
    for run in &runs {
        let (fault, cause) = judge(run);
        let tally = per.entry(run.bucket.clone()).or_default();
        tally
            .pipelines
            .entry(run.pipeline.clone())
            .or_default()
            .add(run, fault, &cause);
        tally.total.add(run, fault, &cause);
    }
    let mut out = Vec::new();
    for (bucket, BucketTally { pipelines, total }) in per {
        let mut rows: Vec<PipelineCause> = pipelines
            .into_iter()
            .map(|(pipeline, tally)| tally.finish(pipeline, false, bucket.clone()))
            .collect();
        rows.sort_by(|a, b| {
            b.row
                .failed_runs
                .cmp(&a.row.failed_runs)
                .then_with(|| a.row.pipeline.cmp(&b.row.pipeline))
        });
        out.extend(rows);
        out.push(total.finish(None, true, bucket));
    }
    out
}

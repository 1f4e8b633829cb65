//! What the gate measures in one set of runs (the current or the baseline selection):
//! duration samples per pipeline, task, step and test; runs and failures per pipeline,
//! task and test; which tests are flaky; and (for the current set) the spans that
//! failed in failed runs.
//!
//! Each query's result is read into a typed row (`query::rows::records`), so a column
//! the SQL no longer returns is `QueryError::MissingColumn`, never a silent zero.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::analysis::flaky;
use crate::query::{Engine, NamedQuery, QueryError, rows::records};

/// What a measure is about: `kind` (`pipeline`, `task`, `step`, `test`), the pipeline
/// it ran in and its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Subject {
    pub kind: String,
    pub pipeline: String,
    pub name: String,
}

impl Subject {
    /// `task build (ci)`: how a subject reads in tables and annotations.
    pub fn label(&self) -> String {
        if self.pipeline.is_empty() || self.kind == "pipeline" {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {} ({})", self.kind, self.name, self.pipeline)
        }
    }
}

/// Runs and failures of one subject.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub runs: u64,
    pub failed: u64,
}

impl Counts {
    /// Failed over runs; 0 with no runs.
    pub fn rate(&self) -> f64 {
        if self.runs == 0 {
            0.0
        } else {
            self.failed as f64 / self.runs as f64
        }
    }
}

/// One span that did not succeed in a failed run.
#[derive(Debug, Clone, PartialEq)]
pub struct FailedSpan {
    pub trace_id: String,
    pub run: String,
    pub attempt: Option<i64>,
    pub pipeline: String,
    pub role: String,
    pub name: String,
    pub task: Option<String>,
    pub test: Option<String>,
    pub outcome: Option<String>,
    pub status: String,
    pub status_message: Option<String>,
}

/// Everything measured in one set of runs.
#[derive(Debug, Clone, Default)]
pub struct RunMeasures {
    /// Pipeline runs (traces with a pipeline span) and failed ones.
    pub pipeline_runs: Counts,
    /// Duration samples in seconds, per subject.
    pub durations: BTreeMap<Subject, Vec<f64>>,
    /// Runs and failures per subject (levels pipeline, task, test).
    pub failures: BTreeMap<Subject, Counts>,
    /// Executions and failures per test name, over all pipelines.
    pub tests: BTreeMap<String, Counts>,
    /// Tests with a pass and a fail on the same commit (see queries/flaky.sql).
    pub flaky: BTreeSet<String>,
    /// Tests that failed and never passed on a commit they failed on (status
    /// `broken` of queries/flaky.sql).
    pub broken: BTreeSet<String>,
    /// Non-successful spans of failed runs, in run and time order.
    pub failed_spans: Vec<FailedSpan>,
}

/// Measures one set of runs (the engine's filters select them).
pub async fn measure(engine: &Engine) -> Result<RunMeasures, QueryError> {
    let mut m = RunMeasures::default();

    for row in read::<DurationRow>(engine, NamedQuery::GateDurations).await? {
        let (Some(kind), Some(name), Some(ns)) = (row.kind, row.subject, row.duration_ns) else {
            continue;
        };
        let subject = Subject {
            kind,
            pipeline: row.pipeline.unwrap_or_default(),
            name,
        };
        m.durations
            .entry(subject)
            .or_default()
            .push(ns.max(0) as f64 / 1e9);
    }
    for samples in m.durations.values_mut() {
        samples.sort_by(f64::total_cmp);
    }

    for row in read::<FailureCountRow>(engine, NamedQuery::GateFailures).await? {
        let (Some(kind), Some(name)) = (row.level, row.subject) else {
            continue;
        };
        let subject = Subject {
            kind,
            pipeline: row.pipeline.unwrap_or_default(),
            name,
        };
        let counts = Counts {
            runs: row.runs,
            failed: row.failed,
        };
        match subject.kind.as_str() {
            "pipeline" => {
                m.pipeline_runs.runs += counts.runs;
                m.pipeline_runs.failed += counts.failed;
            }
            "test" => {
                let total = m.tests.entry(subject.name.clone()).or_default();
                total.runs += counts.runs;
                total.failed += counts.failed;
            }
            _ => {}
        }
        m.failures.insert(subject, counts);
    }

    for row in flaky::rows(engine, true).await? {
        match row.status.as_str() {
            "flaky" => m.flaky.insert(row.test),
            "broken" => m.broken.insert(row.test),
            _ => false,
        };
    }

    m.failed_spans = read::<FailedSpanRow>(engine, NamedQuery::GateFailedRuns)
        .await?
        .into_iter()
        .map(FailedSpan::from)
        .collect();
    Ok(m)
}

/// A named query without parameters, read as typed rows.
async fn read<T: DeserializeOwned + Serialize + Default>(
    engine: &Engine,
    query: NamedQuery,
) -> Result<Vec<T>, QueryError> {
    let result = engine.run(query, vec![]).await?;
    records(query.name(), &result)
}

/// A row of `queries/gate_durations.sql`. Rows with a null kind, subject or duration
/// say nothing about a subject and are skipped.
#[derive(Debug, Default, Serialize, Deserialize)]
struct DurationRow {
    kind: Option<String>,
    pipeline: Option<String>,
    subject: Option<String>,
    duration_ns: Option<i64>,
}

/// A row of `queries/gate_failures.sql` (a null subject is a task without a name).
#[derive(Debug, Default, Serialize, Deserialize)]
struct FailureCountRow {
    level: Option<String>,
    pipeline: Option<String>,
    subject: Option<String>,
    runs: u64,
    failed: u64,
}

/// A row of `queries/gate_failed_runs.sql`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FailedSpanRow {
    trace_id: Option<String>,
    run_key: Option<String>,
    attempt: Option<i64>,
    pipeline: Option<String>,
    role: Option<String>,
    name: Option<String>,
    task: Option<String>,
    test: Option<String>,
    outcome: Option<String>,
    status: Option<String>,
    status_message: Option<String>,
}

impl From<FailedSpanRow> for FailedSpan {
    fn from(row: FailedSpanRow) -> FailedSpan {
        FailedSpan {
            trace_id: row.trace_id.unwrap_or_default(),
            run: row.run_key.unwrap_or_default(),
            attempt: row.attempt,
            pipeline: row.pipeline.unwrap_or_default(),
            role: row.role.unwrap_or_default(),
            name: row.name.unwrap_or_default(),
            task: row.task,
            test: row.test,
            outcome: row.outcome,
            status: row.status.unwrap_or_default(),
            status_message: row.status_message,
        }
    }
}

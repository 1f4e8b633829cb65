//! What the gate measures in one window: duration samples per pipeline, task, step
//! and test; runs and failures per pipeline, task and test; which tests are flaky; and
//! (for the current window) the spans that failed in failed runs.

use std::collections::{BTreeMap, BTreeSet};

use datafusion::common::ScalarValue;
use serde_json::Value;

use crate::query::Rows;
use crate::query::{Engine, NamedQuery, QueryError};

/// What a measure is about: `kind` (`pipeline`, `task`, `step`, `test`), the pipeline
/// it ran in and its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
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

/// Everything measured in one window.
#[derive(Debug, Clone, Default)]
pub struct WindowMeasures {
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
    /// Non-successful spans of failed runs, in run and time order.
    pub failed_spans: Vec<FailedSpan>,
}

/// Measures one window (the engine's filters are the window).
pub async fn measure(engine: &Engine) -> Result<WindowMeasures, QueryError> {
    let mut m = WindowMeasures::default();

    for row in objects(engine, NamedQuery::GateDurations, vec![]).await? {
        let (Some(subject), Some(ns)) = (subject(&row, "kind"), row["duration_ns"].as_i64()) else {
            continue;
        };
        m.durations
            .entry(subject)
            .or_default()
            .push(ns.max(0) as f64 / 1e9);
    }
    for samples in m.durations.values_mut() {
        samples.sort_by(f64::total_cmp);
    }

    for row in objects(engine, NamedQuery::GateFailures, vec![]).await? {
        let Some(subject) = subject(&row, "level") else {
            continue;
        };
        let counts = Counts {
            runs: row["runs"].as_u64().unwrap_or(0),
            failed: row["failed"].as_u64().unwrap_or(0),
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

    let flaky = vec![("all", ScalarValue::Boolean(Some(false)))];
    for row in objects(engine, NamedQuery::Flaky, flaky).await? {
        if let Some(test) = row["test"].as_str() {
            m.flaky.insert(test.to_string());
        }
    }

    for row in objects(engine, NamedQuery::GateFailedRuns, vec![]).await? {
        let text = |key: &str| row[key].as_str().map(str::to_string);
        m.failed_spans.push(FailedSpan {
            trace_id: text("trace_id").unwrap_or_default(),
            run: text("run_key").unwrap_or_default(),
            attempt: row["attempt"].as_i64(),
            pipeline: text("pipeline").unwrap_or_default(),
            role: text("role").unwrap_or_default(),
            name: text("name").unwrap_or_default(),
            task: text("task"),
            test: text("test"),
            outcome: text("outcome"),
            status: text("status").unwrap_or_default(),
            status_message: text("status_message"),
        });
    }
    Ok(m)
}

async fn objects(
    engine: &Engine,
    query: NamedQuery,
    params: Vec<(&str, ScalarValue)>,
) -> Result<Vec<Value>, QueryError> {
    let result = engine.run(query, params).await?;
    Ok(Rows::from_batches(&result.schema, &result.batches).objects())
}

fn subject(row: &Value, kind_column: &str) -> Option<Subject> {
    Some(Subject {
        kind: row[kind_column].as_str()?.to_string(),
        pipeline: row["pipeline"].as_str().unwrap_or("").to_string(),
        name: row["subject"].as_str()?.to_string(),
    })
}

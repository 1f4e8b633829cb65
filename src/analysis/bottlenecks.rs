//! Bottlenecks: per task (or step), how long it takes and how much of that time was
//! on its pipeline's critical path — the chain of spans that determined when the
//! pipeline ended. A long task that always runs beside a longer chain has ~0 critical
//! time and ranks low, which is the point: speeding it up would not make CI faster.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::critical_path::{critical_path, rollup};
use super::stats::{mean, percentile};
use crate::model::tree::TreeSpan;
use crate::query::Rows;
use crate::query::load::{self, LoadedTrace};
use crate::query::{Engine, QueryError};

/// What a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Unit {
    /// Spans with role `task` (jobs, stages that are units of work).
    Task,
    /// Spans with role `step` (steps inside a job, commands inside a task).
    Step,
}

impl Unit {
    fn matches(self, span: &TreeSpan) -> bool {
        let role = span.role.as_deref();
        match self {
            Unit::Task => role == Some("task"),
            Unit::Step => role == Some("step"),
        }
    }

    fn label(self, span: &TreeSpan) -> String {
        match self {
            Unit::Task => span.task.clone().unwrap_or_else(|| span.name.clone()),
            Unit::Step => span.name.clone(),
        }
    }

    pub fn column(self) -> &'static str {
        match self {
            Unit::Task => "task",
            Unit::Step => "step",
        }
    }
}

#[derive(Default)]
struct Accumulator {
    durations_s: Vec<f64>,
    critical_ns: i64,
}

/// The bottleneck rows of every pipeline trace the engine sees.
pub async fn rows(engine: &Engine, unit: Unit) -> Result<Rows, QueryError> {
    let traces = load::pipeline_traces(engine).await?;
    Ok(bottlenecks(&traces, unit))
}

/// Computes the bottleneck rows over loaded pipeline traces, sorted by critical-path
/// time (descending).
pub fn bottlenecks(traces: &[LoadedTrace], unit: Unit) -> Rows {
    let mut per_unit: HashMap<(String, String), Accumulator> = HashMap::new();
    let mut wall_ns: HashMap<String, i64> = HashMap::new();
    for trace in traces {
        let tree = &trace.tree;
        let Some(root) = pipeline_root(tree) else {
            continue;
        };
        let pipeline = trace.pipeline.clone().unwrap_or_default();
        let root_span = tree.span(root);
        *wall_ns.entry(pipeline.clone()).or_default() +=
            (root_span.end_ns - root_span.start_ns).max(0);
        let on_path = critical_path(tree, root);
        for (index, critical) in rollup(tree, &on_path, |s| unit.matches(s)) {
            let span = tree.span(index);
            let acc = per_unit
                .entry((pipeline.clone(), unit.label(span)))
                .or_default();
            acc.durations_s
                .push((span.end_ns - span.start_ns).max(0) as f64 / 1e9);
            acc.critical_ns += critical;
        }
    }

    let mut rows: Vec<(i64, Vec<Value>)> = per_unit
        .into_iter()
        .map(|((pipeline, label), mut acc)| {
            acc.durations_s.sort_by(|a, b| a.total_cmp(b));
            let total: f64 = acc.durations_s.iter().sum();
            let critical_s = acc.critical_ns as f64 / 1e9;
            let wall_s = wall_ns.get(&pipeline).copied().unwrap_or(0) as f64 / 1e9;
            let share = if wall_s > 0.0 {
                critical_s / wall_s
            } else {
                0.0
            };
            let row = vec![
                json!(pipeline),
                json!(label),
                json!(acc.durations_s.len()),
                json!(round(percentile(&acc.durations_s, 50.0))),
                json!(round(percentile(&acc.durations_s, 95.0))),
                json!(round(mean(&acc.durations_s))),
                json!(round(total)),
                json!(round(critical_s)),
                json!(round(share)),
            ];
            (acc.critical_ns, row)
        })
        .collect();
    rows.sort_by(|a, b| {
        b.0.cmp(&a.0)
            .then_with(|| a.1[0].as_str().cmp(&b.1[0].as_str()))
            .then_with(|| a.1[1].as_str().cmp(&b.1[1].as_str()))
    });
    Rows {
        columns: [
            "pipeline",
            unit.column(),
            "runs",
            "p50_s",
            "p95_s",
            "mean_s",
            "total_s",
            "critical_path_s",
            "critical_path_share",
        ]
        .iter()
        .map(|c| c.to_string())
        .collect(),
        rows: rows.into_iter().map(|(_, row)| row).collect(),
    }
}

/// The outermost pipeline span of a trace (a re-run's pipeline span may sit below a
/// parent that was not exported; then the first pipeline span is taken).
fn pipeline_root(tree: &crate::model::tree::TraceTree) -> Option<usize> {
    let pipelines: Vec<usize> = (0..tree.len())
        .filter(|&i| tree.span(i).role.as_deref() == Some("pipeline"))
        .collect();
    pipelines
        .iter()
        .copied()
        .find(|&i| tree.parent(i).is_none())
        .or_else(|| pipelines.first().copied())
}

fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

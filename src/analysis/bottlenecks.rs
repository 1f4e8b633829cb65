//! Bottlenecks: per task (or step), how long it takes and how much of that time was
//! on its pipeline's critical path — the chain of spans that determined when the
//! pipeline ended. A long task that always runs beside a longer chain has ~0 critical
//! time and ranks low, which is the point: speeding it up would not make CI faster.

use std::cmp::Reverse;
use std::collections::HashMap;

use serde::Serialize;

use super::critical_path::{critical_path, pipeline_root, rollup};
use super::stats::{mean, percentile, round3};
use crate::model::tree::TreeSpan;
use crate::query::load::{self, LoadedTrace};
use crate::query::{Engine, QueryError};

/// What a row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Spans with role `task` (jobs, stages that are units of work).
    Task,
    /// Spans with role `step` (steps inside a job, commands inside a task).
    Step,
}

impl Unit {
    pub const ALL: [Unit; 2] = [Unit::Task, Unit::Step];

    /// The name used on the command line and in JSON parameters; also the column that
    /// names the unit in the rows.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Task => "task",
            Unit::Step => "step",
        }
    }

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
}

/// The column that names a row's unit: [`ByTask`] (`task`) or [`ByStep`] (`step`), so
/// each row carries the column of its unit, as `failures`' groupings do.
pub trait UnitKey: Serialize + Default {
    const UNIT: Unit;
    /// The key of the unit called `label`.
    fn new(label: String) -> Self;
}

/// Rows per task (the task name, or the span name where there is none).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ByTask {
    pub task: String,
}

/// Rows per step (the span name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ByStep {
    pub step: String,
}

impl UnitKey for ByTask {
    const UNIT: Unit = Unit::Task;
    fn new(task: String) -> Self {
        ByTask { task }
    }
}

impl UnitKey for ByStep {
    const UNIT: Unit = Unit::Step;
    fn new(step: String) -> Self {
        ByStep { step }
    }
}

/// One task (or step) of one pipeline over all its runs. Field order is the JSON
/// contract's column order; durations are seconds rounded to milliseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BottleneckRow<K> {
    pub pipeline: String,
    #[serde(flatten)]
    pub unit: K,
    /// Executions of the unit.
    pub runs: u64,
    pub p50_s: f64,
    pub p95_s: f64,
    pub mean_s: f64,
    /// The durations of all runs, summed.
    pub total_s: f64,
    /// Time the unit spent on its pipeline's critical path, summed over runs.
    pub critical_path_s: f64,
    /// `critical_path_s` over the pipeline's total wall time.
    pub critical_path_share: f64,
}

#[derive(Default)]
struct Accumulator {
    durations_s: Vec<f64>,
    critical_ns: i64,
}

/// The bottleneck rows of every pipeline trace the engine sees, one run at a time.
pub async fn rows<K: UnitKey>(engine: &Engine) -> Result<Vec<BottleneckRow<K>>, QueryError> {
    let tally = load::fold_pipeline_traces(engine, Tally::<K>::default, |tally, trace| {
        tally.add(&trace)
    })
    .await?;
    Ok(tally.rows())
}

/// Computes the bottleneck rows over loaded pipeline traces, sorted by critical-path
/// time (descending), then by pipeline and unit.
pub fn bottlenecks<K: UnitKey>(traces: &[LoadedTrace]) -> Vec<BottleneckRow<K>> {
    let mut tally = Tally::<K>::default();
    for trace in traces {
        tally.add(trace);
    }
    tally.rows()
}

/// What the runs seen so far add up to, per pipeline and unit.
struct Tally<K> {
    per_unit: HashMap<(String, String), Accumulator>,
    wall_ns: HashMap<String, i64>,
    unit: std::marker::PhantomData<K>,
}

impl<K> Default for Tally<K> {
    fn default() -> Tally<K> {
        Tally {
            per_unit: HashMap::new(),
            wall_ns: HashMap::new(),
            unit: std::marker::PhantomData,
        }
    }
}

impl<K: UnitKey> Tally<K> {
    fn add(&mut self, trace: &LoadedTrace) {
        let unit = K::UNIT;
        let tree = &trace.tree;
        let Some(root) = pipeline_root(tree) else {
            return;
        };
        let pipeline = trace.pipeline.clone().unwrap_or_default();
        let root_span = tree.span(root);
        *self.wall_ns.entry(pipeline.clone()).or_default() +=
            (root_span.end_ns - root_span.start_ns).max(0);
        let on_path = critical_path(tree, root);
        for (index, critical) in rollup(tree, &on_path, |s| unit.matches(s)) {
            let span = tree.span(index);
            let acc = self
                .per_unit
                .entry((pipeline.clone(), unit.label(span)))
                .or_default();
            acc.durations_s
                .push((span.end_ns - span.start_ns).max(0) as f64 / 1e9);
            acc.critical_ns += critical;
        }
    }

    /// The rows, sorted by critical-path time (descending), then pipeline and unit.
    fn rows(self) -> Vec<BottleneckRow<K>> {
        let Tally {
            per_unit, wall_ns, ..
        } = self;
        let mut ranked: Vec<((String, String), Accumulator)> = per_unit.into_iter().collect();
        // Ranked on the exact nanoseconds, not the rounded seconds; names break ties.
        ranked.sort_by(|(a_key, a), (b_key, b)| {
            (Reverse(a.critical_ns), a_key).cmp(&(Reverse(b.critical_ns), b_key))
        });
        ranked
            .into_iter()
            .map(|((pipeline, label), mut acc)| {
                acc.durations_s.sort_by(|a, b| a.total_cmp(b));
                let critical_s = acc.critical_ns as f64 / 1e9;
                let wall_s = wall_ns.get(&pipeline).copied().unwrap_or(0) as f64 / 1e9;
                let share = if wall_s > 0.0 {
                    critical_s / wall_s
                } else {
                    0.0
                };
                BottleneckRow {
                    pipeline,
                    unit: K::new(label),
                    runs: acc.durations_s.len() as u64,
                    p50_s: round3(percentile(&acc.durations_s, 50.0)),
                    p95_s: round3(percentile(&acc.durations_s, 95.0)),
                    mean_s: round3(mean(&acc.durations_s)),
                    total_s: round3(acc.durations_s.iter().sum()),
                    critical_path_s: round3(critical_s),
                    critical_path_share: round3(share),
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::tree::TraceTree;
    use crate::query::Rows;

    fn span(id: &str, parent: Option<&str>, role: &str, start: i64, end: i64) -> TreeSpan {
        TreeSpan {
            role: Some(role.to_string()),
            ..TreeSpan::for_test(id, parent, start * 1_000_000_000, end * 1_000_000_000)
        }
    }

    /// A 100 s pipeline: `build` (0-60 s) then `test` (60-100 s), with `lint` (0-70 s)
    /// beside them, longer than `test` but never on the critical path.
    fn run() -> LoadedTrace {
        LoadedTrace {
            trace_id: "t".into(),
            pipeline: Some("ci".into()),
            tree: TraceTree::new(vec![
                span("ci", None, "pipeline", 0, 100),
                span("build", Some("ci"), "task", 0, 60),
                span("lint", Some("ci"), "task", 0, 70),
                span("test", Some("ci"), "task", 60, 100),
                span("compile", Some("build"), "step", 0, 60),
            ]),
        }
    }

    #[test]
    fn ranks_by_time_on_the_critical_path_not_duration() {
        let rows = bottlenecks::<ByTask>(&[run(), run()]);
        let order: Vec<(&str, f64, f64)> = rows
            .iter()
            .map(|r| (r.unit.task.as_str(), r.total_s, r.critical_path_s))
            .collect();
        assert_eq!(
            order,
            [
                ("build", 120.0, 120.0),
                ("test", 80.0, 80.0),
                ("lint", 140.0, 0.0)
            ]
        );
        assert_eq!(rows[0].runs, 2);
        assert_eq!(rows[0].critical_path_share, 0.6);
        let steps = bottlenecks::<ByStep>(&[run()]);
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0].unit.step, "compile");
    }

    #[test]
    fn the_unit_names_its_column_even_without_rows() {
        let columns = |rows: Rows| rows.columns.join(",");
        let rest = "runs,p50_s,p95_s,mean_s,total_s,critical_path_s,critical_path_share";
        assert_eq!(
            columns(Rows::from_records::<BottleneckRow<ByTask>>(&[])),
            format!("pipeline,task,{rest}")
        );
        assert_eq!(
            columns(Rows::from_records::<BottleneckRow<ByStep>>(&[])),
            format!("pipeline,step,{rest}")
        );
    }
}

//! The planted truth: what every analysis must find in the generated data.
//!
//! Counts are computed from the generated traces themselves (each trace once, however
//! many files it was written to), so they describe the deduplicated data exactly.

use std::collections::BTreeMap;

use serde::Serialize;

use super::delivery::DeliveryTruth;

/// Why a planted flaky test fails; the "compare" analysis should name this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cause {
    /// A child span (`cause_span`) is ~10x slower only when the test fails.
    SlowChild,
    /// A child span (`cause_span`) has error status only when the test fails.
    ErrorChild,
    /// A child span (`cause_span`) carries `key=value` only when the test fails.
    AttributeValue { key: String, value: String },
    /// The test span itself (`cause_span` is its own name) runs into a timeout when failing.
    SelfDuration,
}

/// A flaky test planted by the generator.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlantedFlaky {
    /// Test name as the normaliser reads it (`test.case.name`, `test.name`, `tests.name`).
    pub test: String,
    /// Suite name: `test.suite.name`, the JUnit suite span's `test.name`, or the
    /// pytest-otel session span name `Test Suite`.
    pub suite: String,
    /// Name of the span that shows the cause.
    pub cause_span: String,
    pub cause: Cause,
    /// The planned failure rate per execution (realised counts are in `Truth::test_stats`).
    pub planned_rate: f64,
}

/// Realised executions of one test (retries inside a run count separately).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TestStats {
    pub executions: u64,
    pub passes: u64,
    pub failures: u64,
    /// Commits on which the test both passed and failed.
    pub flaky_commits: u64,
    /// Commits on which every execution failed.
    pub broken_commits: u64,
    /// Executions that are a retry inside the same run.
    pub retries: u64,
}

/// Everything the generator planted, for demos and integration tests.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Truth {
    pub flaky_tests: Vec<PlantedFlaky>,
    /// Tests that fail on every execution of the commits in `broken_commits`.
    pub broken_tests: Vec<String>,
    /// Broken test → the commits it fails on.
    pub broken_commits: BTreeMap<String, Vec<String>>,
    /// Tests that never fail.
    pub stable_tests: Vec<String>,
    /// Per test name: realised execution counts.
    pub test_stats: BTreeMap<String, TestStats>,
    /// Pipeline whose critical path is checkout → build → test → package.
    pub bottleneck_pipeline: String,
    /// The task that dominates that pipeline's critical path.
    pub critical_task: String,
    /// Long tasks that always run in parallel with a longer chain (critical time ~0).
    pub parallel_long_task: String,
    pub parallel_tasks: Vec<String>,
    /// Branch → (pipeline runs, failed pipeline runs); every attempt is its own run.
    pub branch_runs: BTreeMap<String, (u64, u64)>,
    /// Pipeline name → (runs, failed runs).
    pub pipeline_runs: BTreeMap<String, (u64, u64)>,
    pub hostile_branches: Vec<String>,
    /// Distinct traces (= pipeline run attempts).
    pub traces: u64,
    /// Traces with attempt > 1 (re-runs).
    pub reruns: u64,
    /// Distinct spans after deduplication.
    pub spans: u64,
    /// Traces written twice (OTLP plus Jaeger or Zipkin).
    pub duplicated_traces: u64,
    /// Spans whose parent id names a span that does not exist.
    pub orphan_spans: u64,
    /// Spans with an attribute value of >= 100 KB.
    pub huge_attribute_spans: u64,
    /// Spans shifted to start before their parent or end after it.
    pub skewed_spans: u64,
    /// The delivery history's changes, DORA keys and platform failures; `None` when
    /// the config has no delivery history.
    pub delivery: Option<DeliveryTruth>,
}

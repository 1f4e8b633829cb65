//! The named queries of `queries/*.sql`, compiled into the binary. Every file but
//! `views.sql` is one [`NamedQuery`]; `named_snapshots` runs each of them on a small
//! fixed store and fails when a file has no variant.

/// Views created in every session (see `queries/views.sql`).
pub const VIEWS_SQL: &str = include_str!("../../queries/views.sql");

/// The test identity views, created before [`VIEWS_SQL`] (see `query::aliases`).
pub const TEST_ID_ALIASES_SQL: &str = include_str!("../../queries/test_id_aliases.sql");

/// The files of `queries/` that are views, not named queries.
pub const VIEW_FILES: [&str; 2] = ["views", "test_id_aliases"];

/// A query shipped with pipescope. Parameters are bound by name (`$all`, `$bucket`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NamedQuery {
    Flaky,
    FailuresByBranch,
    FailuresByPipeline,
    FailuresByTask,
    FailuresByTest,
    FailureCause,
    TraceSpans,
    PipelineSpans,
    GateDurations,
    GateFailures,
    GateFailedRuns,
    ReportTaskDurations,
    TestIds,
    DeliveryRuns,
    Deployments,
}

impl NamedQuery {
    /// Every named query, in the order of the enum.
    pub const ALL: [NamedQuery; 15] = [
        NamedQuery::Flaky,
        NamedQuery::FailuresByBranch,
        NamedQuery::FailuresByPipeline,
        NamedQuery::FailuresByTask,
        NamedQuery::FailuresByTest,
        NamedQuery::FailureCause,
        NamedQuery::TraceSpans,
        NamedQuery::PipelineSpans,
        NamedQuery::GateDurations,
        NamedQuery::GateFailures,
        NamedQuery::GateFailedRuns,
        NamedQuery::ReportTaskDurations,
        NamedQuery::TestIds,
        NamedQuery::DeliveryRuns,
        NamedQuery::Deployments,
    ];

    /// The file name without `.sql`, as error messages name the query.
    pub fn name(self) -> &'static str {
        match self {
            NamedQuery::Flaky => "flaky",
            NamedQuery::FailuresByBranch => "failures_by_branch",
            NamedQuery::FailuresByPipeline => "failures_by_pipeline",
            NamedQuery::FailuresByTask => "failures_by_task",
            NamedQuery::FailuresByTest => "failures_by_test",
            NamedQuery::FailureCause => "failure_cause",
            NamedQuery::TraceSpans => "trace_spans",
            NamedQuery::PipelineSpans => "pipeline_spans",
            NamedQuery::GateDurations => "gate_durations",
            NamedQuery::GateFailures => "gate_failures",
            NamedQuery::GateFailedRuns => "gate_failed_runs",
            NamedQuery::ReportTaskDurations => "report_task_durations",
            NamedQuery::TestIds => "test_ids",
            NamedQuery::DeliveryRuns => "delivery_runs",
            NamedQuery::Deployments => "deployments",
        }
    }

    /// The query's SQL text.
    pub fn sql(self) -> &'static str {
        match self {
            NamedQuery::Flaky => include_str!("../../queries/flaky.sql"),
            NamedQuery::FailuresByBranch => include_str!("../../queries/failures_by_branch.sql"),
            NamedQuery::FailuresByPipeline => {
                include_str!("../../queries/failures_by_pipeline.sql")
            }
            NamedQuery::FailuresByTask => include_str!("../../queries/failures_by_task.sql"),
            NamedQuery::FailuresByTest => include_str!("../../queries/failures_by_test.sql"),
            NamedQuery::FailureCause => include_str!("../../queries/failure_cause.sql"),
            NamedQuery::TraceSpans => include_str!("../../queries/trace_spans.sql"),
            NamedQuery::PipelineSpans => include_str!("../../queries/pipeline_spans.sql"),
            NamedQuery::GateDurations => include_str!("../../queries/gate_durations.sql"),
            NamedQuery::GateFailures => include_str!("../../queries/gate_failures.sql"),
            NamedQuery::GateFailedRuns => include_str!("../../queries/gate_failed_runs.sql"),
            NamedQuery::ReportTaskDurations => {
                include_str!("../../queries/report_task_durations.sql")
            }
            NamedQuery::TestIds => include_str!("../../queries/test_ids.sql"),
            NamedQuery::DeliveryRuns => include_str!("../../queries/delivery_runs.sql"),
            NamedQuery::Deployments => include_str!("../../queries/deployments.sql"),
        }
    }
}

-- Views shared by the named queries and available to `pipescope sql`.
-- They read `spans`, which is the store narrowed by the command's filters. The view
-- test_id_aliases, created before these (queries/test_id_aliases.sql), also reads
-- `all_spans`, the whole store.

-- Test spans with the identity every analysis groups by: `test_id` resolved through
-- `test_id_aliases`, or the emitted name for stores written before `test_id` existed.
CREATE VIEW test_spans AS
SELECT s.*, COALESCE(a.test_id, s.test_id, s.test) AS resolved_test_id
FROM spans s
LEFT JOIN test_id_aliases a ON COALESCE(s.repo, '') = a.repo AND s.test_id = a.alias
WHERE s.role = 'test';

-- One row per test execution that passed or failed (skips and cancels are not evidence
-- either way). Retries inside a run are separate executions.
--   test_id     the test's identity (see test_spans); test is the name as emitted
--   failed      fail or error
--   commit_key  the commit, or the run when no commit is known: executions are only
--               compared on the same code, never across unknown commits
--   run_key     the run id (all attempts of a run), or the trace
CREATE VIEW test_executions AS
SELECT
    trace_id,
    span_id,
    resolved_test_id AS test_id,
    test,
    COALESCE(suite, '') AS suite,
    task,
    pipeline,
    branch,
    "commit",
    COALESCE(run_id, trace_id) AS run_key,
    attempt,
    start_time,
    duration_ns,
    outcome,
    outcome IN ('fail', 'error') AS failed,
    COALESCE("commit", 'run:' || COALESCE(run_id, trace_id)) AS commit_key
FROM test_spans
WHERE test IS NOT NULL AND outcome IN ('pass', 'fail', 'error');

-- Which pipeline run each CI trace belongs to. A trace with a pipeline span is a run of
-- its own (every attempt is its own trace, so every attempt is a run). Many emitters
-- have no pipeline span — Tekton-style task scripts export each task as a process of
-- its own, tied together only by a run id (`pipeline.run`, `ci.pipeline.id`, …): their
-- traces belong to the run their pipeline, run id and attempt name, however many
-- traces it took.
--   run_key             the trace id of a run with a pipeline span, else
--                       'run:<pipeline>:<run id>#<attempt>'
--   has_pipeline_span   whether the run is the first kind (pipeline_runs has it too)
CREATE VIEW run_traces AS
SELECT
    trace_id,
    BOOL_OR(role = 'pipeline') AS has_pipeline_span,
    CASE
        WHEN BOOL_OR(role = 'pipeline') THEN trace_id
        ELSE 'run:' || COALESCE(MAX(pipeline), '') || ':' || COALESCE(MAX(run_id), trace_id)
            || '#' || CAST(COALESCE(MAX(attempt), 1) AS VARCHAR)
    END AS run_key
FROM spans
WHERE role IN ('pipeline', 'task', 'step')
GROUP BY trace_id;

-- One row per pipeline run (see run_traces). Its start and duration are its pipeline
-- span's, or, without one, from its first span's start to its last span's end across
-- all its traces. A run failed when its pipeline span's outcome is fail, error or
-- timeout, or, without one, when one of its tasks failed (a task fails with a failed
-- step, see model/normalize); cancelled runs count as runs but not as failures.
-- trigger, change_id, change_title and base_branch say what started the run and which
-- pull request it checks (null for runs that are not pull-request checks).
CREATE VIEW pipeline_runs AS
WITH per_run AS (
    SELECT
        r.run_key,
        BOOL_OR(r.has_pipeline_span) AS has_pipeline_span,
        MIN(s.trace_id) AS trace_id,
        MAX(s.pipeline) AS pipeline,
        MAX(s.run_id) AS run_id,
        MAX(s.attempt) AS attempt,
        MAX(s.branch) AS branch,
        MAX(s."commit") AS "commit",
        MAX(s.repo) AS repo,
        MAX(s.trigger) AS trigger,
        MAX(s.change_id) AS change_id,
        MAX(s.change_title) AS change_title,
        MAX(s.base_branch) AS base_branch,
        MIN(CASE WHEN s.role = 'pipeline' THEN s.start_time END) AS pipeline_start,
        MAX(CASE WHEN s.role = 'pipeline' THEN s.duration_ns END) AS pipeline_duration_ns,
        MIN(s.start_time) AS first_start,
        MAX(s.end_time) AS last_end,
        BOOL_OR(s.role = 'pipeline' AND s.outcome IN ('fail', 'error', 'timeout')) AS pipeline_failed,
        BOOL_OR(s.role = 'task' AND s.outcome IN ('fail', 'error', 'timeout')) AS task_failed
    FROM spans s
    JOIN run_traces r ON s.trace_id = r.trace_id
    WHERE s.role IN ('pipeline', 'stage', 'task', 'step')
    GROUP BY r.run_key
)
SELECT
    run_key,
    has_pipeline_span,
    trace_id,
    pipeline,
    run_id,
    attempt,
    branch,
    "commit",
    repo,
    COALESCE(pipeline_start, first_start) AS start_time,
    COALESCE(
        pipeline_duration_ns,
        CAST(last_end AS BIGINT) - CAST(first_start AS BIGINT)
    ) AS duration_ns,
    CASE WHEN has_pipeline_span THEN pipeline_failed ELSE task_failed END AS failed,
    trigger,
    change_id,
    change_title,
    base_branch
FROM per_run;

-- One row per task execution with a result. A job's JUnit reports (Surefire writes one
-- per class) each carry the job's task span, one per distinct result: the job ran once,
-- and failed when any of its reports failed.
CREATE VIEW task_runs AS
WITH tasks AS (
    SELECT *, outcome IN ('fail', 'error', 'timeout') AS failed
    FROM spans
    WHERE role = 'task' AND task IS NOT NULL AND outcome IS NOT NULL
)
SELECT trace_id, span_id, task, pipeline, branch, "commit", start_time, duration_ns, outcome, failed
FROM tasks
WHERE source <> 'junit'
UNION ALL
SELECT
    trace_id,
    MIN(span_id) AS span_id,
    task,
    MAX(pipeline) AS pipeline,
    MAX(branch) AS branch,
    MAX("commit") AS "commit",
    MIN(start_time) AS start_time,
    MAX(duration_ns) AS duration_ns,
    CASE
        WHEN BOOL_OR(failed) THEN MAX(CASE WHEN failed THEN outcome END)
        WHEN BOOL_OR(outcome = 'pass') THEN 'pass'
        ELSE MAX(outcome)
    END AS outcome,
    BOOL_OR(failed) AS failed
FROM tasks
WHERE source = 'junit'
GROUP BY trace_id, task;

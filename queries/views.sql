-- Views shared by the named queries and available to `pipescope sql`.
-- They read `spans`, which is the store narrowed by the command's filters.

-- One row per test execution that passed or failed (skips and cancels are not evidence
-- either way). Retries inside a run are separate executions.
--   failed      fail or error
--   commit_key  the commit, or the run when no commit is known: executions are only
--               compared on the same code, never across unknown commits
--   run_key     the run id (all attempts of a run), or the trace
CREATE VIEW test_executions AS
SELECT
    trace_id,
    span_id,
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
FROM spans
WHERE role = 'test' AND test IS NOT NULL AND outcome IN ('pass', 'fail', 'error');

-- One row per pipeline run: a trace with a pipeline span. Every attempt is its own
-- trace, so every attempt is a run. A run failed when its pipeline span's outcome is
-- fail, error or timeout; cancelled runs count as runs but not as failures.
CREATE VIEW pipeline_runs AS
SELECT
    trace_id,
    MAX(pipeline) AS pipeline,
    MAX(run_id) AS run_id,
    MAX(attempt) AS attempt,
    MAX(branch) AS branch,
    MAX("commit") AS "commit",
    MAX(repo) AS repo,
    MIN(start_time) AS start_time,
    MAX(duration_ns) AS duration_ns,
    BOOL_OR(outcome IN ('fail', 'error', 'timeout')) AS failed
FROM spans
WHERE role = 'pipeline'
GROUP BY trace_id;

-- One row per task execution with a result.
CREATE VIEW task_runs AS
SELECT
    trace_id,
    span_id,
    task,
    pipeline,
    branch,
    "commit",
    start_time,
    duration_ns,
    outcome,
    outcome IN ('fail', 'error', 'timeout') AS failed
FROM spans
WHERE role = 'task' AND task IS NOT NULL AND outcome IS NOT NULL;

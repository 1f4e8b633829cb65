-- failure_cause: every failed pipeline run (`pipeline_runs` with `failed`: fail, error
-- or timeout, with or without a pipeline span) with the spans of the run that did not
-- succeed, for `failures --by cause` (src/analysis/failure_cause.rs), which decides in
-- Rust, with the gate triage's rule (src/analysis/platform.rs), whether the run is the
-- platform's failure or the change's. A failed run with no failed span at all still
-- has one row (its span columns null).
-- Parameters: $bucket ('day', 'week' or 'none').
--   run_key, pipeline, bucket, duration_ns   the run (see pipeline_runs)
--   role … status_message                    one span that did not succeed
--   end_ns                                   when it ended: the first failure decides
WITH failed_runs AS (
    SELECT
        run_key,
        pipeline,
        CASE $bucket
            WHEN 'day' THEN date_trunc('day', start_time)
            WHEN 'week' THEN date_trunc('week', start_time)
        END AS bucket,
        duration_ns
    FROM pipeline_runs
    WHERE failed
),
failed_spans AS (
    SELECT
        r.run_key,
        s.span_id,
        s.role,
        s.name,
        s.task,
        COALESCE(s.test_id, s.test) AS test,
        s.outcome,
        s.status,
        s.status_message,
        CAST(s.end_time AS BIGINT) AS end_ns
    FROM spans s
    JOIN run_traces r ON s.trace_id = r.trace_id
    WHERE s.role IN ('pipeline', 'stage', 'task', 'step', 'test')
        AND (s.outcome IN ('fail', 'error', 'timeout', 'cancel') OR s.status = 'error')
)
SELECT
    f.run_key,
    f.pipeline,
    f.bucket,
    f.duration_ns,
    s.role,
    s.name,
    s.task,
    s.test,
    s.outcome,
    s.status,
    s.status_message,
    s.end_ns
FROM failed_runs f
LEFT JOIN failed_spans s ON s.run_key = f.run_key
ORDER BY f.bucket, f.run_key, s.end_ns, s.span_id;

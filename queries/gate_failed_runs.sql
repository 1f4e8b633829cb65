-- gate_failed_runs: for every failed pipeline run (see `pipeline_runs`), the spans that
-- did not succeed, for the gate's triage (src/gate/triage.rs). A run counts as failed
-- here also when it was cancelled or timed out: that is exactly the platform case.
WITH failed_runs AS (
    SELECT trace_id
    FROM spans
    WHERE role = 'pipeline'
    GROUP BY trace_id
    HAVING BOOL_OR(outcome IN ('fail', 'error', 'timeout', 'cancel'))
)
SELECT
    s.trace_id,
    COALESCE(s.run_id, s.trace_id) AS run_key,
    s.attempt,
    s.pipeline,
    s.role,
    s.name,
    s.task,
    s.test,
    s.outcome,
    s.status,
    s.status_message
FROM spans s
JOIN failed_runs f ON s.trace_id = f.trace_id
WHERE s.role IN ('pipeline', 'stage', 'task', 'step', 'test')
    AND (s.outcome IN ('fail', 'error', 'timeout', 'cancel') OR s.status = 'error')
ORDER BY s.trace_id, s.start_time, s.span_id;

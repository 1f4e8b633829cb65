-- gate_failed_runs: for every failed pipeline run (see `pipeline_runs`), the spans that
-- did not succeed, for the gate's triage (src/gate/triage.rs). A run counts as failed
-- here also when it was cancelled or timed out: that is exactly the platform case.
-- `test` is the test's identity (see test_spans).
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
    COALESCE(a.test_id, s.test_id, s.test) AS test,
    s.outcome,
    s.status,
    s.status_message
FROM spans s
JOIN failed_runs f ON s.trace_id = f.trace_id
LEFT JOIN test_id_aliases a
    ON s.role = 'test' AND COALESCE(s.repo, '') = a.repo AND s.test_id = a.alias
WHERE s.role IN ('pipeline', 'stage', 'task', 'step', 'test')
    AND (s.outcome IN ('fail', 'error', 'timeout', 'cancel') OR s.status = 'error')
ORDER BY s.trace_id, s.start_time, s.span_id;

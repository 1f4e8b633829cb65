-- deployments: every deployment with a result — a task (or, when no task of its run
-- deploys, a pipeline) whose environment the normaliser found (model/normalize/
-- deployments.rs). Skipped and cancelled deployments deployed nothing and are left out.
-- `job` is the task's name, or the span's own for a deploying pipeline.
SELECT
    r.run_key,
    s.repo,
    s.pipeline,
    s.branch,
    s."commit",
    s.environment,
    COALESCE(s.task, s.name) AS job,
    CAST(s.start_time AS BIGINT) AS start_ns,
    CAST(s.end_time AS BIGINT) AS end_ns,
    s.outcome IN ('fail', 'error', 'timeout') AS failed
FROM spans s
JOIN run_traces r ON s.trace_id = r.trace_id
WHERE s.environment IS NOT NULL
    AND s.role IN ('task', 'pipeline')
    AND s.outcome IN ('pass', 'fail', 'error', 'timeout')
ORDER BY end_ns, s.trace_id, s.span_id;

-- gate_durations: one row per successful execution of a pipeline, task, step or test,
-- with its duration, for the gate's duration-regression rule (p50/p95 and the
-- Mann-Whitney test are computed in Rust over these samples: see src/gate/rules.rs).
--
-- Only successful executions count: a failing test that runs into a timeout, or a task
-- cut short by an earlier failure, would otherwise read as a duration change.
--   kind     pipeline | task | step | test
--   subject  the pipeline, task or test (its test_id, see test_spans); for a step,
--            "<task> / <step span name>"
SELECT
    role AS kind,
    COALESCE(pipeline, '') AS pipeline,
    CASE role
        WHEN 'pipeline' THEN COALESCE(pipeline, name)
        WHEN 'task' THEN task
        WHEN 'step' THEN COALESCE(task, '') || ' / ' || name
        WHEN 'test' THEN COALESCE(a.test_id, s.test_id, test)
    END AS subject,
    duration_ns
FROM spans s
LEFT JOIN test_id_aliases a
    ON role = 'test' AND COALESCE(s.repo, '') = a.repo AND s.test_id = a.alias
WHERE role IN ('pipeline', 'task', 'step', 'test')
    AND status <> 'error'
    AND (outcome = 'pass' OR (role = 'step' AND outcome IS NULL))
    AND (role <> 'task' OR task IS NOT NULL)
    AND (role <> 'test' OR test IS NOT NULL)
UNION ALL
-- Runs without a pipeline span (run_traces): their wall time, when they succeeded.
SELECT
    'pipeline' AS kind,
    COALESCE(pipeline, '') AS pipeline,
    COALESCE(pipeline, run_key) AS subject,
    duration_ns
FROM pipeline_runs
WHERE NOT has_pipeline_span AND NOT failed;

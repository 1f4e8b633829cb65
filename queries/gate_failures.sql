-- gate_failures: runs and failures per pipeline, task and test, for the gate's
-- failure-rate and new-failure rules. Same definitions as the `failures` analysis:
-- a pipeline run is one trace (every attempt), a task or test execution with a result.
--   level  pipeline | task | test
SELECT 'pipeline' AS level, COALESCE(pipeline, '') AS pipeline, COALESCE(pipeline, '') AS subject,
    COUNT(*) AS runs, SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failed
FROM pipeline_runs
GROUP BY pipeline
UNION ALL
SELECT 'task' AS level, COALESCE(pipeline, '') AS pipeline, task AS subject,
    COUNT(*) AS runs, SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failed
FROM task_runs
WHERE outcome IN ('pass', 'fail', 'error', 'timeout')
GROUP BY pipeline, task
UNION ALL
SELECT 'test' AS level, COALESCE(pipeline, '') AS pipeline, test_id AS subject,
    COUNT(*) AS runs, SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failed
FROM test_executions
GROUP BY pipeline, test_id
ORDER BY level, pipeline, subject;

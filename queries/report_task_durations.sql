-- report_task_durations: per task and day, the durations of successful executions
-- (the report's duration trend; percentiles are computed in Rust).
SELECT
    COALESCE(pipeline, '') AS pipeline,
    task,
    CAST(date_trunc('day', start_time) AS VARCHAR) AS day,
    duration_ns
FROM task_runs
WHERE outcome = 'pass'
ORDER BY pipeline, task, day;

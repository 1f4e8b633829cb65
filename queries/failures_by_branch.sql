-- failures by branch: pipeline runs and failed runs per branch (and per bucket).
-- Parameters: $bucket ('day', 'week' or 'none').
SELECT
    branch,
    CASE $bucket
        WHEN 'day' THEN date_trunc('day', start_time)
        WHEN 'week' THEN date_trunc('week', start_time)
    END AS bucket,
    COUNT(*) AS runs,
    SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failed,
    ROUND(AVG(CASE WHEN failed THEN 1.0 ELSE 0.0 END), 4) AS failure_rate
FROM pipeline_runs
GROUP BY branch, bucket
ORDER BY bucket, failure_rate DESC, runs DESC, branch;

-- failures by test: test executions and failed ones per test (its test_id) and bucket.
-- Parameters: $bucket ('day', 'week' or 'none').
SELECT
    test_id AS test,
    MIN(NULLIF(suite, '')) AS suite,
    CASE $bucket
        WHEN 'day' THEN date_trunc('day', start_time)
        WHEN 'week' THEN date_trunc('week', start_time)
    END AS bucket,
    COUNT(*) AS runs,
    SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failed,
    ROUND(AVG(CASE WHEN failed THEN 1.0 ELSE 0.0 END), 4) AS failure_rate
FROM test_executions
GROUP BY test_id, bucket
ORDER BY bucket, failure_rate DESC, runs DESC, test_id;

-- flaky: per test (its test_id, whatever emitted it), the evidence that it is flaky
-- (pass and fail on the same commit) or broken (fails on every execution of the commits it fails on).
--
-- flake_rate: failures on flaky commits / executions, with its 95% Wilson interval
-- [flake_rate_low, flake_rate_high].
-- score: flake_rate_low * ln(1 + flaky failures). The lower bound discounts rates seen on
-- few executions; the log factor asks for repeated evidence. So a test that flaked 10
-- times in 100 runs (0.055 * 2.40 = 0.132) ranks above one that flaked once in 2
-- (0.095 * 0.69 = 0.066), and a test that never flaked scores 0.
--
-- Parameters: $all (boolean) — include broken and stable tests.
WITH sequenced AS (
    SELECT
        *,
        LAG(failed) OVER (PARTITION BY test_id ORDER BY start_time, span_id) AS prev_failed,
        LAG(failed) OVER (PARTITION BY test_id, run_key ORDER BY start_time, span_id) AS prev_failed_in_run
    FROM test_executions
),
per_commit AS (
    SELECT
        test_id,
        commit_key,
        SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS fails,
        SUM(CASE WHEN failed THEN 0 ELSE 1 END) AS passes,
        MIN(CASE WHEN failed THEN start_time END) AS first_fail,
        MAX(CASE WHEN failed THEN start_time END) AS last_fail
    FROM test_executions
    GROUP BY test_id, commit_key
),
per_test_commits AS (
    SELECT
        test_id,
        SUM(CASE WHEN fails > 0 AND passes > 0 THEN 1 ELSE 0 END) AS flaky_commits,
        SUM(CASE WHEN fails > 0 AND passes > 0 THEN fails ELSE 0 END) AS flaky_failures,
        MIN(CASE WHEN fails > 0 AND passes > 0 THEN first_fail END) AS first_flake,
        MAX(CASE WHEN fails > 0 AND passes > 0 THEN last_fail END) AS last_flake
    FROM per_commit
    GROUP BY test_id
),
per_test_runs AS (
    SELECT
        test_id,
        MIN(NULLIF(suite, '')) AS suite,
        COUNT(*) AS runs,
        SUM(CASE WHEN failed THEN 0 ELSE 1 END) AS passes,
        SUM(CASE WHEN failed THEN 1 ELSE 0 END) AS failures,
        SUM(CASE WHEN NOT failed AND prev_failed_in_run THEN 1 ELSE 0 END) AS retry_passes,
        SUM(CASE WHEN prev_failed IS NOT NULL AND prev_failed <> failed THEN 1 ELSE 0 END) AS flips
    FROM sequenced
    GROUP BY test_id
),
joined AS (
    SELECT
        r.test_id,
        r.suite,
        r.runs,
        r.passes,
        r.failures,
        c.flaky_commits,
        c.flaky_failures,
        r.retry_passes,
        r.flips,
        c.first_flake,
        c.last_flake,
        CAST(c.flaky_failures AS DOUBLE) / r.runs AS p,
        CAST(r.runs AS DOUBLE) AS n
    FROM per_test_runs r
    JOIN per_test_commits c ON r.test_id = c.test_id
),
scored AS (
    SELECT
        *,
        CASE
            WHEN flaky_commits > 0 THEN 'flaky'
            WHEN failures > 0 THEN 'broken'
            ELSE 'stable'
        END AS status,
        (p + 3.8416 / (2 * n) - 1.96 * SQRT(p * (1 - p) / n + 3.8416 / (4 * n * n)))
            / (1 + 3.8416 / n) AS wilson_low,
        (p + 3.8416 / (2 * n) + 1.96 * SQRT(p * (1 - p) / n + 3.8416 / (4 * n * n)))
            / (1 + 3.8416 / n) AS wilson_high
    FROM joined
)
SELECT
    test_id AS test,
    suite,
    status,
    runs,
    passes,
    failures,
    flaky_commits,
    retry_passes,
    ROUND(CAST(failures AS DOUBLE) / runs, 4) AS failure_rate,
    ROUND(CASE WHEN runs > 1 THEN CAST(flips AS DOUBLE) / (runs - 1) ELSE 0.0 END, 4) AS flip_rate,
    ROUND(GREATEST(wilson_low, 0.0) * LN(1.0 + flaky_failures), 4) AS score,
    ROUND(p, 4) AS flake_rate,
    ROUND(GREATEST(wilson_low, 0.0), 4) AS flake_rate_low,
    ROUND(LEAST(wilson_high, 1.0), 4) AS flake_rate_high,
    first_flake,
    last_flake
FROM scored
WHERE $all OR status = 'flaky'
ORDER BY score DESC, flaky_commits DESC, failure_rate DESC, test;

-- delivery_runs: every pipeline run of a known commit, with what the path to production
-- needs of it (src/analysis/delivery): which pull request it checks, what started it,
-- when it ran. Whether it is a pull-request check or a default-branch run depends on
-- the default branches, a setting: src/analysis/delivery/history.rs decides.
SELECT
    run_key,
    repo,
    pipeline,
    branch,
    "commit",
    trigger,
    change_id,
    change_title,
    base_branch,
    CAST(start_time AS BIGINT) AS start_ns,
    CAST(start_time AS BIGINT) + duration_ns AS end_ns,
    failed
FROM pipeline_runs
WHERE "commit" IS NOT NULL
ORDER BY start_ns, run_key;

"""Reads a pipescope store with DuckDB and with polars, as plain Parquet, and prints
the pipeline failure rate per branch computed by each engine as JSON:
{"duckdb": [[branch, runs, failed], ...], "polars": [...]}.

A pipeline run is a trace with a span whose role is 'pipeline'; it failed when such a
span's outcome is fail, error or timeout (the definition of queries/views.sql).
"""
import json
import sys

import duckdb
import polars as pl

store = sys.argv[1]
files = f"{store}/spans/*/*.parquet"

con = duckdb.connect()
by_duckdb = con.execute(
    f"""
    WITH runs AS (
        SELECT trace_id, max(branch) AS branch,
               bool_or(outcome IN ('fail', 'error', 'timeout')) AS failed
        FROM read_parquet('{files}', hive_partitioning = true)
        WHERE role = 'pipeline'
        GROUP BY trace_id
    )
    SELECT branch, count(*) AS runs, sum(CASE WHEN failed THEN 1 ELSE 0 END) AS failed
    FROM runs GROUP BY branch ORDER BY branch
    """
).fetchall()

spans = pl.scan_parquet(files, hive_partitioning=True)
by_polars = (
    spans.filter(pl.col("role") == "pipeline")
    .group_by("trace_id")
    .agg(
        pl.col("branch").max(),
        pl.col("outcome").is_in(["fail", "error", "timeout"]).any().alias("failed"),
    )
    .group_by("branch")
    .agg(pl.len().alias("runs"), pl.col("failed").sum().alias("failed"))
    .sort("branch")
    .collect()
)

# The attribute maps must read as maps too, not as opaque blobs.
attrs = con.execute(
    f"SELECT count(*) FROM read_parquet('{files}') WHERE cardinality(attributes) > 0"
).fetchone()[0]

print(
    json.dumps(
        {
            "duckdb": [[b, int(r), int(f)] for b, r, f in by_duckdb],
            "polars": [[b, int(r), int(f)] for b, r, f in by_polars.iter_rows()],
            "spans_with_attributes": int(attrs),
        }
    )
)

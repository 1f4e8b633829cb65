"""Runs one of pipescope's named queries in DuckDB over a pipescope store, the way
pipescope's engine sees the store, and prints {"rows": …, "query_s": …} as JSON.

    python duck.py STORE QUERY [NAME=JSON ...]     e.g. flaky all=true

bench.py runs it as a process of its own under /usr/bin/time -v, so that its wall time
and peak RSS are DuckDB's whole process (Python start and import included), the same
measure as pipescope's.
"""

import json
import sys
import time
from pathlib import Path

import duckdb

QUERIES = Path(__file__).resolve().parents[2] / "queries"

# store::schema::TRACE_FACT_COLUMNS: the trace-level facts a span may lack when stored
# and learns from the trace-facts table (src/query/engine.rs, completed_spans_sql).
TRACE_FACT_COLUMNS = [
    "pipeline", "run_id", "attempt", "branch", "commit",
    "repo", "trigger", "change_id", "change_title", "base_branch",
]


def open_store(store: Path) -> duckdb.DuckDBPyConnection:
    """`all_spans` and `spans` as Engine::open defines them (no filters: the whole store)."""
    # A pending compaction's inputs and output both match the glob below (pipescope
    # reads only one of them, store::journal): DuckDB would count their spans twice.
    if any((store / "compaction").glob("*.json")):
        sys.exit(f"error: {store} has a pending compaction; run `pipescope compact` first")
    con = duckdb.connect(config={"threads": 2})
    # DataFusion truncates days and weeks in UTC; DuckDB would use the machine's zone.
    con.execute("SET TimeZone = 'UTC'")
    # `date` stays a string, as pipescope registers the partition column.
    con.execute(
        f"""CREATE VIEW spans_stored AS SELECT * FROM read_parquet(
            '{store}/spans/*/*.parquet', hive_partitioning = true, hive_types = {{'date': VARCHAR}})"""
    )
    if any((store / "traces").glob("*.parquet")):
        con.execute(f"CREATE VIEW trace_facts_stored AS SELECT * FROM read_parquet('{store}/traces/*.parquet')")
        facts = ", ".join(f'MAX("{c}") AS "{c}"' for c in TRACE_FACT_COLUMNS)
        completed = ", ".join(f'COALESCE(s."{c}", f."{c}") AS "{c}"' for c in TRACE_FACT_COLUMNS)
        con.execute(
            f"""CREATE VIEW all_spans AS
                SELECT s.* REPLACE ({completed})
                FROM spans_stored s
                LEFT JOIN (SELECT trace_id, {facts} FROM trace_facts_stored GROUP BY trace_id) f
                ON s.trace_id = f.trace_id"""
        )
    else:
        # Engine::open skips the join when there is no facts file; read_parquet would fail.
        con.execute("CREATE VIEW all_spans AS SELECT * FROM spans_stored")
    con.execute("CREATE VIEW spans AS SELECT * FROM all_spans")
    return con


def duckdb_dialect(sql: str) -> str:
    """The minimal translations from DataFusion's SQL to DuckDB's."""
    # DataFusion's btrim is DuckDB's trim.
    sql = sql.replace("btrim(", "trim(")
    # DuckDB cannot CAST a TIMESTAMPTZ to BIGINT; DataFusion's cast gives epoch ns.
    for column in ("last_end", "first_start"):
        sql = sql.replace(f"CAST({column} AS BIGINT)", f"epoch_ns({column})")
    return sql


def main() -> None:
    store, query, *pairs = sys.argv[1:]
    params = {k: json.loads(v) for k, v in (p.split("=", 1) for p in pairs)}
    started = time.perf_counter()
    con = open_store(Path(store))
    # The test identity views come first, as pipescope creates them; DuckDB always
    # builds the aliases (pipescope skips them for a window without bare names).
    for views in ("test_id_aliases.sql", "views.sql"):
        con.execute(duckdb_dialect((QUERIES / views).read_text()))
    # The answer is materialised in DuckDB, every column and in order, as pipescope
    # collects its batches; fetching it into Python objects would time Python (and
    # needs pytz for the timestamps). Parameters are bound, as pipescope binds them.
    sql = duckdb_dialect((QUERIES / f"{query}.sql").read_text())
    con.execute(f"CREATE TEMP TABLE answer AS {sql}", params)
    (rows,) = con.execute("SELECT count(*) FROM answer").fetchone()
    print(json.dumps({"rows": rows, "query_s": round(time.perf_counter() - started, 4)}))


if __name__ == "__main__":
    main()

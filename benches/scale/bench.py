"""Whole-process benchmark of pipescope against DuckDB on the same store (issue 9).

For each size: generate the bench corpus and ingest it (both cached), then run every
analysis as its own process under /usr/bin/time -v, and each named query's SQL in
DuckDB (duck.py) the same way. Prints markdown tables on stdout and writes the raw
figures, command lines included, to <bench dir>/results-<N>.json. Started by `run`.

Any failing command stops the run with its stderr; a DuckDB answer with another row
count than pipescope's for the same SQL is printed as a MISMATCH and fails the run.
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUERIES = HERE.parents[1] / "queries"

# (label, named query, parameters): the pipescope command whose SQL it is is the label.
DUCKDB_PAIRS = [("flaky --all", "flaky", {"all": True})] + [
    (f"failures --by {by}{' --bucket day' if bucket == 'day' else ''}", f"failures_by_{by}", {"bucket": bucket})
    for by in ("branch", "pipeline", "task", "test")
    for bucket in ("none", "day")
]


def log(*parts) -> None:
    print(*parts, file=sys.stderr, flush=True)


def timed(label: str, argv: list, stdout=None) -> dict:
    """Runs argv under /usr/bin/time -v; returns its wall time and peak RSS. stdout goes
    to the file `stdout` (default /dev/null). A nonzero exit ends the benchmark."""
    log(f"  {label}: {' '.join(map(str, argv))}")
    with tempfile.NamedTemporaryFile("r") as report, tempfile.TemporaryFile("w+") as err:
        with open(stdout or os.devnull, "w") as out:
            code = subprocess.call(["/usr/bin/time", "-v", "-o", report.name, *map(str, argv)], stdout=out, stderr=err)
        if code != 0:
            err.seek(0)
            sys.exit(f"error: {label} exited with {code}:\n{err.read()[-4000:]}")
        text = report.read()
    wall = re.search(r"Elapsed \(wall clock\) time .*: (?:(\d+):)?(\d+):([\d.]+)", text)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    hours, minutes, seconds = wall.groups()
    return {
        "label": label,
        "argv": [str(a) for a in argv],
        "wall_s": int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds),
        "rss_kb": int(rss.group(1)),
    }


def du(*paths: Path) -> int:
    out = subprocess.run(["du", "-sbc", *map(str, paths)], check=True, capture_output=True, text=True).stdout
    return int(out.strip().splitlines()[-1].split()[0])


def rows_of(path: Path) -> list:
    return json.loads(path.read_text())["rows"]


def prepare(bin: str, cache: Path, spans: int, days) -> dict:
    """The corpus and the store of one size, made once: a stamp is written only after
    each step completed, so an interrupted run starts that step again."""
    data, store = cache / "data", cache / "store"
    if not (cache / "data.done").exists():
        shutil.rmtree(data, ignore_errors=True)
        synth = [bin, "synth", "--preset", "bench", "--spans", spans, "--out", data]
        if days is not None:
            synth += ["--days", days]
        timed("synth", synth)
        (cache / "data.done").write_text(" ".join(map(str, synth)) + "\n")
    stamp = cache / "ingest.json"
    if stamp.exists():
        log(f"  ingest: reusing {store} (delete {stamp} to ingest again)")
        return json.loads(stamp.read_text())
    shutil.rmtree(store, ignore_errors=True)
    ingest = timed("ingest", [bin, "ingest", "--data", store, "--quiet", data])
    count = cache / "count.json"
    timed("count", [bin, "sql", "--data", store, "--format", "json", "SELECT count(*) AS n FROM spans"], count)
    stored = rows_of(count)[0]["n"]
    input_bytes = du(data)
    store_bytes = du(store / "spans", store / "traces")
    ingest.update(
        input_bytes=input_bytes,
        stored_spans=stored,
        store_bytes=store_bytes,
        spans_per_s=round(stored / ingest["wall_s"]),
        mb_per_s=round(input_bytes / 1e6 / ingest["wall_s"], 1),
        bytes_per_span=round(store_bytes / stored, 1),
    )
    stamp.write_text(json.dumps(ingest, indent=2))
    return ingest


def last_start(bin: str, store: Path) -> datetime.datetime:
    """The newest span's start: the end of the data, where `--since 1d` counts from."""
    sql = "SELECT max(start_time) AS last FROM spans"
    out = subprocess.run([bin, "sql", "--data", store, "--format", "json", sql], check=True, capture_output=True, text=True)
    return datetime.datetime.fromisoformat(json.loads(out.stdout)["rows"][0]["last"])


def rfc3339(t: datetime.datetime) -> str:
    return t.isoformat(timespec="seconds").replace("+00:00", "Z")


def sql_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "'" + str(value).replace("'", "''") + "'"


def pipescope_sql(query: str, params: dict, cache: Path) -> Path:
    """The named query with its parameters written into the text: `pipescope sql` binds
    none, and this SQL is ours, so formatting it in is safe here."""
    sql = (QUERIES / f"{query}.sql").read_text()
    sql = re.sub(r"\$(\w+)", lambda m: sql_literal(params[m.group(1)]) if m.group(1) in params else m.group(0), sql)
    path = cache / "sql" / f"{query}-{'-'.join(map(str, params.values()))}.sql"
    path.parent.mkdir(exist_ok=True)
    path.write_text(sql)
    return path


def bench(bin: str, python: str, cache: Path, spans: int, days) -> dict:
    cache.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    ingest = prepare(bin, cache, spans, days)
    store = cache / "store"
    out = cache / "out"
    out.mkdir(exist_ok=True)

    def ps(label, *args, stdout=None):
        return timed(label, [bin, *args, "--data", store], stdout)

    # The bench corpus lies in the past (it starts 2025-06-01), so `--since 1d` would
    # select nothing: the last day is counted back from the newest span instead.
    last = last_start(bin, store)
    since, baseline = rfc3339(last - datetime.timedelta(days=1)), rfc3339(last - datetime.timedelta(days=15))
    until = rfc3339(last + datetime.timedelta(seconds=1))

    runs = [ps("flaky", "flaky", "--format", "json", stdout=out / "flaky.json")]
    flaky = rows_of(out / "flaky.json")
    if not flaky:
        sys.exit("error: `flaky` found no flaky test to compare; the bench corpus plants some")
    worst = flaky[0]["test"]
    runs += [
        ps("flaky --all", "flaky", "--all", "--format", "json"),
        ps("compare --test <worst flaky>", "compare", "--test", worst, "--format", "json"),
        ps("compare --flaky", "compare", "--flaky", "--format", "json"),
        ps("bottlenecks --by task", "bottlenecks", "--by", "task", "--format", "json"),
        ps("bottlenecks --by step", "bottlenecks", "--by", "step", "--format", "json"),
    ]
    for by in ("branch", "pipeline", "task", "test", "cause"):
        runs.append(ps(f"failures --by {by}", "failures", "--by", by, "--format", "json"))
        runs.append(ps(f"failures --by {by} --bucket day", "failures", "--by", by, "--bucket", "day", "--format", "json"))
    runs += [
        # main's last day judged against its two weeks before; --exit-zero because a
        # violation is an answer here, not a failure of the command.
        ps("gate", "gate", "--current", f"branch=main,since={since}",
           "--baseline", f"branch=main,since={baseline},until={since}", "--format", "json", "--exit-zero"),
        ps("report (last 7 days)", "report", "--since", "7d", "--until", until, "--format", "json", "--out", os.devnull),
        ps("sql count(*)", "sql", "SELECT count(*) FROM spans", "--format", "json"),
    ]
    by_label = {r["label"]: r for r in runs}

    pairs, mismatches = [], []
    for label, query, params in DUCKDB_PAIRS:
        tag = f"{query} {json.dumps(params)}"
        answer = out / f"sql-{query}-{'-'.join(map(str, params.values()))}.json"
        mine = ps(f"sql -f {tag}", "sql", "-f", pipescope_sql(query, params, cache), "--format", "json", stdout=answer)
        mine["rows"] = len(rows_of(answer))
        theirs_out = out / f"duckdb-{query}-{'-'.join(map(str, params.values()))}.json"
        argv = [python, HERE / "duck.py", store, query, *(f"{k}={json.dumps(v)}" for k, v in params.items())]
        theirs = timed(f"duckdb {tag}", argv, theirs_out)
        theirs.update(json.loads(theirs_out.read_text()))
        if mine["rows"] != theirs["rows"]:
            mismatches.append(f"{tag}: pipescope {mine['rows']} rows, DuckDB {theirs['rows']}")
            log(f"  MISMATCH {mismatches[-1]}")
        pairs.append({"label": label, "pipescope": by_label[label], "pipescope_sql": mine, "duckdb": theirs})

    pruning = []
    for label, args in (("flaky --all", ["flaky", "--all"]), ("failures --by branch", ["failures", "--by", "branch"])):
        windowed = ps(f"{label} --since {since}", *args, "--since", since, "--format", "json")
        pruning.append({"label": label, "whole": by_label[label], "last_day": windowed})

    return {
        "spans": spans,
        "days": days,
        "binary": bin,
        "version": subprocess.run([bin, "--version"], check=True, capture_output=True, text=True).stdout.strip(),
        "duckdb": subprocess.run([python, "-c", "import duckdb; print(duckdb.__version__)"],
                                 check=True, capture_output=True, text=True).stdout.strip(),
        "nproc": os.cpu_count(),
        # Other work on the machine slows both sides; the figures are only as good as this.
        "load_average_at_start": load,
        "when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "ingest": ingest,
        "runs": runs,
        "duckdb_pairs": pairs,
        "pruning": {"since": since, "runs": pruning},
        "mismatches": mismatches,
    }


def mib(kb: int) -> str:
    return f"{kb / 1024:.0f} MiB"


def secs(run: dict) -> str:
    return f"{run['wall_s']:.2f} s"


def markdown(r: dict) -> str:
    i = r["ingest"]
    days = f", {r['days']} days" if r["days"] else ""
    # A cached store keeps the figures of the ingest that built it, maybe by another binary.
    by = "" if i["argv"][0] == r["binary"] else f" (by {i['argv'][0]})"
    lines = [
        f"### {i['stored_spans']:,} spans{days}: {r['version']} ({r['binary']}) against DuckDB {r['duckdb']}",
        "",
        f"{r['nproc']} cores, load average {r['load_average_at_start'][0]:.1f} at the start; "
        f"command lines and raw figures in results-*.json.",
        "",
        f"ingest{by}: {secs(i)}, {i['spans_per_s']:,} spans/s, {i['mb_per_s']} MB/s, peak RSS {mib(i['rss_kb'])}; "
        f"store {i['bytes_per_span']} bytes/span ({i['store_bytes']:,} bytes)",
        "",
        "| same SQL | pipescope command | RSS | pipescope `sql -f` | DuckDB (threads=2) | RSS | pipescope / DuckDB | rows |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in r["duckdb_pairs"]:
        mine, sql, theirs = p["pipescope"], p["pipescope_sql"], p["duckdb"]
        rows = f"{sql['rows']}" if sql["rows"] == theirs["rows"] else f"**MISMATCH {sql['rows']} vs {theirs['rows']}**"
        lines.append(
            f"| `{p['label']}` | {secs(mine)} | {mib(mine['rss_kb'])} | {secs(sql)} | {secs(theirs)} "
            f"| {mib(theirs['rss_kb'])} | {mine['wall_s'] / theirs['wall_s']:.2f}× | {rows} |"
        )
    paired = {p["label"] for p in r["duckdb_pairs"]}
    lines += ["", "| pipescope only | wall | peak RSS |", "|---|---|---|"]
    lines += [f"| `{run['label']}` | {secs(run)} | {mib(run['rss_kb'])} |" for run in r["runs"] if run["label"] not in paired]
    # Issue 9's target: the last day of a year costs at most 1/50 of the year.
    lines += ["", f"| `--since {r['pruning']['since']}` (the last day; target ≤ 1/50 on a year) | whole store | last day | ratio |",
              "|---|---|---|---|"]
    for p in r["pruning"]["runs"]:
        whole, last = p["whole"], p["last_day"]
        lines.append(f"| `{p['label']}` | {secs(whole)} | {secs(last)} | 1/{whole['wall_s'] / last['wall_s']:.1f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="benches/scale/run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--bin", required=True, help="the pipescope binary (set by `run`)")
    parser.add_argument("--spans", type=int, action="append", help="store size (repeatable; default 1M and 10M)")
    parser.add_argument("--days", type=int, help="spread the runs over this many days (synth --days)")
    parser.add_argument("--quick", action="store_true", help="200k spans only: fits a session")
    args = parser.parse_args()
    sizes = args.spans or ([200_000] if args.quick else [1_000_000, 10_000_000])
    base = Path(os.environ.get("PIPESCOPE_BENCH_DIR", Path.home() / ".cache" / "pipescope-bench"))
    python = sys.executable  # the venv's, with duckdb (see `run`)
    failed = False
    for spans in sizes:
        name = str(spans) if args.days is None else f"{spans}-{args.days}d"
        log(f"{name} spans, in {base / name}")
        result = bench(args.bin, python, base / name, spans, args.days)
        (base / f"results-{name}.json").write_text(json.dumps(result, indent=2))
        print(markdown(result), flush=True)
        for m in result["mismatches"]:
            log(f"MISMATCH: {m}")
        failed |= bool(result["mismatches"])
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()

"""Where a page's filter change goes: each query's time, page by page.

    .venv/bin/python benchmarks/filter_anatomy.py \
        --db benchmarks/out/full-history-4000000-5/current.duckdb
    .venv/bin/python benchmarks/filter_anatomy.py --db ... --pages guidelines timeline --top 6
    .venv/bin/python benchmarks/filter_anatomy.py --db ... --list-filters

Each page runs in a fresh process with Streamlit's AppTest, as `dashboard_speed.py` runs it
(its ScriptCache kept across runs as the server keeps it; the same three filter changes, after
a first load and a warm rerun; ``--list-filters``: its list filters' changes), with every
`dashboard.queries.run_sql` call timed: a query's name (its `sql/<name>.sql`) and its
milliseconds, the largest first, beside the page's whole rerun. A page's rerun is its queries
and the rest (widgets, charts, Streamlit). Queries run one at a time here (a page asks them in
order), so their times add up to the queries' share.
Results: stdout (Markdown) and benchmarks/out/filter_anatomy.json (``--list-filters``:
filter_anatomy_list_filters.json).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.dashboard_speed import (  # noqa: E402
    FILTERS,
    PAGES,
    SERVER_SCRIPT_CACHE,
    SET_FILTERS,
    list_filters,
    read_through,
)
from benchmarks.ingest_speed import machine  # noqa: E402

_PROBE = (
    SET_FILTERS
    + SERVER_SCRIPT_CACHE
    + r"""
import json, sys, threading, time
from streamlit.testing.v1 import AppTest
from dashboard import queries, serve

app, page, filters = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
serve.preload()
log, lock = [], threading.Lock()
run_sql = queries.run_sql

def timed_run_sql(con, name, params=None, **kwargs):
    start = time.perf_counter()
    try:
        return run_sql(con, name, params, **kwargs)
    finally:
        with lock:
            log.append((name, (time.perf_counter() - start) * 1000))

queries.run_sql = timed_run_sql
at = AppTest.from_file(app, default_timeout=120)
at.switch_page(f"app_pages/{page}.py")
runs = []

def run(label):
    log.clear()
    start = time.perf_counter()
    at.run()
    total = (time.perf_counter() - start) * 1000
    if at.exception:
        raise SystemExit(f"{page}: {at.exception[0].value}")
    runs.append({"run": label, "ms": round(total, 1), "queries": sorted(
        ([name, round(ms, 1)] for name, ms in log), key=lambda q: -q[1])})

run("first load")
run("warm rerun")
for number, change in enumerate(filters, start=1):
    set_filters(at, filters, change)
    run(f"change {number}")
print(json.dumps(runs))
"""
)


@dataclass(frozen=True)
class Run:
    """One run of a page: its label, its milliseconds, and its queries' (largest first)."""

    run: str
    ms: float
    queries: list[tuple[str, float]]


def probe(db: Path, page: str, filters: list[dict[str, list[Any]]]) -> list[Run]:
    """The page's runs under the filter changes, in a fresh process."""
    env = {"IMR_DB": str(db.resolve()), "PATH": "/usr/bin:/bin"}
    app = str(ROOT / "dashboard" / "app.py")
    command = [sys.executable, "-c", _PROBE, app, page, json.dumps(filters)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return [
        Run(run["run"], run["ms"], [(name, ms) for name, ms in run["queries"]])
        for run in json.loads(done.stdout.strip().splitlines()[-1])
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="a warehouse (its published link)")
    parser.add_argument("--pages", nargs="+", choices=PAGES, default=PAGES)
    parser.add_argument("--top", type=int, default=5, help="queries shown per run (default 5)")
    parser.add_argument(
        "--list-filters",
        action="store_true",
        help="dashboard_speed.py's list filter changes (drug, specialty, reason with source)",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    filters = FILTERS
    if args.list_filters:
        import duckdb

        with duckdb.connect(str(args.db), read_only=True) as con:
            filters = list_filters(con)
    print(f"machine: {machine()}")
    print(f"filter changes: {json.dumps(filters)}")
    print("| page | run | rerun (ms) | its queries (ms) | the largest (ms) |")
    print("|---|---|---|---|---|")
    pages: dict[str, list[dict[str, object]]] = {}
    for page in args.pages:
        read_through(args.db)
        runs = probe(args.db, page, filters)
        pages[page] = [asdict(run) for run in runs]
        for run in runs:
            spent = sum(ms for _, ms in run.queries)
            largest = ", ".join(f"{name} {ms:.0f}" for name, ms in run.queries[: args.top])
            print(f"| {page} | {run.run} | {run.ms:.0f} | {spent:.0f} | {largest} |")
    results = {"machine": machine(), "filters": filters, "pages": pages}
    name = "filter_anatomy_list_filters.json" if args.list_filters else "filter_anatomy.json"
    (OUT / name).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()

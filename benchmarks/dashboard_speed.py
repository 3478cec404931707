"""Dashboard server time and memory on a large warehouse (default: 1,000,000 disputed items).

    .venv/bin/python benchmarks/dashboard_speed.py                  # builds the warehouse once
    .venv/bin/python benchmarks/dashboard_speed.py --db path/to/current.duckdb
    .venv/bin/python benchmarks/dashboard_speed.py --db path/to/current.duckdb --list-filters

The warehouse is built end to end: a synthetic corpus (zip archives, `imr demo-corpus --archive`)
ingested by `imr ingest`. Each page is then measured in a fresh process with Streamlit's AppTest,
which runs the page script exactly as the server does, minus the network, in one session:
- server start: what the server does before it accepts a visitor (`dashboard.serve.preload`,
  as `imr dashboard` does: it imports every module the pages import; nothing is queried);
- first load: then the first run of the page in that process (cold connection and caches);
- warm rerun: the same page again (what a widget interaction without a new filter costs);
- filter change: the sidebar filters set to values not seen before (cold query cache) and the
  page rerun, median of 3 changes, then each of them (``--list-filters``: changes of list
  filters, whose items hold several values: a drug, a reviewer specialty, a reason with a
  guideline source; their values the warehouse's own, by rank in its facet mart). These are
  the first reads of the filters' columns in the process: DuckDB reads them into its buffers;
- warm filter change: then the same filters set to other values (``FILTERS_AGAIN``,
  ``LIST_FILTERS_AGAIN``: the queries of the new values new to the query cache; a query of the
  filters left as they were, such as the items under the decision alone beside a new year
  range, answered from it as on a server), their columns in DuckDB's buffers, as on a server
  that has answered such a filter before (the issue's "warm");
- new session: then the page opened in a new session of the same process with every cache
  emptied (Streamlit's data and resource caches: a new connection, every query run again), as
  a visitor of a running server whose view nobody has opened since the last ingest.
Before each page the warehouse file and its search index are read once, so the page reads them
from the OS's cache, as on a server that has been answering (``--cold``: not; the first reads of
a column then wait on the disk). Peak memory is the process's maximum resident set size.
AppTest compiles the app's and the page's scripts again on every run (a new ScriptCache per
run); a server compiles them once per process (streamlit/runtime/runtime.py: one ScriptCache),
so the probe keeps one ScriptCache across its runs, as the server does (``SERVER_SCRIPT_CACHE``):
every run but the first would otherwise pay 1-15 ms a server never pays. AppTest also runs
with Streamlit's defaults, not the project's settings (``dashboard/.streamlit/config.toml``,
which ``imr dashboard`` passes to the server): with usage statistics on, every Streamlit
command of a run gathered its telemetry (5-10 ms a rerun on the Reasons page). The probe sets
the server's options first (also ``SERVER_SCRIPT_CACHE``).
Results: stdout (Markdown) and benchmarks/out/dashboard.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from duckdb import DuckDBPyConnection

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_speed import cpu_line, cpu_shares, host_cpu, machine  # noqa: E402

# Every page but Similar decisions, which needs a decision to start from.
PAGES = sorted(
    p.stem for p in (ROOT / "dashboard" / "app_pages").glob("*.py") if p.stem != "similar"
)
# One new filter value per "filter change" run: each is a query the cache has not seen.
FILTERS: list[dict[str, list[Any]]] = [
    {"drug_class": ["Opioids"]},
    {"category": ["Diagnostic Testing"]},
    {"decision": ["Overturned"], "injury_year": [2005, 2015]},
]
# The warm changes: the same filters set to other values, after the changes above.
FILTERS_AGAIN: list[dict[str, list[Any]]] = [
    {"drug_class": ["Muscle Relaxant"]},
    {"category": ["Rehabilitation"]},
    {"decision": ["Overturned"], "injury_year": [2006, 2016]},
]
# --list-filters: the same on list filters (an item holds several values), their values read
# from the warehouse's facet mart: (dimension, rank of the value by items) per change.
LIST_FILTERS = [
    [("drug", 20)],
    [("specialty", 0)],
    [("reason", 2), ("guideline_source", 1)],
]
# Their warm changes: the drug and the specialty next by items, and the second reason by
# items with the same guideline source (532,770 items at 4M, against the pair's 358,507).
LIST_FILTERS_AGAIN = [
    [("drug", 21)],
    [("specialty", 1)],
    [("reason", 1), ("guideline_source", 1)],
]

# How a probe sets the sidebar to one of the changes (Python source, run in the probe):
# every multiselect a change names set (the others emptied), the year range set, or whole
# (no filter) when the change names none.
SET_FILTERS = r"""
def set_filters(at, filters, change):
    keys = sorted({key for each in filters for key in each if key != "injury_year"})
    for key in keys:
        at.multiselect(key=key).set_value(change.get(key, []))
    slider = at.slider(key="injury_year")
    low, high = change.get("injury_year", (slider.min, slider.max))
    slider.set_range(int(low), int(high))
"""

# One ScriptCache for all of a probe's AppTest runs, as the server keeps one per process
# (AppTest makes a new one per run, so each run compiled the app's and the page's scripts);
# and the server's Streamlit options (AppTest runs with Streamlit's defaults).
SERVER_SCRIPT_CACHE = r"""
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import app_test, local_script_runner
from dashboard.serve import use_server_options
use_server_options()
_server_script_cache = ScriptCache()
app_test.ScriptCache = local_script_runner.ScriptCache = lambda: _server_script_cache
"""

_PROBE = (
    SET_FILTERS
    + SERVER_SCRIPT_CACHE
    + r"""
import json, resource, statistics, sys, time
from streamlit.testing.v1 import AppTest
app, page = sys.argv[1], sys.argv[2]
filters, again = json.loads(sys.argv[3]), json.loads(sys.argv[4])

def timed(at):
    start = time.perf_counter()
    at.run()
    seconds = time.perf_counter() - start
    if at.exception:
        raise SystemExit(f"{page}: {at.exception[0].value}")
    return seconds

# The server's start, as `imr dashboard` starts it (dashboard/serve.py).
start = time.perf_counter()
from dashboard import serve
serve.preload()
server_start = time.perf_counter() - start
# One session, as a reader has it: open the page, rerun it, then change the sidebar filters.
at = AppTest.from_file(app, default_timeout=120)
at.switch_page(f"app_pages/{page}.py")
first = timed(at)
warm = timed(at)
def changed(at, sequence):  # each change set in turn (the others' filters emptied), timed
    times = []
    for change in sequence:
        set_filters(at, filters + again, change)
        times.append(timed(at))
    return times

changes = changed(at, filters)
warm_changes = changed(at, again)
# A new session on this running server, every cache emptied: the page's queries all run again
# (a visitor whose view nobody has opened since the last ingest), its modules imported already.
import streamlit as st
st.cache_data.clear()
st.cache_resource.clear()
fresh = AppTest.from_file(app, default_timeout=120)
fresh.switch_page(f"app_pages/{page}.py")
new_session = timed(fresh)
print(json.dumps({
    "server_start_ms": round(server_start * 1000),
    "first_load_ms": round(first * 1000),
    "warm_rerun_ms": round(warm * 1000),
    "filter_change_ms": round(statistics.median(changes) * 1000),
    "filter_changes_ms": [round(change * 1000) for change in changes],
    "warm_filter_change_ms": round(statistics.median(warm_changes) * 1000),
    "warm_filter_changes_ms": [round(change * 1000) for change in warm_changes],
    "new_session_ms": round(new_session * 1000),
    "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}))
"""
)


def list_filters(
    con: DuckDBPyConnection, changes: list[list[tuple[str, int]]] = LIST_FILTERS
) -> list[dict[str, list[Any]]]:
    """``changes`` (LIST_FILTERS) with the warehouse's own values."""
    return [
        {
            name: [
                con.execute(
                    "select value from facet_counts where dimension = ?"
                    " order by items desc, value limit 1 offset ?",
                    [name, rank],
                ).fetchone()[0]  # type: ignore[index]
            ]
            for name, rank in change
        }
        for change in changes
    ]


def build_warehouse(items: int, seed: int) -> Path:
    from benchmarks.full_history import corpus_for

    corpus = corpus_for(items, seed)  # corpus-archive-<letters>-<seed>
    db = OUT / corpus.name.replace("corpus-archive", "warehouse", 1) / "current.duckdb"
    if not db.exists():
        print(f"ingesting into {db} ...", flush=True)
        start = time.perf_counter()
        command = [sys.executable, "-m", "etl.cli", "ingest", str(corpus), "--db", str(db)]
        subprocess.run([*command, "--quiet"], cwd=ROOT, check=True)
        print(f"ingested in {time.perf_counter() - start:.0f} s", flush=True)
    return db


def read_through(db: Path) -> float:
    """Read the published warehouse file and its search index once, in big blocks, so that the
    pages read them from the OS's cache (the issue's "warm"); seconds taken (a fraction of one
    when they were cached already). This machine's host drops the cache of files unread for a
    while: a first read from disk (about 150 MB/s) made a filter change seconds long."""
    start = time.perf_counter()
    version = db.resolve()
    index = version.with_name(version.name + ".search")
    for path in [version, *(sorted(index.iterdir()) if index.is_dir() else [])]:
        with path.open("rb") as handle:
            while handle.read(8 << 20):
                pass
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--db", type=Path)
    parser.add_argument(
        "--list-filters",
        action="store_true",
        help="change list filters (drug, specialty, reason with guideline source) instead",
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="do not read the warehouse into the OS's cache before each page (it may hold it)",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    db = args.db or build_warehouse(args.items, args.seed)

    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    letters, items = con.execute(
        "select count(*), (select count(*) from decisions) from letters"
    ).fetchone() or (0, 0)
    filters = list_filters(con) if args.list_filters else FILTERS
    again = list_filters(con, LIST_FILTERS_AGAIN) if args.list_filters else FILTERS_AGAIN
    con.close()
    results: dict[str, object] = {
        "machine": machine(),
        "letters": letters,
        "items": items,
        "filters": filters,
        "warm_filters": again,
    }
    print(f"filter changes: {json.dumps(filters)}")
    print(f"warm filter changes: {json.dumps(again)}")
    print(f"machine: {results['machine']}")
    print(f"warehouse: {letters:,} letters, {items:,} disputed items")
    print(
        "| page | server start (ms) | first load (ms) | new session (ms) | warm rerun (ms)"
        " | filter change (ms) | each change (ms) | warm change (ms) | each warm change (ms)"
        " | peak RSS (MiB) |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    env = {"IMR_DB": str(db.resolve()), "PATH": "/usr/bin:/bin"}
    pages = {}
    before = host_cpu()
    for page in PAGES:
        if not args.cold:
            pages_read = read_through(db)
            print(
                f"{page}: warehouse read into the OS's cache in {pages_read:.1f} s", file=sys.stderr
            )
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _PROBE,
                str(ROOT / "dashboard" / "app.py"),
                page,
                json.dumps(filters),
                json.dumps(again),
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"{page} failed:\n{done.stderr[-3000:]}")
        row = json.loads(done.stdout.strip().splitlines()[-1])
        pages[page] = row
        print(
            f"| {page} | {row['server_start_ms']} | {row['first_load_ms']} "
            f"| {row['new_session_ms']} | {row['warm_rerun_ms']} "
            f"| {row['filter_change_ms']} | {' / '.join(map(str, row['filter_changes_ms']))} "
            f"| {row['warm_filter_change_ms']} "
            f"| {' / '.join(map(str, row['warm_filter_changes_ms']))} "
            f"| {row['peak_rss_mib']} |",
            flush=True,
        )
    results["pages"] = pages
    results["host_cpu"] = cpu_shares(before, host_cpu())
    print(cpu_line(results["host_cpu"]))  # type: ignore[arg-type]
    results["median_filter_change_ms"] = statistics.median(
        row["filter_change_ms"] for row in pages.values()
    )
    results["median_warm_filter_change_ms"] = statistics.median(
        row["warm_filter_change_ms"] for row in pages.values()
    )
    name = "dashboard_list_filters.json" if args.list_filters else "dashboard.json"
    (OUT / name).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

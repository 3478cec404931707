"""Search speed: the index build, ranked results with snippets, and the search as a filter.

    .venv/bin/python benchmarks/search_speed.py --items 200000        # ingest a fresh corpus
    .venv/bin/python benchmarks/search_speed.py \
        --db benchmarks/out/full-history-4000000-5/current.duckdb --ingest-seconds 1568

Two ways to get a warehouse:

* ``--items N`` (default 4,000,000): the corpus of ``benchmarks/full_history.py`` (generated once,
  zips of 1,000 text letters) ingested by the real ``imr ingest`` into a new warehouse, which
  builds the index as part of the ingest. Reported: the ingest's seconds and, from the index's
  marker, the seconds of its build inside that ingest (the index's share of the ingest time).
* ``--db FILE --as-is``: an existing warehouse and its own index, measured as they are (read
  only); the index's build seconds are those its marker records.
* ``--db FILE``: an existing warehouse, read only. It is copied into this script's own folder
  (its derived table given any column the current dashboard reads that an older build lacks,
  empty), and the index is built whole on the copy, timed; ``--ingest-seconds`` (e.g. the
  full-history run's, from benchmarks/out/full_history.json) gives the share.

Then, on the dashboard's own session (``dashboard.queries.connect``, the functions the pages
call), for a fixed set of queries:

* ranked top 50 with snippets (``dashboard.search.ranked``): each query run twice, the second
  (warm) timed; median and 95th percentile over the set;
* the search as a filter: every match, then the page's headline numbers and its chart by
  category (``queries.summary``, ``queries.rates_by``) for a search the session has not seen.

Results: stdout (Markdown) and benchmarks/out/search_speed.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.full_history import corpus_for, folder_bytes  # noqa: E402
from benchmarks.ingest_speed import machine  # noqa: E402

QUERIES = [
    "norco",
    "lyrica",
    "pregabalin",
    "urine drug screen",
    '"functional improvement"',
    "improv*",
    "opioid* -norco",
    "mri OR ct",
    "physical therapy",
    'rationale:"urine drug screen"',
    "tramadol",
    "epidural steroid injection",
    "acupuncture",
    "knee arthroscopy",
    "drug:norco",
    "lumbar mri",
    "medically necessary",
    "patient",
    "the",
    "request",
]
# Common words: the search as a filter must hold every match of these too.
FILTER_QUERIES = ["norco", "urine drug screen", "patient", "the", "request", "-norco"]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def ingest_fresh(items: int, seed: int, jobs: int) -> tuple[Path, float]:
    corpus = corpus_for(items, seed)
    folder = OUT / f"search-{items}-{seed}"
    shutil.rmtree(folder, ignore_errors=True)  # this script's own folder
    db = folder / "current.duckdb"
    command = [sys.executable, "-m", "etl.cli", "ingest", str(corpus), "--db", str(db)]
    command += ["--quiet", "--jobs", str(jobs)]
    print(f"ingesting {corpus.name} into {db} ...", flush=True)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True)
    return db, time.perf_counter() - start


def copy_and_index(source: Path) -> tuple[Path, dict]:
    """A copy of ``source`` in this script's folder, brought to the columns the dashboard
    reads, with its index built whole (timed)."""
    import duckdb

    from dashboard import dimensions, queries
    from etl.search import store
    from etl.search.build import SearchBuild

    folder = OUT / "search-copy"
    shutil.rmtree(folder, ignore_errors=True)  # this script's own folder
    folder.mkdir(parents=True)
    target = folder / "bench.duckdb"
    print(f"copying {source.resolve()} ...", flush=True)
    shutil.copyfile(source.resolve(), target)
    con = duckdb.connect(str(target), config={"memory_limit": "384MB"})
    try:
        columns = queries.required_columns()["item_facts"]
        have = {
            r[0]
            for r in con.execute(
                "select column_name from duckdb_columns() where table_name = 'item_facts'"
            ).fetchall()
        }
        # Columns of dimensions added since that build: empty (the queries measured here read
        # item_facts only, and no filter but the search is set).
        kinds = {d.column: (d.shape, d.widget) for d in dimensions.DIMENSIONS}
        for column in sorted(columns - have):
            shape, widget = kinds.get(column, ("list", None))
            kind = "varchar[] default []" if shape == "list" else "varchar"
            if widget == "range":
                kind = "integer"
            con.execute(f"alter table item_facts add column {column} {kind}")
        print("building the index whole ...", flush=True)
        build = SearchBuild(target)
        start = time.perf_counter()
        entries = build.build(con, full=True)
        seconds = time.perf_counter() - start
        for key, value in entries.items():
            con.execute("insert or replace into meta values (?, ?)", [key, value])
        con.execute("checkpoint")
    finally:
        con.close()
    marker = store.read_marker(store.index_dir_for(target)) or {}
    return target, {**marker, "measured_seconds": round(seconds, 1)}


def measure_queries(db: Path) -> dict:
    from dashboard import queries, search
    from dashboard.filters import Filters

    con = queries.connect(db.resolve())
    try:
        start = time.perf_counter()
        state = search.index_state(con)
        assert state.index is not None, state.problem
        opened = time.perf_counter() - start
        ranked: list[dict] = []
        for text in QUERIES:
            filters = Filters.build(search=text)
            start = time.perf_counter()
            first = search.ranked(con, filters, 50)
            cold = time.perf_counter() - start
            start = time.perf_counter()
            search.ranked(con, filters, 50)
            warm = time.perf_counter() - start
            compiled = state.index.compile(text)
            ranked.append(
                {
                    "query": text,
                    "matches": state.index.count(compiled),
                    "shown": first.height,
                    "first_ms": round(cold * 1000, 1),
                    "warm_ms": round(warm * 1000, 1),
                }
            )
        queries.summary(con, Filters.build(search="warm up"))  # the session's first search
        filtered: list[dict] = []
        for text in FILTER_QUERIES:
            filters = Filters.build(search=text)
            start = time.perf_counter()
            summary = queries.summary(con, filters)
            summed = time.perf_counter() - start
            start = time.perf_counter()
            queries.rates_by(con, filters, "category")
            chart = time.perf_counter() - start
            filtered.append(
                {
                    "query": text,
                    "items": summary.item(0, "n"),
                    "summary_ms": round(summed * 1000, 1),
                    "by_category_ms": round(chart * 1000, 1),
                }
            )
        documents = state.index.documents
    finally:
        con.close()
    warm_ms = [r["warm_ms"] for r in ranked]
    return {
        "documents": documents,
        "index_open_ms": round(opened * 1000, 1),
        "ranked": ranked,
        "ranked_warm_median_ms": round(statistics.median(warm_ms), 1),
        "ranked_warm_p95_ms": round(percentile(warm_ms, 0.95), 1),
        "filter": filtered,
        "filter_max_ms": max(r["summary_ms"] for r in filtered),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=4_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--db", type=Path, help="an existing warehouse (copied, indexed whole)")
    parser.add_argument("--ingest-seconds", type=float, help="that warehouse's ingest time")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --db: measure the copy and index a previous run built (no copy, no build)",
    )
    parser.add_argument(
        "--as-is",
        action="store_true",
        help="with --db: measure that warehouse and its own index, read only (no copy, no build;"
        " it must be of the current format)",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    from etl.search import store

    copy = OUT / "search-copy" / "bench.duckdb"
    previous = store.read_marker(store.index_dir_for(copy)) if args.reuse else None
    if args.db and args.as_is:
        db = args.db
        marker = store.read_marker(store.index_dir_for(db.resolve())) or {}
        ingest_seconds = args.ingest_seconds
        build_seconds = marker.get("build_seconds")
    elif args.db and previous and previous.get("state") == store.COMPLETE:
        db, marker = copy, {**previous, "measured_seconds": previous["build_seconds"]}
        ingest_seconds = args.ingest_seconds
        build_seconds = marker["measured_seconds"]
    elif args.db:
        db, marker = copy_and_index(args.db)
        ingest_seconds = args.ingest_seconds
        build_seconds = marker["measured_seconds"]
    else:
        db, ingest_seconds = ingest_fresh(args.items, args.seed, args.jobs)
        marker = store.read_marker(store.index_dir_for(db.resolve())) or {}
        build_seconds = marker.get("build_seconds")
    index_folder = store.index_dir_for(db.resolve())
    results = {
        "machine": machine(),
        "warehouse": str(db),
        "documents": marker.get("documents"),
        "index_build_seconds": build_seconds,
        "index_documents_per_second": round(marker.get("documents", 0) / build_seconds)
        if build_seconds
        else None,
        "index_mib": round(folder_bytes(index_folder) / 2**20),
        "ingest_seconds": round(ingest_seconds, 1) if ingest_seconds else None,
        "index_share_of_ingest": round(build_seconds / (ingest_seconds - build_seconds), 3)
        if ingest_seconds and build_seconds and not args.db
        else (round(build_seconds / ingest_seconds, 3) if ingest_seconds else None),
        **measure_queries(db),
    }
    (OUT / "search_speed.json").write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k not in ("ranked", "filter")}, indent=2))
    print("\n| query | matches | first (ms) | warm (ms) |\n|---|---|---|---|")
    for row in results["ranked"]:
        print(f"| `{row['query']}` | {row['matches']:,} | {row['first_ms']} | {row['warm_ms']} |")
    print("\n| q as a filter | items | headline numbers (ms) | by category (ms) |")
    print("|---|---|---|---|")
    for row in results["filter"]:
        print(
            f"| `{row['query']}` | {row['items']:,} | {row['summary_ms']} | "
            f"{row['by_category_ms']} |"
        )


if __name__ == "__main__":
    main()

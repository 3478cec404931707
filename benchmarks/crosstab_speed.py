"""Explore's cross-tab at scale: server time of every pair of registry dimensions.

    .venv/bin/python benchmarks/crosstab_speed.py --db path/to/current.duckdb
    .venv/bin/python benchmarks/crosstab_speed.py --db path/to/current.duckdb \\
        --pairs drug:reason drug:state --filters '{"decision": ["Upheld"]}' --runs 5

Each cross-tab is ``queries.crosstab`` (its axes and cells, the default top 12 by 12) on one
session opened as the dashboard opens it (``queries.connect``, the session's 512 MB memory
limit), warm: the first run of a pair is not counted, then the median and the slowest of
``--runs`` more. Which queries ran says which path counted it (``crosstab_axes_bits`` and
``crosstab_bits``: the lists' bits; ``crosstab_axes`` and ``crosstab``: every item's lists).
Default: every unordered pair of the registry's dimensions (one direction), unfiltered.
Results: stdout (Markdown: the pairs over the target first, then a summary) and
benchmarks/out/crosstab.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_speed import machine  # noqa: E402

TARGET_MS = 500  # issue #10: the Explore cross-tab under 500 ms at 4M items


def measure(db: Path, pairs: list[tuple[str, str]], chosen: dict, runs: int) -> list[dict]:
    from dashboard import connection, queries
    from dashboard.filters import Filters

    con = queries.connect(db)
    con.execute(f"set memory_limit = '{connection.MEMORY_LIMIT}'")
    filters = Filters.build(**chosen)
    real, ran = queries.run_sql, []

    def spy(con, name, *args, **kwargs):  # which queries a cross-tab ran
        ran.append(name)
        return real(con, name, *args, **kwargs)

    queries.run_sql = spy
    results = []
    try:
        for rows, cols in pairs:
            queries.crosstab(con, filters, rows, cols)  # warm: the session's fixed answers
            times = []
            for _ in range(runs):
                ran.clear()
                start = time.perf_counter()
                frame = queries.crosstab(con, filters, rows, cols)
                times.append((time.perf_counter() - start) * 1000)
            path = "+".join(name for name in ran if name.startswith("crosstab"))
            results.append(
                {
                    "rows": rows,
                    "cols": cols,
                    "median_ms": round(statistics.median(times)),
                    "max_ms": round(max(times)),
                    "cells": frame.height,
                    "queries": path,
                }
            )
            print(f"  {rows} x {cols}: {results[-1]['median_ms']} ms ({path})", file=sys.stderr)
    finally:
        queries.run_sql = real
        con.close()
    return results


def pair(text: str) -> tuple[str, str]:
    """``rows:cols``: two dimensions of the registry, by name, apart (a name alone, or one not
    in the registry, is refused: it once crossed a dimension with itself)."""
    from dashboard import dimensions

    rows, sep, cols = text.partition(":")
    unknown = [n for n in (rows, cols) if n not in dimensions.BY_NAME]
    if not sep or ":" in cols or unknown or rows == cols:
        known = ", ".join(dimensions.BY_NAME)
        raise argparse.ArgumentTypeError(
            f"{text!r} is not rows:cols, two dimensions apart among: {known}"
        )
    return rows, cols


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the warehouse (its link)")
    parser.add_argument(
        "--pairs", nargs="*", type=pair, help="rows:cols pairs (default: every pair)"
    )
    parser.add_argument("--filters", default="{}", help="Filters.build's arguments, as JSON")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per pair (median)")
    args = parser.parse_args()

    from dashboard import dimensions

    if args.pairs:
        pairs = args.pairs
    else:
        names = [d.name for d in dimensions.DIMENSIONS]
        pairs = list(itertools.combinations(names, 2))
    chosen = json.loads(args.filters)
    results = measure(args.db, pairs, chosen, args.runs)

    slowest_first = sorted(results, key=lambda r: -r["median_ms"])
    over = [r for r in slowest_first if r["median_ms"] >= TARGET_MS]
    times = [r["median_ms"] for r in results]
    print(f"Machine: {machine()}  \nWarehouse: {args.db}  \nFilters: {chosen or 'none'}\n")
    print("| pair | median ms | slowest ms | queries |\n|---|---|---|---|")
    for r in over or slowest_first[:10]:
        line = f"| {r['rows']} × {r['cols']} | {r['median_ms']} | {r['max_ms']} | {r['queries']} |"
        print(line)
    print(
        f"\n{len(results)} pairs: median {statistics.median(times):.0f} ms, slowest "
        f"{max(times)} ms; {len(over)} at or over {TARGET_MS} ms."
    )
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "crosstab.json").write_text(
        json.dumps(
            {"machine": machine(), "db": str(args.db), "filters": chosen, "results": results},
            indent=1,
        ),
        encoding="utf-8",
    )


if __name__ == "__main__":
    main()

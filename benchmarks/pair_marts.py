"""What counting facet_pairs costs, each way, by the number of items counted.

    .venv/bin/python benchmarks/pair_marts.py [--letters 1 100 500 1000 2000 5000] [--rounds 5]

facet_pairs (etl/warehouse/derived.py, ``pair_sql``) is counted either by grouping-sets passes
(97 queries, or their union in one) or, for a few items, by one join of each item's values
with each other (``long_pair_sql``). The passes cost about 5 ms of planning each whatever the
items; the join's rows grow as the square of an item's values. For each corpus size: a
synthetic corpus ingested into a new warehouse, then each way over its ``item_facts`` on a
connection configured as a build's (its memory cap, its spill folder), the median of
``--rounds`` runs, and whether the ways gave the same rows. The build uses the long form up to
``derived.LONG_FORM_ITEMS`` items (fewer under a small memory cap).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from benchmarks.ingest_speed import machine  # noqa: E402
from etl.demo import write_corpus  # noqa: E402
from etl.ingest import ingest  # noqa: E402
from etl.settings import Settings  # noqa: E402
from etl.warehouse import derived  # noqa: E402
from etl.warehouse.files import resolve  # noqa: E402

# (name, long_form, one_query) of derived.pair_sql
WAYS = (("long form", True, False), ("passes", False, False), ("union of passes", False, True))


def measure(folder: Path, letters: int, rounds: int, memory: str) -> str:
    corpus = folder / f"corpus-{letters}"
    write_corpus(corpus, letters=letters, seed=3, pdf_share=0.0)
    settings = Settings(db=folder / f"wh-{letters}" / "current.duckdb", jobs=0)
    ingest([corpus], settings)
    copy = folder / f"scratch-{letters}.duckdb"
    copy.write_bytes(resolve(settings.db).read_bytes())
    con = duckdb.connect(
        str(copy),
        config={
            "memory_limit": memory,
            "temp_directory": str(copy) + ".tmp",
            "preserve_insertion_order": False,
        },
    )
    try:
        con.execute("create temp table scope_facts as from item_facts")
        counted = con.execute("select count(*) from scope_facts").fetchone()
        items = counted[0] if counted else 0
        cells, results = [], []
        for _, long_form, one_query in WAYS:
            queries = derived.pair_sql("scope_facts", long_form, one_query)
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                rows = [row for sql in queries for row in con.execute(sql).fetchall()]
                times.append(time.perf_counter() - start)
            cells.append(f"{statistics.median(times) * 1000:,.0f}")
            results.append(sorted(rows, key=repr))
        same = all(r == results[0] for r in results)
        return (
            f"| {letters:,} | {items:,} | {len(results[0]):,} | {' | '.join(cells)} |"
            f" {'yes' if same else '**no**'} |"
        )
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, nargs="+", default=[1, 100, 500, 1000, 2000, 5000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--memory", default="384MB", help="the build's DuckDB memory cap")
    args = parser.parse_args()
    print(machine())
    print(f"build memory cap {args.memory}; long form up to {derived.LONG_FORM_ITEMS:,} items")
    print(
        "| letters | items | rows | long form (ms) | 97 passes (ms) | their union (ms) |"
        " same rows |"
    )
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        for letters in args.letters:
            print(measure(Path(folder), letters, args.rounds, args.memory), flush=True)


if __name__ == "__main__":
    main()

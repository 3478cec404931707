"""Where the build's DuckDB time goes, statement by statement (issue 10: profile before optimising).

    .venv/bin/python benchmarks/build_statements.py --items 40000   # 14,815 letters, half a minute
    .venv/bin/python benchmarks/build_statements.py                 # 4,000,000 items, ~20 minutes

Runs the real ingest in this process (``--jobs`` workers) on the corpus of
``benchmarks/full_history.py`` (generated once, shared with it) into a warehouse of its own, with
the build's DuckDB connection wrapped so that every ``execute`` is timed. Statements that differ
only in their literals (a load group's Parquet files, a name) count as one. Prints the build's
phases (meta ``build_seconds``) and the statements that took longest, and writes
benchmarks/out/build_statements.json. Not timed here, only in their phases: the pair marts'
passes when they run side by side on cursors (facts of one row group) and the search index's
reads of its documents (relations, not ``execute``). A statement's time includes whatever
DuckDB does on its commit, a checkpoint of the log among it. The base tables' loads run on a
cursor in a thread beside the derived tables' update (etl.load._load_groups): their statements
are timed too, and overlap the update's, so the statements' sum can exceed the phase.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import threading
import time
import types
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.full_history import corpus_for, recorded_phases  # noqa: E402
from benchmarks.ingest_speed import machine  # noqa: E402

KEY_CHARS = 150
_SPACE = re.compile(r"\s+")
_FILE_LIST = re.compile(r"read_parquet\(\[[^\]]*\]\)")
_FACTS_BATCH = re.compile(r"\bbuild_facts\.batch_\d+\b")  # a batch's facts (derived.FACTS_DB)
_LITERAL = re.compile(r"'[^']*'")


def statement_key(sql: str) -> str:
    """What a statement is, without its literals: the same for every chunk and value."""
    key = _SPACE.sub(" ", sql.strip())
    key = _FILE_LIST.sub("read_parquet([...])", key)
    key = _FACTS_BATCH.sub("build_facts.batch_?", key)
    return _LITERAL.sub("'?'", key)[:KEY_CHARS]


class StatementTimes:
    """Seconds and calls per statement key; each checkpoint on its own, with when it began
    (seconds since the first statement), to place it in its phase."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self.checkpoints: list[tuple[float, float]] = []  # (began, seconds)
        self._first: float | None = None
        self._lock = threading.Lock()  # the base tables load on a cursor in a thread

    def add(self, sql: str, seconds: float) -> None:
        key = statement_key(sql)
        now = time.perf_counter()
        with self._lock:
            self.seconds[key] += seconds
            self.calls[key] += 1
            if self._first is None:
                self._first = now - seconds
            if key == "checkpoint":
                self.checkpoints.append((round(now - seconds - self._first, 1), round(seconds, 2)))

    def top(self, count: int) -> list[dict[str, Any]]:
        return [
            {"statement": key, "calls": self.calls[key], "seconds": round(seconds, 2)}
            for key, seconds in sorted(self.seconds.items(), key=lambda kv: -kv[1])[:count]
        ]


class TimedConnection:
    """A DuckDB connection whose ``execute`` calls are timed into ``times``; the rest as is."""

    def __init__(self, con: Any, times: StatementTimes) -> None:
        self._con = con
        self._times = times

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)

    def cursor(self) -> TimedConnection:
        return TimedConnection(self._con.cursor(), self._times)

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self._con.execute(sql, *args, **kwargs)
        finally:
            self._times.add(sql, time.perf_counter() - start)


def timed_build(corpus: Path, db: Path, jobs: int) -> tuple[StatementTimes, dict[str, Any]]:
    """Ingest ``corpus`` into a new warehouse at ``db``, the build's statements timed.
    Returns the times and the build's phases and summary."""
    import duckdb

    import etl.load
    from etl.ingest import ingest
    from etl.settings import Settings

    times = StatementTimes()
    timed = types.ModuleType("duckdb")
    timed.__dict__.update(duckdb.__dict__)

    def connect(*args: Any, **kwargs: Any) -> TimedConnection:
        return TimedConnection(duckdb.connect(*args, **kwargs), times)

    timed.connect = connect  # type: ignore[attr-defined]
    original = etl.load.duckdb
    etl.load.duckdb = timed
    try:
        start = time.perf_counter()
        summary = ingest([corpus], Settings(db=db, jobs=jobs))
        seconds = time.perf_counter() - start
    finally:
        etl.load.duckdb = original
    con = duckdb.connect(str(db), read_only=True)
    try:
        phases = recorded_phases(con)
    finally:
        con.close()
    return times, {
        "seconds": round(seconds, 1),
        "letters": summary.letters,
        "items": summary.items,
        "phases": phases,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=4_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    corpus = corpus_for(args.items, args.seed)
    folder = OUT / f"build-statements-{args.items}-{args.seed}"
    shutil.rmtree(folder, ignore_errors=True)  # a folder of this script's own
    times, build = timed_build(corpus, folder / "current.duckdb", args.jobs)
    result = {
        "machine": machine(),
        **build,
        "execute_seconds": round(sum(times.seconds.values()), 1),
        "statements": times.top(args.top),
        "checkpoints": [{"began": b, "seconds": s} for b, s in times.checkpoints],
    }
    print(f"machine: {result['machine']}")
    print(f"{build['letters']:,} letters, {build['items']:,} items: {build['seconds']} s")
    print("phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in build["phases"].items()))
    ends, total = [], 0.0
    for phase, seconds in build["phases"].items():
        total += seconds
        ends.append(f"{phase} {total:.1f}")
    print("phases end at (s into the build): " + ", ".join(ends))
    began = ", ".join(f"{b} ({s})" for b, s in times.checkpoints)
    print(f"checkpoints (began at s, seconds): {began}")
    print("\n| statement | calls | seconds |\n|---|---|---|")
    for row in result["statements"]:
        print(f"| `{row['statement'][:90]}` | {row['calls']:,} | {row['seconds']:.1f} |")
    (OUT / "build_statements.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

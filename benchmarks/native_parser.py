"""The compiled parser against the pure-Python one: the same ingest, alternated.

    .venv/bin/python benchmarks/native_parser.py                  # 100,000 letters, 2 rounds
    .venv/bin/python benchmarks/native_parser.py --items 27000 --rounds 1

Needs a current build (``make native``). Each round ingests the same synthetic corpus (zip
archives of text letters, as the full-history benchmark uses) into a fresh warehouse twice, in
a fresh ``imr ingest`` process each: once with ``IMR_NATIVE=off`` and once with
``IMR_NATIVE=require``, in alternating order, so that the machine's speed, which varies by the
hour, weighs on both alike. Reported: time, CPU of the whole process tree, the parse phase, and
a digest of every row of the letter tables (which must be the same). Results: stdout and
benchmarks/out/native_parser.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.full_history import corpus_for, recorded_phases  # noqa: E402
from benchmarks.ingest_speed import machine  # noqa: E402
from etl.rows import LETTER_TABLES  # noqa: E402

MODES = {"pure": "off", "compiled": "require"}


def rows_digest(db: Path) -> dict[str, list[int]]:
    """Per letter table: its row count and an order-free hash of its rows (but loaded_at)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    digests = {}
    for table in LETTER_TABLES:
        columns = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        kept = ", ".join(f'"{c}"' for c in columns if c != "loaded_at")
        count, digest = con.execute(
            f"select count(*), coalesce(bit_xor(hash(r)), 0) from (select {kept} from {table}) r"
        ).fetchone() or (0, 0)
        digests[table] = [int(count), int(digest)]
    con.close()
    return digests


def ingest(corpus: Path, folder: Path, mode: str) -> dict[str, object]:
    shutil.rmtree(folder, ignore_errors=True)  # a folder of this script's own
    db = folder / "current.duckdb"
    command = [sys.executable, "-m", "etl.cli", "ingest", str(corpus), "--db", str(db)]
    command += ["--quiet", "--jobs", str(os.cpu_count() or 1)]
    env = {**os.environ, "IMR_NATIVE": MODES[mode]}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(getattr(after, f) - getattr(before, f) for f in ("ru_utime", "ru_stime"))
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    phases = recorded_phases(con)
    con.close()
    return {
        "mode": mode,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu, 1),
        "parse_seconds": round(float(phases.get("parse", 0.0)), 1),
        "rows": rows_digest(db),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=270_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from etl import native

    if native.current_build() is None:
        raise SystemExit("no current compiled build of the parser: run `make native` first")
    corpus = corpus_for(args.items, args.seed)
    runs = []
    for round_no in range(args.rounds):
        order = ["pure", "compiled"] if round_no % 2 == 0 else ["compiled", "pure"]
        for mode in order:
            run = ingest(corpus, OUT / "native-parser" / mode, mode)
            run["round"] = round_no + 1
            runs.append(run)
            print(json.dumps({k: v for k, v in run.items() if k != "rows"}), flush=True)
    same_rows = len({json.dumps(run["rows"], sort_keys=True) for run in runs}) == 1

    def middle(mode: str, key: str) -> float:
        return median(float(r[key]) for r in runs if r["mode"] == mode)  # type: ignore[arg-type]

    summary = {
        key: {
            "pure": middle("pure", key),
            "compiled": middle("compiled", key),
            "ratio": round(middle("compiled", key) / middle("pure", key), 3),
        }
        for key in ("seconds", "cpu_seconds", "parse_seconds")
    }
    results = {
        "machine": machine(),
        "parsers": "pure and compiled, alternated (the machine line names the default)",
        "corpus": corpus.name,
        "letters": runs[0]["rows"]["letters"][0],  # type: ignore[index]
        "same_rows": same_rows,
        "medians": summary,
        "runs": runs,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "native_parser.json").write_text(json.dumps(results, indent=2))
    print(json.dumps({k: v for k, v in results.items() if k != "runs"}, indent=2))
    if not same_rows:
        raise SystemExit("the compiled and the pure parser loaded different rows")


if __name__ == "__main__":
    main()

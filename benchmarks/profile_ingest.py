"""Where the time of a text ingest goes, stage by stage (cProfile).

    .venv/bin/python benchmarks/profile_ingest.py                 # 20,000 text letters
    .venv/bin/python benchmarks/profile_ingest.py --letters 5000

Two runs on the same synthetic corpus (zip archives of text letters, as the full-history
benchmark uses), each into a fresh warehouse:

1. ``jobs=0``: everything in one process under cProfile, so every stage is measured: walk and
   read, hash, extract, parse, classify, row building, the writer (buffers and spool), the load
   of the spool into DuckDB, the derived tables, the rest of the publish.
2. ``jobs=2`` (the default on this machine): the main process under cProfile (workers are other
   processes), to see what the parent spends on IPC (sending files, receiving and unpickling
   rows) and how long it waits for the workers.

cProfile slows Python code down, so the shares matter more than the seconds. Results: stdout
(Markdown) and benchmarks/out/profile_ingest.json.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_speed import machine  # noqa: E402

# Stage -> (file suffix, function name) whose cumulative time is the stage's.
STAGES = {
    "walk and read (zip members)": ("etl/inputs.py", "iter_inputs"),
    "hash (SHA-256)": ("etl/pipeline.py", "sha256_of"),
    "extract (decode, clean)": ("etl/extract.py", "extract_text"),
    "parse": ("etl/parse/__init__.py", "parse_letter"),
    "classify": ("etl/classify/__init__.py", "classify_letter"),
    "row building": ("etl/rows.py", "letter_rows"),
    "rows to Arrow (etl.rows.pack, in the worker)": ("etl/rows.py", "pack"),
    "writer: buffers and spool (Parquet)": ("etl/load.py", "add_loaded"),
    "load the spool into DuckDB": ("etl/load.py", "_load_chunks"),
    "derived tables": ("etl/warehouse/derived.py", "build"),
    "publish (all: load, derived, checkpoint, swap)": ("etl/load.py", "publish"),
}
PARENT = {
    "send files to workers": ("etl/workers.py", "_send"),
    "collect results (including the wait below)": ("etl/workers.py", "_collect"),
    "  of which: wait for workers (poll)": ("~", "<method 'poll' of 'select.poll' objects>"),
    "  of which: unpickle rows": ("~", "<built-in method _pickle.loads>"),
    "record rows (writer)": ("etl/ingest.py", "_record"),
    "publish": ("etl/load.py", "publish"),
}


def cumulative(stats: pstats.Stats, where: str, name: str) -> float:
    total = 0.0
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        if function == name and (where == "~" or filename.endswith(where)):
            total += row[3]
    return total


def profiled(corpus: Path, db: Path, jobs: int) -> tuple[float, pstats.Stats, str]:
    from etl.ingest import ingest
    from etl.settings import Settings

    shutil.rmtree(db.parent, ignore_errors=True)  # a folder of this script's own
    profile = cProfile.Profile()
    start = time.perf_counter()
    profile.enable()
    summary = ingest([corpus], Settings(db=db, jobs=jobs))
    profile.disable()
    return time.perf_counter() - start, pstats.Stats(profile), summary.line()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    from etl.demo import write_corpus

    corpus = OUT / f"profile-corpus-{args.letters}-{args.seed}"
    if not (corpus / ".complete").exists():
        shutil.rmtree(corpus, ignore_errors=True)
        write_corpus(corpus, letters=args.letters, seed=args.seed, pdf_share=0.0, archive=True)
        (corpus / ".complete").write_text("")
    results: dict[str, object] = {"machine": machine(), "letters": args.letters}
    print(f"machine: {results['machine']}\n")

    seconds, stats, line = profiled(corpus, OUT / "profile-serial" / "current.duckdb", 0)
    serial = {stage: cumulative(stats, *where) for stage, where in STAGES.items()}
    print(f"jobs=0, under cProfile: {seconds:.1f} s ({line})\n")
    print("| stage | seconds | share of the run |\n|---|---|---|")
    for stage, value in serial.items():
        print(f"| {stage} | {value:.1f} | {value / seconds:.0%} |")
    results["serial"] = {"seconds": round(seconds, 2), "stages": serial}

    seconds, stats, line = profiled(corpus, OUT / "profile-parallel" / "current.duckdb", 2)
    parent = {stage: cumulative(stats, *where) for stage, where in PARENT.items()}
    print(f"\njobs=2, the main process under cProfile: {seconds:.1f} s ({line})\n")
    print("| main process | seconds | share of the run |\n|---|---|---|")
    for stage, value in parent.items():
        print(f"| {stage} | {value:.1f} | {value / seconds:.0%} |")
    results["parallel"] = {"seconds": round(seconds, 2), "main_process": parent}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "profile_ingest.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

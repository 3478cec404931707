"""Ingest speed and memory, end to end (parse + classify + load), on the synthetic corpus.

    .venv/bin/python benchmarks/ingest_speed.py                      # 20,000 text + 600 PDF letters
    .venv/bin/python benchmarks/ingest_speed.py --sizes 5000 10000 20000 --pdf-letters 600

Each measurement runs `imr ingest` in a fresh process on a fresh warehouse and reports letters per
second of wall time and the peak resident memory of the ingest and its workers. Running it at
several sizes shows whether memory stays flat as the corpus grows. Results go to stdout as a
Markdown table and to benchmarks/out/ingest.json; copy them into docs/benchmarks.md with the
machine line it prints.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def corpus(letters: int, seed: int, pdf_share: float) -> Path:
    from etl.demo import write_corpus

    kind = "pdf" if pdf_share else "text"
    folder = OUT / f"corpus-{kind}-{letters}-{seed}"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        write_corpus(folder, letters=letters, seed=seed, pdf_share=pdf_share)
        (folder / ".complete").write_text("")
    return folder


def measure(folder: Path, jobs: int | None) -> dict[str, float]:
    db_dir = OUT / "warehouse"
    shutil.rmtree(db_dir, ignore_errors=True)
    command = [sys.executable, "-m", "etl.cli", "ingest", str(folder), "--quiet"]
    command += ["--db", str(db_dir / "current.duckdb")]
    if jobs:
        command += ["--jobs", str(jobs)]
    # A wrapper process per run, so that the peak memory reported is this run's alone.
    wrapper = (
        "import resource, subprocess, sys;"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "sys.stderr.write(done.stderr); print(done.stdout.splitlines()[0] if done.stdout else '');"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss);"
        "sys.exit(done.returncode)"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *command], cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"ingest failed: {done.stderr}")
    summary, peak_kib = done.stdout.splitlines()[-2:]
    import duckdb

    con = duckdb.connect(str(db_dir / "current.duckdb"), read_only=True)
    letters, items = con.execute(
        "select count(*), (select count(*) from decisions) from letters"
    ).fetchone() or (0, 0)
    con.close()
    return {
        "letters": letters,
        "items": items,
        "seconds": round(seconds, 2),
        "letters_per_second": round(letters / seconds, 1),
        # ru_maxrss is the largest single process seen so far (KiB on Linux).
        "peak_rss_mib": round(int(peak_kib) / 1024, 1),
        "summary": summary,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000])
    parser.add_argument("--pdf-letters", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    results = {"machine": machine(), "runs": []}
    print(f"machine: {results['machine']}")
    print("| corpus | letters | items | seconds | letters/s | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|")
    plans = [("text", size, 0.0) for size in sorted(args.sizes)]
    if args.pdf_letters:
        plans.append(("pdf", args.pdf_letters, 1.0))
    for kind, size, share in plans:
        run = {"corpus": kind, **measure(corpus(size, args.seed, share), args.jobs)}
        results["runs"].append(run)
        print(
            f"| {kind} | {run['letters']:,} | {run['items']:,} | {run['seconds']} "
            f"| {run['letters_per_second']:,} | {run['peak_rss_mib']} |",
            flush=True,
        )
    (OUT / "ingest.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

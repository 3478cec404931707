"""Ingest a synthetic full history (default 4,000,000 disputed items) end to end, and measure it.

    .venv/bin/python benchmarks/full_history.py                   # 4M items, about 1.5M letters
    .venv/bin/python benchmarks/full_history.py --items 400000    # a tenth, for a quick look

The corpus is generated once (`imr demo-corpus --archive`: zips of 1,000 text letters, kept in
benchmarks/out) and ingested by the real `imr ingest` into a new warehouse. While it runs, the
resident memory of the whole process tree (the main process and its workers, summed) is sampled
every 0.2 s, and its CPU time every second. Reported: letters/s end to end, the peak tree RSS
(and a timeline of it every 5 s, with the phases the build recorded), the tree's CPU seconds
(per letter, and the cores each phase kept busy), the warehouse's size on disk per million
items: its version file, and with the search index folder beside it (what a reader needs).
Results: stdout and benchmarks/out/full_history.json.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_speed import cpu_line, cpu_shares, host_cpu, machine  # noqa: E402


def folder_bytes(folder: Path) -> int:
    """The bytes of the files in ``folder`` (a search index folder holds no subfolders)."""
    return sum(p.stat().st_size for p in folder.iterdir() if p.is_file())


def tree_pids(pid: int) -> Iterator[int]:
    """``pid`` and all its descendants that are alive now (Linux /proc)."""
    stack = [pid]
    while stack:
        current = stack.pop()
        yield current
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack += [int(child) for child in handle.read().split()]
        except (OSError, ValueError):
            continue


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants."""
    total, page = 0, os.sysconf("SC_PAGE_SIZE")
    for current in tree_pids(pid):
        try:
            with open(f"/proc/{current}/statm") as handle:
                total += int(handle.read().split()[1]) * page
        except (OSError, ValueError):
            continue
    return total


def tree_cpu(pid: int, seen: dict[int, float]) -> float:
    """CPU seconds (user + system, every thread) used so far by ``pid`` and its descendants:
    ``seen`` keeps each process's last reading, so a worker that has exited still counts."""
    tick = os.sysconf("SC_CLK_TCK")
    for current in tree_pids(pid):
        try:
            with open(f"/proc/{current}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            seen[current] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        except (OSError, ValueError, IndexError):
            continue
    return sum(seen.values())


def phase_cores(
    phases: dict[str, float], cpu: list[tuple[float, float]], seconds: float
) -> dict[str, float]:
    """The process tree's CPU per second of each phase the build recorded: the cores it kept
    busy. The phases run one after another; the start-up before the first and the publishing
    after the last (a second or two in all) are split evenly between the two ends."""
    if not phases or len(cpu) < 2:
        return {}
    at = max(seconds - sum(phases.values()), 0) / 2
    cores = {}
    for name, length in phases.items():
        inside = [(t, c) for t, c in cpu if at <= t <= at + length]
        if length >= 5 and len(inside) >= 2:
            (first, used_before), (last, used_after) = inside[0], inside[-1]
            cores[name] = round((used_after - used_before) / max(last - first, 1e-9), 2)
        at += length
    return cores


def recorded_phases(con: Any) -> dict[str, float]:
    """The seconds of each phase the build recorded in its version's meta (``build_seconds``)."""
    row = con.execute("select value from meta where key = 'build_seconds'").fetchone()
    return json.loads(row[0]) if row else {}


def corpus_for(items: int, seed: int) -> Path:
    from etl.demo import write_corpus

    letters = int(items / 2.7) + 1
    corpus = OUT / f"corpus-archive-{letters}-{seed}"
    if not (corpus / ".complete").exists():
        print(f"generating {letters:,} synthetic letters into {corpus} ...", flush=True)
        summary = write_corpus(corpus, letters=letters, seed=seed, pdf_share=0.0, archive=True)
        (corpus / ".complete").write_text(json.dumps(summary.as_dict(), default=str))
    return corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=4_000_000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    corpus = corpus_for(args.items, args.seed)
    folder = OUT / f"full-history-{args.items}-{args.seed}"
    shutil.rmtree(folder, ignore_errors=True)  # a folder of this script's own
    db = folder / "current.duckdb"
    command = [sys.executable, "-m", "etl.cli", "ingest", str(corpus), "--db", str(db)]
    command += ["--quiet", "--jobs", str(args.jobs)]
    print(f"ingesting {corpus.name} into {db} ...", flush=True)
    start = time.perf_counter()
    cpu_before = host_cpu()
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    peak = 0
    timeline: list[tuple[float, int]] = []  # (seconds, MiB) every 5 s: where the peak falls
    cpu: list[tuple[float, float]] = []  # (seconds, the tree's CPU seconds so far) every 1 s
    seen: dict[int, float] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            rss = tree_rss(process.pid)
            peak = max(peak, rss)
            now = time.perf_counter() - start
            if not timeline or now - timeline[-1][0] >= 5:
                timeline.append((round(now, 1), round(rss / 2**20)))
            if not cpu or now - cpu[-1][0] >= 1:
                cpu.append((now, tree_cpu(process.pid, seen)))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = process.communicate()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    seconds = time.perf_counter() - start
    host = cpu_shares(cpu_before, host_cpu())
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"imr ingest failed ({process.returncode}):\n{stdout}")

    import duckdb

    from etl.search import store

    con = duckdb.connect(str(db), read_only=True)
    letters, items = con.execute(
        "select count(*), (select count(*) from decisions) from letters"
    ).fetchone() or (0, 0)
    recorded = recorded_phases(con)
    con.close()
    size = db.resolve().stat().st_size
    # The published warehouse is the version file and its search index folder beside it.
    index_folder = store.index_dir_for(db.resolve())
    index_size = folder_bytes(index_folder)
    # Exact: every process of the tree has been waited for (the samples miss the last second).
    cpu_seconds = sum(
        getattr(children, field) - getattr(children_before, field)
        for field in ("ru_utime", "ru_stime")
    )
    results = {
        "machine": machine(),
        "letters": letters,
        "items": items,
        "seconds": round(seconds, 1),
        "letters_per_second": round(letters / seconds),
        "peak_tree_rss_mib": round(peak / 2**20),
        "warehouse_mib": round(size / 2**20),
        "warehouse_mib_per_million_items": round(size / 2**20 / (items / 1e6), 1),
        "search_index_mib": round(index_size / 2**20),
        "on_disk_mib_per_million_items": round((size + index_size) / 2**20 / (items / 1e6), 1),
        "summary": stdout.strip().splitlines()[0] if stdout.strip() else "",
        "phases": recorded,
        # The ingest's own CPU (every process and thread of its tree, sampled each second):
        # 2,000 letters/s on two cores allows at most 1.0 ms a letter.
        "cpu_seconds": round(cpu_seconds, 1),
        "cpu_ms_per_letter": round(cpu_seconds * 1000 / max(letters, 1), 3),
        "phase_cores": phase_cores(recorded, cpu, seconds),
        "host_cpu": host,
        "peak_at_seconds": next(
            (s for s, mib in timeline if mib == max(m for _, m in timeline)), None
        )
        if timeline
        else None,
        "rss_timeline_mib": timeline,
    }
    print(json.dumps(results, indent=2))
    print(cpu_line(host))
    (OUT / "full_history.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

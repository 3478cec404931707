"""Ingest speed and memory, end to end (parse + classify + load), on the synthetic corpus.

    .venv/bin/python benchmarks/ingest_speed.py                      # 20,000 text + 600 PDF letters
    .venv/bin/python benchmarks/ingest_speed.py --sizes 5000 10000 20000 --pdf-letters 600

Each measurement runs `imr ingest` in a fresh process on a fresh warehouse and reports letters per
second of wall time and the peak resident memory of the ingest and its workers. Running it at
several sizes shows whether memory stays flat as the corpus grows. Results go to stdout as a
Markdown table and to benchmarks/out/ingest.json; copy them into docs/benchmarks.md with the
machine line it prints.

For the PDF corpus the same run also measures the floor (issue 10: PDF ingest within 1.5x of it):
bare pypdfium2 text extraction of exactly the same files (read each file, load the document, every
page's text with ``get_text_range()``, close), with as many worker processes as the ingest has
(``--jobs``, default all cores; a fork pool over the files) and in one process, as wall seconds.
The ingest and the floor alternate ``--pdf-rounds`` times (default 3; the first ingest is the
table's) and the ratio is the median of the rounds' (on a shared machine the host's speed moves
within minutes: single rounds of the same code gave 1.36x to 1.87x in one hour of stop 51).
It reports ingest seconds / floor seconds, the fixed cost of an ingest (one PDF letter: Python
start-up, imports, warehouse build and publish; the median of three such ingests), CPU seconds
of both (steadier than wall time on a shared machine), and where a PDF ingest spends its time
(cProfile, one process, then the main process beside its workers; ``--no-pdf-profile`` skips
it). Fixed costs weigh on a small corpus:
``--pdf-letters 3000`` or more gives a fairer ratio than 600.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path
from statistics import median
from typing import Any

import pypdfium2 as pdfium  # here, so that the floor's forked workers never import it

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
    # The ingests this script starts inherit its environment, so its parser (IMR_NATIVE).
    from etl import native

    parser = "compiled parser (mypyc)" if native.current_build() else "pure-Python parser"
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory:.0f} GiB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}, {parser}"
    )


# The first fields of /proc/stat's "cpu" line, in clock ticks (guest time, after them, is
# counted in user already).
CPU_KINDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def host_cpu() -> tuple[int, ...]:
    """The machine's CPU time so far by kind (``CPU_KINDS``); ``()`` where /proc has none."""
    try:
        with open("/proc/stat", encoding="ascii") as handle:
            fields = handle.readline().split()
    except OSError:
        return ()
    if not fields or fields[0] != "cpu" or len(fields) <= len(CPU_KINDS):
        return ()
    return tuple(int(value) for value in fields[1 : 1 + len(CPU_KINDS)])


def cpu_shares(before: tuple[int, ...], after: tuple[int, ...]) -> dict[str, float]:
    """How the machine's CPU time went between two ``host_cpu`` readings: ``busy`` (user, nice,
    system, interrupts), ``idle`` (with I/O wait) and ``steal``: time the hypervisor gave other
    guests of a virtual machine's host, which makes the same run slower one hour than the next
    (30% of this machine's time during one ingest of stop 23). ``{}`` without readings."""
    if len(before) != len(CPU_KINDS) or len(after) != len(CPU_KINDS):
        return {}
    spent = dict(zip(CPU_KINDS, (b - a for a, b in zip(before, after, strict=True)), strict=True))
    total = sum(spent.values())
    if total <= 0:
        return {}
    busy = sum(spent[k] for k in ("user", "nice", "system", "irq", "softirq"))
    return {
        "busy": round(busy / total, 3),
        "idle": round((spent["idle"] + spent["iowait"]) / total, 3),
        "steal": round(spent["steal"] / total, 3),
    }


def cpu_line(shares: dict[str, float]) -> str:
    if not shares:
        return "host CPU: not known here (no /proc/stat)"
    return (
        f"host CPU during the run: busy {shares['busy']:.0%}, idle {shares['idle']:.0%}, "
        f"stolen by the hypervisor {shares['steal']:.0%}"
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


def measure(folder: Path, jobs: int | None) -> dict[str, Any]:
    db_dir = OUT / "warehouse"
    shutil.rmtree(db_dir, ignore_errors=True)
    command = [sys.executable, "-m", "etl.cli", "ingest", str(folder), "--quiet"]
    command += ["--db", str(db_dir / "current.duckdb")]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    # A wrapper process per run, so that the peak memory reported is this run's alone.
    wrapper = (
        "import resource, subprocess, sys;"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True);"
        "sys.stderr.write(done.stderr); print(done.stdout.splitlines()[0] if done.stdout else '');"
        "usage = resource.getrusage(resource.RUSAGE_CHILDREN);"
        "print(usage.ru_maxrss); print(usage.ru_utime + usage.ru_stime);"
        "sys.exit(done.returncode)"
    )
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", wrapper, *command], cwd=ROOT, capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"ingest failed: {done.stderr}")
    summary, peak_kib, cpu = done.stdout.splitlines()[-3:]
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
        # CPU seconds of the ingest and its workers (user + system): on a shared machine, a
        # steadier measure of the work done than wall time.
        "cpu_seconds": round(float(cpu), 2),
        "summary": summary,
    }


def pdf_files(folder: Path) -> list[Path]:
    """The PDF files the ingest reads in ``folder``, in its walk order (sorted, no hidden)."""
    return sorted(
        path
        for path in folder.rglob("*.pdf")
        if not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


def bare_text(path: Path, bounded: bool = False) -> int:
    """The floor's unit of work: one file through pypdfium2 alone. Returns characters read.

    ``bounded`` reads each page with ``get_text_bounded()`` (what etl/extract.py calls) instead of
    ``get_text_range()``, to show what the choice of call costs.
    """
    pdf = pdfium.PdfDocument(path.read_bytes())
    try:
        chars = 0
        for index in range(len(pdf)):
            page = pdf[index]
            textpage = page.get_textpage()
            text = textpage.get_text_bounded() if bounded else textpage.get_text_range()
            chars += len(text)
            textpage.close()
            page.close()
    finally:
        pdf.close()
    return chars


def _bare_bounded(path: Path) -> int:
    return bare_text(path, bounded=True)


def floor(files: list[Path], jobs: int, bounded: bool = False) -> tuple[float, float]:
    """Wall and CPU seconds of bare extraction of ``files``: a fork pool of ``jobs`` processes
    (at most 1: in this process)."""
    work = _bare_bounded if bounded else bare_text
    who = resource.RUSAGE_SELF if jobs <= 1 else resource.RUSAGE_CHILDREN
    before = resource.getrusage(who)
    start = time.perf_counter()
    if jobs <= 1:
        chars = sum(map(work, files))
    else:
        pool = multiprocessing.get_context("fork").Pool(jobs)
        chars = sum(pool.imap_unordered(work, files, chunksize=8))
        pool.close()
        pool.join()  # the workers' CPU time counts once they are reaped
    seconds = time.perf_counter() - start
    after = resource.getrusage(who)
    if not chars:
        raise SystemExit("the floor read no text: not the PDF corpus?")
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu


# Stages of a PDF ingest in one process (cProfile cumulative time of each function).
PDF_STAGES = {
    "walk and read files": ("etl/inputs.py", "iter_inputs"),
    "hash (SHA-256)": ("etl/pipeline.py", "sha256_of"),
    "extract (all of etl/extract.py)": ("etl/extract.py", "extract_text"),
    "  pypdfium2: load the document": ("pypdfium2/_helpers/document.py", "_open_pdf"),
    "  pypdfium2: load the pages": ("pypdfium2/_helpers/document.py", "get_page"),
    "  pypdfium2: text pages (FPDFText_LoadPage)": ("pypdfium2/_helpers/page.py", "get_textpage"),
    "  pypdfium2: get_text_bounded": ("pypdfium2/_helpers/textpage.py", "get_text_bounded"),
    "  clean_text": ("etl/extract.py", "clean_text"),
    "parse": ("etl/parse/__init__.py", "parse_letter"),
    "classify": ("etl/classify/__init__.py", "classify_letter"),
    "row building": ("etl/rows.py", "letter_rows"),
    "rows to Arrow (etl.rows.pack, in the worker)": ("etl/rows.py", "pack"),
    "writer: buffers and spool": ("etl/load.py", "add_loaded"),
    "publish (load, derived tables, checkpoint, swap)": ("etl/load.py", "publish"),
}


def pdf_profile(folder: Path, jobs: int) -> dict[str, object]:
    """Where a PDF ingest's time goes: cProfile, one process, then the main process beside
    ``jobs`` workers (cProfile slows Python code, not PDFium: shares matter, not seconds)."""
    from benchmarks.profile_ingest import PARENT, cumulative, profiled

    seconds, stats, line = profiled(folder, OUT / "pdf-profile-serial" / "current.duckdb", 0)
    serial = {stage: round(cumulative(stats, *where), 3) for stage, where in PDF_STAGES.items()}
    print(f"\nPDF ingest, jobs=0, under cProfile: {seconds:.2f} s ({line})\n")
    print("| stage | seconds | share of the run |\n|---|---|---|")
    for stage, value in serial.items():
        print(f"| {stage} | {value:.2f} | {value / seconds:.0%} |")
    result: dict[str, object] = {"serial": {"seconds": round(seconds, 2), "stages": serial}}
    if jobs > 1:
        path = OUT / "pdf-profile-parallel" / "current.duckdb"
        seconds, stats, line = profiled(folder, path, jobs)
        parent = {stage: round(cumulative(stats, *where), 3) for stage, where in PARENT.items()}
        print(f"\nPDF ingest, jobs={jobs}, the main process under cProfile: {seconds:.2f} s\n")
        print("| main process | seconds | share of the run |\n|---|---|---|")
        for stage, value in parent.items():
            print(f"| {stage} | {value:.2f} | {value / seconds:.0%} |")
        result["parallel"] = {"seconds": round(seconds, 2), "main_process": parent}
    return result


FIXED_RUNS = 3


def _seconds(run: dict[str, Any]) -> float:
    return float(run["seconds"])


def pdf_floor(
    run: dict[str, Any], folder: Path, jobs: int, seed: int, rounds: int = 1, extras: bool = True
) -> dict[str, object]:
    """The floor for the PDF ``run`` just measured, and the ingest's fixed cost beside it.

    With ``rounds`` above 1, the ingest and the floor alternate that many times (the ``run``
    being the first ingest) and the ratio is the median of each round's: on a shared machine
    the host's speed moves within minutes, and a ratio of two timings minutes apart with it.
    Without ``extras``, only the rounds: not the floor in one process, with
    ``get_text_bounded()``, or an ingest of one letter (at the whole history the first two
    would take most of an hour).
    """
    files = pdf_files(folder)
    timings = [(float(run["seconds"]), float(run["cpu_seconds"]), *floor(files, jobs))]
    for _ in range(rounds - 1):
        again = measure(folder, jobs)
        timings.append((float(again["seconds"]), float(again["cpu_seconds"]), *floor(files, jobs)))
    if not extras:
        return _rounds_only(files, jobs, timings)
    single, single_cpu = floor(files, 1)
    bounded, _ = floor(files, jobs, bounded=True)
    # The median of three: a single ingest of one letter once took 1.65 s against 0.8-1.0 in
    # every run after it (stop 53), and the figure without it follows this one.
    ones = sorted((measure(corpus(1, seed, 1.0), jobs) for _ in range(FIXED_RUNS)), key=_seconds)
    one = ones[len(ones) // 2]
    fixed = float(one["seconds"])
    result = _rounds(files, jobs, timings)
    each = result["rounds"]
    cpu = median(t[1] for t in timings)
    pool, pool_cpu = result["floor_seconds"], result["floor_cpu_seconds"]
    result |= {
        "floor_one_process_seconds": round(single, 3),
        "floor_one_process_cpu_seconds": round(single_cpu, 3),
        "floor_bounded_seconds": round(bounded, 3),
        "ingest_fixed_seconds": fixed,
        "ingest_fixed_cpu_seconds": one["cpu_seconds"],
        "ratio_less_fixed": round(median((s - fixed) / p for s, _, p, _ in timings), 2),
        "cpu_ratio": round(cpu / single_cpu, 2),
    }
    workers = f"{jobs} processes" if jobs > 1 else "one process (--jobs)"
    if rounds > 1:
        print(
            "\nPDF ingest and floor, alternating: "
            + "; ".join(f"{r['ingest_seconds']:.2f} / {r['floor_seconds']:.2f} s" for r in each)
        )
    print(
        f"\nPDF floor: bare pypdfium2 (get_text_range) on the same {len(files):,} files: "
        f"{pool:.2f} s with {workers} (the median of {rounds}), {single:.2f} s in one; "
        f"get_text_bounded instead: {bounded:.2f} s with {workers}.\n"
        f"ingest / floor = **{result['ratio']}x** (target <= 1.5; the median of "
        f"{', '.join(str(r['ratio']) for r in each)}); "
        f"an ingest of 1 PDF letter takes {fixed:.2f} s (start-up, imports, build, publish): "
        f"without it, {result['ratio_less_fixed']}x.\n"
        f"CPU seconds (all processes): ingest {cpu:.2f}, floor {single_cpu:.2f} in one process "
        f"({pool_cpu:.2f} in the pool): {result['cpu_ratio']}x."
    )
    return result


def _rounds(
    files: list[Path], jobs: int, timings: list[tuple[float, float, float, float]]
) -> dict[str, Any]:
    """What the rounds give, with or without the extras: each round's seconds and ratio, the
    floor's median, and the ratio (the rounds' median)."""
    each = [
        {
            "ingest_seconds": round(seconds, 3),
            "ingest_cpu_seconds": round(cpu, 3),
            "floor_seconds": round(pool, 3),
            "floor_cpu_seconds": round(pool_cpu, 3),
            "ratio": round(seconds / pool, 2),
        }
        for seconds, cpu, pool, pool_cpu in timings
    ]
    return {
        "files": len(files),
        "jobs": jobs,
        "rounds": each,
        "floor_seconds": round(median(t[2] for t in timings), 3),
        "floor_cpu_seconds": round(median(t[3] for t in timings), 3),
        "ratio": round(median(s / p for s, _, p, _ in timings), 2),
    }


def _rounds_only(
    files: list[Path], jobs: int, timings: list[tuple[float, float, float, float]]
) -> dict[str, Any]:
    """``pdf_floor``'s result without its extras: the rounds, and their CPU against the
    floor's pool (there is no floor in one process to compare with)."""
    result = _rounds(files, jobs, timings)
    result["cpu_ratio"] = round(median(c / pc for _, c, _, pc in timings), 2)
    print(
        f"\nPDF ingest / floor (bare pypdfium2, get_text_range, {jobs} processes) on the same "
        f"{len(files):,} files: "
        + "; ".join(
            f"{r['ingest_seconds']:.2f} / {r['floor_seconds']:.2f} s ({r['ratio']}x)"
            for r in result["rounds"]
        )
        + f"\nratio **{result['ratio']}x** (target <= 1.5; the rounds' median); CPU seconds "
        "(all processes, ingest / floor's pool): "
        + "; ".join(
            f"{r['ingest_cpu_seconds']:.2f} / {r['floor_cpu_seconds']:.2f}"
            for r in result["rounds"]
        )
        + f": {result['cpu_ratio']}x."
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[20000])
    parser.add_argument("--pdf-letters", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument(
        "--pdf-rounds",
        type=int,
        default=3,
        help="PDF ingests and floors alternating; the ratio is their rounds' median",
    )
    parser.add_argument(
        "--pdf-extras",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also the floor in one process, with get_text_bounded(), and an ingest of one letter",
    )
    parser.add_argument(
        "--pdf-profile",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="profile where a PDF ingest spends its time (cProfile, after the table)",
    )
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    runs: list[dict[str, Any]] = []
    results: dict[str, Any] = {"machine": machine(), "runs": runs}
    print(f"machine: {results['machine']}")
    print("| corpus | letters | items | seconds | letters/s | peak RSS (MiB) |")
    print("|---|---|---|---|---|---|")
    plans = [("text", size, 0.0) for size in sorted(args.sizes)]
    if args.pdf_letters:
        plans.append(("pdf", args.pdf_letters, 1.0))
    before = host_cpu()
    for kind, size, share in plans:
        folder = corpus(size, args.seed, share)
        started = host_cpu()
        run = {"corpus": kind, **measure(folder, args.jobs)}
        run["host_cpu"] = cpu_shares(started, host_cpu())
        runs.append(run)
        print(
            f"| {kind} | {run['letters']:,} | {run['items']:,} | {run['seconds']} "
            f"| {run['letters_per_second']:,} | {run['peak_rss_mib']} |",
            flush=True,
        )
    results["host_cpu"] = cpu_shares(before, host_cpu())
    print(cpu_line(results["host_cpu"]))
    pdf_run = next((run for run in runs if run["corpus"] == "pdf"), None)
    if pdf_run:
        folder = corpus(args.pdf_letters, args.seed, 1.0)
        jobs = args.jobs if args.jobs is not None else os.cpu_count() or 1
        rounds = max(args.pdf_rounds, 1)
        pdf_run["floor"] = pdf_floor(pdf_run, folder, jobs, args.seed, rounds, args.pdf_extras)
        if args.pdf_profile:
            pdf_run["profile"] = pdf_profile(folder, jobs)
    (OUT / "ingest.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

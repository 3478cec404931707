"""Peak memory of `imr ingest` on hostile input: huge text files, PDF decompression bombs.

    .venv/bin/python benchmarks/memory_peak.py            # the full set, about 5 minutes
    .venv/bin/python benchmarks/memory_peak.py --quick    # smaller corpora, about 2 minutes

Each corpus is built in benchmarks/out/memory-peak/ and ingested by the real `imr ingest` with
its default settings (no ``IMR_*`` variables, jobs = all cores) into a new warehouse. While it
runs, the resident memory of the whole process tree (the main process and its workers, summed:
``tree_rss`` of benchmarks/full_history.py) is sampled every 0.15 s; at the sample where the sum
peaks, each process's RSS and PSS (shared copy-on-write pages counted once across processes)
are kept too, to show where the memory is. Corpora:

* ``padded-letters``: 48 text files of 45 MiB, each a real seed letter whose case summary is
  padded with ordinary prose (so it still parses as a letter, with a 45 MiB case summary);
* ``padded-letters-inline``: a quarter of them with ``--jobs 0`` (parsed in the main process,
  no worker pool), to see the writer's side with such letters;
* ``non-letters``: 48 text files of 45 MiB of prose that is not a letter;
* ``pdf-bomb``: one ~3 MB PDF whose page content stream inflates to 2 GiB of text-drawing
  operators, and six ordinary PDF letters;
* ``pdf-bombs``: one such bomb per worker, handed out so that every worker opens one at once
  (the second inflates to 3 GiB of blanks), and the same six letters;
* ``demo-mixed``: `imr demo-corpus --letters 20000 --pdf-share 0.1`, for reference.

An ingest whose whole tree uses no CPU for ``--stall`` seconds is deadlocked: it is stopped,
and where each process was blocked is reported. Results: Markdown tables on stdout and
benchmarks/out/memory_peak.json. The big corpora and every warehouse are deleted after their
run (``--keep`` keeps them); the demo corpus is kept.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
WORK = OUT / "memory-peak"
SEEDS = ROOT / "data" / "samples" / "seeds"
sys.path.insert(0, str(ROOT))

from benchmarks.full_history import tree_rss  # noqa: E402
from benchmarks.ingest_speed import machine  # noqa: E402

MIB = 2**20
INTERVAL = 0.15  # seconds between samples
GOAL_MIB = 1_500_000_000 / MIB  # the review's target for the peak tree RSS: 1.5 GB
DEPTH = 2  # files queued per worker (etl.workers.DEPTH): places the bombs one per worker
_PREAMBLE = re.compile(r"(including all medical records:[ \t]*\n)", re.I)
_ISSUES = "IMR ISSUES, DECISIONS AND RATIONALES"


# --- corpora ----------------------------------------------------------------------------------


def _seed_texts() -> list[str]:
    return [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]


def prose_block(size: int = MIB, seed: int = 11) -> bytes:
    """About ``size`` bytes of ordinary clinical prose: the seeds' case-summary sentences,
    shuffled into paragraphs and wrapped at 90 columns. Nothing in it looks like a heading."""
    sentences: list[str] = []
    for text in _seed_texts():
        start = _PREAMBLE.search(text)
        end = text.find(_ISSUES)
        assert start and end > start.end(), "seed letter without its case summary"
        summary = " ".join(text[start.end() : end].split())
        sentences += [s.strip() for s in re.split(r"(?<=[a-z0-9)]\.)\s+", summary) if s.strip()]
    rng = random.Random(seed)
    lines: list[str] = []
    total = 0
    while total < size:
        paragraph = " ".join(rng.choice(sentences) for _ in range(rng.randint(3, 9)))
        line = ""
        for word in paragraph.split():
            if len(line) + len(word) + 1 > 90:
                lines.append(line)
                total += len(line) + 1
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines += [line, ""]
        total += len(line) + 2
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_padded(path: Path, head: bytes, tail: bytes, size: int, block: bytes) -> None:
    """``head``, then copies of ``block`` up to ``size`` bytes in all, then ``tail``."""
    room = size - len(head) - len(tail)
    with path.open("wb") as handle:
        handle.write(head)
        for _ in range(room // len(block)):
            handle.write(block)
        handle.write(block[: room % len(block)])
        handle.write(tail)


def padded_letters(folder: Path, files: int, size: int) -> None:
    """Real seed letters with ``size`` bytes in all: the case summary padded with prose.

    Each file opens its case summary with its own reference note, so every file is another
    letter (another fingerprint), as ``tests/reliability/helpers.variant`` does."""
    folder.mkdir(parents=True)
    block = prose_block()
    seeds = _seed_texts()
    for n in range(files):
        text = seeds[n % len(seeds)]
        match = _PREAMBLE.search(text)
        assert match, "seed letter without the case-summary preamble"
        head = f"{text[: match.end()]}Reference note {n}. ".encode()
        tail = ("\n" + text[match.end() :]).encode()
        write_padded(folder / f"letter-{n:03d}.txt", head, tail, size, block)


def non_letters(folder: Path, files: int, size: int) -> None:
    """Text files of ``size`` bytes of prose with no letter headings: not letters."""
    folder.mkdir(parents=True)
    block = prose_block(seed=12)
    for n in range(files):
        write_padded(folder / f"notes-{n:03d}.txt", f"Notes {n}.\n".encode(), b"", size, block)


def flate_repeated(unit: bytes, inflated: int, head: bytes = b"", tail: bytes = b"") -> bytes:
    """A zlib stream of ``head``, ``unit`` repeated to about ``inflated`` bytes, ``tail``,
    built without ever holding the inflated bytes: 1 MiB of units is compressed once (each
    full flush resets the compressor, so every further MiB compresses to the same bytes) and
    its compressed form repeated; the Adler-32 checksum is computed over the real content."""
    chunk = unit * max(MIB // len(unit), 1)
    compressor = zlib.compressobj(9)
    first = compressor.compress(head) + compressor.compress(chunk)
    first += compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert again == compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    copies = max(inflated // len(chunk), 2)
    checksum = zlib.adler32(head)
    for _ in range(copies):
        checksum = zlib.adler32(chunk, checksum)
    checksum = zlib.adler32(tail, checksum)
    ending = zlib.compressobj(9)
    last = (ending.compress(tail) + ending.flush())[2:-4]  # its raw deflate: the final block
    return first + again * (copies - 1) + last + checksum.to_bytes(4, "big")


def bomb_pdf(inflated: int, unit: bytes, note: str) -> bytes:
    """A valid one-page PDF (correct xref) whose /Contents stream is Flate-compressed and
    inflates to about ``inflated`` bytes: ``BT /F1 12 Tf 72 720 Td`` then ``unit`` repeated."""
    stream = flate_repeated(unit, inflated, b"BT /F1 12 Tf 72 720 Td\n", b"\nET\n")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
        b" /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n% " + note.encode() + b"\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


# The two bombs: text-drawing operators (what PDFium turns into a page object each, ~675:1
# compressed), and blanks (nothing to draw, but the whole stream is inflated first, ~1000:1).
BOMBS = [
    ("text operators", b"(x)Tj ", 2 * 2**30),
    ("blanks", b" ", 3 * 2**30),
]


def text_pdf(text: str) -> bytes:
    """A real PDF letter with ``text`` as its text layer (as tests/reliability/helpers.py)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("helvetica", size=9)
    pdf.add_page()
    pdf.multi_cell(0, 4, text.encode("latin-1", "replace").decode("latin-1"))
    return bytes(pdf.output())


def pdf_corpus(folder: Path, bombs: int, letters: int = 6) -> list[dict[str, Any]]:
    """``bombs`` bombs and ``letters`` ordinary PDF letters, named so that bomb k is task
    k * DEPTH: with the pool's handing out (DEPTH files per worker, in worker order) every
    worker gets one bomb first."""
    folder.mkdir(parents=True)
    seeds = _seed_texts()
    described = []
    names = iter(f"{n:02d}" for n in range(100))
    letter_no = 0
    for k in range(bombs):
        label, unit, inflated = BOMBS[k % len(BOMBS)]
        name = f"{next(names)}-bomb-{k}.pdf"
        data = bomb_pdf(inflated, unit, f"bomb {k}")
        (folder / name).write_bytes(data)
        described.append({"file": name, "bytes": len(data), "inflates_to": inflated, "of": label})
        for _ in range(DEPTH - 1):
            if letter_no < letters:
                text = _PREAMBLE.sub(rf"\g<1>Reference note {letter_no}. ", seeds[letter_no % 2])
                (folder / f"{next(names)}-letter-{letter_no}.pdf").write_bytes(text_pdf(text))
                letter_no += 1
    while letter_no < letters:
        text = _PREAMBLE.sub(rf"\g<1>Reference note {letter_no}. ", seeds[letter_no % 2])
        (folder / f"{next(names)}-letter-{letter_no}.pdf").write_bytes(text_pdf(text))
        letter_no += 1
    return described


def demo_corpus(letters: int) -> Path:
    folder = OUT / f"corpus-mixed-{letters}-pdf10"
    if not (folder / ".complete").exists():
        shutil.rmtree(folder, ignore_errors=True)
        print(f"generating {letters:,} demo letters (10% PDF) into {folder} ...", flush=True)
        command = [sys.executable, "-m", "etl.cli", "demo-corpus", "--letters", str(letters)]
        command += ["--pdf-share", "0.1", "--out", str(folder)]
        subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
        (folder / ".complete").write_text("")
    return folder


def on_disk(folder: Path) -> tuple[int, int]:
    """Letter files (.txt, .pdf, .zip) under ``folder`` and their bytes."""
    files = size = 0
    for path in folder.rglob("*"):
        if path.suffix.lower() in {".txt", ".pdf", ".zip"} and path.is_file():
            files += 1
            size += path.stat().st_size
    return files, size


# --- measuring --------------------------------------------------------------------------------


def processes(root: int) -> list[tuple[int, int, int, int]]:
    """(pid, RSS, PSS, CPU ticks) of ``root`` and every descendant (Linux /proc); bytes."""
    found, stack = [], [root]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        pid = stack.pop()
        try:
            with open(f"/proc/{pid}/statm") as handle:
                rss = int(handle.read().split()[1]) * page
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])  # utime + stime
            pss = 0
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        pss = int(line.split()[1]) * 1024
                        break
            for task in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{task}/children") as handle:
                    stack += [int(child) for child in handle.read().split()]
        except (OSError, ValueError, IndexError):
            continue
        found.append((pid, rss, pss, ticks))
    return found


def blocked_in(pid: int) -> str:
    """Where a process waits: its kernel wait channel and system call (1 = write, 0 = read)."""
    try:
        wchan = Path(f"/proc/{pid}/wchan").read_text().strip()
        call = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return "?"
    names = {"0": "read", "1": "write"}
    if len(call) > 3 and call[0] in names:
        return f"{wchan}: {names[call[0]]}(fd {int(call[1], 16)}, {int(call[3], 16):,} bytes)"
    return f"{wchan}: syscall {call[0] if call else '?'}"


def ingest_env() -> dict[str, str]:
    """This environment without any ``IMR_*`` variable: the ingest runs on its defaults."""
    return {k: v for k, v in os.environ.items() if not k.startswith("IMR_")}


def measure(
    folder: Path, db_dir: Path, timeout: float, stall: float, extra: list[str]
) -> dict[str, Any]:
    """Run `imr ingest` on ``folder`` and sample its process tree until it ends; stop it after
    ``timeout`` seconds, or after ``stall`` seconds in which the whole tree used no CPU (the
    ingest is deadlocked: nothing would ever change)."""
    shutil.rmtree(db_dir, ignore_errors=True)
    db = db_dir / "current.duckdb"
    command = [sys.executable, "-m", "etl.cli", "ingest", str(folder), "--db", str(db), "--quiet"]
    command += extra
    start = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=ingest_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a timeout can stop it whole
    )
    state: dict[str, Any] = {
        "peak": 0,
        "peak_at": 0.0,
        "at_peak": [],
        "peak_pss": 0,
        "main": 0,
        "worker": 0,
        "timeline": [],
        "stalled": [],
    }
    done = threading.Event()
    tick = os.sysconf("SC_CLK_TCK")

    def sample() -> None:
        last_kept = -1.0
        cpu, cpu_changed = 0, 0.0
        while not done.is_set():
            now = time.perf_counter() - start
            total = tree_rss(process.pid)
            tree = processes(process.pid)
            state["peak_pss"] = max(state["peak_pss"], sum(p[2] for p in tree))
            ticks = sum(p[3] for p in tree)
            if abs(ticks - cpu) > tick // 2:  # more than 0.5 s of CPU since the last change
                cpu, cpu_changed = ticks, now
            elif tree and now - cpu_changed > stall:
                state["stalled"] = [
                    f"{'main' if pid == process.pid else 'worker'} {pid}: {blocked_in(pid)}"
                    for pid, *_ in tree
                ]
                os.killpg(process.pid, signal.SIGKILL)  # the ingest this script started
                return
            for pid, rss, _, _ in tree:
                role = "main" if pid == process.pid else "worker"
                state[role] = max(state[role], rss)
            if total > state["peak"]:
                state.update(peak=total, peak_at=now, at_peak=tree)
            if now - last_kept >= 1.0:  # a timeline at 1 s resolution, for the JSON
                state["timeline"].append([round(now, 1), round(total / MIB)])
                last_kept = now
            time.sleep(INTERVAL)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    timed_out = False
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        os.killpg(process.pid, signal.SIGKILL)  # the group of the ingest this script started
        stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    lines = stdout.strip().splitlines()
    summary = lines[0] if lines and process.returncode == 0 else ""
    if state["stalled"]:
        summary = f"deadlocked: no CPU used for {stall:g} s, stopped"
    elif timed_out:
        summary = f"stopped after {timeout:g} s (timeout)"
    elif process.returncode:
        tail = (stderr.strip().splitlines() or ["?"])[-1]
        # The first line of the message (the CLI prints a DuckDB error's newlines as \\n).
        summary = f"exit {process.returncode}: {lines[0] if lines else tail}".split("\\n")[0]
    return {
        "seconds": round(seconds, 1),
        "peak_tree_rss_mib": round(state["peak"] / MIB),
        "peak_tree_pss_mib": round(state["peak_pss"] / MIB),
        "peak_main_rss_mib": round(state["main"] / MIB),
        "peak_worker_rss_mib": round(state["worker"] / MIB),
        "peak_at_s": round(state["peak_at"], 1),
        "at_peak": [
            {
                "role": "main" if pid == process.pid else "worker",
                "rss_mib": round(rss / MIB),
                "pss_mib": round(pss / MIB),
            }
            for pid, rss, pss, _ in state["at_peak"]
        ],
        "stalled": state["stalled"],
        "summary": summary,
        "returncode": process.returncode,
        "rejects": rejects(db) if process.returncode == 0 else [],
        "timeline_s_mib": state["timeline"],
    }


def rejects(db: Path, limit: int = 12) -> list[list[str]]:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "select source_path, reason, detail from rejects order by source_path limit ?",
            [limit],
        ).fetchall()
    finally:
        con.close()
    return [[Path(path).name, reason, detail] for path, reason, detail in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 big files, 2,000 demo letters")
    parser.add_argument("--files", type=int, help="big text files per corpus (default 48)")
    parser.add_argument("--mib", type=int, default=45, help="size of each big text file")
    parser.add_argument("--demo-letters", type=int, help="demo corpus size (default 20,000)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per ingest at most")
    parser.add_argument(
        "--stall", type=float, default=30, help="stop an ingest that used no CPU for this long"
    )
    parser.add_argument("--only", nargs="+", help="run only these corpora (names as below)")
    parser.add_argument("--keep", action="store_true", help="keep corpora and warehouses")
    args = parser.parse_args()
    files = args.files or (8 if args.quick else 48)
    inline_files = max(files // 4, 2)
    demo_letters = args.demo_letters or (2000 if args.quick else 20000)
    jobs = os.cpu_count() or 1
    size = args.mib * MIB

    # (name, label, build or None for the demo corpus, extra `imr ingest` flags)
    plans: list[tuple[str, str, Any, list[str]]] = [
        (
            "padded-letters",
            f"{files} text letters of {args.mib} MiB (padded case summary)",
            lambda f: padded_letters(f, files, size),
            [],
        ),
        (
            "padded-letters-inline",
            f"{inline_files} of those letters, `--jobs 0` (parsed in the main process)",
            lambda f: padded_letters(f, inline_files, size),
            ["--jobs", "0"],
        ),
        (
            "non-letters",
            f"{files} text files of {args.mib} MiB, not letters",
            lambda f: non_letters(f, files, size),
            [],
        ),
        (
            "pdf-bomb",
            "1 PDF bomb (3.0 MiB → 2 GiB) + 6 PDF letters",
            lambda f: pdf_corpus(f, 1),
            [],
        ),
        (
            "pdf-bombs",
            f"{jobs} PDF bombs at once (one per worker) + 6 PDF letters",
            lambda f: pdf_corpus(f, jobs),
            [],
        ),
        ("demo-mixed", f"demo corpus, {demo_letters:,} letters, 10% PDF", None, []),
    ]
    if args.only:
        plans = [plan for plan in plans if plan[0] in args.only]

    WORK.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"machine": machine(), "jobs": jobs, "runs": []}
    print(f"machine: {results['machine']}; imr ingest defaults, {jobs} workers", flush=True)
    rows, where = [], []
    for name, label, build, extra in plans:
        if build is None:
            folder = demo_corpus(demo_letters)
            described = None
        else:
            folder = WORK / name
            shutil.rmtree(folder, ignore_errors=True)
            print(f"building {name} in {folder} ...", flush=True)
            described = build(folder)
        count, on_disk_bytes = on_disk(folder)
        print(f"ingesting {name}: {count} files, {on_disk_bytes / MIB:,.1f} MiB ...", flush=True)
        run: dict[str, Any] = {"corpus": name, "label": label, "flags": extra, "files": count}
        run["bytes"] = on_disk_bytes
        if described:
            run["bombs"] = described
        db_dir = WORK / f"warehouse-{name}"
        run.update(measure(folder, db_dir, args.timeout, args.stall, extra))
        results["runs"].append(run)
        if not args.keep:
            shutil.rmtree(db_dir, ignore_errors=True)
            if build is not None:
                shutil.rmtree(folder, ignore_errors=True)
        at_peak = " + ".join(f"{p['rss_mib']:,} ({p['role']})" for p in run["at_peak"])
        print(
            f"  {run['seconds']} s, peak tree RSS {run['peak_tree_rss_mib']:,} MiB "
            f"= {at_peak}; {run['summary']}",
            flush=True,
        )
        for line in run["stalled"]:
            print(f"    {line}")
        for file, reason, detail in run["rejects"][:4]:
            print(f"    reject {file}: {reason} ({detail[:80]})")
        rows.append(
            f"| {label} | {count:,} | {on_disk_bytes / MIB:,.1f} MiB | {run['seconds']} "
            f"| {run['peak_tree_rss_mib']:,} | {run['summary']} |"
        )
        where.append(
            f"| {name} | {at_peak} | {run['peak_tree_pss_mib']:,} | {run['peak_main_rss_mib']:,} "
            f"| {run['peak_worker_rss_mib']:,} |"
        )
        (OUT / "memory_peak.json").write_text(json.dumps(results, indent=2))
    print()
    print(f"machine: {results['machine']}")
    print("| corpus | files | on disk | wall s | peak tree RSS (MiB) | summary |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print(
        "| corpus | RSS at the peak, MiB (process) | peak tree PSS (MiB) "
        "| peak main RSS (MiB) | peak worker RSS (MiB) |"
    )
    print("|---|---|---|---|---|")
    print("\n".join(where))
    over = [r["corpus"] for r in results["runs"] if r["peak_tree_rss_mib"] > GOAL_MIB]
    if over:
        print(f"\nover the 1.5 GB ({GOAL_MIB:,.0f} MiB) goal: {', '.join(over)}")


if __name__ == "__main__":
    main()

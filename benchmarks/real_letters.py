"""The real letters against the synthetic ones, letter by letter: what each costs to read.

    .venv/bin/python benchmarks/real_letters.py                    # 1,000 synthetic PDFs
    .venv/bin/python benchmarks/real_letters.py --synthetic 3000 --rounds 5

The ingest benchmarks run on synthetic letters (``imr demo-corpus``); this shows how far their
costs are from those of the real letters in ../shared (130 DWC PDFs), which the benchmarks may
read but not copy. One process, in memory, for each set of PDFs:

- their shape: pages a letter, objects and text objects on the first page, characters of text;
- CPU milliseconds a letter of the PDF floor's bare extraction (``ingest_speed.bare_text``), the
  ingest's ``extract_text``, ``parse_letter``, ``classify_letter`` with every letter new to the
  process (the classifier's per-text caches emptied first: a sentence's reasons, a request's
  class, a guideline's citations) and ``classify_letter`` again (the same letters, seen once).

Each figure is the median of ``--rounds`` rounds. The synthetic PDFs are those of
``ingest_speed.py``'s PDF corpus for the seed (generated into benchmarks/out if absent). Without
../shared the real letters are skipped with a message. Results: stdout (Markdown) and
benchmarks/out/real_letters.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "benchmarks" / "out"
REAL = ROOT.parent / "shared" / "letters" / "real" / "pdf"
sys.path.insert(0, str(ROOT))

import pypdfium2 as pdfium  # noqa: E402

from benchmarks.ingest_speed import bare_text, corpus, machine, pdf_files  # noqa: E402
from etl.classify import classify_letter, prepare, text_caches  # noqa: E402
from etl.extract import extract_text  # noqa: E402
from etl.parse import parse_letter  # noqa: E402

STAGES = ("bare extraction (the floor)", "extract_text", "parse", "classify, new", "classify, seen")
SHAPE = ("pages a letter", "objects on the first page", "text objects on the first page")


def shape(files: list[Path]) -> dict[str, float]:
    pages, objects, text_objects = [], [], []
    for path in files:
        pdf = pdfium.PdfDocument(path.read_bytes())
        try:
            pages.append(len(pdf))
            first = [o.type for o in pdf[0].get_objects()]
            objects.append(len(first))
            text_objects.append(first.count(pdfium.raw.FPDF_PAGEOBJ_TEXT))
        finally:
            pdf.close()
    means = (statistics.mean(pages), statistics.mean(objects), statistics.mean(text_objects))
    return {key: round(mean, 1) for key, mean in zip(SHAPE, means, strict=True)}


def cpu_ms(work: Callable[[], object], count: int) -> float:
    start = time.process_time()
    work()
    return (time.process_time() - start) / count * 1000


def one_round(data: list[tuple[Path, bytes]], caches: list[Any]) -> tuple[list[float], list[str]]:
    """Each stage's CPU ms a letter, every letter new to the classifier; and the texts."""
    for cache in caches:
        cache.cache_clear()
    n = len(data)
    floor = cpu_ms(lambda: [bare_text(path) for path, _ in data], n)
    texts: list[str] = []
    extract = cpu_ms(lambda: texts.extend(extract_text(b, str(p)) for p, b in data), n)
    letters: list[Any] = []
    parse = cpu_ms(lambda: letters.extend(map(parse_letter, texts)), n)
    new = cpu_ms(lambda: [classify_letter(letter) for letter in letters], n)
    seen = cpu_ms(lambda: [classify_letter(letter) for letter in letters], n)
    return [floor, extract, parse, new, seen], texts


def measure(files: list[Path], rounds: int) -> dict[str, Any]:
    data = [(path, path.read_bytes()) for path in files]
    caches = text_caches()
    timings: dict[str, list[float]] = {stage: [] for stage in STAGES}
    texts: list[str] = []
    for _ in range(rounds):
        found, texts = one_round(data, caches)
        for stage, value in zip(STAGES, found, strict=True):
            timings[stage].append(round(value, 3))
    medians = {stage: round(statistics.median(values), 3) for stage, values in timings.items()}
    return {
        "letters": len(files),
        **shape(files),
        "characters a letter": round(statistics.mean(map(len, texts))),
        "ms a letter (CPU, median)": medians,
        "rounds": timings,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--synthetic", type=int, default=1000, help="synthetic PDFs to read")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7, help="the synthetic corpus's seed")
    args = parser.parse_args()
    prepare()
    print(machine())
    sets: dict[str, list[Path]] = {}
    if REAL.is_dir():
        sets["real"] = pdf_files(REAL)
    else:
        print(f"real letters not found at {REAL} (they live beside the repo, in ../shared)")
    sets["synthetic"] = pdf_files(corpus(args.synthetic, args.seed, 1.0))[: args.synthetic]
    results = {name: measure(files, args.rounds) for name, files in sets.items()}
    names = list(results)
    print(f"\n| | {' | '.join(names)} |\n|---|{'---|' * len(names)}")
    for key in ("letters", *SHAPE, "characters a letter"):
        print(f"| {key} | {' | '.join(str(results[n][key]) for n in names)} |")
    for stage in STAGES:
        cells = " | ".join(f"{results[n]['ms a letter (CPU, median)'][stage]:.2f}" for n in names)
        print(f"| {stage}, ms a letter | {cells} |")
    OUT.mkdir(parents=True, exist_ok=True)
    record = {"machine": machine(), "rounds": args.rounds, "results": results}
    (OUT / "real_letters.json").write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()

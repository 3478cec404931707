"""What finding the reasons costs per letter, beside parsing and the rest of classify.

    .venv/bin/python benchmarks/reasons_speed.py [--letters 3000]

Single process, in memory: parse, classify (which includes the reasons) and the reasons alone
(cache cleared first), on the synthetic corpus and on the real letters in ../shared (when present).
Real letters repeat fewer sentences than the synthetic ones, so the per-sentence cache helps less.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.ingest_speed import machine  # noqa: E402
from etl.classify import classify_letter, reasons  # noqa: E402
from etl.demo import write_corpus  # noqa: E402
from etl.parse import parse_letter  # noqa: E402

REAL = ROOT.parent / "shared" / "letters" / "real" / "pypdf"


def measure(name: str, texts: list[str]) -> str:
    start = time.perf_counter()
    letters = [parse_letter(t) for t in texts]
    parse = time.perf_counter() - start
    start = time.perf_counter()
    for letter in letters:
        classify_letter(letter)
    classify = time.perf_counter() - start
    items = [(i.rationale, i.decision) for letter in letters for i in letter.items]
    reasons._sentence_reasons.cache_clear()
    start = time.perf_counter()
    for rationale, decision in items:
        reasons.find_reasons(rationale, decision)
    alone = time.perf_counter() - start
    n = len(texts)
    return (
        f"| {name} | {n:,} | {len(items):,} | {parse / n * 1000:.2f} | {classify / n * 1000:.2f} |"
        f" {alone / n * 1000:.2f} | {alone / len(items) * 1000:.2f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--letters", type=int, default=3000)
    args = parser.parse_args()
    print(machine())
    print(
        "| corpus | letters | items | parse ms/letter | classify ms/letter (with reasons) |"
        " reasons ms/letter | reasons ms/item |"
    )
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus"
        write_corpus(corpus, letters=args.letters, seed=5, pdf_share=0.0)
        texts = [p.read_text(encoding="utf-8") for p in sorted(corpus.rglob("*.txt"))]
        print(measure("synthetic", texts))
    if REAL.is_dir():
        texts = [p.read_text(encoding="utf-8") for p in sorted(REAL.glob("*.txt"))]
        print(measure("real (130 letters)", texts))


if __name__ == "__main__":
    main()

"""Measure the reasons extractor against the human labels and write docs/reasons.md's tables.

    .venv/bin/python scripts/reason_accuracy.py          # rewrite the tables (needs ../shared)
    .venv/bin/python scripts/reason_accuracy.py --check  # exit 1 when the doc is out of date

The held-out half's figures are the accuracy on letters the vocabulary was not written against;
see tests/classify/reason_labels.py for how the labels were made.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.classify.reason_labels import measure, table  # noqa: E402

DOC = ROOT / "docs" / "reasons.md"
REAL = ROOT.parent / "shared" / "letters" / "real"
BEGIN, END = "<!-- accuracy:begin -->", "<!-- accuracy:end -->"


def updated(doc: str, tables: str) -> str:
    head, rest = doc.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}\n{tables}{END}{tail}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the doc is out of date")
    args = parser.parse_args()
    doc = DOC.read_text(encoding="utf-8")
    new = updated(doc, table(measure(REAL)))
    if args.check:
        if new != doc:
            print(f"{DOC} is out of date: run python scripts/reason_accuracy.py")
            return 1
        return 0
    DOC.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

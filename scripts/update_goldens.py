"""Write the parser's current output as golden files, for review with `git diff`.

    .venv/bin/python scripts/update_goldens.py            # real letters (from ../shared)
    .venv/bin/python scripts/update_goldens.py --samples  # the project's sample letters

Never run this to make a failing test pass without reading the diff: a golden is a claim that
a person checked the letter.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from etl.classify import classify_letter  # noqa: E402
from etl.extract import extract_text  # noqa: E402
from etl.parse import parse_letter  # noqa: E402
from tests.golden_view import golden_view  # noqa: E402


def write(source: Path, target: Path) -> None:
    letter = parse_letter(extract_text(source.read_bytes(), source.name))
    classify_letter(letter)
    text = json.dumps(golden_view(letter), indent=2, ensure_ascii=False, sort_keys=False)
    target.write_text(text + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", action="store_true")
    args = parser.parse_args()
    if args.samples:
        out = ROOT / "tests" / "golden" / "samples"
        for source in sorted((ROOT / "data" / "samples").rglob("*.txt")):
            write(source, out / f"{source.stem}.json")
    else:
        real = ROOT.parent / "shared" / "letters" / "real" / "pypdf"
        out = ROOT / "tests" / "golden" / "real"
        for source in sorted(real.glob("*.txt")):
            write(source, out / f"{source.stem}.json")


if __name__ == "__main__":
    main()

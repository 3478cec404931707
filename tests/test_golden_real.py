"""Golden tests on the real letters: every rendering of a letter gives the reviewed parse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.classify import classify_letter
from etl.extract import extract_text
from etl.parse import parse_letter
from tests.conftest import require_shared
from tests.golden_view import comparable, golden_view

GOLDEN = Path(__file__).parent / "golden" / "real"
RENDERINGS = ("pdf", "pypdf", "pdftotext", "seedstyle")


def render(real: Path, case: str, rendering: str) -> str:
    if rendering == "pdf":
        path = real / "pdf" / f"{case}.pdf"
        return extract_text(path.read_bytes(), path.name)
    if rendering == "seedstyle":
        # The seed letters' style: every line followed by a blank line, trailing spaces kept.
        text = (real / "pypdf" / f"{case}.txt").read_text(encoding="utf-8")
        return "".join(f"{line} \n\n" for line in text.splitlines())
    return (real / rendering / f"{case}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("rendering", RENDERINGS)
@pytest.mark.parametrize("golden", sorted(GOLDEN.glob("*.json")), ids=lambda p: p.stem)
def test_real_letter_matches_golden(golden: Path, rendering: str) -> None:
    real = require_shared()
    letter = parse_letter(render(real, golden.stem, rendering))
    classify_letter(letter)
    expected = json.loads(golden.read_text(encoding="utf-8"))
    assert comparable(golden_view(letter)) == comparable(expected)


def test_every_real_letter_has_a_golden() -> None:
    real = require_shared()
    cases = {p.stem for p in (real / "pdf").glob("*.pdf")}
    assert cases == {p.stem for p in GOLDEN.glob("*.json")}

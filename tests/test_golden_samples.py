"""Golden tests on the project's own sample letters: layout A variants, seeds, regressions.

Letter in (data/samples/**/NAME.txt), expected JSON out (tests/golden/samples/NAME.json).
Every parser bug found gets a sample here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from etl.classify import classify_letter
from etl.parse import parse_letter
from tests.conftest import ROOT
from tests.golden_view import comparable, golden_view

SAMPLES = sorted((ROOT / "data" / "samples").rglob("*.txt"))
GOLDEN = ROOT / "tests" / "golden" / "samples"


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_sample_matches_golden(sample: Path) -> None:
    letter = parse_letter(sample.read_text(encoding="utf-8"))
    classify_letter(letter)
    expected = json.loads((GOLDEN / f"{sample.stem}.json").read_text(encoding="utf-8"))
    assert comparable(golden_view(letter)) == comparable(expected)


def test_every_golden_has_its_sample() -> None:
    assert {p.stem for p in SAMPLES} == {p.stem for p in GOLDEN.glob("*.json")}
    assert len(SAMPLES) >= 7


def test_layout_a_samples_cover_every_variant() -> None:
    texts = [p.read_text(encoding="utf-8") for p in SAMPLES if p.parent.name == "layout_a"]
    assert any("INDEPENDENT MEDICAL REVIEW DECISION AND RATIONALE" in t for t in texts)
    assert any("DOCUMENTS REVIEWED" in t and "IMR DECISION(S) AND RATIONALE(S)" in t for t in texts)
    assert any("MEDICAL PROFESSIONAL REVIEW" in t and "ISSUE AT DISPUTE:" in t for t in texts)
    assert any("notmedically" in t for t in texts)

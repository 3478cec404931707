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


def test_the_headings_found_in_one_pass_are_those_each_scan_finds() -> None:
    """``modern._headings`` finds the three headings in one pass, trying the issues pattern
    only on lines of the lengths it can match: the same lines as a scan per heading, on every
    sample letter and on the headings' variants (commas, plural, case, a final newline)."""
    from etl.parse import modern
    from etl.parse.common import normalise_text

    def scans(lines: list[str]) -> tuple[int | None, ...]:
        def first(test: object) -> int | None:
            return next((i for i, line in enumerate(lines) if test(line)), None)  # type: ignore[operator]

        return (
            first(lambda line: modern._ISSUES.match(line)),
            first(lambda line: line.upper().startswith(modern._HOW_MADE)),
            first(lambda line: line.upper() == modern._SUMMARY),
        )

    letters = [
        normalise_text(p.read_text()) for p in sorted((ROOT / "data" / "samples").rglob("*.txt"))
    ]
    assert any(all(at is not None for at in scans(lines)) for lines in letters)
    variants = [
        "IMR ISSUES DECISIONS AND RATIONALE",
        "imr issues, decisions, and rationales",
        "IMR Issues, Decisions and Rationales\n",
        "IMR ISSUES, DECISIONS, AND RATIONALES\n",  # the longest
        "IMR ISSUES, DECISIONS, AND RATIONALES.",  # not the heading
        "The IMR ISSUES DECISIONS AND RATIONALE",  # not the heading
        "Clinical Case Summary",
        "How the IMR Final Determination was made: see below",
    ]
    for n in range(len(variants)):
        letters.append(["Intro", *variants[n:], "last line"])
        letters.append(["Intro", *reversed(variants[: n + 1])])
    for lines in letters:
        assert modern._headings(lines) == scans(lines)

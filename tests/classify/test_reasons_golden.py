"""The reason goldens: every rendering of a real letter gives the same reasons and evidence, the
evidence points into the stored rationale, and docs/reasons.md reports the measured accuracy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from etl.classify import classify_letter
from etl.parse import parse_letter
from tests.classify.reason_labels import GOLDEN, goldens, reduced
from tests.conftest import require_shared
from tests.test_golden_real import RENDERINGS, render

ROOT = Path(__file__).resolve().parents[2]
CASES = sorted(p.stem for p in GOLDEN.glob("*.json"))


def _reasons(real: Path, case: str, rendering: str) -> list[list[tuple[str, str]]]:
    letter = parse_letter(render(real, case, rendering))
    classify_letter(letter)
    out = []
    for item in letter.items:
        for e in item.reason_evidence:
            assert item.rationale is not None
            assert item.rationale[e.start : e.end] == e.sentence
        assert item.reasons == [e.reason for e in item.reason_evidence]
        out.append([(e.reason, reduced(e.sentence)) for e in item.reason_evidence])
    return out


@pytest.mark.parametrize("case", CASES)
def test_every_rendering_gives_the_same_reasons(case: str) -> None:
    real = require_shared()
    first, *others = (_reasons(real, case, r) for r in RENDERINGS)
    for rendering, other in zip(RENDERINGS[1:], others, strict=True):
        assert other == first, rendering


def test_every_item_of_every_real_letter_is_labelled() -> None:
    real = require_shared()
    labelled = goldens()
    assert set(labelled) == {p.stem for p in (real / "pdf").glob("*.pdf")}
    halves = [g["half"] for _, g in sorted(labelled.items())]
    # Every other case number is held out.
    assert halves == ["tune", "heldout"] * (len(halves) // 2) + ["tune"] * (len(halves) % 2)
    for case, golden in labelled.items():
        letter = parse_letter(render(real, case, "pypdf"))
        assert sorted(golden["items"], key=int) == [str(i.item_no) for i in letter.items], case


def test_the_documented_accuracy_is_the_measured_one() -> None:
    require_shared()
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "reason_accuracy.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr

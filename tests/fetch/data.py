"""The replica's cases: PDFs made from the project's sample letters, with DWC's index rows read
from the same letters (as our parser reads them), so that DWC's index and our parse agree except
where a test makes them differ on purpose."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from pathlib import Path

from fpdf import FPDF

from etl.model import Letter
from etl.pipeline import Loaded, process, sha256_of
from tests.conftest import ROOT
from tests.fetch.replica import Case, Treatment
from tests.reliability.helpers import variant

SAMPLES = ROOT / "data" / "samples"
# Letters that can be varied (their case-summary preamble takes a note): a distinct letter each.
VARIED = (
    "seeds/000_8688a23c91e089a1.txt",
    "seeds/003_178c71d1b9319c7d.txt",
    "regressions/glued_request_b.txt",
    "regressions/preamble_wrapped_no_colon.txt",
    "regressions/header_missing_value_pypdf.txt",  # B2: prints its case number
)
SAMPLE_CASE_NUMBER = "SY20-9000011"
# Used once each, as they are.
ONCE = (
    "layout_a/documents_2013_retro.txt",
    "layout_a/notice_2013_frp.txt",
    "layout_a/notice_2013_partial_overturn_pypdf.txt",
    "layout_a/professional_2013_seed_style.txt",
)


def case_number(n: int) -> str:
    return f"CM24-{n:07d}"


@functools.cache
def _letter(name: str) -> Letter:
    """A sample letter as our parser reads it (its variants read the same: only a note in the
    case summary and the case number differ)."""
    data = (SAMPLES / name).read_bytes()
    outcome = process("replica.txt", data, False, sha256_of(data))
    assert isinstance(outcome, Loaded), outcome
    return outcome.letter


def text_pdf(text: str) -> bytes:
    """A real PDF with the letter's lines as its text layer (fpdf2, core Helvetica), drawn line
    by line: fast enough for a replica of many letters."""
    pdf = FPDF(unit="pt", format="letter")
    pdf.set_font("helvetica", size=8)
    lines = text.encode("latin-1", "replace").decode("latin-1").splitlines()
    for start in range(0, max(len(lines), 1), 70):
        pdf.add_page()
        for row, line in enumerate(lines[start : start + 70]):
            if line.strip():
                pdf.text(36, 40 + row * 10, line.rstrip())
    return bytes(pdf.output())


def sample_name(n: int) -> str:
    return ONCE[n] if n < len(ONCE) else VARIED[n % len(VARIED)]


def letter_text(n: int) -> str:
    """Case n's letter: a sample letter, varied so that each case is a letter of its own."""
    name = sample_name(n)
    text = (SAMPLES / name).read_text(encoding="utf-8")
    if n < len(ONCE):
        return text
    return variant(text, n).replace(SAMPLE_CASE_NUMBER, case_number(n))


def make_case(n: int, decided: dt.date) -> Case:
    text = letter_text(n)
    letter = _letter(sample_name(n))
    treatments = [
        Treatment(item.category or "", item.subcategory or "", item.decision)
        for item in letter.items
    ]
    return Case(
        case_number=case_number(n),
        decision_date=decided,
        injury_date=letter.injury_date,
        received_date=decided - dt.timedelta(days=30),
        specialty=(letter.reviewer_specialties or [""])[0],
        treatments=treatments,
        pdf=text_pdf(text),
    )


def make_cases(count: int, first: dt.date, days: int, start: int = 0) -> list[Case]:
    """``count`` cases spread over ``days`` days from ``first`` (a few per day, some days none)."""
    return [
        make_case(n, first + dt.timedelta(days=(n * 7) % days)) for n in range(start, start + count)
    ]


def edited(case: Case, **changes: object) -> Case:
    return dataclasses.replace(case, **changes)  # type: ignore[arg-type]


def write_letters(cases: list[Case], folder: Path) -> None:
    for case in cases:
        (folder / f"{case.case_number}.pdf").write_bytes(case.pdf)

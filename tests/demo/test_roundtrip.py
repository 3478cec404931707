"""Round trip: every synthetic letter, in every rendering, parses to its expected structure."""

from __future__ import annotations

from typing import Any

import pytest

from etl.demo import SyntheticLetter, structural
from etl.parse import LetterError, parse_letter

pdfium = pytest.importorskip("pypdfium2")

TEXT_RENDERINGS = ("pypdf", "pdftotext", "seed")
PDF_EVERY = 7  # PDFs are slow to make: every 7th letter of each layout


def pdf_text(data: bytes) -> str:
    """Text of a PDF as pdfium extracts it, pages separated by form feeds."""
    document = pdfium.PdfDocument(data)
    try:
        return "\f".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def diff(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    out = [
        f"{key}: expected {expected[key]!r}, got {got.get(key)!r}"
        for key in expected
        if key != "items" and expected[key] != got.get(key)
    ]
    if len(expected["items"]) != len(got["items"]):
        want = [i["request"] for i in expected["items"]]
        have = [i["request"] for i in got["items"]]
        return [*out, f"items: expected {want!r}, got {have!r}"]
    for want, have in zip(expected["items"], got["items"], strict=True):
        out += [
            f"item {want['item_no']} {key}: expected {want[key]!r}, got {have[key]!r}"
            for key in want
            if want[key] != have[key]
        ]
    return out


def check(letters: list[SyntheticLetter], rendering: str) -> None:
    failures = []
    for letter in letters:
        data = letter.render(rendering)
        text = pdf_text(data) if isinstance(data, bytes) else data
        try:
            got = structural(parse_letter(text).as_dict())
        except LetterError as error:
            failures.append(f"{letter.letter_id}: LetterError {error}")
            continue
        problems = diff(letter.expected(), got)
        if problems:
            failures.append(f"{letter.letter_id}: " + "; ".join(problems[:3]))
    assert not failures, f"{len(failures)} of {len(letters)} letters:\n" + "\n".join(failures[:5])


@pytest.mark.parametrize("layout", ["A", "B", "B2"])
@pytest.mark.parametrize("rendering", TEXT_RENDERINGS)
def test_text_round_trip(
    round_trip_letters: list[SyntheticLetter], layout: str, rendering: str
) -> None:
    letters = [letter for letter in round_trip_letters if letter.layout == layout]
    assert len(letters) >= 60
    check(letters, rendering)


@pytest.mark.parametrize("layout", ["A", "B", "B2"])
def test_pdf_round_trip(round_trip_letters: list[SyntheticLetter], layout: str) -> None:
    letters = [letter for letter in round_trip_letters if letter.layout == layout][::PDF_EVERY]
    check(letters, "pdf")


def test_generated_rendering_is_the_letters_own(
    round_trip_letters: list[SyntheticLetter],
) -> None:
    for letter in round_trip_letters[:30]:
        assert letter.text == letter.render(letter.rendering)

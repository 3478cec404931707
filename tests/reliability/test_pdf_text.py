"""A PDF's text, read through PDFium's own calls (etl.extract), is what pypdfium2's
``get_text_bounded()`` reads: each page's text inside its bounding box, pages joined by form
feeds, then cleaned. The extraction asks PDFium once per page into a buffer it guesses; these
check the guess's fallback too, and that text outside the page stays out.
"""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
from fpdf import FPDF

from etl import extract
from etl.model import LetterError
from tests.conftest import REAL
from tests.reliability.helpers import many_page_pdf, seed_texts, text_pdf


def bounded_text(data: bytes) -> str:
    """The text as pypdfium2's helper objects read it (the code before etl.extract's own calls)."""
    document = pdfium.PdfDocument(data)
    try:
        pages = [document[i].get_textpage().get_text_bounded() for i in range(len(document))]
    finally:
        document.close()
    return extract.clean_text("\f".join(pages))


def off_page_pdf(off: bool = True) -> bytes:
    """A page whose text layer holds words drawn off the page (left of it and below it)."""
    pdf = FPDF()
    pdf.set_font("helvetica", size=9)
    pdf.add_page()
    pdf.multi_cell(0, 4, seed_texts()[0][:1500].encode("latin-1", "replace").decode("latin-1"))
    if off:
        pdf.text(x=-80, y=40, text="OFFPAGE-LEFT")
        pdf.text(x=20, y=400, text="OFFPAGE-BELOW")
    return bytes(pdf.output())


def pdfs() -> dict[str, bytes]:
    found = {
        "seed": text_pdf(seed_texts()[0]),
        "three pages": many_page_pdf(3),
        "text off the page": off_page_pdf(),
    }
    real = sorted((REAL / "pdf").glob("*.pdf"))[:3] if (REAL / "pdf").is_dir() else []
    found.update({path.name: path.read_bytes() for path in real})
    return found


@pytest.mark.parametrize("name", list(pdfs()))
def test_the_text_is_pypdfium2s_bounded_text(name: str) -> None:
    data = pdfs()[name]
    assert extract.extract_pdf(data) == bounded_text(data)


def test_text_off_the_page_is_left_out() -> None:
    text = extract.extract_pdf(off_page_pdf())
    assert text == extract.extract_pdf(off_page_pdf(off=False))
    assert len(text) > 1000 and "OFFPAGE" not in text
    # It is in the text layer: only the page's box keeps it out.
    document = pdfium.PdfDocument(off_page_pdf())
    assert "OFFPAGE-LEFT" in document[0].get_textpage().get_text_range()


def test_a_page_longer_than_the_first_guess_is_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = text_pdf(seed_texts()[0])
    whole = extract.extract_pdf(data)
    # A guess of 64 code units: the first read fills the buffer, the second asks for the length.
    monkeypatch.setattr(extract.pdfium_c, "FPDFText_CountChars", lambda textpage: 0)
    assert extract.extract_pdf(data) == whole
    assert len(whole) > 1000


def test_a_page_that_outgrows_every_guess_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(extract.pdfium_c, "FPDFText_CountChars", lambda textpage: 0)
    real = extract.pdfium_c.FPDFText_GetBoundedText
    calls = []

    def lying(*args: object) -> int:  # says the text is 1 unit long, while it is longer
        calls.append(args[-2] is None)
        return 1 if args[-2] is None else int(real(*args))

    monkeypatch.setattr(extract.pdfium_c, "FPDFText_GetBoundedText", lying)
    with pytest.raises(LetterError) as raised:
        extract.extract_pdf(text_pdf(seed_texts()[0]))
    assert raised.value.reason == "unreadable_pdf"
    # The guess, the length, the read at that length; then it gives up.
    assert calls == [False, True, False]


def test_a_pages_text_is_get_text_bounded_exactly() -> None:
    """Before any cleaning: no terminating NUL, nothing cut."""
    document = pdfium.PdfDocument(text_pdf(seed_texts()[0]))
    try:
        textpage = document[0].get_textpage()
        left, bottom, right, top = textpage.page.get_bbox()
        text = extract._bounded_text(textpage, (left, top, right, bottom))
        assert text == textpage.get_text_bounded()
        assert len(text) > 1000 and "\x00" not in text
    finally:
        document.close()

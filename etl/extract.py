"""Bytes to text: PDFs through pypdfium2, text files in whatever encoding they came in.

Raises ``LetterError`` with a stable reason code; the batch turns it into a reject.
"""

from __future__ import annotations

import codecs
import ctypes
import re
from typing import Any

# PDFium's own calls (importing them runs pypdfium2's __init__, which initialises PDFium).
import pypdfium2.raw as pdfium_c

from etl.model import LetterError

# Letters run 2-15 pages; anything far longer is not one letter.
MAX_PDF_PAGES = 200
# Fewer characters than this per page means a scan without a text layer.
MIN_CHARS_PER_PAGE = 20
# A letter's text runs to tens of thousands of characters; far more is not one letter, and
# would cost the parser and the warehouse memory in proportion (a padded or crafted file).
MAX_TEXT_CHARS = 2_000_000


def extract_text(data: bytes, name: str) -> str:
    """The text of one input file, chosen by content first and the file name second.

    The text comes back clean of control characters (see ``clean_text``), whatever the source.
    """
    if not data:
        raise LetterError("empty_file", "the file has no content")
    if data.lstrip()[:5] == b"%PDF-" or name.lower().endswith(".pdf"):
        text = extract_pdf(data)
    else:
        text = clean_text(decode_text(data))
    if len(text) > MAX_TEXT_CHARS:
        raise LetterError(
            "text_too_long",
            f"{len(text):,} characters of text; a letter has far fewer (limit {MAX_TEXT_CHARS:,})",
        )
    return text


# Control characters that mean nothing in a letter but everything to a terminal (ESC opens the
# escape sequences that move the cursor, clear the screen or set the clipboard, BEL ends OSC
# ones): C0 but for tab, line feed and form feed, DEL, and C1. The few that separate words in
# plain text (vertical tab, the information separators, NEL) become a space, so that removing
# them never glues two words together; carriage returns become line feeds first; pdfium's
# line-end hyphen (U+0002) becomes what the parser has always read it as.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
_CONTROL_SPACES = frozenset("\x0b\x1c\x1d\x1e\x1f\x85")
# The same in a text's UTF-8, for a fast test of a text that has none (nearly every one): the
# pattern's scan of such a text cost 4% of a letter's parse and classification. No byte of
# another character's UTF-8 is ASCII, and 0xC2 only ever begins U+0080-U+00BF.
_ASCII_CONTROLS = bytes(c for c in range(0x80) if _CONTROLS.match(chr(c)))
_C1_CONTROLS_UTF8 = re.compile(b"\\xc2[\\x80-\\x9f]")


def clean_text(text: str) -> str:
    """``text`` with line breaks as ``\\n`` and no control characters but tab and form feed."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x02" in text:
        text = text.replace("\x02", "-\n")
    encoded = text.encode("utf-8", "surrogatepass")
    if len(encoded.translate(None, _ASCII_CONTROLS)) == len(encoded) and (
        text.isascii() or not _C1_CONTROLS_UTF8.search(encoded)
    ):
        return text
    return _CONTROLS.sub(_control_replacement, text)


def _control_replacement(match: re.Match[str]) -> str:
    return " " if match[0] in _CONTROL_SPACES else ""


def extract_pdf(data: bytes) -> str:
    if b"%PDF-" not in data[:1024]:
        raise LetterError("not_a_pdf", "named .pdf but has no PDF signature")
    # PDFium's own calls, not pypdfium2's helper objects, which register a finalizer for each
    # document, page and text page and whose get_text_bounded() asks PDFium for each page's
    # text twice (its length, then the text): together about 9% of a letter's extraction
    # (docs/benchmarks.md, stop 51). The error names are ours: pypdfium2's are internal.
    # ``data`` outlives the document: PDFium reads from its buffer until the document closes.
    document = pdfium_c.FPDF_LoadMemDocument64(data, len(data), None)
    if not document:
        error = pdfium_c.FPDF_GetLastError()
        if error == pdfium_c.FPDF_ERR_PASSWORD:
            raise LetterError("encrypted_pdf", "the PDF needs a password")
        reason = _ERRORS.get(error, f"error {error}")
        raise LetterError("unreadable_pdf", f"PDFium could not load it ({reason})")
    try:
        pages = pdfium_c.FPDF_GetPageCount(document)
        if pages < 1:
            raise LetterError("unreadable_pdf", "PDFium found no pages in it")
        if pages > MAX_PDF_PAGES:
            raise LetterError("too_many_pages", f"{pages} pages; a letter has far fewer")
        texts = [_page_text(document, index) for index in range(pages)]
    finally:
        pdfium_c.FPDF_CloseDocument(document)
    text = clean_text("\f".join(texts))
    if len(text.strip()) < MIN_CHARS_PER_PAGE * max(pages, 1):
        raise LetterError("no_text_layer", f"{pages} page(s) but no extractable text (a scan?)")
    return text


_ERRORS = {
    pdfium_c.FPDF_ERR_UNKNOWN: "unknown error",
    pdfium_c.FPDF_ERR_FILE: "file access error",
    pdfium_c.FPDF_ERR_FORMAT: "data format error",
    pdfium_c.FPDF_ERR_SECURITY: "unsupported security scheme",
    pdfium_c.FPDF_ERR_PAGE: "page not found or content error",
}


def _page_text(document: Any, index: int) -> str:
    """The text inside page ``index``'s bounding box (its media box cut by its crop box), as
    pypdfium2's ``get_text_bounded()`` reads it."""
    page = pdfium_c.FPDF_LoadPage(document, index)
    if not page:
        raise LetterError("unreadable_pdf", f"PDFium could not load page {index + 1}")
    try:
        textpage = pdfium_c.FPDFText_LoadPage(page)
        if not textpage:
            raise LetterError("unreadable_pdf", f"PDFium could not read page {index + 1}'s text")
        try:
            box = pdfium_c.FS_RECTF()
            if not pdfium_c.FPDF_GetPageBoundingBox(page, box):
                raise LetterError("unreadable_pdf", f"page {index + 1} has no bounding box")
            return _bounded_text(textpage, (box.left, box.top, box.right, box.bottom))
        finally:
            pdfium_c.FPDFText_ClosePage(textpage)
    finally:
        pdfium_c.FPDF_ClosePage(page)


def _bounded_text(textpage: Any, box: tuple[float, float, float, float]) -> str:
    # A first guess from the page's characters (the text adds line breaks between lines) is
    # nearly always long enough; else the text's exact length is asked for (in UTF-16 units;
    # doubled, in case a PDFium counts code points).
    text = _read_bounded(textpage, box, 2 * max(pdfium_c.FPDFText_CountChars(textpage), 0) + 64)
    if text is None:
        length = pdfium_c.FPDFText_GetBoundedText(textpage, *box, None, 0)
        text = _read_bounded(textpage, box, 2 * max(length, 0) + 2)
    if text is None:
        raise LetterError("unreadable_pdf", "a page's text outgrew the length PDFium gave for it")
    return text


def _read_bounded(textpage: Any, box: tuple[float, float, float, float], size: int) -> str | None:
    """The text, or None when it may not have fit ``size`` UTF-16 units."""
    buffer = (ctypes.c_ushort * size)()
    # PDFium copies at most ``size`` units and returns how many it copied, the text's ending
    # NUL among them when there is room for it: fewer than ``size`` is the whole text.
    written = pdfium_c.FPDFText_GetBoundedText(textpage, *box, buffer, size)
    if written >= size:
        return None
    if written > 0 and buffer[written - 1] == 0:
        written -= 1
    return ctypes.string_at(buffer, 2 * max(written, 0)).decode("utf-16-le", "ignore")


def decode_text(data: bytes) -> str:
    """Decode text of unknown encoding: BOMs first, then UTF-8, then Windows-1252.

    A NUL character anywhere in the decoded text means a binary file, not a letter. It is looked
    for after decoding, so that the NUL bytes of UTF-16 text count only when they decode to NUL.
    """
    text = _decode(data)
    if "\x00" in text:
        raise LetterError("binary_file", "not text: contains NUL bytes")
    return text


def _decode(data: bytes) -> str:
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    # UTF-16 without a BOM: every other byte is NUL in English text.
    sample = data[:2000]
    if sample and sample.count(0) > len(sample) // 3:
        encoding = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        return data.decode(encoding, errors="replace")
    if b"\x00" in data:
        raise LetterError("binary_file", "not text: contains NUL bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # cp1252 leaves five bytes undefined; latin-1 maps them rather than failing.
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


__all__ = [
    "LetterError",
    "MAX_PDF_PAGES",
    "clean_text",
    "extract_text",
    "extract_pdf",
    "decode_text",
]

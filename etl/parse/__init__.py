"""Text to ``Letter``: every layout, whatever tool extracted the text.

``parse_letter`` normalises the text, picks the layout and hands it to that layout's parser.
A text that is not a letter, or a letter we cannot read faithfully, raises ``LetterError`` with a
stable reason code: the batch records it as a reject instead of guessing.
"""

from __future__ import annotations

from etl import native

# The compiled parser first, while it is the build of these sources (etl/native.py).
native.extend_path(__name__, __path__)

from etl.model import Letter, LetterError
from etl.parse.common import normalise_text
from etl.parse.modern import looks_modern, parse_modern
from etl.parse.notice import has_notice_heading, looks_notice, parse_notice

__all__ = ["LetterError", "parse_letter", "normalise_text"]


def parse_letter(text: str) -> Letter:
    """Parse one letter's extracted text. Raises ``LetterError`` when it cannot."""
    lines = normalise_text(text)
    if not lines:
        raise LetterError("empty", "no text")
    # The 2013 test is the stricter one, so it goes first (see ``looks_notice``).
    if looks_notice(lines):
        return parse_notice(lines)
    if looks_modern(lines):
        return parse_modern(lines)
    if has_notice_heading(lines):
        return parse_notice(lines)  # a 2013 notice that decides nothing: rejected with why
    raise LetterError("not_a_letter", "no IMR Final Determination headings found")

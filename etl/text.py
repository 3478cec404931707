"""Text normalisation shared by parse and classify: the punctuation extractors disagree on.

Curly quotes, primes and the many dashes become their ASCII forms, so that every rendering of a
letter reads the same to the parser and every vocabulary pattern is written for one form only.
"""

from __future__ import annotations

import re

PUNCTUATION: dict[str, str] = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2032": "'",
    "\u2013": "-",
    "\u2014": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2212": "-",
}
_TABLE = str.maketrans(PUNCTUATION)
_SPACE_RE = re.compile(r"\s+")


def plain(text: str) -> str:
    """ASCII quotes and dashes, single spaces, trimmed: the form vocabularies are written for."""
    return _SPACE_RE.sub(" ", text.translate(_TABLE)).strip()

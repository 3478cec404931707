"""Helpers every layout parser shares: text normalisation, dates, the case-summary facts."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

from etl.model import Letter
from etl.text import PUNCTUATION, CasePattern, replace_chars, replacements

# Characters extractors disagree on; mapped so that every rendering of a letter reads the same.
# Applied with replace_chars: str.translate cost 0.5 ms per non-ASCII letter (etl.text).
_TRANSLATE = replacements(
    {
        **PUNCTUATION,
        "\u00ad": None,  # soft hyphen
        "\u200b": None,
        "\ufeff": None,
        # pdfium marks a line-end hyphen with \x02 and swallows the line break.
        "\ufffe": "-\n",
        "\x02": "-\n",
        "\f": "\n",
        "\r": "\n",
        "\t": " ",
        "\u00a0": " ",
    }
)
_ASCII_CONTROLS = [(k, v) for k, v in (("\x02", "-\n"), ("\r", "\n"), ("\f", "\n"), ("\t", " "))]
# Runs of two or more spaces, or one exotic space: a lone ASCII space is left alone, so that
# the substitution does not build one piece per word (461 MiB on a 45 MiB text, measured).
_SPACES = re.compile(r"[ \u2000-\u200a\u202f\u205f\u3000]{2,}|[\u2000-\u200a\u202f\u205f\u3000]")
_EXOTIC_SPACES = "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"
# The same on a text without exotic spaces, and many times faster: it opens with a literal, which
# the regex engine looks for with a fast scan (``_SPACES`` tries every position of the text).
_ASCII_SPACES = re.compile("  +")


def _collapse_spaces(text: str) -> str:
    """``_SPACES.sub(" ", text)``, without running the slow pattern where it cannot match."""
    if text.isascii() or not any(space in text for space in _EXOTIC_SPACES):
        return _ASCII_SPACES.sub(" ", text) if "  " in text else text
    return _SPACES.sub(" ", text)


def normalise_text(text: str) -> list[str]:
    """Return the letter's non-empty lines, stripped, with extractor quirks folded away.

    Blank lines carry no meaning across renderings (the seed style puts one after every line),
    so they are dropped; page breaks become line breaks.
    """
    if text.isascii():
        # The common case, and a hot path: plain replaces beat a translate table.
        for old, new in _ASCII_CONTROLS:
            if old in text:
                text = text.replace(old, new)
    else:
        # NFKC makes every exotic space U+0020: only runs of spaces are left to collapse.
        text = unicodedata.normalize("NFKC", replace_chars(text, _TRANSLATE))
    text = _ASCII_SPACES.sub(" ", text) if "  " in text else text
    return [line for line in map(str.strip, text.split("\n")) if line]


# "- " first, the letter before it checked after (a lookbehind): the same matches, but the
# engine can scan for the literal instead of trying the lookbehind at every position.
_LINE_END_HYPHEN = re.compile(r"- (?<=[A-Za-z]- )(?=[a-z])")


def join_lines(lines: list[str]) -> str:
    """One paragraph from wrapped lines, whitespace collapsed.

    A word hyphenated at a line end is joined back ("anti-" / "inflammatory"); digits are left
    alone so that a date split as "10-" / "17-2016" stays readable.
    """
    text = _collapse_spaces(" ".join(lines)).strip()
    return _LINE_END_HYPHEN.sub("-", text) if "- " in text else text


_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    )
}
NUMERIC_DATE = r"\d{1,2}\s?[/-]\s?\d{1,2}\s?[/-]\s?(?:\d{4}|\d{2})\b"
# Patterns here and in the layout parsers run on untrusted text: a repeat followed by something
# it could also match is possessive (``*+``, ``++``) or the match must not be able to begin in the
# middle of the run, so that no input makes them backtrack super-linearly
# (tests/reliability/test_parser_linear.py pumps every one of them).
WORD_DATE = (
    r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*+\.?\s++\d{1,2}(?:st|nd|rd|th)?"
    r",?\s++\d{4}"
)
DATE = rf"(?:{NUMERIC_DATE}|{WORD_DATE})"
_NUMERIC_PARTS = re.compile(r"(\d{1,2})\s?[/-]\s?(\d{1,2})\s?[/-]\s?(\d{4}|\d{2})")
# A month name begins a word: a match starting mid-word could only capture three letters that
# are no month (and trying each start in a long word was quadratic).
_WORD_PARTS = re.compile(
    r"(?<![A-Za-z])([A-Za-z]{3})[a-z]*+\.?\s++(\d{1,2})(?:st|nd|rd|th)?,?\s++(\d{4})"
)


def parse_date(text: str | None, *, pivot: int = 30) -> dt.date | None:
    """Parse MM/DD/YYYY, MM-DD-YY, M/D/YYYY or 'October 24, 2016'; None when not a real date.

    Two-digit years up to ``pivot`` are 20xx, later ones 19xx (injuries go back to the 1970s).
    """
    if not text:
        return None
    text = text.strip()
    match = _NUMERIC_PARTS.fullmatch(text) or _NUMERIC_PARTS.search(text)
    if match:
        month, day, year = int(match[1]), int(match[2]), int(match[3])
        if len(match[3]) == 2:
            year += 2000 if year <= pivot else 1900
    else:
        match = _WORD_PARTS.search(text)
        if not match or match[1].lower() not in _MONTHS:
            return None
        month, day, year = _MONTHS[match[1].lower()], int(match[2]), int(match[3])
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


# --- The case summary: the facts DWC reports by (age, sex, date of injury, diagnoses). ---

# Matched as with IGNORECASE (etl.text.CasePattern: what they find is read from the summary).
_AGE = CasePattern(r"\b(\d{1,3})\s?-?\s?(?:year|yr)s?\s?-?\s?old\b")
_SEX = CasePattern(r"\b(male|female|man|woman|gentleman|lady)\b")
_SEX_WORDS = {
    "male": "male",
    "man": "male",
    "gentleman": "male",
    "female": "female",
    "woman": "female",
    "lady": "female",
}
_INJURY_DATE = CasePattern(
    rf"(?:injur(?:y|ed)|claim|accident)\b[^.]{{0,60}}?\b(?:on|of|from|dated|date)\b\s*+:?\s*+({DATE})"
)
_DIAGNOSES = CasePattern(
    r"\bdiagnos[a-z]*\b\s*(?:include[sd]?|includ(?:ing)|of|are|were|was|is|as|:|consist of)\s*:?\s*"
    r"(.+?)(?:\.(?:\s|$)|$)"
)


def set_case_summary(letter: Letter, summary: str) -> None:
    """The case summary and the facts read from its prose (age, sex, injury date, diagnoses)."""
    letter.case_summary = summary or None
    if summary:
        letter.patient_age = find_age(summary)
        letter.patient_sex = find_sex(summary)
        letter.injury_date = find_injury_date(summary)
        letter.diagnoses = find_diagnoses(summary)


def find_age(summary: str) -> int | None:
    match = _AGE.search(summary[:600])
    if match and 10 <= int(match[1]) <= 110:
        return int(match[1])
    return None


def find_sex(summary: str) -> str | None:
    # Only the opening sentences: later ones mention doctors and family members.
    match = _SEX.search(summary[:400])
    return _SEX_WORDS[match[1].lower()] if match else None


def find_injury_date(summary: str) -> dt.date | None:
    match = _INJURY_DATE.search(summary[:1500])
    return parse_date(summary[match.start(1) : match.end(1)]) if match else None


def find_diagnoses(summary: str) -> str | None:
    match = _DIAGNOSES.search(summary)
    if not match:
        return None
    diagnoses = summary[match.start(1) : match.end(1)].strip(" ,;:")
    return diagnoses[:1000] or None

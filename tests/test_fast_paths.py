"""The parser's and classifier's fast paths give what the plain forms they replace give.

Each fast path is checked against the plain form on texts built from the pieces that matter to
it (labels, colons, spaces, periods, abbreviations, non-ASCII letters), with Hypothesis.
"""

from __future__ import annotations

import re
import sys
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from etl.classify.reasons import _ABBREVIATION, _BOUNDARY, _ends_with_abbreviation, sentences
from etl.extract import _CONTROLS, _control_replacement, clean_text
from etl.parse import common, modern, notice
from etl.parse.modern import _DECISION_SUFFIX, _FIELD, _decision_suffix, _split_fields
from etl.pipeline import _NOT_LETTERS, _reduced
from etl.text import CASE_SPECIALS, CasePattern, fold_punctuation, lowers_in_place


def _texts(pieces: list[str], max_size: int = 40) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


_FIELD_PIECES = [
    "Claims Administrator guideline",
    "claims administrator GUIDELINE",
    "MAXIMUS guideline",
    "Maximus Guideline",
    "Decision rationale",
    "DECISION RATIONALE",
    "Decision",
    "guideline",
    "MAXIMUS",
    ":",
    " ",
    "  ",
    "\n",
    "\t",
    "x",
    "The request. ",
    "é",
    "ß",
    "\u201c",
    "\u0130",
    "\u0131",
    "\u017f",
    "\u212a",
    "claimſ administrator guıdeline",
    "MAXIMUS GUİDELINE",
]


@settings(max_examples=400, deadline=None)
@given(_texts(_FIELD_PIECES))
@example("Decision rationale: no. MAXIMUS guideline :\nMTUS. Claims Administrator guideline:")
@example("maximus guideline maximus guideline\t: x")
def test_split_fields_is_the_pattern_split(body: str) -> None:
    assert _split_fields(body) == _FIELD.split(body)


_LAST_WORD = re.compile(r"[\w.]+$")  # the last word, as sentences() found it before


def _ends_with_abbreviation_plain(before: str) -> bool:
    word = _LAST_WORD.search(before)
    return bool(word and _ABBREVIATION.search(word.group()))


_SENTENCE_PIECES = [
    "Dr",
    "dr",
    "approx",
    "e.g",
    "i.e",
    "U.S",
    "etc",
    "no",
    "x",
    "A",
    "word",
    "improvement",
    ".",
    " ",
    "\n",
    "-",
    "(",
    ")",
    '"',
    "5",
    "_",
    "é",
]


@settings(max_examples=600, deadline=None)
@given(_texts(_SENTENCE_PIECES, max_size=30))
def test_abbreviation_at_the_end_is_the_last_words(before: str) -> None:
    assert _ends_with_abbreviation(before, 0, len(before)) == _ends_with_abbreviation_plain(before)


def _sentences_plain(text: str) -> list[tuple[int, int]]:
    """reasons.sentences as it was written first: each text before a boundary copied."""
    spans, start = [], 0
    text = fold_punctuation(text)
    for m in _BOUNDARY.finditer(text):
        before = text[start : m.start()]
        if _ends_with_abbreviation_plain(before) and not before.endswith(".."):
            continue
        if re.search(r"\d$", before) and re.match(r"\s+\d", text[m.end() :]):
            continue
        spans.append((start, m.end()))
        start = m.end()
    spans.append((start, len(text)))
    trimmed = [(a + len(text[a:b]) - len(text[a:b].lstrip()), b) for a, b in spans]
    trimmed = [(a, a + len(text[a:b].rstrip())) for a, b in trimmed]
    return [(a, b) for a, b in trimmed if a < b]


@settings(max_examples=600, deadline=None)
@given(_texts([*_SENTENCE_PIECES, ". ", "? ", '." ', " The", " 5 mg", "1.", "..", "A. B"], 40))
@example("See Dr. Smith. The request is 1.\n5 mg. No. 5 was e.g. done. Then x.. Next")
def test_sentences_read_in_place_are_the_copies(text: str) -> None:
    assert sentences(text) == _sentences_plain(text)


def _reduced_plain(text: str, limit: int = 400) -> str:
    return _NOT_LETTERS.sub("", text.lower())[:limit]


@settings(max_examples=200, deadline=None)
@given(
    _texts(["a", "B", "7", " ", ".", "\n", "ÀÉ", "ß", "Σ", "İ", "word ", "x" * 300], 60),
    st.integers(1, 900),
)
@example("ab " * 200, 100)  # the first slice holds fewer than the limit
@example("a." * 5000, 400)  # ... and the slices grow past 4096
def test_reduced_reads_slices_as_the_whole(text: str, limit: int) -> None:
    assert _reduced(text, limit) == _reduced_plain(text, limit)


def _clean_text_plain(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x02", "-\n")
    return _CONTROLS.sub(_control_replacement, text)


@settings(max_examples=300, deadline=None)
@given(
    _texts(
        [
            "a",
            " ",
            "\n",
            "\r",
            "\t",
            "\f",
            "\x00",
            "\x02",
            "\x0b",
            "\x1b",
            "\x7f",
            "\x85",
            "\x9f",
            "\xa0",
            "\u0100",
            "\u2019",
            "\ud800",
            "é",
            "word",
        ],
        40,
    )
)
@example("plain ascii\nletter\f")
def test_clean_text_is_the_pattern_substitution(text: str) -> None:
    assert clean_text(text) == _clean_text_plain(text)


_REQUEST_PIECES = [
    "Upheld",
    "overturned",
    "Overturned.",
    "is",
    "IS",
    "this",
    " ",
    ":",
    ",",
    "\n",
    ".",
    "x",
    "(",
    "Norco 10/325mg #90",
    " " * 30,
    ":" * 25,
]


def _span(match: re.Match[str] | None) -> tuple[int, int] | None:
    return match.span() if match else None


@settings(max_examples=600, deadline=None)
@given(_texts(_REQUEST_PIECES, 30))
@example("Norco " + "x" * 40 + " is : " + " " * 40 + "Upheld")
@example("Norco" + " " * 45 + "is" + " " * 45 + "Overturned.")
@example("Norco" + " " * 45 + "is : Upheld")
def test_decision_suffix_is_the_patterns_search(text: str) -> None:
    assert _span(_decision_suffix(text)) == _span(_DECISION_SUFFIX.search(text))


def test_the_case_specials_are_every_character_lowered_or_matched_as_ascii() -> None:
    letter = re.compile("[a-z]", re.IGNORECASE)
    found = [
        chr(c)
        for c in range(0x80, sys.maxunicode + 1)
        if letter.fullmatch(chr(c)) or len(chr(c).lower()) != 1 or chr(c).lower().isascii()
    ]
    assert "".join(found) == CASE_SPECIALS


def test_lowering_keeps_what_each_character_is_to_a_pattern() -> None:
    """Outside CASE_SPECIALS, lower-casing keeps a character a word character, a space or a
    digit, or not: \\b, \\w, \\s and \\d read a lower-cased text as they read the text."""
    classes = [re.compile(r"\w"), re.compile(r"\s"), re.compile(r"\d")]
    changed = [
        hex(c)
        for c in range(sys.maxunicode + 1)
        if chr(c) not in CASE_SPECIALS
        and any(bool(k.match(chr(c))) != bool(k.match(chr(c).lower()[:1])) for k in classes)
    ]
    assert changed == []


def _case_patterns() -> list[tuple[str, CasePattern]]:
    found = []
    for module in (common, modern, notice):
        for name, value in vars(module).items():
            if isinstance(value, CasePattern):
                found.append((f"{module.__name__}.{name}", value))
    return found


_CASE_PIECES = [
    "Case Number",
    "CASE  NUMBER:",
    "date of injury",
    "Date Assigned :",
    "Priority:",
    "12/14/2016",
    "1-2-16",
    "October 24, 2016",
    "OCTOBER 24 2016",
    "oct. 3rd, 2015",
    "Standard",
    "EXPEDITED",
    "SY17-0900006",
    "sy17-0900006",
    "56-year-old",
    "Year Old",
    "yrs old",
    "male",
    "Female",
    "GENTLEMAN",
    "injured on",
    "Claim date:",
    "accident of",
    "Diagnoses include",
    "DIAGNOSIS:",
    "lumbar strain",
    " ",
    ":",
    "\n",
    ".",
    ",",
    "x",
    "é",
    "ß",
    "\u2019",
    "\u0130",
    "\u212a",
]


def _matches(pattern: re.Pattern[str], text: str) -> list[Any]:
    return [
        (m.span(), m.lastgroup, [m.span(g) for g in range(1, (pattern.groups or 0) + 1)])
        for m in pattern.finditer(text)
    ]


@settings(max_examples=500, deadline=None)
@given(_texts(_CASE_PIECES, 30))
@example("Case Number: SY17-0900006 Date of Injury: OCTOBER 24 2016 Priority: STANDARD")
@example("A 56 Year Old GENTLEMAN, injured on 10/2/2015. Diagnoses include: lumbar strain.")
def test_case_patterns_find_what_ignorecase_finds(text: str) -> None:
    assert _case_patterns()
    for name, case in _case_patterns():
        pattern, searched = case.prepared(text)
        assert _matches(pattern, searched) == _matches(case.ignorecase, text), name
        assert (pattern is case.lowered) == lowers_in_place(text)

"""Property-based: the parser, fed mutated real letters, never crashes and never invents an item.

Mutations: deleted lines, duplicated lines, whitespace shuffled or added, page breaks (``\\f``)
inserted anywhere (even inside words), truncation. Whatever comes out must be a ``Letter`` whose
every item is backed by the text, or a ``LetterError``.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl.parse import LetterError, normalise_text, parse_letter
from tests.reliability.helpers import real_texts, seed_texts

_WS = re.compile(r"\s+")
_DECIDED = re.compile(r"upheld|overturned", re.I)
# Layout A states its decisions in a sentence, not with the words Upheld/Overturned.
_NOTICE_DECIDED = re.compile(r"has\s+determined", re.I)

SEEDS = seed_texts()
REAL = real_texts()


def _squash(text: str) -> str:
    return _WS.sub("", text)


@st.composite
def mutated(draw: st.DrawFn, letters: list[str]) -> str:
    text = draw(st.sampled_from(letters))
    lines = text.split("\n")
    for _ in range(draw(st.integers(0, 6))):
        if not lines:
            break
        op = draw(st.sampled_from(["delete", "duplicate", "swap", "blank"]))
        at = draw(st.integers(0, len(lines) - 1))
        if op == "delete":
            del lines[at]
        elif op == "duplicate":
            lines.insert(at, lines[at])
        elif op == "swap" and at + 1 < len(lines):
            lines[at], lines[at + 1] = lines[at + 1], lines[at]
        else:
            lines.insert(at, draw(st.sampled_from(["", " ", "\t", "   \t "])))
    text = "\n".join(lines)
    # Whitespace: widen, shrink, or turn into other whitespace (including line breaks).
    spaces = [m.start() for m in re.finditer(r"[ \n]", text)]
    if spaces:
        chosen = draw(st.lists(st.sampled_from(spaces), max_size=25, unique=True))
        for at in sorted(chosen, reverse=True):
            text = (
                text[:at]
                + draw(st.sampled_from(["  ", "\t", "\n", " \n ", "\r\n", ""]))
                + (text[at + 1 :])
            )
    # Page breaks anywhere, even inside a word.
    if text:
        for at in sorted(draw(st.lists(st.integers(0, len(text)), max_size=8)), reverse=True):
            text = text[:at] + draw(st.sampled_from(["\f", "\n\f\n", " \f "])) + text[at:]
    if draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]
    return text


def _check(text: str) -> None:
    try:
        letter = parse_letter(text)
    except LetterError as error:
        assert error.reason and error.reason.replace("_", "").isalpha()
        return
    normalised = "\n".join(normalise_text(text))
    backing = _squash(normalised)
    decided = len(_DECIDED.findall(normalised)) + len(_NOTICE_DECIDED.findall(normalised))
    assert letter.items, "a parsed letter has at least one item"
    assert len(letter.items) <= decided, "more items than decisions in the text"
    for item in letter.items:
        assert item.decision in ("Upheld", "Overturned")
        assert item.request.strip(), "an item without a request"
        assert _squash(item.request) in backing, f"invented request {item.request!r}"
    assert [item.item_no for item in letter.items] == list(range(1, len(letter.items) + 1))


def test_unmutated_letters_parse() -> None:
    for text in SEEDS + REAL:
        _check(text)
        assert parse_letter(text).items


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(SEEDS))
def test_mutated_seed_letters(text: str) -> None:
    _check(text)


@pytest.mark.skipif(not REAL, reason="real letters not found in ../shared/letters/real/pypdf")
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(REAL or ["unused"]))
def test_mutated_real_letters(text: str) -> None:
    _check(text)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=3000))
def test_arbitrary_text_only_raises_parse_error(text: str) -> None:
    _check(text)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "IMR ISSUES, DECISIONS AND RATIONALES",
                "HOW THE IMR FINAL DETERMINATION WAS MADE",
                "The Final Determination was based on decisions for the disputed items/services",
                "set forth below:",
                "Ativan 2mg, #105: Upheld",
                "Upheld",
                "Overturned",
                ": Overturned",
                "is",
                "Claims Administrator guideline: MTUS",
                "MAXIMUS guideline: ODG",
                "Decision rationale: not necessary.",
                "Decision rationale:",
                "1) MAXIMUS Federal Services, Inc. has determined the request for X is not",
                "medically necessary and appropriate.",
                "NOTICE OF INDEPENDENT MEDICAL REVIEW DETERMINATION",
                "was the original request. Y was authorized by the Claims Administrator.",
                "The remaining IMR eligible portion of the original request",
                "\f",
                "",
            ]
        ),
        max_size=40,
    )
)
def test_letter_shaped_fragments_only_raise_parse_error(lines: list[str]) -> None:
    _check("\n".join(lines))

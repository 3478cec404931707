"""Reviewer specialties to DWC board-specialty names.

Modern letters list boards separated by commas ('Preventive Medicine, Occupational Medicine');
2013 notices say it in prose ('The physician reviewer is Board Certified in Occupational Medicine
and is licensed to practice in California'). Either way each piece is looked up in
``specialties.csv`` after normalising case, '&'/'and', periods and 'Orthopaedic' spellings.
"""

from __future__ import annotations

import functools
import re

from etl.classify import tables
from etl.text import cached_text

# '... and is licensed to practice in California': the licence part belongs to the states field.
_PROSE_TAIL_RE = re.compile(
    r",?\s*(?:and\s+)?(?:is\s+|holds?\s+(?:an?\s+)?|has\s+(?:an?\s+)?)?(?:currently\s+)?"
    r"(?:licensed|license)\s+to\s+practice\b.*$"
    r"|,?\s*and\s+(?:is\s+)?(?:currently\s+)?licensed\s+in\b.*$",
    re.IGNORECASE,
)
_PROSE_HEAD_RE = re.compile(
    r"^.*?\b(?:reviewer|reviewers|physician|he|she)\s+(?:is|are)\s+(?:an?\s+)?|^\s*(?:is\s+)?",
    re.IGNORECASE,
)
_CERTIFIED_RE = re.compile(
    r"\b(?:american\s+)?board[- ]certified\s+(?:in\s+)?|\bcertified\s+(?:in\s+)?|"
    r"\bboard\s+of\s+|\bspecial(?:ty|izes|izing)\s+in\s+|\bpracticing\s+|\blicensed\s+in\s+",
    re.IGNORECASE,
)
_SUBSPECIALTY_RE = re.compile(
    r",?\s*(?:and\s+)?(?:has\s+|with\s+)?(?:an?\s+)?(?:sub-?specialty|fellowship|"
    r"subspecialty certification|added qualification)s?\s+(?:in|of)\s+",
    re.IGNORECASE,
)
_SPLIT_RE = re.compile(r"\s*[,;/]\s*|\s+-\s+")
_AND_SPLIT_RE = re.compile(r"\s+(?:and|&)\s+", re.IGNORECASE)


# Compiled here, not on first use: see etl.classify.prepare.
_BRITISH_RE = re.compile(r"\borthopaedic")
_AND_RE = re.compile(r"\s+and\s+")
_AMPERSAND_RE = re.compile(r"\s*&\s*")
_SPACES_RE = re.compile(r"\s+")
_LEAD_RE = re.compile(r"^(?:a|an|the)\s+|^(?:licensed|board certified|certified)\s+(?:in\s+)?")
_PROSE_RE = re.compile(r"\b(?:reviewer|certified|licensed)\b", re.IGNORECASE)


def normalise_specialty(text: str) -> str:
    """Lookup key: lower case, '&' for 'and', no periods, 'orthopedic' spelling, single spaces."""
    key = text.lower().replace(".", "")
    key = _BRITISH_RE.sub("orthopedic", key)
    key = _AND_RE.sub(" & ", key)
    key = _AMPERSAND_RE.sub(" & ", key)
    return _SPACES_RE.sub(" ", key).strip(" ,;:-")


@functools.cache
def _alias_map() -> dict[str, str]:
    return {normalise_specialty(r["alias"]): r["specialty"] for r in tables.specialty_aliases()}


def resolve_specialty(name: str) -> str | None:
    """DWC name of one specialty, or None when the table does not know it."""
    key = normalise_specialty(name)
    key = _LEAD_RE.sub("", key)
    return _alias_map().get(key)


def split_specialties(raw: str) -> list[str]:
    """The raw credential text as separate specialty phrases (prose form reduced to a list)."""
    text = _SPACES_RE.sub(" ", raw).strip().rstrip(".")
    if _PROSE_RE.search(text):
        text = _PROSE_TAIL_RE.sub("", text)
        text = _PROSE_HEAD_RE.sub("", text, count=1)
        text = _SUBSPECIALTY_RE.sub(", ", text)
        text = _CERTIFIED_RE.sub("", text)
    return [p.strip() for p in _SPLIT_RE.split(text) if p.strip()]


def parse_specialties(raw: str | None) -> tuple[list[str], list[str]]:
    """(DWC specialties in order, unique; pieces no table row matched)."""
    if not raw or not raw.strip():
        return [], []
    found, unmatched = _parse_specialties(raw)
    return list(found), list(unmatched)


# Reviewers' credentials repeat across letters: each text is read once per process (bounded).
@cached_text(maxsize=4096)
def _parse_specialties(raw: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    found: list[str] = []
    unmatched: list[str] = []
    pieces = split_specialties(raw)
    i = 0
    while i < len(pieces):
        # A board name may itself hold commas ('Endocrinology, Diabetes & Metabolism'):
        # prefer the longest run of pieces that the table knows.
        for j in range(min(len(pieces), i + 3), i, -1):
            names = _resolve_piece(", ".join(pieces[i:j]))
            if names is not None:
                break
        if names is None:
            unmatched.append(pieces[i])
        else:
            found.extend(n for n in names if n not in found)
        i = j if names is not None else i + 1
    return tuple(found), tuple(unmatched)


def _resolve_piece(piece: str) -> list[str] | None:
    whole = resolve_specialty(piece)
    if whole:
        return [whole]
    # 'Psychiatry and Neurology' style pairs: accept only when every part resolves.
    parts = [resolve_specialty(p) for p in _AND_SPLIT_RE.split(piece)]
    if len(parts) > 1 and all(parts):
        return [p for p in parts if p]
    return None

"""Reviewer licensure states to full state names ('California,North Carolina', 'CA, TX')."""

from __future__ import annotations

import functools
import re

from etl.classify import tables
from etl.text import cached_text

_SPLIT_RE = re.compile(r"\s*(?:,|;|/|\band\b|&)\s*", re.IGNORECASE)
_PROSE_RE = re.compile(
    r"^.*?\blicensed\s+(?:to\s+practice\s+)?in\s+(?:the\s+states?\s+of\s+)?", re.I
)


@functools.cache
def _alias_map() -> dict[str, str]:
    names: dict[str, str] = {}
    for row in tables.state_aliases():
        names[_key(row["alias"])] = row["state"]
        names[_key(row["state"])] = row["state"]
    return names


_SPACES_RE = re.compile(r"\s+")  # compiled here, not on first use: see etl.classify.prepare


def _key(text: str) -> str:
    return _SPACES_RE.sub(" ", text.replace(".", "")).strip().lower()


def resolve_state(name: str) -> str | None:
    """Full name of one state written in full or abbreviated; None when unknown."""
    return _alias_map().get(_key(name))


def parse_states(raw: str | None) -> tuple[list[str], list[str]]:
    """(full state names in order, unique; pieces that matched no state)."""
    if not raw or not raw.strip():
        return [], []
    found, unmatched = _parse_states(raw)
    return list(found), list(unmatched)


# Reviewers' licences repeat across letters: each text is read once per process (bounded).
@cached_text(maxsize=4096)
def _parse_states(raw: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    text = _PROSE_RE.sub("", _SPACES_RE.sub(" ", raw).strip().rstrip("."))
    found: list[str] = []
    unmatched: list[str] = []
    for piece in _SPLIT_RE.split(text):
        piece = piece.strip()
        if not piece:
            continue
        state = resolve_state(piece)
        if state is None:
            unmatched.append(piece)
        elif state not in found:
            found.append(state)
    return tuple(found), tuple(unmatched)

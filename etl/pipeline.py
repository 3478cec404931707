"""One input through extract -> parse -> classify. Pure: runs in worker processes, no DuckDB."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field

from etl.classify import Unresolved, classify_letter
from etl.extract import extract_text
from etl.model import SYNTHETIC_CASE_PREFIX, Letter, LetterError
from etl.parse import parse_letter


@dataclass
class Loaded:
    path: str
    sha256: str
    letter_id: str
    letter: Letter
    synthetic: bool
    unresolved: list[Unresolved] = field(default_factory=list)


@dataclass
class Rejected:
    path: str
    sha256: str | None
    reason: str
    detail: str


Outcome = Loaded | Rejected


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def process(path: str, data: bytes, synthetic: bool = False, sha256: str | None = None) -> Outcome:
    """Turn one file's bytes into a classified letter, or a reject with its reason.

    Any unexpected exception is a reject too (reason ``internal_error``): one odd file must
    never stop a batch of thousands.
    """
    extracted = extract(path, data, synthetic, sha256)
    return finish(extracted) if isinstance(extracted, Extracted) else extracted


@dataclass
class Extracted:
    """A file's text, between ``extract`` and ``finish`` (a worker extracts the files it holds
    before it parses them: etl.workers.Steps)."""

    path: str
    sha256: str
    text: str
    synthetic: bool
    size: int  # the file's bytes


def extract(
    path: str, data: bytes, synthetic: bool = False, sha256: str | None = None
) -> Extracted | Rejected:
    """``process``'s first step: the file's text."""
    digest = sha256 or sha256_of(data)
    try:
        return Extracted(path, digest, extract_text(data, path), synthetic, len(data))
    except Exception as error:  # noqa: BLE001 - a reject with its reason (_rejected)
        return _rejected(path, digest, error)


def finish(extracted: Extracted) -> Outcome:
    """``process``'s second step: the text parsed and classified."""
    path, digest = extracted.path, extracted.sha256
    try:
        letter = parse_letter(extracted.text)
        unresolved = classify_letter(letter)
    except Exception as error:  # noqa: BLE001 - a reject with its reason (_rejected)
        return _rejected(path, digest, error)
    letter_id = letter.case_number or f"FP-{fingerprint(letter)}"
    # Marked by its folder (the walk), or by the reserved case prefix: the one place it is decided.
    synthetic = extracted.synthetic or (letter.case_number or "").startswith(SYNTHETIC_CASE_PREFIX)
    return Loaded(path, digest, letter_id, letter, synthetic, unresolved)


def _rejected(path: str, digest: str, error: Exception) -> Rejected:
    if isinstance(error, LetterError):
        return Rejected(path, digest, error.reason, error.detail)
    if isinstance(error, MemoryError):
        # The worker's address-space cap (etl.workers): a bomb, not a letter.
        return Rejected(path, digest, "too_much_memory", "needed more memory than a letter can")
    # Recorded with its type, never swallowed silently.
    return Rejected(path, digest, "internal_error", f"{type(error).__name__}: {error}")


_NOT_LETTERS = re.compile(r"[^a-z0-9]+")


def _reduced(text: str, limit: int = 400) -> str:
    """The first ``limit`` lower-case letters and digits of ``text``.

    Read a slice at a time, from one of ``limit`` characters (a few more than the result needs
    in most texts) doubling up to 4096: a 45 MB case summary must not be copied whole, and most
    of a 5 kB one need not be reduced (the reduction is per character, so slicing cannot change
    the result).
    """
    found, start, total, size = [], 0, 0, limit
    while total < limit and start < len(text):
        piece = _NOT_LETTERS.sub("", text[start : start + size].lower())
        found.append(piece)
        total += len(piece)
        start += size
        size = min(size * 2, 4096)
    return "".join(found)[:limit]


def items_digest(items: list[tuple[str, str]]) -> int:
    """A 64-bit digest of a letter's (request, decision) pairs, equal for every rendering.

    Two letters with one case number are the same letter when their digests agree; otherwise
    they conflict (etl.load rejects the later one as ``conflicting_duplicate``).
    """
    reduced = "|".join(f"{_reduced(r)}:{d}" for r, d in items)
    return int.from_bytes(hashlib.sha256(reduced.encode()).digest()[:8], "big", signed=True)


def fingerprint(letter: Letter) -> str:
    """An id for a letter without a case number, equal for every rendering of it.

    Built from the parts extractors agree on once reduced to lower-case letters and digits.
    """
    parts = [
        letter.layout,
        str(letter.decision_date),
        letter.reviewer_specialties_raw or "",
        letter.case_summary or "",
    ]
    parts += [f"{item.request}|{item.decision}" for item in letter.items]
    # Reduce first, then cut, so that every rendering is cut at the same place.
    reduced = "|".join(_reduced(part) for part in parts)
    return hashlib.sha256(reduced.encode()).hexdigest()[:16]

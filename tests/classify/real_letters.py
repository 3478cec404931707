"""Pulls request strings and guideline texts out of the real letters' pypdf text for tests.

A deliberately simple extractor of our own (not the project parser): a paragraph (blank-line
separated) that ends with ': Upheld' / ': Overturned' (or a bare decision line after a line ending
in ':') is one request; partial authorisations keep only the IMR-eligible remainder.
"""

from __future__ import annotations

import re
from pathlib import Path

SHARED = Path(__file__).parents[2].parent / "shared"
REAL_DIR = SHARED / "letters" / "real" / "pypdf"

_DECISION_RE = re.compile(r"^(.*?)\s*(?::|\bis:?)?\s*(Upheld|Overturned)\s*$", re.S)
_REMAINDER_RE = re.compile(r"^.*\boriginal request,\s*", re.S | re.IGNORECASE)
_GUIDELINE_RE = re.compile(
    r"(Claims Administrator guideline|MAXIMUS guideline):(.*?)"
    r"(?=\n\s*\n|MAXIMUS guideline:|Decision rationale:)",
    re.S,
)


def paragraphs(text: str) -> list[str]:
    return [" ".join(p.split()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def extract_requests(text: str) -> list[str]:
    """Every disputed request in one letter's text."""
    requests = []
    lines = text.replace("\f", "\n").splitlines()
    block: list[str] = []
    for line in lines:
        stripped = line.strip()
        if not stripped:
            block = []
            continue
        if re.search(r"(\.|below:)$", stripped) and not re.search(
            r"(Upheld|Overturned)$", stripped
        ):
            block = []  # a sentence or heading ends: the request starts on the next line
            continue
        block.append(stripped)
        ends = re.search(r":\s*(Upheld|Overturned)$", stripped)
        bare = stripped in ("Upheld", "Overturned") and len(block) > 1 and block[-2].endswith(":")
        if ends or bare:
            joined = " ".join(block)
            m = _DECISION_RE.match(joined)
            if m:
                request = _REMAINDER_RE.sub("", m.group(1)).strip(" :")
                requests.append(request)
            block = []
    return requests


def extract_guidelines(text: str) -> list[tuple[str, str]]:
    """(role label, guideline text) pairs in order of appearance."""
    return [(m.group(1), " ".join(m.group(2).split())) for m in _GUIDELINE_RE.finditer(text)]


def real_letter_texts() -> list[tuple[str, str]]:
    return [(p.stem, p.read_text(encoding="utf-8")) for p in sorted(REAL_DIR.glob("*.txt"))]

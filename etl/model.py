"""The letter as the pipeline passes it along: parse fills the text fields, classify the vocabulary.

Plain dataclasses so that worker processes can pickle them and golden tests can compare
``as_dict()`` with JSON.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

PARSER_VERSION = "3"  # 3: the reviewer's reasons
# Synthetic (demo) letters: case numbers with this reserved prefix, or files under a folder that
# holds a marker file of this name. Decided once, in etl.pipeline.finish.
SYNTHETIC_CASE_PREFIX = "SY"
SYNTHETIC_MARKER = ".synthetic"


class LetterError(Exception):
    """This file cannot be read as a letter (extract or parse). ``reason`` is a stable code
    stored in ``rejects``; ``detail`` says more, for a person."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


UPHELD = "Upheld"
OVERTURNED = "Overturned"
PARTIALLY_OVERTURNED = "Partially Overturned"

CLAIMS_ADMINISTRATOR = "claims_administrator"
MAXIMUS = "maximus"


@dataclass
class Citation:
    """One guideline cited by one role for one item."""

    role: str  # 'claims_administrator' | 'maximus'
    source: str  # 'MTUS' | 'ODG' | 'ACOEM' | 'Other'
    document: str | None
    section: str | None
    raw: str


@dataclass(frozen=True)
class ReasonEvidence:
    """One reason of one item and the sentence of the rationale that carries it."""

    reason: str
    sentence: str
    start: int  # offsets into the item's rationale as stored
    end: int


@dataclass
class Decision:
    """One disputed item and what MAXIMUS decided about it."""

    item_no: int
    request: str
    decision: str  # 'Upheld' | 'Overturned'
    original_request: str | None = None
    authorized_portion: str | None = None
    claims_admin_guideline: str | None = None
    maximus_guideline: str | None = None
    rationale: str | None = None
    # Filled by classify.
    category: str | None = None
    subcategory: str | None = None
    drugs: list[str] = field(default_factory=list)
    strength: str | None = None
    quantity: str | None = None
    refills: int | None = None
    citations: list[Citation] = field(default_factory=list)
    # The reviewer's reasons (taxonomy order) and, per reason, the sentence carrying it.
    reasons: list[str] = field(default_factory=list)
    reason_evidence: list[ReasonEvidence] = field(default_factory=list)


@dataclass
class Letter:
    """One Final Determination Letter."""

    layout: str  # 'A' (2013 notice), 'B' (2014-15), 'B2' (2016+ with case header)
    case_number: str | None = None
    decision_date: dt.date | None = None
    injury_date: dt.date | None = None
    patient_age: int | None = None
    patient_sex: str | None = None
    priority: str | None = None
    date_assigned: dt.date | None = None
    ur_denial_date: dt.date | None = None
    application_received: dt.date | None = None
    reviewer_states_raw: str | None = None
    reviewer_specialties_raw: str | None = None
    diagnoses: str | None = None
    case_summary: str | None = None
    items: list[Decision] = field(default_factory=list)
    # Filled by classify.
    reviewer_states: list[str] = field(default_factory=list)
    reviewer_specialties: list[str] = field(default_factory=list)

    @property
    def injury_year(self) -> int | None:
        return self.injury_date.year if self.injury_date else None

    @property
    def outcome(self) -> str | None:
        decisions = {item.decision for item in self.items}
        if not decisions:
            return None
        if decisions == {UPHELD}:
            return UPHELD
        if decisions == {OVERTURNED}:
            return OVERTURNED
        return PARTIALLY_OVERTURNED

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready dict (dates as ISO strings), with the derived fields included."""
        data = dataclasses.asdict(self)
        data["injury_year"] = self.injury_year
        data["outcome"] = self.outcome
        return _iso_dates(data)


def _iso_dates(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _iso_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_iso_dates(v) for v in value]
    return value

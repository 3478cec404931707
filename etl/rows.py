"""Table rows for one parsed letter. Pure: no DuckDB; runs in worker processes.

The ``*_SCHEMA`` dicts give each table's Arrow column types, in the order of the row tuples.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from etl.model import PARSER_VERSION
from etl.pipeline import Loaded, items_digest

LETTER_SCHEMA: dict[str, Any] = {
    "letter_id": pa.string(),
    "source_path": pa.string(),
    "source_sha256": pa.string(),
    "layout": pa.string(),
    "case_number": pa.string(),
    "decision_date": pa.date32(),
    "injury_date": pa.date32(),
    "injury_year": pa.int32(),
    "patient_age": pa.int32(),
    "patient_sex": pa.string(),
    "reviewer_states": pa.list_(pa.string()),
    "reviewer_specialties": pa.list_(pa.string()),
    "outcome": pa.string(),
    "diagnoses": pa.string(),
    "case_summary": pa.string(),
    "priority": pa.string(),
    "date_assigned": pa.date32(),
    "ur_denial_date": pa.date32(),
    "application_received": pa.date32(),
    "item_count": pa.int32(),
    "synthetic": pa.bool_(),
    "parser_version": pa.string(),
    "items_digest": pa.int64(),
}
DECISION_SCHEMA: dict[str, Any] = {
    "letter_id": pa.string(),
    "item_no": pa.int32(),
    "request": pa.string(),
    "original_request": pa.string(),
    "authorized_portion": pa.string(),
    "decision": pa.string(),
    "category": pa.string(),
    "subcategory": pa.string(),
    "drug_class": pa.string(),
    "drugs": pa.list_(pa.string()),
    "strength": pa.string(),
    "quantity": pa.string(),
    "refills": pa.int32(),
    "claims_admin_guideline": pa.string(),
    "maximus_guideline": pa.string(),
    "rationale": pa.string(),
}
CITATION_SCHEMA: dict[str, Any] = {
    "letter_id": pa.string(),
    "item_no": pa.int32(),
    "role": pa.string(),
    "source": pa.string(),
    "document": pa.string(),
    "section": pa.string(),
    "raw": pa.string(),
}
SOURCE_SCHEMA: dict[str, Any] = {
    "source_sha256": pa.string(),
    "source_path": pa.string(),
    "status": pa.string(),
    "letter_id": pa.string(),
    "parser_version": pa.string(),
    "seen_at": pa.timestamp("us"),
}
REJECT_SCHEMA: dict[str, Any] = {
    "source_path": pa.string(),
    "source_sha256": pa.string(),
    "reason": pa.string(),
    "detail": pa.string(),
    "seen_at": pa.timestamp("us"),
}
UNRESOLVED_SCHEMA: dict[str, Any] = {
    "letter_id": pa.string(),
    "item_no": pa.int32(),
    "kind": pa.string(),
    "value": pa.string(),
}


@dataclass
class LetterRows:
    """A loaded letter as table rows, built in the worker so the writer only appends.

    Tuples follow the column order of the ``_*_SCHEMA`` dicts (``loaded_at`` is set at flush).
    """

    path: str
    sha256: str
    letter_id: str
    item_count: int
    items_digest: int  # etl.pipeline.items_digest: tells renderings from conflicting letters
    size: int  # bytes of the input file: the writer bounds what it buffers by it
    letter: tuple[Any, ...]
    decisions: list[tuple[Any, ...]] = field(default_factory=list)
    citations: list[tuple[Any, ...]] = field(default_factory=list)
    unresolved: list[tuple[Any, ...]] = field(default_factory=list)


def letter_rows(outcome: Loaded, size: int = 0) -> LetterRows:
    """Pure: no DuckDB. Runs in worker processes."""
    letter, letter_id = outcome.letter, outcome.letter_id
    digest = items_digest([(item.request, item.decision) for item in letter.items])
    rows = LetterRows(
        path=outcome.path,
        sha256=outcome.sha256,
        letter_id=letter_id,
        item_count=len(letter.items),
        items_digest=digest,
        size=size,
        letter=(
            letter_id,
            outcome.path,
            outcome.sha256,
            letter.layout,
            letter.case_number,
            letter.decision_date,
            letter.injury_date,
            letter.injury_year,
            letter.patient_age,
            letter.patient_sex,
            letter.reviewer_states,
            letter.reviewer_specialties,
            letter.outcome,
            letter.diagnoses,
            letter.case_summary,
            letter.priority,
            letter.date_assigned,
            letter.ur_denial_date,
            letter.application_received,
            len(letter.items),
            outcome.synthetic,
            PARSER_VERSION,
            digest,
        ),
    )
    for item in letter.items:
        drug_class = item.subcategory if item.category == "Pharmaceuticals" else None
        rows.decisions.append(
            (
                letter_id,
                item.item_no,
                item.request,
                item.original_request,
                item.authorized_portion,
                item.decision,
                item.category,
                item.subcategory,
                drug_class,
                item.drugs,
                item.strength,
                item.quantity,
                item.refills,
                item.claims_admin_guideline,
                item.maximus_guideline,
                item.rationale,
            )
        )
        for c in item.citations:
            rows.citations.append(
                (letter_id, item.item_no, c.role, c.source, c.document, c.section, c.raw)
            )
    for u in outcome.unresolved:
        rows.unresolved.append((letter_id, u.item_no, u.kind, u.value))
    return rows


# Every table a build appends to, with its Arrow schema (``letters`` gains ``loaded_at``).
TABLES: dict[str, dict[str, Any]] = {
    "letters": {**LETTER_SCHEMA, "loaded_at": pa.timestamp("us")},
    "decisions": DECISION_SCHEMA,
    "citations": CITATION_SCHEMA,
    "sources": SOURCE_SCHEMA,
    "rejects": REJECT_SCHEMA,
    "unresolved": UNRESOLVED_SCHEMA,
}

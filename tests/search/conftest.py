"""A real warehouse with its search index, built by the real ingest (the dashboard tests'
inputs: sample letters, a generated corpus, the crafted hostile letters, two rejected files),
and an oracle that reads its items back with the texts the index searches."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from etl.search.engine import SearchIndex
from tests.dashboard.conftest import build_warehouse, session_on

# The index's analysis (Tantivy's "default" tokenizer): runs of letters and digits, lower case,
# words over 40 characters dropped.
_WORD = re.compile(r"[^\W_]+")


def words(text: str | None) -> list[str]:
    return [w for w in _WORD.findall((text or "").lower()) if len(w) <= 40]


@dataclass(frozen=True)
class Item:
    letter_id: str
    item_no: int
    fields: dict[str, list[str]]  # searched field -> its words, in order
    drugs: frozenset[str]
    drug_class: str | None
    category: str | None
    decision: str
    texts: dict[str, str | None]  # what snippets and similar decisions read: the index has none


@pytest.fixture(scope="session")
def search_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_warehouse(tmp_path_factory.mktemp("search"))


@pytest.fixture(scope="session")
def search_file(search_warehouse: Path) -> Path:
    return Path(os.path.realpath(search_warehouse))


def open_index(version: Path) -> SearchIndex:
    con = duckdb.connect(str(version), read_only=True)
    try:
        meta = dict(con.execute("select key, value from meta").fetchall())
        probe = con.execute("select hash('imr-search-probe', 7::integer, 0::integer)").fetchone()
    finally:
        con.close()
    assert probe is not None
    return SearchIndex.open(version, meta, str(probe[0]))


@pytest.fixture(scope="session")
def index(search_file: Path) -> SearchIndex:
    return open_index(search_file)


@pytest.fixture(scope="session")
def items(search_file: Path) -> list[Item]:
    """Every item with the words of each field the index searches (the tests' own reading)."""
    con = duckdb.connect(str(search_file), read_only=True)
    try:
        rows = con.execute(
            "select d.letter_id, d.item_no, d.request, d.rationale, d.claims_admin_guideline,"
            " d.maximus_guideline, l.case_summary, l.diagnoses, coalesce(d.drugs, []),"
            " d.drug_class, d.category, d.decision"
            " from decisions d join letters l using (letter_id)"
        ).fetchall()
    finally:
        con.close()
    out = []
    for row in rows:
        letter_id, item_no, request, rationale, claims, maximus, summary, diagnoses = row[:8]
        drugs, drug_class, category, decision = row[8:]
        guidelines = "\n".join(t for t in (claims, maximus) if t)
        fields = {
            "request": words(request),
            "rationale": words(rationale),
            "guidelines": words(guidelines),
            "summary": words(summary),
            "diagnoses": words(diagnoses),
        }
        texts = {"request": request, "rationale": rationale, "guidelines": guidelines or None}
        out.append(
            Item(
                letter_id, item_no, fields, frozenset(drugs), drug_class, category, decision, texts
            )
        )
    return out


@pytest.fixture()
def con(search_file: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A dashboard session on the warehouse, as the app opens it."""
    yield from session_on(search_file)

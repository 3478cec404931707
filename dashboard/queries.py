"""Every dashboard query: SQL from ``dashboard/sql/*.sql``, bound parameters, polars frames out.

No Streamlit here (caching lives in ``connection.py``). Each function takes a DuckDB
connection (or cursor) first, so tests can run them against a warehouse directly.

SQL files may use two static fragments, expanded from files in the same folder:
``__FILTERS__`` (``_filters.sql``, the global filter predicate over ``item_facts``) and
``__RATES__`` (``_rates.sql``, rate + 95% Wilson columns over ``n`` and ``overturned``).
Only named parameters (``$name``) that a query uses are bound, so DuckDB never sees extras.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from dashboard.filters import Filters

SQL_DIR = Path(__file__).with_name("sql")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")

Con = duckdb.DuckDBPyConnection

# Rows shown in on-screen item tables; downloads are never truncated.
SCREEN_ROWS = 1000


@functools.cache
def load_sql(name: str) -> str:
    """The text of ``sql/<name>.sql`` with ``__FILTERS__`` and ``__RATES__`` expanded."""
    text = (SQL_DIR / f"{name}.sql").read_text()
    for token, fragment in (("__FILTERS__", "_filters"), ("__RATES__", "_rates")):
        if token in text:
            body = _COMMENT.sub("", (SQL_DIR / f"{fragment}.sql").read_text()).strip()
            text = text.replace(token, f"(\n{body}\n)" if token == "__FILTERS__" else body)
    return text


@functools.cache
def param_names(name: str) -> frozenset[str]:
    """Named parameters a query uses (comments ignored)."""
    return frozenset(_PARAM.findall(_COMMENT.sub("", load_sql(name))))


def run_sql(con: Con, name: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """Run ``sql/<name>.sql`` on its own cursor with exactly the parameters it uses."""
    params = params or {}
    wanted = param_names(name)
    missing = wanted - params.keys()
    if missing:
        raise ValueError(f"query {name!r} needs parameters {sorted(missing)}")
    bound = {key: params[key] for key in wanted}
    cursor = con.cursor()
    try:
        return cursor.sql(load_sql(name), params=bound).pl()
    finally:
        cursor.close()


def _filtered(
    con: Con, name: str, filters: Filters, small_n: int = 30, **extra: Any
) -> pl.DataFrame:
    return run_sql(con, name, {**filters.params(), "small_n": small_n, **extra})


def like_pattern(text: str | None) -> str | None:
    """``%text%`` with LIKE wildcards escaped (escape character ``\\``); None for blank text."""
    if text is None or not text.strip():
        return None
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- rates over the filtered items ---------------------------------------------------------


def summary(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    """One row: letters, items (n), upheld, overturned, rates + Wilson bounds, synthetic counts."""
    return _filtered(con, "summary", filters, small_n)


def by_category(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "by_category", filters, small_n)


def by_subcategory(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "by_subcategory", filters, small_n)


def by_drug_class(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "by_drug_class", filters, small_n)


def drugs_in_class(con: Con, filters: Filters, drug_class: str, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "drugs_in_class", filters, small_n, pick_class=drug_class)


def by_specialty(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "by_specialty", filters, small_n)


def by_state(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "by_state", filters, small_n)


def by_guideline_source(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "by_guideline_source", filters, small_n)


def by_guideline_document(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "by_guideline_document", filters, small_n)


def source_concordance(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "source_concordance", filters, small_n)


def by_injury_year(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "by_injury_year", filters, small_n)


def by_decision_year(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "by_decision_year", filters, small_n)


def by_years_to_decision(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "by_years_to_decision", filters, small_n)


def timeliness(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "timeliness", filters, small_n)


# --- item level ----------------------------------------------------------------------------


def items(con: Con, filters: Filters, limit: int | None = None) -> pl.DataFrame:
    """The filtered items (the item-level CSV); ``limit=None`` returns every row."""
    return _filtered(con, "items", filters, row_limit=limit)


def items_batches(con: Con, filters: Filters, batch_rows: int = 100_000) -> Iterator[pl.DataFrame]:
    """Every filtered item, streamed in frames of ``batch_rows`` (for large CSV downloads)."""
    params = {**filters.params(), "row_limit": None}
    bound = {key: params[key] for key in param_names("items")}
    cursor = con.cursor()
    try:
        reader = cursor.sql(load_sql("items"), params=bound).to_arrow_reader(batch_rows)
        for batch in reader:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            yield frame
    finally:
        cursor.close()


def search_items(
    con: Con, filters: Filters, text: str | None, limit: int | None = SCREEN_ROWS
) -> pl.DataFrame:
    """Filtered items whose request or rationale contains ``text`` (case-insensitive), newest
    first. Without text: the filtered items (no ``rationale_start`` column, no rationale join)."""
    pattern = like_pattern(text)
    if pattern is None:
        return _filtered(con, "browse", filters, row_limit=limit)
    return _filtered(con, "search", filters, pattern=pattern, row_limit=limit)


def search_count(con: Con, filters: Filters, text: str | None) -> pl.DataFrame:
    """One row: items, letters matching the search (the filtered slice without text)."""
    pattern = like_pattern(text)
    if pattern is None:
        return summary(con, filters).select(pl.col("n").alias("items"), "letters")
    return _filtered(con, "search_count", filters, pattern=pattern)


def letter(con: Con, letter_id: str) -> pl.DataFrame:
    return run_sql(con, "letter", {"letter_id": letter_id})


def letter_items(con: Con, letter_id: str) -> pl.DataFrame:
    return run_sql(con, "letter_items", {"letter_id": letter_id})


def letter_citations(con: Con, letter_id: str) -> pl.DataFrame:
    return run_sql(con, "letter_citations", {"letter_id": letter_id})


# --- warehouse-wide ------------------------------------------------------------------------


def filter_options(con: Con) -> pl.DataFrame:
    """dimension (query-parameter name), value, n — over the whole warehouse."""
    return run_sql(con, "filter_options")


def parse_coverage(con: Con) -> pl.DataFrame:
    return run_sql(con, "parse_coverage")


def rejects_by_reason(con: Con) -> pl.DataFrame:
    return run_sql(con, "rejects_by_reason")


def rejects(con: Con, limit: int | None = SCREEN_ROWS) -> pl.DataFrame:
    return run_sql(con, "rejects", {"row_limit": limit})


def unresolved(con: Con) -> pl.DataFrame:
    return run_sql(con, "unresolved")


def sources_by_status(con: Con) -> pl.DataFrame:
    return run_sql(con, "sources_by_status")


def meta(con: Con) -> pl.DataFrame:
    return run_sql(con, "meta")


# Columns the dashboard reads from the tables etl/sql/views.sql builds.
REQUIRED_COLUMNS: dict[str, frozenset[str]] = {
    "item_facts": frozenset(
        [
            "letter_id",
            "letter_key",
            "item_no",
            "case_number",
            "decision_date",
            "decision_year",
            "injury_year",
            "years_to_decision",
            "priority",
            "application_received",
            "days_to_decision",
            "request",
            "decision",
            "overturned",
            "category",
            "subcategory",
            "drug_class",
            "drugs",
            "reviewer_specialties",
            "reviewer_states",
            "guideline_sources",
            "guideline_documents",
            "claims_admin_sources",
            "same_source_as_claims_admin",
            "letter_outcome",
            "layout",
            "synthetic",
        ]
    ),
    "filter_options": frozenset({"dimension", "value", "n"}),
    "parse_coverage": frozenset({"scope", "layout", "field", "present", "total"}),
}


def missing_columns(con: Con) -> pl.DataFrame:
    """table, column pairs the dashboard needs but the warehouse lacks (empty when up to date)."""
    present = run_sql(con, "views_check")
    have = {(t, c) for t, c in present.iter_rows()}
    missing = sorted(
        (table, column)
        for table, columns in REQUIRED_COLUMNS.items()
        for column in columns
        if (table, column) not in have
    )
    return pl.DataFrame(missing, schema=["table", "column"], orient="row")

"""Every dashboard query: SQL from ``dashboard/sql/*.sql``, bound parameters, polars frames out.

No Streamlit here (caching lives in ``connection.py``). Each function takes a session from
``connect`` first, so tests can run them against a warehouse directly.

The session: an in-memory DuckDB connection that holds the dashboard's own macros
(``sql/_macros.sql``) and ATTACHes the warehouse file read-only as ``warehouse``. (DuckDB can
create nothing in a read-only database, and a ``.cursor()`` does not see temporary macros of its
parent, so the macros live in the in-memory catalog.) Every query runs on its own cursor whose
search path is the warehouse, then the in-memory catalog.

SQL files may use these tokens, expanded here:

* ``__FILTERS__``: the global filter predicate over ``item_facts``, built from the dimension
  registry (``dashboard.dimensions``) with ``_filters.sql`` and ``_filter_<kind>.sql``;
* ``__RATES__``: rate + 95% Wilson columns over ``n`` and ``overturned`` (``_rates.sql``);
* ``__COLUMN__``: the ``item_facts`` column of a dimension (a registry constant).

Only named parameters (``$name``) that a query uses are bound, so DuckDB never sees extras.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from dashboard import dimensions
from dashboard.filters import Filters, param_name

SQL_DIR = Path(__file__).with_name("sql")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")
_TOKEN = re.compile(r"__[A-Z]+__")

Con = duckdb.DuckDBPyConnection

# The name the warehouse file is attached under; the session's search path.
WAREHOUSE = "warehouse"
SEARCH_PATH = f"set search_path = '{WAREHOUSE}.main,memory.main'"

# Rows shown in on-screen item tables; downloads are never truncated.
SCREEN_ROWS = 1000


# --- the session ---------------------------------------------------------------------------


def connect(path: Path | str) -> Con:
    """The dashboard's session on the warehouse file ``path`` (opened read-only)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(read_sql("_macros"))
        con.execute(f"attach $path as {WAREHOUSE} (read_only)", {"path": str(path)})
        con.execute(SEARCH_PATH)
    except BaseException:
        con.close()
        raise
    return con


def cursor(con: Con) -> Con:
    """A cursor of a session (one per query: sessions are shared between threads)."""
    cur = con.cursor()
    cur.execute(SEARCH_PATH)  # a cursor starts on the in-memory catalog
    return cur


# --- SQL files -----------------------------------------------------------------------------


def read_sql(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def _fragment(name: str) -> str:
    return _COMMENT.sub("", read_sql(name)).strip()


def filter_predicate() -> str:
    """The filter predicate: one clause per filter of the dimension registry."""
    clauses: list[str] = []
    for dim in dimensions.FILTERS:
        if dim.widget == "range":
            clause = (
                _fragment("_filter_range")
                .replace("__MIN__", param_name(dim, "_min"))
                .replace("__MAX__", param_name(dim, "_max"))
            )
        else:
            clause = _fragment(f"_filter_{dim.shape}").replace("__PARAM__", param_name(dim))
        clauses.append(clause.replace("__COLUMN__", dim.column))
    body = _fragment("_filters").replace("__DIMENSIONS__", "\nand ".join(clauses))
    return f"(\n{body}\n)"


def load_sql(name: str, column: str | None = None) -> str:
    """The text of ``sql/<name>.sql`` with its tokens expanded (``column``: ``__COLUMN__``)."""
    text = read_sql(name)
    if "__FILTERS__" in text:
        text = text.replace("__FILTERS__", filter_predicate())
    if "__RATES__" in text:
        text = text.replace("__RATES__", _fragment("_rates"))
    if column is not None:
        text = text.replace("__COLUMN__", column)
    left = _TOKEN.findall(_COMMENT.sub("", text))
    if left:
        raise ValueError(f"query {name!r}: tokens not expanded: {sorted(set(left))}")
    return text


def param_names(sql: str) -> frozenset[str]:
    """Named parameters a query text uses (comments ignored)."""
    return frozenset(_PARAM.findall(_COMMENT.sub("", sql)))


def _bound(name: str, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    wanted = param_names(sql)
    missing = wanted - params.keys()
    if missing:
        raise ValueError(f"query {name!r} needs parameters {sorted(missing)}")
    return {key: params[key] for key in wanted}


def run_sql(
    con: Con, name: str, params: dict[str, Any] | None = None, *, column: str | None = None
) -> pl.DataFrame:
    """Run ``sql/<name>.sql`` on its own cursor with exactly the parameters it uses."""
    sql = load_sql(name, column)
    bound = _bound(name, sql, params or {})
    cur = cursor(con)
    try:
        return cur.sql(sql, params=bound).pl()
    finally:
        cur.close()


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


def rates_by(
    con: Con,
    filters: Filters,
    name: str,
    small_n: int = 30,
    within: tuple[str, str] | None = None,
) -> pl.DataFrame:
    """Outcomes per value of the registry dimension ``name`` (column ``name``, then the rate
    columns), ordered as its entry says. ``within=(dimension, value)`` narrows the filters to
    that value of another dimension and adds it as the first column (a drill-down, e.g. the
    drugs of one drug class)."""
    dim = dimensions.get(name)
    if within is not None:
        filters = filters.narrow(*within)
    params = {
        **filters.params(),
        "small_n": small_n,
        "by_count": dim.order == "count",
        "empty": dim.empty,
    }
    frame = run_sql(con, f"rates_{dim.shape}", params, column=dim.column)
    frame = frame.rename({"value": dim.name})
    if within is not None:
        outer, value = within
        frame.insert_column(0, pl.Series(outer, [value] * frame.height, dtype=pl.String))
    return frame


def source_concordance(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "source_concordance", filters, small_n)


def timeliness(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    return _filtered(con, "timeliness", filters, small_n)


# --- item level ----------------------------------------------------------------------------


def items(con: Con, filters: Filters, limit: int | None = None) -> pl.DataFrame:
    """The filtered items (the item-level CSV); ``limit=None`` returns every row."""
    return _filtered(con, "items", filters, row_limit=limit)


def items_batches(con: Con, filters: Filters, batch_rows: int = 100_000) -> Iterator[pl.DataFrame]:
    """Every filtered item, streamed in frames of ``batch_rows`` (for large CSV downloads)."""
    sql = load_sql("items")
    bound = _bound("items", sql, {**filters.params(), "row_limit": None})
    cur = cursor(con)
    try:
        for batch in cur.sql(sql, params=bound).to_arrow_reader(batch_rows):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            yield frame
    finally:
        cur.close()


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
    """dimension (registry name), value (text), n (items) for every sidebar filter, over the
    whole warehouse; a list dimension counts an item once per value. Most items first."""
    frames = [
        run_sql(con, f"options_{dim.shape}", column=dim.column)
        .with_columns(pl.lit(dim.name, dtype=pl.String).alias("dimension"))
        .select("dimension", "value", "n")
        for dim in dimensions.FILTERS
    ]
    return pl.concat(frames, how="vertical")


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


# The marts the ETL publishes and the columns the dashboard reads from them: these, plus the
# column of every registry dimension (``required_columns``). See "Marts" in dashboard/README.md.
ITEM_FACTS_COLUMNS = frozenset(
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
)
PARSE_COVERAGE_COLUMNS = frozenset({"scope", "layout", "field", "present", "total"})
UNRESOLVED_COUNTS_COLUMNS = frozenset({"kind", "value", "occurrences", "letters"})


def required_columns() -> dict[str, frozenset[str]]:
    """Mart -> the columns the dashboard reads from it."""
    return {
        "item_facts": ITEM_FACTS_COLUMNS | {d.column for d in dimensions.DIMENSIONS},
        "parse_coverage": PARSE_COVERAGE_COLUMNS,
        "unresolved_counts": UNRESOLVED_COUNTS_COLUMNS,
    }


def missing_columns(con: Con) -> pl.DataFrame:
    """table, column pairs the dashboard needs but the warehouse lacks (empty when up to date)."""
    required = required_columns()
    present = run_sql(con, "views_check", {"tables": sorted(required)})
    have = {(t, c) for t, c in present.iter_rows()}
    missing = sorted(
        (table, column)
        for table, columns in required.items()
        for column in columns
        if (table, column) not in have
    )
    return pl.DataFrame(missing, schema=["table", "column"], orient="row")

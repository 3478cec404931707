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
* ``__COLUMN__``: the ``item_facts`` column of a dimension (a registry constant);
* ``__DIMENSION_COLUMNS__``: the column of every registry dimension (the item-level CSV);
* any other ``__NAME__`` with a file ``_name.sql``: that file (CTEs several queries share);
* ``fragments=``: per-shape fragments chosen by the caller (``shape_sql``), e.g. how a scalar or
  a list dimension becomes one value per row in ``crosstab.sql`` and ``compare.sql``.

Only named parameters (``$name``) that a query uses are bound, so DuckDB never sees extras.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import re
import threading
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from dashboard import dimensions
from dashboard.filters import Filters, param_name
from etl.warehouse.derived import CONCORDANT, LIST_PATTERNS

SQL_DIR = Path(__file__).with_name("sql")
_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_COMMENT = re.compile(r"--[^\n]*")
_TOKEN = re.compile(r"__[A-Z][A-Z_]*[A-Z]__|__[A-Z]__")
_FRAGMENT = re.compile(r"__([A-Z][A-Z_]*[A-Z])__")
_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")

Con = duckdb.DuckDBPyConnection

# The name the warehouse file is attached under; the session's search path.
WAREHOUSE = "warehouse"
SEARCH_PATH = f"set search_path = '{WAREHOUSE}.main,memory.main'"

# Rows shown in on-screen item tables; downloads are never truncated.
SCREEN_ROWS = 1000

# Queries a process runs at once; the others wait their turn. DuckDB spreads each query over
# the cores already, so more at once adds no speed, only memory: ten sessions' option counts
# at once over 4 million items ran the session's 512 MB pool out (benchmarks/
# concurrent_sessions.py: three of fifty readers saw an error).
QUERY_SLOTS = threading.BoundedSemaphore(2)


# --- the session ---------------------------------------------------------------------------


def connect(path: Path | str) -> Con:
    """The dashboard's session on the warehouse file ``path`` (opened read-only)."""
    con = duckdb.connect(":memory:")
    try:
        con.execute(read_sql("_macros"))
        con.execute(read_sql("search_session"))  # the search's hits (dashboard/search.py)
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


# A list filter with up to this many values is a list_contains per value (see _filter_list.sql).
LIST_FILTER_TERMS = 8


def filter_predicate(params: Mapping[str, Any] | None = None) -> str:
    """The filter predicate: one clause per filter of the dimension registry, the search and
    the demo-letter switch. Given the query's ``params``, only the clauses of filters that are
    on: a clause whose switch parameters are all NULL (or false) matches every item, and at
    millions of items evaluating it per row is most of a filtered query's time."""
    clauses: list[tuple[str, tuple[str, ...]]] = []
    for dim in dimensions.FILTERS:
        if dim.widget == "range":
            low, high = param_name(dim, "_min"), param_name(dim, "_max")
            clause = _fragment("_filter_range").replace("__MIN__", low).replace("__MAX__", high)
            switches: tuple[str, ...] = (low, high)
        else:
            clause = _fragment(f"_filter_{dim.shape}")
            if dim.shape == "list":
                clause = _list_clause(clause, dim, params)
            clause = clause.replace("__PARAM__", param_name(dim))
            switches = (param_name(dim),)
        clauses.append((clause.replace("__COLUMN__", dim.column), switches))
    clauses.append((_fragment("search_filter"), ("search_id",)))  # q: the items matching it
    clauses.append((_fragment("_filter_synthetic"), ("exclude_synthetic",)))
    kept = [
        clause
        for clause, switches in clauses
        # A switch missing from params keeps its clause, so a caller that forgot the filters
        # gets "needs parameters", not an unfiltered answer.
        if params is None or any(params.get(name, True) not in (None, False) for name in switches)
    ]
    body = _fragment("_filters").replace("__CLAUSES__", "\nand ".join(kept) or "true")
    return f"(\n{body}\n)"


def _list_clause(clause: str, dim: dimensions.Dimension, params: Mapping[str, Any] | None) -> str:
    """``_filter_list.sql`` for the values the query will run with; values not given (no
    params, or not this filter's) take the general form, combinations included. Values
    ``bind_value_bits`` gave a bit of their own are one test of the item's bits
    (``_filter_list_bits.sql``), the others a test of its list."""
    name = param_name(dim)
    given = params or {}
    unknown = name not in given
    values = given.get(name) or ()
    bits = given.get(name + MASK) is not None  # only bound beside the filter's own values
    # With bits, the list is tested for the values that have none ($<param>_rest).
    rest = given.get(name + REST) or () if bits else values
    listed = "__PARAM__" + (REST if bits else "")
    terms = [_fragment("_filter_list_bits")] if bits else []
    if unknown or len(rest) > LIST_FILTER_TERMS:
        terms.append(_fragment("_filter_list_any").replace("__PARAM__", listed))
    else:
        term = _fragment("_filter_list_value").replace("__PARAM__", listed)
        terms += [term.replace("__I__", str(i)) for i in range(1, len(rest) + 1)]
    any_of = "(" + " or ".join(terms) + ")" if terms else "false"
    # The combinations' part only when one is selected: it costs every row a third.
    with_parts = unknown or any(" + " in str(v) for v in values)
    parts = _fragment("_filter_list_combinations") if with_parts else ""
    return clause.replace("__ANY_OF__", any_of).replace("__COMBINATIONS__", parts)


# Every bit of a <column>_bits (UBIGINT).
ALL_BITS = 2**64 - 1
# bind_value_bits' parameters of a list filter, after its own name.
MASK, LOW, REST = "_mask", "_low", "_rest"
LIST_FILTERS = tuple(d for d in dimensions.FILTERS if d.shape == "list")


def value_bits(con: Con) -> dict[str, dict[str, int]]:
    """Dimension -> value -> bit, for the list filters' values whose bit no other value of
    their list shares (``sql/value_bits.sql``; empty for a warehouse built before the
    dictionary of bits, whose bits are another function's)."""
    found: dict[str, dict[str, int]] = {}
    for dimension, value, bit in (
        _bits(con).filter(pl.col("unique_bit")).select("dimension", "value", "bit").iter_rows()
    ):
        found.setdefault(dimension, {})[value] = int(bit)
    return found


@dataclass(frozen=True)
class SharedBits:
    """The list dimensions whose values the warehouse's dictionary numbers (``bitted``: their
    ``<column>_bits`` built from it) and those of them with values that share a bit
    (``sharing``)."""

    bitted: frozenset[str]
    sharing: frozenset[str]

    def own(self, name: str) -> bool:
        """Whether every value of the list dimension ``name`` has a bit of its own."""
        return name in self.bitted and name not in self.sharing


def shared_bits(con: Con) -> SharedBits | None:
    """The warehouse's ``SharedBits``; None for a warehouse built before the dictionary."""
    if not column_types(con, "value_bits"):
        return None
    facts = column_types(con, "item_facts")
    return SharedBits(
        frozenset(d.name for d in LIST_FILTERS if f"{d.column}_bits" in facts),
        frozenset(_bits(con).filter(~pl.col("unique_bit")).get_column("dimension")),
    )


# The parameters of sql/_value_bits.sql: the list filters' dimensions and their columns.
BIT_PARAMS = {
    "bit_dimensions": [d.name for d in LIST_FILTERS],
    "bit_columns": [d.column for d in LIST_FILTERS],
}


def _bits(con: Con) -> pl.DataFrame:
    if not column_types(con, "value_bits"):
        return pl.DataFrame(
            schema={
                "dimension": pl.String,
                "value": pl.String,
                "bit": pl.UInt64,
                "unique_bit": pl.Boolean,
            }
        )
    return run_fixed(con, "value_bits", BIT_PARAMS)


def bind_value_bits(con: Con, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with ``<param>_mask`` (the bits of the selected values that have one of
    their own, or'ed), ``<param>_low`` (its lowest bit) and ``<param>_rest`` (the other
    values) for every list filter on."""
    chosen = {d: params.get(param_name(d)) for d in LIST_FILTERS}
    if not any(chosen.values()):
        return params
    bits = value_bits(con)
    out = dict(params)
    for dim, values in chosen.items():
        known = bits.get(dim.name, {})
        masked = [v for v in values or () if v in known]
        if masked:
            mask = functools.reduce(operator.or_, (known[v] for v in masked))
            out[param_name(dim) + MASK] = mask
            out[param_name(dim) + LOW] = mask & -mask
            out[param_name(dim) + REST] = [v for v in values or () if v not in known]
    return out


def shape_sql(kind: str, shape: str, source: str, empty: str, top: str = "top") -> str:
    """The fragment ``sql/_<kind>_<shape>.sql`` of one dimension (``kind`` ``value``: one value
    per row; ``set``: its values as a list; ``place``: its places on a cross-tab's axis, the
    values ``$<top>`` kept on it; ``shape`` ``scalar``, ``list`` or ``none``), with
    ``__SOURCE__`` the column (or a query's alias of it) and ``__EMPTY__`` the parameter
    ``$<empty>`` an empty list counts as."""
    for part in (kind, shape, source, empty, top):
        if not _IDENTIFIER.fullmatch(part):
            raise ValueError(f"{part!r} is not a plain identifier")
    return (
        _fragment(f"_{kind}_{shape}")
        .replace("__SOURCE__", source)
        .replace("__EMPTY__", f"${empty}")
        .replace("__TOP__", f"${top}")
    )


def load_sql(
    name: str,
    column: str | None = None,
    columns: dict[str, str] | None = None,
    fragments: dict[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
) -> str:
    """The text of ``sql/<name>.sql`` with its tokens expanded (``column``: ``__COLUMN__``;
    ``columns``: ``{"ROW": "category"}`` expands ``__ROW__``; registry constants only;
    ``fragments``: ``{"ROW_VALUE": shape_sql(...)}`` expands ``__ROW_VALUE__``; ``params``:
    the values the query will be run with, which leave the filters that are off out of
    ``__FILTERS__``; none: every filter's clause)."""
    # Comments out first: a token a comment names would be expanded there, and a fragment of
    # several lines would then leave all but its first line outside the comment.
    text = _COMMENT.sub("", read_sql(name))
    for token, fragment in (fragments or {}).items():
        text = text.replace(f"__{token}__", fragment)
    # __DWC_PAIRS__ and the like: the CTEs of sql/_dwc_pairs.sql, shared by several queries
    # (__FILTERS__ is built from the registry, below).
    for token in sorted(set(_FRAGMENT.findall(text)) - {"FILTERS"}):
        if (SQL_DIR / f"_{token.lower()}.sql").is_file():
            text = text.replace(f"__{token}__", _fragment(f"_{token.lower()}"))
    if "__FILTERS__" in text:
        text = text.replace("__FILTERS__", filter_predicate(params))
    if "__RATES__" in text:
        text = text.replace("__RATES__", _fragment("_rates"))
    if "__DIMENSION_COLUMNS__" in text:  # every registry dimension's column, once
        columns_of = dict.fromkeys(d.column for d in dimensions.DIMENSIONS)
        text = text.replace("__DIMENSION_COLUMNS__", ",\n    ".join(columns_of))
    if column is not None:
        text = text.replace("__COLUMN__", column)
    for token, value in (columns or {}).items():
        if not _IDENTIFIER.fullmatch(value):
            raise ValueError(f"query {name!r}: {value!r} is not a plain identifier")
        text = text.replace(f"__{token}__", value)
    left = _TOKEN.findall(text)
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
    con: Con,
    name: str,
    params: dict[str, Any] | None = None,
    *,
    column: str | None = None,
    columns: dict[str, str] | None = None,
    fragments: dict[str, str] | None = None,
    frames: Mapping[str, pl.DataFrame] | None = None,
) -> pl.DataFrame:
    """Run ``sql/<name>.sql`` on its own cursor with exactly the parameters it uses
    (``frames``: small frames the query reads as tables, by name, on that cursor only)."""
    from dashboard import search  # it runs queries too

    values = bind_value_bits(con, search.bind(con, params or {}))
    sql = load_sql(name, column, columns, fragments, values)
    bound = _bound(name, sql, values)
    with QUERY_SLOTS:
        cur = cursor(con)
        try:
            for table, frame in (frames or {}).items():
                cur.register(table, frame.to_arrow())
            return cur.sql(sql, params=bound).pl()
        finally:
            cur.close()


# Answers fixed for the warehouse file a session attached (the dashboard opens a new session
# when the file changes), asked several times in every page run: the highest letter number,
# the marts' dimensions and value counts. Each is a few ms; a page run asked about ten.
_FIXED: weakref.WeakKeyDictionary[Con, dict[tuple[Any, ...], pl.DataFrame]] = (
    weakref.WeakKeyDictionary()
)
_FIXED_LOCK = threading.Lock()


def run_fixed(con: Con, name: str, params: dict[str, Any] | None = None) -> pl.DataFrame:
    """``run_sql`` for a query that reads no filter, once per session and parameters."""
    key = (
        name,
        *sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in (params or {}).items()),
    )
    with _FIXED_LOCK:
        known = _FIXED.setdefault(con, {}).get(key)
    if known is None:
        known = run_sql(con, name, params)
        with _FIXED_LOCK:
            _FIXED[con][key] = known
    return known


def _filtered(
    con: Con,
    name: str,
    filters: Filters,
    small_n: int = 30,
    fragments: dict[str, str] | None = None,
    **extra: Any,
) -> pl.DataFrame:
    params = {**filters.params(), "small_n": small_n, **extra}
    return run_sql(con, name, params, fragments=fragments)


def newest_first(
    con: Con,
    name: str,
    filters: Filters,
    limit_param: str,
    limit: int | None,
    fragments: dict[str, str] | None = None,
    **extra: Any,
) -> pl.DataFrame:
    """``_filtered`` for a query of the newest ``limit`` items (its ``$<limit_param>``) that
    takes ``$from_year``: looked for in the latest decision year first, then, when that year
    holds fewer, in every year. Either way the newest of the whole slice. Each batch's items
    are ordered by decision year, so where letters come in the order DWC decides them the
    latest year is a few row groups; a batch that holds every year (the synthetic whole
    history's) puts every year in each row group, and the year is a filter, not a skip."""
    params: dict[str, Any] = {**extra, limit_param: limit}
    latest = run_fixed(con, "decision_year_max").item(0, "decision_year_max")
    if latest is not None and limit is not None:
        bound = slice_bound(con, filters, latest)
        # Unless the marts tell that year holds fewer: then one scan, not two.
        if bound is None or bound >= limit:
            recent = _filtered(con, name, filters, fragments=fragments, **params, from_year=latest)
            if recent.height >= limit:
                return recent
    return _filtered(con, name, filters, fragments=fragments, **params, from_year=None)


def like_pattern(text: str | None) -> str | None:
    """``%text%`` with LIKE wildcards escaped (escape character ``\\``); None for blank text."""
    if text is None or not text.strip():
        return None
    escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- rates over the filtered items ---------------------------------------------------------


def summary(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    """One row: letters, items (n), upheld, overturned, rates + Wilson bounds, synthetic counts.
    Under one selection the facet_counts mart sums, read from it (``summed_selection``)."""
    one = summed_selection(con, filters)
    if one is not None:
        return run_sql(con, "summary_selection", {**one, "small_n": small_n})
    split = _summed_split(con, filters) or _summed_pair(con, filters)
    if split is not None:
        return run_sql(con, "summary_split", {**split, "small_n": small_n})
    (letters, synthetic), letter_params = letters_count(
        con, 1, ("letter_key", "case when synthetic then letter_key end"), filters, dims=()
    )
    return run_sql(
        con,
        "summary",
        {**filters.params(), **letter_params, "small_n": small_n},
        fragments={
            "LETTERS": letters,
            "SYNTHETIC_LETTERS": synthetic,
            "LETTER_FLAG": counting_flag(con, (), filters) or "false",
        },
    )


def _summed_split(con: Con, filters: Filters) -> dict[str, Any] | None:
    """The parameters of ``sql/summary_split.sql`` when the headline numbers of ``filters``
    (one selection and one value of the decision: ``_split_selection``) are sums of the
    facet_pairs mart: it counts the letters of that pair, they add up over the selection's
    values (``summable``: one value, or a letter's own field), and the warehouse's items are
    all demo ones or none (the pairs do not count them apart). At 4M items a scan of 25-40
    ms. Else None."""
    paired = set(run_fixed(con, "facet_dimensions").filter(pl.col("paired"))["dimension"])
    split = _split_selection(filters, paired)
    if split is None or split["pair_outcome"] is None:
        return None  # both decisions: a letter with both would count twice
    outcome = dimensions.get(split["outcome_dimension"])
    one, counted = summable(con, filters.without(outcome.name), [outcome])
    items, demo = run_fixed(con, "synthetic_items").row(0)
    if not counted or demo not in (0, items):
        return None
    return {**one, **split, "demo": demo > 0}


def _summed_pair(con: Con, filters: Filters) -> dict[str, Any] | None:
    """The parameters of ``sql/summary_split.sql`` when ``filters`` are one value of each of
    two filters the facet_pairs mart counts together (``_two_selections``): their rows with
    every value of a letter's own scalar field (no value among them), which add up to their
    items and their letters, when the warehouse's items are all demo ones or none. Else None."""
    two = _two_selections(con, filters)
    field = next((d for d in dimensions.FILTERS if d.per_letter and d.shape == "scalar"), None)
    if two is None or field is None:
        return None
    items, demo = run_fixed(con, "synthetic_items").row(0)
    if demo not in (0, items):
        return None
    # summary_split.sql's other split: every value of that field (the decision's parameters)
    return {**two, "outcome_dimension": field.name, "outcome_value": None, "demo": demo > 0}


def item_count(con: Con, filters: Filters) -> pl.DataFrame:
    """One row, ``n``: the items under ``filters``. With none set, item_facts' row count (no
    scan: 1 ms, against 44 for the headline numbers at 4M items), else ``summary``'s."""
    if filters == Filters():
        return run_sql(con, "item_count")
    return summary(con, filters).select("n")


def counted_items(con: Con, filters: Filters) -> int | None:
    """The items under ``filters`` when no scan is needed to know them (none set: the row
    count; a selection the facet_counts mart sums: ``summed_selection``), else None."""
    if filters == Filters() or summed_selection(con, filters) is not None:
        return int(item_count(con, filters).item(0, "n"))
    return None


def summed_selection(con: Con, filters: Filters) -> dict[str, Any] | None:
    """``_one_selection``'s parameters when the headline numbers of ``filters`` are sums of the
    facet_counts mart, else None: one value of one filter the mart holds (a mart of the last
    ingest may lack a dimension added since), or several values or a range of a letter's own
    scalar field (an item, and a letter, has one value of it: both add up over its values;
    an item's own field's values can share a letter), or no filter (``_every_item``). At 4M
    items a range of decision years was 35-60 ms counted."""
    marted = set(run_fixed(con, "facet_dimensions")["dimension"])
    one = _one_selection(filters, marted) or _every_item(con, filters, marted)
    if one is None:
        return None
    single = one["pair_values"] is not None and len(one["pair_values"]) == 1
    if not single and not dimensions.get(one["pair_dimension"]).per_letter:
        return None
    return one


def rates_by(
    con: Con,
    filters: Filters,
    name: str,
    small_n: int = 30,
    within: tuple[str, str] | None = None,
) -> pl.DataFrame:
    """Outcomes per value of the registry dimension ``name`` (column ``name``, ``letters``: the
    letters behind the row, then the rate columns), ordered as its entry says.
    ``within=(dimension, value)`` narrows the filters to that value of another dimension and
    adds it as the first column (a drill-down, e.g. the drugs of one drug class)."""
    dim = dimensions.get(name)
    if within is not None:
        filters = filters.narrow(*within)
    if (mart := summable(con, filters, [dim]))[1]:  # a drill-down too: one selection narrowed
        return _within(rates_from(pair_rates(con, mart[0], [dim], small_n), dim.name), within)
    if dim.shape == "list" and (bits := _rates_by_bits(con, filters, [dim], small_n)) is not None:
        return _within(rates_from(bits, dim.name), within)
    # + the items without a value
    [letters], letter_params = letters_count(
        con, value_count(con, dim.name) + 1, filters=filters, dims=(dim,)
    )
    params = {
        **filters.params(),
        **letter_params,
        "small_n": small_n,
        "by_count": dim.order == "count",
        "empty": dim.empty,
    }
    fragments = {"LETTERS": letters, "LETTER_FLAG": counting_flag(con, (dim,), filters) or "false"}
    if dim.shape == "list":  # rates_list.sql counts the empty lists apart
        fragments["EMPTY_LIST"] = empty_list(con, dim)
    frame = run_sql(con, f"rates_{dim.shape}", params, column=dim.column, fragments=fragments)
    return _within(frame.rename({"value": dim.name}), within)


def _within(frame: pl.DataFrame, within: tuple[str, str] | None) -> pl.DataFrame:
    """``rates_by``'s frame with the drill-down's dimension as its first column."""
    if within is not None:
        outer, value = within
        frame.insert_column(0, pl.Series(outer, [value] * frame.height, dtype=pl.String))
    return frame


def rates_together(
    con: Con, filters: Filters, names: tuple[str, ...], small_n: int = 30
) -> pl.DataFrame:
    """Outcomes per value of each registry dimension of ``names``, all scalar or all lists, in
    one pass over the filtered items (``sql/rates_sets.sql``, with ``_value_rows_<shape>.sql``,
    or a row per letter, ``by_letter_rows``; lists by their bits, ``sql/rates_bits.sql``: a
    grouping set per dimension; a page showing four such dimensions scanned the items four
    times). ``rates_from(frame, name)`` gives the frame ``rates_by`` would for each."""
    dims = _distinct_columns(names, "rates_together")
    shape = dims[0].shape
    if {dim.shape for dim in dims} != {shape} or shape not in ("scalar", "list"):
        raise ValueError(f"rates_together takes scalar or list dimensions, not {names}")
    one, by_mart = summable(con, filters, dims)
    scanned = [dim for dim in dims if dim not in by_mart]
    parts = [(by_mart, pair_rates(con, one, by_mart, small_n))] if by_mart else []
    if scanned:
        parts.append((scanned, _scanned_rates(con, filters, scanned, small_n)))
    return parts[0][1] if len(parts) == 1 else _joined(parts)


def _scanned_rates(
    con: Con, filters: Filters, dims: list[dimensions.Dimension], small_n: int
) -> pl.DataFrame:
    """``rates_together``'s frame counted from the filtered items (``sql/rates_sets.sql``; lists
    whose patterns of bits it can count, ``sql/rates_bits.sql``)."""
    shape = dims[0].shape
    if shape == "list" and (bits := _rates_by_bits(con, filters, dims, small_n)) is not None:
        return bits
    flag = counting_flag(con, tuple(dims), filters)
    columns = [dim.column for dim in dims]
    fragments = {
        "VALUE_ROWS": _fragment(f"_value_rows_{shape}"),  # first: it holds the tokens below
        "COLUMNS": ", ".join(columns),
        "SETS": ", ".join(f"({column})" for column in columns),
        "LETTER_FLAG": flag or "false",
    }
    letter_params: dict[str, Any] = {}
    if by_letter_rows(dims, flag):
        fragments |= {
            "VALUE_ROWS": _fragment("_value_rows_letters"),
            "ITEM_COUNTS": _fragment("_item_counts_letters"),
            "LETTERS": _fragment("_letters_first").replace("__KEY__", "letter_key"),
        }
    else:
        groups = sum(value_count(con, dim.name) + 1 for dim in dims)  # + items without a value
        [fragments["LETTERS"]], letter_params = letters_count(
            con, groups, filters=filters, dims=tuple(dims)
        )
    params = {**filters.params(), **letter_params, "small_n": small_n}
    if shape == "list":
        params["empties"] = [dim.empty for dim in dims]
        fragments |= {
            "UNNESTS": ", ".join(f"unnest({c}) as {c}" for c in columns),
            "EMPTIES": ", ".join(
                f"case when len({c}) = 0 then ($empties::varchar[])[{i}] end as {c}"
                for i, c in enumerate(columns, start=1)
            ),
            "ANY_EMPTY": " or ".join(empty_list(con, dim) for dim in dims),
        }
    return run_sql(con, "rates_sets", params, fragments=fragments)


def _rates_by_bits(
    con: Con, filters: Filters, dims: list[dimensions.Dimension], small_n: int
) -> pl.DataFrame | None:
    """``_scanned_rates``' frame of list dimensions from the patterns of their bits
    (``sql/rates_bits.sql``), when every value of each has a bit of its own and their
    patterns' letters fit as bits in one run (``pattern_bound``, ``letter_bits``; the bits of
    the patterns, then of each value and empty list as they are or'ed); else None."""
    bound = pattern_bound(con, dims)
    groups = None if bound is None else bound + sum(value_count(con, d.name) + 1 for d in dims)
    key_max = None if groups is None else letter_bits(con, groups, filters)
    if key_max is None:
        return None
    columns = [dim.column for dim in dims]
    empties = [
        _fragment("_empty_bits")
        .replace("__COLUMN__", dim.column)
        .replace("__I__", str(place))
        .replace("__EMPTY_LIST__", empty_list(con, dim))
        for place, dim in enumerate(dims, start=1)
        if dim.empty is not None  # a list without a label: its empty lists count nowhere
    ]
    set_ids = " ".join(f"when '{c}' then {_grouping_set(columns, c)}" for c in columns)
    params = {
        **filters.params(),
        **BIT_PARAMS,
        "letter_key_max": key_max,
        "empties": [dim.empty for dim in dims],
        "small_n": small_n,
    }
    fragments = {
        "EMPTIES": "\nunion all\n".join(empties) or _NO_EMPTIES,
        "BITS": ", ".join(f"{c}_bits" for c in columns),
        "BIT_SETS": ", ".join(f"({c}_bits)" for c in columns),
        "SET_ID": f"case list_column {set_ids} end",
        "VALUE_COLUMNS": ", ".join(
            f"case when list_column = '{c}' then value end as {c}" for c in columns
        ),
    }
    return run_sql(con, "rates_bits", params, fragments=fragments)


# rates_bits.sql's empty lists where no dimension has a label for them.
_NO_EMPTIES = (
    "select null::varchar as list_column, null::varchar as value, 0::bigint as n,"
    " 0::bigint as overturned, null::bit as letters where false"
)


def pattern_bound(con: Con, dims: list[dimensions.Dimension]) -> int | None:
    """At most how many patterns of bits the items hold of the list dimensions ``dims``, each
    list's as the build counted them (meta ``list_patterns``), when every value of each has a
    bit of its own; else None (values that share a bit, a warehouse built before the count)."""
    shared = shared_bits(con)
    if shared is None or not all(shared.own(dim.name) for dim in dims):
        return None
    entry = meta(con).filter(pl.col("key") == LIST_PATTERNS).get_column("value")
    counted: dict[str, int] = json.loads(entry.item()) if entry.len() else {}
    if any(dim.column not in counted for dim in dims):
        return None
    return sum(counted[dim.column] for dim in dims)


# Whether rate tables may count a row per letter of the slice (``by_letter_rows``); the tests
# turn it off to hold it against the bits and the distinct count.
LETTER_ROWS = True


def by_letter_rows(dims: list[dimensions.Dimension], flag: str | None) -> bool:
    """Whether ``rates_together`` counts ``dims`` from a row per letter of the slice
    (``sql/_value_rows_letters.sql``): scalar fields all the letter's own, under filters for
    which ``counting_flag`` has no flag (``flag`` None: an item's own list, two values of an
    item's own field, two list filters, a search). A letter then falls in one group of each,
    so a group's rows are its letters: at 4M items the Timeline's five under a reason and a
    guideline source 93 -> 45 ms against bits."""
    own_scalars = all(dim.shape == "scalar" and dim.per_letter for dim in dims)
    return LETTER_ROWS and flag is None and own_scalars


def empty_list(con: Con, dim: dimensions.Dimension) -> str:
    """SQL true for an item whose list ``dim`` is empty: ``sql/_empty_list.sql`` (its bits
    first) where the warehouse has the list's bits, else its length (a list filter added to
    the registry since the last ingest has no bits yet)."""
    if f"{dim.column}_bits" in column_types(con, "item_facts"):
        return _fragment("_empty_list").replace("__COLUMN__", dim.column)
    return f"len({dim.column}) = 0"


def column_types(con: Con, table: str) -> dict[str, str]:
    """Column -> DuckDB type of the warehouse table ``table`` (once per session)."""
    columns = run_fixed(con, "views_check", {"tables": [table]})
    return dict(columns.select("column_name", "data_type").iter_rows())


def summable(
    con: Con, filters: Filters, dims: list[dimensions.Dimension]
) -> tuple[dict[str, Any], list[dimensions.Dimension]]:
    """The selection ``_one_selection`` gives and those of ``dims`` whose rate tables under it
    the facet_pairs mart holds (``pair_rates``; none: ``({}, [])``): the pairs whose letters
    the mart counts — two of a letter's own fields (``Dimension.per_letter``: their first
    items), a letter's field with an item's own (the first items of a letter with each value
    of the item's field, flagged ``<column>_fresh`` in item_facts), two items' own fields
    (grouped per letter at ingest) — and the selected field itself (a list: the values listed
    with the selected one, its pairs with itself). An item's own field
    selected must be one value: the letters of several would count a letter holding two of
    them twice. Beside such a selection, one value of the decision (``_split_selection``):
    the pairs' items of that outcome and their letters of it (``letters_overturned``,
    ``letters_upheld``; a mart of a build before them: scanned). A mart of an ingest before
    the letters of a kind of pair held none of them: those tables are counted from the
    items."""
    marts = run_fixed(con, "facet_dimensions")
    paired = set(marts.filter(pl.col("paired"))["dimension"])
    two = _two_selections(con, filters)
    if two is not None:  # its rows count every filter and their letters
        return two, [d for d in dims if d.name in paired]
    one = _one_selection(filters, paired) or _every_item(con, filters, paired)
    if one is None and SPLIT_LETTERS[0] in column_types(con, "facet_pairs"):
        one = _split_selection(filters, paired)
        if one is not None and one["pair_outcome"] is None:
            one = None  # both outcomes: a letter with both would count twice
    if one is None or "letters" not in column_types(con, "facet_pairs"):
        return {}, []
    chosen = dimensions.get(one["pair_dimension"])
    if not chosen.per_letter and len(one["pair_values"] or ()) != 1:
        return {}, []
    flagged = column_types(con, "item_facts")
    every_pair = bool(run_fixed(con, "pairs_lettered").item(0, "every_pair"))

    def counted(a: dimensions.Dimension, b: dimensions.Dimension) -> bool:
        if a.per_letter and b.per_letter:
            return True
        if a.per_letter != b.per_letter:
            item_own = b if a.per_letter else a
            return f"{item_own.column}_fresh" in flagged
        return every_pair

    # The selected scalar's own table is its values' rows of facet_counts; a selected list
    # value's, the values listed with it: its pairs with itself (a mart of a build before those
    # pairs holds none: scanned).
    self_paired = set(marts.filter(pl.col("self_paired"))["dimension"])
    own = chosen.shape == "scalar" or (chosen.name in self_paired and counted(chosen, chosen))
    return one, [
        d
        for d in dims
        if d.name in paired and (own if d.name == chosen.name else counted(chosen, d))
    ]


# facet_pairs' letters with an overturned item, with an upheld one (a build's since stop 38).
SPLIT_LETTERS = ("letters_overturned", "letters_upheld")


def pair_rates(
    con: Con, one: dict[str, Any], dims: list[dimensions.Dimension], small_n: int
) -> pl.DataFrame:
    """``rates_together``'s frame of ``dims`` under the selection ``one`` (both from
    ``summable``), summed from the facet_pairs mart (``sql/rates_pairs.sql``): at 4M items
    ~10-25 ms, against 100-250 ms for a scan of a large slice. A selection with one outcome
    (``pair_outcome``) counts that outcome's items and letters."""
    columns = [dim.column for dim in dims]
    present = SPLIT_LETTERS[0] in column_types(con, "facet_pairs")
    params = {
        # a selection of both outcomes, or none (_one_selection, _every_item)
        "pair_outcome": None,
        "outcome_dimension": None,
        "outcome_value": None,
        **one,
        # A selected scalar's own rows are facet_counts'; a list's, its pairs with itself; two
        # filters' (_two_selections), their rows with each of them.
        "own_from_counts": one["pair_dimension"] in dimensions.BY_NAME
        and dimensions.get(one["pair_dimension"]).shape == "scalar",
        "pair_dimensions": [dim.name for dim in dims],
        "empties": [dim.empty for dim in dims],
        "set_ids": [_grouping_set(columns, column) for column in columns],
        "small_n": small_n,
    }
    fragments = {
        "COLUMNS": _placed_columns(con, dims),
        # A mart before them: no selection with one outcome reads them (summable).
        "LETTERS_OVERTURNED": SPLIT_LETTERS[0] if present else "null::bigint",
        "LETTERS_UPHELD": SPLIT_LETTERS[1] if present else "null::bigint",
    }
    return run_sql(con, "rates_pairs", params, fragments=fragments)


def _placed_columns(con: Con, dims: list[dimensions.Dimension]) -> str:
    """A mart query's ``__COLUMNS__``: each dimension's column, its rows' ``value`` (those of
    ``place``, its position in ``dims``) cast to the column's type (a list's values: text)."""
    types = column_types(con, "item_facts")
    cast = []
    for place, dim in enumerate(dims, start=1):
        kind = "varchar" if dim.shape == "list" else types[dim.column].lower()
        if not _IDENTIFIER.fullmatch(kind):
            raise ValueError(f"{dim.column}: unexpected column type {kind!r}")
        cast.append(f"case when place = {place} then value::{kind} end as {dim.column}")
    return ", ".join(cast)


def _joined(parts: list[tuple[list[dimensions.Dimension], pl.DataFrame]]) -> pl.DataFrame:
    """``rates_together``'s frames of parts of its dimensions as the frame of them all: each
    part's set_id renumbered over every column (``_grouping_set``), the others' columns null."""
    columns = [dim.column for dims, _ in parts for dim in dims]
    frames = []
    for dims, frame in parts:
        own = [dim.column for dim in dims]
        ids = {_grouping_set(own, c): _grouping_set(columns, c) for c in own}
        frames.append(frame.with_columns(pl.col("set_id").replace_strict(ids)))
    joined = pl.concat(frames, how="diagonal_relaxed")
    rest = frames[0].columns[frames[0].columns.index("letters") :]
    return joined.select("set_id", *columns, *rest)


def _distinct_columns(names: tuple[str, ...], caller: str) -> list[dimensions.Dimension]:
    """The registry dimensions of ``names``, each on its own column (a grouping-sets query
    takes them so)."""
    dims = [dimensions.get(name) for name in names]
    if len({d.column for d in dims}) != len(dims):
        raise ValueError(f"{caller} takes dimensions of distinct columns, not {names}")
    return dims


def _distinct_scalars(names: tuple[str, ...], caller: str) -> list[dimensions.Dimension]:
    """The registry dimensions of ``names``, which a grouping-sets query takes: scalar, each
    on its own column."""
    dims = _distinct_columns(names, caller)
    if {dim.shape for dim in dims} != {"scalar"}:
        raise ValueError(f"{caller} takes distinct scalar dimensions, not {names}")
    return dims


def _grouping_set(columns: list[str], column: str) -> int:
    """The ``grouping(columns)`` of the set grouping ``column`` alone: a bit per column left
    out, the first column highest."""
    return (1 << len(columns)) - 1 - (1 << (len(columns) - 1 - columns.index(column)))


def rates_from(together: pl.DataFrame, name: str) -> pl.DataFrame:
    """The rows of ``rates_together`` for the dimension ``name``, as ``rates_by`` gives them:
    its values (items without one left out), ordered as its registry entry says."""
    dim = dimensions.get(name)
    columns = together.columns[1 : together.columns.index("letters")]
    frame = together.filter(
        pl.col("set_id") == _grouping_set(columns, dim.column), pl.col(dim.column).is_not_null()
    )
    if dim.order == "count":
        frame = frame.sort(["n", dim.column], descending=[True, False])
    else:
        frame = frame.sort(dim.column)
    rest = together.columns[together.columns.index("letters") :]
    return frame.select(pl.col(dim.column).alias(dim.name), *rest)


# The label of the cells that group the values beyond an axis's top N (never a drill-down).
OTHER = "(other)"


def crosstab(
    con: Con,
    filters: Filters,
    rows: str,
    cols: str,
    top_rows: int = 12,
    top_cols: int = 12,
    small_n: int = 30,
    filtered_items: int | None = None,
) -> pl.DataFrame:
    """Outcomes per (row value, column value) of two registry dimensions: the axes
    (``sql/crosstab_axes.sql``; two lists with bits, or one and a scalar,
    ``sql/crosstab_axes_bits.sql``), then the cells (``sql/crosstab.sql``; by their kept
    values' bits where ``crosstab_masks`` and ``pattern_letters`` allow,
    ``sql/crosstab_bits.sql``: the same frame), each axis through the fragments of its shape
    (``sql/_value_<shape>.sql``, ``_has_``, ``_places_``, ``_place_``; ``pattern_sql``'s):
    ``row_value``, ``col_value`` (text; ``OTHER`` beyond the top N of an axis), ``row_order``,
    ``col_order`` (axis order), ``row_other``, ``col_other``, ``letters`` (behind the cell), the
    rate columns, and ``left_out`` (filtered items without a value on either side; the same on
    every row). ``filtered_items``: the items under ``filters``, when the caller has them (the
    page's headline), so that they are neither asked again nor counted."""
    row, col = dimensions.get(rows), dimensions.get(cols)
    if row.name == col.name:
        raise ValueError("a cross-tab needs two different dimensions")
    top_rows, top_cols = max(int(top_rows), 1), max(int(top_cols), 1)
    cells = (top_rows + 1) * (top_cols + 1)
    params = {
        **filters.params(),
        "small_n": small_n,
        "top_rows": top_rows,
        "top_cols": top_cols,
        "other": OTHER,
        "row_by_count": row.order == "count",
        "col_by_count": col.order == "count",
        "row_empty": row.empty,
        "col_empty": col.empty,
    }
    has = {
        "ROW_HAS": shape_sql("has", row.shape, row.column, "row_empty"),
        "COL_HAS": shape_sql("has", col.shape, col.column, "col_empty"),
    }
    values = {
        "ROW_VALUE": shape_sql("value", row.shape, "row_source", "row_empty"),
        "COL_VALUE": shape_sql("value", col.shape, "col_source", "col_empty"),
    }
    places = {
        "ROW_PLACES": shape_sql("places", row.shape, row.column, "row_empty", "row_top"),
        "COL_PLACES": shape_sql("places", col.shape, col.column, "col_empty", "col_top"),
        "ROW_PLACE": shape_sql("place", row.shape, "row_places", "row_empty", "row_top"),
        "COL_PLACE": shape_sql("place", col.shape, "col_places", "col_empty", "col_top"),
    }
    # left_out without a scan where it can (at 4M items about 30 ms of the axes' query): the
    # items under the filters from the caller or the marts, those with both values from a
    # scalar axis's ranks.
    if filtered_items is None:
        filtered_items = counted_items(con, filters)
    params["filtered_items"] = filtered_items
    scalar = next((axis for axis, d in (("row", row), ("col", col)) if d.shape == "scalar"), None)
    counts = {
        "FILTERED_ITEMS": "(select count(*) from item_facts where __FILTERS__)"
        if params["filtered_items"] is None
        else "$filtered_items::bigint",
        "PAIRED_ITEMS": f"(select sum(n) from {scalar}_ranked)"
        if scalar
        else "(select count(*) from paired)",
    }
    # The axes first, then the cells by their places on them: a join of every item's values
    # with the axes (their sizes unknown to DuckDB's planner) cost more than both queries.
    # Two lists with bits, or one and a scalar: the axes from the patterns of their values.
    patterns = None
    dictionary = bit_dictionary(con, row, col)
    if dictionary is not None:
        axes = run_sql(
            con,
            "crosstab_axes_bits",
            {**params, **dictionary},
            columns={"ROW": row.column, "COL": col.column},
            fragments={
                "ROW_AXIS": pattern_sql("axis", row, "row"),
                "COL_AXIS": pattern_sql("axis", col, "col"),
                "ROW_KEPT": pattern_sql("axis_kept", row, "row", "top_rows", shaped=False),
                "COL_KEPT": pattern_sql("axis_kept", col, "col", "top_cols", shaped=False),
                "ROW_COLUMNS": pattern_sql("axis_columns", row, "row"),
                "COL_COLUMNS": pattern_sql("axis_columns", col, "col"),
                "ROW_MASKED": pattern_sql("axis_masked", row, "row"),
                "COL_MASKED": pattern_sql("axis_masked", col, "col"),
                **has,
                "FILTERED_ITEMS": counts["FILTERED_ITEMS"],
            },
        )
        patterns = int(axes.item(0, "patterns"))
    else:
        axes = run_sql(
            con,
            "crosstab_axes",
            params,
            columns={"ROW": row.column, "COL": col.column},
            fragments={**has, **values, **counts},
        )
    first = axes.row(0, named=True)
    kept = {key: first[key] for key in ("row_top", "col_top", "left_out")}
    masks = crosstab_masks(con, row, col, kept)
    # Bits of letter numbers are held by each pattern and each cell (their or).
    groups = None if patterns is None else patterns + cells
    counted = None
    if masks is not None:
        counted = pattern_letters(con, filters, row, col, groups, {**kept, **masks})
    if masks is not None and counted is not None:  # the cells from the kept values' bits
        pattern_fragments, runs = counted
        summed = _fragment("_cells_summed")
        bit_places = {
            "CELLS_SUMMED": summed,  # these two first: they hold the tokens that follow
            **pattern_fragments,  # __PLACED__ holds __ROW_PLACE__, __COL_PLACE__
            "ROW_PATTERN": pattern_sql("pattern", row, "row"),
            "COL_PATTERN": pattern_sql("pattern", col, "col"),
            "ROW_PLACE": shape_sql("place", "bits", "row", "row_empty", "row_top"),
            "COL_PLACE": shape_sql("place", "bits", "col", "col_empty", "col_top"),
            # One run: the cells with their rates; several: their counts, added up below.
            "CELLS_OUT": "__CROSSTAB_OUT__" if len(runs) == 1 else "select * from cells",
        }
        by_run = [
            run_sql(
                con,
                "crosstab_bits",
                {**params, **kept, **masks, **run},
                columns={"ROW": row.column, "COL": col.column},
                fragments={**has, **bit_places},
            )
            for run in runs
        ]
        if len(by_run) == 1:
            return by_run[0]
        added = {"CELLS_SUMMED": summed, "CELL_LETTERS": _fragment("_cell_letters_sum")}
        runs_cells = {"runs": pl.concat(by_run)}
        return run_sql(
            con, "crosstab_cells", {**params, **kept}, fragments=added, frames=runs_cells
        )
    letters, flag, letter_params = crosstab_letters(con, filters, row, col, cells)
    fragments = {**has, **places, "LETTERS": letters, "LETTER_FLAG": flag}
    return run_sql(con, "crosstab", {**params, **letter_params, **kept}, fragments=fragments)


def pattern_sql(
    kind: str, dim: dimensions.Dimension, axis: str, top_n: str = "", shaped: bool = True
) -> str:
    """The fragment ``sql/_<kind>_<shape>.sql`` (``shaped`` false: ``sql/_<kind>.sql``) of one
    axis of the cross-tab's patterns (``sql/crosstab_axes_bits.sql``,
    ``sql/crosstab_bits.sql``): ``__AXIS__`` the axis (row or col), ``__SOURCE__`` its
    column's token, ``__TOP_N__`` the parameter ``$<top_n>`` (how many values it keeps)."""
    if axis not in ("row", "col") or not _IDENTIFIER.fullmatch(kind):
        raise ValueError(f"no pattern fragment {kind!r} of {axis!r}")
    return (
        _fragment(f"_{kind}_{dim.shape}" if shaped else f"_{kind}")
        .replace("__AXIS__", axis)
        .replace("__SOURCE__", f"__{axis.upper()}__")
        .replace("__TOP_N__", f"${top_n}")
    )


def bit_dictionary(
    con: Con, row: dimensions.Dimension, col: dimensions.Dimension
) -> dict[str, Any] | None:
    """``sql/crosstab_axes_bits.sql``'s dictionaries of two axes it can count: lists that have
    ``<column>_bits`` and values in the warehouse's dictionary (each value, its bit, whether
    the bit is its own, the bits values share), or one such list and a scalar (no dictionary);
    None otherwise."""
    bitted = shared_bits(con)
    if bitted is None or "list" not in (row.shape, col.shape):
        return None
    params: dict[str, Any] = {}
    for axis, dim in (("row", row), ("col", col)):
        if dim.shape == "scalar":
            continue
        known = _bits(con).filter(pl.col("dimension") == dim.name)
        if dim.shape != "list" or dim.name not in bitted.bitted or known.is_empty():
            return None
        params[f"{axis}_values"] = known.get_column("value").to_list()
        params[f"{axis}_value_bits"] = known.get_column("bit").to_list()
        params[f"{axis}_own"] = known.get_column("unique_bit").to_list()
        shared = known.filter(~pl.col("unique_bit")).get_column("bit").to_list()
        params[f"{axis}_shared"] = functools.reduce(operator.or_, shared, 0)
    return params


def crosstab_masks(
    con: Con,
    row: dimensions.Dimension,
    col: dimensions.Dimension,
    kept: dict[str, Any],
) -> dict[str, Any] | None:
    """``sql/crosstab_bits.sql``'s masks, when it can place the cells: two list axes, each
    with ``<column>_bits``, every kept value with a bit of its own (the axis's empty label may
    have none: only empty lists are counted under it), or such a list and a scalar axis (its
    kept values' places as bits: 1, 2, 4, ...). None: ``sql/crosstab.sql`` counts them.
    (``pattern_letters`` says whether it can count their letters.)"""
    if row.shape != "list" and col.shape != "list":
        return None
    facts = column_types(con, "item_facts")
    bits, dictionary = value_bits(con), _bits(con)
    masks: dict[str, Any] = {}
    for axis, dim in (("row", row), ("col", col)):
        top = kept.get(f"{axis}_top")
        if not top:
            return None
        if dim.shape == "scalar" and len(top) < 64:
            each = [1 << place for place in range(len(top))]
        elif dim.shape == "list" and f"{dim.column}_bits" in facts:
            known = bits.get(dim.name, {})
            # The empty label needs no bit unless a list holds it as a value (then its own).
            listed = set(dictionary.filter(pl.col("dimension") == dim.name).get_column("value"))
            if any(value not in known and (value != dim.empty or value in listed) for value in top):
                return None
            each = [known.get(value, 0) for value in top]
        else:
            return None
        mask = functools.reduce(operator.or_, each, 0)
        masks.update(
            {f"{axis}_masks": each, f"{axis}_mask": mask, f"{axis}_rest_mask": ~mask & ALL_BITS}
        )
    return masks


# crosstab_bits.sql's patterns of letters, added to its patterns of items, and the fragment
# that places them, by its way of counting letters (queries.pattern_letters).
_LETTER_PATTERNS = {"none": "_letter_patterns", "fresh": "_rest_letters"}
_PLACED = {"none": "_placed_parts", "fresh": "_placed_parts"}


def fresh_places(
    con: Con, axis: str, dim: dimensions.Dimension, placed: dict[str, Any] | None
) -> tuple[str, dict[str, Any]] | None:
    """``sql/crosstab_bits.sql``'s bits of the kept values of ``dim``, an item's own field on
    ``axis``, that an item is its letter's first with (``sql/_fresh_<shape>.sql``), and the
    bit of each kept value's place (``$<axis>_fresh_masks``), if the warehouse has their flags
    (``<column>_fresh``; a list's ``<column>_fresh_bits``). A list's empty label, when kept,
    takes a bit no kept value has (``sql/_fresh_empty.sql``: the first empty list of the
    letter). ``placed``: the kept values and their masks. Not for a list whose empty label is
    kept with a bit: a list holds it as a value, its letters would be counted there twice."""
    facts = column_types(con, "item_facts")
    if dim.per_letter or f"{dim.column}_fresh" not in facts or placed is None:
        return None
    if dim.shape == "list" and f"{dim.column}_fresh_bits" not in facts:
        return None
    top, each = placed[f"{axis}_top"], list(placed[f"{axis}_masks"])
    sql = pattern_sql("fresh", dim, axis)
    if dim.shape == "list" and dim.empty in top:
        free = [bit for bit in range(64) if not placed[f"{axis}_mask"] >> bit & 1]
        if each[top.index(dim.empty)] or not free:
            return None
        each[top.index(dim.empty)] = 1 << free[0]
        sql = f"({sql}) | ({pattern_sql('fresh_empty', dim, axis, shaped=False)})"
    return sql, {f"{axis}_fresh_masks": each}


def pattern_letters(
    con: Con,
    filters: Filters,
    row: dimensions.Dimension,
    col: dimensions.Dimension,
    groups: int | None,
    placed: dict[str, Any] | None = None,
) -> tuple[dict[str, str], list[dict[str, Any]]] | None:
    """How ``sql/crosstab_bits.sql`` counts a cell's letters (its ``__LETTER_FLAG__``,
    ``__LETTER_SLICE__``, ``__PATTERN_LETTERS__``, ``__LETTER_PATTERNS__`` and
    ``__CELL_LETTERS__``), and the parameters of each of its runs: by the flagged item of each
    letter where both axes are the letter's own fields (``counting_flag``); where one is an
    item's own field with flags of each letter's first item with a value (``fresh_places``;
    ``placed``: the kept values and their masks) and the other and every filter the
    letter's (no search), by those items at each kept value's place, the "(other)" value's
    and the empty list's letters once each (``sql/_placed_letters_fresh.sql``,
    ``sql/_rest_letters.sql``; at 4M items unfiltered, category by reviewer state: the cells
    378 -> 129 ms, reviewer state by subcategory 433 -> 296); else as bits of
    letter numbers per pattern of the items' bits, or'ed per cell, when its ``groups`` (the
    patterns, ``sql/crosstab_axes_bits.sql``'s count, and the cells) fit ``letter_slices``;
    else, where one axis is the letter's own field, from each letter's items' patterns or'ed
    (``sql/_letter_patterns.sql``; at 4M items the default cross-tab, drug class by reviewer
    specialty, under a reason and a guideline source: two runs of bits 145 -> 107 ms); else
    as bits again, in up to ``LETTER_SLICES`` runs over ranges of letter numbers, each within
    the budget (their cells added up by ``sql/crosstab_cells.sql``). None: it cannot
    (``sql/crosstab.sql`` counts the cells). At 4M items unfiltered, drug by reason (178
    patterns): the cells 610-710 ms (lists) -> 160-240 ms by bits; drug by state (6,346
    patterns): 550-630 -> 270 ms by each letter's patterns, 516-558 -> 315-330 by first
    items (stop 63). Bits in one run go first: where they fit, first items were no faster
    (drug by letter era at 4M items: 245-261 by bits, 301-339 by first items)."""
    flag = counting_flag(con, (row, col), filters)
    own = [(axis, d) for axis, d in (("row", row), ("col", col)) if not d.per_letter]
    fresh = None
    if flag is None and len(own) == 1 and _per_letter((), filters):
        fresh = fresh_places(con, *own[0], placed)
    slices = None
    if flag is None and groups is not None:
        slices = letter_slices(con, groups, filters, LETTER_SLICES)
    if flag is not None:
        way, cell = "flagged", "sum"
    elif slices is not None and len(slices) == 1:
        way, cell, fresh = "bits", "bits", None
    elif fresh is not None:
        way, cell, flag, slices = "fresh", "sum", fresh[0], None
    elif row.per_letter or col.per_letter:
        way, cell, slices = "none", "sum", None  # a letter's field: its items' patterns or'ed
    elif slices is not None:
        way, cell = "bits", "bits"
    else:
        return None
    fragments = {
        # The places first: their fragments hold __ROW_PLACE__ and __COL_PLACE__.
        "PLACED": _fragment(_PLACED.get(way, "_placed_each")),
        "PLACED_LETTERS": _fragment("_placed_letters_fresh") if fresh else "letters",
        "LETTER_FLAG": flag or "null::boolean",
        "LETTER_SLICE": "letter_key between $letter_low and $letter_high" if slices else "true",
        "PATTERN_FRESH": "letter_flag" if way == "fresh" else "0::ubigint",
        "PATTERN_LETTERS": _fragment(f"_pattern_letters_{'none' if way == 'fresh' else way}"),
        "LETTER_PATTERNS": _fragment(_LETTER_PATTERNS[way]) if way in _LETTER_PATTERNS else "",
        "CELL_LETTERS": _fragment(f"_cell_letters_{cell}"),
    }
    if fresh is not None:  # the axis of the item's own field, its places' bits
        fragments = {key: sql.replace("__OWN__", own[0][0]) for key, sql in fragments.items()}
        return fragments, [fresh[1]]
    if slices is None:
        return fragments, [{}]
    return fragments, [{"letter_low": low, "letter_high": high} for low, high in slices]


def crosstab_letters(
    con: Con,
    filters: Filters,
    row: dimensions.Dimension,
    col: dimensions.Dimension,
    cells: int,
) -> tuple[str, str, dict[str, Any]]:
    """How ``crosstab`` counts a cell's letters: ``__LETTERS__``, ``__LETTER_FLAG__`` and their
    parameters. When both axes are letter's own fields, a letter's items that the filters
    select fall in the same cells: one flagged item each counts it (``counting_flag``: its
    first; with one value of an item's own scalar field among the filters, its first with that
    value). Under filters of the letter's own fields only (no search), when one axis is an
    item's own scalar field with ``<column>_fresh`` flags, the first item of the letter with
    each value counts it, but for that axis's "(other)" cells, where a letter could hold two
    of its values (``sql/_letters_flagged.sql``). Else bits or a
    distinct count (``letters_count``). At 4M items the default cross-tab under a specialty:
    its cells 186-191 -> 162-165 ms."""
    flagged = None
    own = [(axis, d) for axis, d in (("row", row), ("col", col)) if not d.per_letter]
    if (flag := counting_flag(con, (row, col), filters)) is not None:
        flagged = (flag, "false")
    elif _per_letter((), filters) and len(own) == 1 and (flag := fresh_flag(con, own[0][1])):
        axis = own[0][0]
        flagged = (flag, f"{axis}_order > len(${axis}_top)")
    if flagged is None:
        [letters], params = letters_count(con, cells, filters=filters)
        return letters, "null::boolean", params
    flag, merged = flagged
    other, params = "0", {}
    if merged != "false":  # the "(other)" cells' letters only: NULL keys are not counted
        [other], params = letters_count(con, cells, (f"case when {merged} then letter_key end",))
    letters = (
        _fragment("_letters_flagged").replace("__MERGED__", merged).replace("__OTHER__", other)
    )
    return letters, flag, params


# What a query may spend on counting letters as bits: groups x (letter numbers / 8) bytes.
LETTER_BITS_BUDGET = 64 * 1024 * 1024
# Bits cost their bytes whatever the rows; a distinct count, its rows. Bits pay when there are
# at least this many bytes of them per row counted (measured at 4M items: docs/benchmarks.md).
BITS_BYTES_PER_ROW = 1024


def letters_count(
    con: Con,
    groups: int,
    keys: tuple[str, ...] = ("letter_key",),
    filters: Filters | None = None,
    dims: tuple[dimensions.Dimension, ...] | None = None,
) -> tuple[list[str], dict[str, Any]]:
    """How a query with at most ``groups`` groups counts each group's distinct letters of each
    of ``keys`` (expressions of code, not input: the letter number, NULL for a row not to
    count), and the parameters that needs. A query whose rows carry ``letter_flag``
    (``counting_flag``'s column, else false) names the dimensions it groups by in ``dims``
    (none: ``()``): when a flagged item of each letter of the slice falls in every group of
    the letter (``counting_flag``), those items count it (``sql/_letters_first.sql``).
    Else bits (``sql/_letters_bits.sql``) when they fit ``LETTER_BITS_BUDGET`` and the slice
    under ``filters`` is not so small that counting its rows costs less than the bits
    (``BITS_BYTES_PER_ROW``); else a distinct count (``sql/_letters_distinct.sql``)."""
    if dims is not None and counting_flag(con, dims, filters) is not None:
        first = _fragment("_letters_first")
        return [first.replace("__KEY__", key) for key in keys], {}
    key_max = letter_bits(con, groups, filters)
    if key_max is not None:
        bits = _fragment("_letters_bits")
        return [bits.replace("__KEY__", key) for key in keys], {"letter_key_max": key_max}
    distinct = _fragment("_letters_distinct")
    return [distinct.replace("__KEY__", key) for key in keys], {}


# At most this many runs of sql/crosstab_bits.sql, each over a range of letter numbers, when
# the bits of letter numbers of all its groups at once pass LETTER_BITS_BUDGET.
LETTER_SLICES = 4


def letter_slices(
    con: Con, groups: int, filters: Filters | None, most: int = 1
) -> list[tuple[int, int]] | None:
    """The ranges of letter numbers (lowest, highest) in which a query of ``groups`` groups
    counts their letters as bits of letter numbers, one run each: as few as keep a run's bits
    within ``LETTER_BITS_BUDGET``, at most ``most``, together every number up to the highest.
    None when more are needed, or when the slice under ``filters`` is so small that counting
    its rows costs less (``BITS_BYTES_PER_ROW``)."""
    key_max = int(run_fixed(con, "letter_key_max").item(0, "letter_key_max"))
    bits_bytes = groups * (key_max + 1) / 8
    rows = slice_bound(con, filters) if filters is not None else None
    if LETTER_BITS_BUDGET <= 0 or (rows is not None and rows * BITS_BYTES_PER_ROW < bits_bytes):
        return None
    numbers = key_max + 1
    count = max(1, math.ceil(bits_bytes / LETTER_BITS_BUDGET))
    most = min(most, numbers)  # a run holds one letter number at least
    # A run's width is rounded up to whole letters: by a bit per group it could pass the
    # budget, so one more run then.
    while count <= most and groups * -(-numbers // count) / 8 > LETTER_BITS_BUDGET:
        count += 1
    if count > most:
        return None
    width = -(-numbers // count)
    return [(low, min(low + width - 1, key_max)) for low in range(0, numbers, width)]


def letter_bits(con: Con, groups: int, filters: Filters | None) -> int | None:
    """The highest letter number, when a query of ``groups`` groups counts their letters as
    bits of letter numbers in one run (``letter_slices``); else None."""
    slices = letter_slices(con, groups, filters)
    return slices[-1][1] if slices else None


def counting_flag(
    con: Con, dims: tuple[dimensions.Dimension, ...], filters: Filters | None
) -> str | None:
    """The item_facts flag that counts the letters of each group of ``dims`` under ``filters``
    by one item each, when there is one: ``dims`` the letter's own fields (a letter's items
    that the filters select fall in the same groups) and ``letter_flag``'s flag of the slice
    (its first item; with one value of an item's own scalar field among the filters, its first
    item with that value). At 4M items the Timeline's five dimensions under Overturned with a
    range of injury years: 83-118 ms as bits, 38-39 flagged."""
    if not all(dim.per_letter for dim in dims):
        return None
    return letter_flag(con, filters) if filters is not None else "first_in_letter"


def _per_letter(dims: tuple[dimensions.Dimension, ...], filters: Filters | None) -> bool:
    """Whether ``dims`` and ``filters`` are all the letter's own fields."""
    chosen = [dimensions.get(name) for name, _ in filters.selections] if filters else []
    searched = filters is not None and bool(filters.search)
    return not searched and all(dim.per_letter for dim in (*dims, *chosen))


def slice_bound(con: Con, filters: Filters, year: int | None = None) -> int | None:
    """At most how many items ``filters`` select (``year``: of those decided that year), from
    the marts: the fewest of any selection's values added up (a list counts an item under each
    value), from facet_counts; of a year, from facet_pairs' pairs of that decision year, where
    one value of the outcome (the decision) selected counts only its items under every other
    selection, and the year's items bound them all. None when no selection can be bounded
    (none, or values the mart does not hold: a drug combination)."""
    in_year, per_year = None, {}
    if year is not None:
        in_year = _year_items(con, filters, year)
        per_year = dict(run_fixed(con, "facet_items", {"dimension": YEAR}).iter_rows())
    if in_year:  # the decision year is paired: its own selection bounds by the year or none
        in_year[YEAR] = {str(year): per_year.get(str(year), 0)}
    bounds = []
    for name, values in filters.selections:
        known = dict(run_fixed(con, "facet_items", {"dimension": name}).iter_rows())
        if not known:  # not in the mart (added to the registry since the last ingest)
            continue
        items = known if in_year is None else in_year.get(name)
        if items is None:  # not paired with the decision year
            continue
        if dimensions.get(name).widget == "range":
            low, high = values
            years = [v for v in known if v.lstrip("-").isdigit()]
            if len(years) == len(known):
                bounds.append(sum(items.get(v, 0) for v in years if low <= int(v) <= high))
        elif all(str(v) in known for v in values):
            bounds.append(sum(items.get(str(v), 0) for v in values))
    if in_year is not None and per_year:
        bounds.append(per_year.get(str(year), 0))
    return min(bounds) if bounds else None


# The dimension of the newest items (item_facts is ordered by it): newest_first, slice_bound.
YEAR = "decision_year"


def _year_items(con: Con, filters: Filters, year: int) -> dict[str, dict[str, int]]:
    """Per filter the mart pairs with the decision year, its values' items decided in
    ``year`` (``sql/year_items.sql``), those of the selected outcome only when ``filters``
    select one (the decision: the pairs' ``overturned`` or the rest)."""
    rows = run_fixed(con, "year_items", {"year_dimension": YEAR, "year": str(year)})
    chosen = chosen_outcome(filters)
    counted = pl.col("items")
    if chosen is not None and chosen.overturned is not None:
        overturned = pl.col("overturned")
        counted = overturned if chosen.overturned else pl.col("items") - overturned
    per_value: dict[str, dict[str, int]] = {}
    for name, value, n in rows.select("dimension", "value", counted).iter_rows():
        per_value.setdefault(name, {})[value] = n
    return per_value


def value_count(con: Con, dimension: str) -> int:
    """How many values the facet mart holds for ``dimension``; for one it does not hold yet
    (added to the registry since the last ingest), as many as a warehouse could hold items."""
    return run_fixed(con, "facet_items", {"dimension": dimension}).height or 1 << 40


def compare(
    con: Con, filters: Filters, name: str, a: str, b: str, by: str | None = None
) -> pl.DataFrame:
    """Two values ``a`` and ``b`` of the dimension ``name`` side by side, per stratum of the
    dimension ``by`` (one stratum, ``(all items)``, when None): ``compare_rows`` of
    ``comparison``."""
    return compare_rows(comparison(con, filters, name, a, b, by), pooled=by is None)


def comparison(
    con: Con, filters: Filters, name: str, a: str, b: str, by: str | None = None
) -> pl.DataFrame:
    """``stratum``, ``side`` (a, b, or both: items listing both values of a list dimension, in
    neither group), ``pooled``, ``n``, ``overturned``, ``letters``: each side per stratum of
    the dimension ``by`` (``(all items)`` when None) and, ``pooled``, over all of them (the
    crude comparison) in one scan (``sql/compare.sql`` with the fragments of the two shapes,
    ``sql/_set_<shape>.sql`` and ``sql/_value_<shape or none>.sql``). ``compare_rows`` gives
    either as a table."""
    dim = dimensions.get(name)
    if a == b:
        raise ValueError("compare two different values")
    stratum = dimensions.get(by) if by is not None else None
    if stratum is not None and stratum.name == dim.name:
        raise ValueError("the strata must come from another dimension")
    params: dict[str, Any] = {}
    fragments = {
        "HOLDS_A": holds_value(con, dim, str(a), "a", params),
        "HOLDS_B": holds_value(con, dim, str(b), "b", params),
        "STRATUM_SOURCE": stratum.column if stratum is not None else "null",
        "STRATUM_VALUE": shape_sql(
            "value",
            stratum.shape if stratum is not None else "none",
            "stratum_source",
            "stratum_empty",
        ),
    }
    strata = value_count(con, stratum.name) if stratum is not None else 1
    # Three sides per stratum, the items without one, and pooled.
    [letters], letter_params = letters_count(con, 3 * (strata + 2), filters=filters)
    fragments["LETTERS"] = letters
    params |= {
        **filters.params(),
        **letter_params,
        "a": str(a),
        "b": str(b),
        "group_empty": dim.empty,
        "stratum_empty": stratum.empty if stratum is not None else None,
        "all_items": ALL_ITEMS,
    }
    return run_sql(con, "compare", params, fragments=fragments)


def holds_value(
    con: Con, dim: dimensions.Dimension, value: str, param: str, params: dict[str, Any]
) -> str:
    """SQL of whether an item holds ``value`` of ``dim``, bound as ``$<param>``: a list value
    with a bit of its own by the item's bits (``<param>_mask`` added to ``params``; the list
    not read: at 4M items the Compare page's unfiltered scan 220 -> 185-190 ms), else by its
    values (``sql/_holds_value.sql``; an empty list as the dimension's empty label,
    ``$group_empty``)."""
    bit = value_bits(con).get(dim.name, {}).get(value) if dim.shape == "list" else None
    if bit is not None:
        params[param + MASK] = params[param + LOW] = bit
        bits = _fragment("_filter_list_bits").replace("__COLUMN__", dim.column)
        return f"({bits.replace('__PARAM__', param)})"
    values = shape_sql("set", dim.shape, dim.column, "group_empty")
    return _fragment("_holds_value").replace("__SET__", values).replace("__PARAM__", param)


def compare_rows(long: pl.DataFrame, pooled: bool) -> pl.DataFrame:
    """``comparison``'s rows per stratum (``pooled`` False) or over all strata (True: one
    stratum, ``(all items)``) as a table: ``stratum`` (NULL: the item has no value of the
    strata's dimension), ``a_letters``, ``a_n``, ``a_overturned``, ``b_letters``, ``b_n``,
    ``b_overturned`` and ``both_n``, the strata with the most items first."""
    long = long.filter(pl.col("pooled") == pooled)
    side = pl.col("side")
    wide = long.group_by("stratum").agg(
        a_letters=pl.col("letters").filter(side == "a").sum(),
        a_n=pl.col("n").filter(side == "a").sum(),
        a_overturned=pl.col("overturned").filter(side == "a").sum(),
        b_letters=pl.col("letters").filter(side == "b").sum(),
        b_n=pl.col("n").filter(side == "b").sum(),
        b_overturned=pl.col("overturned").filter(side == "b").sum(),
        both_n=pl.col("n").filter(side == "both").sum(),
    )
    return (
        wide.with_columns(pl.col("^(a|b|both)_.*$").fill_null(0).cast(pl.Int64))
        .with_columns(_total=pl.col("a_n") + pl.col("b_n"))
        .sort(pl.col("stratum").is_null(), -pl.col("_total"), "stratum")
        .drop("_total")
    )


# The one stratum of a comparison without strata, and of its pooled rows.
ALL_ITEMS = "(all items)"


def compare_candidates(
    con: Con, filters: Filters, name: str, a: str, candidates: tuple[str, ...]
) -> pl.DataFrame:
    """``candidate``, ``n``: the items of the slice holding each of ``candidates`` (values of
    the dimension ``name``) and not ``a`` — what ``compare(…, a, candidate)`` counts as B — in
    one pass (``sql/compare_candidates.sql``); candidates without any are no row. A list
    whose ``a`` and candidates all have bits of their own is counted from its bits' patterns
    (``sql/compare_candidates_bits.sql``: at 4M items 120 -> 31 ms unfiltered, 50 -> 29 under a
    drug class, 110 -> 31 under a reason and a guideline source)."""
    dim = dimensions.get(name)
    bits = value_bits(con).get(dim.name, {}) if dim.shape == "list" else {}
    if str(a) in bits and all(str(c) in bits for c in candidates):
        params = {
            **filters.params(),
            "a" + MASK: bits[str(a)],
            "candidates": [str(c) for c in candidates],
            "candidate_masks": [bits[str(c)] for c in candidates],
        }
        return run_sql(con, "compare_candidates_bits", params, column=dim.column)
    return run_sql(
        con,
        "compare_candidates",
        {
            **filters.params(),
            "a": str(a),
            "candidates": [str(c) for c in candidates],
            "group_empty": dim.empty,
        },
        fragments={"GROUP_SET": shape_sql("set", dim.shape, dim.column, "group_empty")},
    )


def published_counts(con: Con, filters: Filters) -> pl.DataFrame:
    """Items per decision year, category, drug class and decision, and letters per decision
    year, under the filters (``kind``: items / letters): what ``reference.compare_published``
    sets beside the published DWC / CWCI figures."""
    years = value_count(con, "decision_year")
    [letters], letter_params = letters_count(con, years, filters=filters)
    return run_sql(
        con,
        "published_counts",
        {**filters.params(), **letter_params},
        fragments={"LETTERS": letters},
    )


def source_concordance(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    """How often MAXIMUS cites the claims administrator's guideline source, overall and per
    MAXIMUS source (``sql/source_concordance.sql``). Under one selection of a filter other than
    the sources themselves, or two filters selected together (``_two_selections``), the
    facet_pairs mart's sums (``sql/source_concordance_pairs.sql``:
    the counts are items', so any one selection adds up, several values of a scalar too);
    a mart built before it counted the agreement has no ``same_source``: counted then."""
    # The filter of the sources the mart's agreement counts are per (etl: derived.CONCORDANT)
    sources = next(d.name for d in dimensions.FILTERS if d.column == CONCORDANT)
    paired = set(run_fixed(con, "facet_dimensions").filter(pl.col("paired"))["dimension"])
    # Two filters selected together: their rows' agreement is the scan's (derived.
    # selection_pair_sql), whichever filters they are.
    two = _two_selections(con, filters)
    one = two or _one_selection(filters, paired) or _every_item(con, filters, paired)
    if (
        one is None
        or sources not in paired
        or one["pair_dimension"] == sources
        or "same_source" not in column_types(con, "facet_pairs")
    ):
        return _filtered(con, "source_concordance", filters, small_n)
    own = "" if two else dimensions.get(one["pair_dimension"]).column
    # Any other scalar filter: its rows with the selection hold each of its items once.
    total = next(
        d.name
        for d in dimensions.FILTERS
        if d.shape == "scalar" and d.name in paired and d.column != own
    )
    params = {**one, "sources_dimension": sources, "total_dimension": total, "small_n": small_n}
    return run_sql(con, "source_concordance_pairs", params)


def timeliness(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    """Days from application to decision per review priority, over the letters of the slice
    (``sql/timeliness.sql``: one flagged item each, ``letter_flag``, else distinct)."""
    flag = letter_flag(con, filters)
    fragments = {"LETTER_FLAG": flag or "first_in_letter"}
    return _filtered(con, "timeliness", filters, small_n, fragments, by_flag=flag is not None)


def letter_flag(con: Con, filters: Filters) -> str | None:
    """The item_facts column that flags one item of each letter of the slice ``filters``
    selects, when there is one: its first item when every filter is the letter's own; with
    one value of an item's own scalar field besides, the letter's first item with that value
    (``<column>_fresh``: at 4M items the timeliness of opioids 61 -> 52 ms against distinct). A
    search picks items: none then (nor for several values, which a letter can hold two of)."""
    if _per_letter((), filters):
        return "first_in_letter"
    own = [
        (dimensions.get(n), v) for n, v in filters.selections if not dimensions.get(n).per_letter
    ]
    if filters.search or len(own) != 1 or len(own[0][1]) != 1:
        return None
    return fresh_flag(con, own[0][0])


def fresh_flag(con: Con, dim: dimensions.Dimension) -> str | None:
    """The item_facts flag of the items that come first in their letter with their value of
    ``dim``, an item's own scalar field (``<column>_fresh``), if the warehouse has it."""
    flag = f"{dim.column}_fresh"
    own_scalar = dim.shape == "scalar" and not dim.per_letter
    return flag if own_scalar and flag in column_types(con, "item_facts") else None


# --- item level ----------------------------------------------------------------------------


def items(con: Con, filters: Filters, limit: int | None = None) -> pl.DataFrame:
    """The filtered items (the item-level CSV); ``limit=None`` returns every row."""
    return _filtered(con, "items", filters, row_limit=limit)


def items_batches(con: Con, filters: Filters, batch_rows: int = 100_000) -> Iterator[pl.DataFrame]:
    """Every filtered item, streamed in frames of ``batch_rows`` (for large CSV downloads)."""
    from dashboard import search  # it runs queries too

    sql = load_sql("items")
    bound = _bound("items", sql, search.bind(con, {**filters.params(), "row_limit": None}))
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
        return newest_first(con, "browse", filters, "row_limit", limit)
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


def letter_evidence(con: Con, letter_id: str) -> pl.DataFrame:
    """item_no, reason, sentence, start_offset, end_offset: each item's reasons and where their
    sentences are in its rationale."""
    return run_sql(con, "letter_evidence", {"letter_id": letter_id})


# --- the reviewer's reasons ------------------------------------------------------------------

NO_REASON = dimensions.get("reason").empty


def reason_shares(con: Con, filters: Filters, small_n: int = 30) -> pl.DataFrame:
    """Per reason: upheld items giving it and their share of the upheld items (95% Wilson
    interval), and overturned items giving it; items without a reason under ``NO_REASON``.
    Columns: reason, upheld_with, upheld_items, share, share_lower, share_upper,
    overturned_with, overturned_items, small_sample; most upheld items first."""
    return shares_from(
        con, rates_by(con, filters, "reason", small_n), summary(con, filters, small_n), small_n
    )


def shares_from(
    con: Con, reasons: pl.DataFrame, totals: pl.DataFrame, small_n: int = 30
) -> pl.DataFrame:
    """``reason_shares`` from what a page has already: the reason dimension's ``rates_by``
    (``reason``, ``n``, ``overturned``) and the slice's ``summary`` (``n``, ``overturned``)."""
    row = totals.row(0, named=True)
    overturned = int(row["overturned"] or 0)
    return run_sql(
        con,
        "reason_shares",
        {
            "upheld_items": int(row["n"] or 0) - overturned,
            "overturned_items": overturned,
            "small_n": small_n,
        },
        frames={"reason_rates": reasons.select("reason", "n", "overturned")},
    )


def reason_by(
    con: Con, filters: Filters, name: str, top: int = 15, small_n: int = 30
) -> pl.DataFrame:
    """Per (value of the scalar registry dimension ``name``, reason): the share of that value's
    upheld items giving the reason; the ``top`` values with most upheld items. Columns: ``name``,
    reason, upheld_with, upheld_items, share, share_lower, share_upper, small_sample."""
    return reasons_from(reasons_together(con, filters, (name,), top, small_n), name)


def reasons_together(
    con: Con, filters: Filters, names: tuple[str, ...], top: int = 15, small_n: int = 30
) -> pl.DataFrame:
    """``reason_by`` of each scalar registry dimension of ``names`` in one pass over the
    filtered items (``sql/reason_by.sql``: a grouping set per dimension), or under one
    selection the reason_pairs mart's sums (``_reasons_selection``); ``reasons_from`` gives
    each."""
    dims = _distinct_scalars(names, "reasons_together")
    upheld = _upheld_items(filters)
    if upheld is None and (every := _reasons_selection(con, Filters(), dims)) is not None:
        # No upheld item (Overturned selected): the mart's rows of no value, none (at 4M items
        # a scan of 30-35 ms that found nothing).
        return _summed_reasons(con, {**every, "pair_values": []}, dims, small_n, max(int(top), 1))
    one = _reasons_selection(con, upheld, dims) if upheld is not None else None
    if one is not None:
        return _summed_reasons(con, one, dims, small_n, max(int(top), 1))
    return _scanned_reasons(con, filters, dims, small_n, top)


def _scanned_reasons(
    con: Con, filters: Filters, dims: list[dimensions.Dimension], small_n: int, top: int
) -> pl.DataFrame:
    """``reasons_together``'s frame counted from the filtered items (``sql/reason_by.sql``): by
    the bits of their reasons where each reason has its own (``reason_bits``), else from their
    lists."""
    columns = [dim.column for dim in dims]
    params = {**filters.params(), "small_n": small_n, "top": max(int(top), 1)}
    by_bits = reason_bits(con)
    if by_bits:
        params |= BIT_PARAMS
    return run_sql(
        con,
        "reason_by",
        params,
        fragments={
            # First: it holds the tokens that follow.
            "REASON_COUNTS": _fragment(f"_reason_counts_{'bits' if by_bits else 'lists'}"),
            "COLUMNS": ", ".join(columns),
            "TOP_COLUMNS": ", ".join(f"top_values.{c}" for c in columns),
            "SETS": ", ".join(f"({c})" for c in columns),
            "REASON_SETS": ", ".join(f"({c}, reason)" for c in columns),
            "PATTERN_SETS": ", ".join(f"({c}, reasons_bits)" for c in columns),
            "VALUE_KEY": f"coalesce({', '.join(f'{c}::varchar' for c in columns)})",
        },
    )


def reason_bits(con: Con) -> bool:
    """Whether the warehouse numbers every reason by a bit of its own (``reasons_bits``, from
    its dictionary: ``shared_bits``), so that ``sql/_reason_counts_bits.sql`` counts them."""
    shared = shared_bits(con)
    return shared is not None and shared.own(dimensions.get("reason").name)


def _upheld_items(filters: Filters) -> Filters | None:
    """The filters a count of upheld items alone follows: a selection of the decision
    (``Dimension.outcome``) that holds the upheld value selects every upheld item, so it is
    left out (and the reason_pairs mart sums the rest, when it is one selection); a
    selection of outcomes without it selects none of them: None."""
    chosen = chosen_outcome(filters)
    if chosen is None:
        return filters
    return None if chosen.overturned else filters.without(chosen.dimension.name)


def _reasons_selection(
    con: Con, filters: Filters, dims: list[dimensions.Dimension]
) -> dict[str, Any] | None:
    """``_one_selection``'s parameters when the reason_pairs mart holds the reasons of
    ``dims`` under ``filters``: one selection of a filter it counts under (several values of a
    scalar add up: an item has one), two filters selected together (``_two_selections``) or
    none (``_every_item``), ``dims`` among those it shares out by; else None (a warehouse of
    a build before the mart has none)."""
    if not column_types(con, "reason_pairs"):
        return None
    held = run_fixed(con, "reason_pair_dimensions")
    by = set(held["dimension"])
    two = _two_selections(con, filters)
    if two is not None and two["pair_dimension"] not in by:
        two = None  # (a mart of a build that counted the pair in facet_pairs alone)
    one = _one_selection(filters, by) or two or _every_item(con, filters, by)
    if one is None or not {d.name for d in dims} <= set(held["other"]):
        return None
    return one


def _summed_reasons(
    con: Con, one: dict[str, Any], dims: list[dimensions.Dimension], small_n: int, top: int
) -> pl.DataFrame:
    """``reasons_together``'s frame under the selection ``one``, summed from the reason_pairs
    mart (``sql/reason_by_pairs.sql``)."""
    columns = [dim.column for dim in dims]
    params = {
        **one,
        "by_dimensions": [dim.name for dim in dims],
        "set_ids": [_grouping_set(columns, column) for column in columns],
        "small_n": small_n,
        "top": top,
    }
    columns_sql = _placed_columns(con, dims)
    return run_sql(con, "reason_by_pairs", params, fragments={"COLUMNS": columns_sql})


def reasons_from(together: pl.DataFrame, name: str) -> pl.DataFrame:
    """The rows of ``reasons_together`` for the dimension ``name``, as ``reason_by`` gives them."""
    dim = dimensions.get(name)
    columns = together.columns[1 : together.columns.index("reason")]
    rest = together.columns[together.columns.index("reason") :]
    return together.filter(pl.col("set_id") == _grouping_set(columns, dim.column)).select(
        pl.col(dim.column).alias(dim.name), *rest
    )


def reason_examples(con: Con, filters: Filters, reason: str, limit: int = 20) -> pl.DataFrame:
    """Items of the slice giving ``reason``, newest first, with the sentence that says so: the
    items first, then their letters' sentences by the index (an item has one evidence row per
    reason it gives: etl/classify's reasons are those of its evidence). A reason with a bit of
    its own is asked of the items' bits (``holds_value``: at 4M items 38-43 -> 29-34 ms)."""
    params: dict[str, Any] = {"group_empty": None}  # no reason found is no example
    holds = {"HOLDS_REASON": holds_value(con, dimensions.get("reason"), reason, "reason", params)}
    newest = newest_first(
        con, "reason_examples", filters, "limit", limit, holds, reason=reason, **params
    )
    letter_ids = newest.get_column("letter_id").unique().to_list()
    sentences = run_sql(con, "reason_sentences", {"letter_ids": letter_ids})
    saying = sentences.filter(pl.col("reason") == reason).select("letter_id", "item_no", "sentence")
    return newest.join(saying, on=["letter_id", "item_no"], how="inner", maintain_order="left")


# --- warehouse-wide ------------------------------------------------------------------------


def filter_options(
    con: Con, filters: Filters | None = None, names: tuple[str, ...] | None = None
) -> pl.DataFrame:
    """dimension (registry name), value (text), n (items) for every filter (or those named in
    ``names``): every value the warehouse holds, counted under the other filters of ``filters``
    (Datasette-style facet counts; none: the whole warehouse); a list dimension counts an item
    once per value. Most items first, values without items last.

    Filters without a selection of their own share their counting filters, so they are counted
    together (``sql/options.sql``): with no filter set that is the facet_counts mart alone, else
    one pass for the scalar columns and one for the list columns; each selected filter adds one."""
    filters = filters or Filters()
    marts = run_fixed(con, "facet_dimensions")
    in_mart = set(marts.get_column("dimension"))
    paired = set(marts.filter(pl.col("paired")).get_column("dimension"))
    shared = shared_bits(con)
    groups: dict[Filters, list[dimensions.Dimension]] = {}
    for dim in dimensions.FILTERS:
        if names is None or dim.name in names:
            groups.setdefault(filters.without(dim.name), []).append(dim)
    frames = []
    for under, dims in groups.items():
        marted = [d for d in dims if d.name in in_mart]
        scanned = [d for d in dims if d.name not in in_mart]
        every = _union(_from_mart(marted), _scan(scanned, "true", shared))
        params: dict[str, Any] = {
            **under.params(),
            **BIT_PARAMS,
            "mart_dimensions": [d.name for d in marted],
        }
        one = (
            _one_selection(under, paired)
            or _two_selections(con, under)
            or _split_selection(under, paired)
        )
        if under == Filters():
            counts = every
        elif one is not None:
            from_pairs = [d for d in dims if d.name in paired]
            counts = _union(
                _from_pairs(from_pairs),
                _scan([d for d in dims if d not in from_pairs], "__FILTERS__", shared),
            )
            params |= {"pair_outcome": None, **one, "pair_dimensions": [d.name for d in from_pairs]}
        else:
            counts = _scan(dims, "__FILTERS__", shared)
        frames.append(
            run_sql(con, "options", params, fragments={"EVERY_VALUE": every, "COUNTS": counts})
        )
    if not frames:
        return pl.DataFrame(schema={"dimension": pl.String, "value": pl.String, "n": pl.Int64})
    rank = {d.name: i for i, d in enumerate(dimensions.FILTERS)}
    return (
        pl.concat(frames, how="vertical")
        .with_columns(pl.col("dimension").replace_strict(rank, return_dtype=pl.Int64).alias("rank"))
        .sort(["rank", "n", "value"], descending=[False, True, False])
        .select("dimension", "value", "n")
    )


def _one_selection(filters: Filters, paired: set[str]) -> dict[str, Any] | None:
    """The parameters of ``_pair_counts.sql`` when ``filters`` is one selection the
    facet_pairs mart counts under (no search, no demo switch): a range, a scalar filter's
    values, or one plain value of a list filter (an item holding two selected values would
    be counted twice; a drug combination needs all its parts); else None."""
    if filters.search or filters.exclude_synthetic or len(filters.selections) != 1:
        return None
    name, values = filters.selections[0]
    dim = dimensions.get(name)
    if name not in paired or not values:
        return None
    if dim.widget == "range":
        chosen: dict[str, Any] = {
            "pair_values": None,
            "pair_low": values[0],
            "pair_high": values[1],
        }
    elif dim.shape == "list" and (len(values) > 1 or " + " in values[0]):
        return None
    else:
        chosen = {"pair_values": list(values), "pair_low": None, "pair_high": None}
    return {"pair_dimension": name, **chosen}


def _two_selections(con: Con, filters: Filters) -> dict[str, Any] | None:
    """``_one_selection``'s parameters when ``filters`` is one value of each of two filters
    the facet_pairs mart counts together (``dimensions.SELECTION_PAIRS``; no search, no demo
    switch, no drug combination): its rows of that pair (``dimensions.pair_name``) and of
    both values (joined by ``dimensions.VALUE_JOIN``), which count every filter's values, the
    pair's own too, and their distinct letters. Else None (a mart of a build before the pair
    was named: scanned)."""
    if filters.search or filters.exclude_synthetic or len(filters.selections) != 2:
        return None
    chosen = dict(filters.selections)
    for a, b in dimensions.SELECTION_PAIRS:
        if set(chosen) != {a.name, b.name}:
            continue
        values = [chosen[a.name], chosen[b.name]]
        if any(len(v) != 1 or " + " in v[0] or dimensions.VALUE_JOIN in v[0] for v in values):
            return None  # (the mart leaves out a value holding the separator)
        name = dimensions.pair_name(a, b)
        names = [dimensions.pair_name(*pair) for pair in dimensions.SELECTION_PAIRS]
        if name not in run_fixed(con, "selection_pairs", {"pair_names": names})["dimension"]:
            return None
        value = dimensions.VALUE_JOIN.join(str(v[0]) for v in values)
        return {"pair_dimension": name, "pair_values": [value], "pair_low": None, "pair_high": None}
    return None


def _split_selection(filters: Filters, paired: set[str]) -> dict[str, Any] | None:
    """``_one_selection``'s parameters when ``filters`` is one such selection and a selection
    of the outcome (``Dimension.outcome``: the decision), whose values split the mart's items
    into its ``overturned`` ones and the rest: ``pair_outcome`` True counts the overturned,
    False the rest (``_pair_counts.sql``), with the outcome's dimension and its value
    selected (``outcome_dimension``, ``outcome_value``: None for both). Else None."""
    chosen = chosen_outcome(filters)
    if chosen is None or chosen.dimension.name not in paired:
        return None
    one = _one_selection(filters.without(chosen.dimension.name), paired)
    if one is None:
        return None
    return {
        **one,
        "pair_outcome": chosen.overturned,
        "outcome_dimension": chosen.dimension.name,
        "outcome_value": chosen.value,
    }


@dataclass(frozen=True)
class Outcome:
    """What filters select of the outcome (``Dimension.outcome``: the decision): its first
    value's items (``overturned`` True: the marts' overturned count), the rest (False), or
    both (None)."""

    dimension: dimensions.Dimension
    overturned: bool | None

    @property
    def value(self) -> str | None:
        """The one value selected (None: both)."""
        values = self.dimension.outcome or ("", "")
        return None if self.overturned is None else values[0 if self.overturned else 1]


def chosen_outcome(filters: Filters) -> Outcome | None:
    """What ``filters`` select of the outcome, or None: not selected, no outcome in the
    registry, or a value no item holds among those selected (which matches nothing: counted
    as the filter says)."""
    dim = next(iter(dimensions.OUTCOMES), None)  # the registry's one outcome
    if dim is None or dim.outcome is None:
        return None
    chosen = set(filters.get(dim.name))
    if not chosen or not chosen <= set(dim.outcome):
        return None
    both = len(chosen) == len(dim.outcome)
    return Outcome(dim, None if both else dim.outcome[0] in chosen)


def _every_item(con: Con, filters: Filters, paired: set[str]) -> dict[str, Any] | None:
    """No filter at all as a selection the facet_pairs mart sums over (``_one_selection``'s
    parameters): every value of a letter's own scalar field that every item holds a value of
    (its facet_counts items add up to all the items), the one with the fewest values. Each
    item, and each letter, is then in exactly one of the values, so their pairs add up to the
    whole warehouse's tables: at 4M items, unfiltered rate tables of the lists 200-400 ms
    counted. None when a filter is set or no such field is in the mart."""
    if filters != Filters():
        return None
    total = int(run_fixed(con, "item_count").item(0, "n"))
    complete = []
    for dim in dimensions.FILTERS:
        if dim.per_letter and dim.shape == "scalar" and dim.name in paired:
            items = run_fixed(con, "facet_items", {"dimension": dim.name})
            if items.height and int(items.get_column("items").sum()) == total:
                complete.append((items.height, dim.name, items.get_column("value").to_list()))
    if not complete:
        return None
    _, name, values = min(complete)
    return {"pair_dimension": name, "pair_values": values, "pair_low": None, "pair_high": None}


def _from_mart(dims: list[dimensions.Dimension]) -> str:
    """The mart's counts of ``dims`` (the names bound as $mart_dimensions)."""
    if not dims:
        return ""
    return (
        "select dimension, value, items as n from facet_counts"
        " where dimension in (select unnest($mart_dimensions::varchar[]))"
    )


def _from_pairs(dims: list[dimensions.Dimension]) -> str:
    """The facet_pairs mart's counts of ``dims`` (bound as $pair_dimensions) under one
    selection (``_one_selection``)."""
    return _fragment("_pair_counts") if dims else ""


def _scan(dims: list[dimensions.Dimension], where: str, shared: SharedBits | None) -> str:
    """Counts of ``dims`` from item_facts under ``where`` (``__FILTERS__`` or ``true``): one
    pass for the scalar columns, one for the list columns (registry constants only): by their
    bits where the warehouse's dictionary numbers them (``shared``: ``shared_bits``), else by
    their values unnested."""
    parts = []
    scalars = [d for d in dims if d.shape == "scalar"]
    if scalars:
        parts.append(
            _fragment("_option_counts_scalar")
            .replace("__CASTS__", ", ".join(f"{d.column}::varchar as {d.name}" for d in scalars))
            .replace("__COLUMNS__", ", ".join(dict.fromkeys(d.column for d in scalars)))
            .replace("__SETS__", ", ".join(f"({d.column})" for d in scalars))
        )
    lists = [d for d in dims if d.shape == "list"]
    bitted = [d for d in lists if shared is not None and d.name in shared.bitted]
    if bitted:
        sharing = shared.sharing if shared is not None else frozenset()
        held = [
            _fragment("_option_counts_shared")
            .replace("__DIMENSION__", d.name)
            .replace("__COLUMN__", d.column)
            for d in bitted
            if d.name in sharing
        ]
        parts.append(
            _fragment("_option_counts_bits")
            .replace("__SHARED__", "\nunion all\n".join(held) or _NO_VALUES)
            .replace("__BITS__", ", ".join(f"{d.column}_bits" for d in bitted))
            .replace("__SETS__", ", ".join(f"({d.column}_bits)" for d in bitted))
        )
    lists = [d for d in lists if d not in bitted]
    if lists:
        parts.append(
            _fragment("_option_counts_lists")
            .replace(
                "__UNNESTS__", ", ".join(f"unnest({d.column})::varchar as {d.name}" for d in lists)
            )
            .replace("__NAMES__", ", ".join(d.name for d in lists))
            .replace("__SETS__", ", ".join(f"({d.name})" for d in lists))
        )
    return _union(*(part.replace("__CONDITION__", where) for part in parts))


_NO_VALUES = "select ''::varchar as dimension, ''::varchar as value where false"


def _union(*parts: str) -> str:
    kept = [part for part in parts if part]
    if not kept:  # no dimension: an empty relation of the right shape
        return "select ''::varchar as dimension, ''::varchar as value, 0::bigint as n where false"
    return "\nunion all\n".join(f"select * from ({part})" for part in kept)


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
    return run_fixed(con, "meta")


# --- DWC's index (imr fetch) beside our parse ----------------------------------------------


def dwc_available(con: Con) -> pl.DataFrame:
    """One row, ``available``: the warehouse holds DWC's index (older warehouses do not)."""
    return run_sql(con, "dwc_available", {"database": WAREHOUSE})


def dwc_summary(con: Con) -> pl.DataFrame:
    """One row: DWC's letters and items, letters present in both, compared, count mismatches."""
    return run_sql(con, "dwc_summary")


def dwc_agreement(con: Con) -> pl.DataFrame:
    """Per field (decision, category, drug class): compared, agree, disagree, agree_rate with
    its Wilson bounds, unmapped (DWC's text is not one of our vocabulary's names)."""
    return run_sql(con, "dwc_agreement")


def dwc_disagreements(con: Con, limit: int | None = SCREEN_ROWS) -> pl.DataFrame:
    return run_sql(con, "dwc_disagreements", {"row_limit": limit})


def dwc_count_mismatches(con: Con, limit: int | None = SCREEN_ROWS) -> pl.DataFrame:
    return run_sql(con, "dwc_count_mismatches", {"row_limit": limit})


# The marts the ETL publishes and the columns the dashboard reads from them: these, plus the
# column of every registry dimension (``required_columns``). See "Marts" in dashboard/README.md.
ITEM_FACTS_COLUMNS = frozenset(
    [
        "letter_id",
        "letter_key",
        "item_no",
        "first_in_letter",
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
FACET_COUNTS_COLUMNS = frozenset(
    {"dimension", "value", "items", "overturned", "letters", "synthetic_items", "synthetic_letters"}
)
FACET_PAIRS_COLUMNS = frozenset(
    {"dimension", "value", "other", "other_value", "items", "overturned", "letters"}
)


def required_columns() -> dict[str, frozenset[str]]:
    """Mart -> the columns the dashboard reads from it."""
    return {
        "item_facts": ITEM_FACTS_COLUMNS
        | {d.column for d in dimensions.DIMENSIONS}
        | {f"{d.column}_bits" for d in LIST_FILTERS},
        "parse_coverage": PARSE_COVERAGE_COLUMNS,
        "unresolved_counts": UNRESOLVED_COUNTS_COLUMNS,
        "facet_counts": FACET_COUNTS_COLUMNS,
        "facet_pairs": FACET_PAIRS_COLUMNS,
        "reason_evidence": frozenset(
            {"letter_id", "item_no", "reason", "sentence", "start_offset", "end_offset"}
        ),
    }


def missing_columns(con: Con) -> pl.DataFrame:
    """table, column pairs the dashboard needs but the warehouse lacks (empty when up to date)."""
    required = required_columns()
    present = run_sql(con, "views_check", {"tables": sorted(required)})
    have = set(present.select("table_name", "column_name").iter_rows())
    missing = sorted(
        (table, column)
        for table, columns in required.items()
        for column in columns
        if (table, column) not in have
    )
    return pl.DataFrame(missing, schema=["table", "column"], orient="row")

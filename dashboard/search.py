"""Search in the dashboard: the index of the session's warehouse, ``q`` as a filter on every
query, ranked matches with snippets, highlights for the letter reader, similar decisions, and the
Drug filter's brand names. Polars frames out; no Streamlit here (``search_ui.py`` draws).

**q as a filter.** ``Filters.params()`` carries the text as ``search_text``; ``bind`` (called by
``queries.run_sql`` for every query) turns it into ``search_id``: the search is run once per
session and text, its hits (the keys of the matching items — or, when they are more than half,
of the others, ``search_negated``) are inserted into the session's in-memory table
``memory.main.search_hits``, and the filter predicate semi-joins them (``sql/search_filter.sql``).
So every page, chart, cross-tab and CSV counts only items matching ``q``. The
``KEEP`` most recently used searches are kept; older ones idle for ``IDLE_SECONDS`` are
forgotten.

**The index** is the one the warehouse version names in its ``meta`` (``etl.search.engine``
checks it belongs to that file). Without a usable one (a warehouse built before the index
existed), a search matches the text literally in requests and rationales, and ``status`` says so.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa

from dashboard import queries
from dashboard.filters import Filters
from etl.search.engine import CompiledQuery, Hit, IndexUnavailable, SearchIndex
from etl.search.synonyms import ARROW, drug_names

Con = duckdb.DuckDBPyConnection

RANKED_ROWS = 50
SIMILAR_ROWS = 20
KEEP = 8
IDLE_SECONDS = 60.0
LITERAL = "literal"  # the index id of literal (index-less) searches

_LOCK = threading.RLock()
_IDS = itertools.count(1)
_INDEXES: OrderedDict[tuple[str, str], IndexState] = OrderedDict()


@dataclass(frozen=True)
class IndexState:
    """The session warehouse's search index, or why there is none."""

    index: SearchIndex | None
    index_id: str
    problem: str | None

    @property
    def salt(self) -> int:
        return self.index.salt if self.index is not None else 0


def _execute(con: Con, name: str, params: dict[str, Any], cur: Con | None = None) -> None:
    """Run a statement of ``sql/<name>.sql`` (no result) with the parameters it uses."""
    sql = queries.load_sql(name)
    bound = {key: params[key] for key in queries.param_names(sql)}
    own = cur is None
    cur = cur or queries.cursor(con)
    try:
        cur.execute(sql, bound)
    finally:
        if own:
            cur.close()


def index_state(con: Con) -> IndexState:
    """The index of the warehouse attached to this session (opened once per version)."""
    row = queries.run_sql(con, "search_meta").row(0, named=True)
    path = Path(str(row["path"]))
    meta = {"search_index": row["search_index"], "search_index_id": row["search_index_id"]}
    key = (str(path), str(row["search_index_id"] or ""))
    with _LOCK:
        if key in _INDEXES:
            _INDEXES.move_to_end(key)
            return _INDEXES[key]
        try:
            index = SearchIndex.open(path, meta, str(row["hash_probe"]))
            state = IndexState(index, str(row["search_index_id"]), None)
        except IndexUnavailable as problem:
            state = IndexState(None, LITERAL, str(problem))
        _INDEXES[key] = state
        while len(_INDEXES) > 2:
            _INDEXES.popitem(last=False)
        return state


def status(con: Con) -> pl.DataFrame:
    """One row: ``available``, ``problem`` (None when available), ``documents``."""
    state = index_state(con)
    return pl.DataFrame(
        {
            "available": [state.index is not None],
            "problem": [state.problem],
            "documents": [state.index.documents if state.index is not None else 0],
        },
        schema={"available": pl.Boolean, "problem": pl.String, "documents": pl.Int64},
    )


# --- q as a filter -------------------------------------------------------------------------


def bind(con: Con, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` with ``search_text`` resolved into the search filter's parameters
    (``search_id``, ``search_negated``, ``search_salt``); no search: NULL, false, 0."""
    out = {"search_id": None, "search_negated": False, "search_salt": 0, **params}
    text = params.get("search_text")
    if text:
        out["search_id"], out["search_negated"], out["search_salt"] = materialise(con, text)
    return out


def materialise(con: Con, text: str) -> tuple[int, bool, int]:
    """The session's hits of a search (inserted once): (search id, negated, salt)."""
    state = index_state(con)
    now = time.monotonic()
    with _LOCK:
        found = queries.run_sql(con, "search_lookup", {"index_id": state.index_id, "query": text})
        if found.height:
            search_id, negated, salt = found.row(0)
            _execute(con, "search_touch", {"search_id": search_id, "used_at": now})
            return int(search_id), bool(negated), int(salt)
        search_id = next(_IDS)
        cur = queries.cursor(con)
        try:
            if state.index is not None:
                keys, negated = state.index.keys(state.index.compile(text))
                cur.register("search_keys", pa.table({"key": keys}))
                _execute(con, "search_insert", {"search_id": search_id}, cur)
                cur.unregister("search_keys")
                matches = len(keys)
            else:
                negated = False
                pattern = queries.like_pattern(text)
                _execute(con, "search_fallback", {"search_id": search_id, "pattern": pattern}, cur)
                matches = -1
        finally:
            cur.close()
        _execute(
            con,
            "search_register",
            {
                "search_id": search_id,
                "index_id": state.index_id,
                "query": text,
                "negated": negated,
                "salt": state.salt,
                "matches": matches,
                "used_at": now,
            },
        )
        _forget_stale(con, now)
        return search_id, negated, state.salt


def _forget_stale(con: Con, now: float) -> None:
    stale = queries.run_sql(
        con, "search_stale", {"keep": KEEP, "idle_before": now - IDLE_SECONDS}
    ).get_column("search_id")
    if stale.len():
        _execute(con, "search_evict_hits", {"ids": stale.to_list()})
        _execute(con, "search_evict_registry", {"ids": stale.to_list()})


# --- ranked matches ------------------------------------------------------------------------

RANKED_SCHEMA: dict[str, Any] = {
    "rank": pl.Int32,
    "letter_id": pl.String,
    "case_number": pl.String,
    "item_no": pl.Int32,
    "decision_date": pl.Date,
    "request": pl.String,
    "decision": pl.String,
    "category": pl.String,
    "subcategory": pl.String,
    "drug_class": pl.String,
    "drugs": pl.List(pl.String),
    "synthetic": pl.Boolean,
    "score": pl.Float64,
    "snippet_field": pl.String,
    "snippet": pl.String,
    "snippet_spans": pl.List(pl.List(pl.Int32)),
    "snippet_cut_start": pl.Boolean,
    "snippet_cut_end": pl.Boolean,
}


def _has_other_filters(filters: Filters) -> bool:
    return bool(filters.selections) or filters.exclude_synthetic


def _best(
    con: Con, state: IndexState, compiled: CompiledQuery, filters: Filters, limit: int
) -> list[Hit]:
    """The ``limit`` best matches that pass the other filters, best first: the index's best
    matches, more of them each round (keys only), until ``limit`` pass the filters."""
    assert state.index is not None
    if not _has_other_filters(filters):
        return state.index.top(compiled, limit)
    others = replace(filters, search="")
    wanted = limit * 4
    while True:
        scored = state.index.top_keys(compiled, wanted)
        passing = set(
            queries.run_sql(
                con,
                "search_rank_filtered",
                {**others.params(), "keys": [k for _, _, k in scored], "search_salt": state.salt},
            ).get_column("key")
        )
        kept = [entry for entry in scored if entry[2] in passing]
        if len(kept) >= limit or len(scored) < wanted:
            return state.index.hits(kept[:limit])
        wanted *= 8


def ranked(con: Con, filters: Filters, limit: int = RANKED_ROWS) -> pl.DataFrame:
    """The best ``limit`` items matching ``filters.search`` (BM25) among the filtered ones,
    with a snippet each (``snippet``, ``snippet_spans``: character offsets of the matches).
    Without a usable index: the filtered matches, newest first, the rationale's start as
    snippet."""
    if not filters.search:
        return pl.DataFrame(schema=RANKED_SCHEMA)
    state = index_state(con)
    if state.index is None:
        return _literal_ranked(con, filters, limit)
    compiled = state.index.compile(filters.search)
    hits = _best(con, state, compiled, filters, limit)
    if not hits:
        return pl.DataFrame(schema=RANKED_SCHEMA)
    details = _items(con, hits)
    texts = details.select(TEXTS).to_dicts()
    snippets = state.index.snippets(compiled, texts)
    extra = pl.DataFrame(
        {
            "rank": details.get_column("rank"),
            "snippet_field": [s.field if s else None for s in snippets],
            "snippet": [s.text if s else None for s in snippets],
            "snippet_spans": [[list(span) for span in s.spans] if s else [] for s in snippets],
            "snippet_cut_start": [bool(s and s.cut_start) for s in snippets],
            "snippet_cut_end": [bool(s and s.cut_end) for s in snippets],
        },
        schema={k: RANKED_SCHEMA[k] for k in RANKED_SCHEMA if k in _EXTRA},
    )
    return details.join(extra, on="rank", how="inner").select(list(RANKED_SCHEMA)).sort("rank")


_EXTRA = (
    "rank",
    "snippet_field",
    "snippet",
    "snippet_spans",
    "snippet_cut_start",
    "snippet_cut_end",
)


# The texts the snippets are cut from, read with the items (the index stores none), and those
# similar decisions are found by.
TEXTS = ("request", "rationale", "guidelines")
SIMILAR_TEXTS = ("request", "rationale")


def _items(con: Con, hits: list[Hit]) -> pl.DataFrame:
    """The hits' items in their order (``rank`` from 1, ``score``), with their ``TEXTS``."""
    wanted = pl.DataFrame(
        {
            "letter_id": [h.letter_id for h in hits],
            "item_no": [h.item_no for h in hits],
            "rank": list(range(1, len(hits) + 1)),
            "score": [h.score for h in hits],
        },
        schema={"letter_id": pl.String, "item_no": pl.Int32, "rank": pl.Int32, "score": pl.Float64},
    )
    found = queries.run_sql(
        con, "search_items", {"letter_ids": sorted({h.letter_id for h in hits})}
    ).with_columns(pl.col("item_no").cast(pl.Int32))
    return wanted.join(found, on=["letter_id", "item_no"], how="inner").sort("rank")


def _literal_ranked(con: Con, filters: Filters, limit: int) -> pl.DataFrame:
    found = queries.run_sql(
        con,
        "search",
        {**filters.params(), "pattern": queries.like_pattern(filters.search), "row_limit": limit},
    )
    spans = [_literal_spans(filters.search, text) for text in found.get_column("rationale_start")]
    return pl.DataFrame(
        {
            "rank": list(range(1, found.height + 1)),
            "letter_id": found.get_column("letter_id"),
            "case_number": found.get_column("case_number"),
            "item_no": found.get_column("item_no"),
            "decision_date": found.get_column("decision_date"),
            "request": found.get_column("request"),
            "decision": found.get_column("decision"),
            "category": found.get_column("category"),
            "subcategory": [None] * found.height,
            "drug_class": found.get_column("drug_class"),
            "drugs": [[] for _ in range(found.height)],
            "synthetic": found.get_column("synthetic"),
            "score": [None] * found.height,
            "snippet_field": ["rationale"] * found.height,
            "snippet": found.get_column("rationale_start"),
            "snippet_spans": [[list(s) for s in row] for row in spans],
            "snippet_cut_start": [False] * found.height,
            "snippet_cut_end": [True] * found.height,
        },
        schema=RANKED_SCHEMA,
    )


def _literal_spans(needle: str, text: str | None) -> list[tuple[int, int]]:
    if not text or not needle:
        return []
    lowered, wanted = text.lower(), needle.lower()
    spans, start = [], lowered.find(wanted)
    while start >= 0 and len(lowered) == len(text):
        spans.append((start, start + len(wanted)))
        start = lowered.find(wanted, start + len(wanted))
    return spans


# --- the letter reader ---------------------------------------------------------------------


def highlights(con: Con, text: str, fields: tuple[tuple[str, str | None], ...]) -> dict[str, Any]:
    """Character spans of the search's matches in each ``(name, text)`` of a letter."""
    state = index_state(con)
    if not text:
        return {name: [] for name, _ in fields}
    if state.index is None:
        return {name: _literal_spans(text, value) for name, value in fields}
    compiled = state.index.compile(text)
    words = state.index.highlight_words(compiled)
    return {name: state.index.spans(compiled, value, words) for name, value in fields}


# --- similar decisions ---------------------------------------------------------------------


def similar(con: Con, letter_id: str, item_no: int, limit: int = SIMILAR_ROWS) -> pl.DataFrame:
    """The ``limit`` decisions most like this item's (more-like-this on its request and
    rationale), of the same drug class (medications) or category (other services); ``score``
    is the similarity. Empty when the item or the index is missing."""
    state = index_state(con)
    found = _item(con, letter_id, item_no)
    if state.index is None or found.height == 0:
        return pl.DataFrame(schema=SIMILAR_SCHEMA)
    row = found.row(0, named=True)
    same = ("drug_class", row["drug_class"]) if row["drug_class"] else ("category", row["category"])
    texts = {name: row[name] for name in SIMILAR_TEXTS}
    params = {"letter_id": letter_id, "item_no": int(item_no), "search_salt": state.salt}
    key = int(queries.run_sql(con, "search_key", params).item(0, "key"))
    hits = state.index.similar(key, texts, limit, same if same[1] else None)
    if not hits:
        return pl.DataFrame(schema=SIMILAR_SCHEMA)
    return _items(con, hits).select(list(SIMILAR_SCHEMA))


SIMILAR_SCHEMA: dict[str, Any] = {
    k: v for k, v in RANKED_SCHEMA.items() if not k.startswith("snippet")
}


def _item(con: Con, letter_id: str, item_no: int) -> pl.DataFrame:
    """One item with its texts (empty when there is none)."""
    found = queries.run_sql(con, "search_items", {"letter_ids": [letter_id]})
    return found.filter(pl.col("item_no") == int(item_no))


def item(con: Con, letter_id: str, item_no: int) -> pl.DataFrame:
    """The item similar decisions are about (empty when there is none)."""
    return _item(con, letter_id, item_no).drop("rationale", "guidelines")


def similar_outcomes(
    con: Con, letter_ids: tuple[str, ...], item_nos: tuple[int, ...], small_n: int = 30
) -> pl.DataFrame:
    """The outcome mix (rates and Wilson bounds) of the given items."""
    return queries.run_sql(
        con,
        "search_similar_outcomes",
        {"letter_ids": list(letter_ids), "item_nos": list(item_nos), "small_n": small_n},
    )


def similar_sections(
    con: Con, letter_ids: tuple[str, ...], item_nos: tuple[int, ...]
) -> pl.DataFrame:
    """Guideline sections MAXIMUS cited in the overturned ones of the given items."""
    return queries.run_sql(
        con,
        "search_similar_sections",
        {"letter_ids": list(letter_ids), "item_nos": list(item_nos)},
    )


# --- the Drug filter -----------------------------------------------------------------------


def drug_options(con: Con, generics: tuple[tuple[str, int], ...]) -> pl.DataFrame:
    """The Drug filter's options: ``value`` (what the filter holds: a generic, or a
    combination ``a + b`` selecting items with all of them), ``label`` (shown; a name of the
    vocabulary as ``name → value``) and ``n`` (items). ``generics``: the (value, items) pairs
    of the warehouse's drugs."""
    names = drug_names()
    combos = queries.run_fixed(
        con, "search_drug_combinations", {"combinations": names.combinations()}
    )
    rows = [(value, value, int(n)) for value, n in generics]
    rows += [(value, value, int(n)) for value, n in combos.iter_rows()]
    counts = {value: n for value, _, n in rows}
    for name, value in names.option_names(set(counts)).items():
        rows.append((f"{name}{ARROW}{value}", f"{name}{ARROW}{value}", counts[value]))
    return pl.DataFrame(rows, schema=["value", "label", "n"], orient="row").unique(
        "value", keep="first", maintain_order=True
    )


def canonical_drugs(values: list[str] | tuple[str, ...], available: set[str]) -> list[str]:
    """Drug filter values as the URL should hold them: a name (``Lyrica``, ``norco``, an
    option's label ``lyrica → pregabalin``) becomes its generic or combination; values that are
    options already stay; anything else is dropped. Order kept, duplicates removed."""
    names = drug_names()
    out: list[str] = []
    for value in values:
        text = str(value)
        resolved = text if text in available and ARROW not in text else names.canonical(text)
        if resolved in available and resolved not in out:
            out.append(resolved)
    return out


# --- the item CSV with text ----------------------------------------------------------------

# Above this many items a browser download (held in the server's memory) is not offered: the
# page shows the `imr export --view` command that streams the same slice to a file instead.
TEXT_DOWNLOAD_ROWS = 200_000


def items_text_sql(con: Con, params: dict[str, Any] | None = None) -> str:
    """``sql/search_items_text.sql`` with the filters (those on in ``params``; none: every
    filter's clause), and the reasons column when the warehouse has one."""
    text = queries.read_sql("search_items_text")
    present = queries.run_sql(con, "search_has_reasons").item(0, "present")
    text = text.replace("/*REASONS*/", ",\n    decision.reasons" if present else "")
    return text.replace("__FILTERS__", queries.filter_predicate(params))


def items_text_batches(
    con: Con, filters: Filters, batch_rows: int = 20_000
) -> Iterator[pl.DataFrame]:
    """Every filtered item with its texts, streamed in frames of ``batch_rows``."""
    params = bind(con, filters.params())
    sql = items_text_sql(con, params)
    bound = {key: params[key] for key in queries.param_names(sql)}
    cur = queries.cursor(con)
    try:
        for batch in cur.sql(sql, params=bound).to_arrow_reader(batch_rows):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            yield frame
    finally:
        cur.close()

"""The dashboard's derived tables: ``item_facts``, ``parse_coverage``, ``unresolved_counts`` and
``facet_counts`` (items per value of every dimension of the dashboard's registry).

A build starts from a copy of the published version, whose derived tables were complete, so it
updates them with what it loads instead of rebuilding them (``DerivedTables``):

1. ``snapshot()``, before loading: keeps the letters the copy holds (etl/sql/baseline.sql);
   the letters the build replaces (parsed again by a newer parser) leave item_facts, and what
   they counted is subtracted from the count tables while their rows are still there;
2. ``add()``, after each load transaction: the facts and counts of the spool chunks just loaded,
   read from the chunks' own Parquet files (a chunk holds whole letters), so an update never
   scans the warehouse's tables, whatever their size;
3. ``build()``, after the last: the count tables summed up (etl/sql/views.sql,
   etl/sql/facet_pairs_sum.sql), the letters
   whose rows went and came (etl/sql/changes.sql, which the search index reads too), and a
   check: one fact per item and one coverage count per letter.

A whole build instead, every letter in buckets sized to the build's memory limit, when the
copy's derived tables are missing or defined otherwise than this code defines them (their SQL,
the registry's dimensions or the schema changed: meta ``derived_digest``), or when the check
fails. Either way the same SQL runs, over the views ``scope_letters``, ``scope_decisions``,
``scope_citations``, ``scope_unresolved`` (a chunk's files, or a bucket of the tables) and
``scope_facts``; tests/test_incremental_build.py checks that both ways give the same tables.
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import functools
import hashlib
import inspect
import itertools
import json
import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from importlib import resources
from types import ModuleType
from typing import Any

import duckdb

from etl.search.synonyms import drug_names, vocabulary_digest
from etl.warehouse import fresh
from etl.warehouse.migrations import schema_version
from etl.warehouse.spool import Chunk

# meta key: what defined the derived tables of a version (the SQL and the schema version).
DIGEST = "derived_digest"
# meta key: how many patterns of bits each list column's items hold (JSON), the bound of the
# patterns any slice holds: the dashboard sizes its letters' bits by it.
LIST_PATTERNS = "list_patterns"
SQL = (
    "item_facts.sql",
    "first_in_letter.sql",
    "parse_coverage.sql",
    "unresolved_counts.sql",
    "facet_counts.sql",
    "facet_pairs.sql",
    "reason_pairs.sql",
    "drug_combinations.sql",
    "views.sql",
    "facet_pairs_sum.sql",
    "value_bits.sql",
    "value_bits_table.sql",
)
DERIVED = (
    "item_facts",
    "parse_coverage",
    "unresolved_counts",
    "facet_counts",
    "facet_pairs",
    "reason_pairs",
)
# The marts of pairs: a batch yields more of their rows than it has items, so a large build
# counts them whole from item_facts at its end (DerivedTables._sum_up).
PAIRED = ("facet_pairs", "reason_pairs")
# The base tables a derived table reads, each seen through a scope_<name> view.
SCOPED = ("letters", "decisions", "citations", "unresolved")
# DuckDB needs about BUCKET_BASE_MIB for a bucket's query itself, then about ITEMS_PER_MIB items
# fit per MiB beyond it (measured: benchmarks/ and tests/reliability/test_memory_cap.py). A
# batch of spool chunks is sized the same way, at about 3 items per letter.
BUCKET_BASE_MIB = 32
ITEMS_PER_MIB = 200

Connection = duckdb.DuckDBPyConnection


def read_sql(name: str) -> str:
    return resources.files("etl").joinpath("sql", name).read_text(encoding="utf-8")


def digest(con: Connection) -> str:
    """What the derived tables of this build are defined by: their SQL (the facets' as the
    registry writes it) and the schema."""
    hasher = hashlib.sha256(f"schema {schema_version(con)}\n".encode())
    statements = [read_sql(name) for name in SQL]
    statements += [facts_sql(), ordered_sql("item_facts"), facet_sql(), long_pair_sql()]
    statements += [*_pair_passes("scope_facts"), *_pair_passes("scope_facts", hashed=True)]
    statements += [*selection_pair_sql(), *selection_pair_sql(hashed=True)]
    statements.append(value_keys_sql("item_facts"))
    statements += [*reason_pair_sql(), *bits_sql("item_facts")]
    for sql in statements:
        hasher.update(f"{sql_tokens(sql)}\n".encode())
    hasher.update(code_tokens(fresh).encode())  # the flags' code (with_fresh)
    hasher.update(vocabulary_digest().encode())  # the drug combinations counted
    return hasher.hexdigest()[:16]


def code_tokens(module: ModuleType) -> str:
    """A module's code as Python reads it, without its comments and docstrings: the digest
    hashes this, so that only a change of what the code does rebuilds the derived tables."""
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            del body[0]
    return ast.unparse(tree)


@functools.lru_cache(maxsize=1024)
def sql_tokens(sql: str) -> str:
    """``sql`` as DuckDB reads it: its tokens, one space apart, without its comments. The
    digest hashes this, so that a comment or a line break changed in the SQL of a derived
    table leaves every warehouse's derived tables as they are (its full text did not).
    Remembered by the text: a build asks for the digest twice (before and after), and its
    statements' 93,000 tokens took 0.1 s each time."""
    tokens = duckdb.tokenize(sql)
    text = sql.encode()  # the tokens' offsets count bytes of UTF-8, not characters
    ends = [start for start, _ in tokens[1:]] + [len(text)]
    return " ".join(
        text[start:end].decode().strip()
        for (start, kind), end in zip(tokens, ends, strict=True)
        if kind != duckdb.token_type.comment
    )


# A list value's bit, one of 64, from the build's dictionary (table value_bits, kept with the
# warehouse): a list's values take the next free bit as they first appear, the commonest of a
# batch first, so the bits of items loaded by different ingests agree. Bits 0..62 belong to
# one value each; every value after the 63rd shares the last. The dashboard filters and counts
# a value by its bit where no other value of its list shares it: every value of a list of up
# to 64 values. (An MD5 bit of each value shared a bit between about a third of 27 values.)
SHARED_BIT = 63


def _list_columns() -> list[str]:
    from dashboard import dimensions

    return list(dict.fromkeys(d.column for d in dimensions.FILTERS if d.shape == "list"))


def facts_sql() -> str:
    """item_facts.sql with a ``<column>_bits`` column (UBIGINT: its values' bits or'ed
    together) for every list filter of the dashboard's registry, and ``<column>_fresh_bits``
    for those of an item's own field (the bits of the values the item is its letter's first
    with: the fresh flags, ``with_fresh``): zero here, set by ``bits_sql`` once the dictionary
    holds the values."""
    bits = "".join(f", 0::ubigint as {column}_bits" for column in _list_columns())
    bits += "".join(f", 0::ubigint as {column}_fresh_bits" for column in _own_fields()[1])
    return read_sql("item_facts.sql").replace("__VALUE_BITS__", bits)


def _or_bits(values: str, column: str) -> str:
    """The bits of ``values`` (a list of ``column``'s values) or'ed together, from bits_sql's
    ``bit_map``: a NULL value has no bit; an empty list none at all."""
    return (
        f"coalesce(list_reduce(list_transform({values},"
        f" lambda v: coalesce(1::ubigint << bit_map.{column}_map[v], 0::ubigint)),"
        " lambda a, b: a | b, 0::ubigint), 0::ubigint)"
    )


def bits_sql(facts: str) -> tuple[str, str]:
    """The statements that give the rows of the table ``facts`` their bits: the dictionary's
    new values first (``value_bits.sql``), then the bits from it (``<column>_bits``, and of an
    item's own list ``<column>_fresh_bits``, from the fresh flags)."""
    columns = _list_columns()
    seen = "\nunion all\n".join(
        f"select '{column}' as list_column, unnest({column}) as value from {facts}"
        for column in columns
    )
    add = read_sql("value_bits.sql").replace("__SEEN__", seen)
    maps = ", ".join(
        "map_from_entries(list({'key': value, 'value': bit::ubigint})"
        f" filter (where list_column = '{column}')) as {column}_map"
        for column in columns
    )
    sets = ", ".join(
        f"{column}_bits = {_or_bits(f'{facts}.{column}', column)}" for column in columns
    )
    # A value's bit where the item is the first of its letter with it (its flag in
    # <column>_fresh, aligned with the list's values; an empty list's one flag has no bit).
    fresh = "".join(
        f", {column}_fresh_bits = "
        + _or_bits(f"list_filter({facts}.{column}, lambda v, i: {facts}.{column}_fresh[i])", column)
        for column in _own_fields()[1]
    )
    update = f"update {facts} set {sets}{fresh} from (select {maps} from value_bits) as bit_map"
    return add, update


# item_facts' order, within a batch: the row groups' zone maps skip by years where batches come
# in decision order.
FACTS_ORDER = "decision_year, injury_year, letter_id, item_no"


def ordered_sql(facts: str) -> str:
    """The rows of ``facts`` (item_facts rows without the fresh flags: a table, or a query in
    parentheses) in item_facts' order."""
    return f"select * from {facts} order by {FACTS_ORDER}"


def with_fresh(con: Connection, table: str, key_offset: int) -> None:
    """Make ``table``: the item_facts rows of the letters in the scope views (``facts_sql``,
    their letters numbered from ``key_offset``) in item_facts' order, with their fresh flags
    (``etl.warehouse.fresh``: whether the item is its letter's first with its value, per
    filter of an item's own field, and among the items of its outcome), computed as arrays
    from the columns they depend on and joined by position: a copy of the rows cost less than
    an update of their flags in place (docs/benchmarks.md, stop 66)."""
    scalars, lists = _own_fields()
    columns = ", ".join([fresh.LETTER, fresh.ORDER, fresh.OUTCOME, *scalars, *lists])
    con.execute(
        f"create or replace temp table {BATCH_ROWS} as {ordered_sql(f'({facts_sql()})')}",
        {"key_offset": key_offset},
    )
    try:
        # (the rows just made: their row ids count them in order)
        facts = con.sql(f"select rowid as {fresh.ROW}, {columns} from {BATCH_ROWS}")
        flags = fresh.fresh_flags(facts.to_arrow_table(), scalars, lists)
        con.register(FRESH_FLAGS, fresh.in_row_order(flags))
        con.execute(
            f"create table {table} as select r.*, f.* from {BATCH_ROWS} as r"
            f" positional join {FRESH_FLAGS} as f"
        )
    finally:
        con.unregister(FRESH_FLAGS)
        con.execute(f"drop table if exists {BATCH_ROWS}")


# The names a batch's rows and their fresh flags are seen by while its facts are made
# (with_fresh).
BATCH_ROWS, FRESH_FLAGS = "batch_rows", "fresh_flags"


def _own_fields() -> tuple[list[str], list[str]]:
    """The columns of the filters of an item's own field (not the letter's): scalar, list."""
    from dashboard import dimensions

    own = [d for d in dimensions.FILTERS if not d.per_letter]
    return (
        list(dict.fromkeys(d.column for d in own if d.shape == "scalar")),
        list(dict.fromkeys(d.column for d in own if d.shape == "list")),
    )


def facet_sql() -> str:
    """facet_counts.sql for every dimension of the dashboard's registry (the marts follow it)."""
    from dashboard import dimensions

    template = read_sql("facet_counts.sql")
    parts = []
    for dim in dimensions.DIMENSIONS:
        value = f"unnest({dim.column})" if dim.shape == "list" else dim.column
        facet = (
            f"select {value}::varchar as value, overturned, letter_key, synthetic from scope_facts"
        )
        parts.append(template.replace("__FACET__", facet).replace("__NAME__", dim.name))
    return "\nunion all\n".join(f"select * from ({part})" for part in parts)


def combination_sql() -> str:
    """facet_counts.sql over the drug combinations' items (drug_combinations.sql)."""
    return (
        read_sql("facet_counts.sql")
        .replace("__FACET__", read_sql("drug_combinations.sql"))
        .replace("__NAME__", "drug_combination")
    )


def pair_sql(
    facts: str = "scope_facts",
    long_form: bool = False,
    one_query: bool = False,
    hashed: bool = False,
) -> list[str]:
    """facet_pairs.sql over the table ``facts`` (item_facts rows; default: the build's scope):
    its rows from one join of each item's values with each other (``long_pair_sql``: for a
    few items), or from grouping-sets passes (``_pair_passes``), their union in one query
    (``one_query``: a batch's) or a query each (the whole warehouse: run as one union, the
    passes of the whole history took 89 s, one by one 62), their groups per letter keyed by
    the values' hashes (``hashed``: see ``_grouping_pass``) or by the values.
    ``DerivedTables._pair_queries`` chooses."""
    template = read_sql("facet_pairs.sql")
    if long_form:
        parts = [long_pair_sql(facts)]
    else:
        passes = _pair_passes(facts, hashed)
        parts = ["\nunion all\n".join(f"from ({p})" for p in passes)] if one_query else passes
    return [template.replace("__PAIRS__", part) for part in parts]


def make_value_keys(con: Connection, facts: str) -> bool:
    """Make ``VALUE_KEYS``: the values of the filters in ``facts`` that hashed passes key (no
    value, NULL, included: ``value_keys_sql``) with their keys (``VALUE_KEY``). True if no
    two values share a key: then the hashed passes' groups are the groups by the values
    themselves (a 64-bit hash of a few thousand values all but never collides, but a count
    must not depend on that)."""
    _attach_facts_db(con)
    con.execute(f"create or replace table {VALUE_KEYS} as {value_keys_sql(facts)}")
    return bool(_scalar(con, f"select count(*) = count(distinct key) from {VALUE_KEYS}"))


def _attach_facts_db(con: Connection) -> None:
    """The build's in-memory database (FACTS_DB), if not attached yet."""
    con.execute(f"attach if not exists ':memory:' as {FACTS_DB}")


def value_keys_sql(facts: str) -> str:
    """``VALUE_KEYS``' rows over ``facts`` (the values a hashed pass gives its rows: in the
    digest), as the passes key them (``_raw_values``): the values of each filter but a
    letter's own scalar fields (the passes group those by their values), and of the filters
    selected together."""
    from dashboard import dimensions

    keyed = [d for d in dimensions.FILTERS if _keyed(d)]
    keyed += [d for pair in dimensions.SELECTION_PAIRS for d in pair]
    values = dict.fromkeys(_raw_values(d) for d in keyed)
    each = " union all ".join(
        f"select distinct {VALUE_KEY.format('v')} as key, v::varchar as value"
        f" from (select {value} as v from {facts})"
        for value in values
    )
    return f"select distinct * from ({each})"


def _keyed(d: Any) -> bool:
    """Whether the hashed passes group the filter ``d`` by its values' keys (VALUE_KEYS holds
    them): all but a letter's own scalar fields, grouped by their values (a selection's first
    pass: ``selection_pair_sql``)."""
    return not (d.per_letter and d.shape == "scalar")


def _raw_values(d: Any) -> str:
    """A filter's values as stored (a list's one per row, an empty list one NULL): what its
    key (``VALUE_KEY``) is the hash of."""
    return _values(d.column) if d.shape == "list" else d.column


def _with_values(counted: str, keys: list[str], select: str) -> str:
    """``select`` over the rows of ``counted``, a hashed pass's, each of its key columns
    ``keys`` joined to its value in VALUE_KEYS (``<key>__value.value``; a key left NULL by a
    grouping set has none). A key missing there (a table made over other facts) is an error,
    not a value turned into no value."""
    joins = " ".join(
        f"left join {VALUE_KEYS} as {k}{VALUE_SUFFIX} on {k}{VALUE_SUFFIX}.key = counted.{k}"
        for k in keys
    )
    checked = " and ".join(
        f"case when counted.{k} is not null and {k}{VALUE_SUFFIX}.key is null"
        f" then error('a value without its key in {VALUE_KEYS}') else true end"
        for k in keys
    )
    return f"{select} from ({counted}) as counted {joins} where {checked}"


def _filter_pairs() -> list[tuple[Any, Any]]:
    """The pairs (a, b) of the dashboard's filters that facet_pairs counts, each once: every
    two scalar filters (of two columns), each list filter with each scalar one, every two list
    filters, and each list filter with itself (b its twin: the values its items list with a
    value, that value too)."""
    from dashboard import dimensions

    scalars = [d for d in dimensions.FILTERS if d.shape == "scalar"]
    lists = [d for d in dimensions.FILTERS if d.shape == "list"]
    pairs = [(a, b) for a, b in itertools.combinations(scalars, 2) if a.column != b.column]
    pairs += [(listed, d) for listed in lists for d in scalars]
    return pairs + [*itertools.combinations(lists, 2), *((d, _twin(d)) for d in lists)]


def _pair_passes(facts: str, hashed: bool = False) -> list[str]:
    """facet_pairs' rows (one direction: ``_filter_pairs``' a as dimension) in grouping-sets
    passes (``_grouping_pass``): the scalar filters' pairs, each list filter's with the scalar
    ones (its values unnested first), each two list filters'. An empty list is one row of no
    value (NULL), as a scalar without one is: the items with no value of the other filter are
    counted too."""
    from dashboard import dimensions

    pairs = _filter_pairs()
    scalars = [d for d in dimensions.FILTERS if d.shape == "scalar"]
    lists = [d for d in dimensions.FILTERS if d.shape == "list"]
    columns = {d.name: d.column for d in scalars}
    # An item's own field's flags of the first item of its letter with each value (with_fresh)
    fresh = {d.name: f"{d.column}_fresh" for d in scalars if not d.per_letter}
    any_same = ANY_SAME
    passes = [
        _grouping_pass(
            facts, columns, [p for p in pairs if p[0].shape == "scalar"], fresh, any_same, hashed
        )
    ]
    # letter_key: the pairs of two items' own fields group per letter (_grouping_pass)
    flags = [*dict.fromkeys(fresh.values())]
    carried = ", ".join(
        [
            "letter_key",
            "overturned",
            "first_in_letter",
            "first_in_outcome",
            any_same,
            *flags,
            *map(_by_outcome, flags),
        ]
    )

    def unnest(d: Any) -> str:  # its values, one per row, and their flags beside them
        flag = (
            ""
            if d.per_letter
            else f", unnest({d.column}_fresh) as each_{d.name}_fresh"
            f", unnest({d.column}_outcome_fresh) as each_{d.name}_outcome_fresh"
        )
        if d.column == CONCORDANT:  # whether the claims administrator cited that source too
            flag += (
                f", unnest(list_transform({_listed(d.column)},"
                f" lambda v: list_contains(claims_admin_sources, v))) as each_{d.name}_same"
            )
        return f"{_values(d.column)} as each_{d.name}{flag}"

    def flagged(*listed: Any) -> dict[str, str]:
        return {d.name: f"each_{d.name}_fresh" for d in listed if not d.per_letter}

    def same(*listed: Any) -> str:
        return next((f"each_{d.name}_same" for d in listed if d.column == CONCORDANT), any_same)

    for listed in lists:
        unnested = (
            f"(select {unnest(listed)},"
            f" {', '.join(dict.fromkeys(columns.values()))}, {carried} from {facts})"
        )
        passes.append(
            _grouping_pass(
                unnested,
                {listed.name: f"each_{listed.name}", **columns},
                [p for p in pairs if p[0] is listed and p[1].shape == "scalar"],
                {**fresh, **flagged(listed)},
                same(listed),
                hashed,
            )
        )
    # Each two list filters, and each with itself (the second side a twin of the first).
    for one, two in (p for p in pairs if p[1].shape == "list"):
        first = f"each_{one.name}" + (
            "" if one.per_letter else f", each_{one.name}_fresh, each_{one.name}_outcome_fresh"
        )
        first += f", each_{one.name}_same" if one.column == CONCORDANT else ""
        second = ("" if two.per_letter else f", {two.column}_fresh, {two.column}_outcome_fresh") + (
            ", claims_admin_sources" if two.column == CONCORDANT else ""
        )
        both = (
            f"(select {first}, {unnest(two)}, {carried}"
            f" from (select {unnest(one)}, {two.column}{second}, {carried}"
            f" from {facts}))"
        )
        passes.append(
            _grouping_pass(
                both,
                {one.name: f"each_{one.name}", two.name: f"each_{two.name}"},
                [(one, two)],
                flagged(one, two),
                same(one, two),
                hashed,
            )
        )
    return [part for p in passes for part in p]


# facet_pairs' rows come from long_pair_sql up to this many items: its one plan against the
# passes' 97 (about 5 ms of planning each, whatever the items: half a second for one letter),
# but its rows grow as the square of an item's values (benchmarks/pair_marts.py) ...
LONG_FORM_ITEMS = 4000
# ... and so does its memory, which it does not spill well: this many items per MiB of the
# build's cap beyond BUCKET_BASE_MIB (under a 40 MB cap 260 items took 0.1 s, 390 up to 0.9 s
# spilling, against 0.4 s by the passes, and 1,400 ran it out of memory).
LONG_FORM_ITEMS_PER_MIB = 25


def long_pair_sql(facts: str = "scope_facts") -> str:
    """The rows of ``_pair_passes`` (one direction) in one query: each item's values of every
    filter as rows (a list's each, an empty list one NULL, with its flags), joined with each
    other within the item and kept where ``_filter_pairs`` pairs their filters."""
    from dashboard import dimensions

    number = {d.name: i for i, d in enumerate(dimensions.FILTERS)}

    def values(d: Any) -> str:
        # an item's values of d: (filter, value, fresh flags: of all its items, of its
        # outcome's; same source)
        fresh = "null::boolean" if d.per_letter else f"{d.column}_fresh"
        outcome = "null::boolean" if d.per_letter else _by_outcome(f"{d.column}_fresh")
        if d.shape == "scalar":
            value = f"{{'d': {number[d.name]}, 'v': {d.column}::varchar, 'f': {fresh}"
            return f"[{value}, 'g': {outcome}, 's': null::boolean}}]"
        same = "list_contains(claims_admin_sources, v)" if d.column == CONCORDANT else "null"
        fresh += "" if d.per_letter else "[i]"
        outcome += "" if d.per_letter else "[i]"
        return (
            f"list_transform({_listed(d.column)}, lambda v, i:"
            f" {{'d': {number[d.name]}, 'v': v, 'f': {fresh}, 'g': {outcome},"
            f" 's': {same}::boolean}})"
        )

    def counted(first: str, side: str, kept: str) -> str:  # _pair_letters' count, by kind
        return (
            f"(case any_value(k.letters) when 0 then count_if(a.{first}{kept})"
            f" when 1 then count_if(a.e.{side}{kept}) when 2 then count_if(b.e.{side}{kept})"
            " else count(distinct a.letter_key)"
            f" filter (where k.letters = 3{kept}) end)::bigint"
        )

    # Each pair: its filters' numbers and names, then which count is its letters (0 the first
    # items, 1 or 2 the flags of side a or b, 3 the distinct letters: _pair_letters) and whose
    # same_source it counts (1 or 2 the side of CONCORDANT, 0 same_source_as_claims_admin).
    kinds = []
    for a, b in _filter_pairs():
        count = _pair_letters(a, b)
        own = b if a.per_letter else a
        letters = 0 if count == "first_items" else 3 if count == PER_LETTER else 1 + (own is b)
        concordant = [d.column == CONCORDANT for d in (a, b)]
        same = 1 if concordant[0] else 2 if concordant[1] else 0
        kinds.append(
            f"({number[a.name]}, {number[b.name.removesuffix(TWIN)]}, {_key(a)}, {_key(b)},"
            f" {letters}, {same})"
        )
    items = ", ".join(values(d) for d in dimensions.FILTERS)
    return (
        # Numbered once (a materialized CTE): both sides see the same numbers.
        "with entries as materialized (select item, letter_key, overturned, first_in_letter,"
        f" first_in_outcome, same_source_as_claims_admin, unnest(list_concat({items})) as e"
        f" from (select row_number() over () as item, * from {facts}))"
        " select k.dimension, a.e.v as value, k.other, b.e.v as other_value,"
        " count(*)::bigint as items, count_if(a.overturned)::bigint as overturned,"
        f" {counted('first_in_letter', 'f', '')} as letters,"
        " count_if(a.same_source_as_claims_admin is not null)::bigint as both_cited,"
        " (case any_value(k.same) when 1 then count_if(a.e.s) when 2 then count_if(b.e.s)"
        " else count_if(a.same_source_as_claims_admin) end)::bigint as same_source,"
        f" {counted('first_in_outcome', 'g', ' and a.overturned')} as letters_overturned,"
        f" {counted('first_in_outcome', 'g', ' and not a.overturned')} as letters_upheld"
        " from entries as a join entries as b using (item)"
        f" join (values {', '.join(kinds)}) as k(d, o, dimension, other, letters, same)"
        " on k.d = a.e.d and k.o = b.e.d"
        " group by k.dimension, value, k.other, other_value"
    )


def selection_pair_sql(facts: str = "scope_facts", hashed: bool = False) -> list[str]:
    """facet_pairs' rows of two filters selected together (the registry's ``SELECTION_PAIRS``):
    for each pair (a, b), each value of a with each of b (both held by an item; the pair's
    ``dimensions.pair_name`` as ``dimension``, the values joined by ``dimensions.VALUE_JOIN``
    as ``value``) per value of every filter, a and b included, counted as facet_pairs counts
    (``PAIR_MEASURES``; same_source: of the other filter's source where it is CONCORDANT,
    else any source in common, as the Guidelines page's "All sources" counts it). Not
    mirrored: no query selects by the other filter's value. Letters are counted by grouping
    per letter first, not by distinct counts (those, over grouping sets, ran a 384 MB build
    out of memory at 4M items): a letter's own scalar fields in one pass over the groups of
    each letter and pair of values (their values are the letter's); every other filter a
    pass each, by groups of each letter, pair of values and value of the filter (at 4M items
    the pair took 31 s: 8.5 s the first pass, 1.2-2.6 s each other). ``hashed``: the
    groups of those other passes are keyed by the values' hashes (``VALUE_KEY``), which
    the caller has checked tell every value apart (``make_value_keys``), and the few rows
    left take their values from ``VALUE_KEYS`` (at 4M items 13 s instead of 22)."""
    from dashboard import dimensions

    measures = (
        "sum(items)::bigint as items, sum(overturned)::bigint as overturned,"
        " count(*)::bigint as letters, sum(both_cited)::bigint as both_cited,"
        " sum(same_source)::bigint as same_source,"
        " count_if(overturned > 0)::bigint as letters_overturned,"
        " count_if(items > overturned)::bigint as letters_upheld"
    )

    def per_group(same: str) -> str:  # a group's counts: items, overturned and agreement
        return (
            "count(*) as items, count_if(overturned) as overturned,"
            " count_if(same_source_as_claims_admin is not null) as both_cited,"
            f" count_if({same}) as same_source"
        )

    # What a pass of an other filter groups a pair's values and the other filter's value by:
    # the values, or their keys (given their values by _selection_pass).
    sel_a, sel_b, other = (KEY_A, KEY_B, KEY_OTHER) if hashed else ("sel_a", "sel_b", "other_value")

    letter_scalars = [d for d in dimensions.FILTERS if not _keyed(d)]
    # The rest a pass each (a letter's own lists too: grouped by their values, not the lists,
    # at 4M items 2.5 s a list against 5).
    own = [d for d in dimensions.FILTERS if _keyed(d)]
    passes = []
    for a, b in dimensions.SELECTION_PAIRS:
        if letter_scalars:
            # (by the values, keyed or not: this pass's keys and their joins took more than
            # a 40 MB build has, for a tenth of its time at 4M items)
            columns = list(dict.fromkeys(d.column for d in letter_scalars))
            sets = ", ".join(f"(sel_a, sel_b, {c})" for c in columns)
            # The groups of each letter and pair of values, with the letter's fields.
            letter_values = ", ".join(f"any_value({c}) as {c}" for c in columns)
            groups = (
                f"(select sel_a, sel_b, {per_group(ANY_SAME)}, {letter_values}"
                f" from {_selected_items(facts, a, b, columns)} group by letter_key, sel_a, sel_b)"
            )
            passes.append(
                f"{_selection_head(a, b)}, {_set_dimension(letter_scalars)}, {measures}"
                f" from {groups} group by grouping sets ({sets})"
            )
        for d in own:
            same = (
                "list_contains(claims_admin_sources, other_value)"
                if d.column == CONCORDANT
                else ANY_SAME
            )
            # its value (as text, unless its key is what the pass groups by) and key
            value = _raw_values(d)
            value += "" if hashed or d.shape == "list" else "::varchar"
            keyed = f", {VALUE_KEY.format('other_value')} as {KEY_OTHER}" if hashed else ""
            passes.append(
                _selection_pass(
                    a,
                    b,
                    f"{_literal(d.name)} as other, {other}, {measures}"
                    f" from (select {sel_a}, {sel_b}, {other}, {per_group(same)}"
                    f" from (select *{keyed} from (select *, {value} as other_value"
                    f" from {_selected_items(facts, a, b, [d.column], hashed)}))"
                    f" group by letter_key, {sel_a}, {sel_b}, {other})"
                    f" group by {sel_a}, {sel_b}, {other}",
                    hashed,
                )
            )
    return passes


# A hashed selection pass's keys: of a value of the pair's first filter, of its second, of the
# other filter's value.
KEY_A, KEY_B, KEY_OTHER = "sel_a__key", "sel_b__key", "other_value__key"


# Whether the claims administrator cited any of MAXIMUS's sources (item_facts).
ANY_SAME = "same_source_as_claims_admin"


def _selection_pass(a: Any, b: Any, counted: str, hashed: bool) -> str:
    """A selection pass (``selection_pair_sql``) of the filters a and b over an other filter:
    its dimension and value (``_selection_head``), then ``counted``: other, other_value, the
    measures and what they count over. ``hashed``: ``counted`` is grouped by the keys of the
    pair's values (``KEY_A``, ``KEY_B``) and of the other filter's (``KEY_OTHER``, in
    other_value's place), which take their values from VALUE_KEYS."""
    if not hashed:
        return f"{_selection_head(a, b)}, {counted}"
    keys = [KEY_A, KEY_B, KEY_OTHER]
    given = {k: f"{k}{VALUE_SUFFIX}.value" for k in keys}
    select = (
        f"{_selection_head(a, b, given[KEY_A], given[KEY_B])}, counted.other,"
        f" {given[KEY_OTHER]} as other_value,"
        f" counted.* exclude ({', '.join(keys)}, other)"
    )
    return _with_values(f"select {KEY_A}, {KEY_B}, {counted}", keys, select)


def _selection_head(a: Any, b: Any, value_a: str = "sel_a", value_b: str = "sel_b") -> str:
    """A pair mart's row of two filters selected together: its ``dimension`` and ``value``
    (of a's value ``value_a`` and b's ``value_b``)."""
    from dashboard import dimensions

    return (
        f"select {_literal(dimensions.pair_name(a, b))} as dimension,"
        f" {value_a} || {_literal(dimensions.VALUE_JOIN)} || {value_b} as value"
    )


def _set_dimension(dims: list[Any]) -> str:
    """A grouping-sets pass's ``other`` and ``other_value``: the dimensions of ``dims`` whose
    column is its row's set's (two may share one: a row each) and that column's value."""
    columns = list(dict.fromkeys(d.column for d in dims))
    names = " ".join(
        f"when grouping({c}) = 0 then"
        f" [{', '.join(_literal(d.name) for d in dims if d.column == c)}]"
        for c in columns
    )
    values = " ".join(f"when grouping({c}) = 0 then {c}::varchar" for c in columns)
    return f"unnest(case {names} end) as other, case {values} end as other_value"


def _selected_items(facts: str, a: Any, b: Any, columns: list[str], keyed: bool = False) -> str:
    """The items of ``facts`` holding a value of the filter a and one of b, a row per pair of
    their values (``sel_a``, ``sel_b``; ``keyed``: their keys too, ``KEY_A`` and ``KEY_B``),
    with ``columns`` and what the counts read."""
    from dashboard import dimensions

    carried = [
        "letter_key",
        "overturned",
        "same_source_as_claims_admin",
        "claims_admin_sources",
        *columns,
    ]
    pick = {d.name: f"unnest({d.column})" if d.shape == "list" else d.column for d in (a, b)}
    kept = ", ".join(dict.fromkeys(carried))
    first = ", ".join(dict.fromkeys([b.column, *carried]))  # b's values unnested next
    sep = _literal(dimensions.VALUE_JOIN)
    # (keyed by the values as stored, as VALUE_KEYS keys them)
    keys = (
        f", {VALUE_KEY.format('raw_a')} as {KEY_A}, {VALUE_KEY.format('raw_b')} as {KEY_B}"
        if keyed
        else ""
    )
    return (
        f"(select * from (select raw_a::varchar as sel_a, raw_b::varchar as sel_b{keys}, {kept}"
        f" from (select raw_a, {pick[b.name]} as raw_b, {kept}"
        f" from (select {pick[a.name]} as raw_a, {first} from {facts})))"
        # A value holding the separator would make two pairs one: left out (the dashboard
        # scans a selection of it).
        f" where sel_a is not null and sel_b is not null and not contains(sel_a, {sep})"
        f" and not contains(sel_b, {sep}))"
    )


# The name of a list filter's second side in its pairs with itself (pair_sql): its own column,
# its own name in facet_pairs.
TWIN = "_twin"


def _twin(dim: Any) -> Any:
    return dataclasses.replace(dim, name=dim.name + TWIN)


def _key(dim: Any) -> str:
    """A dimension's name in facet_pairs (a twin's is its own)."""
    return repr(dim.name.removesuffix(TWIN))


def _listed(column: str) -> str:
    """A list column's values; an empty list as one NULL (no value)."""
    return f"(case when len({column}) = 0 then [null::varchar] else {column} end)"


def _values(column: str) -> str:
    """A list column's values, one row each; an empty list one row of NULL (no value)."""
    return f"unnest({_listed(column)})"


# facet_pairs' counts of a pair of values, each adding up over batches of letters: its items,
# their overturned ones, their letters (_pair_letters), and for the Guidelines page's agreement
# with the claims administrator: both_cited, the items where MAXIMUS and the claims administrator
# each cited a guideline source; same_source, those of them whose claims administrator cited
# the pair's MAXIMUS source (the value of CONCORDANT) or, in a pair without one, any of them
# (same_source_as_claims_admin); letters_overturned, letters_upheld: its letters with an
# overturned item, with an upheld one (a letter with both counts in each): the letters of a
# selection of the decision beside another.
PAIR_MEASURES = (
    "items",
    "overturned",
    "letters",
    "both_cited",
    "same_source",
    "letters_overturned",
    "letters_upheld",
)
# The suffixes of a pass's letter counts of each outcome (_grouping_pass).
OVERTURNED, UPHELD = "_o", "_u"


def _outcome_letters(a: Any, b: Any, side: str) -> str:
    """The count of a pass that is the letters of the pair of a, b with an item of an outcome
    (``side``: ``OVERTURNED`` or ``UPHELD``)."""
    return _pair_letters(a, b) + side


def _by_outcome(flag: str) -> str:
    """A ``<column>_fresh`` flag's twin among the items of the item's outcome (``fresh``)."""
    return flag.removesuffix("_fresh") + "_outcome_fresh"


CONCORDANT = "guideline_sources"
# Grouping sets per pass: DuckDB keeps a hash table per set, all at once (105 sets over a few
# hundred items ran a 384 MB build out of memory; 8 sets over a 40 MB build's bucket too).
SETS_PER_PASS = 4
# A pass that counts letters by grouping per letter first holds about a group per item per set.
LETTER_SETS_PER_PASS = 2
# What those groups are keyed by, for a value column (hashed passes: _grouping_pass), and the
# suffix of the key's column.
VALUE_KEY = "hash({})"
KEY_SUFFIX = "__key"
VALUE_SUFFIX = "__value"  # a pass's joins of VALUE_KEYS
# facet_pairs is summed from its parts this many dimensions at a time (_sum_up).
PAIR_SUM_DIMENSIONS = 4
# facet_pairs' parts are summed up when they hold more rows than this many buckets' items.
FOLD_AT = 8
# DuckDB's row group (its tables' default): a scan's unit of work for its threads.
ROW_GROUP_ROWS = 122_880
# The build's in-memory database of batches' facts (DerivedTables._add_scope).
FACTS_DB = "build_facts"
# Each key's value (make_value_keys makes it): in that database, which the cursors of
# _insert_passes see.
VALUE_KEYS = f"{FACTS_DB}.value_keys"


def _grouping_pass(
    source: str,
    columns: dict[str, str],
    pairs: list[tuple[Any, Any]],
    fresh: dict[str, str],
    same: str,
    hashed: bool = False,
) -> list[str]:
    """Counts per value pair of each pair of dimensions in ``pairs`` over ``source``, whose
    column of dimension name is ``columns[name]``, in grouping-sets passes of at most
    ``SETS_PER_PASS`` pairs each: ``grouping()`` tells which pair a row counts. ``fresh``:
    the flag column (``with_fresh``) of each dimension of an item's own field; ``same``: the
    column of ``source`` counted as ``same_source`` (``PAIR_MEASURES``). The pairs of two
    items' own fields, whose letters no flag counts, are grouped per letter first
    (``LETTER_SETS_PER_PASS`` a pass): their groups are the letters. The letters with an
    overturned item, and with an upheld one, are counted alike: by the flags of each outcome's
    items (``_by_outcome``, ``first_in_outcome``), or by the groups holding such an item.
    ``hashed``: those groups per letter are keyed by the values' hashes (``VALUE_KEY``), which
    the caller has checked tell every value apart (``make_value_keys``)."""
    flagged = [p for p in pairs if _pair_letters(*p) != PER_LETTER]
    own = [p for p in pairs if _pair_letters(*p) == PER_LETTER]
    chunks = [flagged[i : i + SETS_PER_PASS] for i in range(0, len(flagged), SETS_PER_PASS)]
    chunks += [own[i : i + LETTER_SETS_PER_PASS] for i in range(0, len(own), LETTER_SETS_PER_PASS)]
    measures = (
        "count(*)::bigint as items, count_if(overturned)::bigint as overturned,"
        " count_if(same_source_as_claims_admin is not null)::bigint as both_cited,"
        f" count_if({same})::bigint as same_source"
    )
    passes = []
    for chunk in chunks:
        grouped = list(dict.fromkeys(columns[d.name] for pair in chunk for d in pair))
        case = _pair_case(chunk, columns, grouped)
        if chunk[0] in own:
            # A group per letter and pair of values: about one per item at 4M items, where
            # grouping by the values as text took two to three times as long as by their
            # hashes (keys); the few rows left get their values back from VALUE_KEYS. A
            # column outside a row's set has no key there, hence no value (a left join).
            key = {c: f"{c}{KEY_SUFFIX}" if hashed else c for c in grouped}
            keys = ", ".join(key.values())
            source_keyed = source
            if hashed:
                made = ", ".join(f"{VALUE_KEY.format(c)} as {key[c]}" for c in grouped)
                source_keyed = f"(select *, {made} from {source})"
            sets = ", ".join(
                f"({key[columns[a.name]]}, {key[columns[b.name]]}, letter_key)" for a, b in chunk
            )
            counts = (
                f"select pair, {keys}, sum(items)::bigint as items,"
                " sum(overturned)::bigint as overturned, sum(both_cited)::bigint as both_cited,"
                f" sum(same_source)::bigint as same_source, count(*)::bigint as {PER_LETTER},"
                f" count_if(overturned > 0)::bigint as {PER_LETTER}{OVERTURNED},"
                f" count_if(items > overturned)::bigint as {PER_LETTER}{UPHELD}"
                f" from (select grouping({keys}) as pair, {keys}, {measures}"
                f" from {source_keyed} group by grouping sets ({sets})) group by pair, {keys}"
            )
            if hashed:
                values = ", ".join(f"{key[c]}{VALUE_SUFFIX}.value as {c}" for c in grouped)
                counts = _with_values(
                    counts, list(key.values()), f"select counted.* exclude ({keys}), {values}"
                )
        else:
            listed = ", ".join(grouped)
            sets = ", ".join(f"({columns[a.name]}, {columns[b.name]})" for a, b in chunk)
            counted = dict.fromkeys(d.name for pair in chunk for d in pair if d.name in fresh)
            counts = (
                f"select grouping({listed}) as pair, {listed}, {measures},"
                " count_if(first_in_letter)::bigint as first_items,"
                f" count_if(first_in_outcome and overturned)::bigint as first_items{OVERTURNED},"
                f" count_if(first_in_outcome and not overturned)::bigint as first_items{UPHELD}"
                + "".join(
                    f", count_if({fresh[n]})::bigint as fresh_{n}"
                    f", count_if({_by_outcome(fresh[n])} and overturned)::bigint"
                    f" as fresh_{n}{OVERTURNED}"
                    f", count_if({_by_outcome(fresh[n])} and not overturned)::bigint"
                    f" as fresh_{n}{UPHELD}"
                    for n in counted
                )
                + f" from {source} group by grouping sets ({sets})"
            )
        split = [case(partial(_outcome_letters, side=side)) for side in (OVERTURNED, UPHELD)]
        passes.append(
            f"select {_pair_keys(chunk, columns, grouped)},"
            f" items, overturned, {case(_pair_letters)} as letters, both_cited, same_source,"
            f" {split[0]} as letters_overturned, {split[1]} as letters_upheld"
            f" from ({counts})"
        )
    return passes


def _pair_case(
    chunk: list[tuple[Any, Any]], columns: dict[str, str], grouped: list[str]
) -> Callable[[Callable[[Any, Any], str]], str]:
    """A ``case`` over a grouping-sets pass's ``pair`` (``grouping(grouped)``) giving, for the
    rows of each pair (a, b) of ``chunk``, ``pick(a, b)``."""

    def case(pick: Callable[[Any, Any], str]) -> str:
        # grouping(): a bit per column left out of the row's set, the first one highest.
        full = (1 << len(grouped)) - 1
        arms = []
        for a, b in chunk:
            bits = {1 << (len(grouped) - 1 - grouped.index(columns[d.name])) for d in (a, b)}
            arms.append(f"when {full - sum(bits)} then {pick(a, b)}")
        return f"case pair {' '.join(arms)} end"

    return case


def _pair_keys(chunk: list[tuple[Any, Any]], columns: dict[str, str], grouped: list[str]) -> str:
    """The key columns of a pass's rows: dimension, value, other, other_value (as text)."""
    case = _pair_case(chunk, columns, grouped)
    return (
        f"{case(lambda a, b: _key(a))} as dimension,"
        f" {case(lambda a, b: f'{columns[a.name]}::varchar')} as value,"
        f" {case(lambda a, b: _key(b))} as other,"
        f" {case(lambda a, b: f'{columns[b.name]}::varchar')} as other_value"
    )


def reason_pair_sql(facts: str = "scope_facts") -> list[str]:
    """reason_pairs.sql for every filter of the dashboard's registry with each dimension the
    Reasons page shares reasons out by (``Dimension.reasons_by``), over the upheld items of
    ``facts`` (item_facts rows; default: the build's scope): a query per grouping-sets pass,
    the scalar filters' in passes of ``SETS_PER_PASS`` sets, each list filter's (its values
    unnested first) in one. Each upheld item counts once per reason it gives and once as
    reason NULL (all upheld items: the shares' denominators)."""
    from dashboard import dimensions

    by = list(dimensions.REASONS_BY)
    scalars = [d for d in dimensions.FILTERS if d.shape == "scalar"]
    kept = list(dict.fromkeys([*(d.column for d in scalars), *(d.column for d in by)]))
    by_columns = ", ".join(dict.fromkeys(d.column for d in by))
    # Two unnests in one select pair up element by element: a list filter's values first.
    reasons = "unnest(list_append(reasons, null::varchar)) as reason"
    upheld = f"{facts} where not overturned"
    sources: list[tuple[str, dict[str, str], list[tuple[Any, Any]]]] = [
        (
            f"(select {', '.join(kept)}, {reasons} from {upheld})",
            {d.name: d.column for d in (*scalars, *by)},
            [(d, b) for d in scalars for b in by],
        )
    ]
    for listed in (d for d in dimensions.FILTERS if d.shape == "list"):
        values = f"unnest({listed.column}) as each_{listed.name}"
        sources.append(
            (
                f"(select each_{listed.name}, {by_columns}, {reasons}"
                f" from (select {values}, {by_columns}, reasons from {upheld}))",
                {listed.name: f"each_{listed.name}", **{b.name: b.column for b in by}},
                [(listed, b) for b in by],
            )
        )
    template = read_sql("reason_pairs.sql")
    passes = []
    # Two filters selected together (facet_pairs' rows of them: selection_pair_sql): their
    # pairs of values, each a row of the selection, with each dimension shared out by.
    by_column_names = list(dict.fromkeys(d.column for d in by))
    for a, b in dimensions.SELECTION_PAIRS:
        items = _selected_items(f"(from {upheld})", a, b, [*by_column_names, "reasons"])
        sets = ", ".join(f"(sel_a, sel_b, {c}, reason)" for c in by_column_names)
        passes.append(
            f"{_selection_head(a, b)}, {_set_dimension(by)}, reason, count(*)::bigint as upheld"
            f" from (select *, {reasons} from {items}) group by grouping sets ({sets})"
        )
    for source, columns, pairs in sources:
        # A pass's sets are told apart by their columns: (category, drug_class) and
        # (drug_class, category), one set, go to different passes.
        chunks: list[list[tuple[Any, Any]]] = []
        for pair in pairs:
            cols = {columns[d.name] for d in pair}
            fits = [c for c in chunks if len(c) < SETS_PER_PASS]
            free = [c for c in fits if all({columns[d.name] for d in p} != cols for p in c)]
            if free:
                free[0].append(pair)
            else:
                chunks.append([pair])
        for chunk in chunks:
            grouped = list(dict.fromkeys(columns[d.name] for pair in chunk for d in pair))
            keys = ", ".join(grouped)
            sets = ", ".join(
                f"({', '.join(dict.fromkeys((columns[a.name], columns[b.name])))}, reason)"
                for a, b in chunk
            )
            passes.append(
                f"select {_pair_keys(chunk, columns, grouped)}, reason, upheld"
                f" from (select grouping({keys}) as pair, {keys}, reason,"
                " count(*)::bigint as upheld"
                f" from {source} group by grouping sets ({sets}))"
            )
    return [template.replace("__PAIRS__", p) for p in passes]


# The column of a pass grouped per letter first (_grouping_pass): a pair's groups there.
PER_LETTER = "letter_groups"


def _pair_letters(a: Any, b: Any) -> str:
    """The count in ``_grouping_pass`` that is the letters of the pair of dimensions a, b: of
    two of the letter's own fields, its first items (every item of a letter is in the same
    pairs); of a letter's field and an item's own, the items first in their letter with the
    item's value (``with_fresh``); of two items' own fields the pair's groups per letter
    (``PER_LETTER``: at 4M items about 0.6 s a pair, where a distinct count per pair cost the
    build 175 s in all)."""
    if a.per_letter and b.per_letter:
        return "first_items"
    if a.per_letter != b.per_letter:
        return f"fresh_{(b if a.per_letter else a).name}"
    return PER_LETTER


class DerivedTables:
    """The derived tables of one build (its connection, its memory limit)."""

    def __init__(self, con: Connection, memory_limit: str) -> None:
        self.con = con
        room = mib(memory_limit) - BUCKET_BASE_MIB
        self.per_bucket = max(room * ITEMS_PER_MIB, 500)
        # The most items whose facet_pairs rows come from long_pair_sql (pair_sql).
        self.long_form = min(LONG_FORM_ITEMS, room * LONG_FORM_ITEMS_PER_MIB)
        self.incremental = False
        self.mode = "whole"
        self.pairs_whole = False
        self._next_key = 0
        # A batch's facts are a table of an in-memory database of the build (FACTS_DB), which
        # a cursor sees (a temporary table it does not): appended to item_facts there, in a
        # thread, while this connection counts the batch and builds the next one's facts.
        self._batches = 0
        self._appender: ThreadPoolExecutor | None = None
        self._cursor: Connection | None = None
        self._appending: Future[Any] | None = None
        self._appending_facts = ""

    def snapshot(self, replaced: list[str], adding: int = 0) -> None:
        """Before loading: keep the letters here; take out the ones ``replaced`` (their ids).
        ``adding``: the letters the build will load (a build that at least doubles the
        warehouse counts facet_pairs whole at the end: see ``_sum_up``)."""
        con = self.con
        _attach_facts_db(con)  # batches' facts
        con.execute(read_sql("baseline.sql"))
        for name, shape in PARTS.values():
            con.execute(f"create or replace temp table {name} as {shape}")
        held = _scalar(con, "select count(*) from build_baseline")
        self.incremental = held == 0 or self._current()
        self.pairs_whole = adding >= held
        if not self.incremental:
            return
        if held == 0:
            self._create_empty()
        else:
            for table in DERIVED[1:]:  # the counts so far: the parts start from them
                if not (table in PAIRED and self.pairs_whole):
                    con.execute(f"insert into {_parts(table)} select * from {table}")
        if replaced:
            con.execute(
                "create or replace temp table doomed_letters as"
                " select letter_id from build_baseline where letter_id in (select unnest($ids))",
                {"ids": replaced},
            )
            self._whole_buckets(only="doomed_letters", sign=-1)
            con.execute(
                "delete from item_facts where letter_id in (select letter_id from doomed_letters)"
            )
        self._next_key = _scalar(con, "select coalesce(max(letter_key), 0) from item_facts")

    def add(self, chunks: Iterable[Chunk]) -> None:
        """After a load transaction: the facts and counts of the chunks it loaded, a batch of
        chunks per query (as many letters as a bucket holds: fewer, larger queries)."""
        if not self.incremental:
            return
        batch: list[Chunk] = []
        for chunk in chunks:
            if batch and (sum(c.letters for c in batch) + chunk.letters) * 3 > self.per_bucket:
                self._add_chunks(batch)
                batch = []
            batch.append(chunk)
        if batch:
            self._add_chunks(batch)

    def _add_chunks(self, chunks: list[Chunk]) -> None:
        for table in SCOPED:
            # Shaped as the table (by name): a chunk an older run spooled may lack a column.
            view = f"from {table} where false"
            files = [_literal(str(c.file(table))) for c in chunks if table in c.tables]
            if files:
                view += f" union all by name from read_parquet([{', '.join(files)}])"
            self.con.execute(f"create or replace temp view scope_{table} as {view}")
        self._add_scope()

    def build(self) -> dict[str, str]:
        """After the last load: the count tables, the changes, the check; the meta entries."""
        con = self.con
        self._stop_appending()
        con.execute(read_sql("changes.sql"))
        if self.incremental:
            self._sum_up()
            if self._consistent():
                self.mode = "incremental"
                return self._entries()
        self.mode = "whole"
        self.pairs_whole = True
        con.execute("drop table if exists item_facts")
        con.execute(read_sql("value_bits_table.sql"))  # the commonest values first again
        for table in DERIVED[1:]:
            con.execute(f"delete from {_parts(table)}")
        self._next_key = 0
        self._whole_buckets(only=None, sign=1)
        self._stop_appending()
        self._sum_up()
        return self._entries()

    def _entries(self) -> dict[str, str]:
        """The meta entries of the derived tables built: their digest and the patterns of bits
        each list column holds (at 4M items about 0.1 s)."""
        columns = _list_columns()
        counted = ", ".join(f"count(distinct {column}_bits)" for column in columns)
        row = self.con.execute(f"select {counted} from item_facts").fetchone() or ()
        patterns = dict(zip(columns, (int(n) for n in row), strict=True))
        return {DIGEST: digest(self.con), LIST_PATTERNS: json.dumps(patterns)}

    def release(self) -> None:
        """After ``build``: drop the scratch tables the counts were gathered in (at millions of
        items a hundred MB of the build's memory cap, which the search index's queries need).
        The changes (``changed_letters``, ``removed_letters``) stay: the index reads them."""
        scratch = [parts for parts, _ in PARTS.values()]
        self.con.execute("drop view if exists scope_facts")
        for name in (*scratch, "leaving_facts", "build_baseline", "doomed_letters"):
            self.con.execute(f"drop table if exists temp.{name}")
        self.con.execute(f"detach database if exists {FACTS_DB}")

    @contextlib.contextmanager
    def appending(self) -> Iterator[None]:
        """Around the adds and ``build`` (which ends the appender's thread and cursor): on an
        error they end too (what the appender raised, if anything, dropped for that error)."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(Exception):
                self._stop_appending()
            raise
        self._stop_appending()

    def _stop_appending(self) -> None:
        """Wait for the appender (what it raised is raised here) and close its cursor."""
        try:
            self.appended()
        finally:
            if self._appender is not None:
                self._appender.shutdown(wait=True)
                self._appender = None
            if self._cursor is not None:
                self._cursor.close()
                self._cursor = None

    def _sum_up(self) -> None:
        """The count tables from their parts; facet_pairs from item_facts when it is counted
        whole (a pass per few pairs of filters over the facts: a bucket adds more pair rows
        than it has items, so summing parts is the dearer way for a large build)."""
        con = self.con
        if self.pairs_whole:  # its parts are empty: the counts of every fact are its parts
            self._insert_passes(self._pair_queries("item_facts", one_query=False))
        con.execute(read_sql("views.sql"))
        con.execute(
            f"create or replace table facet_pairs as from {_parts('facet_pairs')} where false"
        )
        dims = [
            d
            for (d,) in con.execute(
                f"select distinct dimension from {_parts('facet_pairs')} order by 1"
            ).fetchall()
        ]
        for i in range(0, len(dims), PAIR_SUM_DIMENSIONS):
            con.execute(
                read_sql("facet_pairs_sum.sql"), {"dimensions": dims[i : i + PAIR_SUM_DIMENSIONS]}
            )

    def _insert_passes(self, queries: dict[str, list[str]]) -> None:
        """Each pass's rows (queries of item_facts alone) into its mart's parts.

        DuckDB spreads a scan over its threads a row group at a time, so over facts of one row
        group each pass runs on one thread: the passes then run side by side, one per thread,
        each on its own cursor, and their rows (thousands) are inserted here, since the parts
        are this connection's temporary tables. Larger facts: one pass at a time."""
        con = self.con
        passes = [(table, sql) for table, sqls in queries.items() for sql in sqls]
        threads = _scalar(con, "select current_setting('threads')")
        items = _scalar(con, "select count(*) from item_facts")
        if threads < 2 or items > ROW_GROUP_ROWS:
            for table, sql in passes:
                con.execute(f"insert into {_parts(table)} select * from ({sql})")
            return

        def rows(sql: str) -> Any:
            cursor = con.cursor()
            try:
                # execute, not sql(): a relation binds its query to learn its columns before
                # it runs it, which cost the passes about a tenth more CPU (stop 56). DuckDB
                # warns that a DB-API result copies its rows into Arrow: a pass's thousands.
                return cursor.execute(sql).to_arrow_table()
            finally:
                cursor.close()

        with warnings.catch_warnings(), ThreadPoolExecutor(threads) as pool:
            # (here, in the thread that starts the pass threads: the filters are the process's)
            warnings.filterwarnings("ignore", ARROW_COPY_WARNING, UserWarning)
            found_rows = pool.map(rows, [sql for _, sql in passes])
            for (table, _), found in zip(passes, found_rows, strict=True):
                con.register("pass_rows", found)
                try:
                    con.execute(f"insert into {_parts(table)} select * from pass_rows")
                finally:
                    con.unregister("pass_rows")

    # -- steps -------------------------------------------------------------------------------

    def _current(self) -> bool:
        """Whether this copy's derived tables are there and defined as this code defines them."""
        con = self.con
        if not all(_exists(con, table) for table in (*DERIVED, "value_bits")):
            return False
        row = con.execute("select value from meta where key = ?", [DIGEST]).fetchone()
        return row is not None and row[0] == digest(con)

    def _create_empty(self) -> None:
        """The derived tables of an empty warehouse, shaped by their SQL."""
        con = self.con
        for table in SCOPED:
            con.execute(f"create or replace temp view scope_{table} as from {table} where false")
        con.execute("drop table if exists item_facts")
        with_fresh(con, "item_facts", key_offset=0)
        con.execute(read_sql("value_bits_table.sql"))

    def _whole_buckets(self, only: str | None, sign: int) -> None:
        """Every letter (or the letters of the table ``only``), a bucket at a time: facts when
        adding, counts either way."""
        con = self.con
        letters = f"(select letter_id from {only})" if only else "letters"
        items = _scalar(
            con, f"select count(*) from decisions semi join {letters} using (letter_id)"
        )
        buckets = max(math.ceil(items / self.per_bucket), 1)
        for bucket in range(buckets):
            # A plain filter on the hash (no join memory: tests/reliability/test_memory_cap.py).
            scope = f"hash(letter_id) % {buckets} = {bucket}"
            if only:
                scope += f" and letter_id in (select letter_id from {only})"
            for table in SCOPED:
                con.execute(
                    f"create or replace temp view scope_{table} as from {table} where {scope}"
                )
            if sign < 0:
                con.execute(
                    f"create or replace temp table leaving_facts as from item_facts where {scope}"
                )
                con.execute("create or replace temp view scope_facts as from leaving_facts")
                self._add_counts(sign)
            else:
                self._add_scope()

    def _add_scope(self) -> None:
        """The letters in the scope views: their facts into item_facts, their counts added."""
        con = self.con
        self._batches += 1
        facts = f"{FACTS_DB}.batch_{self._batches}"
        with_fresh(con, facts, self._next_key)
        add_values, set_bits = bits_sql(facts)
        con.execute(add_values, {"shared_bit": SHARED_BIT})
        con.execute(set_bits)
        # (its SQL names the facts as the views below do: scope_facts)
        con.execute(read_sql("first_in_letter.sql").replace("scope_facts", facts))
        self._next_key += _scalar(con, "select count(*) from scope_letters")
        con.execute(f"create or replace temp view scope_facts as from {facts}")
        if not _exists(con, "item_facts"):
            con.execute(f"create table item_facts as from {facts} limit 0")
        self._append(facts)
        self._add_counts(1)

    def _append(self, facts: str) -> None:
        """The table ``facts`` into item_facts, in the appender's thread, after the batch
        before it (so item_facts keeps the batches' order), which is dropped then (its counts
        are done: the batch of ``facts`` is in the scope views now)."""
        self.appended()
        if self._appender is None:
            self._appender = ThreadPoolExecutor(1)
            self._cursor = self.con.cursor()
        cursor = self._cursor
        assert cursor is not None
        self._appending = self._appender.submit(
            cursor.execute, f"insert into item_facts from {facts}"
        )
        self._appending_facts = facts

    def appended(self) -> None:
        """Wait for the facts being appended (raises what failed there), then drop them."""
        if self._appending is not None:
            appending, self._appending = self._appending, None
            appending.result()
            self.con.execute(f"drop table {self._appending_facts}")

    def _add_counts(self, sign: int) -> None:
        con = self.con
        # Each: its parts table, the counting query, its keys, its measures, its parameters.
        counted: list[tuple[str, str, str, tuple[str, ...], dict[str, Any]]] = [
            (
                "coverage_parts",
                read_sql("parse_coverage.sql"),
                "scope, layout, field",
                ("present", "total"),
                {},
            ),
            (
                "unresolved_parts",
                read_sql("unresolved_counts.sql"),
                "kind, value",
                ("occurrences", "letters"),
                {},
            ),
            ("facet_parts", facet_sql(), "dimension, value", FACET_MEASURES, {}),
            (
                "facet_parts",
                combination_sql(),
                "dimension, value",
                FACET_MEASURES,
                {"combinations": drug_names().combinations()},
            ),
        ]
        if not self.pairs_whole:
            for table, sqls in self._pair_queries("scope_facts", one_query=True).items():
                # One query for a batch's few items (a query per pass: its overhead 90 times)
                passes = "\nunion all\n".join(f"select * from ({sql})" for sql in sqls)
                counted.append((_parts(table), passes, PAIR_KEYS[table], PAIR_COUNTS[table], {}))
        for parts, sql, keys, measures, params in counted:
            signed = ", ".join(f"{sign} * {measure}" for measure in measures)
            con.execute(f"insert into {parts} select {keys}, {signed} from ({sql})", params)
        # A bucket adds more pair rows than it has items: sum them up as they come, so the
        # parts stay about the size of the mart (summing them all at the end ran a 40 MB
        # build out of memory).
        for table in PAIRED if not self.pairs_whole else ():
            parts, keys = _parts(table), PAIR_KEYS[table]
            if _scalar(con, f"select count(*) from {parts}") > self.per_bucket * FOLD_AT:
                con.execute(
                    f"create or replace temp table {parts} as select {keys},"
                    f" sum(columns(* exclude ({keys})))::bigint from {parts} group by all"
                )

    def _pair_queries(self, facts: str, one_query: bool) -> dict[str, list[str]]:
        """Each pair mart's queries over the table ``facts``: facet_pairs' long form for a few
        items, else its passes (``one_query``: as one union, a batch's; as such the whole
        facts of 2,000 letters took 140 MiB more, for no time measurably saved)."""
        items = _scalar(self.con, f"select count(*) from {facts}")
        long_form = items <= self.long_form
        # A batch's passes run as one union: a check of its values per batch would cost more
        # planning than its few groups per letter.
        keyed = not one_query and make_value_keys(self.con, facts)
        return {
            "facet_pairs": [
                *pair_sql(facts, long_form, one_query, keyed and not long_form),
                *selection_pair_sql(facts, keyed),
            ],
            "reason_pairs": reason_pair_sql(facts),
        }

    def _consistent(self) -> bool:
        """One fact per item and one coverage count per letter: the update added up."""
        return bool(
            _scalar(
                self.con,
                "select (select count(*) from item_facts) = (select count(*) from decisions)"
                " and coalesce((select sum(total) from parse_coverage"
                "   where scope = 'letters' and field = 'case_number'), 0)"
                "   = (select count(*) from letters)",
            )
        )


# facet_counts' counts, each a sum over letters (a letter's items are in one chunk or bucket:
# its distinct letters add up across them, as unresolved_counts' do).
FACET_MEASURES = ("items", "overturned", "letters", "synthetic_items", "synthetic_letters")
# Each count mart, the temporary table its parts are gathered in, and that table's empty shape.
PARTS = {
    "parse_coverage": (
        "coverage_parts",
        "select ''::varchar as scope, ''::varchar as layout, ''::varchar as field,"
        " 0::bigint as present, 0::bigint as total where false",
    ),
    "unresolved_counts": (
        "unresolved_parts",
        "select ''::varchar as kind, ''::varchar as value, 0::bigint as occurrences,"
        " 0::bigint as letters where false",
    ),
    "facet_counts": (
        "facet_parts",
        "select ''::varchar as dimension, ''::varchar as value, 0::bigint as items,"
        " 0::bigint as overturned, 0::bigint as letters, 0::bigint as synthetic_items,"
        " 0::bigint as synthetic_letters where false",
    ),
    "facet_pairs": (
        "pair_parts",
        "select ''::varchar as dimension, ''::varchar as value, ''::varchar as other,"
        " ''::varchar as other_value, "
        + ", ".join(f"0::bigint as {measure}" for measure in PAIR_MEASURES)
        + " where false",
    ),
    "reason_pairs": (
        "reason_parts",
        "select ''::varchar as dimension, ''::varchar as value, ''::varchar as other,"
        " ''::varchar as other_value, ''::varchar as reason, 0::bigint as upheld where false",
    ),
}


# The pair marts' keys and counts (_add_counts sums their parts by them).
PAIR_KEYS = {
    "facet_pairs": "dimension, value, other, other_value",
    "reason_pairs": "dimension, value, other, other_value, reason",
}
PAIR_COUNTS = {"facet_pairs": PAIR_MEASURES, "reason_pairs": ("upheld",)}


# What DuckDB warns of when a DB-API result is read as Arrow (a regular expression).
ARROW_COPY_WARNING = "Arrow output on a DB-API result makes an extra copy"


def _parts(table: str) -> str:
    return PARTS[table][0]


def _literal(text: str) -> str:
    """A SQL string literal (for a view, which cannot take parameters: our own file names)."""
    return "'" + text.replace("'", "''") + "'"


def _exists(con: Connection, table: str) -> bool:
    return bool(
        _scalar(
            con,
            "select count(*) from duckdb_tables() where database_name = current_database()"
            " and schema_name = 'main' and table_name = ?",
            [table],
        )
    )


def _scalar(con: Connection, query: str, params: list[object] | None = None) -> int:
    # fetchall: the result finished, so the connection may open a cursor next.
    rows = con.execute(query, params or []).fetchall()
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def mib(size: str) -> int:
    """'384MB' -> 384 (DuckDB's memory-limit notation: KB, MB, GB; powers of 1000 or 1024)."""
    number = float("".join(c for c in size if c.isdigit() or c == "."))
    unit = size.strip().upper().lstrip("0123456789. ")
    scale = {"KB": 1 / 1000, "KIB": 1 / 1024, "MB": 1, "MIB": 1, "GB": 1000, "GIB": 1024}
    return max(int(number * scale.get(unit, 1)), 1)

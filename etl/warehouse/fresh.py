"""Which items are their letter's first with each value: ``item_facts``' ``<column>_fresh``
flags, computed over a batch's facts as arrays (no DuckDB here: ``derived`` reads the facts
and writes the flags).

For a filter of an item's own field (the registry's, not ``per_letter``) each item gets
``<column>_fresh``: whether no earlier item of its letter (``item_no``'s order) has its value
(a scalar: BOOLEAN; no value is a value here, equal to itself), or for each value of its list
whether it is the first of the letter's values in that order (BOOLEAN[], aligned with the
list: an empty list is one value, none); ``<column>_outcome_fresh``, the same among the items
of the item's outcome (overturned or not); and ``first_in_outcome``, whether it is its
letter's first item of its outcome. The letters behind a pair of such a field and another are
these flags' count (``derived.pair_sql``), and the dashboard counts them by bits built from
them (``derived.bits_sql``).

A flag is a first occurrence of a key (letter, value) in the letter's order: one sort of the
keys (``numpy.unique``) per flag. Written in SQL, the same flags (a window over each item's
earlier items, read by lambdas) were two thirds of the CPU of building a batch's facts, about
four times this way's (docs/benchmarks.md, stop 65).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# The facts' columns the flags are computed from, beside the fields: the row, the letter, the
# order within it, the outcome.
ROW, LETTER, ORDER, OUTCOME = "row_id", "letter_key", "item_no", "overturned"
FIRST_IN_OUTCOME = "first_in_outcome"
FRESH, OUTCOME_FRESH = "_fresh", "_outcome_fresh"


def flag_columns(scalars: Sequence[str], lists: Sequence[str]) -> list[tuple[str, str]]:
    """The flag columns, in item_facts' order, with their DuckDB types."""
    kinds = [(c, "boolean") for c in scalars] + [(c, "boolean[]") for c in lists]
    return [
        *((f"{c}{FRESH}", kind) for c, kind in kinds),
        *((f"{c}{OUTCOME_FRESH}", kind) for c, kind in kinds),
        (FIRST_IN_OUTCOME, "boolean"),
    ]


def fresh_flags(facts: pa.Table, scalars: Sequence[str], lists: Sequence[str]) -> pa.Table:
    """The flags of ``facts`` (its rows in any order; columns ``ROW``, ``LETTER``, ``ORDER``,
    ``OUTCOME`` and the fields), a row per row of it in its letter's order, with ``ROW``."""
    facts = facts.sort_by([(LETTER, "ascending"), (ORDER, "ascending")]).combine_chunks()
    letter = _integers(facts[LETTER])
    outcome = _integers(facts[OUTCOME])
    side = letter * 2 + outcome  # the letter's items of one outcome
    flags: dict[str, pa.Array] = {ROW: _array(facts[ROW])}
    for column in scalars:
        codes, width = _codes(_array(facts[column]))
        flags[f"{column}{FRESH}"] = pa.array(_first(letter, codes, width))
        flags[f"{column}{OUTCOME_FRESH}"] = pa.array(_first(side, codes, width))
    for column in lists:
        values = _array(facts[column])
        if values.null_count:
            raise ValueError(f"{column}: a NULL list (item_facts' lists are never NULL)")
        sizes = _integers(pc.list_value_length(values))
        shown = np.maximum(sizes, 1)  # an empty list: one value, none
        offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(shown, out=offsets[1:])
        owner = np.repeat(np.arange(len(sizes)), shown)  # each value's row
        place = np.arange(offsets[-1]) - offsets[owner]  # its place in its list
        codes, width = _codes(pc.list_flatten(values))
        empty = sizes[owner] == 0
        starts = _integers(values.offsets)[:-1]
        at = np.where(empty, 0, starts[owner] + place)
        codes = np.where(empty, width - 1, codes[at] if len(codes) else 0)
        bounds = pa.array(offsets.astype(np.int32))
        flags[f"{column}{FRESH}"] = _lists(bounds, _first(letter[owner], codes, width))
        flags[f"{column}{OUTCOME_FRESH}"] = _lists(bounds, _first(side[owner], codes, width))
    flags[FIRST_IN_OUTCOME] = pa.array(_first(letter, outcome, 2))
    names = [ROW] + [name for name, _ in flag_columns(scalars, lists)]
    return pa.Table.from_arrays([flags[name] for name in names], names=names)


def in_row_order(flags: pa.Table) -> pa.Table:
    """The rows of ``fresh_flags``' table in the order of their ``ROW`` (a table's row ids
    from 0, as its rows are numbered), without it."""
    order = np.argsort(_integers(flags[ROW]), kind="stable")
    return flags.take(pa.array(order)).drop_columns([ROW])


def _first(group: np.ndarray, codes: np.ndarray, width: int) -> np.ndarray:
    """Whether each (group, code) is the first of its kind, in the arrays' order."""
    keys = group * width + codes
    _, first = np.unique(keys, return_index=True)
    found = np.zeros(len(keys), dtype=bool)
    found[first] = True
    return found


def _codes(values: pa.Array) -> tuple[np.ndarray, int]:
    """An integer per value, equal where the values are (NULL one more value), and how many
    integers there can be (NULL's the last)."""
    encoded = pc.dictionary_encode(values)
    nulls = len(encoded.dictionary)
    return _integers(encoded.indices.fill_null(nulls)), nulls + 1


def _integers(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(_array(values).to_numpy(zero_copy_only=False), dtype=np.int64)


def _array(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _lists(offsets: pa.Array, flags: np.ndarray) -> pa.Array:
    return pa.ListArray.from_arrays(offsets, pa.array(flags))

"""etl.warehouse.fresh: an item's fresh flags against their definition, computed item by item.

A flag says whether the item is its letter's first (``item_no``'s order) with its value, per
scalar field; per value of a list field (an empty list is one value, none); the same among the
items of its outcome; and whether it is the letter's first item of its outcome.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.warehouse import fresh

SCALARS = ["category", "decision"]
LISTS = ["drugs"]


def _facts(rows: list[dict[str, Any]]) -> pa.Table:
    return pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("row_id", pa.int64()),
                ("letter_key", pa.int32()),
                ("item_no", pa.int32()),
                ("overturned", pa.bool_()),
                ("category", pa.string()),
                ("decision", pa.string()),
                ("drugs", pa.list_(pa.string())),
            ]
        ),
    )


def _expected(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The flags by their definition: each item against its letter's earlier items."""
    flags: dict[int, dict[str, Any]] = {}
    for row in rows:
        earlier = [
            r
            for r in rows
            if r["letter_key"] == row["letter_key"] and r["item_no"] < row["item_no"]
        ]
        same = [r for r in earlier if r["overturned"] == row["overturned"]]
        found: dict[str, Any] = {}
        for suffix, before in (("_fresh", earlier), ("_outcome_fresh", same)):
            for c in SCALARS:
                found[c + suffix] = all(r[c] != row[c] for r in before)
            for c in LISTS:
                listed = row[c] or [None]
                seen = [v for r in before for v in (r[c] or [None])]
                found[c + suffix] = [
                    listed.index(v) == i and v not in seen for i, v in enumerate(listed)
                ]
        found["first_in_outcome"] = not same
        flags[row["row_id"]] = found
    return flags


def _computed(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    table = fresh.fresh_flags(_facts(rows), SCALARS, LISTS)
    names = [name for name, _ in fresh.flag_columns(SCALARS, LISTS)]
    assert table.column_names == ["row_id", *names]
    return {row.pop("row_id"): row for row in table.to_pylist()}


def test_a_letter_by_hand() -> None:
    rows = [  # given out of order: the flags follow item_no
        dict(row_id=0, letter_key=7, item_no=3, overturned=True, category="Pharmaceuticals",
             decision="Overturned", drugs=["gabapentin", "norco"]),
        dict(row_id=1, letter_key=7, item_no=1, overturned=False, category="Pharmaceuticals",
             decision="Upheld", drugs=["norco", "norco"]),
        dict(row_id=2, letter_key=7, item_no=2, overturned=False, category=None,
             decision="Upheld", drugs=[]),
        dict(row_id=3, letter_key=8, item_no=1, overturned=False, category=None,
             decision="Upheld", drugs=[]),
        dict(row_id=4, letter_key=7, item_no=4, overturned=False, category=None,
             decision="Upheld", drugs=[None]),
    ]  # fmt: skip
    flags = _computed(rows)
    assert flags[1]["category_fresh"] and flags[1]["drugs_fresh"] == [True, False]
    assert flags[2]["category_fresh"] and flags[2]["drugs_fresh"] == [True]
    assert flags[0]["category_fresh"] is False and flags[0]["category_outcome_fresh"] is True
    assert flags[0]["drugs_fresh"] == [True, False]
    assert flags[0]["drugs_outcome_fresh"] == [True, True]
    assert flags[0]["decision_fresh"] and flags[0]["first_in_outcome"]
    assert flags[4]["category_fresh"] is False and flags[4]["drugs_fresh"] == [False]
    assert flags[4]["first_in_outcome"] is False
    assert flags[3]["category_fresh"] and flags[3]["drugs_fresh"] == [True]
    assert flags == _expected(rows)
    # in row order: a table's rows, numbered from 0 (derived.with_fresh joins them by position)
    ordered = fresh.in_row_order(fresh.fresh_flags(_facts(rows), SCALARS, LISTS)).to_pylist()
    assert ordered == [flags[row_id] for row_id in range(len(rows))]


_item = st.fixed_dictionaries(
    {
        "letter_key": st.integers(1, 4),
        "overturned": st.booleans(),
        "category": st.sampled_from([None, "a", "b", "c"]),
        "decision": st.sampled_from(["Upheld", "Overturned"]),
        "drugs": st.lists(st.sampled_from([None, "x", "y", "z"]), max_size=3),
    }
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_item, max_size=25), st.randoms(use_true_random=False))
def test_flags_are_their_definition(items: list[dict[str, Any]], rng: Any) -> None:
    rows = []
    for row_id, item in enumerate(items):
        item_no = sum(r["letter_key"] == item["letter_key"] for r in rows) + 1
        rows.append({**item, "row_id": row_id, "item_no": item_no})
    rng.shuffle(rows)
    assert _computed(rows) == _expected(rows)

"""Explore: the cross-tab of any two registry dimensions (``queries.crosstab``, one SQL file
per shape pair), its heatmap, the page (state in the URL, CSV) and the Letters page taking
every registry dimension as a URL filter. Expected numbers come from plain Python over the
rows of the test warehouse, written independently of ``dashboard/sql``."""

from __future__ import annotations

import itertools
import re
from collections import defaultdict
from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import charts, dimensions, queries, ui
from dashboard.dimensions import Dimension
from dashboard.filters import Filters
from tests.dashboard import expected, pages
from tests.dashboard.pages import run_page

APP = pages.APP
OTHER = queries.OTHER


def _values(dim: Dimension, value: Any) -> list[str]:
    if dim.shape == "list":
        return list(value) if value else ([dim.empty] if dim.empty is not None else [])
    return [] if value is None else [value]


def oracle_crosstab(
    oracle, filters: Filters, rows: str, cols: str, top_rows: int, top_cols: int
) -> tuple[dict[tuple[str, str], tuple[int, int]], dict[str, int], dict[str, int], int]:
    """(cells {(row, col): (n, overturned)}, row order, col order, items left out)."""
    row, col = dimensions.get(rows), dimensions.get(cols)
    facts = expected.rows(
        oracle, filters, f"letter_id, item_no, {row.column}, {col.column}, overturned"
    )
    row_items: dict[Any, set] = defaultdict(set)
    col_items: dict[Any, set] = defaultdict(set)
    kept = []
    left_out = 0
    for letter_id, item_no, row_value, col_value, overturned in facts:
        rs, cs = _values(row, row_value), _values(col, col_value)
        if not rs or not cs:
            left_out += 1
            continue
        item = (letter_id, item_no)
        for r in rs:
            row_items[r].add(item)
        for c in cs:
            col_items[c].add(item)
        kept.append((item, rs, cs, overturned))

    def axis(items: dict[Any, set], top: int, by_count: bool) -> tuple[dict[Any, str], dict]:
        ranked = sorted(items, key=lambda v: (-len(items[v]), v))
        label = {v: (str(v) if i < top else OTHER) for i, v in enumerate(ranked)}
        shown = ranked[:top] if by_count else sorted(ranked[:top])
        order = {str(v): i + 1 for i, v in enumerate(shown)}
        if len(ranked) > top:
            order[OTHER] = top + 1
        return label, order

    row_label, row_order = axis(row_items, top_rows, row.order == "count")
    col_label, col_order = axis(col_items, top_cols, col.order == "count")
    cells: dict[tuple[str, str], set] = defaultdict(set)
    for item, rs, cs, overturned in kept:
        for r in rs:
            for c in cs:
                cells[(row_label[r], col_label[c])].add((item, bool(overturned)))
    counts = {
        key: (len(members), sum(1 for _, over in members if over)) for key, members in cells.items()
    }
    return counts, row_order, col_order, left_out


def oracle_letters(
    oracle, filters: Filters, rows: str, cols: str, top_rows: int, top_cols: int
) -> dict[tuple[str, str], int]:
    """Letters behind each cell: the letters of the items the cell counts."""
    row, col = dimensions.get(rows), dimensions.get(cols)
    facts = expected.rows(oracle, filters, f"letter_id, {row.column}, {col.column}")
    _, row_order, col_order, _ = oracle_crosstab(oracle, filters, rows, cols, top_rows, top_cols)
    out: dict[tuple[str, str], set[str]] = defaultdict(set)
    for letter_id, row_value, col_value in facts:
        for r in _values(row, row_value):
            for c in _values(col, col_value):
                r_label = str(r) if str(r) in row_order else OTHER
                c_label = str(c) if str(c) in col_order else OTHER
                out[(r_label, c_label)].add(letter_id)
    return {key: len(letters) for key, letters in out.items()}


PAIRS = [
    ("category", "decision_year", 5, 4),  # scalar x scalar, a year axis ordered by value
    ("drug_class", "specialty", 6, 5),  # scalar x list (NULL drug classes left out)
    ("state", "category", 4, 20),  # list x scalar, every category shown
    ("specialty", "state", 5, 3),  # list x list
    ("guideline_source", "decision", 2, 2),
    ("specialty", "drug_class", 4, 3),  # an item's own scalar on the columns, an "(other)" one
    ("state", "body_region", 2, 2),  # two letter's lists counted by bits, "(other)" both ways
]
# None; a letter's field; an item's own field (a letter's items may fall in different cells).
CROSSTAB_FILTERS = {
    "all": {},
    "filtered": {"exclude_synthetic": False, "decision_year": (2015, 2024)},
    "item-field": {"decision": ["Overturned"]},
    "two-filters": {"decision": ["Overturned"], "decision_year": (2015, 2024)},  # no mart sums
}


@pytest.mark.parametrize(("rows", "cols", "top_rows", "top_cols"), PAIRS)
@pytest.mark.parametrize("chosen", CROSSTAB_FILTERS.values(), ids=list(CROSSTAB_FILTERS))
def test_crosstab_matches_the_items(con, oracle, rows, cols, top_rows, top_cols, chosen):
    filters = Filters.build(**chosen)
    frame = queries.crosstab(con, filters, rows, cols, top_rows, top_cols)
    want, row_order, col_order, left_out = oracle_crosstab(
        oracle, filters, rows, cols, top_rows, top_cols
    )
    got = {
        (r["row_value"], r["col_value"]): (r["n"], r["overturned"])
        for r in frame.iter_rows(named=True)
    }
    assert got == want
    letters = {(r["row_value"], r["col_value"]): r["letters"] for r in frame.iter_rows(named=True)}
    assert letters == oracle_letters(oracle, filters, rows, cols, top_rows, top_cols)
    assert dict(frame.select("row_value", "row_order").unique().iter_rows()) == row_order
    assert dict(frame.select("col_value", "col_order").unique().iter_rows()) == col_order
    assert set(frame.get_column("left_out").to_list()) == {left_out}
    # The page passes its headline's items: the same cross-tab, nothing counted again.
    items = int(queries.summary(con, filters).item(0, "n"))
    assert queries.crosstab(con, filters, rows, cols, top_rows, top_cols, 30, items).equals(frame)
    more = queries.crosstab(con, filters, rows, cols, top_rows, top_cols, 30, items + 5)
    assert set(more.get_column("left_out").to_list()) == {left_out + 5}
    for r in frame.iter_rows(named=True):
        assert r["row_other"] is (r["row_value"] == OTHER)
        assert r["col_other"] is (r["col_value"] == OTHER)
        low, high = expected.wilson(r["overturned"], r["n"])
        assert r["overturn_lower"] == pytest.approx(low) and r["overturn_upper"] == pytest.approx(
            high
        )
        assert r["small_sample"] is (r["n"] < 30)


@pytest.mark.parametrize(
    ("rows", "cols", "chosen", "flag"),
    [
        ("specialty", "state", {}, "first_in_letter"),
        ("specialty", "state", {"decision_year": (2015, 2024)}, "first_in_letter"),
        ("drug_class", "specialty", {"state": ["Texas"]}, "drug_class_fresh"),
        ("specialty", "category", {}, "category_fresh"),
        ("drug_class", "specialty", {"category": ["Pharmaceuticals"]}, None),
        ("drug_class", "specialty", {"search": "tramadol"}, None),
        ("drug_class", "category", {}, None),  # two items' own fields
        ("drug", "specialty", {}, None),  # an item's own list: no flag per value here
    ],
)
def test_crosstab_counts_letters_by_a_flagged_item_where_one_stands_for_its_letter(
    con, rows, cols, chosen, flag
):
    """The letters of a cell are the items flagged in it when each letter has exactly one such
    item there: its first, when both axes and the filters are the letter's fields; its first
    with its value of an item's own scalar axis (not in that axis's "(other)" cells). Else
    bits or a distinct count. test_crosstab_matches_the_items checks the counts either way."""
    letters, got, _ = queries.crosstab_letters(
        con, Filters.build(**chosen), dimensions.get(rows), dimensions.get(cols), 30
    )
    assert got == (flag or "null::boolean")
    assert ("filter (where letter_flag)" in letters) is (flag is not None)


BIT_PAIRS = [("specialty", "state"), ("state", "body_region"), ("body_region", "specialty")]
# Lists of an item's own fields among them: a letter's items may fall in different cells.
ITEM_BIT_PAIRS = [("drug", "reason"), ("reason", "specialty"), ("guideline_source", "drug")]
# A list and a scalar (the scalar's kept values as bits): an item's own and a letter's.
SCALAR_BIT_PAIRS = [("category", "drug"), ("reason", "decision_year"), ("state", "decision")]
# An item's own field and a letter's: each letter's first item with a kept value.
FRESH_BIT_PAIRS = [
    ("state", "subcategory"),
    ("category", "specialty"),
    ("drug_class", "state"),
    ("drug", "state"),
    ("specialty", "guideline_document"),
    ("reason", "body_region"),
    ("guideline_source", "decision_year"),
]


def spy_pattern_letters(monkeypatch) -> list:
    """What each ``queries.pattern_letters`` call returns, in order, from here on."""
    real, seen = queries.pattern_letters, []

    def spy(*args):
        counted = real(*args)
        seen.append(counted)
        return counted

    monkeypatch.setattr(queries, "pattern_letters", spy)
    return seen


def both_ways(con, monkeypatch, filters, rows, cols, top):
    """(whether the cells came from the bits, that frame, the frame from the lists: its axes
    by crosstab_axes.sql, its cells by crosstab.sql)."""
    real, ran = queries.run_sql, []

    def spy(con, name, *args, **kwargs):
        ran.append(name)
        return real(con, name, *args, **kwargs)

    monkeypatch.setattr(queries, "run_sql", spy)
    by_bits = queries.crosstab(con, filters, rows, cols, top, top)
    taken = "crosstab_bits" in ran
    assert "crosstab_axes_bits" in ran and "crosstab_axes" not in ran
    ran.clear()
    with monkeypatch.context() as lists:
        lists.setattr(queries, "crosstab_masks", lambda *args: None)
        lists.setattr(queries, "bit_dictionary", lambda *args: None)
        by_lists = queries.crosstab(con, filters, rows, cols, top, top)
    assert "crosstab" in ran and "crosstab_axes" in ran
    return taken, by_bits, by_lists


@pytest.mark.parametrize(
    ("rows", "cols"), BIT_PAIRS + ITEM_BIT_PAIRS + SCALAR_BIT_PAIRS + FRESH_BIT_PAIRS
)
@pytest.mark.parametrize("top", [1, 2, 12])
@pytest.mark.parametrize(
    "chosen",
    [{}, {"decision": ["Overturned"]}, {"decision_year": (2015, 2024)}, {"search": "tramadol"}],
    ids=["all", "item-field", "range", "search"],
)
def test_crosstab_of_lists_counts_their_bits_as_the_lists(
    con, monkeypatch, rows, cols, top, chosen
):
    """Two lists whose kept values have bits of their own, or one and a scalar: the axes and
    the cells come from the patterns of those bits (sql/crosstab_axes_bits.sql,
    sql/crosstab_bits.sql; the letters by their flagged items, or as bits of letter numbers
    where a letter's items may fall in several cells), the same frame as unnesting every
    item's lists (sql/crosstab_axes.sql, sql/crosstab.sql), "(other)" and empty lists among
    them."""
    by_bits, got, want = both_ways(con, monkeypatch, Filters.build(**chosen), rows, cols, top)
    assert by_bits
    assert got.height > 0
    assert got.equals(want)


@pytest.mark.parametrize(
    ("rows", "cols"),
    [*ITEM_BIT_PAIRS, ("state", "drug"), ("body_region", "reason"), *SCALAR_BIT_PAIRS],
)
@pytest.mark.parametrize("top", [1, 3, 12])
@pytest.mark.parametrize(
    "chosen", [{}, {"decision": ["Overturned"]}, {"search": "tramadol"}], ids=str
)
def test_crosstab_beyond_the_letters_bits_counts_them_from_each_letters_patterns(
    con, oracle, monkeypatch, rows, cols, top, chosen
):
    """Too many patterns for bits of letter numbers (a budget of none here): where one axis is
    the letter's own field, each letter's items' patterns or'ed count its letters
    (sql/_letter_patterns.sql: a letter in the cells of any of its items, its empty list and
    its values at once among them; an item's own scalar on the other axis, each of its values
    a letter's items hold); two items' own fields go to the lists. The same frame, and the
    oracle's letters."""
    monkeypatch.setattr(queries, "LETTER_BITS_BUDGET", 0)
    filters = Filters.build(**chosen)
    by_bits, got, want = both_ways(con, monkeypatch, filters, rows, cols, top)
    row, col = dimensions.get(rows), dimensions.get(cols)
    assert by_bits is (row.per_letter or col.per_letter)
    assert got.equals(want)
    if not filters.search:  # the oracle knows no search
        letters = {
            (r["row_value"], r["col_value"]): r["letters"] for r in got.iter_rows(named=True)
        }
        assert letters == oracle_letters(oracle, filters, rows, cols, top, top)


def _pattern_key(dim: Dimension, value: Any, kept: set) -> tuple:
    """An item's part of a pattern of sql/crosstab_bits.sql, from its value: a list's kept
    values, whether it holds another (NULL values have no bit), whether it is empty; a
    scalar's kept value, else one place for all the others."""
    if dim.shape == "list":
        held = [v for v in value if v is not None]
        return frozenset(v for v in held if v in kept), any(v not in kept for v in held), not value
    return (value if value in kept else OTHER,)


@pytest.mark.parametrize(
    ("rows", "cols"), [("drug", "reason"), ("state", "body_region"), *SCALAR_BIT_PAIRS]
)
@pytest.mark.parametrize("top", [1, 3, 12])
def test_crosstab_axes_count_the_patterns_the_cells_group(con, oracle, rows, cols, top):
    """The budget of the letters' bits rests on the axes' count of patterns: the distinct
    patterns of the items' kept values, counted here from each item's values."""
    row, col = dimensions.get(rows), dimensions.get(cols)
    real, seen = queries.run_sql, []

    def spy(con, name, *args, **kwargs):
        frame = real(con, name, *args, **kwargs)
        if name == "crosstab_axes_bits":
            seen.append(frame.row(0, named=True))
        return frame

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(queries, "run_sql", spy)
        queries.crosstab(con, Filters(), rows, cols, top, top)
    [axes] = seen
    kept_rows, kept_cols = set(axes["row_top"]), set(axes["col_top"])
    facts = expected.rows(oracle, Filters(), f"{row.column}, {col.column}")
    patterns = {
        (_pattern_key(row, r, kept_rows), _pattern_key(col, c, kept_cols))
        for r, c in facts
        if _values(row, r) and _values(col, c)
    }
    assert axes["patterns"] == len(patterns)


@pytest.mark.parametrize(("rows", "cols"), ITEM_BIT_PAIRS)
def test_crosstab_of_an_items_list_counts_the_letters_behind_each_cell(con, oracle, rows, cols):
    """By bits of letter numbers per pattern, or'ed per cell: a letter whose two items fall in
    one cell counts once there (the oracle's letters)."""
    frame = queries.crosstab(con, Filters(), rows, cols, 3, 3)
    letters = {(r["row_value"], r["col_value"]): r["letters"] for r in frame.iter_rows(named=True)}
    assert letters == oracle_letters(oracle, Filters(), rows, cols, 3, 3)
    assert any(r["letters"] < r["n"] for r in frame.iter_rows(named=True))


@pytest.mark.parametrize(
    ("rows", "cols"),
    [*BIT_PAIRS, *ITEM_BIT_PAIRS, ("reason", "decision_year"), ("drug_class", "drug")],
)
@pytest.mark.parametrize("top", [1, 2, 12])
@pytest.mark.parametrize("chosen", [{}, {"decision": ["Overturned"]}], ids=["all", "overturned"])
def test_crosstab_by_bits_where_other_values_share_a_bit(
    narrow_bits, monkeypatch, rows, cols, top, chosen
):
    """On a warehouse whose values from the fourth of each list share a bit: kept values with
    bits of their own (the commonest, at a small top) are counted by bits, the shared bit among
    the "(other)" values; a kept value that shares one sends the cells to the lists (a larger
    top). The values that share a bit are ranked on the axes by the lists of the items holding
    one, under the filters (a filter of an item's own field; a scalar axis with NULLs, drug
    class). Either way the frame is the lists' and the oracle's."""
    con, oracle = narrow_bits
    filters = Filters.build(**chosen)
    by_bits, got, want = both_ways(con, monkeypatch, filters, rows, cols, top)
    if not chosen:  # the commonest values overall have bits of their own; under Overturned
        assert by_bits is (top <= 2)  # a value that shares one can rank first
    assert got.equals(want)
    cells, _, _, _ = oracle_crosstab(oracle, filters, rows, cols, top, top)
    assert {
        (r["row_value"], r["col_value"]): (r["n"], r["overturned"])
        for r in got.iter_rows(named=True)
    } == cells
    letters = {(r["row_value"], r["col_value"]): r["letters"] for r in got.iter_rows(named=True)}
    assert letters == oracle_letters(oracle, filters, rows, cols, top, top)


def test_crosstab_counts_by_bits_only_where_every_kept_value_has_its_own(con, monkeypatch):
    specialty, state, drug = (dimensions.get(n) for n in ("specialty", "state", "drug"))
    bits = queries.value_bits(con)
    some_state = next(iter(bits["state"]))
    some_specialty = next(iter(bits["specialty"]))
    kept = {"row_top": [some_specialty], "col_top": [some_state], "left_out": 0}
    masks = queries.crosstab_masks(con, specialty, state, kept)
    assert masks is not None
    assert masks["row_masks"] == [bits["specialty"][some_specialty]]
    assert masks["row_rest_mask"] == queries.ALL_BITS ^ bits["specialty"][some_specialty]
    # A kept value without a bit of its own, no kept value, an item's own list: the lists.
    unknown = {**kept, "col_top": [some_state, "Atlantis"]}
    assert queries.crosstab_masks(con, specialty, state, unknown) is None
    assert queries.crosstab_masks(con, specialty, state, {**kept, "col_top": None}) is None
    # An item's own list too (pattern_letters says how its letters are counted).
    mixed = {**kept, "col_top": [next(iter(bits["drug"]))]}
    assert queries.crosstab_masks(con, specialty, drug, mixed) is not None
    # A scalar axis: its kept values' places as bits; two scalars: the lists' path.
    scalar = {**kept, "col_top": ["Pharmaceuticals", "Diagnostic Testing", "Surgery"]}
    category, decision = dimensions.get("category"), dimensions.get("decision")
    masks = queries.crosstab_masks(con, specialty, category, scalar)
    assert masks is not None and masks["col_masks"] == [1, 2, 4] and masks["col_mask"] == 7
    two = {**scalar, "row_top": ["Upheld"]}
    assert queries.crosstab_masks(con, decision, category, two) is None
    # The empty label needs no bit: only empty lists are counted under it.
    empty = {**kept, "col_top": [some_state, state.empty]}
    assert queries.crosstab_masks(con, specialty, state, empty) is not None
    # Unless a list holds it as a value whose bit another value shares.
    shared = queries._bits(con).vstack(
        pl.DataFrame(
            {
                "dimension": ["state"],
                "value": [state.empty],
                "bit": [1 << 63],
                "unique_bit": [False],
            },
            schema=queries._bits(con).schema,
        )
    )
    monkeypatch.setattr(queries, "_bits", lambda _con: shared)
    assert queries.crosstab_masks(con, specialty, state, empty) is None


def test_crosstab_counts_the_letters_of_patterns_by_flag_or_by_bits_within_the_budget(
    con, monkeypatch
):
    specialty, state, drug = (dimensions.get(n) for n in ("specialty", "state", "drug"))
    reason = dimensions.get("reason")
    key_max = int(queries.run_fixed(con, "letter_key_max").item(0, "letter_key_max"))
    # The letter's own fields: its flagged item, whatever the patterns; one run.
    fragments, runs = queries.pattern_letters(con, Filters(), specialty, state, None)
    assert fragments["LETTER_FLAG"] == "first_in_letter" and runs == [{}]
    assert "letter_flag" in fragments["PATTERN_LETTERS"] and fragments["LETTER_SLICE"] == "true"
    # An item's own list, or a search: bits of letter numbers per pattern, one run of them all.
    for filters, row in ((Filters(), drug), (Filters.build(search="tramadol"), specialty)):
        fragments, runs = queries.pattern_letters(con, filters, row, state, 10)
        assert fragments["LETTER_FLAG"] == "null::boolean"
        assert "bitstring_agg" in fragments["PATTERN_LETTERS"]
        assert runs == [{"letter_low": 0, "letter_high": key_max}]
    # Beyond the budget: each letter's patterns where one axis is the letter's own field and
    # the other a list of an item's; else runs over ranges of letter numbers, each within it,
    # at most LETTER_SLICES of them; else (or the patterns unknown: the axes from the lists)
    # the lists count them.
    # (10 groups' bits, and room for 3 letters more: runs of whole letters may be a few over)
    monkeypatch.setattr(queries, "LETTER_BITS_BUDGET", 10 * (key_max + 4) / 8)
    assert queries.pattern_letters(con, Filters(), drug, reason, 10)[1] == runs
    fragments, runs = queries.pattern_letters(con, Filters(), drug, reason, 11)
    assert [(r["letter_low"], r["letter_high"]) for r in runs] == queries.letter_slices(
        con, 11, Filters(), queries.LETTER_SLICES
    )
    assert len(runs) == 2 and runs[0]["letter_low"] == 0 and runs[-1]["letter_high"] == key_max
    assert runs[0]["letter_high"] + 1 == runs[1]["letter_low"]
    assert "between $letter_low and $letter_high" in fragments["LETTER_SLICE"]
    most = 10 * queries.LETTER_SLICES
    assert len(queries.pattern_letters(con, Filters(), drug, reason, most)[1]) == 4
    assert queries.pattern_letters(con, Filters(), drug, reason, most + 1) is None
    # (no kept values given: not by each letter's first items with them, fresh_places)
    for patterns in (11, None):
        fragments, runs = queries.pattern_letters(con, Filters(), drug, state, patterns)
        assert "group by letter_key" in fragments["LETTER_PATTERNS"] and runs == [{}]
        assert fragments["CELL_LETTERS"].startswith("sum(")
    assert queries.pattern_letters(con, Filters(), drug, reason, None) is None


@pytest.mark.parametrize(("rows", "cols"), FRESH_BIT_PAIRS)
@pytest.mark.parametrize("top", [1, 3, 12])
@pytest.mark.parametrize(
    ("chosen", "fresh"),
    [
        ({}, True),
        ({"decision_year": (2015, 2024), "state": ["Texas", "California"]}, True),
        ({"decision": ["Overturned"]}, False),  # an item's field: its first may be left out
        ({"search": "tramadol"}, False),
    ],
    ids=["all", "letters-fields", "item-field", "search"],
)
def test_crosstab_counts_the_letters_of_an_items_field_by_its_first_item_with_each_value(
    con, oracle, monkeypatch, rows, cols, top, chosen, fresh
):
    """An item's own field by a letter's, under filters of the letter's fields only: each
    kept value's letters are its letter's first items with it (<column>_fresh, a list's
    <column>_fresh_bits: sql/_placed_letters_fresh.sql), the "(other)" value's and the empty list's
    each letter once (sql/_rest_letters.sql), with no bits of letter numbers and no patterns
    of letters (where bits of letter numbers do not fit in one run: they go first); else
    bits or patterns of letters. The frame of the lists, and the oracle's letters, each way."""
    own = next(d for d in map(dimensions.get, (rows, cols)) if not d.per_letter)
    axis = "row" if own.name == rows else "col"
    filters = Filters.build(**chosen)
    seen = spy_pattern_letters(monkeypatch)
    for budget in (queries.LETTER_BITS_BUDGET, 0):  # bits in one run where they fit; none
        monkeypatch.setattr(queries, "LETTER_BITS_BUDGET", budget)
        seen.clear()
        by_bits, got, want = both_ways(con, monkeypatch, filters, rows, cols, top)
        assert by_bits and got.equals(want)
        fragments, runs = seen[0]
        by_first = fresh and not budget  # bits of letter numbers in one run go first
        assert (fragments["PATTERN_FRESH"] == "letter_flag") is by_first
        assert "__OWN__" not in str(fragments)
        if by_first:
            assert [set(run) for run in runs] == [{f"{axis}_fresh_masks"}]
            assert fragments["LETTER_SLICE"] == "true"
            assert f"__{axis.upper()}___fresh" in fragments["LETTER_FLAG"]
            assert re.search(rf"where\s+{axis}_rest\s+or", fragments["LETTER_PATTERNS"])
            assert f"${axis}_fresh_masks" in fragments["PLACED_LETTERS"]
        if not filters.search:  # the oracle knows no search
            letters = {
                (r["row_value"], r["col_value"]): r["letters"] for r in got.iter_rows(named=True)
            }
            assert letters == oracle_letters(oracle, filters, rows, cols, top, top)


def test_first_items_count_an_empty_list_at_its_label_kept_or_under_other(con, oracle, monkeypatch):
    """An item's own list by a letter's field: where the empty label is kept, its letters are
    their first items with an empty list (sql/_fresh_empty.sql), else counted with the
    "(other)" value's (sql/_rest_letters.sql); the oracle's letters both ways."""
    monkeypatch.setattr(queries, "LETTER_BITS_BUDGET", 0)  # no bits of letter numbers first
    seen = spy_pattern_letters(monkeypatch)
    kept = set()
    for rows, cols in (("drug", "state"), ("specialty", "guideline_document")):
        own = next(d for d in map(dimensions.get, (rows, cols)) if not d.per_letter)
        axis = "row_value" if own.name == rows else "col_value"
        for top in (1, 2, 3, 12):
            seen.clear()
            frame = queries.crosstab(con, Filters(), rows, cols, top, top)
            [(fragments, _)] = seen
            empty_kept = own.empty in set(frame.get_column(axis))
            assert fragments["PATTERN_FRESH"] == "letter_flag"
            assert ("_fresh[1]" in fragments["LETTER_FLAG"]) is empty_kept
            kept.add(empty_kept)
            letters = {
                (r["row_value"], r["col_value"]): r["letters"] for r in frame.iter_rows(named=True)
            }
            assert letters == oracle_letters(oracle, Filters(), rows, cols, top, top)
    assert kept == {True, False}


def test_first_items_count_letters_only_of_an_items_field_with_its_flags(con, monkeypatch):
    drug, state, category = (dimensions.get(n) for n in ("drug", "state", "category"))
    some_drug = next(iter(queries.value_bits(con)["drug"]))
    placed = {"col_top": [some_drug, drug.empty], "col_masks": [1, 0], "col_mask": 1}
    # The empty label's place takes the lowest bit no kept value has.
    sql, params = queries.fresh_places(con, "col", drug, placed)
    assert "__COL___fresh_bits" in sql and "__COL___fresh[1]" in sql
    assert params == {"col_fresh_masks": [1, 2]}
    sql, params = queries.fresh_places(con, "col", drug, {**placed, "col_top": [some_drug]})
    assert "[1]" not in sql and params == {"col_fresh_masks": [1, 0]}
    scalar = {"row_top": ["Surgery", "Pharmaceuticals"], "row_masks": [1, 2], "row_mask": 3}
    sql, params = queries.fresh_places(con, "row", category, scalar)
    assert "__ROW___fresh" in sql and params == {"row_fresh_masks": [1, 2]}
    # A letter's field; the kept values unknown; the empty label held as a value; no bit free.
    assert queries.fresh_places(con, "row", state, placed) is None
    assert queries.fresh_places(con, "col", drug, None) is None
    assert queries.fresh_places(con, "col", drug, {**placed, "col_masks": [1, 2]}) is None
    full = {**placed, "col_mask": queries.ALL_BITS}
    assert queries.fresh_places(con, "col", drug, full) is None
    # A warehouse built without the flags.
    facts = queries.column_types(con, "item_facts")
    for flag, dim, axis, kept in (
        ("drugs_fresh_bits", drug, "col", placed),
        ("category_fresh", category, "row", scalar),
    ):
        without = {name: kind for name, kind in facts.items() if name != flag}
        monkeypatch.setattr(queries, "column_types", lambda _con, _table, w=without: w)
        assert queries.fresh_places(con, axis, dim, kept) is None
        monkeypatch.setattr(queries, "column_types", lambda _con, _table: facts)
        assert queries.fresh_places(con, axis, dim, kept) is not None


def test_letter_slices_keep_each_run_within_the_budget(con, monkeypatch):
    # Runs of whole letter numbers, together every number once; each run's bits (groups x
    # its letters / 8 bytes) within the budget, even where the letters do not split evenly
    # (a width rounded up passed it by a bit per group).
    numbers = int(queries.run_fixed(con, "letter_key_max").item(0, "letter_key_max")) + 1
    uneven = [k for k in range(2, 12) if numbers % k]
    assert uneven and numbers >= 110  # else one more run is not always enough (below)
    for groups in (3, 11, 64):
        for k in uneven:
            budget = groups * numbers / k / 8
            monkeypatch.setattr(queries, "LETTER_BITS_BUDGET", budget)
            slices = queries.letter_slices(con, groups, None, most=20)
            assert slices is not None and slices[0][0] == 0 and slices[-1][1] == numbers - 1
            assert all(a[1] + 1 == b[0] for a, b in itertools.pairwise(slices))
            assert all(groups * (high - low + 1) / 8 <= budget for low, high in slices)
            assert len(slices) <= k + 1
    monkeypatch.setattr(queries, "LETTER_BITS_BUDGET", 3 * numbers / 4 / 8)
    assert queries.letter_slices(con, 3, None, most=3) is None  # 4 runs needed, 3 allowed
    monkeypatch.setattr(queries, "LETTER_BITS_BUDGET", 3 / 8 / 2)  # not one letter a run
    assert queries.letter_slices(con, 3, None, most=10 * numbers) is None


@pytest.mark.parametrize(("rows", "cols"), ITEM_BIT_PAIRS + SCALAR_BIT_PAIRS)
@pytest.mark.parametrize("runs", [2, 3, 4])
@pytest.mark.parametrize("chosen", [{}, {"decision": ["Overturned"]}], ids=["all", "overturned"])
def test_crosstab_counts_in_runs_over_ranges_of_letters_as_in_one(
    con, oracle, monkeypatch, rows, cols, runs, chosen
):
    """Bits of letter numbers past the budget, with no letter's field to or its letters by:
    several runs of crosstab_bits.sql, each over a range of letter numbers, their cells added
    up (sql/crosstab_cells.sql): the frame of one run and of the lists, the oracle's letters."""
    filters = Filters.build(**chosen)
    one = queries.crosstab(con, filters, rows, cols, 3, 3)
    seen = spy_pattern_letters(monkeypatch)
    patterns = []
    real_sql = queries.run_sql

    def axes_spy(con, name, *args, **kwargs):
        frame = real_sql(con, name, *args, **kwargs)
        if name == "crosstab_axes_bits":
            patterns.append(frame.item(0, "patterns"))
        return frame

    monkeypatch.setattr(queries, "run_sql", axes_spy)
    queries.crosstab(con, filters, rows, cols, 3, 3)
    key_max = int(queries.run_fixed(con, "letter_key_max").item(0, "letter_key_max"))
    # A budget that needs `runs` runs of the bits of these patterns and of the 4 x 4 cells.
    budget = (patterns[-1] + 16) * (key_max + 1) / 8 / (runs - 0.5)
    monkeypatch.setattr(queries, "LETTER_BITS_BUDGET", budget)
    monkeypatch.setattr(queries, "LETTER_SLICES", runs)
    seen.clear()
    got = queries.crosstab(con, filters, rows, cols, 3, 3)
    row, col = dimensions.get(rows), dimensions.get(cols)
    if row.per_letter or col.per_letter:
        [run] = seen[-1][1]  # one run: or'ed per letter, or by first items, instead
        assert "letter_low" not in run
    else:
        assert len(seen[-1][1]) == runs
    assert got.equals(one)
    letters = {(r["row_value"], r["col_value"]): r["letters"] for r in got.iter_rows(named=True)}
    assert letters == oracle_letters(oracle, filters, rows, cols, 3, 3)


@pytest.mark.parametrize(("rows", "cols"), [("category", "decision_year"), ("drug", "specialty")])
def test_crosstab_of_nothing_is_empty_with_its_columns(con, rows, cols):
    # No item under the filters: the axes come back empty (NULL lists) and the cells query
    # still binds them (an integer axis and a text one, a list pair).
    nothing = Filters.build(category=["No such category"])
    frame = queries.crosstab(con, nothing, rows, cols)
    everything = queries.crosstab(con, Filters(), rows, cols)
    assert frame.height == 0 and everything.height > 0
    assert frame.columns == everything.columns


def test_crosstab_other_groups_the_rest(con, oracle):
    """With one value per axis, the "other" row holds every item outside the top value."""
    frame = queries.crosstab(con, Filters(), "category", "decision", 1, 2)
    assert set(frame.get_column("row_value")) == {
        expected.top_value(oracle, dimensions.get("category")),
        OTHER,
    }
    total = frame.get_column("n").sum() + frame.item(0, "left_out")
    assert total == expected.summary(oracle, Filters())["n"]


def test_crosstab_refuses_one_dimension_twice(con):
    with pytest.raises(ValueError, match="two different"):
        queries.crosstab(con, Filters(), "category", "category")
    with pytest.raises(KeyError):
        queries.crosstab(con, Filters(), "category", "nothing")


def test_crosstab_columns_are_identifiers_only():
    with pytest.raises(ValueError, match="plain identifier"):
        queries.load_sql("crosstab", columns={"ROW": "category; drop table x", "COL": "layout"})
    with pytest.raises(ValueError, match="plain identifier"):
        queries.shape_sql("value", "list", "row_source; drop table x", "row_empty")


def test_heatmap_marks_small_samples_and_selects_cells(con):
    frame = queries.crosstab(con, Filters(), "specialty", "category", 5, 5)
    spec = charts.crosstab_heatmap(frame, row_title="Specialty", col_title="Category").to_dict()
    rect, text = spec["layer"]
    assert rect["mark"]["type"] == "rect" and text["mark"]["type"] == "text"
    (pick,) = spec["params"]
    assert pick["name"] == charts.CELL_SELECTION
    assert pick["select"]["fields"] == ["row_value", "col_value"]
    fields = {t["field"] for t in rect["encoding"]["tooltip"]}
    assert {"n", "overturn_rate", "overturn_lower", "overturn_upper"} <= fields
    assert rect["encoding"]["strokeDash"]["field"] == "sample"
    # Axes in the query's order, "other" last.
    want = frame.sort("col_order").get_column("col_value").unique(maintain_order=True).to_list()
    assert rect["encoding"]["x"]["sort"] == want and want[-1] == OTHER
    (rows,) = spec["datasets"].values()
    assert len(rows) == frame.height
    small = [row["cell_label"] for row in rows if row["small_sample"]]
    assert small and all(label.endswith("*") for label in small)
    assert all(f"n={row['n']}" in row["cell_label"] for row in rows)


def test_heatmap_labels_every_column(con):
    # Regression: Vega's overlap test hid two column labels of three at 1400 px (the slanted
    # labels' boxes touch; the labels, a step apart, do not).
    frame = queries.crosstab(con, Filters(), "specialty", "category", 5, 5)
    spec = charts.crosstab_heatmap(frame, row_title="Specialty", col_title="Category").to_dict()
    axis = spec["layer"][0]["encoding"]["x"]["axis"]
    assert axis["labelOverlap"] is False and axis["labelAngle"] == -35


# --- the page ------------------------------------------------------------------------------


def cell_table(at: AppTest, rows: str, cols: str):
    for df in at.dataframe:
        if {rows, cols} <= set(df.value.columns):
            return df.value
    raise AssertionError("no cross-tab table")


def test_explore_page_from_url(app_env, oracle):
    at = run_page("explore", rows="specialty", cols="category", top="5", drug_class="Opioids")
    assert [s.value for s in at.selectbox] == ["specialty", "category", "5"]
    filters = Filters.build(drug_class=["Opioids"])
    want, *_ = oracle_crosstab(oracle, filters, "specialty", "category", 5, 5)
    shown = cell_table(at, "specialty", "category")
    got = {
        (row["specialty"], row["category"]): (int(row["n"]), int(row["overturned"]))
        for _, row in shown.iterrows()
    }
    assert got == want
    assert len(at.get("vega_lite_chart")) == 1
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download CSV (crosstab specialty by category)" in labels
    assert any(c.value == "Filters: Drug class: Opioids" for c in at.caption)


@pytest.mark.parametrize("chosen", [{}, {"decision": "Upheld"}, {"exclude_demo": "true"}])
def test_explore_page_says_how_many_items_no_axis_holds(app_env, oracle, chosen):
    # The page passes its headline's items to the cross-tab: the items left out follow them.
    at = run_page("explore", rows="drug_class", cols="category", top="5", **chosen)
    filters = Filters.build(
        decision=[chosen["decision"]] if "decision" in chosen else [],
        exclude_synthetic="exclude_demo" in chosen,
    )
    *_, left_out = oracle_crosstab(oracle, filters, "drug_class", "category", 5, 5)
    assert left_out > 0  # items without a drug class
    said = f"{ui.plural(left_out, 'item')} in view have no drug class or no request category"
    assert any(said in c.value for c in at.caption), [c.value for c in at.caption]


def test_explore_state_lives_in_the_url(app_env):
    at = run_page("explore")
    assert [s.value for s in at.selectbox] == ["drug_class", "specialty", "12"]
    assert "rows" not in at.query_params  # defaults stay out of the URL
    at.selectbox(key="rows").set_value("decision_year").run()
    at.selectbox(key="top").set_value("20").run()
    assert at.query_params["rows"] == "decision_year"
    assert at.query_params["top"] == "20"
    # The columns cannot repeat the rows.
    assert "decision_year" not in at.selectbox(key="cols").options
    # The URL is the truth: a new address (a link, Back) sets the boxes.
    at.query_params["rows"] = "category"
    at.run()
    assert at.selectbox(key="rows").value == "category"
    assert at.selectbox(key="top").value == "20"


def test_explore_unknown_url_values_are_dropped_with_a_warning(app_env):
    at = run_page("explore", rows="nonsense", cols="category")
    assert at.selectbox(key="rows").value == "drug_class"
    assert any("rows=nonsense" in w.value for w in at.warning)
    at = run_page("explore", rows="category", cols="category")
    assert at.selectbox(key="cols").value == "specialty"
    assert any("cols=category" in w.value for w in at.warning)


def test_every_registry_dimension_is_a_url_filter(app_env, oracle):
    """Dimensions the sidebar does not show (under "More filters") filter from the URL."""
    hidden = [d for d in dimensions.FILTERS if not d.sidebar]
    assert {d.name for d in dimensions.DIMENSIONS} == {d.name for d in dimensions.FILTERS}
    assert hidden
    for dim in hidden:
        if dim.widget == "range":
            low = oracle.execute(
                f"select min({dim.column}) from item_facts where {dim.column} > 0"
            ).fetchone()[0]
            params: dict[str, Any] = {dim.param: [str(low), str(low + 1)]}
            filters = Filters.build(**{dim.name: (low, low + 1)})
        else:
            value = expected.top_value(oracle, dim)
            params = {dim.param: value}
            filters = Filters.build(**{dim.name: [value]})
        at = run_page("letters", **params)
        want = expected.summary(oracle, filters)
        assert 0 < want["n"] < expected.summary(oracle, Filters())["n"], dim.name
        assert any(c.value.startswith("Filters: " + dim.label) for c in at.caption), dim.name
        overview = run_page("overview", **params)
        assert {m.label: m.value for m in overview.metric}["Disputed items"] == f"{want['n']:,}"


def test_a_cell_drill_down_sets_both_filters_on_the_letters_page(app_env, oracle):
    """What a click on a heatmap cell does (the browser test clicks one): the two values wait
    in the session and become the Letters page's filters, other filters kept."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["decision"] = "Upheld"
    at.switch_page("app_pages/letters.py")
    at.run()
    at.session_state[ui.PENDING_FILTERS] = {
        "category": ["Pharmaceuticals"],
        "decision_year": (2017, 2017),
    }
    at.run()
    assert not at.exception
    assert at.multiselect(key="category").value == ["Pharmaceuticals"]
    assert at.multiselect(key="decision").value == ["Upheld"]
    assert at.slider(key="decision_year").value == (2017, 2017)
    filters = Filters.build(
        category=["Pharmaceuticals"], decision_year=(2017, 2017), decision=["Upheld"]
    )
    assert expected.summary(oracle, filters)["n"] > 0
    assert any(c.value == "Filters: " + "; ".join(filters.describe()) for c in at.caption)


@pytest.mark.parametrize("rows,cols", [("drug_class", "specialty"), ("category", "state")])
def test_crosstab_under_a_search_takes_the_headline_items(con, rows, cols):
    # A search's items are counted by the scan, the headline's by the search: the same.
    filters = Filters.build(search="tramadol", decision=["Upheld"])
    frame = queries.crosstab(con, filters, rows, cols, 4, 4)
    items = int(queries.summary(con, filters).item(0, "n"))
    assert items > 0
    assert queries.crosstab(con, filters, rows, cols, 4, 4, 30, items).equals(frame)

"""Queries against a warehouse built by the real ingest (see conftest.py); every expected
number comes from the tests' own SQL over that warehouse (``expected.py``)."""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from statistics import median
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from dashboard import dimensions, queries
from dashboard.dimensions import Dimension
from dashboard.filters import Filters
from etl.warehouse import contract, derived
from tests.browser import hostile
from tests.conftest import assert_bits_hold_their_lists
from tests.dashboard import conftest, expected
from tests.dashboard.expected import wilson

ALL = Filters()
RATE_COLUMNS = [
    "n",
    "overturned",
    "upheld",
    "overturn_rate",
    "overturn_lower",
    "overturn_upper",
    "uphold_rate",
    "uphold_lower",
    "uphold_upper",
    "small_sample",
]
MULTISELECT = [d.name for d in dimensions.FILTERS if d.widget == "multiselect"]

# Filter sets over the generated corpus; each must select some items and leave some out.
FILTER_SETS: dict[str, dict] = {
    "drug_class": {"drug_class": ["Opioids"]},
    "category": {"category": ["Pharmaceuticals"]},
    "decision": {"decision": ["Overturned"]},
    "overturned-injury-range": {"decision": ["Overturned"], "injury_year": (2005, 2012)},
    "reversed-range": {"injury_year": (2012, 2005)},
    "decision-years": {"decision_year": (2016, 2017)},
    "specialty": {"specialty": ["Family Practice"]},
    "two-specialties": {"specialty": ["Family Practice", "Preventive Medicine"]},
    "state": {"state": ["Texas"]},
    "guideline_source": {"guideline_source": ["ODG"]},
    "drugs": {"drug": ["hydrocodone", "tramadol"]},
    "exclude_synthetic": {"exclude_synthetic": True},
    "opioids-real-only": {"drug_class": ["Opioids"], "exclude_synthetic": True},
    "category-state": {"category": ["Surgery", "Injection"], "state": ["California"]},
}


def n_and_overturned(con: duckdb.DuckDBPyConnection, filters: Filters) -> tuple[int, int]:
    row = queries.summary(con, filters).row(0, named=True)
    return row["n"], row["overturned"]


@pytest.fixture(scope="module")
def total(oracle) -> int:
    return expected.summary(oracle, ALL)["n"]


def test_the_warehouse_has_what_the_tests_need(oracle):
    """Real letters and demo letters, several layouts, rejects the ETL emits."""
    counts = expected.summary(oracle, ALL)
    assert counts["n"] > 1000 and 0 < counts["synthetic_items"] < counts["n"]
    layouts = {row[0] for row in oracle.execute("select distinct layout from letters").fetchall()}
    assert len(layouts) >= 3
    reasons = {row[0] for row in oracle.execute("select reason from rejects").fetchall()}
    assert reasons == {"not_a_letter", "unreadable_pdf"}


def test_summary_unfiltered(con, oracle, monkeypatch):
    assert queries.summed_selection(con, ALL) is not None  # no filter: the mart's sums
    _check_summed_summary(con, oracle, ALL, monkeypatch)
    row = queries.summary(con, ALL).row(0, named=True)
    want = expected.summary(oracle, ALL)
    # Independently of item_facts too: the base tables the ETL loaded.
    n, overturned, letters = oracle.execute(
        "select count(*), count(*) filter (where decision = 'Overturned'),"
        " count(distinct letter_id) from decisions"
    ).fetchone()
    assert (want["n"], want["overturned"], want["letters"]) == (n, overturned, letters)
    assert (row["letters"], row["n"], row["overturned"], row["upheld"]) == (
        letters,
        n,
        overturned,
        n - overturned,
    )
    assert (row["synthetic_letters"], row["synthetic_items"]) == (
        want["synthetic_letters"],
        want["synthetic_items"],
    )
    assert row["overturn_rate"] == pytest.approx(overturned / n)
    assert row["uphold_rate"] == pytest.approx((n - overturned) / n)
    lower, upper = wilson(overturned, n)
    assert row["overturn_lower"] == pytest.approx(lower)
    assert row["uphold_upper"] == pytest.approx(1 - lower)
    assert row["small_sample"] is False


@pytest.mark.parametrize("chosen", list(FILTER_SETS.values()), ids=list(FILTER_SETS))
def test_filters_change_numbers_as_sql_says(con, oracle, total, chosen):
    filters = Filters.build(**chosen)
    want = expected.summary(oracle, filters)
    assert 0 < want["n"] < total, "the filter set must select some items, not all"
    row = queries.summary(con, filters).row(0, named=True)
    assert (row["letters"], row["n"], row["overturned"]) == (
        want["letters"],
        want["n"],
        want["overturned"],
    )
    assert queries.items(con, filters).height == want["n"]


@pytest.mark.parametrize("name", MULTISELECT)
def test_every_filter_dimension_filters_its_top_value(con, oracle, total, name):
    dim = dimensions.get(name)
    filters = Filters.build(**{name: [expected.top_value(oracle, dim)]})
    want = expected.summary(oracle, filters)
    assert 0 < want["n"] <= total
    assert n_and_overturned(con, filters) == (want["n"], want["overturned"])


@pytest.mark.parametrize("name", MULTISELECT)
def test_one_value_is_summed_up_from_the_facet_mart_as_sql_counts_it(
    con, oracle, name, monkeypatch
):
    """Under one value of one filter the headline numbers come from facet_counts: for the
    commonest and the rarest value of every filter, the same frame as counted over item_facts
    and the numbers the tests' own SQL gives (letters, demo letters and items too)."""
    dim = dimensions.get(name)
    value = f"unnest({dim.column})" if dim.shape == "list" else dim.column
    held = oracle.execute(
        f"select v from (select {value}::varchar as v from item_facts) where v is not null"
        " group by v order by count(*), v"
    ).fetchall()
    for value in {held[0][0], held[-1][0]}:
        filters = Filters.build(**{name: [value]})
        assert queries.summed_selection(con, filters) == {
            "pair_dimension": name,
            "pair_values": [value],
            "pair_low": None,
            "pair_high": None,
        }
        _check_summed_summary(con, oracle, filters, monkeypatch)


def _check_summed_summary(
    con, oracle, filters: Filters, monkeypatch, summed: str = "summed_selection"
) -> None:
    """The headline numbers from the mart: those the tests' own SQL gives, and the frame
    counted over item_facts (``summed``: the function that says when the mart sums them)."""
    from_mart = queries.summary(con, filters)
    want = expected.summary(oracle, filters)
    assert {k: from_mart.item(0, k) for k in want} == want, filters
    with monkeypatch.context() as patch:
        patch.setattr(queries, summed, lambda *_: None)
        assert_frame_equal(from_mart, queries.summary(con, filters))


@pytest.mark.parametrize(
    "chosen",
    [
        {"decision_year": (2016, 2017)},
        {"injury_year": (2005, 2012)},
        {"priority": ["Regular", "Expedited"]},
    ],
    ids=["decision-years", "injury-years", "priorities"],
)
def test_a_letter_fields_values_are_summed_up_from_the_facet_mart(con, oracle, chosen, monkeypatch):
    """Several values or a range of a letter's own field: its items and its letters add up
    over its values (each has one), so the headline numbers are the mart's sums too."""
    filters = Filters.build(**chosen)
    assert queries.summed_selection(con, filters) is not None
    assert expected.summary(oracle, filters)["n"] > 0
    _check_summed_summary(con, oracle, filters, monkeypatch)


def test_the_items_in_view_are_counted_without_a_scan_when_no_filter_is_set(con, oracle, total):
    assert queries.item_count(con, ALL).item(0, "n") == total
    plan = queries.cursor(con).sql("explain " + queries.load_sql("item_count")).fetchall()
    assert "item_facts" not in plan[0][1]  # a scan names its table; the row count is kept
    filters = Filters.build(decision=["Overturned"])
    assert queries.item_count(con, filters).item(0, "n") == expected.summary(oracle, filters)["n"]


def test_the_facet_mart_serves_one_value_or_a_letter_fields_values_only(con):
    one = queries.summed_selection
    assert one(con, Filters.build(drug_class=["Opioids"])) is not None
    assert one(con, Filters.build(drug_class=["Opioids", "NSAIDs"])) is None
    assert one(con, Filters.build(decision=["Upheld"])) is not None
    assert one(con, Filters.build(decision=["Upheld", "Overturned"])) is None
    assert one(con, Filters.build(drug_class=["Opioids"], decision=["Upheld"])) is None
    assert one(con, Filters.build(decision_year=(2016, 2016))) is not None
    assert one(con, Filters.build(decision_year=(2016, 2017), priority=["Regular"])) is None
    assert one(con, Filters.build(specialty=["Family Practice", "Preventive Medicine"])) is None
    assert one(con, Filters.build(drug=["acetaminophen + hydrocodone"])) is None
    assert one(con, Filters.build(drug_class=["Opioids"], exclude_synthetic=True)) is None
    assert one(con, Filters.build(drug_class=["Opioids"], search="tramadol")) is None


def _dictionary(oracle) -> dict[tuple[str, str], int]:
    """(list column, value) -> bit number, as the build's dictionary (table value_bits) holds."""
    rows = oracle.execute("select list_column, value, bit from value_bits").fetchall()
    assert len(rows) == len({(column, value) for column, value, _ in rows})  # one bit a value
    return {(column, value): bit for column, value, bit in rows}


@pytest.mark.parametrize("narrow", [False, True], ids=["63-own-bits", "3-own-bits"])
def test_every_item_holds_the_bits_of_its_lists(request, narrow):
    """...as one 64-bit word (DuckDB types ``1::ubigint << integer`` HUGEINT: twice the bytes
    read by every filter on the bits), from the dictionary: every value a list holds has a bit,
    the first SHARED_BIT values of a list one each, the commonest first (one batch builds the
    test warehouse), the others the last bit together."""
    if narrow:
        _, oracle = request.getfixturevalue("narrow_bits")
    else:
        oracle = request.getfixturevalue("oracle")
    shared_bit = conftest.NARROW_SHARED_BIT if narrow else derived.SHARED_BIT
    dictionary = _dictionary(oracle)
    for dim in queries.LIST_FILTERS:
        [(kind,)] = oracle.execute(
            "select data_type from information_schema.columns"
            " where table_name = 'item_facts' and column_name = ?",
            [f"{dim.column}_bits"],
        ).fetchall()
        assert kind == "UBIGINT", dim.name
        counts = expected.options(oracle, dim)
        ranked = sorted(counts, key=lambda v: (-counts[v], v))
        got = [dictionary[(dim.column, v)] for v in ranked]
        assert got == [min(i, shared_bit) for i in range(len(ranked))], dim.name
    assert {c for c, _ in dictionary} == {d.column for d in queries.LIST_FILTERS}
    assert_bits_hold_their_lists(oracle, shared_bit)


def _uses_bits(con, filters: Filters, dim: Dimension) -> bool:
    params = queries.bind_value_bits(con, filters.params())
    return f"{dim.column}_bits &" in queries.filter_predicate(params)


def test_a_list_value_with_a_bit_of_its_own_is_filtered_by_it(narrow_bits):
    """A value whose bit no other value of its list shares is one test of the item's bits;
    a value sharing its bit is a test of the list; both, and the two mixed in one filter,
    count as the tests' SQL does."""
    con, oracle = narrow_bits
    bits = queries.value_bits(con)
    dictionary = _dictionary(oracle)
    seen = Counter()
    for dim in queries.LIST_FILTERS:
        held = [
            v
            for (v,) in oracle.execute(
                f"select distinct unnest({dim.column}) as v from item_facts order by v"
            ).fetchall()
        ]
        shared = Counter(dictionary[(dim.column, v)] for v in held)
        for value in held[:4] + held[-4:]:
            own = shared[dictionary[(dim.column, value)]] == 1
            assert (value in bits.get(dim.name, {})) is own, (dim.name, value)
            filters = Filters.build(**{dim.name: [value]})
            assert _uses_bits(con, filters, dim) is own
            want = expected.summary(oracle, filters)
            assert n_and_overturned(con, filters) == (want["n"], want["overturned"])
            seen[own] += 1
        mixed = [v for v in held if shared[dictionary[(dim.column, v)]] == 1][:1] + [
            v for v in held if shared[dictionary[(dim.column, v)]] > 1
        ][:2]
        if len(mixed) == 3:
            filters = Filters.build(**{dim.name: mixed})
            assert _uses_bits(con, filters, dim)
            want = expected.summary(oracle, filters)
            assert n_and_overturned(con, filters) == (want["n"], want["overturned"])
            seen["mixed"] += 1
    assert seen[True] and seen[False] and seen["mixed"], seen


def test_a_warehouse_without_the_dictionary_of_bits_is_read_by_its_lists(
    con, warehouse_file, oracle, tmp_path
):
    """A warehouse built before the dictionary (its bits another function's): no value is
    filtered or counted by its bits, and the counts are the lists'."""
    older = tmp_path / "older.duckdb"
    shutil.copyfile(warehouse_file, older)
    with duckdb.connect(str(older)) as writer:
        writer.execute("drop table value_bits")
        writer.execute("update item_facts set drugs_bits = 0, reviewer_specialties_bits = 0")
    session = queries.connect(older)
    try:
        assert queries.value_bits(session) == {}
        dim = dimensions.get("specialty")
        filters = Filters.build(specialty=[expected.top_value(oracle, dim)])
        assert not _uses_bits(session, filters, dim)
        want = expected.summary(oracle, filters)
        assert n_and_overturned(session, filters) == (want["n"], want["overturned"])
        under = Filters.build(decision=["Upheld"], category=["Pharmacy"])
        options = queries.filter_options(session, under)
        assert_frame_equal(options, queries.filter_options(con, under))
    finally:
        session.close()


LIST_FILTERS = [d.name for d in dimensions.FILTERS if d.shape == "list"]


@pytest.mark.parametrize("name", LIST_FILTERS)
@pytest.mark.parametrize("how_many", [1, 2, queries.LIST_FILTER_TERMS + 1])
def test_a_list_filter_of_few_or_many_values_counts_as_sql_says(con, oracle, name, how_many):
    """A list filter is a list_contains per value up to LIST_FILTER_TERMS values, one
    list_filter beyond: both forms select the items whose list holds any value."""
    dim = dimensions.get(name)
    held = [
        v
        for (v,) in oracle.execute(
            f"select unnest({dim.column}) as v from item_facts group by v order by count(*), v"
        ).fetchall()
    ]
    # The rarest values first, then values no item holds: the count is not the whole slice.
    values = (held + [f"not held {i}" for i in range(how_many)])[:how_many]
    filters = Filters.build(**{name: values})
    form = "list_filter(" if how_many > queries.LIST_FILTER_TERMS else "list_contains("
    assert form in queries.filter_predicate(filters.params())
    want = expected.summary(oracle, filters)
    assert n_and_overturned(con, filters) == (want["n"], want["overturned"])
    assert queries.summary(con, filters).item(0, "letters") == want["letters"]


@pytest.mark.parametrize("name", MULTISELECT)
@pytest.mark.parametrize(
    "payload",
    [
        "' or 1=1 --",
        "Opioids' or '1'='1",
        "x'); drop table item_facts; --",
        "$filter_category",
        "%",
        "\\",
    ],
)
def test_sql_injection_in_every_filter_returns_nothing(con, total, name, payload):
    filters = Filters.build(**{name: [payload]})
    assert n_and_overturned(con, filters) == (0, 0)
    assert queries.rates_by(con, filters, "category").height == 0
    assert queries.items(con, filters).height == 0
    assert queries.summary(con, ALL).item(0, "n") == total  # and the warehouse is intact


def _search(oracle, text: str, filters: Filters = ALL) -> set[tuple[str, int]]:
    """Items whose request or rationale contains ``text`` (Python's ``in``, case-folded)."""
    predicate, params = expected.where(filters)
    items = oracle.execute(
        "select letter_id, item_no, facts.request, rationale"
        f" from (select * from item_facts where {predicate}) as facts"
        " join decisions using (letter_id, item_no)",
        params,
    ).fetchall()
    needle = text.strip().lower()
    return {
        (letter_id, item_no)
        for letter_id, item_no, request, rationale in items
        if needle in (request or "").lower() or needle in (rationale or "").lower()
    }


@pytest.mark.parametrize(
    "payload", ["' or 1=1 --", "%", "_", "\\", "'; drop table decisions; --", "50%", "$pattern"]
)
def test_search_text_is_bound_and_literal(con, oracle, payload):
    want = _search(oracle, payload)
    hits = queries.search_items(con, ALL, payload, None)
    assert set(hits.select("letter_id", "item_no").iter_rows()) == want
    letters = {letter for letter, _ in want}
    assert queries.search_count(con, ALL, payload).row(0) == (len(want), len(letters))


def test_search_requests_and_rationales(con, oracle, total):
    want = _search(oracle, "norco")
    assert want
    hits = queries.search_items(con, ALL, "NORCO")
    assert set(hits.select("letter_id", "item_no").iter_rows()) == want
    letters = {letter for letter, _ in want}
    assert queries.search_count(con, ALL, "norco").row(0) == (len(want), len(letters))
    upheld = Filters.build(decision=["Upheld"])
    assert queries.search_items(con, upheld, "norco").height == len(
        _search(oracle, "norco", upheld)
    )
    # Markup in a rationale is found as text.
    markup = queries.search_items(con, ALL, "<script>")
    assert set(markup.get_column("case_number")) == {hostile.MARKUP_CASE}
    # Without text: the filtered items, first SCREEN_ROWS of them.
    assert queries.search_items(con, ALL, None).height == min(total, queries.SCREEN_ROWS)
    assert queries.search_items(con, ALL, None, None).height == total


@pytest.mark.parametrize(
    "chosen",
    [{}, {"decision": ["Overturned"]}, FILTER_SETS["overturned-injury-range"]],
    ids=["all", "overturned", "overturned-injury-range"],
)
def test_the_items_table_is_the_newest_items_within_the_latest_year_or_not(
    con, oracle, chosen, monkeypatch
):
    """The table without search text is read from the latest decision year first, from every
    year when that holds fewer rows than asked (or when the marts say it does: one scan, not
    two): both the newest of the whole slice."""
    filters = Filters.build(**chosen)
    scans: list[Any] = []
    filtered = queries._filtered

    def counted(*args: Any, **kwargs: Any) -> pl.DataFrame:
        scans.append(kwargs["from_year"])
        return filtered(*args, **kwargs)

    monkeypatch.setattr(queries, "_filtered", counted)
    facts = expected.rows(oracle, filters, "letter_id, item_no, decision_date, decision_year")
    latest = max(year for *_, year in facts if year is not None)
    in_latest = sum(1 for *_, year in facts if year == latest)
    assert 0 < in_latest < len(facts) - 5
    # Newest first, undated last, then by letter and item.
    facts.sort(key=lambda t: (t[2] is None, -(t[2].toordinal()) if t[2] else 0, t[0], t[1]))
    for limit in (min(7, in_latest), in_latest + 5):
        scans.clear()
        got = queries.search_items(con, filters, None, limit)
        assert list(got.select("letter_id", "item_no").iter_rows()) == [
            (letter, item) for letter, item, *_ in facts[:limit]
        ]
        # The marts' bound of these filter sets is exact: the warehouse's latest year is
        # scanned only when it holds enough of the slice (it may hold none of it).
        newest = max(y for (y,) in expected.rows(oracle, Filters(), "decision_year") if y)
        enough = sum(1 for *_, year in facts if year == newest) >= limit
        assert scans == ([newest] if enough else [None])


@pytest.mark.parametrize(
    ("k", "n"), [(9, 23), (0, 5), (5, 5), (1, 3), (2, 6), (300, 1000), (1, 100_000)]
)
def test_wilson_macro_matches_formula(con, k, n):
    row = queries.cursor(con).execute("select wilson_low(?, ?), wilson_high(?, ?)", [k, n, k, n])
    lower, upper = row.fetchall()[0]
    want_lower, want_upper = wilson(k, n)
    assert lower == pytest.approx(want_lower, abs=1e-12)
    assert upper == pytest.approx(want_upper, abs=1e-12)


def test_wilson_macro_matches_statsmodels(con):
    stats = pytest.importorskip("statsmodels.stats.proportion")
    cur = queries.cursor(con)
    for k, n in [(9, 23), (0, 5), (5, 5), (300, 1000)]:
        lower, upper = cur.execute(
            "select wilson_low(?, ?), wilson_high(?, ?)", [k, n, k, n]
        ).fetchall()[0]
        want = stats.proportion_confint(k, n, alpha=0.05, method="wilson")
        assert (lower, upper) == pytest.approx(want, abs=1e-12)


def test_wilson_known_value(con):
    # 1 of 3: the textbook 95% Wilson interval is 0.0615 – 0.7923; none for n = 0.
    cur = queries.cursor(con)
    lower, upper = cur.execute("select wilson_low(1, 3), wilson_high(1, 3)").fetchall()[0]
    assert (round(lower, 4), round(upper, 4)) == (0.0615, 0.7923)
    assert cur.execute("select wilson_low(0, 0), wilson_high(0, 0)").fetchall() == [(None, None)]


def test_wilson_helper_is_sane():
    assert math.isclose(expected.Z, 1.959963984540054, abs_tol=1e-15)
    lower, upper = wilson(0, 10)
    assert lower == pytest.approx(0, abs=1e-15) and math.isclose(upper, 0.2775327998628892)


def _check_rates(frame: pl.DataFrame, dim: Dimension, want: list[tuple], small_n: int = 30):
    assert frame.columns == [dim.name, "letters", *RATE_COLUMNS]
    got = [(row[dim.name], row["n"], row["overturned"]) for row in frame.iter_rows(named=True)]
    assert got == want
    for row in frame.iter_rows(named=True):
        k, n = row["overturned"], row["n"]
        lower, upper = wilson(k, n)
        assert row["upheld"] == n - k
        assert row["overturn_rate"] == pytest.approx(k / n)
        assert row["uphold_rate"] == pytest.approx((n - k) / n)
        assert row["overturn_lower"] == pytest.approx(lower)
        assert row["overturn_upper"] == pytest.approx(upper)
        assert row["uphold_lower"] == pytest.approx(1 - upper)
        assert row["uphold_upper"] == pytest.approx(1 - lower)
        assert row["small_sample"] is (n < small_n)


LIST_TABLES = [("guideline_source", "guideline_document"), ("reason",), ("body_region", "state")]


@pytest.mark.parametrize("names", LIST_TABLES, ids=["+".join(n) for n in LIST_TABLES])
@pytest.mark.parametrize("chosen", ["guideline_source", "drugs", "category-state", "two lists"])
def test_list_rate_tables_are_counted_from_the_patterns_of_their_bits(
    con, oracle, narrow_bits, names, chosen, monkeypatch, ran
):
    """Rate tables of lists whose every value has a bit of its own, scanned, count the patterns
    of the items' bits (sql/rates_bits.sql; the letters as bits, sized by the build's count of
    each list's patterns): each value's items, overturned and letters as the oracle gives them,
    the empty lists under their label; the frame the lists give, here and on the warehouse
    whose values share a bit (which counts its lists)."""
    filters = _filters_named(oracle, chosen)
    dims = [dimensions.get(name) for name in names]
    assert queries.pattern_bound(con, dims) is not None
    assert queries.pattern_bound(narrow_bits[0], dims) is None
    by_bits = queries._scanned_rates(con, filters, dims, 30)
    assert ran[-1] == "rates_bits" and "rates_sets" not in ran
    for dim in dims:
        frame = queries.rates_from(by_bits, dim.name)
        _check_rates(frame, dim, expected.rates(oracle, filters, dim))
        letters = dict(frame.select(dim.name, "letters").iter_rows())
        assert letters == expected.letters(oracle, filters, dim), dim.name
    from_lists = queries._scanned_rates(narrow_bits[0], filters, dims, 30)
    assert ran[-1] == "rates_sets"
    monkeypatch.setattr(queries, "pattern_bound", lambda con, dims: None)
    here = queries._scanned_rates(con, filters, dims, 30)
    assert ran[-1] == "rates_sets"
    for name in names:  # the lists' frame has a row of no value per set besides
        mine = queries.rates_from(by_bits, name)
        assert_frame_equal(mine, queries.rates_from(from_lists, name))
        assert_frame_equal(mine, queries.rates_from(here, name))


def test_the_build_counts_the_patterns_of_each_lists_bits(con, oracle):
    """The build's count of each list column's patterns of bits (meta list_patterns), which
    sizes the letters' bits of rates_bits.sql: the distinct <column>_bits of the items."""
    entry = oracle.execute("select value from meta where key = ?", [derived.LIST_PATTERNS])
    counted = json.loads(entry.fetchone()[0])
    columns = sorted({d.column for d in dimensions.FILTERS if d.shape == "list"})
    assert sorted(counted) == columns
    for column in columns:
        [(patterns,)] = oracle.execute(
            f"select count(distinct {column}_bits) from item_facts"
        ).fetchall()
        assert counted[column] == patterns > 1, column
    dims = [dimensions.get("guideline_source"), dimensions.get("reason")]
    assert queries.pattern_bound(con, dims) == counted["guideline_sources"] + counted["reasons"]


def test_list_rate_tables_by_bits_keep_within_the_letters_budget(con, monkeypatch, ran):
    """rates_bits.sql holds the letters' bits of every pattern the build counted and of every
    value and empty list at once: past the budget for those, the lists count."""
    dims = [dimensions.get("guideline_source"), dimensions.get("guideline_document")]
    key_max = int(queries.run_fixed(con, "letter_key_max").item(0, "letter_key_max"))
    bound = queries.pattern_bound(con, dims)
    assert bound is not None
    groups = bound + sum(queries.value_count(con, d.name) + 1 for d in dims)
    for budget, way in [(groups, "rates_bits"), (groups - 1, "rates_sets")]:
        monkeypatch.setattr(queries, "LETTER_BITS_BUDGET", budget * (key_max + 1) / 8)
        ran.clear()
        queries._scanned_rates(con, Filters(), dims, 30)
        assert ran[-1] == way, budget


def test_a_list_without_a_label_for_its_empty_lists_counts_them_nowhere(con):
    """A list dimension whose empty lists have no label (none in today's registry) counts its
    values by their bits as before, and its empty lists under no row."""
    dim = dimensions.get("reason")
    filters = Filters.build(**FILTER_SETS["drugs"])
    labelled = queries.rates_from(queries._rates_by_bits(con, filters, [dim], 30), dim.name)
    unlabelled = dataclasses.replace(dim, empty=None)
    bare = queries._rates_by_bits(con, filters, [unlabelled], 30)
    assert bare is not None
    got = queries.rates_from(bare, dim.name)
    assert dim.empty in set(labelled.get_column(dim.name))
    assert_frame_equal(got, labelled.filter(pl.col(dim.name) != dim.empty))


def test_a_warehouse_before_the_count_of_patterns_counts_its_lists(warehouse_file, tmp_path):
    """A warehouse built before the build counted each list's patterns (no meta
    list_patterns) has no bound on them: its list rate tables count the lists."""
    old = tmp_path / "old.duckdb"
    shutil.copyfile(warehouse_file, old)
    writer = duckdb.connect(str(old))
    writer.execute("delete from meta where key = ?", [derived.LIST_PATTERNS])
    writer.close()
    dims = [dimensions.get("guideline_source"), dimensions.get("guideline_document")]
    session, new = queries.connect(old), queries.connect(warehouse_file)
    try:
        assert queries.pattern_bound(session, dims) is None
        assert queries.pattern_bound(new, dims) is not None
        filters = Filters.build(**FILTER_SETS["drugs"])
        got = queries._scanned_rates(session, filters, dims, 30)
        want = queries._scanned_rates(new, filters, dims, 30)
        for dim in dims:
            assert_frame_equal(
                queries.rates_from(got, dim.name), queries.rates_from(want, dim.name)
            )
    finally:
        session.close()
        new.close()


@pytest.mark.parametrize("name", [d.name for d in dimensions.DIMENSIONS])
@pytest.mark.parametrize("chosen", [{}, *FILTER_SETS.values()], ids=["all", *FILTER_SETS])
def test_rates_by_every_dimension_equal_sql(con, oracle, name, chosen):
    """The registry's generic rate query, for every dimension and filter set, row by row."""
    dim = dimensions.get(name)
    filters = Filters.build(**chosen)
    frame = queries.rates_by(con, filters, name)
    _check_rates(frame, dim, expected.rates(oracle, filters, dim))
    assert dict(frame.select(name, "letters").iter_rows()) == expected.letters(oracle, filters, dim)


LETTER_FIELD_SELECTIONS = {k: FILTER_SETS[k] for k in ("specialty", "decision-years", "state")}
# One value of an item's own field: a list's and a scalar's.
ITEM_FIELD_SELECTIONS = {
    "drug": {"drug": ["hydrocodone"]},
    "guideline_source": FILTER_SETS["guideline_source"],
    "category": FILTER_SETS["category"],
}


@pytest.fixture
def ran(monkeypatch) -> list[str]:
    """The names of the SQL files the dashboard's queries run, in order."""
    names: list[str] = []
    real = queries.run_sql

    def spied(session, name, *args, **kwargs):
        names.append(name)
        return real(session, name, *args, **kwargs)

    monkeypatch.setattr(queries, "run_sql", spied)
    return names


def _check_summed(con, oracle, ran, filters, fields, scanned) -> None:
    """The rate tables of ``fields`` are the marts' sums (``rates_pairs``), letters included,
    with the rows and letters the items give; those of ``scanned`` a scan; and both together
    in one frame, per shape, as each alone."""
    for dim in [*fields, *scanned]:
        ran.clear()
        frame = queries.rates_by(con, filters, dim.name)
        from_mart = dim in fields
        assert ("rates_pairs" in ran) is from_mart, dim.name
        assert (f"rates_{dim.shape}" in ran) is not from_mart, dim.name
        _check_rates(frame, dim, expected.rates(oracle, filters, dim))
        letters = dict(frame.select(dim.name, "letters").iter_rows())
        assert letters == expected.letters(oracle, filters, dim), dim.name
    for shape in ("scalar", "list"):
        summed = tuple(d.name for d in fields if d.shape == shape)
        counted = tuple(d.name for d in scanned if d.shape == shape)
        for names in (summed, (*summed[:2], *counted[:2])):
            if not names:
                continue
            ran.clear()
            together = queries.rates_together(con, filters, names)
            assert ran.count("rates_pairs") == (1 if set(names) & set(summed) else 0), names
            assert ran.count("rates_sets") == (1 if set(names) & set(counted) else 0), names
            for name in names:
                alone = queries.rates_by(con, filters, name)
                assert queries.rates_from(together, name).equals(alone), name


@pytest.mark.parametrize(
    "chosen", LETTER_FIELD_SELECTIONS.values(), ids=list(LETTER_FIELD_SELECTIONS)
)
def test_rates_under_one_letter_field_are_sums_of_the_pairs_mart(con, oracle, chosen, ran):
    """Under one selection of a letter's own field, the rate tables of every filter, a
    letter's field or an item's own, and of the selected one itself (a list's: the values
    listed with the selected one), are the marts' sums, letters included (not a scan of the
    items): the same rows as the items give."""
    filters = Filters.build(**chosen)
    _check_summed(con, oracle, ran, filters, list(dimensions.FILTERS), [])


def test_with_no_filter_the_tables_are_sums_of_the_pairs_mart(con, oracle, ran):
    """With no filter, every rate table (letters included) and the guideline agreement are the
    marts' sums over every value of a letter's own field that every item holds a value of
    (each item and each letter under exactly one of them): the rows the items give."""
    paired = set(queries.run_fixed(con, "facet_dimensions")["dimension"])
    one = queries._every_item(con, Filters(), paired)
    assert one is not None
    field = dimensions.get(one["pair_dimension"])
    assert field.per_letter and field.shape == "scalar"
    held = dict(queries.run_fixed(con, "facet_items", {"dimension": field.name}).iter_rows())
    assert sorted(one["pair_values"]) == sorted(held)
    assert sum(held.values()) == oracle.execute("select count(*) from item_facts").fetchone()[0]
    _check_summed(con, oracle, ran, Filters(), list(dimensions.FILTERS), [])
    ran.clear()
    frame = queries.source_concordance(con, Filters())
    assert "source_concordance_pairs" in ran and "source_concordance" not in ran
    assert frame.equals(queries._filtered(con, "source_concordance", Filters(), 30))
    assert queries._every_item(con, Filters.build(category=["Surgery"]), paired) is None


def test_no_field_held_by_every_item_means_a_scan(con, ran, monkeypatch):
    """When no letter's own field in the mart holds a value for every item (here: one item more
    than the mart counts), no filter is no selection: the tables are counted from the items."""
    real = queries.run_fixed

    def one_more(session, name, params=None):
        frame = real(session, name, params)
        return frame.with_columns(pl.col("n") + 1) if name == "item_count" else frame

    monkeypatch.setattr(queries, "run_fixed", one_more)
    paired = set(real(con, "facet_dimensions")["dimension"])
    assert queries._every_item(con, Filters(), paired) is None
    ran.clear()
    queries.rates_by(con, Filters(), "specialty")
    assert "rates_pairs" not in ran and {"rates_list", "rates_bits"} & set(ran)


@pytest.mark.parametrize("chosen", ITEM_FIELD_SELECTIONS.values(), ids=list(ITEM_FIELD_SELECTIONS))
def test_rates_under_one_value_of_an_items_field_are_sums_of_the_pairs_mart(
    con, oracle, chosen, ran
):
    """Under one value of an item's own field, the rate tables of every filter, a letter's
    field or an item's own, and of the selected one itself, are the marts' sums, letters
    included: the same rows as the items give. Two values: every table is a scan (the
    letters of two values would count a letter holding both twice)."""
    filters = Filters.build(**chosen)
    ((selected, values),) = chosen.items()
    _check_summed(con, oracle, ran, filters, list(dimensions.FILTERS), [])
    other = {"drug": "tramadol", "guideline_source": "MTUS", "category": "Surgery"}[selected]
    two = {selected: [values[0], other]}
    ran.clear()
    queries.rates_by(con, Filters.build(**two), "decision_year")
    assert "rates_pairs" not in ran and "rates_scalar" in ran


def _pairs_of_values(oracle, a: Dimension, b: Dimension) -> list[Filters]:
    """One value of ``a`` with one of ``b``, as the items hold them together: the commonest two
    pairs and the rarest (fewest items, then first by value); then two values no item holds
    together, if the warehouse has such."""

    def values(dim: Dimension, name: str) -> tuple[str, str]:
        if dim.shape == "list":
            return f", unnest({dim.column}) as {name}({name})", name
        return "", f"{dim.column}::varchar"

    a_from, a_value = values(a, "a_value")
    b_from, b_value = values(b, "b_value")
    counted = oracle.execute(
        f"select {a_value}, {b_value}, count(*) as n from item_facts{a_from}{b_from}"
        f" where {a_value} is not null and {b_value} is not null group by all"
        " order by n desc, 1, 2"
    ).fetchall()
    assert len(counted) >= 3
    rarest = min(counted, key=lambda row: (row[2], row[0], row[1]))
    chosen = [(x, y) for x, y, _ in [*counted[:2], rarest]]
    # and a value of each that no item holds together (the sidebar offers it, with 0 items)
    held = {(x, y) for x, y, _ in counted}
    apart = sorted((x, y) for x in {row[0] for row in counted} for y in {row[1] for row in counted})
    chosen += [pair for pair in apart if pair not in held][:1]
    return [Filters.build(**{a.name: [x], b.name: [y]}) for x, y in chosen]


PAIR_OF_FILTERS = dimensions.SELECTION_PAIRS[0]


def test_rates_under_two_filters_selected_together_are_sums_of_the_pairs_mart(con, oracle, ran):
    """Under one value of each of two filters the mart counts together (the registry's
    SELECTION_PAIRS), every filter's rate table, the two selected ones' too, is the mart's
    sums with its letters: the rows and letters the items give; and the Guidelines page's
    agreement, the table counted from the items. Two values of one, a third filter or a
    search: scanned."""
    a, b = PAIR_OF_FILTERS
    pairs = _pairs_of_values(oracle, a, b)
    assert len(pairs) == 4 and expected.summary(oracle, pairs[-1])["n"] == 0
    for filters in pairs:
        assert queries._two_selections(con, filters) is not None
        _check_summed(con, oracle, ran, filters, list(dimensions.FILTERS), [])
        ran.clear()  # and the Guidelines page's agreement
        frame = queries.source_concordance(con, filters)
        assert "source_concordance_pairs" in ran and "source_concordance" not in ran
        assert frame.equals(queries._filtered(con, "source_concordance", filters, 30))
    filters = _pairs_of_values(oracle, a, b)[0]
    (x,), (y,) = filters.get(a.name), filters.get(b.name)
    other = oracle.execute(
        f"select distinct v from item_facts, unnest({a.column}) as t(v) where v <> ? limit 1"
        if a.shape == "list"
        else f"select distinct {a.column} from item_facts where {a.column} <> ? limit 1",
        [x],
    ).fetchone()[0]
    for unsummed in (
        Filters.build(**{a.name: [x, other], b.name: [y]}),
        Filters.build(**{a.name: [x], b.name: [y], "decision": ["Upheld"]}),
        Filters.build(**{a.name: [x], b.name: [y]}, search="pain"),
        Filters.build(**{a.name: [x], b.name: [y]}, exclude_synthetic=True),
    ):
        assert queries._two_selections(con, unsummed) is None
        assert queries.summable(con, unsummed, [dimensions.get("category")])[1] == []


def test_the_options_under_two_filters_selected_together_are_the_pairs_marts(con, oracle):
    """The sidebar's options under one value of each of two filters the mart counts together:
    every other filter's from the mart, the same frame as counted from the items."""
    a, b = PAIR_OF_FILTERS
    real = queries._two_selections
    for filters in _pairs_of_values(oracle, a, b):
        asked: list[bool] = []

        def spied(session, under, asked=asked):
            found = real(session, under)
            asked.append(found is not None)
            return found

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(queries, "_two_selections", spied)
            from_mart = queries.filter_options(con, filters)
        assert any(asked)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(queries, "_two_selections", lambda *_: None)
            assert_frame_equal(from_mart, queries.filter_options(con, filters))
        for dim in dimensions.FILTERS:  # and as the tests' own SQL counts them
            if dim.name in (a.name, b.name) or dim.shape != "scalar":
                continue
            under = from_mart.filter((pl.col("dimension") == dim.name) & (pl.col("n") > 0))
            want = Counter(
                str(v) for (v,) in expected.rows(oracle, filters, dim.column) if v is not None
            )
            assert dict(under.select("value", "n").iter_rows()) == dict(want), dim.name


@pytest.mark.parametrize(
    "lost", [("facet_pairs", "reason_pairs"), ("reason_pairs",)], ids=["both marts", "reasons"]
)
def test_a_mart_before_a_pair_of_filters_was_named_scans_under_both(
    con, oracle, warehouse_file, tmp_path, ran, lost
):
    """A warehouse whose marts hold no rows of a pair of filters (built before the registry
    named it), or whose reason_pairs alone holds none: those selections are scanned, with the
    same numbers."""
    a, b = PAIR_OF_FILTERS
    older = tmp_path / "older.duckdb"
    shutil.copyfile(warehouse_file, older)
    with duckdb.connect(str(older)) as writer:
        for mart in lost:
            writer.execute(f"delete from {mart} where dimension = ?", [dimensions.pair_name(a, b)])
    session = queries.connect(older)
    try:
        filters = _pairs_of_values(oracle, a, b)[0]
        assert (queries._two_selections(session, filters) is None) == ("facet_pairs" in lost)
        assert queries._two_selections(con, filters) is not None
        for name in ("category", "drug", a.name):
            assert_frame_equal(
                queries.rates_by(session, filters, name), queries.rates_by(con, filters, name)
            )
        for query in (queries.summary, queries.filter_options, queries.source_concordance):
            assert_frame_equal(query(session, filters), query(con, filters))
        by = ("category", "drug_class")
        ran.clear()
        scanned = queries.reasons_together(session, filters, by, 4)
        assert ran.count("reason_by") == 1 and ran.count("reason_by_pairs") == 0
        assert_frame_equal(scanned, queries.reasons_together(con, filters, by, 4))
    finally:
        session.close()


# One selection the pairs mart sums beside one value of the decision.
SPLIT_SELECTIONS = {
    "overturned-injury-range": FILTER_SETS["overturned-injury-range"],
    "upheld-specialty": {**FILTER_SETS["specialty"], "decision": ["Upheld"]},
    "overturned-drug": {"drug": ["hydrocodone"], "decision": ["Overturned"]},
    "upheld-category": {**FILTER_SETS["category"], "decision": ["Upheld"]},
    "overturned-decision-years": {**FILTER_SETS["decision-years"], "decision": ["Overturned"]},
}


@pytest.mark.parametrize("chosen", SPLIT_SELECTIONS.values(), ids=list(SPLIT_SELECTIONS))
def test_rates_under_one_selection_and_a_decision_are_sums_of_the_pairs_mart(
    con, oracle, chosen, ran
):
    """Beside one value of the decision, the rate tables under one selection the pairs mart
    sums are its sums too: that decision's items of each pair and their letters of it (a
    letter field's, an item field's, the selected one's own, the decision's): the rows and
    letters the items give. Both decisions: scanned."""
    filters = Filters.build(**chosen)
    _check_summed(con, oracle, ran, filters, list(dimensions.FILTERS), [])
    both = Filters.build(**{**chosen, "decision": ["Upheld", "Overturned"]})
    ran.clear()
    queries.rates_by(con, both, "category")
    assert "rates_pairs" not in ran and "rates_scalar" in ran


def test_a_mart_before_the_letters_of_each_decision_scans_under_a_decision(
    warehouse_file, tmp_path, oracle, ran
):
    """A warehouse whose facet_pairs holds no letters of each outcome: the rate tables of one
    selection beside a decision are counted from the items, rightly."""
    old = tmp_path / "old.duckdb"
    shutil.copyfile(warehouse_file, old)
    writer = duckdb.connect(str(old))
    for column in queries.SPLIT_LETTERS:
        writer.execute(f"alter table facet_pairs drop column {column}")
    writer.close()
    con = queries.connect(str(old))
    try:
        filters = Filters.build(**SPLIT_SELECTIONS["overturned-injury-range"])
        for dim in (dimensions.get("category"), dimensions.get("drug")):
            ran.clear()
            frame = queries.rates_by(con, filters, dim.name)
            assert "rates_pairs" not in ran, dim.name
            _check_rates(frame, dim, expected.rates(oracle, filters, dim))
            letters = dict(frame.select(dim.name, "letters").iter_rows())
            assert letters == expected.letters(oracle, filters, dim), dim.name
    finally:
        con.close()


def test_a_warehouse_built_before_the_flags_scans_those_tables(
    warehouse_file, tmp_path, oracle, ran
):
    """A warehouse whose build kept no ``<column>_fresh`` flags (its mart holds no letters for
    a letter's field with an item's own): such tables are counted from the items, rightly;
    those of two letter's fields still come from the mart."""
    old = tmp_path / "old.duckdb"
    shutil.copyfile(warehouse_file, old)
    writer = duckdb.connect(str(old))
    own = [d for d in dimensions.FILTERS if not d.per_letter]
    for column in dict.fromkeys(d.column for d in own):
        writer.execute(f"alter table item_facts drop column {column}_fresh")
    names = [d.name for d in own]
    writer.execute(
        "update facet_pairs set letters = null where (dimension in (select unnest($own)))"
        " != (other in (select unnest($own)))",
        {"own": names},
    )
    writer.close()
    expected_tables = {"category": False, "guideline_source": False, "state": True}
    _check_old_mart(old, oracle, ran, FILTER_SETS["specialty"], expected_tables)


def _check_old_mart(old, oracle, ran, chosen: dict, summed: dict[str, bool]) -> None:
    """Under ``chosen`` in the warehouse ``old``, each rate table of ``summed`` comes from the
    mart (True) or a scan (False), with the rows and letters the items give."""
    session = queries.connect(old)
    try:
        filters = Filters.build(**chosen)
        for name, from_mart in summed.items():
            ran.clear()
            dim = dimensions.get(name)
            frame = queries.rates_by(session, filters, name)
            assert ("rates_pairs" in ran) is from_mart, name
            _check_rates(frame, dim, expected.rates(oracle, filters, dim))
            letters = dict(frame.select(name, "letters").iter_rows())
            assert letters == expected.letters(oracle, filters, dim), name
    finally:
        session.close()


def test_a_mart_without_the_letters_of_two_items_fields_scans_those_tables(
    warehouse_file, tmp_path, oracle, ran
):
    """A mart of a build before the pairs of two items' own fields were counted per letter
    (their letters NULL): under one drug those tables are counted from the items, rightly;
    a letter's field's still comes from the mart."""
    old = tmp_path / "old.duckdb"
    shutil.copyfile(warehouse_file, old)
    writer = duckdb.connect(str(old))
    writer.execute(
        "update facet_pairs set letters = null"
        " where dimension in (select unnest($own)) and other in (select unnest($own))",
        {"own": [d.name for d in dimensions.FILTERS if not d.per_letter]},
    )
    writer.close()
    expected_tables = {"category": False, "reason": False, "state": True}
    _check_old_mart(old, oracle, ran, ITEM_FIELD_SELECTIONS["drug"], expected_tables)


def test_a_mart_without_a_lists_pairs_with_itself_scans_its_own_table(
    warehouse_file, tmp_path, oracle, ran
):
    """A mart of a build before a list filter was paired with itself: under one of its values
    its own table (the values listed with it) is counted from the items, rightly; another
    filter's still comes from the mart."""
    old = tmp_path / "old.duckdb"
    shutil.copyfile(warehouse_file, old)
    writer = duckdb.connect(str(old))
    writer.execute("delete from facet_pairs where other = dimension")
    writer.close()
    for chosen, summed in (
        (FILTER_SETS["specialty"], {"specialty": False, "category": True}),
        (ITEM_FIELD_SELECTIONS["drug"], {"drug": False, "state": True}),
    ):
        _check_old_mart(old, oracle, ran, chosen, summed)


SCALARS = tuple(d.name for d in dimensions.DIMENSIONS if d.shape == "scalar")
LISTS = tuple(d.name for d in dimensions.DIMENSIONS if d.shape == "list")


@pytest.mark.parametrize("chosen", [{}, *FILTER_SETS.values()], ids=["all", *FILTER_SETS])
def test_the_slice_bound_holds(con, oracle, chosen):
    """The facet mart's bound of a slice is never below its items; one scalar selection or one
    value of a list is exact."""
    filters = Filters.build(**chosen)
    bound = queries.slice_bound(con, filters)
    items = expected.summary(oracle, filters)["n"]
    if not filters.selections:
        assert bound is None
        return
    assert bound is not None and bound >= items
    alone = not filters.exclude_synthetic and not filters.search
    if alone and len(filters.selections) == 1 and len(filters.selections[0][1]) == 1:
        assert bound == items
    combination = Filters.build(drug=["acetaminophen + hydrocodone"])
    assert queries.slice_bound(con, combination) is None  # the mart has no such drug value


@pytest.mark.parametrize("chosen", [{}, *FILTER_SETS.values()], ids=["all", *FILTER_SETS])
def test_the_slice_bound_of_a_decision_year_holds(con, oracle, chosen):
    """The bound of a slice's items decided in one year (facet_pairs' pairs of that year) is
    never below them; exact for no selection, and for one selection of one value or a range
    beside at most one value of the decision (the pairs' overturned items, or the rest)."""
    filters = Filters.build(**chosen)
    facts = expected.rows(oracle, filters, "decision_year")
    years = sorted({year for (year,) in facts if year is not None})
    every = sorted({y for (y,) in expected.rows(oracle, Filters(), "decision_year") if y})
    outside = Filters.build(**{**chosen, "decision_year": (every[0], every[0])})
    for year in {years[0], years[-1], every[-1]} if years else {every[-1]}:
        bound = queries.slice_bound(con, filters, year)
        items = sum(1 for (y,) in facts if y == year)
        assert bound is not None and bound >= items, year
        others = [(n, v) for n, v in filters.selections if n != "decision"]
        alone = not filters.exclude_synthetic and not filters.search
        one = not others or (
            len(others) == 1
            and (len(others[0][1]) == 1 or dimensions.get(others[0][0]).widget == "range")
        )
        if alone and one and len(filters.get("decision")) <= 1:
            assert bound == items, year
        if year != every[0]:  # a year not selected
            assert queries.slice_bound(con, outside, year) == 0


def test_a_filter_the_mart_does_not_hold_is_no_bound(con, oracle, monkeypatch):
    """A range filter added to the registry since the last ingest (no row in the facet mart)
    bounds nothing: not zero items."""
    days = Dimension(
        name="days_to_decision",
        label="Days to decision",
        column="days_to_decision",
        shape="scalar",
        widget="range",
        sidebar=False,
        order="value",
    )
    expected.add_dimension(monkeypatch, days)
    filters = Filters.build(days_to_decision=(0, 30))
    assert expected.summary(oracle, filters)["n"] > 0
    assert queries.slice_bound(con, filters) is None
    assert queries.value_count(con, "days_to_decision") == 1 << 40


@pytest.mark.parametrize("chosen", [{}, *FILTER_SETS.values()], ids=["all", *FILTER_SETS])
def test_letters_counted_as_bits_or_distinct_or_flagged_items_agree(
    con, oracle, chosen, monkeypatch
):
    """Each group's letters, counted as bits (a large slice), as a distinct count (a slice
    small beside the bits) or by one flagged item each (groups of the letter's own fields:
    its first item, or its first with the one value of an item's own field selected), are the
    same numbers in every query that counts them."""
    filters = Filters.build(**chosen)
    timeline = ("decision_year", "decision_quarter", "decision_month", "injury_year")

    def answers() -> list[pl.DataFrame]:
        # The rows of rates_together without a value (the lists' padding) are no group.
        reviewers = queries.rates_together(con, filters, ("specialty", "state"))
        return [
            queries.summary(con, filters),
            queries.rates_together(con, filters, timeline),
            queries.rates_from(reviewers, "specialty"),
            queries.rates_from(reviewers, "state"),
            queries.rates_by(con, filters, "specialty"),
            queries.rates_by(con, filters, "decision_year"),
            queries.rates_by(con, filters, "category"),
            queries.crosstab(con, filters, "drug_class", "decision_year"),
            queries.compare(con, filters, "decision", "Upheld", "Overturned", "category"),
            queries.published_counts(con, filters),
        ]

    # The lists as rates_sets.sql counts them (rates_bits.sql has tests of its own).
    monkeypatch.setattr(queries, "pattern_bound", lambda con, dims: None)
    first = answers()  # by flagged items wherever the groups and filters allow it
    monkeypatch.setattr(queries, "counting_flag", lambda con, dims, filters: None)
    monkeypatch.setattr(queries, "_per_letter", lambda dims, filters: False)
    monkeypatch.setattr(queries, "LETTER_ROWS", False)  # nor a row per letter
    monkeypatch.setattr(queries, "BITS_BYTES_PER_ROW", 1 << 40)  # bits whatever the slice
    bits = answers()
    monkeypatch.setattr(queries, "BITS_BYTES_PER_ROW", 0)  # distinct wherever bounded
    distinct = answers()
    for one, two, three in zip(first, bits, distinct, strict=True):  # same rows, any order
        assert_frame_equal(one.sort(one.columns), two.sort(two.columns))
        assert_frame_equal(two.sort(two.columns), three.sort(three.columns))
    chosen_letters = queries.letters_count(con, 10, filters=filters)[0][0]
    assert ("bit_count" in chosen_letters) == (queries.slice_bound(con, filters) is None)
    want = expected.summary(oracle, filters)["letters"]
    assert distinct[0].item(0, "letters") == want


def _filters_named(oracle, chosen: str) -> Filters:
    """FILTER_SETS[chosen], or "two lists": the commonest reason and guideline source."""
    if chosen != "two lists":
        return Filters.build(**FILTER_SETS[chosen])
    reason, source = dimensions.get("reason"), dimensions.get("guideline_source")
    return Filters.build(
        reason=[expected.top_value(oracle, reason)],
        guideline_source=[expected.top_value(oracle, source)],
    )


TIMELINE = (
    "decision_year",
    "decision_quarter",
    "decision_month",
    "injury_year",
    "years_to_decision",
)


@pytest.mark.parametrize("chosen", ["guideline_source", "drugs", "category-state", "two lists"])
def test_the_letters_own_fields_count_a_row_per_letter_where_no_item_is_flagged(
    con, oracle, chosen, monkeypatch
):
    """Rate tables of the letter's own scalar fields under filters no item flags a letter of
    (an item's own list, two values of an item's own field, two list filters) count a row per
    letter of the slice: each value's items, overturned and letters as the oracle gives them,
    and the frame the bits give."""
    filters = _filters_named(oracle, chosen)
    dims = [dimensions.get(name) for name in TIMELINE]
    assert queries.by_letter_rows(dims, queries.counting_flag(con, tuple(dims), filters))
    assert not queries.by_letter_rows([*dims, dimensions.get("category")], None)
    assert not queries.by_letter_rows(
        [dimensions.get("specialty")], None
    )  # a list: a row per value
    together = queries.rates_together(con, filters, TIMELINE)
    for dim in dims:
        frame = queries.rates_from(together, dim.name)
        assert frame.height > 0, dim.name
        _check_rates(frame, dim, expected.rates(oracle, filters, dim))
        letters = dict(frame.select(dim.name, "letters").iter_rows())
        assert letters == expected.letters(oracle, filters, dim), dim.name
    monkeypatch.setattr(queries, "LETTER_ROWS", False)
    by_bits = queries.rates_together(con, filters, TIMELINE)
    assert_frame_equal(together.sort(together.columns), by_bits.sort(by_bits.columns))


@pytest.mark.parametrize("chosen", [{}, *FILTER_SETS.values()], ids=["all", *FILTER_SETS])
def test_letters_counted_by_flagged_items_where_a_letter_counts_alike(con, chosen):
    filters = Filters.build(**chosen)
    specialty, category = dimensions.get("specialty"), dimensions.get("category")
    own = [
        (dimensions.get(n), v) for n, v in filters.selections if not dimensions.get(n).per_letter
    ]
    # The flag of the slice: every filter the letter's own, its first item; one value of one
    # item's own scalar field besides, its first item with that value.
    flag = (
        None
        if filters.search
        else "first_in_letter"
        if not own
        else f"{own[0][0].column}_fresh"
        if len(own) == 1 and len(own[0][1]) == 1 and own[0][0].shape == "scalar"
        else None
    )
    flags = {dims: queries.counting_flag(con, dims, filters) for dims in [(), (specialty,)]}
    assert flags == {(): flag, (specialty,): flag}
    assert queries.counting_flag(con, (specialty, category), filters) is None
    by_flag = {
        dims: "letter_flag" in queries.letters_count(con, 10, filters=filters, dims=dims)[0][0]
        for dims in [(), (specialty,), (specialty, category)]
    }
    assert by_flag == {
        (): flag is not None,
        (specialty,): flag is not None,
        (specialty, category): False,
    }
    # A query that does not carry letter_flag says so (no dims): never by flagged items.
    assert "letter_flag" not in queries.letters_count(con, 10, filters=filters)[0][0]
    # A search picks items, not letters.
    searched = Filters.build(**chosen, search="tramadol")
    assert queries.counting_flag(con, (specialty,), searched) is None
    first = queries.letters_count(con, 10, filters=searched, dims=(specialty,))[0][0]
    assert "letter_flag" not in first


def test_letter_dimensions_hold_one_value_per_letter(oracle):
    """What the registry calls the letter's own (``per_letter``) is the same for every item of
    a letter in the warehouse, and each letter has one first item."""
    for dim in dimensions.DIMENSIONS:
        if dim.per_letter:
            mixed = oracle.execute(
                f"select count(*) from (select letter_key from item_facts group by letter_key"
                f" having count(distinct {dim.column}::varchar) > 1)"
            ).fetchone()[0]
            assert mixed == 0, dim.name
    letters, firsts = oracle.execute(
        "select count(distinct letter_key), count(*) filter (where first_in_letter) from item_facts"
    ).fetchone()
    assert letters == firsts > 0
    # Some letter-level check must be able to fail: the test warehouse mixes item values.
    mixed_categories = oracle.execute(
        "select count(*) from (select letter_key from item_facts group by letter_key"
        " having count(distinct category) > 1)"
    ).fetchone()[0]
    assert mixed_categories > 0


@pytest.mark.parametrize("chosen", [{}, *FILTER_SETS.values()], ids=["all", *FILTER_SETS])
def test_rates_in_one_pass_equal_rates_by_dimension(con, chosen):
    """Several scalar (or list) dimensions' rates in one pass: each frame as its own query
    gives it, for every scalar dimension at once, every list dimension at once, and the sets of
    the Timeline, the Overview, the Guidelines and the Reviewers."""
    filters = Filters.build(**chosen)
    sets = [
        SCALARS,
        ("decision_year", "decision_quarter", "decision_month", "injury_year", "years_to_decision"),
        ("category", "decision_year"),
        LISTS,
        ("guideline_source", "guideline_document"),
        ("specialty", "state"),
    ]
    for names in sets:
        together = queries.rates_together(con, filters, names)
        for name in names:
            frame = queries.rates_from(together, name)
            assert_frame_equal(frame, queries.rates_by(con, filters, name))
    assert frame.height, "a set where nothing counts proves nothing"


def test_rates_in_one_pass_take_one_shape_on_distinct_columns(con):
    with pytest.raises(ValueError, match="scalar or list"):
        queries.rates_together(con, ALL, ("category", "drug"))
    with pytest.raises(ValueError, match="distinct"):
        queries.rates_together(con, ALL, ("category", "category"))
    with pytest.raises(ValueError, match="distinct"):
        queries.rates_together(con, ALL, ("drug", "drug"))


def test_answers_fixed_for_a_warehouse_run_once_per_session(con, oracle, warehouse_file):
    """The highest letter number and the marts' value counts: asked by every rate query, run
    once per session; a new session (the dashboard's, after a publish) asks again."""
    want = oracle.execute("select max(letter_key) from item_facts").fetchone()[0]
    first = queries.run_fixed(con, "letter_key_max")
    assert first.item(0, "letter_key_max") == want
    assert queries.run_fixed(con, "letter_key_max") is first
    facets = queries.run_fixed(con, "facet_items", {"dimension": "category"})
    assert queries.run_fixed(con, "facet_items", {"dimension": "category"}) is facets
    assert queries.run_fixed(con, "facet_items", {"dimension": "drug"}) is not facets
    assert facets.height == queries.value_count(con, "category") > 0
    other = queries.connect(warehouse_file)
    try:
        again = queries.run_fixed(other, "letter_key_max")
        assert again is not first and again.equals(first)
    finally:
        other.close()


def test_list_dimensions_count_items_under_each_value(con, oracle, total):
    for dim in dimensions.DIMENSIONS:
        if dim.shape != "list":
            continue
        frame = queries.rates_by(con, ALL, dim.name)
        lengths = [
            len(v) for (v,) in oracle.execute(f"select {dim.column} from item_facts").fetchall()
        ]
        empty_count = sum(1 for n in lengths if n == 0)
        assert frame.get_column("n").sum() == sum(lengths) + (empty_count if dim.empty else 0)
        if dim.empty and empty_count:
            assert frame.filter(pl.col(dim.name) == dim.empty).item(0, "n") == empty_count
    # The test warehouse has overlapping lists, so this checks something.
    assert queries.rates_by(con, ALL, "specialty").get_column("n").sum() > total


def test_small_sample_threshold_is_a_parameter(con, total):
    assert queries.summary(con, ALL, small_n=total).item(0, "small_sample") is False
    assert queries.summary(con, ALL, small_n=total + 1).item(0, "small_sample") is True
    frame = queries.rates_by(con, ALL, "category", small_n=50)
    assert frame.get_column("small_sample").to_list() == [n < 50 for n in frame.get_column("n")]


def test_empty_slice_has_null_rates(con):
    row = queries.summary(con, Filters.build(category=["nothing"])).row(0, named=True)
    assert row["n"] == 0
    assert row["overturn_rate"] is None and row["overturn_lower"] is None


def test_drill_down_within_a_drug_class(con, oracle, ran):
    """The drugs of one class: the marts' sums when the narrowed filters are one selection (no
    filter, or the class among those selected; a decision besides), else a scan; the rows and
    letters the items give either way."""
    drug = dimensions.get("drug")
    for chosen in (
        {},
        {"decision": ["Upheld"]},
        {"state": ["Texas"]},
        {"drug_class": ["Opioids", "NSAID"]},
    ):
        filters = Filters.build(**chosen)
        ran.clear()
        frame = queries.rates_by(con, filters, "drug", within=("drug_class", "Opioids"))
        assert ("rates_pairs" in ran) is ("state" not in chosen), chosen
        assert frame.columns[0] == "drug_class"
        assert set(frame.get_column("drug_class")) == {"Opioids"}
        narrowed = filters.narrow("drug_class", "Opioids")
        want = expected.rates(oracle, narrowed, drug)
        assert want
        _check_rates(frame.drop("drug_class"), drug, want)
        letters = dict(frame.select("drug", "letters").iter_rows())
        assert letters == expected.letters(oracle, narrowed, drug), chosen
    # Narrowing never widens the user's selection: another class selected, nothing matches.
    nsaid = Filters.build(drug_class=["NSAID"])
    assert queries.rates_by(con, nsaid, "drug", within=("drug_class", "Opioids")).height == 0
    assert queries.summary(con, nsaid.narrow("drug_class", "Opioids")).item(0, "n") == 0


def _concordance(oracle, filters: Filters) -> dict[str, tuple[int, int]]:
    """The Guidelines page's agreement counts (n, same) per MAXIMUS source and 'All sources',
    from the items under ``filters``."""
    clause, args = expected.where(filters)
    both = oracle.execute(
        "select guideline_sources, claims_admin_sources, same_source_as_claims_admin"
        " from item_facts where len(guideline_sources) > 0 and len(claims_admin_sources) > 0"
        f" and {clause}",
        args,
    ).fetchall()
    per_source: Counter[str] = Counter()
    same: Counter[str] = Counter()
    for maximus, claims_admin, _ in both:
        for source in maximus:
            per_source[source] += 1
            same[source] += source in claims_admin
    overall = (len(both), sum(1 for *_, agreed in both if agreed))
    return {"All sources": overall, **{s: (per_source[s], same[s]) for s in per_source}}


def test_source_concordance(con, oracle):
    want = _concordance(oracle, ALL)
    assert want["All sources"][0]
    rows = {
        r["maximus_source"]: r for r in queries.source_concordance(con, ALL).iter_rows(named=True)
    }
    assert {s: (r["n"], r["same"]) for s, r in rows.items()} == want
    n, same = want["All sources"]
    assert rows["All sources"]["same_lower"] == pytest.approx(wilson(same, n)[0])


# One selection of any filter but the sources themselves: the agreement is a count of items
# (no letters), so several values of a scalar add up too. A source, two drugs: counted.
CONCORDANCE_SELECTIONS = {
    **LETTER_FIELD_SELECTIONS,
    "drug": ITEM_FIELD_SELECTIONS["drug"],
    "category": ITEM_FIELD_SELECTIONS["category"],
    "two-categories": {"category": ["Surgery", "Injection"]},
    "guideline_document": {
        "guideline_document": ["MTUS: Chronic Pain Medical Treatment Guidelines"]
    },
    "guideline_source": FILTER_SETS["guideline_source"],
    "drugs": FILTER_SETS["drugs"],
    "category-state": FILTER_SETS["category-state"],
}


@pytest.mark.parametrize(
    "chosen", CONCORDANCE_SELECTIONS.values(), ids=list(CONCORDANCE_SELECTIONS)
)
def test_source_concordance_under_one_selection_sums_the_pairs_mart(con, oracle, chosen, ran):
    filters = Filters.build(**chosen)
    frame = queries.source_concordance(con, filters)
    want = _concordance(oracle, filters)
    assert want["All sources"][0] and len(want) > 2
    assert {r["maximus_source"]: (r["n"], r["same"]) for r in frame.iter_rows(named=True)} == want
    summed = len(chosen) == 1 and not any(
        name == "guideline_source" or (name == "drug" and len(values) > 1)
        for name, values in chosen.items()
    )
    assert ("source_concordance_pairs" in ran) is summed
    assert ("source_concordance" in ran) is not summed
    assert frame.equals(queries._filtered(con, "source_concordance", filters, 30))


def test_a_mart_built_before_the_agreement_counts_it_from_the_items(
    warehouse_file, tmp_path, oracle, ran
):
    """A facet_pairs mart of a build before it held both_cited and same_source: the agreement
    under one selection is counted from the items, rightly."""
    old = tmp_path / "old.duckdb"
    shutil.copyfile(warehouse_file, old)
    writer = duckdb.connect(str(old))
    for column in ("both_cited", "same_source"):
        writer.execute(f"alter table facet_pairs drop column {column}")
    writer.close()
    session = queries.connect(old)
    try:
        filters = Filters.build(**FILTER_SETS["specialty"])
        frame = queries.source_concordance(session, filters)
        assert "source_concordance" in ran and "source_concordance_pairs" not in ran
        rows = {r["maximus_source"]: (r["n"], r["same"]) for r in frame.iter_rows(named=True)}
        assert rows == _concordance(oracle, filters)
    finally:
        session.close()


TWO_OWN_VALUES = {"drug_class": ["Opioids"], "decision": ["Overturned"]}


def test_the_letters_of_a_slice_are_flagged_where_one_item_each_can_be(con):
    flag = queries.letter_flag
    assert flag(con, Filters.build(specialty=["Family Practice"])) == "first_in_letter"
    assert flag(con, Filters.build(**FILTER_SETS["overturned-injury-range"])) == "decision_fresh"
    assert flag(con, Filters.build(drug_class=["Opioids"])) == "drug_class_fresh"
    # Two values, two fields of an item's own, a list, a search: counted distinct.
    assert flag(con, Filters.build(**FILTER_SETS["category-state"])) is None
    assert flag(con, Filters.build(**TWO_OWN_VALUES)) is None
    assert flag(con, Filters.build(drug=["tramadol"])) is None
    assert flag(con, Filters.build(drug_class=["Opioids"], search="tramadol")) is None


@pytest.mark.parametrize(
    "chosen", [{}, *FILTER_SETS.values(), TWO_OWN_VALUES], ids=["all", *FILTER_SETS, "two-own"]
)
def test_timeliness(con, oracle, chosen):
    # Over the letters of the slice: by their first items under the letter's own filters (all,
    # a specialty, a state, decision years), by distinct letters under the others.
    filters = Filters.build(**chosen)
    clause, args = expected.where(filters)
    letters = oracle.execute(
        "select distinct letter_id, coalesce(priority, '(not stated)'), days_to_decision"
        f" from item_facts where days_to_decision is not null and {clause}",
        args,
    ).fetchall()
    days: dict[str, list[int]] = {}
    for _, priority, d in letters:
        days.setdefault(priority, []).append(d)
    got = {r["priority"]: r for r in queries.timeliness(con, filters).iter_rows(named=True)}
    assert set(got) == set(days)
    for priority, values in days.items():
        row = got[priority]
        assert row["letters"] == len(values)
        assert row["median_days"] == pytest.approx(median(values))
        for column, share in (("p25_days", 0.25), ("p75_days", 0.75), ("p90_days", 0.9)):
            assert row[column] == pytest.approx(_interpolated(values, share)), column
        assert (row["min_days"], row["max_days"]) == (min(values), max(values))


def _interpolated(values: list[int], share: float) -> float:
    """The ``share`` quantile of ``values``, linear between the two nearest (as quantile_cont)."""
    ordered = sorted(values)
    place = share * (len(ordered) - 1)
    low = int(place)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (place - low) * (ordered[high] - ordered[low])


def test_items_columns_and_limit(con, oracle, total):
    frame = queries.items(con, ALL)
    for column in (
        "case_number",
        "item_no",
        "request",
        "decision",
        "category",
        "drug_class",
        "drugs",
        "reviewer_specialties",
        "reviewer_states",
        "guideline_sources",
        "injury_year",
        "decision_date",
    ):
        assert column in frame.columns
    assert frame.height == total
    assert queries.items(con, ALL, limit=5).height == 5
    keys = set(frame.select("letter_id", "item_no").iter_rows())
    assert keys == set(oracle.execute("select letter_id, item_no from decisions").fetchall())


def test_letter_detail(con, oracle):
    letter_id, case, outcome, states = oracle.execute(
        "select letter_id, case_number, outcome, reviewer_states from letters"
        " where case_number = ?",
        [hostile.FORMULA_CASE],
    ).fetchone()
    head = queries.letter(con, letter_id).row(0, named=True)
    assert (head["case_number"], head["outcome"], head["reviewer_states"]) == (
        case,
        outcome,
        states,
    )
    items = oracle.execute("select count(*) from decisions where letter_id = ?", [letter_id])
    assert queries.letter_items(con, letter_id).height == items.fetchone()[0]
    cited = oracle.execute("select count(*) from citations where letter_id = ?", [letter_id])
    assert queries.letter_citations(con, letter_id).height == cited.fetchone()[0]
    assert queries.letter(con, "' or 1=1 --").height == 0


def test_a_letter_is_read_through_the_lookup_indexes(con, oracle):
    # The build indexes letter_id in the tables the letter reader reads (the contract's
    # `lookup`): each of its queries finds the letter's rows by the index, not by a scan of
    # every row's key (30-45 ms a query at 4M items, 7-9 by the index). So do the Reasons
    # page's examples' sentences, for a few letters at once.
    indexed = set(oracle.execute("select table_name from duckdb_indexes()").fetchall())
    assert indexed == {(t,) for _, t, _ in contract.lookup_indexes()}
    letter_id, other = oracle.execute(
        "select max(letter_id), min(letter_id) from reason_evidence"
    ).fetchone()
    readers = ("letter", "letter_items", "letter_citations", "letter_evidence")
    lookups = {name: {"letter_id": letter_id} for name in readers}
    lookups["reason_sentences"] = {"letter_ids": [letter_id, other]}
    for name, params in lookups.items():
        sql = queries.load_sql(name)
        plan = queries.cursor(con).sql("explain analyze " + sql, params=params)
        assert "Type: Index Scan" in plan.fetchall()[0][1], name


def test_filter_options(con, oracle):
    options = queries.filter_options(con)
    assert options.columns == ["dimension", "value", "n"]
    for dim in dimensions.FILTERS:
        part = options.filter(pl.col("dimension") == dim.name)
        assert dict(part.select("value", "n").iter_rows()) == expected.options(oracle, dim)
        counts = part.get_column("n").to_list()
        assert counts == sorted(counts, reverse=True)  # most items first


def test_data_quality(con, oracle):
    coverage = queries.parse_coverage(con)
    per_layout = coverage.filter(pl.col("layout") != "all")
    overall = coverage.filter(pl.col("layout") == "all")
    for scope, field, present, total in overall.select(
        "scope", "field", "present", "total"
    ).iter_rows():
        part = per_layout.filter((pl.col("scope") == scope) & (pl.col("field") == field))
        assert (present, total) == (
            part.get_column("present").sum(),
            part.get_column("total").sum(),
        )
    letters = overall.filter((pl.col("scope") == "letters") & (pl.col("field") == "case_number"))
    case_numbers = oracle.execute("select count(case_number), count(*) from letters").fetchone()
    assert letters.select("present", "total").row(0) == case_numbers
    reasons = {
        r["reason"]: r["files"] for r in queries.rejects_by_reason(con).iter_rows(named=True)
    }
    assert reasons == dict(
        oracle.execute("select reason, count(*) from rejects group by reason").fetchall()
    )
    unresolved = {
        (r["kind"], r["value"]): r["occurrences"]
        for r in queries.unresolved(con).iter_rows(named=True)
    }
    assert unresolved == {
        (kind, value): n
        for kind, value, n in oracle.execute(
            "select kind, value, count(*) from unresolved group by all"
        ).fetchall()
    }
    assert queries.rejects(con, 1).height == 1
    statuses = dict(queries.sources_by_status(con).iter_rows())
    assert statuses == dict(
        oracle.execute("select status, count(*) from sources group by status").fetchall()
    )


# The flag timeliness.sql counts letters by (queries.letter_flag): its one fragment.
FIRST_ITEMS = {"LETTER_FLAG": "first_in_letter"}


def test_unused_or_missing_parameters_are_caught(con):
    with pytest.raises(ValueError, match="needs parameters"):
        queries.run_sql(con, "timeliness", {}, fragments=FIRST_ITEMS)


def test_unexpanded_tokens_are_caught():
    with pytest.raises(ValueError, match="__COLUMN__"):
        queries.load_sql("rates_list")


def test_a_token_a_comment_names_is_left_alone(con, monkeypatch):
    # A fragment of several lines expanded inside a comment left its other lines outside it.
    text = "-- __COUNTED__: what is counted\nselect count(*) as n from (__COUNTED__)"
    monkeypatch.setattr(queries, "read_sql", lambda name: text)
    sql = queries.load_sql("counted", fragments={"COUNTED": "select 1\nunion all\nselect 2"})
    assert queries.cursor(con).sql(sql).fetchall() == [(2,)]


def test_the_predicate_holds_the_clauses_of_the_filters_that_are_on(con, total):
    def clauses(filters: Filters) -> set[str]:
        text = queries.filter_predicate(filters.params())
        return {name for name in filters.params() if f"${name}:" in text}

    assert clauses(ALL) == set()
    assert clauses(Filters.build(drug_class=["Opioids"])) == {"filter_drug_class"}
    assert clauses(Filters.build(injury_year=(2005, 2010), exclude_synthetic=True)) == {
        "filter_injury_year_min",
        "filter_injury_year_max",
        "exclude_synthetic",
    }
    # A drill-down to a value outside the selection keeps its (empty) selection: no item.
    nothing = Filters.build(drug_class=["Opioids"]).narrow("drug_class", "NSAID")
    assert clauses(nothing) == {"filter_drug_class"}
    assert queries.summary(con, nothing).item(0, "n") == 0
    assert queries.summary(con, ALL).item(0, "n") == total
    # A list filter reads its combinations ("a + b": all parts) only when one is selected.
    assert "list_has_all" not in queries.filter_predicate(Filters.build(drug=["x"]).params())
    assert "list_has_all" in queries.filter_predicate(Filters.build(drug=["x + y"]).params())
    # Without its parameters a query keeps every clause, so a forgotten filter is an error.
    assert "$filter_drug_class" in queries.filter_predicate({})
    assert "list_has_all" in queries.filter_predicate({})
    with pytest.raises(ValueError, match="needs parameters"):
        queries.run_sql(con, "timeliness", {"small_n": 30}, fragments=FIRST_ITEMS)


def test_like_pattern_escapes_wildcards():
    assert queries.like_pattern("  ") is None
    assert queries.like_pattern("50%_x\\") == "%50\\%\\_x\\\\%"


def test_queries_do_not_import_streamlit():
    code = (
        "import sys, dashboard.queries, dashboard.charts, dashboard.dimensions; "
        "sys.exit('streamlit' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_sql_files_use_lowercase_keywords():
    for path in queries.SQL_DIR.glob("*.sql"):
        text = path.read_text()
        for keyword in ("SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", " WITH "):
            assert keyword not in text, (path.name, keyword)


def test_session_attaches_the_warehouse_read_only(con, warehouse_file):
    cur = queries.cursor(con)
    assert cur.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall() == [(str(warehouse_file),)]
    with pytest.raises(duckdb.Error):
        cur.execute("create table t (x int)")


def test_marts_contract(con, tmp_path):
    assert queries.missing_columns(con).height == 0
    bare = tmp_path / "bare.duckdb"
    with duckdb.connect(str(bare)) as c:
        c.execute(contract.ddl())
    session = queries.connect(bare)
    try:
        missing = queries.missing_columns(session)
    finally:
        session.close()
    assert set(missing.get_column("table")) == {
        "item_facts",
        "parse_coverage",
        "unresolved_counts",
        "facet_counts",
        "facet_pairs",
    }


# --- the registry --------------------------------------------------------------------------


def test_registry_entries_are_checked():
    with pytest.raises(ValueError, match="plain identifier"):
        Dimension("bad name", "Bad", "category", "scalar")
    with pytest.raises(ValueError, match="plain identifier"):
        Dimension("ok", "Ok", "category; drop table letters", "scalar")
    with pytest.raises(ValueError, match="range"):
        Dimension("years", "Years", "drugs", "list", widget="range")
    assert Dimension("x", "X", "category", "scalar").param == "x"
    with pytest.raises(ValueError, match="outcome"):
        Dimension("x", "X", "drugs", "list", outcome=("a", "b"))
    with pytest.raises(ValueError, match="outcome"):
        Dimension("x", "X", "decision", "scalar", outcome=("a", "a"))
    with pytest.raises(ValueError, match="combine"):
        Dimension("x", "X", "injury_year", "scalar", widget="range", combined_with=("reason",))
    reason, source = dimensions.get("reason"), dimensions.get("guideline_source")
    years = dimensions.get("injury_year")
    paired = dataclasses.replace(reason, combined_with=("guideline_source",))
    assert dimensions.selection_pairs((paired, source)) == ((paired, source),)
    for combined, match in (
        (("injury_year",), "combine"),  # a range
        (("decision",), "combine"),  # the outcome
        (("reason",), "combine"),  # itself
        (("claims_admin_source",), "combine"),  # no such filter
    ):
        with pytest.raises(ValueError, match=match):
            dimensions.selection_pairs(
                (
                    dataclasses.replace(reason, combined_with=combined),
                    years,
                    dimensions.get("decision"),
                )
            )
    twice = dataclasses.replace(source, combined_with=("reason",))
    with pytest.raises(ValueError, match="twice"):
        dimensions.selection_pairs((paired, twice))


def test_the_outcome_splits_the_items_as_the_marts_count_them(oracle):
    # Dimension.outcome: every item holds one of its two values, the first the overturned.
    (outcome,) = dimensions.OUTCOMES
    assert outcome.outcome is not None
    counted, split = oracle.execute(
        f"select count(*), count(*) filter ({outcome.column} = ? and overturned"
        f" or {outcome.column} = ? and not overturned) from item_facts",
        list(outcome.outcome),
    ).fetchone()  # type: ignore[misc]
    assert counted == split > 0


@pytest.mark.parametrize(
    ("decision", "overturned", "value"),
    [
        (["Overturned"], True, "Overturned"),
        (["Upheld"], False, "Upheld"),
        (["Upheld", "Overturned"], None, None),
    ],
)
def test_what_filters_select_of_the_outcome(decision, overturned, value):
    chosen = queries.chosen_outcome(Filters.build(decision=decision, injury_year=(2005, 2012)))
    assert chosen is not None and chosen.dimension is dimensions.OUTCOMES[0]
    assert (chosen.overturned, chosen.value) == (overturned, value)


@pytest.mark.parametrize("decision", [None, ["Remanded"], ["Overturned", "Remanded"]])
def test_no_outcome_is_chosen_without_a_selection_of_values_items_hold(decision):
    # A value no item holds matches nothing: such a selection is counted as the filter says.
    assert queries.chosen_outcome(Filters.build(decision=decision, state=["Texas"])) is None


def test_list_columns_hold_each_value_once(oracle):
    # The cross-tab counts an item once per value of a list (dashboard/README.md, "Marts").
    for dim in dimensions.DIMENSIONS:
        if dim.shape == "list":
            repeated = oracle.execute(
                f"select count(*) from item_facts"
                f" where len({dim.column}) <> len(list_distinct({dim.column}))"
            ).fetchone()
            assert repeated == (0,), dim.column


def test_every_registry_column_is_in_the_mart(oracle):
    columns = {
        name
        for (name,) in oracle.execute(
            "select column_name from information_schema.columns where table_name = 'item_facts'"
        ).fetchall()
    }
    assert {d.column for d in dimensions.DIMENSIONS} <= columns
    assert {d.column for d in dimensions.DIMENSIONS} <= queries.required_columns()["item_facts"]


@pytest.fixture
def extra_dimension(monkeypatch):
    expected.add_dimension(monkeypatch, expected.CLAIMS_ADMIN)
    return expected.CLAIMS_ADMIN


def test_a_new_dimension_is_one_entry(con, oracle, total, extra_dimension):
    """Filters, predicate, options, rates and the marts check follow from the entry alone."""
    dim = extra_dimension
    value = expected.top_value(oracle, dim)
    filters = Filters.build(**{dim.name: [value], "decision": ["Upheld"]})
    want = expected.summary(oracle, filters)
    assert 0 < want["n"] < total
    assert n_and_overturned(con, filters) == (want["n"], want["overturned"])
    assert f"{dim.label}: {value}" in filters.describe()
    assert f"{dim.name}-{value}" in filters.slug()
    _check_rates(queries.rates_by(con, ALL, dim.name), dim, expected.rates(oracle, ALL, dim))
    options = queries.filter_options(con).filter(pl.col("dimension") == dim.name)
    assert dict(options.select("value", "n").iter_rows()) == expected.options(oracle, dim)
    assert dim.column in queries.required_columns()["item_facts"]


def test_a_process_runs_two_queries_at_once_and_the_others_wait(con, monkeypatch):
    """Ten sessions' option counts at once over 4 million items ran the session's memory out
    (three of fifty readers saw an error): queries now take turns, two at a time."""
    inside, most = 0, 0
    lock = threading.Lock()
    real = queries.cursor

    def counted(session):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.05)  # long enough for the other threads to arrive
        with lock:
            inside -= 1
        return real(session)

    monkeypatch.setattr(queries, "cursor", counted)
    want = queries.summary(con, Filters())
    results: list[pl.DataFrame] = []
    threads = [
        threading.Thread(target=lambda: results.append(queries.summary(con, Filters())))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 8 and all(r.equals(want) for r in results)
    assert most == 2


@pytest.mark.parametrize("chosen", [{}, *FILTER_SETS.values()], ids=["all", *FILTER_SETS])
def test_reason_shares_equal_python(con, oracle, chosen):
    """Per reason: upheld items giving it (of all upheld: share, Wilson), overturned items
    giving it; items without one under "(none found)" — counted in Python from the items."""
    filters = Filters.build(**chosen)
    facts = expected.rows(oracle, filters, "reasons, overturned")
    by: Counter[tuple[str, bool]] = Counter()
    for reasons, overturned in facts:
        for reason in reasons or [queries.NO_REASON]:
            by[reason, overturned] += 1
    upheld = sum(1 for _, overturned in facts if not overturned)
    frame = queries.reason_shares(con, filters)
    got = {
        row["reason"]: (row["upheld_with"], row["upheld_items"], row["overturned_with"])
        for row in frame.iter_rows(named=True)
    }
    assert got == {r: (by[r, False], upheld, by[r, True]) for r, _ in by}
    for row in frame.iter_rows(named=True):
        if upheld:
            low, high = wilson(row["upheld_with"], upheld)
            assert abs(row["share_lower"] - low) < 1e-12 and abs(row["share_upper"] - high) < 1e-12
    keys = [
        (-r["upheld_with"], -r["overturned_with"], r["reason"]) for r in frame.iter_rows(named=True)
    ]
    assert keys == sorted(keys)


# One selection of any filter (several values of a scalar add up), with a decision holding
# Upheld besides or not (the shares count upheld items only); two selections, two values of a
# list filter, the demo switch, Overturned alone: counted from the items.
REASON_SELECTIONS = {
    "specialty-upheld": {**FILTER_SETS["specialty"], "decision": ["Upheld"]},
    "years-both-decisions": {**FILTER_SETS["decision-years"], "decision": ["Upheld", "Overturned"]},
    "drug_class-overturned": {**FILTER_SETS["drug_class"], "decision": ["Overturned"]},
    "overturned-injury-range": FILTER_SETS["overturned-injury-range"],
    "overturned": FILTER_SETS["decision"],
    "upheld": {"decision": ["Upheld"]},
    "none": {},
    **{k: FILTER_SETS[k] for k in ("specialty", "decision-years", "state", "category")},
    "drug": ITEM_FIELD_SELECTIONS["drug"],
    "drug_class": FILTER_SETS["drug_class"],
    "two-categories": {"category": ["Surgery", "Pharmaceuticals"]},
    "a-reason": {"reason": ["no_functional_improvement"]},
    "guideline_source": FILTER_SETS["guideline_source"],
    "two-specialties": FILTER_SETS["two-specialties"],
    "category-state": FILTER_SETS["category-state"],
    "opioids-real-only": FILTER_SETS["opioids-real-only"],
}


@pytest.mark.parametrize("chosen", REASON_SELECTIONS.values(), ids=list(REASON_SELECTIONS))
def test_reasons_under_one_selection_are_sums_of_the_reason_mart(con, chosen, ran):
    """Under one selection the Reasons page's shares by category and drug class are the
    reason_pairs mart's sums: the same frame, rows and order, as a scan of the items; under a
    decision without Upheld (no upheld item to share out), the mart's empty frame."""
    filters = Filters.build(**chosen)
    together = queries.reasons_together(con, filters, ("category", "drug_class"), 4)
    kept = [(n, v) for n, v in filters.selections if not (n == "decision" and "Upheld" in v)]
    summed = len(kept) <= 1 and not filters.exclude_synthetic
    summed = summed and not any(
        dimensions.get(name).shape == "list" and len(values) > 1 for name, values in kept
    )
    decision = filters.get("decision")
    summed = summed or (bool(decision) and "Upheld" not in decision)
    assert ran.count("reason_by_pairs") == summed and ran.count("reason_by") == (not summed)
    # The tests' letters are demo ones; Overturned alone leaves no upheld item to share out.
    assert (together.height > 0) == (
        "exclude_synthetic" not in chosen and "Upheld" in str(chosen.get("decision", "Upheld"))
    )
    scanned = queries._scanned_reasons(
        con, filters, [dimensions.get("category"), dimensions.get("drug_class")], 30, 4
    )
    assert_frame_equal(together, scanned)


def test_reasons_under_two_filters_selected_together_are_sums_of_the_reason_mart(con, oracle, ran):
    """Under one value of each of two filters the marts count together (Upheld selected too:
    every upheld item), the Reasons page's shares by category and drug class are the
    reason_pairs mart's sums: the same frame as a scan of the items; with a third filter,
    scanned."""
    by = [dimensions.get("category"), dimensions.get("drug_class")]
    pairs = _pairs_of_values(oracle, *PAIR_OF_FILTERS)
    upheld = Filters.build(**dict(pairs[0].selections), decision=["Upheld"])
    for filters in [*pairs, upheld]:
        ran.clear()
        together = queries.reasons_together(con, filters, ("category", "drug_class"), 4)
        assert ran.count("reason_by_pairs") == 1 and ran.count("reason_by") == 0
        assert together.height > 0 or filters not in (pairs[0], upheld)
        assert_frame_equal(together, queries._scanned_reasons(con, filters, by, 30, 4))
    third = Filters.build(**dict(pairs[0].selections), category=["Pharmaceuticals"])
    ran.clear()
    queries.reasons_together(con, third, ("category", "drug_class"), 4)
    assert ran.count("reason_by_pairs") == 0 and ran.count("reason_by") == 1


def test_a_warehouse_before_the_reason_mart_counts_the_reasons_from_the_items(
    warehouse_file, tmp_path, ran
):
    old = tmp_path / "old.duckdb"
    shutil.copyfile(warehouse_file, old)
    writer = duckdb.connect(str(old))
    writer.execute("drop table reason_pairs")
    writer.close()
    session = queries.connect(old)
    try:
        filters = Filters.build(**FILTER_SETS["specialty"])
        frame = queries.reasons_together(session, filters, ("category", "drug_class"), 4)
        assert "reason_by" in ran and "reason_by_pairs" not in ran
        new = queries.connect(warehouse_file)
        try:
            assert_frame_equal(
                frame, queries.reasons_together(new, filters, ("category", "drug_class"), 4)
            )
        finally:
            new.close()
    finally:
        session.close()


@pytest.mark.parametrize("chosen", ["all", "guideline_source", "drugs", "two-specialties"])
def test_reasons_counted_by_their_bits_as_from_their_lists(con, narrow_bits, chosen, monkeypatch):
    """Where every reason has a bit of its own, a scan counts the reasons by the items' bits
    (sql/_reason_counts_bits.sql); where some share one (the narrow warehouse, of the same
    letters), from their lists: the same frames, and those the lists give here."""
    filters = Filters.build(**FILTER_SETS.get(chosen, {}))
    dims = [dimensions.get("category"), dimensions.get("drug_class")]
    assert queries.reason_bits(con) and not queries.reason_bits(narrow_bits[0])
    by_bits = queries._scanned_reasons(con, filters, dims, 30, 4)
    assert by_bits.height > 0
    assert_frame_equal(by_bits, queries._scanned_reasons(narrow_bits[0], filters, dims, 30, 4))
    monkeypatch.setattr(queries, "reason_bits", lambda con: False)
    assert_frame_equal(by_bits, queries._scanned_reasons(con, filters, dims, 30, 4))


@pytest.mark.parametrize("chosen", [{}, *FILTER_SETS.values()], ids=["all", *FILTER_SETS])
def test_reason_by_equal_python(con, oracle, chosen):
    """Per (value, reason), for the 3 values with most upheld items (ties by value): upheld
    items giving the reason and the value's upheld items — counted in Python; the two
    dimensions in one pass give the same frames."""
    filters = Filters.build(**chosen)
    together = queries.reasons_together(con, filters, ("category", "drug_class"), 3)
    for name in ("category", "drug_class"):
        dim = dimensions.get(name)
        facts = expected.rows(oracle, filters, f"{dim.column}, reasons, overturned")
        upheld = Counter(value for value, _, over in facts if not over and value is not None)
        top = sorted(upheld, key=lambda v: (-upheld[v], v))[:3]
        with_reason = Counter(
            (value, reason)
            for value, reasons, over in facts
            if not over and value in top
            for reason in reasons
        )
        frame = queries.reason_by(con, filters, name, 3)
        got = {
            (r[name], r["reason"]): (r["upheld_with"], r["upheld_items"])
            for r in frame.iter_rows(named=True)
        }
        assert got == {(v, r): (k, upheld[v]) for (v, r), k in with_reason.items()}
        assert list(dict.fromkeys(frame.get_column(name))) == [
            v for v in top if any(value == v for value, _ in with_reason)
        ]
        assert_frame_equal(queries.reasons_from(together, name), frame)


# --- the headline numbers of one selection and a decision, from the facet_pairs mart --------


def _warehouse_of(folder, inputs) -> str:
    from etl.ingest import ingest
    from etl.settings import Settings

    settings = Settings(db=folder / "wh" / "current.duckdb", jobs=1)
    ingest(inputs, settings)
    return str(settings.db.resolve())


@pytest.fixture(scope="module", params=["every-item-a-demo", "no-demo-item"])
def unmixed(request, tmp_path_factory):
    """A warehouse whose items are all demo ones, or none (the test warehouse mixes them)."""
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "no-demo-item":  # the sample letters but the demo one among them
        samples = conftest.ROOT / "data" / "samples"
        for letter in samples.rglob("*.txt"):
            if not letter.read_text(encoding="utf-8").count("SY20-"):
                copy = folder / "letters" / letter.relative_to(samples)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(letter, copy)
        return _warehouse_of(folder, [folder / "letters"])
    conftest.write_corpus(folder / "corpus", letters=300, seed=11, pdf_share=0.0)
    return _warehouse_of(folder, [folder / "corpus"])


def _split_filters(oracle) -> list[Filters]:
    def top(column: str) -> str:
        (value,) = oracle.execute(
            f"select v from (select unnest({column}) as v from item_facts)"
            " group by v order by count(*) desc, v limit 1"
        ).fetchone()
        return value

    drug_class, category = (
        oracle.execute(
            f"select {c} from item_facts where {c} is not null group by {c} order by count(*) desc"
        ).fetchone()[0]
        for c in ("drug_class", "category")
    )
    return [
        Filters.build(injury_year=(2005, 2012), decision=["Overturned"]),
        Filters.build(decision_year=(2014, 2017), decision=["Upheld"]),
        Filters.build(drug_class=[drug_class], decision=["Upheld"]),
        Filters.build(category=[category], decision=["Overturned"]),
        Filters.build(specialty=[top("reviewer_specialties")], decision=["Upheld"]),
        Filters.build(drug=[top("drugs")], decision=["Overturned"]),
    ]


def test_one_selection_and_a_decision_are_summed_from_the_pairs_mart(unmixed, monkeypatch):
    """Letters, items, overturned and demo counts as the tests' own SQL counts them, and the
    frame counted over item_facts; not with both decisions, nor on a warehouse mixing demo
    letters with others."""
    session = queries.connect(unmixed)
    oracle = duckdb.connect(unmixed, read_only=True)
    try:
        summed = 0
        for filters in _split_filters(oracle):
            split = queries._summed_split(session, filters)
            summed += split is not None
            _check_summed_summary(session, oracle, filters, monkeypatch, "_summed_split")
        assert summed >= 5  # an item's own field's several values are not summed
        both = Filters.build(injury_year=(2005, 2012), decision=["Upheld", "Overturned"])
        assert queries._summed_split(session, both) is None
    finally:
        session.close()
        oracle.close()


def test_two_filters_selected_together_are_summed_from_the_pairs_mart(unmixed, monkeypatch):
    """The headline numbers under one value of each of two filters the mart counts together:
    letters, items, overturned and demo counts as the tests' own SQL counts them, and the
    frame counted over item_facts."""
    session = queries.connect(unmixed)
    oracle = duckdb.connect(unmixed, read_only=True)
    try:
        for filters in _pairs_of_values(oracle, *PAIR_OF_FILTERS):
            assert queries._summed_pair(session, filters) is not None
            _check_summed_summary(session, oracle, filters, monkeypatch, "_summed_pair")
    finally:
        session.close()
        oracle.close()


def test_a_warehouse_mixing_demo_letters_counts_them(con, oracle):
    filters = Filters.build(injury_year=(2005, 2012), decision=["Overturned"])
    assert queries._summed_split(con, filters) is None
    filters = _pairs_of_values(oracle, *PAIR_OF_FILTERS)[0]
    assert queries._two_selections(con, filters) is not None
    assert queries._summed_pair(con, filters) is None

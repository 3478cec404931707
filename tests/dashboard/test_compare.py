"""Compare: two values of a dimension (``queries.compare``, one SQL file per shape pair), the
comparison holding another dimension fixed, the league table; the page's numbers are checked
against statsmodels / scipy run on counts the tests take from the warehouse themselves."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pytest
import streamlit as st
from polars.testing import assert_frame_equal
from scipy import stats as sps
from statsmodels.stats.contingency_tables import StratifiedTable
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep, proportions_ztest
from streamlit.testing.v1 import AppTest

from dashboard import dimensions, queries, stats
from dashboard.filters import Filters
from tests.dashboard import expected, pages


def _values(dim, value: Any) -> list[str]:
    if dim.shape == "list":
        return list(value) if value else ([dim.empty] if dim.empty is not None else [])
    return [] if value is None else [str(value)]


def oracle_compare(
    oracle, filters: Filters, name: str, a: str, b: str, by: str | None
) -> dict[str | None, dict[str, int]]:
    """stratum -> {a_letters, a_n, a_overturned, b_letters, b_n, b_overturned, both_n}, from
    the item rows."""
    dim = dimensions.get(name)
    by_dim = dimensions.get(by) if by else None
    columns = f"{dim.column}, {by_dim.column if by_dim else 'null'}, overturned, letter_id"
    out: dict[str | None, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    letters: dict[tuple[str | None, str], set[str]] = defaultdict(set)
    for group, stratum, overturned, letter_id in expected.rows(oracle, filters, columns):
        values = set(_values(dim, group))
        side = "both" if {a, b} <= values else "a" if a in values else "b" if b in values else None
        if side is None:
            continue
        strata = ["(all items)"] if by_dim is None else (_values(by_dim, stratum) or [None])
        for s in strata:
            out[s][f"{side}_n"] += 1
            if side != "both":
                out[s][f"{side}_overturned"] += int(bool(overturned))
                letters[s, side].add(letter_id)
    for (s, side), ids in letters.items():
        out[s][f"{side}_letters"] = len(ids)
    return {s: dict(v) for s, v in out.items()}


def two_exclusive_values(oracle, name: str) -> tuple[str, str]:
    """The most frequent value and the next one with items of its own."""
    dim = dimensions.get(name)
    counts = expected.options(oracle, dim)
    ranked = sorted(counts, key=lambda v: (-counts[v], v))
    for b in ranked[1:]:
        strata = oracle_compare(oracle, Filters(), name, ranked[0], b, None)
        if strata and strata["(all items)"].get("b_n", 0):
            return ranked[0], b
    raise AssertionError("no second value")


@pytest.mark.parametrize(
    ("name", "by"),
    [
        ("category", "decision_year"),  # scalar by scalar (NULL years: a NULL stratum)
        ("category", "specialty"),  # scalar by list
        ("specialty", "category"),  # list by scalar, items under both left out
        ("state", "guideline_source"),  # list by list
        ("specialty", None),
        ("decision_year", None),
    ],
)
def test_compare_counts_match_the_items(con, oracle, name, by):
    a, b = two_exclusive_values(oracle, name)
    frame = queries.compare(con, Filters(), name, a, b, by)
    want = oracle_compare(oracle, Filters(), name, a, b, by)
    got = {
        row["stratum"]: {k: v for k, v in row.items() if k != "stratum" and v}
        for row in frame.iter_rows(named=True)
    }
    assert got == {s: {k: v for k, v in counts.items() if v} for s, counts in want.items()}
    # The strata with the most items of the two groups first, NULL last.
    totals = [r["a_n"] + r["b_n"] for r in frame.iter_rows(named=True) if r["stratum"]]
    assert totals == sorted(totals, reverse=True)
    if None in got:
        assert frame.item(frame.height - 1, "stratum") is None


@pytest.mark.parametrize(
    ("name", "by"),
    [
        ("category", "decision_year"),
        ("category", "specialty"),  # strata that overlap: the pooled rows are not their sum
        ("specialty", "category"),
        ("state", "guideline_source"),
        ("specialty", None),
    ],
)
@pytest.mark.parametrize(
    "chosen", [{}, {"specialty": ["Family Practice"]}], ids=["all", "one specialty"]
)
def test_one_scan_gives_the_crude_comparison_and_its_strata(con, oracle, name, by, chosen):
    """The Compare page's two sections from one query: its pooled rows are the crude
    comparison (the oracle's, without strata), its other rows the strata."""
    filters = Filters.build(**chosen)
    a, b = two_exclusive_values(oracle, name)
    found = queries.comparison(con, filters, name, a, b, by)
    crude = queries.compare_rows(found, pooled=True)
    want = oracle_compare(oracle, filters, name, a, b, None)
    assert {
        row["stratum"]: {k: v for k, v in row.items() if k != "stratum" and v}
        for row in crude.iter_rows(named=True)
    } == {s: {k: v for k, v in counts.items() if v} for s, counts in want.items()}
    assert_frame_equal(
        queries.compare_rows(found, pooled=False), queries.compare(con, filters, name, a, b, by)
    )


@pytest.mark.parametrize("name", ["specialty", "state", "category", "decision_year"])
@pytest.mark.parametrize(
    "chosen", [{}, {"specialty": ["Family Practice"]}], ids=["all", "one specialty"]
)
def test_the_candidates_for_b_count_what_compare_counts_as_b(con, oracle, name, chosen):
    """The default B's one query: per candidate, the items compare() would count as B."""
    filters = Filters.build(**chosen)
    values = [str(v) for v in queries.rates_by(con, filters, name).get_column(name).to_list()]
    a, candidates = values[0], tuple(values[1:7])
    got = dict(queries.compare_candidates(con, filters, name, a, candidates).iter_rows())
    want = {
        b: int(queries.compare(con, filters, name, a, b).get_column("b_n").sum())
        for b in candidates
    }
    assert got == {b: n for b, n in want.items() if n}
    if name == "specialty" and chosen:
        assert not got  # every item holds the filtered specialty: no B of its own


@pytest.mark.parametrize("narrow", [False, True], ids=["own bits", "shared bits"])
@pytest.mark.parametrize("name", ["specialty", "state"])
def test_the_candidates_for_b_by_bits_are_those_by_lists(
    con, narrow_bits, name, narrow, monkeypatch
):
    """Values that all have a bit of their own are counted from the items' bits (the list is
    not read), with the counts the lists give; a value sharing its bit (the narrow warehouse:
    three own bits a list) sends the query to the lists, and still counts what compare()
    counts as B."""
    session = narrow_bits[0] if narrow else con
    values = [str(v) for v in queries.rates_by(session, Filters(), name).get_column(name)]
    a, candidates = values[0], tuple(values[1:7])
    used: list[str] = []
    real_run = queries.run_sql

    def recorded(*args: Any, **kwargs: Any) -> Any:
        used.append(args[1])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(queries, "run_sql", recorded)
    found = queries.compare_candidates(session, Filters(), name, a, candidates)
    assert ("compare_candidates_bits" in used) is not narrow
    want = {
        b: int(queries.compare(session, Filters(), name, a, b).get_column("b_n").sum())
        for b in candidates
    }
    assert dict(found.iter_rows()) == {b: n for b, n in want.items() if n}
    monkeypatch.setattr(queries, "value_bits", lambda con: {})
    by_lists = queries.compare_candidates(session, Filters(), name, a, candidates)
    assert_frame_equal(found.sort("candidate"), by_lists.sort("candidate"))


def test_compare_refuses_nonsense(con):
    with pytest.raises(ValueError, match="two different values"):
        queries.compare(con, Filters(), "category", "Surgery", "Surgery")
    with pytest.raises(ValueError, match="another dimension"):
        queries.compare(con, Filters(), "category", "Surgery", "Injection", "category")


def test_compare_follows_the_filters(con, oracle):
    filters = Filters.build(decision_year=(2016, 2020), exclude_synthetic=False)
    frame = queries.compare(con, filters, "category", "Pharmaceuticals", "Surgery", "specialty")
    want = oracle_compare(oracle, filters, "category", "Pharmaceuticals", "Surgery", "specialty")
    assert int(frame.get_column("a_n").sum()) == sum(v.get("a_n", 0) for v in want.values())


# --- the page ------------------------------------------------------------------------------


def run_page(**params: str | list[str]) -> AppTest:
    return pages.run_page("compare", **params)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def test_specialty_a_against_b_holding_category_fixed(app_env, oracle):
    a, b = two_exclusive_values(oracle, "specialty")
    at = run_page(compare="specialty", a=a, b=b, adjust="category")
    assert [s.value for s in at.selectbox][:4] == ["specialty", a, b, "category"]
    shown = metrics(at)

    # Counts straight from the warehouse; statistics straight from the libraries.
    crude = oracle_compare(oracle, Filters(), "specialty", a, b, None)["(all items)"]
    k1, n1 = crude.get("a_overturned", 0), crude["a_n"]
    k2, n2 = crude.get("b_overturned", 0), crude["b_n"]
    assert shown[f"Overturn rate: {a}"] == f"{k1 / n1:.1%}"
    assert shown[f"Overturn rate: {b}"] == f"{k2 / n2:.1%}"
    assert shown["Difference (A − B)"] == f"{(k1 / n1 - k2 / n2) * 100:+.1f} points"
    low, high = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb")
    captions = [c.value for c in at.caption]
    assert f"95% CI {low * 100:+.1f} to {high * 100:+.1f} points" in captions
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    cells = np.outer(table.sum(1), table.sum(0)) / table.sum()
    p = (
        sps.fisher_exact(table).pvalue
        if cells.min() < 5
        else proportions_ztest([k1, k2], [n1, n2])[1]
    )
    assert shown["p-value"] == p_text(p)

    strata = oracle_compare(oracle, Filters(), "specialty", a, b, "category")
    tables = [
        np.array(
            [
                [c.get("a_overturned", 0), c["a_n"] - c.get("a_overturned", 0)],
                [c.get("b_overturned", 0), c["b_n"] - c.get("b_overturned", 0)],
            ]
        )
        for s, c in strata.items()
        if s is not None
        and c.get("a_n", 0)
        and c.get("b_n", 0)
        and 0 < c.get("a_overturned", 0) + c.get("b_overturned", 0) < c["a_n"] + c["b_n"]
    ]
    assert len(tables) >= 2
    library = StratifiedTable(tables)
    assert shown["Odds ratio holding request category fixed"] == f"{library.oddsratio_pooled:.2f}"
    low, high = library.oddsratio_pooled_confint()
    assert f"95% CI {low:.2f}–{high:.2f} · {len(tables)} strata" in captions
    assert shown["Common odds ratio = 1"] == p_text(library.test_null_odds().pvalue)
    assert shown["Strata agree"] == p_text(library.test_equal_odds().pvalue)

    # The per-stratum table: one row per category holding either group.
    per_stratum = next(df.value for df in at.dataframe if "category" in df.value.columns)
    assert set(per_stratum["category"]) == {s for s in strata if s is not None}
    labels = [d.proto.label for d in at.get("download_button")]
    assert "Download CSV (compare specialty by category)" in labels


def test_league_table_tests_every_group_and_adjusts(app_env, oracle):
    at = run_page(league="state")
    total = expected.summary(oracle, Filters())
    p0 = total["overturned"] / total["n"]
    groups = expected.rates(oracle, Filters(), dimensions.get("state"))
    league = next(df.value for df in at.dataframe if "q_value" in df.value.columns)
    assert list(league["state"]) == [v for v, _, _ in groups]
    p_values = [sps.binomtest(k, n, p0).pvalue for _, n, k in groups]
    _, q_values, _, _ = multipletests(p_values, method="fdr_bh")
    assert list(league["p_value"]) == pytest.approx(p_values)
    assert list(league["q_value"]) == pytest.approx(list(q_values))
    assert any(
        f"{len(groups):,} reviewer licensure state values tested at once" in m.value
        and "Benjamini–Hochberg" in m.value
        for m in at.markdown
    )
    assert len(at.get("vega_lite_chart")) == 1


def test_the_league_tables_tests_are_kept_between_reruns(app_env, monkeypatch, request):
    """The binomial tests of the league table run once per table shown: not again on a rerun
    showing the same rows (half of the page's rerun at 27 specialties), again for other rows."""
    tested: list[Any] = []
    real = stats.funnel

    def counted(p0: float, groups: Any) -> Any:
        tested.append(groups)
        return real(p0, groups)

    monkeypatch.setattr(stats, "funnel", counted)
    st.cache_data.clear()
    request.addfinalizer(st.cache_data.clear)
    at = run_page(league="state")
    shown = next(df.value for df in at.dataframe if "q_value" in df.value.columns)
    at.run()
    assert len(tested) == 1
    again = next(df.value for df in at.dataframe if "q_value" in df.value.columns)
    assert again.equals(shown)
    run_page(league="specialty")
    assert len(tested) == 2 and tested[1] != tested[0]
    run_page(league="state")
    assert len(tested) == 2


def test_compare_state_in_the_url(app_env, oracle):
    at = run_page()
    assert at.selectbox(key="compare").value == "specialty"
    at.selectbox(key="compare").set_value("category").run()
    assert at.query_params["compare"] == "category"
    assert at.selectbox(key="adjust").value == "none"  # category cannot hold itself fixed
    values = at.selectbox(key="a").options
    at.selectbox(key="b").set_value(values[3]).run()
    assert at.query_params["b"] == values[3]
    # Another dimension: A and B start over (no warning about stale values).
    at.selectbox(key="compare").set_value("decision").run()
    assert "b" not in at.query_params
    assert set(at.selectbox(key="a").options) == {"Upheld", "Overturned"}
    assert not at.warning.values or not any("Ignored" in w for w in at.warning.values)


def test_compare_unknown_values_in_a_link_are_named(app_env):
    at = run_page(compare="category", a="Astrology", adjust="nothing")
    warnings = [w.value for w in at.warning]
    assert any("a=Astrology" in w for w in warnings)
    assert any("adjust=nothing" in w for w in warnings)


@pytest.mark.parametrize("name", ["specialty", "state", "guideline_source"])
def test_a_list_value_with_a_bit_of_its_own_is_compared_by_its_bits(con, oracle, name, monkeypatch):
    """A list value whose bit no other value shares is asked of the item's bits, not its list
    (the list is not read); the answer is the same as by the lists, and the empty label (no
    bit: an empty list) is asked of the lists."""
    dim = dimensions.get(name)
    a, b = two_exclusive_values(oracle, name)
    params: dict[str, Any] = {}
    assert f"{dim.column}_bits &" in queries.holds_value(con, dim, a, "a", params)
    assert set(params) == {"a_mask", "a_low"}
    by_bits = queries.comparison(con, Filters(), name, a, b, "category")
    if dim.empty is not None:
        assert "_bits" not in queries.holds_value(con, dim, dim.empty, "b", {})
        frame = queries.compare(con, Filters(), name, a, dim.empty)
        want = oracle_compare(oracle, Filters(), name, a, dim.empty, None)
        assert {
            row["stratum"]: {k: v for k, v in row.items() if k != "stratum" and v}
            for row in frame.iter_rows(named=True)
        } == {s: {k: v for k, v in counts.items() if v} for s, counts in want.items()}
    monkeypatch.setattr(queries, "value_bits", lambda con: {})
    assert "_bits" not in queries.holds_value(con, dim, a, "a", {})
    assert_frame_equal(by_bits, queries.comparison(con, Filters(), name, a, b, "category"))

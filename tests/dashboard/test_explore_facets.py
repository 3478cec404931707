"""The facets added as registry dimensions: decision month and quarter, patient age band and
sex, body region, reviewer licensed in California, items in the letter, partial
authorization, letter era. Each mart column is checked against the base tables in plain
Python; each is a filter, a rate table, an Explore axis and a column of the item CSV; the
finer trends break where periods are missing."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import charts, dimensions, queries
from dashboard.filters import Filters
from etl.classify.body_regions import body_regions
from tests.dashboard import expected, pages

APP = pages.APP
FACETS = (
    "decision_month",
    "decision_quarter",
    "age_band",
    "patient_sex",
    "body_region",
    "licensed_in_california",
    "items_in_letter",
    "partial_authorization",
    "letter_era",
)


def _age_band(age: int | None) -> str | None:
    if age is None:
        return None
    for limit, band in ((18, "under 18"), (30, "18–29"), (40, "30–39"), (50, "40–49")):
        if age < limit:
            return band
    return "50–59" if age < 60 else "60–69" if age < 70 else "70+"


def _facts_from_base_tables(oracle) -> dict[tuple[str, int], dict[str, Any]]:
    letters = {
        row[0]: row
        for row in oracle.execute(
            "select letter_id, decision_date, patient_age, patient_sex, diagnoses,"
            " reviewer_states, layout from letters"
        ).fetchall()
    }
    items_per_letter: dict[str, int] = {}
    decisions = oracle.execute(
        "select letter_id, item_no, original_request, authorized_portion from decisions"
    ).fetchall()
    for letter_id, *_ in decisions:
        items_per_letter[letter_id] = items_per_letter.get(letter_id, 0) + 1
    era = {"A": "A: 2013 notice", "B": "B: 2014–15 letter", "B2": "B2: 2016+ letter"}
    out = {}
    for letter_id, item_no, original, authorized in decisions:
        _, day, age, sex, diagnoses, states, layout = letters[letter_id]
        states = states or []
        out[(letter_id, item_no)] = {
            "decision_month": day.strftime("%Y-%m") if day else None,
            "decision_quarter": f"{day.year}-Q{(day.month - 1) // 3 + 1}" if day else None,
            "age_band": _age_band(age),
            "patient_sex": sex,
            "body_regions": body_regions(diagnoses),
            "licensed_in_california": (
                None if not states else "yes" if "California" in states else "only elsewhere"
            ),
            "items_in_letter": items_per_letter[letter_id],
            "partial_authorization": "yes" if original or authorized else "no",
            "letter_era": era[layout],
        }
    return out


def test_facet_columns_follow_the_base_tables(oracle):
    want = _facts_from_base_tables(oracle)
    columns = [dimensions.get(name).column for name in FACETS]
    got = {
        (row[0], row[1]): dict(zip(columns, row[2:], strict=True))
        for row in oracle.execute(
            f"select letter_id, item_no, {', '.join(columns)} from item_facts"
        ).fetchall()
    }
    assert got == want
    # The corpus exercises every facet: several values, some letters without one.
    for column in columns:
        values = {str(v[column]) for v in want.values()}
        assert len(values) >= 2, column
    assert any(v["body_regions"] == [] for v in want.values())
    assert any(len(v["body_regions"]) > 1 for v in want.values())
    assert any(v["partial_authorization"] == "yes" for v in want.values())


@pytest.mark.parametrize("name", FACETS)
def test_each_facet_is_a_rate_table_and_a_filter(con, oracle, name):
    dim = dimensions.get(name)
    assert dim.widget is not None and not dim.sidebar
    rates = queries.rates_by(con, Filters(), name)
    want = expected.rates(oracle, Filters(), dim)
    assert [(r[name], r["n"], r["overturned"]) for r in rates.iter_rows(named=True)] == want
    value = want[0][0]
    chosen: Any = (value, value) if dim.widget == "range" else [str(value)]
    filters = Filters.build(**{name: chosen})
    summary = queries.summary(con, filters).row(0, named=True)
    assert summary["n"] == expected.summary(oracle, filters)["n"] == want[0][1]


@pytest.mark.parametrize("name", ["body_region", "age_band", "items_in_letter"])
def test_each_facet_is_an_explore_axis(con, oracle, name):
    frame = queries.crosstab(con, Filters(), name, "decision", 50, 2)
    want = {(str(v), n) for v, n, _ in expected.rates(oracle, Filters(), dimensions.get(name))}
    per_row = frame.group_by("row_value").agg(pl.col("n").sum())
    assert set(per_row.iter_rows()) == want  # decision splits every item once


def test_the_item_csv_has_every_registry_column(con):
    frame = queries.items(con, Filters(), limit=3)
    for dim in dimensions.DIMENSIONS:
        assert dim.column in frame.columns, dim.name
    assert len(frame.columns) == len(set(frame.columns))


def test_finer_trends_break_at_missing_periods():
    frame = pl.DataFrame(
        {"decision_quarter": ["2016-Q3", "2017-Q2"], "n": [40, 50], "overturn_rate": [0.1, 0.2]}
    )
    filled = charts.with_gaps(frame, "decision_quarter")
    assert filled.get_column("decision_quarter").to_list() == [
        "2016-Q3",
        "2016-Q4",
        "2017-Q1",
        "2017-Q2",
    ]
    assert filled.get_column("n").to_list() == [40, None, None, 50]
    months = charts.with_gaps(
        pl.DataFrame({"decision_month": ["2016-11", "2017-02"], "n": [1, 2]}), "decision_month"
    )
    assert months.height == 4 and months.item(1, "decision_month") == "2016-12"
    years = charts.with_gaps(
        pl.DataFrame({"decision_year": [2013, 2016], "n": [3, 4]}), "decision_year"
    )
    assert years.get_column("decision_year").to_list() == [2013, 2014, 2015, 2016]
    spec = charts.rate_trend(filled, "decision_quarter").to_dict()
    marks = [layer["mark"] for layer in spec["layer"]]
    assert [m.get("invalid") for m in marks[:2]] == ["break-paths-show-domains"] * 2
    other = pl.DataFrame({"category": ["a", "c"], "n": [1, 2]})
    assert charts.with_gaps(other, "category").equals(other)


def test_timeline_draws_the_finer_trend_only_for_a_large_slice(app_env, oracle, monkeypatch):
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("app_pages/timeline.py")
    at.run()
    assert not at.exception
    assert at.selectbox(key="period").value == "decision_quarter"
    quarters = expected.rates(oracle, Filters(), dimensions.get("decision_quarter"))
    counts = sorted(n for _, n, _ in quarters)
    median = (
        counts[len(counts) // 2]
        if len(counts) % 2
        else sum(counts[len(counts) // 2 - 1 : len(counts) // 2 + 1]) / 2
    )
    too_small = any("Too few items per decision quarter" in i.value for i in at.info)
    assert too_small is (int(median) < 30)
    monkeypatch.setenv("IMR_SMALL_N", "2")
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["period"] = "decision_month"
    at.switch_page("app_pages/timeline.py")
    at.run()
    assert not any("Too few items" in i.value for i in at.info)
    months = next(df.value for df in at.dataframe if "decision_month" in df.value.columns)
    want = expected.rates(oracle, Filters(), dimensions.get("decision_month"))
    assert list(months["decision_month"]) == [v for v, _, _ in want]

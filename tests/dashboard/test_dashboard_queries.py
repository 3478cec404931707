"""Queries against a real warehouse built from hand-made rows (see conftest.py for the rows)."""

from __future__ import annotations

import math
import subprocess
import sys

import duckdb
import polars as pl
import pytest

from dashboard import queries
from dashboard.filters import LIST_FILTERS, Filters
from etl.warehouse import contract

ALL = Filters()
Z = 1.959963984540054


def wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """95% Wilson score interval, straight from the textbook formula."""
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def n_and_overturned(con: duckdb.DuckDBPyConnection, filters: Filters) -> tuple[int, int]:
    row = queries.summary(con, filters).row(0, named=True)
    return row["n"], row["overturned"]


def by(frame: pl.DataFrame, column: str) -> dict[str, dict]:
    return {row[column]: row for row in frame.iter_rows(named=True)}


def test_summary_unfiltered(con):
    row = queries.summary(con, ALL).row(0, named=True)
    assert (row["letters"], row["n"], row["overturned"], row["upheld"]) == (10, 23, 9, 14)
    assert (row["synthetic_letters"], row["synthetic_items"]) == (2, 3)
    assert row["overturn_rate"] == pytest.approx(9 / 23)
    assert row["uphold_rate"] == pytest.approx(14 / 23)
    assert row["small_sample"] is True  # 23 < 30


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters.build(drug_class=["Opioids"]), (6, 2)),
        (Filters.build(category=["Pharmaceuticals"]), (11, 3)),
        (Filters.build(decision=["Overturned"]), (9, 9)),
        (Filters.build(decision=["Upheld", "Overturned"]), (23, 9)),
        (Filters.build(specialty=["Pain Management"]), (6, 1)),
        (Filters.build(specialty=["Physical Medicine & Rehabilitation"]), (7, 3)),
        (Filters.build(state=["Nevada"]), (4, 2)),
        (Filters.build(state=["California"]), (15, 5)),
        (Filters.build(guideline_source=["ODG"]), (4, 3)),
        (Filters.build(drug=["hydrocodone"]), (3, 1)),
        (Filters.build(drug=["hydrocodone", "tramadol"]), (5, 1)),
        (Filters.build(injury_year=(2011, 2014)), (10, 4)),
        (Filters.build(injury_year=(2014, 2011)), (10, 4)),
        (Filters.build(decision_year=(2016, 2017)), (8, 3)),
        (Filters.build(exclude_synthetic=True), (20, 7)),
        (Filters.build(drug_class=["Opioids"], exclude_synthetic=True), (5, 1)),
        (Filters.build(category=["Surgery"], state=["Nevada"]), (2, 1)),
    ],
)
def test_filters_change_numbers_as_sql_says(con, filters, expected):
    assert n_and_overturned(con, filters) == expected
    # The same count straight from item_facts, written independently of the filter SQL.
    assert queries.items(con, filters).height == expected[0]


@pytest.mark.parametrize("name", list(LIST_FILTERS))
@pytest.mark.parametrize(
    "payload",
    [
        "' or 1=1 --",
        "Opioids' or '1'='1",
        "x'); drop table item_facts; --",
        "$category",
        "%",
        "\\",
    ],
)
def test_sql_injection_in_every_filter_returns_nothing(con, name, payload):
    filters = Filters.build(**{name: [payload]})
    assert n_and_overturned(con, filters) == (0, 0)
    assert queries.by_category(con, filters).height == 0
    assert queries.items(con, filters).height == 0
    # and the warehouse is intact
    assert n_and_overturned(con, ALL) == (23, 9)


@pytest.mark.parametrize("payload", ["' or 1=1 --", "%", "_", "\\", "'; drop table decisions; --"])
def test_search_text_is_bound_and_literal(con, payload):
    assert queries.search_items(con, ALL, payload).height == 0
    assert queries.search_count(con, ALL, payload).row(0) == (0, 0)


def test_search_requests_and_rationales(con):
    hits = queries.search_items(con, ALL, "NORCO")
    assert sorted(hits.get_column("letter_id").to_list()) == [
        "CM13-0000001",
        "CM16-0000006",
        "CM17-0000008",
    ]
    assert queries.search_count(con, ALL, "norco").row(0) == (3, 3)
    rationale_hit = queries.search_items(con, ALL, "<script>")
    assert rationale_hit.select("letter_id", "item_no").row(0) == ("CM14-0000002", 3)
    assert queries.search_items(con, ALL, None).height == 23
    assert queries.search_items(con, Filters.build(decision=["Upheld"]), "norco").height == 2


@pytest.mark.parametrize(("k", "n"), [(9, 23), (0, 5), (5, 5), (1, 3), (2, 6), (300, 1000)])
def test_wilson_matches_formula(con, k, n):
    row = con.sql("select wilson_lower(?, ?), wilson_upper(?, ?)", params=[k, n, k, n]).fetchall()[
        0
    ]
    lower, upper = wilson(k, n)
    assert row[0] == pytest.approx(lower, abs=1e-12)
    assert row[1] == pytest.approx(upper, abs=1e-12)


def test_wilson_known_value(con):
    # 1 of 3: the textbook 95% Wilson interval is 0.0615 – 0.7923.
    lower, upper = con.sql("select wilson_lower(1, 3), wilson_upper(1, 3)").fetchall()[0]
    assert round(lower, 4) == 0.0615
    assert round(upper, 4) == 0.7923


def test_every_rate_has_n_and_interval(con):
    frame = queries.by_category(con, ALL)
    for row in frame.iter_rows(named=True):
        lower, upper = wilson(row["overturned"], row["n"])
        assert row["overturn_lower"] == pytest.approx(lower)
        assert row["overturn_upper"] == pytest.approx(upper)
        assert row["uphold_lower"] == pytest.approx(1 - upper)
        assert row["uphold_upper"] == pytest.approx(1 - lower)
        assert row["overturn_lower"] <= row["overturn_rate"] <= row["overturn_upper"]
    assert by(frame, "category")["Pharmaceuticals"]["n"] == 11


def test_small_sample_threshold_is_a_parameter(con):
    assert queries.summary(con, ALL, small_n=23).item(0, "small_sample") is False
    assert queries.summary(con, ALL, small_n=24).item(0, "small_sample") is True


def test_empty_slice_has_null_rates(con):
    row = queries.summary(con, Filters.build(category=["nothing"])).row(0, named=True)
    assert row["n"] == 0
    assert row["overturn_rate"] is None and row["overturn_lower"] is None


def test_by_drug_class_and_drugs_in_class(con):
    classes = by(queries.by_drug_class(con, ALL), "drug_class")
    assert classes["Opioids"]["n"] == 6 and classes["Opioids"]["overturned"] == 2
    assert sum(r["n"] for r in classes.values()) == 11
    drugs = by(queries.drugs_in_class(con, ALL, "Opioids"), "drug")
    assert {d: (r["n"], r["overturned"]) for d, r in drugs.items()} == {
        "acetaminophen": (4, 2),
        "hydrocodone": (3, 1),
        "oxycodone": (1, 1),
        "tramadol": (2, 0),
    }


def test_list_dimensions_count_items_under_each_value(con):
    specialties = by(queries.by_specialty(con, ALL), "specialty")
    assert specialties["Pain Management"]["n"] == 6
    assert specialties["Physical Medicine & Rehabilitation"]["n"] == 7
    # CM13-0000001 and CM16-0000006 list two specialties: their 6 items count twice
    assert sum(r["n"] for r in specialties.values()) == 23 + 6 + 3 - 0
    states = by(queries.by_state(con, ALL), "state")
    assert (states["California"]["n"], states["Nevada"]["n"]) == (15, 4)
    sources = by(queries.by_guideline_source(con, ALL), "guideline_source")
    assert sources["ODG"]["n"] == 4
    assert sources["(none cited)"]["n"] == 2  # items 6 and 18 of the fixture
    assert sources["Other"]["n"] == 1


def test_source_concordance(con):
    rows = by(queries.source_concordance(con, ALL), "maximus_source")
    overall = rows["All sources"]
    assert (overall["n"], overall["same"]) == (19, 16)
    assert overall["same_lower"] == pytest.approx(wilson(16, 19)[0])
    odg = rows["ODG"]  # items 3, 5, 9, 21: claims administrator also cites ODG on 3, 9, 21
    assert (odg["n"], odg["same"]) == (4, 3)


def test_years_and_timeliness(con):
    injury = by(queries.by_injury_year(con, ALL), "injury_year")
    assert sum(r["n"] for r in injury.values()) == 21  # CM16-0000007 states no injury date
    decision = by(queries.by_decision_year(con, ALL), "decision_year")
    assert {y: r["n"] for y, r in decision.items()} == {
        2013: 3,
        2014: 5,
        2015: 5,
        2016: 5,
        2017: 3,
        2018: 2,
    }
    gaps = queries.by_years_to_decision(con, ALL)
    assert gaps.get_column("n").sum() == 21
    timely = by(queries.timeliness(con, ALL), "priority")
    assert timely["Standard"]["letters"] == 6
    assert timely["Standard"]["median_days"] == 30
    assert timely["Standard"]["min_days"] == 28
    assert timely["Expedited"]["letters"] == 1 and timely["Expedited"]["median_days"] == 3


def test_items_columns_and_limit(con):
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
    assert queries.items(con, ALL, limit=5).height == 5


def test_letter_detail(con):
    head = queries.letter(con, "CM14-0000002").row(0, named=True)
    assert head["outcome"] == "Partially Overturned"
    assert head["reviewer_states"] == ["California", "Nevada"]
    assert queries.letter_items(con, "CM14-0000002").height == 3
    assert queries.letter_citations(con, "CM14-0000002").height == 4
    assert queries.letter(con, "' or 1=1 --").height == 0


def test_filter_options_and_data_quality(con):
    options = queries.filter_options(con)
    counts = {(d, v): n for d, v, n in options.iter_rows()}
    assert counts[("category", "Pharmaceuticals")] == 11
    assert counts[("drug_class", "Opioids")] == 6
    assert counts[("specialty", "Pain Management")] == 6
    assert counts[("decision", "Overturned")] == 9
    assert counts[("injury_year", "2015")] == 4
    coverage = queries.parse_coverage(con)
    case = coverage.filter(
        (pl.col("scope") == "letters")
        & (pl.col("field") == "case_number")
        & (pl.col("layout") == "all")
    ).row(0, named=True)
    assert (case["present"], case["total"]) == (9, 10)
    reasons = by(queries.rejects_by_reason(con), "reason")
    assert reasons["no_text"]["files"] == 2
    unresolved = by(queries.unresolved(con), "value")
    assert unresolved["Sports Medicin"]["occurrences"] == 2
    assert queries.rejects(con, 1).height == 1


def test_unused_or_missing_parameters_are_caught(con):
    with pytest.raises(ValueError, match="needs parameters"):
        queries.run_sql(con, "summary", {})


def test_like_pattern_escapes_wildcards():
    assert queries.like_pattern("  ") is None
    assert queries.like_pattern("50%_x\\") == "%50\\%\\_x\\\\%"


def test_queries_do_not_import_streamlit():
    code = "import sys, dashboard.queries, dashboard.charts; sys.exit('streamlit' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_sql_files_use_lowercase_keywords():
    for path in queries.SQL_DIR.glob("*.sql"):
        text = path.read_text()
        for keyword in ("SELECT", "FROM", "WHERE", "GROUP BY", "ORDER BY", " WITH "):
            assert keyword not in text, (path.name, keyword)


def test_wilson_helper_is_sane():
    lower, upper = wilson(0, 10)
    assert lower == 0 and math.isclose(upper, 0.2775327998628892)


def test_views_contract(con, tmp_path):
    assert queries.missing_columns(con).height == 0
    bare = tmp_path / "bare.duckdb"
    with duckdb.connect(str(bare)) as c:
        c.execute(contract.ddl())
    with duckdb.connect(str(bare), read_only=True) as c:
        missing = queries.missing_columns(c)
    assert set(missing.get_column("table")) == {"item_facts", "filter_options", "parse_coverage"}

"""The rough edges users hit (issue 13), one test or more each; the ones only a browser shows
(Enter in a filter, Back, a phone, dark mode, the keyboard, a bar click) are driven in
tests/browser/test_explore_rough_edges.py. Expected numbers come from the tests' own SQL."""

from __future__ import annotations

import csv
import io
import json

import polars as pl
import pyarrow as pa
import pytest
from streamlit.proto.MultiSelect_pb2 import MultiSelect
from streamlit.testing.v1 import AppTest

from dashboard import charts, dimensions, export, queries, reference, ui
from dashboard.filters import Filters
from tests.dashboard import expected, pages

APP = pages.APP


def run_page(page: str, **params: str | list[str]) -> AppTest:
    return pages.run_page(page, timeout=90, **params)


PAGES = [
    "overview",
    "medications",
    "reviewers",
    "guidelines",
    "timeline",
    "explore",
    "compare",
    "letters",
]


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def warnings(at: AppTest) -> str:
    return "\n".join(w.value for w in at.warning)


# --- 1. facet counts follow the other filters ----------------------------------------------


# Counted from the facet_pairs mart where one selection is on (a scalar filter, one value of
# a list filter, a range), with or without a decision (its items split by the mart's
# overturned), else over item_facts (two values of a list filter, two filters).
OPTION_FILTERS = [
    {"drug_class": ["Opioids"], "decision": ["Overturned"]},
    {"injury_year": (2005, 2012), "decision": ["Upheld"]},
    {"drug": ["hydrocodone"], "decision": ["Upheld", "Overturned"]},
    {"specialty": ["Family Practice"], "decision": ["Overturned"]},
    {"drug_class": ["Opioids", "NSAID"]},
    {"specialty": ["Family Practice"]},
    {"drug": ["hydrocodone", "tramadol"]},
    {"decision_year": (2016, 2017)},
    {"injury_year": (2005, 2012), "state": ["California"]},
    # Three list filters: every list and the scalar columns counted under the others.
    {"drug": ["hydrocodone"], "guideline_source": ["MTUS"], "specialty": ["Family Practice"]},
]


def test_1_one_selection_is_counted_from_the_pairs_mart():
    paired = {d.name for d in dimensions.FILTERS}
    one = queries._one_selection
    assert one(Filters.build(drug_class=["Opioids", "NSAID"]), paired)
    assert one(Filters.build(specialty=["Family Practice"]), paired)
    assert one(Filters.build(decision_year=(2016, 2017)), paired)
    assert one(Filters.build(drug=["hydrocodone", "tramadol"]), paired) is None
    assert one(Filters.build(drug=["acetaminophen + hydrocodone"]), paired) is None
    assert one(Filters.build(drug_class=["Opioids"], decision=["Upheld"]), paired) is None
    assert one(Filters.build(drug_class=["Opioids"], exclude_synthetic=True), paired) is None
    assert one(Filters.build(drug_class=["Opioids"], search="tramadol"), paired) is None
    assert one(Filters.build(drug_class=["Opioids"]), paired - {"drug_class"}) is None


def test_1_one_selection_with_a_decision_is_split_by_the_pairs_mart():
    paired = {d.name for d in dimensions.FILTERS}
    split = queries._split_selection
    opioids = {"pair_dimension": "drug_class", "pair_values": ["Opioids"]}
    assert split(Filters.build(drug_class=["Opioids"], decision=["Overturned"]), paired) == {
        **opioids,
        "pair_low": None,
        "pair_high": None,
        "pair_outcome": True,
        "outcome_dimension": "decision",
        "outcome_value": "Overturned",
    }
    upheld = split(Filters.build(drug_class=["Opioids"], decision=["Upheld"]), paired)
    assert upheld is not None and upheld["pair_outcome"] is False
    both = split(Filters.build(drug_class=["Opioids"], decision=["Upheld", "Overturned"]), paired)
    assert both is not None and both["pair_outcome"] is None
    # Not a selection of the decision, the decision alone, a value no item holds, or the rest
    # not one selection the mart counts under.
    assert split(Filters.build(drug_class=["Opioids"]), paired) is None
    assert split(Filters.build(decision=["Upheld"]), paired) is None
    assert split(Filters.build(drug_class=["Opioids"], decision=["Remanded"]), paired) is None
    assert (
        split(Filters.build(drug=["hydrocodone", "tramadol"], decision=["Upheld"]), paired) is None
    )
    assert (
        split(Filters.build(drug_class=["Opioids"], decision=["Upheld"]), paired - {"decision"})
        is None
    )


@pytest.mark.parametrize("narrow", [False, True], ids=["63-own-bits", "3-own-bits"])
@pytest.mark.parametrize("chosen", OPTION_FILTERS, ids=lambda c: "-".join(c))
def test_1_option_counts_follow_the_other_filters(request, chosen, narrow):
    """Also on a warehouse whose lists have values sharing a bit (counted from the lists of
    the items holding it) beside values with bits of their own (counted by the bits)."""
    if narrow:
        con, oracle = request.getfixturevalue("narrow_bits")
    else:
        con, oracle = request.getfixturevalue("con"), request.getfixturevalue("oracle")
    filters = Filters.build(**chosen)
    options = queries.filter_options(con, filters)
    for dim in dimensions.FILTERS:
        part = options.filter(pl.col("dimension") == dim.name)
        # Every value the warehouse holds is offered (zero counts last) ...
        assert set(part.get_column("value")) == set(expected.options(oracle, dim)), dim.name
        counts = part.get_column("n").to_list()
        assert counts == sorted(counts, reverse=True)
        # ... counted under the other filters, not its own (Datasette's facets).
        others = filters.without(dim.name)
        want: dict[str, int] = {}
        for (value,) in expected.rows(oracle, others, dim.column):
            for v in value if dim.shape == "list" else [value]:
                if v is not None:
                    want[str(v)] = want.get(str(v), 0) + 1
        got = {v: n for v, n in part.select("value", "n").iter_rows() if n}
        assert got == want, dim.name
    if "decision" in chosen:
        decision = dict(
            options.filter(pl.col("dimension") == "decision").select("value", "n").iter_rows()
        )
        assert decision["Upheld"] > 0  # Upheld is counted among opioids although not selected


def test_1_sidebar_counts_are_those_of_the_view(app_env, oracle):
    at = run_page("overview", drug_class="Opioids", decision="Overturned")
    both = expected.summary(oracle, Filters.build(drug_class=["Opioids"], decision=["Overturned"]))
    opioids = expected.summary(oracle, Filters.build(drug_class=["Opioids"]))
    assert 0 < both["n"] < opioids["n"]
    shown = captions(at)
    assert f"Overturned: {ui.plural(both['n'], 'item')}" in shown
    # Option labels stay plain values (a bound widget writes its label into the URL).
    assert set(at.multiselect(key="decision").options) == {"Upheld", "Overturned"}
    label = at.multiselect(key="category").label
    categories = len(expected.options(oracle, dimensions.get("category")))
    assert label.startswith("Request category (") and f"of {categories}" in label


def _more_widgets(at: AppTest) -> set[str]:
    more = {d.param for d in dimensions.FILTERS if not d.sidebar}
    built = {w.key for w in [*at.multiselect, *at.slider]}
    return more & built


def test_1_more_filters_are_counted_only_when_shown(app_env, oracle):
    """Closed and without a selection, "More filters" builds no widget, so its 13 filters'
    option counts are not run; opened, every one is built with counts under the filters; a
    selection in the link builds them without opening it."""
    chosen = {"drug_class": "Opioids", "decision": "Overturned"}
    at = run_page("overview", **chosen)
    assert _more_widgets(at) == set()
    at.session_state[ui.MORE_FILTERS] = True  # what opening the expander does
    at.run()
    assert _more_widgets(at) == {d.param for d in dimensions.FILTERS if not d.sidebar}
    dim = dimensions.get("body_region")
    filters = Filters.build(drug_class=["Opioids"], decision=["Overturned"])
    with_items = {v for (value,) in expected.rows(oracle, filters, dim.column) for v in value or []}
    every = expected.options(oracle, dim)
    assert 0 < len(with_items) < len(every)  # the counts follow the filters
    label = at.multiselect(key=dim.param).label
    assert label == f"{dim.label} ({len(with_items):,} of {len(every):,})"
    value = expected.top_value(oracle, dim)
    linked = run_page("overview", **chosen, **{dim.param: value})
    assert dim.param in _more_widgets(linked)
    assert linked.multiselect(key=dim.param).value == [value]


# --- 2. unknown values in a link -----------------------------------------------------------


def test_2_unknown_link_values_are_dropped_with_a_warning(app_env, oracle):
    at = run_page(
        "overview",
        drug_class=["opioids", "Opioids"],
        decision_year=["1990", "2016"],
        category="Astrology",
    )
    shown = warnings(at)
    assert "Drug class: opioids" in shown and "Request category: Astrology" in shown
    low = oracle.execute("select min(decision_year) from item_facts").fetchone()[0]
    assert f"1990–2016 narrowed to {low}–2016" in shown
    assert at.multiselect(key="drug_class").value == ["Opioids"]
    assert at.multiselect(key="category").value == []
    assert at.slider(key="decision_year").value == (low, 2016)
    assert at.query_params["drug_class"] == "Opioids"
    filters = Filters.build(drug_class=["Opioids"], decision_year=(low, 2016))
    n = expected.summary(oracle, filters)["n"]
    assert {m.label: m.value for m in at.metric}["Disputed items"] == f"{n:,}"
    # The next run (the URL rewritten) has nothing to warn about.
    at.run()
    assert "dropped" not in warnings(at)


def test_2_the_medications_breakdown_is_in_the_url(app_env, oracle):
    at = run_page("medications", breakdown="NSAID")
    assert at.selectbox(key="inspect_class").value == "NSAID"
    drugs = next(df.value for df in at.dataframe if "drug" in df.value.columns)
    assert set(drugs["drug_class"]) == {"NSAID"}
    other = at.selectbox(key="inspect_class").options[2]
    at.selectbox(key="inspect_class").set_value(other).run()
    assert at.query_params["breakdown"] == other
    first = at.selectbox(key="inspect_class").options[0]
    at.selectbox(key="inspect_class").set_value(first).run()
    assert "breakdown" not in at.query_params  # the default stays out of the link
    at = run_page("medications", breakdown="Snake oil")
    assert "breakdown=Snake oil" in warnings(at)


# --- 3. what a chart leaves out ------------------------------------------------------------


def test_3_charts_say_what_they_leave_out_and_lines_break(app_env, con, oracle):
    undated = oracle.execute(
        "select count(*) from item_facts where decision_year is null"
    ).fetchone()[0]
    total = expected.summary(oracle, Filters())["n"]
    assert undated > 0
    at = run_page("overview")
    assert any(
        c.startswith(f"{ui.plural(undated, 'item')} of the {total:,} in view have no decision year")
        and "2014–15" in c
        for c in captions(at)
    )
    # The trend breaks where a year has no item: an empty row there, never a bridge.
    years = [
        y for (y,) in oracle.execute("select distinct decision_year from item_facts").fetchall()
    ]
    years = sorted(y for y in years if y is not None)
    missing = set(range(years[0], years[-1] + 1)) - set(years)
    assert missing  # the 2014–15 letters leave 2014 empty
    spec = charts.decision_year_trend(
        queries.rates_by(con, Filters(), "decision_year"), reference.published_overturn_share()
    ).to_dict()
    rows = spec["datasets"][spec["data"]["name"]]
    assert {r["decision_year"] for r in rows if r["n"] is None} == missing
    # A year filter leaves the undated items out, and says so.
    low = years[0]
    at = run_page("overview", decision_year=[str(low + 1), str(years[-1])])
    assert f"Leaves out {ui.plural(undated, 'item')} without a decision year" in " ".join(
        captions(at)
    )


# --- 4. one rate everywhere ----------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_4_every_chart_and_table_shows_the_overturn_rate(app_env, page):
    at = run_page(page)
    for chart in at.get("vega_lite_chart"):
        spec = chart.proto.spec
        assert "uphold" not in spec.lower() and "Uphold" not in spec, page
    for df in at.dataframe:
        assert not [c for c in df.value.columns if c.startswith("uphold")], page


# --- 5. intervals within [0, 1] ------------------------------------------------------------


def test_5_intervals_are_clamped(con):
    for dim in dimensions.DIMENSIONS:
        frame = queries.rates_by(con, Filters(), dim.name)
        for row in frame.iter_rows(named=True):
            assert 0.0 <= row["overturn_lower"] <= row["overturn_upper"] <= 1.0
            assert 0.0 <= row["uphold_lower"] <= 1.0
            if row["overturned"] == 0:
                assert row["overturn_lower"] == 0.0 and row["uphold_upper"] == 1.0
        text = export.to_csv_bytes(frame).decode("utf-8-sig")
        for record in csv.DictReader(io.StringIO(text)):
            for column in ("overturn_lower", "overturn_upper", "uphold_lower", "uphold_upper"):
                assert not record[column].startswith("-") and "e-" not in record[column]
    assert queries.summary(con, Filters.build(decision=["Upheld"])).item(0, "overturn_lower") == 0


# --- 6. tables: letters, readable headers, plurals, one precision ----------------------------


def test_6_breakdown_tables_show_letters_and_readable_headers(app_env, oracle):
    at = run_page("reviewers")
    table = next(df for df in at.dataframe if "specialty" in df.value.columns)
    frame = table.value
    assert list(frame.columns[:3]) == ["specialty", "n", "letters"]
    want = dict(
        oracle.execute(
            "select s, count(distinct letter_id) from (select unnest(reviewer_specialties) as s,"
            " letter_id from item_facts) group by s"
        ).fetchall()
    )
    assert dict(zip(frame["specialty"], frame["letters"], strict=True)) == want
    config = {k: v for k, v in json.loads(table.proto.columns).items() if not k.startswith("_")}
    labels = {name: c.get("label") for name, c in config.items()}
    assert labels["specialty"] == "Reviewer specialty"
    assert labels["n"] == "Items" and labels["letters"] == "Letters"
    for name, column in config.items():
        assert labels[name] and "_" not in labels[name], name
        if name.endswith(("_rate", "_lower", "_upper")):
            assert column["type_config"] == {"type": "number", "format": "percent", "step": 0.001}


def test_6_item_tables_have_readable_headers_and_counts_are_pluralised(app_env):
    at = run_page("letters")
    config = json.loads(at.dataframe[0].proto.columns)
    assert {config[c]["label"] for c in ("item_no", "decision_date", "case_number")} == {
        "Item",
        "Decision date",
        "Case number",
    }
    assert list(at.dataframe[0].proto.column_order[:2]) == ["request", "decision"]
    assert ui.plural(1, "item") == "1 item" and ui.plural(2, "letter") == "2 letters"
    assert ui.plural(1_234, "item") == "1,234 items"


# --- 7. no class silently dropped ----------------------------------------------------------


def test_7_the_drug_class_chart_shows_every_class(con, oracle):
    frame = queries.rates_by(con, Filters(), "drug_class")
    assert frame.height > charts.MAX_BARS  # more classes than the bar limit
    spec = charts.drug_class_bars(frame).to_dict()
    (rows,) = spec["datasets"].values()
    assert len(rows) == frame.height


def test_7_a_cut_chart_says_top_n(app_env, monkeypatch, oracle):
    monkeypatch.setattr(charts, "MAX_BARS", 5)
    at = run_page("reviewers")
    specialties = len(expected.options(oracle, dimensions.get("specialty")))
    assert (
        f"The chart shows the 5 values with the most items, of {specialties:,}; the table lists "
        "them all." in captions(at)
    )
    chart = at.get("vega_lite_chart")[0].proto
    (data,) = chart.datasets
    rows = pa.ipc.open_stream(data.data.data).read_all()
    assert rows.num_rows == 5


# --- 8. typing in a filter -----------------------------------------------------------------


def test_8_filters_match_by_prefix_and_enter_never_selects_all(app_env):
    at = run_page("overview")
    modes = MultiSelect.DESCRIPTOR.fields_by_name["filter_mode"].enum_type
    prefix = modes.values_by_name["FILTER_MODE_PREFIX"].number
    assert at.multiselect
    for widget in at.multiselect:
        assert widget.proto.filter_mode == prefix, widget.key
        assert widget.proto.select_all == 0, widget.key  # no "Select all matches" row


# --- 10, 11, 12: what the page ships for the browser -----------------------------------------


def test_10_11_12_the_page_ships_its_browser_fixes(app_env):
    at = run_page("overview")
    scripts = [h.proto.body for h in at.get("html") if "imr-skip-filters" in h.proto.body]
    assert len(scripts) == 1
    script = scripts[0]
    assert "pushState" in script and "stActiveTheme-" in script and "Skip to filters" in script
    paths = json.loads(script.split("const paths = ", 1)[1].split(";", 1)[0])
    assert {"", "reviewers", "explore", "compare", "letters"} <= set(paths)


def test_11_the_timeliness_chart_is_visible_in_both_themes(con):
    spec = charts.timeliness_chart(queries.timeliness(con, Filters())).to_dict()
    iqr, median = spec["layer"]
    assert iqr["mark"]["opacity"] >= 0.8 and iqr["mark"]["color"]
    assert median["mark"]["color"] and median["mark"]["color"] != iqr["mark"]["color"]


# --- 13. published figures beside ours -----------------------------------------------------


METRICS = reference.published_metrics().to_dicts()


@pytest.mark.parametrize("metric", METRICS, ids=[m["metric"] for m in METRICS])
def test_13_every_published_metric_is_compared(con, oracle, metric):
    figures = reference.published_figures().filter(pl.col("metric") == metric["metric"])
    assert figures.height, "a metric nobody publishes"
    compared = reference.compare_published(queries.published_counts(con, Filters()))
    rows = compared.filter(pl.col("figure") == metric["label"])
    assert rows.height == figures.height
    for row in rows.iter_rows(named=True):
        assert row["unit"] == metric["unit"] and row["source"]
        year = row["year"]
        if metric["kind"] == "letters":
            (want,) = oracle.execute(
                "select count(distinct letter_id) from item_facts where decision_year = ?",
                [year],
            ).fetchone()
            assert (row["ours"] or 0) == want and row["difference"] is None
            continue
        where, params = ["decision_year = ?"], [year]
        for column, key in (("category", "of_category"), ("drug_class", "of_drug_class")):
            if metric[key]:
                where.append(f"{column} = ?")
                params.append(metric[key])
        base = oracle.execute(
            f"select count(*) from item_facts where {' and '.join(where)}", params
        ).fetchone()[0]
        hit_where, hit_params = list(where), list(params)
        for column in ("category", "drug_class", "decision"):
            if metric[column]:
                hit_where.append(f"{column} = ?")
                hit_params.append(metric[column])
        hits = oracle.execute(
            f"select count(*) from item_facts where {' and '.join(hit_where)}", hit_params
        ).fetchone()[0]
        assert row["items"] == base
        if base:
            assert row["ours"] == pytest.approx(hits / base)
            assert row["difference"] == pytest.approx(hits / base - row["published"])
        else:
            assert row["ours"] is None


def test_13_the_overview_shows_ours_theirs_and_the_difference(app_env):
    at = run_page("overview")
    table = next(df.value for df in at.dataframe if "published" in df.value.columns)
    assert {"publisher", "year", "figure", "published", "ours", "difference", "unit"} <= set(
        table.columns
    )
    figures = set(table["figure"])
    for label in (
        "Upheld share",
        "Pharmaceutical share of requests",
        "Opioid share of pharmaceutical requests",
        "Evaluation & Management overturn rate",
    ):
        assert label in figures
    shares = table[table["figure"] == "Upheld share"]
    assert shares["published"].str.endswith("%").all()
    assert set(table["publisher"]) == {"DWC", "CWCI"}
    labels = [b.proto.label for b in at.get("download_button")]
    assert "Download CSV (published figures compared)" in labels

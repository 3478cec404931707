"""Every page through Streamlit's AppTest, with filters set from URL query parameters; the
numbers shown are compared with the tests' own SQL over the warehouse (``expected.py``)."""

from __future__ import annotations

import html
import json
import re

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import dimensions, ui
from dashboard.filters import Filters
from etl.warehouse import contract
from tests.browser import hostile
from tests.dashboard import expected, pages
from tests.dashboard.expected import CLAIMS_ADMIN

APP = pages.APP
pytestmark = pytest.mark.usefixtures("app_env")


def run_page(page: str, **params: str | list[str]) -> AppTest:
    """A page that must show no error box either."""
    return pages.run_page(page, no_errors=True, **params)


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def expected_metrics(oracle, filters: Filters) -> dict[str, str]:
    want = expected.summary(oracle, filters)
    n, overturned = want["n"], want["overturned"]
    return {
        "Letters": f"{want['letters']:,}",
        "Disputed items": f"{n:,}",
        "Overturn rate": f"{overturned / n:.1%}",
    }


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


def rate_rows(at: AppTest, column: str) -> list[tuple]:
    frame = frame_with(at, column)
    return [(row[column], int(row["n"]), int(row["overturned"])) for _, row in frame.iterrows()]


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def captions(at: AppTest) -> list[str]:
    return [c.value for c in at.caption]


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def download_labels(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_overview_unfiltered(oracle):
    at = run_page("overview")
    assert metrics(at) == expected_metrics(oracle, Filters())
    assert "Download CSV" in download_labels(at)
    assert "per disputed item" in markdown(at) and "Letters hold several" in markdown(at)
    assert any("Synthetic demo data in view" in w.value for w in at.warning)
    category = dimensions.get("category")
    assert rate_rows(at, "category") == expected.rates(oracle, Filters(), category)
    by_category = frame_with(at, "category")
    assert {"overturn_lower", "overturn_upper", "small_sample"} <= set(by_category.columns)


def test_overview_filtered_from_url(oracle):
    at = run_page("overview", drug_class="Opioids")
    assert at.multiselect(key="drug_class").value == ["Opioids"]
    assert metrics(at) == expected_metrics(oracle, Filters.build(drug_class=["Opioids"]))
    opioids = expected.summary(oracle, Filters.build(drug_class=["Opioids"]))["n"]
    assert f"Opioids: {opioids:,} items" in captions(at)
    assert "Filters: Drug class: Opioids" in captions(at)


@pytest.mark.parametrize(
    ("params", "chosen"),
    [
        ({"decision_year": ["2016", "2017"]}, {"decision_year": (2016, 2017)}),
        ({"exclude_demo": "true"}, {"exclude_synthetic": True}),
        (
            {"state": ["California", "Texas"], "decision": "Overturned"},
            {"state": ["California", "Texas"], "decision": ["Overturned"]},
        ),
        (
            {"specialty": "Family Practice", "guideline_source": "ODG"},
            {"specialty": ["Family Practice"], "guideline_source": ["ODG"]},
        ),
    ],
    ids=["decision-years", "no-demo", "states-overturned", "specialty-source"],
)
def test_overview_filters_from_url(oracle, params, chosen):
    at = run_page("overview", **params)
    filters = Filters.build(**chosen)
    assert expected.summary(oracle, filters)["n"] > 0
    assert metrics(at) == expected_metrics(oracle, filters)
    if filters.exclude_synthetic:
        assert not any("Synthetic demo data in view" in w.value for w in at.warning)


def test_injection_in_url_is_ignored(oracle):
    at = run_page("overview", drug_class="' or 1=1 --", category="Surgery')--")
    assert at.multiselect(key="drug_class").value == []
    assert metrics(at) == expected_metrics(oracle, Filters())


def test_medications_page(oracle):
    at = run_page("medications", category="Pharmaceuticals")
    filters = Filters.build(category=["Pharmaceuticals"])
    classes = expected.rates(oracle, filters, dimensions.get("drug_class"))
    assert rate_rows(at, "drug_class") == classes
    top_class = classes[0][0]
    assert at.selectbox(key="inspect_class").value == top_class
    drug = dimensions.get("drug")
    assert rate_rows(at, "drug") == expected.rates(
        oracle, filters.narrow("drug_class", top_class), drug
    )
    assert list(frame_with(at, "drug")["drug_class"].unique()) == [top_class]
    at.selectbox(key="inspect_class").set_value("NSAID").run()
    assert rate_rows(at, "drug") == expected.rates(
        oracle, filters.narrow("drug_class", "NSAID"), drug
    )


def test_reviewers_page(oracle):
    at = run_page("reviewers", specialty="Family Practice")
    filters = Filters.build(specialty=["Family Practice"])
    for name in ("specialty", "state"):
        dim = dimensions.get(name)
        assert rate_rows(at, name) == expected.rates(oracle, filters, dim)
        # Section heading and caption come from the registry.
        assert dim.title in [h.value for h in at.subheader]
        assert dim.help in captions(at)
    assert any("each" in i.value and "specialty" in i.value for i in at.info)


def test_guidelines_page(oracle):
    at = run_page("guidelines", guideline_source="ODG")
    filters = Filters.build(guideline_source=["ODG"])
    for name in ("guideline_source", "guideline_document"):
        assert rate_rows(at, name) == expected.rates(oracle, filters, dimensions.get(name))
    concordance = frame_with(at, "maximus_source").set_index("maximus_source")
    both = oracle.execute(
        "select count(*), count(*) filter (where same_source_as_claims_admin) from item_facts"
        " where list_contains(guideline_sources, 'ODG') and len(claims_admin_sources) > 0"
    ).fetchone()
    assert (concordance.loc["All sources", "n"], concordance.loc["All sources", "same"]) == both


def test_timeline_page(oracle):
    at = run_page("timeline", injury_year=["2005", "2012"])
    filters = Filters.build(injury_year=(2005, 2012))
    for name in ("decision_year", "injury_year", "years_to_decision"):
        assert rate_rows(at, name) == expected.rates(oracle, filters, dimensions.get(name))
    injury = frame_with(at, "injury_year")
    assert injury["injury_year"].min() >= 2005 and injury["injury_year"].max() <= 2012
    timely = frame_with(at, "priority").set_index("priority")
    standard = oracle.execute(
        "select count(distinct letter_id) from item_facts where priority = 'Standard'"
        " and days_to_decision is not null and injury_year between 2005 and 2012"
    ).fetchone()
    assert (timely.loc["Standard", "letters"],) == standard


def shown_texts(at: AppTest) -> list[str]:
    """Letter text as shown: plain ``st.text``, and the reader's highlighted blocks (escaped
    HTML with <mark>s, issue 14) as the text they display."""
    blocks = [b.proto.body for b in at.get("html")]
    return texts(at) + [html.unescape(re.sub(r"<[^>]*>", "", b)) for b in blocks]


def test_letters_page_search_and_plain_text_letter(oracle):
    letter_id = oracle.execute(
        "select letter_id from letters where case_number = ?", [hostile.FORMULA_CASE]
    ).fetchone()[0]
    at = run_page("letters", q="hyperlink", letter=letter_id)
    assert any("1 item in 1 letter" in c for c in captions(at))  # issue 13: pluralised
    shown = shown_texts(at)
    assert f"Request: {hostile.FORMULA_ITEMS[0][0]}" in shown
    # The match is marked, the rest of the request escaped (never markup).
    marked = [b.proto.body for b in at.get("html") if "Request: " in b.proto.body]
    assert marked == [
        '<div class="imr-text" style="white-space: pre-wrap">Request: =<mark title="search'
        ' match">HYPERLINK</mark>(&quot;evil.example&quot;,&quot;click&quot;)</div>'
    ]
    assert "Download CSV" in download_labels(at)
    markup_id = oracle.execute(
        "select letter_id from letters where case_number = ?", [hostile.MARKUP_CASE]
    ).fetchone()[0]
    at = run_page("letters", q=hostile.MARKER, letter=markup_id)
    assert any("<script>" in t for t in texts(at))
    assert "<script>" not in markdown(at)  # letter text never goes through markdown


def test_letters_page_filters_and_search_combine(oracle):
    at = run_page("letters", q="norco", decision="Upheld")
    # The search (issue 14): the word in any searched text, or an item holding Norco's
    # ingredients (hydrocodone and acetaminophen).
    word = "'(^|[^a-z0-9])norco([^a-z0-9]|$)'"
    items, letters = oracle.execute(
        "select count(*), count(distinct letter_id) from item_facts join decisions d"
        " using (letter_id, item_no) join letters l using (letter_id)"
        " where item_facts.decision = 'Upheld' and ("
        + " or ".join(
            f"regexp_matches(lower(coalesce({c}, '')), {word})"
            for c in (
                "d.request",
                "d.rationale",
                "d.claims_admin_guideline",
                "d.maximus_guideline",
                "l.case_summary",
                "l.diagnoses",
            )
        )
        + " or list_has_all(d.drugs, ['hydrocodone', 'acetaminophen']))"
    ).fetchone()
    assert items > 0
    assert any(f"{items:,} items in {letters:,} letters" in c for c in captions(at))


def test_data_quality_page(oracle):
    at = run_page("data_quality")
    reasons = frame_with(at, "reason").set_index("reason")
    for reason, files in oracle.execute(
        "select reason, count(*) from rejects group by all"
    ).fetchall():
        assert reasons.loc[reason, "files"] == files
    unresolved = frame_with(at, "occurrences")
    assert (
        int(unresolved["occurrences"].sum())
        == oracle.execute("select count(*) from unresolved").fetchone()[0]
    )
    coverage = frame_with(at, "field")
    assert {"share", "layout", "scope"} <= set(coverage.columns)
    # The build in words, and every meta entry in a table.
    meta = dict(oracle.execute("select key, value from meta").fetchall())
    line = f"**Built** {meta['built_at'][:16].replace('T', ' ')} UTC · **last ingest:** "
    assert any(m.value == line + meta["last_ingest"] for m in at.markdown)
    details = frame_with(at, "key").set_index("key")
    assert details["value"].to_dict() == meta


def test_small_sample_threshold_from_env(monkeypatch, oracle):
    counts = {v: n for v, n, _ in expected.rates(oracle, Filters(), dimensions.get("category"))}
    threshold = sorted(counts.values())[len(counts) // 2]
    monkeypatch.setenv("IMR_SMALL_N", str(threshold))
    at = run_page("overview")
    by_category = frame_with(at, "category").set_index("category")
    for value, n in counts.items():
        assert bool(by_category.loc[value, "small_sample"]) is (n < threshold)


def test_missing_warehouse_is_a_plain_message(monkeypatch, tmp_path):
    monkeypatch.setenv("IMR_DB", str(tmp_path / "nothing.duckdb"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("No warehouse found" in e.value for e in at.error)


def test_warehouse_without_marts_is_a_plain_message(monkeypatch, tmp_path):
    import duckdb

    bare = tmp_path / "bare.duckdb"
    with duckdb.connect(str(bare)) as c:
        c.execute(contract.ddl())
    monkeypatch.setenv("IMR_DB", str(bare))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("imr ingest" in e.value and "`item_facts`" in e.value for e in at.error)


def test_clear_filters_resets_every_filter(oracle):
    at = run_page(
        "overview", drug_class="Opioids", injury_year=["2005", "2012"], exclude_demo="true"
    )
    filters = Filters.build(
        drug_class=["Opioids"], injury_year=(2005, 2012), exclude_synthetic=True
    )
    assert metrics(at) == expected_metrics(oracle, filters)
    at.button[0].click().run()
    assert at.multiselect(key="drug_class").value == []
    low, high = oracle.execute(
        "select min(injury_year), max(injury_year) from item_facts"
    ).fetchone()
    assert at.slider(key="injury_year").value == (low, high)
    assert at.toggle(key="exclude_demo").value is False
    assert metrics(at) == expected_metrics(oracle, Filters())


def test_sidebar_has_one_widget_per_registry_filter():
    at = run_page("overview")
    keys = {w.key for w in [*at.multiselect, *at.slider]}
    assert keys == {d.param for d in dimensions.FILTERS if d.sidebar}
    at.session_state[ui.MORE_FILTERS] = True  # "More filters" opened: built on demand
    at.run()
    keys = {w.key for w in [*at.multiselect, *at.slider]}
    assert keys == {d.param for d in dimensions.FILTERS}


def test_a_new_dimension_appears_in_the_sidebar_and_filters(oracle, monkeypatch, request):
    """One registry entry: a sidebar widget bound to its URL parameter that filters the pages."""
    expected.add_dimension(monkeypatch, CLAIMS_ADMIN)
    # A registry edit comes with a restart; here the process is shared: drop cached results.
    st.cache_data.clear()
    request.addfinalizer(st.cache_data.clear)
    value = expected.top_value(oracle, CLAIMS_ADMIN)
    at = run_page("overview", **{CLAIMS_ADMIN.param: value})
    assert at.multiselect(key=CLAIMS_ADMIN.param).value == [value]
    assert metrics(at) == expected_metrics(oracle, Filters.build(claims_admin_source=[value]))
    assert f"Filters: {CLAIMS_ADMIN.label}: {value}" in captions(at)


def test_pages_run_with_the_servers_streamlit_settings(app_env):
    # tests/conftest.py gives AppTest the server's settings (it reads no config file): magic
    # and usage statistics off, as `imr dashboard` runs the pages; the error details kept.
    from streamlit import config

    from etl.launch import config_options

    options = config_options()
    assert options["runner.magicEnabled"] is False
    assert options["browser.gatherUsageStats"] is False
    for option, value in options.items():
        if option != "client.showErrorDetails":
            assert config.get_option(option) == value, option
    at = run_page("overview")
    assert not at.exception


def test_chart_titles_are_text_above_the_charts():
    """Vega cuts a title wider than its chart (a phone's) with an ellipsis; text wraps."""
    at = run_page("medications")
    title = "Overturn rate by drug class (click a bar to see its drugs)"
    assert f"**{title}**" in [m.value for m in at.markdown]
    specs = [json.loads(chart.proto.spec) for chart in at.get("vega_lite_chart")]
    assert specs and not [spec["title"] for spec in specs if spec.get("title")]

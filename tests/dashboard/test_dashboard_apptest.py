"""Every page through Streamlit's AppTest, with filters set from URL query parameters."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from etl.warehouse import contract

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(autouse=True)
def _warehouse_env(warehouse, monkeypatch):
    monkeypatch.setenv("IMR_DB", str(warehouse))
    monkeypatch.delenv("IMR_SMALL_N", raising=False)


def run_page(page: str, **params: str | list[str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    for df in at.dataframe:
        if column in df.value.columns:
            return df.value
    raise AssertionError(f"no table with column {column!r}")


def texts(at: AppTest) -> list[str]:
    return [t.value for t in at.text]


def markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def download_labels(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_overview_unfiltered():
    at = run_page("overview")
    assert metrics(at) == {
        "Letters": "10",
        "Disputed items": "23",
        "Uphold rate": "60.9%",
        "Overturn rate": "39.1%",
    }
    assert "Download CSV" in download_labels(at)
    assert "per disputed item" in markdown(at) and "Letters hold several" in markdown(at)
    assert any("Synthetic demo data in view" in w.value for w in at.warning)
    by_category = frame_with(at, "category").set_index("category")
    assert by_category.loc["Pharmaceuticals", "n"] == 11
    assert {"overturn_lower", "overturn_upper", "small_sample"} <= set(by_category.columns)


def test_overview_filtered_from_url():
    at = run_page("overview", drug_class="Opioids")
    assert at.multiselect(key="drug_class").value == ["Opioids"]
    assert metrics(at) == {
        "Letters": "6",
        "Disputed items": "6",
        "Uphold rate": "66.7%",
        "Overturn rate": "33.3%",
    }


def test_overview_ranges_and_demo_toggle_from_url():
    at = run_page("overview", decision_year=["2016", "2017"])
    assert metrics(at)["Disputed items"] == "8"
    at = run_page("overview", exclude_demo="true")
    assert metrics(at)["Disputed items"] == "20"
    assert not any("Synthetic demo data in view" in w.value for w in at.warning)
    at = run_page("overview", state=["California", "Nevada"], decision="Overturned")
    assert metrics(at)["Disputed items"] == "6"  # 5 in California + CM17-0000009 in Nevada


def test_injection_in_url_is_ignored():
    at = run_page("overview", drug_class="' or 1=1 --", category="Surgery')--")
    assert at.multiselect(key="drug_class").value == []
    assert metrics(at)["Disputed items"] == "23"


def test_medications_page():
    at = run_page("medications", category="Pharmaceuticals")
    classes = frame_with(at, "drug_class").set_index("drug_class")
    assert classes.loc["Opioids", "n"] == 6
    assert classes.loc["Opioids", "overturned"] == 2
    assert at.selectbox(key="inspect_class").value == "Opioids"
    drugs = frame_with(at, "drug").set_index("drug")
    assert drugs.loc["acetaminophen", "n"] == 4
    at.selectbox(key="inspect_class").set_value("NSAID").run()
    assert list(frame_with(at, "drug")["drug"]) == ["naproxen"]


def test_reviewers_page():
    at = run_page("reviewers", specialty="Pain Management")
    specialties = frame_with(at, "specialty").set_index("specialty")
    assert specialties.loc["Pain Management", "n"] == 6
    assert specialties.loc["Anesthesiology", "n"] == 3
    assert any("each" in i.value and "specialty" in i.value for i in at.info)
    states = frame_with(at, "state").set_index("state")
    assert states.loc["California", "n"] == 6


def test_guidelines_page():
    at = run_page("guidelines", guideline_source="ODG")
    sources = frame_with(at, "guideline_source").set_index("guideline_source")
    assert sources.loc["ODG", "n"] == 4
    assert sources.loc["MTUS", "n"] == 1
    concordance = frame_with(at, "maximus_source").set_index("maximus_source")
    assert (concordance.loc["All sources", "n"], concordance.loc["All sources", "same"]) == (4, 3)


def test_timeline_page():
    at = run_page("timeline", injury_year=["2011", "2014"])
    injury = frame_with(at, "injury_year")
    assert list(injury["injury_year"]) == [2011, 2012, 2013, 2014]
    assert injury["n"].sum() == 10
    timely = frame_with(at, "priority").set_index("priority")
    assert timely.loc["Standard", "letters"] == 3
    assert timely.loc["Expedited", "median_days"] == 3


def test_letters_page_search_and_plain_text_letter():
    at = run_page("letters", q="hyperlink", letter="CM14-0000002")
    assert any("1 items in 1 letters" in c.value for c in at.caption)
    shown = texts(at)
    assert 'Request: =HYPERLINK("http://evil")' in shown
    assert any("<script>alert(1)</script>" in t for t in shown)
    assert "<script>" not in markdown(at)  # letter text never goes through markdown
    assert "Download CSV" in download_labels(at)


def test_letters_page_filters_and_search_combine():
    at = run_page("letters", q="norco", decision="Upheld")
    assert any("2 items in 2 letters" in c.value for c in at.caption)


def test_data_quality_page():
    at = run_page("data_quality")
    reasons = frame_with(at, "reason").set_index("reason")
    assert reasons.loc["no_text", "files"] == 2
    unresolved = frame_with(at, "value").set_index("value")
    assert unresolved.loc["Sports Medicin", "occurrences"] == 2
    coverage = frame_with(at, "field")
    assert {"share", "layout", "scope"} <= set(coverage.columns)


def test_small_sample_threshold_from_env(monkeypatch):
    monkeypatch.setenv("IMR_SMALL_N", "5")
    at = run_page("overview")
    by_category = frame_with(at, "category").set_index("category")
    assert not by_category.loc["Pharmaceuticals", "small_sample"]
    assert by_category.loc["Surgery", "small_sample"]


def test_missing_warehouse_is_a_plain_message(monkeypatch, tmp_path):
    monkeypatch.setenv("IMR_DB", str(tmp_path / "nothing.duckdb"))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("No warehouse found" in e.value for e in at.error)


def test_warehouse_without_views_is_a_plain_message(monkeypatch, tmp_path):
    import duckdb

    bare = tmp_path / "bare.duckdb"
    with duckdb.connect(str(bare)) as c:
        c.execute(contract.ddl())
    monkeypatch.setenv("IMR_DB", str(bare))
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("views.sql" in e.value for e in at.error)


def test_clear_filters_resets_every_filter():
    at = run_page(
        "overview", drug_class="Opioids", injury_year=["2012", "2016"], exclude_demo="true"
    )
    assert metrics(at)["Disputed items"] == "2"  # Percocet (2012) and Norco (2015)
    at.button[0].click().run()
    assert at.multiselect(key="drug_class").value == []
    assert at.slider(key="injury_year").value == (2010, 2017)
    assert at.toggle(key="exclude_demo").value is False
    assert metrics(at)["Disputed items"] == "23"

"""Filtered URLs show the warehouse's numbers; every page renders its charts without errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    PAGES,
    assert_no_error,
    expected_summary,
    metric_value,
    open_app,
    url_with,
    wait_for_charts,
    warehouse,
)


@pytest.mark.parametrize(
    "filters",
    [
        {"category": "Pharmaceuticals"},
        {"category": ["Surgery", "Injection"], "decision": "Overturned"},
        {"specialty": "Family Practice", "exclude_demo": "true"},
        {"guideline_source": "ODG", "decision_year": [2015, 2017]},
    ],
    ids=["category", "two-categories-overturned", "specialty-no-demo", "odg-2015-2017"],
)
def test_overview_numbers_match_warehouse(
    page: Page, dashboard_url: str, browser_warehouse: Path, filters: dict
) -> None:
    open_app(page, url_with(dashboard_url, "/", filters))
    want = expected_summary(browser_warehouse, filters)
    assert want.items > 0, f"the browser warehouse has no items for {filters}"
    expect(metric_value(page, "Letters")).to_have_text(f"{want.letters:,}")
    expect(metric_value(page, "Disputed items")).to_have_text(f"{want.items:,}")
    # One rate everywhere (issue 13, rough edge 4): no uphold rate beside it.
    expect(page.get_by_test_id("stMetric").filter(has_text="Uphold rate")).to_have_count(0)
    expect(metric_value(page, "Overturn rate")).to_have_text(f"{want.overturn_rate:.1%}")
    # The n under the rates, and the filters stated in words.
    expect(page.get_by_text(f"· n = {want.items:,}").first).to_be_visible()
    expect(page.get_by_text("Filters: ", exact=False).first).not_to_contain_text("none")
    assert_no_error(page)


def test_medications_opioids_numbers_match_warehouse(
    page: Page, dashboard_url: str, browser_warehouse: Path
) -> None:
    open_app(page, f"{dashboard_url}/medications?drug_class=Opioids")
    want = expected_summary(browser_warehouse, {"drug_class": "Opioids"})
    assert want.items > 0
    # The sidebar states the selected option's item count ...
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text(f"Opioids: {want.items:,} items", exact=True)).to_be_visible()
    # ... and the drug-class chart has exactly one bar, Opioids, with the warehouse's n and rate.
    wait_for_charts(page, 2)
    bars = page.get_by_test_id("stVegaLiteChart").first.locator("[aria-roledescription='bar']")
    expect(bars).to_have_count(1)
    label = bars.first.get_attribute("aria-label") or ""
    assert "Drug class: Opioids;" in label
    assert f"Items (n): {want.items:,};" in label
    rate = float(label.split("Overturn rate: ")[1].split("%")[0]) / 100
    assert rate == pytest.approx(want.overturn_rate, abs=1e-6)
    # The drill-down lists this class's drugs.
    expect(page.get_by_role("heading", name="Drugs in Opioids")).to_be_visible()
    with warehouse(browser_warehouse) as con:
        drugs = {
            row[0]
            for row in con.execute(
                "select distinct unnest(drugs) from item_facts where drug_class = 'Opioids'"
            ).fetchall()
        }
    drug_bars = (
        page.get_by_test_id("stVegaLiteChart").nth(1).locator("[aria-roledescription='bar']")
    )
    shown = {
        (drug_bars.nth(i).get_attribute("aria-label") or "").split("drug: ")[1].split(";")[0]
        for i in range(drug_bars.count())
    }
    assert shown == drugs or (len(shown) == 40 and shown < drugs)
    assert_no_error(page)


@pytest.mark.parametrize("path", list(PAGES))
def test_page_renders_charts_without_errors(page: Page, dashboard_url: str, path: str) -> None:
    title, minimum = PAGES[path]
    open_app(page, dashboard_url + path)
    expect(page.get_by_role("heading", level=1).first).to_contain_text(title)
    total = wait_for_charts(page, minimum)
    assert total >= minimum
    for chart in page.get_by_test_id("stVegaLiteChart").all():
        box = chart.locator(":is(svg.marks, canvas.marks)").bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50, f"empty chart on {path}"
    assert_no_error(page)

"""Click a drug-class bar on Medications: the page drills down to that class's drugs."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_no_error, open_app, wait_for_charts, warehouse


def _class_of(label: str) -> str:
    match = re.search(r"Drug class: ([^;]+);", label)
    assert match, label
    return match.group(1)


def test_click_drug_class_bar_shows_its_drugs(
    page: Page, dashboard_url: str, browser_warehouse: Path
) -> None:
    open_app(page, f"{dashboard_url}/medications")
    wait_for_charts(page, 2)
    chart = page.get_by_test_id("stVegaLiteChart").first
    assert chart.locator("svg.marks").count() == 1, "click test expects Vega's SVG renderer"
    bars = chart.locator("path[aria-roledescription='bar']")
    # Without a click the breakdown follows the select box (first class); pick another class
    # whose bar is wide enough to click on its left end (away from the error rule and label).
    default = _class_of(bars.first.get_attribute("aria-label") or "")
    expect(page.get_by_role("heading", name=f"Drugs in {default}")).to_be_visible()
    target = None
    for i in range(1, bars.count()):
        bar = bars.nth(i)
        box = bar.bounding_box()
        if box and box["width"] >= 6 and box["height"] >= 6:
            target = (bar, _class_of(bar.get_attribute("aria-label") or ""))
            break
    assert target, "no drug-class bar wide enough to click"
    bar, picked = target
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box
    page.mouse.click(box["x"] + 3, box["y"] + box["height"] / 4)

    expect(page.get_by_role("heading", name=f"Drugs in {picked}")).to_be_visible()
    expect(page.get_by_text("Drug class selected on the chart", exact=False)).to_be_visible()
    expect(page.get_by_text("Drug class to break down", exact=False)).to_have_count(0)
    expect(page.get_by_test_id("stApp")).to_have_attribute("data-test-script-state", "notRunning")

    with warehouse(browser_warehouse) as con:
        drugs = {
            row[0]
            for row in con.execute(
                "select distinct unnest(drugs) from item_facts where drug_class = ?", [picked]
            ).fetchall()
        }
    drill = page.get_by_test_id("stVegaLiteChart").nth(1)
    drug_bars = drill.locator("path[aria-roledescription='bar']")
    expect(drug_bars.first).to_be_attached()
    shown = {
        re.search(r"drug: ([^;]+);", drug_bars.nth(i).get_attribute("aria-label") or "").group(1)  # type: ignore[union-attr]
        for i in range(drug_bars.count())
    }
    assert shown == drugs or (len(shown) == 40 and shown < drugs), (picked, shown, drugs)
    assert_no_error(page)

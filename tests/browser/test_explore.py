"""Explore in the browser: two dimensions from the URL → heatmap → a click on a cell opens the
Letters page filtered by both values (other filters kept); the "other" cell does not."""

from __future__ import annotations

import re
import urllib.parse
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from tests.browser.helpers import (
    assert_no_error,
    open_app,
    url_with,
    wait_for_app,
    wait_for_charts,
    warehouse,
)

CELL = "path[aria-roledescription='rect mark']"


def _field(label: str, name: str) -> str:
    match = re.search(rf"{re.escape(name)}: ([^;]+)(;|$)", label)
    assert match, (name, label)
    return match.group(1)


def _click(page: Page, cell: Locator) -> None:
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    assert box
    # Near a corner: the centre holds the cell's label (a text mark above the rect).
    page.mouse.click(box["x"] + 4, box["y"] + 4)


def test_heatmap_cell_opens_its_letters(
    page: Page, dashboard_url: str, browser_warehouse: Path
) -> None:
    filters = {"decision": "Upheld"}
    open_app(
        page,
        url_with(
            dashboard_url,
            "/explore",
            {"rows": "category", "cols": "decision_year", "top": "5", **filters},
        ),
    )
    wait_for_charts(page, 1)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Filters: Decision: Upheld", exact=True)).to_be_visible()
    cells = page.get_by_test_id("stVegaLiteChart").first.locator(CELL)
    expect(cells.first).to_be_attached()
    labels = [cells.nth(i).get_attribute("aria-label") or "" for i in range(cells.count())]
    # Every cell states its n and its 95% interval (the tooltip's fields).
    assert all("Items (n): " in label and "95% CI low: " in label for label in labels)

    # The cell with the most items that is not "(other)".
    def n_of(label: str) -> int:
        return int(_field(label, "Items (n)").replace(",", ""))

    candidates = [
        (n_of(label), i)
        for i, label in enumerate(labels)
        if "(other)" not in label and n_of(label) > 0
    ]
    n, index = max(candidates)
    label = labels[index]
    category = _field(label, "Request category")
    year = int(_field(label, "Decision year"))
    with warehouse(browser_warehouse) as con:
        (want,) = con.execute(
            "select count(*) from item_facts where category = ? and decision_year = ?"
            " and decision = 'Upheld'",
            [category, year],
        ).fetchone()  # type: ignore[misc]
    assert want == n

    _click(page, cells.nth(index))
    page.wait_for_url(re.compile(r"/letters\?"))
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Letters", exact=True)).to_be_visible()
    query = urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)
    assert query["category"] == [category]
    assert query["decision_year"] == [str(year), str(year)]
    assert query["decision"] == ["Upheld"]  # the filters in force are kept
    assert "rows" not in query  # Explore's own state stays on Explore
    expect(
        main.get_by_text(
            f"Filters: Request category: {category}; Decision: Upheld; Decision year: {year}",
            exact=True,
        )
    ).to_be_visible()
    expect(main.get_by_text(re.compile(rf"^{n:,} items? in "))).to_be_visible()
    assert_no_error(page)


def test_the_other_cell_does_not_drill_down(page: Page, dashboard_url: str) -> None:
    open_app(page, f"{dashboard_url}/explore?rows=specialty&cols=category&top=5")
    wait_for_charts(page, 1)
    cells = page.get_by_test_id("stVegaLiteChart").first.locator(CELL)
    expect(cells.first).to_be_attached()
    other = next(
        i
        for i in range(cells.count())
        if "Reviewer specialty: (other)" in (cells.nth(i).get_attribute("aria-label") or "")
    )
    _click(page, cells.nth(other))
    expect(page.get_by_text("cannot be opened on the Letters page", exact=False)).to_be_visible()
    assert "/explore" in page.url
    assert_no_error(page)


def test_a_large_cross_tab_scrolls_in_a_box_in_sight(page: Page, dashboard_url: str) -> None:
    """50 values a side: the cells keep their width and the chart scrolls both ways in a box
    at most 85% of the screen's height (its scroll bars in sight), not the page sideways."""
    open_app(page, f"{dashboard_url}/explore?rows=drug&cols=drug_class&top=50")
    wait_for_charts(page, 1)
    cells = page.get_by_test_id("stVegaLiteChart").first.locator(CELL)
    expect(cells.first).to_be_attached()
    assert cells.first.bounding_box()["width"] >= 40  # type: ignore[index]
    box = page.locator(".st-key-explore_heatmap-box")
    wide, shown, tall, high = box.evaluate(
        "el => [el.scrollWidth, el.clientWidth, el.scrollHeight, el.clientHeight]"
    )
    viewport = page.viewport_size
    assert viewport
    assert wide > shown and tall > high, (wide, shown, tall, high)
    assert high <= 0.85 * viewport["height"] + 1, (high, viewport)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert_no_error(page)

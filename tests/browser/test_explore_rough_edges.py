"""Rough edges of issue 13 that only a browser shows: the Medications breakdown picked on the
chart is in the URL (2), Enter in a filter takes one match (8), Back undoes a filter change (9),
a phone gets the page and not the sidebar, its heatmaps legible (10), dark mode holds on every
page (11), and the filters are two key presses away (12)."""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.browser.helpers import (
    assert_no_error,
    choose_by_keyboard,
    filter_widget,
    open_app,
    pick,
    type_into,
    wait_for_app,
    wait_for_charts,
)


def query(page: Page) -> dict[str, list[str]]:
    return urllib.parse.parse_qs(urllib.parse.urlparse(page.url).query)


@pytest.fixture
def fresh_context(
    browser: Browser, browser_context_args: dict[str, Any]
) -> Iterator[BrowserContext]:
    """A context of its own: its storage (the theme) and viewport touch no other test."""
    context = browser.new_context(**browser_context_args)
    yield context
    context.close()


def test_2_a_class_picked_on_the_chart_is_in_the_url(page: Page, dashboard_url: str) -> None:
    open_app(page, f"{dashboard_url}/medications")
    wait_for_charts(page, 2)
    bars = page.get_by_test_id("stVegaLiteChart").first.locator("path[aria-roledescription='bar']")
    target = None
    for i in range(1, bars.count()):
        box = bars.nth(i).bounding_box()
        if box and box["width"] >= 6 and box["height"] >= 6:
            target = bars.nth(i)
            break
    assert target is not None
    label = target.get_attribute("aria-label") or ""
    picked = re.search(r"Drug class: ([^;]+);", label).group(1)  # type: ignore[union-attr]
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    assert box
    page.mouse.click(box["x"] + 3, box["y"] + box["height"] / 4)
    expect(page.get_by_role("heading", name=f"Drugs in {picked}")).to_be_visible()
    expect(page).to_have_url(re.compile("breakdown="))
    assert query(page)["breakdown"] == [picked]
    # The link opens the same breakdown.
    open_app(page, page.url)
    expect(page.get_by_role("heading", name=f"Drugs in {picked}")).to_be_visible()


def test_8_enter_takes_one_prefix_match(page: Page, dashboard_url: str) -> None:
    open_app(page, f"{dashboard_url}/")
    type_into(page, filter_widget(page, re.compile(r"^Drug class \(")), "opio")
    offered = page.get_by_role("option")
    expect(offered.first).to_be_visible()
    names = [offered.nth(i).inner_text() for i in range(offered.count())]
    assert names and all(n.lower().startswith("opio") for n in names), names
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    wait_for_app(page)
    assert len(query(page)["drug_class"]) == 1
    assert query(page)["drug_class"][0].lower().startswith("opio")
    assert_no_error(page)


def test_9_back_undoes_a_filter_change(page: Page, dashboard_url: str) -> None:
    open_app(page, f"{dashboard_url}/reviewers")
    pick(page, re.compile(r"^Decision \("), "Uph", "Upheld")
    pick(page, re.compile(r"^Request category \("), "Surg", "Surgery")
    assert query(page) == {"decision": ["Upheld"], "category": ["Surgery"]}
    page.go_back()
    expect(page).to_have_url(re.compile(r"/reviewers\?decision=Upheld$"))
    wait_for_app(page)
    expect(filter_widget(page, re.compile(r"^Request category \("))).not_to_contain_text("Surgery")
    expect(page.get_by_text("Filters: Decision: Upheld", exact=True)).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/reviewers$"))
    wait_for_app(page)
    expect(page.get_by_text("Filters: none (all items)", exact=True)).to_be_visible()
    page.go_forward()
    expect(page).to_have_url(re.compile(r"decision=Upheld"))
    wait_for_app(page)
    expect(page.get_by_text("Filters: Decision: Upheld", exact=True)).to_be_visible()
    assert_no_error(page)


def test_10_a_phone_gets_the_page(fresh_context: BrowserContext, dashboard_url: str) -> None:
    page = fresh_context.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    open_app(page, f"{dashboard_url}/reviewers")
    # The sidebar starts closed: the page is not covered.
    expect(page.get_by_test_id("stExpandSidebarButton")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    box = sidebar.bounding_box()
    assert box is None or box["x"] + box["width"] <= 1, box
    # The reviewers chart has room for its bars.
    wait_for_charts(page, 1)
    bars = page.get_by_test_id("stVegaLiteChart").first.locator("path[aria-roledescription='bar']")
    widths = [bars.nth(i).bounding_box()["width"] for i in range(min(bars.count(), 5))]  # type: ignore[index]
    assert max(widths) >= 20, widths
    # So has the reasons' share chart (its legend beside the bars left them 30 px).
    open_app(page, f"{dashboard_url}/reasons")
    wait_for_charts(page, 1)
    bars = page.get_by_test_id("stVegaLiteChart").first.locator("path[aria-roledescription='bar']")
    widths = [bars.nth(i).bounding_box()["width"] for i in range(min(bars.count(), 3))]  # type: ignore[index]
    assert max(widths) >= 80, widths
    # And the timeline's years spread over the width (its legends below the plot).
    open_app(page, f"{dashboard_url}/timeline")
    wait_for_charts(page, 1)
    points = page.get_by_test_id("stVegaLiteChart").first.locator("[aria-roledescription='point']")
    xs = [points.nth(i).bounding_box()["x"] for i in range(points.count())]  # type: ignore[index]
    assert xs and max(xs) - min(xs) >= 220, xs
    # The letters table shows the request and the decision first.
    open_app(page, f"{dashboard_url}/letters")
    table = page.get_by_test_id("stDataFrame").first
    table.scroll_into_view_if_needed()
    # (the grid draws on a canvas; its accessible headers give the column order)
    headers = table.locator("[role='columnheader']")
    expect(headers.first).to_be_attached()
    shown = [headers.nth(i).inner_text().strip() for i in range(min(headers.count(), 3))]
    assert shown[:2] == ["Request", "Decision"], shown
    # The Explore cross-tab keeps legible cells and scrolls sideways in its own box (squeezed
    # to the phone's width, its 13 columns were 10 px wide and their labels overlapped).
    open_app(page, f"{dashboard_url}/explore")
    wait_for_charts(page, 1)
    chart = page.get_by_test_id("stVegaLiteChart").first
    cells = chart.locator("path[aria-roledescription='rect mark']")
    expect(cells.first).to_be_attached()
    widths = [cells.nth(i).bounding_box()["width"] for i in range(min(cells.count(), 5))]  # type: ignore[index]
    assert min(widths) >= 40, widths
    box = chart.locator("xpath=ancestor::*[contains(@class, 'st-key-explore_heatmap-box')]")
    scroll, client = box.evaluate("el => [el.scrollWidth, el.clientWidth]")
    assert scroll > client, (scroll, client)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    # The Reasons page's heatmaps too, and every reason's label shows (Vega hid every other
    # one, their slanted boxes overlapping over 12 px columns).
    open_app(page, f"{dashboard_url}/reasons")
    wait_for_charts(page, 4)
    box = page.locator(".st-key-chart_reasons_by_category-box")
    reasons = box.locator("g[aria-roledescription='axis']").first.locator(".role-axis-label text")
    expect(reasons.first).to_be_attached()
    shown = reasons.evaluate_all("labels => labels.map(label => label.getAttribute('opacity'))")
    assert len(shown) >= 2 and set(shown) == {"1"}, shown
    cells = box.locator("path[aria-roledescription='rect mark']")
    widths = [cells.nth(i).bounding_box()["width"] for i in range(min(cells.count(), 5))]  # type: ignore[index]
    assert min(widths) >= 20, widths
    # The Compare page's funnel plot keeps the width (its legend beside it left it 115 px).
    open_app(page, f"{dashboard_url}/compare")
    wait_for_charts(page, 1)
    band = page.get_by_test_id("stVegaLiteChart").last.locator("[aria-roledescription='area mark']")
    expect(band.first).to_be_attached()
    assert band.first.bounding_box()["width"] >= 250, band.first.bounding_box()  # type: ignore[index]
    page.close()


BACKGROUND = "getComputedStyle(document.querySelector('[data-testid=stApp]')).backgroundColor"


def _dark(page: Page) -> bool:
    red, green, blue = (int(v) for v in re.findall(r"\d+", page.evaluate(BACKGROUND))[:3])
    return red + green + blue < 200


def test_11_dark_mode_holds_on_every_page(
    fresh_context: BrowserContext, dashboard_url: str
) -> None:
    page = fresh_context.new_page()
    open_app(page, f"{dashboard_url}/")
    assert not _dark(page)
    # The choice is spread to every page by the page's script: wait for it to be there, as a
    # reader's click comes long after (under load it once came first, and nothing was kept).
    page.wait_for_function("() => window.__imrShims === true", polling=100, timeout=30_000)
    page.get_by_test_id("stMainMenu").click()
    page.get_by_role("menuitemradio").filter(has_text="Dark").click()
    page.wait_for_function(
        f"() => {{ const c = {BACKGROUND}.match(/\\d+/g).slice(0, 3).map(Number);"
        " return c[0] + c[1] + c[2] < 200; }",
        polling=100,
    )
    # A link to another page, opened anew (a reload, a shared link): still dark.
    other = fresh_context.new_page()
    open_app(other, f"{dashboard_url}/timeline")
    # The page's script applies the kept theme once it runs: wait for it, not for a frame.
    other.wait_for_function(
        f"() => {{ const c = {BACKGROUND}.match(/\\d+/g).slice(0, 3).map(Number);"
        " return c[0] + c[1] + c[2] < 200; }",
        polling=100,
        timeout=30_000,
    )
    assert _dark(other)
    # The timeliness chart's bars stand out on the dark background.
    wait_for_charts(other, 4)
    rules = other.locator("[data-testid='stVegaLiteChart'] line[aria-roledescription='rule mark']")
    strokes = {rules.nth(i).get_attribute("stroke") for i in range(rules.count())}
    assert "#4c9be8" in strokes
    page.close()
    other.close()


def test_12_two_key_presses_to_the_filters(page: Page, dashboard_url: str) -> None:
    open_app(page, f"{dashboard_url}/")
    expect(page.get_by_test_id("imrSkipToFilters")).to_be_attached()  # installed by the page
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to filters"
    page.keyboard.press("Enter")
    page.wait_for_function(
        "() => document.activeElement"
        " && document.activeElement.closest(\"[data-testid='stSidebar']\")"
        " && ['INPUT', 'TEXTAREA'].includes(document.activeElement.tagName)",
        polling=100,  # not requestAnimationFrame: a tab in the background gets none
    )
    page.keyboard.type("x")  # the first filter takes the typing
    assert page.evaluate("document.activeElement.value") == "x"


def test_more_filters_are_built_when_opened(page: Page, dashboard_url: str) -> None:
    """Closed, "More filters" holds no widget (their option counts are not run); opening it
    reruns the page with them, and a value picked there stays, in the URL."""
    open_app(page, f"{dashboard_url}/?decision=Upheld")
    body_region = re.compile(r"^Body region \(diagnoses\) \(")
    expect(filter_widget(page, body_region)).to_have_count(0)
    page.get_by_test_id("stSidebar").get_by_text("More filters", exact=True).click()
    widget = filter_widget(page, body_region)
    expect(widget).to_be_visible()  # built by the rerun the click starts
    wait_for_app(page)
    # By the keyboard (the prefix's one match, then Enter): at the foot of a long sidebar the
    # open list may lie below the window, where a click cannot reach it.
    choose_by_keyboard(page, widget, "spine-l", "spine-lumbar")  # in every demo corpus
    expect(page).to_have_url(re.compile(r"[?&]body_region=spine-lumbar(&|$)"))
    assert query(page)["body_region"] == ["spine-lumbar"]
    expect(filter_widget(page, body_region)).to_contain_text("spine-lumbar")
    expect(page.get_by_text(re.compile(r"^Filters: .*Body region"))).to_be_visible()
    assert_no_error(page)

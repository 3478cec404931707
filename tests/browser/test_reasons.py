"""Reasons page: click a reason, open an example letter, see the reason's sentence marked."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.helpers import assert_no_error, open_app, wait_for_app, wait_for_charts


def test_click_a_reason_then_read_its_sentence_in_the_letter(
    page: Page, dashboard_url: str, browser_warehouse: Path
) -> None:
    open_app(page, f"{dashboard_url}/reasons?drug_class=Opioids")
    wait_for_charts(page, 1)
    chart = page.get_by_test_id("stVegaLiteChart").first
    bars = chart.locator("path[aria-roledescription='bar']")
    expect(bars.first).to_be_attached()
    # Click the second bar (the first is the select box's default): its reason is in its label.
    target = None
    for i in range(bars.count()):
        bar = bars.nth(i)
        label = bar.get_attribute("aria-label") or ""
        box = bar.bounding_box()
        reason = label.split("Reason: ", 1)[1].split(";", 1)[0] if "Reason: " in label else ""
        if i > 0 and reason and reason != "(none found)" and box and box["width"] >= 6:
            target = (bar, reason)
            break
    assert target, "no reason bar wide enough to click"
    bar, reason = target
    bar.scroll_into_view_if_needed()
    box = bar.bounding_box()
    assert box
    page.mouse.click(box["x"] + 3, box["y"] + box["height"] / 4)
    expect(page.get_by_text("Reason selected on the chart", exact=False)).to_be_visible()
    expect(page.get_by_text(f"giving “{reason}”", exact=False)).to_be_visible()
    # The examples come after that text in the same run: read them once it has finished, not
    # while they are still being drawn (the last mark read would then not be the last example's:
    # a loaded machine failed so once).
    wait_for_app(page)

    # The last example: not the letter the Letters page would show first anyway. Its sentence
    # is the last marked one on the page (one mark per example).
    examples = page.locator(f'mark[title="Reason: {reason}"]')
    expect(examples.first).to_be_visible()
    sentence = examples.last.inner_text()
    assert len(sentence) > 20
    page.get_by_role("link", name="Open letter").last.click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Read a letter")).to_be_visible()
    marked = page.locator(f'mark[title="Reason: {reason}"]').filter(has_text=sentence)
    expect(marked.first).to_be_visible()
    assert_no_error(page)

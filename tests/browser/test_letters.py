"""Letters page: search, open a letter, read it as plain text; HTML/JS in letters stays inert."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser import hostile
from tests.browser.helpers import assert_no_error, open_app, wait_for_app, warehouse


def assert_inert(page: Page) -> None:
    """The crafted markup never became DOM: no script ran, no <img src=x> exists."""
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert page.locator("img[src='x']").count() == 0
    scripts = page.evaluate(
        "Array.from(document.scripts).filter(s => s.text.includes('__xss')).length"
    )
    assert scripts == 0


def test_search_and_open_a_letter_as_plain_text(
    page: Page, dashboard_url: str, browser_warehouse: Path
) -> None:
    open_app(page, f"{dashboard_url}/letters?q={hostile.MARKER}")
    with warehouse(browser_warehouse) as con:
        items, letters = con.execute(
            "select count(*), count(distinct letter_id) from decisions where rationale ilike ?",
            [f"%{hostile.MARKER}%"],
        ).fetchone()  # type: ignore[misc]
    assert (items, letters) == (len(hostile.FORMULA_ITEMS) + 1, 2)
    expect(page.get_by_text(f"{items:,} items in {letters:,} letters", exact=True)).to_be_visible()

    # Both crafted letters decided the same day: the formula letter sorts first and opens by
    # default; open the other one from the "Letter" select box.
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(f"Case {hostile.FORMULA_CASE} ·", exact=False)).to_be_visible()
    page.get_by_test_id("stSelectbox").filter(has_text="Letter").click()
    page.get_by_role("option", name=hostile.MARKUP_CASE, exact=True).click()
    expect(main.get_by_text(f"Case {hostile.MARKUP_CASE} ·", exact=False)).to_be_visible()
    wait_for_app(page)
    shared = page.url
    assert "letter=" in shared

    texts = main.get_by_test_id("stText")
    expect(texts.filter(has_text=hostile.MARKUP_SUMMARY)).to_have_count(1)
    expect(texts.filter(has_text=f"Request: {hostile.MARKUP_REQUEST}")).to_have_count(1)
    # The rationale is shown as escaped text with the search's match marked (issue 14): its
    # visible text is the letter's, the markup in it inert.
    rationale = main.locator("div.imr-text").filter(has_text="Rationale:")
    expect(rationale).to_have_count(1)
    assert rationale.inner_text() == "Rationale: " + hostile.MARKUP_RATIONALE
    expect(rationale.locator("mark[title='search match']")).to_have_text(hostile.MARKER)
    expect(texts.filter(has_text="Item 1: Upheld")).to_have_count(1)
    assert_inert(page)
    assert_no_error(page)

    # The address bar is a shareable link to this letter.
    open_app(page, shared)
    expect(main.get_by_text(f"Case {hostile.MARKUP_CASE} ·", exact=False)).to_be_visible()
    assert_inert(page)


def test_markup_in_a_letter_is_shown_as_text_and_never_runs(page: Page, dashboard_url: str) -> None:
    open_app(page, f"{dashboard_url}/letters?q=Zorblatt")  # only the markup letter matches
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(f"Case {hostile.MARKUP_CASE} ·", exact=False)).to_be_visible()
    # The literal markup is what the reader sees.
    # (a hidden copy of the text may come first in the DOM: look at the visible ones only)
    expect(main.get_by_text(hostile.XSS, exact=False).filter(visible=True).first).to_be_visible()
    # Give a would-be onerror handler time to fire (an <img src=x> fails at once).
    page.wait_for_load_state("networkidle")
    assert_inert(page)
    assert_no_error(page)


def test_letter_link_by_id_opens_that_letter(page: Page, dashboard_url: str) -> None:
    open_app(page, f"{dashboard_url}/letters?q={hostile.MARKER}&letter={hostile.MARKUP_CASE}")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stText").first).to_contain_text(
        f"Case {hostile.MARKUP_CASE} ·", timeout=5_000
    )

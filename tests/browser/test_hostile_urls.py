"""Hostile URLs: SQL injection (and markup) through every query parameter.

The page must render (no exception, no stack trace, no DuckDB error text), hostile values must
not change the numbers (a valid value next to them still filters exactly), nothing runs in the
browser, and the warehouse is byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.helpers import (
    FILTER_COLUMNS,
    assert_no_error,
    expected_summary,
    fingerprint,
    metric_value,
    open_app,
    url_with,
)

PAYLOADS = [
    "' OR 1=1 --",
    "1; drop table letters",
    "Opioids') or ('1'='1",
    '<img src=x onerror="window.__xss=3">',
]
FILTER_PARAMS = [*FILTER_COLUMNS, "exclude_demo"]


@pytest.fixture
def unchanged_warehouse(browser_warehouse: Path):
    before = fingerprint(browser_warehouse)
    yield
    assert fingerprint(browser_warehouse) == before, "the warehouse changed"


@pytest.mark.usefixtures("unchanged_warehouse")
@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_filters_are_dropped(
    page: Page, dashboard_url: str, browser_warehouse: Path, payload: str
) -> None:
    # Every filter parameter hostile, twice for the range filters; the category also gets one
    # valid value, which must still filter exactly as SQL says.
    params: list[tuple[str, str]] = [("category", "Pharmaceuticals")]
    for name in FILTER_PARAMS:
        params += [(name, payload)] * (2 if name.endswith("_year") else 1)
    open_app(page, url_with(dashboard_url, "/", params))
    assert_no_error(page)
    want = expected_summary(browser_warehouse, {"category": "Pharmaceuticals"})
    expect(metric_value(page, "Disputed items")).to_have_text(f"{want.items:,}")
    expect(metric_value(page, "Letters")).to_have_text(f"{want.letters:,}")
    assert page.evaluate("typeof window.__xss") == "undefined"


@pytest.mark.usefixtures("unchanged_warehouse")
@pytest.mark.parametrize("payload", PAYLOADS)
def test_hostile_letters_page_params(page: Page, dashboard_url: str, payload: str) -> None:
    params = [("q", payload), ("letter", payload)] + [(name, payload) for name in FILTER_PARAMS]
    open_app(page, url_with(dashboard_url, "/letters", params))
    assert_no_error(page)
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Letters", exact=True)).to_be_visible()
    # The search text is searched for literally (bound parameter): no letter contains it.
    expect(main.get_by_text("0 items in 0 letters", exact=True)).to_be_visible()
    assert page.evaluate("typeof window.__xss") == "undefined"

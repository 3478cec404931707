"""The README's screenshot: the Overview page at 1400x1000 once its charts have rendered."""

from __future__ import annotations

import struct

from playwright.sync_api import Page, expect

from tests.browser.conftest import VIEWPORT
from tests.browser.helpers import assert_no_error, metric_value, open_app, wait_for_charts
from tests.conftest import ROOT

SCREENSHOT = ROOT / "docs" / "screenshot.png"


def test_overview_screenshot(page: Page, dashboard_url: str) -> None:
    page.set_viewport_size(VIEWPORT)
    open_app(page, dashboard_url + "/")
    wait_for_charts(page, 2)
    expect(metric_value(page, "Disputed items")).not_to_be_empty()
    assert_no_error(page)
    page.evaluate("document.fonts.ready.then(() => true)")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=SCREENSHOT, animations="disabled", caret="hide")
    header = SCREENSHOT.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])

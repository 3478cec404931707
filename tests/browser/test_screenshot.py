"""The README's screenshot: the Overview page at 1400x1000 once its charts have rendered.

Every run takes the screenshot and checks it, into the test's temporary folder; it replaces
``docs/screenshot.png`` only when asked:
``IMR_SCREENSHOT=1 .venv/bin/pytest -q tests/browser/test_screenshot.py``.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import VIEWPORT
from tests.browser.helpers import assert_no_error, metric_value, open_app, wait_for_charts
from tests.conftest import ROOT

README_SCREENSHOT = ROOT / "docs" / "screenshot.png"


def screenshot_path(tmp_path: Path) -> Path:
    if os.environ.get("IMR_SCREENSHOT", "").lower() in ("1", "true", "yes"):
        return README_SCREENSHOT
    return tmp_path / "screenshot.png"


def test_overview_screenshot(page: Page, dashboard_url: str, tmp_path: Path) -> None:
    page.set_viewport_size(VIEWPORT)
    open_app(page, dashboard_url + "/")
    wait_for_charts(page, 2)
    expect(metric_value(page, "Disputed items")).not_to_be_empty()
    assert_no_error(page)
    page.evaluate("document.fonts.ready.then(() => true)")
    target = screenshot_path(tmp_path)
    target.parent.mkdir(exist_ok=True)
    page.screenshot(path=target, animations="disabled", caret="hide")
    header = target.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", header[16:24])
    assert (width, height) == (VIEWPORT["width"], VIEWPORT["height"])

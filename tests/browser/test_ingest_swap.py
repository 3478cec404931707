"""The dashboard keeps answering while an ingest builds and swaps the warehouse, then shows the
new version without a restart."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from etl.ingest import IngestSummary, ingest
from etl.settings import Settings
from tests.browser.conftest import Server, synthetic_corpus
from tests.browser.helpers import (
    assert_no_error,
    expected_summary,
    metric_value,
    open_app,
    wait_for_app,
)


def test_ingest_swap_while_serving(
    page: Page, default_config_server: Server, small_warehouse: Path, tmp_path: Path
) -> None:
    corpus = synthetic_corpus(tmp_path / "more", letters=40, seed=12)
    if corpus is None:
        pytest.skip("the synthetic corpus generator is not available")
    before = expected_summary(small_warehouse, {})
    open_app(page, default_config_server.url + "/")
    expect(metric_value(page, "Letters")).to_have_text(f"{before.letters:,}")

    outcome: dict[str, IngestSummary | BaseException] = {}

    def run_ingest() -> None:
        try:
            outcome["summary"] = ingest([corpus], Settings(db=small_warehouse, jobs=1))
        except BaseException as exc:  # reported by the test thread
            outcome["error"] = exc

    worker = threading.Thread(target=run_ingest, name="ingest")
    worker.start()
    answered = 0
    try:
        while worker.is_alive():  # keep using the dashboard during the ingest
            page.reload()
            wait_for_app(page)
            expect(metric_value(page, "Letters")).not_to_be_empty()
            assert_no_error(page)
            answered += 1
    finally:
        worker.join(timeout=120)
    assert "error" not in outcome, outcome.get("error")
    summary = outcome["summary"]
    assert isinstance(summary, IngestSummary) and summary.letters == 40, summary
    assert answered >= 1

    after = expected_summary(small_warehouse, {})
    assert after.letters == before.letters + 40
    page.reload()
    wait_for_app(page)
    expect(metric_value(page, "Letters")).to_have_text(f"{after.letters:,}")
    expect(metric_value(page, "Disputed items")).to_have_text(f"{after.items:,}")
    assert_no_error(page)
    assert default_config_server.process.poll() is None, "the server restarted or died"

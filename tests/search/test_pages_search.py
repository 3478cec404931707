"""The search on the pages through Streamlit's AppTest: the command offered instead of a large
download with text, and its quoting."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import search
from dashboard.search_ui import export_command

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


@pytest.fixture(autouse=True)
def _warehouse_env(search_warehouse, monkeypatch):
    monkeypatch.setenv("IMR_DB", str(search_warehouse))


def _run(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _downloads(at: AppTest) -> list[str]:
    return [b.proto.label for b in at.get("download_button")]


def test_a_small_slice_downloads_with_text() -> None:
    at = _run("overview", q="norco")
    assert {"Download CSV", "Download CSV with text"} <= set(_downloads(at))


def test_a_large_slice_gets_the_command_instead(monkeypatch) -> None:
    monkeypatch.setattr(search, "TEXT_DOWNLOAD_ROWS", 10)
    at = _run("letters", q="norco")
    assert "Download CSV with text" not in _downloads(at)
    assert "Download CSV" in _downloads(at)
    commands = [c.value for c in at.code]
    assert len(commands) == 1 and commands[0].startswith("imr export --view ")


def test_the_command_quotes_the_url_for_the_shell() -> None:
    url = "http://127.0.0.1:8501/letters?q=it's+a+$(rm)+`x`&drug=norco"
    command = export_command(url)
    assert shlex.split(command) == ["imr", "export", "--view", url, "items-with-text.csv"]

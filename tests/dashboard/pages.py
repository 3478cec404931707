"""Running a dashboard page in a test: one ``run_page`` for every AppTest file (its warehouse
comes from the ``app_env`` fixture of tests/dashboard/conftest.py, or a test's own)."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "app.py")


def run_page(
    page: str, *, timeout: float = 60, no_errors: bool = False, **params: str | list[str]
) -> AppTest:
    """Run ``app_pages/<page>.py`` once with ``params`` in the URL; it must raise nothing (and
    show no error box, with ``no_errors``)."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in params.items():
        at.query_params[key] = value
    at.switch_page(f"app_pages/{page}.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    if no_errors:
        assert not at.error, [e.value for e in at.error]
    return at

"""Shared helpers for the browser tests: waiting for Streamlit, reading what it shows, and
asking the warehouse the same question directly (independent SQL, not ``dashboard.queries``)."""

from __future__ import annotations

import hashlib
import os
import re
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
from playwright.sync_api import Download, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from dashboard import dimensions

APP_TIMEOUT_MS = 30_000

# url path -> (title shown as the page's h1, minimum number of Vega-Lite charts it renders on
# the browser warehouse). Letters has no chart.
PAGES: dict[str, tuple[str, int]] = {
    "/": ("IMR outcomes", 2),
    "/medications": ("Medications", 2),
    "/reviewers": ("Reviewers", 2),
    "/guidelines": ("Guidelines", 3),
    "/timeline": ("Timeline", 4),
    "/letters": ("Letters", 0),
    "/data_quality": ("Data quality", 2),
}

# URL parameter -> (item_facts column, kind) for every sidebar filter of the dimension registry
# (kind: scalar, list or range). Only the names come from the registry: the SQL below is the
# tests' own.
FILTER_COLUMNS: dict[str, tuple[str, str]] = {
    d.param: (d.column, "range" if d.widget == "range" else d.shape) for d in dimensions.FILTERS
}

# Stack traces and DuckDB error messages must never reach a user.
ERROR_TEXTS = (
    "Traceback",
    'File "/',
    "Binder Error",
    "Parser Error",
    "Catalog Error",
    "Conversion Error",
    "Invalid Input Error",
    "Exception:",
)


# --- Streamlit -----------------------------------------------------------------------------


def wait_for_app(page: Page, timeout: float = APP_TIMEOUT_MS) -> None:
    """Wait until the app is connected and its script run has finished.

    ``data-test-script-state`` is ``initial`` before the first run, so right after a navigation
    this cannot match a stale "notRunning". After a click, wait for the expected content too.
    """
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-connection-state='CONNECTED']",
        state="attached",
        timeout=timeout,
    )
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']",
        state="attached",
        timeout=timeout,
    )
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=timeout)


def filter_widget(page: Page, label: re.Pattern[str]) -> Locator:
    """The sidebar multiselect whose label matches ``label``."""
    text = page.get_by_test_id("stWidgetLabel").get_by_text(label)
    return page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has=text)


def type_into(page: Page, widget: Locator, typed: str) -> None:
    """Open the multiselect ``widget`` and type ``typed`` into its search field.

    A script rerun that lands while the keys are typed redraws the widget and drops what was
    typed (Streamlit's behaviour, not the app's): the typing is checked and done again, up to
    three times."""
    field = widget.locator("input")
    for _ in range(3):
        if _typed(page, widget, typed):
            break
        page.keyboard.press("Escape")
    expect(field).to_have_value(typed)


def _typed(page: Page, widget: Locator, typed: str) -> bool:
    """Click ``widget``, type ``typed`` into its search field; whether the field holds it."""
    widget.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type(typed)
    wait_for_app(page)
    return widget.locator("input").input_value() == typed


def choose_by_keyboard(page: Page, widget: Locator, typed: str, option: str) -> None:
    """Type ``typed`` (a prefix with one match, ``option``) into the multiselect ``widget`` and
    take that match with Enter; the widget then holds ``option``.

    Beyond the redraws ``type_into`` survives, a CI run once saw the match chosen while the
    typing was done again (the field empty, the value in the URL, no Enter pressed): a value the
    widget already holds is not typed for again."""
    for _ in range(3):
        if option in widget.inner_text().splitlines():
            break
        if _typed(page, widget, typed) and _only_option(page, option):
            page.keyboard.press("Enter")
        page.keyboard.press("Escape")
        wait_for_app(page)
    expect(widget).to_contain_text(option)


def _only_option(page: Page, option: str) -> bool:
    """Whether the open list shows ``option`` alone (the typed prefix's one match). A rerun
    that redraws the field after the typing leaves every option listed, and Enter would take
    the first of them: a CI run once chose "ankle/foot" for "spine-l" so."""
    expect(page.get_by_role("option", name=option, exact=True)).to_be_attached()
    return page.get_by_role("option").count() == 1


def pick(page: Page, label: re.Pattern[str], typed: str, option: str) -> None:
    """Type ``typed`` into a sidebar multiselect and choose ``option`` from what it offers."""
    type_into(page, filter_widget(page, label), typed)
    page.get_by_role("option", name=option, exact=True).click()
    page.keyboard.press("Escape")
    wait_for_app(page)


def open_app(page: Page, url: str) -> None:
    page.goto(url)
    wait_for_app(page)


def download(page: Page, button: Locator, timeout: float = 15_000) -> Download:
    """Click a download button (a deferred download: the server builds the file on the click)
    and return its download. A click that brought none in ``timeout`` ms is made once more,
    the app idle first: in CI one such click in many runs never answered (passed on every
    rerun); a reader would click again too. Two lost clicks fail."""
    expect(button).to_be_enabled(timeout=timeout)
    try:
        with page.expect_download(timeout=timeout) as info:
            button.click()
    except PlaywrightTimeout:
        wait_for_app(page)
        with page.expect_download(timeout=timeout) as info:
            button.click()
    return info.value


def url_with(base: str, path: str, params: Mapping[str, Any] | Sequence[tuple[str, Any]]) -> str:
    query = urllib.parse.urlencode(params, doseq=True)
    return f"{base}{path}" + (f"?{query}" if query else "")


def assert_no_error(page: Page) -> None:
    """No Streamlit exception element and no stack-trace-like text anywhere on the page."""
    expect(page.get_by_test_id("stException")).to_have_count(0)
    body = page.locator("body").inner_text()
    for text in ERROR_TEXTS:
        assert text not in body, f"{text!r} shown on {page.url}"


def charts(page: Page) -> Locator:
    return page.locator("[data-testid='stVegaLiteChart']")


def wait_for_charts(page: Page, minimum: int) -> int:
    """Wait until at least ``minimum`` charts exist and every one has drawn (svg or canvas)."""
    if minimum:
        expect(charts(page).nth(minimum - 1)).to_be_attached()
    total = charts(page).count()
    drawn = page.locator("[data-testid='stVegaLiteChart'] :is(svg.marks, canvas.marks)")
    expect(drawn).to_have_count(total)
    return total


def metric_value(page: Page, label: str) -> Locator:
    metric = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return metric.get_by_test_id("stMetricValue")


def number(text: str) -> int:
    return int(re.sub(r"[^0-9]", "", text))


# --- warehouse -----------------------------------------------------------------------------


@contextmanager
def warehouse(db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection (never held across an ingest in this process)."""
    con = duckdb.connect(os.path.realpath(db), read_only=True)
    try:
        yield con
    finally:
        con.close()


def where(filters: Mapping[str, Any]) -> tuple[str, list[Any]]:
    """An item_facts predicate for the URL filters (test code: names are constants)."""
    clauses: list[str] = []
    params: list[Any] = []
    for name, value in filters.items():
        if name == "exclude_demo":
            if value:
                clauses.append("not synthetic")
            continue
        column, kind = FILTER_COLUMNS[name]
        values = [value] if isinstance(value, str | int) else list(value)
        if kind == "range":
            clauses.append(f"{column} between ? and ?")
            params += [min(values), max(values)]
        elif kind == "list":
            clauses.append(f"list_has_any({column}, ?::varchar[])")
            params.append([str(v) for v in values])
        else:
            clauses.append(f"{column} in ({', '.join('?' for _ in values)})")
            params += values
    return (" and ".join(clauses) or "true"), params


@dataclass(frozen=True)
class Expected:
    letters: int
    items: int
    overturned: int

    @property
    def uphold_rate(self) -> float:
        return (self.items - self.overturned) / self.items

    @property
    def overturn_rate(self) -> float:
        return self.overturned / self.items


def expected_summary(db: Path, filters: Mapping[str, Any]) -> Expected:
    predicate, params = where(filters)
    with warehouse(db) as con:
        row = con.execute(
            "select count(distinct letter_id), count(*), count(*) filter (where overturned) "
            f"from item_facts where {predicate}",
            params,
        ).fetchone()
    assert row is not None
    return Expected(*row)


def top_values(db: Path, param: str, limit: int) -> list[str]:
    """The ``limit`` values of a filter with the most items (most first, then by value)."""
    column, kind = FILTER_COLUMNS[param]
    values = f"unnest({column})" if kind == "list" else column
    with warehouse(db) as con:
        rows = con.execute(
            f"select value::varchar, count(*) as n from (select {values} as value from item_facts)"
            " where value is not null group by value order by n desc, value limit ?",
            [limit],
        ).fetchall()
    return [str(r[0]) for r in rows]


def fingerprint(db: Path) -> tuple[Any, ...]:
    """What "the warehouse is unchanged" means: same file behind the link, same bytes, same
    row counts."""
    real = os.path.realpath(db)
    digest = hashlib.sha256(Path(real).read_bytes()).hexdigest()
    with warehouse(db) as con:
        counts = tuple(
            con.execute(f"select count(*) from {table}").fetchone()[0]  # type: ignore[index]
            for table in ("letters", "decisions", "item_facts")
        )
    return real, digest, counts

"""The landing page's "Download CSV": exactly the filtered items, a file name carrying the
filters, and formula-like cells neutralised (CSV injection)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page

from tests.browser import hostile
from tests.browser.helpers import download as save
from tests.browser.helpers import open_app, wait_for_app, wait_for_charts, warehouse, where

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
REQUIRED_COLUMNS = {
    "case_number",
    "item_no",
    "request",
    "decision",
    "category",
    "drug_class",
    "drugs",
    "reviewer_specialties",
    "reviewer_states",
    "guideline_sources",
    "injury_year",
    "decision_date",
}


def _neutralised(value: str | None) -> str:
    if value is None:
        return ""
    return "'" + value if value.startswith(FORMULA_START) else value


@pytest.mark.parametrize("decision", ["Overturned", "Upheld"])
def test_download_csv_matches_warehouse(
    page: Page, dashboard_url: str, browser_warehouse: Path, decision: str
) -> None:
    open_app(page, f"{dashboard_url}/?decision={decision}")
    download = save(page, page.get_by_role("button", name="Download CSV", exact=True))
    assert download.failure() is None
    assert re.fullmatch(
        rf"imr_items_decision-{decision}_\d{{4}}-\d{{2}}-\d{{2}}\.csv", download.suggested_filename
    ), download.suggested_filename
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "UTF-8 BOM expected (spreadsheet encoding detection)"
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows, "empty download"
    assert set(rows[0]) >= REQUIRED_COLUMNS, set(rows[0])

    # Same rows as the warehouse, item by item, for the same filter.
    predicate, params = where({"decision": decision})
    with warehouse(browser_warehouse) as con:
        expected = {
            (letter_id, int(item_no)): (case_number, request, category, drug_class)
            for letter_id, item_no, case_number, request, category, drug_class in con.execute(
                "select letter_id, item_no, case_number, request, category, drug_class "
                f"from item_facts where {predicate}",
                params,
            ).fetchall()
        }
    got = {(row["letter_id"], int(row["item_no"])): row for row in rows}
    assert len(rows) == len(got), "duplicate items in the download"
    assert set(got) == set(expected)
    assert {row["decision"] for row in rows} == {decision}
    for key, (case_number, request, category, drug_class) in expected.items():
        row = got[key]
        assert row["case_number"] == _neutralised(case_number), key
        assert row["request"] == _neutralised(request), key
        assert row["category"] == _neutralised(category), key
        assert row["drug_class"] == _neutralised(drug_class), key

    # CSV injection: no cell starts like a formula; the crafted requests arrive quoted.
    for row in rows:
        for column, value in row.items():
            assert not value.startswith(FORMULA_START), (column, value)
    crafted = {row["request"] for row in rows if row["case_number"] == hostile.FORMULA_CASE}
    assert crafted == {
        "'" + request for request, outcome in hostile.FORMULA_ITEMS if outcome == decision
    }


def test_a_rate_table_downloads_on_click(
    page: Page, dashboard_url: str, browser_warehouse: Path
) -> None:
    """An aggregated table's CSV is built when its button is clicked (not on every rerun):
    the file holds the page's rates for the filters in the URL. (Timeline: none of its charts
    selects, so nothing reruns the page under the click.)"""
    open_app(page, f"{dashboard_url}/timeline?decision=Overturned")
    wait_for_charts(page, 1)
    page.get_by_text("Table: by decision year", exact=True).click()  # the table's expander
    wait_for_app(page)
    download = save(page, page.get_by_role("button", name="Download CSV (by decision year)"))
    assert download.failure() is None
    assert download.suggested_filename.startswith("imr_by_decision_year_decision-Overturned_")
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    predicate, params = where({"decision": "Overturned"})
    with warehouse(browser_warehouse) as con:
        expected = dict(
            con.execute(
                "select decision_year, count(*) from item_facts"
                f" where {predicate} and decision_year is not null group by all",
                params,
            ).fetchall()
        )
    got = {int(row["decision_year"]): int(row["n"]) for row in rows if row["n"] not in ("", "0")}
    assert got == expected

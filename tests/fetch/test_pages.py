"""The page reader: a golden page in the documented structure, and every way a page can differ
(each named in the error), never taken for a page without results."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from etl.fetch.pages import (
    CaseRow,
    LayoutError,
    check_search_form,
    is_case_number,
    parse_results,
)
from tests.fetch.replica import Case as ReplicaCase
from tests.fetch.replica import Replica, Treatment

GOLDEN = Path(__file__).with_name("golden")


def _plain(row: object) -> dict[str, object]:
    data = dataclasses.asdict(row)  # type: ignore[call-overload]
    kind = "case" if isinstance(row, CaseRow) else "more"
    return {
        "kind": kind,
        **{k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in data.items()},
    }


def test_golden_results_page() -> None:
    page = parse_results((GOLDEN / "treatment_results.html").read_text(encoding="utf-8"))
    want = json.loads((GOLDEN / "treatment_results.json").read_text(encoding="utf-8"))
    got = {"total": page.total, "has_next": page.has_next, "rows": [_plain(r) for r in page.rows]}
    assert got == want


def _case(n: int, treatments: int) -> ReplicaCase:
    return ReplicaCase(
        f"CM24-{n:07d}",
        dt.date(2024, 1, 2),
        dt.date(2020, 5, 6),
        None,
        "Pain Management",
        [Treatment("Pharmaceuticals", "Opioids", "Upheld")] * treatments,
        b"%PDF-1.4\n%%EOF\n",
    )


def test_the_replicas_pages_read_back_row_for_row() -> None:
    replica = Replica([_case(n, 1 + n % 3) for n in range(12)])
    rows: list[object] = []
    number = 1
    while True:
        page = parse_results(
            replica.results_page(dt.date(2024, 1, 1), dt.date(2024, 1, 31), number)
        )
        assert page.total == len(replica.rows()) == 24
        rows += page.rows
        if not page.has_next:
            break
        number += 1
    assert number == 1  # 24 rows: one page
    replica.page_size = 5
    pages = [
        parse_results(replica.results_page(dt.date(2024, 1, 1), dt.date(2024, 1, 31), n))
        for n in range(1, 6)
    ]
    assert [p.has_next for p in pages] == [True, True, True, True, False]
    assert sum(len(p.rows) for p in pages) == 24
    # A page may open with further treatments of the case the previous page ended on.
    assert any(not isinstance(p.rows[0], CaseRow) for p in pages[1:])


def test_a_page_without_results_is_recognised() -> None:
    replica = Replica([])
    page = parse_results(replica.results_page(dt.date(2024, 1, 1), dt.date(2024, 1, 2), 1))
    assert page.total == 0 and page.rows == () and not page.has_next


RESULTS = (GOLDEN / "treatment_results.html").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("tabborder", "results-grid"), 'no <table class="tabborder">'),
        (("<TH>Request Decision</TH>", ""), "header differs"),
        (("<TH>Case Number</TH>", "<TH>Claim</TH>"), "found Claim | Decision Date"),
        (("<strong>1,234</strong>", "1,234"), "no total count"),
        (("<strong>1,234</strong>", "<strong>many</strong>"), "reads 'many', not a number"),
        (("<TD>01/02/2024</TD>", "<TD>2 January 2024</TD>"), "row 2, Decision Date reads"),
        (("<TD>Orthopedic Surgery</TD>", ""), "row 5 has 7 cells, not 8"),
        (('<TD colspan="5">&nbsp;</TD>', '<TD colspan="5">&nbsp;</TD><TD>x</TD>'), "not 4"),
        ((">CM24-0000102</A>", ">../../etc/passwd</A>"), "case number cell reads"),
        (('<A HREF="/dwc/IMR/IMR-Decisions/2024/CM24-0000102.pdf">', "<A>"), "has no link"),
    ],
)
def test_a_page_that_differs_stops_with_what_differed(
    change: tuple[str, str], message: str
) -> None:
    old, new = change
    assert old in RESULTS
    with pytest.raises(LayoutError, match=message.replace("|", r"\|").replace("(", r"\(")) as error:
        parse_results(RESULTS.replace(old, new))
    assert error.value.page  # kept, to be saved for whoever looks into it


def test_an_unknown_page_is_never_read_as_no_results() -> None:
    for page in (
        "<html><body><p>Your session has expired.</p></body></html>",
        "<html><body><h1>Site maintenance</h1></body></html>",
        "",
        "<html><body><p>No records found</p>"
        '<form name="Nextpage"><input name="newpageno" value="2"></form></body></html>',
    ):
        with pytest.raises(LayoutError, match="tabborder"):
            parse_results(page)


def test_the_search_form_must_have_every_documented_field() -> None:
    replica = Replica([])
    check_search_form(replica._search_page().decode())
    replica.layout = "form_changed"
    with pytest.raises(LayoutError, match="lacks the fields DecStart"):
        check_search_form(replica._search_page().decode())
    with pytest.raises(LayoutError, match="no treatment search form"):
        check_search_form('<html><form name="x"><input name="q"></form></html>')


def test_case_numbers_name_files_safely() -> None:
    assert is_case_number("CM16-0213037")
    for bad in ("", "../x", "CM16/02", "CM 16", "-CM16", "ÇM16", "x" * 41, "CM16.pdf"):
        assert not is_case_number(bad), bad

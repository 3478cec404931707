"""Read DWC's IMR Decision Search pages: the search form and a page of treatment results.

What the pages look like (as a public crawler of 2017 reads them, talhaabacus/IMRCrawler,
``IMR.Crawler/Controls/WebSearch.cs``; the site may have changed since):

* the search page holds a treatment search form: a hidden ``Fname=Tx`` and the fields
  ``Caseno``, ``DoIStart``, ``DoIEnd``, ``ReqStart``, ``ReqEnd``, ``DecStart``, ``DecEnd``,
  ``SpecialtyV``, ``OutcomeV`` and ``SubCategoryV``;
* results are the first ``<table class="tabborder">``; its first row is the header: Case Number,
  Decision Date, Date of Injury, Received Date, IMRO Reviewer Specialty, Request Category,
  SubCategory/Drug, Request Decision. A case's first treatment is a row of those eight cells (the
  case number a site-relative link to the letter); each further treatment of the case is a row
  whose first cell spans five columns, then category, subcategory/drug and decision;
* the total count is in a ``<strong>`` of the element that follows the table;
* a form named ``Nextpage`` is there while more pages remain (25 rows a page).

Everything is read with an HTML parser (selectolax/lexbor), never with patterns over the markup.
Anything that is not as described raises ``LayoutError`` naming what differed: a page that cannot
be read is never taken for a page without results.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

# The treatment search form's fields (hidden Fname=Tx aside).
FORM_FIELDS = (
    "Caseno",
    "DoIStart",
    "DoIEnd",
    "ReqStart",
    "ReqEnd",
    "DecStart",
    "DecEnd",
    "SpecialtyV",
    "OutcomeV",
    "SubCategoryV",
)
# The results table's header, column by column: words each header cell must contain.
HEADER = (
    ("Case Number", ("case",)),
    ("Decision Date", ("decision", "date")),
    ("Date of Injury", ("injury",)),
    ("Received Date", ("received",)),
    ("IMRO Reviewer Specialty", ("specialty",)),
    ("Request Category", ("category",)),
    ("SubCategory/Drug", ("sub",)),
    ("Request Decision", ("decision",)),
)
CONTINUATION_SPAN = "5"
# How a page with no results says so (matched, case-insensitively, in its visible text).
NO_RESULTS = ("no records", "no results", "no matching", "no cases", "nothing found")
# Dates as the site prints them (and as the form takes them: the first one).
DATE_FORMATS = ("%m/%d/%Y", "%m/%d/%y", "%Y-%m-%d")
MAX_CASE_NUMBER = 40


class LayoutError(Exception):
    """A page that is not as documented; ``what`` names the difference."""

    def __init__(self, what: str, page: str = "") -> None:
        super().__init__(what)
        self.what = what
        self.page = page


@dataclass(frozen=True)
class CaseRow:
    """A case's first treatment: the eight cells."""

    case_number: str
    letter_href: str
    decision_date: dt.date
    injury_date: dt.date | None
    received_date: dt.date | None
    specialty: str
    category: str
    subcategory: str
    decision: str


@dataclass(frozen=True)
class MoreRow:
    """A further treatment of the case above (first cell spans five columns)."""

    category: str
    subcategory: str
    decision: str


PageRow = CaseRow | MoreRow


@dataclass(frozen=True)
class ResultsPage:
    total: int  # the count the site prints under the table
    rows: tuple[PageRow, ...]
    has_next: bool  # a form named Nextpage is on the page


def text_of(node: LexborNode) -> str:
    """The node's visible text, whitespace collapsed (entities already decoded)."""
    return " ".join((node.text(deep=True, separator=" ") or "").split())


def check_search_form(html: str) -> None:
    """The search page must hold the treatment search form with every documented field."""
    tree = LexborHTMLParser(html)
    seen: list[str] = []
    for form in tree.css("form"):
        names = _field_names(form)
        fname = [
            (node.attributes.get("value") or "").strip()
            for node in form.css("input")
            if (node.attributes.get("name") or "") == "Fname"
        ]
        if "Tx" in fname:
            missing = [f for f in FORM_FIELDS if f not in names]
            if missing:
                raise LayoutError(
                    "the treatment search form (Fname=Tx) lacks the fields "
                    f"{', '.join(missing)}; it has {', '.join(sorted(names)) or 'none'}",
                    html,
                )
            return
        seen.append("/".join(sorted(names)) or "(no fields)")
    described = "; ".join(seen) if seen else "no form at all"
    raise LayoutError(
        f"the search page has no treatment search form (a form with Fname=Tx); found: {described}",
        html,
    )


def _field_names(form: LexborNode) -> set[str]:
    names: set[str] = set()
    for tag in ("input", "select", "textarea"):
        for node in form.css(tag):
            name = node.attributes.get("name")
            if name:
                names.add(name)
    return names


def parse_results(html: str) -> ResultsPage:
    """One page of treatment search results."""
    tree = LexborHTMLParser(html)
    table = tree.css_first("table.tabborder")
    has_next = tree.css_first('form[name="Nextpage"]') is not None
    if table is None:
        body = tree.body
        text = text_of(body).casefold() if body is not None else ""
        if not has_next and any(phrase in text for phrase in NO_RESULTS):
            return ResultsPage(0, (), False)
        raise LayoutError(
            'the results page has no <table class="tabborder"> and does not say that nothing was '
            "found",
            html,
        )
    rows = _own_rows(table)
    if not rows:
        raise LayoutError("the results table has no rows, not even a header", html)
    _check_header(rows[0], html)
    total = _total_after(table, html)
    parsed = tuple(_row(row, number, html) for number, row in enumerate(rows[1:], start=2))
    if has_next and not parsed:
        raise LayoutError("a page with a Nextpage form but no result rows", html)
    return ResultsPage(total, parsed, has_next)


def _own_rows(table: LexborNode) -> list[LexborNode]:
    """The table's rows, not those of a table nested in a cell."""
    return [tr for tr in table.css("tr") if _closest_table(tr) == table]


def _closest_table(node: LexborNode) -> LexborNode | None:
    parent = node.parent
    while parent is not None and parent.tag != "table":
        parent = parent.parent
    return parent


def _cells(row: LexborNode) -> list[LexborNode]:
    return [child for child in row.iter() if child.tag in ("td", "th")]


def _check_header(row: LexborNode, html: str) -> None:
    found = [text_of(cell) for cell in _cells(row)]
    wanted = [name for name, _ in HEADER]
    ok = len(found) == len(HEADER) and all(
        all(word in cell.casefold() for word in words)
        for cell, (_, words) in zip(found, HEADER, strict=True)
    )
    if not ok:
        raise LayoutError(
            f"the results table's header differs: expected {' | '.join(wanted)}; "
            f"found {' | '.join(found) or '(empty)'}",
            html,
        )


def _total_after(table: LexborNode, html: str) -> int:
    node = table.next
    while node is not None and (node.tag or "-").startswith("-"):  # text and comment nodes
        node = node.next
    strong = None
    if node is not None:
        strong = node if node.tag == "strong" else node.css_first("strong")
    if strong is None:
        raise LayoutError(
            "no total count (a <strong> in the element after the results table)", html
        )
    text = text_of(strong).replace(",", "")
    if not text.isdigit():
        raise LayoutError(
            f"the total count after the results table reads {text!r}, not a number", html
        )
    return int(text)


def _row(row: LexborNode, number: int, html: str) -> PageRow:
    cells = _cells(row)
    texts = [text_of(cell) for cell in cells]
    if cells and cells[0].attributes.get("colspan") == CONTINUATION_SPAN:
        if len(cells) != 4:
            raise LayoutError(
                f"row {number}: a further-treatment row (first cell spanning 5 columns) has "
                f"{len(cells)} cells, not 4: {' | '.join(texts)}",
                html,
            )
        return MoreRow(texts[1], texts[2], texts[3])
    if len(cells) != len(HEADER):
        raise LayoutError(
            f"row {number} has {len(cells)} cells, not {len(HEADER)}: {' | '.join(texts)}", html
        )
    link = cells[0].css_first("a")
    href = (link.attributes.get("href") or "").strip() if link is not None else ""
    if link is None or not href:
        raise LayoutError(f"row {number}: the case number cell has no link to the letter", html)
    case_number = text_of(link)
    if not is_case_number(case_number):
        raise LayoutError(f"row {number}: the case number cell reads {case_number!r}", html)
    decision_date = parse_date(texts[1], f"row {number}, Decision Date", html)
    if decision_date is None:
        raise LayoutError(f"row {number}: no decision date", html)
    return CaseRow(
        case_number=case_number,
        letter_href=href,
        decision_date=decision_date,
        injury_date=parse_date(texts[2], f"row {number}, Date of Injury", html),
        received_date=parse_date(texts[3], f"row {number}, Received Date", html),
        specialty=texts[4],
        category=texts[5],
        subcategory=texts[6],
        decision=texts[7],
    )


def is_case_number(text: str) -> bool:
    """Letters, digits and dashes only (it names a file): ``CM16-0213037``."""
    return (
        0 < len(text) <= MAX_CASE_NUMBER
        and text[0].isascii()
        and text[0].isalnum()
        and all(c.isascii() and (c.isalnum() or c == "-") for c in text)
    )


def parse_date(text: str, where: str, html: str = "") -> dt.date | None:
    """A date as the site prints it; blank is None; anything else is a LayoutError."""
    if not text.strip():
        return None
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    raise LayoutError(f"{where} reads {text!r}, not a date (MM/DD/YYYY)", html)


def form_date(day: dt.date) -> str:
    """A date as the search form takes it."""
    return day.strftime(DATE_FORMATS[0])

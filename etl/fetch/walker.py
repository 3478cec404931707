"""Walk the treatment search by decision-date windows, halving a window while it is too large.

A window's first page tells its count: over ``limit`` (1,000 by default) and longer than a day,
it is split in two halves, each walked in turn (earliest first). A window small enough is read
page by page; a case's further treatments may continue on the next page. What a window yields is
checked before anyone uses it:

* the count the site prints must equal the rows read (or the cases read: the site may count
  either); fewer rows than the count means the site stopped serving (a single day over the limit
  cannot be split further): the cases read are kept but the last, which may be cut, and the
  window is reported as incomplete;
* a count that changes from page to page, or a case that shows up again after another one, means
  the results moved while being read (letters being posted): the window is read once more, and
  if it moves again nothing of it is kept and it is reported.

Windows already done (or split) in this run are not asked for again: the log remembers them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from etl.fetch.pages import CaseRow, LayoutError, MoreRow, ResultsPage
from etl.fetch.site import Window

DEFAULT_LIMIT = 1000


class Search(Protocol):
    def page(self, window: Window, number: int) -> ResultsPage: ...


class WindowLog(Protocol):
    def window_status(self, window: Window) -> str | None: ...

    def mark_split(self, window: Window, reported: int) -> None: ...


@dataclass(frozen=True)
class IndexRow:
    """One treatment of DWC's index, as the site lists it."""

    case_number: str
    treatment_no: int  # 1-based, in the site's order within the case
    decision_date: dt.date
    injury_date: dt.date | None
    received_date: dt.date | None
    specialty: str
    category: str
    subcategory: str
    decision: str
    letter_href: str


@dataclass
class WindowResult:
    window: Window
    reported: int
    cases: list[list[IndexRow]] = field(default_factory=list)  # rows grouped by case, in order
    complete: bool = True
    note: str | None = None
    moved: bool = False  # the results changed while being read: nothing of it is kept
    pages: int = 0

    @property
    def rows(self) -> int:
        return sum(len(case) for case in self.cases)


class Walker:
    def __init__(self, search: Search, log: WindowLog, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("the window limit must be at least 1")
        self.search = search
        self.log = log
        self.limit = limit
        self.skipped = 0  # windows done by an earlier, interrupted run of the same fetch
        self.splits = 0

    def walk(self, first: dt.date, last: dt.date) -> Iterator[WindowResult]:
        stack = [Window(first, last)]
        while stack:
            window = stack.pop()
            status = self.log.window_status(window)
            if status == "done":
                self.skipped += 1
                continue
            if status == "split":
                left, right = window.halves()
                stack += [right, left]
                continue
            page = self.search.page(window, 1)
            if page.total > self.limit and window.days > 1:
                self.log.mark_split(window, page.total)
                self.splits += 1
                left, right = window.halves()
                stack += [right, left]
                continue
            yield self._read(window, page)

    def _read(self, window: Window, first_page: ResultsPage) -> WindowResult:
        result = self._assemble(window, self._pages(window, first_page))
        if result.moved:  # once more from the first page
            result = self._assemble(window, self._pages(window, self.search.page(window, 1)))
            if result.moved:
                result.note = f"{result.note} (twice)"
        return result

    def _pages(self, window: Window, first_page: ResultsPage) -> list[ResultsPage]:
        pages = [first_page]
        while pages[-1].has_next:
            number = len(pages) + 1
            if number > first_page.total + 1:
                raise LayoutError(
                    f"{window}: the site offers page {number} for {first_page.total} results"
                )
            pages.append(self.search.page(window, number))
            if pages[-1].total != first_page.total:
                break  # the results moved: no use reading on
        return pages

    def _assemble(self, window: Window, pages: list[ResultsPage]) -> WindowResult:
        reported = pages[0].total
        result = WindowResult(window, reported, pages=len(pages))
        totals = {page.total for page in pages}
        if len(totals) > 1:
            return _moved(result, f"the count moved from page to page ({_counts(pages)})")
        cases: list[list[IndexRow]] = []
        seen: set[str] = set()
        for number, page in enumerate(pages, start=1):
            for row in page.rows:
                if isinstance(row, MoreRow):
                    if not cases:
                        raise LayoutError(
                            f"results page {number} of {window} starts with a further-treatment "
                            "row and no case above it"
                        )
                    parent = cases[-1][-1]
                    cases[-1].append(_more(parent, row))
                    continue
                assert isinstance(row, CaseRow)
                if cases and cases[-1][0].case_number == row.case_number:
                    cases[-1].append(_first(row, len(cases[-1]) + 1))
                    continue
                if row.case_number in seen:
                    return _moved(result, f"case {row.case_number} was listed twice")
                if not window.first <= row.decision_date <= window.last:
                    raise LayoutError(
                        f"{window}: case {row.case_number} is dated {row.decision_date}, "
                        "outside the decision dates searched"
                    )
                seen.add(row.case_number)
                cases.append([_first(row, 1)])
        rows = sum(len(case) for case in cases)
        if reported in (rows, len(cases)):
            result.cases = cases
            return result
        if reported < rows and reported < len(cases):
            return _moved(result, f"DWC reported {reported:,} results but served {rows:,} rows")
        # Fewer served than counted: keep every case but the last, which may be cut short.
        result.cases = cases[:-1]
        result.complete = False
        result.note = (
            f"DWC reported {reported:,} results but served {rows:,} rows"
            + (
                f" (a single day over the {self.limit:,} limit cannot be split further)"
                if window.days == 1
                else ""
            )
            + f"; {len(result.cases):,} cases kept"
        )
        return result


def _moved(result: WindowResult, why: str) -> WindowResult:
    result.complete = False
    result.moved = True
    result.cases = []
    result.note = f"the results moved while being read: {why}"
    return result


def _counts(pages: list[ResultsPage]) -> str:
    return ", ".join(f"{page.total:,}" for page in pages)


def _first(row: CaseRow, number: int) -> IndexRow:
    return IndexRow(
        case_number=row.case_number,
        treatment_no=number,
        decision_date=row.decision_date,
        injury_date=row.injury_date,
        received_date=row.received_date,
        specialty=row.specialty,
        category=row.category,
        subcategory=row.subcategory,
        decision=row.decision,
        letter_href=row.letter_href,
    )


def _more(parent: IndexRow, row: MoreRow) -> IndexRow:
    return IndexRow(
        case_number=parent.case_number,
        treatment_no=parent.treatment_no + 1,
        decision_date=parent.decision_date,
        injury_date=parent.injury_date,
        received_date=parent.received_date,
        specialty=parent.specialty,
        category=row.category,
        subcategory=row.subcategory,
        decision=row.decision,
        letter_href=parent.letter_href,
    )

"""The window walker over the replica's pages (no network here: the pages are read directly)."""

from __future__ import annotations

import datetime as dt

import pytest

from etl.fetch.pages import LayoutError, ResultsPage, parse_results
from etl.fetch.site import Window
from etl.fetch.walker import Walker
from tests.fetch.conftest import JANUARY
from tests.fetch.data import edited
from tests.fetch.replica import Replica


class PageSource:
    """The replica's pages, read by the real page reader; every page asked for is logged."""

    def __init__(self, replica: Replica) -> None:
        self.replica = replica
        self.asked: list[tuple[Window, int]] = []
        self.before_page: dict[int, object] = {}

    def page(self, window: Window, number: int) -> ResultsPage:
        self.asked.append((window, number))
        hook = self.before_page.pop(len(self.asked), None)
        if callable(hook):
            hook()
        return parse_results(self.replica.results_page(window.first, window.last, number))


class Log:
    def __init__(self) -> None:
        self.status: dict[Window, str] = {}

    def window_status(self, window: Window) -> str | None:
        return self.status.get(window)

    def mark_split(self, window: Window, reported: int) -> None:
        self.status[window] = "split"


def _walk(replica: Replica, limit: int, log: Log | None = None) -> tuple[list, PageSource, Log]:
    source, log = PageSource(replica), log or Log()
    results = list(Walker(source, log, limit).walk(*JANUARY))
    return results, source, log


def test_windows_halve_while_too_large_and_every_row_is_read_once(january_cases) -> None:
    replica = Replica(january_cases, page_size=7)
    results, source, log = _walk(replica, limit=30)
    rows = [row for result in results for case in result.cases for row in case]
    want = [(c.case_number, i + 1) for c, i in replica.rows()]
    assert [(r.case_number, r.treatment_no) for r in rows] == want  # all, once, in order
    assert all(r.complete for r in results)
    assert all(r.reported <= 30 for r in results)  # every window read was small enough
    windows = [r.window for r in results]
    assert windows[0].first == JANUARY[0] and windows[-1].last == JANUARY[1]
    day = dt.timedelta(days=1)
    assert all(a.last + day == b.first for a, b in zip(windows, windows[1:], strict=False))
    split = [w for w, s in log.status.items() if s == "split"]
    assert split and Window(*JANUARY) in split
    # Paging: every window asked for pages 1..n, as the rows needed.
    assert max(n for _, n in source.asked) >= 2
    # A further treatment keeps its case's fields.
    four = [r for r in rows if r.case_number == january_cases[4].case_number]
    assert [r.treatment_no for r in four] == list(range(1, 9))
    assert {(r.decision_date, r.specialty, r.letter_href) for r in four} == {
        (january_cases[4].decision_date, "Preventive Medicine", january_cases[4].link)
    }
    assert [(r.category, r.subcategory, r.decision) for r in four] == [
        (t.category, t.subcategory, t.decision) for t in january_cases[4].treatments
    ]


def test_a_resumed_walk_asks_nothing_it_already_has(january_cases) -> None:
    replica = Replica(january_cases, page_size=7)
    first, source, log = _walk(replica, limit=30)
    for result in first[:2]:
        log.status[result.window] = "done"
    again, source_again, _ = _walk(replica, limit=30, log=log)
    assert [r.window for r in again] == [r.window for r in first[2:]]
    assert not {w for w, _ in source_again.asked} & {r.window for r in first[:2]}
    assert Window(*JANUARY) not in {w for w, _ in source_again.asked}  # its split is known


def test_a_day_over_the_limit_is_read_and_a_cut_short_window_reported(january_cases) -> None:
    day = dt.date(2024, 1, 10)
    crowded = [edited(c, decision_date=day) for c in january_cases[:12]]
    replica = Replica(crowded, site_cap=20)
    total = len(replica.rows())
    assert total > 20
    results, _, _ = _walk(replica, limit=10)
    (result,) = [r for r in results if r.window.days == 1 and r.window.first == day]
    assert not result.complete
    assert f"DWC reported {total:,} results but served 20 rows" in (result.note or "")
    assert "single day over the 10 limit" in (result.note or "")
    kept = [case[0].case_number for case in result.cases]
    served = []
    for c, _ in replica.rows()[:20]:
        if c.case_number not in served:
            served.append(c.case_number)
    assert kept == served[:-1]  # the last case served may be cut: not kept


def test_a_site_counting_cases_rather_than_rows_is_understood(january_cases) -> None:
    replica = Replica(january_cases, count_cases=True, page_size=10)
    results, _, _ = _walk(replica, limit=1000)
    assert len(results) == 1 and results[0].complete
    assert results[0].reported == 40 and results[0].rows == len(replica.rows())


def test_results_that_move_while_read_are_read_again(january_cases) -> None:
    replica = Replica(january_cases[:20], page_size=5)
    source, log = PageSource(replica), Log()
    late = edited(january_cases[20], decision_date=JANUARY[0])
    # A letter is posted between pages 1 and 2 of the first read.
    source.before_page[2] = lambda: replica.cases.append(late)
    (result,) = list(Walker(source, log, 1000).walk(*JANUARY))
    assert result.complete and not result.moved
    assert late.case_number in [case[0].case_number for case in result.cases]
    assert [n for _, n in source.asked].count(1) == 2  # read twice from the first page


def test_results_that_keep_moving_are_reported_and_not_kept(january_cases) -> None:
    replica = Replica(january_cases[:20], page_size=5)
    source, log = PageSource(replica), Log()
    extra = [edited(c, decision_date=JANUARY[0]) for c in january_cases[20:30]]
    for n in range(2, 20):
        source.before_page[n] = lambda: replica.cases.append(extra.pop())
    (result,) = list(Walker(source, log, 1000).walk(*JANUARY))
    assert [n for _, n in source.asked] == [1, 2, 1, 2]  # each read stops where it moved
    assert result.moved and not result.complete and result.cases == []
    assert "moved while being read" in (result.note or "") and "(twice)" in (result.note or "")


def test_rows_outside_the_window_searched_stop_the_walk(january_cases) -> None:
    class Ignoring(PageSource):
        def page(self, window: Window, number: int) -> ResultsPage:
            return parse_results(self.replica.results_page(*JANUARY, number))

    with pytest.raises(LayoutError, match="outside the decision dates searched"):
        list(Walker(Ignoring(Replica(january_cases)), Log(), 30).walk(*JANUARY))

"""`imr fetch` end to end against the replica over HTTP: DWC's index into the warehouse, each
letter downloaded once, verified, never half-kept; reruns, updates, a changed site, a busy
warehouse."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from etl.fetch.run import FetchError
from etl.fetch.store import FetchBusy, state_folder
from tests.fetch.conftest import JANUARY, Run, fast_client
from tests.fetch.data import edited, make_cases
from tests.fetch.replica import COOKIE, Case, Treatment

COLUMNS = (
    "case_number, treatment_no, decision_date, injury_date, received_date, specialty,"
    " category_raw, subcategory_raw, decision_raw, category, subcategory, drug_class, decision,"
    " letter_url, letter_sha256"
)


def index_rows(db: Path) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(
            f"select {COLUMNS} from dwc_index order by case_number, treatment_no"
        ).fetchall()
    finally:
        con.close()


def expected_rows(cases: list[Case], url: str, missing: set[str] = frozenset()) -> list[tuple]:  # type: ignore[assignment]
    """DWC's index as the replica lists it; the replica writes our own names, so each maps to
    itself (a drug class for pharmaceuticals)."""
    rows = []
    for case in sorted(cases, key=lambda c: c.case_number):
        sha = None if case.case_number in missing else hashlib.sha256(case.pdf).hexdigest()
        for number, t in enumerate(case.treatments, start=1):
            pharma = t.category == "Pharmaceuticals"
            rows.append(
                (
                    case.case_number,
                    number,
                    case.decision_date,
                    case.injury_date,
                    case.received_date,
                    case.specialty,
                    t.category,
                    t.subcategory,
                    t.decision,
                    t.category,
                    t.subcategory,
                    t.subcategory if pharma else None,
                    t.decision,
                    f"{url}/dwc/imr/decisions/{case.case_number}.pdf",
                    sha,
                )
            )
    return rows


def test_the_index_is_recorded_and_each_letter_downloaded_once(
    replica, january_cases, tmp_path
) -> None:
    dropped, html = january_cases[3].case_number, january_cases[5].case_number
    site, url = replica(january_cases, drop_once={dropped}, not_pdf={html}, search_503=1)
    site.retry_after = "0"
    run = Run(tmp_path, url)
    summary = run()

    assert (summary.index_rows, summary.cases, summary.downloaded) == (114, 40, 39)
    assert summary.failed == {"not_a_pdf": 1} and summary.skipped == 0
    assert (
        summary.failures[0].startswith(f"{html}: not_a_pdf: ")
        and "text/html" in (summary.failures[0])
    )
    assert summary.windows >= 4 and summary.splits >= 1 and summary.stopped is None
    assert index_rows(run.db) == expected_rows(january_cases, url, missing={html})
    # Each letter once, complete, where it belongs; nothing for the HTML page, no leftovers.
    want = {c.case_number: c.pdf for c in january_cases if c.case_number != html}
    assert run.pdfs() == want
    assert [p.relative_to(run.out).parts[0] for p in run.all_files()] == ["2024"] * 39
    assert len(run.all_files()) == 39
    assert set(site.served_pdf.values()) == {1}
    assert [e.path.endswith(f"{dropped}.pdf") for e in site.downloads()].count(True) == 2
    # Politely: one at a time, the session cookie on every search, a search page first.
    assert site.max_in_flight == 1
    assert site.log[0].method == "GET" and all(COOKIE in e.cookie for e in site.searches())
    assert summary.requests == len(site.log)
    con = duckdb.connect(str(run.db), read_only=True)
    row = con.execute("select value from meta where key = 'last_fetch'").fetchone()
    assert row is not None
    (last_fetch,) = row
    # DWC's index rows replace a case's rows: a build that deletes lets DuckDB merge.
    merges = con.execute("select value from meta where key = 'row_group_merges'").fetchall()
    con.close()
    assert last_fetch.startswith("DWC index 2024-01-01..2024-01-31: 114 rows for 40 cases")
    assert merges == [("on",)]
    lines = summary.lines()
    assert lines[0] == summary.line() and any(
        line.startswith("dwc_index: 114 rows") for line in lines
    )


def test_a_rerun_downloads_nothing_again_and_a_changed_case_is_replaced(
    replica, january_cases, tmp_path
) -> None:
    site, url = replica(january_cases)
    run = Run(tmp_path, url)
    assert run().downloaded == 40
    before = len(site.downloads())
    again = run()
    assert (again.downloaded, again.skipped, again.failed) == (0, 40, {})
    assert len(site.downloads()) == before  # not one letter asked for twice
    assert len(index_rows(run.db)) == 114

    # DWC corrects a case: one treatment fewer, another decision.
    four = january_cases[4]
    fixed = edited(
        four,
        treatments=[
            Treatment(four.treatments[0].category, four.treatments[0].subcategory, "Overturned")
        ]
        + four.treatments[2:],
    )
    site.cases = [fixed if c is four else c for c in site.cases]
    run()
    rows = index_rows(run.db)
    assert rows == expected_rows(site.cases, url)
    assert len(rows) == 113 and len({(r[0], r[1]) for r in rows}) == 113


def test_update_continues_from_the_latest_decision_date_held(
    replica, january_cases, tmp_path
) -> None:
    site, url = replica(january_cases)
    run = Run(tmp_path, url)
    with pytest.raises(FetchError, match="nothing to continue from"):
        run(None, today=dt.date(2024, 2, 10))
    first = run((dt.date(2024, 1, 1), dt.date(2024, 1, 15)))
    held = [c for c in january_cases if c.decision_date <= dt.date(2024, 1, 15)]
    assert first.downloaded == len(held)
    latest = max(c.decision_date for c in held)
    february = make_cases(6, dt.date(2024, 2, 1), 6, start=100)
    site.cases += february
    update = run(None, today=dt.date(2024, 2, 10))
    assert (update.first, update.last) == (latest, dt.date(2024, 2, 10))
    newer = [c for c in site.cases if c.decision_date > latest]
    assert update.downloaded == len(newer)
    assert update.skipped == len([c for c in held if c.decision_date == latest])
    assert run.pdfs() == {c.case_number: c.pdf for c in held + newer}
    assert {r[0] for r in index_rows(run.db)} == {c.case_number for c in held + newer}


@pytest.mark.parametrize(
    ("layout", "what"),
    [
        ("new_column", "the results table's header differs: expected Case Number | Decision Date"),
        ("renamed_table", 'no <table class="tabborder">'),
        ("form_changed", "the treatment search form (Fname=Tx) lacks the fields DecStart"),
    ],
)
def test_a_changed_site_stops_the_fetch_naming_what_differed(
    replica, january_cases, tmp_path, layout, what
) -> None:
    site, url = replica(january_cases, layout=layout)
    run = Run(tmp_path, url)
    summary = run()
    assert summary.layout_changed and summary.stopped
    assert summary.stopped.startswith("DWC's site differs from what this imr understands: ")
    assert what in summary.stopped
    assert summary.saved_page and summary.saved_page.read_text(encoding="utf-8")
    assert str(summary.saved_page) in summary.stopped
    assert summary.index_rows == 0 and run.all_files() == [] and not site.downloads()
    assert "0 letters" not in summary.stopped


def test_what_was_fetched_before_the_site_changed_is_kept(replica, january_cases, tmp_path) -> None:
    site, url = replica(january_cases, change_layout_after=(6, "new_column"))
    run = Run(tmp_path, url)
    stopped = run()
    assert stopped.layout_changed and 0 < stopped.downloaded < 40
    kept = index_rows(run.db)
    assert 0 < len(kept) < 114 and len(run.pdfs()) == stopped.downloaded
    # The site is understood again (imr updated, say): the same command resumes.
    site.layout, site.change_layout_after = "documented", None
    resumed = run()
    assert resumed.stopped is None and resumed.windows_resumed >= 1
    assert resumed.downloaded == 40 - stopped.downloaded and resumed.skipped == 0
    assert index_rows(run.db) == expected_rows(january_cases, url)
    assert set(site.served_pdf.values()) == {1}


def test_links_off_the_site_and_files_in_the_way(replica, january_cases, tmp_path) -> None:
    off, blocked, present = (c.case_number for c in january_cases[:3])
    cases = list(january_cases[:6])
    cases[0] = edited(cases[0], href="http://elsewhere.invalid/letter.pdf")
    site, url = replica(cases)
    run = Run(tmp_path, url)
    year = run.out / "2024"
    year.mkdir(parents=True)
    (year / f"{blocked}.pdf").write_text("my notes, not a letter")
    (year / f"{present}.pdf").write_bytes(cases[2].pdf)
    summary = run()
    assert summary.failed == {"off_site_link": 1, "file_in_the_way": 1}
    assert (summary.downloaded, summary.skipped) == (3, 1)
    assert (year / f"{blocked}.pdf").read_text() == "my notes, not a letter"
    assert not any(e.path.endswith((f"{present}.pdf", f"{blocked}.pdf")) for e in site.downloads())
    rows = {r[0]: r for r in index_rows(run.db)}
    assert rows[off][13] is None and rows[present][14] == hashlib.sha256(cases[2].pdf).hexdigest()


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Another process holds the lock file ``path`` (as another ingest or fetch would)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    code = (
        "import fcntl, sys, time; f = open(sys.argv[1], 'a');"
        " fcntl.lockf(f, fcntl.LOCK_EX); print('locked', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        yield
    finally:
        holder.kill()
        holder.wait()


def test_a_busy_warehouse_keeps_the_index_queued(replica, january_cases, tmp_path) -> None:
    site, url = replica(january_cases[:8])
    run = Run(tmp_path, url)
    with locked(run.db.parent / f".{run.db.name}.lock"):  # another ingest is writing
        summary = run()
    assert summary.busy and "stay queued" in summary.busy and not summary.ok
    assert summary.downloaded == 8 and not run.db.exists()
    later = run()
    assert later.busy is None and later.skipped == 8
    assert len(index_rows(run.db)) == sum(len(c.treatments) for c in january_cases[:8])


def test_one_fetch_at_a_time(replica, january_cases, tmp_path) -> None:
    site, url = replica(january_cases[:2])
    run = Run(tmp_path, url)
    with locked(state_folder(run.db) / "lock"), pytest.raises(FetchBusy, match="another"):
        run()
    assert not site.log


def test_a_site_that_keeps_failing_stops_the_fetch_and_keeps_the_state(
    replica, january_cases, tmp_path
) -> None:
    site, url = replica(january_cases, search_503=100, retry_after="")
    run = Run(tmp_path, url)
    summary = run(client=fast_client(retries=2))
    assert summary.stopped and summary.stopped.startswith("DWC's site did not answer: ")
    assert "HTTP 503, 2 retries exhausted" in summary.stopped and not summary.layout_changed
    assert (state_folder(run.db) / "state.sqlite").is_file()


def test_letters_failing_one_after_another_stop_the_fetch(replica, january_cases, tmp_path) -> None:
    ordered = sorted(january_cases[:10], key=lambda c: (c.decision_date, c.case_number))
    down = {c.case_number for c in ordered[2:5]}
    site, url = replica(january_cases[:10], letter_503=down)
    run = Run(tmp_path, url)
    summary = run(client=fast_client(retries=1))
    assert summary.failed == {"gave_up": 3} and summary.downloaded == 2
    assert summary.stopped and "3 letters in a row failed" in summary.stopped
    site.letter_503 = set()
    again = run()
    assert again.stopped is None and (again.downloaded, again.skipped) == (8, 2)
    assert run.pdfs() == {c.case_number: c.pdf for c in january_cases[:10]}


def test_windows_and_dates_are_checked(replica, tmp_path) -> None:
    run = Run(tmp_path, "http://127.0.0.1:9")
    with pytest.raises(FetchError, match="is after"):
        run((dt.date(2024, 2, 1), JANUARY[0]))
    with pytest.raises(ValueError, match="http"):
        Run(tmp_path, "ftp://example.org")()

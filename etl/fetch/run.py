"""`imr fetch`: walk DWC's index, record it, download each letter once, publish, ingest.

For each window of decision dates the walker yields (``etl.fetch.walker``): DWC's rows are
recorded in the fetch state, each case's letter is downloaded unless it is here already, and
the window is marked done. Every ``publish_every`` new letters, and at the end (also after the
site stopped us), the queued index rows go into the warehouse's ``dwc_index`` through a normal
build and publish, and with ``--ingest`` the new letters are ingested.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from etl.fetch import taxonomy
from etl.fetch.client import PoliteClient, SiteUnavailable
from etl.fetch.download import fetch_letter, letter_path
from etl.fetch.pages import LayoutError
from etl.fetch.site import DEFAULT_SITE, DwcSearch, OffSite, Window
from etl.fetch.store import FetchState, rows_from_json
from etl.fetch.walker import DEFAULT_LIMIT, IndexRow, Walker, WindowResult
from etl.ingest import IngestSummary
from etl.settings import Settings
from etl.terminal import printable
from etl.warehouse import files

PUBLISH_EVERY = 2000  # new letters between two publishes of a long fetch
PUBLISH_BATCH = 5000  # cases per dwc_index batch
SAVED_PAGE = "unrecognised-page.html"
GAVE_UP_STOPS = 3  # letters in a row the site keeps failing: the fetch stops


class FetchError(Exception):
    """A fetch that cannot start (nothing to update from, a bad request)."""


@dataclass(frozen=True)
class FetchRequest:
    first: dt.date | None = None
    last: dt.date | None = None
    update: bool = False
    out: Path = Path("letters/dwc")
    site: str = DEFAULT_SITE
    ingest: bool = False
    limit: int = DEFAULT_LIMIT
    publish_every: int = PUBLISH_EVERY


@dataclass
class FetchSummary:
    first: dt.date | None = None
    last: dt.date | None = None
    through: dt.date | None = None  # the decision dates walked so far end here
    resumed: bool = False
    windows: int = 0
    windows_resumed: int = 0  # done by an earlier run of this fetch that was stopped
    splits: int = 0
    index_rows: int = 0
    cases: int = 0
    downloaded: int = 0
    skipped: int = 0  # letters already here (downloaded earlier, or a PDF at the path)
    failed: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # "case: reason: detail"
    incomplete: list[str] = field(default_factory=list)
    published: int = 0  # index rows written to the warehouse
    warehouse: Path | None = None
    busy: str | None = None  # the warehouse was busy: rows stay queued
    stopped: str | None = None  # why the walk stopped early
    layout_changed: bool = False
    saved_page: Path | None = None
    ingests: list[IngestSummary] = field(default_factory=list)
    requests: int = 0
    retried: int = 0

    def line(self) -> str:
        span = f"{self.first}..{self.last}" if self.first and self.last else "nothing"
        text = (
            f"DWC index {span}: {self.index_rows:,} rows for {self.cases:,} cases in "
            f"{self.windows:,} windows"
        )
        if self.windows_resumed:
            text += f" ({self.windows_resumed:,} more done by the interrupted run resumed)"
        text += (
            f"; letters: {self.downloaded:,} downloaded, {self.skipped:,} already here, "
            f"{sum(self.failed.values()):,} failed"
        )
        if self.failed:
            text += " (" + ", ".join(f"{r} {n}" for r, n in self.failed.most_common()) + ")"
        return text

    def lines(self, failures_shown: int = 20) -> list[str]:
        out = [self.line()]
        for failure in self.failures[:failures_shown]:
            out.append(f"  failed: {failure}")
        if len(self.failures) > failures_shown:
            out.append(f"  … and {len(self.failures) - failures_shown:,} more failed letters")
        for note in self.incomplete:
            out.append(f"  incomplete: {note}")
        out.append(f"requests: {self.requests:,} ({self.retried:,} retried)")
        if self.warehouse is not None:
            out.append(f"dwc_index: {self.published:,} rows written; warehouse: {self.warehouse}")
        if self.busy:
            out.append(self.busy)
        for ingested in self.ingests:
            out.append(f"ingest: {ingested.line()}")
        if self.stopped:
            out.append(f"stopped: {self.stopped}")
        return [printable(line) for line in out]

    @property
    def ok(self) -> bool:
        return not (self.failed or self.incomplete or self.stopped or self.busy)


Listener = Callable[[str, FetchSummary], None]  # ("window" | "letter" | "publish", summary)


def _held_latest(db: Path) -> dt.date | None:
    """The latest decision date in the warehouse's dwc_index (None without one)."""
    if not db.exists():
        return None
    con, _ = files.open_read_only(db)
    try:
        tables = {n for (n,) in con.execute("select table_name from duckdb_tables()").fetchall()}
        if "dwc_index" not in tables:
            return None
        row = con.execute("select max(decision_date) from dwc_index").fetchone()
        return row[0] if row else None
    finally:
        con.close()


def resolve_dates(
    request: FetchRequest, state: FetchState, db: Path, today: dt.date
) -> tuple[str, dt.date, dt.date]:
    """(kind, first, last) of the decision dates to walk."""
    if not request.update:
        if request.first is None or request.last is None:
            raise FetchError("give the decision dates (--decided A..B) or --update")
        if request.first > request.last:
            raise FetchError(f"--decided: {request.first} is after {request.last}")
        return "decided", request.first, request.last
    unfinished = state.unfinished_update(request.site)
    if unfinished:
        return "update", *unfinished
    held = [d for d in (state.latest_decision_date(), _held_latest(db)) if d is not None]
    if not held:
        raise FetchError(
            "nothing to continue from: no DWC index is held yet; run "
            "`imr fetch --decided A..B` first"
        )
    # From the latest date held (DWC may still be posting that day's letters) to today.
    first = max(held)
    return "update", first, max(first, today)


def fetch(
    request: FetchRequest,
    settings: Settings,
    *,
    client: PoliteClient | None = None,
    listener: Listener | None = None,
    today: dt.date | None = None,
) -> FetchSummary:
    """Run one fetch. ``client`` defaults to a PoliteClient with the settings' delay."""
    summary = FetchSummary()
    own_client = client is None
    client = client or PoliteClient(delay=settings.fetch_delay)
    notify = listener or (lambda _event, _summary: None)
    try:
        search = DwcSearch(client, request.site)  # a bad --site stops here, before anything
        with FetchState(settings.db) as state:
            for case, temp in state.temporaries():  # ours: recorded before they were created
                temp.unlink(missing_ok=True)
                state.end_download(case)
            kind, first, last = resolve_dates(request, state, settings.db, today or dt.date.today())
            summary.first, summary.last = first, last
            run_id, summary.resumed = state.start_run(kind, first, last, request.site)
            work = _Work(request, settings, state, search, summary, notify, run_id)
            # An exception (or a kill) here leaves the state as it is: the next run resumes.
            finished = work.walk(first, last)
            summary.requests, summary.retried = client.requests, client.retried
            work.checkpoint()
            if finished:
                state.finish_run(run_id)
    finally:
        if own_client:
            client.close()
    return summary


class _Work:
    def __init__(
        self,
        request: FetchRequest,
        settings: Settings,
        state: FetchState,
        search: DwcSearch,
        summary: FetchSummary,
        notify: Listener,
        run_id: int,
    ) -> None:
        self.request = request
        self.settings = settings
        self.state = state
        self.search = search
        self.client = search.client
        self.summary = summary
        self.notify = notify
        self.run_id = run_id
        self.since_publish = 0
        self.gave_up_in_a_row = 0  # downloads the site kept failing, one after another

    # -- the walk --------------------------------------------------------------------------------

    def walk(self, first: dt.date, last: dt.date) -> bool:
        """True when every window was walked; False when the site stopped us."""
        walker = Walker(self.search, _RunLog(self.state, self.run_id), self.request.limit)
        try:
            for result in walker.walk(first, last):
                self._window(result)
                self.summary.windows_resumed = walker.skipped
                self.summary.splits = walker.splits
                if self.since_publish >= self.request.publish_every:
                    self.checkpoint()
        except LayoutError as error:
            self.summary.layout_changed = True
            saved = self.state.folder / SAVED_PAGE
            if error.page:
                saved.write_text(error.page, encoding="utf-8")
                self.summary.saved_page = saved
            self.summary.stopped = (
                f"DWC's site differs from what this imr understands: {error.what}."
                + (f" The page is saved at {saved}." if error.page else "")
                + " What was fetched before it is kept; run the same command again once imr"
                " is updated."
            )
            return False
        except SiteUnavailable as error:
            self.summary.stopped = (
                f"DWC's site did not answer: {error}. What was fetched is kept; run the same"
                " command again later to resume."
            )
            return False
        self.summary.windows_resumed = walker.skipped
        self.summary.splits = walker.splits
        return True

    def _window(self, result: WindowResult) -> None:
        summary = self.summary
        recorded: list[tuple[list[IndexRow], str | None]] = []
        for rows in result.cases:
            try:
                url: str | None = self.search.letter_url(rows[0].letter_href)
            except OffSite:
                url = None
            recorded.append((rows, url))
        self.state.record_cases(recorded)
        summary.windows += 1
        summary.through = result.window.last
        summary.cases += len(result.cases)
        summary.index_rows += result.rows
        for rows, url in recorded:
            self._letter(rows[0], url)
        if result.complete:
            self.state.mark_window(self.run_id, result.window, "done", result.reported, result.rows)
        else:
            note = f"{result.window}: {result.note}"
            summary.incomplete.append(note)
            self.state.mark_window(
                self.run_id, result.window, "incomplete", result.reported, result.rows, note
            )
        self.notify("window", summary)

    def _letter(self, first: IndexRow, url: str | None) -> None:
        summary = self.summary
        case = first.case_number
        known = self.state.case(case)
        if known is not None and known["download"] == "downloaded":
            summary.skipped += 1
            return
        if url is None:
            reason, detail = (
                "off_site_link",
                f"the letter link {first.letter_href!r} leaves the site",
            )
            self.state.failed(case, reason, detail)
            self._failed(case, reason, detail)
            return
        target = letter_path(self.request.out, first.decision_date, case)
        outcome = fetch_letter(
            self.client, self.state, case, url, target, self.settings.max_file_bytes
        )
        self.gave_up_in_a_row = self.gave_up_in_a_row + 1 if outcome.reason == "gave_up" else 0
        if outcome.status == "downloaded":
            summary.downloaded += 1
            self.since_publish += 1
        elif outcome.status == "present":
            summary.skipped += 1
        else:
            self._failed(case, outcome.reason, outcome.detail)
        self.notify("letter", summary)
        if self.gave_up_in_a_row >= GAVE_UP_STOPS:
            # The site is down, not one letter: stop rather than press on (the window is not
            # done; the next run takes it up again).
            raise SiteUnavailable(f"{GAVE_UP_STOPS} letters in a row failed: {outcome.detail}")

    def _failed(self, case: str, reason: str, detail: str) -> None:
        self.summary.failed[reason] += 1
        self.summary.failures.append(f"{case}: {reason}: {detail}")

    # -- publishing --------------------------------------------------------------------------------

    def checkpoint(self) -> None:
        """Queued index rows into the warehouse; then, with --ingest, the new letters."""
        from etl.ingest import ingest
        from etl.load import WarehouseBuild, WarehouseBusy

        self.since_publish = 0
        summary = self.summary
        try:
            if self.state.unpublished_count():
                with WarehouseBuild(self.settings.db, self.settings.build_memory) as build:
                    published: list[str] = []
                    for batch in self.state.unpublished(PUBLISH_BATCH):
                        summary.published += build.add_dwc_index(_warehouse_rows(batch))
                        published += [case for case, *_ in batch]
                    summary.warehouse = build.publish({"last_fetch": summary.line()})
                self.state.mark_published(published)
                self.notify("publish", summary)
            if self.request.ingest:
                todo = self.state.to_ingest()
                if todo:
                    result = ingest([path for _, path in todo], self.settings)
                    summary.ingests.append(result)
                    self.state.mark_ingested([case for case, _ in todo])
                    self.notify("publish", summary)
        except WarehouseBusy as error:
            summary.busy = (
                f"the warehouse is busy ({error}): DWC's index rows and new letters stay queued"
                " for the next `imr fetch`"
            )
        except (duckdb.Error, OSError) as error:
            summary.busy = (
                f"could not write the warehouse ({error}); the published warehouse is unchanged"
                " and DWC's index rows stay queued for the next `imr fetch`"
            )


class _RunLog:
    """The walker's memory of this run's windows, in the fetch state."""

    def __init__(self, state: FetchState, run_id: int) -> None:
        self.state = state
        self.run_id = run_id

    def window_status(self, window: Window) -> str | None:
        return self.state.window_status(self.run_id, window)

    def mark_split(self, window: Window, reported: int) -> None:
        self.state.mark_window(self.run_id, window, "split", reported)


def _warehouse_rows(batch: list[tuple[str, str, str | None, str, str]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for _case, text, url, sha, fetched_at in batch:
        for row in rows_from_json(text):
            mapped = taxonomy.map_treatment(row.category, row.subcategory, row.decision)
            rows.append(
                {
                    "case_number": row.case_number,
                    "treatment_no": row.treatment_no,
                    "decision_date": row.decision_date,
                    "injury_date": row.injury_date,
                    "received_date": row.received_date,
                    "specialty": row.specialty or None,
                    "category_raw": row.category or None,
                    "subcategory_raw": row.subcategory or None,
                    "decision_raw": row.decision or None,
                    "category": mapped.category,
                    "subcategory": mapped.subcategory,
                    "drug_class": mapped.drug_class,
                    "decision": mapped.decision,
                    "letter_url": url,
                    "letter_sha256": sha,
                    "fetched_at": dt.datetime.fromisoformat(fetched_at),
                }
            )
    return rows

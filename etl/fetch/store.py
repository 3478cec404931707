"""What `imr fetch` has done so far, kept beside the warehouse so that a killed run resumes.

A SQLite file in ``.<warehouse>.fetch/`` (``.current.duckdb.fetch/state.sqlite``) holds:

* ``runs``: each fetch (its decision dates and site); a run killed before its end is resumed by
  the same command (``--update`` resumes an unfinished update);
* ``windows``: the date windows of a run already split or done, never asked for again by it;
* ``cases``: DWC's index rows per case as last fetched (published to the warehouse's
  ``dwc_index`` or still queued), and the case's letter: downloaded (path, SHA-256), failed (the
  reason) or pending, and the temporary file a download is writing (removed after a kill).

Every change is one SQLite transaction, committed before the next request: a kill at any moment
loses at most the request in flight. A lock file keeps two fetches off the same warehouse.
"""

from __future__ import annotations

import datetime as dt
import errno
import fcntl
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from etl.fetch.site import Window
from etl.fetch.walker import IndexRow
from etl.warehouse import WarehouseError

SCHEMA = """
create table if not exists runs (
    id integer primary key autoincrement,
    kind text not null,
    first text not null,
    last text not null,
    site text not null,
    started_at text not null,
    finished_at text
);
create table if not exists windows (
    run_id integer not null,
    first text not null,
    last text not null,
    status text not null,
    reported integer,
    rows integer,
    note text,
    primary key (run_id, first, last)
);
create table if not exists cases (
    case_number text primary key,
    decision_date text not null,
    letter_url text,
    rows text not null,
    fetched_at text not null,
    published integer not null default 0,
    download text not null default 'pending',
    path text,
    sha256 text,
    bytes integer,
    failure text,
    detail text,
    attempts integer not null default 0,
    temp_path text,
    ingested integer not null default 0
);
create index if not exists cases_unpublished on cases (published);
"""


class FetchBusy(WarehouseError):
    """Another `imr fetch` is working on this warehouse."""


def state_folder(db: Path) -> Path:
    return db.parent / f".{db.name}.fetch"


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


class FetchState:
    def __init__(self, db: Path) -> None:
        self.folder = state_folder(db)
        self.path = self.folder / "state.sqlite"
        self._lock: Any = None
        self.con: sqlite3.Connection | None = None

    def __enter__(self) -> FetchState:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = open(self.folder / "lock", "w")  # noqa: SIM115
        try:
            fcntl.lockf(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            self._lock.close()
            self._lock = None
            if error.errno in (errno.EACCES, errno.EAGAIN):
                raise FetchBusy(f"another `imr fetch` is working on {self.folder.parent}") from None
            raise
        self.con = sqlite3.connect(self.path, isolation_level=None)
        self.con.execute("pragma journal_mode = wal")
        self.con.execute("pragma synchronous = full")
        self.con.executescript(SCHEMA)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.con is not None:
            self.con.close()
            self.con = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def _db(self) -> sqlite3.Connection:
        if self.con is None:
            raise RuntimeError("the fetch state is not open")
        return self.con

    def _write(self, sql: str, args: tuple[Any, ...] = ()) -> None:
        self._db().execute(sql, args)

    # -- runs and windows ------------------------------------------------------------------------

    def start_run(self, kind: str, first: dt.date, last: dt.date, site: str) -> tuple[int, bool]:
        """The run to work in: an unfinished one with the same request (resumed), or a new one.
        Other unfinished runs are given up (what they fetched stays)."""
        con = self._db()
        row = con.execute(
            "select id from runs where finished_at is null and kind = ? and first = ?"
            " and last = ? and site = ? order by id desc limit 1",
            (kind, first.isoformat(), last.isoformat(), site),
        ).fetchone()
        con.execute("begin")
        con.execute(
            "update runs set finished_at = 'abandoned' where finished_at is null and id <> ?",
            (row[0] if row else -1,),
        )
        if row:
            con.execute("commit")
            return int(row[0]), True
        cursor = con.execute(
            "insert into runs (kind, first, last, site, started_at) values (?, ?, ?, ?, ?)",
            (kind, first.isoformat(), last.isoformat(), site, _now()),
        )
        con.execute("commit")
        assert cursor.lastrowid is not None
        return int(cursor.lastrowid), False

    def unfinished_update(self, site: str) -> tuple[dt.date, dt.date] | None:
        """The decision dates of an `--update` that was stopped before its end."""
        row = (
            self._db()
            .execute(
                "select first, last from runs where finished_at is null and kind = 'update'"
                " and site = ? order by id desc limit 1",
                (site,),
            )
            .fetchone()
        )
        return (dt.date.fromisoformat(row[0]), dt.date.fromisoformat(row[1])) if row else None

    def finish_run(self, run_id: int) -> None:
        self._write("update runs set finished_at = ? where id = ?", (_now(), run_id))

    def window_status(self, run_id: int, window: Window) -> str | None:
        row = (
            self._db()
            .execute(
                "select status from windows where run_id = ? and first = ? and last = ?",
                (run_id, window.first.isoformat(), window.last.isoformat()),
            )
            .fetchone()
        )
        return str(row[0]) if row else None

    def mark_window(
        self,
        run_id: int,
        window: Window,
        status: str,
        reported: int,
        rows: int = 0,
        note: str | None = None,
    ) -> None:
        self._write(
            "insert or replace into windows values (?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                window.first.isoformat(),
                window.last.isoformat(),
                status,
                reported,
                rows,
                note,
            ),
        )

    # -- cases -----------------------------------------------------------------------------------

    def record_cases(self, cases: list[tuple[list[IndexRow], str | None]]) -> None:
        """DWC's rows for some cases (with each case's letter URL), in one transaction."""
        con = self._db()
        con.execute("begin")
        try:
            for rows, url in cases:
                self._record_case(rows, url)
        except BaseException:
            con.execute("rollback")
            raise
        con.execute("commit")

    def _record_case(self, rows: list[IndexRow], letter_url: str | None) -> None:
        """DWC's rows for one case, as just read: queued for the warehouse when they changed."""
        first = rows[0]
        text = json.dumps([_row_json(r) for r in rows], sort_keys=True)
        con = self._db()
        old = con.execute(
            "select rows, letter_url from cases where case_number = ?", (first.case_number,)
        ).fetchone()
        if old is None:
            con.execute(
                "insert into cases (case_number, decision_date, letter_url, rows, fetched_at)"
                " values (?, ?, ?, ?, ?)",
                (first.case_number, first.decision_date.isoformat(), letter_url, text, _now()),
            )
        elif (old[0], old[1]) != (text, letter_url):
            con.execute(
                "update cases set decision_date = ?, letter_url = ?, rows = ?, fetched_at = ?,"
                " published = 0 where case_number = ?",
                (first.decision_date.isoformat(), letter_url, text, _now(), first.case_number),
            )

    def case(self, case_number: str) -> sqlite3.Row | None:
        con = self._db()
        con.row_factory = sqlite3.Row
        try:
            found = con.execute(
                "select * from cases where case_number = ?", (case_number,)
            ).fetchone()
            return found
        finally:
            con.row_factory = None

    def begin_download(self, case_number: str, temp: Path) -> None:
        """Recorded before the temporary file exists: a kill leaves nothing unaccounted for."""
        self._write(
            "update cases set temp_path = ?, attempts = attempts + 1 where case_number = ?",
            (str(temp), case_number),
        )

    def end_download(self, case_number: str) -> None:
        self._write("update cases set temp_path = null where case_number = ?", (case_number,))

    def downloaded(self, case_number: str, path: Path, sha256: str, size: int) -> None:
        # The rows are queued again: the warehouse's copy gains the letter's SHA-256.
        self._write(
            "update cases set download = 'downloaded', path = ?, sha256 = ?, bytes = ?,"
            " failure = null, detail = null, published = 0, ingested = 0 where case_number = ?",
            (str(path), sha256, size, case_number),
        )

    def failed(self, case_number: str, reason: str, detail: str) -> None:
        self._write(
            "update cases set download = 'failed', failure = ?, detail = ? where case_number = ?",
            (reason, detail[:2000], case_number),
        )

    def temporaries(self) -> list[tuple[str, Path]]:
        """Temporary files of downloads a kill interrupted (ours: recorded before creation)."""
        rows = self._db().execute(
            "select case_number, temp_path from cases where temp_path is not null"
        )
        return [(case, Path(temp)) for case, temp in rows.fetchall()]

    # -- publishing and ingest ---------------------------------------------------------------------

    def unpublished(self, batch: int) -> Iterator[list[tuple[str, str, str | None, str, str]]]:
        """Queued cases, a batch at a time: (case, rows JSON, letter URL, SHA-256, fetched at)."""
        after = ""
        while True:
            rows = (
                self._db()
                .execute(
                    "select case_number, rows, letter_url, sha256, fetched_at from cases"
                    " where published = 0 and case_number > ? order by case_number limit ?",
                    (after, batch),
                )
                .fetchall()
            )
            if not rows:
                return
            yield rows
            after = rows[-1][0]

    def unpublished_count(self) -> int:
        row = self._db().execute("select count(*) from cases where published = 0").fetchone()
        return int(row[0])

    def mark_published(self, cases: list[str]) -> None:
        con = self._db()
        con.execute("begin")
        con.executemany(
            "update cases set published = 1 where case_number = ?", [(c,) for c in cases]
        )
        con.execute("commit")

    def to_ingest(self) -> list[tuple[str, Path]]:
        rows = self._db().execute(
            "select case_number, path from cases where download = 'downloaded' and ingested = 0"
            " order by case_number"
        )
        return [(case, Path(path)) for case, path in rows.fetchall()]

    def mark_ingested(self, cases: list[str]) -> None:
        con = self._db()
        con.execute("begin")
        con.executemany(
            "update cases set ingested = 1 where case_number = ?", [(c,) for c in cases]
        )
        con.execute("commit")

    def latest_decision_date(self) -> dt.date | None:
        row = self._db().execute("select max(decision_date) from cases").fetchone()
        return dt.date.fromisoformat(row[0]) if row and row[0] else None


def _row_json(row: IndexRow) -> dict[str, Any]:
    data = asdict(row)
    for name in ("decision_date", "injury_date", "received_date"):
        value = data[name]
        data[name] = value.isoformat() if value is not None else None
    return data


def rows_from_json(text: str) -> list[IndexRow]:
    rows = []
    for data in json.loads(text):
        for name in ("decision_date", "injury_date", "received_date"):
            if data[name] is not None:
                data[name] = dt.date.fromisoformat(data[name])
        rows.append(IndexRow(**data))
    return rows

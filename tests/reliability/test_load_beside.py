"""The build's threads: the base tables load on a cursor of their own while the derived tables
take the same spool chunks from their files (etl.load._load_groups), and each batch's facts are
appended to item_facts on another (etl.warehouse.derived, FACTS_DB) while the next batch is
counted. The warehouse is the one a build doing it all in turn makes, and a failure in either
thread fails the build, leaving the published warehouse as it was and no thread behind."""

from __future__ import annotations

import threading
from pathlib import Path

import duckdb
import pytest

from etl import load
from etl.demo import write_corpus
from etl.ingest import ingest
from etl.settings import Settings
from etl.warehouse import contract, derived
from etl.warehouse.derived import DERIVED
from tests.reliability.helpers import query, settings_for

# Columns that say when a row was written, not what it holds.
STAMPS = {"loaded_at", "seen_at"}


def _contents(db: Path) -> dict[str, list[tuple]]:
    """Every row of every base and derived table, sorted, without its time stamps (and no
    meta: it holds the build's own timings)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [t.name for t in contract.TABLES if t.name != "meta"] + list(DERIVED)
        out = {}
        for table in tables:
            columns = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns"
                    " where table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if c not in STAMPS
            ]
            rows = con.execute(f"select {', '.join(columns)} from {table}").fetchall()
            out[table] = sorted(rows, key=repr)
        return out
    finally:
        con.close()


@pytest.fixture()
def many_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Small spool chunks, one per load transaction: a few hundred letters make many groups."""
    monkeypatch.setattr(load, "FLUSH_EVERY", 25)
    monkeypatch.setattr(load, "LOAD_GROUP", 1)


def test_loading_beside_the_derived_tables_builds_the_same_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, many_groups: None
) -> None:
    corpus = tmp_path / "corpus"
    write_corpus(corpus, letters=240, seed=11, pdf_share=0.0)
    groups: list[tuple[int, bool]] = []
    load_groups = load._load_groups

    def counted(con, batches, derived, beside, *rest):  # type: ignore[no-untyped-def]
        groups.append((len(batches), beside))
        return load_groups(con, batches, derived, beside, *rest)

    checkpoints: list[str] = []
    appended = load.DerivedTables.appended

    def paused(self):  # type: ignore[no-untyped-def]
        checkpoints.append(threading.current_thread().name)
        return appended(self)

    monkeypatch.setattr(load, "_load_groups", counted)
    # A checkpoint after every group (the log always past the threshold): both threads pause.
    monkeypatch.setattr(load, "_log_full", lambda log: True)
    monkeypatch.setattr(load.DerivedTables, "appended", paused)
    beside = settings_for(tmp_path / "beside")
    ingest([corpus], beside)
    waits_beside = len(checkpoints)
    monkeypatch.setattr(load, "LOAD_BESIDE_MIB", 10**9)
    in_turn = settings_for(tmp_path / "in-turn")
    ingest([corpus], in_turn)
    # The default cap loads beside; the same groups one after the other.
    assert groups == [(groups[0][0], True), (groups[0][0], False)] and groups[0][0] >= 8
    # A wait for the appender per batch either way; beside, one more per pause: every group's
    assert waits_beside - (len(checkpoints) - waits_beside) >= groups[0][0] - 1
    first, second = _contents(beside.db), _contents(in_turn.db)
    assert first["letters"] and first["item_facts"] and first["facet_pairs"]
    assert first == second


def _published_and_more(tmp_path: Path) -> tuple[Settings, Path]:
    """A published warehouse of 40 letters, and 200 more letters to ingest into it."""
    corpus = tmp_path / "corpus"
    write_corpus(corpus, letters=40, seed=3, pdf_share=0.0)
    settings = settings_for(tmp_path)
    ingest([corpus], settings)
    more = tmp_path / "more"
    write_corpus(more, letters=200, seed=4, pdf_share=0.0)
    return settings, more


def test_a_load_that_fails_in_its_thread_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, many_groups: None
) -> None:
    settings, more = _published_and_more(tmp_path)
    before = _contents(settings.db)
    loads = []
    load_chunks = load._load_chunks

    def failing(con, chunks):  # type: ignore[no-untyped-def]
        loads.append(threading.current_thread())
        if len(loads) == 3:
            raise RuntimeError("the disk is full")
        return load_chunks(con, chunks)

    monkeypatch.setattr(load, "_load_chunks", failing)
    threads = threading.active_count()
    with pytest.raises(RuntimeError, match="the disk is full"):
        ingest([more], settings)
    assert all(thread is not threading.main_thread() for thread in loads)
    assert threading.active_count() == threads  # the loader is gone with its build
    assert _contents(settings.db) == before
    assert query(settings.db, "select count(*) from letters") == [(40,)]


def test_an_append_of_facts_that_fails_in_its_thread_fails_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, many_groups: None
) -> None:
    settings, more = _published_and_more(tmp_path)
    before = _contents(settings.db)
    appended: list[str] = []

    class Appender(derived.ThreadPoolExecutor):
        def submit(self, fn, /, *args, **kwargs):  # type: ignore[no-untyped-def]
            if len(appended) == 2:
                fn, args = _fail, ()
            appended.append(str(args))
            return super().submit(fn, *args, **kwargs)

    monkeypatch.setattr(derived, "ThreadPoolExecutor", Appender)
    threads = threading.active_count()
    with pytest.raises(RuntimeError, match="no room for the facts"):
        ingest([more], settings)
    assert len(appended) == 3  # the third batch's append failed: the build went no further
    assert threading.active_count() == threads
    assert _contents(settings.db) == before


def _fail() -> None:
    raise RuntimeError("no room for the facts")


def test_the_load_pauses_once_the_log_reaches_the_checkpoint_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "current.v1.duckdb.wal"
    assert not load._log_full(log) and not load._log_full(None)  # no log yet, or none given
    monkeypatch.setattr(load, "LOG_CHECKPOINT_BYTES", 10)
    log.write_bytes(b"x" * 9)
    assert not load._log_full(log)
    log.write_bytes(b"x" * 10)
    assert load._log_full(log)

"""The spool's chunks survive a power cut whole or not at all: a chunk counts as complete once
its marker exists (etl/warehouse/spool.py), so its table files must be on disk, under their
names, before the marker is."""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path

import pyarrow as pa
import pytest

from etl import load
from etl.ingest import ingest
from etl.warehouse.spool import Spool
from tests.reliability.helpers import query, settings_for, write_letters


def test_a_chunks_tables_reach_the_disk_before_its_marker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[str] = []
    fsync = os.fsync

    def recorded(fd: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))
        fsync(fd)

    monkeypatch.setattr(os, "fsync", recorded)
    folder = tmp_path / "spool"
    spool = Spool(folder, "3")
    spool.open()
    frame = pa.table({"letter_id": ["a", "b"]})
    chunk = spool.write({"letters": frame, "decisions": frame}, 2, 100, 40, [], [], [])
    assert chunk.tables == ["letters", "decisions"]
    marker = synced.index(str(folder / f"{chunk.name}.json.tmp"))
    for table in chunk.tables:
        assert synced.index(f"{chunk.file(table)}.tmp") < marker, table
    assert synced.index(str(folder)) < marker  # the renames, too
    assert Spool(folder, "3").open() == [chunk]  # its marker read back whole


def test_a_damaged_spooled_chunk_is_parsed_again_not_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk whose table file was cut short on disk (a power cut before its data reached
    the disk, a bad sector) made every later ingest fail at loading it ("No magic bytes found
    at end of file"): now it is dropped and reported, and its letters read again from their
    files."""
    inputs = write_letters(tmp_path / "in", 0, 40)
    settings = settings_for(tmp_path / "wh")

    def interrupted(*_: object) -> None:
        raise RuntimeError("the run dies while loading its chunks")

    with monkeypatch.context() as patch:
        patch.setattr(load, "_load_chunks", interrupted)
        with pytest.raises(RuntimeError, match="dies while loading"):
            ingest([inputs], settings)
    spool = settings.db.parent / f".{settings.db.name}.spool"
    [letters] = spool.glob("chunk-*.letters.parquet")
    letters.write_bytes(letters.read_bytes()[: letters.stat().st_size // 2])

    summary = ingest([inputs], settings)
    assert (summary.letters, summary.resumed, summary.damaged) == (40, 0, 40)
    assert "40 letters an interrupted run had spooled were dropped" in summary.line()
    assert query(settings.db, "select count(*) from letters") == [(40,)]
    assert not spool.exists()


def test_a_chunk_that_cannot_be_written_fails_the_run_and_keeps_those_before_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks are written in a thread beside the parse (etl.load.WarehouseBuild.flush): a write
    that fails there (a full disk) fails the run as one written in line did, nothing published
    and no letter lost, and the chunks written before it are kept for the next run."""
    inputs = write_letters(tmp_path / "in", 0, 40)
    settings = settings_for(tmp_path / "wh")
    monkeypatch.setattr(load, "FLUSH_EVERY", 10)
    write = Spool.write
    written: list[int] = []

    def full_disk(self: Spool, *args: object) -> object:
        if len(written) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        written.append(1)
        return write(self, *args)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(Spool, "write", full_disk)
        with pytest.raises(OSError, match="No space left"):
            ingest([inputs], settings)
    assert not settings.db.exists()
    spool = settings.db.parent / f".{settings.db.name}.spool"
    assert len(list(spool.glob("chunk-*.json"))) == 2

    summary = ingest([inputs], settings)
    assert summary.resumed == 20
    assert query(settings.db, "select count(*) from letters") == [(40,)]
    assert not spool.exists()


def test_a_chunk_being_written_when_a_run_fails_is_finished_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that fails while a chunk is written in the spool's thread waits for it: the chunk
    is complete (its marker written) and the next run resumes its letters, rather than the
    folder being removed under the write."""
    inputs = write_letters(tmp_path / "in", 0, 15)
    settings = settings_for(tmp_path / "wh")
    monkeypatch.setattr(load, "FLUSH_EVERY", 10)
    write = Spool.write

    def slow(self: Spool, *args: object) -> object:
        time.sleep(1.0)  # still being written when the run fails
        return write(self, *args)  # type: ignore[arg-type]

    add_loaded = load.WarehouseBuild.add_loaded
    added: list[int] = []

    def failing(self: load.WarehouseBuild, rows: object) -> object:
        if len(added) == 11:
            raise RuntimeError("the run fails while a chunk is written")
        added.append(1)
        return add_loaded(self, rows)  # type: ignore[arg-type]

    with monkeypatch.context() as patch:
        patch.setattr(Spool, "write", slow)
        patch.setattr(load.WarehouseBuild, "add_loaded", failing)
        with pytest.raises(RuntimeError, match="while a chunk is written"):
            ingest([inputs], settings)
    spool = settings.db.parent / f".{settings.db.name}.spool"
    assert len(list(spool.glob("chunk-*.json"))) == 1

    summary = ingest([inputs], settings)
    assert (summary.resumed, summary.letters) == (10, 5)
    assert query(settings.db, "select count(*) from letters") == [(15,)]

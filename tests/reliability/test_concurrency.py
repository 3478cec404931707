"""Concurrency on the ETL side: readers during an ingest and its swap; two ingests at once.

The dashboard is a reader like these: it opens ``current.duckdb`` read-only.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import duckdb
import pytest

from etl.ingest import ingest
from tests.reliability.helpers import (
    holding_the_lock,
    run_ingest,
    settings_for,
    warehouse_state,
    wrapped_ingest,
    write_letters,
)

COUNTS = (
    "select (select count(*) from letters), (select count(distinct letter_id) from letters),"
    " (select count(*) from decisions), (select count(*) from sources)"
)


def test_readers_keep_working_through_an_ingest_and_its_swap(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, jobs=2)
    ingest([write_letters(tmp_path / "old", 0, 50)], settings)
    old = warehouse_state(settings.db)
    old_file = settings.db.resolve()
    new_batch = write_letters(tmp_path / "new", 50, 400)

    # A long-lived reader (the dashboard's connection) opened before the ingest ...
    held = duckdb.connect(str(settings.db), read_only=True)
    assert held.execute(COUNTS).fetchone() == old
    # ... and readers that open afresh all the time, as new dashboard sessions do.
    seen: list[tuple[int, ...] | None] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def fresh_readers() -> None:
        while not stop.is_set():
            try:
                seen.append(warehouse_state(settings.db))
            except BaseException as error:  # noqa: BLE001 - collected and asserted below
                errors.append(error)

    thread = threading.Thread(target=fresh_readers)
    thread.start()
    try:
        result = run_ingest([new_batch], settings.db)
        while not seen or seen[-1] == old:  # let the readers see the new version once
            time.sleep(0.01)
            if len(seen) > 100_000:
                break
    finally:
        stop.set()
        thread.join(timeout=30)
    assert result.returncode == 0, result.stderr
    new = warehouse_state(settings.db)
    assert new != old and new is not None and new[0] == 450

    assert errors == []
    assert set(seen) == {old, new}, "a reader saw something other than the old or new version"
    first_new = seen.index(new)
    assert all(state == new for state in seen[first_new:]), "a reader went back to the old one"
    # The old version file is kept until the next build, then deleted; the held connection
    # still reads it whole.
    assert old_file.exists()
    assert run_ingest([new_batch], settings.db).returncode == 0
    assert not old_file.exists()
    for _ in range(3):
        assert held.execute(COUNTS).fetchone() == old
        assert held.execute("select count(*) from decisions join letters using (letter_id)")
    held.close()
    # A fresh open sees the new data.
    fresh = duckdb.connect(str(settings.db), read_only=True)
    assert fresh.execute(COUNTS).fetchone() == new
    fresh.close()


def test_a_second_ingest_fails_fast_and_damages_nothing(tmp_path: Path) -> None:
    first_batch = write_letters(
        tmp_path / "first", 0, 60
    )  # ~4.5 s with 0.15 s per file on 2 workers
    other_batch = write_letters(tmp_path / "other", 60, 20)
    db = tmp_path / "wh" / "current.duckdb"
    reference = settings_for(tmp_path / "reference", jobs=1)
    ingest([first_batch], reference)
    expected = warehouse_state(reference.db)

    # The first ingest's workers are slowed down so that it is surely still writing.
    first = wrapped_ingest(tmp_path, "slow", first_batch, db, sleep=0.15)
    try:
        deadline = time.monotonic() + 30
        while not list(db.parent.glob("current.*.duckdb")) if db.parent.exists() else True:
            assert time.monotonic() < deadline and first.poll() is None, "first never started"
            time.sleep(0.01)
        building = sorted(p.name for p in db.parent.glob("current.*.duckdb*"))
        started = time.monotonic()
        second = run_ingest([other_batch], db, timeout=60)
        elapsed = time.monotonic() - started
        assert first.poll() is None, "the first ingest ended too early for this test"
        assert second.returncode == 75, second
        assert "another ingest is writing" in second.stderr
        assert "Traceback" not in second.stderr
        assert elapsed < 10, f"the second ingest took {elapsed:.1f}s to give up"
        # It touched nothing: the first one's unfinished version is still there.
        assert set(building) <= {p.name for p in db.parent.glob("current.*.duckdb*")}
        stdout, stderr = first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
    assert first.returncode == 0, stderr
    assert warehouse_state(db) == expected
    # And the refused batch loads fine afterwards.
    assert run_ingest([other_batch], db).returncode == 0
    state = warehouse_state(db)
    assert state is not None and state[0] == state[1] == 80


def test_a_held_lock_is_reported_not_waited_for(tmp_path: Path) -> None:
    """The same refusal, with the lock taken by this process: no timing involved."""
    settings = settings_for(tmp_path)
    ingest([write_letters(tmp_path / "in", 0, 3)], settings)
    before = warehouse_state(settings.db)
    with holding_the_lock(settings.db):
        result = run_ingest([tmp_path / "in"], settings.db, timeout=60)
    assert result.returncode == 75
    assert result.stderr.strip().startswith("imr ingest: another ingest is writing")
    assert warehouse_state(settings.db) == before


@pytest.mark.parametrize("jobs", [1, 2])
def test_in_process_readers_and_builds_share_one_process(tmp_path: Path, jobs: int) -> None:
    """A process holding a read-only connection (a dashboard) can also run ingest()."""
    settings = settings_for(tmp_path, jobs=jobs)
    ingest([write_letters(tmp_path / "a", 0, 5)], settings)
    reader = duckdb.connect(str(settings.db), read_only=True)
    before = reader.execute(COUNTS).fetchone()
    summary = ingest([write_letters(tmp_path / "b", 5, 5)], settings)
    assert summary.letters == 5
    assert reader.execute(COUNTS).fetchone() == before
    reader.close()
    after = warehouse_state(settings.db)
    assert before is not None and after is not None
    assert after[:2] == (10, 10) and after[2] > before[2]

"""`imr ingest` removes only the files it created: its own superseded and partial versions.

Regression for: the stale-version clean-up deleted everything matching ``{stem}.*.duckdb*``
beside ``--db`` (a user's backup, notes, another warehouse and its version file).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from etl.ingest import ingest
from etl.load import WarehouseError
from etl.settings import Settings
from etl.warehouse import files
from tests.reliability.helpers import SEEDS, warehouse_state, write_letters


def _batch(folder: Path, start: int, letters: int = 3) -> Path:
    return write_letters(folder, start, letters)


def test_ingest_never_removes_files_it_did_not_create(tmp_path: Path) -> None:
    folder = tmp_path / "wh"
    folder.mkdir()
    db = folder / "wh.duckdb"
    # Another warehouse in the same folder, whose name starts like ours: wh.demo.duckdb.
    other = folder / "wh.demo.duckdb"
    ingest([SEEDS], Settings(db=other, jobs=1))
    other_version = other.resolve()
    other_state = warehouse_state(other)
    users = {
        folder / "wh.backup-before-upgrade.duckdb": b"a user's backup",
        folder / "wh.notes.duckdb.txt": b"notes",
        folder / "wh.duckdb.wal.bak": b"kept by hand",
        # Named exactly like a version of ours, but this warehouse never wrote it.
        folder / "wh.v20200101T000000-000000000-1.duckdb": b"a look-alike",
        folder / "wh.20200101T000000-000000000-1.duckdb": b"an old-style look-alike",
    }
    for path, data in users.items():
        path.write_bytes(data)

    for n in range(4):  # several publishes: each one cleans up what it superseded
        ingest([_batch(tmp_path / f"in{n}", n * 10)], Settings(db=db, jobs=1))

    for path, data in users.items():
        assert path.read_bytes() == data, path
    assert other.resolve() == other_version and warehouse_state(other) == other_state
    # Our own superseded versions did go: the published one and the one before it remain.
    pattern = files.version_pattern(db)
    kept = [p.name for p in folder.iterdir() if pattern.fullmatch(p.name) and p not in users]
    assert len(kept) == 2 and os.readlink(db) in kept


def test_the_published_version_of_an_older_warehouse_is_adopted_and_cleaned_up(
    tmp_path: Path,
) -> None:
    """A warehouse published before the manifest existed: its link's target is ours."""
    db = tmp_path / "wh" / "current.duckdb"
    ingest([SEEDS], Settings(db=db, jobs=1))
    # Make it look as the previous code left it: an old-style name, no manifest.
    legacy = db.with_name("current.20250101T000000-000000000-1.duckdb")
    db.resolve().rename(legacy)
    files.swap_symlink(db, legacy)
    files.manifest_path(db).unlink()
    for n in range(2):
        ingest([_batch(tmp_path / f"in{n}", n * 10)], Settings(db=db, jobs=1))
    assert not legacy.exists()
    assert warehouse_state(db) is not None


def test_a_regular_file_at_the_warehouse_path_is_refused_untouched(tmp_path: Path) -> None:
    db = tmp_path / "mine.duckdb"
    db.write_bytes(b"somebody's own database")
    with pytest.raises(WarehouseError, match="regular file"):
        ingest([SEEDS], Settings(db=db, jobs=1))
    assert db.read_bytes() == b"somebody's own database"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.duckdb"]


def test_a_killed_builds_leftovers_are_removed_by_the_next_run(tmp_path: Path) -> None:
    """What a SIGKILLed build leaves: its version, WAL and DuckDB spill folder, all ours."""
    db = tmp_path / "wh" / "current.duckdb"
    ingest([SEEDS], Settings(db=db, jobs=1))
    name = "current.v20200101T000000-000000001-99999.duckdb"  # another build's version
    files.record_version(db, name)  # as a build does before creating its file
    leftovers = [db.with_name(name), db.with_name(f"{name}.wal")]
    for path in leftovers:
        path.write_bytes(b"partial")
    spill = db.with_name(f"{name}.tmp")
    spill.mkdir()
    (spill / "duckdb_temp_storage-0.tmp").write_bytes(b"spilled")
    ingest([_batch(tmp_path / "in", 50)], Settings(db=db, jobs=1))
    assert not any(path.exists() for path in [*leftovers, spill])
    assert name not in files.read_manifest(db)

"""Warehouses built by earlier versions are migrated in the build copy; newer ones are refused.

``tests/fixtures/warehouse-schema1.duckdb.gz`` is a warehouse built by the code before schema
versions existed (commit 32f9fcf, `imr ingest data/samples`): schema 1, with primary keys.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
from pathlib import Path

import duckdb

from etl.classify.reasons import find_reasons
from etl.ingest import ingest
from etl.load import index_lookups
from etl.pipeline import items_digest
from etl.settings import Settings
from etl.warehouse import contract, files
from etl.warehouse.migrations import MIGRATIONS, SCHEMA_VERSION, Rebuild, migrate
from tests.conftest import ROOT
from tests.reliability.helpers import SEEDS, cli_env, ingest_command, query, seed_texts, variant

FIXTURE = ROOT / "tests" / "fixtures" / "warehouse-schema1.duckdb.gz"
LEGACY_NAME = "current.20261201T105954-573065852-3826.duckdb"


def _published_fixture(folder: Path) -> Path:
    """The fixture published as its code left it: the link, its version, no manifest."""
    folder.mkdir(parents=True)
    version = folder / LEGACY_NAME
    with gzip.open(FIXTURE) as source, open(version, "wb") as target:
        shutil.copyfileobj(source, target)
    link = folder / "current.duckdb"
    files.swap_symlink(link, version)
    return link


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _table(db: Path, table: str, columns: str = "*") -> list[tuple[object, ...]]:
    """Every row, list columns as text (so rows can be compared as sets)."""
    return [tuple(map(repr, row)) for row in query(db, f"select {columns} from {table}")]


def _columns(db: Path, table: str) -> str:
    return ", ".join(
        name for (name,) in query(db, f"select name from pragma_table_info('{table}')")
    )


def test_an_old_warehouse_is_migrated_with_its_data_intact(tmp_path: Path) -> None:
    db = _published_fixture(tmp_path / "wh")
    old_file = db.resolve()
    before_digest = _digest(old_file)
    old_columns = {t: _columns(db, t) for t in ("decisions", "citations")}
    before = {t: _table(db, t) for t in ("decisions", "citations")}
    letters_before = query(db, "select letter_id, source_sha256, case_summary from letters")
    assert (
        query(
            db, "select count(*) from duckdb_constraints() where constraint_type = 'PRIMARY KEY'"
        )[0][0]
        >= 3
    )

    new = tmp_path / "new"
    new.mkdir()
    (new / "new.txt").write_text(variant(seed_texts()[0], 4242))
    summary = ingest([new], Settings(db=db, jobs=1))
    assert summary.letters == 1

    # The published file was never written: the migration ran in the build copy.
    assert _digest(old_file) == before_digest
    assert query(db, "select value from meta where key = 'schema_version'") == [
        (str(SCHEMA_VERSION),)
    ]
    assert query(db, "select count(*) from meta where key like 'migration_%'") == [
        (SCHEMA_VERSION - 1,)
    ]
    # Migration 3 computed every old letter's items digest, letter by letter.
    digests = dict(query(db, "select letter_id, items_digest from letters"))
    for letter_id, pairs in query(
        db,
        "select letter_id, list((request, decision) order by item_no) from decisions"
        " group by letter_id",
    ):
        expected = items_digest([(request, decision) for request, decision in pairs])
        assert digests[letter_id] == expected, letter_id
    keys = "select count(*) from duckdb_constraints() where constraint_type = 'PRIMARY KEY'"
    assert query(db, keys) == [(1,)]  # only meta keeps its key
    # Migration 4 found the reasons of every old item in its stored rationale.
    evidence = {
        (letter_id, item_no, reason): (start, end)
        for letter_id, item_no, reason, start, end in query(
            db, "select letter_id, item_no, reason, start_offset, end_offset from reason_evidence"
        )
    }
    for letter_id, item_no, decision, rationale, reasons in query(
        db, "select letter_id, item_no, decision, rationale, reasons from decisions"
    ):
        found = find_reasons(rationale, decision)
        assert reasons == [e.reason for e in found], (letter_id, item_no)
        for e in found:
            assert evidence[letter_id, item_no, e.reason] == (e.start, e.end)
    assert any(reasons for (reasons,) in query(db, "select reasons from decisions"))
    # Every old row is still there, unchanged, beside the new letter.
    for table, rows in before.items():
        assert set(rows) <= set(_table(db, table, old_columns[table])), table
    letters_after = query(db, "select letter_id, source_sha256, case_summary from letters")
    assert set(letters_before) <= set(letters_after)
    assert len(letters_after) == len(letters_before) + 1
    # The files that built it, ingested again: re-parsed only if the parser changed since, and
    # never duplicated.
    ingest([ROOT / "data" / "samples"], Settings(db=db, jobs=1))
    counts = "select count(*), count(distinct letter_id) from letters"
    assert query(db, counts) == [(len(letters_after), len(letters_after))]


def test_a_warehouse_newer_than_the_code_is_refused_untouched(tmp_path: Path) -> None:
    db = _published_fixture(tmp_path / "wh")
    con = duckdb.connect(str(db.resolve()))
    con.execute("insert or replace into meta values ('schema_version', '999')")
    con.close()
    digest = _digest(db.resolve())
    listing = sorted(p.name for p in db.parent.iterdir())
    done = subprocess.run(
        ingest_command([SEEDS], db), cwd=ROOT, env=cli_env(), capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "schema version 999" in done.stderr and "upgrade imr" in done.stderr, done.stderr
    assert _digest(db.resolve()) == digest
    # Nothing left behind but the lock and the manifest naming the published version.
    after = sorted(p.name for p in db.parent.iterdir())
    assert set(after) - set(listing) <= {".current.duckdb.lock", ".current.duckdb.versions"}


def test_a_migration_alters_tables_that_hold_lookup_indexes(tmp_path: Path) -> None:
    # DuckDB alters no table an index depends on (a rename fails): migrate() drops the lookup
    # indexes first, and the build's publish makes them again.
    db = tmp_path / "wh" / "current.duckdb"
    ingest([SEEDS], Settings(db=db))
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(db.resolve(), copy)
    con = duckdb.connect(str(copy))
    try:
        assert con.execute("select count(*) from duckdb_indexes()").fetchone() == (4,)
        rows = con.execute("select count(*) from decisions").fetchone()
        migrate(con, migrations={**MIGRATIONS, SCHEMA_VERSION + 1: Rebuild(("decisions",))})
        assert con.execute("select count(*) from decisions").fetchone() == rows
        assert con.execute("select count(*) from duckdb_indexes()").fetchone() == (0,)
        index_lookups(con)
        names = {
            name for (name,) in con.execute("select index_name from duckdb_indexes()").fetchall()
        }
        assert names == {index for index, _, _ in contract.lookup_indexes()}
    finally:
        con.close()

"""The warehouse contract: one declaration gives the DDL, the Arrow schemas and the dictionary.

The warehouses here are built by the real ingest code; nothing is inserted by hand.
"""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import duckdb
import pytest

from etl.ingest import ingest
from etl.model import Letter
from etl.pipeline import Loaded, process
from etl.rows import letter_rows, row_maker
from etl.settings import Settings
from etl.warehouse import contract, dictionary
from etl.warehouse.contract import Column
from etl.warehouse.migrations import MIGRATIONS, AddColumn, migrate, schema_version
from tests.conftest import ROOT

SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("contract")
    bad = folder / "bad"
    bad.mkdir()
    (bad / "not-a-letter.txt").write_text("hello\n")
    (bad / "empty.txt").write_bytes(b"")
    db = folder / "wh" / "current.duckdb"
    ingest([SAMPLES, bad], Settings(db=db, jobs=1))
    return db


def test_the_data_dictionary_is_generated_from_the_contract() -> None:
    assert dictionary.main(["--check"]) == 0, "run: python -m etl.warehouse.dictionary"


def test_the_warehouse_has_exactly_the_contracts_columns(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        for table in contract.TABLES:
            described = con.execute(
                "select column_name, data_type, is_nullable from information_schema.columns"
                " where table_name = ? order by ordinal_position",
                [table.name],
            ).fetchall()
            expected = [
                (c.name, c.type.upper(), "YES" if c.nullable else "NO") for c in table.columns
            ]
            assert described == expected, table.name
    finally:
        con.close()


def test_every_stored_value_is_an_accepted_one(warehouse: Path) -> None:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        checked = 0
        for table in contract.TABLES:
            for column in table.columns:
                nulls = con.execute(
                    f"select count(*) from {table.name} where {column.name} is null"
                ).fetchone()
                if not column.nullable:
                    assert nulls == (0,), (table.name, column.name)
                if column.accepted:
                    query = f"select distinct {column.name} from {table.name}"
                    values = {v for (v,) in con.execute(query).fetchall()} - {None}
                    assert values <= set(column.accepted), (table.name, column.name)
                    checked += 1
        assert checked >= 8
        # The corpus reaches the values it should (not a vacuous check).
        decisions = {
            v for (v,) in con.execute("select distinct decision from decisions").fetchall()
        }
        assert decisions == set(contract.DECISIONS)
        reasons = {v for (v,) in con.execute("select distinct reason from rejects").fetchall()}
        assert reasons == {"empty_file", "not_a_letter"}
    finally:
        con.close()


def test_arrow_schemas_and_ddl_come_from_the_same_columns() -> None:
    for table in contract.TABLES:
        schema = table.arrow_schema()
        assert schema.names == table.names
        for column in table.columns:
            assert f"{column.name} {column.type}" in table.ddl()
            assert schema.field(column.name).nullable == column.nullable


def test_a_new_column_is_one_contract_edit_and_one_migration(
    warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Add a column the way a developer would: the contract gains it, a migration adds it."""
    letters = contract.table("letters")
    extended = dataclasses.replace(
        letters,
        columns=(
            *letters.columns,
            Column("reviewer_count", "integer", "how many reviewer specialties the letter names"),
        ),
    )
    tables = tuple(extended if t.name == "letters" else t for t in contract.TABLES)
    version = max(MIGRATIONS) + 1
    seed = next((SAMPLES / "seeds").glob("*.txt"))
    loaded = process(str(seed), seed.read_bytes())
    assert isinstance(loaded, Loaded)
    assert len(letter_rows(loaded).letter) == len(letters.names)  # rows made by this contract

    def count_reviewers(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("update letters set reviewer_count = len(reviewer_specialties)")

    migrations = {**MIGRATIONS, version: AddColumn("letters", "reviewer_count", count_reviewers)}

    # An existing warehouse (a copy of one built by ingest) migrates, its rows intact.
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(warehouse.resolve(), copy)
    con = duckdb.connect(str(copy))
    before = con.execute("select * from letters order by letter_id").fetchall()
    assert migrate(con, tables, migrations) == [version]
    assert schema_version(con) == version
    after = con.execute("select * exclude (reviewer_count) from letters order by letter_id")
    assert after.fetchall() == before
    counts = con.execute("select count(*), count(reviewer_count) from letters").fetchone()
    assert counts is not None and counts[0] == counts[1] > 0
    con.close()

    # A new warehouse gets it from the DDL, its Arrow schema has it, the dictionary documents it.
    assert "reviewer_count integer" in contract.ddl(tables)
    assert "reviewer_count" in extended.arrow_schema().names
    assert "| `reviewer_count` | INTEGER | yes | how many reviewer specialties" in (
        dictionary.render(tables)
    )
    monkeypatch.setattr(contract, "TABLES", tables)
    monkeypatch.setattr("etl.warehouse.migrations.MIGRATIONS", migrations)
    assert letter_rows(loaded).letter[-1] is None  # ... and by the new one, which ends with it
    fresh = tmp_path / "fresh" / "current.duckdb"
    summary = ingest([SAMPLES / "seeds"], Settings(db=fresh, jobs=1))
    # The parser does not fill the new column yet: the letters load with it NULL.
    assert summary.letters == 2 and summary.rejected == 0, summary.line()
    con = duckdb.connect(str(fresh), read_only=True)
    assert "reviewer_count" in [r[0] for r in con.execute("describe letters").fetchall()]
    assert con.execute("select count(*), count(reviewer_count) from letters").fetchone() == (2, 0)
    con.close()


def test_a_letters_rows_follow_the_contracts_columns() -> None:
    """A row maker (etl.rows) puts each column where the contract has it: the value given by
    that name, else the source's attribute of that name, else NULL."""
    for table in contract.TABLES:
        names = table.names
        given = names[::3]
        attributes = [n for n in names if n not in given][::2]
        source = dataclasses.make_dataclass("Source", attributes)
        make = row_maker(table, source, given)
        row = make(
            source(*(f"attribute {n}" for n in attributes)), **{n: f"given {n}" for n in given}
        )
        expected = {
            n: f"given {n}" if n in given else f"attribute {n}" if n in attributes else None
            for n in names
        }
        assert dict(zip(names, row, strict=True)) == expected
    for given in (("no_such_column",), ("letter_id", "letter_id")):
        with pytest.raises(ValueError, match="no row maker"):
            row_maker(contract.table("letters"), Letter, given)


def test_a_parsed_letters_rows_hold_its_values() -> None:
    """Every column of a letter's rows that the parsed letter (or its item, citation, evidence)
    has as a field or a property holds that value; the only NULLs are values the letter lacks
    (and loaded_at, the writer's). A property read as a missing attribute (the letter's
    injury_year and outcome, in a first version of row_maker) is NULL in every row."""
    for path in sorted(SAMPLES.rglob("*.txt")):
        loaded = process(str(path), path.read_bytes())
        assert isinstance(loaded, Loaded)
        rows = letter_rows(loaded)
        letter = loaded.letter
        pairs = [("letters", letter, rows.letter)]
        for item, row in zip(letter.items, rows.decisions, strict=True):
            pairs.append(("decisions", item, row))
        citations = [c for item in letter.items for c in item.citations]
        pairs += [("citations", c, row) for c, row in zip(citations, rows.citations, strict=True)]
        evidence = [e for item in letter.items for e in item.reason_evidence]
        pairs += [
            ("reason_evidence", e, row)
            for e, row in zip(evidence, rows.reason_evidence, strict=True)
        ]
        for table, parsed, row in pairs:
            values = dict(zip(contract.table(table).names, row, strict=True))
            for name, value in values.items():
                if hasattr(parsed, name):
                    assert value == getattr(parsed, name), (path.name, table, name)
                elif value is None:
                    assert name == "loaded_at" or table != "letters", (path.name, name)
        letter_values = dict(zip(contract.table("letters").names, rows.letter, strict=True))
        assert letter_values["outcome"] is not None and letter_values["injury_year"] is not None

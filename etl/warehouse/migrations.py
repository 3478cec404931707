"""Numbered schema migrations, recorded in the warehouse's ``meta`` table.

``meta.schema_version`` says which schema a warehouse has; warehouses built before it was recorded
are version 1. ``imr ingest`` migrates the new build copy (never the published file), so a failed
migration leaves the published warehouse untouched; a warehouse newer than this code is refused.

A new column is one ``Column`` in ``etl.warehouse.contract`` plus an ``AddColumn`` here: the
column's type and default come from the contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from etl.pipeline import items_digest
from etl.warehouse import WarehouseError, contract
from etl.warehouse.contract import Table

Connection = duckdb.DuckDBPyConnection


class WarehouseTooNew(WarehouseError):
    """The warehouse was built by a newer version of this tool."""


@dataclass(frozen=True)
class AddColumn:
    """Add a contract column to an existing table, then fill it for the rows already there."""

    table: str
    column: str
    backfill: Callable[[Connection], None] | None = None

    def apply(self, con: Connection, tables: tuple[Table, ...]) -> None:
        column = contract.table(self.table, tables).column(self.column)
        # Existing rows get the default (or NULL): NOT NULL is for columns with a default.
        definition = f"{column.name} {column.type}"
        if column.default is not None:
            definition += f" default {column.default}"
        con.execute(f"alter table {self.table} add column if not exists {definition}")
        if self.backfill:
            self.backfill(con)


@dataclass(frozen=True)
class Rebuild:
    """Recreate tables from the contract, keeping their rows (what ALTER cannot change)."""

    tables: tuple[str, ...]

    def apply(self, con: Connection, tables: tuple[Table, ...]) -> None:
        for name in self.tables:
            con.execute(f"alter table {name} rename to {name}__old")
        con.execute(contract.ddl(tables))  # creates the renamed tables afresh
        for name in self.tables:
            con.execute(f"insert into {name} by name select * from {name}__old")
            con.execute(f"drop table {name}__old")


Migration = AddColumn | Rebuild


def _backfill_items_digest(con: Connection) -> None:
    """The digest of every letter's items, computed letter by letter from ``decisions``."""
    reader = con.sql(
        "select letter_id, request, decision from decisions order by letter_id, item_no"
    ).to_arrow_reader(100_000)
    current: str | None = None
    pairs: list[tuple[str, str]] = []
    ids: list[str] = []
    values: list[int] = []
    for batch in reader:
        columns = batch.to_pydict()
        for letter_id, request, decision in zip(
            columns["letter_id"], columns["request"], columns["decision"], strict=True
        ):
            if letter_id != current:
                if current is not None:
                    ids.append(current)
                    values.append(items_digest(pairs))
                current, pairs = letter_id, []
            pairs.append((request, decision))
        if len(ids) >= 50_000:
            _store_digests(con, ids, values)
            ids, values = [], []
    if current is not None:
        ids.append(current)
        values.append(items_digest(pairs))
    _store_digests(con, ids, values)


def _store_digests(con: Connection, ids: list[str], values: list[int]) -> None:
    if not ids:
        return
    frame = pa.table({"letter_id": ids, "items_digest": pa.array(values, pa.int64())})
    con.register("digests", frame)
    con.execute(
        "update letters set items_digest = digests.items_digest"
        " from digests where letters.letter_id = digests.letter_id"
    )
    con.unregister("digests")


def _letter_buckets(
    con: Connection, table: str, columns: str, rows_per_batch: int = 50_000
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``table`` (``columns``) in buckets of letters (hash of ``letter_id``) of about
    ``rows_per_batch`` rows, each fetched whole: memory is bounded by the batch, and the caller
    may run statements between batches (one open result per connection). Row ids cannot page
    a migration: rows written earlier in its transaction have transaction-local ones."""
    rows = int(con.execute(f"select count(*) from {table}").fetchall()[0][0])
    buckets = max(1, -(-rows // rows_per_batch))
    for bucket in range(buckets):
        yield con.execute(
            f"select {columns} from {table} where hash(letter_id) % ? = ?", [buckets, bucket]
        ).fetchall()


def _backfill_reasons(con: Connection) -> None:
    """The reasons of every item already loaded, found in its stored rationale (the rows of
    ``reason_evidence`` too), read in letter buckets (memory bounded by the batch), collected in
    a temporary table, then set in one join."""
    from etl.classify.reasons import find_reasons
    from etl.rows import arrow_table, evidence_rows

    evidence = contract.table("reason_evidence")
    con.execute(
        "create temp table found_reasons (letter_id varchar, item_no integer, reasons varchar[])"
    )
    for found_rows in _letter_buckets(con, "decisions", "letter_id, item_no, decision, rationale"):
        keys: tuple[list[str], list[int], list[list[str]]] = ([], [], [])
        rows = []
        for letter_id, item_no, decision, rationale in found_rows:
            found = find_reasons(rationale, decision)
            keys[0].append(letter_id)
            keys[1].append(item_no)
            keys[2].append([e.reason for e in found])
            rows += evidence_rows(letter_id, item_no, found)
        frame = pa.table(
            {
                "letter_id": pa.array(keys[0], pa.string()),
                "item_no": pa.array(keys[1], pa.int32()),
                "reasons": pa.array(keys[2], pa.list_(pa.string())),
            }
        )
        con.register("found_batch", frame)
        con.execute("insert into found_reasons select * from found_batch")
        con.unregister("found_batch")
        con.register("found_evidence", arrow_table(evidence, rows))
        con.execute("insert into reason_evidence by name select * from found_evidence")
        con.unregister("found_evidence")
    con.execute(
        "update decisions set reasons = found_reasons.reasons from found_reasons"
        " where decisions.letter_id = found_reasons.letter_id"
        " and decisions.item_no = found_reasons.item_no"
    )
    con.execute("drop table found_reasons")


def _backfill_body_regions(con: Connection) -> None:
    """The body regions of every letter already loaded, classified from its stored diagnoses
    (``etl.classify.body_regions``), letter batch by letter batch (bounded memory), collected
    in a temporary table, then set in one join."""
    from etl.classify.body_regions import body_regions

    con.execute("create temp table found_regions (letter_id varchar, body_regions varchar[])")
    for rows in _letter_buckets(con, "letters", "letter_id, diagnoses"):
        frame = pa.table(
            {
                "letter_id": pa.array([letter_id for letter_id, _ in rows], pa.string()),
                "body_regions": pa.array(
                    [body_regions(diagnoses) for _, diagnoses in rows], pa.list_(pa.string())
                ),
            }
        )
        con.register("regions_batch", frame)
        con.execute("insert into found_regions select * from regions_batch")
        con.unregister("regions_batch")
    con.execute(
        "update letters set body_regions = found_regions.body_regions from found_regions"
        " where letters.letter_id = found_regions.letter_id"
    )
    con.execute("drop table found_regions")


MIGRATIONS: dict[int, Migration] = {
    # Primary-key indexes live in memory: at millions of rows they exhaust a bounded build.
    2: Rebuild(("letters", "decisions", "sources")),
    3: AddColumn("letters", "items_digest", backfill=_backfill_items_digest),
    4: AddColumn("decisions", "reasons", backfill=_backfill_reasons),
    # Body regions from the diagnoses (etl/classify/body_regions.py), for the dashboard.
    5: AddColumn("letters", "body_regions", backfill=_backfill_body_regions),
}
SCHEMA_VERSION = max(MIGRATIONS)


def schema_version(con: Connection) -> int | None:
    """The warehouse's schema version; None for an empty database."""
    tables = {name for (name,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    if "letters" not in tables:
        return None
    if "meta" in tables:
        row = con.execute("select value from meta where key = 'schema_version'").fetchone()
        if row:
            return int(row[0])
    return 1


def migrate(
    con: Connection,
    tables: tuple[Table, ...] | None = None,
    migrations: dict[int, Migration] | None = None,
) -> list[int]:
    """Bring the schema to the newest version (the contract's tables by default); returns the
    migrations applied, in one transaction."""
    tables = tables or contract.TABLES
    migrations = MIGRATIONS if migrations is None else migrations
    target = max(migrations, default=1)
    version = schema_version(con)
    if version is not None and version > target:
        raise WarehouseTooNew(
            f"the warehouse has schema version {version}; this imr knows up to {target}:"
            " upgrade imr (the warehouse was left untouched)"
        )
    applied = []
    con.execute("begin transaction")
    con.execute(contract.ddl(tables))  # a new warehouse, or tables added since
    if version is not None and version < target:
        # DuckDB alters no table an index depends on: the lookup indexes go, and the build
        # makes them again at publish (etl/load.py).
        for index, _, _ in contract.lookup_indexes(tables):
            con.execute(f"drop index if exists {index}")
    for number in range(version + 1, target + 1) if version is not None else ():
        migrations[number].apply(con, tables)
        con.execute(
            "insert or replace into meta values (?, ?)",
            [f"migration_{number}", dt.datetime.now().isoformat()],
        )
        applied.append(number)
    con.execute("insert or replace into meta values ('schema_version', ?)", [str(target)])
    con.execute("commit")
    return applied

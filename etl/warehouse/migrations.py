"""Numbered schema migrations, recorded in the warehouse's ``meta`` table.

``meta.schema_version`` says which schema a warehouse has; warehouses built before it was recorded
are version 1. ``imr ingest`` migrates the new build copy (never the published file), so a failed
migration leaves the published warehouse untouched; a warehouse newer than this code is refused.

A new column is one ``Column`` in ``etl.warehouse.contract`` plus an ``AddColumn`` here: the
column's type and default come from the contract.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

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


MIGRATIONS: dict[int, Migration] = {
    # Primary-key indexes live in memory: at millions of rows they exhaust a bounded build.
    2: Rebuild(("letters", "decisions", "sources")),
    3: AddColumn("letters", "items_digest", backfill=_backfill_items_digest),
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

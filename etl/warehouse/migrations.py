"""Numbered schema migrations, recorded in the warehouse's ``meta`` table.

``meta.schema_version`` says which schema a warehouse has; warehouses built before it was recorded
are version 1. ``imr ingest`` migrates the new build copy (never the published file), so a failed
migration leaves the published warehouse untouched; a warehouse newer than this code is refused.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb
import pyarrow as pa

from etl.pipeline import items_digest
from etl.warehouse import WarehouseError

SCHEMA_VERSION = 3


class WarehouseTooNew(WarehouseError):
    """The warehouse was built by a newer version of this tool."""


def _drop_primary_keys(
    con: duckdb.DuckDBPyConnection, create_schema: Callable[[duckdb.DuckDBPyConnection], None]
) -> None:
    """Version 2: letters, decisions and sources without primary-key indexes (bounded memory)."""
    tables = ("letters", "decisions", "sources")
    for table in tables:
        con.execute(f"alter table {table} rename to {table}__v1")
    create_schema(con)  # creates the renamed tables afresh, without the keys
    for table in tables:
        con.execute(f"insert into {table} by name select * from {table}__v1")
        con.execute(f"drop table {table}__v1")


def _add_items_digest(
    con: duckdb.DuckDBPyConnection, create_schema: Callable[[duckdb.DuckDBPyConnection], None]
) -> None:
    """Version 3: ``letters.items_digest``, computed for the letters already there."""
    con.execute("alter table letters add column if not exists items_digest bigint")
    reader = con.sql(
        "select letter_id, request, decision from decisions order by letter_id, item_no"
    ).to_arrow_reader(100_000)
    digests: dict[str, list[tuple[str, str]]] = {}
    ids: list[str] = []
    values: list[int] = []

    def finish(letter_id: str) -> None:
        ids.append(letter_id)
        values.append(items_digest(digests.pop(letter_id)))

    for batch in reader:
        columns = batch.to_pydict()
        for letter_id, request, decision in zip(
            columns["letter_id"], columns["request"], columns["decision"], strict=True
        ):
            if letter_id not in digests:
                for done in list(digests):
                    finish(done)
                digests[letter_id] = []
            digests[letter_id].append((request, decision))
        if len(ids) >= 50_000:
            _store_digests(con, ids, values)
            ids, values = [], []
    for done in list(digests):
        finish(done)
    _store_digests(con, ids, values)


def _store_digests(con: duckdb.DuckDBPyConnection, ids: list[str], values: list[int]) -> None:
    if not ids:
        return
    frame = pa.table({"letter_id": ids, "items_digest": pa.array(values, pa.int64())})
    con.register("digests", frame)
    con.execute(
        "update letters set items_digest = digests.items_digest"
        " from digests where letters.letter_id = digests.letter_id"
    )
    con.unregister("digests")


MIGRATIONS: dict[
    int, Callable[[duckdb.DuckDBPyConnection, Callable[[duckdb.DuckDBPyConnection], None]], None]
] = {
    2: _drop_primary_keys,
    3: _add_items_digest,
}


def schema_version(con: duckdb.DuckDBPyConnection) -> int | None:
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
    con: duckdb.DuckDBPyConnection, create_schema: Callable[[duckdb.DuckDBPyConnection], None]
) -> list[int]:
    """Bring the schema to ``SCHEMA_VERSION``; returns the migrations applied."""
    version = schema_version(con)
    if version is not None and version > SCHEMA_VERSION:
        raise WarehouseTooNew(
            f"the warehouse has schema version {version}; this imr knows up to {SCHEMA_VERSION}:"
            " upgrade imr (the warehouse was left untouched)"
        )
    applied = []
    con.execute("begin transaction")
    if version is None:
        create_schema(con)
    else:
        create_schema(con)  # tables added since (create if not exists)
        for number in range(version + 1, SCHEMA_VERSION + 1):
            MIGRATIONS[number](con, create_schema)
            con.execute(
                "insert or replace into meta values (?, ?)",
                [f"migration_{number}", dt.datetime.now().isoformat()],
            )
            applied.append(number)
    con.execute("insert or replace into meta values ('schema_version', ?)", [str(SCHEMA_VERSION)])
    con.execute("commit")
    return applied

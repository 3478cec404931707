"""The one place that owns the warehouse connection and Streamlit caching.

* One session per process (``st.cache_resource``), a ``.cursor()`` per query. The session is
  ``queries.connect``: an in-memory DuckDB connection holding the dashboard's own macros, with
  the warehouse file ATTACHed read-only (what the dashboard creates never needs an ingest).
* ``IMR_DB`` is usually a symlink that ingest swaps atomically to a new version file, removing
  older versions afterwards. Before every query we compare ``os.path.realpath`` (plus inode and
  mtime) with the file we opened; when it changed we open the new file, so a fresh warehouse is
  picked up without a restart. After a symlink swap the old connection is not closed while
  queries may still run on it (it goes when the last reference does); a file replaced in place
  under the same path forces closing it first.
* A publish can land between resolving the link and statting or opening the file it named, and
  remove that file. Both steps then resolve the link again (``WarehouseId.of`` and
  ``etl.warehouse.files.open_read_only``) instead of failing, so opening never errors because of
  a publish: it ends on the version the link points to. (Only publishes back to back for
  ``OPEN_RETRY_SECONDS``, each faster than one open, could still make it fail.) A path that
  names no file (no link, or a link whose target is gone while the link stays put) is
  ``WarehouseMissing``.
* Query results are cached with ``st.cache_data`` keyed by the warehouse identity, the query
  function and its arguments, so a new warehouse never serves stale numbers.
"""

from __future__ import annotations

import dataclasses
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import streamlit as st

from dashboard import queries
from dashboard.settings import Settings, get_settings
from etl.warehouse.files import open_read_only

# Keep the whole process (DuckDB + Streamlit + caches) within ~1 GB on a 1M-item warehouse.
# (A SET after connecting, not a connect() config: DuckDB refuses a second connection to the
# same file with a different config in one process.)
MEMORY_LIMIT = "512MB"


class WarehouseMissing(RuntimeError):
    """The warehouse file does not exist (yet)."""


@dataclass(frozen=True)
class WarehouseId:
    """Identity of the file behind the configured path."""

    realpath: str
    inode: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> WarehouseId:
        real = os.path.realpath(path)
        while True:
            try:
                stat = os.stat(real)
            except FileNotFoundError as exc:
                # A publish may have swapped the link and removed the version we resolved:
                # then the link names another file now, so identify that one instead.
                again = os.path.realpath(path)
                if again == real:
                    raise WarehouseMissing(f"No warehouse at {path}") from exc
                real = again
                continue
            return cls(real, stat.st_ino, stat.st_mtime_ns)

    @property
    def key(self) -> str:
        return f"{self.realpath}:{self.inode}:{self.mtime_ns}"


class _Holder:
    """The current connection and the identity of the file it was opened on."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ident: WarehouseId | None = None
        self.con: duckdb.DuckDBPyConnection | None = None

    def get(self, path: Path) -> tuple[duckdb.DuckDBPyConnection, WarehouseId]:
        ident = WarehouseId.of(path)
        with self.lock:
            if self.con is not None and self.ident == ident:
                return self.con, ident
            if self.con is not None and self.ident and self.ident.realpath == ident.realpath:
                # Same path, new file (replaced in place): DuckDB would hand back the
                # cached instance of the old file while any connection to it is open.
                self.con.close()
                self.con = self.ident = None
            con, ident = _session(path, ident)
            con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")  # constant, not user input
            self.con, self.ident = con, ident
            return con, ident


def _open(path: Path, ident: WarehouseId) -> tuple[duckdb.DuckDBPyConnection, WarehouseId]:
    """A read-only connection to the real file behind ``path`` and that file's identity.

    ``ident`` is what ``path`` named a moment ago. The real file is opened, not the symlink, so
    a later swap cannot change it under us. ``open_read_only`` resolves the link again and
    retries when a publish removed the version between resolving and opening; if a publish
    landed since ``ident`` was taken, the file opened is a newer one, and its identity is taken
    from the file itself. A retry needs that file removed between the open and a stat.
    """
    while True:
        con, real = open_read_only(path)
        if str(real) == ident.realpath:
            return con, ident
        # A publish landed since ``ident`` was taken: what we opened is a newer version. Take
        # its identity rather than chase the link (publishes faster than an open never end).
        try:
            stat = os.stat(real)
        except FileNotFoundError:  # already superseded and removed: open again
            con.close()
            ident = WarehouseId.of(path)
            continue
        return con, WarehouseId(str(real), stat.st_ino, stat.st_mtime_ns)


def _session(path: Path, ident: WarehouseId) -> tuple[duckdb.DuckDBPyConnection, WarehouseId]:
    """The dashboard's session (``queries.connect``) on the file ``_open`` verified.

    The session ATTACHes that file by name while ``_open``'s connection still holds it; should a
    publish have removed it in between, the link names a newer version: open that one instead.
    """
    while True:
        verified, ident = _open(path, ident)
        try:
            return queries.connect(ident.realpath), ident
        except duckdb.Error:
            moved = WarehouseId.of(path)
            if moved.realpath == ident.realpath:
                raise
            ident = moved
        finally:
            verified.close()


@st.cache_resource(show_spinner=False)
def _holder() -> _Holder:
    return _Holder()


def settings() -> Settings:
    return get_settings()


def connection() -> tuple[duckdb.DuckDBPyConnection, WarehouseId]:
    """The process-wide session (reopened when the warehouse file changed)."""
    return _holder().get(settings().db)


# What a cache key may hold, written out by ``cache_key``.
_PLAIN = (str, int, float, bool, type(None))


def cache_key(value: Any) -> str:
    """The text of a query's arguments that keys its cached answer: plain values (their
    ``repr``: ``1``, ``True``, ``1.0`` and ``'1'`` differ), tuples, frozensets and frozen
    dataclasses of them. Streamlit's own hashing of the same arguments (a dataclass through
    ``asdict``, every value through its hasher) cost 10-15 ms of each page's rerun."""
    if isinstance(value, _PLAIN):
        return repr(value)
    if isinstance(value, tuple):
        return "(" + ",".join(cache_key(item) for item in value) + ")"
    if isinstance(value, frozenset):
        return "{" + ",".join(sorted(cache_key(item) for item in value)) + "}"
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if not type(value).__dataclass_params__.frozen:  # type: ignore[attr-defined]
            raise TypeError(f"a cache key needs a frozen dataclass, not {type(value).__name__}")
        fields = tuple(getattr(value, field.name) for field in dataclasses.fields(value))
        return f"{type(value).__module__}.{type(value).__qualname__}{cache_key(fields)}"
    raise TypeError(f"a cache key holds plain values, not {type(value).__name__}")


@st.cache_data(show_spinner=False, max_entries=1024, ttl=3600)
def _cached(
    warehouse_key: str,
    query_name: str,
    key: str,
    _fn: Callable[..., pl.DataFrame],
    _args: tuple[Any, ...],
) -> pl.DataFrame:
    del warehouse_key, query_name, key  # the cache key only
    con, _ = connection()
    return _fn(con, *_args)


def run(fn: Callable[..., pl.DataFrame], *args: Any) -> pl.DataFrame:
    """``fn(connection, *args)``, cached per warehouse file. ``args`` must be plain values
    (``cache_key``)."""
    _, ident = connection()
    return _cached(ident.key, f"{fn.__module__}.{fn.__qualname__}", cache_key(args), fn, args)


@st.cache_data(show_spinner=False, max_entries=256, ttl=3600)
def _computed(name: str, key: str, _fn: Callable[..., Any], _args: tuple[Any, ...]) -> Any:
    del name, key  # the cache key only
    return _fn(*_args)


def computed(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)`` for a pure function of plain values (a statistic of rows a query gave),
    cached like the queries: a rerun showing the same rows does not compute it again."""
    return _computed(f"{fn.__module__}.{fn.__qualname__}", cache_key(args), fn, args)


def run_uncached(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(connection, *args)``, not kept in the cache: large one-off results (CSV downloads),
    and answers computed from frames the cache holds already (``args`` need not hash)."""
    con, _ = connection()
    return fn(con, *args)


def warehouse_id() -> WarehouseId:
    return connection()[1]

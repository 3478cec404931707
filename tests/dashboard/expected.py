"""Expected numbers for the dashboard tests: SQL over the test warehouse and plain Python,
written independently of ``dashboard/sql`` (only column names come from the registry)."""

from __future__ import annotations

import math
from collections import Counter
from statistics import NormalDist
from typing import Any

import duckdb
import pytest

from dashboard import dimensions
from dashboard.dimensions import Dimension
from dashboard.filters import Filters

Z = NormalDist().inv_cdf(0.975)  # 1.959963984540054


def wilson(k: int, n: int, z: float = Z) -> tuple[float, float]:
    """95% Wilson score interval, straight from the textbook formula."""
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return centre - half, centre + half


def where(filters: Filters) -> tuple[str, list[Any]]:
    """An ``item_facts`` predicate for ``filters`` (test code: column names are constants)."""
    clauses: list[str] = []
    params: list[Any] = []
    for name, values in filters.selections:
        dim = dimensions.get(name)
        if dim.widget == "range":
            clauses.append(f"{dim.column} between ? and ?")
            params += list(values)
        elif dim.shape == "list":
            clauses.append(f"list_has_any({dim.column}, ?::varchar[])")
            params.append(list(values))
        else:
            clauses.append(f"{dim.column}::varchar in (select unnest(?::varchar[]))")
            params.append(list(values))
    if filters.exclude_synthetic:
        clauses.append("not synthetic")
    return " and ".join(clauses) or "true", params


def rows(
    oracle: duckdb.DuckDBPyConnection, filters: Filters, columns: str
) -> list[tuple[Any, ...]]:
    predicate, params = where(filters)
    return oracle.execute(f"select {columns} from item_facts where {predicate}", params).fetchall()


def summary(oracle: duckdb.DuckDBPyConnection, filters: Filters) -> dict[str, int]:
    facts = rows(oracle, filters, "letter_id, overturned, synthetic")
    return {
        "letters": len({letter for letter, _, _ in facts}),
        "n": len(facts),
        "overturned": sum(1 for _, overturned, _ in facts if overturned),
        "synthetic_letters": len({letter for letter, _, synthetic in facts if synthetic}),
        "synthetic_items": sum(1 for _, _, synthetic in facts if synthetic),
    }


def values_of(dim: Dimension, value: Any) -> list[Any]:
    """The rate-table values an item's ``dim`` column gives (an empty list: the empty label)."""
    if dim.shape == "list":
        return value or ([dim.empty] if dim.empty is not None else [])
    return [] if value is None else [value]


def rates(
    oracle: duckdb.DuckDBPyConnection, filters: Filters, dim: Dimension
) -> list[tuple[Any, int, int]]:
    """(value, n, overturned) per value of ``dim``, in the order its rate table promises."""
    n: Counter[Any] = Counter()
    overturned: Counter[Any] = Counter()
    for value, item_overturned in rows(oracle, filters, f"{dim.column}, overturned"):
        for v in values_of(dim, value):
            n[v] += 1
            overturned[v] += bool(item_overturned)
    by_count = dim.order == "count"
    order = sorted(n, key=lambda v: (-n[v], v) if by_count else (0, v))
    return [(v, n[v], overturned[v]) for v in order]


def letters(oracle: duckdb.DuckDBPyConnection, filters: Filters, dim: Dimension) -> dict[Any, int]:
    """The letters behind each value of ``dim`` (the rows of ``rates``)."""
    behind: dict[Any, set[str]] = {}
    for value, letter in rows(oracle, filters, f"{dim.column}, letter_id"):
        for v in values_of(dim, value):
            behind.setdefault(v, set()).add(letter)
    return {v: len(ids) for v, ids in behind.items()}


def options(oracle: duckdb.DuckDBPyConnection, dim: Dimension) -> dict[str, int]:
    """Items per value of ``dim`` over the whole warehouse (list values counted per item)."""
    counts: Counter[str] = Counter()
    for (value,) in oracle.execute(f"select {dim.column} from item_facts").fetchall():
        for v in value if dim.shape == "list" else [value]:
            if v is not None:
                counts[str(v)] += 1
    return dict(counts)


def top_value(oracle: duckdb.DuckDBPyConnection, dim: Dimension) -> str:
    counts = options(oracle, dim)
    return min(counts, key=lambda v: (-counts[v], v))


# A dimension as a later issue would add one (its mart column already exists).
CLAIMS_ADMIN = Dimension(
    "claims_admin_source",
    "Guideline source (claims administrator)",
    "claims_admin_sources",
    "list",
    help="An item counts under each source the claims administrator cites.",
    empty="(none cited)",
)


def add_dimension(monkeypatch: pytest.MonkeyPatch, dim: Dimension) -> None:
    """The registry with one more entry (undone after the test)."""
    registry = (*dimensions.DIMENSIONS, dim)
    monkeypatch.setattr(dimensions, "DIMENSIONS", registry)
    monkeypatch.setattr(dimensions, "BY_NAME", {d.name: d for d in registry})
    monkeypatch.setattr(dimensions, "FILTERS", tuple(d for d in registry if d.widget))

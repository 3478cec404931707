"""The global filters: one frozen value, turned into bound SQL parameters.

Which filters exist comes from the dimension registry (``dashboard.dimensions``): a
``multiselect`` dimension holds the selected values, a ``range`` dimension a ``(low, high)``
pair. The filter predicate (``queries.filter_predicate``) is SQL built from the registry alone;
every selection is a bound parameter that is NULL when the filter is off, so no SQL is ever
built from user input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from dashboard import dimensions
from dashboard.dimensions import Dimension


def _values(values: Iterable[Any] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(sorted({str(v) for v in values if v is not None and str(v) != ""}))


def _range(value: Iterable[Any] | None) -> tuple[int, ...]:
    if value is None:
        return ()
    low, high = (int(v) for v in value)
    return (min(low, high), max(low, high))


def normalise_search(text: Any) -> str:
    """The search text as it is searched and cached: whitespace collapsed, at most 500
    characters (``etl.search.engine.normalise``)."""
    from etl.search.engine import normalise

    return normalise(None if text is None else str(text))


def param_name(dim: Dimension, suffix: str = "") -> str:
    """The bound parameter of a filter, e.g. ``filter_drug_class``, ``filter_injury_year_min``."""
    return f"filter_{dim.name}{suffix}"


@dataclass(frozen=True)
class Filters:
    """The active selections, as ``(dimension name, values)`` pairs in registry order.

    A dimension not listed is not filtered. For ``range`` dimensions the values are
    ``(low, high)``. A listed dimension with no values matches no item (only ``narrow`` makes
    one; user input never does).
    """

    selections: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    exclude_synthetic: bool = False
    search: str = ""
    """The search text ``q``: only items matching it (``dashboard.search``); "" = no search."""

    @classmethod
    def build(cls, **chosen: Any) -> Filters:
        """Normalise loose input by dimension name: lists, single strings, unordered ranges.
        Empty selections mean "all"; ``exclude_synthetic`` leaves the demo letters out."""
        exclude_synthetic = chosen.pop("exclude_synthetic", False)
        search = normalise_search(chosen.pop("search", None))
        unknown = sorted(set(chosen) - {d.name for d in dimensions.FILTERS})
        if unknown:
            raise TypeError(f"not filter dimensions: {unknown}")
        selections = []
        for dim in dimensions.FILTERS:
            raw = chosen.get(dim.name)
            values = _range(raw) if dim.widget == "range" else _values(raw)
            if values:
                selections.append((dim.name, values))
        return cls(tuple(selections), bool(exclude_synthetic), search)

    def get(self, name: str) -> tuple[Any, ...]:
        """The selection of one dimension; ``()`` when it is not filtered."""
        dimensions.get(name)  # a typo is an error, not "no filter"
        return dict(self.selections).get(name, ())

    def narrow(self, name: str, value: str) -> Filters:
        """These filters and ``name = value`` (a multiselect dimension), e.g. a drill-down.
        When the dimension is filtered to other values, nothing matches."""
        dim = dimensions.get(name)
        if dim.widget != "multiselect":
            raise ValueError(f"{name!r} is not a multiselect filter")
        current = dict(self.selections)
        kept: tuple[str, ...] = (value,) if name not in current or value in current[name] else ()
        current[name] = kept
        ordered = tuple((d.name, current[d.name]) for d in dimensions.FILTERS if d.name in current)
        return Filters(ordered, self.exclude_synthetic, self.search)

    def without(self, name: str) -> Filters:
        """These filters with ``name`` off: what a facet's option counts follow (each option
        counted under the other filters, as Datasette's facets do)."""
        dimensions.get(name)
        kept = tuple((n, v) for n, v in self.selections if n != name)
        return Filters(kept, self.exclude_synthetic, self.search)

    def params(self) -> dict[str, Any]:
        """Bound parameters for the filter predicate (NULL = filter off)."""
        chosen = dict(self.selections)
        out: dict[str, Any] = {}
        for dim in dimensions.FILTERS:
            values = chosen.get(dim.name)
            if dim.widget == "range":
                out[param_name(dim, "_min")] = values[0] if values else None
                out[param_name(dim, "_max")] = values[1] if values else None
            else:
                out[param_name(dim)] = None if values is None else list(values)
        out["exclude_synthetic"] = self.exclude_synthetic
        # Resolved by dashboard.search.bind into $search_id (the search's hits in the session).
        out["search_text"] = self.search or None
        return out

    def describe(self) -> list[str]:
        """Human-readable active filters, e.g. ``['Drug class: Opioids, NSAID']``."""
        parts: list[str] = []
        for name, values in self.selections:
            dim = dimensions.get(name)
            if dim.widget == "range" and values and values[0] == values[1]:
                parts.append(f"{dim.label}: {dim.fmt(values[0])}")
            elif dim.widget == "range":
                parts.append(f"{dim.label}: {dim.fmt(values[0])}–{dim.fmt(values[1])}")
            else:
                parts.append(f"{dim.label}: {', '.join(dim.fmt(v) for v in values)}")
        if self.exclude_synthetic:
            parts.append("Demo letters excluded")
        if self.search:
            parts.append(f"Search: “{self.search}”")
        return parts

    def slug(self, max_len: int = 120) -> str:
        """File-name-safe fragment, e.g. ``drug_class-Opioids_decision_year-2015-2016``."""
        parts: list[str] = []
        for name, values in self.selections:
            joiner = "-" if dimensions.get(name).widget == "range" else "+"
            parts.append(f"{name}-{joiner.join(str(v) for v in values)}")
        if self.exclude_synthetic:
            parts.append("no-demo")
        if self.search:
            parts.append(f"q-{self.search}")
        text = "_".join(parts) or "all"
        text = re.sub(r"[^A-Za-z0-9+._-]+", "-", text).strip("-.")
        if len(text) > max_len:
            text = text[:max_len].rstrip("-_+.") + "-etc"
        return text or "all"

"""The global filters: one frozen value, turned into bound SQL parameters.

The filter predicate itself is static SQL (``sql/_filters.sql``): every filter is a bound
parameter that is NULL when the filter is off, so no SQL is ever built from user input.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

# Query-parameter name -> item_facts column it filters (list columns match any listed value).
LIST_FILTERS: dict[str, str] = {
    "category": "category",
    "drug_class": "drug_class",
    "drug": "drugs",
    "specialty": "reviewer_specialties",
    "guideline_source": "guideline_sources",
    "state": "reviewer_states",
    "decision": "decision",
}
RANGE_FILTERS = ("injury_year", "decision_year")

LABELS: dict[str, str] = {
    "category": "Request category",
    "drug_class": "Drug class",
    "drug": "Drug (generic ingredient)",
    "specialty": "Reviewer specialty",
    "guideline_source": "Guideline source (MAXIMUS)",
    "state": "Reviewer licensure state",
    "decision": "Decision",
    "injury_year": "Injury year",
    "decision_year": "Decision year",
}


def _tuple(values: Iterable[str] | str | None) -> tuple[str, ...]:
    if values is None:
        return ()
    if isinstance(values, str):
        values = [values]
    return tuple(sorted({str(v) for v in values if v is not None and str(v) != ""}))


@dataclass(frozen=True)
class Filters:
    """Selected values per dimension; an empty tuple or ``None`` range means "all"."""

    category: tuple[str, ...] = ()
    drug_class: tuple[str, ...] = ()
    drug: tuple[str, ...] = ()
    specialty: tuple[str, ...] = ()
    guideline_source: tuple[str, ...] = ()
    state: tuple[str, ...] = ()
    decision: tuple[str, ...] = ()
    injury_year: tuple[int, int] | None = None
    decision_year: tuple[int, int] | None = None
    exclude_synthetic: bool = False

    @classmethod
    def build(cls, **kwargs: Any) -> Filters:
        """Normalise loose input (lists, single strings, unordered ranges)."""
        values: dict[str, Any] = {}
        for name in LIST_FILTERS:
            values[name] = _tuple(kwargs.get(name))
        for name in RANGE_FILTERS:
            rng = kwargs.get(name)
            if rng is not None:
                lo, hi = (int(v) for v in rng)
                values[name] = (min(lo, hi), max(lo, hi))
        values["exclude_synthetic"] = bool(kwargs.get("exclude_synthetic", False))
        return cls(**values)

    def params(self) -> dict[str, Any]:
        """Bound parameters for ``sql/_filters.sql`` (NULL = filter off)."""
        out: dict[str, Any] = {}
        for name in LIST_FILTERS:
            selected = getattr(self, name)
            out[name] = list(selected) if selected else None
        for name in RANGE_FILTERS:
            rng = getattr(self, name)
            out[f"{name}_min"] = rng[0] if rng else None
            out[f"{name}_max"] = rng[1] if rng else None
        out["exclude_synthetic"] = self.exclude_synthetic
        return out

    @property
    def active(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def describe(self) -> list[str]:
        """Human-readable active filters, e.g. ``['Drug class: Opioids, NSAID']``."""
        parts: list[str] = []
        for name in LIST_FILTERS:
            selected = getattr(self, name)
            if selected:
                parts.append(f"{LABELS[name]}: {', '.join(selected)}")
        for name in RANGE_FILTERS:
            rng = getattr(self, name)
            if rng:
                parts.append(f"{LABELS[name]}: {rng[0]}–{rng[1]}")
        if self.exclude_synthetic:
            parts.append("Demo letters excluded")
        return parts

    def slug(self, max_len: int = 120) -> str:
        """File-name-safe fragment, e.g. ``drug_class-Opioids_decision_year-2015-2016``."""
        parts: list[str] = []
        for name in LIST_FILTERS:
            selected = getattr(self, name)
            if selected:
                parts.append(f"{name}-{'+'.join(selected)}")
        for name in RANGE_FILTERS:
            rng = getattr(self, name)
            if rng:
                parts.append(f"{name}-{rng[0]}-{rng[1]}")
        if self.exclude_synthetic:
            parts.append("no-demo")
        text = "_".join(parts) or "all"
        text = re.sub(r"[^A-Za-z0-9+._-]+", "-", text).strip("-.")
        if len(text) > max_len:
            text = text[:max_len].rstrip("-_+.") + "-etc"
        return text or "all"

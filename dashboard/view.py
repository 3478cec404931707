"""A dashboard page URL as the filters it shows: what `imr export --view URL` exports.

The URL's query string is read as the sidebar reads it: each filter of the dimension registry
by its parameter (repeated for several values; a year range as two values), ``exclude_demo``,
and the search ``q``. Values that are not options of the warehouse are dropped (the dashboard
drops them too) and reported; a drug's brand name becomes its generic, as in the sidebar. Other
parameters (``letter``, a page's own) are ignored. No Streamlit here.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from dashboard import dimensions
from dashboard.filters import Filters


@dataclass
class View:
    filters: Filters
    dropped: list[str] = field(default_factory=list)  # "param=value" pairs not applied


def parse(url: str, options: pl.DataFrame, drug_values: set[str] | None = None) -> View:
    """The filters of ``url`` over a warehouse whose filter options are ``options``
    (``queries.filter_options``: dimension, value, n). ``drug_values``: the Drug filter's
    values (generics and combinations) when known, else the warehouse's generics."""
    from dashboard.search import canonical_drugs

    query = urllib.parse.urlsplit(url.strip()).query if "?" in url or "://" in url else url
    pairs = urllib.parse.parse_qs(query.lstrip("?"), keep_blank_values=False)
    chosen: dict[str, Any] = {}
    dropped: list[str] = []
    for dim in dimensions.FILTERS:
        raw = pairs.get(dim.param, [])
        if not raw:
            continue
        known = {
            str(v)
            for v in options.filter(pl.col("dimension") == dim.name).get_column("value").to_list()
        }
        if dim.widget == "range":
            years = [int(v) for v in raw if v.strip().lstrip("-").isdigit()]
            bounds = [int(v) for v in known if v.lstrip("-").isdigit()]
            inside = bool(bounds) and min(bounds) <= min(years, default=0) <= max(bounds)
            if len(years) == 2 and inside and max(years) <= max(bounds):
                chosen[dim.name] = (min(years), max(years))
            else:
                dropped += [f"{dim.param}={v}" for v in raw]
            continue
        if dim.name == "drug":
            available = drug_values if drug_values is not None else known
            values = canonical_drugs(raw, available)
            unresolved = [v for v in raw if not canonical_drugs([v], available)]
        else:
            values = [v for v in dict.fromkeys(raw) if v in known]
            unresolved = [v for v in raw if v not in known]
        dropped += [f"{dim.param}={v}" for v in unresolved]
        if values:
            chosen[dim.name] = values
    exclude = pairs.get("exclude_demo", [])
    if exclude:
        chosen["exclude_synthetic"] = exclude[-1].strip().lower() == "true"
    search = pairs.get("q", [])
    if search:
        chosen["search"] = search[-1]
    return View(Filters.build(**chosen), dropped)

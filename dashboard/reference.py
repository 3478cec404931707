"""Published reference figures (DWC annual IMR reports, CWCI studies), shipped with the dashboard
in ``reference/published_figures.csv`` (copied from the project's shared docs, sources kept)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

PUBLISHED_CSV = Path(__file__).with_name("reference") / "published_figures.csv"


def published_figures() -> pl.DataFrame:
    """publisher, year, metric, value, reference (a few dozen rows: read when asked)."""
    return pl.read_csv(
        PUBLISHED_CSV,
        schema_overrides={"year": pl.Int64, "value": pl.Float64},
    )


def published_upheld_share() -> pl.DataFrame:
    """DWC / CWCI share of IMR decisions upholding UR, by year."""
    return published_figures().filter(pl.col("metric") == "upheld_share").sort("publisher", "year")

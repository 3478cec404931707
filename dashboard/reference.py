"""Published reference figures (DWC annual IMR reports, CWCI studies), shipped with the dashboard
in ``reference/published_figures.csv`` (copied from the project's shared docs, sources kept)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import polars as pl

PUBLISHED_CSV = Path(__file__).with_name("reference") / "published_figures.csv"
METRICS_CSV = Path(__file__).with_name("reference") / "published_metrics.csv"


@functools.cache
def published_figures() -> pl.DataFrame:
    """publisher, year, metric, value, reference (a few dozen rows, read once)."""
    return pl.read_csv(
        PUBLISHED_CSV,
        schema_overrides={"year": pl.Int64, "value": pl.Float64},
    )


def published_upheld_share() -> pl.DataFrame:
    """DWC / CWCI share of IMR decisions upholding UR, by year."""
    return published_figures().filter(pl.col("metric") == "upheld_share").sort("publisher", "year")


def published_overturn_share() -> pl.DataFrame:
    """DWC / CWCI share of IMR decisions overturning UR, by year: 1 − the upheld share they
    publish, or the overturn share where that is what they publish."""
    figures = published_figures()
    upheld = figures.filter(pl.col("metric") == "upheld_share").with_columns(
        value=1 - pl.col("value")
    )
    direct = figures.filter(pl.col("metric") == "overturn_rate").join(
        upheld.select("publisher", "year"), on=["publisher", "year"], how="anti"
    )
    return (
        pl.concat([upheld, direct])
        .with_columns(metric=pl.lit("overturn_share"))
        .sort("publisher", "year")
    )


@functools.cache
def published_metrics() -> pl.DataFrame:
    """How our figure is computed for each published metric (``published_metrics.csv``)."""
    return pl.read_csv(METRICS_CSV, comment_prefix="#", infer_schema=False).with_columns(
        pl.all().fill_null("")
    )


def _matching(rows: list[dict[str, Any]], **wanted: str) -> list[dict[str, Any]]:
    """The rows holding every non-empty value of ``wanted``."""
    return [row for row in rows if all(row[key] == value for key, value in wanted.items() if value)]


def compare_published(counts: pl.DataFrame) -> pl.DataFrame:
    """Every published figure beside ours (``counts``: ``queries.published_counts``, the items
    in view): publisher, year, figure, unit, published, ours, difference (ours − published,
    shares only), items (what our share is out of), source. Ours is None where no item of that
    year is in view."""
    metrics = {row["metric"]: row for row in published_metrics().iter_rows(named=True)}
    # Rows by kind and year, filtered in Python: a polars filter per figure and field cost
    # 30-40 ms a page run for a few dozen figures.
    by_year: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in counts.iter_rows(named=True):
        by_year.setdefault((row["kind"], row["decision_year"]), []).append(row)
    rows = []
    for fig in published_figures().sort("metric", "publisher", "year").iter_rows(named=True):
        metric = metrics[fig["metric"]]
        ours: float | None
        if metric["kind"] == "letters":
            year_letters = by_year.get(("letters", fig["year"]), [])
            ours = float(sum(row["n"] for row in year_letters)) if year_letters else None
            base = None
        else:
            within = _matching(
                by_year.get(("items", fig["year"]), []),
                category=metric["of_category"],
                drug_class=metric["of_drug_class"],
            )
            hits = _matching(
                within,
                category=metric["category"],
                drug_class=metric["drug_class"],
                decision=metric["decision"],
            )
            base = sum(row["n"] for row in within)
            ours = sum(row["n"] for row in hits) / base if base else None
        rows.append(
            {
                "publisher": fig["publisher"],
                "year": fig["year"],
                "figure": metric["label"],
                "unit": metric["unit"],
                "published": fig["value"],
                "ours": ours,
                "difference": (
                    ours - fig["value"] if ours is not None and metric["kind"] == "share" else None
                ),
                "items": base,
                "source": fig["reference"],
            }
        )
    schema = {
        "publisher": pl.String,
        "year": pl.Int64,
        "figure": pl.String,
        "unit": pl.String,
        "published": pl.Float64,
        "ours": pl.Float64,
        "difference": pl.Float64,
        "items": pl.Int64,
        "source": pl.String,
    }
    return pl.DataFrame(rows, schema=schema)

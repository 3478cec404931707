"""Published reference figures (DWC annual IMR reports, CWCI studies), shipped with the dashboard
in ``reference/published_figures.csv`` (copied from the project's shared docs, sources kept)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

PUBLISHED_CSV = Path(__file__).with_name("reference") / "published_figures.csv"
METRICS_CSV = Path(__file__).with_name("reference") / "published_metrics.csv"


def published_figures() -> pl.DataFrame:
    """publisher, year, metric, value, reference (a few dozen rows: read when asked)."""
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


def published_metrics() -> pl.DataFrame:
    """How our figure is computed for each published metric (``published_metrics.csv``)."""
    return pl.read_csv(METRICS_CSV, comment_prefix="#", infer_schema=False).with_columns(
        pl.all().fill_null("")
    )


def _matches(frame: pl.DataFrame, **wanted: str) -> pl.DataFrame:
    for column, value in wanted.items():
        if value:
            frame = frame.filter(pl.col(column) == value)
    return frame


def compare_published(counts: pl.DataFrame) -> pl.DataFrame:
    """Every published figure beside ours (``counts``: ``queries.published_counts``, the items
    in view): publisher, year, figure, unit, published, ours, difference (ours − published,
    shares only), items (what our share is out of), source. Ours is None where no item of that
    year is in view."""
    metrics = {row["metric"]: row for row in published_metrics().iter_rows(named=True)}
    items = counts.filter(pl.col("kind") == "items")
    letters = counts.filter(pl.col("kind") == "letters")
    rows = []
    for fig in published_figures().sort("metric", "publisher", "year").iter_rows(named=True):
        metric = metrics[fig["metric"]]
        year_items = items.filter(pl.col("decision_year") == fig["year"])
        ours: float | None
        if metric["kind"] == "letters":
            year_letters = letters.filter(pl.col("decision_year") == fig["year"])
            ours = float(year_letters.get_column("n").sum()) if year_letters.height else None
            base = None
        else:
            within = _matches(
                year_items, category=metric["of_category"], drug_class=metric["of_drug_class"]
            )
            hits = _matches(
                within,
                category=metric["category"],
                drug_class=metric["drug_class"],
                decision=metric["decision"],
            )
            base = int(within.get_column("n").sum())
            ours = int(hits.get_column("n").sum()) / base if base else None
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
